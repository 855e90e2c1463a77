#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`: runs the benchmark programs of bench/ in one boot of a guest kernel and writes
# bench/results/*.json, bench/results/*.svg and docs/benchmarks.md.
#
#   scripts/bench.sh [--quick] [--smoke] [--profile] [--kernel debug|perf]
#   scripts/bench.sh --smoke --in-boot prepare|judge [CONSOLE_LOG]
#
#   (default)   full run on the perf kernel (~10 min under TCG, more on a busy host)
#   --quick     a short real run (< 5 min once the perf kernel is built)
#   --smoke     every program with tiny sizes and one repetition, checked for sane output;
#               prints "N passed, N failed" and writes no results (default kernel: debug)
#   --profile   only the function profiles (ftrace's function profiler, perf kernel): one
#               wake-up round trip series per channel and the fan-out at N = 10, written to
#               bench/results/profile.md (quick and full runs add them to docs/benchmarks.md)
#   --kernel F  the guest kernel flavour (scripts/kernel.sh); figures only come from perf
#   --in-boot prepare   the smoke run without a boot of its own, for a guest another command
#               boots (make check: the virtme-ng boot test's, after the smoke test): builds the
#               programs, stages them with the work tree's locustfs.ko in bench/build/share-smoke
#               and prints two lines: the guest command that runs them there (run from the
#               repository; output and status stay in the share's out/), and the kernel command
#               line arguments the guest needs (a TSC under TCG, as below; may be empty)
#   --in-boot judge [CONSOLE_LOG]   checks what that command left, as --smoke does, and the
#               boot's kernel log from the command's start on (a report there fails the run)
#
# Steps: builds the perf (or debug) guest kernel if it is not cached, the static benchmark
# programs (bench/Makefile) and locustfs.ko against that kernel (in a copy of the module
# source under $LOCUSTFS_CACHE/bench-FLAVOUR, so the work tree's own build is left alone; the
# debug kernel reuses the work tree's locustfs.ko when it is current), then boots the guest
# once (qemu/run-qemu.sh; bench/guest.sh inside) and hands its raw output to bench/report.py.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

mode=full flavour='' in_boot='' console=''
while [ $# -gt 0 ]; do
	case $1 in
	--quick) mode=quick; shift ;;
	--smoke) mode=smoke; shift ;;
	--profile) mode=profile; shift ;;
	--kernel) flavour=${2:?--kernel needs debug or perf}; shift 2 ;;
	--in-boot)
		in_boot=${2:?--in-boot needs prepare or judge}
		shift 2
		if [ "$in_boot" = judge ] && [ $# -gt 0 ] && [[ $1 != --* ]]; then
			console=$1
			shift
		fi
		;;
	-h | --help) sed -n '3,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "bench: unknown argument '$1' (usage: scripts/bench.sh [--quick] [--smoke] [--profile] [--kernel F] [--in-boot prepare|judge [LOG]])" ;;
	esac
done
[ -n "$flavour" ] || { [ "$mode" = smoke ] && flavour=debug || flavour=perf; }
case $flavour in debug | perf) ;; *) die "bench: --kernel must be debug or perf" ;; esac
if [ "$mode" != smoke ] && [ "$flavour" != perf ]; then
	die "bench: figures come only from the perf kernel (--kernel debug is for --smoke)"
fi

SMP=2
MEM=2G
start=$(date +%s)
# The host's load average (1 min): other guests running beside this one disturb its figures.
host_load() { cut -d' ' -f1 /proc/loadavg; }
bench=$LOCUSTFS_TOP/bench
stage=$LOCUSTFS_CACHE/bench-$flavour
share=$stage/share

# tsc_args: the kernel command line a guest needs for a clock fit for timing: without ACPI the
# guest kernel finds no HPET or PM timer to calibrate the TSC against, marks it unstable and
# keeps time with refined-jiffies, a 1 ms clock (the smoke run's sanity check sees samples of
# 0 ns on it). Under TCG the guest's TSC is the host's, so the guest is told its frequency.
# Nothing under KVM. Needs bench/build/tsc_khz.
tsc_args() {
	local accel khz
	accel=$("$LOCUSTFS_TOP/qemu/accel.sh" ${bzimage:+--kernel "$bzimage"}) || die "bench: qemu/accel.sh failed"
	if [ "$accel" = tcg ]; then
		khz=$("$bench/build/tsc_khz") || die "bench: cannot measure the host's TSC frequency"
		echo "tsc_early_khz=$khz tsc=reliable"
	else
		echo
	fi
}

