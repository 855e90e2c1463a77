/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the locustfs test programs:
 *
 *   - parameters from the environment, clocks;
 *   - a fresh locustfs instance per test on a temporary directory (mount(2) with options),
 *     the fixture setup/teardown built on it, remount, /proc/mounts look-ups;
 *   - the debugfs counters (/sys/kernel/debug/locustfs/...);
 *   - directory checks (entries, regular files left in a tree);
 *   - waiting for a task to sleep inside a given syscall (/proc/TID/stat and /syscall), so
 *     that a wake-up test acts only once the waiter is really blocked;
 *   - readiness watchers with one interface for poll, select, epoll (level, edge, one-shot,
 *     exclusive, nested) and io_uring IORING_OP_POLL_ADD (raw syscalls), and a waiter thread;
 *   - fd passing with SCM_RIGHTS, inotify draining, children, credentials.
 *
 * Every program includes this header instead of kselftest_harness.h, declares its tests with
 * TEST_F_TIMEOUT(fixture, name, LFS_TIMEOUT) (or a timeout of its own sized from its
 * parameters with lfs_test_timeout()) and ends with LFS_MAIN: a program that finds no
 * locustfs to test (not root, or the file system type not registered) exits with KSFT_SKIP.
 *
 * Environment understood by every program:
 *   LOCUSTFS_FSTYPE        file system type to mount (default "locustfs"); another type, such
 *                          as tmpfs, only serves to try the test plumbing itself.
 *   LOCUSTFS_TMPDIR        where the temporary mount points are made (default /tmp).
 *   LOCUSTFS_TEST_TIMEOUT  raises the per-test harness timeout to this many seconds.
 */
#ifndef LOCUSTFS_TESTS_COMMON_H
#define LOCUSTFS_TESTS_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>

#include "kselftest_harness.h"

/* kselftest.h has __noreturn and __printf(); __aligned() as in the kernel. */
#ifndef __aligned
#define __aligned(x) __attribute__((__aligned__(x)))
#endif

#define LFS_MAGIC 0x6c6f6375
#define LFS_PAGE 4096L
#define LFS_COUNTER_DIR "/sys/kernel/debug/locustfs"
#define LFS_PATH_MAX 512

/*
 * The guest is emulated (TCG) and runs KASAN and lockdep: one cross-CPU wake-up can take
 * several milliseconds and a busy guest far more. A wake-up that has not arrived after
 * WAKE_TIMEOUT_MS is reported as lost.
 */
#define WAKE_TIMEOUT_MS 10000
/*
 * The timeout of a waiter that an action must wake (waiter_start() + waiter_join_woken()):
 * longer than WAKE_TIMEOUT_MS, so that a wait its timeout ended cannot pass for a wake-up.
 * That matters because poll() and select() scan every descriptor once more when their timeout
 * expires and then report what is ready, woken or not: with a lost wake-up they still return
 * the right mask, only late.
 */
#define WAITER_TIMEOUT_MS (WAKE_TIMEOUT_MS + WAKE_TIMEOUT_MS / 2)
/* How long the absence of an event is watched for when an event must not arrive. */
#define QUIET_MS 300

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- parameters, time */

/* The non-negative integer in environment variable NAME, or DEF when unset or malformed. */
static inline long env_long(const char *name, long def)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || *end || v < 0) {
		ksft_print_msg("ignoring malformed %s=%s\n", name, s);
		return def;
	}
	return v;
}

static inline int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static inline pid_t sys_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* ---------------------------------------------------------------- harness */

/*
 * The per-test harness timeout, in seconds: BASE, or LOCUSTFS_TEST_TIMEOUT when that is
 * larger. Evaluated by the harness's test registration (a constructor, before main()), so
 * BASE may depend on parameters read from the environment there.
 */
static inline int lfs_test_timeout(long base)
{
	const char *s = getenv("LOCUSTFS_TEST_TIMEOUT");
	long v = 0;
	char *end;

	if (s && *s) {
		v = strtol(s, &end, 10);
		if (*end || v < 0)
			v = 0;
	}
	if (v < base)
		v = base;
	return v > INT_MAX / 1000 ? INT_MAX / 1000 : (int)v;
}

/* Timeout of the functional programs' tests: 120 s, for a loaded emulated guest is slow. */
#define LFS_TIMEOUT lfs_test_timeout(120)

/* The file system type under test: LOCUSTFS_FSTYPE, by default locustfs. */
static inline const char *lfs_fstype(void)
{
	const char *t = getenv("LOCUSTFS_FSTYPE");

	return t && *t ? t : "locustfs";
}

/* Whether file system type TYPE is registered (listed in /proc/filesystems). */
static inline bool fs_registered(const char *type)
{
	char line[128], *name;
	bool found = false;
	FILE *f = fopen("/proc/filesystems", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		name = strrchr(line, '\t');
		found = !strcmp(name ? name + 1 : line, type);
	}
	fclose(f);
	return found;
}

/*
 * Exits with KSFT_SKIP (TAP "1..0 # SKIP") when this program cannot test anything here: not
 * root, or the type under test not registered (the module is not loaded). Listing the tests
 * (-l) and the help (-h) work anyway. Mounts debugfs (the counters, fault injection) when
 * nobody has: the kselftest runner does not.
 */
static inline void lfs_require_fs(int argc, char **argv)
{
	struct statfs sfs;
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-l") || !strcmp(argv[i], "-h"))
			return;
	if (geteuid() != 0) {
		ksft_print_header();
		ksft_exit_skip("must be run as root (mounts instances)\n");
	}
	if (!fs_registered(lfs_fstype())) {
		ksft_print_header();
		ksft_exit_skip("file system type %s is not registered (load locustfs.ko)\n",
			       lfs_fstype());
	}
	if (statfs("/sys/kernel/debug", &sfs) || sfs.f_type != 0x64626720 /* DEBUGFS_MAGIC */)
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
}

