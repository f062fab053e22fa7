/* SPDX-License-Identifier: MIT */
/*
 * The admin queue's command log against the simulated controller: bring-up
 * commands, error statuses, the ring, timed-out and late commands, AERs
 * and a reset, and the text API's edges.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <vfn/nvme.h>
#include <vfn/rq.h>

#include "nvme/ctrl-priv.h"
#include "sim/sim.h"

#define TEXT_LEN 8192
#define ZERO_CDW11_15 "cdw11 0x00000000 cdw12 0x00000000 cdw13 0x00000000 cdw14 0x00000000 cdw15 0x00000000"

static char text[TEXT_LEN];

static struct vfn_nvme_ctrl *open_sim(uint32_t log_entries)
{
	struct vfn_nvme_ctrl_opts opts = { .admin_log_entries = log_entries };
	struct vfn_nvme_ctrl *ctrl = NULL;

	assert_int_equal(vfn_nvme_ctrl_open("sim:", &opts, &ctrl), 0);
	return ctrl;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Identify Controller (CNS 1) through the passthrough. */
static int identify_ctrl(struct vfn_nvme_ctrl *ctrl)
{
	uint8_t id[VFN_NVME_IDENTIFY_DATA_SIZE];

	return vfn_nvme_identify(ctrl, VFN_NVME_CNS_CTRL, 0, id, NULL);
}

#define OK "-> Successful Completion (0x000) dw0 0x00000000 sqhd "

/* Bring-up, I/O queue creation and deletion, in order, with their completions. */
static void test_bringup(void **state)
{
	struct vfn_nvme_qpair_opts qo = { .entries = 16 };
	struct vfn_nvme_ctrl *ctrl = open_sim(32);
	struct vfn_nvme_qpair *qp;
	char *mem = NULL;
	size_t memlen = 0;
	FILE *f;

	(void)state;
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &qo, &qp), 0);
	vfn_nvme_qpair_destroy(qp);
	assert_true(vfn_nvme_admin_log_snprint(ctrl, text, sizeof(text)) > 0);
	assert_int_equal(count_lines(text), 7);
	assert_non_null(
		strstr(text, "#1 SQ 0 cid 0 Identify (0x06) nsid 0 cdw10 0x00000001 " ZERO_CDW11_15 " " OK "1\n"));
	assert_non_null(strstr(text, "\n#2 SQ 0 cid 1 Set Features (0x09) nsid 0 cdw10 0x00000007 cdw11 0x003f003f "
				     "cdw12 0x00000000 cdw13 0x00000000 cdw14 0x00000000 cdw15 0x00000000 -> "
				     "Successful Completion (0x000) dw0 0x003f003f sqhd 2\n"));
	assert_non_null(strstr(text,
			       "\n#3 SQ 0 cid 2 Doorbell Buffer Config (0x7c) nsid 0 cdw10 0x00000000 " ZERO_CDW11_15
			       " " OK "3\n"));
	assert_non_null(strstr(text, "\n#4 SQ 0 cid 3 Create I/O Completion Queue (0x05) nsid 0 cdw10 0x000f0001 "
				     "cdw11 0x00000001 "));
	assert_non_null(strstr(text, "\n#5 SQ 0 cid 4 Create I/O Submission Queue (0x01) nsid 0 cdw10 0x000f0001 "
				     "cdw11 0x00010001 "));
	assert_non_null(
		strstr(text, "\n#6 SQ 0 cid 5 Delete I/O Submission Queue (0x00) nsid 0 cdw10 0x00000001 " ZERO_CDW11_15
			     " " OK "6\n"));
	assert_non_null(
		strstr(text, "\n#7 SQ 0 cid 6 Delete I/O Completion Queue (0x04) nsid 0 cdw10 0x00000001 " ZERO_CDW11_15
			     " " OK "7\n"));

	/* The same text through a FILE; a buffer too small for it cuts it as snprintf does. */
	f = open_memstream(&mem, &memlen);
	assert_non_null(f);
	assert_int_equal(vfn_nvme_admin_log_dump(ctrl, f), 7);
	fclose(f);
	assert_string_equal(mem, text);
	free(mem);
	assert_int_equal(vfn_nvme_admin_log_snprint(ctrl, text, 10), (int)memlen);
	assert_int_equal(strlen(text), 9);
	assert_memory_equal(text, "#1 SQ 0 c", 9);
	assert_int_equal(vfn_nvme_admin_log_snprint(ctrl, NULL, 0), (int)memlen);
	assert_int_equal(vfn_nvme_admin_log_snprint(ctrl, NULL, 5), -EINVAL);
	assert_int_equal(vfn_nvme_admin_log_snprint(NULL, text, sizeof(text)), -EINVAL);
	assert_int_equal(vfn_nvme_admin_log_dump(ctrl, NULL), -EINVAL);
	assert_int_equal(vfn_nvme_admin_log_dump(NULL, stderr), -EINVAL);
	vfn_nvme_ctrl_close(ctrl);
}

