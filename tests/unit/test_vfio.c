/* SPDX-License-Identifier: MIT */
/*
 * vfn_vfio_open()'s rejections, against a fake sysfs tree (fake-sysfs.h):
 * every one returns its documented errno, leaves *out alone and leaves no
 * file descriptor open (memory: ASan's leak check).  Group numbers are ones
 * no host has, so the last step (open /dev/vfio/N) fails the same way
 * with or without VFIO loaded.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <vfn/pci.h>
#include <vfn/vfio.h>

#include "iommu/iommu-priv.h"

#include "fake-sysfs.h"

#define NO_SUCH_GROUP 987654

static int setup(void **state)
{
	char name[80];

	(void)state;
	fake_sysfs_create("vfio");
	fake_sysfs_mkdir(fake_sysfs_at("bus/pci/drivers/nvme"));
	fake_sysfs_mkdir(fake_sysfs_at("bus/pci/drivers/vfio-pci"));
	fake_sysfs_add_func("0000:01:00.0", "nvme", 5);
	fake_sysfs_add_func("0000:02:00.0", NULL, 6);
	fake_sysfs_add_func("0000:03:00.0", "vfio-pci", -1);
	fake_sysfs_add_func("0000:04:00.0", "vfio-pci", NO_SUCH_GROUP);
	/* A driver name longer than any vfio-pci could be. */
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	fake_sysfs_add_func("0000:05:00.0", name, 8);
	/* vfio-pci with a device cdev (Linux 6.6+), and with a cdev-less vfio-dev (6.1-6.5). */
	fake_sysfs_add_func("0000:06:00.0", "vfio-pci", NO_SUCH_GROUP + 1);
	fake_sysfs_mkdir(fake_sysfs_at("devices/pci0000:00/0000:06:00.0/vfio-dev"));
	fake_sysfs_mkdir(fake_sysfs_at("devices/pci0000:00/0000:06:00.0/vfio-dev/vfio987"));
	fake_sysfs_put(fake_sysfs_at("devices/pci0000:00/0000:06:00.0/vfio-dev/vfio987/dev"), "511:987\n");
	fake_sysfs_add_func("0000:07:00.0", "vfio-pci", NO_SUCH_GROUP + 2);
	fake_sysfs_mkdir(fake_sysfs_at("devices/pci0000:00/0000:07:00.0/vfio-dev"));
	fake_sysfs_mkdir(fake_sysfs_at("devices/pci0000:00/0000:07:00.0/vfio-dev/vfio988"));
	fake_sysfs_use();
	return 0;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Opens @bdf expecting @err: *out untouched, no descriptor left open. */
static void expect_open_fails(const char *bdf, int err)
{
	struct vfn_vfio_dev *dev = (struct vfn_vfio_dev *)&dev;
	int fds = count_fds();

	assert_int_equal(vfn_vfio_open(bdf, NULL, &dev), err);
	assert_ptr_equal(dev, (struct vfn_vfio_dev *)&dev);
	assert_int_equal(count_fds(), fds);
}

static void test_null_arguments(void **state)
{
	struct vfn_vfio_dev *dev = NULL;

	(void)state;
	assert_int_equal(vfn_vfio_open(NULL, NULL, &dev), -EINVAL);
	assert_int_equal(vfn_vfio_open("0000:04:00.0", NULL, NULL), -EINVAL);
	assert_null(dev);
}

static void test_malformed_address(void **state)
{
	(void)state;
	expect_open_fails("", -EINVAL);
	expect_open_fails("0000:04:00", -EINVAL);
	expect_open_fails("0000:04:00.8", -EINVAL);
	expect_open_fails("0000:04:20.0", -EINVAL);
	expect_open_fails("../../etc/passwd", -EINVAL);
	expect_open_fails("0000:04:00.0/../..", -EINVAL);
}

static void test_missing_device(void **state)
{
	(void)state;
	expect_open_fails("0000:09:00.0", -ENODEV);
	expect_open_fails("09:00.0", -ENODEV);
}

static void test_bound_to_nvme(void **state)
{
	(void)state;
	expect_open_fails("0000:01:00.0", -EBUSY);
}

static void test_unbound(void **state)
{
	(void)state;
	expect_open_fails("0000:02:00.0", -EBUSY);
}

static void test_driver_name_too_long(void **state)
{
	(void)state;
	expect_open_fails("0000:05:00.0", -EBUSY);
}

