/* SPDX-License-Identifier: MIT */
/*
 * The vfn tool's commands and the helpers they share: option parsing and
 * opening a controller with a specific error message for each way it fails.
 */
#ifndef VFN_TOOLS_CLI_H
#define VFN_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vfn/dev.h>
#include <vfn/nvme.h>
#include <vfn/pci.h>

#include "errmsg.h"
#include "out.h"

/* Options a command accepts besides -v/--verbose and -h/--help. */
#define CLI_OPT_OUTPUT (1u << 0) /* -o, --output-format=normal|json */
#define CLI_OPT_NSID (1u << 1)	 /* -n, --namespace-id=NSID (required but on a namespace node) */
#define CLI_OPT_HUMAN (1u << 2)	 /* -H, --human-readable */

/* Room for a device string: a PCI address, a device node or a "sim:" specification. */
#define CLI_DEV_LEN 256

struct cli_cmd;

struct cli_args {
	const struct cli_cmd *cmd;
	/* The device: a canonical PCI address, or a /dev node or "sim:..." as given. */
	char bdf[CLI_DEV_LEN];
	enum out_fmt fmt;
	bool human;
	bool have_nsid; /* -n given */
	uint32_t nsid;
};

struct cli_cmd {
	const char *name;
	int (*run)(const struct cli_args *args); /* returns the exit status */
	const char *usage;			 /* what follows the name, e.g. "BDF [-o normal|json]" */
	const char *help;			 /* one line */
	unsigned int opts;			 /* CLI_OPT_* */
	bool takes_bdf;				 /* one positional argument: the device */
};

/* The command table (vfn.c). */
extern const struct cli_cmd cli_cmds[];

int cmd_list(const struct cli_args *a);
int cmd_bind(const struct cli_args *a);
int cmd_unbind(const struct cli_args *a);
int cmd_show_regs(const struct cli_args *a);
int cmd_id_ctrl(const struct cli_args *a);
int cmd_id_ns(const struct cli_args *a);
int cmd_list_ns(const struct cli_args *a);

/* read, write, flush, io-passthru, admin-passthru (cmd-io.c): @argv[0] names which. */
int cmd_io(int argc, char **argv);
/* smart-log, format, fw-commit, ... (cmd-mgmt.c): @argv[0] names which. */
int cmd_mgmt(int argc, char **argv);
/* primary-ctrl-caps, list-secondary, virt-mgmt, sriov (cmd-sriov.c): @argv[0] names which. */
int cmd_sriov(int argc, char **argv);
/* zns SUBCOMMAND (cmd-zns.c): @argv[0] is "zns", @argv[1] the subcommand. */
int cmd_zns(int argc, char **argv);
/* pmr read|write (cmd-pmr.c). */
int cmd_pmr(int argc, char **argv);
/* reset --controller|--function|--subsystem (cmd-reset.c). */
int cmd_reset(int argc, char **argv);

enum cli_parse_result {
	CLI_PARSE_RUN,	 /* @a is filled in: run the command */
	CLI_PARSE_HELP,	 /* help was printed: exit 0 */
	CLI_PARSE_ERROR, /* an error was printed: exit CLI_EXIT_USAGE */
};

/*
 * Parses the command's options and arguments (@argv[0] is the command name).
 * -v turns the library's debug log on.
 */
enum cli_parse_result cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_args *a);

/* Prints the command's help (usage, description, options) on stdout. */
void cli_print_help(const struct cli_cmd *cmd);

/*
 * Looks @bdf up in sysfs into @f and checks that it is an NVMe controller.
 * Returns 0, or prints why not and returns the exit status.
 */
int cli_find_nvme(const char *bdf, struct vfn_pci_func *f);

/*
 * Opens the device string @dev (a PCI address bound to vfio-pci, a kernel
 * nvme node such as /dev/nvme0 or /dev/ng0n1, or sim:...) as a device
 * handle.  For a PCI address, sysfs is checked first so that the error
 * names the cause and its fix.  Returns 0 with the handle in *@out, or
 * prints why not and returns the exit status.
 */
int cli_dev_open(const char *dev, const struct vfn_dev_opts *opts, struct vfn_dev **out);

/*
 * The namespace a CLI_OPT_NSID command acts on: -n, else, as nvme-cli does,
 * the namespace of the node @dev was opened on (/dev/ngXnY, /dev/nvmeXnY).
 * Returns 0 with it in *@nsid, or prints why there is none and returns
 * CLI_EXIT_USAGE.
 */
int cli_nsid(const struct cli_args *a, struct vfn_dev *dev, uint32_t *nsid);

/* True if @dev names the simulated controller ("sim:..."). */
bool cli_is_sim(const char *dev);

/* True if @dev is a path (a kernel device node, or something that is not one). */
bool cli_is_path(const char *dev);

/*
 * The PCI address of the controller behind the kernel node @path (from
 * /sys/class/nvme/nvmeN/address) into @bdf (@len bytes).  0 or -errno.
 */
int cli_kernel_bdf(const char *path, char *bdf, size_t len);

/* The /dev/nvmeN node of @f when the kernel nvme driver holds it, else "" (in @out). */
void cli_kernel_node(const struct vfn_pci_func *f, char *out, size_t len);

/*
 * All active namespace ids of @dev into a new array *@ids (free() it).
 * Returns how many, or -errno.
 */
int cli_active_nsids(struct vfn_dev *dev, uint32_t **ids);

#endif
