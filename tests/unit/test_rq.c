/* SPDX-License-Identifier: MIT */
/*
 * Request tracker and completion handling, on a queue pair built by hand in
 * ordinary memory (the "controller" is the test writing CQEs), and data
 * pointers of requests through an address space with a no-op backend.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <vfn/rq.h>

#include "iommu/iommu-priv.h"
#include "nvme/rq-priv.h"

#include "fake-iommu.h"

#define QP_ENTRIES 4
#define LIST_LEN 256
#define PAGE 4096

struct fixture {
	struct vfn_nvme_qpair qp;
	struct vfn_nvme_sqe sqes[QP_ENTRIES];
	struct vfn_nvme_cqe cqes[QP_ENTRIES];
	uint32_t sq_db, cq_db;
	uint8_t list_mem[(QP_ENTRIES - 1) * LIST_LEN];
	uint16_t ctrl_phase; /* what the "controller" writes next */
	uint16_t ctrl_tail;
};

/* A queue pair with QP_ENTRIES-slot rings in @f, SQ/CQ 1, polled. */
static void fixture_init(struct fixture *f)
{
	struct vfn_nvme_qpair *qp = &f->qp;

	qp->cq = (struct vfn_cq){
		.cqes = f->cqes, .db = &f->cq_db, .qid = 1, .entries = QP_ENTRIES, .phase = 1, .vector = -1, .efd = -1
	};
	qp->sq = (struct vfn_sq){ .sqes = f->sqes, .db = &f->sq_db, .cq = &qp->cq, .qid = 1, .entries = QP_ENTRIES };
	qp->efd = -1;
	qp->page_size = PAGE;
	qp->max_xfer = 64 * PAGE;
	qp->timeout_ms = 100;
	assert_int_equal(vfn_rq_tracker_init(&qp->rqs, QP_ENTRIES - 1, f->list_mem, 0x10000, LIST_LEN), 0);
	f->ctrl_phase = 1;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fixture_init(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vfn_rq_tracker_fini(&f->qp.rqs);
	free(f);
	return 0;
}

/* The "controller" posts a completion at its CQ tail. */
static void post_cqe(struct fixture *f, uint16_t cid, uint16_t sqid, uint16_t sqhd, uint16_t status)
{
	struct vfn_nvme_cqe *c = &f->cqes[f->ctrl_tail];

	c->cid = vfn_cpu_to_le16(cid);
	c->sqid = vfn_cpu_to_le16(sqid);
	c->sqhd = vfn_cpu_to_le16(sqhd);
	c->dw0 = vfn_cpu_to_le32(0xc0ffee00u + cid);
	c->sfp = vfn_cpu_to_le16((uint16_t)(status << 1 | f->ctrl_phase));
	if (++f->ctrl_tail == QP_ENTRIES) {
		f->ctrl_tail = 0;
		f->ctrl_phase ^= 1;
	}
}

static struct vfn_rq *post_one(struct fixture *f)
{
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_READ };
	struct vfn_rq *rq = vfn_rq_alloc(&f->qp);

	assert_non_null(rq);
	assert_int_equal(vfn_rq_post(&f->qp, rq, &sqe), 0);
	assert_int_equal(rq->state, VFN_RQ_INFLIGHT);
	return rq;
}

static void test_alloc_until_exhausted(void **state)
{
	struct fixture *f = *state;
	struct vfn_nvme_qpair *qp = &f->qp;
	struct vfn_rq *a, *b, *c;

	a = vfn_rq_alloc(qp);
	b = vfn_rq_alloc(qp);
	c = vfn_rq_alloc(qp);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(a->cid, 0);
	assert_int_equal(b->cid, 1);
	assert_int_equal(c->cid, 2);
	assert_int_equal(qp->rqs.nr_free, 0);
	assert_null(vfn_rq_alloc(qp));

	/* Each request has its own slice of list memory. */
	assert_ptr_equal(b->list, f->list_mem + LIST_LEN);
	assert_int_equal(c->list_iova, 0x10000 + 2 * LIST_LEN);
	assert_int_equal(a->list_len, LIST_LEN);

	vfn_rq_free(qp, b);
	assert_int_equal(qp->rqs.nr_free, 1);
	assert_int_equal(b->state, VFN_RQ_FREE);
	vfn_rq_free(qp, b); /* twice: no effect */
	assert_int_equal(qp->rqs.nr_free, 1);
	assert_ptr_equal(vfn_rq_alloc(qp), b);
	assert_null(vfn_rq_alloc(qp));
}

static void test_lookup(void **state)
{
	struct fixture *f = *state;

	assert_ptr_equal(vfn_rq_lookup(&f->qp, 0), &f->qp.rqs.rqs[0]);
	assert_ptr_equal(vfn_rq_lookup(&f->qp, 2), &f->qp.rqs.rqs[2]);
	assert_null(vfn_rq_lookup(&f->qp, 3));
	assert_null(vfn_rq_lookup(&f->qp, 0xffff));
}

