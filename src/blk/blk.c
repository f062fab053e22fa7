/* SPDX-License-Identifier: MIT */
/*
 * The block API: open by string, per-thread queues, requests checked here
 * and handed to the backend (blk-nvme.c: vfn's driver on VFIO/sim;
 * blk-uring.c: io_uring on block devices and files).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vfn/pci.h>
#include <vfn/sim.h>

#include "blk/blk-priv.h"
#include "support/log.h"

/* ---- open ------------------------------------------------------------------ */

static const char *const backend_names[] = {
	[VFN_BLK_NVME] = "nvme",
	[VFN_BLK_IO_URING] = "io_uring",
	[VFN_BLK_IO_URING_CMD] = "io_uring_cmd",
};

/* The backend @uri gets when none is forced: sim: or a PCI address, /dev/ngXnY, any other path. */
static enum vfn_blk_backend blk_pick(const char *uri)
{
	char bdf[VFN_PCI_BDF_LEN];

	if (!strncmp(uri, "sim:", 4) || !vfn_pci_parse_bdf(uri, bdf))
		return VFN_BLK_NVME;
	if (!strncmp(uri, "/dev/ng", 7))
		return VFN_BLK_IO_URING_CMD;
	return VFN_BLK_IO_URING;
}

static int blk_forced(const struct vfn_blk_opts *opts, const char *uri, enum vfn_blk_backend *b)
{
	const char *want = opts && opts->backend ? opts->backend : getenv("VFN_BLK_BACKEND");

	*b = blk_pick(uri);
	if (!want || !*want)
		return 0;
	for (int i = 0; i < (int)(sizeof(backend_names) / sizeof(backend_names[0])); i++) {
		if (!strcmp(want, backend_names[i])) {
			*b = (enum vfn_blk_backend)i;
			return 0;
		}
	}
	log_debug("blk: unknown backend \"%s\" (nvme, io_uring, io_uring_cmd)", want);
	return -EINVAL;
}

int vfn_blk_open(const char *uri, const struct vfn_blk_opts *opts, struct vfn_blk **out)
{
	struct vfn_blk *blk;
	int ret;

	if (!uri || !out) {
		log_debug("blk: no device string");
		return -EINVAL;
	}
	blk = calloc(1, sizeof(*blk));
	if (!blk)
		return -ENOMEM;
	blk->fd = blk->fd_buf = -1;
	ret = blk_forced(opts, uri, &blk->backend);
	if (ret)
		goto free_blk;
	if (blk->backend == VFN_BLK_IO_URING)
		ret = vfn_blk_uring_open(blk, uri, opts);
	else if (blk->backend == VFN_BLK_IO_URING_CMD)
		ret = vfn_blk_pt_open(blk, uri, opts);
	else
		ret = vfn_blk_nvme_open(blk, uri, opts);
	if (ret)
		goto free_blk;
	blk->block_shift = (uint32_t)__builtin_ctz(blk->block_size);
	ret = pthread_mutex_init(&blk->lock, NULL);
	if (ret) {
		blk->ops->close(blk);
		ret = -ret;
		goto free_blk;
	}
	log_info("blk: %s opened with the %s backend (%u-byte blocks, %llu bytes)", uri, backend_names[blk->backend],
		 blk->block_size, (unsigned long long)blk->size);
	*out = blk;
	return 0;

free_blk:
	free(blk);
	return ret;
}

void vfn_blk_close(struct vfn_blk *blk)
{
	if (!blk)
		return;
	if (blk->nr_queues)
		log_err("blk: closed with %u queues open", blk->nr_queues);
	for (int i = 0; i < BLK_MAX_REGS; i++)
		if (blk->regs[i].vaddr)
			blk->ops->mem_unregister(blk, blk->regs[i].vaddr, blk->regs[i].len);
	blk->ops->close(blk);
	pthread_mutex_destroy(&blk->lock);
	free(blk);
}

enum vfn_blk_backend vfn_blk_backend(const struct vfn_blk *blk)
{
	return blk->backend;
}

const char *vfn_blk_backend_name(const struct vfn_blk *blk)
{
	return backend_names[blk->backend];
}

struct vfn_sim *vfn_blk_sim(struct vfn_blk *blk)
{
	if (!blk || blk->backend != VFN_BLK_NVME || !blk->dev) {
		errno = ENOTSUP;
		return NULL;
	}
	return vfn_dev_sim(blk->dev);
}

uint64_t vfn_blk_size(const struct vfn_blk *blk)
{
	return blk->size;
}

