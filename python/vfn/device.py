# SPDX-License-Identifier: MIT
"""Device, Namespace, Buffer, CmbBuffer, QPair (raw queues), AsyncQueue, Sim and NvmeError."""
import ctypes
import errno as _errno
import gc
import operator
import os
import select
import struct
import time
import weakref

from . import spec
from ._lib import (AER_CB, CQ, DEV_CB, SQ, CtrlOpts, Cqe, DevOpts, IoOpts, QpairOpts, SimFault, Sqe, c_uint32,
                   c_uint64,
                   c_void_p, lib)
from ._lib import CmbInfo
from ._lib import NsInfo

META_SGL = {"auto": 0, "off": 1, "force": 2}  # vfn_nvme_io_opts.meta_sgl: VFN_NVME_META_SGL_AUTO/OFF/FORCE


def _uint(v, bits, what):
    """@v as an int of 0..2^@bits - 1, or TypeError/ValueError: ctypes truncates an out-of-range int
    silently (an LBA of 2^64 would reach the controller as LBA 0, a ZSA of 260 as 4, Reset Zone)."""
    try:
        v = operator.index(v)
    except TypeError:
        raise TypeError("%s: %r is not an integer" % (what, v)) from None
    if not 0 <= v < 1 << bits:
        raise ValueError("%s: %d is not in 0..%#x" % (what, v, (1 << bits) - 1))
    return v


def io_opts(timeout_ms=0, sgl=False, meta_sgl="auto", prinfo=0, ref_tag=0, app_tag=0, app_mask=0, fua=False):
    """A struct vfn_nvme_io_opts from keyword arguments.  @meta_sgl: "auto" (metadata as an SGL when @sgl and
    the controller reports SGLS bit 19, else contiguous), "off" (always contiguous) or "force" (an SGL even
    without bit 19; needs @sgl), or 0/1/2.  @prinfo: PRACT/PRCHK bits as in CDW12 29:26 (vfn.pi.PRACT ...)."""
    if isinstance(meta_sgl, str):
        if meta_sgl.lower() not in META_SGL:
            raise ValueError("meta_sgl: %r is not one of %s" % (meta_sgl, ", ".join(META_SGL)))
        meta_sgl = META_SGL[meta_sgl.lower()]
    elif _uint(meta_sgl, 8, "meta_sgl") > 2:  # 256 went out as 0 (auto)
        raise ValueError("meta_sgl: %d is not 0 (auto), 1 (off) or 2 (force)" % meta_sgl)
    if _uint(prinfo, 8, "prinfo") > 0xF:
        raise ValueError("prinfo: %#x is not PRACT/PRCHK bits (0..0xf)" % prinfo)
    return IoOpts(timeout_ms=_uint(timeout_ms, 32, "timeout_ms"), sgl=bool(sgl), meta_sgl=meta_sgl, prinfo=prinfo,
                  ref_tag=_uint(ref_tag, 64, "ref_tag"), app_tag=_uint(app_tag, 16, "app_tag"),
                  app_mask=_uint(app_mask, 16, "app_mask"), fua=bool(fua))


def _need_buffer(b, what, optional=False):
    """TypeError unless @b is a vfn Buffer (or None when @optional): was an AttributeError from inside."""
    if not isinstance(b, Buffer) and not (optional and b is None):
        raise TypeError("%s: a vfn Buffer (Device.buffer())%s, not %s" % (what, " or None" if optional else "",
                                                                          type(b).__name__))


class NvmeError(Exception):
    """The controller completed a command with an error status.

    Attributes: status (SCT << 8 | SC with CRD/More/DNR bits, as in the CQE
    without the phase tag), sct, sc, crd, more, dnr, name (the spec's status
    name), cqe (the whole completion) and op (what was sent).
    """

    def __init__(self, cqe, op=""):
        self.cqe = cqe
        self.status = cqe.status
        f = spec.status_fields(self.status)
        self.sct, self.sc, self.crd, self.more, self.dnr = f.sct, f.sc, f.crd, f.more, f.dnr
        self.name = status_name(self.status)
        self.op = op
        super().__init__("%s%s (SCT %#x SC %#04x%s%s)" % (op + ": " if op else "", self.name, self.sct, self.sc,
                                                          ", DNR" if self.dnr else "", ", M" if self.more else ""))

    @property
    def code(self):
        """SCT << 8 | SC: compare with the spec.SC_* constants."""
        return self.status & 0x7FF


def status_name(status):
    """The spec name of a status (vfn_nvme_status_str)."""
    return lib.vfn_nvme_status_str(status & 0xFFFF).decode()


def opcode_name(admin, opcode):
    return lib.vfn_nvme_opcode_str(admin, opcode).decode()


def _oserror(ret, what):
    e = -ret
    return OSError(e, "%s: %s" % (what, os.strerror(e)))  # ETIMEDOUT gives a TimeoutError


def _check(ret, what, cqe=None):
    """Raises for a libvfn return value: NvmeError for -EIO with an error status in @cqe, OSError otherwise."""
    if ret >= 0:
        return ret
    if ret == -_errno.EIO and cqe is not None and cqe.status and cqe.status != spec.SC_HOST_ABORTED:
        raise NvmeError(cqe, what)
    raise _oserror(ret, what)


def make_sqe(opcode, nsid=0, cdw10=0, cdw11=0, cdw12=0, cdw13=0, cdw14=0, cdw15=0, **kw):
    """An Sqe from keyword arguments (any field of struct vfn_nvme_sqe)."""
    sqe = Sqe(opcode=opcode, nsid=nsid, cdw10=cdw10, cdw11=cdw11, cdw12=cdw12, cdw13=cdw13, cdw14=cdw14,
              cdw15=cdw15)
    for k, v in kw.items():
        setattr(sqe, k, v)
    return sqe


_CDATA = ctypes.Array.__mro__[1]  # ctypes' _CData: an object that may hold a raw pointer into a buffer


def _views_of(arr):
    """Every live memoryview on the memory of the ctypes array @arr (slices and casts included): each
    shares a managed buffer that refers to @arr."""
    views = []
    for mbuf in gc.get_referrers(arr):
        if type(mbuf).__name__ == "managedbuffer":
            views += [v for v in gc.get_referrers(mbuf) if isinstance(v, memoryview)]
    return views


def _held_by_ctypes(ref):
    """True if @ref (a referrer of a view) is a ctypes object or its _objects dict (from_buffer keeps the view
    there and the raw pointer in the object)."""
    if isinstance(ref, _CDATA):
        return True
    return isinstance(ref, dict) and any(isinstance(r, _CDATA) for r in gc.get_referrers(ref))


