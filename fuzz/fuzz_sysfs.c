/* SPDX-License-Identifier: MIT */
/*
 * vfn_pci_get_func() over a fake sysfs (vfn_pci_set_sysfs_root()) whose vendor,
 * device and class attributes and driver and iommu_group links hold
 * arbitrary content, as a buggy or hostile kernel could show: the result
 * must be what a model of the documented parsing says (values, or -EIO /
 * -ENAMETOOLONG), never a crash or an overread.
 * Input: five fields, each a length byte and that many bytes.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vfn/pci.h>

#include "input.h"
#include "pci/pci-priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BDF "0000:01:00.0"

static char dev_dir[PATH_MAX];

static void make_tree(void)
{
	char root[] = "/tmp/vfn-fuzz-sysfs-XXXXXX", path[PATH_MAX];

	assert(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/bus", root);
	assert(!mkdir(path, 0755));
	snprintf(path, sizeof(path), "%s/bus/pci", root);
	assert(!mkdir(path, 0755));
	snprintf(path, sizeof(path), "%s/bus/pci/devices", root);
	assert(!mkdir(path, 0755));
	snprintf(dev_dir, sizeof(dev_dir), "%s/bus/pci/devices/" BDF, root);
	assert(!mkdir(dev_dir, 0755));
	assert(!vfn_pci_set_sysfs_root(root));
}

struct field {
	char s[256];
	size_t len;
};

static void read_field(struct input *in, struct field *f, bool no_nul)
{
	f->len = in_u8(in);
	for (size_t i = 0; i < f->len; i++) {
		f->s[i] = (char)in_u8(in);
		if (no_nul && !f->s[i])
			f->s[i] = 'x';
	}
	f->s[f->len] = '\0';
}

static void put_attr(const char *name, const struct field *f)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dev_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert(fd >= 0);
	assert(write(fd, f->s, f->len) == (ssize_t)f->len);
	close(fd);
}

static void put_link(const char *name, const struct field *f)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dev_dir, name);
	unlink(path);
	if (f->len)
		assert(!symlink(f->s, path));
}

/* The model of a hex attribute: -EIO unless a hex value <= @max. */
static int model_hex(const struct field *f, uint32_t max, uint32_t *val)
{
	size_t n = f->len;
	const char *s = f->s;
	uint64_t v = 0;

	if (n >= 64)
		return -EIO;
	if (n && s[n - 1] == '\n')
		n--;
	n = strnlen(s, n);
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2, n -= 2;
	if (!n)
		return -EIO;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;

		if (d < 0)
			return -EIO;
		v = v << 4 | (uint64_t)d;
		if (v > max)
			return -EIO;
	}
	*val = (uint32_t)v;
	return 0;
}

static const char *base(const struct field *f)
{
	const char *slash = strrchr(f->s, '/');

	return slash ? slash + 1 : f->s;
}

static int model_group(const struct field *f, int *group)
{
	const char *b = base(f);
	long v = 0;

	*group = -1;
	if (!f->len)
		return 0;
	if (strlen(b) >= 16 || !*b)
		return -EIO;
	for (const char *p = b; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EIO;
		v = v * 10 + (*p - '0');
		if (v > INT_MAX)
			return -EIO;
	}
	*group = (int)v;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct field vendor, device, class, driver, group;
	struct vfn_pci_func f, want = { .iommu_group = -1 };
	uint32_t v = 0;
	int ret, exp;

	if (!dev_dir[0])
		make_tree();
	read_field(&in, &vendor, false);
	read_field(&in, &device, false);
	read_field(&in, &class, false);
	read_field(&in, &driver, true);
	read_field(&in, &group, true);
	put_attr("vendor", &vendor);
	put_attr("device", &device);
	put_attr("class", &class);
	put_link("driver", &driver);
	put_link("iommu_group", &group);

	exp = model_hex(&vendor, 0xffff, &v);
	want.vendor = (uint16_t)v;
	if (!exp)
		exp = model_hex(&device, 0xffff, &v);
	want.device = (uint16_t)v;
	if (!exp)
		exp = model_hex(&class, 0xffffff, &want.class_code);
	if (strlen(base(&driver)) < sizeof(want.driver))
		strcpy(want.driver, base(&driver));
	else if (!exp)
		exp = -ENAMETOOLONG;
	if (!exp)
		exp = model_group(&group, &want.iommu_group);

	memset(&f, 0x5a, sizeof(f));
	ret = vfn_pci_get_func(BDF, &f);
	assert(ret == exp);
	if (ret)
		return 0;
	assert(!strcmp(f.bdf, BDF));
	assert(f.vendor == want.vendor && f.device == want.device && f.class_code == want.class_code);
	assert(!strcmp(f.driver, want.driver));
	assert(f.iommu_group == want.iommu_group);
	return 0;
}
