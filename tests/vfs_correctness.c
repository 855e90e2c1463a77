// SPDX-License-Identifier: GPL-2.0
/*
 * VFS corner cases of a file whose name lives only while it is open:
 *
 *   - readiness that rises without a write: lseek() back over unread data (EPOLLIN), a
 *     remount that raises max_file_size or size (EPOLLOUT) must wake every waiter;
 *   - a remount changes only the options it names (the root's chmod/chown survive);
 *   - a file created by open(O_CREAT) whose open is then refused (Landlock may create but not
 *     open, a fanotify FAN_OPEN_PERM deny) leaves no name behind;
 *   - the last-close removal and mounts: nothing can be mounted on a locust file, nor can one
 *     be bind-mounted elsewhere; a read-only remount with files open, then their close;
 *     FIFREEZE, which a RAM instance does not support;
 *   - memory a user causes is charged to their memory cgroup: at memory.max, writes and file
 *     creation fail with ENOMEM, and the charge goes when the files do;
 *   - file data is unmovable, as on ramfs: it fills unmovable pageblocks, not movable ones.
 *
 * Topology of the wake-up tests (one process):
 *
 *     waiter thread --watch (poll/select/epoll/io_uring)--> fd --> locust file
 *     main thread: lseek(fd) / mount(MS_REMOUNT) while the waiter sleeps
 */
#include "common.h"

#include <linux/landlock.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>

/* From linux/fs.h, which clashes with sys/mount.h. */
#ifndef FIFREEZE
#define FIFREEZE _IOWR('X', 119, int)
#define FITHAW _IOWR('X', 120, int)
#endif

LFS_FIXTURE_EMPTY(vfs);

static const enum wait_mech wake_mechs[] = {
	MECH_POLL, MECH_SELECT, MECH_EPOLL_LT, MECH_EPOLL_ET, MECH_EPOLL_EXCLUSIVE, MECH_IO_URING,
};

/*
 * Starts a waiter on FD for EVENTS with mechanism M, runs ACT(ARG) once it sleeps, and
 * returns what the waiter saw (EPOLL* bits, 0 on timeout, <0 on error). *BLOCKED is false
 * when the waiter found FD ready before it could sleep.
 *
 * poll() and select() look at the descriptor once more when their timeout expires, so a
 * waiter that was never woken still reports the new readiness, WAKE_TIMEOUT_MS late: a
 * result that came only after the waiter's whole timeout counts as no wake-up (0).
 */
static int wake_after(enum wait_mech m, int fd, uint32_t events, void (*act)(void *), void *arg,
		      bool *blocked)
{
	int64_t start = now_ms();
	struct waiter wt;
	struct watch w;
	int ret = watch_init(&w, m, fd, events);

	if (ret)
		return ret;
	ret = waiter_start(&wt, &w, WAKE_TIMEOUT_MS);
	*blocked = ret == 0;
	if (ret >= 0) {
		if (ret == 0)
			act(arg);
		ret = waiter_join(&wt);
		if (ret > 0 && now_ms() - start >= WAKE_TIMEOUT_MS)
			ret = 0;
	}
	watch_fini(&w);
	return ret;
}

struct seek_arg {
	int fd;
	off_t to;
};

static void do_seek(void *p)
{
	struct seek_arg *a = p;

	lseek(a->fd, a->to, SEEK_SET);
}

/* lseek() back over unread data makes the description readable: its waiters wake. */
TEST_F_TIMEOUT(vfs, lseek_back_wakes_readers, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);
	char buf[16];
	unsigned int i;
	bool blocked;
	int fd, ret;

	fd = create_file(d, "f", NULL);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(10, write(fd, "0123456789", 10));
	for (i = 0; i < ARRAY_LEN(wake_mechs); i++) {
		struct seek_arg a = { .fd = fd, .to = 0 };

		ASSERT_EQ(10, lseek(fd, 10, SEEK_SET));
		ret = wake_after(wake_mechs[i], fd, EPOLLIN, do_seek, &a, &blocked);
		EXPECT_TRUE(blocked)
			TH_LOG("%s: not readable at the end", mech_name(wake_mechs[i]));
		EXPECT_TRUE(ret > 0 && (ret & EPOLLIN))
			TH_LOG("%s: lseek(0) woke no reader (got %d)",
			       mech_name(wake_mechs[i]), ret);
	}
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(10, read(fd, buf, sizeof(buf)));
	close(fd);
}

