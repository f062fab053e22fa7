/* SPDX-License-Identifier: MIT */
/*
 * The kernel shim on the host (no NVMe device here): what vfn_kdev_open()
 * refuses, with which error and log line; argument checks; and, if this
 * kernel has io_uring passthrough, the ring mechanics against /dev/null:
 * every command completes with -EOPNOTSUPP (no uring_cmd on the file) or,
 * since Linux 6.0 gave /dev/null a uring_cmd (for LSM tests), with 0.
 * The guest test (tests/vm/test_vm_kernel.c) covers real NVMe nodes.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cmocka.h>

#include <vfn/support.h>

#include "fake-kernel.h"
#include "kernel/kernel.h"

static char last_log[512];
static int nr_logs;

static void capture_log(enum vfn_log_level level, const char *msg, void *arg)
{
	(void)level;
	(void)arg;
	snprintf(last_log, sizeof(last_log), "%s", msg);
	nr_logs++;
}

static int setup_log(void **state)
{
	(void)state;
	last_log[0] = '\0';
	nr_logs = 0;
	vfn_log_set_fn(capture_log, NULL);
	vfn_log_set_level(VFN_LOG_DEBUG);
	return 0;
}

static int teardown_log(void **state)
{
	(void)state;
	vfn_log_set_level(VFN_LOG_NONE);
	vfn_log_set_fn(NULL, NULL);
	return 0;
}

/* Opening @path fails with @err, leaves *out alone, and logs a line containing @msg. */
static void expect_refused(const char *path, int err, const char *msg)
{
	struct vfn_kdev *kdev = (struct vfn_kdev *)0x1;

	nr_logs = 0;
	assert_int_equal(vfn_kdev_open(path, &kdev), err);
	assert_ptr_equal(kdev, (struct vfn_kdev *)0x1);
	assert_true(nr_logs >= 1);
	if (!strstr(last_log, msg))
		fail_msg("log line \"%s\" does not say \"%s\"", last_log, msg);
}

static void test_open_dev_null(void **state)
{
	(void)state;
	expect_refused("/dev/null", -ENODEV, "/dev/null: not an NVMe device (a \"mem\" char device)");
}

static void test_open_missing(void **state)
{
	(void)state;
	expect_refused("/dev/vfn-no-such-node", -ENOENT, "No such file");
}

static void test_open_directory(void **state)
{
	(void)state;
	expect_refused("/dev", -EISDIR, "is a directory");
	expect_refused("/tmp/", -EISDIR, "is a directory");
}

static void test_open_regular_file(void **state)
{
	char path[] = "/tmp/vfn-test-kernel.XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	expect_refused(path, -ENOTTY, "not a device node");
	close(fd);
	unlink(path);
}

static void test_open_not_a_path(void **state)
{
	(void)state;
	expect_refused("0000:01:00.0", -EINVAL, "is not a device path");
	expect_refused("sim:nsze=8", -EINVAL, "is not a device path");
	expect_refused("", -EINVAL, "is not a device path");
}

static void test_open_bad_args(void **state)
{
	struct vfn_kdev *kdev = NULL;

	(void)state;
	assert_int_equal(vfn_kdev_open(NULL, &kdev), -EINVAL);
	assert_int_equal(vfn_kdev_open("/dev/null", NULL), -EINVAL);
	assert_null(kdev);
	vfn_kdev_close(NULL);
}

static void test_cmd_bad_args(void **state)
{
	struct vfn_kdev ctrl = { .fd = -1, .kind = VFN_KDEV_CTRL, .name = "fake" };
	struct vfn_kdev ns = { .fd = -1, .kind = VFN_KDEV_NS_CHAR, .name = "fake" };
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_READ };
	struct vfn_nvme_cqe cqe;

	(void)state;
	assert_int_equal(vfn_kdev_admin(NULL, &sqe, NULL, 0, &cqe, 0), -EINVAL);
	assert_int_equal(vfn_kdev_admin(&ctrl, NULL, NULL, 0, &cqe, 0), -EINVAL);
	assert_int_equal(vfn_kdev_io(NULL, &sqe, NULL, 0, &cqe, 0), -EINVAL);
	/* I/O needs a namespace node. */
	assert_int_equal(vfn_kdev_io(&ctrl, &sqe, NULL, 0, &cqe, 0), -ENOTSUP);
	/* A length without a buffer, or beyond 32 bits, never reaches the kernel. */
	assert_int_equal(vfn_kdev_io(&ns, &sqe, NULL, 4096, &cqe, 0), -EINVAL);
	assert_int_equal(vfn_kdev_io(&ns, &sqe, &cqe, (size_t)UINT32_MAX + 1, &cqe, 0), -EINVAL);
	/* Reaches the kernel: a closed fd. */
	assert_int_equal(vfn_kdev_io(&ns, &sqe, NULL, 0, &cqe, 0), -EBADF);
}

