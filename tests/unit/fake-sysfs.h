/* SPDX-License-Identifier: MIT */
/*
 * A fake sysfs tree for unit tests: a temporary directory that the library's
 * test hook (vfn_pci_set_sysfs_root(), src/pci/pci-priv.h) points it at,
 * laid out as the kernel does it:
 *
 *   bus/pci/devices/<bdf> -> ../../../devices/pci0000:00/<bdf>
 *   devices/pci0000:00/<bdf>/driver -> ../../../bus/pci/drivers/<drv>
 *   devices/pci0000:00/<bdf>/iommu_group -> ../../../kernel/iommu_groups/<n>
 *
 * Every helper fails the running cmocka test on error.
 */
#ifndef VFN_TEST_FAKE_SYSFS_H
#define VFN_TEST_FAKE_SYSFS_H

/*
 * Creates /tmp/vfn-test-@name-XXXXXX with the empty directories bus/pci/devices,
 * bus/pci/drivers, devices/pci0000:00 and kernel/iommu_groups.
 */
void fake_sysfs_create(const char *name);

/* Points the library's sysfs root at the tree. */
void fake_sysfs_use(void);

/* A cmocka teardown: points the library back at /sys and removes the whole tree. */
int fake_sysfs_teardown(void **state);

/* Formats root + "/" + a relative path into @buf (PATH_MAX bytes); safe from any thread. */
void fake_sysfs_path(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like fake_sysfs_path(), into a static buffer valid until the next call. */
const char *fake_sysfs_at(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Creates directory @path (absolute). */
void fake_sysfs_mkdir(const char *path);

/* Creates or truncates file @path (absolute) holding @content. */
void fake_sysfs_put(const char *path, const char *content);

/* Links function @bdf's driver link to bus/pci/drivers/@drv. */
void fake_sysfs_link_driver(const char *bdf, const char *drv);

/* Adds function @bdf's directory and bus link; @drv NULL: unbound; @group < 0: no IOMMU group. */
void fake_sysfs_add_func(const char *bdf, const char *drv, int group);

#endif /* VFN_TEST_FAKE_SYSFS_H */
