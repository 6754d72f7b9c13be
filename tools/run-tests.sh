#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every test of the project. Runs INSIDE the test VM, as root:
#   tools/vm-run.sh --summary -- tools/run-tests.sh      (what 'make check' does)
#
#  1. load drm_gpusvm_helper, drivers/gsvm/gsvm.ko, drivers/simgpu/simgpu.ko
#     (num_gpus=$NUM_GPUS, default 4)
#  2. run each binary named in igt-tests/TESTS from igt-tests/build/; every
#     "Subtest NAME: SUCCESS|SKIP|FAIL" line is one test; a binary that
#     crashes, times out or exits with a status its subtests do not explain
#     is one more failure, and so is a binary whose every subtest skips
#     while simgpu is loaded
#  2b. the multi-GPU subtests igt-tests/rig.list names, with simgpu
#     reloaded for $RIG_GPUS (16) GPUs, as "igt16/BINARY/SUBTEST"
#  3. self-checks from igt-tests/selfcheck.list, lines "KNOB BINARY GLOB
#     [MESSAGE]" (MESSAGE: the rest of the line, a fixed string):
#     with /sys/kernel/debug/simgpu/gpu*/KNOB set to 1 (a bug injected into
#     the simulated GPU; a KNOB with a slash is /sys/kernel/debug/KNOB), run BINARY --run-subtest GLOB; each subtest must
#     now FAIL (one passed check "selfcheck-KNOB-SUBTEST"), and print
#     MESSAGE if one is given; one that still succeeds has missed the bug,
#     one that fails without MESSAGE failed for another reason (one failed
#     check each); then KNOB goes back to 0
#     and simgpu is reloaded
#  4. load each KUnit module (drivers/**/*_test.ko, *kunit*.ko), then the
#     kernel's suites for what patches/linux-7.3 changes (drm_gpusvm_test;
#     a skip on a kernel built without the series); each test case in
#     /sys/kernel/debug/kunit/<suite>/results is one test
#  5. unload everything; a module that does not unload fails "module-unload"
#  6. with GSVM_MUTANTS (tools/build-gpusvm-mutants.sh): for each mutant of
#     drm_gpusvm.c, the drm_gpusvm KUnit cases its "# expect:" lines name
#     must fail with the message given there ("selfcheck-drm_gpusvm-...")
#
# Prints "PASS|FAIL|SKIP name" per test and ends with exactly one line
# "N passed, N failed, N skipped". Exit status 1 if anything failed.
# Pieces that do not exist yet (no igt-tests/TESTS, no selfcheck.list, a
# driver folder not written yet) are skipped; a module whose folder has a
# Kbuild but no built .ko is a failure.
#
# Env: NUM_GPUS (4), RIG_GPUS (16; 0 leaves step 2b out; so does IGT_TESTS),
#      TEST_TIMEOUT seconds per test binary (600),
#      IGT_PREFIX names their results (default "igt"),
#      IGT_TESTS="bin ..." run only these binaries (default: all of TESTS);
#                a word "@reload" there unloads and reloads simgpu,
#      RUN_SELFCHECK=0, RUN_KUNIT=0 leave those parts out (for quick runs),
#      RUN_IGT=0 leaves step 2 out ('make check' runs it in its kmemleak boot),
#      GSVM_MUTANTS folder of mutant drm_gpusvm helpers (default: none),
#      GSVM_RESULTS directory for per-binary logs (set by guest-init.sh).
#
# tools/run-tests.sh --selftest checks the result parsers on fake binaries
# (safe on the host).

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
GSVM_REPO=$(cd "$here/.." && pwd)
export GSVM_REPO
# shellcheck source=tools/guest-lib.sh
. "$here/guest-lib.sh"

num_gpus=${NUM_GPUS:-4}
rig_gpus=${RIG_GPUS:-16}
test_timeout=${TEST_TIMEOUT:-600}
# Result names of the IGT binaries: "igt/<binary>/<subtest>", or with
# IGT_PREFIX=leak (the kmemleak boot of 'make check') "leak/...".
igt_prefix=${IGT_PREFIX:-igt}
# The short stress and fuzz runs of 'make check'; tools/stress.sh sets more.
export GSVM_STRESS_SECONDS=${GSVM_STRESS_SECONDS:-20}
export GSVM_FUZZ_CALLS=${GSVM_FUZZ_CALLS:-20000}
igt=$GSVM_REPO/igt-tests
bindir=$igt/build
logdir=${GSVM_RESULTS:-/tmp}/tests
mkdir -p "$logdir" 2>/dev/null || logdir=/tmp
passed=0 failed=0 skipped=0

