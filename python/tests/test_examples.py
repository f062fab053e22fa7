# SPDX-License-Identifier: MIT
"""The Python examples run against sim: and print what they should."""
import os
import subprocess
import sys

EX = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "examples")


def run(name):
    return subprocess.run([sys.executable, os.path.join(EX, name), "sim:sn=EXAMPLE1"], check=True,
                          capture_output=True, text=True).stdout


def test_identify_example():
    out = run("identify.py")
    assert "vfn simulated controller, serial EXAMPLE1" in out
    assert "namespace 1: 8192 blocks of 4096 bytes (32 MiB)" in out


def test_raw_queue_example():
    out = run("raw_queue.py")
    assert out.count("Successful Completion") == 6
    assert "cid 0x0202: Successful Completion, sq head 2" in out  # the second batch wrapped the ring
    assert "data: b'raw!raw!'" in out
    assert "Invalid Command Opcode (SCT 0, SC 0x1, DNR 1)" in out


def test_irq_loop_example():
    out = run("irq_loop.py")
    assert "16 writes completed via interrupts" in out
    assert "16 reads completed via interrupts" in out
    assert "data verified: 16 blocks of 4096 bytes" in out


def test_aer_example():
    out = run("aer.py")
    assert "event: dw0 0x00020101 type 1 (SMART / Health Status) info 0x01 (Temperature Threshold) log page 0x02" in out
    assert "event: dw0 0x00040002 type 2 (Notice) info 0x00 (Namespace Attribute Changed) log page 0x04" in out
    assert out.count("read, event cleared") == 2


def test_cmb_example_without_cmb():
    """examples/cmb.py on the simulator (no CMB): one line naming the reason, exit 1; the CMB itself is
    exercised in the guest (meson test examples, QEMU with cmb_size_mb=16)."""
    p = subprocess.run([sys.executable, os.path.join(EX, "cmb.py"), "sim:sn=EXAMPLE1"], capture_output=True,
                       text=True)
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr == ("cmb.py: sim:sn=EXAMPLE1 has no Controller Memory Buffer (CAP.CMBS = 0, CMBSZ = 0): "
                        "try QEMU's -device nvme,cmb_size_mb=16\n")
