#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs INSIDE the test VM for 'make bench' (see tools/bench.sh): load the
# modules with num_gpus=$NUM_GPUS (default 8), run tools/bench/run-bench.sh,
# unload. Exit status: the benchmark's, or 1 if setup or unload failed.

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
GSVM_REPO=$(cd "$here/.." && pwd)
NUM_GPUS=${NUM_GPUS:-8}
GSVM_RESULTS=${GSVM_RESULTS:-/tmp/bench-results}
export GSVM_REPO NUM_GPUS GSVM_RESULTS
mkdir -p "$GSVM_RESULTS"
# shellcheck source=tools/guest-lib.sh
. "$here/guest-lib.sh"

bench=$GSVM_REPO/tools/bench/run-bench.sh
[ -x "$bench" ] || { echo "guest-bench: $bench missing"; exit 1; }

echo "== bench on $(uname -r), $(nproc) CPUs, num_gpus=$NUM_GPUS"
modprobe drm_gpusvm_helper || { echo "guest-bench: modprobe drm_gpusvm_helper failed"; exit 1; }
gsvm_load "$GSVM_REPO/drivers/gsvm/gsvm.ko" || { echo "guest-bench: loading gsvm failed"; exit 1; }
gsvm_load "$GSVM_REPO/drivers/simgpu/simgpu.ko" "num_gpus=$NUM_GPUS" ||
	{ echo "guest-bench: loading simgpu failed"; exit 1; }

gsvm_mark "start bench"
"$bench"
rc=$?
gsvm_mark "end bench (status $rc)"

for m in simgpu gsvm; do
	gsvm_unload "$m" || { echo "guest-bench: $m would not unload"; rc=1; }
done
exit $rc
