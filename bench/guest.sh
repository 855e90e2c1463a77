#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs the benchmark programs inside the guest (busybox sh), started by scripts/bench.sh.
#
#   sh guest.sh smoke|quick|full|profile
#
# Expects, in the current directory (the share scripts/bench.sh prepares): locustfs.ko, bin/
# with the programs, and out/ for the results. Writes:
#   out/guest.env        facts about the guest kernel (version, CPUs, memory, debug checkers)
#   out/NAME.jsonl       the program's stdout (JSON lines of raw samples); NAME is a program,
#                        or "room" (fanout --case room)
#   out/NAME.status      "exit=N seconds=S" for the program
#   out/NAME.check       what was left behind afterwards ("ok", or what is wrong)
#   out/profile-*.txt    quick, full and profile modes: the function profiler's per-function
#                        hits and self times (trace_stat/function0) for one series each of
#                        wakeup and fanout (profile mode runs only these)
# Progress goes to stdout. Outside smoke mode, a kernel with debugging checkers (KASAN,
# lockdep, kmemleak, UBSAN) is refused: its figures would say nothing about locustfs.
# Exit status: 0 when every program ran and left a clean mount, 1 otherwise, 3 on refusal.

mode=${1:?usage: guest.sh smoke|quick|full|profile}
here=$(pwd)
out=$here/out
tmp=/tmp/bench-out
# Where the instances are mounted: BENCH_MNT (default /mnt; a guest whose /mnt is the host's,
# read-only, as virtme-ng's is, names a directory under /tmp).
MNT=${BENCH_MNT:-/mnt}
LOCUST=$MNT/locust
# The same file system mounted -o noatime (wakeup's locust-noatime series), and an instance
# whose files hold one page at most (fanout --case room: a full file is one of 4096 bytes).
LOCUST_NOATIME=$MNT/locust-noatime
LOCUST_ROOM=$MNT/locust-room
ROOM_SIZE=4096
TMPFS=$MNT/tmp
COUNTERS=/sys/kernel/debug/locustfs
mkdir -p "$out" "$tmp"

say() { echo "guest: $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }

# Each benchmark's program and the arguments it always gets: "room" is fanout's EPOLLOUT case,
# in the mount whose files are full at one page.
program() {
	case $1 in
	room) echo fanout ;;
	*) echo "$1" ;;
	esac
}
base_args() {
	case $1 in
	wakeup) echo --locust-noatime $LOCUST_NOATIME ;;
	room) echo --case room --locust $LOCUST_ROOM --room-size $ROOM_SIZE ;;
	esac
}

# Arguments of each benchmark per mode. Smoke: tiny sizes, one repetition (< 10 s in all on the
# debug kernel). Quick: a short real run. Full: the sizes the report is meant for. Samples are
# kept short and repetitions many: other work on the host stalls the guest's vCPUs now and
# then, and a median over many short interleaved samples shrugs that off.
args() {
	case $mode-$1 in
	smoke-*) echo --smoke ;;
	profile-*) ;;
	quick-wakeup) echo --reps 10 --iters 300 --split-iters 30 ;;
	quick-lifecycle) echo --reps 8 --ops 1000 ;;
	quick-fanout) echo --reps 5 --writes 51 --ns 1,2,3,5,10,100,1000,2500,5000,10000 ;;
	quick-room) echo --reps 5 --ops 51 --ns 1,2,5,10,100,250,500,1000 ;;
	quick-teardown) echo --reps 5 --ns 10,100,1000,10000 ;;
	quick-memory) echo --reps 3 --files 5000 ;;
	quick-throughput) echo --reps 5 --mib 64 ;;
	full-wakeup) echo --reps 40 --iters 400 --split-iters 40 ;;
	full-lifecycle) echo --reps 25 --ops 1500 ;;
	full-fanout) echo --reps 11 --writes 101 ;;
	full-room) echo --reps 11 --ops 101 ;;
	full-teardown) echo --reps 7 ;;
	full-memory) echo --reps 9 --files 20000 ;;
	full-throughput) echo --reps 15 --mib 256 ;;
	*) say "unknown mode $mode" >&2; exit 2 ;;
	esac
}

# Per-program limit; a program stuck in the kernel is left to the host's guest timeout.
case $mode in
smoke) limit=120 ;;
quick | profile) limit=300 ;;
*) limit=3600 ;;
esac

