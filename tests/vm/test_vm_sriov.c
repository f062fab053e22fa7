/* SPDX-License-Identifier: MIT */
/*
 * SR-IOV with the PF on vfio-pci, in one process (docs/sriov.md): each new
 * open of a vfio-pci PF resets the function, and QEMU 7.2 takes the
 * secondaries' resources back at that reset, so the PF stays open here
 * while: 2 VQ + 1 VI are assigned to secondary 1, the VF is enabled through
 * sysfs (vfio-pci enable_sriov=1), secondary 1 goes online, and the VF is
 * opened with the VF token the PF was opened with (and refused with
 * another), then driven: Identify shows CNTLID 1, blocks written through it
 * read back through it and through the PF.  Prints TAP.
 *
 * usage: test_vm_sriov PF_BDF VF_BDF
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vfn/vfn.h>

static int n, failed;

static void check(int ok, const char *name, long got)
{
	n++;
	if (!ok)
		failed++;
	printf("%sok %d - %s%s", ok ? "" : "not ", n, name, ok ? "\n" : "");
	if (!ok)
		printf(" (got %ld)\n", got);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const char *tok = "2c1b6f0a-8d4e-4a57-9f3e-61b2a0c4d5e7";
	static const char *wrong = "11111111-2222-3333-4444-555555555555";
	struct vfn_nvme_secondary_ctrl_list list;
	const struct vfn_nvme_secondary_ctrl *e;
	struct vfn_dev *pf = NULL, *vf = NULL;
	uint8_t u[16], w[16];
	uint16_t nrm = 0;
	char *data, *back;
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PF_BDF VF_BDF\n", argv[0]);
		return 2;
	}
	vfn_vf_token_parse(tok, u);
	vfn_vf_token_parse(wrong, w);
	vfn_vf_token_use(u);

	ret = vfn_dev_open(argv[1], NULL, &pf);
	check(ret == 0, "PF opened through vfio-pci with the VF token", ret);
	if (ret)
		goto out;
	ret = vfn_dev_secondary_assign(pf, 1, VFN_NVME_VIRT_MGMT_RT_VQ, 2, &nrm, NULL);
	check(ret == 0 && nrm == 2, "assign 2 VQ to secondary 1 (NRM 2)", ret ? ret : nrm);
	ret = vfn_dev_secondary_assign(pf, 1, VFN_NVME_VIRT_MGMT_RT_VI, 1, &nrm, NULL);
	check(ret == 0 && nrm == 1, "assign 1 VI to secondary 1 (NRM 1)", ret ? ret : nrm);
	ret = vfn_pci_sriov_set_numvfs(argv[1], 1);
	check(ret == 0, "sriov_numvfs 1 with the PF on vfio-pci (enable_sriov=1)", ret);
	ret = vfn_dev_secondary_online(pf, 1, true, NULL);
	check(ret == 0, "secondary 1 online (PF held open: resources kept)", ret);
	ret = vfn_dev_secondary_ctrl_list(pf, 0, &list, NULL);
	e = ret ? NULL : vfn_nvme_secondary_find(&list, 1);
	check(e && (e->scs & VFN_NVME_SCS_ONLINE) && vfn_le16_to_cpu(e->nvq) == 2 && vfn_le16_to_cpu(e->nvi) == 1,
	      "secondary 1: online, 2 VQ, 1 VI", ret);

	vfn_vf_token_use(w);
	ret = vfn_dev_open(argv[2], NULL, &vf);
	check(ret == -EACCES, "VF with a wrong token: -EACCES", ret);
	if (!ret) {
		vfn_dev_close(vf);
		vf = NULL;
	}
	vfn_vf_token_use(u);
	ret = vfn_dev_open(argv[2], NULL, &vf);
	check(ret == 0, "VF opened with the PF's token", ret);
	if (ret)
		goto out;
	check(vfn_dev_get_info(vf)->cntlid == 1, "VF Identify CNTLID = secondary 1", vfn_dev_get_info(vf)->cntlid);
	check(vfn_dev_get_info(pf)->cntlid == 0, "PF CNTLID 0", vfn_dev_get_info(pf)->cntlid);

	data = malloc(4096);
	back = calloc(1, 4096);
	for (int i = 0; i < 4096; i++)
		data[i] = (char)(i * 7 + 3);
	ret = vfn_dev_write(vf, 1, 200, 8, data);
	check(ret == 0, "VF write 8 blocks at LBA 200", ret);
	ret = vfn_dev_read(vf, 1, 200, 8, back);
	check(ret == 0 && !memcmp(data, back, 4096), "VF read back = written", ret);
	memset(back, 0, 4096);
	ret = vfn_dev_read(pf, 1, 200, 8, back);
	check(ret == 0 && !memcmp(data, back, 4096), "PF (vfio) read = what the VF wrote", ret);
	free(data);
	free(back);
out:
	vfn_dev_close(vf);
	if (pf) {
		vfn_dev_secondary_online(pf, 1, false, NULL);
		vfn_pci_sriov_set_numvfs(argv[1], 0);
	}
	vfn_dev_close(pf);
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
