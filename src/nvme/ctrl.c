/* SPDX-License-Identifier: MIT */
/* Controller bring-up, shutdown and register access. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vfn/spec.h>
#include <vfn/pi.h>

#include "nvme/cmb-priv.h"
#include "nvme/ctrl-priv.h"
#include "support/log.h"
#include "support/text.h"

#define CTRL_AQ_ENTRIES_DEFAULT 32
#define CTRL_AQ_ENTRIES_MAX 4096 /* AQA.ASQS/ACQS are 12-bit, 0's based */
#define CTRL_ADMIN_TIMEOUT_MS_DEFAULT 30000
#define CTRL_NR_IO_QUEUES_DEFAULT 64
#define CTRL_POLL_MIN_NS 10000	 /* first sleep between CSTS reads while waiting */
#define CTRL_POLL_MAX_NS 1000000 /* the sleep doubles up to this */
#define CTRL_SHN_FLOOR_MS 5000	 /* shutdown timeout without (or below) RTD3E, as Linux */
#define CTRL_SHN_CAP_MS 60000	 /* and at most, whatever RTD3E says */

/* Identify Controller byte offsets. */

static uint32_t reg_read32(struct vfn_nvme_ctrl *ctrl, uint32_t off)
{
	return vfn_mmio_read32((const uint8_t *)ctrl->hw.regs + off);
}

static void reg_write32(struct vfn_nvme_ctrl *ctrl, uint32_t off, uint32_t val)
{
	vfn_mmio_write32((uint8_t *)ctrl->hw.regs + off, val);
}

static void reg_write64(struct vfn_nvme_ctrl *ctrl, uint32_t off, uint64_t val)
{
	vfn_mmio_write64((uint8_t *)ctrl->hw.regs + off, val);
}

/* Sleeps *@ns between CSTS reads, doubling it up to CTRL_POLL_MAX_NS. */
static void ctrl_poll_sleep(long *ns)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = *ns };

	nanosleep(&ts, NULL);
	if (*ns < CTRL_POLL_MAX_NS)
		*ns *= 2;
}

int vfn_nvme_ctrl_check_csts(struct vfn_nvme_ctrl *ctrl)
{
	uint32_t csts = reg_read32(ctrl, VFN_NVME_REG_CSTS);

	if (csts == UINT32_MAX) {
		log_err("%s: device gone (CSTS reads all-ones)", ctrl->hw.name);
		return -ENODEV;
	}
	if (csts & VFN_NVME_CSTS_CFS) {
		log_err("%s: controller fatal status (CSTS 0x%x)", ctrl->hw.name, csts);
		return -EIO;
	}
	return 0;
}

/*
 * Waits up to @timeout_ms for (CSTS & @mask) == @want, sleeping between
 * reads.  @check_cfs: fail with -EIO as soon as CSTS.CFS is set.
 */
static int ctrl_wait_csts(struct vfn_nvme_ctrl *ctrl, uint32_t mask, uint32_t want, bool check_cfs, uint32_t timeout_ms,
			  const char *what)
{
	uint64_t deadline = vfn_now_ns() + (uint64_t)timeout_ms * 1000000;
	long sleep_ns = CTRL_POLL_MIN_NS;

	for (;;) {
		bool expired = vfn_now_ns() > deadline;
		uint32_t csts = reg_read32(ctrl, VFN_NVME_REG_CSTS);

		if (csts == UINT32_MAX) {
			log_err("%s: device gone (CSTS reads all-ones)", ctrl->hw.name);
			return -ENODEV;
		}
		if (check_cfs && (csts & VFN_NVME_CSTS_CFS)) {
			log_err("%s: controller fatal status while waiting for %s", ctrl->hw.name, what);
			return -EIO;
		}
		if ((csts & mask) == want)
			return 0;
		if (expired) {
			log_err("%s: no %s within %u ms, CSTS 0x%x", ctrl->hw.name, what, timeout_ms, csts);
			return -ETIMEDOUT;
		}
		ctrl_poll_sleep(&sleep_ns);
	}
}

int vfn_nvme_ctrl_choose_page_size(uint64_t cap, size_t host_page, size_t *page_size)
{
	unsigned int mpsmin = vfn_nvme_cap_mpsmin(cap), mpsmax = vfn_nvme_cap_mpsmax(cap);
	size_t page = (size_t)4096 << mpsmin;

	if (mpsmin > mpsmax || page > host_page) {
		log_err("CAP.MPSMIN %u (%zu-byte pages) does not fit CAP.MPSMAX %u or the host's %zu-byte pages",
			mpsmin, page, mpsmax, host_page);
		return -ENOTSUP;
	}
	*page_size = page;
	return 0;
}

