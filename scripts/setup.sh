#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Installs what locustfs needs to build and boot, idempotently: Debian packages, rust-src,
# a pinned bindgen-cli, and in a venv under the cache directory a pinned virtme-ng and the
# benchmark charts' pinned matplotlib (bench/requirements.txt).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

DEB_PACKAGES=(clang-19 lld-19 llvm-19 libclang-19-dev qemu-system-x86 busybox-static flex bison
	bc libelf-dev libssl-dev cpio kmod xz-utils udev python3-venv stress-ng make gcc libc6-dev
	rsync python3-ply)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	phase "installing Debian packages: ${missing[*]}"
	[ "$(id -u)" -eq 0 ] || die "need root to install: ${missing[*]}"
	run_logged apt-update apt-get update
	run_logged apt-install env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

command -v rustup >/dev/null || die "rustup not found (install Rust with rustup first)"
if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
	phase "adding rustup component rust-src"
	run_logged rust-src rustup component add rust-src
fi

if ! bindgen --version 2>/dev/null | grep -q "bindgen $BINDGEN_VERSION"; then
	phase "installing bindgen-cli $BINDGEN_VERSION from crates.io (a few minutes)"
	run_logged bindgen cargo install --locked bindgen-cli --version "$BINDGEN_VERSION"
fi

if ! "$LOCUSTFS_CACHE/venv/bin/vng" --version 2>/dev/null | grep -q "$VIRTME_NG_VERSION"; then
	phase "installing virtme-ng $VIRTME_NG_VERSION into $LOCUSTFS_CACHE/venv"
	run_logged venv python3 -m venv "$LOCUSTFS_CACHE/venv"
	run_logged virtme-ng "$LOCUSTFS_CACHE/venv/bin/pip" install "virtme-ng==$VIRTME_NG_VERSION"
fi

# bench/requirements.txt pins matplotlib and all it pulls in; reinstalled if any pin differs.
chart_requirements=$LOCUSTFS_TOP/bench/requirements.txt
if ! "$LOCUSTFS_CACHE/venv/bin/python3" - "$chart_requirements" <<'EOF'; then
import importlib.metadata as metadata
import sys

for line in open(sys.argv[1]):
    pin = line.split("#")[0].strip()
    if pin:
        name, version = pin.split("==")
        try:
            if metadata.version(name) != version:
                sys.exit(1)
        except metadata.PackageNotFoundError:
            sys.exit(1)
EOF
	phase "installing matplotlib ($chart_requirements) into $LOCUSTFS_CACHE/venv"
	run_logged matplotlib "$LOCUSTFS_CACHE/venv/bin/pip" install -r "$chart_requirements"
fi

# Version checks: say plainly what is wrong.
clang_major=$(clang$LLVM_SUFFIX --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
[ "${clang_major:-0}" -ge 17 ] || die "clang$LLVM_SUFFIX is too old (need >= 17)"
rustc_ver=$(rustc --version | awk '{print $2}')
[ "$(printf '%s\n1.85.0\n' "$rustc_ver" | sort -V | head -1)" = 1.85.0 ] ||
	die "rustc $rustc_ver is too old (need >= 1.85)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing"
[ -x /bin/busybox ] || die "busybox-static missing"
info "toolchain ok: clang $clang_major, rustc $rustc_ver, $(bindgen --version), vng $("$LOCUSTFS_CACHE/venv/bin/vng" --version | awk '{print $2}'), matplotlib $("$LOCUSTFS_CACHE/venv/bin/python3" -c 'import matplotlib; print(matplotlib.__version__)')"
