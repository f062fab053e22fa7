/* SPDX-License-Identifier: MIT */
/*
 * vfn dev: one device handle over every path to an NVMe controller.
 *
 *   "0000:01:00.0"              VFIO (the controller bound to vfio-pci)
 *   "/dev/nvme0"                the kernel nvme driver, controller node
 *   "/dev/ng0n1", "/dev/nvme0n1" the kernel nvme driver, namespace nodes
 *   "sim:..."                   the simulated controller
 *
 * A backend table decides which backend takes a string (docs/dev.md).  The
 * command-level API below is the same on every backend; what only VFIO and
 * the simulator can do (registers, raw queues, interrupts) is reached
 * through vfn_dev_nvme_ctrl(), which answers NULL on the kernel path.
 *
 * Buffers: the synchronous calls take any memory (on VFIO/sim memory that
 * is not all DMA-mapped is bounced through a temporary DMA buffer; on the
 * kernel path memory the kernel would bounce, through a copy of vfn's);
 * the asynchronous vfn_dev_submit() needs memory from vfn_dev_buf_alloc()
 * on VFIO/sim (-EFAULT otherwise) and takes any memory on the kernel path.
 * A handle and its queues are not thread-safe: one thread drives each.
 *
 * Commands: @sqe's command id, data pointer (PRP1/PRP2 or SGL, and PSDT)
 * and metadata pointer are vfn's on every backend: filled in for @buf, and
 * cleared when there is no data.  A completion the controller did not give
 * (the command was refused, never sent, timed out, or the controller
 * failed) is made up by vfn: status Command Aborted By Host (SCT 3h, SC
 * 71h: VFN_NVME_SC_HOST_ABORTED), DW0/DW1 0; its errno says why.
 */
#ifndef VFN_DEV_H
#define VFN_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

#include <vfn/nvme.h>
#include <vfn/support.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vfn_dev;
struct vfn_dev_queue;

/* Which backend drives a handle. */
enum vfn_dev_backend {
	VFN_DEV_VFIO,	/* vfio-pci + vfn's own NVMe driver */
	VFN_DEV_KERNEL, /* the Linux nvme driver's passthrough */
	VFN_DEV_SIM,	/* the simulated controller */
};

struct vfn_dev_opts {
	const char *backend; /* "vfio", "kernel" or "sim" forces one; NULL: the table decides */
	uint32_t nsid;	     /* namespace for the geometry; 0: the node's, else the first active */
	uint32_t timeout_ms; /* default command timeout, also vfn_dev_wait()'s; 0: 30000 (vfio/sim),
				the driver's nvme_core.io_timeout (kernel) */
	const struct vfn_nvme_ctrl_opts *ctrl_opts; /* vfio/sim bring-up options; may be NULL */
};

/*
 * Identity and geometry, derived once at open from Identify Controller and
 * Identify Namespace (docs/dev.md says which backend fills each field how).
 */
