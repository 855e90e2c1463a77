/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the locustfs benchmark programs (the *.c files beside it):
 *
 *   - command-line options from a table, with the options every program takes
 *     (--reps, --warmup, --cpu, --smoke) and comma-separated number lists;
 *   - JSON-lines output: one "meta" line per program, then one line per raw sample;
 *   - progress lines on stderr, fatal errors, clocks, CPU pinning, RLIMIT_NOFILE;
 *   - small file helpers (full writes, draining, directory entry counts, /proc/meminfo).
 *
 * Output (stdout), one JSON object per line:
 *   {"type":"meta","bench":B,"params":{...}}
 *   {"type":"sample","bench":B,"series":S,"n":N,"rep":R,"warmup":W,"unit":U,"value":V,...}
 * "n" is the benchmark's size parameter where it has one (watchers, files), else absent. The
 * first --warmup repetitions of every series are marked "warmup":true; the report drops them.
 */
#ifndef LOCUSTFS_BENCH_COMMON_H
#define LOCUSTFS_BENCH_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_LIST 32

/* Set by bench_init(): the program's name, for messages. */
static const char *bench_name = "bench";

/* ---------------------------------------------------------------- errors, clocks, progress */

static inline void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: error: ", bench_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* die() with strerror(errno) appended. */
#define die_errno(fmt, ...) die(fmt ": %s", ##__VA_ARGS__, strerror(errno))

static inline int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t bench_start_ns;

/* A progress line on stderr: "[  12.3 s] wakeup: ...". */
static inline void __attribute__((format(printf, 1, 2))) progress(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[%6.1f s] %s: ", (double)(now_ns() - bench_start_ns) / 1e9, bench_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---------------------------------------------------------------- options */

enum opt_kind { OPT_LONG, OPT_STR, OPT_FLAG, OPT_LIST };

struct long_list {
	long v[MAX_LIST];
	int n;
};

struct opt {
	const char *name; /* without the leading "--" */
	enum opt_kind kind;
	void *dst; /* long *, const char **, bool *, struct long_list * */
	const char *help;
};

/* What every program takes. */
struct common {
	long reps;   /* measured repetitions per series */
	long warmup; /* discarded repetitions before them */
	long cpu;    /* CPU to pin the program to, -1 for none */
	bool smoke;  /* tiny sizes, one repetition, no warm-up: only proves the program works */
	const char *locust, *tmpfs; /* a locustfs and a tmpfs directory to work in */
	const char *only; /* run only this series (NULL: all), e.g. under the function profiler */
};

/* Initialiser of struct common: the defaults every program starts from. */
#define COMMON_DEFAULTS(r, w)                                                                  \
	{ .reps = (r), .warmup = (w), .cpu = 0, .locust = "/mnt/locust", .tmpfs = "/mnt/tmp" }

#define COMMON_OPTS(c)                                                                        \
	{ "reps", OPT_LONG, &(c).reps, "measured repetitions per series" },                   \
	{ "warmup", OPT_LONG, &(c).warmup, "warm-up repetitions, reported but marked" },      \
	{ "cpu", OPT_LONG, &(c).cpu, "pin to this CPU (-1: no pinning)" },                    \
	{ "smoke", OPT_FLAG, &(c).smoke, "tiny sizes, one repetition (checks the program)" },  \
	{ "locust", OPT_STR, &(c).locust, "a locustfs directory (default /mnt/locust)" },      \
	{ "tmpfs", OPT_STR, &(c).tmpfs, "a tmpfs directory (default /mnt/tmp)" },             \
	{ "only", OPT_STR, &(c).only, "run only this series (default: all)" }

/* Whether series NAME is to be run (--only). */
static inline bool series_selected(const struct common *c, const char *name)
{
	return !c->only || !strcmp(c->only, name);
}

static inline long parse_long(const char *s, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end)
		die("%s: '%s' is not a number", what, s);
	return v;
}

/* "1,10,100" into L. */
static inline void parse_list(const char *s, struct long_list *l, const char *what)
{
	char buf[512], *tok, *save;

	if (strlen(s) >= sizeof(buf))
		die("--%s: list too long", what);
	strcpy(buf, s);
	l->n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (l->n == MAX_LIST)
			die("--%s: more than %d values", what, MAX_LIST);
		l->v[l->n++] = parse_long(tok, what);
	}
	if (!l->n)
		die("--%s: empty list", what);
}

