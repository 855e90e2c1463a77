// SPDX-License-Identifier: GPL-2.0
/*
 * Names: directories (mkdir, nesting, rmdir, readdir), regular files made only by
 * open(O_CREAT)/creat, rename (plain, directories, over a file, RENAME_NOREPLACE, other
 * renameat2 flags rejected, across instances), and what is refused: mknod of every kind,
 * bind() of a unix socket, symlink, link, O_TMPFILE, names over 255 bytes.
 */
#include "common.h"

/* A device number for small MAJOR and MINOR (makedev() is not a constant expression). */
#define DEV(major, minor) (((dev_t)(major) << 8) | (minor))

LFS_FIXTURE(fs, NULL);

/* The S_IFMT bits of PATH, or 0 when it does not exist. */
static int type_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) ? 0 : (int)(st.st_mode & S_IFMT);
}

TEST_F_TIMEOUT(fs, mkdir_nested_and_rmdir, LFS_TIMEOUT)
{
	const char *d = self->mnt[0];
	char a[LFS_PATH_MAX], b[LFS_PATH_MAX], c[LFS_PATH_MAX];

	ASSERT_EQ(0, mkdir(path_join(a, d, "a"), 0755));
	ASSERT_EQ(0, mkdir(path_join(b, a, "b"), 0755));
	ASSERT_EQ(0, mkdir(path_join(c, b, "c"), 0700));
	EXPECT_EQ(S_IFDIR, type_of(c));
	EXPECT_EQ(-1, mkdir(b, 0755));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, rmdir(a));
	EXPECT_EQ(ENOTEMPTY, errno);
	EXPECT_EQ(0, rmdir(c));
	EXPECT_EQ(0, rmdir(b));
	EXPECT_EQ(0, rmdir(a));
	EXPECT_EQ(0, count_entries(d));
	EXPECT_EQ(-1, rmdir(a));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F_TIMEOUT(fs, readdir_lists_entries_with_types, LFS_TIMEOUT)
{
	static const char *const files[] = { "f1", "f2", "f3" };
	static const char *const dirs[] = { "d1", "d2" };
	const char *d = self->mnt[0];
	char p[LFS_PATH_MAX];
	int fds[ARRAY_LEN(files)], seen = 0;
	struct dirent *de;
	unsigned int i;
	DIR *dir;

	for (i = 0; i < ARRAY_LEN(files); i++) {
		fds[i] = open(path_join(p, d, files[i]), O_CREAT | O_RDWR, 0644);
		ASSERT_GE(fds[i], 0);
	}
	for (i = 0; i < ARRAY_LEN(dirs); i++)
		ASSERT_EQ(0, mkdir(path_join(p, d, dirs[i]), 0755));

	dir = opendir(d);
	ASSERT_NE(NULL, dir);
	while ((de = readdir(dir))) {
		bool known = false;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		for (i = 0; i < ARRAY_LEN(files); i++)
			if (!strcmp(de->d_name, files[i])) {
				known = true;
				EXPECT_EQ(DT_REG, de->d_type);
			}
		for (i = 0; i < ARRAY_LEN(dirs); i++)
			if (!strcmp(de->d_name, dirs[i])) {
				known = true;
				EXPECT_EQ(DT_DIR, de->d_type);
			}
		EXPECT_TRUE(known) TH_LOG("unexpected entry %s", de->d_name);
		seen++;
	}
	closedir(dir);
	EXPECT_EQ((int)(ARRAY_LEN(files) + ARRAY_LEN(dirs)), seen);

	for (i = 0; i < ARRAY_LEN(files); i++)
		close(fds[i]);
	for (i = 0; i < ARRAY_LEN(dirs); i++)
		EXPECT_EQ(0, rmdir(path_join(p, d, dirs[i])));
	EXPECT_EQ(0, count_entries(d));
}

