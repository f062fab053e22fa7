/* SPDX-License-Identifier: MIT */
/*
 * The register window and the CC/CSTS state machine.
 *
 * The host writes registers with plain stores; this thread reads them with
 * atomic loads and owns the read-only ones (CAP, VS, CSTS), restoring them if
 * the host overwrote them.
 */
#include <string.h>

#include "sim/sim.h"
#include "support/log.h"

#define SIM_VS 0x00010400u /* NVMe 1.4.0 */

static uint32_t reg_load(struct vfn_sim *sim, uint32_t off)
{
	return le32toh(__atomic_load_n((uint32_t *)(sim->regs + off), __ATOMIC_ACQUIRE));
}

static void reg_store(struct vfn_sim *sim, uint32_t off, uint32_t v)
{
	__atomic_store_n((uint32_t *)(sim->regs + off), htole32(v), __ATOMIC_RELEASE);
}

/* Stores a read-only register if the window does not hold its value. */
static void reg_assert(struct vfn_sim *sim, uint32_t off, uint32_t v)
{
	if (reg_load(sim, off) != v)
		reg_store(sim, off, v);
}

static uint64_t sim_cap(const struct vfn_sim *sim)
{
	return (uint64_t)sim->opts.mqes | 1ull << 16 /* CQR */ | (uint64_t)sim->opts.to << 24 |
	       1ull << 17 /* AMS: weighted round robin with urgent */ | 1ull << 36 /* NSSRS */ |
	       (uint64_t)(VFN_NVME_CAP_CSS_NVM | (sim->opts.zoned ? VFN_NVME_CAP_CSS_CSI : 0)) << 37 |
	       (uint64_t)sim->opts.mpsmax << 52;
}

/* CMBLOC: BAR2 at offset 0; CMBSZ: 1 MiB units, SQS, CQS (opts.cmb_cqs), LISTS, RDS, WDS; 0 without a CMB. */
static uint32_t sim_cmbsz(const struct vfn_sim *sim)
{
	if (!sim->opts.cmb_mb)
		return 0;
	return sim->opts.cmb_mb << 12 | 2u << 8 /* SZU 1 MiB */ | 1u /* SQS */ | (sim->opts.cmb_cqs ? 2u : 0) |
	       4u /* LISTS */ | 8u /* RDS */ | 16u /* WDS */;
}

/* Only with a CMB: without one the registers are left alone (unit tests store test values in them). */
static void sim_cmb_regs(struct vfn_sim *sim)
{
	if (!sim->opts.cmb_mb)
		return;
	reg_assert(sim, VFN_NVME_REG_CMBLOC, sim->opts.cmb_mb ? 2u : 0);
	reg_assert(sim, VFN_NVME_REG_CMBSZ, sim_cmbsz(sim));
}

static void sim_features_default(struct vfn_sim *sim)
{
	memset(&sim->feat, 0, sizeof(sim->feat));
	sim->feat.vwc = 1;
	for (unsigned int i = 0; i < VFN_SIM_NR_VECTORS; i++)
		sim->feat.irq_config[i] = i;
	vfn_sim_temp_default(sim);
	sim->nr_io_sq = VFN_SIM_NR_IO_QUEUES;
	sim->nr_io_cq = VFN_SIM_NR_IO_QUEUES;
}

void vfn_sim_ctrl_reset(struct vfn_sim *sim)
{
	memset(sim->sqs, 0, sizeof(sim->sqs));
	memset(sim->cqs, 0, sizeof(sim->cqs));
	memset(sim->delayed, 0, sizeof(sim->delayed));
	sim->nr_delayed = 0;
	sim->nr_aers = 0;
	sim->aen_masked = 0;
	memset(sim->aen_lid, 0, sizeof(sim->aen_lid));
	sim->nr_aborts = 0;
	sim->dbbuf_dbs = sim->dbbuf_eis = 0;
	sim->enabling = sim->shutdown = sim->fatal = false;
	sim->shst_at_ns = 0;
	sim->csts = 0;
	sim_features_default(sim);
	vfn_sim_doorbells_clear(sim, 0, true);
	vfn_sim_mgmt_reset(sim);
}

