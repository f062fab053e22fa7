/* SPDX-License-Identifier: MIT */
/*
 * The simulated controller's lifecycle: memory, the controller thread, and
 * the device interface (struct vfn_nvme_hw_ops) the NVMe layer drives.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "iommu/iommu-priv.h"
#include "sim/sim.h"
#include "support/log.h"

#define IDLE_SPINS 2000		/* empty passes before the thread starts sleeping */
#define IDLE_SLEEP_MIN_NS 20000 /* first sleep; doubles while idle */
#define IDLE_SLEEP_MAX_NS 100000
#define TIMER_SLACK_NS 1000
#define MAX_XFER_NO_MDTS (1u << 20)

size_t vfn_sim_max_xfer(const struct vfn_sim *sim)
{
	return sim->opts.mdts ? (size_t)4096 << sim->opts.mdts : MAX_XFER_NO_MDTS;
}

static void *sim_thread(void *arg)
{
	struct vfn_sim *sim = arg;
	struct timespec ts = { 0, IDLE_SLEEP_MIN_NS };
	unsigned int idle = 0;

	prctl(PR_SET_TIMERSLACK, TIMER_SLACK_NS);
	while (!__atomic_load_n(&sim->stop, __ATOMIC_ACQUIRE)) {
		if (vfn_sim_step(sim)) {
			idle = 0;
			ts.tv_nsec = IDLE_SLEEP_MIN_NS;
		} else if (++idle > IDLE_SPINS) {
			nanosleep(&ts, NULL);
			if (ts.tv_nsec < IDLE_SLEEP_MAX_NS)
				ts.tv_nsec *= 2;
		}
	}
	return NULL;
}

static int sim_start(struct vfn_sim *sim)
{
	int ret;

	__atomic_store_n(&sim->stop, 0, __ATOMIC_RELEASE);
	ret = pthread_create(&sim->thread, NULL, sim_thread, sim);
	if (ret) {
		log_err("sim: cannot start the controller thread: %d", ret);
		return -ret;
	}
	sim->thread_running = true;
	return 0;
}

static void sim_stop(struct vfn_sim *sim)
{
	if (!sim->thread_running)
		return;
	__atomic_store_n(&sim->stop, 1, __ATOMIC_RELEASE);
	pthread_join(sim->thread, NULL);
	sim->thread_running = false;
}

static struct vfn_sim *hw_sim(struct vfn_nvme_hw *hw)
{
	return hw->priv;
}

static int sim_irq_count(struct vfn_nvme_hw *hw)
{
	return (int)hw_sim(hw)->opts.vectors;
}

