#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs the locustfs test suite inside the guest (busybox sh), e.g. from the host:
#
#   qemu/run-qemu.sh --timeout 5400 -- tests/run-suite.sh [PROGRAM...]
#
# PROGRAM is a name in tests/build (mount_opts, ..., stress_exclusive) or a script of tests/
# (module.sh, controls/lockdep.sh); the default is all of them, the module checks last.
# kmemleak's list is cleared; intree.sh, when named, runs first, before the module is loaded
# (it checks the kernel's taint flags, which stay set once a module set them, and leaves the
# out-of-tree module loaded); the module is loaded when it is not, then each program runs and
# its TAP is printed (indented, as a subtest). After each program, one more test case checks what
# it left behind:
#   - no new kernel report in dmesg (any class of tests/report-patterns, the list the host's
#     scripts/scan-log.sh uses too), named by class;
#   - lockdep and kmemleak still running (a checker that switched itself off is a failure);
#   - the counters live_files, live_queues and bytes_in_use back to 0;
#   - no locustfs instance left mounted.
# A program that passes in user space but leaves a kernel report fails there. A skipped case
# (or a whole program that skips: "1..0 # SKIP", exit 4) is counted and listed as
# "# skipped: PROGRAM: CASE" for the host to check. The last test cases unmount everything and
# unload the module, then scan once with kmemleak (two scans) for anything left unreferenced.
# Then a summary table, and the closing line "N passed, N failed, N skipped".
# Exit status 0 when nothing failed.
#
# Environment:
#   REPO              the repository (default: this script's); programs in $REPO/tests/build
#   SOAK_SECONDS      stress programs run for about this many seconds each (default: CI size)
#   KMEMLEAK          0 skips the kmemleak scan (default 1)
#   KMEMLEAK_EACH     1 scans after every program too (slow: ~20 s a scan; default 0)
#   KMEMLEAK_SETTLE   seconds to wait before scanning: kmemleak ignores younger objects (6)
#   PROGRAM_TIMEOUT   seconds after which a program is killed (default 1800 + SOAK_SECONDS)
#   RUN_SUITE_TMP     where outputs are kept (default: a new directory under /tmp)
#   CASES             only these test cases of the C programs, each as the kselftest harness
#                     names it (FIXTURE.TEST or FIXTURE.VARIANT.TEST), separated by spaces:
#                     each program then runs directly with "-r CASE" for each, not through the
#                     kselftest runner (make test T=poll_keyed CASES=exclusive.write_...)

. "$(dirname "$0")/lib.sh"

BIN=$REPO/tests/build
# The kselftest install (scripts/ksft-install.sh): the kernel's runner and the collection.
KSFT_DIR=$REPO/tests/build/kselftest
KSFT_COLLECTION=filesystems/locustfs
KMEMLEAK_FILE=/sys/kernel/debug/kmemleak
ALL_PROGRAMS="intree.sh kunit.sh mount_opts names lifecycle data limits poll poll_keyed perms userns
stress_seed stress_close_race stress_exclusive stress_mount stress-ng.sh fault_inject
vfs_correctness wake_order close_preempt readiness_oracle cookbook.sh module.sh"
# The report headers, one list shared with the host's scripts/scan-log.sh.
PATTERNS=$REPO/tests/report-patterns
CLASSIFY=$REPO/tests/report-classes.awk

total_pass=0
total_fail=0
total_skip=0
summary=
index=0

# kmemleak_report: prints kmemleak's findings after two scans (nothing when clean), then
# clears its list.
kmemleak_report() {
	[ "${KMEMLEAK:-1}" = 1 ] || return 0
	# Each leak goes to the kernel log too, for the host's scan of the console.
	echo 1 >/sys/module/kmemleak/parameters/verbose 2>/dev/null
	sleep "${KMEMLEAK_SETTLE:-6}"
	echo scan >"$KMEMLEAK_FILE" 2>/dev/null && echo scan >"$KMEMLEAK_FILE" 2>/dev/null ||
		return 0 # checkers_off says so

	if grep -q 'unreferenced object' "$KMEMLEAK_FILE"; then
		head -n 60 "$KMEMLEAK_FILE"
	fi
	echo clear >"$KMEMLEAK_FILE"
}

