# SPDX-License-Identifier: MIT
"""pytest plugin for NVMe controller tests over vfn.

Load it with ``-p vfn.pytest_plugin`` or from a conftest.py
(``from vfn.pytest_plugin import *``, as tests/conformance does).

Options:  --device STRING (default sim:), --vfn-timeout MS,
          --vfn-summary FILE (a markdown table of results per group).
Fixtures: dev (a fresh vfn.Device per test), ctrl (dev, needing register
          and queue access: VFIO or sim), ns (the first active Namespace),
          qpair (a raw QPair), buf (a 1 MiB + 8 KiB Buffer), sim (dev.sim;
          skips unless the device is sim:), device_string.
Marker:   @pytest.mark.needs("ns_mgmt", "pi", ...) skips a test, saying
          which capability field lacks it, when the controller lacks one
          (see CAPABILITIES; the CMB: "cmb", "cmb_sq", "cmb_data", "cmb_lists").
Marker:   @pytest.mark.sim_opts("ms=8,pi=1") appends simulator options to
          --device when it is sim:... (a group needing a PI namespace or
          several namespace slots); other devices are used as given.  An
          option --device already sets is not appended (--device
          sim:ms=16,pi=2,pif=2 runs the pi group on that format).
On failure the admin command log of the test's device is added to the report.
"""
import collections
import os

import pytest

import vfn
from vfn import spec


def _oacs(bit, name):
    return lambda d: (bool(d.id_ctrl.oacs & bit), "Identify Controller OACS bit %d (%s) is 0" %
                      (bit.bit_length() - 1, name))


def _oncs(bit, name):
    return lambda d: (bool(d.id_ctrl.oncs & bit), "Identify Controller ONCS bit %d (%s) is 0" %
                      (bit.bit_length() - 1, name))


def _regs(d, what):
    if d.ctrl is None:
        return None, "registers are not reachable through the kernel driver (%s)" % what
    return True, ""


def _pi(d):
    for nsid in d.ns_list():
        if d.identify_ns(nsid).dpc & 0x1F:
            return True, ""
    return False, "no active namespace supports protection information (Identify Namespace DPC = 0)"


def _zns(d):
    """A zoned namespace: one that answers the ZNS Identify Namespace (CNS 05h, CSI 02h) with a zone size."""
    for nsid in d.ns_list():
        try:
            d.namespace(nsid).zns_info()
            return True, ""
        except (vfn.NvmeError, OSError):
            pass
    return False, ("no zoned namespace: none answers the Zoned Namespace Command Set Identify Namespace (CNS 05h, "
                   "CSI 02h) with a zone size")


def _sriov(d):
    """A primary controller: Identify Primary Controller Capabilities (CNS 14h) answered."""
    try:
        d.primary_ctrl_cap()
        return True, ""
    except vfn.NvmeError as e:
        return False, "not a primary controller: Identify CNS 14h (Primary Controller Capabilities) is %s" % e.name
    except OSError as e:
        return False, "Identify CNS 14h: %s" % e


def _cmb(d):
    ok, why = _regs(d, "CMBSZ")
    if not ok:
        return ok, why
    return bool(d.cap.cmbs or d.reg32(spec.REG_CMBSZ)), "no controller memory buffer (CAP.CMBS = 0, CMBSZ = 0)"


def _cmb_info(d, fields, what):
    """The CMB exists and CMBSZ has every one of @fields (sqs, lists, rds, wds) set."""
    ok, why = _cmb(d)
    if not ok:
        return ok, why
    try:
        info = d.cmb_info()
    except OSError as e:
        return False, "the CMB's registers: %s" % e.strerror
    missing = [f.upper() for f in fields if not info[f]]
    return not missing, "CMBSZ.%s is 0 (%s)" % ("/".join(missing), what)


def _both(a, b):
    def f(d):
        ok, why = a(d)
        return (b(d) if ok else (ok, why))
    return f


