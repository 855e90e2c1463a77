#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The gates an upstream submission passes, on the host, warnings being errors (make lint):
#
#   scripts/lint.sh KDIR [STAGE...]
#
#   fmt         rustfmt --check on every .rs file, as the kernel's `make rustfmtcheck`
#   build       the module built with CLIPPY=1 and W=1 (Rust and C, c_inlines.c included):
#               no warning
#   rustdoc     rustdoc on both crates with the kernel's flags (taken from the build's .cmd
#               files), private items documented, every intra-doc link resolved: no warning
#   checkpatch  scripts/patches.sh writes the series (build/patches), checkpatch.pl --strict
#               checks each patch; every message must be one docs/series/checkpatch-accepted
#               justifies, and every entry there must still match a message
#
# Default: every stage, in that order. Each prints one line with its verdict and time. The
# build is a copy of the sources in the cache (one per checkout), so the repository's own
# objects are left alone and the copy rebuilds only what changed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${1:?usage: scripts/lint.sh KDIR [fmt|build|rustdoc|checkpatch...]}
[ -f "$kdir/Makefile" ] || die "lint: $kdir is not a kernel build directory"
shift
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(fmt build rustdoc checkpatch)
ksrc=$(kernel_source_dir "$kdir")
copy=$LOCUSTFS_CACHE/lint/$(printf '%s' "$LOCUSTFS_TOP" | sha256sum | cut -c1-12)
log_dir=$LOCUSTFS_LOGS/lint
mkdir -p "$log_dir"
failed=0

# verdict STAGE START PROBLEMS DETAIL: the stage's line; counts a failure when PROBLEMS > 0.
verdict() {
	local t=$(($(date +%s) - $2))
	if [ "$3" -eq 0 ]; then
		printf 'lint: %-10s ok   (%s, %d s)\n' "$1" "$4" "$t"
	else
		printf 'lint: %-10s FAIL (%s, %d s)\n' "$1" "$4" "$t"
		failed=$((failed + 1))
	fi
}

stage_fmt() {
	local start=$(date +%s) n
	n=$(cd "$LOCUSTFS_TOP" && find src -name '*.rs' ! -name '*generated*' -print0 |
		xargs -0 rustfmt --check --config-path "$ksrc/.rustfmt.toml" 2>&1 |
		tee "$log_dir/fmt.log" | grep -c '^Diff in' || true)
	[ ! -s "$log_dir/fmt.log" ] || [ "$n" -gt 0 ] || n=1
	[ "$n" -eq 0 ] || cat "$log_dir/fmt.log"
	verdict fmt "$start" "$n" "$n files need rustfmt"
}

