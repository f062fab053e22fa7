/* SPDX-License-Identifier: MIT */
/*
 * vfn blk: block I/O for applications.  Open a device once per process,
 * give each thread (event loop) a queue of its own, and issue asynchronous
 * reads and writes of iovec arrays at byte offsets, with a callback.
 *
 *   "0000:01:00.0"     VFIO (vfn's NVMe driver, a queue pair per queue)
 *   "sim:..."          the simulated controller (the same driver)
 *   "/dev/nvme0n1"     a namespace block device: io_uring read/write
 *   "/dev/ng0n1"       a generic namespace node: io_uring NVMe passthrough
 *   any other string   a regular file (or block device): io_uring read/write
 *
 * The backend is chosen from the string; opts->backend or the environment
 * variable VFN_BLK_BACKEND ("nvme", "io_uring", "io_uring_cmd") forces one,
 * and vfn_blk_backend() tells which one runs (docs/blk.md).
 *
 * Threads: vfn_blk_queue_open/close may be called from any number of threads
 * at once on one handle (queue ids and interrupt vectors are handed out
 * under the handle's lock, only there).  A queue is driven by one thread at
 * a time and takes no lock.  vfn_blk_close() runs after every queue is
 * closed.
 *
 * I/O: offsets and lengths are multiples of vfn_blk_block_size().  The
 * iovec array and its buffers stay the caller's to keep valid (and, for
 * reads, untouched) until the callback.  Requests are queued without a
 * system call; vfn_blk_queue_poll() hands them to the device and reaps.
 * A request larger than vfn_blk_max_request(), or whose iovecs one NVMe
 * command cannot describe (PRPs), is split, or copied through a bounce
 * buffer of the queue when no split at a block boundary can do it; both
 * are counted in struct vfn_blk_stats.  On VFIO/sim there is no
 * allocation and no system call per I/O; buffers must be vfn_blk_mem_alloc()
 * memory or vfn_blk_mem_register()ed to avoid the bounce.
 */
#ifndef VFN_BLK_H
#define VFN_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <vfn/rq.h>
#include <vfn/support.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vfn_blk;
struct vfn_blk_queue;
struct vfn_sim;

/* What carries a handle's I/O. */
enum vfn_blk_backend {
	VFN_BLK_NVME,	      /* vfn's NVMe driver: VFIO or the simulator */
	VFN_BLK_IO_URING,     /* io_uring read/write on a block device or a regular file */
	VFN_BLK_IO_URING_CMD, /* io_uring NVMe passthrough on /dev/ngXnY */
};

struct vfn_blk_opts {
	const char *backend; /* "nvme", "io_uring", "io_uring_cmd" forces one; NULL: $VFN_BLK_BACKEND, else
				the string decides */
	uint32_t nsid;	     /* nvme: the namespace; 0: the first active */
	bool buffered;	     /* io_uring: do not use O_DIRECT */
	uint32_t timeout_ms; /* nvme: command timeout (Abort, then expiry; bounds vfn_blk_queue_close()); 0: 30000 */
};

/*
 * Opens @uri (see above) with @opts (may be NULL).  Free with vfn_blk_close().
 * Errors: -EINVAL (unknown backend, a backend that cannot take @uri, bad
 * sim: options), -ENOTSUP (io_uring missing or disabled), -ENOENT, -EACCES,
 * -ENOMEM, or vfn_dev_open()'s.  *@out untouched on failure.
 */
VFN_API int vfn_blk_open(const char *uri, const struct vfn_blk_opts *opts, struct vfn_blk **out);

/* Closes @blk (its queues must be closed first; memory still registered is unmapped).  NULL is ignored. */
VFN_API void vfn_blk_close(struct vfn_blk *blk);

/* The backend in use, and its name: "nvme", "io_uring", "io_uring_cmd". */
VFN_API enum vfn_blk_backend vfn_blk_backend(const struct vfn_blk *blk);
VFN_API const char *vfn_blk_backend_name(const struct vfn_blk *blk);

/*
 * The simulator behind a handle opened on "sim:" (borrowed, lives as long as
 * @blk: its fault API, <vfn/sim.h>), or NULL with errno ENOTSUP otherwise.
 */
VFN_API struct vfn_sim *vfn_blk_sim(struct vfn_blk *blk);

/* Capacity in bytes. */
VFN_API uint64_t vfn_blk_size(const struct vfn_blk *blk);

/* The block size: offsets and lengths are multiples of it. */
VFN_API uint32_t vfn_blk_block_size(const struct vfn_blk *blk);

