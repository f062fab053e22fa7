/* SPDX-License-Identifier: MIT */
/*
 * Interrupt type fallback when the kernel refuses one (issue 14): VFIO's
 * ioctls faked (ld --wrap=ioctl) so that VFIO_DEVICE_SET_IRQS refuses to
 * switch MSI-X (then MSI) on.  vfn_vfio_irq_auto() moves on to MSI, then
 * INTx; a controller opened with VFN_NVME_IRQ_AUTO over the VFIO device
 * interface (hw-vfio.c's operations on the faked device, the simulator
 * behind them for registers, commands and the interrupts themselves) ends
 * up on the fallback type, its pair's eventfd routed on that VFIO index,
 * and completes I/O through it.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/vfio.h>

#include <vfn/nvme.h>
#include <vfn/rq.h>
#include <vfn/vfio.h>

#include "nvme/ctrl-priv.h"
#include "nvme/hw.h"
#include "vfio/vfio-priv.h"

#define FAKE_FD 99
#define MSIX_VECS 65

/* The faked kernel: counts per VFIO IRQ index, which types it refuses, what is on. */
static unsigned int fake_count[3] = { 1, 1, MSIX_VECS }; /* INTx, MSI, MSI-X */
static int fake_refuse[3];	  /* errno SET_IRQS gives when switching it on; < 0: only -that many vectors */
static int fake_on = -1;	  /* the index switched on, -1: none */
static unsigned int fake_granted; /* vectors of fake_on the kernel gave */
static unsigned int fake_unmasks;

/* Every VFIO_DEVICE_SET_IRQS seen, and whether it was accepted. */
struct set_call {
	uint32_t flags, index, start, count;
	int32_t fd0; /* first eventfd (DATA_EVENTFD), else -2 */
	int err;     /* 0 or the errno given */
};
static struct set_call calls[64];
static unsigned int ncalls;

int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

static int fake_set_irqs(struct vfio_irq_set *set)
{
	struct set_call *c = &calls[ncalls < 64 ? ncalls++ : 63];
	int err = 0;

	c->flags = set->flags;
	c->index = set->index;
	c->start = set->start;
	c->count = set->count;
	c->fd0 = (set->flags & VFIO_IRQ_SET_DATA_EVENTFD) && set->count ? ((int32_t *)set->data)[0] : -2;
	assert_true(set->index <= VFIO_PCI_MSIX_IRQ_INDEX);
	if (set->flags & VFIO_IRQ_SET_ACTION_UNMASK) {
		if (fake_on != VFIO_PCI_INTX_IRQ_INDEX || set->index != VFIO_PCI_INTX_IRQ_INDEX)
			err = EINVAL;
		else
			fake_unmasks++;
	} else if ((set->flags & VFIO_IRQ_SET_DATA_NONE) && !set->count) {
		if (fake_on != (int)set->index)
			err = EINVAL;
		else
			fake_on = -1;
	} else if (set->flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		if (set->start + set->count > fake_count[set->index])
			err = EINVAL;
		else if (fake_on == -1 && fake_refuse[set->index] < 0 &&
			 set->start + set->count > (unsigned int)-fake_refuse[set->index])
			err = fake_refuse[set->index]; /* vfio-pci: "only this many", the type left off */
		else if (fake_on == -1 && fake_refuse[set->index] > 0)
			err = fake_refuse[set->index];
		else if (fake_on != -1 && fake_on != (int)set->index)
			err = EINVAL; /* another type is on */
		else if (fake_on == (int)set->index && set->start + set->count > fake_granted)
			err = EINVAL; /* beyond the vectors it gave */
		else if (fake_on == -1) {
			fake_on = (int)set->index;
			fake_granted = set->start + set->count;
		}
	} else {
		err = EINVAL;
	}
	c->err = err;
	if (err < 0) /* vfio-pci: "only this many vectors", the type left off */
		return -err;
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd != FAKE_FD)
		return __real_ioctl(fd, req, arg);
	if (req == VFIO_DEVICE_GET_IRQ_INFO) {
		struct vfio_irq_info *info = arg;

		assert_true(info->index <= VFIO_PCI_MSIX_IRQ_INDEX);
		info->count = fake_count[info->index];
		info->flags = VFIO_IRQ_INFO_EVENTFD;
		return 0;
	}
	if (req == VFIO_DEVICE_SET_IRQS)
		return fake_set_irqs(arg);
	errno = ENOTTY;
	return -1;
}

