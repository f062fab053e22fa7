/* SPDX-License-Identifier: MIT */
/* Admin commands: Identify, features, queues, logs, AER, Abort. */
#include <stdio.h>
#include <string.h>

#include "sim/sim.h"
#include "support/log.h"

#define SIM_MN "vfn simulated controller"
#define SIM_LOG_SMART_LEN 512
#define SIM_TEMP_K 308	 /* composite temperature: 35 C */
#define SIM_WCTEMP_K 343 /* Identify WCTEMP: 70 C, the default over-temperature threshold */
#define SIM_CCTEMP_K 358 /* Identify CCTEMP: 85 C */
#define SIM_TMPSEL_SENSOR_8 0x8
#define SIM_TMPSEL_ALL 0xf	   /* All Temperature Sensors (Set Features only) */
#define SIM_THSEL_UNDER 0x1	   /* THSEL 0: over-temperature threshold, 1: under */
#define SIM_CW_TEMP (1u << 1)	   /* SMART Critical Warning / AEC: temperature threshold */
#define SIM_EVENT_SMART 0x1	   /* Asynchronous Event Type: SMART / Health status */
#define SIM_EVENT_TEMP_THRESH 0x01 /* Asynchronous Event Information: Temperature Threshold */
#define SIM_LOG_RAE (1u << 15)	   /* Get Log Page CDW10: Retain Asynchronous Event */
#define SIM_FEAT_CHANGEABLE (1u << 2)

#define SIM_LOG_MAX_LEN 4096 /* the largest log page the sim builds */

static void put16(uint8_t *p, uint16_t v)
{
	vfn_le16 le = vfn_cpu_to_le16(v);

	memcpy(p, &le, sizeof(le));
}

static void put32(uint8_t *p, uint32_t v)
{
	vfn_le32 le = vfn_cpu_to_le32(v);

	memcpy(p, &le, sizeof(le));
}

static void put64(uint8_t *p, uint64_t v)
{
	vfn_le64 le = vfn_cpu_to_le64(v);

	memcpy(p, &le, sizeof(le));
}

/* A space-padded ASCII field. */
static void put_str(uint8_t *p, const char *s, size_t n)
{
	size_t len = strlen(s);

	memset(p, ' ', n);
	memcpy(p, s, len < n ? len : n);
}

static uint32_t cdw(vfn_le32 v)
{
	return vfn_le32_to_cpu(v);
}

static void id_ctrl(struct vfn_sim *sim, uint8_t *id)
{
	put16(id + 0, VFN_SIM_VID);
	put16(id + 2, VFN_SIM_VID);
	put_str(id + 4, sim->opts.sn, 20);
	put_str(id + 24, SIM_MN, 40);
	put_str(id + 64, VFN_SIM_FR, 8);
	id[77] = (uint8_t)sim->opts.mdts;
	put16(id + 78, 1);	    /* CNTLID */
	put32(id + 80, 0x00010400); /* VER */
	put32(id + 88, sim->opts.rtd3e);
	put16(id + 256, 1u << 8); /* OACS: Doorbell Buffer Config */
	id[111] = 1;		  /* CNTRLTYPE: I/O controller */
	id[258] = VFN_SIM_ACL;
	id[259] = VFN_SIM_AERL;
	id[261] = 0x4;			       /* LPA: extended data for Get Log Page (offsets) */
	id[262] = VFN_SIM_ERR_LOG_ENTRIES - 1; /* ELPE */
	put16(id + 266, SIM_WCTEMP_K);
	put16(id + 268, SIM_CCTEMP_K);
	id[512] = 0x66; /* SQES: 64 bytes */
	id[513] = 0x44; /* CQES: 16 bytes */
	put32(id + 516, sim->opts.nn);
	/* ONCS: DSM, Write Zeroes, Save field / Select field (SEL) of Get/Set Features */
	put16(id + 520, 1u << 2 | 1u << 3 | 1u << 4);
	id[525] = 0x7; /* VWC present, Flush of all namespaces */
	/* SGLS bits 1:0, and bit 19 (MPTR holding an SGL) */
	put32(id + 536, sim->opts.sgls | (sim->opts.mptr_sgl ? VFN_NVME_SGLS_MPTR_SGL : 0));
	put32(id + 96, 1u << 15); /* CTRATT: ELBAS (the guard format is in CNS 05h) */
	snprintf((char *)id + 768, 256, "nqn.2026-11.io.vfn:sim:%s", sim->opts.sn);
	put16(id + 2048, 2500); /* PSD0 MP: 25 W */
	vfn_sim_mgmt_id_ctrl(sim, (struct vfn_nvme_id_ctrl *)(void *)id);
}

