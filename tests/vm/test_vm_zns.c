/* SPDX-License-Identifier: MIT */
/*
 * Zone descriptor extensions and Zone Random Write Areas (NVMe ZNS 1.1)
 * against a real zoned namespace, in one device session: QEMU 7.2's in the
 * guest (over VFIO or the kernel's /dev/ng0n1), or the simulator's on the
 * host.  Both are configured alike (tests/vm/meson.build):
 *
 *   QEMU: 16 MiB, 512-byte blocks, zoned.zone_size=2M, zoned.zone_capacity=1M, zoned.max_open=4,
 *         zoned.max_active=6, zoned.descr_ext_size=128, zoned.zrwas=32K,
 *         zoned.zrwafg=4K, zoned.numzrwa=2
 *   sim:  nsze=32768,lbads=9,zoned=1,zsze=4096,zcap=2048,mor=4,mar=6,zdes=2,
 *         zrwasz=64,zrwafg=8,numzrwa=2
 *
 * so 8 zones of 4096 blocks (capacity 2048), 128 extension bytes, a ZRWA of
 * 64 blocks flushed in units of 8, 2 ZRWA resources.  Each test leaves
 * every zone Empty (reset all) for the next.
 *
 * Environment: VFN_BDF, the device (a BDF, /dev/ng0n1 or a sim: string);
 * VFN_TEST_NUMZRWA_RAW, the NUMZRWA field the controller reports (default
 * NUMZRWA - 1, 0's based as the specification says; QEMU 7.2 reports its
 * zoned.numzrwa unchanged, 2, and still hands out only 2 ZRWAs, which
 * test_zrwa_resources shows).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <vfn/vfn.h>

#define ZSZE 4096
#define ZCAP 2048
#define NR_ZONES 8
#define ZDE 128
#define ZRWASZ 64
#define ZRWAFG 8
#define NUMZRWA 2
#define LBA 512

struct ctx {
	struct vfn_dev *dev;
	uint8_t buf[ZRWASZ * 2 * LBA];
	uint8_t rd[ZRWASZ * 2 * LBA];
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	assert_int_equal(vfn_dev_open(getenv("VFN_BDF"), NULL, &c->dev), 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	vfn_dev_close(c->dev);
	free(c);
	return 0;
}

/* The status of an -EIO from a zone command (0 for success, -1 for other errors). */
static int status_of(int ret, const struct vfn_nvme_cqe *cqe)
{
	if (!ret)
		return 0;
	if (ret != -EIO)
		return -1;
	return vfn_nvme_cqe_status(cqe) & 0x7ff;
}

/* Zone @zslba's descriptor (one-zone extended report) into *@d, its extension into @ext (ZDE bytes). */
static void zone_ext(struct ctx *c, uint64_t zslba, struct vfn_nvme_zone_desc *d, uint8_t *ext)
{
	uint8_t r[64 + 64 + ZDE];
	const struct vfn_nvme_zone_desc *p;
	const uint8_t *e;

	memset(r, 0xee, sizeof(r));
	assert_int_equal(vfn_dev_zone_report_ext(c->dev, 1, zslba, VFN_NVME_ZRASF_ALL, true, r, sizeof(r), NULL), 0);
	assert_int_equal(vfn_le64_to_cpu(((const struct vfn_nvme_zone_report *)(const void *)r)->nr_zones), 1);
	p = vfn_zone_report_desc(r, sizeof(r), ZDE, 0, &e);
	assert_non_null(p);
	assert_non_null(e);
	assert_ptr_equal(e, r + 128);
	assert_null(vfn_zone_report_desc(r, sizeof(r), ZDE, 1, NULL));
	assert_int_equal(vfn_le64_to_cpu(p->zslba), zslba);
	*d = *p;
	memcpy(ext, e, ZDE);
}

/* Zone @zslba's descriptor from a plain one-zone report. */
static struct vfn_nvme_zone_desc zone_desc(struct ctx *c, uint64_t zslba)
{
	uint8_t r[128];