/* A seek that moves nothing, or that moves within read data, is allowed to stay quiet. */
TEST_F_TIMEOUT(vfs, lseek_in_place_is_harmless, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);
	int fd;

	fd = create_file(d, "f", NULL);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(4, write(fd, "abcd", 4));
	EXPECT_EQ(4, lseek(fd, 0, SEEK_CUR));
	EXPECT_EQ(4, lseek(fd, 0, SEEK_END));
	EXPECT_EQ(0, observe_now(MECH_POLL, fd, EPOLLIN));
	EXPECT_EQ(1, lseek(fd, -3, SEEK_CUR));
	EXPECT_EQ(EPOLLIN, observe_now(MECH_POLL, fd, EPOLLIN) & EPOLLIN);
	close(fd);
}

struct remount_arg {
	const char *dir;
	const char *opts;
	int ret;
};

static void do_remount(void *p)
{
	struct remount_arg *a = p;

	a->ret = lfs_remount(a->dir, a->opts);
}

/* A file full at max_file_size is not writable; a remount raising the limit wakes writers. */
TEST_F_TIMEOUT(vfs, remount_raising_max_file_size_wakes_writers, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "max_file_size=4k");
	char page[LFS_PAGE];
	unsigned int i;
	bool blocked;
	int fd, ret;

	memset(page, 'x', sizeof(page));
	fd = create_file(d, "f", NULL);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(LFS_PAGE, write(fd, page, sizeof(page)));
	for (i = 0; i < ARRAY_LEN(wake_mechs); i++) {
		struct remount_arg a = { .dir = d, .opts = "max_file_size=1m" };

		ASSERT_EQ(0, lfs_remount(d, "max_file_size=4k"));
		ret = wake_after(wake_mechs[i], fd, EPOLLOUT, do_remount, &a, &blocked);
		EXPECT_EQ(0, a.ret);
		EXPECT_TRUE(blocked) TH_LOG("%s: writable at the limit", mech_name(wake_mechs[i]));
		EXPECT_TRUE(ret > 0 && (ret & EPOLLOUT))
			TH_LOG("%s: remount,max_file_size=1m woke no writer (got %d)",
			       mech_name(wake_mechs[i]), ret);
	}
	EXPECT_EQ(1, write(fd, "y", 1));
	close(fd);
}

/* Without max_file_size a file may grow to size=; raising size= wakes its writers too. */
TEST_F_TIMEOUT(vfs, remount_raising_size_wakes_writers, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, "size=8k");
	struct remount_arg a = { .opts = "size=1m" };
	char buf[2 * LFS_PAGE];
	bool blocked;
	int fd, ret;

	memset(buf, 'x', sizeof(buf));
	fd = create_file(d, "f", NULL);
	ASSERT_GE(fd, 0);
	ASSERT_EQ((ssize_t)sizeof(buf), write(fd, buf, sizeof(buf)));
	a.dir = d;
	ret = wake_after(MECH_EPOLL_LT, fd, EPOLLOUT, do_remount, &a, &blocked);
	EXPECT_EQ(0, a.ret);
	EXPECT_TRUE(blocked);
	EXPECT_TRUE(ret > 0 && (ret & EPOLLOUT)) TH_LOG("remount,size=1m woke no writer (%d)", ret);
	close(fd);
}

static void expect_root_attrs(struct __test_metadata *_metadata, const char *d, mode_t mode,
			      uid_t uid, gid_t gid)
{
	struct stat st;

	ASSERT_EQ(0, stat(d, &st));
	EXPECT_EQ(mode, st.st_mode & 07777);
	EXPECT_EQ(uid, st.st_uid);
	EXPECT_EQ(gid, st.st_gid);
}

