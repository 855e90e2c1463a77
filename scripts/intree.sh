#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The one definition of where locustfs's sources sit in a kernel tree.
#
#   scripts/intree.sh place TREE   place them into the kernel source tree TREE
#   scripts/intree.sh paths        the paths (relative to a tree) placing writes or edits
#   scripts/intree.sh edited       those of them that are the kernel's files it adds lines to
#   scripts/intree.sh maintainers-entry   the MAINTAINERS entry it adds
#
# Placing writes:
#   fs/locustfs/{Kbuild,Kconfig,.kunitconfig,src/}   the same files of the repository (src/
#                                              without build products)
#   Documentation/filesystems/locustfs.rst     docs/locustfs.rst
#   tools/testing/selftests/filesystems/locustfs/   the kselftest files of tests/ (SELFTEST_FILES)
# and adds, once each, the lines that hook them in:
#   fs/Kconfig                         source "fs/locustfs/Kconfig" (in "Pseudo filesystems")
#   fs/Makefile                        obj-$(CONFIG_LOCUST_FS) += locustfs/
#   Documentation/filesystems/index.rst   locustfs in the "Filesystems" toctree
#   MAINTAINERS                        the LOCUSTFS FILE SYSTEM entry (MAINTAINERS_ENTRY)
#   tools/testing/selftests/Makefile   TARGETS += filesystems/locustfs
# Files whose content did not change keep their times, so an incremental kernel build after
# placing again rebuilds only what changed; placing twice gives the same tree. The rest of the
# tree is left as it is.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# The directories placing owns whole, and the tree's files it adds lines to.
PLACED_DIRS=(fs/locustfs tools/testing/selftests/filesystems/locustfs)
PLACED_FILES=(Documentation/filesystems/locustfs.rst)
EDITED_FILES=(fs/Kconfig fs/Makefile Documentation/filesystems/index.rst MAINTAINERS
	tools/testing/selftests/Makefile)

# write_if_changed FILE: FILE gets standard input as its content, unless it holds that already
# (then it keeps its time).
write_if_changed() {
	local new
	new=$(mktemp "$1.XXXXXX")
	cat >"$new"
	if cmp -s "$new" "$1"; then
		rm -f "$new"
	else
		chmod --reference="$1" "$new" 2>/dev/null || chmod 644 "$new"
		mv "$new" "$1"
	fi
}

# insert_line FILE LINE [AFTER]: LINE goes into FILE after the first line equal to AFTER (at
# the end without AFTER), unless FILE holds LINE already. Fails when AFTER is missing.
insert_line() {
	local file=$1 line=$2 after=${3:-}
	grep -qxF -- "$line" "$file" && return 0
	[ -z "$after" ] || grep -qxF -- "$after" "$file" || die "intree: $file has no line '$after'"
	awk -v line="$line" -v after="$after" '
		{ print }
		!done && after != "" && $0 == after { print line; done = 1 }
		END { if (!done && after == "") print line }' "$file" | write_if_changed "$file"
}

# The MAINTAINERS entry, its title first.
MAINTAINERS_ENTRY='LOCUSTFS FILE SYSTEM
M:	The locustfs developers <maintainers@users.noreply.r-seed-c7d088b3.example>
L:	linux-fsdevel@vger.kernel.org
L:	rust-for-linux@vger.kernel.org
S:	Maintained
F:	Documentation/filesystems/locustfs.rst
F:	fs/locustfs/
F:	tools/testing/selftests/filesystems/locustfs/'

# insert_maintainers FILE: MAINTAINERS_ENTRY goes into FILE before the section whose title is
# the least one greater than its own (a few sections are out of order), unless FILE has that
# title already.
insert_maintainers() {
	local file=$1 title=${MAINTAINERS_ENTRY%%$'\n'*}
	grep -qxF -- "$title" "$file" && return 0
	LOCUSTFS_ENTRY=$MAINTAINERS_ENTRY awk -v title="$title" '
		# A section title: the first line after a blank one, after the "Maintainers List"
		# heading.
		/^Maintainers List/ { list++ }
		{ is_title = list && prev == "" && $0 != ""; prev = $0 }
		NR == FNR { if (is_title && $0 > title && (next_ == "" || $0 < next_)) next_ = $0; next }
		is_title && $0 == next_ && !done { print ENVIRON["LOCUSTFS_ENTRY"]; print ""; done = 1 }
		{ print }
		END { if (!done) { print ""; print ENVIRON["LOCUSTFS_ENTRY"] } }' "$file" "$file" |
		write_if_changed "$file"
}

place() {
	local tree=$1
	[ -f "$tree/fs/Kconfig" ] && [ -f "$tree/MAINTAINERS" ] ||
		die "intree: $tree is not a kernel source tree"
	local dest=$tree/fs/locustfs
	mkdir -p "$dest"
	sync_files "$LOCUSTFS_TOP/src" "$dest/src"
	local f
	for f in Kbuild Kconfig .kunitconfig; do
		write_if_changed "$dest/$f" <"$LOCUSTFS_TOP/$f"
	done
	# Nothing else lives in fs/locustfs: what an earlier placing left that is gone now goes.
	find "$dest" -mindepth 1 -maxdepth 1 ! -name src ! -name Kbuild ! -name Kconfig \
		! -name .kunitconfig \
		-exec rm -rf {} +
	write_if_changed "$tree/Documentation/filesystems/locustfs.rst" \
		<"$LOCUSTFS_TOP/docs/locustfs.rst"
	sync_files "$LOCUSTFS_TOP/tests" "$tree/tools/testing/selftests/filesystems/locustfs" \
		"${SELFTEST_FILES[@]}"

	insert_line "$tree/fs/Kconfig" 'source "fs/locustfs/Kconfig"' 'source "fs/efivarfs/Kconfig"'
	insert_line "$tree/fs/Makefile" 'obj-$(CONFIG_LOCUST_FS)		+= locustfs/'
	insert_line "$tree/Documentation/filesystems/index.rst" '   locustfs' '   isofs'
	insert_maintainers "$tree/MAINTAINERS"
	insert_line "$tree/tools/testing/selftests/Makefile" 'TARGETS += filesystems/locustfs' \
		"$(grep -E '^TARGETS \+= filesystems/' "$tree/tools/testing/selftests/Makefile" |
			tail -1)"
}

case ${1:-} in
place)
	[ $# -eq 2 ] || die "usage: scripts/intree.sh place TREE"
	place "$2"
	;;
paths)
	printf '%s\n' "${PLACED_DIRS[@]}" "${PLACED_FILES[@]}" "${EDITED_FILES[@]}"
	;;
edited)
	printf '%s\n' "${EDITED_FILES[@]}"
	;;
maintainers-entry)
	printf '%s\n' "$MAINTAINERS_ENTRY"
	;;
*)
	die "usage: scripts/intree.sh place TREE | paths | edited | maintainers-entry"
	;;
esac
