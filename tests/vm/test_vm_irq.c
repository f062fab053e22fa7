/* SPDX-License-Identifier: MIT */
/*
 * Interrupt modes against a real controller (QEMU's in the guest, or sim:
 * on the host): more I/O queue pairs than MSI-X vectors, several CQs on one
 * vector, I/O driven by the shared eventfd until every completion arrived.
 *
 * Environment: VFN_BDF; VFN_TEST_NVEC, when set, the number of MSI-X
 * vectors the controller must offer (QEMU's msix_qsize).
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <vfn/vfn.h>

#define NR_PAIRS 4
#define PER_PAIR 64 /* commands per pair, all in flight at once */
#define BLOCKS 1

struct pair_stat {
	unsigned int ok, bad;
};

static void count_cb(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	struct pair_stat *s = rq->opaque;

	(void)qp;
	if (vfn_le16_to_cpu(cqe->sfp) >> 1)
		s->bad++;
	else
		s->ok++;
}

static int vectors_of(struct vfn_nvme_ctrl *ctrl)
{
	/* The highest vector a pair can be created on, plus one. */
	for (int v = 0; v < 4096; v++) {
		struct vfn_nvme_qpair_opts o = { .entries = 2, .irq = true, .vector_set = true, .vector = (uint16_t)v };
		struct vfn_nvme_qpair *qp;
		int ret = vfn_nvme_qpair_create(ctrl, 1, &o, &qp);

		if (ret == -ENOTSUP)
			return v;
		assert_int_equal(ret, 0);
		vfn_nvme_qpair_destroy(qp);
	}
	return -1;
}

