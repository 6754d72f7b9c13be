#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Checks the igt_core runner with igt_core_selftest (subtests with known
# outcomes) and that every binary in TESTS lists its subtests and, on a
# machine without simgpu, skips with exit code 77.
#
# Usage: selfcheck-core.sh [BUILD_DIR]

set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/build}
st=$build/igt_core_selftest
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # description expected actual
	if [ "$2" = "$3" ]; then
		echo "ok   $1"
	else
		echo "FAIL $1: expected '$2', got '$3'"
		fails=$((fails + 1))
	fi
}

run() { # expected-rc expected-result subtest
	local out rc
	out=$(SELFTEST_DIR=$tmp "$st" --run-subtest "$3" 2>&1)
	rc=$?
	check "$3: exit code" "$1" "$rc"
	check "$3: result line" "$2" \
		"$(echo "$out" | sed -n "s/^Subtest $3: \([A-Z]*\) (.*s)\$/\1/p")"
	echo "$out" | grep -q '^IGT-Version: ' || check "$3: IGT-Version line" yes no
	echo "$out" | grep -qx "Starting subtest: $3" || check "$3: start line" yes no
}

run 0 SUCCESS pass
run 77 SKIP skip
run 98 FAIL fail-assert
run 98 FAIL fail-segv
run 98 FAIL fail-timeout
run 98 FAIL fail-helper
run 0 SUCCESS pass-helper
rm -f "$tmp/handler"
run 98 FAIL fail-runs-exit-handler
check "exit handler ran on failure" handler "$(cat "$tmp/handler" 2>/dev/null)"
echo orig > "$tmp/knob"
run 98 FAIL file-tmp-then-crash
check "file restored after crash" orig "$(cat "$tmp/knob")"

"$st" --run-subtest no-such-subtest >/dev/null 2>&1
check "unknown subtest: exit code" 79 $?
"$st" --bogus-option >/dev/null 2>&1
check "unknown option: exit code" 79 $?
check "--list-subtests" 9 "$("$st" --list-subtests | wc -l)"
check "--list-subtests with glob" "pass pass-helper" \
	"$("$st" --list-subtests --run-subtest 'pass*' | xargs)"
SELFTEST_DIR=$tmp "$st" --run-subtest 'pass,pass-helper,skip' >/dev/null 2>&1
check "pass + skip: exit code" 0 $?
SELFTEST_DIR=$tmp "$st" --run-subtest 'skip' >/dev/null 2>&1
check "all skipped: exit code" 77 $?
SELFTEST_DIR=$tmp "$st" --run-subtest 'pass*,fail-assert' >/dev/null 2>&1
check "pass + fail: exit code" 98 $?

# Without the simgpu module, every binary must skip everything (exit 77).
have_simgpu=0
[ -d /sys/module/simgpu ] && have_simgpu=1

for t in $(cat "$here/TESTS"); do
	n=$("$build/$t" --list-subtests | wc -l)
	bad=$("$build/$t" --list-subtests | grep -cv '^[a-z0-9-]*$')
	check "$t: lists subtests" yes "$([ "$n" -gt 0 ] && echo yes || echo no)"
	check "$t: subtest names [a-z0-9-]" 0 "$bad"
	if [ $have_simgpu = 0 ]; then
		"$build/$t" >/dev/null 2>&1
		check "$t: no device -> all SKIP" 77 $?
	fi
done

total=0
for t in $(cat "$here/TESTS"); do
	total=$((total + $("$build/$t" --list-subtests | wc -l)))
done
echo "$total subtests in $(wc -l < "$here/TESTS") binaries"

[ $fails = 0 ] && echo "selfcheck-core: all passed" || echo "selfcheck-core: $fails failed"
[ $fails = 0 ]
