#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fetches Debian's linux-source-7.3 (without touching the system's apt configuration), verifies
# it, and builds a guest kernel flavour (debug or perf) with LLVM into the cache directory.
#
#   scripts/kernel.sh path FLAVOUR   prints the build directory (KBUILD_OUTPUT) of FLAVOUR
#   scripts/kernel.sh build FLAVOUR  builds FLAVOUR unless that exact version + config is cached
#
# The cache key is the kernel package version plus a hash of the config fragments and clang's
# version, so a changed fragment or a new kernel gets a fresh build and an unchanged one is reused.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

APT_DIR=$LOCUSTFS_CACHE/apt
SRC_ROOT=$LOCUSTFS_CACHE/src

# The Debian mirror host the machine's own apt sources use.
mirror() {
	local m
	m=$(grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ \
		2>/dev/null | grep -v security | head -1 | tr -d ' ')
	echo "${m:-http://deb.debian.org/debian}"
}

apt_private() {
	local tool=apt-get
	if [ "$1" = show ]; then tool=apt-cache; fi
	"$tool" -o Dir::Etc::SourceList="$APT_DIR/sources.list" -o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$APT_DIR/lists" -o Dir::Cache="$APT_DIR/cache" \
		-o Debug::NoLocking=1 "$@"
}

# Downloads and unpacks the kernel source once; prints the pristine source directory.
fetch_source() {
	local deb version want have src
	mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$SRC_ROOT"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(mirror) trixie-backports main" \
		>"$APT_DIR/sources.list"
	if [ -z "$(find "$APT_DIR/lists" -name '*Packages*' -mmin -1440 2>/dev/null)" ]; then
		phase "fetching the trixie-backports package index (private apt state in $APT_DIR)" >&2
		run_logged apt-index apt_private update
	fi
	version=$(apt_private -qq --print-uris download "$KERNEL_PKG" 2>/dev/null |
		awk '{print $2}' | sed -n 's/^[^_]*_\([^_]*\)_.*/\1/p')
	[ -n "$version" ] || die "$KERNEL_PKG not found in trixie-backports"
	src=$SRC_ROOT/$KERNEL_PKG-${version//[:~+]/_}
	if [ -f "$src/.locustfs-unpacked" ]; then
		echo "$src"
		return
	fi
	deb=$APT_DIR/${KERNEL_PKG}_${version//:/%3a}_all.deb
	if [ ! -f "$deb" ]; then
		phase "downloading $KERNEL_PKG $version (~170 MB)" >&2
		(cd "$APT_DIR" && run_logged kernel-download apt_private download "$KERNEL_PKG=$version")
	fi
	# apt checked the file against the signed index; check it again ourselves before unpacking.
	want=$(apt_private show "$KERNEL_PKG=$version" 2>/dev/null | sed -n 's/^SHA256: //p' | head -1)
	have=$(sha256sum "$deb" | awk '{print $1}')
	[ -n "$want" ] && [ "$want" = "$have" ] || {
		rm -f "$deb"
		die "checksum mismatch for $deb (index says '${want:-nothing}', file is $have)"
	}
	info "sha256 $have verified against the signed package index" >&2
	phase "unpacking the kernel source into $src" >&2
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$src.tmp" --wildcards '*.tar.xz'
	tar -xJf "$src.tmp"/usr/src/linux-source-*.tar.xz -C "$src.tmp"
	mv "$src.tmp"/linux-source-*/ "$src"
	rm -rf "$src.tmp"
	touch "$src/.locustfs-unpacked"
	echo "$src"
}

# cache_key FLAVOUR SRC: the build directory's name.
cache_key() {
	local flavour=$1 src=$2 frags hash
	frags=("$LOCUSTFS_TOP/qemu/kconfig/base.config" "$LOCUSTFS_TOP/qemu/kconfig/$flavour.config")
	hash=$( (cat "${frags[@]}"; clang$LLVM_SUFFIX --version | head -1; rustc --version) |
		sha256sum | cut -c1-12)
	echo "$LOCUSTFS_CACHE/build/$(basename "$src")-$flavour-$hash"
}

# Checks that every option the fragments ask for made it into the final .config.
check_config() {
	local out=$1 flavour=$2 line opt val bad=()
	while IFS= read -r line; do
		case $line in CONFIG_*=*) ;; *) continue ;; esac
		opt=${line%%=*} val=${line#*=}
		if [ "$val" = n ]; then
			grep -q "^$opt=" "$out/.config" && bad+=("$opt should be off")
		else
			grep -qx "$opt=$val" "$out/.config" || bad+=("$opt=$val")
		fi
	done < <(cat "$LOCUSTFS_TOP/qemu/kconfig/base.config" "$LOCUSTFS_TOP/qemu/kconfig/$flavour.config")
	[ ${#bad[@]} -eq 0 ] || die "kernel config lacks: ${bad[*]} (see $out/.config)"
}

build() {
	local flavour=$1 src out make
	[ -f "$LOCUSTFS_TOP/qemu/kconfig/$flavour.config" ] || die "unknown kernel flavour '$flavour'"
	src=$(fetch_source)
	out=$(cache_key "$flavour" "$src")
	if [ -f "$out/.locustfs-built" ]; then
		info "$flavour kernel cached: $out" >&2
		return
	fi
	make=(make -C "$src" O="$out" LLVM="$LLVM_SUFFIX")
	mkdir -p "$out"
	phase "configuring the $flavour kernel ($(basename "$src")) in $out"
	run_logged "kernel-$flavour-config" "${make[@]}" tinyconfig
	run_logged "kernel-$flavour-merge" env -C "$out" "$src/scripts/kconfig/merge_config.sh" -m \
		-O "$out" "$out/.config" "$LOCUSTFS_TOP/qemu/kconfig/base.config" \
		"$LOCUSTFS_TOP/qemu/kconfig/$flavour.config"
	run_logged "kernel-$flavour-olddefconfig" "${make[@]}" olddefconfig
	check_config "$out" "$flavour"
	phase "building the $flavour kernel with $(nproc) jobs (13-20 min on 2 cores)"
	run_logged "kernel-$flavour-build" "${make[@]}" -j"$(nproc)" all
	touch "$out/.locustfs-built"
	ln -sfn "$out" "$LOCUSTFS_CACHE/build/$flavour"
	info "$flavour kernel ready: $out/arch/x86/boot/bzImage"
}

path() {
	local src
	src=$(fetch_source)
	cache_key "$1" "$src"
}

case ${1:-} in
build) build "${2:-debug}" ;;
path) path "${2:-debug}" ;;
*) die "usage: $0 build|path debug|perf" ;;
esac
