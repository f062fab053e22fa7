#!/bin/sh
# Guest suite for controller management (docs/mgmt.md) against QEMU's
# controller in an NVM subsystem: namespace 1 attached, namespace 2 detached
# (nvme-ns detached=on).  Booted with the kernel driver bound: first the
# kernel path (/dev/nvme0) with nvme-cli, a client no one here wrote, as the
# reference for the same fields; attach/detach with the rescan visible as
# /dev/nvme0n2; format; what QEMU 7.2 lacks surfaced clearly.  Then `vfn
# bind` and the same over VFIO.  Prints TAP.
. "$(dirname "$0")/lib.sh"

VFN=vfn
NVME=nvme
CTRL=/dev/nvme0

# field KEY JSON, or "" (the first occurrence, flat)
f() { json_field "$1" "$2"; }

# ---- the kernel path, against nvme-cli -------------------------------------------
t_ok "$CTRL exists" test -e "$CTRL"
t_ok "nvme-cli is here" "$NVME" version

ref=$("$NVME" id-ctrl "$CTRL" -o json 2>&1)
t_capture "$VFN" id-ctrl "$CTRL" -o json
for k in mdts cntlid ver oacs frmw lpa elpe nn oncs fna vwc sgls wctemp cctemp; do
	t_eq "id-ctrl $k: vfn = nvme-cli" "$(f "$k" "$ref")" "$(f "$k" "$T_OUT")"
done
# The strings: nvme-cli keeps the spaces that pad them, vfn id-ctrl trims them.
for k in sn mn fr; do
	t_eq "id-ctrl $k: vfn = nvme-cli without the padding" "$(f "$k" "$ref" | sed 's/ *$//')" "$(f "$k" "$T_OUT")"
done
oacs=$(f oacs "$T_OUT")
t_diag "QEMU OACS $oacs"

ref=$("$NVME" smart-log "$CTRL" -o json 2>&1)
ref_temp=$(f temperature "$ref")
t_capture "$VFN" smart-log "$CTRL" -o json
for k in critical_warning temperature avail_spare spare_thresh percent_used \
	endurance_grp_critical_warning_summary power_cycles power_on_hours unsafe_shutdowns media_errors \
	num_err_log_entries warning_temp_time critical_comp_time; do
	t_eq "smart-log $k: vfn = nvme-cli" "$(f "$k" "$ref")" "$(f "$k" "$T_OUT")"
done

ref=$("$NVME" fw-log "$CTRL" -o json 2>&1)
t_capture "$VFN" fw-log "$CTRL" -o json
t_eq "fw-log afi: vfn = nvme-cli" "$(f 'Active Firmware Slot (afi)' "$ref")" "$(f 'Active Firmware Slot (afi)' "$T_OUT")"
t_eq "fw-log slot 1: vfn = nvme-cli" "$(f 'Firmware Rev Slot 1' "$ref")" "$(f 'Firmware Rev Slot 1' "$T_OUT")"
t_match "fw-log: nvme-cli keys it by the node's name, so does vfn" '"nvme0": *\{' "$T_OUT"

ref=$("$NVME" error-log "$CTRL" -o json 2>&1)
t_capture "$VFN" error-log "$CTRL" -o json
t_eq "error-log entries: vfn = nvme-cli" "$(printf '%s' "$ref" | grep -c '"error_count"')" \
	"$(printf '%s' "$T_OUT" | grep -c '"error_count"')"
t_eq "error-log newest error_count: vfn = nvme-cli" "$(f error_count "$ref")" "$(f error_count "$T_OUT")"

# "value:0x0000015b" (nvme-cli prints a zero as "value:0000000000"): the number
fval() { printf '%d' "$(printf '%s\n' "$1" | sed -n 's/.*value:\(0x[0-9a-fA-F]*\|0*\).*/\1/p' | sed 's/^0*$/0/' | head -n 1)"; }
for fid in 4 6 7 8 0xb; do
	ref=$("$NVME" get-feature "$CTRL" -f "$fid" 2>&1)
	got=$("$VFN" get-feature "$CTRL" -f "$fid" 2>&1)
	t_eq "get-feature $fid current: vfn = nvme-cli" "$(fval "$ref")" "$(fval "$got")"
done
ref=$("$NVME" get-feature "$CTRL" -f 4 -s 1 2>&1)
got=$("$VFN" get-feature "$CTRL" -f 4 -s 1 2>&1)
t_eq "get-feature 4 default (SEL 1): vfn = nvme-cli" "$(fval "$ref")" "$(fval "$got")"

# effects-log: the same opcodes and effects (the opcode names are each tool's own)
acs() { printf '%s\n' "$1" | tr ',{}' '\n\n\n' | sed -n 's/.*"\(ACS\|IOCS\)_\([0-9]*\) ([^)]*)": *\([0-9]*\).*/\1_\2=\3/p' | sort | tr '\n' ' '; }
ref=$("$NVME" effects-log "$CTRL" -o json 2>&1)
t_capture "$VFN" effects-log "$CTRL" -o json
# (nvme-cli 2.3, Debian 12's, prints nothing for effects-log -o json on this controller)
if [ -n "$(acs "$ref")" ]; then
	t_eq "effects-log: vfn = nvme-cli (opcode=effects)" "$(acs "$ref")" "$(acs "$T_OUT")"
