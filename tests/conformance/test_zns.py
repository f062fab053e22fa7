# SPDX-License-Identifier: MIT
"""Zoned namespaces (NVM Express Zoned Namespace Command Set Specification 1.1, "ZNS" below): the zone
report, the zone state machine (ZNS 2.1.1, "Zone State Machine"), writes at the write pointer, Zone
Append (ZNS 3.4.1), Zone Management Send (ZNS 3.4.3) and Receive (ZNS 3.4.2) and the zone statuses
(ZNS 3.4, Figure "Status Code - Command Specific Status Values": 1B8h..1BFh).

Runs on the first zoned namespace (skips naming what is missing: no namespace answers the ZNS Identify
Namespace); uses and resets its first four zones, nothing else.  On sim: the group runs with
zoned=1,zsze=64,mor=3,mar=4.
"""
import os

import pytest

import vfn
from vfn import zns

pytestmark = [pytest.mark.needs("zns"), pytest.mark.sim_opts("zoned=1,zsze=64,mor=3,mar=4")]

ZONES = 4  # the zones the group uses, from the first


@pytest.fixture
def zns_ns(dev):
    """(Namespace, its zns_info) of the first zoned namespace, its first ZONES zones reset (Empty)."""
    for nsid in dev.ns_list():
        ns = dev.namespace(nsid)
        try:
            info = ns.zns_info()
        except (vfn.NvmeError, OSError):
            continue
        if info.nr_zones < ZONES:
            pytest.skip("needs zns: namespace %d has %d zones, the group uses %d" % (nsid, info.nr_zones, ZONES))
        for k in range(ZONES):
            z = ns.zone(k * info.zsze)
            if z.state in (zns.ZS_READ_ONLY, zns.ZS_OFFLINE):
                pytest.skip("needs zns: zone %d of namespace %d is %s" % (k, nsid, z.state_name))
            if z.state != zns.ZS_EMPTY:
                ns.zone_reset(z.zslba)
        return ns, info
    pytest.skip("needs zns: no zoned namespace")


def zslba(info, k):
    return k * info.zsze


def test_report_covers_namespace(zns_ns):
    """ZNS 3.4.2 (Report Zones) / 2.1: the zones tile the namespace: NRZONES = NSZE / ZSZE, zone k starts
    at k x ZSZE, its capacity is at most ZSZE, every zone is Sequential Write Required (ZT 2); the first
    zones (reset) are Empty with the write pointer at their start."""
    ns, info = zns_ns
    assert info.nr_zones == info.nsze // info.zsze
    assert zns.report_count(ns) == info.nr_zones
    zones = ns.zones(max_zones=min(info.nr_zones, 64))
    for k, z in enumerate(zones):
        assert (z.zslba, z.zt) == (k * info.zsze, 2), z
        assert 0 < z.zcap <= info.zsze, z
    for z in zones[:ZONES]:
        assert (z.state, z.state_name, z.wp) == (zns.ZS_EMPTY, "Empty", z.zslba)
    assert zones[0].zcap == info.zcap


