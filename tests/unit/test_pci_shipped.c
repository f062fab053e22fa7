/* SPDX-License-Identifier: MIT */
/*
 * The shipped shared library, not the objects the other unit tests link:
 * VFN_SYSFS_ROOT (once a test hook read with getenv()) moves nothing.  A
 * fake tree holds an NVMe controller at 0000:ee:00.0 and the variable points
 * at it; the library still reads /sys, where no such function is.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <vfn/pci.h>

#define FAKE_BDF "0000:ee:00.0"

static char root[] = "/tmp/vfn-test-shipped-XXXXXX";

static void put(const char *rel, const char *content)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
}

static void dir(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

/* Removes @rel (a file or an empty directory) from the tree. */
static void rm(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(remove(path), 0);
}

static void test_environment_ignored(void **state)
{
	struct vfn_pci_func funcs[256], f;
	int n;

	(void)state;
	assert_non_null(mkdtemp(root));
	dir("bus");
	dir("bus/pci");
	dir("bus/pci/devices");
	dir("bus/pci/devices/" FAKE_BDF);
	put("bus/pci/devices/" FAKE_BDF "/vendor", "0x1b36\n");
	put("bus/pci/devices/" FAKE_BDF "/device", "0x0010\n");
	put("bus/pci/devices/" FAKE_BDF "/class", "0x010802\n");
	assert_int_equal(setenv("VFN_SYSFS_ROOT", root, 1), 0);

	assert_int_equal(vfn_pci_get_func(FAKE_BDF, &f), -ENODEV);
	n = vfn_pci_list(VFN_PCI_CLASS_NVME, VFN_PCI_CLASS_NVME_MASK, funcs, 256);
	for (int i = 0; i < n && i < 256; i++)
		assert_string_not_equal(funcs[i].bdf, FAKE_BDF);
	for (const char *const *p =
		     (const char *const[]){ "bus/pci/devices/" FAKE_BDF "/vendor",
					    "bus/pci/devices/" FAKE_BDF "/device", "bus/pci/devices/" FAKE_BDF "/class",
					    "bus/pci/devices/" FAKE_BDF, "bus/pci/devices", "bus/pci", "bus", "",
					    NULL };
	     *p; p++)
		rm(*p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_environment_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