/* Bytes one device command moves; larger requests are split. */
VFN_API size_t vfn_blk_max_request(const struct vfn_blk *blk);

/*
 * Buffer alignment that avoids a bounce or a buffered (non-O_DIRECT) path:
 * every segment's address and length a multiple of it.
 */
VFN_API size_t vfn_blk_buf_align(const struct vfn_blk *blk);

/* ---- memory ---------------------------------------------------------------- */

/*
 * Allocates @len bytes of zeroed, page-aligned I/O memory (DMA-mapped on
 * VFIO/sim).  Returns the rounded length or -ENOMEM / a mapping error.
 * Free with vfn_blk_mem_free() (@len as returned).
 */
VFN_API ssize_t vfn_blk_mem_alloc(struct vfn_blk *blk, size_t len, void **buf);
VFN_API void vfn_blk_mem_free(struct vfn_blk *blk, void *buf, size_t len);

/*
 * Registers the caller's memory @buf/@len (page-aligned) for I/O: DMA-mapped
 * once on VFIO/sim; on io_uring a fixed buffer of every queue, open or
 * opened later.  Unregistering takes it out of every queue's ring (the
 * kernel unpins it; I/O from that address afterwards is plain
 * READV/WRITEV).  Unregister before freeing it, with no I/O on it in
 * flight.  Errors: -EINVAL (not page-aligned), -EEXIST, -ENOMEM (64
 * regions already), or the mapping's.
 */
VFN_API int vfn_blk_mem_register(struct vfn_blk *blk, void *buf, size_t len);
VFN_API int vfn_blk_mem_unregister(struct vfn_blk *blk, void *buf);

/* ---- queues ---------------------------------------------------------------- */

struct vfn_blk_queue_opts {
	uint32_t depth;	      /* commands in flight (1..); 0: 64 */
	bool polled;	      /* no fd: vfn_blk_queue_fd() answers -1 (saves the interrupt) */
	uint32_t bounce_bufs; /* bounce buffers of the queue, at most depth (0: 4, or depth if less) */
};

/*
 * Opens a queue on @blk for the calling thread (@opts may be NULL): an NVMe
 * queue pair with its own MSI-X vector and eventfd (VFIO/sim), or an
 * io_uring with a registered eventfd.  Thread-safe.  Errors: -EINVAL,
 * -EBUSY (no queue id left), -ENOMEM, or the backend's.
 */
VFN_API int vfn_blk_queue_open(struct vfn_blk *blk, const struct vfn_blk_queue_opts *opts, struct vfn_blk_queue **out);

/*
 * Closes @q: first waits for what is in flight, whose callbacks then run,
 * then frees the queue.  Thread-safe.  NULL is ignored.  On nvme the wait
 * runs the driver's timeout handling (vfn_nvme_qpair_check_timeouts: Abort
 * after the handle's timeout, then -ETIMEDOUT and a failed controller) so a
 * wedged device costs about twice opts->timeout_ms; on io_uring it waits up
 * to 30 s.  What is still in flight then is logged and its callbacks do not
 * run.  A callback run from here that polls @q gets -EBUSY, as from a poll.
 */
VFN_API void vfn_blk_queue_close(struct vfn_blk_queue *q);

/*
 * A file descriptor that becomes readable when completions may be waiting
 * (for epoll); read it (8 bytes) to reset it, then vfn_blk_queue_poll().
 * -1 for a polled queue.  Owned by @q.  With fewer interrupt vectors than
 * queues (MSI or INTx: one) queues share vector 0's fd: poll each of them
 * after it fires.  On INTx (level, masked by VFIO each time it fires)
 * vfn_blk_queue_poll() re-arms the line: one ioctl per poll.
 */
VFN_API int vfn_blk_queue_fd(const struct vfn_blk_queue *q);

/*
 * Completion: @ret 0 or -errno (-EIO: the device failed the command, with
 * its NVMe status SCT << 8 | SC in @nvme_status; 0 on io_uring).
 */
typedef void (*vfn_blk_cb)(void *arg, int ret, uint16_t nvme_status);

#define VFN_BLK_FUA (1u << 0) /* writes: durable when completed (FUA; RWF_DSYNC on io_uring) */

/*
 * Queues a read / write of @iovcnt segments at byte @offset; @cb (not NULL)
 * runs with @arg from vfn_blk_queue_poll() once every piece completed.
 * Segment lengths may be anything as long as the total is a multiple of the
 * block size.  Returns 0, -EAGAIN (the queue is full: poll, then retry),
 * -EINVAL (unaligned offset or length, 0 bytes, past the end, unknown
 * flags), -E2BIG (more pieces than the queue's depth).
 */
