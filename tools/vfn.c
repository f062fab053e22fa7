/* SPDX-License-Identifier: MIT */
/*
 * vfn: look at and drive NVMe controllers from user space through VFIO.
 *
 *   vfn [-v] COMMAND [OPTIONS] [DEVICE]
 *
 * Commands and options mirror nvme-cli where they overlap.  Exit status: 0
 * on success, 1 on any error, 2 for a bad command line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vfn/support.h>

#include "cli.h"
#include "perf.h"

const struct cli_cmd cli_cmds[] = {
	{ "list", cmd_list, "[-o normal|json]",
	  "List NVMe controllers: address, vendor:device, driver, IOMMU group and /dev node (from sysfs).",
	  CLI_OPT_OUTPUT, false },
	{ "bind", cmd_bind, "BDF", "Hand a controller to vfio-pci so vfn can drive it.", 0, true },
	{ "unbind", cmd_unbind, "BDF", "Give a controller back to the kernel nvme driver.", 0, true },
	{ "show-regs", cmd_show_regs, "DEVICE [-o normal|json]", "Show the controller registers, raw and decoded.",
	  CLI_OPT_OUTPUT, true },
	{ "id-ctrl", cmd_id_ctrl, "DEVICE [-o normal|json] [-H]", "Send Identify Controller and show the result.",
	  CLI_OPT_OUTPUT | CLI_OPT_HUMAN, true },
	{ "id-ns", cmd_id_ns, "DEVICE [-n NSID] [-o normal|json] [-H]", "Send Identify Namespace and show the result.",
	  CLI_OPT_OUTPUT | CLI_OPT_NSID | CLI_OPT_HUMAN, true },
	{ "list-ns", cmd_list_ns, "DEVICE [-o normal|json]", "List the active namespace ids.", CLI_OPT_OUTPUT, true },
	/* run NULL: main() handles "help", which takes a command name, not a BDF. */
	{ "help", NULL, "[COMMAND]", "Show the commands, or one command's options.", 0, false },
	{ NULL, NULL, NULL, NULL, 0, false },
};

/* Commands that parse their own options and print their own help (argv[0]: the name). */
static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
} own_cmds[] = {
	{ "perf", cmd_perf, "Measure IOPS and latency through vfn's I/O queues (like spdk_nvme_perf)." },
	{ "read", cmd_io, "Read logical blocks to stdout or a file." },
	{ "write", cmd_io, "Write logical blocks from a file or stdin." },
	{ "flush", cmd_io, "Flush a namespace's volatile write cache." },
	{ "compare", cmd_io, "Compare logical blocks with a file (and metadata, PI)." },
	{ "write-zeroes", cmd_io, "Write zeroes over logical blocks (PI with PRACT)." },
	{ "io-passthru", cmd_io, "Send any I/O command; show its completion and data." },
	{ "admin-passthru", cmd_io, "Send any admin command; show its completion and data." },
	{ "smart-log", cmd_mgmt, "Show the SMART / Health Information log." },
	{ "error-log", cmd_mgmt, "Show the Error Information log." },
	{ "fw-log", cmd_mgmt, "Show the Firmware Slot Information log." },
	{ "self-test-log", cmd_mgmt, "Show the Device Self-test log." },
	{ "sanitize-log", cmd_mgmt, "Show the Sanitize Status log." },
	{ "effects-log", cmd_mgmt, "Show the Commands Supported and Effects log." },
	{ "changed-ns-list-log", cmd_mgmt, "Show the Changed Namespace List log." },
	{ "security-send", cmd_mgmt, "Send data with a security protocol (Security Send)." },
	{ "security-recv", cmd_mgmt, "Receive data of a security protocol (Security Receive)." },
	{ "telemetry-log", cmd_mgmt, "Save the host- or controller-initiated telemetry log to a file." },
	{ "get-log", cmd_mgmt, "Read any log page (LSP, LSI, RAE, offset), chunked by the transfer limit." },
	{ "get-feature", cmd_mgmt, "Get a feature (current, default, saved, supported capabilities)." },
	{ "set-feature", cmd_mgmt, "Set a feature." },
	{ "format", cmd_mgmt, "Format NVM: change the LBA format, erase (asks first)." },
	{ "create-ns", cmd_mgmt, "Create a namespace (Namespace Management)." },
	{ "delete-ns", cmd_mgmt, "Delete a namespace (asks first)." },
	{ "attach-ns", cmd_mgmt, "Attach a namespace to controllers." },
	{ "detach-ns", cmd_mgmt, "Detach a namespace from controllers." },
	{ "list-ctrl", cmd_mgmt, "List the controllers of the subsystem, or those a namespace is attached to." },
	{ "ns-descs", cmd_mgmt, "Show a namespace's identification descriptors." },
	{ "fw-download", cmd_mgmt, "Download a firmware image, in pieces by FWUG and the transfer limit." },
	{ "fw-commit", cmd_mgmt, "Commit a firmware image to a slot, or activate a slot (asks first)." },
	{ "device-self-test", cmd_mgmt, "Start or abort a device self-test." },
	{ "sanitize", cmd_mgmt, "Start a sanitize operation (asks first)." },
	{ "primary-ctrl-caps", cmd_sriov, "Show the Primary Controller Capabilities (SR-IOV resources)." },
	{ "list-secondary", cmd_sriov, "List the secondary controllers (SR-IOV): state, VF, resources." },
	{ "virt-mgmt", cmd_sriov, "Virtualization Management: assign resources, online/offline a secondary." },
	{ "sriov", cmd_sriov, "Show or set (--numvfs) a PF's VF count in sysfs, and list its VFs." },
	{ "zns", cmd_zns,
	  "Zoned namespaces: report-zones, zone-mgmt-send, zone-open/close/finish/reset, zone-append." },
	{ "pmr", cmd_pmr, "Read or write the controller's persistent memory region (PMR)." },
	{ "reset", cmd_reset, "Reset a controller: --controller, --function (FLR) or --subsystem (NSSR)." },
	{ "persistent-event-log", cmd_mgmt, "Show the Persistent Event Log (establish a context, read, release)." },
	{ "ana-log", cmd_mgmt, "Show the Asymmetric Namespace Access log: groups, states, namespaces." },
};

