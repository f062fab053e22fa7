/* SPDX-License-Identifier: MIT */
/*
 * Zoned namespaces (include/vfn/zns.h) on the simulator's zoned namespace
 * (sim:zoned=1): the geometry from Identify CSI 02h, the zone state
 * machine and its errors, write pointer checks, Zone Append's LBAs and the
 * data read back, Report Zones filters and partial reports.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <vfn/vfn.h>

#include "sim/sim.h"

/* 16 zones of 64 blocks of 512 bytes, 48 writable; at most 2 open and 3 active. */
#define SIM "sim:nsze=1024,lbads=9,zoned=1,zsze=64,zcap=48,mor=2,mar=3"
#define ZSZE 64
#define ZCAP 48
#define NR_ZONES 16

struct ctx {
	struct vfn_dev *dev;
	uint8_t buf[65536]; /* the largest command here: 41 blocks of 512 bytes */
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	assert_int_equal(vfn_dev_open(SIM, NULL, &c->dev), 0);
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

/* The state of the zone starting at @zslba, from a one-zone report. */
static unsigned int zstate(struct ctx *c, uint64_t zslba, uint64_t *wp)
{
	uint8_t r[128];
	const struct vfn_nvme_zone_desc *d = (const void *)(r + 64);

	assert_int_equal(vfn_dev_zone_report(c->dev, 1, zslba, VFN_NVME_ZRASF_ALL, true, r, sizeof(r), NULL), 0);
	assert_int_equal(vfn_le64_to_cpu(((const struct vfn_nvme_zone_report *)(const void *)r)->nr_zones), 1);
	assert_int_equal(vfn_le64_to_cpu(d->zslba), zslba);
	if (wp)
		*wp = vfn_le64_to_cpu(d->wp);
	return vfn_nvme_zone_state(d);
}

/* The status of a failed command. */
static uint16_t status_of(int ret, const struct vfn_nvme_cqe *cqe)
{
	assert_int_equal(ret, -EIO);
	return vfn_nvme_status_sc(vfn_nvme_cqe_status(cqe)) | vfn_nvme_status_sct(vfn_nvme_cqe_status(cqe)) << 8;
}

static void test_info(void **state)
{
	struct ctx *c = *state;
	struct vfn_zns_info zi;
	const struct vfn_nvme_cqe cqe0 = { 0 };
	struct vfn_nvme_cqe cqe = cqe0;

	assert_int_equal(vfn_dev_zns_info(c->dev, 1, &zi, &cqe), 0);
	assert_int_equal(zi.nsze, 1024);
	assert_int_equal(zi.zsze, ZSZE);
	assert_int_equal(zi.zcap, ZCAP);
	assert_int_equal(zi.nr_zones, NR_ZONES);
	assert_int_equal(zi.mor, 2);
	assert_int_equal(zi.mar, 3);
	assert_int_equal(zi.lba_size, 512);
	/* CC.CSS 110b: the controller offered all I/O command sets. */
	assert_int_equal((vfn_nvme_reg_read32(vfn_dev_nvme_ctrl(c->dev), VFN_NVME_REG_CC) >> VFN_NVME_CC_CSS_SHIFT) & 7,
			 VFN_NVME_CC_CSS_CSI);
}

/*
 * Format NVM of the zoned namespace: every zone Empty at its start again
 * (it kept an implicitly opened zone with its write pointer over erased
 * data); to 4096-byte blocks it is Invalid Format (the zone table stayed 16
 * zones of 64 blocks, 4 MiB over a 512 KiB namespace, and a zone reset
 * zeroed memory beyond it).
 */
static void test_format(void **state)
{
	struct ctx *c = *state;
	struct vfn_format_args fa = { .nsid = 1, .lbaf = 0 };
	struct vfn_nvme_cqe cqe;
	uint64_t wp;

	assert_int_equal(vfn_dev_write(c->dev, 1, 0, 4, c->buf), 0);
	assert_int_equal(vfn_dev_zone_mgmt_send(c->dev, 1, ZSZE, VFN_NVME_ZSA_OPEN, false, NULL), 0);
	assert_int_equal(zstate(c, 0, &wp), VFN_NVME_ZS_IMP_OPEN);
	assert_int_equal(vfn_dev_format(c->dev, &fa, NULL), 0);
	assert_int_equal(zstate(c, 0, &wp), VFN_NVME_ZS_EMPTY);
	assert_int_equal(wp, 0);
	assert_int_equal(zstate(c, ZSZE, NULL), VFN_NVME_ZS_EMPTY);
	/* MOR 2 / MAR 3 are all free again: two explicit opens, one closed, a write: 3 active. */
	assert_int_equal(vfn_dev_zone_mgmt_send(c->dev, 1, 2 * ZSZE, VFN_NVME_ZSA_OPEN, false, NULL), 0);
	assert_int_equal(vfn_dev_zone_mgmt_send(c->dev, 1, 3 * ZSZE, VFN_NVME_ZSA_OPEN, false, NULL), 0);
	assert_int_equal(vfn_dev_zone_mgmt_send(c->dev, 1, 3 * ZSZE, VFN_NVME_ZSA_CLOSE, false, NULL), 0);
	assert_int_equal(vfn_dev_write(c->dev, 1, 4 * ZSZE, 1, c->buf), 0);

	fa.lbaf = 1; /* 4096-byte blocks */
	assert_int_equal(status_of(vfn_dev_format(c->dev, &fa, &cqe), &cqe), VFN_NVME_SC_INVALID_FORMAT);
	assert_int_equal(vfn_dev_get_info(c->dev)->lba_size, 512);
	assert_int_equal(zstate(c, 4 * ZSZE, &wp), VFN_NVME_ZS_IMP_OPEN);
	assert_int_equal(wp, 4 * ZSZE + 1);
}

/* mar=2 without mor: Identify says MOR 2 (MOR may not be over MAR; it said no limit, FFFFFFFFh). */
static void test_mor_under_mar(void **state)
{
	struct vfn_dev *dev;
	struct vfn_zns_info zi;

	(void)state;
	assert_int_equal(vfn_dev_open("sim:nsze=1024,lbads=9,zoned=1,zsze=64,mar=2", NULL, &dev), 0);
	assert_int_equal(vfn_dev_zns_info(dev, 1, &zi, NULL), 0);
	assert_int_equal(zi.mar, 2);
	assert_int_equal(zi.mor, 2);
	vfn_dev_close(dev);
}

/* A completed Sanitize (Block Erase) leaves every zone Empty: it kept open zones over erased data. */
static void test_sanitize(void **state)
{
	struct ctx *c = *state;
	struct vfn_sanitize_args s = { .sanact = VFN_NVME_SANACT_BLOCK_ERASE };
	struct vfn_nvme_sanitize_log log;
	uint64_t wp;
	int i;

	assert_int_equal(vfn_dev_write(c->dev, 1, ZSZE, 3, c->buf), 0);
	assert_int_equal(vfn_dev_zone_mgmt_send(c->dev, 1, 2 * ZSZE, VFN_NVME_ZSA_FINISH, false, NULL), 0);
	assert_int_equal(vfn_dev_sanitize(c->dev, &s, NULL), 0);
	for (i = 0; i < 200; i++) {
		assert_int_equal(vfn_dev_sanitize_log(c->dev, &log, NULL), 0);
		if ((vfn_le16_to_cpu(log.sstat) & 0x7) != VFN_NVME_SSTAT_IN_PROGRESS)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 20000000 }, NULL);
	}
	assert_int_equal(vfn_le16_to_cpu(log.sstat) & 0x7, VFN_NVME_SSTAT_COMPLETED);
	assert_int_equal(zstate(c, ZSZE, &wp), VFN_NVME_ZS_EMPTY);
	assert_int_equal(wp, ZSZE);
	assert_int_equal(zstate(c, 2 * ZSZE, &wp), VFN_NVME_ZS_EMPTY);
	assert_int_equal(wp, 2 * ZSZE);
}

