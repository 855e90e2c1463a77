#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Tests scripts/scan-log.sh against the kernel log fixtures in tests/scanner/: clean logs must
# pass, each log with a report must fail and name that report. Prints TAP.
#
#   scripts/test-scan-log.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
scan=$top/scripts/scan-log.sh
dir=$top/tests/scanner
[ -x "$scan" ] || { echo "test-scan-log: error: $scan missing" >&2; exit 1; }
[ -d "$dir" ] || { echo "test-scan-log: error: $dir missing" >&2; exit 1; }

# FIXTURE  VERDICT (clean|report)  REPORTS  TEXT the scanner's output must contain ('' if clean)
EXPECTATIONS=(
	'clean-boot.log|clean|0|'
	'clean-boot-vng.log|clean|0|'
	'clean-noisy-boot.log|clean|0|'
	'kasan-slab-use-after-free.log|report|2|BUG: KASAN: slab-use-after-free in queued_spin_lock_slowpath'
	'kasan-crlf.log|report|1|BUG: KASAN: use-after-free in locustfs_read_iter'
	'kasan-null-ptr-deref-rust.log|report|2|BUG: KASAN: null-ptr-deref in _RNvXs_NtCs3KbD6j9Ov75_8locustfs2fs'
	'lockdep-circular.log|report|1|WARNING: possible circular locking dependency detected'
	'lockdep-nonstatic-key.log|report|1|INFO: trying to register non-static key'
	'warning.log|report|2|WARNING: src/inode.rs:212 at locustfs_evict_inode'
	'kmemleak-unreferenced.log|report|1|unreferenced object 0xffff888004d3a880 (size 128)'
	'kmemleak-debugfs-dump.log|report|1|unreferenced object 0xffff888005e1c400 (size 256)'
	'ubsan-array-index.log|report|1|UBSAN: array-index-out-of-bounds in fs/locustfs/ring.c:88:17'
	'gpf-null-deref.log|report|2|Oops: general protection fault'
	'rcu-stall.log|report|1|rcu_sched self-detected stall on CPU'
	'hung-task.log|report|1|INFO: task locust-wait:133 blocked for more than 122 seconds'
	'sleeping-in-atomic.log|report|1|BUG: sleeping function called from invalid context'
	'soft-lockup.log|report|1|watchdog: BUG: soft lockup'
	'rust-panic.log|report|1|rust_kernel: panicked at src/inode.rs:140:31'
	'kunit-failure.log|report|1|not ok 2 locustfs_name_too_long'
)
# Context checks: FIXTURE|TEXT that must appear inside the printed report.
CONTEXT=(
	'kasan-slab-use-after-free.log|Freed by task 94:'
	'kasan-slab-use-after-free.log|kfree+0x14b/0x4a0'
	'lockdep-circular.log|-> #0 (&sb->s_type->i_mutex_key#9)'
	'warning.log|---[ end trace 0000000000000000 ]---'
	'kmemleak-unreferenced.log|locustfs_fill_super+0x7d/0x2e0 [locustfs]'
	'kasan-null-ptr-deref-rust.log|__x64_sys_mount+0x1fc/0x240'
)

n=0 pass=0 fail=0
ok() {
	n=$((n + 1)) pass=$((pass + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1)) fail=$((fail + 1))
	echo "not ok $n - $1"
	[ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/# /' | head -n 20
}

echo "TAP version 13"
echo "1..$((${#EXPECTATIONS[@]} + ${#CONTEXT[@]} + 3))"

declare -A known
for e in "${EXPECTATIONS[@]}"; do
	IFS='|' read -r file verdict reports text <<<"$e"
	known[$file]=1
	if [ ! -f "$dir/$file" ]; then
		not_ok "$file: fixture missing"
		continue
	fi
	rc=0
	out=$("$scan" "$dir/$file" 2>&1) || rc=$?
	if [ "$verdict" = clean ]; then
		if [ "$rc" = 0 ] && [ -z "$out" ]; then
			ok "$file: clean"
		else
			not_ok "$file: expected clean, scan-log exited $rc" "$out"
		fi
		continue
	fi
	if [ "$rc" != 1 ]; then
		not_ok "$file: expected a report, scan-log exited $rc" "$out"
	elif ! grep -qF -- "$text" <<<"$out"; then
		not_ok "$file: report does not show '$text'" "$out"
	elif ! grep -qx "scan-log: $reports kernel report(s) in .*" <<<"$out"; then
		not_ok "$file: expected $reports report(s)" "$(head -1 <<<"$out")"
	else
		ok "$file: $reports report(s), shows '$text'"
	fi
done

for c in "${CONTEXT[@]}"; do
	IFS='|' read -r file text <<<"$c"
	out=$("$scan" "$dir/$file" 2>&1) || true
	if grep -qF -- "$text" <<<"$out"; then
		ok "$file: context includes '$text'"
	else
		not_ok "$file: context lacks '$text'" "$out"
	fi
done

# Every fixture has an expectation.
unlisted=()
for f in "$dir"/*.log; do
	[ -n "${known[$(basename "$f")]:-}" ] || unlisted+=("$(basename "$f")")
done
if [ ${#unlisted[@]} -eq 0 ]; then
	ok "every fixture has an expected verdict"
else
	not_ok "fixtures without an expected verdict: ${unlisted[*]}"
fi

# Usage errors: exit 2, never 0.
rc=0
"$scan" "$dir/does-not-exist.log" >/dev/null 2>&1 || rc=$?
if [ "$rc" = 2 ]; then ok "missing log: exit 2"; else not_ok "missing log: exit $rc, expected 2"; fi
rc=0
"$scan" >/dev/null 2>&1 || rc=$?
if [ "$rc" = 2 ]; then ok "no argument: exit 2"; else not_ok "no argument: exit $rc, expected 2"; fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
