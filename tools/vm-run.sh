#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the debug test kernel under qemu (TCG) with the host's root file system
# shared read-only over virtio-9p, run one command in it, and bring back its
# output and exit status. The guest sees every host path at the same place, so
# it can run binaries from the repo. tools/guest-init.sh is the guest's PID 1.
#
# After the run the guest kernel log is scanned for splats (tools/dmesg-scan.sh):
# any WARNING, BUG, Oops, lockdep, KASAN, UBSAN, ... report fails the run.
#
# Usage: tools/vm-run.sh [options] -- COMMAND [ARG...]
#        tools/vm-run.sh --selftest-scan
# Options:
#   --smp N          guest CPUs (default 2)
#   --mem SIZE       guest memory (default 4G)
#   --timeout S      guest-side time limit for COMMAND (default 1800); the VM
#                    is killed if it is still up 300 s after that
#   --env NAME=VAL   set a variable for COMMAND (repeatable)
#   --append ARGS    extra kernel command line
#   --summary        COMMAND ends with a line "N passed, N failed, N skipped":
#                    print it again as the last line with the kernel-log
#                    verdict added (each splat one failure, a clean log one
#                    pass; a guest that did not finish one failure)
#   --artifacts DIR  copy what COMMAND wrote to $GSVM_RESULTS into DIR
#   --console        also stream the guest serial console
#   --keep           keep the run directory (console, output, dmesg logs);
#                    it is always kept when the run fails
#   --selftest-scan  check the log scanner on sample logs, then exit
# Env:   KDIR        kernel build to boot (default: tools/build-kernel.sh)
#        GSVM_CACHE  cache directory; runs live under $GSVM_CACHE/vm
#        GSVM_ACCEL  qemu accelerator (default tcg)
#        GSVM_QEMU_OPTS  more qemu options (split at spaces)
#
# Exit status: COMMAND's if non-zero; else 1 if the kernel log has a splat or
# the guest did not finish; else 0. With --summary: non-zero iff failed > 0
# or COMMAND exited non-zero.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${GSVM_CACHE:-/var/cache/gsvm}

log() { echo "vm-run: $*" >&2; }
die() { log "$*"; exit 2; }

smp=2
mem=4G
timeout=1800
summary=0
console=0
keep=0
artifacts=
append=
envs=()

selftest_scan() {
	local dir rc failed=0 passed=0
	dir=$(mktemp -d)
	# name, expected verdict (0 clean, 1 splat), log text
	sample() {
		printf '%s\n' "$3" >"$dir/$1"
		rc=0
		"$here/dmesg-scan.sh" "$dir/$1" >"$dir/$1.out" || rc=$?
		if [ "$rc" = "$2" ]; then
			echo "PASS scan-selftest/$1"
			passed=$((passed + 1))
		else
			echo "FAIL scan-selftest/$1 (scanner exit $rc, expected $2):"
			sed 's/^/    /' "$dir/$1.out"
			failed=$((failed + 1))
		fi
	}
	sample clean-boot 0 '[    0.000000] Linux version 7.3.4 (gcc)
[    0.100000] Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar
[    0.100001] ... MAX_LOCKDEP_SUBCLASSES:  8
[    0.100002] ... MAX_LOCK_DEPTH:          48
[    0.200000] kasan: KernelAddressSanitizer initialized (generic)
[    0.300000] DMA-API: preallocated 65536 debug entries
[    0.300001] DMA-API: debugging enabled by kernel config
[    0.300002] calling  dma_resv_lockdep+0x0/0x516 @ 1
[    0.300003] initcall dma_resv_lockdep+0x0/0x516 returned 0 after 5000 usecs
[    0.300004] rcu: 	RCU lockdep checking is enabled.
[    5.000000] gsvm-run-tests: start kunit gsvm_test
[    5.100000]     KTAP version 1
[    5.100001]     # Subtest: gsvm_lockdep
[    5.100002]     ok 1 gsvm_lockdep_prime_no_warning
[    5.100003]     ok 2 gsvm_bug_on_overflow # SKIP not yet
[    5.100004] ok 1 gsvm_lockdep'
	sample warn 1 '[    1.000000] gsvm-run-tests: start igt/simgpu_basic
[    1.500000] ------------[ cut here ]------------
[    1.500001] WARNING: CPU: 1 PID: 77 at drivers/gsvm/gsvm_range.c:42 gsvm_range_get+0x1/0x2 [gsvm]
[    1.500002] Modules linked in: simgpu gsvm
[    1.500003] Call Trace:
[    1.500004]  <TASK>
[    1.500005]  </TASK>
[    1.500006] ---[ end trace 0000000000000000 ]---'
	sample kasan 1 '[    2.000000] ==================================================================
[    2.000001] BUG: KASAN: slab-use-after-free in gsvm_range_put+0x10/0x20 [gsvm]
[    2.000002] Read of size 8 at addr ffff888012345678 by task simgpu_basic/80
[    2.000003] =================================================================='
	sample lockdep 1 '[    3.000000] ======================================================
[    3.000001] WARNING: possible circular locking dependency detected
[    3.000002] 7.3.4 #1 Not tainted'
	sample sleep-in-atomic 1 '[    4.000000] BUG: sleeping function called from invalid context at mm/slub.c:4000'
	sample ubsan 1 '[    4.000000] UBSAN: shift-out-of-bounds in drivers/simgpu/simgpu_tlb.c:12:3'
	sample dma-api 1 '[    4.000000] DMA-API: simgpu simgpu.0: device driver frees DMA memory with wrong function'
	sample odebug 1 '[    4.000000] ODEBUG: free active (active state 0) object: ffff8880 object type: timer_list'
	sample gpf 1 '[    4.000000] Oops: general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] SMP KASAN'
	sample kmemleak 1 '[    5.000000] kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)'
	sample hung-task 1 '[    5.000000] INFO: task simgpu_stress:90 blocked for more than 120 seconds.'
	sample fault-injection 1 '[    5.000000] FAULT_INJECTION: forcing a failure.'
	sample kmemleak-init 0 '[    0.500000] kmemleak: Kernel memory leak detector initialized (mem pool available: 15000)'
	sample kmemleak-off 0 '[    0.000000] kmemleak: Kernel memory leak detector disabled'
	sample kernel-bug 1 '[    4.000000] kernel BUG at mm/huge_memory.c:2000!'
	sample console-splat 1 'guest-init: running tools/run-tests.sh
[    6.000000] WARNING: CPU: 0 PID: 1 at kernel/fake.c:1 fake+0x0/0x1'
	# In --console mode, program output (no timestamp) is not a kernel message.
	printf '%s\n' 'FAIL igt/x/warning-on-purpose: WARNING: printed by a test' \
		'[    1.0] guest-init: running x' >"$dir/console-program-output"
	if "$here/dmesg-scan.sh" --console "$dir/console-program-output" >"$dir/out"; then
		echo "PASS scan-selftest/console-program-output"
		passed=$((passed + 1))
	else
		echo "FAIL scan-selftest/console-program-output:"
		sed 's/^/    /' "$dir/out"
		failed=$((failed + 1))
	fi
	rm -rf "$dir"
	echo "$passed passed, $failed failed, 0 skipped"
	[ $failed = 0 ]
}

