/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "support/log.h"

#include "maptable.h"

#define MAPTABLE_INITIAL_CAP 16

struct vfn_maptable_array {
	size_t cap; /* never changes once published */
	struct vfn_maptable_array *next_retired;
	struct vfn_map_entry ent[];
};

/* Which key an index is sorted by. */
enum map_key {
	KEY_VADDR,
	KEY_IOVA,
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

static inline uint64_t load64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void store64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline const uint64_t *key_of(const struct vfn_map_entry *e, enum map_key key)
{
	return key == KEY_IOVA ? &e->iova : &e->vaddr;
}

/* ---- readers ---- */

/*
 * One search of @index for the entry containing @addr.  May run concurrently
 * with a writer: the result is then garbage, and the caller's sequence check
 * throws it away.  Only bounds the index by the array's own capacity, which
 * is immutable and published before the array pointer.
 */
static int search(const struct vfn_maptable *t, struct vfn_maptable_array *const *index, enum map_key key,
		  uint64_t addr, struct vfn_map_entry *out)
{
	const struct vfn_maptable_array *arr = __atomic_load_n(index, __ATOMIC_ACQUIRE);
	size_t n = __atomic_load_n(&t->count, __ATOMIC_RELAXED);
	size_t lo = 0, hi;
	uint64_t start;

	if (!arr)
		return -ENOENT;
	hi = n < arr->cap ? n : arr->cap;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (load64(key_of(&arr->ent[mid], key)) <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -ENOENT;
	out->vaddr = load64(&arr->ent[lo - 1].vaddr);
	out->len = load64(&arr->ent[lo - 1].len);
	out->iova = load64(&arr->ent[lo - 1].iova);
	start = *key_of(out, key);
	return addr - start < out->len ? 0 : -ENOENT;
}

/* Seqlock read side around search(): retries until no writer interfered. */
static int read_consistent(const struct vfn_maptable *t, struct vfn_maptable_array *const *index, enum map_key key,
			   uint64_t addr, struct vfn_map_entry *out)
{
	unsigned int seq;
	int ret;

	for (;;) {
		/* Acquire: pairs with the release in write_end(). */
		seq = __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE);
		if (seq & 1) {
			cpu_relax();
			continue;
		}
		ret = search(t, index, key, addr, out);
		/* Orders the data loads above before the re-check below; pairs
		 * with the release fence in write_begin(). */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&t->seq, __ATOMIC_RELAXED) == seq)
			return ret;
	}
}

int vfn_maptable_lookup(const struct vfn_maptable *t, uint64_t vaddr, struct vfn_map_entry *out)
{
	return read_consistent(t, &t->by_vaddr, KEY_VADDR, vaddr, out);
}

int vfn_maptable_lookup_iova(const struct vfn_maptable *t, uint64_t iova, struct vfn_map_entry *out)
{
	return read_consistent(t, &t->by_iova, KEY_IOVA, iova, out);
}

/* ---- writers (serialised by the caller) ---- */

