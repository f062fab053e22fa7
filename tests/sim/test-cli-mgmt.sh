#!/bin/sh
# The management commands of the CLI (tools/cmd-mgmt.c) against the
# simulated controller, on the host: logs with nvme-cli's JSON field names
# and the simulator's values, features, format / namespaces / firmware /
# self-test / sanitize with their errors, and the confirmation destructive
# commands need.  Each command opens a fresh simulator, so state across
# commands is tested in tests/unit/test_mgmt.c.  Usage: test-cli-mgmt.sh PATH_TO_VFN
. "$(dirname "$0")/../vm/lib.sh"

VFN=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

t_capture "$VFN" smart-log sim: -o json
t_eq "smart-log: exit status" 0 "$T_RC"
t_eq "smart-log: temperature (K)" 308 "$(json_field temperature "$T_OUT")"
t_eq "smart-log: avail_spare" 100 "$(json_field avail_spare "$T_OUT")"
t_eq "smart-log: power_cycles" 1 "$(json_field power_cycles "$T_OUT")"
t_eq "smart-log: host_write_commands" 0 "$(json_field host_write_commands "$T_OUT")"
t_capture "$VFN" smart-log sim: -H
t_match "smart-log -H: temperature in Celsius" "^temperature *: 35 °C \(308 K\)" "$T_OUT"

t_capture "$VFN" error-log sim: -o json
t_eq "error-log: one entry per ELPE + 1" 4 "$(printf '%s' "$T_OUT" | grep -c '"error_count"')"
t_eq "error-log: phase_tag field" 4 "$(printf '%s' "$T_OUT" | grep -c '"phase_tag"')"

t_capture "$VFN" fw-log sim: -o json
t_eq "fw-log: afi" 1 "$(json_field 'Active Firmware Slot (afi)' "$T_OUT")"
t_match "fw-log: slot 1 revision, spaces as '.' (as nvme-cli)" '"Firmware Rev Slot 1": "2314885530819505713 \(1\.0\.\.\.\.\.\)"' "$T_OUT"

t_capture "$VFN" self-test-log sim: -o json
t_eq "self-test-log: no test running" 0 "$(json_field 'Current Device Self-Test Operation' "$T_OUT")"
t_eq "self-test-log: 20 result slots" 20 "$(printf '%s' "$T_OUT" | grep -c '"Self test result": 15')"

t_capture "$VFN" sanitize-log sim: -o json
t_eq "sanitize-log: sprog" 65535 "$(json_field sprog "$T_OUT")"
t_match "sanitize-log: never sanitized" '"status": "\(0\) NVM Subsystem has never been sanitized' "$T_OUT"

t_capture "$VFN" effects-log sim: -o json
t_match "effects-log: Format NVM changes LBAs, namespaces, inventory" '"ACS_128 \(Format NVM\)": 15' "$T_OUT"
t_match "effects-log: Write changes LBAs" '"IOCS_1 \(Write\)": 3' "$T_OUT"
t_capture "$VFN" changed-ns-list-log sim: -o json
t_eq "changed-ns-list-log: nothing changed yet" "sim:" "$(json_field 'Changed Attached Namespace List Log' "$T_OUT")"

t_capture "$VFN" telemetry-log sim: -o "$T/tele.bin" -g 1
t_match "telemetry-log -g 1: data area 3 to the file" "^Telemetry host-initiated log, data area 3: 3584 bytes to" "$T_OUT"
t_eq "telemetry-log: the file holds it" 3584 "$(wc -c <"$T/tele.bin")"
t_eq "telemetry-log: its first byte is LID 07h" 7 "$(od -An -tu1 -N1 "$T/tele.bin" | tr -d ' ')"
t_eq "telemetry-log: HOSTDGN 1 after -g 1" 1 "$(od -An -tu1 -j381 -N1 "$T/tele.bin" | tr -d ' ')"
t_capture "$VFN" telemetry-log sim: -o "$T/tele.bin" -c -d 1
t_eq "telemetry-log -c -d 1: header and data area 1" 1536 "$(wc -c <"$T/tele.bin")"
t_eq "telemetry-log -c: LID 08h" 8 "$(od -An -tu1 -N1 "$T/tele.bin" | tr -d ' ')"
t_err "telemetry-log without a file" 2 "needs the output file" "$VFN" telemetry-log sim:

