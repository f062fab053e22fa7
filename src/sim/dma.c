/* SPDX-License-Identifier: MIT */
/*
 * Device-side DMA: host memory reached through the software address space,
 * and the walk of a command's data pointer (PRP entries and lists, SGLs).
 */
#include <string.h>

#include "iommu/iommu-priv.h"
#include "sim/sim.h"
#include "support/log.h"

#define SGL_MAX_SEGMENTS 1024		 /* bounds a chain of segments (a loop is an error) */
#define SGL_MAX_SEGMENT_LEN (65536 * 16) /* descriptors in one segment */

/* An address in the CMB (BAR2) is the controller's own memory: no address space involved. */
static int sim_addr(struct vfn_sim *sim, uint64_t iova, void **p, size_t *avail)
{
	if (sim->cmb && iova >= VFN_SIM_CMB_BUS && iova - VFN_SIM_CMB_BUS < sim->cmb_len) {
		*p = sim->cmb + (iova - VFN_SIM_CMB_BUS);
		*avail = sim->cmb_len - (size_t)(iova - VFN_SIM_CMB_BUS);
		return 0;
	}
	return vfn_iommu_iova_to_vaddr(sim->iommu, iova, p, avail);
}

void *vfn_sim_dma_ptr(struct vfn_sim *sim, uint64_t iova, size_t len)
{
	size_t avail;
	void *p;

	if (sim_addr(sim, iova, &p, &avail) || avail < len)
		return NULL;
	return p;
}

/* A transfer in progress: the controller-side buffer and how far it got. */
struct xfer {
	struct vfn_sim *sim;
	uint8_t *buf;
	size_t done, len;
	bool to_host;
};

/* Moves @n bytes at @iova (which may span mappings) and advances. */
static uint16_t xfer_seg(struct xfer *x, uint64_t iova, size_t n)
{
	while (n) {
		size_t avail, chunk;
		void *p;

		if (sim_addr(x->sim, iova, &p, &avail)) {
			log_debug("sim: DMA to unmapped iova %#llx", (unsigned long long)iova);
			return VFN_NVME_SC_DATA_XFER_ERROR;
		}
		chunk = avail < n ? avail : n;
		if (x->to_host)
			memcpy(p, x->buf + x->done, chunk);
		else
			memcpy(x->buf + x->done, p, chunk);
		x->done += chunk;
		iova += chunk;
		n -= chunk;
	}
	return VFN_NVME_SC_SUCCESS;
}

/* PRP list entry @i at @list (host memory: copied out, never read in place). */
static uint64_t prp_entry(const uint8_t *list, size_t i)
{
	vfn_le64 e;

	memcpy(&e, list + i * sizeof(e), sizeof(e));
	return vfn_le64_to_cpu(e);
}

/* The data pages listed from @list on, chaining at the last slot of each page. */
static uint16_t prp_list_walk(struct xfer *x, uint64_t list, size_t ps)
{
	while (x->done < x->len) {
		size_t slots = (ps - (list & (ps - 1))) / sizeof(vfn_le64);
		const uint8_t *e;

		if (list & 7)
			return VFN_NVME_SC_INVALID_PRP_OFFSET;
		e = vfn_sim_dma_ptr(x->sim, list, slots * sizeof(vfn_le64));
		if (!e)
			return VFN_NVME_SC_DATA_XFER_ERROR;
		for (size_t i = 0; i < slots && x->done < x->len; i++) {
			uint64_t entry = prp_entry(e, i);
			size_t n = x->len - x->done < ps ? x->len - x->done : ps;
			uint16_t sc;

			if (i == slots - 1 && x->len - x->done > ps) {
				/* The pointer to the next list page: page-aligned, so each page makes progress. */
				if (entry & (ps - 1))
					return VFN_NVME_SC_INVALID_PRP_OFFSET;
				list = entry;
				break;
			}
			if (entry & (ps - 1))
				return VFN_NVME_SC_INVALID_PRP_OFFSET;
			sc = xfer_seg(x, entry, n);
			if (sc)
				return sc;
		}
	}
	return VFN_NVME_SC_SUCCESS;
}

