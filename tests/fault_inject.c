// SPDX-License-Identifier: GPL-2.0
/*
 * fault_inject: allocation failures injected into mount, create, open and write.
 *
 * Systematic fault injection (/proc/thread-self/fail-nth): writing N makes the N-th
 * fault-injection point this thread passes fail. The allocator under test is chosen by
 * letting failslab (slab allocations) or fail_page_alloc (page allocations of any order, e.g.
 * the page cache) see sleeping allocations (ignore-gfp-wait=N) and the other one not. N walks
 * the failure through the operation, until the operation completes before reaching it.
 *
 *     test thread ── fail-nth=N ── op ── read fail-nth (0: injected) ── fail-nth=0 ── check
 *                    N = 1, 2, 3, ...   until the op ran without a failure
 *
 * That a failure was injected is not taken on trust: each kind's debugfs "times" counter is
 * set high and read around every step, and an injection must show as exactly one decrement
 * of one of them; a test case must see at least one injection into the allocator it is
 * about (a case that never reaches an injection point tests nothing and fails).
 *
 * Each injected failure must end the operation with ENOMEM (a write may instead be short)
 * or with success; nothing else. After each one the instance must be consistent: a failed
 * create leaves no name and no live file, a failed open of a held file neither removes it
 * nor leaks a reference, a failed write loses no data already written and charges exactly
 * the pages the file now has, a failed mount leaves nothing mounted; the live counters
 * (live_files, live_queues, bytes_in_use) agree after every step, and the instance still
 * works at the end. The suite's post-run checks then require the counters at 0 and
 * kmemleak clean.
 *
 * Parameters (environment): FI_MAX_STEPS allocation points at most per operation (default
 * 2000).
 */
#include "common.h"

#define FI_DIR "/sys/kernel/debug"

static long max_steps;

/* The value "times" is set to: an injection through fail-nth decrements it by one. */
#define TIMES_BASE 1000000

enum fault { FAILSLAB, FAIL_PAGE_ALLOC, NFAULTS };

static const char *const fault_dir[] = {
	[FAILSLAB] = FI_DIR "/failslab",
	[FAIL_PAGE_ALLOC] = FI_DIR "/fail_page_alloc",
};

static const char *const fault_name[] = {
	[FAILSLAB] = "failslab",
	[FAIL_PAGE_ALLOC] = "fail_page_alloc",
};

static int fault_attr(enum fault f, const char *attr, const char *val)
{
	char path[LFS_PATH_MAX];

	return write_text(path_join(path, fault_dir[f], attr), val);
}

