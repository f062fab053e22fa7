/* SPDX-License-Identifier: MIT */
/*
 * The device interface under the NVMe layer.
 *
 * The NVMe code reaches a controller only through this: a register window,
 * an address space for DMA, interrupt eventfds, and reset.  VFIO PCI
 * (hw-vfio.c) implements it; a software controller can implement it with
 * ordinary memory as the register window.  Nothing in src/nvme outside the
 * hw-*.c files may know which implementation it talks to.
 */
#ifndef VFN_SRC_NVME_HW_H
#define VFN_SRC_NVME_HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vfn/iommu.h>

struct vfn_nvme_hw;

struct vfn_nvme_hw_ops {
	/* Number of interrupt vectors (MSI-X) available, or -errno. */
	int (*irq_count)(struct vfn_nvme_hw *hw);
	/* Route vectors @start..@start+@count-1 to @efds (-1: unrouted). */
	int (*irq_enable)(struct vfn_nvme_hw *hw, unsigned int start, unsigned int count, const int *efds);
	/* Disable all vectors. */
	int (*irq_disable)(struct vfn_nvme_hw *hw);
	/* Function-level reset; -ENOTSUP if none. */
	int (*reset)(struct vfn_nvme_hw *hw);
	/*
	 * PCI bus mastering on or off (Command register bit 2).  Off, the
	 * function cannot start any DMA: the last resort of recovery when
	 * neither CC.EN=0 nor a function-level reset stopped the controller.
	 * 0 once it is applied, or -errno (then nothing may be assumed).
	 */
	int (*bus_master)(struct vfn_nvme_hw *hw, bool on);
	/* Release everything; @hw itself is freed by the caller. */
	void (*close)(struct vfn_nvme_hw *hw);
	/*
	 * Maps BAR @bar (kept until close) and gives its bus address (the
	 * address programmed in its PCI BAR register).  NULL: no BARs besides
	 * the register window (the simulator).
	 */
	int (*map_bar)(struct vfn_nvme_hw *hw, unsigned int bar, void **addr, size_t *len, uint64_t *bus);
	/* Appended, may be NULL (MSI-X only): the interrupt type (enum vfn_vfio_irq_index) irq_* use. */
	int (*irq_set_mode)(struct vfn_nvme_hw *hw, unsigned int index);
	/* May be NULL: re-arms a level interrupt (INTx) after its eventfd was read. */
	int (*irq_unmask)(struct vfn_nvme_hw *hw);
	/* Appended, may be NULL (-ENOTSUP): PCI hot reset (bus or slot) where allowed; @check_only: only whether it is. */
	int (*hot_reset)(struct vfn_nvme_hw *hw, bool check_only);
	/*
	 * Appended, may be NULL (MSI-X only): chooses the interrupt type irq_*
	 * use, the first of MSI-X, MSI, INTx the device has and the kernel
	 * accepts switching on (vfn_vfio_irq_auto()), and leaves interrupts off
	 * until a vector is routed.  The chosen enum vfn_vfio_irq_index, or -errno.
	 */
	int (*irq_auto)(struct vfn_nvme_hw *hw);
};

struct vfn_nvme_hw {
	const struct vfn_nvme_hw_ops *ops;
	void *regs; /* BAR0 (register window), mapped */
	size_t regs_len;
	struct vfn_iommu *iommu; /* DMA address space (reference held) */
	char name[64];		 /* for messages: BDF or "sim:..." */
	void *priv;		 /* implementation state */
};

/*
 * Opens @bdf through VFIO (bus mastering on, BAR0 mapped) into @hw, using
 * @iommu (NULL: default).  Checks that it is an NVMe controller (class
 * 0x010802): -ENOTSUP otherwise.  Errors otherwise as vfn_vfio_open(), and
 * -ENOTSUP if BAR0 cannot be mmapped.  Nothing stays open on failure.
 */
int vfn_nvme_hw_open_vfio(const char *bdf, struct vfn_iommu *iommu, struct vfn_nvme_hw *hw);

/* The VFIO implementation's operations (hw->priv: the struct vfn_vfio_dev); for unit tests. */
extern const struct vfn_nvme_hw_ops vfn_nvme_hw_vfio_ops;

/*
 * Opens the simulated controller described by @spec ("sim:" + options, see
 * docs/sim.md) into @hw (src/sim): the register window is memory watched by
 * a controller thread, DMA goes through a software address space (@iommu if
 * given, which must be one; else a new one).  Errors: -EINVAL (bad options,
 * or @iommu not a software address space), -ENOMEM, or pthread_create's.
 * Nothing stays open on failure.
 */
int vfn_sim_hw_open(const char *spec, struct vfn_iommu *iommu, struct vfn_nvme_hw *hw);

#endif