/*
 * A controller whose Identify Namespace gives the LBA format a data size
 * (LBADS) of 40 or 3: -EPROTO, not a shift by 40 (undefined, UBSan) or a
 * block size of 8 bytes.  The value is put into the simulator's LBA format.
 */
static void test_info_bad_lbads(void **state)
{
	struct ctx *c = *state;
	struct vfn_sim *sim = vfn_dev_sim(c->dev);
	struct vfn_zns_info zi;

	assert_non_null(sim);
	assert_int_equal(vfn_dev_zns_info(c->dev, 1, &zi, NULL), 0);
	sim->mgmt.lbaf[0].ds = 40;
	assert_int_equal(vfn_dev_zns_info(c->dev, 1, &zi, NULL), -EPROTO);
	sim->mgmt.lbaf[0].ds = 3;
	assert_int_equal(vfn_dev_zns_info(c->dev, 1, &zi, NULL), -EPROTO);
	sim->mgmt.lbaf[0].ds = 9;
	assert_int_equal(vfn_dev_zns_info(c->dev, 1, &zi, NULL), 0);
	assert_int_equal(zi.lba_size, 512);
}

/*
 * The sim's CNS 1Ch offers profile 0 (NVM only) and 1 (NVM + Zoned); zone
 * commands need 1, so bring-up must select it with Set Features 19h, and again
 * after a controller reset (which returns the feature to 0).
 */
static void test_iocs_profile(void **state)
{
	struct ctx *c = *state;
	struct vfn_nvme_ctrl *ctrl = vfn_dev_nvme_ctrl(c->dev);
	struct vfn_nvme_cqe cqe;
	uint32_t dw0 = 0xdead;
	uint8_t r[64];

	assert_int_equal(vfn_nvme_get_features(ctrl, VFN_NVME_FEAT_IOCS_PROFILE, 0, 0, &dw0, NULL, 0), 0);
	assert_int_equal(dw0, 1);
	assert_int_equal(vfn_nvme_set_features(ctrl, VFN_NVME_FEAT_IOCS_PROFILE, 0, 2, NULL, NULL, 0), -EIO);
	/* Back to profile 0 (NVM only): zone commands are unknown opcodes until a reset re-selects 1. */
	assert_int_equal(vfn_nvme_set_features(ctrl, VFN_NVME_FEAT_IOCS_PROFILE, 0, 0, NULL, NULL, 0), 0);
	assert_int_equal(
		status_of(vfn_dev_zone_report(c->dev, 1, 0, VFN_NVME_ZRASF_ALL, true, r, sizeof(r), &cqe), &cqe),
		VFN_NVME_SC_INVALID_OPCODE);
	assert_int_equal(vfn_nvme_ctrl_reset(ctrl), 0);
	dw0 = 0xdead;
	assert_int_equal(vfn_nvme_get_features(ctrl, VFN_NVME_FEAT_IOCS_PROFILE, 0, 0, &dw0, NULL, 0), 0);
	assert_int_equal(dw0, 1);
	assert_int_equal(vfn_dev_zone_report(c->dev, 1, 0, VFN_NVME_ZRASF_ALL, false, r, sizeof(r), &cqe), 0);
	assert_int_equal(vfn_le64_to_cpu(((struct vfn_nvme_zone_report *)(void *)r)->nr_zones), NR_ZONES);
}

