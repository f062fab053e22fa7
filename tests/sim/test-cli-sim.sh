#!/bin/sh
# The CLI against the simulated controller, on the host: identify data must
# match the options in the device string; bad options give one clear line.
# (The same commands under valgrind's memcheck: test-cli-memcheck.sh, the
# memcheck suite.)  Usage: test-cli-sim.sh PATH_TO_VFN PATH_TO_VFN_FAKESYS
# (vfn-fakesys: the same CLI for tests, which can be pointed at a fake sysfs).
. "$(dirname "$0")/../vm/lib.sh"

VFN=$1
FAKESYS=$2


t_capture "$VFN" id-ctrl sim:sn=vfnsim42,nn=4,mdts=6 -o json
t_eq "id-ctrl sim: exit status" 0 "$T_RC"
[ "$T_RC" -eq 0 ] || t_diag "$T_OUT"
t_eq "id-ctrl sim: serial from sn=" vfnsim42 "$(json_field sn "$T_OUT")"
t_eq "id-ctrl sim: namespaces from nn=" 4 "$(json_field nn "$T_OUT")"
t_eq "id-ctrl sim: mdts from mdts=" 6 "$(json_field mdts "$T_OUT")"
t_eq "id-ctrl sim: model" "vfn simulated controller" "$(json_field mn "$T_OUT")"

t_capture "$VFN" id-ns sim:nsze=2048,lbads=12 -n 1 -o json
t_eq "id-ns sim: nsze from nsze=" 2048 "$(json_field nsze "$T_OUT")"
t_capture "$VFN" id-ns sim:nsze=2048,lbads=12 -n 1
t_match "id-ns sim: LBA size from lbads=" "lbads:12 .*in use" "$T_OUT"

# -n defaults only on a namespace node (the guest checks /dev/ng0n1); a sim: is a controller.
_err=$("$VFN" id-ns sim: 2>&1 >/dev/null)
t_eq "id-ns sim: without -n: exit status 2" 2 "$?"
t_match "id-ns sim: without -n: asks for -n" "^vfn: id-ns needs a namespace id \(-n NSID\); usage: vfn id-ns DEVICE \[-n NSID\]" "$_err"

t_capture "$VFN" list-ns sim:nn=4 -o json
t_eq "list-ns sim: four namespaces" 4 "$(printf '%s' "$T_OUT" | grep -c '"nsid"')"

t_capture "$VFN" show-regs sim: -o json
t_match "show-regs sim: CC.EN=1" '"en": *1' "$(printf '%s' "$T_OUT" | tr -d '\n' | sed 's/.*"cc"//')"

t_capture "$VFN" perf sim:nil=1 -q 4 -t 1 -s 4096 -w randread -o json
t_eq "perf sim: exit status" 0 "$T_RC"
t_match "perf sim: reports IOPS" '"iops": *[1-9]' "$T_OUT"

# Data pointers built per command (the inline vfn_rq_map_iova): the run completes without errors.
t_capture "$VFN" perf sim: -q 4 -t 1 -s 4096 -w randrw --map-per-io -o json
t_eq "perf --map-per-io: exit status" 0 "$T_RC"
t_match "perf --map-per-io: reports IOPS" '"iops": *[1-9]' "$T_OUT"
t_match "perf --map-per-io: no errors" '"errors": *0[,}]' "$(printf '%s' "$T_OUT" | tr -d ' \n')"

# --sqe-per-io: each command built with vfn_nvme_rw_sqe() in the counted region: the data written and read back moves without errors; not with --verify.
t_capture "$VFN" perf sim: -q 4 -t 1 -s 4096 -w randrw --sqe-per-io -o json
t_eq "perf --sqe-per-io: exit status" 0 "$T_RC"
t_match "perf --sqe-per-io: reports IOPS" '"iops": *[1-9]' "$T_OUT"
t_match "perf --sqe-per-io: no errors" '"errors": *0[,}]' "$(printf '%s' "$T_OUT" | tr -d ' \n')"
t_capture "$VFN" perf sim: -q 4 -t 1 -w randrw --sqe-per-io --verify
t_eq "perf --sqe-per-io --verify: refused" 1 "$T_RC"
t_match "perf --sqe-per-io --verify: names the conflict" 'does not go with --verify' "$T_OUT"

