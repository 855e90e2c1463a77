#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Scans a guest kernel console log for kernel bug reports (every class in tests/report-patterns:
# KASAN, lockdep, WARN, BUG, Oops, panic, kmemleak, stalls, hung tasks, KUnit, Rust panics, ...).
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

# The report headers: one list, shared with the guest-side checks of tests/run-suite.sh.
patterns=$(dirname "$0")/../tests/report-patterns
classify=$(dirname "$0")/../tests/report-classes.awk
hits_file=$(mktemp)
trap 'rm -f "$hits_file"' EXIT
awk -v patterns="$patterns" -f "$classify" "$log" >"$hits_file"

# Group nearby headers into one report and print each report once with its context and class. A report framed by "=====" lines (KASAN, UBSAN)
# is printed up to its closing line, one that ends with "---[ end trace ... ]---" (WARN, Oops)
# up to that line; others get CONTEXT_AFTER lines. Never more than MAX_REPORT_LINES.
awk -v before="$CONTEXT_BEFORE" -v after="$CONTEXT_AFTER" -v maxlines="$MAX_REPORT_LINES" \
	-v logname="$log" -v hits_file="$hits_file" '
# The hits: line number, class, message.
BEGIN {
	while ((getline hit < hits_file) > 0) {
		split(hit, f, "\t")
		hits[++nhits] = f[1] + 0
		hit_class[f[1] + 0] = f[2]
	}
	close(hits_file)
}
{
	sub(/\r+$/, "")
	gsub(/\r/, "")
	lines[FNR] = $0
	msg = $0
	sub(/^\[ *[0-9]+(\.[0-9]+)?\] */, "", msg)
	sub(/^\[ *[TC][0-9]+\] */, "", msg)
	msgs[FNR] = msg
	nlines = FNR
}
function is_rule(m) { return m ~ /^=================+$/ }
# Last line of the report whose header is line n.
function report_end(n,    k, limit) {
	limit = (n + maxlines > nlines) ? nlines : n + maxlines
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
	return (n + after > nlines) ? nlines : n + after
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
	classes = ""
	for (h = 1; h <= nhits; h++) {
		c = hit_class[hits[h]]
		if (!(c in seen)) {
			seen[c] = 1
			classes = classes " " c
		}
	}
	printf "scan-log: classes:%s\n", classes
	for (r = 1; r <= nrep; r++) {
		printf "\n----- report %d of %d, line %d [%s]: %s\n", r, nrep, rep_head[r],
			hit_class[rep_head[r]], msgs[rep_head[r]]
		for (n = rep_start[r]; n <= rep_end[r]; n++)
			printf "%s\n", lines[n]
		printf "----- end of report %d\n", r
	}
	exit 1
}' "$log"
