# SPDX-License-Identifier: MIT
"""NVM command set I/O: LBA range, MDTS, FUA, Flush, Write Zeroes, DSM, Compare
(NVMe Base 1.4, 6.x and 4.6.1)."""
import pytest

import vfn
from helpers import status_of
from vfn import spec


def _pattern(ns, nlb, seed):
    return bytes((seed + i) & 0xFF for i in range(ns.lba_size)) * nlb


def test_lba_out_of_range(ns):
    """6.9 / 4.6.1.2.2 (Figure 127): a Read starting at NSZE, or running past it, is LBA Out of Range."""
    assert status_of(lambda: ns.read(ns.nsze)) == spec.SC_LBA_RANGE
    assert status_of(lambda: ns.read(ns.nsze - 1, 2)) == spec.SC_LBA_RANGE
    assert status_of(lambda: ns.write(ns.nsze, bytes(ns.lba_size))) == spec.SC_LBA_RANGE


def test_last_lba(ns):
    """6.9 / 6.15: the last LBA (NSZE - 1) is readable and writable."""
    data = _pattern(ns, 1, 7)
    ns.write(ns.nsze - 1, data)
    assert ns.read(ns.nsze - 1) == data


def test_invalid_nsid(dev, ns):
    """4.6.1.2.1 (Figure 126): an I/O command for an NSID that is not active and not 0xFFFFFFFF is Invalid
    Namespace or Format."""
    bad = vfn.make_sqe(spec.CMD_READ, nsid=dev.id_ctrl.nn + 1, cdw12=0)
    assert status_of(lambda: dev.io(bad, ns.lba_size)) == spec.SC_INVALID_NS


def test_invalid_io_opcode(dev, ns):
    """4.6.1.2.1: an unsupported I/O opcode is Invalid Command Opcode."""
    assert status_of(lambda: dev.io(vfn.make_sqe(0x7E, nsid=ns.nsid))) == spec.SC_INVALID_OPCODE


def test_nlb_zeros_based(ns):
    """6.15 (Figure 403): NLB is 0's based: NLB 0 writes exactly one block, leaving the next one alone."""
    a, b = _pattern(ns, 2, 1), _pattern(ns, 1, 99)
    ns.write(20, a)
    ns.write(20, b)
    assert ns.read(20, 2) == b + a[ns.lba_size:]


@pytest.mark.needs("mdts", "queues")
def test_mdts(ctrl, ns):
    """5.15.2.2 MDTS: a transfer of exactly 2^MDTS minimum pages succeeds; one block more is Invalid Field
    in Command (4.6.1.2.1)."""
    page = 1 << (12 + ctrl.cap.mpsmin)
    limit = (1 << ctrl.id_ctrl.mdts) * page
    with ctrl.buffer(limit + ns.lba_size + 2 * page) as buf, ctrl.qpair(entries=4) as qp:
        ok = vfn.make_sqe(spec.CMD_READ, nsid=ns.nsid, cdw12=limit // ns.lba_size - 1)
        qp.execute(qp.set_prp(ok, buf, limit))
        over = vfn.make_sqe(spec.CMD_READ, nsid=ns.nsid, cdw12=limit // ns.lba_size)
        cqe = qp.execute(qp.set_prp(over, buf, limit + ns.lba_size), check=False)
        assert cqe.status & 0x7FF == spec.SC_INVALID_FIELD


def test_fua_write_read(ns):
    """6.15 (Figure 403, FUA bit 30): a Write and a Read with Force Unit Access complete and return the
    data written."""
    data = _pattern(ns, 4, 3)
    ns.write(40, data, fua=True)
    assert ns.read(40, 4, fua=True) == data


def test_flush(ns):
    """6.8: Flush of the namespace completes successfully; data written before it reads back."""
    data = _pattern(ns, 1, 11)
    ns.write(50, data)
    ns.flush()
    assert ns.read(50) == data


@pytest.mark.needs("write_zeroes")
def test_write_zeroes(ns):
    """6.16: Write Zeroes over a range makes it read as zeros; the block after it is untouched."""
    data = _pattern(ns, 5, 21)
    ns.write(60, data)
    ns.write_zeroes(60, 4)
    got = ns.read(60, 5)
    assert got[:4 * ns.lba_size] == bytes(4 * ns.lba_size)
    assert got[4 * ns.lba_size:] == data[4 * ns.lba_size:]


@pytest.mark.needs("dsm")
def test_dsm_deallocate(ns):
    """6.7: Dataset Management with AD completes; when DLFEAT bits 2:0 = 001b (6.7.1.1, Figure 249)
    deallocated blocks read as zeros."""
    data = _pattern(ns, 2, 31)
    ns.write(70, data)
    ns.deallocate([(70, 1)])
    got = ns.read(70, 2)
    if ns.id.dlfeat & 7 == 1:
        assert got[:ns.lba_size] == bytes(ns.lba_size)
    assert got[ns.lba_size:] == data[ns.lba_size:]


@pytest.mark.needs("compare")
def test_compare(ns):
    """6.4: Compare of equal data succeeds; of different data it is Compare Failure (SCT 2h, SC 85h)."""
    data = _pattern(ns, 1, 41)
    ns.write(80, data)
    ns.compare(80, data)
    assert status_of(lambda: ns.compare(80, _pattern(ns, 1, 42))) == spec.SC_COMPARE_FAILED
