// SPDX-License-Identifier: GPL-2.0
/*
 * Which waiters each change wakes, for the waiters that take a wake-up's key at its word.
 *
 *   a write, a seek, a growing truncate   no key, every waiter: EPOLLIN readiness is per open
 *                                         file description (position < size), so every
 *                                         EPOLLEXCLUSIVE waiter must be woken and re-poll
 *   a shrinking truncate, a remount       key EPOLLOUT|EPOLLWRNORM, every matching waiter but
 *   raising max_file_size                 only one EPOLLEXCLUSIVE one: EPOLLOUT readiness
 *                                         (size < max_file_size) is the same for every
 *                                         description, one exclusive waiter is enough
 *   unlink, a rename over the file        key EPOLLHUP, every waiter
 *
 * Of the keyless changes only the write is exercised here; poll and vfs_correctness cover
 * seeks and growing truncates.
 *
 * "async" runs its cases once with io_uring IORING_OP_POLL_ADD and once with aio
 * IOCB_CMD_POLL (raw syscalls both). These two take a non-zero key as the result without
 * calling ->poll again, so a key that does not hold for every description would complete a
 * poll with readiness the description does not have (a write keyed EPOLLIN would complete a
 * POLLIN poll on the writer's own description, at end of file); without a key they re-poll
 * and a poll whose description is still not ready stays pending. A poll that must complete has
 * WAKE_TIMEOUT_MS to do so; one that must stay pending is watched for QUIET_MS, then cancelled
 * and its cancellation reaped.
 *
 * "exclusive" counts EPOLLEXCLUSIVE wake-ups, with one epoll instance per waiter, each on a
 * description of its own. ep_poll_callback() (fs/eventpoll.c) skips an item whose events do not
 * match a non-NULL key, and counts an exclusive item as woken only when it matches and a task
 * sleeps in epoll_wait() on its instance; once nr_exclusive such items counted, the wake-up's
 * walk of the wait queue stops and the exclusive items after them are not even put on their
 * instances' ready lists. So every instance here has a thread asleep in epoll_wait(): without
 * it no exclusive item counts and a keyed wake-up would reach them all. The instances also
 * watch one eventfd, which stops the threads still asleep at the end of a case; a case then
 * also calls epoll_wait(..., 0) on every instance, which reports only items on the ready list.
 */
#include "common.h"

#include <linux/aio_abi.h>
#include <sys/mman.h>
#include <sys/eventfd.h>

#define MAX_FILE_SIZE 4096
#define RAISED_MAX_FILE_SIZE "max_file_size=8k"

/* ------------------------------------------------------------ io_uring and aio polls */

/* Pending polls a case arms at most, numbered 1..ASYNC_SLOTS (the io_uring user_data). */
#define ASYNC_SLOTS 4
/* user_data of the IORING_OP_POLL_REMOVE of slot S. */
#define ASYNC_REMOVE_TAG(s) (100 + (s))

enum async_kind { ASYNC_IO_URING, ASYNC_AIO };

struct async_poll {
	enum async_kind kind;
	struct uring ring;
	aio_context_t ctx;
	struct iocb cb[ASYNC_SLOTS + 1];
};

static const char *async_name(const struct async_poll *a)
{
	return a->kind == ASYNC_IO_URING ? "io_uring POLL_ADD" : "aio IOCB_CMD_POLL";
}

static int async_init(struct async_poll *a, enum async_kind kind)
{
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->ring.fd = -1;
	if (kind == ASYNC_IO_URING)
		return uring_init(&a->ring, 8);
	return syscall(__NR_io_setup, 8, &a->ctx) ? -errno : 0;
}

static void async_fini(struct async_poll *a)
{
	if (a->kind == ASYNC_IO_URING)
		uring_fini(&a->ring);
	else if (a->ctx)
		syscall(__NR_io_destroy, a->ctx);
	a->ctx = 0;
}

/* Whether polls of KIND can be used here (compiled out, or disabled by sysctl). */
static bool async_available(enum async_kind kind)
{
	struct async_poll a;

	if (async_init(&a, kind))
		return false;
	async_fini(&a);
	return true;
}

/*
 * Waits up to TIMEOUT_MS for one completion: its slot and result (the poll's mask, or
 * -errno for io_uring) in *SLOT and *RES. Returns 0, -ETIME when none came, or -errno.
 */
