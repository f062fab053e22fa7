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

#include "nvme/hw.h"

/* A data buffer of a command that never completed, kept mapped until close. */
struct vfn_nvme_retired_buf {
	struct vfn_nvme_retired_buf *next;
	void *vaddr;
	size_t len;
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
};

struct vfn_nvme_ctrl {
	struct vfn_nvme_hw hw;	   /* owned: closed by vfn_nvme_ctrl_close() */
	uint64_t cap;		   /* CAP as read at bring-up */
	uint32_t db_stride;	   /* bytes between doorbells: 4 << CAP.DSTRD */
	uint32_t rdy_timeout_ms;   /* CAP.TO in ms */
	uint32_t admin_timeout_ms; /* default admin command timeout */
	size_t page_size;	   /* memory page size chosen for CC.MPS */
	struct vfn_nvme_admin admin;
	struct vfn_nvme_ctrl_info info;
	/* Doorbell Buffer Config: shadow doorbell page then EventIdx page (NULL: off). */
	void *dbbuf;
	uint64_t dbbuf_iova;
	size_t dbbuf_len;
};

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
 * that refuses it is driven with MMIO doorbells only (not an error).
 * Returns 0 or -ENOMEM.  vfn_nvme_dbbuf_fini() frees the pages (call after
 * the controller is disabled).  vfn_nvme_dbbuf_slots() points @shadow and
 * @eventidx at queue @qid's slots, zeroed, or NULL when there are none.
 */
int vfn_nvme_dbbuf_init(struct vfn_nvme_ctrl *ctrl, const struct vfn_nvme_ctrl_opts *opts);
void vfn_nvme_dbbuf_fini(struct vfn_nvme_ctrl *ctrl);
void vfn_nvme_dbbuf_slots(struct vfn_nvme_ctrl *ctrl, uint16_t qid, bool cq, vfn_le32 **shadow,
			  const vfn_le32 **eventidx);

/* Sets up / tears down the admin command state besides the rings (admin.c). */
int vfn_nvme_admin_init(struct vfn_nvme_ctrl *ctrl);
void vfn_nvme_admin_fini(struct vfn_nvme_ctrl *ctrl);

#endif
