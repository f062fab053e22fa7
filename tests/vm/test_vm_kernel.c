/* SPDX-License-Identifier: MIT */
/*
 * The kernel shim (src/kernel) against QEMU's NVMe controller bound to the
 * kernel nvme driver in a guest (meson test --suite vm kernel): admin
 * commands on the controller and namespace nodes, synchronous I/O through
 * NVME_IOCTL_IO64_CMD on /dev/ng0n1 and /dev/nvme0n1, asynchronous I/O
 * through io_uring URING_CMD on /dev/ng0n1, error statuses on both paths,
 * and the nodes vfn_kdev_open() refuses, a partition among them.
 * The environment says what the controller was configured with:
 *   VFN_TEST_SERIAL    its serial number
 *   VFN_TEST_IMG_SIZE  size in bytes of namespace 1's raw image
 *   VFN_TEST_LBA_SIZE  its logical block size
 *
 * `test_vm_kernel bench SECONDS` instead prints 4 KiB random read IOPS
 * through the ioctl (QD1) and io_uring (QD1, QD16) on /dev/ng0n1.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <unistd.h>

#include <cmocka.h>

#include <vfn/vfn.h>

#include "kernel/kernel.h"

#define CTRL_NODE "/dev/nvme0"
#define NG_NODE "/dev/ng0n1"
#define BLK_NODE "/dev/nvme0n1"
#define PART_NODE "/dev/nvme0n1p1"
#define DATA_SLBA 256 /* data tests stay clear of LBA 0 (the partition test's MBR) */
#define BUF_LEN (256 * 1024)
#define ASYNC_CMDS 256
#define ASYNC_QD 16

static uint8_t *wbuf, *rbuf;

static const char *env_str(const char *name)
{
	const char *v = getenv(name);

	if (!v) {
		fprintf(stderr, "# %s is not set\n", name);
		fail();
	}
	return v;
}

static uint32_t lba_size(void)
{
	return (uint32_t)strtoul(env_str("VFN_TEST_LBA_SIZE"), NULL, 0);
}

static uint64_t nsze(void)
{
	return strtoull(env_str("VFN_TEST_IMG_SIZE"), NULL, 0) / lba_size();
}

static struct vfn_kdev *open_ok(const char *path)
{
	struct vfn_kdev *kdev = NULL;

	assert_int_equal(vfn_kdev_open(path, &kdev), 0);
	assert_non_null(kdev);
	return kdev;
}

/* Trailing spaces removed from an Identify ASCII field. */
static void id_string(const uint8_t *id, size_t off, size_t len, char *out)
{
	memcpy(out, id + off, len);
	while (len && out[len - 1] == ' ')
		len--;
	out[len] = '\0';
}

static void identify(struct vfn_kdev *kdev, uint8_t cns, uint32_t nsid, uint8_t *id)
{
	struct vfn_nvme_sqe sqe = {
		.opcode = VFN_NVME_ADMIN_IDENTIFY,
		.nsid = vfn_cpu_to_le32(nsid),
		.cdw10 = vfn_cpu_to_le32(cns),
	};
	struct vfn_nvme_cqe cqe;

	memset(id, 0xff, VFN_NVME_IDENTIFY_DATA_SIZE);
	assert_int_equal(vfn_kdev_admin(kdev, &sqe, id, VFN_NVME_IDENTIFY_DATA_SIZE, &cqe, 0), 0);
	assert_int_equal(vfn_nvme_cqe_status(&cqe), 0);
}

static void check_id_ctrl(const char *path, enum vfn_kdev_kind kind)
{
	struct vfn_kdev *kdev = open_ok(path);
	char sn[21], mn[41];

	assert_int_equal(kdev->kind, kind);
	assert_int_equal(kdev->nsid, kind == VFN_KDEV_CTRL ? 0 : 1);
	identify(kdev, VFN_NVME_CNS_CTRL, 0, rbuf);
	id_string(rbuf, 4, 20, sn);
	id_string(rbuf, 24, 40, mn);
	assert_string_equal(sn, env_str("VFN_TEST_SERIAL"));
	assert_string_equal(mn, "QEMU NVMe Ctrl");
	vfn_kdev_close(kdev);
}

