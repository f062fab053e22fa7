/* SPDX-License-Identifier: MIT */
/*
 * The block API from many threads: 4 threads, 2 simulated devices, each
 * thread opening and closing queues of its own on both devices over and
 * over (so queue ids and vectors are handed out while other threads' I/O
 * runs), writing and reading back its own blocks.  Every completion must be
 * delivered exactly once, and the data must come back.  Built in every
 * build (suite unit); under -Db_sanitize=thread it is the ThreadSanitizer
 * test of docs/testing.md.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <vfn/blk.h>

#define NR_THREADS 4
#define NR_DEVS 2
#define ROUNDS 20    /* queue open/close cycles per thread */
#define PER_ROUND 48 /* requests per cycle */
#define REQ_LEN 4096 /* bytes per request */
#define SLOTS 16     /* blocks of REQ_LEN each thread owns per device */

static struct vfn_blk *devs[NR_DEVS];

struct worker {
	int id;
	int err;
	uint64_t completions;
	uint32_t calls[PER_ROUND]; /* callbacks per request of the current round */
	uint8_t *buf;		   /* [NR_DEVS] x PER_ROUND x REQ_LEN */
	size_t buf_len[NR_DEVS];
	uint8_t *dbuf[NR_DEVS];
};

struct tag {
	struct worker *w;
	int idx;
	int ret;
};

static void on_done(void *arg, int ret, uint16_t status)
{
	struct tag *t = arg;

	(void)status;
	t->w->calls[t->idx]++;
	t->w->completions++;
	t->ret = ret;
}

/* Runs @n requests of one kind on @q and polls them all home. */
static int run_batch(struct worker *w, struct vfn_blk_queue *q, int d, bool write, int round)
{
	struct iovec iov[PER_ROUND];
	struct tag tags[PER_ROUND];
	uint64_t deadline = vfn_now_ns() + 30000000000ull;
	int submitted = 0, done;

	memset(w->calls, 0, sizeof(w->calls));
	while (submitted < PER_ROUND) {
		uint64_t off = ((uint64_t)w->id * SLOTS + (uint64_t)(submitted % SLOTS)) * REQ_LEN;
		int ret;

		/* A slot is written at most once per round: later requests of a round only read. */
		iov[submitted] = (struct iovec){ w->dbuf[d] + (size_t)submitted * REQ_LEN, REQ_LEN };
		tags[submitted] = (struct tag){ w, submitted, 1 };
		if (write && submitted < SLOTS) {
			memset(iov[submitted].iov_base, (round * 31 + w->id * 7 + submitted) & 0xff, REQ_LEN);
			ret = vfn_blk_writev(q, &iov[submitted], 1, off, 0, on_done, &tags[submitted]);
		} else {
			ret = vfn_blk_readv(q, &iov[submitted], 1, off, on_done, &tags[submitted]);
		}
		if (ret == -EAGAIN) {
			vfn_blk_queue_poll(q, 0);
			continue;
		}
		if (ret)
			return ret;
		submitted++;
		if (write && submitted == SLOTS) /* the writes land before the reads of the same slots */
			while (vfn_blk_queue_inflight(q))
				vfn_blk_queue_poll(q, 0);
	}
	while (vfn_blk_queue_inflight(q) && vfn_now_ns() < deadline)
		vfn_blk_queue_poll(q, 0);
	for (done = 0; done < PER_ROUND; done++) {
		if (w->calls[done] != 1 || tags[done].ret)
			return -EPROTO;
	}
	/* Reads of slot s (s >= SLOTS) saw what the write of slot s % SLOTS put there. */
	for (int i = SLOTS; write && i < PER_ROUND; i++)
		if (memcmp(iov[i].iov_base, iov[i % SLOTS].iov_base, REQ_LEN))
			return -EILSEQ;
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (int d = 0; d < NR_DEVS; d++) {
		ssize_t len = vfn_blk_mem_alloc(devs[d], (size_t)PER_ROUND * REQ_LEN, (void **)&w->dbuf[d]);

		if (len < 0) {
			w->err = (int)len;
			return NULL;
		}
		w->buf_len[d] = (size_t)len;
	}
	for (int round = 0; round < ROUNDS && !w->err; round++) {
		int d = (round + w->id) % NR_DEVS;
		struct vfn_blk_queue *q;
		struct vfn_blk_queue_opts o = { .depth = 16, .polled = (round & 1) };

		w->err = vfn_blk_queue_open(devs[d], &o, &q);
		if (w->err)
			break;
		w->err = run_batch(w, q, d, true, round);
		vfn_blk_queue_close(q);
	}
	for (int d = 0; d < NR_DEVS; d++)
		vfn_blk_mem_free(devs[d], w->dbuf[d], w->buf_len[d]);
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t th[NR_THREADS];
	struct worker *w = calloc(NR_THREADS, sizeof(*w));

	(void)state;
	for (int d = 0; d < NR_DEVS; d++)
		assert_int_equal(
			vfn_blk_open(d ? "sim:nsze=1024,mqes=31" : "sim:nsze=1024,mqes=31,sn=B", NULL, &devs[d]), 0);
	for (int i = 0; i < NR_THREADS; i++) {
		w[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < NR_THREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NR_THREADS; i++) {
		assert_int_equal(w[i].err, 0);
		assert_int_equal(w[i].completions, (uint64_t)ROUNDS * PER_ROUND);
	}
	for (int d = 0; d < NR_DEVS; d++)
		vfn_blk_close(devs[d]);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_threads) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}