# stage_share KO: the guest's share: module, programs, guest script, empty output directory.
stage_share() {
	rm -rf "$share"
	mkdir -p "$share/bin" "$share/out"
	cp "$1" "$share/locustfs.ko"
	cp "$bench"/build/{wakeup,lifecycle,fanout,teardown,memory,throughput} "$share/bin/"
	cp "$bench/guest.sh" "$share/guest.sh"
}

# --- smoke run in another command's boot -----------------------------------------------------
# The share is in the repository (bench/build/share-smoke), which every guest sees at /repo.
if [ -n "$in_boot" ]; then
	[ "$mode" = smoke ] || die "bench: --in-boot is for --smoke"
	share=$bench/build/share-smoke
	rel=${share#"$LOCUSTFS_TOP"/}
	marker='locustfs-bench: begin smoke'
	case $in_boot in
	prepare)
		make -s -C "$bench" >&2 || die "bench: building bench/ failed"
		[ -f "$LOCUSTFS_TOP/locustfs.ko" ] || die "bench: no locustfs.ko in the work tree (make modules)"
		stage_share "$LOCUSTFS_TOP/locustfs.ko"
		# For the guest's shell, run from the repository. guest.sh runs under busybox sh,
		# whose tools are built in: a virtme-ng guest would otherwise start each from the
		# host's root over 9p, which costs it a minute. The mounts go under /tmp, which every
		# guest has writable.
		echo "(cd $rel && echo '$marker' >/dev/kmsg && { BENCH_MNT=/tmp/bench-mnt busybox sh guest.sh smoke >out/guest.log 2>&1; echo \$? >out/guest.status; })"
		tsc_args
		;;
	judge)
		if [ ! -f "$share/out/guest.status" ]; then
			echo "not ok guest: the benchmark programs did not run (no $rel/out/guest.status: the boot ended before them)"
			echo "0 passed, 1 failed"
			exit 1
		fi
		sed 's/^/    /' "$share/out/guest.log"
		guest_status=$(tr -dc '0-9' <"$share/out/guest.status")
		if [ -n "$console" ]; then
			# The boot's kernel log from the programs' start: a report there is theirs.
			section=$(mktemp)
			trap 'rm -f "$section"' EXIT
			log_section "$console" "$marker" >"$section"
			[ -s "$section" ] || die "bench: no line '$marker' in $console"
			if ! "$LOCUSTFS_TOP/scripts/scan-log.sh" "$section"; then
				echo "bench: a kernel report while the benchmark programs ran (console log: $console)"
				guest_status=125
			fi
		fi
		phase "bench: checking the smoke run's output"
		python3 "$bench/report.py" --raw "$share/out" --mode smoke --flavour debug \
			--guest-status "${guest_status:-1}"
		;;
	*) die "bench: --in-boot takes prepare or judge, not '$in_boot'" ;;
	esac
	exit
fi

# --- guest kernel ---------------------------------------------------------------------------
kdir=$("$LOCUSTFS_TOP/scripts/kernel.sh" path "$flavour")
if [ ! -f "$kdir/.locustfs-built" ]; then
	phase "bench: the $flavour kernel is not built yet"
	"$LOCUSTFS_TOP/scripts/kernel.sh" build "$flavour"
fi
bzimage=$kdir/arch/x86/boot/bzImage
[ -f "$bzimage" ] || die "bench: $bzimage missing"
if [ "$mode" != smoke ]; then
	debug_opts=$(grep -E '^CONFIG_(KASAN|LOCKDEP|PROVE_LOCKING|DEBUG_KMEMLEAK|UBSAN)=y' \
		"$kdir/.config" | tr '\n' ' ' || true)
	[ -z "$debug_opts" ] || die "bench: $kdir has debugging checkers ($debug_opts): no figures from it"
fi

# --- programs and module --------------------------------------------------------------------
phase "bench: building the benchmark programs"
make -s -C "$bench" || die "bench: building bench/ failed"

