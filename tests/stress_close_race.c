// SPDX-License-Identifier: GPL-2.0
/*
 * stress_close_race: waiters blocked in epoll_wait/poll/select/io_uring while other threads
 * and processes write, truncate, unlink, close the last dup or exit; and opens racing with
 * last closes.
 *
 * every_mutation_wakes_every_waiter (lockstep rounds):
 *
 *     waiter threads, one per mechanism, each on its own description of F at EOF
 *     ┌──────────┬──────────┬──────────┬──────────┬──────────┬──────────┬──────────┬──────────┐
 *     │ poll     │ select   │ epoll LT │ epoll ET │ oneshot  │ exclusive│ nested   │ io_uring │
 *     └────┬─────┴────┬─────┴────┬─────┴────┬─────┴────┬─────┴────┬─────┴────┬─────┴────┬─────┘
 *          └──────────┴──────────┴──── F (one inode) ──┴──────────┴──────────┴──────────┘
 *                                          ▲
 *     main thread, once all sleep: append | grow by ftruncate | write through a description
 *     opened for it and closed (a last close of that description) | write by a child process
 *     that joins F and exits; last round: unlink.
 *     Every waiter must report EPOLLIN (EPOLLHUP after the unlink) within WAKE_TIMEOUT_MS,
 *     and not by its own timeout (WAITER_TIMEOUT_MS), then seeks to EOF for the next round.
 *
 * close_while_waiting (per mechanism):
 *
 *     waiter thread ──waits on──> R (description of F) [epoll: the instance also holds G]
 *     main: close(R) while it sleeps, then write F through W, then write G
 *     poll/select/io_uring pin R for the duration of the call, so the close does not release
 *     it and F's write wakes the waiter, which must return within WAKE_TIMEOUT_MS (never by
 *     its timeout) with exactly: poll POLLNVAL (fd R is no longer open), select R readable
 *     (a closed fd counts as ready), io_uring EPOLLIN (its request polls its own reference to
 *     R); epoll dropped R with its last reference: no event for R, but G's write is still
 *     delivered (EPOLLIN). F must vanish once W and every pin are gone.
 *
 * exit_while_waiting:
 *
 *     child process: creates X, thread T blocked on X (mechanism of the round), main thread
 *     blocked in read(); the parent SIGKILLs the child, or the child exits from its main
 *     thread while T sleeps. X must be gone once the child is reaped.
 *
 * open_vs_last_close (RACE_SECONDS):
 *
 *     closer threads:  open(O_CREAT) ─ write ─ close        (each close may be the last)
 *     exiting children: open(O_CREAT) ─ write ─ _exit       (the exit is the last close)
 *     joiner threads:  open() without O_CREAT: ENOENT or the live file
 *     reopen threads:  create NAME.reopened, take an O_PATH fd, hand the descriptor to a
 *                      closer thread and reopen through /proc/self/fd racing with its last
 *                      close: the live file, or ENOENT once the close removed it
 *     Never ESTALE or another error; a descriptor obtained must be a linked file, and while
 *     it is held the name must lead to that same file. The window (an open that found its
 *     file gone, by its name or through /proc: ENOENT, or with O_CREAT a new lookup) must
 *     have been
 *     hit at least once: the module's opens_after_last_close counter.
 *
 * join_while_last_close_waits (RACE_SECONDS):
 *
 *     directory D: CROWD_DIRS subdirectories and the file F
 *     lister thread:  getdents64(D) over and over: holds D's lock (shared) most of the time
 *     closer thread:  open(F, O_CREAT) ─ write ─ close, each close often the last: its
 *                     ->release waits for D's lock (to remove the name) with F still
 *                     counted as open
 *     joiner thread:  open(F) without O_CREAT, which needs no directory lock, so it often
 *                     joins F inside that wait; it holds F until the closer's close has
 *                     returned, then F must still be linked and its name must lead to it.
 *     A last close that removed the name without counting the opener that joined meanwhile
 *     leaves the joiner with a nameless file (tests/mutants/unlink-race.patch). The window
 *     (a joiner that won against a last close under way) must have been hit at least once:
 *     the module's joins_while_closing counter.
 *
 * chaos (RACE_SECONDS): threads open/close/dup/write/truncate/unlink/rename/poll/epoll on a
 * few names while children come and go; only the expected errors may occur, and at the
 * end, every descriptor closed, nothing remains and the counters are back.
 *
 * Parameters (environment):
 *   RACE_SECONDS   duration of the timed test cases (default 4)
 *   RACE_ROUNDS    rounds of the lockstep test cases (default 12)
 *   RACE_THREADS   threads per role in the timed test cases (default 2, at most 8)
 *   SOAK_SECONDS   run the program for about this long in all (shared by the test cases)
 */
