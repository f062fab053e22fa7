#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bench-libvfn-guest.sh - the guest half of `LIBVFN_BUILD=DIR scripts/bench.sh`
# (runs inside a scripts/vm.sh guest, busybox sh, controller bound to
# vfio-pci).  Alternates libvfn's examples/perf (carried in as
# /vfn/bin/libvfn-perf, its shared library in /vfn/lib) and `vfn perf` on
# the same controller, ROUNDS times at each queue depth, 4 KiB random
# reads.  The order of the two tools flips every round so that neither
# always runs first.  Each vfn variant (VFN_BENCH_VARIANTS) runs right
# after `vfn perf` in every round.
#
# Raw output between markers, parsed by scripts/bench.sh:
#   @@BENCH info KEY VALUE...
#   @@BENCH begin ENGINE QD ROUND
#   ...libvfn perf's table, or vfn perf's JSON...
#   @@BENCH end ENGINE QD ROUND STATUS
# ENGINE is libvfn, vfn or vfn:NAME (a variant).
#
# Usage: bench-libvfn-guest.sh [-t SEC] [-w SEC] [-r ROUNDS] [-q "QD..."]
#   -t  measured seconds per run (default 5)
#   -w  warm-up seconds per run, both tools (default 1)
#   -r  rounds (default 3)
#   -q  queue depths (default "1 32")
# Environment: VFN_BDF (set by vm.sh); VFN_BENCH_PERF_ARGS (extra arguments
# of every `vfn perf` run); VFN_BENCH_VARIANTS: more `vfn perf` runs, as
# NAME=ARGS items separated by ';', e.g.
# "noshadow=--no-shadow-doorbells;batch8=--batch 8".

set -u

runtime=5
warmup=1
rounds=3
qds="1 32"
while getopts t:w:r:q: opt; do
	case $opt in
	t) runtime=$OPTARG ;;
	w) warmup=$OPTARG ;;
	r) rounds=$OPTARG ;;
	q) qds=$OPTARG ;;
	*) exit 2 ;;
	esac
done

bdf=${VFN_BDF:?VFN_BDF is not set}
perf_args=${VFN_BENCH_PERF_ARGS:-}
variants=${VFN_BENCH_VARIANTS:-}

say() { echo "@@BENCH $*"; }

# libvfn's perf prints its progress only on a tty: the pipe keeps the
# output to the final table.
run_libvfn() { # QD ROUND
	say begin libvfn "$1" "$2"
	libvfn-perf -d "$bdf" -N 1 -q "$1" -p randread -t "$runtime" -w "$warmup" 2>&1 | cat
	say end libvfn "$1" "$2" 0
}

run_vfn() { # ENGINE QD ROUND [ARGS...]
	engine=$1 qd=$2 round=$3
	shift 3
	say begin "$engine" "$qd" "$round"
	# shellcheck disable=SC2086 # extra arguments are whitespace-separated
	vfn perf "$bdf" -q "$qd" -s 4096 -w randread -t "$runtime" --warmup "$warmup" -o json $perf_args "$@" 2>&1
	say end "$engine" "$qd" "$round" "$?"
}

run_variants() { # QD ROUND
	[ -n "$variants" ] || return 0
	old_ifs=$IFS
	IFS=';'
	# shellcheck disable=SC2086 # split on ';'
	set -- $variants
	IFS=$old_ifs
	for v in "$@"; do
		name=${v%%=*}
		args=${v#*=}
		# shellcheck disable=SC2086 # the variant's arguments
		run_vfn "vfn:$name" "$qd" "$round" $args
	done
}

command -v libvfn-perf >/dev/null 2>&1 || { echo "bench-libvfn-guest: no libvfn-perf in the guest" >&2; exit 1; }
command -v vfn >/dev/null 2>&1 || { echo "bench-libvfn-guest: no vfn in the guest" >&2; exit 1; }
say info kernel "$(uname -r)"
say info cpus "$(grep -c ^processor /proc/cpuinfo)"
say info runtime "$runtime"
say info warmup "$warmup"
say info rounds "$rounds"
say info clocksource "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"

round=1
while [ "$round" -le "$rounds" ]; do
	for qd in $qds; do
		if [ $((round % 2)) = 1 ]; then
			run_libvfn "$qd" "$round"
			run_vfn vfn "$qd" "$round"
		else
			run_vfn vfn "$qd" "$round"
			run_libvfn "$qd" "$round"
		fi
		run_variants "$qd" "$round"
	done
	round=$((round + 1))
done
exit 0
