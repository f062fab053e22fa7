/* SPDX-License-Identifier: MIT */
/* The Controller Memory Buffer: discovery, enabling, mapping, allocation (vfn/cmb.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <vfn/cmb.h>
#include <vfn/iommu.h>

#include "nvme/cmb-heap.h"
#include "nvme/cmb-priv.h"
#include "nvme/ctrl-priv.h"
#include "support/log.h"

#define CMB_GRANULE 4096u

static uint32_t cmb_reg32(struct vfn_nvme_ctrl *ctrl, uint32_t off)
{
	return vfn_mmio_read32((const uint8_t *)ctrl->hw.regs + off);
}

/*
 * CMBMSC in one 64-bit store: QEMU 7.2 takes CBA from the value of the
 * write that sets CMSE, so two 32-bit halves would lose its upper bits.
 */
static void cmb_write_cmbmsc(struct vfn_nvme_ctrl *ctrl, uint64_t v)
{
	volatile uint64_t *p = (volatile uint64_t *)(void *)((uint8_t *)ctrl->hw.regs + VFN_NVME_REG_CMBMSC);

	*p = vfn_cpu_to_le64(v);
}

static bool cmb_cap(struct vfn_nvme_ctrl *ctrl)
{
	return vfn_nvme_cap_cmbs(ctrl->cap);
}

int vfn_nvme_cmb_get_info(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_cmb_info *info)
{
	uint32_t loc, sz, msc;
	uint64_t unit;

	if (!ctrl || !info)
		return -EINVAL;
	if (ctrl->hw.regs_len < VFN_NVME_REG_CMBSTS + 4)
		return -ENOTSUP;
	if (cmb_cap(ctrl)) {
		msc = cmb_reg32(ctrl, VFN_NVME_REG_CMBMSC);
		if (!(msc & VFN_NVME_CMBMSC_CRE))
			vfn_mmio_write32((uint8_t *)ctrl->hw.regs + VFN_NVME_REG_CMBMSC, msc | VFN_NVME_CMBMSC_CRE);
	}
	loc = cmb_reg32(ctrl, VFN_NVME_REG_CMBLOC);
	sz = cmb_reg32(ctrl, VFN_NVME_REG_CMBSZ);
	if (!sz || sz == UINT32_MAX)
		return -ENOTSUP;
	/* SZU 7..15 are reserved: 4 KiB << 28 and up, whose products wrap around 64 bits. */
	if (((sz >> 8) & 0xf) > 6) {
		log_err("%s: CMBSZ 0x%08x has a reserved size unit (SZU %u)", ctrl->hw.name, sz, (sz >> 8) & 0xf);
		return -EPROTO;
	}
	/* CMBLOC.BIR 1 (the upper half of a 64-bit BAR0), 6 and 7 are reserved. */
	if ((loc & 7) == 1 || (loc & 7) > 5) {
		log_err("%s: CMBLOC 0x%08x names a reserved BAR (BIR %u)", ctrl->hw.name, loc, loc & 7);
		return -EPROTO;
	}
	unit = 4096ull << (4 * ((sz >> 8) & 0xf));
	*info = (struct vfn_nvme_cmb_info){
		.size = unit * (sz >> 12),
		.offset = unit * (loc >> 12),
		.bar = loc & 7,
		.sqs = sz & 1,
		.cqs = sz & 2,
		.lists = sz & 4,
		.rds = sz & 8,
		.wds = sz & 16,
		.msc = cmb_cap(ctrl),
	};
	return 0;
}