static int async_wait(struct async_poll *a, int timeout_ms, int *slot, long long *res)
{
	struct timespec ts = { .tv_sec = timeout_ms / 1000,
			       .tv_nsec = (timeout_ms % 1000) * 1000000L };
	int64_t end = now_ms() + timeout_ms;
	struct io_uring_cqe cqe;
	struct io_event ev;
	long n;
	int ret;

	if (a->kind == ASYNC_IO_URING) {
		ret = uring_submit_wait(&a->ring, 0, timeout_ms, &cqe);
		if (ret)
			return ret;
		*slot = (int)cqe.user_data;
		*res = cqe.res;
		return 0;
	}
	for (;;) {
		n = syscall(__NR_io_getevents, a->ctx, 1, 1, &ev, &ts);
		if (n == 1) {
			*slot = (int)ev.data;
			*res = ev.res;
			return 0;
		}
		if (n == 0)
			return -ETIME;
		if (errno != EINTR)
			return -errno;
		timeout_ms = (int)(end - now_ms());
		if (timeout_ms < 0)
			timeout_ms = 0;
		ts = (struct timespec){ .tv_sec = timeout_ms / 1000,
					.tv_nsec = (timeout_ms % 1000) * 1000000L };
	}
}

/*
 * Arms a one-shot poll of EVENTS (POLL* bits) on FD as SLOT; it must not complete at once,
 * for nothing the case waits for is ready yet.
 */
static void async_arm_pending(struct __test_metadata *_metadata, struct async_poll *a, int slot,
			      int fd, short events, const char *what)
{
	struct iocb *cb = &a->cb[slot], *cbs[1] = { cb };
	long long res = 0;
	int got = 0, ret;

	ASSERT_TRUE(slot >= 1 && slot <= ASYNC_SLOTS);
	if (a->kind == ASYNC_IO_URING) {
		uring_queue_poll(&a->ring, fd, (uint16_t)events, slot);
		ret = uring_submit(&a->ring, 1);
		ASSERT_EQ(1, ret) TH_LOG("io_uring_enter(POLL_ADD) of %s: %s", what,
					 ret < 0 ? strerror(-ret) : "not submitted");
	} else {
		memset(cb, 0, sizeof(*cb));
		cb->aio_data = slot;
		cb->aio_lio_opcode = IOCB_CMD_POLL;
		cb->aio_fildes = fd;
		cb->aio_buf = (uint16_t)events;
		ASSERT_EQ(1, syscall(__NR_io_submit, a->ctx, 1, cbs))
			TH_LOG("io_submit(IOCB_CMD_POLL) of %s: %s", what, strerror(errno));
	}
	/* Both arm the poll in the submitting call: a ready one has completed by now. */
	ret = async_wait(a, 0, &got, &res);
	ASSERT_EQ(-ETIME, ret)
		TH_LOG("%s of %s: %s (poll %d, mask %#llx)", async_name(a), what,
		       ret ? strerror(-ret) : "completed as soon as it was armed", got, res);
}

/* The poll armed as SLOT must complete within WAKE_TIMEOUT_MS; returns its mask. */
static long long async_expect_done(struct __test_metadata *_metadata, struct async_poll *a,
				   int slot, const char *what, const char *action)
{
	long long res = 0;
	int got = 0, ret;

	ret = async_wait(a, WAKE_TIMEOUT_MS, &got, &res);
	EXPECT_EQ(0, ret)
		TH_LOG("%s of %s: not completed within %d ms of %s%s%s", async_name(a), what,
		       WAKE_TIMEOUT_MS, action, ret == -ETIME ? "" : ": ",
		       ret == -ETIME ? "" : strerror(-ret));
	if (ret)
		return -1;
	EXPECT_EQ(slot, got)
		TH_LOG("%s: after %s, poll %d completed (mask %#llx) instead of %s", async_name(a),
		       action, got, res, what);
	EXPECT_LE(0, res) TH_LOG("%s of %s: failed: %s", async_name(a), what, strerror((int)-res));
	return got == slot && res >= 0 ? res : -1;
}

/* Nothing may complete for QUIET_MS: the poll of WHAT stays pending through ACTION. */
static void async_expect_quiet(struct __test_metadata *_metadata, struct async_poll *a,
			       const char *what, const char *action)
{
	long long res = 0;
	int got = 0, ret;

	ret = async_wait(a, QUIET_MS, &got, &res);
	EXPECT_EQ(-ETIME, ret)
		TH_LOG("%s of %s: %s after %s (poll %d, mask %#llx), want it pending",
		       async_name(a), what, ret ? strerror(-ret) : "completed", action, got, res);
}

/*
 * Cancels the pending poll SLOT and reaps the cancellation: io_uring posts the poll's
 * -ECANCELED and the removal's 0; aio's io_cancel() says EINPROGRESS and posts the poll with
 * an empty mask.
 */
