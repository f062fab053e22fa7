# SPDX-License-Identifier: MIT
"""ctypes view of libvfn.so: where the library is, its structures and prototypes.

The structures mirror include/vfn/*.h field for field (natural C alignment,
which ctypes.Structure follows); python/tests/test_layout.py checks their
sizes and offsets against the C compiler's.
"""
import ctypes
import ctypes.util
import glob
import os

c_int, c_uint8, c_uint16, c_uint32, c_uint64 = (ctypes.c_int, ctypes.c_uint8, ctypes.c_uint16,
                                                ctypes.c_uint32, ctypes.c_uint64)
c_bool, c_char, c_void_p, c_size_t = ctypes.c_bool, ctypes.c_char, ctypes.c_void_p, ctypes.c_size_t
c_ssize_t, c_char_p, POINTER = ctypes.c_ssize_t, ctypes.c_char_p, ctypes.POINTER


class Sqe(ctypes.LittleEndianStructure):
    """struct vfn_nvme_sqe: a Submission Queue Entry (64 bytes)."""
    _fields_ = [("opcode", c_uint8), ("flags", c_uint8), ("cid", c_uint16), ("nsid", c_uint32),
                ("cdw2", c_uint32), ("cdw3", c_uint32), ("mptr", c_uint64), ("prp1", c_uint64),
                ("prp2", c_uint64), ("cdw10", c_uint32), ("cdw11", c_uint32), ("cdw12", c_uint32),
                ("cdw13", c_uint32), ("cdw14", c_uint32), ("cdw15", c_uint32)]

    def __repr__(self):
        f = ", ".join("%s=%#x" % (n, getattr(self, n)) for n, _ in self._fields_ if getattr(self, n))
        return "Sqe(%s)" % f


class Cqe(ctypes.LittleEndianStructure):
    """struct vfn_nvme_cqe: a Completion Queue Entry (16 bytes)."""
    _fields_ = [("dw0", c_uint32), ("dw1", c_uint32), ("sqhd", c_uint16), ("sqid", c_uint16),
                ("cid", c_uint16), ("sfp", c_uint16)]

    @property
    def status(self):
        """The status field without the phase tag (as vfn_nvme_cqe_status())."""
        return self.sfp >> 1

    @property
    def phase(self):
        return self.sfp & 1

    def __repr__(self):
        return "Cqe(dw0=%#x, dw1=%#x, sqhd=%d, sqid=%d, cid=%d, status=%#x, p=%d)" % (
            self.dw0, self.dw1, self.sqhd, self.sqid, self.cid, self.status, self.phase)


assert ctypes.sizeof(Sqe) == 64 and ctypes.sizeof(Cqe) == 16


class DevInfo(ctypes.Structure):
    """struct vfn_dev_info."""
    _fields_ = [("backend", c_int), ("backend_name", c_char * 8), ("name", c_char * 64),
                ("sn", c_char * 21), ("mn", c_char * 41), ("fr", c_char * 9), ("vid", c_uint16),
                ("cntlid", c_uint16), ("ver", c_uint32), ("nn", c_uint32), ("nsid", c_uint32),
                ("nsze", c_uint64), ("ncap", c_uint64), ("lba_size", c_uint32), ("flbas", c_uint8),
                ("nlbaf", c_uint8), ("ms", c_uint16), ("mset", c_bool), ("pi_type", c_uint8),
                ("pi_first", c_bool), ("pif", c_uint8), ("block_size", c_uint32), ("max_xfer", c_size_t),
                ("max_queues", c_uint32), ("max_qd", c_uint32), ("io", c_bool), ("iommu", c_char * 24),
                ("zoned", c_bool), ("zone_size", c_uint64), ("zone_cap", c_uint64), ("nr_zones", c_uint64),
                ("max_open_zones", c_uint32), ("max_active_zones", c_uint32), ("zde_size", c_uint32),
                ("zrwa_size", c_uint32), ("zrwa_fg", c_uint32), ("nr_zrwa", c_uint32)]


