/* SPDX-License-Identifier: MIT */
/*
 * blk-copy: copies one device to another through the block API with two
 * threads, each running an epoll loop over queues of its own (one on each
 * device), as an event-loop application would.
 *
 *   blk-copy SRC DST [BYTES]
 *
 * SRC and DST are anything vfn_blk_open() takes: a PCI address, sim:...,
 * /dev/nvme0n1, a regular file.  Thread 0 copies the first half, thread 1
 * the second; each keeps COPY_QD chunks in flight: a chunk is read from
 * SRC, and its read's callback writes it to DST, whose callback reads the
 * next chunk into the same buffer.  A final flush makes DST durable.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <vfn/blk.h>

#define COPY_QD 8
#define COPY_CHUNK (128u * 1024)

struct copier;

struct chunk {
	struct copier *c;
	struct iovec iov;
	uint64_t off;
};

struct copier {
	struct vfn_blk *src, *dst;
	struct vfn_blk_queue *sq, *dq; /* this thread's queues */
	uint64_t next, end;	       /* bytes of the device this thread copies */
	struct chunk chunks[COPY_QD];
	uint8_t *mem;
	size_t mem_len;
	int busy; /* chunks in flight */
	int err;
	uint64_t copied;
	pthread_t th;
};

static void written(void *arg, int ret, uint16_t status);

static void was_read(void *arg, int ret, uint16_t status)
{
	struct chunk *k = arg;
	struct copier *c = k->c;

	if (ret) {
		fprintf(stderr, "read at %llu: %s (NVMe status %#x)\n", (unsigned long long)k->off, strerror(-ret),
			status);
		c->err = ret;
		c->busy--;
		return;
	}
	ret = vfn_blk_writev(c->dq, &k->iov, 1, k->off, 0, written, k);
	if (ret) {
		c->err = ret;
		c->busy--;
	}
}

static void written(void *arg, int ret, uint16_t status)
{
	struct chunk *k = arg;
	struct copier *c = k->c;

	c->busy--;
	if (ret) {
		fprintf(stderr, "write at %llu: %s (NVMe status %#x)\n", (unsigned long long)k->off, strerror(-ret),
			status);
		c->err = ret;
		return;
	}
	c->copied += k->iov.iov_len;
	if (c->next < c->end && !c->err) {
		k->off = c->next;
		k->iov.iov_len = c->end - c->next < COPY_CHUNK ? (size_t)(c->end - c->next) : COPY_CHUNK;
		c->next += k->iov.iov_len;
		c->busy++;
		ret = vfn_blk_readv(c->sq, &k->iov, 1, k->off, was_read, k);
		if (ret) {
			c->err = ret;
			c->busy--;
		}
	}
}

static void flushed(void *arg, int ret, uint16_t status)
{
	struct copier *c = arg;

	(void)status;
	c->busy--;
	if (ret)
		c->err = ret;
}

/* The event loop: sleep in epoll until a queue's fd fires, then process that queue. */
static int loop(struct copier *c, int epfd)
{
	while (c->busy && !c->err) {
		struct epoll_event ev[2];
		int n;

		/* Requests queued from callbacks go to the device before sleeping. */
		if (vfn_blk_queue_submit(c->sq) || vfn_blk_queue_submit(c->dq))
			return -EIO;
		n = epoll_wait(epfd, ev, 2, 1000);
		for (int i = 0; i < n; i++) {
			struct vfn_blk_queue *q = ev[i].data.ptr;
			uint64_t cnt;

			if (read(vfn_blk_queue_fd(q), &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
				return -errno;
			if (vfn_blk_queue_poll(q, 0) < 0)
				return -EIO;
		}
	}
	return c->err;
}

static int watch(int epfd, struct vfn_blk_queue *q)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = q };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, vfn_blk_queue_fd(q), &ev) ? -errno : 0;
}

