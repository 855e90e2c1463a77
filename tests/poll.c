// SPDX-License-Identifier: GPL-2.0
/*
 * Readiness, per open file description:
 *   EPOLLIN|EPOLLRDNORM   iff the description's position < file size
 *   EPOLLOUT|EPOLLWRNORM  iff file size < max_file_size
 *   EPOLLHUP              once the file was explicitly unlinked or renamed over
 *
 * The "wake" fixture runs every test once per mechanism: poll, select, epoll level-
 * triggered, edge-triggered, one-shot, exclusive, nested, and io_uring IORING_OP_POLL_ADD.
 * A wake-up test starts a waiter thread, waits until it sleeps in its wait syscall (so a
 * missing wake-up cannot hide behind a late start), acts from the main thread, and checks
 * what the waiter reports. Quiet tests check that actions which leave a description not
 * ready do not report it, and that the waiter still gets the next real event.
 *
 * The "fs" tests cover epoll semantics on top of that: level vs edge, one-shot re-arming,
 * and exclusive waiters on descriptions that stay unready (beyond EOF) which must not
 * swallow the wake-up meant for a ready one.
 */
#include "common.h"

#include <sys/eventfd.h>

#define RD (EPOLLIN | EPOLLRDNORM)
#define WR (EPOLLOUT | EPOLLWRNORM)
#define MAX_FILE_SIZE 8192

FIXTURE(wake)
{
	char mnt[LFS_MOUNT_SLOTS][LFS_PATH_MAX];
	char path[LFS_PATH_MAX];
	int wfd; /* writes and truncates */
	int rfd; /* the watched description */
};

FIXTURE_VARIANT(wake)
{
	enum wait_mech mech;
};

FIXTURE_VARIANT_ADD(wake, poll) { .mech = MECH_POLL };
FIXTURE_VARIANT_ADD(wake, select) { .mech = MECH_SELECT };
FIXTURE_VARIANT_ADD(wake, epoll_lt) { .mech = MECH_EPOLL_LT };
FIXTURE_VARIANT_ADD(wake, epoll_et) { .mech = MECH_EPOLL_ET };
FIXTURE_VARIANT_ADD(wake, epoll_oneshot) { .mech = MECH_EPOLL_ONESHOT };
FIXTURE_VARIANT_ADD(wake, epoll_exclusive) { .mech = MECH_EPOLL_EXCLUSIVE };
FIXTURE_VARIANT_ADD(wake, epoll_nested) { .mech = MECH_EPOLL_NESTED };
FIXTURE_VARIANT_ADD(wake, io_uring) { .mech = MECH_IO_URING };

FIXTURE_SETUP(wake)
{
	if (variant->mech == MECH_IO_URING && !uring_available())
		SKIP(return, "io_uring is not available");
	lfs_mount_slot(_metadata, self->mnt, "max_file_size=8k");
	path_join(self->path, self->mnt[0], "watched");
	open_pair(_metadata, self->mnt[0], "watched", &self->wfd, &self->rfd);
}

FIXTURE_TEARDOWN_PARENT(wake)
{
	lfs_teardown_slots(_metadata, self->mnt);
}

/* FD, watched with M for RD|WR, must report at once what poll mask READY shows. */
static void expect_now(struct __test_metadata *_metadata, enum wait_mech m, int fd,
		       uint32_t ready, const char *state)
{
	struct watch w;
	uint32_t want;
	int got;

	ASSERT_EQ(0, watch_init(&w, m, fd, RD | WR));
	got = watch_wait(&w, 0);
	want = watch_expect(&w, ready);
	watch_fini(&w);
	EXPECT_EQ((int)want, got)
		TH_LOG("%s, %s: reported %#x, want %#x", state, mech_name(m), got, want);
}

/* Starts a waiter on W for TIMEOUT_MS which must block: nothing is ready yet. */
static void start_blocked(struct __test_metadata *_metadata, struct waiter *wt, struct watch *w,
			  int timeout_ms)
{
	int ret = waiter_start(wt, w, timeout_ms);

	ASSERT_EQ(0, ret)
		TH_LOG("%s waiter %s", mech_name(w->mech),
		       ret > 0 ? "returned at once: readiness reported before the action" :
				 "never blocked");
}

