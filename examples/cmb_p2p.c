/* SPDX-License-Identifier: MIT */
/*
 * CMB peer-to-peer: controller A reads blocks into controller B's
 * Controller Memory Buffer, B writes them from there to its namespace; the
 * data never passes through host memory (docs/cmb.md "Peer-to-peer").
 *
 *   cmb_p2p DEV_A DEV_B [SLBA [NLB [DEST_SLBA]]]
 *
 * Both namespaces 1 must have the same block size.  To show the copy, A's
 * range is first written with a pattern from host memory, and B's range
 * is read back into host memory at the end and compared: exit 0 if equal.
 * Works on two simulators (e.g. sim: sim:cmb_mb=1) and on two vfio-pci
 * controllers with the type1 container (iommufd refuses BAR mappings).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vfn/vfn.h>

int main(int argc, char **argv)
{
	struct vfn_nvme_ctrl_opts bopts = { 0 };
	struct vfn_nvme_ctrl *a = NULL, *b = NULL;
	struct vfn_nvme_qpair *qa = NULL, *qb = NULL;
	struct vfn_nvme_ns_info nsa, nsb;
	struct vfn_iommu *iob = NULL;
	uint64_t slba, nlb, dslba, iova, addr, t;
	uint8_t *host = NULL, *peer = NULL;
	size_t len = 0;
	int ret = 0, rc = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: %s DEV_A DEV_B [SLBA [NLB [DEST_SLBA]]]\n", argv[0]);
		return 2;
	}
	slba = argc > 3 ? strtoull(argv[3], NULL, 0) : 0;
	nlb = argc > 4 ? strtoull(argv[4], NULL, 0) : 8;
	dslba = argc > 5 ? strtoull(argv[5], NULL, 0) : slba + nlb;
	/*
	 * B gets an address space of its own: its I/O on its CMB uses the CMB
	 * address (a simulator has its own software one already).
	 */
	if (strncmp(argv[2], "sim:", 4)) {
		ret = vfn_iommu_create_backend(VFN_IOMMU_AUTO, &iob);
		bopts.iommu = iob;
	}
	if (!ret)
		ret = vfn_nvme_ctrl_open(argv[1], NULL, &a);
	if (!ret)
		ret = vfn_nvme_ctrl_open(argv[2], bopts.iommu ? &bopts : NULL, &b);
	if (!ret)
		ret = vfn_nvme_ns_get_info(a, 1, &nsa);
	if (!ret)
		ret = vfn_nvme_ns_get_info(b, 1, &nsb);
	if (ret) {
		fprintf(stderr, "cmb_p2p: opening the controllers: %s\n", strerror(-ret));
		goto out;
	}
	if (nsa.lba_size != nsb.lba_size || !nlb) {
		fprintf(stderr, "cmb_p2p: block sizes differ (%u, %u) or NLB is 0\n", nsa.lba_size, nsb.lba_size);
		goto out;
	}
	len = (size_t)(nlb * nsa.lba_size);
	ret = vfn_nvme_qpair_create(a, 1, NULL, &qa);
	if (!ret)
		ret = vfn_nvme_qpair_create(b, 1, NULL, &qb);
	if (!ret)
		ret = vfn_nvme_cmb_enable(b);
	if (!ret)
		ret = vfn_nvme_cmb_alloc(b, len, (void **)&peer, &addr);
	if (!ret)
		ret = vfn_nvme_cmb_p2p_map(a, b, &iova);
	if (ret) {
		fprintf(stderr, "cmb_p2p: setting up B's CMB for A: %s\n", strerror(-ret));
		goto out;
	}
	if (vfn_dma_alloc(vfn_nvme_ctrl_iommu(a), len, (void **)&host, &t) < 0) {
		fprintf(stderr, "cmb_p2p: no host buffer\n");
		goto out;
	}
	for (size_t i = 0; i < len; i++)
		host[i] = (uint8_t)(i * 31 + 7);
	/* The copy: A's range into B's CMB, then from B's CMB to B's range. */
	ret = vfn_nvme_write(qa, &nsa, slba, nlb, host, NULL, NULL);
	if (!ret)
		ret = vfn_nvme_read(qa, &nsa, slba, nlb, peer, NULL, NULL);
	if (!ret)
		ret = vfn_nvme_write(qb, &nsb, dslba, nlb, peer, NULL, NULL);
	if (ret) {
		fprintf(stderr, "cmb_p2p: copy failed: %s\n", strerror(-ret));
		goto out;
	}
	printf("%zu bytes: %s LBA %llu -> %s's CMB (bus %#llx, iova %#llx for A) -> LBA %llu\n", len, argv[1],
	       (unsigned long long)slba, argv[2], (unsigned long long)addr, (unsigned long long)iova,
	       (unsigned long long)dslba);
	/* The check: B's range, read into host memory, equals the pattern. */
	vfn_dma_free(vfn_nvme_ctrl_iommu(a), host, len);
	host = NULL;
	if (vfn_dma_alloc(vfn_nvme_ctrl_iommu(b), len, (void **)&host, &t) < 0)
		goto out;
	memset(host, 0, len);
	ret = vfn_nvme_read(qb, &nsb, dslba, nlb, host, NULL, NULL);
	rc = 0;
	for (size_t i = 0; i < len && !ret; i++)
		if (host[i] != (uint8_t)(i * 31 + 7)) {
			fprintf(stderr, "cmb_p2p: byte %zu differs\n", i);
			rc = 1;
			break;
		}
	if (ret)
		rc = 1;
	printf("read back on %s: %s\n", argv[2], rc ? "DIFFERENT" : "equal");
	vfn_dma_free(vfn_nvme_ctrl_iommu(b), host, len);
	host = NULL;
out:
	if (host)
		vfn_dma_free(vfn_nvme_ctrl_iommu(a), host, len);
	if (a && b)
		vfn_nvme_cmb_p2p_unmap(a, b);
	if (peer)
		vfn_nvme_cmb_free(b, peer);
	vfn_nvme_qpair_destroy(qa);
	vfn_nvme_qpair_destroy(qb);
	vfn_nvme_ctrl_close(a);
	vfn_nvme_ctrl_close(b);
	if (iob)
		vfn_iommu_put(iob);
	return rc;
}
