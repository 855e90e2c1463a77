# SPDX-License-Identifier: GPL-2.0
# Shell helpers of the guest-side test scripts (smoke.sh, module.sh, run-suite.sh), for busybox
# sh. Sourced, never executed. Sets REPO (default: the repository holding this file) and
# KO (the module: $LOCUSTFS_KO, else $REPO/locustfs.ko), and provides TAP steps, counter reads,
# mount/module helpers and the kernel-side checks.

: "${REPO:=$(cd "$(dirname "$0")/.." && pwd)}"
KO=${LOCUSTFS_KO:-$REPO/locustfs.ko}
KMEMLEAK_FILE=/sys/kernel/debug/kmemleak
COUNTERS=/sys/kernel/debug/locustfs
LIVE_COUNTERS="live_files live_queues bytes_in_use"
ALL_COUNTERS="live_files live_queues files_created files_auto_deleted bytes_in_use"

tap_n=0
tap_failed=0

# step DESCRIPTION COMMAND...: runs COMMAND and prints a TAP result line for it.
step() {
	_desc=$1
	shift
	tap_n=$((tap_n + 1))
	if "$@"; then
		echo "ok $tap_n - $_desc"
	else
		echo "not ok $tap_n - $_desc"
		tap_failed=$((tap_failed + 1))
	fi
}

# tap_end: the plan line; exit status 0 when every step passed.
tap_end() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

module_loaded() {
	[ -d /sys/module/locustfs ]
}

# load_module: inserts the module unless it is loaded.
load_module() {
	module_loaded || insmod "$KO"
}

# debugfs_ready: mounts debugfs if needed; true when the counters directory exists.
debugfs_ready() {
	grep -q ' /sys/kernel/debug debugfs ' /proc/mounts ||
		mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	[ -d "$COUNTERS" ]
}

# counter_value NAME: sets _value to the counter's value (empty when unreadable). It starts no
# process: in the debug guest under TCG each one costs about a tenth of a second, and the
# suite's checks after every program read these often.
counter_value() {
	_value=
	read -r _value 2>/dev/null <"$COUNTERS/$1"
}

# counter NAME: prints the counter's value (empty when unreadable).
counter() {
	counter_value "$1"
	echo "$_value"
}

# counters_decimal: every counter reads as a decimal number.
counters_decimal() {
	for _c in $ALL_COUNTERS; do
		case $(counter "$_c") in
		'' | *[!0-9]*)
			echo "# counter $_c reads '$(counter "$_c")'"
			return 1
			;;
		esac
	done
}

# live_counters_zero [WAIT_SECONDS]: live_files, live_queues and bytes_in_use are 0, waiting up
# to WAIT_SECONDS (default 0) for releases still running in kernel workers.
live_counters_zero() {
	_left=${1:-0}
	while :; do
		_bad=
		for _c in $LIVE_COUNTERS; do
			counter_value "$_c"
			[ "$_value" = 0 ] || _bad="$_bad $_c=$_value"
		done
		[ -z "$_bad" ] && return 0
		if [ "$_left" -le 0 ]; then
			echo "# counters not back to 0:$_bad"
			return 1
		fi
		sleep 1
		_left=$((_left - 1))
	done
}

# locust_mounts: the mount points of every locustfs instance, one a line.
locust_mounts() {
	awk '$3 == "locustfs" { print $2 }' /proc/mounts
}

# locust_mounted: some locustfs instance is mounted (read without starting a process).
locust_mounted() {
	while read -r _dev _dir _type _rest; do
		[ "$_type" = locustfs ] && return 0
	done </proc/mounts
	return 1
}

# umount_all: unmounts every instance (lazily when busy); true when none was busy.
umount_all() {
	_ok=0
	for _m in $(locust_mounts); do
		umount "$_m" 2>/dev/null || {
			echo "# $_m busy: detaching it"
			umount -l "$_m"
			_ok=1
		}
	done
	return $_ok
}

# kernel_log_since MARKER: the kernel log from the line holding MARKER (all of it if gone).
kernel_log_since() {
	dmesg | awk -v marker="$1" '
		index($0, marker) { found = 1 }
		found { print }
		END { exit !found }' ||
		{
			echo "# marker '$1' no longer in the log: scanning all of it"
			dmesg
		}
}

# kernel_report_classes MARKER: the classes (tests/report-patterns) of the kernel reports logged
# since the line holding MARKER, comma-separated; nothing when there is none.
kernel_report_classes() {
	kernel_log_since "$1" |
		awk -v patterns="$REPO/tests/report-patterns" -f "$REPO/tests/report-classes.awk" |
		cut -f2 | awk '!seen[$0]++' | tr '\n' ',' | sed 's/,$//'
}

# checkers_off: prints the kernel checkers that are no longer running (a checker that switched
# itself off, after a report or for lack of memory, makes every later "clean" meaningless).
checkers_off() {
	_debug_locks=
	while read -r _key _val; do
		[ "$_key" = debug_locks: ] && _debug_locks=$_val && break
	done 2>/dev/null </proc/lockdep_stats
	[ "$_debug_locks" = 1 ] || echo lockdep-off
	if [ "${KMEMLEAK:-1}" = 1 ]; then
		# kmemleak refuses every command once it has disabled itself.
		echo stack=on >"$KMEMLEAK_FILE" 2>/dev/null || echo kmemleak-off
	fi
}
