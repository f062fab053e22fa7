#!/bin/sh
# scripts/bench.sh's report of the libvfn alternation (LIBVFN_BUILD), from
# a canned guest output (tests/sim/bench-libvfn.raw, with its host load
# samples and QEMU thread CPU): each run parsed, medians, ratio of medians
# and per-round ratios, a failed run as n/a.  Usage: test-bench-report.sh
. "$(dirname "$0")/../vm/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
RAW=$SRC/tests/sim/bench-libvfn.raw

T_OUT=$(env -u LIBVFN_BUILD "$SRC/scripts/bench.sh" --libvfn-report "$RAW" 2>&1)
t_eq "bench --libvfn-report: exit status" 0 "$?"
row() { printf '%s\n' "$T_OUT" | grep -F "$1" | head -n 1; }
t_match "libvfn round 1: IOPS and avg/min/max µs" '^\| 1 \| 1 \| libvfn \| 10,000 \| 99\.5 \| 20\.0 \| 1000\.0 \|' "$(row '| 1 | 1 | libvfn |')"
t_match "vfn round 1: IOPS, latency, percentiles, doorbells" \
	'^\| 1 \| 1 \| vfn \| 15,000 \| 66\.0 \| 15\.0 \| 900\.0 \| 30\.0 \| 100\.0 \| 500\.0 \| 1\.000 / 0\.004 \|' "$(row '| 1 | 1 | vfn |')"
t_match "vfn round 1: QEMU main loop and vCPU busy, main-loop µs per I/O" '\| 50 \| 75 \| 33\.33 \|$' "$(row '| 1 | 1 | vfn |')"
t_match "a failed run is n/a with its message" 'n/a \(failed: no JSON in the output \(vfn: cannot open' "$(row '| vfn:broken |')"
t_match "libvfn median" '^\| 1 \| libvfn \| 2 \| 11,000 \|' "$(row '| 1 | libvfn | 2 |')"
t_match "vfn median, ratio of medians, per-round ratios" '^\| 1 \| vfn \| 2 \| 15,900 \| \*\*1\.45x\*\* \[1\.50 1\.40\] \| 62\.5 \| 29\.0 \| 95\.0 \| 450\.0 \|' "$(row '| 1 | vfn | 2 |')"
t_match "a variant without a successful run" '^\| 1 \| vfn:broken \| 0 \| n/a \|' "$(row '| 1 | vfn:broken | 0 |')"
t_match "host load range" '1-min load average 4\.00–6\.50 over 2 samples' "$T_OUT"
t_match "rounds from the guest" ', 2 rounds, ' "$T_OUT"
t_done