void vfn_sim_power_on(struct vfn_sim *sim)
{
	memset(sim->regs, 0, VFN_SIM_REGS_LEN);
	sim->cap = sim_cap(sim);
	sim->cc = 0;
	sim->removed = false;
	vfn_sim_ctrl_reset(sim);
	reg_store(sim, VFN_NVME_REG_CAP, (uint32_t)sim->cap);
	reg_store(sim, VFN_NVME_REG_CAP + 4, (uint32_t)(sim->cap >> 32));
	reg_store(sim, VFN_NVME_REG_VS, SIM_VS);
	sim_cmb_regs(sim);
}

/* Checks CC and AQA/ASQ/ACQ at CC.EN 0 -> 1 and sets up the admin queue. */
static bool sim_enable_ok(struct vfn_sim *sim, uint32_t cc)
{
	uint32_t aqa = reg_load(sim, VFN_NVME_REG_AQA);
	uint64_t asq = reg_load(sim, VFN_NVME_REG_ASQ) | (uint64_t)reg_load(sim, VFN_NVME_REG_ASQ + 4) << 32;
	uint64_t acq = reg_load(sim, VFN_NVME_REG_ACQ) | (uint64_t)reg_load(sim, VFN_NVME_REG_ACQ + 4) << 32;
	uint32_t mps = (cc >> VFN_NVME_CC_MPS_SHIFT) & 0xf, css = (cc >> VFN_NVME_CC_CSS_SHIFT) & 0x7;
	uint32_t asqs = (aqa & 0xfff) + 1, acqs = ((aqa >> 16) & 0xfff) + 1;

	if (mps > sim->opts.mpsmax ||
	    (css != VFN_NVME_CC_CSS_NVM && !(css == VFN_NVME_CC_CSS_CSI && sim->opts.zoned)) ||
	    ((cc >> VFN_NVME_CC_AMS_SHIFT) & 7) > 1 || asqs < 2 || acqs < 2 || (asq & 0xfff) || (acq & 0xfff) || !asq ||
	    !acq) {
		log_debug("sim: bad enable: CC 0x%x AQA 0x%x ASQ %#llx ACQ %#llx", cc, aqa, (unsigned long long)asq,
			  (unsigned long long)acq);
		return false;
	}
	sim->page_size = 4096ul << mps;
	sim->sqs[0] = (struct vfn_sim_sq){ .valid = true, .iova = asq, .size = asqs };
	sim->cqs[0] =
		(struct vfn_sim_cq){ .valid = true, .iova = acq, .size = acqs, .phase = 1, .ien = true, .nr_sqs = 1 };
	return true;
}

static void sim_enable(struct vfn_sim *sim, uint32_t cc)
{
	if (!sim_enable_ok(sim, cc)) {
		sim->fatal = true;
		sim->csts |= VFN_NVME_CSTS_CFS;
		return;
	}
	sim->enabling = true;
	sim->ready_at_ns = vfn_now_ns() + (uint64_t)sim->opts.ttr_ms * 1000000;
}

/*
 * CSTS.RDY 0 -> 1.  The controller state is built afresh from the
 * registers now: while RDY was 0 the host may have flipped CC.EN 1 -> 0 -> 1
 * between two passes (nothing to wait for), and that reset must not be lost.
 */
static void sim_ready(struct vfn_sim *sim)
{
	vfn_sim_ctrl_reset(sim);
	if (!sim_enable_ok(sim, sim->cc)) {
		sim->fatal = true;
		sim->csts |= VFN_NVME_CSTS_CFS;
		return;
	}
	sim->csts |= VFN_NVME_CSTS_RDY;
}

