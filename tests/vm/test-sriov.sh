#!/bin/sh
# Guest suite for SR-IOV (docs/sriov.md) against QEMU 7.2's controller in an
# NVM subsystem with sriov_max_vfs=2, sriov_vq_flexible=4,
# sriov_vi_flexible=2 (max_ioqpairs 64, msix_qsize 65: the defaults), the
# PF on the kernel nvme driver.  vfn reads the primary's capabilities and
# the secondary list (nvme-cli, the host's, is the reference for the same
# fields), assigns 2 VQ + 1 VI to secondary 1 and brings it online, enables
# one VF through sysfs, binds it to vfio-pci and drives it: Identify shows
# secondary 1, data written through the VF reads back through the VF and
# through the PF's kernel block device (the namespace is shared).  The PF
# stays on nvme throughout.  Prints TAP.
. "$(dirname "$0")/lib.sh"

VFN=vfn
NVME=nvme
CTRL=/dev/nvme0
PF=$VFN_BDF
VF=0000:00:01.1 # QEMU: VF offset 1, stride 1

f() { json_field "$1" "$2"; }
flat() { printf '%s' "$1" | tr -d ' \n\t'; }

t_ok "$CTRL exists, PF on nvme" test -e "$CTRL"
t_eq "PF driver" nvme "$(basename "$(readlink /sys/bus/pci/devices/$PF/driver)")"

# ---- capabilities and secondaries, against nvme-cli ------------------------------
ref=$("$NVME" primary-ctrl-caps "$CTRL" -o json 2>&1)
t_capture "$VFN" primary-ctrl-caps "$CTRL" -o json
t_eq "primary-ctrl-caps: exit status" 0 "$T_RC"
caps=$T_OUT
t_eq "primary-ctrl-caps json: vfn = nvme-cli" "$(flat "$ref")" "$(flat "$caps")"
t_eq "crt: VQ and VI" 3 "$(f crt "$caps")"
t_eq "vqfrt = sriov_vq_flexible" 4 "$(f vqfrt "$caps")"
t_eq "vifrt = sriov_vi_flexible" 2 "$(f vifrt "$caps")"
t_eq "vqprt = max_ioqpairs + 1 - sriov_vq_flexible" 61 "$(f vqprt "$caps")"
t_eq "viprt = msix_qsize - sriov_vi_flexible" 63 "$(f viprt "$caps")"
t_eq "vqfrsm = sriov_vq_flexible / sriov_max_vfs" 2 "$(f vqfrsm "$caps")"
t_eq "vifrsm = sriov_vi_flexible / sriov_max_vfs" 1 "$(f vifrsm "$caps")"
t_eq "vqrfa: nothing assigned yet" 0 "$(f vqrfa "$caps")"
t_capture "$VFN" primary-ctrl-caps "$CTRL"
t_match "primary-ctrl-caps normal output" "vqfrt +: 4" "$T_OUT"

ref=$("$NVME" list-secondary "$CTRL" -o json 2>&1)
t_capture "$VFN" list-secondary "$CTRL" -o json
t_eq "list-secondary json: vfn = nvme-cli" "$(flat "$ref")" "$(flat "$T_OUT")"
t_eq "list-secondary: sriov_max_vfs secondaries" 2 "$(f num "$T_OUT")"
t_eq "list-secondary: both offline, no resources" 0,0,0,0,0,0 \
	"$(printf '%s' "$T_OUT" | sed -n 's/.*"\(secondary-controller-state\|num-virtual-queues\|num-virtual-interrupts\)": *\([0-9]*\).*/\2/p' | tr '\n' ',' | sed 's/,$//')"
t_capture "$VFN" list-secondary "$CTRL" -c 2 -o json
t_eq "list-secondary -c 2: from SCID 2 on" 2 "$(f secondary-controller-identifier "$T_OUT")"

# ---- sysfs before ---------------------------------------------------------------
t_capture "$VFN" sriov "$PF" -o json
t_eq "vfn sriov: totalvfs = sriov_max_vfs" 2 "$(f totalvfs "$T_OUT")"
t_eq "vfn sriov: numvfs 0" 0 "$(f numvfs "$T_OUT")"
t_err "vfn sriov --numvfs 3 > totalvfs" 1 "more VFs than sriov_totalvfs \(2\)" "$VFN" sriov "$PF" --numvfs 3

# ---- resources and online --------------------------------------------------------
t_err "online without resources: QEMU refuses" 1 "Virtualization Management failed on $CTRL: .*status" \
	"$VFN" virt-mgmt "$CTRL" --cntlid 1 --rt 0 --act 9
t_capture "$VFN" virt-mgmt "$CTRL" --cntlid 1 --rt 0 --act 8 --nr 2
t_eq "assign 2 VQ to secondary 1: NRM 2" "success, Number of Controller Resources Modified (NRM):0x2" "$T_OUT"
t_capture "$VFN" virt-mgmt "$CTRL" --cntlid 1 --rt 1 --act 8 --nr 1
t_eq "assign 1 VI to secondary 1: NRM 1" "success, Number of Controller Resources Modified (NRM):0x1" "$T_OUT"
t_err "assign more than vqfrsm" 1 "Virtualization Management failed on $CTRL: .*status" \
	"$VFN" virt-mgmt "$CTRL" --cntlid 2 --rt 0 --act 8 --nr 3
