// SPDX-License-Identifier: GPL-2.0
/*
 * Wake-ups come after the change they announce.
 *
 * A poller woken before a write, truncate or unlink has made its change visible re-reads the
 * mask, finds nothing and sleeps again: the wake-up is lost. Under ordinary scheduling the
 * window is a few instructions wide and no test hits it. These tests make it deterministic:
 * the waiter is a SCHED_FIFO thread pinned to the CPU of the thread that acts, and the kernel
 * is preemptible (CONFIG_PREEMPTION), so the waiter preempts the actor right at the wake-up
 * (the wait queue's unlock) and re-polls before the actor runs one more instruction. If the
 * wake-up came first, the waiter sees the old state and only its timeout ends the wait, which
 * fails the case. A change that wakes no one at all (a rename over the watched file that does
 * not mark it unlinked) fails the same way.
 */
#include "common.h"

#include <sched.h>

#define RT_WAIT_MS 5000

LFS_FIXTURE(fs, NULL)

enum rt_mech { RT_EPOLL, RT_POLL };

struct rt_waiter {
	enum rt_mech mech;
	int fd;
	uint32_t events;
	atomic_bool done;
	pid_t tid;
	uint32_t got; /* the events the wait returned, 0 on its timeout */
	int64_t waited_ms;
};

/* Pins the calling thread to CPU 0. */
static int pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static void *rt_wait(void *arg)
{
	struct rt_waiter *w = arg;
	struct sched_param sp = { .sched_priority = 10 };
	int64_t start;

	w->tid = sys_gettid();
	if (pin_cpu0() || sched_setscheduler(0, SCHED_FIFO, &sp)) {
		w->got = ~0u; /* cannot set up: reported by the caller */
		atomic_store(&w->done, true);
		return NULL;
	}
	start = now_ms();
	if (w->mech == RT_EPOLL) {
		struct epoll_event ev = { .events = w->events }, out;
		int ep = epoll_create1(0);

		if (ep >= 0 && !epoll_ctl(ep, EPOLL_CTL_ADD, w->fd, &ev) &&
		    epoll_wait(ep, &out, 1, RT_WAIT_MS) == 1)
			w->got = out.events;
		if (ep >= 0)
			close(ep);
	} else {
		struct pollfd p = { .fd = w->fd, .events = (short)w->events };

		if (poll(&p, 1, RT_WAIT_MS) == 1)
			w->got = (uint32_t)p.revents;
	}
	w->waited_ms = now_ms() - start;
	atomic_store(&w->done, true);
	return NULL;
}

enum change { WRITE, GROW, UNLINK, RENAME_OVER };

/*
 * Starts a real-time waiter for EVENTS on RFD, waits until it sleeps, makes CHANGE from this
 * thread (on the same CPU) and requires that the waiter returns EVENTS well before its timeout.
 */
static void check_wake_order(struct __test_metadata *_metadata, enum rt_mech mech,
			     const char *path, int wfd, int rfd, uint32_t events, enum change c)
{
	static const long epoll_nrs[] = { __NR_epoll_wait, __NR_epoll_pwait, -1 };
	static const long poll_nrs[] = { __NR_poll, __NR_ppoll, -1 };
	struct rt_waiter w = { .mech = mech, .fd = rfd, .events = events };
	pthread_t t;

	ASSERT_EQ(0, pin_cpu0());
	ASSERT_EQ(0, pthread_create(&t, NULL, rt_wait, &w));
	while (!w.tid)
		sleep_ms(1);
	ASSERT_EQ(0, wait_task_blocked(w.tid, mech == RT_EPOLL ? epoll_nrs : poll_nrs, &w.done,
				       RT_WAIT_MS / 2))
	TH_LOG("the real-time waiter never went to sleep");
	switch (c) {
	case WRITE:
		ASSERT_EQ(1, write(wfd, "x", 1));
		break;
	case GROW:
		ASSERT_EQ(0, ftruncate(wfd, 4096));
		break;
	case UNLINK:
		ASSERT_EQ(0, unlink(path));
		break;
	case RENAME_OVER: {
		char other[LFS_PATH_MAX + 8];
		int fd;

		snprintf(other, sizeof(other), "%s.new", path);
		fd = open(other, O_CREAT | O_RDWR, 0644);
		ASSERT_GE(fd, 0);
		ASSERT_EQ(0, rename(other, path));
		close(fd);
		break;
	}
	}
	pthread_join(t, NULL);
	ASSERT_NE(~0u, w.got) TH_LOG("cannot pin or make the waiter SCHED_FIFO");
	EXPECT_EQ(events, w.got & events)
	TH_LOG("the waiter returned 0x%x after %lld ms (timeout %d ms): woken before the change",
	       w.got, (long long)w.waited_ms, RT_WAIT_MS);
	EXPECT_LT(w.waited_ms, RT_WAIT_MS / 2)
	TH_LOG("the wait ended only at its timeout (%lld ms)", (long long)w.waited_ms);
}

static void wake_order_case(struct __test_metadata *_metadata, const char *dir,
			    enum rt_mech mech, uint32_t events, enum change c)
{
	char path[LFS_PATH_MAX];
	int wfd, rfd;

	open_pair(_metadata, dir, "watched", &wfd, &rfd);
	path_join(path, dir, "watched");
	check_wake_order(_metadata, mech, path, wfd, rfd, events, c);
	close(rfd);
	close(wfd);
}

