/* SPDX-License-Identifier: MIT */
/*
 * The block API (vfn/blk.h), one test source over two backends: the
 * simulator (nvme backend, MDTS 8 KiB so that splitting shows) and a
 * regular file (io_uring backend).  $VFN_TEST_BLK_URI adds a third run on
 * a device of the caller's (a guest's /dev/nvme0n1, a BDF): it must be
 * scratch, its first 1 MiB is overwritten.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <vfn/blk.h>
#include <vfn/sim.h>

#include "blk/blk-priv.h"

#define SIM_URI "sim:nsze=4096,lbads=9,mdts=1"
#define FILE_LEN (4u << 20)
#define BUF_LEN (1u << 20)

struct fixture {
	char uri[256];
	bool is_sim;
	struct vfn_blk *blk;
	struct vfn_blk_queue *q;
	uint8_t *buf; /* BUF_LEN of registered memory */
	uint8_t *rbuf;
	size_t buf_len, rbuf_len;
	uint32_t bs;
};

struct done {
	int calls;
	int ret;
	uint16_t status;
};

static void on_done(void *arg, int ret, uint16_t status)
{
	struct done *d = arg;

	d->calls++;
	d->ret = ret;
	d->status = status;
}

/* Polls @q until @d completed (at most 10 s). */
static void wait_done(struct vfn_blk_queue *q, struct done *d)
{
	uint64_t deadline = vfn_now_ns() + 10000000000ull;

	while (!d->calls && vfn_now_ns() < deadline)
		assert_true(vfn_blk_queue_poll(q, 0) >= 0);
	assert_int_equal(d->calls, 1);
}

static int do_write(struct fixture *f, const struct iovec *iov, int n, uint64_t off, uint32_t flags)
{
	struct done d = { 0 };
	int ret = vfn_blk_writev(f->q, iov, n, off, flags, on_done, &d);

	if (ret)
		return ret;
	wait_done(f->q, &d);
	return d.ret;
}

static int do_read(struct fixture *f, const struct iovec *iov, int n, uint64_t off)
{
	struct done d = { 0 };
	int ret = vfn_blk_readv(f->q, iov, n, off, on_done, &d);

	if (ret)
		return ret;
	wait_done(f->q, &d);
	return d.ret;
}

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((i * 7 + seed) ^ (i >> 9));
}

static int open_all(struct fixture *f)
{
	ssize_t len;

	if (vfn_blk_open(f->uri, NULL, &f->blk))
		return -1;
	if (vfn_blk_queue_open(f->blk, &(struct vfn_blk_queue_opts){ .depth = 32 }, &f->q))
		return -1;
	len = vfn_blk_mem_alloc(f->blk, BUF_LEN, (void **)&f->buf);
	if (len < 0)
		return -1;
	f->buf_len = (size_t)len;
	len = vfn_blk_mem_alloc(f->blk, BUF_LEN, (void **)&f->rbuf);
	if (len < 0)
		return -1;
	f->rbuf_len = (size_t)len;
	f->bs = vfn_blk_block_size(f->blk);
	return 0;
}

static int setup_sim(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->uri, sizeof(f->uri), "%s", SIM_URI);
	f->is_sim = true;
	*state = f;
	return open_all(f);
}

static const char *file_dir = "/tmp";

static int setup_file(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	snprintf(f->uri, sizeof(f->uri), "%s/test_blk.%d.img", file_dir, (int)getpid());
	fd = open(f->uri, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, FILE_LEN))
		return -1;
	close(fd);
	*state = f;
	return open_all(f);
}

static int setup_env(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->uri, sizeof(f->uri), "%s", getenv("VFN_TEST_BLK_URI"));
	*state = f;
	return open_all(f);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vfn_blk_mem_free(f->blk, f->buf, f->buf_len);
	vfn_blk_mem_free(f->blk, f->rbuf, f->rbuf_len);
	vfn_blk_queue_close(f->q);
	vfn_blk_close(f->blk);
	if (!f->is_sim && !getenv("VFN_TEST_BLK_URI"))
		unlink(f->uri);
	free(f);
	return 0;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_geometry(void **state)
{
	struct fixture *f = *state;

	if (f->is_sim) {
		assert_string_equal(vfn_blk_backend_name(f->blk), "nvme");
		assert_int_equal(vfn_blk_size(f->blk), 4096 * 512);
		assert_int_equal(vfn_blk_block_size(f->blk), 512);
		assert_int_equal(vfn_blk_max_request(f->blk), 8192); /* MDTS 1: 2 x 4 KiB */
		assert_int_equal(vfn_blk_buf_align(f->blk), 4096);
		assert_true(vfn_blk_queue_fd(f->q) >= 0);
	} else if (!getenv("VFN_TEST_BLK_URI")) {
		assert_string_equal(vfn_blk_backend_name(f->blk), "io_uring");
		assert_int_equal(vfn_blk_size(f->blk), FILE_LEN);
		assert_true(f->bs >= 512 && f->bs <= 4096 && !(f->bs & (f->bs - 1)));
		assert_true(vfn_blk_queue_fd(f->q) >= 0);
	}
	assert_int_equal(vfn_blk_size(f->blk) % f->bs, 0);
}

/* One contiguous request of 64 KiB: 8 commands under MDTS 8 KiB on sim. */
static void test_large(void **state)
{
	struct fixture *f = *state;
	struct iovec w = { f->buf, 65536 }, r = { f->rbuf, 65536 };
	struct vfn_blk_stats s0, s1;

	fill(f->buf, 65536, 1);
	memset(f->rbuf, 0xee, 65536);
	vfn_blk_queue_stats(f->q, &s0);
	assert_int_equal(do_write(f, &w, 1, 8 * f->bs, 0), 0);
	assert_int_equal(do_read(f, &r, 1, 8 * f->bs), 0);
	assert_memory_equal(f->buf, f->rbuf, 65536);
	vfn_blk_queue_stats(f->q, &s1);
	assert_int_equal(s1.requests - s0.requests, 2);
	assert_int_equal(s1.completed - s0.completed, 2);
	if (f->is_sim) {
		assert_int_equal(s1.commands - s0.commands, 16);
		assert_int_equal(s1.split - s0.split, 2);
		assert_int_equal(s1.bounced - s0.bounced, 0);
	}
}

/* Page-aligned segments in registered memory: PRP lists, split only by MDTS, no bounce. */
static void test_iov_pages(void **state)
{
	struct fixture *f = *state;
	struct iovec w[3] = { { f->buf, 4096 }, { f->buf + 16384, 8192 }, { f->buf + 65536, 4096 } };
	struct iovec r[2] = { { f->rbuf, 12288 }, { f->rbuf + 20480, 4096 } };
	struct vfn_blk_stats s0, s1;

	fill(f->buf, 131072, 2);
	vfn_blk_queue_stats(f->q, &s0);
	assert_int_equal(do_write(f, w, 3, 0, 0), 0);
	assert_int_equal(do_read(f, r, 2, 0), 0);
	assert_memory_equal(f->rbuf, f->buf, 4096);
	assert_memory_equal(f->rbuf + 4096, f->buf + 16384, 8192);
	assert_memory_equal(f->rbuf + 20480, f->buf + 65536, 4096);
	vfn_blk_queue_stats(f->q, &s1);
	if (f->is_sim) {
		assert_int_equal(s1.bounced - s0.bounced, 0);
		assert_int_equal(s1.commands - s0.commands, 4); /* 16 KiB twice, 8 KiB per command */
	}
}

/* Odd segment counts and sizes: what PRPs cannot describe is bounced (sim) or buffered (file). */
static void test_iov_odd(void **state)
{
	struct fixture *f = *state;
	uint32_t bs = f->bs;
	size_t a = 100, b = 3 * bs - 100 - 7, c = 7; /* 3 blocks in 3 odd pieces */
	struct iovec w[5] = { { f->buf + 1000, a },
			      { f->buf + 9000, b },
			      { f->buf + 40000, c },
			      { f->buf + 65536, bs },
			      { f->buf + 70001, bs + 1 } };
	struct iovec r[3] = { { f->rbuf + 3, bs + 5 }, { f->rbuf + 20000, 2 * bs }, { f->rbuf + 90000, 2 * bs - 5 } };
	uint8_t *want = malloc(5 * bs + 1), *got = malloc(5 * bs + 1);
	struct vfn_blk_stats s0, s1;
	size_t pos = 0;

	/* the total is 5 blocks + 1 byte: refused */
	fill(f->buf, 131072, 3);
	assert_int_equal(vfn_blk_writev(f->q, w, 5, 0, 0, on_done, NULL), -EINVAL);
	w[4].iov_len = bs;
	vfn_blk_queue_stats(f->q, &s0);
	assert_int_equal(do_write(f, w, 5, 16 * bs, 0), 0);
	memset(f->rbuf, 0, 131072);
	assert_int_equal(do_read(f, r, 3, 16 * bs), 0);
	for (int i = 0; i < 5; i++, pos += w[i - 1].iov_len)
		memcpy(want + pos, w[i].iov_base, w[i].iov_len);
	pos = 0;
	for (int i = 0; i < 3; i++, pos += r[i - 1].iov_len)
		memcpy(got + pos, r[i].iov_base, r[i].iov_len);
	assert_memory_equal(want, got, 5 * bs);
	vfn_blk_queue_stats(f->q, &s1);
	if (vfn_blk_backend(f->blk) == VFN_BLK_NVME)
		assert_true(s1.bounced - s0.bounced >= 2);
	else if (vfn_blk_backend(f->blk) == VFN_BLK_IO_URING_CMD)
		assert_true(s1.bounced - s0.bounced >= 2); /* several segments: one buffer per command */
	else if (vfn_blk_buf_align(f->blk) > 1)
		assert_int_equal(s1.buffered - s0.buffered, 2); /* O_DIRECT cannot take them */
	free(want);
	free(got);
}

