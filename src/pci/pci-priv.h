/* SPDX-License-Identifier: MIT */
/*
 * The pci module's test hook: where sysfs is.  It is not exported (the
 * shared library hides every symbol its version script does not list), and
 * nothing in the library reads it from the environment: a program linked
 * with libvfn.so always reads /sys.  Only test programs that link the
 * library's objects (unit tests, fuzzers, the vfn-fakesys test CLI) can
 * point it at a fake tree.
 */
#ifndef VFN_SRC_PCI_PRIV_H
#define VFN_SRC_PCI_PRIV_H

/*
 * Reads and writes sysfs under @root from now on (NULL or "": /sys again).
 * Not thread-safe: set it before other threads use the pci module.
 * Returns 0, or -ENAMETOOLONG (logged) if @root does not fit PATH_MAX.
 */
int vfn_pci_set_sysfs_root(const char *root);

#endif /* VFN_SRC_PCI_PRIV_H */
