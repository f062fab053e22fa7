/* SPDX-License-Identifier: MIT */
/*
 * Map table: the mappings of one address space (vaddr, len, iova), with
 * lock-free lookups by virtual address (the I/O hot path) and by IOVA (for
 * software controllers).
 *
 * Writers (insert/remove/first) must be serialised by the caller (the iommu
 * mutex).  Readers (lookup/lookup_iova) take no lock and make no syscall, and
 * may run concurrently with a writer:
 *
 *  - The entries are kept twice, in two sorted arrays (by vaddr and by iova),
 *    searched by bisection: O(log n) both ways.
 *  - A sequence counter guards them (a seqlock): a writer makes it odd, edits,
 *    makes it even again; a reader samples it before and after its search and
 *    retries if a writer was active.  Every shared field is read and written
 *    with __atomic builtins (relaxed, plus the acquire/release fences the
 *    seqlock needs), so a reader that races a writer reads stale values, never
 *    torn or undefined ones, and then retries.
 *  - An array that must grow is replaced by a larger copy, published with a
 *    release store; the old one stays allocated until vfn_maptable_destroy(),
 *    so a reader still searching it never touches freed memory.  Growth
 *    doubles, so what is kept is at most as large as the live arrays.
 *  - There is no shared "last hit" cache: it would be a store on every
 *    lookup, bouncing a cache line between the CPUs doing I/O.
 */
#ifndef VFN_SRC_IOMMU_MAPTABLE_H
#define VFN_SRC_IOMMU_MAPTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vfn_map_entry {
	uint64_t vaddr; /* first byte, as an integer */
	uint64_t len;	/* bytes, > 0 */
	uint64_t iova;	/* IOVA of the first byte */
};

struct vfn_maptable_array;

struct vfn_maptable {
	unsigned int seq;		     /* odd while a writer is editing */
	size_t count;			     /* entries in each index */
	struct vfn_maptable_array *by_vaddr; /* sorted by vaddr; NULL when empty */
	struct vfn_maptable_array *by_iova;  /* the same entries sorted by iova */
	struct vfn_maptable_array *retired;  /* outgrown arrays, freed on destroy */
};

/* Sets up an empty table (allocates nothing). */
void vfn_maptable_init(struct vfn_maptable *t);

/* Frees the table's memory, including retired arrays.  No reader may remain. */
void vfn_maptable_destroy(struct vfn_maptable *t);

/*
 * Writer: records [@vaddr, @vaddr + @len) -> @iova.  Returns 0, -EINVAL (zero
 * length, or a range that wraps around), -EEXIST (overlaps an entry's virtual
 * or IOVA range) or -ENOMEM; the table is unchanged on failure.
 */
int vfn_maptable_insert(struct vfn_maptable *t, uint64_t vaddr, uint64_t len, uint64_t iova);

/*
 * Writer: removes the entry that starts exactly at @vaddr and stores it in
 * *@out (may be NULL).  Returns 0 or -ENOENT.
 */
int vfn_maptable_remove(struct vfn_maptable *t, uint64_t vaddr, struct vfn_map_entry *out);

/*
 * Writer: true if any entry overlaps [@vaddr, @vaddr + @len); @len > 0 and
 * the range must not wrap around.
 */
bool vfn_maptable_overlaps(const struct vfn_maptable *t, uint64_t vaddr, uint64_t len);

/* Writer: the entry with the lowest vaddr in *@out.  Returns 0 or -ENOENT. */
int vfn_maptable_first(const struct vfn_maptable *t, struct vfn_map_entry *out);

/*
 * Reader (lock-free): the entry containing virtual address @vaddr, in *@out.
 * Returns 0 or -ENOENT.
 */
int vfn_maptable_lookup(const struct vfn_maptable *t, uint64_t vaddr, struct vfn_map_entry *out);

/*
 * Reader (lock-free): the entry containing @iova, in *@out.
 * Returns 0 or -ENOENT.
 */
int vfn_maptable_lookup_iova(const struct vfn_maptable *t, uint64_t iova, struct vfn_map_entry *out);

#endif
