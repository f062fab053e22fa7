# SPDX-License-Identifier: MIT
"""The ctypes structures match the C headers: sizes and every field offset, as the C compiler sees them."""
import ctypes
import os
import shutil
import subprocess

import pytest

from vfn import _lib

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STRUCTS = {"Sqe": "vfn_nvme_sqe", "Cqe": "vfn_nvme_cqe", "DevInfo": "vfn_dev_info", "CtrlOpts": "vfn_nvme_ctrl_opts",
           "DevOpts": "vfn_dev_opts", "CtrlInfo": "vfn_nvme_ctrl_info", "CQ": "vfn_cq", "SQ": "vfn_sq",
           "SimFault": "vfn_sim_fault", "QpairOpts": "vfn_nvme_qpair_opts", "IoOpts": "vfn_nvme_io_opts",
           "CmbInfo": "vfn_nvme_cmb_info",
           "NsInfo": "vfn_nvme_ns_info", "PiFormat": "vfn_pi_format", "PiTags": "vfn_pi_tags",
           "PiError": "vfn_pi_error",
           "ZnsInfo": "vfn_zns_info", "ZoneDesc": "vfn_nvme_zone_desc", "ZoneReport": "vfn_nvme_zone_report",
           "PrimaryCtrlCap": "vfn_nvme_primary_ctrl_cap", "SecondaryCtrl": "vfn_nvme_secondary_ctrl",
           "SecondaryCtrlList": "vfn_nvme_secondary_ctrl_list", "VirtMgmtArgs": "vfn_virt_mgmt_args"}
C_NAMES = {("Sqe", "prp1"): "dptr.prp1", ("Sqe", "prp2"): "dptr.prp2"}


def test_layout(tmp_path):
    cc = os.environ.get("CC", "cc").split()[0]
    if not shutil.which(cc):
        pytest.skip("no C compiler (%s) to compare the layouts with" % cc)
    lines = ["#include <stddef.h>", "#include <stdio.h>", "#include <vfn/vfn.h>", "int main(void) {"]
    expect = []
    for py, c in STRUCTS.items():
        cls = getattr(_lib, py)
        lines.append('printf("%%zu\\n", sizeof(struct %s));' % c)
        expect.append(ctypes.sizeof(cls))
        for name, _ in cls._fields_:
            lines.append('printf("%%zu\\n", offsetof(struct %s, %s));' % (c, C_NAMES.get((py, name), name)))
            expect.append(getattr(cls, name).offset)
            # and its size: a uint16_t mirrored as c_uint32 before padding had the same offsets
            lines.append('printf("%%zu\\n", sizeof(((struct %s *)0)->%s));' % (c, C_NAMES.get((py, name), name)))
            expect.append(getattr(cls, name).size)
    lines.append("return 0; }")
    (tmp_path / "l.c").write_text("\n".join(lines))
    subprocess.run([cc, "-std=gnu11", "-I", os.path.join(SRC, "include"), "-o", str(tmp_path / "l"),
                    str(tmp_path / "l.c")], check=True)
    got = [int(x) for x in subprocess.run([str(tmp_path / "l")], check=True, capture_output=True,
                                          text=True).stdout.split()]
    assert got == expect


def test_qpair_starts_with_its_sq(tmp_path):
    """IoQPair.sq reads struct vfn_sq at the start of struct vfn_nvme_qpair: it must stay the first member."""
    cc = os.environ.get("CC", "cc").split()[0]
    if not shutil.which(cc):
        pytest.skip("no C compiler (%s) to compare the layouts with" % cc)
    (tmp_path / "q.c").write_text("#include <stddef.h>\n#include <vfn/vfn.h>\n"
                                  "_Static_assert(offsetof(struct vfn_nvme_qpair, sq) == 0, \"sq first\");\n"
                                  "int main(void) { return 0; }\n")
    subprocess.run([cc, "-std=gnu11", "-I", os.path.join(SRC, "include"), "-o", str(tmp_path / "q"),
                    str(tmp_path / "q.c")], check=True)



def _c_fields(tmp_path):
    """{struct name: [field names]} of every struct <vfn/vfn.h> defines, from clang's AST (None without clang)."""
    import json
    if not shutil.which("clang"):
        return None
    out = subprocess.run(["clang", "-std=gnu11", "-I", os.path.join(SRC, "include"), "-fsyntax-only", "-Xclang",
                          "-ast-dump=json", "-x", "c", "-"], input="#include <vfn/vfn.h>\n", capture_output=True,
                         text=True, check=True).stdout
    recs, todo = {}, [json.loads(out)]
    while todo:
        n = todo.pop()
        if n.get("kind") == "RecordDecl" and n.get("name") and n.get("completeDefinition"):
            recs[n["name"]] = [f["name"] for f in n.get("inner", []) if f.get("kind") == "FieldDecl"]
        todo.extend(n.get("inner", []) or [])
    return recs


def test_fields_are_all_mirrored(tmp_path):
    """Every field of each mirrored C struct, in order: a member appended into the C struct's tail padding
    (a bool after ZnsInfo.zrwacap, say) changes neither its size nor any mirrored offset, and the C side
    would write it past the Python struct."""
    recs = _c_fields(tmp_path)
    if recs is None:
        pytest.skip("no clang to list the C structs' fields")
    for py, c in STRUCTS.items():
        names = [C_NAMES.get((py, n), n).split(".")[0] for n, _ in getattr(_lib, py)._fields_]
        names = [n for i, n in enumerate(names) if not i or n != names[i - 1]]  # Sqe: prp1/prp2 are dptr
        assert names == recs[c], "%s mirrors struct %s: %s, C has %s" % (py, c, names, recs[c])


def test_every_struct_passed_to_c_is_checked():
    """Each ctypes structure a prototype of _lib takes (by pointer) is in STRUCTS, so test_layout covers it."""
    seen = set()
    for name, (res, args) in _lib._PROTOS.items():
        for t in list(args) + [res]:
            t = getattr(t, "_type_", t)
            if isinstance(t, type) and issubclass(t, ctypes.Structure):
                seen.add(t.__name__)
    for t in (_lib.DevOpts._fields_):  # DevOpts carries a CtrlOpts pointer
        tt = getattr(t[1], "_type_", None)
        if isinstance(tt, type) and issubclass(tt, ctypes.Structure):
            seen.add(tt.__name__)
    assert seen - set(STRUCTS) == set()


def test_build_libs_skips_dangling(tmp_path):
    """A build tree whose libvfn.so is a dangling symlink (after scripts/check.sh, build-fuzz's) is skipped,
    not a FileNotFoundError; build/ comes first."""
    (tmp_path / "meson.build").write_text("")
    for name in ("build", "build-new", "build-fuzz"):
        (tmp_path / name).mkdir()
    (tmp_path / "build" / "libvfn.so").write_text("")
    (tmp_path / "build-new" / "libvfn.so").write_text("")
    os.symlink("libvfn.so.0", str(tmp_path / "build-fuzz" / "libvfn.so"))
    got = [os.path.basename(os.path.dirname(p)) for p in _lib._build_libs(str(tmp_path))]
    assert got == ["build", "build-new"]
    assert _lib._build_libs(str(tmp_path / "build")) == []  # no meson.build: not a source tree
