# SPDX-License-Identifier: MIT
"""Abort, asynchronous events, resets and recovery (NVMe Base 1.4, 5.1, 5.2, 7.3, 10.x).

The tests marked sim use the simulator's fault injection (<vfn/sim.h>) to
make the controller misbehave on purpose."""
import time

import pytest

import vfn
from helpers import known_deviation, temp_thresh, wait_for
from vfn import spec


def _read(ns, slba=0):
    return vfn.make_sqe(spec.CMD_READ, nsid=ns.nsid, cdw10=slba, cdw12=0)


@pytest.mark.needs("queues")
def test_abort_unknown_command(ctrl):
    """5.1 (Figure 144): Abort of a command id that is not outstanding completes successfully with DW0
    bit 0 = 1 (not aborted)."""
    with ctrl.qpair(entries=4) as qp:
        assert ctrl.abort(qp.qid, 0xBEEF) is False


@pytest.mark.needs("queues")
def test_abort_delayed_command(ctrl, ns, sim):
    """5.1: Abort of an outstanding command: DW0 bit 0 = 0 and the command completes with Command Abort
    Requested (00h/07h) (the simulator holds the Read back 5 s so that it is outstanding)."""
    sim.fault("delay", opcode=spec.CMD_READ, delay_ms=5000)
    with ctrl.buffer(2 * 4096) as buf, ctrl.qpair(entries=4) as qp:
        cid = qp.submit(qp.set_prp(_read(ns), buf, ns.lba_size))
        assert qp.reap(1, 50) == []
        t0 = time.monotonic()
        assert ctrl.abort(qp.qid, cid) is True
        (cqe,) = qp.reap(1, 2000)
        assert time.monotonic() - t0 < 2.0
        assert cqe.cid == cid and cqe.status & 0x7FF == spec.SC_ABORT_REQ


@pytest.mark.needs("queues")
def test_dropped_completion_timeout_abort_reset(ctrl, ns, sim):
    """5.1, 7.3.2, 10.x: the application's recovery path when a completion never comes.  The simulator
    drops the Read's completion; the application times out, sends Abort (the command already ran, so
    not found: DW0 bit 0 = 1), then resets the controller; afterwards a new queue carries I/O again and
    the data is intact."""
    data = b"\xc3" * ns.lba_size
    ns.write(7, data)
    sim.fault("drop", opcode=spec.CMD_READ)
    qp = ctrl.qpair(entries=4)
    with ctrl.buffer(2 * 4096) as buf:
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            qp.execute(qp.set_prp(_read(ns, 7), buf, ns.lba_size), timeout_ms=300)
        assert time.monotonic() - t0 >= 0.3
        assert sim.armed == 0  # the fault fired
        cid = qp.next_cid - 1
        assert ctrl.abort(qp.qid, cid) is False  # executed, nothing left to abort
        ctrl.reset()
        assert ctrl.csts.rdy == 1 and ctrl.failed == 0
        qp.created_sq = qp.created_cq = False  # the reset deleted them on the controller
        qp.free()
        with ctrl.qpair(entries=4) as qp2:
            buf.mem[:ns.lba_size] = bytes(ns.lba_size)
            cqe = qp2.execute(qp2.set_prp(_read(ns, 7), buf, ns.lba_size))
            assert cqe.status == 0 and bytes(buf.mem[:ns.lba_size]) == data


def test_dropped_completion_device_path(dev, ns, sim):
    """7.3.2: the same through the library's own queue: a dropped Read times out (TimeoutError), a reset
    recovers, the next Read returns the data."""
    data = b"\x3c" * ns.lba_size
    ns.write(9, data)
    sim.fault("drop", opcode=spec.CMD_READ)
    with pytest.raises(TimeoutError):
        dev.io(_read(ns, 9), ns.lba_size, timeout_ms=300)
    dev.reset()
    assert ns.read(9) == data


