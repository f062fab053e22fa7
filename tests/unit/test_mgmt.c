/* SPDX-License-Identifier: MIT */
/*
 * Controller management (include/vfn/mgmt.h, include/vfn/spec.h) on the
 * simulator: Identify decoded through the spec structures, Get Log Page
 * with its fields and chunked by the transfer limit, features with SEL,
 * and the command dwords each helper builds (read back from the admin
 * command log), with the helpers' refusals.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <vfn/vfn.h>
#include <vfn/mgmt.h>

#include "dev/dev-priv.h"

#define SIM "sim:sn=MGMT1,nsze=2048,lbads=9,nn=2,mdts=2"

struct ctx {
	struct vfn_dev *dev;
	char log[65536];
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	assert_int_equal(vfn_dev_open(SIM, NULL, &c->dev), 0);
	assert_int_equal(vfn_nvme_admin_log_enable(vfn_dev_nvme_ctrl(c->dev), 64), 0);
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

/* The admin command log as text. */
static const char *cmdlog(struct ctx *c)
{
	assert_true(vfn_nvme_admin_log_snprint(vfn_dev_nvme_ctrl(c->dev), c->log, sizeof(c->log)) >= 0);
	return c->log;
}

static int count(const char *s, const char *what)
{
	int n = 0;

	for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
		n++;
	return n;
}

static void assert_logged(struct ctx *c, const char *what)
{
	if (!strstr(cmdlog(c), what))
		fail_msg("the admin log has no \"%s\":\n%s", what, c->log);
}

static void test_identify_structs(void **state)
{
	struct ctx *c = *state;
	struct vfn_identify_args a = { .cns = VFN_NVME_CNS_CTRL };
	struct vfn_nvme_id_ctrl ctrl;
	struct vfn_nvme_id_ns ns;
	struct vfn_nvme_ns_list list;
	uint8_t small[4095];

	assert_int_equal(vfn_dev_identify_args(c->dev, &a, &ctrl, sizeof(ctrl), NULL), 0);
	assert_memory_equal(ctrl.sn, "MGMT1     ", 10);
	assert_int_equal(ctrl.mdts, 2);
	assert_int_equal(vfn_le32_to_cpu(ctrl.nn), 2);
	assert_int_equal(vfn_le16_to_cpu(ctrl.cntlid), vfn_dev_get_info(c->dev)->cntlid);
	assert_int_equal(ctrl.sqes, 0x66);
	assert_int_equal(ctrl.cqes, 0x44);
	assert_string_equal(ctrl.subnqn, "nqn.2026-11.io.vfn:sim:MGMT1");

	a = (struct vfn_identify_args){ .cns = VFN_NVME_CNS_NS, .nsid = 2 };
	assert_int_equal(vfn_dev_identify_args(c->dev, &a, &ns, sizeof(ns), NULL), 0);
	assert_int_equal(vfn_le64_to_cpu(ns.nsze), 2048);
	assert_int_equal(ns.lbaf[vfn_nvme_flbas_index(ns.flbas)].ds, 9);

	a = (struct vfn_identify_args){ .cns = VFN_NVME_CNS_NS_ACTIVE_LIST, .nsid = 1 };
	assert_int_equal(vfn_dev_identify_args(c->dev, &a, &list, sizeof(list), NULL), 0);
	assert_int_equal(vfn_le32_to_cpu(list.nsid[0]), 2);
	assert_int_equal(list.nsid[1], 0);

	/* CNTID and CSI land in CDW10 31:16 and CDW11 31:24. */
	a = (struct vfn_identify_args){
		.cns = VFN_NVME_CNS_CSI_NS, .cntid = 0x1234, .csi = VFN_NVME_CSI_ZNS, .nsid = 1
	};
	vfn_dev_identify_args(c->dev, &a, &ns, sizeof(ns), NULL);
	assert_logged(c, "cdw10 0x12340005 cdw11 0x02000000");

	assert_int_equal(vfn_dev_identify_args(c->dev, &a, small, sizeof(small), NULL), -EINVAL);
	assert_int_equal(vfn_dev_identify_args(c->dev, NULL, &ns, sizeof(ns), NULL), -EINVAL);
}

/* SMART counters move with real I/O, read through the typed helper. */
static void test_smart_log(void **state)
{
	struct ctx *c = *state;
	struct vfn_nvme_smart_log before, after;
	uint8_t buf[8 * 512];

	assert_int_equal(vfn_dev_smart_log(c->dev, 0, &before, NULL), 0);
	assert_int_equal(before.temperature[0] | before.temperature[1] << 8, 308);
	memset(buf, 0x5a, sizeof(buf));
	for (int i = 0; i < 250; i++)
		assert_int_equal(vfn_dev_write(c->dev, 1, (uint64_t)i * 8, 8, buf), 0);
	assert_int_equal(vfn_dev_read(c->dev, 1, 0, 8, buf), 0);
	assert_int_equal(vfn_dev_smart_log(c->dev, 0, &after, NULL), 0);
	assert_int_equal(vfn_nvme_le128_lo(after.host_writes) - vfn_nvme_le128_lo(before.host_writes), 250);
	assert_int_equal(vfn_nvme_le128_lo(after.host_reads) - vfn_nvme_le128_lo(before.host_reads), 1);
	/* 250 * 4 KiB = 2000 units of 512 bytes: 2 data units (thousands, rounded up). */
	assert_int_equal(vfn_nvme_le128_lo(after.data_units_written), 2);
	assert_int_equal(vfn_nvme_le128_hi(after.data_units_written), 0);
	assert_int_equal(vfn_nvme_le128_lo(after.power_cycles), 1);
}

/* A log bigger than the transfer limit comes in several commands with advancing offsets. */
static void test_log_chunked(void **state)
{
	struct ctx *c = *state;
	struct vfn_log_args a = { .lid = VFN_NVME_LOG_SMART, .nsid = 0xffffffff };
	struct vfn_nvme_smart_log whole, pieces;
	size_t saved = c->dev->info.max_xfer;

	assert_int_equal(vfn_dev_log_page(c->dev, &a, &whole, sizeof(whole), NULL), 0);
	c->dev->info.max_xfer = 128;
	memset(&pieces, 0xee, sizeof(pieces));
	assert_int_equal(vfn_dev_log_page(c->dev, &a, &pieces, sizeof(pieces), NULL), 0);
	c->dev->info.max_xfer = saved;
	assert_memory_equal(&whole, &pieces, sizeof(whole));
	/* Four commands of 32 dwords (NUMDL 31) at offsets 0, 128, 256, 384. */
	assert_int_equal(count(cmdlog(c), "cdw10 0x001f0002"), 4);
	assert_logged(c, "cdw12 0x00000180");

	/* The tail of the log from an offset; past its end: refused. */
	a.offset = 480;
	assert_int_equal(vfn_dev_log_page(c->dev, &a, &pieces, 32, NULL), 0);
	assert_memory_equal(&pieces, (uint8_t *)&whole + 480, 32);
	assert_int_equal(vfn_dev_log_page(c->dev, &a, &pieces, 64, NULL), -EINVAL);
	a.offset = 512;
	assert_int_equal(vfn_dev_log_page(c->dev, &a, &pieces, 4, NULL), -EINVAL);
	a.offset = 2;
	assert_int_equal(vfn_dev_log_page(c->dev, &a, &pieces, 4, NULL), -EINVAL);
	a.offset = 0;
	assert_int_equal(vfn_dev_log_page(c->dev, &a, &pieces, 6, NULL), -EINVAL);

	/* LSP, RAE, LSI, UUID index and CSI in their dwords. */
	a = (struct vfn_log_args){
		.lid = VFN_NVME_LOG_ERROR, .lsp = 0x15, .rae = true, .lsi = 0xabcd, .uuid_idx = 3, .csi = 2
	};
	assert_int_equal(vfn_dev_log_page(c->dev, &a, &pieces, 64, NULL), 0);
	assert_logged(c, "cdw10 0x000f9501 cdw11 0xabcd0000 cdw12 0x00000000 cdw13 0x00000000 cdw14 0x02000003");
}