class CtrlOpts(ctypes.Structure):
    """struct vfn_nvme_ctrl_opts."""
    _fields_ = [("aq_entries", c_uint16), ("timeout_ms", c_uint32), ("nr_io_queues", c_uint16),
                ("iommu", c_void_p), ("no_shadow_doorbells", c_bool), ("admin_log_entries", c_uint32),
                ("admin_irq", c_bool), ("irq_mode", c_uint8), ("ams", c_uint8)]


class DevOpts(ctypes.Structure):
    """struct vfn_dev_opts."""
    _fields_ = [("backend", c_char_p), ("nsid", c_uint32), ("timeout_ms", c_uint32),
                ("ctrl_opts", POINTER(CtrlOpts))]


class CtrlInfo(ctypes.Structure):
    """struct vfn_nvme_ctrl_info."""
    _fields_ = [("vid", c_uint16), ("ssvid", c_uint16), ("sn", c_char * 21), ("mn", c_char * 41),
                ("fr", c_char * 9), ("cntlid", c_uint16), ("ver", c_uint32), ("mdts", c_uint8),
                ("max_xfer", c_size_t), ("nn", c_uint32), ("oacs", c_uint16), ("oncs", c_uint16),
                ("sgls", c_uint32), ("vwc", c_uint8), ("nr_sq", c_uint16), ("nr_cq", c_uint16),
                ("shadow_doorbells", c_bool), ("ctratt", c_uint32), ("qpair_max_entries", c_uint32)]


class CQ(ctypes.Structure):
    """struct vfn_cq."""
    _fields_ = [("cqes", c_void_p), ("iova", c_uint64), ("db", c_void_p), ("qid", c_uint16),
                ("entries", c_uint16), ("head", c_uint16), ("phase", c_uint16), ("vector", c_int),
                ("efd", c_int), ("shadow_db", c_void_p), ("eventidx", c_void_p), ("db_head", c_uint16),
                ("unreported", c_uint16), ("mmio_head", c_uint16), ("mmio_db_writes", c_uint64)]


class SQ(ctypes.Structure):
    """struct vfn_sq."""
    _fields_ = [("sqes", c_void_p), ("iova", c_uint64), ("db", c_void_p), ("cq", c_void_p),
                ("qid", c_uint16), ("entries", c_uint16), ("tail", c_uint16), ("head", c_uint16),
                ("shadow_db", c_void_p), ("eventidx", c_void_p), ("db_tail", c_uint16),
                ("mmio_tail", c_uint16), ("mmio_db_writes", c_uint64)]


class SimFault(ctypes.Structure):
    """struct vfn_sim_fault."""
    _fields_ = [("action", c_int), ("sqid", c_int), ("opcode", c_int), ("nth", c_uint32),
                ("repeat", c_bool), ("delay_ms", c_uint32), ("status", c_uint16)]


class QpairOpts(ctypes.Structure):
    """struct vfn_nvme_qpair_opts."""
    _fields_ = [("entries", c_uint32), ("irq", c_bool), ("timeout_ms", c_uint32), ("sq_cmb", c_bool),
                ("lists_cmb", c_bool), ("vector_set", c_bool), ("vector", c_uint16), ("qprio", c_uint8),
                ("cq_cmb", c_bool)]


class IoOpts(ctypes.Structure):
    """struct vfn_nvme_io_opts."""
    _fields_ = [("timeout_ms", c_uint32), ("sgl", c_bool), ("meta", c_void_p), ("meta_len", c_size_t),
                ("buf_len", c_size_t), ("prinfo", c_uint8), ("ref_tag", c_uint64), ("app_tag", c_uint16),
                ("app_mask", c_uint16), ("fua", c_bool), ("meta_sgl", c_uint8)]


class CmbInfo(ctypes.Structure):
    """struct vfn_nvme_cmb_info."""
    _fields_ = [("size", c_uint64), ("offset", c_uint64), ("bar", ctypes.c_uint), ("sqs", c_bool), ("cqs", c_bool),
                ("lists", c_bool), ("rds", c_bool), ("wds", c_bool), ("msc", c_bool)]


