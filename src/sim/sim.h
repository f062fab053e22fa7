/* SPDX-License-Identifier: MIT */
/*
 * The simulated NVMe controller ("sim:"): an in-process controller behind
 * the same device interface as a VFIO PCI function (src/nvme/hw.h).
 *
 * Its register window is ordinary memory that one controller thread watches:
 * it polls CC and the doorbells, fetches SQEs from host memory through a
 * software address space (IOVA -> vaddr), executes them over RAM-backed
 * namespaces, posts CQEs with the phase tag written last and signals the
 * eventfd of the CQ's interrupt vector.  All controller state below the
 * "thread only" line is touched by that thread alone; tests reach in only
 * through the fault functions, which are thread-safe.
 */
#ifndef VFN_SRC_SIM_SIM_H
#define VFN_SRC_SIM_SIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <vfn/nvme.h>
#include <vfn/spec.h>
#include <vfn/sim.h>

#include "nvme/hw.h"

#define VFN_SIM_REGS_LEN 0x4000 /* registers, then doorbells (CAP.DSTRD 0) */
#define VFN_SIM_NR_IO_QUEUES 64 /* I/O SQs and CQs the controller can grant */
#define VFN_SIM_NR_VECTORS 64	/* interrupt vectors (irq_count) */
#define VFN_SIM_MAX_DELAYED 256 /* commands held back by DELAY faults */
#define VFN_SIM_MAX_FAULTS 8
#define VFN_SIM_MAX_EVENTS 16	  /* asynchronous events waiting for an AER */
#define VFN_SIM_AERL 3		  /* Identify AERL: 4 outstanding AERs */
#define VFN_SIM_ACL 3		  /* Identify ACL */
#define VFN_SIM_ERR_LOG_ENTRIES 4 /* Identify ELPE + 1 */
#define VFN_SIM_VID 0xffff	  /* no PCI vendor: this is not a real device */

/* What the device string chose (see docs/sim.md). */
struct vfn_sim_opts {
	uint64_t nsze;	  /* logical blocks per namespace */
	uint32_t lbads;	  /* LBA data size: 2 ^ lbads bytes */
	uint32_t nn;	  /* namespaces, ids 1..nn */
	uint32_t mqes;	  /* CAP.MQES (0's based) */
	uint32_t mdts;	  /* Identify MDTS (0: no limit) */
	char sn[21];	  /* serial number */
	bool nil;	  /* I/O completes at once, no data moves */
	uint32_t ttr_ms;  /* time from CC.EN=1 to CSTS.RDY=1 */
	uint32_t ms;	  /* metadata bytes per block of LBA format 0 (0: none) */
	bool mset;	  /* FLBAS MSET: metadata at the end of each block (extended LBA) */
	uint32_t pi;	  /* DPS PI type 0..3 of LBA format 0 (needs ms >= the tuple) */
	uint32_t pif;	  /* guard format: 0 16-bit, 2 64-bit (ELBAF PIF, CTRATT.ELBAS) */
	bool pil;	  /* DPS bit 3: PI in the first bytes of metadata */
	uint32_t to;	  /* CAP.TO, 500 ms units */
	bool never_ready; /* CSTS.RDY never becomes 1 */
	uint32_t mpsmax;  /* CAP.MPSMAX: pages up to 2 ^ (12 + mpsmax) bytes */
	uint32_t sgls;	  /* Identify SGLS bits 1:0 (0: none, 1: any alignment, 2: dword granularity) */
	uint32_t rtd3e;	  /* Identify RTD3E, microseconds */
	uint32_t shn_ms;  /* time from CC.SHN to CSTS.SHST complete */
	bool zoned;	  /* every namespace is zoned (CSI 02h, zns.c) */
	uint64_t zsze;	  /* zone size, logical blocks */
	uint64_t zcap;	  /* zone capacity, logical blocks (<= zsze; 0 in the string: zsze) */
	uint32_t mor;	  /* open zones at most (0: no limit) */
	uint32_t mar;	  /* active zones at most (0: no limit) */
	bool shadow_miss; /* I/O SQ tails in shadow doorbells are missed: fetched up to the MMIO doorbell only */
	bool mptr_sgl;	  /* Identify SGLS bit 19: MPTR may hold an SGL (PSDT 10b accepted; needs sgls >= 1) */
	uint32_t zdes;	  /* zone descriptor extension size, 64-byte units (0: none) */
	uint32_t zrwasz;  /* ZRWA size, logical blocks (0: no Zone Random Write Areas) */
	uint32_t zrwafg;  /* ZRWA flush granularity, logical blocks (0 in the string: 1) */
	uint32_t numzrwa; /* ZRWA resources per namespace (0 in the string: mar, else every zone) */
	uint32_t cmb_mb;  /* a CMB of this many MiB in BAR2 (0: none) */
	bool cmb_cqs;	  /* CMBSZ.CQS: CQs may be in the CMB (default 1) */
	uint32_t vectors; /* interrupt vectors irq_count offers, 1..VFN_SIM_NR_VECTORS (default all) */
};