# --cq-head: with MMIO doorbells only, "reap" writes the CQ head after every
# reap (at QD 4 at least once per 4 completions), "lazy" (the default) only
# when the CQ could fill (256 entries: about once per 250).
for _p in reap lazy; do
	t_capture "$VFN" perf sim:nil=1 -q 4 -t 1 --no-shadow-doorbells --cq-head "$_p" -o json
	t_eq "perf --cq-head $_p: exit status" 0 "$T_RC"
	_c=$(json_field completions "$T_OUT")
	_cq=$(json_field cq_mmio_doorbells "$T_OUT")
	t_match "perf --cq-head $_p: completions" '^[1-9][0-9]*$' "$_c"
	if [ "$_p" = reap ]; then
		t_eq "perf --cq-head reap: a CQ head write per reap ($_cq for $_c)" 1 "$((${_cq:-0} * 4 >= ${_c:-1}))"
	else
		t_eq "perf --cq-head lazy: a CQ head write per lap ($_cq for $_c)" 1 "$((${_cq:-0} * 100 < ${_c:-1}))"
	fi
done
_err=$("$VFN" perf sim:nil=1 --cq-head eager 2>&1 >/dev/null)
t_eq "perf --cq-head eager: exit status 2" 2 "$?"
t_match "perf --cq-head eager: one line" "^vfn: unknown CQ head policy \(--cq-head\): 'eager'" "$_err"
# --shadow-doorbells: auto is on for the simulator (it keeps EventIdx behind); on, off as asked.
for _p in auto:on on:on off:off; do
	t_capture "$VFN" perf sim:nil=1 -q 4 -t 1 --shadow-doorbells "${_p%%:*}" -o json
	t_eq "perf --shadow-doorbells ${_p%%:*}: exit status" 0 "$T_RC"
	t_eq "perf --shadow-doorbells ${_p%%:*}: ${_p#*:}" "${_p#*:}" "$(json_field shadow_doorbells "$T_OUT")"
done
# A controller that misses every shadow SQ tail (shadow_miss=1): only the
# stall check's MMIO writes get commands fetched.  perf must keep reaping
# while its CQ is empty, or it waits for ever (the CI failure of 2026-12-05:
# perf skipped the empty reap, QEMU 7.2 missed an update).
for _p in "--batch 1" "--batch 32" "-j 1"; do
	_sd="--shadow-doorbells on"; [ "$_p" = "-j 1" ] && _sd=
	# shellcheck disable=SC2086 # the options are whitespace-separated
	t_capture "$VFN" perf sim:nil=1,shadow_miss=1 -q 32 $_p -t 1 $_sd -o json
	t_eq "perf shadow_miss=1 $_p: exit status" 0 "$T_RC"
	t_match "perf shadow_miss=1 $_p: I/Os done" '^[1-9][0-9]*$' "$(json_field completions "$T_OUT")"
	if [ "$_p" != "-j 1" ]; then
		t_eq "perf shadow_miss=1 $_p: every command completed" "$(json_field submissions "$T_OUT")" "$(json_field completions "$T_OUT")"
		t_match "perf shadow_miss=1 $_p: doorbells re-rung" '^[1-9][0-9]*$' "$(json_field doorbells_rerung "$T_OUT")"
	fi
done
_err=$("$VFN" perf sim:nil=1 --shadow-doorbells maybe 2>&1 >/dev/null)
t_eq "perf --shadow-doorbells maybe: exit status 2" 2 "$?"
t_match "perf --shadow-doorbells maybe: one line" "^vfn: --shadow-doorbells must be auto, on or off: 'maybe'" "$_err"
# Mode: polled by default on the simulator even at QD 32 (auto interrupts are for QEMU's controller);
# --irq and --poll as asked, the last one given wins.
for _p in ":poll" "--irq:irq" "--poll:poll" "--poll --irq:irq"; do
	# shellcheck disable=SC2086 # the options are whitespace-separated
	t_capture "$VFN" perf sim:nil=1 -q 32 -t 1 ${_p%%:*} -o json
	t_eq "perf -q 32 ${_p%%:*}: exit status" 0 "$T_RC"
	t_eq "perf -q 32 ${_p%%:*}: mode ${_p#*:}" "${_p#*:}" "$(json_field mode "$T_OUT")"
