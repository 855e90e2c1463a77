#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Negative controls of the verdicts: provokes one real kernel report of each class in the debug
# guest and requires that the machinery `make check` judges the real tests with turns each one
# into a failure that names its class. A detector that has not been seen to fire is not one.
#
#   scripts/controls.sh KDIR [CLASS...]
#
# - LKDTM (the kernel's crash provoker, /sys/kernel/debug/provoke-crash/DIRECT) provokes a
#   WARNING, BUG, Oops, KASAN use-after-free, refcount overflow, list corruption, soft lockup and
#   hung task. Each of these panics the guest by design (GUEST_REPORT_ARGS in scripts/lib.sh),
#   so each gets its own boot: qemu/run-qemu.sh must exit 125 ("kernel report") and
#   scripts/scan-log.sh must name the class.
# - A lockdep report and a kmemleak leak do not panic: one boot runs tests/run-suite.sh with the
#   two modules of tests/controls/ as programs; the suite's post-run check must fail each one,
#   naming the class, and the host's scan must fail the boot too.
#
# Prints TAP ("ok N - CLASS: ...") and ends with "N passed, N failed".
#
# The verdict is cached: the controls prove the kernel's detectors and the verdict machinery,
# not locustfs, so they run once per content of their inputs (controls_inputs below: the kernel
# build, the report patterns, the scanners, the boot route and the guest's verdict code, the
# controls' modules). A full run (no CLASS) that passes stores its TAP in
# $LOCUSTFS_CACHE/controls/, keyed by a hash of those inputs; a later run with the same inputs
# prints that TAP, a line "controls: verdict cached for inputs HASH", and the count. Any other
# input content runs them (and names the inputs that changed since the last full run). --force,
# or FORCE=1 in the environment (`make controls`), runs them regardless. Without the cache
# directory, they run.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

force=${FORCE:-0}
if [ "${1:-}" = --force ]; then
	force=1
	shift
fi
kdir=${1:?usage: scripts/controls.sh [--force] KDIR [CLASS...]}
shift
bzimage=$kdir/arch/x86/boot/bzImage
provoke=/sys/kernel/debug/provoke-crash/DIRECT

# CLASS|LKDTM crash type|guest set-up run before it (shortens the detector's wait).
LKDTM_CONTROLS=(
	'warning|WARNING|'
	'bug|BUG|'
	'oops|EXCEPTION|'
	'kasan|READ_AFTER_FREE|'
	'refcount|REFCOUNT_INC_OVERFLOW|'
	'list-corruption|CORRUPT_LIST_ADD|'
	'soft-lockup|SOFTLOCKUP|echo 1 >/proc/sys/kernel/watchdog_thresh'
	'hung-task|HUNG_TASK|echo 2 >/proc/sys/kernel/hung_task_timeout_secs'
)
# CLASS|program of tests/controls run by the suite|a line the suite's output must have (ERE).
SUITE_CONTROLS=(
	'kmemleak|controls/kmemleak.sh|^not ok [0-9]+ kmemleak scan after the suite: kmemleak'
	'lockdep|controls/lockdep.sh|^# +post-run checks of controls/lockdep.sh: FAILED \(kernel-report\(lockdep'
)

