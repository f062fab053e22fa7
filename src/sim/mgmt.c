/* SPDX-License-Identifier: MIT */
/*
 * The simulator's controller-management state: firmware slots (download
 * into a staging image, commit to a slot, activation at the next reset),
 * Format NVM between two LBA formats, Device Self-test with progress and
 * its log, Sanitize with progress, its log and the commands it holds off.
 * Everything runs on the controller thread; the timed operations advance
 * when the controller looks at them (a command, a log read), from the
 * monotonic clock.
 */
#include <string.h>
#include <sys/mman.h>

#include <vfn/pi.h>
#include <vfn/spec.h>

#include "sim/sim.h"
#include "support/log.h"

#define SIM_DST_SHORT_MS 200
#define SIM_DST_EXTENDED_MS 1000
#define SIM_SANITIZE_MS 300
#define NS_PER_MS 1000000ull

static uint32_t cdw(vfn_le32 v)
{
	return vfn_le32_to_cpu(v);
}

/* Space-padded revision @s in @dst (8 bytes). */
static void fw_rev(char *dst, const char *s)
{
	size_t len = strnlen(s, 8);

	memset(dst, ' ', 8);
	memcpy(dst, s, len);
}

static void mgmt_init(struct vfn_sim *sim)
{
	struct vfn_sim_mgmt *m = &sim->mgmt;

	memset(m, 0, sizeof(*m));
	m->init = true;
	fw_rev(m->fw_slot[0], VFN_SIM_FR);
	m->fw_active = 1;
	/* LBA format 0: the device string's; 1: the other of 512 and 4096 bytes, no metadata. */
	m->lbaf[0].ds = (uint8_t)sim->opts.lbads;
	m->lbaf[0].ms = (uint16_t)sim->opts.ms;
	m->lbaf[1].ds = sim->opts.lbads == 12 ? 9 : 12;
	m->ns_bytes = (uint64_t)sim->opts.nsze << sim->opts.lbads;
	m->power_on_ns = vfn_now_ns();
	for (unsigned int i = 0; i < VFN_SIM_DST_RESULTS; i++)
		m->dst_res[i].dsts = VFN_NVME_DST_RES_UNUSED;
	for (uint32_t i = 0; i < sim->opts.nn; i++) {
		m->ns_size[i] = m->ns_bytes;
		m->ns_attached[i] = true;
	}
}

bool vfn_sim_ns_active(const struct vfn_sim *sim, uint32_t nsid)
{
	return nsid >= 1 && nsid <= sim->opts.nn && sim->mgmt.ns_size[nsid - 1] && sim->mgmt.ns_attached[nsid - 1];
}

uint64_t vfn_sim_ns_nsze(const struct vfn_sim *sim, uint32_t nsid)
{
	return nsid >= 1 && nsid <= sim->opts.nn ? sim->mgmt.ns_size[nsid - 1] >> sim->opts.lbads : 0;
}

/* The capacity not allocated to a namespace. */
static uint64_t unallocated(const struct vfn_sim *sim)
{
	uint64_t used = 0;

	for (uint32_t i = 0; i < sim->opts.nn; i++)
		used += sim->mgmt.ns_size[i];
	return (uint64_t)sim->opts.nn * sim->mgmt.ns_bytes - used;
}

/* Adds @nsid to the Changed Namespace List and raises Namespace Attribute Changed. */
static void ns_changed(struct vfn_sim *sim, uint32_t nsid)
{
	struct vfn_sim_mgmt *m = &sim->mgmt;

	for (unsigned int i = 0; i < m->nr_changed; i++)
		if (m->changed[i] == nsid)
			return;
	if (m->nr_changed < 1024)
		m->changed[m->nr_changed++] = nsid;
	/* Notice (2h), Namespace Attribute Changed (00h), log page 04h. */
	vfn_sim_event_queue(sim, 0x2, 0x0, VFN_NVME_LOG_CHANGED_NS, true);
}

/* Zeroes namespace @i (0-based), keeping the backing store sparse. */
static void erase_ns(struct vfn_sim *sim, uint32_t i)
{
	size_t page = vfn_page_size(), whole = sim->ns_bytes / page * page;
	uint8_t *p;

	if (!sim->ns_data)
		return;
	p = sim->ns_data[i];
	if (!whole || madvise(p, whole, MADV_DONTNEED))
		memset(p, 0, whole);
	memset(p + whole, 0, sim->ns_bytes - whole);
}

/* Zeroes every namespace, keeping the backing store sparse (whole pages go back to the kernel). */
static void erase_all(struct vfn_sim *sim)
{
	for (uint32_t i = 0; i < sim->opts.nn; i++)
		erase_ns(sim, i);
	vfn_sim_zns_format(sim); /* erased zones are Empty (Format NVM, Sanitize) */
}

/* ---- Device Self-test ----------------------------------------------------- */

