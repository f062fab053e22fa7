/* SPDX-License-Identifier: MIT */
/*
 * Zoned namespaces of the simulator (sim:zoned=1): every namespace is cut
 * into zones of zsze blocks, each writable up to zcap blocks, all of zone
 * type Sequential Write Required.  The zone state machine, the write
 * pointer checks, Zone Append, Zone Management Send / Receive and the
 * open / active resource limits (mor, mar) follow the NVMe Zoned Namespace
 * Command Set 1.1.  Zone state is thread only (the controller thread).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "support/log.h"

#define ZNS_MAX_ZONES (1u << 20) /* zones over all namespaces */
#define DNR 0x4000

static uint32_t cdw(vfn_le32 v)
{
	return vfn_le32_to_cpu(v);
}

int vfn_sim_zns_alloc(struct vfn_sim *sim)
{
	const struct vfn_sim_opts *o = &sim->opts;

	if (!o->zoned)
		return 0;
	sim->nr_zones = o->nsze / o->zsze;
	if (!sim->nr_zones || sim->nr_zones * o->nn > ZNS_MAX_ZONES)
		return -EINVAL;
	sim->zones = calloc(sim->nr_zones * o->nn, sizeof(*sim->zones));
	sim->zns_open = calloc(o->nn, sizeof(*sim->zns_open));
	sim->zns_active = calloc(o->nn, sizeof(*sim->zns_active));
	if (!sim->zones || !sim->zns_open || !sim->zns_active)
		return -ENOMEM;
	for (uint64_t i = 0; i < sim->nr_zones * o->nn; i++) {
		sim->zones[i].state = VFN_NVME_ZS_EMPTY;
		sim->zones[i].wp = (i % sim->nr_zones) * o->zsze;
	}
	return 0;
}

void vfn_sim_zns_free(struct vfn_sim *sim)
{
	free(sim->zones);
	free(sim->zns_open);
	free(sim->zns_active);
	sim->zones = NULL;
	sim->zns_open = sim->zns_active = NULL;
}

void vfn_sim_zns_format(struct vfn_sim *sim)
{
	if (!sim->zones)
		return;
	for (uint64_t i = 0; i < sim->nr_zones * sim->opts.nn; i++) {
		sim->zones[i].state = VFN_NVME_ZS_EMPTY;
		sim->zones[i].wp = (i % sim->nr_zones) * sim->opts.zsze;
	}
	memset(sim->zns_open, 0, sim->opts.nn * sizeof(*sim->zns_open));
	memset(sim->zns_active, 0, sim->opts.nn * sizeof(*sim->zns_active));
}

/* Zone @idx of namespace @nsid. */
static struct vfn_sim_zone *zone_at(struct vfn_sim *sim, uint32_t nsid, uint64_t idx)
{
	return &sim->zones[(uint64_t)(nsid - 1) * sim->nr_zones + idx];
}

static uint64_t zslba(const struct vfn_sim *sim, uint64_t idx)
{
	return idx * sim->opts.zsze;
}

static bool is_open(uint8_t zs)
{
	return zs == VFN_NVME_ZS_IMP_OPEN || zs == VFN_NVME_ZS_EXP_OPEN;
}

static bool is_active(uint8_t zs)
{
	return is_open(zs) || zs == VFN_NVME_ZS_CLOSED;
}

/* Moves zone @z to @to, keeping the namespace's open and active counts. */
static void zone_set(struct vfn_sim *sim, uint32_t nsid, struct vfn_sim_zone *z, uint8_t to)
{
	sim->zns_open[nsid - 1] += (uint32_t)is_open(to) - (uint32_t)is_open(z->state);
	sim->zns_active[nsid - 1] += (uint32_t)is_active(to) - (uint32_t)is_active(z->state);
	z->state = to;
}

/*
 * Room for @act more active and @opn more open zones; with an open limit
 * reached, an implicitly opened zone is closed to make room (as the
 * specification allows the controller).
 */