static void test_id_ctrl(void **state)
{
	(void)state;
	check_id_ctrl(CTRL_NODE, VFN_KDEV_CTRL);
	check_id_ctrl(NG_NODE, VFN_KDEV_NS_CHAR);
	check_id_ctrl(BLK_NODE, VFN_KDEV_NS_BLOCK);
}

static void test_id_ns(void **state)
{
	struct vfn_kdev *kdev = open_ok(NG_NODE);
	uint64_t size;
	uint8_t flbas;

	(void)state;
	identify(kdev, VFN_NVME_CNS_NS, kdev->nsid, rbuf);
	memcpy(&size, rbuf, sizeof(size));
	assert_int_equal(vfn_le64_to_cpu(size), nsze());
	flbas = rbuf[26] & 0xf;
	assert_int_equal(1u << rbuf[128 + 4 * flbas + 2], lba_size());
	vfn_kdev_close(kdev);
}

/* A read (opcode VFN_NVME_CMD_READ) or write of @nlb blocks at @slba. */
static struct vfn_nvme_sqe rw_sqe(uint8_t opcode, uint64_t slba, uint32_t nlb)
{
	struct vfn_nvme_sqe sqe = {
		.opcode = opcode,
		.nsid = vfn_cpu_to_le32(1),
		.cdw10 = vfn_cpu_to_le32((uint32_t)slba),
		.cdw11 = vfn_cpu_to_le32((uint32_t)(slba >> 32)),
		.cdw12 = vfn_cpu_to_le32(nlb - 1),
	};

	return sqe;
}

static void fill(uint8_t *buf, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

/* Writes through @w, reads back through @r, compares, for several sizes. */
static void sync_rw(struct vfn_kdev *w, struct vfn_kdev *r, uint32_t seed)
{
	static const uint32_t sizes[] = { 1, 8, 33, 128 };
	struct vfn_nvme_sqe sqe;
	struct vfn_nvme_cqe cqe;
	size_t i, len;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		len = (size_t)sizes[i] * lba_size();
		assert_true(len <= BUF_LEN);
		fill(wbuf, len, seed + (uint32_t)i);
		memset(rbuf, 0, len);
		sqe = rw_sqe(VFN_NVME_CMD_WRITE, DATA_SLBA + i * 256, sizes[i]);
		assert_int_equal(vfn_kdev_io(w, &sqe, wbuf, len, &cqe, 0), 0);
		sqe = rw_sqe(VFN_NVME_CMD_READ, DATA_SLBA + i * 256, sizes[i]);
		assert_int_equal(vfn_kdev_io(r, &sqe, rbuf, len, &cqe, 0), 0);
		assert_memory_equal(wbuf, rbuf, len);
	}
}

static void test_sync_io(void **state)
{
	struct vfn_kdev *ng = open_ok(NG_NODE), *blk = open_ok(BLK_NODE);

	(void)state;
	sync_rw(ng, ng, 1);
	sync_rw(blk, blk, 2);
	sync_rw(ng, blk, 3);
	sync_rw(blk, ng, 4);
	vfn_kdev_close(blk);
	vfn_kdev_close(ng);
}

static void test_io_on_ctrl(void **state)
{
	struct vfn_kdev *ctrl = open_ok(CTRL_NODE);
	struct vfn_nvme_sqe sqe = rw_sqe(VFN_NVME_CMD_READ, 0, 1);
	struct vfn_kring *ring = NULL;

	(void)state;
	assert_int_equal(vfn_kdev_io(ctrl, &sqe, rbuf, lba_size(), NULL, 0), -ENOTSUP);
	assert_int_equal(vfn_kring_create(ctrl, 16, &ring), -ENOTSUP);
	assert_null(ring);
	vfn_kdev_close(ctrl);
}

static void check_status(struct vfn_kdev *kdev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, uint16_t status)
{
	struct vfn_nvme_cqe cqe;

	assert_int_equal(vfn_kdev_io(kdev, sqe, buf, len, &cqe, 0), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&cqe) & 0x7ff, status);
}

