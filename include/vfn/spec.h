/* SPDX-License-Identifier: MIT */
/*
 * vfn spec: NVMe data structures (Identify, log pages) and the constants
 * that go with them (CNS, CSI, log and feature identifiers, status codes).
 *
 * The library, the simulator and the CLI all decode with these.  Layouts
 * follow the NVMe Base Specification 2.0 and the NVM Command Set
 * Specification 1.0; field names are the specifications' abbreviations in
 * lower case (as the Linux kernel and nvme-cli spell them).  Multi-byte
 * fields are little-endian on the wire (vfn_le16/32/64: read them with
 * vfn_le16_to_cpu() and friends); 128-bit counters are byte arrays (read
 * with vfn_nvme_le128_lo/hi()).  Each structure's size and key offsets are
 * checked at compile time below.
 *
 * Constants already in <vfn/nvme.h> (admin opcodes, the first CNS, FEAT,
 * LOG and SC values) are not repeated here; this header includes it.
 */
#ifndef VFN_SPEC_H
#define VFN_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include <vfn/nvme.h>
#include <vfn/support.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Identify: CNS and CSI values -------------------------------------- */

/* VFN_NVME_CNS_NS (00h), _CTRL (01h), _NS_ACTIVE_LIST (02h), _NS_DESC_LIST (03h) are in <vfn/nvme.h>. */
#define VFN_NVME_CNS_NVMSET_LIST 0x04		/* NVM Set List */
#define VFN_NVME_CNS_CSI_NS 0x05		/* I/O Command Set specific Identify Namespace */
#define VFN_NVME_CNS_CSI_CTRL 0x06		/* I/O Command Set specific Identify Controller */
#define VFN_NVME_CNS_CSI_NS_ACTIVE_LIST 0x07	/* active namespaces of one command set */
#define VFN_NVME_CNS_CSI_INDEP_NS 0x08		/* I/O Command Set Independent Identify Namespace */
#define VFN_NVME_CNS_ALLOCATED_NS_LIST 0x10	/* allocated namespace ids */
#define VFN_NVME_CNS_ALLOCATED_NS 0x11		/* Identify Namespace of an allocated namespace */
#define VFN_NVME_CNS_NS_CTRL_LIST 0x12		/* controllers attached to a namespace */
#define VFN_NVME_CNS_CTRL_LIST 0x13		/* controllers in the NVM subsystem */
#define VFN_NVME_CNS_PRIMARY_CTRL_CAP 0x14	/* Primary Controller Capabilities */
#define VFN_NVME_CNS_SECONDARY_CTRL_LIST 0x15	/* Secondary Controller List */
#define VFN_NVME_CNS_CSI_ALLOCATED_NS_LIST 0x1a /* allocated namespaces of one command set */
#define VFN_NVME_CNS_CSI_ALLOCATED_NS 0x1b	/* I/O Command Set specific, allocated namespace */
#define VFN_NVME_CNS_IOCS 0x1c			/* I/O Command Set data structure */
/* CNS 1Ch returns 512 little-endian 64-bit vectors; bit N of a vector = I/O command set (CSI) N. */
#define VFN_NVME_IOCS_VECTORS 512

/* Command Set Identifiers (CDW11.CSI of Identify, NIDT 04h descriptor). */
#define VFN_NVME_CSI_NVM 0x00
#define VFN_NVME_CSI_KV 0x01
#define VFN_NVME_CSI_ZNS 0x02

/* ---- Log page identifiers ----------------------------------------------- */

/* VFN_NVME_LOG_ERROR (01h), _SMART (02h), _FW_SLOT (03h) are in <vfn/nvme.h>. */
#define VFN_NVME_LOG_CHANGED_NS 0x04	  /* Changed Namespace List */
#define VFN_NVME_LOG_CMD_EFFECTS 0x05	  /* Commands Supported and Effects */
#define VFN_NVME_LOG_DEV_SELF_TEST 0x06	  /* Device Self-test */
#define VFN_NVME_LOG_TELEMETRY_HOST 0x07  /* Telemetry Host-Initiated */
#define VFN_NVME_LOG_TELEMETRY_CTRL 0x08  /* Telemetry Controller-Initiated */
#define VFN_NVME_LOG_ENDURANCE_GROUP 0x09 /* Endurance Group Information */
#define VFN_NVME_LOG_ANA 0x0c		  /* Asymmetric Namespace Access */
#define VFN_NVME_LOG_PERSISTENT_EVENT 0x0d
#define VFN_NVME_LOG_SANITIZE 0x81 /* Sanitize Status */

/* Get Log Page CDW10 fields. */
#define VFN_NVME_LOG_LSP_SHIFT 8    /* Log Specific Field, 7 bits (CDW10 14:8) */
#define VFN_NVME_LOG_RAE (1u << 15) /* Retain Asynchronous Event */
#define VFN_NVME_LOG_LSI_SHIFT 16   /* Log Specific Identifier (CDW11 31:16) */

/* ---- Feature identifiers and Get Features select ------------------------ */

/* VFN_NVME_FEAT_ARBITRATION (01h) .. _ASYNC_EVENT (0Bh) are in <vfn/nvme.h>. */
#define VFN_NVME_FEAT_LBA_RANGE 0x03
#define VFN_NVME_FEAT_AUTO_PST 0x0c	/* Autonomous Power State Transition */
#define VFN_NVME_FEAT_HOST_MEM_BUF 0x0d /* Host Memory Buffer */
#define VFN_NVME_FEAT_TIMESTAMP 0x0e
#define VFN_NVME_FEAT_KEEP_ALIVE 0x0f	 /* Keep Alive Timer */
#define VFN_NVME_FEAT_HCTM 0x10		 /* Host Controlled Thermal Management */
#define VFN_NVME_FEAT_NOPSC 0x11	 /* Non-Operational Power State Config */
#define VFN_NVME_FEAT_HOST_BEHAVIOR 0x16 /* Host Behavior Support */
#define VFN_NVME_FEAT_IOCS_PROFILE 0x19	 /* I/O Command Set Profile: DW11 bits 8:0 = vector index (CNS 1Ch) */
#define VFN_NVME_FEAT_WRITE_PROTECT 0x84 /* Namespace Write Protection Config */

/* Get Features CDW10.SEL (bits 10:8). */
#define VFN_NVME_FEAT_SEL_SHIFT 8
#define VFN_NVME_FEAT_SEL_CURRENT 0u
#define VFN_NVME_FEAT_SEL_DEFAULT 1u
#define VFN_NVME_FEAT_SEL_SAVED 2u
#define VFN_NVME_FEAT_SEL_SUPPORTED 3u /* supported capabilities, in DW0 */
/* Set Features CDW10.SV (bit 31): save across resets. */
#define VFN_NVME_FEAT_SV (1u << 31)
/* Supported capabilities (SEL 3) DW0 bits. */
#define VFN_NVME_FEAT_CAP_SAVEABLE (1u << 0)
#define VFN_NVME_FEAT_CAP_NS_SPECIFIC (1u << 1)
#define VFN_NVME_FEAT_CAP_CHANGEABLE (1u << 2)

