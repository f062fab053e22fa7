/* SPDX-License-Identifier: MIT */
/*
 * Kernel shim, asynchronous I/O: io_uring IORING_OP_URING_CMD with
 * NVME_URING_CMD_IO on a generic char device.  The three io_uring system
 * calls are made directly; the rings are mmap()ed here.
 *
 * Ring ownership: we write the SQEs, the SQ tail and the CQ head; the kernel
 * writes the SQ head, the CQEs and the CQ tail.  The SQ index array is
 * filled once (slot i -> SQE i) so submitting only writes the SQE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/io_uring.h>
#include <linux/nvme_ioctl.h>

#include "kernel/kernel.h"
#include "support/log.h"

#define KRING_SETUP_FLAGS (IORING_SETUP_SQE128 | IORING_SETUP_CQE32)
#define KRING_SQE_SIZE 128
#define KRING_CQE_SIZE 32
#define KRING_MAX_ENTRIES 4096
#define KRING_PROBE_OPS 256
#define PSDT_MASK (3u << 6)
#define KRING_IO_TIMEOUT_PARAM "/sys/module/nvme_core/parameters/io_timeout"
#define KRING_IO_TIMEOUT_DEFAULT_S 30 /* the driver's own default */

struct vfn_kring {
	int fd;		   /* the io_uring */
	int nvme_fd;	   /* the generic char device (borrowed) */
	int sqe_fd;	   /* what SQEs name: 0 (the registered file) or nvme_fd */
	uint8_t sqe_flags; /* IOSQE_FIXED_FILE if the file is registered */
	uint32_t sq_entries, sq_mask;
	uint32_t cq_entries, cq_mask;
	uint32_t *sq_khead, *sq_ktail; /* kernel-shared SQ head (theirs), tail (ours) */
	uint32_t *cq_khead, *cq_ktail; /* kernel-shared CQ head (ours), tail (theirs) */
	const uint32_t *sq_kflags;     /* kernel-shared SQ flags (theirs): IORING_SQ_CQ_OVERFLOW */
	uint8_t *sqes;		       /* KRING_SQE_SIZE-byte SQEs */
	const uint8_t *cqes;	       /* KRING_CQE_SIZE-byte CQEs */
	uint32_t sq_tail;	       /* next SQ slot to fill */
	uint32_t sq_submitted;	       /* SQ tail the kernel has consumed up to */
	uint32_t inflight;	       /* queued or submitted, not reaped */
	uint32_t timeout_ms;	       /* per command, for the driver; 0: its default */
	uint32_t driver_timeout_ms;    /* that default: nvme_core.io_timeout */
	void *sq_map, *cq_map;	       /* cq_map == sq_map with IORING_FEAT_SINGLE_MMAP */
	size_t sq_map_len, cq_map_len, sqes_len;
};

