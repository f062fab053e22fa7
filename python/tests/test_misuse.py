# SPDX-License-Identifier: MIT
"""Misuse from Python raises a Python exception instead of crashing the interpreter or reaching another
LBA than the one asked for (rev16's review of the issue 16 bindings).  Each test runs the misuse in a
child interpreter where a crash would kill the test run: before the fixes these died with SIGSEGV or
silently acted on LBA 0 / another zone action."""
import subprocess
import sys
import os

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
