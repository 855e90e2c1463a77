# SPDX-License-Identifier: GPL-2.0
# Shared part of cookbook.sh and cookbook-vng.sh, which run the recipes of docs/locustfs.rst's
# "Recipes" section as written (extracted with recipes.awk), each with a crash step (kill -9 of
# the holder) and the same recipe on tmpfs as the negative control. Sourced after lib.sh;
# POSIX sh (busybox sh in the suite guest, the host's sh in the virtme-ng guest).
#
# Sets DOC, RECIPES (compiled recipes, tests/build/recipes), WORK (a new directory under
# /tmp), MNT (a locustfs instance in it), TMPFS (a tmpfs instance in it).

DOC=$REPO/docs/locustfs.rst
RECIPES=$REPO/tests/build/recipes
WORK=$(mktemp -d /tmp/cookbook.XXXXXX)
chmod 755 "$WORK"
MNT=$WORK/locust
TMPFS=$WORK/tmpfs
bg_pids=

# wait_for SECONDS COMMAND...: true once COMMAND is, polling every 0.1 s.
wait_for() {
	_ticks=$(($1 * 10))
	shift
	until "$@"; do
		[ "$_ticks" -gt 0 ] || return 1
		sleep 0.1
		_ticks=$((_ticks - 1))
	done
}

# spawn VAR COMMAND...: starts COMMAND in the background and stores its pid in VAR (and in the
# list the cleanup kills). Its standard input is /dev/null, as for any background command of a
# non-interactive shell; its output can be redirected (spawn VAR COMMAND >FILE).
spawn() {
	_var=$1
	shift
	"$@" &
	eval "$_var=\$!"
	bg_pids="$bg_pids $!"
}

# kill9 PID: the crash step: SIGKILL, then reaped (wait returns once the process is gone).
kill9() {
	kill -9 "$1" && { wait "$1"; true; }
}

# gone PID: true when PID is no longer running (a zombie waiting to be reaped, or reaped).
gone() {
	! kill -0 "$1" 2>/dev/null || grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}

# recipe NAME: extracts recipe NAME to $WORK/NAME as the document has it; prints the path.
recipe() {
	mkdir -p "$(dirname "$WORK/$1")"
	awk -v name="$1" -f "$REPO/tests/recipes.awk" "$DOC" >"$WORK/$1" && echo "$WORK/$1"
}

# built NAME SOURCE: the compiled recipe NAME was built from the document's recipe as it is now
# (SOURCE: the copy the build kept, under tests/build/recipes): a changed recipe must be
# rebuilt before it is run.
built() {
	recipe "$1" >/dev/null && cmp "$WORK/$1" "$RECIPES/$2" ||
		{ echo "# $RECIPES/$2 is not the document's $1: rebuild it (make tests, scripts/cookbook-build.sh)"; return 1; }
}

