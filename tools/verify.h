/* SPDX-License-Identifier: MIT */
/*
 * vfn perf --verify: a self-describing pattern per logical block, and a
 * record of the generation last written to each I/O-sized slot.
 *
 * Each block starts with a 32-byte stamp (the host's 64-bit words): the magic
 * "vfnverif", the block's LBA, the run's seed, and the generation (low 32
 * bits) with the block size (high 32 bits); the rest of the block is a
 * splitmix64 stream keyed by the LBA, seed and generation.  A block written
 * to the wrong LBA, a stale or torn block, or a block of zeroes differs.
 */
#ifndef VFN_TOOLS_VERIFY_H
#define VFN_TOOLS_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#define VERIFY_STAMP_BYTES 32
#define VERIFY_GEN_MAX 0x7fffffffu    /* generations are 1..VERIFY_GEN_MAX; 0: never written */
#define VERIFY_MAX_SLOTS (1ull << 26) /* the record's bound: 256 MiB */

/* What one block that did not match held, against what was expected. */
struct verify_mismatch {
	uint64_t lba;
	uint32_t gen;	    /* expected */
	bool stamped;	    /* the block starts with the magic */
	uint64_t found_lba; /* from its stamp, when stamped */
	uint64_t found_seed;
	uint32_t found_gen;
	uint32_t offset; /* byte offset in the block of the first difference */
};

/* Fills @nlb blocks of @lba_size bytes (a multiple of 8, >= 32) at @buf, starting at @lba. */
void verify_fill(void *buf, uint32_t lba_size, uint32_t nlb, uint64_t lba, uint64_t seed, uint32_t gen);

/*
 * Overwrites the stamp's first and the last word of each block with a
 * value no fill produces, so a read that moves no data cannot pass.
 */
void verify_poison(void *buf, uint32_t lba_size, uint32_t nlb);

/*
 * Checks @nlb blocks at @buf against verify_fill() of the same arguments.
 * Returns how many blocks differ; the first is described in @first.
 */
uint32_t verify_check(const void *buf, uint32_t lba_size, uint32_t nlb, uint64_t lba, uint64_t seed, uint32_t gen,
		      struct verify_mismatch *first);

/*
 * The generation record: one 32-bit word per slot, the generation last
 * written there (0: none) and a busy bit while an I/O on it is in flight.
 */
struct verify_map {
	uint32_t *rec;
	uint64_t nr;
};

/* Allocates the record of @nr slots (1..VERIFY_MAX_SLOTS), all unwritten; -EINVAL, -ENOMEM. */
int verify_map_init(struct verify_map *m, uint64_t nr);

/* Frees the record (a zeroed or finished map is fine). */
void verify_map_fini(struct verify_map *m);

/*
 * Marks busy the first slot from @slot on (wrapping) that is not, and
 * returns it.  The caller keeps fewer than nr slots busy.
 */
static inline uint64_t verify_map_claim(struct verify_map *m, uint64_t slot)
{
	while (m->rec[slot] & ~VERIFY_GEN_MAX)
		slot = slot + 1 == m->nr ? 0 : slot + 1;
	m->rec[slot] |= ~VERIFY_GEN_MAX;
	return slot;
}

/* The generation last written to @slot (0: none). */
static inline uint32_t verify_map_gen(const struct verify_map *m, uint64_t slot)
{
	return m->rec[slot] & VERIFY_GEN_MAX;
}

/* Ends the I/O on @slot: it now holds generation @gen (0: unknown). */
static inline void verify_map_release(struct verify_map *m, uint64_t slot, uint32_t gen)
{
	m->rec[slot] = gen;
}

/* The generation after @gen: 1..VERIFY_GEN_MAX, wrapping past 0. */
static inline uint32_t verify_next_gen(uint32_t gen)
{
	return gen >= VERIFY_GEN_MAX ? 1 : gen + 1;
}

#endif
