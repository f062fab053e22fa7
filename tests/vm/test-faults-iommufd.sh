# SPDX-License-Identifier: MIT
# shellcheck shell=sh
# The iommufd half of tests/vm/test-faults.sh (sourced by it; B, GROUP,
# NOBODY and healthy() come from there).

VFIO_DEV=$(basename "$(ls -d "/sys/bus/pci/devices/$B"/vfio-dev/vfio*)")
CDEV=/dev/vfio/devices/$VFIO_DEV

# remake_node NODE SYSFS-DEV-FILE: a character device node again, root's alone.
remake_node() {
	_mm=$(cat "$2")
	mknod -m 0600 "$1" c "${_mm%%:*}" "${_mm##*:}"
}

# --- (a) no /dev/iommu: automatic falls back to type1, forced fails ----
t_capture vfn -v id-ctrl "$B"
t_match "iommufd: chosen automatically" "opened through VFIO \(cdev, iommufd\)" "$T_OUT"
rm /dev/iommu
t_capture vfn -v id-ctrl "$B"
t_match "no /dev/iommu: automatic falls back to the group on the compat container" \
	"opened through VFIO \(group, type1 \(iommufd compat\)\)" "$T_OUT"
t_eq "no /dev/iommu: forced iommufd, vfn_vfio_open gives -ENOENT" -ENOENT \
	"$(VFN_IOMMU=iommufd vm_faults open-vfio "$B")"
t_err "no /dev/iommu: id-ctrl" 1 "iommufd is not loaded \(no /dev/iommu\); run .modprobe iommufd., or use VFN_IOMMU=type1" \
	env VFN_IOMMU=iommufd vfn id-ctrl "$B"
remake_node /dev/iommu /sys/class/misc/iommu/dev
healthy "no /dev/iommu"

# --- (b) no node for the cdev ------------------------------------------
rm "$CDEV"
t_eq "no cdev node: vfn_vfio_open gives -ENOENT" -ENOENT "$(vm_faults open-vfio "$B")"
t_err "no cdev node: id-ctrl" 1 "no $CDEV for $B; mount devtmpfs on /dev" vfn id-ctrl "$B"
remake_node "$CDEV" "/sys/bus/pci/devices/$B/vfio-dev/$VFIO_DEV/dev"
healthy "no cdev node"

# --- (c) the device held by another process ----------------------------
rm -f /tmp/held
vm_faults hold "$B" /tmp/held &
holder=$!
i=0
while [ ! -e /tmp/held ] && [ $i -lt 100 ] && kill -0 $holder 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
t_ok "busy: another process holds $CDEV" test -e /tmp/held
t_eq "busy: vfn_vfio_open gives -EBUSY" -EBUSY "$(vm_faults open-vfio "$B")"
t_eq "busy: vfn_nvme_ctrl_open gives -EBUSY" -EBUSY "$(vm_faults open-ctrl "$B")"
t_err "busy: id-ctrl" 1 "$B is in use by another process \(through $CDEV or its IOMMU group\)" vfn id-ctrl "$B"
t_eq "busy: through the group, vfn_vfio_open gives -EBUSY" -EBUSY \
	"$(VFN_IOMMU=type1 vm_faults open-vfio "$B")"
t_err "busy: through the group, id-ctrl" 1 "IOMMU group $GROUP is in use by another process" \
	env VFN_IOMMU=type1 vfn id-ctrl "$B"
kill $holder
wait $holder 2>/dev/null
healthy "busy"

# --- (d) no permission on the cdev -------------------------------------
t_match "no permission: $CDEV is root's alone" "^crw-------" "$(ls -l "$CDEV")"
t_eq "no permission: vfn_vfio_open gives -EACCES" -EACCES "$(vm_faults as "$NOBODY" vm_faults open-vfio "$B")"
t_eq "no permission: vfn_nvme_ctrl_open gives -EACCES" -EACCES "$(vm_faults as "$NOBODY" vm_faults open-ctrl "$B")"
t_err "no permission: id-ctrl" 1 "permission denied on $CDEV \(or /dev/iommu\) for $B; run as root" \
	vm_faults as "$NOBODY" vfn id-ctrl "$B"
healthy "no permission"
