#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages the project needs (only the missing ones,
# non-interactively), then make sure a sparse that understands the 7.3
# kernel's headers is available (tools/get-sparse.sh).
#
# Usage: tools/install-deps.sh
# Needs root (or sudo) only when something is missing.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

log() { echo "install-deps: $*" >&2; }

pkgs=(
	# build: kernel and modules
	gcc g++ make bc bison flex libelf-dev libssl-dev cpio kmod xz-utils rsync
	ccache python3 perl
	# lint
	sparse shellcheck
	# tests and tools
	libdrm-dev pkg-config
	# test VM and observability
	qemu-system-x86 util-linux coreutils linux-perf trace-cmd
)

missing=()
for p in "${pkgs[@]}"; do
	[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] ||
		missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	sudo=()
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || { log "need root to install: ${missing[*]}"; exit 1; }
		sudo=(sudo)
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt=("${sudo[@]}" apt-get -y -q -o Dpkg::Use-Pty=0 --no-install-recommends)
	# Refresh the package lists only when one of the packages is unknown.
	for p in "${missing[@]}"; do
		if ! apt-cache show "$p" >/dev/null 2>&1; then
			log "package lists lack $p: running apt-get update"
			"${sudo[@]}" apt-get -q update >&2
			break
		fi
	done
	log "installing ${missing[*]}"
	if ! "${apt[@]}" install "${missing[@]}" </dev/null >&2; then
		log "install failed; retrying after apt-get update"
		"${sudo[@]}" apt-get -q update >&2
		"${apt[@]}" install "${missing[@]}" </dev/null >&2
	fi
fi

# Debian 12's sparse (0.6.4) lacks __typeof_unqual__, which 7.3 requires;
# get-sparse.sh builds a newer one from Debian's source package if needed.
"$here/get-sparse.sh" >/dev/null