/* Memory the device cannot reach (not registered): bounced on sim, data intact. */
static void test_unregistered(void **state)
{
	struct fixture *f = *state;
	uint8_t *m = aligned_alloc(4096, 32768), *rd = aligned_alloc(4096, 32768);
	struct iovec w = { m, 32768 }, r = { rd, 32768 };
	struct vfn_blk_stats s0, s1;

	fill(m, 32768, 4);
	vfn_blk_queue_stats(f->q, &s0);
	assert_int_equal(do_write(f, &w, 1, 64 * f->bs, 0), 0);
	assert_int_equal(do_read(f, &r, 1, 64 * f->bs), 0);
	assert_memory_equal(m, rd, 32768);
	vfn_blk_queue_stats(f->q, &s1);
	if (f->is_sim)
		assert_int_equal(s1.bounced - s0.bounced, 8); /* 4 pieces of 8 KiB each way */
	free(m);
	free(rd);
}

static void test_fua_flush(void **state)
{
	struct fixture *f = *state;
	struct iovec w = { f->buf, 4 * f->bs }, r = { f->rbuf, 4 * f->bs };
	struct done d = { 0 };

	fill(f->buf, 4 * f->bs, 5);
	assert_int_equal(do_write(f, &w, 1, 128 * f->bs, VFN_BLK_FUA), 0);
	assert_int_equal(vfn_blk_writev(f->q, &w, 1, 0, 0x80, on_done, &d), -EINVAL); /* unknown flag */
	assert_int_equal(vfn_blk_flush(f->q, on_done, &d), 0);
	wait_done(f->q, &d);
	assert_int_equal(d.ret, 0);
	assert_int_equal(do_read(f, &r, 1, 128 * f->bs), 0);
	assert_memory_equal(f->buf, f->rbuf, 4 * f->bs);
}

static void test_zeroes_discard(void **state)
{
	struct fixture *f = *state;
	uint32_t bs = f->bs;
	struct iovec w = { f->buf, 8 * bs }, r = { f->rbuf, 8 * bs };
	struct done d = { 0 };
	uint8_t *zero = calloc(1, 4 * bs);

	fill(f->buf, 8 * bs, 6);
	assert_int_equal(do_write(f, &w, 1, 256 * bs, 0), 0);
	assert_int_equal(vfn_blk_write_zeroes(f->q, 258 * bs, 4 * bs, on_done, &d), 0);
	wait_done(f->q, &d);
	assert_int_equal(d.ret, 0);
	assert_int_equal(do_read(f, &r, 1, 256 * bs), 0);
	assert_memory_equal(f->rbuf, f->buf, 2 * bs);
	assert_memory_equal(f->rbuf + 2 * bs, zero, 4 * bs);
	assert_memory_equal(f->rbuf + 6 * bs, f->buf + 6 * bs, 2 * bs);
	d.calls = 0;
	assert_int_equal(vfn_blk_discard(f->q, 256 * bs, 8 * bs, on_done, &d), 0);
	wait_done(f->q, &d);
	assert_int_equal(d.ret, 0);
	free(zero);
}

static void test_bad_requests(void **state)
{
	struct fixture *f = *state;
	struct iovec w = { f->buf, f->bs };
	uint64_t size = vfn_blk_size(f->blk);
	struct done d[40] = { 0 };
	int n = 0, ret;

	assert_int_equal(vfn_blk_writev(f->q, &w, 1, 1, 0, on_done, d), -EINVAL);
	assert_int_equal(vfn_blk_writev(f->q, &w, 1, size, 0, on_done, d), -EINVAL);
	assert_int_equal(vfn_blk_readv(f->q, &w, 0, 0, on_done, d), -EINVAL);
	assert_int_equal(vfn_blk_write_zeroes(f->q, size - f->bs, 2 * f->bs, on_done, d), -EINVAL);
	/* sim: 33 pieces of 8 KiB (MDTS) do not fit a queue of depth 32 */
	if (f->is_sim) {
		struct iovec big = { f->buf, 33 * 8192 };

		assert_int_equal(vfn_blk_readv(f->q, &big, 1, 0, on_done, d), -E2BIG);
		big.iov_len = 32 * 8192;
		assert_int_equal(vfn_blk_readv(f->q, &big, 1, 0, on_done, &d[0]), 0);
		wait_done(f->q, &d[0]);
		assert_int_equal(d[0].ret, 0);
		d[0].calls = 0;
	}
	/* depth 32: the 33rd request waits for a poll */
	while ((ret = vfn_blk_readv(f->q, &w, 1, 0, on_done, &d[n])) == 0)
		n++;
	assert_int_equal(ret, -EAGAIN);
	assert_int_equal(n, 32);
	assert_int_equal(vfn_blk_queue_inflight(f->q), 32);
	for (int i = 0; i < n; i++)
		wait_done(f->q, &d[i]);
	assert_int_equal(vfn_blk_queue_inflight(f->q), 0);
}

/* The queue's fd becomes readable when a completion is there. */
static void test_fd(void **state)
{
	struct fixture *f = *state;
	struct iovec r = { f->rbuf, f->bs };
	struct pollfd p = { .fd = vfn_blk_queue_fd(f->q), .events = POLLIN };
	struct done d = { 0 };
	uint64_t cnt;

	while (read(p.fd, &cnt, sizeof(cnt)) == sizeof(cnt))
		;
	assert_int_equal(vfn_blk_readv(f->q, &r, 1, 0, on_done, &d), 0);
	assert_int_equal(vfn_blk_queue_poll(f->q, 0) >= 0, 1); /* hands it to the device */
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(read(p.fd, &cnt, sizeof(cnt)), sizeof(cnt));
	assert_true(cnt >= 1);
	wait_done(f->q, &d);
	assert_int_equal(d.ret, 0);
}

/* submit hands the request over without reaping; ready tells a completion is there. */
static void test_submit_ready(void **state)
{
	struct fixture *f = *state;
	struct iovec r = { f->rbuf, f->bs };
	uint64_t deadline = vfn_now_ns() + 5000000000ull;
	struct done d = { 0 };

	assert_false(vfn_blk_queue_ready(f->q));
	assert_int_equal(vfn_blk_readv(f->q, &r, 1, 0, on_done, &d), 0);
	assert_int_equal(vfn_blk_queue_submit(f->q), 0);
	while (!vfn_blk_queue_ready(f->q) && vfn_now_ns() < deadline)
		;
	assert_true(vfn_blk_queue_ready(f->q));
	assert_int_equal(d.calls, 0);
	assert_int_equal(vfn_blk_queue_poll(f->q, 0), 1);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.ret, 0);
	assert_false(vfn_blk_queue_ready(f->q));
}

struct chain {
	struct vfn_blk_queue *q;
	struct iovec iov;
	int left, calls, err;
};

static void on_chain(void *arg, int ret, uint16_t status)
{
	struct chain *c = arg;

	(void)status;
	c->calls++;
	if (ret)
		c->err = ret;
	else if (--c->left > 0 && (ret = vfn_blk_readv(c->q, &c->iov, 1, 0, on_chain, c)))
		c->err = ret;
}

/* A full queue of depth 1: the callback resubmits (its command's slot is not free yet). */
static void test_resubmit(void **state)
{
	struct fixture *f = *state;
	struct chain c = { .iov = { f->rbuf, f->bs }, .left = 5 };
	uint64_t deadline = vfn_now_ns() + 10000000000ull;

	assert_int_equal(vfn_blk_queue_open(f->blk, &(struct vfn_blk_queue_opts){ .depth = 1 }, &c.q), 0);
	assert_int_equal(vfn_blk_readv(c.q, &c.iov, 1, 0, on_chain, &c), 0);
	assert_int_equal(vfn_blk_readv(c.q, &c.iov, 1, 0, on_chain, &c), -EAGAIN);
	while (c.left > 0 && !c.err && vfn_now_ns() < deadline)
		assert_true(vfn_blk_queue_poll(c.q, 0) >= 0);
	assert_int_equal(c.err, 0);
	assert_int_equal(c.calls, 5);
	vfn_blk_queue_close(c.q);
}

static void on_nested_poll(void *arg, int ret, uint16_t status)
{
	struct chain *c = arg;

	(void)status;
	c->calls++;
	c->err = ret ? ret : vfn_blk_queue_poll(c->q, 0);
}

/* A callback that polls its own queue is refused (-EBUSY): a nested reap would walk the same completions twice. */
static void test_poll_from_callback(void **state)
{
	struct fixture *f = *state;
	struct chain c = { .q = f->q, .iov = { f->rbuf, f->bs } };
	uint64_t deadline = vfn_now_ns() + 10000000000ull;

	for (int i = 0; i < 4; i++)
		assert_int_equal(vfn_blk_readv(c.q, &c.iov, 1, (uint64_t)i * f->bs, on_nested_poll, &c), 0);
	while (c.calls < 4 && vfn_now_ns() < deadline)
		assert_true(vfn_blk_queue_poll(c.q, 0) >= 0);
	assert_int_equal(c.calls, 4);
	assert_int_equal(c.err, -EBUSY);
	assert_int_equal(vfn_blk_queue_poll(c.q, 0), 0); /* nothing left, nothing counted twice */
}

/* io_uring: memory registered before a queue opens is a fixed buffer of its ring. */
static void test_fixed(void **state)
{
	struct fixture *f = *state;
	struct vfn_blk_queue *q = f->q;
	struct iovec w = { f->buf, 4 * f->bs }, r = { f->rbuf, 4 * f->bs };
	struct vfn_blk_stats s;

	assert_int_equal(vfn_blk_queue_open(f->blk, &(struct vfn_blk_queue_opts){ .depth = 8 }, &f->q), 0);
	fill(f->buf, 4 * f->bs, 9);
	memset(f->rbuf, 0, 4 * f->bs);
	assert_int_equal(do_write(f, &w, 1, 300 * f->bs, 0), 0);
	assert_int_equal(do_read(f, &r, 1, 300 * f->bs), 0);
	assert_memory_equal(f->buf, f->rbuf, 4 * f->bs);
	vfn_blk_queue_stats(f->q, &s);
	assert_int_equal(s.fixed, vfn_blk_backend(f->blk) == VFN_BLK_IO_URING ? 2 : 0);
	vfn_blk_queue_close(f->q);
	f->q = q;
}

