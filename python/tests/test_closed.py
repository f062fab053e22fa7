# SPDX-License-Identifier: MIT
"""Objects used after their Device was closed raise ValueError instead of reaching freed memory.

Before the fix (rev12): Buffer.free() after Device.close() called vfn_dev_buf_free(NULL) (SIGSEGV);
Buffer.iova, Device.reset(), cmb_info()/cmb_enable()/cmb_buffer(), reg32() used the freed controller
(heap-use-after-free under ASan); Device.admin()/io()/Namespace.read() passed a NULL handle (SIGSEGV);
Sim faults the freed simulator; a raw QPair outlived the controller that owns its rings.
"""
import pytest

import vfn


def _closed_device():
    d = vfn.Device("sim:lbads=9,nsze=256")
    b = d.buffer(4096)
    b.mem[0:4] = b"abcd"
    ns = d.namespace(1)
    qp = d.qpair()
    sim = d.sim
    d.close()
    return d, b, ns, qp, sim


def test_device_methods_after_close():
    d, b, ns, qp, sim = _closed_device()
    assert d.ctrl is None
    for call in (lambda: d.identify_ctrl(), lambda: d.reset(), lambda: d.cmb_info(), lambda: d.cmb_enable(),
                 lambda: d.cmb_buffer(4096), lambda: d.reg32(0), lambda: d.buffer(4096), lambda: d.qpair(),
                 lambda: d.io_qpair(), lambda: d.queue(), lambda: ns.read(0), lambda: d.admin(vfn.make_sqe(6))):
        with pytest.raises(ValueError, match="after close"):
            call()
    d.close()  # idempotent


def test_buffer_after_close():
    d, b, ns, qp, sim = _closed_device()
    assert bytes(b.mem[0:4]) == b"abcd"  # vfn_dev_close() leaves the memory: still readable
    with pytest.raises(ValueError, match="after close"):
        b.iova
    b.free()  # was vfn_dev_buf_free(NULL, ...): SIGSEGV
    assert b.freed
    with pytest.raises(ValueError):
        bytes(b)


def test_sim_and_qpair_after_close():
    d, b, ns, qp, sim = _closed_device()
    with pytest.raises(ValueError, match="closed"):
        sim.fatal()
    with pytest.raises(ValueError, match="closed"):
        sim.fault("status", opcode=2, sc=0x81)
    # The raw pair was freed with the device (its rings were the controller's): using it raises.
    assert qp.ctrl is None
    with pytest.raises(ValueError, match="QPair used after free"):
        qp.submit(vfn.make_sqe(0))
    with pytest.raises(ValueError):
        qp.reap()
    qp.free()  # idempotent
