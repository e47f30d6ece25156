/* SPDX-License-Identifier: MIT */
/*
 * What vpnd tells systemd (sd_notify(3), Type=notify): READY=1 once the
 * device, the sockets and the store are usable, STATUS= with the session
 * counts when they change (at most once a second, whatever a flood does),
 * WATCHDOG=1 at half of WatchdogSec from the event loop itself, so a loop
 * that hangs stops the pings and systemd restarts vpnd, RELOADING=1 around
 * a reload and STOPPING=1 at the end. Without NOTIFY_SOCKET (not run by
 * systemd) every call does nothing. It owns the deadlines of those
 * messages; the loop folds notify_deadline() into its timer.
 *
 * Each message is sent by sd_notify() on a socket of its own, after the
 * privilege drop too: socket(AF_UNIX, SOCK_DGRAM), getsockopt and
 * setsockopt (SOL_SOCKET: SO_SNDBUF, SO_SNDBUFFORCE), sendmsg, close. A
 * system call allow-list must let those through, or the first READY=1
 * ends vpnd under systemd.
 */
#ifndef VPND_NOTIFY_H
#define VPND_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

struct notify {
	bool enabled;                /* NOTIFY_SOCKET is set */
	uint64_t watchdog_every_ns;  /* 0: no watchdog */
	uint64_t next_watchdog_ns;
	bool is_ready;
	/* The counts STATUS= last said, and when. */
	uint32_t sessions, logging_in;
	bool status_pending;         /* they changed since */
	uint64_t status_sent_ns;
	bool has_failed;             /* a message was refused (logged once) */
};

/* Reads NOTIFY_SOCKET and WATCHDOG_USEC (sd_watchdog_enabled). */
void notify_init(struct notify *n, uint64_t now_ns);
/* READY=1 with the first STATUS=. */
void notify_ready(struct notify *n, uint64_t now_ns, uint32_t sessions,
		  uint32_t logging_in);
/* Called after every event: notes changed counts, sends what is due
 * (a watchdog ping, a STATUS= held back by the once-a-second rule). */
void notify_update(struct notify *n, uint64_t now_ns, uint32_t sessions,
		   uint32_t logging_in);
/* When notify_update() next has something to send; UINT64_MAX: never. */
uint64_t notify_deadline(const struct notify *n);
/* RELOADING=1 before re-reading the configuration, READY=1 after it. */
void notify_reloading(struct notify *n);
void notify_reloaded(struct notify *n);
/* STOPPING=1. */
void notify_stopping(struct notify *n);

#endif
