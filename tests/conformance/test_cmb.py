# SPDX-License-Identifier: MIT
"""The Controller Memory Buffer (NVMe Base 1.4, 3.1.12-3.1.15 CMBLOC/CMBSZ/CMBMSC/CMBSTS, 4.7): what the
registers say, enabling it, and commands whose submission queue, data or PRP lists are in it.

Every test needs a CMB (skipped with the reason otherwise: the simulator has none); QEMU's
``-device nvme,cmb_size_mb=N`` has one (the ``conformance-cmb`` guest test, which also sets
$VFN_TEST_CMB_MB so the size is checked against what QEMU was configured with).
"""
import errno
import os

import pytest

import vfn
from vfn import spec


def _rw(qp, ns, opcode, slba, nlb, buf):
    sqe = vfn.make_sqe(opcode, nsid=ns.nsid, cdw10=slba & 0xFFFFFFFF, cdw11=slba >> 32, cdw12=nlb - 1)
    return qp.io(sqe, buf, nlb * ns.lba_size)


def _pattern(n, seed):
    """@n bytes, different for every 4-byte word and @seed."""
    return b"".join(((seed * 0x9E3779B1 + i * 2654435761) & 0xFFFFFFFF).to_bytes(4, "little")
                    for i in range(n // 4))


@pytest.mark.needs("cmb")
def test_cmb_info_matches_registers(ctrl):
    """3.1.12 / 3.1.13: the size is CMBSZ.SZ x 4 KiB << (4 x SZU), the BAR CMBLOC.BIR (0, 2-5), the offset
    CMBLOC.OFST in the same unit; NVMe 1.4's CAP.CMBS selects the CMBMSC scheme."""
    info = ctrl.cmb_info()  # sets CMBMSC.CRE on a 1.4 controller first
    sz, loc = spec.cmbsz(ctrl.reg32(spec.REG_CMBSZ)), spec.cmbloc(ctrl.reg32(spec.REG_CMBLOC))
    assert sz.sz != 0 and sz.szu <= 6
    assert info.size == sz.bytes
    assert info.bar == loc.bir and loc.bir in (0, 2, 3, 4, 5)
    assert info.offset == loc.ofst << (12 + 4 * sz.szu)
    assert (info.sqs, info.cqs, info.lists, info.rds, info.wds) == (sz.sqs, sz.cqs, sz.lists, sz.rds, sz.wds)
    assert info.msc == bool(ctrl.cap.cmbs)
    mb = os.environ.get("VFN_TEST_CMB_MB")
    if mb:  # the guest test: what QEMU was configured with (cmb_size_mb; BAR2, SZU 1 MiB)
        assert info.size == int(mb) << 20
        assert (info.bar, sz.szu, sz.sz) == (2, 2, int(mb))


@pytest.mark.needs("cmb")
def test_cmb_enable_programs_cmbmsc(ctrl):
    """3.1.14 / 3.1.15: enabling sets CMBMSC.CRE and CMSE with a controller base address the controller
    accepts (CMBSTS.CBAI = 0); CMB memory handed out lies inside [CBA, CBA + size)."""
    info = ctrl.cmb_enable()
    assert ctrl.cmb_enable() == info  # idempotent
    with ctrl.cmb_buffer(4096) as b:
        if info.msc:
            msc = spec.cmbmsc(ctrl.reg64(spec.REG_CMBMSC))
            assert (msc.cre, msc.cmse) == (1, 1)
            assert msc.cba != 0
            assert spec.cmbsts(ctrl.reg32(spec.REG_CMBSTS)).cbai == 0
            assert msc.cba <= b.iova < msc.cba + info.size
        assert b.iova % 4096 == 0


@pytest.mark.needs("cmb")
def test_cmb_host_access_and_allocation(ctrl):
    """4.7: the CMB is memory the host reads and writes through the BAR: a pattern stored through the
    memoryview reads back; the whole CMB is allocatable once and not a byte more."""
    info = ctrl.cmb_enable()
    data = _pattern(8192, 1)
    with ctrl.cmb_buffer(8192) as b:
        b.mem[:] = data
        assert bytes(b.mem) == data
        s = b.sub(4096, 4096)
        assert s.iova == b.iova + 4096 and bytes(s.mem) == data[4096:]
        view = b.mem[0:16]
    with pytest.raises(ValueError):  # freed: the views are released, not left on the BAR
        view[0]
    with ctrl.cmb_buffer(info.size) as whole:
        with pytest.raises(OSError) as e:
            ctrl.cmb_buffer(1)
        assert e.value.errno == errno.ENOMEM
        assert len(whole) == info.size
    with ctrl.cmb_buffer(info.size):  # given back: all of it again
        pass


@pytest.mark.needs("cmb_sq", "io")
def test_io_sq_in_cmb(ctrl, ns, buf):
    """4.7 (CMBSZ.SQS): an I/O submission queue in the CMB: 24 Write/Read pairs through an 8-entry SQ (six
    laps of the ring) read back what was written; the ring's address is in the CMB, and holds CMB space
    while the pair lives."""
    info = ctrl.cmb_enable()
    bs = ns.lba_size
    with ctrl.io_qpair(entries=8, sq_cmb=True) as qp:
        if info.msc:
            cba = spec.cmbmsc(ctrl.reg64(spec.REG_CMBMSC)).cba
            assert cba <= qp.sq.iova < cba + info.size and qp.sq.entries == 8
        with pytest.raises(OSError) as e:  # the ring took a piece: the whole CMB is no longer free
            ctrl.cmb_buffer(info.size)
        assert e.value.errno == errno.ENOMEM
        w, r = buf.sub(0, bs), buf.sub(bs, bs)
        for i in range(24):
            data = _pattern(bs, 100 + i)
            w.fill(data)
            _rw(qp, ns, spec.CMD_WRITE, 64 + i, 1, w)
            r.fill(bytes(bs))
            _rw(qp, ns, spec.CMD_READ, 64 + i, 1, r)
            assert bytes(r) == data, "LBA %d" % (64 + i)
    with ctrl.cmb_buffer(info.size):  # the ring given back with the pair
        pass


@pytest.mark.needs("cmb_data", "io")
def test_data_in_cmb(ctrl, ns):
    """4.7 (CMBSZ.WDS, RDS): a Write whose data is in the CMB and a Read into the CMB: the Read brings back
    the pattern, and so does a Read of the same blocks into host memory (the data reached the media)."""
    nlb = 8
    n = nlb * ns.lba_size
    data = _pattern(n, 7)
    with ctrl.io_qpair(entries=16) as qp, ctrl.cmb_buffer(n) as w, ctrl.cmb_buffer(n) as r:
        w.mem[:] = data
        _rw(qp, ns, spec.CMD_WRITE, 200, nlb, w)
        _rw(qp, ns, spec.CMD_READ, 200, nlb, r)
        assert bytes(r.mem) == data
    assert ns.read(200, nlb) == data


@pytest.mark.needs("cmb_sq", "cmb_data", "io")
def test_sq_and_data_in_cmb(ctrl, ns):
    """4.7: SQ and data both in the CMB: the controller fetches the commands and moves the data without a
    host-memory access besides its completion queue."""
    nlb = 4
    n = nlb * ns.lba_size
    with ctrl.io_qpair(entries=4, sq_cmb=True) as qp, ctrl.cmb_buffer(n) as w, ctrl.cmb_buffer(n) as r:
        for lap in range(3):
            data = _pattern(n, 300 + lap)
            w.mem[:] = data
            _rw(qp, ns, spec.CMD_WRITE, 300 + lap * nlb, nlb, w)
            _rw(qp, ns, spec.CMD_READ, 300 + lap * nlb, nlb, r)
            assert bytes(r.mem) == data


@pytest.mark.needs("cmb_lists", "io")
def test_prp_lists_in_cmb(ctrl, ns, buf):
    """4.7 (CMBSZ.LISTS): a 64 KiB transfer (a PRP list) whose list is in the CMB, data in host memory."""
    n = min(64 * 1024, ctrl.id_ctrl.mdts and 4096 << ctrl.id_ctrl.mdts or 64 * 1024)
    nlb = n // ns.lba_size
    data = _pattern(n, 11)
    with ctrl.io_qpair(entries=8, lists_cmb=True) as qp:
        w, r = buf.sub(0, n), buf.sub(n, n)
        w.fill(data)
        _rw(qp, ns, spec.CMD_WRITE, 400, nlb, w)
        _rw(qp, ns, spec.CMD_READ, 400, nlb, r)
        assert bytes(r) == data


@pytest.mark.needs("cmb_sq", "io")
def test_raw_sq_in_cmb(ctrl, ns, buf):
    """4.7 / 5.4: Create I/O Submission Queue with PRP1 a CMB address: crafted SQEs posted into the CMB ring
    (a 4-entry ring wrapped twice by 8 commands, one doorbell each) complete and the data reads back."""
    info = ctrl.cmb_enable()
    bs = ns.lba_size
    with ctrl.qpair(entries=4, sq_cmb=True) as qp:
        if info.msc:
            cba = spec.cmbmsc(ctrl.reg64(spec.REG_CMBMSC)).cba
            assert cba <= qp.sq.iova < cba + info.size
        data = _pattern(2 * bs, 500)
        w, r = buf.sub(0, 2 * bs), buf.sub(64 * 1024, 2 * bs)
        w.fill(data)
        for i in range(4):  # 8 commands: Write LBA 500+i, Read it back, two per doorbell
            wr = vfn.make_sqe(spec.CMD_WRITE, nsid=ns.nsid, cdw10=500 + i, cdw12=0)
            qp.set_prp(wr, w, bs, offset=(i % 2) * bs)
            rd = vfn.make_sqe(spec.CMD_READ, nsid=ns.nsid, cdw10=500 + i, cdw12=0)
            qp.set_prp(rd, r, bs, offset=(i % 2) * bs)
            qp.post(wr)
            qp.ring()
            assert [c.status for c in qp.reap(1)] == [0]
            qp.post(rd)
            qp.ring()
            assert [c.status for c in qp.reap(1)] == [0]
            assert bytes(r.mem[(i % 2) * bs:(i % 2 + 1) * bs]) == data[(i % 2) * bs:(i % 2 + 1) * bs]
