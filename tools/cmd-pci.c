/* SPDX-License-Identifier: MIT */
/*
 * Commands that only look at or change sysfs: list, bind, unbind.  They never
 * open a device, so they work whoever holds it.  `list` names the kernel
 * nvme driver's /dev/nvmeN node of the controllers bound to it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* All NVMe functions into a new array *@out (free() it); count or -errno. */
static int list_nvme(struct vfn_pci_func **out)
{
	struct vfn_pci_func *funcs = NULL, *grown;
	int max = 0, n;

	/* The count can grow between two calls (hotplug): retry until it fits. */
	for (;;) {
		n = vfn_pci_list(VFN_PCI_CLASS_NVME & VFN_PCI_CLASS_NVME_MASK, VFN_PCI_CLASS_NVME_MASK, funcs, max);
		if (n < 0 || n <= max)
			break;
		max = n;
		grown = realloc(funcs, (size_t)max * sizeof(*funcs));
		if (!grown) {
			n = -ENOMEM;
			break;
		}
		funcs = grown;
	}
	if (n < 0) {
		free(funcs);
		return n;
	}
	*out = funcs;
	return n;
}

/* Width of the address column: "0000:00:00.0", or longer for a VMD domain. */
static int bdf_width(const struct vfn_pci_func *funcs, int n)
{
	int w = 12;

	for (int i = 0; i < n; i++)
		if ((int)strlen(funcs[i].bdf) > w)
			w = (int)strlen(funcs[i].bdf);
	return w;
}

static void print_func_normal(const struct vfn_pci_func *f, int w)
{
	char group[16] = "-", node[64];
	char ids[10];

	if (f->iommu_group >= 0)
		snprintf(group, sizeof(group), "%d", f->iommu_group);
	snprintf(ids, sizeof(ids), "%04x:%04x", f->vendor, f->device);
	cli_kernel_node(f, node, sizeof(node));
	printf("%-*s  %-14s %-10s %-11s %s\n", w, f->bdf, ids, f->driver[0] ? f->driver : "-", group,
	       node[0] ? node : "-");
}

static void print_func_json(struct json *j, const struct vfn_pci_func *f)
{
	char node[64];

	json_obj_begin(j, NULL);
	json_str(j, "bdf", f->bdf);
	json_u64(j, "vendor", f->vendor);
	json_u64(j, "device", f->device);
	json_u64(j, "class", f->class_code);
	if (f->driver[0])
		json_str(j, "driver", f->driver);
	else
		json_null(j, "driver");
	if (f->iommu_group >= 0)
		json_u64(j, "iommu_group", (uint64_t)f->iommu_group);
	else
		json_null(j, "iommu_group");
	cli_kernel_node(f, node, sizeof(node));
	if (node[0])
		json_str(j, "dev", node);
	else
		json_null(j, "dev");
	json_obj_end(j);
}

int cmd_list(const struct cli_args *a)
{
	struct vfn_pci_func *funcs = NULL;
	struct json j;
	int n = list_nvme(&funcs);

	if (n < 0)
		return errmsg_pci(NULL, n);
	if (a->fmt == OUT_JSON) {
		json_init(&j, stdout);
		json_arr_begin(&j, NULL);
		for (int i = 0; i < n; i++)
			print_func_json(&j, &funcs[i]);
		json_arr_end(&j);
		json_finish(&j);
	} else {
		int w = bdf_width(funcs, n);

		printf("%-*s  %-14s %-10s %-11s %s\n", w, "BDF", "Vendor:Device", "Driver", "IOMMU group", "Device");
		for (int i = 0; i < n; i++)
			print_func_normal(&funcs[i], w);
	}
	free(funcs);
	return CLI_EXIT_OK;
}

/* Moves @bdf to @driver and says what happened ("<bdf>: nvme -> vfio-pci"). */
static int rebind(const char *bdf, const char *driver)
{
	struct vfn_pci_func f;
	int ret;

	if (cli_is_sim(bdf))
		return errmsg("%s is a simulated controller: it has no driver to change; open it directly", bdf);
	if (cli_is_path(bdf))
		return errmsg("%s is a device node; bind and unbind take the controller's PCI address (see `vfn list`)",
			      bdf);
	ret = cli_find_nvme(bdf, &f);
	if (ret)
		return ret;
	if (!strcmp(f.driver, driver)) {
		printf("%s: already bound to %s\n", bdf, driver);
		return CLI_EXIT_OK;
	}
	if (!strcmp(driver, "vfio-pci") && f.iommu_group < 0)
		return errmsg_no_group(bdf);
	ret = vfn_pci_bind(bdf, driver);
	if (ret)
		return errmsg_bind(&f, driver, ret);
	printf("%s: %s -> %s\n", bdf, f.driver[0] ? f.driver : "(no driver)", driver);
	return CLI_EXIT_OK;
}

int cmd_bind(const struct cli_args *a)
{
	return rebind(a->bdf, "vfio-pci");
}

int cmd_unbind(const struct cli_args *a)
{
	return rebind(a->bdf, "nvme");
}
