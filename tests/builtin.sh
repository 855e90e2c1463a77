#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In a guest running a kernel with locustfs built in (CONFIG_LOCUST_FS=y, `make builtin`):
# locustfs is registered at boot with no module loaded and the kernel untainted, and an
# instance mounts and works: a file is created, written, read back and gone at last close, the
# counters go back to 0, and it unmounts. Prints TAP; exits 0 when every step passed.
#
#   tests/builtin.sh      (in the guest, busybox sh)

. "$(dirname "$0")/lib.sh"

MNT=/tmp/locust-builtin

echo "TAP version 13"
step "locustfs is registered: $(grep -w locustfs /proc/filesystems | tr '\t' ' ')" \
	eval 'grep -qw locustfs /proc/filesystems'
step "no locustfs module is loaded" eval '! grep -q "^locustfs " /proc/modules'
step "the kernel is not tainted ($(cat /proc/sys/kernel/tainted))" \
	eval '[ "$(cat /proc/sys/kernel/tainted)" = 0 ]'
step "counters in $COUNTERS" debugfs_ready
step "mount -t locustfs none $MNT" eval 'mkdir -p $MNT && mount -t locustfs none $MNT'
step "listed in /proc/mounts" eval 'locust_mounts | grep -qx $MNT'
step "open(O_CREAT), write, read back by name" \
	eval 'command exec 3<>$MNT/hello && echo hello >&3 && [ "$(cat $MNT/hello)" = hello ]'
step "live_files is 1" eval '[ "$(counter live_files)" = 1 ]'
step "last close removes it" eval 'exec 3>&- && [ ! -e $MNT/hello ]'
step "live counters back to 0" live_counters_zero
step "umount $MNT" umount $MNT
tap_end
