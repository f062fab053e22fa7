/* SPDX-License-Identifier: MIT */
/*
 * Typed controller-management commands over any vfn_dev (include/vfn/mgmt.h):
 * they build the command, check the buffer, split transfers by the limit and
 * rescan after namespace changes on the kernel path.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/nvme_ioctl.h>

#include <vfn/mgmt.h>

#include "dev/dev-priv.h"
#include "support/log.h"

/* The SQE for @opcode, @nsid. */
static struct vfn_nvme_sqe mgmt_sqe(uint8_t opcode, uint32_t nsid)
{
	return (struct vfn_nvme_sqe){ .opcode = opcode, .nsid = vfn_cpu_to_le32(nsid) };
}

/*
 * After a command that changes namespaces: the kernel driver learns of it
 * only through a rescan (nvme-cli does the same).  Failure is logged, not
 * returned: the command itself succeeded.
 */
static void mgmt_rescan(struct vfn_dev *dev)
{
	vfn_dev_forget_other_ns(dev); /* formats of other namespaces may have changed too */
	if (!dev->kdev || dev->kdev->kind != VFN_KDEV_CTRL)
		return;
	if (ioctl(dev->kdev->fd, NVME_IOCTL_RESCAN) < 0)
		log_info("%s: rescan after a namespace change failed: %s", dev->info.name, strerror(errno));
}

static int mgmt_admin(struct vfn_dev *dev, const struct vfn_nvme_sqe *sqe, const void *buf, size_t len,
		      struct vfn_nvme_cqe *cqe, uint32_t timeout_ms)
{
	if (!dev) {
		log_debug("mgmt: NULL device");
		return -EINVAL;
	}
	return vfn_dev_admin(dev, sqe, (void *)buf, len, cqe, timeout_ms);
}

int vfn_dev_identify_args(struct vfn_dev *dev, const struct vfn_identify_args *args, void *buf, size_t len,
			  struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe;

	if (!args || !buf || len < VFN_NVME_IDENTIFY_DATA_SIZE) {
		log_debug("identify: NULL args/buffer or buffer of %zu bytes (< 4096)", len);
		return -EINVAL;
	}
	sqe = mgmt_sqe(VFN_NVME_ADMIN_IDENTIFY, args->nsid);
	sqe.cdw10 = vfn_cpu_to_le32(args->cns | (uint32_t)args->cntid << 16);
	sqe.cdw11 = vfn_cpu_to_le32((uint32_t)args->csi << 24);
	return mgmt_admin(dev, &sqe, buf, VFN_NVME_IDENTIFY_DATA_SIZE, cqe, 0);
}

size_t vfn_nvme_log_size(uint8_t lid)
{
	switch (lid) {
	case VFN_NVME_LOG_SMART:
		return sizeof(struct vfn_nvme_smart_log);
	case VFN_NVME_LOG_FW_SLOT:
		return sizeof(struct vfn_nvme_fw_slot_log);
	case VFN_NVME_LOG_CHANGED_NS:
		return sizeof(struct vfn_nvme_ns_list);
	case VFN_NVME_LOG_CMD_EFFECTS:
		return sizeof(struct vfn_nvme_cmd_effects_log);
	case VFN_NVME_LOG_DEV_SELF_TEST:
		return sizeof(struct vfn_nvme_self_test_log);
	case VFN_NVME_LOG_SANITIZE:
		return sizeof(struct vfn_nvme_sanitize_log);
	default:
		return 0;
	}
}

/* One Get Log Page command of @len bytes at @offset. */
static int log_cmd(struct vfn_dev *dev, const struct vfn_log_args *a, uint64_t offset, void *buf, size_t len,
		   struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = mgmt_sqe(VFN_NVME_ADMIN_GET_LOG_PAGE, a->nsid);
	uint32_t numd = (uint32_t)(len / 4 - 1);

	sqe.cdw10 = vfn_cpu_to_le32(a->lid | (uint32_t)(a->lsp & 0x7f) << VFN_NVME_LOG_LSP_SHIFT |
				    (a->rae ? VFN_NVME_LOG_RAE : 0) | (numd & 0xffff) << 16);
	sqe.cdw11 = vfn_cpu_to_le32(numd >> 16 | (uint32_t)a->lsi << VFN_NVME_LOG_LSI_SHIFT);
	sqe.cdw12 = vfn_cpu_to_le32((uint32_t)offset);
	sqe.cdw13 = vfn_cpu_to_le32((uint32_t)(offset >> 32));
	sqe.cdw14 = vfn_cpu_to_le32((a->uuid_idx & 0x7fu) | (uint32_t)a->csi << 24);
	return mgmt_admin(dev, &sqe, buf, len, cqe, 0);
}