static void test_not_zoned(void **state)
{
	struct vfn_dev *dev;
	struct vfn_zns_info zi;
	struct vfn_nvme_cqe cqe;
	uint8_t r[64];

	(void)state;
	assert_int_equal(vfn_dev_open("sim:nsze=1024", NULL, &dev), 0);
	assert_int_equal(status_of(vfn_dev_zns_info(dev, 1, &zi, &cqe), &cqe), VFN_NVME_SC_INVALID_FIELD);
	/* Plain sim: NVM only (CC.CSS 000b), zone commands are unknown opcodes. */
	assert_int_equal((vfn_nvme_reg_read32(vfn_dev_nvme_ctrl(dev), VFN_NVME_REG_CC) >> VFN_NVME_CC_CSS_SHIFT) & 7,
			 VFN_NVME_CC_CSS_NVM);
	assert_int_equal(status_of(vfn_dev_zone_report(dev, 1, 0, 0, false, r, sizeof(r), &cqe), &cqe),
			 VFN_NVME_SC_INVALID_OPCODE);
	vfn_dev_close(dev);
	assert_int_equal(vfn_dev_open("sim:nsze=1000,zoned=1,zsze=64", NULL, &dev), -EINVAL);
	assert_int_equal(vfn_dev_open("sim:nsze=1024,zoned=1,zsze=64,zcap=65", NULL, &dev), -EINVAL);
	assert_int_equal(vfn_dev_open("sim:nsze=1024,zoned=1,mor=4,mar=3", NULL, &dev), -EINVAL);
}

static void test_write_pointer(void **state)
{
	struct ctx *c = *state;
	struct vfn_nvme_cqe cqe;
	uint64_t wp;

	memset(c->buf, 0xa5, sizeof(c->buf));
	assert_int_equal(zstate(c, 0, &wp), VFN_NVME_ZS_EMPTY);
	assert_int_equal(wp, 0);
	/* Writes go at the write pointer: a write elsewhere is a Zone Invalid Write. */
	assert_int_equal(vfn_dev_write(c->dev, 1, 0, 8, c->buf), 0);
	assert_int_equal(zstate(c, 0, &wp), VFN_NVME_ZS_IMP_OPEN);
	assert_int_equal(wp, 8);
	assert_int_equal(status_of(vfn_dev_rw(c->dev, VFN_NVME_CMD_WRITE, 1, 4, 1, c->buf, 512, NULL, &cqe), &cqe),
			 VFN_NVME_SC_ZONE_INVALID_WRITE);
	assert_string_equal(vfn_nvme_status_str(vfn_nvme_cqe_status(&cqe)), "Zone Invalid Write");
	assert_int_equal(status_of(vfn_dev_rw(c->dev, VFN_NVME_CMD_WRITE, 1, 9, 1, c->buf, 512, NULL, &cqe), &cqe),
			 VFN_NVME_SC_ZONE_INVALID_WRITE);
	/* Past the capacity: Zone Boundary Error; up to it: the zone is Full. */
	assert_int_equal(
		status_of(vfn_dev_rw(c->dev, VFN_NVME_CMD_WRITE, 1, 8, 41, c->buf, 41 * 512, NULL, &cqe), &cqe),
		VFN_NVME_SC_ZONE_BOUNDARY_ERROR);
	assert_int_equal(vfn_dev_write(c->dev, 1, 8, 16, c->buf), 0);
	assert_int_equal(vfn_dev_write(c->dev, 1, 24, 16, c->buf), 0);
	assert_int_equal(vfn_dev_write(c->dev, 1, 40, 8, c->buf), 0);
	assert_int_equal(zstate(c, 0, &wp), VFN_NVME_ZS_FULL);
	assert_int_equal(status_of(vfn_dev_rw(c->dev, VFN_NVME_CMD_WRITE, 1, 48, 1, c->buf, 512, NULL, &cqe), &cqe),
			 VFN_NVME_SC_ZONE_FULL);
	assert_string_equal(vfn_nvme_status_str(vfn_nvme_cqe_status(&cqe)), "Zone Is Full");
	assert_int_equal(status_of(vfn_dev_zone_append(c->dev, 1, 0, 1, c->buf, NULL, &cqe), &cqe),
			 VFN_NVME_SC_ZONE_FULL);
	/* Reset: Empty, write pointer back at the zone start, data zeros. */
	assert_int_equal(vfn_dev_zone_mgmt_send(c->dev, 1, 0, VFN_NVME_ZSA_RESET, false, NULL), 0);
	assert_int_equal(zstate(c, 0, &wp), VFN_NVME_ZS_EMPTY);
	assert_int_equal(wp, 0);
	assert_int_equal(vfn_dev_read(c->dev, 1, 0, 1, c->buf), 0);
	for (int i = 0; i < 512; i++)
		assert_int_equal(c->buf[i], 0);
}

static void test_append(void **state)
{
	struct ctx *c = *state;
	struct vfn_nvme_cqe cqe;
	uint64_t alba = 99, wp;

	for (int i = 0; i < 4; i++) {
		memset(c->buf, 0x10 + i, 4 * 512);
		assert_int_equal(vfn_dev_zone_append(c->dev, 1, 2 * ZSZE, 4, c->buf, &alba, &cqe), 0);
		assert_int_equal(alba, 2 * ZSZE + 4 * i);
	}
	assert_int_equal(zstate(c, 2 * ZSZE, &wp), VFN_NVME_ZS_IMP_OPEN);
	assert_int_equal(wp, 2 * ZSZE + 16);
	assert_int_equal(vfn_dev_read(c->dev, 1, 2 * ZSZE, 16, c->buf), 0);
	for (int i = 0; i < 16 * 512; i++)
		assert_int_equal(c->buf[i], 0x10 + i / (4 * 512));
	/* Append names the zone start: any other LBA is Invalid Field. */
	assert_int_equal(status_of(vfn_dev_zone_append(c->dev, 1, 2 * ZSZE + 1, 1, c->buf, NULL, &cqe), &cqe),
			 VFN_NVME_SC_INVALID_FIELD);
	assert_int_equal(status_of(vfn_dev_zone_append(c->dev, 1, 2 * ZSZE, 33, c->buf, NULL, &cqe), &cqe),
			 VFN_NVME_SC_ZONE_BOUNDARY_ERROR);
	/* An LBA above 4 Gi blocks would need DW1: the simulator's is 0 here and the API joins both. */
	assert_int_equal(vfn_le32_to_cpu(cqe.dw1), 0);
}