/* A remount changes only what it names, as on tmpfs: chmod/chown of the root survive it. */
TEST_F_TIMEOUT(vfs, remount_keeps_root_chmod_and_chown, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);

	ASSERT_EQ(0, chmod(d, 0700));
	ASSERT_EQ(0, chown(d, 1000, 1001));
	ASSERT_EQ(0, lfs_remount(d, "size=1m"));
	expect_root_attrs(_metadata, d, 0700, 1000, 1001);
	ASSERT_EQ(0, lfs_remount(d, "max_files=100"));
	expect_root_attrs(_metadata, d, 0700, 1000, 1001);
	/* Naming one of them changes that one only. */
	ASSERT_EQ(0, lfs_remount(d, "mode=750"));
	expect_root_attrs(_metadata, d, 0750, 1000, 1001);
	ASSERT_EQ(0, lfs_remount(d, "uid=0"));
	expect_root_attrs(_metadata, d, 0750, 0, 1001);
	ASSERT_EQ(0, chmod(d, 01777));
	ASSERT_EQ(0, lfs_remount(d, "gid=0"));
	expect_root_attrs(_metadata, d, 01777, 0, 0);
}

/* ---------------------------------------------------------------- opens refused after create */

/* Whether the tree below D holds no name and the live counters are back to BASE. */
static void expect_no_orphan(struct __test_metadata *_metadata, const char *d,
			     const struct lfs_counters *base)
{
	EXPECT_EQ(0, count_files_tree(d)) TH_LOG("a created file whose open failed kept its name");
	expect_live_counters(_metadata, base);
}

/*
 * Landlock: a sandbox that may create regular files below the mount but not open them. The
 * create succeeds (security_path_mknod allows it), then security_file_open refuses the open:
 * open() fails with EACCES, and the new name must go with it.
 */
TEST_F_TIMEOUT(vfs, landlock_create_without_open_leaves_no_name, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);
	struct lfs_counters c0;
	char p[LFS_PATH_MAX];
	int abi;

	abi = (int)syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)
		SKIP(return, "Landlock not enabled (%s)", strerror(errno));
	ASSERT_EQ(0, lfs_counters_read(&c0));
	path_join(p, d, "f");
	RUN_AS(0, 0)
	{
		struct landlock_ruleset_attr attr = {
			.handled_access_fs = LANDLOCK_ACCESS_FS_MAKE_REG |
					     LANDLOCK_ACCESS_FS_READ_FILE |
					     LANDLOCK_ACCESS_FS_WRITE_FILE,
		};
		struct landlock_path_beneath_attr beneath = {
			.allowed_access = LANDLOCK_ACCESS_FS_MAKE_REG,
		};
		int rs, fd;

		rs = (int)syscall(__NR_landlock_create_ruleset, &attr, sizeof(attr), 0);
		ASSERT_GE(rs, 0);
		beneath.parent_fd = open(d, O_PATH | O_CLOEXEC);
		ASSERT_GE(beneath.parent_fd, 0);
		ASSERT_EQ(0, syscall(__NR_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH,
				     &beneath, 0));
		ASSERT_EQ(0, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
		ASSERT_EQ(0, syscall(__NR_landlock_restrict_self, rs, 0));
		fd = open(p, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644);
		EXPECT_EQ(-1, fd);
		EXPECT_EQ(EACCES, errno);
		fd = open(p, O_CREAT | O_RDONLY | O_CLOEXEC, 0644);
		EXPECT_EQ(-1, fd);
		EXPECT_EQ(EACCES, errno);
	}
	EXPECT_FALSE(path_exists(p)) TH_LOG("the refused file is still named");
	expect_no_orphan(_metadata, d, &c0);
}

struct denier {
	int fan;
	pthread_t thread;
	atomic_int denied;
};

/* Answers every permission event of the fanotify group with FAN_DENY, then closes its fd. */
static void *denier_main(void *arg)
{
	char buf[4096] __aligned(__alignof__(struct fanotify_event_metadata));
	struct denier *dn = arg;
	struct fanotify_event_metadata *ev;
	ssize_t n;

	while ((n = read(dn->fan, buf, sizeof(buf))) > 0) {
		for (ev = (void *)buf; FAN_EVENT_OK(ev, n); ev = FAN_EVENT_NEXT(ev, n)) {
			struct fanotify_response r = { .fd = ev->fd, .response = FAN_DENY };

			if (ev->mask & FAN_OPEN_PERM) {
				if (write(dn->fan, &r, sizeof(r)) == sizeof(r))
					atomic_fetch_add(&dn->denied, 1);
			}
			if (ev->fd >= 0)
				close(ev->fd);
		}
	}
	return NULL;
}

