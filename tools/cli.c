/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vfn/support.h>

#include "cli.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Every option, and the CLI_OPT_* flag a command needs to take it (0: all do). */
static const struct {
	struct option opt;
	unsigned int need;
} all_opts[] = {
	{ { "output-format", required_argument, NULL, 'o' }, CLI_OPT_OUTPUT },
	{ { "namespace-id", required_argument, NULL, 'n' }, CLI_OPT_NSID },
	{ { "human-readable", no_argument, NULL, 'H' }, CLI_OPT_HUMAN },
	{ { "verbose", no_argument, NULL, 'v' }, 0 },
	{ { "help", no_argument, NULL, 'h' }, 0 },
};

void cli_print_help(const struct cli_cmd *cmd)
{
	printf("usage: vfn %s %s\n\n%s\n\n", cmd->name, cmd->usage, cmd->help);
	if (cmd->opts & CLI_OPT_NSID)
		printf("  -n, --namespace-id=NSID   namespace to act on (1..4294967294); on a namespace\n"
		       "                            node (/dev/ngXnY, /dev/nvmeXnY) the node's by default\n");
	if (cmd->opts & CLI_OPT_OUTPUT)
		printf("  -o, --output-format=FMT   normal (default) or json\n");
	if (cmd->opts & CLI_OPT_HUMAN)
		printf("  -H, --human-readable      decode bit fields\n");
	printf("  -v, --verbose             show the library's debug trace on stderr\n"
	       "  -h, --help                show this help\n");
}

/* A namespace id in decimal, 1..0xfffffffe (0 and the broadcast id excluded). */
static int parse_nsid(const char *s, uint32_t *nsid)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9') /* strtoul would accept " 1", "+1", "-1" */
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v >= 0xffffffffUL)
		return -EINVAL;
	*nsid = (uint32_t)v;
	return 0;
}

/* The option that getopt just rejected, for the message. */
static void bad_option(const struct cli_cmd *cmd, int c, char **argv)
{
	if (c == ':')
		errmsg_usage(cmd->name, cmd->usage, "option '%s' needs a value", argv[optind - 1]);
	else if (optopt)
		errmsg_usage(cmd->name, cmd->usage, "unknown option '-%c' for %s", optopt, cmd->name);
	else
		errmsg_usage(cmd->name, cmd->usage, "unknown option '%s' for %s", argv[optind - 1], cmd->name);
}

/* Handles one option; returns CLI_PARSE_RUN to go on. */
static enum cli_parse_result parse_opt(const struct cli_cmd *cmd, int c, char **argv, struct cli_args *a,
				       bool *have_nsid)
{
	switch (c) {
	case 'o':
		if (out_parse_fmt(optarg, &a->fmt)) {
			errmsg_bad_format(optarg);
			return CLI_PARSE_ERROR;
		}
		return CLI_PARSE_RUN;
	case 'n':
		*have_nsid = true;
		if (parse_nsid(optarg, &a->nsid)) {
			errmsg_bad_nsid(optarg);
			return CLI_PARSE_ERROR;
		}
		return CLI_PARSE_RUN;
	case 'H':
		a->human = true;
		return CLI_PARSE_RUN;
	case 'v':
		vfn_log_set_level(VFN_LOG_DEBUG);
		return CLI_PARSE_RUN;
	case 'h':
		cli_print_help(cmd);
		return CLI_PARSE_HELP;
	default:
		bad_option(cmd, c, argv);
		return CLI_PARSE_ERROR;
	}
}

/* Only the options @cmd takes: the short ones in @optstring, the long in @longs. */
static void cmd_options(const struct cli_cmd *cmd, char *optstring, struct option *longs)
{
	char *p = optstring;
	size_t n = 0;

	*p++ = ':'; /* first: getopt returns ':' for a missing value */
	for (size_t i = 0; i < ARRAY_LEN(all_opts); i++) {
		const struct option *opt = &all_opts[i].opt;

		if (all_opts[i].need && !(cmd->opts & all_opts[i].need))
			continue;
		longs[n++] = *opt;
		*p++ = (char)opt->val;
		if (opt->has_arg == required_argument)
			*p++ = ':';
	}
	*p = '\0';
	longs[n] = (struct option){ NULL, 0, NULL, 0 };
}

static enum cli_parse_result parse_args(const struct cli_cmd *cmd, int nargs, char **args, struct cli_args *a,
					bool have_nsid)
{
	int max = cmd->takes_bdf ? 1 : 0;

	if (cmd->takes_bdf && nargs == 0) {
		errmsg_usage(cmd->name, cmd->usage, "%s needs a device (a PCI address, a /dev node or sim:...)",
			     cmd->name);
		return CLI_PARSE_ERROR;
	}
	if (nargs > max) {
		errmsg_usage(cmd->name, cmd->usage, "unexpected argument '%s'", args[max]);
		return CLI_PARSE_ERROR;
	}
	/* A path may be a namespace node, whose namespace is the default (cli_nsid()). */
	if ((cmd->opts & CLI_OPT_NSID) && !have_nsid && !(nargs && cli_is_path(args[0]))) {
		errmsg_usage(cmd->name, cmd->usage, "%s needs a namespace id (-n NSID)", cmd->name);
		return CLI_PARSE_ERROR;
	}
	if (cmd->takes_bdf && (cli_is_sim(args[0]) || cli_is_path(args[0]))) {
		if (strlen(args[0]) >= sizeof(a->bdf)) {
			errmsg_usage(cmd->name, cmd->usage, "device string too long (at most %zu characters)",
				     sizeof(a->bdf) - 1);
			return CLI_PARSE_ERROR;
		}
		strcpy(a->bdf, args[0]);
	} else if (cmd->takes_bdf && vfn_pci_parse_bdf(args[0], a->bdf)) {
		errmsg_bad_bdf(args[0]);
		return CLI_PARSE_ERROR;
	}
	return CLI_PARSE_RUN;
}

enum cli_parse_result cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_args *a)
{
	struct option longs[ARRAY_LEN(all_opts) + 1];
	enum cli_parse_result r;
	bool have_nsid = false;
	char optstring[2 * ARRAY_LEN(all_opts) + 2];
	int c;

	memset(a, 0, sizeof(*a));
	a->fmt = OUT_NORMAL;
	cmd_options(cmd, optstring, longs);
	opterr = 0;
	optind = 0; /* glibc: start over, with the new option set */
	while ((c = getopt_long(argc, argv, optstring, longs, NULL)) != -1) {
		r = parse_opt(cmd, c, argv, a, &have_nsid);
		if (r != CLI_PARSE_RUN)
			return r;
	}
	a->cmd = cmd;
	a->have_nsid = have_nsid;
	return parse_args(cmd, argc - optind, argv + optind, a, have_nsid);
}
