/* SPDX-License-Identifier: MIT */
/*
 * Device handle backends over vfn's own NVMe driver: "vfio" (a controller
 * bound to vfio-pci) and "sim" (the simulated controller).  Both open a
 * struct vfn_nvme_ctrl; synchronous I/O goes on a queue pair created at the
 * first vfn_dev_io(), each vfn_dev_queue is a queue pair of its own.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vfn/iommu.h>
#include <vfn/pci.h>

#include "dev/dev-priv.h"
#include "support/log.h"

#define DEV_SPIN_CHECK 1024u /* empty polls between clock reads */

/* ---- probe and open ------------------------------------------------------ */

/* The /dev/nvmeN name the kernel nvme driver gave @bdf, or "" (in @out). */
static void nvme_ctrl_name(const char *bdf, char *out, size_t len)
{
	char dir[128];
	struct dirent *e;
	DIR *d;

	out[0] = '\0';
	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/nvme", bdf);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "nvme", 4) && strlen(e->d_name) < len)
			memcpy(out, e->d_name, strlen(e->d_name) + 1);
	closedir(d);
}

/* Why the NVMe function @f, not on vfio-pci, cannot be opened here (in @why). */
static void why_not_vfio(const struct vfn_pci_func *f, char *why, size_t len)
{
	char name[32];

	if (!f->driver[0]) {
		snprintf(why, len, "%s is bound to no driver; `vfn bind %s` hands it to vfio-pci", f->bdf, f->bdf);
		return;
	}
	nvme_ctrl_name(f->bdf, name, sizeof(name));
	if (!strcmp(f->driver, "nvme") && name[0])
		snprintf(why, len, "%s is bound to the kernel nvme driver: open /dev/%s, or `vfn bind %s`", f->bdf,
			 name, f->bdf);
	else
		snprintf(why, len, "%s is bound to %s, not vfio-pci; `vfn bind %s` hands it over", f->bdf, f->driver,
			 f->bdf);
}

static int vfio_probe(const char *uri, char *why, size_t len)
{
	struct vfn_pci_func f;
	char bdf[VFN_PCI_BDF_LEN];

	if (vfn_pci_parse_bdf(uri, bdf)) {
		snprintf(why, len, "not a PCI address (e.g. 0000:01:00.0)");
		return -EINVAL;
	}
	if (vfn_pci_get_func(bdf, &f)) {
		snprintf(why, len, "no PCI device at %s", bdf);
		return -ENODEV;
	}
	if ((f.class_code & VFN_PCI_CLASS_NVME_MASK) != (VFN_PCI_CLASS_NVME & VFN_PCI_CLASS_NVME_MASK)) {
		snprintf(why, len, "%s is not an NVMe controller (class %06x)", bdf, f.class_code);
		return -ENODEV;
	}
	if (strcmp(f.driver, "vfio-pci")) {
		why_not_vfio(&f, why, len);
		return -ENODEV;
	}
	if (f.iommu_group < 0) {
		snprintf(why, len, "%s has no IOMMU group (is the IOMMU on?)", bdf);
		return -ENODEV;
	}
	return 0;
}

static int sim_probe(const char *uri, char *why, size_t len)
{
	if (strncmp(uri, "sim:", 4)) {
		snprintf(why, len, "no \"sim:\" prefix");
		return -EINVAL;
	}
	return 0;
}

static int ctrl_open(struct vfn_dev *dev, const char *uri, const struct vfn_dev_opts *opts)
{
	struct vfn_nvme_ctrl_opts co = { 0 };
	char bdf[VFN_PCI_BDF_LEN];
	uint16_t nr;
	int ret;

	if (opts && opts->ctrl_opts)
		co = *opts->ctrl_opts;
	if (!co.timeout_ms)
		co.timeout_ms = dev->timeout_ms;
	if (!vfn_pci_parse_bdf(uri, bdf))
		snprintf(dev->info.name, sizeof(dev->info.name), "%s", bdf);
	ret = vfn_nvme_ctrl_open(strncmp(uri, "sim:", 4) ? bdf : uri, &co, &dev->ctrl);
	if (ret)
		return ret;
	nr = vfn_nvme_ctrl_get_info(dev->ctrl)->nr_sq;
	if (vfn_nvme_ctrl_get_info(dev->ctrl)->nr_cq < nr)
		nr = vfn_nvme_ctrl_get_info(dev->ctrl)->nr_cq;
	dev->nr_qids = nr;
	snprintf(dev->info.iommu, sizeof(dev->info.iommu), "%s",
		 vfn_iommu_backend_name(vfn_nvme_ctrl_iommu(dev->ctrl)));
	dev->qid_used = calloc((size_t)nr + 1, 1);
	if (!dev->qid_used) {
		vfn_nvme_ctrl_close(dev->ctrl);
		return -ENOMEM;
	}
	dev->iommu = vfn_nvme_ctrl_iommu(dev->ctrl);
	vfn_iommu_get(dev->iommu);
	return 0;
}

