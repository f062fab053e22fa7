#!/bin/sh
# Guest suite for SR-IOV with the PF on vfio-pci (docs/sriov.md): vfio-pci
# loaded with enable_sriov=1, QEMU's controller as in test-sriov.sh.
# Proves: vfn reads the capabilities over VFIO, `vfn sriov --numvfs` works
# through vfio-pci's sriov_configure, the VF comes up on vfio-pci, and
# opening it needs the VF token ($VFN_VF_TOKEN): without one or with a
# wrong one the kernel refuses (EACCES); with the PF's the open goes past
# VFIO_GROUP_GET_DEVICE_FD.  Also records the limit found: each vfn command
# on a vfio-pci PF resets the function at open, and QEMU 7.2 takes the
# secondaries' resources back at that reset, so the assign/online sequence
# needs one process holding the PF open (not done here).  Prints TAP.
. "$(dirname "$0")/lib.sh"

PF=$VFN_BDF
VF=0000:00:01.1
TOKEN=2c1b6f0a-8d4e-4a57-9f3e-61b2a0c4d5e7
export VFN_VF_TOKEN=$TOKEN
f() { json_field "$1" "$2"; }

t_eq "vfio-pci enable_sriov" Y "$(cat /sys/module/vfio_pci/parameters/enable_sriov)"
t_eq "PF on vfio-pci" vfio-pci "$(basename "$(readlink /sys/bus/pci/devices/$PF/driver)")"
t_capture vfn primary-ctrl-caps "$PF" -o json
t_eq "VFIO primary-ctrl-caps vqfrt" 4 "$(f vqfrt "$T_OUT")"
t_eq "VFIO primary-ctrl-caps vifrt" 2 "$(f vifrt "$T_OUT")"
t_capture vfn virt-mgmt "$PF" --cntlid 1 --rt 0 --act 8 --nr 2
t_eq "VFIO assign 2 VQ: NRM 2" "success, Number of Controller Resources Modified (NRM):0x2" "$T_OUT"
t_capture vfn list-secondary "$PF" -o json
t_diag "secondary 1 VQ after the next open of the PF (its reset): $(f num-virtual-queues "$T_OUT")"

t_capture vfn sriov "$PF" --numvfs 1 -o json
t_eq "vfn sriov --numvfs 1 with the PF on vfio-pci: exit status" 0 "$T_RC"
[ "$T_RC" -eq 0 ] || t_diag "$T_OUT"
t_eq "VF at $VF" "$VF" "$(f bdf "$T_OUT")"
t_eq "the VF of a vfio-pci PF comes up on vfio-pci" vfio-pci "$(f driver "$T_OUT")"

t_capture env VFN_VF_TOKEN= vfn -v id-ctrl "$VF"
t_eq "VF without the token: exit status 1" 1 "$T_RC"
t_match "VF without the token: the kernel refuses (EACCES)" "VFIO_GROUP_GET_DEVICE_FD on group [0-9]+ failed: errno 13" "$T_OUT"
t_capture env VFN_VF_TOKEN=00000000-0000-0000-0000-000000000001 vfn -v id-ctrl "$VF"
t_match "VF with a wrong token: refused (EACCES)" "VFIO_GROUP_GET_DEVICE_FD on group [0-9]+ failed: errno 13" "$T_OUT"
t_capture vfn -v id-ctrl "$VF"
t_match "VF with the token: opened with it" "opening with the VF token" "$T_OUT"
if printf '%s\n' "$T_OUT" | grep -q "GET_DEVICE_FD.*failed"; then
	t_result 1 "VF with the token: VFIO_GROUP_GET_DEVICE_FD succeeds"
	t_diag "$T_OUT"
else
	t_result 0 "VF with the token: VFIO_GROUP_GET_DEVICE_FD succeeds"
fi
t_diag "VF id-ctrl (secondary offline: not ready is expected): $(printf '%s' "$T_OUT" | tail -n 1)"
t_err "VFN_VF_TOKEN not a UUID" 1 "VFN_VF_TOKEN='not-a-uuid' is not a UUID" env VFN_VF_TOKEN=not-a-uuid vfn id-ctrl "$VF"

t_capture vfn sriov "$PF" --numvfs 0 -o json
t_eq "numvfs back to 0" 0 "$(f numvfs "$T_OUT")"

# The whole sequence in one process holding the PF open, then I/O on the VF.
t_run_cmocka "PF held open" test_vm_sriov "$PF" "$VF"
t_done
