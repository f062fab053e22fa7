# SPDX-License-Identifier: MIT
"""End-to-end data protection (NVMe Base 1.4, 8.3; NVM Command Set 1.0, 5.2 "End-to-end Data
Protection": 16b Guard and 64b Guard Protection Information; PRINFO of Read/Write).

Every test runs on every active namespace formatted with PI that vfn's software PI (vfn.pi, over
vfn_pi_generate/verify) knows: types 1, 2 and 3, the 16-bit guard (PIF 0, 8-byte tuple) and the 64-bit
guard (PIF 2, 16-byte tuple, 48-bit reference tags), the tuple first or last in the metadata (DPS bit 3),
metadata as large as the tuple or larger, extended LBAs (MSET 1) or a separate metadata buffer.  The I/O
goes through vfn_nvme_read/write (IoQPair.read/write), which lays the metadata out for each of those.
The tests skip naming what is missing: no PI namespace (DPS), or none of the type a test needs.

On sim: the group runs with ms=8,pi=1 unless --device sets its own format (sim:ms=16,pi=2,pif=2 ...;
meson runs several: the conformance-pi-* tests); in the guest, conformance-pi boots QEMU with namespaces
of several PI formats.
"""
import os
import struct

import pytest

import vfn
from vfn import pi

pytestmark = [pytest.mark.needs("pi", "queues"), pytest.mark.sim_opts("ms=8,pi=1")]

NLB = 4  # blocks per transfer
SLBA = 8


class PiNs:
    """A PI namespace and buffers for NLB blocks laid out as it wants them."""

    def __init__(self, dev, nsid):
        self.dev, self.ns = dev, dev.namespace(nsid)
        self.info = self.ns.info
        self.fmt = pi.Format.of(self.ns)
        self.type, self.ts, self.to = self.info.pi_type, self.fmt.tuple_size, self.fmt.tuple_offset
        self.ext = self.info.mset
        self.bs = self.info.lba_size + (self.info.ms if self.ext else 0)  # bytes per block in the data buffer

    def __repr__(self):
        i = self.info
        return "nsid %d (type %d, %d+%d, pif %d, tuple %s, %s)" % (
            i.nsid, i.pi_type, i.lba_size, i.ms, i.pif, "first" if i.pi_first else "last",
            "extended" if i.mset else "separate")

    def bufs(self):
        """(data, meta) Buffers for NLB blocks (meta None on an extended namespace)."""
        data = self.dev.buffer(NLB * self.bs)
        meta = None if self.ext else self.dev.buffer(max(NLB * self.info.ms, 4096))
        return data, meta

    def meta_moves(self, prinfo):
        """Whether metadata moves with @prinfo (not when PRACT and the metadata is only the tuple)."""
        return not (prinfo & pi.PRACT and self.info.ms == self.ts)

    def io(self, qp, write, data, meta, prinfo=0, ref=None, app=0, mask=0xFFFF, slba=SLBA):
        """Read/Write NLB blocks at @slba: 0 or the status (SCT << 8 | SC) of the error."""
        if ref is None:
            ref = slba
        packed = None
        if not self.meta_moves(prinfo):
            meta = None
            if self.ext:  # PRACT and ms == the tuple: only the data moves, packed block after block
                packed = self.dev.buffer(NLB * self.info.lba_size)
                if write:
                    packed.fill(b"".join(bytes(self.block(data, i)) for i in range(NLB)))
        try:
            (qp.write if write else qp.read)(self.ns, slba, NLB, packed or data, meta.sub(0, NLB * self.info.ms)
                                             if meta else None, prinfo=prinfo, ref_tag=ref, app_tag=app,
                                             app_mask=mask)
        except vfn.NvmeError as e:
            return e.code
        if packed is not None and not write:
            n = self.info.lba_size
            for i in range(NLB):
                self.block(data, i)[:] = packed.mem[i * n:(i + 1) * n]
        return 0

    def block(self, data, i):
        """Block @i's data bytes (a memoryview)."""
        return data.mem[i * self.bs:i * self.bs + self.info.lba_size]

    def md(self, data, meta, i):
        """Block @i's metadata (a memoryview)."""
        if self.ext:
            off = i * self.bs + self.info.lba_size
            return data.mem[off:off + self.info.ms]
        return meta.mem[i * self.info.ms:(i + 1) * self.info.ms]

    def tuple(self, data, meta, i):
        """Block @i's tuple decoded: (guard, app tag, ref tag)."""
        t = bytes(self.md(data, meta, i)[self.to:self.to + self.ts])
        if self.ts == 8:
            return struct.unpack(">HHI", t)
        return struct.unpack(">QH", t[:10]) + (int.from_bytes(t[10:16], "big"),)

    def set_field(self, data, meta, i, field, value):
        """Overwrites a field ("guard", "app", "ref") of block @i's tuple."""
        off, size = {"guard": (0, 2 if self.ts == 8 else 8), "app": (2 if self.ts == 8 else 8, 2),
                     "ref": (4 if self.ts == 8 else 10, 4 if self.ts == 8 else 6)}[field]
        self.md(data, meta, i)[self.to + off:self.to + off + size] = value.to_bytes(size, "big")

    def verify(self, data, meta, ref, app=0, prchk=pi.PRCHK_ALL):
        return self.fmt.verify(data, meta, NLB, ref_tag=ref, app_tag=app, prchk=prchk)

    def fill(self, data, meta, seed):
        """Data and the metadata outside the tuple: a pattern of @seed (the tuple bytes 0)."""
        for i in range(NLB):
            self.block(data, i)[:] = bytes((seed + i + j) & 0xFF for j in range(self.info.lba_size))
            m = self.md(data, meta, i)
            m[:] = bytes((seed * 3 + i + j) & 0xFF for j in range(self.info.ms))
            m[self.to:self.to + self.ts] = bytes(self.ts)

    def extra(self, data, meta, i):
        """Block @i's metadata outside the tuple."""
        m = bytes(self.md(data, meta, i))
        return m[:self.to] + m[self.to + self.ts:]

    def all_checks(self):
        """PRCHK of all a type has: type 3 has no reference tag to check."""
        return pi.PRCHK_GUARD | pi.PRCHK_APP | (0 if self.type == 3 else pi.PRCHK_REF)


