/* SPDX-License-Identifier: MIT */
/*
 * The block API's internals: a handle over one backend, per-thread queues,
 * request contexts preallocated per queue.  See docs/blk.md.
 */
#ifndef VFN_SRC_BLK_BLK_PRIV_H
#define VFN_SRC_BLK_BLK_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vfn/blk-inline.h>
#include <vfn/dev.h>
#include <vfn/rq.h>

#define BLK_DEFAULT_DEPTH 64
#define BLK_DEFAULT_BOUNCE 4
#define BLK_BOUNCE_MAX_LEN (128u * 1024) /* bytes per bounce buffer, at most */
#define BLK_MAX_REGS 64			 /* registered memory ranges */
#define BLK_CLOSE_TIMEOUT_MS 30000

/* q->hot.polling */
#define BLK_POLLING VFN_BLK__POLLING /* inside vfn_blk_queue_poll(): a callback may not poll again */
#define BLK_POLL_BACKEND 2u	     /* polls through q->ops (no nvme fast path) */

enum blk_op {
	BLK_READ,
	BLK_WRITE,
	BLK_FLUSH,
	BLK_WZ,
	BLK_DISCARD
};

/* One request: the caller's callback and where its pieces stand. */
struct blk_req {
	vfn_blk_cb cb;
	void *arg;
	const struct iovec *iov; /* bounced reads copy back into it */
	int iovcnt;
	uint32_t pieces; /* not completed yet */
	int ret;	 /* the first error */
	uint16_t status; /* its NVMe status */
	uint64_t bytes;	 /* io_uring: bytes to move, and moved so far */
	uint64_t done;
	uint64_t off, len; /* io_uring: the request (a Write Zeroes may be redone as writes) */
	uint8_t op;	   /* enum blk_op */
	uint8_t flags;	   /* VFN_BLK_FUA */
	struct blk_req *next;
};

/* A device command standing for @len bytes of a request from byte @off of it. */
struct blk_piece {
	struct blk_req *req;
	uint64_t off;
	uint32_t len;
	int32_t bounce; /* bounce buffer index, -1: none */
	uint8_t op;
	struct vfn_blk_queue *q; /* io_uring_cmd: the queue (the callback's argument is the piece) */
};

struct blk_region {
	void *vaddr;
	size_t len;
};

struct vfn_blk;
struct vfn_blk_queue;

struct blk_ops {
	int (*queue_open)(struct vfn_blk_queue *q, const struct vfn_blk_queue_opts *o);
	void (*queue_close)(struct vfn_blk_queue *q);
	/* Queues @req (op, flags set; its callback's) for @len bytes at @off. */
	int (*submit)(struct vfn_blk_queue *q, struct blk_req *req, const struct iovec *iov, int iovcnt, uint64_t off,
		      uint64_t len);
	int (*poll)(struct vfn_blk_queue *q, uint32_t max);
	int (*flush)(struct vfn_blk_queue *q);
	bool (*ready)(const struct vfn_blk_queue *q);
	int (*mem_register)(struct vfn_blk *blk, void *buf, size_t len);
	void (*mem_unregister)(struct vfn_blk *blk, void *buf, size_t len);
	void (*close)(struct vfn_blk *blk);
	/* Optional: times out what the device holds too long (queue close's wait). Returns <0 on error. */
	int (*expire)(struct vfn_blk_queue *q);
};

struct vfn_blk {
	const struct blk_ops *ops;
	enum vfn_blk_backend backend;
	uint64_t size;
	uint32_t block_size;
	uint32_t block_shift;
	size_t max_request;
	size_t buf_align;
	uint32_t timeout_ms;  /* nvme: the command timeout (0: none known) */
	pthread_mutex_t lock; /* queue ids, vectors, the registered memory table */
	uint32_t nr_queues;
	uint32_t map_gen; /* bumped (atomic) at every unregistration, before the queues' caches are emptied */
	struct blk_region regs[BLK_MAX_REGS];
	uint32_t reg_gen; /* bumped (atomic, under lock) at every (un)registration: io_uring tables go stale */
	struct vfn_blk_queue *queues; /* the open queues (under lock) */
	/* nvme, io_uring_cmd */
	struct vfn_dev *dev;
	uint32_t nsid;
	/* io_uring */
	int fd;	       /* O_DIRECT when it could be opened so, else buffered */
	int fd_buf;    /* buffered, for memory O_DIRECT cannot take (== fd if fd is buffered) */
	bool is_bdev;  /* a block device (else a regular file) */
	bool uring_rw; /* the kernel supports IORING_OP_READ/WRITE_FIXED etc. */
};

