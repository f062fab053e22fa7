# SPDX-License-Identifier: MIT
"""Misuse from Python raises a Python exception instead of crashing the interpreter or reaching another
LBA than the one asked for (rev16's review of the issue 16 bindings).  Each test runs the misuse in a
child interpreter where a crash would kill the test run: before the fixes these died with SIGSEGV or
silently acted on LBA 0 / another zone action."""
import os
import subprocess
import sys

import pytest

PY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(code):
    """Runs @code (with vfn imported) in a child: (returncode, stdout, the last line of stderr)."""
    r = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, %r); import vfn\n%s" % (PY, code)],
                       capture_output=True, text=True, timeout=120)
    err = r.stderr.strip().splitlines()
    return r.returncode, r.stdout.strip(), err[-1] if err else ""


@pytest.mark.parametrize("buf", ["bytearray(16)", "b'x' * 16", "d.buffer(16)"])
def test_cmd_length_beyond_buffer(buf):
    """Device.admin(sqe, buf, length=) with @length past @buf: the library copied @length bytes in and out of
    a 16-byte bytearray/bytes (heap overflow, SIGSEGV)."""
    rc, out, err = run("d = vfn.Device('sim:')\n"
                       "try:\n"
                       "    d.admin(vfn.make_sqe(6, cdw10=1), %s, length=4096)\n"
                       "except ValueError as e:\n"
                       "    print('ValueError', e)\n" % buf)
    assert rc == 0, err
    assert out == "ValueError Identify: length 4096 for a buffer of 16 bytes"


@pytest.mark.parametrize("op", ["generate", "verify"])
@pytest.mark.parametrize("nlb", [-1, 1 << 32, "1"])
def test_pi_nlb_out_of_range(op, nlb):
    """vfn.pi.Format.generate/verify with a negative @nlb: the buffer check passed (negative need) and C was
    given 2^32 - 1 blocks (generate: SIGSEGV writing past the bytearrays)."""
    rc, out, err = run("import vfn.pi\n"
                       "f = vfn.pi.Format(512, 8, 1)\n"
                       "try:\n"
                       "    f.%s(bytearray(512), bytearray(8), %r)\n"
                       "except (ValueError, TypeError) as e:\n"
                       "    print(type(e).__name__, e)\n" % (op, nlb))
    assert rc == 0, err
    assert out.startswith("TypeError nlb" if nlb == "1" else "ValueError nlb: %d is not in" % nlb)


@pytest.mark.parametrize("call", ["a.poll()", "a.wait()", "a.path", "a.inflight",
                                  "a.submit(vfn.make_sqe(0), None, lambda r, c: None)"])
def test_async_queue_after_close(call):
    """AsyncQueue used after its close(): vfn_dev_poll/wait/queue_path/inflight/submit(NULL): SIGSEGV."""
    rc, out, err = run("d = vfn.Device('sim:')\n"
                       "a = d.queue()\n"
                       "a.close()\n"
                       "try:\n"
                       "    %s\n"
                       "except ValueError as e:\n"
                       "    print(e)\n" % call)
    assert rc == 0, err
    assert out == "AsyncQueue used after close()"


@pytest.mark.parametrize("call", ["q.io(vfn.make_sqe(0))", "q.read(1, 0, 1, b)", "q.write(1, 0, 1, b)",
                                  "q.eventfd", "q.cmdlog()", "q.log_enable()", "q.inject_status(2, 1, 0x81)",
                                  "q.inject_clear()", "q.sq"])
@pytest.mark.parametrize("close", ["q.close()", "d.close()"])
def test_ioqpair_after_close(call, close):
    """An IoQPair used after its close() or its Device's: ValueError as every other closed object, where
    it gave a NULL handle to C (OSError EINVAL, or eventfd -1 and an empty log as if it were fine)."""
    rc, out, err = run("d = vfn.Device('sim:')\n"
                       "q = d.io_qpair()\n"
                       "b = d.buffer(4096)\n"
                       "%s\n"
                       "try:\n"
                       "    %s\n"
                       "except ValueError as e:\n"
                       "    print(e)\n" % (close, call))
    assert rc == 0, err
    assert out.startswith("IoQPair used after close()") or out == "Device used after close()"


