#!/usr/bin/env bash
# vfn's main job, for a newcomer: builds vfn, boots a throwaway QEMU guest
# with an emulated NVMe controller behind an emulated IOMMU, binds the
# controller to vfio-pci with `vfn bind`, and drives it from user space:
# list, show-regs, id-ctrl, list-ns, id-ns, then I/O (a write read back,
# 2-second perf runs, one verifying every block it reads).  Needs root on
# Debian (installs packages with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh all
echo "== building vfn"
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

echo "== booting a QEMU guest (TCG, q35, intel-iommu, nvme serial=vfndemo01, 64 MiB namespace)"
# The guest command: each step is echoed as a shell prompt line, then run.
guest='
step() { echo; echo "# $*"; "$@" || exit $?; }
step vfn list
step vfn bind "$VFN_BDF"
step vfn list
step vfn show-regs "$VFN_BDF"
step vfn id-ctrl "$VFN_BDF"
step vfn list-ns "$VFN_BDF"
step vfn id-ns "$VFN_BDF" -n 1
step identify "$VFN_BDF"
printf "%-511s\n" "hello from user space, through VFIO" >/tmp/hello.txt
step vfn write "$VFN_BDF" -n 1 -s 0 -c 0 -d /tmp/hello.txt
step vfn read "$VFN_BDF" -n 1 -s 0 -c 0
step vfn perf "$VFN_BDF" -w randread -s 4096 -q 1 -t 2
step vfn perf "$VFN_BDF" -w randrw -s 4096 -q 16 -t 2 --verify
'
scripts/vm.sh --build build --bind none --img-size 64M \
	--nvme-opts serial=vfndemo01 -- sh -c "$guest"