class NsInfo(ctypes.Structure):
    """struct vfn_nvme_ns_info."""
    _fields_ = [("nsid", c_uint32), ("nsze", c_uint64), ("ncap", c_uint64), ("nuse", c_uint64), ("nlbaf", c_uint8),
                ("flbas", c_uint8), ("lba_size", c_uint32), ("ms", c_uint16), ("mset", c_bool), ("pi_type", c_uint8),
                ("pi_first", c_bool), ("pif", c_uint8), ("block_size", c_uint32)]


class PiFormat(ctypes.Structure):
    """struct vfn_pi_format."""
    _fields_ = [("lba_size", c_uint32), ("ms", c_uint16), ("pi_type", c_uint8), ("pif", c_uint8),
                ("pi_first", c_bool), ("extended", c_bool)]


class PiTags(ctypes.Structure):
    """struct vfn_pi_tags."""
    _fields_ = [("ref_tag", c_uint64), ("app_tag", c_uint16), ("app_mask", c_uint16), ("prchk", c_uint8)]


class PiError(ctypes.Structure):
    """struct vfn_pi_error."""
    _fields_ = [("block", c_uint32), ("status", c_uint16), ("expected", c_uint64), ("found", c_uint64)]


class ZnsInfo(ctypes.Structure):
    """struct vfn_zns_info."""
    _fields_ = [("nsze", c_uint64), ("zsze", c_uint64), ("zcap", c_uint64), ("nr_zones", c_uint64),
                ("mor", c_uint32), ("mar", c_uint32), ("zoc", c_uint16), ("ozcs", c_uint16), ("zasl", c_uint8),
                ("lba_size", c_uint32), ("zde_size", c_uint32), ("zrwa_size", c_uint32), ("zrwa_fg", c_uint32),
                ("nr_zrwa", c_uint32), ("zrwacap", c_uint8)]


class ZoneDesc(ctypes.LittleEndianStructure):
    """struct vfn_nvme_zone_desc (64 bytes, wire format)."""
    _fields_ = [("zt", c_uint8), ("zs", c_uint8), ("za", c_uint8), ("zai", c_uint8), ("rsvd4", c_uint8 * 4),
                ("zcap", c_uint64), ("zslba", c_uint64), ("wp", c_uint64), ("rsvd32", c_uint8 * 32)]


class ZoneReport(ctypes.LittleEndianStructure):
    """struct vfn_nvme_zone_report (the 64-byte header of a report)."""
    _fields_ = [("nr_zones", c_uint64), ("rsvd8", c_uint8 * 56)]


class PrimaryCtrlCap(ctypes.LittleEndianStructure):
    """struct vfn_nvme_primary_ctrl_cap (Identify CNS 14h, 4096 bytes)."""
    _fields_ = [("cntlid", c_uint16), ("portid", c_uint16), ("crt", c_uint8), ("rsvd5", c_uint8 * 27),
                ("vqfrt", c_uint32), ("vqrfa", c_uint32), ("vqrfap", c_uint16), ("vqprt", c_uint16),
                ("vqfrsm", c_uint16), ("vqgran", c_uint16), ("rsvd48", c_uint8 * 16), ("vifrt", c_uint32),
                ("virfa", c_uint32), ("virfap", c_uint16), ("viprt", c_uint16), ("vifrsm", c_uint16),
                ("vigran", c_uint16), ("rsvd80", c_uint8 * 4016)]


class SecondaryCtrl(ctypes.LittleEndianStructure):
    """struct vfn_nvme_secondary_ctrl (32 bytes)."""
    _fields_ = [("scid", c_uint16), ("pcid", c_uint16), ("scs", c_uint8), ("rsvd5", c_uint8 * 3), ("vfn", c_uint16),
                ("nvq", c_uint16), ("nvi", c_uint16), ("rsvd14", c_uint8 * 18)]


class SecondaryCtrlList(ctypes.LittleEndianStructure):
    """struct vfn_nvme_secondary_ctrl_list (Identify CNS 15h, 4096 bytes)."""
    _fields_ = [("numid", c_uint8), ("rsvd1", c_uint8 * 31), ("sc_entry", SecondaryCtrl * 127)]


class VirtMgmtArgs(ctypes.Structure):
    """struct vfn_virt_mgmt_args."""
    _fields_ = [("cntlid", c_uint16), ("rt", c_uint8), ("act", c_uint8), ("nr", c_uint16)]