uint32_t vfn_nvme_shn_timeout_ms(uint32_t rtd3e_us)
{
	uint64_t ms = ((uint64_t)rtd3e_us + 999) / 1000;

	if (ms < CTRL_SHN_FLOOR_MS)
		return CTRL_SHN_FLOOR_MS;
	return ms > CTRL_SHN_CAP_MS ? CTRL_SHN_CAP_MS : (uint32_t)ms;
}

static int ctrl_read_cap(struct vfn_nvme_ctrl *ctrl)
{
	uint32_t to;

	if (ctrl->hw.regs_len < VFN_NVME_REG_DBS + 8) {
		log_err("%s: register window of %zu bytes is too small", ctrl->hw.name, ctrl->hw.regs_len);
		return -ENOTSUP;
	}
	ctrl->cap = vfn_mmio_read64((const uint8_t *)ctrl->hw.regs + VFN_NVME_REG_CAP);
	if (ctrl->cap == UINT64_MAX) {
		log_err("%s: device gone (CAP reads all-ones)", ctrl->hw.name);
		return -ENODEV;
	}
	if (!(vfn_nvme_cap_css(ctrl->cap) & VFN_NVME_CAP_CSS_NVM)) {
		log_err("%s: no NVM command set (CAP.CSS 0x%x)", ctrl->hw.name, vfn_nvme_cap_css(ctrl->cap));
		return -ENOTSUP;
	}
	ctrl->db_stride = 4u << vfn_nvme_cap_dstrd(ctrl->cap);
	if (!vfn_nvme_ctrl_doorbell(ctrl, 0, true)) {
		log_err("%s: admin doorbells beyond the register window", ctrl->hw.name);
		return -ENOTSUP;
	}
	ctrl->info.qpair_max_entries = vfn_nvme_cap_mqes(ctrl->cap) + 1u;
	if (ctrl->info.qpair_max_entries > 65535u)
		ctrl->info.qpair_max_entries = 65535u; /* struct vfn_sq/vfn_cq count entries in 16 bits */
	to = vfn_nvme_cap_to(ctrl->cap);
	ctrl->rdy_timeout_ms = (to ? to : 1) * 500;
	ctrl->shn_timeout_ms = vfn_nvme_shn_timeout_ms(0);
	return vfn_nvme_ctrl_choose_page_size(ctrl->cap, vfn_page_size(), &ctrl->page_size);
}

/* Clears CC.EN (and CC.SHN) and waits for CSTS.RDY=0. */
static int ctrl_disable(struct vfn_nvme_ctrl *ctrl)
{
	uint32_t cc = reg_read32(ctrl, VFN_NVME_REG_CC);

	if (cc == UINT32_MAX) {
		log_err("%s: device gone (CC reads all-ones)", ctrl->hw.name);
		return -ENODEV;
	}
	if (cc & (VFN_NVME_CC_EN | VFN_NVME_CC_SHN_MASK))
		reg_write32(ctrl, VFN_NVME_REG_CC, cc & ~(VFN_NVME_CC_EN | VFN_NVME_CC_SHN_MASK));
	return ctrl_wait_csts(ctrl, VFN_NVME_CSTS_RDY, 0, false, ctrl->rdy_timeout_ms, "CSTS.RDY=0");
}

/* Function-level reset through the hw op, then CSTS.RDY=0 as after any disable. */
static int ctrl_flr(struct vfn_nvme_ctrl *ctrl)
{
	int ret;

	log_info("%s: controller did not become not ready: function-level reset", ctrl->hw.name);
	ret = ctrl->hw.ops->reset(&ctrl->hw);
	if (ret) {
		log_err("%s: function-level reset failed: %d", ctrl->hw.name, ret);
		return ret;
	}
	return ctrl_disable(ctrl);
}

/* The last resort: no DMA can start once bus mastering is off. */
static int ctrl_bus_master_off(struct vfn_nvme_ctrl *ctrl)
{
	int ret = ctrl->hw.ops->bus_master(&ctrl->hw, false);

	if (ret) {
		log_err("%s: cannot turn bus mastering off (%d): device unreachable", ctrl->hw.name, ret);
		return -ENODEV;
	}
	log_err("%s: bus mastering turned off: the controller can start no DMA", ctrl->hw.name);
	ctrl->dma_off = true;
	return -EIO;
}

/* Delete I/O SQ or CQ @qid, waiting at most CAP.TO; 0 if the controller did it. */
static int ctrl_delete_queue(struct vfn_nvme_ctrl *ctrl, uint8_t opcode, uint16_t qid)
{
	struct vfn_nvme_sqe sqe = { .opcode = opcode, .cdw10 = vfn_cpu_to_le32(qid) };

	/* No AER callback from inside a recovery: it might recover too. */
	return vfn_nvme_admin_sync_quiet(ctrl, &sqe, ctrl->rdy_timeout_ms);
}