class Buffer:
    """DMA memory usable by every command of a Device (vfn_dev_buf_alloc).

    ``buf.mem`` is a writable memoryview on the memory itself (no copy):
    ``buf.mem[0:4] = b"abcd"``; ``bytes(buf)`` copies it out.  ``buf.iova``
    is the device address (VFIO/sim; None on the kernel path).

    ``free()`` releases every memoryview on the memory (``buf.mem``, its
    slices and casts, those of ``sub()`` buffers) and marks the sub-buffers
    freed: using any of them afterwards raises ValueError instead of reaching
    freed memory.  It refuses (BufferError, nothing freed) while a consumer
    holds a view's buffer (an export, e.g. numpy.frombuffer) or a ctypes
    object was made from one (from_buffer): release those first.
    """

    def __init__(self, dev, size):
        dev._live()
        self.dev = dev
        addr = c_void_p()
        n = lib.vfn_dev_buf_alloc(dev._h, size, ctypes.byref(addr))
        _check(n, "buffer of %d bytes" % size)
        self.addr, self.alloc_len, self.size = addr.value, n, size
        self._parent, self._subs = None, weakref.WeakSet()
        self._arr = (ctypes.c_char * n).from_address(self.addr)
        self.mem = memoryview(self._arr).cast("B")[:size]

    def _live(self):
        if not self.addr:
            raise ValueError("Buffer used after free()")

    @property
    def freed(self):
        return not self.addr

    @property
    def iova(self):
        self._live()
        self.dev._live()
        if self.dev.ctrl is None:
            return None
        iova = c_uint64()
        _check(lib.vfn_iommu_translate(lib.vfn_nvme_ctrl_iommu(self.dev.ctrl), self.addr, ctypes.byref(iova), None),
               "translate")
        return iova.value

    def __len__(self):
        return self.size

    def __bytes__(self):
        self._live()
        return bytes(self.mem)

    def fill(self, data, offset=0):
        self._live()
        self.mem[offset:offset + len(data)] = data

    def sub(self, offset, size):
        """A Buffer for @size bytes at @offset of this one (same memory): freed with its parent (then unusable),
        or on its own (its views only; the memory stays the parent's)."""
        self._live()
        if offset < 0 or offset + size > self.size:
            raise ValueError("sub-buffer beyond the buffer")
        root = self._parent or self
        b = object.__new__(type(self))  # a CmbBuffer's sub-buffer is CMB memory too
        b.dev, b.addr, b.size, b.alloc_len, b._parent, b._subs = self.dev, self.addr + offset, size, size, root, None
        b._arr = (ctypes.c_char * size).from_address(b.addr)
        b.mem = memoryview(b._arr).cast("B")
        root._subs.add(b)
        return b

    def _invalidate(self, bufs):
        """Releases every view of @bufs' memory, or raises BufferError (a consumer holds one)."""
        views = [v for b in bufs for v in _views_of(b._arr)]
        for v in views:
            if any(_held_by_ctypes(r) for r in gc.get_referrers(v)):
                raise BufferError("Buffer.free(): a ctypes object was made from a view of it (from_buffer): "
                                  "delete it first")
        for v in views:
            try:
                v.release()
            except BufferError as e:
                raise BufferError("Buffer.free(): a view of it is exported (%s): release the consumer first"
                                  % e) from None
        for b in bufs:
            b.addr, b._arr = None, None

    def free(self):
        """Frees the memory (a sub-buffer: only invalidates it and its views).  Idempotent."""
        if not self.addr:
            return
        if self._parent is not None:
            self._invalidate([self])
            return
        addr = self.addr
        self._invalidate([self] + [b for b in list(self._subs) if b.addr])
        self._release(addr)

    def _release(self, addr):
        if self.dev._h:  # after Device.close() the memory stays as vfn_dev_close() left it (not freed)
            lib.vfn_dev_buf_free(self.dev._h, addr, self.alloc_len)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.free()


class CmbBuffer(Buffer):
    """Memory in the controller's Controller Memory Buffer (vfn_nvme_cmb_alloc), from dev.cmb_buffer(size).

    The same interface as Buffer: ``mem`` is a writable memoryview on the CMB
    itself (the BAR mapping: no copies), ``iova`` the address the controller
    is given for it (the CMB's bus address + offset: not an IOMMU address,
    nothing is DMA-mapped), ``sub()``, ``free()`` (gives the piece back to
    the CMB allocator; the views are released as for a Buffer).  Pass it to
    ``IoQPair.io()`` or ``QPair.set_prp()`` for commands whose data is in
    the CMB.  Pieces are 4 KiB aligned and rounded up to 4 KiB.

    Device memory, not RAM: every access crosses the bus uncached (copy a
    block in or out at once rather than byte by byte; never on a hot path).
    Freed (views released) when the Device closes.
    """

    def __init__(self, dev, size):
        dev.cmb_enable()
        vaddr, addr = c_void_p(), c_uint64()
        _check(lib.vfn_nvme_cmb_alloc(dev.ctrl, size, ctypes.byref(vaddr), ctypes.byref(addr)),
               "CMB buffer of %d bytes" % size)
        self.dev = dev
        self.addr, self.alloc_len, self.size = vaddr.value, (size + 4095) & ~4095, size
        self._parent, self._subs = None, weakref.WeakSet()
        self._arr = (ctypes.c_char * self.alloc_len).from_address(self.addr)
        self.mem = memoryview(self._arr).cast("B")[:size]
        dev._cmb_bufs.add(self)

    @property
    def iova(self):
        """The controller address of the memory (vfn_nvme_cmb_translate)."""
        self._live()
        addr, left = c_uint64(), ctypes.c_size_t()  # both stored: @len is not optional here
        _check(lib.vfn_nvme_cmb_translate(self.dev.ctrl, self.addr, ctypes.byref(addr), ctypes.byref(left)),
               "CMB translate")
        return addr.value

    def _release(self, addr):
        lib.vfn_nvme_cmb_free(self.dev.ctrl, addr)


class Sim:
    """Faults of a simulated controller (<vfn/sim.h>): see docs/sim.md."""
    DELAY, DROP, STATUS, WRONG_CID, WRONG_PHASE = range(5)
    _ACTIONS = {"delay": 0, "drop": 1, "status": 2, "wrong_cid": 3, "wrong_phase": 4}

    def __init__(self, dev, handle):
        self.dev, self._h = dev, handle

    def _live(self):
        if not self._h:
            raise ValueError("Sim used after its Device was closed")
        return self._h

    def fault(self, action, opcode=-1, sqid=-1, nth=1, repeat=False, delay_ms=0, status=None, sct=0, sc=0,
              dnr=False, more=False):
        """Arms a command fault; action is "delay", "drop", "status", "wrong_cid" or "wrong_phase"
        (or Sim.DELAY...).  For "status": status=SCT<<8|SC (plus bits) or sct/sc/dnr/more."""
        act = self._ACTIONS[action] if isinstance(action, str) else action
        if status is None:
            status = (sct & 7) << 8 | sc | more << 13 | dnr << 14
        f = SimFault(action=act, sqid=sqid, opcode=opcode, nth=nth, repeat=repeat, delay_ms=delay_ms, status=status)
        _check(lib.vfn_sim_fault_add(self._live(), ctypes.byref(f)), "sim fault")

    def clear(self):
        lib.vfn_sim_fault_clear(self._live())

    @property
    def armed(self):
        return lib.vfn_sim_fault_armed(self._live())

    def fatal(self):
        """Sets CSTS.CFS."""
        lib.vfn_sim_fault_fatal(self._live())

    def never_ready(self, on=True):
        lib.vfn_sim_fault_never_ready(self._live(), on)

    def wedge(self, level):
        lib.vfn_sim_fault_wedge(self._live(), level)

    def remove(self):
        """Surprise removal: registers read all-ones."""
        lib.vfn_sim_fault_remove(self._live())

    def event(self, type_, info, lid):
        """Raises an asynchronous event (AER DW0 = type | info << 8 | lid << 16)."""
        _check(lib.vfn_sim_event_raise(self._live(), type_, info, lid), "sim event")