/*
 * Parses "sim:" followed by comma-separated key=value options into @opts
 * (defaults for what is not given).  -EINVAL (logged) for an unknown key, a
 * malformed or out-of-range value, or a string not starting with "sim:".
 */
int vfn_sim_parse_opts(const char *spec, struct vfn_sim_opts *opts);

/* ---- Fault injection: the public part is <vfn/sim.h> ---------------------- */

struct vfn_sim;

/* The simulator behind @hw, or NULL if @hw is not a simulated controller. */
struct vfn_sim *vfn_sim_from_hw(const struct vfn_nvme_hw *hw);

/*
 * PCI bus mastering (the hw bus_master op): off, the controller thread
 * starts no DMA at all (no fetch, no data, no completion, no AER) until it
 * is on again; registers still work.  Returns once the thread has applied
 * it: no DMA happens after vfn_sim_bus_master(sim, false) returns.  Kept
 * across resets (as VFIO restores the Command register after a reset).
 */
void vfn_sim_bus_master(struct vfn_sim *sim, bool on);

/* ---- Internal: controller state and what the sim files share -------------- */

/*
 * Queue sizes and indexes are 32-bit: a queue may hold 65536 entries
 * (QSIZE 0xffff, 0's based), which a uint16_t cannot.
 */
struct vfn_sim_sq {
	bool valid;
	uint64_t iova;
	uint32_t size; /* entries, 2..65536 */
	uint32_t head; /* next entry to fetch */
	uint16_t cqid;
	uint32_t db_seen; /* last tail doorbell value read */
	uint8_t qprio;	  /* QPRIO at creation: 0 urgent .. 3 low (weighted round robin) */
};

struct vfn_sim_cq {
	bool valid;
	uint64_t iova;
	uint32_t size; /* entries, 2..65536 */
	uint32_t tail; /* next slot to post to */
	uint32_t head; /* last head the host rang */
	uint8_t phase; /* phase tag of the current pass, starts at 1 */
	bool ien;
	uint16_t iv;
	uint32_t irq_pending;  /* CQEs posted since the last interrupt (IEN only) */
	uint64_t irq_since_ns; /* when the first of them was posted (coalesced CQs) */
	unsigned int nr_sqs;   /* SQs that post here */
	uint32_t db_seen;      /* last head doorbell value read */
};

struct vfn_sim_event {
	uint32_t dw0;  /* AER completion DW0: type | info << 8 | log page << 16 */
	bool maskable; /* raised by the controller (masked per type), not injected */
};

struct vfn_sim_delayed {
	bool used;
	uint16_t sqid;
	uint64_t due_ns;
	struct vfn_nvme_sqe sqe;
};

struct vfn_sim_armed_fault {
	struct vfn_sim_fault f;
	uint32_t seen; /* matching commands so far */
};

struct vfn_sim_features {
	uint32_t arbitration;
	uint32_t power_mgmt;
	uint32_t vwc;
	uint32_t irq_coalesce;
	uint32_t async_event;
	uint32_t irq_config[VFN_SIM_NR_VECTORS];
	uint16_t temp_over, temp_under; /* composite temperature thresholds, Kelvin */
	uint32_t iocs_profile;		/* I/O Command Set Profile (FID 19h): 0 NVM only, 1 NVM + Zoned */
};

struct vfn_sim_stats {
	uint64_t bytes_read, bytes_written;
	uint64_t host_reads, host_writes;
	uint64_t errors;			      /* error log entries ever made */
	uint8_t err_log[VFN_SIM_ERR_LOG_ENTRIES][64]; /* newest first */
};

#define VFN_SIM_FR "1.0"	    /* firmware revision in slot 1 (read-only) */
#define VFN_SIM_FW_SLOTS 3	    /* firmware slots */
#define VFN_SIM_FW_MAX (256 * 1024) /* largest firmware image */
#define VFN_SIM_FWUG_BYTES 4096	    /* Identify FWUG: download granularity */
#define VFN_SIM_NR_LBAF 2	    /* LBA formats (Identify NLBAF + 1) */
#define VFN_SIM_DST_RESULTS 20	    /* self-test log entries */

