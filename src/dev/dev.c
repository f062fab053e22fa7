/* SPDX-License-Identifier: MIT */
/*
 * The device handle: the backend table, open/close, the identity and
 * geometry derived from Identify, and the command-level API dispatched to
 * the backend (dev-ctrl.c: VFIO and the simulator; dev-kernel.c: the
 * kernel nvme driver).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vfn/spec.h>
#include <vfn/pi.h>
#include <vfn/mgmt.h>
#include <vfn/sim.h>
#include <vfn/zns.h>

#include "dev/dev-priv.h"
#include "nvme/ctrl-priv.h"
#include "nvme/pi-priv.h"
#include "support/log.h"
#include "support/text.h"

#define DEV_WHY_LEN 160
#define DEV_NR_BACKENDS 3
#define DEV_MAX_NLB 65536u
#define DEV_DEFAULT_TIMEOUT_MS 30000u

/*
 * In claim order: "sim:" before the kernel's "any string with a /", so a
 * sim: string with a '/' in an option (sim:sn=a/b) stays the simulator's;
 * a path that starts with "sim:" is written "./sim:...".
 */
static const struct vfn_dev_backend_desc *const dev_backends[DEV_NR_BACKENDS] = {
	&vfn_dev_backend_vfio,
	&vfn_dev_backend_sim,
	&vfn_dev_backend_kernel,
};

/* ---- Identify ----------------------------------------------------------- */

/* Identify Controller: VID, SN, MN, FR, CNTLID, VER, NN (MDTS: the backend's to scale). */
static void dev_decode_ctrl(struct vfn_dev *dev, const struct vfn_nvme_id_ctrl *id)
{
	struct vfn_dev_info *info = &dev->info;

	dev->mdts = id->mdts;
	info->vid = vfn_le16_to_cpu(id->vid);
	vfn_id_string(info->sn, id->sn, sizeof(id->sn));
	vfn_id_string(info->mn, id->mn, sizeof(id->mn));
	vfn_id_string(info->fr, id->fr, sizeof(id->fr));
	info->cntlid = vfn_le16_to_cpu(id->cntlid);
	info->ver = vfn_le32_to_cpu(id->ver);
	info->nn = vfn_le32_to_cpu(id->nn);
	dev->ctratt = vfn_le32_to_cpu(id->ctratt);
}

/* Identify Namespace: NSZE, NCAP, NLBAF, FLBAS and the format in use; PI
 * from DPS and (@nvm, NVM Command Set Identify Namespace, may be NULL) ELBAF. */
static void dev_decode_ns(struct vfn_dev_info *info, const struct vfn_nvme_id_ns *id, const uint8_t *nvm)
{
	unsigned int idx = vfn_nvme_flbas_index(id->flbas);
	const struct vfn_nvme_lbaf *lbaf = &id->lbaf[idx];

	info->nsze = vfn_le64_to_cpu(id->nsze);
	info->ncap = vfn_le64_to_cpu(id->ncap);
	info->nlbaf = id->nlbaf;
	info->flbas = (uint8_t)idx;
	info->ms = vfn_le16_to_cpu(lbaf->ms);
	info->mset = (id->flbas & VFN_NVME_FLBAS_MSET) != 0;
	info->lba_size = lbaf->ds < 32 ? 1u << lbaf->ds : 0;
	info->block_size = info->lba_size + info->ms;
	vfn_pi_geometry((const uint8_t *)id, nvm, idx, &info->pi_type, &info->pi_first, &info->pif);
}

/* The NVM Command Set Identify Namespace into @nvm, if CTRATT.ELBAS says it is there. */
static bool dev_get_nvm(struct vfn_dev *dev, uint32_t nsid, uint8_t *nvm)
{
	if (!(dev->ctratt & VFN_PI_CTRATT_ELBAS))
		return false;
	if (vfn_dev_identify(dev, VFN_PI_CNS_NS_NVM, nsid, nvm, NULL)) {
		log_debug("%s: no NVM Command Set Identify Namespace %u: 16-bit guard", dev->info.name, nsid);
		return false;
	}
	return true;
}

/*
 * True if namespace @nsid's Namespace Identification Descriptor list
 * (CNS 03h) carries a CSI descriptor of the Zoned Namespace Command Set.
 * A VFIO / sim controller that did not enable that command set at bring-up
 * (CC.CSS, the I/O Command Set Profile) is not asked.
 */
