// SPDX-License-Identifier: GPL-2.0
/*
 * File lifecycle: a file lives while an open file description refers to it. The last
 * release (close of the last dup, exit, SIGKILL, a dropped SCM_RIGHTS fd, munmap of the
 * last mapping) removes it from its directory (inotify IN_DELETE) and frees it before
 * close()/waitpid()/munmap() returns. open() of a live file joins it; unlink removes the
 * name at once while the data lives on; O_PATH fds, stat() and epoll registrations do not
 * keep a file alive; a rename or a replacement is followed by the removal; opens racing
 * with a last close join or miss the file (ENOENT), never get ESTALE or a dead file; a
 * reopen through /proc/self/fd of an O_PATH fd whose file is gone fails with ENOENT.
 */
#include "common.h"

LFS_FIXTURE(fs, NULL);

static ino_t ino_of_fd(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

static ino_t ino_of_path(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;
}

TEST_F_TIMEOUT(fs, last_close_removes_and_notifies, LFS_TIMEOUT)
{
	const char *d = self->mnt[0];
	struct inotify_tally t = { 0 };
	char p[LFS_PATH_MAX];
	int ifd, fd;

	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_GE(ifd, 0);
	ASSERT_GE(inotify_add_watch(ifd, d, IN_CREATE | IN_DELETE), 0);
	fd = create_file(d, "f", p);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(5, write(fd, "hello", 5));
	EXPECT_TRUE(path_exists(p));
	ASSERT_EQ(0, close(fd));
	EXPECT_FALSE(path_exists(p)) TH_LOG("gone by the time close() returns");
	EXPECT_EQ(0, count_entries(d));
	ASSERT_EQ(0, inotify_drain(ifd, "f", &t));
	EXPECT_EQ(1, t.created);
	EXPECT_EQ(1, t.deleted);
	EXPECT_TRUE(t.name_deleted) TH_LOG("IN_DELETE for the file's name");
	close(ifd);
}

TEST_F_TIMEOUT(fs, counters_follow_a_file, LFS_TIMEOUT)
{
	struct lfs_counters c0, c;
	char p[LFS_PATH_MAX], buf[LFS_PAGE + 1];
	int fd;

	ASSERT_EQ(0, lfs_counters_read(&c0));
	fd = create_file(self->mnt[0], "f", p);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, lfs_counters_read(&c));
	EXPECT_EQ(c0.live_files + 1, c.live_files);
	EXPECT_EQ(c0.files_created + 1, c.files_created);
	EXPECT_EQ(c0.bytes_in_use, c.bytes_in_use) TH_LOG("an empty file uses no page");

	memset(buf, 'x', sizeof(buf));
	ASSERT_EQ(1, write(fd, buf, 1));
	ASSERT_EQ(0, lfs_counters_read(&c));
	EXPECT_EQ(c0.bytes_in_use + LFS_PAGE, c.bytes_in_use) TH_LOG("1 byte uses a page");
	ASSERT_EQ(LFS_PAGE, write(fd, buf, LFS_PAGE));
	ASSERT_EQ(0, lfs_counters_read(&c));
	EXPECT_EQ(c0.bytes_in_use + 2 * LFS_PAGE, c.bytes_in_use) TH_LOG("4097 bytes: 2 pages");
	ASSERT_EQ(0, ftruncate(fd, 0));
	ASSERT_EQ(0, lfs_counters_read(&c));
	EXPECT_EQ(c0.bytes_in_use, c.bytes_in_use) TH_LOG("truncated to 0: no page");
	ASSERT_EQ(1, write(fd, buf, 1));

	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, lfs_counters_read(&c));
	EXPECT_EQ(c0.live_files, c.live_files);
	EXPECT_EQ(c0.live_queues, c.live_queues);
	EXPECT_EQ(c0.bytes_in_use, c.bytes_in_use);
	EXPECT_EQ(c0.files_created + 1, c.files_created);
	EXPECT_EQ(c0.files_auto_deleted + 1, c.files_auto_deleted);
}