struct vfn_dev_info {
	enum vfn_dev_backend backend;
	char backend_name[8]; /* "vfio", "kernel", "sim" */
	char name[64];	      /* canonical device: the BDF, the node path, the sim string (cut) */
	char sn[21];	      /* Serial Number, trailing spaces removed */
	char mn[41];	      /* Model Number, trailing spaces removed */
	char fr[9];	      /* Firmware Revision, trailing spaces removed */
	uint16_t vid;
	uint16_t cntlid;
	uint32_t ver;
	uint32_t nn;	     /* Number of Namespaces */
	uint32_t nsid;	     /* the namespace the geometry is of; 0: none active */
	uint64_t nsze;	     /* Namespace Size, logical blocks */
	uint64_t ncap;	     /* Namespace Capacity, logical blocks */
	uint32_t lba_size;   /* bytes per logical block */
	uint8_t flbas;	     /* LBA format index in use */
	uint8_t nlbaf;	     /* Number of LBA Formats (0's based) */
	uint16_t ms;	     /* metadata bytes per block (vfn_dev_read/write
				refuse a format with metadata: -ENOTSUP) */
	bool mset;	     /* FLBAS bit 4 (MSET): metadata at the end of each
				block's data (an extended LBA); false: in a
				separate buffer */
	uint8_t pi_type;     /* DPS bits 2:0: end-to-end protection type 0 (none), 1, 2, 3 */
	bool pi_first;	     /* DPS bit 3: the PI tuple is in the first bytes of
				the metadata; false: in the last */
	uint8_t pif;	     /* guard format (VFN_PI_PIF_*, vfn/pi.h) from the NVM
				Identify Namespace's ELBAF when CTRATT.ELBAS is
				set; else 0, the 16-bit guard */
	uint32_t block_size; /* data + metadata bytes of one block (lba_size + ms) */
	size_t max_xfer;     /* bytes one command may move; 0: no limit */
	uint32_t max_queues; /* queues that may be open at once (vfn_dev_io() takes one on
				VFIO/sim); 0: no limit */
	uint32_t max_qd;     /* commands in flight one queue may hold */
	bool io;	     /* I/O commands can be sent (false on /dev/nvmeN) */
	char iommu[24];	     /* the DMA address space: "iommufd", "type1", "type1 (iommufd
				compat)" (vfio), "soft" (sim), "" (kernel: the driver's) */
	/*
	 * Appended: the zone geometry when namespace nsid is zoned (its CSI
	 * is 02h), as vfn_dev_zns_info() (<vfn/zns.h>) gives it, read at open
	 * and by every refresh of the namespace; all 0 otherwise.  On a zoned
	 * namespace, opening a VFIO / sim handle therefore also sets up the
	 * queue pair vfn_dev_io() uses (for the one-zone report of zone_cap).
	 */
	bool zoned;		   /* the namespace is zoned */
	uint64_t zone_size;	   /* ZSZE of the LBA format in use, logical blocks */
	uint64_t zone_cap;	   /* the first zone's capacity, logical blocks (0: unreadable, e.g. /dev/nvmeN) */
	uint64_t nr_zones;	   /* nsze / zone_size */
	uint32_t max_open_zones;   /* MOR + 1; 0: no limit */
	uint32_t max_active_zones; /* MAR + 1; 0: no limit */
	uint32_t zde_size;	   /* zone descriptor extension bytes (ZDES x 64); 0: none */
	uint32_t zrwa_size;	   /* Zone Random Write Area size (ZRWASZ), logical blocks; 0: no ZRWA */
	uint32_t zrwa_fg;	   /* ZRWA flush granularity (ZRWAFG), logical blocks */
	uint32_t nr_zrwa;	   /* ZRWA resources (NUMZRWA + 1) */
};

/* Completion of an asynchronous command: @ret 0, -EIO (status in @cqe) or -errno (see vfn_dev_poll()). */
typedef void (*vfn_dev_cb)(void *arg, int ret, const struct vfn_nvme_cqe *cqe);

/*
 * Opens @uri through the backend that claims it (or opts->backend) and
 * identifies it.  @opts may be NULL.  When no backend takes @uri, the log
 * says why each declined.  Free with vfn_dev_close().
 * Errors: -EINVAL (no backend claims the string, unknown opts->backend, bad
 * sim: options, a partition, opts->nsid other than a namespace node's),
 * -ENODEV (a BDF not bound to vfio-pci, a device that is not NVMe),
 * -ENOENT (a missing path, or opts->nsid not active), -EISDIR, -ENOTTY,
 * -ELOOP (a symbolic link: give the node itself), -EACCES, -ENOMEM, or the
 * open/Identify error of the backend.  *@out untouched on failure.
 * Claim order: a PCI address (vfio), "sim:" (sim, whatever follows), any
 * other string with a '/' (kernel; write a path starting with "sim:" as
 * "./sim:...").
 */
VFN_API int vfn_dev_open(const char *uri, const struct vfn_dev_opts *opts, struct vfn_dev **out);

/*
 * Closes the device.  Queues still open are torn down with it, as
 * vfn_dev_queue_destroy() would (their commands dropped); their handles
 * stay valid only for vfn_dev_queue_destroy(), which frees them, and
 * answer -ENODEV to vfn_dev_submit/poll/wait meanwhile.  NULL is ignored.
 */
VFN_API void vfn_dev_close(struct vfn_dev *dev);

/* Identity and geometry (owned by @dev). */
VFN_API const struct vfn_dev_info *vfn_dev_get_info(const struct vfn_dev *dev);

/*
 * The controller underneath for VFIO and the simulator (borrowed): register
 * access, raw queues, interrupts.  On the kernel path: NULL, logged, and
 * errno set to ENOTSUP.
 */