static void async_cancel(struct __test_metadata *_metadata, struct async_poll *a, int slot)
{
	bool poll_seen = false, remove_seen = a->kind == ASYNC_AIO;
	int64_t end = now_ms() + WAKE_TIMEOUT_MS;
	struct io_event ev;
	long long res;
	int got, ret;

	if (a->kind == ASYNC_IO_URING) {
		uring_queue_poll_remove(&a->ring, slot, ASYNC_REMOVE_TAG(slot));
		ret = uring_submit(&a->ring, 1);
		ASSERT_EQ(1, ret) TH_LOG("io_uring_enter(POLL_REMOVE): %s",
					 ret < 0 ? strerror(-ret) : "not submitted");
	} else {
		ret = (int)syscall(__NR_io_cancel, a->ctx, &a->cb[slot], &ev);
		ASSERT_TRUE(ret == 0 || errno == EINPROGRESS)
			TH_LOG("io_cancel of poll %d: %s", slot, strerror(errno));
	}
	while (!(poll_seen && remove_seen)) {
		ret = async_wait(a, (int)(end - now_ms() > 0 ? end - now_ms() : 0), &got, &res);
		ASSERT_EQ(0, ret)
			TH_LOG("%s: cancellation of poll %d not reaped within %d ms",
			       async_name(a), slot, WAKE_TIMEOUT_MS);
		if (got == slot) {
			EXPECT_EQ(a->kind == ASYNC_IO_URING ? -ECANCELED : 0, res)
				TH_LOG("%s: cancelled poll %d completed with %lld", async_name(a),
				       slot, res);
			poll_seen = true;
		} else if (got == ASYNC_REMOVE_TAG(slot)) {
			EXPECT_EQ(0, res) TH_LOG("IORING_OP_POLL_REMOVE: %lld", res);
			remove_seen = true;
		} else {
			ASSERT_EQ(slot, got)
				TH_LOG("%s: unexpected completion %d (%lld) while cancelling",
				       async_name(a), got, res);
		}
	}
}

/*
 * write() of one byte to FD by a writer that nothing can preempt on its CPU: SCHED_FIFO on
 * CPU 0 for the call. The VFS stores the writer's new position (ksys_write(): f_pos = pos)
 * only after ->write_iter returned, that is after the write's wake-up; a ->poll in between
 * finds the writer's own description still before the end of file, readable. aio re-polls a
 * keyless wake-up from a kworker of the waking CPU's pool (schedule_work()), which must not
 * run in that window: a fair-class kworker cannot run on CPU 0 before this thread is back to
 * SCHED_OTHER, by which time the position is stored. (io_uring re-polls in task work of the
 * submitting task, this one, on its way back to user space: after the store as well.)
 */
static void write_byte_unpreempted(struct __test_metadata *_metadata, int fd)
{
	struct sched_param rt = { .sched_priority = 10 }, other = { .sched_priority = 0 };
	cpu_set_t cpu0, old;
	ssize_t n;

	ASSERT_EQ(0, sched_getaffinity(0, sizeof(old), &old));
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(cpu0), &cpu0));
	ASSERT_EQ(0, sched_setscheduler(0, SCHED_FIFO, &rt))
		TH_LOG("cannot make the writer SCHED_FIFO: %s", strerror(errno));
	n = write(fd, "x", 1);
	ASSERT_EQ(0, sched_setscheduler(0, SCHED_OTHER, &other));
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(old), &old));
	ASSERT_EQ(1, n) TH_LOG("write: %s", strerror(errno));
}

FIXTURE(async)
{
	char mnt[LFS_MOUNT_SLOTS][LFS_PATH_MAX];
	char path[LFS_PATH_MAX];
	struct async_poll a;
};

FIXTURE_VARIANT(async)
{
	enum async_kind kind;
};

FIXTURE_VARIANT_ADD(async, io_uring) { .kind = ASYNC_IO_URING };
FIXTURE_VARIANT_ADD(async, aio) { .kind = ASYNC_AIO };

FIXTURE_SETUP(async)
{
	self->a.ring.fd = -1;
	if (!async_available(variant->kind))
		SKIP(return, "%s is not available",
		     variant->kind == ASYNC_IO_URING ? "io_uring" : "aio (CONFIG_AIO)");
	lfs_mount_slot(_metadata, self->mnt, "max_file_size=4k");
	path_join(self->path, self->mnt[0], "watched");
	ASSERT_EQ(0, async_init(&self->a, variant->kind));
}

FIXTURE_TEARDOWN_PARENT(async)
{
	lfs_teardown_slots(_metadata, self->mnt);
}

/*
 * A write completes a POLLIN poll on a description it leaves behind the size, and not the
 * one on the writer's own description, which it leaves at end of file.
 */
TEST_F_TIMEOUT(async, write_completes_reader_not_writer_at_eof, LFS_TIMEOUT)
{
	long long res;
	int w, r;

	open_pair(_metadata, self->mnt[0], "watched", &w, &r);
	async_arm_pending(_metadata, &self->a, 1, r, POLLIN, "POLLIN, reader at EOF");
	async_arm_pending(_metadata, &self->a, 2, w, POLLIN, "POLLIN, writer at EOF");
	write_byte_unpreempted(_metadata, w);
	res = async_expect_done(_metadata, &self->a, 1, "POLLIN on the reader", "a write");
	/* A poll that did not complete has already failed the case. */
	EXPECT_TRUE(res < 0 || (res & POLLIN))
		TH_LOG("%s: the reader's poll completed with %#llx, want POLLIN",
		       async_name(&self->a), res);
	async_expect_quiet(_metadata, &self->a, "POLLIN on the writer's own description at EOF",
			   "its write");
	async_cancel(_metadata, &self->a, 2);
	async_fini(&self->a);
	close(r);
	close(w);
}