static bool dev_ns_is_zoned(struct vfn_dev *dev, uint32_t nsid)
{
	uint8_t *list;
	bool zoned = false;

	if (dev->ctrl && !(dev->ctrl->iocs_vector & (1ull << VFN_NVME_CSI_ZNS)))
		return false;
	list = calloc(1, VFN_NVME_IDENTIFY_DATA_SIZE);
	if (!list)
		return false;
	if (vfn_dev_identify(dev, VFN_NVME_CNS_NS_DESC_LIST, nsid, list, NULL)) {
		free(list);
		return false;
	}
	/* Byte by byte: a CSI descriptor (NIDL 1) leaves the next one at an odd offset. */
	for (size_t off = 0; off + sizeof(struct vfn_nvme_ns_id_desc) <= VFN_NVME_IDENTIFY_DATA_SIZE;) {
		uint8_t nidt = list[off], nidl = list[off + 1];

		if (!nidt || !nidl)
			break;
		if (nidt == VFN_NVME_NIDT_CSI && off + sizeof(struct vfn_nvme_ns_id_desc) < VFN_NVME_IDENTIFY_DATA_SIZE)
			zoned = list[off + sizeof(struct vfn_nvme_ns_id_desc)] == VFN_NVME_CSI_ZNS;
		off += sizeof(struct vfn_nvme_ns_id_desc) + nidl;
	}
	free(list);
	return zoned;
}

/*
 * The zone geometry of namespace @nsid into dev->info (all 0 when it is not
 * zoned or its ZNS Identify fails).  The zone capacity needs an I/O command
 * (a one-zone report), so the handle's limits must be known already.
 */
static void dev_decode_zoned(struct vfn_dev *dev, uint32_t nsid)
{
	struct vfn_dev_info *info = &dev->info;
	struct vfn_zns_info zi;
	bool had_qp;
	int ret;

	info->zoned = false;
	info->zone_size = info->zone_cap = info->nr_zones = 0;
	info->max_open_zones = info->max_active_zones = 0;
	info->zde_size = info->zrwa_size = info->zrwa_fg = info->nr_zrwa = 0;
	if (!nsid || !dev_ns_is_zoned(dev, nsid))
		return;
	had_qp = dev->sync_qp != NULL;
	ret = vfn_dev_zns_geometry(dev, nsid, &zi, info->io, NULL);
	/* The one-zone report needed an I/O queue: a handle just opened keeps none (Set Features that want none). */
	if (!had_qp)
		vfn_dev_ctrl_sync_qp_drop(dev);
	if (ret) {
		log_info("%s: namespace %u is zoned, but its zone geometry is unreadable", info->name, nsid);
		return;
	}
	info->zoned = true;
	info->zone_size = zi.zsze;
	info->zone_cap = zi.zcap;
	info->nr_zones = zi.nr_zones;
	info->max_open_zones = zi.mor;
	info->max_active_zones = zi.mar;
	info->zde_size = zi.zde_size;
	info->zrwa_size = zi.zrwa_size;
	info->zrwa_fg = zi.zrwa_fg;
	info->nr_zrwa = zi.nr_zrwa;
}

/* The namespace the geometry is of: the node's, the asked one, or the first active. */
static int dev_pick_nsid(struct vfn_dev *dev, const struct vfn_dev_opts *opts, uint32_t *nsid)
{
	uint32_t want = opts ? opts->nsid : 0;
	int n;

	if (dev->kdev && dev->kdev->nsid) {
		if (want && want != dev->kdev->nsid) {
			log_err("%s: is namespace %u, not %u", dev->info.name, dev->kdev->nsid, want);
			return -EINVAL;
		}
		*nsid = dev->kdev->nsid;
		return 0;
	}
	if (want) {
		*nsid = want;
		return 0;
	}
	n = vfn_dev_ns_list(dev, 0, nsid, 1);
	if (n < 0)
		return n;
	if (!n)
		*nsid = 0;
	return 0;
}

int vfn_dev_refresh_ns(struct vfn_dev *dev)
{
	struct vfn_nvme_id_ns *id;
	uint8_t *nvm;
	int ret;

	vfn_dev_forget_other_ns(dev);
	if (!dev->info.nsid)
		return 0;
	id = malloc(sizeof(*id));
	nvm = malloc(VFN_NVME_IDENTIFY_DATA_SIZE);
	if (!id || !nvm) {
		ret = -ENOMEM;
		goto out;
	}
	ret = vfn_dev_identify(dev, VFN_NVME_CNS_NS, dev->info.nsid, id, NULL);
	if (ret)
		memset(id, 0, sizeof(*id)); /* gone (deleted, detached) or unreadable: no I/O until known again */
	dev_decode_ns(&dev->info, id, !ret && dev_get_nvm(dev, dev->info.nsid, nvm) ? nvm : NULL);
	if (!dev->info.nsze || !dev->info.lba_size)
		log_info("%s: namespace %u is not active after the change", dev->info.name, dev->info.nsid);
	dev_decode_zoned(dev, ret ? 0 : dev->info.nsid);
out:
	free(id);
	free(nvm);
	return ret;
}

void vfn_dev_forget_other_ns(struct vfn_dev *dev)
{
	memset(dev->other_ns, 0, sizeof(dev->other_ns));
	dev->other_next = 0;
}

