// SPDX-License-Identifier: GPL-2.0
/*
 * Fan-out: one channel watched by N epoll instances, the cost of the operation whose wake-up
 * runs the instances' callbacks, as N grows. Two cases (--case):
 *
 * epollin (default): every instance watches for EPOLLIN (level-triggered); a 1-byte write is
 * timed.
 *
 *   locust  a locustfs file: a writer fd, and one reader fd that every instance watches;
 *   pipe    a pipe: every instance watches the read end.
 *
 * Each write is timed on its own and its byte read back (untimed), so that every timed write
 * is one that wakes the watchers. No task sleeps in the instances: what is measured is the
 * wake-up's walk over N epoll callbacks. After the last write of a sample, three instances
 * (first, middle, last) must report EPOLLIN: a wake-up that missed a watcher fails the program.
 * Sample: median time of one 1-byte write over --writes writes, in ns. Series: "locust", "pipe".
 *
 * room: every instance watches a FULL channel for EPOLLOUT only (level-triggered), with
 * EPOLLEXCLUSIVE or without; the operation that makes room is timed:
 *
 *   locust  a locustfs file in a mount with max_file_size= --room-size (default 4096), filled
 *           to that size; the instances watch its writer fd (EPOLLOUT: size < max_file_size,
 *           the same for every description). Timed: ftruncate() by one page. Refill: pwrite().
 *   pipe    a pipe filled to its capacity; the instances watch the write end. Timed: a read of
 *           one page (it frees a pipe buffer; the reader wakes the writers with EPOLLOUT, keyed,
 *           one exclusive waiter). Refill: a write of one page.
 *
 * Every instance has a thread asleep in epoll_wait() on it (pinned to the next CPU): an
 * exclusive instance's callback only ends the wake-up's walk when it woke a sleeper, so without
 * sleepers EPOLLEXCLUSIVE changes nothing. After each timed operation, untimed: epoll_wait()
 * with timeout 0 on every instance counts the instances queued (the wake-up ran their
 * callback), the channel is refilled, every instance is drained (epoll_wait() again: the
 * channel is full, so its item leaves the ready list), and the program waits until every
 * sleeper is asleep again (an idle-priority thread on the sleepers' CPU answers only once
 * nothing else is runnable there). Without EPOLLEXCLUSIVE every instance must be queued after
 * every operation, with it at least one: anything else fails the program.
 * Sample: median time of one room-making operation over --ops operations, in ns, with the
 * median, min and max number of instances queued. Series: "locust-room", "pipe-room" (without
 * EPOLLEXCLUSIVE), "locust-room-excl", "pipe-room-excl".
 *
 * N grows through --ns (ascending); at each N every source gets the same number of instances.
 * The report fits time = a + b*N per series: b is the cost per watcher.
 */
#include "common.h"

#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>


enum mech { LOCUST, PIPE };
static const char *const mech_names[] = { "locust", "pipe" };

static struct common c = COMMON_DEFAULTS(5, 1);
/* Watcher counts; empty until parsed: each case has its own default. */
static struct long_list ns;
static const struct long_list epollin_ns = {
	.v = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100, 500, 1000, 2500, 5000, 7500, 10000 },
	.n = 17,
};
static const struct long_list room_ns = {
	.v = { 1, 2, 5, 10, 50, 100, 250, 500, 1000 },
	.n = 9,
};
static long writes = 256, ops = 64, room_size = 4096;
static const char *case_name = "epollin";

static void smoke_sizes(void)
{
	writes = 8;
	ops = 4;
}

/* The default watcher counts of the case (the smoke run's when --smoke). */
static void default_ns(bool room)
{
	static const struct long_list smoke_epollin = { .v = { 1, 2, 10, 50 }, .n = 4 };
	static const struct long_list smoke_room = { .v = { 1, 2, 10 }, .n = 3 };

	if (ns.n)
		return;
	if (c.smoke)
		ns = room ? smoke_room : smoke_epollin;
	else
		ns = room ? room_ns : epollin_ns;
}

