/* SPDX-License-Identifier: MIT */
/* Synchronous admin commands on the polled admin queue. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vfn/spec.h>
#include <vfn/pi.h>

#include "nvme/ctrl-priv.h"
#include "nvme/pi-priv.h"
#include "nvme/prp.h"
#include "support/log.h"

#define ADMIN_SPIN_POLLS 64   /* CQ polls before the first sleep */
#define ADMIN_IRQ_CHECK_MS 10 /* longest eventfd sleep between CSTS checks (opts.admin_irq) */
#define ADMIN_SLEEP_MIN_NS 10000
#define ADMIN_SLEEP_MAX_NS 1000000
#define ADMIN_NR_CIDS 65536

/* The DMA memory behind one command's data. */
struct admin_data {
	void *vaddr;
	uint64_t iova;
	size_t alloc_len;	  /* 0: the controller's bounce page */
	struct vfn_prp_list list; /* entries 0: no PRP list */
};

int vfn_nvme_admin_init(struct vfn_nvme_ctrl *ctrl)
{
	struct vfn_nvme_admin *a = &ctrl->admin;
	ssize_t len;
	int ret;

	/* On from the first command when asked for at open. */
	ret = vfn_nvme_cmdlog_new(ctrl->opts.admin_log_entries, &a->log);
	if (ret)
		return ret;
	ret = pthread_mutex_init(&a->lock, NULL);
	if (ret) {
		free(a->log);
		a->log = NULL;
		return -ret;
	}
	len = vfn_dma_alloc(ctrl->hw.iommu, ctrl->page_size, &a->bounce, &a->bounce_iova);
	if (len < 0) {
		log_err("%s: cannot allocate the admin bounce buffer: %zd", ctrl->hw.name, len);
		pthread_mutex_destroy(&a->lock);
		free(a->log);
		a->log = NULL;
		return (int)len;
	}
	return 0;
}

/* Frees the retired buffers of admin command @cid, or all of them (@all: the controller is disabled). Locked. */
static void retired_free(struct vfn_nvme_ctrl *ctrl, int32_t cid, bool all)
{
	struct vfn_nvme_retired_buf **p = &ctrl->admin.retired, *r;

	while ((r = *p)) {
		if (!all && r->cid != cid) {
			p = &r->next;
			continue;
		}
		*p = r->next;
		vfn_dma_free(ctrl->hw.iommu, r->vaddr, r->len);
		free(r);
	}
}

/* Keeps @vaddr mapped (see vfn_nvme_admin_retire()); unmaps it if it cannot be tracked. Locked. */
static void retire_locked(struct vfn_nvme_ctrl *ctrl, void *vaddr, size_t len, int32_t cid)
{
	struct vfn_nvme_admin *a = &ctrl->admin;
	struct vfn_nvme_retired_buf *r = malloc(sizeof(*r));

	if (!r) {
		log_err("%s: cannot track DMA memory the controller may still use; unmapping it", ctrl->hw.name);
		vfn_dma_free(ctrl->hw.iommu, vaddr, len);
		return;
	}
	*r = (struct vfn_nvme_retired_buf){ .next = a->retired, .vaddr = vaddr, .len = len, .cid = cid };
	a->retired = r;
}

void vfn_nvme_admin_retire(struct vfn_nvme_ctrl *ctrl, void *vaddr, size_t len, int32_t cid)
{
	pthread_mutex_lock(&ctrl->admin.lock);
	retire_locked(ctrl, vaddr, len, cid);
	pthread_mutex_unlock(&ctrl->admin.lock);
}

int vfn_nvme_admin_refused(struct vfn_nvme_ctrl *ctrl)
{
	int failed = vfn_nvme_ctrl_failed(ctrl);

	if (!failed || __atomic_load_n(&ctrl->restarting, __ATOMIC_ACQUIRE))
		return 0;
	return failed == -ENODEV ? -ENODEV : -EIO;
}

