#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds the guest initramfs: a static busybox with its applet links, qemu/init.sh as /init,
# Debian's stress-ng with the shared libraries it links (for tests/stress-ng.sh), /etc/passwd
# and /etc/group (root, locust 1000:1000, nobody 65534), /mnt/locust and the mount points
# /init uses. Rebuilt only when an input changed (busybox, stress-ng and its libraries,
# init.sh, this script).
#
#   qemu/initramfs.sh OUT.cpio.gz
#
# Works without root: the archive is written with root ownership and a /dev/console node
# that is described in a hand-written newc entry rather than created with mknod.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../scripts/lib.sh"

[ $# -eq 1 ] || die "usage: $0 OUT.cpio.gz"
out=$1
BUSYBOX=${BUSYBOX:-/bin/busybox}
STRESS_NG=${STRESS_NG:-/usr/bin/stress-ng}
INIT=$LOCUSTFS_TOP/qemu/init.sh

[ -x "$BUSYBOX" ] || die "$BUSYBOX not found: install busybox-static (scripts/setup.sh)"
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
	ldd "$BUSYBOX" 2>&1 | grep -q 'not a dynamic executable' ||
	die "$BUSYBOX is not statically linked: install busybox-static"
[ -f "$INIT" ] || die "$INIT missing"
[ -x "$STRESS_NG" ] || die "$STRESS_NG not found: install stress-ng (scripts/setup.sh)"
for tool in cpio gzip sha256sum ldd; do
	command -v "$tool" >/dev/null || die "$tool not found (install it: scripts/setup.sh)"
done

# stress-ng's shared libraries and dynamic loader, by the absolute paths ldd resolves.
mapfile -t stress_libs < <(ldd "$STRESS_NG" | grep -oE '/[^ ]+' | sort -u)
[ "${#stress_libs[@]}" -gt 0 ] || die "ldd found no libraries for $STRESS_NG"

# The inputs' hash decides whether the archive is still current.
key=$(cat "$BUSYBOX" "$STRESS_NG" "${stress_libs[@]}" "$INIT" "${BASH_SOURCE[0]}" |
	sha256sum | cut -c1-16)
stamp=$out.inputs
if [ -f "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then
	exit 0
fi

mkdir -p "$(dirname "$out")"
stage=$(mktemp -d "${TMPDIR:-/tmp}/locustfs-initramfs.XXXXXX")
tmp=$(mktemp "$out.XXXXXX")
trap 'rm -rf "$stage" "$tmp"' EXIT
root=$stage/root

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc,mnt/locust,repo,home/locust}
cp "$BUSYBOX" "$root/bin/busybox"
chmod 755 "$root/bin/busybox"
# Applet links: relative, so they resolve inside the guest.
while IFS= read -r applet; do
	case $applet in
	bin/busybox | '') continue ;;
	esac
	[ -e "$root/$applet" ] && continue
	mkdir -p "$root/$(dirname "$applet")"
	rel=$(dirname "$applet" | sed 's|[^/]*|..|g')
	ln -s "$rel/bin/busybox" "$root/$applet"
done < <("$BUSYBOX" --list-full)
[ -e "$root/bin/sh" ] || ln -s busybox "$root/bin/sh"

# The kselftest runner (tools/testing/selftests/kselftest/runner.sh) calls
# "/usr/bin/timeout --foreground SECS ...", coreutils' syntax; busybox's timeout has no
# --foreground (the runner's child is not in the background anyway): accept and drop it.
rm -f "$root/usr/bin/timeout"
cat >"$root/usr/bin/timeout" <<'TIMEOUT'
#!/bin/sh
[ "$1" = --foreground ] && shift
exec /bin/busybox timeout "$@"
TIMEOUT
chmod 755 "$root/usr/bin/timeout"

# stress-ng and its libraries at the paths the binary expects (/lib64/ld-linux-x86-64.so.2,
# /lib/x86_64-linux-gnu/...). cp -L: the guest gets the files, not the host's symlinks.
install -m 755 "$STRESS_NG" "$root/usr/bin/stress-ng"
for lib in "${stress_libs[@]}"; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done

install -m 755 "$INIT" "$root/init"

cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
locust:x:1000:1000:locustfs test user:/home/locust:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
locust:x:1000:
nogroup:x:65534:
GROUP
cat >"$root/etc/shadow" <<'SHADOW'
root:*:0:0:99999:7:::
locust:*:0:0:99999:7:::
nobody:*:0:0:99999:7:::
SHADOW
chmod 640 "$root/etc/shadow"
echo locustfs-guest >"$root/etc/hostname"
cat >"$root/etc/profile" <<'PROFILE'
export PS1='\u@\h:\w\$ '
# No ACPI in the guest: a plain poweroff would halt without ending QEMU.
alias poweroff='reboot -f' halt='reboot -f'
PROFILE

# newc_entry NAME MODE UID GID RDEV_MAJOR RDEV_MINOR: one data-less newc cpio entry on stdout.
newc_entry() {
	local name=$1 mode=$2 uid=$3 gid=$4 rmaj=$5 rmin=$6 namesize hdr pad
	namesize=$((${#name} + 1))
	hdr=$(printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		0 "$mode" "$uid" "$gid" 1 0 0 0 0 "$rmaj" "$rmin" "$namesize" 0)
	printf '%s%s\0' "$hdr" "$name"
	pad=$(((4 - (110 + namesize) % 4) % 4))
	head -c "$pad" /dev/zero
}

{
	# Everything owned by root, except the test user's home.
	(cd "$root" && find . -mindepth 1 ! -path ./home/locust | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0)
	# /dev/console must exist before /init runs so the kernel can give it stdio; the home of
	# "locust" belongs to it. Both as a second archive, which the kernel unpacks after the first.
	{
		newc_entry dev/console $((8#020600)) 0 0 5 1
		newc_entry home/locust $((8#040755)) 1000 1000 0 0
		newc_entry 'TRAILER!!!' 0 0 0 0 0
	}
} | gzip -9n >"$tmp"
# Atomic replacement: a guest that is booting from the old archive keeps it.
chmod 644 "$tmp"
mv "$tmp" "$out"
echo "$key" >"$stamp.$$"
mv "$stamp.$$" "$stamp"
info "initramfs: $out ($(du -k "$out" | cut -f1) KiB)"
