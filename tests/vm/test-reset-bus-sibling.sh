#!/bin/sh
# Guest suite for the PCI hot reset with a sibling function open in the
# same process (docs/interrupts-resets.md): two QEMU nvme functions of one
# multifunction device behind a PCIe root port (01:00.0 and 01:00.1), both
# bound to vfio-pci; tests/vm/test_vm_resetsib.c opens both as controllers:
# reset-bus on function 0 is refused (-EBUSY, naming 01:00.1) and both
# still answer Identify; after closing function 1 the reset goes through.
# Then, function 1 unbound, `vfn reset --bus` on function 0 is refused in
# one line naming it and the fix.  Prints TAP.
. "$(dirname "$0")/lib.sh"

F0=0000:01:00.0
F1=0000:01:00.1
for f in $F0 $F1; do
	t_eq "$f: an NVMe controller" 0x010802 "$(cat "/sys/bus/pci/devices/$f/class" 2>/dev/null)"
	t_ok "vfn bind $f" vfn bind "$f"
done
G0=$(basename "$(readlink "/sys/bus/pci/devices/$F0/iommu_group")")
G1=$(basename "$(readlink "/sys/bus/pci/devices/$F1/iommu_group")")
t_diag "$F0: IOMMU group $G0: $(ls "/sys/kernel/iommu_groups/$G0/devices" | tr '\n' ' ')"
t_diag "$F1: IOMMU group $G1: $(ls "/sys/kernel/iommu_groups/$G1/devices" | tr '\n' ' ')"
if [ "${VFN_TEST_IOMMU:-type1}" = type1 ]; then
	# Through groups the kernel only allows the reset with every function in ours.
	t_eq "both functions in one IOMMU group" "$G0" "$G1"
fi
_i=0
while { [ ! -e "/dev/vfio/$G0" ] || [ ! -e "/dev/vfio/$G1" ]; } && [ $_i -lt 50 ]; do
	sleep 0.1
	_i=$((_i + 1))
done

# Both open in one process: refused, naming the sibling, then allowed once it is closed.
VFN_BDF=$F0 VFN_BDF2=$F1 VFN_SN=vfnsib00 VFN_SN2=vfnsib01 t_run_cmocka reset-sibling test_vm_resetsib
t_capture env VFN_LOG=err VFN_BDF=$F0 VFN_BDF2=$F1 VFN_SN=vfnsib00 VFN_SN2=vfnsib01 test_vm_resetsib
t_match "the refusal names the sibling and the fix" \
	"$F0: a bus reset would also reset $F1, open in this process; close it first" "$T_OUT"

# One function per process (the CLI): the reset of function 0 goes through.
t_capture env VFN_LOG=err vfn reset "$F0" --bus
t_eq "vfn reset --bus $F0 alone: exit status" 0 "$T_RC"
t_match "vfn reset --bus $F0: done" "$F0: PCI hot reset done, controller ready" "$T_OUT"
t_capture vfn id-ctrl "$F1" -o json
t_match "id-ctrl $F1 afterwards: the serial" '"sn" *: *"vfnsib01' "$T_OUT"

# Function 1 bound to no driver: a bus reset would reach a function that is not ours.
echo "$F1" >"/sys/bus/pci/devices/$F1/driver/unbind"
t_eq "$F1 unbound" "" "$(readlink "/sys/bus/pci/devices/$F1/driver")"
# (vfio-pci would refuse VFIO_DEVICE_PCI_HOT_RESET after the controller stopped: refused before.)
t_err "reset --bus with $F1 unbound" 1 \
	"$F0: PCI hot reset not allowed here: a bus reset would also reset $F1, bound to no driver; run .vfn bind $F1. first; the controller is untouched" \
	vfn reset "$F0" --bus
t_capture vfn id-ctrl "$F0" -o json
t_match "id-ctrl $F0 after the refusal: the serial" '"sn" *: *"vfnsib00' "$T_OUT"
t_done
