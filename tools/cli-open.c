/* SPDX-License-Identifier: MIT */
/*
 * Opening a controller named on the command line.  Before asking the library
 * to open it, look at what sysfs says so that the error names the real cause
 * (no such device, not NVMe, wrong driver, no IOMMU group) and its fix.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vfn/sriov.h>

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

int cli_nsid(const struct cli_args *a, struct vfn_dev *dev, uint32_t *nsid)
{
	const struct vfn_dev_info *info = vfn_dev_get_info(dev);

	if (a->have_nsid) {
		*nsid = a->nsid;
		return 0;
	}
	/* On the kernel path a handle that carries I/O is a namespace node, its geometry that namespace's. */
	if (info->backend == VFN_DEV_KERNEL && info->io && info->nsid) {
		*nsid = info->nsid;
		return 0;
	}
	return errmsg_usage(a->cmd->name, a->cmd->usage,
			    "%s needs a namespace id (-n NSID): %s is not a namespace node", a->cmd->name, a->bdf);
}

bool cli_is_sim(const char *dev)
{
	return !strncmp(dev, "sim:", 4);
}

bool cli_is_path(const char *dev)
{
	return strchr(dev, '/') != NULL;
}

/* The controller number in a kernel node's name (nvme0, ng0n1, nvme0n1), or -1. */
static int kernel_instance(const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	unsigned int n;

	if (sscanf(base, "ng%u", &n) == 1 || sscanf(base, "nvme%u", &n) == 1)
		return (int)n;
	return -1;
}

int cli_kernel_bdf(const char *path, char *bdf, size_t len)
{
	int n = kernel_instance(path);
	char file[64], line[64];
	FILE *f;

	if (n < 0)
		return -ENOENT;
	snprintf(file, sizeof(file), "/sys/class/nvme/nvme%d/address", n);
	f = fopen(file, "re");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	if (!line[0])
		return -ENOENT;
	snprintf(bdf, len, "%s", line);
	return 0;
}

void cli_kernel_node(const struct vfn_pci_func *f, char *out, size_t len)
{
	char dir[128];
	struct dirent *e;
	DIR *d;

	out[0] = '\0';
	if (!strcmp(f->driver, "vfio-pci")) {
		vfn_pci_vfio_cdev(f->bdf, out, len); /* "" without a cdev */
		return;
	}
	if (strcmp(f->driver, "nvme"))
		return;
	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/nvme", f->bdf);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "nvme", 4) && strlen(e->d_name) + 6 <= len)
			snprintf(out, len, "/dev/%s", e->d_name);
	closedir(d);
}

/*
 * A BDF: the sysfs checks first, so that the error names the cause and its
 * fix.  With @raw_enotsup the library's -ENOTSUP comes back unprinted.
 */
static int open_bdf(const char *dev, const struct vfn_dev_opts *opts, struct vfn_dev **out, bool raw_enotsup)
{
	struct vfn_dev_opts o = opts ? *opts : (struct vfn_dev_opts){ 0 };
	struct vfn_pci_func f;
	char bdf[VFN_PCI_BDF_LEN];
	int ret;

	if (vfn_pci_parse_bdf(dev, bdf))
		return errmsg_bad_bdf(dev);
	ret = cli_find_nvme(bdf, &f);
	if (ret)
		return ret;
	if (strcmp(f.driver, "vfio-pci"))
		return errmsg_not_vfio(&f);
	if (f.iommu_group < 0)
		return errmsg_no_group(bdf);
	o.backend = "vfio";
	ret = vfn_dev_open(bdf, &o, out);
	if (ret == -ENOTSUP && raw_enotsup)
		return ret;
	return ret ? errmsg_open(&f, ret) : 0;
}

/*
 * $VFN_VF_TOKEN (a UUID): the VF token VFs and SR-IOV PFs are opened with
 * through VFIO (docs/sriov.md, a PF on vfio-pci).
 */
