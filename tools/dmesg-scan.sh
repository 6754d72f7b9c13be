#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Scan a kernel log for splats: warnings, BUGs, oopses, lockdep, KASAN, UBSAN,
# sleep-in-atomic, DMA-API and debugobjects reports, stalls, call traces.
# Prints each offending section (with the last test marker seen before it) and
# exits 1 if there is any, 0 if the log is clean.
#
# Usage: tools/dmesg-scan.sh [--console] LOG
#   --console   LOG is a serial console capture: only lines that carry a
#               printk timestamp are kernel messages, the rest is ignored
#
# Lines written to /dev/kmsg as "gsvm-run-tests: ..." or "guest-init: ..."
# are markers: they name the test that was running when a splat appeared.
# KTAP lines (KUnit results: "ok 1 name", "# Subtest: name") are not scanned,
# so a test named after lockdep does not count as a lockdep report.
# A report (section) ends at "---[ end trace", at a closing "=====" line, or
# at the first line stamped more than 2 s after its first line.

set -euo pipefail

console=0
if [ "${1:-}" = --console ]; then
	console=1
	shift
fi
[ $# = 1 ] || { echo "usage: $0 [--console] LOG" >&2; exit 2; }
[ -r "$1" ] || { echo "dmesg-scan: cannot read $1" >&2; exit 2; }

awk -v console=$console '
BEGIN {
	splat = "WARNING:|BUG:|(^|[^A-Za-z_])BUG |kernel BUG|Oops|" \
		"possible circular locking|lockdep|INFO: possible|KASAN:|UBSAN:|" \
		"sleeping function called from invalid context|DMA-API:|ODEBUG:|" \
		"general protection|Call Trace|Kernel panic|soft lockup|hard LOCKUP|" \
		"blocked for more than|stall on CPU|detected stalls|refcount_t:|KFENCE:|" \
		"kmemleak:|FAULT_INJECTION:|list_add corruption|list_del corruption|Unable to handle"
	ktap = "^ *(KTAP version [0-9]|1\\.\\.[0-9]+|(not )?ok [0-9]+( |$)|# )"
	# Known harmless lines of the debug kernel at boot.
	benign = "^Lock dependency validator:|^\\.\\.\\. MAX_LOCK|^\\.\\.\\. MAX_LOCKDEP|" \
		 "^\\.\\.\\. CHAINHASH_SIZE|^ memory used by lock dependency info:|" \
		 "^ memory used for stack traces:|^ per task-struct memory footprint:|" \
		 "^kasan: KernelAddressSanitizer initialized|" \
		 "^kmemleak: Kernel memory leak detector (initialized|disabled)|" \
		 "^Unknown kernel command line parameters|" \
		 "^kunit: loading test module taints kernel|" \
		 "^rcu:[ \t]+RCU lockdep checking is enabled|" \
		 "^DMA-API: preallocated [0-9]+ debug entries|" \
		 "^DMA-API: debugging enabled by kernel config|" \
		 "^(calling  |initcall )[a-z0-9_]+\\+0x"
	marker = "(boot)"
	n = 0; insec = 0; nsplat = 0
}
function endsec() {
	if (printed < seclen)
		printf "    ... (%d more lines of this report)\n", seclen - printed
	insec = 0
}
{
	line = $0
	if (console && line !~ /^\[ *[0-9]+\.[0-9]+\]/)
		next
	msg = line
	ts = -1
	if (match(line, /^\[ *[0-9]+\.[0-9]+\]/))
		ts = substr(line, 2, RLENGTH - 2) + 0
	sub(/^\[ *[0-9]+\.[0-9]+\] /, "", msg)
	sub(/^\[ *[CT][0-9]+\] /, "", msg)

	if (msg ~ /^(gsvm-run-tests|guest-init): /) {
		marker = msg
		if (insec)
			endsec()
		next
	}
	# A report is printed in one go: a line much later ends it.
	if (insec && ts >= 0 && sects >= 0 && ts > sects + 2)
		endsec()
	if (insec) {
		seclen++
		if (printed < 60) {
			print "    " line
			printed++
		}
		if (msg ~ /---\[ end trace/ || (msg ~ /^=+$/ && seclen > 3) || seclen >= 200)
			endsec()
		prev[n++ % 3] = line
		next
	}
	if (msg !~ ktap && msg !~ benign && msg ~ splat) {
		nsplat++
		printf "--- splat %d, while: %s\n", nsplat, marker
		for (i = n - 3; i < n; i++)
			if (i >= 0)
				print "    " prev[i % 3]
		print "    " line
		insec = 1; seclen = 1; printed = 1; sects = ts
	}
	prev[n++ % 3] = line
}
END {
	if (insec)
		endsec()
	if (nsplat) {
		printf "dmesg-scan: %d splat(s) in the kernel log\n", nsplat
		exit 1
	}
	print "dmesg-scan: clean"
}' "$1"
