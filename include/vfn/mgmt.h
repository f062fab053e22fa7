/* SPDX-License-Identifier: MIT */
/*
 * vfn mgmt: typed controller-management commands over any vfn_dev (VFIO,
 * kernel, sim): Identify with CNS/CNTID/CSI, Get Log Page with every field
 * and chunked by the transfer limit, Get/Set Features with SEL/SV and
 * CDW11-15, Format NVM, Namespace Management and Attachment, Firmware Image
 * Download and Commit, Device Self-test, Sanitize, and the log pages of
 * <vfn/spec.h> read into their structures.
 *
 * Every call sends its commands with vfn_dev_admin() and returns as it
 * does: 0, -EIO with the controller's status in @cqe (may be NULL; written
 * as vfn_dev_admin() writes it, for the last command sent), or -errno.
 * -EINVAL, sending nothing, for a NULL or too short buffer and fields out of
 * range.  On the kernel path the commands that change namespaces (format,
 * create/delete, attach/detach, firmware commit) are followed by the
 * rescan the driver needs (NVME_IOCTL_RESCAN on the controller node).
 */
#ifndef VFN_MGMT_H
#define VFN_MGMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vfn/dev.h>
#include <vfn/spec.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Identify: the CDW10/CDW11 fields beside CNS. */
struct vfn_identify_args {
	uint8_t cns;
	uint16_t cntid; /* CDW10.CNTID: controller lists, attached-controller lists */
	uint8_t csi;	/* CDW11.CSI: the I/O command set specific CNS values */
	uint32_t nsid;
};

/*
 * Identify per @args into @buf (@len at least VFN_NVME_IDENTIFY_DATA_SIZE,
 * else -EINVAL).
 */
VFN_API int vfn_dev_identify_args(struct vfn_dev *dev, const struct vfn_identify_args *args, void *buf, size_t len,
				  struct vfn_nvme_cqe *cqe);

/* Get Log Page: every field of CDW10-14. */
struct vfn_log_args {
	uint8_t lid;
	uint8_t lsp;	  /* Log Specific Field, 0..127 */
	bool rae;	  /* Retain Asynchronous Event */
	uint16_t lsi;	  /* Log Specific Identifier */
	uint8_t uuid_idx; /* UUID index, 0..127 */
	uint8_t csi;
	uint32_t nsid;	 /* 0xffffffff: controller-wide; 0: not namespace specific */
	uint64_t offset; /* byte offset in the log, a multiple of 4 */
};

/*
 * The size in bytes of log page @lid when the specification fixes it
 * (SMART 512, firmware slot 512, changed namespace list 4096, commands
 * supported and effects 4096, self-test 564, sanitize status 512), else 0
 * (the error log depends on ELPE, telemetry on its header).
 */
VFN_API size_t vfn_nvme_log_size(uint8_t lid);

/*
 * Get Log Page per @args: @len bytes (a multiple of 4) into @buf, in as
 * many commands as the transfer limit (info->max_xfer) needs, each one's
 * offset advanced.  -EINVAL for a misaligned offset or length and, for a
 * log of fixed size (vfn_nvme_log_size()), an offset at or beyond its end
 * or @len running past it.
 */
VFN_API int vfn_dev_log_page(struct vfn_dev *dev, const struct vfn_log_args *args, void *buf, size_t len,
			     struct vfn_nvme_cqe *cqe);

/* Typed logs (whole pages, RAE clear): SMART / Health for @nsid (0xffffffff or 0: the controller). */
VFN_API int vfn_dev_smart_log(struct vfn_dev *dev, uint32_t nsid, struct vfn_nvme_smart_log *log,
			      struct vfn_nvme_cqe *cqe);
/* The @n newest Error Information entries (n >= 1) into @log. */
VFN_API int vfn_dev_error_log(struct vfn_dev *dev, struct vfn_nvme_error_log *log, unsigned int n,
			      struct vfn_nvme_cqe *cqe);
VFN_API int vfn_dev_fw_slot_log(struct vfn_dev *dev, struct vfn_nvme_fw_slot_log *log, struct vfn_nvme_cqe *cqe);
VFN_API int vfn_dev_self_test_log(struct vfn_dev *dev, struct vfn_nvme_self_test_log *log, struct vfn_nvme_cqe *cqe);
VFN_API int vfn_dev_sanitize_log(struct vfn_dev *dev, struct vfn_nvme_sanitize_log *log, struct vfn_nvme_cqe *cqe);
VFN_API int vfn_dev_cmd_effects_log(struct vfn_dev *dev, struct vfn_nvme_cmd_effects_log *log,
				    struct vfn_nvme_cqe *cqe);