/* Frees the kept bounce buffers (the device can no longer write them). */
static void bounce_free_kept(struct vfn_dev *dev)
{
	struct vfn_dev_bounce *b, *next;

	for (b = dev->kept; b; b = next) {
		next = b->next;
		vfn_dma_free(dev->iommu, b->vaddr, b->len);
		free(b);
	}
	dev->kept = NULL;
}

static void ctrl_close(struct vfn_dev *dev)
{
	vfn_nvme_qpair_destroy(dev->sync_qp);
	/* Shut down and closed (VFIO: the function reset), no DMA is left in flight. */
	vfn_nvme_ctrl_close(dev->ctrl);
	bounce_free_kept(dev);
	vfn_iommu_put(dev->iommu);
	free(dev->qid_used);
}

static void ctrl_limits(struct vfn_dev *dev)
{
	const struct vfn_nvme_ctrl_info *ci = vfn_nvme_ctrl_get_info(dev->ctrl);

	dev->info.max_xfer = ci->max_xfer;
	dev->info.max_queues = dev->nr_qids;
	dev->info.max_qd = ci->qpair_max_entries - 1; /* the largest pair holds one command less than its entries */
	dev->info.io = dev->nr_qids > 0;
}

/*
 * A handle over a controller its caller opened and keeps (vfn_dev_from_ctrl()):
 * admin commands only (no queue id of the caller's is taken: max_queues 0),
 * and closing it leaves the controller open.
 */
static void borrowed_limits(struct vfn_dev *dev)
{
	dev->info.max_xfer = vfn_nvme_ctrl_get_info(dev->ctrl)->max_xfer;
	dev->info.max_queues = 0;
	dev->info.max_qd = 0;
	dev->info.io = false;
}

static void borrowed_close(struct vfn_dev *dev)
{
	/* The controller stays live: a kept bounce buffer may still be written, so it is left allocated. */
	if (dev->kept)
		log_info("%s: leaving bounce buffers of commands that never completed allocated", dev->info.name);
	vfn_iommu_put(dev->iommu);
}

static int borrowed_io(struct vfn_dev *dev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len,
		       struct vfn_nvme_cqe *cqe, uint32_t timeout_ms)
{
	log_info("%s: a handle from vfn_dev_from_ctrl() sends admin commands only", dev->info.name);
	return -ENOTSUP;
}

static int borrowed_io_meta(struct vfn_dev *dev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, void *meta,
			    size_t meta_len, struct vfn_nvme_cqe *cqe, uint32_t timeout_ms)
{
	return borrowed_io(dev, sqe, buf, len, cqe, timeout_ms);
}

static int borrowed_queue_create(struct vfn_dev_queue *q)
{
	return -ENOTSUP;
}

static int ctrl_admin(struct vfn_dev *dev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len,
		      struct vfn_nvme_cqe *cqe, uint32_t timeout_ms);
static ssize_t ctrl_buf_alloc(struct vfn_dev *dev, size_t len, void **buf);
static void ctrl_buf_free(struct vfn_dev *dev, void *buf, size_t len);
static void ctrl_queue_destroy(struct vfn_dev_queue *q);
static int ctrl_submit(struct vfn_dev_queue *q, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, void *meta,
		       size_t meta_len, vfn_dev_cb cb, void *arg);
static int ctrl_poll(struct vfn_dev_queue *q, uint32_t max, bool wait);