/* One zone of a zoned namespace (zns.c). */
struct vfn_sim_zone {
	uint64_t wp;   /* write pointer */
	uint8_t state; /* VFN_NVME_ZS_* */
	uint8_t za;    /* Zone Attributes: VFN_NVME_ZA_ZDEV, VFN_NVME_ZA_ZRWAV */
};

/* Controller management state (mgmt.c), thread only. */
struct vfn_sim_mgmt {
	bool init;
	/* firmware */
	uint8_t fw_stage[VFN_SIM_FW_MAX];  /* the image being downloaded */
	size_t fw_staged;		   /* its bytes so far */
	char fw_slot[VFN_SIM_FW_SLOTS][8]; /* revision per slot, all-zero: empty */
	uint8_t fw_active, fw_next;	   /* slots, 1-based; fw_next 0: none pending */
	/* formats: opts.lbads/ms/mset/nsze hold the current one */
	struct {
		uint8_t ds;
		uint16_t ms;
	} lbaf[VFN_SIM_NR_LBAF];
	uint8_t flbas;	   /* the format in use */
	uint64_t ns_bytes; /* data bytes per namespace, whatever the format */
	/* device self-test */
	uint8_t dst_op; /* the test running, 0: none */
	uint32_t dst_nsid;
	uint64_t dst_start_ns, dst_end_ns;
	struct vfn_nvme_st_result dst_res[VFN_SIM_DST_RESULTS]; /* newest first */
	/* sanitize */
	bool san_busy;
	uint16_t sstat, sprog;
	uint32_t scdw10;
	uint64_t san_start_ns, san_end_ns;
	uint64_t power_on_ns;
	/* namespaces: ids 1..opts.nn, each in its own memory of ns_bytes */
	uint64_t ns_size[1024]; /* data bytes of each namespace, 0: not allocated */
	bool ns_attached[1024];
	uint32_t changed[1024]; /* Changed Namespace List, 0-terminated */
	unsigned int nr_changed;
	uint8_t hostdgn;  /* telemetry host-initiated data generation number */
	uint16_t pel_gen; /* persistent event log: contexts established */
	bool pel_ctx;	  /* a persistent event log context is established */
};

struct vfn_sim {
	struct vfn_sim_opts opts;
	uint8_t *regs;		 /* VFN_SIM_REGS_LEN bytes, page-aligned */
	struct vfn_iommu *iommu; /* software address space */
	uint8_t **ns_data;	 /* opts.nn namespaces (NULL in nil mode) */
	size_t ns_bytes;
	uint8_t **ns_meta; /* their metadata, inverted (nvm-pi.c); NULL without ms */
	size_t meta_bytes;
	uint8_t *pi_buf;  /* a command's data (+ interleaved metadata), vfn_sim_max_xfer() */
	uint8_t *pi_mbuf; /* its separate metadata */
	uint8_t *scratch; /* admin data, vfn_sim_max_xfer() bytes */

	pthread_t thread;
	bool thread_running;
	int stop;		      /* atomic: the thread exits */
	uint64_t gen;		      /* atomic: controller steps done */
	int efds[VFN_SIM_NR_VECTORS]; /* atomic: eventfd per vector, -1 unrouted */
	uint32_t nr_nssr;	      /* NVM subsystem resets done (tests) */
	/* The I/O SQ of each command fetched, in order (tests of arbitration); a ring. */
	uint16_t fetch_log[256];
	uint32_t nr_fetched;

	/* Shared with the test thread, under lock. */
	pthread_mutex_t lock;
	struct vfn_sim_armed_fault faults[VFN_SIM_MAX_FAULTS];
	int nr_faults; /* atomic reads outside the lock */
	struct vfn_sim_event events[VFN_SIM_MAX_EVENTS];
	int nr_events;				/* atomic reads outside the lock */
	int fatal_req, remove_req, never_ready; /* atomic */
	int wedge;				/* atomic: vfn_sim_fault_wedge() level */
	int dma_off;				/* atomic: bus mastering off */

