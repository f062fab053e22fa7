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
	/* appended: descriptor extensions and Zone Random Write Areas (ZNS 1.1) */
	uint32_t zde_size;  /* Zone Descriptor Extension bytes (ZDES x 64 of the format in use); 0: none */
	uint32_t zrwa_size; /* ZRWA Size (ZRWASZ), logical blocks; 0: no ZRWA (OZCS.ZRWASUP clear) */
	uint32_t zrwa_fg;   /* ZRWA Flush Granularity (ZRWAFG), logical blocks */
	uint32_t nr_zrwa;   /* ZRWA resources (NUMZRWA + 1); 0 without ZRWA */
	uint8_t zrwacap;    /* ZRWA Capability (VFN_NVME_ZRWACAP_*) */
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
 * Zone Append of @nlb (1..65536) blocks at @buf (@nlb x lba_size bytes of
 * namespace @nsid, which may differ from the handle's) to the zone starting
 * at @zslba; the LBA the controller wrote the first block at (CQE DW1:DW0)
 * to *@alba (may be NULL).  A full zone: -EIO with VFN_NVME_SC_ZONE_FULL in
 * @cqe; beyond the zone's capacity: VFN_NVME_SC_ZONE_BOUNDARY_ERROR.  A
 * namespace with metadata: -ENOTSUP; its Identify failing: -EIO, nothing sent.
 */
VFN_API int vfn_dev_zone_append(struct vfn_dev *dev, uint32_t nsid, uint64_t zslba, uint32_t nlb, const void *buf,
				uint64_t *alba, struct vfn_nvme_cqe *cqe);

/*
 * Extended Report Zones (Zone Management Receive, ZRA 01h): as
 * vfn_dev_zone_report(), but each zone descriptor is followed by its Zone
 * Descriptor Extension of vfn_zns_info.zde_size bytes (zeros unless the
 * descriptor's ZA has VFN_NVME_ZA_ZDEV); walk it with
 * vfn_zone_report_desc().  A namespace without extensions (ZDES 0) fails
 * with Invalid Field in Command.
 */
VFN_API int vfn_dev_zone_report_ext(struct vfn_dev *dev, uint32_t nsid, uint64_t slba, uint8_t zrasf, bool partial,
				    void *buf, size_t len, struct vfn_nvme_cqe *cqe);

/*
 * Descriptor @i of a report in @buf (@len bytes) whose entries carry
 * @zde_size extension bytes each (0: a plain report), and its extension
 * to *@ext (may be NULL; set only when @zde_size, else NULL).  Both point
 * into @buf (nothing is allocated).  NULL when entry @i does not fit @len
 * or @buf is NULL.  Pure (no I/O); it does not look at NRZONES.
 */
VFN_API const struct vfn_nvme_zone_desc *vfn_zone_report_desc(const void *buf, size_t len, uint32_t zde_size,
							      uint64_t i, const uint8_t **ext);

/*
 * Set Zone Descriptor Extension (Zone Management Send, ZSA 10h): the
 * @len bytes at @ext (exactly vfn_zns_info.zde_size, a multiple of 64)
 * become the extension of the zone starting at @zslba.  The zone must be
 * Empty; it becomes Closed (an active zone) with VFN_NVME_ZA_ZDEV set in
 * its attributes; another state fails with Invalid Zone State Transition,
 * a namespace without extensions with Invalid Field in Command.  A reset
 * of the zone clears ZDEV.  -EINVAL without sending for a NULL @ext or a
 * @len of 0 or not a multiple of 64, or other than the namespace's
 * extension size (read by Identify: the controller transfers that many
 * bytes whatever @len says).
 */
VFN_API int vfn_dev_zone_set_desc_ext(struct vfn_dev *dev, uint32_t nsid, uint64_t zslba, const void *ext, size_t len,
				      struct vfn_nvme_cqe *cqe);

/*
 * Open Zone with a Zone Random Write Area (Zone Management Send, ZSA 03h
 * with ZRWAA, CDW13 bit 9): the zone at @zslba becomes Explicitly Opened
 * with VFN_NVME_ZA_ZRWAV set.  Writes may then land anywhere from the write
 * pointer up to twice the ZRWA size past it, in any order (past ZRWASZ the
 * controller flushes implicitly, in ZRWAFG units); the write pointer moves
 * only by flushes (vfn_dev_zone_flush_zrwa()), a finish or a reset.  A
 * namespace without ZRWA (OZCS.ZRWASUP clear) fails with Invalid Zone
 * Operation Request, no free ZRWA resource with ZRWA Resources
 * Unavailable.  Zone Append to such a zone fails with Invalid Zone
 * Operation Request.
 */
VFN_API int vfn_dev_zone_open_zrwa(struct vfn_dev *dev, uint32_t nsid, uint64_t zslba, struct vfn_nvme_cqe *cqe);

/*
 * Flush Explicit ZRWA Range (Zone Management Send, ZSA 11h): commits the
 * ZRWA of the zone holding @elba up to and including LBA @elba, so its
 * write pointer becomes @elba + 1.  The blocks flushed (@elba + 1 - write
 * pointer) must be a multiple of ZRWAFG (else Invalid Field in Command)
 * and @elba within the ZRWA (else Zone Boundary Error); a zone without a
 * ZRWA fails with Invalid Field in Command.
 */
VFN_API int vfn_dev_zone_flush_zrwa(struct vfn_dev *dev, uint32_t nsid, uint64_t elba, struct vfn_nvme_cqe *cqe);

/* The name of zone state @zs (VFN_NVME_ZS_*): "Empty", "Implicitly Opened", ..., or "Reserved". */
VFN_API const char *vfn_zone_state_str(unsigned int zs);

#ifdef __cplusplus
}
#endif

#endif /* VFN_ZNS_H */