void vfn_nvme_admin_fini(struct vfn_nvme_ctrl *ctrl)
{
	struct vfn_nvme_admin *a = &ctrl->admin;

	retired_free(ctrl, -1, true);
	vfn_dma_free(ctrl->hw.iommu, a->bounce, ctrl->page_size);
	a->bounce = NULL;
	free(a->log);
	a->log = NULL;
	pthread_mutex_destroy(&a->lock);
}

static bool cid_abandoned(const struct vfn_nvme_admin *a, uint16_t cid)
{
	return (a->abandoned[cid / 64] >> (cid % 64)) & 1;
}

static void cid_set_abandoned(struct vfn_nvme_admin *a, uint16_t cid, bool on)
{
	if (on)
		a->abandoned[cid / 64] |= 1ull << (cid % 64);
	else
		a->abandoned[cid / 64] &= ~(1ull << (cid % 64));
}

/* Per-command DMA memory for transfers larger than the bounce page, PRP list after the data. */
static int admin_data_alloc(struct vfn_nvme_ctrl *ctrl, size_t len, struct admin_data *d)
{
	size_t page = ctrl->page_size;
	size_t data_len, slots;
	ssize_t ret;

	if (len > SIZE_MAX / 2) {
		log_debug("%s: admin transfer of %zu bytes too large", ctrl->hw.name, len);
		return -EINVAL;
	}
	data_len = (len + page - 1) & ~(page - 1);
	slots = vfn_prp_list_slots(0, len, page, 0);
	ret = vfn_dma_alloc(ctrl->hw.iommu, data_len + slots * sizeof(vfn_le64), &d->vaddr, &d->iova);
	if (ret < 0) {
		log_debug("%s: cannot allocate %zu bytes for an admin command: %zd", ctrl->hw.name, len, ret);
		return (int)ret;
	}
	d->alloc_len = (size_t)ret;
	d->list = (struct vfn_prp_list){
		.vaddr = (vfn_le64 *)((uint8_t *)d->vaddr + data_len),
		.iova = d->iova + data_len,
		.entries = slots,
	};
	return 0;
}

/* DMA memory for @len bytes: the bounce page if it fits and is available, else a new allocation. */
static int admin_data_get(struct vfn_nvme_ctrl *ctrl, size_t len, struct admin_data *d)
{
	memset(d, 0, sizeof(*d));
	if (!len)
		return 0;
	if (len <= ctrl->page_size && ctrl->admin.bounce) {
		d->vaddr = ctrl->admin.bounce;
		d->iova = ctrl->admin.bounce_iova;
		return 0;
	}
	return admin_data_alloc(ctrl, len, d);
}

/*
 * Keeps the data memory of command @cid, which never completed, mapped
 * until it completes late or the controller is disabled, so a late
 * transfer lands in memory nobody else uses.
 */
static void admin_data_retire(struct vfn_nvme_ctrl *ctrl, struct admin_data *d, uint16_t cid)
{
	struct vfn_nvme_admin *a = &ctrl->admin;

	retire_locked(ctrl, d->vaddr, d->alloc_len ? d->alloc_len : ctrl->page_size, cid);
	if (d->alloc_len)
		return;
	/* The bounce page went with it: get a fresh one (or use per-command memory until then). */
	if (vfn_dma_alloc(ctrl->hw.iommu, ctrl->page_size, &a->bounce, &a->bounce_iova) < 0)
		a->bounce = NULL;
}

/* Gives back @d; that of abandoned command @cid (-1: none) is retired. */
static void admin_data_put(struct vfn_nvme_ctrl *ctrl, struct admin_data *d, int32_t cid)
{
	if (!d->vaddr)
		return;
	if (cid >= 0)
		admin_data_retire(ctrl, d, (uint16_t)cid);
	else if (d->alloc_len)
		vfn_dma_free(ctrl->hw.iommu, d->vaddr, d->alloc_len);
}

/*
 * Fills the SQE's data pointer with PRPs (admin commands never use SGLs).
 * Without data it is left as the caller set it: Create I/O SQ/CQ carry the
 * queue's address in PRP1.
 */
