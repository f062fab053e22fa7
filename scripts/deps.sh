#!/usr/bin/env bash
# Installs the Debian packages vfn's build, tests and guest need, if missing.
# Usage: scripts/deps.sh [build|kernel|all]   (default: all)
set -euo pipefail

build_pkgs=(meson ninja-build gcc g++ clang pkg-config libnvme-dev libjson-c-dev libcmocka-dev)
guest_pkgs=(qemu-system-x86 busybox-static cpio fio)
# nvme-cli: the reference client the guest mgmt test compares vfn with
guest_pkgs+=(nvme-cli)
tool_pkgs=(python3 binutils valgrind)
# the Python bindings' tests and tests/conformance (python/, docs/python.md)
tool_pkgs+=(python3-pytest)
# scripts/lint.sh and scripts/fuzz.sh (check.sh --full)
lint_pkgs=(cppcheck clang-tools clang-format libclang-rt-14-dev)
# scripts/kernel.sh: the guest kernel of the iommufd tests, built from source
kernel_pkgs=(make gcc bc bison flex libelf-dev xz-utils)

case "${1:-all}" in
build) want=("${build_pkgs[@]}") ;;
kernel) want=("${kernel_pkgs[@]}") ;;
*) want=("${build_pkgs[@]}" "${guest_pkgs[@]}" "${tool_pkgs[@]}" "${lint_pkgs[@]}" "${kernel_pkgs[@]}") ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
