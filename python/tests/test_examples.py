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
