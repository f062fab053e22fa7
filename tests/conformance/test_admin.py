# SPDX-License-Identifier: MIT
"""Admin command basics: Identify, Get/Set Features, Get Log Page (NVMe Base 1.4, 5.15, 5.21, 5.14)."""
import pytest

import vfn
from helpers import known_deviation, status_of, temp_thresh
from vfn import spec


def test_identify_controller(dev):
    """5.15.2.2 (Figure 247): CNS 01h returns the Identify Controller structure: SQES minimum 6 (64-byte
    SQEs), CQES minimum 4 (16-byte CQEs), NN >= 1, SN/MN printable ASCII."""
    idc = dev.identify_ctrl()
    assert idc.sqes & 0xF == 6 and idc.cqes & 0xF == 4
    assert idc.sqes >> 4 >= 6 and idc.cqes >> 4 >= 4
    assert idc.nn >= 1
    for field in (idc.raw[4:24], idc.raw[24:64], idc.raw[64:72]):
        assert all(0x20 <= b <= 0x7E for b in field)


def test_identify_namespace(dev):
    """5.15.2.1 (Figure 249): CNS 00h for an active NSID: NCAP <= NSZE, NUSE <= NCAP, the format in
    use (FLBAS) within NLBAF, LBADS >= 9 (512 bytes)."""
    nsid = dev.ns_list()[0]
    ns = dev.identify_ns(nsid)
    assert 0 < ns.ncap <= ns.nsze and ns.nuse <= ns.ncap
    assert ns.flbas & 0xF <= ns.nlbaf
    assert ns.lbaf[ns.flbas & 0xF].lbads >= 9


def test_identify_invalid_nsid(dev):
    """5.15.2 / 6.1.2: CNS 00h with an NSID beyond NN (not 0xFFFFFFFF) is Invalid Namespace or Format."""
    nn = dev.id_ctrl.nn
    assert status_of(lambda: dev.identify(0, nn + 1)) == spec.SC_INVALID_NS


def test_identify_active_ns_list(dev):
    """5.15.2.3: CNS 02h lists active NSIDs above CDW1.NSID in increasing order; each is <= NN and
    identifies with a non-zero NSZE."""
    ids = dev.ns_list()
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert ids and all(1 <= i <= dev.id_ctrl.nn for i in ids)
    assert dev.ns_list(ids[0]) == ids[1:]
    assert all(dev.identify_ns(i).nsze > 0 for i in ids)


def test_identify_ns_descriptors(dev):
    """5.15.2.4 (Figure 250): CNS 03h: a controller of version 1.3 or later returns at least one
    Namespace Identification Descriptor (EUI64 8, NGUID 16 or UUID 16 bytes long)."""
    if dev.id_ctrl.ver < 0x00010300:
        pytest.skip("needs NVMe 1.3: the controller reports VER %#x" % dev.id_ctrl.ver)
    descs = vfn.spec.ns_descriptors(dev.identify(3, dev.ns_list()[0]))
    assert descs
    lengths = {1: 8, 2: 16, 3: 16}
    for nidt, nid in descs:
        if nidt in lengths:
            assert len(nid) == lengths[nidt]


def test_identify_reserved_cns(dev):
    """5.15.2: a reserved CNS value is Invalid Field in Command."""
    assert status_of(lambda: dev.identify(0xFF)) == spec.SC_INVALID_FIELD


def test_get_features_number_of_queues(dev):
    """5.21.1.7: Number of Queues: DW0 NSQA (15:0) and NCQA (31:16) are the allocated I/O queues
    (0's based), at least one each."""
    dw0 = dev.get_features(spec.FEAT_NUM_QUEUES)
    assert dw0 & 0xFFFF >= 0 and dw0 >> 16 >= 0
    if dev.ctrl is not None:
        assert (dw0 & 0xFFFF) + 1 >= dev.nr_io_queues


def test_set_get_features_round_trip(dev):
    """5.21.1.4 / 5.22: Temperature Threshold (over, composite): a value set is read back by Get
    Features."""
    cur, new = temp_thresh(dev)
    dev.set_features(spec.FEAT_TEMP_THRESH, new)
    assert dev.get_features(spec.FEAT_TEMP_THRESH) & 0xFFFF == new
    dev.set_features(spec.FEAT_TEMP_THRESH, cur)