static struct vfn_vfio_dev fdev;

static void fake_reset(unsigned int msix_count, int refuse_msix, int refuse_msi, int refuse_intx)
{
	memset(&fdev, 0, sizeof(fdev));
	strcpy(fdev.bdf, "0000:00:0f.0");
	fdev.fd = FAKE_FD;
	fdev.num_irqs = 5; /* INTx, MSI, MSI-X, ERR, REQ */
	fdev.irq_index = VFIO_PCI_MSIX_IRQ_INDEX;
	fdev.msix_count = msix_count;
	fake_count[VFIO_PCI_MSIX_IRQ_INDEX] = msix_count;
	fake_refuse[VFIO_PCI_MSIX_IRQ_INDEX] = refuse_msix;
	fake_refuse[VFIO_PCI_MSI_IRQ_INDEX] = refuse_msi;
	fake_refuse[VFIO_PCI_INTX_IRQ_INDEX] = refuse_intx;
	fake_on = -1;
	fake_granted = 0;
	fake_count[VFIO_PCI_MSI_IRQ_INDEX] = 1;
	fake_unmasks = 0;
	ncalls = 0;
	memset(calls, 0, sizeof(calls));
}

static void assert_call(unsigned int i, uint32_t index, uint32_t start, uint32_t count, int32_t fd0, int err)
{
	assert_true(i < ncalls);
	assert_int_equal(calls[i].index, index);
	assert_int_equal(calls[i].start, start);
	assert_int_equal(calls[i].count, count);
	assert_int_equal(calls[i].fd0, fd0);
	assert_int_equal(calls[i].err, err);
}

