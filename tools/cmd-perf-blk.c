/* SPDX-License-Identifier: MIT */
/*
 * vfn perf -j THREADS: the benchmark over the block API (vfn/blk.h), one
 * queue per thread, on every backend the block API has: VFIO and sim:
 * (nvme), block devices and regular files (io_uring).
 *
 * Each thread opens its own queue, keeps QD requests in flight from its
 * own buffers (vfn_blk_mem_alloc), polls (or, with --irq, waits in epoll
 * on the queue's fd) and resubmits what completed after the poll, in one
 * batch, as vfn perf's request loop does (the same workload shape for
 * scripts/bench.sh --blk-cost; resubmission from inside a callback is
 * examples/blk-copy.c's and the unit tests').  Per I/O
 * there is no allocation and, on VFIO/sim, no system call.
 */
/* The block API's hot calls inline (<vfn/blk-inline.h>), as an application after speed builds it. */
#define VFN_BLK_INLINE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define PBLK_HAVE_CALLGRIND 1
#endif
#endif
#ifndef PBLK_HAVE_CALLGRIND
#define PBLK_HAVE_CALLGRIND 0
#endif

#include <vfn/vfn.h>

#include "cli.h"
#include "perf-blk.h"

#define PBLK_USAGE                                                                                        \
	"DEVICE -j THREADS [-w randread|randwrite|read|write] [-s BYTES] [-q QD] [-t SEC] [--warmup SEC]" \
	" [--irq] [--backend nvme|io_uring|io_uring_cmd] [--buffered] [--count-driver] [-o normal|json]"
#define PBLK_MAX_THREADS 64
#define PBLK_DRAIN_NS 10000000000ull

enum pblk_rw {
	PBLK_RANDREAD,
	PBLK_RANDWRITE,
	PBLK_READ,
	PBLK_WRITE
};
static const char *const pblk_rw_names[] = { "randread", "randwrite", "read", "write" };

struct pblk_opts {
	const char *dev;
	const char *backend;
	uint32_t threads, qd, bs, secs, warmup;
	enum pblk_rw rw;
	bool irq, buffered, count_driver, json;
};

struct pblk_thread;

struct pblk_slot {
	struct pblk_thread *t;
	struct iovec iov;
};

struct pblk_thread {
	const struct pblk_opts *o;
	struct vfn_blk *blk;
	struct vfn_blk_queue *q;
	pthread_t th;
	int id;
	int err;
	uint8_t *buf;
	size_t buf_len;
	struct pblk_slot *slots;
	uint64_t rng, next_off, first_off, span;
	uint64_t nblocks; /* of o->bs in the span */
	bool measuring, stopping;
	bool nvme;		  /* the nvme backend (vfn_blk_backend(), asked once): its idle queue is polled */
	bool counting;		  /* --count-driver: inside a counted poll */
	uint64_t uncounted;	  /* --count-driver: completions reaped by the uncounted idle poll */
	uint32_t queued;	  /* requests queued since the last vfn_blk_queue_submit() */
	struct pblk_slot **retry; /* [qd]: slots to submit before the next poll: completed, or refused -EAGAIN */
	uint32_t nr_retry;
	uint64_t ios, ios_measured, errors;
	double secs;
};

/* ---- --count-driver: collect only inside the block API's calls ---------------- */

static inline void pblk_cg_toggle(const struct pblk_opts *o)
{
#if PBLK_HAVE_CALLGRIND
	if (vfn_unlikely(o->count_driver))
		CALLGRIND_TOGGLE_COLLECT;
#else
	(void)o;
#endif
}

/* ---- I/O ------------------------------------------------------------------- */

static inline uint64_t pblk_next(struct pblk_thread *t)
{
	uint64_t n;

	if (t->o->rw == PBLK_READ || t->o->rw == PBLK_WRITE) {
		n = t->next_off;
		t->next_off = (t->next_off + 1) % t->nblocks;
	} else {
		t->rng ^= t->rng << 13; /* xorshift64 */
		t->rng ^= t->rng >> 7;
		t->rng ^= t->rng << 17;
		n = t->rng % t->nblocks;
	}
	return t->first_off + n * t->o->bs;
}

static void pblk_done(void *arg, int ret, uint16_t status);

