/* SPDX-License-Identifier: MIT */
/*
 * vfn_vfio_hot_reset() on the iommufd cdev path against a faked
 * VFIO_DEVICE_GET_PCI_HOT_RESET_INFO (ld --wrap=ioctl): a bus reset that
 * would reach a function not owned here (FLAG_DEV_ID without
 * FLAG_DEV_ID_OWNED, a devid of VFIO_PCI_DEVID_NOT_OWNED) is refused by the
 * check, before anything is stopped and without VFIO_DEVICE_PCI_HOT_RESET;
 * with every function owned the reset is issued, with no group fds.  And
 * the process-wide registry of open devices: a reached function open here
 * through another handle refuses the reset the same way.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/vfio.h>

#include <vfn/nvme.h>
#include <vfn/vfio.h>

#include "nvme/ctrl-priv.h"
#include "nvme/hw.h"
#include "vfio/vfio-priv.h"

#include "fake-sysfs.h"

static int sib_in;		/* test_reset_vs_open: the sibling is registered (atomic) */
static bool threaded;		/* test_reset_vs_open: the reset ioctl takes a while and checks sib_in */
static unsigned int violations; /* reset ioctls issued with the sibling registered */
static uint32_t fake_flags;	/* what GET_PCI_HOT_RESET_INFO reports */
static unsigned int resets;	/* VFIO_DEVICE_PCI_HOT_RESET calls */
static uint32_t reset_count;	/* the group fd count of the last one */

int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd < 96 || fd > 99) /* not a faked device: the simulator's */
		return __real_ioctl(fd, req, arg);
	assert_int_equal(fd, 99); /* only the device reset, never the sibling's fd */
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
		if (threaded) { /* the reset takes time: no sibling may be registered meanwhile */
			struct timespec ts = { 0, 20000 };

			if (__atomic_load_n(&sib_in, __ATOMIC_SEQ_CST))
				violations++;
			nanosleep(&ts, NULL);
			if (__atomic_load_n(&sib_in, __ATOMIC_SEQ_CST))
				violations++;
		}
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

/*
 * Both functions owned (the kernel would allow the reset), but the sibling
 * 0000:01:00.1 is open in this process through another handle: refused
 * with -EBUSY before VFIO_DEVICE_PCI_HOT_RESET; once it is closed (removed
 * from the registry) the reset goes through.  A device open elsewhere on
 * another bus does not stand in the way.
 */
static void test_sibling_open(void **state)
{
	struct vfn_vfio_dev dev = { .bdf = "0000:01:00.0", .fd = 99 };
	struct vfn_vfio_dev sib = { .bdf = "0000:01:00.1", .fd = 98 };
	struct vfn_vfio_dev other = { .bdf = "0000:02:00.0", .fd = 97 };

	(void)state;
	fake_flags = 1 | 2; /* DEV_ID | DEV_ID_OWNED */
	resets = 0;
	vfn_vfio_registry_add(&dev);
	vfn_vfio_registry_add(&other);
	vfn_vfio_registry_add(&sib);

	assert_int_equal(vfn_vfio_hot_reset_check(&dev), -EBUSY);
	assert_int_equal(vfn_vfio_hot_reset(&dev), -EBUSY);
	assert_int_equal(resets, 0);

	vfn_vfio_registry_del(&sib);
	assert_null(sib.open_next);
	assert_int_equal(vfn_vfio_hot_reset_check(&dev), 0);
	assert_int_equal(vfn_vfio_hot_reset(&dev), 0);
	assert_int_equal(resets, 1);

	vfn_vfio_registry_del(&other);
	vfn_vfio_registry_del(&dev);
	vfn_vfio_registry_del(&dev); /* not registered: no-op */
}

/* A second handle on the same function (same BDF, another vfn_vfio_dev) is also refused. */
static void test_second_handle(void **state)
{
	struct vfn_vfio_dev dev = { .bdf = "0000:01:00.0", .fd = 99 };
	struct vfn_vfio_dev twin = { .bdf = "0000:01:00.0", .fd = 96 };

	(void)state;
	fake_flags = 1 | 2;
	resets = 0;
	vfn_vfio_registry_add(&dev);
	vfn_vfio_registry_add(&twin);
	assert_int_equal(vfn_vfio_hot_reset(&dev), -EBUSY);
	assert_int_equal(resets, 0);
	vfn_vfio_registry_del(&twin);
	assert_int_equal(vfn_vfio_hot_reset(&dev), 0);
	assert_int_equal(resets, 1);
	vfn_vfio_registry_del(&dev);
}

/*
 * The sibling 0000:01:00.1 bound to another driver, or to none: vfio-pci
 * would refuse VFIO_DEVICE_PCI_HOT_RESET after the controller was stopped,
 * so the check refuses first (-EBUSY), with no reset ioctl.
 */