/* fanotify: a FAN_OPEN_PERM deny of the creating open leaves no name either. */
TEST_F_TIMEOUT(vfs, fanotify_open_perm_deny_leaves_no_name, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);
	struct denier dn = { 0 };
	struct lfs_counters c0;
	char p[LFS_PATH_MAX];
	pid_t pid;
	int fd;

	dn.fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY | O_CLOEXEC);
	if (dn.fan < 0)
		SKIP(return, "fanotify permission events unavailable (%s)", strerror(errno));
	ASSERT_EQ(0, fanotify_mark(dn.fan, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN_PERM,
				   AT_FDCWD, d));
	ASSERT_EQ(0, lfs_counters_read(&c0));
	ASSERT_EQ(0, pthread_create(&dn.thread, NULL, denier_main, &dn));
	path_join(p, d, "f");
	pid = fork_tied();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		fd = open(p, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644);
		_exit(fd == -1 && errno == EPERM ? 0 : 1);
	}
	EXPECT_TRUE(exited_ok(wait_child(pid, WAKE_TIMEOUT_MS))) TH_LOG("open not refused (EPERM)");
	EXPECT_GE(atomic_load(&dn.denied), 1);
	/* Stop the denier: removing the mark ends the group's events; closing wakes read(). */
	fanotify_mark(dn.fan, FAN_MARK_REMOVE | FAN_MARK_MOUNT, FAN_OPEN_PERM, AT_FDCWD, d);
	pthread_cancel(dn.thread);
	pthread_join(dn.thread, NULL);
	close(dn.fan);
	EXPECT_FALSE(path_exists(p)) TH_LOG("the refused file is still named");
	expect_no_orphan(_metadata, d, &c0);
}

/* ---------------------------------------------------------------- mounts and the last close */

/* Number of mounts in this namespace whose mount point lies at or below DIR. */
static int mounts_below(const char *dir)
{
	char line[2048], mp[LFS_PATH_MAX];
	size_t len = strlen(dir);
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %*s %511s", mp) == 1 && !strncmp(mp, dir, len) &&
		    (mp[len] == '/'))
			n++;
	fclose(f);
	return n;
}

/*
 * Nothing can be mounted on a locust file: its name dies with its last opener, and a mount
 * left on a dead dentry could neither be reached nor unmounted, keeping the instance busy.
 */
TEST_F_TIMEOUT(vfs, mount_on_a_locust_file_is_refused, LFS_TIMEOUT)
{
	char d[LFS_PATH_MAX], p[LFS_PATH_MAX], src[] = "/tmp/lfs-bind-src.XXXXXX";
	int fd, sfd, ret, err;

	ASSERT_EQ(0, lfs_mount(d, NULL));
	sfd = mkstemp(src);
	ASSERT_GE(sfd, 0);
	fd = create_file(d, "f", p);
	ASSERT_GE(fd, 0);
	ret = mount(src, p, NULL, MS_BIND, NULL);
	err = errno;
	EXPECT_EQ(-1, ret) TH_LOG("bind mount on the locust file succeeded");
	if (ret == -1) {
		EXPECT_EQ(ENOENT, err);
	}
	ASSERT_EQ(0, close(fd));
	EXPECT_FALSE(path_exists(p));
	EXPECT_EQ(0, mounts_below(d)) TH_LOG("a mount outlived the file it was mounted on");
	EXPECT_EQ(0, umount(d)) TH_LOG("umount: %s", strerror(errno));
	if (is_mountpoint(d))
		umount2(d, MNT_DETACH);
	rmdir(d);
	close(sfd);
	unlink(src);
}

/*
 * Nor can a locust file be bind-mounted elsewhere: the new mount's root would be a dentry
 * whose name dies with the last opener (the VFS prepares a mountpoint on that root, which
 * dont_mount() refuses). The refusal leaves nothing behind: the last close removes the file
 * and the instance unmounts.
 */
