// SPDX-License-Identifier: GPL-2.0
/*
 * Rootless locustfs: an unprivileged user (uid USER_ID, no capabilities in the initial user
 * namespace) mounts and uses instances in a user namespace of their own and through
 * idmapped mounts, and cannot reach beyond them.
 *
 * Every unprivileged step runs in a forked child that drops to USER_ID before it does
 * anything (as RUN_AS does). A child that needs more than its own id in its namespace gets
 * the map a container runtime writes with newuidmap(1) from /etc/subuid: 0 -> USER_ID for
 * RANGE ids, written by this program (root, in the initial namespace) from outside.
 *
 *   initial namespace            user namespace U (owner USER_ID)
 *   -----------------            --------------------------------
 *   test (root)  --- socket ---  child: unshare(USER|NS), mount -t locustfs, ...
 *     stat /proc/CHILD/root/...    (ids as U sees them)
 *     (ids as the host sees them)
 */
#include "common.h"

#include <sys/fsuid.h>

/* The unprivileged user, and another one. */
#define USER_ID 100000U
#define OTHER_ID 200000U
/* The ids a subordinate-id map gives USER_ID's namespace: 0..RANGE-1 -> USER_ID... */
#define RANGE 65536

/* -------------------------------------------------------------- helpers */

/*
 * Drops to uid and gid ID with no supplementary groups: no capabilities left. The change of
 * ids makes the process non-dumpable, which would leave its /proc/PID files (uid_map,
 * setgroups, ns/) to root: it makes itself dumpable again, as a process started by that user
 * would be.
 */