static void test_sync_errors(void **state)
{
	struct vfn_kdev *ng = open_ok(NG_NODE), *blk = open_ok(BLK_NODE), *ctrl = open_ok(CTRL_NODE);
	struct vfn_nvme_sqe bad = { .opcode = 0x7f, .nsid = vfn_cpu_to_le32(1) };
	struct vfn_nvme_sqe range = rw_sqe(VFN_NVME_CMD_READ, nsze() - 1, 2);
	struct vfn_nvme_sqe last = rw_sqe(VFN_NVME_CMD_READ, nsze() - 1, 1);
	struct vfn_nvme_sqe bad_admin = { .opcode = 0xbf };
	struct vfn_nvme_cqe cqe;

	(void)state;
	check_status(ng, &bad, NULL, 0, VFN_NVME_SC_INVALID_OPCODE);
	check_status(blk, &bad, NULL, 0, VFN_NVME_SC_INVALID_OPCODE);
	check_status(ng, &range, rbuf, 2 * lba_size(), VFN_NVME_SC_LBA_RANGE);
	check_status(blk, &range, rbuf, 2 * lba_size(), VFN_NVME_SC_LBA_RANGE);
	assert_int_equal(vfn_kdev_io(ng, &last, rbuf, lba_size(), &cqe, 0), 0);
	assert_int_equal(vfn_kdev_admin(ctrl, &bad_admin, NULL, 0, &cqe, 0), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&cqe) & 0x7ff, VFN_NVME_SC_INVALID_OPCODE);
	vfn_kdev_close(ctrl);
	vfn_kdev_close(blk);
	vfn_kdev_close(ng);
}

struct async_ctx {
	int done, failed;
	uint64_t seen[ASYNC_CMDS / 64];
	int last_ret;
	uint16_t last_status;
};

static void on_done(void *arg, uint64_t user_data, int ret, const struct vfn_nvme_cqe *cqe)
{
	struct async_ctx *c = arg;

	c->done++;
	if (ret)
		c->failed++;
	c->last_ret = ret;
	c->last_status = vfn_nvme_cqe_status(cqe) & 0x7ff;
	if (user_data < ASYNC_CMDS)
		c->seen[user_data / 64] |= 1ull << (user_data % 64);
}

/* Runs ASYNC_CMDS one-block commands at queue depth ASYNC_QD, one syscall per batch. */
static void async_pass(struct vfn_kring *ring, uint8_t opcode, uint8_t *buf)
{
	struct async_ctx c = { 0 };
	struct vfn_nvme_sqe sqe;
	uint32_t next = 0, i;

	while (c.done < ASYNC_CMDS) {
		while (next < ASYNC_CMDS && vfn_kring_inflight(ring) < ASYNC_QD) {
			sqe = rw_sqe(opcode, DATA_SLBA + 1024 + next, 1);
			assert_int_equal(
				vfn_kring_submit(ring, &sqe, buf + (size_t)next * lba_size(), lba_size(), next), 0);
			next++;
		}
		assert_true(vfn_kring_enter(ring, 1) >= 0);
		vfn_kring_reap(ring, 0, on_done, &c);
	}
	assert_int_equal(c.failed, 0);
	for (i = 0; i < ASYNC_CMDS / 64; i++)
		assert_int_equal(c.seen[i], UINT64_MAX);
	assert_int_equal(vfn_kring_inflight(ring), 0);
}

static void test_async_io(void **state)
{
	struct vfn_kdev *ng = open_ok(NG_NODE);
	size_t len = (size_t)ASYNC_CMDS * lba_size();
	uint8_t *w, *r;
	struct vfn_kring *ring;

	(void)state;
	assert_int_equal(vfn_kring_probe(), 0);
	assert_int_equal(vfn_kring_create(ng, ASYNC_QD, &ring), 0);
	assert_true(vfn_mem_alloc(len, (void **)&w) > 0);
	assert_true(vfn_mem_alloc(len, (void **)&r) > 0);
	fill(w, len, 42);
	async_pass(ring, VFN_NVME_CMD_WRITE, w);
	async_pass(ring, VFN_NVME_CMD_READ, r);
	assert_memory_equal(w, r, len);
	/* And the sync path reads the same data. */
	{
		struct vfn_nvme_sqe sqe = rw_sqe(VFN_NVME_CMD_READ, DATA_SLBA + 1024, ASYNC_CMDS / 4);

		assert_int_equal(vfn_kdev_io(ng, &sqe, rbuf, len / 4, NULL, 0), 0);
		assert_memory_equal(w, rbuf, len / 4);
	}
	vfn_mem_free(w, len);
	vfn_mem_free(r, len);
	vfn_kring_destroy(ring);
	vfn_kdev_close(ng);
}