/* The VFIO core alone: refused MSI-X → MSI; absent MSI-X → MSI; all refused → error, nothing on. */
static void test_vfio_auto(void **state)
{
	int efd = 42; /* any number: the fake only records it */

	(void)state;
	fake_reset(MSIX_VECS, ENOSPC, 0, 0);
	assert_int_equal(vfn_vfio_irq_auto(&fdev), VFN_VFIO_IRQ_MSI);
	assert_int_equal(vfn_vfio_irq_mode(&fdev), VFN_VFIO_IRQ_MSI);
	assert_int_equal(vfn_vfio_irq_count(&fdev, VFN_VFIO_IRQ_MSI), 1);
	assert_int_equal(ncalls, 2);
	assert_call(0, VFIO_PCI_MSIX_IRQ_INDEX, 0, MSIX_VECS, -1, ENOSPC); /* refused */
	assert_call(1, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, -1, 0);		   /* on, unrouted */
	assert_int_equal(fake_on, VFIO_PCI_MSI_IRQ_INDEX);
	/* Interrupts are on: choosing again is refused until they are off. */
	assert_int_equal(vfn_vfio_irq_auto(&fdev), -EBUSY);
	/* Routing: on MSI, vector 0 only. */
	assert_int_equal(vfn_vfio_irq_enable(&fdev, 0, 1, &efd), 0);
	assert_call(2, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, 42, 0);
	assert_int_equal(vfn_vfio_irq_enable(&fdev, 1, 1, &efd), -EINVAL);
	assert_int_equal(ncalls, 3);
	assert_int_equal(vfn_vfio_irq_disable(&fdev), 0);
	assert_int_equal(fake_on, -1);

	/*
	 * vfio-pci answering "only 8 vectors" (a positive return, MSI-X left
	 * off): asked again with 8, as QEMU does, MSI-X is used with those 8.
	 */
	fake_reset(MSIX_VECS, -8, 0, 0);
	errno = 0;
	assert_int_equal(vfn_vfio_irq_auto(&fdev), VFN_VFIO_IRQ_MSIX);
	assert_int_equal(ncalls, 2);
	assert_call(0, VFIO_PCI_MSIX_IRQ_INDEX, 0, MSIX_VECS, -1, -8);
	assert_call(1, VFIO_PCI_MSIX_IRQ_INDEX, 0, 8, -1, 0);
	assert_int_equal(vfn_vfio_irq_count(&fdev, VFN_VFIO_IRQ_MSIX), 8);
	assert_int_equal(vfn_vfio_irq_enable(&fdev, 7, 1, &efd), 0);
	assert_int_equal(vfn_vfio_irq_enable(&fdev, 8, 1, &efd), -EINVAL);
	assert_int_equal(ncalls, 3);
	assert_int_equal(vfn_vfio_irq_disable(&fdev), 0);
	/* The same when routing with MSI-X forced: the 8 the kernel gives, a vector beyond them -ENOSPC. */
	fake_reset(MSIX_VECS, -8, 0, 0);
	assert_int_equal(vfn_vfio_irq_enable(&fdev, 0, 1, &efd), 0);
	assert_call(1, VFIO_PCI_MSIX_IRQ_INDEX, 0, 8, -1, 0);
	assert_call(2, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, 42, 0);
	assert_int_equal(vfn_vfio_irq_disable(&fdev), 0);
	fake_reset(MSIX_VECS, -8, 0, 0);
	assert_int_equal(vfn_vfio_irq_enable(&fdev, 10, 1, &efd), -ENOSPC);
	assert_int_equal(ncalls, 2); /* switched on with 8, vector 10 never asked for */
	assert_int_equal(vfn_vfio_irq_disable(&fdev), 0);
	assert_int_equal(fake_on, -1);

	/*
	 * Multi-message MSI on a host without interrupt remapping: MSI-X
	 * absent, MSI offers 32, the kernel gives 1.  MSI with 1 vector, not INTx.
	 */
	fake_reset(0, 0, -1, 0);
	fake_count[VFIO_PCI_MSI_IRQ_INDEX] = 32;
	assert_int_equal(vfn_vfio_irq_auto(&fdev), VFN_VFIO_IRQ_MSI);
	assert_int_equal(ncalls, 2);
	assert_call(0, VFIO_PCI_MSI_IRQ_INDEX, 0, 32, -1, -1);
	assert_call(1, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, -1, 0);
	assert_int_equal(vfn_vfio_irq_count(&fdev, VFN_VFIO_IRQ_MSI), 1);
	assert_int_equal(vfn_vfio_irq_enable(&fdev, 0, 1, &efd), 0);
	assert_int_equal(vfn_vfio_irq_enable(&fdev, 1, 1, &efd), -EINVAL);
	assert_int_equal(vfn_vfio_irq_disable(&fdev), 0);
	/* Choosing again counts MSI as VFIO offers it. */
	assert_int_equal(vfn_vfio_irq_set_mode(&fdev, VFN_VFIO_IRQ_MSI), 0);
	assert_int_equal(vfn_vfio_irq_count(&fdev, VFN_VFIO_IRQ_MSI), 32);

	/* No MSI-X capability (count 0): MSI without trying MSI-X. */
	fake_reset(0, 0, 0, 0);
	assert_int_equal(vfn_vfio_irq_auto(&fdev), VFN_VFIO_IRQ_MSI);
	assert_int_equal(ncalls, 1);
	assert_call(0, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, -1, 0);
	assert_int_equal(vfn_vfio_irq_disable(&fdev), 0);

	/* MSI-X and MSI refused: INTx. */
	fake_reset(MSIX_VECS, ENOSPC, EINVAL, 0);
	assert_int_equal(vfn_vfio_irq_auto(&fdev), VFN_VFIO_IRQ_INTX);
	assert_int_equal(ncalls, 3);
	assert_call(1, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, -1, EINVAL);
	assert_call(2, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, -1, 0);
	assert_int_equal(vfn_vfio_irq_disable(&fdev), 0);

	/* Everything refused: the last errno, the type in use as before, nothing on. */
	fake_reset(MSIX_VECS, ENOSPC, EINVAL, ENODEV);
	assert_int_equal(vfn_vfio_irq_auto(&fdev), -ENODEV);
	assert_int_equal(ncalls, 3);
	assert_int_equal(vfn_vfio_irq_mode(&fdev), VFN_VFIO_IRQ_MSIX);
	assert_int_equal(fdev.msix_count, MSIX_VECS);
	assert_false(fdev.msix_enabled);
	assert_int_equal(fake_on, -1);

	/* No interrupt at all: -ENOTSUP, nothing asked of SET_IRQS. */
	fake_reset(0, 0, 0, 0);
	fake_count[VFIO_PCI_MSI_IRQ_INDEX] = 0;
	fake_count[VFIO_PCI_INTX_IRQ_INDEX] = 0;
	assert_int_equal(vfn_vfio_irq_auto(&fdev), -ENOTSUP);
	assert_int_equal(ncalls, 0);
	fake_count[VFIO_PCI_MSI_IRQ_INDEX] = 1;
	fake_count[VFIO_PCI_INTX_IRQ_INDEX] = 1;
}

