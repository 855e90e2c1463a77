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

# FIXTURE|VERDICT (clean or report)|REPORTS|CLASSES (the "scan-log: classes:" list, in order)|
# TEXT the scanner's output must contain ('' if clean; "[CLASS]: HEADER" names a report's first header)
EXPECTATIONS=(
	'clean-boot.log|clean|0||'
	'clean-boot-vng.log|clean|0||'
	'clean-noisy-boot.log|clean|0||'
	'clean-mand-banner.log|clean|0||'
	'clean-warning-banners.log|clean|0||'
	'kasan-slab-use-after-free.log|report|2|kasan panic|BUG: KASAN: slab-use-after-free in queued_spin_lock_slowpath'
	'kasan-crlf.log|report|1|kasan|BUG: KASAN: use-after-free in locustfs_read_iter'
	'kasan-null-ptr-deref-rust.log|report|2|kasan panic|BUG: KASAN: null-ptr-deref in _RNvXs_NtCs3KbD6j9Ov75_8locustfs2fs'
	'lockdep-circular.log|report|1|lockdep|[lockdep]: WARNING: possible circular locking dependency detected'
	'lockdep-irq-safe-unsafe.log|report|1|lockdep|[lockdep]: WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected'
	'lockdep-recursive.log|report|1|lockdep|[lockdep]: WARNING: possible recursive locking detected'
	'lockdep-chain-key-collision.log|report|1|lockdep|[lockdep]: WARNING: chain_key collision'
	'lockdep-inconsistent.log|report|1|lockdep|[lockdep]: WARNING: inconsistent lock state'
	'lockdep-irq-inversion.log|report|1|lockdep|[lockdep]: WARNING: possible irq lock inversion dependency detected'
	'lockdep-nested-lock.log|report|1|lockdep|[lockdep]: WARNING: Nested lock was not taken'
	'lockdep-bad-unlock.log|report|1|lockdep|[lockdep]: WARNING: bad unlock balance detected!'
	'lockdep-bad-contention.log|report|1|lockdep|[lockdep]: WARNING: bad contention detected!'
	'lockdep-held-lock-freed.log|report|1|lockdep|[lockdep]: WARNING: held lock freed!'
	'lockdep-still-has-locks.log|report|1|lockdep|[lockdep]: WARNING: kworker/u8:3/87 still has locks held!'
	'lockdep-return-to-user.log|report|1|lockdep|[lockdep]: WARNING: lock held when returning to user space!'
	'lockdep-suspicious-rcu.log|report|1|lockdep|[lockdep]: WARNING: suspicious RCU usage'
	'lockdep-nonstatic-key.log|report|1|lockdep|[lockdep]: INFO: trying to register non-static key'
	'warning.log|report|2|warning panic|[warning]: WARNING: src/inode.rs:212 at locustfs_evict_inode'
	'warning-lkdtm.log|report|2|warning panic|[warning]: WARNING: drivers/misc/lkdtm/bugs.c:164 at lkdtm_WARNING+0xd/0x10, CPU#0: sh/67'
	'warning-lkdtm-message.log|report|2|warning panic|[warning]: WARNING: drivers/misc/lkdtm/bugs.c:169 at lkdtm_WARNING_MESSAGE+0x11/0x30'
	'warning-no-file.log|report|1|warning|[warning]: WARNING: at locustfs_evict_inode+0x1c4/0x210 [locustfs], CPU#1: rm/140'
	'warning-older-form.log|report|1|warning|[warning]: WARNING: CPU: 0 PID: 140 at rust/kernel/sync/arc.rs:341'
	'warning-cut-here-only.log|report|1|warning|[warning]: ------------[ cut here ]------------'
	'warning-flush-system-wq.log|report|1|warning|[warning]: WARNING: Flushing system-wide workqueues will be prohibited'
	'warning-unwind-bad-bp.log|report|1|warning|[warning]: WARNING: kernel stack regs at ffffc90000537c48 in locust-stress:131 has bad'
	'warning-stack-recursion.log|report|1|warning|[warning]: WARNING: stack recursion on stack type 4'
	'warning-orc-bad-lookup.log|report|1|warning|[warning]: WARNING: WARNING: bad lookup idx'
	'warning-orc-wrong-direction.log|report|1|warning|[warning]: WARNING: stack going in the wrong direction? at locustfs_poll'
	'warning-orc-unknown-reg.log|report|1|warning|[warning]: WARNING: unknown SP base reg 9'
	'kmemleak-unreferenced.log|report|1|kmemleak|unreferenced object 0xffff888004d3a880 (size 128)'
	'kmemleak-debugfs-dump.log|report|1|kmemleak|unreferenced object 0xffff888005e1c400 (size 256)'
	'ubsan-array-index.log|report|1|ubsan|[ubsan]: UBSAN: array-index-out-of-bounds in fs/locustfs/ring.c:88:17'
	'gpf-null-deref.log|report|2|oops kasan panic|Oops: general protection fault'
	'rcu-stall.log|report|1|rcu-stall|rcu_sched self-detected stall on CPU'
	'hung-task.log|report|1|hung-task|INFO: task locust-wait:133 blocked for more than 122 seconds'
	'sleeping-in-atomic.log|report|1|sleep-in-atomic|BUG: sleeping function called from invalid context'
	'soft-lockup.log|report|1|soft-lockup|watchdog: BUG: soft lockup'
	'rust-panic.log|report|1|rust-panic bug oops panic|[rust-panic]: rust_kernel: panicked at src/inode.rs:140:31'
	'kunit-failure.log|report|1|kunit|not ok 2 locustfs_name_too_long'
)
# Context checks: FIXTURE|TEXT that must appear inside the printed report.
CONTEXT=(
	'kasan-slab-use-after-free.log|Freed by task 94:'
	'kasan-slab-use-after-free.log|kfree+0x14b/0x4a0'
	'lockdep-circular.log|-> #0 (&sb->s_type->i_mutex_key#9)'
	'warning.log|---[ end trace 0000000000000000 ]---'
	'warning-lkdtm-message.log|Warning message trigger count: 2'
	'warning-cut-here-only.log|---[ end trace 0000000000000000 ]---'
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
echo "1..$((${#EXPECTATIONS[@]} + ${#CONTEXT[@]} + 4))"

declare -A known
for e in "${EXPECTATIONS[@]}"; do
	IFS='|' read -r file verdict reports classes text <<<"$e"
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
	elif ! grep -qxF "scan-log: classes: $classes" <<<"$out"; then
		not_ok "$file: expected classes '$classes'" "$(sed -n 2p <<<"$out")"
	else
		ok "$file: $reports report(s) [$classes], shows '$text'"
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

# The guest classifies with the initramfs's busybox awk (tests/run-suite.sh), the host with its
# own awk (scripts/scan-log.sh): both must find the same headers in every fixture.
busybox=${BUSYBOX:-/bin/busybox}
differ=()
for f in "$dir"/*.log; do
	host=$(awk -v patterns="$top/tests/report-patterns" -f "$top/tests/report-classes.awk" "$f" 2>&1) || true
	guest=$("$busybox" awk -v patterns="$top/tests/report-patterns" -f "$top/tests/report-classes.awk" "$f" 2>&1) || true
	[ "$host" = "$guest" ] || differ+=("$(basename "$f")")
done
if [ ${#differ[@]} -eq 0 ]; then
	ok "busybox awk finds the same headers as the host's awk in every fixture"
else
	not_ok "busybox awk ($busybox) and the host's awk differ on: ${differ[*]}"
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
