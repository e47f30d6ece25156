/* SPDX-License-Identifier: MIT */
/*
 * The metrics endpoint (metrics-listen): GET /metrics over HTTP, served by
 * libmicrohttpd on a thread of its own, bounded (HTTPD_MAX_CONNS at once,
 * HTTPD_TIMEOUT_S idle). Anything else is 404 (another path) or 405
 * (another method).
 *
 * That thread never sees the server. It serves the latest text the event
 * loop published; when that is older than a second, it asks the loop for
 * a new one through an eventfd (httpd_refresh_fd) and waits for it at most
 * HTTPD_WAIT_MS, else serves what it has. So the loop renders only when
 * someone scrapes, at most once a second, and a busy loop costs a scrape
 * some freshness, never the packet path any time.
 */
#ifndef VPND_HTTPD_H
#define VPND_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define HTTPD_MAX_CONNS 16
#define HTTPD_TIMEOUT_S 10
#define HTTPD_WAIT_MS 1000

struct httpd;

/*
 * Listens on `addr` and starts the thread. 0 or -errno after logging why
 * (the address in use, no such address here).
 */
int httpd_start(struct httpd **out, const struct sockaddr *addr,
		socklen_t addr_len) __attribute__((warn_unused_result));
/* Stops the thread and closes every connection. NULL is fine. */
void httpd_stop(struct httpd *h);

/* An eventfd, readable when a scrape wants a new text: call
 * httpd_refresh_take(), then httpd_publish(). */
int httpd_refresh_fd(const struct httpd *h);
/* Reads the eventfd; true if a new text was asked for. */
bool httpd_refresh_take(struct httpd *h);
/* Makes `text` (malloc'd, taken over) what /metrics serves from now on,
 * and wakes the scrapes waiting for it. */
void httpd_publish(struct httpd *h, char *text, size_t len);

#endif
