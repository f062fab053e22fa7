/* SPDX-License-Identifier: MIT */
/*
 * Fault injection: faults armed by a test thread, checked by the controller
 * thread for every fetched command.  The check takes the lock only while a
 * fault is armed.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "sim/sim.h"
#include "support/log.h"

#define SYNC_SLEEP_NS 10000

int vfn_sim_fault_add(struct vfn_sim *sim, const struct vfn_sim_fault *fault)
{
	int ret = 0;

	if (!sim || !fault || fault->action > VFN_SIM_FAULT_WRONG_PHASE || fault->sqid < -1 ||
	    fault->sqid > VFN_SIM_NR_IO_QUEUES || fault->opcode < -1 || fault->opcode > 0xff) {
		log_debug("sim: fault rejected (NULL, unknown action, or sqid/opcode out of range)");
		return -EINVAL;
	}
	pthread_mutex_lock(&sim->lock);
	if (sim->nr_faults == VFN_SIM_MAX_FAULTS) {
		log_debug("sim: %d faults already armed", VFN_SIM_MAX_FAULTS);
		ret = -ENOSPC;
	} else {
		sim->faults[sim->nr_faults] = (struct vfn_sim_armed_fault){ .f = *fault };
		__atomic_store_n(&sim->nr_faults, sim->nr_faults + 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&sim->lock);
	return ret;
}

void vfn_sim_fault_clear(struct vfn_sim *sim)
{
	if (!sim)
		return;
	pthread_mutex_lock(&sim->lock);
	__atomic_store_n(&sim->nr_faults, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&sim->lock);
}

int vfn_sim_fault_armed(struct vfn_sim *sim)
{
	if (!sim)
		return -EINVAL;
	return __atomic_load_n(&sim->nr_faults, __ATOMIC_ACQUIRE);
}

static void fault_disarm(struct vfn_sim *sim, int i)
{
	memmove(&sim->faults[i], &sim->faults[i + 1], (size_t)(sim->nr_faults - i - 1) * sizeof(sim->faults[0]));
	__atomic_store_n(&sim->nr_faults, sim->nr_faults - 1, __ATOMIC_RELEASE);
}

/* True if armed fault @i fires for this command (disarming a one-shot). Lock held. */
static bool fault_fires(struct vfn_sim *sim, int i, uint16_t sqid, uint8_t opcode)
{
	struct vfn_sim_armed_fault *a = &sim->faults[i];
	uint32_t nth = a->f.nth ? a->f.nth : 1;

	if ((a->f.sqid >= 0 && a->f.sqid != sqid) || (a->f.opcode >= 0 && a->f.opcode != opcode))
		return false;
	return ++a->seen >= nth;
}

static enum vfn_sim_verdict fault_verdict(const struct vfn_sim_fault *f, uint16_t *status, uint32_t *delay_ms)
{
	switch (f->action) {
	case VFN_SIM_FAULT_DELAY:
		*delay_ms = f->delay_ms;
		return VFN_SIM_DELAY;
	case VFN_SIM_FAULT_DROP:
		return VFN_SIM_DROP;
	case VFN_SIM_FAULT_STATUS:
		*status = f->status;
		return VFN_SIM_STATUS;
	case VFN_SIM_FAULT_WRONG_CID:
		return VFN_SIM_RUN_WRONG_CID;
	case VFN_SIM_FAULT_WRONG_PHASE:
		return VFN_SIM_RUN_WRONG_PHASE;
	}
	return VFN_SIM_RUN;
}

enum vfn_sim_verdict vfn_sim_fault_check(struct vfn_sim *sim, uint16_t sqid, uint8_t opcode, uint16_t *status,
					 uint32_t *delay_ms)
{
	enum vfn_sim_verdict v = VFN_SIM_RUN;

	if (vfn_likely(!__atomic_load_n(&sim->nr_faults, __ATOMIC_ACQUIRE)))
		return VFN_SIM_RUN;
	pthread_mutex_lock(&sim->lock);
	for (int i = 0; i < sim->nr_faults; i++) {
		if (!fault_fires(sim, i, sqid, opcode))
			continue;
		v = fault_verdict(&sim->faults[i].f, status, delay_ms);
		log_debug("sim: fault %d fires on sq %u opcode 0x%02x", i, sqid, opcode);
		if (!sim->faults[i].f.repeat)
			fault_disarm(sim, i);
		break;
	}
	pthread_mutex_unlock(&sim->lock);
	return v;
}