/* The qids of the controller's queue pairs (*@nr of them; free() the array), or NULL. */
static uint16_t *ctrl_qpair_qids(struct vfn_nvme_ctrl *ctrl, unsigned int *nr)
{
	uint16_t *qids = NULL;
	unsigned int n = 0;

	pthread_mutex_lock(&ctrl->admin.lock);
	for (struct vfn_nvme_qpair *qp = ctrl->qpairs; qp; qp = qp->ctrl_next)
		n++;
	if (n)
		qids = malloc(n * sizeof(*qids));
	*nr = 0;
	for (struct vfn_nvme_qpair *qp = ctrl->qpairs; qids && qp; qp = qp->ctrl_next)
		qids[(*nr)++] = qp->sq.qid;
	pthread_mutex_unlock(&ctrl->admin.lock);
	return qids;
}

/*
 * A controller that still works (CSTS.RDY=1, no CFS) first deletes the
 * pairs' I/O queues, as Linux (nvme_disable_io_queues()) and SPDK do
 * before CC.EN=0: it finishes or aborts what it holds itself, its own way,
 * before the reset (QEMU 7.2's controller completes requests a reset caught
 * mid-flight into freed queues, and crashes).  Best effort: the first
 * Delete that fails, or is not answered within CAP.TO, ends it.
 */
static void ctrl_delete_io_queues(struct vfn_nvme_ctrl *ctrl)
{
	uint32_t csts = reg_read32(ctrl, VFN_NVME_REG_CSTS);
	unsigned int nr, i;
	uint16_t *qids;
	int ret = 0;

	if (csts == UINT32_MAX || (csts & VFN_NVME_CSTS_CFS) || !(csts & VFN_NVME_CSTS_RDY) ||
	    vfn_nvme_admin_refused(ctrl))
		return;
	qids = ctrl_qpair_qids(ctrl, &nr);
	for (i = 0; i < nr && !ret; i++)
		ret = ctrl_delete_queue(ctrl, VFN_NVME_ADMIN_DELETE_SQ, qids[i]);
	for (i = 0; i < nr && !ret; i++)
		ret = ctrl_delete_queue(ctrl, VFN_NVME_ADMIN_DELETE_CQ, qids[i]);
	if (ret)
		log_info("%s: deleting the I/O queues before the disable failed (%d): disabling now", ctrl->hw.name,
			 ret);
	free(qids);
}

int vfn_nvme_ctrl_quiesce(struct vfn_nvme_ctrl *ctrl)
{
	int ret, off;

	ctrl_delete_io_queues(ctrl);
	ret = ctrl_disable(ctrl);

	if (ret == -ETIMEDOUT)
		ret = ctrl_flr(ctrl);
	if (!ret)
		return 0;
	/* A device gone (all-ones) cannot DMA either, but make sure nothing can. */
	off = ctrl_bus_master_off(ctrl);
	return ret == -ENODEV ? -ENODEV : off;
}

static uint16_t ctrl_aq_entries(struct vfn_nvme_ctrl *ctrl, const struct vfn_nvme_ctrl_opts *opts)
{
	uint32_t want = opts && opts->aq_entries ? opts->aq_entries : CTRL_AQ_ENTRIES_DEFAULT;
	uint32_t max = vfn_nvme_cap_mqes(ctrl->cap) + 1;

	if (max > CTRL_AQ_ENTRIES_MAX)
		max = CTRL_AQ_ENTRIES_MAX;
	if (want > max) {
		log_debug("%s: admin queue entries %u clamped to %u (CAP.MQES)", ctrl->hw.name, want, max);
		want = max;
	}
	if (want < 2) {
		log_debug("%s: admin queue entries %u raised to 2", ctrl->hw.name, want);
		want = 2;
	}
	return (uint16_t)want;
}

static size_t round_up(size_t v, size_t align)
{
	return (v + align - 1) & ~(align - 1);
}

