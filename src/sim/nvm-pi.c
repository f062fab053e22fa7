// SPDX-License-Identifier: MIT
/*
 * Read and Write on a namespace formatted with metadata (sim:ms=,mset=) and
 * end-to-end protection (pi=,pif=,pil=).  Each namespace keeps its metadata
 * beside its data, nsze x ms bytes, stored inverted: fresh (or zeroed)
 * memory reads back as all-ones metadata, whose PI tuple (app tag FFFFh,
 * ref tag all ones) disables checking, as a controller does for blocks
 * never written with PI.
 *
 * A command moves the host's data (interleaved with its metadata on an
 * extended-LBA format) through the data pointer, and separate metadata
 * through MPTR (one contiguous buffer, or with PSDT 10b and sim option
 * mptr_sgl the SGL whose one descriptor MPTR addresses).  PRINFO (CDW12
 * 29:26): PRACT=1 makes the controller generate the PI on writes (the
 * metadata is only the tuple: none moves; larger: the host's other bytes
 * are kept) and, on reads, not return a metadata area that is only the tuple; PRCHK asks for the guard,
 * app tag (CDW15 under its mask) and ref tag (CDW14, and CDW3 bits 15:0 as
 * bits 47:32 with the 64-bit guard) to be checked: on writes when PRACT=0,
 * on every read.  Failures: 0x282/0x283/0x284; an initial ref tag not the
 * SLBA's low bits on type 1, or a ref tag check asked of type 3: 0x181.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vfn/pi.h>

#include "sim/sim.h"
#include "support/log.h"

int vfn_sim_pi_alloc(struct vfn_sim *sim)
{
	size_t nlb_max = vfn_sim_max_xfer(sim) >> sim->opts.lbads;
	ssize_t n;

	if (!sim->opts.ms || sim->opts.nil)
		return 0;
	sim->meta_bytes = (size_t)sim->opts.nsze * sim->opts.ms;
	sim->ns_meta = calloc(sim->opts.nn, sizeof(*sim->ns_meta));
	sim->pi_buf = malloc(vfn_sim_max_xfer(sim));
	sim->pi_mbuf = malloc(nlb_max * sim->opts.ms);
	if (!sim->ns_meta || !sim->pi_buf || !sim->pi_mbuf)
		return -ENOMEM;
	for (uint32_t i = 0; i < sim->opts.nn; i++) {
		n = vfn_mem_alloc(sim->meta_bytes, (void **)&sim->ns_meta[i]);
		if (n < 0)
			return (int)n;
	}
	return 0;
}

void vfn_sim_pi_free(struct vfn_sim *sim)
{
	if (sim->ns_meta) {
		for (uint32_t i = 0; i < sim->opts.nn; i++)
			if (sim->ns_meta[i])
				vfn_mem_free(sim->ns_meta[i], sim->meta_bytes);
		free(sim->ns_meta);
	}
	free(sim->pi_buf);
	free(sim->pi_mbuf);
}

void vfn_sim_pi_zero(struct vfn_sim *sim, uint32_t nsid, uint64_t slba, uint64_t nlb)
{
	if (sim->ns_meta)
		memset(sim->ns_meta[nsid - 1] + slba * sim->opts.ms, 0, nlb * sim->opts.ms);
}

/* One command's view: the layout, the tags, and where the bytes are. */
struct pi_cmd {
	struct vfn_pi_format fmt; /* as the host buffer is laid out */
	struct vfn_pi_tags tags;
	uint8_t prinfo;
	bool moves;	  /* metadata crosses the bus */
	size_t nlb, dlen; /* host data buffer bytes (with interleaved metadata) */
	uint8_t *meta;	  /* per-block metadata: in pi_buf (interleaved) or pi_mbuf */
};