const struct vfn_dev_info *vfn_dev_ns_geometry(struct vfn_dev *dev, uint32_t nsid)
{
	const unsigned int nslots = sizeof(dev->other_ns) / sizeof(dev->other_ns[0]);
	struct vfn_nvme_cqe c = { 0 };
	struct vfn_dev_info *g;
	struct vfn_nvme_id_ns *id;
	uint16_t sc;
	uint8_t *nvm;
	int ret;

	if (nsid == dev->info.nsid || !nsid || nsid == 0xffffffff)
		return &dev->info;
	for (unsigned int i = 0; i < nslots; i++)
		if (dev->other_ns[i].nsid == nsid)
			return &dev->other_ns[i];
	id = malloc(sizeof(*id));
	nvm = malloc(VFN_NVME_IDENTIFY_DATA_SIZE);
	ret = id && nvm ? vfn_dev_identify(dev, VFN_NVME_CNS_NS, nsid, id, &c) : -ENOMEM;
	sc = vfn_nvme_cqe_status(&c) & 0x7ff;
	g = &dev->other_ns[dev->other_next];
	if (!ret && id->nsze) {
		*g = dev->info;
		g->nsid = nsid;
		dev_decode_ns(g, id, dev_get_nvm(dev, nsid, nvm) ? nvm : NULL);
		dev->other_next = (dev->other_next + 1) % nslots;
	} else if (!ret || (ret == -EIO && (sc == VFN_NVME_SC_INVALID_NS || sc == VFN_NVME_SC_INVALID_FIELD))) {
		/* Not active (zeroed data) or not a namespace id: the controller refuses the I/O itself. */
		log_debug("%s: namespace %u: not active; sized as namespace %u", dev->info.name, nsid, dev->info.nsid);
		g = &dev->info;
	} else {
		/*
		 * Unknown (timeout, another error status, no memory): sizing by
		 * the handle's namespace could have the controller move more
		 * than the caller's buffer holds, so nothing is sent.
		 */
		log_err("%s: namespace %u: Identify Namespace failed (%s, status 0x%x): its block size is unknown",
			dev->info.name, nsid, strerror(-ret), vfn_nvme_cqe_status(&c));
		g = NULL;
	}
	free(id);
	free(nvm);
	return g;
}

static int dev_identify_all(struct vfn_dev *dev, const struct vfn_dev_opts *opts)
{
	union {
		struct vfn_nvme_id_ctrl ctrl;
		struct vfn_nvme_id_ns ns;
	} *id = malloc(sizeof(*id));
	struct vfn_nvme_cqe cqe = { 0 };
	uint32_t nsid = 0;
	int ret;

	if (!id)
		return -ENOMEM;
	ret = vfn_dev_identify(dev, VFN_NVME_CNS_CTRL, 0, id, NULL);
	if (ret) {
		log_err("%s: Identify Controller failed: %s", dev->info.name, strerror(-ret));
		goto free_id;
	}
	dev_decode_ctrl(dev, &id->ctrl);
	ret = dev_pick_nsid(dev, opts, &nsid);
	if (ret || !nsid)
		goto free_id;
	ret = vfn_dev_identify(dev, VFN_NVME_CNS_NS, nsid, id, &cqe);
	if (ret == -EIO && (vfn_nvme_cqe_status(&cqe) & 0x7ff) == VFN_NVME_SC_INVALID_NS) {
		memset(id, 0, sizeof(*id)); /* not active: said below */
	} else if (ret) {
		log_err("%s: Identify Namespace %u failed: %s", dev->info.name, nsid, strerror(-ret));
		goto free_id;
	}
	uint8_t *nvm = malloc(VFN_NVME_IDENTIFY_DATA_SIZE);

	if (!nvm) {
		ret = -ENOMEM;
		goto free_id;
	}
	dev_decode_ns(&dev->info, &id->ns, dev_get_nvm(dev, nsid, nvm) ? nvm : NULL);
	free(nvm);
	if (!dev->info.nsze || !dev->info.lba_size) {
		log_err("%s: namespace %u is not active", dev->info.name, nsid);
		ret = -ENOENT;
		goto free_id;
	}
	dev->info.nsid = nsid;
free_id:
	free(id);
	return ret;
}

/* ---- the backend table ---------------------------------------------------- */

static const struct vfn_dev_backend_desc *dev_backend_by_name(const char *name)
{
	for (int i = 0; i < DEV_NR_BACKENDS; i++)
		if (!strcmp(dev_backends[i]->name, name))
			return dev_backends[i];
	log_err("unknown backend \"%s\" (known: vfio, kernel, sim)", name);
	return NULL;
}

/*
 * The backend that claims @uri.  When none does, logs each one's reason and
 * returns the error of the one whose kind of string it was (else -EINVAL).
 */