# count_results FILE: sets pass, fail, skip from the TAP in FILE (unindented lines only), and
# plan to its plan's count (empty when none). One awk: the checks around each program start
# as few processes as they can (each costs about a tenth of a second in the debug guest).
count_results() {
	eval "$(awk -v rc="$_rc" -v name="$_name" '
		/^ok / { if ($0 ~ /^ok .*# *SKIP/) skip++; else pass++ }
		/^not ok / { fail++ }
		/^1\.\.[0-9]/ && plan == "" { plan = substr($0, 4); sub(/[^0-9].*/, "", plan) }
		/^1\.\.0 *# *SKIP/ && !whole { whole = 1; reason = $0; sub(/^1\.\.0 *# *SKIP */, "", reason) }
		END {
			# A program that skipped as a whole: "1..0 # SKIP reason" or KSFT_SKIP (4)
			# with no result.
			if (whole || (rc == 4 && pass + fail + skip == 0)) {
				skip++
				printf "ok 1 %s # SKIP %s\n", name, reason >>FILENAME
			}
			printf "pass=%d fail=%d skip=%d plan=%s\n", pass, fail, skip, plan
		}' "$1")"
}

# uptime_seconds: sets _uptime to the whole seconds since boot (no process started).
uptime_seconds() {
	read -r _uptime _idle </proc/uptime
	_uptime=${_uptime%.*}
}

# post_checks MARKER: what a program left behind; prints the problems, true when none.
post_checks() {
	_problems=
	kernel_log_since "$1" >"$TMP/kernel.log"
	_reports=$(awk -v patterns="$PATTERNS" -f "$CLASSIFY" "$TMP/kernel.log")
	if [ -n "$_reports" ]; then
		_classes=$(echo "$_reports" | cut -f2 | awk '!seen[$0]++' | tr '\n' ',')
		echo "# kernel reports since the program started (${_classes%,}):"
		_first=$(echo "$_reports" | head -n 1 | cut -f1)
		sed -n "$((_first > 2 ? _first - 2 : 1)),\$p" "$TMP/kernel.log" | head -n 120 |
			sed 's/^/#   /'
		_problems="$_problems kernel-report(${_classes%,})"
	fi
	_off=$(checkers_off)
	if [ -n "$_off" ]; then
		echo "# kernel checkers no longer running:" $_off
		_problems="$_problems $(echo $_off | tr ' ' ',')"
	fi
	_leaks=
	[ "${KMEMLEAK_EACH:-0}" = 1 ] && _leaks=$(kmemleak_report)
	if [ -n "$_leaks" ]; then
		echo "# kmemleak:"
		echo "$_leaks" | sed 's/^/#   /'
		_problems="$_problems kmemleak"
	fi
	if ! live_counters_zero 10; then
		_problems="$_problems counters"
	fi
	if locust_mounted; then
		echo "# instances left mounted: $(locust_mounts | tr '\n' ' ')"
		umount_all
		_problems="$_problems mounts"
	fi
	post=${_problems# }
	post=${post:-clean}
	[ -z "$_problems" ]
}

# stream_until_done PID FILE: prints FILE's complete lines, indented, as they come (every 2 s),
# until process PID ends; then the rest. Sets _status to PID's exit status. It looks for the
# end every quarter second: a program's time is rounded up to the next look, which at 2 s cost
# the suite about a second a program.
stream_until_done() {
	_shown=0
	_looks=0
	while kill -0 "$1" 2>/dev/null; do
		sleep 0.25
		_looks=$((_looks + 1))
		[ $((_looks % 8)) = 0 ] || continue
		_lines=$(wc -l <"$2")
		if [ "$_lines" -gt "$_shown" ]; then
			sed -n "$((_shown + 1)),${_lines}p" "$2" | sed 's/^/    /'
			_shown=$_lines
		fi
	done
	wait "$1"
	_status=$?
	sed -n "$((_shown + 1)),\$p" "$2" | sed 's/^/    /'
}

# run_program NAME: runs one program, prints its TAP indented, then its post-run check.
run_program() {
	_name=$1
	_file=$(echo "$_name" | tr / _)
	index=$((index + 1))
	_runner=
	if [ -n "${CASES:-}" ] && [ -x "$BIN/$_name" ]; then
		_exe=$BIN/$_name
		_cmd=$_exe
		for _case in $CASES; do
			_cmd="$_cmd -r $_case"
		done
	elif grep -qx "$KSFT_COLLECTION:$_name" "$KSFT_DIR/kselftest-list.txt" 2>/dev/null; then
		# A kselftest of the collection: through the kernel's own runner, which prints the
		# program's TAP nested ("# ok 1 ...") under its own result line.
		_runner=1
		_exe=$KSFT_DIR/run_kselftest.sh
		_cmd="$_exe -t $KSFT_COLLECTION:$_name"
	else
		case $_name in
		*.sh) _exe=$REPO/tests/$_name _cmd="sh $_exe" ;;
		*) _exe=$BIN/$_name _cmd=$_exe ;;
		esac
	fi
	_out=$TMP/$_file.tap
	_marker="run-suite: begin $_name $$.$index"
	echo "$_marker" >/dev/kmsg
	echo "# ---- $_name"
	uptime_seconds
	_start=$_uptime
	if [ ! -e "$_exe" ]; then
		echo "not ok 1 $_name: $_exe not found (make tests)" >"$_out"
		echo 1 >"$TMP/$_file.rc"
	else
		# Into a file, not a pipe: a process the program left behind must not hold us up.
		# shellcheck disable=SC2086 # _cmd is "sh FILE" or a path without spaces
		# Appending: the kselftest runner reopens /dev/stdout for the program's output, and
		# two descriptions of one file at their own offsets would overwrite each other.
		: >"$_out"
		$TIMEOUT $_cmd >>"$_out" 2>&1 </dev/null &
		stream_until_done $! "$_out"
		echo "$_status" >"$TMP/$_file.rc"
	fi
	uptime_seconds
	_secs=$((_uptime - _start))
	read -r _rc <"$TMP/$_file.rc"
	_tap=$_out
	if [ -n "$_runner" ]; then
		# The program's own TAP, one nesting level up; the runner's verdict line decides too
		# (a timeout there is a failure, exit 4 a skip).
		_tap=$TMP/$_file.inner.tap
		sed -n 's/^# //p' "$_out" >"$_tap"
		_verdict=$(grep -E "^(not )?ok [0-9]+ selftests: $KSFT_COLLECTION: $_name" "$_out")
		case $_verdict in
		"not ok"*) echo "# kselftest runner: $_verdict" ;;
		*"# SKIP"*) echo "1..0 # SKIP $_verdict" >>"$_tap" ;;
		"ok "*) ;;
		*) echo "# kselftest runner: no result line for $_name" ;;
		esac
	fi
	count_results "$_tap"
	case ${_runner:+$_verdict} in
	"not ok"* | "") [ -n "$_runner" ] && [ "$fail" = 0 ] && fail=1 ;;
	esac
	_seen=$((pass + fail + skip))
	if [ -n "$plan" ] && [ "$_seen" -lt "$plan" ]; then
		echo "# $_name: $((plan - _seen)) planned test(s) reported no result"
		fail=$((fail + plan - _seen))
	fi
	# Every skipped case, for the host to hold against the README's list of expected skips.
	grep '^ok .*# *SKIP' "$_tap" | sed "s/^ok [0-9]* */# skipped: $_name: /"
	if [ "$_rc" != 0 ] && ! { [ "$_rc" = 4 ] && [ "$skip" -gt 0 ]; } && [ "$fail" = 0 ]; then
		echo "# $_name exited with status $_rc"
		fail=1
	fi

	if post_checks "$_marker"; then
		_post_ok=1
		pass=$((pass + 1))
	else
		_post_ok=0
		fail=$((fail + 1))
	fi
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	total_skip=$((total_skip + skip))
	if [ "$fail" = 0 ]; then
		echo "ok $index $_name"
	else
		echo "not ok $index $_name"
	fi
	[ "$_post_ok" = 1 ] && echo "#   post-run checks of $_name: clean" ||
		echo "#   post-run checks of $_name: FAILED ($post)"
	summary="$summary$(printf '%-20s %5d %5d %5d  %-26s %5ss' "$_name" "$pass" "$fail" "$skip" \
		"$post" "$_secs")
