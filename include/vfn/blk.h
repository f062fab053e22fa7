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

#ifdef __cplusplus
}
#endif

/* Opt-in: the hot calls inline (<vfn/blk-inline.h>, docs/blk.md). */
#ifdef VFN_BLK_INLINE
#include <vfn/blk-inline.h>
#endif

#endif /* VFN_BLK_H */
