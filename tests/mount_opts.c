// SPDX-License-Identifier: GPL-2.0
/*
 * Mount options: defaults, each option's effect (statfs, root inode, /proc/mounts), size
 * suffixes, rejection of unknown options and bad values (EINVAL plus a "locustfs: " kernel
 * log line naming the option), remount, independence of instances, unprivileged mounts.
 */
#include "common.h"

/* Opens the kernel log positioned after its last record (non-blocking), or -1. */
static int kmsg_open_end(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* Whether a record logged after kmsg_open_end() starts with "locustfs: " and holds WORD. */
static bool kmsg_find(int fd, const char *word)
{
	char rec[8192], prefix[64], *msg, *nl;
	bool found = false;
	size_t plen;
	ssize_t n;

	plen = (size_t)snprintf(prefix, sizeof(prefix), "%s: ", lfs_fstype());

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE) /* records were overwritten: go on */
			continue;
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = 0;
		if (!strncmp(msg, prefix, plen) && strstr(msg, word))
			found = true;
	}
	return found;
}

static void expect_statfs(struct __test_metadata *_metadata, const char *dir,
			  long long blocks, long long files)
{
	struct statfs sf;

	ASSERT_EQ(0, statfs(dir, &sf));
	if (blocks >= 0)
		EXPECT_EQ(blocks, (long long)sf.f_blocks);
	if (files >= 0)
		EXPECT_EQ(files, (long long)sf.f_files);
}

static void expect_root(struct __test_metadata *_metadata, const char *dir, mode_t mode,
			uid_t uid, gid_t gid)
{
	struct stat st;

	ASSERT_EQ(0, stat(dir, &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_EQ(mode, st.st_mode & 07777);
	EXPECT_EQ(uid, st.st_uid);
	EXPECT_EQ(gid, st.st_gid);
}

LFS_FIXTURE_EMPTY(inst);

TEST_F_TIMEOUT(inst, defaults, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);
	struct statfs sf;

	ASSERT_EQ(0, statfs(d, &sf));
	EXPECT_EQ(LFS_MAGIC, sf.f_type);
	EXPECT_EQ(LFS_PAGE, sf.f_bsize);
	EXPECT_EQ(sf.f_files, sf.f_ffree) TH_LOG("a fresh instance has no inode in use");
	EXPECT_EQ(sf.f_blocks, sf.f_bfree) TH_LOG("a fresh instance has no block in use");
	expect_root(_metadata, d, 01777, 0, 0);
	EXPECT_EQ(0, count_entries(d));
}

/* size defaults to half the RAM and max_files to tmpfs' nr_inodes: compare with a tmpfs. */
TEST_F_TIMEOUT(inst, defaults_match_tmpfs, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);
	struct statfs lf, tf;
	int ret;

	ret = lfs_mount_type(self->mnt[1], "tmpfs", NULL);
	if (ret)
		self->mnt[1][0] = 0;
	ASSERT_EQ(0, ret) TH_LOG("tmpfs: %s", strerror(-ret));
	ASSERT_EQ(0, statfs(d, &lf));
	ASSERT_EQ(0, statfs(self->mnt[1], &tf));
	/* Both derive from the RAM size at mount time: allow 1% for pages freed meanwhile. */
	EXPECT_LE(llabs((long long)lf.f_blocks * lf.f_bsize - (long long)tf.f_blocks * tf.f_bsize),
		  (long long)tf.f_blocks * tf.f_bsize / 100)
		TH_LOG("size %llu bytes, tmpfs %llu", (unsigned long long)lf.f_blocks * lf.f_bsize,
		       (unsigned long long)tf.f_blocks * tf.f_bsize);
	EXPECT_LE(llabs((long long)lf.f_files - (long long)tf.f_files),
		  (long long)tf.f_files / 100)
		TH_LOG("max_files %llu, tmpfs nr_inodes %llu", (unsigned long long)lf.f_files,
		       (unsigned long long)tf.f_files);
}

TEST_F_TIMEOUT(inst, mode_uid_gid_applied, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "mode=750,uid=1000,gid=2000");

	expect_root(_metadata, d, 0750, 1000, 2000);
}

TEST_F_TIMEOUT(inst, max_files_in_statfs, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "max_files=10");
	char p[LFS_PATH_MAX];
	struct statfs sf;
	int fd;

	expect_statfs(_metadata, d, -1, 10);
	ASSERT_EQ(0, statfs(d, &sf));
	EXPECT_EQ(10, (long)sf.f_ffree);
	ASSERT_EQ(0, mkdir(path_join(p, d, "dir"), 0755));
	fd = open(path_join(p, d, "file"), O_CREAT | O_RDWR, 0644);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, statfs(d, &sf));
	EXPECT_EQ(8, (long)sf.f_ffree) TH_LOG("one directory and one file are in use");
	close(fd);
	ASSERT_EQ(0, rmdir(path_join(p, d, "dir")));
	ASSERT_EQ(0, statfs(d, &sf));
	EXPECT_EQ(10, (long)sf.f_ffree);
}

