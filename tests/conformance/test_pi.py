# SPDX-License-Identifier: MIT
"""End-to-end data protection (NVMe Base 1.4, 8.3; PRINFO in Read/Write, 6.9 / 6.15): a write with
PRACT=1 (the controller generates the protection information) reads back with every PRCHK check; a wrong
expected reference tag is End-to-end Reference Tag Check Error (284h), a corrupted guard End-to-end
Guard Check Error (282h).

Runs on a namespace formatted with PI (DPS type 1-3) and exactly 8 bytes of metadata (so PRACT=1
moves no metadata to or from the host); on sim: the group runs with ms=8,pi=1.  Uses a raw queue pair
(the metadata pointer of the corrupting write is set by hand).
"""
import struct

import pytest

import vfn
from vfn import spec

pytestmark = [pytest.mark.needs("pi", "queues"), pytest.mark.sim_opts("ms=8,pi=1")]

PRACT, PRCHK_GUARD, PRCHK_APP, PRCHK_REF = 1 << 29, 1 << 28, 1 << 27, 1 << 26
SC_GUARD_CHECK, SC_REF_TAG_CHECK, SC_INVALID_PI = 0x282, 0x284, 0x181
SLBA = 5


@pytest.fixture
def pi_ns(dev):
    """(nsid, PI type, block size) of the first active namespace formatted with PI and 8 metadata bytes."""
    for nsid in dev.ns_list():
        idn = dev.identify_ns(nsid)
        if idn.dps & 7 and idn.lbaf[idn.flbas & 0xF].ms == 8:
            return nsid, idn.dps & 7, idn.lba_size
    pytest.skip("needs pi: no active namespace formatted with protection information (DPS type 1-3) and "
                "8-byte metadata (Identify Namespace DPS / LBAF.MS)")


def rw(qp, opcode, nsid, slba, data, prinfo, reftag, meta=None):
    """Read/Write of one block through @qp: PRINFO (CDW12 bits 29:26), ILBRT (CDW14), app tag/mask 0."""
    sqe = vfn.make_sqe(opcode, nsid=nsid, cdw10=slba, cdw12=prinfo, cdw14=reftag)
    qp.set_prp(sqe, data, data.size)
    if meta is not None:
        sqe.mptr = meta.iova
    return qp.execute(sqe, check=False).status & 0x7FF  # SCT << 8 | SC (More, DNR dropped)


def test_pract_write_prchk_read(dev, pi_ns, qpair, buf):
    """8.3.1 / 8.3.2: with PRACT=1 the controller generates the PI on a write and checks and strips it
    on a read; a read with PRCHK guard, application and reference tag checks of what was written with
    the same initial reference tag succeeds and returns the data."""
    nsid, _, bs = pi_ns
    data, back = buf.sub(0, bs), buf.sub(bs, bs)
    data.fill(b"P" * bs)
    assert rw(qpair, spec.CMD_WRITE, nsid, SLBA, data, PRACT | PRCHK_GUARD | PRCHK_REF, SLBA) == 0
    assert rw(qpair, spec.CMD_READ, nsid, SLBA, back, PRACT | PRCHK_GUARD | PRCHK_APP | PRCHK_REF, SLBA) == 0
    assert bytes(back.mem) == b"P" * bs


def corrupt_pi(qp, nsid, bs, data, meta, fill, offset, size):
    """Writes a block with PRACT=1, reads its PI back raw (PRACT=0: 8 bytes to @meta), inverts the
    @size-byte field at @offset of the tuple and writes data and tuple back raw with no checks."""
    data.fill(fill * bs)
    assert rw(qp, spec.CMD_WRITE, nsid, SLBA, data, PRACT, SLBA) == 0
    assert rw(qp, spec.CMD_READ, nsid, SLBA, data, 0, SLBA, meta) == 0
    assert bytes(data.mem) == fill * bs
    fmt = ">H" if size == 2 else ">I"
    struct.pack_into(fmt, meta.mem, offset, struct.unpack_from(fmt, meta.mem, offset)[0] ^ (1 << 8 * size) - 1)
    assert rw(qp, spec.CMD_WRITE, nsid, SLBA, data, 0, SLBA, meta) == 0


def test_wrong_ref_tag(dev, pi_ns, qpair, buf):
    """8.3.1.4 / Figure 142 (types 1 and 2): a block whose stored reference tag differs from the
    expected one (ILBRT), read with PRCHK reference tag, is End-to-end Reference Tag Check Error (284h);
    the same read checking only the guard succeeds."""
    nsid, pit, bs = pi_ns
    if pit == 3:
        pytest.skip("needs pi type 1 or 2: type 3 does not check the reference tag (DPS = 3)")
    data, meta = buf.sub(0, bs), buf.sub(bs, 4096)
    corrupt_pi(qpair, nsid, bs, data, meta, b"R", 4, 4)
    assert rw(qpair, spec.CMD_READ, nsid, SLBA, data, PRACT | PRCHK_REF, SLBA) == SC_REF_TAG_CHECK
    assert rw(qpair, spec.CMD_READ, nsid, SLBA, data, PRACT | PRCHK_GUARD, SLBA) == 0


def test_type1_ilbrt_not_slba(dev, pi_ns, qpair, buf):
    """8.3.1.4 / 6.9 (PRINFO, ILBRT): on a type 1 namespace a read checking the reference tag whose
    ILBRT is not the low 32 bits of its SLBA is Invalid Protection Information (181h)."""
    nsid, pit, bs = pi_ns
    if pit != 1:
        pytest.skip("needs pi type 1: the namespace is type %d" % pit)
    data = buf.sub(0, bs)
    assert rw(qpair, spec.CMD_WRITE, nsid, SLBA, data, PRACT, SLBA) == 0
    assert rw(qpair, spec.CMD_READ, nsid, SLBA, data, PRACT | PRCHK_REF, SLBA + 1) == SC_INVALID_PI


def test_corrupted_guard(dev, pi_ns, qpair, buf):
    """8.3.1.4 / Figure 142: a block whose stored guard does not match its data fails a read with PRCHK
    guard as End-to-end Guard Check Error (282h); the same read checking only the reference tag
    succeeds."""
    nsid, _, bs = pi_ns
    data, meta = buf.sub(0, bs), buf.sub(bs, 4096)
    corrupt_pi(qpair, nsid, bs, data, meta, b"G", 0, 2)
    assert rw(qpair, spec.CMD_READ, nsid, SLBA, data, PRACT | PRCHK_GUARD, SLBA) == SC_GUARD_CHECK
    assert rw(qpair, spec.CMD_READ, nsid, SLBA, data, PRACT | PRCHK_REF, SLBA) == 0  # only the guard is bad
