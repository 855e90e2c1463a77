# SPDX-License-Identifier: GPL-2.0
# Shared helpers for locustfs's scripts: phase lines, logged steps, cache paths.
# Sourced, never executed.

# Where downloads, kernel builds and tool installs are cached (outside the repository).
: "${LOCUSTFS_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/locustfs}"
# Where this run's logs go.
: "${LOCUSTFS_LOGS:=$LOCUSTFS_CACHE/logs}"
mkdir -p "$LOCUSTFS_CACHE" "$LOCUSTFS_LOGS"

LOCUSTFS_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LLVM_SUFFIX=-19
export LIBCLANG_PATH=/usr/lib/llvm${LLVM_SUFFIX}/lib
export PATH="$HOME/.cargo/bin:$LOCUSTFS_CACHE/venv/bin:$PATH"

# Pinned tool versions.
BINDGEN_VERSION=0.73.2
VIRTME_NG_VERSION=1.42
KERNEL_PKG=linux-source-7.3

# The guest kernel command line that makes every report fatal and every hang fail fast: the
# first KASAN report, Oops, soft lockup, hung task, workqueue or RCU stall panics the guest
# (which then stops: -no-reboot), so a broken run ends at its first report instead of its
# timeout. no5lvl: TCG's LA57 CPU model makes KASAN report at boot (shared/TOOLCHAIN.md).
# panic_on_warn=1 is added separately (qemu/run-qemu.sh --no-panic-on-warn). KUnit runs only
# locustfs's suites (of locustfs_kunit.ko): the kernel crate's built-in ones would otherwise
# run at every boot and taint the kernel (TAINT_TEST) before any module is loaded.
GUEST_REPORT_ARGS=(no5lvl kasan.fault=panic panic=-1 oops=panic softlockup_panic=1
	sysctl.kernel.hung_task_panic=1 workqueue.panic_on_stall=1 sysctl.kernel.panic_on_rcu_stall=1
	kunit.filter_glob=locustfs*)

# Build products of a module build (Kbuild's objects, modules, generated bindings), left out
# wherever a module's source is copied or hashed.
MODULE_BUILD_PRODUCTS=('*.o' '*.ko' '*.cmd' '*.mod' '*.mod.c' '*.rmeta' generated.rs c_inlines.c
	modules.order Module.symvers)

# The files of tests/ that make up the kselftest target filesystems/locustfs: the programs'
# sources, the target's Makefile, config and settings, and the scripts tests/Makefile installs
# with what they read. The rest of tests/ (the guest's suite runner, controls, mutants, the
# cookbook) serves the repository only.
SELFTEST_FILES=('*.c' common.h Makefile config settings lib.sh module.sh smoke.sh kunit.sh
	stress-ng.sh)