static inline void usage(const struct opt *opts, size_t n, const char *about, int status)
{
	FILE *f = status ? stderr : stdout;

	fprintf(f, "usage: %s [OPTIONS]\n%s\n\noptions:\n", bench_name, about);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  --%-14s %s\n", opts[i].name, opts[i].help);
	exit(status);
}

/* True if ARGV has the word FLAG (used to apply --smoke's sizes before the other options). */
static inline bool has_arg(int argc, char **argv, const char *flag)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], flag))
			return true;
	return false;
}

/* Parses "--name value" / "--name=value" / "--flag" options from OPTS. */
static inline void parse_opts(int argc, char **argv, const struct opt *opts, size_t n,
			      const char *about)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL, *eq;
		const struct opt *o = NULL;
		size_t len;

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
			usage(opts, n, about, 0);
		if (strncmp(arg, "--", 2))
			die("unexpected argument '%s' (try --help)", arg);
		arg += 2;
		eq = strchr(arg, '=');
		len = eq ? (size_t)(eq - arg) : strlen(arg);
		for (size_t k = 0; k < n; k++)
			if (strlen(opts[k].name) == len && !strncmp(opts[k].name, arg, len))
				o = &opts[k];
		if (!o)
			die("unknown option '%s' (try --help)", argv[i]);
		if (o->kind == OPT_FLAG) {
			if (eq)
				die("--%s takes no value", o->name);
			*(bool *)o->dst = true;
			continue;
		}
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			die("--%s needs a value", o->name);
		switch (o->kind) {
		case OPT_LONG:
			*(long *)o->dst = parse_long(val, o->name);
			break;
		case OPT_STR:
			*(const char **)o->dst = val;
			break;
		case OPT_LIST:
			parse_list(val, o->dst, o->name);
			break;
		case OPT_FLAG:
			break;
		}
	}
}

/* ---------------------------------------------------------------- CPUs, limits */

static inline int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

/* Pins the calling thread to CPU (no-op for a negative CPU). */
static inline void pin_cpu(long cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET((int)cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die_errno("pinning to CPU %ld", cpu);
}

/* Raises RLIMIT_NOFILE (soft and hard) to at least N descriptors. */
static inline void raise_nofile(long n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		die_errno("getrlimit");
	if ((long)rl.rlim_cur >= n)
		return;
	rl.rlim_cur = (rlim_t)n;
	if ((long)rl.rlim_max < n)
		rl.rlim_max = (rlim_t)n;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die_errno("raising RLIMIT_NOFILE to %ld (see /proc/sys/fs/nr_open)", n);
}

/* ---------------------------------------------------------------- output */

/* Common start of main(): names the program, applies --smoke's sizes, parses, pins. */
static inline void bench_init(const char *name, int argc, char **argv, const struct opt *opts,
			      size_t n, const char *about, struct common *c,
			      void (*smoke_sizes)(void))
{
	bench_name = name;
	bench_start_ns = now_ns();
	if (has_arg(argc, argv, "--smoke")) {
		c->reps = 1;
		c->warmup = 0;
		smoke_sizes();
	}
	parse_opts(argc, argv, opts, n, about);
	if (c->reps < 1 || c->warmup < 0)
		die("--reps must be at least 1 and --warmup at least 0");
	if (c->cpu >= online_cpus())
		die("--cpu %ld: only %d CPU(s) online", c->cpu, online_cpus());
	pin_cpu(c->cpu);
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* Total repetitions of one series, warm-up included. */
static inline long total_reps(const struct common *c)
{
	return c->warmup + c->reps;
}

/* {"type":"meta","bench":B,"params":{PARAMS_FMT...}} — PARAMS_FMT is a JSON member list. */
static inline void __attribute__((format(printf, 2, 3)))
emit_meta(const struct common *c, const char *params_fmt, ...)
{
	va_list ap;

	printf("{\"type\":\"meta\",\"bench\":\"%s\",\"params\":{\"reps\":%ld,\"warmup\":%ld,"
	       "\"cpu\":%ld,\"smoke\":%s,\"online_cpus\":%d,\"locust\":\"%s\",\"tmpfs\":\"%s\"",
	       bench_name, c->reps, c->warmup, c->cpu, c->smoke ? "true" : "false",
	       online_cpus(), c->locust, c->tmpfs);
	if (params_fmt && *params_fmt) {
		putchar(',');
		va_start(ap, params_fmt);
		vprintf(params_fmt, ap);
		va_end(ap);
	}
	printf("}}\n");
}

/*
 * One raw sample. N < 0 leaves "n" out; EXTRA_FMT (may be NULL) adds JSON members.
 */
static inline void __attribute__((format(printf, 7, 8)))
emit_sample(const struct common *c, const char *series, long n, long rep, const char *unit,
	    double value, const char *extra_fmt, ...)
{
	va_list ap;

	printf("{\"type\":\"sample\",\"bench\":\"%s\",\"series\":\"%s\",", bench_name, series);
	if (n >= 0)
		printf("\"n\":%ld,", n);
	printf("\"rep\":%ld,\"warmup\":%s,\"unit\":\"%s\",\"value\":%.6g", rep,
	       rep < c->warmup ? "true" : "false", unit, value);
	if (extra_fmt && *extra_fmt) {
		putchar(',');
		va_start(ap, extra_fmt);
		vprintf(extra_fmt, ap);
		va_end(ap);
	}
	printf("}\n");
}

/* ---------------------------------------------------------------- files */

/* DIR/PREFIX<I> into BUF. */
static inline char *file_name(char *buf, size_t size, const char *dir, const char *prefix,
			      long i)
{
	if ((size_t)snprintf(buf, size, "%s/%s%ld", dir, prefix, i) >= size)
		die("path too long under %s", dir);
	return buf;
}

static inline void write_all(int fd, const void *buf, size_t len, const char *what)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die_errno("write to %s", what);
		p += n;
		len -= (size_t)n;
	}
}

