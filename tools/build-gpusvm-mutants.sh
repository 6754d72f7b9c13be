#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build one drm_gpusvm_helper.ko per mutant in tools/gpusvm-mutants/: the
# patched drivers/gpu/drm/drm_gpusvm.c of KDIR's source tree with one bug
# put back in (each *.diff), built as an external module against KDIR. In
# the VM, tools/run-tests.sh loads each in place of the real helper and runs
# the drm_gpusvm KUnit suite: the cases named on the mutant's "# expect:"
# lines must fail with the message given there (the self-check of the
# suite, as selfcheck.list is for the IGT tests).
#
# Usage: tools/build-gpusvm-mutants.sh     prints the folder of the modules
#                                          (<folder>/<mutant>/drm_gpusvm_helper.ko)
# Env:   KDIR (default: tools/build-kernel.sh --print-path), GSVM_CACHE

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${GSVM_CACHE:-/var/cache/gsvm}
kdir=${KDIR:-$("$here/build-kernel.sh" --print-path)}
src=$(readlink -f "$kdir/source")
drm=$src/drivers/gpu/drm

log() { echo "build-gpusvm-mutants: $*" >&2; }

if ! grep -q invalidate_start "$src/include/drm/drm_gpusvm.h"; then
	log "the kernel in $kdir has no two-pass drm_gpusvm (no patch series): nothing to mutate"
	exit 1
fi

out=$cache/gpusvm-mutants/$(basename "$(dirname "$kdir")")
rm -rf "$out"
mkdir -p "$out"
for diff in "$here"/gpusvm-mutants/*.diff; do
	name=$(basename "$diff" .diff)
	dir=$out/$name
	mkdir -p "$dir"
	cp "$drm"/drm_gpusvm.c "$drm"/drm_pagemap.c "$drm"/drm_pagemap_util.c "$dir/"
	patch -d "$dir" -p4 --fuzz=0 --no-backup-if-mismatch -s <"$diff" ||
		{ log "$name does not apply to $drm/drm_gpusvm.c"; exit 1; }
	cat >"$dir/Kbuild" <<'EOF'
obj-m += drm_gpusvm_helper.o
drm_gpusvm_helper-y := drm_gpusvm.o
drm_gpusvm_helper-$(CONFIG_ZONE_DEVICE) += drm_pagemap.o drm_pagemap_util.o
EOF
	sed -n 's/^# expect: //p' "$diff" >"$dir/expect"
	[ -s "$dir/expect" ] || { log "$name has no '# expect:' line"; exit 1; }
	make -s -C "$kdir" M="$dir" modules >"$dir/build.log" 2>&1 ||
		{ log "$name does not build:"; cat "$dir/build.log" >&2; exit 1; }
	log "built $name"
done
echo "$out"
