/* SPDX-License-Identifier: MIT */
/*
 * cmb: the Controller Memory Buffer (<vfn/cmb.h>, docs/cmb.md).
 *
 * Shows what CMBLOC/CMBSZ say about the CMB, enables it (CMBMSC on an NVMe
 * 1.4 controller), creates an I/O queue pair whose submission queue ring is
 * in the CMB, writes a pattern from a data buffer in the CMB, reads it back
 * into another CMB buffer and into host memory, and compares.  Prints each
 * step.  Needs a VFIO-bound controller with a CMB, e.g. QEMU's
 * -device nvme,cmb_size_mb=16; namespace 1 is written at LBA 0..7.
 *
 *   examples/cmb DEVICE
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <vfn/vfn.h>

#define NLB 8

static int fail(const char *what, int ret)
{
	fprintf(stderr, "cmb: %s: %s\n", what, strerror(-ret));
	return 1;
}

/* Byte i of LBA @lba: "LBA n " markers over a counter, so a misplaced block is visible. */
static void pattern(unsigned char *p, size_t len, size_t lba_size)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 7 + i / lba_size);
	for (size_t off = 0; off < len; off += lba_size)
		snprintf((char *)p + off, 16, "LBA %zu", off / lba_size);
}

int main(int argc, char **argv)
{
	const char *uri = argc > 1 ? argv[1] : "sim:";
	struct vfn_nvme_qpair_opts qo = { .entries = 16, .sq_cmb = true };
	struct vfn_nvme_cmb_info info;
	struct vfn_nvme_ns_info ns;
	struct vfn_nvme_qpair *qp = NULL;
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_nvme_cqe cqe;
	struct vfn_dev *dev;
	unsigned char *wbuf, *rbuf, *hbuf, *expect;
	uint64_t waddr, raddr, msc, sq_addr;
	size_t len, left;
	ssize_t hlen;
	int ret;
	uint16_t qid;

	ret = vfn_dev_open(uri, NULL, &dev);
	if (ret)
		return fail("open", ret);
	ctrl = vfn_dev_nvme_ctrl(dev);
	if (!ctrl)
		return fail("the CMB needs VFIO (the kernel path has no BAR access)", -ENOTSUP);

	/* 1. What the registers say (CMBMSC.CRE is set first on a 1.4 controller). */
	ret = vfn_nvme_cmb_get_info(ctrl, &info);
	if (ret == -ENOTSUP) {
		fprintf(stderr,
			"cmb: %s has no Controller Memory Buffer (CAP.CMBS = 0, CMBSZ = 0): "
			"try QEMU's -device nvme,cmb_size_mb=16\n",
			uri);
		return 1;
	}
	if (ret)
		return fail("CMBLOC/CMBSZ", ret);
	printf("CMB: %llu bytes (%llu MiB) in BAR%u at offset 0x%llx, %s scheme\n", (unsigned long long)info.size,
	       (unsigned long long)(info.size >> 20), info.bar, (unsigned long long)info.offset,
	       info.msc ? "NVMe 1.4 CMBMSC" : "NVMe 1.3 legacy");
	printf("CMB may hold: SQs %d, CQs %d, PRP lists %d, read data %d, write data %d\n", info.sqs, info.cqs,
	       info.lists, info.rds, info.wds);
	if (!info.sqs || !info.rds || !info.wds)
		return fail("this example puts an SQ and read and write data in the CMB", -ENOTSUP);

	/* 2. Enable: map the BAR, CMBMSC = CBA | CMSE | CRE. */
	ret = vfn_nvme_cmb_enable(ctrl);
	if (ret)
		return fail("enable", ret);
	if (info.msc) {
		msc = vfn_nvme_reg_read64(ctrl, VFN_NVME_REG_CMBMSC);
		printf("enabled: CMBMSC 0x%llx (CRE %d, CMSE %d, CBA 0x%llx), CMBSTS.CBAI %u\n",
		       (unsigned long long)msc, (int)(msc & 1), (int)(msc >> 1 & 1),
		       (unsigned long long)(msc & ~0xfffull),
		       vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CMBSTS) & VFN_NVME_CMBSTS_CBAI);
	} else {
		printf("enabled: legacy CMB, live at the BAR address\n");
	}

	/* 3. A queue pair whose SQ ring is in the CMB (the CQ stays in host memory). */
	ret = vfn_nvme_ns_get_info(ctrl, 1, &ns);
	if (!ret && !ns.lba_size)
		ret = -EPROTO; /* never from the library (it checks LBADS); the divisions below rely on it */
	if (ret)
		return fail("namespace 1", ret);
	for (qid = 2; qid < 64; qid++) {
		ret = vfn_nvme_qpair_create(ctrl, qid, &qo, &qp);
		if (ret != -EBUSY)
			break;
	}
	if (ret)
		return fail("queue pair with its SQ in the CMB", ret);
	if (vfn_nvme_cmb_translate(ctrl, qp->sq.sqes, &sq_addr, &left) || sq_addr != qp->sq.iova)
		return fail("the SQ is not in the CMB", -EIO);
	printf("queue pair %u: SQ of %u entries in the CMB at controller address 0x%llx\n", (unsigned int)qid,
	       (unsigned int)qp->sq.entries, (unsigned long long)qp->sq.iova);

	/* 4. Data buffers in the CMB: write a pattern from one, read it back into the other. */
	len = (size_t)NLB * ns.lba_size;
	ret = vfn_nvme_cmb_alloc(ctrl, len, (void **)&wbuf, &waddr);
	if (!ret)
		ret = vfn_nvme_cmb_alloc(ctrl, len, (void **)&rbuf, &raddr);
	if (ret)
		return fail("CMB data buffers", ret);
	hlen = vfn_dev_buf_alloc(dev, 2 * len, (void **)&expect);
	if (hlen < 0)
		return fail("host buffer", (int)hlen);
	hbuf = expect + len;
	pattern(expect, len, ns.lba_size);
	memcpy(wbuf, expect, len); /* one copy into device memory, not byte by byte */
	memset(rbuf, 0, len);
	printf("data buffers in the CMB at 0x%llx (write) and 0x%llx (read), %d blocks of %u bytes\n",
	       (unsigned long long)waddr, (unsigned long long)raddr, NLB, ns.lba_size);

	ret = vfn_nvme_write(qp, &ns, 0, NLB, wbuf, NULL, &cqe);
	if (ret)
		return fail("write from the CMB", ret);
	ret = vfn_nvme_read(qp, &ns, 0, NLB, rbuf, NULL, &cqe);
	if (ret)
		return fail("read into the CMB", ret);
	memcpy(hbuf, rbuf, len);
	if (memcmp(hbuf, expect, len))
		return fail("read back into the CMB differs", -EIO);
	printf("wrote LBA 0-%d from the CMB, read them back into the CMB: %zu bytes equal\n", NLB - 1, len);

	/* 5. The same blocks into host memory: the data reached the media, not only the CMB. */
	memset(hbuf, 0, len);
	ret = vfn_nvme_read(qp, &ns, 0, NLB, hbuf, NULL, &cqe);
	if (ret)
		return fail("read into host memory", ret);
	if (memcmp(hbuf, expect, len))
		return fail("read back into host memory differs", -EIO);
	printf("read LBA 0-%d into host memory: %zu bytes equal (first block starts \"%s\")\n", NLB - 1, len,
	       (const char *)hbuf);

	vfn_nvme_qpair_destroy(qp);
	vfn_nvme_cmb_free(ctrl, wbuf);
	vfn_nvme_cmb_free(ctrl, rbuf);
	vfn_dev_buf_free(dev, expect, (size_t)hlen);
	vfn_dev_close(dev);
	return 0;
}