static int admin_set_dptr(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_sqe *sqe, const struct admin_data *d, size_t len)
{
	uint64_t prp1 = 0, prp2 = 0;
	int ret;

	if (!len)
		return 0;
	sqe->flags = (uint8_t)((sqe->flags & ~0xc0u) | VFN_NVME_SQE_PSDT_PRP);
	ret = vfn_prp_build(d->iova, len, ctrl->page_size, d->list.entries ? &d->list : NULL, &prp1, &prp2);
	if (ret)
		return ret;
	sqe->dptr.prp1 = vfn_cpu_to_le64(prp1);
	sqe->dptr.prp2 = vfn_cpu_to_le64(prp2);
	return 0;
}

/* A completion nobody waits for: a late one for a timed-out command, or a bogus one. */
static void admin_drop(struct vfn_nvme_ctrl *ctrl, const struct vfn_nvme_cqe *cqe)
{
	uint16_t cid = vfn_le16_to_cpu(cqe->cid), sqid = vfn_le16_to_cpu(cqe->sqid);
	uint16_t status = vfn_nvme_cqe_status(cqe);

	if (sqid == 0 && cid_abandoned(&ctrl->admin, cid)) {
		cid_set_abandoned(&ctrl->admin, cid, false);
		retired_free(ctrl, cid, false); /* the controller is done with its buffer */
		vfn_nvme_admin_log_complete(&ctrl->admin, cqe, true);
		log_info("%s: late completion of timed-out admin command %u (status 0x%x) dropped", ctrl->hw.name, cid,
			 status);
		return;
	}
	log_err("%s: unexpected admin completion (cid %u, sqid %u, status 0x%x) dropped", ctrl->hw.name, cid, sqid,
		status);
}

/* Posts @sqe as it is (command id set) and rings the doorbell. */
static int admin_submit(struct vfn_nvme_ctrl *ctrl, const struct vfn_nvme_sqe *sqe)
{
	struct vfn_nvme_admin *a = &ctrl->admin;

	if (!vfn_sq_space(&a->sq)) {
		log_err("%s: admin queue full of commands that did not complete", ctrl->hw.name);
		return -EBUSY;
	}
	vfn_sq_post(&a->sq, sqe);
	vfn_nvme_admin_log_post(a, sqe);
	vfn_sq_ring(&a->sq);
	return 0;
}

/* Posts the Asynchronous Event Request with command id VFN_NVME_AER_CID_BASE + @i. Locked. */
static int aer_post(struct vfn_nvme_ctrl *ctrl, unsigned int i)
{
	struct vfn_nvme_sqe sqe = {
		.opcode = VFN_NVME_ADMIN_ASYNC_EVENT,
		.cid = vfn_cpu_to_le16((uint16_t)(VFN_NVME_AER_CID_BASE + i)),
	};
	int ret;

	ret = admin_submit(ctrl, &sqe);
	if (!ret)
		ctrl->admin.aer_busy |= (uint16_t)(1u << i);
	return ret;
}

/* An AER completed: keep the event for the callback and post the request again. Locked. */
static void aer_complete(struct vfn_nvme_ctrl *ctrl, const struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_admin *a = &ctrl->admin;
	unsigned int i = vfn_le16_to_cpu(cqe->cid) - VFN_NVME_AER_CID_BASE;
	uint16_t status = vfn_nvme_cqe_status(cqe);

	a->aer_busy &= (uint16_t) ~(1u << i);
	vfn_nvme_admin_log_complete(a, cqe, false);
	if (status & 0x7ff) {
		log_info("%s: Asynchronous Event Request failed: %s (0x%x), not re-armed", ctrl->hw.name,
			 vfn_nvme_status_str(status), status);
		return;
	}
	if (a->aer_nr == VFN_NVME_AER_MAX) {
		a->aer_lost++;
		log_err("%s: asynchronous event 0x%x lost (callback too slow)", ctrl->hw.name,
			vfn_le32_to_cpu(cqe->dw0));
	} else {
		a->aer_events[(a->aer_head + a->aer_nr++) % VFN_NVME_AER_MAX] = vfn_le32_to_cpu(cqe->dw0);
	}
	if (a->aer_cb && i < a->aer_limit && aer_post(ctrl, i))
		log_err("%s: cannot re-arm Asynchronous Event Request %u", ctrl->hw.name, i);
}

