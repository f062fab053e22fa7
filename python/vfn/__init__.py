# SPDX-License-Identifier: MIT
"""vfn: Python bindings of libvfn (ctypes), for NVMe controller tests.

    import vfn
    with vfn.Device("sim:") as dev:          # or "0000:01:00.0", "/dev/ng0n1"
        print(dev.id_ctrl.mn, dev.csts)
        ns = dev.namespace()
        ns.write(0, b"x" * ns.lba_size)

See docs/python.md.  The library is found through $VFN_LIB, else a build
tree next to this package (build*/libvfn.so), else the system's libvfn.so.0.
"""
from . import spec
from ._lib import Cqe, Sqe, lib
from .device import (AsyncQueue, Buffer, Device, IoQPair, Namespace, NvmeError, QPair, Sim, make_sqe, opcode_name,
                     status_name)
from .device import CmbBuffer

__all__ = ["AsyncQueue", "Buffer", "Cqe", "Device", "IoQPair", "Namespace", "NvmeError", "QPair", "Sim", "Sqe", "lib",
           "make_sqe", "opcode_name", "spec", "status_name", "CmbBuffer"]
from . import pi  # noqa: E402
from .device import META_SGL, io_opts  # noqa: E402

__all__ += ["pi", "io_opts", "META_SGL"]
from . import sriov, zns  # noqa: E402

__all__ += ["sriov", "zns"]