/*
 * A shrinking truncate of a full file completes a POLLOUT poll with POLLOUT, and not a POLLIN
 * poll at end of file.
 */
TEST_F_TIMEOUT(async, truncate_shrink_completes_pollout_not_pollin_at_eof, LFS_TIMEOUT)
{
	long long res;
	int w, r, e;

	open_pair(_metadata, self->mnt[0], "watched", &w, &r);
	e = open(self->path, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(e, 0);
	ASSERT_EQ(0, ftruncate(w, MAX_FILE_SIZE));
	ASSERT_EQ(MAX_FILE_SIZE, lseek(e, 0, SEEK_END));
	async_arm_pending(_metadata, &self->a, 1, r, POLLOUT, "POLLOUT, full file");
	async_arm_pending(_metadata, &self->a, 2, e, POLLIN, "POLLIN, at EOF of a full file");
	ASSERT_EQ(0, ftruncate(w, MAX_FILE_SIZE / 2));
	res = async_expect_done(_metadata, &self->a, 1, "POLLOUT", "a shrinking truncate");
	/* A poll that did not complete has already failed the case. */
	EXPECT_TRUE(res < 0 || ((res & POLLOUT) && !(res & (POLLIN | POLLHUP | POLLERR))))
		TH_LOG("%s: the POLLOUT poll completed with %#llx, want POLLOUT only",
		       async_name(&self->a), res);
	async_expect_quiet(_metadata, &self->a, "POLLIN beyond the new end of file",
			   "a shrinking truncate");
	async_cancel(_metadata, &self->a, 2);
	async_fini(&self->a);
	close(e);
	close(r);
	close(w);
}

/*
 * A write that fails with EFAULT past the end of the file still grows it:
 * generic_perform_write() calls write_begin/write_end before it faults the buffer in, and
 * simple_write_end() sets i_size to the write's position though nothing was copied. A
 * reader at 0 then has data to read (zeroes), and its pending POLLIN poll must complete.
 */
TEST_F_TIMEOUT(async, failed_write_that_grows_the_file_completes_reader, LFS_TIMEOUT)
{
	long page = sysconf(_SC_PAGESIZE);
	struct stat st;
	long long res;
	void *hole;
	int w, r;

	ASSERT_EQ(0, lfs_remount(self->mnt[0], "max_file_size=64k"));
	hole = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	open_pair(_metadata, self->mnt[0], "watched", &w, &r);
	async_arm_pending(_metadata, &self->a, 1, r, POLLIN, "POLLIN, reader of an empty file");
	errno = 0;
	EXPECT_EQ(-1, pwrite(w, hole, 10, 4096));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, fstat(w, &st));
	ASSERT_EQ(4096, st.st_size) TH_LOG("the failed write did not grow the file as "
					   "simple_write_end() does: the case tests nothing");
	res = async_expect_done(_metadata, &self->a, 1, "POLLIN on the reader",
				"a failed write that grew the file to 4096");
	EXPECT_TRUE(res < 0 || (res & POLLIN))
		TH_LOG("%s: the reader's poll completed with %#llx, want POLLIN",
		       async_name(&self->a), res);
	async_fini(&self->a);
	munmap(hole, page);
	close(r);
	close(w);
}

/*
 * A remount may not lower max_file_size below a file's size (EINVAL, as size= below the bytes
 * in use): read() stops at the limit (filemap_read() returns nothing past s_maxbytes), so such
 * a file would report data that cannot be read, and no room that a shrink or a raised limit
 * could truthfully announce. So a room wake-up's EPOLLOUT key is always true: a shrink of a
 * full file completes a pending POLLOUT poll, and poll() agrees. (io_uring and aio take the
 * key as the result; a key sent to a file without room would complete them falsely.)
 */
TEST_F_TIMEOUT(async, room_key_only_for_a_file_with_room, LFS_TIMEOUT)
{
	static char chunk[64 * 1024];
	struct pollfd pfd;
	long long res;
	int w, r;

	ASSERT_EQ(0, lfs_remount(self->mnt[0], "max_file_size=64k"));
	open_pair(_metadata, self->mnt[0], "watched", &w, &r);
	memset(chunk, 'r', sizeof(chunk));
	ASSERT_EQ((ssize_t)sizeof(chunk), write(w, chunk, sizeof(chunk)));
	pfd = (struct pollfd){ .fd = r, .events = POLLOUT };
	ASSERT_EQ(0, poll(&pfd, 1, 0)) TH_LOG("POLLOUT on a file at max_file_size");
	async_arm_pending(_metadata, &self->a, 1, r, POLLOUT, "POLLOUT, full file");

	EXPECT_EQ(-EINVAL, lfs_remount(self->mnt[0], "max_file_size=4k"))
		TH_LOG("max_file_size lowered below a 64 KiB file");
	async_expect_quiet(_metadata, &self->a, "POLLOUT on a full file",
			   "a refused remount lowering max_file_size");

	ASSERT_EQ(0, ftruncate(w, 32 * 1024));
	res = async_expect_done(_metadata, &self->a, 1, "POLLOUT", "a shrinking truncate");
	EXPECT_TRUE(res < 0 || (res & POLLOUT))
		TH_LOG("%s: the POLLOUT poll completed with %#llx", async_name(&self->a), res);
	EXPECT_EQ(1, poll(&pfd, 1, 0)) TH_LOG("the completion claimed room that poll() denies");
	EXPECT_EQ(1, pwrite(w, "x", 1, 32 * 1024)) TH_LOG("the room is real: %s", strerror(errno));
	async_fini(&self->a);
	close(r);
	close(w);
}