# Each case: the call, and what the fix raises.  Before: an LBA of 2^64 reached the controller as LBA 0
# (Namespace.write overwrote block 0, IoQPair.read read it, zone_append appended to zone 0), a ZSA of 260
# as 4 (Reset Zone), a filter of 256 as 0 (all); 100 bytes written went out as NLB 0xFFFF.
LBA_CASES = [
    ("ns.write(2 ** 64, b'B' * ns.lba_size)", "ValueError slba: 18446744073709551616 is not in"),
    ("ns.read(2 ** 64)", "ValueError slba: 18446744073709551616 is not in"),
    ("ns.read(-1)", "ValueError slba: -1 is not in"),
    ("ns.read(0, 0)", "ValueError nlb: 0 blocks is not 1..65536"),
    ("ns.write(0, b'B' * 100)", "ValueError 100 bytes is not a whole number of 4096-byte blocks"),
    ("ns.write(0, b'B' * 4196)", "ValueError 4196 bytes is not a whole number of 4096-byte blocks"),
    ("ns.compare(2 ** 64, b'B' * ns.lba_size)", "ValueError slba: 18446744073709551616 is not in"),
    ("ns.write_zeroes(2 ** 64, 1)", "ValueError slba: 18446744073709551616 is not in"),
    ("ns.read(0.5)", "TypeError slba: 0.5 is not an integer"),
    ("d.io_qpair().read(ns, 2 ** 64, 1, d.buffer(4096))", "ValueError slba: 18446744073709551616 is not in"),
    ("d.io_qpair().write(ns, -1, 1, d.buffer(4096))", "ValueError slba: -1 is not in"),
    ("ns.write(2 ** 64, b'B' * ns.lba_size, sgl=True)", "ValueError slba: 18446744073709551616 is not in"),
]
ZNS_CASES = [
    ("ns.zone_append(2 ** 64, b'a' * ns.lba_size)", "ValueError zslba: 18446744073709551616 is not in"),
    ("ns.zone_mgmt(260)", "ValueError zone send action: 260 is not in 0..0xff"),
    ("ns.zone_reset(2 ** 64)", "ValueError zslba: 18446744073709551616 is not in"),
    ("ns.zones(slba=2 ** 64)", "ValueError slba: 18446744073709551616 is not in"),
    ("ns.zones(state=256)", "ValueError zone state filter: 256 is not in 0..0xff"),
    ("ns.zones(max_zones=-5)", "ValueError max_zones: -5 is not in"),
]


@pytest.mark.parametrize("call,expect", LBA_CASES + ZNS_CASES)
def test_out_of_range_raises_and_block_0_untouched(call, expect):
    zoned = (call, expect) in ZNS_CASES
    rc, out, err = run("d = vfn.Device('sim:%s')\n"
                       "ns = d.namespace(1)\n"
                       "%s\n"
                       "try:\n"
                       "    %s\n"
                       "except (ValueError, TypeError) as e:\n"
                       "    print(type(e).__name__, e)\n"
                       "print(ns.read(0)[:4], ns.zones(max_zones=1) if %r else '')\n"
                       % ("zoned=1" if zoned else "", "ns.write(0, b'A' * ns.lba_size)" if not zoned else "",
                          call, zoned))
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(expect)
    if zoned:  # zone 0 still empty
        assert lines[1] == "b'\\x00\\x00\\x00\\x00' [Zone(zslba=0, zcap=1024, wp=0, state=Empty)]"
    else:  # block 0 as written
        assert lines[1] == "b'AAAA'"


def test_zone_report_max_zones_0():
    """zones(max_zones=0) returned one zone (the report buffer's room for one)."""
    rc, out, err = run("d = vfn.Device('sim:zoned=1')\n"
                       "ns = d.namespace(1)\n"
                       "print(len(ns.zones(max_zones=0)), len(ns.zones(max_zones=2)), len(ns.zones(max_zones=10**12)))")
    assert rc == 0, err
    assert out == "0 2 8"


