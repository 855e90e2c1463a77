#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Prints the QEMU accelerator to use for guests: "kvm" or "tcg".
#
#   qemu/accel.sh [--kernel BZIMAGE] [--probe] [--why]
#
# "kvm" only when a probe boot under KVM reached its end marker within $PROBE_TIMEOUT seconds
# (default 20): /dev/kvm can exist and still hang a guest, so its presence proves nothing.
# "tcg" at once, without a probe, when /dev/kvm is not usable or the CPU shows neither vmx
# nor svm. The probe's verdict is cached in $LOCUSTFS_CACHE/accel/, keyed by the host kernel
# and the QEMU version. --probe ignores the cache and the CPU-flag shortcut; --why prints the
# reason on stderr. LOCUSTFS_ACCEL=kvm|tcg in the environment overrides everything.
#
# The probe boots BZIMAGE (default: the debug guest kernel) with the locustfs initramfs and
# the command "exit 0". Without a kernel to boot, the answer is "tcg" (not cached).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../scripts/lib.sh"

PROBE_TIMEOUT=${PROBE_TIMEOUT:-20}
kernel='' force=0 why=0
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=${2:?--kernel needs a file}; shift 2 ;;
	--probe) force=1; shift ;;
	--why) why=1; shift ;;
	-h | --help) sed -n '3,/^set /{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "accel.sh: unknown argument '$1' (usage: accel.sh [--kernel BZIMAGE] [--probe] [--why])" ;;
	esac
done

verdict() {
	[ "$why" = 1 ] && info "accel: $1 ($2)"
	echo "$1"
	exit 0
}

case ${LOCUSTFS_ACCEL:-} in
kvm | tcg) verdict "$LOCUSTFS_ACCEL" "set by LOCUSTFS_ACCEL" ;;
'') ;;
*) die "LOCUSTFS_ACCEL must be kvm or tcg, not '$LOCUSTFS_ACCEL'" ;;
esac

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (run scripts/setup.sh)"
[ -r /dev/kvm ] && [ -w /dev/kvm ] || verdict tcg "/dev/kvm missing or not accessible"
if [ "$force" = 0 ] && ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
	verdict tcg "the CPU exposes neither vmx nor svm"
fi

qemu_version=$(qemu-system-x86_64 --version | head -1)
key=$(printf '%s\n' "$(uname -r)" "$(uname -v)" "$qemu_version" | sha256sum | cut -c1-16)
cache=$LOCUSTFS_CACHE/accel/$key
if [ "$force" = 0 ] && [ -f "$cache" ]; then
	verdict "$(cat "$cache")" "cached in $cache"
fi

if [ -z "$kernel" ]; then
	kernel=$("$LOCUSTFS_TOP/scripts/kernel.sh" path debug 2>/dev/null)/arch/x86/boot/bzImage ||
		kernel=
fi
[ -n "$kernel" ] && [ -f "$kernel" ] || verdict tcg "no guest kernel to probe KVM with yet"

initrd=$LOCUSTFS_CACHE/initramfs.cpio.gz
"$LOCUSTFS_TOP/qemu/initramfs.sh" "$initrd"

probe_log=$(mktemp "${TMPDIR:-/tmp}/locustfs-kvm-probe.XXXXXX")
trap 'rm -f "$probe_log"' EXIT
rc=0 start=$SECONDS
# In a subshell whose stderr is the probe log: a QEMU stuck in KVM may die of SIGABRT when
# told to stop, and the shell's "Aborted" notice belongs there, not on the user's terminal.
(timeout -k 2 "$PROBE_TIMEOUT" qemu-system-x86_64 -nodefaults -no-user-config -display none \
	-machine pc -accel kvm -cpu host -m 512M -smp 1 -no-reboot \
	-kernel "$kernel" -initrd "$initrd" -serial "file:$probe_log" \
	-append "console=ttyS0 no5lvl panic=-1 locustfs_guest.cmd=$(printf 'exit 0' | base64)" \
	</dev/null >/dev/null; exit $?) 2>>"$probe_log" || rc=$?

mkdir -p "$(dirname "$cache")"
if grep -q 'locustfs-guest: exit status 0' "$probe_log"; then
	echo kvm >"$cache"
	verdict kvm "a KVM probe boot finished"
fi
echo tcg >"$cache"
if [ "$rc" = 124 ] || [ $((SECONDS - start)) -ge "$PROBE_TIMEOUT" ]; then
	verdict tcg "a KVM probe boot hung for ${PROBE_TIMEOUT} s"
fi
verdict tcg "a KVM probe boot failed (exit $rc: $(grep -a -m1 '^qemu-system' "$probe_log" | cut -c1-120))"
