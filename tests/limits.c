// SPDX-License-Identifier: GPL-2.0
/*
 * Limits: max_files (files and directories, root excluded: ENOSPC beyond, freed by a last
 * close or rmdir, raised by remount), max_file_size (a write crossing it writes what fits,
 * the next fails EFBIG; truncation past it fails), size (whole pages per file: a write
 * crossing it writes the pages that fit, ENOSPC when none does; freed by truncation and last
 * close, raised by remount), and statfs/bytes_in_use accounting.
 */
#include "common.h"

LFS_FIXTURE_EMPTY(fs);

static long long free_blocks(const char *dir)
{
	struct statfs sf;

	return statfs(dir, &sf) ? -1 : (long long)sf.f_bfree;
}

static long long free_inodes(const char *dir)
{
	struct statfs sf;

	return statfs(dir, &sf) ? -1 : (long long)sf.f_ffree;
}

TEST_F_TIMEOUT(fs, max_files_counts_files_and_directories, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "max_files=4");
	char p[LFS_PATH_MAX];
	int f1, f2, f3;

	ASSERT_EQ(0, mkdir(path_join(p, d, "a"), 0755));
	ASSERT_EQ(0, mkdir(path_join(p, d, "a/b"), 0755));
	f1 = create_file(d, "f1", NULL);
	f2 = create_file(p, "f2", NULL);
	ASSERT_GE(f1, 0);
	ASSERT_GE(f2, 0);
	EXPECT_EQ(0, free_inodes(d));
	EXPECT_EQ(-1, create_file(d, "f3", NULL));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(-1, mkdir(path_join(p, d, "c"), 0755));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_FALSE(path_exists(p));

	close(f1); /* the last close frees its inode */
	EXPECT_EQ(1, free_inodes(d));
	f3 = create_file(d, "f3", NULL);
	EXPECT_GE(f3, 0);
	EXPECT_EQ(-1, mkdir(path_join(p, d, "c"), 0755));
	EXPECT_EQ(ENOSPC, errno);
	close(f2);
	ASSERT_EQ(0, rmdir(path_join(p, d, "a/b"))); /* in use: a, f3 */
	EXPECT_EQ(0, mkdir(path_join(p, d, "c"), 0755));
	EXPECT_EQ(0, mkdir(path_join(p, d, "e"), 0755));
	EXPECT_EQ(-1, create_file(d, "g", NULL));
	EXPECT_EQ(ENOSPC, errno);
	close(f3);
}

TEST_F_TIMEOUT(fs, max_files_raised_by_remount, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "max_files=1");
	int f1, f2;

	f1 = create_file(d, "f1", NULL);
	ASSERT_GE(f1, 0);
	EXPECT_EQ(-1, create_file(d, "f2", NULL));
	EXPECT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, lfs_remount(d, "max_files=2"));
	f2 = create_file(d, "f2", NULL);
	EXPECT_GE(f2, 0);
	close(f1);
	close(f2);
}

TEST_F_TIMEOUT(fs, max_file_size_short_write_then_efbig, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "max_file_size=8k");
	char buf[10000];
	struct stat st;
	int fd;

	memset(buf, 'b', sizeof(buf));
	fd = create_file(d, "f", NULL);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(8192, write(fd, buf, sizeof(buf))) TH_LOG("writes what fits");
	EXPECT_EQ(-1, write(fd, buf, 1));
	EXPECT_EQ(EFBIG, errno);
	EXPECT_EQ(-1, pwrite(fd, buf, 1, 8192));
	EXPECT_EQ(EFBIG, errno);
	EXPECT_EQ(1, pwrite(fd, "z", 1, 8191)) TH_LOG("below the limit still works");
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(8192, st.st_size);
	close(fd);
}