/*
 * The controller: the simulator's operations, with the interrupt ones
 * replaced by hw-vfio.c's on the faked VFIO device.  Vectors routed through
 * VFIO are also routed in the simulator, which then raises them.
 */
static const struct vfn_nvme_hw_ops *sim_ops;
static struct vfn_nvme_hw_ops test_ops;
static struct vfn_nvme_hw vfio_hw = { .priv = &fdev };

static int t_irq_count(struct vfn_nvme_hw *hw)
{
	(void)hw;
	return vfn_nvme_hw_vfio_ops.irq_count(&vfio_hw);
}

static int t_irq_enable(struct vfn_nvme_hw *hw, unsigned int start, unsigned int count, const int *efds)
{
	int ret = vfn_nvme_hw_vfio_ops.irq_enable(&vfio_hw, start, count, efds);

	return ret ? ret : sim_ops->irq_enable(hw, start, count, efds);
}

static int t_irq_disable(struct vfn_nvme_hw *hw)
{
	int ret = vfn_nvme_hw_vfio_ops.irq_disable(&vfio_hw);

	return ret ? ret : sim_ops->irq_disable(hw);
}

static int t_irq_set_mode(struct vfn_nvme_hw *hw, unsigned int index)
{
	(void)hw;
	return vfn_nvme_hw_vfio_ops.irq_set_mode(&vfio_hw, index);
}

static int t_irq_unmask(struct vfn_nvme_hw *hw)
{
	(void)hw;
	return vfn_nvme_hw_vfio_ops.irq_unmask(&vfio_hw);
}

static int t_irq_auto(struct vfn_nvme_hw *hw)
{
	(void)hw;
	return vfn_nvme_hw_vfio_ops.irq_auto(&vfio_hw);
}

static void open_ctrl(uint8_t irq_mode, struct vfn_nvme_ctrl **ctrl)
{
	struct vfn_nvme_ctrl_opts opts = { .irq_mode = irq_mode };
	struct vfn_nvme_hw hw;

	assert_int_equal(vfn_sim_hw_open("sim:", NULL, &hw), 0);
	sim_ops = hw.ops;
	test_ops = *hw.ops;
	test_ops.irq_count = t_irq_count;
	test_ops.irq_enable = t_irq_enable;
	test_ops.irq_disable = t_irq_disable;
	test_ops.irq_set_mode = t_irq_set_mode;
	test_ops.irq_unmask = t_irq_unmask;
	test_ops.irq_auto = t_irq_auto;
	hw.ops = &test_ops;
	assert_int_equal(vfn_nvme_ctrl_open_hw(&hw, &opts, ctrl), 0);
}

static void done_cb(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	int *count = rq->opaque;

	(void)qp;
	if (!(vfn_le16_to_cpu(cqe->sfp) >> 1))
		(*count)++;
}

