/* SPDX-License-Identifier: MIT */
/*
 * The controller handle and what the nvme module's files share about it.
 */
#ifndef VFN_SRC_NVME_CTRL_PRIV_H
#define VFN_SRC_NVME_CTRL_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <vfn/nvme.h>
#include <vfn/queue.h>
#include <vfn/rq.h>

#include "nvme/hw.h"

/*
 * DMA memory the controller may still access though nobody uses it any
 * more: the data buffer of an admin command that never completed, the
 * rings of a queue whose Delete failed.  It stays mapped (its IOVA is not
 * handed out again) until the controller completes that admin command
 * late, or is disabled (reset, close).  On the admin's list, under its lock.
 */
struct vfn_nvme_retired_buf {
	struct vfn_nvme_retired_buf *next;
	void *vaddr;
	size_t len;
	int32_t cid; /* admin command whose late completion frees it; -1: none */
};

/* Admin queue state; everything here is protected by lock. */
struct vfn_nvme_admin {
	pthread_mutex_t lock; /* serialises admin commands */
	struct vfn_sq sq;
	struct vfn_cq cq;
	void *ring_mem; /* SQ ring then CQ ring, one DMA allocation */
	size_t ring_len;
	void *bounce; /* one memory page for small transfers, NULL when retired */
	uint64_t bounce_iova;
	uint16_t next_cid;
	/* Command ids of timed-out commands: a late completion is dropped, the id is not reused. */
	uint64_t abandoned[65536 / 64];
	struct vfn_nvme_retired_buf *retired;
	/* Asynchronous Event Requests: command ids VFN_NVME_AER_CID_BASE + i. */
	vfn_nvme_aer_cb aer_cb;
	void *aer_arg;
	uint16_t aer_busy;	 /* bit i: AER with cid base + i outstanding */
	unsigned int aer_limit;	 /* how many to keep outstanding */
	uint32_t aer_events[16]; /* delivered events not yet given to aer_cb (a ring) */
	unsigned int aer_head, aer_nr;
	uint64_t aer_lost;	     /* events dropped because the ring was full */
	bool aer_delivering;	     /* a thread is calling aer_cb */
	struct vfn_nvme_cmdlog *log; /* command log (owned), NULL: off */
};

#define VFN_NVME_AER_CID_BASE 0xfff0u /* admin command ids reserved for AERs */
#define VFN_NVME_AER_MAX 16u

struct vfn_nvme_ctrl {
	struct vfn_nvme_hw hw;	   /* owned: closed by vfn_nvme_ctrl_close() */
	uint64_t cap;		   /* CAP as read at bring-up */
	uint32_t db_stride;	   /* bytes between doorbells: 4 << CAP.DSTRD */
	uint32_t rdy_timeout_ms;   /* CAP.TO in ms */
	uint32_t shn_timeout_ms;   /* CC.SHN to CSTS.SHST complete: max(RTD3E, 5 s), at most 60 s */
	uint32_t admin_timeout_ms; /* default admin command timeout */
	size_t page_size;	   /* memory page size chosen for CC.MPS */
	struct vfn_nvme_admin admin;
	struct vfn_nvme_ctrl_info info;
	/* Doorbell Buffer Config: shadow doorbell page then EventIdx page (NULL: off). */
	void *dbbuf;
	uint64_t dbbuf_iova;
	size_t dbbuf_len;
	struct vfn_nvme_ctrl_opts opts; /* as opened with (for a reset) */
	uint8_t aerl;			/* Identify AERL (0's based) */
	uint16_t iocs_index;		/* I/O Command Set Profile selected at bring-up (CNS 1Ch vector index) */
	uint64_t iocs_vector;		/* its command sets (bit N = CSI N); 0 when CC.CSS is NVM only */
	/*
	 * Recovery state (recovery.c).  failed is atomic and only rises
	 * (0, -ECANCELED, -EIO, -ENODEV) until a reset succeeds; it is set
	 * only once the controller was quiesced, so whoever reads it non-zero
	 * knows no DMA happens any more.
	 */
	int failed;
	int restarting;		       /* atomic: a reset is bringing the controller up (its admin commands pass) */
	int resetting;		       /* atomic: vfn_nvme_ctrl_reset() is running */
	pthread_mutex_t recovery_lock; /* serialises quiescing */
	bool quiesced;		       /* under recovery_lock: stopped since the last bring-up */
	bool dma_off;		       /* under recovery_lock: bus mastering turned off by a quiesce */
	struct vfn_nvme_qpair *qpairs; /* queue pairs, linked by ctrl_next; under admin.lock */
	struct vfn_nvme_cmb *cmb;      /* CMB once enabled (vfn_nvme_cmb_enable), NULL before */
	struct vfn_nvme_pmr *pmr;      /* PMR once enabled (vfn_nvme_pmr_enable), NULL before */
	/*
	 * I/O interrupt vectors in use (ioq.c), under admin.lock: one eventfd
	 * per vector, shared by every queue pair whose CQ uses it.
	 */
	struct vfn_nvme_irqvec *vecs;
	unsigned int nr_vecs;
	int admin_efd;		  /* vector 0's eventfd with opts.admin_irq, else -1 */
	uint64_t admin_irq_wakes; /* admin waits the vector-0 eventfd woke */
	bool irq_level;		  /* INTx: re-arm (hw irq_unmask) after each eventfd read */
	uint8_t irq_type;	  /* VFN_NVME_IRQ_MSIX/_MSI/_INTX in use, 0: none usable */
};

