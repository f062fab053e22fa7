/* SPDX-License-Identifier: MIT */
/*
 * The IOVA allocator against a model: 64 pages of 4 KiB, usable where some
 * input range covers a whole page (never page 0), tracked as bitmaps.  Each
 * operation (alloc, alloc_at, free of a real or made-up block) must return
 * exactly what the model says, alloc must pick the lowest fit, and the free
 * byte count must match after every step.
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "iommu/iova.h"
#include "input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAGE 4096ull
#define NPAGES 64
#define MAX_RANGES 4
#define MAX_BLOCKS 64

struct model {
	uint64_t usable; /* bit p: page p may be handed out */
	uint64_t used;	 /* bit p: page p is allocated */
	struct {
		uint64_t iova, len;
	} blocks[MAX_BLOCKS];
	int nblocks;
};

static uint64_t run_mask(unsigned int first, unsigned int n)
{
	return (n >= 64 ? ~0ull : (1ull << n) - 1) << first;
}

/* Pages [first, first + n) as a mask, or 0 if they leave the model's space. */
static uint64_t pages_mask(uint64_t iova, uint64_t len)
{
	if (iova % PAGE || len % PAGE || !len || iova / PAGE >= NPAGES || len / PAGE > NPAGES - iova / PAGE)
		return 0;
	return run_mask((unsigned int)(iova / PAGE), (unsigned int)(len / PAGE));
}

/* True if pages @m (a run) sit inside one run of usable pages. */
static bool in_one_usable_run(const struct model *m, uint64_t mask)
{
	return mask && (m->usable & mask) == mask;
}

static int model_alloc(const struct model *m, uint64_t len, uint64_t *iova)
{
	uint64_t n = len / PAGE;

	for (unsigned int p = 1; n <= NPAGES && p + n <= NPAGES; p++) {
		uint64_t mask = run_mask(p, (unsigned int)n);

		if ((m->usable & mask) == mask && !(m->used & mask)) {
			*iova = p * PAGE;
			return 0;
		}
	}
	return -ENOSPC;
}

static void add_block(struct model *m, uint64_t iova, uint64_t len)
{
	m->used |= pages_mask(iova, len);
	m->blocks[m->nblocks].iova = iova;
	m->blocks[m->nblocks].len = len;
	m->nblocks++;
}

static void op_alloc(struct vfn_iova_allocator *a, struct model *m, struct input *in)
{
	uint64_t len = (in_u8(in) % 9) * PAGE + (in_u8(in) % 4 == 0 ? in_u8(in) : 0);
	uint64_t got = 0, want = 0;
	int ret = vfn_iova_alloc(a, len, &got);
	int exp = !len || len % PAGE ? -EINVAL : model_alloc(m, len, &want);

	assert(ret == exp);
	if (!ret) {
		assert(got == want);
		add_block(m, got, len);
	}
}

static void op_alloc_at(struct vfn_iova_allocator *a, struct model *m, struct input *in)
{
	uint64_t iova = (uint64_t)(in_u8(in) % (NPAGES + 2)) * PAGE + (in_u8(in) % 8 == 0 ? 8 : 0);
	uint64_t len = (in_u8(in) % 9) * PAGE;
	uint64_t mask = pages_mask(iova, len);
	int exp, ret = vfn_iova_alloc_at(a, iova, len);

	if (!len || iova % PAGE)
		exp = -EINVAL;
	else if (!in_one_usable_run(m, mask))
		exp = -ERANGE;
	else if (m->used & mask)
		exp = -EEXIST;
	else
		exp = 0;
	assert(ret == exp);
	if (!ret)
		add_block(m, iova, len);
}

static void op_free(struct vfn_iova_allocator *a, struct model *m, struct input *in)
{
	uint8_t pick = in_u8(in);
	uint64_t iova, len;
	int i = m->nblocks ? pick % m->nblocks : -1;

	if (i >= 0 && !(pick & 0x80)) {
		iova = m->blocks[i].iova;
		len = m->blocks[i].len;
	} else {
		iova = (uint64_t)(in_u8(in) % NPAGES) * PAGE;
		len = (in_u8(in) % 4) * PAGE;
		i = -1;
		for (int j = 0; j < m->nblocks; j++)
			if (m->blocks[j].iova == iova && m->blocks[j].len == len)
				i = j;
	}
	if (i < 0) {
		assert(vfn_iova_free(a, iova, len) == -EINVAL);
		return;
	}
	assert(vfn_iova_free(a, iova, len) == 0);
	m->used &= ~pages_mask(iova, len);
	m->blocks[i] = m->blocks[--m->nblocks];
}

static int init(struct vfn_iova_allocator *a, struct model *m, struct input *in)
{
	struct vfn_iova_range r[MAX_RANGES];
	int n = in_u8(in) % (MAX_RANGES + 1);
	bool bad = false;

	memset(m, 0, sizeof(*m));
	for (int i = 0; i < n; i++) {
		r[i].start = in_u32(in) % (NPAGES * PAGE);
		r[i].last = r[i].start + in_u32(in) % (NPAGES * PAGE);
		if (r[i].last >= NPAGES * PAGE)
			r[i].last = NPAGES * PAGE - 1;
		if (in_u8(in) == 0xff) { /* start after the end */
			r[i].last = r[i].start++;
			bad = true;
		}
		for (unsigned int p = 1; p < NPAGES; p++)
			if (!bad && r[i].start <= p * PAGE && p * PAGE + PAGE - 1 <= r[i].last)
				m->usable |= 1ull << p;
	}
	if (!n || bad || !m->usable) {
		assert(vfn_iova_init(a, r, n, PAGE) == -EINVAL);
		return -1;
	}
	assert(vfn_iova_init(a, r, n, PAGE) == 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct vfn_iova_allocator a;
	struct model m;

	if (init(&a, &m, &in))
		return 0;
	while (in.left && m.nblocks < MAX_BLOCKS) {
		switch (in_u8(&in) % 3) {
		case 0:
			op_alloc(&a, &m, &in);
			break;
		case 1:
			op_alloc_at(&a, &m, &in);
			break;
		default:
			op_free(&a, &m, &in);
			break;
		}
		assert(vfn_iova_avail(&a) == (uint64_t)__builtin_popcountll(m.usable & ~m.used) * PAGE);
	}
	vfn_iova_destroy(&a);
	return 0;
}
