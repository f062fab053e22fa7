#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Identify a controller and its namespaces from Python (the Python twin of identify.c).

    examples/identify.py [DEVICE]        DEVICE: sim: (default), a BDF, /dev/nvmeX, /dev/ngXnY
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import vfn  # noqa: E402

uri = sys.argv[1] if len(sys.argv) > 1 else "sim:"
with vfn.Device(uri) as dev:
    idc = dev.identify_ctrl()
    print("%s: %s, serial %s, firmware %s" % (uri, idc.mn, idc.sn, idc.fr))
    print("  version %d.%d, MDTS %d, %d namespace(s), OACS %#x, ONCS %#x" %
          (idc.ver >> 16, idc.ver >> 8 & 0xFF, idc.mdts, idc.nn, idc.oacs, idc.oncs))
    if dev.ctrl is not None:
        cap = dev.cap
        print("  CAP: MQES %d, TO %d ms, DSTRD %d, MPSMIN %d KiB" % (cap.mqes, cap.to * 500, cap.dstrd,
                                                                     4 << cap.mpsmin))
    for nsid in dev.ns_list():
        ns = dev.identify_ns(nsid)
        print("  namespace %d: %d blocks of %d bytes (%d MiB)" % (nsid, ns.nsze, ns.lba_size,
                                                                  ns.nsze * ns.lba_size >> 20))
