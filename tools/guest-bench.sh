#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs INSIDE the test VM for 'make bench' (see tools/bench.sh): time the
# bare mprotect with the modules not loaded, load them with
# num_gpus=$NUM_GPUS (default 16), time it again with nothing bound (the
# idle overhead, bench-idle.csv), run tools/bench/run-bench.sh, unload.
# Exit status: the benchmark's, or 1 if setup or unload failed.

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
GSVM_REPO=$(cd "$here/.." && pwd)
NUM_GPUS=${NUM_GPUS:-16}
GSVM_RESULTS=${GSVM_RESULTS:-/tmp/bench-results}
export GSVM_REPO NUM_GPUS GSVM_RESULTS
mkdir -p "$GSVM_RESULTS"
# shellcheck source=tools/guest-lib.sh
. "$here/guest-lib.sh"

bench=$GSVM_REPO/tools/bench/run-bench.sh
[ -x "$bench" ] || { echo "guest-bench: $bench missing"; exit 1; }

echo "== bench on $(uname -r), $(nproc) CPUs, num_gpus=$NUM_GPUS"

# The idle overhead: the same mprotect, nothing bound, with the modules not
# loaded and loaded, in this boot. Timings under TCG drift, so the two
# alternate: $idle_rounds rounds of (not loaded, loaded), unloading between
# rounds; the figure of each is the median of its rounds' medians.
idle_samples=${BENCH_IDLE_SAMPLES:-2000}
idle_rounds=${BENCH_IDLE_ROUNDS:-4}
idle() {	# idle: the median of one bare run
	"$GSVM_REPO/tools/bench/gsvm-bench" -k bare -n "$idle_samples" |
		awk -F, '$1 == 0 && $2 == "bare" { print $3 }'
}
load_all() {
	modprobe drm_gpusvm_helper || { echo "guest-bench: modprobe drm_gpusvm_helper failed"; return 1; }
	gsvm_load "$GSVM_REPO/drivers/gsvm/gsvm.ko" || { echo "guest-bench: loading gsvm failed"; return 1; }
	gsvm_load "$GSVM_REPO/drivers/simgpu/simgpu.ko" "num_gpus=$NUM_GPUS" ||
		{ echo "guest-bench: loading simgpu failed"; return 1; }
}
unloaded=() loaded=()
for ((r = 0; r < idle_rounds; r++)); do
	u=$(idle)
	[ -n "$u" ] || { echo "guest-bench: gsvm-bench -k bare failed"; exit 1; }
	load_all || exit 1
	l=$(idle)
	[ -n "$l" ] || { echo "guest-bench: gsvm-bench -k bare failed"; exit 1; }
	unloaded+=("$u") loaded+=("$l")
	if [ $r -lt $((idle_rounds - 1)) ]; then
		for m in simgpu gsvm drm_gpusvm_helper; do
			gsvm_unload "$m" || { echo "guest-bench: $m would not unload"; exit 1; }
		done
	fi
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
{
	echo "gpus,mode,median_us,p90_us,faults_per_s,pages_per_s"
	echo "0,bare-modules-unloaded,$(median "${unloaded[@]}"),,,"
	echo "0,bare-modules-loaded,$(median "${loaded[@]}"),,,"
} >"$GSVM_RESULTS/bench-idle.csv"
echo "== idle overhead: mprotect(PROT_READ) of 64 KiB, nothing bound; $idle_rounds rounds of" \
     "$idle_samples samples, not loaded then loaded"
echo "   medians per round, not loaded: ${unloaded[*]} us; loaded: ${loaded[*]} us"
# The rounds drift apart more than the states do: compare within a round.
ratios=()
for ((r = 0; r < idle_rounds; r++)); do
	ratios+=("$(awk -v l="${loaded[r]}" -v u="${unloaded[r]}" 'BEGIN { printf "%.3f", l / u }')")
done
echo "   loaded / not loaded per round: ${ratios[*]}; median $(median "${ratios[@]}")"
awk -F, 'NR > 1 { m[NR] = $3; printf "   %-24s median of the rounds %6.2f us\n", $2, $3 }
	 END { if (m[2] > 0) printf "   loaded / not loaded: %.3f\n", m[3] / m[2] }' "$GSVM_RESULTS/bench-idle.csv"

gsvm_mark "start bench"
"$bench"
rc=$?
gsvm_mark "end bench (status $rc)"

for m in simgpu gsvm; do
	gsvm_unload "$m" || { echo "guest-bench: $m would not unload"; rc=1; }
done
exit $rc
