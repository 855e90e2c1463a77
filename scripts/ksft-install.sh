#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Places the tests in the kernel tree as the kselftest target filesystems/locustfs and
# installs them with the kernel's own selftests build (tools/testing/selftests/Makefile,
# lib.mk) into tests/build/kselftest, where the guest's suite runs them through the kernel's
# runner (run_kselftest.sh).
#
#   scripts/ksft-install.sh KSRC
#
# KSRC is the kernel source tree (the pristine one scripts/kernel.sh unpacks). Only
# tools/testing/selftests/filesystems/locustfs is written there (the kselftest files of tests/,
# SELFTEST_FILES, refreshed each time as scripts/intree.sh places them); objects go to an O=
# directory in the cache, one per repository checkout (another checkout's copy of the sources
# may be older than this one's objects). Idempotent and quick when nothing changed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ksrc=${1:?usage: scripts/ksft-install.sh KSRC}
selftests=$ksrc/tools/testing/selftests
[ -f "$selftests/lib.mk" ] && [ -x "$selftests/run_kselftest.sh" ] ||
	die "ksft-install: $selftests is not a kselftest tree"
target=$selftests/filesystems/locustfs
install_dir=$LOCUSTFS_TOP/tests/build/kselftest

sync_files "$LOCUSTFS_TOP/tests" "$target" "${SELFTEST_FILES[@]}"
# The programs run in a busybox guest: static, as tests/Makefile links them standalone.
build_dir=$LOCUSTFS_CACHE/ksft-build/$(printf '%s' "$LOCUSTFS_TOP" | sha256sum | cut -c1-12)
make -s -C "$selftests" TARGETS=filesystems/locustfs O="$build_dir" \
	KSFT_INSTALL_PATH="$install_dir" install >"$LOCUSTFS_LOGS/ksft-install.log" 2>&1 || {
	tail -n 30 "$LOCUSTFS_LOGS/ksft-install.log" >&2
	die "ksft-install: the kselftest build failed (see $LOCUSTFS_LOGS/ksft-install.log)"
}
[ -x "$install_dir/run_kselftest.sh" ] && grep -q '^filesystems/locustfs:' \
	"$install_dir/kselftest-list.txt" || die "ksft-install: nothing installed in $install_dir"