static bool ns_valid(const struct vfn_sim *sim, uint32_t nsid)
{
	return nsid >= 1 && nsid <= sim->opts.nn;
}

/* Metadata of LBA format 0 (sim:ms=,mset=): MS, FLBAS MSET and the one MC bit that goes with it. */
static void id_ns_metadata(struct vfn_sim *sim, uint8_t *id)
{
	if (!sim->opts.ms)
		return;
	put16(id + 128, (uint16_t)sim->opts.ms);
	id[26] |= sim->opts.mset ? 0x10 : 0;
	id[27] = sim->opts.mset ? 0x1 : 0x2; /* MC: extended LBAs, or a separate buffer */
	/* DPC: types 1-3, first and last bytes (Format NVM can select them when the metadata holds a
	 * tuple); DPS: the type in use and where. */
	if (sim->opts.ms >= 8 + 8 * (sim->opts.pif == 2))
		id[28] = 0x1f;
	if (!sim->opts.pi)
		return;
	id[29] = (uint8_t)(sim->opts.pi | (sim->opts.pil ? 0x8 : 0));
}

/* NVM Command Set Identify Namespace (CNS 05h, CSI 00h): ELBAF 0's PIF. */
static void id_ns_nvm(struct vfn_sim *sim, uint8_t *id)
{
	id[8] = 0x3; /* PIC: 16b and 64b guard formats supported */
	put32(id + 12, sim->opts.pif << 7);
}

static void id_ns(struct vfn_sim *sim, uint32_t nsid, uint8_t *id)
{
	put64(id + 0, sim->opts.nsze);
	put64(id + 8, sim->opts.nsze);
	put64(id + 16, sim->opts.nsze);
	id[25] = 0;   /* NLBAF: one format */
	id[26] = 0;   /* FLBAS: format 0 */
	id[33] = 0x1; /* DLFEAT: deallocated blocks read as zeros */
	id[128 + 2] = (uint8_t)sim->opts.lbads;
	id_ns_metadata(sim, id);
	vfn_sim_mgmt_id_ns(sim, nsid, (struct vfn_nvme_id_ns *)(void *)id);
}

/* Namespace Identification Descriptor list: a UUID made of the serial and nsid. */
static void id_ns_desc(struct vfn_sim *sim, uint32_t nsid, uint8_t *id)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *c = sim->opts.sn; *c; c++)
		h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
	id[0] = 0x3; /* NIDT: UUID */
	id[1] = 16;
	put64(id + 4, h);
	put64(id + 12, nsid);
	if (sim->opts.zoned) {
		id[20] = VFN_NVME_NIDT_CSI;
		id[21] = 1;
		id[24] = VFN_NVME_CSI_ZNS;
	}
}

static void id_active_list(struct vfn_sim *sim, uint32_t after, uint8_t *id)
{
	unsigned int n = 0;

	for (uint32_t nsid = after + 1; nsid <= sim->opts.nn && n < 1024; nsid++)
		if (vfn_sim_ns_active(sim, nsid))
			put32(id + 4 * n++, nsid);
}

