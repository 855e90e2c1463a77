#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Debian's stress-ng, filesystem class, against locustfs instances: one stressor process per
# stressor, with --temp-path on an instance and --klog-check. Both boot routes have stress-ng:
# the plain QEMU guest's initramfs carries it (qemu/initramfs.sh), the virtme-ng guest shares
# the host's.
# The filesystem-class stressors that do not work in a directory (bind-mount, binderfs,
# chattr, ioprio, procfs, verity) are left out.
#
# Each stressor has one expected outcome, in the table EXPECTED below: its exit status, the
# failure locustfs's semantics make certain (a file is gone once its last opener closes it;
# no hard links, symlinks or special files; no extended attributes, ...), and the reason.
# Exit statuses are stress-ng's: 0 success, 2 a stressor failed, 3 resources unavailable
# (a stressor that skips itself), 4 not implemented here. A stressor fails its test case when
#   - it exits with any other status than its expected one (137: killed 60 s after
#     its --timeout, a hang);
#   - its output lacks the FAILURE that is the reason for an expected non-zero status (an
#     extended regular expression), or has a "fail:" line that FAILURE does not match (for an
#     expected 0, FAILURE may name a failure stress-ng logs without failing the stressor);
#   - --klog-check reports a kernel message other than the one its KERNEL column names (a
#     warning the stressor's own use of an interface makes the kernel print, unrelated to
#     locustfs): a kernel report would otherwise hide behind an expected exit 2, the status
#     --klog-check itself gives. Any other kernel message --klog-check shows fails the case.
# First, a control: a kernel error message (a mount with an unknown option, which locustfs
# logs) while a stressor runs must be reported by --klog-check, and turn the stressor's exit
# 0 into 2, or --klog-check cannot be trusted to see anything. At the end the instances must
# hold no file and the live counters must be back to 0. The boot route scans the kernel log as
# well.
#
# Stressors run STRESS_JOBS at a time, each on an instance of its slot (so that none runs out of
# room or files because of another), each with its own exit status and output; the ones whose
# KERNEL column is set, and fsize, run alone afterwards. The kernel log is the one thing they
# share: a --klog-check finding in a stressor that ran beside others may be another's. Each such
# stressor runs again alone: when at least one of them logs a message alone, the verdict of each
# is that of its run alone; when none does, each fails (a message only when they run together).
# Every other finding stands as it came.
#
#   tests/stress-ng.sh    STRESS_SECONDS: seconds per stressor (default 2, or an equal share
#                         of SOAK_SECONDS when that is set)
#                         STRESS_JOBS: stressors at a time (default: the CPUs; 1: each alone)
#
# Exit status: 0 when every case passed, 4 (KSFT_SKIP) without stress-ng or without the
# module, 1 otherwise.

. "$(dirname "$0")/lib.sh"

KSFT_SKIP=4
MNT=${TMPDIR:-/tmp}/locust-stress
LOGS=${TMPDIR:-/tmp}/stress-ng-logs
CONTROL_OPTION=stress_ng_klog_check_control