TEST_F_TIMEOUT(fs, max_file_size_bounds_truncate, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "max_file_size=8k");
	int fd = create_file(d, "f", NULL);

	ASSERT_GE(fd, 0);
	EXPECT_EQ(0, ftruncate(fd, 8192));
	EXPECT_EQ(-1, ftruncate(fd, 8193));
	EXPECT_EQ(EFBIG, errno);
	close(fd);
}

TEST_F_TIMEOUT(fs, max_file_size_per_file, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "max_file_size=1m");
	size_t big = (1 << 20) + 4096;
	char *buf = calloc(1, big);
	int a, b;

	ASSERT_NE(NULL, buf);
	a = create_file(d, "a", NULL);
	b = create_file(d, "b", NULL);
	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);
	EXPECT_EQ(1 << 20, write(a, buf, big));
	EXPECT_EQ(1 << 20, write(b, buf, big)) TH_LOG("the limit is per file, not shared");
	EXPECT_EQ(-1, write(b, buf, 1));
	EXPECT_EQ(EFBIG, errno);
	close(a);
	close(b);
	free(buf);
}

TEST_F_TIMEOUT(fs, size_is_accounted_in_whole_pages, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "size=64k");
	struct lfs_counters c0, c;
	char name[16];
	int fds[17], i;

	ASSERT_EQ(0, lfs_counters_read(&c0));
	EXPECT_EQ(16, free_blocks(d));
	for (i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		fds[i] = create_file(d, name, NULL);
		ASSERT_GE(fds[i], 0);
		ASSERT_EQ(1, write(fds[i], "x", 1)) TH_LOG("file %d", i);
	}
	EXPECT_EQ(0, free_blocks(d)) TH_LOG("16 one-byte files use 16 pages");
	ASSERT_EQ(0, lfs_counters_read(&c));
	EXPECT_EQ(c0.bytes_in_use + 16 * LFS_PAGE, c.bytes_in_use);
	fds[16] = create_file(d, "f16", NULL);
	ASSERT_GE(fds[16], 0) TH_LOG("an empty file uses no page");
	EXPECT_EQ(-1, write(fds[16], "x", 1));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(1, pwrite(fds[0], "y", 1, LFS_PAGE - 1)) TH_LOG("within f0's page: no new page");
	close(fds[0]);
	EXPECT_EQ(1, free_blocks(d));
	EXPECT_EQ(1, write(fds[16], "x", 1)) TH_LOG("a last close frees the page");
	for (i = 1; i < 17; i++)
		close(fds[i]);
	EXPECT_EQ(16, free_blocks(d));
	expect_live_counters(_metadata, &c0);
}

/* Without max_file_size, a file may grow to the mount's size, no further: see EPOLLOUT. */
TEST_F_TIMEOUT(fs, max_file_size_defaults_to_size, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "size=16k");
	const char *e = lfs_mount_slot(_metadata, self->mnt, "size=16k,max_file_size=1m");
	struct pollfd p[2];
	char buf[16384];
	int i;

	memset(buf, 'd', sizeof(buf));
	p[0] = (struct pollfd){ .fd = create_file(d, "f", NULL), .events = POLLOUT };
	p[1] = (struct pollfd){ .fd = create_file(e, "f", NULL), .events = POLLOUT };
	for (i = 0; i < 2; i++) {
		ASSERT_GE(p[i].fd, 0);
		ASSERT_EQ(16383, write(p[i].fd, buf, 16383));
	}
	EXPECT_EQ(2, poll(p, 2, 0));
	EXPECT_EQ(POLLOUT, p[0].revents);
	EXPECT_EQ(POLLOUT, p[1].revents);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(1, write(p[i].fd, buf, 1));
	EXPECT_EQ(1, poll(p, 2, 0));
	EXPECT_EQ(0, p[0].revents) TH_LOG("16 KiB is the default max_file_size of a 16k mount");
	EXPECT_EQ(POLLOUT, p[1].revents) TH_LOG("below an explicit max_file_size of 1m");
	close(p[0].fd);
	close(p[1].fd);
}

