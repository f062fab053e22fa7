# SPDX-License-Identifier: MIT
"""A raw QPair with interrupts: its CQ's MSI-X vector routed to an eventfd the test waits on."""
import os
import select

import pytest

import vfn
from vfn import spec


@pytest.fixture
def dev():
    d = vfn.Device("sim:nsze=1024,sn=PYIRQ1")
    yield d
    d.close()


def test_raw_qpair_eventfd(dev):
    assert dev.irq_mode == "MSI-X"  # the simulator has MSI-X only
    ns = dev.namespace()
    ns.write(3, b"E" * 4096)
    with dev.buffer(4096) as buf, dev.qpair(entries=8, irq=True) as qp:
        assert 0 < qp.vector <= qp.qid and qp.fd >= 0
        assert not qp.wait(50)  # nothing posted: no interrupt
        sqe = vfn.make_sqe(spec.CMD_READ, nsid=1, cdw10=3, cdw12=0)
        qp.set_prp(sqe, buf, 4096)
        cid = qp.submit(sqe)
        assert select.select([qp.fd], [], [], 5.0)[0] == [qp.fd]  # the eventfd is pollable by the caller
        assert qp.wait(5000)  # consumes the count
        got = qp.reap(1, 0)
        assert len(got) == 1 and got[0].cid == cid and got[0].status == 0
        assert bytes(buf.mem[:4]) == b"EEEE"
        fd = qp.fd
    with pytest.raises(OSError):
        os.fstat(fd)  # closed with the pair


def test_one_vector():
    """sim:vectors=1 (a function on MSI or INTx has one vector): a raw pair and an IoQPair with interrupts
    both land on vector 0 and complete through it."""
    d = vfn.Device("sim:nsze=1024,vectors=1")
    try:
        d.namespace().write(5, b"V" * 4096)
        with d.buffer(4096) as buf, d.qpair(entries=8, irq=True) as qp:
            assert qp.vector == 0 and qp.fd >= 0
            sqe = vfn.make_sqe(spec.CMD_READ, nsid=1, cdw10=5, cdw12=0)
            qp.set_prp(sqe, buf, 4096)
            cid = qp.submit(sqe)
            got = []
            for _ in range(10):  # vector 0 is the admin queue's too: a wake-up may be an admin completion's
                assert qp.wait(5000)
                got = qp.reap(1, 0)
                if got:
                    break
            assert len(got) == 1 and got[0].cid == cid and got[0].status == 0
            assert bytes(buf.mem[:4]) == b"VVVV"
        with d.io_qpair(irq=True) as iq:
            assert iq.eventfd >= 0
    finally:
        d.close()
