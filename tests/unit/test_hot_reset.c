/* SPDX-License-Identifier: MIT */
/*
 * vfn_vfio_hot_reset() on the iommufd cdev path against a faked
 * VFIO_DEVICE_GET_PCI_HOT_RESET_INFO (ld --wrap=ioctl): a bus reset that
 * would reach a function not owned here (FLAG_DEV_ID without
 * FLAG_DEV_ID_OWNED, a devid of VFIO_PCI_DEVID_NOT_OWNED) is refused by the
 * check, before anything is stopped and without VFIO_DEVICE_PCI_HOT_RESET;
 * with every function owned the reset is issued, with no group fds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <linux/vfio.h>

#include <vfn/vfio.h>

#include "vfio/vfio-priv.h"

static uint32_t fake_flags;  /* what GET_PCI_HOT_RESET_INFO reports */
static unsigned int resets;  /* VFIO_DEVICE_PCI_HOT_RESET calls */
static uint32_t reset_count; /* the group fd count of the last one */

int __wrap_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	assert_int_equal(fd, 99);
	if (req == VFIO_DEVICE_GET_PCI_HOT_RESET_INFO) {
		struct vfio_pci_hot_reset_info *info = arg;
		size_t need = sizeof(*info) + 2 * sizeof(info->devices[0]);

		info->flags = fake_flags;
		info->count = 2;
		if (info->argsz < need) {
			errno = ENOSPC;
			return -1;
		}
		/* The device itself (devid 1) and its sibling function (not owned when DEV_ID_OWNED is clear). */
		memset(info->devices, 0, 2 * sizeof(info->devices[0]));
		info->devices[0].group_id = 1;
		info->devices[0].bus = 1;
		info->devices[1].group_id = (fake_flags & 2) ? 0 : UINT32_MAX;
		info->devices[1].bus = 1;
		info->devices[1].devfn = 1;
		return 0;
	}
	if (req == VFIO_DEVICE_PCI_HOT_RESET) {
		resets++;
		reset_count = ((struct vfio_pci_hot_reset *)arg)->count;
		return 0;
	}
	errno = ENOTTY;
	return -1;
}

static void test_cdev_not_owned(void **state)
{
	struct vfn_vfio_dev dev = { .bdf = "0000:01:00.0", .fd = 99 }; /* no group: the cdev path */

	(void)state;
	fake_flags = 1; /* VFIO_PCI_HOT_RESET_FLAG_DEV_ID, not ..._OWNED */
	resets = 0;
	assert_int_equal(vfn_vfio_hot_reset_check(&dev), -EBUSY);
	assert_int_equal(vfn_vfio_hot_reset(&dev), -EBUSY);
	assert_int_equal(resets, 0);

	fake_flags = 1 | 2; /* every function owned */
	assert_int_equal(vfn_vfio_hot_reset_check(&dev), 0);
	assert_int_equal(vfn_vfio_hot_reset(&dev), 0);
	assert_int_equal(resets, 1);
	assert_int_equal(reset_count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cdev_not_owned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
