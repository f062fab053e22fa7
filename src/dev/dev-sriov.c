/* SPDX-License-Identifier: MIT */
/*
 * NVMe Virtualization Enhancements over any vfn_dev (include/vfn/sriov.h):
 * Identify CNS 14h/15h and Virtualization Management.
 */
#include <errno.h>
#include <string.h>

#include <vfn/mgmt.h>
#include <vfn/sriov.h>

#include "support/log.h"

int vfn_dev_primary_ctrl_cap(struct vfn_dev *dev, struct vfn_nvme_primary_ctrl_cap *cap, struct vfn_nvme_cqe *cqe)
{
	struct vfn_identify_args a = { .cns = VFN_NVME_CNS_PRIMARY_CTRL_CAP };

	if (!cap) {
		log_debug("primary_ctrl_cap: NULL buffer");
		return -EINVAL;
	}
	return vfn_dev_identify_args(dev, &a, cap, sizeof(*cap), cqe);
}

int vfn_dev_secondary_ctrl_list(struct vfn_dev *dev, uint16_t cntid, struct vfn_nvme_secondary_ctrl_list *list,
				struct vfn_nvme_cqe *cqe)
{
	struct vfn_identify_args a = { .cns = VFN_NVME_CNS_SECONDARY_CTRL_LIST, .cntid = cntid };

	if (!list) {
		log_debug("secondary_ctrl_list: NULL buffer");
		return -EINVAL;
	}
	return vfn_dev_identify_args(dev, &a, list, sizeof(*list), cqe);
}

int vfn_dev_virt_mgmt(struct vfn_dev *dev, const struct vfn_virt_mgmt_args *args, uint16_t *nrm,
		      struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_ADMIN_VIRT_MGMT };
	struct vfn_nvme_cqe local;
	int ret;

	if (!dev || !args || args->rt > 7 || args->act > 15) {
		log_debug("virt_mgmt: NULL argument, or resource type %u (0..7) / action %u (0..15) out of range",
			  args ? args->rt : 0, args ? args->act : 0);
		return -EINVAL;
	}
	sqe.cdw10 = vfn_cpu_to_le32((uint32_t)args->act | (uint32_t)args->rt << 8 | (uint32_t)args->cntlid << 16);
	sqe.cdw11 = vfn_cpu_to_le32(args->nr);
	if (!cqe)
		cqe = &local;
	ret = vfn_dev_admin(dev, &sqe, NULL, 0, cqe, 0);
	if (!ret && nrm)
		*nrm = (uint16_t)(vfn_le32_to_cpu(cqe->dw0) & 0xffff);
	return ret;
}

int vfn_dev_secondary_assign(struct vfn_dev *dev, uint16_t scid, uint8_t rt, uint16_t nr, uint16_t *nrm,
			     struct vfn_nvme_cqe *cqe)
{
	struct vfn_virt_mgmt_args a = {
		.cntlid = scid, .rt = rt, .act = VFN_NVME_VIRT_MGMT_ACT_SECONDARY_ASSIGN, .nr = nr
	};

	if (rt != VFN_NVME_VIRT_MGMT_RT_VQ && rt != VFN_NVME_VIRT_MGMT_RT_VI) {
		log_debug("secondary_assign: resource type %u (0: VQ, 1: VI)", rt);
		return -EINVAL;
	}
	return vfn_dev_virt_mgmt(dev, &a, nrm, cqe);
}

int vfn_dev_secondary_online(struct vfn_dev *dev, uint16_t scid, bool online, struct vfn_nvme_cqe *cqe)
{
	struct vfn_virt_mgmt_args a = {
		.cntlid = scid,
		.act = online ? VFN_NVME_VIRT_MGMT_ACT_SECONDARY_ONLINE : VFN_NVME_VIRT_MGMT_ACT_SECONDARY_OFFLINE,
	};

	return vfn_dev_virt_mgmt(dev, &a, NULL, cqe);
}

const struct vfn_nvme_secondary_ctrl *vfn_nvme_secondary_find(const struct vfn_nvme_secondary_ctrl_list *list,
							      uint16_t scid)
{
	unsigned int n;

	if (!list)
		return NULL;
	n = list->numid > 127 ? 127 : list->numid;
	for (unsigned int i = 0; i < n; i++)
		if (vfn_le16_to_cpu(list->sc_entry[i].scid) == scid)
			return &list->sc_entry[i];
	return NULL;
}
