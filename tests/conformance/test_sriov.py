# SPDX-License-Identifier: MIT
"""Virtualization (NVMe Base 1.4, 8.5 Virtualization Enhancements; 5.22 Virtualization Management; Identify
CNS 14h Primary Controller Capabilities and 15h Secondary Controller List, 5.15.2): the primary's resource
accounting and a secondary controller's flexible resources assigned and taken back through vfn.sriov.

Needs a primary controller (skips naming the Identify CNS 14h status otherwise: the simulator has none).
With VFN_TEST_SRIOV="VQFRT:VIFRT:secondaries" (what the test's controller was configured with) the
capabilities are compared with it.  Changes only offline secondaries' resources, and gives them back.
"""
import os

import pytest

import vfn

pytestmark = [pytest.mark.needs("sriov")]


def test_primary_caps(dev):
    """5.15.2 (Primary Controller Capabilities): CNTLID is the controller's own, the flexible resources
    assigned to secondaries do not exceed the totals, the most per secondary not the total; with
    VFN_TEST_SRIOV, VQFRT and VIFRT are those configured."""
    c = dev.primary_ctrl_cap()
    assert c.cntlid == dev.id_ctrl.cntlid
    assert c.vqrfa <= c.vqfrt and c.virfa <= c.vifrt
    assert c.vqfrsm <= c.vqfrt and c.vifrsm <= c.vifrt
    want = os.environ.get("VFN_TEST_SRIOV")
    if want:
        vq, vi, _ = (int(x) for x in want.split(":"))
        assert (c.vqfrt, c.vifrt, c.crt) == (vq, vi, 3)


def test_secondary_list(dev):
    """5.15.2 (Secondary Controller List): each entry names this controller as its primary (PCID), distinct
    SCIDs, VF numbers from 1; the resources they hold add up to the primary's VQRFA / VIRFA."""
    c = dev.primary_ctrl_cap()
    sec = dev.secondary_ctrls()
    assert all(s.pcid == c.cntlid for s in sec)
    assert len({s.scid for s in sec}) == len(sec)
    assert sorted(s.vfn for s in sec) == list(range(1, len(sec) + 1))
    assert sum(s.nvq for s in sec) == c.vqrfa and sum(s.nvi for s in sec) == c.virfa
    want = os.environ.get("VFN_TEST_SRIOV")
    if want:
        assert len(sec) == int(want.split(":")[2])


def offline_secondary(dev):
    sec = dev.secondary_ctrls()
    if not sec:
        pytest.skip("no secondary controller (Identify CNS 15h NUMID = 0)")
    for s in sec:
        if not s.online:
            return s
    pytest.skip("every secondary controller is online: none to change")


def test_assign_and_take_back(dev):
    """5.22 (Secondary Controller Assign, action 8): flexible VQ and VI resources assigned to an offline
    secondary are reported modified (NRM), shown in its entry (NVQ/NVI) and counted in the primary's
    VQRFA/VIRFA; assigning 0 takes them back."""
    s = offline_secondary(dev)
    c0 = dev.primary_ctrl_cap()
    nvq, nvi = min(2, c0.vqfrsm, c0.vq_free), min(1, c0.vifrsm, c0.vi_free)
    if not nvq or not nvi:
        pytest.skip("no free flexible VQ/VI resources (VQFRT - VQRFA = %d, VIFRT - VIRFA = %d)" %
                    (c0.vq_free, c0.vi_free))
    try:
        assert dev.secondary_assign(s.scid, "vq", nvq) == nvq
        assert dev.secondary_assign(s.scid, "vi", nvi) == nvi
        e = [x for x in dev.secondary_ctrls() if x.scid == s.scid][0]
        assert (e.nvq, e.nvi, e.online) == (nvq, nvi, False)
        c1 = dev.primary_ctrl_cap()
        assert (c1.vqrfa, c1.virfa) == (c0.vqrfa - s.nvq + nvq, c0.virfa - s.nvi + nvi)
    finally:
        dev.secondary_assign(s.scid, "vq", 0)
        dev.secondary_assign(s.scid, "vi", 0)
    e = [x for x in dev.secondary_ctrls() if x.scid == s.scid][0]
    assert (e.nvq, e.nvi) == (0, 0)


def test_assign_beyond_limit(dev):
    """5.22: assigning a secondary more flexible VQ resources than VQFRSM is Invalid Number of Controller
    Resources (121h); its resources stay as they were."""
    s = offline_secondary(dev)
    c = dev.primary_ctrl_cap()
    with pytest.raises(vfn.NvmeError) as e:
        dev.secondary_assign(s.scid, "vq", c.vqfrsm + 1)
    assert (e.value.code, e.value.name) == (0x121, "Invalid Number of Controller Resources")
    assert [x for x in dev.secondary_ctrls() if x.scid == s.scid][0].nvq == s.nvq


def test_online_without_resources(dev):
    """5.22 (Secondary Controller Online, action 9) / 8.5: a secondary without the VQ and VI resources it
    needs cannot be brought online: Invalid Secondary Controller State (120h), and it stays offline."""
    s = offline_secondary(dev)
    if s.nvq or s.nvi:
        pytest.skip("secondary %d holds resources already" % s.scid)
    with pytest.raises(vfn.NvmeError) as e:
        dev.secondary_online(s.scid)
    assert (e.value.code, e.value.name) == (0x120, "Invalid Secondary Controller State")
    assert not [x for x in dev.secondary_ctrls() if x.scid == s.scid][0].online


def test_invalid_controller_id(dev):
    """5.22: Secondary Controller Assign to a controller identifier that is no secondary of this primary is
    Invalid Controller Identifier (11Fh)."""
    ids = {s.scid for s in dev.secondary_ctrls()} | {dev.id_ctrl.cntlid}
    bad = max(ids) + 100
    with pytest.raises(vfn.NvmeError) as e:
        dev.secondary_assign(bad, "vq", 1)
    assert (e.value.code, e.value.name) == (0x11F, "Invalid Controller Identifier")