VFN_API int vfn_dev_changed_ns_log(struct vfn_dev *dev, struct vfn_nvme_ns_list *log, struct vfn_nvme_cqe *cqe);

/*
 * Telemetry: the host-initiated log (@host; @create: new data generated
 * first, LSP bit 0) or the controller-initiated one, from its header up to
 * the last block of data area @da (1..4), read in pieces of the transfer
 * limit.  The log goes to a new buffer *@buf (free() it), its size in bytes
 * (512 * (last block + 1)) to *@len.  -EINVAL for @da outside 1..4, -ENOMEM;
 * -EPROTO, nothing allocated, when the header's data area last blocks up
 * to @da are not in order (DALB1 <= DALB2 <= DALB3 <= DALB4) or the log
 * would exceed 2 GiB (a controller's garbage, not a size to allocate).
 */
VFN_API int vfn_dev_telemetry_log(struct vfn_dev *dev, bool host, bool create, unsigned int da, void **buf, size_t *len,
				  struct vfn_nvme_cqe *cqe);

/*
 * Persistent Event Log: establishes a reporting context (reading the
 * 512-byte header, LSP 01h), reads the rest of its TLL bytes within it in
 * pieces of the transfer limit (LSP 00h), then releases the context (LSP
 * 02h, also after a failed read).  The log goes to a new buffer *@buf
 * (free() it), its size to *@len.  -EPROTO, nothing allocated, for a TLL
 * below the header's size or above 2 GiB; -ENOMEM.
 */
VFN_API int vfn_dev_persistent_event_log(struct vfn_dev *dev, void **buf, size_t *len, struct vfn_nvme_cqe *cqe);

/*
 * The event at *@off (start at sizeof(struct vfn_nvme_pel_hdr)) of the
 * persistent event log @log of @len bytes, *@off advanced past it (header
 * EHL + 3 bytes and EL data bytes); NULL at the end or when the event runs
 * past @len.  Its data is at (uint8_t *)event + event->ehl + 3.
 */
VFN_API const struct vfn_nvme_pel_event *vfn_nvme_pel_next(const void *log, size_t len, size_t *off);

/* The name of persistent event type @etype ("Firmware Commit", ...; "Reserved" when unknown). */
VFN_API const char *vfn_nvme_pel_type_str(uint8_t etype);

/*
 * ANA log (LID 0Ch; @rgo: Return Groups Only, no namespace ids): @len bytes
 * (a multiple of 4, at least the 16-byte header) into @buf, chunked as
 * vfn_dev_log_page().
 */
VFN_API int vfn_dev_ana_log(struct vfn_dev *dev, bool rgo, void *buf, size_t len, struct vfn_nvme_cqe *cqe);

/*
 * The group descriptor at *@off (start at sizeof(struct vfn_nvme_ana_log))
 * of the ANA log @log of @len bytes, *@off advanced past it and its NNSIDS
 * ids (none when @rgo); NULL when it runs past @len.  Call NGRPS times.
 */
VFN_API const struct vfn_nvme_ana_group *vfn_nvme_ana_next(const void *log, size_t len, bool rgo, size_t *off);

/* The name of ANA state @state ("optimized", ...). */
VFN_API const char *vfn_nvme_ana_state_str(uint8_t state);

/* Get / Set Features: the feature, its selection and its dwords. */
struct vfn_feat_args {
	uint8_t fid;
	uint8_t sel; /* Get: VFN_NVME_FEAT_SEL_* (0..3) */
	bool sv;     /* Set: save */
	uint32_t nsid;
	uint32_t cdw11, cdw12, cdw13, cdw14, cdw15; /* CDW14 bits 6:0: UUID index */
};

/* Get Features per @args; DW0 to @result (may be NULL); @buf/@len the feature's data (may be NULL/0). */
VFN_API int vfn_dev_get_feature(struct vfn_dev *dev, const struct vfn_feat_args *args, uint32_t *result, void *buf,
				size_t len, struct vfn_nvme_cqe *cqe);
/* Set Features per @args, as vfn_dev_get_feature(). */
VFN_API int vfn_dev_set_feature(struct vfn_dev *dev, const struct vfn_feat_args *args, uint32_t *result,
				const void *buf, size_t len, struct vfn_nvme_cqe *cqe);

/* Format NVM CDW10. */
struct vfn_format_args {
	uint32_t nsid;	     /* 0xffffffff: every namespace */
	uint8_t lbaf;	     /* LBA format index, 0..63 */
	bool mset;	     /* metadata at the end of each block */
	uint8_t pi;	     /* protection information type, 0..7 */
	bool pil;	     /* PI in the first bytes of the metadata */
	uint8_t ses;	     /* Secure Erase Settings, 0..7 */
	uint32_t timeout_ms; /* 0: the default */
};