	assert_int_equal(vfn_dev_zone_report(c->dev, 1, zslba, VFN_NVME_ZRASF_ALL, true, r, sizeof(r), NULL), 0);
	assert_int_equal(vfn_le64_to_cpu(((const struct vfn_nvme_zone_report *)(const void *)r)->nr_zones), 1);
	return *vfn_zone_report_desc(r, sizeof(r), 0, 0, NULL);
}

static int write_at(struct ctx *c, uint64_t slba, uint32_t nlb, uint8_t fill, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = {
		.opcode = VFN_NVME_CMD_WRITE,
		.nsid = vfn_cpu_to_le32(1),
		.cdw10 = vfn_cpu_to_le32((uint32_t)slba),
		.cdw11 = vfn_cpu_to_le32((uint32_t)(slba >> 32)),
		.cdw12 = vfn_cpu_to_le32(nlb - 1),
	};

	memset(c->buf, fill, (size_t)nlb * LBA);
	return vfn_dev_io(c->dev, &sqe, c->buf, (size_t)nlb * LBA, cqe, 0);
}

static void reset_all(struct ctx *c)
{
	assert_int_equal(vfn_dev_zone_mgmt_send(c->dev, 1, 0, VFN_NVME_ZSA_RESET, true, NULL), 0);
}

/* The geometry in vfn_dev_info and vfn_zns_info equals what the namespace was configured with. */
static void test_geometry(void **state)
{
	struct ctx *c = *state;
	const struct vfn_dev_info *info = vfn_dev_get_info(c->dev);
	struct vfn_identify_args ia = { .cns = VFN_NVME_CNS_CSI_NS, .nsid = 1, .csi = VFN_NVME_CSI_ZNS };
	struct vfn_nvme_id_ns_zns *id = calloc(1, sizeof(*id));
	struct vfn_zns_info zi;
	const char *raw = getenv("VFN_TEST_NUMZRWA_RAW");
	uint32_t numzrwa_raw = raw ? (uint32_t)strtoul(raw, NULL, 0) : NUMZRWA - 1;

	assert_true(info->zoned);
	assert_int_equal(info->nsze, NR_ZONES * ZSZE);
	assert_int_equal(info->lba_size, LBA);
	assert_int_equal(info->zone_size, ZSZE);
	assert_int_equal(info->zone_cap, ZCAP);
	assert_int_equal(info->nr_zones, NR_ZONES);
	assert_int_equal(info->max_open_zones, 4);
	assert_int_equal(info->max_active_zones, 6);
	assert_int_equal(info->zde_size, ZDE);
	assert_int_equal(info->zrwa_size, ZRWASZ);
	assert_int_equal(info->zrwa_fg, ZRWAFG);
	assert_int_equal(info->nr_zrwa, numzrwa_raw + 1);

	assert_int_equal(vfn_dev_zns_info(c->dev, 1, &zi, NULL), 0);
	assert_int_equal(zi.zde_size, ZDE);
	assert_int_equal(zi.zrwa_size, ZRWASZ);
	assert_int_equal(zi.zrwa_fg, ZRWAFG);
	assert_int_equal(zi.nr_zrwa, numzrwa_raw + 1);
	assert_true(zi.ozcs & VFN_NVME_OZCS_ZRWASUP);
	assert_int_equal(zi.zrwacap & VFN_NVME_ZRWACAP_EXPFLUSHSUP, VFN_NVME_ZRWACAP_EXPFLUSHSUP);

	/* The raw fields: NUMZRWA is 0's based, ZDES in 64-byte units. */
	assert_non_null(id);
	assert_int_equal(vfn_dev_identify_args(c->dev, &ia, id, sizeof(*id), NULL), 0);
	assert_int_equal(vfn_le32_to_cpu(id->numzrwa), numzrwa_raw);
	assert_int_equal(vfn_le16_to_cpu(id->zrwasz), ZRWASZ);
	assert_int_equal(vfn_le16_to_cpu(id->zrwafg), ZRWAFG);
	assert_int_equal(id->lbafe[info->flbas].zdes, ZDE / 64);
	free(id);
}

