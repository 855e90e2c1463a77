#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Module checks, run inside the guest (busybox sh) by run-suite.sh: the counters read as
# decimal numbers and are 0 with no file; rmmod fails (module busy) while an instance is
# mounted and while a lazily unmounted instance still has an open file, and works once it is
# unmounted or the file closed; an unloaded module's type can no longer be mounted; a second
# insmod is refused. Leaves the module loaded. Prints TAP; exits 0 when every step passed.
#
#   tests/module.sh       (REPO: the repository, default this script's; module $REPO/locustfs.ko)

. "$(dirname "$0")/lib.sh"

MNT=$(mktemp -d /tmp/locustfs-module.XXXXXX)

# rmmod_refused: rmmod fails and the module stays (the kernel says EWOULDBLOCK for a module in
# use, which rmmod reports as busy or "temporarily unavailable").
rmmod_refused() {
	! rmmod locustfs 2>/dev/null && module_loaded &&
		[ "$(cat /sys/module/locustfs/refcnt)" -gt 0 ]
}

rmmod_works() {
	rmmod locustfs && ! module_loaded
}

echo "TAP version 13"
step "module loaded ($KO)" load_module
step "counters in $COUNTERS read as decimal numbers" eval 'debugfs_ready && counters_decimal'
step "live counters are 0 with no file" live_counters_zero
step "a second insmod is refused" eval '! insmod "$KO" 2>/dev/null && module_loaded'
step "mount an instance" mount -t locustfs none "$MNT"
step "rmmod refused while mounted" rmmod_refused
step "rmmod works after umount" eval 'umount "$MNT" && rmmod_works'
step "mounting an unloaded type fails" eval '! mount -t locustfs none "$MNT" 2>/dev/null'
step "insmod again" load_module
step "mount, open a file, lazy umount" \
	eval 'mount -t locustfs none "$MNT" && command exec 4<>"$MNT/held" && umount -l "$MNT"'
step "the open file is still counted" eval '[ "$(counter live_files)" = 1 ]'
step "rmmod refused while the detached instance has an open file" rmmod_refused
step "closing the file empties the counters" eval 'exec 4>&- && live_counters_zero'
step "rmmod works once the file is closed" rmmod_works
step "insmod again: counters start at 0" \
	eval 'load_module && debugfs_ready && [ "$(counter files_created)" = 0 ] &&
		live_counters_zero'
rmdir "$MNT"
tap_end
