#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs INSIDE the test VM (see tools/guest-bench.sh, which has loaded gsvm and
# simgpu with num_gpus=$NUM_GPUS). For each simulated TLB invalidation latency
# in $BENCH_LATENCIES it prints the invalidation tables (userptr bindings,
# SVM memory the GPUs faulted in, and a second SVM invalidation while a
# first one of the same notifier is in flight) and the bare mprotect with
# nothing bound, under 'perf record' of the gsvm and simgpu tracepoints, and
# writes $GSVM_RESULTS/bench-<latency>us.csv: gsvm-bench's CSV with the
# per-GPU CPU cost of the start and finish passes and the bare mprotect
# added at the end of each row (tools/perf-pass-costs.py). Then the fault
# service table, next to test_hmm's (bench-faults.csv). Last, one short
# perf trace at the scaled latency (perf-script.txt) drawn as timeline.svg
# (tools/perf-timeline.py): one lane per GPU, two-pass above single-pass.
#
# Why more than one latency: under qemu TCG the CPU side of a notifier
# (locking, PTE zap, DMA unmap) runs far slower than on hardware, while the
# simulated TLB latency is wall-clock time. At the hardware figure of 40 us
# the CPU work therefore dominates. The scaled latency ("auto") is chosen
# from the CPU work measured at the first latency: with c the per-GPU CPU
# cost of both passes (two-pass, N = 1) and L the latency, N GPUs take
# about L + N*c two-pass and N*(L + c) single-pass, so two-pass N against
# its own N = 1 is 1 + (N-1)*c/(L+c). L = $BENCH_SCALE * c (200) gives
# 1.035 at N = 8 and 1.075 at N = 16, and single-pass N = 8 about 7.7 times
# two-pass N = 8: the proportion of CPU work to TLB latency of hardware,
# where c is a few microseconds and L tens. docs/benchmark.rst.
#
# Env: BENCH_SAMPLES (default 100), BENCH_GPUS (default 1,2,4,8 and
#      $NUM_GPUS if more), BENCH_KINDS (default userptr,svm,collide),
#      BENCH_LATENCIES (default "40 auto", microseconds; "auto" is the scaled
#      latency above, and needs a latency with perf before it),
#      BENCH_SCALE (default 200), BENCH_FAULT_GPUS (default 1,$NUM_GPUS; ""
#      skips the fault table), BENCH_PERF (default 1: record the
#      tracepoints; 0 leaves out the pass columns, "auto" and the picture)

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tools=$(cd "$here/.." && pwd)
results=${GSVM_RESULTS:-/tmp}
samples=${BENCH_SAMPLES:-100}
ngpus=${NUM_GPUS:-8}
default_gpus=1,2,4,8
[ "$ngpus" -gt 8 ] && default_gpus=$default_gpus,$ngpus
gpus=${BENCH_GPUS:-$default_gpus}
kinds=${BENCH_KINDS:-userptr,svm,collide}
latencies=${BENCH_LATENCIES:-40 auto}
scale=${BENCH_SCALE:-200}
fault_gpus=${BENCH_FAULT_GPUS-1,$ngpus}
default_latency=$(cat /sys/kernel/debug/simgpu/gpu0/tlb_inval_latency_us)
perf=${BENCH_PERF:-1}
if [ "$perf" = 1 ] && ! command -v perf >/dev/null; then
	echo "== perf not found: no pass columns, no scaled latency, no picture"
	perf=0
fi
events=(-e 'gsvm:gsvm_inval_*' -e 'simgpu:simgpu_tlb_inval_*')

# record OUT.txt CMD...: run CMD under perf record of the tracepoints,
# write the perf script text to OUT.txt.
record() {
	local out=$1 data=/tmp/gsvm-bench.perf.data
	shift
	if ! perf record -q -m 16M -o "$data" -a "${events[@]}" -- "$@" 2>/tmp/perf-record.err; then
		echo "perf record failed:"
		tail -n 5 /tmp/perf-record.err
		return 1
	fi
	perf script -i "$data" -F comm,cpu,time,event,trace >"$out" 2>/dev/null
	grep -h -i 'lost' /tmp/perf-record.err || true
	rm -f "$data"
}

