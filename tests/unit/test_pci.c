/* SPDX-License-Identifier: MIT */
/*
 * vfn pci against a fake sysfs tree built per test in a temporary directory,
 * laid out as the kernel does it:
 *
 *   bus/pci/devices/<bdf> -> ../../../devices/pci0000:00/<bdf>
 *   devices/pci0000:00/<bdf>/{vendor,device,class,driver_override}
 *   devices/pci0000:00/<bdf>/driver -> ../../../bus/pci/drivers/<drv>
 *   devices/pci0000:00/<bdf>/iommu_group -> ../../../kernel/iommu_groups/<n>
 *   bus/pci/drivers/<drv>/{bind,unbind}, bus/pci/drivers_probe
 *
 * Nothing acts on writes, so a bind sees no driver link appear; a "fake
 * kernel" thread serving FIFOs stands in for the kernel where a test needs
 * binding to happen.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <vfn/pci.h>
#include <vfn/support.h>

#include "fake-sysfs.h"
#include "pci/pci-priv.h"

/* Returns the whole content of @path (static buffer). */
static const char *get_file(const char *path)
{
	static char buf[256];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

static void dev_file(const char *bdf, const char *attr, const char *content)
{
	fake_sysfs_put(fake_sysfs_at("devices/pci0000:00/%s/%s", bdf, attr), content);
}

/*
 * The value an attribute of @bdf shows.  The fake tree is made of regular
 * files and the library writes without O_TRUNC (a sysfs attribute takes each
 * write whole), so a file keeps the tail of a longer earlier value: the value
 * is what precedes the first newline, that newline included.
 */
static const char *dev_content(const char *bdf, const char *attr)
{
	static char value[256];
	const char *s = get_file(fake_sysfs_at("devices/pci0000:00/%s/%s", bdf, attr));

	snprintf(value, sizeof(value), "%.*s", (int)(strchrnul(s, '\n') - s + (strchr(s, '\n') != NULL)), s);
	return value;
}

static void add_driver(const char *drv)
{
	fake_sysfs_mkdir(fake_sysfs_at("bus/pci/drivers/%s", drv));
	fake_sysfs_put(fake_sysfs_at("bus/pci/drivers/%s/bind", drv), "");
	fake_sysfs_put(fake_sysfs_at("bus/pci/drivers/%s/unbind", drv), "");
}

/* Adds a function with its attributes; @drv NULL: unbound; @group < 0: no IOMMU group. */
static void add_func(const char *bdf, uint16_t vendor, uint16_t device, uint32_t class_code, const char *drv, int group)
{
	char buf[16];

	fake_sysfs_add_func(bdf, drv, group);
	snprintf(buf, sizeof(buf), "0x%04x\n", vendor);
	dev_file(bdf, "vendor", buf);
	snprintf(buf, sizeof(buf), "0x%04x\n", device);
	dev_file(bdf, "device", buf);
	snprintf(buf, sizeof(buf), "0x%06x\n", class_code);
	dev_file(bdf, "class", buf);
	dev_file(bdf, "driver_override", "");
}

static int setup(void **state)
{
	static const int groups[] = { 0, 3, 5, 7 };

	(void)state;
	fake_sysfs_create("pci");
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		fake_sysfs_mkdir(fake_sysfs_at("kernel/iommu_groups/%d", groups[i]));
	fake_sysfs_put(fake_sysfs_at("bus/pci/drivers_probe"), "");
	add_driver("nvme");
	add_driver("ahci");
	add_driver("vfio-pci");
	/* Out of address order on purpose. */
	add_func("0000:0a:00.0", 0x144d, 0xa808, 0x010802, "nvme", 7);
	add_func("0000:01:00.0", 0x1b36, 0x0010, 0x010802, "nvme", 5);
	add_func("0000:00:1f.2", 0x8086, 0x2922, 0x010601, "ahci", 3);
	add_func("0000:02:00.0", 0x8086, 0x0953, 0x010802, NULL, -1);
	add_func("0000:00:00.0", 0x8086, 0x29c0, 0x060000, NULL, 0);
	add_func("0000:03:00.0", 0x1234, 0x5678, 0x010801, NULL, -1); /* NVMHCI */
	fake_sysfs_use();
	return 0;
}

static int log_lines;

static void count_line(enum vfn_log_level level, const char *msg, void *arg)
{
	(void)level;
	(void)msg;
	(void)arg;
	log_lines++;
}

static void test_parse_bdf_table(void **state)
{
	static char long_str[4096];
	const struct {
		const char *in;
		const char *out; /* NULL: rejected */
	} cases[] = {
		{ "0000:00:01.0", "0000:00:01.0" },
		{ "00:01.0", "0000:00:01.0" },
		{ "ABCD:EF:1F.7", "abcd:ef:1f.7" },
		{ "ffff:ff:1f.7", "ffff:ff:1f.7" },
		{ "aB:0c.3", "0000:ab:0c.3" },
		{ "0001:00:00.0", "0001:00:00.0" },
		/* Domains Linux gives the functions behind an Intel VMD, and longer. */
		{ "10000:e1:00.0", "10000:e1:00.0" },
		{ "1000A:E1:00.0", "1000a:e1:00.0" },
		{ "ffffffff:ff:1f.7", "ffffffff:ff:1f.7" },
		{ "80000000:00:00.0", "80000000:00:00.0" },
		{ "123456:01:00.0", "123456:01:00.0" },
		/* Leading zeros beyond sysfs's 4 digits are accepted, and dropped. */
		{ "00010000:e1:00.0", "10000:e1:00.0" },
		{ "00000:00:01.0", "0000:00:01.0" },
		{ "00000001:00:01.0", "0001:00:01.0" },
		{ "0fffffff:00:00.0", "fffffff:00:00.0" },
		{ "0000:00:01.0x", NULL },
		{ "0000:00:20.0", NULL },
		{ "0000:00:01.8", NULL },
		{ "", NULL },
		{ "zz:00.0", NULL },
		{ long_str, NULL },
		{ "0000:00:01", NULL },
		{ "0000-00:01.0", NULL },
		{ "0000:00:01:0", NULL },
		{ "100000000:e1:00.0", NULL }, /* 9 digits */
		{ "000000000:00:01.0", NULL },
		{ "ffffffff:ff:1f.7x", NULL },
		{ "ffffffff:ff:1f.8", NULL },
		{ "10000:e1:20.0", NULL },
		{ "1000g:e1:00.0", NULL },
		{ "10000-e1:00.0", NULL },
		{ "10000:e1:00:0", NULL },
		{ "-1000:e1:00.0", NULL },
		{ "0x10000:e1:00.0", NULL },
		{ "000:00:01.0", NULL }, /* 3 digits */
		{ "10000:e1:00.0\n", NULL },
		{ "1000 0:e1:00.0", NULL },
		{ "10000::e1:00.0", NULL },
		{ "0:0:1.0", NULL },
		{ " 00:01.0", NULL },
		{ "00:01.0 ", NULL },
		{ "0000:00:01.0\n", NULL },
		{ "00:1.00", NULL },
		{ "+000:00:01.0", NULL },
		{ "000g:00:01.0", NULL },
		{ "0000:0:001.0", NULL },
	};
	char out[VFN_PCI_BDF_LEN];

	(void)state;
	memset(long_str, '0', sizeof(long_str) - 1);
	vfn_log_set_fn(count_line, NULL);
	vfn_log_set_level(VFN_LOG_DEBUG);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int lines = log_lines;
		int ret = vfn_pci_parse_bdf(cases[i].in, out);

		if (cases[i].out) {
			assert_int_equal(ret, 0);
			assert_string_equal(out, cases[i].out);
			assert_int_equal(log_lines, lines);
		} else {
			assert_int_equal(ret, -EINVAL);
			assert_int_equal(log_lines, lines + 1); /* the rejection is logged */
		}
	}
	assert_int_equal(vfn_pci_parse_bdf(NULL, out), -EINVAL);
	assert_int_equal(vfn_pci_parse_bdf("00:01.0", NULL), -EINVAL);
	vfn_log_set_level(VFN_LOG_NONE);
	vfn_log_set_fn(NULL, NULL);
}

