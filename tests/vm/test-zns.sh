#!/bin/sh
# Guest suite for zoned namespaces (docs/zns.md) against QEMU 7.2's zoned
# namespace over VFIO, through the CLI: `vfn zns` on 0000:00:01.0 with
# -device nvme-ns,zoned=true,zoned.zone_size=4M,zoned.zone_capacity=3M,
# zoned.max_open=4,zoned.max_active=6 on a 32 MiB image of 512-byte blocks
# (tests/vm/meson.build): 8 zones of 8192 blocks, 6144 writable.  Each vfn
# command opens the controller afresh: QEMU keeps the zones (write pointers,
# data) across that, and closes the zones left open when vfn shuts the
# controller down (an open zone shows as CLOSED in the next command).
# With the argument "nvme" the same runs on the kernel driver's namespace
# node /dev/ng0n1 (passthrough ioctls; the driver leaves zones alone).
# Prints TAP.
. "$(dirname "$0")/lib.sh"

VFN=vfn
BDF=${VFN_BDF:-0000:00:01.0}
[ "${1:-vfio}" = nvme ] && BDF=/dev/ng0n1
ZSZE=8192
ZCAP=6144
T=/tmp/zns
mkdir -p "$T"

# count REGEX TEXT: lines of TEXT matching REGEX
count() { printf '%s\n' "$2" | grep -c -- "$1"; }

# ---- geometry: what QEMU was configured with --------------------------------------
t_capture "$VFN" zns id-ns "$BDF" -n 1 -o json
t_eq "id-ns: exit status" 0 "$T_RC"
t_eq "id-ns: zsze = zoned.zone_size 4M / 512" "$ZSZE" "$(json_field zsze "$T_OUT")"
t_eq "id-ns: mor = zoned.max_open 4 - 1" 3 "$(json_field mor "$T_OUT")"
t_eq "id-ns: mar = zoned.max_active 6 - 1" 5 "$(json_field mar "$T_OUT")"
t_eq "zns info: zone capacity = zoned.zone_capacity 3M / 512" "$ZCAP" "$(json_field zone_capacity "$T_OUT")"
t_eq "zns info: 8 zones" 8 "$(json_field nr_zones "$T_OUT")"
t_eq "zns info: max_open 4" 4 "$(json_field max_open "$T_OUT")"
t_eq "zns info: max_active 6" 6 "$(json_field max_active "$T_OUT")"
t_capture "$VFN" zns id-ctrl "$BDF" -o json
t_eq "id-ctrl: zasl 0 (QEMU's default: MDTS limits appends)" 0 "$(json_field zasl "$T_OUT")"
t_capture "$VFN" id-ns "$BDF" -n 1 -o json
t_eq "id-ns: nsze = 8 zones x 8192" 65536 "$(json_field nsze "$T_OUT")"
if [ "$BDF" = "${VFN_BDF:-0000:00:01.0}" ]; then
	t_capture "$VFN" show-regs "$BDF" -o json
	t_diag "CC after bring-up: $(printf '%s' "$T_OUT" | tr -d '\n ' | grep -o '"cc":{"value":[0-9]*' | head -n 1)"
	# Bring-up read CNS 1Ch: QEMU lists NVM + Zoned (0x5) at index 0, so profile 0 stays (no Set Features 19h).
	t_capture env VFN_LOG=debug "$VFN" zns id-ctrl "$BDF"
	t_eq "bring-up: I/O Command Set Profile 0 = NVM + Zoned (CNS 1Ch)" 1 \
		"$(count 'I/O Command Set Profile 0 (command sets 0x5)' "$T_OUT")"
fi

t_capture "$VFN" zns report-zones "$BDF" -n 1 -o json
t_eq "report-zones: exit status" 0 "$T_RC"
t_eq "report-zones: nr_zones 8" 8 "$(json_field nr_zones "$T_OUT")"
t_eq "report-zones: 8 descriptors of capacity 6144" 8 "$(count "\"cap\": $ZCAP" "$(printf '%s' "$T_OUT" | tr ',' '\n')")"
t_eq "report-zones: all empty" 8 "$(count '"state": "EMPTY"' "$(printf '%s' "$T_OUT" | tr ',' '\n')")"
t_eq "report-zones: the last zone starts at 7 x 8192" 1 "$(count '"slba": 57344' "$(printf '%s' "$T_OUT" | tr ',' '\n')")"

# ---- Zone Append: the LBAs QEMU chose, the data read back ------------------------
head -c 1024 /dev/urandom >"$T/a"
head -c 2048 /dev/urandom >"$T/b"
t_capture "$VFN" zns zone-append "$BDF" -n 1 -s $ZSZE -z 1024 -d "$T/a" -o json
t_eq "zone-append 2 blocks to zone 1: status" 0 "$T_RC"
t_eq "zone-append: LBA = zone 1's start" $ZSZE "$(json_field alba "$T_OUT")"
t_capture "$VFN" zns zone-append "$BDF" -n 1 -s $ZSZE -z 2048 -d "$T/b" -o json
t_eq "zone-append 4 more blocks: LBA = start + 2" $((ZSZE + 2)) "$(json_field alba "$T_OUT")"
t_capture "$VFN" zns zone-append "$BDF" -n 1 -s $ZSZE -z 512 -d "$T/a"
t_match "zone-append normal output: the LBA" "^Success appended data to LBA 0x2006$" "$T_OUT"
t_ok "read back the first append" sh -c "$VFN read $BDF -n 1 -s $ZSZE -c 1 -d $T/ra && cmp $T/a $T/ra"
t_ok "read back the second append" sh -c "$VFN read $BDF -n 1 -s $((ZSZE + 2)) -c 3 -d $T/rb && cmp $T/b $T/rb"
t_capture "$VFN" zns report-zones "$BDF" -n 1 -s $ZSZE -d 1 -p -o json
t_eq "report-zones -s zone 1 -d 1 -p: one zone" 1 "$(json_field nr_zones "$T_OUT")"
t_eq "zone 1: write pointer after 7 appended blocks" $((ZSZE + 7)) "$(json_field wp "$T_OUT")"
t_match "zone 1: opened by the appends (closed at vfn's shutdown)" '"state": "(IMP_OPENED|CLOSED)"' "$T_OUT"

