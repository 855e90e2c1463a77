// SPDX-License-Identifier: GPL-2.0
/*
 * Fan-out: one file watched by N epoll instances (EPOLLIN, level-triggered); the cost of a
 * write, whose wake-up runs every instance's callback, as N grows.
 *
 *   locust  a locustfs file: a writer fd, and one reader fd that every instance watches;
 *   pipe    a pipe: every instance watches the read end.
 *
 * N grows through --ns (ascending); at each N both sources get the same number of instances.
 * Each write is timed on its own and its byte read back (untimed), so that every timed write
 * is one that wakes the watchers. No task sleeps in the instances: what is measured is the
 * wake-up's walk over N epoll callbacks. After the last write of a sample, three instances
 * (first, middle, last) must report EPOLLIN: a wake-up that missed a watcher fails the program.
 *
 * Sample: median time of one 1-byte write over --writes writes, in ns. Series: "locust",
 * "pipe".
 * The report fits time = a + b*N per series: b is the cost per watcher.
 */
#include "common.h"

#include <sys/epoll.h>


enum mech { LOCUST, PIPE };
static const char *const mech_names[] = { "locust", "pipe" };

static struct common c = COMMON_DEFAULTS(5, 1);
static struct long_list ns = {
	.v = { 1, 10, 100, 500, 1000, 2500, 5000, 7500, 10000 },
	.n = 9,
};
static long writes = 256;

static void smoke_sizes(void)
{
	ns = (struct long_list){ .v = { 1, 10, 50 }, .n = 3 };
	writes = 8;
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

int main(int argc, char **argv)
{
	const struct opt opts[] = {
		COMMON_OPTS(c),
		{ "ns", OPT_LIST, &ns, "watcher counts, ascending (default 1,10,...,10000)" },
		{ "writes", OPT_LONG, &writes, "1-byte writes per sample" },
	};
	struct source src[2];
	int64_t *times;
	long max_n;

	bench_init("fanout", argc, argv, opts, ARRAY_LEN(opts),
		   "Cost of one write's wake-up with N epoll watchers: locustfs file vs pipe.", &c,
		   smoke_sizes);
	for (int i = 1; i < ns.n; i++)
		if (ns.v[i] <= ns.v[i - 1])
			die("--ns must be ascending");
	if (ns.v[0] < 1)
		die("--ns values must be at least 1");
	if (writes < 1)
		die("--writes must be at least 1");
	max_n = ns.v[ns.n - 1];
	times = calloc((size_t)writes, sizeof(*times));
	if (!times)
		die("out of memory");
	raise_nofile(2 * max_n + 64);
	emit_meta(&c, "\"writes\":%ld,\"max_n\":%ld", writes, max_n);
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