/* Enabled after open the log starts empty; enabling again empties it, 0 turns it off. */
static void test_enable(void **state)
{
	struct vfn_nvme_ctrl_opts opts = { .admin_log_entries = 65537 };
	struct vfn_nvme_ctrl *ctrl = open_sim(0);

	(void)state;
	assert_int_equal(vfn_nvme_admin_log_snprint(ctrl, text, sizeof(text)), 0);
	assert_string_equal(text, "");
	assert_int_equal(identify_ctrl(ctrl), 0);
	assert_int_equal(vfn_nvme_admin_log_enable(ctrl, 4), 0);
	assert_int_equal(vfn_nvme_admin_log_snprint(ctrl, text, sizeof(text)), 0);
	assert_int_equal(identify_ctrl(ctrl), 0);
	assert_true(vfn_nvme_admin_log_snprint(ctrl, text, sizeof(text)) > 0);
	assert_int_equal(count_lines(text), 1);
	assert_non_null(strstr(text, "#1 SQ 0 cid 4 Identify (0x06) nsid 0 cdw10 0x00000001 " ZERO_CDW11_15 " " OK));
	assert_int_equal(vfn_nvme_admin_log_enable(ctrl, 4), 0);
	assert_int_equal(vfn_nvme_admin_log_dump(ctrl, stderr), 0);
	assert_int_equal(vfn_nvme_admin_log_enable(ctrl, 0), 0);
	assert_int_equal(identify_ctrl(ctrl), 0);
	assert_int_equal(vfn_nvme_admin_log_snprint(ctrl, text, sizeof(text)), 0);
	assert_int_equal(vfn_nvme_admin_log_enable(ctrl, 65537), -EINVAL);
	assert_int_equal(vfn_nvme_admin_log_enable(NULL, 4), -EINVAL);
	vfn_nvme_ctrl_close(ctrl);
	ctrl = NULL;
	assert_int_equal(vfn_nvme_ctrl_open("sim:", &opts, &ctrl), -EINVAL);
	assert_null(ctrl);
}

/* A command the controller refuses is logged with its status. */
static void test_error_status(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_sim(4);
	struct vfn_nvme_sqe sqe = {
		.opcode = VFN_NVME_ADMIN_CREATE_SQ,
		.cdw10 = vfn_cpu_to_le32(1u | 15u << 16),
		.cdw11 = vfn_cpu_to_le32(1u | 5u << 16), /* PC, CQID 5: no such CQ */
	};
	struct vfn_nvme_cqe cqe;

	(void)state;
	assert_int_equal(vfn_nvme_admin_sync(ctrl, &sqe, NULL, 0, &cqe, 0), -EIO);
	assert_true(vfn_nvme_admin_log_snprint(ctrl, text, sizeof(text)) > 0);
	assert_int_equal(count_lines(text), 4);
	assert_non_null(strstr(text,
			       "\n#4 SQ 0 cid 3 Create I/O Submission Queue (0x01) nsid 0 cdw10 0x000f0001 "
			       "cdw11 0x00050001 cdw12 0x00000000 cdw13 0x00000000 cdw14 0x00000000 "
			       "cdw15 0x00000000 -> Completion Queue Invalid (0x100 DNR) dw0 0x00000000 sqhd 4\n"));
	vfn_nvme_ctrl_close(ctrl);
}

/* The ring keeps the newest N. */
static void test_wrap(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_sim(3);
	FILE *f;

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_int_equal(identify_ctrl(ctrl), 0);
	assert_true(vfn_nvme_admin_log_snprint(ctrl, text, sizeof(text)) > 0);
	assert_int_equal(count_lines(text), 3);
	assert_int_equal(strncmp(text, "#6 SQ 0 cid 5 Identify (0x06) ", 30), 0);
	assert_non_null(strstr(text, "\n#7 SQ 0 cid 6 Identify (0x06) "));
	assert_non_null(
		strstr(text, "\n#8 SQ 0 cid 7 Identify (0x06) nsid 0 cdw10 0x00000001 " ZERO_CDW11_15 " " OK "8\n"));
	assert_null(strstr(text, "#5 "));
	assert_null(strstr(text, "Set Features"));
	f = fopen("/dev/null", "w");
	assert_non_null(f);
	assert_int_equal(vfn_nvme_admin_log_dump(ctrl, f), 3);
	fclose(f);
	vfn_nvme_ctrl_close(ctrl);
}