/* Allocates the admin SQ and CQ rings (one DMA allocation) and sets up the queue structs. */
static int ctrl_alloc_admin_queue(struct vfn_nvme_ctrl *ctrl, uint16_t entries)
{
	struct vfn_nvme_admin *a = &ctrl->admin;
	size_t sq_len = round_up((size_t)entries * sizeof(struct vfn_nvme_sqe), ctrl->page_size);
	size_t cq_len = round_up((size_t)entries * sizeof(struct vfn_nvme_cqe), ctrl->page_size);
	uint64_t iova;
	void *mem;
	ssize_t len;

	len = vfn_dma_alloc(ctrl->hw.iommu, sq_len + cq_len, &mem, &iova);
	if (len < 0) {
		log_err("%s: cannot allocate the admin queue: %zd", ctrl->hw.name, len);
		return (int)len;
	}
	a->ring_mem = mem;
	a->ring_len = (size_t)len;
	a->cq = (struct vfn_cq){
		.cqes = (struct vfn_nvme_cqe *)((uint8_t *)mem + sq_len),
		.iova = iova + sq_len,
		.db = vfn_nvme_ctrl_doorbell(ctrl, 0, true),
		.entries = entries,
		.phase = 1,
		.vector = -1,
		.efd = -1,
	};
	a->sq = (struct vfn_sq){
		.sqes = mem,
		.iova = iova,
		.db = vfn_nvme_ctrl_doorbell(ctrl, 0, false),
		.cq = &a->cq,
		.entries = entries,
	};
	return 0;
}

static void ctrl_free_admin_queue(struct vfn_nvme_ctrl *ctrl)
{
	vfn_dma_free(ctrl->hw.iommu, ctrl->admin.ring_mem, ctrl->admin.ring_len);
	ctrl->admin.ring_mem = NULL;
}

/* Programs AQA/ASQ/ACQ and CC, sets CC.EN and waits for CSTS.RDY=1. */
static int ctrl_enable(struct vfn_nvme_ctrl *ctrl)
{
	uint32_t qsize = ctrl->admin.sq.entries - 1u;
	uint32_t mps = (uint32_t)__builtin_ctzll(ctrl->page_size) - 12;
	/* All I/O command sets (CC.CSS 110b) when CAP.CSS offers it: zoned namespaces need it; else NVM only. */
	uint32_t css = vfn_nvme_cap_css(ctrl->cap) & VFN_NVME_CAP_CSS_CSI ? VFN_NVME_CC_CSS_CSI : VFN_NVME_CC_CSS_NVM;
	uint32_t cc;

	vfn_nvme_cmb_restore(ctrl); /* a reset: CMB/PMR as they were enabled (nothing at open) */
	reg_write32(ctrl, VFN_NVME_REG_AQA, qsize << VFN_NVME_AQA_ASQS_SHIFT | qsize << VFN_NVME_AQA_ACQS_SHIFT);
	reg_write64(ctrl, VFN_NVME_REG_ASQ, ctrl->admin.sq.iova);
	reg_write64(ctrl, VFN_NVME_REG_ACQ, ctrl->admin.cq.iova);
	cc = 6u << VFN_NVME_CC_IOSQES_SHIFT | 4u << VFN_NVME_CC_IOCQES_SHIFT | mps << VFN_NVME_CC_MPS_SHIFT |
	     css << VFN_NVME_CC_CSS_SHIFT | (uint32_t)ctrl->opts.ams << VFN_NVME_CC_AMS_SHIFT | VFN_NVME_CC_EN;
	reg_write32(ctrl, VFN_NVME_REG_CC, cc);
	return ctrl_wait_csts(ctrl, VFN_NVME_CSTS_RDY, VFN_NVME_CSTS_RDY, true, ctrl->rdy_timeout_ms, "CSTS.RDY=1");
}

static void ctrl_decode_identify(struct vfn_nvme_ctrl *ctrl, const struct vfn_nvme_id_ctrl *id)
{
	struct vfn_nvme_ctrl_info *info = &ctrl->info;
	unsigned int shift;

	info->vid = vfn_le16_to_cpu(id->vid);
	info->ssvid = vfn_le16_to_cpu(id->ssvid);
	vfn_id_string(info->sn, id->sn, sizeof(info->sn) - 1);
	vfn_id_string(info->mn, id->mn, sizeof(info->mn) - 1);
	vfn_id_string(info->fr, id->fr, sizeof(info->fr) - 1);
	info->mdts = id->mdts;
	info->cntlid = vfn_le16_to_cpu(id->cntlid);
	info->ver = vfn_le32_to_cpu(id->ver);
	info->oacs = vfn_le16_to_cpu(id->oacs);
	ctrl->aerl = id->aerl;
	info->nn = vfn_le32_to_cpu(id->nn);
	info->oncs = vfn_le16_to_cpu(id->oncs);
	info->vwc = id->vwc;
	info->sgls = vfn_le32_to_cpu(id->sgls);
	info->ctratt = vfn_le32_to_cpu(id->ctratt);
	ctrl->shn_timeout_ms = vfn_nvme_shn_timeout_ms(vfn_le32_to_cpu(id->rtd3e));

	/* MDTS is a power of two in units of CAP.MPSMIN pages; 0 means no limit. */
	shift = info->mdts + 12u + vfn_nvme_cap_mpsmin(ctrl->cap);
	info->max_xfer = info->mdts && shift < sizeof(size_t) * 8 ? (size_t)1 << shift : 0;
}

