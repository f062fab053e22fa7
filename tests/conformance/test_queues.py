# SPDX-License-Identifier: MIT
"""I/O queue management: Create/Delete I/O CQ/SQ, their order and error statuses
(NVMe Base 1.4, 5.3 to 5.7, 7.6.1 and Figure 126)."""
import pytest

import vfn
from helpers import create_cq_sqe, create_sq_sqe, delete_sqe, known_deviation, status_of
from vfn import spec

pytestmark = pytest.mark.needs("queues")


@pytest.fixture
def qmem(ctrl):
    """Page-aligned memory for a CQ and an SQ of up to 64 entries, and a free queue id (the highest)."""
    with ctrl.buffer(64 * 1024) as b:
        yield b.iova, b.iova + 32 * 1024, ctrl.nr_io_queues


def _st(ctrl, sqe):
    return status_of(lambda: ctrl.admin_raw(sqe))


def test_create_delete_in_order(ctrl, qmem):
    """7.6.1 / 5.3-5.7: CQ before SQ, SQ deleted before its CQ: every step succeeds and the pair can be
    created again."""
    cq, sq, qid = qmem
    for _ in range(2):
        ctrl.admin_raw(create_cq_sqe(qid, 15, cq))
        ctrl.admin_raw(create_sq_sqe(qid, 15, sq, qid))
        ctrl.admin_raw(delete_sqe(spec.ADMIN_DELETE_SQ, qid))
        ctrl.admin_raw(delete_sqe(spec.ADMIN_DELETE_CQ, qid))


def test_create_cq_qid_0(ctrl, qmem):
    """5.3 (Figure 153): Queue Identifier 0 (the admin queue) is Invalid Queue Identifier."""
    cq, _, _ = qmem
    assert _st(ctrl, create_cq_sqe(0, 15, cq)) == spec.SC_QID_INVALID


def test_create_cq_qid_beyond_granted(ctrl, qmem):
    """5.3: a Queue Identifier above the number of queues allocated (Number of Queues) is Invalid Queue
    Identifier."""
    cq, _, qid = qmem
    ncqa = (ctrl.get_features(spec.FEAT_NUM_QUEUES) >> 16) + 1
    assert _st(ctrl, create_cq_sqe(ncqa + 1, 15, cq)) == spec.SC_QID_INVALID


def test_create_cq_existing_qid(ctrl, qmem):
    """5.3: creating a CQ whose identifier exists is Invalid Queue Identifier."""
    cq, _, qid = qmem
    ctrl.admin_raw(create_cq_sqe(qid, 15, cq))
    try:
        assert _st(ctrl, create_cq_sqe(qid, 15, cq)) == spec.SC_QID_INVALID
    finally:
        ctrl.admin_raw(delete_sqe(spec.ADMIN_DELETE_CQ, qid))


def test_create_cq_size_zero(ctrl, qmem):
    """5.3 / 4.1.3: QSIZE 0 (one entry, below the minimum of two) is Invalid Queue Size."""
    cq, _, qid = qmem
    assert _st(ctrl, create_cq_sqe(qid, 0, cq)) == spec.SC_QUEUE_SIZE


def test_create_cq_size_beyond_mqes(ctrl, qmem):
    """5.3 / 3.1.1: QSIZE above CAP.MQES is Invalid Queue Size."""
    cq, _, qid = qmem
    mqes = ctrl.cap.mqes
    if mqes == 0xFFFF:
        pytest.skip("CAP.MQES is 65535: no larger size can be asked for")
    assert _st(ctrl, create_cq_sqe(qid, mqes + 1, cq)) == spec.SC_QUEUE_SIZE


def test_create_cq_invalid_vector(ctrl, qmem):
    """5.3 (Figure 154): IEN = 1 with an Interrupt Vector beyond the controller's (0xFFFF: more than any
    MSI-X table holds) is Invalid Interrupt Vector."""
    cq, _, qid = qmem
    assert _st(ctrl, create_cq_sqe(qid, 15, cq, ien=True, iv=0xFFFF)) == spec.SC_INVALID_VECTOR