static void test_kring_probe(void **state)
{
	int ret;

	(void)state;
	ret = vfn_kring_probe();
	if (ret != 0 && ret != -ENOTSUP)
		fail_msg("vfn_kring_probe: %d", ret);
	if (ret)
		assert_true(nr_logs >= 1);
}

static void test_kring_create_refused(void **state)
{
	struct vfn_kdev ctrl = { .fd = -1, .kind = VFN_KDEV_CTRL, .name = "nvme9" };
	struct vfn_kdev blk = { .fd = -1, .kind = VFN_KDEV_NS_BLOCK, .name = "nvme9n1" };
	struct vfn_kdev ns = { .fd = -1, .kind = VFN_KDEV_NS_CHAR, .name = "ng9n1" };
	struct vfn_kring *ring = NULL;

	(void)state;
	assert_int_equal(vfn_kring_create(NULL, 8, &ring), -EINVAL);
	assert_int_equal(vfn_kring_create(&ns, 0, &ring), -EINVAL);
	assert_int_equal(vfn_kring_create(&ns, 4097, &ring), -EINVAL);
	assert_int_equal(vfn_kring_create(&ns, 8, NULL), -EINVAL);
	assert_int_equal(vfn_kring_create(&ctrl, 8, &ring), -ENOTSUP);
	assert_int_equal(vfn_kring_create(&blk, 8, &ring), -ENOTSUP);
	assert_true(strstr(last_log, "/dev/ngXnY") != NULL);
	assert_null(ring);
	vfn_kring_destroy(NULL);
}

/* In this process from now on, system call @nr fails with @err (seccomp). */
static int fail_syscall(long nr, int err)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((uint32_t)err & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/*
 * In a child where system call @nr fails with @err, vfn_kring_probe() and
 * vfn_kring_create() answer @ret and log a line containing @why.
 */
static void expect_no_kring(long nr, int err, int ret, const char *why)
{
	struct vfn_kdev ns = { .fd = -1, .kind = VFN_KDEV_NS_CHAR, .name = "ng9n1" };
	struct vfn_kring *ring = NULL;
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		last_log[0] = '\0';
		if (fail_syscall(nr, err) || vfn_kring_probe() != ret || !strstr(last_log, why))
			_exit(1);
		last_log[0] = '\0';
		if (vfn_kring_create(&ns, 8, &ring) != ret || ring || !strstr(last_log, why))
			_exit(2);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status))
		fail_msg("%s: child failed at step %d", why, WEXITSTATUS(status));
}

static void test_kring_fallback(void **state)
{
	(void)state;
	if (vfn_kring_probe())
		skip();
	expect_no_kring(__NR_io_uring_setup, ENOSYS, -ENOTSUP, "not in this kernel");
	expect_no_kring(__NR_io_uring_setup, EPERM, -ENOTSUP, "kernel.io_uring_disabled");
	expect_no_kring(__NR_io_uring_setup, EINVAL, -ENOTSUP, "Linux < 5.19");
	expect_no_kring(__NR_io_uring_register, EINVAL, -ENOTSUP, "cannot probe the opcodes");
	/* A resource error is not "unsupported". */
	expect_no_kring(__NR_io_uring_setup, EMFILE, -EMFILE, "Too many open files");
}

struct reaped {
	int n;
	uint64_t sum;
	int ret;
};

static void on_cqe(void *arg, uint64_t user_data, int ret, const struct vfn_nvme_cqe *cqe)
{
	struct reaped *r = arg;

	r->n++;
	r->sum += user_data;
	if (r->n > 1)
		assert_int_equal(ret, r->ret);
	r->ret = ret;
	/* An errno (the kernel's answer, not the controller's) comes with a made-up status. */
	assert_int_equal(vfn_nvme_cqe_status(cqe), ret < 0 ? VFN_NVME_SC_HOST_ABORTED : 0);
}

