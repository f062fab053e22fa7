/* SPDX-License-Identifier: MIT */
/*
 * The public entry points of <vfn/sim.h> that are not in fault.c: finding
 * the simulator behind a controller or a device handle.
 */
#include <errno.h>

#include <vfn/dev.h>
#include <vfn/sim.h>

#include "dev/dev-priv.h"
#include "nvme/ctrl-priv.h"
#include "sim/sim.h"
#include "support/log.h"

struct vfn_sim *vfn_nvme_ctrl_sim(struct vfn_nvme_ctrl *ctrl)
{
	struct vfn_sim *sim = ctrl ? vfn_sim_from_hw(&ctrl->hw) : NULL;

	if (!sim) {
		log_debug("not a simulated controller: no fault injection");
		errno = ENOTSUP;
	}
	return sim;
}

struct vfn_sim *vfn_dev_sim(struct vfn_dev *dev)
{
	if (!dev || dev->info.backend != VFN_DEV_SIM || !dev->ctrl) {
		log_debug("not a sim: device: no fault injection");
		errno = ENOTSUP;
		return NULL;
	}
	return vfn_nvme_ctrl_sim(dev->ctrl);
}
