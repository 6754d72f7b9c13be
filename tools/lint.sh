#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every static check of the project; any finding fails. One line
# "PASS|FAIL|SKIP lint/<check>" per check, the findings of a failed check
# below it, and a last line "N passed, N failed, N skipped".
#
#   lint/w1e          make M=. W=1e modules: extra warnings, as errors
#   lint/w1e-stock    the same against the kernel without patches/linux-7.3
#                     (STOCK_KDIR; skipped when it is not set)
#   lint/sparse       make M=. C=2: sparse on every file; any warning fails
#                     (a sparse that the kernel rejects fails too)
#   lint/checkpatch   scripts/checkpatch.pl --strict --no-tree -f, *.c *.h in
#                     drivers/ and include/
#   lint/kernel-doc   scripts/kernel-doc -none -Wall -Werror, same files
#   lint/uapi-c       each include/uapi header alone, as the kernel's own
#   lint/uapi-c++     header test does (-std=c90 / -std=c++98, -Werror,
#                     included twice, against the kernel's exported headers),
#                     plus usr/include/headers_check.pl
#   lint/igt-werror   igt-tests built with -Werror
#   lint/shellcheck   the scripts in tools/ and .ci/
#
# Builds go to temporary directories: the tree is left as it was.
# Env: KDIR (default: tools/build-kernel.sh --print-path), STOCK_KDIR (a
#      kernel tree without the series: tools/build-kernel.sh --unpatched's,
#      or the dkms tree make check passes), KSRC (kernel
#      source, default: $KDIR/source), GSVM_CACHE (exported headers cache).

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${GSVM_CACHE:-/var/cache/gsvm}
cd "$repo" || exit 2

KDIR=${KDIR:-$("$here/build-kernel.sh" --print-path)}
if [ -z "${KSRC:-}" ]; then
	if [ -e "$KDIR/source" ]; then KSRC=$(readlink -f "$KDIR/source"); else KSRC=$KDIR; fi