DEV_CB = ctypes.CFUNCTYPE(None, c_void_p, c_int, POINTER(Cqe))
AER_CB = ctypes.CFUNCTYPE(None, c_void_p, c_uint32, c_void_p)

# name: (restype, argtypes)
_PROTOS = {
    "vfn_dev_open": (c_int, [c_char_p, POINTER(DevOpts), POINTER(c_void_p)]),
    "vfn_dev_close": (None, [c_void_p]),
    "vfn_dev_get_info": (POINTER(DevInfo), [c_void_p]),
    "vfn_dev_nvme_ctrl": (c_void_p, [c_void_p]),
    "vfn_dev_admin": (c_int, [c_void_p, POINTER(Sqe), c_void_p, c_size_t, POINTER(Cqe), c_uint32]),
    "vfn_dev_io": (c_int, [c_void_p, POINTER(Sqe), c_void_p, c_size_t, POINTER(Cqe), c_uint32]),
    "vfn_dev_read": (c_int, [c_void_p, c_uint32, c_uint64, c_uint32, c_void_p]),
    "vfn_dev_write": (c_int, [c_void_p, c_uint32, c_uint64, c_uint32, c_void_p]),
    "vfn_dev_flush": (c_int, [c_void_p, c_uint32]),
    "vfn_dev_ns_list": (c_int, [c_void_p, c_uint32, POINTER(c_uint32), c_int]),
    "vfn_dev_buf_alloc": (c_ssize_t, [c_void_p, c_size_t, POINTER(c_void_p)]),
    "vfn_dev_buf_free": (None, [c_void_p, c_void_p, c_size_t]),
    "vfn_dev_queue_create": (c_int, [c_void_p, c_uint32, POINTER(c_void_p)]),
    "vfn_dev_queue_destroy": (None, [c_void_p]),
    "vfn_dev_submit": (c_int, [c_void_p, POINTER(Sqe), c_void_p, c_size_t, DEV_CB, c_void_p]),
    "vfn_dev_poll": (c_int, [c_void_p, c_uint32]),
    "vfn_dev_wait": (c_int, [c_void_p, c_uint32]),
    "vfn_dev_queue_path": (c_char_p, [c_void_p]),
    "vfn_dev_queue_inflight": (c_uint32, [c_void_p]),
    "vfn_dev_sim": (c_void_p, [c_void_p]),
    "vfn_nvme_ctrl_get_info": (POINTER(CtrlInfo), [c_void_p]),
    "vfn_nvme_ctrl_iommu": (c_void_p, [c_void_p]),
    "vfn_nvme_ctrl_reset": (c_int, [c_void_p]),
    "vfn_nvme_ctrl_failed": (c_int, [c_void_p]),
    "vfn_nvme_reg_read32": (c_uint32, [c_void_p, c_uint32]),
    "vfn_nvme_reg_read64": (c_uint64, [c_void_p, c_uint32]),
    "vfn_nvme_reg_write32": (None, [c_void_p, c_uint32, c_uint32]),
    "vfn_nvme_reg_write64": (None, [c_void_p, c_uint32, c_uint64]),
    "vfn_nvme_admin_sync": (c_int, [c_void_p, POINTER(Sqe), c_void_p, c_size_t, POINTER(Cqe), c_uint32]),
    "vfn_nvme_qpair_create": (c_int, [c_void_p, c_uint16, POINTER(QpairOpts), POINTER(c_void_p)]),
    "vfn_nvme_qpair_destroy": (None, [c_void_p]),
    "vfn_nvme_qpair_eventfd": (c_int, [c_void_p]),
    "vfn_nvme_io_sync": (c_int, [c_void_p, POINTER(Sqe), c_void_p, c_size_t, POINTER(IoOpts), POINTER(Cqe)]),
    "vfn_nvme_qpair_log_enable": (c_int, [c_void_p, c_uint32]),
    "vfn_nvme_qpair_log_snprint": (c_int, [c_void_p, c_char_p, c_size_t]),
    "vfn_nvme_inject_status": (c_int, [c_void_p, c_uint8, c_uint32, c_uint16]),
    "vfn_nvme_inject_timeout": (c_int, [c_void_p, c_uint8, c_uint32]),
    "vfn_nvme_inject_clear": (None, [c_void_p]),
    "vfn_nvme_qpair_check_timeouts": (c_int, [c_void_p, c_uint64]),
    "vfn_nvme_abort": (c_int, [c_void_p, c_uint16, c_uint16]),
    "vfn_nvme_aer_set_callback": (c_int, [c_void_p, AER_CB, c_void_p]),
    "vfn_nvme_admin_poll": (c_int, [c_void_p]),
    "vfn_nvme_admin_log_enable": (c_int, [c_void_p, c_uint32]),
    "vfn_nvme_admin_log_snprint": (c_int, [c_void_p, c_char_p, c_size_t]),
    "vfn_nvme_cq_alloc": (c_int, [c_void_p, POINTER(CQ), c_uint16, c_uint32]),
    "vfn_nvme_cq_free": (None, [c_void_p, POINTER(CQ)]),
    "vfn_nvme_sq_alloc": (c_int, [c_void_p, POINTER(SQ), c_uint16, c_uint32, POINTER(CQ)]),
    "vfn_nvme_sq_free": (None, [c_void_p, POINTER(SQ)]),
    "vfn_nvme_cq_create": (c_int, [c_void_p, POINTER(CQ), c_int, POINTER(Cqe)]),
    "vfn_nvme_cq_delete": (c_int, [c_void_p, POINTER(CQ), POINTER(Cqe)]),
    "vfn_nvme_sq_create": (c_int, [c_void_p, POINTER(SQ), c_uint8, POINTER(Cqe)]),
    "vfn_nvme_sq_delete": (c_int, [c_void_p, POINTER(SQ), POINTER(Cqe)]),
    "vfn_nvme_status_str": (c_char_p, [c_uint16]),
    "vfn_nvme_opcode_str": (c_char_p, [c_bool, c_uint8]),
    "vfn_iommu_translate": (c_int, [c_void_p, c_void_p, POINTER(c_uint64), POINTER(c_size_t)]),
    "vfn_sim_fault_add": (c_int, [c_void_p, POINTER(SimFault)]),
    "vfn_sim_fault_clear": (None, [c_void_p]),
    "vfn_sim_fault_armed": (c_int, [c_void_p]),
    "vfn_sim_fault_fatal": (None, [c_void_p]),
    "vfn_sim_fault_never_ready": (None, [c_void_p, c_bool]),
    "vfn_sim_fault_wedge": (None, [c_void_p, c_int]),
    "vfn_sim_fault_remove": (None, [c_void_p]),
    "vfn_sim_event_raise": (c_int, [c_void_p, c_uint8, c_uint8, c_uint8]),
    "vfn_log_set_level": (None, [c_int]),
    "vfn_now_ns": (c_uint64, []),
    "vfn_nvme_ctrl_irq_route": (c_int, [c_void_p, c_int, c_int]),
    "vfn_nvme_cmb_get_info": (c_int, [c_void_p, POINTER(CmbInfo)]),
    "vfn_nvme_cmb_enable": (c_int, [c_void_p]),
    "vfn_nvme_cmb_alloc": (c_int, [c_void_p, c_size_t, POINTER(c_void_p), POINTER(c_uint64)]),
    "vfn_nvme_cmb_free": (None, [c_void_p, c_void_p]),
    "vfn_nvme_cmb_translate": (c_int, [c_void_p, c_void_p, POINTER(c_uint64), POINTER(c_size_t)]),
    "vfn_nvme_io_sync_meta": (c_int, [c_void_p, POINTER(Sqe), c_void_p, c_size_t, c_void_p, c_size_t,
                                      POINTER(IoOpts), POINTER(Cqe)]),
    "vfn_nvme_ns_get_info": (c_int, [c_void_p, c_uint32, POINTER(NsInfo)]),
    "vfn_nvme_read": (c_int, [c_void_p, POINTER(NsInfo), c_uint64, c_uint64, c_void_p, POINTER(IoOpts),
                              POINTER(Cqe)]),
    "vfn_nvme_write": (c_int, [c_void_p, POINTER(NsInfo), c_uint64, c_uint64, c_void_p, POINTER(IoOpts),
                               POINTER(Cqe)]),
    "vfn_crc16_t10dif": (c_uint16, [c_uint16, c_void_p, c_size_t]),
    "vfn_crc64_nvme": (c_uint64, [c_uint64, c_void_p, c_size_t]),
    "vfn_pi_format_check": (c_int, [POINTER(PiFormat)]),
    "vfn_pi_generate": (c_int, [POINTER(PiFormat), c_void_p, c_void_p, c_uint32, POINTER(PiTags)]),
    "vfn_pi_verify": (c_int, [POINTER(PiFormat), c_void_p, c_void_p, c_uint32, POINTER(PiTags), POINTER(PiError)]),
    "vfn_dev_zns_info": (c_int, [c_void_p, c_uint32, POINTER(ZnsInfo), POINTER(Cqe)]),
    "vfn_dev_zone_mgmt_send": (c_int, [c_void_p, c_uint32, c_uint64, c_uint8, c_bool, POINTER(Cqe)]),
    "vfn_dev_zone_report": (c_int, [c_void_p, c_uint32, c_uint64, c_uint8, c_bool, c_void_p, c_size_t,
                                    POINTER(Cqe)]),
    "vfn_dev_zone_append": (c_int, [c_void_p, c_uint32, c_uint64, c_uint32, c_void_p, POINTER(c_uint64),
                                    POINTER(Cqe)]),
    "vfn_zone_state_str": (c_char_p, [ctypes.c_uint]),
    "vfn_dev_primary_ctrl_cap": (c_int, [c_void_p, POINTER(PrimaryCtrlCap), POINTER(Cqe)]),
    "vfn_dev_secondary_ctrl_list": (c_int, [c_void_p, c_uint16, POINTER(SecondaryCtrlList), POINTER(Cqe)]),
    "vfn_dev_virt_mgmt": (c_int, [c_void_p, POINTER(VirtMgmtArgs), POINTER(c_uint16), POINTER(Cqe)]),
    "vfn_dev_secondary_assign": (c_int, [c_void_p, c_uint16, c_uint8, c_uint16, POINTER(c_uint16), POINTER(Cqe)]),
    "vfn_dev_secondary_online": (c_int, [c_void_p, c_uint16, c_bool, POINTER(Cqe)]),
    "vfn_nvme_ctrl_reset_function": (c_int, [c_void_p]),
    "vfn_nvme_ctrl_reset_subsystem": (c_int, [c_void_p]),
    "vfn_nvme_ctrl_reset_bus": (c_int, [c_void_p]),
    "vfn_nvme_ctrl_irq_mode": (c_int, [c_void_p]),
    "vfn_nvme_ctrl_irq_ack": (None, [c_void_p]),
}


