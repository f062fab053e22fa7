#!/usr/bin/env bash
# examples/aer against sim: the two events it raises through the sim's
# fault API come back through the AER callback, decoded.
# Usage: test-example-aer.sh AER
set -euo pipefail
out=$("$1" sim:)
echo "$out"
grep -q '^event: dw0 0x00020101 type 1 (SMART / Health Status) info 0x01 (Temperature Threshold) log page 0x02$' <<<"$out"
grep -q '^event: dw0 0x00040002 type 2 (Notice) info 0x00 (Namespace Attribute Changed) log page 0x04$' <<<"$out"
[ "$(grep -c 'read, event cleared' <<<"$out")" = 2 ]
