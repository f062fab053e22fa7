/* SPDX-License-Identifier: MIT */
/*
 * vfn queue: the low-level submission/completion queue API — the hot path.
 *
 * Everything here is static inline, allocation-free, lock-free and
 * syscall-free.  A queue pair is driven in four steps that callers may
 * combine freely (including in wrong orders, for testing a controller):
 *
 *   vfn_sq_post()   copy an SQE to the tail slot and advance the tail
 *   vfn_sq_ring()   write the SQ tail doorbell (one write for many posts)
 *   vfn_cq_peek()   look at the CQE at the head if its phase tag is current
 *   vfn_cq_pop()    consume it (advance head, flip the phase on wrap)
 *   vfn_cq_ring()   write the CQ head doorbell (one write for many pops)
 *
 * A queue is not thread-safe: one thread drives it at a time.
 */
#ifndef VFN_QUEUE_H
#define VFN_QUEUE_H

#include <stdint.h>
#include <string.h>

#include <vfn/nvme.h>
#include <vfn/support.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vfn_cq {
	struct vfn_nvme_cqe *cqes; /* ring in DMA memory */
	uint64_t iova;		   /* device address of the ring */
	void *db;		   /* CQyHDBL in BAR0 */
	uint16_t qid;
	uint16_t entries; /* ring size (not 0's based) */
	uint16_t head;	  /* next slot to look at */
	uint16_t phase;	  /* phase tag we expect next; starts at 1 */
	int vector;	  /* MSI-X vector, -1 if polled */
	int efd;	  /* eventfd of the vector, -1 if polled */
	/* Shadow doorbells (Doorbell Buffer Config); NULL: MMIO only. */
	vfn_le32 *shadow_db;	  /* this queue's slot in the shadow doorbell page */
	const vfn_le32 *eventidx; /* its slot in the EventIdx page (controller-written) */
	uint16_t db_head;	  /* the head last written to the (shadow) doorbell */
	uint16_t unreported;	  /* CQEs consumed since then: (head - db_head) mod entries */
	uint16_t mmio_head;	  /* the head last written to the MMIO doorbell */
	uint64_t mmio_db_writes;  /* MMIO doorbell writes so far */
};

struct vfn_sq {
	struct vfn_nvme_sqe *sqes; /* ring in DMA memory */
	uint64_t iova;		   /* device address of the ring */
	void *db;		   /* SQyTDBL in BAR0 */
	struct vfn_cq *cq;	   /* completion queue it posts to */
	uint16_t qid;
	uint16_t entries; /* ring size (not 0's based) */
	uint16_t tail;	  /* next free slot */
	uint16_t head;	  /* last SQ head the controller reported */
	/* Shadow doorbells (Doorbell Buffer Config); NULL: MMIO only. */
	vfn_le32 *shadow_db;	  /* this queue's slot in the shadow doorbell page */
	const vfn_le32 *eventidx; /* its slot in the EventIdx page (controller-written) */
	uint16_t db_tail;	  /* the tail last written to the (shadow) doorbell */
	uint16_t mmio_tail;	  /* the tail last written to the MMIO doorbell */
	uint64_t mmio_db_writes;  /* MMIO doorbell writes so far */
};

/*
 * The event-index rule of shadow doorbells: the MMIO doorbell must be
 * written only if the controller asked to hear about a value in
 * [@old, @new) (cyclically, in a ring of @entries), i.e. if its EventIdx
 * @ei lies there.  An @ei just below 0 in 16-bit arithmetic (0xffff: "one
 * behind slot 0") counts from the end of the ring; any other @ei outside
 * the ring rings (never miss a kick).
 */
static inline int vfn_db_need_mmio(uint16_t ei, uint16_t old, uint16_t new_, uint16_t entries)
{
	if (vfn_unlikely(ei >= entries)) {
		ei = (uint16_t)(ei + entries);
		if (ei >= entries)
			return 1;
	}
	/*
	 * Without a wrap in between, [old, new) is one interval and a single
	 * unsigned compare places @ei (below @old it wraps to a huge value).
	 * Across the wrap the interval is [old, entries) plus [0, new).
	 */
	if (vfn_likely(new_ >= old))
		return (unsigned int)(ei - old) < (unsigned int)(new_ - old);
	return ei >= old || ei < new_;
}

