// SPDX-License-Identifier: GPL-2.0
/*
 * stress_exclusive: EPOLLEXCLUSIVE herds and EPOLLET waiters; every write must be observed.
 *
 * herd_shared_description, herd_shared_description_edge:
 *
 *       producer ── write 1 byte ──> F ──> R (one description, shared)
 *                                          │ EPOLLIN | EPOLLEXCLUSIVE [| EPOLLET]
 *              ┌─────────────┬─────────────┼─────────────┐
 *            ep 0          ep 1          ep 2   ...    ep T-1     (one instance per thread)
 *              │             │             │             │
 *          thread 0      thread 1      thread 2      thread T-1   read(R) on each event
 *                                                                 (edge: until it returns 0)
 *     After each write the producer waits until the byte was consumed: a write that wakes
 *     nobody while R is readable is a lost wake-up. Bytes are read once, in order.
 *
 * private_descriptions_with_decoys:
 *
 *       producer ── write 1 byte ──> F
 *                                    ├──> D0..Dd-1 decoys: descriptions positioned 1 MiB past
 *                                    │    EOF (never readable), each EPOLLEXCLUSIVE in its own
 *                                    │    instance, a thread asleep on it; registered first
 *                                    └──> R0..RT-1: one description per consumer thread, each
 *                                         EPOLLEXCLUSIVE in its own instance
 *     Readiness is per description, so every Ri must be woken for every write even though the
 *     exclusive decoys queue first; decoys must never report EPOLLIN.
 *
 * edge_every_write_observed (ping-pong):
 *
 *       producer ── write 1 byte ──> F ──> R0..RT-1 (one per thread, EPOLLIN|EPOLLET, own
 *                                          instance; the threads never read)
 *     The producer waits after each write until every thread reported one more event: with
 *     edge triggering each write is a new edge even though nothing was read.
 *
 * edge_free_running_private, edge_free_running_shared_instance:
 *
 *       producer ── writes as fast as it can ──> F
 *         private:  R0..RT-1, one per thread, each EPOLLET in the thread's own instance
 *         shared:   one description R in ONE EPOLLET instance that all T threads wait on
 *     Consumers drain to EOF (read returns 0) on each event. Once the producer stops, every
 *     consumer (private) or the threads together (shared) must reach the final size: the
 *     last wake-up must not be lost.
 *
 * Every test case ends with the file gone and live_files, live_queues and bytes_in_use back
 * where they were.
 *
 * Parameters (environment):
 *   EXCL_WRITES    writes per test case (default 200)
 *   EXCL_THREADS   consumer threads, T (default 4, at most 16)
 *   EXCL_DECOYS    decoys, d (default 4, at most 16)
 *   SOAK_SECONDS   run the program for about this long in all: each test case keeps writing
 *                  until its share of the time is used
 */
#include "common.h"

#include <sys/eventfd.h>

#define MAX_CONSUMERS 16
#define STOP_TOKEN 0xffffffffu

/* The test cases, among which SOAK_SECONDS is shared. */
#define CASES 6

static long writes, nthreads, ndecoys, soak_ms_per_case;

/* Reads the parameters from the environment (once: the first caller may be a constructor). */
static void read_params(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	writes = env_long("EXCL_WRITES", 200);
	nthreads = env_long("EXCL_THREADS", 4);
	ndecoys = env_long("EXCL_DECOYS", 4);
	soak_ms_per_case = env_long("SOAK_SECONDS", 0) * 1000 / CASES;
}

/* Each test case's harness timeout, sized from the number of writes. */
static int case_timeout(void)
{
	read_params();
	return lfs_test_timeout(120 + writes / 5 + soak_ms_per_case / 1000);
}

LFS_FIXTURE(fs, NULL);

struct consumer {
	int fd;	      /* the description it reads */
	int ep;	      /* the instance it waits on */
	bool read;    /* read on events (else only count them) */
	bool drain;   /* read until EOF on each event */
	bool private; /* fd is its own: bytes must match its position */
	pthread_t thread;
	atomic_int tid;
	atomic_long bytes;  /* bytes read */
	atomic_long events; /* events of the file reported */
	atomic_long empty;  /* events after which nothing could be read */
	atomic_int bad;
	char bad_what[96];
};

static char byte_at(long pos)
{
	return (char)('A' + pos % 26);
}

static void consumer_bad(struct consumer *c, const char *what)
{
	if (atomic_fetch_add(&c->bad, 1) == 0)
		snprintf(c->bad_what, sizeof(c->bad_what), "%s", what);
}

