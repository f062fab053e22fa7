/* SPDX-License-Identifier: MIT */
/* The Zoned Namespace Command Set over any vfn_dev (include/vfn/zns.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vfn/mgmt.h>
#include <vfn/zns.h>

#include "dev/dev-priv.h"
#include "support/log.h"

#define ZNS_NO_LIMIT 0xffffffffu

/* MOR / MAR (0's based, all ones: no limit) as a count, 0 for no limit. */
static uint32_t zns_limit(vfn_le32 v)
{
	uint32_t x = vfn_le32_to_cpu(v);

	return x == ZNS_NO_LIMIT ? 0 : x + 1;
}

int vfn_dev_zns_geometry(struct vfn_dev *dev, uint32_t nsid, struct vfn_zns_info *info, bool with_report,
			 struct vfn_nvme_cqe *cqe)
{
	struct vfn_identify_args args = { .cns = VFN_NVME_CNS_NS, .nsid = nsid };
	uint8_t report[sizeof(struct vfn_nvme_zone_report) + sizeof(struct vfn_nvme_zone_desc)];
	const struct vfn_nvme_zone_desc *d = (const void *)(report + sizeof(struct vfn_nvme_zone_report));
	struct vfn_nvme_id_ns *ns;
	struct vfn_nvme_id_ns_zns *zns;
	struct vfn_nvme_id_ctrl_zns *ctrl;
	unsigned int lbaf;
	int ret;

	if (!dev || !info) {
		log_debug("zns: NULL device or info");
		return -EINVAL;
	}
	ns = calloc(3, VFN_NVME_IDENTIFY_DATA_SIZE);
	if (!ns)
		return -ENOMEM;
	zns = (void *)((uint8_t *)ns + VFN_NVME_IDENTIFY_DATA_SIZE);
	ctrl = (void *)((uint8_t *)ns + 2 * VFN_NVME_IDENTIFY_DATA_SIZE);
	ret = vfn_dev_identify_args(dev, &args, ns, VFN_NVME_IDENTIFY_DATA_SIZE, cqe);
	args.cns = VFN_NVME_CNS_CSI_NS;
	args.csi = VFN_NVME_CSI_ZNS;
	if (!ret)
		ret = vfn_dev_identify_args(dev, &args, zns, VFN_NVME_IDENTIFY_DATA_SIZE, cqe);
	args.cns = VFN_NVME_CNS_CSI_CTRL;
	args.nsid = 0;
	if (!ret)
		ret = vfn_dev_identify_args(dev, &args, ctrl, VFN_NVME_IDENTIFY_DATA_SIZE, cqe);
	if (ret)
		goto out;
	lbaf = vfn_nvme_flbas_index(ns->flbas);
	if (ns->lbaf[lbaf].ds < 9 || ns->lbaf[lbaf].ds > 31) {
		log_err("zns: namespace %u: LBA format %u has a data size of 2^%u bytes (9..31)", nsid, lbaf,
			ns->lbaf[lbaf].ds);
		ret = -EPROTO;
		goto out;
	}
	*info = (struct vfn_zns_info){
		.nsze = vfn_le64_to_cpu(ns->nsze),
		.zsze = vfn_le64_to_cpu(zns->lbafe[lbaf].zsze),
		.mor = zns_limit(zns->mor),
		.mar = zns_limit(zns->mar),
		.zoc = vfn_le16_to_cpu(zns->zoc),
		.ozcs = vfn_le16_to_cpu(zns->ozcs),
		.zasl = ctrl->zasl,
		.lba_size = 1u << ns->lbaf[lbaf].ds,
		.zde_size = (uint32_t)zns->lbafe[lbaf].zdes * 64,
	};
	if (info->ozcs & VFN_NVME_OZCS_ZRWASUP) {
		info->zrwa_size = vfn_le16_to_cpu(zns->zrwasz);
		info->zrwa_fg = vfn_le16_to_cpu(zns->zrwafg);
		info->nr_zrwa = vfn_le32_to_cpu(zns->numzrwa) + 1;
		info->zrwacap = zns->zrwacap;
	}
	if (!info->zsze) {
		log_debug("zns: namespace %u reports a zone size of 0: not zoned", nsid);
		ret = -ENOTSUP;
		goto out;
	}
	info->nr_zones = info->nsze / info->zsze;
	if (!with_report)
		goto out;
	ret = vfn_dev_zone_report(dev, nsid, 0, VFN_NVME_ZRASF_ALL, true, report, sizeof(report), cqe);
	if (!ret)
		info->zcap = vfn_le64_to_cpu(d->zcap);
out:
	free(ns);
	return ret;
}

