#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Python for a QEMU guest (scripts/vm.sh): one zip with what the interpreter running this script needs.

    scripts/pybundle.py OUT.zip SRCROOT [--pytest] [--conformance]

The zip holds this interpreter's standard library (lib-dynload included;
test suites, tkinter, idlelib... left out) under usr/lib/pythonX.Y, the
libffi ctypes links against under libs/, the vfn package under
python/vfn and examples/*.py under examples/ (so an example finds the
package as it does in a source tree); with --pytest, pytest and its
dependencies from dist-packages under pylib/; with --conformance,
tests/conformance under conformance/.  The interpreter itself goes in with
vm.sh --add (vm.sh copies its shared libraries).  In the guest:

    unzip -q BUNDLE -d /tmp/py
    PYTHONHOME=/tmp/py/usr LD_LIBRARY_PATH=/vfn/lib:/tmp/py/libs python3 /tmp/py/examples/X.py

tests/vm/test-examples.sh does this for the examples' Python twins.
"""
import os
import re
import subprocess
import sys
import sysconfig
import zipfile

SKIP_DIRS = {"test", "tests", "idlelib", "tkinter", "ensurepip", "lib2to3", "turtledemo", "__pycache__",
             "pydoc_data", "distutils", "sqlite3", "venv", "site-packages", "dist-packages"}
SKIP_SO = ("_test", "xx", "_curses", "_dbm", "_sqlite3", "_tkinter", "readline", "nis", "ossaudiodev", "audioop")


def add_tree(z, src, dst, keep_tests=False, only_py=False):
    for d, dirs, files in os.walk(src):
        dirs[:] = sorted(x for x in dirs if (x == "tests" and keep_tests) or
                         (x not in SKIP_DIRS and not x.startswith("config-")))
        for f in sorted(files):
            if f.endswith(".pyc") or (only_py and not f.endswith(".py")):
                continue
            if f.endswith(".so") and f.startswith(SKIP_SO):
                continue
            p = os.path.join(d, f)
            z.write(p, os.path.join(dst, os.path.relpath(p, src)))


def libffi():
    """The libffi the interpreter's _ctypes module links against (ldd)."""
    import _ctypes
    out = subprocess.run(["ldd", _ctypes.__file__], capture_output=True, text=True, check=True).stdout
    m = re.search(r"(libffi\.so[.\d]*) => (\S+)", out)
    if not m:
        sys.exit("pybundle: no libffi in ldd %s" % _ctypes.__file__)
    return m.group(1), os.path.realpath(m.group(2))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        sys.exit(__doc__.split("\n\n")[1])
    out, root = args
    stdlib = sysconfig.get_paths()["stdlib"]
    name, ffi = libffi()
    tmp = out + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        add_tree(z, stdlib, os.path.join("usr/lib", os.path.basename(stdlib)))
        z.write(ffi, "libs/" + name)
        add_tree(z, os.path.join(root, "python/vfn"), "python/vfn", only_py=True)
        for f in sorted(os.listdir(os.path.join(root, "examples"))):
            if f.endswith(".py"):
                z.write(os.path.join(root, "examples", f), "examples/" + f)
        if "--pytest" in sys.argv:
            dp = "/usr/lib/python3/dist-packages"
            for mod in ("_pytest", "pytest", "pluggy", "iniconfig", "packaging", "attr", "attrs", "py"):
                if os.path.isdir(os.path.join(dp, mod)):
                    add_tree(z, os.path.join(dp, mod), os.path.join("pylib", mod))
            if os.path.isfile(os.path.join(dp, "py.py")):
                z.write(os.path.join(dp, "py.py"), "pylib/py.py")
        if "--conformance" in sys.argv:
            add_tree(z, os.path.join(root, "tests/conformance"), "conformance", keep_tests=True, only_py=True)
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