static void test_sibling_not_vfio(void **state)
{
	struct vfn_vfio_dev dev = { .bdf = "0000:01:00.0", .fd = 99 };
	const char *link = fake_sysfs_at("devices/pci0000:00/0000:01:00.1/driver");

	(void)state;
	fake_flags = 1 | 2;
	resets = 0;
	assert_int_equal(unlink(link), 0);
	fake_sysfs_link_driver("0000:01:00.1", "nvme");
	assert_int_equal(vfn_vfio_hot_reset_check(&dev), -EBUSY);
	assert_int_equal(vfn_vfio_hot_reset(&dev), -EBUSY);
	assert_int_equal(unlink(fake_sysfs_at("devices/pci0000:00/0000:01:00.1/driver")), 0); /* unbound */
	assert_int_equal(vfn_vfio_hot_reset(&dev), -EBUSY);
	assert_int_equal(resets, 0);

	fake_sysfs_link_driver("0000:01:00.1", "vfio-pci");
	assert_int_equal(vfn_vfio_hot_reset(&dev), 0);
	assert_int_equal(resets, 1);
}

/*
 * The registry lock is held from the check to the reset ioctl: another
 * thread opening and closing the sibling 0000:01:00.1 in a loop (sib_in
 * set after vfn_vfio_registry_add() returns, cleared before
 * vfn_vfio_registry_del()) never has it registered while the ioctl runs;
 * each reset is either refused (-EBUSY) or issued.  Fails (violations)
 * when the lock is dropped between the check and the ioctl.  TSan clean.
 */
static struct vfn_vfio_dev churn_sib = { .bdf = "0000:01:00.1", .fd = 98 };
static int churn_stop;

static void *churn(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&churn_stop, __ATOMIC_SEQ_CST)) {
		vfn_vfio_registry_add(&churn_sib);
		__atomic_store_n(&sib_in, 1, __ATOMIC_SEQ_CST);
		sched_yield();
		__atomic_store_n(&sib_in, 0, __ATOMIC_SEQ_CST);
		vfn_vfio_registry_del(&churn_sib);
		sched_yield();
	}
	return NULL;
}

static void test_reset_vs_open(void **state)
{
	struct vfn_vfio_dev dev = { .bdf = "0000:01:00.0", .fd = 99 };
	unsigned int issued = 0, refused = 0;
	pthread_t t;

	(void)state;
	fake_flags = 1 | 2;
	resets = 0;
	violations = 0;
	threaded = true;
	churn_stop = 0;
	assert_int_equal(pthread_create(&t, NULL, churn, NULL), 0);
	for (int i = 0; i < 2000; i++) {
		int ret = vfn_vfio_hot_reset(&dev);

		assert_true(ret == 0 || ret == -EBUSY);
		if (ret)
			refused++;
		else
			issued++;
	}
	__atomic_store_n(&churn_stop, 1, __ATOMIC_SEQ_CST);
	assert_int_equal(pthread_join(t, NULL), 0);
	threaded = false;
	fprintf(stderr, "# %u resets issued, %u refused\n", issued, refused);
	assert_int_equal(resets, issued);
	assert_int_equal(violations, 0);
	assert_null(churn_sib.open_next);
}

/*
 * A function in PCI domain 0x10000 (as behind Intel VMD): VFIO reports the
 * reached functions' segment in 16 bits (0 here), and domain 0 has
 * functions at the same bus/device/function (bound to vfio-pci, not open).
 * The sibling 10000:01:00.1 open here, or bound to nvme, is still seen:
 * -EBUSY, no reset; neither: the reset goes through.
 */
static void test_wide_domain(void **state)
{
	struct vfn_vfio_dev dev = { .bdf = "10000:01:00.0", .fd = 99 };
	struct vfn_vfio_dev sib = { .bdf = "10000:01:00.1", .fd = 98 };

	(void)state;
	fake_flags = 1 | 2;
	resets = 0;
	vfn_vfio_registry_add(&dev);
	vfn_vfio_registry_add(&sib);
	assert_int_equal(vfn_vfio_hot_reset(&dev), -EBUSY);
	assert_int_equal(resets, 0);
	vfn_vfio_registry_del(&sib);

	assert_int_equal(unlink(fake_sysfs_at("devices/pci0000:00/10000:01:00.1/driver")), 0);
	fake_sysfs_link_driver("10000:01:00.1", "nvme");
	assert_int_equal(vfn_vfio_hot_reset_check(&dev), -EBUSY);
	assert_int_equal(resets, 0);
	assert_int_equal(unlink(fake_sysfs_at("devices/pci0000:00/10000:01:00.1/driver")), 0);
	fake_sysfs_link_driver("10000:01:00.1", "vfio-pci");

	assert_int_equal(vfn_vfio_hot_reset(&dev), 0);
	assert_int_equal(resets, 1);
	vfn_vfio_registry_del(&dev);
}

/* The first error line logged (vfn_log_set_fn()). */
static char first_err[256];

static void keep_err(enum vfn_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (level == VFN_LOG_ERR && !first_err[0])
		snprintf(first_err, sizeof(first_err), "%s", msg);
}

/*
 * A reached function that VFIO reports and sysfs lacks (20000:01:00.1 is
 * not in the fake tree): refused (-EBUSY, no reset) with a line that says
 * so, not "run `vfn bind`" (which would fail: no such function).
 */