/* Unlinking the name completes a POLLIN poll at end of file with POLLHUP. */
TEST_F_TIMEOUT(async, unlink_completes_pollin_with_hup, LFS_TIMEOUT)
{
	long long res;
	int w, r;

	open_pair(_metadata, self->mnt[0], "watched", &w, &r);
	async_arm_pending(_metadata, &self->a, 1, r, POLLIN, "POLLIN, reader at EOF");
	ASSERT_EQ(0, unlink(self->path));
	res = async_expect_done(_metadata, &self->a, 1, "POLLIN at EOF", "unlink");
	/* A poll that did not complete has already failed the case. */
	EXPECT_TRUE(res < 0 || (res & POLLHUP))
		TH_LOG("%s: the poll completed with %#llx, want POLLHUP",
		       async_name(&self->a), res);
	async_fini(&self->a);
	close(r);
	close(w);
}

/* ------------------------------------------------------------ EPOLLEXCLUSIVE */

LFS_FIXTURE(exclusive, "max_file_size=4k")

/* EPOLLEXCLUSIVE waiters of one kind in a case. */
#define K_EXCL 4

/* A thread asleep in epoll_wait() on an instance of its own: the file's item and a stop fd. */
struct sleeper {
	const char *role;
	int fd;		 /* the description watched, owned by the sleeper */
	uint32_t events; /* as registered for it */
	int ep;
	int stop; /* the case's eventfd */
	pthread_t thread;
	atomic_int tid;
	atomic_bool done;
	bool in_time;	 /* done before the case stopped the sleepers */
	uint32_t got;	 /* the events reported for fd, 0 when none */
	int err;	 /* errno of a failed epoll_wait(), -1 when it timed out */
};

/* Longer than any case waits: a sleeper is stopped, never ended by its timeout. */
#define SLEEPER_TIMEOUT_MS (4 * WAKE_TIMEOUT_MS)

static void *sleeper_main(void *arg)
{
	struct sleeper *s = arg;
	struct epoll_event ev[2];
	int n, i;

	atomic_store(&s->tid, sys_gettid());
	do {
		n = epoll_wait(s->ep, ev, 2, SLEEPER_TIMEOUT_MS);
	} while (n < 0 && errno == EINTR);
	s->err = n < 0 ? errno : n == 0 ? -1 : 0;
	for (i = 0; i < n; i++)
		if (ev[i].data.fd == s->fd)
			s->got = ev[i].events;
	atomic_store(&s->done, true);
	return NULL;
}

/*
 * Starts sleeper S on FD (which it takes over) for EVENTS, and returns once it sleeps in
 * epoll_wait(): its item is then on the file's wait queue, after every earlier sleeper's.
 */
static void sleeper_start(struct __test_metadata *_metadata, struct sleeper *s, const char *role,
			  int fd, uint32_t events, int stop)
{
	static const long epoll_nrs[] = { __NR_epoll_wait, __NR_epoll_pwait, -1 };
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = stop };
	int ret;

	memset(s, 0, sizeof(*s));
	s->role = role;
	s->fd = fd;
	s->events = events;
	s->stop = stop;
	ASSERT_GE(fd, 0) TH_LOG("%s: open: %s", role, strerror(errno));
	s->ep = epoll_with(fd, events);
	ASSERT_GE(s->ep, 0) TH_LOG("%s: epoll: %s", role, strerror(errno));
	ASSERT_EQ(0, epoll_ctl(s->ep, EPOLL_CTL_ADD, stop, &ev));
	ASSERT_EQ(0, pthread_create(&s->thread, NULL, sleeper_main, s));
	while (!atomic_load(&s->tid))
		sleep_ms(1);
	ret = wait_task_blocked(atomic_load(&s->tid), epoll_nrs, &s->done, WAKE_TIMEOUT_MS);
	ASSERT_EQ(0, ret)
		TH_LOG("%s: %s", role,
		       ret > 0 ? "epoll_wait() returned at once: ready before the action" :
				 "never went to sleep in epoll_wait()");
}