static int (*find_own_cmd(const char *name))(int, char **)
{
	for (size_t i = 0; i < sizeof(own_cmds) / sizeof(own_cmds[0]); i++)
		if (!strcmp(own_cmds[i].name, name))
			return own_cmds[i].main;
	return NULL;
}

static const struct cli_cmd *find_cmd(const char *name)
{
	for (const struct cli_cmd *c = cli_cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static void print_usage(FILE *f)
{
	fprintf(f, "usage: vfn [-v] COMMAND [OPTIONS] [DEVICE]\n\nCommands:\n");
	for (const struct cli_cmd *c = cli_cmds; c->name; c++)
		fprintf(f, "  %-14s %s\n", c->name, c->help);
	for (size_t i = 0; i < sizeof(own_cmds) / sizeof(own_cmds[0]); i++)
		fprintf(f, "  %-14s %s\n", own_cmds[i].name, own_cmds[i].help);
	fprintf(f, "\nDEVICE is a PCI address bound to vfio-pci (0000:01:00.0), a node of the kernel\n"
		   "nvme driver (/dev/nvme0, /dev/ng0n1, /dev/nvme0n1) or a simulated controller\n"
		   "(sim:...); bind and unbind take a PCI address.  `vfn help COMMAND` or\n"
		   "`vfn COMMAND --help` shows a command's options; -v shows the library's\n"
		   "debug trace on stderr.\n");
}

/* vfn help [COMMAND] (@argv[0] is "help"). */
static int run_help(const struct cli_cmd *help, int argc, char **argv)
{
	const struct cli_cmd *c;

	if (argc == 1) {
		print_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (argc > 2)
		return errmsg_usage(help->name, help->usage, "unexpected argument '%s'", argv[2]);
	if (find_own_cmd(argv[1]))
		return find_own_cmd(argv[1])(2, (char *[]){ argv[1], "--help", NULL });
	c = find_cmd(argv[1]);
	if (!c)
		return errmsg_unknown_cmd(argv[1]);
	cli_print_help(c);
	return CLI_EXIT_OK;
}

/* Options before the command: -v, -h, -V.  Returns the index of the command or -exit. */
static int parse_global(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *opt = argv[i];

		if (!strcmp(opt, "-v") || !strcmp(opt, "--verbose")) {
			vfn_log_set_level(VFN_LOG_DEBUG);
		} else if (!strcmp(opt, "-h") || !strcmp(opt, "--help")) {
			print_usage(stdout);
			return -CLI_EXIT_OK;
		} else if (!strcmp(opt, "-V") || !strcmp(opt, "--version")) {
			printf("vfn %s\n", VFN_VERSION);
			return -CLI_EXIT_OK;
		} else {
			return -errmsg_global_option(opt);
		}
	}
	if (i >= argc) {
		return -errmsg_no_cmd();
	}
	return i;
}

/* A full disk or closed pipe must not pass for success. */
static int flush_output(int status)
{
	if (fflush(stdout) || ferror(stdout))
		return errmsg_write(errno);
	return status;
}

int main(int argc, char **argv)
{
	const struct cli_cmd *cmd;
	struct cli_args args;
	int first = parse_global(argc, argv);

	if (first <= 0)
		return flush_output(-first);
	if (find_own_cmd(argv[first]))
		return flush_output(find_own_cmd(argv[first])(argc - first, argv + first));
	cmd = find_cmd(argv[first]);
	if (!cmd)
		return errmsg_unknown_cmd(argv[first]);
	if (!cmd->run)
		return flush_output(run_help(cmd, argc - first, argv + first));
	switch (cli_parse(cmd, argc - first, argv + first, &args)) {
	case CLI_PARSE_RUN:
		return flush_output(cmd->run(&args));
	case CLI_PARSE_HELP:
		return flush_output(CLI_EXIT_OK);
	default:
		return CLI_EXIT_USAGE;
	}
}