TEST_F_TIMEOUT(vfs, bind_mount_of_a_locust_file_is_refused, LFS_TIMEOUT)
{
	char d[LFS_PATH_MAX], p[LFS_PATH_MAX], dst[] = "/tmp/lfs-bind-dst.XXXXXX";
	int fd, dfd, ret, err;

	ASSERT_EQ(0, lfs_mount(d, NULL));
	dfd = mkstemp(dst);
	ASSERT_GE(dfd, 0);
	close(dfd);
	fd = create_file(d, "f", p);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(5, write(fd, "hello", 5));
	ret = mount(p, dst, NULL, MS_BIND, NULL);
	err = errno;
	EXPECT_EQ(-1, ret) TH_LOG("bind mount of the locust file succeeded");
	if (ret == 0) {
		/* What a mount of a dead dentry would give: opening it says the file is gone. */
		ASSERT_EQ(0, close(fd));
		fd = open(dst, O_RDWR | O_CREAT, 0644);
		EXPECT_EQ(-1, fd);
		EXPECT_EQ(ENOENT, errno) TH_LOG("open through the bind mount: %s", strerror(errno));
		EXPECT_EQ(0, umount(dst));
	} else {
		EXPECT_EQ(ENOENT, err);
		ASSERT_EQ(0, close(fd));
	}
	EXPECT_FALSE(path_exists(p));
	EXPECT_EQ(0, umount(d)) TH_LOG("umount: %s", strerror(errno));
	if (is_mountpoint(d))
		umount2(d, MNT_DETACH);
	rmdir(d);
	unlink(dst);
}

/*
 * remount,ro with files open: the VFS refuses it while a file is open for writing; with
 * read-only openers it succeeds, and their last close still removes the names (a file exists
 * only while open, read-only instance or not).
 */
TEST_F_TIMEOUT(vfs, remount_ro_with_open_files_then_close, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);
	char p[LFS_PATH_MAX], q[LFS_PATH_MAX];
	struct lfs_counters c0;
	int w, r, r2;

	ASSERT_EQ(0, lfs_counters_read(&c0));
	w = create_file(d, "w", q);
	ASSERT_GE(w, 0);
	path_join(p, d, "r");
	r = open(p, O_CREAT | O_EXCL | O_RDONLY | O_CLOEXEC, 0644);
	ASSERT_GE(r, 0);
	r2 = open(p, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(r2, 0);
	EXPECT_EQ(-1, mount("none", d, NULL, MS_REMOUNT | MS_RDONLY, NULL));
	EXPECT_EQ(EBUSY, errno) TH_LOG("a file open for writing blocks remount,ro");
	ASSERT_EQ(0, close(w));
	EXPECT_FALSE(path_exists(q));
	ASSERT_EQ(0, mount("none", d, NULL, MS_REMOUNT | MS_RDONLY, NULL))
		TH_LOG("%s", strerror(errno));
	EXPECT_EQ(-1, open(q, O_CREAT | O_RDWR, 0644));
	EXPECT_EQ(EROFS, errno);
	ASSERT_EQ(0, close(r));
	EXPECT_TRUE(path_exists(p));
	ASSERT_EQ(0, close(r2));
	EXPECT_FALSE(path_exists(p)) TH_LOG("the last close on a read-only instance removes");
	EXPECT_EQ(0, count_entries(d));
	ASSERT_EQ(0, mount("none", d, NULL, MS_REMOUNT, NULL));
	w = create_file(d, "w", q);
	EXPECT_GE(w, 0);
	close(w);
	expect_live_counters(_metadata, &c0);
}

/*
 * FIFREEZE: a RAM instance has no device to snapshot and, like tmpfs, no ->freeze_fs, so it
 * cannot be frozen; the last close never has to wait for a thaw.
 */
TEST_F_TIMEOUT(vfs, fsfreeze_is_not_supported_and_close_removes, LFS_TIMEOUT)
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);
	char p[LFS_PATH_MAX];
	int fd, dfd, ret;

	fd = create_file(d, "f", p);
	ASSERT_GE(fd, 0);
	dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_GE(dfd, 0);
	ret = ioctl(dfd, FIFREEZE, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EOPNOTSUPP, errno);
	ASSERT_EQ(0, close(fd));
	EXPECT_FALSE(path_exists(p));
	ret = ioctl(dfd, FITHAW, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno) TH_LOG("thawing an instance that is not frozen");
	close(dfd);
}

/* ---------------------------------------------------------------- memory cgroup */

#define CGROUP2_MAGIC 0x63677270

/* Writes string S to file DIR/NAME; 0 or -errno. */
static int write_str(const char *dir, const char *name, const char *s)
{
	char p[LFS_PATH_MAX];

	return write_text(path_join(p, dir, name), s);
}

/* What the child in the memory cgroup saw. */
struct memcg_report {
	int files;	   /* files created with data */
	int write_errno;   /* errno of the write that failed */
	int creates;	   /* empty files created after that */
	int create_errno;  /* errno of the create that failed */
};

