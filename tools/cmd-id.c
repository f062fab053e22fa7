/* SPDX-License-Identifier: MIT */
/*
 * Identify commands: id-ctrl, id-ns, list-ns.  The data structures are
 * decoded through libnvme's definitions (<nvme/types.h>); the commands go
 * through vfn.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <nvme/types.h>

#include "cli.h"
#include "id-fields.h"

_Static_assert(sizeof(struct nvme_id_ctrl) == VFN_NVME_IDENTIFY_DATA_SIZE, "Identify Controller size");
_Static_assert(sizeof(struct nvme_id_ns) == VFN_NVME_IDENTIFY_DATA_SIZE, "Identify Namespace size");

/* Power in watts from MP and its scale (0: 0.01 W units, 1: 0.0001 W units). */
static void format_power(char *buf, size_t len, unsigned int mp, bool fine)
{
	if (fine)
		snprintf(buf, len, "%u.%04uW", mp / 10000, mp % 10000);
	else
		snprintf(buf, len, "%u.%02uW", mp / 100, mp % 100);
}

static void show_psd(struct out *o, unsigned int i, const struct nvme_id_psd *p)
{
	unsigned int mp = vfn_le16_to_cpu(p->mp);
	char power[16];

	if (o->fmt == OUT_JSON) {
		out_item_begin(o);
		out_u(o, "max_power", mp);
		out_u(o, "max_power_scale", p->flags & 1);
		out_u(o, "non-operational_state", (p->flags >> 1) & 1);
		out_u(o, "entry_lat", vfn_le32_to_cpu(p->enlat));
		out_u(o, "exit_lat", vfn_le32_to_cpu(p->exlat));
		out_u(o, "read_tput", p->rrt);
		out_u(o, "read_lat", p->rrl);
		out_u(o, "write_tput", p->rwt);
		out_u(o, "write_lat", p->rwl);
		out_u(o, "idle_power", vfn_le16_to_cpu(p->idlp));
		out_u(o, "idle_scale", p->ips >> 6);
		out_u(o, "active_power", vfn_le16_to_cpu(p->actp));
		out_u(o, "active_power_work", p->apws & 0x7);
		out_u(o, "active_scheme", p->apws >> 6);
		out_item_end(o);
		return;
	}
	format_power(power, sizeof(power), mp, p->flags & 1);
	printf("ps %4u : mp:%s %soperational enlat:%u exlat:%u rrt:%u rrl:%u\n", i, power,
	       (p->flags & 2) ? "non-" : "", vfn_le32_to_cpu(p->enlat), vfn_le32_to_cpu(p->exlat), p->rrt,
	       p->rrl);
	printf("          rwt:%u rwl:%u idlp:%u ips:%u actp:%u apws:%u\n", p->rwt, p->rwl,
	       vfn_le16_to_cpu(p->idlp), p->ips >> 6, vfn_le16_to_cpu(p->actp), p->apws);
}

static void show_id_ctrl(struct out *o, const struct nvme_id_ctrl *id)
{
	/* NPSS is 0's based; the structure holds at most 32 descriptors. */
	unsigned int nps = id->npss < 32 ? id->npss + 1u : 32u;

	out_begin(o, "NVME Identify Controller:");
	out_fields(o, id_ctrl_fields, id_ctrl_nfields, id);
	out_list_begin(o, "psds");
	for (unsigned int i = 0; i < nps; i++)
		show_psd(o, i, &id->psd[i]);
	out_list_end(o);
	out_end(o);
}

int cmd_id_ctrl(const struct cli_args *a)
{
	struct nvme_id_ctrl id;
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_pci_func f;
	uint16_t status = 0;
	struct out o;
	int ret = cli_open(a->bdf, &f, &ctrl);

	if (ret)
		return ret;
	ret = vfn_nvme_identify(ctrl, VFN_NVME_CNS_CTRL, 0, &id, &status);
	vfn_nvme_ctrl_close(ctrl);
	if (ret)
		return errmsg_admin(a->bdf, "Identify Controller", ret, &status);
	out_init(&o, a->fmt, a->human, 10);
	show_id_ctrl(&o, &id);
	return CLI_EXIT_OK;
}