# stressor | exit | FAILURE (ERE) | KERNEL: the message --klog-check may show (ERE) | reason
EXPECTED='
access      | 0 | | |
chdir       | 0 | | |
chmod       | 0 | | |
chown       | 0 | | |
copy-file   | 0 | | |
dentry      | 0 | | |
dir         | 0 | | |
dirdeep     | 0 | | |
dirmany     | 0 | | |
dnotify     | 0 | | |
dup         | 0 | | |
eventfd     | 0 | | |
fallocate   | 0 | | |
fanotify    | 0 | fanotify: open .* O_WRONLY failed, errno=2 | Using fanotify permission checks may lead to deadlock; tainting kernel | its permission marks make fanotify warn (and taint the kernel, TAINT_USER); a helper reopens a file already closed (gone), which stress-ng logs without failing
fcntl       | 0 | | |
fiemap      | 0 | | |
file-ioctl  | 0 | | |
filename    | 0 | | |
flock       | 0 | | Attempt to set a LOCK_MAND lock via flock\(2\) | it tries LOCK_MAND, which the VFS ignores with a warning
fpunch      | 0 | | |
fsize       | 0 | | |
fstat       | 0 | | |
getdent     | 0 | | |
handle      | 0 | | |
hdd         | 0 | | |
inode-flags | 0 | | |
inotify     | 0 | | |
io          | 0 | | |
iomix       | 0 | | |
lease       | 2 | lease: open failed \(parent\): errno=2 | | it reopens the file it created and closed: gone at its last close
link        | 2 | link: link failed, errno=2 | | it links the file after closing it: gone at its last close (and link() of a live locust file is EPERM)
locka       | 0 | | |
lockf       | 0 | | |
lockofd     | 0 | | |
mknod       | 0 | | |
open        | 0 | | |
rename      | 0 | | |
symlink     | 3 | symlink: link calls not allowed on the filesystem | | symlink() is refused (EPERM): it skips itself
sync-file   | 0 | | |
touch       | 0 | | |
utime       | 0 | | |
xattr       | 3 | xattr stressor will be skipped, filesystem does not support xattr | | no extended attributes (EOPNOTSUPP): it skips itself
'
# Options a stressor needs to fit the instance (size=256m, max_file_size the same).
stressor_args() {
	case $1 in
	iomix) echo "--iomix-bytes 32m" ;;
	# locustfs has no fallocate(), so fsize grows its file through stress-ng's own write
	# emulation, which stops writing (and returns success) once the stressor's time is up: a
	# run the timer ends can report "fallocate unexpectedly succeeded" and a missing SIGXFSZ
	# for a write that never happened. A fixed number of rounds ends it by count instead, with
	# the time (stressor_seconds) to finish them.
	fsize) echo "--fsize-ops 4" ;;
	esac
}

# stressor_seconds NAME: the --timeout of stressor NAME.
stressor_seconds() {
	case $1 in
	fsize) echo 60 ;;
	*) echo "$SECS" ;;
	esac
}

NSTRESSORS=$(echo "$EXPECTED" | grep -c '^[a-z]')

if [ -n "${STRESS_SECONDS:-}" ]; then
	SECS=$STRESS_SECONDS
elif [ -n "${SOAK_SECONDS:-}" ]; then
	SECS=$((SOAK_SECONDS / NSTRESSORS))
	[ "$SECS" -ge 2 ] || SECS=2
else
	SECS=2
fi

# runs_alone NAME KERNEL: NAME runs with no other stressor beside it: a stressor that makes the
# kernel log a message (KERNEL), which every other one's --klog-check would see, and fsize,
# whose --timeout is sized for its rounds on a CPU of its own.
runs_alone() {
	[ -n "$2" ] || [ "$1" = fsize ]
}

# run_stressor NAME DIR LOG: runs stressor NAME on the instance at DIR into LOG, its exit
# status into LOG.rc and its wall time in seconds into LOG.secs.
run_stressor() {
	_secs=$(stressor_seconds "$1")
	_t0=$(date +%s)
	# shellcheck disable=SC2046 # the options are words
	timeout -s KILL $((_secs + 60)) stress-ng --"$1" 1 $(stressor_args "$1") \
		--temp-path "$2" --timeout "${_secs}s" --klog-check </dev/null >"$3" 2>&1
	echo $? >"$3.rc"
	echo $(($(date +%s) - _t0)) >"$3.secs"
}

# run_and_judge LINE SLOT: runs the stressor of the table's LINE on the instance of SLOT and
# judges its run (LOG.problems). With SHARED set, it ran beside others: its slot goes to
# LOG.slot, and when its one finding is a --klog-check message (with the exit status 2 that
# --klog-check gives it), its name goes to $LOGS/klog-shared, to run again alone.
run_and_judge() {
	IFS='|' read -r _s _want _failure _kernel _reason <<LINE
$1
LINE
	run_stressor "$_s" "$MNT-$2" "$LOGS/$_s.log"
	judge "$_s" "$_want" "$_failure" "$_kernel" "$LOGS/$_s.log"
	[ -n "${SHARED:-}" ] || return 0
	echo "$2" >"$LOGS/$_s.log.slot"
	read -r _problems <"$LOGS/$_s.log.problems"
	case ";$_problems;" in
	*";$KLOG_PROBLEM;"*)
		if [ -z "$(echo "$_problems" | tr ';' '\n' | grep -vxF -e "$KLOG_PROBLEM" |
			grep -v '^exit 2, expected ')" ]; then
			echo "$_s" >>"$LOGS/klog-shared"
		fi
		;;
	esac
}

