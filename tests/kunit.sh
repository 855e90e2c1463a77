#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The module's in-kernel unit tests (#[kunit_tests]: option parsing, size accounting, poll
# masks), run by KUnit when the module is loaded. Loads the module if needed (else reloads
# it, so the tests run now), then turns the suites' KTAP in the kernel log into TAP: one
# case per KUnit test. Fails if a suite is missing, incomplete or failed.
#
#   tests/kunit.sh        (in the guest, busybox sh)

. "$(dirname "$0")/lib.sh"

SUITES="locustfs_limits locustfs_options"
marker="kunit.sh: load $$"

echo "TAP version 13"
if [ ! -d /sys/module/kunit ]; then
	echo "1..0 # SKIP kernel without KUnit"
	exit 0
fi
echo "$marker" >/dev/kmsg
if module_loaded && [ -z "$(locust_mounts)" ]; then
	rmmod locustfs
fi
module_loaded || load_module || { echo "Bail out! cannot load $KO"; exit 1; }
log=$(dmesg | sed -n "/$marker/,\$p")

n=0
failed=0
for suite in $SUITES; do
	# The suite's block: its test lines are indented, its verdict line is not.
	block=$(echo "$log" | sed 's/^\[[ 0-9.]*\] //' | sed -n "/# Subtest: $suite\$/,/^\(not \)\{0,1\}ok [0-9]* $suite\$/p")
	if [ -z "$block" ]; then
		n=$((n + 1))
		failed=$((failed + 1))
		echo "not ok $n - $suite: no KUnit output in the kernel log"
		continue
	fi
	plan=$(echo "$block" | sed -n 's/^ *1\.\.\([0-9]*\)$/\1/p' | head -n 1)
	seen=0
	# Each "    ok N name" / "    not ok N name" of the suite is one case.
	for line in $(echo "$block" | sed -n 's/^ \{4\}\(\(not \)\{0,1\}ok\) [0-9]* \(.*\)$/\1:\3/p' | tr ' ' '_'); do
		n=$((n + 1))
		seen=$((seen + 1))
		case $line in
		not_ok:*) failed=$((failed + 1)); echo "not ok $n - $suite.${line#not_ok:}" ;;
		*) echo "ok $n - $suite.${line#ok:}" ;;
		esac
	done
	if [ "$seen" != "${plan:-x}" ]; then
		n=$((n + 1))
		failed=$((failed + 1))
		echo "not ok $n - $suite: $seen results for a plan of ${plan:-none}"
	fi
	echo "$block" | grep -E '^# |^ +# .*(Expected|ASSERT|failed)' | sed 's/^/# /'
done
echo "1..$n"
[ "$failed" -eq 0 ]
