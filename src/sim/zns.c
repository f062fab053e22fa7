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

#define ZNS_MAX_ZONES (1u << 20)	/* zones over all namespaces */
#define ZNS_MAX_ZDE_BYTES (64ull << 20) /* descriptor extensions over all zones */
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
	sim->zns_zrwa_free = calloc(o->nn, sizeof(*sim->zns_zrwa_free));
	if (!sim->zones || !sim->zns_open || !sim->zns_active || !sim->zns_zrwa_free)
		return -ENOMEM;
	if (o->zdes) {
		if (sim->nr_zones * o->nn * o->zdes * 64 > ZNS_MAX_ZDE_BYTES) {
			log_debug("sim: zdes=%u for %llu zones is over %llu bytes of extensions", o->zdes,
				  (unsigned long long)(sim->nr_zones * o->nn), ZNS_MAX_ZDE_BYTES);
			return -EINVAL;
		}
		sim->zde = calloc(sim->nr_zones * o->nn, (size_t)o->zdes * 64);
		if (!sim->zde)
			return -ENOMEM;
	}
	vfn_sim_zns_format(sim);
	return 0;
}

void vfn_sim_zns_free(struct vfn_sim *sim)
{
	free(sim->zones);
	free(sim->zns_open);
	free(sim->zns_active);
	free(sim->zns_zrwa_free);
	free(sim->zde);
	sim->zones = NULL;
	sim->zns_open = sim->zns_active = sim->zns_zrwa_free = NULL;
	sim->zde = NULL;
}

