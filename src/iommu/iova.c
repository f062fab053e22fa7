/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "support/log.h"

#include "iova.h"

/* ---- sorted extent arrays ---- */

/* How many extents of @x start at or below @addr (the insertion point). */
static size_t ext_upper(const struct vfn_iova_extents *x, uint64_t addr)
{
	size_t lo = 0, hi = x->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->v[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The extent of @x containing @addr, or NULL. */
static struct vfn_iova_extent *ext_find(const struct vfn_iova_extents *x, uint64_t addr)
{
	size_t i = ext_upper(x, addr);

	if (!i || x->v[i - 1].last < addr)
		return NULL;
	return &x->v[i - 1];
}

/* Makes room for @cap extents in @x.  Returns 0 or -ENOMEM. */
static int ext_reserve(struct vfn_iova_extents *x, size_t cap)
{
	struct vfn_iova_extent *v;
	size_t want = x->cap ? x->cap : 8;

	if (cap <= x->cap)
		return 0;
	while (want < cap)
		want *= 2;
	v = realloc(x->v, want * sizeof(*v));
	if (!v)
		return -ENOMEM;
	x->v = v;
	x->cap = want;
	return 0;
}

/* Inserts [@start, @last] at index @i; the capacity must already be there. */
static void ext_insert_at(struct vfn_iova_extents *x, size_t i, uint64_t start, uint64_t last)
{
	memmove(&x->v[i + 1], &x->v[i], (x->n - i) * sizeof(x->v[0]));
	x->v[i].start = start;
	x->v[i].last = last;
	x->n++;
}

static void ext_remove_at(struct vfn_iova_extents *x, size_t i)
{
	memmove(&x->v[i], &x->v[i + 1], (x->n - i - 1) * sizeof(x->v[0]));
	x->n--;
}

static void ext_release(struct vfn_iova_extents *x)
{
	free(x->v);
	x->v = NULL;
	x->n = 0;
	x->cap = 0;
}

/* ---- init ---- */

static int cmp_extent(const void *pa, const void *pb)
{
	const struct vfn_iova_extent *a = pa, *b = pb;

	return a->start < b->start ? -1 : a->start > b->start;
}

/*
 * Shrinks [start, last] to whole pages of size @page and drops page 0.
 * Returns false if nothing is left.
 */
static bool trim_to_pages(uint64_t *start, uint64_t *last, uint64_t page)
{
	uint64_t mask = page - 1;

	if (*start < page)
		*start = page;
	if (*start & mask) {
		if (*start > UINT64_MAX - mask)
			return false;
		*start = (*start + mask) & ~mask;
	}
	/* The end stays if it is the last byte of a page (2^64 is aligned). */
	if ((*last & mask) != mask) {
		if (*last < page)
			return false;
		*last = (*last & ~mask) - 1;
	}
	return *start <= *last;
}

/* Sorts @x and merges overlapping or adjacent extents. */
static void ext_normalise(struct vfn_iova_extents *x)
{
	size_t out = 0;

	qsort(x->v, x->n, sizeof(x->v[0]), cmp_extent);
	for (size_t i = 0; i < x->n; i++) {
		struct vfn_iova_extent *prev = out ? &x->v[out - 1] : NULL;

		if (prev && (prev->last == UINT64_MAX || x->v[i].start <= prev->last + 1)) {
			if (x->v[i].last > prev->last)
				prev->last = x->v[i].last;
			continue;
		}
		x->v[out++] = x->v[i];
	}
	x->n = out;
}

/* Fills a->usable from @ranges.  Returns 0, -EINVAL or -ENOMEM. */
static int load_usable(struct vfn_iova_allocator *a, const struct vfn_iova_range *ranges, int n)
{
	int ret = ext_reserve(&a->usable, (size_t)n);

	if (ret)
		return ret;
	for (int i = 0; i < n; i++) {
		uint64_t start = ranges[i].start, last = ranges[i].last;

		if (start > last) {
			log_debug("iova: range %d starts (%#llx) after its end (%#llx)", i, (unsigned long long)start,
				  (unsigned long long)last);
			return -EINVAL;
		}
		if (trim_to_pages(&start, &last, a->page))
			ext_insert_at(&a->usable, a->usable.n, start, last);
	}
	ext_normalise(&a->usable);
	if (!a->usable.n) {
		log_debug("iova: no usable page in the %d range(s) given", n);
		return -EINVAL;
	}
	return 0;
}

int vfn_iova_init(struct vfn_iova_allocator *a, const struct vfn_iova_range *ranges, int n, uint64_t page)
{
	int ret;

	memset(a, 0, sizeof(*a));
	if (!page || (page & (page - 1)) || n <= 0) {
		log_debug("iova: bad init (page size %llu, %d ranges)", (unsigned long long)page, n);
		return -EINVAL;
	}
	a->page = page;
	ret = load_usable(a, ranges, n);
	if (ret)
		goto release_usable;
	ret = ext_reserve(&a->free, a->usable.n);
	if (ret)
		goto release_usable;
	memcpy(a->free.v, a->usable.v, a->usable.n * sizeof(a->usable.v[0]));
	a->free.n = a->usable.n;
	return 0;

release_usable:
	ext_release(&a->usable);
	return ret;
}

void vfn_iova_destroy(struct vfn_iova_allocator *a)
{
	ext_release(&a->usable);
	ext_release(&a->free);
	ext_release(&a->used);
}

/* ---- alloc / free ---- */

static bool len_ok(const struct vfn_iova_allocator *a, uint64_t len)
{
	if (!len || (len & (a->page - 1))) {
		log_debug("iova: length %#llx is not a non-zero multiple of the page size %#llx",
			  (unsigned long long)len, (unsigned long long)a->page);
		return false;
	}
	return true;
}

/*
 * Reserves what recording one more used block can need: a slot in used, and
 * free capacity for the bound used.n + usable.n after it (see iova.h).
 */
static int reserve_one_block(struct vfn_iova_allocator *a)
{
	int ret = ext_reserve(&a->used, a->used.n + 1);

	if (ret)
		return ret;
	return ext_reserve(&a->free, a->used.n + 1 + a->usable.n);
}

static void record_used(struct vfn_iova_allocator *a, uint64_t iova, uint64_t last)
{
	ext_insert_at(&a->used, ext_upper(&a->used, iova), iova, last);
}

int vfn_iova_alloc(struct vfn_iova_allocator *a, uint64_t len, uint64_t *iova)
{
	int ret;

	if (!len_ok(a, len))
		return -EINVAL;
	for (size_t i = 0; i < a->free.n; i++) {
		struct vfn_iova_extent *f = &a->free.v[i];

		/* Sizes are at most 2^64 - page (page 0 is never usable). */
		if (f->last - f->start + 1 < len)
			continue;
		ret = reserve_one_block(a);
		if (ret)
			return ret;
		f = &a->free.v[i];
		*iova = f->start;
		if (f->last - f->start + 1 == len)
			ext_remove_at(&a->free, i);
		else
			f->start += len;
		record_used(a, *iova, *iova + len - 1);
		return 0;
	}
	log_debug("iova: no free extent of %#llx bytes (%#llx bytes free in %zu extents)", (unsigned long long)len,
		  (unsigned long long)vfn_iova_avail(a), a->free.n);
	return -ENOSPC;
}

/* Removes [iova, last] from the free extent at index @i, which contains it. */
static void carve(struct vfn_iova_allocator *a, size_t i, uint64_t iova, uint64_t last)
{
	struct vfn_iova_extent *f = &a->free.v[i];
	uint64_t f_last = f->last;

	if (f->start == iova && f_last == last) {
		ext_remove_at(&a->free, i);
	} else if (f->start == iova) {
		f->start = last + 1;
	} else {
		f->last = iova - 1;
		if (f_last != last)
			ext_insert_at(&a->free, i + 1, last + 1, f_last);
	}
}

int vfn_iova_alloc_at(struct vfn_iova_allocator *a, uint64_t iova, uint64_t len)
{
	const struct vfn_iova_extent *u, *f;
	uint64_t last;
	int ret;

	if (!len_ok(a, len))
		return -EINVAL;
	if (iova & (a->page - 1)) {
		log_debug("iova: %#llx is not page-aligned", (unsigned long long)iova);
		return -EINVAL;
	}
	last = iova + len - 1;
	u = ext_find(&a->usable, iova);
	if (last < iova || !u || u->last < last) {
		log_debug("iova: [%#llx, +%#llx) is outside the usable ranges", (unsigned long long)iova,
			  (unsigned long long)len);
		return -ERANGE;
	}
	f = ext_find(&a->free, iova);
	if (!f || f->last < last) {
		log_debug("iova: [%#llx, +%#llx) is already (partly) allocated", (unsigned long long)iova,
			  (unsigned long long)len);
		return -EEXIST;
	}
	ret = reserve_one_block(a);
	if (ret)
		return ret;
	carve(a, ext_upper(&a->free, iova) - 1, iova, last);
	record_used(a, iova, last);
	return 0;
}

/* Puts [iova, last] back into the free array, merging with its neighbours. */
static void release_block(struct vfn_iova_allocator *a, uint64_t iova, uint64_t last)
{
	struct vfn_iova_extents *x = &a->free;
	size_t i = ext_upper(x, iova);
	bool merge_prev = i > 0 && x->v[i - 1].last + 1 == iova;
	bool merge_next = i < x->n && last + 1 == x->v[i].start;

	if (merge_prev && merge_next) {
		x->v[i - 1].last = x->v[i].last;
		ext_remove_at(x, i);
	} else if (merge_prev) {
		x->v[i - 1].last = last;
	} else if (merge_next) {
		x->v[i].start = iova;
	} else {
		ext_insert_at(x, i, iova, last);
	}
}

int vfn_iova_free(struct vfn_iova_allocator *a, uint64_t iova, uint64_t len)
{
	size_t i = ext_upper(&a->used, iova);
	const struct vfn_iova_extent *u = i ? &a->used.v[i - 1] : NULL;

	if (!len || !u || u->start != iova || u->last - u->start + 1 != len) {
		log_debug("iova: free of [%#llx, +%#llx) which is not an allocated block", (unsigned long long)iova,
			  (unsigned long long)len);
		return -EINVAL;
	}
	ext_remove_at(&a->used, i - 1);
	release_block(a, iova, iova + len - 1);
	return 0;
}

uint64_t vfn_iova_avail(const struct vfn_iova_allocator *a)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < a->free.n; i++)
		sum += a->free.v[i].last - a->free.v[i].start + 1;
	return sum;
}

