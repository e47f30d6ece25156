// SPDX-License-Identifier: MIT
/*
 * TAI64N and the greatest-timestamp table (see tstamp.h). Both tiers are
 * open-addressing tables placed by a keyed SipHash, so a peer cannot aim
 * many keys at one bucket; linear probing with backward-shift deletion.
 * The bounded tier is at most half full, so no key is lost before it
 * holds `capacity` of them. The pinned tier, which holds one key per
 * session and is read per initiation, doubles when three quarters full:
 * probes stay short, and its memory per session stays low; it is only
 * written when the program pins a key, never per packet.
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
#define PIN_MIN_SLOTS 16u

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

	memset(t, 0, sizeof(*t));
	if (capacity == 0 || capacity > (1u << 26))
		return -EINVAL;
	while (size < 2 * capacity)
		size <<= 1;
	t->slots = calloc(size, sizeof(*t->slots));
	t->pins = calloc(PIN_MIN_SLOTS, sizeof(*t->pins));
	if (!t->slots || !t->pins) {
		tstamp_table_free(t);
		return -ENOMEM;
	}
	t->mask = size - 1;
	t->pin_mask = PIN_MIN_SLOTS - 1;
	t->capacity = capacity;
	memcpy(t->hash_key, hash_key, TSTAMP_HASH_KEY_LEN);
	return 0;
}

void
tstamp_table_free(struct tstamp_table *t)
{
	free(t->slots);
	free(t->pins);
	free(t->dirty);
	t->slots = t->pins = NULL;
	t->dirty = NULL;
	t->count = t->pin_count = t->n_dirty = t->dirty_cap = 0;
}

static uint32_t
bucket(const struct tstamp_table *t, const uint8_t key[32], uint32_t mask)
{
	return shorthash32(t->hash_key, key, 32) & mask;
}

/* At most three quarters of the slots are used, so every probe meets an
 * empty one. */
static struct tstamp_entry *
lookup_in(const struct tstamp_table *t, struct tstamp_entry *slots,
	  uint32_t mask, const uint8_t key[32])
{
	uint32_t i = bucket(t, key, mask);

	for (; slots[i].used; i = (i + 1) & mask)
		if (memcmp(slots[i].key, key, 32) == 0)
			return &slots[i];
	return NULL;
}

static struct tstamp_entry *
lookup(const struct tstamp_table *t, const uint8_t key[32])
{
	return lookup_in(t, t->slots, t->mask, key);
}

static struct tstamp_entry *
pin_lookup(const struct tstamp_table *t, const uint8_t key[32])
{
	return lookup_in(t, t->pins, t->pin_mask, key);
}