/*
 * Consumes the posted completions; true (and *@out filled) once @cid's is
 * among them (@cid -1: none is waited for).  Routes AER completions.
 */
static bool admin_reap(struct vfn_nvme_ctrl *ctrl, int32_t cid, struct vfn_nvme_cqe *out)
{
	struct vfn_nvme_admin *a = &ctrl->admin;
	struct vfn_nvme_cqe *cqe, c;
	bool found = false, popped = false;

	while (!found && (cqe = vfn_cq_peek(&a->cq))) {
		c = *cqe;
		vfn_cq_pop(&a->cq);
		popped = true;
		if (vfn_le16_to_cpu(c.sqid) != 0) {
			admin_drop(ctrl, &c);
			continue;
		}
		if (vfn_le16_to_cpu(c.sqhd) < a->sq.entries)
			vfn_sq_update_head(&a->sq, &c);
		if (vfn_le16_to_cpu(c.cid) == cid) {
			vfn_nvme_admin_log_complete(a, &c, false);
			*out = c;
			found = true;
		} else if (vfn_le16_to_cpu(c.cid) >= VFN_NVME_AER_CID_BASE &&
			   (a->aer_busy >> (vfn_le16_to_cpu(c.cid) - VFN_NVME_AER_CID_BASE)) & 1) {
			aer_complete(ctrl, &c);
		} else {
			admin_drop(ctrl, &c);
		}
	}
	if (popped)
		vfn_cq_ring(&a->cq);
	return found;
}

/*
 * Sleeps on vector 0's eventfd (opts.admin_irq) until it fires, @deadline
 * passes or ADMIN_IRQ_CHECK_MS (CSTS is checked that often), and resets it.
 */
static void admin_sleep_irq(struct vfn_nvme_ctrl *ctrl, uint64_t deadline)
{
	struct pollfd pfd = { .fd = ctrl->admin_efd, .events = POLLIN };
	uint64_t now = vfn_now_ns(), count;
	int ms = now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);

	if (ms > ADMIN_IRQ_CHECK_MS)
		ms = ADMIN_IRQ_CHECK_MS;
	if (poll(&pfd, 1, ms) > 0 && read(ctrl->admin_efd, &count, sizeof(count)) == sizeof(count)) {
		__atomic_add_fetch(&ctrl->admin_irq_wakes, 1, __ATOMIC_RELAXED);
		vfn_nvme_ctrl_irq_ack(ctrl);
	}
}

/*
 * Polls for @cid's completion: spins briefly, then sleeps (with backoff, or
 * on the admin vector's eventfd), checking CSTS.
 */
static int admin_wait(struct vfn_nvme_ctrl *ctrl, uint16_t cid, struct vfn_nvme_cqe *out, uint32_t timeout_ms)
{
	uint64_t deadline = vfn_now_ns() + (uint64_t)timeout_ms * 1000000;
	long sleep_ns = ADMIN_SLEEP_MIN_NS;
	int ret;

	for (unsigned int polls = 0;; polls++) {
		bool expired = vfn_now_ns() > deadline;
		struct timespec ts = { 0, sleep_ns };

		if (admin_reap(ctrl, cid, out))
			return 0;
		if (polls < ADMIN_SPIN_POLLS)
			continue;
		/* Another thread may have failed (and so quiesced) the controller meanwhile. */
		ret = vfn_nvme_admin_refused(ctrl);
		if (!ret)
			ret = vfn_nvme_ctrl_check_csts(ctrl);
		if (ret)
			return ret;
		if (expired)
			return -ETIMEDOUT;
		if (ctrl->admin_efd >= 0) {
			admin_sleep_irq(ctrl, deadline);
			continue;
		}
		nanosleep(&ts, NULL);
		if (sleep_ns < ADMIN_SLEEP_MAX_NS)
			sleep_ns *= 2;
	}
}

