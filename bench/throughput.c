// SPDX-License-Identifier: GPL-2.0
/*
 * Throughput: sequential --block-sized writes of --mib MiB into one new file, then a rewind
 * and sequential reads of all of it, on locustfs and on tmpfs. Every block carries its index
 * in its first bytes and each read checks it (a cheap guard against lost or misplaced data).
 *
 * Samples: MiB/s. Series: "locust/write", "locust/read", "tmpfs/write", "tmpfs/read".
 */
#include "common.h"

static struct common c = COMMON_DEFAULTS(5, 1);
static long mib = 256, block = 65536;

static void smoke_sizes(void)
{
	mib = 4;
}

static void sample(const char *dir, bool locust, long rep, char *buf)
{
	const char *fs = locust ? "locust" : "tmpfs";
	long blocks = mib * 1024 * 1024 / block;
	double bytes = (double)blocks * (double)block / (1024.0 * 1024.0);
	char path[512], series[32];
	int64_t t0, t1, t2;
	int fd;

	file_name(path, sizeof(path), dir, "throughput", rep);
	fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (fd < 0)
		die_errno("creating %s", path);
	t0 = now_ns();
	for (long i = 0; i < blocks; i++) {
		memcpy(buf, &i, sizeof(i));
		write_all(fd, buf, (size_t)block, path);
	}
	t1 = now_ns();
	if (lseek(fd, 0, SEEK_SET))
		die_errno("rewinding %s", path);
	for (long i = 0; i < blocks; i++) {
		long got;

		read_all(fd, buf, (size_t)block, path);
		memcpy(&got, buf, sizeof(got));
		if (got != i)
			die("%s: block %ld reads back as block %ld", path, i, got);
	}
	t2 = now_ns();
	if (close(fd))
		die_errno("closing %s", path);
	if (!locust && unlink(path))
		die_errno("unlinking %s", path);
	expect_empty(dir, "after the file was closed");
	snprintf(series, sizeof(series), "%s/write", fs);
	emit_sample(&c, series, -1, rep, "MiB/s", bytes * 1e9 / (double)(t1 - t0), NULL);
	snprintf(series, sizeof(series), "%s/read", fs);
	emit_sample(&c, series, -1, rep, "MiB/s", bytes * 1e9 / (double)(t2 - t1), NULL);
}

int main(int argc, char **argv)
{
	const struct opt opts[] = {
		COMMON_OPTS(c),
		{ "mib", OPT_LONG, &mib, "MiB written then read per sample (default 256)" },
		{ "block", OPT_LONG, &block, "bytes per write and per read (default 65536)" },
	};
	char *buf;

	bench_init("throughput", argc, argv, opts, ARRAY_LEN(opts),
		   "Sequential write then read of one file: locustfs vs tmpfs.", &c, smoke_sizes);
	if (block < (long)sizeof(long) || mib < 1 || mib * 1024 * 1024 / block < 1)
		die("--block must be at least %zu bytes and at most --mib MiB", sizeof(long));
	if (posix_memalign((void **)&buf, 4096, (size_t)block))
		die("out of memory");
	memset(buf, 't', (size_t)block);
	emit_meta(&c, "\"mib\":%ld,\"block\":%ld", mib, block);
	for (long rep = 0; rep < total_reps(&c); rep++) {
		for (int i = 0; i < 2; i++) {
			bool locust = (i + rep) % 2 == 0;

			sample(locust ? c.locust : c.tmpfs, locust, rep, buf);
		}
		progress("repetition %ld/%ld done%s", rep + 1, total_reps(&c),
			 rep < c.warmup ? " (warm-up)" : "");
	}
	free(buf);
	return 0;
}
