#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 'make check': everything from nothing, on a Debian machine as root.
#   deps -> debug kernel (cached) -> patch series checks -> modules ->
#   igt-tests -> dkms build (Debian's 7.3 config) -> lint (also against the
#   dkms tree, which has no series) ->
#   benchmark tools (bench_core self-test, xe-bench exits 77 with no Xe) ->
#   harness self-tests -> one VM boot with kmemleak=off that runs
#   tools/run-tests.sh's 16-GPU runs, self-checks, KUnit and mutants -> a
#   second boot with kmemleak on that runs every IGT binary, then scans
# Prints what each step does and ends with exactly one summary line,
# "N passed, N failed, N skipped", as the last line. Exit status 1 if
# anything failed.
#
# Env: KDIR      kernel build to use (default: the cached debug kernel, with
#                patches/linux-7.3 applied)
#      STOCK_KDIR a kernel tree without the series, which lint builds the
#                modules against too (default: the dkms step's tree; set
#                it to tools/build-kernel.sh --unpatched's for the test
#                config)
#      CHECK_LINT=0   leave out 'make lint'
#      CHECK_SERIES=0 leave out tools/check-series.sh
#      CHECK_DKMS=0   leave out tools/check-dkms.sh
#      NUM_GPUS, TEST_TIMEOUT, IGT_TESTS, RUN_SELFCHECK, RUN_KUNIT
#                     passed to run-tests.sh in the VM (see there)
#      VM_TIMEOUT, VM_LEAK_TIMEOUT  guest time limits of the two boots in
#                     seconds (default 2400 each)
#      CHECK_LEAKS=0  no kmemleak boot: the main boot (kmemleak=off) runs
#                     everything; so it does with IGT_TESTS set
#      CHECK_OUT      where the VM's results go: logs, results.json and
#                     junit.xml in CHECK_OUT/tests (default
#                     $GSVM_CACHE/check/<date>-<time>; those older than
#                     a week are removed)

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cd "$repo" || exit 2

passed=0 failed=0 skipped=0
start=$SECONDS
step_start=$SECONDS
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step() {
	echo
	echo "=== $* ($(date +%T))"
	step_start=$SECONDS
}
done_step() { echo "=== $1: $((SECONDS - step_start)) s"; }
fail_step() {
	echo "FAIL $1"
	failed=$((failed + 1))
}
finish() {
	echo
	echo "=== make check: $((SECONDS - start)) s in all"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ $failed = 0 ]
	exit
}
# add_counts LOG: add the last "N passed, N failed, N skipped" line of LOG.
add_counts() {
	local line p f s
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$1" | tail -n 1)
	if [ -z "$line" ]; then
		fail_step "$2 (printed no summary line)"
		return
	fi
	read -r p f s < <(sed -E 's/^([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?$/\1 \2 \4/' <<<"$line")
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + ${s:-0}))
}

step "dependencies (tools/install-deps.sh)"
"$here/install-deps.sh" || { fail_step deps; finish; }
done_step deps

step "debug kernel (tools/build-kernel.sh; about 18 min when not cached)"
if [ -z "${KDIR:-}" ]; then
	KDIR=$("$here/build-kernel.sh") || { fail_step kernel; finish; }
fi
export KDIR
echo "KDIR=$KDIR"
done_step kernel

if [ "${CHECK_SERIES:-1}" != 0 ]; then
	step "kernel patch series (tools/check-series.sh)"
	"$here/check-series.sh" | tee "$tmp/series.log"
	add_counts "$tmp/series.log" series
	done_step series
fi

step "modules (make modules)"
make -C "$repo" KDIR="$KDIR" modules || { fail_step build-modules; finish; }
done_step modules

step "igt-tests (make igt)"
make -C "$repo" igt || fail_step build-igt
done_step igt

if [ "${CHECK_DKMS:-1}" != 0 ]; then
	step "dkms build against Debian's 7.3 config (tools/check-dkms.sh; about a minute when not cached)"
	DKMS_TREE_FILE=$tmp/dkms-tree "$here/check-dkms.sh" | tee "$tmp/dkms.log"
	add_counts "$tmp/dkms.log" dkms
	done_step dkms
fi
# lint's w1e-stock builds against a kernel without the series: the dkms
# tree (Debian's config, modules_prepare, Debian's Module.symvers) is one,
# and costs no kernel build.
if [ -z "${STOCK_KDIR:-}" ] && [ -s "$tmp/dkms-tree" ]; then
	STOCK_KDIR=$(cat "$tmp/dkms-tree")
	export STOCK_KDIR
	echo "STOCK_KDIR=$STOCK_KDIR (the dkms tree)"
fi

if [ "${CHECK_LINT:-1}" != 0 ]; then
	step "lint (tools/lint.sh)"
	"$here/lint.sh" | tee "$tmp/lint.log"
	add_counts "$tmp/lint.log" lint
	done_step lint
