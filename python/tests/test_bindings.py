# SPDX-License-Identifier: MIT
"""The Python bindings against the simulator: concrete values back from each object."""
import errno
import time

import pytest

import vfn
from vfn import spec


@pytest.fixture
def dev():
    d = vfn.Device("sim:nsze=1024,mdts=2,sn=PYTEST1")
    yield d
    d.close()


def test_open_info_registers(dev):
    assert dev.info.backend_name == "sim"
    assert dev.info.sn == "PYTEST1" and dev.info.nsze == 1024 and dev.info.lba_size == 4096
    assert dev.vs.mjr == 1 and dev.vs.mnr == 4
    assert dev.cap.mqes == 1023 and dev.cap.css & 1
    assert dev.cc.en == 1 and dev.cc.iosqes == 6 and dev.cc.iocqes == 4
    assert dev.csts.rdy == 1 and dev.csts.cfs == 0
    assert dev.sim is not None


def test_bad_device_string():
    with pytest.raises(OSError) as e:
        vfn.Device("sim:nosuchoption=1")
    assert e.value.errno == errno.EINVAL


def test_identify_decoded(dev):
    idc = dev.identify_ctrl()
    assert idc.mn == "vfn simulated controller" and idc.sn == "PYTEST1"
    assert idc.mdts == 2 and idc.sqes == 0x66 and idc.cqes == 0x44 and idc.nn == 1
    assert idc.oncs & spec.ONCS_DSM and idc.oncs & spec.ONCS_WRITE_ZEROES
    assert idc.oncs & spec.ONCS_SAVE_SELECT and idc.lpa & 0x4  # SEL and Get Log Page offsets
    assert idc.subnqn.startswith("nqn.")
    assert len(idc.raw) == 4096 and dict(idc)["vid"] == 0xFFFF
    ns = dev.identify_ns(1)
    assert ns.nsze == 1024 and ns.ncap == 1024 and ns.lba_size == 4096 and ns.lbaf[0].lbads == 12
    assert dev.ns_list() == [1]


def test_nvme_error(dev):
    with pytest.raises(vfn.NvmeError) as e:
        dev.identify_ns(7)
    err = e.value
    assert err.code == spec.SC_INVALID_NS and err.sct == 0 and err.sc == 0x0B and err.dnr
    assert err.name == "Invalid Namespace or Format" or "Namespace" in err.name
    assert err.cqe.status == err.status


def test_io_roundtrip_and_buffer(dev):
    ns = dev.namespace()
    data = bytes(range(256)) * 16
    ns.write(10, data)
    assert ns.read(10) == data
    with dev.buffer(4096) as buf:
        buf.mem[0:5] = b"hello"  # straight into DMA memory
        ns.write(11, buf)
        buf.mem[0:5] = b"00000"
        ns.read(11, 1, buf)
        assert bytes(buf.mem[0:5]) == b"hello"
        assert buf.iova is not None


def test_lba_out_of_range(dev):
    ns = dev.namespace()
    with pytest.raises(vfn.NvmeError) as e:
        ns.read(1024)
    assert e.value.code == spec.SC_LBA_RANGE


def test_features_and_log(dev):
    assert dev.get_features(spec.FEAT_NUM_QUEUES) == 0x003F003F
    dev.set_features(spec.FEAT_ARBITRATION, 0x3)
    assert dev.get_features(spec.FEAT_ARBITRATION) & 7 == 3
    smart = dev.get_log(spec.LOG_SMART, 512)
    assert len(smart) == 512


def test_qpair_raw(dev):
    ns = dev.namespace()
    ns.write(0, b"Q" * 4096)
    with dev.buffer(4096 * 2) as buf, dev.qpair(entries=4) as qp:
        assert qp.qid == dev.nr_io_queues
        for i in range(6):  # wraps the 4-entry queues
            sqe = vfn.make_sqe(spec.CMD_READ, nsid=1, cdw10=0, cdw12=0)
            qp.set_prp(sqe, buf, 4096)
            cqe = qp.execute(sqe)
            assert cqe.sqid == qp.qid and cqe.status == 0
        assert bytes(buf.mem[:4]) == b"QQQQ"
        # a crafted command: an unknown opcode comes back as Invalid Opcode with the cid we chose
        qp.post(vfn.make_sqe(0x7E, nsid=1), cid=0x1234)
        assert qp.reap(1, 100) == []  # nothing before the doorbell
        qp.ring()
        (c,) = qp.reap(1)
        assert c.cid == 0x1234 and c.status & 0x7FF == spec.SC_INVALID_OPCODE


