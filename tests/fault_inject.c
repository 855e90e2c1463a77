// SPDX-License-Identifier: GPL-2.0
/*
 * fault_inject: allocation failures injected into mount, create, open and write.
 *
 * Systematic fault injection (/proc/thread-self/fail-nth): writing N makes the N-th
 * fault-injection point this thread passes fail. The allocator under test is chosen by
 * letting failslab (slab allocations) or fail_page_alloc (page allocations, e.g. the page
 * cache) see sleeping allocations (ignore-gfp-wait=N) and the other one not. N walks the
 * failure through the operation, until the operation completes before reaching it.
 *
 *     test thread ── fail-nth=N ── op ── read fail-nth (0: injected) ── fail-nth=0 ── check
 *                    N = 1, 2, 3, ...   until the op ran without a failure
 *
 * Each injected failure must end the operation with ENOMEM (a write may instead be short)
 * or with success; nothing else. After each one the instance must be consistent: a failed
 * create leaves no name, a failed write loses no data already written, and the instance
 * still works. The suite's post-run checks then require the counters at 0 and kmemleak
 * clean.
 *
 * Parameters (environment): FI_MAX_STEPS allocation points at most per operation (default
 * 2000).
 */
#include "common.h"

#define FI_DIR "/sys/kernel/debug"

static long max_steps;

enum fault { FAILSLAB, FAIL_PAGE_ALLOC };

static const char *const fault_dir[] = {
	[FAILSLAB] = FI_DIR "/failslab",
	[FAIL_PAGE_ALLOC] = FI_DIR "/fail_page_alloc",
};

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

static int fault_attr(enum fault f, const char *attr, const char *val)
{
	char path[LFS_PATH_MAX];

	return write_str(path_join(path, fault_dir[f], attr), val);
}

/* Makes sleeping allocations of kind F, and only those, subject to injection. */
static int fault_select(enum fault f)
{
	const enum fault other = f == FAILSLAB ? FAIL_PAGE_ALLOC : FAILSLAB;
	int err = 0;

	err |= fault_attr(f, "verbose", "0");
	err |= fault_attr(other, "verbose", "0");
	err |= fault_attr(f, "ignore-gfp-wait", "N");
	err |= fault_attr(other, "ignore-gfp-wait", "Y");
	err |= fault_attr(FAIL_PAGE_ALLOC, "ignore-gfp-highmem", f == FAIL_PAGE_ALLOC ? "N" : "Y");
	return err ? -EIO : 0;
}

/* Restores the defaults: sleeping allocations are not injected into. */
static void fault_reset(void)
{
	fault_attr(FAILSLAB, "ignore-gfp-wait", "Y");
	fault_attr(FAIL_PAGE_ALLOC, "ignore-gfp-wait", "Y");
	fault_attr(FAIL_PAGE_ALLOC, "ignore-gfp-highmem", "Y");
}

/* Writes N to the open fail-nth file FD (0 disarms). */
static int fail_nth_set(int fd, long n)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%ld", n);

	return pwrite(fd, buf, len, 0) == len ? 0 : -errno;
}

/* Whether the failure armed on FD was injected (fail-nth reads back 0). */
static bool fail_nth_injected(int fd)
{
	char buf[32] = "";

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		return false;
	return strtol(buf, NULL, 10) == 0;
}

/* One operation under test: returns 0 or -errno; may be called many times. */
typedef int (*op_fn)(const char *mnt, void *arg);

/* Mounts a new instance on the directory ARG (made before arming), then unmounts it. */
static int op_mount(const char *mnt, void *arg)
{
	const char *dir = arg;

	(void)mnt;
	if (mount("none", dir, lfs_fstype(), 0, "size=1m,max_files=16"))
		return -errno;
	return umount(dir) ? -errno : 0;
}

