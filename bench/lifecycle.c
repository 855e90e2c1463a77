// SPDX-License-Identifier: GPL-2.0
/*
 * File lifecycle: open(O_CREAT | O_EXCL) + one 4 KiB write + close, over and over.
 *
 *   locust  the close removes the file (its last opener is gone);
 *   tmpfs   the same, plus the unlink() a file system without auto-delete needs.
 *
 * O_EXCL makes a locustfs file that survived its last close fail the next iteration (EEXIST).
 *
 * Sample: operations per second over --ops cycles. Series: "locust", "tmpfs".
 */
#include "common.h"

static struct common c = COMMON_DEFAULTS(5, 1);
static long ops = 5000, size = 4096;

static void smoke_sizes(void)
{
	ops = 20;
}

static double ops_per_s(const char *dir, bool unlink_it, const char *buf)
{
	char path[512];
	int64_t t0;

	file_name(path, sizeof(path), dir, "lifecycle", 0);
	t0 = now_ns();
	for (long i = 0; i < ops; i++) {
		int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);

		if (fd < 0)
			die_errno("cycle %ld: creating %s", i, path);
		write_all(fd, buf, (size_t)size, path);
		if (close(fd))
			die_errno("closing %s", path);
		if (unlink_it && unlink(path))
			die_errno("unlinking %s", path);
	}
	t0 = now_ns() - t0;
	expect_empty(dir, "after the last cycle");
	return (double)ops * 1e9 / (double)t0;
}

int main(int argc, char **argv)
{
	const struct opt opts[] = {
		COMMON_OPTS(c),
		{ "ops", OPT_LONG, &ops, "create/write/close cycles per sample" },
		{ "size", OPT_LONG, &size, "bytes written per file (default 4096)" },
	};
	char *buf;

	bench_init("lifecycle", argc, argv, opts, ARRAY_LEN(opts),
		   "open(O_CREAT)+write+close cycles: locustfs (auto-delete) vs tmpfs (+unlink).",
		   &c, smoke_sizes);
	buf = malloc((size_t)size);
	if (!buf)
		die("out of memory");
	memset(buf, 'l', (size_t)size);
	emit_meta(&c, "\"ops\":%ld,\"size\":%ld", ops, size);
	for (long rep = 0; rep < total_reps(&c); rep++) {
		/* Alternate the order so that neither file system always runs first. */
		for (int k = 0; k < 2; k++) {
			bool locust = (k + rep) % 2 == 0;
			double v = ops_per_s(locust ? c.locust : c.tmpfs, !locust, buf);

			emit_sample(&c, locust ? "locust" : "tmpfs", -1, rep, "ops/s", v,
				    "\"ops\":%ld", ops);
		}
		progress("repetition %ld/%ld done%s", rep + 1, total_reps(&c),
			 rep < c.warmup ? " (warm-up)" : "");
	}
	free(buf);
	return 0;
}
