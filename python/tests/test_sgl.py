# SPDX-License-Identifier: MIT
"""Data and metadata SGLs from Python (IoQPair.read/write/io and Namespace.read/write keywords sgl= and
meta_sgl=, vfn_nvme_io_opts.sgl/.meta_sgl) against the simulator: what is written reads back, data and
separate metadata, and a metadata SGL forced on a controller without SGLS bit 19 is the controller's
Invalid Field in Command (the sim answers PSDT 10b so without mptr_sgl=1: docs/sim.md)."""
import errno
import struct

import pytest

import vfn
from vfn import spec

SIM = "sim:nsze=4096,ms=8,mdts=2"  # 4096-byte blocks, 8 bytes of separate metadata, 16 KiB per command


def pattern(n, seed):
    return bytes((i * 7 + seed) & 0xFF for i in range(n))


@pytest.fixture(params=["mptr_sgl=1", "mptr_sgl=0"])
def dev(request):
    d = vfn.Device(SIM + "," + request.param)
    yield d
    d.close()


def test_sgls_reported(dev):
    bit19 = "mptr_sgl=1" in dev.uri
    assert dev.id_ctrl.sgls & 3 == 1
    assert bool(dev.id_ctrl.sgls & 1 << 19) == bit19
    ns = dev.namespace()
    assert (ns.info.ms, ns.info.mset, ns.info.lba_size, ns.info.block_size) == (8, False, 4096, 4104)


@pytest.mark.parametrize("meta_sgl", ["auto", "off", "force"])
def test_rw_data_and_meta(dev, meta_sgl):
    """Write 6 blocks (split in 2 commands by MDTS 16 KiB) with data by SGL and metadata as @meta_sgl says,
    read them back through every mode: data and metadata equal.  FORCE without bit 19: Invalid Field."""
    bit19 = "mptr_sgl=1" in dev.uri
    ns, qp = dev.namespace(), dev.io_qpair()
    nlb, slba = 6, 100
    data, meta = dev.buffer(nlb * 4096), dev.buffer(4096)
    data.fill(pattern(nlb * 4096, 1))
    meta.fill(pattern(nlb * 8, 2))
    if meta_sgl == "force" and not bit19:
        with pytest.raises(vfn.NvmeError) as e:
            qp.write(ns, slba, nlb, data, meta.sub(0, nlb * 8), sgl=True, meta_sgl=meta_sgl)
        assert e.value.code == spec.SC_INVALID_FIELD and e.value.name == "Invalid Field in Command"
        assert e.value.dnr == 1
        return
    assert qp.write(ns, slba, nlb, data, meta.sub(0, nlb * 8), sgl=True, meta_sgl=meta_sgl).status == 0
    for back_mode in ("off", "auto") + (("force",) if bit19 else ()):
        back, mback = dev.buffer(nlb * 4096), dev.buffer(4096)
        qp.read(ns, slba, nlb, back, mback.sub(0, nlb * 8), sgl=True, meta_sgl=back_mode)
        assert bytes(back.mem) == pattern(nlb * 4096, 1)
        assert bytes(mback.mem[:nlb * 8]) == pattern(nlb * 8, 2)
        back.free()
        mback.free()
    # and through PRPs (no sgl): the same bytes
    back, mback = dev.buffer(nlb * 4096), dev.buffer(4096)
    qp.read(ns, slba, nlb, back, mback.sub(0, nlb * 8))
    assert bytes(back.mem) == pattern(nlb * 4096, 1) and bytes(mback.mem[:nlb * 8]) == pattern(nlb * 8, 2)


def test_namespace_keywords(dev):
    """Namespace.write/read with meta= and sgl=/meta_sgl= go through the device's queue pair."""
    bit19 = "mptr_sgl=1" in dev.uri
    ns = dev.namespace()
    meta = dev.buffer(4096)
    meta.fill(struct.pack("<QQ", 0x1122334455667788, 0x99AABBCCDDEEFF00))
    mode = "force" if bit19 else "auto"
    assert ns.write(7, pattern(8192, 3), meta=meta.sub(0, 16), sgl=True, meta_sgl=mode).status == 0
    mback = dev.buffer(4096)
    assert ns.read(7, 2, meta=mback.sub(0, 16), sgl=True, meta_sgl=mode) == pattern(8192, 3)
    assert struct.unpack_from("<QQ", mback.mem) == (0x1122334455667788, 0x99AABBCCDDEEFF00)
    if not bit19:
        with pytest.raises(vfn.NvmeError) as e:
            ns.read(7, 2, meta=mback.sub(0, 16), sgl=True, meta_sgl="FORCE")
        assert e.value.name == "Invalid Field in Command"


def test_io_sqe_with_meta(dev):
    """IoQPair.io(sqe, buf, meta=, sgl=, meta_sgl=): a crafted Read of 1 block with vfn filling DPTR/MPTR."""
    bit19 = "mptr_sgl=1" in dev.uri
    ns, qp = dev.namespace(), dev.io_qpair()
    data, meta = dev.buffer(4096), dev.buffer(4096)
    data.fill(b"D" * 4096)
    meta.fill(b"M" * 8)
    qp.write(ns, 9, 1, data, meta.sub(0, 8))
    back, mback = dev.buffer(4096), dev.buffer(4096)
    sqe = vfn.make_sqe(spec.CMD_READ, nsid=1, cdw10=9)
    qp.io(sqe, back, meta=mback, meta_len=8, sgl=True, meta_sgl="force" if bit19 else "off")
    assert bytes(back.mem) == b"D" * 4096 and bytes(mback.mem[:8]) == b"M" * 8


def test_option_errors():
    with vfn.Device(SIM + ",sgls=0") as dev:
        ns, qp = dev.namespace(), dev.io_qpair()
        data, meta = dev.buffer(4096), dev.buffer(4096)
        with pytest.raises(OSError) as e:  # SGLs asked of a controller with SGLS 0: refused before sending
            qp.write(ns, 0, 1, data, meta.sub(0, 8), sgl=True)
        assert e.value.errno == errno.ENOTSUP
        with pytest.raises(ValueError):
            vfn.io_opts(meta_sgl="sometimes")
        with pytest.raises(OSError) as e:  # FORCE without sgl: -EINVAL from the library
            qp.write(ns, 0, 1, data, meta.sub(0, 8), meta_sgl="force")
        assert e.value.errno == errno.EINVAL
        assert vfn.io_opts(sgl=True, meta_sgl="force").meta_sgl == 2 and vfn.META_SGL["off"] == 1
