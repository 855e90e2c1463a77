#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# locustfs as a patch series against Linux 7.3, and the check that it is what was built.
#
#   scripts/patches.sh write KSRC           the series in build/patches/ (make patches)
#   scripts/patches.sh verify KSRC [TREE]   applies build/patches/ with git am to KSRC's files
#                                           and compares with TREE (default: a fresh placing)
#
# KSRC is the pristine kernel source (Debian's linux-source-7.3 as scripts/kernel.sh unpacks
# it), or a copy of it in which locustfs was placed (the unpacked source of the same name in the
# cache is then used); only the files the series changes are read from it (scripts/intree.sh
# edited), and it is never written. The series is built in a throwaway git repository holding those files: the
# sources are placed by scripts/intree.sh into a copy of them, and each part below is committed
# in order; after the last part the repository must equal that placing. The parts' messages and
# the cover letter are in docs/series/; the list of the checkpatch messages the series keeps,
# with the reason for each, is docs/series/checkpatch-accepted (appended to the cover letter).
#
# verify applies the series to a fresh copy of KSRC's files with git am and compares every
# placed path with TREE (diff -r, build products left out): with TREE the kernel tree the
# in-tree build used, what was built and tested is what the series holds.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SERIES_DIR=$LOCUSTFS_TOP/docs/series
OUT=$LOCUSTFS_TOP/build/patches
# The identity the series is written with (the MAINTAINERS entry's M: line).
IDENT=$(sed -n 's/^M:\t//p' <<<"$("$LOCUSTFS_TOP/scripts/intree.sh" maintainers-entry)")
mapfile -t PATHS < <("$LOCUSTFS_TOP/scripts/intree.sh" paths)
# The placed paths that are kernel files locustfs adds lines to (the rest are its own).
mapfile -t EDITED < <("$LOCUSTFS_TOP/scripts/intree.sh" edited)

# KUnit parts of files that exist before the KUnit patch: each such file's lines from the first
# one matching its pattern to the end (with the blank lines before it) come with that patch.
declare -A KUNIT_TAIL=(
	[fs/locustfs/Kconfig]='^config LOCUST_FS_KUNIT_TEST$'
	[fs/locustfs/Kbuild]='^# KUnit: '
	[fs/locustfs/src/options.rs]='^// Built only into the test module '
	[fs/locustfs/src/limits.rs]='^// Built only into the test module '
)

# The parts, in order: message file in docs/series, then the paths (files or directories)
# it brings to their placed content; PATH@head is PATH without its KUnit tail, and @fs-sources
# is every fs/locustfs/src/*.rs but the KUnit module's crate root, without KUnit tails.
PARTS=(
	"0001-vfs fs/locustfs/src/vfs"
	"0002-fs fs/locustfs/Kbuild@head fs/locustfs/Kconfig@head @fs-sources fs/Kconfig fs/Makefile"
	"0003-docs Documentation/filesystems/locustfs.rst Documentation/filesystems/index.rst
		MAINTAINERS"
	"0004-selftests tools/testing/selftests/filesystems/locustfs tools/testing/selftests/Makefile"
	"0005-kunit fs/locustfs/src/locustfs_kunit.rs fs/locustfs/.kunitconfig fs/locustfs/Kbuild
		fs/locustfs/Kconfig
		fs/locustfs/src/options.rs fs/locustfs/src/limits.rs"
)