class Device:
    """A controller opened by any vfn device string: a BDF, /dev/nvmeX or /dev/ngXnY, or sim:...

    timeout_ms: default command timeout; admin_log: entries of the admin
    command log (VFIO/sim), kept from bring-up on (see cmdlog()).
    """

    def __init__(self, uri="sim:", timeout_ms=0, admin_log=256, nsid=0):
        self.uri = uri
        self._h = None
        self._ctrl_opts = CtrlOpts(admin_log_entries=admin_log)
        opts = DevOpts(nsid=nsid, timeout_ms=timeout_ms, ctrl_opts=ctypes.pointer(self._ctrl_opts))
        h = c_void_p()
        _check(lib.vfn_dev_open(uri.encode(), ctypes.byref(opts), ctypes.byref(h)), "open %s" % uri)
        self._h = h.value
        inf = lib.vfn_dev_get_info(self._h).contents
        self.info = spec.Record((n, v.decode() if isinstance(v, bytes) else v)
                                for n, v in ((n, getattr(inf, n)) for n, _ in inf._fields_))
        self.ctrl = lib.vfn_dev_nvme_ctrl(self._h) if self.info.backend != 1 else None
        s = lib.vfn_dev_sim(self._h) if self.info.backend == 2 else None
        self.sim = Sim(self, s) if s else None
        self._aer = None
        self.events = []
        self._id_ctrl = None
        self._qids = set()
        self._pairs = []  # IoQPairs: destroyed before the controller closes
        self._cmb_bufs = weakref.WeakSet()  # CmbBuffers: freed before the CMB is unmapped
        self._raw_pairs = weakref.WeakSet()  # QPairs: freed before the controller (their rings are its memory)

    # ---- lifetime
    def close(self):
        if self._h:
            for q in list(getattr(self, "_raw_pairs", ())):
                q.free()
            for p in list(self._pairs):
                p.close()
            for b in list(getattr(self, "_cmb_bufs", ())):
                try:
                    b.free()
                except BufferError:  # a consumer holds a view: its memory goes away with the mapping anyway
                    b.addr, b._arr = None, None
            lib.vfn_dev_close(self._h)
            self._h = None
            # The controller and the simulator are freed with the handle: nothing may reach them any more.
            self.ctrl = None
            if self.sim is not None:
                self.sim._h = None

    def _live(self):
        if not self._h:
            raise ValueError("Device used after close()")

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    # ---- registers (VFIO/sim)
    def _need_ctrl(self, what):
        self._live()
        if self.ctrl is None:
            raise OSError(_errno.ENOTSUP, "%s: not reachable through the kernel driver (use vfio or sim)" % what)

    def reg32(self, off):
        self._need_ctrl("registers")
        return lib.vfn_nvme_reg_read32(self.ctrl, off)

    def reg64(self, off):
        self._need_ctrl("registers")
        return lib.vfn_nvme_reg_read64(self.ctrl, off)

    def write_reg32(self, off, val):
        self._need_ctrl("registers")
        lib.vfn_nvme_reg_write32(self.ctrl, off, val)

    def write_reg64(self, off, val):
        self._need_ctrl("registers")
        lib.vfn_nvme_reg_write64(self.ctrl, off, val)

    @property
    def cap(self):
        return spec.cap(self.reg64(spec.REG_CAP))

    @property
    def vs(self):
        return spec.vs(self.reg32(spec.REG_VS))

    @property
    def cc(self):
        return spec.cc(self.reg32(spec.REG_CC))

    @property
    def csts(self):
        return spec.csts(self.reg32(spec.REG_CSTS))

    @property
    def aqa(self):
        return spec.aqa(self.reg32(spec.REG_AQA))

    @property
    def irq_mode(self):
        """The interrupt type in use (vfn_nvme_ctrl_irq_mode()): "MSI-X", "MSI", "INTx", or None when AUTO
        found none usable (VFIO/sim)."""
        self._need_ctrl("interrupts")
        return {1: "MSI-X", 2: "MSI", 3: "INTx"}.get(lib.vfn_nvme_ctrl_irq_mode(self.ctrl))

    @property
    def nr_io_queues(self):
        """I/O SQs granted by Set Features Number of Queues (VFIO/sim)."""
        self._need_ctrl("queues")
        return lib.vfn_nvme_ctrl_get_info(self.ctrl).contents.nr_sq

    # ---- commands
    def admin(self, sqe, buf=None, length=None, timeout_ms=0):
        """Sends an admin command and waits; returns the Cqe.  @buf: a Buffer, a bytearray (filled in place),
        bytes (sent) or an int (that many bytes to receive: then returns (cqe, bytes))."""
        return self._cmd(lib.vfn_dev_admin, True, sqe, buf, length, timeout_ms)

    def admin_raw(self, sqe, timeout_ms=0, check=True):
        """Sends an admin command without data with its data pointer as given (PRP1 of Create I/O CQ/SQ,
        say), through the controller (VFIO/sim).  Returns the Cqe; NvmeError on an error status if @check."""
        self._need_ctrl("raw admin")
        cqe = Cqe()
        ret = lib.vfn_nvme_admin_sync(self.ctrl, ctypes.byref(sqe), None, 0, ctypes.byref(cqe), timeout_ms)
        if ret == -_errno.EIO and not check and cqe.status:
            return cqe
        _check(ret, opcode_name(True, sqe.opcode), cqe)
        return cqe

    def io(self, sqe, buf=None, length=None, timeout_ms=0):
        """Sends an I/O command on the device's own queue and waits; as admin()."""
        return self._cmd(lib.vfn_dev_io, False, sqe, buf, length, timeout_ms)

    def _cmd(self, fn, admin, sqe, buf, length, timeout_ms):
        self._live()
        cqe = Cqe()
        ret_data = None
        keep = None
        if buf is None:
            ptr, n = None, 0
        elif isinstance(buf, Buffer):
            buf._live()
            ptr, n = buf.addr, buf.size
        elif isinstance(buf, int):
            if buf < 0:
                raise ValueError("%s: %d bytes to receive" % (opcode_name(admin, sqe.opcode), buf))
            keep = ctypes.create_string_buffer(buf)
            ptr, n, ret_data = ctypes.addressof(keep), buf, keep
        elif isinstance(buf, bytearray):
            keep = (ctypes.c_char * len(buf)).from_buffer(buf)
            ptr, n = ctypes.addressof(keep), len(buf)
        else:
            keep = ctypes.create_string_buffer(bytes(buf), len(buf))
            ptr, n = ctypes.addressof(keep), len(buf)
        if length is not None and buf is not None and not isinstance(buf, int):
            # the library copies @length bytes in and out of the memory given: never more than there is
            if not 0 <= length <= n:
                raise ValueError("%s: length %d for a buffer of %d bytes" % (opcode_name(admin, sqe.opcode),
                                                                            length, n))
            n = length
        ret = fn(self._h, ctypes.byref(sqe), ptr, n, ctypes.byref(cqe), timeout_ms)
        _check(ret, opcode_name(admin, sqe.opcode), cqe)
        if ret_data is not None:
            return cqe, ret_data.raw[:n]
        return cqe

    def identify(self, cns, nsid=0, cntid=0, cdw11=0):
        """Identify with @cns: the 4096 raw bytes."""
        sqe = make_sqe(spec.ADMIN_IDENTIFY, nsid=nsid, cdw10=cns | cntid << 16, cdw11=cdw11)
        return self.admin(sqe, 4096)[1]

    def identify_ctrl(self):
        """Identify Controller (CNS 01h), decoded with the spec's field names."""
        self._id_ctrl = spec.identify_ctrl(self.identify(1))
        return self._id_ctrl

    @property
    def id_ctrl(self):
        """Identify Controller, cached after the first call."""
        return self._id_ctrl or self.identify_ctrl()

    def identify_ns(self, nsid):
        """Identify Namespace (CNS 00h), decoded."""
        return spec.identify_ns(self.identify(0, nsid))

    def ns_list(self, start=0):
        """Active Namespace ID list (CNS 02h) above @start."""
        return spec.ns_list(self.identify(2, start))

    def namespace(self, nsid=None):
        """A Namespace object (default: the one the device's geometry is of)."""
        return Namespace(self, nsid or self.info.nsid)

    def get_log(self, lid, length, offset=0, nsid=0xFFFFFFFF, rae=False, lsp=0, lsi=0):
        """Get Log Page: @length bytes from byte @offset (5.14)."""
        numd = length // 4 - 1
        sqe = make_sqe(spec.ADMIN_GET_LOG_PAGE, nsid=nsid, cdw10=lid | lsp << 8 | rae << 15 | (numd & 0xFFFF) << 16,
                       cdw11=numd >> 16 | lsi << 16, cdw12=offset & 0xFFFFFFFF, cdw13=offset >> 32)
        return self.admin(sqe, length)[1]

    def get_features(self, fid, sel=0, cdw11=0, nsid=0, length=0):
        """Get Features (5.21): returns DW0 (or (DW0, data) with @length)."""
        sqe = make_sqe(spec.ADMIN_GET_FEATURES, nsid=nsid, cdw10=fid | sel << 8, cdw11=cdw11)
        if length:
            cqe, data = self.admin(sqe, length)
            return cqe.dw0, data
        return self.admin(sqe).dw0

    def set_features(self, fid, cdw11=0, save=False, nsid=0, data=None):
        """Set Features (5.22): returns DW0."""
        sqe = make_sqe(spec.ADMIN_SET_FEATURES, nsid=nsid, cdw10=fid | save << 31, cdw11=cdw11)
        return self.admin(sqe, data).dw0

    def abort(self, sqid, cid):
        """Abort (5.1): True if the controller aborted the command, False if it did not find it."""
        self._need_ctrl("abort")
        ret = lib.vfn_nvme_abort(self.ctrl, sqid, cid)
        if ret == -_errno.ENOENT:
            return False
        _check(ret, "Abort")
        return True

    def reset(self, kind="controller"):
        """Reset and re-initialisation: kind "controller" (vfn_nvme_ctrl_reset), "function"
        (function-level reset, vectors routed again), "subsystem" (NSSR; OSError EOPNOTSUPP
        without CAP.NSSRS) or "bus" (PCI hot reset; OSError ENOTSUP where VFIO has none, the
        controller untouched).  docs/interrupts-resets.md."""
        self._need_ctrl("reset")
        fn = {"controller": lib.vfn_nvme_ctrl_reset, "function": lib.vfn_nvme_ctrl_reset_function,
              "subsystem": lib.vfn_nvme_ctrl_reset_subsystem, "bus": lib.vfn_nvme_ctrl_reset_bus}.get(kind)
        if fn is None:
            raise ValueError("reset kind %r: controller, function, subsystem or bus" % (kind,))
        _check(fn(self.ctrl), kind + " reset")

    @property
    def failed(self):
        """0, or the -errno of a failed controller (vfn_nvme_ctrl_failed)."""
        self._need_ctrl("state")
        return lib.vfn_nvme_ctrl_failed(self.ctrl)

    def buffer(self, size):
        return Buffer(self, size)

    # ---- Controller Memory Buffer (<vfn/cmb.h>, docs/cmb.md)
    def cmb_info(self):
        """What CMBLOC and CMBSZ say about the CMB (vfn_nvme_cmb_get_info): a Record with size (bytes), offset
        (into the BAR), bar, sqs, cqs, lists, rds, wds and msc (the NVMe 1.4 CMBMSC scheme).  On a 1.4
        controller this sets CMBMSC.CRE (CMBLOC/CMBSZ read 0 without it).  OSError ENOTSUP: no CMB (or the
        kernel path); EPROTO: a reserved CMBSZ.SZU or CMBLOC.BIR."""
        self._need_ctrl("CMB")
        info = CmbInfo()
        ret = lib.vfn_nvme_cmb_get_info(self.ctrl, ctypes.byref(info))
        if ret == -_errno.ENOTSUP:
            raise OSError(_errno.ENOTSUP, "%s has no Controller Memory Buffer (CAP.CMBS = 0, CMBSZ = 0)" % self.uri)
        _check(ret, "CMB info")
        return spec.Record((n, getattr(info, n)) for n, _ in info._fields_)

    def cmb_enable(self):
        """Maps the CMB's BAR and enables it (vfn_nvme_cmb_enable: CMBMSC.CMSE with the bus address on 1.4+);
        idempotent.  Returns cmb_info().  OSError: ENOTSUP (no CMB, or not a VFIO PCI function: sim: has no CMB
        BAR), EIO (CMBSTS.CBAI: the controller refused the address)."""
        info = self.cmb_info()
        ret = lib.vfn_nvme_cmb_enable(self.ctrl)
        if ret == -_errno.ENOTSUP:
            raise OSError(_errno.ENOTSUP, "%s: the CMB cannot be mapped (not a VFIO PCI function)" % self.uri)
        if ret == -_errno.EIO:
            raise OSError(_errno.EIO, "%s: CMBSTS.CBAI: the controller refused the CMB address" % self.uri)
        _check(ret, "CMB enable")
        return info

    def cmb_buffer(self, size):
        """A CmbBuffer of @size bytes in the CMB (enabled first if need be).  OSError ENOMEM: no free piece
        that large; ENOTSUP as cmb_enable()."""
        return CmbBuffer(self, size)

    def io_qpair(self, qid=None, entries=64, irq=False, timeout_ms=0, sq_cmb=False, lists_cmb=False):
        """An IoQPair; sq_cmb=True puts its SQ ring in the CMB (needs CMBSZ.SQS), lists_cmb=True its PRP lists
        and SGL segments (needs CMBSZ.LISTS)."""
        return IoQPair(self, qid, entries, irq, timeout_ms, sq_cmb=sq_cmb, lists_cmb=lists_cmb)

    # ---- virtualization (vfn.sriov, <vfn/sriov.h>)
    def primary_ctrl_cap(self):
        """Identify Primary Controller Capabilities (CNS 14h), decoded: cntlid, crt (vq, vi), vqfrt, vqrfa,
        vqrfap, vqprt, vqfrsm, vqgran, the same for vi*, and vq_free/vi_free."""
        from . import sriov
        return sriov.primary_ctrl_cap(self)

    def secondary_ctrls(self, cntid=0):
        """Identify Secondary Controller List (CNS 15h) from @cntid: Records scid, pcid, online, vfn, nvq, nvi."""
        from . import sriov
        return sriov.secondary_ctrls(self, cntid)

    def virt_mgmt(self, cntlid, rt, act, nr=0):
        """Virtualization Management: @act ("primary_flex", "offline", "assign", "online" or its number) of
        @nr resources of type @rt ("vq"/"vi") for controller @cntlid; returns NRM (resources modified)."""
        from . import sriov
        return sriov.virt_mgmt(self, cntlid, rt, act, nr)

    def secondary_assign(self, scid, rt, nr):
        """Assigns @nr flexible resources of type @rt ("vq"/"vi") to offline secondary @scid; returns NRM."""
        from . import sriov
        return sriov.secondary_assign(self, scid, rt, nr)

    def secondary_online(self, scid, online=True):
        from . import sriov
        return sriov.secondary_online(self, scid, online)

    def _nvm_qpair(self):
        """The IoQPair Namespace.read/write use for options vfn_dev_io() has not (made on first use)."""
        qp = getattr(self, "_nvm_qp", None)
        if qp is None or not qp._h:
            qp = self._nvm_qp = self.io_qpair()
        return qp

    def queue(self, depth=32):
        return AsyncQueue(self, depth)

    def qpair(self, qid=None, entries=64, vector=-1, irq=False, sq_cmb=False):
        """A raw QPair; irq=True: its CQ on MSI-X vector @vector (default: the qid) routed to an eventfd
        (qp.fd, qp.wait()); sq_cmb=True: its SQ ring in the CMB (qp.sq.iova is then a CMB address)."""
        return QPair(self, qid, entries, vector, irq=irq, sq_cmb=sq_cmb)

    # ---- asynchronous events
    def enable_aer(self):
        """Keeps AERs outstanding; events land in self.events (DW0 values) at poll_admin()/admin commands."""
        self._need_ctrl("AER")

        def cb(ctrl, dw0, arg):
            self.events.append(dw0)

        self._aer = AER_CB(cb)
        _check(lib.vfn_nvme_aer_set_callback(self.ctrl, self._aer, None), "AER")

    def poll_admin(self):
        self._need_ctrl("admin poll")
        return _check(lib.vfn_nvme_admin_poll(self.ctrl), "admin poll")

    # ---- command log
    def cmdlog(self):
        """The admin command log as text (VFIO/sim; '' when off or on the kernel path)."""
        if self.ctrl is None:
            return ""
        n = lib.vfn_nvme_admin_log_snprint(self.ctrl, None, 0)
        if n <= 0:
            return ""
        b = ctypes.create_string_buffer(n + 1)
        lib.vfn_nvme_admin_log_snprint(self.ctrl, b, n + 1)
        return b.value.decode(errors="replace")

    def __repr__(self):
        return "Device(%r, %s)" % (self.uri, self.info.backend_name)


