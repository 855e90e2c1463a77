#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make check`: every test stage, then one line "N passed, N failed, N skipped" (test cases
# over all stages). Exits non-zero on any failure, and on any skipped case that README.md's
# "Expected skips" table does not list.
#
#   scripts/check.sh KDIR
#
# Stages, in order: the log scanner's own tests (host); the negative controls
# (scripts/controls.sh: one real kernel report of each class must fail the verdicts, naming its
# class; their verdict is cached per content of their inputs, FORCE=1 runs them anyway); the
# suite in the plain QEMU guest on the debug kernel (the in-tree module's checks first, with the
# kernel untainted; then functional tests through the kernel's kselftest runner, epoll stress
# programs, stress-ng, fault injection, KUnit, the readiness checker, kernel-side verdicts after
# each program), with the mutants in guests of their own beside it: the seed bug and the
# others that cost under a minute each, each of which the suite must catch the way its patch
# says (the ones that do not panic share one boot, and run only the test cases their patch
# names). Then the virtme-ng boot test (module loads, a mount works, smoke test, the recipes
# that need the host's tools, then the benchmark programs in smoke mode, judged as the
# bench-smoke stage), with make lint's gates, make kunit and then the patch series' check on
# the host beside it.
#
# Each stage's time is printed, and the total is held against the budget (README.md, "How long
# it takes"): CHECK_BUDGET_CACHED seconds when the controls' verdict was cached, else
# CHECK_BUDGET_UNCACHED. Over it, a warning line says so (the run does not fail for it).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${1:?usage: scripts/check.sh KDIR}
bzimage=$kdir/arch/x86/boot/bzImage
ksrc=$(kernel_source_dir "$kdir")
: "${CHECK_BUDGET_CACHED:=660}"
: "${CHECK_BUDGET_UNCACHED:=800}"
passed=0
failed=0
skipped=0
summary=()
check_start=$(date +%s)

# expected_skip PROGRAM CASE: README.md's "Expected skips" table has a row for this case.
expected_skip() {
	awk -v prog="$1" -v case_="$2" '
		/^## Expected skips/ { in_table = 1; next }
		/^## / { in_table = 0 }
		in_table && /^\|/ {
			n = split($0, cell, "|")
			p = cell[2]; c = cell[3]
			gsub(/[ `]/, "", p); gsub(/[ `]/, "", c)
			if (p == prog && (c == case_ || c == "*")) found = 1
		}
		END { exit !found }' "$LOCUSTFS_TOP/README.md"
}

