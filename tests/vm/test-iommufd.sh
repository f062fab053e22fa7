#!/bin/sh
# SPDX-License-Identifier: MIT
# Guest suite: the IOMMU backends (iommufd + VFIO device cdev, type1, the
# iommufd compat container), on the kernel the host booted: VFN_TEST_KERNEL
# "built" (scripts/kernel.sh) or "debian".  A second controller
# ($VFN_TEST_BDF2, serial $VFN_TEST_SERIAL2) shares the address space.
# Prints TAP.
. "$(dirname "$0")/lib.sh"

B=$VFN_BDF

t_run_cmocka iommufd test_vm_iommufd

if [ "$VFN_TEST_KERNEL" = built ]; then
	cdev=/dev/vfio/devices/$(basename "$(ls -d "/sys/bus/pci/devices/$B"/vfio-dev/vfio*)")
	t_ok "the cdev node exists" test -c "$cdev"
	t_capture vfn list
	t_match "list: shows the cdev node" "$B.*vfio-pci.*$cdev" "$T_OUT"
	t_capture vfn list -o json
	t_match "list -o json: dev is the cdev node" "\"dev\": *\"$cdev\"" "$T_OUT"
	t_capture vfn -v id-ctrl "$B"
	t_match "vfn -v: names the cdev path and iommufd" "opened through VFIO \(cdev, iommufd\)" "$T_OUT"
	t_capture env VFN_IOMMU=type1 vfn -v id-ctrl "$B"
	t_match "VFN_IOMMU=type1: the group path on the compat container" \
		"opened through VFIO \(group, type1 \(iommufd compat\)\)" "$T_OUT"
	t_capture env VFN_IOMMU=iommufd vfn perf "$B" -t 1 -q 4
	t_match "perf names its backend: iommufd" "^iommu +: iommufd$" "$T_OUT"
	t_capture env VFN_IOMMU=type1 vfn perf "$B" -t 1 -q 4 -o json
	t_eq "perf -o json names its backend: the compat container" "type1 (iommufd compat)" \
		"$(json_field iommu "$T_OUT")"
else
	t_capture vfn -v id-ctrl "$B"
	t_match "vfn -v: names the group path and type1" "opened through VFIO \(group, type1\)" "$T_OUT"
fi
t_err "VFN_IOMMU not a backend" 1 "VFN_IOMMU=vfio is not a backend; use iommufd, type1 or auto" \
	env VFN_IOMMU=vfio vfn id-ctrl "$B"

t_done