/* Waits up to WAKE_TIMEOUT_MS for every one of the N sleepers S to be done. */
static void sleepers_wait_all(struct sleeper *s, int n)
{
	int64_t end = now_ms() + WAKE_TIMEOUT_MS;
	int i;

	for (i = 0; i < n; i++)
		while (!atomic_load(&s[i].done) && now_ms() < end)
			sleep_ms(1);
}

/* Waits up to WAKE_TIMEOUT_MS for at least one of the N sleepers S to be done. */
static void sleepers_wait_any(struct sleeper *s, int n)
{
	int64_t end = now_ms() + WAKE_TIMEOUT_MS;
	int i;

	for (;;) {
		for (i = 0; i < n; i++)
			if (atomic_load(&s[i].done))
				return;
		if (now_ms() >= end)
			return;
		sleep_ms(1);
	}
}

/*
 * Notes which of the N sleepers S are done, then stops the others through the stop eventfd
 * and joins them all. A sleeper whose instance had the file's item queued reports it even
 * when it ran only after the stop.
 */
static void sleepers_stop(struct __test_metadata *_metadata, struct sleeper *s, int n)
{
	int i;

	for (i = 0; i < n; i++)
		s[i].in_time = atomic_load(&s[i].done);
	ASSERT_EQ(0, eventfd_write(s[0].stop, 1));
	for (i = 0; i < n; i++) {
		pthread_join(s[i].thread, NULL);
		EXPECT_NE(-1, s[i].err) TH_LOG("%s: epoll_wait() timed out", s[i].role);
		EXPECT_EQ(0, s[i].err > 0 ? s[i].err : 0)
			TH_LOG("%s: epoll_wait(): %s", s[i].role, strerror(s[i].err));
	}
}

/* The events epoll_wait(..., 0) reports for the file on S's instance now, 0 when none. */
static uint32_t sleeper_ready_now(const struct sleeper *s)
{
	struct epoll_event ev[2];
	uint32_t got = 0;
	int n, i;

	n = epoll_wait(s->ep, ev, 2, 0);
	for (i = 0; i < n; i++)
		if (ev[i].data.fd == s->fd)
			got = ev[i].events;
	return got;
}

static void sleepers_close(struct sleeper *s, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		close(s[i].ep);
		close(s[i].fd);
	}
}

/*
 * Each of the N sleepers S must have been woken in time by ACTION and report BIT for the
 * file, from its sleep and from epoll_wait(..., 0); returns how many did.
 */
static int expect_all_report(struct __test_metadata *_metadata, struct sleeper *s, int n,
			     uint32_t bit, const char *bit_name, const char *action)
{
	int i, woken = 0, ready = 0;
	uint32_t now;

	for (i = 0; i < n; i++) {
		if (s[i].in_time && (s[i].got & bit))
			woken++;
		else
			TH_LOG("%s: %s after %s (reported %#x)", s[i].role,
			       s[i].got & bit ? "woken late" : "not woken", action, s[i].got);
		now = sleeper_ready_now(&s[i]);
		if (now & bit)
			ready++;
	}
	EXPECT_EQ(n, woken)
		TH_LOG("%s woke %d of %d %s waiters, want all %d", action, woken, n, s[0].role, n);
	EXPECT_EQ(n, ready)
		TH_LOG("after %s, %d of %d %s instances report %s, want all %d", action, ready, n,
		       s[0].role, bit_name, n);
	return woken;
}

/* None of the N sleepers S may report the file, from its sleep or epoll_wait(..., 0). */
static void expect_none_report(struct __test_metadata *_metadata, struct sleeper *s, int n,
			       const char *action)
{
	uint32_t now;
	int i;

	for (i = 0; i < n; i++) {
		now = sleeper_ready_now(&s[i]);
		EXPECT_EQ(0u, s[i].got | now)
			TH_LOG("%s: after %s, reported %#x (epoll_wait(0): %#x), want nothing",
			       s[i].role, action, s[i].got, now);
	}
}

enum raise { RAISE_BY_TRUNCATE, RAISE_BY_REMOUNT };

/*
 * A full file, watched by (in wait-queue order) an EPOLLIN|EPOLLEXCLUSIVE waiter at end of
 * file, K_EXCL EPOLLOUT|EPOLLEXCLUSIVE waiters and a plain EPOLLOUT one, each asleep on its own
 * instance and description. HOW makes the file writable again: exactly one exclusive EPOLLOUT
 * waiter must wake, and the plain one; the EPOLLIN one must not report anything.
 */
static void one_exclusive_writer_woken(struct __test_metadata *_metadata, const char *dir,
				       enum raise how)
{
	const char *action = how == RAISE_BY_TRUNCATE ? "a shrinking truncate" :
							"remount," RAISED_MAX_FILE_SIZE;
	struct sleeper s[K_EXCL + 2];
	struct sleeper *in_eof = &s[0], *out = &s[1], *plain = &s[K_EXCL + 1];
	char path[LFS_PATH_MAX];
	int w, stop, fd, i, woken = 0, in_time = 0, ready = 0;

