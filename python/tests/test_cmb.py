# SPDX-License-Identifier: MIT
"""The CMB bindings where there is no CMB (the simulator): each call fails with OSError ENOTSUP naming
the reason, nothing is left allocated, and the pytest capabilities skip with their reason.  The CMB
itself is exercised by tests/conformance/test_cmb.py in the guest (meson test conformance-cmb) and by
examples/cmb.py (meson test examples)."""
import errno

import pytest

import vfn
from vfn import spec
from vfn.pytest_plugin import CAPABILITIES


@pytest.fixture
def dev():
    d = vfn.Device("sim:sn=PYCMB1")
    yield d
    d.close()


def _enotsup(fn, *a, **kw):
    with pytest.raises(OSError) as e:
        fn(*a, **kw)
    assert e.value.errno == errno.ENOTSUP
    return str(e.value)


def test_no_cmb_info(dev):
    assert dev.cap.cmbs == 0 and dev.reg32(spec.REG_CMBSZ) == 0
    msg = _enotsup(dev.cmb_info)
    assert msg == "[Errno 95] sim:sn=PYCMB1 has no Controller Memory Buffer (CAP.CMBS = 0, CMBSZ = 0)"


def test_no_cmb_enable_buffer_queues(dev):
    assert "has no Controller Memory Buffer" in _enotsup(dev.cmb_enable)
    assert "has no Controller Memory Buffer" in _enotsup(dev.cmb_buffer, 4096)
    assert "has no Controller Memory Buffer" in _enotsup(dev.io_qpair, sq_cmb=True)
    assert "has no Controller Memory Buffer" in _enotsup(dev.io_qpair, lists_cmb=True)
    assert "has no Controller Memory Buffer" in _enotsup(dev.qpair, sq_cmb=True)
    # nothing half-made: a queue pair and a raw pair still come up, with every qid free
    assert not dev._qids and not dev._pairs
    with dev.io_qpair() as qp:
        assert not qp.sq_cmb
    with dev.qpair() as qp:
        assert qp.sq_cmb is None


def test_cmb_capabilities_skip_with_reason(dev):
    assert CAPABILITIES["cmb"](dev) == (False, "no controller memory buffer (CAP.CMBS = 0, CMBSZ = 0)")
    for cap in ("cmb_sq", "cmb_data", "cmb_lists"):
        assert CAPABILITIES[cap](dev) == (False, "no controller memory buffer (CAP.CMBS = 0, CMBSZ = 0)")


def test_cmb_register_decoders():
    """QEMU 7.2's values with cmb_size_mb=16 (docs/cmb.md): CMBSZ SQS|LISTS|RDS|WDS, SZU 2, SZ 16."""
    sz = spec.cmbsz(16 << 12 | 2 << 8 | 0x1D)
    assert (sz.sqs, sz.cqs, sz.lists, sz.rds, sz.wds, sz.szu, sz.sz) == (1, 0, 1, 1, 1, 2, 16)
    assert sz.bytes == 16 << 20
    assert spec.cmbsz(7 << 8 | 1 << 12).bytes == 0  # SZU 7: reserved
    loc = spec.cmbloc(2 | 3 << 12)
    assert (loc.bir, loc.ofst) == (2, 3)
    msc = spec.cmbmsc(0xFD000003)
    assert (msc.cre, msc.cmse, msc.cba) == (1, 1, 0xFD000000)
    assert spec.cmbmsc(0x1_0000_0000_2001).cba == 0x1_0000_0000_2000
    assert spec.cmbsts(1).cbai == 1


def test_io_qpair_sq_view(dev):
    """IoQPair.sq: the pair's struct vfn_sq (its ring address, size and qid), unusable after close()."""
    qp = dev.io_qpair(entries=16)
    assert (qp.sq.entries, qp.sq.qid) == (16, qp.qid)
    assert qp.sq.iova != 0 and qp.sq.iova % 4096 == 0
    qp.close()
    with pytest.raises(ValueError):
        qp.sq

