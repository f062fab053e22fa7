#!/bin/sh
# Guest suite for the block API (issue 15), run twice by meson: with the
# controller bound to vfio-pci (test-blk.sh vfio: the nvme backend on the
# BDF) and to the kernel nvme driver (test-blk.sh nvme: io_uring on
# /dev/nvme0n1, io_uring_cmd on /dev/ng0n1).  The same test source as on
# the host (tests/unit/test_blk.c: sim:, a file, and VFN_TEST_BLK_URI; on
# the BDF also built with VFN_BLK_INLINE), then `vfn perf -j 2` for 2 s on
# each device.  Prints TAP.
. "$(dirname "$0")/lib.sh"

MODE=${1:-vfio}
if [ "$MODE" = nvme ]; then
	DEVS="/dev/nvme0n1 /dev/ng0n1"
else
	DEVS=$VFN_BDF
fi

for d in $DEVS; do
	VFN_TEST_BLK_URI=$d
	export VFN_TEST_BLK_URI
	t_run_cmocka "blk $d" test_blk
	# the nvme backend: again through <vfn/blk-inline.h> (the inline fast path and reap)
	[ "$MODE" = nvme ] || t_run_cmocka "blk-inline $d" test_blk_inline
	t_capture vfn perf "$d" -j 2 -q 8 -t 2 -o json
	t_eq "perf -j 2 $d: exit 0" 0 "$T_RC"
	t_diag "$T_OUT"
	t_match "perf -j 2 $d: IOPS > 0" '"iops": [1-9]' "$T_OUT"
	t_capture vfn perf "$d" -j 2 -q 8 -t 2 --irq -w randwrite -o json
	t_match "perf -j 2 --irq randwrite $d: IOPS > 0" '"iops": [1-9]' "$T_OUT"
done

t_done
