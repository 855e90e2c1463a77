// SPDX-License-Identifier: GPL-2.0
/*
 * stress_seed: processes seed files, watch them through epoll and nested epoll, share them
 * (dup, fork, SCM_RIGHTS) and end (exit, or SIGKILL while blocked in epoll_wait); every file
 * must disappear with the last process, descriptor in flight or received copy holding it.
 *
 * Topology of one iteration (P children, K files each; repeated SEED_ITERATIONS times for
 * each test case, one test case per share mode x end mode):
 *
 *  test process (monitor, child subreaper)            child c, in its own process group
 *  ───────────────────────────────────────            ─────────────────────────────────────
 *   inotify(root) <── IN_CREATE / IN_DELETE ───┐       mkdir'd by the monitor: root/c<c>/
 *   ready pipe    <── 'r' once checked ────────┼──┐     w[j] = open(c<c>/f<j>, O_CREAT|O_EXCL)
 *   go pipe       ──> 'x' (end = exit) ───────┐│  │     r[j] = open(c<c>/f<j>)      (joins)
 *   unix socket   <── SCM_RIGHTS (scm modes) ─┼┼┐ │     write(w[j]); even j: lseek(r[j], END)
 *                                             │││ │
 *                                             │││ │     E_lt  (level) <── r[0..K-1]  IN
 *                                             │││ │     E_et  (edge)  <── r[0..K-1]  IN|ET
 *                                             ││└─┤                   <── go pipe    IN
 *                                             ││  │     E_top (level) <── E_lt, E_et  (nested)
 *                                             ││  │
 *                                             ││  │     share mode:
 *                                             ││  │       none
 *                                             ││  │       dup:  every fd dup'ed, originals closed
 *                                             ││  │       fork: grandchild g inherits everything,
 *                                             ││  │             writes to the even files, then
 *                                             ││  │             blocks in poll(go)
 *                                             ││  │       scm_hold:     all fds go to the monitor,
 *                                             ││  │                     which receives them
 *                                             ││  │       scm_inflight: sent, never received
 *                                             │└──┘     then blocks in epoll_wait(E_et)
 *                                             └──────   end mode: 'x' on go (exit), or SIGKILL
 *                                                       of the process group once blocked
 *
 * Checked in the child: E_lt reports exactly the readable (odd) files, E_et the same once,
 * E_top is readable; after the grandchild's writes, E_lt reports all K and E_et exactly the
 * newly written (even) ones - no missed and no spurious EPOLLIN.
 * Checked by the monitor after reaping everything: every file is gone (directories rmdir),
 * unless the monitor holds received fds or fds are in flight - then all K x P files live on
 * until it closes them or its socket; inotify saw K x P creations and deletions; counters:
 * files_created and files_auto_deleted rose by K x P, live_files, live_queues and
 * bytes_in_use are back where they were.
 *
 * Parameters (environment):
 *   SEED_ITERATIONS  iterations per test case (default 6; 1000 and more are fine)
 *   SEED_PROCS       children per iteration, P (default 2)
 *   SEED_FILES       files per child, K (default 4, at most 20)
 *   SOAK_SECONDS     run the program for about this long in all: each test case keeps
 *                    iterating until its share of the time is used
 */
#include "common.h"

enum share { SHARE_NONE, SHARE_DUP, SHARE_FORK, SHARE_SCM_HOLD, SHARE_SCM_INFLIGHT };

#define MAX_FILES 20
#define MAX_PROCS 16

/* The test cases, among which SOAK_SECONDS is shared: 10 variants x 1 test. */
#define CASES 10

static long iterations, nprocs, nfiles, soak_ms_per_case;

/* Reads the parameters from the environment (once: the first caller may be a constructor). */
static void read_params(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	iterations = env_long("SEED_ITERATIONS", 6);
	nprocs = env_long("SEED_PROCS", 2);
	nfiles = env_long("SEED_FILES", 4);
	soak_ms_per_case = env_long("SOAK_SECONDS", 0) * 1000 / CASES;
}

/* Each test case's harness timeout: about 1 s per iteration and process is plenty. */
static int case_timeout(void)
{
	read_params();
	return lfs_test_timeout(120 + iterations * nprocs + soak_ms_per_case / 1000);
}

/* What one child works with (in the child; the monitor keeps its own side). */
struct seed {
	int w[MAX_FILES], r[MAX_FILES];
	int e_lt, e_et, e_top;
	int ready, go, sock; /* pipe write end, pipe read end, socket end */
};

/* Exit codes of a child: which check failed. */
enum {
	CHILD_OK,
	CHILD_SETUP,
	CHILD_LT_INITIAL,
	CHILD_ET_INITIAL,
	CHILD_ET_REPEAT,
	CHILD_NESTED,
	CHILD_DUP,
	CHILD_FORK,
	CHILD_LT_AFTER_FORK,
	CHILD_ET_AFTER_FORK,
	CHILD_SCM,
	CHILD_READY,
};