def test_create_cq_not_contiguous_cqr(ctrl, qmem):
    """5.3 / 3.1.1: PC = 0 when CAP.CQR = 1 (contiguous queues required) is Invalid Field in Command."""
    cq, _, qid = qmem
    if not ctrl.cap.cqr:
        pytest.skip("CAP.CQR is 0: non-contiguous queues are allowed")
    assert _st(ctrl, create_cq_sqe(qid, 15, cq, pc=False)) == spec.SC_INVALID_FIELD


def test_create_cq_misaligned_base(ctrl, qmem):
    """5.3 (Figure 152): a contiguous queue's PRP Entry 1 must be memory-page aligned: an offset is
    Invalid PRP Offset."""
    cq, _, qid = qmem
    assert _st(ctrl, create_cq_sqe(qid, 15, cq + 64)) in (spec.SC_INVALID_PRP_OFFSET, spec.SC_INVALID_FIELD)


def test_create_sq_missing_cq(ctrl, qmem):
    """5.4 (Figure 157): an SQ whose CQID names no existing CQ is Completion Queue Invalid."""
    _, sq, qid = qmem
    assert _st(ctrl, create_sq_sqe(qid, 15, sq, qid)) == spec.SC_CQ_INVALID


def test_delete_cq_in_use(ctrl, qmem):
    """5.6 (Figure 163): deleting a CQ an SQ still posts to is Invalid Queue Deletion; after the SQ is
    deleted it succeeds."""
    cq, sq, qid = qmem
    ctrl.admin_raw(create_cq_sqe(qid, 15, cq))
    ctrl.admin_raw(create_sq_sqe(qid, 15, sq, qid))
    assert _st(ctrl, delete_sqe(spec.ADMIN_DELETE_CQ, qid)) == spec.SC_INVALID_QUEUE_DELETION
    ctrl.admin_raw(delete_sqe(spec.ADMIN_DELETE_SQ, qid))
    ctrl.admin_raw(delete_sqe(spec.ADMIN_DELETE_CQ, qid))


@pytest.mark.parametrize("opcode", [spec.ADMIN_DELETE_SQ, spec.ADMIN_DELETE_CQ], ids=["sq", "cq"])
def test_delete_missing_queue(ctrl, qmem, opcode):
    """5.6 / 5.7: deleting a queue that does not exist, or the admin queue (0), is Invalid Queue
    Identifier."""
    _, _, qid = qmem
    st = _st(ctrl, delete_sqe(opcode, qid))
    known_deviation(ctrl, st == spec.SC_CQ_INVALID, "Delete I/O CQ of a missing queue is Completion Queue Invalid")
    assert st == spec.SC_QID_INVALID
    assert _st(ctrl, delete_sqe(opcode, 0)) == spec.SC_QID_INVALID


def test_io_on_created_queue(ctrl, ns):
    """4.1 / 7.2: a queue pair created by the host carries I/O: a Write then a Read through it return the
    data, and each CQE names the SQ and its head."""
    with ctrl.buffer(3 * 4096) as buf, ctrl.qpair(entries=4) as qp:
        buf.mem[:ns.lba_size] = b"\x5a" * ns.lba_size
        w = qp.execute(qp.set_prp(_rw(spec.CMD_WRITE, ns), buf, ns.lba_size))
        buf.mem[:ns.lba_size] = bytes(ns.lba_size)
        r = qp.execute(qp.set_prp(_rw(spec.CMD_READ, ns), buf, ns.lba_size))
        assert bytes(buf.mem[:ns.lba_size]) == b"\x5a" * ns.lba_size
        assert (w.sqid, r.sqid) == (qp.qid, qp.qid)
        assert (w.sqhd, r.sqhd) == (1, 2)


def _rw(op, ns, slba=0):
    return vfn.make_sqe(op, nsid=ns.nsid, cdw10=slba, cdw12=0)
