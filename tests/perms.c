// SPDX-License-Identifier: GPL-2.0
/*
 * Permissions: the root directory's mode and owner from mount options (and the sticky
 * default 1777), file and directory modes enforced for other users (also when joining a
 * live file), the umask, setgid directories, new files owned by the fsuid/fsgid, chmod and
 * chown rules. Unprivileged parts run in forked children (RUN_AS: setresuid to uid 1000).
 */
#include "common.h"

#include <sys/fsuid.h>

#define USER 1000
#define GROUP 1000
#define OTHER_USER 1001

LFS_FIXTURE_EMPTY(fs);

static void expect_owner(struct __test_metadata *_metadata, const char *path, uid_t uid,
			 gid_t gid)
{
	struct stat st;

	ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s", path);
	EXPECT_EQ(uid, st.st_uid);
	EXPECT_EQ(gid, st.st_gid);
}

/* The permission bits (with setuid, setgid, sticky) of PATH, or -1. */
static int mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (int)(st.st_mode & 07777);
}

TEST_F_TIMEOUT(fs, root_mode_option_is_enforced, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "mode=755");
	char p[LFS_PATH_MAX];

	path_join(p, d, "f");
	RUN_AS(USER, GROUP) {
		EXPECT_EQ(-1, open(p, O_CREAT | O_RDWR, 0644));
		EXPECT_EQ(EACCES, errno);
		EXPECT_EQ(-1, mkdir(p, 0755));
		EXPECT_EQ(EACCES, errno);
		EXPECT_EQ(0, count_entries(d)) TH_LOG("reading the directory is allowed");
	}
	EXPECT_FALSE(path_exists(p));
}

TEST_F_TIMEOUT(fs, default_root_is_world_writable_and_sticky, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);
	char mine[LFS_PATH_MAX], theirs[LFS_PATH_MAX], dir[LFS_PATH_MAX];
	int fd;

	fd = open(path_join(theirs, d, "roots"), O_CREAT | O_RDWR | O_CLOEXEC, 0666);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, mkdir(path_join(dir, d, "rootdir"), 0777));
	path_join(mine, d, "users");
	RUN_AS(USER, GROUP) {
		int ufd = open(mine, O_CREAT | O_RDWR, 0644);

		EXPECT_GE(ufd, 0) TH_LOG("mode 1777 lets anyone create");
		expect_owner(_metadata, mine, USER, GROUP);
		EXPECT_EQ(-1, unlink(theirs)) TH_LOG("sticky: not the owner's file");
		EXPECT_EQ(EPERM, errno);
		EXPECT_EQ(-1, rename(theirs, mine));
		EXPECT_EQ(EPERM, errno);
		EXPECT_EQ(-1, rmdir(dir));
		EXPECT_EQ(EPERM, errno);
		EXPECT_EQ(0, unlink(mine)) TH_LOG("but one's own file may go");
		close(ufd);
	}
	EXPECT_TRUE(path_exists(theirs));
	EXPECT_TRUE(path_exists(dir));
	close(fd);
}

TEST_F_TIMEOUT(fs, owner_options_give_the_root_to_a_user, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "uid=1000,gid=1000,mode=700");
	char p[LFS_PATH_MAX], q[LFS_PATH_MAX];

	expect_owner(_metadata, d, USER, GROUP);
	path_join(p, d, "f");
	path_join(q, d, "g");
	RUN_AS(USER, GROUP) {
		int fd = open(p, O_CREAT | O_RDWR, 0600);

		EXPECT_GE(fd, 0);
		EXPECT_EQ(0, mkdir(q, 0700));
		EXPECT_EQ(0, rmdir(q));
		close(fd);
	}
	RUN_AS(OTHER_USER, OTHER_USER) {
		EXPECT_EQ(-1, open(p, O_CREAT | O_RDWR, 0600));
		EXPECT_EQ(EACCES, errno);
		EXPECT_EQ(-1, count_entries(d)) TH_LOG("mode 700: not even readable");
	}
}