TEST_F_TIMEOUT(fs, dups_keep_the_file_until_the_last_close, LFS_TIMEOUT)
{
	char p[LFS_PATH_MAX];
	int fd, fd2, fd3;

	fd = create_file(self->mnt[0], "f", p);
	ASSERT_GE(fd, 0);
	fd2 = dup(fd);
	fd3 = fcntl(fd, F_DUPFD_CLOEXEC, 100);
	ASSERT_GE(fd2, 0);
	ASSERT_GE(fd3, 100);
	ASSERT_EQ(0, close(fd));
	EXPECT_TRUE(path_exists(p));
	ASSERT_EQ(0, close(fd3));
	EXPECT_TRUE(path_exists(p));
	ASSERT_EQ(0, close(fd2));
	EXPECT_FALSE(path_exists(p));
}

TEST_F_TIMEOUT(fs, dup2_over_the_last_fd_removes, LFS_TIMEOUT)
{
	char a[LFS_PATH_MAX], b[LFS_PATH_MAX];
	int fa, fb;

	fa = create_file(self->mnt[0], "a", a);
	fb = create_file(self->mnt[0], "b", b);
	ASSERT_GE(fa, 0);
	ASSERT_GE(fb, 0);
	ASSERT_EQ(fa, dup2(fb, fa));
	EXPECT_FALSE(path_exists(a)) TH_LOG("dup2() closed a's last fd");
	EXPECT_TRUE(path_exists(b));
	close(fa);
	EXPECT_TRUE(path_exists(b));
	close(fb);
	EXPECT_FALSE(path_exists(b));
}

TEST_F_TIMEOUT(fs, forked_child_keeps_the_shared_description, LFS_TIMEOUT)
{
	char p[LFS_PATH_MAX], buf[8] = { 0 };
	int fd, go[2], st;
	pid_t pid;

	fd = create_file(self->mnt[0], "f", p);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, pipe(go));
	pid = fork_tied();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(go[1]);
		if (recv_byte(go[0], WAKE_TIMEOUT_MS) < 0 || write(fd, "child", 5) != 5)
			_exit(1);
		_exit(0);
	}
	close(go[0]);
	ASSERT_EQ(0, close(fd));
	EXPECT_TRUE(path_exists(p)) TH_LOG("the child still has the file open");
	fd = open(p, O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, send_byte(go[1], 'g'));
	st = wait_child(pid, WAKE_TIMEOUT_MS);
	EXPECT_TRUE(exited_ok(st));
	EXPECT_EQ(5, pread(fd, buf, sizeof(buf), 0));
	EXPECT_STREQ("child", buf);
	close(fd);
	EXPECT_FALSE(path_exists(p));
	close(go[1]);
}

/* A child creates a file and ends without closing it: by exit or by SIGKILL. */
static void child_holds_file(struct __test_metadata *_metadata, const char *dir, bool killed)
{
	char p[LFS_PATH_MAX];
	int ready[2], hold[2], st;
	pid_t pid;

	path_join(p, dir, "held");
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(hold));
	pid = fork_tied();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int fd = open(p, O_CREAT | O_RDWR, 0644);

		close(ready[0]);
		close(hold[1]);
		if (fd < 0 || write(fd, "x", 1) != 1 || send_byte(ready[1], 'r'))
			_exit(1);
		recv_byte(hold[0], killed ? -1 : WAKE_TIMEOUT_MS);
		_exit(0); /* without closing fd */
	}
	close(ready[1]);
	close(hold[0]);
	ASSERT_EQ('r', recv_byte(ready[0], WAKE_TIMEOUT_MS));
	EXPECT_TRUE(path_exists(p));
	if (killed) {
		ASSERT_EQ(0, wait_task_blocked(pid, NULL, NULL, WAKE_TIMEOUT_MS));
		EXPECT_TRUE(path_exists(p));
		ASSERT_EQ(0, kill(pid, SIGKILL));
		st = wait_child(pid, WAKE_TIMEOUT_MS);
		EXPECT_TRUE(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	} else {
		ASSERT_EQ(0, send_byte(hold[1], 'x'));
		st = wait_child(pid, WAKE_TIMEOUT_MS);
		EXPECT_TRUE(exited_ok(st));
	}
	EXPECT_FALSE(path_exists(p)) TH_LOG("gone once the child is reaped");
	close(ready[0]);
	close(hold[1]);
}