def test_async_queue_callbacks(dev):
    ns = dev.namespace()
    got = []
    with dev.buffer(4096 * 4) as buf, dev.queue(8) as q:
        for i in range(4):
            sqe = vfn.make_sqe(spec.CMD_WRITE, nsid=1, cdw10=i, cdw12=0)
            buf.mem[i * 4096:i * 4096 + 4] = b"A%03d" % i
            q.submit(sqe, buf.sub(i * 4096, 4096), lambda ret, cqe, i=i: got.append((i, ret)))
        assert q.path == "qpair"
        while q.inflight:
            q.wait()
    assert sorted(got) == [(0, 0), (1, 0), (2, 0), (3, 0)]
    assert [ns.read(i)[:4] for i in range(4)] == [b"A000", b"A001", b"A002", b"A003"]


def test_sim_faults(dev):
    ns = dev.namespace()
    dev.sim.fault("status", opcode=spec.CMD_READ, sct=2, sc=0x81, dnr=True)
    assert dev.sim.armed == 1
    with pytest.raises(vfn.NvmeError) as e:
        ns.read(0)
    assert (e.value.sct, e.value.sc, e.value.dnr) == (2, 0x81, True)
    assert dev.sim.armed == 0
    ns.read(0)
    dev.sim.fault("drop", opcode=spec.ADMIN_GET_FEATURES, sqid=0)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        dev.admin(vfn.make_sqe(spec.ADMIN_GET_FEATURES, cdw10=1), timeout_ms=200)
    assert time.monotonic() - t0 >= 0.2
    dev.sim.fatal()
    assert dev.csts.cfs == 1
    dev.reset()
    assert dev.csts.cfs == 0 and dev.csts.rdy == 1
    dev.enable_aer()
    dev.sim.event(2, 1, 2)
    for _ in range(1000):
        if dev.events:
            break
        dev.poll_admin()
        time.sleep(0.001)
    assert dev.events == [0x00020102]


def test_cmdlog(dev):
    dev.get_features(spec.FEAT_ARBITRATION)
    log = dev.cmdlog()
    assert "Identify (0x06)" in log and "Get Features (0x0a)" in log.splitlines()[-1]


def test_io_qpair_irq_log_inject(dev):
    """A library queue pair with an interrupt (an eventfd, which the library's own waits read; a polled
    pair has none); its command log names the Read; driver-side injection completes without sending."""
    ns = dev.namespace()
    ns.write(3, b"I" * 4096)
    with dev.buffer(4096) as buf, dev.io_qpair(entries=8, irq=True) as qp:
        efd = qp.eventfd
        assert efd >= 0
        qp.log_enable(16)
        cqe = qp.io(vfn.make_sqe(spec.CMD_READ, nsid=1, cdw10=3, cdw12=0), buf)
        assert cqe.sqid == qp.qid and bytes(buf.mem[:4]) == b"IIII"
        assert "Read (0x02)" in qp.cmdlog()
        qp.inject_status(spec.CMD_READ, 1, 0x4281)
        with pytest.raises(vfn.NvmeError) as e:
            qp.io(vfn.make_sqe(spec.CMD_READ, nsid=1, cdw10=3, cdw12=0), buf)
        assert (e.value.sct, e.value.sc, e.value.dnr) == (2, 0x81, True)
    with dev.io_qpair(entries=8) as polled:
        assert polled.eventfd == -1
    assert not dev._pairs


def test_zoned_info():
    """The zone geometry appended to struct vfn_dev_info reaches Python (DevInfo) with the sim's configuration."""
    d = vfn.Device("sim:nsze=1024,lbads=9,zoned=1,zsze=64,zcap=48,mor=2,mar=3,zdes=1,zrwasz=16,zrwafg=4,numzrwa=2")
    try:
        i = d.info
        assert i.zoned and i.zone_size == 64 and i.zone_cap == 48 and i.nr_zones == 16
        assert i.max_open_zones == 2 and i.max_active_zones == 3 and i.zde_size == 64
        assert i.zrwa_size == 16 and i.zrwa_fg == 4 and i.nr_zrwa == 2
    finally:
        d.close()
    d = vfn.Device("sim:nsze=1024")
    try:
        assert not d.info.zoned and d.info.zone_size == 0 and d.info.nr_zrwa == 0
    finally:
        d.close()
def test_reset_kinds(dev):
    """Device.reset(kind): function and subsystem resets on sim keep data; "bus" is refused (ENOTSUP),
    the controller untouched."""
    ns = dev.namespace(1)
    ns.write(7, b"K" * ns.lba_size)
    for kind in ("function", "subsystem", "controller"):
        dev.reset(kind)
        assert dev.failed == 0 and dev.csts.rdy == 1
        assert ns.read(7)[:4] == b"KKKK"
    with pytest.raises(OSError) as e:
        dev.reset("bus")  # the simulator has no PCI hot reset: refused, nothing stopped
    assert e.value.errno == errno.ENOTSUP and dev.failed == 0 and dev.csts.rdy == 1
    assert ns.read(7)[:4] == b"KKKK"
    with pytest.raises(ValueError):
        dev.reset("slot")
