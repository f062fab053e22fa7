/* SPDX-License-Identifier: MIT */
/*
 * Printers of the SR-IOV structures (Identify CNS 14h and 15h) for
 * `vfn primary-ctrl-caps` and `vfn list-secondary`, in both output formats
 * with nvme-cli's keys.  No device, no libvfn: unit-tested alone.
 */
#ifndef VFN_TOOLS_SRIOV_SHOW_H
#define VFN_TOOLS_SRIOV_SHOW_H

#include <vfn/spec.h>

#include "out.h"

/* Primary Controller Capabilities: one object, keys cntlid ... vigran. */
void sriov_show_primary(struct out *o, const struct vfn_nvme_primary_ctrl_cap *cap);

/*
 * Secondary Controller List: "num" and "secondary-controllers", at most
 * @max entries (0: all numid of them, numid capped at 127).
 */
void sriov_show_secondary(struct out *o, const struct vfn_nvme_secondary_ctrl_list *list, unsigned int max);

#endif