/*
 * io_uring: unregistered memory is no fixed buffer any more.  The ring
 * pinned the old pages: a write from new memory at the same address must
 * carry the new bytes (a READ/WRITE_FIXED on the stale index would write
 * the old ones), and must not count as fixed.  Memory registered after a
 * queue opened becomes a fixed buffer of that queue too.
 */
static void test_fixed_unregister(void **state)
{
	struct fixture *f = *state;
	struct vfn_blk_queue *q = f->q;
	size_t len = 65536;
	uint8_t *m, *late;
	struct vfn_blk_stats s0, s1;
	struct iovec w, r = { f->rbuf, len };

	if (vfn_blk_backend(f->blk) != VFN_BLK_IO_URING)
		skip();
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	memset(m, 0xaa, len);
	assert_int_equal(vfn_blk_mem_register(f->blk, m, len), 0);
	assert_int_equal(vfn_blk_queue_open(f->blk, &(struct vfn_blk_queue_opts){ .depth = 8 }, &f->q), 0);
	w = (struct iovec){ m, len };
	vfn_blk_queue_stats(f->q, &s0);
	assert_int_equal(do_write(f, &w, 1, 512 * 1024, 0), 0);
	vfn_blk_queue_stats(f->q, &s1);
	assert_int_equal(s1.fixed - s0.fixed, 1);

	/* unregister, free, and new memory at the same address */
	assert_int_equal(vfn_blk_mem_unregister(f->blk, m), 0);
	assert_int_equal(munmap(m, len), 0);
	assert_true(mmap(m, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) ==
		    m);
	memset(m, 0x55, len);
	vfn_blk_queue_stats(f->q, &s0);
	assert_int_equal(do_write(f, &w, 1, 512 * 1024, 0), 0);
	vfn_blk_queue_stats(f->q, &s1);
	assert_int_equal(s1.fixed - s0.fixed, 0);
	memset(f->rbuf, 0, len);
	assert_int_equal(do_read(f, &r, 1, 512 * 1024), 0);
	assert_memory_equal(f->rbuf, m, len); /* 0x55, not the pinned 0xaa */

	/* registered after the queue opened: a fixed buffer of it */
	late = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(late != MAP_FAILED);
	memset(late, 0x33, len);
	assert_int_equal(vfn_blk_mem_register(f->blk, late, len), 0);
	w = (struct iovec){ late, len };
	vfn_blk_queue_stats(f->q, &s0);
	assert_int_equal(do_write(f, &w, 1, 512 * 1024, 0), 0);
	vfn_blk_queue_stats(f->q, &s1);
	assert_int_equal(s1.fixed - s0.fixed, 1);
	assert_int_equal(do_read(f, &r, 1, 512 * 1024), 0);
	assert_memory_equal(f->rbuf, late, len);
	assert_int_equal(vfn_blk_mem_unregister(f->blk, late), 0);
	munmap(late, len);
	munmap(m, len);
	vfn_blk_queue_close(f->q);
	f->q = q;
}

/*
 * io_uring: a request beyond what one read/write moves (the kernel stops at
 * 2 GiB - 4 KiB) and beyond IOV_MAX segments is split.  4 GiB + 8 KiB from
 * a sparse file: the first and last 4 KiB into buffers of their own (data
 * checked), the 4 GiB between into 2048 segments over one 2 MiB buffer.
 */
static void test_uring_huge(void **state)
{
	struct fixture *f = *state;
	const size_t mid = 2u << 20;
	const int nmid = 2048;
	const uint64_t total = (uint64_t)mid * nmid + 8192;
	char path[300];
	struct vfn_blk *blk;
	struct vfn_blk_queue *q;
	struct vfn_blk_stats st;
	struct iovec *iov;
	uint8_t *a, *b, *m, pat[4096];
	struct done d = { 0 };
	int fd;

	if (vfn_blk_backend(f->blk) != VFN_BLK_IO_URING || getenv("VFN_TEST_BLK_URI"))
		skip();
	iov = calloc(nmid + 2, sizeof(*iov));
	assert_non_null(iov);
	snprintf(path, sizeof(path), "%s.huge", f->uri);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)total), 0);
	memset(pat, 0xa1, sizeof(pat));
	assert_int_equal(pwrite(fd, pat, sizeof(pat), 0), sizeof(pat));
	memset(pat, 0xb2, sizeof(pat));
	assert_int_equal(pwrite(fd, pat, sizeof(pat), (off_t)(total - 4096)), sizeof(pat));
	close(fd);

	assert_int_equal(vfn_blk_open(path, NULL, &blk), 0);
	assert_int_equal(vfn_blk_size(blk), total);
	assert_int_equal(vfn_blk_queue_open(blk, &(struct vfn_blk_queue_opts){ .depth = 8 }, &q), 0);
	a = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	b = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	m = mmap(NULL, mid, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(a != MAP_FAILED && b != MAP_FAILED && m != MAP_FAILED);
	iov[0] = (struct iovec){ a, 4096 };
	for (int i = 1; i <= nmid; i++)
		iov[i] = (struct iovec){ m, mid };
	iov[nmid + 1] = (struct iovec){ b, 4096 };
	assert_int_equal(vfn_blk_readv(q, iov, nmid + 2, 0, on_done, &d), 0);
	{
		uint64_t deadline = vfn_now_ns() + 60000000000ull;

		while (!d.calls && vfn_now_ns() < deadline)
			assert_true(vfn_blk_queue_poll(q, 0) >= 0);
	}
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.ret, 0);
	memset(pat, 0xa1, sizeof(pat));
	assert_memory_equal(a, pat, 4096);
	memset(pat, 0xb2, sizeof(pat));
	assert_memory_equal(b, pat, 4096);
	vfn_blk_queue_stats(q, &st);
	assert_int_equal(st.split, 1);
	assert_true(st.commands >= 3); /* 2 GiB - 4 KiB per command at most */
	vfn_blk_queue_close(q);
	vfn_blk_close(blk);
	munmap(a, 4096);
	munmap(b, 4096);
	munmap(m, mid);
	free(iov);
	unlink(path);
}

/*
 * io_uring: a request over the max request size is split at block
 * boundaries, within segments too (the limit lowered to 64 KiB here, as a
 * device with a small limit would have it): a 256 KiB write in one
 * segment, read back into three segments whose boundaries are not on
 * blocks.
 */
static void test_uring_split_bytes(void **state)
{
	struct fixture *f = *state;
	size_t saved = f->blk->max_request, len = 256 * 1024;
	uint32_t bs = f->bs;
	struct iovec w = { f->buf, len };
	struct iovec r[3] = { { f->rbuf + 8, 100000 }, { f->rbuf + 200000, 3 * bs }, { f->rbuf + 300000, 0 } };
	struct vfn_blk_stats s0, s1;
	uint8_t *got;

	if (vfn_blk_backend(f->blk) != VFN_BLK_IO_URING)
		skip();
	got = malloc(len);
	assert_non_null(got);
	r[2].iov_len = len - r[0].iov_len - r[1].iov_len;
	f->blk->max_request = 65536;
	fill(f->buf, len, 21);
	memset(f->rbuf, 0, BUF_LEN);
	vfn_blk_queue_stats(f->q, &s0);
	assert_int_equal(do_write(f, &w, 1, 1024 * 1024, 0), 0);
	vfn_blk_queue_stats(f->q, &s1);
	assert_int_equal(s1.commands - s0.commands, 4);
	assert_int_equal(s1.split - s0.split, 1);
	assert_int_equal(do_read(f, r, 3, 1024 * 1024), 0);
	memcpy(got, r[0].iov_base, r[0].iov_len);
	memcpy(got + r[0].iov_len, r[1].iov_base, r[1].iov_len);
	memcpy(got + r[0].iov_len + r[1].iov_len, r[2].iov_base, r[2].iov_len);
	f->blk->max_request = saved;
	assert_memory_equal(got, f->buf, len);
	vfn_blk_queue_stats(f->q, &s0);
	assert_true(s0.commands - s1.commands >= 4);
	free(got);
}

/*
 * Many small segments (64 x 512 B, none contiguous with the next): one
 * piece per segment would be more commands than the queue's depth (32);
 * the request is bounced instead of refused (nvme), data intact.
 */
static void test_many_small_segments(void **state)
{
	struct fixture *f = *state;
	struct iovec w[64], r[64];
	struct vfn_blk_stats s0, s1;

	if (f->bs != 512)
		skip();
	fill(f->buf, BUF_LEN, 31);
	memset(f->rbuf, 0, BUF_LEN);
	for (int i = 0; i < 64; i++) {
		w[i] = (struct iovec){ f->buf + (size_t)i * 1024, 512 };
		r[i] = (struct iovec){ f->rbuf + (size_t)i * 2048 + 512, 512 };
	}
	vfn_blk_queue_stats(f->q, &s0);
	assert_int_equal(do_write(f, w, 64, 400 * 512, 0), 0);
	assert_int_equal(do_read(f, r, 64, 400 * 512), 0);
	for (int i = 0; i < 64; i++)
		assert_memory_equal(r[i].iov_base, w[i].iov_base, 512);
	vfn_blk_queue_stats(f->q, &s1);
	assert_int_equal(s1.completed - s0.completed, 2);
	if (vfn_blk_backend(f->blk) == VFN_BLK_NVME)
		assert_true(s1.bounced - s0.bounced >= 2);
}