int vfn_dev_log_page(struct vfn_dev *dev, const struct vfn_log_args *args, void *buf, size_t len,
		     struct vfn_nvme_cqe *cqe)
{
	size_t size, chunk, done = 0;
	int ret = 0;

	if (!dev || !args || !buf || len < 4 || len % 4 || (args->offset & 3) || args->lsp > 0x7f ||
	    args->uuid_idx > 0x7f) {
		log_debug("log_page: bad arguments (%zu bytes at offset %llu)", len,
			  args ? (unsigned long long)args->offset : 0ull);
		return -EINVAL;
	}
	size = vfn_nvme_log_size(args->lid);
	if (size && (args->offset >= size || len > size - args->offset)) {
		log_debug("log_page: log 0x%02x is %zu bytes: %zu at offset %llu run past it", args->lid, size, len,
			  (unsigned long long)args->offset);
		return -EINVAL;
	}
	chunk = dev->info.max_xfer ? dev->info.max_xfer : len;
	while (!ret && done < len) {
		size_t n = len - done < chunk ? len - done : chunk;

		ret = log_cmd(dev, args, args->offset + done, (uint8_t *)buf + done, n, cqe);
		done += n;
	}
	return ret;
}

/* A whole log page @lid of @len bytes for @nsid. */
static int whole_log(struct vfn_dev *dev, uint8_t lid, uint32_t nsid, void *buf, size_t len, struct vfn_nvme_cqe *cqe)
{
	struct vfn_log_args a = { .lid = lid, .nsid = nsid };

	return vfn_dev_log_page(dev, &a, buf, len, cqe);
}

int vfn_dev_smart_log(struct vfn_dev *dev, uint32_t nsid, struct vfn_nvme_smart_log *log, struct vfn_nvme_cqe *cqe)
{
	return whole_log(dev, VFN_NVME_LOG_SMART, nsid ? nsid : 0xffffffffu, log, sizeof(*log), cqe);
}

int vfn_dev_error_log(struct vfn_dev *dev, struct vfn_nvme_error_log *log, unsigned int n, struct vfn_nvme_cqe *cqe)
{
	if (!n || n > 4096) {
		log_debug("error_log: %u entries (1..4096)", n);
		return -EINVAL;
	}
	return whole_log(dev, VFN_NVME_LOG_ERROR, 0, log, n * sizeof(*log), cqe);
}

int vfn_dev_fw_slot_log(struct vfn_dev *dev, struct vfn_nvme_fw_slot_log *log, struct vfn_nvme_cqe *cqe)
{
	return whole_log(dev, VFN_NVME_LOG_FW_SLOT, 0, log, sizeof(*log), cqe);
}

int vfn_dev_self_test_log(struct vfn_dev *dev, struct vfn_nvme_self_test_log *log, struct vfn_nvme_cqe *cqe)
{
	return whole_log(dev, VFN_NVME_LOG_DEV_SELF_TEST, 0, log, sizeof(*log), cqe);
}

int vfn_dev_sanitize_log(struct vfn_dev *dev, struct vfn_nvme_sanitize_log *log, struct vfn_nvme_cqe *cqe)
{
	return whole_log(dev, VFN_NVME_LOG_SANITIZE, 0, log, sizeof(*log), cqe);
}

int vfn_dev_cmd_effects_log(struct vfn_dev *dev, struct vfn_nvme_cmd_effects_log *log, struct vfn_nvme_cqe *cqe)
{
	return whole_log(dev, VFN_NVME_LOG_CMD_EFFECTS, 0, log, sizeof(*log), cqe);
}

int vfn_dev_changed_ns_log(struct vfn_dev *dev, struct vfn_nvme_ns_list *log, struct vfn_nvme_cqe *cqe)
{
	return whole_log(dev, VFN_NVME_LOG_CHANGED_NS, 0, log, sizeof(*log), cqe);
}

/* 2^22 blocks of 512 bytes: 2 GiB of telemetry, far beyond what any controller reports. */
#define TELEMETRY_MAX_BLOCKS (1ull << 22)