@pytest.mark.parametrize("call,expect", [
    ("d.virt_mgmt(1, 'vq', 'assign', nr=70000)", "ValueError nr: 70000 is not in 0..0xffff"),
    ("d.virt_mgmt(65537, 'vq', 'assign', nr=1)", "ValueError cntlid: 65537 is not in 0..0xffff"),
    ("d.secondary_assign(1, 'vi', -1)", "ValueError nr: -1 is not in 0..0xffff"),
    ("d.secondary_online(2 ** 16)", "ValueError scid: 65536 is not in 0..0xffff"),
    ("d.secondary_ctrls(cntid=-1)", "ValueError cntid: -1 is not in 0..0xffff"),
    ("vfn.io_opts(meta_sgl=256)", "ValueError meta_sgl: 256 is not in"),
    ("vfn.io_opts(meta_sgl=7)", "ValueError meta_sgl: 7 is not 0 (auto), 1 (off) or 2 (force)"),
    ("vfn.io_opts(prinfo=256)", "ValueError prinfo: 256 is not in 0..0xff"),
    ("vfn.io_opts(prinfo=0x10)", "ValueError prinfo: 0x10 is not PRACT/PRCHK bits"),
    ("vfn.io_opts(app_tag=0x10000)", "ValueError app_tag: 65536 is not in 0..0xffff"),
    ("vfn.io_opts(ref_tag=-1)", "ValueError ref_tag: -1 is not in"),
    ("ns.read(0, 1, prinfo=256)", "ValueError prinfo: 256 is not in 0..0xff"),
])
def test_truncated_arguments(call, expect):
    """Integers ctypes would truncate (nr=70000 sent as 4464, meta_sgl=256 as 0 'auto', prinfo=256 as 0, a
    tag of -1 as all ones) raise before anything is sent."""
    rc, out, err = run("d = vfn.Device('sim:')\n"
                       "ns = d.namespace(1)\n"
                       "try:\n"
                       "    %s\n"
                       "except (ValueError, TypeError) as e:\n"
                       "    print(type(e).__name__, e)\n" % call)
    assert rc == 0, err
    assert out.startswith(expect)


@pytest.mark.parametrize("call", ["d.primary_ctrl_cap()", "d.secondary_ctrls()", "d.virt_mgmt(1, 'vq', 'assign')",
                                  "d.secondary_assign(1, 'vq', 1)", "d.secondary_online(1)"])
def test_sriov_after_close(call):
    """vfn.sriov on a closed Device: ValueError as the other closed-device guards (was OSError EINVAL from a
    NULL handle given to C)."""
    rc, out, err = run("d = vfn.Device('sim:')\n"
                       "d.close()\n"
                       "try:\n"
                       "    %s\n"
                       "except ValueError as e:\n"
                       "    print(e)\n" % call)
    assert rc == 0, err
    assert out == "Device used after close()"


@pytest.mark.parametrize("call,expect", [
    ("d.io_qpair().io(vfn.make_sqe(2, nsid=1), b'abc')",
     "TypeError buf: a vfn Buffer (Device.buffer()) or None, not bytes"),
    ("ns.read(0, 1, meta=bytearray(8))", "TypeError meta: a vfn Buffer (Device.buffer()) or None, not bytearray"),
    ("d.io_qpair().read(ns, 0, 1, bytearray(4096))", "TypeError buf: a vfn Buffer (Device.buffer()), not bytearray"),
    ("d.io_qpair().io(vfn.make_sqe(2, nsid=1), d.buffer(4096).sub(0, 512), length=4096)",
     "ValueError Read: length 4096 for a buffer of 512 bytes"),
    ("d.io_qpair().io(vfn.make_sqe(2, nsid=1), d.buffer(4096), length=-1)",
     "ValueError Read: length -1 for a buffer of 4096 bytes"),
    ("d.io_qpair().io(vfn.make_sqe(2, nsid=1), d.buffer(4096), meta=d.buffer(8), meta_len=64)",
     "ValueError Read: meta_len 64 for a buffer of 8 bytes"),
])
def test_wrong_types_and_lengths(call, expect):
    """Not a Buffer where one is needed: TypeError naming the argument (was AttributeError '_live'/'size'
    from inside); io() length= past a sub-buffer DMA'd into its parent's memory."""
    rc, out, err = run("d = vfn.Device('sim:')\n"
                       "ns = d.namespace(1)\n"
                       "try:\n"
                       "    %s\n"
                       "except (ValueError, TypeError) as e:\n"
                       "    print(type(e).__name__, e)\n" % call)
    assert rc == 0, err
    assert out == expect


