#!/bin/sh
# Guest suite for the Controller Memory Buffer (docs/cmb.md): QEMU's
# controller with cmb_size_mb=$VFN_TEST_CMB_MB, bound to vfio-pci.  The
# registers as `vfn show-regs` decodes them, then the library (test_vm_cmb),
# then `vfn perf --cmb`.  Prints TAP.
. "$(dirname "$0")/lib.sh"

B=$VFN_BDF
MB=$VFN_TEST_CMB_MB

t_capture vfn show-regs "$B" -o json
t_eq "show-regs: exit status" 0 "$T_RC"
regs=$(printf '%s' "$T_OUT" | tr -d '\n ')
cmbsz=$(printf '%s' "$regs" | sed 's/.*"cmbsz":{\([^}]*\)}.*/\1/')
t_match "show-regs json: cmbsz.sz = cmb_size_mb ($MB)" "\"sz\":$MB(,|\$)" "$cmbsz"
t_match "show-regs json: cmbsz.szu = 2 (1 MiB units)" '"szu":2(,|$)' "$cmbsz"
t_match "show-regs json: cmbsz.sqs = 1" '"sqs":1(,|$)' "$cmbsz"
t_match "show-regs json: cmbloc.bir = 2" '"bir":2(,|$)' "$(printf '%s' "$regs" | sed 's/.*"cmbloc":{\([^}]*\)}.*/\1/')"
t_match "show-regs json: cmbmsc.cre = 1" '"cre":1(,|$)' "$(printf '%s' "$regs" | sed 's/.*"cmbmsc":{\([^}]*\)}.*/\1/')"
t_match "show-regs json: pmrcap present" '"pmrcap":' "$regs"
t_capture vfn show-regs "$B"
t_match "show-regs text: CMB size in bytes" "SZ +: $MB +$MB size units = $((MB * 1048576)) bytes" "$T_OUT"

t_run_cmocka cmb test_vm_cmb

# vfn perf --cmb: the SQs or the data in the CMB, every read of a written
# block checked (--verify); then, with VFN_TEST_MEASURE=1 only (a
# benchmark, not a test: 72 s of runs that assert nothing), host-memory SQ
# vs CMB SQ in this boot, alternated three times (docs/perf.md "CMB").
for m in off sq data; do
	opt=
	[ "$m" = off ] || opt="--cmb $m"
	t_capture vfn perf "$B" -w randrw --verify -q 8 -t 2 $opt -o json
	t_eq "perf --verify cmb=$m: exit status" 0 "$T_RC"
	t_eq "perf --verify cmb=$m: reported" "$m" "$(json_field cmb "$T_OUT")"
	t_eq "perf --verify cmb=$m: no verify error" 0 "$(json_field verify_errors "$T_OUT")"
	v=$(json_field verified_blocks "$T_OUT")
	if [ -n "$v" ] && [ "$v" -gt 0 ]; then
		t_result 0 "perf --verify cmb=$m: $v blocks verified"
	else
		t_result 1 "perf --verify cmb=$m: blocks verified"
		t_diag "$T_OUT"
	fi
done
rounds=
[ "${VFN_TEST_MEASURE:-0}" != 1 ] || rounds="1 2 3"
for round in $rounds; do
	for m in off sq; do
		opt=
		[ "$m" = off ] || opt="--cmb $m"
		for w in randread randwrite; do
			t_capture vfn perf "$B" -w $w -q 1 --poll -t 4 $opt -o json
			t_diag "measure round $round cmb=$m $w qd1: iops $(json_field iops "$T_OUT") p50_ns $(json_field p50 "$T_OUT") rc $T_RC"
		done
		t_capture vfn perf "$B" -w randread -q 16 -t 4 $opt -o json
		t_diag "measure round $round cmb=$m randread qd16: iops $(json_field iops "$T_OUT") rc $T_RC"
	done
done
t_err "perf --cmb bad value" 2 "--cmb must be sq or data" vfn perf "$B" --cmb cq

t_done