static int sys_io_uring_setup(uint32_t entries, struct io_uring_params *p)
{
	return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_io_uring_enter(int fd, uint32_t to_submit, uint32_t min_complete, uint32_t flags,
			      const struct io_uring_getevents_arg *arg)
{
	return (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, arg, arg ? sizeof(*arg) : 0);
}

static int sys_io_uring_register(int fd, uint32_t opcode, void *arg, uint32_t nr_args)
{
	return (int)syscall(__NR_io_uring_register, fd, opcode, arg, nr_args);
}

/* The kernel.io_uring_disabled sysctl (Linux 6.6+), -1 if there is none. */
static int io_uring_disabled_sysctl(void)
{
	FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "re");
	int val = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

/* The nvme driver's command timeout (nvme_core.io_timeout, seconds) in ms. */
static uint32_t kring_driver_timeout(void)
{
	FILE *f = fopen(KRING_IO_TIMEOUT_PARAM, "re");
	unsigned int secs = KRING_IO_TIMEOUT_DEFAULT_S;

	if (f) {
		if (fscanf(f, "%u", &secs) != 1 || !secs || secs > UINT32_MAX / 1000)
			secs = KRING_IO_TIMEOUT_DEFAULT_S;
		fclose(f);
	}
	return secs * 1000;
}

/* io_uring_setup() with big SQEs and CQEs; errors naming why there is no ring. */
static int kring_setup(uint32_t entries, struct io_uring_params *p)
{
	int fd, err;

	memset(p, 0, sizeof(*p));
	p->flags = KRING_SETUP_FLAGS;
	fd = sys_io_uring_setup(entries, p);
	if (fd >= 0 && !(p->features & IORING_FEAT_EXT_ARG)) {
		/* Linux 5.11+: vfn_kring_wait() needs it; every kernel with SQE128 has it. */
		close(fd);
		log_info("io_uring: no IORING_FEAT_EXT_ARG (Linux < 5.11); NVMe passthrough stays synchronous");
		return -ENOTSUP;
	}
	if (fd >= 0)
		return fd;
	err = errno;
	if (err == ENOSYS) {
		log_info("io_uring: not in this kernel; NVMe passthrough stays synchronous");
		return -ENOTSUP;
	}
	if (err == EPERM) {
		log_info("io_uring: not permitted (kernel.io_uring_disabled = %d); NVMe passthrough stays synchronous",
			 io_uring_disabled_sysctl());
		return -ENOTSUP;
	}
	if (err == EINVAL) {
		log_info("io_uring: no SQE128/CQE32 rings (Linux < 5.19); NVMe passthrough stays synchronous");
		return -ENOTSUP;
	}
	log_err("io_uring_setup(%u): %s", entries, strerror(err));
	return -err;
}

/* Checks with IORING_REGISTER_PROBE that ring @fd offers IORING_OP_URING_CMD. */
static int kring_probe_op(int fd)
{
	struct io_uring_probe *probe;
	bool ok;

	probe = calloc(1, sizeof(*probe) + KRING_PROBE_OPS * sizeof(probe->ops[0]));
	if (!probe)
		return -ENOMEM;
	if (sys_io_uring_register(fd, IORING_REGISTER_PROBE, probe, KRING_PROBE_OPS)) {
		log_info("io_uring: cannot probe the opcodes (%s); NVMe passthrough stays synchronous",
			 strerror(errno));
		free(probe);
		return -ENOTSUP;
	}
	ok = probe->ops_len > IORING_OP_URING_CMD && (probe->ops[IORING_OP_URING_CMD].flags & IO_URING_OP_SUPPORTED);
	free(probe);
	if (!ok) {
		log_info("io_uring: no IORING_OP_URING_CMD; NVMe passthrough stays synchronous");
		return -ENOTSUP;
	}
	return 0;
}

int vfn_kring_probe(void)
{
	struct io_uring_params p;
	int fd, ret;

	fd = kring_setup(2, &p);
	if (fd < 0)
		return fd;
	ret = kring_probe_op(fd);
	close(fd);
	return ret;
}

static void *map_ring(int fd, size_t len, off_t off)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, off);

	return p == MAP_FAILED ? NULL : p;
}

static void kring_unmap(struct vfn_kring *ring)
{
	if (ring->sqes)
		munmap(ring->sqes, ring->sqes_len);
	if (ring->cq_map && ring->cq_map != ring->sq_map)
		munmap(ring->cq_map, ring->cq_map_len);
	if (ring->sq_map)
		munmap(ring->sq_map, ring->sq_map_len);
}

