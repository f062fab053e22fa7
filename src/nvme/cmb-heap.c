/* SPDX-License-Identifier: MIT */
/* First-fit allocator over the offsets of a device memory region (cmb-heap.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "nvme/cmb-heap.h"

struct vfn_cmb_block {
	struct vfn_cmb_block *next;
	uint64_t off, len;
	bool used;
};

int vfn_cmb_heap_init(struct vfn_cmb_heap *h, uint64_t size, uint64_t granule)
{
	if (!h || !granule || (granule & (granule - 1)))
		return -EINVAL;
	size &= ~(granule - 1);
	if (!size)
		return -EINVAL;
	h->blocks = calloc(1, sizeof(*h->blocks));
	if (!h->blocks)
		return -ENOMEM;
	h->blocks->len = size;
	h->size = size;
	h->granule = granule;
	pthread_mutex_init(&h->lock, NULL);
	return 0;
}

void vfn_cmb_heap_fini(struct vfn_cmb_heap *h)
{
	struct vfn_cmb_block *b, *next;

	if (!h || !h->blocks)
		return;
	for (b = h->blocks; b; b = next) {
		next = b->next;
		free(b);
	}
	h->blocks = NULL;
	pthread_mutex_destroy(&h->lock);
}

int vfn_cmb_heap_alloc(struct vfn_cmb_heap *h, uint64_t len, uint64_t *off)
{
	struct vfn_cmb_block *b, *rest;
	int ret = -ENOMEM;

	if (!h || !off || !len || len > h->size)
		return len > 0 && h && off ? -ENOMEM : -EINVAL;
	len = (len + h->granule - 1) & ~(h->granule - 1);
	pthread_mutex_lock(&h->lock);
	for (b = h->blocks; b; b = b->next) {
		if (b->used || b->len < len)
			continue;
		if (b->len > len) {
			rest = calloc(1, sizeof(*rest));
			if (!rest)
				break;
			rest->off = b->off + len;
			rest->len = b->len - len;
			rest->next = b->next;
			b->next = rest;
			b->len = len;
		}
		b->used = true;
		*off = b->off;
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&h->lock);
	return ret;
}

/* Merges @b with the block after it; both free. */
static void heap_merge_next(struct vfn_cmb_block *b)
{
	struct vfn_cmb_block *n = b->next;

	b->len += n->len;
	b->next = n->next;
	free(n);
}

int vfn_cmb_heap_free(struct vfn_cmb_heap *h, uint64_t off)
{
	struct vfn_cmb_block *b, *prev = NULL;
	int ret = -ENOENT;

	if (!h)
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	for (b = h->blocks; b; prev = b, b = b->next) {
		if (b->off != off)
			continue;
		if (!b->used)
			break;
		b->used = false;
		if (b->next && !b->next->used)
			heap_merge_next(b);
		if (prev && !prev->used)
			heap_merge_next(prev);
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&h->lock);
	return ret;
}

void vfn_cmb_heap_stats(struct vfn_cmb_heap *h, uint64_t *free_bytes, uint64_t *largest)
{
	uint64_t total = 0, max = 0;

	pthread_mutex_lock(&h->lock);
	for (struct vfn_cmb_block *b = h->blocks; b; b = b->next) {
		if (b->used)
			continue;
		total += b->len;
		if (b->len > max)
			max = b->len;
	}
	pthread_mutex_unlock(&h->lock);
	*free_bytes = total;
	*largest = max;
}