/*
 * Zone capacity = zone size: a Full zone's write pointer is the next zone's
 * start.  Zone Append to it is Zone Is Full, not an append to the next
 * zone (the sim found the zone by the write pointer).
 */
static void test_append_full_zone_zcap_is_zsze(void **state)
{
	struct ctx *c = *state;
	struct vfn_nvme_cqe cqe;
	uint64_t alba = 99, wp;

	vfn_dev_close(c->dev);
	assert_int_equal(vfn_dev_open("sim:nsze=1024,lbads=9,zoned=1,zsze=64", NULL, &c->dev), 0);
	assert_int_equal(vfn_dev_zone_mgmt_send(c->dev, 1, 3 * ZSZE, VFN_NVME_ZSA_FINISH, false, NULL), 0);
	assert_int_equal(zstate(c, 3 * ZSZE, &wp), VFN_NVME_ZS_FULL);
	assert_int_equal(wp, 4 * ZSZE);
	assert_int_equal(status_of(vfn_dev_zone_append(c->dev, 1, 3 * ZSZE, 1, c->buf, &alba, &cqe), &cqe),
			 VFN_NVME_SC_ZONE_FULL);
	assert_int_equal(alba, 99);
	assert_int_equal(zstate(c, 4 * ZSZE, &wp), VFN_NVME_ZS_EMPTY);
	assert_int_equal(wp, 4 * ZSZE);
}

static void test_transitions(void **state)
{
	struct ctx *c = *state;
	struct vfn_nvme_cqe cqe;
	uint64_t wp;

	/* Explicit open of two zones; a third open exceeds MOR 2. */
	assert_int_equal(vfn_dev_zone_mgmt_send(c->dev, 1, 0, VFN_NVME_ZSA_OPEN, false, NULL), 0);
	assert_int_equal(vfn_dev_zone_mgmt_send(c->dev, 1, ZSZE, VFN_NVME_ZSA_OPEN, false, NULL), 0);
	assert_int_equal(zstate(c, 0, NULL), VFN_NVME_ZS_EXP_OPEN);
	assert_int_equal(status_of(vfn_dev_zone_mgmt_send(c->dev, 1, 2 * ZSZE, VFN_NVME_ZSA_OPEN, false, &cqe), &cqe),
			 VFN_NVME_SC_ZONE_TOO_MANY_OPEN);
	assert_string_equal(vfn_nvme_status_str(vfn_nvme_cqe_status(&cqe)), "Too Many Open Zones");
	/* Close one: Closed (still active); a write implicitly opens another: 3 active. */
	assert_int_equal(vfn_dev_zone_mgmt_send(c->dev, 1, ZSZE, VFN_NVME_ZSA_CLOSE, false, NULL), 0);
	assert_int_equal(zstate(c, ZSZE, NULL), VFN_NVME_ZS_CLOSED);
	assert_int_equal(vfn_dev_write(c->dev, 1, 2 * ZSZE, 1, c->buf), 0);
	assert_int_equal(zstate(c, 2 * ZSZE, NULL), VFN_NVME_ZS_IMP_OPEN);
	/* A fourth active zone is over MAR 3. */
	assert_int_equal(
		status_of(vfn_dev_rw(c->dev, VFN_NVME_CMD_WRITE, 1, 3 * ZSZE, 1, c->buf, 512, NULL, &cqe), &cqe),
		VFN_NVME_SC_ZONE_TOO_MANY_ACTIVE);
	/* Closing an Empty zone is not a transition; Finish makes a zone Full at its capacity. */
	assert_int_equal(status_of(vfn_dev_zone_mgmt_send(c->dev, 1, 5 * ZSZE, VFN_NVME_ZSA_CLOSE, false, &cqe), &cqe),
			 VFN_NVME_SC_ZONE_INVALID_TRANSITION);
	assert_string_equal(vfn_nvme_status_str(vfn_nvme_cqe_status(&cqe)), "Invalid Zone State Transition");
	assert_int_equal(vfn_dev_zone_mgmt_send(c->dev, 1, 2 * ZSZE, VFN_NVME_ZSA_FINISH, false, NULL), 0);
	assert_int_equal(zstate(c, 2 * ZSZE, &wp), VFN_NVME_ZS_FULL);
	assert_int_equal(wp, 2 * ZSZE + ZCAP);
	/* Offline only from Read Only. */
	assert_int_equal(status_of(vfn_dev_zone_mgmt_send(c->dev, 1, 0, VFN_NVME_ZSA_OFFLINE, false, &cqe), &cqe),
			 VFN_NVME_SC_ZONE_INVALID_TRANSITION);
	/* Not a zone start. */
	assert_int_equal(status_of(vfn_dev_zone_mgmt_send(c->dev, 1, 3, VFN_NVME_ZSA_OPEN, false, &cqe), &cqe),
			 VFN_NVME_SC_INVALID_FIELD);
	/* Select All: close every open zone, then reset every zone. */
	assert_int_equal(vfn_dev_zone_mgmt_send(c->dev, 1, 0, VFN_NVME_ZSA_CLOSE, true, NULL), 0);
	assert_int_equal(zstate(c, 0, NULL), VFN_NVME_ZS_CLOSED);
	assert_int_equal(vfn_dev_zone_mgmt_send(c->dev, 1, 0, VFN_NVME_ZSA_RESET, true, NULL), 0);
	for (uint64_t z = 0; z < NR_ZONES; z++)
		assert_int_equal(zstate(c, z * ZSZE, NULL), VFN_NVME_ZS_EMPTY);
	assert_int_equal(vfn_dev_zone_mgmt_send(c->dev, 1, 0, 0x9, false, NULL), -EINVAL);
}

