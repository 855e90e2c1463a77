#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Mutation testing: each tests/mutants/NAME.patch reintroduces a known bug into a copy of the
# module; the copy is built, booted, and run through the suite programs named on the patch's
# "# catch:" line. The suite must fail for every mutant, and this prints why.
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
	verdict=""
	phase "mutant $name: build and run '$progs'"
	rm -rf "$dir"
	mkdir -p "$dir"
	# The repository as it is (test binaries included), less git and module build products.
	tar -C "$LOCUSTFS_TOP" --exclude=.git --exclude='*.ko' --exclude='*.o' -cf - . |
		tar -C "$dir" -xf -
	if ! patch -d "$dir" -p1 --quiet --no-backup-if-mismatch <"$patch" >"$log" 2>&1; then
		verdict="patch does not apply (see $log)"
	elif ! make -C "$kdir" M="$dir" LLVM="$LLVM_SUFFIX" modules >>"$log" 2>&1; then
		verdict="mutant does not build (see $log)"
	fi
	if [ -n "$verdict" ]; then
		echo "not ok $n - mutant $name: $verdict"
		failed=$((failed + 1))
		continue
	fi
	"$LOCUSTFS_TOP/qemu/run-qemu.sh" --kernel "$bzimage" --repo "$dir" --timeout 900 \
		-- "sh tests/run-suite.sh $progs" >>"$log" 2>&1
	status=$?
	if [ "$status" -eq 0 ]; then
		echo "not ok $n - mutant $name NOT caught: '$progs' passed (see $log)"
		failed=$((failed + 1))
		continue
	fi
	# The first kernel report or failed test case is the reason.
	reason=$(grep -m1 -oE 'BUG: KASAN: [a-z-]+ in [A-Za-z0-9_]+|BUG: [^[:cntrl:]]*|WARNING: [^[:cntrl:]]*|possible circular locking[^[:cntrl:]]*|unreferenced object[^[:cntrl:]]*|not ok [0-9]+ [^[:cntrl:]]*|guest timed out[^[:cntrl:]]*' "$log" |
		head -1)
	echo "ok $n - mutant $name caught (exit $status): ${reason:-suite failed}"
	passed=$((passed + 1))
done
echo "mutants: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