#include "common.h"

#define MAX_THREADS 8

/* The test cases, among which SOAK_SECONDS is shared. */
#define CASES 6

static long race_ms, rounds, nthreads, soak_ms_per_case;

/* Reads the parameters from the environment (once: the first caller may be a constructor). */
static void read_params(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	race_ms = env_long("RACE_SECONDS", 4) * 1000;
	rounds = env_long("RACE_ROUNDS", 12);
	nthreads = env_long("RACE_THREADS", 2);
	soak_ms_per_case = env_long("SOAK_SECONDS", 0) * 1000 / CASES;
}

/* Each test case's harness timeout: a timed case's length, or about 10 s per round. */
static int case_timeout(void)
{
	read_params();
	return lfs_test_timeout(120 + race_ms / 1000 + rounds * 10 + soak_ms_per_case / 1000);
}

LFS_FIXTURE(fs, NULL);

/* Rounds to run: RACE_ROUNDS, or more while the soak time lasts. */
static bool more_rounds(int done, int64_t start)
{
	return done < rounds || now_ms() - start < soak_ms_per_case;
}

static int64_t race_end(void)
{
	return now_ms() + (race_ms > soak_ms_per_case ? race_ms : soak_ms_per_case);
}

static bool mech_usable(enum wait_mech m)
{
	return m != MECH_IO_URING || uring_available();
}

/* A child process that joins PATH, writes one byte at its end and exits. */
static void write_from_child(struct __test_metadata *_metadata, const char *path)
{
	pid_t pid = fork_tied();
	int st;

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int fd = open(path, O_WRONLY | O_APPEND);

		_exit(fd < 0 || write(fd, "c", 1) != 1);
	}
	st = wait_child(pid, WAKE_TIMEOUT_MS);
	ASSERT_TRUE(exited_ok(st));
}

/*
 * Joins waiter WT (started with WAITER_TIMEOUT_MS), which the action just done must have
 * woken: within WAKE_TIMEOUT_MS and not by its own timeout, for poll() and select() report
 * the new readiness even then. Returns what it reported, or -ETIME when it was not woken;
 * WHAT names the waiter in the message.
 */
static int join_woken(struct __test_metadata *_metadata, struct waiter *wt, const char *what)
{
	int got = waiter_join_woken(wt);

	EXPECT_NE(-ETIME, got) TH_LOG("%s not woken%s", what, not_woken_note(wt, got));
	return got;
}

TEST_F_TIMEOUT(fs, every_mutation_wakes_every_waiter, case_timeout())
{
	struct waiter wt[MECH_COUNT];
	struct watch w[MECH_COUNT];
	int fds[MECH_COUNT], wfd, n = 0, i, round;
	enum wait_mech mechs[MECH_COUNT];
	char p[LFS_PATH_MAX], msg[96];
	int64_t start = now_ms();
	off_t size = 0;

	wfd = open(path_join(p, self->mnt[0], "F"), O_CREAT | O_RDWR | O_APPEND | O_CLOEXEC, 0644);
	ASSERT_GE(wfd, 0);
	for (i = 0; i < MECH_COUNT; i++) {
		if (!mech_usable(i))
			continue;
		mechs[n] = i;
		fds[n] = open(p, O_RDWR | O_CLOEXEC);
		ASSERT_GE(fds[n], 0);
		ASSERT_EQ(0, watch_init(&w[n], i, fds[n], EPOLLIN | EPOLLRDNORM));
		n++;
	}
	for (round = 0; more_rounds(round, start); round++) {
		const char *what;
		uint32_t ready = EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM;
		bool last = !more_rounds(round + 1, start);

		for (i = 0; i < n; i++)
			ASSERT_EQ(0, waiter_start(&wt[i], &w[i], WAITER_TIMEOUT_MS))
				TH_LOG("round %d: %s waiter did not block", round,
				       mech_name(mechs[i]));
		if (last) {
			what = "unlink";
			ready = EPOLLOUT | EPOLLWRNORM | EPOLLHUP;
			ASSERT_EQ(0, unlink(p));
		} else {
			switch (round % 4) {
			case 0:
				what = "write";
				ASSERT_EQ(1, write(wfd, "w", 1));
				break;
			case 1:
				what = "growing ftruncate";
				ASSERT_EQ(0, ftruncate(wfd, size + 1));
				break;
			case 2: {
				int tmp = open(p, O_WRONLY | O_APPEND);

				what = "write through a description then closed";
				ASSERT_GE(tmp, 0);
				ASSERT_EQ(1, write(tmp, "t", 1));
				ASSERT_EQ(0, close(tmp));
				break;
			}
			default:
				what = "write by a child process that exits";
				write_from_child(_metadata, p);
				break;
			}
			size++;
		}
		for (i = 0; i < n; i++) {
			uint32_t want = watch_expect(&w[i], ready);
			int got;

			snprintf(msg, sizeof(msg), "round %d, %s: %s waiter", round, what,
				 mech_name(mechs[i]));
			got = join_woken(_metadata, &wt[i], msg);
			EXPECT_EQ((int)want, got)
				TH_LOG("%s reported %#x, want %#x%s", msg, got, want,
				       not_woken_note(&wt[i], got));
			if (!last)
				ASSERT_EQ(size, lseek(fds[i], 0, SEEK_END));
		}
		if (last)
			break;
	}
	TH_LOG("%d rounds with %d waiters", round + 1, n);
	for (i = 0; i < n; i++) {
		watch_fini(&w[i]);
		close(fds[i]);
	}
	close(wfd);
}

