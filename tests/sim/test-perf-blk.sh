#!/usr/bin/env bash
# `vfn perf -j` (the benchmark over the block API) on sim:nil=1 and on a
# regular file: exit 0, the backend it names, one IOPS figure per thread,
# all of them > 0, no errors.
# Usage: test-perf-blk.sh VFN
set -euo pipefail
vfn=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
truncate -s 64M "$tmp/f.img"
check() { # BACKEND THREADS JSON
	python3 - "$@" <<'PY'
import json, sys
want, n, d = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
assert d["backend"] == want, d
assert d["threads"] == n and len(d["per_thread_iops"]) == n, d
assert all(x > 0 for x in d["per_thread_iops"]) and d["iops"] > 0, d
assert d["errors"] == 0 and d["completions"] > 0, d
print("ok", want, n, int(d["iops"]))
PY
}
check nvme 2 "$("$vfn" perf sim:nil=1 -j 2 -q 8 -t 1 -o json)"
check nvme 2 "$("$vfn" perf sim:nil=1 -j 2 -q 8 -t 1 --irq -w randwrite -o json)"
check io_uring 2 "$("$vfn" perf "$tmp/f.img" -j 2 -q 8 -t 1 -w randwrite -o json)"
check io_uring 1 "$("$vfn" perf "$tmp/f.img" -j 1 -q 4 -t 1 -w read --buffered -o json)"
# requests larger than MDTS (16 KiB under 8 KiB): the queue runs out of
# commands before contexts and answers -EAGAIN, which perf waits out
check nvme 1 "$("$vfn" perf "sim:nsze=65536,mdts=1" -j 1 -q 8 -s 16384 -t 1 -o json)"
# a bad thread count is a usage error
if "$vfn" perf sim:nil=1 -j 0 -t 1 2>/dev/null; then exit 1; fi