static uint16_t zone_resources(struct vfn_sim *sim, uint32_t nsid, uint32_t act, uint32_t opn)
{
	const struct vfn_sim_opts *o = &sim->opts;

	if (o->mar && sim->zns_active[nsid - 1] + act > o->mar)
		return VFN_NVME_SC_ZONE_TOO_MANY_ACTIVE;
	while (o->mor && opn && sim->zns_open[nsid - 1] + opn > o->mor) {
		uint64_t i;

		for (i = 0; i < sim->nr_zones; i++)
			if (zone_at(sim, nsid, i)->state == VFN_NVME_ZS_IMP_OPEN)
				break;
		if (i == sim->nr_zones)
			return VFN_NVME_SC_ZONE_TOO_MANY_OPEN;
		zone_set(sim, nsid, zone_at(sim, nsid, i), VFN_NVME_ZS_CLOSED);
	}
	return VFN_NVME_SC_SUCCESS;
}

/* Zone state errors common to writes: Full, Read Only, Offline. */
static uint16_t zone_writable(uint8_t zs)
{
	switch (zs) {
	case VFN_NVME_ZS_FULL:
		return VFN_NVME_SC_ZONE_FULL;
	case VFN_NVME_ZS_READ_ONLY:
		return VFN_NVME_SC_ZONE_READ_ONLY;
	case VFN_NVME_ZS_OFFLINE:
		return VFN_NVME_SC_ZONE_OFFLINE;
	default:
		return VFN_NVME_SC_SUCCESS;
	}
}

uint16_t vfn_sim_zns_write_begin(struct vfn_sim *sim, uint32_t nsid, uint64_t slba, uint64_t nlb)
{
	uint64_t idx = slba / sim->opts.zsze;
	struct vfn_sim_zone *z;
	uint16_t sc;

	if (idx >= sim->nr_zones)
		return VFN_NVME_SC_LBA_RANGE;
	z = zone_at(sim, nsid, idx);
	sc = zone_writable(z->state);
	if (sc)
		return sc;
	if (slba != z->wp) {
		log_debug("sim: write at LBA %llu, zone %llu's write pointer is at %llu", (unsigned long long)slba,
			  (unsigned long long)idx, (unsigned long long)z->wp);
		return VFN_NVME_SC_ZONE_INVALID_WRITE;
	}
	if (slba + nlb > zslba(sim, idx) + sim->opts.zcap)
		return VFN_NVME_SC_ZONE_BOUNDARY_ERROR;
	switch (z->state) {
	case VFN_NVME_ZS_EMPTY:
		sc = zone_resources(sim, nsid, 1, 1);
		break;
	case VFN_NVME_ZS_CLOSED:
		sc = zone_resources(sim, nsid, 0, 1);
		break;
	default:
		return VFN_NVME_SC_SUCCESS;
	}
	if (!sc)
		zone_set(sim, nsid, z, VFN_NVME_ZS_IMP_OPEN);
	return sc;
}

void vfn_sim_zns_write_end(struct vfn_sim *sim, uint32_t nsid, uint64_t slba, uint64_t nlb)
{
	uint64_t idx = slba / sim->opts.zsze;
	struct vfn_sim_zone *z = zone_at(sim, nsid, idx);

	z->wp = slba + nlb;
	if (z->wp == zslba(sim, idx) + sim->opts.zcap)
		zone_set(sim, nsid, z, VFN_NVME_ZS_FULL);
}

/* Zeroes the data of zone @idx (a reset: the blocks read as zeros again). */
static void zone_zero(struct vfn_sim *sim, uint32_t nsid, uint64_t idx)
{
	uint64_t slba = zslba(sim, idx);
	size_t len = (size_t)sim->opts.zsze << sim->opts.lbads;

	vfn_sim_ns_zero(sim->ns_data[nsid - 1] + (slba << sim->opts.lbads), len);
}

