#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bench-guest.sh - the guest half of scripts/bench.sh (runs inside the
# scripts/vm.sh guest, busybox sh).  Runs 4 KiB random reads against the one
# controller, first on the kernel nvme driver (fio io_uring on the block
# device, fio io_uring_cmd on the generic char device, `vfn perf` on the
# char device), then binds it to vfio-pci and runs `vfn perf` on the BDF.
#
# It parses nothing: each result is printed raw between marker lines that
# scripts/bench.sh parses on the host:
#   @@BENCH info KEY VALUE...
#   @@BENCH begin ENGINE QD
#   ...raw JSON from fio or vfn perf...
#   @@BENCH end ENGINE QD STATUS
#   @@BENCH na ENGINE QD REASON...
# ENGINE is fio-uring, fio-uring-cmd, vfn-kernel or vfn-vfio.
#
# Usage: bench-guest.sh [-t SEC] [-r SEC] [-q "QD..."] [-s SCHED] [-m]
#   -t  measured run time of each job (default 10)
#   -r  fio ramp time before measuring (default 1)
#   -q  queue depths (default "1 32")
#   -s  I/O scheduler of the block device for the io_uring jobs (default:
#       the kernel's pick, mq-deadline for this single-queue controller)
#   -m  MMIO-count mode: before each job, make the kernel send admin
#       commands (a namespace rescan) so the host can split QEMU's trace
#       into one segment per job
# Environment: VFN_BDF (set by vm.sh), VFN_BENCH_PERF_ARGS (extra
# arguments for every `vfn perf` run).

set -u

runtime=10
ramp=1
qds="1 32"
sched=
mark=0
kernel_broken=0
while getopts t:r:q:s:m opt; do
	case $opt in
	t) runtime=$OPTARG ;;
	r) ramp=$OPTARG ;;
	q) qds=$OPTARG ;;
	s) sched=$OPTARG ;;
	m) mark=1 ;;
	*) exit 2 ;;
	esac
done

bdf=${VFN_BDF:?VFN_BDF is not set}
dev=/sys/bus/pci/devices/$bdf
blk=/dev/nvme0n1
chr=/dev/ng0n1
perf_args=${VFN_BENCH_PERF_ARGS:-}

say() { echo "@@BENCH $*"; }

# Admin commands on the kernel path, used as a separator in the QEMU trace.
trace_mark() {
	[ "$mark" = 1 ] || return 0
	[ -e /sys/class/nvme/nvme0/rescan_controller ] || return 0
	echo 1 >/sys/class/nvme/nvme0/rescan_controller
	sleep 1
}

# Runs one fio job and prints its JSON between markers.  (io_uring_cmd
# always bypasses the page cache; fio refuses direct=1 on the char device.)
fio_once() { # ENGINE QD fio-args...
	engine=$1 qd=$2
	shift 2
	trace_mark
	say begin "$engine" "$qd"
	fio --name="$engine-qd$qd" --rw=randread --bs=4k \
		--iodepth="$qd" --numjobs=1 --size=100% --offset=0 \
		--norandommap --randrepeat=0 \
		--time_based --runtime="$runtime" --ramp_time="$ramp" \
		--lat_percentiles=1 --output-format=json "$@" 2>&1
	rc=$?
	say end "$engine" "$qd" "$rc"
	note_timeouts "$engine" "$qd"
	return "$rc"
}

# A job that fails (on QEMU 7.2 + Linux 6.1 the kernel path sometimes
# loses completions: the commands time out, the controller is reset and fio
# sees EINTR) is run once more; the host keeps the last result.
# If the retry fails too, the kernel path is taken as broken for the rest
# of the boot (after such a reset it may time out every command).
run_fio() { # ENGINE QD fio-args...
	if [ "$kernel_broken" = 1 ]; then
		say na "$1" "$2" kernel path broken by an earlier stall
		return 1
	fi
	fio_once "$@" && return 0
	say info retry "$1" "$2"
	fio_once "$@" && return 0
	kernel_broken=1
	return 1
}