	/* ---- thread only ---- */
	uint64_t cap;
	uint32_t cc, csts;
	bool enabling, shutdown, fatal, removed;
	uint64_t ready_at_ns;
	uint64_t shst_at_ns; /* CSTS.SHST becomes complete then (0: not shutting down) */
	size_t page_size;    /* CC.MPS */
	struct vfn_sim_sq sqs[VFN_SIM_NR_IO_QUEUES + 1];
	struct vfn_sim_cq cqs[VFN_SIM_NR_IO_QUEUES + 1];
	uint16_t nr_io_sq, nr_io_cq; /* granted by Number of Queues */
	struct vfn_sim_features feat;
	struct vfn_sim_delayed delayed[VFN_SIM_MAX_DELAYED];
	unsigned int nr_delayed;
	struct {
		uint16_t sqid, cid;
	} aborts[VFN_SIM_ACL + 1]; /* queued commands to abort when fetched */
	unsigned int nr_aborts;
	uint64_t dbbuf_dbs, dbbuf_eis; /* Doorbell Buffer Config: shadow and EventIdx pages, 0 if none */
	uint16_t aer_cids[VFN_SIM_AERL + 1];
	unsigned int nr_aers;
	uint8_t aen_masked; /* event types reported and not yet cleared by their log page */
	uint8_t aen_lid[8]; /* per event type: the log page of the event last reported */
	bool temp_warning;  /* SMART Critical Warning bit 1: a temperature threshold is crossed */
	struct vfn_sim_stats stats;
	struct vfn_sim_mgmt mgmt;
	uint32_t cqe_dw1; /* DW1 of the completion being posted (Zone Append's ALBA high half), then 0 */
	/* zoned namespaces (zns.c): nr_zones per namespace, namespace by namespace */
	struct vfn_sim_zone *zones;
	uint64_t nr_zones;
	uint32_t *zns_open, *zns_active; /* per namespace */
	uint32_t *zns_zrwa_free;	 /* per namespace: ZRWA resources not allocated */
	uint8_t *zde;			 /* zdes x 64 bytes per zone, in the order of zones[] (NULL: zdes=0) */
	/* The CMB (opts.cmb_mb, BAR2): plain memory the controller reaches at bus address VFN_SIM_CMB_BUS. */
	uint8_t *cmb;
	size_t cmb_len;
};

#define VFN_SIM_CMB_BUS (1ull << 52) /* the CMB's bus address: above every 48-bit IOVA */

#define VFN_SIM_IRQ_CD (1u << 16) /* Interrupt Vector Configuration: Coalescing Disable */

/* Status a command handler returns when it completes later (AER). */
#define VFN_SIM_STATUS_DEFERRED 0xffffu

/* Bytes one command may move: 2 ^ MDTS pages of 4 KiB, or 1 MiB with MDTS 0. */
size_t vfn_sim_max_xfer(const struct vfn_sim *sim);

/* nvm-pi.c: metadata and PI.  Storage and bounce buffers for sim:ms= (0 or -ENOMEM; vfn_sim_pi_free() undoes). */
int vfn_sim_pi_alloc(struct vfn_sim *sim);
void vfn_sim_pi_free(struct vfn_sim *sim);
/* Read / Write of @nlb blocks at @slba (in range) with metadata; the status. */
uint16_t vfn_sim_pi_rw(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t nsid, uint64_t slba, uint64_t nlb,
		       bool write);
/* Compare with metadata: the host's blocks (checked as a write's, PRCHK) against the stored ones; the status. */
uint16_t vfn_sim_pi_compare(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t nsid, uint64_t slba,
			    uint64_t nlb);
/* The metadata of a zeroed / deallocated range: all ones (PI checks off). */
void vfn_sim_pi_zero(struct vfn_sim *sim, uint32_t nsid, uint64_t slba, uint64_t nlb);
/* Write Zeroes' metadata: PRINFO checked; PRACT=1 writes each block's PI over its zeroes. */
uint16_t vfn_sim_pi_write_zeroes(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t nsid, uint64_t slba,
				 uint64_t nlb);

/* regs.c: one pass of the controller; true if anything happened. */
bool vfn_sim_step(struct vfn_sim *sim);
/* regs.c: the power-on register and controller state. */
void vfn_sim_power_on(struct vfn_sim *sim);
/* regs.c: controller reset (CC.EN 1 -> 0): queues, AERs, delayed commands gone. */
void vfn_sim_ctrl_reset(struct vfn_sim *sim);