/* ---- Command fields of the management commands --------------------------- */

/* Namespace Management CDW10.SEL, Namespace Attachment CDW10.SEL. */
#define VFN_NVME_NS_MGMT_CREATE 0x0u
#define VFN_NVME_NS_MGMT_DELETE 0x1u
#define VFN_NVME_NS_ATTACH 0x0u
#define VFN_NVME_NS_DETACH 0x1u

/* Format NVM CDW10: LBAF 3:0 (+ 13:12 high bits), MSET 4, PI 7:5, PIL 8, SES 11:9. */
#define VFN_NVME_FORMAT_MSET (1u << 4)
#define VFN_NVME_FORMAT_PI_SHIFT 5
#define VFN_NVME_FORMAT_PIL (1u << 8)
#define VFN_NVME_FORMAT_SES_SHIFT 9
#define VFN_NVME_FORMAT_SES_NONE 0u
#define VFN_NVME_FORMAT_SES_USER_DATA 1u
#define VFN_NVME_FORMAT_SES_CRYPTO 2u

/* Firmware Commit CDW10: FS 2:0, CA 5:3, BPID 31. */
#define VFN_NVME_FW_COMMIT_CA_SHIFT 3
#define VFN_NVME_FW_COMMIT_CA_REPLACE 0u	  /* download to slot, not activated */
#define VFN_NVME_FW_COMMIT_CA_REPLACE_ACTIVATE 1u /* download to slot, activated at next reset */
#define VFN_NVME_FW_COMMIT_CA_ACTIVATE 2u	  /* slot's image activated at next reset */
#define VFN_NVME_FW_COMMIT_CA_ACTIVATE_NOW 3u	  /* activated now, no reset */
#define VFN_NVME_FW_COMMIT_CA_REPLACE_BOOT 6u	  /* boot partition */
#define VFN_NVME_FW_COMMIT_CA_ACTIVATE_BOOT 7u

/* Device Self-test CDW10.STC. */
#define VFN_NVME_DST_SHORT 0x1u
#define VFN_NVME_DST_EXTENDED 0x2u
#define VFN_NVME_DST_VENDOR 0xeu
#define VFN_NVME_DST_ABORT 0xfu
/* Self-test result DSTS bits 3:0. */
#define VFN_NVME_DST_RES_OK 0x0u
#define VFN_NVME_DST_RES_ABORTED 0x1u /* by a Device Self-test command */
#define VFN_NVME_DST_RES_RESET 0x2u   /* by a controller reset */
#define VFN_NVME_DST_RES_NS_REMOVED 0x3u
#define VFN_NVME_DST_RES_FORMAT 0x4u /* by a Format NVM command */
#define VFN_NVME_DST_RES_FATAL 0x5u
#define VFN_NVME_DST_RES_UNKNOWN_SEG 0x6u
#define VFN_NVME_DST_RES_SEG_FAILED 0x7u
#define VFN_NVME_DST_RES_UNUSED 0xfu /* entry does not hold a result */

/* Sanitize CDW10: SANACT 2:0, AUSE 3, OWPASS 7:4, OIPBP 8, NDAS 9. */
#define VFN_NVME_SANACT_EXIT_FAILURE 0x1u
#define VFN_NVME_SANACT_BLOCK_ERASE 0x2u
#define VFN_NVME_SANACT_OVERWRITE 0x3u
#define VFN_NVME_SANACT_CRYPTO_ERASE 0x4u
#define VFN_NVME_SANITIZE_AUSE (1u << 3)
#define VFN_NVME_SANITIZE_OWPASS_SHIFT 4
#define VFN_NVME_SANITIZE_OIPBP (1u << 8)
#define VFN_NVME_SANITIZE_NDAS (1u << 9)
/* Sanitize Status log SSTAT bits 2:0. */
#define VFN_NVME_SSTAT_NEVER 0x0u
#define VFN_NVME_SSTAT_COMPLETED 0x1u
#define VFN_NVME_SSTAT_IN_PROGRESS 0x2u
#define VFN_NVME_SSTAT_FAILED 0x3u
#define VFN_NVME_SSTAT_COMPLETED_NDI 0x4u
#define VFN_NVME_SSTAT_GLOBAL_ERASED (1u << 8)

/* Namespace Identification Descriptor types (NIDT). */
#define VFN_NVME_NIDT_EUI64 0x1
#define VFN_NVME_NIDT_NGUID 0x2
#define VFN_NVME_NIDT_UUID 0x3
#define VFN_NVME_NIDT_CSI 0x4

/* Identify Controller OACS bits. */
#define VFN_NVME_OACS_SECURITY (1u << 0)
#define VFN_NVME_OACS_FORMAT (1u << 1)
#define VFN_NVME_OACS_FW (1u << 2)
#define VFN_NVME_OACS_NS_MGMT (1u << 3)
#define VFN_NVME_OACS_SELF_TEST (1u << 4)
#define VFN_NVME_OACS_DIRECTIVES (1u << 5)
#define VFN_NVME_OACS_VIRT_MGMT (1u << 7)
#define VFN_NVME_OACS_DBBUF (1u << 8)

/* ---- Status codes (SCT << 8 | SC) not in <vfn/nvme.h> -------------------- */

#define VFN_NVME_SC_SANITIZE_FAILED 0x01c
#define VFN_NVME_SC_SANITIZE_IN_PROGRESS 0x01d
#define VFN_NVME_SC_NS_WRITE_PROTECTED 0x020
#define VFN_NVME_SC_FORMAT_IN_PROGRESS 0x084
#define VFN_NVME_SC_INVALID_FW_SLOT 0x106
#define VFN_NVME_SC_INVALID_FW_IMAGE 0x107
#define VFN_NVME_SC_INVALID_FORMAT 0x10a
#define VFN_NVME_SC_FW_NEEDS_CONV_RESET 0x10b
#define VFN_NVME_SC_FW_NEEDS_SUBSYS_RESET 0x110
#define VFN_NVME_SC_FW_NEEDS_RESET 0x111
#define VFN_NVME_SC_FW_NEEDS_MAX_TIME 0x112
#define VFN_NVME_SC_FW_ACTIVATE_PROHIBITED 0x113
#define VFN_NVME_SC_OVERLAPPING_RANGE 0x114
#define VFN_NVME_SC_NS_INSUFFICIENT_CAP 0x115
#define VFN_NVME_SC_NS_ID_UNAVAILABLE 0x116
#define VFN_NVME_SC_NS_ALREADY_ATTACHED 0x118
#define VFN_NVME_SC_NS_IS_PRIVATE 0x119
#define VFN_NVME_SC_NS_NOT_ATTACHED 0x11a
#define VFN_NVME_SC_THIN_PROV_NOT_SUPP 0x11b
#define VFN_NVME_SC_CTRL_LIST_INVALID 0x11c
#define VFN_NVME_SC_SELF_TEST_IN_PROGRESS 0x11d
#define VFN_NVME_SC_INVALID_CTRL_ID 0x11f