# module_current: the work tree's locustfs.ko exists and no module source is newer.
module_current() {
	local ko=$LOCUSTFS_TOP/locustfs.ko
	[ -f "$ko" ] && [ -z "$(find "$LOCUSTFS_TOP/Kbuild" "$LOCUSTFS_TOP/src" -type f -newer "$ko" \
		! -name '*.o' ! -name '*.cmd' ! -name generated.rs ! -name c_inlines.c -print -quit)" ]
}

if [ "$flavour" = debug ] && module_current; then
	ko=$LOCUSTFS_TOP/locustfs.ko
	info "using the work tree's locustfs.ko (built against the debug kernel)"
else
	# A copy of the module source (Kbuild, src/) without build products; tar keeps the
	# files' times, so an unchanged source is not rebuilt on the next run. A source that
	# differs in content from the copy's (another checkout, whose files may be older than the
	# copy's objects, so make would not rebuild them) starts from an empty copy.
	phase "bench: building locustfs.ko against the $flavour kernel in $stage/src"
	hash=$(module_source_tar | sha256sum | cut -d' ' -f1)
	if [ "$(cat "$stage/src/.locustfs-source" 2>/dev/null)" != "$hash" ]; then
		rm -rf "$stage/src"
	fi
	mkdir -p "$stage/src"
	excludes=()
	for p in "${MODULE_BUILD_PRODUCTS[@]}"; do excludes+=("--exclude=$p"); done
	(cd "$LOCUSTFS_TOP" && tar -cf - "${excludes[@]}" Kbuild src) | tar -xf - -C "$stage/src"
	echo "$hash" >"$stage/src/.locustfs-source"
	run_logged "bench-module-$flavour" make -C "$kdir" M="$stage/src" LLVM="$LLVM_SUFFIX" modules
	ko=$stage/src/locustfs.ko
fi

stage_share "$ko"

accel=$("$LOCUSTFS_TOP/qemu/accel.sh" --kernel "$bzimage")
appends=()
tsc=$(tsc_args)
[ -z "$tsc" ] || appends=(--append "$tsc")
case $mode in
smoke) timeout=300 ;;
quick | profile) timeout=900 ;;
*) timeout=5400 ;;
esac
log=$LOCUSTFS_LOGS/bench-$mode.log
phase "bench: $mode run on the $flavour kernel ($accel, $SMP vCPUs, $MEM); output also in $log"
load_before=$(host_load)
set +e
"$LOCUSTFS_TOP/qemu/run-qemu.sh" --kernel "$bzimage" --repo "$share" --smp "$SMP" --mem "$MEM" \
	--timeout "$timeout" --accel "$accel" "${appends[@]}" -- "sh guest.sh $mode" 2>&1 | tee "$log"
guest_status=${PIPESTATUS[0]}
set -e
load_after=$(host_load)
case $guest_status in
0) ;;
3) die "bench: the guest refused to measure (see $log)" ;;
*) info "bench: the guest run ended with status $guest_status (see $log)" ;;
esac

# --- results ---------------------------------------------------------------------------------
report=(python3 "$bench/report.py" --raw "$share/out" --mode "$mode" --accel "$accel"
	--smp "$SMP" --mem "$MEM" --flavour "$flavour" --guest-status "$guest_status"
	--seconds "$(($(date +%s) - start))"
	--qemu "$(qemu-system-x86_64 --version | head -1)"
	--host-cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores"
	--host-load "$load_before $load_after"
	--results "$bench/results" --doc "$LOCUSTFS_TOP/docs/benchmarks.md")
if [ "$mode" = profile ]; then
	[ "$guest_status" = 0 ] || die "bench: the profile run failed (see $log)"
	python3 "$bench/profile.py" --raw "$share/out" --out "$bench/results/profile.md"
	info "bench: function profiles in bench/results/profile.md ($(($(date +%s) - start)) s)"
	exit
fi
if [ "$mode" = smoke ]; then
	phase "bench: checking the smoke run's output"
	"${report[@]}"
	exit
fi
phase "bench: writing bench/results/ and docs/benchmarks.md"
"${report[@]}" || die "bench: some benchmarks failed (see docs/benchmarks.md and $log)"
info "bench: $mode run done in $(($(date +%s) - start)) s"
