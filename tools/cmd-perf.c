/* SPDX-License-Identifier: MIT */
/*
 * vfn perf: a benchmark in the spirit of spdk_nvme_perf, written against
 * the public request API exactly as docs/io.md tells users to use it: one
 * queue pair per queue, requests with callbacks, batches posted with one
 * doorbell, completions reaped in batches.  One thread drives every queue.
 *
 * Per I/O there is no allocation and no system call (polling mode): each
 * request slot owns a DMA buffer allocated before the run, LBAs come from
 * xorshift64, and latency is stamped once per submit batch and once per
 * reap batch with a cheap clock (the TSC on x86, calibrated against
 * CLOCK_MONOTONIC over the measured interval).
 *
 * On a node of the kernel nvme driver (/dev/ngXnY, /dev/nvmeXnY) the same
 * loop runs over a vfn_dev queue instead (io_uring URING_CMD, or the I/O
 * ioctl where the kernel has no io_uring passthrough): submissions are
 * queued without a system call and, with one queue, handed to the kernel
 * in the io_uring_enter that also waits for the next completion.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define PERF_HAVE_CALLGRIND 1
#endif
#endif
#ifndef PERF_HAVE_CALLGRIND
#define PERF_HAVE_CALLGRIND 0
#endif

#include <vfn/vfn.h>

#include "cli.h"
#include "histogram.h"
#include "perf.h"
#include "perf-blk.h"
#include "verify.h"

#define PERF_USAGE                                                                                                      \
	"DEVICE [-w randread|randwrite|read|write|randrw] [-M PCT] [-s BYTES] [-q QD] [-c QUEUES] [-t SEC]"             \
	" [--warmup SEC] [-n NSID] [--irq|--poll] [--batch N] [--shadow-doorbells auto|on|off] [--no-shadow-doorbells]" \
	" [--clock tsc|monotonic]"                                                                                      \
	" [--cq-head lazy|reap] [--no-latency] [--count-driver] [--map-per-io] [--sqe-per-io] [--cmdlog N] [--verify]"  \
	" [--cmb sq|data] [--pi]"                                                                                       \
	" [-o normal|json]"
#define PERF_DRAIN_NS 10000000000ull /* in-flight commands must complete within 10 s after the run */
#define PERF_IDLE_CHECK 1024u	     /* empty polls between clock reads */
#define PERF_NOLAT_CHECK 64u	     /* --no-latency: reaping passes between clock reads */

enum perf_rw {
	PERF_RANDREAD,
	PERF_RANDWRITE,
	PERF_READ,
	PERF_WRITE,
	PERF_RANDRW
};

static const char *const perf_rw_names[] = { "randread", "randwrite", "read", "write", "randrw" };

enum perf_mode {
	PERF_MODE_AUTO, /* neither --irq nor --poll given: polling (docs/perf.md) */
	PERF_MODE_POLL,
	PERF_MODE_IRQ
};

enum perf_shadow {
	PERF_SHADOW_AUTO,
	PERF_SHADOW_ON,
	PERF_SHADOW_OFF
};

enum perf_cmb {
	PERF_CMB_OFF,
	PERF_CMB_SQ,
	PERF_CMB_DATA
};

static const char *const perf_cmb_names[] = { "off", "sq", "data" };

struct perf_opts {
	const char *dev;
	enum perf_rw rw;
	unsigned int rwmix_read; /* percent of reads for randrw */
	uint32_t bs;
	uint32_t qd;
	uint32_t nr_queues;
	uint32_t time_s;
	uint32_t warmup_s;
	uint32_t nsid;
	uint32_t batch;		 /* completions reaped at most before resubmitting; 0: all */
	uint32_t cmdlog;	 /* commands each queue's log keeps, dumped at exit; 0: off */
	bool irq;		 /* resolved from @mode at open */
	enum perf_mode mode;	 /* --poll, --irq, or auto */
	enum perf_shadow shadow; /* shadow doorbells: auto (by controller), on, off */
	bool tsc;
	bool nsid_given;   /* -n on the command line */
	bool count_driver; /* callgrind collects only in the driver's calls */
	bool map_per_io;   /* vfn_rq_map_iova() per command, not once per slot */
	bool sqe_per_io;   /* --sqe-per-io: the command built in the counted region too (implies map_per_io) */
	bool verify;	   /* pattern in every write, every read checked */
	bool cq_head_reap; /* --cq-head reap: CQ head doorbell after every reap that consumed something */
	bool no_latency;   /* --no-latency: no clock reads per batch, no histogram */
	bool pi;	   /* --pi: PRACT writes (the controller generates PI), PRACT + PRCHK reads */
	enum out_fmt fmt;
	enum perf_cmb cmb; /* --cmb: the SQs or the data buffers in the controller memory buffer */
};

struct perf_job;
struct perf_queue;

struct perf_slot {
	struct perf_queue *q;
	void *buf;
	uint64_t iova;	   /* of its buffer, kept from vfn_dma_alloc() */
	uint64_t t_submit; /* clock ticks */
	/*
	 * Its buffer's data pointer, mapped once before the run when the
	 * buffer lies in one memory page (PRP1 only, no per-request list);
	 * else each I/O maps it.
	 */
	bool premapped;
	struct vfn_nvme_sqe dptr;
	/* --verify: the I/O in flight, on slot @vslot of the namespace */
	bool vwrite;
	uint32_t vgen; /* written, or expected */
	uint64_t vslot;
};

struct perf_queue {
	struct perf_job *job;
	struct vfn_nvme_qpair *qp; /* VFIO, sim */
	struct vfn_dev_queue *dq;  /* the kernel path */
	struct perf_slot *slots;
	struct perf_slot **ready; /* completed slots waiting to be submitted again */
	uint32_t nr_ready;
	void *mem;
	size_t mem_len;
	bool cmb;	   /* mem is in the controller memory buffer (--cmb data) */
	uint64_t rng;	   /* xorshift64 state */
	uint64_t next_lba; /* sequential workloads */
	uint64_t submitted;
	uint64_t completed;
};

struct perf_job {
	struct perf_opts o;
	struct vfn_dev *dev;
	struct vfn_nvme_ctrl *ctrl; /* NULL on the kernel path */
	struct vfn_nvme_ns_info ns;
	struct perf_queue *queues;
	uint32_t nlb;	   /* blocks per I/O */
	uint64_t nr_slots; /* I/O-sized slots in the namespace */
	uint64_t now;	   /* clock at the start of the current reap batch */
	bool measuring;	   /* completions count */
	bool stopping;	   /* no new submissions */
	uint64_t ios;	   /* completed while measuring */
	uint64_t errors;   /* completions with an error status, whole run */
	uint16_t first_error;
	int first_errno;     /* kernel path: the first failure that was not an NVMe status */
	int epfd;	     /* --irq: every queue's eventfd */
	double ns_per_tick;  /* clock calibration */
	uint64_t t_start[2]; /* measured interval: ticks, CLOCK_MONOTONIC ns */
	uint64_t t_end[2];
	struct hist hist; /* latency, ticks */
	/* --verify, whole run */
	struct verify_map vmap;
	uint64_t vseed;
	uint64_t verified;	/* blocks read back and checked */
	uint64_t verify_errors; /* of them, blocks that did not match */
	struct verify_mismatch first_mismatch;
	/* --pi: CDW12 bits of writes and reads, the ref tag's width */
	uint32_t pi_wr_cdw12, pi_rd_cdw12;
	uint64_t pi_ref_mask;
};

/* ---- --count-driver ------------------------------------------------------ */

/*
 * Under callgrind --collect-atstart=no, collection is on only around the
 * driver's calls: request alloc + map + post, the doorbell ring, and the
 * reap minus the callback's body (a hole).  Of what is collected, the
 * instructions whose source lines are the library's are the driver's (the
 * toggles themselves are perf's); see docs/benchmarks.md.  Each call flips
 * collection: the calls come in pairs, on before a region and off after.
 */
static inline void perf_cg_toggle(struct perf_job *j)
{
#if PERF_HAVE_CALLGRIND
	if (vfn_unlikely(j->o.count_driver))
		CALLGRIND_TOGGLE_COLLECT;
#else
	(void)j;
#endif
}

/* ---- clock ------------------------------------------------------------- */

static inline uint64_t perf_clock(const struct perf_job *j)
{
#if defined(__x86_64__) || defined(__i386__)
	if (j->o.tsc)
		return __builtin_ia32_rdtsc();
#endif
	(void)j;
	return vfn_now_ns();
}

