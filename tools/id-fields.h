/* SPDX-License-Identifier: MIT */
/*
 * Field tables for the Identify data structures, in nvme-cli's order and
 * with its names (the structure members of <vfn/spec.h>, named as libnvme
 * and the kernel name them).
 */
#ifndef VFN_TOOLS_ID_FIELDS_H
#define VFN_TOOLS_ID_FIELDS_H

#include <stddef.h>

#include "out.h"

/* Identify Controller, up to the power state descriptors. */
extern const struct field id_ctrl_fields[];
extern const size_t id_ctrl_nfields;

/* Identify Namespace, up to the LBA formats. */
extern const struct field id_ns_fields[];
extern const size_t id_ns_nfields;

struct vfn_nvme_id_ctrl;
struct vfn_nvme_id_ns;

/* Prints Identify Controller data @id (any content: it comes from a device). */
void id_show_ctrl(struct out *o, const struct vfn_nvme_id_ctrl *id);
/* Prints Identify Namespace data @id of namespace @nsid (any content). */
void id_show_ns(struct out *o, uint32_t nsid, const struct vfn_nvme_id_ns *id);

#endif