def test_write_at_wp(zns_ns):
    """ZNS 2.1.1 / 3.3 (writes to a sequential write required zone): a write at the write pointer of an
    Empty zone opens it implicitly and advances the pointer by its length; the data reads back."""
    ns, info = zns_ns
    s = zslba(info, 0)
    data = bytes(range(256)) * (2 * ns.lba_size // 256)
    ns.write(s, data)
    z = ns.zone(s)
    assert (z.state_name, z.wp) == ("Implicitly Opened", s + 2)
    assert ns.read(s, 2) == data


def test_write_not_at_wp(zns_ns):
    """ZNS 3.3: a write not at the zone's write pointer is Zone Invalid Write (1BCh)."""
    ns, info = zns_ns
    s = zslba(info, 1)
    with pytest.raises(vfn.NvmeError) as e:
        ns.write(s + 1, b"w" * ns.lba_size)
    assert (e.value.code, e.value.name) == (zns.SC_ZONE_INVALID_WRITE, "Zone Invalid Write")
    assert ns.zone(s).wp == s


def test_append_returns_lba(zns_ns):
    """ZNS 3.4.1 (Zone Append): the controller writes at the write pointer and returns the LBA of the first
    block in the completion (DW0/DW1): zslba, then zslba + the blocks appended before."""
    ns, info = zns_ns
    s = zslba(info, 2)
    assert ns.zone_append(s, b"A" * ns.lba_size * 3) == s
    assert ns.zone_append(s, b"B" * ns.lba_size) == s + 3
    assert ns.zone(s).wp == s + 4
    assert ns.read(s, 4) == b"A" * ns.lba_size * 3 + b"B" * ns.lba_size


def test_state_machine(zns_ns):
    """ZNS 2.1.1 / 3.4.3: Open (Empty -> Explicitly Opened), Close (-> Closed), Finish (-> Full, then a write
    is Zone Is Full, 1B9h), Reset (-> Empty, the write pointer back at the start); Close of an Empty zone is
    Invalid Zone State Transition (1BFh)."""
    ns, info = zns_ns
    s = zslba(info, 3)
    with pytest.raises(vfn.NvmeError) as e:
        ns.zone_close(s)
    assert (e.value.code, e.value.name) == (zns.SC_ZONE_INVALID_TRANSITION, "Invalid Zone State Transition")
    ns.zone_open(s)
    assert ns.zone(s).state_name == "Explicitly Opened"
    assert [z.zslba for z in ns.zones(state="explicitly opened")] == [s]
    ns.write(s, b"c" * ns.lba_size)
    ns.zone_close(s)
    z = ns.zone(s)
    assert (z.state_name, z.wp) == ("Closed", s + 1)
    ns.zone_finish(s)
    assert ns.zone(s).state_name == "Full"
    with pytest.raises(vfn.NvmeError) as e:
        ns.zone_append(s, b"d" * ns.lba_size)
    assert (e.value.code, e.value.name) == (zns.SC_ZONE_FULL, "Zone Is Full")
    ns.zone_reset(s)
    z = ns.zone(s)
    assert (z.state_name, z.wp) == ("Empty", s)


def test_boundary(zns_ns):
    """ZNS 3.3: a write crossing the zone's capacity is Zone Boundary Error (1B8h); filling the capacity
    makes the zone Full."""
    ns, info = zns_ns
    s = zslba(info, 1)
    z = ns.zone(s)
    if z.zcap * ns.lba_size > (4 << 20):
        pytest.skip("zone capacity %d blocks: more than 4 MiB to fill" % z.zcap)
    chunk = max(1, min(z.zcap - 1, (ns.dev.info.max_xfer or 131072) // ns.lba_size))
    left = z.zcap - 1
    while left:
        n = min(chunk, left)
        ns.write(ns.zone(s).wp, b"f" * n * ns.lba_size)
        left -= n
    assert ns.zone(s).wp == s + z.zcap - 1
    with pytest.raises(vfn.NvmeError) as e:
        ns.write(s + z.zcap - 1, b"g" * 2 * ns.lba_size)
    assert (e.value.code, e.value.name) == (zns.SC_ZONE_BOUNDARY_ERROR, "Zone Boundary Error")
    ns.write(s + z.zcap - 1, b"h" * ns.lba_size)
    assert ns.zone(s).state_name == "Full"
    ns.zone_reset(s)


def test_open_limit(zns_ns):
    """ZNS 2.1.1.x (Maximum Open Resources): with MOR open zones explicitly opened, opening one more is Too
    Many Open Zones (1BEh)."""
    ns, info = zns_ns
    if not info.mor:
        pytest.skip("no open zone limit (ZNS Identify Namespace MOR = FFFFFFFFh)")
    if info.mor + 1 > info.nr_zones or info.mor + 1 > 16:
        pytest.skip("MOR %d: more zones to open than the group touches" % info.mor)
    opened = []
    try:
        for k in range(info.mor):
            ns.zone_open(zslba(info, k))
            opened.append(k)
        with pytest.raises(vfn.NvmeError) as e:
            ns.zone_open(zslba(info, info.mor))
        assert (e.value.code, e.value.name) == (zns.SC_ZONE_TOO_MANY_OPEN, "Too Many Open Zones")
    finally:
        for k in opened:
            ns.zone_reset(zslba(info, k))


def test_select_all_reset(zns_ns):
    """ZNS 3.4.3 (Select All): Reset with Select All returns every opened, closed and full zone to Empty."""
    ns, info = zns_ns
    ns.write(zslba(info, 0), b"x" * ns.lba_size)
    ns.zone_open(zslba(info, 1))
    ns.zone_finish(zslba(info, 2))
    ns.zone_reset(select_all=True)
    assert [(z.state_name, z.wp) for z in ns.zones(max_zones=ZONES)] == [("Empty", zslba(info, k))
                                                                        for k in range(ZONES)]


def test_geometry(zns_ns):
    """ZNS Identify Namespace (ZSZE in the LBA format extension, MOR, MAR: 0's based): with
    VFN_TEST_ZNS_GEOMETRY set ("zone size in blocks:zones:open at most:active at most", what the test's
    controller was configured with), the geometry read is exactly that."""
    ns, info = zns_ns
    assert info.zcap <= info.zsze and info.nr_zones * info.zsze <= info.nsze
    want = os.environ.get("VFN_TEST_ZNS_GEOMETRY")
    if not want:
        pytest.skip("VFN_TEST_ZNS_GEOMETRY not set: nothing configured to compare with")
    assert "%d:%d:%d:%d" % (info.zsze, info.nr_zones, info.mor, info.mar) == want
