# SPDX-License-Identifier: GPL-2.0
# Finds kernel report headers in a kernel log, with the one pattern list tests/report-patterns.
# Used on the host (scripts/scan-log.sh) and in the guest (tests/run-suite.sh, busybox awk).
#
#   awk -v patterns=tests/report-patterns -f tests/report-classes.awk LOG...
#
# Prints one line a header: the log's line number, a tab, the report's class, a tab, the
# message (timestamp and caller id stripped, carriage returns removed).
BEGIN {
	FS = "\n"
	n = 0
	while ((getline line < patterns) > 0) {
		if (line ~ /^#/ || line !~ /\t/)
			continue
		tab = index(line, "\t")
		cls[++n] = substr(line, 1, tab - 1)
		pat[n] = substr(line, tab + 1)
	}
	close(patterns)
	if (n == 0) {
		print "report-classes: no patterns in '" patterns "'" > "/dev/stderr"
		exit 2
	}
}
{
	msg = $0
	gsub(/\r/, "", msg)
	# "[   12.345678] " and an optional "[    T1] " / "[  C0] " caller id.
	sub(/^\[ *[0-9]+(\.[0-9]+)?\] */, "", msg)
	sub(/^\[ *[TC][0-9]+\] */, "", msg)
	for (i = 1; i <= n; i++) {
		if (msg ~ pat[i]) {
			printf "%d\t%s\t%s\n", FNR, cls[i], msg
			break
		}
	}
}