/* main() of a program: skips when there is no locustfs, else runs the harness. */
#define LFS_MAIN                                           \
	int main(int argc, char **argv)                    \
	{                                                  \
		lfs_require_fs(argc, argv);                \
		return test_harness_run(argc, argv);       \
	}

/* ---------------------------------------------------------------- paths, directories */

/* Writes DIR/NAME into BUF (LFS_PATH_MAX bytes) and returns BUF. */
static inline char *path_join(char *buf, const char *dir, const char *name)
{
	if (snprintf(buf, LFS_PATH_MAX, "%s/%s", dir, name) >= LFS_PATH_MAX)
		abort(); /* no test builds paths this long */
	return buf;
}

static inline bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/*
 * Creates DIR/NAME exclusively, for reading and writing (mode 0644); PATH (when given)
 * receives its path. Returns the descriptor or -1.
 */
static inline int create_file(const char *dir, const char *name, char *path)
{
	char buf[LFS_PATH_MAX];

	return open(path_join(path ? path : buf, dir, name),
		    O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644);
}

/*
 * Creates DIR/NAME and opens it twice: *W, the creating description, and *R, a second one
 * joining the live file, both for reading and writing and at offset 0.
 */
static inline void open_pair(struct __test_metadata *_metadata, const char *dir,
			     const char *name, int *w, int *r)
{
	char p[LFS_PATH_MAX];

	*w = create_file(dir, name, p);
	ASSERT_GE(*w, 0) TH_LOG("create %s: %s", p, strerror(errno));
	*r = open(p, O_RDWR | O_CLOEXEC);
	ASSERT_GE(*r, 0) TH_LOG("join %s: %s", p, strerror(errno));
}

/* Number of entries of directory DIR other than "." and "..", or -1. */
static inline int count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Number of non-directories anywhere below the directory open as DFD (consumed), or -1. */
static inline int count_files_at(int dfd)
{
	struct dirent *de;
	DIR *d = fdopendir(dfd);
	int n = 0, sub;

	if (!d) {
		close(dfd);
		return -1;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type != DT_DIR) {
			n++;
			continue;
		}
		sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY);
		sub = sub < 0 ? -1 : count_files_at(sub);
		if (sub < 0) {
			n = -1;
			break;
		}
		n += sub;
	}
	closedir(d);
	return n;
}

/* Number of non-directories anywhere below DIR, or -1. */
static inline int count_files_tree(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);

	return dfd < 0 ? -1 : count_files_at(dfd);
}

/*
 * Waits up to TIMEOUT_MS for the tree below DIR to hold no file (released asynchronously,
 * e.g. by io_uring's ring teardown); returns how many are left (0 when empty), or -1.
 */
static inline int wait_files_gone(const char *dir, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	int n;

	while ((n = count_files_tree(dir)) > 0 && now_ms() < end)
		sleep_ms(10);
	return n;
}

/* ---------------------------------------------------------------- mounts */

static inline bool lfs_is_locustfs(void)
{
	return !strcmp(lfs_fstype(), "locustfs");
}

/*
 * Makes a new temporary directory, leaves its path in DIR and mounts a fresh instance of file
 * system TYPE on it with option string OPTS (NULL for none). Returns 0 or -errno (the
 * directory is then gone). lfs_mount() mounts the type under test.
 */
static inline int lfs_mount_type(char *dir, const char *type, const char *opts)
{
	const char *base = getenv("LOCUSTFS_TMPDIR");
	int err;

	snprintf(dir, LFS_PATH_MAX, "%s/lfs.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(dir))
		return -errno;
	if (mount("none", dir, type, 0, opts)) {
		err = errno;
		rmdir(dir);
		return -err;
	}
	return 0;
}

static inline int lfs_mount(char *dir, const char *opts)
{
	return lfs_mount_type(dir, lfs_fstype(), opts);
}

static inline int lfs_remount(const char *dir, const char *opts)
{
	return mount("none", dir, NULL, MS_REMOUNT, opts) ? -errno : 0;
}

/* Whether something is mounted on DIR (it lies on another device than its parent). */
static inline bool is_mountpoint(const char *dir)
{
	char parent[LFS_PATH_MAX];
	struct stat a, b;

	path_join(parent, dir, "..");
	return !stat(dir, &a) && !stat(parent, &b) && a.st_dev != b.st_dev;
}

/*
 * Unmounts DIR, retrying for up to WAKE_TIMEOUT_MS while it is busy (a release may still be
 * under way in a kernel worker), then detaching it lazily; removes the directory. Returns 0
 * when DIR was unmounted normally or was no longer mounted, -errno otherwise.
 */
static inline int lfs_umount(const char *dir)
{
	int64_t end = now_ms() + WAKE_TIMEOUT_MS;
	int ret = 0;

	while (is_mountpoint(dir) && umount(dir)) {
		ret = -errno;
		if (ret != -EBUSY || now_ms() >= end) {
			umount2(dir, MNT_DETACH);
			break;
		}
		sleep_ms(20);
		ret = 0;
	}
	rmdir(dir);
	return ret;
}

/*
 * Finds the /proc/mounts line of mount point DIR and copies its option field (the 4th) into
 * OPTS. Returns 0, or -1 when DIR is not listed.
 */
static inline int mount_options(const char *dir, char *opts, size_t len)
{
	char line[1024], dev[256], mnt[LFS_PATH_MAX], type[64], o[512];
	FILE *f = fopen("/proc/mounts", "r");
	int ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %511s %63s %511s", dev, mnt, type, o) == 4 &&
		    !strcmp(mnt, dir)) {
			snprintf(opts, len, "%s", o);
			ret = 0;
		}
	}
	fclose(f);
	return ret;
}

