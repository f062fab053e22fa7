#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A raw I/O queue pair from Python: craft SQEs, ring the doorbell yourself, reap CQEs.

Writes a block through the library, then posts a batch of Reads with chosen
command ids on a queue pair of 4 entries (so it wraps), one doorbell for
the batch, and a command with an unknown opcode to show the error status.
VFIO or sim: only (the kernel driver owns its queues).

    examples/raw_queue.py [DEVICE]
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import vfn  # noqa: E402
from vfn import spec  # noqa: E402

uri = sys.argv[1] if len(sys.argv) > 1 else "sim:"
with vfn.Device(uri) as dev:
    ns = dev.namespace()
    ns.write(0, b"raw!" * (ns.lba_size // 4))
    with dev.buffer(4 * 4096) as buf, dev.qpair(entries=4) as qp:
        print("queue pair %d, %d entries" % (qp.qid, qp.entries))
        for batch in range(2):
            cids = []
            for i in range(3):  # 3 = entries - 1: a full ring
                sqe = vfn.make_sqe(spec.CMD_READ, nsid=ns.nsid, cdw10=0, cdw12=0)
                qp.set_prp(sqe, buf.sub(i * 4096, 4096), ns.lba_size)
                cids.append(qp.post(sqe, cid=0x100 * (batch + 1) + i))
            qp.ring()  # one doorbell for the batch
            for cqe in qp.reap(3):
                print("  cid %#06x: %s, sq head %d" % (cqe.cid, vfn.status_name(cqe.status), cqe.sqhd))
        print("  data: %r" % bytes(buf.mem[:8]))
        cqe = qp.execute(vfn.make_sqe(0x7E, nsid=ns.nsid), check=False)
        print("  opcode 0x7e: %s (SCT %d, SC %#x, DNR %d)" % (vfn.status_name(cqe.status), cqe.status >> 8 & 7,
                                                             cqe.status & 0xFF, cqe.status >> 14 & 1))
