/* SPDX-License-Identifier: MIT */
/*
 * The SR-IOV printers (sriov-show.c): Identify CNS 14h/15h decoded from raw
 * bytes at the specification's offsets into nvme-cli's JSON keys, and the
 * normal format's lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sriov-show.h"

static char captured[8192];

/* Runs @fn with stdout going to a temporary file; its text to `captured`. */
static void capture(void (*fn)(struct out *o, const void *arg), enum out_fmt fmt, const void *arg)
{
	FILE *tmp = tmpfile();
	struct out o;
	size_t n;
	int saved;

	assert_non_null(tmp);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDOUT_FILENO) >= 0);
	out_init(&o, fmt, false, 10);
	fn(&o, arg);
	fflush(stdout);
	assert_true(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(captured, 1, sizeof(captured) - 1, tmp);
	captured[n] = '\0';
	fclose(tmp);
}

static void show_primary(struct out *o, const void *arg)
{
	sriov_show_primary(o, arg);
}

static void show_secondary(struct out *o, const void *arg)
{
	sriov_show_secondary(o, arg, 0);
}

static void show_secondary_one(struct out *o, const void *arg)
{
	sriov_show_secondary(o, arg, 1);
}

/* Removes whitespace, so the checks do not depend on the JSON writer's layout. */
static const char *squeeze(void)
{
	static char buf[sizeof(captured)];
	size_t j = 0;

	for (size_t i = 0; captured[i]; i++)
		if (captured[i] != ' ' && captured[i] != '\n')
			buf[j++] = captured[i];
	buf[j] = '\0';
	return buf;
}

/* QEMU 7.2 with max_ioqpairs 64, msix_qsize 65, sriov_max_vfs=2, sriov_vq_flexible=4, sriov_vi_flexible=2. */
static void test_primary(void **state)
{
	static uint8_t raw[4096];

	(void)state;
	raw[0] = 0x05, raw[2] = 0x07, raw[4] = 3;
	raw[32] = 4;		     /* VQFRT */
	raw[36] = 2;		     /* VQRFA */
	raw[40] = 1;		     /* VQRFAP */
	raw[42] = 61;		     /* VQPRT */
	raw[44] = 2;		     /* VQFRSM */
	raw[46] = 1;		     /* VQGRAN */
	raw[64] = 0x02, raw[65] = 1; /* VIFRT 258 */
	raw[68] = 1;		     /* VIRFA */
	raw[74] = 63;		     /* VIPRT */
	raw[76] = 1;		     /* VIFRSM */
	raw[78] = 1;		     /* VIGRAN */
	capture(show_primary, OUT_JSON, raw);
	assert_string_equal(squeeze(), "{\"cntlid\":5,\"portid\":7,\"crt\":3,\"vqfrt\":4,\"vqrfa\":2,\"vqrfap\":1,"
				       "\"vqprt\":61,\"vqfrsm\":2,\"vqgran\":1,\"vifrt\":258,\"virfa\":1,"
				       "\"virfap\":0,\"viprt\":63,\"vifrsm\":1,\"vigran\":1}");
	capture(show_primary, OUT_NORMAL, raw);
	assert_non_null(strstr(captured, "NVMe Identify Primary Controller Capabilities:\n"));
	assert_non_null(strstr(captured, "crt       : 0x3\n"));
	assert_non_null(strstr(captured, "vifrt     : 258\n"));
}

static void test_secondary(void **state)
{
	static uint8_t raw[4096];

	(void)state;
	raw[0] = 2;
	raw[32] = 1, raw[36] = 1, raw[40] = 1, raw[42] = 2, raw[44] = 1; /* SCID 1 online VFN 1 NVQ 2 NVI 1 */
	raw[36] |= 0x80;						 /* reserved SCS bits: not shown */
	raw[64] = 2, raw[72] = 2;					 /* SCID 2 offline VFN 2 */
	capture(show_secondary, OUT_JSON, raw);
	assert_string_equal(squeeze(), "{\"num\":2,\"secondary-controllers\":["
				       "{\"secondary-controller-identifier\":1,\"primary-controller-identifier\":0,"
				       "\"secondary-controller-state\":1,\"virtual-function-number\":1,"
				       "\"num-virtual-queues\":2,\"num-virtual-interrupts\":1},"
				       "{\"secondary-controller-identifier\":2,\"primary-controller-identifier\":0,"
				       "\"secondary-controller-state\":0,\"virtual-function-number\":2,"
				       "\"num-virtual-queues\":0,\"num-virtual-interrupts\":0}]}");
	capture(show_secondary_one, OUT_JSON, raw);
	assert_non_null(strstr(squeeze(), "{\"num\":1,"));
	assert_null(strstr(squeeze(), "\"secondary-controller-identifier\":2"));
	capture(show_secondary, OUT_NORMAL, raw);
	assert_non_null(strstr(captured, "Number of Identifiers           : 2\n"));
	assert_non_null(strstr(captured, "Secondary Controller State      : 0x0081 (Online)\n"));
	assert_non_null(strstr(captured, "Secondary Controller State      : 0x0000 (Offline)\n"));
	/* numid beyond 127: 127 entries at most. */
	raw[0] = 200;
	capture(show_secondary, OUT_JSON, raw);
	assert_non_null(strstr(squeeze(), "{\"num\":127,"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_primary),
		cmocka_unit_test(test_secondary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