static void test_more_pairs_than_vectors(void **state)
{
	const char *want = getenv("VFN_TEST_NVEC");
	struct vfn_nvme_qpair *qp[NR_PAIRS + 1] = { 0 };
	struct pair_stat st[NR_PAIRS + 1] = { 0 };
	struct vfn_nvme_qpair_opts plain = { .entries = 16, .irq = true };
	const struct vfn_nvme_ctrl_info *info;
	struct vfn_nvme_ns_info ns;
	struct vfn_nvme_ctrl *ctrl;
	unsigned int wakes = 0, total = 0;
	struct pollfd pfd[NR_PAIRS];
	int nvec, nfds = 0;
	uint8_t *buf;
	uint64_t iova;
	size_t len;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open(getenv("VFN_BDF"), NULL, &ctrl), 0);
	info = vfn_nvme_ctrl_get_info(ctrl);
	assert_true(info->nr_sq >= NR_PAIRS && info->nr_cq >= NR_PAIRS);
	assert_int_equal(vfn_nvme_ns_get_info(ctrl, 1, &ns), 0);
	nvec = vectors_of(ctrl);
	fprintf(stderr, "# %d MSI-X vectors\n", nvec);
	if (want)
		assert_int_equal(nvec, atoi(want));
	assert_true(nvec >= 2);
	if (nvec <= NR_PAIRS) {
		/* Vector = qid, the default, is refused beyond the controller's vectors. */
		assert_int_equal(vfn_nvme_qpair_create(ctrl, (uint16_t)nvec, &plain, &qp[nvec]), -ENOTSUP);
		assert_null(qp[nvec]);
	}
	for (uint16_t q = 1; q <= NR_PAIRS; q++) {
		struct vfn_nvme_qpair_opts o = { .entries = PER_PAIR + 1,
						 .irq = true,
						 .vector_set = true,
						 .vector = (uint16_t)(1 + (q - 1) % (nvec - 1)) };

		assert_int_equal(vfn_nvme_qpair_create(ctrl, q, &o, &qp[q]), 0);
		assert_int_equal(qp[q]->cq.vector, o.vector);
	}
	/* One pollfd per distinct eventfd. */
	for (uint16_t q = 1; q <= NR_PAIRS; q++) {
		int fd = vfn_nvme_qpair_eventfd(qp[q]), seen = 0;

		assert_true(fd >= 0);
		for (int i = 0; i < nfds; i++)
			seen |= pfd[i].fd == fd;
		if (!seen)
			pfd[nfds++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	assert_int_equal(nfds, nvec - 1 < NR_PAIRS ? nvec - 1 : NR_PAIRS);

	len = (size_t)BLOCKS * ns.lba_size;
	assert_true(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), len * PER_PAIR, (void **)&buf, &iova) > 0);
	for (size_t i = 0; i < len * PER_PAIR; i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	for (uint16_t q = 1; q <= NR_PAIRS; q++) {
		for (unsigned int i = 0; i < PER_PAIR; i++)
			assert_int_equal(vfn_nvme_write_async(qp[q], &ns, (uint64_t)(q * PER_PAIR + i) * BLOCKS, BLOCKS,
							      buf + i * len, false, count_cb, &st[q]),
					 0);
		vfn_nvme_qpair_submit(qp[q]);
	}
	/* Interrupt-driven: sleep on the eventfds, reap every pair a wake-up may concern. */
	while (total < NR_PAIRS * PER_PAIR) {
		int n = poll(pfd, (nfds_t)nfds, 10000);

		assert_true(n > 0); /* a lost interrupt ends the test here */
		for (int i = 0; i < nfds; i++) {
			uint64_t c;

			if (!(pfd[i].revents & POLLIN))
				continue;
			assert_int_equal(read(pfd[i].fd, &c, sizeof(c)), (ssize_t)sizeof(c));
			wakes++;
			for (uint16_t q = 1; q <= NR_PAIRS; q++)
				if (vfn_nvme_qpair_eventfd(qp[q]) == pfd[i].fd)
					vfn_nvme_qpair_reap(qp[q], 0);
		}
		total = 0;
		for (uint16_t q = 1; q <= NR_PAIRS; q++)
			total += st[q].ok + st[q].bad;
	}
	fprintf(stderr, "# %u completions over %d vectors, %u eventfd wake-ups\n", total, nfds, wakes);
	for (uint16_t q = 1; q <= NR_PAIRS; q++) {
		assert_int_equal(st[q].ok, PER_PAIR);
		assert_int_equal(st[q].bad, 0);
	}
	assert_true(wakes > 0);

	/* One command at a time round the pairs: each completion raises its own interrupt. */
	for (unsigned int i = 0; i < 16; i++) {
		for (uint16_t q = 1; q <= NR_PAIRS; q++) {
			struct pollfd one = { .fd = vfn_nvme_qpair_eventfd(qp[q]), .events = POLLIN };
			unsigned int before = st[q].ok;
			uint64_t c;

			assert_int_equal(vfn_nvme_write_async(qp[q], &ns, (uint64_t)(q * PER_PAIR + i) * BLOCKS, BLOCKS,
							      buf + i * len, false, count_cb, &st[q]),
					 0);
			vfn_nvme_qpair_submit(qp[q]);
			assert_int_equal(poll(&one, 1, 10000), 1);
			assert_int_equal(read(one.fd, &c, sizeof(c)), (ssize_t)sizeof(c));
			for (int n = 0; n < 100000 && st[q].ok == before; n++)
				vfn_nvme_qpair_reap(qp[q], 0);
			assert_int_equal(st[q].ok, before + 1);
		}
	}
	fprintf(stderr, "# then %u single commands, one interrupt each\n", 16 * NR_PAIRS);
	/* The data went where it should: read each pair's blocks back through another pair. */
	for (uint16_t q = 1; q <= NR_PAIRS; q++) {
		uint8_t *back = malloc(len);

		assert_non_null(back);
		for (unsigned int i = 0; i < PER_PAIR; i += 17) {
			uint8_t *rb;
			uint64_t riova;

			assert_true(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), len, (void **)&rb, &riova) > 0);
			assert_int_equal(vfn_nvme_read(qp[q % NR_PAIRS + 1], &ns, (uint64_t)(q * PER_PAIR + i) * BLOCKS,
						       BLOCKS, rb, NULL, NULL),
					 0);
			assert_memory_equal(rb, buf + i * len, len);
			vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), rb, len);
		}
		free(back);
	}
	for (uint16_t q = 1; q <= NR_PAIRS; q++)
		vfn_nvme_qpair_destroy(qp[q]);
	vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), buf, len * PER_PAIR);
	vfn_nvme_ctrl_close(ctrl);
}

/*
 * One write on @qp, completed by interrupts only: sleep on the eventfd
 * (10 s at most each time: a lost interrupt fails here), reap, re-arm,
 * until it is done.  Returns the wake-ups it took.
 */
