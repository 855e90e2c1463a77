#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The recipes of docs/locustfs.rst ("Recipes") that run in the suite's busybox guest, run as
# written: the C ones (built static from the document by the tests Makefile) and the shell
# ones they go with. Each is killed with kill -9 at its crash step, and run on tmpfs too as
# the negative control. The recipes that need flock(1), util-linux, Python or Rust run in the
# virtme-ng guest (cookbook-vng.sh). Prints TAP; ends with "N passed, N failed".
#
#   tests/cookbook.sh        (REPO: the repository, default this script's)

. "$(dirname "$0")/lib.sh"
. "$REPO/tests/cookbook-lib.sh"

echo "TAP version 13"
cookbook_setup

# A lock file that cannot go stale, in C.
step "run-once.c is built from the document as it is" built run-once.c run-once.c
lock_recipe run-once.c "$RECIPES/run-once"

# A message channel: news-writer.sh and the C reader with epoll.
step "news-reader.c is built from the document as it is" built news-reader.c news-reader.c
channel_recipe news-reader.c "$RECIPES/news-reader"

# Presence of a service: announce.sh and the C watcher with inotify.
step "watch-services.c is built from the document as it is" built watch-services.c watch-services.c
announce=$(recipe announce.sh)
for fs in $MNT $TMPFS; do
	dir=$fs/services out=$WORK/watch.$(basename "$fs")
	mkdir "$dir"
	spawn db sh "$announce" "$dir" db sleep 600
	wait_for 10 test -e "$dir/db"
	spawn watcher "$RECIPES/watch-services" "$dir" >"$out" 2>&1
	if [ "$fs" = "$TMPFS" ]; then
		wait_for 10 has_line "$out" "up db"
		kill9 "$db"
		sleep 1
		check_show "$out" "announce.sh on tmpfs (control): kill -9 the service: its file stays, no \"down db\"" \
			eval 'test -e "$dir/db" && ! has_line "$out" "down db"'
		kill9 "$watcher"
		continue
	fi
	check_show "$out" "watch-services lists the service present at its start: up db" \
		wait_for 10 has_line "$out" "up db"
	spawn cache sh "$announce" "$dir" cache sleep 600
	check_show "$out" "a service starting: up cache" wait_for 10 has_line "$out" "up cache"
	step "kill -9 the service db" kill9 "$db"
	check_show "$out" "its watcher hears: down db; the file is gone" \
		eval 'wait_for 10 has_line "$out" "down db" && test ! -e "$dir/db"'
	# The pitfall: a process holding the file open keeps the service present.
	exec 4<"$dir/cache"
	step "kill -9 the service cache while another process has its file open" kill9 "$cache"
	sleep 1
	check_show "$out" "pitfall: the open file keeps cache present: no \"down cache\" yet" \
		eval 'test -e "$dir/cache" && ! has_line "$out" "down cache"'
	exec 4<&-
	check_show "$out" "closing it: down cache" wait_for 10 has_line "$out" "down cache"
	kill9 "$watcher"
	rmdir "$dir"
done

cookbook_cleanup