/* A first estimate of the tick rate, for deadlines (the report uses the run). */
static void perf_calibrate(struct perf_job *j)
{
	struct timespec ts = { 0, 20000000 };
	uint64_t t0, n0;

	j->ns_per_tick = 1.0;
	if (!j->o.tsc)
		return;
	t0 = perf_clock(j);
	n0 = vfn_now_ns();
	nanosleep(&ts, NULL);
	j->ns_per_tick = (double)(vfn_now_ns() - n0) / (double)(perf_clock(j) - t0);
}

static uint64_t perf_ticks(const struct perf_job *j, uint64_t ns)
{
	return (uint64_t)((double)ns / j->ns_per_tick);
}

/* ---- I/O --------------------------------------------------------------- */

static inline uint64_t perf_rand(struct perf_queue *q)
{
	uint64_t x = q->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return q->rng = x;
}

/* The next I/O's starting LBA. */
static inline uint64_t perf_lba(struct perf_queue *q)
{
	struct perf_job *j = q->job;
	uint64_t slot;

	if (j->o.rw == PERF_READ || j->o.rw == PERF_WRITE) {
		slot = q->next_lba;
		q->next_lba = slot + 1 == j->nr_slots ? 0 : slot + 1;
	} else {
		slot = (uint64_t)(((unsigned __int128)perf_rand(q) * j->nr_slots) >> 64);
	}
	return slot * j->nlb;
}

static inline uint8_t perf_opcode(struct perf_queue *q)
{
	switch (q->job->o.rw) {
	case PERF_RANDREAD:
	case PERF_READ:
		return VFN_NVME_CMD_READ;
	case PERF_RANDRW:
		return perf_rand(q) % 100 < q->job->o.rwmix_read ? VFN_NVME_CMD_READ : VFN_NVME_CMD_WRITE;
	default:
		return VFN_NVME_CMD_WRITE;
	}
}

/* ---- --verify ---------------------------------------------------------- */

/*
 * Moves the I/O of @s to the first slot from @lba's on that no other I/O
 * (of any queue: one thread drives them all) has in flight, and fills a
 * write's buffer with the pattern of the slot's next generation, or
 * poisons a read's so that a read that moves no data is caught.
 */
static void perf_verify_prep(struct perf_slot *s, struct vfn_nvme_sqe *sqe, uint64_t lba)
{
	struct perf_job *j = s->q->job;
	uint32_t lbs = j->ns.lba_size;

	s->vslot = verify_map_claim(&j->vmap, lba / j->nlb);
	s->vwrite = sqe->opcode == VFN_NVME_CMD_WRITE;
	lba = s->vslot * j->nlb;
	sqe->cdw10 = vfn_cpu_to_le32((uint32_t)lba);
	sqe->cdw11 = vfn_cpu_to_le32((uint32_t)(lba >> 32));
	s->vgen = verify_map_gen(&j->vmap, s->vslot);
	if (s->vwrite) {
		s->vgen = verify_next_gen(s->vgen);
		verify_fill(s->buf, lbs, j->nlb, lba, j->vseed, s->vgen);
	} else if (s->vgen) {
		verify_poison(s->buf, lbs, j->nlb);
	}
}

/*
 * The I/O of @s completed (@ok: successfully): a read of a written slot
 * is checked; the slot is free again and holds the generation written, or
 * none known after a failed write.
 */
static void perf_verify_done(struct perf_slot *s, bool ok)
{
	struct perf_job *j = s->q->job;
	struct verify_mismatch mm;
	uint32_t bad;

	if (s->vwrite) {
		verify_map_release(&j->vmap, s->vslot, ok ? s->vgen : 0);
		return;
	}
	verify_map_release(&j->vmap, s->vslot, s->vgen);
	if (!ok || !s->vgen)
		return;
	bad = verify_check(s->buf, j->ns.lba_size, j->nlb, s->vslot * j->nlb, j->vseed, s->vgen, &mm);
	if (bad && !j->verify_errors)
		j->first_mismatch = mm;
	j->verify_errors += bad;
	j->verified += j->nlb;
}

static void perf_done(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe);
static void perf_kdone(void *arg, int ret, const struct vfn_nvme_cqe *cqe);

/* ---- --pi ------------------------------------------------------------- */

#define PERF_PI_APP_TAG 0x5646 /* "VF" */

/*
 * --pi: PRINFO and tags of one command: a write has PRACT (the controller
 * generates the tuple: guard, app tag, ref tag = the LBA's low 32/48 bits
 * incremented per block), a read PRACT and PRCHK (the controller verifies
 * and strips it; a failure is a 0x282/0x283/0x284 completion, counted as
 * an error).  No metadata moves (the format's metadata is the tuple only).
 */
static inline void perf_pi_prep(const struct perf_job *j, struct vfn_nvme_sqe *sqe)
{
	uint64_t lba = vfn_le32_to_cpu(sqe->cdw10) | (uint64_t)vfn_le32_to_cpu(sqe->cdw11) << 32;
	uint64_t ref = lba & j->pi_ref_mask;

	sqe->cdw12 |= vfn_cpu_to_le32(sqe->opcode == VFN_NVME_CMD_WRITE ? j->pi_wr_cdw12 : j->pi_rd_cdw12);
	sqe->cdw14 = vfn_cpu_to_le32((uint32_t)ref);
	sqe->cdw3 = vfn_cpu_to_le32(j->ns.pif == VFN_PI_PIF_64 ? (uint32_t)(ref >> 32) : 0);
	sqe->cdw15 = vfn_cpu_to_le32(0xffffu << 16 | PERF_PI_APP_TAG);
}

/* --pi against the namespace: PI on, metadata only the tuple; the exit status, or 0. */
static int perf_pi_setup(struct perf_job *j)
{
	size_t tuple = vfn_pi_tuple_size(j->ns.pif);
	uint8_t chk = VFN_PI_PRCHK_GUARD | VFN_PI_PRCHK_APP;

	if (!j->ns.ms || !j->ns.pi_type)
		return errmsg("--pi needs a namespace formatted with protection information; namespace %u of %s has"
			      " %u bytes of metadata and PI type %u (vfn format --pi)",
			      j->ns.nsid, j->o.dev, j->ns.ms, j->ns.pi_type);
	if (!tuple || j->ns.ms != tuple)
		return errmsg("--pi has the controller insert and strip PI (PRACT), which needs metadata that is only"
			      " the %zu-byte PI tuple; namespace %u of %s has %u bytes (PIF %u): use vfn read/write"
			      " -M with software PI there",
			      tuple ? tuple : (size_t)8, j->ns.nsid, j->o.dev, j->ns.ms, j->ns.pif);
	if (j->ns.pi_type != VFN_PI_TYPE3)
		chk |= VFN_PI_PRCHK_REF; /* type 3 has no reference tag to check */
	j->pi_wr_cdw12 = (uint32_t)VFN_PI_PRACT << VFN_PI_PRINFO_SHIFT;
	j->pi_rd_cdw12 = (uint32_t)(VFN_PI_PRACT | chk) << VFN_PI_PRINFO_SHIFT;
	j->pi_ref_mask = j->ns.pif == VFN_PI_PIF_64 ? 0xffffffffffffULL : 0xffffffffULL;
	return 0;
}

/*
 * --sqe-per-io: posts one I/O for @s as an application on the request API
 * does per I/O, all of it in the counted region: the command built
 * (vfn_nvme_rw_sqe()), a request, the data pointer, the post.
 */
static inline int perf_post_sqe(struct perf_queue *q, struct perf_slot *s, uint8_t opcode, uint64_t lba, uint64_t now)
{
	struct perf_job *j = q->job;
	struct vfn_nvme_sqe sqe;
	struct vfn_rq *rq;
	int ret;

	perf_cg_toggle(j);
	rq = vfn_rq_alloc(q->qp);
	if (vfn_unlikely(!rq)) {
		perf_cg_toggle(j);
		return -EBUSY;
	}
	rq->cb = perf_done;
	rq->opaque = s;
	vfn_nvme_rw_sqe(&sqe, opcode, j->o.nsid, lba, j->nlb);
	ret = vfn_rq_map_iova(q->qp, rq, &sqe, s->iova, j->o.bs);
	if (!ret)
		ret = vfn_rq_post(q->qp, rq, &sqe);
	perf_cg_toggle(j);
	if (vfn_unlikely(ret)) {
		vfn_rq_free(q->qp, rq);
		return ret;
	}
	s->t_submit = now;
	return 0;
}