/*
 * Joins the waiter, which ACTION must have woken (within WAKE_TIMEOUT_MS, not by its
 * timeout: see WAITER_TIMEOUT_MS) and which must report what poll mask READY shows; returns
 * whether it did.
 */
static bool expect_woken(struct __test_metadata *_metadata, struct waiter *wt, uint32_t ready,
			 const char *action)
{
	uint32_t want = watch_expect(wt->w, ready);
	int got = waiter_join_woken(wt);

	if (got == -ETIME) {
		EXPECT_EQ((int)want, got)
			TH_LOG("after %s, %s waiter not woken%s", action, mech_name(wt->w->mech),
			       not_woken_note(wt, got));
	} else {
		EXPECT_EQ((int)want, got)
			TH_LOG("after %s, %s waiter reported %#x, want %#x%s", action,
			       mech_name(wt->w->mech), got, want, not_woken_note(wt, got));
	}
	return (int)want == got;
}

TEST_F_TIMEOUT(wake, masks, LFS_TIMEOUT)
{
	char buf[16];

	expect_now(_metadata, variant->mech, self->rfd, WR, "empty file");
	ASSERT_EQ(10, write(self->wfd, "0123456789", 10));
	expect_now(_metadata, variant->mech, self->rfd, RD | WR, "another description wrote");
	expect_now(_metadata, variant->mech, self->wfd, WR, "the writer sits at EOF");
	ASSERT_EQ(10, read(self->rfd, buf, sizeof(buf)));
	expect_now(_metadata, variant->mech, self->rfd, WR, "read up to EOF");
	ASSERT_EQ(3, lseek(self->rfd, 3, SEEK_SET));
	expect_now(_metadata, variant->mech, self->rfd, RD | WR, "seeked back before EOF");
	ASSERT_EQ(0, ftruncate(self->wfd, MAX_FILE_SIZE));
	expect_now(_metadata, variant->mech, self->rfd, RD, "file at max_file_size");
	ASSERT_EQ(MAX_FILE_SIZE, lseek(self->rfd, 0, SEEK_END));
	expect_now(_metadata, variant->mech, self->rfd, 0, "full file, at EOF");
	ASSERT_EQ(0, unlink(self->path));
	expect_now(_metadata, variant->mech, self->rfd, EPOLLHUP, "unlinked");
	expect_now(_metadata, variant->mech, self->wfd, RD | EPOLLHUP, "unlinked, before EOF");
}

TEST_F_TIMEOUT(wake, write_wakes_reader, LFS_TIMEOUT)
{
	struct waiter wt;
	struct watch w;

	ASSERT_EQ(0, watch_init(&w, variant->mech, self->rfd, RD));
	start_blocked(_metadata, &wt, &w, WAITER_TIMEOUT_MS);
	ASSERT_EQ(1, write(self->wfd, "x", 1));
	expect_woken(_metadata, &wt, RD | WR, "a write");
	watch_fini(&w);
}

TEST_F_TIMEOUT(wake, truncate_grow_wakes_reader, LFS_TIMEOUT)
{
	struct waiter wt;
	struct watch w;

	ASSERT_EQ(0, watch_init(&w, variant->mech, self->rfd, RD));
	start_blocked(_metadata, &wt, &w, WAITER_TIMEOUT_MS);
	ASSERT_EQ(0, ftruncate(self->wfd, 100));
	expect_woken(_metadata, &wt, RD | WR, "a growing truncate");
	watch_fini(&w);
}

TEST_F_TIMEOUT(wake, truncate_shrink_wakes_writer, LFS_TIMEOUT)
{
	struct waiter wt;
	struct watch w;

	ASSERT_EQ(0, ftruncate(self->wfd, MAX_FILE_SIZE));
	ASSERT_EQ(MAX_FILE_SIZE, lseek(self->rfd, 0, SEEK_END));
	ASSERT_EQ(0, watch_init(&w, variant->mech, self->rfd, WR));
	start_blocked(_metadata, &wt, &w, WAITER_TIMEOUT_MS);
	ASSERT_EQ(0, ftruncate(self->wfd, 4096));
	expect_woken(_metadata, &wt, WR, "a shrinking truncate below max_file_size");
	watch_fini(&w);
}