/* One Zone Send Action on zone @idx; @all: part of Select All (zones in other states are skipped). */
static uint16_t zone_action(struct vfn_sim *sim, uint32_t nsid, uint64_t idx, uint8_t zsa, bool all)
{
	struct vfn_sim_zone *z = zone_at(sim, nsid, idx);
	uint8_t zs = z->state;
	uint16_t sc;

	switch (zsa) {
	case VFN_NVME_ZSA_OPEN:
		if (all && zs != VFN_NVME_ZS_CLOSED)
			return 0;
		if (zs == VFN_NVME_ZS_EXP_OPEN)
			return 0;
		if (zs == VFN_NVME_ZS_EMPTY)
			sc = zone_resources(sim, nsid, 1, 1);
		else if (zs == VFN_NVME_ZS_CLOSED)
			sc = zone_resources(sim, nsid, 0, 1);
		else if (zs == VFN_NVME_ZS_IMP_OPEN)
			sc = 0;
		else
			return VFN_NVME_SC_ZONE_INVALID_TRANSITION;
		if (!sc)
			zone_set(sim, nsid, z, VFN_NVME_ZS_EXP_OPEN);
		return sc;
	case VFN_NVME_ZSA_CLOSE:
		if (all && !is_open(zs))
			return 0;
		if (zs == VFN_NVME_ZS_CLOSED)
			return 0;
		if (!is_open(zs))
			return VFN_NVME_SC_ZONE_INVALID_TRANSITION;
		zone_set(sim, nsid, z, VFN_NVME_ZS_CLOSED);
		return 0;
	case VFN_NVME_ZSA_FINISH:
		if (all && !is_active(zs))
			return 0;
		if (zs == VFN_NVME_ZS_FULL)
			return 0;
		if (zs != VFN_NVME_ZS_EMPTY && !is_active(zs))
			return VFN_NVME_SC_ZONE_INVALID_TRANSITION;
		if (zs == VFN_NVME_ZS_EMPTY) {
			sc = zone_resources(sim, nsid, 1, 0);
			if (sc)
				return sc;
		}
		z->wp = zslba(sim, idx) + sim->opts.zcap;
		zone_set(sim, nsid, z, VFN_NVME_ZS_FULL);
		return 0;
	case VFN_NVME_ZSA_RESET:
		if (all && !is_active(zs) && zs != VFN_NVME_ZS_FULL)
			return 0;
		if (zs == VFN_NVME_ZS_READ_ONLY || zs == VFN_NVME_ZS_OFFLINE)
			return VFN_NVME_SC_ZONE_INVALID_TRANSITION;
		if (zs != VFN_NVME_ZS_EMPTY)
			zone_zero(sim, nsid, idx);
		z->wp = zslba(sim, idx);
		zone_set(sim, nsid, z, VFN_NVME_ZS_EMPTY);
		return 0;
	case VFN_NVME_ZSA_OFFLINE:
		if (all && zs != VFN_NVME_ZS_READ_ONLY)
			return 0;
		if (zs == VFN_NVME_ZS_OFFLINE)
			return 0;
		if (zs != VFN_NVME_ZS_READ_ONLY)
			return VFN_NVME_SC_ZONE_INVALID_TRANSITION;
		zone_set(sim, nsid, z, VFN_NVME_ZS_OFFLINE);
		return 0;
	default:
		log_debug("sim: Zone Send Action 0x%02x not supported", zsa);
		return VFN_NVME_SC_INVALID_FIELD;
	}
}

