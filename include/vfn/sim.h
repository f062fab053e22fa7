/* SPDX-License-Identifier: MIT */
/*
 * vfn sim: fault injection into the simulated controller ("sim:").
 *
 * An application opened on "sim:..." (vfn_dev_open() or
 * vfn_nvme_ctrl_open()) can make the controller misbehave, to test its own
 * error handling and recovery: delay, drop or fail chosen commands,
 * complete them with a wrong command id or phase tag, set CSTS.CFS, refuse
 * to become ready, wedge, disappear (surprise removal), or raise an
 * asynchronous event.  The faults act in the controller, below the driver:
 * the driver sees exactly what it would see from hardware misbehaving that
 * way.  (Driver-side injection that works on any controller is
 * vfn_nvme_inject_status()/vfn_nvme_inject_timeout() in <vfn/rq.h>.)
 *
 * Every call is thread-safe and may be made while the controller runs.
 * docs/sim.md describes the effect of each fault on the driver.
 */
#ifndef VFN_SIM_H
#define VFN_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include <vfn/support.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vfn_sim;
struct vfn_dev;
struct vfn_nvme_ctrl;

/* What a command fault does with the command it fires on. */
enum vfn_sim_fault_action {
	VFN_SIM_FAULT_DELAY,	   /* execute and complete @delay_ms later (Abort-able) */
	VFN_SIM_FAULT_DROP,	   /* execute, never complete */
	VFN_SIM_FAULT_STATUS,	   /* do not execute, complete with @status */
	VFN_SIM_FAULT_WRONG_CID,   /* execute, complete with the command id inverted */
	VFN_SIM_FAULT_WRONG_PHASE, /* execute, post the CQE with the previous phase tag */
};

/* A command fault: which commands it fires on and what it does. */
struct vfn_sim_fault {
	enum vfn_sim_fault_action action;
	int sqid;	   /* submission queue to watch (0: admin), -1: any */
	int opcode;	   /* opcode to watch (0..255), -1: any */
	uint32_t nth;	   /* fire on the nth matching command from now (0 or 1: the next) */
	bool repeat;	   /* and on every matching command after it */
	uint32_t delay_ms; /* DELAY */
	uint16_t status;   /* STATUS: as vfn_nvme_cqe_status() returns it (see vfn_sim_status()) */
};

/*
 * A completion status for vfn_sim_fault.status: Status Code Type @sct
 * (0..7), Status Code @sc, More and Do Not Retry bits.
 */
static inline uint16_t vfn_sim_status(uint8_t sct, uint8_t sc, bool more, bool dnr)
{
	return (uint16_t)((unsigned int)(sct & 0x7) << 8 | sc | (unsigned int)more << 13 | (unsigned int)dnr << 14);
}

/*
 * The simulator behind @ctrl (borrowed, lives as long as @ctrl), or NULL
 * with errno ENOTSUP when @ctrl is not a simulated controller (or NULL).
 */
VFN_API struct vfn_sim *vfn_nvme_ctrl_sim(struct vfn_nvme_ctrl *ctrl);

/*
 * The simulator behind @dev (borrowed, lives as long as @dev), or NULL with
 * errno ENOTSUP when @dev was not opened on "sim:" (or is NULL).
 */
VFN_API struct vfn_sim *vfn_dev_sim(struct vfn_dev *dev);

/*
 * Arms the command fault @fault (copied).  It is checked for every command
 * the controller fetches from then on, in the order faults were added; the
 * first that fires decides, and a fault without @repeat is disarmed when it
 * fires.  Faults stay armed across resets.  Returns 0, -EINVAL (NULL
 * argument, unknown action, sqid beyond 64 or opcode beyond 255), -ENOSPC
 * (8 faults armed already).
 */
VFN_API int vfn_sim_fault_add(struct vfn_sim *sim, const struct vfn_sim_fault *fault);

/* Disarms every command fault.  NULL is ignored. */
VFN_API void vfn_sim_fault_clear(struct vfn_sim *sim);

/* Command faults armed and not fired yet (a repeating one counts until cleared); -EINVAL for NULL. */
VFN_API int vfn_sim_fault_armed(struct vfn_sim *sim);

/*
 * Controller Fatal Status: sets CSTS.CFS and stops processing commands
 * until a controller reset (CC.EN 1 -> 0).  Returns once applied: the next
 * register read sees it.  NULL is ignored.
 */
VFN_API void vfn_sim_fault_fatal(struct vfn_sim *sim);

/*
 * While @on, CSTS.RDY does not become 1 after CC.EN 0 -> 1 (an open or a
 * reset then times out after CAP.TO); an enabling controller becomes ready
 * once it is turned off.  Also the never_ready=1 option.  NULL is ignored.
 */
VFN_API void vfn_sim_fault_never_ready(struct vfn_sim *sim, bool on);

/*
 * A wedged controller: level 1 ignores CC.EN 1 -> 0 (CSTS.RDY stays 1, the
 * queues keep running); level 2 also fails the function-level reset; 0
 * behaves.  Kept across resets.  NULL is ignored.
 */
VFN_API void vfn_sim_fault_wedge(struct vfn_sim *sim, int level);

/*
 * Surprise removal: from now on the registers read all-ones and the
 * controller does nothing (the driver reports -ENODEV) until a
 * function-level reset.  Returns once applied.  NULL is ignored.
 */
VFN_API void vfn_sim_fault_remove(struct vfn_sim *sim);

/*
 * Raises an asynchronous event: the oldest outstanding Asynchronous Event
 * Request (or the next one submitted) completes with DW0 = @type | @info
 * << 8 | @lid << 16, whatever the event masks say.  Returns 0, -ENOSPC (16
 * events already waiting), -EINVAL (NULL @sim).
 */
VFN_API int vfn_sim_event_raise(struct vfn_sim *sim, uint8_t type, uint8_t info, uint8_t lid);

#ifdef __cplusplus
}
#endif

#endif /* VFN_SIM_H */