int vfn_dev_telemetry_log(struct vfn_dev *dev, bool host, bool create, unsigned int da, void **buf, size_t *len,
			  struct vfn_nvme_cqe *cqe)
{
	struct vfn_log_args a = { .lid = host ? VFN_NVME_LOG_TELEMETRY_HOST : VFN_NVME_LOG_TELEMETRY_CTRL };
	struct vfn_nvme_telemetry_log hdr;
	uint64_t last;
	size_t total;
	uint8_t *log;
	int ret;

	if (!buf || !len || da < 1 || da > 4) {
		log_debug("telemetry_log: NULL output or data area %u (1..4)", da);
		return -EINVAL;
	}
	a.lsp = host && create ? VFN_NVME_TELEMETRY_LSP_CREATE : 0;
	ret = vfn_dev_log_page(dev, &a, &hdr, sizeof(hdr), cqe);
	if (ret)
		return ret;
	last = da == 1	 ? vfn_le16_to_cpu(hdr.dalb1)
	       : da == 2 ? vfn_le16_to_cpu(hdr.dalb2)
	       : da == 3 ? vfn_le16_to_cpu(hdr.dalb3)
			 : vfn_le32_to_cpu(hdr.dalb4);
	/* The data areas end in order (DALB1 <= DALB2 <= DALB3 <= DALB4); a header that says otherwise, or a
	 * log beyond what a size_t and a sane allocation hold, is the controller's error, not a size. */
	if ((da >= 2 && vfn_le16_to_cpu(hdr.dalb2) < vfn_le16_to_cpu(hdr.dalb1)) ||
	    (da >= 3 && vfn_le16_to_cpu(hdr.dalb3) < vfn_le16_to_cpu(hdr.dalb2)) ||
	    (da >= 4 && vfn_le32_to_cpu(hdr.dalb4) < vfn_le16_to_cpu(hdr.dalb3)) || last >= TELEMETRY_MAX_BLOCKS) {
		log_err("telemetry_log: the controller's header is inconsistent (DALB1-4 %u %u %u %u, data area %u)",
			vfn_le16_to_cpu(hdr.dalb1), vfn_le16_to_cpu(hdr.dalb2), vfn_le16_to_cpu(hdr.dalb3),
			vfn_le32_to_cpu(hdr.dalb4), da);
		return -EPROTO;
	}
	total = (size_t)(last + 1) * VFN_NVME_TELEMETRY_BLOCK;
	log = malloc(total);
	if (!log)
		return -ENOMEM;
	memcpy(log, &hdr, sizeof(hdr));
	/* The rest as it was generated with the header: no new data now. */
	a.lsp = 0;
	a.offset = sizeof(hdr);
	ret = total > sizeof(hdr) ? vfn_dev_log_page(dev, &a, log + sizeof(hdr), total - sizeof(hdr), cqe) : 0;
	if (ret) {
		free(log);
		return ret;
	}
	*buf = log;
	*len = total;
	return 0;
}

#define PEL_MAX_LEN (1ull << 31)

int vfn_dev_persistent_event_log(struct vfn_dev *dev, void **buf, size_t *len, struct vfn_nvme_cqe *cqe)
{
	struct vfn_log_args a = { .lid = VFN_NVME_LOG_PERSISTENT_EVENT, .lsp = VFN_NVME_PEL_ESTABLISH };
	struct vfn_log_args rel = { .lid = VFN_NVME_LOG_PERSISTENT_EVENT, .lsp = VFN_NVME_PEL_RELEASE };
	struct vfn_nvme_pel_hdr hdr;
	size_t first;
	uint64_t tll;
	uint8_t *log;
	int ret;

	if (!buf || !len)
		return -EINVAL;
	/* One command establishes the context (a command per piece would establish it again each time). */
	first = dev->info.max_xfer && dev->info.max_xfer < sizeof(hdr) ? dev->info.max_xfer & ~(size_t)3 : sizeof(hdr);
	if (!first)
		return -EINVAL;
	ret = vfn_dev_log_page(dev, &a, &hdr, first, cqe);
	if (ret)
		return ret;
	a.lsp = VFN_NVME_PEL_READ;
	a.offset = first;
	ret = first < sizeof(hdr) ? vfn_dev_log_page(dev, &a, (uint8_t *)&hdr + first, sizeof(hdr) - first, cqe) : 0;
	if (ret)
		goto release;
	tll = vfn_le64_to_cpu(hdr.tll);
	if (tll < sizeof(hdr) || tll > PEL_MAX_LEN) {
		log_err("persistent_event_log: the controller's TLL %" PRIu64 " is not a log length", tll);
		ret = -EPROTO;
		goto release;
	}
	tll &= ~3ull; /* Get Log Page moves dwords */
	log = malloc(tll);
	if (!log) {
		ret = -ENOMEM;
		goto release;
	}
	memcpy(log, &hdr, sizeof(hdr));
	a.offset = sizeof(hdr);
	ret = tll > sizeof(hdr) ? vfn_dev_log_page(dev, &a, log + sizeof(hdr), tll - sizeof(hdr), cqe) : 0;
	if (ret) {
		free(log);
		goto release;
	}
	*buf = log;
	*len = tll;
release:
	/* The release reads the header again; its status matters only when all else went well. */
	{
		struct vfn_nvme_cqe rcqe;
		int r = vfn_dev_log_page(dev, &rel, &hdr, first, ret ? &rcqe : cqe);

		if (!ret && r) {
			free(*buf);
			*buf = NULL;
			*len = 0;
			ret = r;
		}
	}
	return ret;
}