/* sim only: an error status reaches the callback as -EIO with the NVMe status. */
static void test_status(void **state)
{
	struct fixture *f = *state;
	struct iovec r = { f->rbuf, f->bs };

	if (!f->is_sim)
		skip();
	assert_int_equal(vfn_nvme_inject_status(f->q->hot.qp, 0x02, 1, 0x0281), 0); /* Unrecovered Read Error */
	{
		struct done d = { 0 };

		assert_int_equal(vfn_blk_readv(f->q, &r, 1, 0, on_done, &d), 0);
		wait_done(f->q, &d);
		assert_int_equal(d.ret, -EIO);
		assert_int_equal(d.status, 0x0281);
	}
	vfn_nvme_inject_clear(f->q->hot.qp);
}

/*
 * A completion the controller never posts (the simulator drops it): closing
 * the queue is bounded by the handle's command timeout (0.5 s here: Abort,
 * then expiry), not 30 s, and the request's callback reports it.
 */
static void test_close_wedged(void **state)
{
	struct vfn_blk *blk;
	struct vfn_blk_queue *q;
	struct vfn_sim *sim;
	struct done d = { 0 };
	uint8_t *buf;
	ssize_t len;
	uint64_t t0, ms;

	(void)state;
	assert_int_equal(vfn_blk_open("sim:nsze=4096,lbads=9", &(struct vfn_blk_opts){ .timeout_ms = 500 }, &blk), 0);
	sim = vfn_blk_sim(blk);
	assert_non_null(sim);
	assert_int_equal(vfn_blk_queue_open(blk, &(struct vfn_blk_queue_opts){ .depth = 8, .polled = true }, &q), 0);
	len = vfn_blk_mem_alloc(blk, 4096, (void **)&buf);
	assert_true(len > 0);
	assert_int_equal(
		vfn_sim_fault_add(sim,
				  &(struct vfn_sim_fault){ .action = VFN_SIM_FAULT_DROP, .sqid = -1, .opcode = 0x02 }),
		0);
	assert_int_equal(vfn_blk_readv(q, &(struct iovec){ buf, 4096 }, 1, 0, on_done, &d), 0);
	assert_true(vfn_blk_queue_poll(q, 0) >= 0);
	t0 = vfn_now_ns();
	vfn_blk_queue_close(q);
	ms = (vfn_now_ns() - t0) / 1000000;
	print_message("queue close on a dropped completion: %llu ms\n", (unsigned long long)ms);
	assert_true(ms < 3000);
	assert_int_equal(d.calls, 1);
	assert_true(d.ret == -ETIMEDOUT || d.ret == -ECANCELED);
	vfn_blk_mem_free(blk, buf, (size_t)len);
	vfn_blk_close(blk);
}

static void test_backend_choice(void **state)
{
	struct vfn_blk *blk;

	(void)state;
	assert_int_equal(vfn_blk_open("sim:", &(struct vfn_blk_opts){ .backend = "bogus" }, &blk), -EINVAL);
	/* forced io_uring on a sim: string: no such file */
	assert_int_equal(vfn_blk_open("sim:", &(struct vfn_blk_opts){ .backend = "io_uring" }, &blk), -ENOENT);
	setenv("VFN_BLK_BACKEND", "io_uring", 1);
	assert_int_equal(vfn_blk_open("sim:", NULL, &blk), -ENOENT);
	unsetenv("VFN_BLK_BACKEND");
	assert_int_equal(vfn_blk_open("sim:", NULL, &blk), 0);
	assert_int_equal(vfn_blk_backend(blk), VFN_BLK_NVME);
	vfn_blk_close(blk);
}

/* The last command posted on @q's pair (nvme backend). */
static const struct vfn_nvme_sqe *last_sqe(struct vfn_blk_queue *q)
{
	struct vfn_sq *sq = &q->hot.qp->sq;

	return &sq->sqes[sq->tail ? sq->tail - 1 : sq->entries - 1];
}

/*
 * nvme: one segment of registered memory within two pages takes the fast
 * path (vfn_blk__fast_rw() in <vfn/blk-inline.h>: no request context, so q->slow_requests stays)
 * once the queue translated its mapping,
 * with the command's fields right; anything else the general path.
 */
static void test_fast_path(void **state)
{
	struct fixture *f = *state;
	struct vfn_blk_queue *q = f->q;
	uint64_t slow, direct0, base = 512 * (uint64_t)f->bs;
	uint8_t *rbuf = f->buf + 65536; /* the same mapping: the queue caches one */
	struct iovec w = { f->buf, 4096 }, r = { rbuf, 4096 };
	struct vfn_blk_stats s0, s1;
	const struct vfn_nvme_sqe *sqe;
	struct done d = { 0 };

	if (vfn_blk_backend(f->blk) != VFN_BLK_NVME)
		return;
	assert_true(q->hot.fast);
	fill(f->buf, 65536, 9);
	memset(rbuf, 0xee, 65536);
	/*
	 * The first I/O of a mapping translates it (the general path); the
	 * queue then caches it from that address on.
	 */
	slow = q->slow_requests;
	assert_int_equal(do_read(f, &(struct iovec){ f->buf, 4096 }, 1, 0), 0);
	assert_int_equal(q->slow_requests, slow + 1);
	slow = q->slow_requests;
	memset(rbuf, 0xee, 65536);
	vfn_blk_queue_stats(q, &s0);
	direct0 = q->hot.qp->direct_done;
	/* 4 KiB FUA write: one page, PRP1 only, FUA set, NLB 0's based */
	assert_int_equal(vfn_blk_writev(q, &w, 1, base, VFN_BLK_FUA, on_done, &d), 0);
	assert_int_equal(vfn_blk_queue_inflight(q), 1); /* its command, not the general path's */
	sqe = last_sqe(q);
	assert_int_equal(sqe->opcode, NVME_CMD_WRITE);
	assert_int_equal(le32toh(sqe->cdw12), (1u << 30) | (4096 / f->bs - 1));
	assert_int_equal(le32toh(sqe->cdw10), 512);
	assert_int_equal(le32toh(sqe->cdw11), 0);
	assert_int_equal(le32toh(sqe->nsid), f->blk->nsid);
	assert_int_equal(le64toh(sqe->dptr.prp2), 0);
	wait_done(q, &d);
	assert_int_equal(d.ret, 0);
	assert_int_equal(q->slow_requests, slow);
	assert_int_equal(do_read(f, &r, 1, base), 0);
	assert_memory_equal(f->buf, rbuf, 4096);
	/* 6 KiB from the middle of a page: two pages, PRP2 the next page's address */
	w = (struct iovec){ f->buf + 10240, 6144 };
	r = (struct iovec){ rbuf + 10240, 6144 };
	d.calls = 0;
	assert_int_equal(vfn_blk_writev(q, &w, 1, base + 8 * f->bs, 0, on_done, &d), 0);
	sqe = last_sqe(q);
	assert_int_equal(le64toh(sqe->dptr.prp2) - le64toh(sqe->dptr.prp1), 2048);
	assert_int_equal(le64toh(sqe->dptr.prp2) & 4095, 0);
	assert_int_equal(le32toh(sqe->cdw12), 6144 / f->bs - 1);
	wait_done(q, &d);
	assert_int_equal(d.ret, 0);
	assert_int_equal(do_read(f, &r, 1, base + 8 * f->bs), 0);
	assert_memory_equal(f->buf + 10240, rbuf + 10240, 6144);
	assert_int_equal(q->slow_requests, slow);
	vfn_blk_queue_stats(q, &s1);
	assert_int_equal(s1.requests - s0.requests, 4);
	assert_int_equal(s1.commands - s0.commands, 4);
	assert_int_equal(s1.completed - s0.completed, 4);
	/* the four completed through the reap's direct call (VFN_RQ_F_DIRECT): nothing in flight */
	assert_int_equal(q->hot.qp->direct_done - direct0, 4);
	assert_int_equal(vfn_blk_queue_inflight(q), 0);
	/* three pages (a PRP list), a buffer not dword-aligned: the general path, same data */
	w = (struct iovec){ f->buf + 20480 + 2048, 7168 };
	r = (struct iovec){ rbuf + 20480 + 2048, 7168 };
	assert_int_equal(do_write(f, &w, 1, base + 32 * f->bs, 0), 0);
	assert_int_equal(do_read(f, &r, 1, base + 32 * f->bs), 0);
	assert_memory_equal(w.iov_base, r.iov_base, 7168);
	assert_int_equal(q->slow_requests, slow + 2);
	w = (struct iovec){ f->buf + 40962, 4096 };
	r = (struct iovec){ rbuf + 40962, 4096 };
	assert_int_equal(do_write(f, &w, 1, base + 64 * f->bs, 0), 0);
	assert_int_equal(do_read(f, &r, 1, base + 64 * f->bs), 0);
	assert_memory_equal(w.iov_base, r.iov_base, 4096);
	assert_int_equal(q->slow_requests, slow + 4);
	/* refused requests come from the general path's checks */
	r = (struct iovec){ rbuf, 4096 };
	assert_int_equal(vfn_blk_readv(q, &r, 1, vfn_blk_size(f->blk), on_done, &d), -EINVAL);
	assert_int_equal(vfn_blk_readv(q, &r, 1, 1ull << 63, on_done, &d), -EINVAL);
	assert_int_equal(vfn_blk_readv(q, &r, 1, 100, on_done, &d), -EINVAL);
}

/*
 * nvme: unregistering memory empties every queue's translation cache, so
 * the fast path no longer takes the old mapping: an I/O from the same
 * (still allocated) buffer goes to the general path and is bounced, with
 * its data intact.
 */