TEST_F_TIMEOUT(fs, readdir_of_many_entries, LFS_TIMEOUT)
{
	const char *d = self->mnt[0];
	char p[LFS_PATH_MAX], name[32];
	int i, n = 300;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "dir-%04d", i);
		ASSERT_EQ(0, mkdir(path_join(p, d, name), 0755));
	}
	EXPECT_EQ(n, count_entries(d));
	for (i = 0; i < n; i += 2) {
		snprintf(name, sizeof(name), "dir-%04d", i);
		ASSERT_EQ(0, rmdir(path_join(p, d, name)));
	}
	EXPECT_EQ(n / 2, count_entries(d));
	for (i = 1; i < n; i += 2) {
		snprintf(name, sizeof(name), "dir-%04d", i);
		ASSERT_EQ(0, rmdir(path_join(p, d, name)));
	}
	EXPECT_EQ(0, count_entries(d));
}

TEST_F_TIMEOUT(fs, open_creat_makes_regular_files, LFS_TIMEOUT)
{
	const char *d = self->mnt[0];
	char p[LFS_PATH_MAX], q[LFS_PATH_MAX];
	int fd, fd2;

	path_join(p, d, "made-by-creat");
	path_join(q, d, "made-by-open");
	EXPECT_EQ(-1, open(q, O_RDWR));
	EXPECT_EQ(ENOENT, errno);
	fd = creat(p, 0644);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(S_IFREG, type_of(p));
	fd2 = open(q, O_CREAT | O_EXCL | O_RDWR, 0600);
	ASSERT_GE(fd2, 0);
	EXPECT_EQ(S_IFREG, type_of(q));
	EXPECT_EQ(-1, open(q, O_CREAT | O_EXCL | O_RDWR, 0600));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, open(p, O_RDWR | O_DIRECTORY));
	EXPECT_EQ(ENOTDIR, errno);
	EXPECT_EQ(-1, mkdir(p, 0755));
	EXPECT_EQ(EEXIST, errno);
	close(fd);
	close(fd2);
}

TEST_F_TIMEOUT(fs, files_inside_nested_directories, LFS_TIMEOUT)
{
	const char *d = self->mnt[0];
	char a[LFS_PATH_MAX], b[LFS_PATH_MAX], f[LFS_PATH_MAX];
	int fd;

	ASSERT_EQ(0, mkdir(path_join(a, d, "a"), 0755));
	ASSERT_EQ(0, mkdir(path_join(b, a, "b"), 0755));
	fd = open(path_join(f, b, "leaf"), O_CREAT | O_RDWR, 0644);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(S_IFREG, type_of(f));
	EXPECT_EQ(-1, rmdir(b));
	EXPECT_EQ(ENOTEMPTY, errno);
	EXPECT_EQ(-1, unlink(a));
	EXPECT_EQ(EISDIR, errno);
	EXPECT_EQ(-1, rmdir(f));
	EXPECT_EQ(ENOTDIR, errno);
	close(fd);
	EXPECT_EQ(0, rmdir(b));
	EXPECT_EQ(0, rmdir(a));
}

TEST_F_TIMEOUT(fs, rename_file_and_directory, LFS_TIMEOUT)
{
	const char *d = self->mnt[0];
	char p[LFS_PATH_MAX], q[LFS_PATH_MAX], r[LFS_PATH_MAX], s[LFS_PATH_MAX];
	struct stat before, after;
	char buf[8] = { 0 };
	int fd;

	fd = open(path_join(p, d, "old"), O_CREAT | O_RDWR, 0644);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(4, write(fd, "data", 4));
	ASSERT_EQ(0, fstat(fd, &before));
	ASSERT_EQ(0, rename(p, path_join(q, d, "new")));
	EXPECT_FALSE(path_exists(p));
	ASSERT_EQ(0, stat(q, &after));
	EXPECT_EQ(before.st_ino, after.st_ino);
	EXPECT_EQ(4, pread(fd, buf, sizeof(buf), 0));
	EXPECT_STREQ("data", buf);

	/* Into a directory, then the directory itself. */
	ASSERT_EQ(0, mkdir(path_join(r, d, "dir"), 0755));
	ASSERT_EQ(0, rename(q, path_join(s, r, "moved")));
	EXPECT_EQ(S_IFREG, type_of(s));
	ASSERT_EQ(0, rename(r, path_join(p, d, "dir2")));
	EXPECT_FALSE(path_exists(r));
	EXPECT_EQ(S_IFREG, type_of(path_join(q, p, "moved")));
	close(fd);
	EXPECT_EQ(0, rmdir(p)) TH_LOG("the renamed directory is empty once its file is closed");
}