TEST_F_TIMEOUT(inst, remount_size, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "size=1m");

	expect_statfs(_metadata, d, 256, -1);
	ASSERT_EQ(0, lfs_remount(d, "size=2m"));
	expect_statfs(_metadata, d, 512, -1);
	EXPECT_TRUE(mount_has_option(d, "size=2097152"));
}

TEST_F_TIMEOUT(inst, remount_max_files, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "max_files=2");

	expect_statfs(_metadata, d, -1, 2);
	ASSERT_EQ(0, lfs_remount(d, "max_files=5"));
	expect_statfs(_metadata, d, -1, 5);
	EXPECT_TRUE(mount_has_option(d, "max_files=5"));
}

TEST_F_TIMEOUT(inst, remount_mode_and_owner, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);

	ASSERT_EQ(0, lfs_remount(d, "mode=700,uid=1000,gid=1000"));
	expect_root(_metadata, d, 0700, 1000, 1000);
	EXPECT_TRUE(mount_has_option(d, "mode=700"));
}

TEST_F_TIMEOUT(inst, remount_rejects_bad_options_and_keeps_settings, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "size=1m,max_files=7");

	EXPECT_EQ(-EINVAL, lfs_remount(d, "bogus=1"));
	EXPECT_EQ(-EINVAL, lfs_remount(d, "size=zz"));
	EXPECT_EQ(-EINVAL, lfs_remount(d, "max_files=lots"));
	expect_statfs(_metadata, d, 256, 7);
	EXPECT_TRUE(mount_has_option(d, "size=1048576"));
}

TEST_F_TIMEOUT(inst, instances_are_independent, LFS_TIMEOUT)
{
	const char *a = lfs_mount_slot(_metadata, self->mnt, "size=1m,max_files=5");
	const char *b = lfs_mount_slot(_metadata, self->mnt, "size=2m");
	char p[LFS_PATH_MAX];
	int fd;

	expect_statfs(_metadata, a, 256, 5);
	expect_statfs(_metadata, b, 512, -1);
	fd = open(path_join(p, a, "only-in-a"), O_CREAT | O_RDWR, 0644);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(5, write(fd, "hello", 5));
	EXPECT_FALSE(path_exists(path_join(p, b, "only-in-a")));
	EXPECT_EQ(0, count_entries(b));
	/* Unmounting one instance leaves the other and its open file alone. */
	EXPECT_EQ(0, lfs_umount(b));
	self->mnt[1][0] = 0;
	EXPECT_TRUE(path_exists(path_join(p, a, "only-in-a")));
	close(fd);
}

TEST_F_TIMEOUT(inst, unprivileged_mount_eperm, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);
	char spare[LFS_PATH_MAX];

	snprintf(spare, sizeof(spare), "%s/spare", d);
	ASSERT_EQ(0, mkdir(spare, 0777));
	RUN_AS(1000, 1000) {
		EXPECT_EQ(-1, mount("none", spare, lfs_fstype(), 0, NULL));
		EXPECT_EQ(EPERM, errno);
		EXPECT_EQ(-EPERM, lfs_remount(d, "size=1m"));
		EXPECT_EQ(-1, umount(d));
		EXPECT_EQ(EPERM, errno);
	}
	EXPECT_TRUE(is_mountpoint(d));
	EXPECT_FALSE(is_mountpoint(spare));
	ASSERT_EQ(0, rmdir(spare));
}

/* size= with each suffix: f_blocks is size / 4096, /proc/mounts shows the size in bytes. */
FIXTURE(size_suffix)
{
	char mnt[LFS_MOUNT_SLOTS][LFS_PATH_MAX];
};

FIXTURE_VARIANT(size_suffix)
{
	const char *opts;
	unsigned long long bytes;
};

FIXTURE_VARIANT_ADD(size_suffix, bytes) { .opts = "size=8192", .bytes = 8192 };
FIXTURE_VARIANT_ADD(size_suffix, k) { .opts = "size=64k", .bytes = 64ULL << 10 };
FIXTURE_VARIANT_ADD(size_suffix, m) { .opts = "size=3m", .bytes = 3ULL << 20 };
FIXTURE_VARIANT_ADD(size_suffix, g) { .opts = "size=1g", .bytes = 1ULL << 30 };
FIXTURE_SETUP(size_suffix)
{
	lfs_mount_slot(_metadata, self->mnt, variant->opts);
}

FIXTURE_TEARDOWN_PARENT(size_suffix)
{
	lfs_teardown_slots(_metadata, self->mnt);
}

TEST_F_TIMEOUT(size_suffix, statfs_and_proc_mounts, LFS_TIMEOUT)
{
	char shown[64];

	expect_statfs(_metadata, self->mnt[0], variant->bytes / LFS_PAGE, -1);
	snprintf(shown, sizeof(shown), "size=%llu", variant->bytes);
	EXPECT_TRUE(mount_has_option(self->mnt[0], shown)) {
		char opts[512] = "";

		mount_options(self->mnt[0], opts, sizeof(opts));
		TH_LOG("/proc/mounts options: %s", opts);
	}
}

