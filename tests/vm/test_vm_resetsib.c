/* SPDX-License-Identifier: MIT */
/*
 * PCI hot reset with a sibling function open in the same process (meson
 * test reset-bus-sibling): two QEMU nvme functions of one multifunction
 * device behind a PCIe root port, both opened here as controllers.  A bus
 * reset of function 0 would also reset function 1 under its handle, so it
 * is refused (-EBUSY) before anything stops, and both still answer
 * Identify with their serials; once function 1 is closed the reset of
 * function 0 goes through and it answers Identify again.
 *   VFN_BDF    function 0 (bound to vfio-pci)
 *   VFN_BDF2   function 1 (bound to vfio-pci)
 *   VFN_SN, VFN_SN2  their serial numbers as QEMU was given them
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <vfn/vfn.h>

static const char *env_str(const char *name)
{
	const char *v = getenv(name);

	if (!v) {
		fprintf(stderr, "# %s is not set\n", name);
		fail();
	}
	return v;
}

/* Identify Controller now (not the cached copy): its serial must be @sn. */
static void check_sn(struct vfn_nvme_ctrl *ctrl, const char *sn)
{
	union {
		struct vfn_nvme_id_ctrl id;
		uint8_t raw[4096];
	} u;
	char got[sizeof(u.id.sn) + 1];
	size_t n = sizeof(u.id.sn);
	uint16_t status = 0xffff;

	memset(&u, 0, sizeof(u));
	assert_int_equal(vfn_nvme_identify(ctrl, VFN_NVME_CNS_CTRL, 0, &u, &status), 0);
	assert_int_equal(status, 0);
	memcpy(got, u.id.sn, n);
	while (n && got[n - 1] == ' ')
		n--;
	got[n] = '\0';
	fprintf(stderr, "# %s: Identify: sn '%s'\n", vfn_nvme_ctrl_get_info(ctrl)->sn, got);
	assert_string_equal(got, sn);
}

static void test_sibling(void **state)
{
	const char *sn = env_str("VFN_SN"), *sn2 = env_str("VFN_SN2");
	struct vfn_nvme_ctrl *a, *b;

	(void)state;
	vfn_log_set_level(VFN_LOG_ERR);
	assert_int_equal(vfn_nvme_ctrl_open(env_str("VFN_BDF"), NULL, &a), 0);
	assert_int_equal(vfn_nvme_ctrl_open(env_str("VFN_BDF2"), NULL, &b), 0);
	fprintf(stderr, "# %s and %s open (%s, %s)\n", getenv("VFN_BDF"), getenv("VFN_BDF2"),
		vfn_iommu_backend_name(vfn_nvme_ctrl_iommu(a)), vfn_iommu_backend_name(vfn_nvme_ctrl_iommu(b)));
	check_sn(a, sn);
	check_sn(b, sn2);

	/* Function 1 is open here: refused, nothing stopped. */
	assert_int_equal(vfn_nvme_ctrl_reset_bus(a), -EBUSY);
	check_sn(a, sn);
	check_sn(b, sn2);

	/* Closed: the reset goes through and function 0 comes back. */
	vfn_nvme_ctrl_close(b);
	assert_int_equal(vfn_nvme_ctrl_reset_bus(a), 0);
	check_sn(a, sn);
	vfn_nvme_ctrl_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sibling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