done
# --no-latency: I/Os counted, no latency recorded.
t_capture "$VFN" perf sim:nil=1 -q 8 -t 1 --no-latency -o json
t_eq "perf --no-latency: exit status" 0 "$T_RC"
t_match "perf --no-latency: I/Os counted" '^[1-9][0-9]*$' "$(json_field ios "$T_OUT")"
t_eq "perf --no-latency: no latency" "0 0 0" "$(json_field p50 "$T_OUT") $(json_field avg "$T_OUT") $(json_field max "$T_OUT")"

# --verify: every write stamped, every read of a block this run wrote checked.
# QD 32: a read must land on a block written in the same second, which at
# QD 1 on a loaded machine (~150 IOPS under ASan at load 12) often fails to
# happen among 8192 slots; batches keep the run fast whatever the load.
t_capture "$VFN" perf sim: -w randrw --verify -t 1 -q 32 -o json
t_eq "perf --verify: exit status" 0 "$T_RC"
t_eq "perf --verify: no mismatch" 0 "$(json_field verify_errors "$T_OUT")"
t_match "perf --verify: blocks checked" '^[1-9][0-9]*$' "$(json_field verified_blocks "$T_OUT")"
t_eq "perf --verify: every slot of the namespace" 8192 "$(json_field verify_slots "$T_OUT")"
# 512-byte LBAs, 8 per I/O, 3 queues of 16 on 64 slots: the queues never share a slot in flight.
t_capture "$VFN" perf sim:lbads=9,nsze=512 -w randrw -M 30 -s 4096 -q 16 -c 3 --verify -t 1 -o json
t_eq "perf --verify 3 queues on 64 slots: exit status" 0 "$T_RC"
t_eq "perf --verify 3 queues on 64 slots: no mismatch" 0 "$(json_field verify_errors "$T_OUT")"
t_match "perf --verify 3 queues on 64 slots: blocks checked" '^[1-9][0-9]*$' "$(json_field verified_blocks "$T_OUT")"
# nil=1 moves no data: reads find the poisoned buffer, the run fails with one line.
_out=$("$VFN" perf sim:nil=1 -w randrw --verify -t 1 -q 32 -o json 2>/tmp/vfn-verify.$$)
t_eq "perf --verify sim:nil=1: exit status" 1 "$?"
_err=$(cat /tmp/vfn-verify.$$)
rm -f /tmp/vfn-verify.$$
t_match "perf --verify sim:nil=1: mismatches counted" '^[1-9][0-9]*$' "$(json_field verify_errors "$_out")"
t_eq "perf --verify sim:nil=1: every block checked differs" "$(json_field verified_blocks "$_out")" "$(json_field verify_errors "$_out")"
t_match "perf --verify sim:nil=1: the first mismatch" \
	'^vfn: verify: [0-9]+ of [0-9]+ blocks read back differ; first: LBA [0-9]+ expected generation [1-9][0-9]* LBA [0-9]+, found no stamp, first difference at byte 0 of the block$' "$_err"
t_eq "perf --verify sim:nil=1: one line" 1 "$(printf '%s\n' "$_err" | wc -l)"
_err=$("$VFN" perf sim: -w randread --verify -t 1 2>&1 >/dev/null)
t_eq "perf --verify -w randread: exit status" 1 "$?"
t_match "perf --verify -w randread: refused in one line" '^vfn: --verify checks reads against this run.s writes and -w randread writes nothing; use -w randrw$' "$_err"
_err=$("$VFN" perf sim:nsze=16 -w randrw --verify -q 8 -c 4 -t 1 2>&1 >/dev/null)
t_eq "perf --verify, fewer slots than I/Os in flight: exit status" 1 "$?"
t_match "perf --verify, fewer slots than I/Os in flight: says so" '^vfn: --verify keeps one I/O per 4096-byte slot and namespace 1 has 16' "$_err"
t_capture "$VFN" perf sim: -w randrw -t 1 -o json
t_eq "perf without --verify: no verify fields" 0 "$(printf '%s' "$T_OUT" | grep -c verif)"

_err=$("$VFN" id-ctrl sim:bogus=1 2>&1 >/dev/null)
t_eq "bad sim option: exit status" 1 "$?"
t_match "bad sim option: one line naming the fix" "^vfn: 'sim:bogus=1' has a bad option; see docs/sim.md" "$_err"
t_eq "bad sim option: one line" 1 "$(printf '%s\n' "$_err" | wc -l)"