/* Picks a command id that no abandoned command still holds. */
static int admin_alloc_cid(struct vfn_nvme_admin *a, uint16_t *cid)
{
	for (unsigned int i = 0; i < ADMIN_NR_CIDS; i++) {
		uint16_t c = a->next_cid++;

		if (c < VFN_NVME_AER_CID_BASE && !cid_abandoned(a, c)) {
			*cid = c;
			return 0;
		}
	}
	return -EBUSY;
}

/* Posts @sqe with a fresh command id and rings the doorbell; stores the id. */
static int admin_post(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_sqe *sqe, uint16_t *cid)
{
	if (admin_alloc_cid(&ctrl->admin, cid)) {
		log_err("%s: no admin command id free of commands that did not complete", ctrl->hw.name);
		return -EBUSY;
	}
	sqe->cid = vfn_cpu_to_le16(*cid);
	return admin_submit(ctrl, sqe);
}

/* Posts @sqe and waits; on failure the command is abandoned. Locked by the caller. */
static int admin_exec(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_sqe *sqe, void *buf, size_t len,
		      struct vfn_nvme_cqe *cqe, uint32_t timeout_ms)
{
	unsigned int dir = sqe->opcode & 0x3;
	struct admin_data d;
	int32_t abandoned = -1;
	uint16_t cid;
	int ret;

	ret = admin_data_get(ctrl, len, &d);
	if (ret)
		return ret;
	/*
	 * In both directions: what the controller does not write (an error
	 * status, a short transfer) comes back to @buf unchanged.
	 */
	if (len)
		memcpy(d.vaddr, buf, len);
	ret = admin_set_dptr(ctrl, sqe, &d, len);
	if (ret)
		goto put_data;
	ret = admin_post(ctrl, sqe, &cid);
	if (ret)
		goto put_data;
	ret = admin_wait(ctrl, cid, cqe, timeout_ms);
	if (ret) {
		log_err("%s: admin command %u (%s) abandoned: %d", ctrl->hw.name, cid,
			vfn_nvme_opcode_str(true, sqe->opcode), ret);
		cid_set_abandoned(&ctrl->admin, cid, true);
		vfn_nvme_admin_log_abandon(&ctrl->admin, cid, ret);
		vfn_nvme_admin_log_debug_dump(&ctrl->admin, cid);
		abandoned = cid;
	} else if (len && (dir & VFN_NVME_XFER_FROM_DEV)) {
		memcpy(buf, d.vaddr, len);
	}
put_data:
	admin_data_put(ctrl, &d, abandoned);
	return ret;
}

static int admin_check_args(struct vfn_nvme_ctrl *ctrl, const struct vfn_nvme_sqe *sqe, const void *buf, size_t len)
{
	if (!ctrl || !sqe) {
		log_debug("admin: NULL %s", ctrl ? "sqe" : "controller");
		return -EINVAL;
	}
	if (!len)
		return 0;
	if (!buf) {
		log_debug("%s: admin: %zu bytes but no buffer", ctrl->hw.name, len);
		return -EINVAL;
	}
	if ((sqe->opcode & 0x3) == VFN_NVME_XFER_NONE) {
		log_debug("%s: admin: opcode 0x%02x transfers no data, got %zu bytes", ctrl->hw.name, sqe->opcode, len);
		return -EINVAL;
	}
	if (ctrl->info.max_xfer && len > ctrl->info.max_xfer) {
		log_debug("%s: admin: %zu bytes beyond MDTS (%zu)", ctrl->hw.name, len, ctrl->info.max_xfer);
		return -EINVAL;
	}
	return 0;
}

/*
 * Gives the events kept so far to the callback, without the lock (it may
 * send admin commands); a nested call leaves them to the outer one.
 */
