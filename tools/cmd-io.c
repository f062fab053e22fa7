/* SPDX-License-Identifier: MIT */
/*
 * I/O from the command line, with nvme-cli's names and options: read,
 * write, flush, io-passthru and admin-passthru.  Each takes any device
 * string (a PCI address on vfio-pci, a kernel node, sim:...) and goes
 * through the vfn_dev handle.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vfn/pi.h>
#include <vfn/support.h>

#include "cli.h"

/* The most a passthrough command may move (-l), so a typo cannot eat memory. */
#define IO_MAX_DATA_LEN (64u << 20)
/* Blocks one Read/Write may carry (NLB is 16 bits, 0's based). */
#define IO_MAX_NLB 65536u

/* What the commands of this file may be given; @have_* says what was. */
struct io_args {
	const char *name, *usage, *dev, *file;
	bool have_nsid, have_opcode, raw, rd, wr;
	uint32_t nsid, nlb, timeout_ms, data_len;
	uint64_t slba, data_size;
	uint8_t opcode;
	uint32_t cdw[16];
	/* read/write: metadata and protection information (nvme-cli's options) */
	const char *meta_file;
	uint64_t meta_size, ref_tag;
	uint8_t prinfo;
	uint16_t app_tag, app_mask;
	bool fua, have_pi;
};