static void dst_record(struct vfn_sim *sim, uint8_t result)
{
	struct vfn_sim_mgmt *m = &sim->mgmt;
	struct vfn_nvme_st_result r = { 0 };
	uint64_t poh = (vfn_now_ns() - m->power_on_ns) / (3600ull * 1000 * NS_PER_MS);

	r.dsts = (uint8_t)(m->dst_op << 4 | result);
	r.poh = vfn_cpu_to_le64(poh);
	if (m->dst_nsid) {
		r.vdi = 0x1; /* NSID valid */
		r.nsid = vfn_cpu_to_le32(m->dst_nsid);
	}
	memmove(&m->dst_res[1], &m->dst_res[0], sizeof(m->dst_res) - sizeof(m->dst_res[0]));
	m->dst_res[0] = r;
	m->dst_op = 0;
}

/* Completes a self-test whose time has come. */
static void dst_advance(struct vfn_sim *sim, uint64_t now)
{
	struct vfn_sim_mgmt *m = &sim->mgmt;

	if (m->dst_op && now >= m->dst_end_ns)
		dst_record(sim, VFN_NVME_DST_RES_OK);
}

static uint16_t cmd_self_test(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe)
{
	struct vfn_sim_mgmt *m = &sim->mgmt;
	uint32_t stc = cdw(sqe->cdw10) & 0xf, nsid = vfn_le32_to_cpu(sqe->nsid);
	uint64_t now = vfn_now_ns();

	dst_advance(sim, now);
	if (stc == VFN_NVME_DST_ABORT) {
		if (m->dst_op)
			dst_record(sim, VFN_NVME_DST_RES_ABORTED);
		return VFN_NVME_SC_SUCCESS;
	}
	if (stc != VFN_NVME_DST_SHORT && stc != VFN_NVME_DST_EXTENDED)
		return VFN_NVME_SC_INVALID_FIELD;
	if (nsid && nsid != 0xffffffff && (nsid > sim->opts.nn))
		return VFN_NVME_SC_INVALID_NS;
	if (m->dst_op)
		return VFN_NVME_SC_SELF_TEST_IN_PROGRESS;
	m->dst_op = (uint8_t)stc;
	m->dst_nsid = nsid;
	m->dst_start_ns = now;
	m->dst_end_ns = now + (stc == VFN_NVME_DST_SHORT ? SIM_DST_SHORT_MS : SIM_DST_EXTENDED_MS) * NS_PER_MS;
	return VFN_NVME_SC_SUCCESS;
}

static void log_self_test(struct vfn_sim *sim, uint8_t *log)
{
	struct vfn_sim_mgmt *m = &sim->mgmt;
	struct vfn_nvme_self_test_log l = { 0 };
	uint64_t now = vfn_now_ns();

	dst_advance(sim, now);
	if (m->dst_op) {
		l.current_operation = m->dst_op;
		l.completion = (uint8_t)((now - m->dst_start_ns) * 100 / (m->dst_end_ns - m->dst_start_ns));
	}
	memcpy(l.result, m->dst_res, sizeof(l.result));
	memcpy(log, &l, sizeof(l));
}

/* ---- Sanitize ------------------------------------------------------------- */

static void sanitize_advance(struct vfn_sim *sim, uint64_t now)
{
	struct vfn_sim_mgmt *m = &sim->mgmt;

	if (!m->san_busy || now < m->san_end_ns)
		return;
	erase_all(sim);
	m->san_busy = false;
	m->sstat = VFN_NVME_SSTAT_COMPLETED | 1u << 3 /* one completed pass */ | VFN_NVME_SSTAT_GLOBAL_ERASED;
	m->sprog = 0xffff;
	/* Asynchronous event: I/O Command Specific status (6h), Sanitize Operation Completed (01h). */
	vfn_sim_event_queue(sim, 0x6, 0x1, VFN_NVME_LOG_SANITIZE, true);
}

static uint16_t cmd_sanitize(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe)
{
	struct vfn_sim_mgmt *m = &sim->mgmt;
	uint32_t cdw10 = cdw(sqe->cdw10), sanact = cdw10 & 0x7;
	uint64_t now = vfn_now_ns();

	sanitize_advance(sim, now);
	if (m->san_busy)
		return VFN_NVME_SC_SANITIZE_IN_PROGRESS;
	if (sanact == VFN_NVME_SANACT_EXIT_FAILURE) {
		if ((m->sstat & 0x7) == VFN_NVME_SSTAT_FAILED)
			m->sstat = VFN_NVME_SSTAT_NEVER;
		return VFN_NVME_SC_SUCCESS;
	}
	if (sanact < VFN_NVME_SANACT_BLOCK_ERASE || sanact > VFN_NVME_SANACT_CRYPTO_ERASE)
		return VFN_NVME_SC_INVALID_FIELD;
	m->san_busy = true;
	m->scdw10 = cdw10;
	m->sstat = VFN_NVME_SSTAT_IN_PROGRESS;
	m->sprog = 0;
	m->san_start_ns = now;
	m->san_end_ns = now + SIM_SANITIZE_MS * NS_PER_MS;
	if (m->dst_op)
		dst_record(sim, VFN_NVME_DST_RES_ABORTED);
	return VFN_NVME_SC_SUCCESS;
}