TEST_F_TIMEOUT(wake, write_reaching_max_file_size_is_not_writable, LFS_TIMEOUT)
{
	char buf[MAX_FILE_SIZE] = { 0 };
	struct waiter wt;
	struct watch w;

	ASSERT_EQ(MAX_FILE_SIZE - 1, write(self->wfd, buf, MAX_FILE_SIZE - 1));
	ASSERT_EQ(MAX_FILE_SIZE - 1, lseek(self->rfd, 0, SEEK_END));
	ASSERT_EQ(0, watch_init(&w, variant->mech, self->rfd, RD));
	start_blocked(_metadata, &wt, &w, WAITER_TIMEOUT_MS);
	ASSERT_EQ(1, write(self->wfd, buf, 1));
	expect_woken(_metadata, &wt, RD, "the write filling the file");
	watch_fini(&w);
	expect_now(_metadata, variant->mech, self->wfd, 0, "writer at EOF of a full file");
}

TEST_F_TIMEOUT(wake, unlink_wakes_with_hup, LFS_TIMEOUT)
{
	struct waiter wt;
	struct watch w;

	ASSERT_EQ(0, watch_init(&w, variant->mech, self->rfd, RD));
	start_blocked(_metadata, &wt, &w, WAITER_TIMEOUT_MS);
	ASSERT_EQ(0, unlink(self->path));
	expect_woken(_metadata, &wt, WR | EPOLLHUP, "unlink");
	watch_fini(&w);
}