static void pi_cmd_init(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint64_t nlb, struct pi_cmd *c)
{
	const struct vfn_sim_opts *o = &sim->opts;
	uint32_t cdw12 = vfn_le32_to_cpu(sqe->cdw12), cdw15 = vfn_le32_to_cpu(sqe->cdw15);
	uint64_t ref = vfn_le32_to_cpu(sqe->cdw14);

	if (o->pif == VFN_PI_PIF_64)
		ref |= (uint64_t)(vfn_le32_to_cpu(sqe->cdw3) & 0xffff) << 32;
	c->prinfo = (cdw12 >> VFN_PI_PRINFO_SHIFT) & 0xf;
	c->moves = vfn_pi_meta_moves((uint16_t)o->ms, (uint8_t)o->pi, (uint8_t)o->pif, o->pi ? c->prinfo : 0);
	c->fmt = (struct vfn_pi_format){ 1u << o->lbads,  (uint16_t)o->ms, (uint8_t)o->pi,
					 (uint8_t)o->pif, o->pil,	   o->mset && c->moves };
	c->tags = (struct vfn_pi_tags){ ref, (uint16_t)cdw15, (uint16_t)(cdw15 >> 16), (uint8_t)(c->prinfo & 7) };
	c->nlb = nlb;
	c->dlen = nlb * (c->fmt.lba_size + (c->fmt.extended ? o->ms : 0));
	c->meta = c->fmt.extended ? sim->pi_buf + c->fmt.lba_size : sim->pi_mbuf;
}

/* The metadata of block @i in the command's buffers. */
static uint8_t *pi_cmd_meta(const struct pi_cmd *c, size_t i)
{
	return c->meta + i * (c->fmt.extended ? c->fmt.lba_size + c->fmt.ms : c->fmt.ms);
}

static uint8_t *pi_cmd_data(struct vfn_sim *sim, const struct pi_cmd *c, size_t i)
{
	return sim->pi_buf + i * (c->fmt.lba_size + (c->fmt.extended ? c->fmt.ms : 0));
}

/* Separate metadata over MPTR: one contiguous buffer, or an SGL (PSDT 10b). */
static uint16_t pi_mptr_xfer(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, const struct pi_cmd *c, bool to_host)
{
	return vfn_sim_dma_xfer_meta(sim, sqe, sim->pi_mbuf, c->nlb * c->fmt.ms, to_host);
}

/* PRINFO fields that no data can satisfy (as QEMU's controller judges them). */
static uint16_t pi_prinfo_check(const struct vfn_sim *sim, const struct pi_cmd *c, uint64_t slba)
{
	uint64_t mask = sim->opts.pif == VFN_PI_PIF_64 ? 0xffffffffffffULL : 0xffffffffULL;

	if (!sim->opts.pi || !(c->prinfo & VFN_PI_PRCHK_REF))
		return VFN_NVME_SC_SUCCESS;
	if ((sim->opts.pi == VFN_PI_TYPE1 && (slba & mask) != c->tags.ref_tag) || sim->opts.pi == VFN_PI_TYPE3) {
		log_debug("sim: ref tag check with ILBRT 0x%llx on type %u at LBA %llu",
			  (unsigned long long)c->tags.ref_tag, sim->opts.pi, (unsigned long long)slba);
		return VFN_PI_SC_INVALID_PI;
	}
	return VFN_NVME_SC_SUCCESS;
}

static uint16_t pi_verify(const struct pi_cmd *c, uint8_t *data)
{
	struct vfn_pi_error e;

	if (!c->fmt.pi_type || !c->tags.prchk)
		return VFN_NVME_SC_SUCCESS;
	if (vfn_pi_verify(&c->fmt, data, c->fmt.extended ? NULL : c->meta, (uint32_t)c->nlb, &c->tags, &e)) {
		log_debug("sim: PI check failed on block %u of the command: 0x%x", e.block, e.status);
		return e.status;
	}
	return VFN_NVME_SC_SUCCESS;
}

