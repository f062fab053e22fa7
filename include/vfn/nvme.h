/* SPDX-License-Identifier: MIT */
/*
 * vfn nvme: the NVMe controller — registers, wire formats (SQE, CQE),
 * bring-up and shutdown, and synchronous admin commands.
 *
 * Names follow the NVMe Base Specification (CAP.MQES, CC.EN, CSTS.RDY, ...).
 * Register offsets and bit fields are defined here and nowhere else.
 */
#ifndef VFN_NVME_H
#define VFN_NVME_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <vfn/iommu.h>
#include <vfn/support.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Controller registers (byte offsets in BAR0) ------------------------ */

#define VFN_NVME_REG_CAP 0x00	  /* Controller Capabilities, 64-bit */
#define VFN_NVME_REG_VS 0x08	  /* Version */
#define VFN_NVME_REG_INTMS 0x0c	  /* Interrupt Mask Set */
#define VFN_NVME_REG_INTMC 0x10	  /* Interrupt Mask Clear */
#define VFN_NVME_REG_CC 0x14	  /* Controller Configuration */
#define VFN_NVME_REG_CSTS 0x1c	  /* Controller Status */
#define VFN_NVME_REG_NSSR 0x20	  /* NVM Subsystem Reset */
#define VFN_NVME_REG_AQA 0x24	  /* Admin Queue Attributes */
#define VFN_NVME_REG_ASQ 0x28	  /* Admin Submission Queue Base Address, 64-bit */
#define VFN_NVME_REG_ACQ 0x30	  /* Admin Completion Queue Base Address, 64-bit */
#define VFN_NVME_REG_CMBLOC 0x38  /* Controller Memory Buffer Location */
#define VFN_NVME_REG_CMBSZ 0x3c	  /* Controller Memory Buffer Size */
#define VFN_NVME_REG_BPINFO 0x40  /* Boot Partition Information */
#define VFN_NVME_REG_PMRCAP 0xe00 /* Persistent Memory Region Capabilities */
#define VFN_NVME_REG_DBS 0x1000	  /* first doorbell (SQ0TDBL) */

/* CMB and PMR registers (docs/cmb.md) and their bits. */
#define VFN_NVME_REG_CMBMSC 0x50	/* Controller Memory Buffer Memory Space Control, 64-bit */
#define VFN_NVME_REG_CMBSTS 0x58	/* Controller Memory Buffer Status */
#define VFN_NVME_REG_PMRCTL 0xe04	/* Persistent Memory Region Control */
#define VFN_NVME_REG_PMRSTS 0xe08	/* Persistent Memory Region Status */
#define VFN_NVME_REG_PMREBS 0xe0c	/* Persistent Memory Region Elasticity Buffer Size */
#define VFN_NVME_REG_PMRSWTP 0xe10	/* Persistent Memory Region Sustained Write Throughput */
#define VFN_NVME_REG_PMRMSCL 0xe14	/* Persistent Memory Region Memory Space Control, low */
#define VFN_NVME_REG_PMRMSCU 0xe18	/* Persistent Memory Region Memory Space Control, high */
#define VFN_NVME_CMBMSC_CRE (1u << 0)	/* capability registers (CMBLOC, CMBSZ) enabled */
#define VFN_NVME_CMBMSC_CMSE (1u << 1)	/* controller memory space enabled (CBA valid) */
#define VFN_NVME_CMBSTS_CBAI (1u << 0)	/* controller base address invalid */
#define VFN_NVME_PMRCTL_EN (1u << 0)	/* PMR enabled */
#define VFN_NVME_PMRSTS_NRDY (1u << 8)	/* PMR not ready */
#define VFN_NVME_PMRSTS_HSTS_SHIFT 9	/* health status, 3 bits */
#define VFN_NVME_PMRSTS_CBAI (1u << 12) /* controller base address invalid */

/* CAP fields */
static inline uint32_t vfn_nvme_cap_mqes(uint64_t cap)
{
	return cap & 0xffff;
}
static inline bool vfn_nvme_cap_cqr(uint64_t cap)
{
	return (cap >> 16) & 1;
}
static inline uint32_t vfn_nvme_cap_ams(uint64_t cap)
{
	return (cap >> 17) & 0x3;
}
/* Worst-case time to ready, in 500 ms units. */
static inline uint32_t vfn_nvme_cap_to(uint64_t cap)
{
	return (cap >> 24) & 0xff;
}
/* Doorbell stride: doorbells are (4 << DSTRD) bytes apart. */
static inline uint32_t vfn_nvme_cap_dstrd(uint64_t cap)
{
	return (cap >> 32) & 0xf;
}
static inline bool vfn_nvme_cap_nssrs(uint64_t cap)
{
	return (cap >> 36) & 1;
}
static inline uint32_t vfn_nvme_cap_css(uint64_t cap)
{
	return (cap >> 37) & 0xff;
}
static inline bool vfn_nvme_cap_bps(uint64_t cap)
{
	return (cap >> 45) & 1;
}
/* Minimum/maximum memory page size: 2 ^ (12 + MPSMIN/MPSMAX) bytes. */
static inline uint32_t vfn_nvme_cap_mpsmin(uint64_t cap)
{
	return (cap >> 48) & 0xf;
}
static inline uint32_t vfn_nvme_cap_mpsmax(uint64_t cap)
{
	return (cap >> 52) & 0xf;
}
static inline bool vfn_nvme_cap_pmrs(uint64_t cap)
{
	return (cap >> 56) & 1;
}
static inline bool vfn_nvme_cap_cmbs(uint64_t cap)
{
	return (cap >> 57) & 1;
}