/* An empty slot for `key`, which is not in the table. */
static struct tstamp_entry *
free_slot(const struct tstamp_table *t, struct tstamp_entry *slots,
	  uint32_t mask, const uint8_t key[32])
{
	uint32_t i = bucket(t, key, mask);

	while (slots[i].used)
		i = (i + 1) & mask;
	return &slots[i];
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
 * hole when their home slot allows it, so lookups need no tombstones. A
 * dirty entry that moves takes its place in the dirty list along. */
static void
remove_at(struct tstamp_table *t, struct tstamp_entry *slots, uint32_t mask,
	  uint32_t hole)
{
	uint32_t i, h;

	for (i = (hole + 1) & mask; slots[i].used; i = (i + 1) & mask) {
		h = bucket(t, slots[i].key, mask);
		if (((i - h) & mask) >= ((i - hole) & mask)) {
			slots[hole] = slots[i];
			if (slots[hole].is_dirty)
				t->dirty[slots[hole].dirty_pos] = hole;
			hole = i;
		}
	}
	memset(&slots[hole], 0, sizeof(slots[hole]));
}

static void
bounded_remove(struct tstamp_table *t, struct tstamp_entry *e)
{
	remove_at(t, t->slots, t->mask, (uint32_t)(e - t->slots));
	t->count--;
}

bool
tstamp_is_newer(const struct tstamp_table *t, const uint8_t key[32],
		const uint8_t stamp[TAI64N_LEN])
{
	const struct tstamp_entry *e = pin_lookup(t, key);

	if (!e)
		e = lookup(t, key);
	/* Big-endian fields: byte order is numeric order. */
	return !e || !e->has_stamp || memcmp(stamp, e->stamp, TAI64N_LEN) > 0;
}

/* The list has room for every pinned key: pins_reserve sees to it. */
static void
mark_dirty(struct tstamp_table *t, struct tstamp_entry *e)
{
	if (e->is_dirty)
		return;
	e->dirty_pos = t->n_dirty;
	t->dirty[t->n_dirty++] = (uint32_t)(e - t->pins);
	e->is_dirty = true;
}

/* Takes e out of the dirty list; the last one fills its place. */
static void
unmark_dirty(struct tstamp_table *t, struct tstamp_entry *e)
{
	uint32_t pos = e->dirty_pos;

	if (!e->is_dirty)
		return;
	e->is_dirty = false;
	if (pos != --t->n_dirty) {
		t->dirty[pos] = t->dirty[t->n_dirty];
		t->pins[t->dirty[pos]].dirty_pos = pos;
	}
}

static void
bounded_record(struct tstamp_table *t, const uint8_t key[32],
	       const uint8_t stamp[TAI64N_LEN], uint64_t now_ns)
{
	struct tstamp_entry *e = lookup(t, key);

	if (!e) {
		if (t->count >= t->capacity)
			bounded_remove(t, &t->slots[victim(
						  t, bucket(t, key, t->mask))]);
		e = free_slot(t, t->slots, t->mask, key);
		memcpy(e->key, key, 32);
		e->used = true;
		t->count++;
	}
	memcpy(e->stamp, stamp, TAI64N_LEN);
	e->has_stamp = true;
	e->updated_ns = now_ns;
}

void
tstamp_record(struct tstamp_table *t, const uint8_t key[32],
	      const uint8_t stamp[TAI64N_LEN], uint64_t now_ns)
{
	struct tstamp_entry *e = pin_lookup(t, key);

	if (!e) {
		bounded_record(t, key, stamp, now_ns);
		return;
	}
	memcpy(e->stamp, stamp, TAI64N_LEN);
	e->has_stamp = true;
	e->updated_ns = now_ns;
	mark_dirty(t, e);
}

/* Doubles the pinned tier and the dirty list before they fill. */
static int
pins_reserve(struct tstamp_table *t)
{
	uint32_t size = t->pin_mask + 1, i;
	struct tstamp_entry *bigger, *e;
	uint32_t *dirty;

	if (t->dirty_cap < t->pin_count + 1) {
		uint32_t cap = t->dirty_cap ? 2 * t->dirty_cap : PIN_MIN_SLOTS;

		dirty = realloc(t->dirty, (size_t)cap * sizeof(*dirty));
		if (!dirty)
			return -ENOMEM;
		t->dirty = dirty;
		t->dirty_cap = cap;
	}
	if (4 * (t->pin_count + 1) <= 3 * size)
		return 0;
	bigger = calloc((size_t)size * 2, sizeof(*bigger));
	if (!bigger)
		return -ENOMEM;
	for (i = 0; i < size; i++) {
		if (!t->pins[i].used)
			continue;
		e = free_slot(t, bigger, 2 * size - 1, t->pins[i].key);
		*e = t->pins[i];
		if (e->is_dirty)
			t->dirty[e->dirty_pos] = (uint32_t)(e - bigger);
	}
	sodium_memzero(t->pins, (size_t)size * sizeof(*t->pins));
	free(t->pins);
	t->pins = bigger;
	t->pin_mask = 2 * size - 1;
	return 0;
}

int
tstamp_hold(struct tstamp_table *t, const uint8_t key[32], unsigned int holder)
{
	struct tstamp_entry *e = pin_lookup(t, key), *old;
	int ret;

	if (e) {
		e->holders |= (uint8_t)holder;
		return 0;
	}
	ret = pins_reserve(t);
	if (ret < 0)
		return ret;
	e = free_slot(t, t->pins, t->pin_mask, key);
	old = lookup(t, key);
	if (old) {
		*e = *old;
		bounded_remove(t, old);
	} else {
		memset(e, 0, sizeof(*e));
		memcpy(e->key, key, 32);
		e->used = true;
	}
	e->is_dirty = false;
	e->holders = (uint8_t)holder;
	t->pin_count++;
	return 0;
}

void
tstamp_release(struct tstamp_table *t, const uint8_t key[32],
	       unsigned int holder, uint64_t now_ns)
{
	struct tstamp_entry *e = pin_lookup(t, key);
	struct tstamp_entry copy;

	if (!e)
		return;
	e->holders &= (uint8_t)~holder;
	if (e->holders)
		return;
	unmark_dirty(t, e);
	copy = *e;
	remove_at(t, t->pins, t->pin_mask, (uint32_t)(e - t->pins));
	t->pin_count--;
	if (copy.has_stamp)
		bounded_record(t, copy.key, copy.stamp, now_ns);
}

bool
tstamp_raise(struct tstamp_table *t, const uint8_t key[32],
	     const uint8_t stamp[TAI64N_LEN])
{
	struct tstamp_entry *e = pin_lookup(t, key);

	if (!e)
		return false;
	if (!e->has_stamp || memcmp(stamp, e->stamp, TAI64N_LEN) > 0) {
		memcpy(e->stamp, stamp, TAI64N_LEN);
		e->has_stamp = true;
	}
	return true;
}

bool
tstamp_get(const struct tstamp_table *t, const uint8_t key[32],
	   uint8_t stamp[TAI64N_LEN])
{
	const struct tstamp_entry *e = pin_lookup(t, key);

	if (!e)
		e = lookup(t, key);
	if (!e || !e->has_stamp)
		return false;
	memcpy(stamp, e->stamp, TAI64N_LEN);
	return true;
}

unsigned int
tstamp_holders(const struct tstamp_table *t, const uint8_t key[32])
{
	const struct tstamp_entry *e = pin_lookup(t, key);

	return e ? e->holders : 0;
}

size_t
tstamp_take_dirty(struct tstamp_table *t, unsigned int holder_mask,
		  struct tstamp_saved *out, size_t max)
{
	size_t n = 0;

	while (t->n_dirty > 0 && n < max) {
		struct tstamp_entry *e = &t->pins[t->dirty[t->n_dirty - 1]];

		unmark_dirty(t, e);
		if (!(e->holders & holder_mask) || !e->has_stamp)
			continue;
		memcpy(out[n].key, e->key, 32);
		memcpy(out[n].stamp, e->stamp, TAI64N_LEN);
		n++;
	}
	return n;
}