/* Reads exactly LEN bytes (fails on end of file). */
static inline void read_all(int fd, void *buf, size_t len, const char *what)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno("read from %s", what);
		if (n == 0)
			die("read from %s: unexpected end of file", what);
		p += n;
		len -= (size_t)n;
	}
}

/* Number of entries in DIR other than "." and "..", or -1. */
static inline long count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	long n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Fails unless DIR is empty: a locustfs mount must be once every file was closed. */
static inline void expect_empty(const char *dir, const char *when)
{
	long n = count_entries(dir);

	if (n < 0)
		die_errno("reading directory %s", dir);
	if (n)
		die("%ld entr%s left in %s %s", n, n == 1 ? "y" : "ies", dir, when);
}

/* Waits for child PID and fails unless it exited with status 0. */
static inline void reap(pid_t pid, const char *what)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die_errno("waitpid (%s)", what);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die("%s: child %s %d", what, WIFEXITED(status) ? "exited with" : "killed by signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

/* ---------------------------------------------------------------- /proc/meminfo */

struct meminfo {
	long mem_free, slab, sreclaimable, sunreclaim, cached, shmem; /* kB */
};

static inline struct meminfo read_meminfo(void)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "MemFree:", offsetof(struct meminfo, mem_free) },
		{ "Slab:", offsetof(struct meminfo, slab) },
		{ "SReclaimable:", offsetof(struct meminfo, sreclaimable) },
		{ "SUnreclaim:", offsetof(struct meminfo, sunreclaim) },
		{ "Cached:", offsetof(struct meminfo, cached) },
		{ "Shmem:", offsetof(struct meminfo, shmem) },
	};
	struct meminfo m = { 0 };
	char buf[8192], *line, *save;
	int fd = open("/proc/meminfo", O_RDONLY);
	ssize_t len;

	if (fd < 0)
		die_errno("/proc/meminfo");
	len = read(fd, buf, sizeof(buf) - 1);
	if (len <= 0)
		die_errno("reading /proc/meminfo");
	close(fd);
	buf[len] = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		for (size_t k = 0; k < ARRAY_LEN(keys); k++)
			if (!strncmp(line, keys[k].key, strlen(keys[k].key)))
				*(long *)((char *)&m + keys[k].off) =
					strtol(line + strlen(keys[k].key), NULL, 10);
	return m;
}

/* Frees reclaimable dentries and inodes (root only; ignored elsewhere) so baselines settle. */
static inline void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	sync();
	if (fd >= 0) {
		if (write(fd, "2\n", 2) < 0) {
			/* not fatal: the baseline is only less steady */
		}
		close(fd);
	}
}

#endif /* LOCUSTFS_BENCH_COMMON_H */