/* ---- Identify Controller (CNS 01h) ------------------------------------- */

/* Power State Descriptor (32 bytes). */
struct vfn_nvme_id_psd {
	vfn_le16 mp; /* Maximum Power, 0.01 W (0.0001 W with MXPS) */
	uint8_t rsvd2;
	uint8_t flags; /* bit 0 MXPS, bit 1 NOPS */
	vfn_le32 enlat;
	vfn_le32 exlat;
	uint8_t rrt;
	uint8_t rrl;
	uint8_t rwt;
	uint8_t rwl;
	vfn_le16 idlp;
	uint8_t ips;
	uint8_t rsvd19;
	vfn_le16 actp;
	uint8_t apws; /* bits 2:0 APW, bits 7:6 APS */
	uint8_t rsvd23[9];
};

struct vfn_nvme_id_ctrl {
	vfn_le16 vid;
	vfn_le16 ssvid;
	char sn[20];
	char mn[40];
	char fr[8];
	uint8_t rab;
	uint8_t ieee[3];
	uint8_t cmic;
	uint8_t mdts;
	vfn_le16 cntlid;
	vfn_le32 ver;
	vfn_le32 rtd3r;
	vfn_le32 rtd3e;
	vfn_le32 oaes;
	vfn_le32 ctratt;
	vfn_le16 rrls;
	uint8_t rsvd102[9];
	uint8_t cntrltype;
	uint8_t fguid[16];
	vfn_le16 crdt1;
	vfn_le16 crdt2;
	vfn_le16 crdt3;
	uint8_t rsvd134[119];
	uint8_t nvmsr;
	uint8_t vwci;
	uint8_t mec;
	vfn_le16 oacs;
	uint8_t acl;
	uint8_t aerl;
	uint8_t frmw;
	uint8_t lpa;
	uint8_t elpe;
	uint8_t npss;
	uint8_t avscc;
	uint8_t apsta;
	vfn_le16 wctemp;
	vfn_le16 cctemp;
	vfn_le16 mtfa;
	vfn_le32 hmpre;
	vfn_le32 hmmin;
	uint8_t tnvmcap[16];
	uint8_t unvmcap[16];
	vfn_le32 rpmbs;
	vfn_le16 edstt;
	uint8_t dsto;
	uint8_t fwug;
	vfn_le16 kas;
	vfn_le16 hctma;
	vfn_le16 mntmt;
	vfn_le16 mxtmt;
	vfn_le32 sanicap;
	vfn_le32 hmminds;
	vfn_le16 hmmaxd;
	vfn_le16 nsetidmax;
	vfn_le16 endgidmax;
	uint8_t anatt;
	uint8_t anacap;
	vfn_le32 anagrpmax;
	vfn_le32 nanagrpid;
	vfn_le32 pels;
	vfn_le16 domainid;
	uint8_t rsvd358[10];
	uint8_t megcap[16];
	uint8_t rsvd384[128];
	uint8_t sqes;
	uint8_t cqes;
	vfn_le16 maxcmd;
	vfn_le32 nn;
	vfn_le16 oncs;
	vfn_le16 fuses;
	uint8_t fna;
	uint8_t vwc;
	vfn_le16 awun;
	vfn_le16 awupf;
	uint8_t icsvscc;
	uint8_t nwpc;
	vfn_le16 acwu;
	vfn_le16 ocfs;
	vfn_le32 sgls;
	vfn_le32 mnan;
	uint8_t maxdna[16];
	vfn_le32 maxcna;
	uint8_t rsvd564[204];
	char subnqn[256];
	uint8_t rsvd1024[768];
	vfn_le32 ioccsz;
	vfn_le32 iorcsz;
	vfn_le16 icdoff;
	uint8_t fcatt;
	uint8_t msdbd;
	vfn_le16 ofcs;
	uint8_t rsvd1806[242];
	struct vfn_nvme_id_psd psd[32];
	uint8_t vs[1024];
};

/* ---- Identify Namespace (CNS 00h, 11h; the Namespace Management create data) */

/* LBA Format: MS (metadata bytes), LBADS (2^n data bytes), RP bits 1:0. */
struct vfn_nvme_lbaf {
	vfn_le16 ms;
	uint8_t ds;
	uint8_t rp;
};

struct vfn_nvme_id_ns {
	vfn_le64 nsze;
	vfn_le64 ncap;
	vfn_le64 nuse;
	uint8_t nsfeat;
	uint8_t nlbaf; /* 0's based */
	uint8_t flbas; /* bits 3:0 + 6:5 format index, bit 4 MSET */
	uint8_t mc;
	uint8_t dpc;
	uint8_t dps;
	uint8_t nmic;
	uint8_t rescap;
	uint8_t fpi;
	uint8_t dlfeat;
	vfn_le16 nawun;
	vfn_le16 nawupf;
	vfn_le16 nacwu;
	vfn_le16 nabsn;
	vfn_le16 nabo;
	vfn_le16 nabspf;
	vfn_le16 noiob;
	uint8_t nvmcap[16];
	vfn_le16 npwg;
	vfn_le16 npwa;
	vfn_le16 npdg;
	vfn_le16 npda;
	vfn_le16 nows;
	vfn_le16 mssrl;
	vfn_le32 mcl;
	uint8_t msrc;
	uint8_t rsvd81;
	uint8_t nulbaf;
	uint8_t rsvd83[9];
	vfn_le32 anagrpid;
	uint8_t rsvd96[3];
	uint8_t nsattr;
	vfn_le16 nvmsetid;
	vfn_le16 endgid;
	uint8_t nguid[16];
	uint8_t eui64[8];
	struct vfn_nvme_lbaf lbaf[64];
	uint8_t rsvd384[3520];
	uint8_t vs[192];
};

/* FLBAS bit 4: metadata at the end of each block's data (extended LBA). */
#define VFN_NVME_FLBAS_MSET 0x10u

/* The LBA format index FLBAS selects (bits 3:0 low, bits 6:5 high). */
static inline unsigned int vfn_nvme_flbas_index(uint8_t flbas)
{
	return (flbas & 0xfu) | ((flbas >> 5) & 0x3u) << 4;
}

/* ---- NVM Command Set specific Identify (CNS 05h/06h, CSI 00h) ----------- */

struct vfn_nvme_id_ns_nvm {
	vfn_le64 lbstm;
	uint8_t pic;
	uint8_t rsvd9[3];
	vfn_le32 elbaf[64]; /* Extended LBA Format: bits 6:0 STS, 8:7 PIF */
	uint8_t rsvd268[3828];
};

