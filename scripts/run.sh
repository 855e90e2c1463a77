#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make run`: boots the guest kernel of KDIR, loads locustfs, mounts it at /mnt/locust, then
# runs the demo (or CMD, in /repo) and returns its status. With a terminal, the demo ends in a
# shell in the guest.
#
#   scripts/run.sh KDIR [CMD]
#
# Environment (how `make run` passes CMD and TIMEOUT, untouched by any shell on the way):
#   LOCUSTFS_RUN_CMD       the command, when no CMD argument is given
#   LOCUSTFS_RUN_TIMEOUT   seconds after which the guest is stopped, 0 for no limit (default:
#                          qemu/run-qemu.sh's, 600 s; none for the interactive demo)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${1:?usage: scripts/run.sh KDIR [CMD]}
cmd=${2-${LOCUSTFS_RUN_CMD:-}}
timeout=${LOCUSTFS_RUN_TIMEOUT:-}
[[ -z $timeout || $timeout =~ ^[0-9]+$ ]] ||
	die "TIMEOUT must be a whole number of seconds (0: no limit), not '$timeout'"
bzimage=$kdir/arch/x86/boot/bzImage
[ -f "$bzimage" ] || die "no kernel image at $bzimage"
[ -f "$LOCUSTFS_TOP/locustfs.ko" ] || die "locustfs.ko is not built (make modules)"

# What every run does first, in the guest.
prelude='insmod /repo/locustfs.ko || { echo "run: insmod locustfs.ko failed" >&2; exit 1; }
mkdir -p /mnt/locust
mount -t locustfs none /mnt/locust || { echo "run: mount -t locustfs failed" >&2; exit 1; }
echo "locustfs loaded and mounted at /mnt/locust"'

args=()
[ -z "$timeout" ] || args+=(--timeout "$timeout")
if [ -n "$cmd" ]; then
	script="$prelude
cd /repo || exit 1
$cmd"
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
