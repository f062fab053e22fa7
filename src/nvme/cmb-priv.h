/* SPDX-License-Identifier: MIT */
/* The controller's CMB state (cmb.c). */
#ifndef VFN_SRC_NVME_CMB_PRIV_H
#define VFN_SRC_NVME_CMB_PRIV_H

#include <vfn/cmb.h>

#include "nvme/cmb-heap.h"

struct vfn_nvme_cmb {
	struct vfn_nvme_cmb_info info;
	uint8_t *vaddr; /* the CMB in the BAR mapping */
	uint64_t addr;	/* its controller (bus) address */
	uint64_t size;	/* bytes usable (the BAR may be smaller than CMBSZ says) */
	struct vfn_cmb_heap heap;
};

struct vfn_nvme_pmr {
	struct vfn_nvme_pmr_info info;
	uint8_t *vaddr; /* the BAR mapping */
	size_t size;
};

/* Frees the PMR state at controller close. */
void vfn_nvme_pmr_fini(struct vfn_nvme_ctrl *ctrl);

/*
 * After a reset, before CC.EN=1: programs CMBMSC again with the address the
 * CMB was enabled with, and PMRCTL.EN, for controllers whose reset cleared
 * them (the queues and buffers placed there keep their addresses).
 */
void vfn_nvme_cmb_restore(struct vfn_nvme_ctrl *ctrl);

/* Frees the CMB state at controller close (the BAR mapping goes with the device). */
void vfn_nvme_cmb_fini(struct vfn_nvme_ctrl *ctrl);

#endif
