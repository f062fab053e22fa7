/* SPDX-License-Identifier: MIT */
/* The device interface over a VFIO PCI function. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vfn/vfio.h>

#include "nvme/hw.h"
#include "support/log.h"

/* PCI config space: Revision ID at 0x08, then the 24-bit Class Code. */
#define PCI_CFG_REVISION_CLASS 0x08
#define PCI_CLASS_NVME 0x010802 /* mass storage, NVM, NVM Express */

static struct vfn_vfio_dev *hw_dev(struct vfn_nvme_hw *hw)
{
	return hw->priv;
}

static int hw_vfio_irq_count(struct vfn_nvme_hw *hw)
{
	return vfn_vfio_irq_count(hw_dev(hw), (unsigned int)vfn_vfio_irq_mode(hw_dev(hw)));
}

static int hw_vfio_irq_enable(struct vfn_nvme_hw *hw, unsigned int start, unsigned int count, const int *efds)
{
	return vfn_vfio_irq_enable(hw_dev(hw), start, count, efds);
}

static int hw_vfio_irq_set_mode(struct vfn_nvme_hw *hw, unsigned int index)
{
	return vfn_vfio_irq_set_mode(hw_dev(hw), index);
}

static int hw_vfio_irq_unmask(struct vfn_nvme_hw *hw)
{
	return vfn_vfio_irq_unmask(hw_dev(hw));
}

static int hw_vfio_irq_disable(struct vfn_nvme_hw *hw)
{
	return vfn_vfio_irq_disable(hw_dev(hw));
}

static int hw_vfio_irq_auto(struct vfn_nvme_hw *hw)
{
	int index = vfn_vfio_irq_auto(hw_dev(hw)), ret;

	if (index < 0)
		return index;
	/* Off again until a vector is routed: a polled controller keeps no kernel vectors. */
	ret = vfn_vfio_irq_disable(hw_dev(hw));
	return ret ? ret : index;
}

static int hw_vfio_reset(struct vfn_nvme_hw *hw)
{
	return vfn_vfio_reset(hw_dev(hw));
}

static int hw_vfio_bus_master(struct vfn_nvme_hw *hw, bool on)
{
	return vfn_vfio_set_bus_master(hw_dev(hw), on);
}

/* PCI config space: BAR registers from 0x10, 4 bytes apart. */
#define PCI_CFG_BAR0 0x10

static int hw_vfio_map_bar(struct vfn_nvme_hw *hw, unsigned int bar, void **addr, size_t *len, uint64_t *bus)
{
	struct vfn_vfio_dev *dev = hw_dev(hw);
	uint32_t lo, hi = 0;
	int ret;

	if (bar > 5)
		return -EINVAL;
	ret = vfn_vfio_cfg_read32(dev, PCI_CFG_BAR0 + 4 * bar, &lo);
	if (ret)
		return ret;
	if (lo & 1) /* an I/O space BAR */
		return -ENOTSUP;
	if (((lo >> 1) & 3) == 2) { /* 64-bit: the next register holds the high half */
		if (bar == 5)
			return -EINVAL;
		ret = vfn_vfio_cfg_read32(dev, PCI_CFG_BAR0 + 4 * (bar + 1), &hi);
		if (ret)
			return ret;
	}
	ret = vfn_vfio_map_bar(dev, bar, addr, len);
	if (ret)
		return ret;
	*bus = (uint64_t)hi << 32 | (lo & ~0xfu);
	return 0;
}

static void hw_vfio_close(struct vfn_nvme_hw *hw)
{
	struct vfn_vfio_dev *dev = hw_dev(hw);

	/* The controller is disabled by now: stop its DMA at the PCI level too. */
	vfn_vfio_set_bus_master(dev, false);
	vfn_vfio_close(dev);
	vfn_iommu_put(hw->iommu);
	hw->priv = NULL;
	hw->regs = NULL;
	hw->iommu = NULL;
}

static int hw_vfio_hot_reset(struct vfn_nvme_hw *hw, bool check_only)
{
	return check_only ? vfn_vfio_hot_reset_check(hw_dev(hw)) : vfn_vfio_hot_reset(hw_dev(hw));
}

const struct vfn_nvme_hw_ops vfn_nvme_hw_vfio_ops = {
	.hot_reset = hw_vfio_hot_reset,
	.irq_auto = hw_vfio_irq_auto,
	.irq_count = hw_vfio_irq_count,
	.irq_enable = hw_vfio_irq_enable,
	.irq_disable = hw_vfio_irq_disable,
	.irq_set_mode = hw_vfio_irq_set_mode,
	.irq_unmask = hw_vfio_irq_unmask,
	.reset = hw_vfio_reset,
	.bus_master = hw_vfio_bus_master,
	.close = hw_vfio_close,
	.map_bar = hw_vfio_map_bar,
};

static int hw_vfio_check_class(struct vfn_vfio_dev *dev)
{
	uint32_t v, class;
	int ret;

	ret = vfn_vfio_cfg_read32(dev, PCI_CFG_REVISION_CLASS, &v);
	if (ret) {
		log_debug("%s: cannot read the class code: %d", vfn_vfio_bdf(dev), ret);
		return ret;
	}
	class = v >> 8;
	if (class != PCI_CLASS_NVME) {
		log_err("%s is not an NVMe controller (class 0x%06x)", vfn_vfio_bdf(dev), class);
		return -ENOTSUP;
	}
	return 0;
}

static int hw_vfio_setup(struct vfn_vfio_dev *dev, struct vfn_nvme_hw *hw)
{
	int ret;

	ret = hw_vfio_check_class(dev);
	if (ret)
		return ret;
	ret = vfn_vfio_set_bus_master(dev, true);
	if (ret) {
		log_debug("%s: cannot enable bus mastering: %d", vfn_vfio_bdf(dev), ret);
		return ret;
	}
	ret = vfn_vfio_map_bar(dev, 0, &hw->regs, &hw->regs_len);
	if (ret) {
		log_debug("%s: cannot map BAR0: %d", vfn_vfio_bdf(dev), ret);
		goto err_clear_bus_master;
	}
	return 0;

err_clear_bus_master:
	vfn_vfio_set_bus_master(dev, false);
	return ret;
}

int vfn_nvme_hw_open_vfio(const char *bdf, struct vfn_iommu *iommu, struct vfn_nvme_hw *hw)
{
	struct vfn_vfio_opts opts = { .iommu = iommu };
	struct vfn_vfio_dev *dev;
	int ret;

	memset(hw, 0, sizeof(*hw));
	ret = vfn_vfio_open(bdf, &opts, &dev);
	if (ret)
		return ret;
	ret = hw_vfio_setup(dev, hw);
	if (ret)
		goto err_close;

	hw->ops = &vfn_nvme_hw_vfio_ops;
	hw->priv = dev;
	hw->iommu = vfn_vfio_iommu(dev);
	vfn_iommu_get(hw->iommu);
	snprintf(hw->name, sizeof(hw->name), "%s", vfn_vfio_bdf(dev));
	return 0;

err_close:
	vfn_vfio_close(dev);
	memset(hw, 0, sizeof(*hw));
	return ret;
}
