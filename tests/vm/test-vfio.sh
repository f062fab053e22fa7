#!/bin/sh
# Guest suite: the controller at $VFN_BDF bound to vfio-pci, driven by vfn.
# The host passes what QEMU was configured with: VFN_TEST_SERIAL,
# VFN_TEST_IMG_SIZE, VFN_TEST_LBA_SIZE.  Prints TAP.
. "$(dirname "$0")/lib.sh"

B=$VFN_BDF
NSZE=$((VFN_TEST_IMG_SIZE / VFN_TEST_LBA_SIZE))



# --- the library, through a cmocka test ---------------------------------
t_run_cmocka ctrl test_vm_ctrl

# --- the CLI on a healthy controller ------------------------------------
t_capture vfn list
t_match "list: shows the controller on vfio-pci" "$B.*1b36.*vfio-pci" "$T_OUT"

t_capture vfn list -o json
t_match "list -o json: names the driver" "\"driver\": *\"vfio-pci\"" "$T_OUT"

t_capture vfn id-ctrl "$B" -o json
t_eq "id-ctrl: exit status" 0 "$T_RC"
t_eq "id-ctrl: serial number" "$VFN_TEST_SERIAL" "$(json_field sn "$T_OUT")"
t_eq "id-ctrl: model" "QEMU NVMe Ctrl" "$(json_field mn "$T_OUT")"
t_eq "id-ctrl: vendor" 6966 "$(json_field vid "$T_OUT")"
t_eq "id-ctrl: namespaces" 256 "$(json_field nn "$T_OUT")"

t_capture vfn id-ctrl "$B"
t_match "id-ctrl: normal output has the model" "^mn +: QEMU NVMe Ctrl" "$T_OUT"
t_match "id-ctrl: normal output has vid in hex" "^vid +: 0x1b36" "$T_OUT"

t_capture vfn id-ns "$B" -n 1 -o json
t_eq "id-ns: exit status" 0 "$T_RC"
t_eq "id-ns: nsze from the image size" "$NSZE" "$(json_field nsze "$T_OUT")"
t_eq "id-ns: ncap" "$NSZE" "$(json_field ncap "$T_OUT")"

t_capture vfn id-ns "$B" -n 1
lbads=0
while [ $((1 << lbads)) -lt "$VFN_TEST_LBA_SIZE" ]; do lbads=$((lbads + 1)); done
t_match "id-ns: LBA format in use has the configured size" "lbads:$lbads .*in use" "$T_OUT"

t_capture vfn list-ns "$B" -o json
t_match "list-ns: namespace 1 only" '^\{ *"nsid_list": *\[ *\{ *"nsid": *1 *\} *\] *\}$' "$(printf '%s' "$T_OUT" | tr -d '\n')"

t_capture vfn show-regs "$B" -o json
t_eq "show-regs: exit status" 0 "$T_RC"
t_match "show-regs: CC.EN=1 while open" '"en": *1' "$(printf '%s' "$T_OUT" | tr -d '\n' | sed 's/.*"cc"//')"
t_match "show-regs: CSTS.RDY=1 while open" '"rdy": *1' "$(printf '%s' "$T_OUT" | tr -d '\n' | sed 's/.*"csts"//')"

t_capture vfn show-regs "$B"
t_match "show-regs: version 1.4" "1\.4\.0" "$T_OUT"

# --- bad input: one clear line, exit status 1, no crash or hang ----------
t_err "malformed BDF" 2 "not a PCI address" vfn id-ctrl zz:00.0
t_err "malformed BDF (function 8)" 2 "not a PCI address" vfn id-ctrl 0000:00:01.8
t_err "nonexistent BDF" 1 "no PCI device 0000:00:1f\.7.*vfn list" vfn id-ctrl 0000:00:1f.7
t_err "host bridge is not NVMe" 1 "0000:00:00\.0 is not an NVMe controller" vfn id-ctrl 0000:00:00.0
t_err "SATA controller is not NVMe" 1 "0000:00:1f\.2 is not an NVMe controller \(class 0x0106" vfn id-ctrl 0000:00:1f.2
t_err "namespace that does not exist" 1 "namespace 7 does not exist" vfn id-ns "$B" -n 7
t_err "namespace id out of range" 2 "not a valid namespace id" vfn id-ns "$B" -n 4294967296
t_err "namespace id not a number" 2 "not a valid namespace id" vfn id-ns "$B" -n one
t_fail "unknown command exits non-zero" vfn frobnicate
t_fail "unknown output format exits non-zero" vfn id-ctrl "$B" -o yaml