static void test_post_fills_sqe_and_tail(void **state)
{
	struct fixture *f = *state;
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_WRITE, .nsid = vfn_cpu_to_le32(1) };
	struct vfn_rq *rq = vfn_rq_alloc(&f->qp);

	assert_non_null(rq);
	vfn_rq_alloc(&f->qp);	   /* cid 1 */
	rq = vfn_rq_alloc(&f->qp); /* cid 2 */
	assert_int_equal(vfn_rq_post(&f->qp, rq, &sqe), 0);
	assert_int_equal(f->sqes[0].opcode, VFN_NVME_CMD_WRITE);
	assert_int_equal(vfn_le16_to_cpu(f->sqes[0].cid), 2);
	assert_int_equal(f->qp.sq.tail, 1);
	assert_int_equal(f->sq_db, 0); /* not rung */
	vfn_nvme_qpair_submit(&f->qp);
	assert_int_equal(f->sq_db, 1);
	/* Posting twice is refused. */
	assert_int_equal(vfn_rq_post(&f->qp, rq, &sqe), -EINVAL);
	assert_int_equal(f->qp.sq.tail, 1);
}

static void test_reap_completes(void **state)
{
	struct fixture *f = *state;
	struct vfn_rq *rq = post_one(f);

	assert_int_equal(vfn_nvme_qpair_reap(&f->qp, 0), 0); /* nothing posted yet */
	post_cqe(f, rq->cid, 1, 1, 0);
	assert_int_equal(vfn_nvme_qpair_reap(&f->qp, 0), 1);
	assert_int_equal(rq->state, VFN_RQ_DONE);
	assert_int_equal(vfn_le32_to_cpu(rq->cqe.dw0), 0xc0ffee00u);
	assert_int_equal(f->qp.sq.head, 1);
	/* Polled: 1 consumed + 1 request held cannot overflow the 3-slot CQ: no head write yet. */
	assert_int_equal(f->cq_db, 0);
	assert_int_equal(f->qp.cq.db_head, 0);
	assert_int_equal(f->qp.rqs.stats.completed, 1);
	vfn_rq_free(&f->qp, rq);
	assert_int_equal(f->qp.rqs.nr_free, 3);
}

/*
 * A polled pair writes the CQ head only when the consumed CQEs plus the
 * requests not free could fill the CQ; a pair with interrupts after every
 * reap that consumed something.
 */
static void test_cq_head_lazy(void **state)
{
	struct fixture *f = *state;
	struct vfn_nvme_qpair *qp = &f->qp;
	struct vfn_rq *a = post_one(f), *b = post_one(f);

	vfn_nvme_qpair_submit(qp);
	post_cqe(f, a->cid, 1, 1, 0);
	assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 1);
	/* 1 consumed + 2 not free (a held DONE, b in flight) fit the 3-slot CQ: no write yet... */
	assert_int_equal(f->cq_db, 0);
	assert_int_equal(qp->cq.db_head, 0);
	/* ...a third request could overflow it: the submit writes the head before the SQ tail. */
	post_one(f);
	vfn_nvme_qpair_submit(qp);
	assert_int_equal(f->cq_db, 1);
	assert_int_equal(f->sq_db, 3);
	assert_int_equal(qp->cq.mmio_db_writes, 1);
	vfn_rq_free(qp, a);
	/* The same with interrupts: every reap writes it. */
	qp->efd = 1000;
	post_cqe(f, b->cid, 1, 2, 0);
	assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 1);
	assert_int_equal(f->cq_db, 2);
	assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 0);
	assert_int_equal(qp->cq.mmio_db_writes, 2); /* nothing consumed: no write */
	qp->efd = -1;
	vfn_rq_free(qp, b);
}

static void test_stale_and_bogus_completions_dropped(void **state)
{
	struct fixture *f = *state;
	struct vfn_nvme_qpair *qp = &f->qp;
	struct vfn_rq *rq = post_one(f);
	uint16_t cid = rq->cid;

	post_cqe(f, cid, 1, 1, 0);
	assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 1);
	vfn_rq_free(qp, rq);

	/* The same cid again (stale), an unknown cid, another SQ's completion. */
	post_cqe(f, cid, 1, 1, 0);
	post_cqe(f, 77, 1, 1, 0);
	post_cqe(f, 1, 9, 1, 0);
	assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 3);
	assert_int_equal(qp->rqs.stats.not_inflight, 1);
	assert_int_equal(qp->rqs.stats.bad_cid, 1);
	assert_int_equal(qp->rqs.stats.wrong_sqid, 1);
	assert_int_equal(qp->rqs.stats.completed, 1);
	/* Nothing was completed twice or freed twice. */
	assert_int_equal(rq->state, VFN_RQ_FREE);
	assert_int_equal(qp->rqs.nr_free, 3);
	assert_int_equal(f->cq_db, 0); /* 4 consumed: the head wrapped */
	assert_int_equal(qp->cq.phase, 0);
}