static uint16_t cmd_identify(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe)
{
	uint8_t cns = cdw(sqe->cdw10) & 0xff;
	uint32_t nsid = vfn_le32_to_cpu(sqe->nsid);
	uint8_t *id = sim->scratch;

	memset(id, 0, VFN_NVME_IDENTIFY_DATA_SIZE);
	switch (cns) {
	case VFN_NVME_CNS_CTRL:
		id_ctrl(sim, id);
		break;
	case VFN_NVME_CNS_NS:
	case VFN_NVME_CNS_NS_DESC_LIST:
		if (!ns_valid(sim, nsid))
			return VFN_NVME_SC_INVALID_NS;
		if (cns == VFN_NVME_CNS_NS && !vfn_sim_ns_active(sim, nsid))
			break; /* allocated but not attached, or not allocated: all zeros */
		if (!vfn_sim_ns_active(sim, nsid))
			return VFN_NVME_SC_INVALID_NS;
		if (cns == VFN_NVME_CNS_NS)
			id_ns(sim, nsid, id);
		else
			id_ns_desc(sim, nsid, id);
		break;
	case 0x05: /* I/O Command Set specific Identify Namespace: NVM, or Zoned on sim:zoned=1 */
		if (!ns_valid(sim, nsid))
			return VFN_NVME_SC_INVALID_NS;
		if ((cdw(sqe->cdw11) >> 24) == VFN_NVME_CSI_ZNS && sim->opts.zoned)
			vfn_sim_zns_id_ns(sim, (struct vfn_nvme_id_ns_zns *)(void *)id);
		else if ((cdw(sqe->cdw11) >> 24) == VFN_NVME_CSI_NVM)
			id_ns_nvm(sim, id);
		else
			return VFN_NVME_SC_INVALID_FIELD;
		break;
	case VFN_NVME_CNS_CSI_CTRL: /* Zoned: ZASL 0 (MDTS limits Zone Append) */
		if ((cdw(sqe->cdw11) >> 24) != VFN_NVME_CSI_ZNS || !sim->opts.zoned)
			return VFN_NVME_SC_INVALID_FIELD;
		break;
	case VFN_NVME_CNS_IOCS: /* sim:zoned=1: profile 0 NVM only, profile 1 NVM + Zoned (selected by FID 19h) */
		if (!sim->opts.zoned)
			return VFN_NVME_SC_INVALID_FIELD;
		put64(id, 1ull << VFN_NVME_CSI_NVM);
		put64(id + 8, 1ull << VFN_NVME_CSI_NVM | 1ull << VFN_NVME_CSI_ZNS);
		break;
	case VFN_NVME_CNS_NS_ACTIVE_LIST:
		if (nsid >= 0xfffffffe)
			return VFN_NVME_SC_INVALID_NS;
		id_active_list(sim, nsid, id);
		break;
	default: {
		uint16_t status;

		if (vfn_sim_mgmt_identify(sim, cns, nsid, id, &status)) {
			if (status)
				return status;
			break;
		}
	}
		log_debug("sim: Identify CNS 0x%x not supported", cns);
		return VFN_NVME_SC_INVALID_FIELD;
	}
	return vfn_sim_dma_xfer(sim, sqe, true, id, VFN_NVME_IDENTIFY_DATA_SIZE, true);
}

static bool any_io_queue(const struct vfn_sim *sim)
{
	for (unsigned int q = 1; q <= VFN_SIM_NR_IO_QUEUES; q++)
		if (sim->sqs[q].valid || sim->cqs[q].valid)
			return true;
	return false;
}

static uint16_t set_nr_queues(struct vfn_sim *sim, uint32_t cdw11, uint32_t *dw0)
{
	uint32_t nsqr = cdw11 & 0xffff, ncqr = cdw11 >> 16;

	if (nsqr == 0xffff || ncqr == 0xffff)
		return VFN_NVME_SC_INVALID_FIELD;
	if (any_io_queue(sim))
		return VFN_NVME_SC_CMD_SEQ_ERROR;
	sim->nr_io_sq = (uint16_t)(nsqr < VFN_SIM_NR_IO_QUEUES ? nsqr + 1 : VFN_SIM_NR_IO_QUEUES);
	sim->nr_io_cq = (uint16_t)(ncqr < VFN_SIM_NR_IO_QUEUES ? ncqr + 1 : VFN_SIM_NR_IO_QUEUES);
	*dw0 = (sim->nr_io_sq - 1u) | (sim->nr_io_cq - 1u) << 16;
	return VFN_NVME_SC_SUCCESS;
}

/* SMART Critical Warning bit 1: the composite temperature is at or beyond a threshold. */
static bool temp_crossed(const struct vfn_sim *sim)
{
	return SIM_TEMP_K >= sim->feat.temp_over || SIM_TEMP_K <= sim->feat.temp_under;
}

