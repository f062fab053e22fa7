#!/bin/sh
# The memcheck suite: the CLI on the simulated controller under valgrind's
# memcheck, which must report no error and no definite or indirect leak,
# for each kind of command (identify, registers, I/O split at the transfer
# limit, passthrough, perf with its threads, the refusals and usage errors).
# Skipped when valgrind is not installed.  It is slow (each run is ~20 times
# slower than native), hence a suite of its own that check.sh --full runs.
# Usage: test-cli-memcheck.sh PATH_TO_VFN
. "$(dirname "$0")/../vm/lib.sh"

VFN=$1

if ! command -v valgrind >/dev/null 2>&1; then
	t_skip "memcheck" "valgrind not installed"
	t_done
	exit 0
fi

_tmp=/tmp/vfn-memcheck.$$
head -c 8192 /dev/urandom >"$_tmp.pat"

# memcheck NAME STATUS CMD...: CMD exits STATUS under memcheck, without a memcheck error.
memcheck() {
	_name=$1 _want=$2
	shift 2
	valgrind -q --fair-sched=yes --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect "$VFN" "$@" >/dev/null 2>"$_tmp.vg" <"$_tmp.pat"
	_rc=$?
	if [ "$_rc" -eq "$_want" ]; then t_result 0 "memcheck: $_name"; else
		t_result 1 "memcheck: $_name"
		t_diag "exit status $_rc, expected $_want" "$(cat "$_tmp.vg")"
	fi
}

memcheck "vfn id-ctrl sim:" 0 id-ctrl sim:
memcheck "vfn id-ns sim: -n 1 -o json" 0 id-ns sim: -n 1 -o json
memcheck "vfn id-ns sim: (no -n: usage error)" 2 id-ns sim:
memcheck "vfn list-ns sim:nn=3" 0 list-ns sim:nn=3
memcheck "vfn show-regs sim:" 0 show-regs sim:
memcheck "vfn id-ctrl sim:bogus=1" 1 id-ctrl sim:bogus=1
memcheck "vfn read sim:mdts=1 -c 7 (split)" 0 read sim:mdts=1 -c 7
memcheck "vfn write sim:mdts=1 -c 1 -d - (split)" 0 write sim:mdts=1 -c 1 -d -
memcheck "vfn flush sim:" 0 flush sim:
memcheck "vfn admin-passthru sim: Identify" 0 admin-passthru sim: -o 6 --cdw10=1 -l 4096
memcheck "vfn io-passthru sim: bad opcode" 1 io-passthru sim: -o 0x7f
memcheck "vfn read sim: usage error" 2 read sim: -c 65536
memcheck "vfn read sim:ms=8 (extended LBA: data and metadata)" 0 read sim:ms=8,mset=1 -c 7
memcheck "vfn perf sim:ms=8 (metadata: refused)" 1 perf sim:ms=8 -t 1
memcheck "vfn perf sim:nil=1, 2 queues" 0 perf sim:nil=1 -t 1 -q 4 -c 2 -o json
memcheck "vfn perf sim: --verify" 0 perf sim: -w randrw --verify -t 1 -q 4 -o json
rm -f "$_tmp".*
t_done