/* Host -> namespace. */
static uint16_t pi_write(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, struct pi_cmd *c, uint8_t *data,
			 uint8_t *meta)
{
	uint16_t sc = vfn_sim_dma_xfer(sim, sqe, false, sim->pi_buf, c->dlen, false);

	if (!sc && c->moves && !c->fmt.extended)
		sc = pi_mptr_xfer(sim, sqe, c, false);
	if (sc)
		return sc;
	if (!c->moves)
		memset(sim->pi_mbuf, 0, c->nlb * c->fmt.ms);
	if (c->fmt.pi_type && (c->prinfo & VFN_PI_PRACT))
		vfn_pi_generate(&c->fmt, sim->pi_buf, c->fmt.extended ? NULL : c->meta, (uint32_t)c->nlb, &c->tags);
	else if ((sc = pi_verify(c, sim->pi_buf)))
		return sc;
	for (size_t i = 0; i < c->nlb; i++) {
		const uint8_t *m = pi_cmd_meta(c, i);

		memcpy(data + i * c->fmt.lba_size, pi_cmd_data(sim, c, i), c->fmt.lba_size);
		for (size_t b = 0; b < c->fmt.ms; b++)
			meta[i * c->fmt.ms + b] = (uint8_t)~m[b];
	}
	return VFN_NVME_SC_SUCCESS;
}

/* Namespace -> host. */
static uint16_t pi_read(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, struct pi_cmd *c, const uint8_t *data,
			const uint8_t *meta)
{
	uint16_t sc;

	for (size_t i = 0; i < c->nlb; i++) {
		uint8_t *m = pi_cmd_meta(c, i);

		memcpy(pi_cmd_data(sim, c, i), data + i * c->fmt.lba_size, c->fmt.lba_size);
		for (size_t b = 0; b < c->fmt.ms; b++)
			m[b] = (uint8_t)~meta[i * c->fmt.ms + b];
	}
	sc = pi_verify(c, sim->pi_buf);
	if (!sc)
		sc = vfn_sim_dma_xfer(sim, sqe, false, sim->pi_buf, c->dlen, true);
	if (!sc && c->moves && !c->fmt.extended)
		sc = pi_mptr_xfer(sim, sqe, c, true);
	return sc;
}

uint16_t vfn_sim_pi_rw(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t nsid, uint64_t slba, uint64_t nlb,
		       bool write)
{
	struct pi_cmd c;
	uint16_t sc;

	pi_cmd_init(sim, sqe, nlb, &c);
	if (c.prinfo && !sim->opts.pi) {
		log_debug("sim: PRINFO 0x%x on a namespace without PI", c.prinfo);
		return VFN_NVME_SC_INVALID_FIELD;
	}
	if (c.dlen > vfn_sim_max_xfer(sim)) {
		log_debug("sim: %zu bytes beyond MDTS", c.dlen);
		return VFN_NVME_SC_INVALID_FIELD;
	}
	sc = pi_prinfo_check(sim, &c, slba);
	if (sc)
		return sc;
	uint8_t *data = sim->ns_data[nsid - 1] + (slba << sim->opts.lbads);
	uint8_t *meta = sim->ns_meta[nsid - 1] + slba * sim->opts.ms;

	sc = write ? pi_write(sim, sqe, &c, data, meta) : pi_read(sim, sqe, &c, data, meta);
	if (!sc && write) {
		sim->stats.bytes_written += c.dlen;
		sim->stats.host_writes++;
	} else if (!sc) {
		sim->stats.bytes_read += c.dlen;
		sim->stats.host_reads++;
	}
	return sc;
}