VFN_API struct vfn_nvme_ctrl *vfn_dev_nvme_ctrl(struct vfn_dev *dev);

/*
 * Sends the admin command @sqe with @len bytes at @buf (any memory, may be
 * NULL/0; direction from the opcode) and waits.  @sqe's cid, data and
 * metadata pointers are vfn's (none when @len is 0).  @timeout_ms 0: the
 * default.  Returns 0, -EIO (error status, see @cqe; also CSTS.CFS on
 * VFIO/sim), -ETIMEDOUT, -ENODEV (device gone), -ECANCELED (controller
 * failed), -EINVAL, -ENOMEM, or the kernel's -errno.
 *
 * @cqe (may be NULL) is always written: the controller's completion when
 * it completed the command (0, or -EIO with its error status), else the
 * made-up one (status VFN_NVME_SC_HOST_ABORTED).
 *
 * @buf receives data only when the controller completed the command, and
 * only what it wrote: after an error status the bytes it did not write,
 * and after any other error all of @buf, are as they were (memory from
 * vfn_dev_buf_alloc() on VFIO/sim excepted: the device writes it directly,
 * and a command given up on (-ETIMEDOUT) may still write it later).  A
 * bounce buffer whose command was sent and not completed is kept until the
 * device cannot reach it any more: freed once the controller owes vfn no
 * completion on that queue, or at vfn_dev_close().
 *
 * After Format NVM, Namespace Management or Namespace Attachment (completed,
 * failed with a status, or timed out) the handle's geometry is read again
 * (vfn_dev_get_info(); other namespaces' kept geometry is forgotten), so
 * that vfn_dev_rw() sizes transfers by the format now in use.
 */
VFN_API int vfn_dev_admin(struct vfn_dev *dev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len,
			  struct vfn_nvme_cqe *cqe, uint32_t timeout_ms);

/*
 * Sends the I/O command @sqe and waits, as vfn_dev_admin() (the same
 * completion and buffer contract).  On VFIO/sim it goes on a queue pair
 * created at the first call.  -ENOTSUP on a kernel controller node
 * (/dev/nvmeN: use a namespace node).
 */
VFN_API int vfn_dev_io(struct vfn_dev *dev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len,
		       struct vfn_nvme_cqe *cqe, uint32_t timeout_ms);

/*
 * Read / Write @nlb (1..65536) blocks of @nsid from @slba (@nlb * lba_size
 * bytes at @buf, which must fit the transfer limit) / Flush @nsid.
 * Returns as vfn_dev_io(); -EINVAL for a bad @nlb or a too large transfer;
 * -ENOTSUP, sending nothing, when the namespace is formatted with metadata
 * (info->ms != 0: these do not size or carry metadata; vfn_dev_rw() does,
 * and vfn_dev_io() sends such commands as given).  An @nsid other than
 * info->nsid goes by its own geometry (block size, metadata, PI), read with
 * Identify Namespace at its first use and kept until a format or namespace
 * change through the handle; a namespace that is not active is sent as
 * info->nsid's and the controller answers for it; when that Identify
 * fails otherwise (timeout, another error status) nothing is sent: -EIO.
 * The same holds for vfn_dev_rw().
 */
VFN_API int vfn_dev_read(struct vfn_dev *dev, uint32_t nsid, uint64_t slba, uint32_t nlb, void *buf);
VFN_API int vfn_dev_write(struct vfn_dev *dev, uint32_t nsid, uint64_t slba, uint32_t nlb, const void *buf);
VFN_API int vfn_dev_flush(struct vfn_dev *dev, uint32_t nsid);

/* Metadata and end-to-end protection of one vfn_dev_rw() (constants in vfn/pi.h). */
struct vfn_dev_rw_opts {
	void *meta;	   /* separate metadata (info->mset false, metadata moving): nlb x
			      info->ms bytes; from vfn_dev_buf_alloc() on vfio/sim (or
			      mapped memory across mappings: then the data and metadata
			      go as SGLs if the controller takes metadata SGLs) */
	size_t meta_len;   /* bytes at @meta */
	uint8_t prinfo;	   /* PRINFO: VFN_PI_PRACT | VFN_PI_PRCHK_* (CDW12 bits 29:26) */
	uint64_t ref_tag;  /* initial reference tag: CDW14, bits 47:32 in CDW3 (64-bit guard);
			      wider than 32 (48) bits on a PI namespace: -EINVAL */
	uint16_t app_tag;  /* CDW15 bits 15:0 */
	uint16_t app_mask; /* CDW15 bits 31:16 */
	bool fua;	   /* Force Unit Access (CDW12 bit 30) */
};

