/* SPDX-License-Identifier: MIT */
/*
 * Per-source handshake rate limiting, after WireGuard's ratelimiter.c: a
 * token bucket per IPv4 address and per IPv6 /64, `rate` messages a second
 * with bursts of `burst`. Memory is bounded: the table is a fixed set of
 * 8-way buckets placed by a keyed hash; a new source takes the least
 * recently seen entry of its bucket. Forgetting a source only hands it a
 * full bucket again, which is what an idle source has anyway, so eviction
 * never makes anyone wait; and since sources reach this table only after
 * the global handshake rate (cookies, mac2: a verified round trip) has let
 * them through, a forger cannot churn it faster than that rate.
 *
 * Pure: time is an argument; allocates only at init.
 */
#ifndef VPN_RATELIMIT_H
#define VPN_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "cookie.h"

#define RATELIMIT_WAYS 8
#define RATELIMIT_HASH_KEY_LEN 16
#define RATELIMIT_KEY_LEN 9

struct ratelimit_entry {
	uint8_t key[RATELIMIT_KEY_LEN]; /* ratelimit_source_key() */
	bool used;
	uint64_t last_ns;  /* last time tokens were added */
	uint64_t tokens;   /* in nanoseconds of credit */
};

struct ratelimit {
	struct ratelimit_entry *entries;
	uint32_t set_mask;   /* number of buckets - 1 */
	uint64_t cost_ns;    /* credit one message takes */
	uint64_t max_tokens; /* cost_ns * burst */
	uint8_t hash_key[RATELIMIT_HASH_KEY_LEN];
};

/*
 * Room for at least `sources` sources (rounded up to a power of two of
 * RATELIMIT_WAYS-way buckets); rate >= 1 messages a second, burst >= 1.
 * hash_key should be random. 0 or -errno.
 */
int ratelimit_init(struct ratelimit *r, uint32_t rate, uint32_t burst,
		   uint32_t sources,
		   const uint8_t hash_key[RATELIMIT_HASH_KEY_LEN])
	__attribute__((warn_unused_result));
void ratelimit_free(struct ratelimit *r);

/* What a source is to a limit: a family byte, then its IPv4 address or
 * the /64 of its IPv6 address (IPv4-mapped counts as IPv4), zero-padded.
 * vpnd's login lanes group sources the same way. */
void ratelimit_source_key(const struct cookie_src *src,
			  uint8_t key[RATELIMIT_KEY_LEN]);

/* True if a message from `src` may be processed at now_ns (and charges
 * it); false if that source is over its rate. */
bool ratelimit_allow(struct ratelimit *r, const struct cookie_src *src,
		     uint64_t now_ns);

#endif
