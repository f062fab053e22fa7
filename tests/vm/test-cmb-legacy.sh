#!/bin/sh
# Guest suite for QEMU 7.2's legacy-cmb=on (docs/cmb.md): the controller
# with cmb_size_mb=$VFN_TEST_CMB_MB,legacy-cmb=on keeps CAP.CMBS = 1 (so
# vfn still programs CMBMSC) but has CMBLOC/CMBSZ set from reset and takes
# CMB addresses at the BAR's address whatever CBA says.  SQs and data in
# the CMB are checked by `vfn perf --verify`.  Prints TAP.
. "$(dirname "$0")/lib.sh"

B=$VFN_BDF
MB=$VFN_TEST_CMB_MB

t_capture vfn show-regs "$B" -o json
t_eq "show-regs: exit status" 0 "$T_RC"
regs=$(printf '%s' "$T_OUT" | tr -d '\n ')
t_match "show-regs json: cap.cmbs = 1 (QEMU 7.2 sets it with legacy-cmb=on too)" '"cmbs":1(,|$)' \
	"$(printf '%s' "$regs" | sed 's/.*"cap":{\([^}]*\)}.*/\1/')"
cmbsz=$(printf '%s' "$regs" | sed 's/.*"cmbsz":{\([^}]*\)}.*/\1/')
t_match "show-regs json: cmbsz.sz = cmb_size_mb ($MB)" "\"sz\":$MB(,|\$)" "$cmbsz"
t_match "show-regs json: cmbsz.szu = 2 (1 MiB units)" '"szu":2(,|$)' "$cmbsz"
t_match "show-regs json: cmbsz.sqs = 1" '"sqs":1(,|$)' "$cmbsz"
t_match "show-regs json: cmbloc.bir = 2" '"bir":2(,|$)' "$(printf '%s' "$regs" | sed 's/.*"cmbloc":{\([^}]*\)}.*/\1/')"
t_match "show-regs json: cmbmsc.cmse = 0 before any use" '"cmbmsc":\{"value":1,"cre":1,"cmse":0,' "$regs"

for m in sq data; do
	t_capture vfn perf "$B" -w randrw --verify -q 8 -t 2 --cmb $m -o json
	t_eq "perf --verify --cmb $m (legacy): exit status" 0 "$T_RC"
	t_eq "perf --verify --cmb $m (legacy): reported" "$m" "$(json_field cmb "$T_OUT")"
	t_eq "perf --verify --cmb $m (legacy): no verify error" 0 "$(json_field verify_errors "$T_OUT")"
	v=$(json_field verified_blocks "$T_OUT")
	if [ -n "$v" ] && [ "$v" -gt 0 ]; then
		t_result 0 "perf --verify --cmb $m (legacy): $v blocks verified"
	else
		t_result 1 "perf --verify --cmb $m (legacy): blocks verified"
		t_diag "$T_OUT"
	fi
done

t_capture vfn show-regs "$B" -o json
regs=$(printf '%s' "$T_OUT" | tr -d '\n ')
t_match "show-regs json: cmbmsc.cmse = 1 after the CMB was used" '"cmbmsc":\{"value":[0-9]+,"cre":1,"cmse":1,' "$regs"
t_match "show-regs json: cmbsts.cbai = 0" '"cmbsts":\{"value":0,"cbai":0\}' "$regs"
# CBA is BAR2's bus address (sysfs resource line 3), the address QEMU uses.
bar2=$(sed -n 3p "/sys/bus/pci/devices/$B/resource" | cut -d' ' -f1)
msc=$(printf '%s' "$regs" | sed 's/.*"cmbmsc":{"value":\([0-9]*\),.*/\1/')
t_eq "cmbmsc.cba = BAR2's address ($bar2)" "$((bar2))" "$((msc & ~4095))"

t_done
