#!/bin/sh
# Guest suite for the PCI hot reset (docs/interrupts-resets.md): a second
# controller behind a PCIe root port (a secondary bus, so VFIO offers a bus
# reset), bound with `vfn bind`: `vfn reset --bus` resets it and brings it
# up again; the controller on the root bus ($VFN_BDF) is refused.  Prints TAP.
. "$(dirname "$0")/lib.sh"

B2=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/class")" = 0x010802 ] || continue
	[ "${d##*/}" = "$VFN_BDF" ] && continue
	B2=${d##*/}
done
t_ok "a controller behind the root port ($B2)" test -n "$B2"
t_ok "vfn bind $B2" vfn bind "$B2"
g=$(basename "$(readlink "/sys/bus/pci/devices/$B2/iommu_group")")
i=0
while [ ! -e "/dev/vfio/$g" ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
t_diag "$B2: IOMMU group $g: $(ls "/sys/kernel/iommu_groups/$g/devices" | tr '\n' ' ')"
t_capture env VFN_LOG=err vfn reset "$B2" --bus
t_eq "reset --bus on the secondary bus: exit status" 0 "$T_RC"
t_match "reset --bus: done, controller ready" "$B2: PCI hot reset done, controller ready" "$T_OUT"
t_diag "$T_OUT"
t_capture vfn id-ctrl "$B2" -o json
t_eq "id-ctrl after reset --bus: exit status" 0 "$T_RC"
t_match "id-ctrl after reset --bus: the serial" '"sn" *: *"vfnbus02' "$T_OUT"
t_err "reset --bus on the root bus refused" 1 'PCI hot reset not allowed here' vfn reset "$VFN_BDF" --bus
t_done