/* Format NVM per @args. */
VFN_API int vfn_dev_format(struct vfn_dev *dev, const struct vfn_format_args *args, struct vfn_nvme_cqe *cqe);

/*
 * Namespace Management create: @ns holds NSZE, NCAP, FLBAS, DPS, NMIC (and
 * the other host-settable fields); @csi the command set.  The new id goes
 * to *@nsid.
 */
VFN_API int vfn_dev_ns_create(struct vfn_dev *dev, const struct vfn_nvme_id_ns *ns, uint8_t csi, uint32_t *nsid,
			      struct vfn_nvme_cqe *cqe);
/* Namespace Management delete of @nsid (0xffffffff: all). */
VFN_API int vfn_dev_ns_delete(struct vfn_dev *dev, uint32_t nsid, struct vfn_nvme_cqe *cqe);
/*
 * Namespace Attachment: attaches (or, @detach, detaches) @nsid to the @n
 * (1..2047) controllers @cntlids.
 */
VFN_API int vfn_dev_ns_attach(struct vfn_dev *dev, uint32_t nsid, bool detach, const uint16_t *cntlids, unsigned int n,
			      struct vfn_nvme_cqe *cqe);

/*
 * Firmware Image Download of @len bytes (a multiple of 4) at @img, in
 * pieces of @xfer bytes (a multiple of 4; 0: the largest the transfer
 * limit and Identify FWUG allow), each at its offset.
 */
VFN_API int vfn_dev_fw_download(struct vfn_dev *dev, const void *img, size_t len, size_t xfer,
				struct vfn_nvme_cqe *cqe);
/*
 * Firmware Commit of slot @fs (0..7) with commit action @ca
 * (VFN_NVME_FW_COMMIT_CA_*), boot partition @bpid.  Statuses such as
 * VFN_NVME_SC_FW_NEEDS_CONV_RESET come back as -EIO with @cqe: the image
 * was committed and activates at the reset the status names.
 */
VFN_API int vfn_dev_fw_commit(struct vfn_dev *dev, uint8_t fs, uint8_t ca, bool bpid, struct vfn_nvme_cqe *cqe);

/* Device Self-test code @stc (VFN_NVME_DST_*) on @nsid (0: controller only, 0xffffffff: all namespaces). */
VFN_API int vfn_dev_self_test(struct vfn_dev *dev, uint32_t nsid, uint8_t stc, struct vfn_nvme_cqe *cqe);

/*
 * Security Send / Receive of protocol @secp, protocol specific @spsp, NVMe
 * security specific field @nssf, on @nsid: @len bytes from / into @buf
 * (CDW11: the transfer / allocation length).
 */
VFN_API int vfn_dev_security_send(struct vfn_dev *dev, uint32_t nsid, uint8_t secp, uint16_t spsp, uint8_t nssf,
				  const void *buf, size_t len, struct vfn_nvme_cqe *cqe);
VFN_API int vfn_dev_security_recv(struct vfn_dev *dev, uint32_t nsid, uint8_t secp, uint16_t spsp, uint8_t nssf,
				  void *buf, size_t len, struct vfn_nvme_cqe *cqe);

/* Sanitize CDW10/CDW11. */
struct vfn_sanitize_args {
	uint8_t sanact;	 /* VFN_NVME_SANACT_*, 1..4 */
	bool ause;	 /* Allow Unrestricted Sanitize Exit */
	uint8_t owpass;	 /* Overwrite Pass Count, 0..15 */
	bool oipbp;	 /* Overwrite Invert Pattern Between Passes */
	bool ndas;	 /* No-Deallocate After Sanitize */
	uint32_t ovrpat; /* Overwrite Pattern */
};

/* Sanitize per @args (it runs in the background: read its progress with vfn_dev_sanitize_log()). */
VFN_API int vfn_dev_sanitize(struct vfn_dev *dev, const struct vfn_sanitize_args *args, struct vfn_nvme_cqe *cqe);

/*
 * A vfn_dev over @ctrl, a controller (VFIO or sim) the caller opened with
 * vfn_nvme_ctrl_open() and keeps owning, so that every vfn_dev_* helper of
 * this header works on it.  Admin commands only: vfn_dev_io() and queues
 * answer -ENOTSUP (no queue id of the caller's is taken).  The handle reads
 * Identify at once (info: limits, the first active namespace, if any).
 * vfn_dev_close() frees the handle and leaves @ctrl open; close it before
 * @ctrl.  -EINVAL for NULL, -ENOMEM, or Identify's error.
 */
VFN_API int vfn_dev_from_ctrl(struct vfn_nvme_ctrl *ctrl, struct vfn_dev **out);

#ifdef __cplusplus
}
#endif

#endif /* VFN_MGMT_H */