TEST_F_TIMEOUT(fs, epoll_write_wakes_after_the_data_is_there, LFS_TIMEOUT)
{
	wake_order_case(_metadata, self->mnt[0], RT_EPOLL, EPOLLIN, WRITE);
}

TEST_F_TIMEOUT(fs, poll_write_wakes_after_the_data_is_there, LFS_TIMEOUT)
{
	wake_order_case(_metadata, self->mnt[0], RT_POLL, POLLIN, WRITE);
}

TEST_F_TIMEOUT(fs, epoll_truncate_wakes_after_the_size_grew, LFS_TIMEOUT)
{
	wake_order_case(_metadata, self->mnt[0], RT_EPOLL, EPOLLIN, GROW);
}

TEST_F_TIMEOUT(fs, epoll_unlink_wakes_after_the_name_is_gone, LFS_TIMEOUT)
{
	wake_order_case(_metadata, self->mnt[0], RT_EPOLL, EPOLLHUP, UNLINK);
}

TEST_F_TIMEOUT(fs, poll_unlink_wakes_after_the_name_is_gone, LFS_TIMEOUT)
{
	wake_order_case(_metadata, self->mnt[0], RT_POLL, POLLHUP, UNLINK);
}

TEST_F_TIMEOUT(fs, epoll_rename_over_wakes_after_the_name_is_gone, LFS_TIMEOUT)
{
	wake_order_case(_metadata, self->mnt[0], RT_EPOLL, EPOLLHUP, RENAME_OVER);
}

/* A real-time thread on CPU 0 asleep in epoll_wait() on EP for up to two events. */
struct rt_pair_waiter {
	int ep;
	atomic_bool done;
	pid_t tid;
	int n; /* epoll_wait()'s result; -2 when the thread could not be set up */
	int64_t waited_ms;
};

static void *rt_wait_pair(void *arg)
{
	struct rt_pair_waiter *w = arg;
	struct sched_param sp = { .sched_priority = 10 };
	struct epoll_event ev[2];
	int64_t start;

	w->tid = sys_gettid();
	if (pin_cpu0() || sched_setscheduler(0, SCHED_FIFO, &sp)) {
		w->n = -2;
		atomic_store(&w->done, true);
		return NULL;
	}
	start = now_ms();
	w->n = epoll_wait(w->ep, ev, 2, RT_WAIT_MS);
	w->waited_ms = now_ms() - start;
	atomic_store(&w->done, true);
	return NULL;
}

/*
 * A remount that raises max_file_size wakes the files that gain room one at a time, with no
 * spinlock held: the walk of the instance's inodes pins an inode, drops s_inode_list_lock,
 * wakes the file and reschedules, as drop_pagecache_sb() does. So a real-time waiter on the
 * remounter's CPU that watches two full files runs right after the first wake-up, before the
 * walk reaches the second file, and its epoll_wait() returns one event. A walk that wakes
 * every file under s_inode_list_lock (preemption off, for up to max_files files, in a loop an
 * unprivileged mounter can drive) lets it run only after the whole walk: two events.
 */
TEST_F_TIMEOUT(fs, remount_wakes_one_file_at_a_time, LFS_TIMEOUT)
{
	static const long epoll_nrs[] = { __NR_epoll_wait, __NR_epoll_pwait, -1 };
	struct rt_pair_waiter w = { .ep = -1 };
	struct epoll_event ev[2];
	char chunk[4096];
	int fd[2], i;
	pthread_t t;

	ASSERT_EQ(0, lfs_remount(self->mnt[0], "max_file_size=4k"));
	memset(chunk, 'f', sizeof(chunk));
	w.ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_GE(w.ep, 0);
	for (i = 0; i < 2; i++) {
		fd[i] = create_file(self->mnt[0], i ? "full1" : "full0", NULL);
		ASSERT_GE(fd[i], 0);
		ASSERT_EQ(4096, write(fd[i], chunk, sizeof(chunk)));
		ev[0] = (struct epoll_event){ .events = EPOLLOUT, .data.fd = fd[i] };
		ASSERT_EQ(0, epoll_ctl(w.ep, EPOLL_CTL_ADD, fd[i], &ev[0]));
	}
	ASSERT_EQ(0, epoll_wait(w.ep, ev, 2, 0)) TH_LOG("full files reported writable");

	ASSERT_EQ(0, pin_cpu0());
	ASSERT_EQ(0, pthread_create(&t, NULL, rt_wait_pair, &w));
	while (!w.tid)
		sleep_ms(1);
	ASSERT_EQ(0, wait_task_blocked(w.tid, epoll_nrs, &w.done, RT_WAIT_MS / 2))
	TH_LOG("the real-time waiter never went to sleep");
	ASSERT_EQ(0, lfs_remount(self->mnt[0], "max_file_size=8k"));
	pthread_join(t, NULL);
	ASSERT_NE(-2, w.n) TH_LOG("cannot pin or make the waiter SCHED_FIFO");
	EXPECT_EQ(1, w.n)
	TH_LOG("the waiter woke to %d ready files after %lld ms: it could not run before the "
	       "remount had woken every file (0: not woken within %d ms)",
	       w.n, (long long)w.waited_ms, RT_WAIT_MS);
	EXPECT_EQ(2, epoll_wait(w.ep, ev, 2, 0)) TH_LOG("both files have room after the remount");
	close(w.ep);
	close(fd[0]);
	close(fd[1]);
}

LFS_MAIN
