/* SPDX-License-Identifier: MIT */
/*
 * sim_recovery: test your own recovery code against a misbehaving controller.
 *
 * Opens the simulated controller, makes it drop the completion of the next
 * Read (<vfn/sim.h>), and runs the recovery an application would: the read
 * times out, Abort is sent for nothing it can find, the controller is reset,
 * and the data is read again.  Then an injected error status, as the
 * application sees it.  Exits 0 when every step went as expected.
 *
 *   examples/sim_recovery [sim:OPTIONS]
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vfn/vfn.h>

#define OP_READ 0x02

static int fail(const char *what, int ret)
{
	fprintf(stderr, "sim_recovery: %s: %s\n", what, strerror(-ret));
	return 1;
}

int main(int argc, char **argv)
{
	const char *uri = argc > 1 ? argv[1] : "sim:";
	struct vfn_dev_opts opts = { .timeout_ms = 300 };
	struct vfn_sim_fault drop = { .action = VFN_SIM_FAULT_DROP, .sqid = -1, .opcode = OP_READ };
	struct vfn_sim_fault bad = { .action = VFN_SIM_FAULT_STATUS, .sqid = -1, .opcode = OP_READ };
	struct vfn_nvme_cqe cqe;
	struct vfn_nvme_sqe sqe = { .opcode = OP_READ, .nsid = vfn_cpu_to_le32(1) };
	static char data[4096], back[4096];
	struct vfn_dev *dev;
	struct vfn_sim *sim;
	uint16_t st;
	int ret;

	ret = vfn_dev_open(uri, &opts, &dev);
	if (ret)
		return fail("open", ret);
	sim = vfn_dev_sim(dev);
	if (!sim) {
		vfn_dev_close(dev);
		return fail("not a sim: device", -ENOTSUP);
	}
	memset(data, 0xa5, sizeof(data));
	ret = vfn_dev_write(dev, 1, 0, 1, data);
	if (ret)
		return fail("write", ret);

	/* 1. The controller drops the Read's completion: the application times out. */
	vfn_sim_fault_add(sim, &drop);
	ret = vfn_dev_read(dev, 1, 0, 1, back);
	printf("read with a dropped completion: %s\n", strerror(-ret));
	if (ret != -ETIMEDOUT)
		return fail("expected a timeout", ret);

	/*
	 * 2. Abort finds nothing: the command ran, only its completion was lost.
	 * (The device handle does not tell command ids; the read was the second
	 * command on the handle's queue, SQ 1, so cid 1 — the raw queue API and
	 * the Python QPair know theirs.)
	 */
	ret = vfn_nvme_abort(vfn_dev_nvme_ctrl(dev), 1, 1);
	printf("abort: %s\n", ret == -ENOENT ? "not found" : ret ? strerror(-ret) : "aborted");
	/* 3. ...so reset the controller, and read again. */
	ret = vfn_nvme_ctrl_reset(vfn_dev_nvme_ctrl(dev));
	if (ret)
		return fail("reset", ret);
	ret = vfn_dev_read(dev, 1, 0, 1, back);
	if (ret || memcmp(data, back, sizeof(data)))
		return fail("read after reset", ret ? ret : -EIO);
	printf("reset, read again: data intact\n");

	/* 4. An Unrecovered Read Error (SCT 2h, SC 81h, DNR), exactly as posted. */
	bad.status = vfn_sim_status(VFN_NVME_SCT_MEDIA, 0x81, false, true);
	vfn_sim_fault_add(sim, &bad);
	ret = vfn_dev_io(dev, &sqe, back, sizeof(back), &cqe, 0);
	st = vfn_nvme_cqe_status(&cqe);
	printf("injected status: %s (SCT %u SC 0x%02x DNR %d)\n", vfn_nvme_status_str(st), vfn_nvme_status_sct(st),
	       vfn_nvme_status_sc(st), vfn_nvme_status_dnr(st));
	vfn_dev_close(dev);
	return ret == -EIO && vfn_nvme_status_sc(st) == 0x81 ? 0 : 1;
}
