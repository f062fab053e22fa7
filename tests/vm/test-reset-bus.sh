#!/bin/sh
# Guest suite for the PCI hot reset (docs/interrupts-resets.md): a second
# controller behind a PCIe root port (a secondary bus, so VFIO offers a bus
# reset), bound with `vfn bind`: `vfn reset --bus` resets it and brings it
# up again; the controller on the root bus ($VFN_BDF) is refused.  Prints TAP.
. "$(dirname "$0")/lib.sh"

t_bind_second "a controller behind the root port"
t_diag "$B2: IOMMU group $B2_GROUP: $(ls "/sys/kernel/iommu_groups/$B2_GROUP/devices" | tr '\n' ' ')"
t_capture env VFN_LOG=err vfn reset "$B2" --bus
t_eq "reset --bus on the secondary bus: exit status" 0 "$T_RC"
t_match "reset --bus: done, controller ready" "$B2: PCI hot reset done, controller ready" "$T_OUT"
t_diag "$T_OUT"
t_capture vfn id-ctrl "$B2" -o json
t_eq "id-ctrl after reset --bus: exit status" 0 "$T_RC"
t_match "id-ctrl after reset --bus: the serial" '"sn" *: *"vfnbus02' "$T_OUT"
t_err "reset --bus on the root bus refused" 1 'PCI hot reset not allowed here' vfn reset "$VFN_BDF" --bus
t_done