/*
 * Publishes @val in the shadow doorbell @shadow, then tells whether the
 * MMIO doorbell must be written too (the event-index rule with @old, the
 * value published before).
 */
static inline int vfn_db_shadow_update(vfn_le32 *shadow, const vfn_le32 *eventidx, uint16_t old, uint16_t val,
				       uint16_t entries)
{
	VFN_WRITE_ONCE(*shadow, vfn_cpu_to_le32(val));
	/*
	 * Store-load ordering: the new shadow value must be visible before we
	 * read EventIdx.  Pairs with the controller writing EventIdx and then
	 * re-reading the shadow doorbell: either it sees our value, or we see
	 * its EventIdx and write the MMIO doorbell.
	 */
	vfn_mb();
	return vfn_db_need_mmio((uint16_t)vfn_le32_to_cpu(VFN_READ_ONCE(*eventidx)), old, val, entries);
}

/* Slots that can be posted before the ring is full (one slot stays empty). */
static inline uint16_t vfn_sq_space(const struct vfn_sq *sq)
{
	int used = (int)sq->tail - (int)sq->head;

	if (used < 0)
		used += sq->entries;
	return (uint16_t)(sq->entries - 1 - used);
}

/*
 * Copies @sqe into the tail slot and advances the tail without ringing the
 * doorbell.  The caller checks vfn_sq_space() first (or deliberately
 * overruns the ring, for testing).
 */
static inline void vfn_sq_post(struct vfn_sq *sq, const struct vfn_nvme_sqe *sqe)
{
	memcpy(&sq->sqes[sq->tail], sqe, sizeof(*sqe));
	if (++sq->tail == sq->entries)
		sq->tail = 0;
}

/* Moves the tail by @n slots (wrapping) without writing any SQE. */
static inline void vfn_sq_advance(struct vfn_sq *sq, uint16_t n)
{
	sq->tail = (uint16_t)((sq->tail + n) % sq->entries);
}

/*
 * Writes @tail to the SQ tail doorbell as is (any value, for testing): to
 * the shadow doorbell too when there is one, and always to the MMIO one.
 */
static inline void vfn_sq_write_tail(struct vfn_sq *sq, uint16_t tail)
{
	/*
	 * SQE stores must be visible to the device before it sees the new
	 * tail; pairs with the controller's fetch after the doorbell write.
	 */
	vfn_wmb();
	if (sq->shadow_db)
		VFN_WRITE_ONCE(*sq->shadow_db, vfn_cpu_to_le32(tail));
	sq->db_tail = tail;
	sq->mmio_tail = tail;
	sq->mmio_db_writes++;
	vfn_mmio_write32(sq->db, tail);
}

/*
 * Rings the SQ tail doorbell with the current tail.  With shadow doorbells
 * it updates the shadow and writes the MMIO doorbell only when the
 * event-index rule says the controller is waiting for it.
 */
static inline void vfn_sq_ring(struct vfn_sq *sq)
{
	/* Read once: the barriers below would make the compiler re-read them. */
	vfn_le32 *shadow = sq->shadow_db;
	const vfn_le32 *eventidx = sq->eventidx;
	uint16_t old = sq->db_tail, tail = sq->tail, entries = sq->entries;

	if (!shadow) {
		vfn_sq_write_tail(sq, tail);
		return;
	}
	/*
	 * SQE stores before the shadow tail store: pairs with the controller
	 * reading the shadow tail before it fetches the SQEs.
	 */
	vfn_wmb();
	sq->db_tail = tail;
	if (vfn_db_shadow_update(shadow, eventidx, old, tail, entries)) {
		sq->mmio_tail = tail;
		sq->mmio_db_writes++;
		vfn_mmio_write32(sq->db, tail);
	}
}

/*
 * Returns the CQE at the head if the controller has posted it (its phase tag
 * equals cq->phase), else NULL.  Does not consume it.
 */