/* CAP.CSS bits */
#define VFN_NVME_CAP_CSS_NVM (1u << 0)
#define VFN_NVME_CAP_CSS_CSI (1u << 6)
#define VFN_NVME_CAP_CSS_ADMIN_ONLY (1u << 7)

/* VS fields */
static inline uint32_t vfn_nvme_vs_mjr(uint32_t vs)
{
	return vs >> 16;
}
static inline uint32_t vfn_nvme_vs_mnr(uint32_t vs)
{
	return (vs >> 8) & 0xff;
}
static inline uint32_t vfn_nvme_vs_ter(uint32_t vs)
{
	return vs & 0xff;
}

/* CC fields */
#define VFN_NVME_CC_EN (1u << 0)
#define VFN_NVME_CC_CSS_SHIFT 4 /* 3 bits: 0 NVM, 6 all I/O sets, 7 admin */
#define VFN_NVME_CC_CSS_NVM 0u
#define VFN_NVME_CC_CSS_CSI 6u
#define VFN_NVME_CC_MPS_SHIFT 7	 /* 4 bits: page size 2 ^ (12 + MPS) */
#define VFN_NVME_CC_AMS_SHIFT 11 /* 3 bits: 0 round robin */
#define VFN_NVME_CC_SHN_SHIFT 14 /* 2 bits */
#define VFN_NVME_CC_SHN_MASK (3u << VFN_NVME_CC_SHN_SHIFT)
#define VFN_NVME_CC_SHN_NORMAL (1u << VFN_NVME_CC_SHN_SHIFT)
#define VFN_NVME_CC_SHN_ABRUPT (2u << VFN_NVME_CC_SHN_SHIFT)
#define VFN_NVME_CC_IOSQES_SHIFT 16 /* 4 bits: SQE size 2 ^ n (6 = 64 B) */
#define VFN_NVME_CC_IOCQES_SHIFT 20 /* 4 bits: CQE size 2 ^ n (4 = 16 B) */

/* CSTS fields */
#define VFN_NVME_CSTS_RDY (1u << 0)
#define VFN_NVME_CSTS_CFS (1u << 1)
#define VFN_NVME_CSTS_SHST_SHIFT 2
#define VFN_NVME_CSTS_SHST_MASK (3u << VFN_NVME_CSTS_SHST_SHIFT)
#define VFN_NVME_CSTS_SHST_NORMAL (0u << VFN_NVME_CSTS_SHST_SHIFT)
#define VFN_NVME_CSTS_SHST_OCCURRING (1u << VFN_NVME_CSTS_SHST_SHIFT)
#define VFN_NVME_CSTS_SHST_COMPLETE (2u << VFN_NVME_CSTS_SHST_SHIFT)
#define VFN_NVME_CSTS_NSSRO (1u << 4)
#define VFN_NVME_NSSR_RESET 0x4E564D65u /* "NVMe": the value NSSR takes to reset the NVM subsystem */
#define VFN_NVME_CSTS_PP (1u << 5)

/* AQA fields (0's based sizes) */
#define VFN_NVME_AQA_ASQS_SHIFT 0
#define VFN_NVME_AQA_ACQS_SHIFT 16

/* ---- Wire formats ------------------------------------------------------- */

/* SGL descriptor (16 bytes). */
struct vfn_nvme_sgl_desc {
	vfn_le64 addr;
	vfn_le32 length;
	uint8_t rsvd[3];
	uint8_t type; /* descriptor type << 4 | subtype */
};

#define VFN_NVME_SGL_TYPE_DATA_BLOCK 0x0
#define VFN_NVME_SGL_TYPE_BIT_BUCKET 0x1
#define VFN_NVME_SGL_TYPE_SEGMENT 0x2
#define VFN_NVME_SGL_TYPE_LAST_SEGMENT 0x3

/* Submission Queue Entry (64 bytes). */
struct vfn_nvme_sqe {
	uint8_t opcode;
	uint8_t flags; /* FUSE bits 1:0, PSDT bits 7:6 */
	vfn_le16 cid;
	vfn_le32 nsid;
	vfn_le32 cdw2;
	vfn_le32 cdw3;
	vfn_le64 mptr;
	union {
		struct {
			vfn_le64 prp1;
			vfn_le64 prp2;
		};
		struct vfn_nvme_sgl_desc sgl;
	} dptr;
	vfn_le32 cdw10;
	vfn_le32 cdw11;
	vfn_le32 cdw12;
	vfn_le32 cdw13;
	vfn_le32 cdw14;
	vfn_le32 cdw15;
};

/* SQE flags: PRP or SGL Data Transfer (PSDT) */
#define VFN_NVME_SQE_PSDT_PRP (0u << 6)
#define VFN_NVME_SQE_PSDT_SGL_MPTR_CONTIG (1u << 6)
#define VFN_NVME_SQE_PSDT_SGL_MPTR_SGL (2u << 6)

/*
 * Identify Controller SGLS (bytes 539:536) bits beyond SGL support (1:0):
 * bit 17, MPTR may address a byte-aligned contiguous metadata buffer with
 * PSDT 01b; bit 19, MPTR may hold the address of an SGL segment of exactly
 * one qword-aligned SGL descriptor (PSDT 10b, "SGLs for data, MPTR an
 * SGL").
 */