/* A number in decimal or 0x hex, at most @max; 0 or -EINVAL. */
static int parse_num(const char *s, uint64_t max, uint64_t *out)
{
	int base = 10;
	unsigned long long v;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	/* strtoull would take " 1", "+1", "-1" */
	if (!((*s >= '0' && *s <= '9') || (base == 16 && strchr("abcdefABCDEF", *s) && *s)))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* parse_num() into @out, or a usage error naming @opt. */
static int opt_num(const struct io_args *a, const char *opt, uint64_t max, uint64_t *out)
{
	if (!parse_num(optarg, max, out))
		return 0;
	errmsg_usage(a->name, a->usage, "bad value '%s' for %s: a number (decimal or 0x hex) up to %llu", optarg, opt,
		     (unsigned long long)max);
	return -EINVAL;
}

static int opt_u32(const struct io_args *a, const char *opt, uint64_t max, uint32_t *out)
{
	uint64_t v;

	if (opt_num(a, opt, max, &v))
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static const struct option io_longs[] = {
	{ "namespace-id", required_argument, NULL, 'n' },
	{ "start-block", required_argument, NULL, 's' },
	{ "block-count", required_argument, NULL, 'c' },
	{ "data-size", required_argument, NULL, 'z' },
	{ "data", required_argument, NULL, 'd' },
	{ "opcode", required_argument, NULL, 'o' },
	{ "data-len", required_argument, NULL, 'l' },
	{ "read", no_argument, NULL, 'r' },
	{ "write", no_argument, NULL, 'w' },
	{ "input-file", required_argument, NULL, 'i' },
	{ "raw-binary", no_argument, NULL, 'b' },
	{ "timeout", required_argument, NULL, 't' },
	{ "cdw2", required_argument, NULL, '2' },
	{ "cdw3", required_argument, NULL, '3' },
	{ "cdw10", required_argument, NULL, '4' },
	{ "cdw11", required_argument, NULL, '5' },
	{ "cdw12", required_argument, NULL, '6' },
	{ "cdw13", required_argument, NULL, '7' },
	{ "cdw14", required_argument, NULL, '8' },
	{ "cdw15", required_argument, NULL, '9' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* read/write take nvme-cli's -r/-a/-m/-p/-y/-M/-f, where the passthrough commands have other -r/-m meanings. */
static const struct option rw_longs[] = {
	{ "namespace-id", required_argument, NULL, 'n' },
	{ "start-block", required_argument, NULL, 's' },
	{ "block-count", required_argument, NULL, 'c' },
	{ "data-size", required_argument, NULL, 'z' },
	{ "data", required_argument, NULL, 'd' },
	{ "metadata-size", required_argument, NULL, 'y' },
	{ "metadata", required_argument, NULL, 'M' },
	{ "prinfo", required_argument, NULL, 'p' },
	{ "ref-tag", required_argument, NULL, 'r' },
	{ "app-tag", required_argument, NULL, 'a' },
	{ "app-tag-mask", required_argument, NULL, 'm' },
	{ "force-unit-access", no_argument, NULL, 'f' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The PI options of read/write; as rw_opt(). */
static int pi_opt(struct io_args *a, int c)
{
	uint64_t v;

	switch (c) {
	case 'y':
		return opt_num(a, "-y", UINT32_MAX, &a->meta_size);
	case 'M':
		a->meta_file = optarg;
		return 0;
	case 'f':
		a->fua = true;
		return 0;
	case 'p':
		a->have_pi = true;
		if (opt_num(a, "-p", 0xf, &v))
			return -EINVAL;
		a->prinfo = (uint8_t)v;
		return 0;
	case 'r':
		a->have_pi = true;
		return opt_num(a, "-r", 0xffffffffffffULL, &a->ref_tag);
	case 'a':
	case 'm':
		a->have_pi = true;
		if (opt_num(a, c == 'a' ? "-a" : "-m", 0xffff, &v))
			return -EINVAL;
		*(c == 'a' ? &a->app_tag : &a->app_mask) = (uint16_t)v;
		return 0;
	default:
		return -ENOENT;
	}
}

/* Options of read/write/flush; 0, 1 (help shown) or -EINVAL (message shown). */
static int rw_opt(struct io_args *a, int c)
{
	uint64_t v;

	switch (c) {
	case 's':
		return opt_num(a, "-s", UINT64_MAX, &a->slba);
	case 'c':
		if (opt_num(a, "-c", IO_MAX_NLB - 1, &v))
			return -EINVAL;
		a->nlb = (uint32_t)v + 1;
		return 0;
	case 'z':
		return opt_num(a, "-z", UINT32_MAX, &a->data_size);
	case 'd':
		a->file = optarg;
		return 0;
	default:
		return pi_opt(a, c);
	}
}

/* Options of the passthrough commands; as rw_opt(). */
static int passthru_opt(struct io_args *a, int c)
{
	static const int cdw_of[] = { 2, 3, 10, 11, 12, 13, 14, 15 };
	static const char *const cdw_opt[] = { "--cdw2",  "--cdw3",  "--cdw10", "--cdw11",
					       "--cdw12", "--cdw13", "--cdw14", "--cdw15" };
	uint64_t v;

	switch (c) {
	case 'o':
		a->have_opcode = true;
		if (opt_num(a, "-o", 0xff, &v))
			return -EINVAL;
		a->opcode = (uint8_t)v;
		return 0;
	case 'l':
		return opt_u32(a, "-l", IO_MAX_DATA_LEN, &a->data_len);
	case 'r':
		a->rd = true;
		return 0;
	case 'w':
		a->wr = true;
		return 0;
	case 'i':
		a->file = optarg;
		return 0;
	case 'b':
		a->raw = true;
		return 0;
	case 't':
		return opt_u32(a, "-t", UINT32_MAX, &a->timeout_ms);
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9':
		return opt_u32(a, cdw_opt[c - '2'], UINT32_MAX, &a->cdw[cdw_of[c - '2']]);
	default:
		return -ENOENT;
	}
}

/* One of this file's commands: its options (getopt string) and help. */
struct io_cmd {
	const char *name, *usage, *shortopts, *help;
	bool passthru;
};

/* Help lines that read, write, compare and write-zeroes share. */
#define IO_HELP_RANGE                                                                          \
	"  -n, --namespace-id=NSID   namespace (default: the node's, else the first active)\n" \
	"  -s, --start-block=SLBA    first logical block\n"                                    \
	"  -c, --block-count=NLB     number of blocks, 0's based (0..65535)\n"
#define IO_HELP_DATA_IN                                                               \
	"  -z, --data-size=BYTES     bytes to take from FILE; must hold the blocks\n" \
	"  -d, --data=FILE           the data (exactly the blocks' size, or -z bytes)\n"
#define IO_HELP_META_PI                                                                            \
	"  -y, --metadata-size=BYTES separate metadata bytes; must hold the blocks'\n"             \
	"  -M, --metadata=FILE       separate metadata (namespace without extended LBAs)\n"        \
	"  -p, --prinfo=N            PRINFO 0..15: 8 PRACT, 4 check guard, 2 app tag, 1 ref tag\n" \
	"  -r, --ref-tag=N           initial reference tag (32 bits; 48 with the 64-bit guard)\n"  \
	"  -a, --app-tag=N           application tag\n"                                            \
	"  -m, --app-tag-mask=N      application tag mask (1 bits are compared)\n"

static const struct io_cmd io_cmds[] = {
	{ "read",
	  "DEVICE [-n NSID] [-s SLBA] -c NLB [-z DATA_SIZE] [-d FILE] [-y SIZE] [-M FILE] [-p N -r N -a N -m N] [-f]",
	  ":n:s:c:z:d:y:M:p:r:a:m:fvh",
	  "Read NLB+1 blocks from SLBA to stdout or FILE.\n\n" IO_HELP_RANGE
	  "  -z, --data-size=BYTES     buffer size; must hold the blocks\n"
	  "  -d, --data=FILE           write the data to FILE instead of stdout\n" IO_HELP_META_PI
	  "  -f, --force-unit-access   FUA: to the medium, past any volatile cache\n",
	  false },
	{ "write",
	  "DEVICE [-n NSID] [-s SLBA] -c NLB [-z DATA_SIZE] -d FILE|- [-y SIZE] [-M FILE] [-p N -r N -a N -m N] [-f]",
	  ":n:s:c:z:d:y:M:p:r:a:m:fvh",
	  "Write NLB+1 blocks at SLBA from FILE (- for stdin).\n\n" IO_HELP_RANGE IO_HELP_DATA_IN IO_HELP_META_PI
	  "  -f, --force-unit-access   FUA: to the medium, past any volatile cache\n",
	  false },
	{ "compare",
	  "DEVICE [-n NSID] [-s SLBA] -c NLB [-z DATA_SIZE] -d FILE|- [-y SIZE] [-M FILE] [-p N -r N -a N -m N] [-f]",
	  ":n:s:c:z:d:y:M:p:r:a:m:fvh",
	  "Compare NLB+1 blocks at SLBA with FILE (- for stdin): exit 1 on Compare Failure.\n\n" IO_HELP_RANGE
		  IO_HELP_DATA_IN IO_HELP_META_PI "  -f, --force-unit-access   FUA: from the medium\n",
	  false },
	{ "write-zeroes", "DEVICE [-n NSID] [-s SLBA] -c NLB [-p N -r N -a N -m N] [-f]", ":n:s:c:p:r:a:m:fvh",
	  "Send Write Zeroes over NLB+1 blocks at SLBA.\n\n" IO_HELP_RANGE
	  "  -p, --prinfo=N            PRINFO 0..15 (8 PRACT: the controller writes PI for the zeroes)\n"
	  "  -r, --ref-tag=N           initial reference tag\n"
	  "  -a, --app-tag=N           application tag\n"
	  "  -m, --app-tag-mask=N      application tag mask\n"
	  "  -f, --force-unit-access   FUA\n",
	  false },
	{ "flush", "DEVICE [-n NSID]", ":n:vh",
	  "Send Flush: commit volatile write cache contents to the medium.\n\n"
	  "  -n, --namespace-id=NSID   namespace (default: the node's, else the first active)\n",
	  false },
	{ "io-passthru", "DEVICE -o OPCODE [-n NSID] [--cdw2..--cdw15 N] [-l LEN [-r|-w] [-i FILE] [-b]] [-t MS]",
	  ":o:n:l:rwi:bt:2:3:4:5:6:7:8:9:vh", "Send any I/O command and show its completion.\n\n", true },
	{ "admin-passthru", "DEVICE -o OPCODE [-n NSID] [--cdw2..--cdw15 N] [-l LEN [-r|-w] [-i FILE] [-b]] [-t MS]",
	  ":o:n:l:rwi:bt:2:3:4:5:6:7:8:9:vh", "Send any admin command and show its completion.\n\n", true },
};

static const char passthru_help[] =
	"  -o, --opcode=OPCODE       command opcode (0..0xff)\n"
	"  -n, --namespace-id=NSID   NSID field (default: 0 for admin, the node's for I/O)\n"
	"  -2, --cdw2=N  -3, --cdw3=N  -4, --cdw10=N  -5, --cdw11=N\n"
	"  -6, --cdw12=N  -7, --cdw13=N  -8, --cdw14=N  -9, --cdw15=N   command dwords\n"
	"  -l, --data-len=LEN        data bytes (up to 64 MiB)\n"
	"  -r, --read / -w, --write  data direction (default: from the opcode's bits 1:0)\n"
	"  -i, --input-file=FILE     data to send with -w (default: stdin)\n"
	"  -b, --raw-binary          received data raw on stdout, not as a hex dump\n"
	"  -t, --timeout=MS          command timeout in milliseconds (0: the default)\n"
	"\nThe command goes as given: on a namespace formatted with metadata, -l must\n"
	"count the metadata too (read and write refuse such a namespace).\n";

/* The long options of @cmd. */
static const struct option *cmd_longs(const struct io_cmd *cmd)
{
	return cmd->passthru || !strcmp(cmd->name, "flush") ? io_longs : rw_longs;
}

/* The long name of option @c of @cmd, e.g. "--opcode". */
static const char *long_name(const struct io_cmd *cmd, int c)
{
	static char buf[32];

	for (const struct option *o = cmd_longs(cmd); o->name; o++)
		if (o->val == c) {
			snprintf(buf, sizeof(buf), "--%s", o->name);
			return buf;
		}
	return "?";
}

static void io_help(const struct io_cmd *c)
{
	printf("usage: vfn %s %s\n\n%s%s", c->name, c->usage, c->help, c->passthru ? passthru_help : "");
	printf("  -v, --verbose             show the library's debug trace on stderr\n"
	       "  -h, --help                show this help\n");
}

/* One option @c; 0 to go on, 1 after help, -EINVAL after a usage message. */
static int io_opt(const struct io_cmd *cmd, struct io_args *a, int c, char **argv)
{
	int ret;

	if (c == ':')
		return errmsg_usage(a->name, a->usage, "option '%s' needs a value", argv[optind - 1]), -EINVAL;
	if (c == '?' && optopt)
		return errmsg_usage(a->name, a->usage, "unknown option '-%c' for %s", optopt, a->name), -EINVAL;
	if (c == '?')
		return errmsg_usage(a->name, a->usage, "unknown option '%s' for %s", argv[optind - 1], a->name),
		       -EINVAL;
	if (!strchr(cmd->shortopts + 1, c))
		return errmsg_usage(a->name, a->usage, "unknown option '%s' for %s", long_name(cmd, c), a->name),
		       -EINVAL;
	if (c == 'h')
		return io_help(cmd), 1;
	if (c == 'v') {
		vfn_log_set_level(VFN_LOG_DEBUG);
		return 0;
	}
	if (c == 'n') {
		a->have_nsid = true;
		return opt_u32(a, "-n", 0xffffffff, &a->nsid);
	}
	ret = cmd->passthru ? passthru_opt(a, c) : rw_opt(a, c);
	return ret == -ENOENT ? 0 : ret;
}

/* What must be there once all options are read; 0 or -EINVAL (message shown). */
static int io_check(const struct io_cmd *cmd, struct io_args *a, int nargs, char **args)
{
	if (nargs == 0)
		return errmsg_usage(a->name, a->usage, "%s needs a device (a PCI address, a /dev node or sim:...)",
				    a->name),
		       -EINVAL;
	if (nargs > 1)
		return errmsg_usage(a->name, a->usage, "unexpected argument '%s'", args[1]), -EINVAL;
	a->dev = args[0];
	if (cmd->passthru && !a->have_opcode)
		return errmsg_usage(a->name, a->usage, "%s needs an opcode (-o OPCODE)", a->name), -EINVAL;
	if (cmd->passthru && a->rd && a->wr)
		return errmsg_usage(a->name, a->usage, "-r and -w exclude each other"), -EINVAL;
	if (!cmd->passthru && a->have_nsid && (!a->nsid || a->nsid == 0xffffffff))
		return errmsg_usage(a->name, a->usage, "-n %u is not a namespace (1..4294967294)", a->nsid), -EINVAL;
	if ((!strcmp(a->name, "write") || !strcmp(a->name, "compare")) && !a->file)
		return errmsg_usage(a->name, a->usage, "%s needs data (-d FILE, or -d - for stdin)", a->name), -EINVAL;
	if (strcmp(a->name, "flush") && !cmd->passthru && !a->nlb)
		return errmsg_usage(a->name, a->usage, "%s needs a block count (-c NLB, 0's based)", a->name), -EINVAL;
	return 0;
}

/* Parses @argv (argv[0]: the name) into @a; 0, 1 (help shown) or -EINVAL. */
static int io_parse(const struct io_cmd *cmd, int argc, char **argv, struct io_args *a)
{
	int c, ret;

	memset(a, 0, sizeof(*a));
	a->name = cmd->name;
	a->usage = cmd->usage;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, cmd->shortopts, cmd_longs(cmd), NULL)) != -1) {
		ret = io_opt(cmd, a, c, argv);
		if (ret)
			return ret;
	}
	return io_check(cmd, a, argc - optind, argv + optind);
}

/* Reads exactly @len bytes from @path ("-": stdin), given with option @opt, into @buf; exit status. */
static int load_file(const char *path, const char *opt, void *buf, size_t len)
{
	bool std = !strcmp(path, "-");
	FILE *f = std ? stdin : fopen(path, "re");
	size_t got;

	if (!f)
		return errmsg("cannot open %s: %s; check the path given with %s", path, strerror(errno), opt);
	got = fread(buf, 1, len, f);
	if (!std)
		fclose(f);
	if (got < len)
		return errmsg("%s holds %zu bytes, %zu needed; give a larger file or fewer blocks",
			      std ? "stdin" : path, got, len);
	return CLI_EXIT_OK;
}

/* Writes @len bytes at @buf to @path (NULL or "-": stdout), given with option @opt; exit status. */
static int store_file(const char *path, const char *opt, const void *buf, size_t len)
{
	bool std = !path || !strcmp(path, "-");
	FILE *f = std ? stdout : fopen(path, "we");
	bool bad;

	if (!f)
		return errmsg("cannot create %s: %s; check the path given with %s", path, strerror(errno), opt);
	bad = fwrite(buf, 1, len, f) != len;
	if (!std)
		bad = fclose(f) || bad;
	if (bad)
		return errmsg("cannot write %s: %s; check the free space", std ? "stdout" : path, strerror(errno));
	return CLI_EXIT_OK;
}

/* The namespace to act on: -n, else the one the handle was opened on. */
static uint32_t io_nsid(const struct io_args *a, struct vfn_dev *dev)
{
	return a->have_nsid ? a->nsid : vfn_dev_get_info(dev)->nsid;
}

/*
 * Opens @a->dev for I/O, its geometry that of namespace @geo_nsid (0: the
 * node's, else the first active); exit status.
 */
static int open_for_io(const struct io_args *a, uint32_t geo_nsid, struct vfn_dev **dev)
{
	struct vfn_dev_opts o = { .nsid = geo_nsid };
	int ret = cli_dev_open(a->dev, &o, dev);

	if (ret)
		return ret;
	if (!vfn_dev_get_info(*dev)->io || !io_nsid(a, *dev)) {
		ret = errmsg_no_io(a->dev, vfn_dev_get_info(*dev)->io);
		vfn_dev_close(*dev);
	}
	return ret;
}

/* How a read/write lays out its blocks on the host (see vfn_dev_rw()). */
struct rw_layout {
	uint32_t host_blk;	      /* bytes per block in the data buffer */
	size_t len;		      /* data buffer */
	size_t meta_len;	      /* separate metadata */
	size_t buf_alloc, meta_alloc; /* what vfn_dev_buf_alloc() gave (0: nothing) */
};

static void rw_layout(const struct io_args *a, const struct vfn_dev_info *info, uint8_t opcode, struct rw_layout *l)
{
	bool moves = vfn_pi_meta_moves(info->ms, info->pi_type, info->pif, a->prinfo);

	if (opcode == VFN_NVME_CMD_WRITE_ZEROES) {
		l->host_blk = info->lba_size; /* for the checks; nothing moves */
		l->len = l->meta_len = 0;
		return;
	}

	l->host_blk = moves && info->mset ? info->block_size : info->lba_size;
	l->len = (size_t)a->nlb * l->host_blk;
	l->meta_len = moves && !info->mset ? (size_t)a->nlb * info->ms : 0;
}

/* Blocks of @info one command may move, @host_blk bytes each. */
static uint32_t chunk_blocks(const struct vfn_dev_info *info, uint32_t host_blk)
{
	size_t max = info->max_xfer ? info->max_xfer / host_blk : IO_MAX_NLB;

	return max > IO_MAX_NLB ? IO_MAX_NLB : (uint32_t)max;
}

/* The metadata/PI options against the namespace's format; exit status. */
static int check_meta(const struct io_args *a, const struct vfn_dev_info *info, const struct rw_layout *l, bool wr)
{
	if (!info->ms && (a->meta_file || a->meta_size || a->have_pi))
		return errmsg("namespace %u of %s has no metadata (LBA format %u); drop -M, -y, -p, -r, -a and -m",
			      info->nsid, a->dev, info->flbas);
	if (a->prinfo && !info->pi_type)
		return errmsg("namespace %u of %s has no protection information (DPS type 0); drop -p", info->nsid,
			      a->dev);
	if (info->pi_type && info->pif != VFN_PI_PIF_64 && a->ref_tag > 0xffffffffULL)
		return errmsg("-r 0x%llx does not fit the 32-bit reference tag of namespace %u of %s (16b Guard "
			      "format); use a tag below 0x100000000",
			      (unsigned long long)a->ref_tag, info->nsid, a->dev);
	if (a->meta_file && !l->meta_len)
		return errmsg("namespace %u of %s moves no separate metadata here (%s); drop -M", info->nsid, a->dev,
			      info->mset ? "extended LBA: the metadata is in -d's data" : "PRACT: the controller's PI");
	if (wr && l->meta_len && !a->meta_file)
		return errmsg("namespace %u of %s has %u bytes of separate metadata per block; give them with -M FILE",
			      info->nsid, a->dev, info->ms);
	if (a->meta_size && a->meta_size < l->meta_len)
		return errmsg("-y %llu is less than the %u blocks' %zu bytes of metadata; use -y %zu or leave it out",
			      (unsigned long long)a->meta_size, a->nlb, l->meta_len, l->meta_len);
	return CLI_EXIT_OK;
}

/* Checks the range and size of a read or write on @info; exit status. */
static int check_rw(const struct io_args *a, const struct vfn_dev_info *info, const struct rw_layout *l, bool wr)
{
	if (a->slba >= info->nsze || a->nlb > info->nsze - a->slba)
		return errmsg("blocks %llu..%llu are beyond namespace %u's %llu blocks; lower -s or -c",
			      (unsigned long long)a->slba, (unsigned long long)(a->slba + a->nlb - 1), info->nsid,
			      (unsigned long long)info->nsze);
	if (a->data_size && a->data_size < l->len)
		return errmsg("-z %llu is less than the %u blocks of %u bytes; use -z %zu or leave it out",
			      (unsigned long long)a->data_size, a->nlb, l->host_blk, l->len);
	if (!chunk_blocks(info, l->host_blk))
		return errmsg("%s moves at most %zu bytes per command, less than one %u-byte block;"
			      " rerun with -v to see why",
			      a->dev, info->max_xfer, l->host_blk);
	return check_meta(a, info, l, wr);
}

/* Sends @opcode over all the blocks, a transfer limit at a time; 0 or -errno (the status in @cqe). */
static int rw_blocks(struct vfn_dev *dev, const struct io_args *a, const struct rw_layout *l, uint8_t opcode,
		     uint8_t *buf, uint8_t *meta, struct vfn_nvme_cqe *cqe)
{
	const struct vfn_dev_info *info = vfn_dev_get_info(dev);
	uint32_t step = l->len ? chunk_blocks(info, l->host_blk) : IO_MAX_NLB;
	bool ref_inc = info->pi_type == VFN_PI_TYPE1 || info->pi_type == VFN_PI_TYPE2;
	uint64_t ref_mask = info->pif == VFN_PI_PIF_64 ? 0xffffffffffffULL : 0xffffffffULL;
	int ret = 0;

	for (uint32_t done = 0; done < a->nlb && !ret; done += step) {
		uint32_t n = a->nlb - done < step ? a->nlb - done : step;
		struct vfn_dev_rw_opts o = {
			.meta = l->meta_len ? meta + (size_t)done * info->ms : NULL,
			.meta_len = l->meta_len ? (size_t)n * info->ms : 0,
			.prinfo = a->prinfo,
			.ref_tag =
				(a->ref_tag + (ref_inc ? done : 0)) & ref_mask, /* the tag wraps, as the controller's */
			.app_tag = a->app_tag,
			.app_mask = a->app_mask,
			.fua = a->fua,
		};

		ret = vfn_dev_rw(dev, opcode, io_nsid(a, dev), a->slba + done, n,
				 l->len ? buf + (size_t)done * l->host_blk : NULL, l->len ? (size_t)n * l->host_blk : 0,
				 &o, cqe);
	}
	return ret;
}

/* The data and metadata buffers, loaded for a write; exit status. */
static int rw_buffers(struct vfn_dev *dev, const struct io_args *a, struct rw_layout *l, bool wr, uint8_t **buf,
		      uint8_t **meta)
{
	ssize_t n;

	if (!l->len)
		return CLI_EXIT_OK; /* Write Zeroes */
	n = vfn_dev_buf_alloc(dev, l->len, (void **)buf);
	/* I/O memory: no bounce on vfio/sim, page-aligned for the kernel's limits */
	if (n < 0)
		return errmsg("cannot allocate %zu bytes of I/O memory: %s; use fewer blocks", l->len,
			      strerror((int)-n));
	l->buf_alloc = (size_t)n;
	if (l->meta_len) {
		n = vfn_dev_buf_alloc(dev, l->meta_len, (void **)meta);
		if (n < 0)
			return errmsg("cannot allocate %zu bytes of I/O memory for metadata: %s; use fewer blocks",
				      l->meta_len, strerror((int)-n));
		l->meta_alloc = (size_t)n;
	}
	if (!wr)
		return CLI_EXIT_OK;
	if (load_file(a->file, "-d", *buf, l->len))
		return CLI_EXIT_ERR;
	return l->meta_len ? load_file(a->meta_file, "-M", *meta, l->meta_len) : CLI_EXIT_OK;
}

/* read, write, compare and write-zeroes, after parsing; exit status. */
static int run_rw(const struct io_args *a, uint8_t opcode, const char *what)
{
	bool wr = opcode != VFN_NVME_CMD_READ;
	const struct vfn_dev_info *info;
	struct vfn_nvme_cqe cqe = { 0 };
	uint16_t status;
	struct rw_layout l;
	struct vfn_dev *dev;
	uint8_t *buf = NULL, *meta = NULL;
	int ret = open_for_io(a, a->have_nsid ? a->nsid : 0, &dev);

	if (ret)
		return ret;
	info = vfn_dev_get_info(dev);
	memset(&l, 0, sizeof(l));
	rw_layout(a, info, opcode, &l);
	ret = check_rw(a, info, &l, wr);
	if (!ret)
		ret = rw_buffers(dev, a, &l, wr, &buf, &meta);
	if (ret)
		goto free_bufs;
	ret = rw_blocks(dev, a, &l, opcode, buf, meta, &cqe);
	status = vfn_nvme_cqe_status(&cqe) & 0x7ff;
	if (ret)
		ret = errmsg_admin(a->dev, what, ret, ret == -EIO ? &status : NULL);
	else if (!wr)
		ret = store_file(a->file, "-d", buf, l.len);
	if (!ret && !wr && a->meta_file)
		ret = store_file(a->meta_file, "-M", meta, l.meta_len);
free_bufs:
	if (l.buf_alloc)
		vfn_dev_buf_free(dev, buf, l.buf_alloc);
	if (l.meta_alloc)
		vfn_dev_buf_free(dev, meta, l.meta_alloc);
	vfn_dev_close(dev);
	return ret;
}

static int run_flush(const struct io_args *a)
{
	struct vfn_dev *dev;
	int ret = open_for_io(a, a->have_nsid ? a->nsid : 0, &dev);

	if (ret)
		return ret;
	ret = vfn_dev_flush(dev, io_nsid(a, dev));
	vfn_dev_close(dev);
	return ret ? errmsg_admin(a->dev, "Flush", ret, NULL) : CLI_EXIT_OK;
}

/* Received data as nvme-cli shows it: 16 bytes a line, offset, hex, text. */
static void hex_dump(const uint8_t *p, size_t len)
{
	printf("       0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f\n");
	for (size_t off = 0; off < len; off += 16) {
		size_t n = len - off < 16 ? len - off : 16;

		printf("%04zx:", off);
		for (size_t i = 0; i < 16; i++)
			if (i < n)
				printf(" %02x", p[off + i]);
			else
				printf("   ");
		printf(" \"");
		for (size_t i = 0; i < n; i++)
			putchar(p[off + i] >= 0x20 && p[off + i] < 0x7f ? p[off + i] : '.');
		printf("\"\n");
	}
}

/* The command of the passthrough options. */
static void passthru_sqe(const struct io_args *a, uint32_t nsid, struct vfn_nvme_sqe *sqe)
{
	*sqe = (struct vfn_nvme_sqe){
		.opcode = a->opcode,
		.nsid = vfn_cpu_to_le32(nsid),
		.cdw2 = vfn_cpu_to_le32(a->cdw[2]),
		.cdw3 = vfn_cpu_to_le32(a->cdw[3]),
		.cdw10 = vfn_cpu_to_le32(a->cdw[10]),
		.cdw11 = vfn_cpu_to_le32(a->cdw[11]),
		.cdw12 = vfn_cpu_to_le32(a->cdw[12]),
		.cdw13 = vfn_cpu_to_le32(a->cdw[13]),
		.cdw14 = vfn_cpu_to_le32(a->cdw[14]),
		.cdw15 = vfn_cpu_to_le32(a->cdw[15]),
	};
}

/* The completion: result and data, or the status; exit status. */
static int passthru_show(const struct io_args *a, int ret, const struct vfn_nvme_cqe *cqe, const uint8_t *buf,
			 bool data_in)
{
	uint16_t status = vfn_nvme_cqe_status(cqe) & 0x7ff;

	if (ret == -EIO) {
		fprintf(stderr, "NVMe status: %s (0x%x)\n", vfn_nvme_status_str(status), status);
		return CLI_EXIT_ERR;
	}
	if (ret)
		return errmsg_admin(a->dev, a->name, ret, NULL);
	fprintf(a->raw ? stderr : stdout, "NVMe command result:%08x\n", vfn_le32_to_cpu(cqe->dw0));
	if (data_in && a->data_len && a->raw)
		return store_file(NULL, "-d", buf, a->data_len);
	if (data_in && a->data_len)
		hex_dump(buf, a->data_len);
	return CLI_EXIT_OK;
}

/* Checks -r/-w against the opcode's data direction (bits 1:0); exit status. */
static int passthru_dir(const struct io_args *a, bool *data_out)
{
	unsigned int dir = a->opcode & 3;

	*data_out = dir == 1;
	if (a->rd && dir != 2)
		return errmsg_usage(a->name, a->usage,
				    "opcode 0x%02x does not transfer controller-to-host (bits 1:0"
				    " are not 10b); drop -r",
				    a->opcode);
	if (a->wr && dir != 1)
		return errmsg_usage(a->name, a->usage,
				    "opcode 0x%02x does not transfer host-to-controller (bits 1:0"
				    " are not 01b); drop -w",
				    a->opcode);
	if (a->data_len && dir == 3)
		return errmsg_usage(a->name, a->usage,
				    "opcode 0x%02x is bidirectional (bits 1:0 are 11b), which vfn"
				    " does not carry; use -l 0",
				    a->opcode);
	return CLI_EXIT_OK;
}

static int run_passthru(const struct io_args *a, bool admin)
{
	struct vfn_nvme_cqe cqe = { 0 };
	struct vfn_nvme_sqe sqe;
	struct vfn_dev *dev;
	uint8_t *buf = NULL;
	bool data_out;
	int ret = passthru_dir(a, &data_out);

	if (ret)
		return ret;
	if (a->data_len && !(buf = calloc(1, a->data_len)))
		return errmsg("out of memory for %u bytes; lower -l", a->data_len);
	ret = data_out && a->data_len ? load_file(a->file ? a->file : "-", "-d/-i", buf, a->data_len) : CLI_EXIT_OK;
	if (ret)
		goto free_buf;
	ret = admin ? cli_dev_open(a->dev, NULL, &dev) : open_for_io(a, 0, &dev);
	if (ret)
		goto free_buf;
	passthru_sqe(a, a->have_nsid || admin ? a->nsid : vfn_dev_get_info(dev)->nsid, &sqe);
	ret = admin ? vfn_dev_admin(dev, &sqe, buf, a->data_len, &cqe, a->timeout_ms)
		    : vfn_dev_io(dev, &sqe, buf, a->data_len, &cqe, a->timeout_ms);
	vfn_dev_close(dev);
	ret = passthru_show(a, ret, &cqe, buf, !data_out);
free_buf:
	free(buf);
	return ret;
}

/* The entry of every command here (@argv[0]: its name). */
int cmd_io(int argc, char **argv)
{
	const struct io_cmd *cmd = NULL;
	struct io_args a;
	int ret;

	for (size_t i = 0; i < sizeof(io_cmds) / sizeof(io_cmds[0]); i++)
		if (!strcmp(io_cmds[i].name, argv[0]))
			cmd = &io_cmds[i];
	if (!cmd)
		return errmsg_unknown_cmd(argv[0]);
	ret = io_parse(cmd, argc, argv, &a);
	if (ret)
		return ret > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (cmd->passthru)
		return run_passthru(&a, !strcmp(a.name, "admin-passthru"));
	if (!strcmp(a.name, "flush"))
		return run_flush(&a);
	if (!strcmp(a.name, "compare"))
		return run_rw(&a, VFN_NVME_CMD_COMPARE, "Compare");
	if (!strcmp(a.name, "write-zeroes"))
		return run_rw(&a, VFN_NVME_CMD_WRITE_ZEROES, "Write Zeroes");
	return !strcmp(a.name, "write") ? run_rw(&a, VFN_NVME_CMD_WRITE, "Write")
					: run_rw(&a, VFN_NVME_CMD_READ, "Read");
}
