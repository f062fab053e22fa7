# SPDX-License-Identifier: MIT
"""Zoned namespaces (<vfn/zns.h>, docs/zns.md) from Python: Namespace.zns_info(), .zones(), .zone_open() ...,
.zone_append().  Works on any backend vfn_dev drives (VFIO, the kernel's /dev/ngXnY, sim:zoned=1)."""
import ctypes
import errno

from . import spec
from ._lib import Cqe, ZnsInfo, ZoneDesc, ZoneReport, c_uint64, lib

# Zone states (ZS, Zone Descriptor byte 1 bits 7:4) and their spec names
ZS_EMPTY, ZS_IMP_OPEN, ZS_EXP_OPEN, ZS_CLOSED = 0x1, 0x2, 0x3, 0x4
ZS_READ_ONLY, ZS_FULL, ZS_OFFLINE = 0xD, 0xE, 0xF
# Zone Send Actions
ZSA = {"close": 0x01, "finish": 0x02, "open": 0x03, "reset": 0x04, "offline": 0x05}
# Report Zones filters (ZRASF): a state name or "all"
ZRASF = {"all": 0, "empty": 1, "implicitly opened": 2, "explicitly opened": 3, "closed": 4, "full": 5,
         "read only": 6, "offline": 7}
# Zone statuses (SCT << 8 | SC)
SC_ZONE_BOUNDARY_ERROR, SC_ZONE_FULL, SC_ZONE_READ_ONLY, SC_ZONE_OFFLINE = 0x1B8, 0x1B9, 0x1BA, 0x1BB
SC_ZONE_INVALID_WRITE, SC_ZONE_TOO_MANY_ACTIVE, SC_ZONE_TOO_MANY_OPEN = 0x1BC, 0x1BD, 0x1BE
SC_ZONE_INVALID_TRANSITION = 0x1BF


def state_name(zs):
    """The spec name of zone state @zs ("Empty", "Implicitly Opened", ..., "Reserved")."""
    return lib.vfn_zone_state_str(zs).decode()


class Zone:
    """One Zone Descriptor: zslba, zcap, wp, state (ZS_*), state_name, zt (2: sequential write required),
    za (attributes), zai."""
    __slots__ = ("zslba", "zcap", "wp", "state", "zt", "za", "zai")

    def __init__(self, d):
        self.zslba, self.zcap, self.wp = d.zslba, d.zcap, d.wp
        self.state, self.zt, self.za, self.zai = d.zs >> 4, d.zt & 0xF, d.za, d.zai

    @property
    def state_name(self):
        return state_name(self.state)

    def __eq__(self, other):
        return isinstance(other, Zone) and all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __repr__(self):
        return "Zone(zslba=%d, zcap=%d, wp=%d, state=%s)" % (self.zslba, self.zcap, self.wp, self.state_name)


def _uint(v, bits, what):
    from .device import _uint as uint
    return uint(v, bits, what)


def _check(ret, what, cqe):
    from .device import _check as check  # one place raising NvmeError/OSError
    return check(ret, what, cqe)


def info(ns):
    """The zone geometry of Namespace @ns (vfn_dev_zns_info): a spec.Record with nsze, zsze, zcap, nr_zones,
    mor, mar (0: no limit), zoc, ozcs, zasl, lba_size.  A namespace that is not zoned: NvmeError (its CSI 02h
    Identify fails) or OSError ENOTSUP."""
    ns.dev._live()
    i, cqe = ZnsInfo(), Cqe()
    _check(lib.vfn_dev_zns_info(ns.dev._h, ns.nsid, ctypes.byref(i), ctypes.byref(cqe)), "ZNS Identify", cqe)
    return spec.Record((n, getattr(i, n)) for n, _ in i._fields_)