/*
 * Set Zone Descriptor Extension on an Empty zone: it becomes Closed with
 * ZDEV, and the extended report returns the bytes written; a zone without
 * one reports zeros; a second set (not Empty) is an Invalid Zone State
 * Transition; a reset clears ZDEV and the extension.
 */
static void test_descriptor_extension(void **state)
{
	struct ctx *c = *state;
	struct vfn_nvme_zone_desc d;
	struct vfn_nvme_cqe cqe;
	uint8_t ext[ZDE], got[ZDE], zero[ZDE] = { 0 };
	uint8_t r[64 + 2 * (64 + ZDE)];
	const uint8_t *e0, *e1;

	for (int i = 0; i < ZDE; i++)
		ext[i] = (uint8_t)(0xa0 ^ i * 7);
	assert_int_equal(vfn_dev_zone_set_desc_ext(c->dev, 1, ZSZE, ext, sizeof(ext), &cqe), 0);
	zone_ext(c, ZSZE, &d, got);
	assert_int_equal(vfn_nvme_zone_state(&d), VFN_NVME_ZS_CLOSED);
	assert_int_equal(d.za & VFN_NVME_ZA_ZDEV, VFN_NVME_ZA_ZDEV);
	assert_int_equal(vfn_le64_to_cpu(d.wp), ZSZE);
	assert_memory_equal(got, ext, ZDE);
	/* The plain report shows the attribute too. */
	d = zone_desc(c, ZSZE);
	assert_int_equal(d.za & VFN_NVME_ZA_ZDEV, VFN_NVME_ZA_ZDEV);

	/* Zones 0 and 1 in one extended report: 0 has no extension (zeros, ZDEV clear). */
	assert_int_equal(vfn_dev_zone_report_ext(c->dev, 1, 0, VFN_NVME_ZRASF_ALL, true, r, sizeof(r), NULL), 0);
	assert_int_equal(vfn_le64_to_cpu(((const struct vfn_nvme_zone_report *)(const void *)r)->nr_zones), 2);
	assert_int_equal(vfn_zone_report_desc(r, sizeof(r), ZDE, 0, &e0)->za & VFN_NVME_ZA_ZDEV, 0);
	assert_int_equal(vfn_le64_to_cpu(vfn_zone_report_desc(r, sizeof(r), ZDE, 1, &e1)->zslba), ZSZE);
	assert_memory_equal(e0, zero, ZDE);
	assert_memory_equal(e1, ext, ZDE);
	/* The closed filter finds it (an active zone now). */
	assert_int_equal(vfn_dev_zone_report_ext(c->dev, 1, 0, VFN_NVME_ZRASF_CLOSED, false, r, sizeof(r), NULL), 0);
	assert_int_equal(vfn_le64_to_cpu(((const struct vfn_nvme_zone_report *)(const void *)r)->nr_zones), 1);
	assert_int_equal(vfn_le64_to_cpu(vfn_zone_report_desc(r, sizeof(r), ZDE, 0, NULL)->zslba), ZSZE);

	/* Not Empty any more: a second extension is refused. */
	assert_int_equal(status_of(vfn_dev_zone_set_desc_ext(c->dev, 1, ZSZE, zero, sizeof(zero), &cqe), &cqe),
			 VFN_NVME_SC_ZONE_INVALID_TRANSITION);
	/* The library refuses a length that is not 64-byte units, sending nothing. */
	assert_int_equal(vfn_dev_zone_set_desc_ext(c->dev, 1, 2 * ZSZE, ext, 100, NULL), -EINVAL);
	assert_int_equal(vfn_dev_zone_set_desc_ext(c->dev, 1, 2 * ZSZE, NULL, ZDE, NULL), -EINVAL);

	/* Reset: Empty, ZDEV clear, the extension gone. */
	assert_int_equal(vfn_dev_zone_mgmt_send(c->dev, 1, ZSZE, VFN_NVME_ZSA_RESET, false, NULL), 0);
	zone_ext(c, ZSZE, &d, got);
	assert_int_equal(vfn_nvme_zone_state(&d), VFN_NVME_ZS_EMPTY);
	assert_int_equal(d.za & VFN_NVME_ZA_ZDEV, 0);
	assert_memory_equal(got, zero, ZDE);
	reset_all(c);
}