static inline struct vfn_nvme_cqe *vfn_cq_peek(struct vfn_cq *cq)
{
	struct vfn_nvme_cqe *cqe = &cq->cqes[cq->head];
	uint16_t sfp = vfn_le16_to_cpu(VFN_READ_ONCE(cqe->sfp));

	if ((sfp & 1) != cq->phase)
		return NULL;
	/*
	 * Read the rest of the CQE only after seeing the new phase tag: pairs
	 * with the controller writing the phase last.
	 */
	vfn_dma_rmb();
	return cqe;
}

/* Consumes the CQE at the head: advances it, flipping the phase on wrap. */
static inline void vfn_cq_pop(struct vfn_cq *cq)
{
	cq->unreported++;
	if (++cq->head == cq->entries) {
		cq->head = 0;
		cq->phase ^= 1;
	}
}

/*
 * Writes @head to the CQ head doorbell as is (any value, for testing): to
 * the shadow doorbell too when there is one, and always to the MMIO one.
 * cq->unreported becomes the CQEs consumed beyond @head.
 */
static inline void vfn_cq_write_head(struct vfn_cq *cq, uint16_t head)
{
	int unreported = (int)cq->head - (int)head;

	/*
	 * Our reads of the consumed CQEs must be done before the controller
	 * may reuse their slots; the MMIO write is ordered after them by the
	 * full barrier.
	 */
	vfn_mb();
	if (cq->shadow_db)
		VFN_WRITE_ONCE(*cq->shadow_db, vfn_cpu_to_le32(head));
	cq->db_head = head;
	cq->unreported = (uint16_t)(unreported < 0 ? unreported + cq->entries : unreported);
	cq->mmio_head = head;
	cq->mmio_db_writes++;
	vfn_mmio_write32(cq->db, head);
}

/*
 * Rings the CQ head doorbell with the current head; with shadow doorbells,
 * as vfn_sq_ring() does.
 */
static inline void vfn_cq_ring(struct vfn_cq *cq)
{
	/* Read once: the barriers below would make the compiler re-read them. */
	vfn_le32 *shadow = cq->shadow_db;
	const vfn_le32 *eventidx = cq->eventidx;
	uint16_t old = cq->db_head, head = cq->head, entries = cq->entries;

	if (!shadow) {
		vfn_cq_write_head(cq, head);
		return;
	}
	/*
	 * Reads of the consumed CQEs before the shadow head store: pairs with
	 * the controller reading the head before it reuses those slots.
	 */
	vfn_mb();
	cq->db_head = head;
	cq->unreported = 0;
	if (vfn_db_shadow_update(shadow, eventidx, old, head, entries)) {
		cq->mmio_head = head;
		cq->mmio_db_writes++;
		vfn_mmio_write32(cq->db, head);
	}
}

/*
 * Records the SQ head a completion reported (frees SQ slots for
 * vfn_sq_space()).  Call for each CQE that belongs to @sq.
 */
static inline void vfn_sq_update_head(struct vfn_sq *sq, const struct vfn_nvme_cqe *cqe)
{
	sq->head = vfn_le16_to_cpu(cqe->sqhd);
}

/* ---- Queue memory and queue commands ------------------------------------
 *
 * For test teams that want each step separately.  vfn_nvme_cq_alloc() and
 * vfn_nvme_sq_alloc() only touch host memory (a DMA-mapped ring and the
 * struct); vfn_nvme_cq_create() and friends only send the admin command.
 * Nothing here checks a queue id or size against what the controller
 * advertises: the controller's answer (e.g. Invalid Queue Identifier) comes
 * back as -EIO with the completion in @cqe.  Most users want
 * vfn_nvme_qpair_create() (vfn/rq.h) instead.
 */

/*
 * Allocates a zeroed, DMA-mapped ring of @entries CQEs for queue @qid and
 * fills @cq (head 0, phase 1, no vector).  Owned by the caller until
 * vfn_nvme_cq_free().  Errors: -EINVAL (@entries < 2, @qid 0, or @qid's
 * doorbell beyond the register window), or as vfn_dma_alloc().
 */
VFN_API int vfn_nvme_cq_alloc(struct vfn_nvme_ctrl *ctrl, struct vfn_cq *cq, uint16_t qid, uint32_t entries);

