#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The in-tree module: locustfs built in the kernel tree as fs/locustfs with CONFIG_LOCUST_FS=m
# (scripts/kernel.sh intree, which copies it to tests/build/intree/) loads without tainting the
# kernel, and passes the smoke test and the module checks; the out-of-tree one (the repository's
# locustfs.ko, built with M=) then taints it with TAINT_OOT_MODULE and nothing else. Taint flags
# stay set until reboot, so run-suite.sh runs this before it first loads the out-of-tree module
# (the guest boots with kunit.filter_glob=locustfs*, scripts/lib.sh: no built-in KUnit suite
# taints the kernel first). Prints TAP; the smoke test's and the module checks' own TAP is
# printed indented, as a subtest of their step. Leaves the out-of-tree module loaded.
#
#   tests/intree.sh       (in the guest, busybox sh; REPO as in tests/lib.sh)

. "$(dirname "$0")/lib.sh"

INTREE_KO=$REPO/tests/build/intree/locustfs.ko
OUT_OF_TREE_KO=$KO
TAINTED=/proc/sys/kernel/tainted
TAINT_OOT_MODULE=4096 # bit 12, "O"

# tainted_is VALUE: /proc/sys/kernel/tainted reads VALUE.
tainted_is() {
	_t=$(cat "$TAINTED")
	echo "# $TAINTED: $_t"
	[ "$_t" = "$1" ]
}

# module_taint_is FLAGS: the loaded locustfs's own taint flags (/sys/module/locustfs/taint)
# are FLAGS ("" for none).
module_taint_is() {
	_t=$(cat /sys/module/locustfs/taint)
	echo "# /sys/module/locustfs/taint: '$_t'"
	[ "$_t" = "$1" ]
}

# subtest SCRIPT: runs tests/SCRIPT against the in-tree module, its TAP indented.
subtest() {
	LOCUSTFS_KO=$INTREE_KO sh "$REPO/tests/$1" >"$TMP/$1.tap" 2>&1
	_rc=$?
	sed 's/^/    /' "$TMP/$1.tap"
	[ "$_rc" = 0 ] && ! grep -q '^not ok' "$TMP/$1.tap"
}

TMP=$(mktemp -d /tmp/locustfs-intree.XXXXXX)
echo "TAP version 13"
step "the in-tree module is there ($INTREE_KO: make modules)" test -f "$INTREE_KO"
step "no locustfs loaded yet" eval '! module_loaded'
step "the kernel is not tainted before" tainted_is 0
step "insmod the in-tree module" insmod "$INTREE_KO"
step "locustfs is registered" eval 'grep -qw locustfs /proc/filesystems'
step "the module has no taint flag of its own" module_taint_is ""
step "the kernel is still not tainted" tainted_is 0
step "tests/smoke.sh passes against it (and unloads it)" subtest smoke.sh
step "tests/module.sh passes against it (and leaves it loaded)" subtest module.sh
step "the kernel is still not tainted after them" tainted_is 0
step "rmmod the in-tree module" eval 'umount_all && rmmod locustfs && ! module_loaded'
step "insmod the out-of-tree module ($OUT_OF_TREE_KO)" insmod "$OUT_OF_TREE_KO"
step "the out-of-tree module is marked O" module_taint_is O
step "the kernel is tainted with TAINT_OOT_MODULE only" tainted_is "$TAINT_OOT_MODULE"
rm -rf "$TMP"
tap_end