#define VFN_NVME_SGLS_MPTR_CONTIG (1u << 17)
#define VFN_NVME_SGLS_MPTR_SGL (1u << 19)

/* Completion Queue Entry (16 bytes). */
struct vfn_nvme_cqe {
	vfn_le32 dw0; /* command specific */
	vfn_le32 dw1;
	vfn_le16 sqhd; /* SQ head pointer */
	vfn_le16 sqid;
	vfn_le16 cid;
	vfn_le16 sfp; /* status field (bits 15:1) and phase tag (bit 0) */
};

#if !defined(__cplusplus)
_Static_assert(sizeof(struct vfn_nvme_sgl_desc) == 16, "SGL descriptor is 16 bytes");
_Static_assert(sizeof(struct vfn_nvme_sqe) == 64, "SQE is 64 bytes");
_Static_assert(sizeof(struct vfn_nvme_cqe) == 16, "CQE is 16 bytes");
#else
static_assert(sizeof(struct vfn_nvme_sgl_desc) == 16, "SGL descriptor is 16 bytes");
static_assert(sizeof(struct vfn_nvme_sqe) == 64, "SQE is 64 bytes");
static_assert(sizeof(struct vfn_nvme_cqe) == 16, "CQE is 16 bytes");
#endif

/*
 * Status field without the phase tag (CQE DW3 bits 31:17): bits 7:0 Status
 * Code (SC), 10:8 Status Code Type (SCT), 12:11 Command Retry Delay (CRD),
 * 13 More (M), 14 Do Not Retry (DNR).  0 means success.
 */
static inline uint16_t vfn_nvme_cqe_status(const struct vfn_nvme_cqe *cqe)
{
	return vfn_le16_to_cpu(cqe->sfp) >> 1;
}

static inline uint8_t vfn_nvme_status_sc(uint16_t status)
{
	return status & 0xff;
}
static inline uint8_t vfn_nvme_status_sct(uint16_t status)
{
	return (status >> 8) & 0x7;
}
static inline bool vfn_nvme_status_dnr(uint16_t status)
{
	return (status >> 14) & 1;
}
static inline bool vfn_nvme_status_more(uint16_t status)
{
	return (status >> 13) & 1;
}

/* Status Code Types */
#define VFN_NVME_SCT_GENERIC 0x0
#define VFN_NVME_SCT_CMD_SPECIFIC 0x1
#define VFN_NVME_SCT_MEDIA 0x2
#define VFN_NVME_SCT_PATH 0x3
#define VFN_NVME_SCT_VENDOR 0x7

/* Status values (SCT << 8 | SC) as returned by vfn_nvme_cqe_status() & 0x7ff */
#define VFN_NVME_SC_SUCCESS 0x000
#define VFN_NVME_SC_INVALID_OPCODE 0x001
#define VFN_NVME_SC_INVALID_FIELD 0x002
#define VFN_NVME_SC_CMDID_CONFLICT 0x003
#define VFN_NVME_SC_DATA_XFER_ERROR 0x004
#define VFN_NVME_SC_POWER_LOSS 0x005
#define VFN_NVME_SC_INTERNAL 0x006
#define VFN_NVME_SC_ABORT_REQ 0x007
#define VFN_NVME_SC_ABORT_QUEUE 0x008
#define VFN_NVME_SC_FUSED_FAIL 0x009
#define VFN_NVME_SC_FUSED_MISSING 0x00a
#define VFN_NVME_SC_INVALID_NS 0x00b
#define VFN_NVME_SC_CMD_SEQ_ERROR 0x00c
#define VFN_NVME_SC_SGL_INVALID_LAST 0x00d
#define VFN_NVME_SC_SGL_INVALID_COUNT 0x00e
#define VFN_NVME_SC_SGL_INVALID_DATA 0x00f
#define VFN_NVME_SC_SGL_INVALID_METADATA 0x010
#define VFN_NVME_SC_SGL_INVALID_TYPE 0x011
#define VFN_NVME_SC_INVALID_PRP_OFFSET 0x013
#define VFN_NVME_SC_SGL_INVALID_OFFSET 0x016
#define VFN_NVME_SC_INVALID_SGL_SUBTYPE 0x017
#define VFN_NVME_SC_LBA_RANGE 0x080
#define VFN_NVME_SC_CAP_EXCEEDED 0x081
#define VFN_NVME_SC_NS_NOT_READY 0x082
#define VFN_NVME_SC_CQ_INVALID 0x100
#define VFN_NVME_SC_QID_INVALID 0x101
#define VFN_NVME_SC_QUEUE_SIZE 0x102
#define VFN_NVME_SC_ABORT_LIMIT 0x103
#define VFN_NVME_SC_ASYNC_LIMIT 0x105
#define VFN_NVME_SC_INVALID_LOG_PAGE 0x109
#define VFN_NVME_SC_INVALID_VECTOR 0x108
#define VFN_NVME_SC_FEATURE_NOT_SAVEABLE 0x10d
#define VFN_NVME_SC_INVALID_QUEUE_DELETION 0x10c
#define VFN_NVME_SC_HOST_ABORTED 0x371 /* Command Aborted By Host: made up by vfn for commands it gave up on */
#define VFN_NVME_SC_WRITE_FAULT 0x280
#define VFN_NVME_SC_READ_ERROR 0x281
#define VFN_NVME_SC_UNWRITTEN_BLOCK 0x287