struct vfn_nvme_id_ctrl_nvm {
	uint8_t vsl;
	uint8_t wzsl;
	uint8_t wusl;
	uint8_t dmrl;
	vfn_le32 dmrsl;
	vfn_le64 dmsl;
	uint8_t rsvd16[4080];
};

/* ---- Lists (CNS 02h, 07h, 10h, 1Ah; 12h, 13h); Changed Namespace List log */

struct vfn_nvme_ns_list {
	vfn_le32 nsid[1024]; /* increasing; ends at the first 0 */
};

struct vfn_nvme_ctrl_list {
	vfn_le16 num;
	vfn_le16 identifier[2047];
};

/* Namespace Identification Descriptor header (CNS 03h); NIDL bytes of NID follow. */
struct vfn_nvme_ns_id_desc {
	uint8_t nidt;
	uint8_t nidl;
	vfn_le16 rsvd2;
};

/* ---- SR-IOV: Virtualization Enhancements --------------------------------- */

/* Primary Controller Capabilities (CNS 14h). */
struct vfn_nvme_primary_ctrl_cap {
	vfn_le16 cntlid; /* the primary controller's id */
	vfn_le16 portid; /* its port */
	uint8_t crt;	 /* Controller Resource Types: VFN_NVME_CRT_* */
	uint8_t rsvd5[27];
	vfn_le32 vqfrt;	 /* VQ flexible resources total */
	vfn_le32 vqrfa;	 /* VQ flexible resources assigned to secondaries */
	vfn_le16 vqrfap; /* VQ flexible resources allocated to the primary */
	vfn_le16 vqprt;	 /* VQ private resources total */
	vfn_le16 vqfrsm; /* VQ flexible resources: most per secondary */
	vfn_le16 vqgran; /* VQ flexible resources: preferred granularity */
	uint8_t rsvd48[16];
	vfn_le32 vifrt;	 /* VI flexible resources total */
	vfn_le32 virfa;	 /* VI flexible resources assigned to secondaries */
	vfn_le16 virfap; /* VI flexible resources allocated to the primary */
	vfn_le16 viprt;	 /* VI private resources total */
	vfn_le16 vifrsm; /* VI flexible resources: most per secondary */
	vfn_le16 vigran; /* VI flexible resources: preferred granularity */
	uint8_t rsvd80[4016];
};

#define VFN_NVME_CRT_VQ (1u << 0) /* VQ resources supported */
#define VFN_NVME_CRT_VI (1u << 1) /* VI resources supported */

/* Secondary Controller Entry. */
struct vfn_nvme_secondary_ctrl {
	vfn_le16 scid; /* secondary controller id */
	vfn_le16 pcid; /* its primary controller's id */
	uint8_t scs;   /* Secondary Controller State: bit 0 online */
	uint8_t rsvd5[3];
	vfn_le16 vfn; /* virtual function number (1-based; 0: none) */
	vfn_le16 nvq; /* VQ flexible resources assigned */
	vfn_le16 nvi; /* VI flexible resources assigned */
	uint8_t rsvd14[18];
};

#define VFN_NVME_SCS_ONLINE (1u << 0)

/* Secondary Controller List (CNS 15h): the entries from CDW10.CNTID up. */
struct vfn_nvme_secondary_ctrl_list {
	uint8_t numid; /* entries that follow, 0..127 */
	uint8_t rsvd1[31];
	struct vfn_nvme_secondary_ctrl sc_entry[127];
};

/*
 * Virtualization Management (admin opcode VFN_NVME_ADMIN_VIRT_MGMT, 1Ch):
 * CDW10 bits 3:0 the action, bits 10:8 the resource type, bits 31:16 the
 * controller; CDW11 bits 15:0 the number of resources.  DW0 of the
 * completion: the number of resources modified.
 */
#define VFN_NVME_VIRT_MGMT_ACT_PRIMARY_FLEX 0x1	     /* Primary Controller Flexible Allocation */
#define VFN_NVME_VIRT_MGMT_ACT_SECONDARY_OFFLINE 0x7 /* Secondary Controller Offline */
#define VFN_NVME_VIRT_MGMT_ACT_SECONDARY_ASSIGN 0x8  /* Secondary Controller Assign */
#define VFN_NVME_VIRT_MGMT_ACT_SECONDARY_ONLINE 0x9  /* Secondary Controller Online */
#define VFN_NVME_VIRT_MGMT_RT_VQ 0x0		     /* Virtual Queue resources */
#define VFN_NVME_VIRT_MGMT_RT_VI 0x1		     /* Virtual Interrupt resources */

/* ---- Log pages ------------------------------------------------------------ */

/* Error Information (LID 01h), one 64-byte entry. */
struct vfn_nvme_error_log {
	vfn_le64 error_count;
	vfn_le16 sqid;
	vfn_le16 cmdid;
	vfn_le16 status_field; /* bit 0 phase tag, 15:1 status */
	vfn_le16 parm_error_location;
	vfn_le64 lba;
	vfn_le32 nsid;
	uint8_t vs;
	uint8_t trtype;
	uint8_t rsvd30[2];
	vfn_le64 cs;
	vfn_le16 trtype_spec_info;
	uint8_t rsvd42[22];
};

/* SMART / Health Information (LID 02h). */
struct vfn_nvme_smart_log {
	uint8_t critical_warning;
	uint8_t temperature[2]; /* Kelvin, little-endian */
	uint8_t avail_spare;
	uint8_t spare_thresh;
	uint8_t percent_used;
	uint8_t endu_grp_crit_warn_sumry;
	uint8_t rsvd7[25];
	uint8_t data_units_read[16]; /* thousands of 512-byte units, rounded up */
	uint8_t data_units_written[16];
	uint8_t host_reads[16];
	uint8_t host_writes[16];
	uint8_t ctrl_busy_time[16];
	uint8_t power_cycles[16];
	uint8_t power_on_hours[16];
	uint8_t unsafe_shutdowns[16];
	uint8_t media_errors[16];
	uint8_t num_err_log_entries[16];
	vfn_le32 warning_temp_time;
	vfn_le32 critical_comp_time;
	vfn_le16 temp_sensor[8];
	vfn_le32 thm_temp1_trans_count;
	vfn_le32 thm_temp2_trans_count;
	vfn_le32 thm_temp1_total_time;
	vfn_le32 thm_temp2_total_time;
	uint8_t rsvd232[280];
};

/* Firmware Slot Information (LID 03h). */
struct vfn_nvme_fw_slot_log {
	uint8_t afi; /* bits 2:0 active slot, 6:4 slot activated at next reset */
	uint8_t rsvd1[7];
	char frs[7][8]; /* revision in slot 1..7 */
	uint8_t rsvd64[448];
};

/* Changed Namespace List (LID 04h): as struct vfn_nvme_ns_list (nsid[0] 0xffffffff: more than 1024). */

/* Commands Supported and Effects (LID 05h). */
struct vfn_nvme_cmd_effects_log {
	vfn_le32 acs[256]; /* admin opcodes */
	vfn_le32 iocs[256];
	uint8_t rsvd2048[2048];
};