static const struct vfn_dev_ops borrowed_ops = {
	.io_meta = borrowed_io_meta,
	.admin = ctrl_admin,
	.io = borrowed_io,
	.queue_create = borrowed_queue_create,
	.queue_destroy = ctrl_queue_destroy,
	.submit = ctrl_submit,
	.poll = ctrl_poll,
	.buf_alloc = ctrl_buf_alloc,
	.buf_free = ctrl_buf_free,
	.limits = borrowed_limits,
	.close = borrowed_close,
};

void vfn_dev_ctrl_borrow(struct vfn_dev *dev, struct vfn_nvme_ctrl *ctrl)
{
	dev->ops = &borrowed_ops;
	dev->ctrl = ctrl;
	dev->nr_qids = 0;
	dev->iommu = vfn_nvme_ctrl_iommu(ctrl);
	vfn_iommu_get(dev->iommu);
	snprintf(dev->info.iommu, sizeof(dev->info.iommu), "%s", vfn_iommu_backend_name(dev->iommu));
}

/* ---- queue ids ------------------------------------------------------------- */

static int qid_get(struct vfn_dev *dev, uint16_t *qid)
{
	for (uint16_t i = 1; i <= dev->nr_qids; i++) {
		if (!dev->qid_used[i]) {
			dev->qid_used[i] = 1;
			*qid = i;
			return 0;
		}
	}
	log_err("%s: all %u I/O queues the controller granted are in use", dev->info.name, dev->nr_qids);
	return -EBUSY;
}

/* Creates a queue pair (polled, or with @irq its vector's eventfd) holding @depth commands on a free queue id. */
static int qpair_get_irq(struct vfn_dev *dev, uint32_t depth, bool irq, struct vfn_nvme_qpair **qp, uint16_t *qid)
{
	struct vfn_nvme_qpair_opts qo = { .entries = depth + 1, .irq = irq, .timeout_ms = dev->timeout_ms };
	int ret = qid_get(dev, qid);

	if (ret)
		return ret;
	ret = vfn_nvme_qpair_create(dev->ctrl, *qid, &qo, qp);
	if (ret == -ENOTSUP && irq) {
		/*
		 * No vector @qid: fewer vectors than queues (MSI or INTx after
		 * AUTO fell back has one).  Share vector 0, which every type has.
		 */
		log_info("%s: queue %u: no interrupt vector %u, sharing vector 0", dev->info.name, *qid, *qid);
		qo.vector_set = true;
		qo.vector = 0;
		ret = vfn_nvme_qpair_create(dev->ctrl, *qid, &qo, qp);
	}
	if (ret)
		dev->qid_used[*qid] = 0;
	return ret;
}

static int qpair_get(struct vfn_dev *dev, uint32_t depth, struct vfn_nvme_qpair **qp, uint16_t *qid)
{
	return qpair_get_irq(dev, depth, false, qp, qid);
}

int vfn_dev_ctrl_qpair_open(struct vfn_dev *dev, uint32_t depth, bool irq, struct vfn_nvme_qpair **qp, uint16_t *qid)
{
	if (!dev->ctrl)
		return -ENOTSUP;
	return qpair_get_irq(dev, depth, irq, qp, qid);
}

void vfn_dev_ctrl_qpair_close(struct vfn_dev *dev, struct vfn_nvme_qpair *qp, uint16_t qid)
{
	vfn_nvme_qpair_destroy(qp);
	dev->qid_used[qid] = 0;
}

/* ---- synchronous commands ------------------------------------------------ */

static bool sync_qp_idle(const struct vfn_dev *dev);

void vfn_dev_ctrl_sync_qp_drop(struct vfn_dev *dev)
{
	uint16_t qid;

	if (!dev->ctrl || !dev->sync_qp || !sync_qp_idle(dev) || dev->kept)
		return;
	qid = dev->sync_qp->sq.qid;
	vfn_dev_ctrl_qpair_close(dev, dev->sync_qp, qid);
	dev->sync_qp = NULL;
}

static int ctrl_admin(struct vfn_dev *dev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len,
		      struct vfn_nvme_cqe *cqe, uint32_t timeout_ms)
{
	struct vfn_nvme_sqe s = *sqe;

