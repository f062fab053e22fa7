#!/bin/sh
# MSI and INTx through real VFIO with QEMU's `edu` device (issue 14): edu
# has an MSI capability with one vector and no MSI-X, so it exercises what
# QEMU 7.2's nvme cannot (no MSI there).  Binds edu to vfio-pci, then
# tests/vm/test_vm_edu.c drives its interrupts with vfn's VFIO core.
# Prints TAP.
. "$(dirname "$0")/lib.sh"

EDU=${VFN_TEST_EDU_BDF:-0000:00:04.0}
SYS=/sys/bus/pci/devices/$EDU

t_eq "edu present: vendor" 0x1234 "$(cat "$SYS/vendor" 2>/dev/null)"
t_eq "edu present: device" 0x11e8 "$(cat "$SYS/device" 2>/dev/null)"
t_ok "edu has an IOMMU group" test -e "$SYS/iommu_group"
echo vfio-pci >"$SYS/driver_override"
echo "$EDU" >/sys/bus/pci/drivers_probe 2>/dev/null
drv=$(readlink "$SYS/driver" 2>/dev/null)
t_eq "edu bound to vfio-pci" vfio-pci "${drv##*/}"
grp=$(readlink "$SYS/iommu_group")
t_ok "its VFIO group node /dev/vfio/${grp##*/}" test -c "/dev/vfio/${grp##*/}"

VFN_TEST_EDU_BDF=$EDU t_run_cmocka edu test_vm_edu

t_done