#define VFN_NVME_CMD_EFFECTS_CSUPP (1u << 0)
#define VFN_NVME_CMD_EFFECTS_LBCC (1u << 1)
#define VFN_NVME_CMD_EFFECTS_NCC (1u << 2)
#define VFN_NVME_CMD_EFFECTS_NIC (1u << 3)
#define VFN_NVME_CMD_EFFECTS_CCC (1u << 4)

/* Device Self-test result (28 bytes, unaligned 64-bit fields). */
struct __attribute__((packed)) vfn_nvme_st_result {
	uint8_t dsts; /* bits 3:0 result, 7:4 self-test code */
	uint8_t seg;
	uint8_t vdi; /* bit 0 NSIDV, 1 FLBAV, 2 SCTV, 3 SCV */
	uint8_t rsvd3;
	vfn_le64 poh;
	vfn_le32 nsid;
	vfn_le64 flba;
	uint8_t sct;
	uint8_t sc;
	uint8_t vs[2];
};

/* Device Self-test (LID 06h): newest result first. */
struct vfn_nvme_self_test_log {
	uint8_t current_operation; /* bits 3:0: the test running, 0 none */
	uint8_t completion;	   /* bits 6:0: percent done */
	uint8_t rsvd2[2];
	struct vfn_nvme_st_result result[20];
};

/* Sanitize Status (LID 81h). */
struct vfn_nvme_sanitize_log {
	vfn_le16 sprog; /* progress, n / 65536 */
	vfn_le16 sstat;
	vfn_le32 scdw10;
	vfn_le32 eto;
	vfn_le32 etbe;
	vfn_le32 etce;
	vfn_le32 etond;
	vfn_le32 etbend;
	vfn_le32 etcend;
	uint8_t rsvd32[480];
};

/* Telemetry Host-Initiated (LID 07h) / Controller-Initiated (08h): the 512-byte header; data areas follow. */
struct vfn_nvme_telemetry_log {
	uint8_t lpi; /* the log identifier, 07h or 08h */
	uint8_t rsvd1[4];
	uint8_t ieee[3];
	vfn_le16 dalb1; /* last 512-byte block of data area 1 (block 0 is this header) */
	vfn_le16 dalb2;
	vfn_le16 dalb3;
	uint8_t rsvd14[2];
	vfn_le32 dalb4;
	uint8_t rsvd20[361];
	uint8_t hostdgn;   /* host-initiated data generation number */
	uint8_t ctrlavail; /* controller-initiated data available */
	uint8_t ctrldgn;   /* controller-initiated data generation number */
	uint8_t rsnident[128];
};

/* Get Log Page LSP of the host-initiated telemetry log: create new data. */
#define VFN_NVME_TELEMETRY_LSP_CREATE 0x1u
#define VFN_NVME_TELEMETRY_BLOCK 512u

/* Persistent Event Log (LID 0Dh): Get Log Page LSP bits 1:0, the context action. */
#define VFN_NVME_PEL_READ 0x0	   /* read within the established context */
#define VFN_NVME_PEL_ESTABLISH 0x1 /* establish a context and read */
#define VFN_NVME_PEL_RELEASE 0x2   /* release the context */

/* Persistent Event Log header (512 bytes); events follow, each a struct vfn_nvme_pel_event and its data. */
struct __attribute__((packed)) vfn_nvme_pel_hdr {
	uint8_t lid; /* 0Dh */
	uint8_t rsvd1[3];
	vfn_le32 tnev; /* total number of events */
	vfn_le64 tll;  /* total log length in bytes, this header included */
	uint8_t lrv;   /* log revision */
	uint8_t rsvd17;
	vfn_le16 lhl; /* log header length */
	vfn_le64 ts;  /* timestamp */
	uint8_t poh[16];
	vfn_le64 pcc; /* power cycle count */
	vfn_le16 vid;
	vfn_le16 ssvid;
	char sn[20];
	char mn[40];
	char subnqn[256];
	vfn_le16 gen; /* generation number */
	vfn_le32 rci; /* reporting context information */
	uint8_t rsvd378[102];
	uint8_t seb[32]; /* supported events bitmap, bit n: event type n */
};

/* Persistent Event Log event header (24 bytes): EHL + 3 header bytes, then EL bytes (VSIL vendor bytes first). */
struct __attribute__((packed)) vfn_nvme_pel_event {
	uint8_t etype;
	uint8_t etype_rev;
	uint8_t ehl; /* event header length after byte 2 */
	uint8_t ehai;
	vfn_le16 cntlid;
	vfn_le64 ets; /* event timestamp */
	vfn_le16 pelpid;
	uint8_t rsvd16[4];
	vfn_le16 vsil; /* vendor specific information length */
	vfn_le16 el;   /* event length: vendor information + event data */
};

/* Persistent event types. */
#define VFN_NVME_PEL_SMART_SNAPSHOT 0x01
#define VFN_NVME_PEL_FW_COMMIT 0x02
#define VFN_NVME_PEL_TIMESTAMP_CHANGE 0x03
#define VFN_NVME_PEL_POWER_ON_RESET 0x04
#define VFN_NVME_PEL_HW_ERROR 0x05
#define VFN_NVME_PEL_CHANGE_NS 0x06
#define VFN_NVME_PEL_FORMAT_START 0x07
#define VFN_NVME_PEL_FORMAT_COMPLETION 0x08
#define VFN_NVME_PEL_SANITIZE_START 0x09
#define VFN_NVME_PEL_SANITIZE_COMPLETION 0x0a
#define VFN_NVME_PEL_SET_FEATURE 0x0b
#define VFN_NVME_PEL_TELEMETRY_CREATE 0x0c
#define VFN_NVME_PEL_THERMAL_EXCURSION 0x0d
#define VFN_NVME_PEL_VENDOR 0xde
#define VFN_NVME_PEL_TCG 0xdf

/*
 * Asymmetric Namespace Access log (LID 0Ch) header (16 bytes); NGRPS group
 * descriptors follow.  Packed: a group descriptor follows its NNSIDS 4-byte
 * ids, so it starts on any 4-byte boundary, not on an 8-byte one.
 */
struct __attribute__((packed)) vfn_nvme_ana_log {
	vfn_le64 chgcnt;
	vfn_le16 ngrps;
	uint8_t rsvd10[6];
};

/* ANA group descriptor (32 bytes), followed by NNSIDS namespace ids (vfn_le32 each). */
struct __attribute__((packed)) vfn_nvme_ana_group {
	vfn_le32 grpid;
	vfn_le32 nnsids;
	vfn_le64 chgcnt;
	uint8_t state; /* bits 3:0: VFN_NVME_ANA_* */
	uint8_t rsvd17[15];
};

