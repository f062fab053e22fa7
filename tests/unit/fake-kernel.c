/* SPDX-License-Identifier: MIT */
/* The fake kernel of fake-kernel.h: one io_uring at a time, and the passthrough ioctls. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/io_uring.h>

#include "fake-kernel.h"

#define SQE_SIZE 128
#define CQE_SIZE 32
#define RING_HDR 64 /* bytes before the SQ index array and the CQEs */

long __real_syscall(long nr, ...);
long __wrap_syscall(long nr, ...);
int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);
char *__real_realpath(const char *path, char *resolved);
char *__wrap_realpath(const char *path, char *resolved);
ssize_t __real_readlink(const char *path, char *buf, size_t len);
ssize_t __wrap_readlink(const char *path, char *buf, size_t len);
ssize_t __real___readlink_chk(const char *path, char *buf, size_t len, size_t buflen);
ssize_t __wrap___readlink_chk(const char *path, char *buf, size_t len, size_t buflen);

#define FAKE_NG_DIR "/sys/devices/virtual/nvme-generic/ng9n1"

struct fake_kernel fake_kernel;

/* The fake ring: our own mappings of the memfd the shim maps too. */
static struct {
	bool on;
	int fd; /* the io_uring's (the shim closes it; our mappings stay) */
	uint32_t sq_entries, cq_entries;
	uint8_t *sq, *cq, *sqes;
	size_t sq_len, cq_len, sqes_len;
	/* commands taken and not completed: indexes into fake_kernel.taken */
	uint32_t held[FAKE_MAX_CMDS], held_head, nr_held;
	/* CQEs waiting on the overflow list */
	uint64_t backlog[FAKE_MAX_CMDS];
	uint32_t backlog_head, nr_backlog;
} fk = { .fd = -1 };

static uint32_t *u32_at(uint8_t *base, size_t off)
{
	return (uint32_t *)(void *)(base + off);
}

static void ring_unmap(void)
{
	if (fk.sq)
		munmap(fk.sq, fk.sq_len);
	if (fk.cq)
		munmap(fk.cq, fk.cq_len);
	if (fk.sqes)
		munmap(fk.sqes, fk.sqes_len);
	fk.sq = fk.cq = fk.sqes = NULL;
	fk.fd = -1;
	fk.nr_held = fk.held_head = fk.nr_backlog = fk.backlog_head = 0;
}

void fake_kernel_on(void)
{
	ring_unmap();
	memset(&fake_kernel, 0, sizeof(fake_kernel));
	fk.on = true;
}

void fake_kernel_off(void)
{
	ring_unmap();
	fk.on = false;
}

static void *map_at(int fd, size_t len, off_t off)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);

	return p == MAP_FAILED ? NULL : p;
}

