/* SPDX-License-Identifier: MIT */
#include <vfn/spec.h>

#include "id-fields.h"

/* clang-format off: field tables, several entries to a line */
#define FIELD(type, member, kind, bits)                                                                \
	{                                                                                              \
#member, offsetof(struct type, member), sizeof(((struct type *)0)->member), kind, bits \
	}
#define C(member, kind) FIELD(vfn_nvme_id_ctrl, member, kind, NULL)
#define CB(member, kind) FIELD(vfn_nvme_id_ctrl, member, kind, member##_bits)
#define N(member, kind) FIELD(vfn_nvme_id_ns, member, kind, NULL)
#define NB(member, kind) FIELD(vfn_nvme_id_ns, member, kind, member##_bits)
/* clang-format on */

/* Bit ranges explained with -H (NVMe Base Specification 2.0, Identify). */
static const struct field_bits ver_bits[] = {
	{ 31, 16, "Major Version Number (MJR)" },
	{ 15, 8, "Minor Version Number (MNR)" },
	{ 7, 0, "Tertiary Version Number (TER)" },
	{ 0, 0, NULL },
};

static const struct field_bits cmic_bits[] = {
	{ 3, 3, "ANA Reporting" },
	{ 2, 2, "SR-IOV Virtual Function" },
	{ 1, 1, "May contain two or more controllers" },
	{ 0, 0, "May contain two or more ports" },
	{ 0, 0, NULL },
};

static const struct field_bits oacs_bits[] = {
	{ 10, 10, "Command and Feature Lockdown" },
	{ 9, 9, "Get LBA Status" },
	{ 8, 8, "Doorbell Buffer Config" },
	{ 7, 7, "Virtualization Management" },
	{ 6, 6, "NVMe-MI Send and Receive" },
	{ 5, 5, "Directives" },
	{ 4, 4, "Device Self-test" },
	{ 3, 3, "Namespace Management and Attachment" },
	{ 2, 2, "Firmware Commit and Image Download" },
	{ 1, 1, "Format NVM" },
	{ 0, 0, "Security Send and Receive" },
	{ 0, 0, NULL },
};

static const struct field_bits frmw_bits[] = {
	{ 4, 4, "Firmware Activation Without Reset" },
	{ 3, 1, "Number of Firmware Slots" },
	{ 0, 0, "First Firmware Slot Read Only" },
	{ 0, 0, NULL },
};

static const struct field_bits lpa_bits[] = {
	{ 4, 4, "Persistent Event Log" },
	{ 3, 3, "Telemetry Host-Initiated and Controller-Initiated Logs" },
	{ 2, 2, "Extended Data for Get Log Page" },
	{ 1, 1, "Commands Supported and Effects Log" },
	{ 0, 0, "SMART / Health Log per Namespace" },
	{ 0, 0, NULL },
};

static const struct field_bits sqes_bits[] = {
	{ 7, 4, "Maximum SQ Entry Size (2^n bytes)" },
	{ 3, 0, "Required SQ Entry Size (2^n bytes)" },
	{ 0, 0, NULL },
};

static const struct field_bits cqes_bits[] = {
	{ 7, 4, "Maximum CQ Entry Size (2^n bytes)" },
	{ 3, 0, "Required CQ Entry Size (2^n bytes)" },
	{ 0, 0, NULL },
};

static const struct field_bits oncs_bits[] = {
	{ 8, 8, "Copy" },
	{ 7, 7, "Verify" },
	{ 6, 6, "Timestamp" },
	{ 5, 5, "Reservations" },
	{ 4, 4, "Save and Select in Set/Get Features" },
	{ 3, 3, "Write Zeroes" },
	{ 2, 2, "Dataset Management" },
	{ 1, 1, "Write Uncorrectable" },
	{ 0, 0, "Compare" },
	{ 0, 0, NULL },
};

static const struct field_bits fuses_bits[] = {
	{ 0, 0, "Fused Compare and Write" },
	{ 0, 0, NULL },
};

static const struct field_bits fna_bits[] = {
	{ 2, 2, "Cryptographic Erase" },
	{ 1, 1, "Secure Erase applies to all namespaces" },
	{ 0, 0, "Format applies to all namespaces" },
	{ 0, 0, NULL },
};