TEST_F_TIMEOUT(fs, exit_without_close_removes, LFS_TIMEOUT)
{
	child_holds_file(_metadata, self->mnt[0], false);
}

TEST_F_TIMEOUT(fs, sigkill_removes, LFS_TIMEOUT)
{
	child_holds_file(_metadata, self->mnt[0], true);
}

TEST_F_TIMEOUT(fs, scm_rights_received_then_closed, LFS_TIMEOUT)
{
	char p[LFS_PATH_MAX];
	int sv[2], fd, got = -1;
	ino_t ino;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	fd = create_file(self->mnt[0], "f", p);
	ASSERT_GE(fd, 0);
	ino = ino_of_fd(fd);
	ASSERT_EQ(0, send_fds(sv[0], &fd, 1));
	ASSERT_EQ(0, close(fd));
	EXPECT_TRUE(path_exists(p)) TH_LOG("the fd in flight keeps the file");
	ASSERT_EQ(1, recv_fds(sv[1], &got, 1));
	EXPECT_EQ(ino, ino_of_fd(got));
	EXPECT_TRUE(path_exists(p));
	ASSERT_EQ(0, close(got));
	EXPECT_FALSE(path_exists(p));
	close(sv[0]);
	close(sv[1]);
}

TEST_F_TIMEOUT(fs, scm_rights_dropped_in_flight, LFS_TIMEOUT)
{
	char p[LFS_PATH_MAX];
	int sv[2], fd;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	fd = create_file(self->mnt[0], "f", p);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, send_fds(sv[0], &fd, 1));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, close(sv[0]));
	EXPECT_TRUE(path_exists(p)) TH_LOG("queued on the receiving socket");
	ASSERT_EQ(0, close(sv[1]));
	EXPECT_FALSE(path_exists(p)) TH_LOG("dropped with the receiving socket");
}

TEST_F_TIMEOUT(fs, scm_rights_outlive_the_sender, LFS_TIMEOUT)
{
	char p[LFS_PATH_MAX];
	int sv[2], got = -1, st;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	path_join(p, self->mnt[0], "f");
	pid = fork_tied();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int fd = open(p, O_CREAT | O_RDWR, 0644);

		_exit(fd < 0 || write(fd, "sent", 4) != 4 || send_fds(sv[0], &fd, 1));
	}
	st = wait_child(pid, WAKE_TIMEOUT_MS);
	ASSERT_TRUE(exited_ok(st));
	EXPECT_TRUE(path_exists(p)) TH_LOG("the sender is gone, its fd is in flight");
	ASSERT_EQ(1, recv_fds(sv[1], &got, 1));
	EXPECT_TRUE(path_exists(p));
	ASSERT_EQ(0, close(got));
	EXPECT_FALSE(path_exists(p));
	close(sv[0]);
	close(sv[1]);
}