@pytest.fixture
def pins(dev):
    """Every active namespace with PI in a format vfn's software PI knows (type 1-3, PIF 0 or 2)."""
    found, other = [], []
    for nsid in dev.ns_list():
        idn = dev.identify_ns(nsid)
        if not idn.dps & 7:
            continue
        try:
            found.append(PiNs(dev, nsid))
        except OSError as e:  # a 32-bit guard, say
            other.append("nsid %d: %s" % (nsid, e))
    if not found:
        pytest.skip("needs pi: no active namespace formatted with protection information (Identify Namespace DPS "
                    "type 1-3, PIF 0 or 2)%s" % ("; " + "; ".join(other) if other else ""))
    return found


@pytest.fixture
def qp(dev):
    with dev.io_qpair() as q:
        yield q


def of_type(pins, types, why):
    sel = [p for p in pins if p.type in types]
    if not sel:
        pytest.skip("needs pi type %s: %s" % (" or ".join(map(str, types)), why))
    return sel


def test_pract_write_prchk_read(dev, pins, qp):
    """NVM CS 5.2 / Base 1.4 8.3.1: with PRACT=1 the controller generates the PI on a write; a read with
    PRACT=1 and every PRCHK check the type has returns the data (and, metadata larger than the tuple, the
    host's other metadata bytes) unchanged."""
    for p in pins:
        data, meta = p.bufs()
        p.fill(data, meta, 0x11)
        want = bytes(data.mem), [p.extra(data, meta, i) for i in range(NLB)]
        assert p.io(qp, True, data, meta, pi.PRACT | p.all_checks(), app=0x1234) == 0, p
        back, mback = p.bufs()
        assert p.io(qp, False, back, mback, pi.PRACT | p.all_checks(), app=0x1234) == 0, p
        for i in range(NLB):
            assert bytes(p.block(back, i)) == bytes(p.block(data, i)), (p, i)
            if p.meta_moves(pi.PRACT):
                assert p.extra(back, mback, i) == want[1][i], (p, i)