/*
 * What a waiter of close_while_waiting with M must report (fs/select.c, io_uring/poll.c):
 * poll() and select() hold a reference to R's file in their wait-queue entries
 * (__pollwait), the io_uring poll request one of its own (taken at submission), so close(R)
 * releases nothing, wakes nothing, and F's write wakes the waiter. poll() then finds fd R no
 * longer open: POLLNVAL. select() gets EPOLLNVAL for it too, which is part of POLLIN_SET:
 * R is reported readable. io_uring polls its own reference to R, now before EOF: EPOLLIN.
 * epoll, which holds no reference, lost R with the close: only G's write reports, EPOLLIN.
 */
static int closed_fd_result(enum wait_mech m)
{
	return m == MECH_POLL ? POLLNVAL : EPOLLIN;
}

TEST_F_TIMEOUT(fs, close_while_waiting, case_timeout())
{
	int64_t start = now_ms();
	int round = 0;

	while (more_rounds(round, start)) {
		for (enum wait_mech m = 0; m < MECH_COUNT; m++, round++) {
			char f[LFS_PATH_MAX], g[LFS_PATH_MAX];
			bool epoll = m >= MECH_EPOLL_LT && m <= MECH_EPOLL_NESTED;
			struct epoll_event ev;
			struct waiter wt;
			struct watch w;
			int r, wfd, gfd, got, left, want = closed_fd_result(m);

			if (!mech_usable(m))
				continue;
			wfd = create_file(self->mnt[0], "F", f);
			gfd = create_file(self->mnt[0], "G", g);
			ASSERT_GE(wfd, 0);
			ASSERT_GE(gfd, 0);
			r = open(f, O_RDONLY);
			ASSERT_GE(r, 0);
			ASSERT_EQ(0, watch_init(&w, m, r, EPOLLIN));
			if (epoll) {
				ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = gfd };
				ASSERT_EQ(0, epoll_ctl(w.epfd, EPOLL_CTL_ADD, gfd, &ev));
			}
			/*
			 * The close itself wakes no one: the write to F (poll, select, io_uring) or
			 * to G (epoll) must, and the waiter's own timeout must not end its wait.
			 */
			ASSERT_EQ(0, waiter_start(&wt, &w, WAITER_TIMEOUT_MS))
				TH_LOG("%s waiter did not block", mech_name(m));
			ASSERT_EQ(0, close(r));
			ASSERT_EQ(1, write(wfd, "x", 1));
			if (epoll) {
				/* R is gone from the instance: see that it stays quiet, then G. */
				sleep_ms(QUIET_MS);
				EXPECT_FALSE(atomic_load(&wt.done))
					TH_LOG("%s reported a closed description", mech_name(m));
				/* pwrite: gfd, watched itself, stays at 0, before EOF. */
				ASSERT_EQ(1, pwrite(gfd, "g", 1, 0));
			}
			got = join_woken(_metadata, &wt, mech_name(m));
			EXPECT_GE(got, 0) TH_LOG("%s: %s", mech_name(m), strerror(-got));
			if (epoll) {
				EXPECT_EQ(EPOLLIN, got) TH_LOG("%s: G's event", mech_name(m));
			} else {
				EXPECT_EQ(want, got)
					TH_LOG("%s reported %#x for a closed descriptor, want %#x",
					       mech_name(m), got, want);
			}
			watch_fini(&w);
			ASSERT_EQ(0, close(wfd));
			ASSERT_EQ(0, close(gfd));
			left = wait_files_gone(self->mnt[0], WAKE_TIMEOUT_MS);
			EXPECT_EQ(0, left) TH_LOG("%s: F or G outlived every holder", mech_name(m));
			if (left)
				return;
		}
	}
}

