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
#include <sched.h>
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

/*
 * The translation caches against unregistrations on other threads (rev15):
 * I/O threads write and read back 8 KiB through the fast path on queues of
 * their own, each re-registering its own buffer (same address, maybe a new
 * device address) between batches; a churn thread registers and
 * unregisters other memory all the while, so device addresses freed by one
 * are reused by another.  A cache that kept an old translation would move
 * the data to or from another thread's memory: the data read back would
 * differ, or the churn buffers would change.
 */
#define UR_IO_THREADS 2
#define UR_ROUNDS 300
#define UR_LEN 8192

static struct vfn_blk *ur_blk;
static volatile int ur_stop;

struct ur_worker {
	int id, err;
	uint64_t done;
};

static void ur_done(void *arg, int ret, uint16_t status)
{
	int *r = arg;

	(void)status;
	*r = ret ? ret : 1;
}

static int ur_io(struct vfn_blk_queue *q, bool write, uint8_t *buf, uint64_t off)
{
	struct iovec iov = { buf, UR_LEN };
	uint64_t deadline = vfn_now_ns() + 10000000000ull;
	int r = 0, ret;

	ret = write ? vfn_blk_writev(q, &iov, 1, off, 0, ur_done, &r) : vfn_blk_readv(q, &iov, 1, off, ur_done, &r);
	if (ret)
		return ret;
	while (!r && vfn_now_ns() < deadline)
		vfn_blk_queue_poll(q, 0);
	return r == 1 ? 0 : r ? r : -ETIMEDOUT;
}

static void *ur_io_main(void *arg)
{
	struct ur_worker *w = arg;
	struct vfn_blk_queue *q;
	uint64_t off = (uint64_t)w->id * 65536;
	uint8_t *buf;
	ssize_t len = vfn_blk_mem_alloc(ur_blk, 2 * UR_LEN, (void **)&buf);

	if (len < 0) {
		w->err = (int)len;
		return NULL;
	}
	w->err = vfn_blk_queue_open(ur_blk, &(struct vfn_blk_queue_opts){ .depth = 4, .polled = true }, &q);
	for (int round = 0; round < UR_ROUNDS && !w->err; round++) {
		memset(buf, (w->id * 64 + round) & 0xff, UR_LEN);
		memset(buf + UR_LEN, 0, UR_LEN);
		w->err = ur_io(q, true, buf, off);
		if (!w->err)
			w->err = ur_io(q, false, buf + UR_LEN, off);
		if (!w->err && memcmp(buf, buf + UR_LEN, UR_LEN))
			w->err = -EILSEQ;
		w->done++;
		/* the same address again, maybe at another device address */
		if (!w->err)
			w->err = vfn_blk_mem_unregister(ur_blk, buf);
		if (!w->err)
			w->err = vfn_blk_mem_register(ur_blk, buf, (size_t)len);
	}
	if (q)
		vfn_blk_queue_close(q);
	vfn_blk_mem_free(ur_blk, buf, (size_t)len);
	return NULL;
}

static void *ur_churn_main(void *arg)
{
	struct ur_worker *w = arg;

	while (!__atomic_load_n(&ur_stop, __ATOMIC_ACQUIRE) && !w->err) {
		uint8_t *m;
		ssize_t len = vfn_blk_mem_alloc(ur_blk, 4 * UR_LEN, (void **)&m);

		if (len < 0) {
			w->err = (int)len;
			break;
		}
		memset(m, 0x5a, (size_t)len);
		for (int i = 0; i < 10; i++)
			sched_yield();
		for (ssize_t i = 0; i < len; i++)
			if (m[i] != 0x5a)
				w->err = -EILSEQ;
		vfn_blk_mem_free(ur_blk, m, (size_t)len);
		w->done++;
	}
	return NULL;
}

static void test_unregister_race(void **state)
{
	pthread_t th[UR_IO_THREADS + 1];
	struct ur_worker w[UR_IO_THREADS + 1] = { 0 };

	(void)state;
	assert_int_equal(vfn_blk_open("sim:nsze=1024", NULL, &ur_blk), 0);
	ur_stop = 0;
	assert_int_equal(pthread_create(&th[UR_IO_THREADS], NULL, ur_churn_main, &w[UR_IO_THREADS]), 0);
	for (int i = 0; i < UR_IO_THREADS; i++) {
		w[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, ur_io_main, &w[i]), 0);
	}
	for (int i = 0; i < UR_IO_THREADS; i++)
		pthread_join(th[i], NULL);
	__atomic_store_n(&ur_stop, 1, __ATOMIC_RELEASE);
	pthread_join(th[UR_IO_THREADS], NULL);
	for (int i = 0; i <= UR_IO_THREADS; i++)
		assert_int_equal(w[i].err, 0);
	for (int i = 0; i < UR_IO_THREADS; i++)
		assert_int_equal(w[i].done, UR_ROUNDS);
	print_message("unregister race: %llu churn cycles\n", (unsigned long long)w[UR_IO_THREADS].done);
	vfn_blk_close(ur_blk);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_threads), cmocka_unit_test(test_unregister_race) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}
