/* SPDX-License-Identifier: MIT */
/*
 * PCI functions as Linux sysfs shows them.
 *
 * Every path is built by sysfs_path() under "/sys" (tests move it with
 * vfn_pci_set_sysfs_root(), which the shared library does not export; the
 * environment is never consulted).  Every sysfs access goes through one
 * small helper: read_attr, write_attr, read_link_basename or require_dir.
 * Attributes are opened with O_NOFOLLOW, and written without O_TRUNC (a
 * sysfs attribute takes each write whole): if the path is not the sysfs
 * file it should be, vfn neither follows a symlink planted there nor
 * truncates what it finds.  Internally a function is named by its
 * canonical address, as vfn_pci_parse_bdf() writes it.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vfn/pci.h>
#include <vfn/sriov.h>

#include "pci/pci-priv.h"
#include "support/text.h"
#include "support/log.h"

/* Room for any attribute we read ("0x010802\n" and the like). */
#define ATTR_MAX 64
/* Longest driver name we accept: it must fit struct vfn_pci_func.driver. */
#define DRIVER_NAME_MAX (sizeof(((struct vfn_pci_func *)0)->driver) - 1)
#define SYSFS_ROOT "/sys"

static char sysfs_root_buf[PATH_MAX] = SYSFS_ROOT;

int vfn_pci_set_sysfs_root(const char *root)
{
	if (!root || !*root)
		root = SYSFS_ROOT;
	if (strlen(root) >= sizeof(sysfs_root_buf)) {
		log_debug("pci: sysfs root '%.32s...' too long", root);
		return -ENAMETOOLONG;
	}
	strcpy(sysfs_root_buf, root);
	return 0;
}

static const char *sysfs_root(void)
{
	return sysfs_root_buf;
}

/* Formats "<root>/<fmt ...>" into @path (PATH_MAX bytes). */
__attribute__((format(printf, 2, 3))) static int sysfs_path(char *path, const char *fmt, ...)
{
	va_list ap;
	int n, m;

	n = snprintf(path, PATH_MAX, "%s/", sysfs_root());
	if (n < 0 || n >= PATH_MAX) {
		log_debug("pci: sysfs root path too long");
		return -ENAMETOOLONG;
	}
	va_start(ap, fmt);
	m = vsnprintf(path + n, PATH_MAX - n, fmt, ap);
	va_end(ap);
	if (m < 0 || m >= PATH_MAX - n) {
		log_debug("pci: sysfs path too long under %s", sysfs_root());
		return -ENAMETOOLONG;
	}
	return 0;
}

/*
 * Reads the attribute at @path into @buf (@len bytes) as a string, without
 * its trailing newline.  Returns the string's length or -errno; -EIO if the
 * content does not fit.
 */
static int read_attr(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	if ((size_t)n >= len) {
		log_debug("pci: %s: content too long", path);
		return -EIO;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return (int)n;
}

/* Writes @s (without a terminator) to the attribute at @path in one write. */
static int write_attr(const char *path, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;
	int fd, err;

	fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		log_debug("pci: open %s: %s", path, strerror(-err));
		return err;
	}
	n = write(fd, s, len);
	err = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	close(fd);
	if (err)
		log_debug("pci: write %s: %s", path, strerror(-err));
	return err;
}

/* Copies the last component of the symlink @path's target into @buf (empty on failure). */
static int read_link_basename(const char *path, char *buf, size_t len)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n;

	buf[0] = '\0';
	n = readlink(path, target, sizeof(target));
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(target)) {
		log_debug("pci: %s: link target too long", path);
		return -ENAMETOOLONG;
	}
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len) {
		log_debug("pci: %s: name '%s' too long", path, base);
		return -ENAMETOOLONG;
	}
	strcpy(buf, base);
	return 0;
}

/* 0 if @path is a directory, @missing if there is none, else -errno. */
static int require_dir(const char *path, int missing)
{
	struct stat st;

	if (stat(path, &st))
		return errno == ENOENT || errno == ENOTDIR ? missing : -errno;
	return S_ISDIR(st.st_mode) ? 0 : missing;
}

