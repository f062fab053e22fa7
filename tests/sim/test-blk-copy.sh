#!/usr/bin/env bash
# examples/blk-copy between two regular files (io_uring backend) and
# between two simulated controllers (nvme backend; 8 MiB to 2 MiB: the
# smaller size is copied): the copy must be
# byte-identical (files) and complete (sim).
# Usage: test-blk-copy.sh BLK_COPY
set -euo pipefail
exe=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c 5000000 /dev/urandom >"$tmp/a.img"
truncate -s 6M "$tmp/b.img"
out=$("$exe" "$tmp/a.img" "$tmp/b.img")
echo "$out"
# 5000000 bytes rounded down to the block size (512 or 4096): 4999680 at least
grep -q "^copied 49[0-9]* bytes" <<<"$out"
n=$(sed -n 's/^copied \([0-9]*\) bytes.*/\1/p' <<<"$out")
cmp -n "$n" "$tmp/a.img" "$tmp/b.img"
out=$("$exe" "sim:nsze=2048" "sim:nsze=4096,lbads=9")
echo "$out"
grep -q "^copied 2097152 bytes" <<<"$out"
