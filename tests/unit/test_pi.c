/* SPDX-License-Identifier: MIT */
/*
 * Guard CRCs against published check values and the NVM Command Set
 * specification's 4 KiB test cases, and PI tuple generation/verification:
 * layouts (16/64-bit guard, first/last, extended/separate), the tag rules
 * of types 1/2/3, the escapes and each failure's status.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <vfn/pi.h>

static uint8_t blk[4096 * 4 + 4 * 64];
static uint8_t meta[4 * 64];

static void fill(uint8_t *p, size_t len, int kind)
{
	for (size_t i = 0; i < len; i++)
		p[i] = kind == 0 ? 0x00 : kind == 1 ? 0xff : kind == 2 ? (uint8_t)i : (uint8_t)(0xff - (i & 0xff));
}

static void test_crc_check_values(void **state)
{
	(void)state;
	assert_int_equal(vfn_crc16_t10dif(0, "123456789", 9), 0xd0db);
	assert_true(vfn_crc64_nvme(0, "123456789", 9) == 0xae8b14860a799888ULL);
	/* Chaining: two halves give the whole. */
	assert_int_equal(vfn_crc16_t10dif(vfn_crc16_t10dif(0, "1234", 4), "56789", 5), 0xd0db);
	assert_true(vfn_crc64_nvme(vfn_crc64_nvme(0, "12345", 5), "6789", 4) == 0xae8b14860a799888ULL);
	assert_int_equal(vfn_crc16_t10dif(0, "", 0), 0);
	assert_true(vfn_crc64_nvme(0, "", 0) == 0);
}

/* NVM Command Set spec, "64b CRC Test Cases for 4KiB Logical Block"; the
 * 16-bit guard's 32-byte cases are SBC's, its 4 KiB ones a bitwise reference. */
static void test_crc_spec_vectors(void **state)
{
	static const uint64_t crc64[4] = { 0x6482d367eb22b64eULL, 0xc0ddba7302eca3acULL, 0x3e729f5f6750449cULL,
					   0x9a2df64b8e9e517eULL };
	static const uint16_t crc16[4] = { 0x0000, 0x8b5d, 0x8f6d, 0x0430 };

	(void)state;
	for (int k = 0; k < 4; k++) {
		fill(blk, 4096, k);
		assert_true(vfn_crc64_nvme(0, blk, 4096) == crc64[k]);
		assert_int_equal(vfn_crc16_t10dif(0, blk, 4096), crc16[k]);
	}
	fill(blk, 32, 1);
	assert_int_equal(vfn_crc16_t10dif(0, blk, 32), 0xa293);
	fill(blk, 32, 2);
	assert_int_equal(vfn_crc16_t10dif(0, blk, 32), 0x0224);
}

static uint16_t crc16_bitwise(const uint8_t *p, size_t len)
{
	uint16_t crc = 0;

	while (len--) {
		crc ^= (uint16_t)(*p++ << 8);
		for (int b = 0; b < 8; b++)
			crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x8bb7 : crc << 1);
	}
	return crc;
}

static uint64_t crc64_bitwise(const uint8_t *p, size_t len)
{
	uint64_t crc = ~0ULL;

	while (len--) {
		crc ^= *p++;
		for (int b = 0; b < 8; b++)
			crc = crc & 1 ? (crc >> 1) ^ 0x9a6c9329ac4bc9b5ULL : crc >> 1;
	}
	return ~crc;
}

/* The 8-byte steps and the byte tail agree with one bit at a time, at every
 * length 0..64 and odd offsets. */
static void test_crc_slices_match_bitwise(void **state)
{
	(void)state;
	srand(12);
	for (size_t i = 0; i < 200; i++)
		blk[i] = (uint8_t)rand();
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len <= 64; len++) {
			assert_int_equal(vfn_crc16_t10dif(0, blk + off, len), crc16_bitwise(blk + off, len));
			assert_true(vfn_crc64_nvme(0, blk + off, len) == crc64_bitwise(blk + off, len));
		}
}

