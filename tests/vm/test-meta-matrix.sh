#!/bin/sh
# The metadata / end-to-end protection matrix in one boot (issue 12, Proof):
# QEMU's controller carries many namespaces, each with its own format, and
# every one goes through the per-namespace checks of test-meta.sh and
# test_vm_meta, first on vfio-pci, then through the kernel nvme driver's
# /dev/ngXnY.  Namespace 1 has no metadata (VFN_TEST_OTHER_NSID): a handle
# opened for it must reach the others by their own geometry.
#   VFN_TEST_META_NS       "NSID:LBADS:MS:MSET:PI:PIF:PIL ..." the namespaces QEMU has
#   VFN_TEST_META_REFUSED  "LBADS:MS:MSET:PI:PIF:PIL ..." combinations QEMU 7.2
#                          refuses to create (reported as skips)
# Every TAP line names its configuration.  Prints TAP.
. "$(dirname "$0")/lib.sh"

B=$VFN_BDF
PAT=/tmp/vfn-mm-pat
MPAT=/tmp/vfn-mm-mpat
OUT=/tmp/vfn-mm-out
head -c $((8 * 4096)) /dev/urandom >"$PAT.4096"
head -c $((8 * 512)) "$PAT.4096" >"$PAT.512"
head -c $((8 * 64)) /dev/urandom >"$MPAT.64"
head -c $((8 * 16)) "$MPAT.64" >"$MPAT.16"
head -c $((8 * 8)) "$MPAT.64" >"$MPAT.8"

uptime_s() { cut -d' ' -f1 /proc/uptime; }

# cfg ENTRY: sets NSID LBADS MS MSET PI PIF PIL LBA LBAF TUPLE NAME, exports the VFN_TEST_* of test_vm_meta.
cfg() {
	_o=$IFS
	IFS=:
	# shellcheck disable=SC2086 # split on ':'
	set -- $1
	IFS=$_o
	NSID=$1 LBADS=$2 MS=$3 MSET=$4 PI=$5 PIF=$6 PIL=$7
	LBA=$((1 << LBADS))
	# QEMU's LBA format table: 512-byte data with 0/8/16/64 bytes of metadata are 0-3, 4 KiB 4-7.
	case $MS in 8) LBAF=1 ;; 16) LBAF=2 ;; 64) LBAF=3 ;; *) LBAF=0 ;; esac
	[ "$LBADS" = 12 ] && LBAF=$((LBAF + 4))
	TUPLE=8
	[ "$PIF" = 2 ] && TUPLE=16
	NAME="ns$NSID lbads=$LBADS ms=$MS mset=$MSET pi=$PI pif=$PIF pil=$PIL"
	export VFN_TEST_NSID="$NSID" VFN_TEST_MS="$MS" VFN_TEST_MSET="$MSET" VFN_TEST_LBAF="$LBAF" \
		VFN_TEST_LBA_SIZE="$LBA" VFN_TEST_PI="$PI" VFN_TEST_PIF="$PIF" VFN_TEST_PIL="$PIL"
}

# t_rc NAME STATUS: the last t_capture exited STATUS; else its output as diagnostics.
t_rc() {
	t_eq "$1" "$2" "$T_RC"
	[ "$2" = "$T_RC" ] || t_diag "$T_OUT"
}

# cli_checks DEV [-n NSID]: the CLI round trips of test-meta.sh on one namespace.
cli_checks() {
	_d=$1
	shift
	_p=$PAT.$LBA
	rm -f "$OUT" "$OUT.m"
	if [ "$PI" != 0 ] && [ "$MS" != "$TUPLE" ]; then
		# PRACT moves no metadata only when it is just the tuple; else give the tuples (-M) or interleave them.
		t_skip "$NAME $_d: CLI -p 8 round trip" "metadata larger than the PI tuple: PRACT still moves it (test_vm_meta covers it)"
	elif [ "$PI" != 0 ]; then
		t_capture vfn write "$_d" "$@" -s 0 -c 7 -d "$_p" -p 8 -r 0 -a 0x77
		t_rc "$NAME $_d: write -p 8 (PRACT): exit status" 0
		# Type 3 has no reference tag: QEMU answers a ref check (PRCHK bit 0) with 0x181, so guard + app only.
		_chk=15
		[ "$PI" = 3 ] && _chk=14
		t_capture vfn read "$_d" "$@" -s 0 -c 7 -d "$OUT" -p $_chk -r 0 -a 0x77 -m 0xffff
		t_rc "$NAME $_d: read -p $_chk (PRACT, PRCHK all it has): exit status" 0
		t_ok "$NAME $_d: read -p $_chk: the data written, byte for byte" cmp "$_p" "$OUT"
		# Type 1: an ILBRT other than the LBA, type 3: any ref check, is Invalid Protection Information; type 2: 0x284.
		_re='End-to-end Reference Tag Check Error \((status )?0x284\)'
		[ "$PI" != 2 ] && _re='Invalid Protection Information \((status )?0x181\)'
		t_err "$NAME $_d: read -p 1 -r 5 at LBA 0 (a wrong ref tag; type 3: none to check)" 1 "^vfn: Read failed on .*: $_re" \
			vfn read "$_d" "$@" -s 0 -c 0 -p 1 -r 5 -d "$OUT"
	elif [ "$MSET" = 0 ]; then
		t_capture vfn write "$_d" "$@" -s 0 -c 7 -d "$_p" -M "$MPAT.$MS"
		t_rc "$NAME $_d: write -M: exit status" 0
		t_capture vfn read "$_d" "$@" -s 0 -c 7 -d "$OUT" -M "$OUT.m"
		t_rc "$NAME $_d: read -M: exit status" 0
		t_ok "$NAME $_d: read -M: the data written, byte for byte" cmp "$_p" "$OUT"
		t_ok "$NAME $_d: read -M: the metadata written, byte for byte" cmp "$MPAT.$MS" "$OUT.m"
	else
		t_skip "$NAME $_d: CLI -M round trip" "interleaved metadata without PI: test_vm_meta covers it"
	fi
}