	w = create_file(dir, "watched", path);
	ASSERT_GE(w, 0);
	ASSERT_EQ(0, ftruncate(w, MAX_FILE_SIZE));
	stop = eventfd(0, EFD_CLOEXEC);
	ASSERT_GE(stop, 0);

	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_EQ(MAX_FILE_SIZE, lseek(fd, 0, SEEK_END));
	sleeper_start(_metadata, in_eof, "EPOLLIN|EPOLLEXCLUSIVE at EOF", fd,
		      EPOLLIN | EPOLLEXCLUSIVE, stop);
	for (i = 0; i < K_EXCL; i++)
		sleeper_start(_metadata, &out[i], "EPOLLOUT|EPOLLEXCLUSIVE",
			      open(path, O_RDWR | O_CLOEXEC), EPOLLOUT | EPOLLEXCLUSIVE, stop);
	sleeper_start(_metadata, plain, "plain EPOLLOUT", open(path, O_RDWR | O_CLOEXEC),
		      EPOLLOUT, stop);

	if (how == RAISE_BY_TRUNCATE) {
		ASSERT_EQ(0, ftruncate(w, MAX_FILE_SIZE / 2));
	} else {
		ASSERT_EQ(0, lfs_remount(dir, RAISED_MAX_FILE_SIZE));
	}
	sleepers_wait_any(out, K_EXCL);
	sleepers_wait_all(plain, 1);
	/* Any further exclusive waiter the wake-up reached has this long to show up. */
	sleep_ms(QUIET_MS);
	sleepers_stop(_metadata, s, ARRAY_LEN(s));

	for (i = 0; i < K_EXCL; i++) {
		if (out[i].got & EPOLLOUT) {
			woken++;
			in_time += out[i].in_time;
		}
		if (sleeper_ready_now(&out[i]) & EPOLLOUT)
			ready++;
	}
	EXPECT_EQ(1, woken)
		TH_LOG("%s woke %d of %d EPOLLOUT|EPOLLEXCLUSIVE waiters, want exactly 1", action,
		       woken, K_EXCL);
	EXPECT_TRUE(!woken || in_time)
		TH_LOG("%s: no EPOLLOUT|EPOLLEXCLUSIVE waiter woken within %d ms", action,
		       WAKE_TIMEOUT_MS);
	EXPECT_EQ(1, ready)
		TH_LOG("after %s, %d of %d EPOLLOUT|EPOLLEXCLUSIVE instances report EPOLLOUT "
		       "(epoll_wait(0)), want exactly 1", action, ready, K_EXCL);
	expect_all_report(_metadata, plain, 1, EPOLLOUT, "EPOLLOUT", action);
	expect_none_report(_metadata, in_eof, 1, action);

	sleepers_close(s, ARRAY_LEN(s));
	close(stop);
	close(w);
}

TEST_F_TIMEOUT(exclusive, truncate_shrink_wakes_one_exclusive_writer, LFS_TIMEOUT)
{
	one_exclusive_writer_woken(_metadata, self->mnt[0], RAISE_BY_TRUNCATE);
}

TEST_F_TIMEOUT(exclusive, remount_raising_max_file_size_wakes_one_exclusive_writer, LFS_TIMEOUT)
{
	one_exclusive_writer_woken(_metadata, self->mnt[0], RAISE_BY_REMOUNT);
}

/*
 * An empty file watched by (in wait-queue order) an EPOLLIN|EPOLLEXCLUSIVE waiter on the
 * writer's own description, K_EXCL EPOLLIN|EPOLLEXCLUSIVE waiters on readers at position 0 and
 * a plain EPOLLIN one: a write must wake every reader, exclusive or not. The writer's own
 * waiter comes first on the wait queue, so a write that stopped at the first exclusive waiter
 * would wake no reader. What its sleep reports is not checked: its thread may re-poll while
 * the write is still under way, before the VFS stored the writer's new position, and find it
 * readable (see write_byte_unpreempted()); once the write returned it must not be.
 */