/* A failed command lands in the error log, read through the typed helper. */
static void test_error_log(void **state)
{
	struct ctx *c = *state;
	struct vfn_nvme_error_log e[4];
	struct vfn_nvme_cqe cqe;
	struct vfn_identify_args a = { .cns = VFN_NVME_CNS_NS, .nsid = 77 };
	uint8_t id[4096];

	assert_int_equal(vfn_dev_identify_args(c->dev, &a, id, sizeof(id), &cqe), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&cqe) & 0x7ff, VFN_NVME_SC_INVALID_NS);
	assert_int_equal(vfn_dev_error_log(c->dev, e, 4, NULL), 0);
	assert_int_equal(vfn_le64_to_cpu(e[0].error_count), 1);
	assert_int_equal(vfn_le16_to_cpu(e[0].sqid), 0);
	assert_int_equal(vfn_le16_to_cpu(e[0].status_field) >> 1 & 0x7ff, VFN_NVME_SC_INVALID_NS);
	assert_int_equal(vfn_dev_error_log(c->dev, e, 0, NULL), -EINVAL);
}

static void test_features(void **state)
{
	struct ctx *c = *state;
	struct vfn_feat_args a = { .fid = VFN_NVME_FEAT_TEMP_THRESH, .sel = VFN_NVME_FEAT_SEL_DEFAULT };
	struct vfn_nvme_cqe cqe;
	uint32_t v = 0;

	assert_int_equal(vfn_dev_get_feature(c->dev, &a, &v, NULL, 0, NULL), 0);
	assert_int_equal(v, 343);
	a.cdw11 = 350;
	assert_int_equal(vfn_dev_set_feature(c->dev, &a, NULL, NULL, 0, NULL), 0);
	a.sel = VFN_NVME_FEAT_SEL_CURRENT;
	assert_int_equal(vfn_dev_get_feature(c->dev, &a, &v, NULL, 0, NULL), 0);
	assert_int_equal(v, 350);
	a.sel = VFN_NVME_FEAT_SEL_SUPPORTED;
	assert_int_equal(vfn_dev_get_feature(c->dev, &a, &v, NULL, 0, NULL), 0);
	assert_int_equal(v, VFN_NVME_FEAT_CAP_CHANGEABLE);
	a.sel = 4;
	assert_int_equal(vfn_dev_get_feature(c->dev, &a, &v, NULL, 0, NULL), -EINVAL);
	/* SV: this controller saves nothing. */
	a = (struct vfn_feat_args){
		.fid = VFN_NVME_FEAT_VOLATILE_WC, .sv = true, .cdw11 = 1, .cdw12 = 0xc12, .cdw15 = 0xc15
	};
	assert_int_equal(vfn_dev_set_feature(c->dev, &a, NULL, NULL, 0, &cqe), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&cqe) & 0x7ff, VFN_NVME_SC_FEATURE_NOT_SAVEABLE);
	assert_logged(c, "cdw10 0x80000006 cdw11 0x00000001 cdw12 0x00000c12 cdw13 0x00000000 cdw14 0x00000000 "
			 "cdw15 0x00000c15");
}

/* The dwords of the commands that change the controller, and the helpers' refusals. */
static void test_command_fields(void **state)
{
	struct ctx *c = *state;
	struct vfn_format_args f = { .nsid = 1, .lbaf = 0x12, .mset = true, .pi = 1, .pil = true, .ses = 1 };
	struct vfn_sanitize_args s = { .sanact = VFN_NVME_SANACT_OVERWRITE,
				       .ause = true,
				       .owpass = 3,
				       .oipbp = true,
				       .ndas = true,
				       .ovrpat = 0xdeadbeef };
	uint16_t ctrls[2] = { 1, 7 };
	uint8_t img[4096 * 3 + 8];

	/* Firmware in pieces of 4 KiB (NUMD 1023) at dword offsets 0, 1024, 2048, then the 8-byte tail. */
	memset(img, 0xf1, sizeof(img));
	assert_int_equal(vfn_dev_fw_download(c->dev, img, sizeof(img), 4096, NULL), 0);
	assert_logged(c, "Firmware Image Download (0x11) nsid 0 cdw10 0x000003ff cdw11 0x00000000");
	assert_logged(c, "cdw10 0x000003ff cdw11 0x00000800");
	assert_logged(c, "cdw10 0x00000001 cdw11 0x00000c00");
	assert_int_equal(count(c->log, "Firmware Image Download"), 4);
	assert_int_equal(vfn_dev_fw_download(c->dev, img, 6, 0, NULL), -EINVAL);
	assert_int_equal(vfn_dev_fw_download(c->dev, img, sizeof(img), 6, NULL), -EINVAL);

	vfn_dev_format(c->dev, &f, NULL);
	assert_logged(c, "Format NVM (0x80) nsid 1 cdw10 0x00001332");
	f.lbaf = 64;
	assert_int_equal(vfn_dev_format(c->dev, &f, NULL), -EINVAL);

	vfn_dev_self_test(c->dev, 0xffffffff, VFN_NVME_DST_EXTENDED, NULL);
	assert_logged(c, "nsid 4294967295 cdw10 0x00000002");
	assert_int_equal(vfn_dev_self_test(c->dev, 1, 0x10, NULL), -EINVAL);

	vfn_dev_fw_commit(c->dev, 2, VFN_NVME_FW_COMMIT_CA_REPLACE_ACTIVATE, false, NULL);
	assert_logged(c, "cdw10 0x0000000a");
	assert_int_equal(vfn_dev_fw_commit(c->dev, 8, 0, false, NULL), -EINVAL);

	vfn_dev_ns_attach(c->dev, 2, true, ctrls, 2, NULL);
	assert_logged(c, "nsid 2 cdw10 0x00000001");
	assert_int_equal(vfn_dev_ns_attach(c->dev, 2, false, ctrls, 0, NULL), -EINVAL);
	assert_int_equal(vfn_dev_ns_delete(c->dev, 0, NULL), -EINVAL);

	/* Security: SECP 31:24, SPSP 23:8, NSSF 7:0; CDW11 the length (the sim has no security protocol). */
	vfn_dev_security_recv(c->dev, 1, 0xea, 0x1234, 0x56, img, 512, NULL);
	assert_logged(c, "Security Receive (0x82) nsid 1 cdw10 0xea123456 cdw11 0x00000200");
	vfn_dev_security_send(c->dev, 0, 0x01, 0x0001, 0, img, 64, NULL);
	assert_logged(c, "Security Send (0x81) nsid 0 cdw10 0x01000100 cdw11 0x00000040");
	assert_int_equal(vfn_dev_security_send(c->dev, 0, 1, 1, 0, NULL, 64, NULL), -EINVAL);

	vfn_dev_sanitize(c->dev, &s, NULL);
	assert_logged(c, "cdw10 0x0000033b cdw11 0xdeadbeef");
	s.sanact = 0;
	assert_int_equal(vfn_dev_sanitize(c->dev, &s, NULL), -EINVAL);
}