struct captured {
	int lines;
	bool header, entry;
};

static void capture(enum vfn_log_level level, const char *msg, void *arg)
{
	struct captured *c = arg;

	(void)level;
	c->lines++;
	if (strstr(msg, "SQ 0: command log after admin command 3 was abandoned"))
		c->header = true;
	if (strstr(msg, "  #1 SQ 0 cid 3 Get Features (0x0a) nsid 0 cdw10 0x00000007 ") &&
	    strstr(msg, "-> no completion [timed out]"))
		c->entry = true;
}

/* A dropped completion: timed out, and the log dumped at debug level. */
static void test_timeout(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_sim(0);
	struct vfn_sim_fault drop = { .action = VFN_SIM_FAULT_DROP, .sqid = 0, .opcode = VFN_NVME_ADMIN_GET_FEATURES };
	enum vfn_log_level level = vfn_log_get_level();
	struct captured c = { 0 };
	uint32_t dw0;

	(void)state;
	assert_int_equal(vfn_nvme_admin_log_enable(ctrl, 16), 0);
	assert_int_equal(vfn_sim_fault_add(vfn_sim_from_hw(&ctrl->hw), &drop), 0);
	ctrl->admin_timeout_ms = 20;
	vfn_log_set_fn(capture, &c);
	vfn_log_set_level(VFN_LOG_DEBUG);
	assert_int_equal(vfn_nvme_get_features(ctrl, VFN_NVME_FEAT_NUM_QUEUES, 0, 0, &dw0, NULL, 0), -ETIMEDOUT);
	vfn_log_set_level(level);
	vfn_log_set_fn(NULL, NULL);
	assert_true(c.header);
	assert_true(c.entry);
	assert_true(vfn_nvme_admin_log_snprint(ctrl, text, sizeof(text)) > 0);
	assert_string_equal(text, "#1 SQ 0 cid 3 Get Features (0x0a) nsid 0 cdw10 0x00000007 " ZERO_CDW11_15
				  " -> no completion [timed out]\n");

	/* The command after it completes as usual. */
	ctrl->admin_timeout_ms = 30000;
	assert_int_equal(identify_ctrl(ctrl), 0);
	assert_true(vfn_nvme_admin_log_snprint(ctrl, text, sizeof(text)) > 0);
	assert_non_null(
		strstr(text, "\n#2 SQ 0 cid 4 Identify (0x06) nsid 0 cdw10 0x00000001 " ZERO_CDW11_15 " " OK "5\n"));
	vfn_nvme_ctrl_close(ctrl);
}

/* A completion after the timeout fills in the timed-out entry. */
static void test_late(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_sim(0);
	struct vfn_sim_fault delay = {
		.action = VFN_SIM_FAULT_DELAY, .sqid = 0, .opcode = VFN_NVME_ADMIN_IDENTIFY, .delay_ms = 60
	};
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_ADMIN_IDENTIFY, .cdw10 = vfn_cpu_to_le32(VFN_NVME_CNS_CTRL) };
	uint8_t id[VFN_NVME_IDENTIFY_DATA_SIZE];

	(void)state;
	assert_int_equal(vfn_nvme_admin_log_enable(ctrl, 16), 0);
	assert_int_equal(vfn_sim_fault_add(vfn_sim_from_hw(&ctrl->hw), &delay), 0);
	assert_int_equal(vfn_nvme_admin_sync(ctrl, &sqe, id, sizeof(id), NULL, 20), -ETIMEDOUT);
	assert_true(vfn_nvme_admin_log_snprint(ctrl, text, sizeof(text)) > 0);
	assert_non_null(strstr(text, "#1 SQ 0 cid 3 Identify (0x06) nsid 0 cdw10 0x00000001 " ZERO_CDW11_15
				     " -> no completion [timed out]\n"));
	sleep_ms(100);
	assert_int_equal(vfn_nvme_admin_poll(ctrl), 0);
	assert_true(vfn_nvme_admin_log_snprint(ctrl, text, sizeof(text)) > 0);
	assert_string_equal(text, "#1 SQ 0 cid 3 Identify (0x06) nsid 0 cdw10 0x00000001 " ZERO_CDW11_15 " " OK
				  "4 [late: after it timed out]\n");
	vfn_nvme_ctrl_close(ctrl);
}