/* Reaps (finding nothing) for @ms milliseconds. */
static void reap_for(struct vfn_nvme_qpair *qp, unsigned int ms)
{
	uint64_t t0 = vfn_now_ns();

	while (vfn_now_ns() - t0 < ms * 1000000ull)
		assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 0);
}

/*
 * A controller that missed a shadow doorbell update never looks at the
 * queue again.  Here the tail is published as a shadow write that EventIdx
 * did not ask to repeat over MMIO; the reaps that find nothing write it
 * to the MMIO doorbell after VFN_QP_STALL_MS, once, counted.
 */
static void test_stalled_queue_rerings(void **state)
{
	struct fixture *f = *state;
	struct vfn_nvme_qpair *qp = &f->qp;
	struct vfn_rq *a = post_one(f), *b = post_one(f);
	uint64_t t0, writes;

	qp->sq.db_tail = qp->sq.tail; /* published in the shadow only */
	writes = qp->sq.mmio_db_writes;
	t0 = vfn_now_ns();
	while (qp->rerung == 0 && vfn_now_ns() - t0 < 2000000000ull)
		assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 0);
	assert_int_equal(qp->rerung, 1);
	assert_true(vfn_now_ns() - t0 >= VFN_QP_STALL_MS * 1000000ull);
	assert_int_equal(f->sq_db, 2);
	assert_int_equal(qp->sq.mmio_tail, 2);
	assert_int_equal(qp->sq.mmio_db_writes, writes + 1);
	assert_int_equal(f->cq_db, 0); /* the CQ head was never only in the shadow */
	/* The register has the value now: never written again with it. */
	f->sq_db = 0xdead;
	reap_for(qp, 3 * VFN_QP_STALL_MS);
	assert_int_equal(qp->rerung, 1);
	assert_int_equal(f->sq_db, 0xdead);

	post_cqe(f, a->cid, 1, 1, 0);
	assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 1);
	assert_int_equal(qp->idle_reaps, 0);
	assert_int_equal(qp->stall_ns, 0);
	post_cqe(f, b->cid, 1, 2, 0);
	assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 1);
	vfn_rq_free(qp, a);
	vfn_rq_free(qp, b);
}

/*
 * What is no missed doorbell: a slow command rung over MMIO, a request
 * allocated and never posted, a failed pair: no doorbell is written, however
 * long the reaps find nothing.
 */
static void test_slow_queue_not_rerung(void **state)
{
	struct fixture *f = *state;
	struct vfn_nvme_qpair *qp = &f->qp;
	struct vfn_rq *a = post_one(f), *idle;
	uint64_t writes;

	vfn_nvme_qpair_submit(qp);
	assert_int_equal(f->sq_db, 1);
	idle = vfn_rq_alloc(qp);
	assert_non_null(idle);
	writes = qp->sq.mmio_db_writes + qp->cq.mmio_db_writes;
	f->sq_db = 0xdead;
	reap_for(qp, 3 * VFN_QP_STALL_MS);
	assert_int_equal(qp->rerung, 0);
	assert_int_equal(f->sq_db, 0xdead);
	assert_int_equal(qp->sq.mmio_db_writes + qp->cq.mmio_db_writes, writes);

	qp->sq.db_tail = 2; /* a value only the shadow has, on a failed pair */
	qp->err = -ECANCELED;
	reap_for(qp, 3 * VFN_QP_STALL_MS);
	assert_int_equal(qp->rerung, 0);
	qp->err = 0;
	qp->sq.db_tail = 1;
	post_cqe(f, a->cid, 1, 1, 0);
	assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 1);
	vfn_rq_free(qp, a);
	vfn_rq_free(qp, idle);
}

static void test_abandoned_request_released_by_late_completion(void **state)
{
	struct fixture *f = *state;
	struct vfn_nvme_qpair *qp = &f->qp;
	struct vfn_rq *rq = post_one(f);

	vfn_rq_free(qp, rq);
	assert_int_equal(rq->state, VFN_RQ_ABANDONED);
	assert_int_equal(qp->rqs.nr_free, 2); /* the id is not reusable yet */
	post_cqe(f, rq->cid, 1, 1, 0);
	assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 1);
	assert_int_equal(qp->rqs.stats.late, 1);
	assert_int_equal(qp->rqs.stats.completed, 0);
	assert_int_equal(rq->state, VFN_RQ_FREE);
	assert_int_equal(qp->rqs.nr_free, 3);
}