while [ $# -gt 0 ]; do
	case "$1" in
	--smp) smp=${2:?}; shift 2 ;;
	--mem) mem=${2:?}; shift 2 ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--env)
		[[ "${2:-}" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "--env wants NAME=VALUE"
		envs+=("$2"); shift 2 ;;
	--append) append=${2:?}; shift 2 ;;
	--summary) summary=1; shift ;;
	--artifacts) artifacts=${2:?}; shift 2 ;;
	--console) console=1; shift ;;
	--keep) keep=1; shift ;;
	--selftest-scan) selftest_scan; exit ;;
	--) shift; break ;;
	*) die "unknown option $1 (usage: $0 [options] -- COMMAND...)" ;;
	esac
done
[ $# -gt 0 ] || die "no command (usage: $0 [options] -- COMMAND...)"
[[ "$timeout" =~ ^[0-9]+$ ]] || die "--timeout wants seconds"

kdir=${KDIR:-$("$here/build-kernel.sh" --print-path)}
kdir=$(readlink -f "$kdir")
bzimage=$kdir/arch/x86/boot/bzImage
[ -f "$bzimage" ] || die "no kernel image $bzimage (run 'make kernel')"
[ -d "$kdir/modroot/lib/modules" ] || die "no $kdir/modroot/lib/modules (run 'make kernel')"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (run tools/install-deps.sh)"

# Run directory: the guest mounts it at the same path. Not under /tmp, which
# is a tmpfs in the guest.
mkdir -p "$cache/vm"
find "$cache/vm" -mindepth 1 -maxdepth 1 -name 'run.*' -mtime +2 -exec rm -rf {} + 2>/dev/null || true
res=$(mktemp -d "$cache/vm/run.XXXXXX")
chmod 755 "$res"
: >"$res/output.log"

{
	q() { printf 'export %s=%q\n' "$1" "$2"; }
	q GSVM_KDIR "$kdir"
	q GSVM_CWD "$PWD"
	q GSVM_REPO "$repo"
	q GSVM_TIMEOUT "$timeout"
	# Host paths the guest must not hide under its tmpfs mounts.
	q GSVM_KEEP_PATHS "$PWD:$repo:$kdir:$(readlink -f "$cache")"
	for e in "${envs[@]}"; do
		q "${e%%=*}" "${e#*=}"
	done
} >"$res/env"
printf '%s\0' "$@" >"$res/cmd"

# shellcheck disable=SC2054 # commas belong to the kernel arguments
cmdline=(console=ttyS0 root=/dev/root rootfstype=9p
	 rootflags=trans=virtio,version=9p2000.L,msize=512000,cache=loose ro
	 "init=$here/guest-init.sh" panic=-1 oops=panic log_buf_len=8M
	 printk.devkmsg=on kasan_multi_shot mitigations=off acpi=noirq "gsvm_res=$res")
# shellcheck disable=SC2054
qemu=(qemu-system-x86_64 -accel "${GSVM_ACCEL:-tcg}" -smp "$smp" -m "$mem"
      -nographic -nodefaults -no-reboot -serial "file:$res/console.log"
      -kernel "$bzimage"
      -fsdev "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap"
      -device virtio-9p-pci,fsdev=root,mount_tag=/dev/root
      -fsdev "local,id=res,path=$res,security_model=none,multidevs=remap"
      -device virtio-9p-pci,fsdev=res,mount_tag=gsvmres
      -append "${cmdline[*]}${append:+ $append}")
# shellcheck disable=SC2206 # word splitting wanted
[ -n "${GSVM_QEMU_OPTS:-}" ] && qemu+=($GSVM_QEMU_OPTS)

log "booting $(basename "$kdir") (smp $smp, mem $mem, timeout ${timeout}s): $*"
start=$SECONDS
timeout -k 10 $((timeout + 300)) "${qemu[@]}" </dev/null >"$res/qemu.log" 2>&1 &
qpid=$!
tails=()
tail -n +1 -F -s 0.5 --pid=$qpid "$res/output.log" 2>/dev/null &
tails+=($!)
if [ $console = 1 ]; then
	: >>"$res/console.log"
	tail -n +1 -F -s 0.5 --pid=$qpid "$res/console.log" 2>/dev/null | sed -u 's/^/console| /' &
	tails+=($!)
fi
qrc=0
wait $qpid || qrc=$?
wait "${tails[@]}" 2>/dev/null || true
elapsed=$((SECONDS - start))

boot=$(awk '/^\[ *[0-9.]+\] guest-init: running/ { sub(/^\[ */, ""); sub(/\].*/, ""); print; exit }' \
	"$res/console.log" 2>/dev/null || true)
echo "== vm: ${elapsed}s in the VM${boot:+, ${boot}s to start the command}"

failed_vm=0
status=
if [ -f "$res/exit-status" ]; then
	status=$(cat "$res/exit-status")
	echo "== vm: command exit status $status"
else
	failed_vm=1
	if [ $qrc = 124 ] || [ $qrc = 137 ]; then
		echo "== vm: FAIL: the VM was still running $((timeout + 300))s after boot; killed"
	else
		echo "== vm: FAIL: the guest did not finish the command (kernel panic or crash?)"
	fi
	[ -s "$res/qemu.log" ] && sed 's/^/qemu| /' "$res/qemu.log"
	echo "== vm: last lines of the serial console:"
	tail -n 60 "$res/console.log" 2>/dev/null | sed 's/^/console| /'
fi

scan_rc=0
if [ -f "$res/dmesg.log" ]; then
	scan_out=$("$here/dmesg-scan.sh" "$res/dmesg.log") || scan_rc=$?
else
	scan_out=$("$here/dmesg-scan.sh" --console "$res/console.log") || scan_rc=$?
fi
nsplat=0
if [ $scan_rc = 0 ]; then
	echo "== kernel log: clean"
else
	nsplat=$(grep -c '^--- splat ' <<<"$scan_out" || true)
	[ "$nsplat" -gt 0 ] || nsplat=1
	echo "== kernel log: FAIL: $nsplat splat(s)"
	echo "$scan_out"
fi

[ -n "$artifacts" ] && [ -d "$res/artifacts" ] && mkdir -p "$artifacts" &&
	cp -r "$res/artifacts/." "$artifacts/"

rc=0
if [ $summary = 1 ]; then
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$res/output.log" | tail -n 1 || true)
	if [ -n "$last" ]; then
		read -r p f s < <(sed -E 's/^([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?$/\1 \2 \4/' <<<"$last")
	else
		# The guest died early: count what it reported before.
		p=$(grep -c '^PASS ' "$res/output.log" || true)
		f=$(grep -c '^FAIL ' "$res/output.log" || true)
		s=$(grep -c '^SKIP ' "$res/output.log" || true)
	fi
	s=${s:-0}
	if [ $failed_vm = 1 ]; then
		echo "FAIL vm (guest did not finish)"
		f=$((f + 1))
	elif [ "$status" != 0 ] && [ "$f" = 0 ]; then
		echo "FAIL vm (command exit status $status with no failed test)"
		f=$((f + 1))
	fi
	if [ "$nsplat" = 0 ]; then
		echo "PASS kernel-log-clean"
		p=$((p + 1))
	else
		echo "FAIL kernel-log-clean ($nsplat splats)"
		f=$((f + nsplat))
	fi
	[ "$f" = 0 ] && [ "$status" = 0 ] || rc=1
else
	if [ $failed_vm = 1 ]; then
		rc=1
	elif [ "$status" != 0 ]; then
		rc=$status
	elif [ "$nsplat" != 0 ]; then
		rc=1
	fi
fi

if [ $keep = 1 ] || [ "$rc" != 0 ]; then
	echo "== vm: logs kept in $res"
else
	rm -rf "$res"
fi
[ $summary = 1 ] && echo "$p passed, $f failed, $s skipped"
exit "$rc"
