#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 'make bench': deps, the production kernel (tools/build-kernel.sh
# --production: the test kernel with the series, without the debug options;
# 'make check' keeps the debug kernel), modules and igt-tests built against
# it, then one VM boot with simgpu loaded with num_gpus=16 that runs the
# benchmark. From nothing it builds only that kernel.
#
# The benchmark itself lives in tools/bench/ (written separately). The hook:
#   - if tools/bench/Makefile exists, 'make -C tools/bench' runs on the host
#     first (build the benchmark programs there);
#   - in the guest, tools/guest-bench.sh loads gsvm and simgpu (num_gpus=16),
#     then runs tools/bench/run-bench.sh with the environment below, then
#     unloads the modules; run-bench.sh may reload them with other parameters;
#   - everything run-bench.sh prints is shown here; files it writes to
#     $GSVM_RESULTS are copied to $BENCH_OUT.
# Environment of run-bench.sh: GSVM_REPO (repo root), NUM_GPUS, GSVM_RESULTS
# (a writable directory that comes back to the host), PATH with /usr/sbin,
# debugfs and tracefs mounted, the host's perf and trace-cmd available.
#
# Env: KDIR (default: the production kernel; a debug KDIR works too, with
#      debug-kernel timings), NUM_GPUS (16), BENCH_TIMEOUT seconds (3600),
#      other BENCH_* variables are passed on to run-bench.sh,
#      BENCH_OUT (default $GSVM_CACHE/bench/<date>-<time>)

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${GSVM_CACHE:-/var/cache/gsvm}
cd "$repo" || exit 2

die() { echo "bench: $*" >&2; exit 1; }

"$here/install-deps.sh" || die "installing dependencies failed"
if [ -z "${KDIR:-}" ]; then
	KDIR=$("$here/build-kernel.sh" --production) || die "building the production kernel failed"
fi
export KDIR
make -C "$repo" KDIR="$KDIR" modules || die "building the modules failed"
make -C "$repo" igt || echo "bench: building igt-tests failed (not needed by the benchmark)" >&2
if [ -f tools/bench/Makefile ]; then
	ksrc=$(readlink -f "$KDIR/source" 2>/dev/null || echo "$KDIR")
	make -C tools/bench KSRC="$ksrc" || die "building tools/bench failed"
fi
[ -x tools/bench/run-bench.sh ] ||
	die "no benchmark yet: tools/bench/run-bench.sh does not exist (or is not executable)"

out=${BENCH_OUT:-$cache/bench/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
# BENCH_* settings (other than ours) are for run-bench.sh in the guest.
envs=(--env "NUM_GPUS=${NUM_GPUS:-16}")
while read -r v; do
	case $v in BENCH_OUT|BENCH_TIMEOUT) ;; *) envs+=(--env "$v=${!v}") ;; esac
done < <(compgen -e | grep '^BENCH_' || true)
rc=0
"$here/vm-run.sh" --timeout "${BENCH_TIMEOUT:-3600}" "${envs[@]}" \
	--artifacts "$out" -- "$here/guest-bench.sh" || rc=$?
echo "bench: files written by the benchmark are in $out"
exit $rc