"
}

# final_unload: the last test case: unmount everything, unload the module.
final_unload() {
	index=$((index + 1))
	_problems=
	umount_all || _problems="$_problems busy-mount"
	[ -z "$(locust_mounts)" ] || _problems="$_problems mounts-left"
	if ! rmmod locustfs; then
		_problems="$_problems rmmod-failed"
	elif module_loaded; then
		_problems="$_problems still-loaded"
	fi
	if [ -z "$_problems" ]; then
		echo "ok $index unmount everything and rmmod locustfs"
		total_pass=$((total_pass + 1))
	else
		echo "not ok $index unmount everything and rmmod locustfs:$_problems"
		total_fail=$((total_fail + 1))
	fi
}

# final_kmemleak: the last test case: one kmemleak scan over everything the suite (and the
# module's unload) left unreferenced.
final_kmemleak() {
	index=$((index + 1))
	if [ "${KMEMLEAK:-1}" != 1 ]; then
		echo "ok $index kmemleak scan after the suite # SKIP KMEMLEAK=0"
		total_skip=$((total_skip + 1))
		echo "# skipped: run-suite: kmemleak # SKIP KMEMLEAK=0"
		return
	fi
	_off=$(checkers_off | grep kmemleak)
	_leaks=$(kmemleak_report)
	if [ -z "$_off" ] && [ -z "$_leaks" ]; then
		echo "ok $index kmemleak scan after the suite: no unreferenced object"
		total_pass=$((total_pass + 1))
	else
		echo "not ok $index kmemleak scan after the suite:${_off:+ $_off}${_leaks:+ kmemleak}"
		echo "$_leaks" | sed 's/^/#   /'
		total_fail=$((total_fail + 1))
	fi
}