#define MEMCG_MAX (8L << 20)
#define MEMCG_FILE (256L << 10)
#define MEMCG_FDS 4096

/* In the child: fill the instance D until the cgroup's limit, keeping every file open. */
static void memcg_fill(const char *d, struct memcg_report *rep)
{
	static int fds[MEMCG_FDS];
	static char buf[MEMCG_FILE];
	char name[32];
	int n = 0, fd;
	ssize_t w;

	memset(buf, 'm', sizeof(buf));
	while (n < MEMCG_FDS) {
		snprintf(name, sizeof(name), "w%d", n);
		fd = create_file(d, name, NULL);
		if (fd < 0) {
			rep->write_errno = errno;
			break;
		}
		fds[n++] = fd;
		w = write(fd, buf, sizeof(buf));
		/* A write cut short at the limit is followed by one that fails. */
		if (w >= 0 && w < (ssize_t)sizeof(buf))
			w = write(fd, buf, sizeof(buf) - w);
		if (w < 0) {
			rep->write_errno = errno;
			break;
		}
		rep->files++;
	}
	while (n < MEMCG_FDS) {
		snprintf(name, sizeof(name), "c%d", n);
		fd = create_file(d, name, NULL);
		if (fd < 0) {
			rep->create_errno = errno;
			break;
		}
		fds[n++] = fd;
		rep->creates++;
	}
	while (n > 0)
		close(fds[--n]);
}

/*
 * A child in a memory cgroup with memory.max = 8 MiB (and oom_score_adj -1000, so that the
 * cgroup's OOM killer finds no victim and the charge fails instead) fills an instance: a write
 * fails with ENOMEM at the limit, then so does creating a file; once its files are closed, the
 * cgroup's charge is back near 0 and so are the module's counters.
 */
TEST_F_TIMEOUT(vfs, memcg_charges_files_to_their_creator, lfs_test_timeout(300))
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);
	char root[LFS_PATH_MAX] = "/sys/fs/cgroup", cg[LFS_PATH_MAX], num[32];
	struct memcg_report *rep;
	struct lfs_counters c0;
	bool own_root = false;
	long long cur = -1;
	struct statfs sfs;
	int64_t end;
	pid_t pid;

	if (statfs(root, &sfs) || sfs.f_type != CGROUP2_MAGIC) {
		ASSERT_EQ(0, lfs_mount_type(root, "cgroup2", NULL))
			TH_LOG("cgroup2: %s", strerror(errno));
		own_root = true;
	}
	if (write_str(root, "cgroup.subtree_control", "+memory")) {
		if (own_root)
			lfs_umount(root);
		SKIP(return, "no memory controller");
	}
	snprintf(cg, sizeof(cg), "%s/locustfs-memcg.%d", root, getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	snprintf(num, sizeof(num), "%ld", MEMCG_MAX);
	ASSERT_EQ(0, write_str(cg, "memory.max", num));
	ASSERT_EQ(0, lfs_counters_read(&c0));
	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, rep);
	memset(rep, 0, sizeof(*rep));

	pid = fork_tied();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		snprintf(num, sizeof(num), "%d", getpid());
		if (write_str(cg, "cgroup.procs", num) ||
		    write_str("/proc/self", "oom_score_adj", "-1000"))
			_exit(2);
		memcg_fill(d, rep);
		_exit(0);
	}
	EXPECT_TRUE(exited_ok(wait_child(pid, 240 * 1000)));
	TH_LOG("%d files of %ld KiB, write errno %d (%s); then %d empty files, create errno %d (%s)",
	       rep->files, MEMCG_FILE >> 10, rep->write_errno, strerror(rep->write_errno),
	       rep->creates, rep->create_errno, strerror(rep->create_errno));
	EXPECT_GT(rep->files, 0);
	EXPECT_LT((long)rep->files * MEMCG_FILE, MEMCG_MAX + MEMCG_FILE)
		TH_LOG("the data was not charged to the cgroup");
	EXPECT_EQ(ENOMEM, rep->write_errno);
	EXPECT_EQ(ENOMEM, rep->create_errno) TH_LOG("creating a file at the limit");
	EXPECT_EQ(0, count_files_tree(d));
	expect_live_counters(_metadata, &c0);
	/* Freed inodes and dentries are uncharged after an RCU grace period. */
	end = now_ms() + WAKE_TIMEOUT_MS;
	while ((cur = read_number(cg, "memory.current")) > 256 * 1024 && now_ms() < end)
		sleep_ms(50);
	EXPECT_LE(cur, 256 * 1024) TH_LOG("memory.current %lld after every file went", cur);
	EXPECT_EQ(0, rmdir(cg));
	munmap(rep, sizeof(*rep));
	if (own_root)
		lfs_umount(root);
}

