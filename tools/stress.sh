#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 'make stress': the long stress and fuzz run, on the debug kernel, in the
# test VM. simgpu is loaded with 8 GPUs; then
#   simgpu_stress   GSVM_STRESS_SECONDS (600) of threads and processes
#                   binding, faulting, executing and invalidating on every
#                   GPU, with the data checked (igt-tests/tests/simgpu_stress.c)
#   simgpu_fuzz     GSVM_FUZZ_CALLS (100000) seeded ioctls
#   simgpu reloaded, then simgpu_basic on the fresh module
# and, as in 'make check', every kernel report (WARN, lockdep, KASAN, UBSAN,
# hung task, kmemleak after everything is unloaded) fails the run. Prints
# what the stress run did (operations, ops/s, data checks) and the
# fuzzer's per-ioctl errno counts, and ends with "N passed, N failed, N
# skipped".
#
# Env: GSVM_SEED (default: the time, printed), GSVM_STRESS_SECONDS,
#      GSVM_STRESS_PROCS (3), GSVM_STRESS_THREADS (3), GSVM_FUZZ_CALLS,
#      STRESS_GPUS (8), KDIR (default: the cached debug kernel),
#      STRESS_OUT (default: $GSVM_CACHE/stress/<date>-<time>)

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
secs=${GSVM_STRESS_SECONDS:-600}
seed=${GSVM_SEED:-$(date +%s)}
out=${STRESS_OUT:-${GSVM_CACHE:-/var/cache/gsvm}/stress/$(date +%Y%m%d-%H%M%S)}

KDIR=${KDIR:-$("$here/build-kernel.sh")}
make -C "$repo" -s KDIR="$KDIR" modules
make -C "$repo" -s igt
mkdir -p "$out"
echo "stress: seed $seed, $secs s, ${STRESS_GPUS:-8} GPUs, results in $out"
envs=(--env "NUM_GPUS=${STRESS_GPUS:-8}" --env RIG_GPUS=0 --env RUN_KUNIT=0
      --env RUN_SELFCHECK=0 --env "TEST_TIMEOUT=$((secs + 600))"
      --env "IGT_TESTS=simgpu_stress simgpu_fuzz @reload simgpu_basic"
      --env "GSVM_SEED=$seed" --env "GSVM_STRESS_SECONDS=$secs"
      --env "GSVM_FUZZ_CALLS=${GSVM_FUZZ_CALLS:-100000}")
for v in GSVM_STRESS_PROCS GSVM_STRESS_THREADS; do
	[ -n "${!v:-}" ] && envs+=(--env "$v=${!v}")
done
KDIR=$KDIR "$here/vm-run.sh" --summary --timeout $((secs + 1800)) "${envs[@]}" \
	--artifacts "$out" -- "$here/run-tests.sh" | tee "$out/summary.txt"
rc=${PIPESTATUS[0]}
# What the runs printed about themselves.
for b in simgpu_stress simgpu_fuzz; do
	log=$out/tests/igt-$b.log
	[ -f "$log" ] && grep -E '^ *(seed|[a-z_ -]+ +[0-9]+ |[0-9]+ (operations|calls)|MemAvailable)' \
		"$log" | sed "s/^/$b: /"
done
exit "$rc"