/* Parses exactly @ndigits hex digits at @s; false if any is not one. */
static bool hex_field(const char *s, int ndigits, unsigned int *val)
{
	unsigned int v = 0;
	int d;

	for (int i = 0; i < ndigits; i++) {
		d = vfn_hex_digit(s[i]);
		if (d < 0)
			return false;
		v = v << 4 | (unsigned int)d;
	}
	*val = v;
	return true;
}

/* Hex digits of a domain: at least sysfs's "%04x", at most its 32 bits. */
#define DOMAIN_MIN_DIGITS 4
#define DOMAIN_MAX_DIGITS 8
/* Length of the "BB:DD.F" that ends every address. */
#define BUS_DEV_FN_LEN 7
_Static_assert(VFN_PCI_BDF_LEN == DOMAIN_MAX_DIGITS + 1 + BUS_DEV_FN_LEN + 1,
	       "VFN_PCI_BDF_LEN fits the longest address");

/*
 * Parses "DDDD:BB:DD.F" (4 to 8 domain digits) or "BB:DD.F" into canonical
 * form, silently.  Reads no further than the terminator, or VFN_PCI_BDF_LEN
 * bytes.
 */
static bool parse_bdf(const char *s, char out[VFN_PCI_BDF_LEN])
{
	unsigned int dom = 0, bus, dev, fn;
	size_t len = strnlen(s, VFN_PCI_BDF_LEN), ndom;

	if (len != BUS_DEV_FN_LEN) {
		if (len < BUS_DEV_FN_LEN + 1 + DOMAIN_MIN_DIGITS || len > BUS_DEV_FN_LEN + 1 + DOMAIN_MAX_DIGITS)
			return false;
		ndom = len - BUS_DEV_FN_LEN - 1;
		if (!hex_field(s, (int)ndom, &dom) || s[ndom] != ':')
			return false;
		s += ndom + 1;
	}
	if (!hex_field(s, 2, &bus) || s[2] != ':' || !hex_field(s + 3, 2, &dev) || s[5] != '.' ||
	    !hex_field(s + 6, 1, &fn))
		return false;
	if (dev > 0x1f || fn > 7)
		return false;
	snprintf(out, VFN_PCI_BDF_LEN, "%04x:%02x:%02x.%x", dom, bus & 0xff, dev & 0x1f, fn & 7);
	return true;
}

int vfn_pci_parse_bdf(const char *s, char out[VFN_PCI_BDF_LEN])
{
	if (!s || !out) {
		log_debug("pci: parse_bdf: NULL argument");
		return -EINVAL;
	}
	if (!parse_bdf(s, out)) {
		log_debug("pci: '%.32s' is not a PCI address ([DDDD:]BB:DD.F)", s);
		return -EINVAL;
	}
	return 0;
}

/* Canonicalises @bdf into @canon and checks that the function exists. */
static int dev_lookup(const char *bdf, char canon[VFN_PCI_BDF_LEN])
{
	char path[PATH_MAX];
	int ret;

	ret = vfn_pci_parse_bdf(bdf, canon);
	if (ret)
		return ret;
	ret = sysfs_path(path, "bus/pci/devices/%s", canon);
	if (ret)
		return ret;
	ret = require_dir(path, -ENODEV);
	if (ret == -ENODEV)
		log_debug("pci: %s: no such function", canon);
	return ret;
}

/* Parses a sysfs hex value ("0x8086", optional prefix) of at most @max. */
static bool parse_hex_value(const char *s, uint32_t max, uint32_t *val)
{
	uint32_t v = 0;
	int d;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!*s)
		return false;
	for (; *s; s++) {
		d = vfn_hex_digit(*s);
		if (d < 0 || v > max >> 4)
			return false;
		v = v << 4 | (uint32_t)d;
	}
	if (v > max)
		return false;
	*val = v;
	return true;
}

