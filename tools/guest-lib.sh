# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers for scripts that run inside the test VM (tools/run-tests.sh,
# tools/guest-bench.sh). Source it; it defines functions only.
#
# Modules of this project are loaded from the repo (drivers/**/*.ko) with
# insmod; their dependencies outside the repo (drm_gpusvm_helper, drm_exec,
# ...) come from the test kernel's module tree through modprobe.

# Path of the .ko of one of our modules, by module name (- and _ alike).
gsvm_ko_path() {
	local want=${1//-/_} ko base
	for ko in "$GSVM_REPO"/drivers/*.ko "$GSVM_REPO"/drivers/*/*.ko \
		  "$GSVM_REPO"/drivers/*/*/*.ko; do
		[ -f "$ko" ] || continue
		base=$(basename "$ko" .ko)
		[ "${base//-/_}" = "$want" ] && { echo "$ko"; return 0; }
	done
	return 1
}

gsvm_mod_loaded() { [ -d "/sys/module/${1//-/_}" ]; }

# gsvm_load KO [PARAM=VALUE...]: load KO after its dependencies; ours by
# insmod, the kernel's by modprobe. Messages on stderr.
gsvm_load() {
	local ko=$1 dep deps name
	shift
	name=$(basename "$ko" .ko)
	name=${name//-/_}
	gsvm_mod_loaded "$name" && return 0
	deps=$(modinfo -F depends "$ko" 2>/dev/null) || {
		echo "cannot read module info of $ko" >&2
		return 1
	}
	for dep in ${deps//,/ }; do
		gsvm_mod_loaded "$dep" && continue
		local ours
		if ours=$(gsvm_ko_path "$dep"); then
			gsvm_load "$ours" || return 1
		else
			modprobe "$dep" || { echo "modprobe $dep (needed by $name) failed" >&2; return 1; }
		fi
	done
	insmod "$ko" "$@"
}

# gsvm_unload NAME: remove a module, retrying briefly (deferred releases).
gsvm_unload() {
	local name=${1//-/_} i
	gsvm_mod_loaded "$name" || return 0
	for i in 1 2 3 4 5; do
		rmmod "$name" 2>/dev/null && return 0
		sleep "$i"
	done
	rmmod "$name"
}

# A line in the kernel log, so that a splat can be tied to what ran.
gsvm_mark() { echo "gsvm-run-tests: $*" >/dev/kmsg 2>/dev/null || true; }