static int cb_calls;

static void count_cb(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	(void)qp;
	cb_calls++;
	assert_int_equal(vfn_le16_to_cpu(cqe->cid), rq->cid);
	assert_ptr_equal(rq->opaque, &cb_calls);
}

static void freeing_cb(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	(void)cqe;
	cb_calls++;
	vfn_rq_free(qp, rq);
}

static void test_callback_then_released(void **state)
{
	struct fixture *f = *state;
	struct vfn_nvme_qpair *qp = &f->qp;
	struct vfn_rq *a = post_one(f), *b = post_one(f);

	cb_calls = 0;
	a->cb = count_cb;
	a->opaque = &cb_calls;
	b->cb = freeing_cb;
	post_cqe(f, b->cid, 1, 2, 0);
	post_cqe(f, a->cid, 1, 2, VFN_NVME_SC_LBA_RANGE);
	assert_int_equal(vfn_nvme_qpair_reap(qp, 1), 1); /* @max honoured */
	assert_int_equal(cb_calls, 1);
	assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 1);
	assert_int_equal(cb_calls, 2);
	assert_int_equal(a->state, VFN_RQ_FREE);
	assert_int_equal(b->state, VFN_RQ_FREE);
	assert_int_equal(qp->rqs.nr_free, 3); /* b was not released twice */
	assert_int_equal(vfn_nvme_cqe_status(&a->cqe), VFN_NVME_SC_LBA_RANGE);
}

/* VFN_RQ_F_DIRECT: the reap releases the request, counts it, then calls cb(arg, err, status). */
struct direct_rec {
	struct vfn_nvme_qpair *qp;
	int calls, err;
	uint16_t status;
	uint32_t nr_free; /* when called */
	uint64_t done;	  /* qp->direct_done when called */
};

static void direct_cb(void *arg, int err, uint16_t status)
{
	struct direct_rec *r = arg;

	r->calls++;
	r->err = err;
	r->status = status;
	r->nr_free = r->qp->rqs.nr_free;
	r->done = r->qp->direct_done;
}

static void test_direct_callback(void **state)
{
	struct fixture *f = *state;
	struct vfn_nvme_qpair *qp = &f->qp;
	struct direct_rec r = { .qp = qp };
	struct vfn_rq *a = post_one(f);
	uint32_t nr_free = qp->rqs.nr_free;

	a->flags = VFN_RQ_F_DIRECT;
	a->cb = (vfn_rq_cb)(void (*)(void))direct_cb;
	a->opaque = &r;
	post_cqe(f, a->cid, 1, 1, VFN_NVME_SC_LBA_RANGE);
	assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 1);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, -EIO);
	assert_int_equal(r.status, VFN_NVME_SC_LBA_RANGE);
	assert_int_equal(r.nr_free, nr_free + 1); /* released before the call: a re-post may take it */
	assert_int_equal(r.done, 1);
	assert_int_equal(a->state, VFN_RQ_FREE);

	a = post_one(f);
	a->flags = VFN_RQ_F_DIRECT;
	a->cb = (vfn_rq_cb)(void (*)(void))direct_cb;
	a->opaque = &r;
	post_cqe(f, a->cid, 1, 2, 0);
	assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 1);
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(qp->direct_done, 2);
	assert_int_equal(qp->rqs.nr_free, nr_free + 1);
}

/*
 * Once the last completion owed is delivered (every request free again),
 * the reap stops without looking at the next slot: a stray CQE there is
 * left to the next reap, which drops and counts it.  While a request is
 * still out, strays are consumed with the rest.
 */
static void test_reap_stops_when_nothing_is_owed(void **state)
{
	struct fixture *f = *state;
	struct vfn_nvme_qpair *qp = &f->qp;
	struct vfn_rq *a = post_one(f), *b;

	cb_calls = 0;
	a->cb = count_cb;
	a->opaque = &cb_calls;
	post_cqe(f, a->cid, 1, 1, 0);
	post_cqe(f, 77, 1, 1, 0);
	assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 1);
	assert_int_equal(cb_calls, 1);
	assert_int_equal(qp->rqs.nr_free, 3);
	assert_int_equal(qp->rqs.stats.bad_cid, 0);
	assert_int_equal(qp->cq.head, 1);
	assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 1);
	assert_int_equal(qp->rqs.stats.bad_cid, 1);
	assert_int_equal(qp->cq.head, 2);
	/* b still out after a's completion: the stray behind it goes in the same reap. */
	a = post_one(f);
	b = post_one(f);
	a->cb = count_cb;
	a->opaque = &cb_calls;
	post_cqe(f, a->cid, 1, 3, 0);
	post_cqe(f, 77, 1, 3, 0);
	assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 2);
	assert_int_equal(qp->rqs.stats.bad_cid, 2);
	assert_int_equal(b->state, VFN_RQ_INFLIGHT);
	vfn_rq_free(qp, b);
}

