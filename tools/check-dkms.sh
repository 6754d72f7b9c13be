#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build gsvm and simgpu the way dkms does (dkms.conf: PRE_BUILD, then
# MAKE[0] in a copy of the source tree, then the BUILT_MODULE_* it
# names), against a kernel tree prepared from the configuration Debian
# ships its 7.3 kernel with, not the test fragment: the .config and
# Module.symvers of Debian's linux-headers-<version>-amd64 package, applied
# to the same linux-source with 'make olddefconfig modules_prepare'. So the
# modules are compiled, and their symbols resolved, against a config users
# really run. Also checks that PRE_BUILD refuses a kernel without the
# two-pass notifier API.
#
# Prints "PASS|FAIL dkms/<check>" lines and "N passed, N failed"; exit 1 on
# any failure. The prepared tree is cached in $GSVM_CACHE/dkms/<key>
# (key: headers package and version), about a minute the first time.
#
# Env: GSVM_CACHE (default /var/cache/gsvm); DKMS_TREE_FILE, a file to
# write the prepared tree's path to (make check's lint builds against it).

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${GSVM_CACHE:-/var/cache/gsvm}
aptdir=$cache/apt
passed=0 failed=0

pass() { echo "PASS dkms/$1"; passed=$((passed + 1)); }
fail() { echo "FAIL dkms/$1"; failed=$((failed + 1)); }
log() { echo "check-dkms: $*" >&2; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" = 0 ]; exit $?; }

src=$("$here/fetch-kernel.sh") || { fail "kernel-source (tools/fetch-kernel.sh failed)"; finish; }
aptopts=(-o "Dir::Etc::SourceList=$aptdir/sources.list"
	 -o Dir::Etc::SourceParts=/dev/null
	 -o "Dir::State::Lists=$aptdir/lists"
	 -o "Dir::Cache::Archives=$aptdir/archives")

# Debian's headers for the same kernel version as the source.
srcver=${src##*/linux-source-}
srcver=${srcver#*-}			# e.g. 7.3.4-1~bpo13+1
hdr=$(apt-cache "${aptopts[@]}" pkgnames linux-headers- 2>/dev/null |
      grep -E '^linux-headers-[0-9.]+\+deb[0-9]+-amd64$' | while read -r p; do
	v=$(apt-cache "${aptopts[@]}" show "$p" | awk '/^Version:/ { print $2; exit }')
	[ "$v" = "$srcver" ] && echo "$p"
      done | head -n 1)
if [ -z "$hdr" ]; then
	fail "debian-config (no linux-headers-*-amd64 of version $srcver in trixie-backports)"
	finish
fi

# Debian's kernel release, so that the modules' vermagic is that of
# Debian's own kernel.
krel=${hdr#linux-headers-}
key=$hdr-$srcver
dir=$cache/dkms/$key
obj=$dir/obj
if [ ! -f "$obj/.prepared" ]; then
	log "preparing $obj from the config of $hdr $srcver"
	rm -rf "$dir" && mkdir -p "$dir/deb" "$obj"
	deb=$(find "$aptdir/archives" -maxdepth 1 -name "${hdr}_${srcver}_*.deb" | head -n 1)
	if [ -z "$deb" ]; then
		(cd "$aptdir/archives" && apt-get "${aptopts[@]}" download -qq "$hdr=$srcver" >&2)
		deb=$(find "$aptdir/archives" -maxdepth 1 -name "${hdr}_${srcver}_*.deb" | head -n 1)
	fi
	if [ -z "$deb" ]; then
		fail "debian-config (download of $hdr $srcver failed)"
		finish
	fi
	dpkg-deb --fsys-tarfile "$deb" |
		tar -x -C "$dir/deb" --wildcards '*/.config' '*/Module.symvers'
	cp "$dir"/deb/usr/src/"$hdr"/.config "$obj/.config"
	if ! make -C "$src" O="$obj" olddefconfig >"$dir/prepare.log" 2>&1 ||
	   ! make -C "$src" O="$obj" -j"$(nproc)" KERNELRELEASE="$krel" \
		modules_prepare >>"$dir/prepare.log" 2>&1; then
		fail "prepare (make olddefconfig modules_prepare, see $dir/prepare.log)"
		tail -n 20 "$dir/prepare.log"
		finish
	fi
	# The exports of Debian's real build: modpost resolves against them.
	cp "$dir"/deb/usr/src/"$hdr"/Module.symvers "$obj/Module.symvers"
	touch "$obj/.prepared"
fi
pass "prepare ($hdr $srcver, Debian's config)"
# For make check's lint: a kernel tree without the series to build against.
[ -n "${DKMS_TREE_FILE:-}" ] && echo "$obj" >"$DKMS_TREE_FILE"

# What dkms does: copy the source to its tree, source dkms.conf with its
# variables set, run PRE_BUILD and MAKE[0] in the copy, collect the modules.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kernel_source_dir=$obj
dkms_tree=$work/dkms
kernelver=$(cat "$obj/include/config/kernel.release" 2>/dev/null || echo unknown)
export kernel_source_dir dkms_tree kernelver
# dkms.conf is a fragment of variables for dkms, not a script to lint.
# shellcheck disable=SC1091
. "$repo/dkms.conf"
build=$dkms_tree/$PACKAGE_NAME/$PACKAGE_VERSION/build
mkdir -p "$build"
git -C "$repo" ls-files -z | (cd "$repo" && xargs -0 cp --parents -t "$build")

if (cd "$build" && eval "$PRE_BUILD") >"$work/pre.log" 2>&1; then
	pass "pre-build (accepts $kernelver)"
else
	fail "pre-build (refused $kernelver: $(cat "$work/pre.log"))"
fi

# PRE_BUILD must refuse a kernel without the two-pass notifier, clearly.
old=$work/old-kernel
mkdir -p "$old/include/linux"
sed -e 's/invalidate_finish/invalidate_later/g' \
    -e 's/struct mmu_interval_notifier_finish/struct mmu_interval_notifier_later/g' \
    "$src/include/linux/mmu_notifier.h" >"$old/include/linux/mmu_notifier.h"
if (cd "$build" && tools/dkms-pre-build.sh "$old") >"$work/old.log" 2>&1; then
	fail "pre-build-refuses-old-kernel (accepted a kernel without invalidate_finish)"
elif grep -q 'no two-pass mmu_interval_notifier' "$work/old.log"; then
	pass "pre-build-refuses-old-kernel"
else
	fail "pre-build-refuses-old-kernel (no clear message: $(cat "$work/old.log"))"
fi

if (cd "$build" && eval "${MAKE[0]}") >"$work/make.log" 2>&1 &&
   ! grep -E 'warning:|WARNING:' "$work/make.log" >/dev/null; then
	pass "build (MAKE[0] against $kernelver)"
else
	fail "build (MAKE[0] against $kernelver)"
	grep -E 'error|warning|WARNING' "$work/make.log" | head -n 20
fi

for i in "${!BUILT_MODULE_NAME[@]}"; do
	m=$build/${BUILT_MODULE_LOCATION[$i]}/${BUILT_MODULE_NAME[$i]}.ko
	if [ -f "$m" ] && modinfo -F vermagic "$m" | grep -q "^$kernelver "; then
		pass "module-${BUILT_MODULE_NAME[$i]} (vermagic $kernelver)"
	else
		fail "module-${BUILT_MODULE_NAME[$i]} (no $m for $kernelver)"
	fi
done
finish
