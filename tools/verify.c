/* SPDX-License-Identifier: MIT */
/* vfn perf --verify: the block pattern and the generation record (verify.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verify.h"

#define VERIFY_MAGIC 0x66697265766e6676ull /* "vfnverif" in a little-endian word */
#define VERIFY_POISON 0xdeadbeefcafef00dull

/* One step of splitmix64 over @state. */
static inline uint64_t verify_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The filler's starting state for one block. */
static inline uint64_t verify_key(uint64_t lba, uint64_t seed, uint32_t gen)
{
	uint64_t k = seed ^ (lba * 0xd6e8feb86659fd93ull) ^ ((uint64_t)gen << 17);

	return verify_next(&k);
}

/* The @i-th word of each block: the stamp, then the filler (@state). */
static inline uint64_t verify_word(size_t i, uint64_t *state, uint64_t lba, uint64_t seed, uint64_t gensz)
{
	switch (i) {
	case 0:
		return VERIFY_MAGIC;
	case 1:
		return lba;
	case 2:
		return seed;
	case 3:
		return gensz;
	default:
		return verify_next(state);
	}
}

static void verify_fill_block(uint64_t *w, uint32_t lba_size, uint64_t lba, uint64_t seed, uint32_t gen)
{
	uint64_t state = verify_key(lba, seed, gen), gensz = gen | (uint64_t)lba_size << 32;

	for (size_t i = 0; i < lba_size / 8; i++)
		w[i] = verify_word(i, &state, lba, seed, gensz);
}

void verify_fill(void *buf, uint32_t lba_size, uint32_t nlb, uint64_t lba, uint64_t seed, uint32_t gen)
{
	for (uint32_t b = 0; b < nlb; b++)
		verify_fill_block((uint64_t *)((char *)buf + (size_t)b * lba_size), lba_size, lba + b, seed, gen);
}

void verify_poison(void *buf, uint32_t lba_size, uint32_t nlb)
{
	for (uint32_t b = 0; b < nlb; b++) {
		uint64_t *w = (uint64_t *)((char *)buf + (size_t)b * lba_size);

		w[0] = ~VERIFY_MAGIC;
		w[lba_size / 8 - 1] = VERIFY_POISON;
	}
}

/* The byte offset of the first difference between words @a and @b. */
static uint32_t verify_byte(uint64_t a, uint64_t b)
{
	const unsigned char *pa = (const unsigned char *)&a, *pb = (const unsigned char *)&b;
	uint32_t i = 0;

	while (i < 7 && pa[i] == pb[i])
		i++;
	return i;
}

/* Describes the block @w that differs from its pattern at word @i. */
static void verify_describe(const uint64_t *w, size_t i, uint64_t want, uint64_t lba, uint32_t gen,
			    struct verify_mismatch *mm)
{
	*mm = (struct verify_mismatch){
		.lba = lba,
		.gen = gen,
		.stamped = w[0] == VERIFY_MAGIC,
		.offset = (uint32_t)(i * 8) + verify_byte(want, w[i]),
	};
	if (mm->stamped) {
		mm->found_lba = w[1];
		mm->found_seed = w[2];
		mm->found_gen = (uint32_t)w[3];
	}
}

/* 0 if the block @w holds its pattern, else 1 (and @mm says how it differs). */
static uint32_t verify_check_block(const uint64_t *w, uint32_t lba_size, uint64_t lba, uint64_t seed, uint32_t gen,
				   struct verify_mismatch *mm)
{
	uint64_t state = verify_key(lba, seed, gen), gensz = gen | (uint64_t)lba_size << 32;

	for (size_t i = 0; i < lba_size / 8; i++) {
		uint64_t want = verify_word(i, &state, lba, seed, gensz);

		if (w[i] != want) {
			verify_describe(w, i, want, lba, gen, mm);
			return 1;
		}
	}
	return 0;
}

uint32_t verify_check(const void *buf, uint32_t lba_size, uint32_t nlb, uint64_t lba, uint64_t seed, uint32_t gen,
		      struct verify_mismatch *first)
{
	struct verify_mismatch mm;
	uint32_t bad = 0;

	for (uint32_t b = 0; b < nlb; b++) {
		const uint64_t *w = (const uint64_t *)((const char *)buf + (size_t)b * lba_size);

		if (verify_check_block(w, lba_size, lba + b, seed, gen, &mm) && !bad++)
			*first = mm;
	}
	return bad;
}

int verify_map_init(struct verify_map *m, uint64_t nr)
{
	if (!nr || nr > VERIFY_MAX_SLOTS)
		return -EINVAL;
	m->rec = calloc(nr, sizeof(*m->rec));
	if (!m->rec)
		return -ENOMEM;
	m->nr = nr;
	return 0;
}

void verify_map_fini(struct verify_map *m)
{
	free(m->rec);
	m->rec = NULL;
	m->nr = 0;
}
