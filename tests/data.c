// SPDX-License-Identifier: GPL-2.0
/*
 * Data: read/write, pread/pwrite (holes read as zeros), readv/writev, lseek with SEEK_SET,
 * SEEK_CUR, SEEK_END, SEEK_DATA and SEEK_HOLE, O_APPEND, ftruncate (shrinking zeroes what is
 * later re-extended), mmap (reads, MAP_SHARED writes both ways), splice and sendfile, reads
 * that never block (0 at EOF), O_DIRECT served from the page cache.
 */
#include "common.h"

#include <sys/sendfile.h>

LFS_FIXTURE(fs, NULL);

static void fill_pattern(char *buf, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)((i * 31 + seed) % 251);
}

static bool all_zero(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i])
			return false;
	return true;
}

static off_t size_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? -1 : st.st_size;
}

TEST_F_TIMEOUT(fs, write_then_read_across_pages, LFS_TIMEOUT)
{
	size_t len = 3 * LFS_PAGE + 123;
	char *in = malloc(len), *out = malloc(len);
	int w, r;

	ASSERT_NE(NULL, in);
	ASSERT_NE(NULL, out);
	open_pair(_metadata, self->mnt[0], "data", &w, &r);
	fill_pattern(in, len, 7);
	ASSERT_EQ((ssize_t)len, write(w, in, len));
	EXPECT_EQ((off_t)len, size_of(r));
	ASSERT_EQ((ssize_t)len, read(r, out, len));
	EXPECT_EQ(0, memcmp(in, out, len));
	EXPECT_EQ(0, read(r, out, len)) TH_LOG("EOF");
	/* Overwrite a range straddling a page boundary. */
	ASSERT_EQ(20, pwrite(w, "ABCDEFGHIJKLMNOPQRST", 20, LFS_PAGE - 10));
	ASSERT_EQ(20, pread(r, out, 20, LFS_PAGE - 10));
	EXPECT_EQ(0, memcmp(out, "ABCDEFGHIJKLMNOPQRST", 20));
	EXPECT_EQ((off_t)len, size_of(w));
	close(w);
	close(r);
	free(in);
	free(out);
}

TEST_F_TIMEOUT(fs, large_file_round_trip, LFS_TIMEOUT)
{
	size_t chunk = 64 * 1024, total = 4 * 1024 * 1024, off;
	char *in = malloc(chunk), *out = malloc(chunk);
	int w, r;

	ASSERT_NE(NULL, in);
	ASSERT_NE(NULL, out);
	open_pair(_metadata, self->mnt[0], "data", &w, &r);
	for (off = 0; off < total; off += chunk) {
		fill_pattern(in, chunk, (unsigned int)(off / chunk));
		ASSERT_EQ((ssize_t)chunk, write(w, in, chunk));
	}
	for (off = 0; off < total; off += chunk) {
		fill_pattern(in, chunk, (unsigned int)(off / chunk));
		ASSERT_EQ((ssize_t)chunk, read(r, out, chunk));
		ASSERT_EQ(0, memcmp(in, out, chunk)) TH_LOG("mismatch in chunk at %zu", off);
	}
	close(w);
	close(r);
	free(in);
	free(out);
}

TEST_F_TIMEOUT(fs, pwrite_past_eof_leaves_a_zero_hole, LFS_TIMEOUT)
{
	char buf[LFS_PAGE * 3];
	int w, r;

	open_pair(_metadata, self->mnt[0], "data", &w, &r);
	ASSERT_EQ(4, pwrite(w, "head", 4, 0));
	ASSERT_EQ(4, pwrite(w, "tail", 4, 10000));
	EXPECT_EQ(10004, size_of(r));
	EXPECT_EQ(0, lseek(w, 0, SEEK_CUR)) TH_LOG("pwrite leaves the position alone");
	ASSERT_EQ(10004, pread(r, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "head", 4));
	EXPECT_TRUE(all_zero(buf + 4, 10000 - 4));
	EXPECT_EQ(0, memcmp(buf + 10000, "tail", 4));
	EXPECT_EQ(0, pread(r, buf, 10, 20000)) TH_LOG("pread past EOF reads nothing");
	close(w);
	close(r);
}