/* One command through the ring; returns its completion's ret and status. */
static int async_one(struct vfn_kring *ring, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, uint16_t *status)
{
	struct async_ctx c = { 0 };

	assert_int_equal(vfn_kring_submit(ring, sqe, buf, len, 7), 0);
	assert_int_equal(vfn_kring_enter(ring, 1), 1);
	assert_int_equal(vfn_kring_reap(ring, 0, on_done, &c), 1);
	*status = c.last_status;
	return c.last_ret;
}

static void test_async_errors(void **state)
{
	struct vfn_kdev *ng = open_ok(NG_NODE), *blk = open_ok(BLK_NODE);
	struct vfn_nvme_sqe bad = { .opcode = 0x7f, .nsid = vfn_cpu_to_le32(1) };
	struct vfn_nvme_sqe range = rw_sqe(VFN_NVME_CMD_READ, nsze() - 1, 2);
	struct vfn_nvme_sqe wrong_ns = rw_sqe(VFN_NVME_CMD_READ, 0, 1);
	struct vfn_kring *ring = NULL;
	uint16_t status;
	int ret;

	(void)state;
	assert_int_equal(vfn_kring_create(blk, 16, &ring), -ENOTSUP);
	assert_int_equal(vfn_kring_create(ng, 16, &ring), 0);
	assert_int_equal(async_one(ring, &bad, NULL, 0, &status), -EIO);
	assert_int_equal(status, VFN_NVME_SC_INVALID_OPCODE);
	assert_int_equal(async_one(ring, &range, rbuf, 2 * lba_size(), &status), -EIO);
	assert_int_equal(status, VFN_NVME_SC_LBA_RANGE);
	/*
	 * An nsid that is not the node's: refused by the kernel (an errno,
	 * not -EIO) or, if it lets it through, Invalid Namespace.
	 */
	wrong_ns.nsid = vfn_cpu_to_le32(2);
	ret = async_one(ring, &wrong_ns, rbuf, lba_size(), &status);
	if (ret == -EIO)
		assert_int_equal(status, VFN_NVME_SC_INVALID_NS);
	else
		assert_true(ret < 0);
	vfn_kring_destroy(ring);
	vfn_kdev_close(blk);
	vfn_kdev_close(ng);
}

struct chain {
	struct vfn_kring *ring;
	uint8_t *buf;
	int n, left, failed;
};

/*
 * A callback that submits and hands over one more read, then lets it
 * complete (the sleep runs the kernel's completion task work) before it
 * returns: the kernel posts that completion while the reap is still in
 * progress.
 */
static void on_chain(void *arg, uint64_t user_data, int ret, const struct vfn_nvme_cqe *cqe)
{
	struct chain *c = arg;
	struct vfn_nvme_sqe sqe = rw_sqe(VFN_NVME_CMD_READ, DATA_SLBA, 1);

	(void)user_data, (void)cqe;
	c->n++;
	c->failed += ret != 0;
	if (!c->left)
		return;
	c->left--;
	assert_int_equal(vfn_kring_submit(c->ring, &sqe, c->buf, lba_size(), 3), 0);
	assert_int_equal(vfn_kring_flush(c->ring), 1);
	usleep(200 * 1000);
}

/*
 * A ring of 1 SQ and 2 CQ slots, both CQ slots full when the first
 * callback submits: its completion has room only if the reap handed the
 * first slot back before the callback.  Else it sits on the kernel's
 * overflow list, which reaping alone (no io_uring_enter) never sees.
 */