/* A write on @qp whose completion raises the pair's eventfd (within a second), reaped. */
static void irq_write(struct vfn_nvme_qpair *qp, struct vfn_nvme_ns_info *ns, uint64_t slba, void *buf)
{
	struct pollfd pfd = { .fd = vfn_nvme_qpair_eventfd(qp), .events = POLLIN };
	uint64_t n = 0;
	int done = 0;

	assert_int_equal(vfn_nvme_write_async(qp, ns, slba, 1, buf, false, done_cb, &done), 0);
	vfn_nvme_qpair_submit(qp);
	/* Sleep on the eventfd, reap after each wake-up (a stale count may come first). */
	for (int wakes = 0; !done && wakes < 10; wakes++) {
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		assert_int_equal(read(pfd.fd, &n, sizeof(n)), (ssize_t)sizeof(n));
		assert_true(n >= 1);
		vfn_nvme_qpair_reap(qp, 0);
		vfn_nvme_qpair_irq_ack(qp);
	}
	assert_int_equal(done, 1);
}

/*
 * AUTO with MSI-X refused (then MSI too): the controller opens on the
 * fallback type, its probe switched off again; a pair on vector 0 is routed
 * on that index and its writes complete by interrupt.
 */
static void fallback_ctrl(bool refuse_msi)
{
	struct vfn_nvme_qpair_opts o = { .entries = 16, .irq = true, .vector_set = true, .vector = 0 };
	struct vfn_nvme_qpair_opts beyond = { .entries = 16, .irq = true };
	uint32_t want = refuse_msi ? VFIO_PCI_INTX_IRQ_INDEX : VFIO_PCI_MSI_IRQ_INDEX;
	struct vfn_nvme_qpair *qp = NULL, *qp2 = NULL;
	struct vfn_nvme_ns_info ns;
	struct vfn_nvme_ctrl *ctrl;
	unsigned int n0;
	uint64_t iova;
	uint8_t *buf;

	fake_reset(MSIX_VECS, ENOSPC, refuse_msi ? EINVAL : 0, 0);
	open_ctrl(VFN_NVME_IRQ_AUTO, &ctrl);
	assert_int_equal(vfn_vfio_irq_mode(&fdev), (int)want);
	assert_int_equal(vfn_nvme_ctrl_irq_mode(ctrl), refuse_msi ? VFN_NVME_IRQ_INTX : VFN_NVME_IRQ_MSI);
	assert_int_equal(ctrl->irq_level, refuse_msi);
	/* The probe: MSI-X refused, (MSI refused,) the fallback on, then off until a vector is routed. */
	assert_int_equal(ncalls, refuse_msi ? 4 : 3);
	assert_call(0, VFIO_PCI_MSIX_IRQ_INDEX, 0, MSIX_VECS, -1, ENOSPC);
	if (refuse_msi)
		assert_call(1, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, -1, EINVAL);
	assert_call(ncalls - 2, want, 0, 1, -1, 0);
	assert_int_equal(calls[ncalls - 1].flags, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER);
	assert_int_equal(calls[ncalls - 1].index, want);
	assert_int_equal(fake_on, -1);

	/* One vector: a pair on vector 1 (its qid) is refused, vector 0 works. */
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &beyond, &qp2), -ENOTSUP);
	n0 = ncalls;
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &o, &qp), 0);
	assert_int_equal(ncalls, n0 + 2);
	assert_call(n0, want, 0, 1, -1, 0);				/* switched on, unrouted */
	assert_call(n0 + 1, want, 0, 1, vfn_nvme_qpair_eventfd(qp), 0); /* the pair's eventfd */
	assert_int_equal(fake_on, (int)want);
	/* Vector 0 is the admin queue's too: what its commands raised so far is drained. */
	{
		uint64_t stale;

		(void)!read(vfn_nvme_qpair_eventfd(qp), &stale, sizeof(stale));
		if (refuse_msi)
			vfn_nvme_qpair_irq_ack(qp);
		fake_unmasks = 0;
	}

	assert_int_equal(vfn_nvme_ns_get_info(ctrl, 1, &ns), 0);
	assert_int_equal(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), 4096, (void **)&buf, &iova), 4096);
	memset(buf, 0xa5, 4096);
	for (uint64_t i = 0; i < 8; i++)
		irq_write(qp, &ns, i, buf);
	/* INTx: each acknowledged interrupt unmasked the line through VFIO; MSI: nothing to unmask. */
	if (refuse_msi)
		assert_true(fake_unmasks >= 8);
	else
		assert_int_equal(fake_unmasks, 0);
	/* Synchronous I/O waits on the fallback interrupt too. */
	for (uint64_t i = 0; i < 8; i++)
		assert_int_equal(vfn_nvme_read(qp, &ns, i, 1, buf, NULL, NULL), 0);
	assert_int_equal(buf[0], 0xa5);

	vfn_nvme_qpair_destroy(qp);
	assert_call(ncalls - 1, want, 0, 1, -1, 0); /* unrouted */
	vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), buf, 4096);
	vfn_nvme_ctrl_close(ctrl);
	assert_int_equal(vfn_vfio_irq_disable(&fdev), 0);
	assert_int_equal(fake_on, -1);
}