def report(ns, slba=0, state="all", partial=False, max_zones=None):
    """Report Zones from the zone holding @slba: a list of Zone, of zones in @state ("all", a state name as
    in ZRASF, or the ZRASF number), at most @max_zones (default: as many as the namespace has, within
    the transfer limit).  report_count() gives the report's NRZONES."""
    return _report(ns, slba, state, partial, max_zones)[0]


def _report(ns, slba, state, partial, max_zones):
    ns.dev._live()
    zrasf = ZRASF[state.lower()] if isinstance(state, str) else _uint(state, 8, "zone state filter")
    slba = _uint(slba, 64, "slba")
    if max_zones is None:
        max_zones = info(ns).nr_zones
    max_zones = _uint(max_zones, 64, "max_zones")
    mx = ns.dev.info.max_xfer or (1 << 20)
    n = max(1, min(max_zones, (mx - 64) // 64))
    size = 64 + 64 * n
    buf = ctypes.create_string_buffer(size)
    cqe = Cqe()
    _check(lib.vfn_dev_zone_report(ns.dev._h, ns.nsid, slba, zrasf, partial, buf, size, ctypes.byref(cqe)),
           "Report Zones", cqe)
    nr = ZoneReport.from_buffer_copy(buf.raw[:64]).nr_zones
    got = min(nr, n, max_zones)  # max_zones 0: none (the buffer has room for one all the same)
    return [Zone(ZoneDesc.from_buffer_copy(buf.raw[64 + 64 * k:128 + 64 * k])) for k in range(got)], nr


def report_count(ns, slba=0, state="all", partial=False):
    """NRZONES of a report from @slba (every matching zone; with @partial, only those returned in one
    descriptor's room)."""
    return _report(ns, slba, state, partial, 1)[1]


def send(ns, action, zslba=0, select_all=False):
    """Zone Management Send: @action "open", "close", "finish", "reset", "offline" (or its ZSA number) on the
    zone starting at @zslba, or on every zone it applies to with @select_all.  Returns the Cqe."""
    ns.dev._live()
    zsa = ZSA[action.lower()] if isinstance(action, str) else _uint(action, 8, "zone send action")
    zslba = _uint(zslba, 64, "zslba")  # ctypes truncates: 2^64 went out as zone 0, a ZSA of 260 as 4 (reset)
    cqe = Cqe()
    _check(lib.vfn_dev_zone_mgmt_send(ns.dev._h, ns.nsid, zslba, zsa, select_all, ctypes.byref(cqe)),
           "Zone Management Send (%s)" % action, cqe)
    return cqe


def append(ns, zslba, data):
    """Zone Append of @data (bytes, a whole number of blocks) to the zone starting at @zslba: returns the LBA
    the controller wrote its first block at.  A full zone: NvmeError named "Zone Is Full"."""
    ns.dev._live()
    zslba = _uint(zslba, 64, "zslba")
    b = bytes(data)
    if ns.lba_size != ns.dev.info.lba_size:
        # vfn_dev_zone_append() sizes the data by the device's namespace (vfn_dev_info.lba_size): with another
        # block size it would read nlb x that from @data (past its end when larger)
        raise OSError(errno.ENOTSUP, "Zone Append on namespace %d (%d-byte blocks): vfn_dev_zone_append() sizes "
                      "data by the device's namespace %d (%d-byte blocks); open the Device with nsid=%d" %
                      (ns.nsid, ns.lba_size, ns.dev.info.nsid, ns.dev.info.lba_size, ns.nsid))
    if not b or len(b) % ns.lba_size:
        raise OSError(errno.EINVAL, "Zone Append: %d bytes is not a whole number of %d-byte blocks" %
                      (len(b), ns.lba_size))
    alba, cqe = c_uint64(), Cqe()
    _check(lib.vfn_dev_zone_append(ns.dev._h, ns.nsid, zslba, len(b) // ns.lba_size, b, ctypes.byref(alba),
                                   ctypes.byref(cqe)), "Zone Append", cqe)
    return alba.value