static int dev_choose(const char *uri, const char *forced, const struct vfn_dev_backend_desc **out)
{
	char why[DEV_NR_BACKENDS][DEV_WHY_LEN];
	int err = -EINVAL, ret;

	for (int i = 0; i < DEV_NR_BACKENDS; i++) {
		const struct vfn_dev_backend_desc *b = dev_backends[i];

		why[i][0] = '\0';
		if (forced && strcmp(forced, b->name))
			continue;
		ret = b->probe(uri, why[i], DEV_WHY_LEN);
		if (!ret) {
			*out = b;
			return 0;
		}
		if (ret != -EINVAL)
			err = ret;
	}
	log_err("\"%s\": no backend can open it:", uri);
	for (int i = 0; i < DEV_NR_BACKENDS; i++)
		if (why[i][0])
			log_err("  %s: %s", dev_backends[i]->name, why[i]);
	return err;
}

static int dev_open_with(const struct vfn_dev_backend_desc *b, const char *uri, const struct vfn_dev_opts *opts,
			 struct vfn_dev **out)
{
	struct vfn_dev *dev = calloc(1, sizeof(*dev));
	int ret;

	if (!dev)
		return -ENOMEM;
	dev->ops = b->ops;
	dev->info.backend = b->id;
	snprintf(dev->info.backend_name, sizeof(dev->info.backend_name), "%s", b->name);
	snprintf(dev->info.name, sizeof(dev->info.name), "%s", uri);
	dev->timeout_ms = opts ? opts->timeout_ms : 0;
	ret = b->open(dev, uri, opts);
	if (ret)
		goto free_dev;
	ret = dev_identify_all(dev, opts);
	if (ret)
		goto close_backend;
	dev->ops->limits(dev);
	dev_decode_zoned(dev, dev->info.nsid);
	log_debug("%s: %s backend, \"%s\", nsid %u: %llu x %u-byte blocks", uri, b->name, dev->info.mn, dev->info.nsid,
		  (unsigned long long)dev->info.nsze, dev->info.lba_size);
	*out = dev;
	return 0;
close_backend:
	dev->ops->close(dev);
free_dev:
	free(dev);
	return ret;
}

int vfn_dev_open(const char *uri, const struct vfn_dev_opts *opts, struct vfn_dev **out)
{
	const struct vfn_dev_backend_desc *b = NULL;
	const char *forced = opts ? opts->backend : NULL;
	int ret;

	if (!uri || !out) {
		log_debug("dev_open: NULL %s", uri ? "out" : "uri");
		return -EINVAL;
	}
	if (forced && !dev_backend_by_name(forced))
		return -EINVAL;
	ret = dev_choose(uri, forced, &b);
	if (ret)
		return ret;
	return dev_open_with(b, uri, opts, out);
}

int vfn_dev_from_ctrl(struct vfn_nvme_ctrl *ctrl, struct vfn_dev **out)
{
	struct vfn_dev *dev;
	int ret;

	if (!ctrl || !out)
		return -EINVAL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->info.backend = vfn_nvme_ctrl_sim(ctrl) ? VFN_DEV_SIM : VFN_DEV_VFIO;
	snprintf(dev->info.backend_name, sizeof(dev->info.backend_name), "%s",
		 dev->info.backend == VFN_DEV_SIM ? "sim" : "vfio");
	snprintf(dev->info.name, sizeof(dev->info.name), "ctrl(%s)", vfn_nvme_ctrl_get_info(ctrl)->sn);
	vfn_dev_ctrl_borrow(dev, ctrl);
	ret = dev_identify_all(dev, NULL);
	if (ret) {
		dev->ops->close(dev);
		free(dev);
		return ret;
	}
	dev->ops->limits(dev);
	*out = dev;
	return 0;
}

/*
 * Tears @q down as vfn_dev_queue_destroy() does, but leaves the handle to
 * the caller: it now answers -ENODEV, and vfn_dev_queue_destroy() frees it.
 */
static void dev_queue_orphan(struct vfn_dev_queue *q)
{
	q->ops->queue_destroy(q);
	q->ops = &vfn_dev_orphan_ops;
	q->dev = NULL;
	q->next = NULL;
	q->inflight = 0;
	q->ctx = NULL;
	q->qp = NULL;
	q->ring = NULL;
	q->free_slots = NULL;
	q->done = NULL;
}

void vfn_dev_close(struct vfn_dev *dev)
{
	struct vfn_dev_queue *q, *next;

	if (!dev)
		return;
	if (dev->nr_queues)
		log_info("%s: closing %u open queue(s) with it; vfn_dev_queue_destroy() still frees each",
			 dev->info.name, dev->nr_queues);
	for (q = dev->queues; q; q = next) {
		next = q->next;
		dev_queue_orphan(q);
	}
	dev->ops->close(dev);
	free(dev);
}

