#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs one command in a virtme-ng (vng) guest booted from a locustfs kernel build directory,
# with the host's filesystem as the guest's root, and returns the command's exit status.
#
#   qemu/vng-boot.sh [OPTIONS] -- CMD...
#
# Options:
#   --kernel-dir DIR      kernel build directory (KBUILD_OUTPUT; default: the debug kernel of
#                         scripts/kernel.sh)
#   --timeout SECONDS     hard limit for the whole run, 0 = none (default 900)
#   --smp N               vCPUs (default 2)
#   --mem SIZE            guest memory (default 1G)
#   --append 'ARGS'       extra kernel command line (may be repeated)
#   --no-panic-on-warn    leave out panic_on_warn=1
#   --log FILE            console log (default: $LOCUSTFS_LOGS/vng-<timestamp>.log)
#   --accel kvm|tcg       skip qemu/accel.sh's verdict
#
# In the guest the repository is at the same path as on the host (this script's repository,
# e.g. /home/me/locustfs), read-write, and is the working directory. The rest of the guest's
# root is the host's filesystem, read-only or behind throw-away overlays (/etc, /tmp, /var,
# ...). The command runs as root with the host's /bin/sh. (The plain QEMU route,
# qemu/run-qemu.sh, shares the repository at /repo instead.)
#
# Under TCG the boot is slow: virtme-ng's init runs systemd-tmpfiles and a udev coldplug
# before the command; qemu/run-qemu.sh boots in ~15 s. The coldplug's cost is one udev event
# per device: the guest is booted with pty.legacy_count=0, so that the 512 BSD pty devices
# (CONFIG_LEGACY_PTYS, which nothing here uses: /dev/pts is devpts) are not created, which
# leaves about a fifth of the events.
# LOCUSTFS_VNG=PATH uses another vng executable than the pinned one of scripts/setup.sh.
#
# The kernel console (ttyS0, from the first message on: `vng -v` sends it to vng's stderr)
# goes to the log file, which scripts/scan-log.sh checks after the run. The command's stdout
# and stderr, merged, go to the host's stdout. Exit status: the command's; 124 on timeout;
# 125 if the kernel log has a report; 126 if the guest stopped without reporting a status;
# 1 for host-side errors.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../scripts/lib.sh"

usage() {
	sed -n '3,/^set /{/^#/p}' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

kdir='' timeout=900 smp=2 mem=1G panic_on_warn=1 log='' accel='' appends=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel-dir) kdir=${2:?--kernel-dir needs a directory}; shift 2 ;;
	--timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
	--smp) smp=${2:?--smp needs a number}; shift 2 ;;
	--mem) mem=${2:?--mem needs a size}; shift 2 ;;
	--append) appends+=("${2?--append needs an argument}"); shift 2 ;;
	--no-panic-on-warn) panic_on_warn=0; shift ;;
	--log) log=${2:?--log needs a file}; shift 2 ;;
	--accel) accel=${2:?--accel needs kvm or tcg}; shift 2 ;;
	--) shift; break ;;
	-h | --help) usage ;;
	*) printf 'vng-boot: unknown argument %s\n' "$1" >&2; usage ;;
	esac
done
if [ $# -eq 1 ]; then
	cmd=$1
elif [ $# -gt 1 ]; then
	cmd=$(printf '%q ' "$@")
	cmd=${cmd% }
else
	die "vng-boot: no command (usage: vng-boot.sh [OPTIONS] -- CMD...)"
fi
[[ $timeout =~ ^[0-9]+$ ]] || die "vng-boot: --timeout must be a whole number of seconds, not '$timeout'"
[[ $smp =~ ^[1-9][0-9]*$ ]] || die "vng-boot: --smp must be a positive number, not '$smp'"

VNG=${LOCUSTFS_VNG:-$LOCUSTFS_CACHE/venv/bin/vng}
[ -x "$VNG" ] || VNG=$(command -v vng) || die "vng-boot: virtme-ng not installed (run scripts/setup.sh)"
command -v qemu-system-x86_64 >/dev/null || die "vng-boot: qemu-system-x86_64 not found (run scripts/setup.sh)"
command -v udevadm >/dev/null ||
	die "vng-boot: udev is not installed on the host (virtme-ng then loses the command's output and status)"
command -v setsid >/dev/null || die "vng-boot: setsid not found (util-linux)"

if [ -z "$kdir" ]; then
	kdir=$("$LOCUSTFS_TOP/scripts/kernel.sh" path debug) ||
		die "vng-boot: cannot locate the debug kernel (scripts/kernel.sh path debug failed)"
	[ -f "$kdir/.locustfs-built" ] || die "vng-boot: debug kernel not built yet ($kdir): run scripts/kernel.sh build debug"
fi
[ -f "$kdir/arch/x86/boot/bzImage" ] || die "vng-boot: no kernel in $kdir (arch/x86/boot/bzImage missing)"

if [ -z "$accel" ]; then
	accel=$("$LOCUSTFS_TOP/qemu/accel.sh" --kernel "$kdir/arch/x86/boot/bzImage") ||
		die "vng-boot: qemu/accel.sh failed"
fi
case $accel in
kvm) accel_args=(--disable-microvm) ;;
tcg) accel_args=(--disable-kvm) ;;
*) die "vng-boot: unknown accelerator '$accel'" ;;
esac

[ -n "$log" ] || log=$LOCUSTFS_LOGS/vng-$(date +%Y%m%d-%H%M%S)-$$.log
mkdir -p "$(dirname "$log")"
: >"$log" || die "vng-boot: cannot write the console log $log"
ln -sfn "$(basename "$log")" "$(dirname "$log")/vng-latest.log" 2>/dev/null || true

