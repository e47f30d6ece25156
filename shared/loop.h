/* SPDX-License-Identifier: MIT */
/*
 * The event loop: epoll over file descriptors, one timerfd armed for the
 * earliest deadline the program has, and a signalfd. Single-threaded; the
 * callbacks run in the loop's thread. Time is CLOCK_BOOTTIME nanoseconds
 * (keeps counting through suspend, so key ages stay honest).
 */
#ifndef VPN_LOOP_H
#define VPN_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#define LOOP_MAX_FDS 32

typedef void (*loop_fd_fn)(void *arg, uint32_t events);
typedef void (*loop_timer_fn)(void *arg, uint64_t now_ns);
typedef void (*loop_signal_fn)(void *arg, int signo);

struct loop_watch {
	int fd;
	loop_fd_fn fn;
	void *arg;
};

struct loop {
	int epfd;
	int timerfd;
	int sigfd;
	bool running;
	uint64_t armed_ns; /* deadline the timerfd holds; UINT64_MAX: none */
	loop_timer_fn timer_fn;
	void *timer_arg;
	loop_signal_fn signal_fn;
	void *signal_arg;
	sigset_t old_mask;
	uint64_t spin_ns;  /* busy polling before sleeping; 0: none */
	struct loop_watch watches[LOOP_MAX_FDS];
};

/* Monotonic time including suspend, in nanoseconds. */
uint64_t loop_now_ns(void);
/* Wall-clock UNIX time in nanoseconds. */
uint64_t loop_wall_ns(void);

int loop_init(struct loop *l) __attribute__((warn_unused_result));
void loop_close(struct loop *l);

/* Watches fd for `events` (EPOLLIN...). 0 or -errno. */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn,
		void *arg) __attribute__((warn_unused_result));
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
void loop_del_fd(struct loop *l, int fd);

void loop_set_timer_fn(struct loop *l, loop_timer_fn fn, void *arg);
/*
 * Busy polling: with us > 0, loop_run polls for events without sleeping
 * for up to us microseconds after the last ones before it sleeps, so a
 * packet that comes soon after another is taken without a wake-up (lower
 * latency, at the price of a core kept busy that long). 0: off.
 */
void loop_set_busy_poll(struct loop *l, unsigned int us);
/* Arms the one timer for an absolute loop_now_ns() deadline; UINT64_MAX
 * disarms. Cheap when the deadline is unchanged. */
void loop_set_deadline(struct loop *l, uint64_t deadline_ns);

/* Blocks `signals` (0-terminated) and delivers them through the loop. */
int loop_watch_signals(struct loop *l, const int *signals, loop_signal_fn fn,
		       void *arg) __attribute__((warn_unused_result));

/* Runs until loop_stop(). 0, or -errno if epoll itself fails. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

#endif