def test_read_into_bytearray_with_keywords():
    """Namespace.read(buf=bytearray, sgl=True) left the bytearray untouched and returned the data; as without
    keywords, it is filled in place and the Cqe returned."""
    rc, out, err = run("d = vfn.Device('sim:')\n"
                       "ns = d.namespace(1)\n"
                       "ns.write(0, b'Z' * ns.lba_size)\n"
                       "ba = bytearray(ns.lba_size)\n"
                       "r = ns.read(0, 1, buf=ba, sgl=True)\n"
                       "print(type(r).__name__, bytes(ba[:4]))\n")
    assert rc == 0, err
    assert out == "Cqe b'ZZZZ'"


@pytest.mark.parametrize("call,expect", [
    ("vfn.pi.Format(512, 8, 257)", "ValueError pi_type: 257 is not in 0..0xff"),
    ("vfn.pi.Format(512 + 2 ** 32, 8, 1)", "ValueError lba_size: 4294967808 is not in"),
    ("vfn.pi.Format(512, 2 ** 16 + 8, 1)", "ValueError ms: 65544 is not in 0..0xffff"),
    ("print(copy.copy(vfn.pi.Format(512, 8, 1)).tuple_size)", "8"),
])
def test_pi_format_arguments(call, expect):
    """vfn.pi.Format(pi_type=257) was a type 1 format (ctypes truncation); copy.copy(Format) recursed without
    end through __getattr__."""
    rc, out, err = run("import copy\n"
                       "import vfn.pi\n"
                       "try:\n"
                       "    %s\n"
                       "except (ValueError, TypeError, RecursionError) as e:\n"
                       "    print(type(e).__name__, e)\n" % call)
    assert rc == 0, err
    assert out.startswith(expect)


@pytest.mark.parametrize("make", ["d.io_qpair()", "d.qpair()"])
def test_queue_ids_exhausted(make):
    """Every granted queue id taken: the next io_qpair() raised UnboundLocalError, qpair() ValueError
    'max() arg is an empty sequence'; now OSError EBUSY saying so."""
    rc, out, err = run("import errno\n"
                       "d = vfn.Device('sim:')\n"
                       "n = d.nr_io_queues\n"
                       "qs = [%s for _ in range(n)]\n"
                       "try:\n"
                       "    %s\n"
                       "except OSError as e:\n"
                       "    print(n, e.errno == errno.EBUSY, e.strerror)\n" % (make, make))
    assert rc == 0, err
    assert out == "64 True no free I/O queue id: the 64 granted are taken"


def test_zone_append_other_block_size():
    """Zone Append on a namespace whose blocks are not the device namespace's: vfn_dev_zone_append() takes
    nlb x the device's lba_size from the data, so 4096 bytes as 8 blocks of 512 made it read 32 KiB from a
    4 KiB bytes object (a heap over-read; the sim then appended 8 blocks).  Such a namespace is simulated
    by its lba_size (the sim has one LBA format)."""
    rc, out, err = run("import errno\n"
                       "d = vfn.Device('sim:zoned=1')\n"
                       "ns = d.namespace(1)\n"
                       "ns.lba_size = 512\n"
                       "try:\n"
                       "    print(ns.zone_append(0, bytes(4096)))\n"
                       "except OSError as e:\n"
                       "    print(e.errno == errno.ENOTSUP)\n"
                       "print(d.namespace(1).zone(0).wp)\n")
    assert rc == 0, err
    assert out == "True\n0"


@pytest.mark.parametrize("nsid,expect", [(2 ** 32 + 1, "ValueError nsid: 4294967297 is not in"),
                                         (-1, "ValueError nsid: -1 is not in"),
                                         ("1", "TypeError nsid: '1' is not an integer")])
def test_namespace_nsid_out_of_range(nsid, expect):
    """Device.namespace(2**32 + 1) was namespace 1 (its writes landed there), -1 the broadcast NSID."""
    rc, out, err = run("d = vfn.Device('sim:')\n"
                       "try:\n"
                       "    d.namespace(%r).write(0, bytes(4096))\n"
                       "except (ValueError, TypeError) as e:\n"
                       "    print(type(e).__name__, e)\n" % (nsid,))
    assert rc == 0, err
    assert out.startswith(expect)