_err=$("$VFN" bind sim: 2>&1 >/dev/null)
t_match "bind sim: refused" "simulated controller" "$_err"

# --- read, write, flush, passthru (issue 3).  Each call opens a fresh sim
# whose RAM namespace starts zeroed, so write-then-read is checked in the guest.
_tmp=/tmp/vfn-cli-sim.$$
head -c 32768 /dev/zero >"$_tmp.zero"
"$VFN" read sim: -n 1 -s 8 -c 7 >"$_tmp.rd"
t_eq "read sim: exit status" 0 "$?"
cmp -s "$_tmp.zero" "$_tmp.rd"
t_eq "read sim: 8 zeroed blocks of a fresh namespace" 0 "$?"
"$VFN" read sim:mdts=1 -n 1 -c 7 -d "$_tmp.rd"
t_eq "read sim: split beyond MDTS, to a file" 0 "$?"
cmp -s "$_tmp.zero" "$_tmp.rd"
t_eq "read sim: the file holds the blocks" 0 "$?"
head -c 32768 /dev/urandom >"$_tmp.pat"
"$VFN" write sim:mdts=1 -n 1 -s 8 -c 7 -d "$_tmp.pat"
t_eq "write sim: from a file, split beyond MDTS" 0 "$?"
"$VFN" write sim: -n 1 -c 7 -d - <"$_tmp.pat"
t_eq "write sim: from stdin" 0 "$?"
_err=$("$VFN" write sim: -n 1 -c 8 -d "$_tmp.pat" 2>&1)
t_eq "write sim: short file: exit status" 1 "$?"
t_match "write sim: short file: says so" "^vfn: .* holds 32768 bytes, 36864 needed" "$_err"
_err=$("$VFN" read sim:nsze=16 -n 1 -s 10 -c 7 2>&1)
t_eq "read sim: beyond the namespace: exit status" 1 "$?"
t_match "read sim: beyond the namespace: says so" "^vfn: blocks 10..17 are beyond namespace 1's 16 blocks" "$_err"
t_capture "$VFN" flush sim: -n 1
t_eq "flush sim: exit status" 0 "$T_RC"

"$VFN" admin-passthru sim:sn=cli2serial -o 0x06 --cdw10=1 -l 4096 -b 2>/dev/null >"$_tmp.id"
t_eq "admin-passthru sim: Identify exit status" 0 "$?"
t_eq "admin-passthru sim: raw Identify data, 4096 bytes" 4096 "$(wc -c <"$_tmp.id")"
t_match "admin-passthru sim: serial field from sn=" "^cli2serial *$" "$(dd if="$_tmp.id" bs=1 skip=4 count=20 2>/dev/null)"
t_match "admin-passthru sim: model field" "^vfn simulated controller *$" "$(dd if="$_tmp.id" bs=1 skip=24 count=40 2>/dev/null)"
t_capture "$VFN" admin-passthru sim: -o 6 --cdw10 1 -l 4096
t_match "admin-passthru sim: result line" "^NVMe command result:00000000" "$T_OUT"
t_match "admin-passthru sim: hex dump" "0010: 20 20 20 20 20 20 20 20 76 66 6e 20" "$T_OUT"
_err=$("$VFN" io-passthru sim: -o 0x7f -n 1 2>&1)
t_eq "io-passthru sim: bad opcode: exit status" 1 "$?"
t_eq "io-passthru sim: bad opcode: status line" "NVMe status: Invalid Command Opcode (0x1)" "$_err"
t_capture "$VFN" io-passthru sim: -o 0 -n 1
t_eq "io-passthru sim: Flush exit status" 0 "$T_RC"

