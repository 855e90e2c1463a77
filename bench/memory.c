// SPDX-License-Identifier: GPL-2.0
/*
 * Memory per live file: N files, each created, written with --size bytes and kept open (a
 * locustfs file lives only while it is open; the tmpfs files are kept open too, so both sides
 * pay for the same N struct files). Kernel memory is read from /proc/meminfo before and after,
 * per file:
 *
 *   value         slab + cached: everything the files cost in objects and data pages
 *   slab          Slab delta (inodes, dentries, struct files, per-file private objects)
 *   sunreclaim    SUnreclaim delta (the part of slab that memory pressure cannot free)
 *   cached        Cached delta (the files' data pages; for tmpfs, also counted as Shmem)
 *   memfree       MemFree drop: a cross-check only, since per-CPU page lists and lazily freed
 *                 memory of earlier work move it by megabytes
 *
 * Before each baseline, reclaimable dentries and inodes are dropped (/proc/sys/vm/drop_caches)
 * and names are never reused, so no cached negative dentry serves a later repetition. The
 * first (warm-up) repetition also absorbs the growth of the process's fd table.
 *
 * Sample: bytes per file. Series: "locust", "tmpfs".
 */
#include "common.h"

static struct common c = COMMON_DEFAULTS(5, 1);
static long files = 10000, size = 4096;

static void smoke_sizes(void)
{
	files = 20;
}

static void sample(const char *dir, bool locust, long rep, int *fds, const char *buf)
{
	struct meminfo a, b;
	char path[512], prefix[32];
	double n = (double)files, slab, cached;

	snprintf(prefix, sizeof(prefix), "mem%ld-", rep);
	drop_caches();
	usleep(200 * 1000);
	a = read_meminfo();
	for (long i = 0; i < files; i++) {
		fds[i] = open(file_name(path, sizeof(path), dir, prefix, i),
			      O_CREAT | O_EXCL | O_WRONLY, 0600);
		if (fds[i] < 0)
			die_errno("creating file %ld of %ld (%s)", i + 1, files, path);
		if (size)
			write_all(fds[i], buf, (size_t)size, path);
	}
	b = read_meminfo();
	for (long i = 0; i < files; i++) {
		close(fds[i]);
		if (!locust && unlink(file_name(path, sizeof(path), dir, prefix, i)))
			die_errno("unlinking %s", path);
	}
	expect_empty(dir, "after every file was closed");
	slab = (double)(b.slab - a.slab) * 1024 / n;
	cached = (double)(b.cached - a.cached) * 1024 / n;
	emit_sample(&c, locust ? "locust" : "tmpfs", files, rep, "bytes", slab + cached,
		    "\"slab\":%.1f,\"sunreclaim\":%.1f,\"sreclaimable\":%.1f,\"cached\":%.1f,"
		    "\"shmem\":%.1f,\"memfree\":%.1f",
		    slab, (double)(b.sunreclaim - a.sunreclaim) * 1024 / n,
		    (double)(b.sreclaimable - a.sreclaimable) * 1024 / n, cached,
		    (double)(b.shmem - a.shmem) * 1024 / n,
		    (double)(a.mem_free - b.mem_free) * 1024 / n);
}

int main(int argc, char **argv)
{
	const struct opt opts[] = {
		COMMON_OPTS(c),
		{ "files", OPT_LONG, &files, "live files per sample (default 10000)" },
		{ "size", OPT_LONG, &size, "bytes written to each file (default 4096)" },
	};
	int *fds;
	char *buf;

	bench_init("memory", argc, argv, opts, ARRAY_LEN(opts),
		   "Kernel memory per live (open, written) file from /proc/meminfo: locustfs vs tmpfs.",
		   &c, smoke_sizes);
	if (files < 1 || size < 0)
		die("--files must be at least 1 and --size at least 0");
	raise_nofile(files + 64);
	/* Allocated and touched before any baseline: user memory must not move MemFree. */
	fds = calloc((size_t)files, sizeof(*fds));
	buf = malloc((size_t)size + 1);
	if (!fds || !buf)
		die("out of memory");
	memset(fds, 0xff, (size_t)files * sizeof(*fds));
	memset(buf, 'm', (size_t)size + 1);
	emit_meta(&c, "\"files\":%ld,\"size\":%ld", files, size);
	for (long rep = 0; rep < total_reps(&c); rep++) {
		for (int i = 0; i < 2; i++) {
			bool locust = (i + rep) % 2 == 0;

			sample(locust ? c.locust : c.tmpfs, locust, rep, fds, buf);
		}
		progress("repetition %ld/%ld done%s", rep + 1, total_reps(&c),
			 rep < c.warmup ? " (warm-up)" : "");
	}
	free(fds);
	free(buf);
	return 0;
}
