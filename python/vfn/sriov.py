# SPDX-License-Identifier: MIT
"""NVMe virtualization (<vfn/sriov.h>, docs/sriov.md) from Python: the primary controller's capabilities
(Identify CNS 14h), its secondary controllers (CNS 15h) and Virtualization Management (1Ch), as
Device.primary_ctrl_cap(), .secondary_ctrls(), .virt_mgmt(), .secondary_assign(), .secondary_online()."""
import ctypes

from . import spec
from ._lib import Cqe, PrimaryCtrlCap, SecondaryCtrlList, VirtMgmtArgs, c_uint16, lib

CRT_VQ, CRT_VI = 1 << 0, 1 << 1
RT = {"vq": 0, "vi": 1}  # resource types: Virtual Queue, Virtual Interrupt
ACT = {"primary_flex": 0x1, "offline": 0x7, "assign": 0x8, "online": 0x9}


def _check(ret, what, cqe):
    from .device import _check as check
    return check(ret, what, cqe)


def _uint(v, bits, what):
    from .device import _uint as uint
    return uint(v, bits, what)


def _rt(rt):
    return RT[rt.lower()] if isinstance(rt, str) else _uint(rt, 8, "resource type")


def decode_primary_ctrl_cap(c):
    """A PrimaryCtrlCap (or its 4096 bytes) as a spec.Record of its fields, plus vq and vi (CRT bits) and
    the VQ/VI flexible resources left to assign (vq_free = vqfrt - vqrfa, vi_free)."""
    if not isinstance(c, PrimaryCtrlCap):
        c = PrimaryCtrlCap.from_buffer_copy(bytes(c)[:ctypes.sizeof(PrimaryCtrlCap)])
    rec = spec.Record((n, getattr(c, n)) for n, _ in c._fields_ if not n.startswith("rsvd"))
    rec["vq"], rec["vi"] = bool(c.crt & CRT_VQ), bool(c.crt & CRT_VI)
    rec["vq_free"], rec["vi_free"] = c.vqfrt - c.vqrfa, c.vifrt - c.virfa
    return rec


def decode_secondary_list(lst):
    """A SecondaryCtrlList (or its bytes) as a list of spec.Record: scid, pcid, online (SCS bit 0), scs, vfn
    (the VF number, 1-based; 0: none), nvq, nvi."""
    if not isinstance(lst, SecondaryCtrlList):
        lst = SecondaryCtrlList.from_buffer_copy(bytes(lst)[:ctypes.sizeof(SecondaryCtrlList)])
    out = []
    for e in lst.sc_entry[:min(lst.numid, 127)]:
        out.append(spec.Record(scid=e.scid, pcid=e.pcid, online=bool(e.scs & 1), scs=e.scs, vfn=e.vfn, nvq=e.nvq,
                               nvi=e.nvi))
    return out


def primary_ctrl_cap(dev):
    dev._live()
    c, cqe = PrimaryCtrlCap(), Cqe()
    _check(lib.vfn_dev_primary_ctrl_cap(dev._h, ctypes.byref(c), ctypes.byref(cqe)), "Identify CNS 14h", cqe)
    return decode_primary_ctrl_cap(c)


def secondary_ctrls(dev, cntid=0):
    dev._live()
    cntid = _uint(cntid, 16, "cntid")
    lst, cqe = SecondaryCtrlList(), Cqe()
    _check(lib.vfn_dev_secondary_ctrl_list(dev._h, cntid, ctypes.byref(lst), ctypes.byref(cqe)), "Identify CNS 15h",
           cqe)
    return decode_secondary_list(lst)


def virt_mgmt(dev, cntlid, rt, act, nr=0):
    dev._live()  # ctypes truncates: nr=70000 went out as 4464, cntlid 65537 as 1
    args = VirtMgmtArgs(cntlid=_uint(cntlid, 16, "cntlid"), rt=_rt(rt),
                        act=ACT[act.lower()] if isinstance(act, str) else _uint(act, 8, "action"),
                        nr=_uint(nr, 16, "nr"))
    nrm, cqe = c_uint16(), Cqe()
    _check(lib.vfn_dev_virt_mgmt(dev._h, ctypes.byref(args), ctypes.byref(nrm), ctypes.byref(cqe)),
           "Virtualization Management", cqe)
    return nrm.value


def secondary_assign(dev, scid, rt, nr):
    dev._live()
    scid, rt, nr = _uint(scid, 16, "scid"), _rt(rt), _uint(nr, 16, "nr")
    nrm, cqe = c_uint16(), Cqe()
    _check(lib.vfn_dev_secondary_assign(dev._h, scid, rt, nr, ctypes.byref(nrm), ctypes.byref(cqe)),
           "Virtualization Management (assign)", cqe)
    return nrm.value


def secondary_online(dev, scid, online=True):
    dev._live()
    scid = _uint(scid, 16, "scid")
    cqe = Cqe()
    _check(lib.vfn_dev_secondary_online(dev._h, scid, online, ctypes.byref(cqe)),
           "Virtualization Management (%s)" % ("online" if online else "offline"), cqe)
    return cqe