/* Each non-default option is listed in /proc/mounts, sizes in bytes. */
FIXTURE(option_shown)
{
	char mnt[LFS_MOUNT_SLOTS][LFS_PATH_MAX];
};

FIXTURE_VARIANT(option_shown)
{
	const char *opts;
	const char *shown;
};

FIXTURE_VARIANT_ADD(option_shown, mode) { .opts = "mode=755", .shown = "mode=755" };
FIXTURE_VARIANT_ADD(option_shown, mode_sticky) { .opts = "mode=1700", .shown = "mode=1700" };
FIXTURE_VARIANT_ADD(option_shown, uid) { .opts = "uid=1000", .shown = "uid=1000" };
FIXTURE_VARIANT_ADD(option_shown, gid) { .opts = "gid=1000", .shown = "gid=1000" };
FIXTURE_VARIANT_ADD(option_shown, size) { .opts = "size=1m", .shown = "size=1048576" };
FIXTURE_VARIANT_ADD(option_shown, max_files) { .opts = "max_files=10", .shown = "max_files=10" };
FIXTURE_VARIANT_ADD(option_shown, max_file_size_k)
{
	.opts = "max_file_size=8k", .shown = "max_file_size=8192"
};

FIXTURE_VARIANT_ADD(option_shown, max_file_size_m)
{
	.opts = "max_file_size=2m", .shown = "max_file_size=2097152"
};

FIXTURE_SETUP(option_shown)
{
	lfs_mount_slot(_metadata, self->mnt, variant->opts);
}

FIXTURE_TEARDOWN_PARENT(option_shown)
{
	lfs_teardown_slots(_metadata, self->mnt);
}

TEST_F_TIMEOUT(option_shown, in_proc_mounts, LFS_TIMEOUT)
{
	char opts[512] = "";

	ASSERT_EQ(0, mount_options(self->mnt[0], opts, sizeof(opts)));
	EXPECT_TRUE(mount_has_option(self->mnt[0], variant->shown))
		TH_LOG("want %s in '%s'", variant->shown, opts);
}

/* Unknown options and bad values: EINVAL, nothing mounted, a "locustfs: " log line. */
FIXTURE(bad_option)
{
	char dir[LFS_PATH_MAX];
	int kmsg;
};

FIXTURE_VARIANT(bad_option)
{
	const char *opts;
	const char *name; /* what the log line must mention */
};

FIXTURE_VARIANT_ADD(bad_option, unknown_key) { .opts = "bogus=1", .name = "bogus" };
FIXTURE_VARIANT_ADD(bad_option, unknown_flag) {
	.opts = "size=1m,nosuchflag", .name = "nosuchflag"
};

FIXTURE_VARIANT_ADD(bad_option, size_text) { .opts = "size=abc", .name = "size" };
FIXTURE_VARIANT_ADD(bad_option, size_suffix) { .opts = "size=12q", .name = "size" };
FIXTURE_VARIANT_ADD(bad_option, size_empty) { .opts = "size=", .name = "size" };
FIXTURE_VARIANT_ADD(bad_option, mode_not_octal) { .opts = "mode=8", .name = "mode" };
FIXTURE_VARIANT_ADD(bad_option, mode_text) { .opts = "mode=rwx", .name = "mode" };
FIXTURE_VARIANT_ADD(bad_option, uid_text) { .opts = "uid=abc", .name = "uid" };
FIXTURE_VARIANT_ADD(bad_option, gid_text) { .opts = "gid=x", .name = "gid" };
FIXTURE_VARIANT_ADD(bad_option, max_files_text) { .opts = "max_files=many", .name = "max_files" };
FIXTURE_VARIANT_ADD(bad_option, max_file_size_suffix)
{
	.opts = "max_file_size=1x", .name = "max_file_size"
};

FIXTURE_SETUP(bad_option)
{
	self->kmsg = kmsg_open_end();
	ASSERT_GE(self->kmsg, 0) TH_LOG("/dev/kmsg: %s", strerror(errno));
}

FIXTURE_TEARDOWN_PARENT(bad_option)
{
	if (self->dir[0] && is_mountpoint(self->dir))
		lfs_umount(self->dir);
}

TEST_F_TIMEOUT(bad_option, rejected_and_logged, LFS_TIMEOUT)
{
	EXPECT_EQ(-EINVAL, lfs_mount(self->dir, variant->opts));
	EXPECT_FALSE(path_exists(self->dir)) TH_LOG("a failed mount leaves no mount point");
	EXPECT_TRUE(kmsg_find(self->kmsg, variant->name))
		TH_LOG("no kernel log line 'locustfs: ...%s...'", variant->name);
	close(self->kmsg);
}

LFS_MAIN