class Namespace:
    """One namespace of a Device: geometry from Identify Namespace, synchronous I/O."""

    def __init__(self, dev, nsid):
        # ctypes truncates: NSID 2^32 + 1 was namespace 1 (its commands too), -1 the broadcast 0xffffffff
        self.dev, self.nsid = dev, _uint(nsid, 32, "nsid")
        self.id = dev.identify_ns(nsid)
        self.lba_size = self.id.lba_size
        self.nsze = self.id.nsze
        self._info = None

    @property
    def info(self):
        """struct vfn_nvme_ns_info of the namespace (vfn_nvme_ns_get_info, VFIO/sim): ms, mset, pi_type,
        pi_first, pif, block_size ...; cached."""
        if self._info is None:
            self.dev._need_ctrl("namespace geometry")
            info = NsInfo()
            _check(lib.vfn_nvme_ns_get_info(self.dev.ctrl, self.nsid, ctypes.byref(info)), "namespace %d" % self.nsid)
            self._info = info
        return self._info

    def _rw(self, opcode, slba, nlb, buf, fua=False, **kw):
        slba = _uint(slba, 64, "slba")  # 2^64 went out as LBA 0 (cdw11 truncated)
        if not 1 <= _uint(nlb, 32, "nlb") <= 0x10000:  # 0 went out as NLB 0xFFFF: 65536 blocks
            raise ValueError("nlb: %d blocks is not 1..65536 (NLB is 16 bits, 0's based)" % nlb)
        sqe = make_sqe(opcode, nsid=self.nsid, cdw10=slba & 0xFFFFFFFF, cdw11=slba >> 32,
                       cdw12=((nlb - 1) & 0xFFFF) | fua << 30, **kw)
        return self.dev.io(sqe, buf, nlb * self.lba_size if buf is not None else None)

    def _qp_rw(self, write, slba, nlb, data, meta, kw):
        """Through the device's own IoQPair (vfn_nvme_read/write): the options the vfn_dev path lacks."""
        qp = self.dev._nvm_qpair()
        if isinstance(data, Buffer):
            return (qp.write if write else qp.read)(self, slba, nlb, data, meta, **kw)
        with self.dev.buffer(max(nlb * self.info.block_size if self.info.mset else nlb * self.lba_size, 1)) as b:
            if write:
                b.fill(bytes(data))
                return qp.write(self, slba, nlb, b, meta, **kw)
            cqe = qp.read(self, slba, nlb, b, meta, **kw)
            if data is None:
                return bytes(b.mem)
            # a bytearray/writable memoryview: filled in place as on the vfn_dev path (it was left untouched
            # and the data returned instead of the Cqe)
            mv = memoryview(data).cast("B")
            if mv.readonly or len(mv) < nlb * self.lba_size:
                raise TypeError("buf: a Buffer, a writable bytes-like object of at least %d bytes, or None" %
                                (nlb * self.lba_size))
            mv[:len(b.mem)] = b.mem[:len(mv)]
            return cqe

    def read(self, slba, nlb=1, buf=None, fua=False, meta=None, **kw):
        """Reads @nlb blocks: into @buf (a Buffer) and returns the Cqe, or returns the bytes.  With @meta (a
        Buffer for separate metadata) or io_opts() keywords (sgl=True, meta_sgl="force", prinfo, ref_tag,
        app_tag, app_mask) it goes through a queue pair of the device with vfn_nvme_read() (VFIO/sim)."""
        if meta is not None or kw:
            return self._qp_rw(False, slba, nlb, buf, meta, dict(kw, fua=fua))
        if buf is None:
            return self._rw(spec.CMD_READ, slba, nlb, nlb * self.lba_size, fua)[1]
        return self._rw(spec.CMD_READ, slba, nlb, buf, fua)

    def write(self, slba, data, fua=False, meta=None, **kw):
        """Writes @data (bytes/Buffer, a whole number of blocks) at @slba; @meta and keywords as read()."""
        if meta is not None or kw:
            bs = self.info.block_size if self.info.mset else self.lba_size
            return self._qp_rw(True, slba, self._blocks(data, bs), data, meta, dict(kw, fua=fua))
        return self._rw(spec.CMD_WRITE, slba, self._blocks(data, self.lba_size), data, fua)

    @staticmethod
    def _blocks(data, bs):
        """Blocks in @data: a whole number of @bs-byte blocks, at least one (ValueError: a short tail was
        dropped, and less than a block sent NLB 0xFFFF with no data)."""
        if not len(data) or len(data) % bs:
            raise ValueError("%d bytes is not a whole number of %d-byte blocks" % (len(data), bs))
        return len(data) // bs

    # ---- zoned namespaces (vfn.zns, <vfn/zns.h>)
    def zns_info(self):
        """The zone geometry: a Record with nsze, zsze, zcap, nr_zones, mor, mar, zoc, ozcs, zasl, lba_size."""
        from . import zns
        return zns.info(self)

    def zones(self, slba=0, state="all", partial=False, max_zones=None):
        """Report Zones: a list of vfn.zns.Zone (zslba, zcap, wp, state, state_name) from the zone holding
        @slba, of zones in @state ("all", "empty", "implicitly opened", "explicitly opened", "closed", "full",
        "read only", "offline")."""
        from . import zns
        return zns.report(self, slba, state, partial, max_zones)

    def zone(self, zslba):
        """The Zone holding @zslba."""
        return self.zones(zslba, max_zones=1)[0]

    def zone_mgmt(self, action, zslba=0, select_all=False):
        """Zone Management Send @action ("open", "close", "finish", "reset", "offline") on the zone at @zslba,
        or every zone it applies to with @select_all; NvmeError on a refused transition."""
        from . import zns
        return zns.send(self, action, zslba, select_all)

    def zone_open(self, zslba=0, select_all=False):
        return self.zone_mgmt("open", zslba, select_all)

    def zone_close(self, zslba=0, select_all=False):
        return self.zone_mgmt("close", zslba, select_all)

    def zone_finish(self, zslba=0, select_all=False):
        return self.zone_mgmt("finish", zslba, select_all)

    def zone_reset(self, zslba=0, select_all=False):
        return self.zone_mgmt("reset", zslba, select_all)

    def zone_offline(self, zslba=0, select_all=False):
        return self.zone_mgmt("offline", zslba, select_all)

    def zone_append(self, zslba, data):
        """Zone Append of @data (whole blocks) to the zone at @zslba: the LBA its first block went to."""
        from . import zns
        return zns.append(self, zslba, data)

    def compare(self, slba, data):
        return self._rw(spec.CMD_COMPARE, slba, self._blocks(data, self.lba_size), data)

    def write_zeroes(self, slba, nlb):
        return self._rw(spec.CMD_WRITE_ZEROES, slba, nlb, None)

    def flush(self):
        return self.dev.io(make_sqe(spec.CMD_FLUSH, nsid=self.nsid))

    def deallocate(self, ranges):
        """Dataset Management, Deallocate, of [(slba, nlb), ...]."""
        data = b"".join(struct.pack("<IIQ", 0, nlb, slba) for slba, nlb in ranges)
        return self.dev.io(make_sqe(spec.CMD_DSM, nsid=self.nsid, cdw10=len(ranges) - 1, cdw11=1 << 2), data)