/* Fills the rings, checks -EBUSY at both limits, and reaps every command once. */
static void test_kring_mechanics(void **state)
{
	struct vfn_kdev ns = { .kind = VFN_KDEV_NS_CHAR, .name = "null" };
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_FLUSH, .nsid = vfn_cpu_to_le32(1) };
	struct reaped r = { 0 };
	struct vfn_kring *ring;
	uint32_t i, expect = 0;
	int ret;

	(void)state;
	if (vfn_kring_probe())
		skip();
	ns.fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(ns.fd >= 0);
	assert_int_equal(vfn_kring_create(&ns, 4, &ring), 0);
	/* SQ: 4 slots. */
	for (i = 0; i < 4; i++)
		assert_int_equal(vfn_kring_submit(ring, &sqe, NULL, 0, 100 + i), 0);
	assert_int_equal(vfn_kring_submit(ring, &sqe, NULL, 0, 0), -EBUSY);
	assert_int_equal(vfn_kring_flush(ring), 4);
	assert_int_equal(vfn_kring_flush(ring), 0);
	/* CQ: 8 slots, so at most 8 in flight even with SQ room. */
	for (i = 0; i < 4; i++)
		assert_int_equal(vfn_kring_submit(ring, &sqe, NULL, 0, 200 + i), 0);
	assert_int_equal(vfn_kring_inflight(ring), 8);
	assert_int_equal(vfn_kring_submit(ring, &sqe, NULL, 0, 0), -EBUSY);
	ret = vfn_kring_enter(ring, 8);
	assert_int_equal(ret, 4);
	assert_int_equal(vfn_kring_reap(ring, 3, on_cqe, &r), 3);
	assert_int_equal(vfn_kring_reap(ring, 0, on_cqe, &r), 5);
	assert_int_equal(vfn_kring_reap(ring, 0, on_cqe, &r), 0);
	for (i = 0; i < 4; i++)
		expect += 100 + i + 200 + i;
	assert_int_equal(r.n, 8);
	assert_int_equal(r.sum, expect);
	/* The kernel's answer for the file comes through, the same for all. */
	if (r.ret != 0 && r.ret != -EOPNOTSUPP)
		fail_msg("URING_CMD on /dev/null completed with %d", r.ret);
	assert_int_equal(vfn_kring_inflight(ring), 0);
	assert_int_equal(vfn_kring_submit(ring, &sqe, &r, (size_t)UINT32_MAX + 1, 0), -EINVAL);
	vfn_kring_destroy(ring);
	close(ns.fd);
}

/* ---- against the fake kernel (fake-kernel.h) ----------------------------- */

static int fake_on(void **state)
{
	setup_log(state);
	fake_kernel_on();
	return 0;
}

static int fake_off(void **state)
{
	fake_kernel_off();
	return teardown_log(state);
}

/* A namespace node on /dev/null (only the fake kernel looks at it). */
static struct vfn_kdev fake_ns(void)
{
	struct vfn_kdev ns = { .kind = VFN_KDEV_NS_CHAR, .nsid = 1, .name = "ng9n1" };

	ns.fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(ns.fd >= 0);
	return ns;
}

/*
 * The data pointer is the shim's: without data the kernel gets none (addr
 * 0), whatever the caller's buffer pointer or the SQE's PRPs and MPTR say.
 */
static void test_kdev_no_data_pointer(void **state)
{
	struct vfn_kdev ns = fake_ns();
	struct vfn_nvme_sqe sqe = {
		.opcode = VFN_NVME_ADMIN_IDENTIFY,
		.flags = VFN_NVME_SQE_PSDT_SGL_MPTR_CONTIG,
		.nsid = vfn_cpu_to_le32(1),
		.mptr = vfn_cpu_to_le64(0x5000),
		.dptr.prp1 = vfn_cpu_to_le64(0x1000),
		.dptr.prp2 = vfn_cpu_to_le64(0x2000),
		.cdw10 = vfn_cpu_to_le32(1),
	};
	const unsigned long admin = NVME_IOCTL_ADMIN64_CMD, io = NVME_IOCTL_IO64_CMD;
	uint8_t stale[64];
	struct vfn_nvme_cqe cqe;

	(void)state;
	assert_int_equal(vfn_kdev_admin(&ns, &sqe, stale, 0, &cqe, 0), 0);
	assert_int_equal(fake_kernel.last_ioctl_req, admin);
	assert_int_equal(fake_kernel.last_ioctl.addr, 0);
	assert_int_equal(fake_kernel.last_ioctl.data_len, 0);
	assert_int_equal(fake_kernel.last_ioctl.metadata, 0);
	assert_int_equal(fake_kernel.last_ioctl.flags, 0);
	assert_int_equal(fake_kernel.last_ioctl.cdw10, 1);
	/* With data: the caller's buffer, as given. */
	assert_int_equal(vfn_kdev_io(&ns, &sqe, stale, sizeof(stale), &cqe, 0), 0);
	assert_int_equal(fake_kernel.last_ioctl_req, io);
	assert_int_equal(fake_kernel.last_ioctl.addr, (uintptr_t)stale);
	assert_int_equal(fake_kernel.last_ioctl.data_len, sizeof(stale));
	assert_int_equal(fake_kernel.last_ioctl.metadata, 0);
	close(ns.fd);
}

