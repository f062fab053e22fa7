/* SPDX-License-Identifier: MIT */
/*
 * vfn zns: the Zoned Namespace Command Set over any vfn_dev (VFIO, kernel,
 * sim): the zone geometry of a namespace (Identify with CSI 02h), Zone
 * Management Send (open, close, finish, reset, offline, one zone or all),
 * Zone Management Receive (Report Zones with a state filter, partial or
 * not) and Zone Append with the LBA the controller chose.  On VFIO and the
 * simulator vfn enables all I/O command sets at bring-up (CC.CSS 110b)
 * when CAP.CSS offers them, which zoned namespaces need.
 *
 * Every call returns as vfn_dev_admin() / vfn_dev_io() do: 0, -EIO with
 * the controller's status in @cqe (may be NULL), e.g.
 * VFN_NVME_SC_ZONE_FULL or VFN_NVME_SC_ZONE_INVALID_WRITE (named by
 * vfn_nvme_status_str()), or -errno; -EINVAL, sending nothing, for a NULL
 * device or buffer and fields out of range.
 */
#ifndef VFN_ZNS_H
#define VFN_ZNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vfn/dev.h>
#include <vfn/spec.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The zone geometry of one zoned namespace. */
struct vfn_zns_info {
	uint64_t nsze;	   /* Namespace Size, logical blocks */
	uint64_t zsze;	   /* Zone Size of the LBA format in use, logical blocks */
	uint64_t zcap;	   /* Zone Capacity of the first zone (from Report Zones), logical blocks */
	uint64_t nr_zones; /* nsze / zsze */
	uint32_t mor;	   /* open zones at most (MOR + 1); 0: no limit */
	uint32_t mar;	   /* active zones at most (MAR + 1); 0: no limit */
	uint16_t zoc;	   /* Zone Operation Characteristics (VFN_NVME_ZOC_*) */
	uint16_t ozcs;	   /* Optional Zoned Command Support (VFN_NVME_OZCS_*) */
	uint8_t zasl;	   /* Zone Append Size Limit (controller; 0: MDTS) */
	uint32_t lba_size; /* bytes per logical block */
};

/*
 * The geometry of zoned namespace @nsid into @info: Identify Namespace (CNS
 * 00h), its ZNS Identify (CNS 05h, CSI 02h), the ZNS Identify Controller
 * (CNS 06h, CSI 02h) and a one-zone report for the capacity.  A namespace
 * that is not zoned fails its CSI 02h Identify: -EIO with the controller's
 * status (usually Invalid Field in Command), or -ENOTSUP when it answers
 * with a zone size of 0; -EPROTO when its LBA format's data size is not
 * 2^9..2^31 bytes.
 */
VFN_API int vfn_dev_zns_info(struct vfn_dev *dev, uint32_t nsid, struct vfn_zns_info *info, struct vfn_nvme_cqe *cqe);

/*
 * Zone Management Send: action @zsa (VFN_NVME_ZSA_CLOSE, _FINISH, _OPEN,
 * _RESET, _OFFLINE) on the zone starting at @zslba, or with @select_all on
 * every zone in a state the action applies to (@zslba ignored).
 */
VFN_API int vfn_dev_zone_mgmt_send(struct vfn_dev *dev, uint32_t nsid, uint64_t zslba, uint8_t zsa, bool select_all,
				   struct vfn_nvme_cqe *cqe);

/*
 * Report Zones (Zone Management Receive, ZRA 00h) from the zone holding
 * @slba into @buf of @len bytes (a multiple of 4, at least 64 and at most
 * the transfer limit): a struct vfn_nvme_zone_report header, then as many
 * struct vfn_nvme_zone_desc as fit, of zones in state @zrasf
 * (VFN_NVME_ZRASF_*; _ALL: every zone).  Its NRZONES counts every matching
 * zone from @slba on, or with @partial only the descriptors returned.
 */
VFN_API int vfn_dev_zone_report(struct vfn_dev *dev, uint32_t nsid, uint64_t slba, uint8_t zrasf, bool partial,
				void *buf, size_t len, struct vfn_nvme_cqe *cqe);

/*
 * Zone Append of @nlb (1..65536) blocks at @buf (@nlb x lba_size bytes) to
 * the zone starting at @zslba; the LBA the controller wrote the first block
 * at (CQE DW1:DW0) to *@alba (may be NULL).  A full zone: -EIO with
 * VFN_NVME_SC_ZONE_FULL in @cqe; beyond the zone's capacity:
 * VFN_NVME_SC_ZONE_BOUNDARY_ERROR.
 */
VFN_API int vfn_dev_zone_append(struct vfn_dev *dev, uint32_t nsid, uint64_t zslba, uint32_t nlb, const void *buf,
				uint64_t *alba, struct vfn_nvme_cqe *cqe);

/* The name of zone state @zs (VFN_NVME_ZS_*): "Empty", "Implicitly Opened", ..., or "Reserved". */
VFN_API const char *vfn_zone_state_str(unsigned int zs);

#ifdef __cplusplus
}
#endif

#endif /* VFN_ZNS_H */