static void test_fast_unregister(void **state)
{
	struct fixture *f = *state;
	struct vfn_blk_queue *q = f->q;
	uint64_t slow, off = 1024 * (uint64_t)f->bs;
	struct vfn_blk_stats s0, s1;
	void *m;
	ssize_t len;

	if (vfn_blk_backend(f->blk) != VFN_BLK_NVME)
		return;
	len = vfn_blk_mem_alloc(f->blk, 16384, &m);
	assert_true(len >= 16384);
	fill(f->buf, 4096, 11);
	assert_int_equal(do_write(f, &(struct iovec){ f->buf, 4096 }, 1, off, 0), 0);
	/* the first read translates the new mapping, the second takes the fast path */
	memset(m, 0, 4096);
	assert_int_equal(do_read(f, &(struct iovec){ m, 4096 }, 1, off), 0);
	slow = q->slow_requests;
	memset(m, 0, 4096);
	assert_int_equal(do_read(f, &(struct iovec){ m, 4096 }, 1, off), 0);
	assert_int_equal(q->slow_requests, slow);
	assert_memory_equal(m, f->buf, 4096);
	assert_true(__atomic_load_n(&q->hot.c_len, __ATOMIC_RELAXED) >= 4096);
	assert_int_equal(vfn_blk_mem_unregister(f->blk, m), 0);
	assert_int_equal(__atomic_load_n(&q->hot.c_len, __ATOMIC_RELAXED), 0);
	/* not registered any more: the general path bounces it */
	memset(m, 0, 4096);
	vfn_blk_queue_stats(q, &s0);
	assert_int_equal(do_read(f, &(struct iovec){ m, 4096 }, 1, off), 0);
	vfn_blk_queue_stats(q, &s1);
	assert_int_equal(q->slow_requests, slow + 1);
	assert_int_equal(s1.bounced - s0.bounced, 1);
	assert_memory_equal(m, f->buf, 4096);
	vfn_mem_free(m, (size_t)len);
}

/*
 * nvme: a depth-1 queue whose callback resubmits.  The first read takes the
 * general path (the mapping is new); its command is free before its
 * callback runs, so the resubmissions from there take the fast path (its
 * depth check counts the pair's free commands).
 */
static void test_fast_resubmit(void **state)
{
	struct fixture *f = *state;
	struct chain c = { .iov = { f->rbuf + 8192, f->bs }, .left = 4 };
	uint64_t deadline = vfn_now_ns() + 10000000000ull;

	if (vfn_blk_backend(f->blk) != VFN_BLK_NVME)
		return;
	assert_int_equal(vfn_blk_queue_open(f->blk, &(struct vfn_blk_queue_opts){ .depth = 1 }, &c.q), 0);
	assert_true(c.q->hot.fast);
	assert_int_equal(vfn_blk_readv(c.q, &c.iov, 1, 0, on_chain, &c), 0);
	assert_int_equal(c.q->slow_requests, 1);
	while (c.left > 0 && !c.err && vfn_now_ns() < deadline)
		assert_true(vfn_blk_queue_poll(c.q, 0) >= 0);
	assert_int_equal(c.err, 0);
	assert_int_equal(c.calls, 4);
	assert_int_equal(c.q->slow_requests, 1); /* the three resubmissions: the fast path */
	assert_int_equal(vfn_blk_queue_inflight(c.q), 0);
	vfn_blk_queue_close(c.q);
}

/* CQEs the controller posted and the driver has not consumed yet (the phase tags from the head). */
static unsigned int cq_posted(const struct vfn_cq *cq)
{
	unsigned int n = 0;
	uint16_t head = cq->head, phase = cq->phase;

	while (n < cq->entries && (le16toh(__atomic_load_n(&cq->cqes[head].sfp, __ATOMIC_ACQUIRE)) & 1) == phase) {
		n++;
		if (++head == cq->entries) {
			head = 0;
			phase ^= 1;
		}
	}
	return n;
}

#ifdef VFN_BLK_INLINE
/*
 * The library's vfn_blk_queue_poll, counted: the blk_inline test links with
 * -Wl,--wrap=vfn_blk_queue_poll, so the inline poll's fallbacks come here.
 */
int __real_vfn_blk_queue_poll(struct vfn_blk_queue *q, uint32_t max);
int __wrap_vfn_blk_queue_poll(struct vfn_blk_queue *q, uint32_t max);
static unsigned int lib_polls;

int __wrap_vfn_blk_queue_poll(struct vfn_blk_queue *q, uint32_t max)
{
	lib_polls++;
	return __real_vfn_blk_queue_poll(q, max);
}
#endif

/*
 * Polls @q once with @max: it returns the number of callbacks of @d[@nd]
 * it ran (*@calls so far), @want if not -1, consumes at most @max CQEs (0:
 * any), and leaves the CQ head as the pair's policy says: written with
 * interrupts; polled, written only when due, which these few CQEs never
 * make it.  Inline, it called the library's poll
 * @lib times (if not -1).
 */
static void poll_expect(struct vfn_blk_queue *q, const struct done *d, int nd, int *calls, uint32_t max, int want,
			int lib)
{
	struct vfn_cq *cq = &q->hot.qp->cq;
	unsigned int head = cq->head, phase = cq->phase, db_head = cq->db_head, consumed;
#ifdef VFN_BLK_INLINE
	unsigned int before = lib_polls;
#endif
	int ret = vfn_blk_queue_poll(q, max), now = 0;

	for (int i = 0; i < nd; i++)
		now += d[i].calls;
	assert_int_equal(now - *calls, ret);
	*calls = now;
	if (want >= 0)
		assert_int_equal(ret, want);
	consumed = (cq->head + (cq->phase == phase ? 0u : cq->entries) - head) % (2u * cq->entries);
	if (max)
		assert_true(consumed <= max);
	if (vfn_blk_queue_fd(q) >= 0)
		assert_int_equal(cq->unreported, 0);
	else /* a few CQEs on a pair of 255 commands: never due, so never written */
		assert_int_equal(cq->db_head, db_head);
#ifdef VFN_BLK_INLINE
	if (lib >= 0)
		assert_int_equal(lib_polls - before, (unsigned int)lib);
#else
	(void)lib;
#endif
}

/* Waits until the controller posted @n CQEs on @q's pair. */
static void wait_posted(struct vfn_blk_queue *q, unsigned int n)
{
	uint64_t deadline = vfn_now_ns() + 10000000000ull;

	while (cq_posted(&q->hot.qp->cq) < n && vfn_now_ns() < deadline)
		usleep(1000);
	assert_int_equal(cq_posted(&q->hot.qp->cq), n);
}

/*
 * nvme, on @q (with interrupts or polled): a poll returns the number of
 * callbacks it ran and takes at most @max completions, however they mix
 * the fast path's (direct) and the general path's.  Inline, direct
 * completions are reaped without the library: four of them, one poll, no
 * call into it.  Then nine reads, all completed before the first poll: 1
 * and 6 on the general path (two segments, one command), 8 split (4 KiB
 * beyond the largest request: two commands), the others direct.  On sim:
 * (completions in order) the library's poll gets exactly the general
 * path's and what follows them; a real controller may complete in any
 * order.
 */
static void poll_count_on(struct fixture *f, struct vfn_blk_queue *q)
{
	struct done d[9] = { 0 }, warm = { 0 };
	struct vfn_nvme_qpair *qp = q->hot.qp;
	size_t big = vfn_blk_max_request(f->blk) + 4096; /* two commands */
	uint16_t mmio_tail, mmio_head;
	int calls = 0;

	assert_true(16384 * 8 + big <= f->buf_len);
	assert_int_equal(vfn_blk_readv(q, &(struct iovec){ f->buf, 4096 }, 1, 0, on_done, &warm), 0);
	wait_done(q, &warm); /* the mapping cached */
	for (int i = 0; i < 4; i++)
		assert_int_equal(vfn_blk_readv(q, &(struct iovec){ f->buf + 4096 * (size_t)i, 4096 }, 1,
					       4096 * (uint64_t)i, on_done, &d[i]),
				 0);
	assert_int_equal(vfn_blk_queue_submit(q), 0);
	wait_posted(q, 4);
	poll_expect(q, d, 4, &calls, 0, 4, 0);
	memset(d, 0, sizeof(d));
	calls = 0;
	for (int i = 0; i < 9; i++) {
		uint8_t *p = f->buf + 16384 * (size_t)i;
		/* two segments PRPs express: one command */
		struct iovec iov[2] = { { p + 2048, 2048 }, { p + 4096, 2048 } };
		struct iovec one = { p, i == 8 ? big : 4096 };

		if (i == 1 || i == 6)
			assert_int_equal(vfn_blk_readv(q, iov, 2, 16384 * (uint64_t)i, on_done, &d[i]), 0);
		else
			assert_int_equal(vfn_blk_readv(q, &one, 1, 16384 * (uint64_t)i, on_done, &d[i]), 0);
	}
	assert_int_equal(qp->rqs.nr - qp->rqs.nr_free, 10);
	assert_int_equal(vfn_blk_queue_submit(q), 0);
	wait_posted(q, 10);
	if (f->is_sim) {
		poll_expect(q, d, 9, &calls, 2, 2, 1); /* 0 direct; 1 in the library */
		poll_expect(q, d, 9, &calls, 2, 2, 0); /* 2, 3: direct */
		poll_expect(q, d, 9, &calls, 0, 5, 1); /* 4 direct; 5..8 in the library */
	} else {
		poll_expect(q, d, 9, &calls, 2, -1, -1);
		poll_expect(q, d, 9, &calls, 3, -1, -1);
		poll_expect(q, d, 9, &calls, 0, -1, -1);
	}
	assert_int_equal(calls, 9);
	for (int i = 0; i < 9; i++) {
		assert_int_equal(d[i].calls, 1);
		assert_int_equal(d[i].ret, 0);
	}
	assert_int_equal(vfn_blk_queue_inflight(q), 0);
	/* Empty: the library only while a doorbell value is in the shadow alone (it watches for a stall)... */
	poll_expect(q, d, 9, &calls, 0, 0, vfn_nvme_qpair_shadow_pending(qp));
	/* ... not once the MMIO registers are taken to hold them (as after the stall watch rang them). */
	mmio_tail = qp->sq.mmio_tail;
	mmio_head = qp->cq.mmio_head;
	qp->sq.mmio_tail = qp->sq.db_tail;
	qp->cq.mmio_head = qp->cq.db_head;
	qp->idle_reaps = 5; /* and the stall watch is reset, as by the library's empty reap */
	qp->stall_ns = 1;
	poll_expect(q, d, 9, &calls, 0, 0, 0);
	assert_int_equal(qp->idle_reaps, 0);
	assert_int_equal(qp->stall_ns, 0);
	qp->sq.mmio_tail = mmio_tail; /* the truth again, for the stall watch */
	qp->cq.mmio_head = mmio_head;
}