scaled=
for lat in $latencies; do
	if [ "$lat" = auto ]; then
		[ -n "$scaled" ] || { echo "== no scaled latency: no CPU cost measured before 'auto'"; continue; }
		lat=$scaled
	fi
	name=bench-${lat}us
	echo "== gsvm-bench: $samples samples per point, GPUs $gpus, TLB invalidation latency $lat us"
	cmd=("$here/gsvm-bench" -k "$kinds,bare" -n "$samples" -g "$gpus" -l "$lat")
	if [ "$perf" = 1 ]; then
		record "$results/perf-${lat}us.txt" "${cmd[@]}" >"$results/$name.txt" ||
			"${cmd[@]}" >"$results/$name.txt"
	else
		"${cmd[@]}" >"$results/$name.txt"
	fi
	cat "$results/$name.txt"
	sed -n '/^gpus,mode,/,$p' "$results/$name.txt" >"$results/$name.raw.csv"
	if [ -s "$results/perf-${lat}us.txt" ]; then
		"$tools/perf-pass-costs.py" "$results/perf-${lat}us.txt" \
			"$results/$name.raw.csv" "$results/$name.csv"
		echo
		echo "CSV with the per-GPU pass costs (from the tracepoints of this run) and the bare mprotect:"
		cat "$results/$name.csv"
		rm -f "$results/$name.raw.csv"
	else
		mv "$results/$name.raw.csv" "$results/$name.csv"
	fi
	# The scaled latency, from this run's two-pass N = 1 CPU cost.
	if [ -z "$scaled" ] && [ -s "$results/perf-${lat}us.txt" ]; then
		c=$(awk -F, '$1 == 1 && $2 == "two-pass" && $7 != "" { print $7 + $8 }' "$results/$name.csv")
		if [ -n "$c" ]; then
			scaled=$(awk -v c="$c" -v s="$scale" 'BEGIN { l = int(c * s / 100 + 0.999) * 100; print (l < 100 ? 100 : l) }')
			echo "== scaled latency: per-GPU CPU cost of both passes c = $c us (two-pass, N = 1, at $lat us);" \
			     "L = $scale * c, rounded up to 100 us = $scaled us"
		fi
	fi
done
if [ -n "$fault_gpus" ]; then
	modprobe test_hmm 2>/dev/null || echo "== test_hmm not available: no reference rows"
	echo "== gsvm-bench: fault service, GPUs $fault_gpus"
	"$here/gsvm-bench" -k fault -g "$fault_gpus" | tee "$results/bench-faults.txt"
	sed -n '/^gpus,mode,/,$p' "$results/bench-faults.txt" > "$results/bench-faults.csv"
	modprobe -r test_hmm 2>/dev/null || true
fi

if [ "$perf" = 1 ]; then
	lat=${scaled:-$default_latency}
	n=$(( ngpus < 8 ? ngpus : 8 ))
	echo "== perf: one invalidation of $n GPUs at $lat us, two-pass and single-pass, for the picture"
	if record "$results/perf-script.txt" "$here/gsvm-bench" -n 2 -g "$n" -l "$lat" >/dev/null; then
		echo "perf script: $(wc -l < "$results/perf-script.txt") events in perf-script.txt"
		python3 "$tools/perf-timeline.py" "$results/perf-script.txt" "$results/timeline.svg" \
			--title "One mprotect of a 64 KiB buffer mirrored by $n simulated GPUs, TLB latency $lat us" ||
			echo "perf-timeline failed"
	fi
fi
for knob in /sys/kernel/debug/simgpu/gpu*/tlb_inval_latency_us; do
	echo "$default_latency" > "$knob"
done