/* An error status comes back as -EIO with it; DNR alone is not an error (as vfn_nvme_status_to_errno()). */
static void test_kdev_status(void **state)
{
	struct vfn_kdev ns = fake_ns();
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_FLUSH, .nsid = vfn_cpu_to_le32(1) };
	struct vfn_nvme_cqe cqe;

	(void)state;
	fake_kernel.ioctl_ret = 0x4080; /* LBA Out of Range, DNR */
	assert_int_equal(vfn_kdev_io(&ns, &sqe, NULL, 0, &cqe, 0), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&cqe), 0x4080);
	fake_kernel.ioctl_ret = 0x4000;
	assert_int_equal(vfn_kdev_io(&ns, &sqe, NULL, 0, &cqe, 0), 0);
	close(ns.fd);
}

static void on_cqe_count(void *arg, uint64_t user_data, int ret, const struct vfn_nvme_cqe *cqe)
{
	struct reaped *r = arg;

	(void)cqe;
	r->n++;
	r->sum += user_data;
	r->ret = ret;
}

/* A ring of one SQ and two CQ slots on the fake kernel. */
static struct vfn_kring *fake_ring(struct vfn_kdev *ns)
{
	struct vfn_kring *ring = NULL;

	*ns = fake_ns();
	assert_int_equal(vfn_kring_create(ns, 1, &ring), 0);
	return ring;
}

struct resubmit {
	struct vfn_kring *ring;
	int n, left;
};

/* A callback that submits and enters again, as the shim allows. */
static void on_cqe_resubmit(void *arg, uint64_t user_data, int ret, const struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_FLUSH, .nsid = vfn_cpu_to_le32(1) };
	struct resubmit *r = arg;

	(void)user_data, (void)ret, (void)cqe;
	r->n++;
	if (!r->left)
		return;
	r->left--;
	assert_int_equal(vfn_kring_submit(r->ring, &sqe, NULL, 0, 9), 0);
	assert_int_equal(vfn_kring_flush(r->ring), 1);
}

/*
 * The CQ is full (2 of 2) when the first callback submits and enters: the
 * kernel must see that CQE's slot free already, or the new completion goes
 * to its overflow list, which nothing here would flush.
 */
static void test_kring_head_before_callback(void **state)
{
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_FLUSH, .nsid = vfn_cpu_to_le32(1) };
	struct vfn_kdev ns;
	struct vfn_kring *ring = fake_ring(&ns);
	struct resubmit r = { .ring = ring, .left = 1 };

	(void)state;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(vfn_kring_submit(ring, &sqe, NULL, 0, (uint64_t)i), 0);
		assert_int_equal(vfn_kring_flush(ring), 1);
	}
	assert_int_equal(fake_kernel.posted, 2);
	assert_int_equal(vfn_kring_reap(ring, 0, on_cqe_resubmit, &r), 3);
	assert_int_equal(r.n, 3);
	assert_int_equal(fake_kernel.overflowed, 0);
	assert_int_equal(vfn_kring_inflight(ring), 0);
	assert_int_equal(fake_kernel_cq_head(), 3);
	vfn_kring_destroy(ring);
	close(ns.fd);
}