static unsigned int irq_write(struct vfn_nvme_qpair *qp, const struct vfn_nvme_ns_info *ns, uint64_t slba, void *buf,
			      struct pair_stat *st)
{
	struct pollfd one = { .fd = vfn_nvme_qpair_eventfd(qp), .events = POLLIN };
	unsigned int before = st->ok, wakes = 0;
	uint64_t c;

	assert_int_equal(vfn_nvme_write_async(qp, ns, slba, 1, buf, false, count_cb, st), 0);
	vfn_nvme_qpair_submit(qp);
	while (st->ok == before && wakes < 100) {
		assert_int_equal(poll(&one, 1, 10000), 1);
		assert_int_equal(read(one.fd, &c, sizeof(c)), (ssize_t)sizeof(c));
		wakes++;
		vfn_nvme_qpair_reap(qp, 0);
		vfn_nvme_qpair_irq_ack(qp);
	}
	assert_int_equal(st->ok, before + 1);
	return wakes;
}

/*
 * Forced fallback: INTx (opts.irq_mode), one vector shared by the admin
 * queue and two I/O pairs; every completion raises the line.  Guest only.
 */
static void test_intx(void **state)
{
	struct vfn_nvme_ctrl_opts copts = { .irq_mode = VFN_NVME_IRQ_INTX, .admin_irq = true };
	struct vfn_nvme_qpair_opts dflt = { .entries = 16, .irq = true };
	struct vfn_nvme_qpair_opts o = { .entries = 16, .irq = true, .vector_set = true, .vector = 0 };
	struct vfn_nvme_qpair *qp[3] = { 0 };
	struct pair_stat st[3] = { 0 };
	struct vfn_nvme_ns_info ns;
	struct vfn_nvme_ctrl *ctrl;
	unsigned int wakes = 0;
	uint8_t *buf, *rb;
	uint64_t iova;
	size_t len;
	int ret;

	(void)state;
	if (!getenv("VFN_GUEST")) {
		fprintf(stderr, "# INTx: guest only (the simulator has MSI-X only)\n");
		return;
	}
	assert_int_equal(vfn_nvme_ctrl_open(getenv("VFN_BDF"), &copts, &ctrl), 0);
	/* Admin commands complete through the INTx eventfd. */
	assert_int_equal(vfn_nvme_ns_get_info(ctrl, 1, &ns), 0);
	/* One INTx vector: vector = qid is refused, vector 0 is shared. */
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &dflt, &qp[1]), -ENOTSUP);
	for (uint16_t q = 1; q <= 2; q++)
		assert_int_equal(vfn_nvme_qpair_create(ctrl, q, &o, &qp[q]), 0);
	assert_int_equal(vfn_nvme_qpair_eventfd(qp[1]), vfn_nvme_qpair_eventfd(qp[2]));
	len = ns.lba_size;
	assert_true(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), len, (void **)&buf, &iova) > 0);
	assert_true(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), len, (void **)&rb, &iova) > 0);
	for (unsigned int i = 0; i < 32; i++) {
		uint16_t q = (uint16_t)(1 + i % 2);

		memset(buf, (int)(0x40 + i), len);
		wakes += irq_write(qp[q], &ns, 4096 + i, buf, &st[q]);
		/* The library's own wait, through the same line: read it back on the other pair. */
		assert_int_equal(vfn_nvme_read(qp[3 - q], &ns, 4096 + i, 1, rb, NULL, NULL), 0);
		assert_memory_equal(rb, buf, len);
	}
	fprintf(stderr, "# INTx: 32 interrupt-driven writes, %u wake-ups, each read back\n", wakes);
	assert_int_equal(st[1].ok + st[2].ok, 32);
	for (uint16_t q = 1; q <= 2; q++)
		vfn_nvme_qpair_destroy(qp[q]);
	vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), buf, len);
	vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), rb, len);
	vfn_nvme_ctrl_close(ctrl);

	/* MSI, forced: QEMU's nvme function has no MSI capability (VFN_TEST_MSI=0). */
	copts.irq_mode = VFN_NVME_IRQ_MSI;
	ret = vfn_nvme_ctrl_open(getenv("VFN_BDF"), &copts, &ctrl);
	fprintf(stderr, "# forcing MSI: %d\n", ret);
	if (getenv("VFN_TEST_MSI") && !atoi(getenv("VFN_TEST_MSI")))
		assert_int_equal(ret, -ENOTSUP);
	if (!ret)
		vfn_nvme_ctrl_close(ctrl);
}