/* ---------------------------------------------------------------- unmovable data */

/* Sum over every zone of the pageblocks of /proc/pagetypeinfo's column COL (0: Unmovable). */
static long pageblocks(int col)
{
	char line[512];
	bool in = false;
	long sum = 0, v[6];
	FILE *f = fopen("/proc/pagetypeinfo", "r");
	int n;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Number of blocks type", 21)) {
			in = true;
			continue;
		}
		/* The columns present depend on the configuration; Unmovable is always first. */
		n = in ? sscanf(line, "Node %*d, zone %*s %ld %ld %ld %ld %ld %ld", &v[0], &v[1],
				&v[2], &v[3], &v[4], &v[5]) :
			 0;
		if (n > col)
			sum += v[col];
		else if (in && line[0] != 'N')
			in = false;
	}
	fclose(f);
	return sum;
}

/*
 * Free pages on the Unmovable free lists of every zone (/proc/pagetypeinfo's "Free pages
 * count per migrate type" rows of type Unmovable, each count weighted by its order), and the
 * pageblock order in *ORDER.
 */
static long unmovable_free_pages(int *order)
{
	char line[512], *p, *end;
	long sum = 0, v;
	FILE *f = fopen("/proc/pagetypeinfo", "r");
	int o;

	if (!f)
		return -1;
	*order = -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Page block order: %d", order) == 1)
			continue;
		if (strncmp(line, "Node", 4))
			continue;
		p = strstr(line, "type    Unmovable");
		if (!p)
			continue;
		p += strlen("type    Unmovable");
		for (o = 0;; o++, p = end) {
			v = strtol(p, &end, 10);
			if (end == p)
				break;
			sum += v << o;
		}
	}
	fclose(f);
	return *order < 0 ? -1 : sum;
}

#define UNMOVABLE_DATA (64L << 20)

/*
 * ram_aops has no migrate_folio: a locust folio cannot be moved, so it must be allocated as
 * unmovable (GFP_HIGHUSER, as ramfs does), not as movable (the page cache's default). 64 MiB
 * of data must then come out of unmovable memory: pageblocks newly claimed for the Unmovable
 * type, or free pages already on Unmovable free lists (after a long run there may be plenty).
 * Allocated as movable, it would take neither.
 */
TEST_F_TIMEOUT(vfs, file_data_fills_unmovable_pageblocks, lfs_test_timeout(300))
{
	const char *d = lfs_mount_slot(_metadata, self->mnt, NULL);
	long blocks0, blocks1, free0, free1, used, chunk = 1L << 20, i;
	int order;
	char *buf;
	int fd;

	blocks0 = pageblocks(0);
	free0 = unmovable_free_pages(&order);
	if (blocks0 < 0 || free0 < 0)
		SKIP(return, "no /proc/pagetypeinfo");
	buf = malloc(chunk);
	ASSERT_NE(NULL, buf);
	memset(buf, 'u', chunk);
	fd = create_file(d, "big", NULL);
	ASSERT_GE(fd, 0);
	for (i = 0; i < UNMOVABLE_DATA / chunk; i++)
		ASSERT_EQ(chunk, write(fd, buf, chunk));
	blocks1 = pageblocks(0);
	free1 = unmovable_free_pages(&order);
	used = ((blocks1 - blocks0) << order) + free0 - free1;
	TH_LOG("unmovable pageblocks %ld -> %ld, free unmovable pages %ld -> %ld: %ld pages of "
	       "unmovable memory taken by %ld MiB of file data",
	       blocks0, blocks1, free0, free1, used, UNMOVABLE_DATA >> 20);
	EXPECT_GE(used, UNMOVABLE_DATA / LFS_PAGE / 2)
	TH_LOG("the file's pages did not come out of unmovable memory");
	close(fd);
	free(buf);
}

LFS_MAIN