TEST_F_TIMEOUT(wake, rename_over_wakes_with_hup, LFS_TIMEOUT)
{
	char other[LFS_PATH_MAX];
	struct waiter wt;
	struct watch w;
	int ofd;

	ofd = open(path_join(other, self->mnt[0], "other"), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ASSERT_GE(ofd, 0);
	ASSERT_EQ(0, watch_init(&w, variant->mech, self->rfd, RD));
	start_blocked(_metadata, &wt, &w, WAITER_TIMEOUT_MS);
	ASSERT_EQ(0, rename(other, self->path));
	expect_woken(_metadata, &wt, WR | EPOLLHUP, "being renamed over");
	watch_fini(&w);
	expect_now(_metadata, variant->mech, ofd, WR, "the file renamed into place keeps no HUP");
	close(ofd);
}

/*
 * A waiter must go on sleeping through ACTION (for QUIET_MS after it), then wake for a
 * write past the watched description's position, and report just that.
 */
#define QUIET_THEN_WOKEN(action_desc, action)                                           \
	do {                                                                            \
		static const char zeros[100];                                           \
		struct waiter wt;                                                       \
		struct watch w;                                                         \
											\
		ASSERT_EQ(0, watch_init(&w, variant->mech, self->rfd, RD));             \
		start_blocked(_metadata, &wt, &w, WAITER_TIMEOUT_MS);                     \
		action;                                                                 \
		sleep_ms(QUIET_MS);                                                     \
		EXPECT_FALSE(atomic_load(&wt.done))                                     \
			TH_LOG("%s: %s waiter returned", action_desc,                   \
			       mech_name(variant->mech));                               \
		ASSERT_EQ(100, pwrite(self->wfd, zeros, 100, 1000));                    \
		expect_woken(_metadata, &wt, RD | WR, "a write past the position");     \
		watch_fini(&w);                                                         \
	} while (0)

TEST_F_TIMEOUT(wake, other_file_write_is_quiet, LFS_TIMEOUT)
{
	char other[LFS_PATH_MAX];
	int ofd;

	ofd = open(path_join(other, self->mnt[0], "other"), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ASSERT_GE(ofd, 0);
	QUIET_THEN_WOKEN("a write to another file of the instance",
			 ASSERT_EQ(5, write(ofd, "abcde", 5)));
	close(ofd);
}

TEST_F_TIMEOUT(wake, shrink_below_position_is_quiet, LFS_TIMEOUT)
{
	ASSERT_EQ(0, ftruncate(self->wfd, 100));
	ASSERT_EQ(100, lseek(self->rfd, 100, SEEK_SET));
	QUIET_THEN_WOKEN("a truncate below the position",
			 ASSERT_EQ(0, ftruncate(self->wfd, 50)));
}

TEST_F_TIMEOUT(wake, every_write_wakes, LFS_TIMEOUT)
{
	int i, rounds = 20;
	struct waiter wt;
	struct watch w;
	char msg[64];

	ASSERT_EQ(0, watch_init(&w, variant->mech, self->rfd, RD));
	for (i = 0; i < rounds; i++) {
		snprintf(msg, sizeof(msg), "write %d of %d", i + 1, rounds);
		start_blocked(_metadata, &wt, &w, WAITER_TIMEOUT_MS);
		ASSERT_EQ(1, write(self->wfd, "w", 1));
		if (!expect_woken(_metadata, &wt, RD | WR, msg))
			break;
		ASSERT_EQ(i + 1, lseek(self->rfd, 0, SEEK_END));
	}
	watch_fini(&w);
}

TEST_F_TIMEOUT(wake, one_write_wakes_every_description, LFS_TIMEOUT)
{
	enum { N = 4 };
	struct waiter wt[N];
	struct watch w[N];
	int fds[N], i;

	for (i = 0; i < N; i++) {
		fds[i] = open(self->path, O_RDWR | O_CLOEXEC);
		ASSERT_GE(fds[i], 0);
		ASSERT_EQ(0, watch_init(&w[i], variant->mech, fds[i], RD));
		start_blocked(_metadata, &wt[i], &w[i], WAITER_TIMEOUT_MS);
	}
	ASSERT_EQ(1, write(self->wfd, "x", 1));
	for (i = 0; i < N; i++) {
		/* Each description is a target of its own: EPOLLEXCLUSIVE wakes every one. */
		expect_woken(_metadata, &wt[i], RD | WR, "a write seen by several descriptions");
		watch_fini(&w[i]);
		close(fds[i]);
	}
}

/* ------------------------------------------------------------ epoll semantics */

LFS_FIXTURE(fs, NULL);

static int ready_count(int ep)
{
	struct epoll_event ev[4];

	return epoll_wait(ep, ev, 4, 0);
}

TEST_F_TIMEOUT(fs, epoll_level_repeats_edge_does_not, LFS_TIMEOUT)
{
	char buf[8];
	int w, r, lt, et;

	open_pair(_metadata, self->mnt[0], "f", &w, &r);
	lt = epoll_with(r, EPOLLIN);
	et = epoll_with(r, EPOLLIN | EPOLLET);
	ASSERT_GE(lt, 0);
	ASSERT_GE(et, 0);
	EXPECT_EQ(0, ready_count(lt));
	EXPECT_EQ(0, ready_count(et));
	ASSERT_EQ(1, write(w, "a", 1));
	EXPECT_EQ(1, ready_count(lt));
	EXPECT_EQ(1, ready_count(lt)) TH_LOG("level-triggered: reported while readable");
	EXPECT_EQ(1, ready_count(et));
	EXPECT_EQ(0, ready_count(et)) TH_LOG("edge-triggered: reported once");
	ASSERT_EQ(1, write(w, "b", 1));
	EXPECT_EQ(1, ready_count(et)) TH_LOG("each write is a new edge, even unread");
	EXPECT_EQ(0, ready_count(et));
	ASSERT_EQ(2, read(r, buf, sizeof(buf)));
	EXPECT_EQ(0, ready_count(lt)) TH_LOG("read up to EOF: no longer readable");
	EXPECT_EQ(0, ready_count(et));
	close(lt);
	close(et);
	close(w);
	close(r);
}

TEST_F_TIMEOUT(fs, epoll_oneshot_needs_rearm, LFS_TIMEOUT)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT };
	int w, r, ep;

	open_pair(_metadata, self->mnt[0], "f", &w, &r);
	ep = epoll_with(r, EPOLLIN | EPOLLONESHOT);
	ASSERT_GE(ep, 0);
	ASSERT_EQ(1, write(w, "a", 1));
	EXPECT_EQ(1, ready_count(ep));
	EXPECT_EQ(0, ready_count(ep));
	ASSERT_EQ(1, write(w, "b", 1));
	EXPECT_EQ(0, ready_count(ep)) TH_LOG("disarmed until EPOLL_CTL_MOD");
	ev.data.fd = r;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_MOD, r, &ev));
	EXPECT_EQ(1, ready_count(ep)) TH_LOG("re-armed on a readable description");
	close(ep);
	close(w);
	close(r);
}

