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