void vfn_sim_temp_default(struct vfn_sim *sim)
{
	sim->feat.temp_over = SIM_WCTEMP_K;
	sim->feat.temp_under = 0;
	sim->temp_warning = temp_crossed(sim);
}

/* Re-evaluates Critical Warning bit 1: setting it raises a SMART event if AEC bit 1 asks for one. */
static void temp_check(struct vfn_sim *sim)
{
	bool was = sim->temp_warning;

	sim->temp_warning = temp_crossed(sim);
	if (sim->temp_warning && !was && (sim->feat.async_event & SIM_CW_TEMP))
		vfn_sim_event_queue(sim, SIM_EVENT_SMART, SIM_EVENT_TEMP_THRESH, VFN_NVME_LOG_SMART, true);
}

/*
 * Checks Temperature Threshold CDW11: THSEL over or under; TMPSEL the
 * composite temperature, a sensor 1-8 (*@sensor: the sim implements none),
 * or All Temperature Sensors (Set Features only, @set).  Invalid Field for
 * reserved selections.
 */
static uint16_t temp_select(uint32_t cdw11, bool set, bool *sensor)
{
	uint32_t tmpsel = (cdw11 >> 16) & 0xf, thsel = (cdw11 >> 20) & 0x3;

	*sensor = tmpsel >= 1 && tmpsel <= SIM_TMPSEL_SENSOR_8;
	if (thsel > SIM_THSEL_UNDER || (tmpsel > SIM_TMPSEL_SENSOR_8 && (tmpsel != SIM_TMPSEL_ALL || !set))) {
		log_debug("sim: Temperature Threshold TMPSEL 0x%x THSEL 0x%x not supported", tmpsel, thsel);
		return VFN_NVME_SC_INVALID_FIELD;
	}
	return VFN_NVME_SC_SUCCESS;
}

/* Set Features Temperature Threshold: sensors 1-8 are not implemented, so their thresholds are ignored. */
static uint16_t set_temp_thresh(struct vfn_sim *sim, uint32_t cdw11)
{
	bool sensor;
	uint16_t sc = temp_select(cdw11, true, &sensor);

	if (sc || sensor)
		return sc;
	if ((cdw11 >> 20) & SIM_THSEL_UNDER)
		sim->feat.temp_under = (uint16_t)cdw11;
	else
		sim->feat.temp_over = (uint16_t)cdw11;
	temp_check(sim);
	return VFN_NVME_SC_SUCCESS;
}

/* Get Features Temperature Threshold: TMPTH of the selected threshold (0 for the sensors the sim lacks). */
static uint16_t get_temp_thresh(struct vfn_sim *sim, uint32_t cdw11, uint32_t sel, uint32_t *dw0)
{
	bool sensor, under = (cdw11 >> 20) & SIM_THSEL_UNDER;
	uint16_t sc = temp_select(cdw11, false, &sensor);

	if (sc)
		return sc;
	if (sel == 3)
		*dw0 = SIM_FEAT_CHANGEABLE;
	else if (sensor)
		*dw0 = 0;
	else if (sel == 0)
		*dw0 = under ? sim->feat.temp_under : sim->feat.temp_over;
	else
		*dw0 = under ? 0 : SIM_WCTEMP_K;
	return VFN_NVME_SC_SUCCESS;
}

/* The current value of feature @fid, or NULL if the controller has no such feature. */
static uint32_t *feature(struct vfn_sim *sim, uint8_t fid, uint32_t cdw11)
{
	switch (fid) {
	case VFN_NVME_FEAT_ARBITRATION:
		return &sim->feat.arbitration;
	case VFN_NVME_FEAT_POWER_MGMT:
		return &sim->feat.power_mgmt;
	case VFN_NVME_FEAT_VOLATILE_WC:
		return &sim->feat.vwc;
	case VFN_NVME_FEAT_IRQ_COALESCE:
		return &sim->feat.irq_coalesce;
	case VFN_NVME_FEAT_ASYNC_EVENT:
		return &sim->feat.async_event;
	case VFN_NVME_FEAT_IRQ_CONFIG:
		return (cdw11 & 0xffff) < VFN_SIM_NR_VECTORS ? &sim->feat.irq_config[cdw11 & 0xffff] : NULL;
	case VFN_NVME_FEAT_IOCS_PROFILE:
		return sim->opts.zoned ? &sim->feat.iocs_profile : NULL;
	default:
		return NULL;
	}
}

