/* SPDX-License-Identifier: MIT */
/* Spec names of status codes and opcodes (NVMe Base and NVM Command Set). */
#include <vfn/nvme.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Generic Command Status (SCT 0h). */
static const char *const sc_generic[] = {
	[0x00] = "Successful Completion",
	[0x01] = "Invalid Command Opcode",
	[0x02] = "Invalid Field in Command",
	[0x03] = "Command ID Conflict",
	[0x04] = "Data Transfer Error",
	[0x05] = "Commands Aborted due to Power Loss Notification",
	[0x06] = "Internal Error",
	[0x07] = "Command Abort Requested",
	[0x08] = "Command Aborted due to SQ Deletion",
	[0x09] = "Command Aborted due to Failed Fused Command",
	[0x0a] = "Command Aborted due to Missing Fused Command",
	[0x0b] = "Invalid Namespace or Format",
	[0x0c] = "Command Sequence Error",
	[0x0d] = "Invalid SGL Segment Descriptor",
	[0x0e] = "Invalid Number of SGL Descriptors",
	[0x0f] = "Data SGL Length Invalid",
	[0x10] = "Metadata SGL Length Invalid",
	[0x11] = "SGL Descriptor Type Invalid",
	[0x12] = "Invalid Use of Controller Memory Buffer",
	[0x13] = "PRP Offset Invalid",
	[0x14] = "Atomic Write Unit Exceeded",
	[0x15] = "Operation Denied",
	[0x16] = "SGL Offset Invalid",
	[0x17] = "SGL Sub Type Invalid", /* NVMe 1.3; reserved since 1.4 */
	[0x18] = "Host Identifier Inconsistent Format",
	[0x19] = "Keep Alive Timer Expired",
	[0x1a] = "Keep Alive Timeout Invalid",
	[0x1b] = "Command Aborted due to Preempt and Abort",
	[0x1c] = "Sanitize Failed",
	[0x1d] = "Sanitize In Progress",
	[0x1e] = "SGL Data Block Granularity Invalid",
	[0x1f] = "Command Not Supported for Queue in CMB",
	[0x20] = "Namespace is Write Protected",
	[0x21] = "Command Interrupted",
	[0x22] = "Transient Transport Error",
	[0x23] = "Command Prohibited by Command and Feature Lockdown",
	[0x24] = "Admin Command Media Not Ready",
	/* NVM Command Set */
	[0x80] = "LBA Out of Range",
	[0x81] = "Capacity Exceeded",
	[0x82] = "Namespace Not Ready",
	[0x83] = "Reservation Conflict",
	[0x84] = "Format In Progress",
};

/* Command Specific Status (SCT 1h): admin commands, then NVM commands. */
static const char *const sc_cmd_specific[] = {
	[0x00] = "Completion Queue Invalid",
	[0x01] = "Invalid Queue Identifier",
	[0x02] = "Invalid Queue Size",
	[0x03] = "Abort Command Limit Exceeded",
	[0x05] = "Asynchronous Event Request Limit Exceeded",
	[0x06] = "Invalid Firmware Slot",
	[0x07] = "Invalid Firmware Image",
	[0x08] = "Invalid Interrupt Vector",
	[0x09] = "Invalid Log Page",
	[0x0a] = "Invalid Format",
	[0x0b] = "Firmware Activation Requires Conventional Reset",
	[0x0c] = "Invalid Queue Deletion",
	[0x0d] = "Feature Identifier Not Saveable",
	[0x0e] = "Feature Not Changeable",
	[0x0f] = "Feature Not Namespace Specific",
	[0x10] = "Firmware Activation Requires NVM Subsystem Reset",
	[0x11] = "Firmware Activation Requires Controller Level Reset",
	[0x12] = "Firmware Activation Requires Maximum Time Violation",
	[0x13] = "Firmware Activation Prohibited",
	[0x14] = "Overlapping Range",
	[0x15] = "Namespace Insufficient Capacity",
	[0x16] = "Namespace Identifier Unavailable",
	[0x18] = "Namespace Already Attached",
	[0x19] = "Namespace Is Private",
	[0x1a] = "Namespace Not Attached",
	[0x1b] = "Thin Provisioning Not Supported",
	[0x1c] = "Controller List Invalid",
	[0x1d] = "Device Self-test In Progress",
	[0x1e] = "Boot Partition Write Prohibited",
	[0x1f] = "Invalid Controller Identifier",
	[0x20] = "Invalid Secondary Controller State",
	[0x21] = "Invalid Number of Controller Resources",
	[0x22] = "Invalid Resource Identifier",
	[0x23] = "Sanitize Prohibited While Persistent Memory Region is Enabled",
	[0x24] = "ANA Group Identifier Invalid",
	[0x25] = "ANA Attach Failed",
	[0x26] = "Insufficient Capacity",
	[0x27] = "Namespace Attachment Limit Exceeded",
	[0x28] = "Prohibition of Command Execution Not Supported",
	[0x29] = "I/O Command Set Not Supported",
	[0x2a] = "I/O Command Set Not Enabled",
	[0x2b] = "I/O Command Set Combination Rejected",
	[0x2c] = "Invalid I/O Command Set",
	[0x2d] = "Identifier Unavailable",
	/* NVM Command Set */
	[0x80] = "Conflicting Attributes",
	[0x81] = "Invalid Protection Information",
	[0x82] = "Attempted Write to Read Only Range",
	[0x83] = "Command Size Limit Exceeded",
	/* Zoned Namespace Command Set */
	[0xb6] = "Invalid Zone Operation Request",
	[0xb7] = "ZRWA Resources Unavailable",
	[0xb8] = "Zone Boundary Error",
	[0xb9] = "Zone Is Full",
	[0xba] = "Zone Is Read Only",
	[0xbb] = "Zone Is Offline",
	[0xbc] = "Zone Invalid Write",
	[0xbd] = "Too Many Active Zones",
	[0xbe] = "Too Many Open Zones",
	[0xbf] = "Invalid Zone State Transition",
};

