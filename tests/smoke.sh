#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Smoke test of locustfs, run inside the guest (busybox sh): loads the module, mounts an
# instance on /mnt/locust, creates a file and writes it, sees it, closes it and sees it gone,
# checks the counters are back to 0, unmounts and unloads the module. Prints TAP; exits 0
# when every step passed.
#
#   tests/smoke.sh        (REPO: the repository, default this script's; module $REPO/locustfs.ko)

. "$(dirname "$0")/lib.sh"

# Under /tmp: the virtme-ng route shares the host root read-only.
MNT=/tmp/locust-smoke

file_is() { # file_is PATH CONTENT
	[ "$(cat "$1" 2>/dev/null)" = "$2" ]
}

echo "TAP version 13"
step "module loaded ($KO)" load_module
step "counters in $COUNTERS" debugfs_ready
step "mount -t locustfs none $MNT" eval 'mkdir -p $MNT && mount -t locustfs none $MNT'
step "listed in /proc/mounts" eval 'locust_mounts | grep -qx $MNT'
step "open(O_CREAT) creates a file" eval 'command exec 3<>$MNT/hello && [ -f $MNT/hello ]'
step "write it, read it back by name" eval 'echo hello >&3 && file_is $MNT/hello hello'
step "it is listed" eval 'ls $MNT | grep -qx hello'
step "live_files is 1" eval '[ "$(counter live_files)" = 1 ]'
step "bytes_in_use is one page" eval '[ "$(counter bytes_in_use)" = 4096 ]'
step "last close removes it" eval 'exec 3>&- && [ ! -e $MNT/hello ]'
step "a file written by a shell redirection is gone after it" \
	eval 'echo once >$MNT/once && [ ! -e $MNT/once ] && [ -z "$(ls $MNT)" ]'
step "live counters back to 0" live_counters_zero
step "umount $MNT" umount $MNT
step "rmmod locustfs" eval 'rmmod locustfs && ! module_loaded'
tap_end