/* ANA log LSP bit 0: Return Groups Only (no namespace ids). */
#define VFN_NVME_ANA_LSP_RGO 0x1
/* ANA states. */
#define VFN_NVME_ANA_OPTIMIZED 0x1
#define VFN_NVME_ANA_NON_OPTIMIZED 0x2
#define VFN_NVME_ANA_INACCESSIBLE 0x3
#define VFN_NVME_ANA_PERSISTENT_LOSS 0x4
#define VFN_NVME_ANA_CHANGE 0xf

/* Low / high 64 bits of a 128-bit little-endian counter. */
static inline uint64_t vfn_nvme_le128_lo(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline uint64_t vfn_nvme_le128_hi(const uint8_t *p)
{
	return vfn_nvme_le128_lo(p + 8);
}

/* Stores @v in a 128-bit little-endian counter (high 64 bits zero). */
static inline void vfn_nvme_le128_set(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 16; i++) {
		p[i] = (uint8_t)(i < 8 ? v : 0);
		v = i < 8 ? v >> 8 : 0;
	}
}

/* ---- Zoned Namespace Command Set (CSI 02h; NVMe ZNS Command Set 1.1) ------ */

/* I/O opcodes of the Zoned Namespace Command Set. */
#define VFN_NVME_CMD_ZONE_MGMT_SEND 0x79
#define VFN_NVME_CMD_ZONE_MGMT_RECV 0x7a
#define VFN_NVME_CMD_ZONE_APPEND 0x7d

/* Zone Send Action (Zone Management Send CDW13 bits 7:0). */
#define VFN_NVME_ZSA_CLOSE 0x01
#define VFN_NVME_ZSA_FINISH 0x02
#define VFN_NVME_ZSA_OPEN 0x03
#define VFN_NVME_ZSA_RESET 0x04
#define VFN_NVME_ZSA_OFFLINE 0x05
#define VFN_NVME_ZSA_SET_ZDE 0x10    /* Set Zone Descriptor Extension */
#define VFN_NVME_ZSA_FLUSH_ZRWA 0x11 /* Flush Explicit ZRWA Range (SLBA: the last LBA flushed) */
/* Zone Management Send CDW13 bit 8: Select All (SLBA ignored). */
#define VFN_NVME_ZSA_SELECT_ALL (1u << 8)
/* CDW13 bit 9, with Open Zone: Zone Random Write Area Allocation (ZRWAA). */
#define VFN_NVME_ZSA_ZRWAA (1u << 9)

/* Zone Receive Action (Zone Management Receive CDW13 bits 7:0). */
#define VFN_NVME_ZRA_REPORT 0x00	  /* Report Zones */
#define VFN_NVME_ZRA_EXTENDED_REPORT 0x01 /* Extended Report Zones (descriptor + extension) */
/* Reporting options (CDW13 bits 15:8): which zones are listed. */
#define VFN_NVME_ZRASF_SHIFT 8
#define VFN_NVME_ZRASF_ALL 0x00
#define VFN_NVME_ZRASF_EMPTY 0x01
#define VFN_NVME_ZRASF_IMP_OPEN 0x02
#define VFN_NVME_ZRASF_EXP_OPEN 0x03
#define VFN_NVME_ZRASF_CLOSED 0x04
#define VFN_NVME_ZRASF_FULL 0x05
#define VFN_NVME_ZRASF_READ_ONLY 0x06
#define VFN_NVME_ZRASF_OFFLINE 0x07
/* CDW13 bit 16, Partial Report: NRZONES counts the zones returned, not all that match. */
#define VFN_NVME_ZRA_PARTIAL (1u << 16)

/* Zone Type (descriptor ZT bits 3:0). */
#define VFN_NVME_ZT_SEQ_WRITE_REQUIRED 0x2

/* Zone State (descriptor ZS bits 7:4). */
#define VFN_NVME_ZS_SHIFT 4
#define VFN_NVME_ZS_EMPTY 0x1
#define VFN_NVME_ZS_IMP_OPEN 0x2
#define VFN_NVME_ZS_EXP_OPEN 0x3
#define VFN_NVME_ZS_CLOSED 0x4
#define VFN_NVME_ZS_READ_ONLY 0xd
#define VFN_NVME_ZS_FULL 0xe
#define VFN_NVME_ZS_OFFLINE 0xf

/* Zone Attributes (descriptor ZA). */
#define VFN_NVME_ZA_ZFC (1u << 0)   /* Zone Finished by Controller */
#define VFN_NVME_ZA_FZR (1u << 1)   /* Finish Zone Recommended */
#define VFN_NVME_ZA_RZR (1u << 2)   /* Reset Zone Recommended */
#define VFN_NVME_ZA_ZRWAV (1u << 3) /* Zone Random Write Area Valid */
#define VFN_NVME_ZA_ZDEV (1u << 7)  /* Zone Descriptor Extension Valid */

/* Zone status codes (SCT 1h, SC B6h-BFh). */
#define VFN_NVME_SC_ZONE_INVALID_OP 0x1b6	/* Invalid Zone Operation Request */
#define VFN_NVME_SC_ZONE_ZRWA_UNAVAILABLE 0x1b7 /* ZRWA Resources Unavailable */
#define VFN_NVME_SC_ZONE_BOUNDARY_ERROR 0x1b8
#define VFN_NVME_SC_ZONE_FULL 0x1b9
#define VFN_NVME_SC_ZONE_READ_ONLY 0x1ba
#define VFN_NVME_SC_ZONE_OFFLINE 0x1bb
#define VFN_NVME_SC_ZONE_INVALID_WRITE 0x1bc
#define VFN_NVME_SC_ZONE_TOO_MANY_ACTIVE 0x1bd
#define VFN_NVME_SC_ZONE_TOO_MANY_OPEN 0x1be
#define VFN_NVME_SC_ZONE_INVALID_TRANSITION 0x1bf

/* ZNS Identify Namespace ZOC / OZCS bits. */
#define VFN_NVME_ZOC_VZCAP (1u << 0)	       /* Variable Zone Capacity */
#define VFN_NVME_ZOC_ZAE (1u << 1)	       /* Zone Active Excursions */
#define VFN_NVME_OZCS_RAZB (1u << 0)	       /* Read Across Zone Boundaries */
#define VFN_NVME_OZCS_ZRWASUP (1u << 1)	       /* Zone Random Write Areas supported */
#define VFN_NVME_ZRWACAP_EXPFLUSHSUP (1u << 0) /* ZRWACAP: Flush Explicit ZRWA Range supported */

/* LBA Format Extension of the ZNS Identify Namespace (one per LBA format). */
struct vfn_nvme_zns_lbafe {
	vfn_le64 zsze; /* Zone Size, logical blocks */
	uint8_t zdes;  /* Zone Descriptor Extension Size, 64-byte units */
	uint8_t rsvd9[7];
};

