#!/bin/sh
# Guest suite: examples/irq_loop and examples/aer against QEMU's controller
# at $VFN_BDF through vfio-pci (real MSI-X through the IOMMU; a real
# temperature event).  Prints TAP.
. "$(dirname "$0")/lib.sh"

t_capture irq_loop "$VFN_BDF"
t_diag "$T_OUT"
if [ "$T_RC" -eq 0 ] && printf '%s\n' "$T_OUT" | grep -Eq '^32 reads completed via interrupts \([1-9][0-9]* wakeups\)$' &&
	printf '%s\n' "$T_OUT" | grep -q '^data verified: 32 blocks of'; then
	t_result 0 "irq_loop: 32 writes + 32 reads completed through the MSI-X eventfd, data verified"
else
	t_result 1 "irq_loop: 32 writes + 32 reads completed through the MSI-X eventfd, data verified"
fi

t_capture aer "$VFN_BDF"
t_diag "$T_OUT"
if [ "$T_RC" -eq 0 ] && printf '%s\n' "$T_OUT" |
	grep -q '^event: dw0 0x00020101 type 1 (SMART / Health Status) info 0x01 (Temperature Threshold) log page 0x02$'; then
	t_result 0 "aer: the temperature threshold event decoded (DW0 00020101h)"
else
	t_result 1 "aer: the temperature threshold event decoded (DW0 00020101h)"
fi
t_done