const struct vfn_dev_info *vfn_dev_get_info(const struct vfn_dev *dev)
{
	return &dev->info;
}

struct vfn_nvme_ctrl *vfn_dev_nvme_ctrl(struct vfn_dev *dev)
{
	if (!dev->ctrl) {
		log_info("%s: registers, raw queues and interrupts are not reachable through the kernel driver; "
			 "bind the controller to vfio-pci to use them",
			 dev->info.name);
		errno = ENOTSUP;
	}
	return dev->ctrl;
}

/* ---- commands ----------------------------------------------------------- */

/*
 * Gives the caller (@cqe, may be NULL) the controller's completion @c, or,
 * when the controller did not complete the command, a made-up one:
 * Command Aborted By Host, DW0/DW1 0.  Returns @ret.
 */
static int dev_finish(int ret, const struct vfn_nvme_cqe *c, struct vfn_nvme_cqe *cqe)
{
	if (!cqe)
		return ret;
	if (vfn_dev_completed(ret, c))
		*cqe = *c;
	else
		*cqe = (struct vfn_nvme_cqe){ .sfp = vfn_cpu_to_le16((uint16_t)(VFN_NVME_SC_HOST_ABORTED << 1)) };
	return ret;
}

int vfn_dev_admin(struct vfn_dev *dev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, struct vfn_nvme_cqe *cqe,
		  uint32_t timeout_ms)
{
	struct vfn_nvme_cqe c = { 0 };
	int ret;

	if (!sqe || (len && !buf)) {
		log_debug("dev_admin: %s", sqe ? "a length without a buffer" : "NULL sqe");
		return dev_finish(-EINVAL, &c, cqe);
	}
	ret = dev->ops->admin(dev, sqe, buf, len, &c, timeout_ms ? timeout_ms : dev->timeout_ms);
	/*
	 * A command that may change namespace formats (Format NVM, Namespace
	 * Management/Attachment), sent through this passthrough too: the
	 * geometry Read/Write size their transfers by is read again, as the
	 * kernel driver revalidates after such a passthrough command (a stale
	 * 512-byte geometry on a namespace now of 4096-byte blocks has the
	 * controller move 8x the buffer vfn_dev_rw() checked).  When the
	 * controller acted, failed or timed out: it may have changed them.
	 */
	if ((sqe->opcode == VFN_NVME_ADMIN_FORMAT_NVM || sqe->opcode == VFN_NVME_ADMIN_NS_MGMT ||
	     sqe->opcode == VFN_NVME_ADMIN_NS_ATTACH) &&
	    (!ret || ret == -EIO || ret == -ETIMEDOUT))
		vfn_dev_refresh_ns(dev);
	return dev_finish(ret, &c, cqe);
}

int vfn_dev_io(struct vfn_dev *dev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, struct vfn_nvme_cqe *cqe,
	       uint32_t timeout_ms)
{
	struct vfn_nvme_cqe c = { 0 };
	int ret;

	if (!sqe || (len && !buf)) {
		log_debug("dev_io: %s", sqe ? "a length without a buffer" : "NULL sqe");
		return dev_finish(-EINVAL, &c, cqe);
	}
	ret = dev->ops->io(dev, sqe, buf, len, &c, timeout_ms ? timeout_ms : dev->timeout_ms);
	return dev_finish(ret, &c, cqe);
}

int vfn_dev_plain_len(struct vfn_dev *dev, uint32_t nsid, uint32_t nlb, size_t *len)
{
	const struct vfn_dev_info *in = vfn_dev_ns_geometry(dev, nsid);

	if (!in)
		return -EIO;
	*len = (size_t)nlb * in->lba_size;
	if (!nlb || nlb > DEV_MAX_NLB || !in->lba_size) {
		log_debug("%s: %u blocks: out of 1..%u (or no namespace)", in->name, nlb, DEV_MAX_NLB);
		return -EINVAL;
	}
	if (in->ms) {
		log_debug("%s: namespace %u has %u bytes of metadata per block (LBA format %u%s): not supported",
			  in->name, in->nsid, in->ms, in->flbas, in->mset ? ", extended LBA" : "");
		return -ENOTSUP;
	}
	if (in->max_xfer && *len > in->max_xfer) {
		log_debug("%s: %zu bytes exceed the %zu-byte transfer limit", in->name, *len, in->max_xfer);
		return -EINVAL;
	}
	return 0;
}