/* Ten times the queue size: the CQ phase flips and the SQ wraps. */
static void test_wraparound(void **state)
{
	struct fixture *f = *state;
	struct vfn_nvme_qpair *qp = &f->qp;

	for (int i = 0; i < 10 * QP_ENTRIES; i++) {
		struct vfn_rq *rq = post_one(f);

		vfn_nvme_qpair_submit(qp);
		post_cqe(f, rq->cid, 1, qp->sq.tail, 0);
		assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 1);
		assert_int_equal(rq->state, VFN_RQ_DONE);
		vfn_rq_free(qp, rq);
	}
	assert_int_equal(qp->rqs.stats.completed, 10 * QP_ENTRIES);
	assert_int_equal(qp->cq.phase, 1); /* 40 / 4 = 10 flips */
	assert_int_equal(qp->cq.head, 0);
	assert_int_equal(qp->sq.head, qp->sq.tail);
	assert_int_equal(vfn_sq_space(&qp->sq), QP_ENTRIES - 1);
}

static void test_wait_times_out_and_abandons(void **state)
{
	struct fixture *f = *state;
	struct vfn_rq *rq = post_one(f);
	uint64_t t0 = vfn_now_ns();

	assert_int_equal(vfn_rq_wait(&f->qp, rq, 20), -ETIMEDOUT);
	assert_true(vfn_now_ns() - t0 >= 20000000ull);
	assert_int_equal(rq->state, VFN_RQ_ABANDONED);
	post_cqe(f, rq->cid, 1, 1, 0);
	assert_int_equal(vfn_nvme_qpair_reap(&f->qp, 0), 1);
	assert_int_equal(rq->state, VFN_RQ_FREE);
	assert_int_equal(f->qp.rqs.stats.late, 1);
}

static void test_list_len(void **state)
{
	size_t max;

	(void)state;
	max = 512 * 1024; /* QEMU's MDTS: 129 PRP entries */
	assert_int_equal(vfn_rq_list_len(4096, &max), 2048);
	assert_int_equal(max, 512 * 1024);
	max = 8192;
	assert_int_equal(vfn_rq_list_len(4096, &max), 256);
	assert_int_equal(max, 8192);
	max = 0; /* no limit: what one list page covers */
	assert_int_equal(vfn_rq_list_len(4096, &max), 4096);
	assert_int_equal(max, 512 * 4096);
	max = 64ull << 20;
	assert_int_equal(vfn_rq_list_len(4096, &max), 4096);
	assert_int_equal(max, 512 * 4096);
}

static void test_tracker_init_rejects(void **state)
{
	struct vfn_rq_tracker t;

	(void)state;
	assert_int_equal(vfn_rq_tracker_init(&t, 0, NULL, 0, 0), -EINVAL);
	assert_int_equal(vfn_rq_tracker_init(&t, 65536, NULL, 0, 0), -EINVAL);
	assert_int_equal(vfn_rq_tracker_init(&t, 65535, NULL, 0, 0), 0);
	assert_int_equal(t.rqs[65534].cid, 65534);
	assert_null(t.rqs[5].list);
	vfn_rq_tracker_fini(&t);
}

/* ---- data pointers through a fake address space ------------------------ */

#define BUF_PAGES 8

struct map_fixture {
	struct fixture f;
	struct vfn_iommu *iommu;
	uint8_t *buf; /* BUF_PAGES pages: two mappings of 4 pages each */
};

static int map_setup(void **state)
{
	struct map_fixture *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	fixture_init(&m->f);
	fake_iommu_alloc(&m->iommu);
	assert_true(vfn_mem_alloc(BUF_PAGES * PAGE, (void **)&m->buf) > 0);
	/* Two mappings with IOVAs far apart: the buffer is contiguous only in host memory. */
	assert_int_equal(vfn_iommu_map_at(m->iommu, m->buf, 4 * PAGE, 0x200000), 0);
	assert_int_equal(vfn_iommu_map_at(m->iommu, m->buf + 4 * PAGE, 4 * PAGE, 0x800000), 0);
	m->f.qp.iommu = m->iommu;
	m->f.qp.sgl = true;
	*state = m;
	return 0;
}

static int map_teardown(void **state)
{
	struct map_fixture *m = *state;

	vfn_iommu_unmap(m->iommu, m->buf);
	vfn_iommu_unmap(m->iommu, m->buf + 4 * PAGE);
	vfn_iommu_put(m->iommu);
	vfn_mem_free(m->buf, BUF_PAGES * PAGE);
	vfn_rq_tracker_fini(&m->f.qp.rqs);
	free(m);
	return 0;
}

