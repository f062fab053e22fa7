#!/bin/sh
# `vfn zns` (tools/cmd-zns.c) on the simulator's zoned namespace: the zone
# geometry in id-ns and report-zones, Zone Append's LBA, zone errors by
# name, and the usage errors.  Each command opens a fresh simulator, so
# state across commands is tested in tests/unit/test_zns.c.
# Usage: test-cli-zns.sh PATH_TO_VFN
. "$(dirname "$0")/../vm/lib.sh"

VFN=$1
S="sim:nsze=1024,lbads=9,zoned=1,zsze=64,zcap=48,mor=2,mar=3"

t_capture "$VFN" zns report-zones "$S" -n 1 -o json
t_eq "report-zones: exit status" 0 "$T_RC"
t_eq "report-zones: nr_zones" 16 "$(json_field nr_zones "$T_OUT")"
t_eq "report-zones: 16 descriptors, capacity 48 each" 16 "$(printf '%s' "$T_OUT" | grep -c '"cap": 48')"
t_match "report-zones: zone 15 starts at 960" '"slba": 960' "$T_OUT"
t_capture "$VFN" zns report-zones "$S" -n 1 -d 2 -p
t_match "report-zones -p: NRZONES counts the descriptors returned" '^nr_zones *: 2$' "$T_OUT"
t_match "report-zones: normal format" '^SLBA: 0x40 *WP: 0x40 *Cap: 0x30 *State: EMPTY' "$T_OUT"

t_capture "$VFN" zns id-ns "$S" -n 1 -o json
t_eq "id-ns: mor (0's based)" 1 "$(json_field mor "$T_OUT")"
t_eq "id-ns: mar (0's based)" 2 "$(json_field mar "$T_OUT")"
t_eq "id-ns: zsze of the format in use" 64 "$(json_field zsze "$T_OUT")"
t_eq "id-ns: zone_capacity (vfn_dev_zns_info)" 48 "$(json_field zone_capacity "$T_OUT")"
t_eq "id-ns: nr_zones (vfn_dev_zns_info)" 16 "$(json_field nr_zones "$T_OUT")"
t_eq "id-ns: max_open as a count" 2 "$(json_field max_open "$T_OUT")"

t_capture "$VFN" zns zone-append "$S" -n 1 -s 0x80 -z 1024 -d /dev/zero -o json
t_eq "zone-append: exit status" 0 "$T_RC"
t_eq "zone-append: LBA assigned = the empty zone's start" 128 "$(json_field alba "$T_OUT")"
t_eq "zone-append: blocks" 2 "$(json_field nlb "$T_OUT")"

t_capture "$VFN" zns zone-open "$S" -n 1 -s 0x40
t_match "zone-open: success line" '^zone-mgmt-send: Success, action:open zone:0x40 all:0 nsid:1$' "$T_OUT"

t_err "zone-close of an empty zone: error by name" 1 "Invalid Zone State Transition \\(status 0x1bf\\)" \
	"$VFN" zns zone-close "$S" -n 1 -s 0
t_err "zone-append beyond the zone capacity: error by name" 1 "Zone Boundary Error \\(status 0x1b8\\)" \
	"$VFN" zns zone-append "$S" -n 1 -s 0 -z 25088 -d /dev/zero
t_err "zone command on a namespace that is not zoned" 1 "is not a zoned namespace here" \
	"$VFN" zns report-zones sim: -n 1
t_err "a bad zone send action" 2 "1-5 .*0x10 .*0x11" "$VFN" zns zone-mgmt-send "$S" -n 1 -z 9
t_err "a zone send action over 0x11" 2 "up to 17" "$VFN" zns zone-mgmt-send "$S" -n 1 -z 0x12
t_err "zone-mgmt-send without an action" 2 "needs a zone send action" "$VFN" zns zone-mgmt-send "$S" -n 1
t_err "an unknown subcommand" 2 "unknown subcommand 'bogus'" "$VFN" zns bogus "$S"
t_err "no namespace" 2 "needs a namespace id" "$VFN" zns report-zones "$S"

# A data file that cannot be read (a directory) is an error, not a zero-filled append.
t_err "zone-append -d of a directory" 1 "cannot read /: Is a directory" "$VFN" zns zone-append "$S" -n 1 -s 0 -z 512 -d /

