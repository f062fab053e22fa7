/* SPDX-License-Identifier: MIT */
/* NVM command set over RAM-backed namespaces: Read, Write, Compare, Flush, Write Zeroes, DSM. */
#include <string.h>
#include <sys/mman.h>

#include "sim/sim.h"
#include "support/log.h"

#define DSM_RANGE_LEN 16
#define DSM_MAX_RANGES 256
#define DSM_AD (1u << 2) /* Attribute - Deallocate */
#define SIM_SC_COMPARE_FAILURE 0x285

/* The namespace bytes of @nlb blocks at @slba, or an LBA Out of Range status. */
static uint16_t lba_range(struct vfn_sim *sim, uint32_t nsid, uint64_t slba, uint64_t nlb, uint8_t **data, size_t *len)
{
	uint64_t nsze = vfn_sim_ns_nsze(sim, nsid);

	if (slba >= nsze || nlb > nsze - slba) {
		log_debug("sim: LBA %llu + %llu beyond namespace size %llu", (unsigned long long)slba,
			  (unsigned long long)nlb, (unsigned long long)nsze);
		return VFN_NVME_SC_LBA_RANGE;
	}
	*data = sim->ns_data[nsid - 1] + (slba << sim->opts.lbads);
	*len = (size_t)nlb << sim->opts.lbads;
	return VFN_NVME_SC_SUCCESS;
}

/*
 * Zeroes @len bytes of namespace memory at @p and keeps the backing store
 * sparse: the whole pages inside the range go back to the kernel (private
 * anonymous memory reads as zeros after MADV_DONTNEED and takes no RAM until
 * written again); only the partial pages at the two edges are cleared by
 * hand.  Zeroing 1 GiB costs neither 1 GiB of RSS nor the time to write it.
 */
void vfn_sim_ns_zero(uint8_t *p, size_t len)
{
	uintptr_t page = vfn_page_size(), begin = (uintptr_t)p, end = begin + len;
	uintptr_t inner_begin = (begin + page - 1) & ~(page - 1), inner_end = end & ~(page - 1);

	if (inner_begin >= inner_end) {
		memset(p, 0, len);
		return;
	}
	memset(p, 0, inner_begin - begin);
	if (madvise((void *)inner_begin, inner_end - inner_begin, MADV_DONTNEED))
		memset((void *)inner_begin, 0, inner_end - inner_begin);
	memset((void *)inner_end, 0, end - inner_end);
}

static uint64_t cmd_slba(const struct vfn_nvme_sqe *sqe)
{
	return vfn_le32_to_cpu(sqe->cdw10) | (uint64_t)vfn_le32_to_cpu(sqe->cdw11) << 32;
}

static uint64_t cmd_nlb(const struct vfn_nvme_sqe *sqe)
{
	return (vfn_le32_to_cpu(sqe->cdw12) & 0xffff) + 1ull;
}

static uint16_t cmd_rw(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t nsid, bool write)
{
	uint8_t *data;
	size_t len;
	uint16_t sc;

	sc = lba_range(sim, nsid, cmd_slba(sqe), cmd_nlb(sqe), &data, &len);
	if (sc)
		return sc;
	if (sim->opts.ms)
		return vfn_sim_pi_rw(sim, sqe, nsid, cmd_slba(sqe), cmd_nlb(sqe), write);
	if (len > vfn_sim_max_xfer(sim)) {
		log_debug("sim: %zu bytes beyond MDTS", len);
		return VFN_NVME_SC_INVALID_FIELD;
	}
	sc = vfn_sim_dma_xfer(sim, sqe, false, data, len, !write);
	if (sc)
		return sc;
	if (write) {
		sim->stats.bytes_written += len;
		sim->stats.host_writes++;
	} else {
		sim->stats.bytes_read += len;
		sim->stats.host_reads++;
	}
	return VFN_NVME_SC_SUCCESS;
}

/* Compare: the host's data against the namespace's; Compare Failure (0x285) on a difference. */
static uint16_t cmd_compare(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t nsid)
{
	uint8_t *data;
	size_t len;
	uint16_t sc;

	sc = lba_range(sim, nsid, cmd_slba(sqe), cmd_nlb(sqe), &data, &len);
	if (sc)
		return sc;
	if (sim->opts.ms)
		return vfn_sim_pi_compare(sim, sqe, nsid, cmd_slba(sqe), cmd_nlb(sqe));
	if (len > vfn_sim_max_xfer(sim)) {
		log_debug("sim: %zu bytes beyond MDTS", len);
		return VFN_NVME_SC_INVALID_FIELD;
	}
	sc = vfn_sim_dma_xfer(sim, sqe, false, sim->scratch, len, false);
	if (!sc && memcmp(sim->scratch, data, len))
		sc = SIM_SC_COMPARE_FAILURE;
	return sc;
}