fi
[ -f "$KDIR/Makefile" ] || { echo "lint: no kernel build in KDIR=$KDIR (make kernel)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0 skipped=0

# check NAME LOG RC: report one check; on failure show its findings.
check() {
	if [ "$3" = 0 ]; then
		echo "PASS lint/$1"
		passed=$((passed + 1))
	else
		echo "FAIL lint/$1"
		sed 's/^/    /' "$2" | head -n 200
		failed=$((failed + 1))
	fi
}
skip() { echo "SKIP lint/$1 ($2)"; skipped=$((skipped + 1)); }

mapfile -t srcs < <(find drivers include -name '*.[ch]' ! -name '*.mod.c' ! -name '.*' 2>/dev/null | sort)
mapfile -t uapi < <(find include/uapi -name '*.h' 2>/dev/null | sort)

# Module builds run on a copy of the sources (the kernel refuses MO= while
# the tree holds objects of an earlier in-tree build); paths in the findings
# are given back relative to the repo.
copy_src() {
	mkdir -p "$1"
	rsync -a --prune-empty-dirs --include='*/' --exclude='*.mod.c' \
		--include='*.[ch]' --include=Kbuild --include=Makefile --exclude='*' \
		Kbuild drivers include "$1/"
}
kbuild() {	# kbuild NAME LOG ARGS...: build a copy, findings in LOG
	local name=$1 log=$2 rc=0
	shift 2
	copy_src "$tmp/$name"
	make -C "${KDIR:?}" M="$tmp/$name" "$@" modules >"$log.raw" 2>&1 || rc=$?
	sed "s|$tmp/$name/||g" "$log.raw" >"$log"
	return $rc
}

# W=1e build
rc=0
kbuild w1e "$tmp/w1e.log" W=1e || rc=$?
check w1e "$tmp/w1e.log" $rc

# The same against the stock kernel, whose drm_gpusvm has no two-pass ops
# (distro kernels): gsvm must build there too.
if [ -n "${STOCK_KDIR:-}" ]; then
	rc=0
	KDIR=$STOCK_KDIR kbuild w1e-stock "$tmp/w1e-stock.log" W=1e || rc=$?
	check w1e-stock "$tmp/w1e-stock.log" $rc
else
	skip w1e-stock "STOCK_KDIR not set (tools/build-kernel.sh --unpatched)"
fi

# sparse
if sparse=$("$here/get-sparse.sh" 2>"$tmp/sparse.log"); then
	rc=0
	kbuild sparse "$tmp/sparse-build.log" C=2 CHECK="$sparse" || rc=$?
	# Sparse findings, the kernel turning sparse off, or a failed build.
	grep -E ': (warning|error):|C=2 specified, but' "$tmp/sparse-build.log" >"$tmp/sparse.log" && rc=1
	[ $rc = 0 ] || [ -s "$tmp/sparse.log" ] || cp "$tmp/sparse-build.log" "$tmp/sparse.log"
	check sparse "$tmp/sparse.log" $rc
else
	check sparse "$tmp/sparse.log" 1
fi

# checkpatch and kernel-doc
if [ ${#srcs[@]} = 0 ]; then
	skip checkpatch "no .c/.h files yet"
	skip kernel-doc "no .c/.h files yet"
else
	rc=0
	"$KSRC/scripts/checkpatch.pl" --strict --no-tree --show-types --quiet -f "${srcs[@]}" \
		>"$tmp/checkpatch.log" 2>&1 || rc=$?
	check checkpatch "$tmp/checkpatch.log" $rc
	rc=0
	"$KSRC/scripts/kernel-doc" -none -Wall -Werror "${srcs[@]}" >"$tmp/kernel-doc.log" 2>&1 || rc=$?
	check kernel-doc "$tmp/kernel-doc.log" $rc
fi

# uAPI headers, compiled alone against the kernel's exported headers
if [ ${#uapi[@]} = 0 ]; then
	skip uapi-c "no include/uapi headers"
	skip uapi-c++ "no include/uapi headers"
else
	hdr=$cache/headers/$(basename "$KSRC")
	if [ ! -f "$hdr/.installed" ]; then
		rm -rf "$hdr"
		mkdir -p "$hdr"
		make -s -C "$KSRC" O="$hdr/build" ARCH=x86_64 INSTALL_HDR_PATH="$hdr" \
			headers_install >"$tmp/headers.log" 2>&1 &&
			rm -rf "$hdr/build" && touch "$hdr/.installed"
	fi
	if [ ! -f "$hdr/.installed" ]; then
		check uapi-c "$tmp/headers.log" 1
		check uapi-c++ "$tmp/headers.log" 1
	else
		inc=(-nostdinc -I "$hdr/include" -I "$hdr/include/drm")
		rcc=0 rcx=0
		: >"$tmp/uapi-c.log"
		: >"$tmp/uapi-cxx.log"
		for h in "${uapi[@]}"; do
			gcc -std=c90 -Wall -Wextra -Werror -fsyntax-only "${inc[@]}" \
				-x c /dev/null -include "$h" -include "$h" >>"$tmp/uapi-c.log" 2>&1 || rcc=1
			perl "$KSRC/usr/include/headers_check.pl" "$hdr/include" "$h" \
				>>"$tmp/uapi-c.log" 2>&1 || rcc=1
			gcc -std=c++98 -Wall -Wextra -Werror -fsyntax-only "${inc[@]}" \
				-x c++ /dev/null -include "$h" >>"$tmp/uapi-cxx.log" 2>&1 || rcx=1
		done
		check uapi-c "$tmp/uapi-c.log" $rcc
		check uapi-c++ "$tmp/uapi-cxx.log" $rcx
	fi
fi

# igt-tests with -Werror
if [ -f igt-tests/Makefile ]; then
	rc=0
	make -C igt-tests O="$tmp/igt" CC="gcc -Werror" >"$tmp/igt.log" 2>&1 || rc=$?
	check igt-werror "$tmp/igt.log" $rc
else
	skip igt-werror "no igt-tests/Makefile"
fi

# our shell scripts
if command -v shellcheck >/dev/null; then
	rc=0
	mapfile -t scripts < <(find tools .ci -maxdepth 1 -type f \( -name '*.sh' -o -name run \) | sort)
	shellcheck -x "${scripts[@]}" >"$tmp/shellcheck.log" 2>&1 || rc=$?
	check shellcheck "$tmp/shellcheck.log" $rc
else
	skip shellcheck "shellcheck not installed"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ $failed = 0 ]
