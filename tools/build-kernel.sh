#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) the test kernel: tinyconfig + tools/kconfig/gsvm-test.config,
# cached outside the repo under $GSVM_CACHE/build/<source>-<key>, with ccache.
# Prints the build directory (usable as KDIR); modules are installed under
# <build>/modroot/lib/modules/<release>.
#
# Usage: tools/build-kernel.sh               build if needed, print the directory
#        tools/build-kernel.sh --print-path  only print the directory the kernel
#                                            has or would have: no build, no
#                                            download (exit 0 even if not built;
#                                            <dir>/.built exists once it is)
# Env:   GSVM_CACHE    cache directory (default: /var/cache/gsvm)
#        GSVM_KCONFIG  config fragment (default: tools/kconfig/gsvm-test.config)
#        GSVM_KVER     see fetch-kernel.sh
#        JOBS          parallel jobs (default: nproc)

set -euo pipefail

# Bump when the build commands below change what gets built: the cache key is
# the fragment plus this number, so edits elsewhere in this script (comments,
# options) do not throw away a 10-minute build.
recipe=1

here=$(cd "$(dirname "$0")" && pwd)
cache=${GSVM_CACHE:-/var/cache/gsvm}
frag=${GSVM_KCONFIG:-$here/kconfig/gsvm-test.config}
jobs=${JOBS:-$(nproc)}

log() { echo "build-kernel: $*" >&2; }

case "${1:-}" in
"") print_only=0 ;;
--print-path) print_only=1 ;;
*) echo "usage: $0 [--print-path]" >&2; exit 2 ;;
esac

if [ $print_only = 1 ]; then
	src=$("$here/fetch-kernel.sh" --no-download)
else
	src=$("$here/fetch-kernel.sh")
fi
key=$(basename "$src")-$({ cat "$frag"; echo "recipe=$recipe"; } | sha256sum | cut -c1-12)
out=$cache/build/$key

if [ $print_only = 1 ] || [ -f "$out/.built" ]; then
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

export CCACHE_DIR=${CCACHE_DIR:-$cache/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
export CCACHE_BASEDIR=$src
kmake=(make -C "$src" O="$out" ARCH=x86_64 CC="ccache gcc" HOSTCC="ccache gcc" -j"$jobs")

mkdir -p "$out"
log "configuring $key"
"${kmake[@]}" -s tinyconfig >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag" >&2
"${kmake[@]}" -s olddefconfig >&2

# Every option the fragment asks for must have survived olddefconfig.
missing=0
while read -r line; do
	case "$line" in
	CONFIG_*=*) grep -qxF "$line" "$out/.config" || { log "not set: $line"; missing=1; } ;;
	"# CONFIG_"*" is not set")
		opt=${line#"# "}; opt=${opt%" is not set"}
		grep -q "^$opt=" "$out/.config" && { log "set but wanted off: $opt"; missing=1; } ;;
	esac
done < "$frag"
[ $missing = 0 ] || { log "config fragment not honoured"; exit 1; }

log "building $key (make -j$jobs, ccache)"
start=$SECONDS
"${kmake[@]}" -s bzImage modules >&2
rm -rf "$out/modroot"
"${kmake[@]}" -s INSTALL_MOD_PATH="$out/modroot" INSTALL_MOD_STRIP=1 modules_install >&2
log "built in $((SECONDS - start)) s"
touch "$out/.built"
echo "$out"
