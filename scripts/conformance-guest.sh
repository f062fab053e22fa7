#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Runs the conformance suite (tests/conformance) inside a QEMU guest against
# QEMU's NVMe controller, bound to vfio-pci (scripts/vm.sh).
#
# The guest is a busybox initramfs, so Python comes along: Debian's
# /usr/bin/python3.11 (with the shared libraries vm.sh copies for it), and
# one zip with its standard library (lib-dynload included), pytest and its
# dependencies from /usr/lib/python3/dist-packages, libffi for ctypes, the
# vfn package and the suite.  The guest unzips it to /tmp and runs pytest with
# --device $VFN_BDF against the build's libvfn.so.0.
#
# Usage: scripts/conformance-guest.sh [--build DIR] [VM.SH OPTIONS...] [-- PYTEST ARGS...]
# Prints pytest's output (with the per-group table) and exits with its status;
# the JUnit XML is printed between "--- junit ---" markers.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

vm_args=()
pytest_args=()
while (($#)); do
	if [ "$1" = -- ]; then
		shift
		pytest_args=("$@")
		break
	fi
	vm_args+=("$1")
	shift
done

py=/usr/bin/python3.11
[ -x "$py" ] || { echo "conformance-guest: needs Debian's $py (apt-get install python3)" >&2; exit 77; }
/usr/bin/python3 -c 'import pytest' 2>/dev/null ||
	{ echo "conformance-guest: needs python3-pytest (apt-get install python3-pytest)" >&2; exit 77; }

tmp=$(mktemp -d /tmp/vfn-conformance.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The bundle: paths inside it are where the guest finds them under /tmp/py.
/usr/bin/python3 - "$tmp/pybundle.zip" "$root" <<'PY'
import os, sys, zipfile
out, root = sys.argv[1], sys.argv[2]
skip_dirs = {"test", "tests", "idlelib", "tkinter", "ensurepip", "lib2to3", "turtledemo", "__pycache__",
             "pydoc_data", "config-3.11-x86_64-linux-gnu", "distutils", "sqlite3", "venv"}
skip_so = ("_test", "xx", "_curses", "_dbm", "_sqlite3", "_tkinter", "readline", "nis", "ossaudiodev", "audioop")
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    def tree(src, dst, keep_tests=False):
        for d, dirs, files in os.walk(src):
            dirs[:] = [x for x in dirs if x == "tests" and keep_tests or x not in skip_dirs]
            for f in files:
                if f.endswith(".pyc"):
                    continue
                if f.endswith(".so") and os.path.basename(f).startswith(skip_so):
                    continue
                p = os.path.join(d, f)
                z.write(p, os.path.join(dst, os.path.relpath(p, src)))
    tree("/usr/lib/python3.11", "usr/lib/python3.11")
    dp = "/usr/lib/python3/dist-packages"
    for name in ("_pytest", "pytest", "pluggy", "iniconfig", "packaging", "attr", "attrs", "py"):
        tree(os.path.join(dp, name), os.path.join("pylib", name))
    z.write(os.path.join(dp, "py.py"), "pylib/py.py")
    z.write(os.path.realpath("/lib/x86_64-linux-gnu/libffi.so.8"), "libs/libffi.so.8")
    tree(os.path.join(root, "python/vfn"), "vfn/vfn")
    tree(os.path.join(root, "tests/conformance"), "conformance", keep_tests=True)
PY

cat >"$tmp/conformance-guest-run.sh" <<'EOF'
#!/bin/sh
# In the guest: unpack the bundle and run the suite against the VFIO-bound controller.
set -e
mkdir -p /tmp/py
unzip -q /vfn/bin/pybundle.zip -d /tmp/py
export PYTHONHOME=/tmp/py/usr PYTHONPATH=/tmp/py/vfn:/tmp/py/pylib PYTHONDONTWRITEBYTECODE=1
export LD_LIBRARY_PATH=/vfn/lib:/tmp/py/libs VFN_LIB=/vfn/lib/libvfn.so.0
cd /tmp/py
rc=0
/vfn/bin/python3.11 -m pytest conformance -p no:cacheprovider -rs --device="${VFN_BDF:-0000:00:01.0}" \
	--junitxml=/tmp/junit.xml "$@" || rc=$?
echo "--- junit ---"
cat /tmp/junit.xml
echo
echo "--- junit end ---"
exit $rc
EOF
chmod +x "$tmp/conformance-guest-run.sh"

rc=0
scripts/vm.sh --timeout 1200 --add "$py" --add "$tmp/pybundle.zip" --add "$tmp/conformance-guest-run.sh" \
	"${vm_args[@]}" -- sh /vfn/bin/conformance-guest-run.sh "${pytest_args[@]}" || rc=$?
exit $rc
