/* SPDX-License-Identifier: MIT */
/*
 * Every error message of the vfn tool, in one place.  Each prints one line
 * on stderr, "vfn: <cause>; <fix>", and returns the exit status to use:
 * CLI_EXIT_USAGE for a bad command line, CLI_EXIT_ERR for everything else.
 */
#ifndef VFN_TOOLS_ERRMSG_H
#define VFN_TOOLS_ERRMSG_H

#include <stdbool.h>
#include <stdint.h>

#include <vfn/pci.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_ERR 1
#define CLI_EXIT_USAGE 2

/* Any other error: "vfn: <fmt>". */
int errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writing stdout failed with errno @err. */
int errmsg_write(int err);

/* ---- command line (CLI_EXIT_USAGE) ---- */

/* "<cause>; usage: vfn <cmd> <usage>" */
int errmsg_usage(const char *cmd, const char *usage, const char *cause, ...) __attribute__((format(printf, 3, 4)));
int errmsg_no_cmd(void);
int errmsg_unknown_cmd(const char *name);
int errmsg_global_option(const char *opt);
int errmsg_bad_bdf(const char *arg);
int errmsg_bad_nsid(const char *arg);
int errmsg_bad_format(const char *arg);

/* ---- the PCI function ---- */

/* vfn_pci_get_func() or vfn_pci_list() failed with @err. */
int errmsg_pci(const char *bdf, int err);
int errmsg_not_nvme(const struct vfn_pci_func *f);
int errmsg_not_vfio(const struct vfn_pci_func *f);
int errmsg_no_group(const char *bdf);
/* vfn_pci_bind(@f->bdf, @driver) failed with @err. */
int errmsg_bind(const struct vfn_pci_func *f, const char *driver, int err);

/* ---- the controller ---- */

/* vfn_nvme_ctrl_open() failed with @err. */
int errmsg_open(const struct vfn_pci_func *f, int err);
/* vfn_nvme_ctrl_open(@dev) of a simulated controller ("sim:...") failed with @err. */
int errmsg_open_sim(const char *dev, int err);
/* Opening the kernel nvme node @dev failed with @err (vfn_dev_open()). */
int errmsg_open_kernel(const char *dev, int err);
/* Admin command @what failed with @err (and NVMe *@status, if known, for -EIO). */
int errmsg_admin(const char *bdf, const char *what, int err, const uint16_t *status);
/* @dev carries no I/O: a kernel controller node (@io false), or no active namespace. */
int errmsg_no_io(const char *dev, bool io);
/*
 * I/O refused: namespace @nsid of @dev is formatted with @ms bytes of
 * metadata per block (LBA format @flbas, extended LBA if @mset), which vfn
 * does not carry yet.
 */
int errmsg_metadata(const char *dev, uint32_t nsid, uint16_t ms, uint8_t flbas, bool mset);
/* Namespace @nsid is not active; @active lists the @n that are. */
int errmsg_no_ns(const char *bdf, uint32_t nsid, const uint32_t *active, int n);

#endif
