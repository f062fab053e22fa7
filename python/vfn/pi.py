# SPDX-License-Identifier: MIT
"""End-to-end protection information in software (<vfn/pi.h>): the guard CRCs and PI tuple generation and
verification, as the NVM Command Set specification (5.2) lays the tuples out.

    fmt = vfn.pi.Format.of(ns)                # or Format(lba_size=512, ms=16, pi_type=1, pif=2)
    fmt.generate(data, meta, nlb, ref_tag=5)  # fills the tuples (Buffers, bytearrays or memoryviews)
    fmt.verify(data, meta, nlb, ref_tag=5)    # None, or a PiError(block, status, expected, found)
"""
import ctypes
import errno
import os

from ._lib import PiError, PiFormat, PiTags, lib

TYPE_NONE, TYPE1, TYPE2, TYPE3 = 0, 1, 2, 3
PIF_16, PIF_32, PIF_64 = 0, 1, 2
# PRINFO bits (CDW12 29:26 >> 26), for io_opts(prinfo=...)
PRCHK_REF, PRCHK_APP, PRCHK_GUARD, PRCHK_ALL, PRACT = 0x1, 0x2, 0x4, 0x7, 0x8
# SCT << 8 | SC of PI failures
SC_INVALID_PI, SC_GUARD, SC_APP_TAG, SC_REF_TAG = 0x181, 0x282, 0x283, 0x284
STATUS_NAMES = {SC_GUARD: "guard", SC_APP_TAG: "application tag", SC_REF_TAG: "reference tag"}


def tuple_size(pif):
    """Bytes of one PI tuple: 8 (16-bit guard), 16 (64-bit guard), 0 (a format vfn does not generate)."""
    return 8 if pif == PIF_16 else 16 if pif == PIF_64 else 0


def crc16_t10dif(data, crc=0):
    """CRC-16/T10-DIF of @data (bytes-like), continuing from @crc."""
    b = bytes(data)
    return lib.vfn_crc16_t10dif(crc, b, len(b))


def crc64_nvme(data, crc=0):
    """CRC-64/NVME of @data (bytes-like), continuing from @crc."""
    b = bytes(data)
    return lib.vfn_crc64_nvme(crc, b, len(b))


def _ptr(obj, need, what, write=False):
    """(address, keep-alive) of a writable bytes-like object or a vfn Buffer of at least @need bytes."""
    if obj is None:
        return None, None
    if hasattr(obj, "addr") and hasattr(obj, "_live"):  # vfn.Buffer
        obj._live()
        if obj.size < need:
            raise ValueError("%s: %d bytes, %d needed" % (what, obj.size, need))
        return obj.addr, obj
    mv = memoryview(obj).cast("B")
    if len(mv) < need:
        raise ValueError("%s: %d bytes, %d needed" % (what, len(mv), need))
    if mv.readonly:
        if write:
            raise TypeError("%s: read-only; generate() writes the tuples into it" % what)
        keep = ctypes.create_string_buffer(bytes(mv), len(mv))
    else:
        keep = (ctypes.c_char * len(mv)).from_buffer(mv)
    return ctypes.addressof(keep), keep


class Format:
    """How blocks carry metadata and PI (struct vfn_pi_format)."""

    def __init__(self, lba_size, ms, pi_type, pif=PIF_16, pi_first=False, extended=False):
        from .device import _uint  # ctypes truncates: pi_type=257 was type 1, lba_size 2^32 + 512 was 512
        lba_size, ms = _uint(lba_size, 32, "lba_size"), _uint(ms, 16, "ms")
        pi_type, pif = _uint(pi_type, 8, "pi_type"), _uint(pif, 8, "pif")
        self.c = PiFormat(lba_size=lba_size, ms=ms, pi_type=pi_type, pif=pif, pi_first=pi_first, extended=extended)
        if lib.vfn_pi_format_check(ctypes.byref(self.c)):
            raise OSError(errno.EINVAL, "PI format %r: not one vfn generates (type 1-3, pif 0 or 2, ms >= the "
                          "tuple)" % (self,))

    @classmethod
    def of(cls, ns):
        """The format of a vfn.Namespace (its NsInfo: lba_size, ms, pi_type, pif, pi_first, mset)."""
        i = ns.info
        return cls(i.lba_size, i.ms, i.pi_type, i.pif, i.pi_first, i.mset)

    def __getattr__(self, name):
        if name == "c":  # not set yet (copy.copy, pickle): was endless recursion through self.c
            raise AttributeError(name)
        return getattr(self.c, name)

    @property
    def tuple_size(self):
        return tuple_size(self.c.pif)

    @property
    def tuple_offset(self):
        """Offset of the tuple in each block's metadata: 0 (first) or ms - tuple size (last)."""
        return 0 if self.c.pi_first else self.c.ms - self.tuple_size

    def _bufs(self, data, meta, nlb, write=False):
        from .device import _uint
        nlb = _uint(nlb, 32, "nlb")  # a negative count reached C as 2^32 - 1 blocks past the buffers
        c = self.c
        d, kd = _ptr(data, nlb * (c.lba_size + (c.ms if c.extended else 0)), "data", write and c.extended)
        m, km = (None, None) if c.extended else _ptr(meta, nlb * c.ms, "metadata", write)
        if d is None or (m is None and not c.extended):
            raise ValueError("data%s needed" % ("" if c.extended else " and metadata"))
        return d, m, (kd, km)

    def generate(self, data, meta, nlb, ref_tag=0, app_tag=0):
        """Writes the tuples of @nlb blocks (vfn_pi_generate): @data (and @meta unless extended) are vfn
        Buffers or writable bytes-like objects; the ref tag is incremented per block for types 1 and 2."""
        d, m, keep = self._bufs(data, meta, nlb, write=True)
        tags = PiTags(ref_tag=ref_tag, app_tag=app_tag)
        ret = lib.vfn_pi_generate(ctypes.byref(self.c), d, m, nlb, ctypes.byref(tags))
        del keep
        if ret:
            raise OSError(-ret, "vfn_pi_generate: " + os.strerror(-ret))

    def verify(self, data, meta, nlb, ref_tag=0, app_tag=0, app_mask=0xFFFF, prchk=PRCHK_ALL):
        """Checks the tuples of @nlb blocks as a controller would (vfn_pi_verify): None when they hold, else
        the first bad block's PiError (block, status SC_GUARD/SC_APP_TAG/SC_REF_TAG, expected, found)."""
        d, m, keep = self._bufs(data, meta, nlb)
        tags = PiTags(ref_tag=ref_tag, app_tag=app_tag, app_mask=app_mask, prchk=prchk)
        err = PiError()
        ret = lib.vfn_pi_verify(ctypes.byref(self.c), d, m, nlb, ctypes.byref(tags), ctypes.byref(err))
        del keep
        if ret == -errno.EIO:
            return err
        if ret:
            raise OSError(-ret, "vfn_pi_verify: " + os.strerror(-ret))
        return None

    def __repr__(self):
        c = self.c
        return "Format(lba_size=%d, ms=%d, pi_type=%d, pif=%d, pi_first=%s, extended=%s)" % (
            c.lba_size, c.ms, c.pi_type, c.pif, c.pi_first, c.extended)