static inline int pblk_submit(struct pblk_slot *s)
{
	struct pblk_thread *t = s->t;
	uint64_t off = pblk_next(t);
	int ret;

	pblk_cg_toggle(t->o);
	if (t->o->rw == PBLK_RANDREAD || t->o->rw == PBLK_READ)
		ret = vfn_blk_readv(t->q, &s->iov, 1, off, pblk_done, s);
	else
		ret = vfn_blk_writev(t->q, &s->iov, 1, off, 0, pblk_done, s);
	pblk_cg_toggle(t->o);
	t->queued += !ret;
	if (vfn_unlikely(ret == -EAGAIN)) {
		/* The queue is full (a request of several commands): retried after the next poll. */
		t->retry[t->nr_retry++] = s;
		ret = 0;
	}
	return ret;
}

/* Resubmits what completed or found the queue full; those refused again wait for the next poll. */
static int pblk_retry(struct pblk_thread *t)
{
	uint32_t n = t->nr_retry;
	int ret = 0;

	t->nr_retry = 0;
	for (uint32_t i = 0; i < n && !ret; i++)
		ret = pblk_submit(t->retry[i]);
	return ret;
}

static void pblk_done(void *arg, int ret, uint16_t status)
{
	struct pblk_slot *s = arg;
	struct pblk_thread *t = s->t;

	bool hole = t->counting; /* false in the uncounted idle poll */

	if (hole)
		pblk_cg_toggle(t->o); /* a hole in the counted poll: the callback is perf's */
	(void)status;
	t->ios++;
	if (vfn_unlikely(ret))
		t->errors++;
	if (t->measuring)
		t->ios_measured++;
	/* Resubmitted after the poll, in one batch with the others, as vfn perf's request loop does. */
	if (!t->stopping && !ret)
		t->retry[t->nr_retry++] = s;
	if (hole)
		pblk_cg_toggle(t->o);
}

/* Polls once, or with --irq first waits on the queue's fd. */
static int pblk_pass(struct pblk_thread *t, int epfd)
{
	int ret;

	if (t->nr_retry && !t->stopping) {
		ret = pblk_retry(t); /* what the last poll completed */
		if (ret)
			return ret;
	}
	if (t->queued) { /* a doorbell only for what was queued since the last one */
		t->queued = 0;
		pblk_cg_toggle(t->o);
		ret = vfn_blk_queue_submit(t->q);
		pblk_cg_toggle(t->o);
		if (ret)
			return ret;
	}
	if (epfd >= 0) {
		struct epoll_event ev;
		uint64_t cnt;

		if (!vfn_blk_queue_ready(t->q) && epoll_wait(epfd, &ev, 1, 100) == 1 &&
		    read(vfn_blk_queue_fd(t->q), &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
			return -errno;
	} else if (!vfn_blk_queue_ready(t->q)) {
		if (t->o->count_driver)
			sched_yield(); /* under valgrind, let the simulator's thread run */
		if (!t->nvme)
			return 0;
		/*
		 * An nvme queue is polled anyway, uncounted (the loop is
		 * idle): the empty poll is what notices a controller that
		 * missed a shadow doorbell (vfn_blk_queue_ready()).  What
		 * completed during the yield is reaped by the counted poll
		 * below; a completion that still slips into the uncounted
		 * poll is counted in t->uncounted (its reap is not in
		 * --count-driver's figure) and reported.
		 */
		if (!vfn_blk_queue_ready(t->q)) {
			ret = vfn_blk_queue_poll(t->q, 0);
			if (ret > 0)
				t->uncounted += (uint64_t)ret;
			return ret < 0 ? ret : 0;
		}
	}
	t->counting = true;
	pblk_cg_toggle(t->o);
	ret = vfn_blk_queue_poll(t->q, 0);
	pblk_cg_toggle(t->o);
	t->counting = false;
	return ret < 0 ? ret : 0;
}

static int pblk_epoll(struct pblk_thread *t)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int epfd;

	if (!t->o->irq)
		return -1;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd >= 0 && epoll_ctl(epfd, EPOLL_CTL_ADD, vfn_blk_queue_fd(t->q), &ev)) {
		close(epfd);
		epfd = -1;
	}
	return epfd;
}