# --- the kernel: facts, and whether it is fit for figures ---------------------------------
checkers=
has_sym() { grep -q " $1\$" /proc/kallsyms 2>/dev/null; }
has_sym kasan_report && checkers="$checkers KASAN"
{ has_sym lock_acquire || [ -e /proc/lockdep ]; } && checkers="$checkers lockdep"
{ has_sym kmemleak_alloc || [ -e /sys/kernel/debug/kmemleak ]; } && checkers="$checkers kmemleak"
has_sym __ubsan_handle_out_of_bounds && checkers="$checkers UBSAN"
dmesg | grep -q 'KernelAddressSanitizer initialized' && case $checkers in
	*KASAN*) ;;
	*) checkers="$checkers KASAN" ;;
	esac
checkers=${checkers# }
clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)
{
	echo "kernel_release=$(uname -r)"
	echo "kernel_version=$(uname -v)"
	echo "cpus=$(nproc)"
	echo "mem_total_kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)"
	echo "debug_checkers=$checkers"
	echo "clocksource=$clocksource"
	echo "mode=$mode"
} >"$out/guest.env"
say "kernel $(uname -r) ($(uname -v)), $(nproc) CPUs, clocksource $clocksource," \
	"debug checkers: ${checkers:-none}"
if [ "$mode" != smoke ]; then
	if [ -n "$checkers" ]; then
		say "refusing to measure: this kernel has $checkers (use the perf kernel)" >&2
		exit 3
	fi
	case $clocksource in
	*jiffies*)
		say "refusing to measure: the clocksource is $clocksource (1 ms resolution)" >&2
		exit 3
		;;
	esac
fi

# --- locustfs and tmpfs -------------------------------------------------------------------
insmod "$here/locustfs.ko" || { say "insmod locustfs.ko failed" >&2; exit 1; }
mkdir -p $LOCUST $LOCUST_NOATIME $LOCUST_ROOM $TMPFS
mount -t locustfs -o size=768m none $LOCUST || { say "mounting locustfs failed" >&2; exit 1; }
mount -t locustfs -o size=768m,noatime none $LOCUST_NOATIME ||
	{ say "mounting locustfs -o noatime failed" >&2; exit 1; }
grep " $LOCUST_NOATIME locustfs [^ ]*noatime" /proc/mounts >/dev/null ||
	{ say "$LOCUST_NOATIME is not noatime: $(grep " $LOCUST_NOATIME " /proc/mounts)" >&2; exit 1; }
mount -t locustfs -o size=64m,max_file_size=$ROOM_SIZE none $LOCUST_ROOM ||
	{ say "mounting locustfs -o max_file_size=$ROOM_SIZE failed" >&2; exit 1; }
mount -t tmpfs -o size=768m none $TMPFS || { say "mounting tmpfs failed" >&2; exit 1; }