static void test_poll_count(void **state)
{
	struct fixture *f = *state;
	struct vfn_blk_queue *q;

	if (vfn_blk_backend(f->blk) != VFN_BLK_NVME)
		return;
	assert_true(vfn_blk_queue_fd(f->q) >= 0);
	poll_count_on(f, f->q);
	assert_int_equal(vfn_blk_queue_open(f->blk, &(struct vfn_blk_queue_opts){ .depth = 32, .polled = true }, &q),
			 0);
	assert_int_equal(vfn_blk_queue_fd(q), -1);
	poll_count_on(f, q);
	vfn_blk_queue_close(q);
}

/*
 * nvme, polled: 32 callbacks that resubmit, 2048 reads.  Each completion
 * a callback replaces leaves the CQEs to report as high, so the poll must
 * write the CQ head when it becomes due (vfn_nvme_qpair_cq_head_due()),
 * not leave that to the next submit.
 */
static void test_poll_resubmit_due(void **state)
{
	struct fixture *f = *state;
	uint64_t deadline = vfn_now_ns() + 20000000000ull;
	struct vfn_blk_queue *q;
	struct chain c[32];
	struct done warm = { 0 };
	int left = 32;

	if (vfn_blk_backend(f->blk) != VFN_BLK_NVME)
		return;
	assert_int_equal(vfn_blk_queue_open(f->blk, &(struct vfn_blk_queue_opts){ .depth = 32, .polled = true }, &q),
			 0);
	assert_int_equal(vfn_blk_readv(q, &(struct iovec){ f->rbuf, 4096 }, 1, 0, on_done, &warm), 0);
	wait_done(q, &warm); /* the mapping cached: the resubmissions take the fast path */
	for (int i = 0; i < 32; i++) {
		c[i] = (struct chain){ .q = q, .iov = { f->rbuf + 4096 * (size_t)i, 4096 }, .left = 64 };
		assert_int_equal(vfn_blk_readv(q, &c[i].iov, 1, 0, on_chain, &c[i]), 0);
	}
	while (left && vfn_now_ns() < deadline) {
		assert_int_equal(vfn_blk_queue_submit(q), 0);
		assert_true(vfn_blk_queue_poll(q, 0) >= 0);
		assert_false(vfn_nvme_qpair_cq_head_due(q->hot.qp));
		left = 0;
		for (int i = 0; i < 32; i++) {
			assert_int_equal(c[i].err, 0);
			left += c[i].left > 0;
		}
	}
	for (int i = 0; i < 32; i++)
		assert_int_equal(c[i].calls, 64);
	vfn_blk_queue_close(q);
}

/*
 * A controller with one interrupt vector (sim:vectors=1: what a function
 * on MSI or INTx offers, e.g. after AUTO fell back): queues with interrupts
 * (the default) open, all on vector 0, and each one's fd fires for its
 * completions; the data written through one is read back through another.
 */
static void test_one_vector(void **state)
{
	struct vfn_blk_queue *q[3] = { 0 };
	struct vfn_blk *blk;
	uint8_t *buf;
	(void)state;

	assert_int_equal(vfn_blk_open("sim:vectors=1", NULL, &blk), 0);
	assert_true(vfn_blk_mem_alloc(blk, 4096, (void **)&buf) >= 4096);
	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(vfn_blk_queue_open(blk, &(struct vfn_blk_queue_opts){ .depth = 8 }, &q[i]), 0);
		assert_true(vfn_blk_queue_fd(q[i]) >= 0);
	}
	for (unsigned int i = 0; i < 3; i++) {
		struct pollfd p = { .fd = vfn_blk_queue_fd(q[i]), .events = POLLIN };
		struct iovec v = { buf, 4096 };
		struct done d = { 0 };
		uint64_t cnt;

		memset(buf, 0x40 + (int)i, 4096);
		assert_int_equal(vfn_blk_writev(q[i], &v, 1, 4096 * i, 0, on_done, &d), 0);
		assert_true(vfn_blk_queue_submit(q[i]) >= 0);
		assert_int_equal(poll(&p, 1, 5000), 1);
		assert_int_equal(read(p.fd, &cnt, sizeof(cnt)), sizeof(cnt));
		wait_done(q[i], &d);
		assert_int_equal(d.ret, 0);
		memset(buf, 0, 4096);
		d = (struct done){ 0 };
		assert_int_equal(vfn_blk_readv(q[(i + 1) % 3], &v, 1, 4096 * i, on_done, &d), 0);
		wait_done(q[(i + 1) % 3], &d);
		assert_int_equal(d.ret, 0);
		assert_int_equal(buf[0], 0x40 + (int)i);
		assert_int_equal(buf[4095], 0x40 + (int)i);
	}
	for (unsigned int i = 0; i < 3; i++)
		vfn_blk_queue_close(q[i]);
	vfn_blk_mem_free(blk, buf, 4096);
	vfn_blk_close(blk);
}

/* ---- rev15: hostile tests of the nvme fast path (sim only) ------------------ */

struct rv_ctx {
	struct vfn_blk_queue *q;
	int calls, errs, last_ret, nested;
	uint16_t last_status;
	uint32_t max_inflight; /* vfn_blk_queue_inflight() seen from the callbacks */
};

static void rv_done(void *arg, int ret, uint16_t status)
{
	struct rv_ctx *c = arg;
	uint32_t n = vfn_blk_queue_inflight(c->q);

	c->calls++;
	if (ret)
		c->errs++;
	c->last_ret = ret;
	c->last_status = status;
	if (n > c->max_inflight)
		c->max_inflight = n;
}

/* Opens sim @uri with a 500 ms command timeout, a polled queue of @depth and @len bytes of registered memory. */
static void rv_open(const char *uri, uint32_t depth, struct vfn_blk **blk, struct vfn_blk_queue **q, uint8_t **buf,
		    size_t len)
{
	assert_int_equal(vfn_blk_open(uri, &(struct vfn_blk_opts){ .timeout_ms = 500 }, blk), 0);
	assert_int_equal(vfn_blk_queue_open(*blk, &(struct vfn_blk_queue_opts){ .depth = depth, .polled = true }, q),
			 0);
	assert_true(vfn_blk_mem_alloc(*blk, len, (void **)buf) >= (ssize_t)len);
}

static void rv_poll_until(struct vfn_blk_queue *q, const int *calls, int want)
{
	uint64_t deadline = vfn_now_ns() + 10000000000ull;

	while (*calls < want && vfn_now_ns() < deadline)
		assert_true(vfn_blk_queue_poll(q, 0) >= 0);
	assert_int_equal(*calls, want);
}

/*
 * Depth with both paths on one pair: a split request (two commands) and
 * fast-path requests.  The depth counts requests, not commands: exactly
 * depth requests are accepted, the next is -EAGAIN, whichever path.
 */
static void test_rv_depth_mixed(void **state)
{
	struct vfn_blk *blk;
	struct vfn_blk_queue *q;
	struct rv_ctx c = { 0 };
	struct vfn_blk_stats s;
	uint8_t *buf;
	int accepted = 0, ret;

	(void)state;
	rv_open("sim:nsze=4096,lbads=9,mdts=1", 4, &blk, &q, &buf, 65536);
	c.q = q;
	assert_true(q->hot.fast);
	/* translate the mapping once (general path), so the rest can take the fast path */
	assert_int_equal(vfn_blk_readv(q, &(struct iovec){ buf, 4096 }, 1, 0, rv_done, &c), 0);
	rv_poll_until(q, &c.calls, 1);
	c.calls = 0;
	/* 16 KiB with MDTS 8 KiB: the general path, two commands */
	assert_int_equal(vfn_blk_readv(q, &(struct iovec){ buf, 16384 }, 1, 0, rv_done, &c), 0);
	assert_int_equal(q->slow_cmds, 2);
	accepted = 1;
	for (int i = 0; i < 8; i++) {
		ret = vfn_blk_readv(q, &(struct iovec){ buf + 16384 + 4096 * (size_t)i, 4096 }, 1, 4096 * (uint64_t)i,
				    rv_done, &c);
		if (ret) {
			assert_int_equal(ret, -EAGAIN);
			break;
		}
		accepted++;
	}
	assert_int_equal(accepted, 4);
	assert_int_equal(vfn_blk_queue_inflight(q), 4);
	/* also the other request kinds, and a write from the fast path's shape */
	assert_int_equal(vfn_blk_flush(q, rv_done, &c), -EAGAIN);
	assert_int_equal(vfn_blk_writev(q, &(struct iovec){ buf, 4096 }, 1, 0, 0, rv_done, &c), -EAGAIN);
	rv_poll_until(q, &c.calls, 4);
	assert_int_equal(c.errs, 0);
	assert_true(c.max_inflight <= 3);
	assert_int_equal(vfn_blk_queue_inflight(q), 0);
	assert_int_equal(q->slow_cmds, 0);
	vfn_blk_queue_stats(q, &s);
	assert_int_equal(s.requests, 5);
	assert_int_equal(s.completed, 5);
	vfn_blk_queue_close(q);
	vfn_blk_mem_free(blk, buf, 65536);
	vfn_blk_close(blk);
}

