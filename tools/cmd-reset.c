/* SPDX-License-Identifier: MIT */
/*
 * vfn reset DEVICE --controller|--function|--subsystem|--bus: a controller
 * reset (CC.EN 1 -> 0 -> 1), a function-level reset through VFIO, an NVM
 * Subsystem Reset (NSSR) or a PCI hot reset (bus or slot, where VFIO allows
 * it), each with the controller brought up again.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <vfn/dev.h>
#include <vfn/nvme.h>

#include "cli.h"
#include "errmsg.h"

static const char reset_usage[] = "DEVICE [--controller|--function|--subsystem|--bus]";

static void reset_help(void)
{
	printf("usage: vfn reset %s\n\n"
	       "Reset a controller driven by vfn (vfio-pci or sim:) and bring it up again.\n\n"
	       "  -c, --controller  controller reset: CC.EN 1 -> 0 -> 1 (the default)\n"
	       "  -f, --function    function-level reset through VFIO (VFIO_DEVICE_RESET);\n"
	       "                    interrupt vectors are routed again afterwards\n"
	       "  -s, --subsystem   NVM Subsystem Reset (NSSR); needs CAP.NSSRS (QEMU 7.2 has none)\n"
	       "  -b, --bus         PCI hot reset (secondary bus or slot) where VFIO allows it;\n"
	       "                    refused before anything stops otherwise\n"
	       "  -h, --help        this help\n",
	       reset_usage);
}

/*
 * The library's first error line while a bus reset is checked (it names
 * the function in the way and the fix), for the CLI's one line: the
 * library is silent by default, and with VFN_LOG set it prints its own.
 */
struct first_err {
	char line[256];
};

static void keep_first_err(enum vfn_log_level level, const char *msg, void *arg)
{
	struct first_err *fe = arg;

	if (level == VFN_LOG_ERR && !fe->line[0])
		snprintf(fe->line, sizeof(fe->line), "%s", msg);
}

static int reset_bus(struct vfn_nvme_ctrl *ctrl, struct first_err *fe)
{
	int ret;

	if (vfn_log_get_level() != VFN_LOG_NONE)
		return vfn_nvme_ctrl_reset_bus(ctrl);
	vfn_log_set_fn(keep_first_err, fe);
	vfn_log_set_level(VFN_LOG_ERR);
	ret = vfn_nvme_ctrl_reset_bus(ctrl);
	vfn_log_set_level(VFN_LOG_NONE);
	vfn_log_set_fn(NULL, NULL);
	return ret;
}

/* @line without a leading "BDF: " (the library's lines start with the canonical address). */
static const char *after_bdf(const char *line)
{
	const char *p = strstr(line, ": ");

	return p && p - line < 20 ? p + 2 : line;
}

/* The one-line cause and fix of a failed reset of kind @kind ('c', 'f', 's', 'b'). */
static int reset_error(const char *dev, int kind, int err, const struct first_err *fe)
{
	if (kind == 'b' && err == -EBUSY && fe->line[0])
		return errmsg("%s: PCI hot reset not allowed here: %s; the controller is untouched (or use --function "
			      "or --controller)",
			      dev, after_bdf(fe->line));
	if (kind == 's' && err == -EOPNOTSUPP)
		return errmsg("%s: NVM subsystem reset not supported (CAP.NSSRS is 0): use --controller or --function",
			      dev);
	if (kind == 'b' && (err == -ENOTSUP || err == -EBUSY))
		return errmsg("%s: PCI hot reset not allowed here (%s): the controller is untouched; %s", dev,
			      err == -EBUSY ? "it would also reset a function in another IOMMU group, not owned "
					      "here, or open through another handle; VFN_LOG=err names it"
					    : "VFIO offers no bus or slot reset for this function",
			      err == -EBUSY ? "close or release that function first, or use --function or --controller"
					    : "use --function or --controller");
	if (kind == 'f' && err == -ENOTSUP)
		return errmsg("%s: the device offers no function-level reset (VFIO reports none): use --controller",
			      dev);
	return errmsg("%s: %s reset failed: %s; the controller stays failed: try `vfn reset %s --function`", dev,
		      kind == 'c'   ? "controller"
		      : kind == 'f' ? "function-level"
		      : kind == 'b' ? "PCI hot"
				    : "NVM subsystem",
		      strerror(-err), dev);
}

int cmd_reset(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "controller", no_argument, NULL, 'c' }, { "function", no_argument, NULL, 'f' },
		{ "subsystem", no_argument, NULL, 's' },  { "bus", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },	  { NULL, 0, NULL, 0 },
	};
	const char *dev = NULL;
	struct vfn_nvme_ctrl *ctrl;
	struct first_err fe = { .line = "" };
	struct vfn_dev *d;
	int kind = 0, c, ret;

	optind = 1;
	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, "-cfsbh", longs, NULL);
		if (c == -1)
			break;
		switch (c) {
		case 1:
			if (dev)
				return errmsg_usage("reset", reset_usage, "unexpected argument '%s'", optarg);
			dev = optarg;
			break;
		case 'c':
		case 'f':
		case 's':
		case 'b':
			if (kind && kind != c)
				return errmsg_usage("reset", reset_usage,
						    "one of --controller, --function, --subsystem, --bus");
			kind = c;
			break;
		case 'h':
			reset_help();
			return CLI_EXIT_OK;
		default:
			return errmsg_usage("reset", reset_usage, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!dev)
		return errmsg_usage("reset", reset_usage, "no DEVICE");
	if (!kind)
		kind = 'c';
	ret = cli_dev_open(dev, NULL, &d);
	if (ret)
		return ret;
	ctrl = vfn_dev_nvme_ctrl(d);
	if (!ctrl) {
		vfn_dev_close(d);
		return errmsg("%s: the kernel nvme driver owns it: reset it with `nvme reset`, or `vfn bind` it first",
			      dev);
	}
	ret = kind == 'c'   ? vfn_nvme_ctrl_reset(ctrl)
	      : kind == 'f' ? vfn_nvme_ctrl_reset_function(ctrl)
	      : kind == 'b' ? reset_bus(ctrl, &fe)
			    : vfn_nvme_ctrl_reset_subsystem(ctrl);
	if (ret) {
		ret = reset_error(dev, kind, ret, &fe);
		vfn_dev_close(d);
		return ret;
	}
	printf("%s: %s reset done, controller ready\n", dev,
	       kind == 'c'   ? "controller"
	       : kind == 'f' ? "function-level"
	       : kind == 'b' ? "PCI hot"
			     : "NVM subsystem");
	vfn_dev_close(d);
	return CLI_EXIT_OK;
}
