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

t_done