static const struct field_bits vwc_bits[] = {
	{ 2, 1, "Flush with broadcast NSID (0: not reported, 2: no, 3: yes)" },
	{ 0, 0, "Volatile Write Cache Present" },
	{ 0, 0, NULL },
};

static const struct field_bits sgls_bits[] = {
	{ 21, 21, "Transport SGL Data Block" },
	{ 20, 20, "Offset in SGL addresses" },
	{ 19, 19, "MPTR with a single SGL descriptor (metadata SGLs)" },
	{ 18, 18, "SGL longer than the data transferred" },
	{ 17, 17, "Byte-aligned contiguous physical buffer of metadata" },
	{ 16, 16, "SGL Bit Bucket descriptor" },
	{ 15, 8, "SGL Descriptor Threshold" },
	{ 2, 2, "Keyed SGL Data Block descriptor" },
	{ 1, 0, "SGL support (0: none, 1: byte aligned, 2: dword aligned)" },
	{ 0, 0, NULL },
};

/* clang-format off: field tables, several entries to a line */
const struct field id_ctrl_fields[] = {
	C(vid, FIELD_HEX),	 C(ssvid, FIELD_HEX),	C(sn, FIELD_STR),	C(mn, FIELD_STR),
	C(fr, FIELD_STR),	 C(rab, FIELD_DEC),	C(ieee, FIELD_HEX),	CB(cmic, FIELD_HEX),
	C(mdts, FIELD_DEC),	 C(cntlid, FIELD_HEX),	CB(ver, FIELD_HEX),	C(rtd3r, FIELD_HEX),
	C(rtd3e, FIELD_HEX),	 C(oaes, FIELD_HEX),	C(ctratt, FIELD_HEX),	C(rrls, FIELD_HEX),
	C(cntrltype, FIELD_DEC), C(fguid, FIELD_BYTES), C(crdt1, FIELD_DEC),	C(crdt2, FIELD_DEC),
	C(crdt3, FIELD_DEC),	 C(nvmsr, FIELD_DEC),	C(vwci, FIELD_DEC),	C(mec, FIELD_DEC),
	CB(oacs, FIELD_HEX),	 C(acl, FIELD_DEC),	C(aerl, FIELD_DEC),	CB(frmw, FIELD_HEX),
	CB(lpa, FIELD_HEX),	 C(elpe, FIELD_DEC),	C(npss, FIELD_DEC),	C(avscc, FIELD_HEX),
	C(apsta, FIELD_HEX),	 C(wctemp, FIELD_DEC),	C(cctemp, FIELD_DEC),	C(mtfa, FIELD_DEC),
	C(hmpre, FIELD_DEC),	 C(hmmin, FIELD_DEC),	C(tnvmcap, FIELD_BIG),	C(unvmcap, FIELD_BIG),
	C(rpmbs, FIELD_HEX),	 C(edstt, FIELD_DEC),	C(dsto, FIELD_DEC),	C(fwug, FIELD_DEC),
	C(kas, FIELD_DEC),	 C(hctma, FIELD_HEX),	C(mntmt, FIELD_DEC),	C(mxtmt, FIELD_DEC),
	C(sanicap, FIELD_HEX),	 C(hmminds, FIELD_DEC), C(hmmaxd, FIELD_DEC),	C(nsetidmax, FIELD_DEC),
	C(endgidmax, FIELD_DEC), C(anatt, FIELD_DEC),	C(anacap, FIELD_DEC),	C(anagrpmax, FIELD_DEC),
	C(nanagrpid, FIELD_DEC), C(pels, FIELD_DEC),	C(domainid, FIELD_DEC), C(megcap, FIELD_BIG),
	CB(sqes, FIELD_HEX),	 CB(cqes, FIELD_HEX),	C(maxcmd, FIELD_DEC),	C(nn, FIELD_DEC),
	CB(oncs, FIELD_HEX),	 CB(fuses, FIELD_HEX),	CB(fna, FIELD_HEX),	CB(vwc, FIELD_HEX),
	C(awun, FIELD_DEC),	 C(awupf, FIELD_DEC),	C(icsvscc, FIELD_DEC),	C(nwpc, FIELD_DEC),
	C(acwu, FIELD_DEC),	 C(ocfs, FIELD_HEX),	CB(sgls, FIELD_HEX),	C(mnan, FIELD_DEC),
	C(maxdna, FIELD_BIG),	 C(maxcna, FIELD_DEC),	C(subnqn, FIELD_STR),	C(ioccsz, FIELD_DEC),
	C(iorcsz, FIELD_DEC),	 C(icdoff, FIELD_DEC),	C(fcatt, FIELD_HEX),	C(msdbd, FIELD_DEC),
	C(ofcs, FIELD_DEC),
};
const size_t id_ctrl_nfields = sizeof(id_ctrl_fields) / sizeof(id_ctrl_fields[0]);
/* clang-format on */