static void id_ctrl(struct ctx *c, struct vfn_nvme_id_ctrl *id)
{
	struct vfn_identify_args a = { .cns = VFN_NVME_CNS_CTRL };

	assert_int_equal(vfn_dev_identify_args(c->dev, &a, id, sizeof(*id), NULL), 0);
}

static uint16_t status_of(const struct vfn_nvme_cqe *cqe)
{
	return vfn_nvme_cqe_status(cqe) & 0x7ff;
}

/* Download into staging, commit to a slot, activation at the next reset changes FR. */
static void test_sim_firmware(void **state)
{
	struct ctx *c = *state;
	struct vfn_nvme_id_ctrl id;
	struct vfn_nvme_fw_slot_log fw;
	struct vfn_nvme_cqe cqe;
	static uint8_t img[8192 + 512];

	id_ctrl(c, &id);
	assert_memory_equal(id.fr, "1.0     ", 8);
	assert_true(vfn_le16_to_cpu(id.oacs) & VFN_NVME_OACS_FW);
	assert_int_equal(id.frmw, 0x17); /* slot 1 read-only, 3 slots, activation without reset */
	assert_int_equal(id.fwug, 1);

	memset(img, 0xab, sizeof(img));
	memcpy(img, "2.0-test", 8);
	/* 0: pieces by the transfer limit (16 KiB) and FWUG: one command. */
	assert_int_equal(vfn_dev_fw_download(c->dev, img, sizeof(img), 0, NULL), 0);
	assert_int_equal(count(cmdlog(c), "Firmware Image Download (0x11) nsid 0 cdw10 0x0000087f cdw11 0x00000000"),
			 1);
	assert_int_equal(vfn_dev_fw_commit(c->dev, 2, VFN_NVME_FW_COMMIT_CA_REPLACE_ACTIVATE, false, NULL), 0);
	assert_int_equal(vfn_dev_fw_slot_log(c->dev, &fw, NULL), 0);
	assert_int_equal(fw.afi, 0x21); /* slot 1 active, slot 2 at the next reset */
	assert_memory_equal(fw.frs[0], "1.0     ", 8);
	assert_memory_equal(fw.frs[1], "2.0-test", 8);
	id_ctrl(c, &id);
	assert_memory_equal(id.fr, "1.0     ", 8);

	assert_int_equal(vfn_nvme_ctrl_reset(vfn_dev_nvme_ctrl(c->dev)), 0);
	id_ctrl(c, &id);
	assert_memory_equal(id.fr, "2.0-test", 8);
	assert_int_equal(vfn_dev_fw_slot_log(c->dev, &fw, NULL), 0);
	assert_int_equal(fw.afi, 0x02);

	/* Slot 1 is read-only; slot 3 is empty; nothing staged after a commit. */
	assert_int_equal(vfn_dev_fw_download(c->dev, img, 4096, 0, NULL), 0);
	assert_int_equal(vfn_dev_fw_commit(c->dev, 1, VFN_NVME_FW_COMMIT_CA_REPLACE, false, &cqe), -EIO);
	assert_int_equal(status_of(&cqe), VFN_NVME_SC_INVALID_FW_SLOT);
	assert_int_equal(vfn_dev_fw_commit(c->dev, 3, VFN_NVME_FW_COMMIT_CA_ACTIVATE, false, &cqe), -EIO);
	assert_int_equal(status_of(&cqe), VFN_NVME_SC_INVALID_FW_IMAGE);
	/* A piece off the 4 KiB granularity is refused. */
	assert_int_equal(vfn_dev_fw_download(c->dev, img, 4096 + 512, 2048, &cqe), -EIO);
	assert_int_equal(status_of(&cqe), VFN_NVME_SC_INVALID_FIELD);

	/* Activate slot 1 now, without a reset. */
	assert_int_equal(vfn_dev_fw_commit(c->dev, 1, VFN_NVME_FW_COMMIT_CA_ACTIVATE_NOW, false, NULL), 0);
	id_ctrl(c, &id);
	assert_memory_equal(id.fr, "1.0     ", 8);
}

static void read_block(struct ctx *c, uint32_t nsid, uint64_t slba, void *buf, size_t len, int expect, uint16_t status)
{
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_READ, .nsid = vfn_cpu_to_le32(nsid) };
	struct vfn_nvme_cqe cqe;

	sqe.cdw10 = vfn_cpu_to_le32((uint32_t)slba);
	assert_int_equal(vfn_dev_io(c->dev, &sqe, buf, len, &cqe, 0), expect);
	assert_int_equal(status_of(&cqe), status);
}

