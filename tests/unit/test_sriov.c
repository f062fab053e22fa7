/* SPDX-License-Identifier: MIT */
/*
 * SR-IOV (include/vfn/sriov.h): the command dwords of Identify CNS 14h/15h
 * and Virtualization Management (read back from the simulator's admin
 * command log), the refusals, the decode of the secondary controller list,
 * and the sysfs side (sriov_totalvfs / sriov_numvfs / virtfnN / physfn) on
 * a fake sysfs tree.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <vfn/vfn.h>
#include <vfn/sriov.h>

#include "fake-sysfs.h"
#include "vfio/vfio-priv.h"

#define SIM "sim:sn=SRIOV1,nsze=2048,lbads=9"

static char logbuf[65536];

static const char *cmdlog(struct vfn_dev *dev)
{
	assert_true(vfn_nvme_admin_log_snprint(vfn_dev_nvme_ctrl(dev), logbuf, sizeof(logbuf)) >= 0);
	return logbuf;
}

static void assert_logged(struct vfn_dev *dev, const char *what)
{
	if (!strstr(cmdlog(dev), what))
		fail_msg("the admin log has no \"%s\":\n%s", what, logbuf);
}

/* The dwords each call builds; the simulator's answer does not matter here. */
static void test_dwords(void **state)
{
	struct vfn_nvme_primary_ctrl_cap cap;
	struct vfn_nvme_secondary_ctrl_list list;
	struct vfn_virt_mgmt_args a = { .cntlid = 0x1234, .rt = 1, .act = 8, .nr = 0xabcd };
	struct vfn_dev *dev;

	(void)state;
	assert_int_equal(vfn_dev_open(SIM, NULL, &dev), 0);
	assert_int_equal(vfn_nvme_admin_log_enable(vfn_dev_nvme_ctrl(dev), 64), 0);

	vfn_dev_primary_ctrl_cap(dev, &cap, NULL);
	assert_logged(dev, "cdw10 0x00000014");
	vfn_dev_secondary_ctrl_list(dev, 3, &list, NULL);
	assert_logged(dev, "cdw10 0x00030015");
	/* CDW10: ACT 3:0, RT 10:8, CNTLID 31:16; CDW11: NR. */
	vfn_dev_virt_mgmt(dev, &a, NULL, NULL);
	assert_logged(dev, "(0x1c) nsid 0 cdw10 0x12340108 cdw11 0x0000abcd");
	vfn_dev_secondary_assign(dev, 1, VFN_NVME_VIRT_MGMT_RT_VQ, 2, NULL, NULL);
	assert_logged(dev, "cdw10 0x00010008 cdw11 0x00000002");
	vfn_dev_secondary_online(dev, 1, true, NULL);
	assert_logged(dev, "cdw10 0x00010009 cdw11 0x00000000");
	vfn_dev_secondary_online(dev, 2, false, NULL);
	assert_logged(dev, "cdw10 0x00020007");

	/* Refused, nothing sent. */
	a.rt = 8;
	assert_int_equal(vfn_dev_virt_mgmt(dev, &a, NULL, NULL), -EINVAL);
	a.rt = 0;
	a.act = 16;
	assert_int_equal(vfn_dev_virt_mgmt(dev, &a, NULL, NULL), -EINVAL);
	assert_int_equal(vfn_dev_virt_mgmt(dev, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(vfn_dev_secondary_assign(dev, 1, 2, 1, NULL, NULL), -EINVAL);
	assert_int_equal(vfn_dev_primary_ctrl_cap(dev, NULL, NULL), -EINVAL);
	assert_int_equal(vfn_dev_secondary_ctrl_list(dev, 0, NULL, NULL), -EINVAL);
	vfn_dev_close(dev);
}

/* A list as QEMU 7.2 returns it with sriov_max_vfs=2, secondary 1 online with 2 VQ and 1 VI. */
static void test_decode(void **state)
{
	static struct vfn_nvme_secondary_ctrl_list list;
	uint8_t *raw = (uint8_t *)&list;
	const struct vfn_nvme_secondary_ctrl *e;
	struct vfn_nvme_primary_ctrl_cap cap;
	uint8_t *p = (uint8_t *)&cap;

	(void)state;
	memset(&list, 0, sizeof(list));
	raw[0] = 2;
	/* entry 0 at byte 32: SCID 1, PCID 0, SCS 1, VFN 1, NVQ 2, NVI 1 */
	raw[32] = 1, raw[36] = 1, raw[40] = 1, raw[42] = 2, raw[44] = 1;
	/* entry 1 at byte 64: SCID 2, offline, VFN 2 */
	raw[64] = 2, raw[72] = 2;
	e = vfn_nvme_secondary_find(&list, 1);
	assert_non_null(e);
	assert_int_equal(vfn_le16_to_cpu(e->scid), 1);
	assert_int_equal(e->scs & VFN_NVME_SCS_ONLINE, 1);
	assert_int_equal(vfn_le16_to_cpu(e->vfn), 1);
	assert_int_equal(vfn_le16_to_cpu(e->nvq), 2);
	assert_int_equal(vfn_le16_to_cpu(e->nvi), 1);
	e = vfn_nvme_secondary_find(&list, 2);
	assert_non_null(e);
	assert_int_equal(e->scs, 0);
	assert_int_equal(vfn_le16_to_cpu(e->vfn), 2);
	assert_null(vfn_nvme_secondary_find(&list, 3));
	assert_null(vfn_nvme_secondary_find(NULL, 1));
	/* numid counts: entry 1 is outside a list of one. */
	raw[0] = 1;
	assert_null(vfn_nvme_secondary_find(&list, 2));

	/* Primary caps at the spec's byte offsets. */
	memset(&cap, 0, sizeof(cap));
	p[4] = 3;
	p[32] = 4;		    /* VQFRT */
	p[42] = 61;		    /* VQPRT */
	p[44] = 2;		    /* VQFRSM */
	p[64] = 2;		    /* VIFRT */
	p[74] = 63;		    /* VIPRT */
	p[76] = 1;		    /* VIFRSM */
	p[36] = 0x34, p[37] = 0x12; /* VQRFA */
	assert_int_equal(cap.crt, VFN_NVME_CRT_VQ | VFN_NVME_CRT_VI);
	assert_int_equal(vfn_le32_to_cpu(cap.vqfrt), 4);
	assert_int_equal(vfn_le32_to_cpu(cap.vqrfa), 0x1234);
	assert_int_equal(vfn_le16_to_cpu(cap.vqprt), 61);
	assert_int_equal(vfn_le16_to_cpu(cap.vqfrsm), 2);
	assert_int_equal(vfn_le32_to_cpu(cap.vifrt), 2);
	assert_int_equal(vfn_le16_to_cpu(cap.viprt), 63);
	assert_int_equal(vfn_le16_to_cpu(cap.vifrsm), 1);
}

#define PF "0000:01:00.0"

static int sysfs_setup(void **state)
{
	(void)state;
	fake_sysfs_create("sriov");
	fake_sysfs_add_func(PF, "nvme", 5);
	fake_sysfs_add_func("0000:01:00.2", NULL, 6);
	fake_sysfs_add_func("0000:01:00.1", NULL, 7);
	fake_sysfs_add_func("0000:02:00.0", "nvme", 8); /* no SR-IOV */
	fake_sysfs_put(fake_sysfs_at("devices/pci0000:00/%s/sriov_totalvfs", PF), "4\n");
	fake_sysfs_put(fake_sysfs_at("devices/pci0000:00/%s/sriov_numvfs", PF), "0\n");
	fake_sysfs_use();
	return 0;
}

static void vf_link(int i, const char *vf)
{
	char path[PATH_MAX], target[64];

	fake_sysfs_path(path, "devices/pci0000:00/%s/virtfn%d", PF, i);
	snprintf(target, sizeof(target), "../%s", vf);
	assert_int_equal(symlink(target, path), 0);
	fake_sysfs_path(path, "devices/pci0000:00/%s/physfn", vf);
	snprintf(target, sizeof(target), "../%s", PF);
	assert_int_equal(symlink(target, path), 0);
}

static const char *numvfs_file(void)
{
	static char buf[64];
	FILE *f = fopen(fake_sysfs_at("devices/pci0000:00/%s/sriov_numvfs", PF), "r");

	assert_non_null(f);
	memset(buf, 0, sizeof(buf));
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	return buf;
}

static void test_sysfs(void **state)
{
	char vfs[4][VFN_PCI_BDF_LEN], pf[VFN_PCI_BDF_LEN];

	(void)state;
	assert_int_equal(vfn_pci_sriov_totalvfs(PF), 4);
	assert_int_equal(vfn_pci_sriov_numvfs("01:00.0"), 0);
	assert_int_equal(vfn_pci_sriov_totalvfs("0000:02:00.0"), -ENOTSUP);
	assert_int_equal(vfn_pci_sriov_totalvfs("0000:09:00.0"), -ENODEV);
	assert_int_equal(vfn_pci_sriov_totalvfs("junk"), -EINVAL);
	assert_int_equal(vfn_pci_sriov_set_numvfs(PF, 5), -EINVAL);
	assert_int_equal(vfn_pci_sriov_set_numvfs("0000:02:00.0", 1), -ENOTSUP);

	/* 0 -> 2: one write of "2". */
	assert_int_equal(vfn_pci_sriov_set_numvfs(PF, 2), 0);
	assert_string_equal(numvfs_file(), "2\n"); /* "2" over "0\n" */
	assert_int_equal(vfn_pci_sriov_numvfs(PF), 2);
	/* 2 -> 2: nothing written. */
	fake_sysfs_put(fake_sysfs_at("devices/pci0000:00/%s/sriov_numvfs", PF), "2");
	assert_int_equal(vfn_pci_sriov_set_numvfs(PF, 2), 0);
	assert_string_equal(numvfs_file(), "2");

	/* VFs in virtfn order, not address order; physfn back. */
	assert_int_equal(vfn_pci_sriov_vfs(PF, vfs, 4), 0);
	vf_link(1, "0000:01:00.2");
	vf_link(0, "0000:01:00.1");
	assert_int_equal(vfn_pci_sriov_vfs(PF, vfs, 4), 2);
	assert_string_equal(vfs[0], "0000:01:00.1");
	assert_string_equal(vfs[1], "0000:01:00.2");
	assert_int_equal(vfn_pci_sriov_vfs(PF, vfs, 1), 2);
	assert_int_equal(vfn_pci_sriov_vfs(PF, NULL, 0), 2);
	assert_int_equal(vfn_pci_sriov_vfs(PF, NULL, 1), -EINVAL);
	assert_int_equal(vfn_pci_sriov_physfn("0000:01:00.2", pf), 0);
	assert_string_equal(pf, PF);
	assert_int_equal(vfn_pci_sriov_physfn(PF, pf), -ENOENT);
}

/* The VF token: UUID text both ways, refusals; the open name is "BDF vf_token=UUID" only for a VF or SR-IOV PF. */
static void test_vf_token(void **state)
{
	uint8_t u[16];
	char text[37];

	(void)state;
	assert_int_equal(vfn_vf_token_parse("2C1B6F0A-8d4e-4a57-9f3e-61b2a0c4d5e7", u), 0);
	assert_int_equal(u[0], 0x2c);
	assert_int_equal(u[15], 0xe7);
	vfn_vf_token_format(u, text);
	assert_string_equal(text, "2c1b6f0a-8d4e-4a57-9f3e-61b2a0c4d5e7");
	assert_int_equal(vfn_vf_token_parse("2c1b6f0a-8d4e-4a57-9f3e-61b2a0c4d5e", u), -EINVAL);
	assert_int_equal(vfn_vf_token_parse("2c1b6f0a-8d4e-4a57-9f3e-61b2a0c4d5e7x", u), -EINVAL);
	assert_int_equal(vfn_vf_token_parse("2c1b6f0a+8d4e-4a57-9f3e-61b2a0c4d5e7", u), -EINVAL);
	assert_int_equal(vfn_vf_token_parse("2c1b6f0a-8d4e-4a57-9f3e-61b2a0c4d5g7", u), -EINVAL);
	assert_int_equal(vfn_vf_token_parse(NULL, u), -EINVAL);
	assert_int_equal(vfn_vfio_set_vf_token(NULL, u), -EINVAL);
}

static void test_vf_token_name(void **state)
{
	static const uint8_t u[16] = { 0x2c, 0x1b, 0x6f, 0x0a, 0x8d, 0x4e, 0x4a, 0x57,
				       0x9f, 0x3e, 0x61, 0xb2, 0xa0, 0xc4, 0xd5, 0xe7 };
	char name[96];

	(void)state;
	vf_link(0, "0000:01:00.1");
	assert_int_equal(vfio_vf_token_name("0000:01:00.1", name, sizeof(name)), 0);
	assert_string_equal(name, "0000:01:00.1"); /* no token set */
	vfn_vf_token_use(u);
	assert_int_equal(vfio_vf_token_name("0000:01:00.1", name, sizeof(name)), 0);
	assert_string_equal(name, "0000:01:00.1 vf_token=2c1b6f0a-8d4e-4a57-9f3e-61b2a0c4d5e7");
	assert_int_equal(vfio_vf_token_name(PF, name, sizeof(name)), 0);
	assert_string_equal(name, PF " vf_token=2c1b6f0a-8d4e-4a57-9f3e-61b2a0c4d5e7");
	/* neither a VF nor an SR-IOV PF: vfio-pci would refuse a token */
	assert_int_equal(vfio_vf_token_name("0000:02:00.0", name, sizeof(name)), 0);
	assert_string_equal(name, "0000:02:00.0");
	assert_int_equal(vfio_vf_token_name(PF, name, 20), -ENAMETOOLONG);
	vfn_vf_token_use(NULL);
	assert_int_equal(vfio_vf_token_name("0000:01:00.1", name, sizeof(name)), 0);
	assert_string_equal(name, "0000:01:00.1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dwords),
		cmocka_unit_test(test_decode),
		cmocka_unit_test_setup_teardown(test_sysfs, sysfs_setup, fake_sysfs_teardown),
		cmocka_unit_test(test_vf_token),
		cmocka_unit_test_setup_teardown(test_vf_token_name, sysfs_setup, fake_sysfs_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