/* vfn_pci_get_func(@bdf) succeeds and fills in every field with these values. */
static void expect_func(const char *bdf, const char *canonical, uint16_t vendor, uint16_t device, uint32_t class_code,
			int group, const char *drv)
{
	struct vfn_pci_func f;

	memset(&f, 0xa5, sizeof(f));
	assert_int_equal(vfn_pci_get_func(bdf, &f), 0);
	assert_string_equal(f.bdf, canonical);
	assert_int_equal(f.vendor, vendor);
	assert_int_equal(f.device, device);
	assert_int_equal(f.class_code, class_code);
	assert_int_equal(f.iommu_group, group);
	assert_string_equal(f.driver, drv);
}

static void test_get_func_values(void **state)
{
	struct vfn_pci_func f;

	(void)state;
	expect_func("0000:01:00.0", "0000:01:00.0", 0x1b36, 0x0010, 0x010802, 5, "nvme");

	assert_int_equal(vfn_pci_get_func("02:00.0", &f), 0);
	assert_string_equal(f.bdf, "0000:02:00.0");
	assert_int_equal(f.vendor, 0x8086);
	assert_int_equal(f.device, 0x0953);
	assert_int_equal(f.iommu_group, -1);
	assert_string_equal(f.driver, "");

	assert_int_equal(vfn_pci_get_func("0000:00:1F.2", &f), 0);
	assert_string_equal(f.bdf, "0000:00:1f.2");
	assert_int_equal(f.class_code, 0x010601);
	assert_int_equal(f.iommu_group, 3);
	assert_string_equal(f.driver, "ahci");

	assert_int_equal(vfn_pci_get_func("0000:09:00.0", &f), -ENODEV);
	assert_int_equal(vfn_pci_get_func("0000:09:00", &f), -EINVAL);
	assert_int_equal(vfn_pci_get_func("0000:01:00.0", NULL), -EINVAL);
}