static void test_report(void **state)
{
	struct ctx *c = *state;
	const struct vfn_nvme_zone_report *h = (const void *)c->buf;
	const struct vfn_nvme_zone_desc *d = (const void *)(c->buf + 64);

	/* Zones 1 and 4 written (implicitly open), zone 7 finished (Full). */
	assert_int_equal(vfn_dev_write(c->dev, 1, ZSZE, 2, c->buf), 0);
	assert_int_equal(vfn_dev_write(c->dev, 1, 4 * ZSZE, 3, c->buf), 0);
	assert_int_equal(vfn_dev_zone_mgmt_send(c->dev, 1, 7 * ZSZE, VFN_NVME_ZSA_FINISH, false, NULL), 0);

	assert_int_equal(vfn_dev_zone_report(c->dev, 1, 0, VFN_NVME_ZRASF_ALL, false, c->buf, 64 + 64 * NR_ZONES, NULL),
			 0);
	assert_int_equal(vfn_le64_to_cpu(h->nr_zones), NR_ZONES);
	for (int i = 0; i < NR_ZONES; i++) {
		assert_int_equal(d[i].zt, VFN_NVME_ZT_SEQ_WRITE_REQUIRED);
		assert_int_equal(vfn_le64_to_cpu(d[i].zslba), (uint64_t)i * ZSZE);
		assert_int_equal(vfn_le64_to_cpu(d[i].zcap), ZCAP);
	}
	assert_int_equal(vfn_le64_to_cpu(d[4].wp), 4 * ZSZE + 3);

	assert_int_equal(vfn_dev_zone_report(c->dev, 1, 0, VFN_NVME_ZRASF_IMP_OPEN, false, c->buf, 4096, NULL), 0);
	assert_int_equal(vfn_le64_to_cpu(h->nr_zones), 2);
	assert_int_equal(vfn_le64_to_cpu(d[0].zslba), ZSZE);
	assert_int_equal(vfn_le64_to_cpu(d[1].zslba), 4 * ZSZE);
	assert_int_equal(vfn_nvme_zone_state(&d[1]), VFN_NVME_ZS_IMP_OPEN);

	assert_int_equal(vfn_dev_zone_report(c->dev, 1, 0, VFN_NVME_ZRASF_FULL, false, c->buf, 4096, NULL), 0);
	assert_int_equal(vfn_le64_to_cpu(h->nr_zones), 1);
	assert_int_equal(vfn_le64_to_cpu(d[0].zslba), 7 * ZSZE);

	/* From the zone holding LBA 133 (zone 2) on: zones 2..15 but 4 and 7 are Empty. */
	assert_int_equal(vfn_dev_zone_report(c->dev, 1, 2 * ZSZE + 5, VFN_NVME_ZRASF_EMPTY, false, c->buf, 4096, NULL),
			 0);
	assert_int_equal(vfn_le64_to_cpu(h->nr_zones), 12);
	assert_int_equal(vfn_le64_to_cpu(d[0].zslba), 2 * ZSZE);

	/* Room for 2 descriptors: NRZONES counts all matches, or with Partial the 2 returned. */
	assert_int_equal(vfn_dev_zone_report(c->dev, 1, 0, VFN_NVME_ZRASF_ALL, false, c->buf, 64 + 128, NULL), 0);
	assert_int_equal(vfn_le64_to_cpu(h->nr_zones), NR_ZONES);
	assert_int_equal(vfn_dev_zone_report(c->dev, 1, 0, VFN_NVME_ZRASF_ALL, true, c->buf, 64 + 128, NULL), 0);
	assert_int_equal(vfn_le64_to_cpu(h->nr_zones), 2);

	assert_int_equal(vfn_dev_zone_report(c->dev, 1, 0, 8, false, c->buf, 4096, NULL), -EINVAL);
	assert_int_equal(vfn_dev_zone_report(c->dev, 1, 0, 0, false, c->buf, 62, NULL), -EINVAL);
	assert_string_equal(vfn_zone_state_str(VFN_NVME_ZS_EXP_OPEN), "Explicitly Opened");
}

/* zdes / ZRWA: sim:zoned=1 with zdes=1 (64 bytes), a ZRWA of 16 blocks, flushes of 4, 2 resources. */
#define SIMX "sim:nsze=1024,lbads=9,zoned=1,zsze=64,zcap=48,mor=2,mar=3,zdes=1,zrwasz=16,zrwafg=4,numzrwa=2"

static int wr(struct vfn_dev *dev, uint64_t slba, uint32_t nlb, void *buf, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = {
		.opcode = VFN_NVME_CMD_WRITE,
		.nsid = vfn_cpu_to_le32(1),
		.cdw10 = vfn_cpu_to_le32((uint32_t)slba),
		.cdw12 = vfn_cpu_to_le32(nlb - 1),
	};

	return vfn_dev_io(dev, &sqe, buf, (size_t)nlb * 512, cqe, 0);
}

