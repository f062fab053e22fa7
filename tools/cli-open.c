/* SPDX-License-Identifier: MIT */
/*
 * Opening a controller named on the command line.  Before asking the library
 * to open it, look at what sysfs says so that the error names the real cause
 * (no such device, not NVMe, wrong driver, no IOMMU group) and its fix.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_find_nvme(const char *bdf, struct vfn_pci_func *f)
{
	int ret = vfn_pci_get_func(bdf, f);

	if (ret)
		return errmsg_pci(bdf, ret);
	if ((f->class_code & VFN_PCI_CLASS_NVME_MASK) != (VFN_PCI_CLASS_NVME & VFN_PCI_CLASS_NVME_MASK))
		return errmsg_not_nvme(f);
	return 0;
}

bool cli_is_sim(const char *dev)
{
	return !strncmp(dev, "sim:", 4);
}

int cli_open(const char *dev, const struct vfn_nvme_ctrl_opts *opts, struct vfn_nvme_ctrl **ctrl)
{
	struct vfn_pci_func f;
	char bdf[VFN_PCI_BDF_LEN];
	int ret;

	if (cli_is_sim(dev)) {
		ret = vfn_nvme_ctrl_open(dev, opts, ctrl);
		return ret ? errmsg_open_sim(dev, ret) : 0;
	}
	if (vfn_pci_parse_bdf(dev, bdf))
		return errmsg_bad_bdf(dev);
	ret = cli_find_nvme(bdf, &f);
	if (ret)
		return ret;
	if (strcmp(f.driver, "vfio-pci"))
		return errmsg_not_vfio(&f);
	if (f.iommu_group < 0)
		return errmsg_no_group(bdf);
	ret = vfn_nvme_ctrl_open(bdf, opts, ctrl);
	return ret ? errmsg_open(&f, ret) : 0;
}

/* Enough for any real controller; stops a misbehaving one from eating memory. */
#define MAX_NSIDS (1 << 20)
#define NSIDS_PER_CALL 1024

int cli_active_nsids(struct vfn_nvme_ctrl *ctrl, uint32_t **ids)
{
	uint32_t *all = NULL, *grown;
	uint32_t start = 0;
	int n = 0, got;

	do {
		grown = realloc(all, (size_t)(n + NSIDS_PER_CALL) * sizeof(*all));
		if (!grown) {
			free(all);
			return -ENOMEM;
		}
		all = grown;
		got = vfn_nvme_ns_list_active(ctrl, start, all + n, NSIDS_PER_CALL);
		if (got < 0) {
			free(all);
			return got;
		}
		n += got;
		/* A full page may have more after it; ids only go up, so this ends. */
		if (got == NSIDS_PER_CALL && all[n - 1] > start)
			start = all[n - 1];
		else
			got = 0;
	} while (got && n < MAX_NSIDS);
	*ids = all;
	return n;
}
