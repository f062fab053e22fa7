/* SPDX-License-Identifier: MIT */
/*
 * irq_loop: an interrupt-driven I/O loop.
 *
 * Creates an I/O queue pair whose completion queue has its own MSI-X vector
 * routed to an eventfd, queues a batch of Writes then a batch of Reads, and
 * sleeps in epoll_wait() on the eventfd between reaps: no spinning.  Prints
 * how many completions arrived and after how many wakeups, and checks the
 * data read back.  VFIO or sim: (the kernel path owns its queues).
 *
 *   examples/irq_loop [DEVICE]
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <vfn/vfn.h>

#define NR_CMDS 32

static unsigned int done, failed;

static void complete(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	(void)qp;
	(void)rq;
	done++;
	if (vfn_nvme_cqe_status(cqe))
		failed++;
}

static int fail(const char *what, int ret)
{
	fprintf(stderr, "irq_loop: %s: %s\n", what, strerror(-ret));
	return 1;
}

/* Sleeps on the eventfd until @want completions were reaped; returns the wakeups or -errno. */
static int wait_irqs(int ep, int efd, struct vfn_nvme_qpair *qp, unsigned int want)
{
	struct epoll_event ev;
	uint64_t count;
	int wakeups = 0;

	while (done < want) {
		int n = epoll_wait(ep, &ev, 1, 5000);

		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		if (read(efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
			return -errno;
		wakeups++;
		vfn_nvme_qpair_reap(qp, 0);
		/* INTx: VFIO masked the line when it fired; re-arm it once reaped (a no-op on MSI-X and MSI). */
		vfn_nvme_qpair_irq_ack(qp);
	}
	return wakeups;
}

int main(int argc, char **argv)
{
	const char *uri = argc > 1 ? argv[1] : "sim:";
	struct vfn_nvme_qpair_opts qo = { .entries = 64, .irq = true };
	struct epoll_event ev = { .events = EPOLLIN };
	struct vfn_nvme_ns_info ns;
	struct vfn_nvme_qpair *qp = NULL;
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_dev *dev;
	unsigned char *buf;
	ssize_t len;
	int ret, efd, ep, w1, w2;
	uint16_t qid;

	ret = vfn_dev_open(uri, NULL, &dev);
	if (ret)
		return fail("open", ret);
	ctrl = vfn_dev_nvme_ctrl(dev);
	if (!ctrl)
		return fail("raw queues need VFIO or sim:", -ENOTSUP);
	ret = vfn_nvme_ns_get_info(ctrl, 1, &ns);
	if (ret)
		return fail("namespace 1", ret);
	if (ns.ms)
		return fail("namespace 1 has metadata", -ENOTSUP);

	/* The device handle may own low queue ids: take the first free pair. */
	for (qid = 2; qid < 64; qid++) {
		ret = vfn_nvme_qpair_create(ctrl, qid, &qo, &qp);
		if (ret == -ENOTSUP && !qo.vector_set) {
			/* No vector qid (MSI or INTx have one): share vector 0, as the admin queue does. */
			qo.vector_set = true;
			ret = vfn_nvme_qpair_create(ctrl, qid, &qo, &qp);
		}
		if (ret != -EBUSY)
			break;
	}
	if (ret)
		return fail("queue pair with an interrupt", ret);
	efd = vfn_nvme_qpair_eventfd(qp);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev))
		return fail("epoll", -errno);
	printf("queue pair %u, %s vector %d, eventfd %d\n", (unsigned int)qid,
	       vfn_nvme_ctrl_irq_mode(ctrl) == VFN_NVME_IRQ_INTX  ? "INTx"
	       : vfn_nvme_ctrl_irq_mode(ctrl) == VFN_NVME_IRQ_MSI ? "MSI"
								  : "MSI-X",
	       qp->cq.vector, efd);

	len = vfn_dev_buf_alloc(dev, 2 * NR_CMDS * (size_t)ns.lba_size, (void **)&buf);
	if (len < 0)
		return fail("buffer", (int)len);
	for (unsigned int i = 0; i < NR_CMDS; i++)
		memset(buf + (size_t)i * ns.lba_size, 'A' + (int)(i % 26), ns.lba_size);

	for (unsigned int i = 0; i < NR_CMDS; i++) {
		ret = vfn_nvme_write_async(qp, &ns, i, 1, buf + (size_t)i * ns.lba_size, false, complete, NULL);
		if (ret)
			return fail("write", ret);
	}
	vfn_nvme_qpair_submit(qp); /* one doorbell for the batch */
	w1 = wait_irqs(ep, efd, qp, NR_CMDS);
	if (w1 < 0)
		return fail("waiting for the writes", w1);
	printf("%d writes completed via interrupts (%d wakeups)\n", NR_CMDS, w1);

	done = 0;
	for (unsigned int i = 0; i < NR_CMDS; i++) {
		ret = vfn_nvme_read_async(qp, &ns, i, 1, buf + (size_t)(NR_CMDS + i) * ns.lba_size, false, complete,
					  NULL);
		if (ret)
			return fail("read", ret);
	}
	vfn_nvme_qpair_submit(qp);
	w2 = wait_irqs(ep, efd, qp, NR_CMDS);
	if (w2 < 0)
		return fail("waiting for the reads", w2);
	printf("%d reads completed via interrupts (%d wakeups)\n", NR_CMDS, w2);

	if (failed)
		return fail("a command failed", -EIO);
	if (memcmp(buf, buf + (size_t)NR_CMDS * ns.lba_size, (size_t)NR_CMDS * ns.lba_size))
		return fail("read back", -EIO);
	printf("data verified: %d blocks of %u bytes\n", NR_CMDS, ns.lba_size);

	close(ep);
	vfn_nvme_qpair_destroy(qp);
	vfn_dev_buf_free(dev, buf, (size_t)len);
	vfn_dev_close(dev);
	return 0;
}
