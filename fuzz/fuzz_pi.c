/* SPDX-License-Identifier: MIT */
/*
 * The PI verifier fed with arbitrary blocks and tuples.  The input picks a
 * format (block size 1..4096 in the input's terms, metadata 0..80 bytes, PI
 * type 0..4, PIF 0..3, first/last, extended/separate), tags, a block count
 * and then fills the data and metadata buffers.  Checked:
 *  - format_check agrees with a model of what is valid, and generate/verify
 *    refuse (-EINVAL) exactly what it refuses;
 *  - verify of arbitrary bytes returns 0 or -EIO, never reads outside its
 *    buffers (ASan), and on -EIO names a block < nlb with a PI status;
 *  - what generate wrote verifies with every check on, and a flipped data
 *    byte of a block that is not escaped (app tag FFFFh) fails that block
 *    with the guard status.
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vfn/pi.h>

#include "input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_NLB 8

static bool model_valid(const struct vfn_pi_format *f)
{
	size_t ts = f->pif == 0 ? 8 : f->pif == 2 ? 16 : 0;

	return f->pi_type >= 1 && f->pi_type <= 3 && ts && f->ms >= ts && f->lba_size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct vfn_pi_format f;
	struct vfn_pi_tags t;
	struct vfn_pi_error e;
	uint8_t flags = in_u8(&in);

	f.lba_size = in_u16(&in) % 4097;
	f.ms = in_u8(&in) % 81;
	f.pi_type = flags & 7;
	f.pif = (flags >> 3) & 3;
	f.pi_first = flags & 0x20;
	f.extended = flags & 0x40;
	t.ref_tag = in_u64(&in);
	t.app_tag = in_u16(&in);
	t.app_mask = in_u16(&in);
	t.prchk = in_u8(&in) & 7;
	uint32_t nlb = in_u8(&in) % (MAX_NLB + 1);

	size_t dlen = (size_t)nlb * (f.lba_size + (f.extended ? f.ms : 0));
	size_t mlen = f.extended ? 0 : (size_t)nlb * f.ms;
	/* Exactly sized, so that ASan sees any read past the end. */
	uint8_t *d = malloc(dlen + 1), *m = malloc(mlen + 1);

	assert(d && m);
	for (size_t i = 0; i < dlen; i++)
		d[i] = in_u8(&in);
	for (size_t i = 0; i < mlen; i++)
		m[i] = in_u8(&in);

	bool valid = model_valid(&f);

	assert((vfn_pi_format_check(&f) == 0) == valid);
	int ret = vfn_pi_verify(&f, d, m, nlb, &t, &e);

	if (!valid) {
		assert(ret == -EINVAL);
		assert(vfn_pi_generate(&f, d, m, nlb, &t) == -EINVAL);
		goto out;
	}
	assert(ret == 0 || ret == -EIO);
	if (ret == -EIO) {
		assert(e.block < nlb);
		assert(e.status == VFN_PI_SC_GUARD || e.status == VFN_PI_SC_APP_TAG || e.status == VFN_PI_SC_REF_TAG);
		assert(e.expected != e.found || e.status == VFN_PI_SC_APP_TAG);
	}

	assert(vfn_pi_generate(&f, d, m, nlb, &t) == 0);
	t.prchk = VFN_PI_PRCHK_ALL;
	assert(vfn_pi_verify(&f, d, m, nlb, &t, &e) == 0);
	if (nlb && t.app_tag != 0xffff) {
		uint32_t b = (uint32_t)(t.ref_tag % nlb);
		size_t at = (size_t)b * (f.lba_size + (f.extended ? f.ms : 0)) + t.app_mask % f.lba_size;

		d[at] ^= 1 << (t.app_tag & 7);
		assert(vfn_pi_verify(&f, d, m, nlb, &t, &e) == -EIO);
		assert(e.block == b && e.status == VFN_PI_SC_GUARD);
	}
out:
	free(d);
	free(m);
	return 0;
}
