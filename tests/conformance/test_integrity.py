# SPDX-License-Identifier: MIT
"""Data integrity: what is written is read back, across sizes, overlaps and queues (NVMe Base 1.4,
6.9 Read, 6.15 Write)."""
import os

import pytest

import vfn
from vfn import spec


@pytest.mark.parametrize("nlb", [1, 3, 8, 32])
def test_roundtrip_sizes(ns, nlb):
    """6.9 / 6.15: random data of @nlb blocks written at an odd LBA reads back unchanged."""
    data = os.urandom(nlb * ns.lba_size)
    ns.write(101, data)
    assert ns.read(101, nlb) == data


def test_max_transfer_roundtrip(dev, ns):
    """6.9 / 6.15 with MDTS: a write and read of the largest transfer the device allows (capped at
    1 MiB) keeps every byte."""
    size = min(dev.info.max_xfer or (1 << 20), 1 << 20)
    nlb = size // ns.lba_size
    data = os.urandom(nlb * ns.lba_size)
    with dev.buffer(len(data)) as buf:
        buf.mem[:] = data
        ns._rw(spec.CMD_WRITE, 200, nlb, buf)
        buf.mem[:] = bytes(len(data))
        ns._rw(spec.CMD_READ, 200, nlb, buf)
        assert bytes(buf.mem) == data


def test_overlapping_writes(ns):
    """6.15: a later write over part of an earlier one wins there; the rest of the earlier one stays."""
    a, b = os.urandom(8 * ns.lba_size), os.urandom(3 * ns.lba_size)
    ns.write(300, a)
    ns.write(302, b)
    s = ns.lba_size
    assert ns.read(300, 8) == a[:2 * s] + b + a[5 * s:]


def test_async_queue_many(dev, ns):
    """4.1 / 6.15: 64 writes in flight on one queue (depth 16), each to its own LBA, then read back."""
    s = ns.lba_size
    blocks = [os.urandom(s) for _ in range(64)]
    done = []
    with dev.buffer(64 * s) as buf, dev.queue(16) as q:
        for i, blk in enumerate(blocks):
            while q.inflight >= 16:
                q.wait()
            buf.mem[i * s:(i + 1) * s] = blk
            sqe = vfn.make_sqe(spec.CMD_WRITE, nsid=ns.nsid, cdw10=400 + i, cdw12=0)
            q.submit(sqe, buf.sub(i * s, s), lambda ret, cqe, i=i: done.append((i, ret, cqe.status)))
        while q.inflight:
            q.wait()
    assert sorted(done) == [(i, 0, 0) for i in range(64)]
    assert b"".join(ns.read(400 + i, 16) for i in range(0, 64, 16)) == b"".join(blocks)


def test_data_survives_reset(ctrl, ns):
    """7.3.2: a controller reset does not change namespace data."""
    data = os.urandom(2 * ns.lba_size)
    ns.write(500, data)
    ns.flush()
    ctrl.reset()
    assert ns.read(500, 2) == data