t_capture "$VFN" get-feature sim: -f 4 -s 1 -o json
t_eq "get-feature temperature threshold, default" 343 "$(json_field value "$T_OUT")"
t_capture "$VFN" get-feature sim: -f 4 -s 3 -H
t_match "get-feature -s 3 -H: capabilities decoded" "changeable: 1" "$T_OUT"
t_capture "$VFN" get-feature sim: -f 4 -H
t_match "get-feature -H: TMPTH decoded" "Temperature Threshold \(TMPTH\), K: 343 \(0x157\)" "$T_OUT"
t_match "get-feature -H: in Celsius" "= 70 °C" "$T_OUT"
t_capture "$VFN" get-feature sim: -f 7 -H -o json
t_match "get-feature 7 -H json: NSQA (64 granted, 0's based)" '"Number of I/O Submission Queues Allocated \(NSQA\), 0.s based": 63' "$T_OUT"
t_err "set-feature --save on a controller that saves nothing" 1 "Feature Identifier Not Saveable \(status 0x10d\)" \
	"$VFN" set-feature sim: -f 6 -V 0 -s
t_capture "$VFN" set-feature sim: -f 6 -V 0
t_eq "set-feature volatile write cache off" 0 "$T_RC"

t_eq "get-log -b: the raw 512 bytes" 512 "$("$VFN" get-log sim: -i 2 -l 512 -b | wc -c)"
t_eq "get-log -b: byte 3 is avail_spare (100)" 100 "$("$VFN" get-log sim: -i 2 -l 4 -b | od -An -tu1 -j3 -N1 | tr -d ' ')"
t_err "get-log past the end of a 512-byte log" 1 "log page 0x02 is 512 bytes: 4 at offset 512 do not fit" \
	"$VFN" get-log sim: -i 2 -l 4 -L 512

t_err "format off a terminal without --force" 2 "format namespace 1 to LBA format 1: ITS DATA WILL BE LOST; .*add --force" \
	"$VFN" format sim: -n 1 -l 1 </dev/null
t_capture "$VFN" format sim: -n 1 -l 1 --force
t_eq "format --force: exit status" 0 "$T_RC"
t_match "format --force: says so" "^Success formatting namespace:1" "$T_OUT"
t_err "format to a format the controller lacks" 1 "Invalid Format \(status 0x10a\)" "$VFN" format sim: -l 3 --force
# A format with metadata and a PI type (issue 12): -l 0 of 512 + 16, type 2, PI in the first bytes, extended.
t_capture "$VFN" format sim:lbads=9,ms=16 -n 1 -l 0 -i 2 -p 1 -m 1 --force
t_eq "format -l 0 -i 2 -p 1 -m 1 (metadata + PI): exit status" 0 "$T_RC"
t_err "format -i 1 on a format without metadata" 1 "Invalid Format \(status 0x10a\)" "$VFN" format sim:lbads=9,ms=16 -l 1 -i 1 --force
t_err "format -i 1 with the 64b guard and 8 bytes of metadata" 1 "Invalid Format \(status 0x10a\)" "$VFN" format sim:lbads=9,ms=8,pif=2 -l 0 -i 1 --force

t_err "delete-ns off a terminal without --force" 2 "delete namespace 2 and all its data; .*add --force" \
	"$VFN" delete-ns sim:nn=2 -n 2 </dev/null
t_capture "$VFN" delete-ns sim:nn=2 -n 2 --force
t_match "delete-ns --force" "^delete-ns: Success, deleted nsid:2" "$T_OUT"
t_err "create-ns with every block allocated" 1 "Namespace Insufficient Capacity \(status 0x115\)" \
	"$VFN" create-ns sim: -s 100
t_err "attach-ns of an attached namespace" 1 "Namespace Already Attached \(status 0x118\)" "$VFN" attach-ns sim: -n 1
t_capture "$VFN" detach-ns sim: -n 1
t_match "detach-ns" "^detach-ns: Success, nsid:1" "$T_OUT"
t_err "attach-ns to a controller not in the subsystem" 1 "Controller List Invalid \(status 0x11c\)" \
	"$VFN" attach-ns sim: -n 1 -c 2

t_err "delete-ns without -n on a controller" 2 "needs a namespace id \(-n NSID\): sim: is not a namespace node" \
	"$VFN" delete-ns sim: --force

