#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Asynchronous Event Requests from Python: keep AERs outstanding, make an event happen, decode it.

On the simulator the events are raised through its fault API (dev.sim.event):
a SMART / Health "temperature threshold" then a Notice "namespace attribute
changed"; on another controller it enables temperature warnings (Asynchronous Event Configuration
bit 1) and sets the over-temperature threshold 1 K below the Composite Temperature, which makes the
controller report a SMART / Health event, then restores both.
Each event's log page is then read with RAE=0.  VFIO or sim: only.

    examples/aer.py [DEVICE]
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import vfn  # noqa: E402

TYPES = {0: "Error", 1: "SMART / Health Status", 2: "Notice", 6: "I/O Command Specific Status", 7: "Vendor Specific"}
INFOS = {(1, 0): "NVM Subsystem Reliability", (1, 1): "Temperature Threshold", (1, 2): "Spare Below Threshold",
         (2, 0): "Namespace Attribute Changed", (2, 1): "Firmware Activation Starting", (2, 2): "Telemetry Log Changed"}

uri = sys.argv[1] if len(sys.argv) > 1 else "sim:"
with vfn.Device(uri) as dev:
    dev.enable_aer()
    want, restore = 1, None
    if dev.sim:
        dev.sim.event(1, 1, 0x02)  # SMART / Health, temperature threshold, log 02h
        dev.sim.event(2, 0, 0x04)  # Notice, namespace attribute changed, log 04h
        want, wait_s = 2, 5
    else:
        aec, thresh = dev.get_features(0x0B), dev.get_features(0x04)
        temp = int.from_bytes(dev.get_log(0x02, 512)[1:3], "little")  # Composite Temperature, kelvin
        print("composite temperature %d K, over-temperature threshold %d K: setting it to %d K"
              % (temp, thresh & 0xFFFF, temp - 1))
        dev.set_features(0x0B, aec | 2)
        dev.set_features(0x04, temp - 1)
        restore, wait_s = (aec, thresh & 0xFFFF), 10
    deadline = time.monotonic() + wait_s
    while len(dev.events) < want and time.monotonic() < deadline:
        dev.poll_admin()
        time.sleep(0.001)
    if restore:
        dev.set_features(0x04, restore[1])
        dev.set_features(0x0B, restore[0])
    if not dev.events:
        sys.exit("aer: no asynchronous event")
    for dw0 in list(dev.events):
        typ, info, lid = dw0 & 7, dw0 >> 8 & 0xFF, dw0 >> 16 & 0xFF
        print("event: dw0 %#010x type %d (%s) info 0x%02x (%s) log page 0x%02x"
              % (dw0, typ, TYPES.get(typ, "Reserved"), info, INFOS.get((typ, info), "other"), lid))
        dev.get_log(lid, 4096 if lid == 0x04 else 512, rae=False)  # unmasks the event type again
        print("  get log page 0x%02x: read, event cleared" % lid)
