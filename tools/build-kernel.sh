#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) the test kernel: tinyconfig + tools/kconfig/gsvm-test.config,
# with the kernel patch series of patches/linux-7.3/ applied (see its 'series'
# file), cached outside the repo under $GSVM_CACHE/build/<source>-<key>, with
# ccache. Prints the build directory (usable as KDIR); modules are installed
# under <build>/modroot/lib/modules/<release>.
#
# Each build has its own copy of the source tree (hard links to the pristine
# unpacked tree, with the series applied on top: patch(1) replaces the files
# it changes instead of writing through the links), laid out as
#   <cache>/build/<key>/linux   the (patched) source
#   <cache>/build/<key>/obj     the O= build directory, which is KDIR
# so that the compiler sees the same relative paths in every build and
# ccache (base_dir = the build's folder) shares the objects the series does
# not touch between the patched and the unpatched kernel. Using a build
# touches its obj/.built; builds of other keys unused for 14 days are removed.
#
# Usage: tools/build-kernel.sh [--unpatched] [--production] [--print-path]
#        --print-path  only print the directory the kernel has or would have:
#                      no build, no download (exit 0 even if not built;
#                      <dir>/.built exists once it is)
#        --unpatched   the stock kernel, without the patch series
#        --production  the same kernel without the debug options
#                      (kconfig/gsvm-prod.config merged last), for
#                      'make bench'; its own cache key, ending in -prod
# Env:   GSVM_CACHE    cache directory (default: /var/cache/gsvm)
#        GSVM_KCONFIG  config fragment (default: tools/kconfig/gsvm-test.config)
#        GSVM_PATCHES  patch series folder (default: patches/linux-7.3), or
#                      "none" for the stock kernel (same as --unpatched);
#                      its series.config, if any, is merged after the fragment
#        GSVM_KVER     see fetch-kernel.sh
#        JOBS          parallel jobs (default: nproc)

set -euo pipefail

# Bump when the build commands below change what gets built: the cache key is
# the fragment, the series and this number, so edits elsewhere in this script
# (comments, options) do not throw away a 10-minute build.
recipe=2

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${GSVM_CACHE:-/var/cache/gsvm}
frag=${GSVM_KCONFIG:-$here/kconfig/gsvm-test.config}
patches=${GSVM_PATCHES:-$repo/patches/linux-7.3}
jobs=${JOBS:-$(nproc)}

log() { echo "build-kernel: $*" >&2; }
usage() { echo "usage: $0 [--unpatched] [--production] [--print-path]" >&2; exit 2; }

print_only=0 production=0
for arg; do
	case "$arg" in
	--print-path) print_only=1 ;;
	--unpatched) patches=none ;;
	--production) production=1 ;;
	*) usage ;;
	esac
done

# The series: its file names in order, as the 'series' file lists them
# (quilt format: one patch a line, '#' starts a comment). Options that only
# exist with the series applied are in its series.config, merged after the
# fragment.
series=()
frags=("$frag")
if [ "$patches" != none ]; then
	[ -f "$patches/series.config" ] && frags+=("$patches/series.config")
	[ -f "$patches/series" ] || { log "no series file in $patches"; exit 1; }
	while read -r p _; do
		case "$p" in ""|"#"*) continue ;; esac
		[ -f "$patches/$p" ] || { log "series names $p, which is not in $patches"; exit 1; }
		series+=("$patches/$p")
	done < "$patches/series"
fi
[ $production = 1 ] && frags+=("$here/kconfig/gsvm-prod.config")

if [ $print_only = 1 ]; then
	src=$("$here/fetch-kernel.sh" --no-download)
else
	src=$("$here/fetch-kernel.sh")