void vfn_sim_sync(struct vfn_sim *sim)
{
	uint64_t gen = __atomic_load_n(&sim->gen, __ATOMIC_ACQUIRE);
	struct timespec ts = { 0, SYNC_SLEEP_NS };

	while (sim->thread_running && __atomic_load_n(&sim->gen, __ATOMIC_ACQUIRE) < gen + 2)
		nanosleep(&ts, NULL);
}

void vfn_sim_fault_fatal(struct vfn_sim *sim)
{
	if (!sim)
		return;
	__atomic_store_n(&sim->fatal_req, 1, __ATOMIC_RELEASE);
	vfn_sim_sync(sim);
}

void vfn_sim_fault_never_ready(struct vfn_sim *sim, bool on)
{
	if (!sim)
		return;
	__atomic_store_n(&sim->never_ready, on, __ATOMIC_RELEASE);
}

void vfn_sim_fault_wedge(struct vfn_sim *sim, int level)
{
	if (!sim)
		return;
	__atomic_store_n(&sim->wedge, level, __ATOMIC_RELEASE);
}

void vfn_sim_bus_master(struct vfn_sim *sim, bool on)
{
	__atomic_store_n(&sim->dma_off, !on, __ATOMIC_RELEASE);
	/* The pass under way may still be moving data: wait for one that saw the flag. */
	vfn_sim_sync(sim);
}

void vfn_sim_fault_remove(struct vfn_sim *sim)
{
	if (!sim)
		return;
	__atomic_store_n(&sim->remove_req, 1, __ATOMIC_RELEASE);
	vfn_sim_sync(sim);
}

int vfn_sim_event_raise(struct vfn_sim *sim, uint8_t type, uint8_t info, uint8_t lid)
{
	if (!sim) {
		log_debug("sim: event raised on a NULL simulator");
		return -EINVAL;
	}
	return vfn_sim_event_queue(sim, type, info, lid, false);
}

int vfn_sim_event_queue(struct vfn_sim *sim, uint8_t type, uint8_t info, uint8_t lid, bool maskable)
{
	int ret = 0;

	pthread_mutex_lock(&sim->lock);
	if (sim->nr_events == VFN_SIM_MAX_EVENTS) {
		log_debug("sim: %d asynchronous events already waiting", VFN_SIM_MAX_EVENTS);
		ret = -ENOSPC;
	} else {
		sim->events[sim->nr_events] =
			(struct vfn_sim_event){ .dw0 = (uint32_t)type | (uint32_t)info << 8 | (uint32_t)lid << 16,
						.maskable = maskable };
		__atomic_store_n(&sim->nr_events, sim->nr_events + 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&sim->lock);
	return ret;
}

/* Fills the register window with ones, one untorn word at a time. */
static void regs_all_ones(struct vfn_sim *sim)
{
	uint32_t *w = (uint32_t *)sim->regs;

	for (size_t i = 0; i < VFN_SIM_REGS_LEN / sizeof(*w); i++)
		__atomic_store_n(&w[i], UINT32_MAX, __ATOMIC_RELAXED);
}

bool vfn_sim_fault_apply(struct vfn_sim *sim)
{
	bool did = false;

	if (__atomic_exchange_n(&sim->fatal_req, 0, __ATOMIC_ACQ_REL)) {
		log_debug("sim: controller fatal status");
		sim->fatal = true;
		sim->csts |= VFN_NVME_CSTS_CFS;
		did = true;
	}
	if (__atomic_exchange_n(&sim->remove_req, 0, __ATOMIC_ACQ_REL)) {
		log_debug("sim: surprise removal");
		sim->removed = true;
		regs_all_ones(sim);
		did = true;
	}
	return did;
}
