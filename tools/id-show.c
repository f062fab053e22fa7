/* SPDX-License-Identifier: MIT */
/*
 * Printing of the Identify data structures (normal and json), apart from
 * the commands that fetch them so that it can be tested (and fuzzed) on
 * arbitrary data without a device.
 */
#include <stdio.h>

#include <vfn/spec.h>

#include <vfn/nvme.h>

#include "id-fields.h"

_Static_assert(sizeof(struct vfn_nvme_id_ctrl) == VFN_NVME_IDENTIFY_DATA_SIZE, "Identify Controller size");
_Static_assert(sizeof(struct vfn_nvme_id_ns) == VFN_NVME_IDENTIFY_DATA_SIZE, "Identify Namespace size");

/* Power in watts from MP and its scale (0: 0.01 W units, 1: 0.0001 W units). */
static void format_power(char *buf, size_t len, unsigned int mp, bool fine)
{
	if (fine)
		snprintf(buf, len, "%u.%04uW", mp / 10000, mp % 10000);
	else
		snprintf(buf, len, "%u.%02uW", mp / 100, mp % 100);
}

static void show_psd(struct out *o, unsigned int i, const struct vfn_nvme_id_psd *p)
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
	printf("ps %4u : mp:%s %soperational enlat:%u exlat:%u rrt:%u rrl:%u\n", i, power, (p->flags & 2) ? "non-" : "",
	       vfn_le32_to_cpu(p->enlat), vfn_le32_to_cpu(p->exlat), p->rrt, p->rrl);
	printf("          rwt:%u rwl:%u idlp:%u ips:%u actp:%u apws:%u\n", p->rwt, p->rwl, vfn_le16_to_cpu(p->idlp),
	       (unsigned int)(p->ips >> 6), vfn_le16_to_cpu(p->actp), p->apws);
}

void id_show_ctrl(struct out *o, const struct vfn_nvme_id_ctrl *id)
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

static void show_lbaf(struct out *o, unsigned int i, const struct vfn_nvme_lbaf *l, bool in_use)
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

void id_show_ns(struct out *o, uint32_t nsid, const struct vfn_nvme_id_ns *id)
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
