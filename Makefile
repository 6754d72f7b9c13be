# SPDX-License-Identifier: GPL-2.0
#
# Host-side entry points of the gsvm project. The modules themselves are
# described by ./Kbuild; everything else lives in tools/.
#
#   make [modules]   build gsvm.ko, simgpu.ko and the KUnit modules
#   make check       everything, from nothing: deps, kernel, modules, lint,
#                    IGT tests, a VM boot that runs every test; last line is
#                    "N passed, N failed, N skipped"
#   make bench       the production kernel (no debug options), then the
#                    benchmark in a VM with num_gpus=16: tables, CSV, SVG
#   make stress      on the debug kernel in a VM with 8 GPUs: 10 minutes of
#                    simgpu_stress, 100k fuzzed ioctls, a simgpu reload
#                    (GSVM_STRESS_SECONDS, GSVM_SEED: see tools/stress.sh)
#   make lint        W=1e build, sparse C=2, checkpatch, kernel-doc, uAPI
#                    header tests, igt-tests with -Werror; fails on any finding
#   make igt         build igt-tests/
#   make check-stock the tests of 'make check' on the kernel without the
#                    patch series (patches/linux-7.3)
#   make series      check the patch series: applies, checkpatch, W=1 builds,
#                    sparse against the pristine tree
#   make kernel      build (or reuse) the cached debug test kernel
#   make deps        install the Debian packages the project needs
#   make clean
#
# KDIR selects the kernel to build against. Default: the debug test kernel
# built by tools/build-kernel.sh under $(GSVM_CACHE)/build (built on demand).
# Any prepared 7.3+ tree or distro headers work for 'make modules', e.g.
#   make KDIR=/lib/modules/$(uname -r)/build
# 'make lint' also needs the kernel source (KSRC, default: $(KDIR)/source).

GSVM_CACHE ?= /var/cache/gsvm
export GSVM_CACHE

ifeq ($(origin KDIR),undefined)
# Computed on first use only, so targets that do not need it stay fast.
KDIR = $(eval KDIR := $$(shell $(CURDIR)/tools/build-kernel.sh --print-path))$(KDIR)
own-kdir := 1
endif

# Kernel source tree (checkpatch, kernel-doc, uAPI headers). An O= build
# directory has a 'source' link to it; a full tree is its own source.
KSRC ?= $(shell if [ -e "$(KDIR)/source" ]; then readlink -f "$(KDIR)/source"; \
		else echo "$(KDIR)"; fi)

# Build the default kernel first if it is not there yet.
define need-kdir
	@test -n "$(KDIR)" || { echo "KDIR is empty: tools/build-kernel.sh --print-path failed" >&2; exit 1; }
	$(if $(own-kdir),@test -f "$(KDIR)/.built" || $(CURDIR)/tools/build-kernel.sh >/dev/null)
endef

.PHONY: modules kernel clean lint igt check check-stock series bench stress deps help

modules:
	$(need-kdir)
	$(MAKE) -C "$(KDIR)" M="$(CURDIR)" modules

kernel:
	@$(CURDIR)/tools/build-kernel.sh

deps:
	@$(CURDIR)/tools/install-deps.sh

igt:
	@if [ -f igt-tests/Makefile ]; then $(MAKE) -C igt-tests; \
	else echo "igt: no igt-tests/Makefile yet, nothing to build"; fi

lint:
	$(need-kdir)
	@KDIR="$(KDIR)" KSRC="$(KSRC)" $(CURDIR)/tools/lint.sh

check:
	@$(CURDIR)/tools/check.sh

# The same tests on the kernel without patches/linux-7.3 (gsvm's fallbacks).
check-stock:
	@KDIR=$$($(CURDIR)/tools/build-kernel.sh --unpatched) && \
		KDIR=$$KDIR CHECK_LINT=0 CHECK_SERIES=0 $(CURDIR)/tools/check.sh

series:
	@$(CURDIR)/tools/check-series.sh

stress:
	@$(CURDIR)/tools/stress.sh

bench:
	@$(CURDIR)/tools/bench.sh

clean:
	@if [ -n "$(KDIR)" ] && [ -f "$(KDIR)/Makefile" ]; then \
		$(MAKE) -C "$(KDIR)" M="$(CURDIR)" clean; \
	else \
		find drivers \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
			-o -name '.*.cmd' -o -name '*.a' -o -name modules.order \) -delete 2>/dev/null; \
		rm -f Module.symvers modules.order; \
	fi
	@if [ -f igt-tests/Makefile ]; then $(MAKE) -C igt-tests clean; fi

help:
	@sed -n '3,27s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))
