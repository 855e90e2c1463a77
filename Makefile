# SPDX-License-Identifier: GPL-2.0
#
# locustfs: build the module, boot it in a QEMU guest, test and benchmark it.
#
#   make run [CMD='...'] [TIMEOUT=S]  boot the debug kernel, load + mount locustfs, run a demo
#                          or CMD; the guest is stopped after S seconds (default 600)
#   make check             the whole test suite in the guest; ends with "N passed, N failed, N skipped"
#                          (FORCE=1: the negative controls run even when their verdict is cached)
#   make controls          the negative controls, run whether or not their verdict is cached
#   make test T=NAME       one suite program (tests/build/NAME or tests/NAME.sh) in a debug guest
#                          (CASES='FIXTURE.TEST ...': only those cases of a C program)
#   make modules           build locustfs.ko against $(KDIR) (out of tree, M=); with the cached
#                          kernel also in its tree as fs/locustfs (=m: tests/build/intree/)
#   make builtin           boot a kernel with locustfs built in (=y: a second kernel build)
#   make kunit             the KUnit suites through the kernel's kunit.py (a User Mode Linux build)
#   make fmt | lint        rustfmt check | every upstream gate (scripts/lint.sh: rustfmt,
#                          CLIPPY=1 and W=1, rustdoc, checkpatch --strict on the series)
#   make patches           the patch series against Linux 7.3 in build/patches/, checked to
#                          apply with git am and give what scripts/intree.sh places
#   make rust-analyzer     write rust-project.json for editors
#   make mutants           build each tests/mutants/*.patch and check the suite catches it
#                          (NAMES='a b': only those; AGAINST=PROGRAM: PROGRAM must catch each
#                          the way its "# expect-PROGRAM:" lines say, e.g. readiness_oracle)
#   make soak DURATION=S   the stress programs for S seconds (default 1800)
#   make bench [QUICK=1]   benchmarks on the perf kernel; results in bench/results, docs
#   make bench PROFILE=1   only the function profiles of the wake-up paths (bench/results)
#   make clean
#
# KDIR=/path/to/linux builds against your own Rust-enabled kernel tree (built with the same
# LLVM) instead of the cached debug kernel that `make run` fetches and builds.

LLVM ?= -19
KFLAVOUR ?= debug
SHELL := /bin/bash

ifeq ($(KDIR),)
KDIR_IS_OURS := 1
# Evaluated on use only: it may fetch the kernel source.
KDIR = $(shell scripts/kernel.sh path $(KFLAVOUR))
endif

# The source tree of $(KDIR) (which may be an O= build directory).
KSRC = $(shell sed -n 's/^include \(.*\)\/Makefile$$/\1/p' $(KDIR)/Makefile 2>/dev/null | head -1 | \
	grep . || echo $(KDIR))
KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=$(LLVM)

.PHONY: all setup kernel modules builtin kunit tests run check controls test fmt lint patches \
	rust-analyzer mutants soak bench clean

all: modules

setup:
	@scripts/setup.sh

kernel: setup
ifdef KDIR_IS_OURS
	@scripts/kernel.sh build $(KFLAVOUR)
endif

# The cached kernel's tree has locustfs placed in it as fs/locustfs (scripts/intree.sh): the
# in-tree modules are rebuilt there too (only they: a source change never rebuilds the kernel).
modules: kernel
	@echo "==> building locustfs.ko against $(KDIR)"
	@$(KMAKE) modules
ifdef KDIR_IS_OURS
	@echo "==> building fs/locustfs in the kernel tree"
	@scripts/kernel.sh intree $(KFLAVOUR)
endif

# locustfs built into the kernel (CONFIG_LOCUST_FS=y): boots it and mounts an instance.
builtin: setup
	@scripts/builtin.sh

# The KUnit suites the kernel's way: tools/testing/kunit/kunit.py in the kernel tree.
kunit: setup
	@scripts/kunit.sh

tests: kernel
	@$(MAKE) -s -C tests KSRC="$(KSRC)"
	@scripts/ksft-install.sh "$(KSRC)"
	@scripts/cookbook-build.sh

# CMD and TIMEOUT reach scripts/run.sh through the environment, as they were typed: the shell
# running the recipe never parses them, so CMD may hold any quotes, and make does not expand
# the `$` in them either.
run: export LOCUSTFS_RUN_CMD := $(value CMD)
run: export LOCUSTFS_RUN_TIMEOUT := $(value TIMEOUT)
run: modules tests
	@scripts/run.sh "$(KDIR)"

check: modules tests
	@scripts/check.sh "$(KDIR)"

controls: modules
	@scripts/controls.sh --force "$(KDIR)"

# One suite program (or several: T='poll data') in a booted debug guest, with the suite's
# post-run checks: the inner loop.
test: export LOCUSTFS_TEST_PROGRAMS := $(value T)
test: export LOCUSTFS_TEST_CASES := $(value CASES)
test: modules tests
	@test -n "$$LOCUSTFS_TEST_PROGRAMS" || { echo "usage: make test T=PROGRAM" >&2; exit 2; }
	@qemu/run-qemu.sh --kernel "$(KDIR)/arch/x86/boot/bzImage" --timeout 900 -- \
		"CASES='$$LOCUSTFS_TEST_CASES' sh tests/run-suite.sh $$LOCUSTFS_TEST_PROGRAMS"

mutants: modules tests
	@scripts/mutants.sh $(if $(AGAINST),--against $(AGAINST)) "$(KDIR)" $(or $(NAMES),all)

soak: modules tests
	@scripts/soak.sh "$(KDIR)" "$(or $(DURATION),1800)"

# Benchmarks boot the perf kernel, built on first use (the module is rebuilt against it).
bench: setup
	@scripts/bench.sh $(if $(QUICK),--quick) $(if $(PROFILE),--profile)

fmt: kernel
	@scripts/lint.sh "$(KDIR)" fmt

lint: kernel
	@scripts/lint.sh "$(KDIR)"

patches: kernel
	@scripts/patches.sh write "$(KSRC)"
	@scripts/patches.sh verify "$(KSRC)"

# The module is built first: its crate includes the bindings generated at build time.
rust-analyzer: modules
	@$(KMAKE) rust-analyzer
	@scripts/rust-analyzer.py rust-project.json src/locustfs.rs

clean:
	@if [ -d "$(KDIR)" ]; then $(KMAKE) clean; fi
	@$(MAKE) -s -C tests clean
	@rm -f rust-project.json