/* Read or Write: checks @nlb against the limits, then vfn_dev_io(). */
static int dev_rw(struct vfn_dev *dev, uint8_t opcode, uint32_t nsid, uint64_t slba, uint32_t nlb, void *buf)
{
	struct vfn_nvme_sqe sqe = {
		.opcode = opcode,
		.nsid = vfn_cpu_to_le32(nsid),
		.cdw10 = vfn_cpu_to_le32((uint32_t)slba),
		.cdw11 = vfn_cpu_to_le32((uint32_t)(slba >> 32)),
		.cdw12 = vfn_cpu_to_le32(nlb - 1),
	};
	size_t len;
	int ret;

	if (!dev)
		return -EINVAL;
	ret = vfn_dev_plain_len(dev, nsid, nlb, &len);
	if (ret)
		return ret;
	return vfn_dev_io(dev, &sqe, buf, len, NULL, 0);
}

/* The sizes one vfn_dev_rw() moves, or -EINVAL. */
static int dev_rw_sizes(const struct vfn_dev_info *in, uint8_t opcode, uint32_t nlb, const struct vfn_dev_rw_opts *o,
			size_t *len, size_t *meta_len)
{
	uint8_t prinfo = o ? o->prinfo : 0;
	bool data = opcode != VFN_NVME_CMD_WRITE_ZEROES;
	bool moves = data && vfn_pi_meta_moves(in->ms, in->pi_type, in->pif, prinfo);

	if (opcode != VFN_NVME_CMD_READ && opcode != VFN_NVME_CMD_WRITE && opcode != VFN_NVME_CMD_COMPARE &&
	    opcode != VFN_NVME_CMD_WRITE_ZEROES) {
		log_debug("%s: opcode 0x%02x is not Read, Write, Compare or Write Zeroes", in->name, opcode);
		return -EINVAL;
	}
	if (!nlb || nlb > DEV_MAX_NLB || !in->lba_size) {
		log_debug("%s: %u blocks: out of 1..%u (or no namespace)", in->name, nlb, DEV_MAX_NLB);
		return -EINVAL;
	}
	if ((prinfo & ~0xfu) || (prinfo && !in->pi_type)) {
		log_debug("%s: PRINFO 0x%x on namespace %u with PI type %u", in->name, prinfo, in->nsid, in->pi_type);
		return -EINVAL;
	}
	if (o && in->pi_type && o->ref_tag > (in->pif == VFN_PI_PIF_64 ? 0xffffffffffffULL : 0xffffffffULL)) {
		log_debug("%s: reference tag 0x%llx does not fit namespace %u's %u-bit tags", in->name,
			  (unsigned long long)o->ref_tag, in->nsid, in->pif == VFN_PI_PIF_64 ? 48 : 32);
		return -EINVAL;
	}
	*len = data ? (size_t)nlb * (moves && in->mset ? in->block_size : in->lba_size) : 0;
	*meta_len = moves && !in->mset ? (size_t)nlb * in->ms : 0;
	if ((o && o->meta) != (*meta_len != 0) || (o && o->meta_len < *meta_len)) {
		log_debug("%s: the command moves %zu bytes of separate metadata; given %zu", in->name, *meta_len,
			  o && o->meta ? o->meta_len : 0);
		return -EINVAL;
	}
	if (in->max_xfer && *len > in->max_xfer) {
		log_debug("%s: %zu bytes exceed the %zu-byte transfer limit", in->name, *len, in->max_xfer);
		return -EINVAL;
	}
	return 0;
}

int vfn_dev_rw(struct vfn_dev *dev, uint8_t opcode, uint32_t nsid, uint64_t slba, uint32_t nlb, void *buf, size_t len,
	       const struct vfn_dev_rw_opts *opts, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_cqe c = { 0 };
	size_t need, meta_len;
	const struct vfn_dev_info *in = dev ? vfn_dev_ns_geometry(dev, nsid) : NULL;
	int ret = in ? dev_rw_sizes(in, opcode, nlb, opts, &need, &meta_len) : dev ? -EIO : -EINVAL;
	uint64_t ref = opts ? opts->ref_tag : 0;

	if (!ret && len < need) {
		log_debug("%s: %u blocks move %zu bytes; the buffer has %zu", dev->info.name, nlb, need, len);
		ret = -EINVAL;
	}
	if (ret)
		return dev_finish(ret, &c, cqe);
	struct vfn_nvme_sqe sqe = {
		.opcode = opcode,
		.nsid = vfn_cpu_to_le32(nsid),
		.cdw3 = vfn_cpu_to_le32(in->pif == VFN_PI_PIF_64 ? (uint32_t)(ref >> 32) & 0xffff : 0),
		.cdw10 = vfn_cpu_to_le32((uint32_t)slba),
		.cdw11 = vfn_cpu_to_le32((uint32_t)(slba >> 32)),
		.cdw12 = vfn_cpu_to_le32((nlb - 1) | (opts ? (uint32_t)opts->prinfo << VFN_PI_PRINFO_SHIFT : 0) |
					 (opts && opts->fua ? 1u << 30 : 0)),
		.cdw14 = vfn_cpu_to_le32((uint32_t)ref),
		.cdw15 = vfn_cpu_to_le32(opts ? (uint32_t)opts->app_mask << 16 | opts->app_tag : 0),
	};

	if (!meta_len)
		return vfn_dev_io(dev, &sqe, need ? buf : NULL, need, cqe, 0);
	ret = dev->ops->io_meta(dev, &sqe, buf, need, opts->meta, meta_len, &c, dev->timeout_ms);
	return dev_finish(ret, &c, cqe);
}