VFN_API int vfn_blk_readv(struct vfn_blk_queue *q, const struct iovec *iov, int iovcnt, uint64_t offset, vfn_blk_cb cb,
			  void *arg);
VFN_API int vfn_blk_writev(struct vfn_blk_queue *q, const struct iovec *iov, int iovcnt, uint64_t offset,
			   uint32_t flags, vfn_blk_cb cb, void *arg);

/* Flush (NVMe Flush; fdatasync on io_uring).  As vfn_blk_readv(). */
VFN_API int vfn_blk_flush(struct vfn_blk_queue *q, vfn_blk_cb cb, void *arg);

/*
 * Write Zeroes / Discard (Deallocate; hole punch on a file) @len bytes at
 * @offset.  After a discard, reads return zeroes or the old data.  As
 * vfn_blk_readv().
 */
VFN_API int vfn_blk_write_zeroes(struct vfn_blk_queue *q, uint64_t offset, uint64_t len, vfn_blk_cb cb, void *arg);
VFN_API int vfn_blk_discard(struct vfn_blk_queue *q, uint64_t offset, uint64_t len, vfn_blk_cb cb, void *arg);

/*
 * Hands the queued requests to the device and runs the callbacks of up to
 * @max (0: all) completed pieces; never blocks.  Returns how many requests
 * completed, or -errno: -EBUSY when called from a callback of the same
 * queue (a callback may queue requests, not reap; nor may it close its queue).
 */
VFN_API int vfn_blk_queue_poll(struct vfn_blk_queue *q, uint32_t max);

/*
 * Hands the queued requests to the device (doorbell; io_uring_enter on
 * io_uring) without reaping.  Returns 0 or -errno.
 */
VFN_API int vfn_blk_queue_submit(struct vfn_blk_queue *q);

/*
 * True when completions are waiting for vfn_blk_queue_poll() (no system
 * call).  A polled nvme queue must still be polled now and then while
 * nothing is ready: the empty poll is where a controller that missed a
 * shadow doorbell update is noticed and rung over MMIO
 * (vfn_nvme_qpair_reap()); a loop that polls only when this is true can
 * wait for ever on such a controller (QEMU 7.2 is one).
 */
VFN_API bool vfn_blk_queue_ready(const struct vfn_blk_queue *q);

/* Requests queued or in flight. */
VFN_API uint32_t vfn_blk_queue_inflight(const struct vfn_blk_queue *q);

struct vfn_blk_stats {
	uint64_t requests;  /* accepted */
	uint64_t completed; /* callbacks run */
	uint64_t commands;  /* device commands (pieces) sent */
	uint64_t split;	    /* requests split in several commands */
	uint64_t bounced;   /* pieces copied through a bounce buffer */
	uint64_t buffered;  /* io_uring: requests sent without O_DIRECT (unaligned memory) */
	uint64_t fixed;	    /* io_uring: requests on registered memory (READ_FIXED/WRITE_FIXED) */
};

/* Counters of @q since it was opened. */
VFN_API void vfn_blk_queue_stats(const struct vfn_blk_queue *q, struct vfn_blk_stats *stats);

/* ---- The inline hot path ------------------------------------------------- */

/*
 * What the inline calls read of a queue: its first member, written by the
 * library only (the caller reads and writes none of it).  Public for the
 * same reason struct vfn_nvme_qpair is: a one-segment read or write on an
 * nvme queue, the doorbell and the poll need no call into the library.
 */
struct vfn_blk_queue_hot {
	struct vfn_nvme_qpair *qp; /* the nvme backend's pair; NULL on io_uring */
	uintptr_t c_va;		   /* the last mapping translated: from c_va, c_len bytes at c_iova */
	size_t c_len;		   /* atomic: 0 (empty) without the fast path and from vfn_blk_mem_unregister() */
	uint64_t c_iova;
	uint64_t size;		/* the device's bytes */
	uint64_t block_mask;	/* the block size - 1, and bit 63 (no offset + length can wrap) */
	uint32_t block_shift;	/* log2 of the block size */
	uint32_t nsid;		/* the namespace */
	uint16_t fast_min_free; /* the pair's commands minus the depth; 0xffff: no fast path */
	uint8_t polling;	/* 1: inside a poll; 2: polled through the backend (both: the library's poll) */
	bool fast;		/* an nvme queue: the inline doorbell */
	uint64_t poll_before;	/* the poll: requests completed before the reap */
	struct vfn_blk_stats stats;
};

