#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fetches Debian's linux-source-7.3 (without touching the system's apt configuration), verifies
# it, places locustfs in a copy of it as fs/locustfs (scripts/intree.sh), and builds a guest
# kernel flavour with LLVM into the cache directory.
#
#   scripts/kernel.sh path FLAVOUR    prints the build directory (KBUILD_OUTPUT) of FLAVOUR
#   scripts/kernel.sh build FLAVOUR   builds FLAVOUR unless that exact version + config is cached
#   scripts/kernel.sh intree FLAVOUR  re-places the work tree's sources in the kernel tree and
#                                     rebuilds only what they make: the in-tree modules
#                                     (CONFIG_LOCUST_FS=m, copied to tests/build/intree/) or,
#                                     for a built-in flavour (=y), vmlinux
#   scripts/kernel.sh place           places the work tree's sources in the kernel tree (as
#                                     `intree` does) and prints the tree's path
#
# Flavours: debug (the test suite's), perf (benchmarks), builtin (debug with CONFIG_LOCUST_FS=y).
# Each is qemu/kconfig/base.config plus its own fragment (builtin: plus debug.config first).
#
# The kernel tree the builds use is $LOCUSTFS_CACHE/intree/<source>: a hard-link copy of the
# pristine unpacked source (never written to) with locustfs placed in it. Every placement goes
# to a staging directory first and is then synced in with rsync, which writes only the files
# whose content changed and replaces them (a new inode: the pristine file a link shares stays
# as it was); unchanged files keep their times, so make rebuilds only what a change touches.
#
# The cache key is the kernel package version plus a hash of the config fragments and clang's
# and rustc's versions, so a changed fragment or a new kernel gets a fresh build and an
# unchanged one is reused. locustfs's own sources are not in the key: a change to them
# rebuilds only the module (`intree`), never the kernel.
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

# The kernel trees locustfs is placed in, and the script that places it.
INTREE_ROOT=$LOCUSTFS_CACHE/intree
INTREE_SH=$LOCUSTFS_TOP/scripts/intree.sh

placed_tree() {
	echo "$INTREE_ROOT/$(basename "$1")"
}