/* queue.c: processes doorbells and due delayed commands; true if anything happened. */
bool vfn_sim_queues_step(struct vfn_sim *sim);
/* queue.c: posts a completion for @cid of @sqid (with any wrong cid/phase applied by the caller). */
void vfn_sim_post(struct vfn_sim *sim, uint16_t sqid, uint16_t cid, uint32_t dw0, uint16_t status);
/* queue.c: zeroes the doorbells of queue @qid (creation, deletion) or all of them (@all). */
void vfn_sim_doorbells_clear(struct vfn_sim *sim, uint16_t qid, bool all);
/*
 * queue.c: with a Doorbell Buffer configured, sets the shadow doorbell of
 * I/O queue @qid (already set up: its size is known) to the queue's current
 * value and its EventIdx one entry behind it, modulo the queue size (the
 * controller polls shadows, so the host never needs the MMIO write).
 */
void vfn_sim_dbbuf_init(struct vfn_sim *sim, uint16_t qid, bool cq);
/* queue.c: true if @cid is among the entries of @sqid the host queued but the controller has not fetched. */
bool vfn_sim_sq_holds(struct vfn_sim *sim, uint16_t sqid, uint16_t cid);
/* queue.c: true if the CQ of @sqid has a free slot. */
bool vfn_sim_cq_has_room(const struct vfn_sim *sim, uint16_t sqid);
/*
 * queue.c: signals the vector of every CQ posted to since its last interrupt,
 * at once for the admin CQ and uncoalesced vectors, else once more than
 * Interrupt Coalescing THR entries are pending or TIME has passed since the
 * first of them.
 */
void vfn_sim_irqs_flush(struct vfn_sim *sim);

/* admin.c: the default temperature thresholds (over: WCTEMP, under: 0) and the warning they give. */
void vfn_sim_temp_default(struct vfn_sim *sim);
/* admin.c: executes an admin command; a status, or VFN_SIM_STATUS_DEFERRED. */
uint16_t vfn_sim_admin_exec(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t *dw0);
/* qmgmt.c: Create/Delete I/O CQ/SQ, Abort, Asynchronous Event Request; statuses. */
uint16_t vfn_sim_create_cq(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe);
uint16_t vfn_sim_create_sq(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe);
uint16_t vfn_sim_delete_cq(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe);
uint16_t vfn_sim_delete_sq(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe);
uint16_t vfn_sim_abort(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t *dw0);
uint16_t vfn_sim_aer(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe);
uint16_t vfn_sim_dbbuf_config(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe);
/*
 * qmgmt.c: completes outstanding AERs with the oldest waiting events that
 * are not masked (masking the type of a maskable one); true if any completed.
 */
bool vfn_sim_aer_step(struct vfn_sim *sim);
/*
 * fault.c: queues an event for the next AER; a @maskable one (raised by the
 * controller) waits while its type is masked and masks it once reported.
 * -ENOSPC if VFN_SIM_MAX_EVENTS are already waiting.
 */
int vfn_sim_event_queue(struct vfn_sim *sim, uint8_t type, uint8_t info, uint8_t lid, bool maskable);
/* qmgmt.c: Get Log Page @lid without RAE: unmasks the event types last reported with that page. */
void vfn_sim_aen_clear(struct vfn_sim *sim, uint8_t lid);

/* mgmt.c: at power-on and every controller reset: a pending firmware slot activates, a self-test ends. */
void vfn_sim_mgmt_reset(struct vfn_sim *sim);
/* mgmt.c: Identify Controller / Namespace fields of the management state (FR, OACS, FRMW, formats, ...). */
void vfn_sim_mgmt_id_ctrl(struct vfn_sim *sim, struct vfn_nvme_id_ctrl *id);
void vfn_sim_mgmt_id_ns(struct vfn_sim *sim, uint32_t nsid, struct vfn_nvme_id_ns *id);
/* mgmt.c: the log page Get Log Page @cdw10 asks for (firmware slot, self-test, sanitize, ...) into @log (4096 bytes), its size to *@len; false: not mgmt's. */
bool vfn_sim_mgmt_log(struct vfn_sim *sim, uint32_t cdw10, uint8_t *log, size_t *len);
/* mgmt.c: power-on hours since the simulator started. */
uint64_t vfn_sim_mgmt_poh(const struct vfn_sim *sim);
/* mgmt.c: the status a command gets while a sanitize runs (0: let it run). */
uint16_t vfn_sim_mgmt_gate(struct vfn_sim *sim, uint16_t sqid, const struct vfn_nvme_sqe *sqe);
/* mgmt.c: namespace @nsid (1..opts.nn) is allocated and attached; its size in logical blocks. */
bool vfn_sim_ns_active(const struct vfn_sim *sim, uint32_t nsid);
uint64_t vfn_sim_ns_nsze(const struct vfn_sim *sim, uint32_t nsid);
/* mgmt.c: Identify CNS 10h-13h (allocated namespaces, controller lists) into @id; false: not mgmt's. */
bool vfn_sim_mgmt_identify(struct vfn_sim *sim, uint8_t cns, uint32_t nsid, uint8_t *id, uint16_t *status);
/* mgmt.c: executes a management admin command into *@status; false: not mgmt's. */
bool vfn_sim_mgmt_exec(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t *dw0, uint16_t *status);

