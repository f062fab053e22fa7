# SPDX-License-Identifier: MIT
"""vfn.pi: the guard CRCs and software PI generation/verification (vfn_pi_generate/verify) from Python."""
import errno
import struct

import pytest

from vfn import pi


def test_crc_check_values():
    assert pi.crc16_t10dif(b"123456789") == 0xD0DB
    assert pi.crc64_nvme(b"123456789") == 0xAE8B14860A799888
    assert pi.crc16_t10dif(b"56789", pi.crc16_t10dif(b"1234")) == 0xD0DB  # continued


@pytest.mark.parametrize("pif,ms,first", [(0, 8, False), (0, 16, False), (0, 16, True), (2, 16, True), (2, 32, False)])
def test_generate_verify_separate(pif, ms, first):
    fmt = pi.Format(lba_size=512, ms=ms, pi_type=1, pif=pif, pi_first=first)
    ts = fmt.tuple_size
    assert ts == (8 if pif == 0 else 16) and fmt.tuple_offset == (0 if first else ms - ts)
    data, meta = bytearray(bytes(range(256)) * 2 * 3), bytearray(b"\x5a" * ms * 3)
    fmt.generate(data, meta, 3, ref_tag=100, app_tag=0xABCD)
    for i in range(3):
        t = bytes(meta[i * ms + fmt.tuple_offset:i * ms + fmt.tuple_offset + ts])
        cov = bytes(data[i * 512:(i + 1) * 512]) + (b"" if first else b"\x5a" * (ms - ts))
        if pif == 0:
            assert struct.unpack(">HHI", t) == (pi.crc16_t10dif(cov), 0xABCD, 100 + i)
        else:
            assert struct.unpack(">QH", t[:10]) == (pi.crc64_nvme(cov), 0xABCD)
            assert int.from_bytes(t[10:], "big") == 100 + i
    assert fmt.verify(data, meta, 3, ref_tag=100, app_tag=0xABCD) is None
    data[512 + 7] ^= 1  # block 1's data
    err = fmt.verify(data, meta, 3, ref_tag=100, app_tag=0xABCD)
    assert (err.block, err.status) == (1, pi.SC_GUARD)
    assert fmt.verify(data, meta, 3, ref_tag=100, app_tag=0xABCD, prchk=pi.PRCHK_REF | pi.PRCHK_APP) is None
    err = fmt.verify(data, meta, 3, ref_tag=101, app_tag=0xABCD, prchk=pi.PRCHK_REF)
    assert (err.block, err.status, err.expected, err.found) == (0, pi.SC_REF_TAG, 101, 100)
    err = fmt.verify(data, meta, 3, ref_tag=100, app_tag=0xABCE, prchk=pi.PRCHK_APP)
    assert (err.status, err.expected, err.found) == (pi.SC_APP_TAG, 0xABCE, 0xABCD)


def test_extended_type3():
    fmt = pi.Format(lba_size=512, ms=8, pi_type=3, extended=True)
    buf = bytearray(520 * 2)
    fmt.generate(buf, None, 2, ref_tag=9, app_tag=1)
    assert struct.unpack_from(">HHI", buf, 512)[1:] == (1, 9) and struct.unpack_from(">HHI", buf, 1032)[2] == 9
    assert fmt.verify(bytes(buf), None, 2, ref_tag=1234, app_tag=1) is None  # type 3: the ref tag unchecked


def test_format_errors():
    with pytest.raises(OSError) as e:
        pi.Format(lba_size=512, ms=8, pi_type=1, pif=2)  # 16-byte tuple in 8 bytes
    assert e.value.errno == errno.EINVAL
    with pytest.raises(OSError):
        pi.Format(lba_size=512, ms=8, pi_type=1, pif=1)  # 32-bit guard: vfn does not generate it
    fmt = pi.Format(lba_size=512, ms=8, pi_type=1)
    with pytest.raises(ValueError):
        fmt.generate(bytearray(512), bytearray(4), 1)
    with pytest.raises(TypeError):
        fmt.generate(bytearray(512), b"\0" * 8, 1)