static void test_ctrl_msix_refused_msi(void **state)
{
	(void)state;
	fallback_ctrl(false);
}

static void test_ctrl_msix_msi_refused_intx(void **state)
{
	(void)state;
	fallback_ctrl(true);
}

/* Forced MSI-X is not a fallback: the refusal reaches the pair that asked for a vector. */
static void test_ctrl_forced_msix_refused(void **state)
{
	struct vfn_nvme_qpair_opts o = { .entries = 16, .irq = true };
	struct vfn_nvme_qpair *qp = NULL;
	struct vfn_nvme_ctrl *ctrl;

	(void)state;
	fake_reset(MSIX_VECS, ENOSPC, 0, 0);
	open_ctrl(VFN_NVME_IRQ_MSIX, &ctrl);
	assert_int_equal(ncalls, 0);
	assert_int_equal(vfn_vfio_irq_mode(&fdev), VFN_VFIO_IRQ_MSIX);
	assert_int_equal(vfn_nvme_ctrl_irq_mode(ctrl), VFN_NVME_IRQ_MSIX);
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &o, &qp), -ENOSPC);
	assert_null(qp);
	assert_int_equal(ncalls, 1);
	assert_call(0, VFIO_PCI_MSIX_IRQ_INDEX, 0, MSIX_VECS, -1, ENOSPC);
	assert_int_equal(fake_on, -1);
	vfn_nvme_ctrl_close(ctrl);
}

/* AUTO on a function without MSI-X (VFIO count 0): MSI, MSI-X never asked for. */
static void test_ctrl_msix_absent(void **state)
{
	struct vfn_nvme_ctrl *ctrl;

	(void)state;
	fake_reset(0, 0, 0, 0);
	open_ctrl(VFN_NVME_IRQ_AUTO, &ctrl);
	assert_int_equal(vfn_nvme_ctrl_irq_mode(ctrl), VFN_NVME_IRQ_MSI);
	assert_int_equal(ncalls, 2);
	assert_call(0, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, -1, 0);
	assert_int_equal(calls[1].flags, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER);
	assert_int_equal(fake_on, -1);
	vfn_nvme_ctrl_close(ctrl);
}

/* AUTO with every type refused: the controller opens (polled I/O works), no type, pairs with interrupts refused. */
static void test_ctrl_all_refused(void **state)
{
	struct vfn_nvme_qpair_opts o = { .entries = 16, .irq = true, .vector_set = true, .vector = 0 };
	struct vfn_nvme_qpair *qp = NULL;
	struct vfn_nvme_ctrl *ctrl;

	(void)state;
	fake_reset(MSIX_VECS, ENOSPC, EINVAL, ENODEV);
	open_ctrl(VFN_NVME_IRQ_AUTO, &ctrl);
	assert_int_equal(vfn_nvme_ctrl_irq_mode(ctrl), -ENOTSUP);
	assert_int_equal(ncalls, 3);
	assert_call(2, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, -1, ENODEV);
	/* Refused as unusable, the kernel not asked again (MSI-X is what the device was left on). */
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &o, &qp), -ENOTSUP);
	assert_null(qp);
	assert_int_equal(vfn_nvme_ctrl_irq_route(ctrl, 0, 42), -ENOTSUP);
	assert_int_equal(ncalls, 3);
	assert_int_equal(fake_on, -1);
	/* Polled I/O works. */
	o.irq = false;
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &o, &qp), 0);
	vfn_nvme_qpair_destroy(qp);
	vfn_nvme_ctrl_close(ctrl);
	assert_int_equal(vfn_nvme_ctrl_irq_mode(NULL), -EINVAL);
}