/* Maps the SQ ring, the CQ ring (one mapping if the kernel allows) and the SQEs. */
static int kring_map(struct vfn_kring *ring, const struct io_uring_params *p)
{
	ring->sq_map_len = p->sq_off.array + p->sq_entries * sizeof(uint32_t);
	ring->cq_map_len = p->cq_off.cqes + (size_t)p->cq_entries * KRING_CQE_SIZE;
	if (p->features & IORING_FEAT_SINGLE_MMAP) {
		if (ring->cq_map_len > ring->sq_map_len)
			ring->sq_map_len = ring->cq_map_len;
		ring->cq_map_len = ring->sq_map_len;
	}
	ring->sq_map = map_ring(ring->fd, ring->sq_map_len, IORING_OFF_SQ_RING);
	if (!ring->sq_map)
		goto fail;
	ring->cq_map = (p->features & IORING_FEAT_SINGLE_MMAP)
			       ? ring->sq_map
			       : map_ring(ring->fd, ring->cq_map_len, IORING_OFF_CQ_RING);
	if (!ring->cq_map)
		goto fail;
	ring->sqes_len = (size_t)p->sq_entries * KRING_SQE_SIZE;
	ring->sqes = map_ring(ring->fd, ring->sqes_len, IORING_OFF_SQES);
	if (!ring->sqes)
		goto fail;
	return 0;

fail:
	log_err("io_uring: cannot map the rings: %s", strerror(errno));
	kring_unmap(ring);
	return -ENOMEM;
}

/* Points the ring's fields into the mappings and fills the SQ index array. */
static void kring_init(struct vfn_kring *ring, const struct io_uring_params *p)
{
	uint8_t *sq = ring->sq_map, *cq = ring->cq_map;
	uint32_t *array = (uint32_t *)(sq + p->sq_off.array);
	uint32_t i;

	ring->sq_entries = p->sq_entries;
	ring->sq_mask = *(uint32_t *)(sq + p->sq_off.ring_mask);
	ring->sq_khead = (uint32_t *)(sq + p->sq_off.head);
	ring->sq_ktail = (uint32_t *)(sq + p->sq_off.tail);
	ring->cq_entries = p->cq_entries;
	ring->cq_mask = *(uint32_t *)(cq + p->cq_off.ring_mask);
	ring->sq_kflags = (const uint32_t *)(sq + p->sq_off.flags);
	ring->cq_khead = (uint32_t *)(cq + p->cq_off.head);
	ring->cq_ktail = (uint32_t *)(cq + p->cq_off.tail);
	ring->cqes = cq + p->cq_off.cqes;
	for (i = 0; i < ring->sq_entries; i++)
		array[i] = i;
	ring->sq_tail = ring->sq_submitted = *ring->sq_ktail;
}

/*
 * Registers the device's fd with the ring, which saves the kernel a file
 * lookup per command; without it (an error is only logged) SQEs name the fd.
 */
static void kring_register_file(struct vfn_kring *ring, int fd)
{
	ring->nvme_fd = fd;
	if (sys_io_uring_register(ring->fd, IORING_REGISTER_FILES, &fd, 1)) {
		log_debug("io_uring: IORING_REGISTER_FILES: %s; SQEs use the fd", strerror(errno));
		ring->sqe_fd = fd;
		ring->sqe_flags = 0;
		return;
	}
	ring->sqe_fd = 0;
	ring->sqe_flags = IOSQE_FIXED_FILE;
}

static int kring_check(const struct vfn_kdev *kdev, uint32_t entries, struct vfn_kring **out)
{
	if (!kdev || !out || !entries || entries > KRING_MAX_ENTRIES) {
		log_debug("vfn_kring_create: bad argument (entries %u, 1..%u)", entries, KRING_MAX_ENTRIES);
		return -EINVAL;
	}
	if (kdev->kind != VFN_KDEV_NS_CHAR) {
		log_info("%s: io_uring passthrough needs a generic char device (/dev/ngXnY)", kdev->name);
		return -ENOTSUP;
	}
	return 0;
}

int vfn_kring_create(struct vfn_kdev *kdev, uint32_t entries, struct vfn_kring **out)
{
	struct io_uring_params p;
	struct vfn_kring *ring;
	int ret;

	ret = kring_check(kdev, entries, out);
	if (ret)
		return ret;
	ring = calloc(1, sizeof(*ring));
	if (!ring)
		return -ENOMEM;
	ring->fd = kring_setup(entries, &p);
	if (ring->fd < 0) {
		ret = ring->fd;
		goto free_ring;
	}
	ret = kring_probe_op(ring->fd);
	if (ret)
		goto close_fd;
	ret = kring_map(ring, &p);
	if (ret)
		goto close_fd;
	kring_init(ring, &p);
	kring_register_file(ring, kdev->fd);
	ring->driver_timeout_ms = kring_driver_timeout();
	*out = ring;
	return 0;

close_fd:
	close(ring->fd);
free_ring:
	free(ring);
	return ret;
}