/* The plain sim and the zoned one without extensions or ZRWA: the new calls fail as a controller without them. */
static void test_ext_zrwa_absent(void **state)
{
	struct ctx *c = *state;
	const struct vfn_dev_info *info = vfn_dev_get_info(c->dev);
	struct vfn_nvme_cqe cqe;
	struct vfn_dev *plain;
	uint8_t r[256] = { 0 };

	/* dev info: zoned geometry of SIM, no extension or ZRWA. */
	assert_true(info->zoned);
	assert_int_equal(info->zone_size, ZSZE);
	assert_int_equal(info->zone_cap, ZCAP);
	assert_int_equal(info->nr_zones, NR_ZONES);
	assert_int_equal(info->max_open_zones, 2);
	assert_int_equal(info->max_active_zones, 3);
	assert_int_equal(info->zde_size, 0);
	assert_int_equal(info->zrwa_size, 0);
	assert_int_equal(info->nr_zrwa, 0);
	assert_int_equal(status_of(vfn_dev_zone_report_ext(c->dev, 1, 0, 0, false, r, sizeof(r), &cqe), &cqe),
			 VFN_NVME_SC_INVALID_FIELD);
	assert_int_equal(status_of(vfn_dev_zone_set_desc_ext(c->dev, 1, 0, r, 64, &cqe), &cqe),
			 VFN_NVME_SC_INVALID_FIELD);
	assert_int_equal(status_of(vfn_dev_zone_open_zrwa(c->dev, 1, 0, &cqe), &cqe), VFN_NVME_SC_ZONE_INVALID_OP);
	assert_int_equal(status_of(vfn_dev_zone_flush_zrwa(c->dev, 1, 3, &cqe), &cqe), VFN_NVME_SC_ZONE_INVALID_OP);
	assert_int_equal(zstate(c, 0, NULL), VFN_NVME_ZS_EMPTY);

	/* A namespace that is not zoned: vfn_dev_info says so, all zone fields 0. */
	assert_int_equal(vfn_dev_open("sim:nsze=1024", NULL, &plain), 0);
	info = vfn_dev_get_info(plain);
	assert_false(info->zoned);
	assert_int_equal(info->zone_size + info->zone_cap + info->nr_zones, 0);
	vfn_dev_close(plain);

	/* Options: zdes / ZRWA need zoned=1, whole flush units, a ZRWA of at most half the capacity, numzrwa <= mar. */
	assert_int_equal(vfn_dev_open("sim:zdes=1", NULL, &plain), -EINVAL);
	assert_int_equal(vfn_dev_open("sim:nsze=1024,zoned=1,zsze=64,zrwasz=16,zrwafg=5", NULL, &plain), -EINVAL);
	assert_int_equal(vfn_dev_open("sim:nsze=1024,zoned=1,zsze=64,zcap=30,zrwasz=16", NULL, &plain), -EINVAL);
	assert_int_equal(vfn_dev_open("sim:nsze=1024,zoned=1,zsze=64,mar=3,zrwasz=16,numzrwa=4", NULL, &plain),
			 -EINVAL);
	assert_int_equal(vfn_dev_open("sim:nsze=1024,zoned=1,zsze=64,zrwafg=4", NULL, &plain), -EINVAL);
}

/* Report walking (pure): plain and extended entries, the end of the buffer. */
static void test_report_desc(void **state)
{
	uint8_t r[64 + 2 * (64 + 128)] = { 0 };
	const uint8_t *ext = (const uint8_t *)1;

	(void)state;
	assert_ptr_equal(vfn_zone_report_desc(r, sizeof(r), 128, 0, &ext), r + 64);
	assert_ptr_equal(ext, r + 128);
	assert_ptr_equal(vfn_zone_report_desc(r, sizeof(r), 128, 1, &ext), r + 64 + 192);
	assert_ptr_equal(ext, r + 64 + 192 + 64);
	assert_null(vfn_zone_report_desc(r, sizeof(r), 128, 2, &ext));
	assert_null(ext);
	assert_ptr_equal(vfn_zone_report_desc(r, sizeof(r), 0, 5, &ext), r + 64 + 5 * 64);
	assert_null(ext);
	assert_null(vfn_zone_report_desc(r, sizeof(r), 0, 6, NULL));
	assert_null(vfn_zone_report_desc(r, 63, 0, 0, NULL));
	assert_null(vfn_zone_report_desc(NULL, sizeof(r), 0, 0, NULL));
}

/*
 * The sim's ZRWA beyond what the guest test covers: a closed zone keeps its
 * ZRWA and a write reopens it implicitly with it; select all is refused for
 * set-extension and flush; the extension and ZRWA are gone after Format NVM;
 * a flush to the zone's capacity makes it Full and gives the ZRWA back.
 */