static void log_sanitize(struct vfn_sim *sim, uint8_t *log)
{
	struct vfn_sim_mgmt *m = &sim->mgmt;
	struct vfn_nvme_sanitize_log l = { 0 };
	uint64_t now = vfn_now_ns();
	uint32_t secs = SIM_SANITIZE_MS / 1000 ? SIM_SANITIZE_MS / 1000 : 1;

	sanitize_advance(sim, now);
	if (m->san_busy)
		m->sprog = (uint16_t)((now - m->san_start_ns) * 65536 / (m->san_end_ns - m->san_start_ns));
	l.sprog = vfn_cpu_to_le16(m->san_busy ? m->sprog : 0xffff);
	l.sstat = vfn_cpu_to_le16(m->sstat);
	l.scdw10 = vfn_cpu_to_le32(m->scdw10);
	l.eto = vfn_cpu_to_le32(secs);
	l.etbe = vfn_cpu_to_le32(secs);
	l.etce = vfn_cpu_to_le32(secs);
	memcpy(log, &l, sizeof(l));
}

/* ---- Firmware ------------------------------------------------------------- */

static uint16_t cmd_fw_download(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe)
{
	struct vfn_sim_mgmt *m = &sim->mgmt;
	uint64_t len = ((uint64_t)cdw(sqe->cdw10) + 1) * 4, off = (uint64_t)cdw(sqe->cdw11) * 4;
	uint16_t sc;

	/* FWUG: pieces start on 4 KiB boundaries; only the last may be shorter. */
	if (off % VFN_SIM_FWUG_BYTES || off + len > sizeof(m->fw_stage) || len > vfn_sim_max_xfer(sim)) {
		log_debug("sim: Firmware Image Download of %llu bytes at %llu rejected", (unsigned long long)len,
			  (unsigned long long)off);
		return VFN_NVME_SC_INVALID_FIELD;
	}
	if (!off)
		m->fw_staged = 0; /* a new image */
	sc = vfn_sim_dma_xfer(sim, sqe, true, m->fw_stage + off, (size_t)len, false);
	if (!sc && off + len > m->fw_staged)
		m->fw_staged = (size_t)(off + len);
	return sc;
}

static uint16_t cmd_fw_commit(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe)
{
	struct vfn_sim_mgmt *m = &sim->mgmt;
	uint32_t cdw10 = cdw(sqe->cdw10), fs = cdw10 & 0x7, ca = (cdw10 >> 3) & 0x7;
	bool replace = ca == VFN_NVME_FW_COMMIT_CA_REPLACE || ca == VFN_NVME_FW_COMMIT_CA_REPLACE_ACTIVATE;

	if (ca > VFN_NVME_FW_COMMIT_CA_ACTIVATE_NOW || (cdw10 >> 31))
		return VFN_NVME_SC_INVALID_FIELD; /* no boot partitions */
	if (!fs)				  /* the controller picks: the first writable slot that is not active */
		for (fs = 2; fs <= VFN_SIM_FW_SLOTS && fs == m->fw_active; fs++)
			;
	if (fs > VFN_SIM_FW_SLOTS || (replace && fs == 1))
		return VFN_NVME_SC_INVALID_FW_SLOT; /* slot 1 is read-only */
	if (replace) {
		/* The image's first 8 bytes are its revision; an image must hold at least them. */
		if (m->fw_staged < 8)
			return VFN_NVME_SC_INVALID_FW_IMAGE;
		fw_rev(m->fw_slot[fs - 1], (const char *)m->fw_stage);
		m->fw_staged = 0;
	} else if (m->fw_slot[fs - 1][0] == '\0') {
		return VFN_NVME_SC_INVALID_FW_IMAGE; /* an empty slot */
	}
	switch (ca) {
	case VFN_NVME_FW_COMMIT_CA_REPLACE_ACTIVATE:
	case VFN_NVME_FW_COMMIT_CA_ACTIVATE:
		m->fw_next = (uint8_t)fs;
		break;
	case VFN_NVME_FW_COMMIT_CA_ACTIVATE_NOW:
		m->fw_active = (uint8_t)fs;
		m->fw_next = 0;
		break;
	default:
		break;
	}
	return VFN_NVME_SC_SUCCESS;
}

static void log_fw_slot(struct vfn_sim *sim, uint8_t *log)
{
	struct vfn_sim_mgmt *m = &sim->mgmt;
	struct vfn_nvme_fw_slot_log l = { 0 };

	l.afi = (uint8_t)(m->fw_active | m->fw_next << 4);
	for (unsigned int i = 0; i < VFN_SIM_FW_SLOTS; i++)
		memcpy(l.frs[i], m->fw_slot[i], 8);
	memcpy(log, &l, sizeof(l));
}

/* ---- Namespace Management and Attachment ------------------------------------ */