# QEMU 7.2 brings a secondary online only once its VF exists (measured: the
# order of its docs, numvfs before online, is required).
t_err "online before the VF exists: QEMU 7.2 refuses" 1 "Virtualization Management failed on $CTRL: .*status" \
	"$VFN" virt-mgmt "$CTRL" --cntlid 1 --rt 0 --act 9

# ---- the VF ---------------------------------------------------------------------
t_ok "no VF yet" test ! -e /sys/bus/pci/devices/$VF
t_capture "$VFN" sriov "$PF" --numvfs 1 -o json
t_eq "vfn sriov --numvfs 1: exit status" 0 "$T_RC"
[ "$T_RC" -eq 0 ] || t_diag "$T_OUT"
t_eq "numvfs 1" 1 "$(f numvfs "$T_OUT")"
t_eq "VF 1 at $VF" "$VF" "$(f bdf "$T_OUT")"
t_ok "VF $VF in sysfs" test -e /sys/bus/pci/devices/$VF/physfn
t_diag "VF driver after enabling: '$(f driver "$T_OUT")'"
t_capture "$VFN" sriov "$PF" --numvfs 1
t_match "vfn sriov normal output" "1 of 2 VFs enabled" "$T_OUT"

t_capture "$VFN" virt-mgmt "$CTRL" --cntlid 1 --rt 0 --act 9
t_eq "online secondary 1: exit status" 0 "$T_RC"
t_capture "$VFN" list-secondary "$CTRL" -o json
sec=$T_OUT
t_eq "secondary 1 online" 1 "$(f secondary-controller-state "$sec")"
t_eq "secondary 1: 2 VQ" 2 "$(f num-virtual-queues "$sec")"
t_eq "secondary 1: 1 VI" 1 "$(f num-virtual-interrupts "$sec")"
ref=$("$NVME" list-secondary "$CTRL" -o json 2>&1)
t_eq "list-secondary after online: vfn = nvme-cli" "$(flat "$ref")" "$(flat "$sec")"
t_capture "$VFN" primary-ctrl-caps "$CTRL" -o json
t_eq "vqrfa: 2 assigned" 2 "$(f vqrfa "$T_OUT")"
t_eq "virfa: 1 assigned" 1 "$(f virfa "$T_OUT")"

t_capture "$VFN" bind "$VF"
t_eq "vfn bind $VF: exit status" 0 "$T_RC"
[ "$T_RC" -eq 0 ] || t_diag "$T_OUT"
t_eq "VF on vfio-pci" vfio-pci "$(basename "$(readlink /sys/bus/pci/devices/$VF/driver)")"
t_eq "PF still on nvme" nvme "$(basename "$(readlink /sys/bus/pci/devices/$PF/driver)")"

t_capture "$VFN" id-ctrl "$VF" -o json
t_eq "VF id-ctrl: exit status" 0 "$T_RC"
t_eq "VF id-ctrl cntlid = secondary 1" 1 "$(f cntlid "$T_OUT")"
t_capture "$VFN" list-ns "$VF" -o json
t_match "VF sees the shared namespace 1" '"nsid": *1' "$T_OUT"

# 8 blocks of a pattern through the VF, read back through the VF and through the PF's block device.
i=0
: >/tmp/pat
while [ $i -lt 64 ]; do printf 'vfn-sriov-VF-%05d-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWX' $i | head -c 64 >>/tmp/pat; i=$((i + 1)); done
t_eq "pattern is 4096 bytes" 4096 "$(wc -c </tmp/pat | tr -d ' ')"
t_capture "$VFN" write "$VF" -n 1 -s 100 -c 7 -d /tmp/pat
t_eq "VF write 8 blocks at LBA 100: exit status" 0 "$T_RC"
[ "$T_RC" -eq 0 ] || t_diag "$T_OUT"
t_capture "$VFN" read "$VF" -n 1 -s 100 -c 7 -d /tmp/back
t_eq "VF read: exit status" 0 "$T_RC"
t_ok "VF read = written" cmp /tmp/pat /tmp/back
t_capture "$VFN" read /dev/nvme0n1 -s 100 -c 7 -d /tmp/back-pf
t_eq "PF (kernel) read of the same blocks: exit status" 0 "$T_RC"
t_ok "PF read = what the VF wrote" cmp /tmp/pat /tmp/back-pf
t_capture "$VFN" id-ctrl "$CTRL" -o json
t_eq "PF still answers on $CTRL: cntlid 0" 0 "$(f cntlid "$T_OUT")"

# ---- back -------------------------------------------------------------------------
t_capture "$VFN" unbind "$VF"
t_diag "vfn unbind $VF: $T_OUT"
t_capture "$VFN" sriov "$PF" --numvfs 0 -o json
t_eq "vfn sriov --numvfs 0" 0 "$(f numvfs "$T_OUT")"
t_ok "VF gone" test ! -e /sys/bus/pci/devices/$VF
t_capture "$VFN" virt-mgmt "$CTRL" --cntlid 1 --rt 0 --act 7
t_eq "offline secondary 1: exit status" 0 "$T_RC"
t_capture "$VFN" list-secondary "$CTRL" -o json
t_eq "secondary 1 offline again" 0 "$(f secondary-controller-state "$T_OUT")"

t_done