static uint16_t cmd_set_features(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t *dw0)
{
	uint32_t cdw10 = cdw(sqe->cdw10), cdw11 = cdw(sqe->cdw11);
	uint8_t fid = cdw10 & 0xff;
	uint32_t *f;

	if (cdw10 >> 31)
		return VFN_NVME_SC_FEATURE_NOT_SAVEABLE;
	if (fid == VFN_NVME_FEAT_NUM_QUEUES)
		return set_nr_queues(sim, cdw11, dw0);
	if (fid == VFN_NVME_FEAT_TEMP_THRESH)
		return set_temp_thresh(sim, cdw11);
	f = feature(sim, fid, cdw11);
	if (!f) {
		log_debug("sim: Set Features 0x%02x not supported", fid);
		return VFN_NVME_SC_INVALID_FIELD;
	}
	if (fid == VFN_NVME_FEAT_POWER_MGMT && (cdw11 & 0x1f))
		return VFN_NVME_SC_INVALID_FIELD; /* only power state 0 */
	if (fid == VFN_NVME_FEAT_IOCS_PROFILE) {
		/* Only with CC.CSS 110b and before any I/O queue exists; profiles 0 and 1 (CNS 1Ch). */
		if (((sim->cc >> VFN_NVME_CC_CSS_SHIFT) & 0x7) != VFN_NVME_CC_CSS_CSI || any_io_queue(sim))
			return VFN_NVME_SC_CMD_SEQ_ERROR;
		if ((cdw11 & 0x1ff) > 1)
			return VFN_NVME_SC_INVALID_FIELD;
		cdw11 &= 0x1ff;
	}
	*f = fid == VFN_NVME_FEAT_VOLATILE_WC ? cdw11 & 1 : cdw11;
	return VFN_NVME_SC_SUCCESS;
}

static uint16_t cmd_get_features(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t *dw0)
{
	uint32_t cdw10 = cdw(sqe->cdw10), cdw11 = cdw(sqe->cdw11), sel = (cdw10 >> 8) & 0x7;
	uint8_t fid = cdw10 & 0xff;
	uint32_t *f = feature(sim, fid, cdw11);

	if (!f && fid != VFN_NVME_FEAT_NUM_QUEUES && fid != VFN_NVME_FEAT_TEMP_THRESH) {
		log_debug("sim: Get Features 0x%02x not supported", fid);
		return VFN_NVME_SC_INVALID_FIELD;
	}
	if (sel > 3)
		return VFN_NVME_SC_INVALID_FIELD;
	if (fid == VFN_NVME_FEAT_TEMP_THRESH)
		return get_temp_thresh(sim, cdw11, sel, dw0);
	if (sel == 3)
		*dw0 = 1u << 2; /* changeable, not saveable, not namespace specific */
	else if (fid == VFN_NVME_FEAT_NUM_QUEUES)
		*dw0 = (sim->nr_io_sq - 1u) | (sim->nr_io_cq - 1u) << 16;
	else
		*dw0 = sel == 0				  ? *f
		       : fid == VFN_NVME_FEAT_VOLATILE_WC ? 1
		       : fid == VFN_NVME_FEAT_IRQ_CONFIG  ? cdw11 & 0xffff
							  : 0;
	return VFN_NVME_SC_SUCCESS;
}

static void log_error_info(struct vfn_sim *sim, uint8_t *log, size_t *len)
{
	*len = sizeof(sim->stats.err_log);
	memcpy(log, sim->stats.err_log, *len);
}

/* Data units are thousands of 512-byte units, rounded up. */
static uint64_t data_units(uint64_t bytes)
{
	return (bytes + 511999) / 512000;
}

