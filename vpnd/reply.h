/* SPDX-License-Identifier: MIT */
/*
 * The answers vpnd writes back into a client's tunnel when its access
 * rules refuse a packet (gate.c), so that the client learns at once
 * instead of waiting for a timeout:
 *
 * - to a TCP segment, a reset, as the destination's own stack answers a
 *   closed port (RFC 793 section 3.4, "Reset Generation"): the client's
 *   connect() fails with ECONNREFUSED;
 * - to anything else, ICMP Destination Unreachable, "communication
 *   administratively prohibited" (RFC 1812 section 5.2.7.1: type 3 code
 *   13; ICMPv6 type 1 code 1, RFC 4443 section 3.1), from the server's
 *   tunnel address, carrying as much of the refused packet as the rules
 *   allow (576 bytes in all for IPv4, RFC 1812 section 4.3.2.3; 1280 for
 *   IPv6, RFC 4443 section 2.4 (c)).
 *
 * Never answered (RFC 1812 section 4.3.2.7, RFC 4443 section 2.4 (e)): an
 * ICMP error, a fragment but the first, a packet to a multicast or
 * broadcast address or from an address that is not one host's, and a
 * reset. Answers are limited per session (struct reply_limit).
 *
 * Pure: packets in, packets out, time passed in; no allocation.
 */
#ifndef VPND_REPLY_H
#define VPND_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ippkt.h"

#define REPLY_MAX 1280   /* the longest answer: IPv6's minimum MTU */
#define REPLY_MAX4 576   /* the longest ICMP error over IPv4 */
#define REPLY_TTL 64
#define REPLY_RATE 20    /* answers a second per session, */
#define REPLY_BURST 20   /* in bursts of up to this many */

/* A token bucket; all zeros is full. */
struct reply_limit {
	uint64_t tokens_ns; /* credit, in nanoseconds of REPLY_RATE */
	uint64_t last_ns;
};

/* True if an answer may be sent at now_ns (and charges it). */
bool reply_limit_allow(struct reply_limit *l, uint64_t now_ns);

/* True if `in` may be answered at all (see above). */
bool reply_may_answer(const struct ippkt *in);

/*
 * The reset for the TCP segment `in` (parsed from pkt), from its
 * destination to its source, into out (REPLY_MAX bytes): its length, or 0
 * if `in` is not a whole TCP header or is a reset itself.
 */
size_t reply_tcp_reset(const struct ippkt *in, const uint8_t *pkt,
		       uint8_t *out);

/*
 * The ICMP (ICMPv6, for an IPv6 `in`) error of `type` and `code` about
 * `in` (parsed from pkt), with `rest` as its header's second word (0, or
 * an MTU), quoting as much of pkt as fits, from `from` (an address of its
 * family) to its source, into out (REPLY_MAX bytes): its length.
 */
size_t reply_icmp_error(const struct ippkt *in, const uint8_t *pkt,
			const uint8_t *from, uint8_t type, uint8_t code,
			uint32_t rest, uint8_t *out);

/*
 * ICMP (ICMPv6) "administratively prohibited" for `in` (parsed from pkt),
 * from `from` (an address of its family) to its source, into out
 * (REPLY_MAX bytes): its length.
 */
size_t reply_prohibited(const struct ippkt *in, const uint8_t *pkt,
			const uint8_t *from, uint8_t *out);

#endif
