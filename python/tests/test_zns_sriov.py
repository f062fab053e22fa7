# SPDX-License-Identifier: MIT
"""Zoned namespaces and virtualization from Python (vfn.zns, vfn.sriov; Namespace.zones() ...,
Device.primary_ctrl_cap() ...) against the simulator (sim:zoned=1; the sim has no secondary controllers)."""
import ctypes
import struct

import pytest

import vfn
from vfn import sriov, zns

SIM = "sim:zoned=1,nsze=4096,zsze=1024,zcap=1000,mor=2,mar=3,lbads=9"


@pytest.fixture
def ns():
    with vfn.Device(SIM) as d:
        yield d.namespace()


def test_zns_info(ns):
    i = ns.zns_info()
    assert (i.nsze, i.zsze, i.zcap, i.nr_zones, i.mor, i.mar, i.lba_size) == (4096, 1024, 1000, 4, 2, 3, 512)
    assert i.ozcs & 1  # Read Across Zone Boundaries


def test_report_all_empty(ns):
    zones = ns.zones()
    assert [(z.zslba, z.zcap, z.wp, z.state, z.state_name, z.zt) for z in zones] == [
        (s, 1000, s, zns.ZS_EMPTY, "Empty", 2) for s in (0, 1024, 2048, 3072)]


def test_append_returns_lba_and_data_reads_back(ns):
    assert ns.zone_append(1024, b"a" * 1024) == 1024
    assert ns.zone_append(1024, b"b" * 512) == 1026
    z = ns.zone(1024)
    assert (z.wp, z.state_name) == (1027, "Implicitly Opened")
    assert ns.read(1024, 3) == b"a" * 1024 + b"b" * 512


def test_mgmt_actions_and_filters(ns):
    ns.zone_append(1024, b"x" * 512)
    ns.zone_open(2048)
    ns.zone_close(1024)
    assert [(z.zslba, z.state_name) for z in ns.zones(state="closed")] == [(1024, "Closed")]
    assert [(z.zslba, z.state_name) for z in ns.zones(state="explicitly opened")] == [(2048, "Explicitly Opened")]
    assert zns.report_count(ns, 0, "empty") == 2
    ns.zone_finish(2048)
    assert ns.zone(2048).state == zns.ZS_FULL
    with pytest.raises(vfn.NvmeError) as e:
        ns.zone_append(2048, b"y" * 512)
    assert (e.value.code, e.value.name) == (zns.SC_ZONE_FULL, "Zone Is Full")
    with pytest.raises(vfn.NvmeError) as e:
        ns.zone_close(0)  # Empty -> Closed is not a transition
    assert (e.value.code, e.value.name) == (zns.SC_ZONE_INVALID_TRANSITION, "Invalid Zone State Transition")
    with pytest.raises(vfn.NvmeError) as e:
        ns.zone_offline(3072)  # only a Read Only zone may go Offline
    assert e.value.code == zns.SC_ZONE_INVALID_TRANSITION
    ns.zone_reset(select_all=True)
    assert [z.state_name for z in ns.zones()] == ["Empty"] * 4 and ns.zone(1024).wp == 1024


def test_open_limit(ns):
    ns.zone_open(0)
    ns.zone_open(1024)
    with pytest.raises(vfn.NvmeError) as e:
        ns.zone_open(2048)  # MOR: 2 open zones at most
    assert e.value.code == zns.SC_ZONE_TOO_MANY_OPEN and e.value.name == "Too Many Open Zones"


def test_partial_report(ns):
    zones = ns.zones(1024, max_zones=2)
    assert [z.zslba for z in zones] == [1024, 2048]
    assert zns.report_count(ns, 1024) == 3 and zns.report_count(ns, 1024, partial=True) == 1


def test_not_zoned():
    with vfn.Device("sim:") as d:
        with pytest.raises(vfn.NvmeError) as e:
            d.namespace().zns_info()
        assert e.value.name == "Invalid Field in Command"


def test_zone_append_needs_whole_blocks(ns):
    with pytest.raises(OSError):
        ns.zone_append(0, b"z" * 100)


def test_sriov_on_sim_refused():
    """The sim has no primary/secondary controllers: Identify CNS 14h/15h Invalid Field, Virtualization
    Management Invalid Command Opcode, as NvmeError with the status name."""
    with vfn.Device("sim:") as d:
        for call, name in ((d.primary_ctrl_cap, "Invalid Field in Command"),
                           (d.secondary_ctrls, "Invalid Field in Command"),
                           (lambda: d.secondary_assign(1, "vq", 2), "Invalid Command Opcode"),
                           (lambda: d.secondary_online(1), "Invalid Command Opcode"),
                           (lambda: d.virt_mgmt(1, "vi", "offline"), "Invalid Command Opcode")):
            with pytest.raises(vfn.NvmeError) as e:
                call()
            assert e.value.name == name


def test_sriov_decode():
    """The decoders on QEMU 7.2's values with sriov_max_vfs=2, sriov_vq_flexible=4, sriov_vi_flexible=2
    (docs/sriov.md), after assigning 2 VQ and 1 VI to secondary 1 and bringing it online."""
    raw = bytearray(4096)
    struct.pack_into("<HHB", raw, 0, 0, 0, 3)
    struct.pack_into("<IIHHHH", raw, 32, 4, 2, 0, 61, 2, 1)
    struct.pack_into("<IIHHHH", raw, 64, 2, 1, 0, 63, 1, 1)
    c = sriov.decode_primary_ctrl_cap(raw)
    assert (c.crt, c.vq, c.vi, c.vqfrt, c.vqrfa, c.vqprt, c.vqfrsm, c.vqgran) == (3, True, True, 4, 2, 61, 2, 1)
    assert (c.vifrt, c.virfa, c.viprt, c.vifrsm, c.vq_free, c.vi_free) == (2, 1, 63, 1, 2, 1)
    lst = bytearray(4096)
    lst[0] = 2
    struct.pack_into("<HHB3xHHH", lst, 32, 1, 0, 1, 1, 2, 1)
    struct.pack_into("<HHB3xHHH", lst, 64, 2, 0, 0, 2, 0, 0)
    got = sriov.decode_secondary_list(lst)
    assert [(s.scid, s.pcid, s.online, s.vfn, s.nvq, s.nvi) for s in got] == [(1, 0, True, 1, 2, 1),
                                                                             (2, 0, False, 2, 0, 0)]
    assert ctypes.sizeof(vfn._lib.SecondaryCtrlList) == 4096 and ctypes.sizeof(vfn._lib.PrimaryCtrlCap) == 4096