const struct vfn_nvme_pel_event *vfn_nvme_pel_next(const void *log, size_t len, size_t *off)
{
	const struct vfn_nvme_pel_event *e;
	size_t end;

	if (!log || !off || *off < sizeof(struct vfn_nvme_pel_hdr) || *off >= len ||
	    len - *off < sizeof(struct vfn_nvme_pel_event))
		return NULL;
	e = (const struct vfn_nvme_pel_event *)((const uint8_t *)log + *off);
	end = *off + 3 + e->ehl + vfn_le16_to_cpu(e->el);
	if (e->ehl + 3u < sizeof(*e) || end > len)
		return NULL;
	*off = end;
	return e;
}

const char *vfn_nvme_pel_type_str(uint8_t etype)
{
	switch (etype) {
	case VFN_NVME_PEL_SMART_SNAPSHOT:
		return "SMART Health Log Snapshot";
	case VFN_NVME_PEL_FW_COMMIT:
		return "Firmware Commit";
	case VFN_NVME_PEL_TIMESTAMP_CHANGE:
		return "Timestamp Change";
	case VFN_NVME_PEL_POWER_ON_RESET:
		return "Power-on or Reset";
	case VFN_NVME_PEL_HW_ERROR:
		return "NVM Subsystem Hardware Error";
	case VFN_NVME_PEL_CHANGE_NS:
		return "Change Namespace";
	case VFN_NVME_PEL_FORMAT_START:
		return "Format NVM Start";
	case VFN_NVME_PEL_FORMAT_COMPLETION:
		return "Format NVM Completion";
	case VFN_NVME_PEL_SANITIZE_START:
		return "Sanitize Start";
	case VFN_NVME_PEL_SANITIZE_COMPLETION:
		return "Sanitize Completion";
	case VFN_NVME_PEL_SET_FEATURE:
		return "Set Feature";
	case VFN_NVME_PEL_TELEMETRY_CREATE:
		return "Telemetry Log Create";
	case VFN_NVME_PEL_THERMAL_EXCURSION:
		return "Thermal Excursion";
	case VFN_NVME_PEL_VENDOR:
		return "Vendor Specific";
	case VFN_NVME_PEL_TCG:
		return "TCG Defined";
	default:
		return "Reserved";
	}
}

int vfn_dev_ana_log(struct vfn_dev *dev, bool rgo, void *buf, size_t len, struct vfn_nvme_cqe *cqe)
{
	struct vfn_log_args a = { .lid = VFN_NVME_LOG_ANA, .lsp = rgo ? VFN_NVME_ANA_LSP_RGO : 0 };

	if (!buf || len < sizeof(struct vfn_nvme_ana_log))
		return -EINVAL;
	return vfn_dev_log_page(dev, &a, buf, len, cqe);
}

const struct vfn_nvme_ana_group *vfn_nvme_ana_next(const void *log, size_t len, bool rgo, size_t *off)
{
	const struct vfn_nvme_ana_group *g;
	uint64_t end;

	if (!log || !off || *off < sizeof(struct vfn_nvme_ana_log) || *off >= len ||
	    len - *off < sizeof(struct vfn_nvme_ana_group))
		return NULL;
	g = (const struct vfn_nvme_ana_group *)((const uint8_t *)log + *off);
	end = *off + sizeof(*g) + (rgo ? 0 : 4ull * vfn_le32_to_cpu(g->nnsids));
	if (end > len)
		return NULL;
	*off = (size_t)end;
	return g;
}

