// SPDX-License-Identifier: GPL-2.0
/*
 * stress_mount: instances and the module come and go while locust files are open and watched.
 *
 * One round (cycle.lazy_umount, repeated MOUNT_ROUNDS times):
 *
 *     mount M ─── root directory D (an fd on it is kept)
 *                  F0..Fk-1, each opened twice: Wi (creates it) and Ri (joins it, at EOF)
 *     thread T ── epoll_wait(E), E holding every Ri (level-triggered)
 *     thread U ── poll(R0)
 *     umount2(M, MNT_DETACH) while T and U sleep: M leaves the name space, the instance
 *     stays with its open files. Then:
 *       - write(Wi) for every i: T and U must wake, E must report all k Ri readable;
 *       - openat(D, "late", O_CREAT) still creates a file in the detached instance, and its
 *         last close removes it;
 *       - everything is closed, in the variant's order: the files first and the epoll
 *         instance last (each file's __fput() unhooks its epoll item, the seed bug's path),
 *         or the epoll instance first;
 *     and the live counters are back where they were.
 *
 * cycle.module_cycle: the same round, and while the detached instance still has files open
 * and watched, delete_module("locustfs", O_NONBLOCK) must fail with EWOULDBLOCK (the
 * instance holds the module) and the files must keep working; once everything is closed,
 * the module must unload and load again (finit_module) with its counters at 0. Needs
 * LOCUSTFS_KO, the module's path (tests/run-suite.sh sets it); the module is loaded again
 * by the teardown if a failure left it out.
 *
 * Parameters (environment):
 *   MOUNT_ROUNDS   rounds per test case (default 20)
 *   MOUNT_FILES    files per round, k (default 8, at most 64)
 *   SOAK_SECONDS   run the program for about this long in all (shared by the test cases)
 */
#include "common.h"

#include <sys/syscall.h>

#define MAX_FILES 64

/* The test cases, among which SOAK_SECONDS is shared: 2 variants x 2 tests. */
#define CASES 4

static long rounds, nfiles, soak_ms_per_case;

/* Reads the parameters from the environment (once: the first caller may be a constructor). */
static void read_params(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	rounds = env_long("MOUNT_ROUNDS", 20);
	nfiles = env_long("MOUNT_FILES", 8);
	soak_ms_per_case = env_long("SOAK_SECONDS", 0) * 1000 / CASES;
}

/* Each test case's harness timeout: about 10 s per round is plenty on the debug guest. */
static int case_timeout(void)
{
	read_params();
	return lfs_test_timeout(120 + rounds * 10 + soak_ms_per_case / 1000);
}

/* One round's instance, files, watchers. */
struct round {
	char mnt[LFS_PATH_MAX];
	int root; /* O_DIRECTORY fd on the instance's root, kept across the detach */
	int w[MAX_FILES], r[MAX_FILES];
	struct watch e;	      /* MECH_EPOLL_LT on R0, then every other Ri added to e.epfd */
	struct watch p;	      /* MECH_POLL on R0 */
	struct waiter te, tp; /* threads T and U */
};

