/* SPDX-License-Identifier: MIT */
/*
 * A thread-safe first-fit allocator over a range of offsets [0, size): the
 * CMB's (and the PMR's) space.  Pieces are multiples of the granule and
 * aligned to it; freed pieces merge with free neighbours.  It hands out
 * offsets only: it never touches the memory it manages (device memory).
 */
#ifndef VFN_SRC_NVME_CMB_HEAP_H
#define VFN_SRC_NVME_CMB_HEAP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct vfn_cmb_block;

struct vfn_cmb_heap {
	pthread_mutex_t lock;
	struct vfn_cmb_block *blocks; /* in offset order, covering [0, size) */
	uint64_t size;		      /* a multiple of granule */
	uint64_t granule;	      /* power of two */
};

/* @size is rounded down to @granule (a power of two).  -EINVAL, -ENOMEM. */
int vfn_cmb_heap_init(struct vfn_cmb_heap *h, uint64_t size, uint64_t granule);
void vfn_cmb_heap_fini(struct vfn_cmb_heap *h);
/* Stores the offset of a free piece of @len bytes (rounded up); -EINVAL (0), -ENOMEM. */
int vfn_cmb_heap_alloc(struct vfn_cmb_heap *h, uint64_t len, uint64_t *off);
/* Frees the piece at @off; -ENOENT if no piece starts there (nothing changes). */
int vfn_cmb_heap_free(struct vfn_cmb_heap *h, uint64_t off);
/* Bytes free in all, and the largest free piece. */
void vfn_cmb_heap_stats(struct vfn_cmb_heap *h, uint64_t *free_bytes, uint64_t *largest);

#endif
