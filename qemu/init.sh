#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest /init (PID 1) of the locustfs initramfs, run by busybox sh.
#
# Mounts the pseudo filesystems and the host repository (9p tag "repo", at /repo), runs the
# command the host asked for in /repo with `sh -c`, with its stdin, stdout and stderr on a
# dedicated serial port (ttyS1: the kernel console stays on ttyS0), reports the exit status and
# turns the machine off with `reboot -f` (QEMU runs with -no-reboot, so it exits).
#
# Kernel command line parameters (all optional):
#   locustfs_guest.cmd=BASE64      the command (else the file "cmd" on the 9p tag "locustfs_ctl")
#   locustfs_guest.tty=ttyS1       the port for the command's stdio
#   locustfs_guest.interactive=1   run the command (if any), then a shell with job control
#   locustfs_guest.winsize=RxC     terminal size for the interactive shell
#   locustfs_guest.term=NAME       TERM for the interactive shell
#   locustfs_guest.kmemleak=1      after the command, run a kmemleak scan and log its findings
#
# The exit status goes to the file "status" of the "locustfs_ctl" share (when mounted) and to
# the kernel log as "locustfs-guest: exit status N"; "running command" and "command finished"
# lines there time the command.
#
# The command runs as root with LOCUSTFS_GUEST=1 in its environment; the users are root,
# locust (1000:1000, home /home/locust) and nobody (65534); /mnt/locust is an empty directory
# for mounting the filesystem under test; /tmp, /run and /dev/shm are tmpfs.

PATH=/bin:/sbin:/usr/bin:/usr/sbin
HOME=/root
export PATH HOME

mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1

# log MSG: a line in the kernel log (and so on the console, with a timestamp).
log() {
	echo "locustfs-guest: $*" >/dev/kmsg 2>/dev/null || echo "locustfs-guest: $*"
}

# Last resort: never return from PID 1 (that would panic the kernel), always power off.
finish() {
	sync
	reboot -f
	sleep 5
	echo "locustfs-guest: reboot failed" >/dev/console
	while :; do sleep 3600; done
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || log "debugfs not available"
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts 2>/dev/null
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
# The standard links udev would make (the kselftest runner writes to /dev/stdout).
for _n in 0:stdin 1:stdout 2:stderr; do
	[ -e "/dev/${_n#*:}" ] || ln -s "/proc/self/fd/${_n%%:*}" "/dev/${_n#*:}"
done
hostname "$(cat /etc/hostname 2>/dev/null || echo locustfs-guest)"
ip link set lo up 2>/dev/null
# Every line written to /dev/kmsg must reach the log (the default rate limit drops some).
echo on >/proc/sys/kernel/printk_devkmsg 2>/dev/null

# Kernel command line.
cmd_b64='' tty=ttyS1 interactive=0 winsize='' term=linux kmemleak=0
# shellcheck disable=SC2013 # the command line is words, not lines
for arg in $(cat /proc/cmdline); do
	case $arg in
	locustfs_guest.cmd=*) cmd_b64=${arg#*=} ;;
	locustfs_guest.tty=*) tty=${arg#*=} ;;
	locustfs_guest.interactive=*) interactive=${arg#*=} ;;
	locustfs_guest.winsize=*) winsize=${arg#*=} ;;
	locustfs_guest.term=*) term=${arg#*=} ;;
	locustfs_guest.kmemleak=*) kmemleak=${arg#*=} ;;
	esac
done

# The host repository, read-write.
workdir=/
mkdir -p /repo
if mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,access=any repo /repo 2>/dev/null; then
	log "host repository mounted at /repo"
	workdir=/repo
else
	log "no 9p share tagged 'repo': /repo is empty"
fi

# The control share: the command in, the exit status out.
ctl=/run/locustfs-ctl
mkdir -p $ctl
if ! mount -t 9p -o trans=virtio,version=9p2000.L,access=any locustfs_ctl $ctl 2>/dev/null; then
	ctl=
fi

if [ -n "$cmd_b64" ]; then
	cmd=$(echo "$cmd_b64" | base64 -d) || {
		log "cannot decode locustfs_guest.cmd"
		cmd='exit 125'
	}
elif [ -n "$ctl" ] && [ -f $ctl/cmd ]; then
	cmd=$(cat $ctl/cmd)
else
	cmd=
fi

port=/dev/$tty
if [ ! -c "$port" ]; then
	log "command port $port missing: using the console"
	port=/dev/console
fi

export LOCUSTFS_GUEST=1 USER=root LOGNAME=root SHELL=/bin/sh

# on_port CMD...: runs CMD in a new session with the port as its controlling terminal. The
# window size is set here, with the port open: the kernel forgets it at the port's last close.
on_port() {
	# shellcheck disable=SC2094 # the terminal is both input and output
	(
		stty sane
		if [ -n "$winsize" ]; then
			stty rows "${winsize%x*}" cols "${winsize#*x}"
		fi
		cd $workdir && exec setsid -c "$@"
	) <"$port" >"$port" 2>&1
}

log "running command"
if [ "$interactive" = 1 ]; then
	export TERM="$term"
	if [ -n "$cmd" ]; then
		on_port sh -c "$cmd"
	fi
	on_port sh -l
	status=$?
else
	# Raw output: the host sees the command's bytes unchanged (no CR added before LF).
	stty -F "$port" raw -echo 2>/dev/null
	(cd $workdir && exec setsid sh -c "$cmd") </dev/null >"$port" 2>&1
	status=$?
fi
# Wait until the port has sent everything (tcsetattr(TCSADRAIN)) before leaving.
stty -F "$port" -echo 2>/dev/null
log "command finished"

# Whatever the command left running.
kill -TERM -1 2>/dev/null
sleep 0.1 2>/dev/null
kill -KILL -1 2>/dev/null

if [ "$kmemleak" = 1 ]; then
	if [ -w /sys/kernel/debug/kmemleak ]; then
		# kmemleak reports only objects older than 5 s: wait, then scan once. With "verbose"
		# on, the scan prints each leak in the kernel log itself.
		verbose=/sys/module/kmemleak/parameters/verbose
		[ -w $verbose ] && echo 1 >$verbose
		log "kmemleak: scanning"
		sleep 5
		echo scan >/sys/kernel/debug/kmemleak
		if [ ! -w $verbose ]; then
			while IFS= read -r line; do
				echo "$line" >/dev/kmsg
			done </sys/kernel/debug/kmemleak
		fi
		log "kmemleak: scan done"
	else
		log "kmemleak is not available in this kernel"
	fi
fi

[ -n "$ctl" ] && echo "$status" >$ctl/status
log "exit status $status"
finish
