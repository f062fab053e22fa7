#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets (fuzz/, clang) in build-fuzz and runs each one
# from its committed seed corpus for a bounded time, then replays the corpus
# as the meson 'fuzz' suite.  Fails on any crash, leak, sanitizer report or
# timeout; the input that did it is left in build-fuzz/artifacts/.  A crash
# found here becomes a unit test and a file in fuzz/corpus/<target>/.
# Usage: scripts/fuzz.sh [-t TOTAL_SECONDS] [TARGET...]   (default: 60, all)
set -euo pipefail
cd "$(dirname "$0")/.."
builddir=${FUZZ_BUILDDIR:-$PWD/build-fuzz}
total=60
if [ "${1:-}" = -t ]; then
	total=$2
	shift 2
fi
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(bdf sysfs prp iova type1info idctrl cqe devstr pi)

# Only the fuzz targets: they compile what they exercise themselves.
setup=(-Dfuzz=true -Dtools=disabled -Dtests=disabled -Db_lundef=false)
if [ -f "$builddir/build.ninja" ]; then
	meson setup --reconfigure "$builddir" "${setup[@]}" >/dev/null
else
	CC=clang meson setup "$builddir" "${setup[@]}" >/dev/null
fi
ninja -C "$builddir" $(printf 'fuzz/fuzz_%s ' "${targets[@]}") >/dev/null

per=$((total / ${#targets[@]}))
[ "$per" -ge 1 ] || per=1
mkdir -p "$builddir/artifacts"
failed=0
for t in "${targets[@]}"; do
	# New inputs go to a scratch corpus; the committed seeds stay as they are.
	work="$builddir/corpus/$t"
	mkdir -p "$work"
	log="$builddir/fuzz-$t.log"
	if "$builddir/fuzz/fuzz_$t" -max_total_time="$per" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$builddir/artifacts/$t-" \
		"$work" "fuzz/corpus/$t" >"$log" 2>&1; then
		rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "fuzz: $t: ok, ${runs:-?} runs in ${per}s, ${rate:-?} execs/s"
	else
		echo "fuzz: $t: FAILED (log: $log)" >&2
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*: Assertion|artifact_prefix)' "$log" | head -5 >&2 || tail -20 "$log" >&2
		failed=1
	fi
done
meson test -C "$builddir" --suite fuzz --print-errorlogs >/dev/null || failed=1
exit $failed