TEST_F_TIMEOUT(fs, rename_over_existing_file, LFS_TIMEOUT)
{
	const char *d = self->mnt[0];
	char src[LFS_PATH_MAX], dst[LFS_PATH_MAX];
	struct stat s_before, d_after, t_after;
	int fs, ft;

	fs = open(path_join(src, d, "src"), O_CREAT | O_RDWR, 0644);
	ft = open(path_join(dst, d, "dst"), O_CREAT | O_RDWR, 0644);
	ASSERT_GE(fs, 0);
	ASSERT_GE(ft, 0);
	ASSERT_EQ(0, fstat(fs, &s_before));
	ASSERT_EQ(0, rename(src, dst));
	EXPECT_FALSE(path_exists(src));
	ASSERT_EQ(0, stat(dst, &d_after));
	EXPECT_EQ(s_before.st_ino, d_after.st_ino);
	ASSERT_EQ(0, fstat(ft, &t_after));
	EXPECT_EQ(0, (long)t_after.st_nlink) TH_LOG("the replaced file has lost its only name");
	EXPECT_EQ(1, count_entries(d));
	close(fs);
	close(ft);
}

TEST_F_TIMEOUT(fs, rename_noreplace, LFS_TIMEOUT)
{
	const char *d = self->mnt[0];
	char a[LFS_PATH_MAX], b[LFS_PATH_MAX], c[LFS_PATH_MAX];
	int fa, fb;

	fa = open(path_join(a, d, "a"), O_CREAT | O_RDWR, 0644);
	fb = open(path_join(b, d, "b"), O_CREAT | O_RDWR, 0644);
	ASSERT_GE(fa, 0);
	ASSERT_GE(fb, 0);
	EXPECT_EQ(-1, renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_TRUE(path_exists(a));
	EXPECT_TRUE(path_exists(b));
	EXPECT_EQ(0, renameat2(AT_FDCWD, a, AT_FDCWD, path_join(c, d, "c"), RENAME_NOREPLACE));
	EXPECT_FALSE(path_exists(a));
	EXPECT_TRUE(path_exists(c));
	close(fa);
	close(fb);
}

TEST_F_TIMEOUT(fs, rename_other_flags_einval, LFS_TIMEOUT)
{
	const char *d = self->mnt[0];
	char a[LFS_PATH_MAX], b[LFS_PATH_MAX], c[LFS_PATH_MAX];
	int fa, fb;

	fa = open(path_join(a, d, "a"), O_CREAT | O_RDWR, 0644);
	fb = open(path_join(b, d, "b"), O_CREAT | O_RDWR, 0644);
	ASSERT_GE(fa, 0);
	ASSERT_GE(fb, 0);
	EXPECT_EQ(-1, renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, renameat2(AT_FDCWD, a, AT_FDCWD, path_join(c, d, "c"), RENAME_WHITEOUT));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_TRUE(path_exists(a));
	EXPECT_TRUE(path_exists(b));
	EXPECT_FALSE(path_exists(c));
	close(fa);
	close(fb);
}

TEST_F_TIMEOUT(fs, rename_across_instances_exdev, LFS_TIMEOUT)
{
	const char *d = self->mnt[0];
	const char *other = lfs_mount_slot(_metadata, self->mnt, NULL);
	char a[LFS_PATH_MAX], b[LFS_PATH_MAX];
	int fd;

	fd = open(path_join(a, d, "a"), O_CREAT | O_RDWR, 0644);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-1, rename(a, path_join(b, other, "a")));
	EXPECT_EQ(EXDEV, errno);
	EXPECT_TRUE(path_exists(a));
	close(fd);
}

TEST_F_TIMEOUT(fs, symlink_and_link_eperm, LFS_TIMEOUT)
{
	const char *d = self->mnt[0];
	char a[LFS_PATH_MAX], b[LFS_PATH_MAX];
	int fd;

	fd = open(path_join(a, d, "target"), O_CREAT | O_RDWR, 0644);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-1, symlink("target", path_join(b, d, "sym")));
	EXPECT_EQ(EPERM, errno);
	EXPECT_FALSE(path_exists(b));
	EXPECT_EQ(-1, link(a, path_join(b, d, "hard")));
	EXPECT_EQ(EPERM, errno);
	EXPECT_FALSE(path_exists(b));
	EXPECT_EQ(1, count_entries(d));
	close(fd);
}