static void become(struct __test_metadata *_metadata, uid_t id)
{
	ASSERT_EQ(0, setgroups(0, NULL));
	ASSERT_EQ(0, setresgid(id, id, id));
	ASSERT_EQ(0, setresuid(id, id, id));
	ASSERT_EQ(0, prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
}

/* How long one side waits for the other's next step. */
#define STEP_MS 60000

/*
 * Forks a child tied to the test, connected to it by a socket: returns 0 in the child and the
 * child's pid in the test; *SOCK is the caller's end. The other end closes with the child, so
 * a child that fails ends the test's wait at once.
 */
static pid_t fork_with_socket(struct __test_metadata *_metadata, int *sock)
{
	int sv[2];
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork_tied();
	ASSERT_GE(pid, 0);
	close(sv[pid == 0 ? 0 : 1]);
	*sock = sv[pid == 0 ? 1 : 0];
	return pid;
}

/*
 * In a child that dropped to an unprivileged id (USER_ID, OTHER_ID): enters a new user and
 * mount namespace mapping uid and gid 0 to its own ids only, as `unshare -Urm` does (no help
 * from outside).
 */
static void enter_own_userns(struct __test_metadata *_metadata)
{
	uid_t id = getuid(); /* unmapped (the overflow id) once unshared */
	char map[64];

	ASSERT_EQ(0, unshare(CLONE_NEWUSER | CLONE_NEWNS)) TH_LOG("unshare: %s", strerror(errno));
	ASSERT_EQ(0, write_text("/proc/self/setgroups", "deny"));
	snprintf(map, sizeof(map), "0 %u 1\n", id);
	ASSERT_EQ(0, write_text("/proc/self/uid_map", map));
	ASSERT_EQ(0, write_text("/proc/self/gid_map", map));
}

/*
 * A child in a user namespace with a subordinate-id map: it unshares, sends 'U', the test
 * writes its maps (set_subid_maps) and answers 'M'.
 */
static void enter_subid_userns(struct __test_metadata *_metadata, int sock)
{
	ASSERT_EQ(0, unshare(CLONE_NEWUSER | CLONE_NEWNS)) TH_LOG("unshare: %s", strerror(errno));
	ASSERT_EQ(0, send_byte(sock, 'U'));
	ASSERT_EQ('M', recv_byte(sock, STEP_MS));
	/* Now uid 0 of the namespace: become it, with every capability of the namespace. */
	ASSERT_EQ(0, setresgid(0, 0, 0));
	ASSERT_EQ(0, setresuid(0, 0, 0));
}

/* The test's side of enter_subid_userns() for child PID. */
static void set_subid_maps(struct __test_metadata *_metadata, int sock, pid_t pid)
{
	char path[64], map[64];

	ASSERT_EQ('U', recv_byte(sock, STEP_MS));
	snprintf(map, sizeof(map), "0 %u %d\n", USER_ID, RANGE);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	ASSERT_EQ(0, write_text(path, map));
	snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
	ASSERT_EQ(0, write_text(path, map));
	ASSERT_EQ(0, send_byte(sock, 'M'));
}

/* The path of PATH as seen from the initial namespace, through child PID's root. */
static char *via_child(char *buf, pid_t pid, const char *path)
{
	if (snprintf(buf, LFS_PATH_MAX, "/proc/%d/root%s", pid, path) >= LFS_PATH_MAX)
		abort(); /* no test builds paths this long */
	return buf;
}

static void expect_owner(struct __test_metadata *_metadata, const char *path, uid_t uid,
			 gid_t gid)
{
	struct stat st;

	ASSERT_EQ(0, stat(path, &st)) TH_LOG("stat %s: %s", path, strerror(errno));
	EXPECT_EQ(uid, st.st_uid) TH_LOG("owner of %s", path);
	EXPECT_EQ(gid, st.st_gid) TH_LOG("group of %s", path);
}

/*
 * Configures a new instance with fsopen/fsconfig: OPTS is "key=value,..." (NULL: none).
 * Returns the fs context fd after FSCONFIG_CMD_CREATE, or -errno of the step that failed;
 * MSG then holds the message the kernel left in the context (empty if none).
 */
static int fs_create(const char *opts, char *msg, size_t len)
{
	char buf[256], *tok, *save, *eq;
	int fd, ret = 0;
	ssize_t n;

	msg[0] = 0;
	fd = fsopen(lfs_fstype(), FSOPEN_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(buf, sizeof(buf), "%s", opts ? opts : "");
	for (tok = strtok_r(buf, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save)) {
		eq = strchr(tok, '=');
		if (eq)
			*eq++ = 0;
		if (fsconfig(fd, eq ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, tok, eq, 0))
			ret = -errno;
	}
	if (!ret && fsconfig(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		ret = -errno;
	if (!ret)
		return fd;
	n = read(fd, msg, len - 1);
	msg[n > 0 ? n : 0] = 0;
	close(fd);
	return ret;
}

/* Mounts a new instance with OPTS on DIR through fsmount/move_mount; 0 or -errno. */
static int fs_mount_at(const char *opts, const char *dir, char *msg, size_t len)
{
	int fd = fs_create(opts, msg, len), mfd, ret = 0;

	if (fd < 0)
		return fd;
	mfd = fsmount(fd, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0 || move_mount(mfd, "", AT_FDCWD, dir, MOVE_MOUNT_F_EMPTY_PATH))
		ret = -errno;
	if (mfd >= 0)
		close(mfd);
	close(fd);
	return ret;
}

/* A directory for mount points that every user may search. */
static int make_mount_dir(char *dir)
{
	const char *base = getenv("LOCUSTFS_TMPDIR");

	snprintf(dir, LFS_PATH_MAX, "%s/lfs-userns.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(dir) || chmod(dir, 0755))
		return -errno;
	return 0;
}

/* Whether mounts file MOUNTS lists mount point DIR with option OPT. */
static bool mounts_have_option(const char *mounts, const char *dir, const char *opt)
{
	char line[1024], mnt[LFS_PATH_MAX], opts[512], *tok, *save;
	bool found = false;
	FILE *f = fopen(mounts, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %511s %*s %511s", mnt, opts) != 2 || strcmp(mnt, dir))
			continue;
		for (tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			found |= !strcmp(tok, opt);
	}
	fclose(f);
	return found;
}

/* Waits for child PID (of the test) and checks that it passed. */
static void join_child(struct __test_metadata *_metadata, pid_t pid)
{
	int status = wait_child(pid, STEP_MS);

	EXPECT_TRUE(exited_ok(status)) TH_LOG("unprivileged child failed (status %#x)", status);
}

/*
 * Every test: a mount-point directory (and a second one, for idmapped mounts), one for an
 * instance of the host's, and the counters before the test.
 */
FIXTURE(rootless)
{
	char dir[LFS_PATH_MAX];
	char dir2[LFS_PATH_MAX];
	char host_mnt[LFS_PATH_MAX];
	struct lfs_counters base;
};

FIXTURE_SETUP(rootless)
{
	ASSERT_EQ(0, make_mount_dir(self->dir));
	ASSERT_EQ(0, make_mount_dir(self->dir2));
	ASSERT_EQ(0, lfs_counters_read(&self->base)) TH_LOG("counters unreadable");
}

FIXTURE_TEARDOWN_PARENT(rootless)
{
	/* Every namespace is gone with its child: so is every instance mounted in one. */
	expect_live_counters(_metadata, &self->base);
	if (self->host_mnt[0])
		EXPECT_EQ(0, lfs_umount(self->host_mnt));
	EXPECT_FALSE(is_mountpoint(self->dir)) TH_LOG("a namespace's mount leaked to the host");
	rmdir(self->dir);
	rmdir(self->dir2);
}

/* -------------------------------------------------------------- tests */

/* Without a user namespace an unprivileged user can neither mount nor configure an instance. */
TEST_F_TIMEOUT(rootless, no_mount_without_a_user_namespace, LFS_TIMEOUT)
{
	RUN_AS(USER_ID, USER_ID) {
		EXPECT_EQ(-1, mount("none", self->dir, lfs_fstype(), 0, NULL));
		EXPECT_EQ(EPERM, errno);
		EXPECT_EQ(-1, fsopen(lfs_fstype(), FSOPEN_CLOEXEC));
		EXPECT_EQ(EPERM, errno);
	}
	EXPECT_FALSE(is_mountpoint(self->dir));
}

/*
 * `unshare -Urm` then `mount -t locustfs`: the instance works as on the host (create, join,
 * poll, write, auto-delete at the last close); the root directory and files belong to the
 * mounter, uid 0 inside and USER_ID from the host; the mount is invisible from the host.
 */
TEST_F_TIMEOUT(rootless, mount_use_and_auto_delete_in_own_namespace, LFS_TIMEOUT)
{
	char f[LFS_PATH_MAX], host[LFS_PATH_MAX];
	int sock;
	pid_t pid = fork_with_socket(_metadata, &sock);

	path_join(f, self->dir, "msg");
	if (pid == 0) {
		struct epoll_event ev = { .events = EPOLLIN }, got;
		int a, b, ep;
		struct stat st;

		become(_metadata, USER_ID);
		enter_own_userns(_metadata);
		ASSERT_EQ(0, mount("none", self->dir, lfs_fstype(), 0, NULL))
			TH_LOG("mount in a user namespace: %s", strerror(errno));
		ASSERT_EQ(0, stat(self->dir, &st));
		EXPECT_EQ(0U, st.st_uid);
		EXPECT_EQ(0U, st.st_gid);
		EXPECT_EQ(01777U, st.st_mode & 07777);
		a = open(f, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
		ASSERT_GE(a, 0) TH_LOG("create: %s", strerror(errno));
		b = open(f, O_RDWR | O_CLOEXEC);
		ASSERT_GE(b, 0) TH_LOG("join: %s", strerror(errno));
		ASSERT_EQ(0, fstat(a, &st));
		EXPECT_EQ(0U, st.st_uid);
		EXPECT_EQ(0U, st.st_gid);
		ep = epoll_create1(EPOLL_CLOEXEC);
		ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev));
		EXPECT_EQ(0, epoll_wait(ep, &got, 1, 0)) TH_LOG("an empty file is not readable");
		ASSERT_EQ(5, write(b, "hello", 5));
		ASSERT_EQ(1, epoll_wait(ep, &got, 1, WAKE_TIMEOUT_MS)) TH_LOG("write woke nobody");
		EXPECT_NE(0U, got.events & EPOLLIN);
		ASSERT_EQ(0, send_byte(sock, 'R'));
		ASSERT_EQ('G', recv_byte(sock, STEP_MS));
		close(ep);
		close(a);
		close(b);
		EXPECT_FALSE(path_exists(f)) TH_LOG("the last close did not delete the file");
		EXPECT_EQ(0, umount(self->dir)) TH_LOG("umount: %s", strerror(errno));
		_exit(0);
	}
	ASSERT_EQ('R', recv_byte(sock, STEP_MS));
	/* From the host: owned by the mounter's real ids; not mounted in the host's namespace. */
	expect_owner(_metadata, via_child(host, pid, self->dir), USER_ID, USER_ID);
	expect_owner(_metadata, via_child(host, pid, f), USER_ID, USER_ID);
	EXPECT_FALSE(path_exists(f)) TH_LOG("the namespace's file is visible on the host");
	EXPECT_FALSE(is_mountpoint(self->dir));
	EXPECT_EQ(self->base.live_files + 1, lfs_counter("live_files"));
	ASSERT_EQ(0, send_byte(sock, 'G'));
	join_child(_metadata, pid);
}

/*
 * uid= and gid= are ids of the mounter's namespace: with the subordinate-id map, uid=1000 is
 * USER_ID + 1000 on the host, /proc/mounts shows each reader its own number, and an id the
 * namespace does not map fails the mount (and a remount) with EINVAL and a message naming the
 * option.
 */
TEST_F_TIMEOUT(rootless, uid_and_gid_are_read_in_the_mounters_namespace, LFS_TIMEOUT)
{
	char host[LFS_PATH_MAX], mounts[64];
	int sock;
	pid_t pid = fork_with_socket(_metadata, &sock);

	if (pid == 0) {
		char msg[512];

		become(_metadata, USER_ID);
		enter_subid_userns(_metadata, sock);
		ASSERT_EQ(0, mount("none", self->dir, lfs_fstype(), 0, "uid=1000,gid=2000"))
			TH_LOG("mount: %s", strerror(errno));
		expect_owner(_metadata, self->dir, 1000, 2000);
		EXPECT_TRUE(mount_has_option(self->dir, "uid=1000"));
		EXPECT_TRUE(mount_has_option(self->dir, "gid=2000"));
		ASSERT_EQ(0, send_byte(sock, 'R'));
		ASSERT_EQ('G', recv_byte(sock, STEP_MS));
		/* Ids past the map. */
		EXPECT_EQ(-EINVAL, fs_create("uid=70000", msg, sizeof(msg)));
		EXPECT_TRUE(strstr(msg, "'uid'") && strstr(msg, "no mapping")) TH_LOG("'%s'", msg);
		EXPECT_EQ(-EINVAL, fs_create("gid=65536", msg, sizeof(msg)));
		EXPECT_TRUE(strstr(msg, "'gid'") && strstr(msg, "no mapping")) TH_LOG("'%s'", msg);
		EXPECT_EQ(-1, mount("none", self->dir2, lfs_fstype(), 0, "uid=70000"));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_FALSE(is_mountpoint(self->dir2));
		/* A remount reads ids in the instance's namespace too. */
		EXPECT_EQ(0, lfs_remount(self->dir, "uid=3000"));
		expect_owner(_metadata, self->dir, 3000, 2000);
		EXPECT_EQ(-EINVAL, lfs_remount(self->dir, "uid=70000"));
		expect_owner(_metadata, self->dir, 3000, 2000);
		_exit(0);
	}
	set_subid_maps(_metadata, sock, pid);
	ASSERT_EQ('R', recv_byte(sock, STEP_MS));
	expect_owner(_metadata, via_child(host, pid, self->dir), USER_ID + 1000, USER_ID + 2000);
	/* The host reads the host's numbers in the child's /proc/mounts. */
	snprintf(mounts, sizeof(mounts), "/proc/%d/mounts", pid);
	EXPECT_TRUE(mounts_have_option(mounts, self->dir, "uid=101000"));
	EXPECT_TRUE(mounts_have_option(mounts, self->dir, "gid=102000"));
	ASSERT_EQ(0, send_byte(sock, 'G'));
	join_child(_metadata, pid);
}

/*
 * An idmapped mount of the instance (mount_setattr(MOUNT_ATTR_IDMAP) with a user namespace
 * I that maps its 0..99 to the instance's 1000..1099):
 *
 *   the instance (dir)        idmapped mount (dir2)
 *   ------------------        ---------------------
 *   file a, owner 0     ->    shown as 1000        (0 seen through I)
 *   file b, owner 5     <-    created by fsuid 1005
 *   b chowned to 7      <-    fchown to 1007
 *   -                   <-    a creator the idmap cannot map: EOVERFLOW
 *
 * Ids are as the instance's namespace U sees them; the host sees USER_ID more.
 */
TEST_F_TIMEOUT(rootless, idmapped_mount_maps_owners_and_creators, LFS_TIMEOUT)
{
	char host[LFS_PATH_MAX], a[LFS_PATH_MAX], b[LFS_PATH_MAX], a2[LFS_PATH_MAX];
	char b2[LFS_PATH_MAX];
	int sock;
	pid_t pid = fork_with_socket(_metadata, &sock);

	path_join(a, self->dir, "a");
	path_join(b, self->dir, "b");
	path_join(a2, self->dir2, "a");
	path_join(b2, self->dir2, "b");
	if (pid == 0) {
		struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP };
		int fa, fb, tree, nsfd, sync[2];
		char path[64];
		pid_t idmap_owner;

		become(_metadata, USER_ID);
		enter_subid_userns(_metadata, sock);
		ASSERT_EQ(0, mount("none", self->dir, lfs_fstype(), 0, NULL));

		/* The idmap's namespace: a child of U mapping 0..99 to U's 1000..1099. */
		ASSERT_EQ(0, pipe2(sync, O_CLOEXEC));
		idmap_owner = fork_tied();
		ASSERT_GE(idmap_owner, 0);
		if (idmap_owner == 0) {
			char c;

			close(sync[1]);
			if (unshare(CLONE_NEWUSER))
				_exit(1);
			/* Waits, holding the namespace, until its parent closes the pipe. */
			while (read(sync[0], &c, 1) > 0)
				;
			_exit(0);
		}
		close(sync[0]);
		snprintf(path, sizeof(path), "/proc/%d/ns/user", idmap_owner);
		for (int i = 0; i < WAKE_TIMEOUT_MS; i++) { /* until it has unshared */
			struct stat mine, its;

			if (!stat("/proc/self/ns/user", &mine) && !stat(path, &its) &&
			    mine.st_ino != its.st_ino)
				break;
			sleep_ms(1);
		}
		snprintf(path, sizeof(path), "/proc/%d/uid_map", idmap_owner);
		ASSERT_EQ(0, write_text(path, "0 1000 100\n"));
		snprintf(path, sizeof(path), "/proc/%d/gid_map", idmap_owner);
		ASSERT_EQ(0, write_text(path, "0 1000 100\n"));
		snprintf(path, sizeof(path), "/proc/%d/ns/user", idmap_owner);
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		ASSERT_GE(nsfd, 0);

		tree = open_tree(AT_FDCWD, self->dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		ASSERT_GE(tree, 0) TH_LOG("open_tree: %s", strerror(errno));
		attr.userns_fd = nsfd;
		ASSERT_EQ(0, mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)))
			TH_LOG("mount_setattr(MOUNT_ATTR_IDMAP): %s", strerror(errno));
		ASSERT_EQ(0, move_mount(tree, "", AT_FDCWD, self->dir2, MOVE_MOUNT_F_EMPTY_PATH));
		close(tree);
		close(nsfd);
		close(sync[1]);
		join_child(_metadata, idmap_owner);

		fa = open(a, O_CREAT | O_RDWR | O_CLOEXEC, 0666);
		ASSERT_GE(fa, 0);
		expect_owner(_metadata, a, 0U, 0U);
		expect_owner(_metadata, a2, 1000, 1000);
		/* Created through the idmapped mount by fsuid 1005: owner 5 in the instance. */
		setfsuid(1005);
		setfsgid(1005);
		fb = open(b2, O_CREAT | O_RDWR | O_CLOEXEC, 0666);
		ASSERT_GE(fb, 0) TH_LOG("create through the idmapped mount: %s", strerror(errno));
		/* A creator the idmap does not map. */
		setfsuid(0);
		setfsgid(0);
		EXPECT_EQ(-1, open(path_join(path, self->dir2, "c"), O_CREAT | O_RDWR, 0666));
		EXPECT_EQ(EOVERFLOW, errno);
		expect_owner(_metadata, b, 5, 5);
		expect_owner(_metadata, b2, 1005, 1005);
		/* setattr through the idmapped mount: the new owner goes through the idmap. */
		EXPECT_EQ(0, chown(b2, 1007, 1007)) TH_LOG("chown: %s", strerror(errno));
		expect_owner(_metadata, b, 7, 7);
		ASSERT_EQ(0, send_byte(sock, 'R'));
		ASSERT_EQ('G', recv_byte(sock, STEP_MS));
		close(fa);
		close(fb);
		EXPECT_FALSE(path_exists(a));
		EXPECT_FALSE(path_exists(b2));
		_exit(0);
	}
	set_subid_maps(_metadata, sock, pid);
	ASSERT_EQ('R', recv_byte(sock, STEP_MS));
	expect_owner(_metadata, via_child(host, pid, a), USER_ID, USER_ID);
	expect_owner(_metadata, via_child(host, pid, a2), USER_ID + 1000, USER_ID + 1000);
	expect_owner(_metadata, via_child(host, pid, b), USER_ID + 7, USER_ID + 7);
	ASSERT_EQ(0, send_byte(sock, 'G'));
	join_child(_metadata, pid);
}

/*
 * An instance the user did not mount stays out of reach: the host's instance cannot be
 * remounted (neither with mount(2) nor fspick + FSCONFIG_CMD_RECONFIGURE) from the user's own
 * namespace or without one; another user cannot get at the user's instance through /proc.
 */
TEST_F_TIMEOUT(rootless, no_reach_beyond_own_instance, LFS_TIMEOUT)
{
	char theirs[LFS_PATH_MAX];
	struct statfs before, after;
	int sock;
	pid_t pid;

	ASSERT_EQ(0, lfs_mount(self->host_mnt, "size=1m"));
	ASSERT_EQ(0, statfs(self->host_mnt, &before));
	pid = fork_tied();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int fd;

		become(_metadata, USER_ID);
		EXPECT_EQ(-EPERM, lfs_remount(self->host_mnt, "size=2m"));
		enter_own_userns(_metadata);
		EXPECT_EQ(-EPERM, lfs_remount(self->host_mnt, "size=2m"));
		fd = fspick(AT_FDCWD, self->host_mnt, FSPICK_CLOEXEC);
		if (fd >= 0) {
			EXPECT_EQ(0, fsconfig(fd, FSCONFIG_SET_STRING, "size", "2m", 0));
			EXPECT_EQ(-1, fsconfig(fd, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0));
			EXPECT_EQ(EPERM, errno);
			close(fd);
		} else {
			EXPECT_EQ(EPERM, errno);
		}
		EXPECT_EQ(-1, umount(self->host_mnt));
		_exit(0);
	}
	join_child(_metadata, pid);
	ASSERT_EQ(0, statfs(self->host_mnt, &after));
	EXPECT_EQ(before.f_blocks, after.f_blocks) TH_LOG("the host's instance was changed");

	/* The user's own instance, and another user looking for it. */
	pid = fork_with_socket(_metadata, &sock);
	if (pid == 0) {
		become(_metadata, USER_ID);
		enter_own_userns(_metadata);
		ASSERT_EQ(0, mount("none", self->dir, lfs_fstype(), 0, NULL));
		ASSERT_EQ(0, send_byte(sock, 'R'));
		ASSERT_EQ('G', recv_byte(sock, STEP_MS));
		_exit(0);
	}
	ASSERT_EQ('R', recv_byte(sock, STEP_MS));
	via_child(theirs, pid, self->dir);
	RUN_AS(OTHER_ID, OTHER_ID) {
		int fd = open(theirs, O_RDONLY | O_DIRECTORY);

		EXPECT_EQ(-1, fd) TH_LOG("another user reached the instance through /proc");
		EXPECT_EQ(EACCES, errno);
	}
	ASSERT_EQ(0, send_byte(sock, 'G'));
	join_child(_metadata, pid);
}

/*
 * A user-namespace mount gets a quarter of the host's default size and max_files, may ask
 * for at most the host's defaults (EINVAL and a message naming the option past them, at
 * mount and remount), and cannot pass the limits it has: ENOSPC past size and max_files.
 */
TEST_F_TIMEOUT(rootless, limits_bound_an_unprivileged_mounter, LFS_TIMEOUT)
{
	struct statfs host;
	pid_t pid;

	ASSERT_EQ(0, lfs_mount(self->host_mnt, NULL));
	ASSERT_EQ(0, statfs(self->host_mnt, &host));
	pid = fork_tied();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char opt[64], msg[512], f[LFS_PATH_MAX], page[LFS_PAGE] = { 0 };
		unsigned long long ceiling = (unsigned long long)host.f_blocks * LFS_PAGE;
		struct statfs st;
		int fds[3], i;

		become(_metadata, USER_ID);
		enter_own_userns(_metadata);
		ASSERT_EQ(0, fs_mount_at(NULL, self->dir, msg, sizeof(msg))) TH_LOG("'%s'", msg);
		ASSERT_EQ(0, statfs(self->dir, &st));
		EXPECT_EQ(host.f_blocks / 4, st.f_blocks);
		EXPECT_EQ(host.f_files / 4, st.f_files);
		EXPECT_EQ(0, umount(self->dir));

		snprintf(opt, sizeof(opt), "size=%llu", ceiling + LFS_PAGE);
		EXPECT_EQ(-EINVAL, fs_create(opt, msg, sizeof(msg)));
		EXPECT_TRUE(strstr(msg, "'size'") && strstr(msg, "user namespace"))
			TH_LOG("'%s'", msg);
		snprintf(opt, sizeof(opt), "max_files=%llu", (unsigned long long)host.f_files + 1);
		EXPECT_EQ(-EINVAL, fs_create(opt, msg, sizeof(msg)));
		EXPECT_TRUE(strstr(msg, "'max_files'") && strstr(msg, "user namespace"))
			TH_LOG("'%s'", msg);
		snprintf(opt, sizeof(opt), "size=%llu", ceiling);
		i = fs_create(opt, msg, sizeof(msg));
		EXPECT_GE(i, 0) TH_LOG("the host's default size refused: '%s'", msg);
		if (i >= 0)
			close(i);

		ASSERT_EQ(0, mount("none", self->dir, lfs_fstype(), 0, "size=8k,max_files=2"));
		snprintf(opt, sizeof(opt), "size=%llu", ceiling + LFS_PAGE);
		EXPECT_EQ(-EINVAL, lfs_remount(self->dir, opt));
		for (i = 0; i < 2; i++) {
			fds[i] = open(path_join(f, self->dir, i ? "f1" : "f0"),
				      O_CREAT | O_RDWR | O_CLOEXEC, 0600);
			ASSERT_GE(fds[i], 0);
		}
		fds[2] = open(path_join(f, self->dir, "f2"), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
		EXPECT_EQ(-1, fds[2]);
		EXPECT_EQ(ENOSPC, errno);
		EXPECT_EQ(LFS_PAGE, write(fds[0], page, LFS_PAGE));
		EXPECT_EQ(LFS_PAGE, write(fds[1], page, LFS_PAGE));
		EXPECT_EQ(-1, write(fds[1], page, LFS_PAGE));
		EXPECT_EQ(ENOSPC, errno);
		/* Its own instance it may remount, within the ceiling. */
		EXPECT_EQ(0, lfs_remount(self->dir, "size=12k"));
		EXPECT_EQ(LFS_PAGE, write(fds[1], page, LFS_PAGE));
		for (i = 0; i < 2; i++)
			close(fds[i]);
		EXPECT_EQ(0, count_entries(self->dir));
		_exit(0);
	}
	join_child(_metadata, pid);
}

/*
 * One user's instances share one bound (the module parameter user_ns_size, here 64 KiB):
 * however many user namespaces and instances a user makes, their files together hold no more,
 * while another user has a bound of their own. A write past it writes what fits, then ENOSPC;
 * an instance that goes away gives its bytes back.
 *
 *   test (root): reload the module with user_ns_size=65536
 *   child A (USER_ID, namespace 1): instance size=64k, 48 KiB written, held
 *   child B (USER_ID, namespace 2): instance size=64k, 32 KiB asked: 16 KiB written, then ENOSPC
 *   child C (OTHER_ID, namespace 3): instance size=64k, 64 KiB written
 *   A exits (its namespace and instance with it): B writes 4 KiB again
 */
#define USER_BOUND 65536

/* In a child: mounts an instance on DIR and opens a file in it for writing. */
static int user_instance_file(struct __test_metadata *_metadata, const char *dir)
{
	char msg[512], f[LFS_PATH_MAX];
	int fd;

	EXPECT_EQ(0, fs_mount_at("size=64k", dir, msg, sizeof(msg))) TH_LOG("'%s'", msg);
	fd = open(path_join(f, dir, "data"), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	EXPECT_GE(fd, 0) TH_LOG("create: %s", strerror(errno));
	return fd;
}

TEST_F_TIMEOUT(rootless, one_bound_for_all_instances_of_a_user, LFS_TIMEOUT)
{
	static char chunk[USER_BOUND];
	int sa, sb, fd;
	pid_t a, b, c;

	if (!getenv("LOCUSTFS_KO"))
		SKIP(return, "LOCUSTFS_KO (the module's path) is not set");
	ASSERT_EQ(0, lfs_module_unload_settled()) TH_LOG("rmmod locustfs: %s", strerror(errno));
	ASSERT_EQ(0, lfs_module_load("user_ns_size=65536")) TH_LOG("insmod: %s", strerror(errno));
	memset(chunk, 'u', sizeof(chunk));

	a = fork_with_socket(_metadata, &sa);
	if (a == 0) {
		become(_metadata, USER_ID);
		enter_own_userns(_metadata);
		fd = user_instance_file(_metadata, self->dir);
		ASSERT_EQ(48 * 1024, write(fd, chunk, 48 * 1024));
		ASSERT_EQ(0, send_byte(sa, 'A'));
		ASSERT_EQ('Q', recv_byte(sa, STEP_MS));
		_exit(_metadata->exit_code);
	}
	EXPECT_EQ('A', recv_byte(sa, STEP_MS));

	b = fork_with_socket(_metadata, &sb);
	if (b == 0) {
		become(_metadata, USER_ID);
		enter_own_userns(_metadata);
		fd = user_instance_file(_metadata, self->dir);
		EXPECT_EQ(16 * 1024, write(fd, chunk, 32 * 1024))
			TH_LOG("the user's bound leaves 16 KiB: %s", strerror(errno));
		EXPECT_EQ(-1, write(fd, chunk, 4096));
		EXPECT_EQ(ENOSPC, errno);
		EXPECT_EQ(-1, ftruncate(fd, 32 * 1024)) TH_LOG("growing by truncate, past the bound");
		EXPECT_EQ(ENOSPC, errno);
		ASSERT_EQ(0, send_byte(sb, 'B'));
		ASSERT_EQ('R', recv_byte(sb, STEP_MS));
		EXPECT_EQ(4096, write(fd, chunk, 4096)) TH_LOG("after the other instance went away: %s",
							    strerror(errno));
		_exit(_metadata->exit_code);
	}
	EXPECT_EQ('B', recv_byte(sb, STEP_MS));

	c = fork_tied();
	ASSERT_GE(c, 0);
	if (c == 0) {
		become(_metadata, OTHER_ID);
		enter_own_userns(_metadata);
		fd = user_instance_file(_metadata, self->dir);
		EXPECT_EQ(USER_BOUND, write(fd, chunk, USER_BOUND)) TH_LOG("another user's bound");
		_exit(_metadata->exit_code);
	}
	join_child(_metadata, c);
	EXPECT_EQ(0, send_byte(sa, 'Q'));
	join_child(_metadata, a);
	EXPECT_EQ(0, send_byte(sb, 'R'));
	join_child(_metadata, b);
	close(sa);
	close(sb);

	EXPECT_EQ(0, lfs_module_unload_settled());
	EXPECT_EQ(0, lfs_module_load("")) TH_LOG("insmod: %s", strerror(errno));
}

LFS_MAIN