int vfn_dev_read(struct vfn_dev *dev, uint32_t nsid, uint64_t slba, uint32_t nlb, void *buf)
{
	return dev_rw(dev, VFN_NVME_CMD_READ, nsid, slba, nlb, buf);
}

int vfn_dev_write(struct vfn_dev *dev, uint32_t nsid, uint64_t slba, uint32_t nlb, const void *buf)
{
	return dev_rw(dev, VFN_NVME_CMD_WRITE, nsid, slba, nlb, (void *)buf);
}

int vfn_dev_flush(struct vfn_dev *dev, uint32_t nsid)
{
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_FLUSH, .nsid = vfn_cpu_to_le32(nsid) };

	return vfn_dev_io(dev, &sqe, NULL, 0, NULL, 0);
}

int vfn_dev_identify(struct vfn_dev *dev, uint8_t cns, uint32_t nsid, void *buf, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = {
		.opcode = VFN_NVME_ADMIN_IDENTIFY,
		.nsid = vfn_cpu_to_le32(nsid),
		.cdw10 = vfn_cpu_to_le32(cns),
	};

	return vfn_dev_admin(dev, &sqe, buf, VFN_NVME_IDENTIFY_DATA_SIZE, cqe, 0);
}

int vfn_dev_get_log(struct vfn_dev *dev, uint8_t lid, uint32_t nsid, uint64_t offset, void *buf, size_t len)
{
	uint32_t numd;
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_ADMIN_GET_LOG_PAGE, .nsid = vfn_cpu_to_le32(nsid) };

	if (len < 4 || len % 4 || len / 4 > (1ull << 32) || (offset & 3)) {
		log_debug("get_log: length %zu / offset %llu: not dwords (4.. bytes)", len, (unsigned long long)offset);
		return -EINVAL;
	}
	numd = (uint32_t)(len / 4 - 1);
	sqe.cdw10 = vfn_cpu_to_le32(lid | (numd & 0xffff) << 16);
	sqe.cdw11 = vfn_cpu_to_le32(numd >> 16);
	sqe.cdw12 = vfn_cpu_to_le32((uint32_t)offset);
	sqe.cdw13 = vfn_cpu_to_le32((uint32_t)(offset >> 32));
	return vfn_dev_admin(dev, &sqe, buf, len, NULL, 0);
}

/* Get or Set Features. */
static int dev_features(struct vfn_dev *dev, uint8_t opcode, uint8_t fid, uint32_t nsid, uint32_t cdw11,
			uint32_t *result, void *buf, size_t len)
{
	struct vfn_nvme_sqe sqe = {
		.opcode = opcode,
		.nsid = vfn_cpu_to_le32(nsid),
		.cdw10 = vfn_cpu_to_le32(fid),
		.cdw11 = vfn_cpu_to_le32(cdw11),
	};
	struct vfn_nvme_cqe cqe = { 0 };
	int ret = vfn_dev_admin(dev, &sqe, buf, len, &cqe, 0);

	if (!ret && result)
		*result = vfn_le32_to_cpu(cqe.dw0);
	return ret;
}

int vfn_dev_get_features(struct vfn_dev *dev, uint8_t fid, uint32_t nsid, uint32_t cdw11, uint32_t *result, void *buf,
			 size_t len)
{
	return dev_features(dev, VFN_NVME_ADMIN_GET_FEATURES, fid, nsid, cdw11, result, buf, len);
}

int vfn_dev_set_features(struct vfn_dev *dev, uint8_t fid, uint32_t nsid, uint32_t cdw11, uint32_t *result, void *buf,
			 size_t len)
{
	return dev_features(dev, VFN_NVME_ADMIN_SET_FEATURES, fid, nsid, cdw11, result, buf, len);
}

int vfn_dev_ns_list(struct vfn_dev *dev, uint32_t start, uint32_t *nsids, int max)
{
	struct vfn_nvme_ns_list *list;
	int n = 0, ret;

	if (max < 0 || (max && !nsids)) {
		log_debug("ns_list: bad max %d or NULL nsids", max);
		return -EINVAL;
	}
	list = malloc(sizeof(*list));
	if (!list)
		return -ENOMEM;
	ret = vfn_dev_identify(dev, VFN_NVME_CNS_NS_ACTIVE_LIST, start, list, NULL);
	for (; !ret && n < max && n < 1024; n++) {
		uint32_t id = vfn_le32_to_cpu(list->nsid[n]);

		if (!id || id <= start)
			break;
		nsids[n] = id;
	}
	free(list);
	return ret ? ret : n;
}

