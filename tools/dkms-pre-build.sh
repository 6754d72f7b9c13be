#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dkms PRE_BUILD step (see dkms.conf): refuse a kernel whose
# mmu_interval_notifier has no two-pass invalidation (invalidate_start /
# invalidate_finish, Linux 7.3+), with a message saying so, instead of a
# page of compiler errors.
#
# Usage: tools/dkms-pre-build.sh KERNEL_SOURCE_DIR
#   KERNEL_SOURCE_DIR: the kernel's build tree (dkms: $kernel_source_dir),
#   a full tree, an O= build directory (with its 'source' link) or Debian's
#   split linux-headers (whose Makefile includes the -common tree).

set -eu

kdir=${1:?usage: $0 KERNEL_SOURCE_DIR}

die() {
	echo "gsvm: $*" >&2
	exit 1
}

[ -d "$kdir" ] || die "no kernel build tree at $kdir (install the headers of the target kernel)"

# Where include/linux/mmu_notifier.h lives for this build tree.
header=
for inc in "$kdir/include" "$kdir/source/include" \
	   $(sed -n 's|^include \(.*\)/Makefile$|\1/include|p' "$kdir/Makefile" 2>/dev/null); do
	if [ -f "$inc/linux/mmu_notifier.h" ]; then
		header=$inc/linux/mmu_notifier.h
		break
	fi
done
[ -n "$header" ] || die "cannot find include/linux/mmu_notifier.h for the kernel at $kdir"

if ! grep -q 'invalidate_finish' "$header" ||
   ! grep -q 'struct mmu_interval_notifier_finish' "$header"; then
	version=$(sed -n 's/^VERSION = //p' "$kdir/Makefile" 2>/dev/null || true)
	die "the kernel at $kdir has no two-pass mmu_interval_notifier (invalidate_start/invalidate_finish in $header); gsvm needs Linux 7.3 or later${version:+ (this tree: $version.x)}"
fi
exit 0
