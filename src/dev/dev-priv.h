/* SPDX-License-Identifier: MIT */
/*
 * The device handle's internals: the backend table and what each backend
 * keeps in a handle and a queue.  See docs/dev.md.
 */
#ifndef VFN_SRC_DEV_DEV_PRIV_H
#define VFN_SRC_DEV_DEV_PRIV_H

#include <errno.h>
#include <stdbool.h>

#include <vfn/dev.h>
#include <vfn/rq.h>

#include "kernel/kernel.h"

/* What a backend does for the command-level API. */
struct vfn_dev_ops {
	int (*admin)(struct vfn_dev *dev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len,
		     struct vfn_nvme_cqe *cqe, uint32_t timeout_ms);
	int (*io)(struct vfn_dev *dev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, struct vfn_nvme_cqe *cqe,
		  uint32_t timeout_ms);
	/* io with a separate metadata buffer of @meta_len bytes (MPTR / the ioctl's metadata) */
	int (*io_meta)(struct vfn_dev *dev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, void *meta,
		       size_t meta_len, struct vfn_nvme_cqe *cqe, uint32_t timeout_ms);
	int (*queue_create)(struct vfn_dev_queue *q);
	void (*queue_destroy)(struct vfn_dev_queue *q);
	/* @meta/@meta_len: a separate metadata buffer (MPTR / the command's metadata), NULL/0: none */
	int (*submit)(struct vfn_dev_queue *q, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, void *meta,
		      size_t meta_len, vfn_dev_cb cb, void *arg);
	int (*poll)(struct vfn_dev_queue *q, uint32_t max, bool wait);
	ssize_t (*buf_alloc)(struct vfn_dev *dev, size_t len, void **buf);
	void (*buf_free)(struct vfn_dev *dev, void *buf, size_t len);
	/* after Identify: max_xfer, max_queues, max_qd */
	void (*limits)(struct vfn_dev *dev);
	void (*close)(struct vfn_dev *dev);
};

/* One row of the backend table. */
struct vfn_dev_backend_desc {
	const char *name;
	enum vfn_dev_backend id;
	/*
	 * Claims @uri (0) or declines: -EINVAL when it is not this backend's
	 * kind of string, another -errno when it is but cannot be opened; the
	 * reason goes to @why.
	 */
	int (*probe)(const char *uri, char *why, size_t len);
	/* Opens @uri into @dev (ops set by the caller); undoes itself on failure. */
	int (*open)(struct vfn_dev *dev, const char *uri, const struct vfn_dev_opts *opts);
	const struct vfn_dev_ops *ops;
};

extern const struct vfn_dev_backend_desc vfn_dev_backend_vfio;
extern const struct vfn_dev_backend_desc vfn_dev_backend_kernel;
extern const struct vfn_dev_backend_desc vfn_dev_backend_sim;

/*
 * A bounce buffer whose command was sent and never completed: the device
 * may still write it, so it is freed only once the controller owes the
 * synchronous queue pair nothing, or after the controller is closed.
 */
struct vfn_dev_bounce {
	void *vaddr;
	size_t len;
	struct vfn_dev_bounce *next;
};

struct vfn_dev {
	const struct vfn_dev_ops *ops;
	struct vfn_dev_info info;
	uint32_t timeout_ms;
	uint32_t nr_queues;	      /* queues open */
	struct vfn_dev_queue *queues; /* the open ones, torn down by vfn_dev_close() */
	uint8_t mdts;		      /* Identify Controller MDTS, for the backend's max_xfer */
	uint32_t ctratt;	      /* Identify Controller CTRATT (ELBAS: the guard format is reported) */
	/* vfio, sim */
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_iommu *iommu;	/* the controller's (a reference: it outlives the controller) */
	struct vfn_nvme_qpair *sync_qp; /* for vfn_dev_io(), created at the first call */
	struct vfn_dev_bounce *kept;	/* bounce buffers the device may still write */
	uint8_t *qid_used;		/* [nr_sq + 1] */
	uint16_t nr_qids;
	/* kernel */
	struct vfn_kdev *kdev;
	uintptr_t kalign; /* buffer address mask the kernel maps without bouncing */
	/* Geometry of namespaces other than info.nsid that Read/Write went to
	 * (dev->info with their namespace fields; nsid 0: a free slot). */
	struct vfn_dev_info other_ns[4];
	unsigned int other_next; /* the slot the next one replaces */
};

/* The callback and argument of one command in flight. */
struct vfn_dev_ctx {
	vfn_dev_cb cb;
	void *arg;
};

/* A completion the ioctl fallback ran already, waiting for vfn_dev_poll(). */
struct vfn_dev_done {
	struct vfn_dev_ctx ctx;
	int ret;
	struct vfn_nvme_cqe cqe;
};