/* I/O Command Set specific Identify Namespace for CSI 02h (CNS 05h). */
struct vfn_nvme_id_ns_zns {
	vfn_le16 zoc;  /* Zone Operation Characteristics */
	vfn_le16 ozcs; /* Optional Zoned Command Support */
	vfn_le32 mar;  /* Maximum Active Resources, 0's based; 0xffffffff: no limit */
	vfn_le32 mor;  /* Maximum Open Resources, 0's based; 0xffffffff: no limit */
	vfn_le32 rrl;  /* Reset Recommended Limit, seconds */
	vfn_le32 frl;  /* Finish Recommended Limit, seconds */
	vfn_le32 rrl1, rrl2, rrl3;
	vfn_le32 frl1, frl2, frl3;
	vfn_le32 numzrwa; /* Number of ZRWA Resources, 0's based */
	vfn_le16 zrwafg;  /* ZRWA Flush Granularity, logical blocks */
	vfn_le16 zrwasz;  /* ZRWA Size, logical blocks */
	uint8_t zrwacap;  /* ZRWA Capability */
	uint8_t rsvd53[2763];
	struct vfn_nvme_zns_lbafe lbafe[64];
	uint8_t vs[256];
};

/* I/O Command Set specific Identify Controller for CSI 02h (CNS 06h). */
struct vfn_nvme_id_ctrl_zns {
	uint8_t zasl; /* Zone Append Size Limit: 2 ^ zasl minimum pages; 0: MDTS */
	uint8_t rsvd1[4095];
};

/* Zone Descriptor (64 bytes; an extension of ZDES x 64 bytes follows it in an extended report). */
struct vfn_nvme_zone_desc {
	uint8_t zt;  /* Zone Type, bits 3:0 */
	uint8_t zs;  /* Zone State, bits 7:4 */
	uint8_t za;  /* Zone Attributes */
	uint8_t zai; /* Zone Attributes Information */
	uint8_t rsvd4[4];
	vfn_le64 zcap;	/* Zone Capacity, logical blocks */
	vfn_le64 zslba; /* Zone Start LBA */
	vfn_le64 wp;	/* Write Pointer */
	uint8_t rsvd32[32];
};

/* Report Zones data header; the descriptors follow it. */
struct vfn_nvme_zone_report {
	vfn_le64 nr_zones; /* NRZONES */
	uint8_t rsvd8[56];
};

/* The zone state of descriptor @d (VFN_NVME_ZS_*). */
static inline unsigned int vfn_nvme_zone_state(const struct vfn_nvme_zone_desc *d)
{
	return d->zs >> VFN_NVME_ZS_SHIFT;
}

/* ---- Layout checks --------------------------------------------------------- */