TEST_F_TIMEOUT(fs, open_joins_the_live_file, LFS_TIMEOUT)
{
	char p[LFS_PATH_MAX], buf[8] = { 0 };
	int fd, fd2, fd3;

	fd = create_file(self->mnt[0], "f", p);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(3, write(fd, "abc", 3));
	fd2 = open(p, O_RDWR);
	ASSERT_GE(fd2, 0);
	EXPECT_EQ(ino_of_fd(fd), ino_of_fd(fd2));
	EXPECT_EQ(3, read(fd2, buf, sizeof(buf)));
	EXPECT_STREQ("abc", buf);
	fd3 = open(p, O_CREAT | O_RDWR, 0644);
	ASSERT_GE(fd3, 0);
	EXPECT_EQ(ino_of_fd(fd), ino_of_fd(fd3)) TH_LOG("O_CREAT without O_EXCL joins too");
	EXPECT_EQ(1, count_entries(self->mnt[0]));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, close(fd3));
	EXPECT_TRUE(path_exists(p));
	ASSERT_EQ(0, close(fd2));
	EXPECT_FALSE(path_exists(p));
	EXPECT_EQ(-1, open(p, O_RDWR));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F_TIMEOUT(fs, unlink_removes_the_name_data_lives_on, LFS_TIMEOUT)
{
	char p[LFS_PATH_MAX], buf[16] = { 0 };
	struct stat st;
	int fd, fd2, fresh;

	fd = create_file(self->mnt[0], "f", p);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(7, write(fd, "payload", 7));
	fd2 = open(p, O_RDWR);
	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, unlink(p));
	EXPECT_FALSE(path_exists(p));
	EXPECT_EQ(0, count_entries(self->mnt[0]));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(0, (long)st.st_nlink);
	EXPECT_EQ(7, pread(fd2, buf, sizeof(buf), 0));
	EXPECT_STREQ("payload", buf);
	EXPECT_EQ(4, pwrite(fd2, "more", 4, 7));
	EXPECT_EQ(11, pread(fd, buf, sizeof(buf), 0));

	/* The name is free: a new, empty, separate file. */
	fresh = open(p, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644);
	ASSERT_GE(fresh, 0);
	EXPECT_NE(ino_of_fd(fd), ino_of_fd(fresh));
	ASSERT_EQ(0, fstat(fresh, &st));
	EXPECT_EQ(0, st.st_size);
	close(fd);
	close(fd2);
	EXPECT_TRUE(path_exists(p)) TH_LOG("closing the unlinked file leaves the new one");
	EXPECT_EQ(ino_of_fd(fresh), ino_of_path(p));
	close(fresh);
	EXPECT_FALSE(path_exists(p));
}

TEST_F_TIMEOUT(fs, renamed_open_file_is_removed_under_its_new_name, LFS_TIMEOUT)
{
	const char *d = self->mnt[0];
	char a[LFS_PATH_MAX], sub[LFS_PATH_MAX], b[LFS_PATH_MAX];
	int fd;

	ASSERT_EQ(0, mkdir(path_join(sub, d, "sub"), 0755));
	fd = create_file(d, "a", a);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, rename(a, path_join(b, sub, "b")));
	ASSERT_EQ(0, close(fd));
	EXPECT_FALSE(path_exists(b));
	EXPECT_FALSE(path_exists(a));
	EXPECT_EQ(0, rmdir(sub)) TH_LOG("sub/b was removed");
}

TEST_F_TIMEOUT(fs, replaced_file_closing_leaves_the_replacement, LFS_TIMEOUT)
{
	const char *d = self->mnt[0];
	char a[LFS_PATH_MAX], b[LFS_PATH_MAX];
	ino_t ia;
	int fa, fb;

	fa = create_file(d, "a", a);
	fb = create_file(d, "b", b);
	ASSERT_GE(fa, 0);
	ASSERT_GE(fb, 0);
	ia = ino_of_fd(fa);
	ASSERT_EQ(0, rename(a, b));
	ASSERT_EQ(0, close(fb));
	EXPECT_EQ(ia, ino_of_path(b)) TH_LOG("closing the replaced file must not remove b");
	ASSERT_EQ(0, close(fa));
	EXPECT_FALSE(path_exists(b));
	EXPECT_EQ(0, count_entries(d));
}

TEST_F_TIMEOUT(fs, directory_rename_with_open_file, LFS_TIMEOUT)
{
	const char *d = self->mnt[0];
	char d1[LFS_PATH_MAX], d2[LFS_PATH_MAX], f[LFS_PATH_MAX];
	int fd;

	ASSERT_EQ(0, mkdir(path_join(d1, d, "d1"), 0755));
	fd = create_file(d1, "f", f);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, rename(d1, path_join(d2, d, "d2")));
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(0, count_entries(d2));
	EXPECT_EQ(0, rmdir(d2));
}

TEST_F_TIMEOUT(fs, directory_empties_after_auto_delete, LFS_TIMEOUT)
{
	char sub[LFS_PATH_MAX], f[LFS_PATH_MAX];
	int fd;

	ASSERT_EQ(0, mkdir(path_join(sub, self->mnt[0], "sub"), 0755));
	fd = create_file(sub, "f", f);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-1, rmdir(sub));
	EXPECT_EQ(ENOTEMPTY, errno);
	close(fd);
	EXPECT_EQ(0, rmdir(sub));
}