/* Closes the controller's own eventfd duplicates in @fds (-1: none). */
static void efds_close(const int *fds, unsigned int count)
{
	for (unsigned int i = 0; i < count; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/*
 * Puts @fresh (@count fds, the controller's own) on vectors @start.. and
 * closes what they replace, once the controller thread can no longer be
 * signalling through it.
 */
static void efds_swap(struct vfn_sim *sim, unsigned int start, unsigned int count, const int *fresh)
{
	int old[VFN_SIM_NR_VECTORS];
	bool any = false;

	for (unsigned int i = 0; i < count; i++) {
		old[i] = __atomic_exchange_n(&sim->efds[start + i], fresh[i], __ATOMIC_ACQ_REL);
		any |= old[i] >= 0;
	}
	if (!any)
		return;
	vfn_sim_sync(sim);
	efds_close(old, count);
}

/*
 * Routes vectors @start.. to the eventfds @efds (-1: unrouted).  Like VFIO,
 * which holds a reference to each eventfd, the controller signals its own
 * duplicate: the caller may close its fd, and a number reused after that is
 * never written to.
 */
static int sim_irq_enable(struct vfn_nvme_hw *hw, unsigned int start, unsigned int count, const int *efds)
{
	struct vfn_sim *sim = hw_sim(hw);
	int fresh[VFN_SIM_NR_VECTORS];

	if (start > sim->opts.vectors || count > sim->opts.vectors - start || (count && !efds)) {
		log_debug("sim: vectors %u+%u beyond %u (or no eventfds)", start, count, sim->opts.vectors);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < count; i++) {
		fresh[i] = efds[i] < 0 ? -1 : fcntl(efds[i], F_DUPFD_CLOEXEC, 0);
		if (efds[i] >= 0 && fresh[i] < 0) {
			int err = -errno;

			log_debug("sim: vector %u: cannot take eventfd %d: %s", start + i, efds[i], strerror(-err));
			efds_close(fresh, i);
			return err;
		}
	}
	efds_swap(sim, start, count, fresh);
	return 0;
}

static int sim_irq_disable(struct vfn_nvme_hw *hw)
{
	int none[VFN_SIM_NR_VECTORS];

	for (unsigned int i = 0; i < VFN_SIM_NR_VECTORS; i++)
		none[i] = -1;
	efds_swap(hw_sim(hw), 0, VFN_SIM_NR_VECTORS, none);
	return 0;
}

/* Function-level reset: the controller thread restarts from power-on; namespace data stays. */
static int sim_reset(struct vfn_nvme_hw *hw)
{
	struct vfn_sim *sim = hw_sim(hw);

	if (__atomic_load_n(&sim->wedge, __ATOMIC_ACQUIRE) >= 2) {
		log_debug("sim: function-level reset refused (wedged)");
		return -EIO;
	}
	sim_stop(sim);
	vfn_sim_power_on(sim);
	return sim_start(sim);
}

static int sim_bus_master(struct vfn_nvme_hw *hw, bool on)
{
	vfn_sim_bus_master(hw_sim(hw), on);
	return 0;
}

static void sim_free(struct vfn_sim *sim)
{
	efds_close(sim->efds, VFN_SIM_NR_VECTORS);
	if (sim->ns_data) {
		for (uint32_t i = 0; i < sim->opts.nn; i++)
			vfn_mem_free(sim->ns_data[i], sim->ns_bytes);
		free(sim->ns_data);
	}
	vfn_sim_pi_free(sim);
	vfn_sim_zns_free(sim);
	free(sim->scratch);
	if (sim->cmb)
		vfn_mem_free(sim->cmb, sim->cmb_len);
	vfn_mem_free(sim->regs, VFN_SIM_REGS_LEN);
	pthread_mutex_destroy(&sim->lock);
	free(sim);
}

static void sim_close(struct vfn_nvme_hw *hw)
{
	struct vfn_sim *sim = hw_sim(hw);

	sim_stop(sim);
	sim_free(sim);
	vfn_iommu_put(hw->iommu);
	hw->priv = NULL;
	hw->regs = NULL;
	hw->iommu = NULL;
}

/* BAR2 is the CMB (opts.cmb_mb), plain memory at bus address VFN_SIM_CMB_BUS; no other BAR maps. */
static int sim_map_bar(struct vfn_nvme_hw *hw, unsigned int bar, void **addr, size_t *len, uint64_t *bus)
{
	struct vfn_sim *sim = hw_sim(hw);

	if (bar != 2 || !sim->cmb)
		return -ENOTSUP;
	*addr = sim->cmb;
	*len = sim->cmb_len;
	*bus = VFN_SIM_CMB_BUS;
	return 0;
}

static const struct vfn_nvme_hw_ops sim_hw_ops = {
	.map_bar = sim_map_bar,
	.irq_count = sim_irq_count,
	.irq_enable = sim_irq_enable,
	.irq_disable = sim_irq_disable,
	.reset = sim_reset,
	.bus_master = sim_bus_master,
	.close = sim_close,
};

struct vfn_sim *vfn_sim_from_hw(const struct vfn_nvme_hw *hw)
{
	return hw && hw->ops == &sim_hw_ops ? hw->priv : NULL;
}

static int sim_alloc_ns(struct vfn_sim *sim)
{
	ssize_t n;

	if (sim->opts.nil)
		return 0;
	sim->ns_bytes = (size_t)sim->opts.nsze << sim->opts.lbads;
	sim->ns_data = calloc(sim->opts.nn, sizeof(*sim->ns_data));
	if (!sim->ns_data)
		return -ENOMEM;
	for (uint32_t i = 0; i < sim->opts.nn; i++) {
		n = vfn_mem_alloc(sim->ns_bytes, (void **)&sim->ns_data[i]);
		if (n < 0)
			return (int)n;
	}
	n = vfn_sim_zns_alloc(sim);
	if (n < 0)
		return (int)n;
	return vfn_sim_pi_alloc(sim);
}

/* Everything but the thread and the address space; sim_free() undoes partial work. */
static int sim_alloc(const struct vfn_sim_opts *opts, struct vfn_sim **out)
{
	struct vfn_sim *sim = calloc(1, sizeof(*sim));
	ssize_t n;
	int ret;

	if (!sim)
		return -ENOMEM;
	ret = -pthread_mutex_init(&sim->lock, NULL);
	if (ret) {
		free(sim);
		return ret;
	}
	sim->opts = *opts;
	for (unsigned int i = 0; i < VFN_SIM_NR_VECTORS; i++)
		sim->efds[i] = -1;
	n = vfn_mem_alloc(VFN_SIM_REGS_LEN, (void **)&sim->regs);
	if (n < 0) {
		ret = (int)n;
		goto err_free;
	}
	if (opts->cmb_mb) {
		sim->cmb_len = (size_t)opts->cmb_mb << 20;
		n = vfn_mem_alloc(sim->cmb_len, (void **)&sim->cmb);
		if (n < 0) {
			sim->cmb = NULL;
			ret = (int)n;
			goto err_free;
		}
	}
	sim->scratch = malloc(vfn_sim_max_xfer(sim));
	ret = sim->scratch ? sim_alloc_ns(sim) : -ENOMEM;
	if (ret)
		goto err_free;
	*out = sim;
	return 0;

err_free:
	sim_free(sim);
	return ret;
}

/* The address space: the caller's if it is a software one, else a new one. */
static int sim_iommu(struct vfn_iommu *iommu, struct vfn_iommu **out)
{
	if (!iommu)
		return vfn_iommu_create_soft(out);
	if (!vfn_iommu_is_soft(iommu)) {
		log_debug("sim: the address space given is not a software one");
		return -EINVAL;
	}
	vfn_iommu_get(iommu);
	*out = iommu;
	return 0;
}

int vfn_sim_hw_open(const char *spec, struct vfn_iommu *iommu, struct vfn_nvme_hw *hw)
{
	struct vfn_sim_opts opts;
	struct vfn_sim *sim = NULL;
	int ret;

	memset(hw, 0, sizeof(*hw));
	ret = vfn_sim_parse_opts(spec, &opts);
	if (ret)
		return ret;
	ret = sim_alloc(&opts, &sim);
	if (ret)
		return ret;
	ret = sim_iommu(iommu, &sim->iommu);
	if (ret)
		goto err_free;
	sim->never_ready = opts.never_ready;
	vfn_sim_power_on(sim);
	ret = sim_start(sim);
	if (ret)
		goto err_put_iommu;
	*hw = (struct vfn_nvme_hw){
		.ops = &sim_hw_ops, .regs = sim->regs, .regs_len = VFN_SIM_REGS_LEN, .iommu = sim->iommu, .priv = sim
	};
	snprintf(hw->name, sizeof(hw->name), "%s", spec);
	return 0;

err_put_iommu:
	vfn_iommu_put(sim->iommu);
err_free:
	sim_free(sim);
	return ret;
}