/* The "times" counter of kind F, or -1 when unreadable. */
static long fault_times(enum fault f)
{
	char path[LFS_PATH_MAX], buf[32] = "";
	ssize_t n;
	int fd;

	fd = open(path_join(path, fault_dir[f], "times"), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

/*
 * Makes sleeping allocations of kind F, and only those, subject to injection (page
 * allocations of every order, order 0 too, for FAIL_PAGE_ALLOC), without log noise, and
 * sets both "times" counters to TIMES_BASE.
 */
static int fault_select(enum fault f)
{
	const enum fault other = f == FAILSLAB ? FAIL_PAGE_ALLOC : FAILSLAB;
	char base[16];
	int err = 0;

	snprintf(base, sizeof(base), "%d", TIMES_BASE);
	err |= fault_attr(f, "verbose", "0");
	err |= fault_attr(other, "verbose", "0");
	err |= fault_attr(f, "ignore-gfp-wait", "N");
	err |= fault_attr(other, "ignore-gfp-wait", "Y");
	err |= fault_attr(FAIL_PAGE_ALLOC, "ignore-gfp-highmem", f == FAIL_PAGE_ALLOC ? "N" : "Y");
	err |= fault_attr(FAIL_PAGE_ALLOC, "min-order", f == FAIL_PAGE_ALLOC ? "0" : "1");
	err |= fault_attr(f, "times", base);
	err |= fault_attr(other, "times", base);
	return err ? -EIO : 0;
}

/* Restores the defaults: sleeping allocations are not injected into, times 1, min-order 1. */
static void fault_reset(void)
{
	fault_attr(FAILSLAB, "ignore-gfp-wait", "Y");
	fault_attr(FAIL_PAGE_ALLOC, "ignore-gfp-wait", "Y");
	fault_attr(FAIL_PAGE_ALLOC, "ignore-gfp-highmem", "Y");
	fault_attr(FAIL_PAGE_ALLOC, "min-order", "1");
	fault_attr(FAILSLAB, "times", "1");
	fault_attr(FAIL_PAGE_ALLOC, "times", "1");
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

/* The held file of the write cases, and what their checks compare with. */
struct write_state {
	int fd;
	off_t last;		     /* the file's size after the previous step */
	const struct lfs_counters *base; /* before the file had any data */
	char pattern;		     /* the byte every write writes */
};

/* Writes 64 KiB at the end of the held file: a short write counts as success. */
static int op_write(const char *mnt, void *arg)
{
	static char buf[64 << 10];
	struct write_state *ws = arg;
	ssize_t n;

	(void)mnt;
	memset(buf, ws->pattern, sizeof(buf));
	n = write(ws->fd, buf, sizeof(buf));
	return n < 0 ? -errno : 0;
}

/* What a walk saw: the steps that injected a failure, and the injections per kind. */
struct walk_result {
	int injected;		 /* steps whose fail-nth point was reached */
	long by_kind[NFAULTS];	 /* decrements of each kind's "times" */
	int failed;		 /* steps whose operation failed (ENOMEM) */
};

/*
 * Walks one injected failure of kind F through OP on instance MNT, checking each outcome with
 * CHECK (may be NULL) and that the live counters are back to BASE (when given) after each
 * step. Returns what it saw; at least one injection into F is expected by the callers.
 */
static struct walk_result walk(struct __test_metadata *_metadata, enum fault f, const char *mnt,
			       op_fn op, void *arg,
			       void (*check)(struct __test_metadata *, const char *, int, void *),
			       const struct lfs_counters *base)
{
	int fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	struct walk_result res = { 0 };
	long n, before[NFAULTS], after[NFAULTS];
	int k;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fault_select(f));
	for (n = 1; n <= max_steps; n++) {
		bool hit;
		int ret;

		for (k = 0; k < NFAULTS; k++)
			before[k] = fault_times(k);
		ASSERT_EQ(0, fail_nth_set(fd, n));
		ret = op(mnt, arg);
		hit = fail_nth_injected(fd);
		fail_nth_set(fd, 0);
		for (k = 0; k < NFAULTS; k++)
			after[k] = fault_times(k);
		if (!hit) {
			/* The operation ended before its N-th allocation: all points were tried. */
			EXPECT_EQ(0, ret) TH_LOG("uninjected run failed: %s", strerror(-ret));
			EXPECT_TRUE(before[FAILSLAB] == after[FAILSLAB] &&
				    before[FAIL_PAGE_ALLOC] == after[FAIL_PAGE_ALLOC])
				TH_LOG("a failure was injected although fail-nth was not reached");
			break;
		}
		res.injected++;
		for (k = 0; k < NFAULTS; k++)
			res.by_kind[k] += before[k] - after[k];
		EXPECT_EQ(1, (before[FAILSLAB] - after[FAILSLAB]) +
				     (before[FAIL_PAGE_ALLOC] - after[FAIL_PAGE_ALLOC]))
			TH_LOG("step %ld: fail-nth reached, but the kernel's injection counters "
			       "moved by %ld (failslab) and %ld (fail_page_alloc)",
			       n, before[FAILSLAB] - after[FAILSLAB],
			       before[FAIL_PAGE_ALLOC] - after[FAIL_PAGE_ALLOC]);
		if (ret)
			res.failed++;
		EXPECT_TRUE(ret == 0 || ret == -ENOMEM)
			TH_LOG("with allocation %ld failed: %s, want ENOMEM or success", n,
			       strerror(-ret));
		if (check)
			check(_metadata, mnt, ret, arg);
		if (base)
			expect_live_counters(_metadata, base);
		if (_metadata->exit_code)
			break;
	}
	EXPECT_LE(n, max_steps) TH_LOG("still failing after %ld allocations", max_steps);
	fault_reset();
	close(fd);
	TH_LOG("%s walk: %d injected failures (%ld failslab, %ld fail_page_alloc), %d of them "
	       "failed the operation", fault_name[f], res.injected, res.by_kind[FAILSLAB],
	       res.by_kind[FAIL_PAGE_ALLOC], res.failed);
	return res;
}

/* The walk injected at least one failure into the allocator F it was about. */
#define EXPECT_INJECTED(res, f)								\
	do {										\
		EXPECT_GT((res).by_kind[f], 0)						\
			TH_LOG("no failure was injected into %s: the case tested nothing",	\
			       fault_name[f]);						\
	} while (0)

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

/* The held file is still there, and is the only entry. */
static void check_joined(struct __test_metadata *_metadata, const char *mnt, int ret,
			 void *arg)
{
	char p[LFS_PATH_MAX];

	(void)arg;
	(void)ret;
	EXPECT_TRUE(path_exists(path_join(p, mnt, "held")))
		TH_LOG("a failed open removed a file that is still open");
	EXPECT_EQ(1, count_entries(mnt));
}

static void check_written(struct __test_metadata *_metadata, const char *mnt, int ret,
			  void *arg)
{
	struct write_state *ws = arg;
	off_t size = lseek(ws->fd, 0, SEEK_END);
	long long want = ws->base->bytes_in_use + (size + LFS_PAGE - 1) / LFS_PAGE * LFS_PAGE;
	static char buf[64 << 10];
	ssize_t n;
	off_t pos;
	int i;

	(void)mnt;
	(void)ret;
	/* Data written before is never lost; the size only grows, in whole writes or parts. */
	EXPECT_GE(size, ws->last);
	ws->last = size;
	/* Every byte up to the size is one that was written: no hole, no garbage. */
	for (pos = 0; pos < size; pos += n) {
		n = pread(ws->fd, buf, sizeof(buf), pos);
		ASSERT_GT(n, 0) TH_LOG("read back at %lld: %s", (long long)pos, strerror(errno));
		for (i = 0; i < n; i++)
			ASSERT_EQ(ws->pattern, buf[i]) TH_LOG("byte %lld", (long long)pos + i);
	}
	/* A failed write charges no page the file does not have. */
	EXPECT_EQ(want, lfs_counter("bytes_in_use"))
		TH_LOG("size %lld: bytes_in_use should cover exactly its pages", (long long)size);
}

FIXTURE(fi)
{
	char mnt[LFS_PATH_MAX];
	struct lfs_counters base; /* with the instance mounted and empty */
};

/* Whether this kernel injects faults the way the cases need. */
static bool fault_injection_available(void)
{
	return !access(fault_dir[FAILSLAB], F_OK) && !access(fault_dir[FAIL_PAGE_ALLOC], F_OK) &&
	       !access("/proc/thread-self/fail-nth", F_OK);
}

FIXTURE_SETUP(fi)
{
	if (!fault_injection_available())
		SKIP(return, "kernel without FAILSLAB/FAIL_PAGE_ALLOC debugfs or fail-nth");
	lfs_fixture_setup(_metadata, self->mnt, "size=16m");
	ASSERT_EQ(0, lfs_counters_read(&self->base)) TH_LOG("counters unreadable");
}

FIXTURE_TEARDOWN(fi)
{
	fault_reset();
	if (self->mnt[0])
		lfs_fixture_teardown(_metadata, self->mnt);
}

/* After the failures, the instance still does its job, and the counters are back. */
static void expect_instance_works(struct __test_metadata *_metadata, const char *mnt,
				  const struct lfs_counters *base)
{
	char p[LFS_PATH_MAX], buf[8] = "";
	int fd = open(path_join(p, mnt, "after"), O_CREAT | O_RDWR | O_CLOEXEC, 0600);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(5, pwrite(fd, "works", 5, 0));
	ASSERT_EQ(5, pread(fd, buf, 5, 0));
	EXPECT_STREQ("works", buf);
	close(fd);
	EXPECT_FALSE(path_exists(p));
	EXPECT_EQ(0, count_entries(mnt));
	expect_live_counters(_metadata, base);
}

TEST_F_TIMEOUT(fi, mount_slab, LFS_TIMEOUT)
{
	char dir[LFS_PATH_MAX];
	struct walk_result res;

	path_join(dir, self->mnt, "mnt");
	ASSERT_EQ(0, mkdir(dir, 0700));
	res = walk(_metadata, FAILSLAB, self->mnt, op_mount, dir, check_unmounted, &self->base);
	EXPECT_INJECTED(res, FAILSLAB);
	EXPECT_GT(res.failed, 0) TH_LOG("no injected failure made a mount fail");
	EXPECT_FALSE(is_mountpoint(dir));
	ASSERT_EQ(0, rmdir(dir));
	expect_instance_works(_metadata, self->mnt, &self->base);
}

TEST_F_TIMEOUT(fi, create_slab, LFS_TIMEOUT)
{
	struct walk_result res;

	res = walk(_metadata, FAILSLAB, self->mnt, op_create, NULL, check_created, &self->base);
	EXPECT_INJECTED(res, FAILSLAB);
	EXPECT_GT(res.failed, 0) TH_LOG("no injected failure made a create fail");
	expect_instance_works(_metadata, self->mnt, &self->base);
}

TEST_F_TIMEOUT(fi, join_slab, LFS_TIMEOUT)
{
	char p[LFS_PATH_MAX];
	struct lfs_counters held_base;
	struct walk_result res;
	int held = open(path_join(p, self->mnt, "held"), O_CREAT | O_RDWR | O_CLOEXEC, 0600);

	ASSERT_GE(held, 0);
	ASSERT_EQ(0, lfs_counters_read(&held_base));
	res = walk(_metadata, FAILSLAB, self->mnt, op_join, NULL, check_joined, &held_base);
	EXPECT_INJECTED(res, FAILSLAB);
	EXPECT_GT(res.failed, 0) TH_LOG("no injected failure made an open fail");
	close(held);
	EXPECT_FALSE(path_exists(p));
	expect_instance_works(_metadata, self->mnt, &self->base);
}

/* Writes to a held file while failures of kind F are injected; F must be reached. */
static void write_walk(struct __test_metadata *_metadata, const char *mnt,
		       const struct lfs_counters *base, enum fault f)
{
	char p[LFS_PATH_MAX];
	struct walk_result res;
	struct write_state ws = { .base = base, .pattern = 'w' };

	ws.fd = open(path_join(p, mnt, "held"), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	ASSERT_GE(ws.fd, 0);
	res = walk(_metadata, f, mnt, op_write, &ws, check_written, NULL);
	EXPECT_INJECTED(res, f);
	close(ws.fd);
	EXPECT_FALSE(path_exists(p));
	expect_instance_works(_metadata, mnt, base);
}

TEST_F_TIMEOUT(fi, write_pages, LFS_TIMEOUT)
{
	write_walk(_metadata, self->mnt, &self->base, FAIL_PAGE_ALLOC);
}

TEST_F_TIMEOUT(fi, write_slab, LFS_TIMEOUT)
{
	write_walk(_metadata, self->mnt, &self->base, FAILSLAB);
}

int main(int argc, char **argv)
{
	max_steps = env_long("FI_MAX_STEPS", 2000);
	lfs_require_fs(argc, argv);
	if (argc == 1 && !fault_injection_available()) {
		ksft_print_header();
		ksft_exit_skip("no fault injection (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, "
			       "CONFIG_FAULT_INJECTION_DEBUG_FS, debugfs mounted)\n");
	}
	return test_harness_run(argc, argv);
}
