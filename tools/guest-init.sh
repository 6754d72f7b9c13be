#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 of the test VM started by tools/vm-run.sh (kernel 'init=' argument).
# The root file system is the host's, read-only over virtio-9p, so every host
# path (the repo, the kernel build) is visible at the same place.
#
# The host passes 'gsvm_res=<dir>' on the kernel command line; the kernel puts
# it in our environment. <dir> is a read-write 9p share (mount tag gsvmres)
# mounted at the same path as on the host, holding:
#   env          (in)  shell assignments: GSVM_KDIR, GSVM_CWD, GSVM_TIMEOUT, user env
#   cmd          (in)  the command, NUL-separated arguments
#   output.log   (out) the command's stdout and stderr (appended)
#   exit-status  (out) the command's exit status (124: guest-side timeout)
#   dmesg.log    (out) the kernel log after the command
#   artifacts/   (out) GSVM_RESULTS of the command, for files it wants kept
#
# Never exits: PID 1 exiting panics the kernel. Always ends in a power-off.

set -uo pipefail
# 'gsvm_debug=1' on the kernel command line (vm-run.sh --append) traces this
# script on the console, each line stamped with /proc/uptime.
if [ -n "${gsvm_debug:-}" ]; then
	exec 2>/dev/console
	PS4='+ $(</proc/uptime 2>/dev/null) '
	set -x
fi

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TMPDIR=/tmp LANG=C.UTF-8 TERM=dumb

say() { echo "guest-init: $*" >/dev/console 2>&1 || echo "guest-init: $*"; }

power_off() {
	sync
	poweroff -f >/dev/null 2>&1
	# Without ACPI power-off, a reboot ends the VM too (qemu -no-reboot).
	reboot -f >/dev/null 2>&1
	say "could not power off"
	while :; do sleep 3600; done
}

fail() {
	say "$*"
	[ -n "${res:-}" ] && [ -w "$res" ] && echo "guest-init: $*" >>"$res/output.log"
	power_off
}

# Not 'mountpoint': over 9p with multidevs=remap, every host mount point
# (/proc, /sys, /tmp, ...) looks like one in the guest too.
# Builtins only: every exec costs a lot under TCG.
mounted() {
	local _ dir __
	while read -r _ dir __; do
		[ "$dir" = "$1" ] && return 0
	done </proc/self/mounts
	return 1
}

mnt() {	# mnt TYPE SOURCE DIR [OPTIONS]
	mounted "$3" && return 0
	mount -t "$1" ${4:+-o "$4"} "$2" "$3" || say "mount $1 on $3 failed"
}

mount -t proc proc /proc || say "cannot mount /proc"
mnt sysfs sysfs /sys
mnt devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm 2>/dev/null
mnt devpts devpts /dev/pts mode=620,ptmxmode=666
mnt tmpfs tmpfs /dev/shm mode=1777
ln -sf /proc/self/fd /dev/fd 2>/dev/null

res=${gsvm_res:-}
[ -n "$res" ] || fail "no gsvm_res= on the kernel command line"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 gsvmres "$res" ||
	fail "cannot mount the results share on $res"
# shellcheck source=/dev/null
. "$res/env" || fail "cannot read $res/env"
mapfile -d '' -t cmd <"$res/cmd" || fail "cannot read $res/cmd"
[ ${#cmd[@]} -gt 0 ] || fail "empty command"

# Writable scratch directories. Host paths the run needs (the repo, the
# kernel build, the results share) that live below one of them stay visible:
# their top directory is bound back from the host's view over the tmpfs.
IFS=: read -r -a keep <<<"$GSVM_KEEP_PATHS:$res"
scratch() {
	local d=$1 p top tops=()
	[ -d "$d" ] || return 0
	for p in "${keep[@]}"; do
		[ "$p" = "$d" ] && return 0	# needed as it is: leave it read-only
		case "$p" in "$d"/*)
			top=${p#"$d"/}
			tops+=("${top%%/*}") ;;
		esac
	done
	if [ ${#tops[@]} -gt 0 ]; then
		mkdir -p "/dev/.host$d"
		mount --rbind "$d" "/dev/.host$d" || say "cannot keep $d"
	fi
	mnt tmpfs tmpfs "$d" mode=1777
	for top in "${tops[@]}"; do
		mkdir -p "$d/$top"
		mounted "$d/$top" || mount --rbind "/dev/.host$d/$top" "$d/$top" ||
			say "cannot keep $d/$top"
	done
}
for d in /tmp /var/tmp /run /root /home /mnt /var/log; do
	scratch "$d"
done
mnt debugfs debugfs /sys/kernel/debug
mnt tracefs tracefs /sys/kernel/tracing
[ -d /sys/fs/cgroup ] && mnt cgroup2 cgroup2 /sys/fs/cgroup
hostname gsvm-vm 2>/dev/null

# Modules of the test kernel where modprobe looks for them. Without a
# /lib/modules mount point on the host, point modprobe (ours through
# MODPROBE_OPTIONS, the kernel's through a wrapper) at the build instead.
kver=$(uname -r)
modroot=$GSVM_KDIR/modroot
[ -d "$modroot/lib/modules/$kver" ] || fail "no modules for $kver in $modroot/lib/modules"
if [ -d /lib/modules ]; then
	mount --bind "$modroot/lib/modules" /lib/modules ||
		fail "cannot bind $modroot/lib/modules on /lib/modules"
else
	export MODPROBE_OPTIONS="-d $modroot"
	printf '#!/bin/sh\nexec /sbin/modprobe -d %q "$@"\n' "$modroot" >/run/gsvm-modprobe
	chmod 755 /run/gsvm-modprobe
	echo /run/gsvm-modprobe >/proc/sys/kernel/modprobe
fi

export GSVM_RESULTS=$res/artifacts
mkdir -p "$GSVM_RESULTS"
cd "$GSVM_CWD" || fail "cannot cd to $GSVM_CWD"

say "running: ${cmd[*]}"
echo "guest-init: running ${cmd[*]}" >/dev/kmsg
timeout -k 10 "$GSVM_TIMEOUT" "${cmd[@]}" </dev/null >>"$res/output.log" 2>&1
rc=$?
[ $rc = 124 ] && echo "guest-init: timed out after ${GSVM_TIMEOUT}s: ${cmd[*]}" >>"$res/output.log"
echo "guest-init: exit status $rc" >/dev/kmsg
say "exit status $rc"

dmesg >"$res/dmesg.log" 2>&1
echo "$rc" >"$res/exit-status"
sync
umount "$res" 2>/dev/null
power_off
