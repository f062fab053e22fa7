/* SPDX-License-Identifier: MIT */
/* The Persistent Memory Region: discovery, enabling, mapping, read/write (vfn/cmb.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vfn/cmb.h>

#include "nvme/cmb-priv.h"
#include "nvme/ctrl-priv.h"
#include "support/log.h"

#define PMR_MIN_TIMEOUT_MS 500u

static uint32_t pmr_reg32(struct vfn_nvme_ctrl *ctrl, uint32_t off)
{
	return vfn_mmio_read32((const uint8_t *)ctrl->hw.regs + off);
}

int vfn_nvme_pmr_get_info(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_pmr_info *info)
{
	uint32_t cap, to, unit_ms;
	struct vfn_nvme_pmr *pmr;

	if (!ctrl || !info)
		return -EINVAL;
	if (!vfn_nvme_cap_pmrs(ctrl->cap) || ctrl->hw.regs_len < VFN_NVME_REG_PMRMSCU + 4)
		return -ENOTSUP;
	cap = pmr_reg32(ctrl, VFN_NVME_REG_PMRCAP);
	to = (cap >> 16) & 0xff;
	unit_ms = ((cap >> 8) & 3) == 1 ? 60000u : 500u;
	pmr = __atomic_load_n(&ctrl->pmr, __ATOMIC_ACQUIRE);
	*info = (struct vfn_nvme_pmr_info){
		.bar = (cap >> 5) & 7,
		.rds = cap & 8,
		.wds = cap & 16,
		.wbm = (uint8_t)((cap >> 10) & 0xf),
		.timeout_ms = to * unit_ms,
		.size = pmr ? pmr->size : 0,
	};
	return 0;
}

/* PMRSTS as an error: 0, -EAGAIN (not ready), -EIO (error code or health status). */
static int pmr_status(struct vfn_nvme_ctrl *ctrl, bool log)
{
	uint32_t sts = pmr_reg32(ctrl, VFN_NVME_REG_PMRSTS);

	if (sts == UINT32_MAX)
		return -EIO;
	if (sts & 0xff || (sts >> VFN_NVME_PMRSTS_HSTS_SHIFT) & 7) {
		if (log)
			log_err("%s: PMRSTS 0x%08x: error %u, health status %u", ctrl->hw.name, sts, sts & 0xff,
				(sts >> VFN_NVME_PMRSTS_HSTS_SHIFT) & 7);
		return -EIO;
	}
	return sts & VFN_NVME_PMRSTS_NRDY ? -EAGAIN : 0;
}

static int pmr_setup(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_pmr **out)
{
	struct vfn_nvme_pmr *pmr;
	uint64_t bus, deadline;
	uint32_t timeout_ms;
	void *bar;
	size_t len;
	int ret;

	pmr = calloc(1, sizeof(*pmr));
	if (!pmr)
		return -ENOMEM;
	ret = vfn_nvme_pmr_get_info(ctrl, &pmr->info);
	if (ret)
		goto err_free;
	if (!ctrl->hw.ops->map_bar) {
		ret = -ENOTSUP;
		goto err_free;
	}
	ret = ctrl->hw.ops->map_bar(&ctrl->hw, pmr->info.bar, &bar, &len, &bus);
	if (ret) {
		log_err("%s: cannot map the PMR's BAR%u: %d", ctrl->hw.name, pmr->info.bar, ret);
		goto err_free;
	}
	pmr->vaddr = bar;
	pmr->size = len;
	pmr->info.size = len;
	vfn_mmio_write32((uint8_t *)ctrl->hw.regs + VFN_NVME_REG_PMRCTL, VFN_NVME_PMRCTL_EN);
	/* PMRTO 0 would be no time at all: wait at least PMR_MIN_TIMEOUT_MS. */
	timeout_ms = pmr->info.timeout_ms > PMR_MIN_TIMEOUT_MS ? pmr->info.timeout_ms : PMR_MIN_TIMEOUT_MS;
	deadline = vfn_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	while ((ret = pmr_status(ctrl, true)) == -EAGAIN) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 1000000 };

		if (vfn_now_ns() > deadline) {
			log_err("%s: PMRSTS.NRDY still set %u ms after PMRCTL.EN", ctrl->hw.name, timeout_ms);
			ret = -ETIMEDOUT;
			break;
		}
		nanosleep(&ts, NULL);
	}
	if (ret) {
		vfn_mmio_write32((uint8_t *)ctrl->hw.regs + VFN_NVME_REG_PMRCTL, 0);
		goto err_free;
	}
	log_info("%s: PMR of %zu bytes in BAR%u enabled", ctrl->hw.name, len, pmr->info.bar);
	*out = pmr;
	return 0;

