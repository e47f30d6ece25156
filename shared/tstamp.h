/* SPDX-License-Identifier: MIT */
/*
 * TAI64N timestamps and the table of the greatest timestamp accepted from
 * each initiator static key (PROTOCOL.md sections 1 and 4.1), which rejects
 * replayed initiations. Pure; allocates only at init.
 *
 * The table is bounded. It holds `capacity` keys without forgetting any;
 * recording one more key first forgets the least recently updated of the
 * 8 keys nearest the new key's slot. A forgotten key counts as never seen,
 * so one replay of its latest initiation would be accepted again: that
 * gives a handshake the replayer cannot finish, but disturbs that peer's
 * keypair rotation once. We forget rather than refuse: refusing unknown
 * keys once full would let anyone who fills the table with fresh keys lock
 * every new peer out.
 */
#ifndef VPN_TSTAMP_H
#define VPN_TSTAMP_H

#include <stdbool.h>
#include <stdint.h>

#define TAI64N_LEN 12
#define TSTAMP_HASH_KEY_LEN 16

/* 2^62 + seconds, big-endian, then nanoseconds rounded down to 2^24. */
void tai64n_encode(uint8_t out[TAI64N_LEN], uint64_t unix_ns);

struct tstamp_entry {
	uint8_t key[32];
	uint8_t stamp[TAI64N_LEN];
	uint64_t updated_ns;
	bool used;
};

struct tstamp_table {
	struct tstamp_entry *slots;
	uint32_t mask;
	uint32_t count;
	uint32_t capacity;
	uint8_t hash_key[TSTAMP_HASH_KEY_LEN];
};

/* Room for `capacity` keys (1 .. 2^26); hash_key should be random. */
int tstamp_table_init(struct tstamp_table *t, uint32_t capacity,
		      const uint8_t hash_key[TSTAMP_HASH_KEY_LEN])
	__attribute__((warn_unused_result));
void tstamp_table_free(struct tstamp_table *t);

/* True if `stamp` is greater than every one recorded for `key`. */
bool tstamp_is_newer(const struct tstamp_table *t, const uint8_t key[32],
		     const uint8_t stamp[TAI64N_LEN]);
/* Records `stamp` as the greatest for `key` (call after tstamp_is_newer);
 * when `capacity` keys are held and `key` is new, forgets one first. */
void tstamp_record(struct tstamp_table *t, const uint8_t key[32],
		   const uint8_t stamp[TAI64N_LEN], uint64_t now_ns);

#endif