# The commits' dates: the repository's last commit, so the same sources give the same series.
DATE=$(git -C "$LOCUSTFS_TOP" log -1 --format=%cI 2>/dev/null || date -u +%FT%TZ)
export GIT_AUTHOR_NAME=${IDENT% <*} GIT_COMMITTER_NAME=${IDENT% <*}
GIT_AUTHOR_EMAIL=${IDENT##*<} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL%>}
export GIT_AUTHOR_EMAIL GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
export GIT_AUTHOR_DATE=$DATE GIT_COMMITTER_DATE=$DATE
# Only this script's settings: no user or system git configuration.
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1

# pristine KSRC: the pristine source of the kernel tree KSRC: KSRC itself when scripts/kernel.sh
# unpacked it, else the unpacked source of the same name in the cache (KSRC is then a copy of
# it with locustfs placed in it), else KSRC as given.
pristine() {
	local name
	name=$(basename "$1")
	if [ ! -f "$1/.locustfs-unpacked" ] && [ -f "$LOCUSTFS_CACHE/src/$name/.locustfs-unpacked" ]; then
		echo "$LOCUSTFS_CACHE/src/$name"
	else
		echo "$1"
	fi
}

check_ksrc() {
	local ksrc=$1 f
	for f in "${EDITED[@]}"; do
		[ -f "$ksrc/$f" ] || die "patches: $ksrc has no $f: not a kernel source tree"
	done
	! grep -qs 'locustfs' "${EDITED[@]/#/$ksrc/}" ||
		die "patches: $ksrc already has locustfs in it: the series needs the pristine files"
}

# base_tree KSRC DIR: DIR gets a copy of the files of KSRC the series changes.
base_tree() {
	local f
	for f in "${EDITED[@]}"; do
		mkdir -p "$2/$(dirname "$f")"
		cp -p "$1/$f" "$2/$f"
	done
}

# git_repo DIR: makes DIR a git repository whose one commit is its files, tagged "base".
git_repo() {
	git -C "$1" init -q -b locustfs
	git -C "$1" add -A
	git -C "$1" commit -q -m "Linux 7.3: the files the locustfs series changes"
	git -C "$1" tag base
}

# bring STAGE REPO SPEC: the path of SPEC (PATH or PATH@head) in REPO gets its content in STAGE.
bring() {
	local stage=$1 repo=$2 spec=$3 path=${3%@head}
	if [ -d "$stage/$path" ]; then
		rm -rf "${repo:?}/$path"
		mkdir -p "$repo/$path"
		cp -a "$stage/$path/." "$repo/$path/"
	else
		mkdir -p "$repo/$(dirname "$path")"
		if [ "$spec" = "$path" ]; then
			cp -p "$stage/$path" "$repo/$path"
		else
			[ -n "${KUNIT_TAIL[$path]:-}" ] || die "patches: no KUnit tail defined for $path"
			grep -qE "${KUNIT_TAIL[$path]}" "$stage/$path" ||
				die "patches: $path has no line matching '${KUNIT_TAIL[$path]}'"
			# The lines before the tail, without the blank lines that separated it.
			awk -v tail="${KUNIT_TAIL[$path]}" '
				$0 ~ tail { exit }
				/^$/ { blank++; next }
				{ while (blank) { print ""; blank-- } print }' "$stage/$path" >"$repo/$path"
		fi
	fi
}

# compare A B: A and B hold the same files under every placed path (build products aside).
compare() {
	local p excludes=()
	for p in "${MODULE_BUILD_PRODUCTS[@]}"; do excludes+=(-x "$p"); done
	for p in "${PATHS[@]}"; do
		diff -r "${excludes[@]}" "$1/$p" "$2/$p" >&2 || return 1
	done
}

write() {
	local ksrc stage repo part msg spec p n=0
	ksrc=$(pristine "$1")
	check_ksrc "$ksrc"
	stage=$tmp/stage repo=$tmp/repo
	base_tree "$ksrc" "$stage"
	"$LOCUSTFS_TOP/scripts/intree.sh" place "$stage"
	base_tree "$ksrc" "$repo"
	git_repo "$repo"
	for part in "${PARTS[@]}"; do
		read -r -d "" -a spec <<<"$part" || true
		if [[ " ${spec[*]} " == *" @fs-sources "* ]]; then
			local rs=()
			for p in "$stage"/fs/locustfs/src/*.rs; do
				p=${p#"$stage"/}
				[ "$p" != fs/locustfs/src/locustfs_kunit.rs ] || continue
				rs+=("$p${KUNIT_TAIL[$p]:+@head}")
			done
			spec=("${spec[@]/@fs-sources/}" "${rs[@]}")
		fi
		msg=$SERIES_DIR/${spec[0]}
		[ -f "$msg" ] || die "patches: no message $msg"
		for p in "${spec[@]:1}"; do [ -z "$p" ] || bring "$stage" "$repo" "$p"; done
		git -C "$repo" add -A
		{ cat "$msg"; printf '\nSigned-off-by: %s\n' "$IDENT"; } |
			git -C "$repo" commit -q -F -
		n=$((n + 1))
	done
	compare "$stage" "$repo" || die "patches: the parts do not add up to the placed tree"
	# The cover letter: docs/series/0000-cover-letter and the accepted checkpatch messages.
	{
		cat "$SERIES_DIR/0000-cover-letter"
		printf '\ncheckpatch.pl --strict messages kept, and why:\n\n'
		# Each entry as a list item wrapped at 74 columns.
		sed -n '/^[^#]/p' "$SERIES_DIR/checkpatch-accepted" |
			while IFS= read -r entry; do
				fold -s -w 71 <<<"$entry" | sed '1s/^/ - /; 2,$s/^/   /; s/ *$//'
			done
	} >"$tmp/description"
	git -C "$repo" config branch.locustfs.description "$(cat "$tmp/description")"
	rm -rf "$OUT"
	mkdir -p "$OUT"
	git -C "$repo" format-patch -q --cover-letter --cover-from-description=subject \
		--subject-prefix="RFC PATCH" --no-signature -o "$OUT" base..locustfs >/dev/null
	info "patches: $(find "$OUT" -name '*.patch' | wc -l) files ($n patches and a cover letter) in $OUT"
}

verify() {
	local ksrc tree=${2:-} applied
	ksrc=$(pristine "$1")
	check_ksrc "$ksrc"
	compgen -G "$OUT/0001-*.patch" >/dev/null || die "patches: no series in $OUT (make patches)"
	applied=$tmp/applied
	base_tree "$ksrc" "$applied"
	git_repo "$applied"
	git -C "$applied" am -q --whitespace=nowarn $(find "$OUT" -name '0*.patch' ! -name '0000-*' |
		LC_ALL=C sort) >&2 || die "patches: git am failed"
	if [ -z "$tree" ]; then
		tree=$tmp/placed
		base_tree "$ksrc" "$tree"
		"$LOCUSTFS_TOP/scripts/intree.sh" place "$tree"
	fi
	compare "$applied" "$tree" || die "patches: the series does not give $tree's locustfs files"
	info "patches: $(git -C "$applied" rev-list --count base..HEAD) patches apply with git am" \
		"and give what scripts/intree.sh places ($tree)"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

case ${1:-} in
write)
	[ $# -eq 2 ] || die "usage: scripts/patches.sh write KSRC"
	write "$2"
	;;
verify)
	[ $# -ge 2 ] && [ $# -le 3 ] || die "usage: scripts/patches.sh verify KSRC [TREE]"
	verify "$2" "${3:-}"
	;;
*)
	die "usage: scripts/patches.sh write KSRC | verify KSRC [TREE]"
	;;
esac