TEST_F_TIMEOUT(fs, path_references_do_not_keep_alive, LFS_TIMEOUT)
{
	char p[LFS_PATH_MAX];
	struct stat st;
	int fd, opath;

	fd = create_file(self->mnt[0], "f", p);
	ASSERT_GE(fd, 0);
	opath = open(p, O_PATH | O_CLOEXEC);
	ASSERT_GE(opath, 0);
	ASSERT_EQ(0, stat(p, &st));
	ASSERT_EQ(0, fstatat(opath, "", &st, AT_EMPTY_PATH));
	ASSERT_EQ(0, close(fd));
	EXPECT_FALSE(path_exists(p)) TH_LOG("an O_PATH fd does not keep the file");
	EXPECT_EQ(0, count_entries(self->mnt[0]));
	close(opath);
}

/*
 * Reopening an O_PATH fd through /proc/self/fd/N: while the file is open it joins it; once
 * its last close removed it, the file is gone: ENOENT (the VFS's one retry on EOPENSTALE
 * would walk the same magic link to the same dead file, and a second EOPENSTALE reaches
 * user space as ESTALE), with or without O_CREAT.
 */
TEST_F_TIMEOUT(fs, reopen_through_proc_of_a_gone_file_is_enoent, LFS_TIMEOUT)
{
	char p[LFS_PATH_MAX], proc[64];
	int fd, opath, re;

	fd = create_file(self->mnt[0], "f", p);
	ASSERT_GE(fd, 0);
	opath = open(p, O_PATH | O_CLOEXEC);
	ASSERT_GE(opath, 0);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", opath);
	re = open(proc, O_RDWR | O_CLOEXEC);
	ASSERT_GE(re, 0) TH_LOG("reopen of a live file: %s", strerror(errno));
	EXPECT_EQ(ino_of_fd(fd), ino_of_fd(re));
	ASSERT_EQ(0, close(re));
	EXPECT_TRUE(path_exists(p)) TH_LOG("closing the reopened fd was not the last close");
	ASSERT_EQ(0, close(fd));
	EXPECT_FALSE(path_exists(p));

	re = open(proc, O_RDWR | O_CLOEXEC);
	EXPECT_EQ(-1, re);
	EXPECT_EQ(ENOENT, errno) TH_LOG("reopen of a gone file: %s", strerror(errno));
	re = open(proc, O_RDONLY | O_CLOEXEC);
	EXPECT_EQ(-1, re);
	EXPECT_EQ(ENOENT, errno) TH_LOG("read-only reopen: %s", strerror(errno));
	re = open(proc, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	EXPECT_EQ(-1, re);
	EXPECT_EQ(ENOENT, errno) TH_LOG("O_CREAT reopen: %s", strerror(errno));
	EXPECT_EQ(0, count_entries(self->mnt[0]));
	close(opath);
}

/* An unlinked file that is still open can be reopened through /proc, as on any filesystem. */
TEST_F_TIMEOUT(fs, reopen_through_proc_of_an_unlinked_open_file_joins, LFS_TIMEOUT)
{
	char p[LFS_PATH_MAX], proc[64];
	int fd, re;

	fd = create_file(self->mnt[0], "f", p);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, unlink(p));
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	re = open(proc, O_RDWR | O_CLOEXEC);
	ASSERT_GE(re, 0) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(ino_of_fd(fd), ino_of_fd(re));
	close(re);
	close(fd);
}

TEST_F_TIMEOUT(fs, epoll_registration_does_not_keep_alive, LFS_TIMEOUT)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT };
	char p[LFS_PATH_MAX];
	int ep, fd;

	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_GE(ep, 0);
	fd = create_file(self->mnt[0], "f", p);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	ASSERT_EQ(0, close(fd));
	EXPECT_FALSE(path_exists(p));
	EXPECT_EQ(0, epoll_wait(ep, &ev, 1, 0)) TH_LOG("the epoll instance outlives the file");
	EXPECT_EQ(0, close(ep));
}