# name: f(dev) -> (has it, why not)
CAPABILITIES = {
    "regs": lambda d: _regs(d, "BAR0"),
    "queues": lambda d: (d.ctrl is not None, "raw queues need vfio or sim (the kernel driver owns the queues)"),
    "sim": lambda d: (d.sim is not None, "not a simulated controller (--device %s)" % d.uri),
    "io": lambda d: (bool(d.info.io and d.info.nsid), "no I/O namespace (a controller node, or no active namespace)"),
    "ns_mgmt": _oacs(spec.OACS_NS_MGMT, "Namespace Management"),
    "format": _oacs(spec.OACS_FORMAT, "Format NVM"),
    "fw": _oacs(spec.OACS_FW, "Firmware Commit/Download"),
    "self_test": _oacs(spec.OACS_SELF_TEST, "Device Self-test"),
    "dbbuf": _oacs(spec.OACS_DBBUF, "Doorbell Buffer Config"),
    "compare": _oncs(spec.ONCS_COMPARE, "Compare"),
    "write_uncor": _oncs(spec.ONCS_WRITE_UNCOR, "Write Uncorrectable"),
    "dsm": _oncs(spec.ONCS_DSM, "Dataset Management"),
    "write_zeroes": _oncs(spec.ONCS_WRITE_ZEROES, "Write Zeroes"),
    "sel": _oncs(spec.ONCS_SAVE_SELECT, "Save field / Select field"),
    "verify": _oncs(spec.ONCS_VERIFY, "Verify"),
    "log_offset": lambda d: (bool(d.id_ctrl.lpa & 4), "Identify Controller LPA bit 2 (extended data: offsets) is 0"),
    "vwc": lambda d: (bool(d.id_ctrl.vwc & 1), "no volatile write cache (Identify Controller VWC bit 0 is 0)"),
    "sgl": lambda d: (bool(d.id_ctrl.sgls & 3), "no SGL support (Identify Controller SGLS bits 1:0 are 0)"),
    "mdts": lambda d: (d.id_ctrl.mdts != 0, "no transfer size limit (Identify Controller MDTS is 0)"),
    "pi": _pi,
    "cmb": _cmb,
    "cmb_sq": lambda d: _cmb_info(d, ["sqs"], "I/O submission queues may not be in the CMB"),
    "cmb_data": lambda d: _cmb_info(d, ["rds", "wds"], "command data may not be in the CMB"),
    "cmb_lists": lambda d: _cmb_info(d, ["lists"], "PRP lists and SGL segments may not be in the CMB"),
    "zns": _zns,
    "sriov": _sriov,
    "nssr": _both(lambda d: _regs(d, "CAP"), lambda d: (bool(d.cap.nssrs), "CAP.NSSRS is 0")),
    "shutdown": lambda d: _regs(d, "CC.SHN"),
}


def pytest_addoption(parser):
    g = parser.getgroup("vfn", "NVMe controller tests (vfn)")
    g.addoption("--device", default=os.environ.get("VFN_DEVICE", "sim:"),
                help="device string: a PCI address (vfio-pci), /dev/nvmeX, /dev/ngXnY, or sim:... (default sim:)")
    g.addoption("--vfn-timeout", type=int, default=10000, help="default command timeout in ms (default 10000)")
    g.addoption("--vfn-summary", default=None, help="write a markdown table of results per group to this file")


def pytest_configure(config):
    config.addinivalue_line("markers", "needs(*caps): skip unless the controller has every capability named "
                            "(%s)" % ", ".join(sorted(CAPABILITIES)))
    config.addinivalue_line("markers", "sim_opts(opts): on --device sim:..., open the simulator with these "
                            "options appended (e.g. \"ms=8,pi=1\"); other devices as given")
    config._vfn_results = collections.OrderedDict()


def with_sim_opts(uri, node):
    """@uri with the options of @node's sim_opts markers appended when it is a sim: string."""
    if not uri.startswith("sim:"):
        return uri
    given = {o.split("=", 1)[0] for o in uri[4:].split(",") if o}
    for mark in node.iter_markers("sim_opts"):
        for extra in mark.args:
            # an option --device sets already wins (sim:ms=16,pi=2,pif=2 runs the pi group on that format)
            extra = ",".join(o for o in extra.split(",") if o and o.split("=", 1)[0] not in given)
            if extra:
                uri = uri + ("" if uri.endswith((":", ",")) else ",") + extra
    return uri