TEST_F_TIMEOUT(fs, readv_writev, LFS_TIMEOUT)
{
	char a[5] = "alpha", b[4000], c[5000], got[9005];
	struct iovec wv[3] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
	char ra[5], rb[4000], rc[5000];
	struct iovec rv[3] = { { ra, sizeof(ra) }, { rb, sizeof(rb) }, { rc, sizeof(rc) } };
	int w, r;

	fill_pattern(b, sizeof(b), 1);
	fill_pattern(c, sizeof(c), 2);
	open_pair(_metadata, self->mnt[0], "data", &w, &r);
	ASSERT_EQ(9005, writev(w, wv, 3));
	ASSERT_EQ(9005, readv(r, rv, 3));
	EXPECT_EQ(0, memcmp(a, ra, sizeof(a)));
	EXPECT_EQ(0, memcmp(b, rb, sizeof(b)));
	EXPECT_EQ(0, memcmp(c, rc, sizeof(c)));
	ASSERT_EQ(9005, pread(r, got, sizeof(got), 0));
	EXPECT_EQ(0, memcmp(got + 5 + 4000, c, sizeof(c)));
	EXPECT_EQ(9005, pwritev(w, wv, 3, 9005));
	EXPECT_EQ(18010, size_of(r));
	close(w);
	close(r);
}

TEST_F_TIMEOUT(fs, lseek_set_cur_end, LFS_TIMEOUT)
{
	char buf[8] = { 0 };
	int w, r;

	open_pair(_metadata, self->mnt[0], "data", &w, &r);
	ASSERT_EQ(10, write(w, "0123456789", 10));
	EXPECT_EQ(4, lseek(r, 4, SEEK_SET));
	EXPECT_EQ(2, read(r, buf, 2));
	EXPECT_STREQ("45", buf);
	EXPECT_EQ(8, lseek(r, 2, SEEK_CUR));
	EXPECT_EQ(5, lseek(r, -3, SEEK_CUR));
	EXPECT_EQ(7, lseek(r, -3, SEEK_END));
	EXPECT_EQ(3, read(r, buf, 5));
	EXPECT_EQ(0, memcmp(buf, "789", 3));
	EXPECT_EQ(-1, lseek(r, -11, SEEK_END));
	EXPECT_EQ(EINVAL, errno);
	/* Seeking past EOF and writing there makes a hole. */
	EXPECT_EQ(20, lseek(w, 10, SEEK_END));
	ASSERT_EQ(1, write(w, "!", 1));
	EXPECT_EQ(21, size_of(r));
	ASSERT_EQ(1, pread(r, buf, 1, 15));
	EXPECT_EQ(0, buf[0]);
	close(w);
	close(r);
}