TEST_F_TIMEOUT(exclusive, write_wakes_every_exclusive_reader, LFS_TIMEOUT)
{
	struct sleeper s[K_EXCL + 2];
	struct sleeper *own = &s[0], *in = &s[1], *plain = &s[K_EXCL + 1];
	char path[LFS_PATH_MAX];
	int w, stop, i;

	w = create_file(self->mnt[0], "watched", path);
	ASSERT_GE(w, 0);
	stop = eventfd(0, EFD_CLOEXEC);
	ASSERT_GE(stop, 0);
	/* A dup() shares the writer's open file description, and so its position. */
	sleeper_start(_metadata, own, "writer's own EPOLLIN|EPOLLEXCLUSIVE", dup(w),
		      EPOLLIN | EPOLLEXCLUSIVE, stop);
	for (i = 0; i < K_EXCL; i++)
		sleeper_start(_metadata, &in[i], "EPOLLIN|EPOLLEXCLUSIVE",
			      open(path, O_RDONLY | O_CLOEXEC), EPOLLIN | EPOLLEXCLUSIVE, stop);
	sleeper_start(_metadata, plain, "plain EPOLLIN", open(path, O_RDONLY | O_CLOEXEC),
		      EPOLLIN, stop);

	ASSERT_EQ(1, write(w, "x", 1));
	sleepers_wait_all(in, K_EXCL + 1); /* the exclusive readers and the plain one */
	sleep_ms(QUIET_MS);
	sleepers_stop(_metadata, s, ARRAY_LEN(s));

	expect_all_report(_metadata, in, K_EXCL, EPOLLIN, "EPOLLIN", "a write");
	expect_all_report(_metadata, plain, 1, EPOLLIN, "EPOLLIN", "a write");
	EXPECT_EQ(0u, sleeper_ready_now(own))
		TH_LOG("%s: epoll_wait(0) after its own write reports %#x, want nothing",
		       own->role, sleeper_ready_now(own));

	sleepers_close(s, ARRAY_LEN(s));
	close(stop);
	close(w);
}

enum hang_up { HUP_BY_UNLINK, HUP_BY_RENAME_OVER };

/*
 * A full file watched by K_EXCL EPOLLOUT|EPOLLEXCLUSIVE waiters, K_EXCL EPOLLIN|EPOLLEXCLUSIVE
 * waiters at end of file, a plain EPOLLOUT and a plain EPOLLIN one (at end of file): removing
 * the name must wake every one of them with EPOLLHUP.
 */
static void every_waiter_hung_up(struct __test_metadata *_metadata, const char *dir,
				 enum hang_up how)
{
	const char *action = how == HUP_BY_UNLINK ? "unlink" : "a rename over the file";
	struct sleeper s[2 * K_EXCL + 2];
	struct sleeper *out = &s[0], *in = &s[K_EXCL], *plain = &s[2 * K_EXCL];
	char path[LFS_PATH_MAX], other[LFS_PATH_MAX];
	int w, stop, fd, ofd = -1, i;

	w = create_file(dir, "watched", path);
	ASSERT_GE(w, 0);
	ASSERT_EQ(0, ftruncate(w, MAX_FILE_SIZE));
	stop = eventfd(0, EFD_CLOEXEC);
	ASSERT_GE(stop, 0);
	for (i = 0; i < K_EXCL; i++)
		sleeper_start(_metadata, &out[i], "EPOLLOUT|EPOLLEXCLUSIVE",
			      open(path, O_RDWR | O_CLOEXEC), EPOLLOUT | EPOLLEXCLUSIVE, stop);
	for (i = 0; i < K_EXCL; i++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		ASSERT_EQ(MAX_FILE_SIZE, lseek(fd, 0, SEEK_END));
		sleeper_start(_metadata, &in[i], "EPOLLIN|EPOLLEXCLUSIVE at EOF", fd,
			      EPOLLIN | EPOLLEXCLUSIVE, stop);
	}
	sleeper_start(_metadata, &plain[0], "plain EPOLLOUT", open(path, O_RDWR | O_CLOEXEC),
		      EPOLLOUT, stop);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_EQ(MAX_FILE_SIZE, lseek(fd, 0, SEEK_END));
	sleeper_start(_metadata, &plain[1], "plain EPOLLIN at EOF", fd, EPOLLIN, stop);

	if (how == HUP_BY_UNLINK) {
		ASSERT_EQ(0, unlink(path));
	} else {
		ofd = open(path_join(other, dir, "other"), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
		ASSERT_GE(ofd, 0);
		ASSERT_EQ(0, rename(other, path));
	}
	sleepers_wait_all(s, ARRAY_LEN(s));
	sleepers_stop(_metadata, s, ARRAY_LEN(s));

	expect_all_report(_metadata, out, K_EXCL, EPOLLHUP, "EPOLLHUP", action);
	expect_all_report(_metadata, in, K_EXCL, EPOLLHUP, "EPOLLHUP", action);
	expect_all_report(_metadata, &plain[0], 1, EPOLLHUP, "EPOLLHUP", action);
	expect_all_report(_metadata, &plain[1], 1, EPOLLHUP, "EPOLLHUP", action);

	sleepers_close(s, ARRAY_LEN(s));
	if (ofd >= 0)
		close(ofd);
	close(stop);
	close(w);
}

TEST_F_TIMEOUT(exclusive, unlink_hangs_up_every_exclusive_waiter, LFS_TIMEOUT)
{
	every_waiter_hung_up(_metadata, self->mnt[0], HUP_BY_UNLINK);
}

TEST_F_TIMEOUT(exclusive, rename_over_hangs_up_every_exclusive_waiter, LFS_TIMEOUT)
{
	every_waiter_hung_up(_metadata, self->mnt[0], HUP_BY_RENAME_OVER);
}

LFS_MAIN