/* Reads what is there; returns the bytes read (0 at EOF). */
static long consume(struct consumer *c)
{
	char buf[512];
	long total = 0;
	ssize_t n, i;

	do {
		n = read(c->fd, buf, sizeof(buf));
		if (n < 0) {
			consumer_bad(c, "read failed");
			return total;
		}
		for (i = 0; i < n; i++) {
			bool ok = c->private ? buf[i] == byte_at(atomic_load(&c->bytes) + i) :
					       i == 0 || buf[i] == byte_at(buf[i - 1] - 'A' + 1);
			if (!ok) {
				consumer_bad(c, "bytes out of order");
				break;
			}
		}
		atomic_fetch_add(&c->bytes, n);
		total += n;
	} while (c->drain && n > 0);
	return total;
}

static void *consumer_main(void *arg)
{
	struct consumer *c = arg;
	struct epoll_event ev[4];
	int n, i;

	atomic_store(&c->tid, sys_gettid());
	for (;;) {
		n = epoll_wait(c->ep, ev, 4, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			consumer_bad(c, "epoll_wait failed");
			return NULL;
		}
		for (i = 0; i < n; i++) {
			if (ev[i].data.u32 == STOP_TOKEN)
				return NULL;
			atomic_fetch_add(&c->events, 1);
			if (c->read && consume(c) == 0)
				atomic_fetch_add(&c->empty, 1);
		}
	}
}

/* A test's set of threads, the file and its writer. */
struct crowd {
	struct lfs_counters c0; /* before the test */
	char path[LFS_PATH_MAX];
	int wfd, stop;
	struct consumer c[2 * MAX_CONSUMERS];
	int n;
};

static void crowd_init(struct __test_metadata *_metadata, struct crowd *cr, const char *dir)
{
	memset(cr, 0, sizeof(*cr));
	ASSERT_EQ(0, lfs_counters_read(&cr->c0));
	cr->wfd = open(path_join(cr->path, dir, "F"), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ASSERT_GE(cr->wfd, 0);
	cr->stop = eventfd(0, EFD_CLOEXEC);
	ASSERT_GE(cr->stop, 0);
}

/* Registers FD with EVENTS in instance EP (a new one when EP < 0) and adds the stop eventfd. */
static int instance_with(struct __test_metadata *_metadata, struct crowd *cr, int ep, int fd,
			 uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u32 = 0 };

	if (ep < 0) {
		ep = epoll_create1(EPOLL_CLOEXEC);
		ASSERT_GE(ep, 0) TH_LOG("epoll_create1");
		ev = (struct epoll_event){ .events = EPOLLIN, .data.u32 = STOP_TOKEN };
		ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, cr->stop, &ev));
		ev = (struct epoll_event){ .events = events, .data.u32 = 0 };
	}
	if (fd >= 0)
		ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	return ep;
}

/* Adds a consumer reading FD (a new description of F when FD < 0) and waiting on EP. */
static struct consumer *crowd_add(struct __test_metadata *_metadata, struct crowd *cr, int fd,
				  int ep, uint32_t events)
{
	struct consumer *c = &cr->c[cr->n++];

	c->private = fd < 0;
	c->fd = fd >= 0 ? fd : open(cr->path, O_RDONLY | O_CLOEXEC);
	EXPECT_GE(c->fd, 0);
	c->ep = instance_with(_metadata, cr, ep, ep < 0 || c->private ? c->fd : -1, events);
	c->read = true;
	return c;
}

static void crowd_start(struct __test_metadata *_metadata, struct crowd *cr)
{
	static const long epoll_nrs[] = { __NR_epoll_wait, __NR_epoll_pwait, -1 };
	int i;

	for (i = 0; i < cr->n; i++)
		ASSERT_EQ(0, pthread_create(&cr->c[i].thread, NULL, consumer_main, &cr->c[i]));
	for (i = 0; i < cr->n; i++) {
		while (!atomic_load(&cr->c[i].tid))
			sleep_ms(1);
		ASSERT_EQ(0, wait_task_blocked(atomic_load(&cr->c[i].tid), epoll_nrs, NULL,
					       WAKE_TIMEOUT_MS))
			TH_LOG("consumer %d never slept", i);
	}
}

/* Stops and joins every thread; reports their problems. */
static void crowd_stop(struct __test_metadata *_metadata, struct crowd *cr)
{
	int i;

	ASSERT_EQ(0, eventfd_write(cr->stop, 1));
	for (i = 0; i < cr->n; i++) {
		struct consumer *c = &cr->c[i];

		pthread_join(c->thread, NULL);
		EXPECT_EQ(0, atomic_load(&c->bad)) TH_LOG("consumer %d: %s", i, c->bad_what);
	}
}