/* Child of exit_while_waiting: X held by a thread blocked on it with mechanism M. */
static void __noreturn exit_child(const char *path, enum wait_mech m, int ready, int go)
{
	struct waiter wt;
	struct watch w;
	int fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0644);

	if (fd < 0 || watch_init(&w, m, fd, EPOLLIN) || waiter_start(&wt, &w, -1) != 0)
		_exit(1);
	send_byte(ready, 'r');
	recv_byte(go, -1);
	_exit(0); /* exit_group while the waiter thread sleeps */
}

TEST_F_TIMEOUT(fs, exit_while_waiting, case_timeout())
{
	int64_t start = now_ms();
	int round = 0;

	while (more_rounds(round, start)) {
		for (enum wait_mech m = 0; m < MECH_COUNT; m++, round++) {
			bool kill_it = round % 2;
			char x[LFS_PATH_MAX];
			int ready[2], go[2], st;
			pid_t pid;

			if (!mech_usable(m))
				continue;
			path_join(x, self->mnt[0], "X");
			ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
			ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
			pid = fork_tied();
			ASSERT_GE(pid, 0);
			if (pid == 0)
				exit_child(x, m, ready[1], go[0]);
			ASSERT_EQ('r', recv_byte(ready[0], 3 * WAKE_TIMEOUT_MS))
				TH_LOG("%s child did not get ready", mech_name(m));
			EXPECT_TRUE(path_exists(x));
			if (kill_it) {
				ASSERT_EQ(0, kill(pid, SIGKILL));
			} else {
				ASSERT_EQ(0, send_byte(go[1], 'g'));
			}
			st = wait_child(pid, WAKE_TIMEOUT_MS);
			EXPECT_NE(-1, st);
			/* io_uring tears its ring down in a worker: allow it a moment. */
			EXPECT_EQ(0, m == MECH_IO_URING ?
				     wait_files_gone(self->mnt[0], WAKE_TIMEOUT_MS) :
				     count_files_tree(self->mnt[0]))
				TH_LOG("%s, %s: X outlived its process", mech_name(m),
				       kill_it ? "SIGKILL" : "exit");
			for (int i = 0; i < 2; i++) {
				close(ready[i]);
				close(go[i]);
			}
		}
	}
}

/* ------------------------------------------------------------ timed races */

static void *exiter_thread(void *arg)
{
	struct race *r = arg;
	pid_t pid;
	int st;

	while (now_ms() < r->end) {
		pid = fork_tied();
		if (pid < 0) {
			race_bad(r, "fork", errno);
			return NULL;
		}
		if (pid == 0) {
			int fd = open(r->path, O_CREAT | O_RDWR, 0644);

			_exit(fd < 0 ? (errno == ESTALE ? 2 : 1) : write(fd, "e", 1) != 1);
		}
		st = wait_child(pid, WAKE_TIMEOUT_MS);
		if (!exited_ok(st))
			race_bad(r, "child open(O_CREAT)+write+exit failed", 0);
		atomic_fetch_add(&r->cycles, 1);
	}
	return NULL;
}

/*
 * Reads the module's race-window counter NAME; -1 when it cannot be read. The counters are
 * module-wide: only this program's test runs during a case, so the difference is its own.
 */
static long long window_hits(const char *name)
{
	return lfs_counter(name);
}

