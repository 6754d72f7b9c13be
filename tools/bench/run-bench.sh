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
# service table, next to test_hmm's (bench-faults.csv). The start pass with
# simgpu's arm_timer_at_submit set and cleared, in alternating rounds
# (bench-start-ab.csv). Last, one short
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
#      tracepoints; 0 leaves out the pass columns, "auto", the start-pass
#      A/B and the picture), BENCH_AB_ROUNDS (default 3; 0 skips the A/B),
#      BENCH_AB_GPUS (default 1,8,$NUM_GPUS)

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
ab_rounds=${BENCH_AB_ROUNDS:-3}
ab_gpus=${BENCH_AB_GPUS:-1,8,$ngpus}
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
# The start pass with simgpu's completion timer armed at every submission
# (before) and only for a waiter (after), in alternating rounds of this boot,
# at the first latency: bench-start-ab.csv.
ab_param=/sys/module/simgpu/parameters/arm_timer_at_submit
ab_lat=${latencies%% *}
if [ "$perf" = 1 ] && [ "$ab_rounds" -gt 0 ] && [ -w "$ab_param" ] && [ "$ab_lat" != auto ]; then
	echo "== start pass A/B: arm_timer_at_submit Y (before) and N (after), $ab_rounds alternating rounds," \
	     "userptr, GPUs $ab_gpus, $ab_lat us"
	orig=$(cat "$ab_param")
	echo "round,arm_timer_at_submit,gpus,mode,median_us,start_us_per_gpu,finish_us_per_gpu" \
		>"$results/bench-start-ab.csv"
	for r in $(seq 1 "$ab_rounds"); do
		for arm in Y N; do
			echo "$arm" >"$ab_param"
			t=$results/ab-$r-$arm
			record "$t.perf.txt" "$here/gsvm-bench" -k userptr -n "$samples" -g "$ab_gpus" \
				-l "$ab_lat" >"$t.txt" || continue
			sed -n '/^gpus,mode,/,$p' "$t.txt" >"$t.raw.csv"
			"$tools/perf-pass-costs.py" "$t.perf.txt" "$t.raw.csv" "$t.csv"
			awk -F, -v r="$r" -v a="$arm" 'NR > 1 { print r "," a "," $1 "," $2 "," $3 "," $7 "," $8 }' \
				"$t.csv" >>"$results/bench-start-ab.csv"
			rm -f "$t.perf.txt" "$t.raw.csv" "$t.csv"
		done
	done
	echo "$orig" >"$ab_param"
	# Medians over the rounds; after / before for the start pass.
	awk -F, 'NR > 1 && $4 == "two-pass" {
			k = $3 SUBSEP $2; n[k]++; s[k, n[k]] = $6; m[k, n[k]] = $5; g[$3] = 1 }
		function med(k, a,   i, j, t, c, v) {
			c = n[k]; for (i = 1; i <= c; i++) v[i] = a[k, i]
			for (i = 2; i <= c; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
			return c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2 }
		END {
			print "   start: per-GPU start pass (us); total: two-pass median (us); before: armed at submit"
			printf "   %5s  %13s %13s %7s  %15s %14s\n", "gpus", "start_before", "start_after", "ratio",
				"total_before", "total_after"
			for (x = 1; x <= 64; x++) if (x in g) {
				b = x SUBSEP "Y"; a = x SUBSEP "N"
				if (!(b in n) || !(a in n)) continue
				sb = med(b, s); sa = med(a, s)
				printf "   %5d  %13.1f %13.1f %6.2fx  %15.1f %14.1f\n", x, sb, sa, (sb > 0 ? sa / sb : 0),
					med(b, m), med(a, m) }
		}' "$results/bench-start-ab.csv"
fi

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