static void test_async_callback_submits(void **state)
{
	struct vfn_kdev *ng = open_ok(NG_NODE);
	struct vfn_nvme_sqe sqe = rw_sqe(VFN_NVME_CMD_READ, DATA_SLBA, 1);
	struct vfn_kring *ring = NULL;
	struct chain c = { .buf = rbuf, .left = 1 };
	uint64_t deadline;

	(void)state;
	assert_int_equal(vfn_kring_create(ng, 1, &ring), 0);
	c.ring = ring;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(vfn_kring_submit(ring, &sqe, wbuf + (size_t)i * lba_size(), lba_size(), (uint64_t)i),
				 0);
		assert_int_equal(vfn_kring_flush(ring), 1);
	}
	assert_true(vfn_kring_enter(ring, 2) >= 0);
	deadline = vfn_now_ns() + 5000000000ull;
	while (c.n < 3 && vfn_now_ns() < deadline)
		vfn_kring_reap(ring, 0, on_chain, &c);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.failed, 0);
	assert_int_equal(vfn_kring_inflight(ring), 0);
	vfn_kring_destroy(ring);
	vfn_kdev_close(ng);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n++;
	closedir(d);
	return n;
}

static void refused(const char *path, int err)
{
	struct vfn_kdev *kdev = NULL;
	int fds = count_fds();

	assert_int_equal(vfn_kdev_open(path, &kdev), err);
	assert_null(kdev);
	assert_int_equal(count_fds(), fds);
}

static void test_open_refused(void **state)
{
	(void)state;
	/* A symbolic link, even to the right node, is refused (O_NOFOLLOW), not followed. */
	assert_int_equal(symlink(NG_NODE, "/tmp/vfn-ng-link"), 0);
	refused("/tmp/vfn-ng-link", -ELOOP);
	unlink("/tmp/vfn-ng-link");
	refused("/dev/null", -ENODEV);
	refused("/dev/nvme0n9", -ENOENT);
	refused("/dev", -EISDIR);
	refused("/sys/bus/pci/devices/0000:00:01.0", -ELOOP); /* a symbolic link in sysfs */
	refused("/sys/bus/pci/devices/0000:00:01.0/", -EISDIR);
	refused("0000:00:01.0", -EINVAL);
	refused("/proc/self/status", -ENOTTY);
}

/* Writes @sector0 (512 bytes) to LBA 0 through the block layer and rereads the table. */
static void write_mbr(const uint8_t *sector0)
{
	int fd = open(BLK_NODE, O_RDWR | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, sector0, 512, 0), 512);
	assert_int_equal(fsync(fd), 0);
	assert_int_equal(ioctl(fd, BLKRRPART), 0);
	close(fd);
}

static void test_open_partition(void **state)
{
	uint8_t mbr[512] = { 0 };
	uint32_t start = 2048, count = 2048;
	int i;

	(void)state;
	mbr[446 + 4] = 0x83; /* partition 1: Linux, LBA 2048, 2048 sectors */
	memcpy(&mbr[446 + 8], &start, 4);
	memcpy(&mbr[446 + 12], &count, 4);
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	write_mbr(mbr);
	for (i = 0; i < 100 && access(PART_NODE, F_OK); i++)
		usleep(20000);
	assert_int_equal(access(PART_NODE, F_OK), 0);
	refused(PART_NODE, -EINVAL);
	memset(mbr, 0, sizeof(mbr));
	write_mbr(mbr);
}

static int alloc_bufs(void **state)
{
	(void)state;
	if (vfn_mem_alloc(BUF_LEN, (void **)&wbuf) < 0 || vfn_mem_alloc(BUF_LEN, (void **)&rbuf) < 0)
		return -1;
	return 0;
}

static int free_bufs(void **state)
{
	(void)state;
	vfn_mem_free(wbuf, BUF_LEN);
	vfn_mem_free(rbuf, BUF_LEN);
	return 0;
}

/* ---- bench mode ---------------------------------------------------------- */

#define BENCH_BS 4096

struct bench {
	struct vfn_kdev *ng;
	uint64_t slots; /* 4 KiB slots in the namespace */
	uint64_t rnd;
	uint8_t *buf; /* ASYNC_QD * BENCH_BS bytes */
	uint64_t done;
	int err;
};

static uint64_t bench_slba(struct bench *b)
{
	b->rnd ^= b->rnd << 13;
	b->rnd ^= b->rnd >> 7;
	b->rnd ^= b->rnd << 17;
	return (b->rnd % b->slots) * (BENCH_BS / 512);
}

static struct vfn_nvme_sqe bench_sqe(struct bench *b)
{
	return rw_sqe(VFN_NVME_CMD_READ, bench_slba(b), BENCH_BS / 512);
}