/* Unmaps and frees @cq's ring (delete it on the device first).  Idempotent. */
VFN_API void vfn_nvme_cq_free(struct vfn_nvme_ctrl *ctrl, struct vfn_cq *cq);

/*
 * Like vfn_nvme_cq_alloc() for an SQ ring of @entries SQEs that will post
 * to @cq (borrowed; it must outlive @sq).
 */
VFN_API int vfn_nvme_sq_alloc(struct vfn_nvme_ctrl *ctrl, struct vfn_sq *sq, uint16_t qid, uint32_t entries,
			      struct vfn_cq *cq);

/* Unmaps and frees @sq's ring (delete it on the device first).  Idempotent. */
VFN_API void vfn_nvme_sq_free(struct vfn_nvme_ctrl *ctrl, struct vfn_sq *sq);

/*
 * Create I/O Completion Queue for @cq (physically contiguous).  @vector < 0
 * creates it with interrupts disabled (IEN=0); otherwise IEN=1, IV=@vector,
 * and @vector is stored in cq->vector (routing the vector to an eventfd is
 * the caller's business).  @cqe (may be NULL) receives the completion.
 * Returns as vfn_nvme_admin_sync(): 0, -EIO with the status in @cqe, ...
 */
VFN_API int vfn_nvme_cq_create(struct vfn_nvme_ctrl *ctrl, struct vfn_cq *cq, int vector, struct vfn_nvme_cqe *cqe);

/*
 * Routes MSI-X vector @vector of @ctrl to the eventfd @efd (the caller's;
 * -1: unroutes it), for a raw CQ created with that vector: the controller
 * then signals @efd at each interrupt.  Do not route a vector that one of
 * the library's own queue pairs uses (those take vector = their qid).
 * Returns 0, -ENOTSUP (no such vector), -EBUSY (the vector serves the
 * library's own queue pairs or admin queue), or the VFIO/sim routing's error.
 */
VFN_API int vfn_nvme_ctrl_irq_route(struct vfn_nvme_ctrl *ctrl, int vector, int efd);

/*
 * Re-arms @ctrl's interrupt after its eventfd was read, for a caller that
 * reads a vfn_nvme_ctrl_irq_route() eventfd itself: on INTx (level, masked
 * by VFIO each time it fires) it unmasks the line (one ioctl); on MSI-X and
 * MSI, or with NULL, it does nothing.  Call it after reaping, or the
 * still-asserted line fires again at once.
 */
VFN_API void vfn_nvme_ctrl_irq_ack(struct vfn_nvme_ctrl *ctrl);

/* Delete I/O Completion Queue cq->qid.  Returns as vfn_nvme_cq_create(). */
VFN_API int vfn_nvme_cq_delete(struct vfn_nvme_ctrl *ctrl, struct vfn_cq *cq, struct vfn_nvme_cqe *cqe);

/*
 * Create I/O Submission Queue for @sq, posting to sq->cq (physically
 * contiguous, priority @qprio 0..3: urgent..low, used only with weighted
 * round robin).  Returns as vfn_nvme_cq_create().
 */
VFN_API int vfn_nvme_sq_create(struct vfn_nvme_ctrl *ctrl, struct vfn_sq *sq, uint8_t qprio, struct vfn_nvme_cqe *cqe);

/* Delete I/O Submission Queue sq->qid.  Returns as vfn_nvme_cq_create(). */
VFN_API int vfn_nvme_sq_delete(struct vfn_nvme_ctrl *ctrl, struct vfn_sq *sq, struct vfn_nvme_cqe *cqe);

/*
 * Set Features Interrupt Coalescing (FID 0x08): the controller may wait for
 * @thr + 1 completions or @time_100us * 100 microseconds before raising a
 * vector (0/0: no coalescing).  Applies to every vector of the controller
 * except the admin queue's.  Returns as vfn_nvme_set_features().
 */
VFN_API int vfn_nvme_set_irq_coalescing(struct vfn_nvme_ctrl *ctrl, uint8_t thr, uint8_t time_100us);

#ifdef __cplusplus
}
#endif

#endif /* VFN_QUEUE_H */