/* Mounts an instance, creates and opens its files, starts T and U and waits until they sleep. */
static void round_start(struct __test_metadata *_metadata, struct round *rd)
{
	char name[16];
	int i;

	ASSERT_EQ(0, lfs_mount(rd->mnt, NULL)) TH_LOG("mount: is the module loaded?");
	rd->root = open(rd->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_GE(rd->root, 0);
	for (i = 0; i < nfiles; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		rd->w[i] = openat(rd->root, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		ASSERT_GE(rd->w[i], 0) TH_LOG("create %s: %s", name, strerror(errno));
		rd->r[i] = openat(rd->root, name, O_RDONLY | O_CLOEXEC);
		ASSERT_GE(rd->r[i], 0) TH_LOG("join %s: %s", name, strerror(errno));
	}
	ASSERT_EQ(0, watch_init(&rd->e, MECH_EPOLL_LT, rd->r[0], EPOLLIN));
	for (i = 1; i < nfiles; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = rd->r[i] };

		ASSERT_EQ(0, epoll_ctl(rd->e.epfd, EPOLL_CTL_ADD, rd->r[i], &ev));
	}
	ASSERT_EQ(0, watch_init(&rd->p, MECH_POLL, rd->r[0], EPOLLIN));
	ASSERT_EQ(0, waiter_start(&rd->te, &rd->e, WAITER_TIMEOUT_MS)) TH_LOG("T did not sleep");
	ASSERT_EQ(0, waiter_start(&rd->tp, &rd->p, WAITER_TIMEOUT_MS)) TH_LOG("U did not sleep");
}

/* Detaches the instance while T and U sleep; the mount point is then an empty directory. */
static void round_detach(struct __test_metadata *_metadata, struct round *rd)
{
	ASSERT_EQ(0, umount2(rd->mnt, MNT_DETACH)) TH_LOG("umount -l: %s", strerror(errno));
	ASSERT_FALSE(is_mountpoint(rd->mnt));
	ASSERT_EQ(0, rmdir(rd->mnt));
}

/* The detached instance still works: writes wake T and U, a new file comes and goes. */
static void round_use_detached(struct __test_metadata *_metadata, struct round *rd)
{
	struct epoll_event evs[MAX_FILES];
	struct stat st;
	int i, fd, got;

	for (i = 0; i < nfiles; i++)
		ASSERT_EQ(1, write(rd->w[i], "x", 1));
	got = waiter_join_woken(&rd->te);
	EXPECT_EQ(EPOLLIN, got) TH_LOG("epoll waiter T: %d%s", got, not_woken_note(&rd->te, got));
	got = waiter_join_woken(&rd->tp);
	EXPECT_EQ(EPOLLIN, got) TH_LOG("poll waiter U: %d%s", got, not_woken_note(&rd->tp, got));
	EXPECT_EQ(nfiles, epoll_wait(rd->e.epfd, evs, nfiles, 0)) TH_LOG("every Ri readable");
	for (i = 0; i < nfiles; i++) {
		ASSERT_EQ(0, fstat(rd->w[i], &st));
		EXPECT_EQ(1, st.st_size);
	}
	fd = openat(rd->root, "late", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ASSERT_GE(fd, 0) TH_LOG("create in the detached instance: %s", strerror(errno));
	ASSERT_EQ(4, write(fd, "late", 4));
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(-1, fstatat(rd->root, "late", &st, 0));
	EXPECT_EQ(ENOENT, errno) TH_LOG("a file of the detached instance outlived its last close");
}

/* Closes the files and the watchers, the epoll instance last or first. */
static void round_close(struct round *rd, bool epoll_last)
{
	int i;

	if (!epoll_last)
		watch_fini(&rd->e);
	for (i = 0; i < nfiles; i++) {
		close(rd->w[i]);
		close(rd->r[i]);
	}
	watch_fini(&rd->p);
	if (epoll_last)
		watch_fini(&rd->e);
	close(rd->root);
}

FIXTURE(cycle) {
	struct lfs_counters base;
};

FIXTURE_VARIANT(cycle) {
	bool epoll_last;
};

FIXTURE_VARIANT_ADD(cycle, files_then_epoll) { .epoll_last = true };
FIXTURE_VARIANT_ADD(cycle, epoll_then_files) { .epoll_last = false };

FIXTURE_SETUP(cycle)
{
	ASSERT_TRUE(lfs_module_loaded()) TH_LOG("the locustfs module is not loaded");
	ASSERT_EQ(0, lfs_counters_read(&self->base));
}

FIXTURE_TEARDOWN(cycle)
{
	/* A failed module_cycle may have left the module out: the next program needs it. */
	if (!lfs_module_loaded())
		EXPECT_EQ(0, lfs_module_load("")) TH_LOG("reloading the module failed");
}

TEST_F_TIMEOUT(cycle, lazy_umount, case_timeout())
{
	int64_t start = now_ms();
	struct round rd;
	int n;

	for (n = 0; n < rounds || now_ms() - start < soak_ms_per_case; n++) {
		round_start(_metadata, &rd);
		round_detach(_metadata, &rd);
		round_use_detached(_metadata, &rd);
		round_close(&rd, variant->epoll_last);
		expect_live_counters(_metadata, &self->base);
		if (_metadata->exit_code)
			break;
	}
	TH_LOG("%d rounds of %ld files in %.1f s", n, nfiles, (now_ms() - start) / 1000.0);
}

TEST_F_TIMEOUT(cycle, module_cycle, case_timeout())
{
	int64_t start = now_ms();
	struct lfs_counters zero = { 0 };
	struct round rd;
	int n;

	if (!getenv("LOCUSTFS_KO"))
		SKIP(return, "LOCUSTFS_KO (the module's path) is not set");
	for (n = 0; n < rounds || now_ms() - start < soak_ms_per_case; n++) {
		round_start(_metadata, &rd);
		round_detach(_metadata, &rd);
		ASSERT_EQ(-EWOULDBLOCK, lfs_module_unload())
			TH_LOG("delete_module with a detached instance in use");
		ASSERT_TRUE(lfs_module_loaded());
		round_use_detached(_metadata, &rd);
		round_close(&rd, variant->epoll_last);
		ASSERT_EQ(0, lfs_module_unload_settled()) TH_LOG("module still in use after the last close");
		ASSERT_FALSE(lfs_module_loaded());
		ASSERT_EQ(0, lfs_module_load("")) TH_LOG("finit_module: %s", strerror(errno));
		expect_live_counters(_metadata, &zero);
		if (_metadata->exit_code)
			break;
	}
	TH_LOG("%d unload/load rounds of %ld files in %.1f s", n, nfiles,
	       (now_ms() - start) / 1000.0);
}

int main(int argc, char **argv)
{
	read_params();
	if (rounds < 1 || nfiles < 1 || nfiles > MAX_FILES) {
		fprintf(stderr, "MOUNT_ROUNDS must be at least 1 and MOUNT_FILES 1..%d\n",
			MAX_FILES);
		return KSFT_FAIL;
	}
	lfs_require_fs(argc, argv);
	return test_harness_run(argc, argv);
}
