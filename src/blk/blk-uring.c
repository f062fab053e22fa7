/* SPDX-License-Identifier: MIT */
/*
 * Block API backend "io_uring": a block device (/dev/nvmeXnY or any other)
 * or a regular file, read and written through an io_uring of the queue's
 * own (64-byte SQEs, set up by hand like src/kernel/kring.c: no liburing).
 *
 *   read/write   IORING_OP_READV/WRITEV on the O_DIRECT descriptor, or
 *                READ_FIXED/WRITE_FIXED for one segment in registered
 *                memory; memory O_DIRECT cannot take goes to a buffered
 *                descriptor of the same file (counted: stats.buffered)
 *   FUA          RWF_DSYNC
 *   flush        IORING_OP_FSYNC with IORING_FSYNC_DATASYNC
 *   write zeroes IORING_OP_FALLOCATE FALLOC_FL_ZERO_RANGE | KEEP_SIZE
 *   discard      IORING_OP_FALLOCATE FALLOC_FL_PUNCH_HOLE | KEEP_SIZE
 *
 * The queue's fd is an eventfd registered with the ring
 * (IORING_REGISTER_EVENTFD): the kernel signals it for each completion.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "blk/blk-priv.h"
#include "support/log.h"

#define URING_MAX_IOV 1024	  /* IOV_MAX: segments per READV/WRITEV */
#define URING_MAX_RW 0x7ffff000ul /* bytes the kernel moves per read/write */
#define URING_COPY_IOV 64	  /* segments of a split piece that starts or ends inside one */

struct blk_uring {
	int fd;
	uint32_t sq_entries, sq_mask, cq_mask;
	uint32_t *sq_khead, *sq_ktail, *cq_khead, *cq_ktail;
	struct io_uring_sqe *sqes;
	const struct io_uring_cqe *cqes;
	uint32_t sq_tail;   /* next slot to fill */
	uint32_t submitted; /* SQ tail the kernel took up to */
	uint32_t pieces;    /* SQEs queued or in flight */
	void *sq_map, *cq_map;
	size_t sq_map_len, cq_map_len, sqes_len;
	void *zero;	       /* BLK_BOUNCE_MAX_LEN zero bytes, for Write Zeroes where fallocate cannot */
	struct iovec *scratch; /* split pieces' segments: URING_COPY_IOV per SQE slot (at the first split) */
	/*
	 * Fixed buffers: the kernel's table has BLK_MAX_REGS slots, slot i is
	 * blk->regs[i] when bit i of @slots is set (kept by whoever holds
	 * blk->lock: registration updates every open ring).  The queue's thread
	 * looks buffers up in its own copy @fix, redone under the lock when
	 * blk->reg_gen moved past @gen.
	 */
	bool table;	/* the kernel took the (sparse) table */
	uint64_t slots; /* under blk->lock */
	uint32_t gen;
	uint32_t nr_fix;
	struct blk_fixed {
		uintptr_t vaddr;
		size_t len;
		uint16_t slot;
	} fix[BLK_MAX_REGS];
};