@pytest.mark.needs("sel")
def test_get_features_select(dev):
    """5.21 (Figure 283) SEL: 00b current, 01b default, 11b supported capabilities (bit 2: changeable).
    After Set Features the current value changes, the default does not."""
    caps = dev.get_features(spec.FEAT_TEMP_THRESH, sel=3)
    assert caps & ~7 == 0  # only bits 2:0 (saveable, namespace specific, changeable) are defined
    assert caps & 4  # Temperature Threshold is changeable (5.21.1.4)
    default = dev.get_features(spec.FEAT_TEMP_THRESH, sel=1) & 0xFFFF
    cur, new = temp_thresh(dev)
    dev.set_features(spec.FEAT_TEMP_THRESH, new)
    assert dev.get_features(spec.FEAT_TEMP_THRESH, sel=0) & 0xFFFF == new
    assert dev.get_features(spec.FEAT_TEMP_THRESH, sel=1) & 0xFFFF == default
    dev.set_features(spec.FEAT_TEMP_THRESH, cur)


@pytest.mark.needs("sel")
def test_set_features_not_saveable(dev):
    """5.22 / Figure 294: SV = 1 for a feature whose capabilities (SEL 11b) say it is not saveable is
    Feature Identifier Not Saveable."""
    caps = dev.get_features(spec.FEAT_TEMP_THRESH, sel=3)
    if caps & 1:
        pytest.skip("Temperature Threshold is saveable on this controller (SEL 11b capabilities %#x)" % caps)
    cur = dev.get_features(spec.FEAT_TEMP_THRESH) & 0xFFFF
    assert status_of(lambda: dev.set_features(spec.FEAT_TEMP_THRESH, cur, save=True)) == \
        spec.SC_FEATURE_NOT_SAVEABLE


def test_get_features_invalid_fid(dev):
    """5.21: a reserved Feature Identifier (00h) is Invalid Field in Command."""
    assert status_of(lambda: dev.get_features(0x00)) == spec.SC_INVALID_FIELD


def test_get_log_smart(dev):
    """5.14.1.2 (Figure 194): SMART / Health Information is 512 bytes; Composite Temperature (bytes 2:1)
    is in Kelvin and non-zero; Available Spare Threshold <= 100%."""
    log = dev.get_log(spec.LOG_SMART, 512)
    temp = log[1] | log[2] << 8
    assert temp > 0
    assert log[3] <= 100 and log[4] <= 100


@pytest.mark.needs("log_offset")
def test_get_log_offset(dev):
    """5.14 (Figure 189, LPOL/LPOU): with LPA bit 2, reading from a dword offset returns the same bytes
    as that part of a whole read."""
    whole = dev.get_log(spec.LOG_SMART, 512, rae=True)
    part = dev.get_log(spec.LOG_SMART, 256, offset=256, rae=True)
    assert part == whole[256:512]
    part = dev.get_log(spec.LOG_SMART, 64, offset=64, rae=True)
    assert part[32:64] == whole[96:128]  # the spare and usage bytes, which do not change


def test_get_log_error_information(dev):
    """5.14.1.1: Error Information entries are 64 bytes; after a failed command the newest entry has a
    non-zero Error Count and the status (bits 15:1 = status field) of that command."""
    status_of(lambda: dev.identify(0xFF))
    entries = dev.id_ctrl.elpe + 1
    log = dev.get_log(spec.LOG_ERROR, 64 * min(entries, 4))
    count = int.from_bytes(log[0:8], "little")
    status = int.from_bytes(log[12:14], "little") >> 1
    known_deviation(dev, count == 0, "the Error Information log stays empty after a failed command")
    assert count > 0
    assert status & 0x7FF == spec.SC_INVALID_FIELD


def test_get_log_invalid_lid(dev):
    """5.14: an unsupported Log Page Identifier is Invalid Log Page."""
    st = status_of(lambda: dev.get_log(0x7F, 512))
    known_deviation(dev, st == spec.SC_INVALID_FIELD, "an unsupported log page is Invalid Field, not 109h")
    assert st == spec.SC_INVALID_LOG_PAGE


def test_invalid_admin_opcode(dev):
    """4.6.1.2.1 (Figure 126): an unsupported admin opcode is Invalid Command Opcode."""
    assert status_of(lambda: dev.admin(vfn.make_sqe(0x7E))) == spec.SC_INVALID_OPCODE