static void *pblk_main(void *arg)
{
	struct pblk_thread *t = arg;
	const struct pblk_opts *o = t->o;
	uint64_t start, warm_end, end, now, deadline;
	uint32_t spins = 0;
	int epfd = pblk_epoll(t);

	if (o->irq && epfd < 0) {
		t->err = -errno;
		return NULL;
	}
	for (uint32_t i = 0; i < o->qd && !t->err; i++)
		t->err = pblk_submit(&t->slots[i]);
	start = vfn_now_ns();
	warm_end = start + (uint64_t)o->warmup * 1000000000ull;
	end = warm_end + (uint64_t)o->secs * 1000000000ull;
	t->measuring = !o->warmup;
	for (now = start; !t->err && now < end;) {
		t->err = pblk_pass(t, epfd);
		if (++spins % 64 && !o->count_driver && !o->irq)
			continue;
		now = vfn_now_ns();
		if (!t->measuring && now >= warm_end) {
			t->measuring = true;
			t->ios_measured = 0;
			warm_end = now;
		}
	}
	t->secs = (double)(vfn_now_ns() - warm_end) / 1e9;
	t->measuring = false;
	t->stopping = true;
	deadline = vfn_now_ns() + PBLK_DRAIN_NS;
	while (vfn_blk_queue_inflight(t->q) && vfn_now_ns() < deadline)
		if (pblk_pass(t, epfd))
			break;
	if (epfd >= 0)
		close(epfd);
	return NULL;
}

/* ---- setup and report -------------------------------------------------------- */

static int pblk_thread_init(struct pblk_thread *t, struct vfn_blk *blk, const struct pblk_opts *o, int id)
{
	struct vfn_blk_queue_opts qo = { .depth = o->qd, .polled = !o->irq };
	uint64_t size = vfn_blk_size(blk) / o->bs * o->bs;
	ssize_t len;
	int ret;

	t->o = o;
	t->blk = blk;
	t->nvme = vfn_blk_backend(blk) == VFN_BLK_NVME;
	t->id = id;
	t->rng = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1);
	/* Sequential workloads: each thread its own stretch of the device. */
	t->span = (o->rw == PBLK_READ || o->rw == PBLK_WRITE) ? size / o->threads / o->bs * o->bs : size;
	t->first_off = (o->rw == PBLK_READ || o->rw == PBLK_WRITE) ? t->span * (uint64_t)id : 0;
	t->nblocks = t->span / o->bs;
	if (!t->nblocks)
		return errmsg("the device is too small for %u threads of %u-byte I/O", o->threads, o->bs);
	ret = vfn_blk_queue_open(blk, &qo, &t->q);
	if (ret)
		return errmsg("cannot open a queue of depth %u: %s", o->qd, strerror(-ret));
	len = vfn_blk_mem_alloc(blk, (size_t)o->qd * o->bs, (void **)&t->buf);
	if (len < 0)
		return errmsg("cannot allocate I/O memory: %s", strerror((int)-len));
	t->buf_len = (size_t)len;
	t->slots = calloc(o->qd, sizeof(*t->slots));
	t->retry = calloc(o->qd, sizeof(*t->retry));
	if (!t->slots || !t->retry)
		return errmsg("out of memory");
	for (uint32_t i = 0; i < o->qd; i++)
		t->slots[i] = (struct pblk_slot){ t, { t->buf + (size_t)i * o->bs, o->bs } };
	return 0;
}

static void pblk_thread_fini(struct pblk_thread *t)
{
	/* The queue first: what is still in flight may move data until it ends. */
	vfn_blk_queue_close(t->q);
	if (t->buf)
		vfn_blk_mem_free(t->blk, t->buf, t->buf_len);
	free(t->slots);
	free(t->retry);
}

