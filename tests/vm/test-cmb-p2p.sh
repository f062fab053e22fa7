#!/bin/sh
# Guest suite for CMB peer-to-peer (docs/cmb.md): two QEMU controllers of
# one subsystem sharing namespace 1, B with a CMB; A ($VFN_BDF) is bound to vfio-pci
# by vm.sh, B is found in sysfs and bound with `vfn bind`.  Prints TAP.
. "$(dirname "$0")/lib.sh"

B2=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/class")" = 0x010802 ] || continue
	[ "${d##*/}" = "$VFN_BDF" ] && continue
	B2=${d##*/}
done
t_ok "a second NVMe controller ($B2)" test -n "$B2"
t_ok "vfn bind $B2" vfn bind "$B2"
g=$(basename "$(readlink "/sys/bus/pci/devices/$B2/iommu_group")")
i=0
while [ ! -e "/dev/vfio/$g" ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
t_ok "/dev/vfio/$g for $B2" test -e "/dev/vfio/$g"
VFN_BDF2=$B2 t_run_cmocka p2p test_vm_p2p
t_done
