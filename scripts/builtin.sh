#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make builtin`: locustfs built into the kernel. Builds the builtin flavour (the debug kernel
# with CONFIG_LOCUST_FS=y, its own cache key: a second full kernel build the first time),
# brings it up to date with the work tree's sources (scripts/kernel.sh intree: relinks vmlinux
# when they changed), boots it in the QEMU guest and runs tests/builtin.sh there: locustfs is
# registered with no module loaded, and mounts. Not part of `make check`.
#
#   scripts/builtin.sh    (take the machine's guest lock around it, as around any guest run)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$LOCUSTFS_TOP/scripts/kernel.sh" build builtin
"$LOCUSTFS_TOP/scripts/kernel.sh" intree builtin
kdir=$("$LOCUSTFS_TOP/scripts/kernel.sh" path builtin)
grep -qx 'CONFIG_LOCUST_FS=y' "$kdir/.config" || die "$kdir/.config does not build locustfs in"
phase "booting the built-in kernel"
exec "$LOCUSTFS_TOP/qemu/run-qemu.sh" --kernel "$kdir/arch/x86/boot/bzImage" --timeout 600 -- \
	'sh tests/builtin.sh'