wanted() {
	[ ${#only[@]} -eq 0 ] && return 0
	local c
	for c in "${only[@]}"; do [ "$c" = "$1" ] && return 0; done
	return 1
}
only=("$@")

n=0 passed=0 failed=0
result() {
	n=$((n + 1))
	if [ "$1" = ok ]; then
		passed=$((passed + 1))
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
	fi
}

# The classes scan-log named in a run-qemu.sh output.
scanned_classes() {
	sed -n 's/^scan-log: classes: *//p' "$1" | tail -1
}

# controls_inputs: one "SHA256  NAME" line per input of the verdict.
controls_inputs() {
	kernel_build_hashes "$kdir" | sed 's|  |  kernel: |'
	(cd "$LOCUSTFS_TOP" && sha256sum tests/report-patterns tests/report-classes.awk \
		scripts/scan-log.sh scripts/controls.sh scripts/lib.sh qemu/run-qemu.sh qemu/init.sh \
		qemu/initramfs.sh tests/run-suite.sh tests/lib.sh $(source_files tests/controls))
	# What the initramfs packs (busybox, stress-ng and its libraries), as qemu/initramfs.sh
	# keys it, and the emulator.
	"$LOCUSTFS_TOP/qemu/initramfs.sh" "$LOCUSTFS_CACHE/initramfs.cpio.gz" ||
		die "controls: building the initramfs failed"
	printf '%s  initramfs: %s\n' "$(cat "$LOCUSTFS_CACHE/initramfs.cpio.gz.inputs")" \
		"busybox, stress-ng, its libraries, init.sh, initramfs.sh"
	printf '%s  %s\n' "$(qemu-system-x86_64 --version | head -1 | sha256sum | cut -d' ' -f1)" \
		"qemu: $(qemu-system-x86_64 --version | head -1)"
}

cache_dir=$LOCUSTFS_CACHE/controls
key=''
if [ ${#only[@]} -eq 0 ]; then
	inputs=$(controls_inputs) || exit 1
	key=$(sha256sum <<<"$inputs" | cut -c1-16)
	if [ "$force" != 1 ] && [ -f "$cache_dir/$key.tap" ]; then
		head -n -1 "$cache_dir/$key.tap"
		echo "# cached on $(date -u -r "$cache_dir/$key.tap" '+%Y-%m-%d %H:%M UTC'); its inputs: $cache_dir/$key.inputs; FORCE=1 (make controls) runs them again"
		echo "controls: verdict cached for inputs $key"
		tail -n 1 "$cache_dir/$key.tap"
		exit 0
	fi
	if [ "$force" = 1 ]; then
		phase "controls: inputs $key: running them (forced)"
	else
		phase "controls: no verdict cached for inputs $key: running them"
	fi
	if [ -f "$cache_dir/last.inputs" ]; then
		changed=$(diff <(echo "$inputs") "$cache_dir/last.inputs" | sed -n 's/^[<>] [0-9a-f]*  //p' |
			sed 's/:.*//' | awk '!seen[$0]++' | tr '\n' ' ' | sed 's/ $//')
		[ -z "$changed" ] || info "changed since the last full run: $changed"
	fi
fi

# run_controls: the controls, their TAP on stdout.
run_controls() {
	total=0
	for c in "${LKDTM_CONTROLS[@]}" "${SUITE_CONTROLS[@]}"; do wanted "${c%%|*}" && total=$((total + 1)); done
	echo "TAP version 13"
	echo "1..$total"

	started=$(date +%s)
	for c in "${LKDTM_CONTROLS[@]}"; do
		IFS='|' read -r class crash setup <<<"$c"
		wanted "$class" || continue
		log=$LOCUSTFS_LOGS/control-$class.log
		phase "control $class: LKDTM $crash" >&2
		cmd="$setup${setup:+; }echo $crash >$provoke; echo 'control: the guest survived LKDTM $crash'"
		"$LOCUSTFS_TOP/qemu/run-qemu.sh" --kernel "$bzimage" --timeout 180 -- "$cmd" >"$log" 2>&1
		status=$?
		classes=$(scanned_classes "$log")
		if [ "$status" = 125 ] && [[ " $classes " == *" $class "* ]]; then
			result ok "$class: LKDTM $crash fails the run (exit 125, scan-log classes: $classes)"
		else
			result fail "$class: LKDTM $crash: exit $status, scan-log classes '${classes:-none}' (log: $log)"
			grep -a 'lkdtm\|run-qemu:' "$log" | head -n 5 | sed 's/^/# /'
		fi
	done

	suite_classes=()
	for c in "${SUITE_CONTROLS[@]}"; do wanted "${c%%|*}" && suite_classes+=("$c"); done
	if [ ${#suite_classes[@]} -gt 0 ]; then
		log=$LOCUSTFS_LOGS/control-suite.log
		progs=
		for c in "${suite_classes[@]}"; do
			IFS='|' read -r _ prog _ <<<"$c"
			progs="$progs $prog"
		done
		phase "controls in the suite:$progs" >&2
		make -s -C "$kdir" M="$LOCUSTFS_TOP/tests/controls" LLVM="$LLVM_SUFFIX" modules \
			>"$LOCUSTFS_LOGS/control-modules.log" 2>&1 ||
			die "controls: building tests/controls failed (see $LOCUSTFS_LOGS/control-modules.log)"
		"$LOCUSTFS_TOP/qemu/run-qemu.sh" --kernel "$bzimage" --timeout 600 -- \
			"sh tests/run-suite.sh$progs" >"$log" 2>&1
		status=$?
		classes=$(scanned_classes "$log")
		for c in "${suite_classes[@]}"; do
			IFS='|' read -r class prog verdict <<<"$c"
			line=$(grep -aE -m1 -- "$verdict" "$log")
			if [ -n "$line" ] && [ "$status" = 125 ] && [[ " $classes " == *" $class "* ]]; then
				result ok "$class: $prog fails the suite ('$(sed 's/^[# ]*//' <<<"$line")') and the boot (exit 125, scan-log classes: $classes)"
			else
				result fail "$class: $prog: no line '$verdict', boot exit $status, scan-log classes '${classes:-none}' (log: $log)"
			fi
		done
	fi
	info "controls: $(($(date +%s) - started)) s" >&2
	echo "controls: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

tap=$(mktemp)
trap 'rm -f "$tap"' EXIT
run_controls | tee "$tap"
status=${PIPESTATUS[0]}
# Only a full run that passed is a verdict to keep.
if [ -n "$key" ]; then
	if mkdir -p "$cache_dir" 2>/dev/null && echo "$inputs" >"$cache_dir/last.inputs" &&
		[ "$status" = 0 ]; then
		echo "$inputs" >"$cache_dir/$key.inputs"
		cp "$tap" "$cache_dir/$key.tap.$$" && mv "$cache_dir/$key.tap.$$" "$cache_dir/$key.tap"
		info "controls: verdict cached for inputs $key"
	fi
fi
exit "$status"