fi

step "benchmark tools (make -C tools/bench; tools/bench/check.sh: bench_core self-test, xe-bench without an Xe device)"
ksrc=$(readlink -f "$KDIR/source" 2>/dev/null || echo "$KDIR")
if make -C "$repo/tools/bench" KSRC="$ksrc" >"$tmp/bench-build.log" 2>&1; then
	"$repo/tools/bench/check.sh" | tee "$tmp/bench.log"
	p=$(grep -c '^PASS ' "$tmp/bench.log") f=$(grep -c '^FAIL ' "$tmp/bench.log")
	s=$(grep -c '^SKIP ' "$tmp/bench.log")
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
else
	tail -n 30 "$tmp/bench-build.log"
	fail_step build-bench
fi
done_step bench-tools

step "harness self-tests (kernel-log scanner, result parsers)"
"$here/vm-run.sh" --selftest-scan | tee "$tmp/scan.log"
add_counts "$tmp/scan.log" scan-selftest
"$here/run-tests.sh" --selftest | tee "$tmp/parse.log"
add_counts "$tmp/parse.log" run-tests-selftest
done_step self-tests

step "tests in the VM (tools/vm-run.sh -- tools/run-tests.sh)"
envs=()
# Mutants of drm_gpusvm.c for the self-checks of its KUnit suite; a kernel
# without the patch series has none.
if grep -q invalidate_start "$(readlink -f "$KDIR/source")/include/drm/drm_gpusvm.h" 2>/dev/null; then
	if GSVM_MUTANTS=$("$here/build-gpusvm-mutants.sh"); then
		export GSVM_MUTANTS
	else
		fail_step build-gpusvm-mutants
	fi
fi
# The 16-GPU runs need drm_gpusvm's dma-debug marking (patch 0007): without
# it a debug kernel WARNs past 7 overlapping mappings of one page.
if [ -z "${RIG_GPUS:-}" ] &&
   ! grep -qs DMA_ATTR_DEBUGGING_IGNORE_CACHELINES \
	"$(readlink -f "$KDIR/source")/drivers/gpu/drm/drm_gpusvm.c"; then
	echo "check: this kernel's drm_gpusvm lacks patch 0007: no 16-GPU runs"
	RIG_GPUS=0
fi
for v in NUM_GPUS RIG_GPUS TEST_TIMEOUT IGT_TESTS RUN_SELFCHECK RUN_KUNIT GSVM_MUTANTS; do
	[ -n "${!v:-}" ] && envs+=(--env "$v=${!v}")
done
# Two boots (docs/testing.rst, "Leaks"): kmemleak costs about 1.5x under
# TCG, so the main boot runs with kmemleak=off what only needs the other
# checkers (the 16-GPU runs, the self-checks with bugs injected, KUnit and
# the mutants), and the leak boot runs every IGT binary with kmemleak on,
# then scans. CHECK_LEAKS=0, or a chosen IGT_TESTS, runs all in one boot
# without kmemleak.
leak_boot=
if [ -z "${IGT_TESTS:-}" ] && [ "${CHECK_LEAKS:-1}" != 0 ]; then
	leak_boot=1
	envs+=(--env RUN_IGT=0)
fi
checks=${GSVM_CACHE:-/var/cache/gsvm}/check
find "$checks" -mindepth 1 -maxdepth 1 -mtime +7 -exec rm -rf {} + 2>/dev/null
results=${CHECK_OUT:-$checks/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$results"
"$here/vm-run.sh" --summary --timeout "${VM_TIMEOUT:-2400}" --append kmemleak=off \
	"${envs[@]}" --artifacts "$results" -- "$here/run-tests.sh" 2>&1 | tee "$tmp/vm.log"
add_counts "$tmp/vm.log" vm
echo "results: $results/tests (results.json, junit.xml, logs)"
done_step vm

if [ -n "$leak_boot" ]; then
	step "leak boot in the VM (kmemleak on; every IGT binary, then a kmemleak scan)"
	lenvs=()
	for v in NUM_GPUS TEST_TIMEOUT; do
		[ -n "${!v:-}" ] && lenvs+=(--env "$v=${!v}")
	done
	"$here/vm-run.sh" --summary --timeout "${VM_LEAK_TIMEOUT:-2400}" "${lenvs[@]}" \
		--env RUN_KUNIT=0 --env RUN_SELFCHECK=0 --env RIG_GPUS=0 \
		--artifacts "$results/leak" -- "$here/run-tests.sh" 2>&1 |
		tee "$tmp/vm-leak.log"
	add_counts "$tmp/vm-leak.log" vm-leak
	echo "results: $results/leak/tests"
	done_step vm-leak
fi

finish