TEST_F_TIMEOUT(fs, o_tmpfile_eopnotsupp, LFS_TIMEOUT)
{
	int fd = open(self->mnt[0], O_TMPFILE | O_RDWR, 0600);

	EXPECT_EQ(-1, fd);
	EXPECT_EQ(EOPNOTSUPP, errno);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(0, count_entries(self->mnt[0]));
}

TEST_F_TIMEOUT(fs, name_length_limit, LFS_TIMEOUT)
{
	const char *d = self->mnt[0];
	char name[300], p[LFS_PATH_MAX], q[LFS_PATH_MAX];
	int fd;

	memset(name, 'n', 255);
	name[255] = 0;
	fd = open(path_join(p, d, name), O_CREAT | O_RDWR, 0644);
	ASSERT_GE(fd, 0) TH_LOG("a 255-byte name is allowed");
	name[0] = 'd';
	EXPECT_EQ(0, mkdir(path_join(q, d, name), 0755));
	EXPECT_EQ(0, rmdir(q));

	memset(name, 'l', 256);
	name[256] = 0;
	EXPECT_EQ(-1, open(path_join(q, d, name), O_CREAT | O_RDWR, 0644));
	EXPECT_EQ(ENAMETOOLONG, errno);
	EXPECT_EQ(-1, mkdir(q, 0755));
	EXPECT_EQ(ENAMETOOLONG, errno);
	EXPECT_EQ(-1, rename(p, q));
	EXPECT_EQ(ENAMETOOLONG, errno);
	EXPECT_EQ(1, count_entries(d));
	close(fd);
}

/* mknod of every type is refused. */
FIXTURE(node)
{
	char mnt[LFS_MOUNT_SLOTS][LFS_PATH_MAX];
};

FIXTURE_VARIANT(node)
{
	mode_t mode;
	dev_t dev;
};

FIXTURE_VARIANT_ADD(node, fifo) { .mode = S_IFIFO | 0644 };
FIXTURE_VARIANT_ADD(node, chr) { .mode = S_IFCHR | 0644, .dev = DEV(1, 3) };
FIXTURE_VARIANT_ADD(node, blk) { .mode = S_IFBLK | 0644, .dev = DEV(7, 0) };
FIXTURE_VARIANT_ADD(node, sock) { .mode = S_IFSOCK | 0644 };
FIXTURE_VARIANT_ADD(node, reg) { .mode = S_IFREG | 0644 };
FIXTURE_SETUP(node)
{
	lfs_mount_slot(_metadata, self->mnt, NULL);
}

FIXTURE_TEARDOWN_PARENT(node)
{
	lfs_teardown_slots(_metadata, self->mnt);
}

TEST_F_TIMEOUT(node, mknod_eperm, LFS_TIMEOUT)
{
	char p[LFS_PATH_MAX];

	EXPECT_EQ(-1, mknod(path_join(p, self->mnt[0], "node"), variant->mode, variant->dev));
	EXPECT_EQ(EPERM, errno);
	EXPECT_FALSE(path_exists(p));
}

TEST_F_TIMEOUT(fs, mkfifo_and_socket_bind_eperm, LFS_TIMEOUT)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char p[LFS_PATH_MAX];
	int s;

	EXPECT_EQ(-1, mkfifo(path_join(p, self->mnt[0], "fifo"), 0644));
	EXPECT_EQ(EPERM, errno);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_GE(s, 0);
	path_join(p, self->mnt[0], "sock");
	ASSERT_LT(strlen(p), sizeof(addr.sun_path));
	strcpy(addr.sun_path, p);
	EXPECT_EQ(-1, bind(s, (struct sockaddr *)&addr, sizeof(addr)));
	EXPECT_EQ(EPERM, errno);
	close(s);
	EXPECT_EQ(0, count_entries(self->mnt[0]));
}

LFS_MAIN