/* clang-format off */
#ifdef __cplusplus
#define VFN_SPEC_ASSERT(cond, what) static_assert(cond, what)
#else
#define VFN_SPEC_ASSERT(cond, what) _Static_assert(cond, what)
#endif
#define VFN_SPEC_OFFSET(type, field, off) \
	VFN_SPEC_ASSERT(offsetof(struct type, field) == (off), #type "." #field " at " #off)
#define VFN_SPEC_SIZE(type, size) VFN_SPEC_ASSERT(sizeof(struct type) == (size), #type " is " #size " bytes")
/* clang-format on */

VFN_SPEC_SIZE(vfn_nvme_id_psd, 32);
VFN_SPEC_OFFSET(vfn_nvme_id_psd, actp, 20);
VFN_SPEC_SIZE(vfn_nvme_id_ctrl, 4096);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, sn, 4);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, mn, 24);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, fr, 64);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, mdts, 77);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, cntlid, 78);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, ver, 80);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, rtd3e, 88);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, cntrltype, 111);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, crdt1, 128);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, nvmsr, 253);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, oacs, 256);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, frmw, 260);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, elpe, 262);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, wctemp, 266);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, tnvmcap, 280);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, unvmcap, 296);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, fwug, 319);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, sanicap, 328);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, pels, 352);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, megcap, 368);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, sqes, 512);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, nn, 516);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, oncs, 520);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, vwc, 525);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, sgls, 536);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, mnan, 540);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, maxcna, 560);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, subnqn, 768);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, ioccsz, 1792);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, psd, 2048);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl, vs, 3072);
VFN_SPEC_SIZE(vfn_nvme_lbaf, 4);
VFN_SPEC_SIZE(vfn_nvme_id_ns, 4096);
VFN_SPEC_OFFSET(vfn_nvme_id_ns, nuse, 16);
VFN_SPEC_OFFSET(vfn_nvme_id_ns, nlbaf, 25);
VFN_SPEC_OFFSET(vfn_nvme_id_ns, flbas, 26);
VFN_SPEC_OFFSET(vfn_nvme_id_ns, dps, 29);
VFN_SPEC_OFFSET(vfn_nvme_id_ns, dlfeat, 33);
VFN_SPEC_OFFSET(vfn_nvme_id_ns, nvmcap, 48);
VFN_SPEC_OFFSET(vfn_nvme_id_ns, mcl, 76);
VFN_SPEC_OFFSET(vfn_nvme_id_ns, anagrpid, 92);
VFN_SPEC_OFFSET(vfn_nvme_id_ns, nvmsetid, 100);
VFN_SPEC_OFFSET(vfn_nvme_id_ns, nguid, 104);
VFN_SPEC_OFFSET(vfn_nvme_id_ns, eui64, 120);
VFN_SPEC_OFFSET(vfn_nvme_id_ns, lbaf, 128);
VFN_SPEC_OFFSET(vfn_nvme_id_ns, vs, 3904);
VFN_SPEC_SIZE(vfn_nvme_id_ns_nvm, 4096);
VFN_SPEC_OFFSET(vfn_nvme_id_ns_nvm, pic, 8);
VFN_SPEC_OFFSET(vfn_nvme_id_ns_nvm, elbaf, 12);
VFN_SPEC_SIZE(vfn_nvme_id_ctrl_nvm, 4096);
VFN_SPEC_OFFSET(vfn_nvme_id_ctrl_nvm, dmsl, 8);
VFN_SPEC_SIZE(vfn_nvme_ns_list, 4096);
VFN_SPEC_SIZE(vfn_nvme_ctrl_list, 4096);
VFN_SPEC_SIZE(vfn_nvme_ns_id_desc, 4);
VFN_SPEC_SIZE(vfn_nvme_error_log, 64);
VFN_SPEC_OFFSET(vfn_nvme_error_log, lba, 16);
VFN_SPEC_OFFSET(vfn_nvme_error_log, nsid, 24);
VFN_SPEC_OFFSET(vfn_nvme_error_log, cs, 32);
VFN_SPEC_OFFSET(vfn_nvme_error_log, trtype_spec_info, 40);
VFN_SPEC_SIZE(vfn_nvme_smart_log, 512);
VFN_SPEC_OFFSET(vfn_nvme_smart_log, avail_spare, 3);
VFN_SPEC_OFFSET(vfn_nvme_smart_log, data_units_read, 32);
VFN_SPEC_OFFSET(vfn_nvme_smart_log, host_writes, 80);
VFN_SPEC_OFFSET(vfn_nvme_smart_log, power_on_hours, 128);
VFN_SPEC_OFFSET(vfn_nvme_smart_log, num_err_log_entries, 176);
VFN_SPEC_OFFSET(vfn_nvme_smart_log, warning_temp_time, 192);
VFN_SPEC_OFFSET(vfn_nvme_smart_log, temp_sensor, 200);
VFN_SPEC_OFFSET(vfn_nvme_smart_log, thm_temp2_total_time, 228);
VFN_SPEC_SIZE(vfn_nvme_fw_slot_log, 512);
VFN_SPEC_OFFSET(vfn_nvme_fw_slot_log, frs, 8);
VFN_SPEC_SIZE(vfn_nvme_cmd_effects_log, 4096);
VFN_SPEC_OFFSET(vfn_nvme_cmd_effects_log, iocs, 1024);
VFN_SPEC_SIZE(vfn_nvme_st_result, 28);
VFN_SPEC_OFFSET(vfn_nvme_st_result, poh, 4);
VFN_SPEC_OFFSET(vfn_nvme_st_result, nsid, 12);
VFN_SPEC_OFFSET(vfn_nvme_st_result, flba, 16);
VFN_SPEC_OFFSET(vfn_nvme_st_result, sct, 24);
VFN_SPEC_SIZE(vfn_nvme_self_test_log, 564);
VFN_SPEC_OFFSET(vfn_nvme_self_test_log, result, 4);
VFN_SPEC_SIZE(vfn_nvme_telemetry_log, 512);
VFN_SPEC_OFFSET(vfn_nvme_telemetry_log, dalb1, 8);
VFN_SPEC_OFFSET(vfn_nvme_telemetry_log, dalb4, 16);
VFN_SPEC_OFFSET(vfn_nvme_telemetry_log, hostdgn, 381);
VFN_SPEC_OFFSET(vfn_nvme_telemetry_log, rsnident, 384);
VFN_SPEC_SIZE(vfn_nvme_sanitize_log, 512);
VFN_SPEC_OFFSET(vfn_nvme_sanitize_log, scdw10, 4);
VFN_SPEC_OFFSET(vfn_nvme_sanitize_log, etcend, 28);
VFN_SPEC_SIZE(vfn_nvme_primary_ctrl_cap, 4096);
VFN_SPEC_OFFSET(vfn_nvme_primary_ctrl_cap, crt, 4);
VFN_SPEC_OFFSET(vfn_nvme_primary_ctrl_cap, vqfrt, 32);
VFN_SPEC_OFFSET(vfn_nvme_primary_ctrl_cap, vqrfap, 40);
VFN_SPEC_OFFSET(vfn_nvme_primary_ctrl_cap, vqgran, 46);
VFN_SPEC_OFFSET(vfn_nvme_primary_ctrl_cap, vifrt, 64);
VFN_SPEC_OFFSET(vfn_nvme_primary_ctrl_cap, virfap, 72);
VFN_SPEC_OFFSET(vfn_nvme_primary_ctrl_cap, vigran, 78);
VFN_SPEC_SIZE(vfn_nvme_secondary_ctrl, 32);
VFN_SPEC_OFFSET(vfn_nvme_secondary_ctrl, scs, 4);
VFN_SPEC_OFFSET(vfn_nvme_secondary_ctrl, vfn, 8);
VFN_SPEC_OFFSET(vfn_nvme_secondary_ctrl, nvi, 12);
VFN_SPEC_SIZE(vfn_nvme_secondary_ctrl_list, 4096);
VFN_SPEC_OFFSET(vfn_nvme_secondary_ctrl_list, sc_entry, 32);
VFN_SPEC_SIZE(vfn_nvme_pel_hdr, 512);
VFN_SPEC_OFFSET(vfn_nvme_pel_hdr, tnev, 4);
VFN_SPEC_OFFSET(vfn_nvme_pel_hdr, tll, 8);
VFN_SPEC_OFFSET(vfn_nvme_pel_hdr, lhl, 18);
VFN_SPEC_OFFSET(vfn_nvme_pel_hdr, poh, 28);
VFN_SPEC_OFFSET(vfn_nvme_pel_hdr, pcc, 44);
VFN_SPEC_OFFSET(vfn_nvme_pel_hdr, sn, 56);
VFN_SPEC_OFFSET(vfn_nvme_pel_hdr, subnqn, 116);
VFN_SPEC_OFFSET(vfn_nvme_pel_hdr, gen, 372);
VFN_SPEC_OFFSET(vfn_nvme_pel_hdr, rci, 374);
VFN_SPEC_OFFSET(vfn_nvme_pel_hdr, seb, 480);
VFN_SPEC_SIZE(vfn_nvme_pel_event, 24);
VFN_SPEC_OFFSET(vfn_nvme_pel_event, ets, 6);
VFN_SPEC_OFFSET(vfn_nvme_pel_event, pelpid, 14);
VFN_SPEC_OFFSET(vfn_nvme_pel_event, vsil, 20);
VFN_SPEC_OFFSET(vfn_nvme_pel_event, el, 22);
VFN_SPEC_SIZE(vfn_nvme_ana_log, 16);
VFN_SPEC_SIZE(vfn_nvme_ana_group, 32);
VFN_SPEC_OFFSET(vfn_nvme_ana_group, chgcnt, 8);
VFN_SPEC_OFFSET(vfn_nvme_ana_group, state, 16);
VFN_SPEC_SIZE(vfn_nvme_zns_lbafe, 16);
VFN_SPEC_SIZE(vfn_nvme_id_ns_zns, 4096);
VFN_SPEC_OFFSET(vfn_nvme_id_ns_zns, mar, 4);
VFN_SPEC_OFFSET(vfn_nvme_id_ns_zns, mor, 8);
VFN_SPEC_OFFSET(vfn_nvme_id_ns_zns, frl, 16);
VFN_SPEC_OFFSET(vfn_nvme_id_ns_zns, numzrwa, 44);
VFN_SPEC_OFFSET(vfn_nvme_id_ns_zns, zrwacap, 52);
VFN_SPEC_OFFSET(vfn_nvme_id_ns_zns, lbafe, 2816);
VFN_SPEC_OFFSET(vfn_nvme_id_ns_zns, vs, 3840);
VFN_SPEC_SIZE(vfn_nvme_id_ctrl_zns, 4096);
VFN_SPEC_SIZE(vfn_nvme_zone_desc, 64);
VFN_SPEC_OFFSET(vfn_nvme_zone_desc, zcap, 8);
VFN_SPEC_OFFSET(vfn_nvme_zone_desc, zslba, 16);
VFN_SPEC_OFFSET(vfn_nvme_zone_desc, wp, 24);
VFN_SPEC_SIZE(vfn_nvme_zone_report, 64);

#ifdef __cplusplus
}
#endif

#endif /* VFN_SPEC_H */