t_capture "$VFN" list-ctrl sim: -o json
t_eq "list-ctrl: num_ctrl" 1 "$(json_field num_ctrl "$T_OUT")"
t_eq "list-ctrl: ctrl_id" 1 "$(json_field ctrl_id "$T_OUT")"
t_capture "$VFN" ns-descs sim: -n 1 -o json
t_match "ns-descs: a UUID" '"uuid": "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"' "$T_OUT"

printf '3.0-cli ' >"$T/fw.bin"
dd if=/dev/zero bs=1024 count=12 2>/dev/null >>"$T/fw.bin"
truncate -s 12288 "$T/fw.bin"
t_capture "$VFN" fw-download sim: -f "$T/fw.bin" -x 4096
t_match "fw-download in 4 KiB pieces" "^Firmware download success" "$T_OUT"
t_err "fw-download of a piece off FWUG" 1 "Invalid Field in Command" "$VFN" fw-download sim: -f "$T/fw.bin" -x 2048
t_err "fw-commit to the read-only slot 1" 1 "Invalid Firmware Slot \(status 0x106\)" "$VFN" fw-commit sim: -s 1 -a 0
t_err "fw-commit with activation off a terminal" 2 "activate the firmware in slot 2 .*add --force" \
	"$VFN" fw-commit sim: -s 2 -a 2 </dev/null
t_err "fw-commit of an empty slot" 1 "Invalid Firmware Image \(status 0x107\)" "$VFN" fw-commit sim: -s 2 -a 2 --force

t_capture "$VFN" device-self-test sim: -s 1
t_match "device-self-test short" "^Short device self-test started" "$T_OUT"
t_err "device-self-test without a code" 2 "needs --self-test-code" "$VFN" device-self-test sim:

t_err "sanitize off a terminal without --force" 2 "EVERY NAMESPACE'S DATA WILL BE LOST; .*add --force" \
	"$VFN" sanitize sim: -a 2 </dev/null
t_capture "$VFN" sanitize sim: -a 2 --force
t_match "sanitize --force" "^Sanitize started \(sanact 2\)" "$T_OUT"

# Security: the sim implements no security protocol; the command and its error reach the user.
t_err "security-recv on the sim" 1 "Security Receive failed on sim:: Invalid Command Opcode" \
	"$VFN" security-recv sim: -p 0 -s 0 -x 64
t_err "security-send on the sim" 1 "Security Send failed on sim:: Invalid Command Opcode" \
	"$VFN" security-send sim: -p 1 -s 1 -f "$T/fw.bin" -t 16
t_err "security-recv without a size" 2 "needs the size to receive" "$VFN" security-recv sim: -p 0

# Persistent Event Log and ANA log, named and keyed as nvme-cli's.
t_capture "$VFN" persistent-event-log sim: -o json
t_eq "persistent-event-log: total_num_of_events" 2 "$(json_field total_num_of_events "$T_OUT")"
t_eq "persistent-event-log: total_log_len" 576 "$(json_field total_log_len "$T_OUT")"
t_eq "persistent-event-log: the first event" "Power-on or Reset" "$(json_field event_type "$T_OUT")"
t_match "persistent-event-log: the second event" '"event_type": "Timestamp Change"' "$T_OUT"
t_capture "$VFN" persistent-event-log sim: -H
t_match "persistent-event-log -H: supported events" "0x03	Timestamp Change" "$T_OUT"
t_match "persistent-event-log: normal output" "Event Type: Power-on or Reset \(0x04\)" "$T_OUT"
t_capture "$VFN" ana-log sim:nn=3 -o json
t_eq "ana-log: ngrps" 1 "$(json_field ngrps "$T_OUT")"
t_eq "ana-log: group 1 optimized" optimized "$(json_field state "$T_OUT")"
t_eq "ana-log: its namespaces" 3 "$(printf '%s' "$T_OUT" | grep -c '"nsid"')"
t_capture "$VFN" ana-log sim:nn=3 -g -o json
t_eq "ana-log -g: no namespace ids" 0 "$(printf '%s' "$T_OUT" | grep -c '"nsid"')"

t_err "an unknown option" 2 "unknown option '--bogus'" "$VFN" smart-log sim: --bogus

t_done
