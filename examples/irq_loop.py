#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""An interrupt-driven I/O loop from Python: a raw queue pair whose CQ has its own MSI-X vector
routed to an eventfd; epoll on it, reap after each wakeup.

Posts a batch of Writes then a batch of Reads (one doorbell each) and sleeps
in epoll between reaps.  VFIO or sim: only (the kernel driver owns its queues).

    examples/irq_loop.py [DEVICE]
"""
import os
import select
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import vfn  # noqa: E402
from vfn import spec  # noqa: E402

N = 16
uri = sys.argv[1] if len(sys.argv) > 1 else "sim:"


def run_batch(qp, ep, opcode, buf, bs):
    for i in range(N):
        sqe = vfn.make_sqe(opcode, nsid=1, cdw10=i, cdw12=0)
        qp.set_prp(sqe, buf.sub(i * bs, bs), bs)
        qp.post(sqe)
    qp.ring()  # one doorbell for the batch
    got, wakeups = [], 0
    while len(got) < N:
        if not ep.poll(5.0):
            raise TimeoutError("no interrupt in 5 s")
        os.eventfd_read(qp.fd)  # reset the count
        wakeups += 1
        got += qp.reap(N - len(got), timeout_ms=0)
    bad = [c for c in got if c.status]
    if bad:
        raise vfn.NvmeError(bad[0])
    return wakeups


with vfn.Device(uri) as dev:
    bs = dev.namespace().lba_size
    with dev.buffer(N * bs) as wbuf, dev.buffer(N * bs) as rbuf, dev.qpair(entries=2 * N, irq=True) as qp:
        print("queue pair %d, MSI-X vector %d, eventfd %d" % (qp.qid, qp.vector, qp.fd))
        for i in range(N):
            wbuf.fill(bytes([0x41 + i]) * bs, i * bs)
        ep = select.epoll()
        ep.register(qp.fd, select.EPOLLIN)
        print("%d writes completed via interrupts (%d wakeups)" % (N, run_batch(qp, ep, spec.CMD_WRITE, wbuf, bs)))
        print("%d reads completed via interrupts (%d wakeups)" % (N, run_batch(qp, ep, spec.CMD_READ, rbuf, bs)))
        ep.close()
        assert bytes(rbuf.mem) == bytes(wbuf.mem), "read back differs"
        print("data verified: %d blocks of %d bytes" % (N, bs))