struct vfn_blk_queue {
	struct vfn_blk_queue_hot hot; /* first: <vfn/blk-inline.h> casts the queue to it */
	struct vfn_blk *blk;
	struct vfn_blk_queue *next_q; /* blk->queues (under blk->lock) */
	const struct blk_ops *ops;
	uint32_t depth;
	uint32_t inflight; /* requests */
	struct blk_req *reqs;
	struct blk_req *free;
	/* bounce buffers */
	uint8_t *bounce_mem;
	uint64_t bounce_iova;
	size_t bounce_len; /* bytes per buffer */
	uint32_t nr_bounce;
	uint32_t *bounce_free; /* stack of free indexes */
	uint32_t nr_bounce_free;
	/* nvme */
	uint16_t qid;
	struct blk_piece *pieces; /* [depth], by cid */
	struct blk_piece *plan;	  /* [depth] scratch for splitting */
	/* io_uring_cmd */
	struct vfn_dev_queue *dq;
	struct vfn_nvme_dsm_range *ranges; /* [depth + 1]: a discard piece's range */
	uint32_t *piece_free;		   /* stack of free q->pieces indexes */
	uint32_t nr_piece_free;
	/* io_uring */
	struct blk_uring *ring;
	int efd;
	/* nvme */
	bool irq_rearm;		/* nvme on INTx with an fd: each poll re-arms the line (VFIO masked it) */
	uint64_t max_request;	/* blk->max_request */
	uint32_t slow_cmds;	/* the pair's commands the general path holds (the fast path's: the rest) */
	uint64_t slow_requests; /* requests that went through ops->submit (stats.commands counts their pieces) */
	uint64_t poll_before;	/* blk_reap(): requests completed before the reap */
};

_Static_assert(offsetof(struct vfn_blk_queue, hot) == 0, "<vfn/blk-inline.h> casts a queue to its hot part");

/*
 * Requests in flight: those with a context, and the nvme fast path's
 * (one command each, which the reap completes itself: VFN_RQ_F_DIRECT):
 * the pair's commands not free and not the general path's.
 */
static inline uint32_t blk_inflight(const struct vfn_blk_queue *q)
{
	return q->inflight + (q->hot.fast ? (uint32_t)(q->hot.qp->rqs.nr - q->hot.qp->rqs.nr_free) - q->slow_cmds : 0);
}

/* Requests completed: those with a context, and the fast path's. */
static inline uint64_t blk_completed(const struct vfn_blk_queue *q)
{
	return q->hot.stats.completed + (q->hot.fast ? q->hot.qp->direct_done : 0);
}

extern const struct blk_ops vfn_blk_nvme_ops;
extern const struct blk_ops vfn_blk_uring_ops;
extern const struct blk_ops vfn_blk_pt_ops;

/* Backend opens: fill @blk's geometry and ops. */
int vfn_blk_nvme_open(struct vfn_blk *blk, const char *uri, const struct vfn_blk_opts *opts);
int vfn_blk_uring_open(struct vfn_blk *blk, const char *uri, const struct vfn_blk_opts *opts);
int vfn_blk_pt_open(struct vfn_blk *blk, const char *uri, const struct vfn_blk_opts *opts);

#define NVME_CMD_FLUSH 0x00
#define NVME_CMD_WRITE 0x01
#define NVME_CMD_READ 0x02
#define NVME_CMD_WRITE_ZEROES 0x08
#define NVME_CMD_DSM 0x09
#define NVME_RW_FUA (1u << 30)
#define NVME_MAX_NLB 65536u	      /* blocks per Read/Write/Write Zeroes (16-bit 0's based) */
#define NVME_MAX_DSM_NLB (1ull << 31) /* blocks per DSM range we send */

/* The command for @len bytes at byte @off of the namespace. */
static inline void blk_nvme_sqe(const struct vfn_blk *blk, struct vfn_nvme_sqe *sqe, uint8_t opcode, uint64_t off,
				uint64_t len, uint32_t flags)
{
	uint64_t slba = off >> blk->block_shift;
	uint32_t nlb = (uint32_t)(len >> blk->block_shift);

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = opcode;
	sqe->nsid = vfn_cpu_to_le32(blk->nsid);
	sqe->cdw10 = vfn_cpu_to_le32((uint32_t)slba);
	sqe->cdw11 = vfn_cpu_to_le32((uint32_t)(slba >> 32));
	sqe->cdw12 = vfn_cpu_to_le32((nlb ? nlb - 1 : 0) | ((flags & VFN_BLK_FUA) ? NVME_RW_FUA : 0));
}

/* Done with a piece of @req: the callback once all are. Returns 1 if the request completed. */
static inline int blk_piece_done(struct vfn_blk_queue *q, struct blk_req *req, int ret, uint16_t status)
{
	if (vfn_unlikely(ret) && !req->ret) {
		req->ret = ret;
		req->status = status;
	}
	if (--req->pieces)
		return 0;
	{
		vfn_blk_cb cb = req->cb;
		void *arg = req->arg;

		ret = req->ret;
		status = req->status;
		req->next = q->free;
		q->free = req;
		q->inflight--;
		q->hot.stats.completed++;
		cb(arg, ret, status);
	}
	return 1;
}

/* Copies @len bytes from byte @off of the iovecs to @dst (@to_iov false) or back. */
void vfn_blk_iov_copy(const struct iovec *iov, int iovcnt, uint64_t off, void *buf, size_t len, bool to_iov);

#endif
