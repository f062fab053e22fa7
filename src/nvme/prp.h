/* SPDX-License-Identifier: MIT */
/*
 * Data pointer builders: PRP entries and lists, and SGL descriptors.
 *
 * Pure functions on addresses: they allocate nothing, take no lock and make
 * no system call, so the I/O path can call them per request with memory it
 * set aside up front (e.g. one PRP list page per command slot).
 */
#ifndef VFN_SRC_NVME_PRP_H
#define VFN_SRC_NVME_PRP_H

#include <stddef.h>
#include <stdint.h>

#include <vfn/nvme.h>

/*
 * Memory for a PRP list, provided by the caller: @entries slots of 8 bytes,
 * at host address @vaddr and device address @iova (qword aligned), both
 * contiguous.  The controller reads it as memory pages of the size passed to
 * vfn_prp_build(): when a list runs past the end of a page, the last slot of
 * that page points to the next one (the next slot in this memory).
 */
struct vfn_prp_list {
	vfn_le64 *vaddr;
	uint64_t iova;
	size_t entries;
};

/*
 * Returns the number of PRP list slots (data entries plus chain pointers)
 * a transfer of @len bytes at @iova needs with @page_size memory pages when
 * the list starts at @list_iova; 0 if PRP1 and PRP2 suffice.  Arguments are
 * not validated: use it to size memory for inputs vfn_prp_build() accepts.
 */
size_t vfn_prp_list_slots(uint64_t iova, size_t len, size_t page_size, uint64_t list_iova);

/*
 * Builds the data pointer for @len bytes at device address @iova with
 * controller memory pages of @page_size bytes (CC.MPS):
 *   - one page:    PRP1 = @iova (may be at an offset), PRP2 = 0;
 *   - two pages:   PRP2 = start of the second page;
 *   - more:        PRP2 = @list->iova, and the list holds the start of every
 *                  page after the first, chained across list pages.
 * @list may be NULL when no list is needed.  Stores *@prp1 and *@prp2.
 * Errors: -EINVAL (zero length, @page_size not a power of two >= 4096,
 * @iova not dword aligned, @iova + @len wraps, list needed but @list NULL or
 * its iova not qword aligned), -E2BIG (list has fewer slots than needed).
 * Nothing is written on failure.
 */
int vfn_prp_build(uint64_t iova, size_t len, size_t page_size, const struct vfn_prp_list *list, uint64_t *prp1,
		  uint64_t *prp2);

/* One contiguous piece of a transfer, by device address. */
struct vfn_sgl_chunk {
	uint64_t iova;
	uint32_t len;
};

/* Fills @desc as an SGL Data Block descriptor for @len bytes at @iova. */
void vfn_sgl_data_block(struct vfn_nvme_sgl_desc *desc, uint64_t iova, uint32_t len);

/*
 * Memory for one SGL segment, provided by the caller: @entries descriptors
 * at host address @descs and device address @iova (16-byte aligned).
 */
struct vfn_sgl_segment {
	struct vfn_nvme_sgl_desc *descs;
	uint64_t iova;
	size_t entries;
};

/*
 * Builds an SGL for @nr @chunks into @dptr (the SQE's data pointer): one
 * chunk becomes a Data Block descriptor in @dptr itself; several become Data
 * Block descriptors in @seg, and @dptr a Last Segment descriptor pointing at
 * them.  The caller sets PSDT in the SQE.  @seg may be NULL for one chunk.
 * Errors: -EINVAL (no chunks, a zero-length chunk, several chunks without
 * @seg, or @seg->iova not 16-byte aligned), -E2BIG (more chunks than
 * @seg->entries).  Nothing is written on failure.
 */
int vfn_sgl_build(struct vfn_nvme_sgl_desc *dptr, const struct vfn_sgl_chunk *chunks, size_t nr,
		  const struct vfn_sgl_segment *seg);

#endif