/* vfn_nvme_ctrl_irq_ack() (vfn/queue.h): re-arms INTx after its eventfd was read. */

struct vfn_nvme_irqvec {
	int efd;	   /* routed eventfd, -1 while no pair uses the vector */
	unsigned int refs; /* queue pairs (and the admin queue) using it */
};

/*
 * Takes a reference on MSI-X vector @vector: the first routes it to a new
 * eventfd, the others share that eventfd (*@efd, owned by the controller).
 * -ENOTSUP beyond the controller's vectors, -ENOMEM, or the routing error.
 */
int vfn_nvme_irqvec_get(struct vfn_nvme_ctrl *ctrl, unsigned int vector, int *efd);

/* Drops a reference taken by vfn_nvme_irqvec_get(); the last unroutes the vector. */
void vfn_nvme_irqvec_put(struct vfn_nvme_ctrl *ctrl, unsigned int vector);

/*
 * Brings up the controller behind the already opened @hw, as
 * vfn_nvme_ctrl_open() describes.  On success the new controller takes over
 * @hw (a copy; vfn_nvme_ctrl_close() closes it); on failure @hw is left open
 * and the caller closes it.  Errors as vfn_nvme_ctrl_open().
 */
int vfn_nvme_ctrl_open_hw(struct vfn_nvme_hw *hw, const struct vfn_nvme_ctrl_opts *opts, struct vfn_nvme_ctrl **out);

/*
 * Address of the doorbell of queue @qid (SQyTDBL, or CQyHDBL if @cq) in the
 * register window, or NULL if it lies beyond it.
 */
void *vfn_nvme_ctrl_doorbell(struct vfn_nvme_ctrl *ctrl, uint16_t qid, bool cq);

/* Checks CSTS: 0, -ENODEV (reads as all-ones: device gone) or -EIO (CFS set). */
int vfn_nvme_ctrl_check_csts(struct vfn_nvme_ctrl *ctrl);

/* Little-endian fields of Identify data structures, at any alignment. */
static inline uint16_t vfn_nvme_id_le16(const uint8_t *p)
{
	vfn_le16 v;

	memcpy(&v, p, sizeof(v));
	return vfn_le16_to_cpu(v);
}

static inline uint32_t vfn_nvme_id_le32(const uint8_t *p)
{
	vfn_le32 v;

	memcpy(&v, p, sizeof(v));
	return vfn_le32_to_cpu(v);
}

static inline uint64_t vfn_nvme_id_le64(const uint8_t *p)
{
	vfn_le64 v;

	memcpy(&v, p, sizeof(v));
	return vfn_le64_to_cpu(v);
}

/*
 * Shadow doorbells (dbbuf.c).  vfn_nvme_dbbuf_init() sends Doorbell Buffer
 * Config when OACS advertises it and @opts does not opt out; a controller
 * that refuses it is driven with MMIO doorbells only (not an error).  The
 * pages are allocated once and kept until close (a reset zeroes and sends
 * them again), so a queue's slot pointers stay valid memory whatever a
 * reset does.  Returns 0 or -ENOMEM.  vfn_nvme_dbbuf_fini() frees the
 * pages (at close, the controller disabled).  vfn_nvme_dbbuf_slots() points
 * @shadow and @eventidx at queue @qid's slots, zeroed, or NULL when shadow
 * doorbells are off.
 */
