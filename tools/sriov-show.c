/* SPDX-License-Identifier: MIT */
/* Printers of the SR-IOV structures (tools/sriov-show.h). */
#include <stddef.h>
#include <stdio.h>

#include "sriov-show.h"

#define OFF(f) (uint16_t) offsetof(struct vfn_nvme_primary_ctrl_cap, f)
#define SZ(f) (uint16_t)sizeof(((struct vfn_nvme_primary_ctrl_cap *)0)->f)
/* clang-format off */
#define DEC(f) { #f, OFF(f), SZ(f), FIELD_DEC, NULL }
/* clang-format on */

static const struct field_bits crt_bits[] = {
	{ 1, 1, "VI resources supported" },
	{ 0, 0, "VQ resources supported" },
	{ 0, 0, NULL },
};

static const struct field primary_fields[] = {
	DEC(cntlid), DEC(portid), { "crt", OFF(crt), SZ(crt), FIELD_HEX, crt_bits },
	DEC(vqfrt),  DEC(vqrfa),  DEC(vqrfap),
	DEC(vqprt),  DEC(vqfrsm), DEC(vqgran),
	DEC(vifrt),  DEC(virfa),  DEC(virfap),
	DEC(viprt),  DEC(vifrsm), DEC(vigran),
};

void sriov_show_primary(struct out *o, const struct vfn_nvme_primary_ctrl_cap *cap)
{
	out_begin(o, "NVMe Identify Primary Controller Capabilities:");
	out_fields(o, primary_fields, sizeof(primary_fields) / sizeof(primary_fields[0]), cap);
	out_end(o);
}

void sriov_show_secondary(struct out *o, const struct vfn_nvme_secondary_ctrl_list *list, unsigned int max)
{
	unsigned int n = list->numid > 127 ? 127 : list->numid;

	if (max && max < n)
		n = max;
	if (o->fmt == OUT_NORMAL) {
		printf("Identify Secondary Controller List:\n");
		printf("   NUMID       : Number of Identifiers           : %u\n", n);
		for (unsigned int i = 0; i < n; i++) {
			const struct vfn_nvme_secondary_ctrl *e = &list->sc_entry[i];

			printf("   SCEntry[%-3u]:\n", i);
			printf("     SCID      : Secondary Controller Identifier : 0x%04x\n", vfn_le16_to_cpu(e->scid));
			printf("     PCID      : Primary Controller Identifier   : 0x%04x\n", vfn_le16_to_cpu(e->pcid));
			printf("     SCS       : Secondary Controller State      : 0x%04x (%s)\n", e->scs,
			       e->scs & VFN_NVME_SCS_ONLINE ? "Online" : "Offline");
			printf("     VFN       : Virtual Function Number         : 0x%04x\n", vfn_le16_to_cpu(e->vfn));
			printf("     NVQ       : Num VQ Flex Resources Assigned  : 0x%04x\n", vfn_le16_to_cpu(e->nvq));
			printf("     NVI       : Num VI Flex Resources Assigned  : 0x%04x\n", vfn_le16_to_cpu(e->nvi));
		}
		return;
	}
	out_begin(o, NULL);
	out_u(o, "num", n);
	out_list_begin(o, "secondary-controllers");
	for (unsigned int i = 0; i < n; i++) {
		const struct vfn_nvme_secondary_ctrl *e = &list->sc_entry[i];

		out_item_begin(o);
		out_u(o, "secondary-controller-identifier", vfn_le16_to_cpu(e->scid));
		out_u(o, "primary-controller-identifier", vfn_le16_to_cpu(e->pcid));
		out_u(o, "secondary-controller-state", e->scs & VFN_NVME_SCS_ONLINE);
		out_u(o, "virtual-function-number", vfn_le16_to_cpu(e->vfn));
		out_u(o, "num-virtual-queues", vfn_le16_to_cpu(e->nvq));
		out_u(o, "num-virtual-interrupts", vfn_le16_to_cpu(e->nvi));
		out_item_end(o);
	}
	out_list_end(o);
	out_end(o);
}
