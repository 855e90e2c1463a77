#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boots a locustfs guest kernel in QEMU with the busybox initramfs, runs one command in the
# guest (in /repo, the host repository shared over 9p) and returns its exit status.
#
#   qemu/run-qemu.sh [OPTIONS] -- CMD...
#
# Options:
#   --kernel BZIMAGE      guest kernel (default: the debug kernel of scripts/kernel.sh)
#   --timeout SECONDS     hard limit for the whole run, 0 = none (default 600; interactive: none)
#   --interactive         run CMD (optional) then a shell in the guest; needs a terminal
#   --append 'ARGS'       extra kernel command line (may be repeated)
#   --smp N               vCPUs (default 2)
#   --mem SIZE            guest memory (default 1G)
#   --no-panic-on-warn    leave out panic_on_warn=1 (WARN()s then only taint, and get reported)
#   --kmemleak            after CMD, run a kmemleak scan and log what it finds (+10-30 s)
#   --repo DIR            host directory shared as /repo (default: this repository)
#   --log FILE            console log (default: $LOCUSTFS_LOGS/guest-<timestamp>.log)
#   --accel kvm|tcg       skip qemu/accel.sh's verdict
#
# With one CMD word, that word is a shell script (`-- 'make -C tests; echo $?'`); with several,
# they are quoted and run as one command (`-- tests/run.sh --quick`).
#
# The host's stdout shows only the command's output (stdout and stderr, from the guest's
# ttyS1); the kernel console (ttyS0) goes to the log file, whose path is printed on stderr.
# After the guest stops, scripts/scan-log.sh checks the log for kernel reports.
#
# Exit status: the guest command's status (0-255) when the guest finished and its log is clean;
# 124 if the guest timed out; 125 if the kernel log has a report (KASAN, lockdep, WARN, ...),
# whatever the command returned; 126 if the guest stopped without reporting a status (no
# marker: early panic, init died); 1 for host-side errors. Each failure prints a one-line
# reason starting with "run-qemu:" on stderr.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../scripts/lib.sh"

usage() {
	sed -n '3,/^set /{/^#/p}' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

kernel='' timeout='' interactive=0 smp=2 mem=1G panic_on_warn=1 kmemleak=0 accel=''
repo=$LOCUSTFS_TOP log='' appends=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=${2:?--kernel needs a file}; shift 2 ;;
	--timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
	--interactive) interactive=1; shift ;;
	--append) appends+=("${2?--append needs an argument}"); shift 2 ;;
	--smp) smp=${2:?--smp needs a number}; shift 2 ;;
	--mem) mem=${2:?--mem needs a size}; shift 2 ;;
	--no-panic-on-warn) panic_on_warn=0; shift ;;
	--kmemleak) kmemleak=1; shift ;;
	--repo) repo=${2:?--repo needs a directory}; shift 2 ;;
	--log) log=${2:?--log needs a file}; shift 2 ;;
	--accel) accel=${2:?--accel needs kvm or tcg}; shift 2 ;;
	--) shift; break ;;
	-h | --help) usage ;;
	*) printf 'run-qemu: unknown argument %s\n' "$1" >&2; usage ;;
	esac
done