uint16_t vfn_sim_pi_compare(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t nsid, uint64_t slba,
			    uint64_t nlb)
{
	const uint8_t *data = sim->ns_data[nsid - 1] + (slba << sim->opts.lbads);
	const uint8_t *meta = sim->ns_meta[nsid - 1] + slba * sim->opts.ms;
	struct pi_cmd c;
	uint16_t sc;

	pi_cmd_init(sim, sqe, nlb, &c);
	if (c.prinfo && !sim->opts.pi)
		return VFN_NVME_SC_INVALID_FIELD;
	if (c.dlen > vfn_sim_max_xfer(sim))
		return VFN_NVME_SC_INVALID_FIELD;
	sc = pi_prinfo_check(sim, &c, slba);
	if (!sc)
		sc = vfn_sim_dma_xfer(sim, sqe, false, sim->pi_buf, c.dlen, false);
	if (!sc && c.moves && !c.fmt.extended)
		sc = pi_mptr_xfer(sim, sqe, &c, false);
	if (!sc)
		sc = pi_verify(&c, sim->pi_buf);
	for (size_t i = 0; !sc && i < c.nlb; i++) {
		const uint8_t *m = pi_cmd_meta(&c, i);

		if (memcmp(pi_cmd_data(sim, &c, i), data + i * c.fmt.lba_size, c.fmt.lba_size))
			sc = 0x285;
		for (size_t b = 0; !sc && c.moves && b < c.fmt.ms; b++)
			if ((uint8_t)(m[b] ^ meta[i * c.fmt.ms + b]) != 0xff)
				sc = 0x285;
	}
	return sc;
}

/*
 * Write Zeroes on a namespace with metadata: the data is zeroed by the
 * caller.  PRACT=1 on a PI namespace writes valid PI for each zeroed block
 * (the guard over the zeroes and the zeroed metadata before the tuple, the
 * app tag of CDW15, the ref tag of CDW14/CDW3 incremented for types 1 and
 * 2), so that a later read with PRCHK succeeds.  PRACT=0 leaves metadata
 * that reads as all ones (the tuple's escape values: no checking).
 */
uint16_t vfn_sim_pi_write_zeroes(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t nsid, uint64_t slba,
				 uint64_t nlb)
{
	const struct vfn_sim_opts *o = &sim->opts;
	struct pi_cmd c;
	uint16_t sc;

	pi_cmd_init(sim, sqe, 1, &c);
	if (c.prinfo && !o->pi) {
		log_debug("sim: PRINFO 0x%x on a namespace without PI", c.prinfo);
		return VFN_NVME_SC_INVALID_FIELD;
	}
	sc = pi_prinfo_check(sim, &c, slba);
	if (sc)
		return sc;
	vfn_sim_pi_zero(sim, nsid, slba, nlb);
	if (!o->pi || !(c.prinfo & VFN_PI_PRACT))
		return VFN_NVME_SC_SUCCESS;

	/* One zeroed block's metadata with its tuple; only the ref tag changes per block. */
	struct vfn_pi_format f = { 1u << o->lbads, (uint16_t)o->ms, (uint8_t)o->pi, (uint8_t)o->pif, o->pil, false };
	size_t tsz = vfn_pi_tuple_size(f.pif), pil = f.pi_first ? 0 : f.ms - tsz;
	size_t roff = pil + (f.pif == VFN_PI_PIF_16 ? 4 : 10), rlen = f.pif == VFN_PI_PIF_16 ? 4 : 6;
	uint8_t *meta = sim->ns_meta[nsid - 1] + slba * f.ms;
	uint64_t ref = c.tags.ref_tag;

	memset(sim->pi_buf, 0, f.lba_size);
	memset(sim->pi_mbuf, 0, f.ms);
	vfn_pi_generate(&f, sim->pi_buf, sim->pi_mbuf, 1, &c.tags);
	for (uint64_t i = 0; i < nlb; i++, ref += o->pi != VFN_PI_TYPE3) {
		uint8_t *m = meta + i * f.ms;
		uint64_t r = ref;

		for (size_t b = rlen; b-- > 0; r >>= 8)
			sim->pi_mbuf[roff + b] = (uint8_t)r;
		for (size_t b = 0; b < f.ms; b++)
			m[b] = (uint8_t)~sim->pi_mbuf[b];
	}
	return VFN_NVME_SC_SUCCESS;
}