def _build_libs(src):
    """libvfn.so of the build trees in source tree @src: build/ first (scripts/check.sh's), then the most
    recently built.  A dangling symlink (a build tree that made no shared library, e.g. the fuzz build)
    is skipped."""
    if not os.path.isfile(os.path.join(src, "meson.build")):
        return []
    builds = [p for p in glob.glob(os.path.join(src, "build*", "libvfn.so")) if os.path.exists(p)]
    builds.sort(key=os.path.getmtime, reverse=True)
    builds.sort(key=lambda p: os.path.basename(os.path.dirname(p)) != "build")
    return builds


def _candidates():
    """Where libvfn.so may be, in order: $VFN_LIB, a build tree next to this package, the system."""
    env = os.environ.get("VFN_LIB")
    if env:
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    yield from _build_libs(os.path.dirname(os.path.dirname(here)))  # python/vfn -> the source tree
    found = ctypes.util.find_library("vfn")
    if found:
        yield found
    yield "libvfn.so.0"


def load():
    """Loads libvfn and declares its prototypes; raises OSError naming what was tried."""
    tried = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path, use_errno=True)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
            continue
        for name, (res, args) in _PROTOS.items():
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = res, args
        lib.path = path
        return lib
    raise OSError("libvfn.so not found; set VFN_LIB to its path or build it (meson setup build && ninja -C build). "
                  "Tried: " + "; ".join(tried))


lib = load()