static void test_format_check(void **state)
{
	struct vfn_pi_format f = { .lba_size = 512, .ms = 8, .pi_type = 1, .pif = VFN_PI_PIF_16 };

	(void)state;
	assert_int_equal(vfn_pi_format_check(&f), 0);
	f.pi_type = 0;
	assert_int_equal(vfn_pi_format_check(&f), -EINVAL);
	f.pi_type = 4;
	assert_int_equal(vfn_pi_format_check(&f), -EINVAL);
	f.pi_type = 3;
	f.pif = VFN_PI_PIF_64; /* 16-byte tuple in 8 bytes */
	assert_int_equal(vfn_pi_format_check(&f), -EINVAL);
	f.ms = 16;
	assert_int_equal(vfn_pi_format_check(&f), 0);
	f.pif = VFN_PI_PIF_32;
	assert_int_equal(vfn_pi_format_check(&f), -EINVAL);
	f.pif = VFN_PI_PIF_16;
	f.lba_size = 0;
	assert_int_equal(vfn_pi_format_check(&f), -EINVAL);
	assert_int_equal(vfn_pi_format_check(NULL), -EINVAL);
	assert_int_equal(vfn_pi_tuple_size(VFN_PI_PIF_16), 8);
	assert_int_equal(vfn_pi_tuple_size(VFN_PI_PIF_64), 16);
	assert_int_equal(vfn_pi_tuple_size(VFN_PI_PIF_32), 0);
}

/* Exact tuple bytes: 16-bit guard, type 1, separate metadata. */
static void test_tuple_bytes_16(void **state)
{
	struct vfn_pi_format f = { .lba_size = 4096, .ms = 8, .pi_type = 1, .pif = VFN_PI_PIF_16 };
	struct vfn_pi_tags t = { .ref_tag = 0x12345678, .app_tag = 0xabcd };
	static const uint8_t want[16] = { 0x8b, 0x5d, 0xab, 0xcd, 0x12, 0x34, 0x56, 0x78,
					  0x00, 0x00, 0xab, 0xcd, 0x12, 0x34, 0x56, 0x79 };

	(void)state;
	fill(blk, 4096, 1);
	fill(blk + 4096, 4096, 0);
	memset(meta, 0x55, sizeof(meta));
	assert_int_equal(vfn_pi_generate(&f, blk, meta, 2, &t), 0);
	assert_memory_equal(meta, want, 16);
	assert_int_equal(meta[16], 0x55); /* nothing past the 2 blocks */
}

/* Exact tuple bytes: 64-bit guard, 48-bit ref tag, type 2, last bytes of 16
 * bytes of metadata (the whole area is the tuple), extended LBA. */
static void test_tuple_bytes_64(void **state)
{
	struct vfn_pi_format f = { .lba_size = 4096, .ms = 16, .pi_type = 2, .pif = VFN_PI_PIF_64, .extended = true };
	struct vfn_pi_tags t = { .ref_tag = 0xa1b2c3d4e5f6ULL, .app_tag = 0x0102 };
	static const uint8_t want[16] = { 0xc0, 0xdd, 0xba, 0x73, 0x02, 0xec, 0xa3, 0xac,
					  0x01, 0x02, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6 };

	(void)state;
	fill(blk, 4096, 1);
	assert_int_equal(vfn_pi_generate(&f, blk, NULL, 1, &t), 0);
	assert_memory_equal(blk + 4096, want, 16);
	/* The 48-bit reference tag wraps to 0 on the next block. */
	t.ref_tag = 0xffffffffffffULL;
	fill(blk, 2 * (4096 + 16), 1);
	assert_int_equal(vfn_pi_generate(&f, blk, NULL, 2, &t), 0);
	assert_memory_equal(blk + 2 * 4096 + 16 + 10, "\0\0\0\0\0\0", 6);
	t.prchk = VFN_PI_PRCHK_ALL;
	t.app_mask = 0xffff;
	assert_int_equal(vfn_pi_verify(&f, blk, NULL, 2, &t, NULL), 0);
}

/* Every layout round-trips, and a flipped data bit is a guard error on the
 * right block. */