const char *vfn_nvme_ana_state_str(uint8_t state)
{
	switch (state & 0xf) {
	case VFN_NVME_ANA_OPTIMIZED:
		return "optimized";
	case VFN_NVME_ANA_NON_OPTIMIZED:
		return "non-optimized";
	case VFN_NVME_ANA_INACCESSIBLE:
		return "inaccessible";
	case VFN_NVME_ANA_PERSISTENT_LOSS:
		return "persistent-loss";
	case VFN_NVME_ANA_CHANGE:
		return "change";
	default:
		return "reserved";
	}
}

static int feat_cmd(struct vfn_dev *dev, uint8_t opcode, uint32_t cdw10, const struct vfn_feat_args *a,
		    uint32_t *result, const void *buf, size_t len, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = mgmt_sqe(opcode, a->nsid);
	struct vfn_nvme_cqe c = { 0 };
	int ret;

	if ((len && !buf) || (!len && buf)) {
		log_debug("features: buffer %p of %zu bytes", buf, len);
		return -EINVAL;
	}
	sqe.cdw10 = vfn_cpu_to_le32(cdw10);
	sqe.cdw11 = vfn_cpu_to_le32(a->cdw11);
	sqe.cdw12 = vfn_cpu_to_le32(a->cdw12);
	sqe.cdw13 = vfn_cpu_to_le32(a->cdw13);
	sqe.cdw14 = vfn_cpu_to_le32(a->cdw14);
	sqe.cdw15 = vfn_cpu_to_le32(a->cdw15);
	ret = mgmt_admin(dev, &sqe, buf, len, &c, 0);
	if (!ret && result)
		*result = vfn_le32_to_cpu(c.dw0);
	if (cqe)
		*cqe = c;
	return ret;
}

int vfn_dev_get_feature(struct vfn_dev *dev, const struct vfn_feat_args *args, uint32_t *result, void *buf, size_t len,
			struct vfn_nvme_cqe *cqe)
{
	if (!args || args->sel > VFN_NVME_FEAT_SEL_SUPPORTED) {
		log_debug("get_feature: NULL args or SEL > 3");
		return -EINVAL;
	}
	return feat_cmd(dev, VFN_NVME_ADMIN_GET_FEATURES, args->fid | (uint32_t)args->sel << VFN_NVME_FEAT_SEL_SHIFT,
			args, result, buf, len, cqe);
}

int vfn_dev_set_feature(struct vfn_dev *dev, const struct vfn_feat_args *args, uint32_t *result, const void *buf,
			size_t len, struct vfn_nvme_cqe *cqe)
{
	if (!args) {
		log_debug("set_feature: NULL args");
		return -EINVAL;
	}
	return feat_cmd(dev, VFN_NVME_ADMIN_SET_FEATURES, args->fid | (args->sv ? VFN_NVME_FEAT_SV : 0), args, result,
			buf, len, cqe);
}

int vfn_dev_format(struct vfn_dev *dev, const struct vfn_format_args *args, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe;
	int ret;

	if (!args || args->lbaf > 63 || args->pi > 7 || args->ses > 7) {
		log_debug("format: NULL args, LBAF > 63, PI > 7 or SES > 7");
		return -EINVAL;
	}
	sqe = mgmt_sqe(VFN_NVME_ADMIN_FORMAT_NVM, args->nsid);
	sqe.cdw10 = vfn_cpu_to_le32(
		(args->lbaf & 0xfu) | (uint32_t)(args->lbaf >> 4) << 12 | (args->mset ? VFN_NVME_FORMAT_MSET : 0) |
		(uint32_t)args->pi << VFN_NVME_FORMAT_PI_SHIFT | (args->pil ? VFN_NVME_FORMAT_PIL : 0) |
		(uint32_t)args->ses << VFN_NVME_FORMAT_SES_SHIFT);
	ret = mgmt_admin(dev, &sqe, NULL, 0, cqe, args->timeout_ms);
	if (!ret)
		mgmt_rescan(dev); /* vfn_dev_admin() read the handle's geometry again */
	return ret;
}