static void log_smart(struct vfn_sim *sim, uint8_t *log, size_t *len)
{
	*len = SIM_LOG_SMART_LEN;
	log[0] = sim->temp_warning ? SIM_CW_TEMP : 0; /* Critical Warning */
	put16(log + 1, SIM_TEMP_K);
	log[3] = 100; /* available spare */
	log[4] = 10;  /* available spare threshold */
	put64(log + 32, data_units(sim->stats.bytes_read));
	put64(log + 48, data_units(sim->stats.bytes_written));
	put64(log + 64, sim->stats.host_reads);
	put64(log + 80, sim->stats.host_writes);
	put64(log + 112, 1); /* power cycles */
	put64(log + 128, vfn_sim_mgmt_poh(sim));
	put64(log + 176, sim->stats.errors);
}

static uint16_t cmd_get_log_page(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe)
{
	uint32_t cdw10 = cdw(sqe->cdw10);
	uint8_t lid = cdw10 & 0xff, log[SIM_LOG_MAX_LEN] = { 0 };
	uint64_t numd = ((uint64_t)(cdw(sqe->cdw11) & 0xffff) << 16 | cdw10 >> 16) + 1;
	uint64_t off = cdw(sqe->cdw12) | (uint64_t)cdw(sqe->cdw13) << 32;
	size_t len = (size_t)numd * 4, log_len;
	uint16_t sc;

	if (lid == VFN_NVME_LOG_ERROR)
		log_error_info(sim, log, &log_len);
	else if (lid == VFN_NVME_LOG_SMART)
		log_smart(sim, log, &log_len);
	else if (!vfn_sim_mgmt_log(sim, cdw10, log, &log_len))
		return VFN_NVME_SC_INVALID_LOG_PAGE;
	if (len > vfn_sim_max_xfer(sim) || (off & 3) || off >= log_len) {
		log_debug("sim: Get Log Page 0x%02x: %zu bytes at offset %llu rejected", lid, len,
			  (unsigned long long)off);
		return VFN_NVME_SC_INVALID_FIELD;
	}
	memset(sim->scratch, 0, len);
	memcpy(sim->scratch, log + off, log_len - off < len ? log_len - off : len);
	sc = vfn_sim_dma_xfer(sim, sqe, true, sim->scratch, len, true);
	if (!sc && !(cdw10 & SIM_LOG_RAE))
		vfn_sim_aen_clear(sim, lid);
	return sc;
}

uint16_t vfn_sim_admin_exec(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t *dw0)
{
	if (sqe->flags & 0x3)
		return VFN_NVME_SC_INVALID_FIELD; /* no fused admin commands */
	switch (sqe->opcode) {
	case VFN_NVME_ADMIN_IDENTIFY:
		return cmd_identify(sim, sqe);
	case VFN_NVME_ADMIN_SET_FEATURES:
		return cmd_set_features(sim, sqe, dw0);
	case VFN_NVME_ADMIN_GET_FEATURES:
		return cmd_get_features(sim, sqe, dw0);
	case VFN_NVME_ADMIN_GET_LOG_PAGE:
		return cmd_get_log_page(sim, sqe);
	case VFN_NVME_ADMIN_CREATE_CQ:
		return vfn_sim_create_cq(sim, sqe);
	case VFN_NVME_ADMIN_CREATE_SQ:
		return vfn_sim_create_sq(sim, sqe);
	case VFN_NVME_ADMIN_DELETE_CQ:
		return vfn_sim_delete_cq(sim, sqe);
	case VFN_NVME_ADMIN_DELETE_SQ:
		return vfn_sim_delete_sq(sim, sqe);
	case VFN_NVME_ADMIN_ABORT:
		return vfn_sim_abort(sim, sqe, dw0);
	case VFN_NVME_ADMIN_ASYNC_EVENT:
		return vfn_sim_aer(sim, sqe);
	case VFN_NVME_ADMIN_DBBUF_CONFIG:
		return vfn_sim_dbbuf_config(sim, sqe);
	default: {
		uint16_t status;

		if (vfn_sim_mgmt_exec(sim, sqe, dw0, &status))
			return status;
	}
		log_debug("sim: admin opcode 0x%02x not supported", sqe->opcode);
		return VFN_NVME_SC_INVALID_OPCODE;
	}
}