# Writes go at the write pointer only.
t_err "write not at the write pointer: error by name" 1 "Zone Invalid Write \\(status 0x1bc\\)" \
	"$VFN" write "$BDF" -n 1 -s $((ZSZE + 100)) -c 0 -d "$T/a" -z 512

# ---- filters ------------------------------------------------------------------------
t_capture "$VFN" zns report-zones "$BDF" -n 1 -S 1 -o json
t_eq "report-zones -S 1 (empty): 7 zones" 7 "$(json_field nr_zones "$T_OUT")"
t_capture "$VFN" zns zone-open "$BDF" -n 1 -s $((3 * ZSZE))
t_eq "zone-open zone 3: status" 0 "$T_RC"
t_capture "$VFN" zns zone-finish "$BDF" -n 1 -s $((2 * ZSZE))
t_eq "zone-finish zone 2 (empty -> full): status" 0 "$T_RC"
t_capture "$VFN" zns report-zones "$BDF" -n 1 -S 5 -o json
t_eq "report-zones -S 5 (full): 1 zone" 1 "$(json_field nr_zones "$T_OUT")"
t_eq "report-zones -S 5: zone 2" $((2 * ZSZE)) "$(json_field slba "$T_OUT")"

# ---- a zone filled by appends: Zone Boundary Error, then Zone Is Full --------------
# 6144 blocks: 10 appends of 512 blocks (256 KiB: within QEMU's MDTS and the
# kernel's 127-segment passthrough limit, 516096 bytes) and one of 1000, then
# 30 blocks do not fit (24 are left), 24 fill the zone, one more is refused.
head -c 262144 /dev/zero >"$T/z"
ok=0
for i in 0 1 2 3 4 5 6 7 8 9; do
	out=$("$VFN" zns zone-append "$BDF" -n 1 -s $((4 * ZSZE)) -z 262144 -d "$T/z" -o json) &&
		[ "$(json_field alba "$out")" = $((4 * ZSZE + i * 512)) ] && ok=$((ok + 1))
done
t_eq "zone 4: 10 appends of 512 blocks at the expected LBAs" 10 "$ok"
t_capture "$VFN" zns zone-append "$BDF" -n 1 -s $((4 * ZSZE)) -z 512000 -d /dev/zero -o json
t_eq "zone 4: a 1000-block append at start + 5120" $((4 * ZSZE + 5120)) "$(json_field alba "$T_OUT")"
t_err "append of 30 blocks with 24 left: error by name" 1 "Zone Boundary Error \\(status 0x1b8\\)" \
	"$VFN" zns zone-append "$BDF" -n 1 -s $((4 * ZSZE)) -z 15360 -d /dev/zero
t_capture "$VFN" zns zone-append "$BDF" -n 1 -s $((4 * ZSZE)) -z 12288 -d /dev/zero -o json
t_eq "zone 4: the last 24 blocks at start + 6120" $((4 * ZSZE + 6120)) "$(json_field alba "$T_OUT")"
t_capture "$VFN" zns report-zones "$BDF" -n 1 -s $((4 * ZSZE)) -d 1 -p -o json
t_eq "zone 4: FULL" FULL "$(json_field state "$T_OUT")"
t_err "append to a full zone: error by name" 1 "Zone Is Full \\(status 0x1b9\\)" \
	"$VFN" zns zone-append "$BDF" -n 1 -s $((4 * ZSZE)) -z 512 -d "$T/a"

# ---- reset: the write pointer back at the zone start, Empty ------------------------
t_capture "$VFN" zns zone-reset "$BDF" -n 1 -s $ZSZE
t_eq "zone-reset zone 1: status" 0 "$T_RC"
t_capture "$VFN" zns report-zones "$BDF" -n 1 -s $ZSZE -d 1 -p -o json
t_eq "zone 1 after reset: wp = zslba" $ZSZE "$(json_field wp "$T_OUT")"
t_eq "zone 1 after reset: EMPTY" EMPTY "$(json_field state "$T_OUT")"
t_capture "$VFN" zns zone-reset "$BDF" -n 1 -a
t_eq "zone-reset -a: status" 0 "$T_RC"
t_capture "$VFN" zns report-zones "$BDF" -n 1 -S 1 -o json
t_eq "after reset -a: all 8 zones empty" 8 "$(json_field nr_zones "$T_OUT")"

t_err "close an empty zone: error by name" 1 "Invalid Zone State Transition \\(status 0x1bf\\)" \
	"$VFN" zns zone-close "$BDF" -n 1 -s 0

t_done