/*
 * Resets keep interrupt-driven pairs working: a function-level reset (the
 * vectors routed again afterwards), then a controller reset; data written
 * before each reads back after it.
 */
static void test_resets_keep_irqs(void **state)
{
	/* Both on vector 1 (QEMU here has msix_qsize=2). */
	struct vfn_nvme_qpair_opts o = { .entries = 16, .irq = true, .vector_set = true, .vector = 1 };
	struct vfn_nvme_qpair *qp[3] = { 0 };
	struct pair_stat st = { 0 };
	struct vfn_nvme_ns_info ns;
	struct vfn_nvme_ctrl *ctrl;
	uint8_t *buf, *rb;
	uint64_t iova;
	size_t len;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open(getenv("VFN_BDF"), NULL, &ctrl), 0);
	assert_int_equal(vfn_nvme_ns_get_info(ctrl, 1, &ns), 0);
	for (uint16_t q = 1; q <= 2; q++)
		assert_int_equal(vfn_nvme_qpair_create(ctrl, q, &o, &qp[q]), 0);
	len = ns.lba_size;
	assert_true(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), len, (void **)&buf, &iova) > 0);
	assert_true(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), len, (void **)&rb, &iova) > 0);
	for (int round = 0; round < 2; round++) {
		memset(buf, 0xa0 + round, len);
		irq_write(qp[1], &ns, 200 + (uint64_t)round, buf, &st);
		assert_int_equal(round ? vfn_nvme_ctrl_reset(ctrl) : vfn_nvme_ctrl_reset_function(ctrl), 0);
		for (uint16_t q = 1; q <= 2; q++) {
			memset(rb, 0, len);
			assert_int_equal(vfn_nvme_read(qp[q], &ns, 200 + (uint64_t)round, 1, rb, NULL, NULL), 0);
			assert_memory_equal(rb, buf, len);
			irq_write(qp[q], &ns, 300 + q, buf, &st);
		}
		fprintf(stderr, "# %s reset: interrupts on both pairs, data read back\n",
			round ? "controller" : "function-level");
	}
	for (uint16_t q = 1; q <= 2; q++)
		vfn_nvme_qpair_destroy(qp[q]);
	vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), buf, len);
	vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), rb, len);
	vfn_nvme_ctrl_close(ctrl);
}

/*
 * PCI hot reset (vfn_nvme_ctrl_reset_bus()): the guest's controller sits on
 * the root bus (no bus or slot reset), the simulator has none: refused with
 * -ENOTSUP before anything stops; the controller stays ready and data
 * written before reads back after, on the same pair.
 */
static void test_bus_reset_refused(void **state)
{
	struct vfn_nvme_qpair_opts o = { .entries = 8 };
	struct vfn_nvme_qpair *qp;
	struct vfn_nvme_ns_info ns;
	struct vfn_nvme_ctrl *ctrl;
	uint8_t *buf, *rb;
	uint64_t iova;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open(getenv("VFN_BDF"), NULL, &ctrl), 0);
	assert_int_equal(vfn_nvme_ns_get_info(ctrl, 1, &ns), 0);
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &o, &qp), 0);
	assert_true(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), 2 * ns.lba_size, (void **)&buf, &iova) > 0);
	rb = buf + ns.lba_size;
	memset(buf, 0x5b, ns.lba_size);
	assert_int_equal(vfn_nvme_write(qp, &ns, 500, 1, buf, NULL, NULL), 0);
	assert_int_equal(vfn_nvme_ctrl_reset_bus(ctrl), -ENOTSUP);
	assert_int_equal(vfn_nvme_ctrl_failed(ctrl), 0);
	assert_int_equal(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CSTS) & VFN_NVME_CSTS_RDY, 1);
	memset(rb, 0, ns.lba_size);
	assert_int_equal(vfn_nvme_read(qp, &ns, 500, 1, rb, NULL, NULL), 0);
	assert_memory_equal(rb, buf, ns.lba_size);
	assert_int_equal(vfn_nvme_ctrl_reset_bus(NULL), -EINVAL);
	vfn_nvme_qpair_destroy(qp);
	vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), buf, 2 * ns.lba_size);
	vfn_nvme_ctrl_close(ctrl);
}

static char logbuf[8192];