TEST_F_TIMEOUT(fs, seek_data_and_hole, LFS_TIMEOUT)
{
	char page[LFS_PAGE];
	off_t pos;
	int w, r;

	open_pair(_metadata, self->mnt[0], "data", &w, &r);
	/* An empty file has no data at all. */
	EXPECT_EQ(-1, lseek(r, 0, SEEK_DATA));
	EXPECT_EQ(ENXIO, errno);
	/* Pages 0 and 2 written, page 1 never: a hole, or data reading as zeros. */
	memset(page, 'd', sizeof(page));
	ASSERT_EQ(0, ftruncate(w, 3 * LFS_PAGE));
	ASSERT_EQ(LFS_PAGE, pwrite(w, page, LFS_PAGE, 0));
	ASSERT_EQ(LFS_PAGE, pwrite(w, page, LFS_PAGE, 2 * LFS_PAGE));
	EXPECT_EQ(0, lseek(r, 0, SEEK_DATA));
	pos = lseek(r, 0, SEEK_HOLE);
	EXPECT_TRUE(pos == LFS_PAGE || pos == 3 * LFS_PAGE)
		TH_LOG("SEEK_HOLE from 0 gave %lld", (long long)pos);
	EXPECT_EQ(2 * LFS_PAGE + 5, lseek(r, 2 * LFS_PAGE + 5, SEEK_DATA));
	EXPECT_EQ(3 * LFS_PAGE, lseek(r, 2 * LFS_PAGE + 5, SEEK_HOLE));
	pos = lseek(r, LFS_PAGE + 1, SEEK_DATA);
	EXPECT_TRUE(pos == LFS_PAGE + 1 || pos == 2 * LFS_PAGE)
		TH_LOG("SEEK_DATA from inside the middle page gave %lld", (long long)pos);
	EXPECT_EQ(-1, lseek(r, 3 * LFS_PAGE, SEEK_DATA));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, lseek(r, 3 * LFS_PAGE, SEEK_HOLE));
	EXPECT_EQ(ENXIO, errno);
	close(w);
	close(r);
}

TEST_F_TIMEOUT(fs, o_append, LFS_TIMEOUT)
{
	char p[LFS_PATH_MAX], buf[32] = { 0 };
	int a1, a2, w;

	w = open(path_join(p, self->mnt[0], "log"), O_CREAT | O_RDWR, 0644);
	ASSERT_GE(w, 0);
	a1 = open(p, O_WRONLY | O_APPEND);
	a2 = open(p, O_WRONLY | O_APPEND);
	ASSERT_GE(a1, 0);
	ASSERT_GE(a2, 0);
	ASSERT_EQ(3, write(w, "000", 3));
	ASSERT_EQ(3, write(a1, "111", 3));
	ASSERT_EQ(3, write(a2, "222", 3));
	ASSERT_EQ(3, write(a1, "333", 3));
	EXPECT_EQ(12, lseek(a1, 0, SEEK_CUR));
	EXPECT_EQ(3, pwrite(a2, "444", 3, 0)) TH_LOG("with O_APPEND, pwrite appends too");
	ASSERT_EQ(15, pread(w, buf, sizeof(buf), 0));
	EXPECT_STREQ("000111222333444", buf);
	close(a1);
	close(a2);
	close(w);
}

TEST_F_TIMEOUT(fs, truncate_shrink_then_extend_reads_zeros, LFS_TIMEOUT)
{
	char buf[2 * LFS_PAGE];
	int w, r;

	open_pair(_metadata, self->mnt[0], "data", &w, &r);
	memset(buf, 'x', sizeof(buf));
	ASSERT_EQ((ssize_t)sizeof(buf), write(w, buf, sizeof(buf)));
	ASSERT_EQ(0, ftruncate(w, 100));
	EXPECT_EQ(100, size_of(r));
	EXPECT_EQ(0, pread(r, buf, 10, 100)) TH_LOG("nothing past the new EOF");
	ASSERT_EQ(0, ftruncate(w, sizeof(buf)));
	ASSERT_EQ((ssize_t)sizeof(buf), pread(r, buf, sizeof(buf), 0));
	EXPECT_EQ('x', buf[99]);
	EXPECT_TRUE(all_zero(buf + 100, sizeof(buf) - 100))
		TH_LOG("bytes cut off by the shrink must not come back");
	ASSERT_EQ(0, ftruncate(w, 0));
	EXPECT_EQ(0, size_of(r));
	EXPECT_EQ(0, read(r, buf, 1));
	close(w);
	close(r);
}