static uint16_t ns_create(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t *dw0)
{
	struct vfn_sim_mgmt *m = &sim->mgmt;
	struct vfn_nvme_id_ns ns;
	uint64_t nsze, ncap, bytes;
	uint32_t nsid;
	uint16_t sc = vfn_sim_dma_xfer(sim, sqe, true, (uint8_t *)&ns, sizeof(ns), false);

	if (sc)
		return sc;
	if (((cdw(sqe->cdw11) >> 24) & 0xff) != VFN_NVME_CSI_NVM)
		return VFN_NVME_SC_INVALID_FIELD;
	nsze = vfn_le64_to_cpu(ns.nsze);
	ncap = vfn_le64_to_cpu(ns.ncap);
	if (vfn_nvme_flbas_index(ns.flbas) != m->flbas || ns.dps)
		return VFN_NVME_SC_INVALID_FORMAT; /* formats are controller-wide (FNA bit 0) */
	if (ncap != nsze)
		return VFN_NVME_SC_THIN_PROV_NOT_SUPP;
	if (!nsze || nsze > (m->ns_bytes >> sim->opts.lbads))
		return VFN_NVME_SC_INVALID_FIELD; /* a namespace lives in one namespace's memory */
	bytes = nsze << sim->opts.lbads;
	if (bytes > unallocated(sim))
		return VFN_NVME_SC_NS_INSUFFICIENT_CAP;
	for (nsid = 1; nsid <= sim->opts.nn && m->ns_size[nsid - 1]; nsid++)
		;
	if (nsid > sim->opts.nn)
		return VFN_NVME_SC_NS_ID_UNAVAILABLE;
	erase_ns(sim, nsid - 1);
	m->ns_size[nsid - 1] = bytes;
	m->ns_attached[nsid - 1] = false;
	*dw0 = nsid;
	return VFN_NVME_SC_SUCCESS;
}

static void ns_free(struct vfn_sim *sim, uint32_t nsid)
{
	if (!sim->mgmt.ns_size[nsid - 1])
		return;
	if (sim->mgmt.ns_attached[nsid - 1])
		ns_changed(sim, nsid);
	sim->mgmt.ns_size[nsid - 1] = 0;
	sim->mgmt.ns_attached[nsid - 1] = false;
	erase_ns(sim, nsid - 1);
}

static uint16_t cmd_ns_mgmt(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t *dw0)
{
	uint32_t sel = cdw(sqe->cdw10) & 0xf, nsid = vfn_le32_to_cpu(sqe->nsid);

	if (sel == VFN_NVME_NS_MGMT_CREATE)
		return ns_create(sim, sqe, dw0);
	if (sel != VFN_NVME_NS_MGMT_DELETE)
		return VFN_NVME_SC_INVALID_FIELD;
	if (nsid == 0xffffffff) {
		for (uint32_t i = 1; i <= sim->opts.nn; i++)
			ns_free(sim, i);
		return VFN_NVME_SC_SUCCESS;
	}
	if (nsid < 1 || nsid > sim->opts.nn || !sim->mgmt.ns_size[nsid - 1])
		return VFN_NVME_SC_INVALID_NS;
	ns_free(sim, nsid);
	return VFN_NVME_SC_SUCCESS;
}

static uint16_t cmd_ns_attach(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe)
{
	struct vfn_sim_mgmt *m = &sim->mgmt;
	uint32_t sel = cdw(sqe->cdw10) & 0xf, nsid = vfn_le32_to_cpu(sqe->nsid);
	struct vfn_nvme_ctrl_list list;
	uint16_t sc;

	if (sel > VFN_NVME_NS_DETACH)
		return VFN_NVME_SC_INVALID_FIELD;
	if (nsid < 1 || nsid > sim->opts.nn || !m->ns_size[nsid - 1])
		return VFN_NVME_SC_INVALID_NS;
	sc = vfn_sim_dma_xfer(sim, sqe, true, (uint8_t *)&list, sizeof(list), false);
	if (sc)
		return sc;
	/* One controller in this subsystem: CNTLID 1. */
	if (vfn_le16_to_cpu(list.num) != 1 || vfn_le16_to_cpu(list.identifier[0]) != 1)
		return VFN_NVME_SC_CTRL_LIST_INVALID;
	if (sel == VFN_NVME_NS_ATTACH && m->ns_attached[nsid - 1])
		return VFN_NVME_SC_NS_ALREADY_ATTACHED;
	if (sel == VFN_NVME_NS_DETACH && !m->ns_attached[nsid - 1])
		return VFN_NVME_SC_NS_NOT_ATTACHED;
	m->ns_attached[nsid - 1] = sel == VFN_NVME_NS_ATTACH;
	ns_changed(sim, nsid);
	return VFN_NVME_SC_SUCCESS;
}

