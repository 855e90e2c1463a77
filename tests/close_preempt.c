// SPDX-License-Identifier: GPL-2.0
/*
 * A last close preempted at the end of its critical section by an opener on its CPU.
 *
 * A last close decides under the node's lock that the file is dead and unhashes its name in
 * the same critical section (Node::close_last; docs/design.md, "The last close and concurrent
 * opens"). An O_CREAT opener that finds the name hashed but the file dead is sent back by
 * ->open (EOPENSTALE) to look the name up again, the last time with LOOKUP_REVAL; if the dead
 * name were still hashed after the unlock, the retries would find it again and open() would
 * fail with ESTALE. That window is the few instructions between the unlock and the unhash
 * (tests/mutants/unhash-outside-lock.patch): random stress never hits it.
 *
 * This test hits the end of the critical section on purpose. The kernel is preemptible
 * (CONFIG_PREEMPTION); the closer and the opener share CPU 0, the opener is SCHED_FIFO:
 *
 *     CPU 0: closer (SCHED_OTHER)        CPU 0: opener (FIFO)      CPU 1: waker (FIFO)
 *     ---------------------------        --------------------      -------------------
 *     F open (handed over by the         read(wake eventfd):       spins until the closer
 *       opener, or created)                asleep                    is in close(), then
 *     close(F) -> ->release, the last                                W more loops,
 *       close: lock the name                                         write(wake eventfd)
 *       (directory i_rwsem)
 *       spin_lock(node): preemption off
 *         <IPI: the opener is woken, need_resched set>
 *         opens 0, unlinked, unhash the name
 *       spin_unlock(node) -> preempted   reads the closer's kernel
 *                                          stack; open(F, O_CREAT):
 *                                          the name is unhashed, so
 *                                          the lookup takes the
 *                                          directory lock: sleeps
 *       remove the name, unlock the      creates a new F, keeps it
 *         directory                        for the closer's next
 *     close() returns                      round; read(): asleep
 *
 * An interrupt that comes while the node's lock is held cannot preempt the closer: the woken
 * opener runs at the unlock's preempt_enable(), before the closer's next instruction. So every
 * wake-up that arrives inside the critical section (or while the closer spins for the lock)
 * puts the opener right after the unlock. With the unhash after the unlock, the opener would
 * find the dead name hashed three times in a row (its ref-walk and LOOKUP_REVAL retries run
 * before the closer does) and fail with ESTALE.
 *
 * Aiming: the waker on CPU 1 sees the closer's "in close()" store at once (shared memory) and
 * waits W busy-loop iterations before its write; the wake-up reaches CPU 0 as an IPI. A timer
 * cannot aim: the guest's clocksource is refined-jiffies, so hrtimers run from the 1 ms tick.
 * W follows a staircase: a wake-up before the decision (the opener joined the live file)
 * lengthens W, one after it (the opener got a new file, or close() had returned) shortens it;
 * the step is halved at each reversal down to STEP_MIN_NS and doubled after a run of equal
 * outcomes, so the wake-ups keep landing around the decision.
 *
 * The window counted: a wake-up at which the closer's kernel stack (/proc/self/task/TID/stack,
 * read by the opener before it opens, while the closer cannot run) shows it preempted by the
 * preempt_enable() of a spin unlock in locustfs's ->release itself (where close_last is
 * inlined; a close_last frame of its own counts too), and at which the opener then found the
 * file dead: it got a new file, or its open() failed. Two such unlocks are in ->release: the
 * node lock's in close_unless_last (the file is alive and named: the opener joins it) and in
 * close_last (the file is dead). So these wake-ups are exactly the ones at the end of
 * close_last's critical section. A run stops at CLOSE_PREEMPT_HITS of them, at the first
 * failure or after CLOSE_PREEMPT_SECONDS; one that did not fail must have seen MIN_HITS. On the
 * mutant the first of them fails with ESTALE. Also reported: the module's
 * opens_after_last_close counter (normally unchanged: the opener runs only where the closer was
 * preempted, outside the node's critical sections, so it finds a dead file only if it sleeps
 * between its lookup and ->open) and joins_while_closing (an opener that joined between
 * close_unless_last and close_last and still held the file when close_last ran).
 *
 * Parameters (environment):
 *   CLOSE_PREEMPT_SECONDS  longest run (default 15)
 *   CLOSE_PREEMPT_HITS     stop once the window was hit this often (default 200)
 */
