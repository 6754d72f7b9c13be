#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Checks of the kernel patch series in patches/linux-7.3, as a maintainer
# would run them before applying it. One line "PASS|FAIL|SKIP series/<check>"
# per check, findings below a failed one, and a last line
# "N passed, N failed, N skipped".
#
#   series/apply            every patch applies, in 'series' order, to the
#                           pristine linux-source tree with no fuzz and no
#                           offset
#   series/checkpatch/<p>   scripts/checkpatch.pl --strict on the patch file,
#                           run from the kernel tree, and run from this repo
#                           too, where checkpatch takes a git-tracked file
#                           for a source file (so a patch must not carry
#                           trailing blanks, such as the " " of empty context
#                           lines or the "-- " signature)
#   series/build/<p>        with the series applied up to and including <p>
#                           (bisectability): a W=1 build of every .c file the
#                           series has touched so far, where any warning fails,
#                           and a build with the test kernel's flags of every
#                           object of the test kernel that depends on a header
#                           the series has touched so far, under include/ or
#                           a driver's own (from the .cmd dependency files of
#                           tools/build-kernel.sh's build). A test file that
#                           is #included by the file it tests (Xe's tests/*.c)
#                           is built as that file's object.
#   series/sparse           sparse (C=2) on the objects of every .c file the
#                           series touches, on the pristine tree and on the
#                           patched one: any warning the series adds fails
#                           (stock Xe is not sparse-clean, so the pristine
#                           findings, compared without line numbers, are the
#                           baseline)
#
# The builds use the test kernel's configuration (tools/build-kernel.sh) and
# ccache, in $GSVM_CACHE/series-check/.
# Env: GSVM_CACHE, GSVM_PATCHES (default: patches/linux-7.3), JOBS.

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${GSVM_CACHE:-/var/cache/gsvm}
patches=${GSVM_PATCHES:-$repo/patches/linux-7.3}
jobs=${JOBS:-$(nproc)}
passed=0 failed=0 skipped=0

pass() { echo "PASS series/$1"; passed=$((passed + 1)); }
fail() {
	echo "FAIL series/$1"
	[ -n "${2:-}" ] && sed 's/^/    /' "$2" | head -n 100
	failed=$((failed + 1))
}
skip() { echo "SKIP series/$1 ($2)"; skipped=$((skipped + 1)); }
finish() {
	echo "$passed passed, $failed failed, $skipped skipped"
	[ $failed = 0 ]
	exit
}

if [ ! -f "$patches/series" ]; then
	skip all "no $patches/series"
	finish
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$("$here/fetch-kernel.sh" 2>"$tmp/kernel.log") || { fail fetch-kernel "$tmp/kernel.log"; finish; }
kdir=$("$here/build-kernel.sh" 2>"$tmp/kernel.log") || { fail build-kernel "$tmp/kernel.log"; finish; }

series=()
while read -r p _; do
	case "$p" in ""|"#"*) continue ;; esac
	series+=("$p")
done < "$patches/series"

work=$cache/series-check
mkdir -p "$work"
exec 9>"$work/.lock"
flock 9

# Apply: a fresh link tree, each patch with --fuzz=0; patch(1) reports an
# offset or fuzz on stdout, which counts as not applying cleanly.
rm -rf "$work/linux" "$work/obj"
cp -al "$src" "$work/linux"
rm -f "$work/linux/.unpacked"
apply_ok=1
: >"$tmp/apply.log"
for p in "${series[@]}"; do
	if ! patch -d "$work/linux" -p1 --fuzz=0 --no-backup-if-mismatch --dry-run \
		<"$patches/$p" >"$tmp/one.log" 2>&1 ||
	   grep -qiE 'offset|fuzz|hunk' "$tmp/one.log"; then
		{ echo "$p:"; cat "$tmp/one.log"; } >>"$tmp/apply.log"
		apply_ok=0
		break
	fi
	patch -d "$work/linux" -p1 --fuzz=0 --no-backup-if-mismatch -s <"$patches/$p"
done
if [ $apply_ok = 1 ]; then pass apply; else fail apply "$tmp/apply.log"; finish; fi

