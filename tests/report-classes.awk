# SPDX-License-Identifier: GPL-2.0
# Finds kernel report headers in a kernel log, with the one pattern list tests/report-patterns.
# Used on the host (scripts/scan-log.sh) and in the guest (tests/run-suite.sh, busybox awk).
#
#   awk -v patterns=tests/report-patterns -f tests/report-classes.awk LOG...
#
# Prints one line a header: the log's line number, a tab, the report's class, a tab, the
# message (timestamp and caller id stripped, carriage returns removed). A "lead" line (the
# "cut here" that opens a WARN(), a BUG(), ...) is printed only when no other header follows
# it before its report ends: an "---[ end ...]---" line, the next lead, or LEAD_LINES lines.
BEGIN {
	FS = "\n"
	LEAD_LINES = 50
	n = 0
	pending = 0
	while ((getline line < patterns) > 0) {
		if (line ~ /^#/ || line !~ /\t/)
			continue
		# CLASS, a tab, the pattern, optionally a tab and "lead".
		split(line, f, "\t")
		cls[++n] = f[1]
		pat[n] = f[2]
		lead[n] = (f[3] == "lead")
	}
	close(patterns)
	if (n == 0) {
		print "report-classes: no patterns in '" patterns "'" > "/dev/stderr"
		exit 2
	}
}
# flush_lead: prints the waiting lead line as a header of its own.
function flush_lead() {
	if (pending)
		printf "%d\t%s\t%s\n", pending, pending_cls, pending_msg
	pending = 0
}
FNR == 1 {
	flush_lead()
}
{
	msg = $0
	gsub(/\r/, "", msg)
	# "[   12.345678] " and an optional "[    T1] " / "[  C0] " caller id.
	sub(/^\[ *[0-9]+(\.[0-9]+)?\] */, "", msg)
	sub(/^\[ *[TC][0-9]+\] */, "", msg)
	hit = 0
	for (i = 1; i <= n; i++) {
		if (msg ~ pat[i]) {
			hit = i
			break
		}
	}
	if (hit && lead[hit]) {
		flush_lead()
		pending = FNR
		pending_cls = cls[hit]
		pending_msg = msg
	} else if (hit) {
		# The lead's own header: it names the report.
		pending = 0
		printf "%d\t%s\t%s\n", FNR, cls[hit], msg
	} else if (pending && (msg ~ /^---\[ end / || FNR - pending >= LEAD_LINES)) {
		flush_lead()
	}
}
END {
	flush_lead()
}