# every_recipe_run: every recipe in the document is run by cookbook.sh, cookbook-vng.sh or this file
# (a "recipe NAME" or "built NAME" line there). One awk over the scripts: a process per recipe
# costs seconds in the virtme-ng guest, whose every exec is read over 9p.
every_recipe_run() {
	_list=$(awk -f "$REPO/tests/recipes.awk" "$DOC") || return 1
	[ -n "$_list" ] || { echo "# no recipes in $DOC"; return 1; }
	_missing=$(echo "$_list" | cut -d' ' -f1 | awk '
		FILENAME == "-" { want[++n] = $1; next }
		{
			# Each "recipe NAME" or "built NAME" word pair, NAME ending at a character
			# that cannot be part of a file name here.
			line = $0
			while (match(line, /(recipe|built) [A-Za-z0-9._\/-]+/)) {
				word = substr(line, RSTART, RLENGTH)
				sub(/^[a-z]+ /, "", word)
				run[word] = 1
				line = substr(line, RSTART + RLENGTH)
			}
		}
		END { for (i = 1; i <= n; i++) if (!(want[i] in run)) printf " %s", want[i] }' \
		- "$REPO/tests/cookbook.sh" "$REPO/tests/cookbook-vng.sh" "$REPO/tests/cookbook-lib.sh")
	[ -z "$_missing" ] || { echo "# recipes nobody runs:$_missing"; return 1; }
}

# has_line FILE LINE: FILE has LINE as a whole line.
has_line() {
	grep -qxF "$2" "$1" 2>/dev/null
}

# is_pid_file FILE PID: FILE holds PID and nothing else.
is_pid_file() {
	[ "$(cat "$1" 2>/dev/null)" = "$2" ]
}

# show FILE...: prints files as TAP comments (after a failed step).
show() {
	for _shown; do
		echo "# --- $_shown:"
		sed 's/^/#   /' "$_shown" 2>/dev/null
	done
}

# check_show FILES DESCRIPTION COMMAND...: step DESCRIPTION COMMAND..., showing FILES (a
# space-separated list) when it fails.
check_show() {
	_files=$1 _before=$tap_failed
	shift
	step "$@"
	# shellcheck disable=SC2086 # the list
	[ "$tap_failed" = "$_before" ] || show $_files
}

cookbook_setup() {
	# Whoever loaded the module unloads it: the suite keeps it loaded for the next program, a
	# boot of its own (the virtme-ng one) leaves it unloaded for what runs after.
	_loaded_before=0
	module_loaded && _loaded_before=1
	step "module loaded ($KO)" load_module
	step "counters in $COUNTERS" debugfs_ready
	step "every recipe in $DOC is run by a test" every_recipe_run
	step "mount -t locustfs none $MNT; mount -t tmpfs none $TMPFS (control)" \
		eval 'mkdir -p $MNT $TMPFS && mount -t locustfs none $MNT && mount -t tmpfs none $TMPFS'
}

cookbook_cleanup() {
	for _p in $bg_pids; do
		kill -9 "$_p" 2>/dev/null
	done
	wait 2>/dev/null
	step "no file left: live counters back to 0" live_counters_zero 10
	step "umount $MNT $TMPFS" eval 'umount $MNT && umount $TMPFS'
	[ "$_loaded_before" = 1 ] || step "rmmod locustfs (loaded for the recipes)" rmmod locustfs
	rm -rf "$WORK"
	tap_end
	_ok=$?
	echo "$((tap_n - tap_failed)) passed, $tap_failed failed"
	return $_ok
}

# lock_recipe NAME RUNNER: the lock-file recipe NAME, run as RUNNER LOCKFILE COMMAND... (RUNNER:
# the interpreter and the script, or the binary; no spaces in paths): the first run holds the
# lock and its pid is in the file, a second is refused with 75, kill -9 of the holder removes
# the file and the next run gets the lock at once; on tmpfs the killed holder's file stays.
# The job (COMMAND) records its pid in $WORK/NAME.job and sleeps.
lock_recipe() {
	_n=$1 _runner=$2 _out=$WORK/$1.out _job=$WORK/$1.job
	for _fs in $MNT $TMPFS; do
		_lock=$_fs/$_n.lock
		rm -f "$_job"
		# shellcheck disable=SC2086 # the runner's words
		spawn holder $_runner "$_lock" sh -c 'echo $$ >"$0"; exec sleep 600' "$_job"
		wait_for 10 test -s "$_job"
		if [ "$_fs" = "$TMPFS" ]; then
			kill9 "$holder"
			kill -9 "$(cat "$_job")" 2>/dev/null
			step "$_n on tmpfs (control): the killed holder's lock file stays, with its pid" \
				eval 'test -e "$_lock" && is_pid_file "$_lock" $holder && gone $holder'
			continue
		fi
		step "$_n: the first run takes the lock; the lock file holds its pid ($holder)" \
			wait_for 10 is_pid_file "$_lock" "$holder"
		$_runner "$_lock" true >"$_out" 2>&1
		_rc=$?
		check_show "$_out" "$_n: a second run is refused: status 75, \"already running\" ($_rc)" \
			eval '[ $_rc = 75 ] && grep -q "already running" "$_out" && is_pid_file "$_lock" $holder'
		step "$_n: kill -9 the holder, the pid in the lock file" kill9 "$(cat "$_lock")"
		kill -9 "$(cat "$_job")" 2>/dev/null # the job, where the runner is not the job itself
		step "$_n: the lock file is gone once the holder is reaped" test ! -e "$_lock"
		spawn next $_runner "$_lock" sleep 600
		step "$_n: the next run gets the lock at once" wait_for 10 is_pid_file "$_lock" "$next"
		kill9 "$next"
		step "$_n: and its lock file goes with it" test ! -e "$_lock"
	done
}

# channel_recipe NAME READER: the message channel with news-writer.sh and the reader recipe
# NAME, run as READER FILE (no spaces in paths). Two readers join; both read every message in
# order from the start; one is killed with kill -9 and the other goes on; a reader that joins
# later reads everything from the start; the writer is killed and the channel stays while
# readers hold it; unlink(2) of the name ends the readers (status 0) and the file is freed. On
# tmpfs the reader fails at once with EPERM from epoll_ctl(2).
channel_recipe() {
	_n=$1 _reader=$2 _f=$MNT/news-$1 _in=$WORK/$1.in _r=$WORK/$1.read
	mkfifo "$_in"
	exec 7<>"$_in" # read-write: opening it does not wait for the other end
	sh "$(recipe news-writer.sh)" "$_f" <"$_in" &
	writer=$!
	bg_pids="$bg_pids $writer"
	printf 'one\n' >&7
	# shellcheck disable=SC2086 # the reader's words
	spawn r1 $_reader "$_f" >"$_r.1" 2>&1
	spawn r2 $_reader "$_f" >"$_r.2" 2>&1
	printf 'one\ntwo\n' >"$WORK/$_n.want2"
	printf 'one\ntwo\nthree\n' >"$WORK/$_n.want3"
	printf 'two\n' >&7
	check_show "$_r.1 $_r.2" "$_n: two readers each read one, two, in order" \
		wait_for 10 eval 'cmp -s "$_r.1" "$WORK/$_n.want2" && cmp -s "$_r.2" "$WORK/$_n.want2"'
	step "$_n: kill -9 one reader" kill9 "$r1"
	printf 'three\n' >&7
	check_show "$_r.2" "$_n: the other reads three" wait_for 10 cmp -s "$_r.2" "$WORK/$_n.want3"
	spawn r3 $_reader "$_f" >"$_r.3" 2>&1
	check_show "$_r.3" "$_n: a reader joining later reads it all from the start" \
		wait_for 10 cmp -s "$_r.3" "$WORK/$_n.want3"
	step "$_n: kill -9 the writer; the channel stays while readers hold it" \
		eval 'kill9 $writer && test -e "$_f"'
	exec 7>&-
	rm "$_f"
	check_show "$_r.2 $_r.3" "$_n: unlink of the name ends both readers with status 0" \
		eval 'wait_for 10 gone $r2 && wait $r2 && wait_for 10 gone $r3 && wait $r3'
	step "$_n: the channel's file is freed" live_counters_zero 10
	$_reader "$TMPFS/news-$_n" >"$_r.tmpfs" 2>&1
	_rc=$?
	check_show "$_r.tmpfs" "$_n on tmpfs (control): the reader fails: $(tail -n 1 "$_r.tmpfs")" \
		eval '[ $_rc != 0 ] && grep -q "Operation not permitted" "$_r.tmpfs"'
}