bool vfn_sim_mgmt_identify(struct vfn_sim *sim, uint8_t cns, uint32_t nsid, uint8_t *id, uint16_t *status)
{
	struct vfn_sim_mgmt *m = &sim->mgmt;
	struct vfn_nvme_ns_list *nsl = (struct vfn_nvme_ns_list *)(void *)id;
	struct vfn_nvme_ctrl_list *cl = (struct vfn_nvme_ctrl_list *)(void *)id;
	unsigned int n = 0;

	*status = VFN_NVME_SC_SUCCESS;
	switch (cns) {
	case VFN_NVME_CNS_ALLOCATED_NS_LIST:
		if (nsid >= 0xfffffffe) {
			*status = VFN_NVME_SC_INVALID_NS;
			return true;
		}
		for (uint32_t i = nsid + 1; i <= sim->opts.nn && n < 1024; i++)
			if (m->ns_size[i - 1])
				nsl->nsid[n++] = vfn_cpu_to_le32(i);
		return true;
	case VFN_NVME_CNS_ALLOCATED_NS:
		if (nsid < 1 || nsid > sim->opts.nn) {
			*status = VFN_NVME_SC_INVALID_NS;
			return true;
		}
		if (m->ns_size[nsid - 1])
			vfn_sim_mgmt_id_ns(sim, nsid, (struct vfn_nvme_id_ns *)(void *)id);
		return true;
	case VFN_NVME_CNS_NS_CTRL_LIST:
		if (nsid < 1 || nsid > sim->opts.nn) {
			*status = VFN_NVME_SC_INVALID_NS;
			return true;
		}
		if (m->ns_attached[nsid - 1]) {
			cl->num = vfn_cpu_to_le16(1);
			cl->identifier[0] = vfn_cpu_to_le16(1);
		}
		return true;
	case VFN_NVME_CNS_CTRL_LIST:
		cl->num = vfn_cpu_to_le16(1);
		cl->identifier[0] = vfn_cpu_to_le16(1);
		return true;
	default:
		return false;
	}
}

/* ---- Format NVM ------------------------------------------------------------- */

static uint16_t cmd_format(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe)
{
	struct vfn_sim_mgmt *m = &sim->mgmt;
	uint32_t cdw10 = cdw(sqe->cdw10), nsid = vfn_le32_to_cpu(sqe->nsid);
	uint32_t lbaf = (cdw10 & 0xf) | ((cdw10 >> 12) & 0x3) << 4, pi = (cdw10 >> 5) & 0x7, ses = (cdw10 >> 9) & 0x7;
	bool mset = cdw10 & VFN_NVME_FORMAT_MSET;

	if (nsid != 0xffffffff && !vfn_sim_ns_active(sim, nsid))
		return VFN_NVME_SC_INVALID_NS;
	/* PI types 1-3 (DPC) on a format whose metadata holds the tuple of the sim's guard format. */
	if (lbaf >= VFN_SIM_NR_LBAF || pi > VFN_PI_TYPE3 || ses > VFN_NVME_FORMAT_SES_CRYPTO ||
	    (mset && !m->lbaf[lbaf].ms) ||
	    (pi && (!vfn_pi_tuple_size((uint8_t)sim->opts.pif) ||
		    m->lbaf[lbaf].ms < vfn_pi_tuple_size((uint8_t)sim->opts.pif))))
		return VFN_NVME_SC_INVALID_FORMAT;
	/*
	 * Zones are zsze blocks over a fixed zone table: another block size would
	 * leave the table describing bytes beyond the namespace (a reset zeroed them).
	 */
	if (sim->opts.zoned && m->lbaf[lbaf].ds != sim->opts.lbads) {
		log_debug("sim: zoned namespace: Format NVM to %u-byte blocks from %u-byte ones not supported",
			  1u << m->lbaf[lbaf].ds, 1u << sim->opts.lbads);
		return VFN_NVME_SC_INVALID_FORMAT;
	}
	if (m->dst_op && (m->dst_nsid == nsid || m->dst_nsid == 0xffffffff))
		dst_record(sim, VFN_NVME_DST_RES_FORMAT);
	/* FNA bit 0: a format applies to every namespace. */
	m->flbas = (uint8_t)lbaf;
	sim->opts.lbads = m->lbaf[lbaf].ds;
	sim->opts.ms = m->lbaf[lbaf].ms;
	sim->opts.mset = mset;
	sim->opts.pi = pi;
	sim->opts.pil = cdw10 & VFN_NVME_FORMAT_PIL;
	sim->opts.nsze = m->ns_bytes >> sim->opts.lbads;
	for (uint32_t i = 0; i < sim->opts.nn; i++)
		m->ns_size[i] = m->ns_size[i] >> sim->opts.lbads << sim->opts.lbads;
	erase_all(sim);
	return VFN_NVME_SC_SUCCESS;
}

/* ---- Hooks ---------------------------------------------------------------- */

void vfn_sim_mgmt_reset(struct vfn_sim *sim)
{
	struct vfn_sim_mgmt *m = &sim->mgmt;

	if (!m->init) {
		mgmt_init(sim);
		return;
	}
	if (m->fw_next) {
		m->fw_active = m->fw_next;
		m->fw_next = 0;
	}
	if (m->dst_op)
		dst_record(sim, VFN_NVME_DST_RES_RESET);
}

