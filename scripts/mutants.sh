#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Mutation testing: each tests/mutants/NAME.patch reintroduces a known bug into a copy of the
# module, and the suite programs named on the patch's "# catch:" line run against it. A mutant
# is caught only when the suite fails the way the patch's "# expect:" lines say (each an
# extended regular expression that must match a line of that mutant's own output: the failing
# test case, the kernel report's class). A mutant that does not apply, build, load or finish is
# a harness error, never a catch.
#
#   scripts/mutants.sh [--build-only] [--against PROGRAM] KDIR all|NAME...
#
# --against PROGRAM runs PROGRAM instead of each patch's "# catch:" programs, and judges the
# mutant by the patch's "# expect-PROGRAM:" lines instead of its "# expect:" lines: how one
# checker (readiness_oracle) catches mutants that the suite's scenarios were written for.
#
# Build: every mutant's locustfs.ko first, on the host, as many at a time as there are CPUs.
# Each is kept in $LOCUSTFS_CACHE/mutants/ko/ under a hash of the module source, the patch and
# the kernel build, so an unchanged tree builds none. --build-only stops there.
#
# Run: the mutants that do not panic the kernel share one debug guest (tests/run-mutants.sh):
# each is loaded, its programs run through tests/run-suite.sh (every post-run check applies),
# and the suite unloads it before the next is loaded. Each is judged on its own section of the
# guest's output and of the kernel log, which scripts/scan-log.sh scans section by section: a
# kernel report in a mutant's section is that mutant's (caught if its expect lines match), and
# the mutants after it run in a fresh boot (the guest stops when a mutant leaves a report, a
# checker switched off or the module loaded; a panic stops it anyway), so nothing one mutant
# does reaches the next one's verdict. A patch with the line "# panics: yes" (its bug panics the
# guest: KASAN, a WARN under panic_on_warn) gets a boot of its own. The suite's closing kmemleak
# scan runs for a mutant whose expect lines name kmemleak, first in its boot, so that it sees
# only its own leaks; for the others it is skipped (it decides none of their verdicts).
# A mutant of one program whose expect lines name its failing test cases plainly (fixture\.test,
# no other pattern) runs only those cases (run-suite.sh's CASES): the other cases decide
# nothing of its verdict, and a lost wake-up costs each failing case its whole wait anyway.
# MUTANT_CASES=all runs every case of every mutant's programs.
#
# Prints TAP ("ok N - mutant NAME caught ...") and ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh"

build_only=0 against=
while :; do
	case ${1:-} in
	--build-only) build_only=1; shift ;;
	--against) against=${2:?--against needs a program}; shift 2 ;;
	*) break ;;
	esac