# A namespace formatted with metadata (issue 12): read/write carry it, PI failures name the status in one line.
head -c 4096 /dev/urandom >"$_tmp.pd"
head -c 64 /dev/zero >"$_tmp.pmz"
"$VFN" read sim:lbads=9,ms=8,mset=1 -c 0 -d "$_tmp.ext"
t_eq "read on an extended-LBA format: 512 + 8 bytes" 520 "$(wc -c <"$_tmp.ext" | tr -d ' ')"
"$VFN" read sim:lbads=9,ms=16 -c 1 -d "$_tmp.sep" -M "$_tmp.sepm"
t_eq "read -M: 2 x 16 bytes of metadata" 32 "$(wc -c <"$_tmp.sepm" | tr -d ' ')"
t_eq "read -M: 2 x 512 bytes of data" 1024 "$(wc -c <"$_tmp.sep" | tr -d ' ')"
"$VFN" read sim:lbads=9,ms=8,mset=1,pi=1 -c 0 -p 8 -d "$_tmp.pract"
t_eq "read -p 8 (PRACT) with 8 bytes of PI: data only" 512 "$(wc -c <"$_tmp.pract" | tr -d ' ')"
t_capture "$VFN" write sim:lbads=9,ms=8,pi=2 -c 7 -d "$_tmp.pd" -M "$_tmp.pmz" -p 0 -f
t_eq "write -M -p 0 -f: exit status" 0 "$T_RC"
t_capture "$VFN" write sim:lbads=9,ms=8,pi=2 -c 7 -d "$_tmp.pd" -p 8 -r 9
t_eq "write -p 8 (PRACT): exit status" 0 "$T_RC"
for pi in "-p 4|Guard Check Error \\(status 0x282\\)" "-p 1 -r 5|Reference Tag Check Error \\(status 0x284\\)" \
	"-p 2 -a 0x1234 -m 0xffff|Application Tag Check Error \\(status 0x283\\)"; do
	_opts=${pi%%|*}
	# shellcheck disable=SC2086 # the options are split on purpose
	_out=$("$VFN" write sim:lbads=9,ms=8,pi=2 -c 7 -d "$_tmp.pd" -M "$_tmp.pmz" $_opts 2>"$_tmp.err")
	t_eq "write with a bad tuple, $_opts: exit status 1" 1 "$?"
	t_match "write with a bad tuple, $_opts: one line naming the status" \
		"^vfn: Write failed on sim:lbads=9,ms=8,pi=2: End-to-end ${pi#*|}" "$(cat "$_tmp.err")"
	t_eq "write with a bad tuple, $_opts: one line" 1 "$(wc -l <"$_tmp.err")"
done
_err=$("$VFN" read sim:lbads=9,ms=8,pi=1 -c 0 -p 1 -r 3 2>&1 >/dev/null)
t_match "read -p 1 -r 3 at LBA 0 on type 1: Invalid Protection Information" "\\(status 0x181\\)" "$_err"
for bad in "write sim:lbads=9,ms=8,pi=2 -c 7 -d $_tmp.pd|give them with -M FILE" \
	"write sim:lbads=9,ms=8,mset=1 -c 0 -d $_tmp.pd -M $_tmp.pmz|drop -M" \
	"read sim:lbads=9 -c 0 -p 1|has no metadata" "read sim:lbads=9,ms=8 -c 0 -p 1|no protection information" \
	"read sim:lbads=9,ms=8 -c 7 -y 63|-y 63 is less than"; do
	# shellcheck disable=SC2086 # the command is split on purpose
	_out=$("$VFN" ${bad%%|*} 2>"$_tmp.err")
	t_eq "vfn ${bad%%|*}: exit status 1" 1 "$?"
	t_match "vfn ${bad%%|*}: says why" "${bad#*|}" "$(cat "$_tmp.err")"
	t_eq "vfn ${bad%%|*}: one line" 1 "$(wc -l <"$_tmp.err")"
done
# compare and write-zeroes (nvme-cli's): a fresh namespace reads as zeros.
head -c 4096 /dev/zero >"$_tmp.z"
t_capture "$VFN" compare sim:lbads=9 -c 7 -d "$_tmp.z"
t_eq "compare with zeros on a fresh namespace: exit status" 0 "$T_RC"
_err=$("$VFN" compare sim:lbads=9 -c 7 -d "$_tmp.pd" 2>&1 >/dev/null)
t_eq "compare with other data: exit status 1" 1 "$?"
t_eq "compare with other data: one line naming the status" \
	"vfn: Compare failed on sim:lbads=9: Compare Failure (status 0x285); rerun with -v for the command trace" "$_err"