static int sys_setup(uint32_t entries, struct io_uring_params *p)
{
	return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_enter(int fd, uint32_t to_submit, uint32_t min_complete, uint32_t flags)
{
	return (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, NULL, 0);
}

static int sys_register(int fd, uint32_t op, void *arg, uint32_t nr)
{
	return (int)syscall(__NR_io_uring_register, fd, op, arg, nr);
}

/* ---- open ------------------------------------------------------------------ */

/* Geometry of a regular file: O_DIRECT alignment from statx when the kernel tells it. */
static void file_geometry(struct vfn_blk *blk, const struct stat *st, bool direct)
{
	struct statx sx;

	blk->size = (uint64_t)st->st_size;
	blk->block_size = 512;
	blk->buf_align = direct ? 4096 : 1;
	if (direct && !statx(blk->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) && (sx.stx_mask & STATX_DIOALIGN) &&
	    sx.stx_dio_offset_align) {
		blk->block_size = sx.stx_dio_offset_align < 512 ? 512 : sx.stx_dio_offset_align;
		blk->buf_align = sx.stx_dio_mem_align ? sx.stx_dio_mem_align : 4096;
	} else if (direct) {
		blk->block_size = 4096;
	}
	blk->size &= ~((uint64_t)blk->block_size - 1);
}

static int bdev_geometry(struct vfn_blk *blk)
{
	uint64_t bytes;
	int lbs;

	if (ioctl(blk->fd, BLKGETSIZE64, &bytes) || ioctl(blk->fd, BLKSSZGET, &lbs))
		return -errno;
	blk->size = bytes;
	blk->block_size = (uint32_t)lbs;
	blk->buf_align = (size_t)lbs;
	return 0;
}

/* True if the kernel can set up an io_uring here (it may be disabled or filtered). */
static int uring_probe(void)
{
	struct io_uring_params p = { 0 };
	int fd = sys_setup(2, &p);

	if (fd < 0) {
		log_info("blk: io_uring is not available here (%s)", strerror(errno));
		return errno == ENOSYS || errno == EPERM ? -ENOTSUP : -errno;
	}
	close(fd);
	return 0;
}

int vfn_blk_uring_open(struct vfn_blk *blk, const char *uri, const struct vfn_blk_opts *opts)
{
	bool direct = !(opts && opts->buffered);
	struct stat st;
	int ret;

	if (stat(uri, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		log_debug("blk: %s: the io_uring backend takes a block device or a regular file", uri);
		return -EINVAL;
	}
	ret = uring_probe();
	if (ret)
		return ret;
	blk->fd = direct ? open(uri, O_RDWR | O_DIRECT | O_CLOEXEC) : -1;
	if (blk->fd < 0) {
		if (direct)
			log_info("blk: %s: no O_DIRECT (%s): buffered I/O", uri, strerror(errno));
		direct = false;
		blk->fd = open(uri, O_RDWR | O_CLOEXEC);
		if (blk->fd < 0)
			return -errno;
	}
	blk->fd_buf = direct ? open(uri, O_RDWR | O_CLOEXEC) : blk->fd;
	if (blk->fd_buf < 0) {
		ret = -errno;
		close(blk->fd);
		return ret;
	}
	blk->is_bdev = S_ISBLK(st.st_mode);
	ret = 0;
	if (blk->is_bdev)
		ret = bdev_geometry(blk);
	else
		file_geometry(blk, &st, direct);
	if (ret) {
		close(blk->fd);
		if (blk->fd_buf != blk->fd)
			close(blk->fd_buf);
		return ret;
	}
	blk->max_request = URING_MAX_RW & ~((size_t)blk->block_size - 1);
	blk->ops = &vfn_blk_uring_ops;
	return 0;
}

static void uring_close(struct vfn_blk *blk)
{
	if (blk->fd_buf != blk->fd)
		close(blk->fd_buf);
	close(blk->fd);
}

/* Sets slot @slot of @r's table to @buf/@len (NULL, 0: empty).  The caller holds blk->lock. */
static int ring_slot_set(struct blk_uring *r, int slot, void *buf, size_t len)
{
	struct iovec iov = { buf, len };
	struct io_uring_rsrc_update2 up = { .offset = (uint32_t)slot, .data = (uint64_t)(uintptr_t)&iov, .nr = 1 };
	int ret;

	if (!r->table)
		return -ENOTSUP;
	ret = sys_register(r->fd, IORING_REGISTER_BUFFERS_UPDATE, &up, sizeof(up));
	if (ret < 0)
		return -errno;
	if (buf)
		r->slots |= 1ull << slot;
	else
		r->slots &= ~(1ull << slot);
	return 0;
}

static int reg_slot(const struct vfn_blk *blk, const void *buf)
{
	for (int i = 0; i < BLK_MAX_REGS; i++)
		if (blk->regs[i].vaddr == buf)
			return i;
	return -1;
}

/* New memory (blk->regs has it, under blk->lock): a fixed buffer of every open ring. */
static int uring_mem_register(struct vfn_blk *blk, void *buf, size_t len)
{
	int slot = reg_slot(blk, buf);

	for (struct vfn_blk_queue *q = blk->queues; q && slot >= 0; q = q->next_q)
		if (ring_slot_set(q->ring, slot, buf, len))
			log_info("blk: io_uring buffer registration failed (%s): plain reads and writes on it",
				 strerror(errno));
	return 0;
}

/*
 * Memory going away (under blk->lock): out of every ring's table now, so
 * that no ring keeps its pages pinned nor a later I/O at the same address
 * names them; the queues' lookups see blk->reg_gen move.
 */
static void uring_mem_unregister(struct vfn_blk *blk, void *buf, size_t len)
{
	int slot = reg_slot(blk, buf);

	(void)len;
	for (struct vfn_blk_queue *q = blk->queues; q && slot >= 0; q = q->next_q)
		if ((q->ring->slots & (1ull << slot)) && ring_slot_set(q->ring, slot, NULL, 0))
			log_err("blk: io_uring buffer unregistration failed (%s)", strerror(errno));
}

/* ---- queues ---------------------------------------------------------------- */

static int ring_map(struct blk_uring *r, const struct io_uring_params *p)
{
	r->sq_map_len = p->sq_off.array + p->sq_entries * sizeof(uint32_t);
	r->cq_map_len = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
	if (p->features & IORING_FEAT_SINGLE_MMAP)
		r->sq_map_len = r->cq_map_len = r->sq_map_len > r->cq_map_len ? r->sq_map_len : r->cq_map_len;
	r->sq_map =
		mmap(NULL, r->sq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
	if (r->sq_map == MAP_FAILED)
		return -errno;
	r->cq_map = r->sq_map;
	if (!(p->features & IORING_FEAT_SINGLE_MMAP)) {
		r->cq_map = mmap(NULL, r->cq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
				 IORING_OFF_CQ_RING);
		if (r->cq_map == MAP_FAILED)
			return -errno;
	}
	r->sqes_len = p->sq_entries * sizeof(struct io_uring_sqe);
	r->sqes = mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED)
		return -errno;
	r->sq_khead = (uint32_t *)((uint8_t *)r->sq_map + p->sq_off.head);
	r->sq_ktail = (uint32_t *)((uint8_t *)r->sq_map + p->sq_off.tail);
	r->cq_khead = (uint32_t *)((uint8_t *)r->cq_map + p->cq_off.head);
	r->cq_ktail = (uint32_t *)((uint8_t *)r->cq_map + p->cq_off.tail);
	r->cqes = (const struct io_uring_cqe *)((uint8_t *)r->cq_map + p->cq_off.cqes);
	r->sq_entries = p->sq_entries;
	r->sq_mask = *(uint32_t *)((uint8_t *)r->sq_map + p->sq_off.ring_mask);
	r->cq_mask = *(uint32_t *)((uint8_t *)r->cq_map + p->cq_off.ring_mask);
	/* Slot i always holds SQE i: submitting only writes the SQE and the tail. */
	for (uint32_t i = 0; i < p->sq_entries; i++)
		((uint32_t *)((uint8_t *)r->sq_map + p->sq_off.array))[i] = i;
	return 0;
}

static void ring_unmap(struct blk_uring *r)
{
	if (r->sqes && r->sqes != MAP_FAILED)
		munmap(r->sqes, r->sqes_len);
	if (r->cq_map && r->cq_map != MAP_FAILED && r->cq_map != r->sq_map)
		munmap(r->cq_map, r->cq_map_len);
	if (r->sq_map && r->sq_map != MAP_FAILED)
		munmap(r->sq_map, r->sq_map_len);
	close(r->fd);
}

/*
 * Sets up the ring's table of BLK_MAX_REGS slots, empty, then fills those
 * of blk->regs (the caller holds blk->lock).  A kernel that takes no sparse
 * table (before 5.13) or no pinning (RLIMIT_MEMLOCK): plain reads and writes.
 */
static void ring_register_buffers(struct blk_uring *r, const struct vfn_blk *blk)
{
	struct iovec iov[BLK_MAX_REGS] = { { 0 } };

	if (sys_register(r->fd, IORING_REGISTER_BUFFERS, iov, BLK_MAX_REGS)) {
		log_info("blk: io_uring buffer table refused (%s): plain reads and writes", strerror(errno));
		return;
	}
	r->table = true;
	for (int i = 0; i < BLK_MAX_REGS; i++)
		if (blk->regs[i].vaddr && ring_slot_set(r, i, blk->regs[i].vaddr, blk->regs[i].len))
			log_info("blk: io_uring buffer registration failed (%s): plain reads and writes on it",
				 strerror(errno));
}

/* The queue's copy of its ring's fixed buffers, after a (un)registration (not per I/O). */
static __attribute__((noinline, cold)) void ring_fix_sync(struct vfn_blk_queue *q, uint32_t gen)
{
	struct blk_uring *r = q->ring;
	struct vfn_blk *blk = q->blk;

	pthread_mutex_lock(&blk->lock);
	r->nr_fix = 0;
	for (int i = 0; i < BLK_MAX_REGS; i++)
		if (r->slots & (1ull << i))
			r->fix[r->nr_fix++] =
				(struct blk_fixed){ (uintptr_t)blk->regs[i].vaddr, blk->regs[i].len, (uint16_t)i };
	r->gen = gen;
	pthread_mutex_unlock(&blk->lock);
}

static int uring_queue_open(struct vfn_blk_queue *q, const struct vfn_blk_queue_opts *o)
{
	struct io_uring_params p = { 0 };
	struct blk_uring *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return -ENOMEM;
	r->fd = sys_setup(q->depth, &p);
	if (r->fd < 0) {
		ret = -errno;
		free(r);
		return ret;
	}
	ret = ring_map(r, &p);
	if (!ret) {
		ring_register_buffers(r, q->blk); /* under blk->lock: vfn_blk_queue_open() */
		r->gen = __atomic_load_n(&q->blk->reg_gen, __ATOMIC_ACQUIRE) - 1; /* synced at the first I/O */
	}
	if (!ret && !o->polled) {
		q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (q->efd < 0 || sys_register(r->fd, IORING_REGISTER_EVENTFD, &q->efd, 1))
			ret = -errno;
	}
	if (ret) {
		if (q->efd >= 0)
			close(q->efd);
		ring_unmap(r);
		free(r);
		return ret;
	}
	q->ring = r;
	return 0;
}

static void uring_queue_close(struct vfn_blk_queue *q)
{
	if (q->ring->zero)
		vfn_mem_free(q->ring->zero, BLK_BOUNCE_MAX_LEN);
	free(q->ring->scratch);
	ring_unmap(q->ring);
	free(q->ring);
	if (q->efd >= 0)
		close(q->efd);
}

/* ---- I/O ----------------------------------------------------------------- */

static int uring_flush(struct vfn_blk_queue *q)
{
	struct blk_uring *r = q->ring;

	if (r->sq_tail != r->submitted) {
		int got = sys_enter(r->fd, r->sq_tail - r->submitted, 0, 0);

		/* The kernel may take part of the batch (or none, for now): the rest goes next time. */
		if (got < 0 && errno != EAGAIN && errno != EBUSY && errno != EINTR)
			return -errno;
		if (got > 0)
			r->submitted += (uint32_t)got;
	}
	return 0;
}

static bool uring_ready(const struct vfn_blk_queue *q)
{
	return __atomic_load_n(q->ring->cq_ktail, __ATOMIC_ACQUIRE) != *q->ring->cq_khead;
}

/* The next free SQE (the caller checked there is room). */
static inline struct io_uring_sqe *uring_sqe(struct blk_uring *r)
{
	struct io_uring_sqe *sqe = &r->sqes[r->sq_tail & r->sq_mask];

	memset(sqe, 0, sizeof(*sqe));
	r->sq_tail++;
	r->pieces++;
	/* Release: the SQE is written before the kernel sees the tail. */
	__atomic_store_n(r->sq_ktail, r->sq_tail, __ATOMIC_RELEASE);
	return sqe;
}

/*
 * Write Zeroes where fallocate(FALLOC_FL_ZERO_RANGE) is not supported
 * (tmpfs, some file systems): the range is written from a zeroed buffer
 * of the queue's (allocated at the first need), in place of the failed
 * piece.  Returns 0, or -errno to complete the request with the error.
 */
static int uring_wz_writes(struct vfn_blk_queue *q, struct blk_req *req)
{
	struct blk_uring *r = q->ring;
	uint64_t chunk = BLK_BOUNCE_MAX_LEN, done;
	uint32_t n = (uint32_t)((req->len + chunk - 1) / chunk);

	if (n > r->sq_entries - r->pieces)
		return -EOPNOTSUPP;
	if (!r->zero && vfn_mem_alloc(BLK_BOUNCE_MAX_LEN, &r->zero) < 0) {
		r->zero = NULL;
		return -EOPNOTSUPP;
	}
	req->pieces += n - 1;
	req->bytes = req->len;
	req->done = 0;
	for (done = 0; done < req->len; done += chunk) {
		struct io_uring_sqe *sqe = uring_sqe(r);

		sqe->opcode = IORING_OP_WRITE;
		sqe->fd = q->blk->fd;
		sqe->off = req->off + done;
		sqe->addr = (uint64_t)(uintptr_t)r->zero;
		sqe->len = (uint32_t)(req->len - done < chunk ? req->len - done : chunk);
		sqe->user_data = (uint64_t)(uintptr_t)req;
		q->hot.stats.commands++;
	}
	return 0;
}

static int uring_poll(struct vfn_blk_queue *q, uint32_t max)
{
	struct blk_uring *r = q->ring;
	uint64_t before = q->hot.stats.completed;
	uint32_t head, tail, n = 0;
	int ret = uring_flush(q);

	if (ret)
		return ret;
	head = *r->cq_khead;
	/* Acquire: the CQEs up to the tail are written before the kernel moved it. */
	tail = __atomic_load_n(r->cq_ktail, __ATOMIC_ACQUIRE);
	while (head != tail && (!max || n < max)) {
		const struct io_uring_cqe *cqe = &r->cqes[head & r->cq_mask];
		struct blk_req *req = (struct blk_req *)(uintptr_t)cqe->user_data;
		int res = cqe->res;

		head++;
		n++;
		r->pieces--;
		/* Release: the CQE was read before the kernel may reuse its slot. */
		__atomic_store_n(r->cq_khead, head, __ATOMIC_RELEASE);
		if (res > 0)
			req->done += (uint64_t)res;
		if (req->pieces == 1 && res >= 0 && req->done != req->bytes)
			res = -EIO; /* short read or write: past the end of the file or device */
		if (vfn_unlikely(res == -EOPNOTSUPP && req->op == BLK_WZ) && !uring_wz_writes(q, req))
			continue; /* the file system cannot zero a range: written with zeroes instead */
		blk_piece_done(q, req, res < 0 ? res : 0, 0);
	}
	return (int)(q->hot.stats.completed - before);
}

/* The fixed buffer slot holding all @len bytes at @p, or -1. */
static int uring_fixed(struct vfn_blk_queue *q, const void *p, size_t len)
{
	struct blk_uring *r = q->ring;
	uint32_t gen = __atomic_load_n(&q->blk->reg_gen, __ATOMIC_ACQUIRE);

	if (vfn_unlikely(gen != r->gen))
		ring_fix_sync(q, gen);
	for (uint32_t i = 0; i < r->nr_fix; i++)
		if ((uintptr_t)p - r->fix[i].vaddr < r->fix[i].len &&
		    len <= r->fix[i].len - ((uintptr_t)p - r->fix[i].vaddr))
			return r->fix[i].slot;
	return -1;
}

/* True if every segment suits O_DIRECT (address and length aligned). */
static bool uring_aligned(const struct vfn_blk *blk, const struct iovec *iov, int iovcnt)
{
	uintptr_t bits = 0;

	for (int i = 0; i < iovcnt; i++)
		bits |= (uintptr_t)iov[i].iov_base | iov[i].iov_len;
	return !(bits & (blk->buf_align - 1));
}

/* Fills @sqe for a read/write of @cnt segments at @iov (a fixed buffer when @fixed >= 0: one segment). */
static inline void uring_rw_sqe(struct io_uring_sqe *sqe, enum blk_op op, int fd, uint64_t off, uint32_t flags,
				const struct iovec *iov, int cnt, int fixed, struct blk_req *req)
{
	sqe->fd = fd;
	sqe->off = off;
	sqe->rw_flags = (flags & VFN_BLK_FUA) ? RWF_DSYNC : 0;
	sqe->user_data = (uint64_t)(uintptr_t)req;
	if (fixed >= 0) {
		sqe->opcode = op == BLK_READ ? IORING_OP_READ_FIXED : IORING_OP_WRITE_FIXED;
		sqe->addr = (uint64_t)(uintptr_t)iov->iov_base;
		sqe->len = (uint32_t)iov->iov_len;
		sqe->buf_index = (uint16_t)fixed;
	} else {
		sqe->opcode = op == BLK_READ ? IORING_OP_READV : IORING_OP_WRITEV;
		sqe->addr = (uint64_t)(uintptr_t)iov;
		sqe->len = (uint32_t)cnt;
	}
}

/* Where a split request stands: segment @i from byte @skip of it. */
struct uring_cursor {
	int i;
	size_t skip;
};

/*
 * The next piece of a split read/write from @c (at a block boundary of the
 * file): at most blk->max_request bytes, ending on a block boundary.  Whole
 * segments (up to IOV_MAX) are named in the caller's array; a piece that
 * starts or ends inside a segment gets its segments copied to @scratch
 * (URING_COPY_IOV of them at most).  Sets *@piov, *@cnt, *@len and moves
 * @c.  -E2BIG when URING_COPY_IOV segments hold no block boundary.
 */
static int uring_cut(const struct vfn_blk *blk, const struct iovec *iov, int iovcnt, struct uring_cursor *c,
		     struct iovec *scratch, const struct iovec **piov, int *cnt, uint64_t *len)
{
	uint64_t bs = blk->block_size, max = blk->max_request, acc = 0, end;
	int k = 0;

	if (!c->skip) {
		uint64_t best = 0;
		int best_j = c->i;

		for (int j = c->i; j < iovcnt && j - c->i < URING_MAX_IOV && acc + iov[j].iov_len <= max; j++) {
			acc += iov[j].iov_len;
			if (acc && !(acc & (bs - 1))) {
				best = acc;
				best_j = j + 1;
			}
		}
		if (best) {
			*piov = &iov[c->i];
			*cnt = best_j - c->i;
			*len = best;
			c->i = best_j;
			return 0;
		}
	}
	/* Copied segments, cut at the last block boundary they reach. */
	acc = 0;
	for (int j = c->i; j < iovcnt && k < URING_COPY_IOV && acc < max; j++) {
		size_t skip = j == c->i ? c->skip : 0, take = iov[j].iov_len - skip;

		if (take > max - acc)
			take = (size_t)(max - acc);
		scratch[k++] = (struct iovec){ (uint8_t *)iov[j].iov_base + skip, take };
		acc += take;
	}
	end = acc & ~(bs - 1);
	if (!end)
		return -E2BIG;
	acc = 0;
	for (int j = 0; j < k; j++) {
		size_t l = scratch[j].iov_len;

		if (acc + l >= end) {
			/* this segment holds the end: the cursor moves into it, or past it */
			scratch[j].iov_len = (size_t)(end - acc);
			*cnt = j + 1;
			if (j == 0)
				c->skip += scratch[0].iov_len;
			else
				c->skip = scratch[j].iov_len, c->i += j;
			if (c->skip == iov[c->i].iov_len) {
				c->i++;
				c->skip = 0;
			}
			break;
		}
		acc += l;
	}
	*piov = scratch;
	*len = end;
	return 0;
}

/*
 * A read/write beyond one SQE (more than IOV_MAX segments, or more than
 * the kernel moves per call): counted first, then queued piece by piece.
 */
static __attribute__((noinline)) int uring_rw_split(struct vfn_blk_queue *q, enum blk_op op, const struct iovec *iov,
						    int iovcnt, uint64_t off, uint32_t flags, struct blk_req *req,
						    int fd)
{
	struct blk_uring *r = q->ring;
	struct iovec tmp[URING_COPY_IOV];
	struct uring_cursor c = { 0, 0 };
	const struct iovec *piov;
	uint32_t n = 0;
	uint64_t len;
	bool fixed_any = false;
	int cnt, ret;

	while (c.i < iovcnt) {
		ret = uring_cut(q->blk, iov, iovcnt, &c, tmp, &piov, &cnt, &len);
		if (ret) {
			log_debug("blk: %d segments with no block boundary within %d of them", iovcnt, URING_COPY_IOV);
			return ret;
		}
		n++;
		while (c.i < iovcnt && !iov[c.i].iov_len)
			c.i++;
	}
	if (n > r->sq_entries - r->pieces)
		return n > r->sq_entries ? -E2BIG : -EAGAIN;
	if (!r->scratch) {
		/* once per queue, at its first split */
		r->scratch = calloc((size_t)r->sq_entries * URING_COPY_IOV, sizeof(*r->scratch));
		if (!r->scratch)
			return -ENOMEM;
	}
	req->pieces = n;
	c = (struct uring_cursor){ 0, 0 };
	while (c.i < iovcnt) {
		/* An SQE slot is reused only once the kernel took its SQE, and the iovecs with it (SUBMIT_STABLE). */
		struct iovec *sc = r->scratch + (size_t)(r->sq_tail & r->sq_mask) * URING_COPY_IOV;
		int fixed = -1;

		uring_cut(q->blk, iov, iovcnt, &c, sc, &piov, &cnt, &len);
		if (cnt == 1 && r->table && fd == q->blk->fd)
			fixed = uring_fixed(q, piov->iov_base, piov->iov_len);
		fixed_any |= fixed >= 0;
		uring_rw_sqe(uring_sqe(r), op, fd, off, flags, piov, cnt, fixed, req);
		off += len;
		q->hot.stats.commands++;
		while (c.i < iovcnt && !iov[c.i].iov_len)
			c.i++;
	}
	q->hot.stats.fixed += fixed_any;
	q->hot.stats.split += n > 1;
	return 0;
}

static int uring_rw(struct vfn_blk_queue *q, enum blk_op op, const struct iovec *iov, int iovcnt, uint64_t off,
		    uint64_t len, uint32_t flags, struct blk_req *req)
{
	struct blk_uring *r = q->ring;
	int fd = q->blk->fd, fixed = -1;

	if (vfn_unlikely(q->blk->fd_buf != fd && !uring_aligned(q->blk, iov, iovcnt))) {
		fd = q->blk->fd_buf;
		q->hot.stats.buffered++;
	}
	if (vfn_unlikely(iovcnt > URING_MAX_IOV || len > q->blk->max_request))
		return uring_rw_split(q, op, iov, iovcnt, off, flags, req, fd);
	if (r->pieces == r->sq_entries)
		return -EAGAIN;
	if (iovcnt == 1 && r->table && fd == q->blk->fd) {
		fixed = uring_fixed(q, iov->iov_base, iov->iov_len);
		q->hot.stats.fixed += fixed >= 0;
	}
	req->pieces = 1;
	uring_rw_sqe(uring_sqe(r), op, fd, off, flags, iov, iovcnt, fixed, req);
	q->hot.stats.commands++;
	return 0;
}

static int uring_submit(struct vfn_blk_queue *q, struct blk_req *req, const struct iovec *iov, int iovcnt, uint64_t off,
			uint64_t len)
{
	enum blk_op op = (enum blk_op)req->op;
	uint32_t flags = req->flags;
	struct blk_uring *r = q->ring;
	struct io_uring_sqe *sqe;

	req->bytes = op <= BLK_WRITE ? len : 0;
	req->done = 0;
	req->off = off;
	req->len = len;
	if (op <= BLK_WRITE)
		return uring_rw(q, op, iov, iovcnt, off, len, flags, req);
	if (r->pieces == r->sq_entries)
		return -EAGAIN;
	sqe = uring_sqe(r);
	sqe->fd = q->blk->fd;
	sqe->user_data = (uint64_t)(uintptr_t)req;
	if (op == BLK_FLUSH) {
		sqe->opcode = IORING_OP_FSYNC;
		sqe->fsync_flags = IORING_FSYNC_DATASYNC;
	} else {
		sqe->opcode = IORING_OP_FALLOCATE;
		sqe->off = off;
		sqe->addr = len;
		sqe->len = FALLOC_FL_KEEP_SIZE | (op == BLK_WZ ? FALLOC_FL_ZERO_RANGE : FALLOC_FL_PUNCH_HOLE);
	}
	req->pieces = 1;
	q->hot.stats.commands++;
	return 0;
}

const struct blk_ops vfn_blk_uring_ops = {
	.queue_open = uring_queue_open,
	.queue_close = uring_queue_close,
	.submit = uring_submit,
	.poll = uring_poll,
	.flush = uring_flush,
	.ready = uring_ready,
	.mem_register = uring_mem_register,
	.mem_unregister = uring_mem_unregister,
	.close = uring_close,
};