static int ctrl_identify(struct vfn_nvme_ctrl *ctrl)
{
	struct vfn_nvme_id_ctrl id;
	uint16_t status;
	int ret;

	ret = vfn_nvme_identify(ctrl, VFN_NVME_CNS_CTRL, 0, &id, &status);
	if (ret) {
		log_err("%s: Identify Controller failed: %d (status 0x%x)", ctrl->hw.name, ret, status);
		return ret;
	}
	ctrl_decode_identify(ctrl, &id);
	return 0;
}

/*
 * With CC.CSS 110b, picks the I/O Command Set Profile: the first CNS 1Ch
 * vector with NVM and Zoned, else the first with NVM, and selects it with Set
 * Features 19h when it is not index 0 (the reset default).  A controller
 * without CNS 1Ch keeps its default (logged, not an error).
 */
static int ctrl_select_iocs(struct vfn_nvme_ctrl *ctrl)
{
	const uint64_t want = 1ull << VFN_NVME_CSI_NVM | 1ull << VFN_NVME_CSI_ZNS;
	struct vfn_nvme_sqe sqe = {
		.opcode = VFN_NVME_ADMIN_IDENTIFY,
		.cdw10 = vfn_cpu_to_le32(VFN_NVME_CNS_IOCS | (uint32_t)ctrl->info.cntlid << 16),
	};
	struct vfn_nvme_cqe cqe = { 0 };
	uint64_t vec[VFN_NVME_IOCS_VECTORS];
	int best = -1, ret;

	ctrl->iocs_index = 0;
	ctrl->iocs_vector = 0;
	if (!(vfn_nvme_cap_css(ctrl->cap) & VFN_NVME_CAP_CSS_CSI))
		return 0;
	ret = vfn_nvme_admin_sync(ctrl, &sqe, vec, sizeof(vec), &cqe, 0);
	if (ret) {
		log_debug("%s: no I/O Command Set data structure (CNS 1Ch): %d (status 0x%x); default profile",
			  ctrl->hw.name, ret, vfn_nvme_cqe_status(&cqe));
		return 0;
	}
	for (int i = 0; i < VFN_NVME_IOCS_VECTORS; i++) {
		uint64_t v = vfn_le64_to_cpu(vec[i]);

		if ((v & want) == want) {
			best = i;
			break;
		}
		if (best < 0 && (v & 1ull << VFN_NVME_CSI_NVM))
			best = i;
	}
	if (best < 0) {
		log_debug("%s: no I/O Command Set vector with NVM; default profile", ctrl->hw.name);
		return 0;
	}
	if (best) {
		ret = vfn_nvme_set_features(ctrl, VFN_NVME_FEAT_IOCS_PROFILE, 0, (uint32_t)best, NULL, NULL, 0);
		if (ret) {
			log_err("%s: Set Features I/O Command Set Profile %d failed: %d", ctrl->hw.name, best, ret);
			return ret;
		}
	}
	ctrl->iocs_index = (uint16_t)best;
	ctrl->iocs_vector = vfn_le64_to_cpu(vec[best]);
	log_debug("%s: I/O Command Set Profile %d (command sets 0x%llx)", ctrl->hw.name, best,
		  (unsigned long long)ctrl->iocs_vector);
	return 0;
}

/* Set Features Number of Queues; stores what the controller granted. */
static int ctrl_set_nr_queues(struct vfn_nvme_ctrl *ctrl, const struct vfn_nvme_ctrl_opts *opts)
{
	uint32_t nr = opts && opts->nr_io_queues ? opts->nr_io_queues : CTRL_NR_IO_QUEUES_DEFAULT;
	uint32_t dw0, nsqa, ncqa;
	int ret;

	ret = vfn_nvme_set_features(ctrl, VFN_NVME_FEAT_NUM_QUEUES, 0, (nr - 1) | (nr - 1) << 16, &dw0, NULL, 0);
	if (ret) {
		log_err("%s: Set Features Number of Queues failed: %d", ctrl->hw.name, ret);
		return ret;
	}
	/* NSQA/NCQA are 0's based; 0xffff is not a valid value, keep within uint16_t. */
	nsqa = dw0 & 0xffff;
	ncqa = dw0 >> 16;
	ctrl->info.nr_sq = (uint16_t)(nsqa < 0xffff ? nsqa + 1 : 0xffff);
	ctrl->info.nr_cq = (uint16_t)(ncqa < 0xffff ? ncqa + 1 : 0xffff);
	return 0;
}