/* Synchronous reads through the ioctl for @ns nanoseconds; IOPS. */
static double bench_sync(struct bench *b, uint64_t ns)
{
	uint64_t start = vfn_now_ns(), n = 0;
	struct vfn_nvme_sqe sqe;

	while (vfn_now_ns() - start < ns) {
		sqe = bench_sqe(b);
		if (vfn_kdev_io(b->ng, &sqe, b->buf, BENCH_BS, NULL, 0))
			return -1;
		n++;
	}
	return n * 1e9 / (double)(vfn_now_ns() - start);
}

static void bench_done(void *arg, uint64_t user_data, int ret, const struct vfn_nvme_cqe *cqe)
{
	struct bench *b = arg;

	(void)user_data;
	(void)cqe;
	b->done++;
	if (ret)
		b->err = ret;
}

/* Reads through io_uring at queue depth @qd for @ns nanoseconds; IOPS. */
static double bench_ring(struct bench *b, struct vfn_kring *ring, uint32_t qd, uint64_t ns)
{
	uint64_t start = vfn_now_ns(), stop = start + ns;
	struct vfn_nvme_sqe sqe;
	uint32_t i = 0;

	b->done = 0;
	b->err = 0;
	for (;;) {
		while (vfn_now_ns() < stop && vfn_kring_inflight(ring) < qd) {
			sqe = bench_sqe(b);
			if (vfn_kring_submit(ring, &sqe, b->buf + (size_t)(i++ % ASYNC_QD) * BENCH_BS, BENCH_BS, 0))
				return -1;
		}
		if (!vfn_kring_inflight(ring))
			break;
		if (vfn_kring_enter(ring, 1) < 0)
			return -1;
		vfn_kring_reap(ring, 0, bench_done, b);
	}
	return b->err ? -1 : b->done * 1e9 / (double)(vfn_now_ns() - start);
}

static int bench_main(const char *secs)
{
	struct bench b = { .rnd = 88172645463325252ull };
	uint64_t ns = strtoull(secs, NULL, 0) * 1000000000ull, nsze_le;
	struct vfn_nvme_sqe id = { .opcode = VFN_NVME_ADMIN_IDENTIFY, .nsid = vfn_cpu_to_le32(1) };
	struct vfn_kring *ring = NULL;
	int ret;

	if (vfn_kdev_open(NG_NODE, &b.ng) ||
	    vfn_mem_alloc(VFN_NVME_IDENTIFY_DATA_SIZE + ASYNC_QD * BENCH_BS, (void **)&b.buf) < 0)
		return 1;
	ret = vfn_kdev_admin(b.ng, &id, b.buf, VFN_NVME_IDENTIFY_DATA_SIZE, NULL, 0);
	memcpy(&nsze_le, b.buf, sizeof(nsze_le));
	b.slots = vfn_le64_to_cpu(nsze_le) / (BENCH_BS / 512);
	if (ret || !b.slots || vfn_kring_create(b.ng, ASYNC_QD, &ring))
		return 1;
	printf("ioctl    QD1  %8.0f IOPS\n", bench_sync(&b, ns));
	printf("io_uring QD1  %8.0f IOPS\n", bench_ring(&b, ring, 1, ns));
	printf("io_uring QD16 %8.0f IOPS\n", bench_ring(&b, ring, ASYNC_QD, ns));
	vfn_kring_destroy(ring);
	vfn_mem_free(b.buf, VFN_NVME_IDENTIFY_DATA_SIZE + ASYNC_QD * BENCH_BS);
	vfn_kdev_close(b.ng);
	return 0;
}

int main(int argc, char **argv)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_ctrl),
		cmocka_unit_test(test_id_ns),
		cmocka_unit_test(test_sync_io),
		cmocka_unit_test(test_io_on_ctrl),
		cmocka_unit_test(test_sync_errors),
		cmocka_unit_test(test_async_io),
		cmocka_unit_test(test_async_errors),
		cmocka_unit_test(test_async_callback_submits),
		cmocka_unit_test(test_open_refused),
		cmocka_unit_test(test_open_partition),
	};
	/* clang-format on */

	if (argc == 3 && !strcmp(argv[1], "bench"))
		return bench_main(argv[2]);
	return cmocka_run_group_tests(tests, alloc_bufs, free_bufs);
}