/* Media and Data Integrity Errors (SCT 2h). */
static const char *const sc_media[] = {
	[0x80] = "Write Fault",
	[0x81] = "Unrecovered Read Error",
	[0x82] = "End-to-end Guard Check Error",
	[0x83] = "End-to-end Application Tag Check Error",
	[0x84] = "End-to-end Reference Tag Check Error",
	[0x85] = "Compare Failure",
	[0x86] = "Access Denied",
	[0x87] = "Deallocated or Unwritten Logical Block",
	[0x88] = "End-to-End Storage Tag Check Error",
};

/* Path Related Status (SCT 3h). */
static const char *const sc_path[] = {
	[0x00] = "Internal Path Error",
	[0x01] = "Asymmetric Access Persistent Loss",
	[0x02] = "Asymmetric Access Inaccessible",
	[0x03] = "Asymmetric Access Transition",
	[0x60] = "Controller Pathing Error",
	[0x70] = "Host Pathing Error",
	[0x71] = "Command Aborted By Host",
};

static const char *const opc_admin[] = {
	[VFN_NVME_ADMIN_DELETE_SQ] = "Delete I/O Submission Queue",
	[VFN_NVME_ADMIN_CREATE_SQ] = "Create I/O Submission Queue",
	[VFN_NVME_ADMIN_GET_LOG_PAGE] = "Get Log Page",
	[VFN_NVME_ADMIN_DELETE_CQ] = "Delete I/O Completion Queue",
	[VFN_NVME_ADMIN_CREATE_CQ] = "Create I/O Completion Queue",
	[VFN_NVME_ADMIN_IDENTIFY] = "Identify",
	[VFN_NVME_ADMIN_ABORT] = "Abort",
	[VFN_NVME_ADMIN_SET_FEATURES] = "Set Features",
	[VFN_NVME_ADMIN_GET_FEATURES] = "Get Features",
	[VFN_NVME_ADMIN_ASYNC_EVENT] = "Asynchronous Event Request",
	[VFN_NVME_ADMIN_NS_MGMT] = "Namespace Management",
	[VFN_NVME_ADMIN_FW_COMMIT] = "Firmware Commit",
	[VFN_NVME_ADMIN_FW_DOWNLOAD] = "Firmware Image Download",
	[VFN_NVME_ADMIN_DEV_SELF_TEST] = "Device Self-test",
	[VFN_NVME_ADMIN_NS_ATTACH] = "Namespace Attachment",
	[VFN_NVME_ADMIN_KEEP_ALIVE] = "Keep Alive",
	[VFN_NVME_ADMIN_DIRECTIVE_SEND] = "Directive Send",
	[VFN_NVME_ADMIN_DIRECTIVE_RECV] = "Directive Receive",
	[VFN_NVME_ADMIN_VIRT_MGMT] = "Virtualization Management",
	[VFN_NVME_ADMIN_DBBUF_CONFIG] = "Doorbell Buffer Config",
	[VFN_NVME_ADMIN_FORMAT_NVM] = "Format NVM",
	[VFN_NVME_ADMIN_SECURITY_SEND] = "Security Send",
	[VFN_NVME_ADMIN_SECURITY_RECV] = "Security Receive",
	[VFN_NVME_ADMIN_SANITIZE] = "Sanitize",
};

static const char *const opc_nvm[] = {
	[VFN_NVME_CMD_FLUSH] = "Flush",
	[VFN_NVME_CMD_WRITE] = "Write",
	[VFN_NVME_CMD_READ] = "Read",
	[VFN_NVME_CMD_WRITE_UNCOR] = "Write Uncorrectable",
	[VFN_NVME_CMD_COMPARE] = "Compare",
	[VFN_NVME_CMD_WRITE_ZEROES] = "Write Zeroes",
	[VFN_NVME_CMD_DSM] = "Dataset Management",
	[VFN_NVME_CMD_VERIFY] = "Verify",
	[VFN_NVME_CMD_COPY] = "Copy",
	[0x79] = "Zone Management Send",
	[0x7a] = "Zone Management Receive",
	[0x7d] = "Zone Append",
};

static const char *lookup(const char *const *table, size_t n, unsigned int idx)
{
	return idx < n ? table[idx] : NULL;
}

const char *vfn_nvme_status_str(uint16_t status)
{
	unsigned int sc = vfn_nvme_status_sc(status);
	const char *name = NULL;

	switch (vfn_nvme_status_sct(status)) {
	case VFN_NVME_SCT_GENERIC:
		name = lookup(sc_generic, ARRAY_SIZE(sc_generic), sc);
		break;
	case VFN_NVME_SCT_CMD_SPECIFIC:
		name = lookup(sc_cmd_specific, ARRAY_SIZE(sc_cmd_specific), sc);
		break;
	case VFN_NVME_SCT_MEDIA:
		name = lookup(sc_media, ARRAY_SIZE(sc_media), sc);
		break;
	case VFN_NVME_SCT_PATH:
		name = lookup(sc_path, ARRAY_SIZE(sc_path), sc);
		break;
	case VFN_NVME_SCT_VENDOR:
		name = "Vendor Specific";
		break;
	}
	return name ? name : "Unknown Status";
}

const char *vfn_nvme_opcode_str(bool admin, uint8_t opcode)
{
	const char *name;

	if (admin)
		name = lookup(opc_admin, ARRAY_SIZE(opc_admin), opcode);
	else
		name = lookup(opc_nvm, ARRAY_SIZE(opc_nvm), opcode);
	return name ? name : "Unknown";
}
