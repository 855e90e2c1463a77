#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Negative control, run by tests/run-suite.sh from scripts/controls.sh: loads a module that
# leaks one allocation. The program itself passes; the suite's post-run check must fail it
# with "kmemleak".
dir=$(dirname "$0")
echo "1..1"
if insmod "$dir/control_kmemleak.ko" && rmmod control_kmemleak; then
	echo "ok 1 control_kmemleak loaded and unloaded"
else
	echo "not ok 1 control_kmemleak did not load"
	exit 1
fi