int vfn_dev_zns_info(struct vfn_dev *dev, uint32_t nsid, struct vfn_zns_info *info, struct vfn_nvme_cqe *cqe)
{
	return vfn_dev_zns_geometry(dev, nsid, info, true, cqe);
}

static struct vfn_nvme_sqe zns_sqe(uint8_t opcode, uint32_t nsid, uint64_t slba)
{
	return (struct vfn_nvme_sqe){
		.opcode = opcode,
		.nsid = vfn_cpu_to_le32(nsid),
		.cdw10 = vfn_cpu_to_le32((uint32_t)slba),
		.cdw11 = vfn_cpu_to_le32((uint32_t)(slba >> 32)),
	};
}

int vfn_dev_zone_mgmt_send(struct vfn_dev *dev, uint32_t nsid, uint64_t zslba, uint8_t zsa, bool select_all,
			   struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = zns_sqe(VFN_NVME_CMD_ZONE_MGMT_SEND, nsid, select_all ? 0 : zslba);

	if (!dev || zsa < VFN_NVME_ZSA_CLOSE || zsa > VFN_NVME_ZSA_OFFLINE) {
		log_debug("zns: NULL device or Zone Send Action 0x%x not one of 1..5", zsa);
		return -EINVAL;
	}
	sqe.cdw13 = vfn_cpu_to_le32(zsa | (select_all ? VFN_NVME_ZSA_SELECT_ALL : 0));
	return vfn_dev_io(dev, &sqe, NULL, 0, cqe, 0);
}

static int zone_recv(struct vfn_dev *dev, uint32_t nsid, uint8_t zra, uint64_t slba, uint8_t zrasf, bool partial,
		     void *buf, size_t len, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = zns_sqe(VFN_NVME_CMD_ZONE_MGMT_RECV, nsid, slba);
	size_t max;

	if (!dev || !buf || len < sizeof(struct vfn_nvme_zone_report) || len % 4 || zrasf > VFN_NVME_ZRASF_OFFLINE) {
		log_debug("zns: report: NULL device/buffer, %zu bytes (a multiple of 4, >= 64) or filter %u", len,
			  zrasf);
		return -EINVAL;
	}
	max = vfn_dev_get_info(dev)->max_xfer;
	if (max && len > max) {
		log_debug("zns: report of %zu bytes over the transfer limit of %zu", len, max);
		return -EINVAL;
	}
	sqe.cdw12 = vfn_cpu_to_le32((uint32_t)(len / 4 - 1));
	sqe.cdw13 =
		vfn_cpu_to_le32(zra | (uint32_t)zrasf << VFN_NVME_ZRASF_SHIFT | (partial ? VFN_NVME_ZRA_PARTIAL : 0));
	return vfn_dev_io(dev, &sqe, buf, len, cqe, 0);
}

int vfn_dev_zone_report(struct vfn_dev *dev, uint32_t nsid, uint64_t slba, uint8_t zrasf, bool partial, void *buf,
			size_t len, struct vfn_nvme_cqe *cqe)
{
	return zone_recv(dev, nsid, VFN_NVME_ZRA_REPORT, slba, zrasf, partial, buf, len, cqe);
}

int vfn_dev_zone_report_ext(struct vfn_dev *dev, uint32_t nsid, uint64_t slba, uint8_t zrasf, bool partial, void *buf,
			    size_t len, struct vfn_nvme_cqe *cqe)
{
	return zone_recv(dev, nsid, VFN_NVME_ZRA_EXTENDED_REPORT, slba, zrasf, partial, buf, len, cqe);
}

const struct vfn_nvme_zone_desc *vfn_zone_report_desc(const void *buf, size_t len, uint32_t zde_size, uint64_t i,
						      const uint8_t **ext)
{
	size_t entry = sizeof(struct vfn_nvme_zone_desc) + zde_size;
	const uint8_t *p = buf;

	if (ext)
		*ext = NULL;
	if (!buf || len < sizeof(struct vfn_nvme_zone_report) ||
	    i >= (len - sizeof(struct vfn_nvme_zone_report)) / entry)
		return NULL;
	p += sizeof(struct vfn_nvme_zone_report) + (size_t)i * entry;
	if (ext && zde_size)
		*ext = p + sizeof(struct vfn_nvme_zone_desc);
	return (const void *)p;
}