# ---- descriptor extensions and ZRWA (sim options zdes, zrwasz, zrwafg, numzrwa) ----
X="sim:nsze=1024,lbads=9,zoned=1,zsze=64,mor=2,mar=3,zdes=1,zrwasz=16,zrwafg=4,numzrwa=2"
t_capture "$VFN" zns id-ns "$X" -n 1 -o json
t_eq "id-ns: ozcs RAZB + ZRWASUP" 3 "$(json_field ozcs "$T_OUT")"
t_eq "id-ns: zrwasz" 16 "$(json_field zrwasz "$T_OUT")"
t_eq "id-ns: zrwafg" 4 "$(json_field zrwafg "$T_OUT")"
t_eq "id-ns: numzrwa (0's based)" 1 "$(json_field numzrwa "$T_OUT")"
t_eq "id-ns: zrwacap explicit flush" 1 "$(json_field zrwacap "$T_OUT")"
t_eq "id-ns: zdes" 1 "$(json_field zdes "$T_OUT")"
t_eq "id-ns: zde_size bytes" 64 "$(json_field zde_size "$T_OUT")"
t_eq "id-ns: nr_zrwa" 2 "$(json_field nr_zrwa "$T_OUT")"
t_capture "$VFN" zns report-zones "$X" -n 1 -s 64 -d 1 -p -e -o json
t_eq "report-zones -e: a fresh zone's extension is 64 zero bytes" \
	"$(printf '%0128d' 0)" \
	"$(json_field ext "$T_OUT")"
t_capture "$VFN" zns report-zones "$X" -n 1 -s 64 -d 1 -p -e
t_match "report-zones -e normal format: an Ext line" '^Ext: 0{128}$' "$T_OUT"
t_capture "$VFN" zns set-zone-desc "$X" -n 1 -s 64 -d /dev/zero
t_match "set-zone-desc: nvme-cli's success line" '^set-zone-desc: Success, zone:40 nsid:1$' "$T_OUT"
t_capture "$VFN" zns zone-mgmt-send "$X" -n 1 -s 64 -z 0x10 -d /dev/zero
t_match "zone-mgmt-send -z 0x10: success line" '^zone-mgmt-send: Success, action:set-zone-desc zone:0x40 all:0 nsid:1$' "$T_OUT"
t_capture "$VFN" zns zone-mgmt-send "$X" -n 1 -s 128 -z 3 --zsaso
t_eq "zone-mgmt-send -z 3 --zsaso (nvme-cli's name for ZRWAA): status" 0 "$T_RC"
t_capture "$VFN" zns open-zone "$X" -n 1 -s 128 --zrwaa
t_eq "open-zone --zrwaa (nvme-cli's name): status" 0 "$T_RC"
t_capture "$VFN" zns open-zone "$X" -n 1 -s 128 --zrwa
t_match "open-zone --zrwa: success line" '^zone-mgmt-send: Success, action:open zone:0x80 all:0 nsid:1$' "$T_OUT"
t_err "report-zones -e without extensions" 1 "has no zone descriptor extensions \\(ZDES 0" \
	"$VFN" zns report-zones "$S" -n 1 -e
t_err "set-zone-desc without extensions" 1 "has no zone descriptor extensions" \
	"$VFN" zns set-zone-desc "$S" -n 1 -s 0 -d /dev/zero
t_err "open-zone -r without ZRWA support: error by name" 1 "Invalid Zone Operation Request \\(status 0x1b6\\)" \
	"$VFN" zns open-zone "$S" -n 1 -s 0 -r
t_err "zrwa-flush-zone of a zone without a ZRWA: error by name" 1 "Invalid Field in Command \\(status 0x002\\)" \
	"$VFN" zns zrwa-flush-zone "$X" -n 1 -l 7
t_err "zrwa-flush-zone without -l" 2 "needs the last LBA to flush" "$VFN" zns zrwa-flush-zone "$X" -n 1
t_err "open-zone -r -a" 2 "does not go with -r" "$VFN" zns open-zone "$X" -n 1 -a -r
t_err "close-zone -r" 2 "goes with the open action only" "$VFN" zns close-zone "$X" -n 1 -s 0 -r
t_err "report-zones -e where one extended descriptor is over the transfer limit: an error, not an empty list" 1 \
	"one extended descriptor \\(16448 bytes\\) does not fit in the transfer limit of 8192 bytes" \
	"$VFN" zns report-zones "sim:nsze=1024,lbads=9,zoned=1,zsze=64,zdes=255,mdts=1" -n 1 -e
t_err "sim: zrwasz without zoned=1" 1 "has a bad option" "$VFN" zns id-ns "sim:zrwasz=16" -n 1

t_done