/*
 * Read, Write, Compare or Write Zeroes (@opcode: VFN_NVME_CMD_*) of @nlb
 * (1..65536) blocks of @nsid from @slba on a namespace with or without
 * metadata.  @buf holds @len bytes: at least @nlb x info->lba_size, or @nlb x
 * info->block_size on an extended-LBA namespace whose metadata moves (it
 * does not with PRACT when the metadata is only the PI tuple: the
 * controller inserts / strips it); none for Write Zeroes.  A separate
 * metadata buffer goes in opts->meta.  @opts may be NULL.  Returns as
 * vfn_dev_io() (a PI check failure: -EIO with its status in @cqe, e.g.
 * VFN_PI_SC_REF_TAG); -EINVAL, sending nothing, for a bad @opcode or @nlb,
 * @len or opts->meta_len short of what the command moves, a metadata buffer
 * missing or not wanted, PRINFO on a namespace without PI, or a transfer
 * over the limit.
 */
VFN_API int vfn_dev_rw(struct vfn_dev *dev, uint8_t opcode, uint32_t nsid, uint64_t slba, uint32_t nlb, void *buf,
		       size_t len, const struct vfn_dev_rw_opts *opts, struct vfn_nvme_cqe *cqe);

/* Identify @cns for @nsid into @buf (VFN_NVME_IDENTIFY_DATA_SIZE bytes); as vfn_dev_admin(). */
VFN_API int vfn_dev_identify(struct vfn_dev *dev, uint8_t cns, uint32_t nsid, void *buf, struct vfn_nvme_cqe *cqe);

/* Get Log Page @lid for @nsid, @len (4..) bytes from byte @offset into @buf; as vfn_dev_admin(). */
VFN_API int vfn_dev_get_log(struct vfn_dev *dev, uint8_t lid, uint32_t nsid, uint64_t offset, void *buf, size_t len);

/* Get / Set Features @fid; DW0 of the completion to @result (may be NULL); as vfn_dev_admin(). */
VFN_API int vfn_dev_get_features(struct vfn_dev *dev, uint8_t fid, uint32_t nsid, uint32_t cdw11, uint32_t *result,
				 void *buf, size_t len);
VFN_API int vfn_dev_set_features(struct vfn_dev *dev, uint8_t fid, uint32_t nsid, uint32_t cdw11, uint32_t *result,
				 void *buf, size_t len);

/*
 * Up to @max active namespace ids greater than @start into @nsids, in
 * increasing order (at most 1024 per call).  Returns how many, or as
 * vfn_dev_admin().
 */
VFN_API int vfn_dev_ns_list(struct vfn_dev *dev, uint32_t start, uint32_t *nsids, int max);

/*
 * Allocates @len bytes of zeroed I/O memory usable by every call on @dev
 * (DMA-mapped on VFIO/sim, page-aligned on the kernel path).  Returns the
 * rounded length, or -ENOMEM / a mapping error.  Free with vfn_dev_buf_free().
 */
VFN_API ssize_t vfn_dev_buf_alloc(struct vfn_dev *dev, size_t len, void **buf);

/* Frees memory from vfn_dev_buf_alloc() (@len as returned). NULL is ignored. */
VFN_API void vfn_dev_buf_free(struct vfn_dev *dev, void *buf, size_t len);

/*
 * Creates an asynchronous I/O queue of @depth (1..info->max_qd) commands:
 * an I/O queue pair on VFIO/sim; an io_uring passthrough ring on
 * /dev/ngXnY, or synchronous ioctls when the kernel has no io_uring
 * passthrough or the node is a block device.  Errors: -EINVAL, -ENOTSUP
 * (kernel controller node; a vfn_dev_from_ctrl() handle: max_qd 0),
 * -EBUSY (no queue id left), -ENOMEM, or the backend's.  Destroy with vfn_dev_queue_destroy() before vfn_dev_close().
 */
VFN_API int vfn_dev_queue_create(struct vfn_dev *dev, uint32_t depth, struct vfn_dev_queue **out);

