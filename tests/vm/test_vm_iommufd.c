/* SPDX-License-Identifier: MIT */
/*
 * Guest test of the IOMMU backends through real VFIO: which backend a
 * device gets (automatic, forced through the options), the usable IOVA
 * ranges the kernel reports, and two controllers sharing one address space
 * (one IOAS on iommufd, one container on type1), each doing I/O, the second
 * still working after the first is closed.  The host says what to expect:
 *   VFN_BDF, VFN_TEST_BDF2     the two controllers (the second may be unbound)
 *   VFN_TEST_SERIAL2           the second one's serial
 *   VFN_TEST_IOMMU             the automatic backend's name ("iommufd", "type1")
 *   VFN_TEST_KERNEL            "built" (iommufd, cdev, compat container) or
 *                              "debian" (type1 only)
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

static const char *env(const char *name)
{
	const char *v = getenv(name);

	if (!v) {
		fprintf(stderr, "# %s is not set\n", name);
		fail();
	}
	return v;
}

static bool built_kernel(void)
{
	return !strcmp(env("VFN_TEST_KERNEL"), "built");
}

/* Opens @bdf with @backend; returns what vfn_vfio_open() did and the backend's name. */
static int open_with(const char *bdf, enum vfn_iommu_backend backend, char *name, size_t len)
{
	struct vfn_vfio_opts opts = { .backend = backend };
	struct vfn_vfio_dev *dev = NULL;
	int ret = vfn_vfio_open(bdf, &opts, &dev);

	snprintf(name, len, "%s", ret ? "" : vfn_iommu_backend_name(vfn_vfio_iommu(dev)));
	vfn_vfio_close(dev);
	return ret;
}

static void test_automatic_backend(void **state)
{
	char name[32];

	(void)state;
	assert_int_equal(open_with(env("VFN_BDF"), VFN_IOMMU_AUTO, name, sizeof(name)), 0);
	assert_string_equal(name, env("VFN_TEST_IOMMU"));
}

static void test_forced_backends(void **state)
{
	const char *bdf = env("VFN_BDF");
	char name[32];

	(void)state;
	if (built_kernel()) {
		assert_int_equal(open_with(bdf, VFN_IOMMU_IOMMUFD, name, sizeof(name)), 0);
		assert_string_equal(name, "iommufd");
		/* /dev/vfio/vfio on this kernel is iommufd's compat container. */
		assert_int_equal(open_with(bdf, VFN_IOMMU_TYPE1, name, sizeof(name)), 0);
		assert_string_equal(name, "type1 (iommufd compat)");
	} else {
		assert_int_equal(open_with(bdf, VFN_IOMMU_TYPE1, name, sizeof(name)), 0);
		assert_string_equal(name, "type1");
		/* Linux 6.1: no device cdev. */
		assert_int_equal(open_with(bdf, VFN_IOMMU_IOMMUFD, name, sizeof(name)), -ENXIO);
	}
}

/* QEMU's intel-iommu reserves the x86 MSI window; the rest of 39 bits is usable. */
static void test_usable_ranges(void **state)
{
	struct vfn_vfio_dev *dev = NULL;
	struct vfn_iova_range r[4];

	(void)state;
	assert_int_equal(vfn_vfio_open(env("VFN_BDF"), NULL, &dev), 0);
	assert_int_equal(vfn_iommu_get_ranges(vfn_vfio_iommu(dev), r, 4), 2);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, 0xfedfffff);
	assert_int_equal(r[1].start, 0xfef00000);
	assert_int_equal(r[1].last, (1ull << 39) - 1);
	vfn_vfio_close(dev);
}

static struct vfn_dev *open_dev(const char *bdf)
{
	struct vfn_dev_opts opts = { .backend = "vfio" };
	struct vfn_dev *dev = NULL;

	assert_int_equal(vfn_dev_open(bdf, &opts, &dev), 0);
	return dev;
}

/*
 * Writes a block of @fill at @slba and reads it back into a buffer of 0xff:
 * @expect is what the device puts there (@fill, or 0 from the second
 * controller's null-co drive, which drops writes and reads zeroes).
 */
static void write_read(struct vfn_dev *dev, uint64_t slba, int fill, int expect)
{
	uint32_t bs = vfn_dev_get_info(dev)->lba_size;
	uint8_t *buf = NULL;
	ssize_t len = vfn_dev_buf_alloc(dev, bs, (void **)&buf);

	assert_true(len >= (ssize_t)bs);
	memset(buf, fill, bs);
	assert_int_equal(vfn_dev_write(dev, 1, slba, 1, buf), 0);
	memset(buf, 0xff, bs);
	assert_int_equal(vfn_dev_read(dev, 1, slba, 1, buf), 0);
	for (uint32_t i = 0; i < bs; i++)
		assert_int_equal(buf[i], expect);
	vfn_dev_buf_free(dev, buf, (size_t)len);
}

static void test_two_devices_one_address_space(void **state)
{
	const char *bdf2 = env("VFN_TEST_BDF2");
	struct vfn_dev *a, *b;

	(void)state;
	assert_int_equal(vfn_pci_bind(bdf2, "vfio-pci"), 0);
	a = open_dev(env("VFN_BDF"));
	b = open_dev(bdf2);
	assert_string_equal(vfn_dev_get_info(b)->sn, env("VFN_TEST_SERIAL2"));
	assert_string_equal(vfn_dev_get_info(a)->iommu, env("VFN_TEST_IOMMU"));
	assert_string_equal(vfn_dev_get_info(b)->iommu, env("VFN_TEST_IOMMU"));
	assert_ptr_equal(vfn_nvme_ctrl_iommu(vfn_dev_nvme_ctrl(a)), vfn_nvme_ctrl_iommu(vfn_dev_nvme_ctrl(b)));
	write_read(a, 7, 0xa5, 0xa5);
	write_read(b, 7, 0x5a, 0);
	/* The first one leaving keeps the second one's mappings. */
	vfn_dev_close(a);
	write_read(b, 8, 0x3c, 0);
	vfn_dev_close(b);
	/* And a device opened again gets a working space. */
	a = open_dev(env("VFN_BDF"));
	write_read(a, 9, 0xc3, 0xc3);
	vfn_dev_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_automatic_backend),
		cmocka_unit_test(test_forced_backends),
		cmocka_unit_test(test_usable_ranges),
		cmocka_unit_test(test_two_devices_one_address_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
