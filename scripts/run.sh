#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make run`: boots the guest kernel of KDIR, loads locustfs, mounts it at /mnt/locust, then
# runs the demo (or CMD, in /repo) and returns its status. With a terminal, the demo ends in a
# shell in the guest.
#
#   scripts/run.sh KDIR [CMD]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${1:?usage: scripts/run.sh KDIR [CMD]}
cmd=${2:-}
bzimage=$kdir/arch/x86/boot/bzImage
[ -f "$bzimage" ] || die "no kernel image at $bzimage"
[ -f "$LOCUSTFS_TOP/locustfs.ko" ] || die "locustfs.ko is not built (make modules)"

# What every run does first, in the guest.
prelude='insmod /repo/locustfs.ko || { echo "run: insmod locustfs.ko failed" >&2; exit 1; }
mkdir -p /mnt/locust
mount -t locustfs none /mnt/locust || { echo "run: mount -t locustfs failed" >&2; exit 1; }
echo "locustfs loaded and mounted at /mnt/locust"'

args=()
if [ -n "$cmd" ]; then
	script="$prelude
cd /repo && $cmd"
else
	script="$prelude
sh /repo/scripts/demo.sh"
	if [ -t 0 ] && [ -t 1 ]; then
		args+=(--interactive)
		info "the demo ends in a guest shell; /repo is this repository; 'exit' powers off"
	fi
fi
phase "booting the guest kernel of $(basename "$kdir")"
exec "$LOCUSTFS_TOP/qemu/run-qemu.sh" --kernel "$bzimage" "${args[@]}" -- "$script"