TEST_F_TIMEOUT(fs, new_files_belong_to_fsuid_and_fsgid, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);
	char f[LFS_PATH_MAX], sub[LFS_PATH_MAX];
	int st, fd;
	pid_t pid;

	path_join(f, d, "f");
	path_join(sub, d, "sub");
	pid = fork_tied();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* Still root by uid, creating as 1234:4321 by fsuid and fsgid. */
		setfsgid(4321);
		setfsuid(1234);
		fd = open(f, O_CREAT | O_RDWR, 0644);
		if (fd < 0 || mkdir(sub, 0755))
			_exit(1);
		expect_owner(_metadata, f, 1234, 4321);
		expect_owner(_metadata, sub, 1234, 4321);
		close(fd);
		_exit(0);
	}
	st = wait_child(pid, WAKE_TIMEOUT_MS);
	EXPECT_TRUE(exited_ok(st));
	EXPECT_FALSE(path_exists(f));
	EXPECT_EQ(0, rmdir(sub));
}

TEST_F_TIMEOUT(fs, umask_applies, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);
	char f[LFS_PATH_MAX], sub[LFS_PATH_MAX];

	path_join(f, d, "f");
	path_join(sub, d, "sub");
	RUN_AS(USER, GROUP) {
		int fd;

		umask(027);
		fd = open(f, O_CREAT | O_RDWR, 0666);
		EXPECT_GE(fd, 0);
		EXPECT_EQ(0640, mode_of(f));
		EXPECT_EQ(0, mkdir(sub, 0777));
		EXPECT_EQ(0750, mode_of(sub));
		umask(0);
		close(fd);
		fd = open(f, O_CREAT | O_RDWR, 0666);
		EXPECT_EQ(0666, mode_of(f));
		close(fd);
	}
	EXPECT_EQ(0, rmdir(sub));
}

TEST_F_TIMEOUT(fs, setgid_directory_passes_its_group_on, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);
	char dir[LFS_PATH_MAX], f[LFS_PATH_MAX], sub[LFS_PATH_MAX];

	ASSERT_EQ(0, mkdir(path_join(dir, d, "shared"), 0777));
	ASSERT_EQ(0, chown(dir, 0, 2000));
	ASSERT_EQ(0, chmod(dir, 02777));
	EXPECT_EQ(02777, mode_of(dir));
	path_join(f, dir, "f");
	path_join(sub, dir, "sub");
	RUN_AS(USER, GROUP) {
		int fd = open(f, O_CREAT | O_RDWR, 0644);

		EXPECT_GE(fd, 0);
		expect_owner(_metadata, f, USER, 2000);
		EXPECT_EQ(0, mkdir(sub, 0755));
		expect_owner(_metadata, sub, USER, 2000);
		EXPECT_TRUE(mode_of(sub) & S_ISGID) TH_LOG("subdirectories inherit setgid");
		close(fd);
	}
	EXPECT_EQ(0, rmdir(sub));
	EXPECT_EQ(0, rmdir(dir));
}

TEST_F_TIMEOUT(fs, file_mode_is_enforced_when_joining, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);
	char p[LFS_PATH_MAX];
	int fd;

	fd = open(path_join(p, d, "private"), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	ASSERT_GE(fd, 0);
	RUN_AS(USER, GROUP) {
		EXPECT_EQ(-1, open(p, O_RDONLY));
		EXPECT_EQ(EACCES, errno);
		EXPECT_EQ(-1, open(p, O_CREAT | O_RDWR, 0666)) TH_LOG("O_CREAT joins, still checked");
		EXPECT_EQ(EACCES, errno);
	}
	ASSERT_EQ(0, fchmod(fd, 0644));
	RUN_AS(USER, GROUP) {
		int r = open(p, O_RDONLY);

		EXPECT_GE(r, 0);
		EXPECT_EQ(-1, open(p, O_WRONLY));
		EXPECT_EQ(EACCES, errno);
		close(r);
	}
	close(fd);
}

TEST_F_TIMEOUT(fs, creator_may_write_a_read_only_new_file, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);
	char p[LFS_PATH_MAX];

	path_join(p, d, "ro");
	RUN_AS(USER, GROUP) {
		int fd = open(p, O_CREAT | O_EXCL | O_RDWR, 0444);

		EXPECT_GE(fd, 0);
		EXPECT_EQ(2, write(fd, "ok", 2));
		EXPECT_EQ(-1, open(p, O_RDWR)) TH_LOG("a second open honours mode 0444");
		EXPECT_EQ(EACCES, errno);
		close(fd);
	}
}

