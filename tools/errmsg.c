/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vfn/nvme.h>
#include <vfn/vfio.h>

#include "cli.h"
#include "errmsg.h"

__attribute__((format(printf, 1, 0))) static void vsay(const char *fmt, va_list ap)
{
	fputs("vfn: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int errmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	return CLI_EXIT_ERR;
}

int errmsg_usage(const char *cmd, const char *usage, const char *cause, ...)
{
	va_list ap;

	fputs("vfn: ", stderr);
	va_start(ap, cause);
	vfprintf(stderr, cause, ap);
	va_end(ap);
	fprintf(stderr, "; usage: vfn %s %s\n", cmd, usage);
	return CLI_EXIT_USAGE;
}

int errmsg_write(int err)
{
	return errmsg("cannot write the output: %s; check where stdout goes", strerror(err));
}

int errmsg_no_cmd(void)
{
	errmsg("no command given; run `vfn help` to see the commands");
	return CLI_EXIT_USAGE;
}

int errmsg_global_option(const char *opt)
{
	errmsg("unknown option '%s'; usage: vfn [-v] COMMAND [OPTIONS] [BDF]", opt);
	return CLI_EXIT_USAGE;
}

int errmsg_unknown_cmd(const char *name)
{
	errmsg("unknown command '%s'; run `vfn help` to see the commands", name);
	return CLI_EXIT_USAGE;
}

int errmsg_bad_bdf(const char *arg)
{
	errmsg("'%s' is not a PCI address, a device node or sim:...; use e.g. 0000:01:00.0, /dev/nvme0"
	       " or /dev/ng0n1",
	       arg);
	return CLI_EXIT_USAGE;
}

int errmsg_bad_nsid(const char *arg)
{
	errmsg("'%s' is not a valid namespace id; use a number from 1 to 4294967294"
	       " (`vfn list-ns BDF` lists them)",
	       arg);
	return CLI_EXIT_USAGE;
}

int errmsg_bad_format(const char *arg)
{
	errmsg("'%s' is not an output format; use -o normal or -o json", arg);
	return CLI_EXIT_USAGE;
}

int errmsg_pci(const char *bdf, int err)
{
	if (err == -ENODEV)
		return errmsg("no PCI device %s; run `vfn list` to see NVMe controllers", bdf);
	if (err == -EACCES || err == -EPERM)
		return errmsg("cannot read %s in sysfs: %s; run as root", bdf ? bdf : "PCI devices", strerror(-err));
	return errmsg("cannot read %s in sysfs: %s; check that /sys is mounted", bdf ? bdf : "PCI devices",
		      strerror(-err));
}

int errmsg_not_nvme(const struct vfn_pci_func *f)
{
	return errmsg("%s is not an NVMe controller (class 0x%06x); pick one from `vfn list`", f->bdf, f->class_code);
}

int errmsg_not_vfio(const struct vfn_pci_func *f)
{
	char node[64];

	if (!f->driver[0])
		return errmsg("%s is not bound to vfio-pci; run `vfn bind %s`", f->bdf, f->bdf);
	if (!strcmp(f->driver, "nvme")) {
		cli_kernel_node(f, node, sizeof(node));
		return errmsg("%s is bound to nvme; run `vfn bind %s`, or open %s to go through the kernel driver",
			      f->bdf, f->bdf, node[0] ? node : "its /dev/nvmeN node");
	}
	return errmsg("%s is bound to %s, not vfio-pci; run `vfn bind %s`", f->bdf, f->driver, f->bdf);
}

int errmsg_no_group(const char *bdf)
{
	return errmsg("%s has no IOMMU group; boot with the IOMMU on (intel_iommu=on or amd_iommu=on)", bdf);
}

int errmsg_bind(const struct vfn_pci_func *f, const char *driver, int err)
{
	switch (err) {
	case -ENOENT:
		return errmsg("the %s driver is not loaded; run `modprobe %s`", driver, driver);
	case -EACCES:
	case -EPERM:
		return errmsg("no permission to change the driver of %s; run as root", f->bdf);
	case -ENODEV:
		return errmsg_pci(f->bdf, err);
	case -EIO:
		return errmsg("%s refused %s; see `dmesg` for why", driver, f->bdf);
	case -EBUSY:
		return errmsg("%s is in use; close the program using it first", f->bdf);
	default:
		return errmsg("cannot bind %s to %s: %s; rerun with -v to see why", f->bdf, driver, strerror(-err));
	}
}

int errmsg_open_sim(const char *dev, int err)
{
	switch (err) {
	case -EINVAL:
		return errmsg("'%s' has a bad option; see docs/sim.md for the options (e.g. sim:nn=2,lbads=12)", dev);
	case -ETIMEDOUT:
		return errmsg("%s did not become ready within CAP.TO; check its to= and ttr_ms= options", dev);
	default:
		return errmsg("cannot open %s: %s; rerun with -v to see why", dev, strerror(-err));
	}
}

/* True if @dev looks like a partition of a namespace block device (nvme0n1p1). */
static bool is_partition(const char *dev)
{
	const char *base = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;
	unsigned int c, n, p;
	char end;

	return sscanf(base, "nvme%un%up%u%c", &c, &n, &p, &end) == 3;
}

int errmsg_open_kernel(const char *dev, int err)
{
	switch (err) {
	case -ENOENT:
		if (access(dev, F_OK))
			return errmsg("%s does not exist; `vfn list` shows the controllers and their /dev nodes", dev);
		return errmsg("%s has no active namespace to work on; rerun with -v to see why", dev);
	case -EISDIR:
		return errmsg("%s is a directory, not an NVMe device node (e.g. /dev/nvme0, /dev/ng0n1)", dev);
	case -ELOOP: {
		char *target = realpath(dev, NULL);
		int ret = errmsg("%s is a symbolic link; give the device node itself (%s)", dev,
				 target ? target : "it points nowhere");

		free(target);
		return ret;
	}
	case -ENOTTY:
		return errmsg("%s is not a device node; use /dev/nvmeN, /dev/ngNnM or /dev/nvmeNnM", dev);
	case -ENODEV:
		return errmsg("%s is not an NVMe device; use /dev/nvmeN, /dev/ngNnM or /dev/nvmeNnM", dev);
	case -EINVAL:
		if (is_partition(dev))
			return errmsg("%s is a partition; use the namespace it is on (e.g. /dev/nvme0n1)", dev);
		return errmsg("%s cannot be opened as an NVMe device; rerun with -v to see why", dev);
	case -EACCES:
	case -EPERM:
		return errmsg("no permission to open %s; run as root", dev);
	default:
		return errmsg("cannot open %s: %s; rerun with -v to see why", dev, strerror(-err));
	}
}

/* errmsg_open() when @f was opened through its cdev on iommufd. */
static int errmsg_open_cdev(const struct vfn_pci_func *f, int err)
{
	const char *b = f->bdf;
	char node[64];

	if (vfn_pci_vfio_cdev(b, node, sizeof(node)))
		snprintf(node, sizeof(node), "/dev/vfio/devices/vfioN");
	switch (err) {
	case -ENOENT:
		if (access("/dev/iommu", F_OK))
			return errmsg("iommufd is not loaded (no /dev/iommu); run `modprobe iommufd`, or use"
				      " VFN_IOMMU=type1");
		return errmsg("no %s for %s; mount devtmpfs on /dev, or rebind it with `vfn unbind %s && vfn bind %s`",
			      node, b, b, b);
	case -ENXIO:
		return errmsg("%s has no VFIO device cdev (a kernel without CONFIG_VFIO_DEVICE_CDEV); use"
			      " VFN_IOMMU=type1",
			      b);
	case -EACCES:
	case -EPERM:
		return errmsg("permission denied on %s (or /dev/iommu) for %s; run as root or give access to both",
			      node, b);
	case -EBUSY:
		return errmsg("%s is in use by another process (through %s or its IOMMU group); close it first", b,
			      node);
	case -ENOSPC:
		return errmsg("the IOAS's IOVA ranges are used up opening %s; free DMA buffers or use fewer or"
			      " smaller queues (`vfn -v` shows the ranges)",
			      b);
	default:
		return 0;
	}
}

int errmsg_open(const struct vfn_pci_func *f, int err)
{
	const char *b = f->bdf;
	int g = f->iommu_group;
	int ret;

	if (err == -EINVAL && vfn_vfio_pick_backend(b, VFN_IOMMU_AUTO) == -EINVAL)
		return errmsg("VFN_IOMMU=%s is not a backend; use iommufd, type1 or auto",
			      getenv("VFN_IOMMU") ? getenv("VFN_IOMMU") : "");
	if (vfn_vfio_pick_backend(b, VFN_IOMMU_AUTO) == VFN_IOMMU_IOMMUFD) {
		ret = errmsg_open_cdev(f, err);
		if (ret)
			return ret;
	}

	switch (err) {
	case -ENOENT:
		if (access("/dev/vfio/vfio", F_OK))
			return errmsg("vfio is not loaded (no /dev/vfio/vfio); run `modprobe vfio-pci`");
		return errmsg("no /dev/vfio/%d for %s; rebind it with `vfn unbind %s && vfn bind %s`", g, b, b, b);
	case -EACCES:
	case -EPERM:
		return errmsg("no permission to open /dev/vfio/%d for %s; run as root or give access"
			      " to /dev/vfio/%d",
			      g, b, g);
	case -EBUSY:
		return errmsg("IOMMU group %d is in use by another process; close it first", g);
	case -ETIMEDOUT:
		return errmsg("%s did not become ready within CAP.TO; reset it with"
			      " `vfn unbind %s && vfn bind %s`",
			      b, b, b);
	case -EIO:
		return errmsg("%s failed to come up (controller fatal status or a failed command);"
			      " rerun with -v for the trace, or reset it with"
			      " `vfn unbind %s && vfn bind %s`",
			      b, b, b);
	case -ENODEV:
		return errmsg("%s stopped responding (registers read as all-ones); check that it is"
			      " still present with `vfn list`",
			      b);
	case -ENOTSUP:
		return errmsg("%s cannot be driven (no NVM command set, or BAR0 cannot be mapped);"
			      " rerun with -v to see why",
			      b);
	case -ENOSPC:
		return errmsg("no DMA mapping left to open %s (vfio_iommu_type1's dma_entry_limit or the IOVA space"
			      " is used up); raise /sys/module/vfio_iommu_type1/parameters/dma_entry_limit",
			      b);
	case -ENOMEM:
		return errmsg("out of memory opening %s; raise the locked-memory limit (`ulimit -l`)"
			      " or free memory",
			      b);
	default:
		return errmsg("cannot open %s: %s; rerun with -v to see why", b, strerror(-err));
	}
}

int errmsg_admin(const char *bdf, const char *what, int err, const uint16_t *status)
{
	switch (err) {
	case -EIO:
		if (!status)
			return errmsg("%s failed on %s: error status; rerun with -v for the command trace", what, bdf);
		return errmsg("%s failed on %s: %s (status 0x%03x); rerun with -v for the command trace", what, bdf,
			      vfn_nvme_status_str(*status), *status & 0x7ffu);
	case -ETIMEDOUT:
		return errmsg("%s timed out on %s; the controller may be hung: reset it with"
			      " `vfn unbind %s && vfn bind %s`",
			      what, bdf, bdf, bdf);
	case -ENODEV:
		return errmsg("%s stopped responding during %s; check that it is still present with"
			      " `vfn list`",
			      bdf, what);
	default:
		return errmsg("%s failed on %s: %s; rerun with -v to see why", what, bdf, strerror(-err));
	}
}

int errmsg_no_io(const char *dev, bool io)
{
	if (!io)
		return errmsg("%s is a controller node and carries no I/O; use a namespace node such as /dev/ng0n1",
			      dev);
	return errmsg("%s has no active namespace to do I/O on; create one, or give -n NSID", dev);
}

int errmsg_metadata(const char *dev, uint32_t nsid, uint16_t ms, uint8_t flbas, bool mset)
{
	return errmsg("%s: namespace %u is formatted with %u bytes of metadata per block (LBA format %u, %s);"
		      " metadata is not supported yet: format it with an LBA format without metadata, or send"
		      " raw commands with io-passthru",
		      dev, nsid, ms, flbas, mset ? "extended LBA" : "separate metadata buffer");
}

int errmsg_no_ns(const char *bdf, uint32_t nsid, const uint32_t *active, int n)
{
	char list[128] = "none"; /* 8 ids of up to 12 bytes each, then ", ..." */
	size_t len = 0;
	int i;

	for (i = 0; i < n && i < 8; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%u", i ? ", " : "", active[i]);
	if (i < n)
		snprintf(list + len, sizeof(list) - len, ", ...");
	return errmsg("namespace %u does not exist on %s (active: %s); run `vfn list-ns %s`", nsid, bdf, list, bdf);
}