t_capture "$VFN" compare sim:lbads=9,ms=8,mset=1,pi=1 -c 0 -d "$_tmp.z" -p 8
t_eq "compare -p 8 (PRACT) on an 8-byte PI format: data only, equal" 0 "$T_RC"
t_capture "$VFN" write-zeroes sim:lbads=9,ms=8,pi=1,nsze=70000 -c 65535 -p 8 -f
t_eq "write-zeroes -c 65535 -p 8 -f (one command, no MDTS): exit status" 0 "$T_RC"
_err=$("$VFN" write-zeroes sim:lbads=9 -c 0 -p 8 2>&1)
t_match "write-zeroes -p on a namespace without metadata: refused" "has no metadata" "$_err"
t_capture "$VFN" id-ns sim:lbads=9,ms=16 -n 1 -o json
t_eq "id-ns sim:lbads=9,ms=16: ms of LBA format 0" 16 "$(json_field ms "$T_OUT")"
t_capture "$VFN" id-ns sim:lbads=9,ms=16,pi=2,pil=1 -n 1 -H
t_match "id-ns -H: DPS type" "\[2:0\] : 0x2	Protection Information Type" "$T_OUT"
t_match "id-ns -H: DPS first bytes" "\[3:3\] : 0x1	Protection information in the first bytes of metadata$" "$T_OUT"
t_match "id-ns -H: DPC type 3" "\[2:2\] : 0x1	Protection Information Type 3 supported" "$T_OUT"
t_match "id-ns -H: MC separate buffer" "\[1:1\] : 0x1	Metadata in a separate buffer supported" "$T_OUT"
# Raw passthrough stays raw: the Read reaches the controller, which (sim) finds no metadata buffer (MPTR 0).
_err=$("$VFN" io-passthru sim:ms=8 -o 2 -n 1 -l 520 -r 2>&1)
t_eq "io-passthru on a metadata format: sent, the controller's status" "NVMe status: Data Transfer Error (0x4)" "$_err"

for bad in "read sim: -c 65536" "read sim: -c 1x" "read sim: -c -1" "read sim: -s 0x" "read sim:" \
	"read sim: -c 1 --opcode 2" "write sim: -c 1" "io-passthru sim:" "io-passthru sim: -o 256" \
	"admin-passthru sim: -o 6 -r -w" "admin-passthru sim: -o 6 -w -l 8" "admin-passthru sim: -o 6 -l" \
	"flush sim: -n 4294967296" "flush sim: -n 0" "read sim: -c 0 -n 0xffffffff" "flush sim: extra"; do
	# shellcheck disable=SC2086 # the command is split on purpose
	_err=$("$VFN" $bad 2>&1 >/dev/null)
	_rc=$?
	t_eq "vfn $bad: exit status 2" 2 "$_rc"
	t_match "vfn $bad: one usage line" "^vfn: .*; usage: vfn " "$_err"
	t_eq "vfn $bad: one line" 1 "$(printf '%s\n' "$_err" | wc -l)"
done
rm -f "$_tmp".*

# The command log: the last N commands and completions, decoded, on stderr.
_log=$("$VFN" perf sim: -q 2 -t 1 -s 4096 -w randwrite --cmdlog 4 -o json 2>&1 >/dev/null)
t_eq "perf --cmdlog: four entries" 4 "$(printf '%s\n' "$_log" | grep -c '^#[0-9]* SQ 1 cid [0-9]* Write (0x01) nsid 1 .* -> Successful Completion (0x000)')"
# ... and the admin queue's, bring-up to the I/O queue's deletion, after a header.
_adm=$(printf '%s\n' "$_log" | sed -n '/^admin queue command log (SQ 0), oldest first:$/,$p')
t_match "perf --cmdlog: admin log after the I/O log" '^admin queue command log' "$_adm"
t_eq "perf --cmdlog: no I/O entry after the admin header" 0 "$(printf '%s\n' "$_adm" | grep -c '^#[0-9]* SQ 1 ')"
t_match "perf --cmdlog: bring-up Identify first" '^#1 SQ 0 cid 0 Identify \(0x06\) nsid 0 cdw10 0x00000001 .* -> Successful Completion \(0x000\)' "$(printf '%s\n' "$_adm" | sed -n 2p)"
t_match "perf --cmdlog: Set Features Number of Queues" '^#2 SQ 0 cid 1 Set Features \(0x09\) nsid 0 cdw10 0x00000007 ' "$(printf '%s\n' "$_adm" | sed -n 3p)"
t_eq "perf --cmdlog: Create, then Delete I/O queues" "0x05 0x01 0x00 0x04" "$(printf '%s\n' "$_adm" | grep -o ' I/O [A-Za-z]* Queue (0x0[0-9])' | grep -o '0x0[0-9]' | tr '\n' ' ' | sed 's/ $//')"
t_eq "perf --cmdlog: every admin command succeeded" 0 "$(printf '%s\n' "$_adm" | grep '^#' | grep -vc 'Successful Completion (0x000)')"

