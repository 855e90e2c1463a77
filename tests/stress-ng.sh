#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Debian's stress-ng, filesystem class, against a locustfs instance: one stressor at a time
# with --temp-path on the instance and --klog-check. Both boot routes have stress-ng: the plain
# QEMU guest's initramfs carries it (qemu/initramfs.sh), the virtme-ng guest shares the host's.
# The filesystem-class stressors that do not work in a directory (bind-mount, binderfs,
# chattr, ioprio, procfs, verity) are left out.
#
# locustfs's semantics make some stressor operations fail (a file is gone once its last
# opener closes it; no links, symlinks or special files): a stressor that reports failure is
# expected and listed. A kernel report (the boot route scans the log), a hang (killed after
# STRESS_SECONDS + 60 s), a crash of stress-ng, or an instance that is not empty with its
# counters at 0 afterwards fails the run.
#
#   tests/stress-ng.sh    STRESS_SECONDS: seconds per stressor (default 2, or an equal share
#                         of SOAK_SECONDS when that is set)

. "$(dirname "$0")/lib.sh"

MNT=${TMPDIR:-/tmp}/locust-stress
STRESSORS="access chdir chmod chown copy-file dentry dir dirdeep dirmany dnotify dup eventfd
fallocate fanotify fcntl fiemap file-ioctl filename flock fpunch fsize fstat getdent handle hdd
inode-flags inotify io iomix lease link locka lockf lockofd mknod open rename symlink
sync-file touch utime xattr"
if [ -n "${STRESS_SECONDS:-}" ]; then
	SECS=$STRESS_SECONDS
elif [ -n "${SOAK_SECONDS:-}" ]; then
	SECS=$((SOAK_SECONDS / $(echo $STRESSORS | wc -w)))
	[ "$SECS" -ge 2 ] || SECS=2
else
	SECS=2
fi

echo "TAP version 13"
command -v stress-ng >/dev/null || { echo "1..0 # SKIP stress-ng not installed"; exit 0; }
step "module loaded" load_module
step "mount -t locustfs -o size=256m none $MNT" \
	eval 'mkdir -p $MNT && mount -t locustfs -o size=256m,max_files=100000 none $MNT'
for s in $STRESSORS; do
	tap_n=$((tap_n + 1))
	timeout -s KILL $((SECS + 60)) stress-ng --"$s" 1 --temp-path "$MNT" --timeout "${SECS}s" \
		--klog-check --quiet >/tmp/stress-ng-$s.log 2>&1
	rc=$?
	case $rc in
	0) echo "ok $tap_n - stress-ng --$s" ;;
	# 2: a stressor failed, 3: resources unavailable, 4: not implemented here.
	2 | 3 | 4) echo "ok $tap_n - stress-ng --$s # exit $rc: failed operations expected here" ;;
	*)
		echo "not ok $tap_n - stress-ng --$s: exit $rc (137: killed after a hang)"
		tail -n 5 /tmp/stress-ng-$s.log | sed 's/^/# /'
		tap_failed=$((tap_failed + 1))
		;;
	esac
done
step "no file outlived the stressors" eval '[ -z "$(find $MNT -type f)" ]'
step "umount $MNT" eval 'rm -rf $MNT/* && umount $MNT'
step "counters live_files, live_queues, bytes_in_use back to 0" live_counters_zero 10
tap_end