/* Prints how often NAME's window was hit since BEFORE and asserts it was hit at least once. */
#define EXPECT_WINDOW_HIT(counter, before)                                                   \
	do {                                                                              \
		long long __after = window_hits(counter);                                   \
		ksft_print_msg("%s: window %s hit %lld time(s) (%lld -> %lld)\n",       \
			       _metadata->name, counter, __after - (before), (before),      \
			       __after);                                                  \
		EXPECT_GE((before), 0) TH_LOG("counter %s unreadable", counter);             \
		EXPECT_GT(__after - (before), 0)                                          \
			TH_LOG("the race window %s was never hit", counter);                 \
	} while (0)

/* A descriptor handed from the reopener to its closer thread (-1: none), and a stop flag. */
struct handoff {
	atomic_int fd;
	atomic_bool stop;
};

static void *handoff_closer(void *arg)
{
	struct handoff *h = arg;
	int fd;

	while (!atomic_load(&h->stop)) {
		fd = atomic_exchange(&h->fd, -1);
		if (fd >= 0)
			close(fd);
		else
			sched_yield();
	}
	return NULL;
}

/*
 * Thread: creates its own file NAME.reopened, takes an O_PATH fd of it, hands the only real
 * descriptor to a closer thread and, racing with that last close, reopens the file through
 * /proc/self/fd/N: it joins the live file (and its own close is then the last), or finds it
 * gone: ENOENT, never ESTALE.
 */
static void *reopener_thread(void *arg)
{
	struct race *r = arg;
	struct handoff h = { .fd = -1 };
	char path[LFS_PATH_MAX + 16], proc[64];
	struct stat st;
	pthread_t closer;
	int fd, opath, re;

	snprintf(path, sizeof(path), "%s.reopened", r->path);
	if (pthread_create(&closer, NULL, handoff_closer, &h)) {
		race_bad(r, "pthread_create", errno);
		return NULL;
	}
	while (now_ms() < r->end) {
		fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
		if (fd < 0) {
			race_bad(r, "open(O_CREAT) of the reopened file", errno);
			continue;
		}
		opath = open(path, O_PATH | O_CLOEXEC);
		if (opath < 0) {
			race_bad(r, "open(O_PATH)", errno);
			close(fd);
			continue;
		}
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", opath);
		atomic_store(&h.fd, fd);
		re = open(proc, O_RDWR | O_CLOEXEC);
		if (re >= 0) {
			atomic_fetch_add(&r->joins, 1);
			if (fstat(re, &st) || st.st_nlink < 1)
				race_bad(r, "reopened a file with no link", errno);
			close(re);
		} else if (errno == ENOENT) {
			atomic_fetch_add(&r->misses, 1);
		} else {
			race_bad(r, "reopen through /proc/self/fd", errno);
		}
		close(opath);
		while (atomic_load(&h.fd) >= 0)
			sched_yield();
		atomic_fetch_add(&r->cycles, 1);
	}
	atomic_store(&h.stop, true);
	pthread_join(closer, NULL);
	/*
	 * Whether the file outlived its openers is checked once every thread has ended: the
	 * other reopeners share NAME.reopened, and a child an exiter thread forks holds copies
	 * of these descriptors until it exits.
	 */
	return NULL;
}

TEST_F_TIMEOUT(fs, open_vs_last_close, case_timeout())
{
	long long stale0 = window_hits("opens_after_last_close");
	static void *(*const roles[])(void *) = { race_closer, race_joiner, exiter_thread,
						  reopener_thread };
	struct race *r = calloc(1, sizeof(*r));
	char reopened[LFS_PATH_MAX + 16];
	struct lfs_counters c0;

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, lfs_counters_read(&c0));
	path_join(r->path, self->mnt[0], "raced");
	snprintf(reopened, sizeof(reopened), "%s.reopened", r->path);
	r->end = race_end();
	race_run(_metadata, r, roles, ARRAY_LEN(roles), ARRAY_LEN(roles) * nthreads);
	EXPECT_FALSE(path_exists(reopened)) TH_LOG("the reopened file outlived its openers");
	TH_LOG("%ld create/close cycles, %ld joins, %ld misses", atomic_load(&r->cycles),
	       atomic_load(&r->joins), atomic_load(&r->misses));
	EXPECT_EQ(0, atomic_load(&r->bad)) TH_LOG("first violation: %s", r->bad_what);
	EXPECT_WINDOW_HIT("opens_after_last_close", stale0);
	EXPECT_FALSE(path_exists(r->path));
	expect_live_counters(_metadata, &c0);
	free(r);
}

