# SPDX-License-Identifier: MIT
"""NVMe structures decoded with the spec's field names (NVMe Base 1.4).

Each decoder returns a Record: attribute access (``idc.mdts``), ``dict(rec)``
and the raw bytes in ``rec.raw``.
"""
import struct

# Register offsets (NVMe Base 1.4, 3.1 "Register Definition")
REG_CAP, REG_VS, REG_INTMS, REG_INTMC, REG_CC, REG_CSTS = 0x00, 0x08, 0x0C, 0x10, 0x14, 0x1C
REG_NSSR, REG_AQA, REG_ASQ, REG_ACQ, REG_CMBLOC, REG_CMBSZ = 0x20, 0x24, 0x28, 0x30, 0x38, 0x3C
REG_DBS = 0x1000

# Admin opcodes (5 "Admin Command Set")
ADMIN_DELETE_SQ, ADMIN_CREATE_SQ, ADMIN_GET_LOG_PAGE = 0x00, 0x01, 0x02
ADMIN_DELETE_CQ, ADMIN_CREATE_CQ, ADMIN_IDENTIFY, ADMIN_ABORT = 0x04, 0x05, 0x06, 0x08
ADMIN_SET_FEATURES, ADMIN_GET_FEATURES, ADMIN_ASYNC_EVENT = 0x09, 0x0A, 0x0C
ADMIN_NS_MGMT, ADMIN_NS_ATTACH, ADMIN_FORMAT_NVM = 0x0D, 0x15, 0x80
# NVM opcodes (6 "NVM Command Set")
CMD_FLUSH, CMD_WRITE, CMD_READ, CMD_WRITE_UNCOR, CMD_COMPARE = 0x00, 0x01, 0x02, 0x04, 0x05
CMD_WRITE_ZEROES, CMD_DSM, CMD_VERIFY = 0x08, 0x09, 0x0C

# Feature identifiers (5.21.1)
FEAT_ARBITRATION, FEAT_POWER_MGMT, FEAT_TEMP_THRESH, FEAT_ERR_RECOVERY = 0x01, 0x02, 0x04, 0x05
FEAT_VOLATILE_WC, FEAT_NUM_QUEUES, FEAT_IRQ_COALESCE, FEAT_IRQ_CONFIG = 0x06, 0x07, 0x08, 0x09
FEAT_WRITE_ATOMIC, FEAT_ASYNC_EVENT = 0x0A, 0x0B
# Log pages (5.14.1)
LOG_ERROR, LOG_SMART, LOG_FW_SLOT = 0x01, 0x02, 0x03

# Status (SCT << 8 | SC), 4.6.1
SC_SUCCESS, SC_INVALID_OPCODE, SC_INVALID_FIELD = 0x000, 0x001, 0x002
SC_DATA_XFER_ERROR, SC_ABORT_REQ, SC_ABORT_QUEUE, SC_INVALID_NS = 0x004, 0x007, 0x008, 0x00B
SC_CMD_SEQ_ERROR, SC_INVALID_PRP_OFFSET, SC_LBA_RANGE = 0x00C, 0x013, 0x080
SC_CQ_INVALID, SC_QID_INVALID, SC_QUEUE_SIZE, SC_ABORT_LIMIT = 0x100, 0x101, 0x102, 0x103
SC_ASYNC_LIMIT, SC_INVALID_VECTOR, SC_INVALID_LOG_PAGE = 0x105, 0x108, 0x109
SC_INVALID_QUEUE_DELETION, SC_FEATURE_NOT_SAVEABLE = 0x10C, 0x10D
SC_COMPARE_FAILED = 0x285
SC_HOST_ABORTED = 0x371

# Identify Controller OACS bits (Figure 247)
OACS_SECURITY, OACS_FORMAT, OACS_FW, OACS_NS_MGMT, OACS_SELF_TEST = 1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4
OACS_DIRECTIVES, OACS_NVME_MI, OACS_VIRT_MGMT, OACS_DBBUF, OACS_LBA_STATUS = 1 << 5, 1 << 6, 1 << 7, 1 << 8, 1 << 9
# ONCS bits
ONCS_COMPARE, ONCS_WRITE_UNCOR, ONCS_DSM, ONCS_WRITE_ZEROES = 1 << 0, 1 << 1, 1 << 2, 1 << 3
ONCS_SAVE_SELECT, ONCS_RESERVATIONS, ONCS_TIMESTAMP, ONCS_VERIFY = 1 << 4, 1 << 5, 1 << 6, 1 << 7