static int copier_setup(struct copier *c)
{
	ssize_t len;
	int ret;

	ret = vfn_blk_queue_open(c->src, NULL, &c->sq);
	if (!ret)
		ret = vfn_blk_queue_open(c->dst, NULL, &c->dq);
	if (ret)
		return ret;
	len = vfn_blk_mem_alloc(c->src, (size_t)COPY_QD * COPY_CHUNK, (void **)&c->mem);
	if (len < 0)
		return (int)len;
	c->mem_len = (size_t)len;
	/* The same memory is the destination's source: register it there too. */
	ret = vfn_blk_mem_register(c->dst, c->mem, c->mem_len);
	if (ret && ret != -EEXIST)
		return ret;
	for (int i = 0; i < COPY_QD; i++)
		c->chunks[i] = (struct chunk){ c, { c->mem + (size_t)i * COPY_CHUNK, 0 }, 0 };
	return 0;
}

static void copier_teardown(struct copier *c)
{
	/* The queues first: what is still in flight may move data until it ends. */
	vfn_blk_queue_close(c->sq);
	vfn_blk_queue_close(c->dq);
	if (c->mem) {
		vfn_blk_mem_unregister(c->dst, c->mem);
		vfn_blk_mem_free(c->src, c->mem, c->mem_len);
	}
}

static void *copier_main(void *arg)
{
	struct copier *c = arg;
	int epfd = epoll_create1(EPOLL_CLOEXEC);

	c->err = epfd < 0 ? -errno : copier_setup(c);
	if (!c->err)
		c->err = watch(epfd, c->sq);
	if (!c->err)
		c->err = watch(epfd, c->dq);
	for (int i = 0; i < COPY_QD && !c->err; i++) {
		struct chunk *k = &c->chunks[i];

		if (c->next >= c->end)
			break;
		k->off = c->next;
		k->iov.iov_len = c->end - c->next < COPY_CHUNK ? (size_t)(c->end - c->next) : COPY_CHUNK;
		c->next += k->iov.iov_len;
		c->busy++;
		c->err = vfn_blk_readv(c->sq, &k->iov, 1, k->off, was_read, k);
	}
	if (!c->err)
		c->err = loop(c, epfd);
	if (!c->err) {
		c->busy++;
		c->err = vfn_blk_flush(c->dq, flushed, c);
		if (!c->err)
			c->err = loop(c, epfd);
	}
	if (epfd >= 0)
		close(epfd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct copier c[2] = { 0 };
	struct vfn_blk *src, *dst;
	uint64_t bytes, half;
	uint32_t bs;
	int ret = 0;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s SRC DST [BYTES]\n", argv[0]);
		return 2;
	}
	if ((ret = vfn_blk_open(argv[1], NULL, &src)) || (ret = vfn_blk_open(argv[2], NULL, &dst))) {
		fprintf(stderr, "cannot open %s: %s\n", ret ? argv[1] : argv[2], strerror(-ret));
		return 1;
	}
	bs = vfn_blk_block_size(src) > vfn_blk_block_size(dst) ? vfn_blk_block_size(src) : vfn_blk_block_size(dst);
	bytes = vfn_blk_size(src) < vfn_blk_size(dst) ? vfn_blk_size(src) : vfn_blk_size(dst);
	if (argc == 4)
		bytes = strtoull(argv[3], NULL, 0) < bytes ? strtoull(argv[3], NULL, 0) : bytes;
	bytes -= bytes % bs;
	half = bytes / 2 - (bytes / 2) % bs;
	for (int i = 0; i < 2; i++) {
		c[i] = (struct copier){ .src = src, .dst = dst, .next = i ? half : 0, .end = i ? bytes : half };
		if (pthread_create(&c[i].th, NULL, copier_main, &c[i]))
			return 1;
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(c[i].th, NULL);
		if (c[i].err) {
			fprintf(stderr, "thread %d: %s\n", i, strerror(-c[i].err));
			ret = 1;
		}
		copier_teardown(&c[i]);
	}
	printf("copied %llu bytes from %s (%s) to %s (%s) with 2 threads\n",
	       (unsigned long long)(c[0].copied + c[1].copied), argv[1], vfn_blk_backend_name(src), argv[2],
	       vfn_blk_backend_name(dst));
	vfn_blk_close(src);
	vfn_blk_close(dst);
	return ret;
}