void vfn_sim_zns_format(struct vfn_sim *sim)
{
	if (!sim->zones)
		return;
	for (uint64_t i = 0; i < sim->nr_zones * sim->opts.nn; i++) {
		sim->zones[i].state = VFN_NVME_ZS_EMPTY;
		sim->zones[i].wp = (i % sim->nr_zones) * sim->opts.zsze;
		sim->zones[i].za = 0;
	}
	memset(sim->zns_open, 0, sim->opts.nn * sizeof(*sim->zns_open));
	memset(sim->zns_active, 0, sim->opts.nn * sizeof(*sim->zns_active));
	for (uint32_t n = 0; n < sim->opts.nn; n++)
		sim->zns_zrwa_free[n] = sim->opts.zrwasz ? sim->opts.numzrwa : 0;
	if (sim->zde)
		memset(sim->zde, 0, sim->nr_zones * sim->opts.nn * sim->opts.zdes * 64);
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

/* The descriptor extension of zone @z (zdes x 64 bytes). */
static uint8_t *zone_zde(struct vfn_sim *sim, const struct vfn_sim_zone *z)
{
	return sim->zde + (size_t)(z - sim->zones) * sim->opts.zdes * 64;
}

/*
 * Moves zone @z to @to, keeping the namespace's open and active counts; a
 * zone that leaves the active states for Empty, Full or Offline gives its
 * ZRWA back, and Empty / Offline clear its attributes (extension included).
 */
static void zone_set(struct vfn_sim *sim, uint32_t nsid, struct vfn_sim_zone *z, uint8_t to)
{
	sim->zns_open[nsid - 1] += (uint32_t)is_open(to) - (uint32_t)is_open(z->state);
	sim->zns_active[nsid - 1] += (uint32_t)is_active(to) - (uint32_t)is_active(z->state);
	z->state = to;
	if (!is_active(to) && (z->za & VFN_NVME_ZA_ZRWAV)) {
		z->za &= (uint8_t)~VFN_NVME_ZA_ZRWAV;
		sim->zns_zrwa_free[nsid - 1]++;
	}
	if (to == VFN_NVME_ZS_EMPTY || to == VFN_NVME_ZS_OFFLINE) {
		if ((z->za & VFN_NVME_ZA_ZDEV) && sim->zde)
			memset(zone_zde(sim, z), 0, (size_t)sim->opts.zdes * 64);
		z->za = 0;
	}
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
	if (z->za & VFN_NVME_ZA_ZRWAV) {
		/* Anywhere in the ZRWA and the implicit flush region after it, in any order. */
		if (slba < z->wp || slba + nlb > z->wp + 2ull * sim->opts.zrwasz) {
			log_debug("sim: write of LBAs %llu+%llu outside zone %llu's ZRWA window %llu..%llu",
				  (unsigned long long)slba, (unsigned long long)nlb, (unsigned long long)idx,
				  (unsigned long long)z->wp, (unsigned long long)(z->wp + 2ull * sim->opts.zrwasz - 1));
			return VFN_NVME_SC_ZONE_INVALID_WRITE;
		}
	} else if (slba != z->wp) {
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

	if (z->za & VFN_NVME_ZA_ZRWAV) {
		/* Past the ZRWA: an implicit flush of whole ZRWAFG units moves the write pointer. */
		uint64_t end = z->wp + sim->opts.zrwasz, fg = sim->opts.zrwafg;

		if (slba + nlb <= end)
			return;
		z->wp += (slba + nlb - end + fg - 1) / fg * fg;
		if (z->wp > zslba(sim, idx) + sim->opts.zcap)
			z->wp = zslba(sim, idx) + sim->opts.zcap;
	} else {
		z->wp = slba + nlb;
	}
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

/* Open with ZRWAA: a ZRWA for zone @z, if it has none yet (a free resource, the write pointer on a flush unit). */
static uint16_t zone_zrwa_check(struct vfn_sim *sim, uint32_t nsid, const struct vfn_sim_zone *z)
{
	if (!sim->opts.zrwasz)
		return VFN_NVME_SC_ZONE_INVALID_OP;
	if (z->za & VFN_NVME_ZA_ZRWAV)
		return 0;
	if (!sim->zns_zrwa_free[nsid - 1] || z->wp % sim->opts.zrwafg)
		return VFN_NVME_SC_ZONE_ZRWA_UNAVAILABLE;
	return 0;
}

/* Set Zone Descriptor Extension: an Empty zone becomes Closed with the extension valid. */
static uint16_t zone_set_zde(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t nsid, uint64_t idx)
{
	struct vfn_sim_zone *z = zone_at(sim, nsid, idx);
	size_t len = (size_t)sim->opts.zdes * 64;
	uint16_t sc;

	if (!sim->opts.zdes)
		return VFN_NVME_SC_INVALID_FIELD;
	if (z->state != VFN_NVME_ZS_EMPTY)
		return VFN_NVME_SC_ZONE_INVALID_TRANSITION;
	sc = zone_resources(sim, nsid, 1, 0);
	if (sc)
		return sc;
	sc = vfn_sim_dma_xfer(sim, sqe, false, zone_zde(sim, z), len, false);
	if (sc)
		return sc;
	zone_set(sim, nsid, z, VFN_NVME_ZS_CLOSED);
	z->za |= VFN_NVME_ZA_ZDEV;
	return 0;
}

/* Flush Explicit ZRWA Range up to LBA @elba: the write pointer moves to @elba + 1. */
static uint16_t zone_flush_zrwa(struct vfn_sim *sim, uint32_t nsid, uint64_t elba)
{
	uint64_t idx = elba / sim->opts.zsze;
	struct vfn_sim_zone *z;
	uint64_t nlb;

	if (!sim->opts.zrwasz)
		return VFN_NVME_SC_ZONE_INVALID_OP;
	if (idx >= sim->nr_zones)
		return VFN_NVME_SC_LBA_RANGE;
	z = zone_at(sim, nsid, idx);
	if (!(z->za & VFN_NVME_ZA_ZRWAV))
		return VFN_NVME_SC_INVALID_FIELD;
	/* The ZRWA ends at the zone's capacity: a flush past it would move the write pointer beyond zcap. */
	if (elba < z->wp || elba >= z->wp + sim->opts.zrwasz || elba >= zslba(sim, idx) + sim->opts.zcap)
		return VFN_NVME_SC_ZONE_BOUNDARY_ERROR;
	nlb = elba + 1 - z->wp;
	if (nlb % sim->opts.zrwafg)
		return VFN_NVME_SC_INVALID_FIELD;
	z->wp += nlb;
	if (z->wp == zslba(sim, idx) + sim->opts.zcap)
		zone_set(sim, nsid, z, VFN_NVME_ZS_FULL);
	return 0;
}

/*
 * One Zone Send Action on zone @idx; @all: part of Select All (zones in
 * other states are skipped); @zrwaa: Open allocates a ZRWA.
 */
static uint16_t zone_action(struct vfn_sim *sim, uint32_t nsid, uint64_t idx, uint8_t zsa, bool all, bool zrwaa)
{
	struct vfn_sim_zone *z = zone_at(sim, nsid, idx);
	uint8_t zs = z->state;
	uint16_t sc;

	switch (zsa) {
	case VFN_NVME_ZSA_OPEN:
		if (all && zs != VFN_NVME_ZS_CLOSED)
			return 0;
		if (zrwaa && (zs == VFN_NVME_ZS_EMPTY || is_active(zs))) {
			sc = zone_zrwa_check(sim, nsid, z);
			if (sc)
				return sc;
		}
		if (zs == VFN_NVME_ZS_EXP_OPEN)
			sc = 0;
		else if (zs == VFN_NVME_ZS_EMPTY)
			sc = zone_resources(sim, nsid, 1, 1);
		else if (zs == VFN_NVME_ZS_CLOSED)
			sc = zone_resources(sim, nsid, 0, 1);
		else if (zs == VFN_NVME_ZS_IMP_OPEN)
			sc = 0;
		else
			return VFN_NVME_SC_ZONE_INVALID_TRANSITION;
		if (sc)
			return sc;
		zone_set(sim, nsid, z, VFN_NVME_ZS_EXP_OPEN);
		if (zrwaa && !(z->za & VFN_NVME_ZA_ZRWAV)) {
			z->za |= VFN_NVME_ZA_ZRWAV;
			sim->zns_zrwa_free[nsid - 1]--;
		}
		return 0;
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
	bool zrwaa = zsa == VFN_NVME_ZSA_OPEN && (cdw13 & VFN_NVME_ZSA_ZRWAA);
	uint16_t sc;

	if ((zsa == VFN_NVME_ZSA_SET_ZDE || zsa == VFN_NVME_ZSA_FLUSH_ZRWA) && (cdw13 & VFN_NVME_ZSA_SELECT_ALL))
		return VFN_NVME_SC_INVALID_FIELD;
	if (zsa == VFN_NVME_ZSA_FLUSH_ZRWA) /* SLBA: the last LBA to flush, anywhere in the zone */
		return zone_flush_zrwa(sim, nsid, slba);
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
			sc = zone_action(sim, nsid, i, zsa, true, zrwaa);
			if (sc)
				return sc;
		}
		return 0;
	}
	if (slba % sim->opts.zsze || slba / sim->opts.zsze >= sim->nr_zones) {
		log_debug("sim: Zone Management Send SLBA %llu is not a zone start", (unsigned long long)slba);
		return slba / sim->opts.zsze >= sim->nr_zones ? VFN_NVME_SC_LBA_RANGE : VFN_NVME_SC_INVALID_FIELD;
	}
	if (zsa == VFN_NVME_ZSA_SET_ZDE)
		return zone_set_zde(sim, sqe, nsid, slba / sim->opts.zsze);
	return zone_action(sim, nsid, slba / sim->opts.zsze, zsa, false, zrwaa);
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
	size_t ext = zra == VFN_NVME_ZRA_EXTENDED_REPORT ? (size_t)sim->opts.zdes * 64 : 0;
	uint64_t n = 0, matched = 0;

	if ((zra != VFN_NVME_ZRA_REPORT && (zra != VFN_NVME_ZRA_EXTENDED_REPORT || !ext)) ||
	    zrasf > VFN_NVME_ZRASF_OFFLINE || len > vfn_sim_max_xfer(sim) || len < sizeof(*hdr)) {
		log_debug("sim: Zone Management Receive ZRA %u ZRASF %u of %zu bytes not supported", zra, zrasf, len);
		return VFN_NVME_SC_INVALID_FIELD;
	}
	if (slba / sim->opts.zsze >= sim->nr_zones)
		return VFN_NVME_SC_LBA_RANGE;
	memset(sim->scratch, 0, len);
	max = (len - sizeof(*hdr)) / (sizeof(struct vfn_nvme_zone_desc) + ext);
	for (uint64_t i = slba / sim->opts.zsze; i < sim->nr_zones; i++) {
		struct vfn_sim_zone *z = zone_at(sim, nsid, i);
		struct vfn_nvme_zone_desc *d;

		if (!zone_matches(z->state, zrasf))
			continue;
		matched++;
		if (n == max)
			continue;
		d = (void *)(sim->scratch + sizeof(*hdr) + n++ * (sizeof(*d) + ext));
		d->zt = VFN_NVME_ZT_SEQ_WRITE_REQUIRED;
		d->zs = (uint8_t)(z->state << VFN_NVME_ZS_SHIFT);
		d->za = z->za;
		if (ext && (z->za & VFN_NVME_ZA_ZDEV))
			memcpy((uint8_t *)d + sizeof(*d), zone_zde(sim, z), ext);
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
	if (z->za & VFN_NVME_ZA_ZRWAV)
		return VFN_NVME_SC_ZONE_INVALID_OP; /* no Zone Append to a zone with a ZRWA */
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

	id->ozcs = vfn_cpu_to_le16(VFN_NVME_OZCS_RAZB | (o->zrwasz ? VFN_NVME_OZCS_ZRWASUP : 0));
	id->mar = vfn_cpu_to_le32(o->mar ? o->mar - 1 : UINT32_MAX);
	id->mor = vfn_cpu_to_le32(o->mor ? o->mor - 1 : UINT32_MAX);
	if (o->zrwasz) {
		id->numzrwa = vfn_cpu_to_le32(o->numzrwa - 1);
		id->zrwafg = vfn_cpu_to_le16((uint16_t)o->zrwafg);
		id->zrwasz = vfn_cpu_to_le16((uint16_t)o->zrwasz);
		id->zrwacap = VFN_NVME_ZRWACAP_EXPFLUSHSUP;
	}
	for (unsigned int i = 0; i < VFN_SIM_NR_LBAF; i++) {
		id->lbafe[i].zsze = vfn_cpu_to_le64(o->zsze);
		id->lbafe[i].zdes = (uint8_t)o->zdes;
	}
}