/* Whether the /proc/mounts options of DIR contain OPT as a whole comma-separated item. */
static inline bool mount_has_option(const char *dir, const char *opt)
{
	char opts[512], *tok, *save;

	if (mount_options(dir, opts, sizeof(opts)))
		return false;
	for (tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (!strcmp(tok, opt))
			return true;
	return false;
}

/* Fixture setup: a fresh instance mounted with OPTS on a temporary directory left in DIR. */
static inline void lfs_fixture_setup(struct __test_metadata *_metadata, char *dir,
				     const char *opts)
{
	int ret = lfs_mount(dir, opts);

	if (ret)
		dir[0] = 0;
	ASSERT_EQ(0, ret)
		TH_LOG("mount -t %s -o '%s': %s (is the module loaded?)", lfs_fstype(),
		       opts ? opts : "", strerror(-ret));
}

/*
 * Fixture teardown, run in the parent once the test process has exited: every file of the
 * instance must be gone with the processes that had it open; then the instance must unmount.
 */
static inline void lfs_fixture_teardown(struct __test_metadata *_metadata, const char *dir)
{
	int left;

	if (is_mountpoint(dir)) {
		left = wait_files_gone(dir, WAKE_TIMEOUT_MS);
		EXPECT_EQ(0, left)
			TH_LOG("%d file(s) outlived every process that had them open", left);
	}
	EXPECT_EQ(0, lfs_umount(dir)) TH_LOG("umount %s failed", dir);
}

/*
 * The usual fixture: self->mnt[] holds up to LFS_MOUNT_SLOTS instances a test uses, each
 * checked and unmounted by the teardown, which runs in the parent (FIXTURE_TEARDOWN_PARENT,
 * so self is shared with the test process and its children).
 *   LFS_FIXTURE(name, opts)   mnt[0] is mounted with OPTS (NULL: no options) before each test
 *   LFS_FIXTURE_EMPTY(name)   tests mount what they need with lfs_mount_slot()
 */
#define LFS_MOUNT_SLOTS 3

static inline void lfs_teardown_slots(struct __test_metadata *_metadata,
				      char (*mnt)[LFS_PATH_MAX])
{
	int i;

	for (i = 0; i < LFS_MOUNT_SLOTS; i++)
		if (mnt[i][0])
			lfs_fixture_teardown(_metadata, mnt[i]);
}

/* Mounts a fresh instance with OPTS in the first free slot of MNT and returns its path. */
static inline const char *lfs_mount_slot(struct __test_metadata *_metadata,
					 char (*mnt)[LFS_PATH_MAX], const char *opts)
{
	int i;

	for (i = 0; i < LFS_MOUNT_SLOTS && mnt[i][0]; i++)
		;
	if (i == LFS_MOUNT_SLOTS)
		abort(); /* a test mounting more than LFS_MOUNT_SLOTS instances is a test bug */
	lfs_fixture_setup(_metadata, mnt[i], opts);
	return mnt[i];
}

#define LFS_FIXTURE_EMPTY(name)                                   \
	FIXTURE(name)                                             \
	{                                                         \
		char mnt[LFS_MOUNT_SLOTS][LFS_PATH_MAX];          \
	};                                                        \
	FIXTURE_SETUP(name)                                       \
	{                                                         \
	}                                                         \
	FIXTURE_TEARDOWN_PARENT(name)                             \
	{                                                         \
		lfs_teardown_slots(_metadata, self->mnt);         \
	}

#define LFS_FIXTURE(name, opts)                                   \
	FIXTURE(name)                                             \
	{                                                         \
		char mnt[LFS_MOUNT_SLOTS][LFS_PATH_MAX];          \
	};                                                        \
	FIXTURE_SETUP(name)                                       \
	{                                                         \
		lfs_mount_slot(_metadata, self->mnt, opts);       \
	}                                                         \
	FIXTURE_TEARDOWN_PARENT(name)                             \
	{                                                         \
		lfs_teardown_slots(_metadata, self->mnt);         \
	}

/* ---------------------------------------------------------------- counters */

struct lfs_counters {
	long long live_files;
	long long live_queues;
	long long files_created;
	long long files_auto_deleted;
	long long bytes_in_use;
};

/* Writes TEXT to the existing file PATH (a /proc or /sys control file): 0 or -errno. */
static inline int write_text(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	ret = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
	close(fd);
	return ret;
}

/* The number in file DIR/NAME, or -1 when it is unreadable or not a number. */
static inline long long read_number(const char *dir, const char *name)
{
	char path[LFS_PATH_MAX], buf[64], *end;
	long long v;
	ssize_t n;
	int fd;

	fd = open(path_join(path, dir, name), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n'))
		return -1;
	return v;
}

/* The value of counter NAME, or -1 when it cannot be read. */
static inline long long lfs_counter(const char *name)
{
	return read_number(LFS_COUNTER_DIR, name);
}

/* Reads every counter; 0, or -1 when one is unreadable. */
static inline int lfs_counters_read(struct lfs_counters *c)
{
	c->live_files = lfs_counter("live_files");
	c->live_queues = lfs_counter("live_queues");
	c->files_created = lfs_counter("files_created");
	c->files_auto_deleted = lfs_counter("files_auto_deleted");
	c->bytes_in_use = lfs_counter("bytes_in_use");
	return c->live_files < 0 || c->live_queues < 0 || c->files_created < 0 ||
			       c->files_auto_deleted < 0 || c->bytes_in_use < 0 ?
		       -1 :
		       0;
}

/*
 * Asserts that the live counters (live_files, live_queues, bytes_in_use) are back to the
 * values of BASE, waiting up to WAKE_TIMEOUT_MS for releases still running in kernel workers.
 */
static inline void expect_live_counters(struct __test_metadata *_metadata,
					const struct lfs_counters *base)
{
	int64_t end = now_ms() + WAKE_TIMEOUT_MS;
	struct lfs_counters c;

	do {
		ASSERT_EQ(0, lfs_counters_read(&c)) TH_LOG("counters unreadable");
		if (c.live_files == base->live_files && c.live_queues == base->live_queues &&
		    c.bytes_in_use == base->bytes_in_use)
			return;
		sleep_ms(20);
	} while (now_ms() < end);
	EXPECT_EQ(base->live_files, c.live_files);
	EXPECT_EQ(base->live_queues, c.live_queues);
	EXPECT_EQ(base->bytes_in_use, c.bytes_in_use);
}

/* ---------------------------------------------------------------- tasks, children */

/* The scheduler state letter of task TID ('R', 'S', 'D', 'Z', ...), or 0. */
static inline char task_state(pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* The syscall task TID sleeps in: its number, -1 when none, -2 when unknown. */
static inline long task_syscall(pid_t tid)
{
	char path[64], buf[128], *end;
	ssize_t n;
	long nr;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/syscall", tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -2;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -2;
	buf[n] = 0;
	nr = strtol(buf, &end, 10);
	return end == buf ? -2 : nr;
}

/*
 * Waits until task TID sleeps inside one of the syscalls NRS (a list ended by -1; NULL for
 * any sleep), or until *DONE (when given) becomes true. Returns 0 when it sleeps, 1 when it
 * was done first, -1 after TIMEOUT_MS.
 */
static inline int wait_task_blocked(pid_t tid, const long *nrs, atomic_bool *done,
				    int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	long nr;
	int i;

	for (;;) {
		if (done && atomic_load(done))
			return 1;
		if (task_state(tid) == 'S') {
			nr = nrs ? task_syscall(tid) : -2;
			if (nr == -2)
				return 0;
			for (i = 0; nrs[i] != -1; i++)
				if (nrs[i] == nr)
					return 0;
		}
		if (now_ms() >= end)
			return -1;
		sleep_ms(1);
	}
}

/*
 * fork() for a child that must not outlive the calling thread: it gets SIGKILL when its
 * parent dies (say, on a failed ASSERT), so that it cannot keep files open after the test.
 */
static inline pid_t fork_tied(void)
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1); /* the parent is already gone */
	}
	return pid;
}

