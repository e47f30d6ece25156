/* SPDX-License-Identifier: MIT */
/*
 * TAI64N timestamps and the table of the greatest timestamp accepted from
 * each initiator static key (PROTOCOL.md sections 1 and 4.1), which rejects
 * replayed initiations. Pure; allocates only at init.
 *
 * Two tiers. Keys that hold state in the program (vpnd: a peer, or an
 * admission; the program says which with tstamp_hold) are pinned: they
 * live in a table that grows with them and are never forgotten, so a
 * replayed initiation of a real client is refused however many strangers
 * have come since. Every other key goes to the bounded tier, which holds
 * `capacity` keys without forgetting any; recording one more key first
 * forgets the least recently updated of the 8 keys nearest the new key's
 * slot. A forgotten key counts as never seen, so one replay of its latest
 * initiation would be accepted again; but such a key has no peer and no
 * admission, so the replay can only create a peer whose handshake the
 * replayer cannot finish. We forget rather than refuse: refusing unknown
 * keys once full would let anyone who fills the table with fresh keys lock
 * every new peer out.
 *
 * Pinned stamps that change are remembered as dirty, so a program that
 * keeps them elsewhere (vpnd: in the store, with the admission) can save
 * just those.
 */
#ifndef VPN_TSTAMP_H
#define VPN_TSTAMP_H

#include <stdbool.h>
#include <stddef.h>
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
	bool has_stamp;      /* pinned keys may be held before any stamp */
	bool is_dirty;       /* pinned: changed since tstamp_take_dirty */
	uint8_t holders;     /* pinned: the holder bits */
	uint32_t dirty_pos;  /* pinned and dirty: its place in the list */
};

struct tstamp_table {
	/* The bounded tier. */
	struct tstamp_entry *slots;
	uint32_t mask;
	uint32_t count;
	uint32_t capacity;
	/* The pinned tier: load at most three quarters, doubled as it
	 * fills (a half would double 10,000 vpnd sessions' 1 MiB). */
	struct tstamp_entry *pins;
	uint32_t pin_mask;
	uint32_t pin_count;
	/* Where the pinned entries that changed are in `pins`: exactly
	 * those with is_dirty, each once (4 bytes a pinned key, not its 32;
	 * kept right as entries move). */
	uint32_t *dirty;
	uint32_t n_dirty, dirty_cap;
	uint8_t hash_key[TSTAMP_HASH_KEY_LEN];
};

struct tstamp_saved {
	uint8_t key[32];
	uint8_t stamp[TAI64N_LEN];
};

/* Room for `capacity` keys (1 .. 2^26); hash_key should be random. */
int tstamp_table_init(struct tstamp_table *t, uint32_t capacity,
		      const uint8_t hash_key[TSTAMP_HASH_KEY_LEN])
	__attribute__((warn_unused_result));
void tstamp_table_free(struct tstamp_table *t);

/* True if `stamp` is greater than every one recorded for `key`. */
bool tstamp_is_newer(const struct tstamp_table *t, const uint8_t key[32],
		     const uint8_t stamp[TAI64N_LEN]);
/* Records `stamp` as the greatest for `key` (call after tstamp_is_newer).
 * A pinned key keeps it and becomes dirty; otherwise, when `capacity` keys
 * are held and `key` is new, one is forgotten first. */
void tstamp_record(struct tstamp_table *t, const uint8_t key[32],
		   const uint8_t stamp[TAI64N_LEN], uint64_t now_ns);

/*
 * Pins `key` for `holder` (a bit of the caller's choosing; a key stays
 * pinned while any holder bit is set). A key in the bounded tier brings
 * its stamp along. Allocates when the pinned tier grows: 0 or -ENOMEM.
 */
int tstamp_hold(struct tstamp_table *t, const uint8_t key[32],
		unsigned int holder) __attribute__((warn_unused_result));
/* Clears `holder`; with no holder left, the key and its stamp move back
 * to the bounded tier. */
void tstamp_release(struct tstamp_table *t, const uint8_t key[32],
		    unsigned int holder, uint64_t now_ns);
/* Raises a pinned key's stamp to `stamp` if that is greater (a stamp kept
 * elsewhere, loaded at start); does not make it dirty. False if `key` is
 * not pinned. */
bool tstamp_raise(struct tstamp_table *t, const uint8_t key[32],
		  const uint8_t stamp[TAI64N_LEN]);
/* The greatest stamp recorded for `key`, in either tier; false if none. */
bool tstamp_get(const struct tstamp_table *t, const uint8_t key[32],
		uint8_t stamp[TAI64N_LEN]);
/* The holder bits of `key` (0: not pinned). */
unsigned int tstamp_holders(const struct tstamp_table *t,
			    const uint8_t key[32]);
/*
 * Copies up to `max` pinned stamps changed since the last call whose
 * holders include a bit of `holder_mask`, and forgets that they changed;
 * changed keys outside the mask are forgotten too. Returns how many were
 * copied; call again while it returns `max`.
 */
size_t tstamp_take_dirty(struct tstamp_table *t, unsigned int holder_mask,
			 struct tstamp_saved *out, size_t max);

#endif