#include "common.h"

#include <sys/eventfd.h>
#include <sys/resource.h>

/* Wake-ups at the end of close_last's critical section a passing run must have seen. */
#define MIN_HITS 20
/* The staircase's first, smallest and largest steps, and the longest delay it may reach. */
#define STEP_START_NS 32000
#define STEP_MIN_NS 250
#define STEP_MAX_NS 256000
#define W_MAX_NS 4000000
#define STACK_BYTES 8192

LFS_FIXTURE(fs, NULL)

/* Where the closer is, as the opener reads it when it wakes. */
enum phase { PH_BEFORE, PH_IN, PH_AFTER };
/* Where a wake-up came relative to the last close's decision. */
enum outcome { EARLY, LATE };

struct preempt_run {
	char path[LFS_PATH_MAX];
	int go_efd, wake_efd;
	int64_t end_ms;
	long hit_target;
	atomic_int closer_tid;
	atomic_bool opener_ready, stop;
	atomic_int phase;
	atomic_ullong closer_ino; /* the file the closer is closing */
	atomic_long armed;	  /* the round the waker is to wake the opener in */
	atomic_long spinning;	  /* the round the waker is ready for */
	atomic_long in_close;	  /* the round whose close() the closer is starting */
	atomic_long done;	  /* the last round the opener handled */
	atomic_long w_loops;	  /* the waker's delay this round */
	atomic_int outcome;	  /* the opener's verdict on its last wake-up */
	atomic_int handoff;	  /* the opener's descriptor for the closer's next round */
	atomic_long hits;
	/* The opener's tallies. */
	long wakeups, opens, before, after, joined, created, unlock_joins, hits_slept;
	/* The closer's. */
	long rounds;
	double loops_per_ns;
	long w_ns, w_lo, w_hi, step_ns;
	atomic_int bad;
	char bad_what[1024];
};

/* Records a failure (the first one's description is kept). */
static void run_bad(struct preempt_run *r, const char *what, int err)
{
	if (atomic_fetch_add(&r->bad, 1) == 0)
		snprintf(r->bad_what, sizeof(r->bad_what), "%s%s%s", what, err ? ": " : "",
			 err ? strerror(err) : "");
}

static int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static int make_fifo(int prio)
{
	struct sched_param sp = { .sched_priority = prio };

	return sched_setscheduler(0, SCHED_FIFO, &sp);
}

static void spin_loops(long n)
{
	for (volatile long i = 0; i < n; i++)
		;
}

/* Voluntary context switches of the calling thread (it slept). */
static long thread_nvcsw(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_THREAD, &ru) ? -1 : ru.ru_nvcsw;
}

static size_t line_len(const char *s)
{
	return strcspn(s, "\n");
}

static bool line_has(const char *s, size_t len, const char *word)
{
	return !!memmem(s, len, word, strlen(word));
}

/*
 * Whether STACK (a /proc/PID/stack) is that of a task preempted by the preempt_enable() of a
 * spin unlock in locustfs's ->release (<Locustfs as FileSystem>::release) or Node::close_last
 * itself, the unlock inlined or behind spin_unlock helper frames: the end of a critical section
 * of the node's lock.
 */
static bool preempted_at_release_unlock(const char *stack)
{
	const char *s = stack;
	size_t len = line_len(s);

	if (!line_has(s, len, "preempt_schedule"))
		return false;
	while (s[len] == '\n') {
		s += len + 1;
		len = line_len(s);
		if (!line_has(s, len, "spin_unlock"))
			return (line_has(s, len, "FileSystem7release") ||
				line_has(s, len, "10close_last")) &&
			       line_has(s, len, "[locustfs]");
	}
	return false;
}

