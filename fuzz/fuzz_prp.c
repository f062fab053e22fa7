/* SPDX-License-Identifier: MIT */
/*
 * The PRP and SGL builders with arbitrary addresses, lengths, page sizes and
 * list sizes.  A successful PRP build is walked the way a controller reads
 * it: the first entry is @iova, every other data entry is page aligned and
 * follows the previous page, the last slot of a list page chains to the next
 * when more than one entry remains, and the pages cover exactly @len bytes.
 * The list is written exactly in the slots vfn_prp_list_slots() counts and
 * nowhere else; a failed build writes nothing and returns the error the
 * arguments call for.
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "nvme/prp.h"
#include "input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CANARY 0xa5a5a5a5a5a5a5a5ull
#define GUARD 4 /* canary slots after the list */
#define MAX_ENTRIES 1024
#define LIST_BASE 0x100000000ull

struct prp_case {
	uint64_t iova;
	size_t len;
	size_t page;
	struct vfn_prp_list list;
	bool no_list;
};

/* Slots a controller reads for the case, or SIZE_MAX if more than @max. */
static size_t walk_slots(const struct prp_case *c, size_t max)
{
	uint64_t mask = c->page - 1, slot = c->list.iova;
	uint64_t left = c->len - (c->page - (c->iova & mask)); /* after the first page */
	size_t used = 0;

	while (left) {
		uint64_t entries_left = (left + mask) / c->page;

		if (used == max)
			return SIZE_MAX;
		if (!((slot + 8) & mask) && entries_left > 1) {
			used++, slot += 8; /* chain pointer */
			continue;
		}
		left -= left < c->page ? left : c->page;
		used++, slot += 8;
	}
	return used;
}

static void check_list(const struct prp_case *c)
{
	uint64_t mask = c->page - 1, slot = c->list.iova, page = (c->iova | mask) + 1;
	uint64_t left = c->len - (c->page - (c->iova & mask));
	size_t i = 0;

	while (left) {
		uint64_t e = vfn_le64_to_cpu(c->list.vaddr[i]);

		assert(i < c->list.entries);
		if (!((slot + 8) & mask) && (left + mask) / c->page > 1) {
			assert(e == slot + 8);
		} else {
			assert(e == page && !(e & mask));
			page += c->page;
			left -= left < c->page ? left : c->page;
		}
		i++, slot += 8;
	}
	assert(i == vfn_prp_list_slots(c->iova, c->len, c->page, c->list.iova));
	for (; i < c->list.entries + GUARD; i++)
		assert(c->list.vaddr[i] == CANARY);
}

static int expected_prp(const struct prp_case *c)
{
	uint64_t mask = c->page - 1;

	if (!c->len || c->page < 4096 || (c->page & mask) || (c->iova & 3) || c->iova + (c->len - 1) < c->iova)
		return -EINVAL;
	if (c->len <= 2 * c->page - (c->iova & mask))
		return 0;
	if (c->no_list || (c->list.iova & 7))
		return -EINVAL;
	return walk_slots(c, c->list.entries) == SIZE_MAX ? -E2BIG : 0;
}