/* Entries in the directory of join_while_last_close_waits: listing them takes a while. */
#define CROWD_DIRS 4000

static void *crowd_lister(void *arg)
{
	struct race *r = arg;
	char dir[LFS_PATH_MAX], buf[1 << 16];
	int dfd;

	snprintf(dir, sizeof(dir), "%s", r->path);
	*strrchr(dir, '/') = 0;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		race_bad(r, "open the crowded directory", errno);
		return NULL;
	}
	while (now_ms() < r->end) {
		long n;

		lseek(dfd, 0, SEEK_SET);
		while ((n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0)
			;
		if (n < 0)
			race_bad(r, "getdents64", errno);
	}
	close(dfd);
	return NULL;
}

static void *crowd_joiner(void *arg)
{
	struct race *r = arg;
	int64_t until;
	long seen;
	int fd;

	while (now_ms() < r->end) {
		seen = atomic_load(&r->cycles);
		fd = race_join(r);
		if (fd < 0)
			continue;
		/* Until the closer's close under way (or the next one) has returned. */
		until = now_ms() + WAKE_TIMEOUT_MS;
		while (atomic_load(&r->cycles) <= seen + 1 && now_ms() < until &&
		       now_ms() < r->end)
			sched_yield();
		race_check_held(r, fd);
		close(fd);
	}
	return NULL;
}

TEST_F_TIMEOUT(fs, join_while_last_close_waits, case_timeout())
{
	static void *(*const roles[])(void *) = { crowd_lister, race_closer, crowd_joiner };
	char dir[LFS_PATH_MAX], sub[LFS_PATH_MAX + 16];
	struct race *r = calloc(1, sizeof(*r));
	long long joins0 = window_hits("joins_while_closing");
	struct lfs_counters c0;
	int i;

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, lfs_counters_read(&c0));
	ASSERT_EQ(0, mkdir(path_join(dir, self->mnt[0], "crowd"), 0755));
	for (i = 0; i < CROWD_DIRS; i++) {
		snprintf(sub, sizeof(sub), "%s/d%d", dir, i);
		ASSERT_EQ(0, mkdir(sub, 0755)) TH_LOG("mkdir %s: %s", sub, strerror(errno));
	}
	path_join(r->path, dir, "raced");
	r->end = race_end();
	race_run(_metadata, r, roles, ARRAY_LEN(roles), ARRAY_LEN(roles));
	TH_LOG("%ld create/close cycles, %ld joins, %ld misses", atomic_load(&r->cycles),
	       atomic_load(&r->joins), atomic_load(&r->misses));
	EXPECT_EQ(0, atomic_load(&r->bad)) TH_LOG("first violation: %s", r->bad_what);
	EXPECT_GT(atomic_load(&r->joins), 0);
	EXPECT_WINDOW_HIT("joins_while_closing", joins0);
	EXPECT_FALSE(path_exists(r->path));
	for (i = 0; i < CROWD_DIRS; i++) {
		snprintf(sub, sizeof(sub), "%s/d%d", dir, i);
		ASSERT_EQ(0, rmdir(sub));
	}
	ASSERT_EQ(0, rmdir(dir));
	expect_live_counters(_metadata, &c0);
	free(r);
}

/* Chaos: every thread picks random operations on a few names. */
#define NNAMES 4

static bool allowed(int err)
{
	/* A name may vanish or appear under any operation; nothing else may fail. */
	return err == ENOENT || err == EEXIST;
}