/* Closes everything; the file must be gone and the live counters back. */
static void crowd_fini(struct __test_metadata *_metadata, struct crowd *cr)
{
	int i, j;

	for (i = 0; i < cr->n; i++) {
		for (j = 0; j < i; j++)
			if (cr->c[j].ep == cr->c[i].ep)
				break;
		if (j == i)
			close(cr->c[i].ep);
		for (j = 0; j < i; j++)
			if (cr->c[j].fd == cr->c[i].fd)
				break;
		if (j == i)
			close(cr->c[i].fd);
	}
	close(cr->stop);
	close(cr->wfd);
	EXPECT_FALSE(path_exists(cr->path));
	expect_live_counters(_metadata, &cr->c0);
}

/* Sum of a counter over consumers [FROM, TO). */
static long sum_of(struct crowd *cr, int from, int to, size_t field)
{
	long s = 0;

	for (int i = from; i < to; i++)
		s += atomic_load((atomic_long *)((char *)&cr->c[i] + field));
	return s;
}

/* Smallest value of a counter over consumers [FROM, TO). */
static long min_of(struct crowd *cr, int from, int to, size_t field)
{
	long m = LONG_MAX, v;

	for (int i = from; i < to; i++) {
		v = atomic_load((atomic_long *)((char *)&cr->c[i] + field));
		if (v < m)
			m = v;
	}
	return m;
}

/* Waits up to WAKE_TIMEOUT_MS for the sum (or minimum) of a counter to reach TARGET. */
static bool wait_counter(struct crowd *cr, int from, int to, size_t field, bool every,
			 long target)
{
	int64_t end = now_ms() + WAKE_TIMEOUT_MS;

	while ((every ? min_of(cr, from, to, field) : sum_of(cr, from, to, field)) < target) {
		if (now_ms() >= end)
			return false;
		nanosleep(&(struct timespec){ .tv_nsec = 100000 }, NULL);
	}
	return true;
}

static bool keep_writing(long done, int64_t start)
{
	return done < writes || now_ms() - start < soak_ms_per_case;
}

/*
 * Ping-pong: writes one byte at a time and waits each time until consumers [FROM, TO) have
 * taken it in (FIELD summed, or reaching the count in each consumer when EVERY).
 */
static long ping_pong(struct __test_metadata *_metadata, struct crowd *cr, int from, int to,
		      size_t field, bool every)
{
	int64_t start = now_ms();
	long i;

	for (i = 0; keep_writing(i, start); i++) {
		char byte = byte_at(i);

		ASSERT_EQ(1, write(cr->wfd, &byte, 1));
		if (!wait_counter(cr, from, to, field, every, i + 1)) {
			EXPECT_TRUE(false)
				TH_LOG("write %ld was not observed: lost wake-up", i + 1);
			return i;
		}
	}
	return i;
}

