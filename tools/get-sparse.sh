#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the path of a sparse that the 7.3 kernel accepts for 'make C=1/C=2'.
#
# The kernel (scripts/checker-valid.sh) silently turns C=2 off when sparse does
# not understand __typeof_unqual__, which Debian 12's sparse 0.6.4 does not.
# If the installed sparse fails that test, build sparse from the newest source
# package in Debian's unstable suite (0.6.5~rc1 or later) into the cache, using
# a private apt source list so the machine's apt configuration stays untouched.
#
# Usage: tools/get-sparse.sh        prints the path of a usable sparse
# Env:   GSVM_CACHE                 cache directory (default: /var/cache/gsvm)

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${GSVM_CACHE:-/var/cache/gsvm}
dir=$cache/sparse

log() { echo "get-sparse: $*" >&2; }

# Same probe as the kernel's scripts/checker-valid.sh.
sparse_ok() {
	local out
	[ -x "$1" ] || return 1
	out=$(printf '%s\n' 'static inline int u(const int *q)' '{' \
		'	__typeof_unqual__(*q) v = *q;' '	return v;' '}' |
	      "$1" -D__linux__ -m64 --arch=x86_64 - 2>&1) || return 1
	! grep -q error <<<"$out"
}

sys=$(command -v sparse || true)
if [ -n "$sys" ] && sparse_ok "$sys"; then
	echo "$sys"
	exit 0
fi
if sparse_ok "$dir/bin/sparse"; then
	echo "$dir/bin/sparse"
	exit 0
fi

log "installed sparse is too old for this kernel; building one from Debian's source package"
uri=$("$here/fetch-kernel.sh" --mirror-uri)
aptdir=$dir/apt
mkdir -p "$aptdir/lists/partial" "$dir/src"
chmod 755 "$cache" "$dir" "$aptdir" 2>/dev/null || true
echo "deb-src $uri unstable main" >"$aptdir/sources.list"
aptopts=(-o "Dir::Etc::SourceList=$aptdir/sources.list"
	 -o Dir::Etc::SourceParts=/dev/null
	 -o "Dir::State::Lists=$aptdir/lists"
	 -o APT::Get::List-Cleanup=0)
apt-get "${aptopts[@]}" update -qq >&2

ver=$(apt-cache "${aptopts[@]}" showsrc sparse | awk '/^Version:/ { print $2 }' |
      sort -V | tail -n 1)
[ -n "$ver" ] || { log "no sparse source package found"; exit 1; }
upver=${ver%-*}
upver=${upver#*:}
work=$(mktemp -d "$dir/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 777 "$work"	# apt downloads as _apt
(cd "$work" && apt-get "${aptopts[@]}" source --download-only -qq "sparse=$ver" >&2)
tarball=$(find "$work" -maxdepth 1 -name "sparse_${upver}.orig.tar.*" | head -n 1)
[ -n "$tarball" ] || { log "sparse $ver: no upstream tarball downloaded"; exit 1; }
mkdir "$work/src"
tar -xf "$tarball" -C "$work/src" --strip-components=1
log "building sparse $upver"
make -C "$work/src" -j"$(nproc)" sparse \
	HAVE_LLVM=no HAVE_GTK=no HAVE_SQLITE=no HAVE_LIBXML=no >"$work/build.log" 2>&1 ||
	{ cat "$work/build.log" >&2; log "sparse build failed"; exit 1; }
mkdir -p "$dir/bin"
install -m 755 "$work/src/sparse" "$dir/bin/sparse.new"
mv "$dir/bin/sparse.new" "$dir/bin/sparse"
sparse_ok "$dir/bin/sparse" || { log "sparse $upver still rejects __typeof_unqual__"; exit 1; }
log "sparse $upver installed in $dir/bin"
echo "$dir/bin/sparse"