static long fake_setup(uint32_t entries, struct io_uring_params *p)
{
	uint32_t n = 1;
	int fd;

	if (!entries || entries > 4096 || !(p->flags & IORING_SETUP_SQE128) || !(p->flags & IORING_SETUP_CQE32)) {
		errno = EINVAL;
		return -1;
	}
	while (n < entries)
		n <<= 1;
	ring_unmap();
	fd = memfd_create("fake-io_uring", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	fk.sq_entries = n;
	fk.cq_entries = 2 * n;
	fk.sq_len = RING_HDR + n * sizeof(uint32_t);
	fk.cq_len = RING_HDR + (size_t)fk.cq_entries * CQE_SIZE;
	fk.sqes_len = (size_t)n * SQE_SIZE;
	if (ftruncate(fd, (off_t)(IORING_OFF_SQES + fk.sqes_len)) ||
	    !(fk.sq = map_at(fd, fk.sq_len, (off_t)IORING_OFF_SQ_RING)) ||
	    !(fk.cq = map_at(fd, fk.cq_len, (off_t)IORING_OFF_CQ_RING)) ||
	    !(fk.sqes = map_at(fd, fk.sqes_len, (off_t)IORING_OFF_SQES))) {
		close(fd);
		ring_unmap();
		errno = ENOMEM;
		return -1;
	}
	fk.fd = fd;
	*u32_at(fk.sq, 8) = n - 1;
	*u32_at(fk.sq, 12) = n;
	*u32_at(fk.cq, 8) = fk.cq_entries - 1;
	*u32_at(fk.cq, 12) = fk.cq_entries;
	p->sq_entries = n;
	p->cq_entries = fk.cq_entries;
	p->features = IORING_FEAT_NODROP | IORING_FEAT_EXT_ARG;
	p->sq_off = (struct io_sqring_offsets){
		.head = 0, .tail = 4, .ring_mask = 8, .ring_entries = 12, .flags = 16, .dropped = 20, .array = RING_HDR
	};
	p->cq_off = (struct io_cqring_offsets){
		.head = 0, .tail = 4, .ring_mask = 8, .ring_entries = 12, .overflow = 16, .flags = 20, .cqes = RING_HDR
	};
	return fd;
}

static long fake_register(int fd, uint32_t opcode, void *arg, uint32_t nr)
{
	struct io_uring_probe *probe = arg;

	if (fd != fk.fd) {
		errno = EBADF;
		return -1;
	}
	if (opcode == IORING_REGISTER_PROBE) {
		memset(probe, 0, sizeof(*probe) + nr * sizeof(probe->ops[0]));
		probe->last_op = IORING_OP_URING_CMD;
		probe->ops_len = IORING_OP_URING_CMD + 1;
		probe->ops[IORING_OP_URING_CMD].op = IORING_OP_URING_CMD;
		probe->ops[IORING_OP_URING_CMD].flags = IO_URING_OP_SUPPORTED;
		return 0;
	}
	if (opcode == IORING_REGISTER_FILES)
		return 0;
	errno = EINVAL;
	return -1;
}

/* Writes a CQE for @user_data into the CQ if it has room (and may take it), else onto the overflow list. */
static void post(uint64_t user_data, bool may_post)
{
	uint32_t head = __atomic_load_n(u32_at(fk.cq, 0), __ATOMIC_ACQUIRE), tail = *u32_at(fk.cq, 4);
	struct io_uring_cqe *c;

	if (!may_post || tail - head >= fk.cq_entries) {
		fk.backlog[(fk.backlog_head + fk.nr_backlog++) % FAKE_MAX_CMDS] = user_data;
		__atomic_or_fetch(u32_at(fk.sq, 16), IORING_SQ_CQ_OVERFLOW, __ATOMIC_RELEASE);
		fake_kernel.overflowed++;
		return;
	}
	c = (struct io_uring_cqe *)(void *)(fk.cq + RING_HDR + (size_t)(tail & (fk.cq_entries - 1)) * CQE_SIZE);
	memset(c, 0, CQE_SIZE);
	c->user_data = user_data;
	c->res = fake_kernel.res;
	__atomic_store_n(u32_at(fk.cq, 4), tail + 1, __ATOMIC_RELEASE);
	fake_kernel.posted++;
}

/* Moves the overflow list into the CQ as far as it has room (a GETEVENTS enter does). */
static void flush_backlog(void)
{
	uint32_t head, tail;

	fake_kernel.overflow_next = false;
	while (fk.nr_backlog) {
		head = __atomic_load_n(u32_at(fk.cq, 0), __ATOMIC_ACQUIRE);
		tail = *u32_at(fk.cq, 4);
		if (tail - head >= fk.cq_entries)
			return;
		fk.nr_backlog--;
		post(fk.backlog[fk.backlog_head++ % FAKE_MAX_CMDS], true);
	}
	__atomic_and_fetch(u32_at(fk.sq, 16), ~IORING_SQ_CQ_OVERFLOW, __ATOMIC_RELEASE);
}

uint32_t fake_kernel_complete(uint32_t n)
{
	uint32_t done = 0;

	while (done < n && fk.nr_held) {
		uint32_t i = fk.held[fk.held_head++ % FAKE_MAX_CMDS];

		fk.nr_held--;
		post(fake_kernel.taken[i].user_data, !fake_kernel.overflow_next && !fk.nr_backlog);
		done++;
	}
	return done;
}

uint32_t fake_kernel_held(void)
{
	return fk.nr_held;
}

uint32_t fake_kernel_cq_head(void)
{
	return fk.cq ? __atomic_load_n(u32_at(fk.cq, 0), __ATOMIC_ACQUIRE) : 0;
}

/* Takes up to @n SQEs from the SQ ring, as io_submit_sqes() does. */
static uint32_t take(uint32_t n)
{
	uint32_t head = *u32_at(fk.sq, 0), tail = __atomic_load_n(u32_at(fk.sq, 4), __ATOMIC_ACQUIRE), i;
	uint32_t *array = u32_at(fk.sq, RING_HDR);

	if (n > tail - head)
		n = tail - head;
	if (fake_kernel.max_take && n > fake_kernel.max_take)
		n = fake_kernel.max_take;
	for (i = 0; i < n && fake_kernel.nr_taken < FAKE_MAX_CMDS; i++) {
		const struct io_uring_sqe *s =
			(const void *)(fk.sqes + (size_t)array[(head + i) & (fk.sq_entries - 1)] * SQE_SIZE);
		struct fake_cmd *c = &fake_kernel.taken[fake_kernel.nr_taken];

		c->user_data = s->user_data;
		memcpy(&c->cmd, s->cmd, sizeof(c->cmd));
		fk.held[(fk.held_head + fk.nr_held++) % FAKE_MAX_CMDS] = fake_kernel.nr_taken++;
	}
	__atomic_store_n(u32_at(fk.sq, 0), head + i, __ATOMIC_RELEASE);
	return i;
}

static long fake_enter(int fd, uint32_t to_submit, uint32_t min_complete, uint32_t flags,
		       const struct io_uring_getevents_arg *arg, size_t argsz)
{
	uint32_t taken, head, tail;

	if (fd != fk.fd) {
		errno = EBADF;
		return -1;
	}
	fake_kernel.enters++;
	taken = take(to_submit);
	if (!fake_kernel.hold)
		fake_kernel_complete(fk.nr_held);
	if (taken < to_submit)
		return taken; /* as the kernel: a short submission does not wait */
	if (!(flags & IORING_ENTER_GETEVENTS))
		return taken;
	fake_kernel.getevents++;
	if (fake_kernel.complete_on_wait)
		fake_kernel_complete(fk.nr_held);
	flush_backlog();
	head = __atomic_load_n(u32_at(fk.cq, 0), __ATOMIC_ACQUIRE);
	tail = *u32_at(fk.cq, 4);
	if (tail - head >= min_complete)
		return taken;
	if ((flags & IORING_ENTER_EXT_ARG) && argsz == sizeof(*arg) && arg->ts) {
		fake_kernel.timed_waits++;
		if (taken)
			return taken;
		errno = ETIME;
		return -1;
	}
	fake_kernel.hangs++;
	errno = EDEADLK;
	return -1;
}

long __wrap_syscall(long nr, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, nr);
	/* io_uring_setup takes 2 arguments, io_uring_register 4, io_uring_enter 6: read no more. */
	for (int i = 0; i < 6; i++)
		a[i] = (i < 2 || nr != __NR_io_uring_setup) && (i < 4 || nr == __NR_io_uring_enter) ? va_arg(ap, long)
												    : 0;
	va_end(ap);
	if (fk.on && nr == __NR_io_uring_setup)
		return fake_setup((uint32_t)a[0], (struct io_uring_params *)a[1]);
	if (fk.on && nr == __NR_io_uring_register)
		return fake_register((int)a[0], (uint32_t)a[1], (void *)a[2], (uint32_t)a[3]);
	if (fk.on && nr == __NR_io_uring_enter)
		return fake_enter((int)a[0], (uint32_t)a[1], (uint32_t)a[2], (uint32_t)a[3],
				  (const struct io_uring_getevents_arg *)a[4], (size_t)a[5]);
	return __real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	void *arg;
	va_list ap;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fk.on && req == NVME_IOCTL_ID && fake_kernel.ioctl_id)
		return (int)fake_kernel.ioctl_id;
	if (!fk.on || (req != NVME_IOCTL_ADMIN64_CMD && req != NVME_IOCTL_IO64_CMD))
		return __real_ioctl(fd, req, arg);
	memcpy(&fake_kernel.last_ioctl, arg, sizeof(fake_kernel.last_ioctl));
	fake_kernel.last_ioctl_req = req;
	fake_kernel.nr_ioctls++;
	if (fake_kernel.ioctl_ret < 0) {
		errno = -fake_kernel.ioctl_ret;
		return -1;
	}
	return fake_kernel.ioctl_ret;
}

