/* SPDX-License-Identifier: MIT */
/* The fake sysfs tree shared by the unit tests (fake-sysfs.h). */
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake-sysfs.h"
#include "pci/pci-priv.h"

static char fake_sysfs_root[64];

__attribute__((format(printf, 2, 0))) static void vpath(char *buf, const char *fmt, va_list ap)
{
	int n = snprintf(buf, PATH_MAX, "%s/", fake_sysfs_root);

	vsnprintf(buf + n, PATH_MAX - (size_t)n, fmt, ap);
}

void fake_sysfs_path(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpath(buf, fmt, ap);
	va_end(ap);
}

const char *fake_sysfs_at(const char *fmt, ...)
{
	static char path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vpath(path, fmt, ap);
	va_end(ap);
	return path;
}

void fake_sysfs_mkdir(const char *path)
{
	assert_int_equal(mkdir(path, 0755), 0);
}

void fake_sysfs_put(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(content, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

void fake_sysfs_create(const char *name)
{
	static const char *const dirs[] = {
		"bus",
		"bus/pci",
		"bus/pci/devices",
		"bus/pci/drivers",
		"devices",
		"devices/pci0000:00",
		"kernel",
		"kernel/iommu_groups",
	};

	snprintf(fake_sysfs_root, sizeof(fake_sysfs_root), "/tmp/vfn-test-%s-XXXXXX", name);
	assert_non_null(mkdtemp(fake_sysfs_root));
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		fake_sysfs_mkdir(fake_sysfs_at("%s", dirs[i]));
}

void fake_sysfs_use(void)
{
	assert_int_equal(vfn_pci_set_sysfs_root(fake_sysfs_root), 0);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int fake_sysfs_teardown(void **state)
{
	(void)state;
	vfn_pci_set_sysfs_root(NULL);
	assert_int_equal(nftw(fake_sysfs_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
	return 0;
}

/* Makes @rel (relative to the root) a symbolic link to @fmt. */
__attribute__((format(printf, 2, 3))) static void link_to(const char *rel, const char *fmt, ...)
{
	char target[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(target, sizeof(target), fmt, ap);
	va_end(ap);
	assert_int_equal(symlink(target, fake_sysfs_at("%s", rel)), 0);
}

void fake_sysfs_link_driver(const char *bdf, const char *drv)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof(rel), "devices/pci0000:00/%s/driver", bdf);
	link_to(rel, "../../../bus/pci/drivers/%s", drv);
}

void fake_sysfs_add_func(const char *bdf, const char *drv, int group)
{
	char rel[PATH_MAX];

	fake_sysfs_mkdir(fake_sysfs_at("devices/pci0000:00/%s", bdf));
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s", bdf);
	link_to(rel, "../../../devices/pci0000:00/%s", bdf);
	if (drv)
		fake_sysfs_link_driver(bdf, drv);
	if (group >= 0) {
		snprintf(rel, sizeof(rel), "devices/pci0000:00/%s/iommu_group", bdf);
		link_to(rel, "../../../kernel/iommu_groups/%d", group);
	}
}