# vfn list on a fake sysfs tree with VMD domains (5 and 6 digits): the columns stay aligned.
_sys=$(mktemp -d)
for _b in 0000:01:00.0 10000:e1:00.0 100000:00:01.0; do
	mkdir -p "$_sys/bus/pci/devices/$_b" "$_sys/bus/pci/drivers"
	echo 0x010802 >"$_sys/bus/pci/devices/$_b/class"
	echo 0x1b36 >"$_sys/bus/pci/devices/$_b/vendor"
	echo 0x0010 >"$_sys/bus/pci/devices/$_b/device"
done
t_capture env VFN_TEST_SYSFS_ROOT="$_sys" "$FAKESYS" list
t_match "list: the VMD-domain function" '^10000:e1:00\.0 +1b36:0010' "$T_OUT"
t_eq "list: Vendor:Device at one column in every line" 1 \
	"$(printf '%s\n' "$T_OUT" | awk '{ i = index($0, "Vendor:Device"); if (!i) i = index($0, "1b36:0010"); print i }' | sort -u | wc -l)"
# Root-safety: the shipped vfn and libvfn.so read /sys whatever the environment says.
t_capture env VFN_SYSFS_ROOT="$_sys" VFN_TEST_SYSFS_ROOT="$_sys" "$VFN" list
t_eq "list: VFN_SYSFS_ROOT moves nothing in the shipped vfn" 0 "$(printf '%s\n' "$T_OUT" | grep -c '^10000:e1:00\.0')"
rm -rf "$_sys"

# id-ns -H: the guard format of each LBA format (ELBAF PIF, from Identify CNS 05h).
t_capture "$VFN" id-ns sim:lbads=12,ms=16,mset=1,pi=1,pif=2 -n 1 -H
t_match "id-ns -H: PIF of the format in use" "^elbaf  0 : pif:2 \(64b Guard\) sts:0 \(in use\)$" "$T_OUT"
t_match "id-ns -H: PIF of the other format" "^elbaf  1 : pif:0 \(16b Guard\) sts:0$" "$T_OUT"
t_capture "$VFN" id-ns sim:lbads=12,ms=16,mset=1,pi=1,pif=2 -n 1 -o json
t_eq "id-ns -o json: no elbaf lines" 0 "$(printf '%s\n' "$T_OUT" | grep -c elbaf)"

# -r: a reference tag wider than the format's is refused; split pieces wrap the 32-bit tag (type 2, 16-block pieces).
_d=$(mktemp); head -c 20480 /dev/zero > "$_d"
t_capture "$VFN" write sim:lbads=9,ms=8,pi=1 -s 0 -c 0 -z 512 -d "$_d" -p 8 -r 0x100000000
t_eq "write -r 0x100000000 on a 16b Guard format: exit status" 1 "$T_RC"
t_match "write -r 0x100000000: names the 32-bit tag" "does not fit the 32-bit reference tag" "$T_OUT"
t_capture "$VFN" write sim:lbads=9,ms=8,pi=2,mdts=1 -s 0 -c 39 -z 20480 -d "$_d" -p 8 -r 0xfffffff8
t_eq "write -c 39 -r 0xfffffff8 -p 8 across the tag's wrap: exit status" 0 "$T_RC"
rm -f "$_d"

# perf --pi: PRACT writes and PRACT+PRCHK reads on a separate-metadata namespace (a command without
# PRACT would move metadata through MPTR 0 and fail); --verify checks the data came back.
t_capture "$VFN" perf sim:lbads=9,ms=8,pi=1,nsze=4096 --pi -w randrw -q 8 -t 1 --verify -o json
t_eq "perf --pi type 1: exit status" 0 "$T_RC"
t_eq "perf --pi type 1: no error completions" 0 "$(json_field errors "$T_OUT")"
t_eq "perf --pi type 1: no verify errors" 0 "$(json_field verify_errors "$T_OUT")"
t_eq "perf --pi type 1: pi_type" 1 "$(json_field pi_type "$T_OUT")"
t_capture "$VFN" perf sim:lbads=12,ms=16,mset=1,pi=3,pif=2,nsze=4096 --pi -w randrw -q 4 -t 1 --verify -o json
t_eq "perf --pi type 3, 64b guard, extended: no error completions" 0 "$(json_field errors "$T_OUT")"
t_capture "$VFN" perf sim:lbads=9,ms=16,pi=1 --pi -t 1
t_match "perf --pi with metadata beyond the tuple: refused, names why" "needs metadata that is only the 8-byte PI tuple" "$T_OUT"
t_capture "$VFN" perf sim: --pi -t 1
t_match "perf --pi without PI: refused" "needs a namespace formatted with protection information" "$T_OUT"

