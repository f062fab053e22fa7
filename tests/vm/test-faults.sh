#!/bin/sh
# SPDX-License-Identifier: MIT
# Guest suite: faults from the real kernel, each with a clear error and
# nothing left behind (a normal `vfn id-ctrl` works after each).
# On type1 (VFN_TEST_IOMMU unset or "type1", Debian's kernel, booted with
# vfio_iommu_type1 dma_entry_limit=1: tests/vm/meson.build):
#   DMA mappings run out     -ENOSPC from the library, one line from the CLI
#   group held elsewhere     -EBUSY, "IOMMU group N is in use by another process"
#   /dev/vfio not permitted  -EACCES, "no permission to open /dev/vfio/N"
#   iommufd forced           -ENXIO, "has no VFIO device cdev"
# On iommufd (VFN_TEST_IOMMU=iommufd, the kernel of scripts/kernel.sh):
#   no /dev/iommu            automatic falls back to type1; forced: -ENOENT
#   no cdev node             -ENOENT, "no /dev/vfio/devices/vfioN"
#   device held elsewhere    -EBUSY, through the cdev and through the group
#   cdev not permitted       -EACCES, "permission denied on /dev/vfio/devices/vfioN"
# Prints TAP.
. "$(dirname "$0")/lib.sh"

B=$VFN_BDF
LIMIT=/sys/module/vfio_iommu_type1/parameters/dma_entry_limit
GROUP=$(basename "$(readlink "/sys/bus/pci/devices/$B/iommu_group")")
NOBODY=65534


# healthy NAME: the controller still opens and answers.
healthy() {
	t_capture vfn id-ctrl "$B" -o json
	t_eq "$1: then id-ctrl works" 0 "$T_RC"
	t_match "$1: and reads the serial" "\"sn\": *\"$VFN_SERIAL" "$T_OUT"
}

if [ "${VFN_TEST_IOMMU:-type1}" = iommufd ]; then
	. "$(dirname "$0")/test-faults-iommufd.sh"
	t_done
	exit
fi

# --- (a) the kernel's DMA mapping limit --------------------------------
t_eq "dma limit: booted with dma_entry_limit=1" 1 "$(cat "$LIMIT")"
t_eq "dma limit 1: vfn_nvme_ctrl_open gives -ENOSPC" -ENOSPC "$(vm_faults open-ctrl "$B")"
t_err "dma limit 1: id-ctrl" 1 "no DMA mapping left to open $B .*dma_entry_limit" vfn id-ctrl "$B"
# The limit is read when a container is set up, so a new process sees this.
echo 16 >"$LIMIT"
t_eq "dma limit 16: vfn_dma_alloc and vfn_iommu_map give -ENOSPC, and a free gives the mappings back" \
	"allocated=16 alloc=-ENOSPC map=-ENOSPC again=16" "$(vm_faults dma-exhaust "$B" 64)"
echo 65535 >"$LIMIT"
healthy "dma limit"

# --- (b) the IOMMU group held by another process -----------------------
rm -f /tmp/held
vm_faults hold "$B" /tmp/held &
holder=$!
i=0
while [ ! -e /tmp/held ] && [ $i -lt 100 ] && kill -0 $holder 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
t_ok "busy: another process holds group $GROUP" test -e /tmp/held
t_eq "busy: vfn_vfio_open gives -EBUSY" -EBUSY "$(vm_faults open-vfio "$B")"
t_eq "busy: vfn_nvme_ctrl_open gives -EBUSY" -EBUSY "$(vm_faults open-ctrl "$B")"
t_err "busy: id-ctrl" 1 "IOMMU group $GROUP is in use by another process" vfn id-ctrl "$B"
kill $holder
wait $holder 2>/dev/null
healthy "busy"

# --- (c) no permission on /dev/vfio ------------------------------------
t_match "no permission: /dev/vfio/$GROUP is root's alone" "^crw-------" "$(ls -l "/dev/vfio/$GROUP")"
t_eq "no permission: vfn_vfio_open gives -EACCES" -EACCES "$(vm_faults as $NOBODY vm_faults open-vfio "$B")"
t_eq "no permission: vfn_nvme_ctrl_open gives -EACCES" -EACCES "$(vm_faults as $NOBODY vm_faults open-ctrl "$B")"
t_err "no permission: id-ctrl" 1 "no permission to open /dev/vfio/$GROUP for $B" \
	vm_faults as $NOBODY vfn id-ctrl "$B"
healthy "no permission"

# --- (d) iommufd asked for on a kernel without the device cdev ---------
t_eq "no cdev: vfn_vfio_open gives -ENXIO" -ENXIO "$(VFN_IOMMU=iommufd vm_faults open-vfio "$B")"
t_err "no cdev: id-ctrl" 1 "$B has no VFIO device cdev .*use VFN_IOMMU=type1" \
	env VFN_IOMMU=iommufd vfn id-ctrl "$B"
healthy "no cdev"

t_done