struct source {
	enum mech mech;
	int rfd, wfd;
	int *eps; /* epoll instances watching rfd */
	long neps;
};

static void source_open(struct source *s, enum mech m, long max_watchers)
{
	char path[512];
	int p[2];

	s->mech = m;
	s->neps = 0;
	s->eps = calloc((size_t)max_watchers, sizeof(*s->eps));
	if (!s->eps)
		die("out of memory");
	if (m == PIPE) {
		if (pipe(p))
			die_errno("pipe");
		s->rfd = p[0];
		s->wfd = p[1];
		return;
	}
	file_name(path, sizeof(path), c.locust, "fanout", 0);
	s->wfd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	s->rfd = open(path, O_RDONLY);
	if (s->wfd < 0 || s->rfd < 0)
		die_errno("opening %s", path);
}

static void source_watch_up_to(struct source *s, long n)
{
	struct epoll_event ev = { .events = EPOLLIN };

	for (; s->neps < n; s->neps++) {
		int ep = epoll_create1(0);

		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, s->rfd, &ev))
			die_errno("%s: epoll instance %ld", mech_names[s->mech], s->neps + 1);
		s->eps[s->neps] = ep;
	}
}

/* Instance I must report EPOLLIN right now. */
static void expect_ready(struct source *s, long i)
{
	struct epoll_event ev;
	int n = epoll_wait(s->eps[i], &ev, 1, 0);

	if (n != 1 || !(ev.events & EPOLLIN))
		die("%s: watcher %ld of %ld not readable after the writes (epoll_wait %d, mask %#x)",
		    mech_names[s->mech], i + 1, s->neps, n, n == 1 ? ev.events : 0);
}