stage_build() {
	local start=$(date +%s) n
	sync_files "$LOCUSTFS_TOP/src" "$copy/src"
	cp -p "$LOCUSTFS_TOP/Kbuild" "$copy/Kbuild.new"
	cmp -s "$copy/Kbuild.new" "$copy/Kbuild" && rm "$copy/Kbuild.new" ||
		mv "$copy/Kbuild.new" "$copy/Kbuild"
	# Every object is compiled again, so every warning is seen (not only those of what changed).
	rm -f "$copy"/src/*.o "$copy"/src/vfs/*.o
	make -C "$kdir" M="$copy" LLVM="$LLVM_SUFFIX" W=1 CLIPPY=1 modules >"$log_dir/build.log" 2>&1 || {
		cat "$log_dir/build.log"
		verdict build "$start" 1 "the build failed"
		return
	}
	n=$(grep -cE '^(warning|error)(\[|:)|: (warning|error): ' "$log_dir/build.log" || true)
	[ "$n" -eq 0 ] || grep -E -A8 '^(warning|error)(\[|:)|: (warning|error): ' "$log_dir/build.log"
	verdict build "$start" "$n" "CLIPPY=1 W=1: $n diagnostics"
}

# rustdoc_crate OBJ: rustdoc on the crate of OBJ (src/locustfs.o or src/locustfs_kunit.o) in
# the lint copy, with the flags its build used: the compiler's name becomes rustdoc; what only
# rustc takes goes (--emit, --out-dir) or becomes the environment (--env-set).
rustdoc_crate() {
	local obj=$1 cmdfile cmd env=() args=()
	cmdfile=$copy/$(dirname "$obj")/.$(basename "$obj").cmd
	[ -f "$cmdfile" ] || { echo "lint: no $cmdfile (run the build stage first)" >&2; return 1; }
	cmd=$(sed -n 's/^savedcmd_[^ ]* := //p' "$cmdfile")
	eval "set -- $cmd"
	while [ $# -gt 0 ] && [[ $1 == [A-Z_]*=* ]]; do env+=("$1"); shift; done
	shift # rustc or clippy-driver
	while [ $# -gt 0 ]; do
		case $1 in
		--env-set=*) env+=("${1#--env-set=}") ;;
		--emit=*) ;;
		--out-dir) shift ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	(cd "$copy" && env RUSTC_BOOTSTRAP=1 "${env[@]}" rustdoc "${args[@]}" \
		--document-private-items -Dwarnings -Drustdoc::broken_intra_doc_links \
		-o "$copy/doc")
}

stage_rustdoc() {
	local start=$(date +%s) n obj
	rm -rf "$copy/doc"
	: >"$log_dir/rustdoc.log"
	for obj in src/locustfs.o src/locustfs_kunit.o; do
		rustdoc_crate "$obj" >>"$log_dir/rustdoc.log" 2>&1 || echo "error: rustdoc $obj failed" >>"$log_dir/rustdoc.log"
	done
	n=$(grep -cE '^(warning|error)' "$log_dir/rustdoc.log" || true)
	[ "$n" -eq 0 ] || cat "$log_dir/rustdoc.log"
	verdict rustdoc "$start" "$n" "$n diagnostics, $(find "$copy/doc" -name '*.html' 2>/dev/null | wc -l) pages in $copy/doc"
}

# checkpatch_messages: checkpatch.pl --show-types output as "LEVEL:TYPE FILE:LINE MESSAGE"
# lines (FILE "-" for the commit message and the patch as a whole).
checkpatch_messages() {
	awk '
		function flush() {
			if (type != "") print type, (file == "" ? "-" : file), msg
			type = ""; file = ""
		}
		/^(ERROR|WARNING|CHECK):[A-Z0-9_]+:/ {
			flush()
			split($0, f, ":"); type = f[1] ":" f[2]
			msg = $0; sub(/^[A-Z]+:[A-Z0-9_]+: /, "", msg)
			want = 1; next
		}
		want && /^#[0-9]+: FILE: / { file = $3; sub(/:$/, "", file); want = 0; next }
		want && /^#[0-9]+:/ { want = 0 }
		/^$/ { flush() }
		END { flush() }'
}

stage_checkpatch() {
	local start=$(date +%s) accepted=$LOCUSTFS_TOP/docs/series/checkpatch-accepted total bad
	"$LOCUSTFS_TOP/scripts/patches.sh" write "$ksrc" 2>"$log_dir/patches.log" || {
		cat "$log_dir/patches.log"
		verdict checkpatch "$start" 1 "make patches failed"
		return
	}
	# The system python: checkpatch's SPDX check runs scripts/spdxcheck.py, which needs ply.
	(cd "$LOCUSTFS_TOP" && PATH=/usr/bin:$PATH "$ksrc/scripts/checkpatch.pl" --strict \
		--show-types build/patches/000[1-9]-*.patch >"$log_dir/checkpatch.log" 2>&1) || true
	checkpatch_messages <"$log_dir/checkpatch.log" >"$log_dir/checkpatch.messages"
	total=$(wc -l <"$log_dir/checkpatch.messages")
	# An entry of the accepted list: "TYPE FILE-GLOB: reason" (FILE-GLOB relative to the tree).
	bad=$(awk '
		NR == FNR {
			if ($0 ~ /^[A-Z]+:[A-Z0-9_]+ [^ ]+: /) {
				n++; type[n] = $1; glob[n] = $2; sub(/:$/, "", glob[n]); used[n] = 0
				re[n] = glob[n]; gsub(/[.+?()|^$]/, "\\\\&", re[n]); gsub(/\*/, ".*", re[n])
				re[n] = "^" re[n] "$"
			}
			next
		}
		{
			file = $2; sub(/:[0-9]+$/, "", file); ok = 0
			for (i = 1; i <= n; i++)
				if ($1 == type[i] && file ~ re[i]) { used[i]++; ok = 1; break }
			if (!ok) print "not justified: " $0
		}
		END {
			for (i = 1; i <= n; i++)
				if (!used[i]) print "justifies nothing: " type[i] " " glob[i]
		}' "$accepted" "$log_dir/checkpatch.messages")
	[ -z "$bad" ] || printf '%s\n' "$bad"
	verdict checkpatch "$start" "$(grep -c . <<<"$bad" || true)" "$(grep -c . <<<"$bad" || true) problems; $total messages, each justified in docs/series/checkpatch-accepted; $(grep -h '^total:' "$log_dir/checkpatch.log" | awk '{e += $2; w += $4; c += $6} END {print e " errors, " w " warnings, " c " checks"}')"
}

for s in "${stages[@]}"; do
	case $s in
	fmt | build | rustdoc | checkpatch) "stage_$s" ;;
	*) die "lint: unknown stage $s (fmt, build, rustdoc, checkpatch)" ;;
	esac
done
[ "$failed" -eq 0 ] || die "lint: $failed stage(s) failed (logs: $log_dir)"