static void log_to_buf(enum vfn_log_level level, const char *msg, void *arg)
{
	size_t len = strlen(logbuf);

	(void)level;
	(void)arg;
	snprintf(logbuf + len, sizeof(logbuf) - len, "%s\n", msg);
}

/*
 * VFN_NVME_IRQ_AUTO: the type it chose (VFN_TEST_AUTO: "msix", the
 * default, or "intx": a guest kernel booted with pci=nomsi refuses MSI-X
 * at VFIO_DEVICE_SET_IRQS and QEMU's nvme has no MSI), then admin and I/O
 * completions by interrupt on vector 0 (which every type has), each write
 * read back.
 */
static void test_auto(void **state)
{
	const char *want_s = getenv("VFN_TEST_AUTO");
	int want = want_s && !strcmp(want_s, "intx") ? VFN_NVME_IRQ_INTX : VFN_NVME_IRQ_MSIX;
	struct vfn_nvme_ctrl_opts copts = { .admin_irq = true };
	struct vfn_nvme_qpair_opts dflt = { .entries = 16, .irq = true };
	struct vfn_nvme_qpair_opts o = { .entries = 16, .irq = true, .vector_set = true, .vector = 0 };
	enum vfn_log_level level = vfn_log_get_level();
	struct vfn_nvme_qpair *qp = NULL;
	struct pair_stat st = { 0 };
	struct vfn_nvme_ns_info ns;
	struct vfn_nvme_ctrl *ctrl;
	unsigned int wakes = 0;
	uint8_t *buf, *rb;
	uint64_t iova;
	size_t len;
	int ret;

	(void)state;
	logbuf[0] = '\0';
	vfn_log_set_fn(log_to_buf, NULL);
	vfn_log_set_level(VFN_LOG_INFO);
	ret = vfn_nvme_ctrl_open(getenv("VFN_BDF"), &copts, &ctrl);
	vfn_log_set_fn(NULL, NULL);
	vfn_log_set_level(level);
	if (logbuf[0])
		fprintf(stderr, "# AUTO: %s", logbuf);
	assert_int_equal(ret, 0);
	assert_int_equal(vfn_nvme_ctrl_irq_mode(ctrl), want);
	if (want == VFN_NVME_IRQ_INTX) {
		assert_non_null(strstr(logbuf, "the kernel refused MSI-X (VFIO_DEVICE_SET_IRQS: errno 22)"));
		assert_non_null(strstr(logbuf, "no MSI-X: INTx interrupts"));
		/* One vector: vector = qid 1 is refused. */
		assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &dflt, &qp), -ENOTSUP);
		assert_null(qp);
	} else {
		assert_null(strstr(logbuf, "no MSI-X"));
	}
	assert_int_equal(vfn_nvme_ns_get_info(ctrl, 1, &ns), 0);
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &o, &qp), 0);
	len = ns.lba_size;
	assert_true(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), len, (void **)&buf, &iova) > 0);
	assert_true(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), len, (void **)&rb, &iova) > 0);
	for (unsigned int i = 0; i < 16; i++) {
		memset(buf, (int)(0x70 + i), len);
		wakes += irq_write(qp, &ns, 6000 + i, buf, &st);
		memset(rb, 0, len);
		assert_int_equal(vfn_nvme_read(qp, &ns, 6000 + i, 1, rb, NULL, NULL), 0);
		assert_memory_equal(rb, buf, len);
	}
	assert_int_equal(st.ok, 16);
	assert_int_equal(st.bad, 0);
	fprintf(stderr, "# AUTO chose %s: 16 interrupt-driven writes, %u wake-ups, each read back\n",
		want == VFN_NVME_IRQ_INTX ? "INTx" : "MSI-X", wakes);
	vfn_nvme_qpair_destroy(qp);
	vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), buf, len);
	vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), rb, len);
	vfn_nvme_ctrl_close(ctrl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_more_pairs_than_vectors),
		cmocka_unit_test(test_intx),
		cmocka_unit_test(test_resets_keep_irqs),
		cmocka_unit_test(test_bus_reset_refused),
		cmocka_unit_test(test_auto),
	};

	/* VFN_TEST_FILTER: run only the tests matching this cmocka pattern (e.g. test_auto). */
	if (getenv("VFN_TEST_FILTER"))
		cmocka_set_test_filter(getenv("VFN_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