def test_status_fault_is_reported(dev, ns, sim):
    """4.6.1 (Figure 125): the status the controller posts reaches the application unchanged: SCT, SC,
    More and DNR (an Unrecovered Read Error, 02h/81h, injected by the simulator)."""
    sim.fault("status", opcode=spec.CMD_READ, sct=2, sc=0x81, dnr=True, more=True)
    with pytest.raises(vfn.NvmeError) as e:
        ns.read(0)
    assert (e.value.sct, e.value.sc, e.value.dnr, e.value.more) == (2, 0x81, True, True)
    assert e.value.name == vfn.status_name(0x281)


@pytest.mark.needs("regs")
def test_controller_reset_restores_features(ctrl):
    """7.3.2 / 5.21: after a controller reset features are back to their defaults (Temperature
    Threshold)."""
    cur, new = temp_thresh(ctrl)
    ctrl.set_features(spec.FEAT_TEMP_THRESH, new)
    assert ctrl.get_features(spec.FEAT_TEMP_THRESH) & 0xFFFF == new
    ctrl.reset()
    got = ctrl.get_features(spec.FEAT_TEMP_THRESH) & 0xFFFF
    known_deviation(ctrl, got == new, "Temperature Threshold keeps its value across a controller reset")
    assert got == cur


@pytest.mark.needs("regs")
def test_surprise_removal(ctrl, sim):
    """10.x / 3.1: a removed device reads all-ones; commands fail with ENODEV, not a hang."""
    import errno
    sim.remove()
    assert ctrl.reg32(spec.REG_CSTS) == 0xFFFFFFFF
    with pytest.raises(OSError) as e:
        ctrl.get_features(spec.FEAT_ARBITRATION)
    assert e.value.errno == errno.ENODEV


@pytest.mark.needs("regs")
def test_never_ready_reset_times_out(ctrl, sim):
    """7.6.1 / 3.1.1 CAP.TO: a controller that does not become ready fails the reset after CAP.TO; once it
    behaves, a reset succeeds."""
    sim.never_ready(True)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        ctrl.reset()
    assert time.monotonic() - t0 >= ctrl.cap.to * 0.5
    sim.never_ready(False)
    ctrl.reset()
    assert ctrl.csts.rdy == 1


@pytest.mark.needs("regs")
def test_aer_injected_event(ctrl, sim):
    """5.2 (Figure 146): an asynchronous event completes an outstanding AER with DW0 = type | info << 8 |
    log page << 16."""
    ctrl.enable_aer()
    sim.event(0x2, 0x01, 0x02)
    assert wait_for(lambda: ctrl.poll_admin() or ctrl.events, 2.0)
    assert ctrl.events == [0x00020102]


@pytest.mark.needs("regs")
def test_aer_temperature_and_rae(ctrl):
    """5.2 / 5.21.1.4 / 5.14 RAE: crossing the over-temperature threshold raises a SMART / Health event
    (type 1h, info 01h, log 02h); its type stays masked while the log is read with RAE = 1 and is
    re-armed by a read with RAE = 0."""
    ctrl.set_features(spec.FEAT_ASYNC_EVENT, 1 << 1)  # report temperature warnings
    ctrl.enable_aer()
    over = ctrl.get_features(spec.FEAT_TEMP_THRESH)

    def cross():
        ctrl.set_features(spec.FEAT_TEMP_THRESH, over)
        ctrl.set_features(spec.FEAT_TEMP_THRESH, 1)  # 1 K: the composite temperature is above it

    cross()
    if not wait_for(lambda: ctrl.poll_admin() or ctrl.events, 3.0):
        pytest.skip("no SMART event after crossing the over-temperature threshold (the controller may not "
                    "implement temperature events)")
    assert ctrl.events[0] & 0xFFFF07 == 0x020101
    ctrl.events.clear()
    ctrl.get_log(spec.LOG_SMART, 512, rae=True)
    cross()
    time.sleep(0.2)
    ctrl.poll_admin()
    assert ctrl.events == []  # still masked
    ctrl.get_log(spec.LOG_SMART, 512, rae=False)
    cross()
    assert wait_for(lambda: ctrl.poll_admin() or ctrl.events, 3.0)
    ctrl.set_features(spec.FEAT_TEMP_THRESH, over)