/* Writes STACK's first three frames, "inner <- ... <- outer", into OUT (N bytes). */
static void top_frames(const char *stack, char *out, size_t n)
{
	const char *s = stack;
	size_t len;
	int i;

	out[0] = 0;
	for (i = 0; i < 3 && *s; i++) {
		len = line_len(s);
		if (!strncmp(s, "[<0>] ", 6)) {
			s += 6;
			len -= 6;
		}
		snprintf(out + strlen(out), n - strlen(out), "%s%.*s", i ? " <- " : "",
			 (int)len, s);
		s += len;
		if (*s == '\n')
			s++;
	}
	if (!out[0])
		snprintf(out, n, "(its stack not read)");
}

/* The opener's verdict on a wake-up in phase PH that got a new file (IS_NEW) or not. */
static enum outcome tally(struct preempt_run *r, int ph, bool is_new, bool at_unlock,
			  bool slept)
{
	if (ph == PH_BEFORE) {
		r->before++;
		return EARLY;
	}
	if (ph == PH_AFTER) {
		r->after++;
		return LATE;
	}
	if (!is_new) {
		r->joined++;
		r->unlock_joins += at_unlock;
		return EARLY;
	}
	r->created++;
	if (at_unlock) {
		atomic_fetch_add(&r->hits, 1);
		r->hits_slept += slept;
	}
	return LATE;
}

