#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The in-kernel unit tests: the #[kunit_tests] suites of src/options.rs and src/limits.rs
# (option parsing, size accounting, poll masks), which only the test module locustfs_kunit.ko
# contains (src/locustfs_kunit.rs).
#
# First checks that the production module runs none: loading locustfs.ko (unloaded first if it
# is loaded and nothing is mounted) starts no KUnit suite of locustfs (none in the kernel log,
# none in /sys/kernel/debug/kunit/) and leaves /proc/sys/kernel/tainted at TAINT_OOT_MODULE
# alone, which every module built out of tree sets. (The guest boots with
# kunit.filter_glob=locustfs*, scripts/lib.sh: without it the kernel crate's own built-in Rust
# suites run at boot and taint the kernel TAINT_TEST before any module is loaded.) Then loads locustfs_kunit.ko (KUnit runs its suites while it loads), turns
# each suite's KTAP into TAP, one case per KUnit test, and unloads it. The KTAP comes from
# /sys/kernel/debug/kunit/SUITE/results while the module is loaded, or else from the kernel
# log. Fails if a suite is missing, incomplete or failed, or if a check fails. Leaves
# locustfs.ko loaded.
#
#   tests/kunit.sh        (in the guest, busybox sh; REPO as in tests/lib.sh)

. "$(dirname "$0")/lib.sh"

KUNIT_KO=$REPO/locustfs_kunit.ko
SUITES="locustfs_limits locustfs_options"
TAINTED=/proc/sys/kernel/tainted
TAINT_OOT_MODULE=4096 # bit 12, "O"
KUNIT_DEBUGFS=/sys/kernel/debug/kunit
production_marker="kunit.sh: insmod locustfs.ko $$"
marker="kunit.sh: insmod locustfs_kunit.ko $$"

kunit_loaded() {
	[ -d /sys/module/locustfs_kunit ]
}

# load_production_module: loads locustfs.ko afresh (unless an instance is mounted), noting the
# taint before and after in taint_before and taint_after.
load_production_module() {
	if kunit_loaded; then
		rmmod locustfs_kunit || return 1
	fi
	if module_loaded && [ -z "$(locust_mounts)" ]; then
		rmmod locustfs || return 1
	fi
	echo "$production_marker" >/dev/kmsg
	taint_before=$(cat "$TAINTED")
	load_module || return 1
	taint_after=$(cat "$TAINTED")
	echo "# $TAINTED: $taint_before before, $taint_after after"
}

# production_runs_no_suite: no locustfs suite ran since locustfs.ko was loaded, and none is
# registered with KUnit.
production_runs_no_suite() {
	if dmesg | sed -n "/$production_marker/,\$p" | grep -q '# Subtest: locustfs'; then
		echo "# a locustfs KUnit suite ran when locustfs.ko was loaded"
		return 1
	fi
	if ls -d "$KUNIT_DEBUGFS"/locustfs* >/dev/null 2>&1; then
		echo "# KUnit has locustfs suites: $(ls -d "$KUNIT_DEBUGFS"/locustfs* | tr '\n' ' ')"
		return 1
	fi
}

# production_taints_only_oot: with locustfs.ko loaded, the kernel's only taint is
# TAINT_OOT_MODULE (no TAINT_TEST, no earlier warning).
production_taints_only_oot() {
	[ "$taint_after" -eq "$TAINT_OOT_MODULE" ]
}

# load_kunit_module: loads locustfs_kunit.ko, so that its suites run now.
load_kunit_module() {
	echo "$marker" >/dev/kmsg
	insmod "$KUNIT_KO"
}

# tap_result STATUS DESCRIPTION: a TAP line for a result decided elsewhere (0: passed).
tap_result() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

# suite_ktap SUITE: the suite's KTAP block, from debugfs if it is there, else from the kernel
# log since $marker (timestamps removed). Its test lines are indented, its verdict is not.
suite_ktap() {
	_results=$KUNIT_DEBUGFS/$1/results
	if [ -r "$_results" ]; then
		_text=$(cat "$_results")
	else
		_text=$(dmesg | sed -n "/$marker/,\$p" | sed 's/^\[[ 0-9.]*\] //')
	fi
	echo "$_text" | sed -n "/# Subtest: $1\$/,/^\(not \)\{0,1\}ok [0-9]* $1\$/p"
}

# report_suite SUITE: one TAP case per test of the suite, plus one if results are missing.
report_suite() {
	_block=$(suite_ktap "$1")
	if [ -z "$_block" ]; then
		tap_result 1 "$1: no KUnit output"
		return
	fi
	_plan=$(echo "$_block" | sed -n 's/^ *1\.\.\([0-9]*\)$/\1/p' | head -n 1)
	_seen=0
	# Each "    ok N name" / "    not ok N name" of the suite is one case.
	for _line in $(echo "$_block" | sed -n 's/^ \{4\}\(\(not \)\{0,1\}ok\) [0-9]* \(.*\)$/\1:\3/p' |
		tr ' ' '_'); do
		_seen=$((_seen + 1))
		case $_line in
		not_ok:*) tap_result 1 "$1.${_line#not_ok:}" ;;
		*) tap_result 0 "$1.${_line#ok:}" ;;
		esac
	done
	if [ "$_seen" != "${_plan:-x}" ]; then
		tap_result 1 "$1: $_seen results for a plan of ${_plan:-none}"
	fi
	echo "$_block" | grep -E '^# |^ +# .*(Expected|ASSERT|failed)' | sed 's/^/# /'
}

echo "TAP version 13"
if [ ! -d /sys/module/kunit ]; then
	echo "1..0 # SKIP kernel without KUnit"
	exit 0
fi
step "locustfs.ko loaded afresh ($KO)" load_production_module
step "locustfs.ko runs no KUnit suite" production_runs_no_suite
step "with locustfs.ko loaded, tainted is $TAINT_OOT_MODULE (TAINT_OOT_MODULE only)" production_taints_only_oot
step "locustfs_kunit.ko loaded ($KUNIT_KO)" load_kunit_module
for suite in $SUITES; do
	report_suite "$suite"
done
step "locustfs_kunit.ko unloaded" eval 'rmmod locustfs_kunit && ! kunit_loaded'
tap_end