TEST_F_TIMEOUT(fs, write_crossing_size_enospc, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "size=16k,max_file_size=1m");
	char buf[20000];
	struct stat st;
	ssize_t n;
	int fd, fd2;

	memset(buf, 's', sizeof(buf));
	fd = create_file(d, "f", NULL);
	ASSERT_GE(fd, 0);
	n = write(fd, buf, sizeof(buf));
	EXPECT_EQ(16384, n) TH_LOG("a write crossing size= writes what fits (%s), as on tmpfs",
				   n < 0 ? strerror(errno) : "short");
	EXPECT_EQ(-1, write(fd, buf, sizeof(buf)));
	EXPECT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_LE(st.st_size, 16384);
	EXPECT_EQ(4 - (st.st_size + LFS_PAGE - 1) / LFS_PAGE, free_blocks(d));

	/* Fill up exactly, then nothing more fits anywhere. */
	ASSERT_EQ(0, ftruncate(fd, 0));
	ASSERT_EQ(16384, pwrite(fd, buf, 16384, 0));
	fd2 = create_file(d, "g", NULL);
	ASSERT_GE(fd2, 0);
	EXPECT_EQ(-1, write(fd2, buf, 1));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(-1, ftruncate(fd2, 1)) TH_LOG("growing by truncate needs space as well");
	EXPECT_EQ(ENOSPC, errno);

	/* Truncation frees space. */
	ASSERT_EQ(0, ftruncate(fd, 4096));
	EXPECT_EQ(3, free_blocks(d));
	EXPECT_EQ(4096, write(fd2, buf, 4096));
	close(fd);
	close(fd2);
	EXPECT_EQ(4, free_blocks(d));
}

/*
 * ENOSPC is not all or nothing: a write that does not fit writes the whole pages that do and
 * returns a short count, as tmpfs and ext4 do; only a write of which nothing fits fails.
 */
TEST_F_TIMEOUT(fs, write_at_enospc_is_short, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "size=16k,max_file_size=1m");
	char buf[8192], back[8192];
	int fd, fd2;

	memset(buf, 'e', sizeof(buf));
	fd = create_file(d, "f", NULL);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(8192, pwrite(fd, buf, 8192, 0));
	ASSERT_EQ(4096, pwrite(fd, buf, 4096, 8192));
	EXPECT_EQ(1, free_blocks(d));
	fd2 = create_file(d, "g", NULL);
	ASSERT_GE(fd2, 0);
	/* 8 KiB with 4 KiB free: 4 KiB written. */
	EXPECT_EQ(4096, write(fd2, buf, sizeof(buf)));
	EXPECT_EQ(0, free_blocks(d));
	EXPECT_EQ(-1, write(fd2, buf, 1));
	EXPECT_EQ(ENOSPC, errno);
	/* Unaligned: the rest of the file's last page still fits. */
	ASSERT_EQ(0, ftruncate(fd2, 100));
	EXPECT_EQ(4096 - 100, pwrite(fd2, buf, sizeof(buf), 100));
	EXPECT_EQ(4096, lseek(fd2, 0, SEEK_END));
	ASSERT_EQ(4096, pread(fd2, back, sizeof(back), 0));
	EXPECT_EQ(0, memcmp(back + 100, buf, 4096 - 100)) TH_LOG("the part written is there");
	close(fd);
	close(fd2);
	EXPECT_EQ(4, free_blocks(d));
}

/*
 * A write of which nothing fits, at an offset past the free space, fails with ENOSPC and
 * charges nothing: the space free before it is free after it, for statfs and for the next
 * write (found by readiness_oracle: such a write kept the free pages before its offset).
 */