static void test_map_prp(void **state)
{
	struct map_fixture *m = *state;
	struct vfn_nvme_qpair *qp = &m->f.qp;
	struct vfn_nvme_sqe sqe = { .flags = 0xc0 };
	struct vfn_rq *rq = vfn_rq_alloc(qp);
	vfn_le64 *list = rq->list;

	/* One page at offset 512. */
	assert_int_equal(vfn_rq_map(qp, rq, &sqe, m->buf + 512, 512, false), 0);
	assert_int_equal(sqe.flags & 0xc0, VFN_NVME_SQE_PSDT_PRP);
	assert_int_equal(vfn_le64_to_cpu(sqe.dptr.prp1), 0x200200);
	assert_int_equal(vfn_le64_to_cpu(sqe.dptr.prp2), 0);
	/* Three pages from offset 512: PRP2 is the request's own list. */
	assert_int_equal(vfn_rq_map(qp, rq, &sqe, m->buf + 512, 3 * PAGE, false), 0);
	assert_int_equal(vfn_le64_to_cpu(sqe.dptr.prp1), 0x200200);
	assert_int_equal(vfn_le64_to_cpu(sqe.dptr.prp2), rq->list_iova);
	assert_int_equal(vfn_le64_to_cpu(list[0]), 0x201000);
	assert_int_equal(vfn_le64_to_cpu(list[1]), 0x202000);
	assert_int_equal(vfn_le64_to_cpu(list[2]), 0x203000);
	/* Across the two mappings PRPs cannot describe it; unmapped memory neither. */
	assert_int_equal(vfn_rq_map(qp, rq, &sqe, m->buf + 3 * PAGE, 2 * PAGE, false), -EINVAL);
	assert_int_equal(vfn_rq_map(qp, rq, &sqe, &sqe, 64, false), -EFAULT);
	/* Beyond the queue's transfer limit. */
	assert_int_equal(vfn_rq_map(qp, rq, &sqe, m->buf, qp->max_xfer + 1, false), -EINVAL);
	/* No data: the pointer is cleared. */
	assert_int_equal(vfn_rq_map(qp, rq, &sqe, NULL, 0, false), 0);
	assert_int_equal(sqe.dptr.prp1, 0);
	vfn_rq_free(qp, rq);
}

/*
 * vfn_rq_map_iova(): the inline one-page case (PRP1 only, up to the last
 * byte of the page; PSDT cleared, the FUSE bits kept) and the out-of-line
 * rest (PRP2, a PRP list, length 0, the errors), all from device addresses.
 */
static void test_map_iova(void **state)
{
	struct map_fixture *m = *state;
	struct vfn_nvme_qpair *qp = &m->f.qp;
	struct vfn_nvme_sqe sqe = { .flags = 0xc1 };
	struct vfn_rq *rq = vfn_rq_alloc(qp);
	vfn_le64 *list = rq->list;

	sqe.dptr.prp2 = vfn_cpu_to_le64(0xdead000);
	assert_int_equal(vfn_rq_map_iova(qp, rq, &sqe, 0x300e00, 512), 0);
	assert_int_equal(sqe.flags, 0x01);
	assert_int_equal(vfn_le64_to_cpu(sqe.dptr.prp1), 0x300e00);
	assert_int_equal(sqe.dptr.prp2, 0);
	/* The last byte of the page is still PRP1 only; one more needs PRP2. */
	assert_int_equal(vfn_rq_map_iova(qp, rq, &sqe, 0x300004, PAGE - 4), 0);
	assert_int_equal(sqe.dptr.prp2, 0);
	assert_int_equal(vfn_rq_map_iova(qp, rq, &sqe, 0x300004, PAGE - 3), 0);
	assert_int_equal(vfn_le64_to_cpu(sqe.dptr.prp1), 0x300004);
	assert_int_equal(vfn_le64_to_cpu(sqe.dptr.prp2), 0x301000);
	/* Three pages from offset 8: PRP2 is the request's own list. */
	assert_int_equal(vfn_rq_map_iova(qp, rq, &sqe, 0x300008, 3 * PAGE), 0);
	assert_int_equal(vfn_le64_to_cpu(sqe.dptr.prp2), rq->list_iova);
	assert_int_equal(vfn_le64_to_cpu(list[0]), 0x301000);
	assert_int_equal(vfn_le64_to_cpu(list[2]), 0x303000);
	/* Not dword aligned, beyond the transfer limit (also within one page). */
	assert_int_equal(vfn_rq_map_iova(qp, rq, &sqe, 0x300002, 512), -EINVAL);
	assert_int_equal(vfn_rq_map_iova(qp, rq, &sqe, 0x300000, qp->max_xfer + 1), -EINVAL);
	qp->max_xfer = 1024;
	assert_int_equal(vfn_rq_map_iova(qp, rq, &sqe, 0x300000, 2048), -EINVAL);
	assert_int_equal(vfn_rq_map_iova(qp, rq, &sqe, 0x300000, 1024), 0);
	/* No data: the pointer is cleared. */
	assert_int_equal(vfn_rq_map_iova(qp, rq, &sqe, 0x300000, 0), 0);
	assert_int_equal(sqe.dptr.prp1, 0);
	assert_int_equal(sqe.flags, 0x01);
	vfn_rq_free(qp, rq);
}

