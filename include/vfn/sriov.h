/* SPDX-License-Identifier: MIT */
/*
 * vfn sriov: NVMe Virtualization Enhancements over any vfn_dev (the primary
 * controller's capabilities, its secondary controllers, Virtualization
 * Management) and the PCI side of SR-IOV in sysfs (the VF count, the VFs'
 * addresses).  docs/sriov.md walks through bringing a VF up.
 *
 * The vfn_dev_* calls return as vfn_dev_admin() does: 0, -EIO with the
 * controller's status in @cqe (may be NULL), or -errno; -EINVAL, sending
 * nothing, for NULL arguments or fields out of range.
 */
#ifndef VFN_SRIOV_H
#define VFN_SRIOV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vfn/dev.h>
#include <vfn/pci.h>
#include <vfn/spec.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Identify Primary Controller Capabilities (CNS 14h) of the controller @dev drives into @cap. */
VFN_API int vfn_dev_primary_ctrl_cap(struct vfn_dev *dev, struct vfn_nvme_primary_ctrl_cap *cap,
				     struct vfn_nvme_cqe *cqe);

/*
 * Identify Secondary Controller List (CNS 15h): the secondary controllers
 * of @dev's primary controller with an id of @cntid or more, into @list
 * (list->numid entries).
 */
VFN_API int vfn_dev_secondary_ctrl_list(struct vfn_dev *dev, uint16_t cntid, struct vfn_nvme_secondary_ctrl_list *list,
					struct vfn_nvme_cqe *cqe);

/* Virtualization Management CDW10/CDW11. */
struct vfn_virt_mgmt_args {
	uint16_t cntlid; /* the controller acted on (a secondary's SCID; the primary's own for action 1) */
	uint8_t rt;	 /* resource type: VFN_NVME_VIRT_MGMT_RT_VQ or _VI (0..7) */
	uint8_t act;	 /* action: VFN_NVME_VIRT_MGMT_ACT_* (0..15) */
	uint16_t nr;	 /* number of resources (actions 1 and 8) */
};

/*
 * Virtualization Management (opcode 1Ch) per @args; the number of resources
 * modified (completion DW0 bits 15:0) to *@nrm (may be NULL).  -EINVAL for
 * @rt above 7 or @act above 15.
 */
VFN_API int vfn_dev_virt_mgmt(struct vfn_dev *dev, const struct vfn_virt_mgmt_args *args, uint16_t *nrm,
			      struct vfn_nvme_cqe *cqe);

/*
 * Assigns @nr flexible resources of type @rt (VFN_NVME_VIRT_MGMT_RT_VQ or
 * _VI) to secondary controller @scid (action 8; 0 takes them all back).
 * The secondary must be offline.  A VQ resource is one queue pair and the
 * admin queue counts: a secondary with one I/O queue pair needs 2 VQ and at
 * least 1 VI.
 */
VFN_API int vfn_dev_secondary_assign(struct vfn_dev *dev, uint16_t scid, uint8_t rt, uint16_t nr, uint16_t *nrm,
				     struct vfn_nvme_cqe *cqe);

/* Brings secondary controller @scid online (action 9) or, !@online, offline (action 7). */
VFN_API int vfn_dev_secondary_online(struct vfn_dev *dev, uint16_t scid, bool online, struct vfn_nvme_cqe *cqe);

/*
 * Finds the entry of secondary controller @scid in @list (the first
 * list->numid entries, numid capped at 127).  Returns it, or NULL.
 */
VFN_API const struct vfn_nvme_secondary_ctrl *vfn_nvme_secondary_find(const struct vfn_nvme_secondary_ctrl_list *list,
								      uint16_t scid);

/* ---- sysfs: the PCI side of SR-IOV ------------------------------------------------- */

/*
 * The number of VFs @bdf (a PF) supports (sriov_totalvfs) or has enabled
 * now (sriov_numvfs).  Return it, or -EINVAL (bad address), -ENODEV (no
 * such function), -ENOTSUP (no SR-IOV capability: no such attribute), -EIO
 * (not a number), -errno from sysfs.
 */
VFN_API int vfn_pci_sriov_totalvfs(const char *bdf);
VFN_API int vfn_pci_sriov_numvfs(const char *bdf);

/*
 * Enables @numvfs VFs on @bdf (0: disables them) through sriov_numvfs.  The
 * kernel refuses to change a non-zero count to another non-zero one, so a
 * different non-zero count is preceded by 0 (its VFs go away first).
 * Nothing is written if the count already is @numvfs.  The PF's driver must
 * allow it: the nvme driver does; vfio-pci only when loaded with
 * enable_sriov=1 (docs/sriov.md).  Returns 0, -EINVAL (also @numvfs above
 * totalvfs), -ENODEV, -ENOTSUP, or -errno from the write (-EACCES not root,
 * -ENOENT/-ENOSYS the driver cannot, -ENOMEM/-EBUSY the kernel's own).
 */
VFN_API int vfn_pci_sriov_set_numvfs(const char *bdf, unsigned int numvfs);

/*
 * Lists the addresses of @bdf's enabled VFs, in VF order (virtfn0 first),
 * into @vfs (at most @max; may be NULL if @max is 0).  Returns how many
 * there are (may exceed @max), or -EINVAL, -ENODEV, -errno.
 */
VFN_API int vfn_pci_sriov_vfs(const char *bdf, char (*vfs)[VFN_PCI_BDF_LEN], int max);

/*
 * Copies the address of VF @bdf's PF into @pf.  Returns 0, -ENOENT if @bdf
 * is not a VF (no physfn link), -EINVAL, -ENODEV, or -errno.
 */
VFN_API int vfn_pci_sriov_physfn(const char *bdf, char pf[VFN_PCI_BDF_LEN]);

/* ---- VFIO: the VF token (a PF bound to vfio-pci) -------------------------------- */

struct vfn_vfio_dev;

/* Parses a UUID "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (hex, either case) into @uuid; -EINVAL. */
VFN_API int vfn_vf_token_parse(const char *s, uint8_t uuid[16]);
/* Formats @uuid as 36 lower-case characters and a terminator into @out. */
VFN_API void vfn_vf_token_format(const uint8_t uuid[16], char out[37]);

/*
 * From now on, VFs and SR-IOV PFs opened through their VFIO group (type1
 * backend) present the VF token @uuid ("BDF vf_token=UUID"); NULL: none
 * again.  Process-wide.  Opening a VF whose PF is bound to vfio-pci needs
 * it; opening the PF with it, while no VF is in use, sets it.  Not passed
 * on the iommufd/cdev path (see docs/sriov.md).
 */
VFN_API void vfn_vf_token_use(const uint8_t uuid[16]);

/*
 * Sets the VF token of PF @dev (open through VFIO, bound to vfio-pci):
 * VFIO_DEVICE_FEATURE_PCI_VF_TOKEN.  Returns 0, -EINVAL, or -errno (the
 * kernel's -ENOTTY/-EINVAL: not an SR-IOV PF on vfio-pci).
 */
VFN_API int vfn_vfio_set_vf_token(struct vfn_vfio_dev *dev, const uint8_t uuid[16]);

#ifdef __cplusplus
}
#endif

#endif /* VFN_SRIOV_H */
