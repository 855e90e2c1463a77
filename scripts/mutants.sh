#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Mutation testing: each tests/mutants/NAME.patch reintroduces a known bug into a copy of the
# module; the copy is built, booted, and run through the suite programs named on the patch's
# "# catch:" line. A mutant is caught only when the suite fails the way the patch's "# expect:"
# lines say (each an extended regular expression that must match a line of the run's output:
# the failing test case, the kernel report's class). A mutant that does not apply, build, load
# or boot is a harness error, never a catch.
#
#   scripts/mutants.sh KDIR all|NAME...
#
# Prints TAP ("ok N - mutant NAME caught: reason") and ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${1:?usage: scripts/mutants.sh KDIR all|NAME...}
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

passed=0
failed=0
n=0
echo "TAP version 13"
echo "1..${#patches[@]}"
for patch in "${patches[@]}"; do
	n=$((n + 1))
	name=$(basename "$patch" .patch)
	dir=$LOCUSTFS_CACHE/mutants/$name
	log=$LOCUSTFS_LOGS/mutant-$name.log
	progs=$(sed -n 's/^# catch: //p' "$patch")
	mapfile -t expects < <(sed -n 's/^# expect: //p' "$patch")
	verdict=""
	phase "mutant $name: build and run '$progs'"
	rm -rf "$dir"
	mkdir -p "$dir"
	# The repository as it is (test binaries included), less git and module build products.
	tar -C "$LOCUSTFS_TOP" --exclude=.git --exclude='*.ko' --exclude='*.o' -cf - . |
		tar -C "$dir" -xf -
	if [ -z "$progs" ] || [ ${#expects[@]} -eq 0 ]; then
		verdict="harness error: the patch names no '# catch:' programs or no '# expect:' signature"
	elif ! patch -d "$dir" -p1 --quiet --no-backup-if-mismatch <"$patch" >"$log" 2>&1; then
		verdict="harness error: the patch does not apply (see $log)"
	elif ! make -C "$kdir" M="$dir" LLVM="$LLVM_SUFFIX" modules >>"$log" 2>&1; then
		verdict="harness error: the mutant does not build (see $log)"
	fi
	if [ -n "$verdict" ]; then
		echo "not ok $n - mutant $name: $verdict"
		failed=$((failed + 1))
		continue
	fi
	"$LOCUSTFS_TOP/qemu/run-qemu.sh" --kernel "$bzimage" --repo "$dir" --timeout 900 \
		-- "sh tests/run-suite.sh $progs" >>"$log" 2>&1
	status=$?
	if grep -aq '^Bail out!' "$log" || [ "$status" = 126 ] || [ "$status" = 124 ]; then
		echo "not ok $n - mutant $name: harness error: the mutant did not load, boot or finish (exit $status, see $log)"
		failed=$((failed + 1))
		continue
	fi
	if [ "$status" -eq 0 ]; then
		echo "not ok $n - mutant $name NOT caught: '$progs' passed (see $log)"
		failed=$((failed + 1))
		continue
	fi
	missing=() seen=()
	for re in "${expects[@]}"; do
		if line=$(grep -aE -m1 -- "$re" "$log"); then
			seen+=("$(sed 's/^ *//' <<<"$line" | cut -c1-100)")
		else
			missing+=("$re")
		fi
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "not ok $n - mutant $name failed the suite (exit $status) but not as expected: no line matches '${missing[*]}' (see $log)"
		failed=$((failed + 1))
		continue
	fi
	echo "ok $n - mutant $name caught (exit $status): $(IFS=';'; echo "${seen[*]}")"
	passed=$((passed + 1))
done
echo "mutants: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