static void test_zrwa_sim(void **state)
{
	struct ctx *c = *state;
	struct vfn_format_args fa = { .nsid = 1, .lbaf = 0 };
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_ZONE_MGMT_SEND, .nsid = vfn_cpu_to_le32(1) };
	struct vfn_nvme_cqe cqe;
	struct vfn_dev *dev;
	uint8_t ext[64], r[64 + 2 * 128];
	const uint8_t *e;
	uint64_t wp;

	(void)state;
	assert_int_equal(vfn_dev_open(SIMX, NULL, &dev), 0);
	vfn_dev_close(c->dev);
	c->dev = dev;
	assert_int_equal(vfn_dev_get_info(dev)->zde_size, 64);
	assert_int_equal(vfn_dev_get_info(dev)->zrwa_size, 16);
	assert_int_equal(vfn_dev_get_info(dev)->zrwa_fg, 4);
	assert_int_equal(vfn_dev_get_info(dev)->nr_zrwa, 2);

	/* Select all with Set Zone Descriptor Extension or Flush: Invalid Field. */
	sqe.cdw13 = vfn_cpu_to_le32(VFN_NVME_ZSA_SET_ZDE | VFN_NVME_ZSA_SELECT_ALL);
	assert_int_equal(status_of(vfn_dev_io(dev, &sqe, ext, sizeof(ext), &cqe, 0), &cqe), VFN_NVME_SC_INVALID_FIELD);
	sqe.cdw13 = vfn_cpu_to_le32(VFN_NVME_ZSA_FLUSH_ZRWA | VFN_NVME_ZSA_SELECT_ALL);
	assert_int_equal(status_of(vfn_dev_io(dev, &sqe, NULL, 0, &cqe, 0), &cqe), VFN_NVME_SC_INVALID_FIELD);

	/* Open zone 1 with a ZRWA, write inside, close: the ZRWA stays; a write reopens it implicitly. */
	assert_int_equal(vfn_dev_zone_open_zrwa(dev, 1, ZSZE, &cqe), 0);
	assert_int_equal(wr(dev, ZSZE + 8, 4, c->buf, &cqe), 0);
	assert_int_equal(vfn_dev_zone_mgmt_send(dev, 1, ZSZE, VFN_NVME_ZSA_CLOSE, false, NULL), 0);
	assert_int_equal(zstate(c, ZSZE, &wp), VFN_NVME_ZS_CLOSED);
	assert_int_equal(wp, ZSZE);
	assert_int_equal(wr(dev, ZSZE, 4, c->buf, &cqe), 0);
	assert_int_equal(zstate(c, ZSZE, &wp), VFN_NVME_ZS_IMP_OPEN);
	assert_int_equal(wp, ZSZE);
	/* A flush past the ZRWA (16 blocks from the write pointer): Zone Boundary Error. */
	assert_int_equal(status_of(vfn_dev_zone_flush_zrwa(dev, 1, ZSZE + 16, &cqe), &cqe),
			 VFN_NVME_SC_ZONE_BOUNDARY_ERROR);
	/* Walk the write pointer to the capacity (48) by flushes of 12: Full, the ZRWA given back. */
	for (int i = 1; i <= 3; i++)
		assert_int_equal(vfn_dev_zone_flush_zrwa(dev, 1, ZSZE + 12 * i - 1, &cqe), 0);
	/* At 36 the ZRWA window (16) reaches past the capacity (48): a flush to 51 is a Zone Boundary Error. */
	assert_int_equal(status_of(vfn_dev_zone_flush_zrwa(dev, 1, ZSZE + 51, &cqe), &cqe),
			 VFN_NVME_SC_ZONE_BOUNDARY_ERROR);
	assert_int_equal(zstate(c, ZSZE, &wp), VFN_NVME_ZS_IMP_OPEN);
	assert_int_equal(wp, ZSZE + 36);
	assert_int_equal(vfn_dev_zone_flush_zrwa(dev, 1, ZSZE + 47, &cqe), 0);
	assert_int_equal(zstate(c, ZSZE, &wp), VFN_NVME_ZS_FULL);
	assert_int_equal(wp, ZSZE + ZCAP);
	assert_int_equal(vfn_dev_zone_open_zrwa(dev, 1, 2 * ZSZE, &cqe), 0);
	assert_int_equal(vfn_dev_zone_open_zrwa(dev, 1, 3 * ZSZE, &cqe), 0);

	/* An extension on zone 4, then Format NVM: Empty, no ZDEV, zeros; ZRWAs free again. */
	memset(ext, 0x5a, sizeof(ext));
	assert_int_equal(vfn_dev_zone_mgmt_send(dev, 1, 2 * ZSZE, VFN_NVME_ZSA_CLOSE, false, NULL), 0);
	assert_int_equal(vfn_dev_zone_set_desc_ext(dev, 1, 4 * ZSZE, ext, sizeof(ext), &cqe), 0);
	assert_int_equal(vfn_dev_zone_report_ext(dev, 1, 4 * ZSZE, 0, true, r, sizeof(r), NULL), 0);
	assert_int_equal(vfn_zone_report_desc(r, sizeof(r), 64, 0, &e)->za, VFN_NVME_ZA_ZDEV);
	assert_memory_equal(e, ext, sizeof(ext));
	/* A second extension (the zone is Closed): refused, and the first stays (QEMU 7.2 would store it). */
	memset(c->buf, 0x11, 64);
	assert_int_equal(status_of(vfn_dev_zone_set_desc_ext(dev, 1, 4 * ZSZE, c->buf, 64, &cqe), &cqe),
			 VFN_NVME_SC_ZONE_INVALID_TRANSITION);
	assert_int_equal(vfn_dev_zone_report_ext(dev, 1, 4 * ZSZE, 0, true, r, sizeof(r), NULL), 0);
	assert_int_equal(vfn_zone_report_desc(r, sizeof(r), 64, 0, &e)->za, VFN_NVME_ZA_ZDEV);
	assert_memory_equal(e, ext, sizeof(ext));
	assert_int_equal(vfn_dev_format(dev, &fa, NULL), 0);
	assert_true(vfn_dev_get_info(dev)->zoned); /* the refresh after the format read the geometry again */
	assert_int_equal(vfn_dev_get_info(dev)->zrwa_size, 16);
	assert_int_equal(vfn_dev_zone_report_ext(dev, 1, 4 * ZSZE, 0, true, r, sizeof(r), NULL), 0);
	assert_int_equal(vfn_zone_report_desc(r, sizeof(r), 64, 0, &e)->za, 0);
	memset(ext, 0, sizeof(ext));
	assert_memory_equal(e, ext, sizeof(ext));
	assert_int_equal(vfn_dev_zone_open_zrwa(dev, 1, 5 * ZSZE, &cqe), 0);
	assert_int_equal(vfn_dev_zone_open_zrwa(dev, 1, 6 * ZSZE, &cqe), 0);
	assert_int_equal(status_of(vfn_dev_zone_open_zrwa(dev, 1, 7 * ZSZE, &cqe), &cqe),
			 VFN_NVME_SC_ZONE_ZRWA_UNAVAILABLE);
}