/* Maps the BAR, programs CMBMSC, sets up the heap: a new state in *@out. */
static int cmb_setup(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_cmb **out)
{
	struct vfn_nvme_cmb *cmb;
	void *bar;
	size_t bar_len;
	uint64_t bus;
	int ret;

	cmb = calloc(1, sizeof(*cmb));
	if (!cmb)
		return -ENOMEM;
	ret = vfn_nvme_cmb_get_info(ctrl, &cmb->info);
	if (ret)
		goto err_free;
	if (!ctrl->hw.ops->map_bar) {
		ret = -ENOTSUP;
		goto err_free;
	}
	ret = ctrl->hw.ops->map_bar(&ctrl->hw, cmb->info.bar, &bar, &bar_len, &bus);
	if (ret) {
		log_err("%s: cannot map the CMB's BAR%u: %d", ctrl->hw.name, cmb->info.bar, ret);
		goto err_free;
	}
	if (cmb->info.offset >= bar_len) {
		log_err("%s: CMB offset %#llx beyond BAR%u (%zu bytes)", ctrl->hw.name,
			(unsigned long long)cmb->info.offset, cmb->info.bar, bar_len);
		ret = -EINVAL;
		goto err_free;
	}
	/* A CMB larger than its BAR (behind a bridge, say) is used as far as the BAR goes. */
	cmb->size = cmb->info.size;
	if (cmb->size > bar_len - cmb->info.offset)
		cmb->size = bar_len - cmb->info.offset;
	cmb->vaddr = (uint8_t *)bar + cmb->info.offset;
	cmb->addr = bus + cmb->info.offset;
	if (cmb->info.msc) {
		cmb_write_cmbmsc(ctrl, cmb->addr | VFN_NVME_CMBMSC_CMSE | VFN_NVME_CMBMSC_CRE);
		if (cmb_reg32(ctrl, VFN_NVME_REG_CMBSTS) & VFN_NVME_CMBSTS_CBAI) {
			log_err("%s: the controller refused CMB base address %#llx (CMBSTS.CBAI)", ctrl->hw.name,
				(unsigned long long)cmb->addr);
			ret = -EIO;
			goto err_free;
		}
	}
	ret = vfn_cmb_heap_init(&cmb->heap, cmb->size, CMB_GRANULE);
	if (ret)
		goto err_free;
	log_info("%s: CMB of %llu bytes in BAR%u at %#llx", ctrl->hw.name, (unsigned long long)cmb->size, cmb->info.bar,
		 (unsigned long long)cmb->addr);
	*out = cmb;
	return 0;

err_free:
	free(cmb);
	return ret;
}