# Each result also goes to $logdir/results.tsv for tools/results-export.py:
# result, name, the log it came from (cur_log), start (cur_t0) and end time,
# the IGT subtest it is about (cur_sub), and the number of the run of a
# binary or module it came from (cur_run, marked in the kernel log by
# begin_run/end_run, so each result gets its run's part of dmesg).
cur_log='' cur_sub='' cur_t0='' cur_run='' runs=0
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$cur_log" "${cur_t0:-$EPOCHREALTIME}" \
		"$EPOCHREALTIME" "$cur_sub" "$cur_run" >>"$logdir/results.tsv" 2>/dev/null
}
begin_run() {	# begin_run WHAT...: a numbered run starts
	runs=$((runs + 1))
	cur_run=$runs cur_t0=$EPOCHREALTIME
	gsvm_mark "start run=$cur_run $*"
}
end_run() { gsvm_mark "end run=$cur_run $*"; }
pass() { echo "PASS $*"; passed=$((passed + 1)); record PASS "$*"; }
fail() { echo "FAIL $*"; failed=$((failed + 1)); record FAIL "$*"; }
skip() { echo "SKIP $*"; skipped=$((skipped + 1)); record SKIP "$*"; }

# Print the last lines of a log, indented, after a failure.
show() { tail -n "${2:-40}" "$1" | sed 's/^/    | /'; }

explain_status() {	# describe an exit status
	case $1 in
	124) echo "timed out after ${test_timeout}s" ;;
	137) echo "killed after the time limit" ;;
	*) if [ "$1" -gt 128 ]; then echo "killed by signal $(($1 - 128))"; else echo "exit $1"; fi ;;
	esac
}

# Module load: a driver folder with a Kbuild must have produced its .ko.
declare -A loaded_ok
load_driver() {	# load_driver NAME [PARAM...]
	local name=$1 ko
	shift
	if [ ! -f "$GSVM_REPO/drivers/$name/Kbuild" ]; then
		skip "load-$name (drivers/$name not written yet)"
		return 1
	fi
	ko=$GSVM_REPO/drivers/$name/$name.ko
	if [ ! -f "$ko" ]; then
		fail "load-$name (drivers/$name/$name.ko not built)"
		return 1
	fi
	gsvm_mark "load $name $*"
	if gsvm_load "$ko" "$@" 2>"$logdir/load-$name.log"; then
		pass "load-$name"
		loaded_ok[$name]=1
	else
		fail "load-$name"
		show "$logdir/load-$name.log"
		return 1
	fi
}