struct rv_chain {
	struct rv_ctx c;
	uint8_t *buf;
	struct iovec iov; /* valid until the callback (the API's rule) */
	int left;
	uint32_t depth;
};

/* Resubmits alternately on the general path (a bounced, unaligned buffer) and the fast path. */
static void rv_chain_done(void *arg, int ret, uint16_t status)
{
	struct rv_chain *ch = arg;
	int r;

	rv_done(&ch->c, ret, status);
	if (ret || ch->left <= 0)
		return;
	ch->left--;
	ch->iov = (struct iovec){ ch->left & 1 ? ch->buf + 2 : ch->buf + 8192, 4096 };
	r = vfn_blk_readv(ch->c.q, &ch->iov, 1, 0, rv_chain_done, ch);
	if (r)
		ch->c.nested = r;
	if (vfn_blk_queue_inflight(ch->c.q) > ch->depth)
		ch->c.max_inflight = 1000;
}

/*
 * A full queue whose callbacks resubmit across the paths (fast ->
 * general/bounced -> fast ...): never beyond the depth, every request
 * completes once, the counters come back to 0.
 */
static void test_rv_chain_paths(void **state)
{
	struct vfn_blk *blk;
	struct vfn_blk_queue *q;
	struct rv_chain ch[3] = { 0 };
	struct vfn_blk_stats s;
	uint8_t *buf;
	int total = 0;

	(void)state;
	rv_open("sim:nsze=4096,lbads=9,mdts=1", 3, &blk, &q, &buf, 65536);
	for (int i = 0; i < 3; i++) {
		ch[i] = (struct rv_chain){ .c = { .q = q }, .buf = buf + 16384 * (size_t)i, .left = 20, .depth = 3 };
		ch[i].iov = (struct iovec){ ch[i].buf + 8192, 4096 };
		assert_int_equal(vfn_blk_readv(q, &ch[i].iov, 1, 0, rv_chain_done, &ch[i]), 0);
	}
	assert_int_equal(vfn_blk_readv(q, &(struct iovec){ buf, 4096 }, 1, 0, rv_done, &ch[0].c), -EAGAIN);
	for (uint64_t deadline = vfn_now_ns() + 10000000000ull; vfn_now_ns() < deadline;) {
		assert_true(vfn_blk_queue_poll(q, 0) >= 0);
		if (ch[0].c.calls == 21 && ch[1].c.calls == 21 && ch[2].c.calls == 21)
			break;
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ch[i].c.calls, 21);
		assert_int_equal(ch[i].c.errs, 0);
		assert_int_equal(ch[i].c.nested, 0);
		assert_true(ch[i].c.max_inflight <= 3);
		total += ch[i].c.calls;
	}
	assert_int_equal(vfn_blk_queue_inflight(q), 0);
	assert_int_equal(q->slow_cmds, 0);
	vfn_blk_queue_stats(q, &s);
	assert_int_equal(s.requests, (uint64_t)total);
	assert_int_equal(s.completed, (uint64_t)total);
	assert_true(s.bounced >= 30);
	vfn_blk_queue_close(q);
	vfn_blk_mem_free(blk, buf, 65536);
	vfn_blk_close(blk);
}

/* An error status on fast-path and general-path reads: -EIO with the status, once each, counters back to 0. */
static void test_rv_status_fast(void **state)
{
	struct vfn_blk *blk;
	struct vfn_blk_queue *q;
	struct rv_ctx c = { 0 };
	uint8_t *buf;
	uint64_t slow;

	(void)state;
	rv_open("sim:nsze=4096,lbads=9,mdts=1", 8, &blk, &q, &buf, 65536);
	c.q = q;
	assert_int_equal(vfn_blk_readv(q, &(struct iovec){ buf, 4096 }, 1, 0, rv_done, &c), 0);
	rv_poll_until(q, &c.calls, 1);
	c.calls = 0;
	assert_int_equal(vfn_sim_fault_add(vfn_blk_sim(blk),
					   &(struct vfn_sim_fault){ .action = VFN_SIM_FAULT_STATUS,
								    .sqid = -1,
								    .opcode = 0x02,
								    .repeat = true,
								    .status = vfn_sim_status(0, 0x81, false, true) }),
			 0);
	slow = q->slow_requests;
	for (int i = 0; i < 4; i++)
		assert_int_equal(vfn_blk_readv(q, &(struct iovec){ buf + 4096 * (size_t)i, 4096 }, 1, 0, rv_done, &c),
				 0);
	assert_int_equal(q->slow_requests, slow); /* the fast path */
	/* and a split one (general path, two commands) */
	assert_int_equal(vfn_blk_readv(q, &(struct iovec){ buf + 16384, 16384 }, 1, 0, rv_done, &c), 0);
	assert_int_equal(vfn_blk_queue_inflight(q), 5);
	rv_poll_until(q, &c.calls, 5);
	assert_int_equal(c.errs, 5);
	assert_int_equal(c.last_ret, -EIO);
	assert_int_equal(c.last_status & 0x7ff, 0x81);
	assert_int_equal(vfn_blk_queue_inflight(q), 0);
	assert_int_equal(q->slow_cmds, 0);
	assert_int_equal(vfn_blk_queue_poll(q, 0), 0);
	assert_int_equal(c.calls, 5);
	vfn_sim_fault_clear(vfn_blk_sim(blk));
	vfn_blk_queue_close(q);
	vfn_blk_mem_free(blk, buf, 65536);
	vfn_blk_close(blk);
}

/*
 * Completions the driver cannot use (@action: dropped, wrong command id,
 * wrong phase) with fast-path and general-path requests in flight: the
 * close's timeout handling completes each exactly once with an error.
 */
