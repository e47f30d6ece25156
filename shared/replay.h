/* SPDX-License-Identifier: MIT */
/*
 * The sliding replay window of PROTOCOL.md section 5 (RFC 6479 bitmap).
 * Pure, fixed size, no allocation.
 */
#ifndef VPN_REPLAY_H
#define VPN_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define REPLAY_WORD_BITS 64
/* PROTOCOL.md's minimum of 2048 counters and the word the ring advances
 * into: 264 bytes per keypair, the largest part of an idle session's
 * keypair (4032 counters took 520). Not a power of two: the ring is
 * indexed modulo, which a constant divisor makes a multiplication. */
#define REPLAY_WORDS 33
#define REPLAY_BITS_TOTAL (REPLAY_WORDS * REPLAY_WORD_BITS)
/* Counters this far behind the greatest one seen are still accepted once. */
#define REPLAY_WINDOW_SIZE (REPLAY_BITS_TOTAL - REPLAY_WORD_BITS)

struct replay_window {
	uint64_t greatest; /* greatest counter accepted, plus one; 0: none */
	uint64_t bitmap[REPLAY_WORDS];
};

void replay_init(struct replay_window *w);

/*
 * Accepts `counter` at most once: true if it is new, inside the window and
 * below REJECT_AFTER_MESSAGES, and marks it seen. Call only after the
 * packet authenticated, so forgeries cannot move the window.
 */
bool replay_check(struct replay_window *w, uint64_t counter)
	__attribute__((warn_unused_result));

/*
 * Whether replay_check would accept `counter` now, changing nothing: a
 * cheap look before the AEAD, so a replayed datagram costs no decryption.
 * Only replay_check, after the AEAD, may decide.
 */
bool replay_may_accept(const struct replay_window *w, uint64_t counter)
	__attribute__((warn_unused_result));

#endif