/*
 * Waits up to TIMEOUT_MS for child PID to end; returns its wait status, or -1 (the child is
 * then killed and reaped).
 */
static inline int wait_child(pid_t pid, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ms() >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		sleep_ms(1);
	}
}

static inline bool exited_ok(int status)
{
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Writes one byte C to FD; 0 or -1. */
static inline int send_byte(int fd, char c)
{
	return write(fd, &c, 1) == 1 ? 0 : -1;
}

/* Reads one byte from FD within TIMEOUT_MS: the byte (0-255), or -1 (timeout, EOF, error). */
static inline int recv_byte(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	unsigned char c;

	if (poll(&p, 1, timeout_ms) != 1 || read(fd, &c, 1) != 1)
		return -1;
	return c;
}

/*
 * RUN_AS(uid, gid) { block }: runs BLOCK in a forked child whose real, effective, saved and
 * file ids are UID and GID with no supplementary groups (so without capabilities), and
 * waits for it. ASSERT_* and EXPECT_* inside the block fail the calling test. The block
 * must not leave with break or return.
 */
static inline pid_t run_as_fork(struct __test_metadata *_metadata, uid_t uid, gid_t gid)
{
	pid_t pid = fork_tied();

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		ASSERT_EQ(0, setgroups(0, NULL));
		ASSERT_EQ(0, setresgid(gid, gid, gid));
		ASSERT_EQ(0, setresuid(uid, uid, uid));
	}
	return pid;
}

