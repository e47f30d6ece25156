/* SPDX-License-Identifier: MIT */
/*
 * How long the server has not answered vpnc's handshakes, and when to say
 * so: a first notice a few seconds in, then at a slower pace (30 s, then
 * doubling, at most every 5 min), so a newcomer whose server is silent
 * learns it at once and a journal is not flooded by a long outage. A
 * silence runs from the first unanswered handshake until one is answered,
 * through the reconnection backoff in between. No I/O: time comes from
 * the caller.
 */
#ifndef VPNC_SILENCE_H
#define VPNC_SILENCE_H

#include <stdbool.h>
#include <stdint.h>

#define SILENCE_FIRST_S 5        /* the first notice */
#define SILENCE_SECOND_S 30      /* then this long after it, */
#define SILENCE_MAX_INTERVAL_S 300 /* doubling up to this */

struct silence {
	bool is_silent;
	uint64_t since_ns;       /* the first unanswered handshake */
	uint64_t next_ns;        /* the next notice */
	uint64_t interval_ns;    /* from that notice to the one after */
	unsigned int notices;    /* given in this silence */
	uint64_t first_ns, second_ns, max_interval_ns; /* the pace, scaled */
};

/* Not silent; every interval divided by `divisor` (>= 1, for tests). */
void silence_init(struct silence *s, unsigned int divisor);
/* Call after a handshake went out: starts a silence unless one runs. */
void silence_handshake_sent(struct silence *s, uint64_t now_ns);
/* Call after the server answered a handshake: ends the silence. Returns
 * how many notices it gave (the caller says the server is back if any). */
unsigned int silence_answered(struct silence *s);
/* True if a notice is due at now_ns; the next one is then scheduled. */
bool silence_due(struct silence *s, uint64_t now_ns);
/* When the next notice is due; UINT64_MAX when not silent. */
uint64_t silence_deadline(const struct silence *s);
/* Whole seconds since the silence began (0 when not silent). */
uint64_t silence_elapsed_s(const struct silence *s, uint64_t now_ns);

#endif