/* Reads the hex attribute @attr of @bdf; -EIO if it is not a hex value <= @max. */
static int read_hex_attr(const char *bdf, const char *attr, uint32_t max, uint32_t *val)
{
	char path[PATH_MAX], buf[ATTR_MAX];
	int ret;

	ret = sysfs_path(path, "bus/pci/devices/%s/%s", bdf, attr);
	if (ret)
		return ret;
	ret = read_attr(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	if (!parse_hex_value(buf, max, val)) {
		log_debug("pci: %s: bad %s '%s'", bdf, attr, buf);
		return -EIO;
	}
	return 0;
}

/* Copies the name of @bdf's driver into @buf, "" if unbound. */
static int dev_driver(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX];
	int ret;

	ret = sysfs_path(path, "bus/pci/devices/%s/driver", bdf);
	if (ret)
		return ret;
	ret = read_link_basename(path, buf, len);
	if (ret == -ENOENT) {
		buf[0] = '\0';
		return 0;
	}
	return ret;
}

/* Returns @bdf's IOMMU group number, -ENOENT if it has none, -EIO if odd. */
static int dev_iommu_group(const char *bdf)
{
	char path[PATH_MAX], name[16], *end;
	long group;
	int ret;

	ret = sysfs_path(path, "bus/pci/devices/%s/iommu_group", bdf);
	if (ret)
		return ret;
	ret = read_link_basename(path, name, sizeof(name));
	if (ret)
		return ret == -ENAMETOOLONG ? -EIO : ret;
	errno = 0;
	group = strtol(name, &end, 10);
	if (!isdigit((unsigned char)name[0]) || *end || errno || group > INT_MAX) {
		log_debug("pci: %s: bad iommu_group '%s'", bdf, name);
		return -EIO;
	}
	return (int)group;
}

/* Fills @f from the attributes of the existing function @bdf. */
static int read_func(const char *bdf, struct vfn_pci_func *f)
{
	uint32_t v;
	int ret;

	ret = read_hex_attr(bdf, "vendor", 0xffff, &v);
	if (ret)
		return ret;
	f->vendor = (uint16_t)v;
	ret = read_hex_attr(bdf, "device", 0xffff, &v);
	if (ret)
		return ret;
	f->device = (uint16_t)v;
	ret = read_hex_attr(bdf, "class", 0xffffff, &f->class_code);
	if (ret)
		return ret;
	ret = dev_driver(bdf, f->driver, sizeof(f->driver));
	if (ret)
		return ret;
	ret = dev_iommu_group(bdf);
	if (ret < 0 && ret != -ENOENT)
		return ret;
	f->iommu_group = ret < 0 ? -1 : ret;
	return 0;
}

int vfn_pci_get_func(const char *bdf, struct vfn_pci_func *func)
{
	struct vfn_pci_func f = { .iommu_group = -1 };
	int ret;

	if (!func) {
		log_debug("pci: get_func: NULL func");
		return -EINVAL;
	}
	ret = dev_lookup(bdf, f.bdf);
	if (ret)
		return ret;
	ret = read_func(f.bdf, &f);
	if (ret == -ENOENT) {
		/* Every function has vendor, device and class: it went away. */
		log_debug("pci: %s: removed while reading it", f.bdf);
		return -ENODEV;
	}
	if (ret)
		return ret;
	*func = f;
	return 0;
}

/* scandir() filter: only canonical addresses, as sysfs names functions (not "." or ".."). */
static int bdf_entry(const struct dirent *d)
{
	char canon[VFN_PCI_BDF_LEN];

	return parse_bdf(d->d_name, canon) && !strcmp(canon, d->d_name);
}

/*
 * Address order of canonical addresses.  Their fields are lower-case hex of
 * fixed width except the domain, which is longer only when it is larger.
 */
static int bdf_order(const struct dirent **a, const struct dirent **b)
{
	size_t la = strlen((*a)->d_name), lb = strlen((*b)->d_name);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp((*a)->d_name, (*b)->d_name);
}

struct class_filter {
	uint32_t code;
	uint32_t mask;
};

/* Stores up to @max functions of @names matching @filter; returns how many match. */
static int list_matching(struct dirent **names, int n, struct class_filter filter, struct vfn_pci_func *funcs, int max)
{
	struct vfn_pci_func f;
	int count = 0, ret;

	for (int i = 0; i < n; i++) {
		ret = vfn_pci_get_func(names[i]->d_name, &f);
		if (ret == -ENODEV)
			continue; /* removed since the directory was read */
		if (ret)
			return ret;
		if ((f.class_code ^ filter.code) & filter.mask)
			continue;
		if (count < max)
			funcs[count] = f;
		count++;
	}
	return count;
}

