/* SPDX-License-Identifier: MIT */
/*
 * vfn-fakesys: the vfn CLI for tests only (never installed), linked with the
 * library's objects so that it can reach the pci module's test hook.  Before
 * main() it points the library's sysfs root at $VFN_TEST_SYSFS_ROOT when that
 * is set; the shipped vfn and libvfn.so have no such hook.
 */
#include <stdlib.h>

#include "pci/pci-priv.h"

__attribute__((constructor)) static void fakesys_root(void)
{
	const char *root = getenv("VFN_TEST_SYSFS_ROOT");

	if (root && vfn_pci_set_sysfs_root(root))
		abort();
}