int vfn_dev_zone_set_desc_ext(struct vfn_dev *dev, uint32_t nsid, uint64_t zslba, const void *ext, size_t len,
			      struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = zns_sqe(VFN_NVME_CMD_ZONE_MGMT_SEND, nsid, zslba);
	struct vfn_zns_info zi;

	if (!dev || !ext || !len || len % 64 || len > 255 * 64) {
		log_debug("zns: set descriptor extension: NULL device/data or %zu bytes (64..16320, 64-byte units)",
			  len);
		return -EINVAL;
	}
	/*
	 * The controller transfers ZDES x 64 bytes whatever @len is: a shorter
	 * buffer would be read past its end (and its PRP2 taken from nothing).
	 */
	if (!vfn_dev_zns_geometry(dev, nsid, &zi, false, NULL) && zi.zde_size && len != zi.zde_size) {
		log_debug("zns: set descriptor extension of %zu bytes, namespace %u's extensions are %u bytes", len,
			  nsid, zi.zde_size);
		return -EINVAL;
	}
	sqe.cdw13 = vfn_cpu_to_le32(VFN_NVME_ZSA_SET_ZDE);
	return vfn_dev_io(dev, &sqe, (void *)ext, len, cqe, 0);
}

int vfn_dev_zone_open_zrwa(struct vfn_dev *dev, uint32_t nsid, uint64_t zslba, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = zns_sqe(VFN_NVME_CMD_ZONE_MGMT_SEND, nsid, zslba);

	if (!dev)
		return -EINVAL;
	sqe.cdw13 = vfn_cpu_to_le32(VFN_NVME_ZSA_OPEN | VFN_NVME_ZSA_ZRWAA);
	return vfn_dev_io(dev, &sqe, NULL, 0, cqe, 0);
}

int vfn_dev_zone_flush_zrwa(struct vfn_dev *dev, uint32_t nsid, uint64_t elba, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = zns_sqe(VFN_NVME_CMD_ZONE_MGMT_SEND, nsid, elba);

	if (!dev)
		return -EINVAL;
	sqe.cdw13 = vfn_cpu_to_le32(VFN_NVME_ZSA_FLUSH_ZRWA);
	return vfn_dev_io(dev, &sqe, NULL, 0, cqe, 0);
}

int vfn_dev_zone_append(struct vfn_dev *dev, uint32_t nsid, uint64_t zslba, uint32_t nlb, const void *buf,
			uint64_t *alba, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = zns_sqe(VFN_NVME_CMD_ZONE_APPEND, nsid, zslba);
	struct vfn_nvme_cqe local;
	size_t len;
	int ret;

	if (!dev || !buf || nlb < 1 || nlb > 65536) {
		log_debug("zns: append: NULL device/buffer or %u blocks (1..65536)", nlb);
		return -EINVAL;
	}
	/* The block size of @nsid, which need not be the handle's namespace. */
	ret = vfn_dev_plain_len(dev, nsid, nlb, &len);
	if (ret)
		return ret;
	sqe.cdw12 = vfn_cpu_to_le32(nlb - 1);
	ret = vfn_dev_io(dev, &sqe, (void *)buf, len, cqe ? cqe : &local, 0);
	if (!ret && alba) {
		const struct vfn_nvme_cqe *c = cqe ? cqe : &local;

		*alba = vfn_le32_to_cpu(c->dw0) | (uint64_t)vfn_le32_to_cpu(c->dw1) << 32;
	}
	return ret;
}

const char *vfn_zone_state_str(unsigned int zs)
{
	switch (zs) {
	case VFN_NVME_ZS_EMPTY:
		return "Empty";
	case VFN_NVME_ZS_IMP_OPEN:
		return "Implicitly Opened";
	case VFN_NVME_ZS_EXP_OPEN:
		return "Explicitly Opened";
	case VFN_NVME_ZS_CLOSED:
		return "Closed";
	case VFN_NVME_ZS_READ_ONLY:
		return "Read Only";
	case VFN_NVME_ZS_FULL:
		return "Full";
	case VFN_NVME_ZS_OFFLINE:
		return "Offline";
	default:
		return "Reserved";
	}
}