	/* The data and metadata pointers are ours, as on the kernel path: none without data. */
	s.mptr = 0;
	if (!len) {
		s.flags = (uint8_t)(s.flags & ~0xc0u);
		s.dptr.prp1 = 0;
		s.dptr.prp2 = 0;
	}
	return vfn_nvme_admin_sync(dev->ctrl, &s, buf, len, cqe, timeout_ms);
}

/* True when the controller owes the synchronous queue pair no completion. */
static bool sync_qp_idle(const struct vfn_dev *dev)
{
	return dev->sync_qp->rqs.nr_free == dev->sync_qp->rqs.nr;
}

/* True for the errors vfn_nvme_io_sync() returns before the command is posted. */
static bool io_never_sent(int ret)
{
	return ret == -EBUSY || ret == -EINVAL || ret == -EFAULT || ret == -ENOTSUP || ret == -E2BIG || ret == -ENOMEM;
}

/*
 * I/O through a DMA bounce buffer for memory that is not mapped (or not
 * all of it).  The bounce starts as a copy of @buf in both directions, so
 * what the device did not write comes back unchanged; it is copied back
 * only when the controller completed the command.  When it was sent and
 * not completed, the device may still write it: it is kept (@keep, taken
 * here) until the pair is idle or the controller closed.  At most one per
 * request of the pair is ever kept: a pair whose requests are all given up
 * on answers -EBUSY, a failed one its error, both before sending.
 */
/* One synchronous command on the handle's queue pair, with separate metadata when @meta_len. */
static int ctrl_sync(struct vfn_dev *dev, struct vfn_nvme_sqe *sqe, void *buf, size_t len, void *meta, size_t meta_len,
		     const struct vfn_nvme_io_opts *io, struct vfn_nvme_cqe *cqe)
{
	if (meta_len)
		return vfn_nvme_io_sync_meta(dev->sync_qp, sqe, buf, len, meta, meta_len, io, cqe);
	return vfn_nvme_io_sync(dev->sync_qp, sqe, buf, len, io, cqe);
}

static int ctrl_io_bounce(struct vfn_dev *dev, struct vfn_nvme_sqe *sqe, void *buf, size_t len, void *meta,
			  size_t meta_len, const struct vfn_nvme_io_opts *io, struct vfn_nvme_cqe *cqe)
{
	struct vfn_dev_bounce *keep = malloc(sizeof(*keep));
	uint64_t iova;
	ssize_t blen;
	int ret;

	if (!keep)
		return -ENOMEM;
	blen = vfn_dma_alloc(dev->iommu, len, &keep->vaddr, &iova);
	if (blen < 0) {
		free(keep);
		return (int)blen;
	}
	keep->len = (size_t)blen;
	memcpy(keep->vaddr, buf, len);
	ret = ctrl_sync(dev, sqe, keep->vaddr, len, meta, meta_len, io, cqe);
	if (vfn_dev_completed(ret, cqe) && (sqe->opcode & VFN_NVME_XFER_FROM_DEV))
		memcpy(buf, keep->vaddr, len);
	if (vfn_dev_completed(ret, cqe) || io_never_sent(ret) || sync_qp_idle(dev)) {
		vfn_dma_free(dev->iommu, keep->vaddr, keep->len);
		free(keep);
	} else {
		log_info("%s: keeping the %zu-byte bounce buffer of a command the controller did not complete (%d)",
			 dev->info.name, keep->len, ret);
		keep->next = dev->kept;
		dev->kept = keep;
	}
	return ret;
}

/* True if all @len bytes at @buf are in one DMA mapping of the controller. */
static bool ctrl_mapped(struct vfn_dev *dev, const void *buf, size_t len)
{
	size_t mapped;
	uint64_t iova;

	return !vfn_iommu_translate(dev->iommu, buf, &iova, &mapped) && mapped >= len;
}

/*
 * Whether @meta_len bytes of metadata at @meta go with SGLs (data and
 * metadata): only when they do not lie in one mapping and @qp's controller
 * takes data SGLs and metadata SGLs (SGLS bit 19).
 */
