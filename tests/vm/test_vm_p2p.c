/* SPDX-License-Identifier: MIT */
/*
 * CMB peer-to-peer against two QEMU controllers in the guest (meson test
 * cmb-p2p): controller A reads a block range into controller B's CMB
 * (vfn_nvme_cmb_p2p_map: B's BAR mapping in A's VFIO container, the guest
 * IOMMU translating A's DMA to B's BAR), B writes it out from its CMB to
 * another range, and B's read-back equals what A wrote.
 *   VFN_BDF   controller A (bound to vfio-pci)
 *   VFN_BDF2  controller B (bound to vfio-pci; cmb_size_mb; same drive)
 *   VFN_TEST_P2P_ERRNO  if set: the errno the mapping must fail with (an
 *             iommufd address space cannot map a VFIO BAR), and A must go on
 *             working afterwards
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

#define P2P_LEN (64 * 1024)
#define SLBA_A 2048 /* A's range, in blocks */
#define SLBA_B 4096 /* where B writes it */

static const char *env_str(const char *name)
{
	const char *v = getenv(name);

	if (!v) {
		fprintf(stderr, "# %s is not set\n", name);
		fail();
	}
	return v;
}

static void test_p2p(void **state)
{
	struct vfn_nvme_ctrl_opts bopts = { 0 };
	struct vfn_nvme_ctrl *a, *b;
	struct vfn_nvme_qpair *qa, *qb;
	struct vfn_nvme_ns_info nsa, nsb;
	struct vfn_nvme_cqe cqe;
	struct vfn_iommu *iob;
	uint8_t *pat, *back, *peer, copy[512];
	uint64_t iova = 0, addr, t, nlb;
	int ret;

	(void)state;
	vfn_log_set_level(VFN_LOG_ERR);
	assert_int_equal(vfn_nvme_ctrl_open(env_str("VFN_BDF"), NULL, &a), 0);
	/* B in its own address space (of the default kind): its own I/O on its CMB keeps the CMB address. */
	assert_int_equal(vfn_iommu_create_backend(VFN_IOMMU_AUTO, &iob), 0);
	bopts.iommu = iob;
	assert_int_equal(vfn_nvme_ctrl_open(env_str("VFN_BDF2"), &bopts, &b), 0);
	assert_ptr_not_equal(vfn_nvme_ctrl_iommu(a), vfn_nvme_ctrl_iommu(b));
	fprintf(stderr, "# A %s (%s), B %s (%s)\n", getenv("VFN_BDF"), vfn_iommu_backend_name(vfn_nvme_ctrl_iommu(a)),
		getenv("VFN_BDF2"), vfn_iommu_backend_name(vfn_nvme_ctrl_iommu(b)));
	assert_int_equal(vfn_nvme_ns_get_info(a, 1, &nsa), 0);
	assert_int_equal(vfn_nvme_ns_get_info(b, 1, &nsb), 0);
	assert_int_equal(nsa.lba_size, nsb.lba_size);
	nlb = P2P_LEN / nsa.lba_size;
	assert_int_equal(vfn_nvme_qpair_create(a, 1, NULL, &qa), 0);
	assert_int_equal(vfn_nvme_qpair_create(b, 1, NULL, &qb), 0);
	assert_true(vfn_dma_alloc(vfn_nvme_ctrl_iommu(a), P2P_LEN, (void **)&pat, &t) > 0);
	assert_true(vfn_dma_alloc(vfn_nvme_ctrl_iommu(b), P2P_LEN, (void **)&back, &t) > 0);

	/* A writes the pattern at SLBA_A; B's target range starts as zeroes. */
	for (size_t i = 0; i < P2P_LEN; i += 4) {
		uint32_t v = 0x9e3779b9u * (uint32_t)(i + 1);

		memcpy(pat + i, &v, 4);
	}
	assert_int_equal(vfn_nvme_write(qa, &nsa, SLBA_A, nlb, pat, NULL, &cqe), 0);
	memset(back, 0, P2P_LEN);
	assert_int_equal(vfn_nvme_write(qb, &nsb, SLBA_B, nlb, back, NULL, &cqe), 0);

	/* B's CMB, zeroed through its BAR mapping. */
	assert_int_equal(vfn_nvme_cmb_enable(b), 0);
	assert_int_equal(vfn_nvme_cmb_alloc(b, P2P_LEN, (void **)&peer, &addr), 0);
	memset(peer, 0, P2P_LEN);
	ret = vfn_nvme_cmb_p2p_map(a, b, &iova);
	fprintf(stderr, "# p2p map: %d; B's CMB at bus %#llx, iova %#llx for A\n", ret, (unsigned long long)addr,
		(unsigned long long)iova);
	if (getenv("VFN_TEST_P2P_ERRNO")) {
		assert_int_equal(ret, -atoi(getenv("VFN_TEST_P2P_ERRNO")));
		/* Refused cleanly: A's own I/O goes on. */
		memset(back, 0, P2P_LEN);
		assert_int_equal(vfn_nvme_read(qa, &nsa, SLBA_A, nlb, pat, NULL, &cqe), 0);
		fprintf(stderr, "# refused with errno %d as expected; A still reads\n", -ret);
		goto out;
	}
	assert_int_equal(ret, 0);

	/* A reads its range into B's CMB. */
	ret = vfn_nvme_read(qa, &nsa, SLBA_A, nlb, peer, NULL, &cqe);
	fprintf(stderr, "# A read into B's CMB: %d (status 0x%x)\n", ret, vfn_le16_to_cpu(cqe.sfp) >> 1);
	assert_int_equal(ret, 0);
	memcpy(copy, peer, sizeof(copy)); /* the first bytes, read back through B's BAR */
	assert_memory_equal(copy, pat, sizeof(copy));
	memcpy(copy, peer + P2P_LEN - sizeof(copy), sizeof(copy));
	assert_memory_equal(copy, pat + P2P_LEN - sizeof(copy), sizeof(copy));

	/* B writes it out from its CMB (by CMB address), then reads it back into host memory. */
	assert_int_equal(vfn_nvme_write(qb, &nsb, SLBA_B, nlb, peer, NULL, &cqe), 0);
	memset(back, 0, P2P_LEN);
	assert_int_equal(vfn_nvme_read(qb, &nsb, SLBA_B, nlb, back, NULL, &cqe), 0);
	assert_memory_equal(back, pat, P2P_LEN);
	fprintf(stderr, "# %d bytes: A -> B's CMB -> B's namespace, read back equal\n", P2P_LEN);

	assert_int_equal(vfn_nvme_cmb_p2p_unmap(a, b), 0);
out:
	vfn_nvme_cmb_free(b, peer);
	vfn_dma_free(vfn_nvme_ctrl_iommu(a), pat, P2P_LEN);
	vfn_dma_free(vfn_nvme_ctrl_iommu(b), back, P2P_LEN);
	vfn_nvme_qpair_destroy(qa);
	vfn_nvme_qpair_destroy(qb);
	vfn_nvme_ctrl_close(a);
	vfn_nvme_ctrl_close(b);
	vfn_iommu_put(iob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_p2p),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