static void fuzz_prp(struct input *in)
{
	uint8_t flags = in_u8(in);
	struct prp_case c = { 0 };
	uint64_t prp1 = 1, prp2 = 2;
	int ret, want;

	c.iova = in_u64(in);
	if (!(flags & 1))
		c.iova &= ~3ull;
	c.len = flags & 2 ? (size_t)in_u64(in) : in_u32(in) & 0xffffff;
	c.page = flags & 4 ? in_u32(in) : 4096ull << (in_u8(in) % 5);
	c.no_list = flags & 8;
	c.list.entries = in_u16(in) % MAX_ENTRIES;
	c.list.iova = LIST_BASE + (in_u16(in) & (flags & 16 ? 0xffff : 0xfff8));
	c.list.vaddr = malloc((c.list.entries + GUARD) * sizeof(vfn_le64));
	assert(c.list.vaddr);
	for (size_t i = 0; i < c.list.entries + GUARD; i++)
		c.list.vaddr[i] = CANARY;

	want = expected_prp(&c);
	ret = vfn_prp_build(c.iova, c.len, c.page, c.no_list ? NULL : &c.list, &prp1, &prp2);
	assert(ret == want);
	if (ret) {
		assert(prp1 == 1 && prp2 == 2);
		for (size_t i = 0; i < c.list.entries + GUARD; i++)
			assert(c.list.vaddr[i] == CANARY);
	} else {
		uint64_t mask = c.page - 1, first = c.page - (c.iova & mask);

		assert(prp1 == c.iova);
		if (c.len <= first)
			assert(prp2 == 0);
		else if (c.len - first <= c.page)
			assert(prp2 == (c.iova | mask) + 1);
		else
			assert(prp2 == c.list.iova);
		if (prp2 == c.list.iova && c.len - first > c.page)
			check_list(&c);
	}
	free(c.list.vaddr);
}

#define MAX_CHUNKS 8

static void fuzz_sgl(struct input *in)
{
	uint8_t flags = in_u8(in);
	struct vfn_sgl_chunk chunks[MAX_CHUNKS];
	struct vfn_nvme_sgl_desc descs[MAX_CHUNKS + 1], dptr, blank;
	struct vfn_sgl_segment seg;
	size_t nr = in_u8(in) % (MAX_CHUNKS + 1);
	int ret, want = 0;

	for (size_t i = 0; i < nr; i++) {
		chunks[i].iova = in_u64(in);
		chunks[i].len = in_u32(in);
		if (!chunks[i].len)
			want = -EINVAL;
	}
	seg.descs = descs;
	seg.entries = in_u8(in) % (MAX_CHUNKS + 1);
	seg.iova = LIST_BASE + (flags & 1 ? in_u8(in) : 0);
	memset(descs, 0x5a, sizeof(descs));
	memset(&dptr, 0x5a, sizeof(dptr));
	memset(&blank, 0x5a, sizeof(blank));
	if (!nr)
		want = -EINVAL;
	else if (!want && nr > 1)
		want = (flags & 2) || (seg.iova & 15) ? -EINVAL : nr > seg.entries ? -E2BIG : 0;

	ret = vfn_sgl_build(&dptr, chunks, nr, flags & 2 ? NULL : &seg);
	assert(ret == want);
	if (ret) {
		assert(!memcmp(&dptr, &blank, sizeof(dptr)));
		for (size_t i = 0; i <= MAX_CHUNKS; i++)
			assert(!memcmp(&descs[i], &blank, sizeof(blank)));
		return;
	}
	if (nr == 1) {
		assert(vfn_le64_to_cpu(dptr.addr) == chunks[0].iova && vfn_le32_to_cpu(dptr.length) == chunks[0].len);
		assert(dptr.type == VFN_NVME_SGL_TYPE_DATA_BLOCK << 4);
		return;
	}
	assert(dptr.type == VFN_NVME_SGL_TYPE_LAST_SEGMENT << 4);
	assert(vfn_le64_to_cpu(dptr.addr) == seg.iova && vfn_le32_to_cpu(dptr.length) == nr * 16);
	for (size_t i = 0; i < nr; i++) {
		assert(vfn_le64_to_cpu(descs[i].addr) == chunks[i].iova);
		assert(vfn_le32_to_cpu(descs[i].length) == chunks[i].len);
		assert(descs[i].type == VFN_NVME_SGL_TYPE_DATA_BLOCK << 4);
	}
	for (size_t i = nr; i <= MAX_CHUNKS; i++)
		assert(!memcmp(&descs[i], &blank, sizeof(blank)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };

	if (in_u8(&in) & 1)
		fuzz_sgl(&in);
	else
		fuzz_prp(&in);
	return 0;
}