# slot_worker SLOT: runs and judges, on the instance of SLOT, each stressor of $LOGS/shared that
# no other slot has claimed yet.
slot_worker() {
	while read -r _line; do
		mkdir "$LOGS/${_line%%|*}.claim" 2>/dev/null || continue
		SHARED=1 run_and_judge "$_line" "$1"
	done <"$LOGS/shared"
}

# on_instances CMD...: runs CMD with i set to each instance's number; true when each run was.
on_instances() {
	for i in $INSTANCES; do
		"$@" || return 1
	done
}

# judge NAME WANT FAILURE KERNEL LOG: writes what is wrong with the run in LOG (nothing when it
# went as expected) to LOG.problems, one line.
judge() {
	check_stressor "$1" "$2" "$3" "$4" "$5" "$(cat "$5.rc")" | tr '\n' ';' | sed 's/;$//' \
		>"$5.problems"
}

# show LOG: the lines of LOG that say what went wrong (or its tail), as TAP comments.
show() {
	{ grep -E 'klog-check:|fail:|error:' "$1" || tail -n 5 "$1"; } | head -n 12 |
		sed 's/^/#   /'
}

# klog_control: --klog-check reports a kernel error message logged while it runs. The message
# is logged every half second for as long as the stressor runs (stress-ng only reads the
# kernel log from the moment its own check starts).
klog_control() {
	_log=$LOGS/klog-control.log
	_stop=$LOGS/klog-control.stop
	rm -f "$_stop"
	mkdir -p "$MNT.control"
	(
		while [ ! -e "$_stop" ]; do
			mount -t locustfs -o "$CONTROL_OPTION" none "$MNT.control" 2>/dev/null
			sleep 0.5
		done
	) &
	timeout -s KILL 120 stress-ng --access 1 --temp-path "$MNT-1" --timeout 6s --klog-check \
		</dev/null >"$_log" 2>&1
	_rc=$?
	touch "$_stop"
	wait
	rmdir "$MNT.control"
	if grep -q "klog-check:.*$CONTROL_OPTION" "$_log" && [ "$_rc" = 2 ]; then
		echo "# control: stress-ng exited 2 (as for a failed stressor), and reported:"
		grep "klog-check:.*$CONTROL_OPTION" "$_log" | head -n 2 | sed 's/^/#   /'
		return 0
	fi
	echo "# --klog-check did not report the control message with exit 2 (exit $_rc):"
	show "$_log"
	return 1
}

# check_stressor NAME WANT FAILURE KERNEL LOG RC: prints what is wrong with the run of NAME
# (nothing when it went as expected).
check_stressor() {
	if [ "$6" != "$2" ]; then
		echo "exit $6, expected $2${_reason:+ ($_reason)}"
		[ "$6" = 137 ] && echo "killed after a hang"
	fi
	if [ "$2" != 0 ] && ! grep -Eq -- "$3" "$5"; then
		echo "its expected failure /$3/ is not in its output"
	fi
	if grep 'stress-ng: fail:' "$5" | grep -Evq -- "${3:-^$}"; then
		echo "a failure other than the expected one"
	fi
	if grep 'klog-check:' "$5" | grep -Fv "$CONTROL_OPTION" | grep -Evq -- "${4:-^$}"; then
		echo "--klog-check reported a kernel message"
	fi
}

echo "TAP version 13"
if ! command -v stress-ng >/dev/null; then
	echo "1..0 # SKIP stress-ng not installed"
	exit $KSFT_SKIP
fi
if ! module_loaded && [ ! -e "$KO" ]; then
	echo "1..0 # SKIP locustfs not loaded and $KO not found"
	exit $KSFT_SKIP