static void chaos_op(struct race *r, unsigned int *seed, int *held, int nheld)
{
	char a[LFS_PATH_MAX], b[LFS_PATH_MAX], name[8];
	int slot = rand_r(seed) % nheld, fd = held[slot], ret = 0, ep;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT };
	struct pollfd pfd;
	const char *what;

	snprintf(name, sizeof(name), "n%d", rand_r(seed) % NNAMES);
	path_join(a, r->path, name);
	snprintf(name, sizeof(name), "n%d", rand_r(seed) % NNAMES);
	path_join(b, r->path, name);
	switch (rand_r(seed) % 10) {
	case 0:
		what = "open";
		if (fd >= 0)
			close(fd);
		fd = open(a, (rand_r(seed) % 2 ? O_CREAT : 0) | O_RDWR | O_CLOEXEC, 0644);
		held[slot] = fd;
		ret = fd < 0 ? -1 : 0;
		break;
	case 1:
		what = "close";
		if (fd >= 0)
			ret = close(fd);
		held[slot] = -1;
		break;
	case 2:
		what = "dup";
		if (fd >= 0) {
			int d = dup(fd);

			ret = d < 0 ? -1 : close(d);
		}
		break;
	case 3:
		what = "write";
		if (fd >= 0)
			ret = write(fd, "chaos", 5) == 5 ? 0 : -1;
		break;
	case 4:
		what = "ftruncate";
		if (fd >= 0)
			ret = ftruncate(fd, rand_r(seed) % 16384);
		break;
	case 5:
		what = "unlink";
		ret = unlink(a);
		break;
	case 6:
		what = "rename";
		ret = rename(a, b);
		break;
	case 7:
		what = "poll";
		if (fd >= 0) {
			pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
			ret = poll(&pfd, 1, rand_r(seed) % 3) < 0 ? -1 : 0;
		}
		break;
	case 8:
		what = "epoll";
		if (fd >= 0) {
			ep = epoll_create1(EPOLL_CLOEXEC);
			ret = ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ||
			      epoll_wait(ep, &ev, 1, rand_r(seed) % 3) < 0 ? -1 : 0;
			if (ep >= 0)
				close(ep);
		}
		break;
	default:
		what = "read";
		if (fd >= 0) {
			char buf[64];

			ret = read(fd, buf, sizeof(buf)) < 0 ? -1 : 0;
		}
		break;
	}
	if (ret && !allowed(errno))
		race_bad(r, what, errno);
	atomic_fetch_add(&r->cycles, 1);
}

static void *chaos_thread(void *arg)
{
	struct race *r = arg;
	unsigned int seed = (unsigned int)sys_gettid();
	int held[4] = { -1, -1, -1, -1 }, i;

	while (now_ms() < r->end)
		chaos_op(r, &seed, held, ARRAY_LEN(held));
	for (i = 0; i < 4; i++)
		if (held[i] >= 0)
			close(held[i]);
	return NULL;
}

static void *chaos_forker_thread(void *arg)
{
	struct race *r = arg;
	unsigned int seed = (unsigned int)sys_gettid();
	pid_t pid;
	int st;

	while (now_ms() < r->end) {
		pid = fork_tied();
		if (pid < 0) {
			race_bad(r, "fork", errno);
			return NULL;
		}
		if (pid == 0) {
			int held[4] = { -1, -1, -1, -1 };

			for (int i = 0; i < 20; i++)
				chaos_op(r, &seed, held, ARRAY_LEN(held));
			_exit(atomic_load(&r->bad) ? 1 : 0);
		}
		if (rand_r(&seed) % 2)
			kill(pid, SIGKILL);
		st = wait_child(pid, WAKE_TIMEOUT_MS);
		if (st == -1)
			race_bad(r, "a chaos child hung", 0);
		else if (WIFEXITED(st) && WEXITSTATUS(st))
			race_bad(r, "a chaos child met an unexpected error", 0);
		seed++;
	}
	return NULL;
}

TEST_F_TIMEOUT(fs, chaos, case_timeout())
{
	static void *(*const roles[])(void *) = { chaos_thread, chaos_thread, chaos_thread,
						  chaos_forker_thread };
	struct race *r = calloc(1, sizeof(*r));
	struct lfs_counters c0;

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, lfs_counters_read(&c0));
	/* Here r->path is the directory holding the names, r->cycles counts operations. */
	snprintf(r->path, sizeof(r->path), "%s", self->mnt[0]);
	r->end = race_end();
	race_run(_metadata, r, roles, ARRAY_LEN(roles), ARRAY_LEN(roles) * nthreads);
	TH_LOG("%ld operations", atomic_load(&r->cycles));
	EXPECT_EQ(0, atomic_load(&r->bad)) TH_LOG("first unexpected error: %s", r->bad_what);
	EXPECT_EQ(0, count_files_tree(self->mnt[0])) TH_LOG("every descriptor is closed");
	expect_live_counters(_metadata, &c0);
	free(r);
}

int main(int argc, char **argv)
{
	read_params();
	if (nthreads < 1 || nthreads > MAX_THREADS) {
		fprintf(stderr, "RACE_THREADS must be 1..%d\n", MAX_THREADS);
		return KSFT_FAIL;
	}
	lfs_require_fs(argc, argv);
	return test_harness_run(argc, argv);
}
