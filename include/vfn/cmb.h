/* SPDX-License-Identifier: MIT */
/*
 * vfn cmb: the Controller Memory Buffer (NVMe Base Specification, CMBLOC,
 * CMBSZ, CMBMSC, CMBSTS) and the Persistent Memory Region (PMRCAP, PMRCTL,
 * PMRSTS) of a controller opened through VFIO.
 *
 * The CMB is controller memory in one of its BARs.  vfn maps that BAR
 * through VFIO, tells a 1.4+ controller its bus address (CMBMSC.CBA) and
 * hands out pieces of it: a host pointer (into the BAR mapping) and the
 * device address the controller is given for it.  CMB addresses are not
 * IOMMU addresses: nothing is DMA-mapped for them.  A buffer from
 * vfn_nvme_cmb_alloc() can be passed to the ordinary I/O helpers (they
 * recognise CMB pointers); an I/O SQ goes into the CMB with
 * vfn_nvme_qpair_opts.sq_cmb.  Ordering rules: docs/cmb.md.
 */
#ifndef VFN_CMB_H
#define VFN_CMB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vfn/nvme.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What CMBLOC and CMBSZ say about the CMB. */
struct vfn_nvme_cmb_info {
	uint64_t size;	  /* bytes (CMBSZ.SZ x CMBSZ.SZU) */
	uint64_t offset;  /* into the BAR (CMBLOC.OFST x CMBSZ.SZU) */
	unsigned int bar; /* CMBLOC.BIR */
	bool sqs;	  /* I/O submission queues may be placed in it */
	bool cqs;	  /* I/O completion queues may be placed in it */
	bool lists;	  /* PRP lists and SGL segments may be */
	bool rds;	  /* read data (controller -> CMB) may be */
	bool wds;	  /* write data (CMB -> controller) may be */
	bool msc;	  /* 1.4 scheme: CAP.CMBS set, CMBMSC enables it (else the 1.3 "legacy" one) */
};

/*
 * Reads CMBLOC and CMBSZ into @info.  On a 1.4+ controller (CAP.CMBS)
 * first sets CMBMSC.CRE, without which those registers read 0.
 * Errors: -ENOTSUP (no CMB: CAP.CMBS clear and CMBSZ 0), -EINVAL (NULL),
 * -EPROTO (CMBSZ.SZU a reserved value, 7..15, or CMBLOC.BIR 1, 6 or 7).
 */
VFN_API int vfn_nvme_cmb_get_info(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_cmb_info *info);

/*
 * Enables and maps the CMB: maps its BAR through VFIO, on a 1.4+ controller
 * writes CMBMSC (CRE, then CMSE with CBA = the BAR's bus address from PCI
 * config space + the CMB offset) and checks CMBSTS.CBAI.  Idempotent; the
 * mapping lives until vfn_nvme_ctrl_close().  Errors: -ENOTSUP (no CMB, or
 * a device that is not a VFIO PCI function, e.g. sim:), -EIO (CBAI set:
 * the controller refused the address), -ENOMEM, or as vfn_vfio_map_bar().
 * Thread-safe.
 */
VFN_API int vfn_nvme_cmb_enable(struct vfn_nvme_ctrl *ctrl);

/*
 * Takes @len bytes (rounded up to 4 KiB, 4 KiB aligned) of the enabled CMB:
 * *@vaddr is where the process reads and writes them (the BAR mapping, not
 * normal memory: see docs/cmb.md), *@addr the address to give the
 * controller.  Thread-safe (a mutex: not for the I/O hot path).  Errors:
 * -EINVAL (@len 0, NULL pointers), -ENOTSUP (CMB not enabled), -ENOMEM
 * (no free piece that large).
 */
VFN_API int vfn_nvme_cmb_alloc(struct vfn_nvme_ctrl *ctrl, size_t len, void **vaddr, uint64_t *addr);

/* Gives back a piece from vfn_nvme_cmb_alloc().  NULL is ignored. */
VFN_API void vfn_nvme_cmb_free(struct vfn_nvme_ctrl *ctrl, void *vaddr);

/*
 * If @vaddr lies in the mapped CMB: stores the controller address of it and
 * the bytes from there to the end of the CMB, and returns 0; else -ENOENT.
 */
VFN_API int vfn_nvme_cmb_translate(struct vfn_nvme_ctrl *ctrl, const void *vaddr, uint64_t *addr, size_t *len);