/* Admin command opcodes */
#define VFN_NVME_ADMIN_DELETE_SQ 0x00
#define VFN_NVME_ADMIN_CREATE_SQ 0x01
#define VFN_NVME_ADMIN_GET_LOG_PAGE 0x02
#define VFN_NVME_ADMIN_DELETE_CQ 0x04
#define VFN_NVME_ADMIN_CREATE_CQ 0x05
#define VFN_NVME_ADMIN_IDENTIFY 0x06
#define VFN_NVME_ADMIN_ABORT 0x08
#define VFN_NVME_ADMIN_SET_FEATURES 0x09
#define VFN_NVME_ADMIN_GET_FEATURES 0x0a
#define VFN_NVME_ADMIN_ASYNC_EVENT 0x0c
#define VFN_NVME_ADMIN_NS_MGMT 0x0d
#define VFN_NVME_ADMIN_FW_COMMIT 0x10
#define VFN_NVME_ADMIN_FW_DOWNLOAD 0x11
#define VFN_NVME_ADMIN_DEV_SELF_TEST 0x14
#define VFN_NVME_ADMIN_NS_ATTACH 0x15
#define VFN_NVME_ADMIN_KEEP_ALIVE 0x18
#define VFN_NVME_ADMIN_DIRECTIVE_SEND 0x19
#define VFN_NVME_ADMIN_DIRECTIVE_RECV 0x1a
#define VFN_NVME_ADMIN_VIRT_MGMT 0x1c
#define VFN_NVME_ADMIN_DBBUF_CONFIG 0x7c
#define VFN_NVME_ADMIN_FORMAT_NVM 0x80
#define VFN_NVME_ADMIN_SECURITY_SEND 0x81
#define VFN_NVME_ADMIN_SECURITY_RECV 0x82
#define VFN_NVME_ADMIN_SANITIZE 0x84

/* NVM command set opcodes */
#define VFN_NVME_CMD_FLUSH 0x00
#define VFN_NVME_CMD_WRITE 0x01
#define VFN_NVME_CMD_READ 0x02
#define VFN_NVME_CMD_WRITE_UNCOR 0x04
#define VFN_NVME_CMD_COMPARE 0x05
#define VFN_NVME_CMD_WRITE_ZEROES 0x08
#define VFN_NVME_CMD_DSM 0x09
#define VFN_NVME_CMD_VERIFY 0x0c
#define VFN_NVME_CMD_COPY 0x19

/* Data transfer direction encoded in opcode bits 1:0. */
#define VFN_NVME_XFER_NONE 0x0
#define VFN_NVME_XFER_TO_DEV 0x1   /* host to controller */
#define VFN_NVME_XFER_FROM_DEV 0x2 /* controller to host */
#define VFN_NVME_XFER_BIDI 0x3

/* Identify CNS values */
#define VFN_NVME_CNS_NS 0x00
#define VFN_NVME_CNS_CTRL 0x01
#define VFN_NVME_CNS_NS_ACTIVE_LIST 0x02
#define VFN_NVME_CNS_NS_DESC_LIST 0x03

/* Feature identifiers */
#define VFN_NVME_FEAT_ARBITRATION 0x01
#define VFN_NVME_FEAT_POWER_MGMT 0x02
#define VFN_NVME_FEAT_TEMP_THRESH 0x04
#define VFN_NVME_FEAT_ERR_RECOVERY 0x05
#define VFN_NVME_FEAT_VOLATILE_WC 0x06
#define VFN_NVME_FEAT_NUM_QUEUES 0x07
#define VFN_NVME_FEAT_IRQ_COALESCE 0x08
#define VFN_NVME_FEAT_IRQ_CONFIG 0x09
#define VFN_NVME_FEAT_WRITE_ATOMIC 0x0a
#define VFN_NVME_FEAT_ASYNC_EVENT 0x0b

/* Log page identifiers */
#define VFN_NVME_LOG_ERROR 0x01
#define VFN_NVME_LOG_SMART 0x02
#define VFN_NVME_LOG_FW_SLOT 0x03

/* Size of an Identify data structure. */
#define VFN_NVME_IDENTIFY_DATA_SIZE 4096

/*
 * Returns the spec name of a status (from vfn_nvme_cqe_status(); CRD/M/DNR
 * ignored), e.g. "Invalid Command Opcode", or "Unknown Status" — never NULL.
 */
VFN_API const char *vfn_nvme_status_str(uint16_t status);

/*
 * Returns the spec name of an opcode ("Identify", "Read", ...) for the admin
 * (@admin true) or NVM command set, or "Unknown" — never NULL.
 */
VFN_API const char *vfn_nvme_opcode_str(bool admin, uint8_t opcode);

/*
 * Maps a status to an errno for callers that want a plain result: 0 for
 * success, -EIO for any error status.
 */
static inline int vfn_nvme_status_to_errno(uint16_t status)
{
	return (status & 0x7ff) ? -EIO : 0;
}

/* ---- Controller --------------------------------------------------------- */

struct vfn_nvme_ctrl;

/*
 * Bring-up options.  Zero-initialise them (`= { 0 }` or designated
 * initialisers): 0 is every field's default, and new fields are added at
 * the end, off at 0.
 */