static void test_roundtrip_all_layouts(void **state)
{
	static const uint16_t ms[] = { 8, 16, 64 };

	(void)state;
	for (int pif = 0; pif <= 2; pif += 2)
		for (int type = 1; type <= 3; type++)
			for (size_t m = 0; m < 3; m++)
				for (int first = 0; first < 2; first++)
					for (int ext = 0; ext < 2; ext++) {
						struct vfn_pi_format f = { 512,		 ms[m], (uint8_t)type,
									   (uint8_t)pif, first, ext };
						struct vfn_pi_tags t = { 77, 0x1234, 0xffff, VFN_PI_PRCHK_ALL };
						struct vfn_pi_error e;
						size_t dlen = ext ? 4 * (512 + ms[m]) : 4 * 512;

						if (vfn_pi_format_check(&f))
							continue; /* 64-bit guard in 8 bytes */
						fill(blk, dlen, 2);
						memset(meta, 0, sizeof(meta));
						assert_int_equal(vfn_pi_generate(&f, blk, meta, 4, &t), 0);
						assert_int_equal(vfn_pi_verify(&f, blk, meta, 4, &t, &e), 0);
						size_t at = ext ? 2 * (512 + ms[m]) + 100 : 2 * 512 + 100;

						blk[at] ^= 0x10;
						assert_int_equal(vfn_pi_verify(&f, blk, meta, 4, &t, &e), -EIO);
						assert_int_equal(e.status, VFN_PI_SC_GUARD);
						assert_int_equal(e.block, 2);
						assert_true(e.expected != e.found);
					}
}

/* With the tuple last in a larger area, the guard covers the metadata
 * before it; with the tuple first, it does not. */
static void test_guard_covers_metadata_before_tuple(void **state)
{
	struct vfn_pi_format f = { .lba_size = 512, .ms = 16, .pi_type = 1, .pif = VFN_PI_PIF_16 };
	struct vfn_pi_tags t = { .ref_tag = 0, .app_tag = 0, .app_mask = 0xffff, .prchk = VFN_PI_PRCHK_ALL };
	struct vfn_pi_error e;

	(void)state;
	fill(blk, 512, 2);
	memset(meta, 0xee, 16);
	assert_int_equal(vfn_pi_generate(&f, blk, meta, 1, &t), 0);
	/* guard = CRC over data then meta[0..8) */
	uint16_t g = vfn_crc16_t10dif(vfn_crc16_t10dif(0, blk, 512), meta, 8);

	assert_int_equal(meta[8], g >> 8);
	assert_int_equal(meta[9], g & 0xff);
	meta[0] ^= 1;
	assert_int_equal(vfn_pi_verify(&f, blk, meta, 1, &t, &e), -EIO);
	assert_int_equal(e.status, VFN_PI_SC_GUARD);

	f.pi_first = true;
	memset(meta, 0xee, 16);
	assert_int_equal(vfn_pi_generate(&f, blk, meta, 1, &t), 0);
	assert_int_equal(meta[0], crc16_bitwise(blk, 512) >> 8);
	meta[8] ^= 1; /* user metadata after the tuple: not guarded */
	assert_int_equal(vfn_pi_verify(&f, blk, meta, 1, &t, &e), 0);
}

static void test_ref_tag_rules(void **state)
{
	struct vfn_pi_format f = { .lba_size = 512, .ms = 8, .pi_type = 1, .pif = VFN_PI_PIF_16 };
	struct vfn_pi_tags t = { .ref_tag = 100, .app_tag = 7, .app_mask = 0xffff, .prchk = VFN_PI_PRCHK_ALL };
	struct vfn_pi_error e;

	(void)state;
	fill(blk, 3 * 512, 0);
	assert_int_equal(vfn_pi_generate(&f, blk, meta, 3, &t), 0);
	assert_int_equal(meta[2 * 8 + 7], 102); /* incremented per block */
	t.ref_tag = 101;
	assert_int_equal(vfn_pi_verify(&f, blk, meta, 3, &t, &e), -EIO);
	assert_int_equal(e.status, VFN_PI_SC_REF_TAG);
	assert_int_equal(e.block, 0);
	assert_int_equal(e.expected, 101);
	assert_int_equal(e.found, 100);
	t.prchk = VFN_PI_PRCHK_GUARD | VFN_PI_PRCHK_APP; /* not asked: passes */
	assert_int_equal(vfn_pi_verify(&f, blk, meta, 3, &t, &e), 0);

	/* Type 3: the same tag on every block, never checked. */
	f.pi_type = 3;
	t.ref_tag = 100;
	assert_int_equal(vfn_pi_generate(&f, blk, meta, 3, &t), 0);
	assert_int_equal(meta[2 * 8 + 7], 100);
	t.ref_tag = 5;
	t.prchk = VFN_PI_PRCHK_ALL;
	assert_int_equal(vfn_pi_verify(&f, blk, meta, 3, &t, &e), 0);
}