static void herd(struct __test_metadata *_metadata, const char *dir, bool edge)
{
	struct crowd *cr = calloc(1, sizeof(*cr));
	uint32_t events = EPOLLIN | EPOLLEXCLUSIVE | (edge ? EPOLLET : 0);
	long done, ev;
	int r, i;

	ASSERT_NE(NULL, cr);
	crowd_init(_metadata, cr, dir);
	r = open(cr->path, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(r, 0);
	for (i = 0; i < nthreads; i++)
		crowd_add(_metadata, cr, r, -1, events)->drain = edge;
	crowd_start(_metadata, cr);
	done = ping_pong(_metadata, cr, 0, cr->n, offsetof(struct consumer, bytes), false);
	crowd_stop(_metadata, cr);
	ev = sum_of(cr, 0, cr->n, offsetof(struct consumer, events));
	EXPECT_EQ(done, sum_of(cr, 0, cr->n, offsetof(struct consumer, bytes)))
		TH_LOG("every byte read exactly once");
	TH_LOG("%ld writes, %ld wake-ups (%.2f per write, %ld found nothing) over %ld threads",
	       done, ev, done ? (double)ev / done : 0.0,
	       sum_of(cr, 0, cr->n, offsetof(struct consumer, empty)), nthreads);
	crowd_fini(_metadata, cr);
	free(cr);
}

TEST_F_TIMEOUT(fs, herd_shared_description, case_timeout())
{
	herd(_metadata, self->mnt[0], false);
}

TEST_F_TIMEOUT(fs, herd_shared_description_edge, case_timeout())
{
	herd(_metadata, self->mnt[0], true);
}

TEST_F_TIMEOUT(fs, private_descriptions_with_decoys, case_timeout())
{
	struct crowd *cr = calloc(1, sizeof(*cr));
	long done;
	int i;

	ASSERT_NE(NULL, cr);
	crowd_init(_metadata, cr, self->mnt[0]);
	for (i = 0; i < ndecoys; i++) {
		struct consumer *d = crowd_add(_metadata, cr, -1, -1, EPOLLIN | EPOLLEXCLUSIVE);

		ASSERT_EQ(1 << 20, lseek(d->fd, 1 << 20, SEEK_SET));
	}
	for (i = 0; i < nthreads; i++)
		crowd_add(_metadata, cr, -1, -1, EPOLLIN | EPOLLEXCLUSIVE);
	crowd_start(_metadata, cr);
	done = ping_pong(_metadata, cr, ndecoys, cr->n, offsetof(struct consumer, bytes), true);
	crowd_stop(_metadata, cr);
	for (i = 0; i < ndecoys; i++)
		EXPECT_EQ(0, atomic_load(&cr->c[i].events)) TH_LOG("decoy %d reported EPOLLIN", i);
	for (i = ndecoys; i < cr->n; i++)
		EXPECT_EQ(done, atomic_load(&cr->c[i].bytes))
			TH_LOG("consumer %d", i - (int)ndecoys);
	TH_LOG("%ld writes to %ld descriptions past %ld decoys", done, nthreads, ndecoys);
	crowd_fini(_metadata, cr);
	free(cr);
}

TEST_F_TIMEOUT(fs, edge_every_write_observed, case_timeout())
{
	struct crowd *cr = calloc(1, sizeof(*cr));
	long done;
	int i;

	ASSERT_NE(NULL, cr);
	crowd_init(_metadata, cr, self->mnt[0]);
	for (i = 0; i < nthreads; i++)
		crowd_add(_metadata, cr, -1, -1, EPOLLIN | EPOLLET)->read = false;
	crowd_start(_metadata, cr);
	done = ping_pong(_metadata, cr, 0, cr->n, offsetof(struct consumer, events), true);
	crowd_stop(_metadata, cr);
	for (i = 0; i < cr->n; i++)
		EXPECT_LE(done, atomic_load(&cr->c[i].events)) TH_LOG("thread %d", i);
	TH_LOG("%ld writes, each seen by %ld edge-triggered instances", done, nthreads);
	crowd_fini(_metadata, cr);
	free(cr);
}

/* The producer writes without waiting; then every byte must be read in the end. */
static void free_running(struct __test_metadata *_metadata, const char *dir, bool shared)
{
	struct crowd *cr = calloc(1, sizeof(*cr));
	int64_t start = now_ms();
	int ep = -1, r = -1, i;
	long done;

	ASSERT_NE(NULL, cr);
	crowd_init(_metadata, cr, dir);
	if (shared) {
		r = open(cr->path, O_RDONLY | O_CLOEXEC);
		ASSERT_GE(r, 0);
		ep = instance_with(_metadata, cr, -1, r, EPOLLIN | EPOLLET);
	}
	for (i = 0; i < nthreads; i++)
		crowd_add(_metadata, cr, r, ep, EPOLLIN | EPOLLET)->drain = true;
	crowd_start(_metadata, cr);
	for (done = 0; keep_writing(done, start); done++) {
		char byte = byte_at(done);

		ASSERT_EQ(1, write(cr->wfd, &byte, 1));
		if (done % 16 == 15)
			sched_yield();
	}
	EXPECT_TRUE(wait_counter(cr, 0, cr->n, offsetof(struct consumer, bytes), !shared, done))
		TH_LOG("the final bytes were never read: lost wake-up (read %ld of %ld)",
		       shared ? sum_of(cr, 0, cr->n, offsetof(struct consumer, bytes)) :
				min_of(cr, 0, cr->n, offsetof(struct consumer, bytes)),
		       done);
	crowd_stop(_metadata, cr);
	TH_LOG("%ld bytes written one by one, %ld wake-ups", done,
	       sum_of(cr, 0, cr->n, offsetof(struct consumer, events)));
	crowd_fini(_metadata, cr);
	free(cr);
}

TEST_F_TIMEOUT(fs, edge_free_running_private, case_timeout())
{
	free_running(_metadata, self->mnt[0], false);
}

TEST_F_TIMEOUT(fs, edge_free_running_shared_instance, case_timeout())
{
	free_running(_metadata, self->mnt[0], true);
}

int main(int argc, char **argv)
{
	read_params();
	if (nthreads < 1 || nthreads > MAX_CONSUMERS || ndecoys > MAX_CONSUMERS) {
		fprintf(stderr, "EXCL_THREADS must be 1..%d, EXCL_DECOYS 0..%d\n", MAX_CONSUMERS,
			MAX_CONSUMERS);
		return KSFT_FAIL;
	}
	lfs_require_fs(argc, argv);
	return test_harness_run(argc, argv);
}