class Record(dict):
    """A decoded structure: a dict whose keys are also attributes; .raw holds the bytes."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    raw = b""


def _fields(raw, layout):
    rec = Record()
    for name, off, fmt in layout:
        if isinstance(fmt, int):  # a string of that many bytes
            rec[name] = raw[off:off + fmt].decode("ascii", "replace").rstrip(" \0")
        elif fmt.endswith("s"):
            rec[name] = bytes(raw[off:off + int(fmt[:-1])])
        elif fmt == "u128":
            rec[name] = int.from_bytes(raw[off:off + 16], "little")
        else:
            rec[name] = struct.unpack_from("<" + fmt, raw, off)[0]
    rec.raw = bytes(raw)
    return rec


# Identify Controller data structure, NVMe Base 1.4 Figure 247
_ID_CTRL = [
    ("vid", 0, "H"), ("ssvid", 2, "H"), ("sn", 4, 20), ("mn", 24, 40), ("fr", 64, 8), ("rab", 72, "B"),
    ("ieee", 73, "3s"), ("cmic", 76, "B"), ("mdts", 77, "B"), ("cntlid", 78, "H"), ("ver", 80, "I"),
    ("rtd3r", 84, "I"), ("rtd3e", 88, "I"), ("oaes", 92, "I"), ("ctratt", 96, "I"), ("rrls", 100, "H"),
    ("cntrltype", 111, "B"), ("fguid", 112, "16s"), ("crdt1", 128, "H"), ("crdt2", 130, "H"),
    ("crdt3", 132, "H"), ("oacs", 256, "H"), ("acl", 258, "B"), ("aerl", 259, "B"), ("frmw", 260, "B"),
    ("lpa", 261, "B"), ("elpe", 262, "B"), ("npss", 263, "B"), ("avscc", 264, "B"), ("apsta", 265, "B"),
    ("wctemp", 266, "H"), ("cctemp", 268, "H"), ("mtfa", 270, "H"), ("hmpre", 272, "I"), ("hmmin", 276, "I"),
    ("tnvmcap", 280, "u128"), ("unvmcap", 296, "u128"), ("rpmbs", 312, "I"), ("edstt", 316, "H"),
    ("dsto", 318, "B"), ("fwug", 319, "B"), ("kas", 320, "H"), ("hctma", 322, "H"), ("mntmt", 324, "H"),
    ("mxtmt", 326, "H"), ("sanicap", 328, "I"), ("hmminds", 332, "I"), ("hmmaxd", 336, "H"),
    ("nsetidmax", 338, "H"), ("endgidmax", 340, "H"), ("anatt", 342, "B"), ("anacap", 343, "B"),
    ("anagrpmax", 344, "I"), ("nanagrpid", 348, "I"), ("pels", 352, "I"), ("sqes", 512, "B"),
    ("cqes", 513, "B"), ("maxcmd", 514, "H"), ("nn", 516, "I"), ("oncs", 520, "H"), ("fuses", 522, "H"),
    ("fna", 524, "B"), ("vwc", 525, "B"), ("awun", 526, "H"), ("awupf", 528, "H"), ("nvscc", 530, "B"),
    ("nwpc", 531, "B"), ("acwu", 532, "H"), ("sgls", 536, "I"), ("mnan", 540, "I"), ("subnqn", 768, 256),
]

# Identify Namespace data structure, NVMe Base 1.4 Figure 249
_ID_NS = [
    ("nsze", 0, "Q"), ("ncap", 8, "Q"), ("nuse", 16, "Q"), ("nsfeat", 24, "B"), ("nlbaf", 25, "B"),
    ("flbas", 26, "B"), ("mc", 27, "B"), ("dpc", 28, "B"), ("dps", 29, "B"), ("nmic", 30, "B"),
    ("rescap", 31, "B"), ("fpi", 32, "B"), ("dlfeat", 33, "B"), ("nawun", 34, "H"), ("nawupf", 36, "H"),
    ("nacwu", 38, "H"), ("nabsn", 40, "H"), ("nabo", 42, "H"), ("nabspf", 44, "H"), ("noiob", 46, "H"),
    ("nvmcap", 48, "u128"), ("npwg", 64, "H"), ("npwa", 66, "H"), ("npdg", 68, "H"), ("npda", 70, "H"),
    ("nows", 72, "H"), ("anagrpid", 92, "I"), ("nsattr", 99, "B"), ("nvmsetid", 100, "H"),
    ("endgid", 102, "H"), ("nguid", 104, "16s"), ("eui64", 120, "8s"),
]


def identify_ctrl(raw):
    """Decodes an Identify Controller structure (CNS 01h); adds psd (power state descriptors)."""
    rec = _fields(raw, _ID_CTRL)
    rec["psd"] = [_fields(raw[2048 + 32 * i:2048 + 32 * (i + 1)],
                          [("mp", 0, "H"), ("flags", 3, "B"), ("enlat", 4, "I"), ("exlat", 8, "I")])
                  for i in range(rec["npss"] + 1)]
    return rec


def identify_ns(raw):
    """Decodes an Identify Namespace structure (CNS 00h); adds lbaf (list of {ms, lbads, rp}) and lba_size."""
    rec = _fields(raw, _ID_NS)
    lbafs = []
    for i in range(rec["nlbaf"] + 1):
        v = struct.unpack_from("<I", raw, 128 + 4 * i)[0]
        lbafs.append(Record(ms=v & 0xFFFF, lbads=(v >> 16) & 0xFF, rp=(v >> 24) & 3))
    rec["lbaf"] = lbafs
    fmt = lbafs[rec["flbas"] & 0xF] if rec["flbas"] & 0xF < len(lbafs) else Record(ms=0, lbads=0, rp=0)
    rec["lba_size"] = 1 << fmt["lbads"] if fmt["lbads"] else 0
    return rec


def ns_list(raw):
    """Decodes an Active Namespace ID list (CNS 02h): the non-zero ids."""
    ids = struct.unpack_from("<1024I", raw)
    return [i for i in ids if i]


def ns_descriptors(raw):
    """Decodes a Namespace Identification Descriptor list (CNS 03h): [(nidt, nid bytes)]."""
    out, off = [], 0
    while off + 4 <= len(raw):
        nidt, nidl = raw[off], raw[off + 1]
        if nidt == 0:
            break
        out.append((nidt, bytes(raw[off + 4:off + 4 + nidl])))
        off += 4 + nidl
    return out


def _bits(val, layout):
    return Record((n, (val >> lo) & ((1 << (hi - lo + 1)) - 1)) for n, hi, lo in layout)


def cap(val):
    """CAP (3.1.1): MQES, CQR, AMS, TO, DSTRD, NSSRS, CSS, BPS, MPSMIN, MPSMAX, PMRS, CMBS."""
    return _bits(val, [("mqes", 15, 0), ("cqr", 16, 16), ("ams", 18, 17), ("to", 31, 24), ("dstrd", 35, 32),
                       ("nssrs", 36, 36), ("css", 44, 37), ("bps", 45, 45), ("mpsmin", 51, 48),
                       ("mpsmax", 55, 52), ("pmrs", 56, 56), ("cmbs", 57, 57)])


def vs(val):
    """VS (3.1.2): MJR, MNR, TER."""
    return _bits(val, [("mjr", 31, 16), ("mnr", 15, 8), ("ter", 7, 0)])


def cc(val):
    """CC (3.1.5): EN, CSS, MPS, AMS, SHN, IOSQES, IOCQES."""
    return _bits(val, [("en", 0, 0), ("css", 6, 4), ("mps", 10, 7), ("ams", 13, 11), ("shn", 15, 14),
                       ("iosqes", 19, 16), ("iocqes", 23, 20)])


def csts(val):
    """CSTS (3.1.6): RDY, CFS, SHST, NSSRO, PP."""
    return _bits(val, [("rdy", 0, 0), ("cfs", 1, 1), ("shst", 3, 2), ("nssro", 4, 4), ("pp", 5, 5)])


def aqa(val):
    """AQA (3.1.8): ASQS, ACQS (0's based)."""
    return _bits(val, [("asqs", 11, 0), ("acqs", 27, 16)])


def status_fields(status):
    """The parts of a status field (without the phase tag): sc, sct, crd, more, dnr."""
    return Record(sc=status & 0xFF, sct=(status >> 8) & 7, crd=(status >> 11) & 3, more=bool(status >> 13 & 1),
                  dnr=bool(status >> 14 & 1))


# Controller Memory Buffer registers (NVMe Base 1.4, 3.1.12-3.1.15)
REG_CMBMSC, REG_CMBSTS = 0x50, 0x58
CMBMSC_CRE, CMBMSC_CMSE = 1 << 0, 1 << 1


def cmbloc(val):
    """CMBLOC (3.1.12): BIR (the BAR), OFST (in CMBSZ.SZU units) and the 1.4 quirk bits."""
    return _bits(val, [("bir", 2, 0), ("cqmms", 3, 3), ("cqpds", 4, 4), ("cdpmls", 5, 5), ("cdpcils", 6, 6),
                       ("cdmmms", 7, 7), ("cqda", 8, 8), ("ofst", 31, 12)])


def cmbsz(val):
    """CMBSZ (3.1.13): SQS, CQS, LISTS, RDS, WDS, SZU (4 KiB << 4 * SZU), SZ; ``bytes`` = SZ x the unit."""
    r = _bits(val, [("sqs", 0, 0), ("cqs", 1, 1), ("lists", 2, 2), ("rds", 3, 3), ("wds", 4, 4), ("szu", 11, 8),
                    ("sz", 31, 12)])
    r["bytes"] = r.sz << (12 + 4 * r.szu) if r.szu <= 6 else 0
    return r


def cmbmsc(val):
    """CMBMSC (3.1.14, 64-bit): CRE, CMSE, CBA (the controller base address, as a byte address)."""
    r = _bits(val, [("cre", 0, 0), ("cmse", 1, 1)])
    r["cba"] = val & ~0xFFF & (1 << 64) - 1
    return r


def cmbsts(val):
    """CMBSTS (3.1.15): CBAI (the controller refused CMBMSC.CBA)."""
    return _bits(val, [("cbai", 0, 0)])
