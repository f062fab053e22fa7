# SPDX-License-Identifier: MIT
"""Namespace management: Namespace Management (create/delete) and Namespace Attachment (attach/detach)
and what Identify reports across them (NVMe Base 1.4, 8.12, 5.20, 5.19, 5.15.2).

Each test creates its own namespace from unallocated capacity and deletes it again; it never touches a
namespace it did not create.  On sim: the group runs with nn=4; the simulator starts with every
namespace slot allocated, so there (a throwaway controller per test) the last one is deleted first to
make room.
"""
import struct

import pytest

import vfn
from helpers import known_deviation, status_of
from vfn import spec

pytestmark = [pytest.mark.needs("ns_mgmt"), pytest.mark.sim_opts("nn=4")]

SEL_CREATE, SEL_DELETE, SEL_ATTACH, SEL_DETACH = 0, 1, 0, 1
SC_NS_INSUFFICIENT_CAP, SC_NS_ID_UNAVAILABLE = 0x115, 0x116
SC_NS_ALREADY_ATTACHED, SC_NS_NOT_ATTACHED = 0x118, 0x11A
CNS_ALLOCATED_NS_LIST, CNS_ALLOCATED_NS = 0x10, 0x11
NLB = 256  # blocks of the namespaces the tests create
# QEMU 7.2 sets OACS bit 3 (it implements Namespace Attachment) but answers the Namespace Management
# command itself (0Dh) with Invalid Command Opcode.
QEMU_NO_NS_MGMT = "OACS bit 3 is set but Namespace Management (0Dh) is Invalid Command Opcode"


def ns_create(dev, nlb=NLB):
    """Namespace Management, Create (5.20): an Identify Namespace structure with NSZE = NCAP = @nlb in
    the format of the first active namespace, no protection; returns the NSID from DW0."""
    idn = dev.identify_ns(dev.ns_list()[0])
    data = bytearray(4096)
    struct.pack_into("<QQ", data, 0, nlb, nlb)
    data[26] = idn.flbas & 0x1F
    sqe = vfn.make_sqe(spec.ADMIN_NS_MGMT, cdw10=SEL_CREATE, cdw11=0)  # CSI 00h: NVM
    return dev.admin(sqe, bytes(data)).dw0


def ns_delete(dev, nsid):
    dev.admin(vfn.make_sqe(spec.ADMIN_NS_MGMT, nsid=nsid, cdw10=SEL_DELETE))


def ns_attach(dev, nsid, sel=SEL_ATTACH):
    """Namespace Attachment (5.19) of this controller (its CNTLID in a one-entry Controller List)."""
    data = struct.pack("<HH", 1, dev.id_ctrl.cntlid) + bytes(4092)
    dev.admin(vfn.make_sqe(spec.ADMIN_NS_ATTACH, nsid=nsid, cdw10=sel), data)


def allocated(dev):
    return spec.ns_list(dev.identify(CNS_ALLOCATED_NS_LIST))


@pytest.fixture
def new_ns(dev):
    """A namespace created (not attached) for the test, deleted after it."""
    if dev.sim is not None and dev.id_ctrl.unvmcap == 0 and dev.id_ctrl.nn > 1:
        ns_delete(dev, dev.id_ctrl.nn)  # a fresh simulator per test: free its last slot
        dev.identify_ctrl()
    try:
        nsid = ns_create(dev)
    except vfn.NvmeError as e:
        known_deviation(dev, e.code == spec.SC_INVALID_OPCODE, QEMU_NO_NS_MGMT)
        if e.code in (SC_NS_INSUFFICIENT_CAP, SC_NS_ID_UNAVAILABLE):
            pytest.skip("needs room for a namespace: Namespace Management Create is %s (%#x)" %
                        (vfn.status_name(e.code), e.code))
        raise
    yield nsid
    status_of(lambda: ns_delete(dev, nsid))


def test_create_attach_detach_delete(dev, new_ns):
    """8.12 / 5.20 / 5.19: a created namespace is allocated but inactive; attached it is active with
    the size it was created with; detached it is inactive again; deleted it is no longer allocated."""
    nsid = new_ns
    assert 1 <= nsid <= dev.id_ctrl.nn
    assert nsid in allocated(dev) and nsid not in dev.ns_list()
    assert spec.identify_ns(dev.identify(CNS_ALLOCATED_NS, nsid)).nsze == NLB
    ns_attach(dev, nsid)
    assert nsid in dev.ns_list()
    idn = dev.identify_ns(nsid)
    assert idn.nsze == idn.ncap == NLB
    ns_attach(dev, nsid, SEL_DETACH)
    assert nsid not in dev.ns_list()
    ns_delete(dev, nsid)
    assert nsid not in allocated(dev)


def test_attach_twice(dev, new_ns):
    """5.19.1 (Figure 282): attaching a namespace already attached to the controller is Namespace
    Already Attached (118h); detaching one not attached is Namespace Not Attached (11Ah)."""
    assert status_of(lambda: ns_attach(dev, new_ns, SEL_DETACH)) == SC_NS_NOT_ATTACHED
    ns_attach(dev, new_ns)
    assert status_of(lambda: ns_attach(dev, new_ns)) == SC_NS_ALREADY_ATTACHED
    ns_attach(dev, new_ns, SEL_DETACH)


def test_invalid_nsid(dev):
    """5.20 / 5.19: Delete and Attach of an NSID beyond NN (not FFFFFFFFh) are Invalid Namespace or
    Format (0Bh); so is Identify CNS 11h of one."""
    bad = dev.id_ctrl.nn + 1
    assert status_of(lambda: ns_attach(dev, bad)) == spec.SC_INVALID_NS
    assert status_of(lambda: dev.identify(CNS_ALLOCATED_NS, bad)) == spec.SC_INVALID_NS
    st = status_of(lambda: ns_delete(dev, bad))
    known_deviation(dev, st == spec.SC_INVALID_OPCODE, QEMU_NO_NS_MGMT)
    assert st == spec.SC_INVALID_NS


def test_delete_unallocated(dev, new_ns):
    """5.20: deleting a valid NSID that is not allocated is Invalid Namespace or Format (0Bh)."""
    ns_delete(dev, new_ns)
    assert status_of(lambda: ns_delete(dev, new_ns)) == spec.SC_INVALID_NS


def test_delete_then_identify_inactive(dev, new_ns):
    """8.12 / 5.15.2.1: once an attached namespace is deleted its NSID is inactive: not in the active
    list (CNS 02h) nor the allocated list (CNS 10h), and Identify Namespace (CNS 00h) of it returns a
    zero-filled structure."""
    ns_attach(dev, new_ns)
    assert dev.identify_ns(new_ns).nsze == NLB
    ns_delete(dev, new_ns)  # deleting detaches it (8.12)
    assert new_ns not in dev.ns_list() and new_ns not in allocated(dev)
    assert dev.identify(0, new_ns) == bytes(4096)