static void kring_discard(void *arg, uint64_t user_data, int ret, const struct vfn_nvme_cqe *cqe)
{
	(void)arg, (void)user_data, (void)ret, (void)cqe;
}

/*
 * Before the ring goes: the commands the kernel took may still move data
 * to or from their buffers until they complete, so wait for them (their
 * completions are discarded), at most the ring's timeout; the commands
 * only queued are dropped unsent.
 */
static void kring_drain(struct vfn_kring *ring)
{
	uint32_t timeout_ms = vfn_kring_timeout(ring);
	uint64_t deadline = vfn_now_ns() + (uint64_t)timeout_ms * 1000000, now;
	int ret;

	ring->inflight -= ring->sq_tail - ring->sq_submitted;
	ring->sq_tail = ring->sq_submitted;
	/* Release: pairs with the kernel's load-acquire of the SQ tail. */
	__atomic_store_n(ring->sq_ktail, ring->sq_tail, __ATOMIC_RELEASE);
	while (ring->inflight) {
		now = vfn_now_ns();
		if (now >= deadline) {
			log_err("io_uring: %u command(s) still in the kernel after %u ms; closing the ring without them "
				"(the device may still access their buffers until the driver ends them)",
				ring->inflight, timeout_ms);
			return;
		}
		ret = vfn_kring_wait(ring, 1, (uint32_t)((deadline - now + 999999) / 1000000));
		if (ret < 0 && ret != -ETIMEDOUT && ret != -EINTR) {
			log_err("io_uring: waiting for %u command(s) before closing the ring: %s", ring->inflight,
				strerror(-ret));
			return;
		}
		vfn_kring_reap(ring, 0, kring_discard, NULL);
	}
}

void vfn_kring_destroy(struct vfn_kring *ring)
{
	if (!ring)
		return;
	kring_drain(ring);
	kring_unmap(ring);
	close(ring->fd);
	free(ring);
}

/* Writes @sqe as a URING_CMD into the big SQE @slot. */
static void kring_fill(struct vfn_kring *ring, uint8_t *slot, const struct vfn_nvme_sqe *sqe, void *buf, size_t len,
		       void *meta, size_t meta_len, uint64_t user_data)
{
	struct io_uring_sqe *s = (struct io_uring_sqe *)slot;
	struct nvme_uring_cmd *c = (struct nvme_uring_cmd *)s->cmd;

	memset(slot, 0, KRING_SQE_SIZE);
	s->opcode = IORING_OP_URING_CMD;
	s->fd = ring->sqe_fd;
	s->flags = ring->sqe_flags;
	s->cmd_op = NVME_URING_CMD_IO;
	s->user_data = user_data;
	c->opcode = sqe->opcode;
	c->flags = (uint8_t)(sqe->flags & ~PSDT_MASK);
	c->nsid = vfn_le32_to_cpu(sqe->nsid);
	c->cdw2 = vfn_le32_to_cpu(sqe->cdw2);
	c->cdw3 = vfn_le32_to_cpu(sqe->cdw3);
	c->addr = (uintptr_t)buf;
	c->data_len = (uint32_t)len;
	c->metadata = meta_len ? (uintptr_t)meta : 0;
	c->metadata_len = (uint32_t)meta_len;
	c->cdw10 = vfn_le32_to_cpu(sqe->cdw10);
	c->cdw11 = vfn_le32_to_cpu(sqe->cdw11);
	c->cdw12 = vfn_le32_to_cpu(sqe->cdw12);
	c->cdw13 = vfn_le32_to_cpu(sqe->cdw13);
	c->cdw14 = vfn_le32_to_cpu(sqe->cdw14);
	c->cdw15 = vfn_le32_to_cpu(sqe->cdw15);
	c->timeout_ms = ring->timeout_ms;
}

