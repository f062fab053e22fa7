/* SPDX-License-Identifier: MIT */
/*
 * Shadow doorbells: Doorbell Buffer Config (NVMe Base 2.0, 5.8).  Two memory
 * pages laid out like the doorbell registers (queue y's SQ tail at slot 2y,
 * its CQ head at slot 2y + 1, slots 4 << CAP.DSTRD bytes apart): the shadow
 * doorbells the host writes, and the EventIdx values the controller writes.
 * The ring functions in <vfn/queue.h> apply the event-index rule.
 */
#include <errno.h>
#include <string.h>

#include "nvme/ctrl-priv.h"
#include "support/log.h"

#define OACS_DBBUF (1u << 8) /* Doorbell Buffer Config supported */

/* Sends Doorbell Buffer Config for the two pages at ctrl->dbbuf_iova. */
static int dbbuf_config(struct vfn_nvme_ctrl *ctrl)
{
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_ADMIN_DBBUF_CONFIG };
	struct vfn_nvme_cqe cqe = { 0 };
	int ret;

	sqe.dptr.prp1 = vfn_cpu_to_le64(ctrl->dbbuf_iova);		     /* shadow doorbells */
	sqe.dptr.prp2 = vfn_cpu_to_le64(ctrl->dbbuf_iova + ctrl->page_size); /* EventIdx */
	ret = vfn_nvme_admin_sync(ctrl, &sqe, NULL, 0, &cqe, 0);
	if (ret)
		log_info("%s: Doorbell Buffer Config failed (%d, status 0x%x): MMIO doorbells only", ctrl->hw.name, ret,
			 vfn_nvme_cqe_status(&cqe));
	return ret;
}

/* The two pages, allocated once (at the first bring-up that wants them) and kept until close. */
static int dbbuf_alloc(struct vfn_nvme_ctrl *ctrl)
{
	ssize_t len;

	if (ctrl->dbbuf)
		return 0;
	len = vfn_dma_alloc(ctrl->hw.iommu, 2 * ctrl->page_size, &ctrl->dbbuf, &ctrl->dbbuf_iova);
	if (len < 0) {
		ctrl->dbbuf = NULL;
		return (int)len;
	}
	ctrl->dbbuf_len = (size_t)len;
	return 0;
}

int vfn_nvme_dbbuf_init(struct vfn_nvme_ctrl *ctrl, const struct vfn_nvme_ctrl_opts *opts)
{
	int ret;

	ctrl->info.shadow_doorbells = false;
	if (opts && opts->no_shadow_doorbells) {
		log_debug("%s: shadow doorbells turned off by the caller", ctrl->hw.name);
		return 0;
	}
	if (!(ctrl->info.oacs & OACS_DBBUF)) {
		log_debug("%s: no Doorbell Buffer Config (OACS 0x%x)", ctrl->hw.name, ctrl->info.oacs);
		return 0;
	}
	ret = dbbuf_alloc(ctrl);
	if (ret)
		return ret;
	/* No value of the controller's previous life: every queue starts at 0. */
	memset(ctrl->dbbuf, 0, ctrl->dbbuf_len);
	if (dbbuf_config(ctrl))
		return 0;
	ctrl->info.shadow_doorbells = true;
	log_debug("%s: shadow doorbells on", ctrl->hw.name);
	return 0;
}

void vfn_nvme_dbbuf_fini(struct vfn_nvme_ctrl *ctrl)
{
	if (!ctrl->dbbuf)
		return;
	vfn_dma_free(ctrl->hw.iommu, ctrl->dbbuf, ctrl->dbbuf_len);
	ctrl->dbbuf = NULL;
	ctrl->info.shadow_doorbells = false;
}

void vfn_nvme_dbbuf_slots(struct vfn_nvme_ctrl *ctrl, uint16_t qid, bool cq, vfn_le32 **shadow,
			  const vfn_le32 **eventidx)
{
	size_t off = (2 * (size_t)qid + (cq ? 1 : 0)) * ctrl->db_stride;
	vfn_le32 *ei;

	*shadow = NULL;
	*eventidx = NULL;
	if (!ctrl->info.shadow_doorbells || off + sizeof(vfn_le32) > ctrl->page_size)
		return;
	*shadow = (vfn_le32 *)((uint8_t *)ctrl->dbbuf + off);
	ei = (vfn_le32 *)((uint8_t *)ctrl->dbbuf + ctrl->page_size + off);
	/* A new queue starts at 0: no stale value of an earlier queue with this id. */
	VFN_WRITE_ONCE(**shadow, 0);
	VFN_WRITE_ONCE(*ei, 0);
	*eventidx = ei;
}