/*
 * A zone opened with a ZRWA takes writes anywhere in the ZRWA, in any
 * order, without moving its write pointer; outside the window (at or past
 * the write pointer + 2 x ZRWASZ, or below the write pointer) a write is a
 * Zone Invalid Write; an explicit flush to an LBA moves the write pointer
 * to the LBA after it; a write past the ZRWA flushes implicitly in ZRWAFG
 * units; the data reads back.
 */
static void test_zrwa_writes(void **state)
{
	struct ctx *c = *state;
	const uint64_t z = 2 * ZSZE;
	struct vfn_nvme_zone_desc d;
	struct vfn_nvme_cqe cqe;
	uint64_t alba;
	/* random order inside the ZRWA: blocks 40-47, 8-15, 0-7, 24-39, 16-23 */
	static const struct {
		uint32_t off, nlb;
	} w[] = { { 40, 8 }, { 8, 8 }, { 0, 8 }, { 24, 16 }, { 16, 8 } };

	assert_int_equal(vfn_dev_zone_open_zrwa(c->dev, 1, z, &cqe), 0);
	d = zone_desc(c, z);
	assert_int_equal(vfn_nvme_zone_state(&d), VFN_NVME_ZS_EXP_OPEN);
	assert_int_equal(d.za & VFN_NVME_ZA_ZRWAV, VFN_NVME_ZA_ZRWAV);
	assert_int_equal(vfn_le64_to_cpu(d.wp), z);

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		assert_int_equal(status_of(write_at(c, z + w[i].off, w[i].nlb, (uint8_t)(0x10 + w[i].off), &cqe), &cqe),
				 0);
	/* All inside the ZRWA: nothing flushed, the write pointer stays at the zone start. */
	assert_int_equal(vfn_le64_to_cpu(zone_desc(c, z).wp), z);

	/* Past the window (write pointer + 2 x ZRWASZ): Zone Invalid Write, named so. */
	assert_int_equal(status_of(write_at(c, z + 2 * ZRWASZ, 1, 0, &cqe), &cqe), VFN_NVME_SC_ZONE_INVALID_WRITE);
	assert_string_equal(vfn_nvme_status_str(vfn_nvme_cqe_status(&cqe)), "Zone Invalid Write");
	assert_int_equal(status_of(write_at(c, z + 2 * ZRWASZ - 4, 8, 0, &cqe), &cqe), VFN_NVME_SC_ZONE_INVALID_WRITE);
	/* Zone Append to a zone with a ZRWA: Invalid Zone Operation Request. */
	memset(c->buf, 0, LBA);
	assert_int_equal(status_of(vfn_dev_zone_append(c->dev, 1, z, 1, c->buf, &alba, &cqe), &cqe),
			 VFN_NVME_SC_ZONE_INVALID_OP);
	assert_string_equal(vfn_nvme_status_str(vfn_nvme_cqe_status(&cqe)), "Invalid Zone Operation Request");

	/* Flushes: 4 blocks is not a multiple of ZRWAFG 8; 48 is: the write pointer moves to LBA 48. */
	assert_int_equal(status_of(vfn_dev_zone_flush_zrwa(c->dev, 1, z + 3, &cqe), &cqe), VFN_NVME_SC_INVALID_FIELD);
	assert_int_equal(vfn_le64_to_cpu(zone_desc(c, z).wp), z);
	assert_int_equal(vfn_dev_zone_flush_zrwa(c->dev, 1, z + 47, &cqe), 0);
	d = zone_desc(c, z);
	assert_int_equal(vfn_le64_to_cpu(d.wp), z + 48);
	assert_int_equal(vfn_nvme_zone_state(&d), VFN_NVME_ZS_EXP_OPEN);
	assert_int_equal(d.za & VFN_NVME_ZA_ZRWAV, VFN_NVME_ZA_ZRWAV);

	/* Below the write pointer now: Zone Invalid Write. */
	assert_int_equal(status_of(write_at(c, z + 40, 8, 0, &cqe), &cqe), VFN_NVME_SC_ZONE_INVALID_WRITE);

	/* What the random-order writes put there reads back. */
	assert_int_equal(vfn_dev_read(c->dev, 1, z, 48, c->rd), 0);
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		for (uint32_t b = 0; b < w[i].nlb * LBA; b++)
			if (c->rd[(size_t)w[i].off * LBA + b] != (uint8_t)(0x10 + w[i].off))
				fail_msg("block %u byte %u: 0x%02x, wrote 0x%02x", w[i].off + b / LBA, b % LBA,
					 c->rd[(size_t)w[i].off * LBA + b], 0x10 + w[i].off);

	/* A write ending 3 blocks past the ZRWA (48 + 64 = 112): an implicit flush of one ZRWAFG unit. */
	assert_int_equal(status_of(write_at(c, z + 48 + ZRWASZ, 3, 0x77, &cqe), &cqe), 0);
	assert_int_equal(vfn_le64_to_cpu(zone_desc(c, z).wp), z + 48 + ZRWAFG);
	reset_all(c);
	d = zone_desc(c, z);
	assert_int_equal(vfn_nvme_zone_state(&d), VFN_NVME_ZS_EMPTY);
	assert_int_equal(d.za & VFN_NVME_ZA_ZRWAV, 0);
}

