#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs INSIDE the test VM (see tools/guest-bench.sh, which has loaded gsvm and
# simgpu with num_gpus=$NUM_GPUS). For each simulated TLB invalidation latency
# in $BENCH_LATENCIES it prints the invalidation tables (userptr bindings,
# SVM memory the GPUs faulted in, and a second SVM invalidation while a
# first one of the same notifier is in flight) and their CSV and writes the CSV to
# $GSVM_RESULTS/bench-<latency>us.csv; then the fault service table, next to
# test_hmm's (bench-faults.csv); then it records one short perf trace of the
# gsvm and simgpu tracepoints to $GSVM_RESULTS/perf-script.txt.
#
# Why more than one latency: under qemu TCG with a debug kernel the CPU side
# of a notifier (locking, PTE zap, DMA unmap) runs a few hundred times slower
# than on hardware, while the simulated TLB latency is wall-clock time. At the
# hardware figure of 40 us the CPU work therefore dominates; a latency scaled
# by the same order (10 ms) restores the hardware proportion of CPU work to
# TLB latency, which is what the two modes differ in. docs/benchmark.rst.
#
# Env: BENCH_SAMPLES (default 100), BENCH_GPUS (default 1,2,4,8 and
#      $NUM_GPUS if more), BENCH_KINDS (default userptr,svm,collide),
#      BENCH_LATENCIES (default "40 10000", microseconds),
#      BENCH_FAULT_GPUS (default 1,$NUM_GPUS; "" skips the fault table),
#      BENCH_PERF (default 1: also record the perf trace)

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
results=${GSVM_RESULTS:-/tmp}
samples=${BENCH_SAMPLES:-100}
ngpus=${NUM_GPUS:-8}
default_gpus=1,2,4,8
[ "$ngpus" -gt 8 ] && default_gpus=$default_gpus,$ngpus
gpus=${BENCH_GPUS:-$default_gpus}
kinds=${BENCH_KINDS:-userptr,svm,collide}
latencies=${BENCH_LATENCIES:-40 10000}
fault_gpus=${BENCH_FAULT_GPUS-1,$ngpus}
default_latency=$(cat /sys/kernel/debug/simgpu/gpu0/tlb_inval_latency_us)

for lat in $latencies; do
	echo "== gsvm-bench: $samples samples per point, GPUs $gpus, TLB invalidation latency $lat us"
	"$here/gsvm-bench" -k "$kinds" -n "$samples" -g "$gpus" -l "$lat" | tee "$results/bench-${lat}us.txt"
	sed -n '/^gpus,mode,/,$p' "$results/bench-${lat}us.txt" > "$results/bench-${lat}us.csv"
done
if [ -n "$fault_gpus" ]; then
	modprobe test_hmm 2>/dev/null || echo "== test_hmm not available: no reference rows"
	echo "== gsvm-bench: fault service, GPUs $fault_gpus"
	"$here/gsvm-bench" -k fault -g "$fault_gpus" | tee "$results/bench-faults.txt"
	sed -n '/^gpus,mode,/,$p' "$results/bench-faults.txt" > "$results/bench-faults.csv"
	modprobe -r test_hmm 2>/dev/null || true
fi
for knob in /sys/kernel/debug/simgpu/gpu*/tlb_inval_latency_us; do
	echo "$default_latency" > "$knob"
done

if [ "${BENCH_PERF:-1}" = 1 ] && command -v perf >/dev/null; then
	echo "== perf: two-pass, 4 GPUs, 2 samples; gsvm and simgpu tracepoints"
	data=/tmp/gsvm-bench.perf.data
	if perf record -q -o "$data" -a \
		-e 'gsvm:gsvm_inval_*' -e 'simgpu:simgpu_tlb_inval_*' -- \
		"$here/gsvm-bench" -n 2 -g 4 > /dev/null 2> /tmp/perf-record.err; then
		perf script -i "$data" -F comm,cpu,time,event,trace \
			> "$results/perf-script.txt" 2>/dev/null || true
		echo "perf script: $(wc -l < "$results/perf-script.txt") events in perf-script.txt;" \
		     "the first start/finish round:"
		grep -m 12 -E 'gsvm_inval|simgpu_tlb_inval' "$results/perf-script.txt" || true
	else
		echo "perf record failed:"; tail -n 5 /tmp/perf-record.err
	fi
fi