int vfn_dev_ns_create(struct vfn_dev *dev, const struct vfn_nvme_id_ns *ns, uint8_t csi, uint32_t *nsid,
		      struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = mgmt_sqe(VFN_NVME_ADMIN_NS_MGMT, 0);
	struct vfn_nvme_cqe c = { 0 };
	int ret;

	if (!ns || !nsid) {
		log_debug("ns_create: NULL data or nsid");
		return -EINVAL;
	}
	sqe.cdw10 = vfn_cpu_to_le32(VFN_NVME_NS_MGMT_CREATE);
	sqe.cdw11 = vfn_cpu_to_le32((uint32_t)csi << 24);
	ret = mgmt_admin(dev, &sqe, ns, sizeof(*ns), &c, 0);
	if (!ret) {
		*nsid = vfn_le32_to_cpu(c.dw0);
		mgmt_rescan(dev);
	}
	if (cqe)
		*cqe = c;
	return ret;
}

int vfn_dev_ns_delete(struct vfn_dev *dev, uint32_t nsid, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = mgmt_sqe(VFN_NVME_ADMIN_NS_MGMT, nsid);
	int ret;

	if (!nsid) {
		log_debug("ns_delete: namespace 0");
		return -EINVAL;
	}
	sqe.cdw10 = vfn_cpu_to_le32(VFN_NVME_NS_MGMT_DELETE);
	ret = mgmt_admin(dev, &sqe, NULL, 0, cqe, 0);
	if (!ret)
		mgmt_rescan(dev); /* vfn_dev_admin() read the handle's geometry again (gone: nsze 0) */
	return ret;
}

int vfn_dev_ns_attach(struct vfn_dev *dev, uint32_t nsid, bool detach, const uint16_t *cntlids, unsigned int n,
		      struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = mgmt_sqe(VFN_NVME_ADMIN_NS_ATTACH, nsid);
	struct vfn_nvme_ctrl_list list;
	int ret;

	if (!nsid || !cntlids || !n || n > 2047) {
		log_debug("ns_attach: namespace 0 or %u controllers (1..2047)", n);
		return -EINVAL;
	}
	memset(&list, 0, sizeof(list));
	list.num = vfn_cpu_to_le16((uint16_t)n);
	for (unsigned int i = 0; i < n; i++)
		list.identifier[i] = vfn_cpu_to_le16(cntlids[i]);
	sqe.cdw10 = vfn_cpu_to_le32(detach ? VFN_NVME_NS_DETACH : VFN_NVME_NS_ATTACH);
	ret = mgmt_admin(dev, &sqe, &list, sizeof(list), cqe, 0);
	if (!ret)
		mgmt_rescan(dev); /* vfn_dev_admin() read the handle's geometry again */
	return ret;
}

/* The largest firmware piece: the transfer limit, and FWUG's granularity when it sets one. */
static int fw_piece(struct vfn_dev *dev, size_t *xfer, struct vfn_nvme_cqe *cqe)
{
	struct vfn_identify_args a = { .cns = VFN_NVME_CNS_CTRL };
	struct vfn_nvme_id_ctrl id;
	size_t max = dev->info.max_xfer ? dev->info.max_xfer : (size_t)1 << 20;
	int ret = vfn_dev_identify_args(dev, &a, &id, sizeof(id), cqe);

	if (ret)
		return ret;
	/* FWUG: 4 KiB units; 0 no information, 0xff no restriction. */
	if (id.fwug && id.fwug != 0xff) {
		size_t g = (size_t)id.fwug * 4096;

		max = max >= g ? max / g * g : g;
	}
	*xfer = max;
	return 0;
}

int vfn_dev_fw_download(struct vfn_dev *dev, const void *img, size_t len, size_t xfer, struct vfn_nvme_cqe *cqe)
{
	size_t done = 0;
	int ret = 0;

	if (!dev || !img || !len || len % 4 || xfer % 4 || len / 4 > (1ull << 32)) {
		log_debug("fw_download: %zu bytes in pieces of %zu: not dwords", len, xfer);
		return -EINVAL;
	}
	if (!xfer) {
		ret = fw_piece(dev, &xfer, cqe);
		if (ret)
			return ret;
	}
	while (!ret && done < len) {
		size_t n = len - done < xfer ? len - done : xfer;
		struct vfn_nvme_sqe sqe = mgmt_sqe(VFN_NVME_ADMIN_FW_DOWNLOAD, 0);

		sqe.cdw10 = vfn_cpu_to_le32((uint32_t)(n / 4 - 1)); /* NUMD, 0's based */
		sqe.cdw11 = vfn_cpu_to_le32((uint32_t)(done / 4));  /* OFST, dwords */
		ret = mgmt_admin(dev, &sqe, (const uint8_t *)img + done, n, cqe, 0);
		done += n;
	}
	return ret;
}

