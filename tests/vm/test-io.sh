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

t_done