unload_all() {
	local m bad=()
	for m in simgpu gsvm; do
		gsvm_mod_loaded "$m" || continue
		gsvm_mark "unload $m"
		gsvm_unload "$m" 2>>"$logdir/unload.log" || bad+=("$m")
	done
	if [ ${#bad[@]} -gt 0 ]; then
		fail "module-unload (${bad[*]} would not unload)"
		show "$logdir/unload.log" 10
	elif [ ${#loaded_ok[@]} -gt 0 ]; then
		pass "module-unload"
	fi
}

# subtest_output LOG SUBTEST: what SUBTEST printed, between its start and
# result lines.
subtest_output() {
	awk -v s="$2" '$0 == "Starting subtest: " s { on = 1; next }
		on && index($0, "Subtest " s ": ") == 1 { exit }
		on' "$1"
}

# subtest_results LOG [parents]: "NAME RESULT" per subtest result line of
# LOG, in order; a dynamic subtest D of subtest S is "S@D" and comes before
# S's own result. With "parents", dynamic subtests are left out.
subtest_results() {
	awk -v only_parents="${2:-}" '
		/^Starting subtest: / { parent = $3; next }
		/^Dynamic subtest [A-Za-z0-9_@.+-]+: [A-Z]+/ {
			if (only_parents != "") next
			n = $3; sub(/:$/, "", n); print parent "@" n, $4; next
		}
		/^Subtest [A-Za-z0-9_@.+-]+: [A-Z]+( |$)/ {
			n = $2; sub(/:$/, "", n); print n, $3
		}' "$1"
}

# run_igt LOG NAME BINARY [ARGS...]: run one test binary, print per-subtest
# results. In selfcheck mode (SELFCHECK=knob), FAIL and SUCCESS swap roles;
# with SELFCHECK_MSG set, a FAIL only counts if the subtest printed it.
run_igt() {
	local log=$1 label=$2 bin=$3 rc subtest result n_fail=0 n_sub=0 n_skip=0 n_open=0 started=()
	shift 3
	begin_run "$label $*"
	timeout -k 10 "$test_timeout" "$bin" "$@" </dev/null >"$log" 2>&1
	rc=$?
	end_run "$label (status $rc)"
	cur_log=$log

	while read -r subtest result; do
		n_sub=$((n_sub + 1))
		cur_sub=$subtest
		if [ -n "${SELFCHECK:-}" ]; then
			case $result in
			FAIL) if [ -n "${SELFCHECK_MSG:-}" ] &&
				 ! subtest_output "$log" "$subtest" | grep -qF -- "$SELFCHECK_MSG"; then
				fail "selfcheck-$SELFCHECK-$subtest (failed, but not for the injected reason: no \"$SELFCHECK_MSG\")"
				n_fail=$((n_fail + 1))
			      else
				pass "selfcheck-$SELFCHECK-$subtest (the injected bug is caught)"
			      fi ;;
			SUCCESS) fail "selfcheck-$SELFCHECK-$subtest (passed with the bug injected)"; n_fail=$((n_fail + 1)) ;;
			SKIP) skip "selfcheck-$SELFCHECK-$subtest" ;;
			*) fail "selfcheck-$SELFCHECK-$subtest ($result)"; n_fail=$((n_fail + 1)) ;;
			esac
			continue
		fi
		case $result in
		SUCCESS) pass "$label/$subtest" ;;
		SKIP) skip "$label/$subtest"; n_skip=$((n_skip + 1)) ;;
		*) fail "$label/$subtest ($result)"; n_fail=$((n_fail + 1)) ;;
		esac
	done < <(subtest_results "$log" "${SELFCHECK:+parents}")

	# A subtest that started and never reported crashed the binary. One
	# awk over the log: a grep per subtest costs seconds under TCG.
	mapfile -t started < <(awk '
		/^Starting subtest: [A-Za-z0-9_@.+-]+$/ { order[++n] = $3 }
		/^Subtest [A-Za-z0-9_@.+-]+: / { name = $2; sub(/:$/, "", name); done[name] = 1 }
		END { for (i = 1; i <= n; i++) if (!(order[i] in done)) print order[i] }' "$log")
	for subtest in "${started[@]}"; do
		cur_sub=$subtest
		fail "$label/$subtest (no result: $(explain_status $rc))"
		n_fail=$((n_fail + 1))
		n_sub=$((n_sub + 1))
		n_open=$((n_open + 1))
	done

	cur_sub=
	if [ -n "${SELFCHECK:-}" ]; then
		# Failing subtests make the binary exit 98: expected here.
		if [ $n_sub = 0 ]; then
			fail "selfcheck-$SELFCHECK ($label matched no subtest: $(explain_status $rc))"
			n_fail=1
		elif [ $rc != 0 ] && [ $rc != 98 ] && [ $rc != 77 ]; then
			fail "selfcheck-$SELFCHECK ($label: $(explain_status $rc))"
			n_fail=$((n_fail + 1))
		fi
	else
		case $rc in
		0) [ $n_sub = 0 ] && pass "$label" ;;
		77) [ $n_sub = 0 ] && skip "$label" ;;
		98) if [ $n_fail = 0 ]; then
			fail "$label (exit 98 without a failed subtest)"
			n_fail=1
		    fi ;;
		*)	# A subtest left without result already accounts for it.
			if [ $n_open = 0 ]; then
				fail "$label ($(explain_status $rc))"
				n_fail=$((n_fail + 1))
			fi ;;
		esac
		# With simgpu loaded, a binary whose every subtest skips tests nothing.
		if [ $n_sub -gt 0 ] && [ $n_skip = $n_sub ] && [ -n "${loaded_ok[simgpu]:-}" ]; then
			fail "$label (all $n_sub subtests skipped although simgpu is loaded)"
			n_fail=$((n_fail + 1))
		fi
	fi
	if [ $n_fail != 0 ]; then
		echo "    --- $label: last lines of $log"
		show "$log"
	fi
	cur_log='' cur_t0='' cur_run=''
}