int vfn_nvme_cmb_enable(struct vfn_nvme_ctrl *ctrl)
{
	struct vfn_nvme_cmb *cmb = NULL;
	int ret = 0;

	if (!ctrl)
		return -EINVAL;
	pthread_mutex_lock(&ctrl->admin.lock);
	if (!ctrl->cmb) {
		ret = cmb_setup(ctrl, &cmb);
		if (!ret)
			__atomic_store_n(&ctrl->cmb, cmb, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&ctrl->admin.lock);
	return ret;
}

void vfn_nvme_cmb_restore(struct vfn_nvme_ctrl *ctrl)
{
	struct vfn_nvme_cmb *cmb = ctrl->cmb;

	if (cmb && cmb->info.msc)
		cmb_write_cmbmsc(ctrl, cmb->addr | VFN_NVME_CMBMSC_CMSE | VFN_NVME_CMBMSC_CRE);
	if (ctrl->pmr)
		vfn_mmio_write32((uint8_t *)ctrl->hw.regs + VFN_NVME_REG_PMRCTL, VFN_NVME_PMRCTL_EN);
}

/*
 * The mappings vfn_nvme_cmb_p2p_map() made, so that closing either side
 * undoes them: a peer closed while still mapped would leave @ctrl's address
 * space pointing at a BAR (or, on the simulator, memory) that is gone.
 */
struct cmb_p2p {
	struct cmb_p2p *next;
	struct vfn_nvme_ctrl *ctrl, *peer;
	void *vaddr; /* the peer's CMB, mapped into ctrl's address space */
};

static pthread_mutex_t p2p_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cmb_p2p *p2p_list;

/* The link pointing at the mapping of @peer's CMB into @ctrl, or NULL; p2p_lock held. */
static struct cmb_p2p **p2p_find(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_ctrl *peer)
{
	for (struct cmb_p2p **pp = &p2p_list; *pp; pp = &(*pp)->next)
		if ((*pp)->ctrl == ctrl && (*pp)->peer == peer)
			return pp;
	return NULL;
}

/* At close of @ctrl: unmaps every peer-to-peer mapping it is either side of. */
static void p2p_forget(struct vfn_nvme_ctrl *ctrl)
{
	pthread_mutex_lock(&p2p_lock);
	for (struct cmb_p2p **pp = &p2p_list; *pp;) {
		struct cmb_p2p *e = *pp;

		if (e->ctrl != ctrl && e->peer != ctrl) {
			pp = &e->next;
			continue;
		}
		if (e->peer == ctrl)
			log_err("%s: closed with its CMB still mapped into %s: unmapped", ctrl->hw.name,
				e->ctrl->hw.name);
		vfn_iommu_unmap(e->ctrl->hw.iommu, e->vaddr);
		*pp = e->next;
		free(e);
	}
	pthread_mutex_unlock(&p2p_lock);
}

void vfn_nvme_cmb_fini(struct vfn_nvme_ctrl *ctrl)
{
	p2p_forget(ctrl);
	if (!ctrl->cmb)
		return;
	vfn_cmb_heap_fini(&ctrl->cmb->heap);
	free(ctrl->cmb);
	ctrl->cmb = NULL;
}

static struct vfn_nvme_cmb *cmb_get(struct vfn_nvme_ctrl *ctrl)
{
	return ctrl ? __atomic_load_n(&ctrl->cmb, __ATOMIC_ACQUIRE) : NULL;
}

int vfn_nvme_cmb_alloc(struct vfn_nvme_ctrl *ctrl, size_t len, void **vaddr, uint64_t *addr)
{
	struct vfn_nvme_cmb *cmb = cmb_get(ctrl);
	uint64_t off;
	int ret;

	if (!ctrl || !len || !vaddr || !addr)
		return -EINVAL;
	if (!cmb)
		return -ENOTSUP;
	ret = vfn_cmb_heap_alloc(&cmb->heap, len, &off);
	if (ret) {
		log_debug("%s: no %zu bytes free in the CMB", ctrl->hw.name, len);
		return ret;
	}
	*vaddr = cmb->vaddr + off;
	*addr = cmb->addr + off;
	return 0;
}

void vfn_nvme_cmb_free(struct vfn_nvme_ctrl *ctrl, void *vaddr)
{
	struct vfn_nvme_cmb *cmb = cmb_get(ctrl);
	uint8_t *p = vaddr;

	if (!vaddr)
		return;
	if (!cmb || p < cmb->vaddr || p >= cmb->vaddr + cmb->size ||
	    vfn_cmb_heap_free(&cmb->heap, (uint64_t)(p - cmb->vaddr)))
		log_err("cmb: %p was not allocated from the CMB", vaddr);
}

int vfn_nvme_cmb_translate(struct vfn_nvme_ctrl *ctrl, const void *vaddr, uint64_t *addr, size_t *len)
{
	struct vfn_nvme_cmb *cmb = cmb_get(ctrl);
	const uint8_t *p = vaddr;

	if (!cmb || p < cmb->vaddr || p >= cmb->vaddr + cmb->size)
		return -ENOENT;
	*addr = cmb->addr + (uint64_t)(p - cmb->vaddr);
	*len = (size_t)(cmb->size - (uint64_t)(p - cmb->vaddr));
	return 0;
}

int vfn_nvme_cmb_p2p_map(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_ctrl *peer, uint64_t *iova)
{
	struct vfn_nvme_cmb *cmb;
	struct cmb_p2p *e;
	uint64_t have;
	size_t len;
	int ret;

	if (!ctrl || !peer || ctrl == peer || !iova)
		return -EINVAL;
	ret = vfn_nvme_cmb_enable(peer);
	if (ret) {
		log_err("%s: peer-to-peer: %s has no usable CMB (%d)", ctrl->hw.name, peer->hw.name, ret);
		return ret;
	}
	cmb = cmb_get(peer);
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	*e = (struct cmb_p2p){ .ctrl = ctrl, .peer = peer, .vaddr = cmb->vaddr };
	pthread_mutex_lock(&p2p_lock);
	if (p2p_find(ctrl, peer) || !vfn_iommu_translate(ctrl->hw.iommu, cmb->vaddr, &have, &len)) {
		pthread_mutex_unlock(&p2p_lock);
		free(e);
		log_err("%s: peer-to-peer: %s's CMB is mapped already", ctrl->hw.name, peer->hw.name);
		return -EEXIST;
	}
	ret = vfn_iommu_map(ctrl->hw.iommu, cmb->vaddr, (size_t)cmb->size, iova);
	if (!ret) {
		e->next = p2p_list;
		p2p_list = e;
	}
	pthread_mutex_unlock(&p2p_lock);
	if (ret) {
		free(e);
		log_err("%s: peer-to-peer: mapping %s's CMB (BAR%u, %llu bytes) into this controller's %s address "
			"space failed: %d%s",
			ctrl->hw.name, peer->hw.name, cmb->info.bar, (unsigned long long)cmb->size,
			vfn_iommu_backend_name(ctrl->hw.iommu), ret,
			ret == -EFAULT ? " (the kernel cannot pin a device BAR here: iommufd pins user pages only; "
					 "use the VFIO type1 container)"
				       : "");
		return ret;
	}
	log_info("%s: %s's CMB at iova %#llx (%llu bytes)", ctrl->hw.name, peer->hw.name, (unsigned long long)*iova,
		 (unsigned long long)cmb->size);
	return 0;
}

int vfn_nvme_cmb_p2p_unmap(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_ctrl *peer)
{
	struct cmb_p2p **pp, *e;
	int ret;

	if (!ctrl || !peer || ctrl == peer)
		return -EINVAL;
	/* Only what vfn_nvme_cmb_p2p_map() mapped: never a mapping of the CMB the caller made itself. */
	pthread_mutex_lock(&p2p_lock);
	pp = p2p_find(ctrl, peer);
	if (!pp) {
		pthread_mutex_unlock(&p2p_lock);
		return -ENOENT;
	}
	e = *pp;
	ret = vfn_iommu_unmap(ctrl->hw.iommu, e->vaddr);
	*pp = e->next;
	pthread_mutex_unlock(&p2p_lock);
	free(e);
	return ret;
}