static bool ctrl_meta_sgl(struct vfn_dev *dev, struct vfn_nvme_qpair *qp, const void *meta, size_t meta_len)
{
	return meta_len && !ctrl_mapped(dev, meta, meta_len) && qp->sgl && qp->sgl_mptr;
}

/*
 * One synchronous command on the handle's queue with @meta_len bytes of
 * metadata at @meta (NULL/0: none): MPTR is ours, as on the kernel path
 * (vfn fills it and the data pointer).
 */
static int ctrl_io_mptr(struct vfn_dev *dev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, void *meta,
			size_t meta_len, struct vfn_nvme_cqe *cqe, uint32_t timeout_ms)
{
	struct vfn_nvme_io_opts io = { .timeout_ms = timeout_ms };
	struct vfn_nvme_sqe s = *sqe;
	uint16_t qid;
	int ret;

	s.mptr = 0;
	if (!dev->sync_qp) {
		ret = qpair_get(dev, dev->info.max_qd < 31 ? dev->info.max_qd : 31, &dev->sync_qp, &qid);
		if (ret)
			return ret;
	}
	if (dev->sync_qp->err)
		return dev->sync_qp->err; /* failed: posts are refused (as vfn_rq_post() would) */
	if (len > dev->sync_qp->max_xfer) {
		log_debug("%s: %zu bytes beyond the transfer limit %zu", dev->info.name, len, dev->sync_qp->max_xfer);
		return -EINVAL;
	}
	if (meta_len && !ctrl_mapped(dev, meta, meta_len) && !ctrl_meta_sgl(dev, dev->sync_qp, meta, meta_len)) {
		log_debug("%s: metadata buffer %p (%zu bytes) is not one DMA mapping (vfn_dev_buf_alloc()), and the "
			  "controller takes no metadata SGLs",
			  dev->info.name, meta, meta_len);
		return -EINVAL;
	}
	io.sgl = ctrl_meta_sgl(dev, dev->sync_qp, meta, meta_len); /* data and metadata by SGLs */
	if (len && !ctrl_mapped(dev, buf, len))
		ret = ctrl_io_bounce(dev, &s, buf, len, meta, meta_len, &io, cqe);
	else
		ret = ctrl_sync(dev, &s, buf, len, meta, meta_len, &io, cqe);
	/* Late completions reaped meanwhile may have released the kept buffers' commands. */
	if (dev->kept && sync_qp_idle(dev))
		bounce_free_kept(dev);
	return ret;
}

/* ---- memory ------------------------------------------------------------------ */

static ssize_t ctrl_buf_alloc(struct vfn_dev *dev, size_t len, void **buf)
{
	uint64_t iova;

	return vfn_dma_alloc(dev->iommu, len, buf, &iova);
}

static void ctrl_buf_free(struct vfn_dev *dev, void *buf, size_t len)
{
	vfn_dma_free(dev->iommu, buf, len);
}

/* ---- queues ---------------------------------------------------------------- */

static int ctrl_queue_create(struct vfn_dev_queue *q)
{
	int ret;

	q->ctx = calloc((size_t)q->depth + 1, sizeof(*q->ctx));
	if (!q->ctx)
		return -ENOMEM;
	ret = qpair_get(q->dev, q->depth, &q->qp, &q->qid);
	if (ret)
		free(q->ctx);
	return ret;
}

static void ctrl_queue_destroy(struct vfn_dev_queue *q)
{
	vfn_nvme_qpair_destroy(q->qp);
	q->dev->qid_used[q->qid] = 0;
	free(q->ctx);
}

static void ctrl_done(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	struct vfn_dev_queue *q = rq->opaque;
	struct vfn_dev_ctx c = q->ctx[rq->cid];

	(void)qp;
	q->inflight--;
	q->completed++;
	/* rq->err: the driver gave up on it (made-up completion), as vfn_rq_wait() reports. */
	c.cb(c.arg, vfn_unlikely(rq->err) ? rq->err : vfn_dev_cqe_ret(cqe), cqe);
}

