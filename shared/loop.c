// SPDX-License-Identifier: MIT
/*
 * epoll + timerfd + signalfd (see loop.h). Only the loop's own descriptors
 * are created here; the watched ones belong to their owners.
 */
#include "loop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define TIMER_TAG ((void *)1)
#define SIGNAL_TAG ((void *)2)

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t
loop_now_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

uint64_t
loop_wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

int
loop_init(struct loop *l)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = TIMER_TAG };
	int ret;

	memset(l, 0, sizeof(*l));
	l->sigfd = -1;
	l->armed_ns = UINT64_MAX;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	l->timerfd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->timerfd < 0) {
		ret = -errno;
		goto err_epoll;
	}
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->timerfd, &ev) < 0) {
		ret = -errno;
		goto err_timer;
	}
	return 0;
err_timer:
	close(l->timerfd);
err_epoll:
	close(l->epfd);
	return ret;
}

void
loop_close(struct loop *l)
{
	if (l->sigfd >= 0) {
		close(l->sigfd);
		sigprocmask(SIG_SETMASK, &l->old_mask, NULL);
	}
	close(l->timerfd);
	close(l->epfd);
	l->epfd = l->timerfd = l->sigfd = -1;
}

int
loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *arg)
{
	struct epoll_event ev = { .events = events };
	int i;

	for (i = 0; i < LOOP_MAX_FDS; i++)
		if (!l->watches[i].fn)
			break;
	if (i == LOOP_MAX_FDS)
		return -ENOSPC;
	ev.data.ptr = &l->watches[i];
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	l->watches[i] = (struct loop_watch){ .fd = fd, .fn = fn, .arg = arg };
	return 0;
}

static struct loop_watch *
find_watch(struct loop *l, int fd)
{
	int i;

	for (i = 0; i < LOOP_MAX_FDS; i++)
		if (l->watches[i].fn && l->watches[i].fd == fd)
			return &l->watches[i];
	return NULL;
}

int
loop_mod_fd(struct loop *l, int fd, uint32_t events)
{
	struct loop_watch *w = find_watch(l, fd);
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (!w)
		return -ENOENT;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void
loop_del_fd(struct loop *l, int fd)
{
	struct loop_watch *w = find_watch(l, fd);

	if (!w)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}

void
loop_set_timer_fn(struct loop *l, loop_timer_fn fn, void *arg)
{
	l->timer_fn = fn;
	l->timer_arg = arg;
}

void
loop_set_deadline(struct loop *l, uint64_t deadline_ns)
{
	struct itimerspec its;

	if (deadline_ns == l->armed_ns)
		return;
	memset(&its, 0, sizeof(its));
	if (deadline_ns != UINT64_MAX) {
		/* 0 would disarm: a deadline in the past fires at once. */
		if (deadline_ns == 0)
			deadline_ns = 1;
		its.it_value.tv_sec = (time_t)(deadline_ns / 1000000000ull);
		its.it_value.tv_nsec = (long)(deadline_ns % 1000000000ull);
	}
	if (timerfd_settime(l->timerfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		l->armed_ns = deadline_ns;
}

int
loop_watch_signals(struct loop *l, const int *signals, loop_signal_fn fn,
		   void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = SIGNAL_TAG };
	sigset_t mask;

	sigemptyset(&mask);
	for (; *signals; signals++)
		sigaddset(&mask, *signals);
	if (sigprocmask(SIG_BLOCK, &mask, &l->old_mask) < 0)
		return -errno;
	l->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sigfd < 0)
		return -errno;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->sigfd, &ev) < 0)
		return -errno;
	l->signal_fn = fn;
	l->signal_arg = arg;
	return 0;
}

static void
drain_timer(struct loop *l)
{
	uint64_t expirations;

	if (read(l->timerfd, &expirations, sizeof(expirations)) < 0)
		return;
	l->armed_ns = UINT64_MAX;
	if (l->timer_fn)
		l->timer_fn(l->timer_arg, loop_now_ns());
}

static void
drain_signals(struct loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sigfd, &si, sizeof(si)) == sizeof(si))
		if (l->signal_fn)
			l->signal_fn(l->signal_arg, (int)si.ssi_signo);
}

void
loop_set_busy_poll(struct loop *l, unsigned int us)
{
	l->spin_ns = (uint64_t)us * 1000;
}

static uint64_t
spin_clock_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC is read in the vDSO: no system call per turn. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* epoll_wait, polling without sleeping for spin_ns first. */
static int
wait_events(struct loop *l, struct epoll_event *events, int max)
{
	uint64_t until;
	int n;

	if (!l->spin_ns)
		return epoll_wait(l->epfd, events, max, -1);
	until = spin_clock_ns() + l->spin_ns;
	do {
		n = epoll_wait(l->epfd, events, max, 0);
		if (n)
			return n;
	} while (spin_clock_ns() < until);
	return epoll_wait(l->epfd, events, max, -1);
}

int
loop_run(struct loop *l)
{
	struct epoll_event events[LOOP_MAX_FDS + 2];
	int n, i;

	l->running = true;
	while (l->running) {
		n = wait_events(l, events, LOOP_MAX_FDS + 2);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < n && l->running; i++) {
			void *tag = events[i].data.ptr;

			if (tag == TIMER_TAG) {
				drain_timer(l);
			} else if (tag == SIGNAL_TAG) {
				drain_signals(l);
			} else {
				struct loop_watch *w = tag;

				if (w->fn)
					w->fn(w->arg, events[i].events);
			}
		}
	}
	return 0;
}

void
loop_stop(struct loop *l)
{
	l->running = false;
}