static void rv_lost(enum vfn_sim_fault_action action)
{
	struct vfn_blk *blk;
	struct vfn_blk_queue *q;
	struct rv_ctx c = { 0 };
	uint8_t *buf;
	uint64_t t0, ms;

	rv_open("sim:nsze=4096,lbads=9,mdts=1", 8, &blk, &q, &buf, 65536);
	c.q = q;
	assert_int_equal(vfn_blk_readv(q, &(struct iovec){ buf, 4096 }, 1, 0, rv_done, &c), 0);
	rv_poll_until(q, &c.calls, 1);
	c.calls = 0;
	assert_int_equal(vfn_sim_fault_add(vfn_blk_sim(blk),
					   &(struct vfn_sim_fault){ .action = action, .sqid = -1, .opcode = 0x02 }),
			 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(vfn_blk_readv(q, &(struct iovec){ buf + 4096 * (size_t)i, 4096 }, 1,
					       4096 * (uint64_t)i, rv_done, &c),
				 0);
	assert_int_equal(vfn_blk_readv(q, &(struct iovec){ buf + 16384, 16384 }, 1, 0, rv_done, &c), 0);
	assert_int_equal(vfn_blk_readv(q, &(struct iovec){ buf + 2, 4096 }, 1, 0, rv_done, &c), 0);
	assert_int_equal(vfn_blk_queue_inflight(q), 5);
	for (int i = 0; i < 200; i++)
		assert_true(vfn_blk_queue_poll(q, 0) >= 0);
	t0 = vfn_now_ns();
	vfn_blk_queue_close(q);
	ms = (vfn_now_ns() - t0) / 1000000;
	print_message("close with a lost completion (action %d): %llu ms, %d callbacks, %d errors\n", (int)action,
		      (unsigned long long)ms, c.calls, c.errs);
	assert_true(ms < 5000);
	assert_int_equal(c.calls, 5);
	assert_true(c.errs >= 1);
	vfn_sim_fault_clear(vfn_blk_sim(blk));
	vfn_blk_mem_free(blk, buf, 65536);
	vfn_blk_close(blk);
}

static void test_rv_lost_drop(void **state)
{
	(void)state;
	rv_lost(VFN_SIM_FAULT_DROP);
}

static void test_rv_lost_cid(void **state)
{
	(void)state;
	rv_lost(VFN_SIM_FAULT_WRONG_CID);
}

static void test_rv_lost_phase(void **state)
{
	(void)state;
	rv_lost(VFN_SIM_FAULT_WRONG_PHASE);
}

/*
 * Controller Fatal Status with fast-path and general-path requests in
 * flight: the timeout check fails them once each; afterwards both paths
 * refuse with the failure (never -EAGAIN, never a callback), and the
 * counters are 0.
 */
static void test_rv_fatal(void **state)
{
	struct vfn_blk *blk;
	struct vfn_blk_queue *q;
	struct rv_ctx c = { 0 };
	uint8_t *buf;
	int ret;

	(void)state;
	rv_open("sim:nsze=4096,lbads=9,mdts=1", 8, &blk, &q, &buf, 65536);
	c.q = q;
	assert_int_equal(vfn_blk_readv(q, &(struct iovec){ buf, 4096 }, 1, 0, rv_done, &c), 0);
	rv_poll_until(q, &c.calls, 1);
	c.calls = 0;
	vfn_sim_fault_fatal(vfn_blk_sim(blk));
	for (int i = 0; i < 3; i++)
		assert_int_equal(vfn_blk_readv(q, &(struct iovec){ buf + 4096 * (size_t)i, 4096 }, 1, 0, rv_done, &c),
				 0);
	assert_int_equal(vfn_blk_readv(q, &(struct iovec){ buf + 16384, 16384 }, 1, 0, rv_done, &c), 0);
	assert_int_equal(vfn_blk_queue_submit(q), 0);
	assert_int_equal(vfn_blk_queue_inflight(q), 4);
	assert_true(q->ops->expire(q) >= 0);
	assert_int_equal(c.calls, 4);
	assert_int_equal(c.errs, 4);
	assert_int_equal(vfn_blk_queue_inflight(q), 0);
	assert_int_equal(q->slow_cmds, 0);
	ret = vfn_blk_readv(q, &(struct iovec){ buf, 4096 }, 1, 0, rv_done, &c);
	assert_true(ret < 0 && ret != -EAGAIN);
	ret = vfn_blk_readv(q, &(struct iovec){ buf + 16384, 16384 }, 1, 0, rv_done, &c);
	assert_true(ret < 0 && ret != -EAGAIN);
	assert_int_equal(vfn_blk_queue_poll(q, 0), 0);
	assert_int_equal(c.calls, 4);
	assert_int_equal(vfn_blk_queue_inflight(q), 0);
	assert_int_equal(q->slow_cmds, 0);
	vfn_blk_queue_close(q);
	vfn_blk_mem_free(blk, buf, 65536);
	vfn_blk_close(blk);
}

static void rv_nested_done(void *arg, int ret, uint16_t status)
{
	struct rv_ctx *c = arg;

	rv_done(c, ret, status);
	c->nested = vfn_blk_queue_poll(c->q, 0);
}

/*
 * The callbacks that run inside vfn_blk_queue_close() are callbacks too:
 * polling their own queue from there is refused (-EBUSY) as from a poll.
 */
static void test_rv_close_nested_poll(void **state)
{
	struct vfn_blk *blk;
	struct vfn_blk_queue *q;
	struct rv_ctx c = { 0 };
	uint8_t *buf;

	(void)state;
	rv_open("sim:nsze=4096,lbads=9,mdts=1", 8, &blk, &q, &buf, 65536);
	c.q = q;
	for (int i = 0; i < 4; i++)
		assert_int_equal(
			vfn_blk_readv(q, &(struct iovec){ buf + 4096 * (size_t)i, 4096 }, 1, 0, rv_nested_done, &c), 0);
	vfn_blk_queue_close(q);
	assert_int_equal(c.calls, 4);
	assert_int_equal(c.nested, -EBUSY);
	vfn_blk_mem_free(blk, buf, 65536);
	vfn_blk_close(blk);
}

/*
 * Completions held back past the timeout (the simulator delays every read
 * 3 s, the handle's timeout is 0.5 s) on both paths: the close aborts them
 * and each callback runs exactly once, with the Abort's status.
 */
static void test_rv_delay_abort(void **state)
{
	struct vfn_blk *blk;
	struct vfn_blk_queue *q;
	struct rv_ctx c = { 0 };
	uint8_t *buf;
	uint64_t t0, ms;

	(void)state;
	rv_open("sim:nsze=4096,lbads=9,mdts=1", 8, &blk, &q, &buf, 65536);
	c.q = q;
	assert_int_equal(vfn_blk_readv(q, &(struct iovec){ buf, 4096 }, 1, 0, rv_done, &c), 0);
	rv_poll_until(q, &c.calls, 1);
	c.calls = 0;
	assert_int_equal(vfn_sim_fault_add(vfn_blk_sim(blk), &(struct vfn_sim_fault){ .action = VFN_SIM_FAULT_DELAY,
										      .sqid = -1,
										      .opcode = 0x02,
										      .repeat = true,
										      .delay_ms = 3000 }),
			 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(vfn_blk_readv(q, &(struct iovec){ buf + 4096 * (size_t)i, 4096 }, 1, 0, rv_done, &c),
				 0);
	assert_int_equal(vfn_blk_readv(q, &(struct iovec){ buf + 16384, 16384 }, 1, 0, rv_done, &c), 0);
	assert_int_equal(vfn_blk_readv(q, &(struct iovec){ buf + 2, 4096 }, 1, 0, rv_done, &c), 0);
	for (int i = 0; i < 100; i++)
		assert_true(vfn_blk_queue_poll(q, 0) >= 0);
	assert_int_equal(c.calls, 0);
	t0 = vfn_now_ns();
	vfn_blk_queue_close(q);
	ms = (vfn_now_ns() - t0) / 1000000;
	print_message("close with delayed completions: %llu ms, %d callbacks, %d errors, last %d/0x%x\n",
		      (unsigned long long)ms, c.calls, c.errs, c.last_ret, c.last_status);
	assert_int_equal(c.calls, 5);
	assert_int_equal(c.errs, 5);
	vfn_sim_fault_clear(vfn_blk_sim(blk));
	vfn_blk_mem_free(blk, buf, 65536);
	vfn_blk_close(blk);
}

/*
 * Use after unregistration with the device address reused: a queue cached
 * buffer A's translation; A is unregistered, buffer B registered (it may
 * get A's device address), A registered again (elsewhere).  A read into A
 * must land in A, never in B through the old translation.
 */
static void test_rv_iova_reuse(void **state)
{
	struct vfn_blk *blk;
	struct vfn_blk_queue *q;
	struct rv_ctx c = { 0 };
	uint8_t *a, *b, *src;
	size_t len = 16384;

	(void)state;
	rv_open("sim:nsze=4096,lbads=9", 8, &blk, &q, &src, 65536);
	c.q = q;
	assert_int_equal(vfn_mem_alloc(len, (void **)&a), (ssize_t)len);
	assert_int_equal(vfn_mem_alloc(len, (void **)&b), (ssize_t)len);
	memset(src, 0x3c, 4096);
	assert_int_equal(vfn_blk_writev(q, &(struct iovec){ src, 4096 }, 1, 0, 0, rv_done, &c), 0);
	rv_poll_until(q, &c.calls, 1);
	assert_int_equal(vfn_blk_mem_register(blk, a, len), 0);
	for (int i = 0; i < 2; i++) { /* the second one from the cache */
		memset(a, 0, len);
		assert_int_equal(vfn_blk_readv(q, &(struct iovec){ a, 4096 }, 1, 0, rv_done, &c), 0);
		rv_poll_until(q, &c.calls, 2 + i);
		assert_int_equal(a[4095], 0x3c);
	}
	assert_int_equal(vfn_blk_mem_unregister(blk, a), 0);
	assert_int_equal(vfn_blk_mem_register(blk, b, len), 0);
	assert_int_equal(vfn_blk_mem_register(blk, a, len), 0);
	memset(a, 0, len);
	memset(b, 0xee, len);
	assert_int_equal(vfn_blk_readv(q, &(struct iovec){ a, 4096 }, 1, 0, rv_done, &c), 0);
	rv_poll_until(q, &c.calls, 4);
	assert_int_equal(c.errs, 0);
	assert_int_equal(a[0], 0x3c);
	assert_int_equal(a[4095], 0x3c);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(b[i], 0xee);
	assert_int_equal(vfn_blk_mem_unregister(blk, a), 0);
	assert_int_equal(vfn_blk_mem_unregister(blk, b), 0);
	vfn_blk_queue_close(q);
	vfn_mem_free(a, len);
	vfn_mem_free(b, len);
	vfn_blk_mem_free(blk, src, 65536);
	vfn_blk_close(blk);
}

#define BLK_TESTS                                                                                                      \
	cmocka_unit_test(test_geometry), cmocka_unit_test(test_large), cmocka_unit_test(test_iov_pages),               \
		cmocka_unit_test(test_iov_odd), cmocka_unit_test(test_unregistered), cmocka_unit_test(test_fua_flush), \
		cmocka_unit_test(test_zeroes_discard), cmocka_unit_test(test_bad_requests), cmocka_unit_test(test_fd), \
		cmocka_unit_test(test_submit_ready), cmocka_unit_test(test_resubmit),                                  \
		cmocka_unit_test(test_poll_from_callback), cmocka_unit_test(test_fixed),                               \
		cmocka_unit_test(test_status), cmocka_unit_test(test_fixed_unregister),                                \
		cmocka_unit_test(test_uring_huge), cmocka_unit_test(test_uring_split_bytes),                           \
		cmocka_unit_test(test_many_small_segments), cmocka_unit_test(test_fast_path),                          \
		cmocka_unit_test(test_fast_unregister), cmocka_unit_test(test_fast_resubmit),                          \
		cmocka_unit_test(test_poll_count), cmocka_unit_test(test_poll_resubmit_due)

int main(void)
{
	const struct CMUnitTest tests[] = { BLK_TESTS };
	const struct CMUnitTest other[] = {
		cmocka_unit_test(test_backend_choice), cmocka_unit_test(test_close_wedged),
		cmocka_unit_test(test_rv_depth_mixed), cmocka_unit_test(test_rv_chain_paths),
		cmocka_unit_test(test_rv_status_fast), cmocka_unit_test(test_rv_lost_drop),
		cmocka_unit_test(test_rv_lost_cid),    cmocka_unit_test(test_rv_lost_phase),
		cmocka_unit_test(test_rv_fatal),       cmocka_unit_test(test_rv_close_nested_poll),
		cmocka_unit_test(test_rv_delay_abort), cmocka_unit_test(test_rv_iova_reuse),
		cmocka_unit_test(test_one_vector)
	};
	int ret = 0;

	ret |= cmocka_run_group_tests_name("blk-sim", tests, setup_sim, teardown);
	if (getenv("TMPDIR"))
		file_dir = getenv("TMPDIR");
	ret |= cmocka_run_group_tests_name("blk-file", tests, setup_file, teardown);
	/* tmpfs: no O_DIRECT, no FALLOC_FL_ZERO_RANGE (Write Zeroes becomes writes of zeroes) */
	if (!access("/dev/shm", W_OK)) {
		file_dir = "/dev/shm";
		ret |= cmocka_run_group_tests_name("blk-tmpfs", tests, setup_file, teardown);
	}
	if (getenv("VFN_TEST_BLK_URI"))
		ret |= cmocka_run_group_tests_name("blk-env", tests, setup_env, teardown);
	ret |= cmocka_run_group_tests_name("blk-choice", other, NULL, NULL);
	return ret;
}