static void test_app_tag_mask_and_escape(void **state)
{
	struct vfn_pi_format f = { .lba_size = 512, .ms = 8, .pi_type = 2, .pif = VFN_PI_PIF_16 };
	struct vfn_pi_tags t = { .ref_tag = 9, .app_tag = 0x12f0, .app_mask = 0xffff, .prchk = VFN_PI_PRCHK_ALL };
	struct vfn_pi_error e;

	(void)state;
	fill(blk, 2 * 512, 1);
	assert_int_equal(vfn_pi_generate(&f, blk, meta, 2, &t), 0);
	t.app_tag = 0x12ff;
	assert_int_equal(vfn_pi_verify(&f, blk, meta, 2, &t, &e), -EIO);
	assert_int_equal(e.status, VFN_PI_SC_APP_TAG);
	assert_int_equal(e.found, 0x12f0);
	t.app_mask = 0xff00; /* only the high byte compared */
	assert_int_equal(vfn_pi_verify(&f, blk, meta, 2, &t, &e), 0);

	/* App tag FFFFh: the block is not checked (types 1, 2) ... */
	t.app_tag = 0xffff;
	assert_int_equal(vfn_pi_generate(&f, blk, meta, 2, &t), 0);
	blk[3] ^= 1;
	t.app_tag = 0;
	t.app_mask = 0xffff;
	assert_int_equal(vfn_pi_verify(&f, blk, meta, 2, &t, &e), 0);
	/* ... for type 3 only with the ref tag all ones too. */
	f.pi_type = 3;
	t.app_tag = 0xffff;
	t.ref_tag = 0x1234;
	assert_int_equal(vfn_pi_generate(&f, blk, meta, 1, &t), 0);
	blk[3] ^= 1;
	assert_int_equal(vfn_pi_verify(&f, blk, meta, 1, &t, &e), -EIO);
	assert_int_equal(e.status, VFN_PI_SC_GUARD);
	t.ref_tag = 0xffffffff;
	assert_int_equal(vfn_pi_generate(&f, blk, meta, 1, &t), 0);
	blk[3] ^= 1;
	assert_int_equal(vfn_pi_verify(&f, blk, meta, 1, &t, &e), 0);
}

static void test_bad_args(void **state)
{
	struct vfn_pi_format f = { .lba_size = 512, .ms = 8, .pi_type = 1, .pif = VFN_PI_PIF_16 };
	struct vfn_pi_tags t = { 0 };

	(void)state;
	assert_int_equal(vfn_pi_generate(&f, blk, NULL, 1, &t), -EINVAL); /* separate, no meta */
	assert_int_equal(vfn_pi_verify(&f, NULL, meta, 1, &t, NULL), -EINVAL);
	assert_int_equal(vfn_pi_verify(&f, blk, meta, 1, NULL, NULL), -EINVAL);
	f.extended = true;
	assert_int_equal(vfn_pi_generate(&f, blk, NULL, 1, &t), 0);
	assert_int_equal(vfn_pi_generate(&f, blk, NULL, 0, &t), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc_check_values),
		cmocka_unit_test(test_crc_spec_vectors),
		cmocka_unit_test(test_crc_slices_match_bitwise),
		cmocka_unit_test(test_format_check),
		cmocka_unit_test(test_tuple_bytes_16),
		cmocka_unit_test(test_tuple_bytes_64),
		cmocka_unit_test(test_roundtrip_all_layouts),
		cmocka_unit_test(test_guard_covers_metadata_before_tuple),
		cmocka_unit_test(test_ref_tag_rules),
		cmocka_unit_test(test_app_tag_mask_and_escape),
		cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