#define VFN_BLK__POLLING 1u /* hot.polling: inside vfn_blk_queue_poll() (a callback may not poll again) */

/*
 * The nvme fast path: a read or write of one segment, in the mapping the
 * queue translated last, within two memory pages, on a pair with no
 * slow-path hooks, becomes one command written straight into the SQ; the
 * reap calls @cb itself (VFN_RQ_F_DIRECT).  Returns 1 when queued, 0 when
 * refused untouched, -1 when refused after @cb and @arg went into the
 * pair's free request (the library's call reads them from there).
 * Anything refused goes to the library, which checks and reports errors.
 */
static inline __attribute__((always_inline)) int vfn_blk__fast_rw(struct vfn_blk_queue *queue, uint8_t opcode,
								 const struct iovec *iov, uint64_t off,
								 uint32_t cdw12_flags, vfn_blk_cb cb, void *arg)
{
	struct vfn_blk_queue_hot *q = (struct vfn_blk_queue_hot *)(void *)queue;
	uint64_t len = iov->iov_len, iova, slba, po, prp2;
	uintptr_t d = (uintptr_t)iov->iov_base - q->c_va; /* a buffer below c_va: huge */
	size_t c_len = __atomic_load_n(&q->c_len, __ATOMIC_RELAXED);
	struct vfn_nvme_qpair *qp;
	struct vfn_nvme_sqe *sqe;
	struct vfn_rq *rq;
	uint16_t tail, next;

	/*
	 * Whole blocks within the device (block_mask has bit 63 too: off + len
	 * cannot wrap), and the cached mapping holds the buffer (c_len is 0 on
	 * a queue that never translated: io_uring's, where q->qp is NULL; and
	 * after an unregistration; len < 2^63 and c_len too, so d + len
	 * cannot wrap once d < c_len).
	 */
	if (vfn_unlikely(((off | len) & q->block_mask) || off + len > q->size || d >= c_len || d + len > c_len))
		return 0;
	qp = q->qp;
	/*
	 * Room for a request: every request in flight holds at least one
	 * command of the pair, so more than fast_min_free (nr - depth) free
	 * commands means fewer than depth requests in flight, and at least one
	 * free command (the library counts exactly).  The SQ then has room
	 * too: the pair holds entries - 1 commands and each slot from the head
	 * the controller reported to the tail is a command whose completion
	 * was not reaped.  No hooks.
	 */
	if (vfn_unlikely(qp->rqs.nr_free <= q->fast_min_free || qp->hooks))
		return 0;
	/* The free request holds the callback from now on (a free request's are unused). */
	rq = qp->rqs.free;
	rq->cb = (vfn_rq_cb)(void (*)(void))cb; /* the reap calls @cb itself (VFN_RQ_F_DIRECT) */
	rq->opaque = arg;
	iova = d + q->c_iova;
	/* 1 byte to two 4 KiB pages, dword-aligned; a PRP list is the library's. */
	po = iova & 4095;
	if (vfn_unlikely(((len - 1) | (po + len - 1)) >= 8192 || (iova & 3))) /* len - 1: len 0 too */
		return -1;
	prp2 = po + len > 4096 ? iova - po + 4096 : 0; /* the next page when the data crosses into it */
	/* Everything checked: what comes from memory below is loaded anew (fewer registers to save). */
	__asm__ volatile("" ::: "memory");
	tail = qp->sq.tail;
	next = (uint16_t)(tail + 1);
	if (vfn_unlikely(next == qp->sq.entries))
		next = 0;
	slba = off >> q->block_shift;
	sqe = &qp->sq.sqes[tail]; /* the controller reads it only after the tail moves (the doorbell) */
	sqe->opcode = opcode;
	sqe->flags = 0; /* PSDT 00b: PRPs */
	sqe->cid = vfn_cpu_to_le16(rq->cid);
	sqe->nsid = vfn_cpu_to_le32(q->nsid);
	sqe->cdw2 = 0;
	sqe->cdw3 = 0;
	sqe->mptr = 0;
	sqe->dptr.prp1 = vfn_cpu_to_le64(iova);
	sqe->dptr.prp2 = vfn_cpu_to_le64(prp2);
	sqe->cdw10 = vfn_cpu_to_le32((uint32_t)slba);
	sqe->cdw11 = vfn_cpu_to_le32((uint32_t)(slba >> 32));
	sqe->cdw12 = vfn_cpu_to_le32(((uint32_t)(len >> q->block_shift) - 1) | cdw12_flags); /* NLB 0's based */
	sqe->cdw13 = 0;
	sqe->cdw14 = 0;
	sqe->cdw15 = 0;
	qp->sq.tail = next;
	qp->rqs.free = rq->next;
	qp->rqs.nr_free--;
	rq->state = VFN_RQ_INFLIGHT;
	rq->flags = VFN_RQ_F_DIRECT; /* qp->direct_done counts its completion */
	rq->err = 0;
	rq->deadline_ns = 0;
	return 1;
}