/* Posts one I/O for @s (a free request is always there: QD = requests). */
static inline int perf_post(struct perf_queue *q, struct perf_slot *s, uint64_t now)
{
	struct perf_job *j = q->job;
	uint64_t lba = perf_lba(q);
	struct vfn_nvme_sqe sqe = {
		.opcode = perf_opcode(q),
		.nsid = vfn_cpu_to_le32(j->o.nsid),
		.cdw10 = vfn_cpu_to_le32((uint32_t)lba),
		.cdw11 = vfn_cpu_to_le32((uint32_t)(lba >> 32)),
		.cdw12 = vfn_cpu_to_le32(j->nlb - 1),
	};
	struct vfn_rq *rq;
	int ret;

	if (vfn_unlikely(j->o.sqe_per_io))
		return perf_post_sqe(q, s, sqe.opcode, lba, now);
	if (vfn_unlikely(j->o.verify))
		perf_verify_prep(s, &sqe, lba);
	if (j->o.pi)
		perf_pi_prep(j, &sqe);
	if (q->dq) {
		s->t_submit = now;
		return vfn_dev_submit(q->dq, &sqe, s->buf, j->o.bs, perf_kdone, s);
	}
	perf_cg_toggle(j);
	rq = vfn_rq_alloc(q->qp);
	if (vfn_unlikely(!rq)) {
		perf_cg_toggle(j);
		return -EBUSY;
	}
	rq->cb = perf_done;
	rq->opaque = s;
	if (s->premapped) {
		sqe.flags = s->dptr.flags;
		sqe.dptr = s->dptr.dptr;
		ret = 0;
	} else {
		ret = vfn_rq_map_iova(q->qp, rq, &sqe, s->iova, j->o.bs);
	}
	if (!ret)
		ret = vfn_rq_post(q->qp, rq, &sqe);
	perf_cg_toggle(j);
	if (vfn_unlikely(ret)) {
		vfn_rq_free(q->qp, rq);
		return ret;
	}
	s->t_submit = now;
	return 0;
}

/* Posts every ready slot and rings the SQ doorbell once. */
static int perf_submit(struct perf_queue *q, uint64_t now)
{
	uint32_t i;
	int ret = 0;

	for (i = 0; i < q->nr_ready; i++) {
		ret = perf_post(q, q->ready[i], now);
		if (vfn_unlikely(ret))
			break;
	}
	if (!q->dq) {
		perf_cg_toggle(q->job);
		vfn_nvme_qpair_submit(q->qp);
		perf_cg_toggle(q->job);
	}
	q->submitted += i;
	q->nr_ready = 0;
	return ret;
}

/* Counts the completion of @s (status @status, or a kernel errno @err). */
static inline void perf_complete(struct perf_slot *s, uint16_t status, int err)
{
	struct perf_queue *q = s->q;
	struct perf_job *j = q->job;

	q->completed++;
	if (vfn_unlikely((status & 0x7ff) || err) && !j->errors++) {
		j->first_error = status;
		j->first_errno = err;
	}
	if (vfn_unlikely(j->o.verify))
		perf_verify_done(s, !(status & 0x7ff) && !err);
	if (j->measuring) {
		if (!j->o.no_latency)
			hist_add(&j->hist, j->now - s->t_submit);
		j->ios++;
	}
	if (!j->stopping)
		q->ready[q->nr_ready++] = s;
}

static void perf_done(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	struct perf_slot *s = rq->opaque;

	(void)qp;
	perf_cg_toggle(s->q->job);
	perf_complete(s, vfn_nvme_cqe_status(cqe), 0);
	perf_cg_toggle(s->q->job);
}

/* The kernel path: each completion is stamped (the reap may have waited). */
static void perf_kdone(void *arg, int ret, const struct vfn_nvme_cqe *cqe)
{
	struct perf_slot *s = arg;

	s->q->job->now = perf_clock(s->q->job);
	perf_complete(s, vfn_nvme_cqe_status(cqe), ret == -EIO ? 0 : ret);
}

/* Reaps @q if a completion is there; returns how many were reaped. */
static inline int perf_reap(struct perf_queue *q)
{
	int n;

	if (q->dq)
		return vfn_dev_poll(q->dq, q->job->o.batch);
	/*
	 * Nothing to reap: skip the clock and the reap, unless a doorbell
	 * value sits only in a shadow doorbell.  Then the empty reap is
	 * still made (uncounted: the loop is idle), for it is what notices a
	 * controller that missed the shadow update and rings the MMIO
	 * doorbell (vfn_nvme_qpair_reap(); QEMU 7.2 does miss them).
	 */
	if (!vfn_cq_peek(&q->qp->cq)) {
		if (!vfn_nvme_qpair_shadow_pending(q->qp))
			return 0;
		if (!q->job->o.no_latency)
			q->job->now = perf_clock(q->job);
		return vfn_nvme_qpair_reap(q->qp, (int)q->job->o.batch);
	}
	if (!q->job->o.no_latency)
		q->job->now = perf_clock(q->job);
	perf_cg_toggle(q->job);
	n = vfn_nvme_qpair_reap(q->qp, (int)q->job->o.batch);
	/*
	 * --cq-head reap: report the head after every reap, as a driver with
	 * interrupts does, instead of the pair's lazy policy (once the CQ
	 * could fill).
	 */
	if (q->job->o.cq_head_reap && q->qp->cq.unreported)
		vfn_cq_ring(&q->qp->cq);
	perf_cg_toggle(q->job);
	return n;
}

/* ---- the run ------------------------------------------------------------ */