uint32_t vfn_blk_block_size(const struct vfn_blk *blk)
{
	return blk->block_size;
}

size_t vfn_blk_max_request(const struct vfn_blk *blk)
{
	return blk->max_request;
}

size_t vfn_blk_buf_align(const struct vfn_blk *blk)
{
	return blk->buf_align;
}

/* ---- memory ---------------------------------------------------------------- */

ssize_t vfn_blk_mem_alloc(struct vfn_blk *blk, size_t len, void **buf)
{
	ssize_t got = vfn_mem_alloc(len, buf);
	int ret;

	if (got < 0)
		return got;
	ret = vfn_blk_mem_register(blk, *buf, (size_t)got);
	if (ret) {
		vfn_mem_free(*buf, (size_t)got);
		return ret;
	}
	return got;
}

void vfn_blk_mem_free(struct vfn_blk *blk, void *buf, size_t len)
{
	if (!buf)
		return;
	vfn_blk_mem_unregister(blk, buf);
	vfn_mem_free(buf, len);
}

int vfn_blk_mem_register(struct vfn_blk *blk, void *buf, size_t len)
{
	int slot = -1, ret;

	if (!buf || !len || ((uintptr_t)buf & (vfn_page_size() - 1))) {
		log_debug("blk: memory to register must be page-aligned and not empty");
		return -EINVAL;
	}
	pthread_mutex_lock(&blk->lock);
	for (int i = 0; i < BLK_MAX_REGS; i++) {
		if (blk->regs[i].vaddr == buf) {
			pthread_mutex_unlock(&blk->lock);
			return -EEXIST;
		}
		if (!blk->regs[i].vaddr && slot < 0)
			slot = i;
	}
	if (slot < 0) {
		pthread_mutex_unlock(&blk->lock);
		return -ENOMEM;
	}
	/* The backend sees the slot filled (io_uring: the ring tables' index). */
	blk->regs[slot] = (struct blk_region){ buf, len };
	ret = blk->ops->mem_register(blk, buf, len);
	if (ret)
		blk->regs[slot] = (struct blk_region){ NULL, 0 };
	else
		__atomic_fetch_add(&blk->reg_gen, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&blk->lock);
	return ret;
}

int vfn_blk_mem_unregister(struct vfn_blk *blk, void *buf)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&blk->lock);
	for (int i = 0; i < BLK_MAX_REGS; i++) {
		if (blk->regs[i].vaddr == buf) {
			blk->ops->mem_unregister(blk, buf, blk->regs[i].len);
			/* The queues' translation caches (blk-nvme.c nvme_iova()) go stale. */
			__atomic_fetch_add(&blk->map_gen, 1, __ATOMIC_SEQ_CST);
			for (struct vfn_blk_queue *q = blk->queues; q; q = q->next_q)
				__atomic_store_n(&q->hot.c_len, 0, __ATOMIC_SEQ_CST);
			blk->regs[i] = (struct blk_region){ NULL, 0 };
			__atomic_fetch_add(&blk->reg_gen, 1, __ATOMIC_RELEASE);
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&blk->lock);
	return ret;
}

/* ---- queues ---------------------------------------------------------------- */

