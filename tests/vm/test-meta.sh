#!/bin/sh
# Guest suite for a namespace formatted with metadata (issues 10 and 12):
# QEMU's namespace 1 has VFN_TEST_MS bytes of metadata per block in LBA
# format VFN_TEST_LBAF, at the end of each block (VFN_TEST_MSET=1) or in a
# separate buffer (0), with PI type VFN_TEST_PI (0: none).  The library
# (test_vm_meta: data and metadata round-trip, PRACT insert/strip, software
# PI, a wrong ref tag 0x284, a bad guard 0x282) and the CLI on vfio-pci, then
# the device handle and the CLI through the kernel driver's /dev/ng0n1.  The
# emulated IOMMU must log no DMA fault.  On the kernel driver, also issue 10
# item 8: id-ns takes the namespace of the node it is given when -n is left
# out.  Prints TAP.
. "$(dirname "$0")/lib.sh"

B=$VFN_BDF
PI=${VFN_TEST_PI:-0}
PAT=/tmp/vfn-meta-pat
MPAT=/tmp/vfn-meta-mpat
OUT=/tmp/vfn-meta-out
TUPLE=8
[ "${VFN_TEST_PIF:-0}" = 2 ] && TUPLE=16
head -c $((8 * VFN_TEST_LBA_SIZE)) /dev/urandom >"$PAT"
head -c $((8 * VFN_TEST_MS)) /dev/urandom >"$MPAT"

# lbaf_of JSON / mset_of JSON: FLBAS fields of id-ns -o json output ("none" if it has no flbas).
lbaf_of() {
	_f=$(json_field flbas "$1")
	[ -n "$_f" ] && echo $((_f & 0xf)) || echo none
}
mset_of() {
	_f=$(json_field flbas "$1")
	[ -n "$_f" ] && echo $(((_f >> 4) & 1)) || echo none
}

# cli_roundtrip DEV: 8 blocks written and read back by the CLI, equal.
cli_roundtrip() {
	_d=$1
	if [ "$PI" != 0 ] && [ "$VFN_TEST_MS" != "$TUPLE" ]; then
		t_diag "$_d: metadata larger than the PI tuple: the CLI round trip is test_vm_meta's"
	elif [ "$PI" != 0 ]; then
		# PRACT: the controller makes the PI (ref tag = LBA for type 1) and checks it on the read.
		t_capture vfn write "$_d" -s 0 -c 7 -d "$PAT" -p 8 -r 0 -a 0x77
		t_eq "write -p 8 on $_d: exit status" 0 "$T_RC"
		t_capture vfn read "$_d" -s 0 -c 7 -d "$OUT" -p 14 -r 0 -a 0x77 -m 0xffff
		t_eq "read -p 14 on $_d: exit status" 0 "$T_RC"
		t_ok "read -p 14 on $_d: the data written" cmp -s "$PAT" "$OUT"
		t_err "read -p 1 -r 5 at LBA 0 on $_d (a wrong ref tag: 0x284, or 0x181 on type 1)" 1 \
			"^vfn: Read failed on $_d: .*(\(status 0x181\)|Reference Tag)" vfn read "$_d" -s 0 -c 0 -p 1 -r 5 -d "$OUT"
	elif [ "$VFN_TEST_MSET" = 0 ]; then
		t_capture vfn write "$_d" -s 0 -c 7 -d "$PAT" -M "$MPAT"
		t_eq "write -M on $_d: exit status" 0 "$T_RC"
		t_capture vfn read "$_d" -s 0 -c 7 -d "$OUT" -M "$OUT.m"
		t_eq "read -M on $_d: exit status" 0 "$T_RC"
		t_ok "read -M on $_d: the data written" cmp -s "$PAT" "$OUT"
		t_ok "read -M on $_d: the metadata written" cmp -s "$MPAT" "$OUT.m"
	fi
}

# --- vfio-pci: the library, then the CLI -----------------------------------
t_run_cmocka "meta $B" test_vm_meta
cli_roundtrip "$B"
t_capture vfn id-ns "$B" -n 1 -o json
NSZE=$(json_field nsze "$T_OUT")
t_eq "id-ns $B: LBA format in use" "$VFN_TEST_LBAF" "$(lbaf_of "$T_OUT")"
t_eq "id-ns $B: MSET" "$VFN_TEST_MSET" "$(mset_of "$T_OUT")"
t_capture vfn id-ns "$B" -n 1 -o json
dps=$(json_field dps "$T_OUT")
t_eq "id-ns $B: DPS type" "$PI" "$([ -n "$dps" ] && echo $((dps & 7)) || echo none)"
# Raw passthrough goes as given: a Read of one block with room for its data and metadata.
if [ "$VFN_TEST_MSET" = 1 ]; then
	t_capture vfn io-passthru "$B" -o 2 -n 1 -l $((VFN_TEST_LBA_SIZE + VFN_TEST_MS)) -r -b
	t_eq "io-passthru $B: one extended block read raw" 0 "$T_RC"
fi

# --- the kernel nvme driver: the device handle and the CLI on /dev/ng0n1 ----
t_capture vfn unbind "$B"
t_eq "unbind $B (to nvme)" 0 "$T_RC"
for _i in 1 2 3 4 5 6 7 8 9 10; do [ -c /dev/ng0n1 ] && break; sleep 1; done
t_run_cmocka "meta /dev/ng0n1" env VFN_BDF=/dev/ng0n1 test_vm_meta
cli_roundtrip /dev/ng0n1

# Issue 10 item 8: on a namespace node -n defaults to the node's namespace, as in nvme-cli.
for d in /dev/ng0n1 /dev/nvme0n1; do
	t_capture vfn id-ns "$d"
	t_eq "id-ns $d without -n: exit status" 0 "$T_RC"
	t_match "id-ns $d without -n: namespace 1" '^NVME Identify Namespace 1:' "$T_OUT"
	t_capture vfn id-ns "$d" -o json
	t_eq "id-ns $d without -n: its LBA format" "$VFN_TEST_LBAF" "$(lbaf_of "$T_OUT")"
	t_eq "id-ns $d without -n: its size" "$NSZE" "$(json_field nsze "$T_OUT")"
done
t_err "id-ns on the controller node without -n" 2 \
	"^vfn: id-ns needs a namespace id \(-n NSID\): /dev/nvme0 is not a namespace node; usage: vfn id-ns " vfn id-ns /dev/nvme0

t_eq "no DMA fault in the kernel log" 0 "$(dmesg | grep -c 'DMAR: \[DMA')"
rm -f "$PAT" "$MPAT" "$OUT" "$OUT.m"
t_done