/* ---- memory and queues --------------------------------------------------- */

ssize_t vfn_dev_buf_alloc(struct vfn_dev *dev, size_t len, void **buf)
{
	if (!len || !buf) {
		log_debug("buf_alloc: %s", len ? "NULL buf" : "zero length");
		return -EINVAL;
	}
	return dev->ops->buf_alloc(dev, len, buf);
}

void vfn_dev_buf_free(struct vfn_dev *dev, void *buf, size_t len)
{
	if (buf)
		dev->ops->buf_free(dev, buf, len);
}

int vfn_dev_queue_create(struct vfn_dev *dev, uint32_t depth, struct vfn_dev_queue **out)
{
	struct vfn_dev_queue *q;
	int ret;

	if (!dev->info.max_qd) {
		/* vfn_dev_from_ctrl(): admin commands only, as documented. */
		log_err("%s: this handle sends admin commands only: it has no I/O queues", dev->info.name);
		return -ENOTSUP;
	}
	if (!out || !depth || depth > dev->info.max_qd) {
		log_err("%s: queue depth %u out of 1..%u", dev->info.name, depth, dev->info.max_qd);
		return -EINVAL;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->ops = dev->ops;
	q->dev = dev;
	q->depth = depth;
	q->timeout_ms = dev->timeout_ms ? dev->timeout_ms : DEV_DEFAULT_TIMEOUT_MS;
	ret = dev->ops->queue_create(q);
	if (ret) {
		free(q);
		return ret;
	}
	q->next = dev->queues;
	dev->queues = q;
	dev->nr_queues++;
	*out = q;
	return 0;
}

/* Takes @q off its handle's list of open queues. */
static void dev_queue_unlink(struct vfn_dev_queue *q)
{
	struct vfn_dev_queue **p = &q->dev->queues;

	while (*p != q)
		p = &(*p)->next;
	*p = q->next;
	q->dev->nr_queues--;
}

void vfn_dev_queue_destroy(struct vfn_dev_queue *q)
{
	if (!q)
		return;
	if (q->dev) {
		q->ops->queue_destroy(q);
		dev_queue_unlink(q);
	}
	free(q);
}

int vfn_dev_submit(struct vfn_dev_queue *q, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, vfn_dev_cb cb,
		   void *arg)
{
	if (vfn_unlikely(q->inflight >= q->depth))
		return -EBUSY;
	if (vfn_unlikely(!sqe || !cb || (len && !buf))) {
		log_debug("dev_submit: NULL %s", !sqe ? "sqe" : !cb ? "callback" : "buffer with a length");
		return -EINVAL;
	}
	return q->ops->submit(q, sqe, buf, len, NULL, 0, cb, arg);
}

int vfn_dev_submit_meta(struct vfn_dev_queue *q, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, void *meta,
			size_t meta_len, vfn_dev_cb cb, void *arg)
{
	if (vfn_unlikely(q->inflight >= q->depth))
		return -EBUSY;
	if (vfn_unlikely(!sqe || !cb || (len && !buf) || (meta_len && !meta) || (!meta_len && meta))) {
		log_debug("dev_submit_meta: NULL %s", !sqe ? "sqe" : !cb ? "callback" : "buffer with a length");
		return -EINVAL;
	}
	return q->ops->submit(q, sqe, buf, len, meta, meta_len, cb, arg);
}

int vfn_dev_poll(struct vfn_dev_queue *q, uint32_t max)
{
	return q->ops->poll(q, max, false);
}

int vfn_dev_wait(struct vfn_dev_queue *q, uint32_t max)
{
	return q->ops->poll(q, max, true);
}

uint32_t vfn_dev_queue_inflight(const struct vfn_dev_queue *q)
{
	return q->inflight;
}

const char *vfn_dev_queue_path(const struct vfn_dev_queue *q)
{
	if (!q->dev)
		return "closed";
	if (q->qp)
		return "qpair";
	return q->ring ? "io_uring" : "ioctl";
}

/* ---- queues of a closed handle ------------------------------------------- */

static int orphan_submit(struct vfn_dev_queue *q, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, void *meta,
			 size_t meta_len, vfn_dev_cb cb, void *arg)
{
	(void)q, (void)sqe, (void)buf, (void)len, (void)meta, (void)meta_len, (void)cb, (void)arg;
	log_debug("dev_submit: the queue's device was closed");
	return -ENODEV;
}

static int orphan_poll(struct vfn_dev_queue *q, uint32_t max, bool wait)
{
	(void)q, (void)max, (void)wait;
	log_debug("dev_poll: the queue's device was closed");
	return -ENODEV;
}

const struct vfn_dev_ops vfn_dev_orphan_ops = {
	.submit = orphan_submit,
	.poll = orphan_poll,
};
