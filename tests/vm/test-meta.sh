#!/bin/sh
# Guest suite for a namespace formatted with metadata (issue 10 item 5):
# QEMU's namespace 1 has VFN_TEST_MS bytes of metadata per block in LBA
# format VFN_TEST_LBAF, at the end of each block (VFN_TEST_MSET=1, with PI
# type 1) or in a separate buffer (0).  vfn does not carry metadata yet, so
# I/O is refused on every path, with one line naming the format, and never
# sent: the library and the CLI with the controller on vfio-pci, then the
# device handle and the CLI through the kernel driver's /dev/ng0n1.  The
# emulated IOMMU must log no DMA fault (sent, a Read of 8 blocks made QEMU
# write to IOVA 0).  On the kernel driver, also item 8: id-ns takes the
# namespace of the node it is given when -n is left out.  Prints TAP.
. "$(dirname "$0")/lib.sh"

B=$VFN_BDF
if [ "$VFN_TEST_MSET" = 1 ]; then KIND="extended LBA"; else KIND="separate metadata buffer"; fi
WHY="namespace 1 is formatted with $VFN_TEST_MS bytes of metadata per block \\(LBA format $VFN_TEST_LBAF, $KIND\\); metadata is not supported yet"
PAT=/tmp/vfn-meta-pat
head -c 4096 /dev/urandom >"$PAT"

# lbaf_of JSON / mset_of JSON: FLBAS fields of id-ns -o json output ("none" if it has no flbas).
lbaf_of() {
	_f=$(json_field flbas "$1")
	[ -n "$_f" ] && echo $((_f & 0xf)) || echo none
}
mset_of() {
	_f=$(json_field flbas "$1")
	[ -n "$_f" ] && echo $(((_f >> 4) & 1)) || echo none
}

# refused NAME DEV CMD...: exit 1, one line on stderr naming the format.
refused() {
	_n=$1 _d=$2
	shift 2
	t_err "$_n" 1 "^vfn: $_d: $WHY" "$@"
}

# --- vfio-pci: the library, then the CLI -----------------------------------
t_run_cmocka "meta $B" test_vm_meta
refused "read -c 7 on $B" "$B" vfn read "$B" -n 1 -c 7
refused "read -c 0 on $B" "$B" vfn read "$B" -c 0
refused "write on $B" "$B" vfn write "$B" -c 0 -d "$PAT"
refused "perf randwrite on $B" "$B" vfn perf "$B" -w randwrite -t 1
refused "perf randread on $B" "$B" vfn perf "$B" -t 1 -q 8
t_capture vfn id-ns "$B" -n 1 -o json
NSZE=$(json_field nsze "$T_OUT")
t_eq "id-ns $B: LBA format in use" "$VFN_TEST_LBAF" "$(lbaf_of "$T_OUT")"
t_eq "id-ns $B: MSET" "$VFN_TEST_MSET" "$(mset_of "$T_OUT")"
# Raw passthrough goes as given: a Read of one block with room for its data and metadata.
if [ "$VFN_TEST_MSET" = 1 ]; then
	t_capture vfn io-passthru "$B" -o 2 -n 1 -l $((512 + VFN_TEST_MS)) -r -b
	t_eq "io-passthru $B: one extended block read raw" 0 "$T_RC"
fi

# --- the kernel nvme driver: the device handle and the CLI on /dev/ng0n1 ----
t_capture vfn unbind "$B"
t_eq "unbind $B (to nvme)" 0 "$T_RC"
for _i in 1 2 3 4 5 6 7 8 9 10; do [ -c /dev/ng0n1 ] && break; sleep 1; done
t_run_cmocka "meta /dev/ng0n1" env VFN_BDF=/dev/ng0n1 test_vm_meta
refused "read on /dev/ng0n1" /dev/ng0n1 vfn read /dev/ng0n1 -c 7
refused "write on /dev/ng0n1" /dev/ng0n1 vfn write /dev/ng0n1 -c 0 -d "$PAT"
refused "perf on /dev/ng0n1" /dev/ng0n1 vfn perf /dev/ng0n1 -t 1

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
rm -f "$PAT"
t_done