# The command, wrapped: stderr joins stdout (vng's stderr is the console log), markers in the
# kernel log (boot time, exit status), and a child sh so that `exit N` works; base64 keeps
# any quoting intact.
b64=$(printf '%s' "$cmd" | base64 -w0)
wrapper="exec 2>&1; echo 'locustfs-guest: running command' >/dev/kmsg 2>/dev/null;"
wrapper+=" sh -c \"\$(echo $b64 | base64 -d)\"; rc=\$?;"
wrapper+=" echo \"locustfs-guest: exit status \$rc\" >/dev/kmsg 2>/dev/null; exit \$rc"

# root=/dev/root: vng names the 9p root share "/dev/root" but passes no root=, and a kernel
# without CONFIG_BLOCK only mounts a non-block root that is named on the command line.
# rootflags: vng's own (the last rootflags= is the one the kernel uses) plus cache=loose. The
# root is the host's filesystem, read-only, and the guest may keep what it read of it: without
# the cache every lookup and read is a 9p round trip, and starting Python (import asyncio)
# took 17.5 s, then 8.0 s; with it 8.0 s, then 3.3 s (measured in this guest under TCG). What
# the host changes under / while the guest runs may then go unseen; the repository, the one
# directory both sides write, is a mount of its own without a cache.
kargs=(root=/dev/root "rootflags=version=9p2000.L,trans=virtio,access=any,msize=524288,cache=loose"
	pty.legacy_count=0 "${GUEST_REPORT_ARGS[@]}")
[ "$panic_on_warn" = 1 ] && kargs+=(panic_on_warn=1)
kargs+=("${appends[@]}")

# -v: the kernel console (ttyS0) goes to vng's stderr, i.e. the log. One CPU per socket:
# SeaBIOS's MP table names only the first CPU of each package, and a guest kernel without
# ACPI finds its CPUs in the MP table.
vng_cmd=("$VNG" -v "${accel_args[@]}" --run "$kdir" --user root --force-9p
	--cwd "$LOCUSTFS_TOP" --rwdir "$LOCUSTFS_TOP" --cpus "$smp" --memory "$mem"
	--append "${kargs[*]}" "--qemu-opts=-smp $smp,sockets=$smp,cores=1,threads=1"
	-- "$wrapper")

info "vng guest: $kdir ($accel, $smp vCPUs, $mem, timeout ${timeout} s)"
info "console log: $log"

vpid=
cleanup() {
	if [ -n "$vpid" ] && kill -0 "$vpid" 2>/dev/null; then
		kill -TERM -- "-$vpid" 2>/dev/null || true
		sleep 1
		kill -KILL -- "-$vpid" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'printf "vng-boot: interrupted\n" >&2; exit 130' INT TERM HUP

start_ms=$(($(date +%s%N) / 1000000))
# Its own session and process group, so that a timeout can stop vng and its QEMU together.
(cd "$LOCUSTFS_TOP" && exec setsid "${vng_cmd[@]}") </dev/null 2>"$log" &
vpid=$!

watch_guest "$vpid" "-$vpid" "$log" "$timeout" "$start_ms"
timed_out=$guest_timed_out halted=$guest_halted vrc=$guest_rc
vpid=
end_ms=$(($(date +%s%N) / 1000000))
wall=$(awk -v ms=$((end_ms - start_ms)) 'BEGIN { printf "%.1f", ms / 1000 }')

t_cmd=$(guest_timestamp "$log" 'running command')
t_end=$(guest_timestamp "$log" 'exit status')
if [ -n "$t_cmd" ] && [ -n "$t_end" ]; then
	info "$(awk -v w="$wall" -v a="$t_cmd" -v b="$t_end" 'BEGIN {
		printf "vng guest: %.1f s wall: boot ~%.1f s, command %.1f s", w, w - (b - a), b - a }')"
else
	info "vng guest: ${wall} s wall"
fi

scan_out=$("$LOCUSTFS_TOP/scripts/scan-log.sh" "$log") && scan_rc=0 || scan_rc=$?

if [ "$timed_out" = 1 ]; then
	printf 'vng-boot: guest timed out after %s s; last 40 lines of %s:\n' "$timeout" "$log" >&2
	tail -n 40 "$log" | tr -d '\r' >&2
	[ "$scan_rc" = 1 ] && printf '%s\n' "$scan_out" >&2
	printf 'vng-boot: guest timed out after %s s (console log: %s)\n' "$timeout" "$log" >&2
	exit 124
fi

status=$(grep -a 'locustfs-guest: exit status ' "$log" | tail -1 |
	sed -n 's/.*locustfs-guest: exit status \([0-9]*\).*/\1/p' || true)
if [ "$scan_rc" = 1 ]; then
	printf '%s\n' "$scan_out" >&2
	printf 'vng-boot: kernel report(s) in the console log %s (command exit status: %s)\n' \
		"$log" "${status:-none}" >&2
	exit 125
elif [ "$scan_rc" != 0 ]; then
	die "vng-boot: scripts/scan-log.sh failed on $log"
fi
if [ -z "$status" ]; then
	printf 'vng-boot: last 20 lines of %s:\n' "$log" >&2
	tail -n 20 "$log" | tr -d '\r' >&2
	printf 'vng-boot: the guest stopped without reporting an exit status (vng exit %s; console log: %s)\n' \
		"$vrc" "$log" >&2
	exit 126
fi
if [ "$halted" = 0 ] && [ "$status" != "$vrc" ]; then
	info "vng returned $vrc but the guest logged exit status $status; using $status"
fi
[ "$status" = 0 ] || info "guest command exited with status $status"
exit "$status"
