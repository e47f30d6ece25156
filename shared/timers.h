/* SPDX-License-Identifier: MIT */
/*
 * Protocol timer state of PROTOCOL.md section 7, as WireGuard's timers.c:
 * the packet paths report events, timers_expire() alone decides what is due
 * at `now`, and the host arms one timer for timers_next_deadline(). Pure:
 * time (monotonic nanoseconds) and jitter are passed in.
 *
 * The timers:
 *  - retransmit handshake: REKEY_TIMEOUT + jitter after an initiation was
 *    sent without an answer; gives up REKEY_ATTEMPT_TIME after the first.
 *  - send keepalive: KEEPALIVE_TIMEOUT after data was received, unless
 *    something was sent meanwhile.
 *  - new handshake: KEEPALIVE_TIMEOUT + REKEY_TIMEOUT after data was sent,
 *    unless something authenticated was received meanwhile.
 *  - zero keys: 3 * REJECT_AFTER_TIME after the latest session was derived.
 *  - persistent keepalive: every KEEPALIVE seconds (pushed by the server)
 *    after any authenticated packet crossed, in either direction.
 */
#ifndef VPN_TIMERS_H
#define VPN_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

#define NS_PER_S 1000000000ull
#define NS_PER_MS 1000000ull

#define REKEY_AFTER_MESSAGES (1ull << 60)
/* 2^64 - 2^13 - 1 */
#define REJECT_AFTER_MESSAGES (UINT64_MAX - (1ull << 13))

/* The protocol's times; tests and test configs may scale them down. */
struct protocol_times {
	uint64_t rekey_after_ns;      /* REKEY_AFTER_TIME, 120 s */
	uint64_t reject_after_ns;     /* REJECT_AFTER_TIME, 180 s */
	uint64_t rekey_attempt_ns;    /* REKEY_ATTEMPT_TIME, 90 s */
	uint64_t rekey_timeout_ns;    /* REKEY_TIMEOUT, 5 s */
	uint64_t rekey_jitter_max_ns; /* 333 ms */
	uint64_t keepalive_ns;        /* KEEPALIVE_TIMEOUT, 10 s */
	uint64_t cookie_secret_max_age_ns; /* COOKIE_SECRET_MAX_AGE, 120 s */
	uint64_t cookie_latency_ns;   /* a cookie is used for max age - 5 s */
};

/* The values of PROTOCOL.md section 2. */
void protocol_times_default(struct protocol_times *pt);
/* Every time divided by `divisor` (>= 1), for tests with short timers. */
void protocol_times_scaled(struct protocol_times *pt, unsigned int divisor);

/* Bits returned by timers_expire(). */
enum {
	TIMER_RETRANSMIT_HANDSHAKE = 1u << 0, /* send a fresh initiation */
	TIMER_HANDSHAKE_GAVE_UP = 1u << 1,    /* stop; drop queued packets */
	TIMER_SEND_KEEPALIVE = 1u << 2,
	TIMER_NEW_HANDSHAKE = 1u << 3,        /* sent data, heard nothing */
	TIMER_ZERO_KEYS = 1u << 4,            /* wipe every keypair */
	TIMER_PERSISTENT_KEEPALIVE = 1u << 5,
};

#define TIMER_OFF UINT64_MAX

struct timers {
	const struct protocol_times *pt;
	uint64_t retransmit_at;
	uint64_t keepalive_at;
	uint64_t new_handshake_at;
	uint64_t zero_keys_at;
	uint64_t persistent_at;
	uint64_t persistent_interval_ns; /* 0: off */
	uint64_t attempt_started_ns;     /* TIMER_OFF: no handshake pending */
	uint64_t last_initiation_ns;     /* TIMER_OFF: never */
	bool need_another_keepalive;
	bool keepalive_rearm; /* re-arm once the due keepalive is sent */
};

void timers_init(struct timers *t, const struct protocol_times *pt);
/* Sets the persistent keepalive interval in seconds; 0 turns it off. */
void timers_set_persistent_keepalive(struct timers *t, uint64_t now_ns,
				     unsigned int interval_s);
/* Disarms everything (peer removed, shutdown). */
void timers_stop(struct timers *t);

/* Call after a data packet (not a keepalive) was sent. */
void timers_data_sent(struct timers *t, uint64_t now_ns);
/* Call after a data packet (not a keepalive) was received. */
void timers_data_received(struct timers *t, uint64_t now_ns);
/* Call after any authenticated transport packet was sent. */
void timers_any_authenticated_packet_sent(struct timers *t, uint64_t now_ns);
/* Call after any authenticated packet (handshake or transport) arrived. */
void timers_any_authenticated_packet_received(struct timers *t,
					      uint64_t now_ns);
/* Call after any authenticated packet was sent or received. */
void timers_any_authenticated_packet_traversal(struct timers *t,
					       uint64_t now_ns);
/* Call after an initiation was sent; jitter_ns < rekey_jitter_max_ns. */
void timers_handshake_initiated(struct timers *t, uint64_t now_ns,
				uint64_t jitter_ns);
/* Call after a handshake completed (response consumed or confirmed). */
void timers_handshake_complete(struct timers *t, uint64_t now_ns);
/* Call after a new keypair was derived. */
void timers_session_derived(struct timers *t, uint64_t now_ns);

/*
 * False if an initiation went out less than REKEY_TIMEOUT ago: callers that
 * want a handshake (data queued, rekey due) wait for the retransmit timer.
 */
bool timers_may_initiate(const struct timers *t, uint64_t now_ns);
/* True while a handshake we initiated awaits its response. */
bool timers_handshake_pending(const struct timers *t);

/* Returns the TIMER_* bits due at now_ns and disarms or re-arms them. */
unsigned int timers_expire(struct timers *t, uint64_t now_ns)
	__attribute__((warn_unused_result));
/* Earliest armed deadline, or TIMER_OFF. */
uint64_t timers_next_deadline(const struct timers *t);

#endif