/* ---- narrowing ---- */

/*
 * The intersection of the sorted, disjoint extents @x and @y as ranges in
 * a new array (*@out, *@n; NULL/0 when empty).  Returns 0 or -ENOMEM.
 */
static int intersect(const struct vfn_iova_extents *x, const struct vfn_iova_extents *y, struct vfn_iova_range **out,
		     int *n)
{
	struct vfn_iova_range *r = calloc(x->n + y->n + 1, sizeof(*r));
	size_t i = 0, j = 0;

	if (!r)
		return -ENOMEM;
	*n = 0;
	while (i < x->n && j < y->n) {
		uint64_t start = x->v[i].start > y->v[j].start ? x->v[i].start : y->v[j].start;
		uint64_t last = x->v[i].last < y->v[j].last ? x->v[i].last : y->v[j].last;

		if (start <= last)
			r[(*n)++] = (struct vfn_iova_range){ start, last };
		if (x->v[i].last < y->v[j].last)
			i++;
		else
			j++;
	}
	*out = r;
	return 0;
}

int vfn_iova_restrict(struct vfn_iova_allocator *a, const struct vfn_iova_range *ranges, int n)
{
	struct vfn_iova_allocator want, next;
	struct vfn_iova_range *both;
	int nboth, ret;

	ret = vfn_iova_init(&want, ranges, n, a->page);
	if (ret)
		return ret;
	ret = intersect(&a->usable, &want.usable, &both, &nboth);
	vfn_iova_destroy(&want);
	if (ret)
		return ret;
	ret = nboth ? vfn_iova_init(&next, both, nboth, a->page) : -ENOSPC;
	free(both);
	if (ret) {
		log_debug("iova: the new ranges leave no usable page");
		return ret;
	}
	/* Every block handed out must stay inside; then it is carried over. */
	for (size_t i = 0; i < a->used.n; i++) {
		const struct vfn_iova_extent *u = &a->used.v[i];

		ret = vfn_iova_alloc_at(&next, u->start, u->last - u->start + 1);
		if (ret) {
			log_debug("iova: block [%#llx, %#llx] lies outside the new ranges",
				  (unsigned long long)u->start, (unsigned long long)u->last);
			vfn_iova_destroy(&next);
			return ret == -ERANGE ? -EEXIST : ret;
		}
	}
	vfn_iova_destroy(a);
	*a = next;
	return 0;
}