int vfn_kring_submit(struct vfn_kring *ring, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, uint64_t user_data)
{
	return vfn_kring_submit_meta(ring, sqe, buf, len, NULL, 0, user_data);
}

int vfn_kring_submit_meta(struct vfn_kring *ring, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, void *meta,
			  size_t meta_len, uint64_t user_data)
{
	uint32_t head;

	if (vfn_unlikely(len > UINT32_MAX || (len && !buf) || meta_len > UINT32_MAX || (meta_len && !meta))) {
		log_debug("io_uring: bad buffer (%p, %zu bytes; metadata %p, %zu bytes)", buf, len, meta, meta_len);
		return -EINVAL;
	}
	if (vfn_unlikely(ring->inflight >= ring->cq_entries))
		return -EBUSY;
	/*
	 * Acquire: pairs with the kernel's store-release of the SQ head after
	 * it copied the SQEs, so it is done reading a slot before we refill it.
	 */
	head = __atomic_load_n(ring->sq_khead, __ATOMIC_ACQUIRE);
	if (vfn_unlikely(ring->sq_tail - head >= ring->sq_entries))
		return -EBUSY;
	kring_fill(ring, ring->sqes + (size_t)(ring->sq_tail & ring->sq_mask) * KRING_SQE_SIZE, sqe, buf, len, meta,
		   meta_len, user_data);
	ring->sq_tail++;
	ring->inflight++;
	return 0;
}

/*
 * One io_uring_enter: hands over the queued SQEs and, with @wait_nr, waits
 * for that many completions, at most @ts when not NULL.  Returns how many
 * SQEs the kernel took, or -errno.
 */
static int kring_enter(struct vfn_kring *ring, uint32_t wait_nr, const struct __kernel_timespec *ts)
{
	struct io_uring_getevents_arg arg = { .ts = (uintptr_t)ts };
	uint32_t to_submit = ring->sq_tail - ring->sq_submitted, flags = 0;
	int ret;

	if (!to_submit && !wait_nr)
		return 0;
	if (wait_nr)
		flags |= IORING_ENTER_GETEVENTS;
	if (ts)
		flags |= IORING_ENTER_EXT_ARG;
	/*
	 * Release: the SQE stores become visible before the new tail; pairs
	 * with the kernel's load-acquire of the SQ tail before it reads SQEs.
	 */
	__atomic_store_n(ring->sq_ktail, ring->sq_tail, __ATOMIC_RELEASE);
	ret = sys_io_uring_enter(ring->fd, to_submit, wait_nr, flags, ts ? &arg : NULL);
	if (ret < 0) {
		ret = -errno;
		if (ret != -ETIME)
			log_debug("io_uring_enter(%u, %u): %s", to_submit, wait_nr, strerror(-ret));
		return ret;
	}
	/* The kernel may take fewer than offered: the rest stay queued for the next call. */
	ring->sq_submitted += (uint32_t)ret;
	return ret;
}

int vfn_kring_enter(struct vfn_kring *ring, uint32_t wait_nr)
{
	return kring_enter(ring, wait_nr, NULL);
}

int vfn_kring_flush(struct vfn_kring *ring)
{
	return kring_enter(ring, 0, NULL);
}

int vfn_kring_wait(struct vfn_kring *ring, uint32_t wait_nr, uint32_t timeout_ms)
{
	struct __kernel_timespec ts = {
		.tv_sec = timeout_ms / 1000,
		.tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
	};
	int ret;

	if (!wait_nr) {
		log_debug("vfn_kring_wait: waits for no completion");
		return -EINVAL;
	}
	ret = kring_enter(ring, wait_nr, timeout_ms ? &ts : NULL);
	return ret == -ETIME ? -ETIMEDOUT : ret;
}

uint32_t vfn_kring_queued(const struct vfn_kring *ring)
{
	return ring->sq_tail - ring->sq_submitted;
}

