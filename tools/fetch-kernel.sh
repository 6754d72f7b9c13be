#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch and unpack Debian's linux-source-7.N (N >= 3) from the trixie-backports
# suite, reusing the mirror URI already configured on this machine. The
# machine's own apt configuration is left untouched: a private sources list and
# private list directory are used.
#
# Usage: tools/fetch-kernel.sh            prints the path of the unpacked tree
#        tools/fetch-kernel.sh --no-download
#                                         prints the path the tree has or would have,
#                                         without refreshing existing package lists
#                                         and without downloading the source
#        tools/fetch-kernel.sh --mirror-uri
#                                         prints the Debian mirror URI configured here
# Env:   GSVM_CACHE     cache directory (default: /var/cache/gsvm)
#        GSVM_KVER      force a linux-source version, e.g. 7.3 (default: newest >= 7.3)

set -euo pipefail

mode=fetch
case "${1:-}" in
"") ;;
--no-download) mode=print ;;
--mirror-uri) mode=mirror ;;
*) echo "usage: $0 [--no-download | --mirror-uri]" >&2; exit 2 ;;
esac

cache=${GSVM_CACHE:-/var/cache/gsvm}
aptdir=$cache/apt
mkdir -p "$aptdir/lists/partial" "$aptdir/archives/partial"
# apt drops privileges to _apt for downloads; let it write there.
chmod 755 "$cache" "$aptdir" 2>/dev/null || true
chown -R _apt "$aptdir/archives" 2>/dev/null || true

log() { echo "fetch-kernel: $*" >&2; }

mirror_uri() {
	local f uri
	for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		# First URIs: line of a stanza whose Suites: name a Debian release.
		uri=$(awk '/^URIs:/ { u = $2 } /^Suites:/ && u != "" && $0 !~ /security/ { print u; exit }' "$f")
		[ -n "$uri" ] && { echo "$uri"; return; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		uri=$(awk '$1 == "deb" && $0 !~ /security/ && $0 ~ /debian/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f")
		[ -n "$uri" ] && { echo "$uri"; return; }
	done
	return 1
}

uri=$(mirror_uri) || { log "no Debian mirror URI configured on this machine"; exit 1; }
if [ "$mode" = mirror ]; then
	echo "$uri"
	exit 0
fi
echo "deb $uri trixie-backports main" > "$aptdir/sources.list"

aptopts=(-o "Dir::Etc::SourceList=$aptdir/sources.list"
	 -o Dir::Etc::SourceParts=/dev/null
	 -o "Dir::State::Lists=$aptdir/lists"
	 -o "Dir::Cache::Archives=$aptdir/archives"
	 -o APT::Get::List-Cleanup=0)

# Refresh the private lists once a day; --no-download only when there are none.
if [ "$mode" = print ]; then
	fresh=$(find "$aptdir/lists" -maxdepth 1 -name '*Packages*' 2>/dev/null)
else
	fresh=$(find "$aptdir/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null)
fi
if [ -z "$fresh" ]; then
	log "updating private package list (trixie-backports)"
	apt-get "${aptopts[@]}" update -qq >&2
fi

if [ -n "${GSVM_KVER:-}" ]; then
	pkg=linux-source-$GSVM_KVER
else
	pkg=$(apt-cache "${aptopts[@]}" pkgnames linux-source- |
	      grep -E '^linux-source-7\.[0-9]+$' |
	      awk -F. '$2 >= 3' | sort -t. -k2,2n | tail -n 1)
fi
[ -n "$pkg" ] || { log "no linux-source-7.N (N >= 3) offered by trixie-backports"; exit 1; }

ver=$(apt-cache "${aptopts[@]}" show "$pkg" | awk '/^Version:/ { print $2; exit }')
[ -n "$ver" ] || { log "$pkg not found"; exit 1; }
src=$cache/src/$pkg-$ver
if [ "$mode" = print ]; then
	echo "$src"
	exit 0
fi
if [ ! -f "$src/.unpacked" ]; then
	log "downloading $pkg $ver"
	rm -rf "$src" && mkdir -p "$src"
	(cd "$aptdir/archives" && apt-get "${aptopts[@]}" download -qq "$pkg=$ver" >&2)
	deb=$(find "$aptdir/archives" -maxdepth 1 -name "${pkg}_${ver#*:}_*.deb" | head -n 1)
	[ -n "$deb" ] || { log "download of $pkg $ver left no .deb"; exit 1; }
	log "unpacking $(basename "$deb")"
	tmp=$(mktemp -d "$cache/unpack.XXXXXX")
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards '*.tar.xz'
	tarball=$(find "$tmp" -name 'linux-source-*.tar.xz' | head -n 1)
	tar -xJf "$tarball" -C "$src" --strip-components=1
	rm -rf "$tmp"
	touch "$src/.unpacked"
fi
echo "$src"
