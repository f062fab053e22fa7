#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench.sh - vfn's benchmark rig.  Boots ONE scripts/vm.sh guest whose
# controller is QEMU's nvme backed by null-co (1 GiB, 4096-byte blocks) and
# runs in it, against that one controller: fio io_uring on /dev/nvme0n1, fio
# io_uring_cmd on /dev/ng0n1 and `vfn perf /dev/ng0n1` (kernel nvme driver),
# then `vfn bind` and `vfn perf BDF` (vfio-pci).  4 KiB random reads at
# queue depth 1 and 32.  Prints a table with IOPS, p50/p99 latency and
# ratios; a second section gives the driver cost on the simulator
# (callgrind instructions per I/O).  See docs/benchmarks.md.

set -euo pipefail

readonly PROG=${0##*/}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_ROOT=$(dirname "$SCRIPT_DIR")
readonly SCRIPT_DIR SRC_ROOT

opt_build=$SRC_ROOT/build
opt_md=
opt_runtime=10
opt_ramp=1
opt_quick=0
opt_mmio=0
opt_cost=1
opt_keep_raw=
opt_sched=
opt_qemu_args=()
opt_nvme_opts=
opt_rounds=3
opt_vs_runtime=5
opt_vs_warmup=1
opt_vs_qds="1 32"
opt_libvfn_only=0
opt_cost_only=0
opt_blk_cost=0
opt_libvfn_report=
libvfn_build=${LIBVFN_BUILD:-}
sim_uri=${VFN_BENCH_SIM:-sim:nil=1}
io_timeout=5
tmp=

usage() {
	cat <<EOF
Usage: $PROG [OPTIONS]

Boot one QEMU guest (null-co namespace, 4096-byte blocks) and compare, on
the same controller, fio (io_uring, io_uring_cmd; kernel nvme driver) with
\`vfn perf\` (kernel path, then vfio-pci): 4 KiB random reads at QD1 and
QD32.  Then measure vfn's driver cost on $sim_uri with callgrind.

Options:
  --build DIR       meson build dir with tools/vfn (default: build)
  --md FILE         also write the report as markdown to FILE
  --quick           3 s runs, no ramp (smoke check)
  --runtime SEC     measured seconds per job (default: 10)
  --ramp SEC        fio ramp time before measuring (default: 1)
  --mmio            count MMIO accesses, doorbell writes and MSI-X
                    interrupts per I/O (second boot, QEMU tracing on, 3 s runs)
  --sched NAME      I/O scheduler of /dev/nvme0n1 for fio io_uring, e.g.
                    none (default: the kernel's pick, mq-deadline here)
  --no-cost         skip the callgrind driver-cost section
  --keep-raw FILE   save the guest's raw output (fio JSON) to FILE
  --qemu-arg ARG    extra QEMU argument, passed to vm.sh (repeatable)
  --nvme-opts OPTS  extra QEMU nvme device options, e.g. ioeventfd=on
                    (passed to vm.sh; every boot)
  --rounds N        libvfn alternation: rounds at each QD (default: 3)
  --vs-runtime SEC  libvfn alternation: measured seconds per run (default: 5)
  --vs-warmup SEC   libvfn alternation: warm-up seconds per run (default: 1)
  --vs-qd "QD..."   libvfn alternation: queue depths (default: "1 32")
  --libvfn-only     only the libvfn alternation boot (no fio boot, no
                    driver cost section)
  --cost-only       only the driver cost section (no boot)
  --blk-cost        only the block API's driver cost beside the request
                    API's with --sqe-per-io (its baseline) at QD1 and QD32,
                    and the difference (no boot; issue 15, docs/perf.md)
  --libvfn-report FILE
                    print the libvfn alternation report from FILE, the guest
                    output an earlier run kept with --keep-raw (FILE.libvfn),
                    with FILE.load and FILE.cpu if present (no boot)
  -h, --help        show this help

Environment: VFN_BENCH_SIM (default sim:nil=1), VFN_BENCH_PERF_ARGS (extra
\`vfn perf\` arguments), VFN_CACHE (vm.sh's cache).
VFN_BENCH_CG_DIR=DIR (--blk-cost): keep the callgrind profiles there
(blk.qQD, req.qQD; callgrind_annotate --auto=yes FILE for per-line counts).
LIBVFN_BUILD=DIR: a meson build dir of libvfn (SamsungDS/libvfn, built with
-Dlibnvme=enabled); one more boot (controller on vfio-pci) alternates its
examples/perf with \`vfn perf\`, --rounds times at QD1 and QD32, and
prints each run, the medians and the ratios.  Without it the report says
"libvfn: not measured".  VFN_BENCH_VARIANTS="NAME=ARGS;..." adds \`vfn perf\`
runs with other arguments to every round of that boot (see
scripts/bench-libvfn-guest.sh).
EOF
}

die() {
	printf '%s: error: %s\n' "$PROG" "$1" >&2
	exit "${2:-1}"
}

parse_args() {
	while (($#)); do
		case $1 in
		--build) opt_build=$(realpath "${2:?}"); shift ;;
		--md) opt_md=${2:?}; shift ;;
		--quick) opt_quick=1 ;;
		--runtime) opt_runtime=${2:?}; shift ;;
		--ramp) opt_ramp=${2:?}; shift ;;
		--mmio) opt_mmio=1 ;;
		--sched) opt_sched=${2:?}; shift ;;
		--no-cost) opt_cost=0 ;;
		--keep-raw) opt_keep_raw=${2:?}; shift ;;
		--qemu-arg) opt_qemu_args+=("${2:?}"); shift ;;
		--nvme-opts) opt_nvme_opts=${2:?}; shift ;;
		--rounds) opt_rounds=${2:?}; shift ;;
		--vs-runtime) opt_vs_runtime=${2:?}; shift ;;
		--vs-warmup) opt_vs_warmup=${2:?}; shift ;;
		--vs-qd) opt_vs_qds=${2:?}; shift ;;
		--libvfn-only) opt_libvfn_only=1 ;;
		--cost-only) opt_cost_only=1 ;;
		--blk-cost) opt_blk_cost=1 ;;
		--libvfn-report) opt_libvfn_report=${2:?}; shift ;;
		-h | --help) usage; exit 0 ;;
		*) printf '%s: unknown option %s\n' "$PROG" "$1" >&2; usage >&2; exit 2 ;;
		esac
		shift
	done
	if ((opt_quick)); then
		opt_runtime=3 opt_ramp=0
	fi
	[[ $opt_runtime =~ ^[1-9][0-9]*$ ]] || die "--runtime: not a positive integer: $opt_runtime" 2
	[[ $opt_ramp =~ ^[0-9]+$ ]] || die "--ramp: not an integer: $opt_ramp" 2
	[[ $opt_rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds: not a positive integer: $opt_rounds" 2
	[[ $opt_vs_runtime =~ ^[1-9][0-9]*$ ]] || die "--vs-runtime: not a positive integer: $opt_vs_runtime" 2
	[[ $opt_vs_warmup =~ ^[0-9]+$ ]] || die "--vs-warmup: not an integer: $opt_vs_warmup" 2
	[[ $opt_vs_qds =~ ^[1-9][0-9]*( [1-9][0-9]*)*$ ]] || die "--vs-qd: not a list of queue depths: $opt_vs_qds" 2
	if [[ -n $libvfn_build ]]; then
		libvfn_build=$(realpath "$libvfn_build")
		[[ -x $libvfn_build/examples/perf ]] ||
			die "LIBVFN_BUILD=$libvfn_build has no examples/perf (build libvfn with -Dlibnvme=enabled)" 2
	elif ((opt_libvfn_only)) && [[ -z $opt_libvfn_report ]]; then
		die "--libvfn-only needs LIBVFN_BUILD=DIR" 2
	fi
}

check_tools() {
	local t
	for t in python3 fio qemu-system-x86_64; do
		command -v "$t" >/dev/null || die "$t not found; run scripts/deps.sh" 77
	done
}

# Boots the guest and runs bench-guest.sh; its output goes to file $1.
# Extra arguments go to bench-guest.sh.
run_guest() { # OUT [GUEST-ARGS...]
	local out=$1 jobs=8 limit qa=() ga=()
	shift
	# Each job may stall for about 2 x io_timeout when the kernel path
	# loses a completion (see docs/benchmarks.md) and is run twice then.
	limit=$((60 + jobs * (opt_runtime + opt_ramp + 3) + 2 * 4 * io_timeout))
	for a in "${opt_qemu_args[@]}"; do qa+=(--qemu-arg "$a"); done
	[[ -z $opt_sched ]] || ga=(-s "$opt_sched")
	[[ -z $opt_nvme_opts ]] || qa+=(--nvme-opts "$opt_nvme_opts")
	"$SCRIPT_DIR/vm.sh" --build "$opt_build" --null \
		--ns-opts logical_block_size=4096,physical_block_size=4096 \
		--bind nvme --modparam "nvme_core:io_timeout=$io_timeout" \
		--add "$(command -v fio)" --add "$SCRIPT_DIR/bench-guest.sh" \
		--timeout "$limit" "${qa[@]}" "${extra_vm_args[@]}" -- \
		bench-guest.sh -t "$opt_runtime" -r "$opt_ramp" "${ga[@]}" "$@" >"$out"
}

# ---------------------------------------------------------------------------
# Driver cost: callgrind instructions per I/O on the simulator

# The driver's instructions per I/O at queue depth QD, counted exactly:
# `vfn perf --count-driver` under callgrind --collect-atstart=no collects
# only inside its calls into the library (request alloc + data pointer +
# post, the doorbell ring, the reap minus the callback's body); of those,
# the instructions whose source line is in the library (src/, include/vfn/)
# are the driver's, the rest (the toggles, perf's own stores) are not.
# Divided by the run's completions (every I/O is submitted and completed
# inside the counted calls).  Extra arguments go to vfn perf.  Prints
# "DRIVER PERF OTHER IOS" or fails.
count_run() { # DIR QD [PERF-ARGS...]
	local dir=$1 qd=$2 base
	shift 2
	base=$dir/cd.q$qd
	LD_BIND_NOW=1 valgrind --tool=callgrind --collect-atstart=no --dump-instr=yes \
		--callgrind-out-file="$base" -q \
		"$opt_build/tools/vfn" perf "$sim_uri" -q "$qd" -s 4096 -w randread \
		-t 4 --count-driver "$@" -o json >"$base.json" 2>"$base.err" || return 1
	python3 - "$base" "$base.json" "$SRC_ROOT" <<'PY'
import collections, json, os, re, sys
prof, res, root = sys.argv[1], sys.argv[2], os.path.realpath(sys.argv[3])
lib = (root + "/src/", root + "/include/vfn/")
names, tot = {}, collections.Counter()
cur = fl = None
skip = False
pos = re.compile(r"^(0x[0-9a-f]+|[+-]\d+|\*)\s+\S+\s+(\d+)$")
for line in open(prof):
    m = re.match(r"^(c?f[lie]|c?fn)=\((\d+)\)(?: (.*))?", line)
    if m:
        kind, key, name = m.groups()
        if not kind.endswith("fn"):
            if name:
                names[key] = os.path.normpath(name.strip())
            if kind in ("fl", "fi", "fe"):
                cur = names[key]
                fl = cur if kind == "fl" else fl
        elif kind == "fn":
            cur = fl
        continue
    if line.startswith("calls="):
        skip = True  # the next cost line is the call's inclusive cost
        continue
    m = pos.match(line)
    if not m:
        continue
    if skip:
        skip = False
        continue
    src = cur or ""
    kind = "driver" if src.startswith(lib) else "perf" if src.startswith(root + "/tools/") else "other"
    tot[kind] += int(m.group(2))
ios = json.load(open(res))["completions"]
if not ios:
    sys.exit(1)
print(tot["driver"], tot["perf"], tot["other"], ios)
PY
}

# Prints the driver's instructions per I/O at QD, or "n/a (reason)".
driver_cost() { # QD [PERF-ARGS...]
	local qd=$1 dir r
	dir=$(mktemp -d /tmp/vfn-bench-cg.XXXXXX)
	if ! r=$(count_run "$dir" "$@"); then
		echo "n/a (vfn perf --count-driver $sim_uri failed: $(tail -n1 "$dir"/*.err 2>/dev/null | tr -d '\n' | cut -c1-80))"
		rm -rf "$dir"; return
	fi
	rm -rf "$dir"
	read -r -a r <<<"$r"
	python3 -c '
import sys
d, p, o, ios = map(int, sys.argv[1:])
print("%.0f (%d I/Os; perf %.0f, other %.0f)" % (d / ios, ios, p / ios, o / ios))' "${r[@]}"
}

# The older whole-thread figure, kept as a cross-check: main-thread
# instructions of `vfn perf --irq` (callgrind's totals of thread 1); prints
# "IR IOS".
thread_run() { # DIR QD SEC
	local dir=$1 qd=$2 sec=$3 base
	base=$dir/cg.q$qd.t$sec
	valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$base" -q \
		"$opt_build/tools/vfn" perf "$sim_uri" -q "$qd" -s 4096 -w randread \
		-t "$sec" --irq -o json >"$base.json" 2>"$base.err" || return 1
	python3 - "$base-01" "$base.json" "$sec" <<'PY'
import json, sys
ir = None
for line in open(sys.argv[1]):
    if line.startswith(("totals:", "summary:")):
        ir = int(line.split()[1])
r = json.load(open(sys.argv[2]))
ios = r.get("ios") or r["iops"] * float(sys.argv[3])
if ir is None:
    sys.exit(1)
print(ir, int(ios))
PY
}

# Main-thread instructions per I/O at QD: the difference of a 1 s and a 4 s
# `--irq` run, so that start-up and teardown cancel out.  Includes perf's
# own loop and the epoll/eventfd wrappers.  Prints the figure or "n/a".
thread_cost() { # QD
	local qd=$1 dir a b ra rb
	dir=$(mktemp -d /tmp/vfn-bench-cg.XXXXXX)
	if ! a=$(thread_run "$dir" "$qd" 1) || ! b=$(thread_run "$dir" "$qd" 4); then
		echo "n/a (vfn perf --irq $sim_uri failed)"
		rm -rf "$dir"; return
	fi
	rm -rf "$dir"
	read -r -a ra <<<"$a"
	read -r -a rb <<<"$b"
	python3 -c '
import sys
ir_a, io_a, ir_b, io_b = map(int, sys.argv[1:])
if io_b <= io_a:
    print("n/a (no more I/Os in 4 s than in 1 s)")
else:
    print("%.0f" % ((ir_b - ir_a) / (io_b - io_a)))' "${ra[@]}" "${rb[@]}"
}

# Instructions per I/O of the whole `vfn perf` loop (the driver, perf's own
# bookkeeping, the epoll/eventfd wrappers): callgrind collecting only inside
# perf_loop(), `--irq` so that waiting is a system call and not counted
# polls; divided by the run's completions.  Extra arguments go to vfn perf.
loop_cost() { # QD [PERF-ARGS...]
	local qd=$1 dir base
	shift
	dir=$(mktemp -d /tmp/vfn-bench-cg.XXXXXX)
	base=$dir/loop
	if ! valgrind --tool=callgrind --toggle-collect=perf_loop --callgrind-out-file="$base" -q \
		"$opt_build/tools/vfn" perf "$sim_uri" -q "$qd" -s 4096 -w randread -t 2 --irq "$@" \
		-o json >"$base.json" 2>"$base.err"; then
		echo "n/a (vfn perf --irq $sim_uri failed)"
		rm -rf "$dir"; return
	fi
	python3 - "$base" "$base.json" <<'PY' || echo "n/a"
import json, sys
ir = None
for line in open(sys.argv[1]):
    if line.startswith(("totals:", "summary:")):
        ir = int(line.split()[1])
n = json.load(open(sys.argv[2]))["completions"]
print("%.0f" % (ir / n))
PY
	rm -rf "$dir"
}

cost_section() {
	local c1 c32 m1 m32 t1 t32 l1 l32 n1 n32 why=
	if ! command -v valgrind >/dev/null; then
		why="n/a (valgrind not installed)"
	elif ! "$opt_build/tools/vfn" perf --help 2>/dev/null | grep -q -- --count-driver; then
		why="n/a (vfn perf not built, or without --count-driver)"
	fi
	if [[ -n $why ]]; then
		c1=$why c32=$why m1=$why m32=$why t1=$why t32=$why l1=$why l32=$why n1=$why n32=$why
	else
		c1=$(driver_cost 1)
		c32=$(driver_cost 32)
		m1=$(driver_cost 1 --map-per-io)
		m32=$(driver_cost 32 --map-per-io)
		t1=$(thread_cost 1)
		t32=$(thread_cost 32)
		l1=$(loop_cost 1)
		l32=$(loop_cost 32)
		n1=$(loop_cost 1 --no-latency)
		n32=$(loop_cost 32 --no-latency)
	fi
	cat <<EOF

Driver cost on \`$sim_uri\`: the library's own instructions per 4 KiB read, submission + completion (\`vfn perf --count-driver\`, polled, under valgrind callgrind; see docs/benchmarks.md), with each buffer's data pointer built once before the run (the default) and per I/O with \`vfn_rq_map_iova()\` (\`--map-per-io\`).  Secondary: the whole main thread of \`vfn perf --irq\`, perf's loop and the epoll/eventfd wrappers included ((Ir(4 s) - Ir(1 s)) / (I/Os(4 s) - I/Os(1 s))); the whole perf loop alone (callgrind --toggle-collect=perf_loop, --irq, Ir / completions), and the same with --no-latency (no clock reads, no histogram: the difference is the latency bookkeeping):

| workload | driver instructions per I/O | with --map-per-io | main thread per I/O (--irq) | whole perf loop per I/O (--irq) | same, --no-latency |
| --- | --- | --- | --- | --- | --- |
| 4k randread QD1 | $c1 | $m1 | $t1 | $l1 | $n1 |
| 4k randread QD32 | $c32 | $m32 | $t32 | $l32 | $n32 |
EOF
}

# The block API's driver cost (`vfn perf -j 1`) beside its baseline, the
# request API with `--sqe-per-io` (the SQE built and the buffer mapped per
# I/O inside the counted region), at QD1 and QD32: count_run's method for
# both, the same run length.  Prints a markdown table with the difference
# (issue 15: at most +20).  VFN_BENCH_CG_DIR keeps the profiles.
blk_cost_section() {
	local dir qd r b q kind keep=${VFN_BENCH_CG_DIR:-}
	command -v valgrind >/dev/null || die "valgrind not installed" 77
	"$opt_build/tools/vfn" perf --help 2>/dev/null | grep -q -- --sqe-per-io ||
		die "$opt_build/tools/vfn perf has no --sqe-per-io (build it)" 2
	dir=$(mktemp -d /tmp/vfn-bench-cg.XXXXXX)
	[[ -z $keep ]] || mkdir -p "$keep"
	printf '| QD | block API (-j 1) | request API --sqe-per-io | difference |\n| --- | ---: | ---: | ---: |\n'
	for qd in 1 32; do
		for kind in blk req; do
			if [[ $kind == blk ]]; then
				r=$(count_run "$dir" "$qd" -j 1) || die "vfn perf -j 1 -q $qd failed: $(tail -n1 "$dir"/*.err | cut -c1-100)"
				b=$r
			else
				r=$(count_run "$dir" "$qd" --sqe-per-io) || die "vfn perf --sqe-per-io -q $qd failed: $(tail -n1 "$dir"/*.err | cut -c1-100)"
				q=$r
			fi
			[[ -z $keep ]] || cp "$dir/cd.q$qd" "$keep/$kind.q$qd"
			[[ -z $keep ]] || cp "$dir/cd.q$qd.json" "$keep/$kind.q$qd.json"
		done
		python3 -c '
import sys
b = list(map(int, sys.argv[2].split()))
q = list(map(int, sys.argv[3].split()))
x, y = b[0] / b[3], q[0] / q[3]
print("| %s | %.1f | %.1f | %+.1f |" % (sys.argv[1], x, y, x - y))' "$qd" "$b" "$q"
	done
	rm -rf "$dir"
	printf '\n%s, 4 KiB randread, polled, -t 4, --count-driver under callgrind; driver instructions per I/O (%s).\n' \
		"$sim_uri" "$(date -u '+%Y-%m-%d %H:%M UTC')"
}

# ---------------------------------------------------------------------------
# Report

# Prints the markdown report from the guest output ($1) and, if given, the
# MMIO counts ($2: segment counts from count_trace, $3: that run's output).
report() { # RAW [MMIO-COUNTS MMIO-RAW]
	python3 - "$@" <<'PY'
import json, re, sys, time

ENGINES = [("fio-uring", "fio io_uring, /dev/nvme0n1"),
           ("fio-uring-cmd", "fio io_uring_cmd, /dev/ng0n1"),
           ("vfn-kernel", "vfn perf, /dev/ng0n1"),
           ("vfn-vfio", "vfn perf, vfio-pci")]

def parse(path):
    info, res, cur, buf = {}, {}, None, []
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        m = re.match(r"@@BENCH (\S+) ?(.*)", line)
        if not m:
            if cur:
                buf.append(line)
            continue
        kind, rest = m.groups()
        if kind == "info":
            k, _, v = rest.partition(" ")
            if k == "timeouts":
                e, qd, n = v.split()[:3]
                v = ", ".join(filter(None, [info.get(k), "%s QD%s: %s" % (e, qd, n)]))
            elif k == "retry":
                e, qd = v.split()[:2]
                v = ", ".join(filter(None, [info.get(k), "%s QD%s" % (e, qd)]))
            info[k] = v
        elif kind == "begin":
            cur, buf = tuple(rest.split()[:2]), []
        elif kind == "end":
            res[cur] = result(cur[0], "\n".join(buf))
            cur = None
        elif kind == "na":
            e, qd, why = (rest.split(None, 2) + [""])[:3]
            res[(e, qd)] = {"na": why}
    return info, res

# The first JSON object that starts a line (stderr lines may come first).
def first_json(text):
    for m in re.finditer(r"^\{", text, re.M):
        try:
            return json.JSONDecoder().raw_decode(text[m.start():])[0]
        except ValueError:
            continue
    raise ValueError("no JSON in the output")

def result(engine, text):
    try:
        j = first_json(text)
        if engine.startswith("fio"):
            job = j["jobs"][0]
            if job.get("error"):
                raise ValueError("fio error %d" % job["error"])
            rd = job["read"]
            pct = rd["lat_ns"].get("percentile") or rd["clat_ns"]["percentile"]
            return {"iops": rd["iops"], "mbps": rd["bw_bytes"] / 1e6,
                    "p50": pct["50.000000"], "p99": pct["99.000000"], "max": rd["lat_ns"]["max"],
                    "ios": rd["total_ios"]}
        lat = j["lat_ns"]
        return {"iops": j["iops"], "mbps": j["mbps"], "p50": lat["p50"],
                "p99": lat["p99"], "max": lat["max"], "ios": j.get("ios")}
    except (ValueError, KeyError, IndexError, TypeError) as e:
        lines = [l for l in text.splitlines() if l.strip()]
        return {"na": "failed: %s%s" % (e, (" (" + lines[0][:60] + ")") if lines else "")}

def us(ns):
    return "%.1f" % (ns / 1000.0)

def ratio(a, b):
    if "na" in a or "na" in b or not b["iops"]:
        return "-"
    return "%.2fx" % (a["iops"] / b["iops"])

def main():
    info, res = parse(sys.argv[1])
    qds = sorted({int(k[1]) for k in res})
    out = []
    out.append("Date: %s. Guest kernel %s, %s vCPU, QEMU %s (TCG), nvme null-co %s MiB, %s-byte LBAs, %s I/O queue(s), scheduler %s; %s; %s s per job after a %s s ramp (fio)."
               % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), info.get("kernel", "?"),
                  info.get("cpus", "?"), QEMU, int(info.get("ns_bytes", "0")) >> 20,
                  info.get("lba_size", "?"), info.get("io_queues", "?"), info.get("scheduler", "?"),
                  info.get("fio", "fio ?"),
                  info.get("runtime", "?"), info.get("ramp", "?")))
    out.append("Host: %s CPUs, load average %s before the boot." % (HOST_CPUS, HOST_LOAD))
    out.append("")
    out.append("| workload | engine | IOPS | MB/s | p50 µs | p99 µs | max µs | IOPS / fio io_uring_cmd | IOPS / fio io_uring |")
    out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for qd in qds:
        ref_cmd = res.get(("fio-uring-cmd", str(qd)), {"na": ""})
        ref_blk = res.get(("fio-uring", str(qd)), {"na": ""})
        for key, name in ENGINES:
            r = res.get((key, str(qd)), {"na": "not run"})
            row = "| 4k randread QD%d | %s | " % (qd, name)
            if "na" in r:
                row += "n/a (%s) | | | | | | |" % r["na"]
            else:
                row += "%s | %.1f | %s | %s | %s | %s | %s |" % (
                    format(round(r["iops"]), ","), r["mbps"], us(r["p50"]), us(r["p99"]),
                    us(r["max"]), ratio(r, ref_cmd), ratio(r, ref_blk))
            out.append(row)
    if info.get("timeouts") or info.get("retry"):
        out.append("")
        out.append("Stalls (lost completions, see docs/benchmarks.md): kernel nvme command timeouts: %s; fio jobs run again: %s."
                   % (info.get("timeouts", "none"), info.get("retry", "none")))
    if len(sys.argv) > 3:
        out += mmio_table(sys.argv[2], sys.argv[3])
    print("\n".join(out))

# Segments (one per job, in order) from count_trace, matched with the jobs
# that ran in the MMIO-count boot.
def mmio_table(counts, raw):
    _, res = parse(raw)
    jobs = [(k, r) for k, r in res.items() if "na" not in r]
    segs = [l.split() for l in open(counts) if l.strip()]
    segs = [s for s in segs if int(s[1]) + int(s[3]) >= 100]
    out = ["", "MMIO per I/O (QEMU trace, separate boot, %d s runs, no ramp):" % RUNTIME_MMIO, "",
           "| workload | engine | I/Os | MMIO writes | SQ doorbells | CQ doorbells | MMIO reads | MSI-X |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    if len(segs) != len(jobs):
        # vfn perf runs that reached no controller (e.g. a test double)
        # leave no trace: attribute the segments to the fio jobs alone.
        fio = [j for j in jobs if j[0][0].startswith("fio")]
        if len(segs) == len(fio):
            jobs = fio
    if len(segs) != len(jobs):
        out.append("| (trace has %d I/O segments for %d jobs: not attributed) | | | | | | | |" % (len(segs), len(jobs)))
        return out
    names = dict(ENGINES)
    for ((eng, qd), r), s in zip(jobs, segs):
        sq, cq, wr, rd, msix = map(int, s[1:6])
        n = r.get("ios") or 0
        if not n:
            out.append("| 4k randread QD%s | %s | ? | | | | | |" % (qd, names[eng]))
            continue
        out.append("| 4k randread QD%s | %s | %d | %.2f | %.2f | %.2f | %.2f | %.2f |"
                   % (qd, names[eng], n, wr / n, sq / n, cq / n, rd / n, msix / n))
    return out

QEMU = "@QEMU@"
HOST_CPUS = "@CPUS@"
HOST_LOAD = "@LOAD@"
RUNTIME_MMIO = 3
main()
PY
}

# Splits a QEMU trace (pci_nvme_* events) into segments separated by admin
# queue activity and prints one line per segment:
#   SEG SQ-DOORBELLS CQ-DOORBELLS MMIO-WRITES MMIO-READS MSIX
# counting only I/O queue doorbells (qid >= 1).
count_trace() { # TRACE
	awk '
	function admin() { in_admin = 1 }
	function io() { if (in_admin) { seg++; in_admin = 0 } }
	$1 ~ /^pci_nvme_mmio_doorbell_(sq|cq)$/ {
		if ($3 == 0) { admin(); next }
		io()
		if ($1 ~ /_sq$/) sq[seg]++; else cq[seg]++
		next
	}
	$1 == "pci_nvme_mmio_write" { wr[seg]++; next }
	$1 == "pci_nvme_mmio_read" { rd[seg]++; next }
	$1 == "pci_nvme_irq_msix" { msix[seg]++; next }
	END {
		for (i = 0; i <= seg; i++)
			printf "%d %d %d %d %d %d\n", i, sq[i], cq[i], wr[i], rd[i], msix[i]
	}' "$1"
}

# ---------------------------------------------------------------------------
# Same boot as libvfn (LIBVFN_BUILD)

# Boots a guest with the controller on vfio-pci and runs
# bench-libvfn-guest.sh, which alternates libvfn's examples/perf and
# `vfn perf`; the guest's output goes to $1, the host's load average,
# sampled every 5 s during the boot, to $2.
run_libvfn_guest() { # OUT LOADLOG
	local out=$1 loadlog=$2 qa=() limit sampler monitor qemu_name rc=0 nvar=0 v
	IFS=';' read -r -a v <<<"${VFN_BENCH_VARIANTS:-}"
	nvar=${#v[@]}
	limit=$((120 + opt_rounds * 2 * (2 + nvar) * (opt_vs_runtime + opt_vs_warmup + 10)))
	for a in "${opt_qemu_args[@]}"; do qa+=(--qemu-arg "$a"); done
	[[ -z $opt_nvme_opts ]] || qa+=(--nvme-opts "$opt_nvme_opts")
	# The guest gets it as /vfn/bin/libvfn-perf; vm.sh resolves its
	# libraries with ldd, which finds libvfn.so in the build's src/.
	ln -sf "$libvfn_build/examples/perf" "$tmp/libvfn-perf"
	(while :; do
		printf '%s %s\n' "$(date -u +%H:%M:%S)" "$(cut -d' ' -f1-3 /proc/loadavg)"
		sleep 5
	done) >"$loadlog" &
	sampler=$!
	qemu_name=vfnbench-$$-$RANDOM
	qa+=(--qemu-arg -name --qemu-arg "guest=$qemu_name,debug-threads=on")
	: >"$out"
	qemu_monitor "$out" "$qemu_name" "$tmp/qemu-cpu.log" &
	monitor=$!
	LD_LIBRARY_PATH=$libvfn_build/src${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
		"$SCRIPT_DIR/vm.sh" --build "$opt_build" --null \
		--ns-opts logical_block_size=4096,physical_block_size=4096 \
		--bind vfio --add "$tmp/libvfn-perf" --add "$SCRIPT_DIR/bench-libvfn-guest.sh" \
		--timeout "$limit" "${qa[@]}" -- \
		bench-libvfn-guest.sh -t "$opt_vs_runtime" -w "$opt_vs_warmup" -r "$opt_rounds" -q "$opt_vs_qds" >"$out" || rc=$?
	kill "$sampler" 2>/dev/null || true
	wait "$sampler" 2>/dev/null || true
	kill "$monitor" 2>/dev/null || true
	wait "$monitor" 2>/dev/null || true
	return "$rc"
}

# Follows the guest output $1 while the boot runs and, at each run's begin
# and end marker, samples the CPU time of the QEMU process named $2
# (-name NAME,debug-threads=on): its main loop thread (the emulated
# controller) and its vCPU thread.  Prints one line per run to $3:
#   ENGINE QD ROUND WALL_S MAIN_CPU_S VCPU_CPU_S
qemu_monitor() { # OUT NAME LOG
	python3 - "$@" <<'PY'
import os, sys, time
out, name, log = sys.argv[1:4]
hz = os.sysconf("SC_CLK_TCK")

def find():
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            argv = open("/proc/%s/cmdline" % p, "rb").read().split(b"\0")
            # vm.sh's own command line has the name too: the QEMU process only
            if os.path.basename(argv[0]).startswith(b"qemu-system") and \
                    ("guest=%s,debug-threads=on" % name).encode() in argv:
                return p
        except OSError:
            pass
    return None

def sample(pid):
    main = vcpu = 0
    try:
        for t in os.listdir("/proc/%s/task" % pid):
            st = open("/proc/%s/task/%s/stat" % (pid, t)).read()
            comm = st[st.index("(") + 1:st.rindex(")")]
            f = st[st.rindex(")") + 2:].split()
            ticks = int(f[11]) + int(f[12])
            if t == pid:
                main = ticks
            elif comm.startswith("CPU "):
                vcpu += ticks
    except OSError:
        return None
    return time.monotonic(), main / hz, vcpu / hz

pid, pos, begin = None, 0, {}
with open(log, "w") as lg:
    while True:
        if pid is None:
            pid = find()
        try:
            with open(out) as f:
                f.seek(pos)
                data = f.read()
                # only whole lines
                cut = data.rfind("\n") + 1
                pos += len(data[:cut].encode())
                lines = data[:cut].splitlines()
        except OSError:
            lines = []
        for l in lines:
            w = l.split()
            if len(w) >= 5 and w[0] == "@@BENCH" and w[1] in ("begin", "end") and pid:
                s = sample(pid)
                key = tuple(w[2:5])
                if s and w[1] == "begin":
                    begin[key] = s
                elif s and key in begin:
                    b = begin.pop(key)
                    lg.write("%s %s %s %.3f %.2f %.2f\n" % (key + (s[0] - b[0], s[1] - b[1], s[2] - b[2])))
                    lg.flush()
        if pid and not os.path.exists("/proc/%s" % pid):
            break
        time.sleep(0.05)
PY
}

# The libvfn's build type (meson), for the report.
libvfn_buildtype() {
	python3 - "$libvfn_build/meson-info/intro-buildoptions.json" <<'PY' 2>/dev/null || echo "?"
import json, sys
o = {x["name"]: x["value"] for x in json.load(open(sys.argv[1]))}
print("%s, -O%s" % (o.get("buildtype", "?"), o.get("optimization", "?")))
PY
}

# Prints the markdown report of the alternation boot: each run, then the
# medians and ratios.  RAW: the guest output; LOADLOG: host load samples.
report_libvfn() { # RAW LOADLOG CPULOG
	python3 - "$@" <<'PY'
import json, re, statistics, sys, time

def parse(path):
    info, runs, cur, buf = {}, [], None, []
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        m = re.match(r"@@BENCH (\S+) ?(.*)", line)
        if not m:
            if cur:
                buf.append(line)
            continue
        kind, rest = m.groups()
        if kind == "info":
            k, _, v = rest.partition(" ")
            info[k] = v
        elif kind == "begin":
            cur, buf = rest.split()[:3], []
        elif kind == "end" and cur:
            eng, qd, rnd = cur
            runs.append(dict(engine=eng, qd=int(qd), round=int(rnd), **result(eng, "\n".join(buf))))
            cur = None
    return info, runs

def first_json(text):
    for m in re.finditer(r"^\{", text, re.M):
        try:
            return json.JSONDecoder().raw_decode(text[m.start():])[0]
        except ValueError:
            continue
    raise ValueError("no JSON in the output")

def result(engine, text):
    try:
        if engine == "libvfn":
            # "iops mbps lavg lmin lmax" then the values (latency in µs)
            lines = [l.split() for l in text.replace("\r", "\n").splitlines()]
            for i, l in enumerate(lines):
                if l[:1] == ["iops"] and i + 1 < len(lines) and len(lines[i + 1]) == 5:
                    iops, _, lavg, lmin, lmax = map(float, lines[i + 1])
                    return {"iops": iops, "avg": lavg * 1e3, "min": lmin * 1e3, "max": lmax * 1e3}
            raise ValueError("no result table")
        j = first_json(text)
        if j.get("errors"):
            raise ValueError("%d errors" % j["errors"])
        lat = j["lat_ns"]
        subs = j.get("submissions") or 0
        r = {"iops": j["iops"], "avg": lat["avg"], "min": lat["min"], "max": lat["max"],
             "p50": lat["p50"], "p99": lat["p99"], "p99.9": lat["p99.9"]}
        if subs:
            r["sqdb"] = j.get("sq_mmio_doorbells", 0) / subs
            r["cqdb"] = j.get("cq_mmio_doorbells", 0) / subs
        return r
    except (ValueError, KeyError, IndexError, TypeError) as e:
        lines = [l for l in text.splitlines() if l.strip()]
        return {"na": "failed: %s%s" % (e, (" (" + lines[-1][:60] + ")") if lines else "")}

def us(ns):
    return "%.1f" % (ns / 1000.0) if ns is not None else ""

def loads(path):
    try:
        s = [l.split() for l in open(path) if l.strip()]
    except OSError:
        s = []
    if not s:
        return "?"
    one = [float(x[1]) for x in s]
    return "1-min load average %.2f–%.2f over %d samples (%s–%s UTC; first sample %s)" % (
        min(one), max(one), len(s), s[0][0], s[-1][0], " ".join(s[0][1:]))

def cpu(path, runs):
    try:
        for l in open(path):
            e, qd, rnd, wall, main, vcpu = l.split()
            for r in runs:
                if (r["engine"], r["qd"], r["round"]) == (e, int(qd), int(rnd)) and float(wall) > 0:
                    r["main%"] = 100 * float(main) / float(wall)
                    r["vcpu%"] = 100 * float(vcpu) / float(wall)
                    if r.get("iops"):
                        r["mainus"] = 1e6 * float(main) / float(wall) / r["iops"]
    except OSError:
        pass

def pct(r, k):
    return "%.0f" % r[k] if k in r else ""

def main():
    info, runs = parse(sys.argv[1])
    cpu(sys.argv[3], runs)
    out = ["Same boot as libvfn — date: %s. Guest kernel %s, %s vCPU, QEMU %s (TCG), nvme null-co 1 GiB, 4096-byte LBAs%s, controller on vfio-pci; 4 KiB random reads, %s s runs after a %s s warm-up (both tools), %s rounds, the order of the two tools flipped every round."
           % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), info.get("kernel", "?"), info.get("cpus", "?"),
              QEMU, NVME_OPTS, info.get("runtime", "?"), info.get("warmup", "?"), info.get("rounds", "?")),
           "Host: %s CPUs, %s." % (HOST_CPUS, loads(sys.argv[2])),
           "libvfn: %s, examples/perf (%s)%s; vfn perf: %s."
           % (LIBVFN_REV, LIBVFN_TYPE, ", latency average/min/max only", VFN_ARGS),
           "", "Each run (latency in µs; vfn perf's p50/p99/p99.9 from its histogram; libvfn perf prints avg/min/max only; doorbells: MMIO writes per command):", "",
           "QEMU's threads over the whole run (start-up and warm-up included; from /proc, -name debug-threads=on): main loop % and vCPU % busy, main-loop CPU µs per I/O (main-loop busy / IOPS).", "",
           "| round | QD | engine | IOPS | avg | min | max | p50 | p99 | p99.9 | SQ / CQ doorbells | main loop % | vCPU % | main µs/IO |",
           "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |"]
    for r in runs:
        if "na" in r:
            out.append("| %d | %d | %s | n/a (%s) | | | | | | | | | | |" % (r["round"], r["qd"], r["engine"], r["na"]))
            continue
        db = "%.3f / %.3f" % (r["sqdb"], r["cqdb"]) if "sqdb" in r else ""
        out.append("| %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["round"], r["qd"], r["engine"], format(round(r["iops"]), ","), us(r["avg"]), us(r["min"]),
            us(r["max"]), us(r.get("p50")), us(r.get("p99")), us(r.get("p99.9")), db,
            pct(r, "main%"), pct(r, "vcpu%"), "%.2f" % r["mainus"] if "mainus" in r else ""))
    out += ["", "Medians over the rounds (ratio: median IOPS / libvfn's median IOPS; per-round ratios in brackets):", "",
            "| QD | engine | runs | median IOPS | ratio vs libvfn | median avg µs | median p50 µs | median p99 µs | median p99.9 µs | median main µs/IO | median vCPU % |",
            "| ---: | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    engines = []
    for r in runs:
        if r["engine"] not in engines:
            engines.append(r["engine"])
    for qd in sorted({r["qd"] for r in runs}):
        ok = lambda e: [r for r in runs if r["qd"] == qd and r["engine"] == e and "na" not in r]
        base = ok("libvfn")
        bmed = statistics.median([r["iops"] for r in base]) if base else None
        for e in engines:
            rs = ok(e)
            if not rs:
                out.append("| %d | %s | 0 | n/a | | | | | | | |" % (qd, e))
                continue
            med = statistics.median([r["iops"] for r in rs])
            ratio = ""
            if bmed and e != "libvfn":
                per = []
                for r in rs:
                    b = [x for x in base if x["round"] == r["round"]]
                    if b and b[0]["iops"]:
                        per.append("%.2f" % (r["iops"] / b[0]["iops"]))
                ratio = "**%.2fx** [%s]" % (med / bmed, " ".join(per))
            m = lambda k: us(statistics.median([r[k] for r in rs])) if all(k in r for r in rs) else ""
            c = lambda k, f: f % statistics.median([r[k] for r in rs]) if all(k in r for r in rs) else ""
            out.append("| %d | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                qd, e, len(rs), format(round(med), ","), ratio, m("avg"), m("p50"), m("p99"), m("p99.9"),
                c("mainus", "%.2f"), c("vcpu%", "%.0f")))
    print("\n".join(out))

QEMU = "@QEMU@"
HOST_CPUS = "@CPUS@"
NVME_OPTS = "@NVMEOPTS@"
LIBVFN_REV = "@LIBVFNREV@"
LIBVFN_TYPE = "@LIBVFNTYPE@"
VFN_ARGS = "@VFNARGS@"
main()
PY
}

# The alternation boot and its report, or "libvfn: not measured".
libvfn_section() {
	local raw=$tmp/libvfn.out loadlog=$tmp/load.log rc=0
	if [[ -z $libvfn_build ]]; then
		printf '\nlibvfn: not measured (set LIBVFN_BUILD=DIR to a libvfn build; see docs/benchmarks.md).\n'
		return 0
	fi
	run_libvfn_guest "$raw" "$loadlog" || rc=$?
	if [[ -n $opt_keep_raw ]]; then
		cp "$raw" "$opt_keep_raw.libvfn"
		cp "$loadlog" "$opt_keep_raw.libvfn.load" 2>/dev/null || true
		cp "$tmp/qemu-cpu.log" "$opt_keep_raw.libvfn.cpu" 2>/dev/null || true
	fi
	if ((rc != 0)); then
		echo "$PROG: the libvfn guest run failed (vm.sh exit status $rc); its output:" >&2
		tail -n 20 "$raw" >&2
		return 1
	fi
	printf '\n'
	libvfn_print_report "$raw" "$loadlog" "$tmp/qemu-cpu.log"
}

# The alternation report from the guest output RAW, the host load samples
# and QEMU's thread CPU per run (either file may be missing).
libvfn_print_report() { # RAW LOADLOG CPULOG
	local rev="?" btype="?" nvopts="" vargs
	if [[ -n $libvfn_build ]]; then
		rev=$(git -C "$libvfn_build/.." describe --always --dirty 2>/dev/null || echo "?")
		btype=$(libvfn_buildtype)
	fi
	[[ -z $opt_nvme_opts ]] || nvopts=", nvme $opt_nvme_opts"
	vargs="defaults${VFN_BENCH_PERF_ARGS:+ + $VFN_BENCH_PERF_ARGS}${VFN_BENCH_VARIANTS:+; variants $VFN_BENCH_VARIANTS}"
	report_libvfn "$1" "$2" "$3" | sed -e "s/@QEMU@/$(qemu-system-x86_64 --version 2>/dev/null | awk 'NR == 1 { print $4 }')/" \
		-e "s/@CPUS@/$(nproc)/" -e "s|@NVMEOPTS@|$nvopts|" -e "s/@LIBVFNREV@/$rev/" \
		-e "s/@LIBVFNTYPE@/$btype/" -e "s|@VFNARGS@|${vargs//|/\\|}|"
}

main() {
	local raw qemu_ver host_load rc=0 mmio_args=() md
	parse_args "$@"
	if ((opt_blk_cost)); then
		blk_cost_section
		return
	fi
	if ((opt_cost_only)); then
		cost_section
		return
	fi
	if [[ -n $opt_libvfn_report ]]; then
		[[ -f $opt_libvfn_report ]] || die "--libvfn-report: no such file: $opt_libvfn_report" 2
		libvfn_print_report "$opt_libvfn_report" "$opt_libvfn_report.load" "$opt_libvfn_report.cpu"
		return
	fi
	check_tools
	tmp=$(mktemp -d /tmp/vfn-bench.XXXXXX)
	trap 'rm -rf "$tmp"' EXIT
	raw=$tmp/guest.out
	qemu_ver=$(qemu-system-x86_64 --version | awk 'NR == 1 { print $4 }')
	host_load=$(cut -d' ' -f1-3 /proc/loadavg)
	: >"$tmp/report.md"

	extra_vm_args=()
	if ((!opt_libvfn_only)); then
		run_guest "$raw" || rc=$?
		[[ -z $opt_keep_raw ]] || cp "$raw" "$opt_keep_raw"
		if ((rc != 0)); then
			echo "$PROG: the guest run failed (vm.sh exit status $rc); its output:" >&2
			tail -n 20 "$raw" >&2
			exit 1
		fi
		if ((opt_mmio)); then
			extra_vm_args=(--qemu-arg -trace --qemu-arg 'pci_nvme_mmio_*'
				--qemu-arg -trace --qemu-arg 'pci_nvme_irq_msix'
				--qemu-arg -D --qemu-arg "$tmp/trace.log")
			opt_runtime=3 opt_ramp=0
			run_guest "$tmp/mmio.out" -m || die "the MMIO-count guest run failed"
			count_trace "$tmp/trace.log" >"$tmp/mmio.counts"
			rm -f "$tmp/trace.log"
			mmio_args=("$tmp/mmio.counts" "$tmp/mmio.out")
		fi

		report "$raw" "${mmio_args[@]}" |
			sed -e "s/@QEMU@/$qemu_ver/" -e "s/@CPUS@/$(nproc)/" -e "s/@LOAD@/$host_load/" >"$tmp/report.md"
	fi
	libvfn_section >>"$tmp/report.md" || rc=1
	if ((opt_cost && !opt_libvfn_only)); then
		cost_section >>"$tmp/report.md"
	fi
	md=$(cat "$tmp/report.md")
	printf '%s\n' "$md"
	if [[ -n $opt_md ]]; then
		printf '%s\n' "$md" >"$opt_md"
	fi
	return "$rc"
}

main "$@"; exit