else
	t_skip "effects-log: vfn = nvme-cli" "nvme-cli printed no effects: $(printf '%s' "$ref" | head -c 200)"
fi
t_match "effects-log: QEMU lists Identify" "ACS_6=" "$(acs "$T_OUT")"

# id-ns and list-ns: every field nvme-cli 2.3 prints, the same key and value.
IDNS_KEYS="nsze ncap nuse nsfeat nlbaf flbas mc dpc dps nmic rescap fpi dlfeat nawun nawupf nacwu nabsn nabo nabspf
noiob nvmcap nsattr nvmsetid npwg npwa npdg npda nows mssrl mcl msrc nulbaf anagrpid endgid eui64 nguid"
# the "lbafs" array, whitespace dropped: [{"ms":0,"ds":9,"rp":0},...]
lbafs() { printf '%s' "$1" | tr -d ' \n\t' | sed -n 's/.*"lbafs":\(\[[^]]*\]\).*/\1/p'; }
# "id-ns <what>" REF VFN: each key and the LBA formats
idns_cmp() {
	for k in $IDNS_KEYS; do
		t_eq "$1 $k: vfn = nvme-cli" "$(f "$k" "$2")" "$(f "$k" "$3")"
	done
	t_match "$1: nvme-cli lists LBA formats" '^\[\{"ms"' "$(lbafs "$2")"
	t_eq "$1 lbafs: vfn = nvme-cli" "$(lbafs "$2")" "$(lbafs "$3")"
}
ref=$("$NVME" id-ns "$CTRL" -n 1 -o json 2>&1)
t_capture "$VFN" id-ns "$CTRL" -n 1 -o json
idns_cmp "id-ns 1" "$ref" "$T_OUT"
ref_ls=$("$NVME" list-ns "$CTRL" -o json 2>&1)
t_capture "$VFN" list-ns "$CTRL" -o json
t_eq "list-ns -o json: vfn = nvme-cli (whitespace aside)" "$(printf '%s' "$ref_ls" | tr -d ' \n\t')" \
	"$(printf '%s' "$T_OUT" | tr -d ' \n\t')"
t_match "list-ns: namespace 1 only" '^\{"nsid_list":\[\{"nsid":1\}\]\}$' "$(printf '%s' "$T_OUT" | tr -d ' \n\t')"

t_capture "$VFN" list-ctrl "$CTRL" -o json
t_eq "list-ctrl: one controller in the subsystem" 1 "$(f num_ctrl "$T_OUT")"

