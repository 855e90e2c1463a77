#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The recipes of docs/locustfs.rst ("Recipes") that need the host's tools, run as written in
# the virtme-ng guest (qemu/vng-boot.sh: the host's root filesystem): flock(1) and unshare(1)
# of util-linux, Python 3, and the Rust recipes built on the host by scripts/cookbook-build.sh.
# Each is killed with kill -9 at its crash step, and run on tmpfs too as the negative control.
# Prints TAP; ends with "N passed, N failed".
#
#   tests/cookbook-vng.sh        (REPO: the repository, default this script's)

. "$(dirname "$0")/lib.sh"
. "$REPO/tests/cookbook-lib.sh"

# Debian's python3 where there is one (not a per-user shim of the host's).
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3

echo "TAP version 13"
cookbook_setup

# A lock file that cannot go stale: flock(1), Python, Rust.
lock_recipe run-once.sh "sh $(recipe run-once.sh)"
lock_recipe run_once.py "$PYTHON $(recipe run_once.py)"
step "run_once.rs is built from the document as it is" built run_once.rs run_once.rs
lock_recipe run_once.rs "$RECIPES/run_once"

# A message channel: news-writer.sh with the asyncio and tokio readers.
channel_recipe news_reader.py "$PYTHON $(recipe news_reader.py)"
step "news-reader-tokio is built from the document as it is" eval \
	'built news-reader-tokio/Cargo.toml news-reader-tokio.src/Cargo.toml &&
	built news-reader-tokio/src/main.rs news-reader-tokio.src/src/main.rs'
channel_recipe news-reader-tokio "$RECIPES/news-reader-tokio"

# A user namespace with its own instance, by an unprivileged user (uid 65534).
with_locust=$(recipe with-locust.sh)
userns_dir=/tmp/cookbook-userns.$$
out=$WORK/userns.out
spawn job setpriv --reuid=65534 --regid=65534 --clear-groups env LOCUST="$userns_dir" \
	sh "$with_locust" sh -c 'exec 3>"$LOCUST/job" && echo "$(id -u) $(stat -c %u "$LOCUST/job")" && exec sleep 600' \
	>"$out" 2>&1
check_show "$out" "with-locust.sh as uid 65534: its job is root (0) in its namespace and owns the file it creates" \
	wait_for 20 has_line "$out" "0 0"
step "a file is live in the instance" eval '[ "$(counter live_files)" = 1 ]'
step "the instance is not visible outside: not in /proc/mounts, $userns_dir empty" \
	eval '! locust_mounts | grep -qxF "$userns_dir" && [ -z "$(ls -A "$userns_dir")" ]'
step "kill -9 the job, the namespace's last process" kill9 "$job"
step "the instance and its file are freed" live_counters_zero 10
rmdir "$userns_dir"

cookbook_cleanup