static int cli_vf_token_env(void)
{
	const char *s = getenv("VFN_VF_TOKEN");
	uint8_t uuid[16];

	if (!s || !*s)
		return 0;
	if (vfn_vf_token_parse(s, uuid))
		return errmsg("VFN_VF_TOKEN='%s' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx); fix or unset it",
			      s);
	vfn_vf_token_use(uuid);
	return 0;
}

/* A vfio or sim: controller; with @raw_enotsup the library's -ENOTSUP comes back unprinted. */
static int open_ctrl(const char *dev, const struct vfn_dev_opts *opts, struct vfn_dev **out, bool raw_enotsup)
{
	int ret;

	if (!cli_is_sim(dev))
		return open_bdf(dev, opts, out, raw_enotsup);
	ret = vfn_dev_open(dev, opts, out);
	if (ret == -ENOTSUP && raw_enotsup)
		return ret;
	return ret ? errmsg_open_sim(dev, ret) : 0;
}

static const char *const irq_env_names[] = { "auto", "msix", "msi", "intx" };
static const char *const irq_type_names[] = { "none", "MSI-X", "MSI", "INTx" };

/*
 * $VFN_IRQ (auto, msix, msi, intx): the interrupt type a vfio or sim:
 * controller is opened with (docs/interrupts-resets.md); unset: auto.  A
 * forced type the controller cannot open with is named in one line, with
 * what AUTO would choose.
 */
static int open_ctrl_irq_env(const char *dev, const struct vfn_dev_opts *opts, struct vfn_dev **out)
{
	const char *s = getenv("VFN_IRQ");
	struct vfn_nvme_ctrl_opts co;
	struct vfn_dev_opts o;
	struct vfn_dev *probe = NULL;
	unsigned int m;
	int ret, got;

	if (!s || !*s)
		return open_ctrl(dev, opts, out, false);
	for (m = 0; m < 4 && strcmp(s, irq_env_names[m]); m++)
		;
	if (m == 4)
		return errmsg("VFN_IRQ='%s' is not an interrupt type; use auto, msix, msi or intx, or unset it", s);
	o = opts ? *opts : (struct vfn_dev_opts){ 0 };
	co = o.ctrl_opts ? *o.ctrl_opts : (struct vfn_nvme_ctrl_opts){ 0 };
	co.irq_mode = (uint8_t)m;
	o.ctrl_opts = &co;
	ret = open_ctrl(dev, &o, out, m != VFN_NVME_IRQ_AUTO);
	if (ret != -ENOTSUP)
		return ret;
	/* Was it the interrupt type?  Open with AUTO: its errors are the real cause if it fails too. */
	co.irq_mode = VFN_NVME_IRQ_AUTO;
	ret = open_ctrl(dev, &o, &probe, false);
	if (ret)
		return ret;
	got = vfn_dev_nvme_ctrl(probe) ? vfn_nvme_ctrl_irq_mode(vfn_dev_nvme_ctrl(probe)) : -ENOTSUP;
	vfn_dev_close(probe);
	return errmsg("%s has no %s interrupt (VFN_IRQ=%s); unset VFN_IRQ or use VFN_IRQ=auto (it chooses %s here)",
		      dev, irq_type_names[m], s, got > 0 && got < 4 ? irq_type_names[got] : "none: polled only");
}

int cli_dev_open(const char *dev, const struct vfn_dev_opts *opts, struct vfn_dev **out)
{
	int ret;

	ret = cli_vf_token_env();
	if (ret)
		return ret;

	if (cli_is_path(dev)) {
		ret = vfn_dev_open(dev, opts, out);
		return ret ? errmsg_open_kernel(dev, ret) : 0;
	}
	return open_ctrl_irq_env(dev, opts, out);
}

/* Enough for any real controller; stops a misbehaving one from eating memory. */
#define MAX_NSIDS (1 << 20)
#define NSIDS_PER_CALL 1024

int cli_active_nsids(struct vfn_dev *dev, uint32_t **ids)
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
		got = vfn_dev_ns_list(dev, start, all + n, NSIDS_PER_CALL);
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