int vfn_dev_fw_commit(struct vfn_dev *dev, uint8_t fs, uint8_t ca, bool bpid, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = mgmt_sqe(VFN_NVME_ADMIN_FW_COMMIT, 0);
	struct vfn_nvme_cqe c = { 0 };
	int ret;

	if (fs > 7 || ca > 7) {
		log_debug("fw_commit: slot %u or action %u > 7", fs, ca);
		return -EINVAL;
	}
	sqe.cdw10 = vfn_cpu_to_le32(fs | (uint32_t)ca << VFN_NVME_FW_COMMIT_CA_SHIFT | (bpid ? 1u << 31 : 0));
	ret = mgmt_admin(dev, &sqe, NULL, 0, &c, 0);
	/* Committed, to activate at a reset: the kernel may need to look again afterwards. */
	if (!ret || (vfn_nvme_cqe_status(&c) & 0x7ff) == VFN_NVME_SC_FW_NEEDS_CONV_RESET)
		mgmt_rescan(dev);
	if (cqe)
		*cqe = c;
	return ret;
}

int vfn_dev_self_test(struct vfn_dev *dev, uint32_t nsid, uint8_t stc, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = mgmt_sqe(VFN_NVME_ADMIN_DEV_SELF_TEST, nsid);

	if (stc > 0xf) {
		log_debug("self_test: code 0x%x > 0xf", stc);
		return -EINVAL;
	}
	sqe.cdw10 = vfn_cpu_to_le32(stc);
	return mgmt_admin(dev, &sqe, NULL, 0, cqe, 0);
}

int vfn_dev_sanitize(struct vfn_dev *dev, const struct vfn_sanitize_args *args, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = mgmt_sqe(VFN_NVME_ADMIN_SANITIZE, 0);

	if (!args || args->sanact < VFN_NVME_SANACT_EXIT_FAILURE || args->sanact > VFN_NVME_SANACT_CRYPTO_ERASE ||
	    args->owpass > 15) {
		log_debug("sanitize: NULL args, SANACT not 1..4 or OWPASS > 15");
		return -EINVAL;
	}
	sqe.cdw10 = vfn_cpu_to_le32(args->sanact | (args->ause ? VFN_NVME_SANITIZE_AUSE : 0) |
				    (uint32_t)args->owpass << VFN_NVME_SANITIZE_OWPASS_SHIFT |
				    (args->oipbp ? VFN_NVME_SANITIZE_OIPBP : 0) |
				    (args->ndas ? VFN_NVME_SANITIZE_NDAS : 0));
	sqe.cdw11 = vfn_cpu_to_le32(args->ovrpat);
	return mgmt_admin(dev, &sqe, NULL, 0, cqe, 0);
}

static int security(struct vfn_dev *dev, uint8_t opcode, uint32_t nsid, uint8_t secp, uint16_t spsp, uint8_t nssf,
		    const void *buf, size_t len, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = mgmt_sqe(opcode, nsid);

	if ((len && !buf) || len > UINT32_MAX) {
		log_debug("security: buffer %p of %zu bytes", buf, len);
		return -EINVAL;
	}
	sqe.cdw10 = vfn_cpu_to_le32((uint32_t)secp << 24 | (uint32_t)spsp << 8 | nssf);
	sqe.cdw11 = vfn_cpu_to_le32((uint32_t)len);
	return mgmt_admin(dev, &sqe, buf, len, cqe, 0);
}

int vfn_dev_security_send(struct vfn_dev *dev, uint32_t nsid, uint8_t secp, uint16_t spsp, uint8_t nssf,
			  const void *buf, size_t len, struct vfn_nvme_cqe *cqe)
{
	return security(dev, VFN_NVME_ADMIN_SECURITY_SEND, nsid, secp, spsp, nssf, buf, len, cqe);
}

int vfn_dev_security_recv(struct vfn_dev *dev, uint32_t nsid, uint8_t secp, uint16_t spsp, uint8_t nssf, void *buf,
			  size_t len, struct vfn_nvme_cqe *cqe)
{
	return security(dev, VFN_NVME_ADMIN_SECURITY_RECV, nsid, secp, spsp, nssf, buf, len, cqe);
}