def test_controller_pi_verifies_in_software(dev, pins, qp):
    """NVM CS 5.2 (16b Guard: CRC-16 T10-DIF, 16-bit app tag, 32-bit ref tag; 64b Guard: CRC-64 NVM,
    48-bit ref tag) / Base 1.4 8.3.1.1-8.3.1.3: the tuples a controller generates (PRACT=1, ILBRT R, app tag
    A), read back raw (PRACT=0, no checks), are the tuples vfn computes: guard over the data (and the
    metadata before a last-placed tuple), app tag A, ref tag R + block for types 1/2 and R for type 3."""
    for p in pins:
        data, meta = p.bufs()
        p.fill(data, meta, 0x22)
        ref = SLBA if p.type == 1 else 0x5A5A01
        assert p.io(qp, True, data, meta, pi.PRACT, ref=ref, app=0xBEEF) == 0, p
        back, mback = p.bufs()
        assert p.io(qp, False, back, mback, 0, ref=ref) == 0, p
        for i in range(NLB):
            assert bytes(p.block(back, i)) == bytes(p.block(data, i)), (p, i)
            _, app, r = p.tuple(back, mback, i)
            assert app == 0xBEEF, (p, i)
            assert r == (ref + i if p.type in (1, 2) else ref), (p, i, hex(r))
        assert p.verify(back, mback, ref, 0xBEEF) is None, p
        # the guard is the CRC vfn computes, not just consistent with itself
        g0 = p.tuple(back, mback, 0)[0]
        covered = bytes(p.block(back, 0)) + (b"" if p.info.pi_first else bytes(p.md(back, mback, 0)[:p.to]))
        assert g0 == (pi.crc16_t10dif(covered) if p.ts == 8 else pi.crc64_nvme(covered)), p


def test_host_pi_accepted(dev, pins, qp):
    """NVM CS 5.2 / Base 1.4 8.3.1 (PRACT=0): tuples the host generated (vfn.pi) pass a write with every
    PRCHK check the type has, and a read with the same checks returns data and tuples unchanged."""
    for p in pins:
        data, meta = p.bufs()
        p.fill(data, meta, 0x33)
        ref = SLBA if p.type == 1 else 77
        p.fmt.generate(data, meta, NLB, ref_tag=ref, app_tag=0x0F0F)
        assert p.io(qp, True, data, meta, p.all_checks(), ref=ref, app=0x0F0F) == 0, p
        back, mback = p.bufs()
        assert p.io(qp, False, back, mback, p.all_checks(), ref=ref, app=0x0F0F) == 0, p
        assert bytes(back.mem) == bytes(data.mem), p
        if meta is not None:
            assert bytes(mback.mem[:NLB * p.info.ms]) == bytes(meta.mem[:NLB * p.info.ms]), p


def test_bad_guard_on_write(dev, pins, qp):
    """Base 1.4 8.3.1.4 / NVM CS 5.2 (PRACT=0 with PRCHK guard on a write): a tuple whose guard does not
    match the data is End-to-end Guard Check Error (282h) and the blocks are not written."""
    for p in pins:
        data, meta = p.bufs()
        p.fill(data, meta, 0x44)
        p.fmt.generate(data, meta, NLB, ref_tag=SLBA, app_tag=1)
        g = p.tuple(data, meta, 2)[0]
        p.set_field(data, meta, 2, "guard", g ^ 1)
        assert p.verify(data, meta, SLBA, 1).status == pi.SC_GUARD, p  # vfn sees it too
        assert p.io(qp, True, data, meta, pi.PRCHK_GUARD, ref=SLBA, app=1) == pi.SC_GUARD, p