fi
JOBS=${STRESS_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$JOBS" -ge 1 ] 2>/dev/null || JOBS=1
INSTANCES=$(seq 1 "$JOBS")
OPTS=size=256m,max_files=100000
KLOG_PROBLEM="--klog-check reported a kernel message"
rm -rf "$LOGS"
mkdir -p "$LOGS"
step "module loaded" load_module
step "mount -t locustfs -o $OPTS none $MNT-N, N = 1..$JOBS (an instance per slot)" \
	on_instances eval 'mkdir -p $MNT-$i && mount -t locustfs -o $OPTS none $MNT-$i'
step "--klog-check reports a kernel error message (control)" klog_control

# The table, trimmed, one "NAME|WANT|FAILURE|KERNEL|REASON" a line, in $LOGS/table; the
# stressors that share the guest (runs_alone) in $LOGS/shared, the others in $LOGS/alone.
echo "$EXPECTED" | sed -n 's/^[ 	]*//; s/[ 	]*|[ 	]*/|/g; s/[ 	]*$//; /^[a-z]/p' >"$LOGS/table"
: >"$LOGS/shared"
: >"$LOGS/alone"
: >"$LOGS/klog-shared"
while IFS='|' read -r s _want _failure kernel _reason; do
	if [ "$JOBS" -gt 1 ] && ! runs_alone "$s" "$kernel"; then
		grep "^$s|" "$LOGS/table" >>"$LOGS/shared"
	else
		grep "^$s|" "$LOGS/table" >>"$LOGS/alone"
	fi
done <"$LOGS/table"
t0=$(date +%s)
for i in $INSTANCES; do
	slot_worker "$i" &
done
wait
t1=$(date +%s)
while read -r line; do
	run_and_judge "$line" 1
done <"$LOGS/alone"
echo "# $(grep -c . "$LOGS/shared") stressors $JOBS at a time in $((t1 - t0)) s," \
	"$(grep -c . "$LOGS/alone") alone in $(($(date +%s) - t1)) s"

if [ -s "$LOGS/klog-shared" ]; then
	echo "# --klog-check messages in stressors that ran beside others: each runs again alone"
	found_alone=0
	while read -r s; do
		grep 'klog-check:' "$LOGS/$s.log" | head -n 3 | sed "s/^/#   $s, beside others: /"
		for f in "" .rc .secs .problems; do
			mv "$LOGS/$s.log$f" "$LOGS/$s.beside.log$f"
		done
		run_and_judge "$(grep "^$s|" "$LOGS/table")" 1
		[ -s "$LOGS/$s.log.problems" ] && found_alone=1
	done <"$LOGS/klog-shared"
	while read -r s; do
		if [ "$found_alone" = 1 ]; then
			echo again >"$LOGS/$s.log.slot"
		else
			for f in "" .rc .secs .problems; do
				mv "$LOGS/$s.beside.log$f" "$LOGS/$s.log$f"
			done
			echo "$KLOG_PROBLEM, only beside other stressors" >"$LOGS/$s.log.problems"
		fi
	done <"$LOGS/klog-shared"
fi

# The cases, in the table's order.
while IFS='|' read -r s want failure kernel _reason; do
	tap_n=$((tap_n + 1))
	log=$LOGS/$s.log
	slot=
	[ -e "$log.slot" ] && read -r slot <"$log.slot"
	case $slot in
	'') how=alone ;;
	again) how="run again alone" ;;
	*) how="slot $slot" ;;
	esac
	read -r secs <"$log.secs"
	read -r rc <"$log.rc"
	problems=
	read -r problems <"$log.problems"
	how="$secs s, $how"
	if [ -z "$problems" ]; then
		echo "ok $tap_n - stress-ng --$s: exit $rc ($how)${_reason:+ (expected: $_reason)}"
	else
		echo "not ok $tap_n - stress-ng --$s: $problems ($how)"
		show "$log"
		tap_failed=$((tap_failed + 1))
	fi
done <"$LOGS/table"
step "no file outlived the stressors" on_instances eval '[ -z "$(find $MNT-$i -type f)" ]'
step "umount $MNT-N" on_instances eval 'rm -rf $MNT-$i/* && umount $MNT-$i'
step "counters live_files, live_queues, bytes_in_use back to 0" live_counters_zero 10
tap_end || exit 1