# unexpected_skips LOG: prints each "# skipped: PROGRAM: CASE ..." line of LOG whose case the
# README does not list as expected.
unexpected_skips() {
	local line prog rest case_
	while IFS= read -r line; do
		rest=${line#\# skipped: }
		prog=${rest%%: *}
		rest=${rest#*: }
		case_=${rest%% *}
		expected_skip "$prog" "$case_" || echo "$line"
	done < <(grep -a '^# skipped: ' "$1")
}

# count_stage NAME LOG STATUS SECONDS: adds the stage's "N passed, N failed" line (or, without
# one, one case decided by STATUS) to the totals.
count_stage() {
	local name=$1 log=$2 status=$3 secs=$4 line p f k=0 bad
	line=$(grep -aE '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	if [ -n "$line" ]; then
		p=$(sed -E 's/^([A-Za-z]+: )?([0-9]+) passed.*/\2/' <<<"$line")
		f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
		if [[ $line =~ ([0-9]+)\ skipped ]]; then k=${BASH_REMATCH[1]}; fi
	elif [ "$status" -eq 0 ]; then
		p=1 f=0
	else
		p=0 f=1
	fi
	# A stage whose command failed counts as a failure even if its cases all passed.
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	bad=$(unexpected_skips "$log")
	if [ -n "$bad" ]; then
		printf 'check: %s: skipped, and not listed under "Expected skips" in README.md:\n%s\n' \
			"$name" "$bad" >&2
		f=$((f + $(wc -l <<<"$bad")))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + k))
	summary+=("$(printf '%-14s %5d passed %5d failed %5d skipped  (exit %3d) %6d s' "$name" "$p" "$f" \
		"$k" "$status" "$secs")")
}

# stage NAME CMD...: runs one stage with its output shown and kept for counting.
stage() {
	local name=$1 log=$LOCUSTFS_LOGS/check-$1.log status start secs
	shift
	phase "check: $name"
	start=$(date +%s)
	"$@" 2>&1 | tee "$log"
	status=${PIPESTATUS[0]}
	secs=$(($(date +%s) - start))
	info "$name: exit $status after $secs s (log: $log)"
	count_stage "$name" "$log" "$status" "$secs"
}

# stage_start NAME CMD...: starts a stage that runs alongside the next ones, its output kept
# for stage_finish (it is shown then, not while it runs).
declare -A stage_pid stage_began
stage_start() {
	local name=$1 log=$LOCUSTFS_LOGS/check-$1.log
	shift
	rm -f "$log.end"
	stage_began[$name]=$(date +%s)
	( "$@" >"$log" 2>&1; echo "$? $(date +%s)" >"$log.end" ) &
	stage_pid[$name]=$!
	info "$name: started; its output follows when it ends (log: $log)"
}

# stage_finish NAME: waits for a stage stage_start started, shows its output and counts it.
stage_finish() {
	local name=$1 log=$LOCUSTFS_LOGS/check-$1.log status=1 end secs
	wait "${stage_pid[$name]}"
	read -r status end <"$log.end" || end=$(date +%s)
	secs=$((end - stage_began[$name]))
	phase "check: $name"
	cat "$log"
	info "$name: exit $status after $secs s (log: $log)"
	count_stage "$name" "$log" "$status" "$secs"
}

stage scanner "$LOCUSTFS_TOP/scripts/test-scan-log.sh"
stage controls "$LOCUSTFS_TOP/scripts/controls.sh" "$kdir"
# The benchmark programs run in the virtme-ng boot, after the smoke test (which unloads the
# module; they load their own); their verdict is the bench-smoke stage's. The guest gets the
# TSC they need to time anything (the suite's boot keeps the 1 ms clock its programs were
# written for). A kernel report while they run fails both stages.
vng_console=$LOCUSTFS_LOGS/check-vng-boot-console.log
bench_cmd=true bench_append=()
if prepared=$("$LOCUSTFS_TOP/scripts/bench.sh" --smoke --in-boot prepare 2>"$LOCUSTFS_LOGS/check-bench-prepare.log"); then
	bench_cmd=$(sed -n 1p <<<"$prepared")
	args=$(sed -n 2p <<<"$prepared")
	[ -z "$args" ] || bench_append=(--append "$args")
else
	info "bench-smoke: preparing the benchmark programs failed (see $LOCUSTFS_LOGS/check-bench-prepare.log)"
fi
# The seed bug, and the mutants that cost under a minute each (make mutants runs them all), in
# guests of their own beside the suite's: each mutant is judged on its own section of its own
# guest's output and kernel log, which nothing of the suite's guest reaches. The mutants'
# guest spends most of its time in the waits that catch them (a lost wake-up is seen when a
# 10 s bound passes; measured alone: 114 s wall, 0.9 host cores), and the suite keeps one vCPU
# busy most of its time (1.4 host cores on average, both only in stress-ng). A guest slowed by
# its neighbour counts time by its own clock, which then runs slow too: its bounds stretch in
# wall time, they are not cut. Only a light guest goes beside the suite: with stress-ng.sh in a
# second guest of its own there (two vCPUs busy), the suite's program took 1.4 times as long
# (563 s; close_preempt 22 s instead of 5 s), more than the work moved: a TCG vCPU whose host
# thread waits for a core holds up the other vCPU spinning on its locks.
stage_start mutants "$LOCUSTFS_TOP/scripts/mutants.sh" "$kdir" seed-flush wake-before-change \
	rename-victim-named d-delete-no-notify uid-init-ns unhash-outside-lock write-key-epollin \
	room-keyless data-wakes-one-exclusive nosec-kept-on-chmod failed-write-no-wakeup \
	room-key-without-room
stage suite "$LOCUSTFS_TOP/qemu/run-qemu.sh" --kernel "$bzimage" --timeout 2700 -- \
	'sh tests/run-suite.sh'
# Then the virtme-ng boot, with the host's gates beside it: make lint's (rustfmt, CLIPPY=1 W=1,
# rustdoc, checkpatch --strict on the patch series) and the KUnit suites the kernel's way
# (kunit.py on User Mode Linux; its build is cached: a few seconds, minutes the first time).
# The recipes' waits are bounds for a process to start, not measurements.
stage_start vng-boot "$LOCUSTFS_TOP/qemu/vng-boot.sh" --kernel-dir "$kdir" --timeout 1200 \
	--log "$vng_console" "${bench_append[@]}" -- "sh tests/smoke.sh && sh tests/cookbook-vng.sh; rc=\$?; $bench_cmd; exit \$rc"
stage_start lint "$LOCUSTFS_TOP/scripts/lint.sh" "$kdir"
stage_start kunit "$LOCUSTFS_TOP/scripts/kunit.sh"
stage_finish mutants
stage_finish lint
stage_finish kunit
# The series lint wrote, applied with git am to the pristine 7.3 files, must be the tree the
# in-tree module was built from (make modules placed the sources there).
stage patches "$LOCUSTFS_TOP/scripts/patches.sh" verify "$ksrc" "$ksrc"
stage_finish vng-boot
stage bench-smoke "$LOCUSTFS_TOP/scripts/bench.sh" --smoke --in-boot judge "$vng_console"

took=$(($(date +%s) - check_start))
if grep -q '^controls: verdict cached for inputs ' "$LOCUSTFS_LOGS/check-controls.log"; then
	budget=$CHECK_BUDGET_CACHED budget_kind="controls' verdict cached"
else
	budget=$CHECK_BUDGET_UNCACHED budget_kind="controls run"
fi

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
if [ "$took" -gt "$budget" ]; then
	echo "check: budget: $budget s ($budget_kind), took $took s: over budget"
	echo "check: warning: make check took $((took - budget)) s more than its budget (README.md, \"How long it takes\")" >&2
else
	echo "check: budget: $budget s ($budget_kind), took $took s"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