for r in $VFN_TEST_META_REFUSED; do
	cfg "0:$r"
	t_skip "lbads=$LBADS ms=$MS mset=$MSET pi=$PI pif=$PIF pil=$PIL" \
		"QEMU 7.2 refuses the namespace: the 64-bit guard tuple is 16 bytes, ms < 16 (nvme-ns: at least 16 bytes of metadata required to enable protection information)"
done

# --- vfio-pci ----------------------------------------------------------------
t0=$(uptime_s)
export VFN_TEST_OTHER_NSID=1 VFN_TEST_SHARED=1
n=0
for e in $VFN_TEST_META_NS; do
	cfg "$e"
	n=$((n + 1))
	t_run_cmocka "$NAME vfio" test_vm_meta
	cli_checks "$B" -n "$NSID"
done
unset VFN_TEST_OTHER_NSID
t1=$(uptime_s)
t_diag "vfio-pci: $n namespaces in $(awk "BEGIN { print $t1 - $t0 }") s of guest time"

# --- the kernel nvme driver: /dev/ngXnY ---------------------------------------
t_capture vfn unbind "$B"
t_eq "unbind $B (to nvme)" 0 "$T_RC"
# Wait until the driver has a node for each namespace (ours and namespace 1).
for _i in $(seq 1 40); do
	[ "$(ls -d /sys/block/nvme0n* 2>/dev/null | wc -l)" -ge $((n + 1)) ] && break
	sleep 0.5
done
t_eq "the kernel made a block device for each of the $((n + 1)) namespaces" $((n + 1)) \
	"$(ls -d /sys/block/nvme0n* 2>/dev/null | wc -l)"
t_eq "the kernel made a generic node for each of the $((n + 1)) namespaces" $((n + 1)) \
	"$(ls /dev/ng0n* 2>/dev/null | wc -l)"
# A namespace's node: the block device whose nsid it is, its ng twin.
ng_of() {
	for _s in /sys/block/nvme0n*; do
		[ "$(cat "$_s/nsid" 2>/dev/null)" = "$1" ] && echo "/dev/ng${_s##*/nvme}" && return
	done
}
for e in $VFN_TEST_META_NS; do
	cfg "$e"
	ng=$(ng_of "$NSID")
	if [ -z "$ng" ] || [ ! -c "$ng" ]; then
		t_result 1 "$NAME: the kernel made a namespace node"
		t_diag "no /sys/block/nvme0n*/nsid says $NSID, or no char node: $(ls /dev/ng0n* 2>&1 | tr '\n' ' ')"
		continue
	fi
	t_run_cmocka "$NAME $ng" env VFN_BDF="$ng" test_vm_meta
	cli_checks "$ng"
	# The CLI's Identify decode (here: a bring-up on vfio costs ~0.3 s of TCG a call, the node nothing).
	t_capture vfn id-ns "$ng" -o json
	_f=$(json_field flbas "$T_OUT")
	_dps=$(json_field dps "$T_OUT")
	t_eq "$NAME $ng: id-ns FLBAS (format $LBAF, MSET $MSET)" "$LBAF $MSET" "$((_f & 0xf)) $(((_f >> 4) & 1))"
	t_eq "$NAME $ng: id-ns DPS (type $PI, first $PIL)" "$PI $((PI ? PIL : 0))" "$((_dps & 7)) $(((_dps >> 3) & 1))"
done
t2=$(uptime_s)
t_diag "kernel: $n namespaces in $(awk "BEGIN { print $t2 - $t1 }") s of guest time"
# What the kernel made of each format (a block device of capacity 0 is one it cannot drive).
for _s in /sys/block/nvme0n*; do
	t_diag "${_s##*/}: nsid $(cat "$_s/nsid") size $(cat "$_s/size") sectors, integrity $(cat "$_s/integrity/format" 2>/dev/null)"
done | head -100

t_eq "no DMA fault in the kernel log" 0 "$(dmesg | grep -c 'DMAR: \[DMA')"
t_diag "guest time: $(uptime_s) s since boot"
rm -f "$PAT".* "$MPAT".* "$OUT" "$OUT.m"
t_done