static const struct field_bits nsfeat_bits[] = {
	{ 4, 4, "NPWG, NPWA, NPDG, NPDA and NOWS are valid" },
	{ 3, 3, "NGUID and EUI64 are never reused" },
	{ 2, 2, "Deallocated or Unwritten Logical Block error" },
	{ 1, 1, "NAWUN, NAWUPF and NACWU are valid" },
	{ 0, 0, "Thin Provisioning" },
	{ 0, 0, NULL },
};

static const struct field_bits flbas_bits[] = {
	{ 6, 5, "Format index, upper bits (when NLBAF > 16)" },
	{ 4, 4, "Metadata at the end of the data LBA (0: in a separate buffer)" },
	{ 3, 0, "Format index, lower bits" },
	{ 0, 0, NULL },
};

static const struct field_bits mc_bits[] = {
	{ 1, 1, "Metadata in a separate buffer supported" },
	{ 0, 0, "Metadata as part of an extended data LBA supported" },
	{ 0, 0, NULL },
};

static const struct field_bits dpc_bits[] = {
	{ 4, 4, "Protection information in the last bytes of metadata supported" },
	{ 3, 3, "Protection information in the first bytes of metadata supported" },
	{ 2, 2, "Protection Information Type 3 supported" },
	{ 1, 1, "Protection Information Type 2 supported" },
	{ 0, 0, "Protection Information Type 1 supported" },
	{ 0, 0, NULL },
};

static const struct field_bits dps_bits[] = {
	{ 3, 3, "Protection information in the first bytes of metadata" },
	{ 2, 0, "Protection Information Type (0: disabled)" },
	{ 0, 0, NULL },
};

/* clang-format off: field tables, several entries to a line */
const struct field id_ns_fields[] = {
	N(nsze, FIELD_HEX),	N(ncap, FIELD_HEX),   N(nuse, FIELD_HEX),     NB(nsfeat, FIELD_HEX),
	N(nlbaf, FIELD_DEC),	NB(flbas, FIELD_HEX), NB(mc, FIELD_HEX),      NB(dpc, FIELD_HEX),
	NB(dps, FIELD_HEX),	N(nmic, FIELD_DEC),   N(rescap, FIELD_HEX),   N(fpi, FIELD_HEX),
	N(dlfeat, FIELD_DEC),	N(nawun, FIELD_DEC),  N(nawupf, FIELD_DEC),   N(nacwu, FIELD_DEC),
	N(nabsn, FIELD_DEC),	N(nabo, FIELD_DEC),   N(nabspf, FIELD_DEC),   N(noiob, FIELD_DEC),
	N(nvmcap, FIELD_BIG),	N(npwg, FIELD_DEC),   N(npwa, FIELD_DEC),     N(npdg, FIELD_DEC),
	N(npda, FIELD_DEC),	N(nows, FIELD_DEC),   N(mssrl, FIELD_DEC),    N(mcl, FIELD_DEC),
	N(msrc, FIELD_DEC),	N(nulbaf, FIELD_DEC), N(anagrpid, FIELD_DEC), N(nsattr, FIELD_DEC),
	N(nvmsetid, FIELD_DEC), N(endgid, FIELD_DEC), N(nguid, FIELD_BYTES),  N(eui64, FIELD_BYTES),
};
const size_t id_ns_nfields = sizeof(id_ns_fields) / sizeof(id_ns_fields[0]);
/* clang-format on */