class QPair:
    """A raw I/O queue pair for crafted sequences: you choose every SQE field (the command id too),
    post SQEs, ring the doorbell when you want, and reap CQEs as the controller wrote them.

    Built on the <vfn/queue.h> primitives (vfn_nvme_cq_alloc/sq_alloc, Create/Delete I/O CQ/SQ);
    post/ring/reap are done here on the ring memory and doorbells (shadow doorbells included),
    as the inline functions of queue.h do.  VFIO/sim only.
    """

    def __init__(self, dev, qid=None, entries=64, vector=-1, create=True, irq=False, sq_cmb=False):
        dev._need_ctrl("raw queues")
        self.sq_cmb = None
        if sq_cmb and not dev.cmb_enable().sqs:
            raise OSError(_errno.ENOTSUP, "%s: an SQ in the CMB: CMBSZ.SQS is 0" % dev.uri)
        self.dev, self.ctrl = dev, dev.ctrl
        if qid is None:  # from the top: vfn_dev's own queues take ids from 1 up
            free = [q for q in range(1, dev.nr_io_queues + 1) if q not in dev._qids]
            if not free:  # was ValueError "max() arg is an empty sequence"
                raise OSError(_errno.EBUSY, "no free I/O queue id: the %d granted are taken" % dev.nr_io_queues)
            qid = max(free)
        self.fd = -1
        if irq:  # the CQ's vector on an eventfd of ours (vfn_nvme_ctrl_irq_route)
            self.fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
            # default: vector = qid (as the library's own pairs, which take low qids), else the highest the
            # function has (ENOTSUP above it)
            # function has (ENOTSUP above it), down to vector 0 (MSI or INTx: the only one; shared with admin)
            tries = [vector] if vector >= 0 else [qid] + list(range(min(qid, 2048) - 1, -1, -1))
            for v in tries:
                ret = lib.vfn_nvme_ctrl_irq_route(self.ctrl, v, self.fd)
                if ret != -_errno.ENOTSUP or v == tries[-1]:
                    break
            if ret < 0:
                os.close(self.fd)
                self.fd = -1
                _check(ret, "routing MSI-X vector %d" % v)
            vector = v
        self.qid, self.entries, self.vector = qid, entries, vector
        self.cq, self.sq = CQ(), SQ()
        _check(lib.vfn_nvme_cq_alloc(self.ctrl, ctypes.byref(self.cq), qid, entries), "CQ alloc")
        ret = lib.vfn_nvme_sq_alloc(self.ctrl, ctypes.byref(self.sq), qid, entries, ctypes.byref(self.cq))
        if ret < 0:
            lib.vfn_nvme_cq_free(self.ctrl, ctypes.byref(self.cq))
            _check(ret, "SQ alloc")
        if sq_cmb:  # the ring in the CMB; the host ring set aside and given back to vfn_nvme_sq_free() in free()
            try:
                self.sq_cmb = CmbBuffer(dev, entries * 64)
            except OSError:
                lib.vfn_nvme_sq_free(self.ctrl, ctypes.byref(self.sq))
                lib.vfn_nvme_cq_free(self.ctrl, ctypes.byref(self.cq))
                raise
            self.sq_cmb.mem[:] = bytes(self.sq_cmb.size)
            self._host_ring = (self.sq.sqes, self.sq.iova)
            self.sq.sqes, self.sq.iova = self.sq_cmb.addr, self.sq_cmb.iova
        self.created_cq = self.created_sq = False
        self.next_cid = 0
        dev._qids.add(qid)
        dev._raw_pairs.add(self)  # freed before the controller is (its rings are the controller's memory)
        if create:
            self.create()

    def create(self):
        self._live()
        cqe = Cqe()
        _check(lib.vfn_nvme_cq_create(self.ctrl, ctypes.byref(self.cq), self.vector, ctypes.byref(cqe)),
               "Create I/O CQ", cqe)
        self.created_cq = True
        _check(lib.vfn_nvme_sq_create(self.ctrl, ctypes.byref(self.sq), 0, ctypes.byref(cqe)), "Create I/O SQ", cqe)
        self.created_sq = True

    def post(self, sqe, cid=None):
        """Copies @sqe to the tail slot (cid: @cid, or the next of a counter when sqe.cid is 0) and advances
        the tail.  No doorbell.  Returns the command id."""
        self._live()
        if cid is not None:
            sqe.cid = cid
        elif not sqe.cid:
            sqe.cid = self.next_cid
            self.next_cid = (self.next_cid + 1) & 0xFFFF
        ctypes.memmove(self.sq.sqes + self.sq.tail * 64, ctypes.byref(sqe), 64)
        self.sq.tail = (self.sq.tail + 1) % self.sq.entries
        return sqe.cid

    @staticmethod
    def _db_write(addr, shadow, val):
        if shadow:
            c_uint32.from_address(shadow).value = val
        c_uint32.from_address(addr).value = val  # x86: stores are not reordered with older stores

    def ring(self, tail=None):
        """Writes the SQ tail doorbell (the current tail, or any @tail)."""
        self._live()
        t = self.sq.tail if tail is None else tail
        self.sq.db_tail = t
        self._db_write(self.sq.db, self.sq.shadow_db, t)

    def submit(self, sqe, cid=None):
        cid = self.post(sqe, cid)
        self.ring()
        return cid

    def peek(self):
        """The CQE at the head if its phase tag is current, else None (not consumed)."""
        self._live()
        addr = self.cq.cqes + self.cq.head * 16
        if ctypes.c_uint16.from_address(addr + 14).value & 1 != self.cq.phase:
            return None
        return Cqe.from_buffer_copy((ctypes.c_char * 16).from_address(addr))

    def reap(self, n=1, timeout_ms=5000, ring=True):
        """Waits for up to @n CQEs (at least one unless @timeout_ms passes); consumes them and rings the
        CQ head doorbell.  Returns the list (may be shorter than @n on timeout)."""
        self._live()
        out, deadline = [], time.monotonic() + timeout_ms / 1000.0
        while len(out) < n:
            cqe = self.peek()
            if cqe is None:
                if time.monotonic() > deadline:
                    break
                time.sleep(0)
                continue
            out.append(cqe)
            self.sq.head = cqe.sqhd
            self.cq.head += 1
            if self.cq.head == self.cq.entries:
                self.cq.head, self.cq.phase = 0, self.cq.phase ^ 1
        if out and ring:
            self.ring_cq()
        return out

    def wait(self, timeout_ms=5000):
        """Waits for the CQ's interrupt on the eventfd (irq=True) and consumes its count; True if one came.
        Reap after it (a completion may also be there without a new interrupt: peek first when unsure)."""
        self._live()
        if self.fd < 0:
            raise ValueError("QPair opened without irq=True")
        # INTx: VFIO masked the line when it last fired; re-arm it now that the caller has reaped (no-op on MSI-X/MSI).
        lib.vfn_nvme_ctrl_irq_ack(self.ctrl)
        if not select.select([self.fd], [], [], timeout_ms / 1000.0)[0]:
            return False
        try:
            os.eventfd_read(self.fd)
        except BlockingIOError:
            return False
        return True

    def ring_cq(self, head=None):
        self._live()
        h = self.cq.head if head is None else head
        self.cq.db_head = h
        self._db_write(self.cq.db, self.cq.shadow_db, h)

    def execute(self, sqe, timeout_ms=5000, check=True):
        """Submits @sqe, waits for its completion (by command id) and returns it; NvmeError on error status
        when @check, TimeoutError when nothing came."""
        cid = self.submit(sqe)
        deadline = time.monotonic() + timeout_ms / 1000.0
        while True:
            got = self.reap(1, max(deadline - time.monotonic(), 0) * 1000)
            if not got and time.monotonic() < deadline:
                continue
            if not got:
                raise TimeoutError(_errno.ETIMEDOUT, "command %d on queue %d: no completion in %d ms" %
                                   (cid, self.qid, timeout_ms))
            if got[0].cid == cid:
                break
        if check and got[0].status:
            raise NvmeError(got[0], opcode_name(False, sqe.opcode))
        return got[0]

    @staticmethod
    def set_prp(sqe, buf, length=None, offset=0, page=4096):
        """Fills PRP1/PRP2 of @sqe for @length bytes of the Buffer @buf from @offset, with a PRP list (kept on
        the buffer's tail page-aligned area when needed: the buffer must be one page larger)."""
        length = buf.size - offset if length is None else length
        base = buf.iova + offset
        sqe.prp1 = base
        first = page - (base % page)
        if length <= first:
            sqe.prp2 = 0
        elif length <= first + page:
            sqe.prp2 = base + first
        else:
            pages = [base + first + i * page for i in range((length - first + page - 1) // page)]
            list_off = buf.alloc_len - page
            assert list_off >= offset + length and len(pages) <= page // 8, "buffer too small for a PRP list"
            struct.pack_into("<%dQ" % len(pages), buf._arr, list_off, *pages)
            sqe.prp2 = buf.iova + list_off
        return sqe

    def _live(self):
        if self.ctrl is None:
            raise ValueError("QPair used after free() (or after its Device was closed)")

    def delete(self):
        cqe = Cqe()
        if self.created_sq:
            lib.vfn_nvme_sq_delete(self.ctrl, ctypes.byref(self.sq), ctypes.byref(cqe))
            self.created_sq = False
        if self.created_cq:
            lib.vfn_nvme_cq_delete(self.ctrl, ctypes.byref(self.cq), ctypes.byref(cqe))
            self.created_cq = False

    def free(self):
        if self.ctrl is not None:
            self.delete()
            if self.sq_cmb is not None:
                self.sq.sqes, self.sq.iova = self._host_ring
                self.sq_cmb.free()
                self.sq_cmb = None
            lib.vfn_nvme_sq_free(self.ctrl, ctypes.byref(self.sq))
            lib.vfn_nvme_cq_free(self.ctrl, ctypes.byref(self.cq))
            if self.fd >= 0:
                lib.vfn_nvme_ctrl_irq_route(self.ctrl, self.vector, -1)
                os.close(self.fd)
                self.fd = -1
            self.dev._qids.discard(self.qid)
            self.ctrl = None

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.free()


class IoQPair:
    """A queue pair of the library's I/O layer (vfn_nvme_qpair_create): the library fills command ids
    and data pointers and tracks timeouts.  irq=True binds MSI-X vector @qid to an eventfd
    (``eventfd``: read it, or select() on it, to see the interrupts).  Has its own command log and
    driver-side error injection (works on any controller).  VFIO/sim only."""

    def __init__(self, dev, qid=None, entries=64, irq=False, timeout_ms=0, sq_cmb=False, lists_cmb=False):
        dev._need_ctrl("queue pairs")
        if sq_cmb or lists_cmb:  # the reason in the exception, not only in the library's log
            info = dev.cmb_enable()
            if sq_cmb and not info.sqs:
                raise OSError(_errno.ENOTSUP, "%s: an SQ in the CMB: CMBSZ.SQS is 0" % dev.uri)
            if lists_cmb and not info.lists:
                raise OSError(_errno.ENOTSUP, "%s: PRP lists in the CMB: CMBSZ.LISTS is 0" % dev.uri)
        # Default: the highest free qid (vfn_dev's own queues take ids from 1 up) whose vector exists.
        qids = [qid] if qid is not None else [q for q in range(dev.nr_io_queues, 0, -1) if q not in dev._qids]
        if not qids:  # was UnboundLocalError
            raise OSError(_errno.EBUSY, "no free I/O queue id: the %d granted are taken" % dev.nr_io_queues)
        opts = QpairOpts(entries=entries, irq=irq, timeout_ms=timeout_ms, sq_cmb=sq_cmb, lists_cmb=lists_cmb)
        h = c_void_p()
        no_vector = None
        for qid in qids:
            ret = lib.vfn_nvme_qpair_create(dev.ctrl, qid, ctypes.byref(opts), ctypes.byref(h))
            if ret == -_errno.ENOTSUP and no_vector is None:
                no_vector = qid
            if ret != -_errno.ENOTSUP or not irq:
                break
        if ret < 0 and irq and no_vector is not None:  # its vector was not there (MSI or INTx: one): vector 0
            opts.vector_set, opts.vector = True, 0
            ret2 = lib.vfn_nvme_qpair_create(dev.ctrl, no_vector, ctypes.byref(opts), ctypes.byref(h))
            if ret2 == 0 or ret == -_errno.ENOTSUP:
                qid, ret = no_vector, ret2
        _check(ret, "queue pair %d" % qid)
        self.dev, self.qid, self._h = dev, qid, h.value
        self.sq_cmb, self.lists_cmb = sq_cmb, lists_cmb
        dev._qids.add(qid)
        dev._pairs.append(self)

    def _live(self):
        """The handle, or ValueError after close() (or after its Device was closed)."""
        if not self._h:
            raise ValueError("IoQPair used after close() (or after its Device was closed)")
        return self._h

    @property
    def sq(self):
        """The pair's SQ (struct vfn_sq, the first member of struct vfn_nvme_qpair), live: read ``iova`` (a CMB
        address with sq_cmb=True), ``entries``, ``qid``, ``tail``, ``head``; post through io(), not through it."""
        return SQ.from_address(self._live())

    @property
    def eventfd(self):
        """The eventfd of the pair's vector, or -1 when polled.  io() waits on it (and so consumes its
        count): read or select() it yourself only around commands you do not wait for through io()."""
        return lib.vfn_nvme_qpair_eventfd(self._live())

    def io(self, sqe, buf=None, length=None, timeout_ms=0, sgl=False, meta=None, meta_len=None, meta_sgl="auto"):
        """Sends @sqe with @buf (a Buffer of the device, or None) and waits; returns the Cqe or raises.
        @sgl: the data described by an SGL (PSDT 01b/10b) instead of PRPs.  @meta: a Buffer of separate
        metadata (@meta_len bytes, default its size) that vfn puts in MPTR: contiguous, or as an SGL
        (@meta_sgl "auto"/"off"/"force", see io_opts()).  OSError EINVAL/ENOTSUP before anything is sent
        (vfn_nvme_io_sync_meta())."""
        self._live()
        cqe = Cqe()
        opts = io_opts(timeout_ms=timeout_ms, sgl=sgl, meta_sgl=meta_sgl)
        _need_buffer(buf, "buf", True)
        _need_buffer(meta, "meta", True)
        n = (buf.size if length is None else length) if buf is not None else 0
        if buf is not None:
            buf._live()
            if not 0 <= n <= buf.size:  # past it: DMA into whatever follows (a sub-buffer's parent)
                raise ValueError("%s: length %d for a buffer of %d bytes" % (opcode_name(False, sqe.opcode), n,
                                                                            buf.size))
        if meta is not None and meta_len is not None and not 0 <= meta_len <= meta.size:
            raise ValueError("%s: meta_len %d for a buffer of %d bytes" % (opcode_name(False, sqe.opcode),
                                                                          meta_len, meta.size))
        addr = buf.addr if buf is not None else None
        if meta is None:
            ret = lib.vfn_nvme_io_sync(self._h, ctypes.byref(sqe), addr, n, ctypes.byref(opts), ctypes.byref(cqe))
        else:
            meta._live()
            ret = lib.vfn_nvme_io_sync_meta(self._h, ctypes.byref(sqe), addr, n, meta.addr,
                                            meta.size if meta_len is None else meta_len, ctypes.byref(opts),
                                            ctypes.byref(cqe))
        _check(ret, opcode_name(False, sqe.opcode), cqe)
        return cqe

    def _rw(self, fn, what, ns, slba, nlb, buf, meta, kw):
        self._live()
        _need_buffer(buf, "buf")
        _need_buffer(meta, "meta", True)
        if not isinstance(ns, Namespace):
            ns = self.dev.namespace(ns)
        info = ns.info
        slba, nlb = _uint(slba, 64, "slba"), _uint(nlb, 64, "nlb")  # ctypes truncates: 2^64 was LBA 0
        opts = io_opts(**kw)
        buf._live()
        opts.buf_len = buf.size
        if meta is not None:
            meta._live()
            opts.meta, opts.meta_len = meta.addr, meta.size
        cqe = Cqe()
        _check(fn(self._h, ctypes.byref(info), slba, nlb, buf.addr, ctypes.byref(opts), ctypes.byref(cqe)), what, cqe)
        return cqe

    def read(self, ns, slba, nlb, buf, meta=None, **kw):
        """Reads @nlb blocks of @ns (a Namespace or an NSID) from @slba into @buf (a Buffer: nlb x lba_size,
        or nlb x (lba_size + ms) on an extended-LBA namespace) with vfn_nvme_read(): split past MDTS, @meta a
        Buffer of separate metadata (nlb x ms).  Keywords as io_opts(): sgl, meta_sgl, prinfo, ref_tag,
        app_tag, app_mask, fua, timeout_ms.  Returns the (first failing) Cqe or raises NvmeError/OSError."""
        return self._rw(lib.vfn_nvme_read, "Read", ns, slba, nlb, buf, meta, kw)

    def write(self, ns, slba, nlb, buf, meta=None, **kw):
        """Writes @nlb blocks from @buf (and @meta) at @slba of @ns with vfn_nvme_write(); as read()."""
        return self._rw(lib.vfn_nvme_write, "Write", ns, slba, nlb, buf, meta, kw)

    def log_enable(self, entries=256):
        _check(lib.vfn_nvme_qpair_log_enable(self._live(), entries), "command log")

    def cmdlog(self):
        """This pair's command log as text ('' when off)."""
        n = lib.vfn_nvme_qpair_log_snprint(self._live(), None, 0)
        if n <= 0:
            return ""
        b = ctypes.create_string_buffer(n + 1)
        lib.vfn_nvme_qpair_log_snprint(self._h, b, n + 1)
        return b.value.decode(errors="replace")

    def inject_status(self, opcode, count, status):
        """Driver-side: the next @count commands with @opcode are not sent and complete with @status."""
        _check(lib.vfn_nvme_inject_status(self._live(), opcode, count, status), "inject")

    def inject_clear(self):
        lib.vfn_nvme_inject_clear(self._live())

    def close(self):
        if self._h:
            lib.vfn_nvme_qpair_destroy(self._h)
            self._h = None
            self.dev._qids.discard(self.qid)
            if self in self.dev._pairs:
                self.dev._pairs.remove(self)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


class AsyncQueue:
    """Asynchronous I/O with callbacks on any backend (vfn_dev_queue_*).

    submit(sqe, buf, cb) queues a command; cb(ret, cqe) runs from poll()/wait()
    (ret 0, or -EIO with the error status in cqe, or -errno).
    """

    def __init__(self, dev, depth=32):
        self.dev = dev
        h = c_void_p()
        dev._live()
        _check(lib.vfn_dev_queue_create(dev._h, depth, ctypes.byref(h)), "queue")
        self._h = h.value
        self._pending = {}
        self._next = 1

        def trampoline(arg, ret, cqe):
            cb = self._pending.pop(arg)
            cb(ret, Cqe.from_buffer_copy(cqe.contents))

        self._cb = DEV_CB(trampoline)

    def _live(self):
        """The handle, or ValueError after close() (a NULL handle made vfn_dev_poll() & co. SIGSEGV)."""
        if not self._h:
            raise ValueError("AsyncQueue used after close()")
        return self._h

    @property
    def path(self):
        return lib.vfn_dev_queue_path(self._live()).decode()

    @property
    def inflight(self):
        return lib.vfn_dev_queue_inflight(self._live())

    def submit(self, sqe, buf, cb):
        """@buf: a Buffer of the device (or None)."""
        self._live()
        if buf is not None:
            buf._live()
        key = self._next
        self._next += 1
        self._pending[key] = cb
        ret = lib.vfn_dev_submit(self._h, ctypes.byref(sqe), buf.addr if buf else None, buf.size if buf else 0,
                                 self._cb, key)
        if ret < 0:
            del self._pending[key]
            _check(ret, "submit")

    def poll(self, max_=0):
        return _check(lib.vfn_dev_poll(self._live(), max_), "poll")

    def wait(self, max_=0):
        return _check(lib.vfn_dev_wait(self._live(), max_), "wait")

    def close(self):
        if self._h:
            lib.vfn_dev_queue_destroy(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


__all__ = ["NvmeError", "Device", "Namespace", "Buffer", "CmbBuffer", "QPair", "IoQPair", "AsyncQueue", "Sim",
           "make_sqe", "status_name", "opcode_name", "io_opts", "META_SGL"]
