#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) the test kernel: tinyconfig + tools/kconfig/gsvm-test.config,
# cached outside the repo under $GSVM_CACHE/build/<source>-<config hash>, with
# ccache. Prints the build directory (usable as KDIR).

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${GSVM_CACHE:-/var/cache/gsvm}
frag=${GSVM_KCONFIG:-$here/kconfig/gsvm-test.config}
jobs=${JOBS:-$(nproc)}

log() { echo "build-kernel: $*" >&2; }

src=$("$here/fetch-kernel.sh")
key=$(basename "$src")-$(cat "$frag" "$0" | sha256sum | cut -c1-12)
out=$cache/build/$key

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
"${kmake[@]}" -s INSTALL_MOD_PATH="$out/modroot" INSTALL_MOD_STRIP=1 modules_install >&2
log "built in $((SECONDS - start)) s"
touch "$out/.built"
echo "$out"
