#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Scans a guest kernel console log for kernel bug reports (KASAN, UBSAN, lockdep, WARN, BUG,
# Oops, panic, kmemleak, RCU stalls, hung tasks, KUnit failures, Rust panics).
#
#   scripts/scan-log.sh LOGFILE
#
# Exit 0: no report. Exit 1: one or more reports, each printed with its context (a few lines
# before the header, then the whole report when its end is marked, else 30 lines).
# Exit 2: usage error or unreadable log.
#
# Only report headers are matched, at the start of a kernel message (after the "[  1.234]"
# timestamp and an optional "[T1]" caller id), so that boot lines such as
# "kasan: KernelAddressSanitizer initialized" or "kmemleak: Kernel memory leak detector
# initialized" do not count.
set -euo pipefail

CONTEXT_BEFORE=${SCAN_LOG_BEFORE:-3}
CONTEXT_AFTER=${SCAN_LOG_AFTER:-30}
MAX_REPORT_LINES=${SCAN_LOG_MAX:-150}

if [ $# -ne 1 ]; then
	printf 'usage: %s LOGFILE\n' "$0" >&2
	exit 2
fi
log=$1
if [ ! -r "$log" ] || [ -d "$log" ]; then
	printf 'scan-log: error: cannot read log file %s\n' "$log" >&2
	exit 2
fi

# Extended regular expressions, matched against the message text (timestamp stripped).
# "^" anchors a header at the start of the message.
PATTERNS=(
	'^([A-Za-z0-9_.-]+: )?BUG: '                 # BUG: KASAN/sleeping in atomic/soft lockup/...
	'^WARNING: '                                 # WARN*(), lockdep, RCU-lockdep, refcount
	'KASAN: [a-z-]+ in '                         # "BUG: KASAN: slab-use-after-free in", "KASAN: null-ptr-deref in range"
	'^UBSAN: [a-z-]+ in '                        # UBSAN: array-index-out-of-bounds in f.c:1:2
	'possible circular locking dependency'       # lockdep
	'inconsistent lock state'                    # lockdep
	'suspicious RCU usage'                       # RCU lockdep
	'possible recursive locking detected'        # lockdep
	'^INFO: trying to register non-static key'   # lockdep: lock used before init
	'^Oops: '                                    # Oops: general protection fault, ... [#1]
	'general protection fault'                   # older "general protection fault: 0000 [#1]"
	'^Kernel panic - not syncing'                # panic()
	'kernel BUG at '                             # BUG()/BUG_ON()
	'^(kmemleak: )?unreferenced object.* 0x[0-9a-f]+ \(size' # kmemleak: verbose scan or debugfs dump
	'^kmemleak: [0-9]+ new suspected memory leak' # kmemleak scan result
	'self-detected stall on CPU'                 # RCU stall
	'detected stalls on CPUs'                    # RCU stall
	'detected expedited stalls'                  # RCU expedited stall
	'RCU stall'                                  # generic wording
	'^INFO: task .* blocked.* for more than [0-9]+ seconds' # hung task detector
	'Disabling lock debugging due to kernel taint' # lockdep went off: the run cannot be trusted
	'^rust_kernel: panicked at '                 # Rust panic!() in the kernel
	'^ *not ok [0-9]+ '                          # KUnit failure
)

pattern_file=$(mktemp)
trap 'rm -f "$pattern_file"' EXIT
printf '%s\n' "${PATTERNS[@]}" >"$pattern_file"

# awk does the work: strip CR and the timestamp, match, group nearby matches into one report
# and print each report once with its context. A report framed by "=====" lines (KASAN, UBSAN)
# is printed up to its closing line, one that ends with "---[ end trace ... ]---" (WARN, Oops)
# up to that line; others get CONTEXT_AFTER lines. Never more than MAX_REPORT_LINES.
awk -v before="$CONTEXT_BEFORE" -v after="$CONTEXT_AFTER" -v maxlines="$MAX_REPORT_LINES" \
	-v pattern_file="$pattern_file" -v logname="$log" '
BEGIN {
	npat = 0
	while ((getline p < pattern_file) > 0)
		if (p != "")
			pats[++npat] = p
	close(pattern_file)
}
{
	sub(/\r+$/, "")
	gsub(/\r/, "")
	lines[NR] = $0
	msg = $0
	# "[   12.345678] " and an optional "[    T1] " / "[  C0] " caller id.
	sub(/^\[ *[0-9]+\.[0-9]+\] */, "", msg)
	sub(/^\[ *[TC][0-9]+\] */, "", msg)
	msgs[NR] = msg
	for (i = 1; i <= npat; i++) {
		if (msg ~ pats[i]) {
			hits[++nhits] = NR
			break
		}
	}
}
function is_rule(m) { return m ~ /^=================+$/ }
# Last line of the report whose header is line n.
function report_end(n,    k, limit) {
	limit = (n + maxlines > NR) ? NR : n + maxlines
	if (n > 1 && is_rule(msgs[n - 1])) {
		for (k = n + 1; k <= limit; k++)
			if (is_rule(msgs[k]))
				return k
	}
	for (k = n + 1; k <= limit; k++) {
		if (msgs[k] ~ /cut here/)
			break
		if (msgs[k] ~ /^---\[ end (trace|Kernel panic)/)
			return k
	}
	return (n + after > NR) ? NR : n + after
}
END {
	if (nhits == 0)
		exit 0
	# Group: a hit inside the current report belongs to it.
	nrep = 0
	for (h = 1; h <= nhits; h++) {
		n = hits[h]
		if (nrep > 0 && n <= rep_end[nrep])
			continue
		nrep++
		rep_start[nrep] = (n - before < 1) ? 1 : n - before
		if (nrep > 1 && rep_start[nrep] <= rep_end[nrep - 1])
			rep_start[nrep] = rep_end[nrep - 1] + 1
		rep_end[nrep] = report_end(n)
		rep_head[nrep] = n
	}
	printf "scan-log: %d kernel report(s) in %s\n", nrep, logname
	for (r = 1; r <= nrep; r++) {
		printf "\n----- report %d of %d, line %d: %s\n", r, nrep, rep_head[r], msgs[rep_head[r]]
		for (n = rep_start[r]; n <= rep_end[r]; n++)
			printf "%s\n", lines[n]
		printf "----- end of report %d\n", r
	}
	exit 1
}' "$log"