/* get_func's verdict on 0000:02:00.0 once its vendor file holds @content. */
static int func_with_vendor(const char *content)
{
	struct vfn_pci_func f;

	dev_file("0000:02:00.0", "vendor", content);
	return vfn_pci_get_func("0000:02:00.0", &f);
}

static void test_get_func_parses_robustly(void **state)
{
	struct vfn_pci_func f;

	(void)state;
	assert_int_equal(func_with_vendor("0x8086"), 0); /* no newline */
	assert_int_equal(func_with_vendor("8086\n"), 0); /* no prefix */
	assert_int_equal(func_with_vendor("0X000000000000000008086\n"), 0);
	assert_int_equal(func_with_vendor("0xzzzz\n"), -EIO);
	assert_int_equal(func_with_vendor("0x18086\n"), -EIO); /* > 16 bits */
	assert_int_equal(func_with_vendor("0xffffffffffffffffff\n"), -EIO);
	assert_int_equal(func_with_vendor("0x8086 \n"), -EIO);
	assert_int_equal(func_with_vendor("0x8086\n\n"), -EIO);
	assert_int_equal(func_with_vendor("\n"), -EIO);
	assert_int_equal(func_with_vendor("0x\n"), -EIO);
	assert_int_equal(func_with_vendor("-0x1\n"), -EIO);
	assert_int_equal(func_with_vendor("0x0000000000000000000000000000000000000000000000000000000000000008086\n"),
			 -EIO); /* longer than any attribute */
	assert_int_equal(func_with_vendor("0x8086\n"), 0);

	dev_file("0000:02:00.0", "class", "0x1010802\n"); /* > 24 bits */
	assert_int_equal(vfn_pci_get_func("0000:02:00.0", &f), -EIO);
	/* An attribute that vanishes means the function is going away. */
	assert_int_equal(unlink(fake_sysfs_at("devices/pci0000:00/0000:02:00.0/class")), 0);
	assert_int_equal(vfn_pci_get_func("0000:02:00.0", &f), -ENODEV);

	assert_int_equal(unlink(fake_sysfs_at("devices/pci0000:00/0000:00:00.0/iommu_group")), 0);
	assert_int_equal(symlink("../../../kernel/iommu_groups/abc",
				 fake_sysfs_at("devices/pci0000:00/0000:00:00.0/iommu_group")),
			 0);
	assert_int_equal(vfn_pci_get_func("0000:00:00.0", &f), -EIO);
	assert_int_equal(vfn_pci_iommu_group("0000:00:00.0"), -EIO);
}