/* An I/O pair on @vector (by default: its qid), its writes completed by interrupt on MSI. */
static void msi_pair_io(struct vfn_nvme_ctrl *ctrl, uint16_t qid, bool dflt)
{
	struct vfn_nvme_qpair_opts o = { .entries = 16, .irq = true, .vector_set = !dflt, .vector = 0 };
	struct vfn_nvme_qpair *qp = NULL;
	struct vfn_nvme_ns_info ns;
	unsigned int n0 = ncalls;
	uint64_t iova, stale;
	uint8_t *buf;

	assert_int_equal(vfn_nvme_qpair_create(ctrl, qid, &o, &qp), 0);
	assert_int_equal(ncalls, n0 + 2);
	assert_call(n0 + 1, VFIO_PCI_MSI_IRQ_INDEX, dflt ? qid : 0, 1, vfn_nvme_qpair_eventfd(qp), 0);
	(void)!read(vfn_nvme_qpair_eventfd(qp), &stale, sizeof(stale));
	assert_int_equal(vfn_nvme_ns_get_info(ctrl, 1, &ns), 0);
	assert_int_equal(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), 4096, (void **)&buf, &iova), 4096);
	memset(buf, 0x5a, 4096);
	for (uint64_t i = 0; i < 4; i++)
		irq_write(qp, &ns, i, buf);
	vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), buf, 4096);
	vfn_nvme_qpair_destroy(qp);
}

/*
 * Multi-message MSI (MSI-X absent): the vectors a pair may use are MSI's,
 * as many as the kernel gives: 4 of 4 (pairs on vectors 1..3, vector 4
 * refused), then 1 of 32 (a host without interrupt remapping: vfio-pci
 * answers 1; MSI with vector 0, not INTx).
 */
static void test_ctrl_msi_multi(void **state)
{
	struct vfn_nvme_qpair_opts dflt = { .entries = 16, .irq = true };
	struct vfn_nvme_qpair *qp = NULL;
	struct vfn_nvme_ctrl *ctrl;

	(void)state;
	fake_reset(0, 0, 0, 0);
	fake_count[VFIO_PCI_MSI_IRQ_INDEX] = 4;
	open_ctrl(VFN_NVME_IRQ_AUTO, &ctrl);
	assert_int_equal(vfn_nvme_ctrl_irq_mode(ctrl), VFN_NVME_IRQ_MSI);
	assert_call(0, VFIO_PCI_MSI_IRQ_INDEX, 0, 4, -1, 0);
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 4, &dflt, &qp), -ENOTSUP);
	msi_pair_io(ctrl, 3, true);
	vfn_nvme_ctrl_close(ctrl);

	fake_reset(0, 0, -1, 0);
	fake_count[VFIO_PCI_MSI_IRQ_INDEX] = 32;
	open_ctrl(VFN_NVME_IRQ_AUTO, &ctrl);
	assert_int_equal(vfn_nvme_ctrl_irq_mode(ctrl), VFN_NVME_IRQ_MSI);
	assert_int_equal(ncalls, 3);
	assert_call(0, VFIO_PCI_MSI_IRQ_INDEX, 0, 32, -1, -1); /* "only 1" */
	assert_call(1, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, -1, 0);
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &dflt, &qp), -ENOTSUP);
	assert_null(qp);
	msi_pair_io(ctrl, 1, false);
	vfn_nvme_ctrl_close(ctrl);
	assert_int_equal(vfn_vfio_irq_disable(&fdev), 0);
}