/* --irq: sleeps until a queue's eventfd fires (or @ms pass) and resets it. */
static void perf_wait_irq(struct perf_job *j, int ms)
{
	struct epoll_event ev[16];
	uint64_t cnt;
	int n = epoll_wait(j->epfd, ev, 16, ms);

	for (int i = 0; i < n; i++)
		if (read(ev[i].data.fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
			fprintf(stderr, "vfn: warning: eventfd read failed: %s\n", strerror(errno));
	/* INTx: VFIO masked the line when it fired; re-arm it (a no-op on MSI and MSI-X). */
	if (n > 0 && j->ctrl)
		vfn_nvme_qpair_irq_ack(j->queues[0].qp);
}

/* One pass over every queue: submit what is ready, reap what completed. */
static int perf_pass(struct perf_job *j, int *reaped)
{
	int ret;

	*reaped = 0;
	for (uint32_t i = 0; i < j->o.nr_queues; i++) {
		struct perf_queue *q = &j->queues[i];

		if (q->nr_ready) {
			ret = perf_submit(q, j->o.no_latency ? 0 : perf_clock(j));
			if (ret)
				return ret;
		}
		ret = j->o.nr_queues == 1 && q->dq ? vfn_dev_wait(q->dq, j->o.batch) : perf_reap(q);
		if (vfn_unlikely(ret < 0))
			return ret;
		*reaped += ret;
	}
	return 0;
}

static void perf_phase_start(struct perf_job *j, uint64_t now)
{
	hist_init(&j->hist);
	j->ios = 0;
	j->measuring = true;
	j->t_start[0] = now;
	j->t_start[1] = vfn_now_ns();
}

static void perf_phase_end(struct perf_job *j, uint64_t now)
{
	j->measuring = false;
	j->stopping = true;
	j->t_end[0] = now;
	j->t_end[1] = vfn_now_ns();
	if (j->o.tsc && now > j->t_start[0])
		j->ns_per_tick = (double)(j->t_end[1] - j->t_start[1]) / (double)(now - j->t_start[0]);
}

static bool perf_all_done(const struct perf_job *j)
{
	for (uint32_t i = 0; i < j->o.nr_queues; i++)
		if (j->queues[i].completed != j->queues[i].submitted)
			return false;
	return true;
}

/* Advances the phases at @now; returns false once everything has drained. */
static bool perf_tick(struct perf_job *j, uint64_t now, uint64_t warm_end, uint64_t end)
{
	if (!j->measuring && !j->stopping && now >= warm_end)
		perf_phase_start(j, now);
	if (j->measuring && now >= end)
		perf_phase_end(j, now);
	return !(j->stopping && perf_all_done(j));
}

/* Not inlined: `callgrind --toggle-collect=perf_loop` counts the whole loop (scripts/bench.sh). */
static __attribute__((noinline)) int perf_loop(struct perf_job *j)
{
	uint64_t t0 = perf_clock(j), warm_end = t0 + perf_ticks(j, j->o.warmup_s * 1000000000ull);
	uint64_t end = warm_end + perf_ticks(j, j->o.time_s * 1000000000ull), drain_end = 0, now = t0;
	uint32_t idle = 0;
	int reaped, ret;

	while (perf_tick(j, now, warm_end, end)) {
		ret = perf_pass(j, &reaped);
		if (ret)
			return ret;
		if (reaped) {
			/* --no-latency: the clock is read for the deadlines only. */
			if (!j->o.no_latency)
				now = j->now;
			else if (++idle % PERF_NOLAT_CHECK == 0)
				now = perf_clock(j);
		} else if (j->o.irq) {
			perf_wait_irq(j, j->stopping ? 100 : 10);
			now = perf_clock(j);
		} else {
			/* Valgrind runs one thread at a time: let the controller's run. */
			if (vfn_unlikely(j->o.count_driver))
				sched_yield();
			if (++idle % PERF_IDLE_CHECK == 0)
				now = perf_clock(j);
		}
		if (j->stopping && !drain_end)
			drain_end = now + perf_ticks(j, PERF_DRAIN_NS);
		if (drain_end && now > drain_end)
			return -ETIMEDOUT;
	}
	return 0;
}

/* ---- setup -------------------------------------------------------------- */

/*
 * Queue entries: room for QD commands and, when the controller allows,
 * as many again and at least 256, so that a polled pair writes the CQ head
 * doorbell only once per many completions.
 */
static uint32_t perf_entries(const struct perf_job *j)
{
	uint32_t max = vfn_nvme_cap_mqes(vfn_nvme_reg_read64(j->ctrl, VFN_NVME_REG_CAP)) + 1;
	uint32_t want = 2 * j->o.qd + 1 > 256 ? 2 * j->o.qd + 1 : 256;

	return want < max ? want : max;
}

/* Each slot's buffer: DMA memory (VFIO, sim), or the handle's I/O memory (kernel). */
static int perf_queue_mem(struct perf_job *j, struct perf_queue *q)
{
	size_t stride = (j->o.bs + vfn_page_size() - 1) & ~(vfn_page_size() - 1);
	uint64_t iova = 0;
	ssize_t len;

	if (j->ctrl && j->o.cmb == PERF_CMB_DATA) {
		/* In the CMB: the addresses are the controller's, nothing is IOMMU-mapped. */
		len = vfn_nvme_cmb_alloc(j->ctrl, stride * j->o.qd, &q->mem, &iova);
		if (!len) {
			len = (ssize_t)(stride * j->o.qd);
			q->cmb = true;
		}
	} else if (j->ctrl)
		len = vfn_dma_alloc(vfn_nvme_ctrl_iommu(j->ctrl), stride * j->o.qd, &q->mem, &iova);
	else
		len = vfn_dev_buf_alloc(j->dev, stride * j->o.qd, &q->mem);
	if (len < 0)
		return (int)len;
	q->mem_len = (size_t)len;
	for (uint32_t i = 0; i < j->o.qd; i++) {
		q->slots[i] =
			(struct perf_slot){ .q = q, .buf = (char *)q->mem + i * stride, .iova = iova + i * stride };
		q->ready[q->nr_ready++] = &q->slots[i];
	}
	return 0;
}

/*
 * Maps each slot's buffer once when it needs no PRP list (it lies in one
 * memory page): such a data pointer does not depend on the request.
 */
static int perf_queue_premap(struct perf_job *j, struct perf_queue *q)
{
	struct vfn_rq *rq = vfn_rq_alloc(q->qp);
	size_t page = q->qp->page_size;
	int ret = 0;

	if (!rq)
		return -EBUSY;
	for (uint32_t i = 0; i < j->o.qd && !ret; i++) {
		struct perf_slot *s = &q->slots[i];

		if ((s->iova & (page - 1)) + j->o.bs > page)
			continue;
		ret = vfn_rq_map_iova(q->qp, rq, &s->dptr, s->iova, j->o.bs);
		s->premapped = !ret;
	}
	vfn_rq_free(q->qp, rq);
	return ret;
}

static int perf_queue_init(struct perf_job *j, struct perf_queue *q, uint16_t qid)
{
	struct vfn_nvme_qpair_opts qo = { .irq = j->o.irq, .sq_cmb = j->o.cmb == PERF_CMB_SQ };
	struct epoll_event ev = { .events = EPOLLIN };
	int ret;

	q->job = j;
	q->rng = 0x9e3779b97f4a7c15ull * qid;
	q->next_lba = (j->nr_slots / j->o.nr_queues) * (qid - 1);
	q->slots = calloc(j->o.qd, sizeof(*q->slots));
	q->ready = calloc(j->o.qd, sizeof(*q->ready));
	if (!q->slots || !q->ready)
		return -ENOMEM;
	ret = perf_queue_mem(j, q);
	if (ret)
		return ret;
	if (!j->ctrl)
		return vfn_dev_queue_create(j->dev, j->o.qd, &q->dq);
	qo.entries = perf_entries(j);
	ret = vfn_nvme_qpair_create(j->ctrl, qid, &qo, &q->qp);
	if (ret == -ENOTSUP && qo.irq) {
		/* No vector @qid (MSI or INTx: one vector; MSI-X: fewer than queues): share vector 0. */
		qo.vector_set = true;
		qo.vector = 0;
		ret = vfn_nvme_qpair_create(j->ctrl, qid, &qo, &q->qp);
	}
	if (!ret && j->o.cmdlog)
		ret = vfn_nvme_qpair_log_enable(q->qp, j->o.cmdlog);
	if (!ret && !j->o.map_per_io)
		ret = perf_queue_premap(j, q);
	if (ret)
		return ret;
	if (!j->o.irq)
		return 0;
	ev.data.fd = vfn_nvme_qpair_eventfd(q->qp);
	/* Queues sharing a vector share its eventfd: in the set once. */
	return epoll_ctl(j->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) && errno != EEXIST ? -errno : 0;
}

static void perf_queue_fini(struct perf_job *j, struct perf_queue *q)
{
	/* The last commands and their completions, in spec terms, on stderr. */
	if (q->qp && j->o.cmdlog)
		vfn_nvme_qpair_log_dump(q->qp, stderr);
	vfn_nvme_qpair_destroy(q->qp);
	vfn_dev_queue_destroy(q->dq);
	if (q->mem && q->cmb)
		vfn_nvme_cmb_free(j->ctrl, q->mem);
	else if (q->mem && j->ctrl)
		vfn_dma_free(vfn_nvme_ctrl_iommu(j->ctrl), q->mem, q->mem_len);
	else if (q->mem)
		vfn_dev_buf_free(j->dev, q->mem, q->mem_len);
	free(q->slots);
	free(q->ready);
}

static void perf_queues_fini(struct perf_job *j)
{
	if (!j->queues)
		return;
	for (uint32_t i = 0; i < j->o.nr_queues; i++)
		perf_queue_fini(j, &j->queues[i]);
	free(j->queues);
	j->queues = NULL;
}

static int perf_queues_init(struct perf_job *j)
{
	int ret;

	j->queues = calloc(j->o.nr_queues, sizeof(*j->queues));
	if (!j->queues)
		return -ENOMEM;
	for (uint32_t i = 0; i < j->o.nr_queues; i++) {
		ret = perf_queue_init(j, &j->queues[i], (uint16_t)(i + 1));
		if (ret)
			return ret;
	}
	return 0;
}

/* What bounds the options. */
struct perf_limits {
	size_t max_xfer;     /* bytes; 0: no limit */
	uint32_t max_qd;     /* commands one queue holds */
	uint32_t max_queues; /* 0: no limit */
};

/* VFIO, sim: the namespace -n names, and the controller's limits. */
static int perf_limits_ctrl(struct perf_job *j, struct perf_limits *l)
{
	const struct vfn_nvme_ctrl_info *info = vfn_nvme_ctrl_get_info(j->ctrl);
	int ret = vfn_nvme_ns_get_info(j->ctrl, j->o.nsid, &j->ns);

	if (ret == -ENOENT)
		return errmsg("namespace %u does not exist on %s; see `vfn list-ns`", j->o.nsid, j->o.dev);
	if (ret)
		return errmsg_admin(j->o.dev, "Identify Namespace", ret, NULL);
	if (j->o.cmb) {
		struct vfn_nvme_cmb_info cmb;

		ret = vfn_nvme_cmb_enable(j->ctrl);
		if (!ret)
			ret = vfn_nvme_cmb_get_info(j->ctrl, &cmb);
		if (ret == -ENOTSUP)
			return errmsg(
				"%s has no controller memory buffer for --cmb (CMBSZ is 0); with QEMU add cmb_size_mb=N to -device nvme",
				j->o.dev);
		if (ret)
			return errmsg("%s: enabling the controller memory buffer failed (%s); see `vfn show-regs %s`",
				      j->o.dev, strerror(-ret), j->o.dev);
		if (j->o.cmb == PERF_CMB_SQ && !cmb.sqs)
			return errmsg("%s's controller memory buffer takes no SQs (CMBSZ.SQS is 0); try --cmb data",
				      j->o.dev);
		if (j->o.cmb == PERF_CMB_DATA && !(cmb.rds && cmb.wds))
			return errmsg(
				"%s's controller memory buffer takes no read or write data (CMBSZ.RDS/WDS); try --cmb sq",
				j->o.dev);
	}
	l->max_xfer = info->max_xfer;
	l->max_qd = vfn_nvme_cap_mqes(vfn_nvme_reg_read64(j->ctrl, VFN_NVME_REG_CAP));
	l->max_queues = info->nr_sq < info->nr_cq ? info->nr_sq : info->nr_cq;
	return 0;
}

/* The kernel path: the node's namespace, as the handle identified it. */
static int perf_limits_kernel(struct perf_job *j, struct perf_limits *l)
{
	const struct vfn_dev_info *i = vfn_dev_get_info(j->dev);

	if (!i->io)
		return errmsg("%s is a controller node and takes no I/O; use a namespace node such as /dev/ng0n1",
			      j->o.dev);
	if (j->o.nsid_given && j->o.nsid != i->nsid)
		return errmsg("%s is namespace %u; drop -n %u or use that namespace's node", j->o.dev, i->nsid,
			      j->o.nsid);
	if (j->o.mode != PERF_MODE_AUTO || j->o.shadow != PERF_SHADOW_AUTO || j->o.count_driver || j->o.map_per_io ||
	    j->o.cmdlog || j->o.cq_head_reap || j->o.cmb)
		return errmsg(
			"--irq, --poll, --[no-]shadow-doorbells, --count-driver, --map-per-io, --sqe-per-io, --cmdlog, --cq-head and --cmb are for vfio and sim queues; the kernel"
			" driver owns the"
			" queues of %s",
			j->o.dev);
	j->o.nsid = i->nsid;
	j->ns = (struct vfn_nvme_ns_info){ .nsid = i->nsid,
					   .nsze = i->nsze,
					   .flbas = i->flbas,
					   .lba_size = i->lba_size,
					   .ms = i->ms,
					   .mset = i->mset };
	*l = (struct perf_limits){ i->max_xfer, i->max_qd, i->max_queues };
	return 0;
}

/*
 * --verify: reads check what this run wrote, so a read-only workload
 * checks nothing and is refused; each I/O in flight holds a slot of its
 * own, so there must be a slot for each; the record (4 bytes a slot) is
 * bounded by testing at most the first VERIFY_MAX_SLOTS slots.
 */
static int perf_verify_setup(struct perf_job *j)
{
	int ret;

	if (j->o.rw == PERF_READ || j->o.rw == PERF_RANDREAD)
		return errmsg("--verify checks reads against this run's writes and -w %s writes nothing; use -w randrw",
			      perf_rw_names[j->o.rw]);
	if (j->ns.lba_size % 8 || j->ns.lba_size < VERIFY_STAMP_BYTES)
		return errmsg("--verify needs an LBA size that is a multiple of 8 bytes, not %u", j->ns.lba_size);
	if (j->nr_slots > VERIFY_MAX_SLOTS)
		j->nr_slots = VERIFY_MAX_SLOTS;
	if (j->nr_slots < (uint64_t)j->o.qd * j->o.nr_queues)
		return errmsg(
			"--verify keeps one I/O per %u-byte slot and namespace %u has %llu, fewer than QD x queues;"
			" lower -q, -c or -s",
			j->o.bs, j->o.nsid, (unsigned long long)j->nr_slots);
	ret = verify_map_init(&j->vmap, j->nr_slots);
	if (ret)
		return errmsg("--verify: no memory for the record of %llu slots", (unsigned long long)j->nr_slots);
	j->vseed = vfn_now_ns() ^ ((uint64_t)getpid() << 32);
	return 0;
}

/* Checks the options against the controller and namespace; the exit status, or 0. */
static int perf_check_device(struct perf_job *j)
{
	struct perf_limits l = { 0, 0, 0 };
	int ret = j->ctrl ? perf_limits_ctrl(j, &l) : perf_limits_kernel(j, &l);

	if (ret)
		return ret;
	if (j->o.pi) {
		ret = perf_pi_setup(j);
		if (ret)
			return ret;
	} else if (j->ns.ms) {
		return errmsg_metadata(j->o.dev, j->ns.nsid, j->ns.ms, j->ns.flbas, j->ns.mset);
	}
	if (j->o.bs % j->ns.lba_size)
		return errmsg("block size %u is not a multiple of the %u-byte LBA size; pick another -s", j->o.bs,
			      j->ns.lba_size);
	if (l.max_xfer && j->o.bs > l.max_xfer)
		return errmsg("block size %u exceeds what one command moves (MDTS: %zu bytes); lower -s", j->o.bs,
			      l.max_xfer);
	if (j->o.qd > l.max_qd)
		return errmsg("queue depth %u exceeds what the device's queues hold (%u); lower -q", j->o.qd, l.max_qd);
	if (l.max_queues && j->o.nr_queues > l.max_queues)
		return errmsg("%u queues asked for, the controller granted %u; lower -c", j->o.nr_queues, l.max_queues);
	j->nlb = j->o.bs / j->ns.lba_size;
	j->nr_slots = j->ns.nsze / j->nlb;
	if (!j->nr_slots || j->nlb > 65536)
		return errmsg("namespace %u (%llu blocks) is too small for %u-byte I/O; pick another -s", j->o.nsid,
			      (unsigned long long)j->ns.nsze, j->o.bs);
	if (j->o.sqe_per_io && (j->o.verify || j->o.pi))
		return errmsg("--sqe-per-io builds plain reads and writes; it does not go with --verify or --pi");
	return j->o.verify ? perf_verify_setup(j) : 0;
}

/*
 * --cmdlog N: the admin queue's log, on from the first bring-up command,
 * holds every admin command of the run (bring-up and identification, then
 * 4 per I/O queue), and at least N.
 */
static uint32_t perf_admin_log_entries(const struct perf_opts *o)
{
	uint64_t n = 64 + 4ull * o->nr_queues;

	if (!o->cmdlog)
		return 0;
	if (n < o->cmdlog)
		n = o->cmdlog;
	return n > 65536 ? 65536 : (uint32_t)n;
}

/* QEMU's emulated NVMe controller: PCI vendor Red Hat, device 0x0010. */
#define PERF_QEMU_NVME_VENDOR 0x1b36
#define PERF_QEMU_NVME_DEVICE 0x0010

/* Whether DEVICE is QEMU's emulated NVMe controller (by its PCI IDs). */
static bool perf_is_qemu(const struct perf_opts *o)
{
	struct vfn_pci_func f;

	if (cli_is_sim(o->dev) || cli_is_path(o->dev) || vfn_pci_get_func(o->dev, &f))
		return false;
	return f.vendor == PERF_QEMU_NVME_VENDOR && f.device == PERF_QEMU_NVME_DEVICE;
}

/*
 * Whether to wait on interrupts.  Auto: no, busy polling.  On a quiet host
 * polling beat interrupts against QEMU's emulated controller at QD1 and
 * QD32 alike (1.36x against 0.74x libvfn's perf at QD32); interrupts only
 * won on a host whose CPUs were oversubscribed, where a spinning vCPU takes
 * CPU from QEMU's emulation (docs/perf.md): --irq is for that case.
 */
static bool perf_use_irq(const struct perf_opts *o)
{
	return o->mode == PERF_MODE_IRQ;
}

/*
 * Whether to open the controller without shadow doorbells.  Auto: off
 * against QEMU's emulated controller, which moves its EventIdx to the
 * value it has just read, so a host that waits for completions before
 * submitting again writes the MMIO doorbell as often as without them,
 * while QEMU DMAs the shadow doorbell and EventIdx (through the emulated
 * IOMMU) for every command and completion (docs/perf.md measures it);
 * on for every other controller (the simulator keeps EventIdx behind).
 */
static bool perf_no_shadow(const struct perf_opts *o)
{
	if (o->shadow != PERF_SHADOW_AUTO)
		return o->shadow == PERF_SHADOW_OFF;
	return perf_is_qemu(o);
}

/* Opens DEVICE through the device handle: vfio, sim or the kernel driver. */
static int perf_open(struct perf_job *j)
{
	struct vfn_nvme_ctrl_opts co = { .no_shadow_doorbells = perf_no_shadow(&j->o),
					 .admin_log_entries = perf_admin_log_entries(&j->o) };
	struct vfn_dev_opts o = { .ctrl_opts = &co };
	int ret = cli_dev_open(j->o.dev, &o, &j->dev);

	if (ret)
		return ret;
	if (vfn_dev_get_info(j->dev)->backend != VFN_DEV_KERNEL)
		j->ctrl = vfn_dev_nvme_ctrl(j->dev);
	return 0;
}

/* ---- report ------------------------------------------------------------- */

struct perf_result {
	double secs, iops, mbps;
	uint64_t submitted, completed;
	uint64_t sq_mmio, cq_mmio; /* MMIO doorbell writes, whole run */
	uint64_t rerung;	   /* doorbells written again after a stall */
	uint64_t lat[8];	   /* ns: min avg max p50 p90 p99 p99.9 p99.99 */
};

static const char *const perf_lat_keys[] = { "min", "avg", "max", "p50", "p90", "p99", "p99.9", "p99.99" };
static const double perf_pcts[] = { 50, 90, 99, 99.9, 99.99 };

static void perf_result(const struct perf_job *j, struct perf_result *r)
{
	const struct hist *h = &j->hist;
	double k = j->ns_per_tick;

	memset(r, 0, sizeof(*r));
	r->secs = (double)(j->t_end[1] - j->t_start[1]) / 1e9;
	r->iops = r->secs > 0 ? (double)j->ios / r->secs : 0;
	r->mbps = r->iops * j->o.bs / 1e6;
	for (uint32_t i = 0; i < j->o.nr_queues; i++) {
		r->submitted += j->queues[i].submitted;
		r->completed += j->queues[i].completed;
		if (!j->queues[i].qp)
			continue;
		r->sq_mmio += j->queues[i].qp->sq.mmio_db_writes;
		r->cq_mmio += j->queues[i].qp->cq.mmio_db_writes;
		r->rerung += j->queues[i].qp->rerung;
	}
	if (!h->count)
		return;
	r->lat[0] = (uint64_t)((double)h->min * k);
	r->lat[1] = (uint64_t)((double)hist_mean(h) * k);
	r->lat[2] = (uint64_t)((double)h->max * k);
	for (int i = 0; i < 5; i++)
		r->lat[3 + i] = (uint64_t)((double)hist_percentile(h, perf_pcts[i]) * k);
}

/* Shadow doorbells: "on", "off", or "n/a" on the kernel path. */
static const char *perf_shadow(const struct perf_job *j)
{
	if (!j->ctrl)
		return "n/a";
	return vfn_nvme_ctrl_get_info(j->ctrl)->shadow_doorbells ? "on" : "off";
}

static void perf_json_num(struct json *js, const char *key, double v)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.1f", v);
	json_digits(js, key, buf);
}

/* --irq: the interrupt type the controller uses (AUTO may have fallen back to MSI or INTx). */
static const char *perf_irq_type(const struct perf_job *j)
{
	static const char *const names[] = { "none", "MSI-X", "MSI", "INTx" };
	int t = j->ctrl ? vfn_nvme_ctrl_irq_mode(j->ctrl) : -ENOTSUP;

	return t > 0 && t < 4 ? names[t] : "none";
}

static void perf_print_json(const struct perf_job *j, const struct perf_result *r)
{
	struct json js;

	json_init(&js, stdout);
	json_obj_begin(&js, NULL);
	json_str(&js, "device", j->o.dev);
	json_str(&js, "workload", perf_rw_names[j->o.rw]);
	json_u64(&js, "block_size", j->o.bs);
	json_u64(&js, "queue_depth", j->o.qd);
	json_u64(&js, "queues", j->o.nr_queues);
	json_str(&js, "backend", vfn_dev_get_info(j->dev)->backend_name);
	json_str(&js, "iommu", vfn_dev_get_info(j->dev)->iommu);
	json_str(&js, "mode", j->o.irq ? "irq" : j->ctrl ? "poll" : "kernel");
	if (j->o.irq)
		json_str(&js, "irq_type", perf_irq_type(j));
	if (!j->ctrl)
		json_str(&js, "path", vfn_dev_queue_path(j->queues[0].dq));
	perf_json_num(&js, "seconds", r->secs);
	json_u64(&js, "ios", j->ios);
	perf_json_num(&js, "iops", r->iops);
	perf_json_num(&js, "mbps", r->mbps);
	json_u64(&js, "submissions", r->submitted);
	json_u64(&js, "completions", r->completed);
	json_u64(&js, "errors", j->errors);
	if (j->o.pi)
		json_u64(&js, "pi_type", j->ns.pi_type);
	if (j->o.verify) {
		json_u64(&js, "verify_seed", j->vseed);
		json_u64(&js, "verify_slots", j->nr_slots);
		json_u64(&js, "verified_blocks", j->verified);
		json_u64(&js, "verify_errors", j->verify_errors);
	}
	json_str(&js, "shadow_doorbells", perf_shadow(j));
	json_str(&js, "cmb", perf_cmb_names[j->o.cmb]);
	json_u64(&js, "sq_mmio_doorbells", r->sq_mmio);
	json_u64(&js, "cq_mmio_doorbells", r->cq_mmio);
	json_u64(&js, "doorbells_rerung", r->rerung);
	json_obj_begin(&js, "lat_ns");
	for (int i = 0; i < 8; i++)
		json_u64(&js, perf_lat_keys[i], r->lat[i]);
	json_obj_end(&js);
	json_obj_end(&js);
	json_finish(&js);
}

static void perf_print_normal(const struct perf_job *j, const struct perf_result *r)
{
	printf("%s: %s, %u-byte I/O, QD %u x %u queue(s), %s%s%s, %.1f s measured after %u s warm-up\n", j->o.dev,
	       perf_rw_names[j->o.rw], j->o.bs, j->o.qd, j->o.nr_queues,
	       j->o.irq	 ? "interrupts ("
	       : j->ctrl ? "polled"
			 : "kernel",
	       j->o.irq ? perf_irq_type(j) : "", j->o.irq ? ")" : "", r->secs, j->o.warmup_s);
	printf("IOPS        : %.1f\nMB/s        : %.1f\nI/Os        : %llu (submitted %llu, completed %llu, errors "
	       "%llu)\n",
	       r->iops, r->mbps, (unsigned long long)j->ios, (unsigned long long)r->submitted,
	       (unsigned long long)r->completed, (unsigned long long)j->errors);
	if (j->o.verify)
		printf("verify      : %llu blocks checked, %llu mismatched (seed 0x%llx, first %llu slots)\n",
		       (unsigned long long)j->verified, (unsigned long long)j->verify_errors,
		       (unsigned long long)j->vseed, (unsigned long long)j->nr_slots);
	if (j->ctrl)
		printf("doorbells   : shadow %s; MMIO writes per command: SQ %.3f, CQ %.3f; re-rung after a stall: "
		       "%llu\n",
		       perf_shadow(j), r->submitted ? (double)r->sq_mmio / (double)r->submitted : 0.0,
		       r->submitted ? (double)r->cq_mmio / (double)r->submitted : 0.0, (unsigned long long)r->rerung);
	else
		printf("path        : kernel nvme driver, %s\n", vfn_dev_queue_path(j->queues[0].dq));
	if (j->ctrl)
		printf("iommu       : %s\n", vfn_dev_get_info(j->dev)->iommu);
	printf("latency (us): min %.1f avg %.1f max %.1f\n", r->lat[0] / 1e3, r->lat[1] / 1e3, r->lat[2] / 1e3);
	printf("percentiles : p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f p99.99 %.1f\n", r->lat[3] / 1e3, r->lat[4] / 1e3,
	       r->lat[5] / 1e3, r->lat[6] / 1e3, r->lat[7] / 1e3);
}

/* ---- command line ------------------------------------------------------- */

enum {
	OPT_WARMUP = 256,
	OPT_IRQ,
	OPT_POLL,
	OPT_NO_SHADOW,
	OPT_SHADOW,
	OPT_CLOCK,
	OPT_BATCH,
	OPT_COUNT_DRIVER,
	OPT_MAP_PER_IO,
	OPT_CMDLOG,
	OPT_VERIFY,
	OPT_CQ_HEAD,
	OPT_NO_LATENCY,
	OPT_CMB,
	OPT_PI,
	OPT_SQE_PER_IO
};

static const struct option perf_longopts[] = {
	{ "workload", required_argument, NULL, 'w' },
	{ "rwmixread", required_argument, NULL, 'M' },
	{ "block-size", required_argument, NULL, 's' },
	{ "queue-depth", required_argument, NULL, 'q' },
	{ "queues", required_argument, NULL, 'c' },
	{ "time", required_argument, NULL, 't' },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "namespace-id", required_argument, NULL, 'n' },
	{ "irq", no_argument, NULL, OPT_IRQ },
	{ "poll", no_argument, NULL, OPT_POLL },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "no-shadow-doorbells", no_argument, NULL, OPT_NO_SHADOW },
	{ "shadow-doorbells", required_argument, NULL, OPT_SHADOW },
	{ "clock", required_argument, NULL, OPT_CLOCK },
	{ "count-driver", no_argument, NULL, OPT_COUNT_DRIVER },
	{ "map-per-io", no_argument, NULL, OPT_MAP_PER_IO },
	{ "cmdlog", required_argument, NULL, OPT_CMDLOG },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "cq-head", required_argument, NULL, OPT_CQ_HEAD },
	{ "no-latency", no_argument, NULL, OPT_NO_LATENCY },
	{ "cmb", required_argument, NULL, OPT_CMB },
	{ "pi", no_argument, NULL, OPT_PI },
	{ "sqe-per-io", no_argument, NULL, OPT_SQE_PER_IO },
	{ "output-format", required_argument, NULL, 'o' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void perf_help(void)
{
	printf("usage: vfn perf %s\n\n"
	       "Measure IOPS, bandwidth and latency of NVMe I/O through vfn's request API.\n"
	       "DEVICE is a PCI address bound to vfio-pci, a namespace node of the kernel nvme driver\n"
	       "(/dev/ng0n1 through io_uring passthrough, /dev/nvme0n1 through the ioctl), or a\n"
	       "simulated controller (sim:...).\n\n"
	       "  -w, --workload=RW         randread (default), randwrite, read, write, randrw\n"
	       "  -M, --rwmixread=PCT       percentage of reads for randrw (default 50)\n"
	       "  -s, --block-size=BYTES    bytes per I/O, a multiple of the LBA size (default 4096)\n"
	       "  -q, --queue-depth=QD      commands in flight per queue (default 1)\n"
	       "  -c, --queues=N            I/O queue pairs, driven by one thread (default 1)\n"
	       "  -j, --threads=N           run over the block API instead, N threads with a queue each\n"
	       "                            (any backend, regular files too; `vfn perf -j 1 -h`)\n"
	       "  -t, --time=SEC            measured run time (default 10)\n"
	       "      --warmup=SEC          run this long before measuring (default 0)\n"
	       "  -n, --namespace-id=NSID   namespace (default: the node's on the kernel path, else 1)\n"
	       "      --irq                 wait for completions on the queues' eventfds instead of polling\n"
	       "      --poll                busy-poll the completion queues (default, except on QEMU's\n"
	       "                            emulated controller 1b36:0010 at QD >= 8: --irq)\n"
	       "      --batch=N             resubmit after at most N completions (default 0: all there are)\n"
	       "      --shadow-doorbells=WHEN Doorbell Buffer Config: auto (default: off on QEMU's\n"
	       "                            emulated controller 1b36:0010, else on), on, or off\n"
	       "      --no-shadow-doorbells always write the MMIO doorbells (--shadow-doorbells=off)\n"
	       "      --clock=CLK           latency clock: tsc (default on x86) or monotonic\n"
	       "      --cq-head=POLICY      CQ head doorbell of a polled queue: lazy (default: once the\n"
	       "                            CQ could fill) or reap (after every reap)\n"
	       "      --no-latency          no clock reads per batch and no latency histogram (measures\n"
	       "                            what the latency bookkeeping costs)\n"
	       "      --count-driver        under valgrind --tool=callgrind --collect-atstart=no, collect\n"
	       "                            only inside the driver's calls (see docs/benchmarks.md)\n"
	       "      --map-per-io          build each command's data pointer (vfn_rq_map_iova) instead of\n"
	       "                            once per buffer before the run\n"
	       "      --sqe-per-io          --map-per-io, and build each command with vfn_nvme_rw_sqe()\n"
	       "                            inside --count-driver's region (what the block API does per\n"
	       "                            I/O; not with --verify or --pi)\n"
	       "      --cmdlog=N            keep each I/O queue's last N commands and completions, and\n"
	       "                            the admin queue's from bring-up on, and print them decoded\n"
	       "                            on stderr at the end\n"
	       "      --verify              write a pattern stamped with LBA, seed and generation in every\n"
	       "                            block and check every read of a block this run wrote; a\n"
	       "                            mismatch fails the run (not with -w read or randread)\n"
	       "      --cmb=WHAT            put the I/O SQs (sq) or the data buffers (data) in the\n"
	       "                            controller memory buffer (docs/cmb.md)\n"
	       "      --pi                  end-to-end protection on a namespace with PI whose metadata is\n"
	       "                            the tuple only: writes with PRACT (the controller generates PI,\n"
	       "                            ref tag = LBA), reads with PRACT and PRCHK (it verifies them)\n"
	       "  -o, --output-format=FMT   normal (default) or json\n"
	       "  -v, --verbose             show the library's debug trace on stderr\n"
	       "  -h, --help                show this help\n",
	       PERF_USAGE);
}

/* A decimal number in [@min, @max]. */
static int perf_num(const char *s, unsigned long min, unsigned long max, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int perf_parse_rw(const char *s, enum perf_rw *rw)
{
	for (size_t i = 0; i < sizeof(perf_rw_names) / sizeof(perf_rw_names[0]); i++) {
		if (!strcmp(s, perf_rw_names[i])) {
			*rw = (enum perf_rw)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int perf_bad(const char *what, const char *val)
{
	return errmsg_usage("perf", PERF_USAGE, "%s: '%s'", what, val);
}

/* Handles one option; 0 to go on, else the exit status (+1: help was printed). */
static int perf_opt(struct perf_opts *o, int c, const char *arg)
{
	uint32_t v;

	switch (c) {
	case 'w':
		return perf_parse_rw(arg, &o->rw) ? perf_bad("unknown workload (-w)", arg) : 0;
	case 'M':
		if (perf_num(arg, 0, 100, &v))
			return perf_bad("read percentage (-M) must be 0..100", arg);
		o->rwmix_read = v;
		return 0;
	case 's':
		return perf_num(arg, 512, 1u << 26, &o->bs) ? perf_bad("block size (-s) must be 512..64M bytes", arg)
							    : 0;
	case 'q':
		return perf_num(arg, 1, 65535, &o->qd) ? perf_bad("queue depth (-q) must be 1..65535", arg) : 0;
	case 'c':
		return perf_num(arg, 1, 65535, &o->nr_queues) ? perf_bad("queues (-c) must be 1..65535", arg) : 0;
	case 't':
		return perf_num(arg, 1, 86400, &o->time_s) ? perf_bad("run time (-t) must be 1..86400 s", arg) : 0;
	case OPT_WARMUP:
		return perf_num(arg, 0, 86400, &o->warmup_s) ? perf_bad("warm-up must be 0..86400 s", arg) : 0;
	case 'n':
		o->nsid_given = true;
		return perf_num(arg, 1, 0xfffffffe, &o->nsid) ? errmsg_bad_nsid(arg) : 0;
	case OPT_BATCH:
		return perf_num(arg, 0, 65535, &o->batch) ? perf_bad("--batch must be 0..65535", arg) : 0;
	case OPT_CMDLOG:
		return perf_num(arg, 1, 65536, &o->cmdlog) ? perf_bad("--cmdlog must be 1..65536 commands", arg) : 0;
	case OPT_IRQ:
		o->mode = PERF_MODE_IRQ;
		return 0;
	case OPT_POLL:
		o->mode = PERF_MODE_POLL;
		return 0;
	case OPT_NO_SHADOW:
		o->shadow = PERF_SHADOW_OFF;
		return 0;
	case OPT_COUNT_DRIVER:
		if (!PERF_HAVE_CALLGRIND)
			return perf_bad("--count-driver needs vfn built with <valgrind/callgrind.h>", "--count-driver");
		o->count_driver = true;
		return 0;
	case OPT_MAP_PER_IO:
		o->map_per_io = true;
		return 0;
	case OPT_SQE_PER_IO:
		o->map_per_io = o->sqe_per_io = true;
		return 0;
	case OPT_VERIFY:
		o->verify = true;
		return 0;
	case OPT_NO_LATENCY:
		o->no_latency = true;
		return 0;
	case OPT_PI:
		o->pi = true;
		return 0;
	default:
		return -1;
	}
}

/* The options that are not numbers; 0 to go on, else the exit status (-1: help). */
static int perf_opt_other(struct perf_opts *o, int c, const char *arg, char **argv)
{
	switch (c) {
	case OPT_CLOCK:
		if (!strcmp(arg, "tsc") || !strcmp(arg, "monotonic")) {
#if !defined(__x86_64__) && !defined(__i386__)
			if (arg[0] == 't')
				return perf_bad("--clock tsc needs an x86 CPU", arg);
#endif
			o->tsc = arg[0] == 't';
			return 0;
		}
		return perf_bad("unknown clock (--clock)", arg);
	case OPT_CQ_HEAD:
		if (strcmp(arg, "lazy") && strcmp(arg, "reap"))
			return perf_bad("unknown CQ head policy (--cq-head)", arg);
		o->cq_head_reap = arg[0] == 'r';
		return 0;
	case OPT_CMB:
		if (!strcmp(arg, "sq"))
			o->cmb = PERF_CMB_SQ;
		else if (!strcmp(arg, "data"))
			o->cmb = PERF_CMB_DATA;
		else
			return perf_bad("--cmb must be sq or data", arg);
		return 0;
	case OPT_SHADOW:
		if (!strcmp(arg, "auto"))
			o->shadow = PERF_SHADOW_AUTO;
		else if (!strcmp(arg, "on"))
			o->shadow = PERF_SHADOW_ON;
		else if (!strcmp(arg, "off"))
			o->shadow = PERF_SHADOW_OFF;
		else
			return perf_bad("--shadow-doorbells must be auto, on or off", arg);
		return 0;
	case 'o':
		return out_parse_fmt(arg, &o->fmt) ? errmsg_bad_format(arg) : 0;
	case 'v':
		vfn_log_set_level(VFN_LOG_DEBUG);
		return 0;
	case 'h':
		perf_help();
		return -1;
	case ':':
		return errmsg_usage("perf", PERF_USAGE, "option '%s' needs a value", argv[optind - 1]);
	default:
		return errmsg_usage("perf", PERF_USAGE, "unknown option '%s'", argv[optind - 1]);
	}
}

static void perf_defaults(struct perf_opts *o)
{
	*o = (struct perf_opts)
	{
		.rw = PERF_RANDREAD, .rwmix_read = 50, .bs = 4096, .qd = 1, .nr_queues = 1, .time_s = 10, .nsid = 1,
#if defined(__x86_64__) || defined(__i386__)
		.tsc = true,
#endif
		.fmt = OUT_NORMAL,
	};
}

/* Fills @o from the command line; 0 to run, else the exit status (-1: help printed). */
static int perf_parse(int argc, char **argv, struct perf_opts *o)
{
	int c, ret;

	perf_defaults(o);
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":w:M:s:q:c:t:n:o:vh", perf_longopts, NULL)) != -1) {
		ret = perf_opt(o, c, optarg);
		if (ret == -1)
			ret = perf_opt_other(o, c, optarg, argv);
		if (ret)
			return ret;
	}
	if (optind >= argc)
		return errmsg_usage("perf", PERF_USAGE, "perf needs a device (PCI address, /dev/ngXnY or sim:...)");
	if (optind + 1 < argc)
		return errmsg_usage("perf", PERF_USAGE, "unexpected argument '%s'", argv[optind + 1]);
	o->dev = argv[optind];
	return 0;
}

/* --verify: the count and the first block that did not match, in one line on stderr. */
static void perf_verify_report(const struct perf_job *j)
{
	const struct verify_mismatch *m = &j->first_mismatch;
	char found[96];

	if (!m->stamped)
		snprintf(found, sizeof(found), "no stamp");
	else
		snprintf(found, sizeof(found), "generation %u LBA %llu%s", m->found_gen,
			 (unsigned long long)m->found_lba, m->found_seed == j->vseed ? "" : " of another seed");
	fprintf(stderr,
		"vfn: verify: %llu of %llu blocks read back differ; first: LBA %llu expected generation %u LBA %llu,"
		" found %s, first difference at byte %u of the block\n",
		(unsigned long long)j->verify_errors, (unsigned long long)j->verified, (unsigned long long)m->lba,
		m->gen, (unsigned long long)m->lba, found, m->offset);
}

/* Sets up the queues, runs, reports; the exit status. */
static int perf_job_run(struct perf_job *j)
{
	struct perf_result r;
	int ret;

	ret = perf_queues_init(j);
	if (ret)
		return errmsg("setting up %u queue(s) of depth %u on %s failed: %s; rerun with -v for the trace",
			      j->o.nr_queues, j->o.qd, j->o.dev, strerror(-ret));
	perf_calibrate(j);
	ret = perf_loop(j);
	if (ret)
		return errmsg("the run on %s failed: %s; rerun with -v for the trace", j->o.dev,
			      ret == -ETIMEDOUT ? "commands still in flight 10 s after the end" : strerror(-ret));
	perf_result(j, &r);
	if (j->o.fmt == OUT_JSON)
		perf_print_json(j, &r);
	else
		perf_print_normal(j, &r);
	if (j->verify_errors)
		perf_verify_report(j);
	if (j->errors && j->first_errno)
		return errmsg("%llu I/O commands failed, the first with %s (from the kernel)",
			      (unsigned long long)j->errors, strerror(-j->first_errno));
	if (j->errors)
		return errmsg("%llu I/O commands failed, the first with %s (0x%x)", (unsigned long long)j->errors,
			      vfn_nvme_status_str(j->first_error), j->first_error);
	return j->verify_errors ? CLI_EXIT_ERR : CLI_EXIT_OK;
}

/* --cmdlog: the admin commands, bring-up to the queues' deletion, after the I/O queues' logs. */
static void perf_admin_log_dump(struct perf_job *j)
{
	if (!j->ctrl || !j->o.cmdlog)
		return;
	fprintf(stderr, "admin queue command log (SQ 0), oldest first:\n");
	vfn_nvme_admin_log_dump(j->ctrl, stderr);
}

int cmd_perf(int argc, char **argv)
{
	struct perf_job *j;
	int ret;

	if (perf_blk_wanted(argc, argv)) /* -j THREADS: over the block API (cmd-perf-blk.c) */
		return cmd_perf_blk(argc, argv);
	j = calloc(1, sizeof(*j));
	if (!j)
		return errmsg("out of memory");
	j->epfd = -1;
	ret = perf_parse(argc, argv, &j->o);
	if (ret) {
		free(j);
		return ret < 0 ? CLI_EXIT_OK : ret;
	}
	j->o.irq = perf_use_irq(&j->o);
	ret = perf_open(j);
	if (ret)
		goto free_job;
	ret = perf_check_device(j);
	if (!ret && j->o.irq && (j->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		ret = errmsg("epoll_create1 failed: %s", strerror(errno));
	if (!ret)
		ret = perf_job_run(j);
	perf_queues_fini(j);
	perf_admin_log_dump(j);
	if (j->epfd >= 0)
		close(j->epfd);
	verify_map_fini(&j->vmap);
	vfn_dev_close(j->dev);
free_job:
	free(j);
	return ret;
}