# sync_files SRC DEST [PATTERN...]: makes directory DEST hold exactly the files of SRC (only
# those matching a PATTERN at its top when given). Build products are neither copied nor
# deleted (DEST's own, from a build in place, stay). A file whose content is unchanged is not
# touched, so its time stays and a build that depends on it does not redo anything; a new or
# changed one gets the current time.
sync_files() {
	local src=$1 dest=$2 filter=() p
	shift 2
	for p in "${MODULE_BUILD_PRODUCTS[@]}" .tmp_versions/ /build/; do
		filter+=("--filter=P $p" "--filter=- $p")
	done
	if [ $# -gt 0 ]; then
		for p in "$@"; do filter+=("--include=/$p"); done
		filter+=("--exclude=*")
	fi
	mkdir -p "$dest"
	rsync -rlp --checksum --delete --delete-excluded "${filter[@]}" "$src/" "$dest/"
}

# module_source_tar [DIR...]: the module's source (default: Kbuild and src/ of the repository)
# as a tar on stdout, without build products, with names sorted and times and owners fixed: its
# hash changes only when the source's content does.
module_source_tar() {
	local excludes=() paths=("$@") p
	[ ${#paths[@]} -gt 0 ] || paths=(Kbuild src)
	for p in "${MODULE_BUILD_PRODUCTS[@]}"; do excludes+=("--exclude=$p"); done
	(cd "$LOCUSTFS_TOP" && tar -cf - --sort=name --mtime=@0 --owner=0 --group=0 \
		"${excludes[@]}" "${paths[@]}")
}

# source_files PATH...: the files under PATH... (relative to the repository), build products
# left out, sorted.
source_files() {
	local not=() p
	for p in "${MODULE_BUILD_PRODUCTS[@]}"; do not+=(! -name "$p"); done
	(cd "$LOCUSTFS_TOP" && find "$@" -type f "${not[@]}" | LC_ALL=C sort)
}

# kernel_source_dir KDIR: the source tree of the kernel build KDIR (the Makefile of an O= build
# directory includes its source tree's; a tree built in place is its own).
kernel_source_dir() {
	local s
	s=$(sed -n 's/^include \(.*\)\/Makefile$/\1/p' "$1/Makefile" 2>/dev/null | head -1)
	echo "${s:-$1}"
}

# kernel_build_hashes KDIR: the content hashes of KDIR's kernel build, one "SHA256  NAME" line
# each for its bzImage and .config: what a guest booted from it and a module built against it
# depend on.
kernel_build_hashes() {
	(cd "$1" && sha256sum arch/x86/boot/bzImage .config)
}

phase() { printf '==> %s\n' "$*" >&2; }
info() { printf '    %s\n' "$*" >&2; }
die() {
	printf 'locustfs: error: %s\n' "$*" >&2
	exit 1
}

# run_logged NAME CMD...: runs CMD with its output in $LOCUSTFS_LOGS/NAME.log, printing one
# progress line every 30 s (lines logged so far); on failure prints the log's tail and fails.
run_logged() {
	local name=$1 log=$LOCUSTFS_LOGS/$1.log pid start rc ticks=0
	shift
	start=$(date +%s)
	info "log: $log"
	"$@" >"$log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		ticks=$((ticks + 1))
		if ((ticks % 30 == 0)); then
			info "$name: $(($(date +%s) - start)) s, $(wc -l <"$log") log lines"
		fi
	done
	wait "$pid"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		printf '%s\n' "--- last 40 lines of $log ---" >&2
		tail -n 40 "$log" >&2
		die "$name failed (exit $rc); full log: $log"
	fi
	info "$name: done in $(($(date +%s) - start)) s"
}

# watch_guest PID TARGET LOG TIMEOUT START_MS: waits for the guest process PID to end. It is
# stopped (TERM to TARGET, the PID or "-PGID", then KILL after 5 s) when its console LOG says
# "System halted" (without ACPI a power-off only halts the guest and QEMU would wait for
# ever) or when TIMEOUT seconds (0: no limit) have passed since START_MS (ms since the epoch).
# Sets guest_halted and guest_timed_out (0 or 1) and guest_rc (PID's exit status).
watch_guest() {
	local pid=$1 target=$2 log=$3 timeout=$4 start_ms=$5
	guest_halted=0 guest_timed_out=0 guest_rc=0
	while kill -0 "$pid" 2>/dev/null; do
		if grep -qa 'System halted' "$log"; then
			guest_halted=1
			sleep 1
			stop_guest_process "$pid" "$target"
			break
		fi
		if [ "$timeout" -gt 0 ] && (($(date +%s%N) / 1000000 - start_ms >= timeout * 1000)); then
			guest_timed_out=1
			stop_guest_process "$pid" "$target"
			break
		fi
		sleep 0.2
	done
	wait "$pid" || guest_rc=$?
}

# stop_guest_process PID TARGET: TERM to TARGET, then KILL if PID is still there after 5 s.
stop_guest_process() {
	kill -TERM -- "$2" 2>/dev/null || true
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.5
	done
	kill -KILL -- "$2" 2>/dev/null || true
}

# log_section LOG BEGIN [NEXT]: the lines of LOG from the first one that ends with BEGIN (a
# console log's "\r" aside) up to, not including, the next line after it that holds NEXT (to the
# end without NEXT). Splits a boot's log into the parts of the commands that ran in it.
log_section() {
	awk -v begin="$2" -v next_="${3:-}" '
		{ line = $0; sub(/\r+$/, "", line) }
		on && next_ != "" && index(line, next_) { exit }
		!on && length(line) >= length(begin) &&
			substr(line, length(line) - length(begin) + 1) == begin { on = 1 }
		on' "$1"
}

# guest_timestamp LOG WHAT: the kernel-log timestamp (seconds) of the first
# "locustfs-guest: WHAT" line in LOG, or nothing.
guest_timestamp() {
	grep -a "locustfs-guest: $2" "$1" | head -1 | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p' || true
}