static int aer_deliver(struct vfn_nvme_ctrl *ctrl)
{
	struct vfn_nvme_admin *a = &ctrl->admin;
	int n = 0;

	for (;;) {
		vfn_nvme_aer_cb cb;
		uint32_t dw0;
		void *arg;

		pthread_mutex_lock(&a->lock);
		if (a->aer_delivering || !a->aer_nr) {
			pthread_mutex_unlock(&a->lock);
			return n;
		}
		dw0 = a->aer_events[a->aer_head];
		a->aer_head = (a->aer_head + 1) % VFN_NVME_AER_MAX;
		a->aer_nr--;
		cb = a->aer_cb;
		arg = a->aer_arg;
		a->aer_delivering = cb != NULL;
		pthread_mutex_unlock(&a->lock);
		if (!cb)
			continue; /* nobody listens any more: dropped */
		cb(ctrl, dw0, arg);
		n++;
		pthread_mutex_lock(&a->lock);
		a->aer_delivering = false;
		pthread_mutex_unlock(&a->lock);
	}
}

/* Posts AERs up to the limit. Locked. */
static int aer_fill(struct vfn_nvme_ctrl *ctrl)
{
	struct vfn_nvme_admin *a = &ctrl->admin;
	int ret;

	for (unsigned int i = 0; i < a->aer_limit; i++) {
		if ((a->aer_busy >> i) & 1)
			continue;
		ret = aer_post(ctrl, i);
		if (ret)
			return ret;
	}
	return 0;
}

int vfn_nvme_aer_rearm(struct vfn_nvme_ctrl *ctrl)
{
	int ret = vfn_nvme_admin_refused(ctrl);

	if (ret) {
		log_debug("%s: controller failed: Asynchronous Event Requests are posted after a reset", ctrl->hw.name);
		return ret;
	}
	pthread_mutex_lock(&ctrl->admin.lock);
	if (ctrl->admin.aer_cb)
		ret = aer_fill(ctrl);
	pthread_mutex_unlock(&ctrl->admin.lock);
	return ret;
}

int vfn_nvme_aer_set_callback(struct vfn_nvme_ctrl *ctrl, vfn_nvme_aer_cb cb, void *arg)
{
	struct vfn_nvme_admin *a;
	unsigned int limit;

	if (!ctrl) {
		log_debug("aer_set_callback: NULL controller");
		return -EINVAL;
	}
	a = &ctrl->admin;
	limit = ctrl->aerl + 1u;
	if (limit > VFN_NVME_AER_MAX)
		limit = VFN_NVME_AER_MAX;
	if (limit > a->sq.entries - 2u)
		limit = a->sq.entries - 2u;
	if (!limit) {
		log_debug("%s: admin queue of %u entries has no room for AERs", ctrl->hw.name, a->sq.entries);
		return -ENOTSUP;
	}
	pthread_mutex_lock(&a->lock);
	a->aer_cb = cb;
	a->aer_arg = arg;
	a->aer_limit = limit;
	pthread_mutex_unlock(&a->lock);
	return vfn_nvme_aer_rearm(ctrl);
}

int vfn_nvme_admin_poll(struct vfn_nvme_ctrl *ctrl)
{
	struct vfn_nvme_cqe unused;

	if (!ctrl) {
		log_debug("admin_poll: NULL controller");
		return -EINVAL;
	}
	pthread_mutex_lock(&ctrl->admin.lock);
	admin_reap(ctrl, -1, &unused);
	pthread_mutex_unlock(&ctrl->admin.lock);
	return aer_deliver(ctrl);
}

void vfn_nvme_admin_reset(struct vfn_nvme_ctrl *ctrl)
{
	struct vfn_nvme_admin *a = &ctrl->admin;

	pthread_mutex_lock(&a->lock);
	memset(a->ring_mem, 0, a->ring_len);
	a->sq.tail = a->sq.head = a->sq.db_tail = a->sq.mmio_tail = 0;
	a->cq.head = a->cq.db_head = a->cq.mmio_head = a->cq.unreported = 0;
	a->cq.phase = 1;
	memset(a->abandoned, 0, sizeof(a->abandoned));
	a->aer_busy = 0;
	retired_free(ctrl, -1, true);
	vfn_nvme_admin_log_reset(a);
	pthread_mutex_unlock(&a->lock);
}

/* vfn_nvme_admin_sync() but for delivering asynchronous events. */
static int admin_sync(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_sqe *sqe, void *buf, size_t len,
		      struct vfn_nvme_cqe *cqe, uint32_t timeout_ms)
{
	struct vfn_nvme_cqe c = { 0 };
	uint16_t status;
	int ret;

