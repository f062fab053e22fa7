/* SPDX-License-Identifier: MIT */
/*
 * SR-IOV commands (docs/sriov.md), with nvme-cli's names and options:
 * primary-ctrl-caps, list-secondary, virt-mgmt over any device, and
 * `vfn sriov BDF [--numvfs N]` for the VF count in sysfs.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vfn/sriov.h>

#include "cli.h"
#include "sriov-show.h"

struct sr_args {
	const char *name, *usage, *dev;
	enum out_fmt fmt;
	bool human, have_cntlid, have_rt, have_act, have_numvfs;
	uint32_t cntlid, rt, act, nr, entries, numvfs;
};

enum {
	OPT_NUMVFS = 256
};

static const struct option sr_longs[] = {
	{ "output-format", required_argument, NULL, 'o' },
	{ "human-readable", no_argument, NULL, 'H' },
	{ "help", no_argument, NULL, 'h' },
	{ "cntlid", required_argument, NULL, 'c' },
	{ "cntid", required_argument, NULL, 'c' },
	{ "rt", required_argument, NULL, 'r' },
	{ "act", required_argument, NULL, 'a' },
	{ "nr", required_argument, NULL, 'n' },
	{ "num-entries", required_argument, NULL, 'e' },
	{ "numvfs", required_argument, NULL, OPT_NUMVFS },
	{ NULL, 0, NULL, 0 },
};

/* A number (decimal or 0x hex) up to @max from optarg. */
static int sr_num(const struct sr_args *a, const char *opt, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(optarg, &end, 0);
	if (optarg[0] < '0' || optarg[0] > '9' || *end || errno || v > max)
		return errmsg_usage(a->name, a->usage, "bad value '%s' for %s: a number (decimal or 0x hex) up to %u",
				    optarg, opt, max);
	*out = (uint32_t)v;
	return 0;
}

static int sr_fail(const struct sr_args *a, const char *what, int ret, const struct vfn_nvme_cqe *cqe)
{
	uint16_t status = vfn_nvme_cqe_status(cqe);

	return errmsg_admin(a->dev, what, ret, ret == -EIO ? &status : NULL);
}

static int primary_ctrl_caps(struct sr_args *a, struct vfn_dev *dev)
{
	struct vfn_nvme_primary_ctrl_cap cap;
	struct vfn_nvme_cqe cqe = { 0 };
	struct out o;
	int ret = vfn_dev_primary_ctrl_cap(dev, &cap, &cqe);

	if (ret)
		return sr_fail(a, "Identify Primary Controller Capabilities", ret, &cqe);
	out_init(&o, a->fmt, a->human, 10);
	sriov_show_primary(&o, &cap);
	return CLI_EXIT_OK;
}

static int list_secondary(struct sr_args *a, struct vfn_dev *dev)
{
	struct vfn_nvme_secondary_ctrl_list *list = malloc(sizeof(*list));
	struct vfn_nvme_cqe cqe = { 0 };
	struct out o;
	int ret;

	if (!list)
		return errmsg("%s: out of memory", a->name);
	ret = vfn_dev_secondary_ctrl_list(dev, (uint16_t)a->cntlid, list, &cqe);
	if (ret) {
		free(list);
		return sr_fail(a, "Identify Secondary Controller List", ret, &cqe);
	}
	out_init(&o, a->fmt, a->human, 10);
	sriov_show_secondary(&o, list, a->entries);
	free(list);
	return CLI_EXIT_OK;
}

static int virt_mgmt(struct sr_args *a, struct vfn_dev *dev)
{
	struct vfn_virt_mgmt_args v = {
		.cntlid = (uint16_t)a->cntlid, .rt = (uint8_t)a->rt, .act = (uint8_t)a->act, .nr = (uint16_t)a->nr
	};
	struct vfn_nvme_cqe cqe = { 0 };
	uint16_t nrm = 0;
	int ret;

	if (!a->have_act)
		return errmsg_usage(a->name, a->usage,
				    "needs --act (1: primary flexible allocation, 7: offline, "
				    "8: assign, 9: online)");
	ret = vfn_dev_virt_mgmt(dev, &v, &nrm, &cqe);
	if (ret)
		return sr_fail(a, "Virtualization Management", ret, &cqe);
	printf("success, Number of Controller Resources Modified (NRM):%#x\n", nrm);
	return CLI_EXIT_OK;
}