# place SRC: brings the placed tree of the pristine source SRC up to date with the work tree
# (created first as a hard-link copy of SRC); prints its path. scripts/intree.sh places into
# a staging directory holding copies of the pristine files it edits (`intree.sh paths`), and
# rsync then writes into the tree only the files whose content differs, each as a new file (a
# temporary file renamed over the old one): a link shared with SRC is never written through,
# and an unchanged file keeps its time.
place() {
	local src=$1 tree stage p stray
	local -a paths
	tree=$(placed_tree "$src")
	if [ ! -f "$tree/.locustfs-placed-tree" ]; then
		phase "linking a copy of $(basename "$src") into $tree" >&2
		mkdir -p "$INTREE_ROOT"
		rm -rf "$tree" "$tree.tmp"
		cp -al "$src" "$tree.tmp"
		rm -f "$tree.tmp/.locustfs-unpacked"
		touch "$tree.tmp/.locustfs-placed-tree"
		mv "$tree.tmp" "$tree"
	fi
	mapfile -t paths < <("$INTREE_SH" paths)
	[ ${#paths[@]} -gt 0 ] || die "$INTREE_SH paths printed nothing"
	stage=$(mktemp -d "${TMPDIR:-/tmp}/locustfs-place.XXXXXX")
	for p in "${paths[@]}"; do
		if [ -f "$src/$p" ]; then
			mkdir -p "$stage/$(dirname "$p")"
			cp -p "$src/$p" "$stage/$p"
		fi
	done
	if ! "$INTREE_SH" place "$stage" >"$LOCUSTFS_LOGS/intree-place.log" 2>&1; then
		cat "$LOCUSTFS_LOGS/intree-place.log" >&2
		rm -rf "$stage"
		die "$INTREE_SH place failed"
	fi
	# Only the paths it names: anything else would reach the tree as a partial file.
	stray=$(cd "$stage" && find . -type f | sed 's|^\./||' | while IFS= read -r f; do
		for p in "${paths[@]}"; do
			case $f in "$p" | "$p"/*) continue 2 ;; esac
		done
		echo "$f"
	done)
	if [ -n "$stray" ]; then
		rm -rf "$stage"
		die "$INTREE_SH place wrote outside the paths it names: $stray"
	fi
	for p in "${paths[@]}"; do
		if [ -d "$stage/$p" ]; then
			mkdir -p "$tree/$p"
			rsync -rlpc --delete "$stage/$p/" "$tree/$p/"
		elif [ -f "$stage/$p" ]; then
			mkdir -p "$tree/$(dirname "$p")"
			rsync -lpc "$stage/$p" "$tree/$p"
		fi
	done
	rm -rf "$stage"
	echo "$tree"
}

# fragments FLAVOUR: the config fragments of FLAVOUR, in the order they are merged.
fragments() {
	local k=$LOCUSTFS_TOP/qemu/kconfig
	case $1 in
	builtin) echo "$k/base.config $k/debug.config $k/builtin.config" ;;
	*) echo "$k/base.config $k/$1.config" ;;
	esac
}

# cache_key FLAVOUR SRC: the build directory's name.
cache_key() {
	local flavour=$1 src=$2 frags hash
	read -ra frags <<<"$(fragments "$flavour")"
	# "fs/locustfs": built from the placed tree (older keys were the pristine one's).
	hash=$( (cat "${frags[@]}"; clang$LLVM_SUFFIX --version | head -1; rustc --version
		echo fs/locustfs) | sha256sum | cut -c1-12)
	echo "$LOCUSTFS_CACHE/build/$(basename "$src")-$flavour-$hash"
}

# Checks that every option the fragments ask for (a later fragment's value overriding an
# earlier one's) made it into the final .config.
check_config() {
	local out=$1 flavour=$2 line opt val bad=() frags
	read -ra frags <<<"$(fragments "$flavour")"
	while IFS= read -r line; do
		opt=${line%%=*} val=${line#*=}
		if [ "$val" = n ]; then
			grep -q "^$opt=" "$out/.config" && bad+=("$opt should be off")
		else
			grep -qx "$opt=$val" "$out/.config" || bad+=("$opt=$val")
		fi
	done < <(grep -h '^CONFIG_.*=' "${frags[@]}" | awk -F= '{ v[$1] = $0; if (!($1 in o)) o[$1] = n++ }
		END { for (k in o) l[o[k]] = v[k]; for (i = 0; i < n; i++) print l[i] }')
	[ ${#bad[@]} -eq 0 ] || die "kernel config lacks: ${bad[*]} (see $out/.config)"
}

# lock_tree: holds the placed trees' lock until the script exits (one placement and build at a
# time, whichever repository checkout runs it).
lock_tree() {
	mkdir -p "$INTREE_ROOT"
	exec 9>"$INTREE_ROOT/.lock"
	flock 9
}

build() {
	local flavour=$1 src tree out make frags
	[ -f "$LOCUSTFS_TOP/qemu/kconfig/$flavour.config" ] || die "unknown kernel flavour '$flavour'"
	src=$(fetch_source)
	out=$(cache_key "$flavour" "$src")
	if [ -f "$out/.locustfs-built" ]; then
		info "$flavour kernel cached: $out" >&2
		return
	fi
	lock_tree
	tree=$(place "$src")
	read -ra frags <<<"$(fragments "$flavour")"
	make=(make -C "$tree" O="$out" LLVM="$LLVM_SUFFIX")
	mkdir -p "$out"
	phase "configuring the $flavour kernel ($(basename "$src") with fs/locustfs) in $out"
	run_logged "kernel-$flavour-config" "${make[@]}" tinyconfig
	run_logged "kernel-$flavour-merge" env -C "$out" "$tree/scripts/kconfig/merge_config.sh" -m \
		-O "$out" "$out/.config" "${frags[@]}"
	run_logged "kernel-$flavour-olddefconfig" "${make[@]}" olddefconfig
	check_config "$out" "$flavour"
	phase "building the $flavour kernel with $(nproc) jobs (10-20 min on 2 cores)"
	run_logged "kernel-$flavour-build" "${make[@]}" -j"$(nproc)" all
	touch "$out/.locustfs-built"
	ln -sfn "$out" "$LOCUSTFS_CACHE/build/$flavour"
	info "$flavour kernel ready: $out/arch/x86/boot/bzImage"
}

# intree FLAVOUR: re-places the work tree's sources and rebuilds what they make in FLAVOUR's
# (already built) kernel: with CONFIG_LOCUST_FS=m the modules alone, by their single targets
# (modpost included, in-tree: no taint), copied to tests/build/intree/ for the guest; with =y,
# vmlinux (`make all`, which relinks only when an object changed).
intree() {
	local flavour=$1 src tree out make kos=() ko dest=$LOCUSTFS_TOP/tests/build/intree
	src=$(fetch_source)
	out=$(cache_key "$flavour" "$src")
	[ -f "$out/.locustfs-built" ] ||
		die "the $flavour kernel is not built (scripts/kernel.sh build $flavour)"
	lock_tree
	tree=$(place "$src")
	make=(make -C "$tree" O="$out" LLVM="$LLVM_SUFFIX" -j"$(nproc)")
	if grep -qx 'CONFIG_LOCUST_FS=y' "$out/.config"; then
		run_logged "intree-$flavour-vmlinux" "${make[@]}" all
	else
		grep -qx 'CONFIG_LOCUST_FS=m' "$out/.config" && kos+=(fs/locustfs/locustfs.ko)
		grep -qx 'CONFIG_LOCUST_FS_KUNIT_TEST=m' "$out/.config" && kos+=(fs/locustfs/locustfs_kunit.ko)
		[ ${#kos[@]} -gt 0 ] || die "$out/.config builds no locustfs module"
		run_logged "intree-$flavour-modules" "${make[@]}" "${kos[@]}"
		mkdir -p "$dest"
		rm -f "$dest"/*.ko
		for ko in "${kos[@]}"; do
			cp "$out/$ko" "$dest/"
		done
	fi
	# A changed Kconfig may have turned an option off: make re-ran kconfig if it did.
	check_config "$out" "$flavour"
}


path() {
	local src
	src=$(fetch_source)
	cache_key "$1" "$src"
}

case ${1:-} in
build) build "${2:-debug}" ;;
intree) intree "${2:-debug}" ;;
path) path "${2:-debug}" ;;
place) lock_tree && place "$(fetch_source)" ;;
*) die "usage: $0 build|intree|path debug|perf|builtin, or $0 place" ;;
esac