struct vfn_nvme_ctrl_opts {
	uint16_t aq_entries;	    /* admin SQ/CQ entries; 0: 32 */
	uint32_t timeout_ms;	    /* default admin command timeout; 0: 30000 */
	uint16_t nr_io_queues;	    /* I/O SQs and CQs to ask for (Set Features
				   Number of Queues); 0: 64 */
	struct vfn_iommu *iommu;    /* address space; NULL: default */
	bool no_shadow_doorbells;   /* don't send Doorbell Buffer Config even
					   when OACS advertises it: I/O queues
					   then always write the MMIO doorbells */
	uint32_t admin_log_entries; /* > 0: admin command log of that many
				       entries from the first command of
				       bring-up on (see
				       vfn_nvme_admin_log_enable()); 0: off */
	/* Appended: */
	bool admin_irq;	  /* admin completions waited for on MSI-X vector 0's
			   eventfd instead of sleeping between polls (the
			   vector is shared with I/O pairs placed on it) */
	uint8_t irq_mode; /* VFN_NVME_IRQ_*: the interrupt type (VFIO devices) */
	uint8_t ams;	  /* CC.AMS at enable: VFN_NVME_AMS_RR (0) or VFN_NVME_AMS_WRR
			     (weighted round robin with urgent priority, needs CAP.AMS
			     bit 17: else the open fails with -ENOTSUP) */
};

#define VFN_NVME_AMS_RR 0
#define VFN_NVME_AMS_WRR 1
#define VFN_NVME_CAP_AMS_WRR (1ull << 17) /* CAP.AMS: weighted round robin with urgent priority */

/*
 * Interrupt types for vfn_nvme_ctrl_opts.irq_mode.  AUTO: MSI-X if the
 * function has it and the kernel accepts it, else MSI, else INTx
 * (vfn_vfio_irq_auto(); vfn_nvme_ctrl_irq_mode() says which).  A forced
 * type does not fall back.  MSI and INTx offer few vectors
 * (INTx one: vector 0), so I/O pairs then share them (qpair opts
 * vector_set/vector); INTx is level-triggered and masked each time it
 * fires: a caller polling a pair's eventfd itself calls
 * vfn_nvme_qpair_irq_ack() after reading it.  The simulator has MSI-X only.
 */
#define VFN_NVME_IRQ_AUTO 0
#define VFN_NVME_IRQ_MSIX 1
#define VFN_NVME_IRQ_MSI 2
#define VFN_NVME_IRQ_INTX 3

/*
 * The interrupt type @ctrl uses, as opts.irq_mode asked or AUTO chose
 * (MSI-X absent or refused by the kernel: MSI, else INTx):
 * VFN_NVME_IRQ_MSIX, VFN_NVME_IRQ_MSI or VFN_NVME_IRQ_INTX.  -ENOTSUP if
 * AUTO found none usable (pairs with interrupts and vfn_nvme_ctrl_irq_route()
 * are then refused: -ENOTSUP), -EINVAL
 * for NULL.
 */
VFN_API int vfn_nvme_ctrl_irq_mode(const struct vfn_nvme_ctrl *ctrl);

/* What Identify Controller said, decoded once at bring-up. */
struct vfn_nvme_ctrl_info {
	uint16_t vid;	/* PCI Vendor ID */
	uint16_t ssvid; /* PCI Subsystem Vendor ID */
	char sn[21];	/* Serial Number, trailing spaces removed */
	char mn[41];	/* Model Number, trailing spaces removed */
	char fr[9];	/* Firmware Revision, trailing spaces removed */
	uint16_t cntlid;
	uint32_t ver;
	uint8_t mdts;	 /* as reported: 2 ^ MDTS * CAP.MPSMIN pages */
	size_t max_xfer; /* MDTS in bytes, 0 = no limit */
	uint32_t nn;	 /* Number of Namespaces */
	uint16_t oacs;
	uint16_t oncs;
	uint32_t sgls;
	uint8_t vwc;
	uint16_t nr_sq;		    /* I/O SQs granted by Set Features NQ */
	uint16_t nr_cq;		    /* I/O CQs granted by Set Features NQ */
	bool shadow_doorbells;	    /* Doorbell Buffer Config accepted: I/O
				   queues use shadow doorbells */
	uint32_t ctratt;	    /* Controller Attributes (bit 15 ELBAS: extended
				       LBA formats, the guard format, are reported) */
	uint32_t qpair_max_entries; /* entries of the largest I/O queue pair
				       vfn_nvme_qpair_create() makes:
				       min(CAP.MQES + 1, 65535) (rings count
				       in 16 bits); it holds one command less */
};

/* What Identify Namespace said about one namespace. */
struct vfn_nvme_ns_info {
	uint32_t nsid;
	uint64_t nsze;	     /* Namespace Size, in logical blocks */
	uint64_t ncap;	     /* Namespace Capacity */
	uint64_t nuse;	     /* Namespace Utilization */
	uint8_t nlbaf;	     /* Number of LBA Formats (0's based) */
	uint8_t flbas;	     /* Formatted LBA Size index */
	uint32_t lba_size;   /* bytes per logical block: 2 ^ LBADS */
	uint16_t ms;	     /* metadata bytes per block (vfn_nvme_read/write carry it:
				interleaved, or opts->meta) */
	bool mset;	     /* FLBAS bit 4 (MSET): metadata at the end of each
			      block's data (an extended LBA); false: in a
			      separate buffer */
	uint8_t pi_type;     /* DPS bits 2:0: end-to-end protection type 0 (none), 1, 2, 3 */
	bool pi_first;	     /* DPS bit 3: the PI tuple is in the first bytes of
				the metadata; false: in the last */
	uint8_t pif;	     /* guard format (VFN_PI_PIF_*, vfn/pi.h): the NVM
				Identify Namespace's ELBAF PIF when CTRATT.ELBAS
				says it is there; else 0, the 16-bit guard */
	uint32_t block_size; /* data + metadata bytes of one block (lba_size + ms) */
};