/* Reacts to a new CC value. */
static void sim_cc_changed(struct vfn_sim *sim, uint32_t old, uint32_t cc)
{
	if ((old & VFN_NVME_CC_EN) && !(cc & VFN_NVME_CC_EN) && __atomic_load_n(&sim->wedge, __ATOMIC_ACQUIRE)) {
		log_debug("sim: CC.EN 1 -> 0 ignored (wedged)");
	} else if ((old & VFN_NVME_CC_EN) && !(cc & VFN_NVME_CC_EN)) {
		log_debug("sim: controller reset (CC.EN 1 -> 0)");
		vfn_sim_ctrl_reset(sim);
	} else if (!(old & VFN_NVME_CC_EN) && (cc & VFN_NVME_CC_EN)) {
		sim_enable(sim, cc);
	}
	if ((cc & VFN_NVME_CC_EN) && (cc & VFN_NVME_CC_SHN_MASK) && !(old & VFN_NVME_CC_SHN_MASK)) {
		log_debug("sim: shutdown (CC.SHN %u)", (cc & VFN_NVME_CC_SHN_MASK) >> VFN_NVME_CC_SHN_SHIFT);
		sim->shutdown = true;
		sim->shst_at_ns = vfn_now_ns() + (uint64_t)sim->opts.shn_ms * 1000000;
		sim->csts = (sim->csts & ~VFN_NVME_CSTS_SHST_MASK) | VFN_NVME_CSTS_SHST_OCCURRING;
	}
}

/*
 * NSSR: "NVMe" (4E564D65h) resets the NVM subsystem: the controller as at
 * CC.EN 1 -> 0, CC cleared, CSTS.NSSRO set.  Other values are ignored; the
 * register reads 0.  (NSSRO is cleared at the next reset or enable here:
 * the register window cannot tell its W1C write from a rewrite.)
 */
static bool sim_nssr_step(struct vfn_sim *sim)
{
	uint32_t nssr = reg_load(sim, VFN_NVME_REG_NSSR);

	if (!nssr)
		return false;
	reg_store(sim, VFN_NVME_REG_NSSR, 0);
	if (nssr != VFN_NVME_NSSR_RESET)
		return false;
	log_debug("sim: NVM subsystem reset");
	vfn_sim_ctrl_reset(sim);
	sim->cc = 0;
	reg_store(sim, VFN_NVME_REG_CC, 0);
	sim->csts = VFN_NVME_CSTS_NSSRO;
	__atomic_add_fetch(&sim->nr_nssr, 1, __ATOMIC_RELEASE);
	return true;
}

static bool sim_regs_step(struct vfn_sim *sim)
{
	bool did = sim_nssr_step(sim);
	uint32_t cc = reg_load(sim, VFN_NVME_REG_CC);

	if (cc != sim->cc) {
		uint32_t old = sim->cc;

		sim->cc = cc;
		sim_cc_changed(sim, old, cc);
		did = true;
	}
	if (sim->shst_at_ns && vfn_now_ns() >= sim->shst_at_ns) {
		sim->shst_at_ns = 0;
		sim->csts = (sim->csts & ~VFN_NVME_CSTS_SHST_MASK) | VFN_NVME_CSTS_SHST_COMPLETE;
		did = true;
	}
	/* never_ready holds an enabling controller back (and lets it go once cleared). */
	if (sim->enabling && vfn_now_ns() >= sim->ready_at_ns &&
	    !__atomic_load_n(&sim->never_ready, __ATOMIC_ACQUIRE)) {
		sim_ready(sim);
		did = true;
	}
	reg_assert(sim, VFN_NVME_REG_CAP, (uint32_t)sim->cap);
	reg_assert(sim, VFN_NVME_REG_CAP + 4, (uint32_t)(sim->cap >> 32));
	reg_assert(sim, VFN_NVME_REG_VS, SIM_VS);
	reg_assert(sim, VFN_NVME_REG_CSTS, sim->csts);
	sim_cmb_regs(sim);
	return did;
}

bool vfn_sim_step(struct vfn_sim *sim)
{
	bool did = false;

	if (!sim->removed)
		did = vfn_sim_fault_apply(sim);
	if (!sim->removed) {
		did |= sim_regs_step(sim);
		if ((sim->csts & VFN_NVME_CSTS_RDY) && !sim->fatal && !sim->shutdown &&
		    !__atomic_load_n(&sim->dma_off, __ATOMIC_ACQUIRE)) {
			did |= vfn_sim_queues_step(sim);
			did |= vfn_sim_aer_step(sim);
			vfn_sim_irqs_flush(sim);
			reg_assert(sim, VFN_NVME_REG_CSTS, sim->csts);
		}
	}
	__atomic_store_n(&sim->gen, sim->gen + 1, __ATOMIC_RELEASE);
	return did;
}