/*
 * CMB peer-to-peer: maps @peer's CMB (enabled here if it is not) into
 * @ctrl's DMA address space, so that @ctrl's commands read into and write
 * from @peer's CMB: a pointer from vfn_nvme_cmb_alloc(@peer, ...) is then a
 * valid data buffer for @ctrl's I/O (it translates through @ctrl's address
 * space first), while @peer keeps using it by its CMB address.  *@iova: the
 * address of the CMB's first byte for @ctrl.  Give @ctrl and @peer
 * different address spaces (vfn_nvme_ctrl_opts.iommu): in a shared one
 * @peer's own I/O on its CMB would go through the IOMMU too.  Undo with
 * vfn_nvme_cmb_p2p_unmap() before closing @peer (closing either controller
 * unmaps what is left, logging it when @peer goes first).
 * Errors: -EINVAL (NULL, @ctrl == @peer), -ENOTSUP (@peer has no CMB),
 * -EEXIST (already mapped), or the address space's error for the BAR
 * mapping, logged with its backend: VFIO type1 maps a VFIO BAR mmap; an
 * iommufd IOAS (pinning user pages) cannot and answers -EFAULT.
 */
VFN_API int vfn_nvme_cmb_p2p_map(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_ctrl *peer, uint64_t *iova);

/* Undoes vfn_nvme_cmb_p2p_map(): 0, -EINVAL, or -ENOENT if it did not map @peer into @ctrl. */
VFN_API int vfn_nvme_cmb_p2p_unmap(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_ctrl *peer);

/* ---- Persistent Memory Region ------------------------------------------- */

/* What PMRCAP says about the PMR. */
struct vfn_nvme_pmr_info {
	unsigned int bar;    /* PMRCAP.BIR */
	bool rds;	     /* read data (controller commands) may be in it */
	bool wds;	     /* write data may be in it */
	uint8_t wbm;	     /* PMRCAP.PMRWBM: bit 0 a PMR read, bit 1 a PMRSTS read completes prior writes */
	uint32_t timeout_ms; /* PMRTO x PMRTU (500 ms or 1 min), the longest PMRSTS.NRDY may stay set */
	uint64_t size;	     /* bytes: the BAR's size (0 until vfn_nvme_pmr_enable()) */
};

/*
 * Reads PMRCAP into @info.  Errors: -ENOTSUP (CAP.PMRS clear), -EINVAL.
 */
VFN_API int vfn_nvme_pmr_get_info(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_pmr_info *info);

/*
 * Maps the PMR's BAR through VFIO, sets PMRCTL.EN and waits until
 * PMRSTS.NRDY clears, at most the PMRCAP.PMRTO time (at least 500 ms).
 * Idempotent; the mapping lives until vfn_nvme_ctrl_close().  Errors:
 * -ENOTSUP (no PMR, or not a VFIO PCI function), -ETIMEDOUT (still not
 * ready), -EIO (PMRSTS.HSTS not "normal operation", or an ERR code; see the
 * log), or as vfn_vfio_map_bar().  Thread-safe.
 */
VFN_API int vfn_nvme_pmr_enable(struct vfn_nvme_ctrl *ctrl);

/* Clears PMRCTL.EN (the mapping stays, but accesses no longer reach the PMR). */
VFN_API int vfn_nvme_pmr_disable(struct vfn_nvme_ctrl *ctrl);

/*
 * The enabled PMR's mapping: *@vaddr (device memory: see docs/cmb.md) and
 * *@len bytes.  -ENOTSUP if not enabled.
 */
VFN_API int vfn_nvme_pmr_map(struct vfn_nvme_ctrl *ctrl, void **vaddr, size_t *len);

/*
 * Copies @len bytes between @buf and offset @off of the enabled PMR.
 * vfn_nvme_pmr_write() returns once the bytes are persistent as the spec
 * has the host make sure of it: a store fence, then the PMRCAP.PMRWBM
 * barrier (a read of PMRSTS, or else a read of the PMR); then PMRSTS is
 * checked.  Errors: -EINVAL (beyond the PMR, NULL), -ENOTSUP (not
 * enabled), -EIO (PMRSTS reports not ready, an error or a health problem
 * after the write).
 */
VFN_API int vfn_nvme_pmr_read(struct vfn_nvme_ctrl *ctrl, uint64_t off, void *buf, size_t len);
VFN_API int vfn_nvme_pmr_write(struct vfn_nvme_ctrl *ctrl, uint64_t off, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* VFN_CMB_H */