static int op_create(const char *mnt, void *arg)
{
	char p[LFS_PATH_MAX];
	int fd = open(path_join(p, mnt, "created"), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);

	(void)arg;
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Opens the file held open by the test (ARG holds its fd): the open joins it. */
static int op_join(const char *mnt, void *arg)
{
	char p[LFS_PATH_MAX];
	int fd = open(path_join(p, mnt, "held"), O_RDWR | O_CLOEXEC);

	(void)arg;
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Writes 64 KiB at the end of the held file: a short write counts as success. */
static int op_write(const char *mnt, void *arg)
{
	static char buf[64 << 10];
	int fd = *(int *)arg;
	ssize_t n;

	(void)mnt;
	memset(buf, 'w', sizeof(buf));
	n = write(fd, buf, sizeof(buf));
	return n < 0 ? -errno : 0;
}

/*
 * Walks one injected failure of kind F through OP on instance MNT, checking each outcome with
 * CHECK (may be NULL). Returns the number of failures actually injected.
 */
static int walk(struct __test_metadata *_metadata, enum fault f, const char *mnt, op_fn op,
		void *arg, void (*check)(struct __test_metadata *, const char *, int, void *))
{
	int fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	int injected = 0;
	long n;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fault_select(f));
	for (n = 1; n <= max_steps; n++) {
		bool hit;
		int ret;

		ASSERT_EQ(0, fail_nth_set(fd, n));
		ret = op(mnt, arg);
		hit = fail_nth_injected(fd);
		fail_nth_set(fd, 0);
		if (!hit) {
			/* The operation ended before its N-th allocation: all points were tried. */
			EXPECT_EQ(0, ret) TH_LOG("uninjected run failed: %s", strerror(-ret));
			break;
		}
		injected++;
		EXPECT_TRUE(ret == 0 || ret == -ENOMEM)
			TH_LOG("with allocation %ld failed: %s, want ENOMEM or success", n,
			       strerror(-ret));
		if (check)
			check(_metadata, mnt, ret, arg);
	}
	EXPECT_LE(n, max_steps) TH_LOG("still failing after %ld allocations", max_steps);
	fault_reset();
	close(fd);
	return injected;
}

/* A mount whose umount failed under injection is unmounted now, with nothing injected. */
static void check_unmounted(struct __test_metadata *_metadata, const char *mnt, int ret,
			    void *arg)
{
	const char *dir = arg;

	(void)mnt;
	(void)ret;
	if (is_mountpoint(dir))
		EXPECT_EQ(0, umount(dir)) TH_LOG("umount after an injected failure: %m");
}

static void check_created(struct __test_metadata *_metadata, const char *mnt, int ret,
			  void *arg)
{
	(void)arg;
	(void)ret;
	/* Whether or not the create succeeded, its file was closed: nothing may be left. */
	EXPECT_EQ(0, count_entries(mnt)) TH_LOG("a failed or closed create left a file");
}

static void check_written(struct __test_metadata *_metadata, const char *mnt, int ret,
			  void *arg)
{
	static off_t last;
	int fd = *(int *)arg;
	off_t size = lseek(fd, 0, SEEK_END);

	(void)mnt;
	(void)ret;
	/* Data written before is never lost; the size only grows, in whole writes or parts. */
	EXPECT_GE(size, last);
	last = size;
}

FIXTURE(fi)
{
	char mnt[LFS_PATH_MAX];
};

FIXTURE_SETUP(fi)
{
	if (access(fault_dir[FAILSLAB], F_OK) || access(fault_dir[FAIL_PAGE_ALLOC], F_OK))
		SKIP(return, "kernel without FAILSLAB/FAIL_PAGE_ALLOC debugfs");
	lfs_fixture_setup(_metadata, self->mnt, "size=16m");
}

FIXTURE_TEARDOWN(fi)
{
	fault_reset();
	if (self->mnt[0])
		lfs_fixture_teardown(_metadata, self->mnt);
}

/* After the failures, the instance still does its job. */
static void expect_instance_works(struct __test_metadata *_metadata, const char *mnt)
{
	char p[LFS_PATH_MAX], buf[8] = "";
	int fd = open(path_join(p, mnt, "after"), O_CREAT | O_RDWR | O_CLOEXEC, 0600);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(5, pwrite(fd, "works", 5, 0));
	ASSERT_EQ(5, pread(fd, buf, 5, 0));
	EXPECT_STREQ("works", buf);
	close(fd);
	EXPECT_FALSE(path_exists(p));
}

TEST_F(fi, mount_slab)
{
	char dir[LFS_PATH_MAX];

	path_join(dir, self->mnt, "mnt");
	ASSERT_EQ(0, mkdir(dir, 0700));
	EXPECT_GT(walk(_metadata, FAILSLAB, self->mnt, op_mount, dir, check_unmounted), 0);
	EXPECT_FALSE(is_mountpoint(dir));
	ASSERT_EQ(0, rmdir(dir));
	expect_instance_works(_metadata, self->mnt);
}

TEST_F(fi, create_slab)
{
	EXPECT_GT(walk(_metadata, FAILSLAB, self->mnt, op_create, NULL, check_created), 0);
	expect_instance_works(_metadata, self->mnt);
}

TEST_F(fi, join_slab)
{
	char p[LFS_PATH_MAX];
	int held = open(path_join(p, self->mnt, "held"), O_CREAT | O_RDWR | O_CLOEXEC, 0600);

	ASSERT_GE(held, 0);
	EXPECT_GT(walk(_metadata, FAILSLAB, self->mnt, op_join, NULL, NULL), 0);
	EXPECT_TRUE(path_exists(p)) TH_LOG("a failed open removed a file that is still open");
	close(held);
	EXPECT_FALSE(path_exists(p));
	expect_instance_works(_metadata, self->mnt);
}

TEST_F(fi, write_pages)
{
	char p[LFS_PATH_MAX];
	int held = open(path_join(p, self->mnt, "held"), O_CREAT | O_RDWR | O_CLOEXEC, 0600);

	ASSERT_GE(held, 0);
	EXPECT_GT(walk(_metadata, FAIL_PAGE_ALLOC, self->mnt, op_write, &held, check_written),
		  0);
	close(held);
	expect_instance_works(_metadata, self->mnt);
}

TEST_F(fi, write_slab)
{
	char p[LFS_PATH_MAX];
	int held = open(path_join(p, self->mnt, "held"), O_CREAT | O_RDWR | O_CLOEXEC, 0600);

	ASSERT_GE(held, 0);
	walk(_metadata, FAILSLAB, self->mnt, op_write, &held, check_written);
	close(held);
	expect_instance_works(_metadata, self->mnt);
}

int main(int argc, char **argv)
{
	max_steps = env_long("FI_MAX_STEPS", 2000);
	harness_min_timeout(env_long("LOCUSTFS_TEST_TIMEOUT", 0));
	return test_harness_run(argc, argv);
}
