#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make soak`: the epoll stress programs, stress-ng, the seed scenario and the readiness oracle
# (fresh seeds, each printed) for about DURATION seconds in one debug-kernel guest, with the
# suite's kernel-side verdicts after each program.
#
#   scripts/soak.sh KDIR DURATION
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${1:?usage: scripts/soak.sh KDIR DURATION}
duration=${2:?usage: scripts/soak.sh KDIR DURATION}
bzimage=$kdir/arch/x86/boot/bzImage
programs="stress_seed stress_close_race stress_exclusive stress_mount stress-ng.sh readiness_oracle"
# Each stress program gets an equal share of the time.
share=$((duration / 6))
phase "soak: $programs, ~$share s each ($duration s in all), on $(basename "$kdir")"
exec "$LOCUSTFS_TOP/qemu/run-qemu.sh" --kernel "$bzimage" --timeout $((duration * 2 + 900)) \
	-- "SOAK_SECONDS=$share sh tests/run-suite.sh $programs"
