// SPDX-License-Identifier: MIT
/*
 * TAI64N and the bounded greatest-timestamp table (see tstamp.h). Keys are
 * placed by a keyed SipHash so a peer cannot aim many keys at one bucket.
 */
#include "tstamp.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "shorthash.h"

#define PROBE_WINDOW 8
#define TAI64_BASE (1ull << 62)
#define NSEC_ROUNDING (1u << 24)

void
tai64n_encode(uint8_t out[TAI64N_LEN], uint64_t unix_ns)
{
	uint64_t secs = TAI64_BASE + unix_ns / 1000000000ull;
	uint32_t nsec = (uint32_t)(unix_ns % 1000000000ull);
	int i;

	/* Rounding hides the sub-16 ms clock, a timing oracle otherwise. */
	nsec &= ~(NSEC_ROUNDING - 1);
	for (i = 0; i < 8; i++)
		out[i] = (uint8_t)(secs >> (56 - 8 * i));
	for (i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(nsec >> (24 - 8 * i));
}

int
tstamp_table_init(struct tstamp_table *t, uint32_t capacity,
		  const uint8_t hash_key[TSTAMP_HASH_KEY_LEN])
{
	uint32_t cap = PROBE_WINDOW;

	if (capacity == 0 || capacity > (1u << 26))
		return -EINVAL;
	while (cap < capacity)
		cap <<= 1;
	t->slots = calloc(cap, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->mask = cap - 1;
	memcpy(t->hash_key, hash_key, TSTAMP_HASH_KEY_LEN);
	return 0;
}

void
tstamp_table_free(struct tstamp_table *t)
{
	free(t->slots);
	t->slots = NULL;
}

static uint32_t
bucket(const struct tstamp_table *t, const uint8_t key[32])
{
	return shorthash32(t->hash_key, key, 32) & t->mask;
}

static struct tstamp_entry *
lookup(const struct tstamp_table *t, const uint8_t key[32])
{
	uint32_t b = bucket(t, key);
	int i;

	for (i = 0; i < PROBE_WINDOW; i++) {
		struct tstamp_entry *e = &t->slots[(b + (uint32_t)i) & t->mask];

		if (e->used && memcmp(e->key, key, 32) == 0)
			return e;
	}
	return NULL;
}

bool
tstamp_is_newer(const struct tstamp_table *t, const uint8_t key[32],
		const uint8_t stamp[TAI64N_LEN])
{
	const struct tstamp_entry *e = lookup(t, key);

	/* Big-endian fields: byte order is numeric order. */
	return !e || memcmp(stamp, e->stamp, TAI64N_LEN) > 0;
}

void
tstamp_record(struct tstamp_table *t, const uint8_t key[32],
	      const uint8_t stamp[TAI64N_LEN], uint64_t now_ns)
{
	struct tstamp_entry *e = lookup(t, key);
	uint32_t b;
	int i;

	if (!e) {
		b = bucket(t, key);
		for (i = 0; i < PROBE_WINDOW; i++) {
			struct tstamp_entry *c =
				&t->slots[(b + (uint32_t)i) & t->mask];

			if (!c->used) {
				e = c;
				break;
			}
			if (!e || c->updated_ns < e->updated_ns)
				e = c;
		}
		memcpy(e->key, key, 32);
		e->used = true;
	}
	memcpy(e->stamp, stamp, TAI64N_LEN);
	e->updated_ns = now_ns;
}
