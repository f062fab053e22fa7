#!/bin/sh
# The metadata / PI matrix of meta-matrix-* on the simulator, on the host
# (issue 12, Proof: "and on the simulator"): test_vm_meta against
# sim:lbads=,ms=,mset=,pi=,pif=,pil= for every configuration the guest
# boots run; the combinations QEMU refuses must be refused by sim: too.
#   test-meta-sim-matrix.sh TEST_VM_META VFN
#   VFN_TEST_META_NS, VFN_TEST_META_REFUSED as for test-meta-matrix.sh
# Prints TAP, one line per test and configuration.
. "$(dirname "$0")/lib.sh"

META=$1
VFN=$2
for e in $VFN_TEST_META_NS; do
	_o=$IFS
	IFS=:
	# shellcheck disable=SC2086 # split on ':'
	set -- $e
	IFS=$_o
	_c="lbads=$2,ms=$3,mset=$4,pi=$5,pif=$6,pil=$7"
	t_run_cmocka "sim $_c" env VFN_BDF="sim:$_c" VFN_TEST_MS="$3" VFN_TEST_MSET="$4" VFN_TEST_LBAF=0 \
		VFN_TEST_LBA_SIZE=$((1 << $2)) VFN_TEST_PI="$5" VFN_TEST_PIF="$6" VFN_TEST_PIL="$7" "$META"
done
for r in $VFN_TEST_META_REFUSED; do
	_o=$IFS
	IFS=:
	# shellcheck disable=SC2086 # split on ':'
	set -- $r
	IFS=$_o
	_c="lbads=$1,ms=$2,mset=$3,pi=$4,pif=$5,pil=$6"
	t_err "sim $_c (a 16-byte 64-bit guard tuple in $2 bytes of metadata) is refused" 1 \
		"^vfn: 'sim:$_c' has a bad option" "$VFN" id-ctrl "sim:$_c"
done
t_done