static uint16_t cmd_write_zeroes(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t nsid)
{
	uint8_t *data;
	size_t len;
	uint16_t sc;

	sc = lba_range(sim, nsid, cmd_slba(sqe), cmd_nlb(sqe), &data, &len);
	if (!sc && sim->opts.ms)
		sc = vfn_sim_pi_write_zeroes(sim, sqe, nsid, cmd_slba(sqe), cmd_nlb(sqe));
	if (!sc)
		vfn_sim_ns_zero(data, len);
	return sc;
}

/* Dataset Management: with Deallocate, the ranges read as zeros afterwards. */
static uint16_t cmd_dsm(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t nsid)
{
	uint8_t ranges[DSM_MAX_RANGES * DSM_RANGE_LEN];
	size_t nr = (vfn_le32_to_cpu(sqe->cdw10) & 0xff) + 1;
	uint16_t sc = vfn_sim_dma_xfer(sim, sqe, false, ranges, nr * DSM_RANGE_LEN, false);

	if (sc || !(vfn_le32_to_cpu(sqe->cdw11) & DSM_AD))
		return sc;
	for (size_t i = 0; i < nr; i++) {
		const uint8_t *r = ranges + i * DSM_RANGE_LEN;
		vfn_le32 nlb;
		vfn_le64 slba;
		uint8_t *data;
		size_t len;

		memcpy(&nlb, r + 4, sizeof(nlb));
		memcpy(&slba, r + 8, sizeof(slba));
		sc = lba_range(sim, nsid, vfn_le64_to_cpu(slba), vfn_le32_to_cpu(nlb), &data, &len);
		if (sc)
			return sc;
		vfn_sim_ns_zero(data, len);
		vfn_sim_pi_zero(sim, nsid, vfn_le64_to_cpu(slba), vfn_le32_to_cpu(nlb));
	}
	return VFN_NVME_SC_SUCCESS;
}

uint16_t vfn_sim_nvm_rw(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t nsid)
{
	return cmd_rw(sim, sqe, nsid, sqe->opcode == VFN_NVME_CMD_WRITE);
}

/* A write (Write, Write Zeroes) to a zoned namespace: at the write pointer, in the zone's capacity. */
static uint16_t zoned_write(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t nsid)
{
	uint16_t sc = vfn_sim_zns_write_begin(sim, nsid, cmd_slba(sqe), cmd_nlb(sqe));

	if (sc)
		return sc;
	sc = sqe->opcode == VFN_NVME_CMD_WRITE ? cmd_rw(sim, sqe, nsid, true) : cmd_write_zeroes(sim, sqe, nsid);
	if (!sc)
		vfn_sim_zns_write_end(sim, nsid, cmd_slba(sqe), cmd_nlb(sqe));
	return sc;
}

uint16_t vfn_sim_nvm_exec(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t *dw0)
{
	uint32_t nsid = vfn_le32_to_cpu(sqe->nsid);
	uint16_t status;

	if (sqe->opcode == VFN_NVME_CMD_FLUSH && nsid == 0xffffffff)
		return VFN_NVME_SC_SUCCESS;
	if (nsid < 1 || nsid > sim->opts.nn || !vfn_sim_ns_active(sim, nsid)) {
		log_debug("sim: I/O opcode 0x%02x for invalid namespace %u", sqe->opcode, nsid);
		return VFN_NVME_SC_INVALID_NS;
	}
	if (vfn_sim_zns_exec(sim, sqe, nsid, dw0, &status))
		return status;
	switch (sqe->opcode) {
	case VFN_NVME_CMD_FLUSH:
		return VFN_NVME_SC_SUCCESS;
	case VFN_NVME_CMD_WRITE:
	case VFN_NVME_CMD_READ:
	case VFN_NVME_CMD_COMPARE:
	case VFN_NVME_CMD_WRITE_ZEROES:
		/* fall through */
	case VFN_NVME_CMD_DSM:
		if (sim->opts.nil)
			return VFN_NVME_SC_SUCCESS;
		break;
	default:
		log_debug("sim: I/O opcode 0x%02x not supported", sqe->opcode);
		return VFN_NVME_SC_INVALID_OPCODE;
	}
	if (sim->opts.zoned && (sqe->opcode == VFN_NVME_CMD_WRITE || sqe->opcode == VFN_NVME_CMD_WRITE_ZEROES))
		return zoned_write(sim, sqe, nsid);
	switch (sqe->opcode) {
	case VFN_NVME_CMD_WRITE:
		return cmd_rw(sim, sqe, nsid, true);
	case VFN_NVME_CMD_READ:
		return cmd_rw(sim, sqe, nsid, false);
	case VFN_NVME_CMD_COMPARE:
		return cmd_compare(sim, sqe, nsid);
	case VFN_NVME_CMD_WRITE_ZEROES:
		return cmd_write_zeroes(sim, sqe, nsid);
	default:
		return cmd_dsm(sim, sqe, nsid);
	}
}