int vfn_nvme_dbbuf_init(struct vfn_nvme_ctrl *ctrl, const struct vfn_nvme_ctrl_opts *opts);
void vfn_nvme_dbbuf_fini(struct vfn_nvme_ctrl *ctrl);
void vfn_nvme_dbbuf_slots(struct vfn_nvme_ctrl *ctrl, uint16_t qid, bool cq, vfn_le32 **shadow,
			  const vfn_le32 **eventidx);

/* Sets up / tears down the admin command state besides the rings (admin.c). */
int vfn_nvme_admin_init(struct vfn_nvme_ctrl *ctrl);
void vfn_nvme_admin_fini(struct vfn_nvme_ctrl *ctrl);

/*
 * admin.c: after the controller was disabled, empties the admin rings,
 * forgets every command id (no late completion can come any more) and
 * frees the retired buffers.
 */
void vfn_nvme_admin_reset(struct vfn_nvme_ctrl *ctrl);

/* admin.c: posts AERs up to the limit when a callback is set (after bring-up or a reset). */
int vfn_nvme_aer_rearm(struct vfn_nvme_ctrl *ctrl);

/*
 * ctrl.c: step 1 of every recovery, stopping the controller's DMA: a
 * controller that still works first deletes the pairs' I/O queues (best
 * effort, each Delete bounded by CAP.TO); then CC.EN=0 and CSTS.RDY=0
 * within CAP.TO; if it does not get there, a function-level reset (hw
 * reset op) and CSTS.RDY=0 again; if that fails too, PCI bus mastering off
 * (hw bus_master op; ctrl->dma_off then).  Call with recovery_lock held.  Returns 0 (disabled: it can be enabled again), -EIO
 * (only bus mastering stopped it) or -ENODEV (device gone, or even the bus
 * master write failed: nothing can reach the device).
 */
int vfn_nvme_ctrl_quiesce(struct vfn_nvme_ctrl *ctrl);

/*
 * ctrl.c: after a quiesce that returned 0, turns bus mastering back on if
 * a quiesce turned it off, empties the admin queue (and frees the retired
 * buffers: the controller is disabled) and brings the controller up again
 * as at open.  Errors as vfn_nvme_ctrl_open().
 */
int vfn_nvme_ctrl_restart(struct vfn_nvme_ctrl *ctrl);

/*
 * ctrl.c: CC.MPS for @cap on a host with @host_page pages: 4 KiB pages
 * when CAP.MPSMIN allows (as Linux), else CAP.MPSMIN's; stores the page
 * size.  -ENOTSUP if CAP.MPSMIN > CAP.MPSMAX or its pages exceed the host's
 * (DMA memory is only aligned to host pages).
 */
int vfn_nvme_ctrl_choose_page_size(uint64_t cap, size_t host_page, size_t *page_size);

/* ctrl.c: the shutdown timeout for Identify RTD3E @rtd3e_us: max(RTD3E, 5 s), at most 60 s. */
uint32_t vfn_nvme_shn_timeout_ms(uint32_t rtd3e_us);

/*
 * recovery.c: raises the failure state to @err (0 < -ECANCELED < -EIO <
 * -ENODEV) with a compare-and-swap; a lower or equal @err changes nothing.
 * Only for a quiesced controller (vfn_nvme_ctrl_fail() quiesces first).
 */
void vfn_nvme_ctrl_set_failed(struct vfn_nvme_ctrl *ctrl, int err);

/*
 * recovery.c: quiesces the controller unless that already happened since
 * the last bring-up, then raises the failure state to @err (-ENODEV if
 * the quiesce found the device gone).  Thread-safe: one caller quiesces,
 * the others wait for it.  Returns the failure state.
 */
int vfn_nvme_ctrl_fail(struct vfn_nvme_ctrl *ctrl, int err);

/*
 * recovery.c: step 2 of recovery for one pair, once the controller is
 * quiesced (or for a pair without a controller): refuses posts with @err
 * from now on, delivers the completions the controller posted before it
 * stopped, then fails every request still in flight: with -ETIMEDOUT if
 * it expired (VFN_RQ_F_EXPIRED), else @err (rq_fail()).  Returns how many
 * it failed.
 */
