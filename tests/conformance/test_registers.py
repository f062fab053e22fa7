# SPDX-License-Identifier: MIT
"""Controller registers and the enable / disable / shutdown state machine (NVMe Base 1.4, 3.1 and 7.6)."""
import time

import pytest

from helpers import cap_timeout_s, delete_sqe, status_of, wait_for
from vfn import spec

pytestmark = pytest.mark.needs("regs")


def test_cap_fields(ctrl):
    """3.1.1 CAP: MQES >= 1 (0's based, at least 2 entries), TO != 0, CSS bit 0 (NVM command set),
    MPSMIN <= MPSMAX."""
    cap = ctrl.cap
    assert cap.mqes >= 1
    assert cap.to >= 1
    assert cap.css & 1
    assert cap.mpsmin <= cap.mpsmax


def test_cap_read_only(ctrl):
    """3.1.1: CAP is read-only: a write does not change it."""
    before = ctrl.reg64(spec.REG_CAP)
    ctrl.write_reg32(spec.REG_CAP, (before & 0xFFFFFFFF) ^ 0xFFFF)
    time.sleep(0.01)
    assert ctrl.reg64(spec.REG_CAP) == before


def test_vs_matches_identify(ctrl):
    """3.1.2 VS: version 1.0 or later; Identify Controller VER (1.2+) reports the same value (5.15.2.2)."""
    vs = ctrl.reg32(spec.REG_VS)
    assert vs >= 0x00010000
    if vs >= 0x00010200:
        assert ctrl.id_ctrl.ver == vs


def test_enabled_state(ctrl):
    """3.1.5/3.1.6: after initialisation CC.EN = 1, IOSQES = 6 (64 bytes), IOCQES = 4 (16 bytes),
    CSTS.RDY = 1, CFS = 0, SHST = 00b; Identify SQES/CQES allow those sizes."""
    cc, csts, idc = ctrl.cc, ctrl.csts, ctrl.id_ctrl
    assert (cc.en, cc.iosqes, cc.iocqes) == (1, 6, 4)
    assert (csts.rdy, csts.cfs, csts.shst) == (1, 0, 0)
    assert idc.sqes & 0xF <= 6 <= idc.sqes >> 4
    assert idc.cqes & 0xF <= 4 <= idc.cqes >> 4


def test_aqa_matches_setup(ctrl):
    """3.1.8 AQA: ASQS/ACQS read back as written by the host (the library uses 32 entries: 31)."""
    aqa = ctrl.aqa
    assert aqa.asqs == 31 and aqa.acqs == 31


def test_disable_clears_rdy_and_queues(ctrl):
    """7.6.1 / 3.1.5: CC.EN 1 -> 0 resets the controller: CSTS.RDY goes 0 within CAP.TO and the I/O
    queues are deleted (after re-initialisation, deleting the old SQ fails with Invalid Queue
    Identifier)."""
    qp = ctrl.qpair(entries=8)
    qid = qp.qid
    qp.created_sq = qp.created_cq = False  # the controller forgets them: do not delete at free()
    ctrl.write_reg32(spec.REG_CC, ctrl.reg32(spec.REG_CC) & ~1)
    assert wait_for(lambda: ctrl.csts.rdy == 0, cap_timeout_s(ctrl))
    ctrl.reset()
    assert ctrl.csts.rdy == 1
    assert status_of(lambda: ctrl.admin_raw(delete_sqe(spec.ADMIN_DELETE_SQ, qid))) == spec.SC_QID_INVALID
    qp.free()


@pytest.mark.needs("shutdown")
def test_normal_shutdown(ctrl):
    """7.6.2 / 3.1.6: CC.SHN = 01b (normal) makes CSTS.SHST 01b then 10b (complete), within RTD3E (or
    a few seconds when 0); a controller reset brings it back to RDY with SHST 00b."""
    limit = max(ctrl.id_ctrl.rtd3e / 1e6, 5.0)  # before: no command completes after the shutdown
    cc = ctrl.reg32(spec.REG_CC)
    ctrl.write_reg32(spec.REG_CC, (cc & ~(3 << 14)) | 1 << 14)
    assert wait_for(lambda: ctrl.csts.shst == 2, limit)
    ctrl.reset()
    assert (ctrl.csts.rdy, ctrl.csts.shst) == (1, 0)
    assert ctrl.identify_ctrl().nn >= 1  # admin commands work again


def test_reenable_after_disable(ctrl):
    """7.6.1: the host may enable the controller again after a reset: RDY = 1 within CAP.TO and admin
    commands complete."""
    t0 = time.monotonic()
    ctrl.reset()
    assert time.monotonic() - t0 <= cap_timeout_s(ctrl) * 2 + 1
    assert ctrl.csts.rdy == 1
    assert ctrl.get_features(spec.FEAT_NUM_QUEUES) != 0


def test_cfs_recovery(ctrl, sim):
    """3.1.6 CSTS.CFS, 10.5: a controller with fatal status is recovered by a controller reset
    (simulated failure)."""
    sim.fatal()
    assert ctrl.csts.cfs == 1
    ctrl.reset()
    assert (ctrl.csts.cfs, ctrl.csts.rdy) == (0, 1)