int vfn_pci_list(uint32_t class_code, uint32_t class_mask, struct vfn_pci_func *funcs, int max)
{
	struct class_filter filter = { class_code, class_mask };
	struct dirent **names;
	char path[PATH_MAX];
	int n, ret;

	if (max < 0 || (max > 0 && !funcs)) {
		log_debug("pci: list: bad buffer (max %d)", max);
		return -EINVAL;
	}
	ret = sysfs_path(path, "bus/pci/devices");
	if (ret)
		return ret;
	n = scandir(path, &names, bdf_entry, bdf_order);
	if (n < 0) {
		ret = -errno;
		log_debug("pci: scandir %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = list_matching(names, n, filter, funcs, max);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

int vfn_pci_get_driver(const char *bdf, char *buf, size_t len)
{
	char canon[VFN_PCI_BDF_LEN];
	int ret;

	if (!buf || !len) {
		log_debug("pci: get_driver: no buffer");
		return -EINVAL;
	}
	ret = dev_lookup(bdf, canon);
	if (ret)
		return ret;
	return dev_driver(canon, buf, len);
}

int vfn_pci_iommu_group(const char *bdf)
{
	char canon[VFN_PCI_BDF_LEN];
	int ret;

	ret = dev_lookup(bdf, canon);
	if (ret)
		return ret;
	ret = dev_iommu_group(canon);
	if (ret == -ENOENT)
		log_debug("pci: %s: no IOMMU group", canon);
	return ret;
}

/* True if @name is @prefix followed by one or more decimal digits (and nothing else). */
static bool prefix_number(const char *name, const char *prefix)
{
	size_t len = strlen(prefix);

	if (strncmp(name, prefix, len) || !name[len])
		return false;
	for (name += len; *name; name++)
		if (!isdigit((unsigned char)*name))
			return false;
	return true;
}

/* scandir() filter: "vfio<N>" entries of a function's vfio-dev directory. */
static int vfio_dev_entry(const struct dirent *d)
{
	return prefix_number(d->d_name, "vfio");
}

/* The device number file of @bdf's vfio<N>: present only with the cdev. */
static int cdev_name(const char *canon, char *name, size_t len)
{
	char path[PATH_MAX], dev[ATTR_MAX];
	struct dirent **names;
	int n, ret;

	ret = sysfs_path(path, "bus/pci/devices/%s/vfio-dev", canon);
	if (ret)
		return ret;
	n = scandir(path, &names, vfio_dev_entry, alphasort);
	if (n < 0)
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
	ret = -ENOENT;
	if (n == 1 && !sysfs_path(path, "bus/pci/devices/%s/vfio-dev/%s/dev", canon, names[0]->d_name) &&
	    read_attr(path, dev, sizeof(dev)) > 0) {
		ret = snprintf(name, len, "/dev/vfio/devices/%s", names[0]->d_name) < (int)len ? 0 : -ENAMETOOLONG;
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

int vfn_pci_vfio_cdev(const char *bdf, char *buf, size_t len)
{
	char canon[VFN_PCI_BDF_LEN];
	int ret;

	if (!buf || !len) {
		log_debug("pci: vfio_cdev: no buffer");
		return -EINVAL;
	}
	buf[0] = '\0';
	ret = dev_lookup(bdf, canon);
	if (ret)
		return ret;
	ret = cdev_name(canon, buf, len);
	if (ret) {
		buf[0] = '\0';
		if (ret == -ENOENT)
			log_debug("pci: %s: no VFIO device cdev (not bound to vfio-pci, or no CONFIG_VFIO_DEVICE_CDEV)",
				  canon);
	}
	return ret;
}

/* Writes @bdf to the unbind attribute of @driver, which owns it. */
static int unbind_from(const char *bdf, const char *driver)
{
	char path[PATH_MAX];
	int ret;

	ret = sysfs_path(path, "bus/pci/drivers/%s/unbind", driver);
	if (ret)
		return ret;
	return write_attr(path, bdf);
}

/* Writes @value to @bdf's driver_override ("\n" clears it). */
static int set_override(const char *bdf, const char *value)
{
	char path[PATH_MAX];
	int ret;

	ret = sysfs_path(path, "bus/pci/devices/%s/driver_override", bdf);
	if (ret)
		return ret;
	return write_attr(path, value);
}

int vfn_pci_unbind(const char *bdf)
{
	char canon[VFN_PCI_BDF_LEN], cur[NAME_MAX + 1];
	int ret;

	ret = dev_lookup(bdf, canon);
	if (ret)
		return ret;
	ret = dev_driver(canon, cur, sizeof(cur));
	if (ret)
		return ret;
	if (cur[0]) {
		ret = unbind_from(canon, cur);
		if (ret)
			return ret;
	}
	return set_override(canon, "\n");
}

/* Accepts names made of [A-Za-z0-9_.-], not starting with '.', that fit. */
static int check_driver_name(const char *driver)
{
	size_t len = driver ? strnlen(driver, DRIVER_NAME_MAX + 1) : 0;

	if (!len || len > DRIVER_NAME_MAX || driver[0] == '.') {
		log_debug("pci: bad driver name");
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)driver[i]) && !strchr("_-.", driver[i])) {
			log_debug("pci: bad character in driver name '%.32s'", driver);
			return -EINVAL;
		}
	}
	return 0;
}

/* Returns 0 if @driver is registered on the PCI bus, -ENOENT if not. */
static int driver_loaded(const char *driver)
{
	char path[PATH_MAX];
	int ret;

	ret = sysfs_path(path, "bus/pci/drivers/%s", driver);
	if (ret)
		return ret;
	ret = require_dir(path, -ENOENT);
	if (ret == -ENOENT)
		log_debug("pci: driver %s is not loaded", driver);
	return ret;
}

/* Returns 0 if @bdf's driver link names @driver, -EIO if it does not. */
static int check_bound(const char *bdf, const char *driver)
{
	char cur[NAME_MAX + 1];
	int ret;

	ret = dev_driver(bdf, cur, sizeof(cur));
	if (ret)
		return ret;
	if (strcmp(cur, driver)) {
		log_debug("pci: %s: %s did not claim it (driver '%s')", bdf, driver, cur);
		return -EIO;
	}
	return 0;
}

/* Lets only @driver claim the unbound @bdf, asks the kernel to probe, checks. */
static int probe_with_override(const char *bdf, const char *driver)
{
	char path[PATH_MAX];
	int ret;

	ret = sysfs_path(path, "bus/pci/drivers_probe");
	if (ret)
		return ret;
	ret = set_override(bdf, driver);
	if (ret)
		return ret;
	ret = write_attr(path, bdf);
	if (ret)
		goto clear_override;
	ret = check_bound(bdf, driver);
	if (ret)
		goto clear_override;
	return 0;

clear_override:
	set_override(bdf, "\n");
	return ret;
}

int vfn_pci_bind(const char *bdf, const char *driver)
{
	char canon[VFN_PCI_BDF_LEN], cur[NAME_MAX + 1];
	int ret;

	ret = check_driver_name(driver);
	if (ret)
		return ret;
	ret = dev_lookup(bdf, canon);
	if (ret)
		return ret;
	ret = dev_driver(canon, cur, sizeof(cur));
	if (ret)
		return ret;
	if (!strcmp(cur, driver))
		return 0;
	ret = driver_loaded(driver);
	if (ret)
		return ret;
	if (cur[0]) {
		ret = unbind_from(canon, cur);
		if (ret)
			return ret;
	}
	return probe_with_override(canon, driver);
}

/* ---- SR-IOV (include/vfn/sriov.h) ------------------------------------------------- */

/* Reads the decimal attribute @attr of PF @bdf; -ENOTSUP if it has none (no SR-IOV capability). */
static int sriov_read(const char *bdf, const char *attr)
{
	char canon[VFN_PCI_BDF_LEN], path[PATH_MAX], buf[ATTR_MAX] = "";
	unsigned long v;
	char *end;
	int ret;

	ret = dev_lookup(bdf, canon);
	if (ret)
		return ret;
	ret = sysfs_path(path, "bus/pci/devices/%s/%s", canon, attr);
	if (ret)
		return ret;
	ret = read_attr(path, buf, sizeof(buf));
	if (ret == -ENOENT) {
		log_debug("pci: %s: no %s: not an SR-IOV physical function", canon, attr);
		return -ENOTSUP;
	}
	if (ret < 0)
		return ret;
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (!buf[0] || *end || errno || v > 0xffff) {
		log_debug("pci: %s: bad %s '%s'", canon, attr, buf);
		return -EIO;
	}
	return (int)v;
}

int vfn_pci_sriov_totalvfs(const char *bdf)
{
	return sriov_read(bdf, "sriov_totalvfs");
}

int vfn_pci_sriov_numvfs(const char *bdf)
{
	return sriov_read(bdf, "sriov_numvfs");
}

static int sriov_write_numvfs(const char *canon, unsigned int n)
{
	char path[PATH_MAX], buf[16];
	int ret;

	ret = sysfs_path(path, "bus/pci/devices/%s/sriov_numvfs", canon);
	if (ret)
		return ret;
	snprintf(buf, sizeof(buf), "%u", n);
	return write_attr(path, buf);
}

int vfn_pci_sriov_set_numvfs(const char *bdf, unsigned int numvfs)
{
	char canon[VFN_PCI_BDF_LEN];
	int total, cur, ret;

	total = vfn_pci_sriov_totalvfs(bdf);
	if (total < 0)
		return total;
	if (numvfs > (unsigned int)total) {
		log_debug("pci: %s: %u VFs asked, sriov_totalvfs is %d", bdf, numvfs, total);
		return -EINVAL;
	}
	cur = vfn_pci_sriov_numvfs(bdf);
	if (cur < 0)
		return cur;
	if ((unsigned int)cur == numvfs)
		return 0;
	ret = vfn_pci_parse_bdf(bdf, canon);
	if (ret)
		return ret;
	if (cur && numvfs) {
		ret = sriov_write_numvfs(canon, 0);
		if (ret)
			return ret;
	}
	return sriov_write_numvfs(canon, numvfs);
}

/* virtfnN entries. */
static int virtfn_entry(const struct dirent *d)
{
	return prefix_number(d->d_name, "virtfn");
}

static int virtfn_order(const struct dirent **a, const struct dirent **b)
{
	unsigned long x = strtoul((*a)->d_name + 6, NULL, 10), y = strtoul((*b)->d_name + 6, NULL, 10);

	return x < y ? -1 : x > y;
}

int vfn_pci_sriov_vfs(const char *bdf, char (*vfs)[VFN_PCI_BDF_LEN], int max)
{
	char canon[VFN_PCI_BDF_LEN], path[PATH_MAX], name[VFN_PCI_BDF_LEN + 8] = "";
	struct dirent **names;
	int n, ret, count = 0;

	if (max < 0 || (max && !vfs))
		return -EINVAL;
	ret = dev_lookup(bdf, canon);
	if (ret)
		return ret;
	ret = sysfs_path(path, "bus/pci/devices/%s", canon);
	if (ret)
		return ret;
	n = scandir(path, &names, virtfn_entry, virtfn_order);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		char link[PATH_MAX];

		if (count < max && !sysfs_path(link, "bus/pci/devices/%s/%s", canon, names[i]->d_name) &&
		    !read_link_basename(link, name, sizeof(name)) && !vfn_pci_parse_bdf(name, vfs[count]))
			count++;
		else if (count >= max)
			count++;
		free(names[i]);
	}
	free(names);
	return count;
}

int vfn_pci_sriov_physfn(const char *bdf, char pf[VFN_PCI_BDF_LEN])
{
	char canon[VFN_PCI_BDF_LEN], path[PATH_MAX], name[VFN_PCI_BDF_LEN + 8] = "";
	int ret;

	if (!pf)
		return -EINVAL;
	ret = dev_lookup(bdf, canon);
	if (ret)
		return ret;
	ret = sysfs_path(path, "bus/pci/devices/%s/physfn", canon);
	if (ret)
		return ret;
	ret = read_link_basename(path, name, sizeof(name));
	if (ret)
		return ret;
	return vfn_pci_parse_bdf(name, pf) ? -EIO : 0;
}
