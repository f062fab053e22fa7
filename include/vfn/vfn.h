/* SPDX-License-Identifier: MIT */
/* vfn: the umbrella header — includes every public vfn header. */
#ifndef VFN_VFN_H
#define VFN_VFN_H

#include <vfn/support.h>
#include <vfn/pci.h>
#include <vfn/iommu.h>
#include <vfn/vfio.h>
#include <vfn/nvme.h>
#include <vfn/queue.h>
#include <vfn/rq.h>
#include <vfn/dev.h>
#include <vfn/spec.h>
#include <vfn/mgmt.h>
#include <vfn/zns.h>
#include <vfn/pi.h>
#include <vfn/blk.h>
#include <vfn/sim.h>
#include <vfn/sriov.h>
#include <vfn/cmb.h>

#endif /* VFN_VFN_H */