/*
 * Opens @bdf through VFIO and brings the controller up: disables it (waiting
 * CAP.TO for CSTS.RDY=0), sets up the admin queue (AQA/ASQ/ACQ), writes CC
 * (MPS = 4 KiB, or CAP.MPSMIN's pages if larger; IOSQES=6, IOCQES=4, CSS),
 * enables it and waits for CSTS.RDY=1, then identifies the controller and
 * asks for I/O queues.
 * @opts may be NULL.
 * Errors: those of vfn_vfio_open(); -ENOTSUP (not an NVMe controller, or no
 * NVM command set), -ETIMEDOUT (CSTS.RDY did not change within CAP.TO),
 * -EIO (CSTS.CFS set, or an admin command failed), -ENODEV (BAR0 reads as
 * all-ones: device gone), -EINVAL (@opts->admin_log_entries > 65536),
 * -ENOMEM; -ENOTSUP also when CAP.MPSMIN's pages exceed the host's.  On
 * failure the device is closed again.
 */
VFN_API int vfn_nvme_ctrl_open(const char *bdf, const struct vfn_nvme_ctrl_opts *opts, struct vfn_nvme_ctrl **out);

/*
 * Shuts the controller down (CC.SHN normal, waiting for CSTS.SHST complete
 * up to max(RTD3E, 5 s), at most 60 s; skipped for a failed controller),
 * stops it (CC.EN=0, else a function-level reset, else bus mastering off:
 * its DMA has stopped before anything is freed) and frees everything.
 * Refused while queue pairs of @ctrl exist: it logs an error and returns
 * with the controller open and working (destroy the pairs, then close).
 * NULL is ignored.
 */
VFN_API void vfn_nvme_ctrl_close(struct vfn_nvme_ctrl *ctrl);

/* Identity decoded at bring-up (owned by @ctrl). */
VFN_API const struct vfn_nvme_ctrl_info *vfn_nvme_ctrl_get_info(const struct vfn_nvme_ctrl *ctrl);

/* The address space the controller's DMA goes through (borrowed). */
VFN_API struct vfn_iommu *vfn_nvme_ctrl_iommu(const struct vfn_nvme_ctrl *ctrl);

/*
 * Register access for test teams: named offsets VFN_NVME_REG_*.  Reads and
 * writes go straight to the device, even ones that break the driver's state.
 * Offsets beyond BAR0 or not 4-byte aligned read as all-ones / are ignored.
 */
VFN_API uint32_t vfn_nvme_reg_read32(struct vfn_nvme_ctrl *ctrl, uint32_t off);
VFN_API uint64_t vfn_nvme_reg_read64(struct vfn_nvme_ctrl *ctrl, uint32_t off);
VFN_API void vfn_nvme_reg_write32(struct vfn_nvme_ctrl *ctrl, uint32_t off, uint32_t val);
VFN_API void vfn_nvme_reg_write64(struct vfn_nvme_ctrl *ctrl, uint32_t off, uint64_t val);

/*
 * Submits @sqe on the admin queue and waits for its completion.  The command
 * id, and when @len is not 0 the data pointer, are filled in by vfn (with
 * @len 0 the data pointer goes as given: Create I/O SQ/CQ's PRP1);
 * @buf/@len (may be NULL/0) is
 * copied into a DMA buffer before (host-to-controller opcodes) and out of it
 * after (controller-to-host opcodes); the direction comes from the opcode.
 * @timeout_ms 0 uses the controller's default.  The completion is copied to
 * @cqe (may be NULL).
 * Returns 0 if the controller completed the command with a success status,
 * -EIO if it completed with an error status (see @cqe for which) or the
 * controller is failed (vfn_nvme_ctrl_failed(): then nothing is sent),
 * -ETIMEDOUT if it did not complete in time (its data buffer stays mapped
 * until a late completion or a reset), -ENODEV if the device is gone,
 * -EINVAL (@len beyond the controller's transfer limit), -ENOMEM.
 */
VFN_API int vfn_nvme_admin_sync(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_sqe *sqe, void *buf, size_t len,
				struct vfn_nvme_cqe *cqe, uint32_t timeout_ms);

/*
 * Identify with @cns for @nsid into @buf (VFN_NVME_IDENTIFY_DATA_SIZE bytes).
 * Returns as vfn_nvme_admin_sync(); the status is stored in @status if not NULL.
 */
VFN_API int vfn_nvme_identify(struct vfn_nvme_ctrl *ctrl, uint8_t cns, uint32_t nsid, void *buf, uint16_t *status);

/*
 * Identifies namespace @nsid and decodes it into @info.  Returns 0, -ENOENT
 * if @nsid is not an active namespace (Invalid Namespace status or an
 * all-zero structure), or as vfn_nvme_admin_sync().
 */
VFN_API int vfn_nvme_ns_get_info(struct vfn_nvme_ctrl *ctrl, uint32_t nsid, struct vfn_nvme_ns_info *info);

/*
 * Fills @nsids with up to @max active namespace ids greater than @start, in
 * increasing order, and returns how many it stored (at most 1024 per call).
 */
VFN_API int vfn_nvme_ns_list_active(struct vfn_nvme_ctrl *ctrl, uint32_t start, uint32_t *nsids, int max);