char *__wrap_realpath(const char *path, char *resolved)
{
	if (!fk.on || !fake_kernel.sysfs_ng || strncmp(path, "/sys/dev/char/", 14))
		return __real_realpath(path, resolved);
	if (fake_kernel.on_sysfs_lookup)
		fake_kernel.on_sysfs_lookup();
	return resolved ? strcpy(resolved, FAKE_NG_DIR) : strdup(FAKE_NG_DIR);
}

ssize_t __wrap_readlink(const char *path, char *buf, size_t len)
{
	static const char class[] = "../../../../class/nvme-generic";

	if (!fk.on || !fake_kernel.sysfs_ng || strcmp(path, FAKE_NG_DIR "/subsystem"))
		return __real_readlink(path, buf, len);
	if (len < sizeof(class) - 1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, class, sizeof(class) - 1);
	return (ssize_t)(sizeof(class) - 1);
}

/* readlink() as _FORTIFY_SOURCE compiles it. */
ssize_t __wrap___readlink_chk(const char *path, char *buf, size_t len, size_t buflen)
{
	if (!fk.on || !fake_kernel.sysfs_ng || strcmp(path, FAKE_NG_DIR "/subsystem"))
		return __real___readlink_chk(path, buf, len, buflen);
	return __wrap_readlink(path, buf, len < buflen ? len : buflen);
}