# Persistent event and ANA logs: where QEMU serves them, vfn's fields = nvme-cli's; where it does not,
# both say so and vfn names the status.
for lg in persistent-event-log:total_num_of_events:'Persistent Event' ana-log:ngrps:'Asymmetric Namespace Access'; do
	cmd=${lg%%:*}; rest=${lg#*:}; key=${rest%%:*}; what=${rest#*:}
	ref=$("$NVME" "$cmd" "$CTRL" -o json 2>&1)
	t_capture "$VFN" "$cmd" "$CTRL" -o json
	if [ -n "$(f "$key" "$ref")" ]; then
		t_eq "$cmd $key: vfn = nvme-cli" "$(f "$key" "$ref")" "$(f "$key" "$T_OUT")"
	else
		t_diag "nvme-cli $cmd on QEMU 7.2: $(printf '%s' "$ref" | head -c 200)"
		t_eq "$cmd on QEMU 7.2: exit status 1" 1 "$T_RC"
		t_match "$cmd on QEMU 7.2: the status named" "Get Log Page $what failed on $CTRL: Invalid (Log Page|Field)" "$T_OUT"
	fi
done

# Attach namespace 2: the rescan makes /dev/nvme0n2 appear.
t_ok "namespace 2 starts detached: no /dev/nvme0n2" test ! -e /dev/nvme0n2
t_capture "$VFN" attach-ns "$CTRL" -n 2
t_eq "attach-ns 2 on $CTRL: exit status" 0 "$T_RC"
[ "$T_RC" -eq 0 ] || t_diag "$T_OUT"
i=0
while [ ! -e /dev/nvme0n2 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
t_ok "after attach-ns: /dev/nvme0n2 appeared" test -e /dev/nvme0n2
t_capture "$NVME" list-ns "$CTRL"
t_match "nvme-cli list-ns sees namespace 2" "0x2" "$T_OUT"
t_err "attach-ns of an attached namespace" 1 "Namespace Already Attached \(status 0x118\)" "$VFN" attach-ns "$CTRL" -n 2
t_capture "$VFN" detach-ns "$CTRL" -n 2
t_eq "detach-ns 2: exit status" 0 "$T_RC"
t_capture "$VFN" changed-ns-list-log "$CTRL" -o json
t_diag "changed-ns-list-log after attach/detach (the kernel may have read it first): $(printf '%s' "$T_OUT" | tr -d '\n ')"
i=0
while [ -e /dev/nvme0n2 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
t_ok "after detach-ns: /dev/nvme0n2 gone" test ! -e /dev/nvme0n2

# Format namespace 1 to LBA format 4 (4 KiB): Identify says so, nvme-cli agrees.
t_capture "$VFN" format "$CTRL" -n 1 -l 4 --force
t_eq "format -l 4: exit status" 0 "$T_RC"
[ "$T_RC" -eq 0 ] || t_diag "$T_OUT"
ref=$("$NVME" id-ns "$CTRL" -n 1 -o json 2>&1)
t_eq "after format: nvme-cli id-ns flbas" 4 "$(f flbas "$ref")"
t_capture "$VFN" id-ns "$CTRL" -n 1 -o json
t_eq "after format: vfn id-ns flbas = nvme-cli" "$(f flbas "$ref")" "$(f flbas "$T_OUT")"
t_eq "after format: nsze = nvme-cli" "$(f nsze "$ref")" "$(f nsze "$T_OUT")"
idns_cmp "id-ns 1 after format" "$ref" "$T_OUT"
ref_idns=$ref

# -n from a namespace node, as nvme-cli: ns-descs of /dev/ng0n1 is namespace 1's.
t_eq "ns-descs /dev/ng0n1 = ns-descs -n 1" "$("$VFN" ns-descs "$CTRL" -n 1 -o json 2>&1)" "$("$VFN" ns-descs /dev/ng0n1 -o json 2>&1)"

# What QEMU 7.2 lacks: a clear status, exit 1.
t_err "device-self-test on QEMU 7.2" 1 "Device Self-test failed on $CTRL: Invalid Command Opcode" \
	"$VFN" device-self-test "$CTRL" -s 1
t_err "sanitize on QEMU 7.2" 1 "Sanitize failed on $CTRL: Invalid Command Opcode" \
	"$VFN" sanitize "$CTRL" -a 2 --force
printf 'qemufw01' >/tmp/fw.bin
t_capture "$VFN" fw-download "$CTRL" -f /tmp/fw.bin
t_diag "fw-download on QEMU 7.2: $T_OUT"
t_err "create-ns on QEMU 7.2" 1 "Namespace Management \(create\) failed on $CTRL: Invalid" \
	"$VFN" create-ns "$CTRL" -s 1000

# ---- the same over VFIO ------------------------------------------------------------
t_capture "$VFN" bind "$VFN_BDF"
t_eq "vfn bind: exit status" 0 "$T_RC"
t_capture "$VFN" smart-log "$VFN_BDF" -o json
t_eq "VFIO smart-log temperature = nvme-cli's on the kernel path" "$ref_temp" "$(f temperature "$T_OUT")"
t_match "VFIO smart-log: host_read_commands counted" '^[0-9]+$' "$(f host_read_commands "$T_OUT")"
# id-ns and list-ns over VFIO: the same as nvme-cli on the kernel path.
t_capture "$VFN" id-ns "$VFN_BDF" -n 1 -o json
idns_cmp "VFIO id-ns 1" "$ref_idns" "$T_OUT"
t_capture "$VFN" list-ns "$VFN_BDF" -o json
t_eq "VFIO list-ns -o json = nvme-cli's on the kernel path" "$(printf '%s' "$ref_ls" | tr -d ' \n\t')" \
	"$(printf '%s' "$T_OUT" | tr -d ' \n\t')"
t_capture "$VFN" attach-ns "$VFN_BDF" -n 2
t_eq "VFIO attach-ns 2: exit status" 0 "$T_RC"
t_capture "$VFN" list-ns "$VFN_BDF" -o json
t_eq "VFIO list-ns: namespaces 1 and 2" 2 "$(printf '%s' "$T_OUT" | grep -c '"nsid"')"
t_capture "$VFN" detach-ns "$VFN_BDF" -n 2
t_eq "VFIO detach-ns 2: exit status" 0 "$T_RC"
t_capture "$VFN" format "$VFN_BDF" -n 1 -l 0 --force
t_eq "VFIO format back to LBA format 0: exit status" 0 "$T_RC"
t_capture "$VFN" id-ns "$VFN_BDF" -n 1 -o json
t_eq "VFIO id-ns after format: flbas 0" 0 "$(f flbas "$T_OUT")"
t_capture "$VFN" get-log "$VFN_BDF" -i 2 -l 256 -L 256
t_eq "VFIO get-log of the second half of SMART: exit status" 0 "$T_RC"
t_err "VFIO get-log running past the end of SMART" 1 "log page 0x02 is 512 bytes" "$VFN" get-log "$VFN_BDF" -i 2 -l 512 -L 256
t_capture "$VFN" unbind "$VFN_BDF"

t_done