void vfn_sim_mgmt_id_ctrl(struct vfn_sim *sim, struct vfn_nvme_id_ctrl *id)
{
	memcpy(id->fr, sim->mgmt.fw_slot[sim->mgmt.fw_active - 1], 8);
	id->oacs |= vfn_cpu_to_le16(VFN_NVME_OACS_FORMAT | VFN_NVME_OACS_FW | VFN_NVME_OACS_NS_MGMT |
				    VFN_NVME_OACS_SELF_TEST);
	vfn_nvme_le128_set(id->tnvmcap, (uint64_t)sim->opts.nn * sim->mgmt.ns_bytes);
	vfn_nvme_le128_set(id->unvmcap, unallocated(sim));
	id->mnan = vfn_cpu_to_le32(sim->opts.nn);
	id->oaes |= vfn_cpu_to_le32(1u << 8); /* Namespace Attribute Notices */
	/* FRMW: slot 1 read-only, VFN_SIM_FW_SLOTS slots, activation without reset. */
	id->frmw = (uint8_t)(0x1 | VFN_SIM_FW_SLOTS << 1 | 0x10);
	id->fwug = VFN_SIM_FWUG_BYTES / 4096;
	id->lpa |= 0x2;			    /* Commands Supported and Effects log */
	id->fna = 0x3;			    /* format and secure erase apply to all namespaces */
	id->edstt = vfn_cpu_to_le16(1);	    /* extended self-test: 1 minute at most */
	id->dsto = 0x1;			    /* one self-test at a time */
	id->sanicap = vfn_cpu_to_le32(0x7); /* crypto erase, block erase, overwrite */
}

void vfn_sim_mgmt_id_ns(struct vfn_sim *sim, uint32_t nsid, struct vfn_nvme_id_ns *id)
{
	struct vfn_sim_mgmt *m = &sim->mgmt;
	uint64_t nsze = vfn_sim_ns_nsze(sim, nsid);

	id->nsze = id->ncap = id->nuse = vfn_cpu_to_le64(nsze);
	vfn_nvme_le128_set(id->nvmcap, nsze << sim->opts.lbads);

	id->nlbaf = VFN_SIM_NR_LBAF - 1;
	id->flbas = (uint8_t)(m->flbas | (sim->opts.mset ? VFN_NVME_FLBAS_MSET : 0));
	for (unsigned int i = 0; i < VFN_SIM_NR_LBAF; i++) {
		id->lbaf[i].ds = m->lbaf[i].ds;
		id->lbaf[i].ms = vfn_cpu_to_le16(m->lbaf[i].ms);
	}
}

/* Commands Supported and Effects: what the simulator implements and what each changes. */
static void log_effects(uint8_t *log)
{
	static const uint8_t admin[] = {
		VFN_NVME_ADMIN_DELETE_SQ,   VFN_NVME_ADMIN_CREATE_SQ,	  VFN_NVME_ADMIN_GET_LOG_PAGE,
		VFN_NVME_ADMIN_DELETE_CQ,   VFN_NVME_ADMIN_CREATE_CQ,	  VFN_NVME_ADMIN_IDENTIFY,
		VFN_NVME_ADMIN_ABORT,	    VFN_NVME_ADMIN_SET_FEATURES,  VFN_NVME_ADMIN_GET_FEATURES,
		VFN_NVME_ADMIN_ASYNC_EVENT, VFN_NVME_ADMIN_DEV_SELF_TEST, VFN_NVME_ADMIN_DBBUF_CONFIG,
		VFN_NVME_ADMIN_FW_DOWNLOAD,
	};
	const uint32_t changes_ns = VFN_NVME_CMD_EFFECTS_CSUPP | VFN_NVME_CMD_EFFECTS_LBCC | VFN_NVME_CMD_EFFECTS_NCC |
				    VFN_NVME_CMD_EFFECTS_NIC;
	struct vfn_nvme_cmd_effects_log l;

	memset(&l, 0, sizeof(l));
	for (size_t i = 0; i < sizeof(admin); i++)
		l.acs[admin[i]] = vfn_cpu_to_le32(VFN_NVME_CMD_EFFECTS_CSUPP);
	l.acs[VFN_NVME_ADMIN_FORMAT_NVM] = vfn_cpu_to_le32(changes_ns);
	l.acs[VFN_NVME_ADMIN_SANITIZE] = vfn_cpu_to_le32(changes_ns);
	l.acs[VFN_NVME_ADMIN_NS_MGMT] = vfn_cpu_to_le32(changes_ns);
	l.acs[VFN_NVME_ADMIN_NS_ATTACH] = vfn_cpu_to_le32(changes_ns);
	l.acs[VFN_NVME_ADMIN_FW_COMMIT] = vfn_cpu_to_le32(VFN_NVME_CMD_EFFECTS_CSUPP | VFN_NVME_CMD_EFFECTS_CCC);
	l.iocs[VFN_NVME_CMD_FLUSH] = vfn_cpu_to_le32(VFN_NVME_CMD_EFFECTS_CSUPP);
	l.iocs[VFN_NVME_CMD_READ] = vfn_cpu_to_le32(VFN_NVME_CMD_EFFECTS_CSUPP);
	l.iocs[VFN_NVME_CMD_WRITE] = vfn_cpu_to_le32(VFN_NVME_CMD_EFFECTS_CSUPP | VFN_NVME_CMD_EFFECTS_LBCC);
	l.iocs[VFN_NVME_CMD_WRITE_ZEROES] = vfn_cpu_to_le32(VFN_NVME_CMD_EFFECTS_CSUPP | VFN_NVME_CMD_EFFECTS_LBCC);
	l.iocs[VFN_NVME_CMD_DSM] = vfn_cpu_to_le32(VFN_NVME_CMD_EFFECTS_CSUPP | VFN_NVME_CMD_EFFECTS_LBCC);
	memcpy(log, &l, sizeof(l));
}