static uint16_t zone_mgmt_send(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t nsid)
{
	uint64_t slba = cdw(sqe->cdw10) | (uint64_t)cdw(sqe->cdw11) << 32;
	uint32_t cdw13 = cdw(sqe->cdw13);
	uint8_t zsa = cdw13 & 0xff;
	uint16_t sc;

	if (cdw13 & VFN_NVME_ZSA_SELECT_ALL) {
		/* Open all closed zones: resources for all of them first, or none opens. */
		if (zsa == VFN_NVME_ZSA_OPEN) {
			uint32_t n = 0;

			for (uint64_t i = 0; i < sim->nr_zones; i++)
				n += zone_at(sim, nsid, i)->state == VFN_NVME_ZS_CLOSED;
			if (sim->opts.mor && sim->zns_open[nsid - 1] + n > sim->opts.mor)
				return VFN_NVME_SC_ZONE_TOO_MANY_OPEN;
		}
		for (uint64_t i = 0; i < sim->nr_zones; i++) {
			sc = zone_action(sim, nsid, i, zsa, true);
			if (sc)
				return sc;
		}
		return 0;
	}
	if (slba % sim->opts.zsze || slba / sim->opts.zsze >= sim->nr_zones) {
		log_debug("sim: Zone Management Send SLBA %llu is not a zone start", (unsigned long long)slba);
		return slba / sim->opts.zsze >= sim->nr_zones ? VFN_NVME_SC_LBA_RANGE : VFN_NVME_SC_INVALID_FIELD;
	}
	return zone_action(sim, nsid, slba / sim->opts.zsze, zsa, false);
}

static bool zone_matches(uint8_t zs, uint8_t zrasf)
{
	static const uint8_t want[] = {
		[VFN_NVME_ZRASF_EMPTY] = VFN_NVME_ZS_EMPTY,	  [VFN_NVME_ZRASF_IMP_OPEN] = VFN_NVME_ZS_IMP_OPEN,
		[VFN_NVME_ZRASF_EXP_OPEN] = VFN_NVME_ZS_EXP_OPEN, [VFN_NVME_ZRASF_CLOSED] = VFN_NVME_ZS_CLOSED,
		[VFN_NVME_ZRASF_FULL] = VFN_NVME_ZS_FULL,	  [VFN_NVME_ZRASF_READ_ONLY] = VFN_NVME_ZS_READ_ONLY,
		[VFN_NVME_ZRASF_OFFLINE] = VFN_NVME_ZS_OFFLINE,
	};

	return zrasf == VFN_NVME_ZRASF_ALL || want[zrasf] == zs;
}

static uint16_t zone_mgmt_recv(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t nsid)
{
	uint64_t slba = cdw(sqe->cdw10) | (uint64_t)cdw(sqe->cdw11) << 32;
	size_t len = ((size_t)cdw(sqe->cdw12) + 1) * 4, max;
	uint32_t cdw13 = cdw(sqe->cdw13);
	uint8_t zra = cdw13 & 0xff, zrasf = (cdw13 >> VFN_NVME_ZRASF_SHIFT) & 0xff;
	bool partial = cdw13 & VFN_NVME_ZRA_PARTIAL;
	struct vfn_nvme_zone_report *hdr = (void *)sim->scratch;
	uint64_t n = 0, matched = 0;

	if (zra != VFN_NVME_ZRA_REPORT || zrasf > VFN_NVME_ZRASF_OFFLINE || len > vfn_sim_max_xfer(sim) ||
	    len < sizeof(*hdr)) {
		log_debug("sim: Zone Management Receive ZRA %u ZRASF %u of %zu bytes not supported", zra, zrasf, len);
		return VFN_NVME_SC_INVALID_FIELD;
	}
	if (slba / sim->opts.zsze >= sim->nr_zones)
		return VFN_NVME_SC_LBA_RANGE;
	memset(sim->scratch, 0, len);
	max = (len - sizeof(*hdr)) / sizeof(struct vfn_nvme_zone_desc);
	for (uint64_t i = slba / sim->opts.zsze; i < sim->nr_zones; i++) {
		struct vfn_sim_zone *z = zone_at(sim, nsid, i);
		struct vfn_nvme_zone_desc *d;

		if (!zone_matches(z->state, zrasf))
			continue;
		matched++;
		if (n == max)
			continue;
		d = (struct vfn_nvme_zone_desc *)(void *)(sim->scratch + sizeof(*hdr)) + n++;
		d->zt = VFN_NVME_ZT_SEQ_WRITE_REQUIRED;
		d->zs = (uint8_t)(z->state << VFN_NVME_ZS_SHIFT);
		d->zcap = vfn_cpu_to_le64(sim->opts.zcap);
		d->zslba = vfn_cpu_to_le64(zslba(sim, i));
		d->wp = vfn_cpu_to_le64(z->state == VFN_NVME_ZS_OFFLINE ? UINT64_MAX : z->wp);
	}
	hdr->nr_zones = vfn_cpu_to_le64(partial ? n : matched);
	return vfn_sim_dma_xfer(sim, sqe, false, sim->scratch, len, true);
}