TEST_F_TIMEOUT(fs, write_past_the_free_space_charges_nothing, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "size=16k,max_file_size=1m");
	long long before = lfs_counter("bytes_in_use");
	char buf[4096];
	int fd;

	memset(buf, 'p', sizeof(buf));
	fd = create_file(d, "f", NULL);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(4096, write(fd, buf, sizeof(buf)));
	EXPECT_EQ(3, free_blocks(d));
	EXPECT_EQ(-1, pwrite(fd, buf, 1, 64 * 1024));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(4096, lseek(fd, 0, SEEK_END));
	EXPECT_EQ(3, free_blocks(d)) TH_LOG("the failed write kept space it did not use");
	EXPECT_EQ(before + 4096, lfs_counter("bytes_in_use"));
	/* The three free pages are still there to be written. */
	EXPECT_EQ(4096, pwrite(fd, buf, sizeof(buf), 3 * 4096));
	EXPECT_EQ(0, free_blocks(d));
	close(fd);
	EXPECT_EQ(4, free_blocks(d));
}

TEST_F_TIMEOUT(fs, unlinked_file_keeps_its_space_until_closed, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "size=16k");
	char p[LFS_PATH_MAX], buf[8192];
	int fd;

	memset(buf, 'u', sizeof(buf));
	fd = create_file(d, "f", NULL);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(8192, write(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, unlink(path_join(p, d, "f")));
	EXPECT_EQ(2, free_blocks(d)) TH_LOG("its data still lives");
	close(fd);
	EXPECT_EQ(4, free_blocks(d));
}

TEST_F_TIMEOUT(fs, size_raised_by_remount, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "size=8k,max_file_size=1m");
	char buf[8192];
	struct statfs sf;
	int fd;

	memset(buf, 'r', sizeof(buf));
	fd = create_file(d, "f", NULL);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(8192, write(fd, buf, sizeof(buf)));
	EXPECT_EQ(-1, write(fd, buf, 1));
	EXPECT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, lfs_remount(d, "size=16k"));
	ASSERT_EQ(0, statfs(d, &sf));
	EXPECT_EQ(4, (long)sf.f_blocks);
	EXPECT_EQ(2, (long)sf.f_bfree);
	EXPECT_EQ(8192, write(fd, buf, sizeof(buf)));
	close(fd);
}

TEST_F_TIMEOUT(fs, statfs_reflects_usage, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "size=1m,max_files=100");
	char p[LFS_PATH_MAX], buf[5000] = { 0 };
	struct statfs sf;
	int fd;

	ASSERT_EQ(0, statfs(d, &sf));
	EXPECT_EQ(LFS_MAGIC, sf.f_type);
	EXPECT_EQ(256, (long)sf.f_blocks);
	EXPECT_EQ(256, (long)sf.f_bfree);
	EXPECT_EQ(100, (long)sf.f_files);
	EXPECT_EQ(100, (long)sf.f_ffree);
	fd = create_file(d, "f", NULL);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(5000, write(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, mkdir(path_join(p, d, "dir"), 0755));
	ASSERT_EQ(0, statfs(d, &sf));
	EXPECT_EQ(254, (long)sf.f_bfree) TH_LOG("5000 bytes use 2 pages");
	EXPECT_EQ(98, (long)sf.f_ffree);
	close(fd);
	ASSERT_EQ(0, rmdir(p));
	ASSERT_EQ(0, statfs(d, &sf));
	EXPECT_EQ(256, (long)sf.f_bfree);
	EXPECT_EQ(100, (long)sf.f_ffree);
}

TEST_F_TIMEOUT(fs, shared_mapping_within_limits, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "size=16k,max_file_size=8k");
	char *map;
	int fd;

	fd = create_file(d, "f", NULL);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ftruncate(fd, 8192));
	map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	memset(map, 'm', 8192);
	EXPECT_EQ(0, msync(map, 8192, MS_SYNC));
	EXPECT_EQ(2, free_blocks(d));
	munmap(map, 8192);
	close(fd);
	EXPECT_EQ(4, free_blocks(d));
}

LFS_MAIN
