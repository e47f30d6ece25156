/* SPDX-License-Identifier: MIT */
/*
 * Warning ahead of a session's end, the same way in vpnc (its log) and in
 * vpnd (`vpnctl sessions`): a session that ends needs a person's login
 * again (password and code), which at a branch gateway means someone on
 * site, so they must learn in time. vpnc warns when the time left falls
 * below a day, an hour, ten minutes and a minute; `vpnctl sessions` marks
 * a session in its last day if it was given more than a day (a site's, in
 * practice), any session in its last ten minutes. Pure: times are passed
 * in.
 */
#ifndef SHARED_EXPIRY_H
#define SHARED_EXPIRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXPIRY_DAY_S 86400u
#define EXPIRY_SOON_S 600u /* any session: its last ten minutes */

/* True if a session given lifetime_s, with left_s of it left, is to be
 * marked as ending soon. */
bool expiry_is_soon(uint64_t lifetime_s, uint64_t left_s);

/*
 * vpnc's warnings, when the time left falls below a day, an hour, ten
 * minutes and a minute. A session that starts with a day or less left is
 * warned about at once only if it was resumed: a fresh login's lifetime
 * is logged with it, a resumed one may be near its end.
 */
struct expiry_warner {
	uint64_t end_ns;       /* the session's end, on the caller's clock */
	uint64_t next_s;       /* warn once this much is left; 0: no more */
};

/* A session starting at now_ns with left_s to go; true if it is to be
 * warned about at once (*left_out: the time left to say). */
bool expiry_start(struct expiry_warner *w, uint64_t now_ns, uint64_t left_s,
		  bool resumed, uint64_t *left_out);
/* True if a warning is due at now_ns (*left_out: the time left, whole
 * seconds rounded up); the next one is then armed. */
bool expiry_due(struct expiry_warner *w, uint64_t now_ns, uint64_t *left_out);
/* When the next warning is due; UINT64_MAX when none is. */
uint64_t expiry_deadline(const struct expiry_warner *w);
/* No session: no warnings. */
void expiry_stop(struct expiry_warner *w);

/* "1d 2h", "3h 5m", "10m 0s", "45s": a span's two largest units. */
#define EXPIRY_SPAN_LEN 32
const char *expiry_span(uint64_t s, char out[EXPIRY_SPAN_LEN]);

#endif