TEST_F_TIMEOUT(fs, mmap_keeps_alive_until_munmap, LFS_TIMEOUT)
{
	char p[LFS_PATH_MAX], c = 0;
	struct lfs_counters c0;
	int fd, fd2;
	char *map;

	ASSERT_EQ(0, lfs_counters_read(&c0));
	fd = create_file(self->mnt[0], "f", p);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ftruncate(fd, LFS_PAGE));
	map = mmap(NULL, LFS_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, close(fd));
	EXPECT_TRUE(path_exists(p)) TH_LOG("the mapping keeps the file");
	map[10] = 'M';
	fd2 = open(p, O_RDONLY);
	ASSERT_GE(fd2, 0);
	EXPECT_EQ(1, pread(fd2, &c, 1, 10));
	EXPECT_EQ('M', c);
	ASSERT_EQ(0, close(fd2));
	EXPECT_TRUE(path_exists(p));
	EXPECT_EQ('M', map[10]);
	ASSERT_EQ(0, munmap(map, LFS_PAGE));
	EXPECT_FALSE(path_exists(p)) TH_LOG("gone by the time munmap() returns");
	expect_live_counters(_metadata, &c0);
}

TEST_F_TIMEOUT(fs, many_files_in_many_directories, LFS_TIMEOUT)
{
	const char *d = self->mnt[0];
	char sub[LFS_PATH_MAX], p[LFS_PATH_MAX], name[32];
	struct lfs_counters c0;
	int fds[64], i;

	ASSERT_EQ(0, lfs_counters_read(&c0));
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		ASSERT_EQ(0, mkdir(path_join(sub, d, name), 0755));
	}
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "d%d", i % 4);
		path_join(sub, d, name);
		snprintf(name, sizeof(name), "f%d", i);
		fds[i] = create_file(sub, name, p);
		ASSERT_GE(fds[i], 0);
		ASSERT_EQ(1, write(fds[i], "x", 1));
	}
	EXPECT_EQ(64, count_files_tree(d));
	for (i = 0; i < 64; i++)
		close(fds[i]);
	EXPECT_EQ(0, count_files_tree(d));
	expect_live_counters(_metadata, &c0);
}

TEST_F_TIMEOUT(fs, lazy_umount_with_open_file, LFS_TIMEOUT)
{
	const char *d = self->mnt[0];
	struct lfs_counters c0, c;
	char p[LFS_PATH_MAX], buf[4] = { 0 };
	int fd;

	ASSERT_EQ(0, lfs_counters_read(&c0));
	fd = create_file(d, "f", p);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, umount2(d, MNT_DETACH));
	EXPECT_FALSE(is_mountpoint(d));
	EXPECT_EQ(3, pwrite(fd, "abc", 3, 0));
	EXPECT_EQ(3, pread(fd, buf, 3, 0));
	ASSERT_EQ(0, lfs_counters_read(&c));
	EXPECT_EQ(c0.live_files + 1, c.live_files);
	EXPECT_EQ(c0.bytes_in_use + LFS_PAGE, c.bytes_in_use);
	ASSERT_EQ(0, close(fd));
	expect_live_counters(_metadata, &c0);
}

/* Openers racing with last closes: they join the file or miss it, never see a dead one. */
TEST_F_TIMEOUT(fs, open_racing_with_last_close, LFS_TIMEOUT)
{
	static void *(*const roles[])(void *) = { race_closer, race_closer, race_joiner };
	struct race *r = calloc(1, sizeof(*r));

	ASSERT_NE(NULL, r);
	path_join(r->path, self->mnt[0], "raced");
	r->end = now_ms() + env_long("LIFECYCLE_RACE_MS", 2000);
	race_run(_metadata, r, roles, ARRAY_LEN(roles), ARRAY_LEN(roles));
	TH_LOG("%ld create/close cycles, %ld joins, %ld misses", atomic_load(&r->cycles),
	       atomic_load(&r->joins), atomic_load(&r->misses));
	EXPECT_EQ(0, atomic_load(&r->bad)) TH_LOG("first violation: %s", r->bad_what);
	EXPECT_GT(atomic_load(&r->cycles), 0);
	EXPECT_FALSE(path_exists(r->path));
	free(r);
}

LFS_MAIN