/* Reads back the one byte a write just added. */
static void source_drain(struct source *s)
{
	char byte;

	if (read(s->rfd, &byte, 1) != 1)
		die_errno("%s: reading back a byte", mech_names[s->mech]);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * One sample: the median time of one write, in ns (a median, so that a timer interrupt or the
 * host preempting the vCPU during a few writes does not move it). Every write finds the source
 * drained: a pipe wakes its readers only when a write makes it non-empty (unless an EPOLLET
 * watcher asks for every write), so each timed write must be one that wakes.
 */
static double write_ns(struct source *s, int64_t *times)
{
	for (long i = 0; i < writes; i++) {
		int64_t t0 = now_ns();

		write_all(s->wfd, "w", 1, mech_names[s->mech]);
		times[i] = now_ns() - t0;
		if (i == writes - 1) {
			expect_ready(s, 0);
			expect_ready(s, s->neps / 2);
			expect_ready(s, s->neps - 1);
		}
		source_drain(s);
	}
	qsort(times, (size_t)writes, sizeof(*times), cmp_i64);
	return writes % 2 ? (double)times[writes / 2] :
			    (double)(times[writes / 2 - 1] + times[writes / 2]) / 2;
}

static void source_close(struct source *s)
{
	for (long i = 0; i < s->neps; i++)
		close(s->eps[i]);
	free(s->eps);
	close(s->rfd);
	close(s->wfd);
}

/* ------------------------------------------------------------------ room: EPOLLOUT watchers */

enum room_series { LOCUST_ROOM, PIPE_ROOM, LOCUST_ROOM_EXCL, PIPE_ROOM_EXCL, NR_ROOM };
static const char *const room_names[] = { "locust-room", "pipe-room", "locust-room-excl",
					  "pipe-room-excl" };

static long page_size;
static char *page_buf;
static long sleeper_cpu;

static long futex(_Atomic unsigned int *word, int op, unsigned int val)
{
	return syscall(SYS_futex, word, op, val, NULL, NULL, 0);
}

/* Sleeps while *WORD is VAL (returns at once if it is not). */
static void futex_wait(_Atomic unsigned int *word, unsigned int val)
{
	if (futex(word, FUTEX_WAIT_PRIVATE, val) && errno != EAGAIN && errno != EINTR)
		die_errno("futex wait");
}

static void futex_wake_all(_Atomic unsigned int *word)
{
	if (futex(word, FUTEX_WAKE_PRIVATE, INT_MAX) < 0)
		die_errno("futex wake");
}

/*
 * One epoll instance and the thread asleep in it. The sleeper's STATE is 1 from just before it
 * calls epoll_wait() until it returns, 0 while it is outside (it then waits for GEN to move).
 */
struct watcher {
	int ep;
	_Atomic unsigned int state;
	pthread_t thread;
	const char *what;
};

/* Bumped by the main thread once a woken sleeper may wait again (the channel is full). */
static _Atomic unsigned int gen;
/* Set at the end: sleepers exit at their next return from epoll_wait(). */
static _Atomic bool stopping;
/* An eventfd every instance also watches, written at the end to wake every sleeper. */
static int stop_fd = -1;

static void *sleeper(void *arg)
{
	struct watcher *w = arg;
	struct epoll_event ev;

	for (;;) {
		unsigned int g = atomic_load(&gen);
		int n;

		atomic_store(&w->state, 1);
		n = epoll_wait(w->ep, &ev, 1, -1);
		atomic_store(&w->state, 0);
		if (n < 0 && errno != EINTR)
			die_errno("%s: sleeper's epoll_wait", w->what);
		if (atomic_load(&stopping))
			return NULL;
		/* Room was made: wait until the main thread has refilled the channel. */
		while (atomic_load(&gen) == g)
			futex_wait(&gen, g);
	}
}

/*
 * The settle probe: an idle-priority thread on the sleepers' CPU. It answers a probe only when
 * it gets that CPU, which a SCHED_IDLE thread does once no other thread is runnable there: by
 * then every sleeper woken before the probe has gone back to sleep.
 */
static _Atomic unsigned int probe, ack;

static void *canary(void *arg)
{
	struct sched_param sp = { 0 };

	(void)arg;
	if (sched_setscheduler(0, SCHED_IDLE, &sp))
		die_errno("making the settle probe SCHED_IDLE");
	for (;;) {
		unsigned int p = atomic_load(&ack);

		while (atomic_load(&probe) == p)
			futex_wait(&probe, p);
		if (atomic_load(&stopping))
			return NULL;
		atomic_store(&ack, atomic_load(&probe));
		futex_wake_all(&ack);
	}
}

static void start_thread(pthread_t *t, void *(*fn)(void *), void *arg, long cpu)
{
	pthread_attr_t attr;
	cpu_set_t set;
	int err;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET((int)cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	err = pthread_create(t, &attr, fn, arg);
	if (err)
		die("pthread_create: %s (threads for %ld instances?)", strerror(err), ns.v[ns.n - 1]);
	pthread_attr_destroy(&attr);
}

/* Waits until every sleeper of WS[0..N) is inside epoll_wait() and nothing else runs on their
 * CPU. */
static void settle(struct watcher *ws, long n)
{
	for (;;) {
		unsigned int p = atomic_fetch_add(&probe, 1) + 1, a;
		long i;

		futex_wake_all(&probe);
		while ((a = atomic_load(&ack)) != p)
			futex_wait(&ack, a);
		for (i = 0; i < n && atomic_load(&ws[i].state); i++)
			;
		if (i == n)
			return;
	}
}

struct room {
	enum room_series series;
	enum mech mech;
	bool excl;
	int rfd, wfd; /* pipe: both ends; locust: rfd unused, wfd the watched writer */
	struct watcher *ws;
	long nws;
};

static bool room_has_room(struct room *r)
{
	struct pollfd p = { .fd = r->wfd, .events = POLLOUT };
	int n = poll(&p, 1, 0);

	if (n < 0)
		die_errno("%s: poll", room_names[r->series]);
	return n == 1 && (p.revents & POLLOUT);
}

static void room_open(struct room *r, enum room_series s, long max_watchers)
{
	char path[512];
	int p[2];

	r->series = s;
	r->mech = s == LOCUST_ROOM || s == LOCUST_ROOM_EXCL ? LOCUST : PIPE;
	r->excl = s == LOCUST_ROOM_EXCL || s == PIPE_ROOM_EXCL;
	r->nws = 0;
	r->ws = calloc((size_t)max_watchers, sizeof(*r->ws));
	if (!r->ws)
		die("out of memory");
	if (r->mech == PIPE) {
		long cap;

		if (pipe(p))
			die_errno("pipe");
		r->rfd = p[0];
		r->wfd = p[1];
		cap = fcntl(r->wfd, F_GETPIPE_SZ);
		if (cap < page_size)
			die_errno("F_GETPIPE_SZ");
		for (long done = 0; done < cap; done += page_size)
			write_all(r->wfd, page_buf, (size_t)page_size, room_names[s]);
	} else {
		file_name(path, sizeof(path), c.locust, "room", s);
		r->rfd = -1;
		r->wfd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
		if (r->wfd < 0)
			die_errno("creating %s", path);
		for (long done = 0; done < room_size; done += page_size)
			write_all(r->wfd, page_buf, (size_t)page_size, room_names[s]);
	}
	if (room_has_room(r))
		die("%s: not full after filling it (locust: mount %s with -o max_file_size=%ld)",
		    room_names[s], c.locust, room_size);
}

static void room_watch_up_to(struct room *r, long n)
{
	struct epoll_event ev = { .events = EPOLLOUT | (r->excl ? EPOLLEXCLUSIVE : 0) };
	struct epoll_event stop = { .events = EPOLLIN };

	for (; r->nws < n; r->nws++) {
		struct watcher *w = &r->ws[r->nws];

		w->what = room_names[r->series];
		w->ep = epoll_create1(0);
		if (w->ep < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, r->wfd, &ev) ||
		    epoll_ctl(w->ep, EPOLL_CTL_ADD, stop_fd, &stop))
			die_errno("%s: epoll instance %ld", w->what, r->nws + 1);
		atomic_store(&w->state, 1);
		start_thread(&w->thread, sleeper, w, sleeper_cpu);
	}
}

/* The timed operation: makes room in the full channel. */
static void room_make(struct room *r)
{
	if (r->mech == LOCUST) {
		if (ftruncate(r->wfd, room_size - page_size))
			die_errno("%s: ftruncate", room_names[r->series]);
	} else {
		read_all(r->rfd, page_buf, (size_t)page_size, room_names[r->series]);
	}
}

static void room_refill(struct room *r)
{
	if (r->mech == LOCUST) {
		if (pwrite(r->wfd, page_buf, (size_t)page_size, room_size - page_size) != page_size)
			die_errno("%s: refilling", room_names[r->series]);
	} else {
		write_all(r->wfd, page_buf, (size_t)page_size, room_names[r->series]);
	}
}

/* Number of instances with an event ready, by epoll_wait() with timeout 0 on each. */
static long room_ready(struct room *r)
{
	struct epoll_event ev;
	long queued = 0;

	for (long i = 0; i < r->nws; i++) {
		int n = epoll_wait(r->ws[i].ep, &ev, 1, 0);

		if (n < 0)
			die_errno("%s: epoll_wait on instance %ld", room_names[r->series], i + 1);
		if (n && !(ev.events & EPOLLOUT))
			die("%s: instance %ld reports %#x, not EPOLLOUT", room_names[r->series], i + 1,
			    ev.events);
		queued += n;
	}
	return queued;
}

struct room_sample {
	double ns;
	long queued_med, queued_min, queued_max;
};

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

static struct room_sample room_sample(struct room *r, int64_t *times, long *queued)
{
	struct room_sample out;

	for (long i = 0; i < ops; i++) {
		int64_t t0;

		if (room_has_room(r))
			die("%s: room before the operation", room_names[r->series]);
		t0 = now_ns();
		room_make(r);
		times[i] = now_ns() - t0;
		/* Untimed: who was queued, then back to a full channel and empty ready lists. */
		queued[i] = room_ready(r);
		if (!r->excl && queued[i] != r->nws)
			die("%s: %ld of %ld watchers queued after making room (want all)",
			    room_names[r->series], queued[i], r->nws);
		if (queued[i] < 1)
			die("%s: no watcher of %ld queued after making room", room_names[r->series],
			    r->nws);
		room_refill(r);
		if (room_ready(r))
			die("%s: an instance still reports EPOLLOUT after the refill",
			    room_names[r->series]);
		atomic_fetch_add(&gen, 1);
		futex_wake_all(&gen);
		settle(r->ws, r->nws);
	}
	qsort(times, (size_t)ops, sizeof(*times), cmp_i64);
	qsort(queued, (size_t)ops, sizeof(*queued), cmp_long);
	out.ns = ops % 2 ? (double)times[ops / 2] :
			   (double)(times[ops / 2 - 1] + times[ops / 2]) / 2;
	out.queued_med = queued[ops / 2];
	out.queued_min = queued[0];
	out.queued_max = queued[ops - 1];
	return out;
}

static void room_close(struct room *r)
{
	for (long i = 0; i < r->nws; i++) {
		int err = pthread_join(r->ws[i].thread, NULL);

		if (err)
			die("pthread_join: %s", strerror(err));
		close(r->ws[i].ep);
	}
	free(r->ws);
	if (r->rfd >= 0)
		close(r->rfd);
	close(r->wfd);
}

static int run_room(void)
{
	struct room rooms[NR_ROOM];
	pthread_t canary_thread;
	int64_t *times;
	long *queued, max_n = ns.v[ns.n - 1];
	uint64_t one = 1;

	page_size = sysconf(_SC_PAGESIZE);
	if (room_size < page_size || room_size % page_size)
		die("--room-size must be a multiple of the page size (%ld)", page_size);
	page_buf = calloc(1, (size_t)page_size);
	times = calloc((size_t)ops, sizeof(*times));
	queued = calloc((size_t)ops, sizeof(*queued));
	if (!page_buf || !times || !queued)
		die("out of memory");
	memset(page_buf, 'r', (size_t)page_size);
	sleeper_cpu = online_cpus() > 1 ? ((c.cpu < 0 ? 0 : c.cpu) + 1) % online_cpus() : 0;
	raise_nofile(NR_ROOM * max_n + 64);
	stop_fd = eventfd(0, 0);
	if (stop_fd < 0)
		die_errno("eventfd");
	emit_meta(&c, "\"case\":\"room\",\"ops\":%ld,\"room_size\":%ld,\"page_size\":%ld,"
		  "\"max_n\":%ld,\"sleeper_cpu\":%ld",
		  ops, room_size, page_size, max_n, sleeper_cpu);
	start_thread(&canary_thread, canary, NULL, sleeper_cpu);
	for (int s = 0; s < NR_ROOM; s++)
		if (series_selected(&c, room_names[s]))
			room_open(&rooms[s], s, max_n);
	for (int k = 0; k < ns.n; k++) {
		long n = ns.v[k];

		for (int s = 0; s < NR_ROOM; s++) {
			if (!series_selected(&c, room_names[s]))
				continue;
			room_watch_up_to(&rooms[s], n);
			settle(rooms[s].ws, rooms[s].nws);
		}
		for (long rep = 0; rep < total_reps(&c); rep++)
			for (int i = 0; i < NR_ROOM; i++) {
				int s = (i + (int)rep) % NR_ROOM;
				struct room_sample rs;

				if (!series_selected(&c, room_names[s]))
					continue;
				rs = room_sample(&rooms[s], times, queued);
				emit_sample(&c, room_names[s], n, rep, "ns", rs.ns,
					    "\"queued\":%ld,\"queued_min\":%ld,\"queued_max\":%ld",
					    rs.queued_med, rs.queued_min, rs.queued_max);
			}
		progress("N=%ld watchers done", n);
	}
	atomic_store(&stopping, true);
	if (write(stop_fd, &one, sizeof(one)) != sizeof(one))
		die_errno("waking the sleepers");
	atomic_fetch_add(&probe, 1);
	futex_wake_all(&probe);
	if (pthread_join(canary_thread, NULL))
		die("pthread_join (settle probe)");
	for (int s = 0; s < NR_ROOM; s++)
		if (series_selected(&c, room_names[s]))
			room_close(&rooms[s]);
	close(stop_fd);
	free(times);
	free(queued);
	free(page_buf);
	expect_empty(c.locust, "after the room files were closed");
	return 0;
}

/* --------------------------------------------------------------------------------- main */

static int run_epollin(void)
{
	struct source src[2];
	int64_t *times;
	long max_n = ns.v[ns.n - 1];

	times = calloc((size_t)writes, sizeof(*times));
	if (!times)
		die("out of memory");
	raise_nofile(2 * max_n + 64);
	emit_meta(&c, "\"case\":\"epollin\",\"writes\":%ld,\"max_n\":%ld", writes, max_n);
	for (int m = 0; m < 2; m++)
		source_open(&src[m], m, max_n);
	for (int k = 0; k < ns.n; k++) {
		long n = ns.v[k];

		for (int m = 0; m < 2; m++)
			source_watch_up_to(&src[m], n);
		for (long rep = 0; rep < total_reps(&c); rep++)
			for (int i = 0; i < 2; i++) {
				int m = (i + (int)rep) % 2;

				if (!series_selected(&c, mech_names[m]))
					continue;
				emit_sample(&c, mech_names[m], n, rep, "ns", write_ns(&src[m], times),
					    NULL);
			}
		progress("N=%ld watchers done", n);
	}
	for (int m = 0; m < 2; m++)
		source_close(&src[m]);
	free(times);
	expect_empty(c.locust, "after the fan-out file was closed");
	return 0;
}

int main(int argc, char **argv)
{
	const struct opt opts[] = {
		COMMON_OPTS(c),
		{ "case", OPT_STR, &case_name, "epollin (default: EPOLLIN watchers, a write timed) "
					       "or room (EPOLLOUT watchers of a full channel)" },
		{ "ns", OPT_LIST, &ns, "watcher counts, ascending (default: 1..10,100,...,10000; "
				       "room: 1,2,5,...,1000)" },
		{ "writes", OPT_LONG, &writes, "epollin: 1-byte writes per sample" },
		{ "ops", OPT_LONG, &ops, "room: room-making operations per sample" },
		{ "room-size", OPT_LONG, &room_size, "room: the locustfs mount's max_file_size" },
	};
	bool room;

	bench_init("fanout", argc, argv, opts, ARRAY_LEN(opts),
		   "Cost of the wake-up of N epoll watchers: locustfs file vs pipe (--case epollin: "
		   "a write to EPOLLIN watchers; --case room: making room for EPOLLOUT watchers).",
		   &c, smoke_sizes);
	if (strcmp(case_name, "epollin") && strcmp(case_name, "room"))
		die("--case must be epollin or room");
	room = !strcmp(case_name, "room");
	if (room)
		bench_name = "room";
	default_ns(room);
	for (int i = 1; i < ns.n; i++)
		if (ns.v[i] <= ns.v[i - 1])
			die("--ns must be ascending");
	if (ns.v[0] < 1)
		die("--ns values must be at least 1");
	if (writes < 1 || ops < 1)
		die("--writes and --ops must be at least 1");
	return room ? run_room() : run_epollin();
}