static void test_sibling_not_in_sysfs(void **state)
{
	struct vfn_vfio_dev dev = { .bdf = "20000:01:00.0", .fd = 99 };

	(void)state;
	fake_flags = 1 | 2;
	resets = 0;
	first_err[0] = '\0';
	vfn_log_set_fn(keep_err, NULL);
	vfn_log_set_level(VFN_LOG_ERR);
	assert_int_equal(vfn_vfio_hot_reset(&dev), -EBUSY);
	vfn_log_set_level(VFN_LOG_NONE);
	vfn_log_set_fn(NULL, NULL);
	assert_int_equal(resets, 0);
	fprintf(stderr, "# %s\n", first_err);
	assert_non_null(strstr(first_err, "20000:01:00.1, which VFIO reports and sysfs does not show"));
	assert_null(strstr(first_err, "vfn bind"));
}

/*
 * The controller layer over the check's window: the simulator's controller
 * with hw-vfio.c's hot reset on the faked 0000:01:00.0.  The check done
 * before the quiesce passes; the sibling 0000:01:00.1 is then opened (as
 * another thread's vfn_vfio_open() would while the controller stops), so
 * vfn_vfio_hot_reset() refuses after the quiesce: -EBUSY, no reset ioctl,
 * and the controller works again (re-created as after a controller reset),
 * not left failed.
 */
static struct vfn_vfio_dev race_dev = { .bdf = "0000:01:00.0", .fd = 99 };
static struct vfn_vfio_dev race_sib = { .bdf = "0000:01:00.1", .fd = 98 };
static struct vfn_nvme_hw race_hw = { .priv = &race_dev };
static unsigned int race_checks;

static int t_hot_reset(struct vfn_nvme_hw *hw, bool check_only)
{
	int ret;

	(void)hw;
	ret = vfn_nvme_hw_vfio_ops.hot_reset(&race_hw, check_only);
	if (check_only && !ret) {
		race_checks++;
		vfn_vfio_registry_add(&race_sib);
	}
	return ret;
}

static int t_hot_reset_plain(struct vfn_nvme_hw *hw, bool check_only)
{
	(void)hw;
	return vfn_nvme_hw_vfio_ops.hot_reset(&race_hw, check_only);
}

static void test_sibling_opened_during_quiesce(void **state)
{
	struct vfn_nvme_hw_ops ops;
	struct vfn_nvme_hw hw;
	struct vfn_nvme_ctrl *ctrl;
	static uint8_t id[4096];
	uint16_t status = 0xffff;

	(void)state;
	fake_flags = 1 | 2;
	resets = 0;
	race_checks = 0;
	assert_int_equal(vfn_sim_hw_open("sim:", NULL, &hw), 0);
	ops = *hw.ops;
	ops.hot_reset = t_hot_reset;
	hw.ops = &ops;
	assert_int_equal(vfn_nvme_ctrl_open_hw(&hw, NULL, &ctrl), 0);

	assert_int_equal(vfn_nvme_ctrl_reset_bus(ctrl), -EBUSY);
	assert_int_equal(race_checks, 1); /* passed before the quiesce */
	assert_int_equal(resets, 0);
	assert_int_equal(vfn_nvme_ctrl_failed(ctrl), 0);
	assert_int_equal(vfn_nvme_identify(ctrl, VFN_NVME_CNS_CTRL, 0, id, &status), 0);
	assert_int_equal(status, 0);

	/* The sibling closed (and not reopened by the check): the reset goes through. */
	vfn_vfio_registry_del(&race_sib);
	ops.hot_reset = t_hot_reset_plain;
	assert_int_equal(vfn_nvme_ctrl_reset_bus(ctrl), 0);
	assert_int_equal(resets, 1);
	assert_int_equal(vfn_nvme_identify(ctrl, VFN_NVME_CNS_CTRL, 0, id, &status), 0);
	vfn_nvme_ctrl_close(ctrl);
}

/* Both functions of the faked bus in a fake sysfs, bound to vfio-pci. */
static int setup(void **state)
{
	(void)state;
	fake_sysfs_create("hot-reset");
	fake_sysfs_add_func("0000:01:00.0", "vfio-pci", 1);
	fake_sysfs_add_func("0000:01:00.1", "vfio-pci", 1);
	fake_sysfs_add_func("10000:01:00.0", "vfio-pci", 2);
	fake_sysfs_add_func("10000:01:00.1", "vfio-pci", 2);
	fake_sysfs_use();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cdev_not_owned),
		cmocka_unit_test(test_sibling_open),
		cmocka_unit_test(test_second_handle),
		cmocka_unit_test(test_sibling_not_vfio),
		cmocka_unit_test(test_sibling_opened_during_quiesce),
		cmocka_unit_test(test_wide_domain),
		cmocka_unit_test(test_reset_vs_open),
		cmocka_unit_test(test_sibling_not_in_sysfs),
	};

	return cmocka_run_group_tests(tests, setup, fake_sysfs_teardown);
}