void vfn_kring_set_timeout(struct vfn_kring *ring, uint32_t timeout_ms)
{
	ring->timeout_ms = timeout_ms;
}

uint32_t vfn_kring_timeout(const struct vfn_kring *ring)
{
	return ring->timeout_ms ? ring->timeout_ms : ring->driver_timeout_ms;
}

/* Turns a 32-byte CQE into our completion; returns 0, -EIO or -errno. */
static int kring_cqe(const struct io_uring_cqe *k, struct vfn_nvme_cqe *cqe)
{
	uint64_t result = k->big_cqe[0];

	memset(cqe, 0, sizeof(*cqe));
	if (k->res < 0) {
		/* Not completed by the controller: a made-up completion, as vfn's own driver makes. */
		cqe->sfp = vfn_cpu_to_le16((uint16_t)(VFN_NVME_SC_HOST_ABORTED << 1));
		return k->res;
	}
	cqe->dw0 = vfn_cpu_to_le32((uint32_t)result);
	cqe->dw1 = vfn_cpu_to_le32((uint32_t)(result >> 32));
	/* res is the status field without the phase tag. */
	cqe->sfp = vfn_cpu_to_le16((uint16_t)(k->res << 1));
	return k->res ? -EIO : 0;
}

/*
 * CQEs the kernel could not post because the CQ was full wait on its
 * overflow list (IORING_FEAT_NODROP) until an io_uring_enter with
 * GETEVENTS moves them in: true if it did so now.
 */
static bool kring_flush_overflow(struct vfn_kring *ring)
{
	if (!(__atomic_load_n(ring->sq_kflags, __ATOMIC_RELAXED) & IORING_SQ_CQ_OVERFLOW))
		return false;
	log_debug("io_uring: completion queue overflowed; flushing");
	if (sys_io_uring_enter(ring->fd, 0, 0, IORING_ENTER_GETEVENTS, NULL) < 0) {
		log_err("io_uring: flushing the overflowed completions: %s", strerror(errno));
		return false;
	}
	return true;
}

int vfn_kring_reap(struct vfn_kring *ring, uint32_t max, vfn_kring_cb_t cb, void *arg)
{
	uint32_t head = *ring->cq_khead, tail, n = 0;
	bool flushed = false;
	struct vfn_nvme_cqe cqe;
	uint64_t user_data;
	int ret;

	while (!max || n < max) {
		const struct io_uring_cqe *k;

		/*
		 * Acquire: the CQE contents are read only after the tail that
		 * covers them; pairs with the kernel's store-release of the CQ tail.
		 */
		tail = __atomic_load_n(ring->cq_ktail, __ATOMIC_ACQUIRE);
		if (head == tail) {
			if (flushed || !kring_flush_overflow(ring))
				break;
			flushed = true;
			continue;
		}
		k = (const struct io_uring_cqe *)(ring->cqes + (size_t)(head & ring->cq_mask) * KRING_CQE_SIZE);
		ret = kring_cqe(k, &cqe);
		user_data = k->user_data;
		/*
		 * Release, before the callback: our reads of the CQE are done
		 * before the kernel sees its slot free (pairs with its load of
		 * the CQ head when it looks for room), and a callback that
		 * submits and enters finds the room it accounts for.
		 */
		__atomic_store_n(ring->cq_khead, ++head, __ATOMIC_RELEASE);
		n++;
		ring->inflight--;
		cb(arg, user_data, ret, &cqe);
	}
	return (int)n;
}

uint32_t vfn_kring_inflight(const struct vfn_kring *ring)
{
	return ring->inflight;
}

int vfn_kring_register_eventfd(struct vfn_kring *ring, int efd)
{
	return sys_io_uring_register(ring->fd, IORING_REGISTER_EVENTFD, &efd, 1) ? -errno : 0;
}

bool vfn_kring_ready(const struct vfn_kring *ring)
{
	/* Acquire: pairs with the kernel's release of the CQ tail after writing the CQEs. */
	return __atomic_load_n(ring->cq_ktail, __ATOMIC_ACQUIRE) != *ring->cq_khead;
}
