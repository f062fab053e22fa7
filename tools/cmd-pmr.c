/* SPDX-License-Identifier: MIT */
/*
 * pmr: read and write the controller's Persistent Memory Region.
 *
 *   vfn pmr read DEVICE [--offset N] --length N     bytes to stdout
 *   vfn pmr write DEVICE [--offset N] (--data STRING | --input FILE)
 *
 * A write returns once the controller has the bytes persistent as the spec
 * has the host make sure of it (vfn_nvme_pmr_write(), docs/cmb.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vfn/cmb.h>

#include "cli.h"

#define PMR_USAGE "read|write DEVICE [--offset N] [--length N] [--data STRING | --input FILE]"
#define PMR_MAX_INPUT (64u << 20)

#define pmr_usage(...) errmsg_usage("pmr", PMR_USAGE, __VA_ARGS__)

static void pmr_help(void)
{
	printf("usage: vfn pmr %s\n\n"
	       "Read or write the controller's Persistent Memory Region (PMRCAP, PMRCTL, PMRSTS;\n"
	       "docs/cmb.md).  The PMR is enabled first (PMRCTL.EN, then PMRSTS.NRDY waited for).\n\n"
	       "  read                  copy --length bytes from --offset to stdout\n"
	       "  write                 copy --data or --input's bytes to --offset; returns once\n"
	       "                        they are persistent (PMRWBM barrier, then PMRSTS checked)\n"
	       "      --offset=N        byte offset in the PMR (default 0)\n"
	       "      --length=N        bytes to read\n"
	       "      --data=STRING     the bytes to write\n"
	       "      --input=FILE      a file with the bytes to write (- for stdin)\n"
	       "  -h, --help            show this help\n",
	       PMR_USAGE);
}

/* Reads all of @path (or stdin for "-") into a new buffer. */
static int pmr_slurp(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	uint8_t *buf;
	size_t n = 0;

	if (!f)
		return errmsg("cannot open %s: %s", path, strerror(errno));
	buf = malloc(PMR_MAX_INPUT);
	if (!buf) {
		if (f != stdin)
			fclose(f);
		return errmsg("out of memory");
	}
	n = fread(buf, 1, PMR_MAX_INPUT, f);
	/* A read error (a directory: EISDIR) or more than fits: refuse, do not write a part. */
	if (ferror(f) || (n == PMR_MAX_INPUT && fgetc(f) != EOF)) {
		int err = ferror(f) ? errno : 0;

		if (f != stdin)
			fclose(f);
		free(buf);
		if (err)
			return errmsg("cannot read %s: %s; give a readable file with --input", path, strerror(err));
		return errmsg("%s is over the %u MiB the PMR write takes; write it in pieces with --offset", path,
			      PMR_MAX_INPUT >> 20);
	}
	if (f != stdin)
		fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

static int pmr_run(struct vfn_nvme_ctrl *ctrl, const char *dev, bool write, uint64_t off, size_t len,
		   const uint8_t *data)
{
	struct vfn_nvme_pmr_info info;
	uint8_t *buf;
	int ret = vfn_nvme_pmr_enable(ctrl);

	if (ret == -ENOTSUP)
		return errmsg(
			"%s has no persistent memory region (CAP.PMRS is 0); with QEMU add pmrdev=ID to -device nvme and a memory-backend-file",
			dev);
	if (ret)
		return errmsg("%s: enabling the persistent memory region failed (%s); see PMRSTS in `vfn show-regs %s`",
			      dev, strerror(-ret), dev);
	vfn_nvme_pmr_get_info(ctrl, &info);
	if (off > info.size || len > info.size - off)
		return errmsg("%s: %zu bytes at offset %llu go beyond the persistent memory region's %llu bytes", dev,
			      len, (unsigned long long)off, (unsigned long long)info.size);
	if (write) {
		ret = vfn_nvme_pmr_write(ctrl, off, data, len);
		if (ret)
			return errmsg(
				"%s: writing the persistent memory region failed (%s); see PMRSTS in `vfn show-regs %s`",
				dev, strerror(-ret), dev);
		return CLI_EXIT_OK;
	}
	buf = malloc(len ? len : 1);
	if (!buf)
		return errmsg("out of memory");
	ret = vfn_nvme_pmr_read(ctrl, off, buf, len);
	if (ret) {
		free(buf);
		return errmsg("%s: reading the persistent memory region failed (%s); see PMRSTS in `vfn show-regs %s`",
			      dev, strerror(-ret), dev);
	}
	if (fwrite(buf, 1, len, stdout) != len || fflush(stdout)) {
		free(buf);
		return errmsg_write(errno);
	}
	free(buf);
	return CLI_EXIT_OK;
}

int cmd_pmr(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "offset", required_argument, NULL, 'O' }, { "length", required_argument, NULL, 'l' },
		{ "data", required_argument, NULL, 'd' },   { "input", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },	    { NULL, 0, NULL, 0 },
	};
	const char *data = NULL, *input = NULL, *op, *dev;
	unsigned long long off = 0, len = 0;
	bool have_len = false, write;
	struct vfn_dev *vdev;
	uint8_t *in = NULL;
	size_t in_len = 0;
	char *end;
	int c, ret;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'O':
		case 'l':
			errno = 0;
			if (c == 'O')
				off = strtoull(optarg, &end, 0);
			else
				len = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end || optarg[0] == '-')
				return pmr_usage("not a number: '%s'", optarg);
			have_len |= c == 'l';
			break;
		case 'd':
			data = optarg;
			break;
		case 'i':
			input = optarg;
			break;
		case 'h':
			pmr_help();
			return CLI_EXIT_OK;
		case ':':
			return pmr_usage("option '%s' needs a value", argv[optind - 1]);
		default:
			return pmr_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return pmr_usage("%s",
				 argc - optind < 2 ? "read or write, and a DEVICE, are needed" : "too many arguments");
	op = argv[optind];
	dev = argv[optind + 1];
	if (strcmp(op, "read") && strcmp(op, "write"))
		return pmr_usage("unknown operation '%s' (read or write)", op);
	write = op[0] == 'w';
	if (write && !data == !input)
		return pmr_usage("%s", "pmr write needs one of --data or --input");
	if (!write && !have_len)
		return pmr_usage("%s", "pmr read needs --length");
	if (!write && (data || input))
		return pmr_usage("%s", "--data and --input are for pmr write");
	if (input) {
		ret = pmr_slurp(input, &in, &in_len);
		if (ret)
			return ret;
	}
	ret = cli_dev_open(dev, NULL, &vdev);
	if (ret) {
		free(in);
		return ret;
	}
	if (vfn_dev_get_info(vdev)->backend == VFN_DEV_KERNEL)
		ret = errmsg(
			"%s: the persistent memory region is reached through vfio only; bind the controller with `vfn bind`",
			dev);
	else if (data)
		ret = pmr_run(vfn_dev_nvme_ctrl(vdev), dev, true, off, strlen(data), (const uint8_t *)data);
	else
		ret = pmr_run(vfn_dev_nvme_ctrl(vdev), dev, write, off, write ? in_len : (size_t)len, in);
	vfn_dev_close(vdev);
	free(in);
	return ret;
}
