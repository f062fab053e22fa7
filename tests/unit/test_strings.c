/* SPDX-License-Identifier: MIT */
/* Status and opcode names match the NVMe specification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <vfn/nvme.h>
#include <vfn/spec.h>

#define CRD_M_DNR 0x7800 /* CRD (12:11), M (13), DNR (14) */

static void test_generic_status(void **state)
{
	(void)state;
	assert_string_equal(vfn_nvme_status_str(VFN_NVME_SC_SUCCESS), "Successful Completion");
	assert_string_equal(vfn_nvme_status_str(VFN_NVME_SC_INVALID_OPCODE), "Invalid Command Opcode");
	assert_string_equal(vfn_nvme_status_str(VFN_NVME_SC_INVALID_FIELD), "Invalid Field in Command");
	assert_string_equal(vfn_nvme_status_str(VFN_NVME_SC_INVALID_NS), "Invalid Namespace or Format");
	assert_string_equal(vfn_nvme_status_str(VFN_NVME_SC_ABORT_QUEUE), "Command Aborted due to SQ Deletion");
	assert_string_equal(vfn_nvme_status_str(VFN_NVME_SC_INVALID_PRP_OFFSET), "PRP Offset Invalid");
	assert_string_equal(vfn_nvme_status_str(0x024), "Admin Command Media Not Ready");
	assert_string_equal(vfn_nvme_status_str(VFN_NVME_SC_LBA_RANGE), "LBA Out of Range");
	assert_string_equal(vfn_nvme_status_str(0x084), "Format In Progress");
}

static void test_command_specific_status(void **state)
{
	(void)state;
	assert_string_equal(vfn_nvme_status_str(VFN_NVME_SC_CQ_INVALID), "Completion Queue Invalid");
	assert_string_equal(vfn_nvme_status_str(VFN_NVME_SC_QID_INVALID), "Invalid Queue Identifier");
	assert_string_equal(vfn_nvme_status_str(VFN_NVME_SC_QUEUE_SIZE), "Invalid Queue Size");
	assert_string_equal(vfn_nvme_status_str(VFN_NVME_SC_INVALID_VECTOR), "Invalid Interrupt Vector");
	assert_string_equal(vfn_nvme_status_str(VFN_NVME_SC_INVALID_LOG_PAGE), "Invalid Log Page");
	assert_string_equal(vfn_nvme_status_str(VFN_NVME_SC_INVALID_QUEUE_DELETION), "Invalid Queue Deletion");
	assert_string_equal(vfn_nvme_status_str(VFN_NVME_SC_FEATURE_NOT_SAVEABLE), "Feature Identifier Not Saveable");
	assert_string_equal(vfn_nvme_status_str(0x12d), "Identifier Unavailable");
	assert_string_equal(vfn_nvme_status_str(0x180), "Conflicting Attributes");
	assert_string_equal(vfn_nvme_status_str(0x1b8), "Zone Boundary Error");
	assert_string_equal(vfn_nvme_status_str(0x1b9 | CRD_M_DNR), "Zone Is Full");
	assert_string_equal(vfn_nvme_status_str(0x1bc), "Zone Invalid Write");
	assert_string_equal(vfn_nvme_status_str(0x1bd), "Too Many Active Zones");
	assert_string_equal(vfn_nvme_status_str(0x1be), "Too Many Open Zones");
	assert_string_equal(vfn_nvme_status_str(0x1bf), "Invalid Zone State Transition");
	assert_string_equal(vfn_nvme_status_str(VFN_NVME_SC_ZONE_INVALID_OP), "Invalid Zone Operation Request");
	assert_string_equal(vfn_nvme_status_str(VFN_NVME_SC_ZONE_ZRWA_UNAVAILABLE), "ZRWA Resources Unavailable");
}

static void test_media_and_path_status(void **state)
{
	(void)state;
	assert_string_equal(vfn_nvme_status_str(VFN_NVME_SC_WRITE_FAULT), "Write Fault");
	assert_string_equal(vfn_nvme_status_str(VFN_NVME_SC_READ_ERROR), "Unrecovered Read Error");
	assert_string_equal(vfn_nvme_status_str(0x285), "Compare Failure");
	assert_string_equal(vfn_nvme_status_str(VFN_NVME_SC_UNWRITTEN_BLOCK), "Deallocated or Unwritten Logical Block");
	assert_string_equal(vfn_nvme_status_str(0x300), "Internal Path Error");
	assert_string_equal(vfn_nvme_status_str(0x371), "Command Aborted By Host");
	assert_string_equal(vfn_nvme_status_str(0x7c0), "Vendor Specific");
}

