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

# The bundle (scripts/pybundle.py): the interpreter's standard library,
# libffi, pytest, the vfn package (python/vfn) and the suite (conformance/).
/usr/bin/python3 scripts/pybundle.py "$tmp/pybundle.zip" "$root" --pytest --conformance

cat >"$tmp/conformance-guest-run.sh" <<'EOF'
#!/bin/sh
# In the guest: unpack the bundle and run the suite against the VFIO-bound controller.
set -e
mkdir -p /tmp/py
unzip -q /vfn/bin/pybundle.zip -d /tmp/py
export PYTHONHOME=/tmp/py/usr PYTHONPATH=/tmp/py/python:/tmp/py/pylib PYTHONDONTWRITEBYTECODE=1
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