TEST_F_TIMEOUT(fs, mmap_read_and_shared_write, LFS_TIMEOUT)
{
	size_t len = 2 * LFS_PAGE;
	char in[2 * LFS_PAGE], out[2 * LFS_PAGE], p[LFS_PATH_MAX];
	char *map;
	int w, r;

	open_pair(_metadata, self->mnt[0], "data", &w, &r);
	fill_pattern(in, len, 3);
	ASSERT_EQ((ssize_t)len, write(w, in, len));
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, r, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(0, memcmp(map, in, len)) TH_LOG("the mapping shows written data");

	/* Through the mapping into the file... */
	memcpy(map + LFS_PAGE - 2, "mapped", 6);
	ASSERT_EQ(6, pread(w, out, 6, LFS_PAGE - 2));
	EXPECT_EQ(0, memcmp(out, "mapped", 6));
	/* ...and through write() into the mapping. */
	ASSERT_EQ(7, pwrite(w, "written", 7, 100));
	EXPECT_EQ(0, memcmp(map + 100, "written", 7));
	EXPECT_EQ(0, msync(map, len, MS_SYNC));
	EXPECT_EQ((off_t)len, size_of(w));
	ASSERT_EQ(0, munmap(map, len));

	/* A read-only mapping of a read-only description. */
	close(r);
	r = open(path_join(p, self->mnt[0], "data"), O_RDONLY);
	ASSERT_GE(r, 0);
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, r, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(0, memcmp(map + 100, "written", 7));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, r, 0));
	EXPECT_EQ(EACCES, errno);
	munmap(map, len);
	close(w);
	close(r);
}

TEST_F_TIMEOUT(fs, splice_and_sendfile, LFS_TIMEOUT)
{
	char p[LFS_PATH_MAX], in[10000], out[10000];
	int w, r, dst, pipefd[2];
	off_t off = 0;

	open_pair(_metadata, self->mnt[0], "data", &w, &r);
	fill_pattern(in, sizeof(in), 9);
	ASSERT_EQ((ssize_t)sizeof(in), write(w, in, sizeof(in)));
	dst = open(path_join(p, self->mnt[0], "copy"), O_CREAT | O_RDWR, 0644);
	ASSERT_GE(dst, 0);

	/* File to file. */
	ASSERT_EQ((ssize_t)sizeof(in), sendfile(dst, r, &off, sizeof(in)));
	EXPECT_EQ((off_t)sizeof(in), off);
	ASSERT_EQ((ssize_t)sizeof(out), pread(dst, out, sizeof(out), 0));
	EXPECT_EQ(0, memcmp(in, out, sizeof(in)));

	/* File to pipe to file. */
	ASSERT_EQ(0, pipe(pipefd));
	off = 1000;
	ASSERT_EQ(4000, splice(r, &off, pipefd[1], NULL, 4000, 0));
	EXPECT_EQ(5000, off);
	off = 20000;
	ASSERT_EQ(4000, splice(pipefd[0], NULL, dst, &off, 4000, 0));
	ASSERT_EQ(4000, pread(dst, out, 4000, 20000));
	EXPECT_EQ(0, memcmp(in + 1000, out, 4000));
	EXPECT_EQ(24000, size_of(dst));
	close(pipefd[0]);
	close(pipefd[1]);
	close(dst);
	close(w);
	close(r);
}

TEST_F_TIMEOUT(fs, read_at_eof_returns_zero_without_blocking, LFS_TIMEOUT)
{
	char buf[8];
	int w, r, nb;
	int64_t t0;

	open_pair(_metadata, self->mnt[0], "data", &w, &r);
	t0 = now_ms();
	EXPECT_EQ(0, read(r, buf, sizeof(buf)));
	nb = fcntl(r, F_GETFL);
	ASSERT_EQ(0, fcntl(r, F_SETFL, nb | O_NONBLOCK));
	EXPECT_EQ(0, read(r, buf, sizeof(buf))) TH_LOG("0, not EAGAIN, with O_NONBLOCK");
	EXPECT_LT(now_ms() - t0, 5000);
	ASSERT_EQ(3, write(w, "new", 3));
	EXPECT_EQ(3, read(r, buf, sizeof(buf)));
	EXPECT_EQ(0, read(r, buf, sizeof(buf)));
	close(w);
	close(r);
}