static int ctrl_submit(struct vfn_dev_queue *q, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, void *meta,
		       size_t meta_len, vfn_dev_cb cb, void *arg)
{
	struct vfn_nvme_sqe s = *sqe;
	struct vfn_rq *rq;
	uint64_t miova = 0;
	size_t mapped = 0;
	bool msgl = false;
	int ret;

	/*
	 * MPTR is ours, as on the kernel path: the metadata buffer's IOVA (one
	 * contiguous mapping), or, across mappings, an SGL (and the data too)
	 * when the controller takes metadata SGLs.
	 */
	if (meta_len && (vfn_iommu_translate(q->dev->iommu, meta, &miova, &mapped) || mapped < meta_len)) {
		msgl = q->qp->sgl && q->qp->sgl_mptr;
		if (!msgl) {
			log_debug("dev_submit_meta: metadata %p: not %zu bytes of one vfn_dev_buf_alloc() buffer", meta,
				  meta_len);
			return -EFAULT;
		}
	}
	s.mptr = vfn_cpu_to_le64(miova);
	rq = vfn_rq_alloc(q->qp);
	if (vfn_unlikely(!rq))
		return -EBUSY;
	rq->cb = ctrl_done;
	rq->opaque = q;
	q->ctx[rq->cid] = (struct vfn_dev_ctx){ cb, arg };
	ret = vfn_rq_map(q->qp, rq, &s, buf, len, msgl);
	if (vfn_unlikely(msgl) && !ret)
		ret = vfn_rq_map_meta(q->qp, rq, &s, meta, meta_len, true);
	if (vfn_likely(!ret))
		ret = vfn_rq_post(q->qp, rq, &s);
	if (vfn_unlikely(ret)) {
		vfn_rq_free(q->qp, rq);
		return ret;
	}
	q->inflight++;
	return 0;
}

/*
 * Rings the doorbell, reaps; with @wait spins until something completed.
 * Counts callbacks, not CQEs: a stray CQE the pair drops completes nothing.
 */
static int ctrl_poll(struct vfn_dev_queue *q, uint32_t max, bool wait)
{
	uint32_t before = q->completed, spins = 0, n;
	uint64_t deadline = 0;

	vfn_nvme_qpair_submit(q->qp);
	for (;;) {
		vfn_nvme_qpair_reap(q->qp, (int)max);
		n = q->completed - before;
		if (n || !wait || !q->inflight)
			return (int)n;
		if (++spins % DEV_SPIN_CHECK)
			continue;
		if (!deadline)
			deadline = vfn_now_ns() + (uint64_t)q->timeout_ms * 1000000;
		else if (vfn_now_ns() > deadline)
			return -ETIMEDOUT;
	}
}

static int ctrl_io(struct vfn_dev *dev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, struct vfn_nvme_cqe *cqe,
		   uint32_t timeout_ms)
{
	return ctrl_io_mptr(dev, sqe, buf, len, NULL, 0, cqe, timeout_ms);
}

/*
 * The metadata goes by MPTR, never bounced: one buffer the controller can
 * reach (vfn_dev_buf_alloc()), or mapped memory across mappings as an SGL
 * when the controller takes metadata SGLs.
 */
static int ctrl_io_meta(struct vfn_dev *dev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, void *meta,
			size_t meta_len, struct vfn_nvme_cqe *cqe, uint32_t timeout_ms)
{
	return ctrl_io_mptr(dev, sqe, buf, len, meta, meta_len, cqe, timeout_ms);
}

static const struct vfn_dev_ops ctrl_ops = {
	.io_meta = ctrl_io_meta,
	.admin = ctrl_admin,
	.io = ctrl_io,
	.queue_create = ctrl_queue_create,
	.queue_destroy = ctrl_queue_destroy,
	.submit = ctrl_submit,
	.poll = ctrl_poll,
	.buf_alloc = ctrl_buf_alloc,
	.buf_free = ctrl_buf_free,
	.limits = ctrl_limits,
	.close = ctrl_close,
};

const struct vfn_dev_backend_desc vfn_dev_backend_vfio = {
	.name = "vfio",
	.id = VFN_DEV_VFIO,
	.probe = vfio_probe,
	.open = ctrl_open,
	.ops = &ctrl_ops,
};

const struct vfn_dev_backend_desc vfn_dev_backend_sim = {
	.name = "sim",
	.id = VFN_DEV_SIM,
	.probe = sim_probe,
	.open = ctrl_open,
	.ops = &ctrl_ops,
};
