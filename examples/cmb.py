#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The Controller Memory Buffer from Python (the twin of examples/cmb.c; docs/cmb.md, docs/python.md).

Shows what CMBLOC/CMBSZ say about the CMB, enables it, creates an I/O queue
pair whose SQ ring is in the CMB, writes a pattern from a CmbBuffer (a
memoryview on the CMB itself), reads it back into another CmbBuffer and
into host memory, and compares.  Needs a VFIO-bound controller with a CMB,
e.g. QEMU's -device nvme,cmb_size_mb=16; namespace 1 is written at LBA 8..15.

    examples/cmb.py DEVICE
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import vfn  # noqa: E402
from vfn import spec  # noqa: E402

NLB, SLBA = 8, 8
uri = sys.argv[1] if len(sys.argv) > 1 else "sim:"


def rw(qp, opcode, buf, bs):
    return qp.io(vfn.make_sqe(opcode, nsid=1, cdw10=SLBA, cdw12=NLB - 1), buf, NLB * bs)


with vfn.Device(uri) as dev:
    try:
        info = dev.cmb_info()
    except OSError as e:
        sys.exit("cmb.py: %s: try QEMU's -device nvme,cmb_size_mb=16" % e.strerror)
    print("CMB: %d bytes (%d MiB) in BAR%d at offset %#x, %s scheme" %
          (info.size, info.size >> 20, info.bar, info.offset, "NVMe 1.4 CMBMSC" if info.msc else "NVMe 1.3 legacy"))
    print("CMB may hold: SQs %d, CQs %d, PRP lists %d, read data %d, write data %d" %
          (info.sqs, info.cqs, info.lists, info.rds, info.wds))

    dev.cmb_enable()
    if info.msc:
        msc = spec.cmbmsc(dev.reg64(spec.REG_CMBMSC))
        print("enabled: CMBMSC CRE %d, CMSE %d, CBA %#x, CMBSTS.CBAI %d" %
              (msc.cre, msc.cmse, msc.cba, spec.cmbsts(dev.reg32(spec.REG_CMBSTS)).cbai))

    bs = dev.namespace(1).lba_size
    # each block: "py LBA n" then a counter, so a misplaced block shows
    data = b"".join(("py LBA %d " % (SLBA + b)).encode().ljust(16, b".") + bytes((i * 13 + b) & 0xFF
                                                                                 for i in range(16, bs))
                    for b in range(NLB))
    with dev.io_qpair(entries=16, sq_cmb=True) as qp, dev.cmb_buffer(NLB * bs) as w, \
            dev.cmb_buffer(NLB * bs) as r:
        print("queue pair %d: SQ of %d entries in the CMB at controller address %#x" %
              (qp.qid, qp.sq.entries, qp.sq.iova))
        print("data buffers in the CMB at %#x (write) and %#x (read), %d blocks of %d bytes" %
              (w.iova, r.iova, NLB, bs))
        w.mem[:] = data  # one copy into the CMB through the memoryview
        r.mem[:] = bytes(len(r))
        rw(qp, spec.CMD_WRITE, w, bs)
        rw(qp, spec.CMD_READ, r, bs)
        back = bytes(r.mem)
        assert back == data, "read back into the CMB differs"
        print("wrote LBA %d-%d from the CMB, read them back into the CMB: %d bytes equal" %
              (SLBA, SLBA + NLB - 1, len(back)))
    host = dev.namespace(1).read(SLBA, NLB)
    assert host == data, "read back into host memory differs"
    print("read LBA %d-%d into host memory: %d bytes equal (first block starts %r)" %
          (SLBA, SLBA + NLB - 1, len(host), host[:8]))