# checkpatch on each patch file, from the patched tree (its spelling and
# const_structs lists), and from the repo, as a reviewer may run it. The
# one check left out is UNKNOWN_COMMIT_ID: Debian's linux-source has no git
# history, so checkpatch cannot look up the commit of a Fixes: tag there
# (it would flag every one); the ids are checked against the upstream
# history by hand (docs/patches.rst).
#
# FILE_PATH_CHANGES ("added, moved or deleted file(s), does MAINTAINERS need
# updating?") is asked of every patch that adds a file; it is answered rather
# than ignored: it passes only if each file the patch adds already has a
# MAINTAINERS section of its own (get_maintainer.pl, in the patched tree,
# names one besides THE REST), as a new test file in drivers/gpu/drm/xe/ has.
cp_opts=(--strict --quiet --ignore UNKNOWN_COMMIT_ID)
checkpatch() {	# checkpatch PATCH [OPTION...]: from the tree and from the repo
	local p=$1
	shift
	(cd "$work/linux" && scripts/checkpatch.pl "${cp_opts[@]}" "$@" "$patches/$p") \
		>"$tmp/cp.log" 2>&1 &&
	(cd "$repo" && "$work/linux/scripts/checkpatch.pl" "${cp_opts[@]}" "$@" "$patches/$p") \
		>>"$tmp/cp.log" 2>&1
}
# maintained PATCH: every file PATCH adds has a MAINTAINERS section.
maintained() {
	local f sect
	while read -r f; do
		sect=$(cd "$work/linux" && scripts/get_maintainer.pl --no-git --no-git-fallback \
		       --subsystem --no-email --no-l --no-r -f "$f" 2>/dev/null | head -n 1)
		if [ -z "$sect" ] || [ "$sect" = "THE REST" ]; then
			echo "$f: no MAINTAINERS section covers it" >>"$tmp/cp.log"
			return 1
		fi
	done < <(awk '/^diff --git /{f=$4; sub(/^b\//, "", f)} /^new file mode/{print f}' "$patches/$1")
}
for p in "${series[@]}"; do
	if checkpatch "$p"; then
		pass "checkpatch/$p"
	elif cp "$tmp/cp.log" "$tmp/cp-full.log" &&
	     checkpatch "$p" --ignore FILE_PATH_CHANGES && maintained "$p"; then
		pass "checkpatch/$p (its new files are already in MAINTAINERS)"
	else
		cat "$tmp/cp-full.log" >>"$tmp/cp.log"
		fail "checkpatch/$p" "$tmp/cp.log"
	fi
done

# Bisectability: rebuild the tree patch by patch.
rm -rf "$work/linux"
cp -al "$src" "$work/linux"
rm -f "$work/linux/.unpacked"
mkdir -p "$work/obj"
export CCACHE_DIR=${CCACHE_DIR:-$cache/ccache}
export CCACHE_BASEDIR=$work
export CCACHE_NOHASHDIR=1
kmake=(make -C "$work/linux" O="$work/obj" ARCH=x86_64 CC="ccache gcc" HOSTCC="ccache gcc"
       -j"$jobs")