fi
hash=$({ cat "${frags[@]}"; echo "recipe=$recipe"
	 if [ ${#series[@]} = 0 ]; then echo "series=none"
	 else for p in "${series[@]}"; do echo "patch=$(basename "$p")"; cat "$p"; done; fi
       } | sha256sum | cut -c1-12)
key=$(basename "$src")-$hash
[ ${#series[@]} = 0 ] && key=$key-stock
[ $production = 1 ] && key=$key-prod
top=$cache/build/$key
out=$top/obj

if [ $print_only = 1 ]; then
	echo "$out"
	exit 0
fi
# A build in use is touched; builds of other keys unused for two weeks
# (an older series or fragment, about 650 MB each) are removed.
prune() {
	local d
	touch "$out/.built"
	for d in "$cache"/build/*/; do
		d=${d%/}
		[ "$d" = "$top" ] && continue
		[ -n "$(find "$d/obj/.built" -mtime +14 2>/dev/null)" ] || continue
		log "removing $d, unused for two weeks"
		rm -rf "$d"
	done
}
if [ -f "$out/.built" ]; then
	prune
	echo "$out"
	exit 0
fi

# One build at a time per output directory (two 'make check' runs, say).
mkdir -p "$cache/build"
exec 9>"$cache/build/.$key.lock"
if ! flock -n 9; then
	log "another build of $key is running; waiting for it"
	flock 9
fi
if [ -f "$out/.built" ]; then
	echo "$out"
	exit 0
fi

# A fresh tree for an unfinished build: a half-applied series must not stay.
if [ ! -f "$top/.tree" ]; then
	rm -rf "$top"
	mkdir -p "$top"
	log "linking the source tree into $top/linux"
	cp -al "$src" "$top/linux"
	rm -f "$top/linux/.unpacked"
	for p in "${series[@]}"; do
		log "applying $(basename "$p")"
		# --fuzz=0: the series must apply exactly, as the docs promise.
		patch -d "$top/linux" -p1 --fuzz=0 --no-backup-if-mismatch -s < "$p" >&2 ||
			{ log "$(basename "$p") does not apply to $(basename "$src")"; exit 1; }
	done
	touch "$top/.tree"
fi
tree=$top/linux

export CCACHE_DIR=${CCACHE_DIR:-$cache/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
export CCACHE_BASEDIR=$top
export CCACHE_NOHASHDIR=1
kmake=(make -C "$tree" O="$out" ARCH=x86_64 CC="ccache gcc" HOSTCC="ccache gcc" -j"$jobs")

mkdir -p "$out"
log "configuring $key"
"${kmake[@]}" -s tinyconfig >&2
"$tree/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >&2
"${kmake[@]}" -s olddefconfig >&2

# Every option the fragments ask for must have survived olddefconfig; where
# two fragments name one option (the production overlay), the last one wins.
missing=0
declare -A want=()
order=()
while read -r line; do
	case "$line" in
	CONFIG_*=*) opt=${line%%=*} ;;
	"# CONFIG_"*" is not set") opt=${line#"# "}; opt=${opt%" is not set"} ;;
	*) continue ;;
	esac
	[ -n "${want[$opt]+x}" ] || order+=("$opt")
	want[$opt]=$line
done < <(cat "${frags[@]}")
for opt in "${order[@]}"; do
	line=${want[$opt]}
	case "$line" in
	CONFIG_*=*) grep -qxF "$line" "$out/.config" || { log "not set: $line"; missing=1; } ;;
	*) grep -q "^$opt=" "$out/.config" && { log "set but wanted off: $opt"; missing=1; } ;;
	esac
done
[ $missing = 0 ] || { log "config fragment not honoured"; exit 1; }

log "building $key (make -j$jobs, ccache)"
start=$SECONDS
"${kmake[@]}" -s bzImage modules >&2
rm -rf "$out/modroot"
"${kmake[@]}" -s INSTALL_MOD_PATH="$out/modroot" INSTALL_MOD_STRIP=1 modules_install >&2
log "built in $((SECONDS - start)) s"
prune
echo "$out"
