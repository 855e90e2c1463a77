#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make kunit`: locustfs's KUnit suites the kernel's way. Places the work tree's sources in the
# kernel tree (scripts/kernel.sh place; scripts/intree.sh puts .kunitconfig in fs/locustfs)
# and runs the kernel's KUnit runner there: kunit.py builds a User Mode Linux kernel with the
# options of fs/locustfs/.kunitconfig (locustfs and its suites built in), boots it and parses
# the suites' KTAP. The UML build is kept in the cache (the first one takes minutes of both
# cores; later ones rebuild what changed). `make check` runs it beside its guests.
#
#   scripts/kunit.sh [KUNIT.PY ARGUMENT...]   (take the machine's guest lock around it)
#
# Without arguments only locustfs's suites run (filter_glob 'locustfs*'; the kernel crate's own
# built-in suites would run too).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tree=$("$LOCUSTFS_TOP/scripts/kernel.sh" place)
build_dir=$LOCUSTFS_CACHE/kunit-um/$(basename "$tree")
mkdir -p "$build_dir"
cd "$tree"
phase "kunit.py run --arch=um --kunitconfig=fs/locustfs in $tree (build: $build_dir)"
exec python3 tools/testing/kunit/kunit.py run --arch=um --make_options "LLVM=$LLVM_SUFFIX" \
	--kunitconfig=fs/locustfs --build_dir="$build_dir" --jobs="$(nproc)" "${@:-locustfs*}"