/*
 * Telemetry: data areas 1, 2, 3 end at blocks 2, 4, 6 (512 bytes each; no
 * data area 4); every byte of block b reads (lid << 4 | b), the header
 * being block 0.  Host-initiated: LSP bit 0 generates new data (HOSTDGN + 1).
 */
static size_t log_telemetry(struct vfn_sim *sim, uint8_t lid, uint32_t lsp, uint8_t *log)
{
	struct vfn_nvme_telemetry_log h;

	if (lid == VFN_NVME_LOG_TELEMETRY_HOST && (lsp & VFN_NVME_TELEMETRY_LSP_CREATE))
		sim->mgmt.hostdgn++;
	for (unsigned int b = 1; b <= 6; b++)
		memset(log + b * VFN_NVME_TELEMETRY_BLOCK, lid << 4 | b, VFN_NVME_TELEMETRY_BLOCK);
	memset(&h, 0, sizeof(h));
	h.lpi = lid;
	h.dalb1 = vfn_cpu_to_le16(2);
	h.dalb2 = vfn_cpu_to_le16(4);
	h.dalb3 = vfn_cpu_to_le16(6);
	h.dalb4 = vfn_cpu_to_le32(6);
	h.hostdgn = sim->mgmt.hostdgn;
	memcpy(log, &h, sizeof(h));
	return 7 * VFN_NVME_TELEMETRY_BLOCK;
}

/*
 * Persistent Event Log: a fixed two events, Power-on or Reset (data: the
 * active firmware revision, 8 bytes) then Timestamp Change (data: the
 * previous timestamp, 0).  LSP 01h establishes a context (GEN counts
 * them), 02h releases it.
 */
static size_t log_pel(struct vfn_sim *sim, uint32_t lsp, uint8_t *log)
{
	static const uint8_t types[] = { VFN_NVME_PEL_POWER_ON_RESET, VFN_NVME_PEL_TIMESTAMP_CHANGE };
	struct vfn_nvme_pel_hdr h;
	size_t off = sizeof(h);

	switch (lsp & 3) {
	case VFN_NVME_PEL_ESTABLISH:
		sim->mgmt.pel_gen++;
		sim->mgmt.pel_ctx = true;
		break;
	case VFN_NVME_PEL_RELEASE:
		sim->mgmt.pel_ctx = false;
		break;
	default:
		break;
	}
	for (unsigned int i = 0; i < sizeof(types); i++) {
		struct vfn_nvme_pel_event e;

		memset(&e, 0, sizeof(e));
		e.etype = types[i];
		e.ehl = sizeof(e) - 3;
		e.cntlid = vfn_cpu_to_le16(0);
		e.ets = vfn_cpu_to_le64(1000u * (i + 1));
		e.el = vfn_cpu_to_le16(8);
		memcpy(log + off, &e, sizeof(e));
		if (types[i] == VFN_NVME_PEL_POWER_ON_RESET)
			memcpy(log + off + sizeof(e), sim->mgmt.fw_slot[sim->mgmt.fw_active - 1], 8);
		off += sizeof(e) + 8;
	}
	memset(&h, 0, sizeof(h));
	h.lid = VFN_NVME_LOG_PERSISTENT_EVENT;
	h.tnev = vfn_cpu_to_le32(sizeof(types));
	h.tll = vfn_cpu_to_le64(off);
	h.lhl = vfn_cpu_to_le16(sizeof(h));
	h.gen = vfn_cpu_to_le16(sim->mgmt.pel_gen);
	h.seb[0] = 1u << VFN_NVME_PEL_TIMESTAMP_CHANGE | 1u << VFN_NVME_PEL_POWER_ON_RESET;
	memcpy(log, &h, sizeof(h));
	return off;
}

/*
 * ANA log: one group (ANAGRPID 1, optimized, CHGCNT 1) holding the attached
 * namespaces (none listed with RGO, LSP bit 0).
 */
static size_t log_ana(struct vfn_sim *sim, uint32_t lsp, uint8_t *log)
{
	struct vfn_nvme_ana_log h = { .chgcnt = vfn_cpu_to_le64(1), .ngrps = vfn_cpu_to_le16(1) };
	struct vfn_nvme_ana_group g;
	size_t off = sizeof(h) + sizeof(g);
	uint32_t n = 0;

	for (uint32_t nsid = 1; nsid <= sim->opts.nn && off + 4 <= 4096; nsid++) {
		vfn_le32 v = vfn_cpu_to_le32(nsid);

		if (!vfn_sim_ns_active(sim, nsid))
			continue;
		n++;
		if (!(lsp & VFN_NVME_ANA_LSP_RGO)) {
			memcpy(log + off, &v, 4);
			off += 4;
		}
	}
	memset(&g, 0, sizeof(g));
	g.grpid = vfn_cpu_to_le32(1);
	g.nnsids = vfn_cpu_to_le32(lsp & VFN_NVME_ANA_LSP_RGO ? 0 : n);
	g.chgcnt = vfn_cpu_to_le64(1);
	g.state = VFN_NVME_ANA_OPTIMIZED;
	memcpy(log, &h, sizeof(h));
	memcpy(log + sizeof(h), &g, sizeof(g));
	return off;
}