struct sr_entry {
	const char *name;
	int (*run)(struct sr_args *a, struct vfn_dev *dev);
	const char *shorts;
	const char *usage;
};

static const struct sr_entry sr_cmds[] = {
	{ "primary-ctrl-caps", primary_ctrl_caps, "+o:Hh", "DEVICE [-o normal|json] [-H]" },
	{ "list-secondary", list_secondary, "+o:c:e:h", "DEVICE [-c CNTID] [-e NUM] [-o normal|json]" },
	{ "virt-mgmt", virt_mgmt, "+c:r:a:n:h", "DEVICE -c CNTLID -r 0|1 -a 1|7|8|9 [-n NR]" },
	{ "sriov", NULL, "+o:h", "BDF [--numvfs N] [-o normal|json]" },
};

/* The long name of option @c. */
static const char *sr_optname(int c)
{
	for (const struct option *o = sr_longs; o->name; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

static int sr_opt(struct sr_args *a, int c)
{
	switch (c) {
	case 'o':
		if (out_parse_fmt(optarg, &a->fmt))
			return errmsg_bad_format(optarg);
		return 0;
	case 'H':
		a->human = true;
		return 0;
	case 'c':
		a->have_cntlid = true;
		return sr_num(a, "--cntlid", 0xffff, &a->cntlid);
	case 'r':
		a->have_rt = true;
		return sr_num(a, "--rt", 7, &a->rt);
	case 'a':
		a->have_act = true;
		return sr_num(a, "--act", 15, &a->act);
	case 'n':
		return sr_num(a, "--nr", 0xffff, &a->nr);
	case 'e':
		return sr_num(a, "--num-entries", 127, &a->entries);
	case OPT_NUMVFS:
		a->have_numvfs = true;
		return sr_num(a, "--numvfs", 0xffff, &a->numvfs);
	default:
		return errmsg_usage(a->name, a->usage, "unknown option '%s'", optarg ? optarg : "?");
	}
}

/* The message for a failed sysfs SR-IOV call on @bdf. */
static int sr_sysfs_fail(const char *bdf, const char *what, int err)
{
	char drv[32] = "";

	switch (err) {
	case -ENOTSUP:
		return errmsg("%s has no SR-IOV capability (no sriov_totalvfs in sysfs); pick a physical function",
			      bdf);
	case -EINVAL:
		return errmsg("%s: %s: more VFs than sriov_totalvfs (%d); see `vfn sriov %s`", bdf, what,
			      vfn_pci_sriov_totalvfs(bdf), bdf);
	case -ENOENT:
	case -ENOSYS:
		vfn_pci_get_driver(bdf, drv, sizeof(drv));
		if (!strcmp(drv, "vfio-pci"))
			return errmsg("%s: %s: vfio-pci refuses; load it with enable_sriov=1 "
				      "(modprobe vfio-pci enable_sriov=1), or bind the PF to nvme",
				      bdf, what);
		return errmsg("%s: %s: the PF's driver (%s) cannot enable VFs; bind it to nvme", bdf, what,
			      drv[0] ? drv : "none bound");
	case -EACCES:
	case -EPERM:
		return errmsg("%s: %s: %s; run as root", bdf, what, strerror(-err));
	default:
		if (err == -ENODEV || err == -EIO)
			return errmsg_pci(bdf, err);
		return errmsg("%s: %s: %s; see `dmesg` for the kernel's reason", bdf, what, strerror(-err));
	}
}

static int sriov_cmd(struct sr_args *a)
{
	char bdf[VFN_PCI_BDF_LEN], (*vfs)[VFN_PCI_BDF_LEN] = NULL, drv[32];
	int total, cur, n, ret;
	struct out o;

	/* Only a PCI function has SR-IOV in sysfs: not a device node, not sim: (errmsg_bad_bdf offers those). */
	if (vfn_pci_parse_bdf(a->dev, bdf)) {
		errmsg("'%s' is not a PCI address; `vfn sriov` takes a physical function's, e.g. 0000:01:00.0 (see `vfn list`)",
		       a->dev);
		return CLI_EXIT_USAGE;
	}
	total = vfn_pci_sriov_totalvfs(bdf);
	if (total < 0)
		return sr_sysfs_fail(bdf, "sriov_totalvfs", total);
	if (a->have_numvfs) {
		ret = vfn_pci_sriov_set_numvfs(bdf, a->numvfs);
		if (ret)
			return sr_sysfs_fail(bdf, "setting sriov_numvfs", ret);
	}
	cur = vfn_pci_sriov_numvfs(bdf);
	if (cur < 0)
		return sr_sysfs_fail(bdf, "sriov_numvfs", cur);
	n = vfn_pci_sriov_vfs(bdf, NULL, 0);
	if (n > 0) {
		vfs = calloc((size_t)n, sizeof(*vfs));
		if (!vfs)
			return errmsg("%s: out of memory", a->name);
		n = vfn_pci_sriov_vfs(bdf, vfs, n);
	}
	if (n < 0) {
		free(vfs);
		return sr_sysfs_fail(bdf, "listing the VFs", n);
	}
	out_init(&o, a->fmt, false, 8);
	out_begin(&o, NULL);
	if (o.fmt == OUT_NORMAL) {
		printf("%s: %d of %d VFs enabled\n", bdf, cur, total);
		for (int i = 0; i < n; i++) {
			vfn_pci_get_driver(vfs[i], drv, sizeof(drv));
			printf("  VF %d: %s (%s)\n", i + 1, vfs[i], drv[0] ? drv : "no driver");
		}
	} else {
		json_str(&o.json, "pf", bdf);
		out_u(&o, "totalvfs", (uint64_t)total);
		out_u(&o, "numvfs", (uint64_t)cur);
		out_list_begin(&o, "vfs");
		for (int i = 0; i < n; i++) {
			vfn_pci_get_driver(vfs[i], drv, sizeof(drv));
			out_item_begin(&o);
			out_u(&o, "vf", (uint64_t)i + 1);
			json_str(&o.json, "bdf", vfs[i]);
			json_str(&o.json, "driver", drv);
			out_item_end(&o);
		}
		out_list_end(&o);
	}
	out_end(&o);
	free(vfs);
	return CLI_EXIT_OK;
}

int cmd_sriov(int argc, char **argv)
{
	const struct sr_entry *e = NULL;
	struct sr_args a = { .name = argv[0] };
	struct vfn_dev *dev;
	int c, ret;

	for (size_t i = 0; i < sizeof(sr_cmds) / sizeof(sr_cmds[0]); i++)
		if (!strcmp(sr_cmds[i].name, argv[0]))
			e = &sr_cmds[i];
	if (!e)
		return errmsg_unknown_cmd(argv[0]);
	a.usage = e->usage;
	optind = 1;
	opterr = 0;
	while (optind < argc) {
		c = getopt_long(argc, argv, e->shorts, sr_longs, NULL);
		if (c == -1) {
			if (a.dev)
				return errmsg_usage(a.name, a.usage, "unexpected argument '%s'", argv[optind]);
			a.dev = argv[optind++];
			continue;
		}
		if (c == 'h') {
			printf("usage: vfn %s %s\n", e->name, e->usage);
			return CLI_EXIT_OK;
		}
		if (c == '?' || (c == OPT_NUMVFS && e->run) ||
		    (c != OPT_NUMVFS && c < 128 && !strchr(e->shorts + 1, c)))
			return c == '?' ? errmsg_usage(a.name, a.usage, "unknown option '%s'", argv[optind - 1])
					: errmsg_usage(a.name, a.usage, "vfn %s takes no --%s", e->name, sr_optname(c));
		if (sr_opt(&a, c))
			return CLI_EXIT_USAGE;
	}
	if (!a.dev)
		return errmsg_usage(a.name, a.usage, "needs a %s", e->run ? "device" : "PCI address");
	if (!e->run)
		return sriov_cmd(&a);
	if (e->run == virt_mgmt && (!a.have_cntlid || !a.have_rt))
		return errmsg_usage(a.name, a.usage, "needs --cntlid and --rt");
	ret = cli_dev_open(a.dev, NULL, &dev);
	if (ret)
		return ret;
	ret = e->run(&a, dev);
	vfn_dev_close(dev);
	return ret;
}
