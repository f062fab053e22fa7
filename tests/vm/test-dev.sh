#!/bin/sh
# Guest suite for the device handle (issue 5), run twice by meson: with the
# controller bound to vfio-pci (test-dev.sh vfio) and to the kernel nvme
# driver (test-dev.sh nvme).  The same checks on each device string: the
# library (test_vm_dev), then the CLI (identify data equal to what QEMU was
# given: VFN_TEST_SERIAL, VFN_TEST_IMG_SIZE / VFN_TEST_LBA_SIZE; `vfn perf`
# for 2 s with IOPS > 0), then the inputs no backend takes, each a one-line
# error.  Prints TAP.
. "$(dirname "$0")/lib.sh"

MODE=${1:-vfio}
B=$VFN_BDF
NSZE=$((VFN_TEST_IMG_SIZE / VFN_TEST_LBA_SIZE))



if [ "$MODE" = nvme ]; then
	DEVS="/dev/nvme0 /dev/ng0n1 /dev/nvme0n1"
	NSDEVS="/dev/ng0n1 /dev/nvme0n1"
else
	DEVS=$B
	NSDEVS=$B
fi

# --- the library ---------------------------------------------------------
i=1
for d in $DEVS; do
	t_run_cmocka "dev $d" test_vm_dev "$d" "$i"
	i=$((i + 1))
done
t_run_cmocka "dev refusals" test_vm_dev

# --- the CLI: identify data agrees on every path --------------------------
for d in $DEVS; do
	t_capture vfn id-ctrl "$d" -o json
	t_eq "id-ctrl $d: exit 0" 0 "$T_RC"
	t_eq "id-ctrl $d: serial" "$VFN_TEST_SERIAL" "$(json_field sn "$T_OUT" | sed 's/ *$//')"
	t_eq "id-ctrl $d: model" "QEMU NVMe Ctrl" "$(json_field mn "$T_OUT" | sed 's/ *$//')"
	t_capture vfn id-ns "$d" -n 1 -o json
	t_eq "id-ns $d: nsze" "$NSZE" "$(json_field nsze "$T_OUT")"
	t_capture vfn list-ns "$d"
	t_match "list-ns $d: namespace 1" '^\[ *0\]:0x1$' "$T_OUT"
done

for d in $NSDEVS; do
	t_capture vfn perf "$d" -t 2 -q 8 -o json
	t_eq "perf $d: exit 0" 0 "$T_RC"
	iops=$(json_field iops "$T_OUT")
	path=$(json_field path "$T_OUT")
	t_ok "perf $d: iops $iops > 0" awk -v v="${iops:-0}" 'BEGIN { exit !(v > 0) }'
	t_diag "perf $d: ${path:-qpair}, $iops IOPS"
done

# --- read, write, flush and passthrough from the CLI (issue 3) -------------
PAT=/tmp/vfn-pat
for d in $NSDEVS; do
	head -c $((8 * VFN_TEST_LBA_SIZE)) /dev/urandom >"$PAT"
	t_capture vfn write "$d" -n 1 -s 8 -c 7 -d "$PAT"
	t_eq "write $d: exit 0" 0 "$T_RC"
	vfn read "$d" -n 1 -s 8 -c 7 | cmp -s - "$PAT"
	t_eq "read $d: the blocks written by another process" 0 "$?"
	t_eq "read $d: 2 MiB, split at the transfer limit" $((2 << 20)) \
		"$(vfn read "$d" -n 1 -c $(((2 << 20) / VFN_TEST_LBA_SIZE - 1)) | wc -c)"
	t_capture vfn flush "$d" -n 1
	t_eq "flush $d: exit 0" 0 "$T_RC"
	t_eq "admin-passthru $d: Identify model" "QEMU NVMe Ctrl" \
		"$(vfn admin-passthru "$d" -o 6 --cdw10=1 -l 4096 -b 2>/dev/null | dd bs=1 skip=24 count=40 2>/dev/null | sed 's/ *$//')"
	t_eq "io-passthru $d: unknown opcode" "NVMe status: Invalid Command Opcode (0x1)" \
		"$(vfn io-passthru "$d" -o 0x7f -n 1 2>&1)"
done
if [ "$MODE" = nvme ]; then
	head -c $((8 * VFN_TEST_LBA_SIZE)) /dev/urandom >"$PAT"
	vfn write /dev/ng0n1 -n 1 -s 16 -c 7 -d - <"$PAT"
	vfn read /dev/nvme0n1 -n 1 -s 16 -c 7 | cmp -s - "$PAT"
	t_eq "read /dev/nvme0n1: what /dev/ng0n1 wrote" 0 "$?"
	t_err "read on a controller node" 1 "controller node" vfn read /dev/nvme0 -n 1 -c 0
fi

if [ "$MODE" = nvme ]; then
	t_capture vfn list
	t_match "list: the controller on nvme, as /dev/nvme0" "$B.*nvme .*/dev/nvme0" "$T_OUT"
	t_err "show-regs on the kernel path" 1 \
		"registers are not reachable through the kernel driver; bind it with \`vfn bind $B\` to use vfio" \
		vfn show-regs /dev/nvme0
	t_err "perf on a controller node" 1 "controller node" vfn perf /dev/nvme0 -t 1
	t_err "the BDF while nvme holds it" 1 "$B is bound to nvme; run \`vfn bind $B\`, or open /dev/nvme0 to go through the kernel driver" vfn id-ctrl "$B"
fi

# --- inputs no backend takes ----------------------------------------------
t_err "/dev/null" 1 "/dev/null is not an NVMe device" vfn id-ctrl /dev/null
t_err "a missing node" 1 "/dev/nvme9 does not exist" vfn id-ctrl /dev/nvme9
t_err "a directory" 1 "/dev is a directory" vfn id-ctrl /dev
ln -sf /dev/null /tmp/vfn-link
t_err "a symbolic link" 1 "/tmp/vfn-link is a symbolic link; give the device node itself ./dev/null.$" \
	vfn id-ctrl /tmp/vfn-link
t_err "sim: with a bad option" 1 "has a bad option" vfn id-ctrl sim:bogus=1
t_err "a BDF with no device" 1 "no PCI device 0000:00:1f.7" vfn id-ctrl 0000:00:1f.7
if [ "$MODE" = vfio ]; then
	echo "$B" >"/sys/bus/pci/devices/$B/driver/unbind"
	t_err "a BDF bound to nothing" 1 "not bound to vfio-pci; run \`vfn bind $B\`" vfn id-ctrl "$B"
	t_err "perf on a BDF bound to nothing" 1 "not bound to vfio-pci" vfn perf "$B" -t 1
fi

# Last, as it changes the binding: what the kernel path wrote, through vfio.
if [ "$MODE" = nvme ]; then
	t_capture vfn bind "$B"
	t_eq "bind $B after the kernel wrote" 0 "$T_RC"
	vfn read "$B" -n 1 -s 16 -c 7 | cmp -s - "$PAT"
	t_eq "read $B: what /dev/ng0n1 wrote" 0 "$?"
fi

t_done