# leftovers: prints what the programs left in the locustfs mount or its counters (nothing if
# clean). Counters drop after RCU grace periods, so they get a few seconds to settle.
# entries DIR: sets _n to the number of entries in DIR, hidden ones too. Like the counters'
# reads below, it starts no process: in the virtme-ng guest every program is loaded over 9p,
# at a few tenths of a second each, and this runs after every benchmark.
entries() {
	_n=0
	for _e in "$1"/* "$1"/.[!.]* "$1"/..?*; do
		{ [ -e "$_e" ] || [ -L "$_e" ]; } && _n=$((_n + 1))
	done
}

leftovers() {
	_i=0
	while :; do
		_bad=
		for _m in $LOCUST $LOCUST_NOATIME $LOCUST_ROOM; do
			entries "$_m"
			[ "$_n" = 0 ] || _bad="$_bad $_n entries left in $_m;"
		done
		for _c in live_files live_queues bytes_in_use; do
			_v=
			read -r _v 2>/dev/null <$COUNTERS/$_c
			[ "$_v" = 0 ] || _bad="$_bad $_c=$_v;"
		done
		[ -z "$_bad" ] && return 0
		_i=$((_i + 1))
		if [ $_i -ge 20 ]; then
			echo "$_bad"
			return 0
		fi
		sleep 0.25
	done
}

# The programs run from the guest's RAM, not over 9p.
bin=/tmp/bench-bin
mkdir -p $bin
cp "$here"/bin/* $bin/

failed=0
programs="wakeup lifecycle fanout room teardown memory throughput"
[ "$mode" = profile ] && programs=
for prog in $programs; do
	# shellcheck disable=SC2046 # word splitting of the argument list is intended
	set -- $(base_args $prog) $(args $prog)
	exe=$(program $prog)
	say "== $prog: $exe $*"
	t0=$(uptime_s)
	# Samples (stdout) to a file in the guest's RAM, copied to the share afterwards; progress
	# and errors (stderr) shown as they come and kept in NAME.log.
	{
		timeout -s KILL $limit "$bin/$exe" --locust $LOCUST --tmpfs $TMPFS "$@" \
			2>&1 >"$tmp/$prog.jsonl" </dev/null
		echo $? >"$tmp/$prog.rc"
	} | tee "$out/$prog.log"
	rc=$(cat "$tmp/$prog.rc")
	t1=$(uptime_s)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	bad=$(leftovers)
	cp "$tmp/$prog.jsonl" "$out/$prog.jsonl"
	echo "exit=$rc seconds=$secs" >"$out/$prog.status"
	echo "${bad:-ok}" >"$out/$prog.check"
	if [ "$rc" != 0 ] || [ -n "$bad" ]; then
		failed=1
		say "$prog: exit $rc after $secs s${bad:+; left behind: $bad}"
	else
		say "$prog: done in $secs s"
	fi
	rm -f $TMPFS/* 2>/dev/null
done

# --- the function profiler: where one series spends its time ------------------------------
# Each series runs alone, pinned to CPU 0 (both processes of a same-CPU wakeup series too), with
# ftrace's function profiler on: per function, its hits and its self time (graph-time off: a
# function's time excludes the functions it calls; sleep-time off: time scheduled out is not
# counted). The programs' own samples are discarded: the profiler slows every call.
TRACING=/sys/kernel/tracing
PROFILE_ROUND_TRIPS=2000
PROFILE_WRITES=2000
profile_series() { # NAME PROGRAM ARGS...
	_name=$1 _prog=$2
	shift 2
	echo 0 >$TRACING/function_profile_enabled
	echo 1 >$TRACING/function_profile_enabled # starts from zero counts
	timeout -s KILL $limit "$bin/$_prog" --locust $LOCUST --tmpfs $TMPFS --reps 1 --warmup 0 \
		"$@" >/dev/null 2>"$tmp/profile-$_name.log" </dev/null
	_rc=$?
	echo 0 >$TRACING/function_profile_enabled
	cp $TRACING/trace_stat/function0 "$out/profile-$_name.txt"
	if [ $_rc != 0 ]; then
		say "profile $_name: exit $_rc ($(tail -1 "$tmp/profile-$_name.log"))"
		failed=1
	fi
}
if [ "$mode" != smoke ]; then
	grep -q " $TRACING tracefs " /proc/mounts || mount -t tracefs nodev $TRACING
	if [ -e $TRACING/function_profile_enabled ] && [ -e $TRACING/options/graph-time ]; then
		echo 0 >$TRACING/options/graph-time
		echo 0 >$TRACING/options/sleep-time
		say "== function profiles ($PROFILE_ROUND_TRIPS round trips, $PROFILE_WRITES writes)"
		echo "round_trips=$PROFILE_ROUND_TRIPS writes=$PROFILE_WRITES fanout_n=10" \
			>"$out/profile.env"
		for m in locust pipe eventfd; do
			profile_series "wakeup-$m" wakeup --only "$m/epoll/same" \
				--iters $PROFILE_ROUND_TRIPS --preroll 0
		done
		for m in locust pipe; do
			profile_series "fanout-$m" fanout --only "$m" --ns 10 --writes $PROFILE_WRITES
		done
		say "function profiles done"
	elif [ "$mode" = profile ]; then
		say "this kernel has no function profiler (CONFIG_FUNCTION_PROFILER)" >&2
		failed=1
	fi
fi

for m in $LOCUST $LOCUST_NOATIME $LOCUST_ROOM; do
	umount $m || { say "umount $m failed" >&2; failed=1; }
done
umount $TMPFS
rmmod locustfs || { say "rmmod locustfs failed" >&2; failed=1; }
exit $failed