static uint16_t prp_walk(struct xfer *x, const struct vfn_nvme_sqe *sqe)
{
	uint64_t prp1 = vfn_le64_to_cpu(sqe->dptr.prp1), prp2 = vfn_le64_to_cpu(sqe->dptr.prp2);
	size_t ps = x->sim->page_size, first = ps - (prp1 & (ps - 1));
	uint16_t sc;

	if (prp1 & 3)
		return VFN_NVME_SC_INVALID_PRP_OFFSET;
	sc = xfer_seg(x, prp1, x->len < first ? x->len : first);
	if (sc || x->done == x->len)
		return sc;
	if (x->len - x->done <= ps) {
		if (prp2 & (ps - 1))
			return VFN_NVME_SC_INVALID_PRP_OFFSET;
		return xfer_seg(x, prp2, x->len - x->done);
	}
	return prp_list_walk(x, prp2, ps);
}

static unsigned int sgl_type(const struct vfn_nvme_sgl_desc *d)
{
	return d->type >> 4;
}

static uint16_t sgl_data_block(struct xfer *x, const struct vfn_nvme_sgl_desc *d)
{
	uint32_t n = vfn_le32_to_cpu(d->length);

	if (d->type & 0xf)
		return VFN_NVME_SC_SGL_INVALID_TYPE; /* only the Address subtype on PCIe */
	if (n > x->len - x->done)
		return VFN_NVME_SC_SGL_INVALID_DATA;
	return xfer_seg(x, vfn_le64_to_cpu(d->addr), n);
}

/*
 * The descriptors of one segment: Data Blocks, and in a (non-last) Segment a
 * final Segment or Last Segment descriptor, copied to *@next.  The segment
 * address is the host's choice and need not be aligned: each descriptor is
 * copied out byte-wise, never read in place as a struct.
 */
static uint16_t sgl_segment(struct xfer *x, const struct vfn_nvme_sgl_desc *seg, struct vfn_nvme_sgl_desc *next,
			    bool *more)
{
	uint32_t len = vfn_le32_to_cpu(seg->length);
	size_t n = len / sizeof(*seg);
	bool last = sgl_type(seg) == VFN_NVME_SGL_TYPE_LAST_SEGMENT;
	const uint8_t *descs;

	if (!len || len % sizeof(*seg) || len > SGL_MAX_SEGMENT_LEN)
		return VFN_NVME_SC_SGL_INVALID_COUNT;
	descs = vfn_sim_dma_ptr(x->sim, vfn_le64_to_cpu(seg->addr), len);
	if (!descs)
		return VFN_NVME_SC_DATA_XFER_ERROR;
	for (size_t i = 0; i < n; i++) {
		struct vfn_nvme_sgl_desc d;
		unsigned int t;
		uint16_t sc;

		memcpy(&d, descs + i * sizeof(d), sizeof(d));
		t = sgl_type(&d);
		if (t == VFN_NVME_SGL_TYPE_SEGMENT || t == VFN_NVME_SGL_TYPE_LAST_SEGMENT) {
			if (last || i != n - 1)
				return VFN_NVME_SC_SGL_INVALID_LAST;
			*next = d;
			*more = true;
			return VFN_NVME_SC_SUCCESS;
		}
		if (t != VFN_NVME_SGL_TYPE_DATA_BLOCK)
			return VFN_NVME_SC_SGL_INVALID_TYPE;
		if (!last && i == n - 1)
			return VFN_NVME_SC_SGL_INVALID_LAST;
		sc = sgl_data_block(x, &d);
		if (sc)
			return sc;
	}
	*more = false;
	return VFN_NVME_SC_SUCCESS;
}