static void show_lbaf(struct out *o, unsigned int i, const struct nvme_lbaf *l, bool in_use)
{
	if (o->fmt == OUT_JSON) {
		out_item_begin(o);
		out_u(o, "ms", vfn_le16_to_cpu(l->ms));
		out_u(o, "ds", l->ds);
		out_u(o, "rp", l->rp & 3);
		out_item_end(o);
		return;
	}
	printf("lbaf %2u : ms:%-3u lbads:%-2u rp:%#x%s\n", i, vfn_le16_to_cpu(l->ms), l->ds, l->rp & 3,
	       in_use ? " (in use)" : "");
}

static void show_id_ns(struct out *o, uint32_t nsid, const struct nvme_id_ns *id)
{
	/* NLBAF is 0's based; FLBAS bits 6:5 extend the index only past 16 formats. */
	unsigned int nf = id->nlbaf < 64 ? id->nlbaf + 1u : 64u;
	unsigned int cur = (id->flbas & 0xfu) | (nf > 16 ? ((id->flbas >> 5) & 3u) << 4 : 0);
	char title[48];

	snprintf(title, sizeof(title), "NVME Identify Namespace %u:", nsid);
	out_begin(o, title);
	out_fields(o, id_ns_fields, id_ns_nfields, id);
	out_list_begin(o, "lbafs");
	for (unsigned int i = 0; i < nf; i++)
		show_lbaf(o, i, &id->lbaf[i], i == cur);
	out_list_end(o);
	out_end(o);
}

/* Tells that @nsid is not active, listing those that are. */
static int no_such_ns(struct vfn_nvme_ctrl *ctrl, const char *bdf, uint32_t nsid)
{
	uint32_t *ids = NULL;
	int n = cli_active_nsids(ctrl, &ids);

	errmsg_no_ns(bdf, nsid, ids, n > 0 ? n : 0);
	free(ids);
	return CLI_EXIT_ERR;
}

/* Identify Namespace into @id; returns the exit status (0, or after a message). */
static int identify_ns(struct vfn_nvme_ctrl *ctrl, const struct cli_args *a, struct nvme_id_ns *id)
{
	struct vfn_nvme_ns_info info;
	uint16_t status = 0;
	int ret;

	/* The library decides what "does not exist" means (-ENOENT). */
	ret = vfn_nvme_ns_get_info(ctrl, a->nsid, &info);
	if (ret == -ENOENT)
		return no_such_ns(ctrl, a->bdf, a->nsid);
	if (ret)
		return errmsg_admin(a->bdf, "Identify Namespace", ret, NULL);
	ret = vfn_nvme_identify(ctrl, VFN_NVME_CNS_NS, a->nsid, id, &status);
	if (ret)
		return errmsg_admin(a->bdf, "Identify Namespace", ret, &status);
	return CLI_EXIT_OK;
}

int cmd_id_ns(const struct cli_args *a)
{
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_pci_func f;
	struct nvme_id_ns id;
	struct out o;
	int ret = cli_open(a->bdf, &f, &ctrl);

	if (ret)
		return ret;
	ret = identify_ns(ctrl, a, &id);
	vfn_nvme_ctrl_close(ctrl);
	if (ret)
		return ret;
	out_init(&o, a->fmt, a->human, 10);
	show_id_ns(&o, a->nsid, &id);
	return CLI_EXIT_OK;
}

int cmd_list_ns(const struct cli_args *a)
{
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_pci_func f;
	uint32_t *ids = NULL;
	struct json j;
	int n, ret = cli_open(a->bdf, &f, &ctrl);

	if (ret)
		return ret;
	n = cli_active_nsids(ctrl, &ids);
	vfn_nvme_ctrl_close(ctrl);
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
