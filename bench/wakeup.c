// SPDX-License-Identifier: GPL-2.0
/*
 * Wake-up round trip: two processes ping-pong a one-byte message (eight bytes for eventfd),
 * each side sleeping in epoll_wait() (or poll()) until its inbound channel is readable.
 *
 * Channels, one per direction, like a pipe pair:
 *   locust   a locustfs file; the sender has its own fd (a write appends), the receiver its own
 *            (its file position trails the size until it reads the new byte: EPOLLIN);
 *   locust-noatime  the same in a locustfs mount with -o noatime (--locust-noatime; epoll,
 *            one CPU only): what relatime's atime check and update on every read cost;
 *   pipe     a pipe;
 *   eventfd  an eventfd (write adds 1, read takes the count).
 *
 * Pinning: "same" puts both processes on CPU --cpu, "split" the parent on --cpu and the child
 * on the next CPU. Under TCG a wake-up that crosses vCPUs costs about a timer tick, so "same"
 * is the figure to compare; "split" is reported beside it.
 *
 * Sample: mean round-trip time over --iters round trips (after --preroll untimed ones), in µs.
 * Series: MECH/WAIT/PIN, e.g. "locust/epoll/same", "locust-noatime/epoll/same".
 */
#include "common.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>


enum mech { LOCUST, PIPE, EVENTFD, LOCUST_NOATIME, NR_MECH };
static const char *const mech_names[] = { "locust", "pipe", "eventfd", "locust-noatime" };
enum wait_kind { WAIT_EPOLL, WAIT_POLL };
static const char *const wait_names[] = { "epoll", "poll" };
enum pin { PIN_SAME, PIN_SPLIT };
static const char *const pin_names[] = { "same", "split" };

static struct common c = COMMON_DEFAULTS(5, 1);
static long iters = 2000, split_iters = 200, preroll = 16;
/* A locustfs directory mounted -o noatime (bench/guest.sh passes one); "": no such series. */
static const char *locust_noatime = "";

static void smoke_sizes(void)
{
	iters = 10;
	split_iters = 3;
	preroll = 2;
}

/* One direction: the receiver reads RFD, the sender writes WFD (the same fd for eventfd). */
struct chan {
	enum mech mech;
	int rfd, wfd;
};

static struct chan chan_open(enum mech m, int idx)
{
	struct chan ch = { .mech = m };
	char path[512];
	int p[2];

	switch (m) {
	case LOCUST:
	case LOCUST_NOATIME:
		file_name(path, sizeof(path), m == LOCUST ? c.locust : locust_noatime, "wakeup",
			  idx);
		ch.wfd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
		if (ch.wfd < 0)
			die_errno("creating %s", path);
		ch.rfd = open(path, O_RDONLY);
		if (ch.rfd < 0)
			die_errno("opening %s for reading", path);
		break;
	case PIPE:
		if (pipe(p))
			die_errno("pipe");
		ch.rfd = p[0];
		ch.wfd = p[1];
		break;
	case EVENTFD:
		ch.rfd = ch.wfd = eventfd(0, 0);
		if (ch.rfd < 0)
			die_errno("eventfd");
		break;
	case NR_MECH:
		die("no such channel");
	}
	return ch;
}

/* Keeps only the receiving (RECEIVER) or the sending end of CH in this process. */
static void chan_keep(struct chan *ch, bool receiver)
{
	if (ch->rfd == ch->wfd)
		return;
	close(receiver ? ch->wfd : ch->rfd);
	if (receiver)
		ch->wfd = -1;
	else
		ch->rfd = -1;
}

static void chan_close(struct chan *ch)
{
	if (ch->rfd >= 0)
		close(ch->rfd);
	if (ch->wfd >= 0 && ch->wfd != ch->rfd)
		close(ch->wfd);
}

static void chan_send(struct chan *ch)
{
	uint64_t one = 1;

	write_all(ch->wfd, &one, ch->mech == EVENTFD ? sizeof(one) : 1, mech_names[ch->mech]);
}

/* Reads the pending message(s); one byte (or one count) is expected. */
static void chan_recv(struct chan *ch)
{
	char buf[64];
	ssize_t n = read(ch->rfd, buf, ch->mech == EVENTFD ? 8 : sizeof(buf));

	if (n != (ch->mech == EVENTFD ? 8 : 1))
		die("%s: read returned %zd after a wake-up (errno %d): expected one message",
		    mech_names[ch->mech], n, n < 0 ? errno : 0);
}

struct waiter {
	enum wait_kind kind;
	int fd, ep;
	bool hup_ok;
	const char *what;
};

static struct waiter waiter_new(enum wait_kind kind, struct chan *in)
{
	struct waiter w = { .kind = kind, .fd = in->rfd, .ep = -1, .hup_ok = in->mech == PIPE,
			    .what = mech_names[in->mech] };
	struct epoll_event ev = { .events = EPOLLIN };

	if (kind == WAIT_EPOLL) {
		w.ep = epoll_create1(0);
		if (w.ep < 0 || epoll_ctl(w.ep, EPOLL_CTL_ADD, w.fd, &ev))
			die_errno("epoll for %s", w.what);
	}
	return w;
}