/* The SGL starting at descriptor @first (the SQE's data pointer, or the one MPTR addresses). */
static uint16_t sgl_walk(struct xfer *x, const struct vfn_nvme_sgl_desc *first)
{
	struct vfn_nvme_sgl_desc d = *first;
	unsigned int segments = 0;
	bool more = true;
	uint16_t sc;

	if (sgl_type(&d) == VFN_NVME_SGL_TYPE_DATA_BLOCK) {
		sc = sgl_data_block(x, &d);
	} else {
		for (sc = VFN_NVME_SC_SUCCESS; !sc && more; segments++) {
			unsigned int t = sgl_type(&d);

			if (t != VFN_NVME_SGL_TYPE_SEGMENT && t != VFN_NVME_SGL_TYPE_LAST_SEGMENT)
				return VFN_NVME_SC_SGL_INVALID_TYPE;
			if (segments == SGL_MAX_SEGMENTS)
				return VFN_NVME_SC_SGL_INVALID_COUNT;
			sc = sgl_segment(x, &d, &d, &more);
		}
	}
	if (!sc && x->done != x->len)
		sc = VFN_NVME_SC_SGL_INVALID_DATA;
	return sc;
}

uint16_t vfn_sim_dma_xfer(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, bool admin, uint8_t *buf, size_t len,
			  bool to_host)
{
	struct xfer x = { .sim = sim, .buf = buf, .len = len, .to_host = to_host };
	unsigned int psdt = sqe->flags & 0xc0;

	if (!len)
		return VFN_NVME_SC_SUCCESS;
	if (psdt == VFN_NVME_SQE_PSDT_PRP)
		return prp_walk(&x, sqe);
	if (admin || psdt == 0xc0 || (psdt == VFN_NVME_SQE_PSDT_SGL_MPTR_SGL && !sim->opts.mptr_sgl)) {
		log_debug("sim: PSDT %u not accepted for %s command%s", psdt >> 6, admin ? "an admin" : "this",
			  psdt == VFN_NVME_SQE_PSDT_SGL_MPTR_SGL ? " (no metadata SGLs: sim option mptr_sgl)" : "");
		return VFN_NVME_SC_INVALID_FIELD;
	}
	return sgl_walk(&x, &sqe->dptr.sgl);
}

uint16_t vfn_sim_dma_xfer_meta(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint8_t *buf, size_t len,
			       bool to_host)
{
	struct xfer x = { .sim = sim, .buf = buf, .len = len, .to_host = to_host };
	uint64_t mptr = vfn_le64_to_cpu(sqe->mptr);
	struct vfn_nvme_sgl_desc d;
	const void *p;
	uint16_t sc;

	if (!len)
		return VFN_NVME_SC_SUCCESS;
	if ((sqe->flags & 0xc0) != VFN_NVME_SQE_PSDT_SGL_MPTR_SGL) {
		/* PRPs or PSDT 01b: one contiguous buffer (byte aligned: SGLS bit 17 is not reported, nor checked). */
		p = vfn_sim_dma_ptr(sim, mptr, len);
		if (!p) {
			log_debug("sim: MPTR 0x%llx: %zu bytes not mapped", (unsigned long long)mptr, len);
			return VFN_NVME_SC_DATA_XFER_ERROR;
		}
		return xfer_seg(&x, mptr, len);
	}
	/* PSDT 10b: MPTR is a segment of exactly one qword-aligned descriptor. */
	if (!sim->opts.mptr_sgl) {
		log_debug("sim: PSDT 2 without metadata SGLs (sim option mptr_sgl)");
		return VFN_NVME_SC_INVALID_FIELD;
	}
	if (mptr & 0x7) { /* a qword is 8 bytes (as for PRP lists above), not a descriptor's 16 */
		log_debug("sim: metadata SGL segment at MPTR 0x%llx is not qword aligned", (unsigned long long)mptr);
		return VFN_NVME_SC_INVALID_FIELD;
	}
	p = vfn_sim_dma_ptr(sim, mptr, sizeof(d));
	if (!p) {
		log_debug("sim: metadata SGL segment at MPTR 0x%llx not mapped", (unsigned long long)mptr);
		return VFN_NVME_SC_DATA_XFER_ERROR;
	}
	memcpy(&d, p, sizeof(d)); /* host memory: copied out, never read in place */
	sc = sgl_walk(&x, &d);
	/* The lengths of the metadata's SGL not matching its transfer: Metadata SGL Length Invalid. */
	return sc == VFN_NVME_SC_SGL_INVALID_DATA ? VFN_NVME_SC_SGL_INVALID_METADATA : sc;
}