# --- vfn perf: short runs (polled, interrupts, mixed on 2 queues), bad input
# perf_check NAME ARGS...: a run that reports I/O, all of it completed, no errors.
perf_check() {
	_n=$1
	shift
	t_capture vfn perf "$B" -t 2 -o json "$@"
	t_eq "perf $_n: exit status" 0 "$T_RC"
	t_match "perf $_n: iops > 0" '^[1-9][0-9]*(\.[0-9]+)?$' "$(json_field iops "$T_OUT")"
	t_eq "perf $_n: completions == submissions" "$(json_field submissions "$T_OUT")" "$(json_field completions "$T_OUT")"
	t_eq "perf $_n: no errors" 0 "$(json_field errors "$T_OUT")"
}
perf_check "QD4" -q 4 -s 4096 -w randread
# The default (auto) is off against QEMU's emulated controller (1b36:0010, docs/perf.md).
t_eq "perf QD4: shadow doorbells off on QEMU's controller" off "$(json_field shadow_doorbells "$T_OUT")"
perf_check "shadow doorbells on" -q 4 --shadow-doorbells on
t_eq "perf --shadow-doorbells on: on" on "$(json_field shadow_doorbells "$T_OUT")"
t_eq "perf QD4: polled on QEMU's controller" poll "$(json_field mode "$T_OUT")"
# Polled by default at every depth (docs/perf.md); --irq waits on the queue's eventfd.
perf_check "QD32" -q 32
t_eq "perf QD32: polled by default" poll "$(json_field mode "$T_OUT")"
perf_check "QD32 --irq" -q 32 --irq
t_eq "perf QD32 --irq: interrupts" irq "$(json_field mode "$T_OUT")"
perf_check "irq" -q 4 --irq
perf_check "randrw on 2 queues" -q 8 -c 2 -w randrw -M 70
perf_check "no shadow doorbells" -q 4 --no-shadow-doorbells
t_eq "perf no shadow doorbells: off" off "$(json_field shadow_doorbells "$T_OUT")"
perf_check "data pointer per command" -q 4 -s 4096 --map-per-io
# Every write stamped, every read of a written block checked (2 queues share the slots).
perf_check "verify" -q 8 -c 2 -w randrw --verify
t_eq "perf verify: no mismatch" 0 "$(json_field verify_errors "$T_OUT")"
t_match "perf verify: blocks checked" '^[1-9][0-9]*$' "$(json_field verified_blocks "$T_OUT")"
t_eq "perf verify: the whole namespace" "$NSZE" "$(json_field verify_slots "$T_OUT")"
t_err "perf: queue depth 0" 2 "queue depth \(-q\) must be" vfn perf "$B" -q 0
t_err "perf: queue depth not a number" 2 "queue depth \(-q\) must be" vfn perf "$B" -q many
t_err "perf: block size not a number" 2 "block size \(-s\) must be" vfn perf "$B" -s 4k
t_err "perf: unknown workload" 2 "unknown workload \(-w\)" vfn perf "$B" -w randomread
t_err "perf: no device" 2 "perf needs a device" vfn perf -q 1
t_err "perf: block size not a multiple of the LBA size" 1 "not a multiple of the 4096-byte LBA size" vfn perf "$B" -s 512 -t 1

# --- hand the controller to the kernel driver and back -------------------
t_ok "unbind: back to nvme" vfn unbind "$B"
t_eq "unbind: driver is nvme" nvme "$(basename "$(readlink /sys/bus/pci/devices/$B/driver)")"
t_err "bound to nvme" 1 "$B is bound to nvme; run \`vfn bind $B\`" vfn id-ctrl "$B"
# --verify on the kernel driver's queues: io_uring passthrough and the ioctl.
_i=0
while { [ ! -e /dev/ng0n1 ] || [ ! -e /dev/nvme0n1 ]; } && [ "$_i" -lt 10 ]; do
	sleep 1
	_i=$((_i + 1))
done
for d in /dev/ng0n1 /dev/nvme0n1; do
	t_capture vfn perf "$d" -t 1 -q 4 -c 2 -w randrw --verify -o json
	t_eq "perf $d verify: exit status" 0 "$T_RC"
	t_eq "perf $d verify: no mismatch" 0 "$(json_field verify_errors "$T_OUT")"
	t_match "perf $d verify: blocks checked" '^[1-9][0-9]*$' "$(json_field verified_blocks "$T_OUT")"
done
t_ok "bind: to vfio-pci" vfn bind "$B"
t_eq "bind: driver is vfio-pci" vfio-pci "$(basename "$(readlink /sys/bus/pci/devices/$B/driver)")"
t_capture vfn id-ctrl "$B" -o json
t_eq "id-ctrl works again after bind" "$VFN_TEST_SERIAL" "$(json_field sn "$T_OUT")"

t_done