/* Sleeps until the inbound channel is readable; any other state is a failure. */
static void waiter_wait(struct waiter *w)
{
	unsigned int mask;
	int n;

	if (w->kind == WAIT_EPOLL) {
		struct epoll_event ev;

		do
			n = epoll_wait(w->ep, &ev, 1, -1);
		while (n < 0 && errno == EINTR);
		mask = ev.events;
	} else {
		struct pollfd p = { .fd = w->fd, .events = POLLIN };

		do
			n = poll(&p, 1, -1);
		while (n < 0 && errno == EINTR);
		mask = (unsigned int)p.revents;
	}
	if (n != 1)
		die_errno("%s: %s returned %d", w->what, wait_names[w->kind], n);
	/*
	 * A pipe reports EPOLLHUP beside the last message once the partner has exited; a locustfs
	 * file is never unlinked here (EPOLLHUP would be a bug) and an eventfd never hangs up.
	 */
	if (!(mask & EPOLLIN) || (mask & EPOLLERR) || ((mask & EPOLLHUP) && !w->hup_ok))
		die("%s: %s woke with mask %#x (want EPOLLIN%s)", w->what, wait_names[w->kind],
		    mask, w->hup_ok ? ", no EPOLLERR" : ", no EPOLLERR or EPOLLHUP");
}

static void waiter_close(struct waiter *w)
{
	if (w->ep >= 0)
		close(w->ep);
}

/* One sample: mean round trip over N round trips, in µs. */
static double round_trip_us(enum mech m, enum wait_kind wk, enum pin pin, long n)
{
	static int idx;
	struct chan down = chan_open(m, idx++), up = chan_open(m, idx++);
	long base = c.cpu < 0 ? 0 : c.cpu;
	struct waiter w;
	int64_t t0 = 0;
	pid_t pid;

	pin_cpu(base);
	pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (pid == 0) {
		pin_cpu(pin == PIN_SPLIT ? base + 1 : base);
		chan_keep(&down, true);
		chan_keep(&up, false);
		w = waiter_new(wk, &down);
		for (long i = 0; i < preroll + n; i++) {
			waiter_wait(&w);
			chan_recv(&down);
			chan_send(&up);
		}
		_exit(0);
	}
	chan_keep(&down, false);
	chan_keep(&up, true);
	w = waiter_new(wk, &up);
	for (long i = 0; i < preroll + n; i++) {
		if (i == preroll)
			t0 = now_ns();
		chan_send(&down);
		waiter_wait(&w);
		chan_recv(&up);
	}
	t0 = now_ns() - t0;
	reap(pid, "ping-pong partner");
	waiter_close(&w);
	chan_close(&down);
	chan_close(&up);
	return (double)t0 / (double)n / 1e3;
}

int main(int argc, char **argv)
{
	const struct opt opts[] = {
		COMMON_OPTS(c),
		{ "iters", OPT_LONG, &iters, "round trips per sample, both on one CPU" },
		{ "split-iters", OPT_LONG, &split_iters, "round trips per sample, across CPUs" },
		{ "preroll", OPT_LONG, &preroll, "unmeasured round trips before each sample" },
		{ "locust-noatime", OPT_STR, &locust_noatime,
		  "a locustfs directory mounted -o noatime (default none: no locust-noatime series)" },
	};
	int npins;
	char series[64];

	bench_init("wakeup", argc, argv, opts, ARRAY_LEN(opts),
		   "Ping-pong round trip over locustfs files, pipes and eventfds (epoll and poll).",
		   &c, smoke_sizes);
	npins = online_cpus() >= (c.cpu < 0 ? 0 : c.cpu) + 2 ? 2 : 1;
	if (npins == 1)
		progress("one CPU available: the split-CPU series is skipped");
	emit_meta(&c,
		  "\"iters\":%ld,\"split_iters\":%ld,\"preroll\":%ld,\"locust_noatime\":\"%s\"",
		  iters, split_iters, preroll, locust_noatime);
	for (long rep = 0; rep < total_reps(&c); rep++) {
		for (int p = 0; p < npins; p++) {
			long n = p == PIN_SAME ? iters : split_iters;

			for (int m = 0; m < NR_MECH; m++)
				for (int wk = 0; wk < 2; wk++) {
					double us;

					/* noatime: the primary figure only (epoll, one CPU). */
					if (m == LOCUST_NOATIME &&
					    (!*locust_noatime || wk != WAIT_EPOLL || p != PIN_SAME))
						continue;

					snprintf(series, sizeof(series), "%s/%s/%s", mech_names[m],
						 wait_names[wk], pin_names[p]);
					if (!series_selected(&c, series))
						continue;
					us = round_trip_us(m, wk, p, n);
					emit_sample(&c, series, -1, rep, "us", us, "\"iters\":%ld", n);
				}
		}
		progress("repetition %ld/%ld done%s", rep + 1, total_reps(&c),
			 rep < c.warmup ? " (warm-up)" : "");
	}
	expect_empty(c.locust, "after every ping-pong file was closed");
	if (*locust_noatime)
		expect_empty(locust_noatime, "after every ping-pong file was closed");
	return 0;
}
