#!/bin/sh
# Guest suite for the Persistent Memory Region (docs/cmb.md): QEMU's
# controller with pmrdev= on a memory-backend-file of $VFN_TEST_PMR_SIZE
# bytes whose first 16 bytes the host set to $VFN_TEST_PMR_HOST.  Run by
# tests/vm/run-pmr.sh, which then checks the host file for what this
# wrote ($VFN_TEST_PMR_PATTERN at offset 4096).  Prints TAP.
. "$(dirname "$0")/lib.sh"

B=$VFN_BDF

t_capture vfn show-regs "$B" -o json
regs=$(printf '%s' "$T_OUT" | tr -d '\n ')
t_match "show-regs json: cap.pmrs = 1" '"pmrs":1(,|$)' "$(printf '%s' "$regs" | sed 's/.*"cap":{\([^}]*\)}.*/\1/')"
pmrcap=$(printf '%s' "$regs" | sed 's/.*"pmrcap":{\([^}]*\)}.*/\1/')
t_match "show-regs json: pmrcap.bir = 4" '"bir":4(,|$)' "$pmrcap"
t_match "show-regs json: pmrcap.rds = 1" '"rds":1(,|$)' "$pmrcap"
t_match "show-regs json: pmrcap.wds = 1" '"wds":1(,|$)' "$pmrcap"
# QEMU 7.2: PMRCAP.CMSS = 1 (PMRMSC writable), PMREBS and PMRSWTP read 0, PMRMSC off until written.
t_match "show-regs json: pmrcap.cmss = 1" '"cmss":1(,|$)' "$pmrcap"
t_match "show-regs json: pmrebs = 0" '"pmrebs":\{"value":0,"pmrszu":0,"rbb":0,"pmrwbz":0\}' "$regs"
t_match "show-regs json: pmrswtp = 0" '"pmrswtp":\{"value":0,"pmrswtu":0,"pmrswtv":0\}' "$regs"
t_match "show-regs json: pmrmsc.cmse = 0" '"pmrmsc":\{"value":0,"cmse":0,"cba":0\}' "$regs"

# What the host put in the backing file before the boot.
t_capture vfn pmr read "$B" --length 16
t_eq "pmr read: the host's bytes at offset 0" "$VFN_TEST_PMR_HOST" "$T_OUT"

t_capture vfn pmr write "$B" --offset 4096 --data "$VFN_TEST_PMR_PATTERN"
t_eq "pmr write --data: exit status" 0 "$T_RC"
t_capture vfn pmr read "$B" --offset 4096 --length ${#VFN_TEST_PMR_PATTERN}
t_eq "pmr read (a new process): the pattern at 4096" "$VFN_TEST_PMR_PATTERN" "$T_OUT"

t_capture vfn show-regs "$B" -o json
t_match "show-regs json: pmrctl.en = 1 after the writes" '"en":1(,|$)' \
	"$(printf '%s' "$T_OUT" | tr -d '\n ' | sed 's/.*"pmrctl":{\([^}]*\)}.*/\1/')"
t_match "show-regs json: pmrsts.nrdy = 0" '"nrdy":0(,|$)' \
	"$(printf '%s' "$T_OUT" | tr -d '\n ' | sed 's/.*"pmrsts":{\([^}]*\)}.*/\1/')"

# 64 KiB of binary through --input, at the end of the PMR.
dd if=/dev/urandom of=/tmp/pmr.in bs=4096 count=16 2>/dev/null
off=$((VFN_TEST_PMR_SIZE - 65536))
t_ok "pmr write --input 64 KiB at $off" vfn pmr write "$B" --offset $off --input /tmp/pmr.in
vfn pmr read "$B" --offset $off --length 65536 >/tmp/pmr.out 2>/dev/null
t_ok "pmr read: the 64 KiB back, byte for byte" cmp /tmp/pmr.in /tmp/pmr.out

t_err "pmr read beyond the PMR" 1 "beyond the persistent memory region" \
	vfn pmr read "$B" --offset $((VFN_TEST_PMR_SIZE - 8)) --length 16
t_err "pmr write without data" 2 "needs one of --data or --input" vfn pmr write "$B"

t_done