static void test_list_filters_sorts_counts(void **state)
{
	static const char *const all[] = {
		"0000:00:00.0", "0000:00:1f.2", "0000:01:00.0", "0000:02:00.0", "0000:03:00.0", "0000:0a:00.0",
	};
	struct vfn_pci_func funcs[8];

	(void)state;
	/* Entries the listing must skip: not an address, and one that is gone. */
	fake_sysfs_mkdir(fake_sysfs_at("bus/pci/devices/garbage"));
	assert_int_equal(
		symlink("../../../devices/pci0000:00/0000:05:00.0", fake_sysfs_at("bus/pci/devices/0000:05:00.0")), 0);

	assert_int_equal(vfn_pci_list(VFN_PCI_CLASS_NVME, VFN_PCI_CLASS_NVME_MASK, funcs, 8), 3);
	assert_string_equal(funcs[0].bdf, "0000:01:00.0");
	assert_string_equal(funcs[1].bdf, "0000:02:00.0");
	assert_string_equal(funcs[2].bdf, "0000:0a:00.0");
	assert_int_equal(funcs[0].iommu_group, 5);
	assert_string_equal(funcs[0].driver, "nvme");
	assert_int_equal(funcs[2].vendor, 0x144d);
	assert_int_equal(funcs[2].iommu_group, 7);

	assert_int_equal(vfn_pci_list(0, 0, funcs, 8), 6);
	for (int i = 0; i < 6; i++)
		assert_string_equal(funcs[i].bdf, all[i]);

	assert_int_equal(vfn_pci_list(0x010601, 0xffffff, funcs, 8), 1);
	assert_string_equal(funcs[0].driver, "ahci");
	assert_int_equal(vfn_pci_list(0x010800, 0xffff00, funcs, 8), 4); /* + NVMHCI */
	assert_int_equal(vfn_pci_list(0x020000, 0xff0000, funcs, 8), 0);

	/* Truncation: two stored, all three counted, the rest untouched. */
	memset(funcs, 0xa5, sizeof(funcs));
	assert_int_equal(vfn_pci_list(VFN_PCI_CLASS_NVME, VFN_PCI_CLASS_NVME_MASK, funcs, 2), 3);
	assert_string_equal(funcs[0].bdf, "0000:01:00.0");
	assert_string_equal(funcs[1].bdf, "0000:02:00.0");
	assert_int_equal((unsigned char)funcs[2].bdf[0], 0xa5);
	assert_int_equal(vfn_pci_list(VFN_PCI_CLASS_NVME, VFN_PCI_CLASS_NVME_MASK, NULL, 0), 3);

	assert_int_equal(vfn_pci_list(0, 0, funcs, -1), -EINVAL);
	assert_int_equal(vfn_pci_list(0, 0, NULL, 1), -EINVAL);
	assert_int_equal(vfn_pci_set_sysfs_root(fake_sysfs_at("kernel")), 0);
	assert_int_equal(vfn_pci_list(0, 0, funcs, 8), -ENOENT); /* no bus/pci */
}

static void test_list_propagates_bad_attribute(void **state)
{
	struct vfn_pci_func funcs[8];

	(void)state;
	dev_file("0000:00:00.0", "class", "host bridge\n");
	assert_int_equal(vfn_pci_list(0, 0, funcs, 8), -EIO);
}