/* Enables the controller, identifies it and asks for I/O queues. */
static int ctrl_start(struct vfn_nvme_ctrl *ctrl, const struct vfn_nvme_ctrl_opts *opts)
{
	int ret;

	ret = ctrl_enable(ctrl);
	if (ret)
		return ret;
	ret = ctrl_identify(ctrl);
	if (ret)
		return ret;
	ret = ctrl_select_iocs(ctrl);
	if (ret)
		return ret;
	ret = ctrl_set_nr_queues(ctrl, opts);
	if (ret)
		return ret;
	return vfn_nvme_dbbuf_init(ctrl, opts);
}

void vfn_nvme_ctrl_irq_ack(struct vfn_nvme_ctrl *ctrl)
{
	if (ctrl && ctrl->irq_level && ctrl->hw.ops->irq_unmask)
		ctrl->hw.ops->irq_unmask(&ctrl->hw);
}

static const char *const irq_mode_names[] = { "auto", "MSI-X", "MSI", "INTx" };

/* Picks the interrupt type as opts.irq_mode asks (VFIO indexes: INTx 0, MSI 1, MSI-X 2). */
static int ctrl_irq_mode(struct vfn_nvme_ctrl *ctrl, uint8_t mode)
{
	static const unsigned int index[] = { 2, 2, 1, 0 };
	static const uint8_t of_index[] = { VFN_NVME_IRQ_INTX, VFN_NVME_IRQ_MSI, VFN_NVME_IRQ_MSIX };
	const struct vfn_nvme_hw_ops *ops = ctrl->hw.ops;
	int ret;

	if (mode > VFN_NVME_IRQ_INTX) {
		log_err("%s: interrupt mode %u unknown", ctrl->hw.name, mode);
		return -EINVAL;
	}
	if (!ops->irq_set_mode) {
		if (mode == VFN_NVME_IRQ_MSI || mode == VFN_NVME_IRQ_INTX) {
			log_err("%s: %s interrupts not offered (MSI-X only)", ctrl->hw.name, irq_mode_names[mode]);
			return -ENOTSUP;
		}
		ctrl->irq_type = VFN_NVME_IRQ_MSIX;
		return 0;
	}
	if (mode == VFN_NVME_IRQ_AUTO && ops->irq_auto) {
		/* The first type the function has and the kernel accepts, MSI-X first. */
		ret = ops->irq_auto(&ctrl->hw);
		if (ret < 0 || ret > 2)
			return 0; /* none usable: pairs with interrupts are refused when routed */
		ctrl->irq_type = of_index[ret];
		ctrl->irq_level = ctrl->irq_type == VFN_NVME_IRQ_INTX;
		if (ctrl->irq_type != VFN_NVME_IRQ_MSIX)
			log_info("%s: no MSI-X: %s interrupts", ctrl->hw.name, irq_mode_names[ctrl->irq_type]);
		return 0;
	}
	if (mode == VFN_NVME_IRQ_AUTO) {
		/* The first type the function has, MSI-X first. */
		for (unsigned int m = VFN_NVME_IRQ_MSIX; m <= VFN_NVME_IRQ_INTX; m++) {
			if (!ops->irq_set_mode(&ctrl->hw, index[m])) {
				ctrl->irq_type = (uint8_t)m;
				ctrl->irq_level = m == VFN_NVME_IRQ_INTX;
				if (m != VFN_NVME_IRQ_MSIX)
					log_info("%s: no MSI-X: %s interrupts", ctrl->hw.name, irq_mode_names[m]);
				return 0;
			}
		}
		return 0; /* none at all: pairs with interrupts are refused (-ENOTSUP) */
	}
	ret = ops->irq_set_mode(&ctrl->hw, index[mode]);
	if (ret) {
		log_err("%s: cannot use %s interrupts: %d", ctrl->hw.name, irq_mode_names[mode], ret);
		return ret;
	}
	ctrl->irq_type = mode;
	ctrl->irq_level = mode == VFN_NVME_IRQ_INTX;
	return 0;
}

int vfn_nvme_ctrl_irq_mode(const struct vfn_nvme_ctrl *ctrl)
{
	if (!ctrl)
		return -EINVAL;
	return ctrl->irq_type ? ctrl->irq_type : -ENOTSUP;
}

/* Gives back vector 0 if the admin queue took it (opts.admin_irq). */
static void ctrl_admin_irq_fini(struct vfn_nvme_ctrl *ctrl)
{
	if (ctrl->admin_efd < 0)
		return;
	vfn_nvme_irqvec_put(ctrl, 0);
	ctrl->admin_efd = -1;
}