/*
 * After AUTO fell back (MSI, or INTx), a controller reset and a
 * function-level reset keep the pair's interrupt on the same VFIO index:
 * the FLR's re-routing switches that type off and on again with the pair's
 * eventfd, never MSI-X; writes still complete by interrupt (INTx: unmasked).
 */
static void reset_rearms(bool refuse_msi)
{
	struct vfn_nvme_qpair_opts o = { .entries = 16, .irq = true, .vector_set = true, .vector = 0 };
	uint32_t want = refuse_msi ? VFIO_PCI_INTX_IRQ_INDEX : VFIO_PCI_MSI_IRQ_INDEX;
	struct vfn_nvme_qpair *qp = NULL;
	struct vfn_nvme_ns_info ns;
	struct vfn_nvme_ctrl *ctrl;
	uint64_t iova, stale;
	unsigned int n0;
	uint8_t *buf;

	fake_reset(MSIX_VECS, ENOSPC, refuse_msi ? EINVAL : 0, 0);
	open_ctrl(VFN_NVME_IRQ_AUTO, &ctrl);
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &o, &qp), 0);
	assert_int_equal(vfn_nvme_ns_get_info(ctrl, 1, &ns), 0);
	assert_int_equal(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), 4096, (void **)&buf, &iova), 4096);
	memset(buf, 0x3c, 4096);

	n0 = ncalls;
	assert_int_equal(vfn_nvme_ctrl_reset(ctrl), 0);
	for (unsigned int i = n0; i < ncalls; i++)
		assert_int_equal(calls[i].index, want);
	assert_int_equal(fake_on, (int)want);
	n0 = ncalls;
	assert_int_equal(vfn_nvme_ctrl_reset_function(ctrl), 0);
	assert_true(ncalls >= n0 + 2);
	for (unsigned int i = n0; i < ncalls; i++)
		assert_int_equal(calls[i].index, want);
	/* Off, then on again with the pair's eventfd on vector 0. */
	assert_int_equal(calls[n0].flags, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER);
	assert_call(ncalls - 1, want, 0, 1, vfn_nvme_qpair_eventfd(qp), 0);
	assert_int_equal(fake_on, (int)want);
	(void)!read(vfn_nvme_qpair_eventfd(qp), &stale, sizeof(stale));
	vfn_nvme_qpair_irq_ack(qp);
	fake_unmasks = 0;
	for (uint64_t i = 0; i < 4; i++)
		irq_write(qp, &ns, i, buf);
	if (refuse_msi)
		assert_true(fake_unmasks >= 4);
	/* The public re-arm for callers reading an eventfd themselves: one VFIO unmask on INTx, none on MSI. */
	n0 = fake_unmasks;
	vfn_nvme_ctrl_irq_ack(ctrl);
	vfn_nvme_ctrl_irq_ack(NULL);
	assert_int_equal(fake_unmasks, n0 + (refuse_msi ? 1 : 0));
	vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), buf, 4096);
	vfn_nvme_qpair_destroy(qp);
	vfn_nvme_ctrl_close(ctrl);
	assert_int_equal(vfn_vfio_irq_disable(&fdev), 0);
}

static void test_ctrl_reset_rearms_msi(void **state)
{
	(void)state;
	reset_rearms(false);
}

static void test_ctrl_reset_rearms_intx(void **state)
{
	(void)state;
	reset_rearms(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vfio_auto),
		cmocka_unit_test(test_ctrl_msix_refused_msi),
		cmocka_unit_test(test_ctrl_msix_msi_refused_intx),
		cmocka_unit_test(test_ctrl_forced_msix_refused),
		cmocka_unit_test(test_ctrl_all_refused),
		cmocka_unit_test(test_ctrl_msix_absent),
		cmocka_unit_test(test_ctrl_msi_multi),
		cmocka_unit_test(test_ctrl_reset_rearms_msi),
		cmocka_unit_test(test_ctrl_reset_rearms_intx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