/*
 * O_DIRECT works as on tmpfs (shmem_file_open() sets FMODE_CAN_ODIRECT): served from the page
 * cache, aligned or not, mixed with buffered I/O and mappings. open(O_CREAT|O_DIRECT) creates
 * the file and announces it (IN_CREATE); its last close removes it (IN_DELETE): no event for
 * a name that was never announced.
 */
TEST_F_TIMEOUT(fs, o_direct_served_from_the_page_cache, LFS_TIMEOUT)
{
	struct inotify_tally t = { 0 };
	char p[LFS_PATH_MAX], q[LFS_PATH_MAX];
	static char buf[3 * 4096] __aligned(4096);
	static char back[3 * 4096] __aligned(4096);
	int ifd, w, d, fl;

	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_GE(ifd, 0);
	ASSERT_LE(0, inotify_add_watch(ifd, self->mnt[0], IN_CREATE | IN_DELETE));

	d = open(path_join(q, self->mnt[0], "direct"), O_CREAT | O_RDWR | O_DIRECT, 0644);
	ASSERT_GE(d, 0) TH_LOG("open(O_CREAT|O_DIRECT): %s", strerror(errno));
	ASSERT_EQ(0, inotify_drain(ifd, NULL, &t));
	EXPECT_EQ(1, t.created) TH_LOG("IN_CREATE for the new name");
	EXPECT_NE(0, fcntl(d, F_GETFL) & O_DIRECT);

	/* Aligned, then unaligned direct writes; the data reads back both ways. */
	fill_pattern(buf, sizeof(buf), 7);
	ASSERT_EQ(8192, pwrite(d, buf, 8192, 0));
	ASSERT_EQ(100, pwrite(d, buf + 8192, 100, 8192 + 1)) TH_LOG("unaligned: %s",
								    strerror(errno));
	EXPECT_EQ(8192 + 101, size_of(d));
	w = open(path_join(p, self->mnt[0], "direct"), O_RDWR);
	ASSERT_GE(w, 0);
	ASSERT_EQ(8192, pread(w, back, 8192, 0));
	EXPECT_EQ(0, memcmp(buf, back, 8192));
	memset(back, 0xff, sizeof(back));
	ASSERT_EQ(8192 + 101, pread(d, back, sizeof(back), 0));
	EXPECT_EQ(0, memcmp(buf, back, 8192));
	EXPECT_EQ(0, back[8192]) TH_LOG("the hole before the unaligned write reads as zero");
	EXPECT_EQ(0, memcmp(buf + 8192, back + 8193, 100));
	ASSERT_EQ(3, pwrite(w, "abc", 3, 1));
	ASSERT_EQ(3, pread(d, back, 3, 1)) TH_LOG("a buffered write is seen by a direct read");
	EXPECT_EQ(0, memcmp("abc", back, 3));

	/* fcntl() sets and clears it on a description opened without it. */
	fl = fcntl(w, F_GETFL);
	EXPECT_EQ(0, fcntl(w, F_SETFL, fl | O_DIRECT)) TH_LOG("F_SETFL O_DIRECT: %s",
							       strerror(errno));
	EXPECT_EQ(3, pread(w, back, 3, 1));
	EXPECT_EQ(0, fcntl(w, F_SETFL, fl));

	close(w);
	close(d);
	EXPECT_FALSE(path_exists(q));
	ASSERT_EQ(0, inotify_drain(ifd, "direct", &t));
	EXPECT_EQ(1, t.created);
	EXPECT_EQ(1, t.deleted);
	EXPECT_TRUE(t.name_deleted);
	EXPECT_EQ(0, count_entries(self->mnt[0]));
	close(ifd);
}

LFS_MAIN