/* Zone Append: a write at the zone's write pointer, that LBA back in DW0/DW1. */
static uint16_t zone_append(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t nsid, uint32_t *dw0)
{
	uint64_t zs = cdw(sqe->cdw10) | (uint64_t)cdw(sqe->cdw11) << 32, nlb = (cdw(sqe->cdw12) & 0xffff) + 1ull;
	struct vfn_nvme_sqe w = *sqe;
	struct vfn_sim_zone *z;
	uint64_t wp;
	uint16_t sc;

	if (zs / sim->opts.zsze >= sim->nr_zones)
		return VFN_NVME_SC_LBA_RANGE;
	if (zs % sim->opts.zsze)
		return VFN_NVME_SC_INVALID_FIELD;
	z = zone_at(sim, nsid, zs / sim->opts.zsze);
	/* The zone's own state first: a Full zone whose capacity is its size
	 * has its write pointer at the next zone's start, which the write
	 * below would take for that zone. */
	sc = zone_writable(z->state);
	if (sc)
		return sc;
	wp = z->wp;
	w.opcode = VFN_NVME_CMD_WRITE;
	w.cdw10 = vfn_cpu_to_le32((uint32_t)wp);
	w.cdw11 = vfn_cpu_to_le32((uint32_t)(wp >> 32));
	sc = vfn_sim_zns_write_begin(sim, nsid, wp, nlb);
	if (!sc)
		sc = vfn_sim_nvm_rw(sim, &w, nsid);
	if (sc)
		return sc;
	vfn_sim_zns_write_end(sim, nsid, wp, nlb);
	*dw0 = (uint32_t)wp;
	sim->cqe_dw1 = (uint32_t)(wp >> 32);
	return 0;
}

bool vfn_sim_zns_exec(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t nsid, uint32_t *dw0,
		      uint16_t *status)
{
	switch (sqe->opcode) {
	case VFN_NVME_CMD_ZONE_MGMT_SEND:
	case VFN_NVME_CMD_ZONE_MGMT_RECV:
	case VFN_NVME_CMD_ZONE_APPEND:
		break;
	default:
		return false;
	}
	if (!sim->opts.zoned || ((sim->cc >> VFN_NVME_CC_CSS_SHIFT) & 0x7) != VFN_NVME_CC_CSS_CSI ||
	    sim->feat.iocs_profile != 1) {
		log_debug("sim: zone command 0x%02x without a zoned namespace, CC.CSS 110b or profile 1 (NVM + Zoned)",
			  sqe->opcode);
		*status = VFN_NVME_SC_INVALID_OPCODE;
		return true;
	}
	switch (sqe->opcode) {
	case VFN_NVME_CMD_ZONE_MGMT_SEND:
		*status = zone_mgmt_send(sim, sqe, nsid);
		break;
	case VFN_NVME_CMD_ZONE_MGMT_RECV:
		*status = zone_mgmt_recv(sim, sqe, nsid);
		break;
	default:
		*status = zone_append(sim, sqe, nsid, dw0);
		break;
	}
	return true;
}

void vfn_sim_zns_id_ns(const struct vfn_sim *sim, struct vfn_nvme_id_ns_zns *id)
{
	const struct vfn_sim_opts *o = &sim->opts;

	id->ozcs = vfn_cpu_to_le16(VFN_NVME_OZCS_RAZB);
	id->mar = vfn_cpu_to_le32(o->mar ? o->mar - 1 : UINT32_MAX);
	id->mor = vfn_cpu_to_le32(o->mor ? o->mor - 1 : UINT32_MAX);
	for (unsigned int i = 0; i < VFN_SIM_NR_LBAF; i++)
		id->lbafe[i].zsze = vfn_cpu_to_le64(o->zsze);
}