/* One wake-up of the opener: read the closer's stack, open(O_CREAT), judge. */
static void opener_wakeup(struct preempt_run *r, int sfd, char *stack)
{
	int ph = atomic_load(&r->phase), fd;
	bool at_unlock = false, is_new;
	struct stat st;
	long cs;

	r->wakeups++;
	stack[0] = 0;
	if (ph == PH_IN) {
		ssize_t k = pread(sfd, stack, STACK_BYTES - 1, 0);

		stack[k > 0 ? k : 0] = 0;
		at_unlock = preempted_at_release_unlock(stack);
	}
	cs = thread_nvcsw();
	fd = open(r->path, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	cs = thread_nvcsw() - cs;
	if (fd < 0) {
		char what[768], top[512];
		int err = errno;

		top_frames(stack, top, sizeof(top));
		snprintf(what, sizeof(what),
			 "wake-up %ld, the closer %s close(), preempted at %s: open(O_CREAT)",
			 r->wakeups, ph == PH_IN ? "in" : ph == PH_BEFORE ? "before" : "after",
			 top);
		run_bad(r, what, err);
		if (at_unlock)
			atomic_fetch_add(&r->hits, 1); /* the file was dead: not joined */
		atomic_store(&r->outcome, LATE);
		return;
	}
	r->opens++;
	if (fstat(fd, &st))
		run_bad(r, "opener's fstat", errno);
	is_new = st.st_ino != atomic_load(&r->closer_ino);
	atomic_store(&r->outcome, tally(r, ph, is_new, at_unlock, cs > 0));
	fd = atomic_exchange(&r->handoff, fd);
	if (fd >= 0)
		close(fd);
}

static void *opener(void *arg)
{
	struct preempt_run *r = arg;
	char sfile[64], *stack = malloc(STACK_BYTES);
	uint64_t n;
	int sfd = -1;

	if (!stack || pin_cpu(0) || make_fifo(10)) {
		run_bad(r, "cannot pin the opener to CPU 0 or make it SCHED_FIFO", errno);
	} else {
		snprintf(sfile, sizeof(sfile), "/proc/self/task/%d/stack",
			 atomic_load(&r->closer_tid));
		sfd = open(sfile, O_RDONLY | O_CLOEXEC);
		if (sfd < 0)
			run_bad(r, sfile, errno);
	}
	atomic_store(&r->opener_ready, true);
	while (sfd >= 0) {
		if (read(r->wake_efd, &n, sizeof(n)) != sizeof(n)) {
			run_bad(r, "opener's read(eventfd)", errno);
			break;
		}
		if (atomic_load(&r->stop))
			break;
		opener_wakeup(r, sfd, stack);
		atomic_store(&r->done, atomic_load(&r->armed));
	}
	if (sfd >= 0)
		close(sfd);
	free(stack);
	return NULL;
}

/* The waker: each round, once the closer is in close(), w_loops iterations, then a wake-up. */
static void *waker(void *arg)
{
	struct preempt_run *r = arg;
	uint64_t one = 1, n;
	long seq;

	if (pin_cpu(1) || make_fifo(10))
		run_bad(r, "cannot pin the waker to CPU 1 or make it SCHED_FIFO", errno);
	for (;;) {
		if (read(r->go_efd, &n, sizeof(n)) != sizeof(n)) {
			run_bad(r, "waker's read(eventfd)", errno);
			break;
		}
		seq = atomic_load(&r->armed);
		atomic_store(&r->spinning, seq);
		while (atomic_load(&r->in_close) != seq && !atomic_load(&r->stop))
			;
		spin_loops(atomic_load(&r->w_loops));
		if (write(r->wake_efd, &one, sizeof(one)) != sizeof(one))
			run_bad(r, "waker's write(eventfd)", errno);
		if (atomic_load(&r->stop))
			break;
	}
	return NULL;
}

/*
 * One round: the last close of a file (the opener's descriptor from the previous round, or a
 * new file) with the opener woken W_NS into it. Returns the outcome (EARLY or LATE), or -1.
 */
static int one_round(struct preempt_run *r, long w_ns)
{
	int fd = atomic_exchange(&r->handoff, -1);
	uint64_t one = 1;
	struct stat st;
	int64_t until;
	long seq;

	if (fd < 0)
		fd = open(r->path, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &st)) {
		run_bad(r, "closer's open(O_CREAT) and fstat", errno);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	atomic_store(&r->closer_ino, st.st_ino);
	atomic_store(&r->phase, PH_BEFORE);
	atomic_store(&r->w_loops, (long)(w_ns * r->loops_per_ns));
	seq = atomic_fetch_add(&r->armed, 1) + 1;
	if (write(r->go_efd, &one, sizeof(one)) != sizeof(one)) {
		run_bad(r, "closer's write(eventfd)", errno);
		close(fd);
		return -1;
	}
	while (atomic_load(&r->spinning) != seq && !atomic_load(&r->bad))
		;
	atomic_store(&r->phase, PH_IN);
	atomic_store(&r->in_close, seq);
	close(fd);
	atomic_store(&r->phase, PH_AFTER);
	r->rounds++;
	/* The opener runs on this CPU as soon as it is woken: normally it is done already. */
	until = now_ms() + WAKE_TIMEOUT_MS;
	while (atomic_load(&r->done) != seq) {
		if (now_ms() > until) {
			run_bad(r, "the opener did not finish its wake-up", 0);
			return -1;
		}
		sleep_ms(1);
	}
	return atomic_load(&r->outcome);
}

/* Busy-loop iterations per ns on this CPU, measured over about 20 ms. */
static double calibrate_loops(void)
{
	int64_t t0 = now_ms(), t;
	long n = 0;

	while (now_ms() == t0)
		;
	t0 = now_ms();
	do {
		spin_loops(1000);
		n += 1000;
	} while ((t = now_ms()) - t0 < 20);
	return (double)n / (double)((t - t0) * 1000000);
}

/* The closer, on the calling thread: rounds until the time is up, the target met or a failure. */
static void run_closer(struct preempt_run *r)
{
	int last = -1, same = 0, out;
	uint64_t one = 1;

	while (!atomic_load(&r->opener_ready))
		sleep_ms(1);
	r->loops_per_ns = calibrate_loops();
	r->step_ns = STEP_START_NS;
	r->w_lo = LONG_MAX;
	while (now_ms() < r->end_ms && !atomic_load(&r->bad) &&
	       atomic_load(&r->hits) < r->hit_target) {
		out = one_round(r, r->w_ns);
		if (out < 0)
			break;
		if (out != last) {
			same = 0;
			if (last >= 0 && r->step_ns > STEP_MIN_NS)
				r->step_ns /= 2;
		} else if (++same >= 4 && r->step_ns < STEP_MAX_NS) {
			same = 0;
			r->step_ns *= 2;
		}
		last = out;
		r->w_ns += out == EARLY ? r->step_ns : -r->step_ns;
		if (r->w_ns < 0)
			r->w_ns = 0;
		if (r->w_ns > W_MAX_NS)
			r->w_ns = W_MAX_NS;
		if (r->step_ns <= 4 * STEP_MIN_NS) {
			r->w_lo = r->w_ns < r->w_lo ? r->w_ns : r->w_lo;
			r->w_hi = r->w_ns > r->w_hi ? r->w_ns : r->w_hi;
		}
	}
	if (r->w_lo > r->w_hi) {
		r->w_lo = r->w_ns;
		r->w_hi = r->w_ns;
	}
	atomic_store(&r->stop, true);
	if (write(r->go_efd, &one, sizeof(one)) != sizeof(one))
		run_bad(r, "closer's write(eventfd)", errno);
}

TEST_F_TIMEOUT(fs, creat_preempting_the_last_close_decision, LFS_TIMEOUT)
{
	long long stale0 = lfs_counter("opens_after_last_close");
	long long joins0 = lfs_counter("joins_while_closing");
	struct preempt_run *r;
	int64_t start = now_ms();
	pthread_t o, w;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs (the waker runs beside the closer and the opener)");
	r = calloc(1, sizeof(*r));
	ASSERT_NE(NULL, r);
	path_join(r->path, self->mnt[0], "f");
	r->go_efd = eventfd(0, EFD_CLOEXEC);
	r->wake_efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_GE(r->go_efd, 0);
	ASSERT_GE(r->wake_efd, 0);
	r->hit_target = env_long("CLOSE_PREEMPT_HITS", 200);
	r->end_ms = now_ms() + env_long("CLOSE_PREEMPT_SECONDS", 15) * 1000;
	atomic_store(&r->handoff, -1);
	ASSERT_EQ(0, pin_cpu(0));
	atomic_store(&r->closer_tid, sys_gettid());
	ASSERT_EQ(0, pthread_create(&o, NULL, opener, r));
	ASSERT_EQ(0, pthread_create(&w, NULL, waker, r));
	run_closer(r);
	pthread_join(w, NULL);
	pthread_join(o, NULL);
	if (atomic_load(&r->handoff) >= 0)
		close(atomic_load(&r->handoff));
	ksft_print_msg("%s: %lld ms, %ld rounds, %ld wake-ups, %ld opens: %ld before close(), "
		       "%ld after, in close() %ld joined (%ld at close_unless_last's unlock) and "
		       "%ld created\n",
		       _metadata->name, (long long)(now_ms() - start), r->rounds, r->wakeups,
		       r->opens, r->before, r->after, r->joined, r->unlock_joins, r->created);
	ksft_print_msg("%s: window (the end of close_last's critical section) hit %ld time(s), "
		       "%ld of them waiting for the directory lock; the waker's delay %ld..%ld ns; "
		       "opens_after_last_close +%lld, joins_while_closing +%lld\n",
		       _metadata->name, atomic_load(&r->hits), r->hits_slept, r->w_lo, r->w_hi,
		       lfs_counter("opens_after_last_close") - stale0,
		       lfs_counter("joins_while_closing") - joins0);
	EXPECT_EQ(0, atomic_load(&r->bad)) TH_LOG("first failure: %s", r->bad_what);
	/* A run cut short by a failure has failed already; a full one must have hit the window. */
	if (!atomic_load(&r->bad)) {
		EXPECT_GE(atomic_load(&r->hits), MIN_HITS)
		TH_LOG("the end of close_last's critical section was hit %ld times, want %d",
		       atomic_load(&r->hits), MIN_HITS);
	}
	close(r->wake_efd);
	close(r->go_efd);
	free(r);
}

LFS_MAIN