/*
 * Get Features @fid for @nsid with @cdw11; the completion's DW0 is stored in
 * @result (may be NULL); @buf/@len receive a data structure if the feature
 * has one.  Returns as vfn_nvme_admin_sync().
 */
VFN_API int vfn_nvme_get_features(struct vfn_nvme_ctrl *ctrl, uint8_t fid, uint32_t nsid, uint32_t cdw11,
				  uint32_t *result, void *buf, size_t len);

/* Set Features @fid with @cdw11 (and @buf for features with data). */
VFN_API int vfn_nvme_set_features(struct vfn_nvme_ctrl *ctrl, uint8_t fid, uint32_t nsid, uint32_t cdw11,
				  uint32_t *result, const void *buf, size_t len);

/* ---- Robustness: abort, reset, asynchronous events ---------------------- */

/*
 * Abort (admin opcode 0x08) of command @cid on SQ @sqid.  Returns 0 if the
 * controller aborted it (CQE DW0 bit 0 = 0: the command then completes
 * with Command Abort Requested, 0x007), -ENOENT if it did not (bit 0 = 1:
 * not found or already done), or as vfn_nvme_admin_sync() (e.g. -EIO with
 * Abort Command Limit Exceeded).
 */
VFN_API int vfn_nvme_abort(struct vfn_nvme_ctrl *ctrl, uint16_t sqid, uint16_t cid);

/*
 * Controller-level recovery, in this order (docs/io.md, "Recovery"):
 * 1. quiesce: a controller that still works first deletes the pairs' I/O
 *    queues (best effort, each Delete bounded by CAP.TO: it ends what it
 *    holds, status 0x008); then CC.EN=0 and wait for CSTS.RDY=0 up to
 *    CAP.TO; if it does not get there, a function-level reset; if that
 *    fails too, PCI bus mastering off — the controller's DMA has stopped
 *    after this step;
 * 2. fail what is outstanding on every pair: completions the controller
 *    posted before it stopped are delivered as they are, every other
 *    request in flight gets a made-up completion (Command Aborted By
 *    Host, rq->err -ECANCELED): callbacks run, a request without one
 *    becomes DONE and stays its caller's; abandoned requests are released;
 * 3. re-create: the admin queue, Identify, Number of Queues and shadow
 *    doorbells, then every I/O queue pair with the same id, size and
 *    vector (callers' pointers stay valid), and Asynchronous Event
 *    Requests.  Features other than Number of Queues are back to their
 *    defaults.
 * Callbacks in step 2 run with the controller stopped: see vfn_rq_cb (in
 * <vfn/rq.h>) for what they may do.  No other thread may use @ctrl or its
 * pairs meanwhile.
 * Returns 0, or the controller stays failed: -ENODEV (device gone),
 * -EIO (only bus mastering stopped it, or a command of step 3 failed),
 * -ETIMEDOUT (it did not become ready), -EBUSY (called from a callback of
 * a reset), -EINVAL.  A failed reset stops the controller again and leaves
 * it failed (vfn_nvme_ctrl_failed() -EIO, or -ENODEV) with everything
 * still allocated: every post returns that error, admin commands -EIO (or
 * -ENODEV), reaps and timeout checks find nothing; pairs may be destroyed,
 * the controller closed, or the reset tried again.
 */
VFN_API int vfn_nvme_ctrl_reset(struct vfn_nvme_ctrl *ctrl);

/*
 * As vfn_nvme_ctrl_reset(), with a function-level reset (VFIO_DEVICE_RESET;
 * the simulator restarts from power-on) between stopping and re-creating:
 * the interrupt vectors in use are then switched off and routed to their
 * eventfds again (the function's vector table rewritten), so pairs with
 * interrupts keep working.  Errors as vfn_nvme_ctrl_reset(), and -ENOTSUP
 * (the device offers no reset; the controller stays failed until a
 * vfn_nvme_ctrl_reset()) or the error of the reset or re-routing.
 */
VFN_API int vfn_nvme_ctrl_reset_function(struct vfn_nvme_ctrl *ctrl);

/*
 * As vfn_nvme_ctrl_reset_function(), with an NVM Subsystem Reset instead:
 * NSSR written with VFN_NVME_NSSR_RESET, CSTS.NSSRO waited for (CAP.TO)
 * and cleared, the vectors routed again, everything re-created.  Every
 * controller of the subsystem is reset; on real hardware the PCIe link may
 * go down (then -ENODEV).  Errors as vfn_nvme_ctrl_reset(), and
 * -EOPNOTSUPP when CAP.NSSRS is 0 (QEMU 7.2; nothing done),
 * -ETIMEDOUT when NSSRO never rose (the controller stays failed).
 */
VFN_API int vfn_nvme_ctrl_reset_subsystem(struct vfn_nvme_ctrl *ctrl);

/*
 * vfn_nvme_ctrl_reset_function() with a PCI hot reset (secondary bus or
 * slot reset, vfn_vfio_hot_reset()) in place of the FLR, where VFIO allows
 * it.  Refused before touching anything (the controller keeps working):
 * -ENOTSUP (no bus or slot reset for this function; the simulator), -EBUSY
 * (it would reach a function of another IOMMU group, or one open in this
 * process through another handle, e.g. a sibling function open as another
 * controller: close it first; the log names it).  When such a function
 * is opened by another thread while the controller stops, VFIO's reset is
 * refused after the quiesce: nothing is reset, the controller is re-created
 * as by vfn_nvme_ctrl_reset() (what was in flight completes as it
 * documents) and -EBUSY is returned, the controller working.  Else as
 * vfn_nvme_ctrl_reset_function().
 */