/* Format to the other LBA format: Identify changes, data is gone. */
static void test_sim_format(void **state)
{
	struct ctx *c = *state;
	struct vfn_identify_args a = { .cns = VFN_NVME_CNS_NS, .nsid = 2 };
	struct vfn_format_args f = { .nsid = 1, .lbaf = 1 };
	struct vfn_nvme_id_ns ns;
	struct vfn_nvme_cqe cqe;
	static uint8_t buf[4096], zero[4096];

	memset(buf, 0x77, sizeof(buf));
	assert_int_equal(vfn_dev_write(c->dev, 2, 0, 8, buf), 0);
	assert_int_equal(vfn_dev_identify_args(c->dev, &a, &ns, sizeof(ns), NULL), 0);
	assert_int_equal(ns.nlbaf, 1);
	assert_int_equal(ns.flbas, 0);
	assert_int_equal(ns.lbaf[1].ds, 12);

	assert_int_equal(vfn_dev_format(c->dev, &f, NULL), 0);
	assert_int_equal(vfn_dev_identify_args(c->dev, &a, &ns, sizeof(ns), NULL), 0);
	assert_int_equal(ns.flbas, 1);
	assert_int_equal(vfn_le64_to_cpu(ns.nsze), 2048 * 512 / 4096);
	/* FNA bit 0: namespace 2 went with namespace 1; one 4 KiB block reads zeros. */
	memset(buf, 0x77, sizeof(buf));
	read_block(c, 2, 0, buf, 4096, 0, 0);
	assert_memory_equal(buf, zero, sizeof(buf));
	read_block(c, 2, 256, buf, 4096, -EIO, VFN_NVME_SC_LBA_RANGE);

	f.pi = 1;
	assert_int_equal(vfn_dev_format(c->dev, &f, &cqe), -EIO);
	assert_int_equal(status_of(&cqe), VFN_NVME_SC_INVALID_FORMAT);
	f = (struct vfn_format_args){ .nsid = 1, .lbaf = 2 };
	assert_int_equal(vfn_dev_format(c->dev, &f, &cqe), -EIO);
	assert_int_equal(status_of(&cqe), VFN_NVME_SC_INVALID_FORMAT);
	f = (struct vfn_format_args){ .nsid = 0xffffffff, .lbaf = 0 };
	assert_int_equal(vfn_dev_format(c->dev, &f, NULL), 0);
	assert_int_equal(vfn_dev_identify_args(c->dev, &a, &ns, sizeof(ns), NULL), 0);
	assert_int_equal(vfn_le64_to_cpu(ns.nsze), 2048);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Self-test progress, its result log, the one-at-a-time rule and abort. */
static void test_sim_self_test(void **state)
{
	struct ctx *c = *state;
	struct vfn_nvme_self_test_log st;
	struct vfn_nvme_cqe cqe;
	int i;

	assert_int_equal(vfn_dev_self_test_log(c->dev, &st, NULL), 0);
	assert_int_equal(st.current_operation, 0);
	assert_int_equal(st.result[0].dsts, 0xf);

	assert_int_equal(vfn_dev_self_test(c->dev, 1, VFN_NVME_DST_SHORT, NULL), 0);
	assert_int_equal(vfn_dev_self_test_log(c->dev, &st, NULL), 0);
	assert_int_equal(st.current_operation, VFN_NVME_DST_SHORT);
	assert_true(st.completion < 100);
	assert_int_equal(vfn_dev_self_test(c->dev, 1, VFN_NVME_DST_EXTENDED, &cqe), -EIO);
	assert_int_equal(status_of(&cqe), VFN_NVME_SC_SELF_TEST_IN_PROGRESS);
	for (i = 0; i < 100 && st.current_operation; i++) {
		sleep_ms(20);
		assert_int_equal(vfn_dev_self_test_log(c->dev, &st, NULL), 0);
	}
	assert_int_equal(st.current_operation, 0);
	assert_int_equal(st.result[0].dsts, VFN_NVME_DST_SHORT << 4 | VFN_NVME_DST_RES_OK);
	assert_int_equal(st.result[0].vdi & 1, 1);
	assert_int_equal(vfn_le32_to_cpu(st.result[0].nsid), 1);

	assert_int_equal(vfn_dev_self_test(c->dev, 0, VFN_NVME_DST_EXTENDED, NULL), 0);
	assert_int_equal(vfn_dev_self_test(c->dev, 0, VFN_NVME_DST_ABORT, NULL), 0);
	assert_int_equal(vfn_dev_self_test_log(c->dev, &st, NULL), 0);
	assert_int_equal(st.current_operation, 0);
	assert_int_equal(st.result[0].dsts, VFN_NVME_DST_EXTENDED << 4 | VFN_NVME_DST_RES_ABORTED);
	assert_int_equal(st.result[0].vdi & 1, 0);
	assert_int_equal(st.result[1].dsts, VFN_NVME_DST_SHORT << 4 | VFN_NVME_DST_RES_OK);
	assert_int_equal(st.result[2].dsts, 0xf);
}

/* Sanitize: progress in its log, commands held off, data erased at the end. */
static void test_sim_sanitize(void **state)
{
	struct ctx *c = *state;
	struct vfn_sanitize_args s = { .sanact = VFN_NVME_SANACT_BLOCK_ERASE };
	struct vfn_nvme_sanitize_log log;
	struct vfn_nvme_id_ctrl id;
	struct vfn_nvme_cqe cqe;
	static uint8_t buf[512], zero[512];
	struct vfn_format_args f = { .nsid = 1 };
	int i;

	id_ctrl(c, &id);
	assert_int_equal(vfn_le32_to_cpu(id.sanicap) & 0x7, 0x7);
	assert_int_equal(vfn_dev_sanitize_log(c->dev, &log, NULL), 0);
	assert_int_equal(vfn_le16_to_cpu(log.sstat) & 0x7, VFN_NVME_SSTAT_NEVER);

	memset(buf, 0x99, sizeof(buf));
	assert_int_equal(vfn_dev_write(c->dev, 1, 5, 1, buf), 0);
	assert_int_equal(vfn_dev_sanitize(c->dev, &s, NULL), 0);
	assert_int_equal(vfn_dev_sanitize_log(c->dev, &log, NULL), 0);
	assert_int_equal(vfn_le16_to_cpu(log.sstat) & 0x7, VFN_NVME_SSTAT_IN_PROGRESS);
	assert_int_equal(vfn_le32_to_cpu(log.scdw10), VFN_NVME_SANACT_BLOCK_ERASE);
	assert_true(vfn_le16_to_cpu(log.sprog) < 0xffff);
	read_block(c, 1, 5, buf, 512, -EIO, VFN_NVME_SC_SANITIZE_IN_PROGRESS);
	assert_int_equal(vfn_dev_format(c->dev, &f, &cqe), -EIO);
	assert_int_equal(status_of(&cqe), VFN_NVME_SC_SANITIZE_IN_PROGRESS);
	assert_int_equal(vfn_dev_sanitize(c->dev, &s, &cqe), -EIO);
	assert_int_equal(status_of(&cqe), VFN_NVME_SC_SANITIZE_IN_PROGRESS);

	for (i = 0; i < 100 && (vfn_le16_to_cpu(log.sstat) & 0x7) == VFN_NVME_SSTAT_IN_PROGRESS; i++) {
		sleep_ms(20);
		assert_int_equal(vfn_dev_sanitize_log(c->dev, &log, NULL), 0);
	}
	assert_int_equal(vfn_le16_to_cpu(log.sstat) & 0x7, VFN_NVME_SSTAT_COMPLETED);
	assert_int_equal(vfn_le16_to_cpu(log.sprog), 0xffff);
	read_block(c, 1, 5, buf, 512, 0, 0);
	assert_memory_equal(buf, zero, sizeof(buf));
}

static uint64_t le128(const uint8_t *p)
{
	assert_int_equal(vfn_nvme_le128_hi(p), 0);
	return vfn_nvme_le128_lo(p);
}

/* Delete, create within the capacity, attach, detach: lists, capacity, I/O and the changed list follow. */
static void test_sim_namespaces(void **state)
{
	struct ctx *c = *state;
	struct vfn_identify_args a = { .cns = VFN_NVME_CNS_NS, .nsid = 2 };
	struct vfn_nvme_id_ctrl id;
	struct vfn_nvme_id_ns ns;
	struct vfn_nvme_ns_list list;
	struct vfn_nvme_ctrl_list cl;
	struct vfn_nvme_cqe cqe;
	uint16_t me = 1, other = 2;
	uint32_t nsids[4], nsid = 0;
	static uint8_t buf[512];

	id_ctrl(c, &id);
	assert_true(vfn_le16_to_cpu(id.oacs) & VFN_NVME_OACS_NS_MGMT);
	assert_int_equal(le128(id.tnvmcap), 2 * 2048 * 512);
	assert_int_equal(le128(id.unvmcap), 0);

	assert_int_equal(vfn_dev_ns_delete(c->dev, 2, NULL), 0);
	assert_int_equal(vfn_dev_ns_list(c->dev, 0, nsids, 4), 1);
	assert_int_equal(vfn_dev_identify_args(c->dev, &a, &ns, sizeof(ns), NULL), 0);
	assert_int_equal(ns.nsze, 0); /* not allocated: all zeros */
	id_ctrl(c, &id);
	assert_int_equal(le128(id.unvmcap), 2048 * 512);
	/* With RAE the list stays; without, reading it clears it. */
	struct vfn_log_args rae = { .lid = VFN_NVME_LOG_CHANGED_NS, .rae = true };
	assert_int_equal(vfn_dev_log_page(c->dev, &rae, &list, sizeof(list), NULL), 0);
	assert_int_equal(vfn_le32_to_cpu(list.nsid[0]), 2);
	assert_int_equal(vfn_dev_changed_ns_log(c->dev, &list, NULL), 0);
	assert_int_equal(vfn_le32_to_cpu(list.nsid[0]), 2);
	assert_int_equal(list.nsid[1], 0);
	assert_int_equal(vfn_dev_changed_ns_log(c->dev, &list, NULL), 0);
	assert_int_equal(list.nsid[0], 0); /* read: cleared */

	/* More than is free: refused; half of it: namespace 2 again, allocated, not attached. */
	memset(&ns, 0, sizeof(ns));
	ns.nsze = ns.ncap = vfn_cpu_to_le64(4096);
	assert_int_equal(vfn_dev_ns_create(c->dev, &ns, VFN_NVME_CSI_NVM, &nsid, &cqe), -EIO);
	assert_int_equal(status_of(&cqe), VFN_NVME_SC_INVALID_FIELD);
	ns.nsze = ns.ncap = vfn_cpu_to_le64(1024);
	ns.ncap = vfn_cpu_to_le64(512);
	assert_int_equal(vfn_dev_ns_create(c->dev, &ns, VFN_NVME_CSI_NVM, &nsid, &cqe), -EIO);
	assert_int_equal(status_of(&cqe), VFN_NVME_SC_THIN_PROV_NOT_SUPP);
	ns.ncap = ns.nsze;
	assert_int_equal(vfn_dev_ns_create(c->dev, &ns, VFN_NVME_CSI_NVM, &nsid, NULL), 0);
	assert_int_equal(nsid, 2);
	id_ctrl(c, &id);
	assert_int_equal(le128(id.unvmcap), 1024 * 512);
	assert_int_equal(vfn_dev_ns_create(c->dev, &ns, VFN_NVME_CSI_NVM, &nsid, &cqe), -EIO);
	assert_int_equal(status_of(&cqe), VFN_NVME_SC_NS_ID_UNAVAILABLE);
	a.cns = VFN_NVME_CNS_ALLOCATED_NS_LIST;
	a.nsid = 0;
	assert_int_equal(vfn_dev_identify_args(c->dev, &a, &list, sizeof(list), NULL), 0);
	assert_int_equal(vfn_le32_to_cpu(list.nsid[1]), 2);
	assert_int_equal(vfn_dev_ns_list(c->dev, 0, nsids, 4), 1);
	read_block(c, 2, 0, buf, 512, -EIO, VFN_NVME_SC_INVALID_NS);

	/* Attach to this controller (CNTLID 1): active, 1024 blocks. */
	assert_int_equal(vfn_dev_ns_attach(c->dev, 2, false, &other, 1, &cqe), -EIO);
	assert_int_equal(status_of(&cqe), VFN_NVME_SC_CTRL_LIST_INVALID);
	assert_int_equal(vfn_dev_ns_attach(c->dev, 2, false, &me, 1, NULL), 0);
	assert_int_equal(vfn_dev_ns_attach(c->dev, 2, false, &me, 1, &cqe), -EIO);
	assert_int_equal(status_of(&cqe), VFN_NVME_SC_NS_ALREADY_ATTACHED);
	assert_int_equal(vfn_dev_ns_list(c->dev, 0, nsids, 4), 2);
	a = (struct vfn_identify_args){ .cns = VFN_NVME_CNS_NS, .nsid = 2 };
	assert_int_equal(vfn_dev_identify_args(c->dev, &a, &ns, sizeof(ns), NULL), 0);
	assert_int_equal(vfn_le64_to_cpu(ns.nsze), 1024);
	assert_int_equal(le128(ns.nvmcap), 1024 * 512);
	a.cns = VFN_NVME_CNS_NS_CTRL_LIST;
	assert_int_equal(vfn_dev_identify_args(c->dev, &a, &cl, sizeof(cl), NULL), 0);
	assert_int_equal(vfn_le16_to_cpu(cl.num), 1);
	assert_int_equal(vfn_le16_to_cpu(cl.identifier[0]), 1);
	read_block(c, 2, 1023, buf, 512, 0, 0);
	read_block(c, 2, 1024, buf, 512, -EIO, VFN_NVME_SC_LBA_RANGE);

	/* Detach: inactive again, still allocated. */
	assert_int_equal(vfn_dev_ns_attach(c->dev, 2, true, &me, 1, NULL), 0);
	assert_int_equal(vfn_dev_ns_attach(c->dev, 2, true, &me, 1, &cqe), -EIO);
	assert_int_equal(status_of(&cqe), VFN_NVME_SC_NS_NOT_ATTACHED);
	assert_int_equal(vfn_dev_ns_list(c->dev, 0, nsids, 4), 1);
	assert_int_equal(vfn_dev_changed_ns_log(c->dev, &list, NULL), 0);
	assert_int_equal(vfn_le32_to_cpu(list.nsid[0]), 2);
	assert_int_equal(vfn_dev_ns_delete(c->dev, 0xffffffff, NULL), 0);
	assert_int_equal(vfn_dev_ns_list(c->dev, 0, nsids, 4), 0);
	id_ctrl(c, &id);
	assert_int_equal(le128(id.unvmcap), 2 * 2048 * 512);
}

/* Commands Supported and Effects: what the simulator does, and what changes namespaces. */
static void test_sim_effects(void **state)
{
	struct ctx *c = *state;
	struct vfn_nvme_cmd_effects_log *l = malloc(sizeof(*l));
	struct vfn_nvme_id_ctrl id;

	assert_non_null(l);
	id_ctrl(c, &id);
	assert_true(id.lpa & 0x2);
	assert_int_equal(vfn_dev_cmd_effects_log(c->dev, l, NULL), 0);
	assert_int_equal(vfn_le32_to_cpu(l->acs[VFN_NVME_ADMIN_IDENTIFY]), VFN_NVME_CMD_EFFECTS_CSUPP);
	assert_int_equal(vfn_le32_to_cpu(l->acs[VFN_NVME_ADMIN_FORMAT_NVM]), 0xf);
	assert_int_equal(vfn_le32_to_cpu(l->acs[VFN_NVME_ADMIN_FW_COMMIT]), 0x11);
	assert_int_equal(l->acs[VFN_NVME_ADMIN_SECURITY_SEND], 0);
	assert_int_equal(vfn_le32_to_cpu(l->iocs[VFN_NVME_CMD_WRITE]), 0x3);
	assert_int_equal(vfn_le32_to_cpu(l->iocs[VFN_NVME_CMD_READ]), 0x1);
	assert_int_equal(l->iocs[VFN_NVME_CMD_COMPARE], 0);
	free(l);
}

/* Telemetry: the header, then the data areas up to the one asked for, in pieces of the transfer limit. */
static void test_sim_telemetry(void **state)
{
	struct ctx *c = *state;
	const struct vfn_nvme_telemetry_log *h;
	size_t len = 0, saved = c->dev->info.max_xfer;
	uint8_t *log = NULL;

	assert_int_equal(vfn_dev_telemetry_log(c->dev, true, true, 3, (void **)&log, &len, NULL), 0);
	assert_int_equal(len, 7 * 512);
	h = (const void *)log;
	assert_int_equal(h->lpi, VFN_NVME_LOG_TELEMETRY_HOST);
	assert_int_equal(vfn_le16_to_cpu(h->dalb1), 2);
	assert_int_equal(vfn_le16_to_cpu(h->dalb3), 6);
	assert_int_equal(h->hostdgn, 1);
	for (unsigned int b = 1; b < 7; b++)
		assert_int_equal(log[b * 512 + 17], 0x70 | b);
	free(log);
	/* Not created again: the same generation; after the header, 3 KiB in three 1 KiB commands. */
	c->dev->info.max_xfer = 1024;
	assert_int_equal(vfn_dev_telemetry_log(c->dev, true, false, 3, (void **)&log, &len, NULL), 0);
	c->dev->info.max_xfer = saved;
	assert_int_equal(len, 7 * 512);
	assert_int_equal(((const struct vfn_nvme_telemetry_log *)(const void *)log)->hostdgn, 1);
	assert_int_equal(log[6 * 512 + 511], 0x76);
	free(log);
	assert_logged(c, "cdw10 0x007f0107"); /* the first header: LSP 1, create */
	assert_int_equal(count(c->log, "cdw10 0x007f0007"), 1);
	assert_int_equal(count(c->log, "cdw10 0x00ff0007"), 3);
	assert_logged(c, "cdw10 0x00ff0007 cdw11 0x00000000 cdw12 0x00000a00");
	/* Data area 1: the header and blocks 1-2. */
	assert_int_equal(vfn_dev_telemetry_log(c->dev, true, false, 1, (void **)&log, &len, NULL), 0);
	assert_int_equal(len, 3 * 512);
	free(log);
	assert_int_equal(vfn_dev_telemetry_log(c->dev, false, false, 2, (void **)&log, &len, NULL), 0);
	assert_int_equal(len, 5 * 512);
	assert_int_equal(log[0], VFN_NVME_LOG_TELEMETRY_CTRL);
	assert_int_equal(log[4 * 512], 0x84);
	free(log);
	assert_int_equal(vfn_dev_telemetry_log(c->dev, true, false, 5, (void **)&log, &len, NULL), -EINVAL);
}

/* A controller whose telemetry header lies: data area last blocks that go
 * down (DALB3 < DALB1), or a DALB4 of 2 TiB, are refused before a buffer
 * is allocated for them (was: malloc(2 TiB) and 4 billion reads asked). */
static const struct vfn_dev_ops *tel_real;
static uint16_t tel_dalb1, tel_dalb3;
static uint32_t tel_dalb4;

static int tel_admin(struct vfn_dev *dev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len,
		     struct vfn_nvme_cqe *cqe, uint32_t timeout_ms)
{
	int ret = tel_real->admin(dev, sqe, buf, len, cqe, timeout_ms);

	if (!ret && sqe->opcode == VFN_NVME_ADMIN_GET_LOG_PAGE && !sqe->cdw12 && len >= 512) {
		struct vfn_nvme_telemetry_log *h = buf;

		h->dalb1 = vfn_cpu_to_le16(tel_dalb1);
		h->dalb3 = vfn_cpu_to_le16(tel_dalb3);
		h->dalb4 = vfn_cpu_to_le32(tel_dalb4);
	}
	return ret;
}

static void test_telemetry_garbage_header(void **state)
{
	struct ctx *c = *state;
	struct vfn_dev_ops ops;
	size_t len = 0;
	void *log = NULL;

	tel_real = c->dev->ops;
	ops = *tel_real;
	ops.admin = tel_admin;
	c->dev->ops = &ops;
	tel_dalb1 = 6;
	tel_dalb3 = 2;
	tel_dalb4 = 6;
	assert_int_equal(vfn_dev_telemetry_log(c->dev, true, false, 3, &log, &len, NULL), -EPROTO);
	assert_null(log);
	tel_dalb1 = 2;
	tel_dalb3 = 6;
	tel_dalb4 = 0xffffffffu;
	assert_int_equal(vfn_dev_telemetry_log(c->dev, true, false, 4, &log, &len, NULL), -EPROTO);
	assert_null(log);
	/* Sane values still read. */
	tel_dalb4 = 6;
	assert_int_equal(vfn_dev_telemetry_log(c->dev, true, false, 3, &log, &len, NULL), 0);
	assert_int_equal(len, 7 * 512);
	free(log);
	c->dev->ops = tel_real;
}

/* ---- the kernel path's rescan, on a handle with a stand-in backend ---- */

static int stub_status; /* what the stand-in admin op answers: 0 or an NVMe status */
static uint8_t stub_opcode;

static int stub_admin(struct vfn_dev *dev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len,
		      struct vfn_nvme_cqe *cqe, uint32_t timeout_ms)
{
	(void)dev;
	(void)buf;
	(void)len;
	(void)timeout_ms;
	stub_opcode = sqe->opcode;
	cqe->sfp = vfn_cpu_to_le16((uint16_t)(stub_status << 1));
	return stub_status ? -EIO : 0;
}

static char rescan_log[1024];

static void capture(enum vfn_log_level level, const char *msg, void *arg)
{
	size_t n = strlen(rescan_log);

	(void)level;
	(void)arg;
	snprintf(rescan_log + n, sizeof(rescan_log) - n, "%s\n", msg);
}

/*
 * After format, create/delete, attach/detach and a committed firmware image,
 * a kernel controller node gets NVME_IOCTL_RESCAN (here on /dev/null, which
 * refuses it: the attempt is logged, the command still succeeds); a
 * namespace node, a failed command, or a read-only command gets none.
 */
static void test_kernel_rescan(void **state)
{
	static const struct vfn_dev_ops ops = { .admin = stub_admin };
	struct vfn_kdev kdev = { .kind = VFN_KDEV_CTRL };
	struct vfn_dev dev = { .ops = &ops, .kdev = &kdev, .timeout_ms = 1000 };
	struct vfn_format_args f = { .nsid = 1 };
	struct vfn_nvme_id_ns ns = { 0 };
	uint16_t me = 1;
	uint32_t nsid = 0;
	struct vfn_nvme_smart_log smart;
	const char *msg = "rescan after a namespace change failed";

	(void)state;
	kdev.fd = open("/dev/null", O_RDWR);
	assert_true(kdev.fd >= 0);
	strcpy(dev.info.name, "/dev/nvme9");
	vfn_log_set_fn(capture, NULL);
	vfn_log_set_level(VFN_LOG_DEBUG);

	assert_int_equal(vfn_dev_format(&dev, &f, NULL), 0);
	assert_int_equal(stub_opcode, VFN_NVME_ADMIN_FORMAT_NVM);
	assert_non_null(strstr(rescan_log, msg));
	rescan_log[0] = '\0';
	assert_int_equal(vfn_dev_ns_create(&dev, &ns, 0, &nsid, NULL), 0);
	assert_int_equal(vfn_dev_ns_attach(&dev, 1, false, &me, 1, NULL), 0);
	assert_int_equal(vfn_dev_ns_delete(&dev, 1, NULL), 0);
	assert_int_equal(vfn_dev_fw_commit(&dev, 2, 1, false, NULL), 0);
	assert_int_equal(count(rescan_log, msg), 4);

	rescan_log[0] = '\0';
	assert_int_equal(vfn_dev_smart_log(&dev, 0, &smart, NULL), 0);
	stub_status = VFN_NVME_SC_INVALID_FORMAT;
	assert_int_equal(vfn_dev_format(&dev, &f, NULL), -EIO);
	stub_status = VFN_NVME_SC_FW_NEEDS_CONV_RESET; /* committed: activates at the reset */
	assert_int_equal(vfn_dev_fw_commit(&dev, 2, 1, false, NULL), -EIO);
	assert_int_equal(count(rescan_log, msg), 1);
	stub_status = 0;
	kdev.kind = VFN_KDEV_NS_CHAR;
	rescan_log[0] = '\0';
	assert_int_equal(vfn_dev_format(&dev, &f, NULL), 0);
	assert_null(strstr(rescan_log, msg));

	vfn_log_set_level(VFN_LOG_NONE);
	vfn_log_set_fn(NULL, NULL);
	close(kdev.fd);
}

/* Persistent Event Log: establish, read in pieces within the context, release; the events decoded. */
static void test_sim_persistent_event_log(void **state)
{
	struct ctx *c = *state;
	const struct vfn_nvme_pel_hdr *h;
	const struct vfn_nvme_pel_event *e;
	size_t len = 0, off, saved = c->dev->info.max_xfer;
	uint8_t *log = NULL;

	c->dev->info.max_xfer = 32;
	assert_int_equal(vfn_dev_persistent_event_log(c->dev, (void **)&log, &len, NULL), 0);
	c->dev->info.max_xfer = saved;
	assert_int_equal(len, 512 + 2 * (24 + 8));
	h = (const void *)log;
	assert_int_equal(h->lid, VFN_NVME_LOG_PERSISTENT_EVENT);
	assert_int_equal(vfn_le32_to_cpu(h->tnev), 2);
	assert_int_equal(vfn_le64_to_cpu(h->tll), 576);
	assert_int_equal(vfn_le16_to_cpu(h->gen), 1);
	assert_int_equal(h->seb[0], 0x18);
	/* One command of 8 dwords with LSP 01h (establish), the other 15 of the header and the 64 event bytes
	 * in reads of 8 dwords with LSP 0, one 8-dword release with LSP 02h. */
	assert_int_equal(count(cmdlog(c), "cdw10 0x0007010d"), 1);
	assert_int_equal(count(c->log, "cdw10 0x0007000d"), 15 + 2);
	assert_logged(c, "cdw10 0x0007000d cdw11 0x00000000 cdw12 0x00000220");
	assert_int_equal(count(c->log, "cdw10 0x0007020d"), 1);

	off = sizeof(*h);
	e = vfn_nvme_pel_next(log, len, &off);
	assert_non_null(e);
	assert_int_equal(e->etype, VFN_NVME_PEL_POWER_ON_RESET);
	assert_string_equal(vfn_nvme_pel_type_str(e->etype), "Power-on or Reset");
	assert_int_equal(vfn_le64_to_cpu(e->ets), 1000);
	assert_int_equal(vfn_le16_to_cpu(e->el), 8);
	assert_memory_equal((const uint8_t *)e + e->ehl + 3, "1.0     ", 8);
	e = vfn_nvme_pel_next(log, len, &off);
	assert_non_null(e);
	assert_string_equal(vfn_nvme_pel_type_str(e->etype), "Timestamp Change");
	assert_int_equal(off, 576);
	assert_null(vfn_nvme_pel_next(log, len, &off));
	/* An event running past the buffer is not returned. */
	off = sizeof(*h);
	assert_null(vfn_nvme_pel_next(log, 512 + 30, &off));
	assert_int_equal(off, 512);
	free(log);

	/* A second context: GEN counts it. */
	assert_int_equal(vfn_dev_persistent_event_log(c->dev, (void **)&log, &len, NULL), 0);
	assert_int_equal(vfn_le16_to_cpu(((const struct vfn_nvme_pel_hdr *)(const void *)log)->gen), 2);
	free(log);
	assert_int_equal(vfn_dev_persistent_event_log(c->dev, NULL, &len, NULL), -EINVAL);
}

/* ANA log: one optimized group with the attached namespaces; RGO leaves the ids out. */
static void test_sim_ana_log(void **state)
{
	struct ctx *c = *state;
	uint8_t buf[256];
	const struct vfn_nvme_ana_log *h = (const void *)buf;
	const struct vfn_nvme_ana_group *g;
	vfn_le32 ids[2];
	size_t off = sizeof(*h);
	uint16_t me = vfn_dev_get_info(c->dev)->cntlid;

	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(vfn_dev_ana_log(c->dev, false, buf, sizeof(buf), NULL), 0);
	assert_int_equal(vfn_le64_to_cpu(h->chgcnt), 1);
	assert_int_equal(vfn_le16_to_cpu(h->ngrps), 1);
	g = vfn_nvme_ana_next(buf, sizeof(buf), false, &off);
	assert_non_null(g);
	assert_int_equal(vfn_le32_to_cpu(g->grpid), 1);
	assert_int_equal(vfn_le32_to_cpu(g->nnsids), 2);
	assert_int_equal(g->state, VFN_NVME_ANA_OPTIMIZED);
	assert_string_equal(vfn_nvme_ana_state_str(g->state), "optimized");
	memcpy(ids, g + 1, sizeof(ids));
	assert_int_equal(vfn_le32_to_cpu(ids[0]), 1);
	assert_int_equal(vfn_le32_to_cpu(ids[1]), 2);
	assert_int_equal(off, 16 + 32 + 8);
	assert_logged(c, "cdw10 0x003f000c");

	/* Namespace 2 detached: one id left. */
	assert_int_equal(vfn_dev_ns_attach(c->dev, 2, true, &me, 1, NULL), 0);
	assert_int_equal(vfn_dev_ana_log(c->dev, false, buf, sizeof(buf), NULL), 0);
	off = sizeof(*h);
	g = vfn_nvme_ana_next(buf, sizeof(buf), false, &off);
	assert_int_equal(vfn_le32_to_cpu(g->nnsids), 1);

	assert_int_equal(vfn_dev_ana_log(c->dev, true, buf, 48, NULL), 0);
	assert_logged(c, "cdw10 0x000b010c");
	off = sizeof(*h);
	g = vfn_nvme_ana_next(buf, 48, true, &off);
	assert_non_null(g);
	assert_int_equal(vfn_le32_to_cpu(g->nnsids), 0);
	assert_int_equal(vfn_dev_ana_log(c->dev, false, buf, 8, NULL), -EINVAL);
}

/*
 * ANA group descriptors start at any 4-byte offset (16 + 32 * n + 4 * NNSIDS):
 * a group after one with an odd NNSIDS is not 8-byte aligned, so the group
 * struct must not ask for 8 (UBSan: member access within misaligned address).
 * Garbage groups (NNSIDS running past the buffer) end the walk.
 */
static void test_ana_next_unaligned(void **state)
{
	uint64_t mem[16]; /* 128 bytes, 8-byte aligned */
	uint8_t *buf = (uint8_t *)mem;
	struct vfn_nvme_ana_log h = { .chgcnt = vfn_cpu_to_le64(9), .ngrps = vfn_cpu_to_le16(3) };
	struct vfn_nvme_ana_group g;
	const struct vfn_nvme_ana_group *r;
	vfn_le32 id = vfn_cpu_to_le32(7);
	size_t off = sizeof(h);

	(void)state;
	assert_true(_Alignof(struct vfn_nvme_ana_group) <= 4);
	assert_true(_Alignof(struct vfn_nvme_ana_log) <= 4);
	memset(mem, 0, sizeof(mem));
	memcpy(buf, &h, sizeof(h));
	memset(&g, 0, sizeof(g));
	g.grpid = vfn_cpu_to_le32(1);
	g.nnsids = vfn_cpu_to_le32(1);
	g.state = VFN_NVME_ANA_OPTIMIZED;
	memcpy(buf + 16, &g, sizeof(g));
	memcpy(buf + 48, &id, 4);
	g.grpid = vfn_cpu_to_le32(2);
	g.nnsids = vfn_cpu_to_le32(0);
	g.chgcnt = vfn_cpu_to_le64(0x1122334455667788ull);
	g.state = VFN_NVME_ANA_INACCESSIBLE;
	memcpy(buf + 52, &g, sizeof(g)); /* 52: 4 mod 8 */
	g.grpid = vfn_cpu_to_le32(3);
	g.nnsids = vfn_cpu_to_le32(0xffffffffu); /* garbage: 16 GiB of ids */
	memcpy(buf + 84, &g, sizeof(g));

	r = vfn_nvme_ana_next(buf, 116, false, &off);
	assert_non_null(r);
	assert_int_equal(vfn_le32_to_cpu(r->grpid), 1);
	assert_int_equal(off, 52);
	r = vfn_nvme_ana_next(buf, 116, false, &off);
	assert_non_null(r);
	assert_ptr_equal(r, buf + 52);
	assert_int_equal(vfn_le32_to_cpu(r->grpid), 2);
	assert_true(vfn_le64_to_cpu(r->chgcnt) == 0x1122334455667788ull);
	assert_string_equal(vfn_nvme_ana_state_str(r->state), "inaccessible");
	assert_int_equal(off, 84);
	assert_null(vfn_nvme_ana_next(buf, 116, false, &off));
	assert_int_equal(off, 84);
	/* With RGO the ids are not there: the same group is 32 bytes. */
	r = vfn_nvme_ana_next(buf, 116, true, &off);
	assert_non_null(r);
	assert_int_equal(off, 116);
	assert_null(vfn_nvme_ana_next(buf, 116, true, &off));
}

/* Persistent event iterator over garbage: EHL 0 (a header shorter than its own fields) ends the walk. */
static void test_pel_next_garbage(void **state)
{
	uint8_t *log = calloc(1, 512 + 64);
	struct vfn_nvme_pel_event e;
	size_t off = 512;

	(void)state;
	assert_non_null(log);
	memset(&e, 0, sizeof(e));
	e.ehl = 0;
	memcpy(log + 512, &e, sizeof(e));
	assert_null(vfn_nvme_pel_next(log, 512 + 64, &off));
	assert_int_equal(off, 512);
	e.ehl = 21;
	e.el = vfn_cpu_to_le16(0xffff);
	memcpy(log + 512, &e, sizeof(e));
	assert_null(vfn_nvme_pel_next(log, 512 + 64, &off));
	e.el = vfn_cpu_to_le16(40);
	memcpy(log + 512, &e, sizeof(e));
	assert_non_null(vfn_nvme_pel_next(log, 512 + 64, &off));
	assert_int_equal(off, 576);
	assert_null(vfn_nvme_pel_next(log, 512 + 64, &off));
	free(log);
}

/* vfn_dev_from_ctrl(): the mgmt helpers on a controller the caller opened, which stays open after. */
static void test_dev_from_ctrl(void **state)
{
	struct vfn_nvme_ctrl *ctrl = NULL;
	struct vfn_dev *dev = NULL;
	struct vfn_nvme_fw_slot_log fw;
	struct vfn_nvme_smart_log smart;
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_READ };
	uint8_t *log = NULL, *id;
	size_t len = 0;
	uint8_t buf[512];

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open("sim:sn=BORROW1,nn=2,nsze=1024,mdts=1", NULL, &ctrl), 0);
	assert_int_equal(vfn_dev_from_ctrl(NULL, &dev), -EINVAL);
	assert_int_equal(vfn_dev_from_ctrl(ctrl, &dev), 0);
	assert_ptr_equal(vfn_dev_nvme_ctrl(dev), ctrl);
	assert_int_equal(vfn_dev_get_info(dev)->backend, VFN_DEV_SIM);
	assert_string_equal(vfn_dev_get_info(dev)->sn, "BORROW1");
	assert_int_equal(vfn_dev_get_info(dev)->nsid, 1);
	assert_int_equal(vfn_dev_get_info(dev)->nsze, 1024);
	assert_int_equal(vfn_dev_get_info(dev)->max_xfer, 8192); /* MDTS 1: 2 pages */
	assert_int_equal(vfn_dev_get_info(dev)->max_queues, 0);

	assert_int_equal(vfn_dev_fw_slot_log(dev, &fw, NULL), 0);
	assert_int_equal(fw.afi & 7, 1);
	assert_memory_equal(fw.frs[0], "1.0     ", 8);
	assert_int_equal(vfn_dev_smart_log(dev, 0xffffffff, &smart, NULL), 0);
	assert_true((smart.temperature[0] | smart.temperature[1] << 8) > 273);
	assert_int_equal(vfn_dev_persistent_event_log(dev, (void **)&log, &len, NULL), 0);
	assert_int_equal(len, 576);
	free(log);
	/* Admin only: no I/O through the borrowed handle. */
	assert_int_equal(vfn_dev_io(dev, &sqe, buf, sizeof(buf), NULL, 0), -ENOTSUP);
	{
		struct vfn_dev_queue *q = NULL;

		/* Queues too, as documented (not -EINVAL for a depth out of 1..0). */
		assert_int_equal(vfn_dev_queue_create(dev, 1, &q), -ENOTSUP);
		assert_null(q);
	}
	vfn_dev_close(dev);

	/* The controller is the caller's still: Identify on it works. */
	id = calloc(1, 4096);
	assert_non_null(id);
	assert_int_equal(vfn_nvme_identify(ctrl, VFN_NVME_CNS_CTRL, 0, id, NULL), 0);
	assert_memory_equal(((const struct vfn_nvme_id_ctrl *)(const void *)id)->sn, "BORROW1", 7);
	free(id);
	vfn_nvme_ctrl_close(ctrl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identify_structs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smart_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_chunked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_firmware, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_self_test, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_sanitize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_namespaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_effects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_telemetry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_telemetry_garbage_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_persistent_event_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_ana_log, setup, teardown),
		cmocka_unit_test(test_dev_from_ctrl),
		cmocka_unit_test(test_ana_next_unaligned),
		cmocka_unit_test(test_pel_next_garbage),
		cmocka_unit_test(test_kernel_rescan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