/*
 * Destroys @q; commands still in flight are dropped (their callbacks never
 * run).  VFIO/sim: the queue pair is deleted on the controller; io_uring:
 * it first waits, up to the handle's timeout, for the commands the kernel
 * took (the device may still move their data), then closes the ring.
 * Also frees the handle of a queue torn down by vfn_dev_close().  NULL is
 * ignored.
 */
VFN_API void vfn_dev_queue_destroy(struct vfn_dev_queue *q);

/*
 * Queues the I/O command @sqe (copied; cid, data and metadata pointers are
 * vfn's) on @len bytes at @buf; @cb (not NULL) runs with @arg from
 * vfn_dev_poll()/vfn_dev_wait() when it completes; it may submit, but not
 * poll the same queue.  No allocation, no lock; no system call except on
 * the ioctl fallback (which runs the command here).  Returns 0, -EBUSY
 * (@depth commands in flight), -EFAULT (VFIO/sim: @buf not from
 * vfn_dev_buf_alloc()), -EINVAL (also VFIO/sim: @buf running past the end
 * of its allocation, or @len beyond the transfer limit), -ENODEV (the
 * handle was closed).
 */
VFN_API int vfn_dev_submit(struct vfn_dev_queue *q, const struct vfn_nvme_sqe *sqe, void *buf, size_t len,
			   vfn_dev_cb cb, void *arg);

/*
 * vfn_dev_submit() with a separate metadata buffer of @meta_len bytes at
 * @meta (both NULL/0 or both set), for a namespace formatted with separate
 * metadata (vfn_dev_info ms, !mset): VFIO/sim put its IOVA in MPTR (one
 * contiguous buffer from vfn_dev_buf_alloc()), or, for mapped memory that
 * crosses mappings, describe data and metadata with SGLs (MPTR an SGL,
 * PSDT 10b) when the controller reports SGLs and SGLS bit 19, else
 * -EFAULT; the kernel
 * path passes it as the command's metadata/metadata_len (io_uring, or the
 * ioctl fallback).  PRINFO and the tags are the caller's, in @sqe (CDW12
 * bits 29:26, CDW3/14/15; see <vfn/pi.h>).  Returns as vfn_dev_submit().
 */
VFN_API int vfn_dev_submit_meta(struct vfn_dev_queue *q, const struct vfn_nvme_sqe *sqe, void *buf, size_t len,
				void *meta, size_t meta_len, vfn_dev_cb cb, void *arg);

/*
 * Hands the queued commands to the device and reaps up to @max (0: all)
 * completions, calling their callbacks; does not wait.  (On io_uring the
 * kernel may take only part of a batch: the rest goes with the next poll.)
 * Returns how many callbacks ran, or -errno (-ENODEV: the handle was
 * closed).
 *
 * A callback's @ret is 0, -EIO (the controller's error status in @cqe),
 * or a -errno with the made-up completion (status VFN_NVME_SC_HOST_ABORTED):
 * -ETIMEDOUT, -ECANCELED, -ENODEV when vfn's driver gave up on the command,
 * the kernel's -errno on the kernel path.
 */
VFN_API int vfn_dev_poll(struct vfn_dev_queue *q, uint32_t max);

/*
 * As vfn_dev_poll(), but when nothing is there yet waits for at least one
 * completion (in the kernel on the io_uring path, spinning otherwise), at
 * most the handle's timeout (opts->timeout_ms; on the kernel path 0 means
 * the driver's nvme_core.io_timeout).  Returns how many callbacks ran: at
 * least 1, or 0 only when nothing is in flight; -ETIMEDOUT when the timeout
 * passed without a completion (the commands stay in flight and their
 * buffers the device's: on the kernel path the driver ends each at its
 * timeout, which every command carries, and a later wait reaps it), or
 * -errno.
 */
VFN_API int vfn_dev_wait(struct vfn_dev_queue *q, uint32_t max);

/*
 * What carries @q's commands: "qpair" (VFIO/sim), "io_uring" (kernel
 * URING_CMD), "ioctl" (the kernel fallback), or "closed" (its handle was
 * closed).  Never NULL.
 */
VFN_API const char *vfn_dev_queue_path(const struct vfn_dev_queue *q);

/* Commands submitted and not completed yet. */
VFN_API uint32_t vfn_dev_queue_inflight(const struct vfn_dev_queue *q);

#ifdef __cplusplus
}
#endif

#endif /* VFN_DEV_H */