# pmr write --input: a file over the 64 MiB limit, or a directory, is refused before anything is written
# (it was cut to its first 64 MiB / 0 bytes and written).
T_BIG=$(mktemp)
truncate -s $((64 * 1024 * 1024 + 1)) "$T_BIG"
t_capture "$VFN" pmr write sim: --input "$T_BIG"
t_eq "pmr write --input over 64 MiB: exit status" 1 "$T_RC"
t_match "pmr write --input over 64 MiB: refused, names the limit" "is over the 64 MiB the PMR write takes" "$T_OUT"
rm -f "$T_BIG"
t_capture "$VFN" pmr write sim: --input /
t_match "pmr write --input of a directory: refused, names the cause" "cannot read /: Is a directory" "$T_OUT"

# vfn sriov takes a PF's PCI address only: sim: / a node is named as such, not offered back as a fix.
t_err "sriov sim:" 2 "'sim:' is not a PCI address; .vfn sriov. takes a physical function's" "$VFN" sriov sim:

# A metadata file (-M) that cannot be opened or created is named as -M's, not -d's (rev12).
t_capture "$VFN" write "sim:lbads=9,ms=8,pi=1" -c 0 -z 512 -d /dev/zero -M /nonexistent/md
t_eq "write -M missing file: exit status" 1 "$T_RC"
t_match "write -M missing file: names -M" "cannot open /nonexistent/md: .*; check the path given with -M$" "$T_OUT"
t_capture "$VFN" read "sim:lbads=9,ms=8,pi=1" -c 0 -z 512 -d /dev/null -M /nonexistent/md
t_match "read -M uncreatable file: names -M" "cannot create /nonexistent/md: .*; check the path given with -M$" "$T_OUT"

# Interrupt type (rev14i): VFN_IRQ chooses it; a forced type the controller lacks is one line naming it and AUTO's choice.
t_err "VFN_IRQ=msi on sim:" 1 "^vfn: sim: has no MSI interrupt \(VFN_IRQ=msi\); unset VFN_IRQ or use VFN_IRQ=auto \(it chooses MSI-X here\)$" \
	env VFN_IRQ=msi "$VFN" id-ctrl sim:
t_err "VFN_IRQ=intx on sim:" 1 "has no INTx interrupt \(VFN_IRQ=intx\)" env VFN_IRQ=intx "$VFN" id-ctrl sim:
t_err "VFN_IRQ=bogus" 1 "^vfn: VFN_IRQ='bogus' is not an interrupt type; use auto, msix, msi or intx, or unset it$" \
	env VFN_IRQ=bogus "$VFN" id-ctrl sim:
t_capture env VFN_IRQ=msix "$VFN" id-ctrl sim: -o json
t_eq "VFN_IRQ=msix on sim:: exit status" 0 "$T_RC"
# perf --irq names the type in use; with one vector (sim:vectors=1, as on MSI or INTx) 3 queues share it.
t_capture "$VFN" perf sim:nil=1,vectors=1 -c 3 -q 4 -t 1 --irq -o json
t_eq "perf --irq, 3 queues on 1 vector: exit status" 0 "$T_RC"
t_match "perf --irq, 3 queues on 1 vector: reports IOPS" '"iops": *[1-9]' "$T_OUT"
t_match "perf --irq, 3 queues on 1 vector: no errors" '"errors": *0[,}]' "$(printf '%s' "$T_OUT" | tr -d ' \n')"
t_match "perf --irq: names the interrupt type" '"irq_type": *"MSI-X"' "$T_OUT"
t_capture "$VFN" perf sim:nil=1 -q 4 -t 1 --irq
t_match "perf --irq (normal output): names the interrupt type" "interrupts \(MSI-X\)" "$T_OUT"

t_done