static void test_no_iommu_group(void **state)
{
	(void)state;
	expect_open_fails("0000:03:00.0", -ENOENT);
}

static void test_no_group_device_node(void **state)
{
	(void)state;
	/* Bound to vfio-pci, but /dev/vfio/987654 does not exist. */
	expect_open_fails("0000:04:00.0", -ENOENT);
	/* The failure left nothing cached: the same answer again. */
	expect_open_fails("04:00.0", -ENOENT);
}

static void test_cdev_lookup(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(vfn_pci_vfio_cdev("06:00.0", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/dev/vfio/devices/vfio987");
	assert_int_equal(vfn_pci_vfio_cdev("0000:06:00.0", buf, 25), -ENAMETOOLONG);
	assert_string_equal(buf, "");
	assert_int_equal(vfn_pci_vfio_cdev("0000:07:00.0", buf, sizeof(buf)), -ENOENT); /* no dev attribute */
	assert_int_equal(vfn_pci_vfio_cdev("0000:04:00.0", buf, sizeof(buf)), -ENOENT); /* no vfio-dev */
	assert_int_equal(vfn_pci_vfio_cdev("0000:09:00.0", buf, sizeof(buf)), -ENODEV);
	assert_int_equal(vfn_pci_vfio_cdev("0000:06:00.0", NULL, 8), -EINVAL);
}

static void test_backend_choice(void **state)
{
	(void)state;
	setenv("VFN_IOMMU", "type1", 1);
	assert_int_equal(vfn_vfio_pick_backend("0000:06:00.0", VFN_IOMMU_AUTO), VFN_IOMMU_TYPE1);
	assert_int_equal(vfn_vfio_pick_backend("0000:06:00.0", VFN_IOMMU_IOMMUFD), VFN_IOMMU_IOMMUFD);
	setenv("VFN_IOMMU", "iommufd", 1);
	assert_int_equal(vfn_vfio_pick_backend("0000:07:00.0", VFN_IOMMU_AUTO), VFN_IOMMU_IOMMUFD);
	setenv("VFN_IOMMU", "vfio", 1);
	assert_int_equal(vfn_vfio_pick_backend("0000:06:00.0", VFN_IOMMU_AUTO), -EINVAL);
	expect_open_fails("0000:06:00.0", -EINVAL);
	unsetenv("VFN_IOMMU");
	assert_int_equal(vfn_vfio_pick_backend("0000:06:0", VFN_IOMMU_AUTO), -EINVAL);
	/* No cdev: automatic is type1 whatever the host has. */
	assert_int_equal(vfn_vfio_pick_backend("0000:07:00.0", VFN_IOMMU_AUTO), VFN_IOMMU_TYPE1);
}

/* iommufd forced: no cdev is -ENXIO, a cdev without its node -ENOENT; nothing left open. */
static void test_cdev_open_failures(void **state)
{
	struct vfn_vfio_opts opts = { .backend = VFN_IOMMU_IOMMUFD };
	struct vfn_vfio_dev *dev = NULL;
	struct vfn_iommu *soft;
	int fds = count_fds();

	(void)state;
	assert_int_equal(vfn_vfio_open("0000:07:00.0", &opts, &dev), -ENXIO);
	assert_int_equal(vfn_vfio_open("0000:06:00.0", &opts, &dev), -ENOENT);
	setenv("VFN_IOMMU", "iommufd", 1);
	expect_open_fails("0000:07:00.0", -ENXIO);
	unsetenv("VFN_IOMMU");
	/* An address space that is not the kernel's, or not the one forced. */
	assert_int_equal(vfn_iommu_create_soft(&soft), 0);
	opts.iommu = soft;
	assert_int_equal(vfn_vfio_open("0000:06:00.0", &opts, &dev), -EINVAL);
	vfn_iommu_put(soft);
	assert_null(dev);
	assert_int_equal(count_fds(), fds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_arguments),
		cmocka_unit_test(test_malformed_address),
		cmocka_unit_test(test_missing_device),
		cmocka_unit_test(test_bound_to_nvme),
		cmocka_unit_test(test_unbound),
		cmocka_unit_test(test_driver_name_too_long),
		cmocka_unit_test(test_no_iommu_group),
		cmocka_unit_test(test_no_group_device_node),
		cmocka_unit_test(test_cdev_lookup),
		cmocka_unit_test(test_backend_choice),
		cmocka_unit_test(test_cdev_open_failures),
	};

	return cmocka_run_group_tests(tests, setup, fake_sysfs_teardown);
}
