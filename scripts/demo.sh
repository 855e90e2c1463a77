#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The `make run` demo, run in the guest (busybox sh) with locustfs mounted at /mnt/locust:
# a file lives while it is open, wakes a poller when written, and is gone after its last close.
set -e
cd /mnt/locust
counters() {
	for c in live_files live_queues files_created files_auto_deleted bytes_in_use; do
		printf '%s=%s ' "$c" "$(cat /sys/kernel/debug/locustfs/$c)"
	done
	echo
}

echo "== a file exists while someone has it open"
exec 3<>/mnt/locust/news
echo "first line" >&3
ls -l /mnt/locust
counters

echo "== a reader following the file sees what a writer appends"
tail -f /mnt/locust/news &
reader=$!
sleep 1
echo "second line, written while tail waits" >&3
sleep 1
kill "$reader"
wait "$reader" 2>/dev/null || true

echo "== the last close deletes it"
exec 3>&-
ls -l /mnt/locust
counters

echo "== a killed process leaves nothing behind"
sh -c 'exec 4>/mnt/locust/crashy; echo data >&4; kill -9 $$' || true
ls -l /mnt/locust
counters
df -h /mnt/locust
