#!/bin/sh
# The CLI against the simulated controller, on the host: identify data must
# match the options in the device string; bad options give one clear line.
# With valgrind installed, each command also runs under memcheck and must
# report no error and no leak.  Usage: test-cli-sim.sh PATH_TO_VFN
. "$(dirname "$0")/../vm/lib.sh"

VFN=$1

json_field() {
	printf '%s\n' "$2" | tr ',{}' '\n\n\n' | sed -n "s/^ *\"$1\": *\"\{0,1\}\([^\"]*\)\"\{0,1\} *$/\1/p" | head -n 1
}

t_capture "$VFN" id-ctrl sim:sn=vfnsim42,nn=4,mdts=6 -o json
t_eq "id-ctrl sim: exit status" 0 "$T_RC"
t_eq "id-ctrl sim: serial from sn=" vfnsim42 "$(json_field sn "$T_OUT")"
t_eq "id-ctrl sim: namespaces from nn=" 4 "$(json_field nn "$T_OUT")"
t_eq "id-ctrl sim: mdts from mdts=" 6 "$(json_field mdts "$T_OUT")"
t_eq "id-ctrl sim: model" "vfn simulated controller" "$(json_field mn "$T_OUT")"

t_capture "$VFN" id-ns sim:nsze=2048,lbads=12 -n 1 -o json
t_eq "id-ns sim: nsze from nsze=" 2048 "$(json_field nsze "$T_OUT")"
t_capture "$VFN" id-ns sim:nsze=2048,lbads=12 -n 1
t_match "id-ns sim: LBA size from lbads=" "lbads:12 .*in use" "$T_OUT"

t_capture "$VFN" list-ns sim:nn=4 -o json
t_eq "list-ns sim: four namespaces" 4 "$(printf '%s' "$T_OUT" | grep -c '"nsid"')"

t_capture "$VFN" show-regs sim: -o json
t_match "show-regs sim: CC.EN=1" '"en": *1' "$(printf '%s' "$T_OUT" | tr -d '\n' | sed 's/.*"cc"//')"

t_capture "$VFN" perf sim:nil=1 -q 4 -t 1 -s 4096 -w randread -o json
t_eq "perf sim: exit status" 0 "$T_RC"
t_match "perf sim: reports IOPS" '"iops": *[1-9]' "$T_OUT"

_err=$("$VFN" id-ctrl sim:bogus=1 2>&1 >/dev/null)
t_eq "bad sim option: exit status" 1 "$?"
t_match "bad sim option: one line naming the fix" "^vfn: 'sim:bogus=1' has a bad option; see docs/sim.md" "$_err"
t_eq "bad sim option: one line" 1 "$(printf '%s\n' "$_err" | wc -l)"

_err=$("$VFN" bind sim: 2>&1 >/dev/null)
t_match "bind sim: refused" "simulated controller" "$_err"

if command -v valgrind >/dev/null 2>&1; then
	for cmd in "id-ctrl sim:" "id-ns sim: -n 1 -o json" "list-ns sim:nn=3" "show-regs sim:" "id-ctrl sim:bogus=1"; do
		# shellcheck disable=SC2086 # the command is split on purpose
		valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
			--show-leak-kinds=definite,indirect "$VFN" $cmd >/dev/null 2>/tmp/vfn-vg.$$
		_rc=$?
		if [ "$_rc" -ne 99 ]; then t_result 0 "memcheck: vfn $cmd"; else
			t_result 1 "memcheck: vfn $cmd"; t_diag "$(cat /tmp/vfn-vg.$$)"; fi
	done
	rm -f /tmp/vfn-vg.$$
else
	t_skip "memcheck" "valgrind not installed"
fi

t_done
