#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Proves the guest harness: the emulated NVMe controller is at $VFN_BDF,
# bound to vfio-pci, with its VFIO group device present.
#
#   scripts/vm.sh -- smoke.sh

# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

dev=/sys/bus/pci/devices/${VFN_BDF:?VFN_BDF is not set}

t_eq "running in the test guest" 1 "${VFN_GUEST:-}"
t_ok "device $VFN_BDF exists" test -d "$dev"
t_eq "vendor is QEMU (0x1b36)" 0x1b36 "$(cat "$dev/vendor" 2>/dev/null)"
t_eq "class is NVMe (0x010802)" 0x010802 "$(cat "$dev/class" 2>/dev/null)"

driver=
[ -e "$dev/driver" ] && driver=$(basename "$(readlink "$dev/driver")")
t_eq "driver is vfio-pci" vfio-pci "$driver"

group=
[ -e "$dev/iommu_group" ] && group=$(basename "$(readlink "$dev/iommu_group")")
t_match "device is in an IOMMU group" '^[0-9]+$' "$group"
t_ok "/dev/vfio/$group exists" test -c "/dev/vfio/$group"
t_ok "/dev/vfio/vfio exists" test -c /dev/vfio/vfio
t_eq "group has only this device" "$VFN_BDF" "$(ls "/sys/kernel/iommu_groups/$group/devices" 2>/dev/null)"
t_eq "cwd is /vfn" /vfn "$(pwd)"

t_done