static inline pid_t run_as_join(struct __test_metadata *_metadata, pid_t pid)
{
	int status;

	if (pid == 0)
		_exit(0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child running as another user failed (status %#x)", status);
	return -1;
}

#define RUN_AS(uid, gid)                                                        \
	for (pid_t __run_as = run_as_fork(_metadata, uid, gid); __run_as >= 0; \
	     __run_as = run_as_join(_metadata, __run_as))                        \
		if (__run_as == 0)

/* ---------------------------------------------------------------- fd passing, inotify */

#define MAX_PASSED_FDS 64

/* Sends the N descriptors FDS over unix socket SOCK with SCM_RIGHTS; 0 or -1. */
static inline int send_fds(int sock, const int *fds, int n)
{
	char data = 'F';
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_PASSED_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (n < 1 || n > MAX_PASSED_FDS)
		return -1;
	memset(&u, 0, sizeof(u));
	msg.msg_control = u.buf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

/* Receives up to MAX descriptors sent with send_fds() into FDS; how many, or -1. */
static inline int recv_fds(int sock, int *fds, int max)
{
	char data;
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_PASSED_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	int n;

	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
	if (n > max)
		n = max;
	memcpy(fds, CMSG_DATA(c), sizeof(int) * n);
	return n;
}

struct inotify_tally {
	int created;
	int deleted;
	bool name_deleted; /* IN_DELETE seen for the name given to inotify_drain() */
};

/*
 * Reads every event queued on the non-blocking inotify descriptor IFD into T (added to it);
 * NAME, when given, is looked for among the IN_DELETE events. Returns 0 or -1.
 */
static inline int inotify_drain(int ifd, const char *name, struct inotify_tally *t)
{
	char buf[8192] __aligned(__alignof__(struct inotify_event));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	for (;;) {
		n = read(ifd, buf, sizeof(buf));
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW)
				return -1;
			if (ev->mask & IN_CREATE)
				t->created++;
			if (ev->mask & IN_DELETE) {
				t->deleted++;
				if (name && ev->len && !strcmp(ev->name, name))
					t->name_deleted = true;
			}
		}
	}
}

/* ---------------------------------------------------------------- the module */

#define LFS_MODULE_DIR "/sys/module/locustfs"

static inline bool lfs_module_loaded(void)
{
	return path_exists(LFS_MODULE_DIR);
}

/* Unloads the module; 0 or -errno (EWOULDBLOCK while it is in use). */
static inline int lfs_module_unload(void)
{
	return syscall(SYS_delete_module, "locustfs", O_NONBLOCK) ? -errno : 0;
}

/* Loads the module from LOCUSTFS_KO (tests/run-suite.sh sets it) with PARAMS; 0 or -errno. */
static inline int lfs_module_load(const char *params)
{
	const char *ko = getenv("LOCUSTFS_KO");
	int fd, ret;

	if (!ko || !*ko)
		return -ENOENT;
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

/* Unloads the module, retrying while a release may still hold it; 0 or -errno. */
static inline int lfs_module_unload_settled(void)
{
	int64_t end = now_ms() + WAKE_TIMEOUT_MS;
	int ret;

	while ((ret = lfs_module_unload()) == -EWOULDBLOCK && now_ms() < end)
		sleep_ms(20);
	return ret;
}

/* ---------------------------------------------------------------- open vs last close */

/*
 * Threads opening one name while others close it, each close possibly the last: an open
 * must join the live file or miss it (ENOENT), never fail otherwise (ESTALE...), never
 * yield a file without a link; and while a linked file is held (nobody unlinks or renames
 * here) its name must lead to that very file.
 */
struct race {
	char path[LFS_PATH_MAX];
	int64_t end;
	atomic_long cycles, joins, misses;
	atomic_int bad;
	char bad_what[160];
};

/* Records a violation (the first one's description is kept). */
static inline void race_bad(struct race *r, const char *what, int err)
{
	if (atomic_fetch_add(&r->bad, 1) == 0)
		snprintf(r->bad_what, sizeof(r->bad_what), "%s%s%s", what, err ? ": " : "",
			 err ? strerror(err) : "");
}

static inline void race_check_held(struct race *r, int fd)
{
	struct stat fst, pst;

	if (fstat(fd, &fst))
		race_bad(r, "fstat", errno);
	else if (fst.st_nlink < 1)
		race_bad(r, "opened a file with no link", 0);
	else if (stat(r->path, &pst))
		race_bad(r, "the name of a held, linked file is gone", errno);
	else if (pst.st_ino != fst.st_ino)
		race_bad(r, "the name leads to another file than the held one", 0);
}

/* Thread: open(O_CREAT), check, write, close, until r->end. */
static inline void *race_closer(void *arg)
{
	struct race *r = arg;
	int fd;

	while (now_ms() < r->end) {
		fd = open(r->path, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
		if (fd < 0) {
			race_bad(r, "open(O_CREAT)", errno);
			continue;
		}
		race_check_held(r, fd);
		if (write(fd, "c", 1) != 1)
			race_bad(r, "write", errno);
		close(fd);
		atomic_fetch_add(&r->cycles, 1);
	}
	return NULL;
}

/*
 * open() of r->path without O_CREAT, counted as a join or (ENOENT) a miss; any other error is
 * a violation. Returns the descriptor or -1.
 */
static inline int race_join(struct race *r)
{
	int fd = open(r->path, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		atomic_fetch_add(&r->joins, 1);
	else if (errno == ENOENT)
		atomic_fetch_add(&r->misses, 1);
	else
		race_bad(r, "open", errno);
	return fd;
}

/* Thread: open() without O_CREAT, check, read, close, until r->end. */
static inline void *race_joiner(void *arg)
{
	struct race *r = arg;
	char c;
	int fd;

	while (now_ms() < r->end) {
		fd = race_join(r);
		if (fd < 0)
			continue;
		race_check_held(r, fd);
		if (pread(fd, &c, 1, 0) < 0)
			race_bad(r, "pread", errno);
		close(fd);
	}
	return NULL;
}

/* Runs ROLES[i % NROLES] in each of N threads on R and waits for them all. */
static inline void race_run(struct __test_metadata *_metadata, struct race *r,
			    void *(*const *roles)(void *), int nroles, int n)
{
	pthread_t th[64];
	int i;

	ASSERT_LE(n, (int)ARRAY_LEN(th));
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, roles[i % nroles], r));
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

/* ---------------------------------------------------------------- io_uring (raw) */

struct uring {
	int fd;
	void *sq_ring, *cq_ring;
	size_t sq_ring_sz, cq_ring_sz, sqes_sz;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	unsigned int *sq_tail, *sq_mask, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
};

static inline void uring_fini(struct uring *r)
{
	if (r->sqes && r->sqes != MAP_FAILED)
		munmap(r->sqes, r->sqes_sz);
	if (r->cq_ring && r->cq_ring != MAP_FAILED && r->cq_ring != r->sq_ring)
		munmap(r->cq_ring, r->cq_ring_sz);
	if (r->sq_ring && r->sq_ring != MAP_FAILED)
		munmap(r->sq_ring, r->sq_ring_sz);
	if (r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

/* Sets up ring R with ENTRIES submission slots; 0 or -errno. */
static inline int uring_init(struct uring *r, unsigned int entries)
{
	struct io_uring_params p;
	int err;

	memset(r, 0, sizeof(*r));
	memset(&p, 0, sizeof(p));
	r->fd = (int)syscall(__NR_io_uring_setup, entries, &p);
	if (r->fd < 0)
		return -errno;
	r->sq_ring_sz = p.sq_off.array + p.sq_entries * sizeof(unsigned int);
	r->cq_ring_sz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (r->cq_ring_sz > r->sq_ring_sz)
			r->sq_ring_sz = r->cq_ring_sz;
		r->cq_ring_sz = r->sq_ring_sz;
	}
	r->sq_ring = mmap(NULL, r->sq_ring_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			  r->fd, IORING_OFF_SQ_RING);
	if (r->sq_ring == MAP_FAILED)
		goto fail;
	r->cq_ring = (p.features & IORING_FEAT_SINGLE_MMAP) ?
			     r->sq_ring :
			     mmap(NULL, r->cq_ring_sz, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
	if (r->cq_ring == MAP_FAILED)
		goto fail;
	r->sqes_sz = p.sq_entries * sizeof(struct io_uring_sqe);
	r->sqes = mmap(NULL, r->sqes_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
		       IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED)
		goto fail;
	r->sq_tail = (unsigned int *)((char *)r->sq_ring + p.sq_off.tail);
	r->sq_mask = (unsigned int *)((char *)r->sq_ring + p.sq_off.ring_mask);
	r->sq_array = (unsigned int *)((char *)r->sq_ring + p.sq_off.array);
	r->cq_head = (unsigned int *)((char *)r->cq_ring + p.cq_off.head);
	r->cq_tail = (unsigned int *)((char *)r->cq_ring + p.cq_off.tail);
	r->cq_mask = (unsigned int *)((char *)r->cq_ring + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)((char *)r->cq_ring + p.cq_off.cqes);
	return 0;
fail:
	err = -errno;
	uring_fini(r);
	return err;
}

/* Queues (without submitting) an IORING_OP_POLL_ADD (one-shot) of EVENTS on FD. */
static inline void uring_queue_poll(struct uring *r, int fd, uint32_t events, uint64_t data)
{
	unsigned int tail = *r->sq_tail, idx = tail & *r->sq_mask;
	struct io_uring_sqe *sqe = &r->sqes[idx];

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_POLL_ADD;
	sqe->fd = fd;
	sqe->poll32_events = events;
	sqe->user_data = data;
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
}

/*
 * Queues (without submitting) an IORING_OP_POLL_REMOVE of the pending poll whose user_data is
 * TARGET: the poll then completes with -ECANCELED, the removal itself with 0 (or -ENOENT).
 */
static inline void uring_queue_poll_remove(struct uring *r, uint64_t target, uint64_t data)
{
	unsigned int tail = *r->sq_tail, idx = tail & *r->sq_mask;
	struct io_uring_sqe *sqe = &r->sqes[idx];

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_POLL_REMOVE;
	sqe->fd = -1;
	sqe->addr = target;
	sqe->user_data = data;
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
}

/* Takes the oldest completion into CQE; 0, or -EAGAIN when there is none. */
static inline int uring_pop(struct uring *r, struct io_uring_cqe *cqe)
{
	unsigned int head = *r->cq_head;

	if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
		return -EAGAIN;
	*cqe = r->cqes[head & *r->cq_mask];
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Submits TO_SUBMIT queued entries and waits up to TIMEOUT_MS (negative: without limit) for
 * a completion, taken into CQE. Returns 0, -ETIME when none came, or -errno.
 */
static inline int uring_submit_wait(struct uring *r, unsigned int to_submit, int timeout_ms,
				    struct io_uring_cqe *cqe)
{
	struct __kernel_timespec ts = { .tv_sec = timeout_ms / 1000,
					.tv_nsec = (timeout_ms % 1000) * 1000000L };
	struct io_uring_getevents_arg arg = { .ts = (uint64_t)(uintptr_t)&ts };
	unsigned int flags = IORING_ENTER_GETEVENTS;
	long ret;

	if (timeout_ms >= 0)
		flags |= IORING_ENTER_EXT_ARG;
	if (!to_submit && !uring_pop(r, cqe))
		return 0;
	do {
		ret = syscall(__NR_io_uring_enter, r->fd, to_submit, 1, flags,
			      timeout_ms >= 0 ? (void *)&arg : NULL,
			      timeout_ms >= 0 ? sizeof(arg) : (size_t)0);
	} while (ret < 0 && errno == EINTR && !to_submit);
	if (ret < 0 && errno != ETIME && errno != EINTR)
		return -errno;
	return uring_pop(r, cqe) ? -ETIME : 0;
}

/* Submits TO_SUBMIT queued entries without waiting; how many were taken, or -errno. */
static inline int uring_submit(struct uring *r, unsigned int to_submit)
{
	long ret = syscall(__NR_io_uring_enter, r->fd, to_submit, 0, 0, NULL, (size_t)0);

	return ret < 0 ? -errno : (int)ret;
}

/* Whether io_uring can be used here (it may be compiled out or disabled by sysctl). */
static inline bool uring_available(void)
{
	struct uring r;

	if (uring_init(&r, 4))
		return false;
	uring_fini(&r);
	return true;
}

/* ---------------------------------------------------------------- readiness watchers */

enum wait_mech {
	MECH_POLL,
	MECH_SELECT,
	MECH_EPOLL_LT,
	MECH_EPOLL_ET,
	MECH_EPOLL_ONESHOT,
	MECH_EPOLL_EXCLUSIVE,
	MECH_EPOLL_NESTED, /* level-triggered epoll inside another epoll */
	MECH_IO_URING,	   /* IORING_OP_POLL_ADD, re-armed after each completion */
	MECH_COUNT
};

static inline const char *mech_name(enum wait_mech m)
{
	static const char *const names[MECH_COUNT] = {
		"poll", "select", "epoll-lt", "epoll-et", "epoll-oneshot", "epoll-exclusive",
		"epoll-nested", "io_uring",
	};

	return m < MECH_COUNT ? names[m] : "?";
}

/* The syscalls a waiter using M sleeps in (glibc may use either of each pair), -1 ended. */
static inline const long *mech_syscalls(enum wait_mech m)
{
	static const long poll_nrs[] = { __NR_poll, __NR_ppoll, -1 };
	static const long select_nrs[] = { __NR_select, __NR_pselect6, -1 };
	static const long epoll_nrs[] = { __NR_epoll_wait, __NR_epoll_pwait, -1 };
	static const long uring_nrs[] = { __NR_io_uring_enter, -1 };

	switch (m) {
	case MECH_POLL:
		return poll_nrs;
	case MECH_SELECT:
		return select_nrs;
	case MECH_IO_URING:
		return uring_nrs;
	default:
		return epoll_nrs;
	}
}

#define SELECT_IN_BITS (EPOLLIN | EPOLLRDNORM | EPOLLRDBAND | EPOLLHUP | EPOLLERR)
#define SELECT_OUT_BITS (EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND | EPOLLERR)

/* One file descriptor watched for readiness with one mechanism. */
struct watch {
	enum wait_mech mech;
	int fd;
	uint32_t events; /* as registered (EPOLLEXCLUSIVE allows only IN/OUT among them) */
	int epfd;	 /* the epoll instance, for the epoll mechanisms */
	int outer;	 /* MECH_EPOLL_NESTED: the epoll instance holding epfd */
	bool armed;	 /* one-shot epoll / io_uring poll is pending */
	struct uring ring;
};

static inline void watch_fini(struct watch *w)
{
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->outer >= 0)
		close(w->outer);
	if (w->mech == MECH_IO_URING)
		uring_fini(&w->ring);
	w->epfd = -1;
	w->outer = -1;
}

/* Starts watching FD for EVENTS (EPOLL* bits) with M; 0 or -errno. */
static inline int watch_init(struct watch *w, enum wait_mech m, int fd, uint32_t events)
{
	struct epoll_event ev = { .data.fd = fd };
	int ret = 0;

	memset(w, 0, sizeof(*w));
	w->mech = m;
	w->fd = fd;
	w->epfd = -1;
	w->outer = -1;
	w->ring.fd = -1;
	w->events = events;
	switch (m) {
	case MECH_POLL:
	case MECH_SELECT:
		return 0;
	case MECH_IO_URING:
		return uring_init(&w->ring, 8);
	case MECH_EPOLL_EXCLUSIVE:
		w->events &= EPOLLIN | EPOLLOUT | EPOLLHUP | EPOLLERR;
		ev.events = w->events | EPOLLEXCLUSIVE;
		break;
	case MECH_EPOLL_ET:
		ev.events = events | EPOLLET;
		break;
	case MECH_EPOLL_ONESHOT:
		ev.events = events | EPOLLONESHOT;
		w->armed = true;
		break;
	default:
		ev.events = events;
		break;
	}
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev))
		ret = -errno;
	if (!ret && m == MECH_EPOLL_NESTED) {
		struct epoll_event oev = { .events = EPOLLIN, .data.fd = w->epfd };

		w->outer = epoll_create1(EPOLL_CLOEXEC);
		if (w->outer < 0 || epoll_ctl(w->outer, EPOLL_CTL_ADD, w->epfd, &oev))
			ret = -errno;
	}
	if (ret)
		watch_fini(w);
	return ret;
}

/* A new epoll instance watching FD for EVENTS (data.fd = FD), or -1. */
static inline int epoll_with(int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
		close(ep);
		return -1;
	}
	return ep;
}

/* epoll_wait() on EPFD for one event of any descriptor, retried on EINTR. */
static inline int epoll_wait_one(int epfd, struct epoll_event *ev, int timeout_ms)
{
	int n;

	do {
		n = epoll_wait(epfd, ev, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	return n;
}

/*
 * Waits up to TIMEOUT_MS (negative: forever) for the watched descriptor to be ready.
 * Returns the readiness it reported (EPOLL* bits; select reports only EPOLLIN and EPOLLOUT),
 * 0 on timeout, or -errno.
 */
static inline int watch_wait(struct watch *w, int timeout_ms)
{
	struct epoll_event ev = { 0 }, rearm;
	struct io_uring_cqe cqe;
	struct pollfd pfd;
	struct timeval tv;
	fd_set rd, wr;
	int n, ret;

	switch (w->mech) {
	case MECH_POLL:
		pfd = (struct pollfd){ .fd = w->fd, .events = (short)w->events };
		n = poll(&pfd, 1, timeout_ms);
		return n < 0 ? -errno : n ? pfd.revents : 0;
	case MECH_SELECT:
		FD_ZERO(&rd);
		FD_ZERO(&wr);
		if (w->events & (EPOLLIN | EPOLLRDNORM))
			FD_SET(w->fd, &rd);
		if (w->events & (EPOLLOUT | EPOLLWRNORM))
			FD_SET(w->fd, &wr);
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
		n = select(w->fd + 1, &rd, &wr, NULL, timeout_ms < 0 ? NULL : &tv);
		if (n <= 0)
			return n < 0 ? -errno : 0;
		return (FD_ISSET(w->fd, &rd) ? EPOLLIN : 0) | (FD_ISSET(w->fd, &wr) ? EPOLLOUT : 0);
	case MECH_IO_URING: {
		int64_t end = now_ms() + timeout_ms;
		int left = timeout_ms;

		for (;;) {
			if (!w->armed)
				uring_queue_poll(&w->ring, w->fd, w->events, 1);
			ret = uring_submit_wait(&w->ring, !w->armed, left, &cqe);
			w->armed = ret == -ETIME;
			if (ret)
				return ret == -ETIME ? 0 : ret;
			/*
			 * A poll left armed by a waiter thread that has since exited is cancelled
			 * with it: arm a new one and go on waiting.
			 */
			if (cqe.res != -ECANCELED)
				return cqe.res;
			if (timeout_ms >= 0) {
				left = (int)(end - now_ms());
				if (left < 0)
					left = 0;
			}
		}
	}
	case MECH_EPOLL_ONESHOT:
		if (!w->armed) {
			rearm = (struct epoll_event){ .events = w->events | EPOLLONESHOT,
						      .data.fd = w->fd };
			if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, w->fd, &rearm))
				return -errno;
			w->armed = true;
		}
		n = epoll_wait_one(w->epfd, &ev, timeout_ms);
		if (n > 0)
			w->armed = false;
		return n < 0 ? -errno : n ? (int)ev.events : 0;
	case MECH_EPOLL_NESTED: {
		int64_t end = now_ms() + timeout_ms;
		int left = timeout_ms;

		for (;;) {
			n = epoll_wait_one(w->outer, &ev, left);
			if (n <= 0)
				return n < 0 ? -errno : 0;
			n = epoll_wait_one(w->epfd, &ev, 0);
			if (n)
				return n < 0 ? -errno : (int)ev.events;
			/* The inner instance had nothing after all: wait again. */
			if (timeout_ms >= 0) {
				left = (int)(end - now_ms());
				if (left <= 0)
					return 0;
			}
		}
	}
	default:
		n = epoll_wait_one(w->epfd, &ev, timeout_ms);
		return n < 0 ? -errno : n ? (int)ev.events : 0;
	}
}

/* What watch W must report for a descriptor whose poll mask is READY. */
static inline uint32_t watch_expect(const struct watch *w, uint32_t ready)
{
	uint32_t always = EPOLLHUP | EPOLLERR, r = 0;

	switch (w->mech) {
	case MECH_SELECT:
		if ((w->events & (EPOLLIN | EPOLLRDNORM)) && (ready & SELECT_IN_BITS))
			r |= EPOLLIN;
		if ((w->events & (EPOLLOUT | EPOLLWRNORM)) && (ready & SELECT_OUT_BITS))
			r |= EPOLLOUT;
		return r;
	case MECH_POLL:
		always |= POLLNVAL;
		break;
	case MECH_IO_URING:
		always |= POLLNVAL | EPOLLRDHUP;
		break;
	default:
		break;
	}
	return ready & (w->events | always);
}

/* Readiness FD shows right now through a fresh watch with M for EVENTS (<0: -errno). */
static inline int observe_now(enum wait_mech m, int fd, uint32_t events)
{
	struct watch w;
	int ret = watch_init(&w, m, fd, events);

	if (ret)
		return ret;
	ret = watch_wait(&w, 0);
	watch_fini(&w);
	return ret;
}

/* A thread blocked in watch_wait(). */
struct waiter {
	struct watch *w;
	int timeout_ms;
	pthread_t thread;
	atomic_int tid;
	atomic_bool done;
	int64_t started_ms, ended_ms; /* CLOCK_MONOTONIC around the watch_wait() call */
	int result;		      /* what watch_wait() returned */
};

static inline void *waiter_main(void *arg)
{
	struct waiter *wt = arg;

	atomic_store(&wt->tid, sys_gettid());
	wt->started_ms = now_ms();
	wt->result = watch_wait(wt->w, wt->timeout_ms);
	wt->ended_ms = now_ms();
	atomic_store(&wt->done, true);
	return NULL;
}

/*
 * Starts a thread waiting on W for up to TIMEOUT_MS and returns once it sleeps in its wait
 * syscall: 0; 1 when the wait ended before it could block (the descriptor was ready); -1
 * on failure. A waiter that an action must wake is given WAITER_TIMEOUT_MS and joined with
 * waiter_join_woken().
 */
static inline int waiter_start(struct waiter *wt, struct watch *w, int timeout_ms)
{
	int64_t end = now_ms() + WAKE_TIMEOUT_MS;

	memset(wt, 0, sizeof(*wt));
	wt->w = w;
	wt->timeout_ms = timeout_ms;
	if (pthread_create(&wt->thread, NULL, waiter_main, wt))
		return -1;
	while (!atomic_load(&wt->tid) && now_ms() < end)
		sleep_ms(1);
	return wait_task_blocked(atomic_load(&wt->tid), mech_syscalls(w->mech), &wt->done,
				 WAKE_TIMEOUT_MS);
}

/* Waits for the waiter thread to end; returns what its watch_wait() returned. */
static inline int waiter_join(struct waiter *wt)
{
	pthread_join(wt->thread, NULL);
	return wt->result;
}

/* Whether the joined waiter's wait lasted its whole timeout (so its result proves nothing). */
static inline bool waiter_timed_out(const struct waiter *wt)
{
	return wt->timeout_ms >= 0 && wt->ended_ms - wt->started_ms >= wt->timeout_ms;
}

/*
 * Joins a waiter that the action just done must have woken: it must end within
 * WAKE_TIMEOUT_MS from now, and not by its own timeout. Returns what its watch_wait()
 * returned, or -ETIME when it was not woken (then it is joined once its timeout ends it, and
 * whatever poll() or select() reported at that point is ignored).
 */
static inline int waiter_join_woken(struct waiter *wt)
{
	int64_t deadline = now_ms() + WAKE_TIMEOUT_MS;
	bool woken;

	while (!atomic_load(&wt->done) && now_ms() < deadline)
		sleep_ms(1);
	woken = atomic_load(&wt->done);
	waiter_join(wt);
	return woken && !waiter_timed_out(wt) ? wt->result : -ETIME;
}

/* How a waiter_join_woken() result of -ETIME reads in a message. */
static inline const char *not_woken_note(const struct waiter *wt, int got)
{
	if (got != -ETIME)
		return got == 0 ? " (timed out)" : "";
	if (waiter_timed_out(wt))
		return " (lost wake-up: the wait ran to its timeout)";
	return " (lost wake-up: still asleep WAKE_TIMEOUT_MS after the action)";
}

#endif /* LOCUSTFS_TESTS_COMMON_H */
