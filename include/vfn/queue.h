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
	struct vfn_nvme_cqe *cqes;	/* ring in DMA memory */
	uint64_t iova;			/* device address of the ring */
	void *db;			/* CQyHDBL in BAR0 */
	uint16_t qid;
	uint16_t entries;		/* ring size (not 0's based) */
	uint16_t head;			/* next slot to look at */
	uint16_t phase;			/* phase tag we expect next; starts at 1 */
	int vector;			/* MSI-X vector, -1 if polled */
	int efd;			/* eventfd of the vector, -1 if polled */
};

struct vfn_sq {
	struct vfn_nvme_sqe *sqes;	/* ring in DMA memory */
	uint64_t iova;			/* device address of the ring */
	void *db;			/* SQyTDBL in BAR0 */
	struct vfn_cq *cq;		/* completion queue it posts to */
	uint16_t qid;
	uint16_t entries;		/* ring size (not 0's based) */
	uint16_t tail;			/* next free slot */
	uint16_t head;			/* last SQ head the controller reported */
};

/* Slots that can be posted before the ring is full (one slot stays empty). */
static inline uint16_t vfn_sq_space(const struct vfn_sq *sq)
{
	uint32_t used = (uint32_t)(sq->tail + sq->entries - sq->head) % sq->entries;

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

/* Writes @tail to the SQ tail doorbell as is (any value, for testing). */
static inline void vfn_sq_write_tail(struct vfn_sq *sq, uint16_t tail)
{
	/*
	 * SQE stores must be visible to the device before it sees the new
	 * tail; pairs with the controller's fetch after the doorbell write.
	 */
	vfn_wmb();
	vfn_mmio_write32(sq->db, tail);
}

/* Rings the SQ tail doorbell with the current tail. */
static inline void vfn_sq_ring(struct vfn_sq *sq)
{
	vfn_sq_write_tail(sq, sq->tail);
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
	if (++cq->head == cq->entries) {
		cq->head = 0;
		cq->phase ^= 1;
	}
}

/* Writes @head to the CQ head doorbell as is (any value, for testing). */
static inline void vfn_cq_write_head(struct vfn_cq *cq, uint16_t head)
{
	/*
	 * Our reads of the consumed CQEs must be done before the controller
	 * may reuse their slots; the MMIO write is ordered after them by the
	 * full barrier.
	 */
	vfn_mb();
	vfn_mmio_write32(cq->db, head);
}

/* Rings the CQ head doorbell with the current head. */
static inline void vfn_cq_ring(struct vfn_cq *cq)
{
	vfn_cq_write_head(cq, cq->head);
}

/*
 * Records the SQ head a completion reported (frees SQ slots for
 * vfn_sq_space()).  Call for each CQE that belongs to @sq.
 */
static inline void vfn_sq_update_head(struct vfn_sq *sq, const struct vfn_nvme_cqe *cqe)
{
	sq->head = vfn_le16_to_cpu(cqe->sqhd);
}

#ifdef __cplusplus
}
#endif

#endif /* VFN_QUEUE_H */