static void test_map_sgl(void **state)
{
	struct map_fixture *m = *state;
	struct vfn_nvme_qpair *qp = &m->f.qp;
	struct vfn_nvme_sqe sqe = { 0 };
	struct vfn_rq *rq = vfn_rq_alloc(qp);
	struct vfn_nvme_sgl_desc *seg = rq->list;

	/* Inside one mapping: one Data Block descriptor in the SQE. */
	assert_int_equal(vfn_rq_map(qp, rq, &sqe, m->buf + 512, 3 * PAGE, true), 0);
	assert_int_equal(sqe.flags & 0xc0, VFN_NVME_SQE_PSDT_SGL_MPTR_CONTIG);
	assert_int_equal(sqe.dptr.sgl.type, VFN_NVME_SGL_TYPE_DATA_BLOCK << 4);
	assert_int_equal(vfn_le64_to_cpu(sqe.dptr.sgl.addr), 0x200200);
	assert_int_equal(vfn_le32_to_cpu(sqe.dptr.sgl.length), 3 * PAGE);
	/* Across mappings: a Last Segment descriptor pointing at two Data Blocks. */
	assert_int_equal(vfn_rq_map(qp, rq, &sqe, m->buf + 3 * PAGE + 100, 2 * PAGE, true), 0);
	assert_int_equal(sqe.dptr.sgl.type, VFN_NVME_SGL_TYPE_LAST_SEGMENT << 4);
	assert_int_equal(vfn_le64_to_cpu(sqe.dptr.sgl.addr), rq->list_iova);
	assert_int_equal(vfn_le32_to_cpu(sqe.dptr.sgl.length), 32);
	assert_int_equal(vfn_le64_to_cpu(seg[0].addr), 0x203000 + 100);
	assert_int_equal(vfn_le32_to_cpu(seg[0].length), PAGE - 100);
	assert_int_equal(vfn_le64_to_cpu(seg[1].addr), 0x800000);
	assert_int_equal(vfn_le32_to_cpu(seg[1].length), PAGE + 100);
	/* A controller without SGLs. */
	qp->sgl = false;
	assert_int_equal(vfn_rq_map(qp, rq, &sqe, m->buf, 512, true), -ENOTSUP);
	vfn_rq_free(qp, rq);
}

static int split_calls;

static void split_cb(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	(void)qp;
	split_calls++;
	assert_ptr_equal(rq->opaque, &split_calls);
	assert_ptr_equal(cqe, &rq->cqe);
}

/* 8 blocks of 4 KiB on a queue that moves 4 per command: two pieces and a parent. */
static void test_async_split(void **state)
{
	struct map_fixture *m = *state;
	struct vfn_nvme_qpair *qp = &m->f.qp;
	struct vfn_nvme_ns_info ns = { .nsid = 1, .nsze = 1 << 20, .lba_size = PAGE };

	qp->max_xfer = 4 * PAGE;
	split_calls = 0;
	assert_int_equal(vfn_nvme_read_async(qp, &ns, 100, 8, m->buf, false, split_cb, &split_calls), 0);
	assert_int_equal(qp->rqs.nr_free, 0);
	assert_int_equal(qp->rqs.rqs[0].state, VFN_RQ_SPLIT);
	assert_int_equal(qp->sq.tail, 2);
	assert_int_equal(vfn_le16_to_cpu(m->f.sqes[0].cid), 1);
	assert_int_equal(vfn_le32_to_cpu(m->f.sqes[0].cdw10), 100);
	assert_int_equal(vfn_le32_to_cpu(m->f.sqes[0].cdw12), 3);
	assert_int_equal(vfn_le64_to_cpu(m->f.sqes[0].dptr.prp1), 0x200000);
	assert_int_equal(vfn_le32_to_cpu(m->f.sqes[1].cdw10), 104);
	assert_int_equal(vfn_le64_to_cpu(m->f.sqes[1].dptr.prp1), 0x800000);

	/* The second piece fails first: the callback comes once, with that status. */
	post_cqe(&m->f, 2, 1, 2, VFN_NVME_SC_LBA_RANGE);
	assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 1);
	assert_int_equal(split_calls, 0);
	post_cqe(&m->f, 1, 1, 2, 0);
	assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 1);
	assert_int_equal(split_calls, 1);
	assert_int_equal(vfn_nvme_cqe_status(&qp->rqs.rqs[0].cqe), VFN_NVME_SC_LBA_RANGE);
	assert_int_equal(qp->rqs.nr_free, 3);
}

