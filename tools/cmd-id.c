/* SPDX-License-Identifier: MIT */
/*
 * Identify commands: id-ctrl, id-ns, list-ns.  The data structures are
 * decoded through vfn's own definitions (<vfn/spec.h>, the same the library
 * and the simulator use); the commands go through vfn.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

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
	vfn_dev_close(dev);
	if (ret)
		return ret;
	out_init(&o, a->fmt, a->human, 10);
	id_show_ns(&o, nsid, &id);
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