	ret = admin_check_args(ctrl, sqe, buf, len);
	if (ret)
		return ret;
	ret = vfn_nvme_admin_refused(ctrl);
	if (ret) {
		log_debug("%s: admin opcode 0x%02x not sent: the controller failed (%d)", ctrl->hw.name, sqe->opcode,
			  vfn_nvme_ctrl_failed(ctrl));
		return ret;
	}
	pthread_mutex_lock(&ctrl->admin.lock);
	ret = admin_exec(ctrl, sqe, buf, len, &c, timeout_ms ? timeout_ms : ctrl->admin_timeout_ms);
	pthread_mutex_unlock(&ctrl->admin.lock);
	if (cqe)
		*cqe = c;
	if (ret)
		return ret;
	status = vfn_nvme_cqe_status(&c);
	ret = vfn_nvme_status_to_errno(status);
	if (ret)
		log_debug("%s: admin opcode 0x%02x (%s) failed: %s (status 0x%x)", ctrl->hw.name, sqe->opcode,
			  vfn_nvme_opcode_str(true, sqe->opcode), vfn_nvme_status_str(status), status);
	return ret;
}

int vfn_nvme_admin_sync(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_sqe *sqe, void *buf, size_t len,
			struct vfn_nvme_cqe *cqe, uint32_t timeout_ms)
{
	int ret = admin_sync(ctrl, sqe, buf, len, cqe, timeout_ms);

	if (ctrl)
		aer_deliver(ctrl);
	return ret;
}

int vfn_nvme_admin_sync_quiet(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_sqe *sqe, uint32_t timeout_ms)
{
	return admin_sync(ctrl, sqe, NULL, 0, NULL, timeout_ms);
}