/* io_uring command with separate metadata: metadata/metadata_len in the command; a bad one refused. */
static void test_kring_metadata(void **state)
{
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_READ, .nsid = vfn_cpu_to_le32(1) };
	static uint8_t buf[1024], meta[16];
	struct vfn_kdev ns;
	struct vfn_kring *ring = fake_ring(&ns);

	(void)state;
	assert_int_equal(vfn_kring_submit_meta(ring, &sqe, buf, 1024, NULL, 16, 8), -EINVAL);
	assert_int_equal(vfn_kring_submit_meta(ring, &sqe, buf, 1024, meta, 16, 7), 0);
	assert_int_equal(vfn_kring_flush(ring), 1);
	assert_int_equal(fake_kernel.nr_taken, 1);
	assert_int_equal(fake_kernel.taken[0].user_data, 7);
	assert_int_equal(fake_kernel.taken[0].cmd.metadata, (uintptr_t)meta);
	assert_int_equal(fake_kernel.taken[0].cmd.metadata_len, 16);
	assert_int_equal(fake_kernel.taken[0].cmd.data_len, 1024);
	vfn_kring_destroy(ring);
	close(ns.fd);
}

/* Completions on the kernel's overflow list come out of the next reap. */
static void test_kring_overflow(void **state)
{
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_FLUSH, .nsid = vfn_cpu_to_le32(1) };
	struct reaped r = { 0 };
	struct vfn_kdev ns;
	struct vfn_kring *ring = fake_ring(&ns);

	(void)state;
	fake_kernel.overflow_next = true;
	fake_kernel.res = 0x2; /* Invalid Field: the status survives the overflow list */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(vfn_kring_submit(ring, &sqe, NULL, 0, 10 + (uint64_t)i), 0);
		assert_int_equal(vfn_kring_flush(ring), 1);
	}
	assert_int_equal(fake_kernel.overflowed, 2);
	assert_int_equal(fake_kernel.posted, 0);
	assert_int_equal(vfn_kring_reap(ring, 0, on_cqe_count, &r), 2);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.sum, 21);
	assert_int_equal(r.ret, -EIO);
	assert_int_equal(fake_kernel.getevents, 1);
	assert_int_equal(vfn_kring_inflight(ring), 0);
	/* Nothing overflowed: no system call. */
	assert_int_equal(vfn_kring_reap(ring, 0, on_cqe_count, &r), 0);
	assert_int_equal(fake_kernel.getevents, 1);
	vfn_kring_destroy(ring);
	close(ns.fd);
}

/* The kernel takes one SQE per enter: the others stay queued for the next one. */
static void test_kring_partial_submit(void **state)
{
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_FLUSH, .nsid = vfn_cpu_to_le32(1) };
	struct vfn_kdev ns = fake_ns();
	struct vfn_kring *ring = NULL;
	struct reaped r = { 0 };

	(void)state;
	assert_int_equal(vfn_kring_create(&ns, 4, &ring), 0);
	fake_kernel.max_take = 1;
	for (int i = 0; i < 3; i++)
		assert_int_equal(vfn_kring_submit(ring, &sqe, NULL, 0, (uint64_t)i), 0);
	assert_int_equal(vfn_kring_flush(ring), 1);
	assert_int_equal(vfn_kring_flush(ring), 1);
	assert_int_equal(vfn_kring_enter(ring, 1), 1);
	assert_int_equal(vfn_kring_flush(ring), 0);
	assert_int_equal(fake_kernel.nr_taken, 3);
	assert_int_equal(vfn_kring_reap(ring, 0, on_cqe_count, &r), 3);
	assert_int_equal(r.sum, 3);
	vfn_kring_destroy(ring);
	close(ns.fd);
}

/* A completion the controller never gave (res < 0) comes with a made-up status, not Success. */
static void test_kring_errno_completion(void **state)
{
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_FLUSH, .nsid = vfn_cpu_to_le32(1) };
	struct vfn_kdev ns;
	struct vfn_kring *ring = fake_ring(&ns);
	struct reaped r = { 0 };

	(void)state;
	fake_kernel.res = -EINTR;
	assert_int_equal(vfn_kring_submit(ring, &sqe, NULL, 0, 1), 0);
	assert_int_equal(vfn_kring_flush(ring), 1);
	assert_int_equal(vfn_kring_reap(ring, 0, on_cqe, &r), 1);
	assert_int_equal(r.ret, -EINTR);
	vfn_kring_destroy(ring);
	close(ns.fd);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* A symbolic link is refused, not followed; nothing stays open. */
