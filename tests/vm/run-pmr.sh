#!/bin/bash
# Host side of the PMR guest test (meson test pmr): makes the PMR's backing
# file with a known first 16 bytes, boots scripts/vm.sh with
# -device nvme,pmrdev= on it and tests/vm/test-pmr.sh in the guest, then
# checks that the pattern the guest wrote at offset 4096 is in the host
# file.  Usage: run-pmr.sh VM_SH BUILD_DIR.  Prints TAP (the guest's, plus
# the host check).
set -u
vm_sh=$1
build=$2
file=$build/tests/vm/pmr-backing.img
size=$((1024 * 1024))
export VFN_TEST_PMR_SIZE=$size
export VFN_TEST_PMR_HOST=vfn-host-bytes16
export VFN_TEST_PMR_PATTERN="vfn-pmr-guest-$(date +%s)-$$"

rm -f "$file"
truncate -s $size "$file" || exit 1
printf '%s' "$VFN_TEST_PMR_HOST" | dd of="$file" conv=notrunc 2>/dev/null || exit 1

out=$("$vm_sh" --build "$build" --img-size 32M \
	--qemu-pre-arg -object --qemu-pre-arg "memory-backend-file,id=pmr0,share=on,mem-path=$file,size=$size" \
	--nvme-opts serial=vfnpmr01,pmrdev=pmr0 \
	-- sh /vfn/bin/test-pmr.sh)
rc=$?
printf '%s\n' "$out" | grep -vE '^1\.\.[0-9]+$'
n=$(printf '%s\n' "$out" | grep -cE '^(ok|not ok) ')
got=$(dd if="$file" bs=1 skip=4096 count=${#VFN_TEST_PMR_PATTERN} 2>/dev/null)
n=$((n + 1))
if [ "$got" = "$VFN_TEST_PMR_PATTERN" ]; then
	echo "ok $n - host backing file: the guest's pattern at offset 4096"
else
	echo "not ok $n - host backing file: the guest's pattern at offset 4096"
	echo "# expected '$VFN_TEST_PMR_PATTERN', got '$got'"
	rc=1
fi
echo "1..$n"
rm -f "$file"
exit $rc