static void test_unknown_status(void **state)
{
	(void)state;
	assert_string_equal(vfn_nvme_status_str(0x0ff), "Unknown Status");
	assert_string_equal(vfn_nvme_status_str(0x025), "Unknown Status"); /* gap after 24h */
	assert_string_equal(vfn_nvme_status_str(0x104), "Unknown Status"); /* reserved */
	assert_string_equal(vfn_nvme_status_str(0x200), "Unknown Status");
	assert_string_equal(vfn_nvme_status_str(0x289), "Unknown Status");
	assert_string_equal(vfn_nvme_status_str(0x304), "Unknown Status");
	assert_string_equal(vfn_nvme_status_str(0x400), "Unknown Status"); /* SCT 4h reserved */
	assert_string_equal(vfn_nvme_status_str(0x6ff), "Unknown Status");
}

static void test_crd_more_dnr_ignored(void **state)
{
	struct vfn_nvme_cqe cqe = { 0 };

	(void)state;
	assert_string_equal(vfn_nvme_status_str(CRD_M_DNR | VFN_NVME_SC_INVALID_OPCODE), "Invalid Command Opcode");
	assert_string_equal(vfn_nvme_status_str(0x4000 | VFN_NVME_SC_SUCCESS), "Successful Completion");
	assert_string_equal(vfn_nvme_status_str(0x2000 | VFN_NVME_SC_READ_ERROR), "Unrecovered Read Error");
	assert_string_equal(vfn_nvme_status_str(0x0800 | VFN_NVME_SC_QID_INVALID), "Invalid Queue Identifier");
	assert_string_equal(vfn_nvme_status_str(CRD_M_DNR | 0x0ff), "Unknown Status");

	/* Straight from a CQE: DNR + Invalid Field, phase tag set. */
	cqe.sfp = vfn_cpu_to_le16((uint16_t)((0x4000 | VFN_NVME_SC_INVALID_FIELD) << 1 | 1));
	assert_string_equal(vfn_nvme_status_str(vfn_nvme_cqe_status(&cqe)), "Invalid Field in Command");
}

static void test_opcodes(void **state)
{
	(void)state;
	assert_string_equal(vfn_nvme_opcode_str(true, VFN_NVME_ADMIN_DELETE_SQ), "Delete I/O Submission Queue");
	assert_string_equal(vfn_nvme_opcode_str(true, VFN_NVME_ADMIN_CREATE_CQ), "Create I/O Completion Queue");
	assert_string_equal(vfn_nvme_opcode_str(true, VFN_NVME_ADMIN_IDENTIFY), "Identify");
	assert_string_equal(vfn_nvme_opcode_str(true, VFN_NVME_ADMIN_ASYNC_EVENT), "Asynchronous Event Request");
	assert_string_equal(vfn_nvme_opcode_str(true, VFN_NVME_ADMIN_DBBUF_CONFIG), "Doorbell Buffer Config");
	assert_string_equal(vfn_nvme_opcode_str(true, VFN_NVME_ADMIN_SANITIZE), "Sanitize");
	assert_string_equal(vfn_nvme_opcode_str(false, VFN_NVME_CMD_FLUSH), "Flush");
	assert_string_equal(vfn_nvme_opcode_str(false, VFN_NVME_CMD_READ), "Read");
	assert_string_equal(vfn_nvme_opcode_str(false, VFN_NVME_CMD_WRITE_ZEROES), "Write Zeroes");
	assert_string_equal(vfn_nvme_opcode_str(false, VFN_NVME_CMD_DSM), "Dataset Management");
	assert_string_equal(vfn_nvme_opcode_str(false, VFN_NVME_CMD_COPY), "Copy");

	assert_string_equal(vfn_nvme_opcode_str(true, 0x03), "Unknown");
	assert_string_equal(vfn_nvme_opcode_str(true, 0xff), "Unknown");
	assert_string_equal(vfn_nvme_opcode_str(false, VFN_NVME_ADMIN_IDENTIFY), "Unknown");
	assert_string_equal(vfn_nvme_opcode_str(false, 0x80), "Unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generic_status),	      cmocka_unit_test(test_command_specific_status),
		cmocka_unit_test(test_media_and_path_status), cmocka_unit_test(test_unknown_status),
		cmocka_unit_test(test_crd_more_dnr_ignored),  cmocka_unit_test(test_opcodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