# Runs `vfn perf` on TARGET and prints its JSON between markers.
run_perf() { # ENGINE QD TARGET
	trace_mark
	say begin "$1" "$2"
	# shellcheck disable=SC2086 # extra arguments are whitespace-separated
	vfn perf "$3" -q "$2" -s 4096 -w randread -t "$runtime" $warmup -o json $perf_args 2>&1
	say end "$1" "$2" "$?"
	note_timeouts "$1" "$2"
}

# Reports the kernel nvme driver's command timeouts since the last call
# (a stall: the block layer retries and fio only sees a huge latency).
timeouts_seen=0
note_timeouts() { # ENGINE QD
	n=$(dmesg | grep -c 'nvme.*timeout')
	if [ "$n" -gt "$timeouts_seen" ]; then
		say info timeouts "$1" "$2" "$((n - timeouts_seen))"
	fi
	timeouts_seen=$n
}

have_perf() {
	command -v vfn >/dev/null 2>&1 && vfn perf --help >/dev/null 2>&1
}

# vfn perf warms up as long as fio ramps, if it has the option.
warmup=
if [ "$ramp" != 0 ] && have_perf && vfn perf --help 2>&1 | grep -q -- --warmup; then
	warmup="--warmup $ramp"
fi

driver_of() {
	if [ -e "$dev/driver" ]; then basename "$(readlink "$dev/driver")"; fi
}

# Waits up to 5 s for PATH to appear.
wait_for() {
	i=0
	while [ ! -e "$1" ]; do
		i=$((i + 1))
		[ "$i" -le 100 ] || return 1
		sleep 0.05
	done
}

set_scheduler() {
	f=/sys/block/nvme0n1/queue/scheduler
	if [ -n "$sched" ] && ! echo "$sched" >"$f"; then
		echo "bench-guest: cannot set the I/O scheduler to $sched" >&2
		exit 1
	fi
	say info scheduler "$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$f" 2>/dev/null)"
}

print_info() {
	say info kernel "$(uname -r)"
	say info cpus "$(grep -c ^processor /proc/cpuinfo)"
	say info driver "$(driver_of)"
	say info lba_size "$(cat /sys/block/nvme0n1/queue/logical_block_size 2>/dev/null)"
	say info ns_bytes "$(($(cat /sys/block/nvme0n1/size 2>/dev/null || echo 0) * 512))"
	say info io_queues "$(find /sys/block/nvme0n1/mq -mindepth 1 -maxdepth 1 | wc -l)"
	say info fio "$(fio --version 2>&1)"
	say info runtime "$runtime"
	say info ramp "$ramp"
}

kernel_jobs() {
	for qd in $qds; do
		run_fio fio-uring "$qd" --filename="$blk" --ioengine=io_uring --direct=1
	done
	for qd in $qds; do
		run_fio fio-uring-cmd "$qd" --filename="$chr" --ioengine=io_uring_cmd --cmd_type=nvme
	done
	for qd in $qds; do
		if [ "$kernel_broken" = 1 ]; then
			say na vfn-kernel "$qd" kernel path broken by an earlier stall
		elif have_perf; then
			run_perf vfn-kernel "$qd" "$chr"
		else
			say na vfn-kernel "$qd" vfn perf not built
		fi
	done
}

vfio_jobs() {
	for qd in $qds; do
		if ! have_perf; then
			say na vfn-vfio "$qd" vfn perf not built
		elif [ "$bound" != vfio-pci ]; then
			say na vfn-vfio "$qd" "vfn bind failed (driver: ${bound:-none})"
		else
			run_perf vfn-vfio "$qd" "$bdf"
		fi
	done
}

[ "$(driver_of)" = nvme ] || { echo "bench-guest: $bdf is not bound to nvme" >&2; exit 1; }
if ! wait_for "$blk" || ! wait_for "$chr"; then
	echo "bench-guest: no $blk or $chr" >&2
	exit 1
fi
print_info
set_scheduler
note_timeouts boot 0
kernel_jobs

if command -v vfn >/dev/null 2>&1; then
	vfn bind "$bdf" >&2 || echo "bench-guest: vfn bind $bdf failed" >&2
else
	echo "bench-guest: no vfn executable in the guest" >&2
fi
group=$(basename "$(readlink "$dev/iommu_group")")
wait_for "/dev/vfio/$group" || true
bound=$(driver_of)
say info bound_after "${bound:-none}"
vfio_jobs
exit 0