bool vfn_sim_mgmt_log(struct vfn_sim *sim, uint32_t cdw10, uint8_t *log, size_t *len)
{
	uint8_t lid = cdw10 & 0xff;
	uint32_t lsp = (cdw10 >> VFN_NVME_LOG_LSP_SHIFT) & 0x7f;

	switch (lid) {
	case VFN_NVME_LOG_FW_SLOT:
		log_fw_slot(sim, log);
		*len = sizeof(struct vfn_nvme_fw_slot_log);
		return true;
	case VFN_NVME_LOG_DEV_SELF_TEST:
		log_self_test(sim, log);
		*len = sizeof(struct vfn_nvme_self_test_log);
		return true;
	case VFN_NVME_LOG_SANITIZE:
		log_sanitize(sim, log);
		*len = sizeof(struct vfn_nvme_sanitize_log);
		return true;
	case VFN_NVME_LOG_TELEMETRY_HOST:
	case VFN_NVME_LOG_TELEMETRY_CTRL:
		*len = log_telemetry(sim, lid, lsp, log);
		return true;
	case VFN_NVME_LOG_PERSISTENT_EVENT:
		*len = log_pel(sim, lsp, log);
		return true;
	case VFN_NVME_LOG_ANA:
		*len = log_ana(sim, lsp, log);
		return true;
	case VFN_NVME_LOG_CMD_EFFECTS:
		log_effects(log);
		*len = sizeof(struct vfn_nvme_cmd_effects_log);
		return true;
	case VFN_NVME_LOG_CHANGED_NS:
		for (unsigned int i = 0; i < sim->mgmt.nr_changed; i++) {
			vfn_le32 v = vfn_cpu_to_le32(sim->mgmt.changed[i]);

			memcpy(log + 4 * i, &v, 4);
		}
		if (!(cdw10 & VFN_NVME_LOG_RAE))
			sim->mgmt.nr_changed = 0; /* reported: the list starts afresh */
		*len = sizeof(struct vfn_nvme_ns_list);
		return true;
	default:
		return false;
	}
}

uint64_t vfn_sim_mgmt_poh(const struct vfn_sim *sim)
{
	return (vfn_now_ns() - sim->mgmt.power_on_ns) / (3600ull * 1000 * NS_PER_MS);
}

/* Admin commands allowed while a sanitize runs. */
static bool sanitize_allowed(uint8_t opcode)
{
	switch (opcode) {
	case VFN_NVME_ADMIN_IDENTIFY:
	case VFN_NVME_ADMIN_GET_LOG_PAGE:
	case VFN_NVME_ADMIN_GET_FEATURES:
	case VFN_NVME_ADMIN_SET_FEATURES:
	case VFN_NVME_ADMIN_ABORT:
	case VFN_NVME_ADMIN_ASYNC_EVENT:
	case VFN_NVME_ADMIN_KEEP_ALIVE:
	case VFN_NVME_ADMIN_CREATE_CQ:
	case VFN_NVME_ADMIN_CREATE_SQ:
	case VFN_NVME_ADMIN_DELETE_CQ:
	case VFN_NVME_ADMIN_DELETE_SQ:
	case VFN_NVME_ADMIN_SANITIZE:
	case VFN_NVME_ADMIN_DBBUF_CONFIG:
		return true;
	default:
		return false;
	}
}

uint16_t vfn_sim_mgmt_gate(struct vfn_sim *sim, uint16_t sqid, const struct vfn_nvme_sqe *sqe)
{
	if (!sim->mgmt.san_busy)
		return VFN_NVME_SC_SUCCESS;
	sanitize_advance(sim, vfn_now_ns());
	if (sim->mgmt.san_busy && (sqid || !sanitize_allowed(sqe->opcode)))
		return VFN_NVME_SC_SANITIZE_IN_PROGRESS;
	return VFN_NVME_SC_SUCCESS;
}

bool vfn_sim_mgmt_exec(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t *dw0, uint16_t *status)
{
	switch (sqe->opcode) {
	case VFN_NVME_ADMIN_NS_MGMT:
		*status = cmd_ns_mgmt(sim, sqe, dw0);
		return true;
	case VFN_NVME_ADMIN_FW_DOWNLOAD:
		*status = cmd_fw_download(sim, sqe);
		return true;
	case VFN_NVME_ADMIN_FW_COMMIT:
		*status = cmd_fw_commit(sim, sqe);
		return true;
	case VFN_NVME_ADMIN_FORMAT_NVM:
		*status = cmd_format(sim, sqe);
		return true;
	case VFN_NVME_ADMIN_DEV_SELF_TEST:
		*status = cmd_self_test(sim, sqe);
		return true;
	case VFN_NVME_ADMIN_SANITIZE:
		*status = cmd_sanitize(sim, sqe);
		return true;
	case VFN_NVME_ADMIN_NS_ATTACH:
		*status = cmd_ns_attach(sim, sqe);
		return true;
	default:
		return false;
	}
}