static void test_open_symlink(void **state)
{
	char dir[] = "/tmp/vfn-test-link.XXXXXX", link[64];
	int fds = count_fds();

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/ng0n1", dir);
	assert_int_equal(symlink("/dev/null", link), 0);
	expect_refused(link, -ELOOP, "is a symbolic link; give the device node itself (/dev/null)");
	unlink(link);
	assert_int_equal(symlink("/dev/vfn-no-such-node", link), 0);
	expect_refused(link, -ELOOP, "it points nowhere");
	assert_int_equal(count_fds(), fds);
	unlink(link);
	rmdir(dir);
}

/* A FIFO is refused without blocking (nobody writes it) and without being opened for I/O. */
static void test_open_fifo(void **state)
{
	char dir[] = "/tmp/vfn-test-fifo.XXXXXX", fifo[64];
	int fds = count_fds();

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	expect_refused(fifo, -ENOTTY, "not a device node");
	assert_int_equal(count_fds(), fds);
	unlink(fifo);
	rmdir(dir);
}

static char race_path[64], race_other[64];

/* Between the checks and the open, @race_path becomes another device. */
static void swap_node(void)
{
	assert_int_equal(rename(race_other, race_path), 0);
}

/*
 * The node is checked and opened as one inode: replacing the name between
 * the two (here at the sysfs lookup) neither opens the replacement nor
 * fails the open of the node that was checked.
 */
static void test_open_no_toctou(void **state)
{
	char dir[] = "/tmp/vfn-test-race.XXXXXX";
	struct vfn_kdev *kdev = NULL;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(race_path, sizeof(race_path), "%s/ng9n1", dir);
	snprintf(race_other, sizeof(race_other), "%s/other", dir);
	if (mknod(race_path, S_IFCHR | 0600, makedev(1, 3)) || mknod(race_other, S_IFCHR | 0600, makedev(1, 5))) {
		unlink(race_path);
		rmdir(dir);
		skip(); /* no mknod here (not root, or a nodev /tmp) */
	}
	fake_kernel.sysfs_ng = true;
	fake_kernel.ioctl_id = 1;
	fake_kernel.on_sysfs_lookup = swap_node;
	assert_int_equal(vfn_kdev_open(race_path, &kdev), 0);
	assert_int_equal(kdev->kind, VFN_KDEV_NS_CHAR);
	assert_int_equal(kdev->nsid, 1);
	assert_int_equal(fstat(kdev->fd, &st), 0);
	assert_int_equal(st.st_rdev, makedev(1, 3)); /* the node checked, not its replacement (1:5) */
	assert_true(access(race_other, F_OK) != 0);  /* the swap did happen */
	/* And the descriptor is blocking again (O_NONBLOCK was for the open only). */
	assert_int_equal(fcntl(kdev->fd, F_GETFL) & O_NONBLOCK, 0);
	vfn_kdev_close(kdev);
	unlink(race_path);
	rmdir(dir);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_dev_null),
		cmocka_unit_test(test_open_missing),
		cmocka_unit_test(test_open_directory),
		cmocka_unit_test(test_open_regular_file),
		cmocka_unit_test(test_open_not_a_path),
		cmocka_unit_test(test_open_bad_args),
		cmocka_unit_test(test_cmd_bad_args),
		cmocka_unit_test(test_kring_probe),
		cmocka_unit_test(test_kring_create_refused),
		cmocka_unit_test(test_kring_fallback),
		cmocka_unit_test(test_kring_mechanics),
		cmocka_unit_test(test_open_symlink),
		cmocka_unit_test(test_open_fifo),
		cmocka_unit_test_setup_teardown(test_open_no_toctou, fake_on, fake_off),
		cmocka_unit_test_setup_teardown(test_kdev_no_data_pointer, fake_on, fake_off),
		cmocka_unit_test_setup_teardown(test_kdev_status, fake_on, fake_off),
		cmocka_unit_test_setup_teardown(test_kring_head_before_callback, fake_on, fake_off),
		cmocka_unit_test_setup_teardown(test_kring_metadata, fake_on, fake_off),
		cmocka_unit_test_setup_teardown(test_kring_overflow, fake_on, fake_off),
		cmocka_unit_test_setup_teardown(test_kring_partial_submit, fake_on, fake_off),
		cmocka_unit_test_setup_teardown(test_kring_errno_completion, fake_on, fake_off),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, setup_log, teardown_log);
}