int vfn_nvme_qpair_fail(struct vfn_nvme_qpair *qp, int err);

/*
 * recovery.c: a synchronous wait on @qp timed out (after @timeout_ms, 0:
 * qp->timeout_ms).  The requests @mine(rq, @arg) accepts, in flight, get
 * what vfn_nvme_qpair_check_timeouts() gives a callback's request: an
 * Abort each and one more timeout for @done(@arg); if an Abort goes
 * unanswered or that wait times out too, they are marked expired, the
 * controller is quiesced and failed and @qp's requests fail (these with
 * -ETIMEDOUT), so that a wedged queue cannot keep command ids forever.
 * Returns 0 (@done holds), -ETIMEDOUT (expired: the controller was failed;
 * also, with nothing else done, for a pair without a controller) or the
 * error the second wait met (-EIO, -ENODEV).
 */
int vfn_nvme_qpair_sync_timeout(struct vfn_nvme_qpair *qp, uint32_t timeout_ms, bool (*done)(const void *arg),
				bool (*mine)(const struct vfn_rq *rq, const void *arg), const void *arg);

/*
 * ioq.c: re-creates @qp's queues on the restarted controller: empty rings,
 * the abandoned requests released (the caller's are left alone), shadow
 * doorbell slots and SGL support as the controller now says.
 */
int vfn_nvme_qpair_restart(struct vfn_nvme_qpair *qp);

/*
 * admin.c: keeps @len bytes at @vaddr (DMA memory) mapped until the
 * controller is disabled, or until admin command @cid (-1: none) completes
 * late.  Takes the admin lock.
 */
void vfn_nvme_admin_retire(struct vfn_nvme_ctrl *ctrl, void *vaddr, size_t len, int32_t cid);

/*
 * admin.c: vfn_nvme_admin_sync() of a command without data that runs no
 * callback: events it meets stay queued for the next admin command or
 * vfn_nvme_admin_poll().  For recovery, which holds recovery_lock.
 */
int vfn_nvme_admin_sync_quiet(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_sqe *sqe, uint32_t timeout_ms);

/* admin.c: 0 if admin commands may go to the controller now, else -EIO or -ENODEV (failed). */
int vfn_nvme_admin_refused(struct vfn_nvme_ctrl *ctrl);

/* inject.c / cmdlog.c: the hooks of the post and completion paths. */
bool vfn_nvme_inject_post(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_sqe *sqe);
int vfn_nvme_inject_deliver(struct vfn_nvme_qpair *qp);
void vfn_nvme_inject_free(struct vfn_nvme_qpair *qp);
void vfn_nvme_qpair_update_hooks(struct vfn_nvme_qpair *qp);
void vfn_nvme_cmdlog_post(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_sqe *sqe);
void vfn_nvme_cmdlog_complete(struct vfn_nvme_qpair *qp, const struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe);
void vfn_nvme_cmdlog_debug_dump(const struct vfn_nvme_qpair *qp);

/*
 * cmdlog.c: a command log ring of @entries (*@out NULL for 0; free() it).
 * -EINVAL beyond 65536 entries, -ENOMEM.
 */
int vfn_nvme_cmdlog_new(uint32_t entries, struct vfn_nvme_cmdlog **out);

/*
 * cmdlog.c: the admin queue's log, all under the admin lock and no-ops
 * while it is off.  _post records a command as posted; _complete records
 * its completion (@late: of a command abandoned before); _abandon records
 * that the driver stopped waiting for @cid with @err (-ETIMEDOUT, or
 * -EIO/-ENODEV from CSTS); _reset marks the commands still outstanding as
 * cancelled by a controller reset; _debug_dump prints the log at debug
 * level after @cid was abandoned.
 */
void vfn_nvme_admin_log_post(struct vfn_nvme_admin *a, const struct vfn_nvme_sqe *sqe);
void vfn_nvme_admin_log_complete(struct vfn_nvme_admin *a, const struct vfn_nvme_cqe *cqe, bool late);
void vfn_nvme_admin_log_abandon(struct vfn_nvme_admin *a, uint16_t cid, int err);
void vfn_nvme_admin_log_reset(struct vfn_nvme_admin *a);
void vfn_nvme_admin_log_debug_dump(const struct vfn_nvme_admin *a, uint16_t cid);

#endif