if [ $# -eq 1 ]; then
	cmd=$1
elif [ $# -gt 1 ]; then
	cmd=$(printf '%q ' "$@")
	cmd=${cmd% }
else
	cmd=
fi
[ -n "$cmd" ] || [ "$interactive" = 1 ] || die "run-qemu: no command (usage: run-qemu.sh [OPTIONS] -- CMD...)"
if [ "$interactive" = 1 ]; then
	[ -t 0 ] && [ -t 1 ] || die "run-qemu: --interactive needs a terminal on stdin and stdout"
	timeout=${timeout:-0}
fi
timeout=${timeout:-600}
[[ $timeout =~ ^[0-9]+$ ]] || die "run-qemu: --timeout must be a whole number of seconds, not '$timeout'"
[[ $smp =~ ^[1-9][0-9]*$ ]] || die "run-qemu: --smp must be a positive number, not '$smp'"
[ -d "$repo" ] || die "run-qemu: repository directory $repo does not exist"

command -v qemu-system-x86_64 >/dev/null || die "run-qemu: qemu-system-x86_64 not found (run scripts/setup.sh)"
if [ -z "$kernel" ]; then
	kdir=$("$LOCUSTFS_TOP/scripts/kernel.sh" path debug) ||
		die "run-qemu: cannot locate the debug kernel (scripts/kernel.sh path debug failed)"
	kernel=$kdir/arch/x86/boot/bzImage
	[ -f "$kdir/.locustfs-built" ] && [ -f "$kernel" ] ||
		die "run-qemu: debug kernel not built yet ($kernel): run scripts/kernel.sh build debug"
fi
[ -f "$kernel" ] || die "run-qemu: kernel $kernel not found"

initrd=$LOCUSTFS_CACHE/initramfs.cpio.gz
"$LOCUSTFS_TOP/qemu/initramfs.sh" "$initrd" || die "run-qemu: building the initramfs failed"

if [ -z "$accel" ]; then
	accel=$("$LOCUSTFS_TOP/qemu/accel.sh" --kernel "$kernel") || die "run-qemu: qemu/accel.sh failed"
fi
case $accel in
kvm) accel_args=(-accel kvm -cpu host) ;;
tcg) accel_args=(-accel tcg) ;;
*) die "run-qemu: unknown accelerator '$accel'" ;;
esac

stamp=$(date +%Y%m%d-%H%M%S)
[ -n "$log" ] || log=$LOCUSTFS_LOGS/guest-$stamp-$$.log
mkdir -p "$(dirname "$log")"
: >"$log" || die "run-qemu: cannot write the console log $log"
ln -sfn "$(basename "$log")" "$(dirname "$log")/guest-latest.log" 2>/dev/null || true
qemu_err=${log%.log}.qemu-stderr

ctl=$(mktemp -d "${TMPDIR:-/tmp}/locustfs-ctl.XXXXXX")
qpid=
cleanup() {
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
		kill -TERM "$qpid" 2>/dev/null || true
		sleep 1
		kill -KILL "$qpid" 2>/dev/null || true
	fi
	if [ -n "${saved_tty:-}" ]; then stty "$saved_tty" 2>/dev/null || true; fi
	rm -rf "$ctl"
}
trap cleanup EXIT
trap 'printf "run-qemu: interrupted\n" >&2; exit 130' INT TERM HUP
printf '%s' "$cmd" >"$ctl/cmd"

cmdline=(console=ttyS0 "${GUEST_REPORT_ARGS[@]}")
[ "$panic_on_warn" = 1 ] && cmdline+=(panic_on_warn=1)
cmdline+=(locustfs_guest.tty=ttyS1)
[ "$kmemleak" = 1 ] && cmdline+=(locustfs_guest.kmemleak=1)
if [ "$interactive" = 1 ]; then
	cmdline+=(locustfs_guest.interactive=1 "locustfs_guest.term=${TERM:-linux}")
	size=$(stty size 2>/dev/null) && cmdline+=("locustfs_guest.winsize=${size% *}x${size#* }")
fi
cmdline+=("${appends[@]}")

qemu=(qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot
	-machine pc "${accel_args[@]}" -m "$mem"
	# One CPU per socket: SeaBIOS's MP table names only the first CPU of each package, and
	# without ACPI in the guest kernel the MP table is all it has to find CPUs.
	-smp "$smp,sockets=$smp,cores=1,threads=1"
	-kernel "$kernel" -initrd "$initrd" -append "${cmdline[*]}"
	-chardev "file,id=console,path=${log//,/,,}" -serial chardev:console
	-chardev "stdio,id=cmdio,signal=off" -serial chardev:cmdio
	-fsdev "local,id=repo,path=${repo//,/,,},security_model=none,multidevs=remap"
	-device virtio-9p-pci,fsdev=repo,mount_tag=repo
	-fsdev "local,id=ctl,path=${ctl//,/,,},security_model=none"
	-device virtio-9p-pci,fsdev=ctl,mount_tag=locustfs_ctl)

info "guest kernel: $kernel ($accel, $smp vCPUs, $mem, timeout ${timeout} s)"
info "console log: $log"