int vfn_nvme_ctrl_open_hw(struct vfn_nvme_hw *hw, const struct vfn_nvme_ctrl_opts *opts, struct vfn_nvme_ctrl **out)
{
	struct vfn_nvme_ctrl *ctrl;
	int ret;

	ctrl = calloc(1, sizeof(*ctrl));
	if (!ctrl)
		return -ENOMEM;
	ret = -pthread_mutex_init(&ctrl->recovery_lock, NULL);
	if (ret) {
		free(ctrl);
		return ret;
	}
	ctrl->admin_efd = -1;
	ctrl->hw = *hw;
	if (opts)
		ctrl->opts = *opts;
	ctrl->admin_timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms : CTRL_ADMIN_TIMEOUT_MS_DEFAULT;

	ret = ctrl_read_cap(ctrl);
	if (ret)
		goto err_free_ctrl;
	ret = ctrl_irq_mode(ctrl, opts ? opts->irq_mode : VFN_NVME_IRQ_AUTO);
	if (ret)
		goto err_free_ctrl;
	if (ctrl->opts.ams > VFN_NVME_AMS_WRR ||
	    (ctrl->opts.ams == VFN_NVME_AMS_WRR && !(ctrl->cap & VFN_NVME_CAP_AMS_WRR))) {
		log_err("%s: arbitration mechanism %u not offered (CAP.AMS %#llx)", ctrl->hw.name, ctrl->opts.ams,
			(unsigned long long)((ctrl->cap >> 17) & 3));
		ret = -ENOTSUP;
		goto err_free_ctrl;
	}
	ret = ctrl_disable(ctrl);
	if (ret)
		goto err_free_ctrl;
	ret = ctrl_alloc_admin_queue(ctrl, ctrl_aq_entries(ctrl, opts));
	if (ret)
		goto err_free_ctrl;
	ret = vfn_nvme_admin_init(ctrl);
	if (ret)
		goto err_free_admin_queue;
	if (opts && opts->admin_irq) {
		ret = vfn_nvme_irqvec_get(ctrl, 0, &ctrl->admin_efd);
		if (ret)
			goto err_quiesce;
	}
	ret = ctrl_start(ctrl, opts);
	if (ret)
		goto err_quiesce;
	*out = ctrl;
	return 0;

err_quiesce:
	vfn_nvme_ctrl_quiesce(ctrl);
	ctrl_admin_irq_fini(ctrl);
	vfn_nvme_dbbuf_fini(ctrl);
	vfn_nvme_admin_fini(ctrl);
err_free_admin_queue:
	ctrl_free_admin_queue(ctrl);
err_free_ctrl:
	pthread_mutex_destroy(&ctrl->recovery_lock);
	free(ctrl);
	return ret;
}

int vfn_nvme_ctrl_open(const char *bdf, const struct vfn_nvme_ctrl_opts *opts, struct vfn_nvme_ctrl **out)
{
	struct vfn_nvme_hw hw;
	int ret;

	if (!bdf || !out) {
		log_debug("ctrl_open: NULL %s", bdf ? "out" : "bdf");
		return -EINVAL;
	}
	if (!strncmp(bdf, "sim:", 4))
		ret = vfn_sim_hw_open(bdf, opts ? opts->iommu : NULL, &hw);
	else
		ret = vfn_nvme_hw_open_vfio(bdf, opts ? opts->iommu : NULL, &hw);
	if (ret)
		return ret;
	ret = vfn_nvme_ctrl_open_hw(&hw, opts, out);
	if (ret)
		hw.ops->close(&hw);
	return ret;
}

int vfn_nvme_ctrl_restart(struct vfn_nvme_ctrl *ctrl)
{
	int ret;

	if (ctrl->dma_off) {
		ret = ctrl->hw.ops->bus_master(&ctrl->hw, true);
		if (ret) {
			log_err("%s: cannot turn bus mastering back on: %d", ctrl->hw.name, ret);
			return ret;
		}
		ctrl->dma_off = false;
	}
	/* Disabled: the controller touches neither the admin queue nor the retired buffers any more. */
	vfn_nvme_admin_reset(ctrl);
	return ctrl_start(ctrl, &ctrl->opts);
}

/*
 * Normal shutdown (CC.SHN), waiting max(RTD3E, 5 s) (at most 60 s) for
 * CSTS.SHST complete; logs what did not happen in time.  Skipped for a
 * controller that is not enabled (failed ones are disabled already).
 */