# parse_ktap SUITE FILE: one result per test case of a KUnit suite's debugfs
# results (the 4-space-indented "ok N name" / "not ok N name" lines; a
# "# SKIP" directive makes it a skip). A suite skipped as a whole is one skip.
parse_ktap() {
	local suite=$1 results=$2 n=0 line name
	while IFS= read -r line; do
		if [[ $line =~ ^\ {4}(not\ )?ok\ [0-9]+\ ([^#]*[^#\ ])(\ +#\ *([A-Za-z]+)(.*))?$ ]]; then
			n=$((n + 1))
			name=${BASH_REMATCH[2]}
			if [ "${BASH_REMATCH[4]^^}" = SKIP ]; then
				skip "kunit/$suite/$name${BASH_REMATCH[5]:+ (${BASH_REMATCH[5]# })}"
			elif [ -z "${BASH_REMATCH[1]}" ]; then
				pass "kunit/$suite/$name"
			else
				fail "kunit/$suite/$name"
			fi
		elif [[ $line =~ ^(not\ )?ok\ [0-9]+\ [^#]*#\ *[Ss][Kk][Ii][Pp](.*)$ ]] && [ $n = 0 ]; then
			n=1
			skip "kunit/$suite (${BASH_REMATCH[2]# })"
		fi
	done <"$results"
	if [ $n = 0 ]; then
		fail "kunit/$suite (no test case result)"
	fi
	if grep -q '^    not ok ' "$results"; then
		echo "    --- kunit/$suite: log"
		sed 's/^/    | /' "$results" | head -n 80
	fi
}

list_entries() {	# non-comment, non-empty lines of a list file
	sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$1"
}

# KUnit modules of the kernel tree whose suites patches/linux-7.3 adds:
# drm_gpusvm's, and Xe's fake-device suites (xe_test.ko, which loads xe.ko;
# with no Xe device xe.ko probes nothing). Each is unloaded afterwards with
# the kernel modules it pulled in (a mutant drm_gpusvm_helper.ko may follow).
kernel_kunit_mods="drm_gpusvm_test xe_test"
# MODULE=GLOB: the suites of MODULE that run (kunit.filter_glob while it
# loads). Xe's own xe_rtp suites are left out: their rule tests trigger
# drm_WARN_ON() on purpose, which the kernel-log scan counts as failures.
# The glob cannot tell xe_rtp_tables_test from them, so it goes too.
kernel_kunit_filter="xe_test=xe_[!r]*"

# run_kunit MODULE LOAD-COMMAND...: load a KUnit module, one result per test
# case of every suite it registers, then unload it.
run_kunit() {
	local mod=$1 before suites suite results kunitfs=/sys/kernel/debug/kunit
	shift
	before=$(ls "$kunitfs" 2>/dev/null)
	begin_run "kunit $mod"
	if ! "$@" 2>"$logdir/kunit-$mod.log"; then
		fail "kunit/$mod (does not load)"
		show "$logdir/kunit-$mod.log"
		return
	fi
	end_run "kunit $mod"
	suites=$(comm -13 <(echo "$before") <(ls "$kunitfs" 2>/dev/null))
	[ -n "$suites" ] || fail "kunit/$mod (no test suite appeared in $kunitfs)"
	for suite in $suites; do
		results=$kunitfs/$suite/results
		cp "$results" "$logdir/kunit-$suite.ktap" 2>/dev/null
		cur_log=$logdir/kunit-$suite.ktap
		parse_ktap "$suite" "$results"
	done
	cur_log='' cur_t0='' cur_run=''
	gsvm_mark "unload kunit $mod"
	if ! gsvm_unload "$mod" 2>>"$logdir/unload.log"; then
		fail "module-unload ($mod would not unload)"
	fi
}

# run_mutant DIR: the drm_gpusvm suite against a mutant drm_gpusvm_helper.ko
# (tools/build-gpusvm-mutants.sh). Each "CASE | MESSAGE" line of DIR/expect
# is one self-check: CASE must fail, and the suite's log must carry MESSAGE,
# the reason the case gives for that failure.
run_mutant() {
	local dir=${1%/} name kcase msg results=/sys/kernel/debug/kunit/drm_gpusvm/results
	name=$(basename "$dir")
	begin_run "mutant $name"
	if ! insmod "$dir/drm_gpusvm_helper.ko" 2>"$logdir/mutant-$name.log" ||
	   ! modprobe drm_gpusvm_test 2>>"$logdir/mutant-$name.log"; then
		fail "selfcheck-drm_gpusvm-$name (does not load)"
		show "$logdir/mutant-$name.log"
		gsvm_unload drm_gpusvm_helper 2>/dev/null
		cur_t0='' cur_run=''
		return
	fi
	end_run "mutant $name"
	cp "$results" "$logdir/mutant-$name.ktap" 2>/dev/null
	cur_log=$logdir/mutant-$name.ktap
	while IFS='|' read -r kcase msg; do
		kcase=${kcase%% } msg=${msg# }
		if grep -qE "^    not ok [0-9]+ $kcase\$" "$results" && grep -qF -- "$msg" "$results"; then
			pass "selfcheck-drm_gpusvm-$name-$kcase (fails: $msg)"
		else
			fail "selfcheck-drm_gpusvm-$name-$kcase (does not fail with: $msg)"
			show "$results" 60
		fi
	done <"$dir/expect"
	cur_log='' cur_t0='' cur_run=''
	if ! gsvm_unload drm_gpusvm_test 2>>"$logdir/unload.log" ||
	   ! gsvm_unload drm_gpusvm_helper 2>>"$logdir/unload.log"; then
		fail "module-unload (after mutant $name)"
	fi
}

# Leak detection (CONFIG_DEBUG_KMEMLEAK, no scanning thread): what the boot
# left unreferenced is forgotten before the first module loads; after
# everything is unloaded, two scans (an object must be 5 s old and seen
# unreferenced twice to be reported) and any suspected leak is a failure,
# printed with its backtrace. A kernel without kmemleak is a skip.
kmemleak=/sys/kernel/debug/kmemleak
kmemleak_begin() {
	[ -w $kmemleak ] || return 0
	echo scan >$kmemleak 2>/dev/null
	echo clear >$kmemleak 2>/dev/null
}
kmemleak_end() {
	local t0 report=$logdir/kmemleak.txt
	if grep -qw 'kmemleak=off' /proc/cmdline; then
		# make check's main boot: its leak boot scans instead.
		return
	fi
	if [ ! -w $kmemleak ]; then
		skip "kmemleak (no $kmemleak: kernel built without CONFIG_DEBUG_KMEMLEAK)"
		return
	fi
	t0=$(date +%s)
	sleep 6
	echo scan >$kmemleak 2>/dev/null
	echo scan >$kmemleak 2>/dev/null
	cat $kmemleak >"$report" 2>/dev/null
	if [ -s "$report" ]; then
		fail "kmemleak ($(grep -c '^unreferenced object' "$report") suspected leaks after the suite)"
		show "$report" 60
	else
		pass "kmemleak (no leak after the suite; scans took $(($(date +%s) - t0)) s)"
	fi
}

main() {
	echo "== gsvm tests on $(uname -r), $(nproc) CPUs, num_gpus=$num_gpus"
	: >"$logdir/results.tsv"
	kmemleak_begin
	if modprobe drm_gpusvm_helper 2>"$logdir/load-drm_gpusvm_helper.log"; then
		pass "load-drm_gpusvm_helper"
	else
		fail "load-drm_gpusvm_helper"
		show "$logdir/load-drm_gpusvm_helper.log"
	fi
	load_driver gsvm
	load_driver simgpu "num_gpus=$num_gpus"

	# IGT-style tests
	if [ "${RUN_IGT:-1}" = 0 ]; then
		echo "== igt-tests: left out (RUN_IGT=0)"
	elif [ -f "$igt/TESTS" ]; then
		echo "== igt-tests"
		while read -r t; do
			if [ "$t" = @reload ]; then
				# Unload and load simgpu between binaries (IGT_TESTS only).
				gsvm_mark "reload simgpu"
				if gsvm_unload simgpu 2>>"$logdir/unload.log" &&
				   gsvm_load "$GSVM_REPO/drivers/simgpu/simgpu.ko" "num_gpus=$num_gpus" \
					2>>"$logdir/unload.log"; then
					pass "reload-simgpu"
				else
					fail "reload-simgpu"
					show "$logdir/unload.log"
				fi
				continue
			fi
			if [ ! -x "$bindir/$t" ]; then
				fail "$igt_prefix/$t (not built: $bindir/$t)"
				continue
			fi
			run_igt "$logdir/igt-$t.log" "$igt_prefix/$t" "$bindir/$t"
		done < <(if [ -n "${IGT_TESTS:-}" ]; then tr ' ' '\n' <<<"$IGT_TESTS"; \
			 else list_entries "$igt/TESTS"; fi)
	else
		echo "== igt-tests: no igt-tests/TESTS, nothing to run"
	fi

	# Rig-sized runs: the multi-GPU subtests of igt-tests/rig.list with
	# simgpu reloaded for $RIG_GPUS GPUs, then back to $num_gpus.
	if [ -f "$igt/rig.list" ] && [ "$rig_gpus" != 0 ] && [ -z "${IGT_TESTS:-}" ]; then
		echo "== igt-tests at $rig_gpus GPUs"
		if gsvm_unload simgpu 2>>"$logdir/unload.log" &&
		   gsvm_load "$GSVM_REPO/drivers/simgpu/simgpu.ko" "num_gpus=$rig_gpus" \
			2>"$logdir/load-simgpu-$rig_gpus.log"; then
			while read -r bin globs; do
				run_igt "$logdir/igt$rig_gpus-$bin.log" "igt$rig_gpus/$bin" \
					"$bindir/$bin" --run-subtest "$globs"
			done < <(list_entries "$igt/rig.list")
			gsvm_unload simgpu 2>>"$logdir/unload.log" ||
				fail "module-unload (simgpu after the $rig_gpus-GPU runs)"
		else
			fail "load-simgpu (num_gpus=$rig_gpus)"
		fi
		gsvm_mod_loaded simgpu ||
			gsvm_load "$GSVM_REPO/drivers/simgpu/simgpu.ko" "num_gpus=$num_gpus" ||
			fail "load-simgpu (num_gpus=$num_gpus after the $rig_gpus-GPU runs)"
	fi

	# Self-checks: each injected bug must be caught
	if [ -f "$igt/selfcheck.list" ] && [ "${RUN_SELFCHECK:-1}" != 0 ]; then
		echo "== self-checks (bugs injected through simgpu debugfs knobs)"
		sc_line=0
		while read -r knob bin glob msg; do
			kname=${knob//\//-}
			if [ -z "$glob" ]; then
				fail "selfcheck-$kname (bad line in selfcheck.list: $knob $bin)"
				continue
			fi
			if [ ! -x "$bindir/$bin" ]; then
				fail "selfcheck-$kname (not built: $bindir/$bin)"
				continue
			fi
			# A knob with a slash is a path under /sys/kernel/debug
			# (gsvm's own knobs); otherwise one file per simulated GPU.
			if [[ $knob == */* ]]; then
				knobs=(/sys/kernel/debug/"$knob")
			else
				knobs=(/sys/kernel/debug/simgpu/gpu*/"$knob")
			fi
			if [ ! -e "${knobs[0]}" ]; then
				fail "selfcheck-$kname (no ${knobs[0]})"
				continue
			fi
			for k in "${knobs[@]}"; do echo 1 >"$k"; done
			sc_line=$((sc_line + 1))
			SELFCHECK=$kname SELFCHECK_MSG=$msg run_igt \
				"$logdir/selfcheck-$sc_line-$kname-$bin.log" "igt/$bin" \
				"$bindir/$bin" --run-subtest "$glob"
			for k in "${knobs[@]}"; do echo 0 >"$k" 2>/dev/null; done
			# Fresh driver state for what follows.
			if gsvm_mod_loaded simgpu; then
				gsvm_mark "reload simgpu after selfcheck-$kname"
				if ! gsvm_unload simgpu 2>>"$logdir/unload.log"; then
					fail "module-unload (simgpu after selfcheck-$kname)"
					continue
				fi
				gsvm_load "$GSVM_REPO/drivers/simgpu/simgpu.ko" "num_gpus=$num_gpus" ||
					fail "load-simgpu (reload after selfcheck-$kname)"
			fi
		done < <(list_entries "$igt/selfcheck.list")
	fi

	# KUnit: our own modules, then the kernel's suites for the code that
	# patches/linux-7.3 changes (in a kernel built without the series they
	# do not exist, which is a skip)
	mapfile -t kunit_mods < <(find "$GSVM_REPO/drivers" \( -name '*_test.ko' -o -name '*kunit*.ko' \) | sort)
	if [ "${RUN_KUNIT:-1}" != 0 ]; then
		echo "== KUnit"
		for ko in "${kunit_mods[@]}"; do
			run_kunit "$(basename "$ko" .ko)" gsvm_load "$ko"
		done
		for mod in $kernel_kunit_mods; do
			if modprobe -n -q "$mod" 2>/dev/null; then
				glob=$(tr ' ' '\n' <<<"$kernel_kunit_filter" | sed -n "s/^$mod=//p")
				globfile=/sys/module/kunit/parameters/filter_glob
				if [ -n "$glob" ] && ! printf '%s' "$glob" >"$globfile"; then
					fail "kunit/$mod (cannot set $globfile)"
					continue
				fi
				run_kunit "$mod" modprobe "$mod"
				# Back to every suite ("*": the parameter has no empty value).
				[ -n "$glob" ] && printf '*' >"$globfile"
				if [ "$mod" = xe_test ] && ! gsvm_unload xe 2>>"$logdir/unload.log"; then
					fail "module-unload (xe would not unload)"
				fi
			else
				skip "kunit/$mod (not in this kernel: built without patches/linux-7.3)"
			fi
		done
	fi

	unload_all

	# Self-checks of the kernel's drm_gpusvm suite: mutants of drm_gpusvm.c
	# loaded in place of the real helper (nothing else uses it by now).
	if [ -n "${GSVM_MUTANTS:-}" ] && [ "${RUN_SELFCHECK:-1}" != 0 ]; then
		echo "== self-checks of the drm_gpusvm KUnit suite (mutants of drm_gpusvm.c)"
		if gsvm_unload drm_gpusvm_helper 2>>"$logdir/unload.log"; then
			for dir in "$GSVM_MUTANTS"/*/; do
				run_mutant "$dir"
			done
		else
			fail "selfcheck-drm_gpusvm (drm_gpusvm_helper would not unload)"
		fi
	fi

	kmemleak_end

	# The same results for CI dashboards: results.json (IGT runner's shape)
	# and junit.xml, next to the logs.
	dmesg >"$logdir/dmesg.txt" 2>/dev/null
	if python3 "$here/results-export.py" "$logdir" >"$logdir/export.log" 2>&1; then
		pass "results-export (results.json and junit.xml beside the logs)"
	else
		fail "results-export"
		show "$logdir/export.log"
	fi

	echo "$passed passed, $failed failed, $skipped skipped"
	[ $failed = 0 ]
}

# Host-side check of the result parsers on fake test binaries and KTAP.
selftest() {
	local dir out want got
	dir=$(mktemp -d)
	logdir=$dir
	fake() {	# fake NAME EXIT-STATUS OUTPUT
		printf '#!/bin/sh\ncat <<"X"\n%s\nX\nexit %s\n' "$3" "$2" >"$dir/$1"
		chmod +x "$dir/$1"
	}
	fake ok 0 'Subtest a: SUCCESS (0.1s)
Subtest b: SKIP (0.0s)'
	fake failing 98 'Starting subtest: a
Subtest a: FAIL (0.1s)
Subtest b: SUCCESS (0.1s)'
	fake crash 139 'Starting subtest: a
Subtest a: SUCCESS (0.1s)
Starting subtest: b'
	fake unexplained 98 'Subtest a: SUCCESS (0.1s)'
	fake plain 0 'no subtests here'
	fake allskip 77 'Subtest a: SKIP (0.1s)
Subtest b: SKIP (0.1s)'
	fake caught 98 'Subtest x-single: FAIL (0.1s)
Subtest x-all: SUCCESS (0.1s)'
	fake reason 98 'Starting subtest: y-single
GPU 0 wrote through a stale translation
Subtest y-single: FAIL (0.1s)
Starting subtest: y-all
some other failure
Subtest y-all: FAIL (0.1s)'
	printf '%s\n' 'KTAP version 1' '1..1' '    KTAP version 1' '    # Subtest: s' \
		'    1..3' '    ok 1 good_case' '    not ok 2 bad_case' \
		'    ok 3 skipped_case # SKIP needs two GPUs' '        ok 1 param-a' \
		'ok 1 s' >"$dir/ktap"
	printf '%s\n' 'KTAP version 1' '1..1' 'ok 1 whole # SKIP not here' >"$dir/ktap-skip"
	out=$(
		passed=0 failed=0 skipped=0
		declare -A loaded_ok=([simgpu]=1)
		for b in ok failing crash unexplained plain allskip; do
			run_igt "$dir/$b.log" "igt/$b" "$dir/$b"
		done
		SELFCHECK=knob run_igt "$dir/caught.log" igt/caught "$dir/caught"
		SELFCHECK=knob SELFCHECK_MSG="stale translation" \
			run_igt "$dir/reason.log" igt/reason "$dir/reason"
		parse_ktap s "$dir/ktap"
		parse_ktap whole "$dir/ktap-skip"
		echo "$passed passed, $failed failed, $skipped skipped"
	)
	# What the fake run recorded must come out as results.json and junit.xml.
	export_ok=0
	if python3 "$here/results-export.py" "$dir" >/dev/null 2>&1 &&
	   python3 - "$dir" <<'PY'
import json, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
t = json.load(open(d + "/results.json"))["tests"]
lines = [l for l in open(d + "/results.tsv") if l.strip()]
assert len(t) == len(lines), (len(t), len(lines))
assert t["igt@failing@a"]["result"] == "fail" and "Starting subtest: a" in t["igt@failing@a"]["out"]
assert t["igt@ok@b"]["result"] == "skip" and t["kunit@s@good_case"]["result"] == "pass"
assert len(ET.parse(d + "/junit.xml").getroot().findall(".//testcase")) == len(t)
PY
	then
		export_ok=1
	fi
	rm -rf "$dir"
	got=$(grep -E '^(PASS|FAIL|SKIP) ' <<<"$out" | sed 's/ (.*//' | tr '\n' ' ')
	want="PASS igt/ok/a SKIP igt/ok/b FAIL igt/failing/a PASS igt/failing/b \
PASS igt/crash/a FAIL igt/crash/b PASS igt/unexplained/a \
FAIL igt/unexplained PASS igt/plain SKIP igt/allskip/a SKIP igt/allskip/b \
FAIL igt/allskip PASS selfcheck-knob-x-single FAIL selfcheck-knob-x-all \
PASS selfcheck-knob-y-single FAIL selfcheck-knob-y-all \
PASS kunit/s/good_case FAIL kunit/s/bad_case SKIP kunit/s/skipped_case \
SKIP kunit/whole "
	local p=0 f=0
	if [ "$got" = "$want" ]; then
		echo "PASS run-tests-selftest"
		p=$((p + 1))
	else
		echo "FAIL run-tests-selftest"
		echo "  got:  $got"
		echo "  want: $want"
		f=$((f + 1))
	fi
	if [ $export_ok = 1 ]; then
		echo "PASS run-tests-selftest-export (results.json, junit.xml)"
		p=$((p + 1))
	else
		echo "FAIL run-tests-selftest-export (results.json, junit.xml)"
		f=$((f + 1))
	fi
	out=$(python3 "$here/results-export.py" --selftest 2>&1)
	echo "$out"
	p=$((p + $(grep -c '^PASS' <<<"$out")))
	f=$((f + $(grep -c '^FAIL' <<<"$out")))
	grep -q '^PASS' <<<"$out" || f=$((f + 1))
	echo "$p passed, $f failed, 0 skipped"
	[ $f = 0 ]
}

case "${1:-}" in
--selftest)
	selftest
	;;
"")
	# Loads modules: only in the test VM (guest-init.sh sets gsvm_res).
	if ! grep -q 'gsvm_res=' /proc/cmdline && [ -z "${GSVM_ALLOW_HOST:-}" ]; then
		echo "run-tests.sh loads kernel modules and belongs in the test VM:" >&2
		echo "  tools/vm-run.sh --summary -- tools/run-tests.sh" >&2
		echo "(GSVM_ALLOW_HOST=1 runs it here anyway)" >&2
		exit 2
	fi
	main
	;;
*)
	echo "usage: $0 [--selftest]" >&2
	exit 2
	;;
esac