static void test_async_split_all_or_nothing(void **state)
{
	struct map_fixture *m = *state;
	struct vfn_nvme_qpair *qp = &m->f.qp;
	struct vfn_nvme_ns_info ns = { .nsid = 1, .nsze = 1 << 20, .lba_size = PAGE };

	qp->max_xfer = 4 * PAGE;
	/* Three pieces and a parent never fit in three requests: -EINVAL, not a -EBUSY to retry forever. */
	assert_int_equal(vfn_nvme_write_async(qp, &ns, 0, 12, m->buf, false, split_cb, NULL), -EINVAL);
	/* Two pieces and a parent fit, but not while a request is taken: -EBUSY. */
	struct vfn_rq *busy = vfn_rq_alloc(qp);

	assert_non_null(busy);
	assert_int_equal(vfn_nvme_write_async(qp, &ns, 0, 8, m->buf, false, split_cb, NULL), -EBUSY);
	vfn_rq_free(qp, busy);
	/* The second piece is not mapped: the first is taken back from the SQ. */
	assert_int_equal(vfn_nvme_write_async(qp, &ns, 0, 8, m->buf + 4 * PAGE, false, split_cb, NULL), -EFAULT);
	assert_int_equal(qp->sq.tail, 0);
	assert_int_equal(qp->rqs.nr_free, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(qp->rqs.rqs[i].state, VFN_RQ_FREE);
	assert_int_equal(vfn_nvme_write_async(qp, &ns, 0, 8, m->buf, false, NULL, NULL), -EINVAL);
}

/* vfn_nvme_rw_sqe(): the fields of a Read/Write, every other byte 0 (a dirty SQE is cleared). */
static void test_rw_sqe(void **state)
{
	struct vfn_nvme_sqe sqe;
	const uint8_t *b = (const uint8_t *)&sqe;

	(void)state;
	memset(&sqe, 0xa5, sizeof(sqe));
	vfn_nvme_rw_sqe(&sqe, VFN_NVME_CMD_WRITE, 7, 0x123456789abull, 16);
	assert_int_equal(sqe.opcode, 0x01);
	assert_int_equal(vfn_le32_to_cpu(sqe.nsid), 7);
	assert_int_equal(vfn_le32_to_cpu(sqe.cdw10), 0x456789ab);
	assert_int_equal(vfn_le32_to_cpu(sqe.cdw11), 0x123);
	assert_int_equal(vfn_le32_to_cpu(sqe.cdw12), 15); /* NLB 0's based, no FUA, no PRINFO */
	assert_int_equal(sqe.flags, 0);
	assert_int_equal(sqe.cid, 0);
	assert_true(!sqe.mptr && !sqe.dptr.prp1 && !sqe.dptr.prp2 && !sqe.cdw2 && !sqe.cdw3);
	assert_true(!sqe.cdw13 && !sqe.cdw14 && !sqe.cdw15);
	for (size_t i = 0; i < sizeof(sqe); i++)
		if (i != 0 && (i < 4 || i > 7) && (i < 40 || i > 51))
			assert_int_equal(b[i], 0);
	vfn_nvme_rw_sqe(&sqe, VFN_NVME_CMD_READ, 1, 0, 65536);
	assert_int_equal(sqe.opcode, 0x02);
	assert_int_equal(vfn_le32_to_cpu(sqe.cdw12), 0xffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alloc_until_exhausted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_fills_sqe_and_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reap_completes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cq_head_lazy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_and_bogus_completions_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abandoned_request_released_by_late_completion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stalled_queue_rerings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_queue_not_rerung, setup, teardown),
		cmocka_unit_test_setup_teardown(test_callback_then_released, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reap_stops_when_nothing_is_owed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wraparound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_times_out_and_abandons, setup, teardown),
		cmocka_unit_test(test_list_len),
		cmocka_unit_test(test_tracker_init_rejects),
		cmocka_unit_test_setup_teardown(test_map_prp, map_setup, map_teardown),
		cmocka_unit_test_setup_teardown(test_map_iova, map_setup, map_teardown),
		cmocka_unit_test_setup_teardown(test_map_sgl, map_setup, map_teardown),
		cmocka_unit_test_setup_teardown(test_async_split, map_setup, map_teardown),
		cmocka_unit_test_setup_teardown(test_async_split_all_or_nothing, map_setup, map_teardown),
		cmocka_unit_test(test_rw_sqe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