static void pblk_report(const struct pblk_opts *o, struct vfn_blk *blk, const struct pblk_thread *t)
{
	double iops = 0, secs = 0;
	uint64_t ios = 0, errors = 0, uncounted = 0;

	for (uint32_t i = 0; i < o->threads; i++) {
		iops += t[i].secs > 0 ? (double)t[i].ios_measured / t[i].secs : 0;
		ios += t[i].ios;
		uncounted += t[i].uncounted;
		errors += t[i].errors;
		secs = t[i].secs > secs ? t[i].secs : secs;
	}
	if (o->json) {
		printf("{\"api\": \"blk\", \"backend\": \"%s\", \"device\": \"%s\", \"workload\": \"%s\", "
		       "\"block_size\": %u, \"queue_depth\": %u, \"threads\": %u, \"seconds\": %.3f, "
		       "\"iops\": %.0f, \"mbps\": %.1f, \"completions\": %llu, \"errors\": %llu, \"per_thread_iops\": [",
		       vfn_blk_backend_name(blk), o->dev, pblk_rw_names[o->rw], o->bs, o->qd, o->threads, secs, iops,
		       iops * o->bs / 1e6, (unsigned long long)ios, (unsigned long long)errors);
		for (uint32_t i = 0; i < o->threads; i++)
			printf("%s%.0f", i ? ", " : "", t[i].secs > 0 ? (double)t[i].ios_measured / t[i].secs : 0);
		printf("]");
		if (o->count_driver)
			printf(", \"uncounted_completions\": %llu", (unsigned long long)uncounted);
		printf("}\n");
		return;
	}
	printf("device:     %s (block API, backend %s)\n", o->dev, vfn_blk_backend_name(blk));
	printf("workload:   %s, %u bytes, QD %u per thread, %u thread%s\n", pblk_rw_names[o->rw], o->bs, o->qd,
	       o->threads, o->threads > 1 ? "s" : "");
	printf("IOPS:       %.0f\n", iops);
	printf("bandwidth:  %.1f MB/s\n", iops * o->bs / 1e6);
	for (uint32_t i = 0; i < o->threads && o->threads > 1; i++)
		printf("thread %-3u  %.0f IOPS\n", i, t[i].secs > 0 ? (double)t[i].ios_measured / t[i].secs : 0);
	if (errors)
		printf("errors:     %llu\n", (unsigned long long)errors);
}

static int pblk_run(const struct pblk_opts *o)
{
	struct vfn_blk_opts bo = { .backend = o->backend, .buffered = o->buffered };
	struct pblk_thread *t = calloc(o->threads, sizeof(*t));
	struct vfn_blk *blk;
	int ret = 0;

	if (!t)
		return errmsg("out of memory");
	ret = vfn_blk_open(o->dev, &bo, &blk);
	if (ret) {
		free(t);
		return errmsg("%s: cannot open through the block API: %s", o->dev, strerror(-ret));
	}
	if (o->bs % vfn_blk_block_size(blk)) {
		ret = errmsg("-s %u is not a multiple of the block size %u", o->bs, vfn_blk_block_size(blk));
		goto close;
	}
	for (uint32_t i = 0; i < o->threads && !ret; i++)
		ret = pblk_thread_init(&t[i], blk, o, (int)i);
	for (uint32_t i = 0; i < o->threads && !ret; i++)
		if (pthread_create(&t[i].th, NULL, pblk_main, &t[i]))
			ret = errmsg("cannot start thread %u", i);
	for (uint32_t i = 0; i < o->threads; i++)
		if (t[i].th)
			pthread_join(t[i].th, NULL);
	for (uint32_t i = 0; i < o->threads && !ret; i++)
		if (t[i].err)
			ret = errmsg("thread %u: %s", i, strerror(-t[i].err));
	if (!ret)
		pblk_report(o, blk, t);
close:
	for (uint32_t i = 0; i < o->threads; i++)
		if (t[i].q)
			pblk_thread_fini(&t[i]);
	vfn_blk_close(blk);
	free(t);
	return ret;
}

/* ---- options ----------------------------------------------------------------- */

enum {
	OPT_WARMUP = 256,
	OPT_IRQ,
	OPT_BACKEND,
	OPT_BUFFERED,
	OPT_COUNT_DRIVER
};