/* A thread sleeping in epoll_wait() on an instance holding an unready exclusive decoy. */
struct decoy {
	int fd;	  /* description positioned far beyond EOF: never readable */
	int ep;	  /* epoll instance: fd (EPOLLEXCLUSIVE) and the stop eventfd */
	int stop; /* eventfd */
	pthread_t thread;
	atomic_int tid;
	atomic_int spurious; /* events reported for fd */
	atomic_bool expired; /* its epoll_wait() timed out: it stopped being a decoy */
};

static void *decoy_main(void *arg)
{
	struct decoy *d = arg;
	struct epoll_event ev[2];
	int n, i;

	atomic_store(&d->tid, sys_gettid());
	for (;;) {
		n = epoll_wait(d->ep, ev, 2, 4 * WAKE_TIMEOUT_MS);
		if (n == 0)
			atomic_store(&d->expired, true);
		if (n == 0 || (n < 0 && errno != EINTR))
			return NULL;
		for (i = 0; i < n; i++) {
			if (ev[i].data.fd == d->stop)
				return NULL;
			atomic_fetch_add(&d->spurious, 1);
		}
	}
}

TEST_F_TIMEOUT(fs, exclusive_decoys_do_not_swallow_wakeups, LFS_TIMEOUT)
{
	enum { NDECOY = 4 };
	static const long epoll_nrs[] = { __NR_epoll_wait, __NR_epoll_pwait, -1 };
	struct decoy dec[NDECOY];
	struct epoll_event ev;
	struct waiter wt;
	struct watch w;
	int wfd, rfd, stop, i, round;
	char p[LFS_PATH_MAX];

	open_pair(_metadata, self->mnt[0], "f", &wfd, &rfd);
	path_join(p, self->mnt[0], "f");
	stop = eventfd(0, EFD_CLOEXEC);
	ASSERT_GE(stop, 0);
	/* Decoys first: their wait entries come before the watcher's. */
	for (i = 0; i < NDECOY; i++) {
		memset(&dec[i], 0, sizeof(dec[i]));
		dec[i].stop = stop;
		dec[i].fd = open(p, O_RDONLY | O_CLOEXEC);
		ASSERT_GE(dec[i].fd, 0);
		ASSERT_EQ(1 << 20, lseek(dec[i].fd, 1 << 20, SEEK_SET));
		dec[i].ep = epoll_with(dec[i].fd, EPOLLIN | EPOLLEXCLUSIVE);
		ASSERT_GE(dec[i].ep, 0);
		ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = stop };
		ASSERT_EQ(0, epoll_ctl(dec[i].ep, EPOLL_CTL_ADD, stop, &ev));
		ASSERT_EQ(0, pthread_create(&dec[i].thread, NULL, decoy_main, &dec[i]));
	}
	for (i = 0; i < NDECOY; i++) {
		while (!atomic_load(&dec[i].tid))
			sleep_ms(1);
		ASSERT_EQ(0, wait_task_blocked(atomic_load(&dec[i].tid), epoll_nrs, NULL,
					       WAKE_TIMEOUT_MS));
	}
	ASSERT_EQ(0, watch_init(&w, MECH_EPOLL_EXCLUSIVE, rfd, EPOLLIN));
	for (round = 0; round < 5; round++) {
		start_blocked(_metadata, &wt, &w, WAITER_TIMEOUT_MS);
		ASSERT_EQ(1, write(wfd, "x", 1));
		if (!expect_woken(_metadata, &wt, RD | WR,
				  "a write, with exclusive decoys queued first"))
			break;
		ASSERT_EQ(round + 1, lseek(rfd, 0, SEEK_END));
	}
	watch_fini(&w);
	ASSERT_EQ(0, eventfd_write(stop, 1));
	for (i = 0; i < NDECOY; i++) {
		pthread_join(dec[i].thread, NULL);
		EXPECT_EQ(0, atomic_load(&dec[i].spurious)) TH_LOG("a decoy beyond EOF reported IN");
		EXPECT_FALSE(atomic_load(&dec[i].expired)) TH_LOG("decoy %d timed out early", i);
		close(dec[i].ep);
		close(dec[i].fd);
	}
	close(stop);
	close(wfd);
	close(rfd);
}

LFS_MAIN