static void write_begin(struct vfn_maptable *t)
{
	__atomic_store_n(&t->seq, __atomic_load_n(&t->seq, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
	/* The odd count is visible before any of the edits that follow. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void write_end(struct vfn_maptable *t)
{
	/* Release: the edits are visible before the even count. */
	__atomic_store_n(&t->seq, __atomic_load_n(&t->seq, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}

static void store_entry(struct vfn_map_entry *dst, const struct vfn_map_entry *src)
{
	store64(&dst->vaddr, src->vaddr);
	store64(&dst->len, src->len);
	store64(&dst->iova, src->iova);
}

/* How many entries of @arr start at or below @addr (writer side). */
static size_t upper(const struct vfn_maptable_array *arr, size_t n, enum map_key key, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (*key_of(&arr->ent[mid], key) <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* True if an entry of @arr overlaps [start, last] in @key's space. */
static bool index_overlaps(const struct vfn_maptable_array *arr, size_t n, enum map_key key, uint64_t start,
			   uint64_t last)
{
	size_t i = arr ? upper(arr, n, key, last) : 0;
	const struct vfn_map_entry *e;

	/* Entries are disjoint: only the last one starting at or below @last
	 * can reach @start. */
	if (!i)
		return false;
	e = &arr->ent[i - 1];
	return *key_of(e, key) + (e->len - 1) >= start;
}

/* Replaces *@index by a copy with room for one more entry.  0 or -ENOMEM. */
static int grow(struct vfn_maptable *t, struct vfn_maptable_array **index)
{
	struct vfn_maptable_array *old = *index, *arr;
	size_t cap = old ? old->cap * 2 : MAPTABLE_INITIAL_CAP;

	arr = malloc(sizeof(*arr) + cap * sizeof(arr->ent[0]));
	if (!arr)
		return -ENOMEM;
	arr->cap = cap;
	arr->next_retired = NULL;
	if (old)
		memcpy(arr->ent, old->ent, t->count * sizeof(arr->ent[0]));
	/* Release: a reader that sees the new pointer sees cap and entries. */
	__atomic_store_n(index, arr, __ATOMIC_RELEASE);
	if (old) {
		old->next_retired = t->retired;
		t->retired = old;
	}
	return 0;
}

static int ensure_room(struct vfn_maptable *t, struct vfn_maptable_array **index)
{
	if (*index && t->count < (*index)->cap)
		return 0;
	return grow(t, index);
}

static void index_insert(struct vfn_maptable_array *arr, size_t n, enum map_key key, const struct vfn_map_entry *e)
{
	size_t pos = upper(arr, n, key, *key_of(e, key));

	for (size_t j = n; j > pos; j--)
		store_entry(&arr->ent[j], &arr->ent[j - 1]);
	store_entry(&arr->ent[pos], e);
}

static void index_remove(struct vfn_maptable_array *arr, size_t n, size_t pos)
{
	for (size_t j = pos; j + 1 < n; j++)
		store_entry(&arr->ent[j], &arr->ent[j + 1]);
}

int vfn_maptable_insert(struct vfn_maptable *t, uint64_t vaddr, uint64_t len, uint64_t iova)
{
	struct vfn_map_entry e = { .vaddr = vaddr, .len = len, .iova = iova };
	int ret;

	if (!len || vaddr + (len - 1) < vaddr || iova + (len - 1) < iova) {
		log_debug("maptable: bad mapping %#llx+%#llx -> %#llx", (unsigned long long)vaddr,
			  (unsigned long long)len, (unsigned long long)iova);
		return -EINVAL;
	}
	if (index_overlaps(t->by_vaddr, t->count, KEY_VADDR, vaddr, vaddr + (len - 1)) ||
	    index_overlaps(t->by_iova, t->count, KEY_IOVA, iova, iova + (len - 1))) {
		log_debug("maptable: %#llx+%#llx -> %#llx overlaps a mapping", (unsigned long long)vaddr,
			  (unsigned long long)len, (unsigned long long)iova);
		return -EEXIST;
	}
	ret = ensure_room(t, &t->by_vaddr);
	if (!ret)
		ret = ensure_room(t, &t->by_iova);
	if (ret)
		return ret;

	write_begin(t);
	index_insert(t->by_vaddr, t->count, KEY_VADDR, &e);
	index_insert(t->by_iova, t->count, KEY_IOVA, &e);
	__atomic_store_n(&t->count, t->count + 1, __ATOMIC_RELAXED);
	write_end(t);
	return 0;
}

int vfn_maptable_remove(struct vfn_maptable *t, uint64_t vaddr, struct vfn_map_entry *out)
{
	size_t i = t->count ? upper(t->by_vaddr, t->count, KEY_VADDR, vaddr) : 0;
	struct vfn_map_entry e;
	size_t j;

	if (!i || t->by_vaddr->ent[i - 1].vaddr != vaddr) {
		log_debug("maptable: no mapping starts at %#llx", (unsigned long long)vaddr);
		return -ENOENT;
	}
	e = t->by_vaddr->ent[i - 1];
	/* The same entry in the iova index: the only one starting at e.iova. */
	j = upper(t->by_iova, t->count, KEY_IOVA, e.iova) - 1;

	write_begin(t);
	index_remove(t->by_vaddr, t->count, i - 1);
	index_remove(t->by_iova, t->count, j);
	__atomic_store_n(&t->count, t->count - 1, __ATOMIC_RELAXED);
	write_end(t);
	if (out)
		*out = e;
	return 0;
}

bool vfn_maptable_overlaps(const struct vfn_maptable *t, uint64_t vaddr, uint64_t len)
{
	return index_overlaps(t->by_vaddr, t->count, KEY_VADDR, vaddr, vaddr + (len - 1));
}

int vfn_maptable_first(const struct vfn_maptable *t, struct vfn_map_entry *out)
{
	if (!t->count)
		return -ENOENT;
	*out = t->by_vaddr->ent[0];
	return 0;
}

void vfn_maptable_init(struct vfn_maptable *t)
{
	memset(t, 0, sizeof(*t));
}

void vfn_maptable_destroy(struct vfn_maptable *t)
{
	struct vfn_maptable_array *arr = t->retired;

	while (arr) {
		struct vfn_maptable_array *next = arr->next_retired;

		free(arr);
		arr = next;
	}
	free(t->by_vaddr);
	free(t->by_iova);
	memset(t, 0, sizeof(*t));
}