# obj_of FILE.c: the object FILE.c is compiled into: its own, or, for a test
# file #included at the end of the file it tests, that file's.
obj_of() {
	local f=$1 dir inc
	dir=$(dirname "$f")
	if [ "$(basename "$dir")" = tests ]; then
		inc=$(grep -lF "#include \"tests/$(basename "$f")\"" \
		      "$work/linux/$(dirname "$dir")"/*.c 2>/dev/null | head -n 1)
		if [ -n "$inc" ]; then
			inc=${inc#"$work/linux/"}
			echo "${inc%.c}.o"
			return
		fi
	fi
	echo "${f%.c}.o"
}

# sparse_run OUT OBJ...: sparse findings on OBJ, without line numbers.
sparse_run() {
	local out=$1
	shift
	"${kmake[@]}" C=2 CHECK="$sparse" "$@" >"$tmp/sparse-build.log" 2>&1 || return 1
	grep -q 'C=2 specified, but' "$tmp/sparse-build.log" && return 1
	{ grep -E ': (warning|error):' "$tmp/sparse-build.log" || true; } |
		sed -E 's/^([^:]+):[0-9]+:[0-9]+: /\1: /' | sort -u >"$out"
}

# Sparse baseline: the pristine tree's findings on what the series touches.
sparse=$("$here/get-sparse.sh" 2>"$tmp/sparse.log") || sparse=
sparse_objs=()
if [ -n "$sparse" ]; then
	cp "$kdir/.config" "$work/obj/.config"
	"${kmake[@]}" -s olddefconfig prepare >"$tmp/sparse-build.log" 2>&1 || sparse=
	while read -r f; do
		[ -f "$work/linux/$f" ] && sparse_objs+=("$(obj_of "$f")")
	done < <(sed -n 's@^+++ b/\(.*\.c\)$@\1@p' "${series[@]/#/$patches/}" | sort -u)
	mapfile -t sparse_objs < <(printf '%s\n' "${sparse_objs[@]}" | sort -u)
	if [ -n "$sparse" ] && [ ${#sparse_objs[@]} -gt 0 ]; then
		sparse_run "$tmp/sparse-base.txt" "${sparse_objs[@]}" || sparse=
	fi
	[ -n "$sparse" ] || cp "$tmp/sparse-build.log" "$tmp/sparse.log"
fi

touched=() headers=()
for p in "${series[@]}"; do
	patch -d "$work/linux" -p1 --fuzz=0 --no-backup-if-mismatch -s <"$patches/$p"
	while read -r f; do
		case "$f" in
		*.c) touched+=("$f") ;;
		*.h) headers+=("$f") ;;
		esac
	done < <(sed -n 's@^+++ b/@@p' "$patches/$p")
	cp "$kdir/.config" "$work/obj/.config"
	if ! "${kmake[@]}" -s olddefconfig >"$tmp/build.log" 2>&1 ||
	   ! "${kmake[@]}" -s prepare >>"$tmp/build.log" 2>&1; then
		fail "build/$p" "$tmp/build.log"
		continue
	fi
	w1=()
	for f in $(printf '%s\n' "${touched[@]}" | sort -u); do
		[ -f "$work/linux/$f" ] && w1+=("$(obj_of "$f")")
	done
	mapfile -t w1 < <(printf '%s\n' "${w1[@]}" | sort -u | sed '/^$/d')
	# Objects of the test kernel that depend on a touched header.
	deps=()
	if [ ${#headers[@]} -gt 0 ]; then
		pat=$(printf '%s\n' "${headers[@]}" | sort -u)
		while read -r cmd; do
			o=${cmd#"$kdir"/}
			o=$(dirname "$o")/$(basename "$o" .cmd)
			o=${o/\/./\/}
			[ -f "$work/linux/${o%.o}.c" ] && deps+=("$o")
		done < <(find "$kdir" -name '.*.o.cmd' ! -name '*.mod.o.cmd' -print0 |
			 xargs -0 grep -lF "$pat" 2>/dev/null)
	fi
	rc=0
	: >"$tmp/build.log"
	if [ ${#w1[@]} -gt 0 ]; then
		"${kmake[@]}" W=1 "${w1[@]}" >>"$tmp/build.log" 2>&1 || rc=1
	fi
	if [ ${#deps[@]} -gt 0 ]; then
		"${kmake[@]}" "${deps[@]}" >>"$tmp/build.log" 2>&1 || rc=1
	fi
	grep -E 'warning:|error:' "$tmp/build.log" >"$tmp/warn.log" && rc=1
	if [ $rc = 0 ]; then
		pass "build/$p (${#w1[@]} files at W=1, ${#deps[@]} dependent objects)"
	else
		[ -s "$tmp/warn.log" ] || tail -n 40 "$tmp/build.log" >"$tmp/warn.log"
		fail "build/$p" "$tmp/warn.log"
	fi
done

# Sparse on the whole series: every object the series touches, now with
# the touched files and the new ones.
if [ -z "$sparse" ]; then
	fail sparse "$tmp/sparse.log"
else
	sparse_objs=()
	for f in $(printf '%s\n' "${touched[@]}" | sort -u); do
		[ -f "$work/linux/$f" ] && sparse_objs+=("$(obj_of "$f")")
	done
	mapfile -t sparse_objs < <(printf '%s\n' "${sparse_objs[@]}" | sort -u)
	if ! sparse_run "$tmp/sparse-new.txt" "${sparse_objs[@]}"; then
		fail sparse "$tmp/sparse-build.log"
	elif comm -13 "$tmp/sparse-base.txt" "$tmp/sparse-new.txt" >"$tmp/sparse-added.txt" &&
	     [ -s "$tmp/sparse-added.txt" ]; then
		fail sparse "$tmp/sparse-added.txt"
	else
		pass "sparse (${#sparse_objs[@]} objects, $(wc -l <"$tmp/sparse-base.txt") findings before the series, none added)"
	fi
fi

finish
