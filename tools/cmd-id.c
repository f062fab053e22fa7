/* SPDX-License-Identifier: MIT */
/*
 * Identify commands: id-ctrl, id-ns, list-ns.  The data structures are
 * decoded through vfn's own definitions (<vfn/spec.h>, the same the library
 * and the simulator use); the commands go through vfn.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <vfn/mgmt.h>
#include <vfn/pi.h>
#include <vfn/spec.h>

#include "cli.h"
#include "id-fields.h"

int cmd_id_ctrl(const struct cli_args *a)
{
	struct vfn_nvme_id_ctrl id;
	struct vfn_nvme_cqe cqe = { 0 };
	struct vfn_dev *dev;
	uint16_t status;
	struct out o;
	int ret = cli_dev_open(a->bdf, NULL, &dev);

	if (ret)
		return ret;
	ret = vfn_dev_identify(dev, VFN_NVME_CNS_CTRL, 0, &id, &cqe);
	vfn_dev_close(dev);
	status = vfn_nvme_cqe_status(&cqe);
	if (ret)
		return errmsg_admin(a->bdf, "Identify Controller", ret, &status);
	out_init(&o, a->fmt, a->human, 10);
	id_show_ctrl(&o, &id);
	return CLI_EXIT_OK;
}

/* Tells that @nsid is not active, listing those that are. */
static int no_such_ns(struct vfn_dev *dev, const char *bdf, uint32_t nsid)
{
	uint32_t *ids = NULL;
	int n = cli_active_nsids(dev, &ids);

	errmsg_no_ns(bdf, nsid, ids, n > 0 ? n : 0);
	free(ids);
	return CLI_EXIT_ERR;
}

/* Identify Namespace @nsid into @id; returns the exit status (0, or after a message). */
static int identify_ns(struct vfn_dev *dev, const struct cli_args *a, uint32_t nsid, struct vfn_nvme_id_ns *id)
{
	struct vfn_nvme_cqe cqe = { 0 };
	uint16_t status;
	int ret = vfn_dev_identify(dev, VFN_NVME_CNS_NS, nsid, id, &cqe);

	status = vfn_nvme_cqe_status(&cqe);
	/* not active: Invalid Namespace, or an all-zero structure */
	if ((ret == -EIO && (status & 0x7ff) == VFN_NVME_SC_INVALID_NS) || (!ret && !id->nsze && !id->ncap))
		return no_such_ns(dev, a->bdf, nsid);
	if (ret)
		return errmsg_admin(a->bdf, "Identify Namespace", ret, &status);
	return CLI_EXIT_OK;
}

/*
 * -H: the guard format of each LBA format (Identify CNS 05h, CSI 00h,
 * ELBAF bits 8:7 PIF, 6:0 STS) when the controller reports it (CTRATT bit
 * 15, ELBAS); otherwise every format has the 16-bit guard.
 */
static void show_ns_pif(struct vfn_dev *dev, uint32_t nsid, const struct vfn_nvme_id_ns *id)
{
	static const char *const pif_names[] = { "16b Guard", "32b Guard", "64b Guard", "Reserved" };
	unsigned int nf = id->nlbaf < 64 ? id->nlbaf + 1u : 64u;
	unsigned int cur = (id->flbas & 0xfu) | (nf > 16 ? ((id->flbas >> 5) & 3u) << 4 : 0);
	struct vfn_identify_args args = { .cns = VFN_PI_CNS_NS_NVM, .csi = 0, .nsid = nsid };
	struct vfn_nvme_id_ns_nvm *nvm = malloc(sizeof(*nvm));
	struct vfn_nvme_id_ctrl *ctrl = malloc(sizeof(*ctrl));
	bool elbas = false;

	if (nvm && ctrl && !vfn_dev_identify(dev, VFN_NVME_CNS_CTRL, 0, ctrl, NULL))
		elbas = vfn_le32_to_cpu(ctrl->ctratt) & VFN_PI_CTRATT_ELBAS;
	if (elbas && vfn_dev_identify_args(dev, &args, nvm, sizeof(*nvm), NULL))
		elbas = false;
	if (!elbas) {
		printf("elbaf    : not reported (CTRATT.ELBAS 0): every format has the 16b Guard\n");
	} else {
		for (unsigned int i = 0; i < nf; i++) {
			uint32_t e = vfn_le32_to_cpu(nvm->elbaf[i]);

			printf("elbaf %2u : pif:%u (%s) sts:%u%s\n", i, (e >> 7) & 3, pif_names[(e >> 7) & 3], e & 0x7f,
			       i == cur ? " (in use)" : "");
		}
	}
	free(nvm);
	free(ctrl);
}

int cmd_id_ns(const struct cli_args *a)
{
	struct vfn_nvme_id_ns id = { 0 };
	struct vfn_dev *dev;
	uint32_t nsid = 0;
	struct out o;
	int ret = cli_dev_open(a->bdf, NULL, &dev);

	if (ret)
		return ret;
	ret = cli_nsid(a, dev, &nsid);
	if (!ret)
		ret = identify_ns(dev, a, nsid, &id);
	if (ret) {
		vfn_dev_close(dev);
		return ret;
	}
	out_init(&o, a->fmt, a->human, 10);
	id_show_ns(&o, nsid, &id);
	if (a->human && a->fmt != OUT_JSON)
		show_ns_pif(dev, nsid, &id);
	vfn_dev_close(dev);
	return CLI_EXIT_OK;
}

int cmd_list_ns(const struct cli_args *a)
{
	struct vfn_dev *dev;
	uint32_t *ids = NULL;
	struct json j;
	int n, ret = cli_dev_open(a->bdf, NULL, &dev);

	if (ret)
		return ret;
	n = cli_active_nsids(dev, &ids);
	vfn_dev_close(dev);
	if (n < 0)
		return errmsg_admin(a->bdf, "Identify Active Namespace ID list", n, NULL);
	if (a->fmt == OUT_JSON) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_arr_begin(&j, "nsid_list");
		for (int i = 0; i < n; i++) {
			json_obj_begin(&j, NULL);
			json_u64(&j, "nsid", ids[i]);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		for (int i = 0; i < n; i++)
			printf("[%4d]:%#x\n", i, ids[i]);
	}
	free(ids);
	return CLI_EXIT_OK;
}