int vfn_nvme_identify(struct vfn_nvme_ctrl *ctrl, uint8_t cns, uint32_t nsid, void *buf, uint16_t *status)
{
	struct vfn_nvme_sqe sqe = {
		.opcode = VFN_NVME_ADMIN_IDENTIFY,
		.nsid = vfn_cpu_to_le32(nsid),
		.cdw10 = vfn_cpu_to_le32(cns),
	};
	struct vfn_nvme_cqe cqe = { 0 };
	int ret;

	ret = vfn_nvme_admin_sync(ctrl, &sqe, buf, VFN_NVME_IDENTIFY_DATA_SIZE, &cqe, 0);
	if (status)
		*status = vfn_nvme_cqe_status(&cqe);
	return ret;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static int ns_decode(const struct vfn_nvme_id_ns *id, const uint8_t *nvm, uint32_t nsid, struct vfn_nvme_ns_info *info)
{
	unsigned int idx = vfn_nvme_flbas_index(id->flbas);
	const struct vfn_nvme_lbaf *lbaf = &id->lbaf[idx];

	if (lbaf->ds < 9 || lbaf->ds > 31) {
		log_err("namespace %u: LBA format %u has invalid LBADS %u", nsid, idx, lbaf->ds);
		return -EIO;
	}
	*info = (struct vfn_nvme_ns_info){
		.nsid = nsid,
		.nsze = vfn_le64_to_cpu(id->nsze),
		.ncap = vfn_le64_to_cpu(id->ncap),
		.nuse = vfn_le64_to_cpu(id->nuse),
		.nlbaf = id->nlbaf,
		.flbas = (uint8_t)idx,
		.lba_size = 1u << lbaf->ds,
		.ms = vfn_le16_to_cpu(lbaf->ms),
		.mset = (id->flbas & VFN_NVME_FLBAS_MSET) != 0,
	};
	info->block_size = info->lba_size + info->ms;
	vfn_pi_geometry((const uint8_t *)id, nvm, idx, &info->pi_type, &info->pi_first, &info->pif);
	return 0;
}

/*
 * The NVM Command Set Identify Namespace (CNS 05h, CSI 00h), whose ELBAF
 * carry the guard format, into @nvm when CTRATT.ELBAS says it is there.
 * Returns true if @nvm holds it; otherwise the 16-bit guard is implied.
 */
static bool ns_get_nvm(struct vfn_nvme_ctrl *ctrl, uint32_t nsid, uint8_t *nvm)
{
	if (!(ctrl->info.ctratt & VFN_PI_CTRATT_ELBAS))
		return false;
	if (vfn_nvme_identify(ctrl, VFN_PI_CNS_NS_NVM, nsid, nvm, NULL)) {
		log_debug("namespace %u: no NVM Command Set Identify Namespace: 16-bit guard", nsid);
		return false;
	}
	return true;
}

int vfn_nvme_ns_get_info(struct vfn_nvme_ctrl *ctrl, uint32_t nsid, struct vfn_nvme_ns_info *info)
{
	struct vfn_nvme_id_ns id;
	uint16_t status;
	int ret;

	if (!info) {
		log_debug("ns_get_info: NULL info");
		return -EINVAL;
	}
	ret = vfn_nvme_identify(ctrl, VFN_NVME_CNS_NS, nsid, &id, &status);
	if (ret == -EIO && (status & 0x7ff) == VFN_NVME_SC_INVALID_NS) {
		log_debug("namespace %u: Invalid Namespace or Format", nsid);
		return -ENOENT;
	}
	if (ret)
		return ret;
	if (all_zero((const uint8_t *)&id, sizeof(id))) {
		log_debug("namespace %u: inactive (all-zero Identify Namespace)", nsid);
		return -ENOENT;
	}
	uint8_t nvm[VFN_NVME_IDENTIFY_DATA_SIZE];

	return ns_decode(&id, ns_get_nvm(ctrl, nsid, nvm) ? nvm : NULL, nsid, info);
}

int vfn_nvme_ns_list_active(struct vfn_nvme_ctrl *ctrl, uint32_t start, uint32_t *nsids, int max)
{
	struct vfn_nvme_ns_list list;
	int n = 0;
	int ret;

	if (max < 0 || (max && !nsids)) {
		log_debug("ns_list_active: bad output array (%p, %d)", (void *)nsids, max);
		return -EINVAL;
	}
	if (!max)
		return 0;
	ret = vfn_nvme_identify(ctrl, VFN_NVME_CNS_NS_ACTIVE_LIST, start, &list, NULL);
	if (ret)
		return ret;
	for (size_t i = 0; i < sizeof(list.nsid) / sizeof(list.nsid[0]) && n < max; i++) {
		uint32_t nsid = vfn_le32_to_cpu(list.nsid[i]);

		if (!nsid)
			break;
		nsids[n++] = nsid;
	}
	return n;
}

static int admin_features(struct vfn_nvme_ctrl *ctrl, uint8_t opcode, uint8_t fid, uint32_t nsid, uint32_t cdw11,
			  uint32_t *result, void *buf, size_t len)
{
	struct vfn_nvme_sqe sqe = {
		.opcode = opcode,
		.nsid = vfn_cpu_to_le32(nsid),
		.cdw10 = vfn_cpu_to_le32(fid),
		.cdw11 = vfn_cpu_to_le32(cdw11),
	};
	struct vfn_nvme_cqe cqe = { 0 };
	int ret;

	ret = vfn_nvme_admin_sync(ctrl, &sqe, buf, len, &cqe, 0);
	if (result)
		*result = vfn_le32_to_cpu(cqe.dw0);
	return ret;
}

int vfn_nvme_get_features(struct vfn_nvme_ctrl *ctrl, uint8_t fid, uint32_t nsid, uint32_t cdw11, uint32_t *result,
			  void *buf, size_t len)
{
	return admin_features(ctrl, VFN_NVME_ADMIN_GET_FEATURES, fid, nsid, cdw11, result, buf, len);
}

int vfn_nvme_set_features(struct vfn_nvme_ctrl *ctrl, uint8_t fid, uint32_t nsid, uint32_t cdw11, uint32_t *result,
			  const void *buf, size_t len)
{
	/* Set Features only reads @buf (host to controller). */
	return admin_features(ctrl, VFN_NVME_ADMIN_SET_FEATURES, fid, nsid, cdw11, result, (void *)buf, len);
}