VFN_API int vfn_nvme_ctrl_reset_bus(struct vfn_nvme_ctrl *ctrl);

/*
 * The Arbitration feature (FID 01h): Arbitration Burst @ab (2^ab commands,
 * 7: no limit) and the low/medium/high priority weights (0's based: @hpw 3
 * means 4 commands per round).  Weights matter only with CC.AMS weighted
 * round robin (ctrl opts ams).  Returns as vfn_nvme_set_features().
 */
VFN_API int vfn_nvme_set_arbitration(struct vfn_nvme_ctrl *ctrl, uint8_t ab, uint8_t lpw, uint8_t mpw, uint8_t hpw);

/* Reads the Arbitration feature into the non-NULL pointers; as vfn_nvme_get_features(). */
VFN_API int vfn_nvme_get_arbitration(struct vfn_nvme_ctrl *ctrl, uint8_t *ab, uint8_t *lpw, uint8_t *mpw, uint8_t *hpw);

/*
 * The controller's failure state: 0, -ECANCELED (failed — CSTS.CFS seen, a
 * timeout escalated — or a reset under way), -EIO (a reset failed) or
 * -ENODEV (device gone), as the last check found it (see
 * vfn_nvme_qpair_check_timeouts()).  It only rises until a reset succeeds,
 * and is non-zero only once the controller was quiesced (no DMA).
 * -EINVAL for NULL.
 */
VFN_API int vfn_nvme_ctrl_failed(const struct vfn_nvme_ctrl *ctrl);

/*
 * Asynchronous event callback: @dw0 is the AER completion's DW0 —
 * Asynchronous Event Type bits 2:0, Information bits 15:8, Log Page
 * Identifier bits 23:16.  Called from vfn_nvme_admin_poll() or after any
 * admin command, without locks held: it may send admin commands (e.g. Get
 * Log Page with RAE=0, which the spec needs before that event type is
 * reported again).
 */
typedef void (*vfn_nvme_aer_cb)(struct vfn_nvme_ctrl *ctrl, uint32_t dw0, void *arg);

/*
 * Sets the asynchronous event callback and keeps min(AERL + 1, 16, admin
 * queue entries - 2) Asynchronous Event Requests outstanding (re-armed
 * after each event and after a reset); NULL stops re-arming (requests
 * already outstanding stay, their events are dropped).  Returns 0,
 * -ENOTSUP (admin queue too small), -EINVAL, -EIO/-ENODEV while the
 * controller is failed (the callback is kept: the requests are posted by
 * the next successful reset), or as vfn_nvme_admin_sync().
 */
VFN_API int vfn_nvme_aer_set_callback(struct vfn_nvme_ctrl *ctrl, vfn_nvme_aer_cb cb, void *arg);

/*
 * Consumes the admin completions posted so far (asynchronous events, late
 * completions) and delivers events to the callback.  Returns the number
 * of events delivered, or -EINVAL.
 */
VFN_API int vfn_nvme_admin_poll(struct vfn_nvme_ctrl *ctrl);

/* ---- Admin command log -------------------------------------------------- */

/*
 * Turns the admin queue's command log on with a ring of the last @entries
 * admin commands sent (every one: bring-up, Create/Delete queues, Abort,
 * AERs, vfn_nvme_admin_sync() passthrough...) and their completions, or off
 * with @entries 0.  A log already on is replaced by an empty one (its
 * entries are dropped), so enabling after vfn_nvme_ctrl_open() starts
 * empty; to see the bring-up commands, open with
 * vfn_nvme_ctrl_opts.admin_log_entries instead.  The log lives until
 * vfn_nvme_ctrl_close() and across vfn_nvme_ctrl_reset().  Lines are as
 * vfn_nvme_qpair_log_dump()'s, on "SQ 0" with admin opcode names; a
 * command the driver gave up on ends in "no completion [timed out]" (or
 * the CSTS reason), one outstanding at a reset in "no completion
 * [cancelled: controller reset]"; an AER is logged when posted and its
 * completion when it arrives; a late completion of a timed-out command
 * fills in that entry with "[late: after it timed out]" (dropped if the
 * entry was overwritten); completions of no command sent are not logged.
 * A command that times out dumps the log at debug log level.
 * Errors: -EINVAL (NULL @ctrl, @entries > 65536), -ENOMEM.
 */
VFN_API int vfn_nvme_admin_log_enable(struct vfn_nvme_ctrl *ctrl, uint32_t entries);

/*
 * Prints the admin command log of @ctrl to @f, oldest first, as
 * vfn_nvme_qpair_log_dump() (takes the admin lock).  Returns the number of
 * lines, 0 when the log is off or empty, -EINVAL (NULL argument) or -EIO
 * (write error).
 */
VFN_API int vfn_nvme_admin_log_dump(struct vfn_nvme_ctrl *ctrl, FILE *f);

/*
 * As vfn_nvme_admin_log_dump(), into @buf (@len bytes, always
 * NUL-terminated when @len > 0).  Returns the length of the whole text
 * (snprintf style: larger than @len - 1 if it was cut), or -EINVAL.
 */
VFN_API int vfn_nvme_admin_log_snprint(struct vfn_nvme_ctrl *ctrl, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* VFN_NVME_H */