err_free:
	free(pmr);
	return ret;
}

int vfn_nvme_pmr_enable(struct vfn_nvme_ctrl *ctrl)
{
	struct vfn_nvme_pmr *pmr = NULL;
	int ret = 0;

	if (!ctrl)
		return -EINVAL;
	pthread_mutex_lock(&ctrl->admin.lock);
	if (!ctrl->pmr) {
		ret = pmr_setup(ctrl, &pmr);
		if (!ret)
			__atomic_store_n(&ctrl->pmr, pmr, __ATOMIC_RELEASE);
	} else if (!(pmr_reg32(ctrl, VFN_NVME_REG_PMRCTL) & VFN_NVME_PMRCTL_EN)) {
		/* Disabled since: enable it again, same mapping. */
		vfn_mmio_write32((uint8_t *)ctrl->hw.regs + VFN_NVME_REG_PMRCTL, VFN_NVME_PMRCTL_EN);
		for (int i = 0; i < 500 && (ret = pmr_status(ctrl, true)) == -EAGAIN; i++)
			nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
		if (ret == -EAGAIN)
			ret = -ETIMEDOUT;
	}
	pthread_mutex_unlock(&ctrl->admin.lock);
	return ret;
}

int vfn_nvme_pmr_disable(struct vfn_nvme_ctrl *ctrl)
{
	if (!ctrl)
		return -EINVAL;
	if (!vfn_nvme_cap_pmrs(ctrl->cap))
		return -ENOTSUP;
	vfn_mmio_write32((uint8_t *)ctrl->hw.regs + VFN_NVME_REG_PMRCTL, 0);
	return 0;
}

void vfn_nvme_pmr_fini(struct vfn_nvme_ctrl *ctrl)
{
	free(ctrl->pmr);
	ctrl->pmr = NULL;
}

static struct vfn_nvme_pmr *pmr_get(struct vfn_nvme_ctrl *ctrl)
{
	return ctrl ? __atomic_load_n(&ctrl->pmr, __ATOMIC_ACQUIRE) : NULL;
}

int vfn_nvme_pmr_map(struct vfn_nvme_ctrl *ctrl, void **vaddr, size_t *len)
{
	struct vfn_nvme_pmr *pmr = pmr_get(ctrl);

	if (!ctrl || !vaddr || !len)
		return -EINVAL;
	if (!pmr)
		return -ENOTSUP;
	*vaddr = pmr->vaddr;
	*len = pmr->size;
	return 0;
}

/* Checks the range and that the PMR is enabled and ready. */
static int pmr_check(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_pmr *pmr, uint64_t off, const void *buf, size_t len)
{
	if (!ctrl || (!buf && len))
		return -EINVAL;
	if (!pmr)
		return -ENOTSUP;
	if (off > pmr->size || len > pmr->size - off) {
		log_debug("%s: PMR range %#llx+%zu beyond its %zu bytes", ctrl->hw.name, (unsigned long long)off, len,
			  pmr->size);
		return -EINVAL;
	}
	return pmr_status(ctrl, true) ? -EIO : 0;
}

/*
 * Byte copies through volatile pointers: the compiler may not widen,
 * merge or elide them (device memory), and no unaligned wide access is made.
 */
static void pmr_copy(volatile uint8_t *dst, const volatile uint8_t *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = src[i];
}

int vfn_nvme_pmr_read(struct vfn_nvme_ctrl *ctrl, uint64_t off, void *buf, size_t len)
{
	struct vfn_nvme_pmr *pmr = pmr_get(ctrl);
	int ret = pmr_check(ctrl, pmr, off, buf, len);

	if (ret)
		return ret;
	pmr_copy(buf, pmr->vaddr + off, len);
	return 0;
}

int vfn_nvme_pmr_write(struct vfn_nvme_ctrl *ctrl, uint64_t off, const void *buf, size_t len)
{
	struct vfn_nvme_pmr *pmr = pmr_get(ctrl);
	int ret = pmr_check(ctrl, pmr, off, buf, len);

	if (ret || !len)
		return ret;
	pmr_copy(pmr->vaddr + off, buf, len);
	/* The stores leave the CPU (write-combining buffers drained) before the barrier read. */
	vfn_wmb();
	if (pmr->info.wbm & 2)
		(void)pmr_reg32(ctrl, VFN_NVME_REG_PMRSTS); /* the read completes the writes before it */
	else
		(void)*(volatile uint8_t *)(pmr->vaddr + off + len - 1); /* a PMR read does (PMRWBM bit 0) */
	vfn_mb();
	ret = pmr_status(ctrl, true);
	return ret ? -EIO : 0;
}