/*
 * A write by a user without CAP_FSETID drops setuid, and setgid with group execute, as on
 * any filesystem (file_remove_privs()), also on a file that earlier writes found with no
 * privileges to drop: the VFS then marks it S_NOSEC (locustfs is SB_NOSEC, as tmpfs), and a
 * chmod must clear that mark again.
 */
TEST_F_TIMEOUT(fs, write_drops_set_id_bits_set_after_earlier_writes, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);
	char p[LFS_PATH_MAX];
	int fd;

	fd = open(path_join(p, d, "sxid"), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0666);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fchmod(fd, 0666)) TH_LOG("past the umask");
	RUN_AS(USER, GROUP) {
		int wfd = open(p, O_WRONLY | O_APPEND);

		ASSERT_GE(wfd, 0);
		EXPECT_EQ(2, write(wfd, "ab", 2));
		EXPECT_EQ(2, write(wfd, "cd", 2));
		close(wfd);
	}
	ASSERT_EQ(0, fchmod(fd, 06777));
	ASSERT_EQ(06777, mode_of(p));
	RUN_AS(USER, GROUP) {
		int wfd = open(p, O_WRONLY | O_APPEND);

		ASSERT_GE(wfd, 0);
		EXPECT_EQ(2, write(wfd, "ef", 2));
		close(wfd);
	}
	EXPECT_EQ(0777, mode_of(p)) TH_LOG("mode %o after the write", mode_of(p));
	close(fd);
}

TEST_F_TIMEOUT(fs, directory_mode_is_enforced, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);
	char dir[LFS_PATH_MAX], f[LFS_PATH_MAX];

	ASSERT_EQ(0, mkdir(path_join(dir, d, "locked"), 0755));
	path_join(f, dir, "f");
	RUN_AS(USER, GROUP) {
		EXPECT_EQ(-1, open(f, O_CREAT | O_RDWR, 0644));
		EXPECT_EQ(EACCES, errno);
		EXPECT_EQ(-1, mkdir(f, 0755));
		EXPECT_EQ(EACCES, errno);
		EXPECT_EQ(0, count_entries(dir));
	}
	ASSERT_EQ(0, chmod(dir, 0700));
	RUN_AS(USER, GROUP) {
		EXPECT_EQ(-1, count_entries(dir));
	}
	EXPECT_EQ(0, rmdir(dir));
}

TEST_F_TIMEOUT(fs, chmod_and_chown_rules, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);
	char p[LFS_PATH_MAX];
	int hold[2], ready[2];
	pid_t pid;
	int st;

	/* The user's file is kept open by its child while root inspects and changes it. */
	path_join(p, d, "users");
	ASSERT_EQ(0, pipe(hold));
	ASSERT_EQ(0, pipe(ready));
	pid = run_as_fork(_metadata, USER, GROUP);
	if (pid == 0) {
		int fd = open(p, O_CREAT | O_RDWR, 0644);

		if (fd < 0 || fchmod(fd, 0600) || fchown(fd, 0, -1) == 0 || errno != EPERM ||
		    fchown(fd, -1, 0) == 0 || errno != EPERM || send_byte(ready[1], 'r'))
			_exit(1);
		recv_byte(hold[0], WAKE_TIMEOUT_MS);
		_exit(0);
	}
	ASSERT_EQ('r', recv_byte(ready[0], WAKE_TIMEOUT_MS)) TH_LOG("user's chmod/chown checks");
	EXPECT_EQ(0600, mode_of(p));
	expect_owner(_metadata, p, USER, GROUP);
	EXPECT_EQ(0, chown(p, 2000, 3000));
	expect_owner(_metadata, p, 2000, 3000);
	EXPECT_EQ(0, chmod(p, 0640));
	EXPECT_EQ(0640, mode_of(p));
	ASSERT_EQ(0, send_byte(hold[1], 'g'));
	st = wait_child(pid, WAKE_TIMEOUT_MS);
	EXPECT_TRUE(exited_ok(st));
	EXPECT_FALSE(path_exists(p));
}

LFS_MAIN
