// SPDX-License-Identifier: MIT
/*
 * vpnd's messages to systemd (see notify.h), through libsystemd's
 * sd_notify(). A message that cannot be sent is not an error: systemd
 * notices a missing READY=1 or watchdog ping itself; the first one is
 * logged, so that the journal says why.
 */
#include "notify.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "log.h"
#include "timers.h"

/* STATUS= at most this often: a login flood changes the counts with
 * every datagram, and each message is a syscall here and in systemd. */
#define STATUS_EVERY_NS NS_PER_S

void
notify_init(struct notify *n, uint64_t now_ns)
{
	uint64_t usec = 0;

	*n = (struct notify){ 0 };
	n->enabled = getenv("NOTIFY_SOCKET") != NULL;
	if (!n->enabled)
		return;
	/* Half the interval, as sd_watchdog_enabled(3) advises: a ping
	 * late by a busy moment still arrives in time. */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		n->watchdog_every_ns = usec * 1000 / 2;
		n->next_watchdog_ns = now_ns + n->watchdog_every_ns;
		log_info("systemd watchdog: a ping every %" PRIu64 " ms",
			 (uint64_t)(n->watchdog_every_ns / NS_PER_MS));
	}
}

/* A message systemd did not get is said once: a missing READY=1 or
 * watchdog ping is what systemd acts on, and the log says why. */
static void
sent(struct notify *n, int ret)
{
	if (ret >= 0 || n->has_failed)
		return;
	n->has_failed = true;
	log_warn("cannot tell systemd (NOTIFY_SOCKET): %s", strerror(-ret));
}

static void
send_status(struct notify *n, uint64_t now_ns, const char *head)
{
	sent(n, sd_notifyf(0, "%sSTATUS=%" PRIu32 " session%s, %" PRIu32
			   " logging in", head, n->sessions,
			   n->sessions == 1 ? "" : "s", n->logging_in));
	n->status_pending = false;
	n->status_sent_ns = now_ns;
}

void
notify_ready(struct notify *n, uint64_t now_ns, uint32_t sessions,
	     uint32_t logging_in)
{
	if (!n->enabled)
		return;
	n->sessions = sessions;
	n->logging_in = logging_in;
	n->is_ready = true;
	send_status(n, now_ns, "READY=1\n");
}

void
notify_update(struct notify *n, uint64_t now_ns, uint32_t sessions,
	      uint32_t logging_in)
{
	if (!n->enabled || !n->is_ready)
		return;
	if (sessions != n->sessions || logging_in != n->logging_in) {
		n->sessions = sessions;
		n->logging_in = logging_in;
		n->status_pending = true;
	}
	if (n->status_pending &&
	    now_ns - n->status_sent_ns >= STATUS_EVERY_NS)
		send_status(n, now_ns, "");
	if (n->watchdog_every_ns && now_ns >= n->next_watchdog_ns) {
		sent(n, sd_notify(0, "WATCHDOG=1"));
		n->next_watchdog_ns = now_ns + n->watchdog_every_ns;
	}
}

uint64_t
notify_deadline(const struct notify *n)
{
	uint64_t d = UINT64_MAX;

	if (!n->enabled || !n->is_ready)
		return d;
	if (n->watchdog_every_ns)
		d = n->next_watchdog_ns;
	if (n->status_pending && n->status_sent_ns + STATUS_EVERY_NS < d)
		d = n->status_sent_ns + STATUS_EVERY_NS;
	return d;
}

void
notify_reloading(struct notify *n)
{
	struct timespec ts;

	if (!n->enabled)
		return;
	/* MONOTONIC_USEC lets systemd 253+ match it to its own request. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sent(n, sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
			   (uint64_t)ts.tv_sec * 1000000 +
				   (uint64_t)ts.tv_nsec / 1000));
}

void
notify_reloaded(struct notify *n)
{
	if (n->enabled && n->is_ready)
		sent(n, sd_notify(0, "READY=1"));
}

void
notify_stopping(struct notify *n)
{
	if (n->enabled)
		sent(n, sd_notify(0, "STOPPING=1\nSTATUS=stopping"));
}
