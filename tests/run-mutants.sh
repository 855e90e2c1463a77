#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs mutants of the module one after the other in one guest (busybox sh), started by
# scripts/mutants.sh, which has built each as tests/build/mutants/NAME.ko:
#
#   sh tests/run-mutants.sh NAME:PROGRAM[,PROGRAM...][:kmemleak][:cases=CASE[,CASE...]] ...
#
# For each NAME, in order: loads its module (it is loaded by no one else, so the suite tests
# that one), runs tests/run-suite.sh on its programs, with every post-run check, and the
# suite's closing kmemleak scan only when ":kmemleak" says so; with ":cases=", only those test
# cases of its programs (run-suite.sh's CASES); the suite unloads the module at its end.
# Each mutant's output lies between the lines "locustfs-mutant: begin NAME" and
# "locustfs-mutant: end NAME exit N", and its part of the kernel log starts at the line
# "locustfs-mutant: begin NAME", so the host judges each on its own lines only.
#
# Before the next mutant starts, the kernel log since the previous one's begin must hold no
# report (any class of tests/report-patterns), lockdep and kmemleak must still run, and the
# module must be unloaded. Otherwise what that mutant left could change the next one's verdict:
# this stops with the line "locustfs-mutant: fresh boot needed: REASON" and exit status 3, and
# the host boots again for the mutants that did not start. A mutant that panics the guest ends
# the boot the same way. Exit status 0 otherwise (the mutants' own verdicts are the host's).

. "$(dirname "$0")/lib.sh"

MUTANTS=$REPO/tests/build/mutants
MARK=locustfs-mutant:

# fresh_boot_needed REASON: stop here.
fresh_boot_needed() {
	echo "$MARK fresh boot needed: $1"
	exit 3
}

# clean_after NAME: the mutant NAME left no report, no checker switched off, no module loaded.
clean_after() {
	_classes=$(kernel_report_classes "$MARK begin $1")
	[ -z "$_classes" ] || fresh_boot_needed "kernel report during $1 ($_classes)"
	_off=$(KMEMLEAK=1 checkers_off | tr '\n' ' ')
	[ -z "$_off" ] || fresh_boot_needed "checkers off after $1: $_off"
	if module_loaded; then
		umount_all >/dev/null
		rmmod locustfs 2>/dev/null
		! module_loaded || fresh_boot_needed "locustfs still loaded after $1"
	fi
}

debugfs_ready >/dev/null
[ -z "$(kernel_report_classes 'Linux version')" ] ||
	fresh_boot_needed "kernel report before the first mutant"
prev=
for spec in "$@"; do
	name=${spec%%:*}
	rest=${spec#*:}
	programs=$(echo "${rest%%:*}" | tr ',' ' ')
	kmemleak=0
	cases=
	for option in $(echo "${rest#"${rest%%:*}"}" | tr ':' ' '); do
		case $option in
		kmemleak) kmemleak=1 ;;
		cases=*) cases=$(echo "${option#cases=}" | tr ',' ' ') ;;
		esac
	done
	[ -z "$prev" ] || clean_after "$prev"
	prev=$name
	ko=$MUTANTS/$name.ko
	echo "$MARK begin $name" >/dev/kmsg
	echo "$MARK begin $name"
	if ! insmod "$ko"; then
		echo "Bail out! cannot load $ko"
		rc=1
	else
		LOCUSTFS_KO=$ko KMEMLEAK=$kmemleak CASES=$cases RUN_SUITE_TMP=/tmp/mutant-$name \
			sh "$REPO/tests/run-suite.sh" $programs
		rc=$?
	fi
	echo "$MARK end $name exit $rc"
done
exit 0