int vfn_blk_queue_open(struct vfn_blk *blk, const struct vfn_blk_queue_opts *opts, struct vfn_blk_queue **out)
{
	struct vfn_blk_queue_opts o = opts ? *opts : (struct vfn_blk_queue_opts){ 0 };
	struct vfn_blk_queue *q;
	int ret;

	if (!o.depth)
		o.depth = BLK_DEFAULT_DEPTH;
	if (!o.bounce_bufs)
		o.bounce_bufs = o.depth < BLK_DEFAULT_BOUNCE ? o.depth : BLK_DEFAULT_BOUNCE;
	if (o.depth > 4096 || o.bounce_bufs > o.depth) {
		log_debug("blk: queue depth %u (1..4096) or %u bounce buffers (at most the depth)", o.depth,
			  o.bounce_bufs);
		return -EINVAL;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->blk = blk;
	q->ops = blk->ops;
	q->depth = o.depth;
	q->efd = -1;
	q->hot.fast_min_free = 0xffff; /* no fast path unless the backend opens one */
	q->reqs = calloc(o.depth, sizeof(*q->reqs));
	if (!q->reqs) {
		free(q);
		return -ENOMEM;
	}
	for (uint32_t i = o.depth; i--;) {
		q->reqs[i].next = q->free;
		q->free = &q->reqs[i];
	}
	/* Queue ids, vectors and the controller's admin queue are shared: one opener at a time. */
	pthread_mutex_lock(&blk->lock);
	ret = blk->ops->queue_open(q, &o);
	if (!ret) {
		if (!q->hot.fast) /* the backend may have chosen its own poll already (nvme on INTx) */
			q->hot.polling = BLK_POLL_BACKEND;
		blk->nr_queues++;
		q->next_q = blk->queues;
		blk->queues = q;
	}
	pthread_mutex_unlock(&blk->lock);
	if (ret) {
		free(q->reqs);
		free(q);
		return ret;
	}
	*out = q;
	return 0;
}

void vfn_blk_queue_close(struct vfn_blk_queue *q)
{
	struct vfn_blk *blk;
	uint64_t deadline;

	if (!q)
		return;
	blk = q->blk;
	/*
	 * With the driver's timeouts (nvme): Abort after the timeout, expiry
	 * after another, and the Abort's own wait: bounded by a few timeouts.
	 */
	deadline = vfn_now_ns() + (q->ops->expire && blk->timeout_ms ? (uint64_t)blk->timeout_ms * 4 + 1000
								     : (uint64_t)BLK_CLOSE_TIMEOUT_MS) *
					  1000000;
	/*
	 * The callbacks run from here are inside a reap too: one that polls
	 * @q gets -EBUSY (blk_poll_slow()), as from vfn_blk_queue_poll().
	 */
	q->hot.polling |= BLK_POLLING;
	for (uint64_t next = 0, now; blk_inflight(q) && (now = vfn_now_ns()) < deadline;) {
		if (q->ops->poll(q, 0) < 0)
			break;
		if (q->ops->expire && now >= next) {
			next = now + 20000000; /* every 20 ms */
			if (q->ops->expire(q) < 0)
				break;
		}
	}
	if (blk_inflight(q))
		log_err("blk: queue closed with %u requests in flight", blk_inflight(q));
	pthread_mutex_lock(&blk->lock);
	q->ops->queue_close(q);
	for (struct vfn_blk_queue **pp = &blk->queues; *pp; pp = &(*pp)->next_q) {
		if (*pp == q) {
			*pp = q->next_q;
			break;
		}
	}
	blk->nr_queues--;
	pthread_mutex_unlock(&blk->lock);
	free(q->reqs);
	free(q);
}

int vfn_blk_queue_fd(const struct vfn_blk_queue *q)
{
	return q->efd;
}

uint32_t vfn_blk_queue_inflight(const struct vfn_blk_queue *q)
{
	return blk_inflight(q);
}

void vfn_blk_queue_stats(const struct vfn_blk_queue *q, struct vfn_blk_stats *stats)
{
	*stats = q->hot.stats;
	stats->completed = blk_completed(q);
	/* A fast-path request (vfn_blk__fast_rw() in <vfn/blk-inline.h>) is one command, counted as a request only. */
	/* Every accepted request is in flight or completed: no counter of its own. */
	stats->requests = stats->completed + blk_inflight(q);
	stats->commands += stats->requests - q->slow_requests;
}

/*
 * The reap of an nvme queue's pair: how many requests completed (those of
 * the general path and the direct ones).  The inline poll of
 * <vfn/blk-inline.h> reaps direct completions itself and comes here for
 * the rest.
 */
static inline __attribute__((always_inline)) int blk_reap(struct vfn_blk_queue *q, uint32_t max)
{
	int ret;

	/* kept in q: no register across the reap */
	q->poll_before = q->hot.stats.completed + q->hot.qp->direct_done;
	q->hot.polling = BLK_POLLING;
	vfn_nvme_qpair_reap(q->hot.qp, (int)max);
	ret = (int)(q->hot.stats.completed + q->hot.qp->direct_done - q->poll_before);
	q->hot.polling = 0;
	return ret;
}

/* Out of line: the poll's own frame stays small (the doorbells rarely wait for it). */
static __attribute__((noinline)) int blk_nvme_submit_reap(struct vfn_blk_queue *q, uint32_t max)
{
	vfn_nvme_qpair_submit(q->hot.qp);
	return blk_reap(q, max);
}

/* The poll of a queue inside a poll (refused), or through its backend (no nvme fast path, or INTx). */
static __attribute__((noinline)) int blk_poll_slow(struct vfn_blk_queue *q, uint32_t max)
{
	int ret;

	/* A nested reap would consume the CQEs the outer one is walking. */
	if (q->hot.polling & BLK_POLLING)
		return -EBUSY;
	q->hot.polling |= BLK_POLLING;
	ret = q->ops->poll(q, max);
	q->hot.polling &= (uint8_t)~BLK_POLLING;
	return ret;
}

int vfn_blk_queue_poll(struct vfn_blk_queue *q, uint32_t max)
{
	struct vfn_nvme_qpair *qp;

	/* One test: neither inside a poll nor a queue without the fast path. */
	if (vfn_unlikely(q->hot.polling))
		return blk_poll_slow(q, max);
	/* nvme: the pair directly (nvme_poll); the reap reports the CQ head itself. */
	qp = q->hot.qp;
	if (vfn_unlikely(qp->sq.tail != qp->sq.db_tail)) /* something posted: the doorbells first */
		return blk_nvme_submit_reap(q, max);
	return blk_reap(q, max);
}

int vfn_blk_queue_submit(struct vfn_blk_queue *q)
{
	if (vfn_likely(q->hot.fast)) { /* nvme: vfn_nvme_qpair_submit() directly (nvme_flush) */
		vfn_nvme_qpair_submit(q->hot.qp);
		return 0;
	}
	return q->ops->flush(q);
}

bool vfn_blk_queue_ready(const struct vfn_blk_queue *q)
{
	return q->ops->ready(q);
}

/* ---- requests -------------------------------------------------------------- */

/* Out of line: the log line of a refused request. */
static __attribute__((noinline, cold)) int blk_bad(const struct vfn_blk *blk, uint64_t off, uint64_t len,
						   uint32_t flags)
{
	log_debug("blk: bad request: %llu bytes at %llu (%u-byte blocks, %llu bytes), flags %#x",
		  (unsigned long long)len, (unsigned long long)off, blk->block_size, (unsigned long long)blk->size,
		  flags);
	return -EINVAL;
}

/* Takes a request context of @q and hands it to the backend. */
static inline __attribute__((always_inline)) int blk_queue(struct vfn_blk_queue *q, enum blk_op op,
							   const struct iovec *iov, int iovcnt, uint64_t off,
							   uint64_t len, uint32_t flags, vfn_blk_cb cb, void *arg)
{
	struct blk_req *req = q->free;
	int ret;

	/* Fast-path requests (vfn_blk__fast_rw() in <vfn/blk-inline.h>) take no context but count in blk_inflight(). */
	if (vfn_unlikely(!req || blk_inflight(q) >= q->depth))
		return -EAGAIN;
	q->free = req->next;
	req->cb = cb;
	req->arg = arg;
	req->ret = 0;
	req->status = 0;
	req->op = (uint8_t)op;
	req->flags = (uint8_t)flags;
	ret = q->ops->submit(q, req, iov, iovcnt, off, len);
	if (vfn_unlikely(ret)) {
		req->next = q->free;
		q->free = req;
		return ret;
	}
	q->inflight++;
	q->slow_requests++;
	return 0;
}

/* True if @len (not 0) bytes at @off are whole blocks within the device. */
static inline bool blk_range_ok(const struct vfn_blk *blk, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;

	return !((off | len) & (blk->block_size - 1)) && end <= blk->size && end > off;
}

static inline uint64_t iov_total(const struct iovec *iov, int iovcnt)
{
	uint64_t len = iov->iov_len;

	for (int i = 1; i < iovcnt; i++)
		len += iov[i].iov_len;
	return len;
}

static inline __attribute__((always_inline)) int blk_rw(struct vfn_blk_queue *q, enum blk_op op,
							const struct iovec *iov, int iovcnt, uint64_t off,
							uint32_t flags, vfn_blk_cb cb, void *arg)
{
	uint64_t len;

	if (vfn_unlikely(iovcnt < 1 || !iov))
		return blk_bad(q->blk, off, 0, flags);
	len = iov_total(iov, iovcnt);
	if (vfn_unlikely(!blk_range_ok(q->blk, off, len) || (flags & ~VFN_BLK_FUA)))
		return blk_bad(q->blk, off, len, flags);
	return blk_queue(q, op, iov, iovcnt, off, len, flags, cb, arg);
}

/* The general path of a read/write: checks, a request context, the backend (the public signatures: tail calls). */
static __attribute__((noinline)) int blk_readv_slow(struct vfn_blk_queue *q, const struct iovec *iov, int iovcnt,
						    uint64_t off, vfn_blk_cb cb, void *arg)
{
	return blk_rw(q, BLK_READ, iov, iovcnt, off, 0, cb, arg);
}

static __attribute__((noinline)) int blk_writev_slow(struct vfn_blk_queue *q, const struct iovec *iov, int iovcnt,
						     uint64_t off, uint32_t flags, vfn_blk_cb cb, void *arg)
{
	return blk_rw(q, BLK_WRITE, iov, iovcnt, off, flags, cb, arg);
}

/*
 * A read or write the fast path refused after it left the callback in the
 * pair's free request (vfn_blk__fast_rw() in <vfn/blk-inline.h>): the general path with it.  Out
 * of line, so that the fast path keeps no register for it.
 */
static __attribute__((noinline)) int blk_readv_late(struct vfn_blk_queue *q, const struct iovec *iov, uint64_t off)
{
	const struct vfn_rq *rq = q->hot.qp->rqs.free;

	return blk_readv_slow(q, iov, 1, off, (vfn_blk_cb)(void (*)(void))rq->cb, rq->opaque);
}

static __attribute__((noinline)) int blk_writev_late(struct vfn_blk_queue *q, const struct iovec *iov, uint64_t off,
						     uint32_t flags)
{
	const struct vfn_rq *rq = q->hot.qp->rqs.free;

	return blk_writev_slow(q, iov, 1, off, flags, (vfn_blk_cb)(void (*)(void))rq->cb, rq->opaque);
}

/*
 * The fast path (vfn_blk__fast_rw() in <vfn/blk-inline.h>) refuses anything it does not take (a
 * queue without it too: its c_len is 0), which tail-calls the general path.
 */
int vfn_blk_readv(struct vfn_blk_queue *q, const struct iovec *iov, int iovcnt, uint64_t offset, vfn_blk_cb cb,
		  void *arg)
{
	int ret;

	if (vfn_unlikely(iovcnt != 1 || !iov))
		return blk_readv_slow(q, iov, iovcnt, offset, cb, arg);
	ret = vfn_blk__fast_rw(q, NVME_CMD_READ, iov, offset, 0, cb, arg);
	if (vfn_likely(ret > 0))
		return 0;
	if (!ret)
		return blk_readv_slow(q, iov, 1, offset, cb, arg); /* iovcnt is 1: one register less to keep */
	return blk_readv_late(q, iov, offset);
}

int vfn_blk_writev(struct vfn_blk_queue *q, const struct iovec *iov, int iovcnt, uint64_t offset, uint32_t flags,
		   vfn_blk_cb cb, void *arg)
{
	int ret;

	/* VFN_BLK_FUA is bit 0, the command's FUA bit 30 */
	if (vfn_unlikely(iovcnt != 1 || !iov || (flags & ~VFN_BLK_FUA)))
		return blk_writev_slow(q, iov, iovcnt, offset, flags, cb, arg);
	ret = vfn_blk__fast_rw(q, NVME_CMD_WRITE, iov, offset, flags << 30, cb, arg);
	if (vfn_likely(ret > 0))
		return 0;
	if (!ret)
		return blk_writev_slow(q, iov, 1, offset, flags, cb, arg);
	return blk_writev_late(q, iov, offset, flags);
}

int vfn_blk_flush(struct vfn_blk_queue *q, vfn_blk_cb cb, void *arg)
{
	return blk_queue(q, BLK_FLUSH, NULL, 0, 0, 0, 0, cb, arg);
}

int vfn_blk_write_zeroes(struct vfn_blk_queue *q, uint64_t offset, uint64_t len, vfn_blk_cb cb, void *arg)
{
	if (!blk_range_ok(q->blk, offset, len))
		return blk_bad(q->blk, offset, len, 0);
	return blk_queue(q, BLK_WZ, NULL, 0, offset, len, 0, cb, arg);
}

int vfn_blk_discard(struct vfn_blk_queue *q, uint64_t offset, uint64_t len, vfn_blk_cb cb, void *arg)
{
	if (!blk_range_ok(q->blk, offset, len))
		return blk_bad(q->blk, offset, len, 0);
	return blk_queue(q, BLK_DISCARD, NULL, 0, offset, len, 0, cb, arg);
}

void vfn_blk_iov_copy(const struct iovec *iov, int iovcnt, uint64_t off, void *buf, size_t len, bool to_iov)
{
	uint8_t *p = buf;

	for (int i = 0; i < iovcnt && len; i++) {
		size_t n;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		n = iov[i].iov_len - off < len ? iov[i].iov_len - off : len;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + off, p, n);
		else
			memcpy(p, (uint8_t *)iov[i].iov_base + off, n);
		p += n;
		len -= n;
		off = 0;
	}
}