/* nvm.c: executes an NVM (or Zoned) command set command; returns its status, DW0 to *@dw0. */
uint16_t vfn_sim_nvm_exec(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t *dw0);
/* nvm.c: zeroes @len bytes of namespace memory at @p, giving whole pages back (they read as zeros). */
void vfn_sim_ns_zero(uint8_t *p, size_t len);
/* nvm.c: Read / Write (per @sqe's opcode) without zone checks; the status. */
uint16_t vfn_sim_nvm_rw(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t nsid);

/* zns.c: zone state for sim:zoned=1 (0, -EINVAL for too many zones, -ENOMEM); vfn_sim_zns_free() undoes. */
int vfn_sim_zns_alloc(struct vfn_sim *sim);
void vfn_sim_zns_free(struct vfn_sim *sim);
/* zns.c: every zone Empty at its start again, no open or active zone (after Format NVM, Sanitize). */
void vfn_sim_zns_format(struct vfn_sim *sim);
/* zns.c: before a write of @nlb at @slba: state, write pointer and boundary checks, implicit open; a status. */
uint16_t vfn_sim_zns_write_begin(struct vfn_sim *sim, uint32_t nsid, uint64_t slba, uint64_t nlb);
/* zns.c: after it succeeded: the write pointer advances, a zone at its capacity becomes Full. */
void vfn_sim_zns_write_end(struct vfn_sim *sim, uint32_t nsid, uint64_t slba, uint64_t nlb);
/* zns.c: Zone Management Send / Receive and Zone Append into *@status; false: not a zone command. */
bool vfn_sim_zns_exec(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t nsid, uint32_t *dw0,
		      uint16_t *status);
/* zns.c: the ZNS Identify Namespace (CNS 05h, CSI 02h) fields. */
void vfn_sim_zns_id_ns(const struct vfn_sim *sim, struct vfn_nvme_id_ns_zns *id);

/* dma.c: host memory at @iova if @len bytes are mapped contiguously there, else NULL. */
void *vfn_sim_dma_ptr(struct vfn_sim *sim, uint64_t iova, size_t len);
/*
 * dma.c: moves @len bytes between @buf and the command's data pointer (PRP
 * or SGL per PSDT; @admin: PRP only), to the host if @to_host.  Returns a
 * status: Invalid Field (bad PSDT), Invalid PRP Offset, the SGL statuses,
 * Data Transfer Error (unmapped memory).
 */
uint16_t vfn_sim_dma_xfer(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, bool admin, uint8_t *buf, size_t len,
			  bool to_host);
/*
 * dma.c: moves @len bytes of separate metadata between @buf and MPTR: a
 * contiguous buffer, or with PSDT 10b (sim option mptr_sgl) the SGL whose
 * one descriptor MPTR addresses (qword aligned, else Invalid Field).
 * Returns Data Transfer Error (unmapped memory), the SGL statuses, with
 * Metadata SGL Length Invalid (0x10) for lengths not matching @len.
 */
uint16_t vfn_sim_dma_xfer_meta(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint8_t *buf, size_t len,
			       bool to_host);

/* fault.c: what to do with a fetched command. */
enum vfn_sim_verdict {
	VFN_SIM_RUN, /* execute and complete normally */
	VFN_SIM_RUN_WRONG_CID,
	VFN_SIM_RUN_WRONG_PHASE,
	VFN_SIM_DROP,	/* execute, post nothing */
	VFN_SIM_STATUS, /* *status set */
	VFN_SIM_DELAY,	/* *delay_ms set */
};
enum vfn_sim_verdict vfn_sim_fault_check(struct vfn_sim *sim, uint16_t sqid, uint8_t opcode, uint16_t *status,
					 uint32_t *delay_ms);
/*
 * fault.c: waits until the controller thread has finished two more steps
 * (one whole step begun after the call); at once if it is not running.
 */
void vfn_sim_sync(struct vfn_sim *sim);
/* fault.c: applies fatal/remove requests from the test thread (thread only). */
bool vfn_sim_fault_apply(struct vfn_sim *sim);

#endif
