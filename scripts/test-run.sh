#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Tests how `make run` hands CMD and TIMEOUT to the guest, on the host and without a guest: the
# repository's Makefile, scripts/run.sh and scripts/lib.sh run in a scratch tree where the
# module build, the tests build, setup and qemu/run-qemu.sh are stubs, the last one recording
# its arguments. CMD must arrive as typed (quotes, `$`, backslashes), TIMEOUT as
# run-qemu.sh's --timeout. Prints TAP.
#
#   scripts/test-run.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/locustfs-test-run.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# The scratch tree: real Makefile and run scripts, stubs for everything they call.
mkdir -p "$scratch/scripts" "$scratch/qemu" "$scratch/tests" "$scratch/kdir/arch/x86/boot"
cp "$top/Makefile" "$scratch/"
cp "$top/scripts/run.sh" "$top/scripts/lib.sh" "$scratch/scripts/"
printf '#!/bin/sh\nexit 0\n' >"$scratch/scripts/setup.sh"
printf '#!/bin/sh\nprintf "%%s\\0" "$@" >"$(dirname "$0")/../qemu-args"\n' \
	>"$scratch/qemu/run-qemu.sh"
chmod +x "$scratch/scripts/setup.sh" "$scratch/qemu/run-qemu.sh"
printf 'all:\n\t@:\n' >"$scratch/tests/Makefile"
printf 'modules:\n\t@:\n' >"$scratch/kdir/Makefile"
: >"$scratch/kdir/arch/x86/boot/bzImage"
: >"$scratch/locustfs.ko"

n=0
failed=0

# make_run ARG...: `make run ARG...` in the scratch tree; its arguments to run-qemu.sh end up
# in the array qemu_args, its stderr in make_err. Returns make's status.
make_run() {
	local rc=0
	rm -f "$scratch/qemu-args"
	make -s -C "$scratch" run KDIR="$scratch/kdir" "$@" </dev/null >/dev/null \
		2>"$scratch/make-err" || rc=$?
	make_err=$(cat "$scratch/make-err")
	qemu_args=()
	if [ -f "$scratch/qemu-args" ]; then
		mapfile -d '' qemu_args <"$scratch/qemu-args"
	fi
	return "$rc"
}

# guest_script: the script run-qemu.sh was given (its last argument).
guest_script() {
	[ ${#qemu_args[@]} -gt 0 ] && printf '%s' "${qemu_args[-1]}"
}

# has_timeout SECONDS: run-qemu.sh was given --timeout SECONDS ("" : no --timeout at all).
has_timeout() {
	local i found=
	for ((i = 0; i < ${#qemu_args[@]} - 1; i++)); do
		[ "${qemu_args[i]}" = --timeout ] && found=${qemu_args[i + 1]}
	done
	[ "$found" = "$1" ]
}

# check DESCRIPTION COMMAND...: one TAP case.
check() {
	local desc=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		failed=$((failed + 1))
		[ -z "$make_err" ] || printf '# make said: %s\n' "$make_err" | head -n 5
		printf '# guest script: %q\n' "$(guest_script)"
	fi
}

# ends_with TEXT: the guest script's last line is TEXT, byte for byte.
ends_with() {
	[ "$(guest_script | tail -n 1)" = "$1" ]
}

echo "TAP version 13"
quoted='dmesg | grep -c "WARN"'
make_run CMD="$quoted" || true
check "CMD with double quotes reaches the guest as typed" ends_with "$quoted"
check "without TIMEOUT, no --timeout (run-qemu.sh's 600 s default)" has_timeout ""

awkward="echo 'it''s' \"\$HOME\" \$\$ \\\\ \`uname\` %s ; done"
make_run CMD="$awkward" || true
check "CMD with single quotes, \$, \$\$, backslashes and backquotes reaches the guest as typed" \
	ends_with "$awkward"
check "the guest script runs CMD in /repo after loading and mounting locustfs" \
	eval 'guest_script | grep -q "^insmod /repo/locustfs.ko" &&
		[ "$(guest_script | tail -n 2 | head -n 1)" = "cd /repo || exit 1" ]'

make_run CMD=true TIMEOUT=1800 || true
check "TIMEOUT=1800 becomes --timeout 1800" has_timeout 1800

make_run CMD=true TIMEOUT=0 || true
check "TIMEOUT=0 (no limit) becomes --timeout 0" has_timeout 0

if make_run CMD=true TIMEOUT=10m; then rc=0; else rc=$?; fi
check "TIMEOUT=10m is refused before any boot" \
	eval '[ "$rc" -ne 0 ] && [ ${#qemu_args[@]} -eq 0 ] &&
		grep -q "TIMEOUT must be a whole number of seconds" <<<"$make_err"'

make_run || true
check "without CMD the guest runs the demo" ends_with "sh /repo/scripts/demo.sh"

echo "1..$n"
echo "$((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