def test_corrupted_guard_on_read(dev, pins, qp):
    """Base 1.4 8.3.1.4 / NVM CS 5.2: a stored tuple whose guard does not match (written raw, no checks)
    fails a read with PRCHK guard (282h); the same read without the guard check succeeds."""
    for p in pins:
        data, meta = p.bufs()
        p.fill(data, meta, 0x55)
        p.fmt.generate(data, meta, NLB, ref_tag=SLBA, app_tag=2)
        p.set_field(data, meta, 1, "guard", p.tuple(data, meta, 1)[0] ^ 0x8000)
        assert p.io(qp, True, data, meta, 0, ref=SLBA, app=2) == 0, p
        back, mback = p.bufs()
        assert p.io(qp, False, back, mback, pi.PRACT | pi.PRCHK_GUARD, ref=SLBA, app=2) == pi.SC_GUARD, p
        assert p.io(qp, False, back, mback, pi.PRACT | pi.PRCHK_APP, ref=SLBA, app=2) == 0, p


def test_app_tag_mismatch(dev, pins, qp):
    """Base 1.4 8.3.1.4 / NVM CS 5.2 (PRCHK application tag, CDW15 ELBATM): a read expecting another
    application tag under a full mask is End-to-end Application Tag Check Error (283h); with the differing
    bits masked off it succeeds."""
    for p in pins:
        data, meta = p.bufs()
        p.fill(data, meta, 0x66)
        assert p.io(qp, True, data, meta, pi.PRACT, ref=SLBA, app=0x1200) == 0, p
        back, mback = p.bufs()
        assert p.io(qp, False, back, mback, pi.PRACT | pi.PRCHK_APP, app=0x1234) == pi.SC_APP_TAG, p
        assert p.io(qp, False, back, mback, pi.PRACT | pi.PRCHK_APP, app=0x1234, mask=0xFF00) == 0, p


def test_wrong_ref_tag(dev, pins, qp):
    """Base 1.4 8.3.1.4 / NVM CS 5.2 (types 1 and 2): a block whose stored reference tag is not the expected
    one (ILBRT + its index) fails a read with PRCHK reference tag (284h); the same read checking only the
    guard succeeds."""
    for p in of_type(pins, (1, 2), "type 3 has no reference tag to check"):
        data, meta = p.bufs()
        p.fill(data, meta, 0x77)
        p.fmt.generate(data, meta, NLB, ref_tag=SLBA, app_tag=3)
        p.set_field(data, meta, 3, "ref", SLBA + 100)
        assert p.io(qp, True, data, meta, 0) == 0, p
        back, mback = p.bufs()
        assert p.io(qp, False, back, mback, pi.PRACT | pi.PRCHK_REF) == pi.SC_REF_TAG, p
        assert p.io(qp, False, back, mback, pi.PRACT | pi.PRCHK_GUARD) == 0, p


def test_type1_ilbrt_not_slba(dev, pins, qp):
    """Base 1.4 6.9 / 6.15 (ILBRT) / NVM CS 5.2: on a type 1 namespace a command checking the reference
    tag whose ILBRT is not the low 32 (64b guard: 48) bits of its SLBA is Invalid Protection Information
    (181h)."""
    for p in of_type(pins, (1,), "the check of ILBRT against the SLBA is type 1's"):
        data, meta = p.bufs()
        p.fill(data, meta, 0x12)
        assert p.io(qp, True, data, meta, pi.PRACT) == 0, p
        back, mback = p.bufs()
        assert p.io(qp, False, back, mback, pi.PRACT | pi.PRCHK_REF, ref=SLBA + 1) == pi.SC_INVALID_PI, p