start_ms=$(($(date +%s%N) / 1000000))
if [ "$interactive" = 1 ]; then
	saved_tty=$(stty -g)
	# QEMU sets O_NONBLOCK on its stdio: give it its own open file description of the tty.
	"${qemu[@]}" </proc/self/fd/0 >>/proc/self/fd/1 2>"$qemu_err" &
elif [ -t 1 ]; then
	"${qemu[@]}" </dev/null >>/proc/self/fd/1 2>"$qemu_err" &
else
	"${qemu[@]}" </dev/null 2>"$qemu_err" &
fi
qpid=$!

watch_guest "$qpid" "$qpid" "$log" "$timeout" "$start_ms"
timed_out=$guest_timed_out halted=$guest_halted qrc=$guest_rc
qpid=
end_ms=$(($(date +%s%N) / 1000000))
if [ -n "${saved_tty:-}" ]; then stty "$saved_tty" 2>/dev/null || true; fi

wall=$(awk -v ms=$((end_ms - start_ms)) 'BEGIN { printf "%.1f", ms / 1000 }')

# Guest-side times, from the kernel log's timestamps.
t_cmd=$(guest_timestamp "$log" 'running command')
t_fin=$(guest_timestamp "$log" 'command finished')
t_exit=$(guest_timestamp "$log" 'exit status')
if [ -n "$t_cmd" ] && [ -n "$t_fin" ] && [ -n "$t_exit" ]; then
	info "$(awk -v w="$wall" -v a="$t_cmd" -v f="$t_fin" -v e="$t_exit" 'BEGIN {
		printf "guest: %.1f s wall: boot ~%.1f s, command %.1f s", w, w - (e - a), f - a
		if (e - f >= 1) printf ", after it %.1f s", e - f }')"
else
	info "guest: ${wall} s wall"
fi

if [ -s "$qemu_err" ]; then
	sed 's/^/    qemu: /' "$qemu_err" >&2
else
	rm -f "$qemu_err"
fi

scan_out=$("$LOCUSTFS_TOP/scripts/scan-log.sh" "$log") && scan_rc=0 || scan_rc=$?

if [ "$timed_out" = 1 ]; then
	printf 'run-qemu: guest timed out after %s s; last 40 lines of %s:\n' "$timeout" "$log" >&2
	tail -n 40 "$log" | tr -d '\r' >&2
	[ "$scan_rc" = 1 ] && printf '%s\n' "$scan_out" >&2
	printf 'run-qemu: guest timed out after %s s (console log: %s)\n' "$timeout" "$log" >&2
	exit 124
fi

status=
if [ -f "$ctl/status" ]; then
	status=$(tr -dc '0-9' <"$ctl/status")
fi
if [ -z "$status" ]; then
	status=$(grep -a 'locustfs-guest: exit status ' "$log" | tail -1 |
		sed -n 's/.*locustfs-guest: exit status \([0-9]*\).*/\1/p' || true)
fi

if [ "$scan_rc" = 1 ]; then
	printf '%s\n' "$scan_out" >&2
	printf 'run-qemu: kernel report(s) in the console log %s (command exit status: %s)\n' \
		"$log" "${status:-none}" >&2
	exit 125
elif [ "$scan_rc" != 0 ]; then
	die "run-qemu: scripts/scan-log.sh failed on $log"
fi

if [ -z "$status" ]; then
	printf 'run-qemu: last 20 lines of %s:\n' "$log" >&2
	tail -n 20 "$log" | tr -d '\r' >&2
	if [ "$halted" = 1 ]; then
		printf 'run-qemu: the guest halted (power-off) before reporting an exit status (console log: %s)\n' "$log" >&2
	elif [ "$qrc" != 0 ]; then
		printf 'run-qemu: QEMU failed (exit %s) before the guest reported a status; see %s\n' \
			"$qrc" "$qemu_err" >&2
	elif ! grep -qa 'Run /init as init process' "$log"; then
		printf 'run-qemu: the guest kernel stopped before starting /init (console log: %s)\n' "$log" >&2
	else
		printf 'run-qemu: the guest stopped without reporting an exit status (console log: %s)\n' "$log" >&2
	fi
	exit 126
fi
if [ "$status" != 0 ]; then
	info "guest command exited with status $status"
fi
exit "$status"