static void test_get_driver_and_iommu_group(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(vfn_pci_get_driver("0000:01:00.0", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "nvme");
	assert_int_equal(vfn_pci_get_driver("00:1f.2", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "ahci");
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(vfn_pci_get_driver("0000:02:00.0", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(vfn_pci_get_driver("0000:01:00.0", buf, 5), 0);
	assert_int_equal(vfn_pci_get_driver("0000:01:00.0", buf, 4), -ENAMETOOLONG);
	assert_int_equal(vfn_pci_get_driver("0000:01:00.0", NULL, 8), -EINVAL);
	assert_int_equal(vfn_pci_get_driver("0000:01:00.0", buf, 0), -EINVAL);
	assert_int_equal(vfn_pci_get_driver("0000:04:00.0", buf, sizeof(buf)), -ENODEV);
	assert_int_equal(vfn_pci_get_driver("0000:04:00.08", buf, sizeof(buf)), -EINVAL);

	assert_int_equal(vfn_pci_iommu_group("0000:01:00.0"), 5);
	assert_int_equal(vfn_pci_iommu_group("0000:00:00.0"), 0);
	assert_int_equal(vfn_pci_iommu_group("0a:00.0"), 7);
	assert_int_equal(vfn_pci_iommu_group("0000:02:00.0"), -ENOENT);
	assert_int_equal(vfn_pci_iommu_group("0000:04:00.0"), -ENODEV);
	assert_int_equal(vfn_pci_iommu_group("nvme0"), -EINVAL);
}

/* True if no driver's bind/unbind and no drivers_probe has been written. */
static bool no_bus_writes(void)
{
	static const char *const drv[] = { "nvme", "ahci", "vfio-pci" };

	for (int i = 0; i < 3; i++) {
		if (*get_file(fake_sysfs_at("bus/pci/drivers/%s/unbind", drv[i])) ||
		    *get_file(fake_sysfs_at("bus/pci/drivers/%s/bind", drv[i])))
			return false;
	}
	return !*get_file(fake_sysfs_at("bus/pci/drivers_probe"));
}

static void test_unbind_writes(void **state)
{
	(void)state;
	/* Bound: BDF to the driver's unbind, then driver_override cleared. */
	assert_int_equal(vfn_pci_unbind("01:00.0"), 0);
	assert_string_equal(get_file(fake_sysfs_at("bus/pci/drivers/nvme/unbind")), "0000:01:00.0");
	assert_string_equal(dev_content("0000:01:00.0", "driver_override"), "\n");

	/* Unbound: only driver_override is touched; twice is fine. */
	fake_sysfs_put(fake_sysfs_at("bus/pci/drivers/nvme/unbind"), "");
	dev_file("0000:02:00.0", "driver_override", "vfio-pci\n");
	assert_int_equal(vfn_pci_unbind("0000:02:00.0"), 0);
	assert_int_equal(vfn_pci_unbind("0000:02:00.0"), 0);
	assert_string_equal(dev_content("0000:02:00.0", "driver_override"), "\n");
	assert_true(no_bus_writes());

	assert_int_equal(vfn_pci_unbind("0000:04:00.0"), -ENODEV);
	assert_int_equal(vfn_pci_unbind("0000:04:00"), -EINVAL);
	/* A write that fails is reported as -errno. */
	assert_int_equal(unlink(fake_sysfs_at("devices/pci0000:00/0000:02:00.0/driver_override")), 0);
	fake_sysfs_mkdir(fake_sysfs_at("devices/pci0000:00/0000:02:00.0/driver_override"));
	assert_int_equal(vfn_pci_unbind("0000:02:00.0"), -EISDIR);
}

static void test_bind_without_kernel_fails_clean(void **state)
{
	char buf[32];

	(void)state;
	/* Unbound: override set then cleared, probe written, nothing claimed it. */
	assert_int_equal(vfn_pci_bind("0000:02:00.0", "vfio-pci"), -EIO);
	assert_string_equal(get_file(fake_sysfs_at("bus/pci/drivers_probe")), "0000:02:00.0");
	assert_string_equal(dev_content("0000:02:00.0", "driver_override"), "\n");
	assert_string_equal(get_file(fake_sysfs_at("bus/pci/drivers/nvme/unbind")), "");
	assert_int_equal(vfn_pci_get_driver("0000:02:00.0", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");

	/* Bound to nvme: unbound from it first. */
	assert_int_equal(vfn_pci_bind("01:00.0", "vfio-pci"), -EIO);
	assert_string_equal(get_file(fake_sysfs_at("bus/pci/drivers/nvme/unbind")), "0000:01:00.0");
	assert_string_equal(get_file(fake_sysfs_at("bus/pci/drivers_probe")), "0000:01:00.0");
	assert_string_equal(dev_content("0000:01:00.0", "driver_override"), "\n");
	assert_string_equal(get_file(fake_sysfs_at("bus/pci/drivers/vfio-pci/bind")), "");
}

static void test_bind_already_bound_writes_nothing(void **state)
{
	(void)state;
	assert_int_equal(vfn_pci_bind("0000:01:00.0", "nvme"), 0);
	fake_sysfs_link_driver("0000:02:00.0", "vfio-pci");
	assert_int_equal(vfn_pci_bind("0000:02:00.0", "vfio-pci"), 0);
	assert_true(no_bus_writes());
	assert_string_equal(dev_content("0000:01:00.0", "driver_override"), "");
	assert_string_equal(dev_content("0000:02:00.0", "driver_override"), "");
}

static void test_bind_rejects(void **state)
{
	static const char *const bad_names[] = {
		"", ".", "..", "../nvme", "nv/me", "nvme\n", "nv me", ".hidden", "a-driver-name-of-32-characters-x",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		assert_int_equal(vfn_pci_bind("0000:02:00.0", bad_names[i]), -EINVAL);
	assert_int_equal(vfn_pci_bind("0000:02:00.0", NULL), -EINVAL);
	assert_int_equal(vfn_pci_bind("0000:02:00.0x", "vfio-pci"), -EINVAL);
	assert_int_equal(vfn_pci_bind("0000:04:00.0", "vfio-pci"), -ENODEV);
	assert_int_equal(vfn_pci_bind("0000:01:00.0", "uio_pci_generic"), -ENOENT);
	assert_true(no_bus_writes());
	assert_string_equal(dev_content("0000:01:00.0", "driver_override"), "");

	/* drivers_probe cannot be written: the error, and override cleared. */
	assert_int_equal(unlink(fake_sysfs_at("bus/pci/drivers_probe")), 0);
	fake_sysfs_mkdir(fake_sysfs_at("bus/pci/drivers_probe"));
	assert_int_equal(vfn_pci_bind("0000:02:00.0", "vfio-pci"), -EISDIR);
	assert_string_equal(dev_content("0000:02:00.0", "driver_override"), "\n");
}

/*
 * The fake kernel: a thread that serves writes to FIFOs standing in for
 * sysfs attributes, in a fixed order.  An UNBIND step reads the BDF, then
 * removes that function's driver link.  A PROBE step waits until the
 * function's driver_override reads @override, creates the driver link to it,
 * and only then opens drivers_probe, so the writer's open() returns after
 * the link exists, as a write to the real attribute does.
 */
enum step_op {
	STEP_UNBIND,
	STEP_PROBE
};

struct step {
	enum step_op op;
	const char *fifo; /* relative to root */
	const char *bdf;
	const char *override; /* PROBE: the value to wait for */
	char got[64];	      /* bytes the library wrote */
	bool ok;
};

struct fake_kernel {
	struct step steps[4];
	int nsteps;
	pthread_t thread;
};

/* Reads what one writer puts into FIFO @path until it closes (~10 s limit). */
static bool read_fifo(const char *path, char *buf, size_t len)
{
	struct pollfd pfd = { .events = POLLIN };
	size_t used = 0;
	ssize_t n;

	pfd.fd = open(path, O_RDONLY | O_NONBLOCK);
	if (pfd.fd < 0)
		return false;
	/* read() gives 0 before a writer opens and after it closes. */
	for (int polls = 0; polls < 1000 && used < len - 1;) {
		n = read(pfd.fd, buf + used, len - 1 - used);
		if (n > 0)
			used += (size_t)n;
		else if (n == 0 && used)
			break;
		else if ((n == 0 || errno == EAGAIN) && poll(&pfd, 1, 10) >= 0)
			polls++;
		else
			break;
	}
	close(pfd.fd);
	buf[used] = '\0';
	return used > 0;
}

static bool wait_override(const char *bdf, const char *value)
{
	char path[PATH_MAX], buf[64];
	struct timespec ms = { 0, 1000000 };
	ssize_t n;
	int fd;

	fake_sysfs_path(path, "devices/pci0000:00/%s/driver_override", bdf);
	for (int i = 0; i < 10000; i++, nanosleep(&ms, NULL)) {
		fd = open(path, O_RDONLY);
		n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		if (n >= 0 && (buf[n] = '\0', !strcmp(buf, value)))
			return true;
	}
	return false;
}

static bool run_step(struct step *s)
{
	char path[PATH_MAX], target[PATH_MAX], link[PATH_MAX];
	bool seen;

	fake_sysfs_path(link, "devices/pci0000:00/%s/driver", s->bdf);
	fake_sysfs_path(path, "%s", s->fifo);
	if (s->op == STEP_UNBIND)
		return read_fifo(path, s->got, sizeof(s->got)) && !unlink(link);
	/* Drain drivers_probe even when the override never came: frees the writer. */
	seen = wait_override(s->bdf, s->override);
	snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", s->override);
	if (seen && symlink(target, link))
		return false;
	return read_fifo(path, s->got, sizeof(s->got)) && seen;
}

static void *kernel_main(void *arg)
{
	struct fake_kernel *k = arg;

	for (int i = 0; i < k->nsteps; i++) {
		k->steps[i].ok = run_step(&k->steps[i]);
		if (!k->steps[i].ok)
			break;
	}
	return NULL;
}

static void make_fifo(const char *rel)
{
	assert_int_equal(unlink(fake_sysfs_at("%s", rel)), 0);
	assert_int_equal(mkfifo(fake_sysfs_at("%s", rel), 0600), 0);
}

static void kernel_start(struct fake_kernel *k)
{
	for (int i = 0; i < k->nsteps; i++)
		make_fifo(k->steps[i].fifo);
	assert_int_equal(pthread_create(&k->thread, NULL, kernel_main, k), 0);
}

static void kernel_join(struct fake_kernel *k)
{
	assert_int_equal(pthread_join(k->thread, NULL), 0);
	for (int i = 0; i < k->nsteps; i++) {
		assert_true(k->steps[i].ok);
		assert_int_equal(unlink(fake_sysfs_at("%s", k->steps[i].fifo)), 0);
		fake_sysfs_put(fake_sysfs_at("%s", k->steps[i].fifo), "");
	}
}

/* vfn_pci_bind(@bdf, "vfio-pci") on a function bound to nvme, the fake kernel acting; @canonical: its sysfs name. */
static void bind_to_vfio(const char *bdf, const char *canonical)
{
	struct fake_kernel to_vfio = { .nsteps = 2,
				       .steps = {
					       { STEP_UNBIND, "bus/pci/drivers/nvme/unbind", canonical, NULL, "",
						 false },
					       { STEP_PROBE, "bus/pci/drivers_probe", canonical, "vfio-pci", "",
						 false },
				       } };
	char buf[32];

	kernel_start(&to_vfio);
	assert_int_equal(vfn_pci_bind(bdf, "vfio-pci"), 0);
	kernel_join(&to_vfio);
	assert_string_equal(to_vfio.steps[0].got, canonical);
	assert_string_equal(to_vfio.steps[1].got, canonical);
	assert_string_equal(dev_content(canonical, "driver_override"), "vfio-pci");
	assert_int_equal(vfn_pci_get_driver(canonical, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "vfio-pci");
}

static void test_bind_unbind_with_fake_kernel(void **state)
{
	struct fake_kernel release = { .nsteps = 1,
				       .steps = {
					       { STEP_UNBIND, "bus/pci/drivers/vfio-pci/unbind", "0000:01:00.0", NULL,
						 "", false },
				       } };
	struct fake_kernel to_nvme = { .nsteps = 1,
				       .steps = {
					       { STEP_PROBE, "bus/pci/drivers_probe", "0000:01:00.0", "nvme", "",
						 false },
				       } };
	char buf[32];

	(void)state;
	bind_to_vfio("0000:01:00.0", "0000:01:00.0");
	assert_int_equal(vfn_pci_bind("0000:01:00.0", "vfio-pci"), 0); /* no FIFO: no writes */

	kernel_start(&release);
	assert_int_equal(vfn_pci_unbind("0000:01:00.0"), 0);
	kernel_join(&release);
	assert_string_equal(release.steps[0].got, "0000:01:00.0");
	assert_string_equal(dev_content("0000:01:00.0", "driver_override"), "\n");
	assert_int_equal(vfn_pci_get_driver("0000:01:00.0", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");

	dev_file("0000:01:00.0", "driver_override", ""); /* what the fake kernel waits for is the whole file */
	kernel_start(&to_nvme);
	assert_int_equal(vfn_pci_bind("0000:01:00.0", "nvme"), 0);
	kernel_join(&to_nvme);
	assert_string_equal(to_nvme.steps[0].got, "0000:01:00.0");
	assert_int_equal(vfn_pci_get_driver("0000:01:00.0", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "nvme");
}

/*
 * Functions in domains beyond 0xffff, as Linux numbers those it creates behind
 * an Intel VMD (from 0x10000), and one in a 6-digit domain that sorts after
 * them though strcmp() would put it first.  Plus a name sysfs never uses.
 */
static void add_vmd_funcs(void)
{
	fake_sysfs_mkdir(fake_sysfs_at("kernel/iommu_groups/9"));
	add_func("10000:e1:00.0", 0x8086, 0xf1a8, 0x010802, "nvme", 9);
	add_func("10000:e0:00.0", 0x8086, 0x09ab, 0x060400, "pcieport", 9);
	add_func("ffff:01:00.0", 0x1b36, 0x0010, 0x010802, NULL, -1);
	add_func("100000:00:00.0", 0x1b36, 0x0010, 0x010802, NULL, -1);
	add_func("00010000:e2:00.0", 0x1b36, 0x0010, 0x010802, NULL, -1);
}

static void test_vmd_domain_listed(void **state)
{
	static const char *const nvme[] = {
		"0000:01:00.0", "0000:02:00.0", "0000:0a:00.0", "ffff:01:00.0", "10000:e1:00.0", "100000:00:00.0",
	};
	struct vfn_pci_func funcs[16];

	(void)state;
	add_vmd_funcs();
	assert_int_equal(vfn_pci_list(VFN_PCI_CLASS_NVME, VFN_PCI_CLASS_NVME_MASK, funcs, 16), 6);
	for (int i = 0; i < 6; i++)
		assert_string_equal(funcs[i].bdf, nvme[i]);
	assert_int_equal(funcs[4].vendor, 0x8086);
	assert_int_equal(funcs[4].device, 0xf1a8);
	assert_int_equal(funcs[4].iommu_group, 9);
	assert_string_equal(funcs[4].driver, "nvme");

	assert_int_equal(vfn_pci_list(0, 0, funcs, 16), 10);
	assert_string_equal(funcs[7].bdf, "10000:e0:00.0");
	assert_string_equal(funcs[7].driver, "pcieport");
	assert_string_equal(funcs[8].bdf, "10000:e1:00.0");
	assert_string_equal(funcs[9].bdf, "100000:00:00.0");
}

static void test_vmd_domain_looked_up(void **state)
{
	struct vfn_pci_func f;
	char buf[32];

	(void)state;
	add_vmd_funcs();
	expect_func("10000:E1:00.0", "10000:e1:00.0", 0x8086, 0xf1a8, 0x010802, 9, "nvme");
	assert_int_equal(vfn_pci_get_func("00010000:e1:00.0", &f), 0);
	assert_string_equal(f.bdf, "10000:e1:00.0");
	assert_int_equal(vfn_pci_get_func("100000:00:00.0", &f), 0);
	assert_string_equal(f.bdf, "100000:00:00.0");
	assert_int_equal(f.iommu_group, -1);

	assert_int_equal(vfn_pci_get_driver("10000:e1:00.0", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "nvme");
	assert_int_equal(vfn_pci_iommu_group("10000:e1:00.0"), 9);
	/* Only the canonical name exists in sysfs: the odd one is not found. */
	assert_int_equal(vfn_pci_get_func("10000:e2:00.0", &f), -ENODEV);
	assert_int_equal(vfn_pci_get_func("10001:e1:00.0", &f), -ENODEV);
	assert_int_equal(vfn_pci_get_func("0000:e1:00.0", &f), -ENODEV);
	assert_int_equal(vfn_pci_get_func("100000000:e1:00.0", &f), -EINVAL);
}

static void test_vmd_domain_bound(void **state)
{
	(void)state;
	add_vmd_funcs();
	bind_to_vfio("00010000:E1:00.0", "10000:e1:00.0");

	/* Nothing acts on this unbind: the canonical address written, override cleared. */
	assert_int_equal(vfn_pci_unbind("10000:e1:00.0"), 0);
	assert_string_equal(get_file(fake_sysfs_at("bus/pci/drivers/vfio-pci/unbind")), "10000:e1:00.0");
	assert_string_equal(dev_content("10000:e1:00.0", "driver_override"), "\n");
}

/* A file outside the tree holding @content; its path in @path (PATH_MAX). */
static void victim_file(char *path, const char *content)
{
	int fd;

	strcpy(path, "/tmp/vfn-test-victim-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	fake_sysfs_put(path, content);
}

/* Replaces attribute @rel (relative to the tree) with a symlink to @target. */
static void plant_link(const char *rel, const char *target)
{
	assert_int_equal(unlink(fake_sysfs_at("%s", rel)), 0);
	assert_int_equal(symlink(target, fake_sysfs_at("%s", rel)), 0);
}

/*
 * Root-safety: an attribute that is a symlink (planted where sysfs has a
 * regular file) is neither read nor written through, and a write never
 * truncates what it opens.
 */
static void test_attribute_symlinks_not_followed(void **state)
{
	char victim[PATH_MAX], vendor[PATH_MAX];
	struct vfn_pci_func f;

	(void)state;
	victim_file(victim, "precious data\n");
	plant_link("devices/pci0000:00/0000:02:00.0/driver_override", victim);
	assert_int_equal(vfn_pci_unbind("0000:02:00.0"), -ELOOP);
	assert_int_equal(vfn_pci_bind("0000:02:00.0", "vfio-pci"), -ELOOP);
	plant_link("bus/pci/drivers/nvme/unbind", victim);
	assert_int_equal(vfn_pci_unbind("0000:01:00.0"), -ELOOP);
	assert_string_equal(get_file(victim), "precious data\n");

	victim_file(vendor, "0x1b36\n");
	plant_link("devices/pci0000:00/0000:0a:00.0/vendor", vendor);
	assert_int_equal(vfn_pci_get_func("0000:0a:00.0", &f), -ELOOP);
	unlink(vendor);
	unlink(victim);

	/* No O_TRUNC: the write lands at offset 0 over what the (regular) file held. */
	dev_file("0000:03:00.0", "driver_override", "0123456789\n");
	assert_int_equal(vfn_pci_unbind("0000:03:00.0"), 0);
	assert_string_equal(get_file(fake_sysfs_at("devices/pci0000:00/0000:03:00.0/driver_override")),
			    "\n123456789\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_bdf_table),
		cmocka_unit_test_setup_teardown(test_get_func_values, setup, fake_sysfs_teardown),
		cmocka_unit_test_setup_teardown(test_get_func_parses_robustly, setup, fake_sysfs_teardown),
		cmocka_unit_test_setup_teardown(test_list_filters_sorts_counts, setup, fake_sysfs_teardown),
		cmocka_unit_test_setup_teardown(test_list_propagates_bad_attribute, setup, fake_sysfs_teardown),
		cmocka_unit_test_setup_teardown(test_get_driver_and_iommu_group, setup, fake_sysfs_teardown),
		cmocka_unit_test_setup_teardown(test_unbind_writes, setup, fake_sysfs_teardown),
		cmocka_unit_test_setup_teardown(test_bind_without_kernel_fails_clean, setup, fake_sysfs_teardown),
		cmocka_unit_test_setup_teardown(test_bind_already_bound_writes_nothing, setup, fake_sysfs_teardown),
		cmocka_unit_test_setup_teardown(test_bind_rejects, setup, fake_sysfs_teardown),
		cmocka_unit_test_setup_teardown(test_bind_unbind_with_fake_kernel, setup, fake_sysfs_teardown),
		cmocka_unit_test_setup_teardown(test_vmd_domain_listed, setup, fake_sysfs_teardown),
		cmocka_unit_test_setup_teardown(test_vmd_domain_looked_up, setup, fake_sysfs_teardown),
		cmocka_unit_test_setup_teardown(test_vmd_domain_bound, setup, fake_sysfs_teardown),
		cmocka_unit_test_setup_teardown(test_attribute_symlinks_not_followed, setup, fake_sysfs_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
