/* SPDX-License-Identifier: MIT */
/*
 * vfn pci: PCI functions as Linux sysfs shows them — find NVMe controllers,
 * see which driver owns one, and move it between the kernel nvme driver and
 * vfio-pci (through driver_override).
 *
 * Addresses are BDF strings in the canonical form sysfs names them with,
 * "DDDD:BB:DD.F": the domain in at least 4 hex digits, more when it needs
 * them (Linux numbers the domains it creates behind an Intel VMD from
 * 0x10000: "10000:e1:00.0").  All functions read the sysfs tree under /sys
 * (no environment variable moves it); attribute files are opened without
 * following a symlink in their last component, and written without
 * truncating them.
 */
#ifndef VFN_PCI_H
#define VFN_PCI_H

#include <stddef.h>
#include <stdint.h>

#include <vfn/support.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Room for the longest address, "DDDDDDDD:BB:DD.F", and its terminator. */
#define VFN_PCI_BDF_LEN 17
/*
 * PCI class code (base, sub, prog-if) of an NVM Express I/O controller, and
 * the mask that matches exactly that (as the Linux nvme driver does; a mask
 * of 0xffff00 would also take NVMHCI and vendor-specific NVM controllers).
 */
#define VFN_PCI_CLASS_NVME 0x010802u
#define VFN_PCI_CLASS_NVME_MASK 0xffffffu

struct vfn_pci_func {
	char bdf[VFN_PCI_BDF_LEN];
	uint16_t vendor;
	uint16_t device;
	uint32_t class_code; /* 24 bits: base << 16 | sub << 8 | prog-if */
	int iommu_group;     /* -1 if the function has none */
	char driver[32];     /* bound driver's name, "" if unbound */
};

/*
 * Parses a PCI address ("0000:01:00.0", "10000:e1:00.0", or "01:00.0"
 * meaning domain 0) into canonical form in @out (VFN_PCI_BDF_LEN bytes):
 * lower case, the domain printed as "%04x" (so "00010000:E1:00.0" becomes
 * "10000:e1:00.0").  The domain has 4 to 8 hex digits, bus, device and
 * function exactly 2, 2 and 1 (either case), device <= 0x1f, function <= 7,
 * nothing after.  Returns 0, or -EINVAL if @s is not a well-formed address
 * (no other checks: the device may not exist); @out is untouched then.
 * Every function below accepts any such form and works on the canonical one.
 */
VFN_API int vfn_pci_parse_bdf(const char *s, char out[VFN_PCI_BDF_LEN]);

/*
 * Reads one function's identity and driver into @func.  Returns 0, -EINVAL
 * for a malformed address, -ENODEV if no such function exists, -EIO if an
 * attribute holds something unexpected, or -errno from sysfs.
 */
VFN_API int vfn_pci_get_func(const char *bdf, struct vfn_pci_func *func);

/*
 * Lists functions whose class code matches @class_code under @class_mask
 * (VFN_PCI_CLASS_NVME, VFN_PCI_CLASS_NVME_MASK for NVMe controllers), in
 * address order.  Fills at most @max entries of @funcs (may be NULL if @max
 * is 0) and returns the total number found (may exceed @max).  Functions
 * removed while listing are skipped.  Returns -EINVAL for a bad buffer, or
 * -errno if sysfs cannot be read.
 */
VFN_API int vfn_pci_list(uint32_t class_code, uint32_t class_mask, struct vfn_pci_func *funcs, int max);

/*
 * Copies the name of the driver bound to @bdf into @buf (@len bytes, "" if
 * unbound).  Returns 0, -EINVAL (also for a NULL or empty @buf), -ENODEV, or
 * -ENAMETOOLONG.
 */
VFN_API int vfn_pci_get_driver(const char *bdf, char *buf, size_t len);

/*
 * Returns the IOMMU group number of @bdf, -ENODEV if it does not exist, or
 * -ENOENT if it has no IOMMU group (no IOMMU, or intel_iommu=off).
 */
VFN_API int vfn_pci_iommu_group(const char *bdf);

/*
 * Copies the path of @bdf's VFIO device cdev, "/dev/vfio/devices/vfioN",
 * into @buf (@len bytes; "" on failure), as sysfs names it
 * (<function>/vfio-dev/vfioN with a dev attribute).  Returns 0, -EINVAL
 * (bad address or buffer), -ENODEV (no such function), -ENOENT (none: not
 * bound to vfio-pci, or a kernel without the cdev, before Linux 6.6 or
 * without CONFIG_VFIO_DEVICE_CDEV), -ENAMETOOLONG, or -errno from sysfs.
 * The node itself is not checked.
 */
VFN_API int vfn_pci_vfio_cdev(const char *bdf, char *buf, size_t len);

/*
 * Unbinds @bdf from its current driver (no-op if unbound) and clears its
 * driver_override.  Returns 0, -EINVAL, -ENODEV, or -errno from sysfs
 * (-EACCES: not root).
 */
VFN_API int vfn_pci_unbind(const char *bdf);

/*
 * Binds @bdf to @driver ("vfio-pci", "nvme", ...): unbinds it from any other
 * driver, sets driver_override so only @driver may claim it, and asks the
 * kernel to probe.  Returns 0 at once if @bdf is already bound to @driver;
 * otherwise 0 once the driver link names @driver (driver_override stays set).
 * Errors: -EINVAL (bad address, or a driver name that is empty, longer than
 * 31 characters, or not made of [A-Za-z0-9_.-]), -ENODEV, -ENOENT if @driver
 * is not loaded (no /sys/bus/pci/drivers/@driver), -EIO if the driver did not
 * claim the device, or -errno from sysfs (-EACCES: not root).  After a failed
 * probe driver_override is cleared again and the function is left unbound.
 */
VFN_API int vfn_pci_bind(const char *bdf, const char *driver);

#ifdef __cplusplus
}
#endif

#endif /* VFN_PCI_H */
