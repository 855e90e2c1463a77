// SPDX-License-Identifier: GPL-2.0
/*
 * Exit teardown: a child process creates N files, keeps them all open, and then goes away.
 * Measured from the child's last timestamp before teardown to the moment the parent's
 * waitpid() returns, when the mount must be empty:
 *
 *   locust  the files are all in one epoll instance; the child just exits: the epoll instance
 *           is torn down and every last close removes its file;
 *   tmpfs   the child unlinks its N files, then exits (closing them). tmpfs files cannot be
 *           watched (no ->poll: epoll_ctl fails with EPERM), so this side has no epoll work.
 *
 * After waitpid() the directory is checked to be empty: a locustfs file that outlived the exit
 * of its only opener fails the program.
 *
 * Sample: milliseconds, per N (--ns). Series: "locust", "tmpfs".
 */
#include "common.h"

#include <sys/epoll.h>
#include <sys/mman.h>


static struct common c = COMMON_DEFAULTS(3, 1);
static struct long_list ns = { .v = { 10, 100, 1000, 10000, 100000 }, .n = 5 };

static void smoke_sizes(void)
{
	ns = (struct long_list){ .v = { 5, 20 }, .n = 2 };
}

/* Timestamp the child takes just before it starts tearing down, shared with the parent. */
static volatile int64_t *teardown_start;

static void __attribute__((noreturn)) child(const char *dir, bool locust, long n)
{
	struct epoll_event ev = { .events = EPOLLIN };
	char path[512];
	int ep = epoll_create1(0);

	if (ep < 0)
		die_errno("epoll_create1");
	for (long i = 0; i < n; i++) {
		int fd = open(file_name(path, sizeof(path), dir, "teardown", i),
			      O_CREAT | O_EXCL | O_RDWR, 0600);

		if (fd < 0)
			die_errno("creating file %ld of %ld (%s)", i + 1, n, path);
		if (locust && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
			die_errno("adding file %ld to the epoll instance", i + 1);
	}
	*teardown_start = now_ns();
	if (!locust)
		for (long i = 0; i < n; i++)
			if (unlink(file_name(path, sizeof(path), dir, "teardown", i)))
				die_errno("unlinking %s", path);
	_exit(0);
}

static double teardown_ms(const char *dir, bool locust, long n)
{
	pid_t pid = fork();
	int64_t end;

	if (pid < 0)
		die_errno("fork");
	if (pid == 0)
		child(dir, locust, n);
	reap(pid, locust ? "locustfs file holder" : "tmpfs file holder");
	end = now_ns();
	expect_empty(dir, "once the process that held the files had exited");
	return (double)(end - *teardown_start) / 1e6;
}

int main(int argc, char **argv)
{
	const struct opt opts[] = {
		COMMON_OPTS(c),
		{ "ns", OPT_LIST, &ns, "file counts (default 10,100,1000,10000,100000)" },
	};
	long max_n = 0;

	bench_init("teardown", argc, argv, opts, ARRAY_LEN(opts),
		   "Time for an exiting process's N open files to be gone: locustfs vs tmpfs+unlink.",
		   &c, smoke_sizes);
	for (int k = 0; k < ns.n; k++)
		max_n = ns.v[k] > max_n ? ns.v[k] : max_n;
	raise_nofile(max_n + 64);
	teardown_start = mmap(NULL, sizeof(*teardown_start), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (teardown_start == MAP_FAILED)
		die_errno("mmap");
	emit_meta(&c, "\"max_n\":%ld", max_n);
	for (int k = 0; k < ns.n; k++) {
		long n = ns.v[k];

		for (long rep = 0; rep < total_reps(&c); rep++) {
			for (int i = 0; i < 2; i++) {
				bool locust = (i + rep) % 2 == 0;
				double ms = teardown_ms(locust ? c.locust : c.tmpfs, locust, n);

				emit_sample(&c, locust ? "locust" : "tmpfs", n, rep, "ms", ms, NULL);
			}
			if (n >= 10000)
				progress("N=%ld: repetition %ld/%ld done", n, rep + 1,
					 total_reps(&c));
		}
		progress("N=%ld files done", n);
	}
	return 0;
}
