#!/bin/sh
# Guest suite for CMB peer-to-peer (docs/cmb.md): two QEMU controllers of
# one subsystem sharing namespace 1, B with a CMB; A ($VFN_BDF) is bound to vfio-pci
# by vm.sh, B is found in sysfs and bound with `vfn bind`.  Prints TAP.
. "$(dirname "$0")/lib.sh"

t_bind_second "a second NVMe controller"
t_ok "/dev/vfio/$B2_GROUP for $B2" test -e "/dev/vfio/$B2_GROUP"
VFN_BDF2=$B2 t_run_cmocka p2p test_vm_p2p
# The example (examples/cmb_p2p.c): 16 blocks from LBA 64 on A through B's CMB to LBA 300 on B.
if [ -n "$VFN_TEST_P2P_ERRNO" ]; then
	t_capture cmb_p2p "$VFN_BDF" "$B2" 64 16 300
	t_eq "example cmb_p2p refused on iommufd: exit status" 1 "$T_RC"
	t_match "example cmb_p2p refused on iommufd: says why" "setting up B's CMB for A: Bad address" "$T_OUT"
else
	t_capture cmb_p2p "$VFN_BDF" "$B2" 64 16 300
	t_eq "example cmb_p2p: exit status" 0 "$T_RC"
	t_match "example cmb_p2p: read back equal" "read back on $B2: equal" "$T_OUT"
fi
t_diag "$T_OUT"
t_done