static void ctrl_shutdown(struct vfn_nvme_ctrl *ctrl)
{
	uint32_t cc = reg_read32(ctrl, VFN_NVME_REG_CC);

	if (cc == UINT32_MAX) {
		log_info("%s: device gone, skipping shutdown", ctrl->hw.name);
		return;
	}
	if (!(cc & VFN_NVME_CC_EN) || vfn_nvme_ctrl_failed(ctrl))
		return;
	reg_write32(ctrl, VFN_NVME_REG_CC, (cc & ~VFN_NVME_CC_SHN_MASK) | VFN_NVME_CC_SHN_NORMAL);
	if (ctrl_wait_csts(ctrl, VFN_NVME_CSTS_SHST_MASK, VFN_NVME_CSTS_SHST_COMPLETE, false, ctrl->shn_timeout_ms,
			   "CSTS.SHST=complete"))
		log_info("%s: shutdown not complete, disabling anyway", ctrl->hw.name);
}

/* True (logged) if queue pairs of @ctrl are still created. */
static bool ctrl_has_qpairs(struct vfn_nvme_ctrl *ctrl)
{
	unsigned int n = 0;

	pthread_mutex_lock(&ctrl->admin.lock);
	for (struct vfn_nvme_qpair *qp = ctrl->qpairs; qp; qp = qp->ctrl_next)
		n++;
	pthread_mutex_unlock(&ctrl->admin.lock);
	if (n)
		log_err("%s: not closed: %u queue pairs still created (vfn_nvme_qpair_destroy() them first)",
			ctrl->hw.name, n);
	return n != 0;
}

void vfn_nvme_ctrl_close(struct vfn_nvme_ctrl *ctrl)
{
	if (!ctrl || ctrl_has_qpairs(ctrl))
		return;
	ctrl_shutdown(ctrl);
	/* Nothing is freed before the controller's DMA has stopped. */
	vfn_nvme_ctrl_quiesce(ctrl);
	ctrl_admin_irq_fini(ctrl);
	vfn_nvme_dbbuf_fini(ctrl);
	vfn_nvme_admin_fini(ctrl);
	ctrl_free_admin_queue(ctrl);
	vfn_nvme_cmb_fini(ctrl);
	vfn_nvme_pmr_fini(ctrl);
	ctrl->hw.ops->close(&ctrl->hw);
	pthread_mutex_destroy(&ctrl->recovery_lock);
	free(ctrl->vecs);
	free(ctrl);
}

const struct vfn_nvme_ctrl_info *vfn_nvme_ctrl_get_info(const struct vfn_nvme_ctrl *ctrl)
{
	return ctrl ? &ctrl->info : NULL;
}

struct vfn_iommu *vfn_nvme_ctrl_iommu(const struct vfn_nvme_ctrl *ctrl)
{
	return ctrl ? ctrl->hw.iommu : NULL;
}

void *vfn_nvme_ctrl_doorbell(struct vfn_nvme_ctrl *ctrl, uint16_t qid, bool cq)
{
	uint64_t off = VFN_NVME_REG_DBS + (2ull * qid + (cq ? 1 : 0)) * ctrl->db_stride;

	if (off + sizeof(uint32_t) > ctrl->hw.regs_len)
		return NULL;
	return (uint8_t *)ctrl->hw.regs + off;
}

/* True if an access of @size bytes at @off is inside BAR0 and 4-byte aligned. */
static bool reg_access_ok(struct vfn_nvme_ctrl *ctrl, uint32_t off, size_t size)
{
	if (!ctrl) {
		log_debug("reg: NULL controller");
		return false;
	}
	if ((off & 3) || off > ctrl->hw.regs_len || ctrl->hw.regs_len - off < size) {
		log_debug("%s: register access of %zu bytes at 0x%x rejected (unaligned or beyond %zu)", ctrl->hw.name,
			  size, off, ctrl->hw.regs_len);
		return false;
	}
	return true;
}

uint32_t vfn_nvme_reg_read32(struct vfn_nvme_ctrl *ctrl, uint32_t off)
{
	if (!reg_access_ok(ctrl, off, sizeof(uint32_t)))
		return UINT32_MAX;
	return reg_read32(ctrl, off);
}

uint64_t vfn_nvme_reg_read64(struct vfn_nvme_ctrl *ctrl, uint32_t off)
{
	if (!reg_access_ok(ctrl, off, sizeof(uint64_t)))
		return UINT64_MAX;
	return vfn_mmio_read64((const uint8_t *)ctrl->hw.regs + off);
}

void vfn_nvme_reg_write32(struct vfn_nvme_ctrl *ctrl, uint32_t off, uint32_t val)
{
	if (reg_access_ok(ctrl, off, sizeof(uint32_t)))
		reg_write32(ctrl, off, val);
}

void vfn_nvme_reg_write64(struct vfn_nvme_ctrl *ctrl, uint32_t off, uint64_t val)
{
	if (reg_access_ok(ctrl, off, sizeof(uint64_t)))
		reg_write64(ctrl, off, val);
}