/* Bit set of the files E reports readable within TIMEOUT_MS (data.u32 = file index). */
static unsigned int reported(int ep, int timeout_ms)
{
	struct epoll_event ev[MAX_FILES + 2];
	unsigned int set = 0;
	int n, i;

	n = epoll_wait(ep, ev, MAX_FILES + 2, timeout_ms);
	for (i = 0; i < n; i++)
		if ((ev[i].events & EPOLLIN) && ev[i].data.u32 < MAX_FILES)
			set |= 1u << ev[i].data.u32;
	return set;
}

static int epoll_add(int ep, int fd, uint32_t events, uint32_t data)
{
	struct epoll_event ev = { .events = events, .data.u32 = data };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static unsigned int all_files(void)
{
	return (1u << nfiles) - 1;
}

static unsigned int odd_files(void)
{
	return all_files() & 0xaaaaaaaau;
}

/* Child c's work up to blocking; returns an exit code when a check fails. */
static int child_seed(const char *dir, struct seed *s, enum share share)
{
	char p[LFS_PATH_MAX], name[16];
	struct epoll_event evs[2];
	pid_t g;
	int j, sync[2];

	s->e_lt = epoll_create1(0);
	s->e_et = epoll_create1(0);
	s->e_top = epoll_create1(0);
	if (s->e_lt < 0 || s->e_et < 0 || s->e_top < 0)
		return CHILD_SETUP;
	for (j = 0; j < nfiles; j++) {
		snprintf(name, sizeof(name), "f%d", j);
		s->w[j] = open(path_join(p, dir, name), O_CREAT | O_EXCL | O_RDWR, 0644);
		if (s->w[j] < 0)
			return CHILD_SETUP;
		s->r[j] = open(p, O_RDONLY);
		if (s->r[j] < 0 || write(s->w[j], name, strlen(name)) != (ssize_t)strlen(name))
			return CHILD_SETUP;
		if (j % 2 == 0 && lseek(s->r[j], 0, SEEK_END) < 0)
			return CHILD_SETUP;
		if (epoll_add(s->e_lt, s->r[j], EPOLLIN, j) ||
		    epoll_add(s->e_et, s->r[j], EPOLLIN | EPOLLET, j))
			return CHILD_SETUP;
	}
	if (epoll_add(s->e_et, s->go, EPOLLIN, MAX_FILES) ||
	    epoll_add(s->e_top, s->e_lt, EPOLLIN, MAX_FILES) ||
	    epoll_add(s->e_top, s->e_et, EPOLLIN, MAX_FILES + 1))
		return CHILD_SETUP;

	if (reported(s->e_lt, 0) != odd_files())
		return CHILD_LT_INITIAL;
	if (reported(s->e_et, 0) != odd_files())
		return CHILD_ET_INITIAL;
	if (reported(s->e_et, 0) != 0)
		return CHILD_ET_REPEAT;
	if (epoll_wait(s->e_top, evs, 2, 0) < 1)
		return CHILD_NESTED;

	switch (share) {
	case SHARE_DUP:
		for (j = 0; j < nfiles; j++) {
			int w = dup(s->w[j]), r = dup(s->r[j]);

			if (w < 0 || r < 0 || close(s->w[j]) || close(s->r[j]))
				return CHILD_DUP;
			s->w[j] = w;
			s->r[j] = r;
		}
		/* The registrations stay: they belong to the descriptions, not the numbers. */
		if (reported(s->e_lt, 0) != odd_files())
			return CHILD_DUP;
		break;
	case SHARE_FORK:
		if (pipe(sync))
			return CHILD_FORK;
		g = fork_tied();
		if (g < 0)
			return CHILD_FORK;
		if (g == 0) {
			for (j = 0; j < nfiles; j += 2)
				if (write(s->w[j], "g", 1) != 1)
					_exit(CHILD_FORK);
			send_byte(sync[1], 'g');
			/* Until go: poll() leaves the byte and E_et's edges to the child. */
			poll(&(struct pollfd){ .fd = s->go, .events = POLLIN }, 1, -1);
			_exit(0);
		}
		if (recv_byte(sync[0], 3 * WAKE_TIMEOUT_MS) != 'g')
			return CHILD_FORK;
		if (reported(s->e_lt, 0) != all_files())
			return CHILD_LT_AFTER_FORK;
		if (reported(s->e_et, 0) != (all_files() & ~odd_files()))
			return CHILD_ET_AFTER_FORK;
		break;
	case SHARE_SCM_HOLD:
	case SHARE_SCM_INFLIGHT: {
		int fds[2 * MAX_FILES + 3], n = 0;

		for (j = 0; j < nfiles; j++) {
			fds[n++] = s->w[j];
			fds[n++] = s->r[j];
		}
		fds[n++] = s->e_lt;
		fds[n++] = s->e_et;
		fds[n++] = s->e_top;
		if (send_fds(s->sock, fds, n))
			return CHILD_SCM;
		break;
	}
	default:
		break;
	}
	return send_byte(s->ready, 'r') ? CHILD_READY : CHILD_OK;
}

static void __noreturn child_main(const char *dir, struct seed *s, enum share share)
{
	struct epoll_event ev;
	int ret;

	setpgid(0, 0);
	ret = child_seed(dir, s, share);
	if (ret) {
		fprintf(stderr, "# seed child %d: check %d failed (errno %d)\n",
			getpid(), ret, errno);
		_exit(ret);
	}
	/* Blocks until go (edge-triggered: the files' edges were all consumed) or SIGKILL. */
	epoll_wait(s->e_et, &ev, 1, -1);
	_exit(0);
}

FIXTURE(seed)
{
	char mnt[LFS_MOUNT_SLOTS][LFS_PATH_MAX];
};

FIXTURE_VARIANT(seed)
{
	enum share share;
	bool kill;
};

FIXTURE_VARIANT_ADD(seed, none_exit) { .share = SHARE_NONE, .kill = false };
FIXTURE_VARIANT_ADD(seed, none_kill) { .share = SHARE_NONE, .kill = true };
FIXTURE_VARIANT_ADD(seed, dup_exit) { .share = SHARE_DUP, .kill = false };
FIXTURE_VARIANT_ADD(seed, dup_kill) { .share = SHARE_DUP, .kill = true };
FIXTURE_VARIANT_ADD(seed, fork_exit) { .share = SHARE_FORK, .kill = false };
FIXTURE_VARIANT_ADD(seed, fork_kill) { .share = SHARE_FORK, .kill = true };
FIXTURE_VARIANT_ADD(seed, scm_hold_exit) { .share = SHARE_SCM_HOLD, .kill = false };
FIXTURE_VARIANT_ADD(seed, scm_hold_kill) { .share = SHARE_SCM_HOLD, .kill = true };
FIXTURE_VARIANT_ADD(seed, scm_inflight_exit) { .share = SHARE_SCM_INFLIGHT, .kill = false };
FIXTURE_VARIANT_ADD(seed, scm_inflight_kill) { .share = SHARE_SCM_INFLIGHT, .kill = true };
FIXTURE_SETUP(seed)
{
	lfs_mount_slot(_metadata, self->mnt, NULL);
}

FIXTURE_TEARDOWN_PARENT(seed)
{
	lfs_teardown_slots(_metadata, self->mnt);
}

/* The monitor's side of one child. */
struct kid {
	pid_t pid;
	int ready, go, sock;		/* read end, write end, socket end */
	int held[2 * MAX_FILES + 3];	/* received descriptors (scm_hold) */
	int nheld;
	char dir[LFS_PATH_MAX];
};

static void reap_orphans(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Waits up to TIMEOUT_MS for every remaining child of this process (grandchildren too). */
static bool reap_all(int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	pid_t r;

	for (;;) {
		r = waitpid(-1, NULL, WNOHANG);
		if (r < 0 && errno == ECHILD)
			return true;
		if (r <= 0) {
			if (now_ms() >= end)
				return false;
			sleep_ms(1);
		}
	}
}

static void one_iteration(struct __test_metadata *_metadata, const char *root,
			  const FIXTURE_VARIANT(seed) *variant, int ifd, int iter)
{
	static const long epoll_nrs[] = { __NR_epoll_wait, __NR_epoll_pwait, -1 };
	bool scm = variant->share == SHARE_SCM_HOLD || variant->share == SHARE_SCM_INFLIGHT;
	struct kid kids[MAX_PROCS];
	struct inotify_tally t = { 0 };
	struct lfs_counters c0, c;
	long total = nprocs * nfiles;
	int i, fds[2], sv[2], st, left;

	ASSERT_EQ(0, lfs_counters_read(&c0));
	for (i = 0; i < nprocs; i++) {
		struct kid *k = &kids[i];
		char name[16];
		struct seed s;

		snprintf(name, sizeof(name), "c%d", i);
		ASSERT_EQ(0, mkdir(path_join(k->dir, root, name), 0755));
		ASSERT_GE(inotify_add_watch(ifd, k->dir, IN_CREATE | IN_DELETE), 0);
		ASSERT_EQ(0, pipe2(fds, O_CLOEXEC));
		k->ready = fds[0];
		s.ready = fds[1];
		ASSERT_EQ(0, pipe2(fds, O_CLOEXEC));
		s.go = fds[0];
		k->go = fds[1];
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
		k->sock = sv[0];
		s.sock = sv[1];
		k->nheld = 0;
		k->pid = fork_tied();
		ASSERT_GE(k->pid, 0);
		if (k->pid == 0)
			child_main(k->dir, &s, variant->share);
		close(s.ready);
		close(s.go);
		close(s.sock);
	}

	for (i = 0; i < nprocs; i++) {
		struct kid *k = &kids[i];

		if (recv_byte(k->ready, 6 * WAKE_TIMEOUT_MS) != 'r') {
			st = wait_child(k->pid, WAKE_TIMEOUT_MS);
			ASSERT_TRUE(false)
				TH_LOG("iteration %d: child %d failed: status %#x (exit code = check)",
				       iter, i, st);
		}
		if (variant->share == SHARE_SCM_HOLD) {
			k->nheld = recv_fds(k->sock, k->held, ARRAY_LEN(k->held));
			ASSERT_EQ(2 * nfiles + 3, k->nheld);
		}
	}
	ASSERT_EQ(total, count_files_tree(root)) TH_LOG("iteration %d: all files live", iter);

	for (i = 0; i < nprocs; i++) {
		struct kid *k = &kids[i];

		if (variant->kill) {
			ASSERT_EQ(0, wait_task_blocked(k->pid, epoll_nrs, NULL, WAKE_TIMEOUT_MS));
			ASSERT_EQ(0, kill(-k->pid, SIGKILL));
		} else {
			ASSERT_EQ(0, send_byte(k->go, 'x'));
		}
	}
	for (i = 0; i < nprocs; i++) {
		st = wait_child(kids[i].pid, 3 * WAKE_TIMEOUT_MS);
		if (variant->kill) {
			EXPECT_TRUE(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
				TH_LOG("iteration %d: child %d status %#x", iter, i, st);
		} else {
			EXPECT_TRUE(exited_ok(st))
				TH_LOG("iteration %d: child %d status %#x", iter, i, st);
		}
	}
	ASSERT_TRUE(reap_all(3 * WAKE_TIMEOUT_MS)) TH_LOG("grandchildren did not end");

	if (scm) {
		ASSERT_EQ(total, count_files_tree(root))
			TH_LOG("iteration %d: fds %s keep the files", iter,
			       variant->share == SHARE_SCM_HOLD ? "received" : "in flight");
		if (variant->share == SHARE_SCM_HOLD)
			EXPECT_EQ(odd_files(), reported(kids[0].held[2 * nfiles], 0))
				TH_LOG("a received epoll instance still reports the readable files");
	}
	for (i = 0; i < nprocs; i++) {
		struct kid *k = &kids[i];

		for (int j = 0; j < k->nheld; j++)
			close(k->held[j]);
		close(k->sock);
		close(k->ready);
		close(k->go);
	}
	left = count_files_tree(root);
	EXPECT_EQ(0, left) TH_LOG("iteration %d: %d files outlived their last holder", iter, left);
	for (i = 0; i < nprocs; i++)
		EXPECT_EQ(0, rmdir(kids[i].dir)) TH_LOG("iteration %d: %s", iter, kids[i].dir);

	ASSERT_EQ(0, inotify_drain(ifd, NULL, &t));
	EXPECT_EQ(total, t.created);
	EXPECT_EQ(total, t.deleted) TH_LOG("iteration %d: IN_DELETE per file", iter);
	ASSERT_EQ(0, lfs_counters_read(&c));
	EXPECT_EQ(c0.files_created + total, c.files_created);
	EXPECT_EQ(c0.files_auto_deleted + total, c.files_auto_deleted);
	EXPECT_EQ(c0.live_files, c.live_files);
	EXPECT_EQ(c0.live_queues, c.live_queues);
	EXPECT_EQ(c0.bytes_in_use, c.bytes_in_use);
}

TEST_F_TIMEOUT(seed, iterate, case_timeout())
{
	int64_t start = now_ms();
	int ifd, iter;

	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_GE(ifd, 0);
	for (iter = 0; iter < iterations || now_ms() - start < soak_ms_per_case; iter++) {
		one_iteration(_metadata, self->mnt[0], variant, ifd, iter);
		if (_metadata->exit_code)
			break;
		reap_orphans();
	}
	TH_LOG("%d iterations of %ld processes x %ld files in %.1f s", iter, nprocs, nfiles,
	       (now_ms() - start) / 1000.0);
	close(ifd);
}

int main(int argc, char **argv)
{
	read_params();
	if (nprocs < 1 || nprocs > MAX_PROCS || nfiles < 1 || nfiles > MAX_FILES) {
		fprintf(stderr, "SEED_PROCS must be 1..%d and SEED_FILES 1..%d\n", MAX_PROCS,
			MAX_FILES);
		return KSFT_FAIL;
	}
	lfs_require_fs(argc, argv);
	return test_harness_run(argc, argv);
}
