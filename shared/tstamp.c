// SPDX-License-Identifier: MIT
/*
 * TAI64N and the bounded greatest-timestamp table (see tstamp.h). Keys are
 * placed by a keyed SipHash so a peer cannot aim many keys at one bucket;
 * linear probing at a load of at most one half, with backward-shift
 * deletion, so no key is lost before the table holds `capacity` of them.
 */
#include "tstamp.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "shorthash.h"

/* How many keys near its slot a new key may push out when full. */
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
	uint32_t size = PROBE_WINDOW;

	if (capacity == 0 || capacity > (1u << 26))
		return -EINVAL;
	while (size < 2 * capacity)
		size <<= 1;
	t->slots = calloc(size, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->mask = size - 1;
	t->count = 0;
	t->capacity = capacity;
	memcpy(t->hash_key, hash_key, TSTAMP_HASH_KEY_LEN);
	return 0;
}

void
tstamp_table_free(struct tstamp_table *t)
{
	free(t->slots);
	t->slots = NULL;
	t->count = 0;
}

static uint32_t
bucket(const struct tstamp_table *t, const uint8_t key[32])
{
	return shorthash32(t->hash_key, key, 32) & t->mask;
}

/* At most half the slots are used, so every probe meets an empty one. */
static struct tstamp_entry *
lookup(const struct tstamp_table *t, const uint8_t key[32])
{
	uint32_t i = bucket(t, key);

	for (; t->slots[i].used; i = (i + 1) & t->mask)
		if (memcmp(t->slots[i].key, key, 32) == 0)
			return &t->slots[i];
	return NULL;
}

/* The least recently updated of the first PROBE_WINDOW keys from `i`;
 * called only when the table holds at least one. */
static uint32_t
victim(const struct tstamp_table *t, uint32_t i)
{
	const struct tstamp_entry *e, *best = NULL;
	uint32_t seen = 0, n;

	for (n = 0; n <= t->mask && seen < PROBE_WINDOW; n++) {
		e = &t->slots[(i + n) & t->mask];
		if (!e->used)
			continue;
		seen++;
		if (!best || e->updated_ns < best->updated_ns)
			best = e;
	}
	return (uint32_t)(best - t->slots);
}

/* Backward shift, as index.c: later members of the cluster move into the
 * hole when their home slot allows it, so lookups need no tombstones. */
static void
remove_at(struct tstamp_table *t, uint32_t hole)
{
	uint32_t i, h;

	for (i = (hole + 1) & t->mask; t->slots[i].used;
	     i = (i + 1) & t->mask) {
		h = bucket(t, t->slots[i].key);
		if (((i - h) & t->mask) >= ((i - hole) & t->mask)) {
			t->slots[hole] = t->slots[i];
			hole = i;
		}
	}
	memset(&t->slots[hole], 0, sizeof(t->slots[hole]));
	t->count--;
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
	uint32_t i;

	if (!e) {
		i = bucket(t, key);
		if (t->count >= t->capacity)
			remove_at(t, victim(t, i));
		while (t->slots[i].used)
			i = (i + 1) & t->mask;
		e = &t->slots[i];
		memcpy(e->key, key, 32);
		e->used = true;
		t->count++;
	}
	memcpy(e->stamp, stamp, TAI64N_LEN);
	e->updated_ns = now_ns;
}