done
expect_tag=expect
[ -z "$against" ] || expect_tag=expect-$against
kdir=${1:?usage: scripts/mutants.sh [--build-only] [--against PROGRAM] KDIR all|NAME...}
shift
bzimage=$kdir/arch/x86/boot/bzImage
patches=()
if [ "${1:-all}" = all ]; then
	patches=("$LOCUSTFS_TOP"/tests/mutants/*.patch)
else
	for name in "$@"; do
		patches+=("$LOCUSTFS_TOP/tests/mutants/$name.patch")
	done
fi

MARK=locustfs-mutant:
ko_cache=$LOCUSTFS_CACHE/mutants/ko
# Where the guest finds the modules: /repo/tests/build/mutants.
staged=$LOCUSTFS_TOP/tests/build/mutants
work=$(mktemp -d "${TMPDIR:-/tmp}/locustfs-mutants.XXXXXX")
trap 'rm -rf "$work"' EXIT
rm -rf "$staged"
mkdir -p "$staged" "$ko_cache"

names=()
declare -A patch_of programs_of verdict_of
for patch in "${patches[@]}"; do
	name=$(basename "$patch" .patch)
	names+=("$name")
	patch_of[$name]=$patch
	programs_of[$name]=${against:-$(sed -n 's/^# catch: //p' "$patch" 2>/dev/null | head -1)}
done

# --- build ------------------------------------------------------------------------------------
source_hash=$(module_source_tar | sha256sum | cut -d' ' -f1)
kernel_hashes=$(kernel_build_hashes "$kdir") || die "mutants: no kernel build in $kdir"

# build_mutant NAME: builds (or finds in the cache) NAME's locustfs.ko and stages it; writes
# "ok: ..." or "harness error: ..." to $work/NAME.build.
build_mutant() {
	local name=$1 patch=${patch_of[$1]} key ko dir start log=$LOCUSTFS_LOGS/mutant-$1-build.log
	start=$(date +%s)
	if [ ! -f "$patch" ]; then
		echo "harness error: no patch $patch" >"$work/$name.build"
		return
	fi
	if [ -z "${programs_of[$name]}" ] || ! grep -q "^# $expect_tag: " "$patch"; then
		echo "harness error: the patch names no '# catch:' programs or no '# $expect_tag:' signature" \
			>"$work/$name.build"
		return
	fi
	key=$(printf '%s\n' "$source_hash" "$kernel_hashes" "LLVM=$LLVM_SUFFIX" | cat - "$patch" |
		sha256sum | cut -c1-16)
	ko=$ko_cache/$name-$key.ko
	if [ -f "$ko" ]; then
		cp "$ko" "$staged/$name.ko"
		echo "ok: cached ($ko)" >"$work/$name.build"
		return
	fi
	dir=$LOCUSTFS_CACHE/mutants/build/$name
	rm -rf "$dir"
	mkdir -p "$dir"
	module_source_tar | tar -xf - -C "$dir"
	if ! patch -d "$dir" -p1 --quiet --no-backup-if-mismatch <"$patch" >"$log" 2>&1; then
		echo "harness error: the patch does not apply (see $log)" >"$work/$name.build"
	elif ! make -C "$kdir" M="$dir" LLVM="$LLVM_SUFFIX" locustfs.ko >>"$log" 2>&1; then
		echo "harness error: the mutant does not build (see $log)" >"$work/$name.build"
	else
		rm -f "$ko_cache/$name"-*.ko
		cp "$dir/locustfs.ko" "$ko.$$" && mv "$ko.$$" "$ko"
		cp "$ko" "$staged/$name.ko"
		echo "ok: built in $(($(date +%s) - start)) s ($ko)" >"$work/$name.build"
	fi
}

phase "mutants: building ${#names[@]} module(s)"
build_start=$(date +%s)
for name in "${names[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do wait -n; done
	build_mutant "$name" &
done
wait
for name in "${names[@]}"; do
	info "$name: $(cat "$work/$name.build")"
done
info "mutants: modules ready in $(($(date +%s) - build_start)) s"
if [ "$build_only" = 1 ]; then
	! grep -q '^harness error' "$work"/*.build
	exit
fi

# --- run --------------------------------------------------------------------------------------
boots=0

# judge NAME OUT CONSOLE STATUS: the verdict of NAME from its sections of the guest output OUT
# and the console log CONSOLE of a boot that exited with STATUS.
judge() {
	local name=$1 out=$2 console=$3 status=$4 log=$LOCUSTFS_LOGS/mutant-$1.log section
	local scan scan_rc end rc re line missing=() seen=()
	section=$(tr -d '\r' <"$out" | awk -v b="$MARK begin $name" -v e="$MARK end $name exit " '
		$0 == b { on = 1 } on { print } on && index($0, e) == 1 { exit }')
	log_section "$console" "$MARK begin $name" "$MARK begin " >"$work/$name.console"
	scan=$("$LOCUSTFS_TOP/scripts/scan-log.sh" "$work/$name.console" 2>&1)
	scan_rc=$?
	{
		echo "# mutant $name: boot $boots (guest output: $out; console log: $console)"
		echo "$section"
		[ "$scan_rc" = 0 ] || echo "$scan"
	} >"$log"
	end=$(sed -n "s/^$MARK end $name exit \([0-9]*\)\$/\1/p" <<<"$section")
	# The status a boot of its own would have ended with: the suite's, or 125 (kernel report).
	if [ "$scan_rc" -gt 1 ]; then
		verdict_of[$name]="not ok - mutant $name: harness error: scan-log failed on its log (see $log)"
		return
	elif grep -aq '^Bail out!' <<<"$section"; then
		verdict_of[$name]="not ok - mutant $name: harness error: the mutant did not load (see $log)"
		return
	elif [ "$scan_rc" = 1 ]; then
		rc=125
	elif [ -n "$end" ]; then
		rc=$end
	elif [ "$status" = 124 ]; then
		verdict_of[$name]="not ok - mutant $name: harness error: it did not finish (the guest timed out; see $log)"
		return
	else
		verdict_of[$name]="not ok - mutant $name: harness error: the guest stopped during it without a kernel report (exit $status; see $log)"
		return
	fi
	if [ "$rc" = 0 ]; then
		verdict_of[$name]="not ok - mutant $name NOT caught: '${programs_of[$name]}' passed (see $log)"
		return
	fi
	while IFS= read -r re; do
		if line=$(grep -aE -m1 -- "$re" "$log"); then
			seen+=("$(sed 's/^ *//' <<<"$line" | cut -c1-100)")
		else
			missing+=("$re")
		fi
	done < <(sed -n "s/^# $expect_tag: //p" "${patch_of[$name]}")
	if [ ${#missing[@]} -gt 0 ]; then
		verdict_of[$name]="not ok - mutant $name failed the suite (exit $rc) but not as expected: no line matches '${missing[*]}' (see $log)"
		return
	fi
	verdict_of[$name]="ok - mutant $name caught (exit $rc, boot $boots): $(IFS=';'; echo "${seen[*]}")"
}

# cases_of NAME: the test cases NAME's expect lines name ("not ok N FIXTURE\.TEST"), comma-
# separated; nothing (every case runs) when it catches with more than one program, when a
# line names cases by any other pattern, or with MUTANT_CASES=all.
cases_of() {
	local name=$1 re cases=() case_
	[ "${MUTANT_CASES:-}" != all ] && [ -z "$against" ] || return 0
	[ "$(wc -w <<<"${programs_of[$name]}")" = 1 ] || return 0
	while IFS= read -r re; do
		case_=${re##*not ok \[0-9\]+ }
		# Not a case's line, or the program's own result line.
		[ "$case_" != "$re" ] && [ "$case_" != "${programs_of[$name]}\$" ] || continue
		[[ $case_ =~ ^[a-z0-9_]+(\\\.[a-z0-9_]+)+$ ]] || return 0
		cases+=("${case_//\\./.}")
	done < <(sed -n "s/^# $expect_tag: //p" "${patch_of[$name]}")
	(IFS=,; echo "${cases[*]}")
}

# run_boot NAME...: one guest for the mutants NAME..., in order; those it did not start (it
# stopped after a kernel report, a panic or a timeout) go on in a fresh boot.
run_boot() {
	local specs='' name cases kmemleak_first=() others=() left=() out console status start
	for name in "$@"; do
		if sed -n "s/^# $expect_tag: //p" "${patch_of[$name]}" | grep -q kmemleak; then
			kmemleak_first+=("$name")
		else
			others+=("$name")
		fi
	done
	for name in "${kmemleak_first[@]}" "${others[@]}"; do
		specs+=" '$name:$(tr ' ' , <<<"${programs_of[$name]}")"
		[[ " ${kmemleak_first[*]} " != *" $name "* ]] || specs+=:kmemleak
		cases=$(cases_of "$name")
		[ -z "$cases" ] || specs+=":cases=$cases"
		specs+="'"
	done
	boots=$((boots + 1))
	out=$LOCUSTFS_LOGS/mutants-boot$boots.out
	console=$LOCUSTFS_LOGS/mutants-boot$boots.log
	phase "mutants: boot $boots: $(echo "${kmemleak_first[*]} ${others[*]}")"
	start=$(date +%s)
	"$LOCUSTFS_TOP/qemu/run-qemu.sh" --kernel "$bzimage" --log "$console" \
		--timeout $((120 + 900 * $#)) -- "sh tests/run-mutants.sh$specs" >"$out" 2>"$out.err"
	status=$?
	info "mutants: boot $boots: exit $status after $(($(date +%s) - start)) s ($(grep -a 'guest: .* wall' "$out.err" | sed 's/^ *//'))"
	grep -a "^$MARK fresh boot needed" "$out" | sed 's/^/    /' >&2
	for name in "${kmemleak_first[@]}" "${others[@]}"; do
		if grep -aqx "$MARK begin $name" <(tr -d '\r' <"$out"); then
			judge "$name" "$out" "$console" "$status"
			info "${verdict_of[$name]}"
		else
			left+=("$name")
		fi
	done
	[ ${#left[@]} -gt 0 ] || return 0
	if [ ${#left[@]} -eq $# ]; then
		# Not one started: another boot would do the same.
		for name in "${left[@]}"; do
			verdict_of[$name]="not ok - mutant $name: harness error: the guest started no mutant (exit $status; console log: $console)"
		done
		tail -n 5 "$out" "$out.err" | sed 's/^/# /'
		return
	fi
	run_boot "${left[@]}"
}

shared=()
for name in "${names[@]}"; do
	build=$(cat "$work/$name.build")
	if [[ $build == "harness error"* ]]; then
		verdict_of[$name]="not ok - mutant $name: $build"
	elif grep -q '^# panics: yes' "${patch_of[$name]}"; then
		run_boot "$name"
	else
		shared+=("$name")
	fi
done
[ ${#shared[@]} -eq 0 ] || run_boot "${shared[@]}"

passed=0 failed=0 n=0
echo "TAP version 13"
echo "1..${#names[@]}"
for name in "${names[@]}"; do
	n=$((n + 1))
	v=${verdict_of[$name]:-"not ok - mutant $name: harness error: no verdict"}
	case $v in
	"ok "*) passed=$((passed + 1)); echo "ok $n ${v#ok }" ;;
	*) failed=$((failed + 1)); echo "not ok $n ${v#not ok }" ;;
	esac
done
info "mutants: $boots boot(s)"
echo "mutants: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