@pytest.fixture
def device_string(request):
    return request.config.getoption("--device")


@pytest.fixture
def dev(request, device_string):
    """A fresh vfn.Device on --device for each test (closed after it)."""
    d = vfn.Device(with_sim_opts(device_string, request.node), timeout_ms=request.config.getoption("--vfn-timeout"))
    request.node._vfn_dev = d
    for mark in request.node.iter_markers("needs"):
        for cap in mark.args:
            if cap not in CAPABILITIES:
                d.close()
                pytest.fail("unknown capability %r in @pytest.mark.needs (known: %s)" %
                            (cap, ", ".join(sorted(CAPABILITIES))))
            ok, why = CAPABILITIES[cap](d)
            if not ok:
                d.close()
                pytest.skip("needs %s: %s" % (cap, why))
    yield d
    d.close()


@pytest.fixture
def ctrl(dev):
    """dev, when its registers and queues are reachable (VFIO or sim)."""
    ok, why = CAPABILITIES["regs"](dev)
    if not ok:
        pytest.skip("needs regs: " + why)
    return dev


@pytest.fixture
def ns(dev):
    """The namespace the device's geometry is of (the first active one)."""
    ok, why = CAPABILITIES["io"](dev)
    if not ok:
        pytest.skip("needs io: " + why)
    return dev.namespace()


@pytest.fixture
def qpair(ctrl):
    """A raw I/O queue pair of 64 entries (freed after the test)."""
    with ctrl.qpair(entries=64) as qp:
        yield qp


@pytest.fixture
def buf(dev):
    """1 MiB + 8 KiB of DMA memory (room for an MDTS-sized transfer and its PRP list)."""
    with dev.buffer((1 << 20) + 8192) as b:
        yield b


@pytest.fixture
def sim(dev):
    """The fault injection of a simulated controller; skips on any other device."""
    if dev.sim is None:
        pytest.skip("needs sim: not a simulated controller (--device %s)" % dev.uri)
    return dev.sim


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    d = getattr(item, "_vfn_dev", None)
    if rep.failed and d is not None and d._h:
        try:
            log = d.cmdlog()
        except Exception as e:  # the report must not fail
            log = "(command log unavailable: %s)" % e
        rep.sections.append(("vfn admin command log (%s)" % d.uri, log or "(empty)"))
    if rep.when == "call" or (rep.when == "setup" and not rep.passed):
        group = item.module.__name__.split(".")[-1] if item.module else "?"
        group = group[5:] if group.startswith("test_") else group
        res = item.config._vfn_results.setdefault(group, collections.Counter())
        if hasattr(rep, "wasxfail"):
            res["xfail" if rep.skipped else "xpass"] += 1
        else:
            res["passed" if rep.passed else "skipped" if rep.skipped else "failed"] += 1


def summary_table(results):
    rows = ["| group | passed | failed | skipped | xfail |", "|---|---:|---:|---:|---:|"]
    tot = collections.Counter()
    for g, c in results.items():
        rows.append("| %s | %d | %d | %d | %d |" % (g, c["passed"], c["failed"] + c["xpass"], c["skipped"], c["xfail"]))
        tot.update(c)
    rows.append("| **total** | %d | %d | %d | %d |" % (tot["passed"], tot["failed"] + tot["xpass"], tot["skipped"],
                                                      tot["xfail"]))
    return "\n".join(rows)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    results = getattr(config, "_vfn_results", None)
    if not results:
        return
    table = summary_table(results)
    terminalreporter.section("vfn results per group (--device %s)" % config.getoption("--device"))
    terminalreporter.write_line(table)
    path = config.getoption("--vfn-summary")
    if path:
        with open(path, "w") as f:
            f.write(table + "\n")