static const struct option pblk_longopts[] = {
	{ "threads", required_argument, NULL, 'j' },
	{ "workload", required_argument, NULL, 'w' },
	{ "block-size", required_argument, NULL, 's' },
	{ "queue-depth", required_argument, NULL, 'q' },
	{ "time", required_argument, NULL, 't' },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "irq", no_argument, NULL, OPT_IRQ },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "buffered", no_argument, NULL, OPT_BUFFERED },
	{ "count-driver", no_argument, NULL, OPT_COUNT_DRIVER },
	{ "output-format", required_argument, NULL, 'o' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void pblk_help(void)
{
	printf("usage: vfn perf %s\n\n"
	       "Measure IOPS through the block API (vfn/blk.h): THREADS threads, each with a queue of its own.\n"
	       "DEVICE is a PCI address bound to vfio-pci or sim:... (nvme backend), a block device or a\n"
	       "regular file (io_uring backend).\n\n"
	       "  -j, --threads=N           threads, one queue each (1..%d)\n"
	       "  -w, --workload=RW         randread (default), randwrite, read, write\n"
	       "  -s, --block-size=BYTES    bytes per I/O, a multiple of the block size (default 4096)\n"
	       "  -q, --queue-depth=QD      requests in flight per thread (default 1)\n"
	       "  -t, --time=SEC            measured run time (default 10)\n"
	       "      --warmup=SEC          run this long before measuring (default 0)\n"
	       "      --irq                 wait on each queue's fd in epoll instead of polling\n"
	       "      --backend=NAME        force the block API's backend (nvme, io_uring, io_uring_cmd)\n"
	       "      --buffered            io_uring: no O_DIRECT\n"
	       "      --count-driver        under valgrind --tool=callgrind --collect-atstart=no, collect\n"
	       "                            only inside the block API's calls (docs/blk.md)\n"
	       "  -o, --output-format=FMT   normal (default) or json\n"
	       "  -v, --verbose             show the library's debug trace on stderr\n"
	       "  -h, --help                show this help\n",
	       PBLK_USAGE, PBLK_MAX_THREADS);
}

static int pblk_num(const char *opt, const char *s, unsigned long min, unsigned long max, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max)
		return errmsg_usage("perf", PBLK_USAGE, "bad %s: %s (%lu..%lu)", opt, s, min, max);
	*out = (uint32_t)v;
	return 0;
}

static int pblk_opt(struct pblk_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'j':
		return pblk_num("-j", arg, 1, PBLK_MAX_THREADS, &o->threads);
	case 's':
		return pblk_num("-s", arg, 512, 1u << 24, &o->bs);
	case 'q':
		return pblk_num("-q", arg, 1, 4096, &o->qd);
	case 't':
		return pblk_num("-t", arg, 1, 86400, &o->secs);
	case OPT_WARMUP:
		return pblk_num("--warmup", arg, 0, 86400, &o->warmup);
	case 'w':
		for (int i = 0; i < 4; i++)
			if (!strcmp(arg, pblk_rw_names[i])) {
				o->rw = (enum pblk_rw)i;
				return 0;
			}
		return errmsg_usage("perf", PBLK_USAGE, "bad -w: %s", arg);
	case 'o':
		if (strcmp(arg, "normal") && strcmp(arg, "json"))
			return errmsg_usage("perf", PBLK_USAGE, "bad -o: %s", arg);
		o->json = !strcmp(arg, "json");
		return 0;
	case OPT_IRQ:
		o->irq = true;
		return 0;
	case OPT_BACKEND:
		o->backend = arg;
		return 0;
	case OPT_BUFFERED:
		o->buffered = true;
		return 0;
	case OPT_COUNT_DRIVER:
		o->count_driver = true;
		return 0;
	case 'v':
		vfn_log_set_level(VFN_LOG_DEBUG);
		return 0;
	default:
		return errmsg_usage("perf", PBLK_USAGE, "unknown option");
	}
}

bool perf_blk_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-j") || !strncmp(argv[i], "-j", 2) || !strncmp(argv[i], "--threads", 9))
			return true;
	return false;
}

int cmd_perf_blk(int argc, char **argv)
{
	struct pblk_opts o = { .threads = 1, .qd = 1, .bs = 4096, .secs = 10, .rw = PBLK_RANDREAD };
	int c, ret;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":j:w:s:q:t:o:vh", pblk_longopts, NULL)) != -1) {
		if (c == 'h') {
			pblk_help();
			return CLI_EXIT_OK;
		}
		ret = pblk_opt(&o, c, optarg);
		if (ret)
			return ret;
	}
	if (optind != argc - 1)
		return errmsg_usage("perf", PBLK_USAGE, "one DEVICE expected");
	o.dev = argv[optind];
	return pblk_run(&o);
}