struct vfn_dev_queue {
	const struct vfn_dev_ops *ops; /* the backend's; vfn_dev_orphan_ops once its handle is closed */
	struct vfn_dev *dev;	       /* NULL once its handle is closed */
	struct vfn_dev_queue *next;    /* in dev->queues */
	uint32_t depth;
	uint32_t inflight;
	uint32_t completed;	 /* callbacks run so far (wraps) */
	uint32_t timeout_ms;	 /* vfn_dev_wait() gives up after this long without a completion */
	struct vfn_dev_ctx *ctx; /* [depth] (kernel ring) or [entries] (qpair, by cid) */
	/* vfio, sim */
	struct vfn_nvme_qpair *qp;
	uint16_t qid;
	/* kernel: io_uring */
	struct vfn_kring *ring;
	uint32_t *free_slots; /* stack of free ctx indexes */
	uint32_t nr_free;
	/* kernel: ioctl fallback */
	struct vfn_dev_done *done; /* [depth], circular */
	uint32_t done_head;
};

/*
 * For the block API (src/blk), which serialises the calls under its own
 * lock: a queue pair on a free queue id of @dev (VFIO/sim; -ENOTSUP on the
 * kernel path), with @irq its vector (= the queue id) on an eventfd; and
 * its removal, which gives the id back.
 */
/*
 * Identify the handle's namespace again and decode its geometry into
 * dev->info (after Format NVM, Namespace Management or Attachment changed
 * it); a namespace no longer active leaves nsze and lba_size 0, so I/O
 * through the handle is -EINVAL.  0 or the Identify's -errno.
 */
int vfn_dev_refresh_ns(struct vfn_dev *dev);
/*
 * The geometry Read/Write/Compare/Write Zeroes of @nsid go by: dev->info
 * for the handle's own namespace; for another one, its own (Identify
 * Namespace once, kept in dev->other_ns until a namespace change through
 * the handle); dev->info when that namespace is not active or not a valid
 * id (the controller then answers for it); NULL when its Identify failed
 * otherwise (timeout, other status, no memory): callers send nothing (-EIO).
 */
const struct vfn_dev_info *vfn_dev_ns_geometry(struct vfn_dev *dev, uint32_t nsid);
/*
 * The data length of @nlb blocks of @nsid for a command without metadata
 * (Read, Write, Zone Append), by vfn_dev_ns_geometry(): 0 and *@len, or
 * -EIO when that namespace's Identify failed (send nothing), -EINVAL for
 * @nlb outside 1..65536, no namespace or over the transfer limit, -ENOTSUP
 * for a namespace with metadata.
 */
int vfn_dev_plain_len(struct vfn_dev *dev, uint32_t nsid, uint32_t nlb, size_t *len);
/* Forgets the kept geometry of other namespaces (after a format or namespace change). */
void vfn_dev_forget_other_ns(struct vfn_dev *dev);
/*
 * vfn_dev_zns_info() (dev-zns.c) into @info; the zone capacity (a one-zone
 * report, an I/O command) only @with_report, else left 0.
 */
struct vfn_zns_info;
int vfn_dev_zns_geometry(struct vfn_dev *dev, uint32_t nsid, struct vfn_zns_info *info, bool with_report,
			 struct vfn_nvme_cqe *cqe);
/*
 * Tears down the queue pair of vfn_dev_io() (VFIO/sim) if the controller owes
 * it nothing, giving its queue id back (the next vfn_dev_io() makes a new one).
 */
void vfn_dev_ctrl_sync_qp_drop(struct vfn_dev *dev);
/* Makes @dev an admin-only handle over @ctrl, which it does not own (vfn_dev_from_ctrl()). */
void vfn_dev_ctrl_borrow(struct vfn_dev *dev, struct vfn_nvme_ctrl *ctrl);
int vfn_dev_ctrl_qpair_open(struct vfn_dev *dev, uint32_t depth, bool irq, struct vfn_nvme_qpair **qp, uint16_t *qid);
void vfn_dev_ctrl_qpair_close(struct vfn_dev *dev, struct vfn_nvme_qpair *qp, uint16_t qid);

/* What a queue does once its handle is closed: nothing (-ENODEV). */
extern const struct vfn_dev_ops vfn_dev_orphan_ops;

/* The errno for a completion: 0 or -EIO. */
static inline int vfn_dev_cqe_ret(const struct vfn_nvme_cqe *cqe)
{
	return vfn_nvme_status_to_errno(vfn_nvme_cqe_status(cqe));
}

/*
 * True if a synchronous call that returned @ret got its completion @cqe
 * from the controller: 0, or -EIO with an error status (any other error,
 * -EIO from CSTS.CFS included, leaves no completion).
 */
static inline bool vfn_dev_completed(int ret, const struct vfn_nvme_cqe *cqe)
{
	return !ret || (ret == -EIO && (vfn_nvme_cqe_status(cqe) & 0x7ff));
}

#endif
