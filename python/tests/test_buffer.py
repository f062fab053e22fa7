# SPDX-License-Identifier: MIT
"""Buffer lifetime: views (memoryview slices, sub() buffers) of freed DMA memory must not reach it."""
import ctypes

import pytest

import vfn


@pytest.fixture
def dev():
    d = vfn.Device("sim:nsze=1024,mdts=2,sn=PYBUF1")
    yield d
    d.close()


def test_slice_after_free_raises(dev):
    b = dev.buffer(4096)
    b.mem[0:4] = b"live"
    view = b.mem[0:16]  # a slice: a memoryview of its own on the same memory
    cast = b.mem.cast("B")[4:8]
    assert bytes(view[0:4]) == b"live"
    b.free()
    with pytest.raises(ValueError):
        view[0]
    with pytest.raises(ValueError):
        bytes(cast)
    with pytest.raises(ValueError):
        b.mem[0]
    with pytest.raises(ValueError):
        bytes(b)
    b.free()  # twice: nothing


def test_sub_after_parent_free_raises(dev):
    ns = dev.namespace()
    b = dev.buffer(8192)
    s = b.sub(4096, 4096)
    s.mem[0:4] = b"SUBB"
    ns.write(5, s)
    v = s.mem[0:4]
    b.free()
    with pytest.raises(ValueError):
        s.mem[0]
    with pytest.raises(ValueError):
        v[0]
    with pytest.raises(ValueError):
        ns.read(5, 1, s)  # no command on freed memory
    with pytest.raises(ValueError):
        s.iova
    with pytest.raises(ValueError):
        b.sub(0, 16)


def test_sub_free_invalidates_only_the_sub(dev):
    b = dev.buffer(8192)
    s = b.sub(0, 4096)
    sv = s.mem[0:4]
    s.free()
    with pytest.raises(ValueError):
        sv[0]
    b.mem[0:2] = b"ok"  # the parent's memory stays
    assert bytes(b.mem[0:2]) == b"ok"
    b.free()


def test_free_refused_while_exported(dev):
    """A view that cannot be released (a consumer holds its buffer) makes free() refuse, memory intact."""
    b = dev.buffer(4096)
    view = b.mem[0:16]
    held = (ctypes.c_char * 16).from_buffer(view)  # holds an export of view
    held[0] = b"X"
    with pytest.raises(BufferError):
        b.free()
    assert bytes(b.mem[0:1]) == b"X" and view[0] == ord("X")  # nothing was released
    del held
    b.free()
    with pytest.raises(ValueError):
        view[0]
