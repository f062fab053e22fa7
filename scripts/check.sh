#!/usr/bin/env bash
# vfn's test command: installs what it needs (Debian, as root), builds with
# gcc, clang and gcc+ASan/UBSan, and runs every suite:
#   unit  cmocka tests of each module            (gcc, clang, asan)
#   abi   exports and self-contained headers     (gcc, clang)
#   vm    QEMU guest: real VFIO, QEMU's NVMe     (gcc, asan)
#   sim   the guest data-path test against sim:  (gcc, clang, asan)
# With --full (what CI runs), also:
#   lint  cppcheck, scan-build, clang-format     (scripts/lint.sh)
#   fuzz  each libFuzzer target for a bounded time, then the corpus replay
#                                                (scripts/fuzz.sh, clang)
#   memcheck  valgrind memcheck runs (the CLI on sim:, the reset storm)  (gcc)
#   tsan  the block API's multi-threaded test      (clang, ThreadSanitizer)
# Ends with one line "check: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
full=0
if [ "${1:-}" = --full ]; then
	full=1
elif [ $# -gt 0 ]; then
	echo "usage: scripts/check.sh [--full]" >&2
	exit 2
fi

scripts/deps.sh all

passed=0 failed=0
# The guest kernel of the iommufd guest tests (built once, then cached).
if ! scripts/kernel.sh >/dev/null; then
	echo "kernel: scripts/kernel.sh FAILED (the guest tests on the built kernel fail with it)"
	failed=$((failed + 1))
fi
# run_suites BUILDDIR SETUP_ARGS... -- SUITES... [-- EXCLUDED_SUITES...]
run_suites() {
	local dir=$1; shift
	local setup=() suites=() excluded=()
	while [ "$1" != -- ]; do setup+=("$1"); shift; done
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do suites+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	excluded=("$@")

	echo "== $dir: ${setup[*]:-default} (${suites[*]})"
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "${setup[@]}" >/dev/null
	else
		meson setup "$dir" "${setup[@]}" >/dev/null
	fi
	ninja -C "$dir" >/dev/null
	local args=()
	for s in "${suites[@]}"; do args+=(--suite "$s"); done
	for s in "${excluded[@]}"; do args+=(--no-suite "$s"); done
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

run_suites build -- unit abi sim vm
CC=clang run_suites build-clang -- unit abi sim
# The sanitizer build runs one boot of the PI matrix (suite vm-matrix-rest
# holds the other three; the same code paths, 3 x 65 s of guest time).
run_suites build-asan -Db_sanitize=address,undefined -Db_lundef=false -- unit sim vm -- vm-matrix-rest

# Adds one result per line "lint: X: ok|FAILED" / "fuzz: X: ok|FAILED" in $1;
# a script that failed without saying which check counts as one failure.
count_lines() {
	local out=$1 rc=$2 ok bad
	ok=$(grep -cE '^(lint|fuzz): [a-z0-9-]+: ok' <<<"$out" || true)
	bad=$(grep -cE '^(lint|fuzz): [a-z0-9-]+: FAILED' <<<"$out" || true)
	[ "$rc" -ne 0 ] && [ "$bad" -eq 0 ] && bad=1
	passed=$((passed + ok)) failed=$((failed + bad))
}

if [ "$full" = 1 ]; then
	if command -v valgrind >/dev/null; then
		run_suites build -- memcheck
	fi
	# ThreadSanitizer (clang; gcc refuses the fences): the block API from
	# 4 threads on 2 devices (suite tsan).  Only that test is built: a
	# shared library under TSan would need the runtime linked into it.
	echo "== build-tsan: -Db_sanitize=thread (tsan)"
	if [ -f build-tsan/build.ninja ]; then
		CC=clang meson setup --reconfigure build-tsan -Db_sanitize=thread -Db_lundef=false >/dev/null
	else
		CC=clang meson setup build-tsan -Db_sanitize=thread -Db_lundef=false >/dev/null
	fi
	ninja -C build-tsan tests/unit/test_blk_mt >/dev/null
	meson test -C build-tsan --no-rebuild --print-errorlogs --suite tsan || true
	count build-tsan/meson-logs/testlog.json
	echo "== lint"
	rc=0
	out=$(scripts/lint.sh 2>&1) || rc=$?
	echo "$out"
	count_lines "$out" "$rc"
	echo "== fuzz"
	rc=0
	out=$(scripts/fuzz.sh 2>&1) || rc=$?
	echo "$out"
	count_lines "$out" "$rc"
	if [ -f build-fuzz/meson-logs/testlog.json ]; then
		count build-fuzz/meson-logs/testlog.json
	fi
fi

echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