static void aer_cb(struct vfn_nvme_ctrl *ctrl, uint32_t dw0, void *arg)
{
	(void)ctrl;
	*(uint32_t *)arg = dw0;
}

/* AERs: logged when posted, completed when the event comes, cancelled by a reset. */
static void test_aer_reset(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_sim(0);
	uint32_t dw0 = 0;

	(void)state;
	assert_int_equal(vfn_nvme_admin_log_enable(ctrl, 32), 0);
	assert_int_equal(vfn_nvme_aer_set_callback(ctrl, aer_cb, &dw0), 0);
	assert_true(vfn_nvme_admin_log_snprint(ctrl, text, sizeof(text)) > 0);
	assert_int_equal(count_lines(text), VFN_SIM_AERL + 1);
	assert_non_null(strstr(
		text, "#1 SQ 0 cid 65520 Asynchronous Event Request (0x0c) nsid 0 cdw10 0x00000000 " ZERO_CDW11_15
		      " -> pending\n"));
	assert_non_null(strstr(text, "\n#4 SQ 0 cid 65523 Asynchronous Event Request (0x0c) "));
	assert_int_equal(vfn_sim_event_raise(vfn_sim_from_hw(&ctrl->hw), 0x1, 0x01, VFN_NVME_LOG_SMART), 0);
	for (int i = 0; i < 2000 && !dw0; i++) {
		assert_true(vfn_nvme_admin_poll(ctrl) >= 0);
		sleep_ms(1);
	}
	assert_int_equal(dw0, 0x020101);
	assert_true(vfn_nvme_admin_log_snprint(ctrl, text, sizeof(text)) > 0);
	assert_int_equal(count_lines(text), VFN_SIM_AERL + 2);
	assert_non_null(strstr(
		text, "#1 SQ 0 cid 65520 Asynchronous Event Request (0x0c) nsid 0 cdw10 0x00000000 " ZERO_CDW11_15
		      " -> Successful Completion (0x000) dw0 0x00020101 sqhd "));
	assert_non_null(strstr(
		text, "\n#5 SQ 0 cid 65520 Asynchronous Event Request (0x0c) nsid 0 cdw10 0x00000000 " ZERO_CDW11_15
		      " -> pending\n"));

	/* The reset cancels the outstanding ones; bring-up and the AERs follow. */
	assert_int_equal(vfn_nvme_ctrl_reset(ctrl), 0);
	assert_true(vfn_nvme_admin_log_snprint(ctrl, text, sizeof(text)) > 0);
	assert_non_null(strstr(
		text, "\n#2 SQ 0 cid 65521 Asynchronous Event Request (0x0c) nsid 0 cdw10 0x00000000 " ZERO_CDW11_15
		      " -> no completion [cancelled: controller reset]\n"));
	assert_non_null(strstr(
		text, "\n#5 SQ 0 cid 65520 Asynchronous Event Request (0x0c) nsid 0 cdw10 0x00000000 " ZERO_CDW11_15
		      " -> no completion [cancelled: controller reset]\n"));
	assert_non_null(
		strstr(text, "\n#6 SQ 0 cid 3 Identify (0x06) nsid 0 cdw10 0x00000001 " ZERO_CDW11_15 " " OK "1\n"));
	assert_non_null(strstr(text, "\n#7 SQ 0 cid 4 Set Features (0x09) nsid 0 cdw10 0x00000007 "));
	assert_non_null(strstr(text, "\n#8 SQ 0 cid 5 Doorbell Buffer Config (0x7c) "));
	assert_non_null(strstr(
		text, "\n#9 SQ 0 cid 65520 Asynchronous Event Request (0x0c) nsid 0 cdw10 0x00000000 " ZERO_CDW11_15
		      " -> pending\n"));
	assert_int_equal(count_lines(text), 5 + 3 + VFN_SIM_AERL + 1);
	vfn_nvme_ctrl_close(ctrl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bringup),	  cmocka_unit_test(test_enable),  cmocka_unit_test(test_error_status),
		cmocka_unit_test(test_wrap),	  cmocka_unit_test(test_timeout), cmocka_unit_test(test_late),
		cmocka_unit_test(test_aer_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
