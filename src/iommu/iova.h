/* SPDX-License-Identifier: MIT */
/*
 * IOVA allocator: hands out page-aligned blocks of I/O virtual address space
 * from a set of usable ranges.  Pure bookkeeping (no syscalls, no locking:
 * the owner serialises calls).
 *
 * Three sorted arrays of inclusive extents describe the space:
 *   usable - the ranges given at init, trimmed to whole pages, merged, and
 *            without page 0 (so an IOVA of 0 is always a bug);
 *   free   - what is left to hand out; adjacent extents are always coalesced;
 *   used   - every block handed out, exactly as allocated, so a free must
 *            name a block exactly (no partial, double or invented frees).
 * Lookups by address are binary searches (O(log n)); vfn_iova_alloc() is a
 * first fit from the lowest address (O(number of free extents)); inserting or
 * removing an extent moves the tail of its array.
 *
 * The free array's capacity is kept at least used.n + usable.n (a bound on
 * how many free extents there can be), reserved when a block is allocated,
 * so vfn_iova_free() never allocates memory and never fails for lack of it.
 */
#ifndef VFN_SRC_IOMMU_IOVA_H
#define VFN_SRC_IOMMU_IOVA_H

#include <stddef.h>
#include <stdint.h>

#include <vfn/iommu.h>

/* An inclusive extent [start, last]; never empty. */
struct vfn_iova_extent {
	uint64_t start;
	uint64_t last;
};

/* A sorted array of disjoint extents. */
struct vfn_iova_extents {
	struct vfn_iova_extent *v;
	size_t n;
	size_t cap;
};

struct vfn_iova_allocator {
	uint64_t page;			/* allocation granule, power of 2 */
	struct vfn_iova_extents usable; /* what may ever be handed out */
	struct vfn_iova_extents free;	/* coalesced free space */
	struct vfn_iova_extents used;	/* blocks handed out */
};

/*
 * Sets up @a over the @n inclusive @ranges (any order, may overlap) with
 * granule @page (a power of 2).  Each range is shrunk to whole pages and page
 * 0 is removed.  Returns 0, -EINVAL (bad page size, a range with start >
 * last, or nothing usable left) or -ENOMEM.  On failure @a needs no destroy.
 */
int vfn_iova_init(struct vfn_iova_allocator *a, const struct vfn_iova_range *ranges, int n, uint64_t page);

/* Frees the allocator's memory; @a may then be initialised again. */
void vfn_iova_destroy(struct vfn_iova_allocator *a);

/*
 * Allocates @len bytes (a non-zero multiple of the page size) at the lowest
 * free page-aligned address that fits; stores it in *@iova.  Returns 0,
 * -EINVAL (bad length), -ENOSPC (no free extent large enough) or -ENOMEM.
 */
int vfn_iova_alloc(struct vfn_iova_allocator *a, uint64_t len, uint64_t *iova);

/*
 * Allocates exactly [@iova, @iova + @len).  Returns 0, -EINVAL (unaligned or
 * zero), -ERANGE (not wholly inside one usable range), -EEXIST (some of it is
 * already allocated) or -ENOMEM.
 */
int vfn_iova_alloc_at(struct vfn_iova_allocator *a, uint64_t iova, uint64_t len);

/*
 * Returns the block [@iova, @iova + @len) to the free space.  It must be a
 * block exactly as allocated: anything else (double free, partial free, never
 * allocated) is -EINVAL and changes nothing.
 */
int vfn_iova_free(struct vfn_iova_allocator *a, uint64_t iova, uint64_t len);

/*
 * Narrows the usable space to its intersection with the @n @ranges (trimmed
 * to pages as at init): afterwards nothing outside them is handed out.
 * Blocks already allocated must lie inside the new space; they stay
 * allocated.  Returns 0, -EINVAL (bad ranges), -ENOSPC (nothing usable would
 * be left), -EEXIST (an allocated block lies outside) or -ENOMEM; on failure
 * @a is unchanged.
 */
int vfn_iova_restrict(struct vfn_iova_allocator *a, const struct vfn_iova_range *ranges, int n);

/* The number of free bytes (all free extents added up). */
uint64_t vfn_iova_avail(const struct vfn_iova_allocator *a);

#endif