/* NUMZRWA resources: a third ZRWA is refused until finishing a zone gives one back. */
static void test_zrwa_resources(void **state)
{
	struct ctx *c = *state;
	struct vfn_nvme_cqe cqe;
	struct vfn_nvme_zone_desc d;

	assert_int_equal(vfn_dev_zone_open_zrwa(c->dev, 1, 3 * ZSZE, &cqe), 0);
	assert_int_equal(vfn_dev_zone_open_zrwa(c->dev, 1, 4 * ZSZE, &cqe), 0);
	assert_int_equal(status_of(vfn_dev_zone_open_zrwa(c->dev, 1, 5 * ZSZE, &cqe), &cqe),
			 VFN_NVME_SC_ZONE_ZRWA_UNAVAILABLE);
	assert_string_equal(vfn_nvme_status_str(vfn_nvme_cqe_status(&cqe)), "ZRWA Resources Unavailable");
	d = zone_desc(c, 5 * ZSZE);
	assert_int_equal(vfn_nvme_zone_state(&d), VFN_NVME_ZS_EMPTY);
	/* Finishing zone 3 releases its ZRWA (and it is Full, the attribute cleared). */
	assert_int_equal(vfn_dev_zone_mgmt_send(c->dev, 1, 3 * ZSZE, VFN_NVME_ZSA_FINISH, false, NULL), 0);
	d = zone_desc(c, 3 * ZSZE);
	assert_int_equal(vfn_nvme_zone_state(&d), VFN_NVME_ZS_FULL);
	/* (The write pointer of a Full zone is not valid: QEMU reports all ones, the sim its capacity end.) */
	assert_int_equal(d.za & VFN_NVME_ZA_ZRWAV, 0);
	assert_int_equal(vfn_dev_zone_open_zrwa(c->dev, 1, 5 * ZSZE, &cqe), 0);
	d = zone_desc(c, 5 * ZSZE);
	assert_int_equal(d.za & VFN_NVME_ZA_ZRWAV, VFN_NVME_ZA_ZRWAV);
	/* A flush on a zone without a ZRWA: Invalid Field in Command. */
	assert_int_equal(status_of(vfn_dev_zone_flush_zrwa(c->dev, 1, 6 * ZSZE + 7, &cqe), &cqe),
			 VFN_NVME_SC_INVALID_FIELD);
	reset_all(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_geometry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_descriptor_extension, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zrwa_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zrwa_resources, setup, teardown),
	};

	if (!getenv("VFN_BDF")) {
		fprintf(stderr, "test_vm_zns: set VFN_BDF (a BDF, /dev/ng0n1 or a sim: string)\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