/*
 * Set Zone Descriptor Extension with a buffer of another size than the
 * namespace's extension (zdes=4: 256 bytes): refused before sending (the
 * controller would read 256 bytes from a 64-byte buffer); the right size
 * is stored whole; zdes=255 (the largest, 16320 bytes) round-trips.
 */
static void test_zde_size_mismatch(void **state)
{
	struct vfn_dev *dev;
	struct vfn_nvme_cqe cqe;
	uint8_t *ext, *r;
	const uint8_t *e;
	size_t rlen = 64 + 64 + 255 * 64;

	(void)state;
	ext = malloc(255 * 64);
	r = malloc(rlen);
	assert_non_null(ext);
	assert_non_null(r);
	assert_int_equal(vfn_dev_open("sim:nsze=1024,lbads=9,zoned=1,zsze=64,zdes=4", NULL, &dev), 0);
	assert_int_equal(vfn_dev_get_info(dev)->zde_size, 256);
	memset(ext, 0x3c, 255 * 64);
	assert_int_equal(vfn_dev_zone_set_desc_ext(dev, 1, 0, ext, 64, &cqe), -EINVAL);
	assert_int_equal(vfn_dev_zone_set_desc_ext(dev, 1, 0, ext, 320, &cqe), -EINVAL);
	assert_int_equal(vfn_dev_zone_set_desc_ext(dev, 1, 0, ext, 256, &cqe), 0);
	assert_int_equal(vfn_dev_zone_report_ext(dev, 1, 0, 0, true, r, 64 + 64 + 256, NULL), 0);
	assert_int_equal(vfn_zone_report_desc(r, 64 + 64 + 256, 256, 0, &e)->za, VFN_NVME_ZA_ZDEV);
	assert_memory_equal(e, ext, 256);
	vfn_dev_close(dev);

	assert_int_equal(vfn_dev_open("sim:nsze=1024,lbads=9,zoned=1,zsze=64,zdes=255", NULL, &dev), 0);
	assert_int_equal(vfn_dev_get_info(dev)->zde_size, 255 * 64);
	assert_int_equal(vfn_dev_zone_set_desc_ext(dev, 1, 64, ext, 64, &cqe), -EINVAL);
	for (size_t i = 0; i < 255 * 64; i++)
		ext[i] = (uint8_t)(i * 31 + 1);
	assert_int_equal(vfn_dev_zone_set_desc_ext(dev, 1, 64, ext, 255 * 64, &cqe), 0);
	assert_int_equal(vfn_dev_zone_report_ext(dev, 1, 64, 0, true, r, rlen, NULL), 0);
	assert_int_equal(vfn_zone_report_desc(r, rlen, 255 * 64, 0, &e)->za, VFN_NVME_ZA_ZDEV);
	assert_memory_equal(e, ext, 255 * 64);
	/* A report buffer too small for one extended descriptor: no descriptor to index. */
	assert_int_equal(vfn_dev_zone_report_ext(dev, 1, 64, 0, true, r, 128, NULL), 0);
	assert_null(vfn_zone_report_desc(r, 128, 255 * 64, 0, &e));
	vfn_dev_close(dev);
	free(ext);
	free(r);
}

/*
 * Zone Append to a namespace other than the handle's goes by that
 * namespace's block size, looked up by Identify: when that Identify fails
 * nothing is sent (before, the handle's block size was used unasked).
 */
static void test_append_other_ns(void **state)
{
	struct vfn_sim_fault f = { .action = VFN_SIM_FAULT_STATUS, .sqid = 0, .opcode = VFN_NVME_ADMIN_IDENTIFY };
	struct vfn_dev *dev = NULL;
	struct vfn_nvme_cqe c;
	uint64_t alba = 1;
	uint8_t *buf;

	(void)state;
	assert_int_equal(vfn_dev_open("sim:nsze=1024,lbads=9,zoned=1,zsze=64,nn=2", NULL, &dev), 0);
	assert_int_equal(vfn_dev_buf_alloc(dev, 4096, (void **)&buf), 4096);
	memset(buf, 0x6b, 512);
	f.status = vfn_sim_status(0, 0x06, false, true);
	assert_int_equal(vfn_sim_fault_add(vfn_dev_sim(dev), &f), 0);
	assert_int_equal(vfn_dev_zone_append(dev, 2, 64, 1, buf, &alba, &c), -EIO);
	assert_int_equal(alba, 1);
	/* Identify answering again: appended at the zone's start. */
	assert_int_equal(vfn_dev_zone_append(dev, 2, 64, 1, buf, &alba, &c), 0);
	assert_int_equal(alba, 64);
	vfn_dev_buf_free(dev, buf, 4096);
	vfn_dev_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_info, setup, teardown),
		cmocka_unit_test(test_not_zoned),
		cmocka_unit_test(test_append_other_ns),
		cmocka_unit_test_setup_teardown(test_write_pointer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transitions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iocs_profile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_info_bad_lbads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sanitize, setup, teardown),
		cmocka_unit_test(test_mor_under_mar),
		cmocka_unit_test_setup_teardown(test_ext_zrwa_absent, setup, teardown),
		cmocka_unit_test(test_report_desc),
		cmocka_unit_test_setup_teardown(test_zrwa_sim, setup, teardown),
		cmocka_unit_test(test_zde_size_mismatch),
		cmocka_unit_test_setup_teardown(test_append_full_zone_zcap_is_zsze, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
