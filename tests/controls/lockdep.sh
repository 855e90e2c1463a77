#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Negative control, run by tests/run-suite.sh from scripts/controls.sh: loads a module that
# takes two mutexes in both orders. The program itself passes; the suite's post-run check must
# fail it with a lockdep kernel report, and lockdep is then off ("lockdep-off").
dir=$(dirname "$0")
echo "1..1"
if insmod "$dir/control_lockdep.ko" && rmmod control_lockdep; then
	echo "ok 1 control_lockdep loaded and unloaded"
else
	echo "not ok 1 control_lockdep did not load"
	exit 1
fi