main() {
	programs=${*:-$ALL_PROGRAMS}
	nprograms=$(echo $programs | wc -w)
	TMP=${RUN_SUITE_TMP:-$(mktemp -d /tmp/run-suite.XXXXXX)}
	mkdir -p "$TMP"
	TIMEOUT=
	if command -v timeout >/dev/null; then
		TIMEOUT="timeout -s KILL ${PROGRAM_TIMEOUT:-$((1800 + ${SOAK_SECONDS:-0}))}"
	fi

	echo "TAP version 13"
	echo "1..$((nprograms + 2))"
	echo "# locustfs suite: $nprograms program(s), outputs in $TMP"
	if [ -w "$KMEMLEAK_FILE" ]; then
		echo clear >"$KMEMLEAK_FILE"
	else
		echo "# kmemleak not available: leak scans skipped"
	fi
	# Before any out-of-tree module taints the kernel.
	for prog in $programs; do
		[ "$prog" = intree.sh ] && run_program "$prog"
	done
	if ! load_module; then
		echo "Bail out! cannot load $KO"
		echo "0 passed, 1 failed"
		exit 1
	fi
	debugfs_ready || echo "# $COUNTERS missing: counter checks will fail"
	[ -n "${SOAK_SECONDS:-}" ] && echo "# SOAK_SECONDS=$SOAK_SECONDS"
	export SOAK_SECONDS
	# stress_mount unloads and reloads the module.
	LOCUSTFS_KO=$KO
	export LOCUSTFS_KO

	for prog in $programs; do
		[ "$prog" = intree.sh ] || run_program "$prog"
	done
	final_unload
	final_kmemleak

	echo "#"
	echo "# $(printf '%-20s %5s %5s %5s  %-26s %6s' program pass fail skip post-run time)"
	echo "$summary" | sed '/^$/d; s/^/# /'
	echo "# test cases: every program's own, plus one post-run check per program and the"
	echo "# final unmount+rmmod."
	echo "$total_pass passed, $total_fail failed, $total_skip skipped"
	[ "$total_fail" = 0 ]
}

main "$@"
