#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The checks of tools/bench that need no GPU, on the host or in the test VM,
# after 'make -C tools/bench KSRC=...' (or as 'make -C tools/bench check'):
#   - bench-core-test, the self-test of bench_core's pure logic (percentiles,
#     options, the printers, the sample loop's call order on a fake device);
#   - xe-bench on a machine without an Xe device: it must exit 77 (skip)
#     with its one-line message. Skipped where an Xe device is present, or
#     where xe-bench was not built (KSRC without xe_drm.h).
# Prints one "PASS|FAIL|SKIP bench/<name> [(reason)]" line per check (the
# self-test's cases as bench/bench-core/<case>); exit status 1 if one failed.
# Writes nothing.

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
rc=0

fail() { echo "FAIL bench/$1 ($2)"; rc=1; }

# bench-core-test
if [ -x "$here/bench-core-test" ]; then
	out=$("$here/bench-core-test" 2>&1)
	st=$?
	sed -E 's#^(PASS|FAIL) #\1 bench/#' <<<"$out"
	[ $st -eq 0 ] || fail bench-core-test "exit status $st"
else
	fail bench-core-test "$here/bench-core-test not built"
fi

# xe-bench without an Xe device
name=xe-bench-no-device
expect="xe-bench: no Xe device (no render node driven by xe): nothing to measure"
xe_present=
for drv in /sys/class/drm/renderD*/device/driver; do
	[ -e "$drv" ] && [ "$(basename "$(readlink -f "$drv")")" = xe ] && xe_present=$drv
done
if [ ! -x "$here/xe-bench" ]; then
	echo "SKIP bench/$name (xe-bench not built: KSRC without include/uapi/drm/xe_drm.h)"
elif [ -n "$xe_present" ]; then
	echo "SKIP bench/$name (an Xe device is present: ${xe_present%/device/driver})"
else
	out=$("$here/xe-bench" 2>&1)
	st=$?
	if [ $st -ne 77 ]; then
		fail $name "exit status $st, not 77: $out"
	elif [ "$out" != "$expect" ]; then
		fail $name "printed '$out'"
	else
		echo "PASS bench/$name"
	fi
fi

exit $rc