/*
 * The reap of an nvme queue's pair: how many requests completed (those of
 * the library's general path and the direct ones).
 */
static inline __attribute__((always_inline)) int vfn_blk__reap(struct vfn_blk_queue *queue, uint32_t max)
{
	struct vfn_blk_queue_hot *q = (struct vfn_blk_queue_hot *)(void *)queue;
	int ret;

	/* kept in q: no register across the reap */
	q->poll_before = q->stats.completed + q->qp->direct_done;
	q->polling = VFN_BLK__POLLING;
	vfn_nvme_qpair_reap(q->qp, (int)max);
	ret = (int)(q->stats.completed + q->qp->direct_done - q->poll_before);
	q->polling = 0;
	return ret;
}

/*
 * With gcc or clang optimizing, C callers get the four calls inline: a
 * call written vfn_blk_readv(...) is the macro, which falls back to the
 * library's function (the name in parentheses) for what it does not take;
 * the function's address and the symbol are the library's.  Define
 * VFN_BLK_NO_INLINE to call the library always.
 */
#if defined(__GNUC__) && defined(__OPTIMIZE__) && !defined(__cplusplus) && !defined(VFN_BLK_NO_INLINE)
static inline __attribute__((always_inline)) int vfn_blk__readv(struct vfn_blk_queue *q, const struct iovec *iov,
								int iovcnt, uint64_t offset, vfn_blk_cb cb, void *arg)
{
	if (vfn_likely(iovcnt == 1 && iov) && vfn_likely(vfn_blk__fast_rw(q, 0x02, iov, offset, 0, cb, arg) > 0))
		return 0;
	return (vfn_blk_readv)(q, iov, iovcnt, offset, cb, arg);
}

static inline __attribute__((always_inline)) int vfn_blk__writev(struct vfn_blk_queue *q, const struct iovec *iov,
								 int iovcnt, uint64_t offset, uint32_t flags,
								 vfn_blk_cb cb, void *arg)
{
	/* VFN_BLK_FUA is bit 0, the command's FUA bit 30 */
	if (vfn_likely(iovcnt == 1 && iov && !(flags & ~VFN_BLK_FUA)) &&
	    vfn_likely(vfn_blk__fast_rw(q, 0x01, iov, offset, flags << 30, cb, arg) > 0))
		return 0;
	return (vfn_blk_writev)(q, iov, iovcnt, offset, flags, cb, arg);
}

static inline __attribute__((always_inline)) int vfn_blk__queue_submit(struct vfn_blk_queue *queue)
{
	struct vfn_blk_queue_hot *q = (struct vfn_blk_queue_hot *)(void *)queue;

	if (vfn_likely(q->fast) && !vfn_nvme_qpair_cq_head_due(q->qp)) {
		if (q->qp->sq.tail != q->qp->sq.db_tail)
			vfn_sq_ring(&q->qp->sq); /* orders the SQEs before the tail itself */
		return 0;
	}
	return (vfn_blk_queue_submit)(queue);
}

static inline __attribute__((always_inline)) int vfn_blk__queue_poll(struct vfn_blk_queue *queue, uint32_t max)
{
	struct vfn_blk_queue_hot *q = (struct vfn_blk_queue_hot *)(void *)queue;

	/* One test for a poll inside a poll and a queue without the inline poll; then the doorbells. */
	if (vfn_unlikely(q->polling) || vfn_unlikely(q->qp->sq.tail != q->qp->sq.db_tail))
		return (vfn_blk_queue_poll)(queue, max);
	return vfn_blk__reap(queue, max);
}

#define vfn_blk_readv(...) vfn_blk__readv(__VA_ARGS__)
#define vfn_blk_writev(...) vfn_blk__writev(__VA_ARGS__)
#define vfn_blk_queue_submit(q) vfn_blk__queue_submit(q)
#define vfn_blk_queue_poll(q, max) vfn_blk__queue_poll(q, max)
#endif

#ifdef __cplusplus
}
#endif

#endif /* VFN_BLK_H */