def test_type2_any_ilbrt(dev, pins, qp):
    """NVM CS 5.2 / Base 1.4 8.3.1 (type 2): the initial reference tag is the host's, not tied to the
    SLBA: a write with ILBRT R and a read checking against R succeed; against R + 1 it is 284h."""
    for p in of_type(pins, (2,), "an ILBRT free of the SLBA is type 2's"):
        data, meta = p.bufs()
        p.fill(data, meta, 0x13)
        ref = 0x9000 if p.ts == 8 else 0x1234_0000_9000  # 64b guard: a 48-bit tag (CDW3 bits 15:0)
        assert p.io(qp, True, data, meta, pi.PRACT, ref=ref) == 0, p
        back, mback = p.bufs()
        assert p.io(qp, False, back, mback, pi.PRACT | pi.PRCHK_ALL, ref=ref) == 0, p
        assert p.io(qp, False, back, mback, pi.PRACT | pi.PRCHK_REF, ref=ref + 1) == pi.SC_REF_TAG, p
        raw, mraw = p.bufs()
        assert p.io(qp, False, raw, mraw, 0, ref=ref) == 0, p
        assert p.tuple(raw, mraw, NLB - 1)[2] == ref + NLB - 1, p


def test_type3_ref_tag_unchecked(dev, pins, qp):
    """NVM CS 5.2 / Base 1.4 8.3.1 (type 3): the reference tag is not checked: a block stored with a tag
    other than ILBRT reads back under guard and application tag checks."""
    for p in of_type(pins, (3,), "only type 3 leaves the reference tag unchecked"):
        data, meta = p.bufs()
        p.fill(data, meta, 0x14)
        p.fmt.generate(data, meta, NLB, ref_tag=0x4242, app_tag=5)
        assert p.io(qp, True, data, meta, 0) == 0, p
        back, mback = p.bufs()
        assert p.io(qp, False, back, mback, pi.PRACT | pi.PRCHK_GUARD | pi.PRCHK_APP, ref=0x777, app=5) == 0, p
        assert bytes(p.block(back, NLB - 1)) == bytes(p.block(data, NLB - 1)), p


def test_app_tag_escape(dev, pins, qp):
    """Base 1.4 8.3.1.4 / NVM CS 5.2: a block whose application tag is FFFFh (type 3: and whose reference
    tag is all ones) is not checked: a bad guard there reads back with every check."""
    for p in pins:
        data, meta = p.bufs()
        p.fill(data, meta, 0x15)
        p.fmt.generate(data, meta, NLB, ref_tag=SLBA, app_tag=6)
        p.set_field(data, meta, 0, "app", 0xFFFF)
        if p.type == 3:
            p.set_field(data, meta, 0, "ref", (1 << (32 if p.ts == 8 else 48)) - 1)
        p.set_field(data, meta, 0, "guard", p.tuple(data, meta, 0)[0] ^ 0xFF)
        assert p.io(qp, True, data, meta, 0) == 0, p
        back, mback = p.bufs()
        assert p.io(qp, False, back, mback, pi.PRACT | p.all_checks(), app=6, mask=0) == 0, p


def test_pi_formats(dev, pins):
    """Base 1.4 5.15.2 (Identify Namespace DPC/DPS) / NVM CS 5.2: each PI namespace's type is one its DPC
    says is supported, and its tuple placement one DPC allows.  With VFN_TEST_PI_FORMATS set (what the
    test's controller was configured with: "type:ms:pif:first|last:sep|ext ..." in NSID order), the
    formats found are exactly those."""
    found = []
    for p in pins:
        idn = dev.identify_ns(p.info.nsid)
        assert idn.dpc & 1 << (p.type - 1), p  # DPC bits 2:0: types 1, 2, 3 supported
        assert idn.dpc & (1 << 3 if p.info.pi_first else 1 << 4), p  # DPC bit 3 first, bit 4 last
        found.append("%d:%d:%d:%s:%s" % (p.type, p.info.ms, p.info.pif, "first" if p.info.pi_first else "last",
                                          "ext" if p.ext else "sep"))
    want = os.environ.get("VFN_TEST_PI_FORMATS")
    if want:
        assert found == want.split()
