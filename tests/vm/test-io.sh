#!/bin/sh
# Guest suite for the I/O path: the controller at $VFN_BDF bound to vfio-pci,
# namespace 1 on a raw image (VFN_TEST_IMG_SIZE bytes, VFN_TEST_LBA_SIZE-byte
# blocks).  Prints TAP.
. "$(dirname "$0")/lib.sh"

t_run_cmocka io test_vm_io

# The reset storm, then no IOMMU fault in the kernel log since it started:
# every DMA of the controller hit memory still mapped.
dmesg -c >/dev/null
t_run_cmocka storm test_vm_storm
t_capture dmesg
if printf '%s\n' "$T_OUT" | grep -qiE 'DMAR.*(fault|Request device)|iommu.*fault'; then
	t_result 1 "storm: no IOMMU fault in the kernel log"
	t_diag "$(printf '%s\n' "$T_OUT" | grep -iE 'DMAR|iommu' | head -20)"
else
	t_result 0 "storm: no IOMMU fault in the kernel log"
fi

# Issue 10 item 7: QEMU 7.2 with shadow doorbells lost a doorbell under
# `--batch 1 -q 32` (commands left in flight for ever).  Ten runs in this
# boot: each must end with every command completed; the doorbells the
# stall check wrote again are reported.
rerung=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	t_capture vfn perf "$VFN_BDF" -q 32 --batch 1 --shadow-doorbells on --poll -t 1 -o json
	sub=$(json_field submissions "$T_OUT")
	done_=$(json_field completions "$T_OUT")
	if [ "$T_RC" -eq 0 ] && [ -n "$sub" ] && [ "$sub" = "$done_" ] && [ "$sub" -gt 0 ]; then
		t_result 0 "perf --batch 1 -q 32 (shadow doorbells, polled), run $i: all $sub commands completed"
	else
		t_result 1 "perf --batch 1 -q 32 (shadow doorbells, polled), run $i: all commands completed"
		t_diag "$T_OUT"
	fi
	r=$(json_field doorbells_rerung "$T_OUT")
	rerung=$((rerung + ${r:-0}))
done
t_diag "doorbells re-rung after a stall over the 10 runs: $rerung"

t_done
