#!/usr/bin/env bash
# vfn's test command: installs what it needs (Debian, as root), builds with
# gcc, clang and gcc+ASan/UBSan, and runs every suite:
#   unit  cmocka tests of each module            (gcc, clang, asan)
#   abi   exports and self-contained headers     (gcc, clang)
#   vm    QEMU guest: real VFIO, QEMU's NVMe     (gcc, asan)
# Ends with one line "check: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/deps.sh all

passed=0 failed=0
# run_suites BUILDDIR SETUP_ARGS... -- SUITES...
run_suites() {
	local dir=$1; shift
	local setup=() suites=()
	while [ "$1" != -- ]; do setup+=("$1"); shift; done
	shift
	suites=("$@")

	echo "== $dir: ${setup[*]:-default} (${suites[*]})"
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "${setup[@]}" >/dev/null
	else
		meson setup "$dir" "${setup[@]}" >/dev/null
	fi
	ninja -C "$dir" >/dev/null
	local args=()
	for s in "${suites[@]}"; do args+=(--suite "$s"); done
	meson test -C "$dir" --print-errorlogs "${args[@]}" || true
	count "$dir/meson-logs/testlog.json"
}

# Adds the results of one meson run to the totals.
count() {
	local p f
	read -r p f < <(python3 - "$1" <<'PY'
import json, sys
ok = bad = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL", "SKIP"):
        ok += r != "SKIP"
    else:
        bad += 1
print(ok, bad)
PY
)
	passed=$((passed + p)) failed=$((failed + f))
}

run_suites build -- unit abi vm
CC=clang run_suites build-clang -- unit abi
run_suites build-asan -Db_sanitize=address,undefined -Db_lundef=false -- unit vm

echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
