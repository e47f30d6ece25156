// SPDX-License-Identifier: MIT
/*
 * tstamp.c: TAI64N bytes worked out by hand (2^62 + seconds big-endian,
 * nanoseconds rounded down to a multiple of 2^24) and their order; the
 * greatest-timestamp table: greater accepted, equal and older refused, per
 * key; `capacity` keys held without loss; what happens when full (the
 * least recently updated key nearby is forgotten, and only then), checked
 * exactly on small tables and against a reference over a long random run;
 * the pinned tier: a pinned key is never forgotten however many strangers
 * come, holder bits, moving between the tiers with the stamp, raising from
 * a saved stamp, the dirty list, growth, and a random run of holds,
 * releases and records against a reference model.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rand.h"
#include "tstamp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NS 1000000000ull

static void
random_bytes(uint8_t *b, size_t n)
{
	while (n--)
		*b++ = (uint8_t)next_rand();
}

static void
test_tai64n_vectors(void **state)
{
	static const struct {
		uint64_t unix_ns;
		uint8_t want[TAI64N_LEN];
	} v[] = {
		{ 0, { 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } },
		/* 999999999 = 0x3b9ac9ff; rounded down: 0x3b000000 */
		{ 999999999, { 0x40, 0, 0, 0, 0, 0, 0, 0, 0x3b, 0, 0, 0 } },
		{ 1 * NS + 999999999,
		  { 0x40, 0, 0, 0, 0, 0, 0, 0x01, 0x3b, 0, 0, 0 } },
		/* 2^24 - 1 ns rounds to 0; 2^24 is kept; 2^25 - 1 to 2^24 */
		{ 16777215, { 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } },
		{ 16777216, { 0x40, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0 } },
		{ 33554431, { 0x40, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0 } },
		/* 1700000000 = 0x6553f100; 123456789 = 0x075bcd15 */
		{ 1700000000 * NS + 123456789,
		  { 0x40, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00, 0x07, 0, 0, 0 } },
		/* 1234567890 = 0x499602d2; 500000000 = 0x1dcd6500 */
		{ 1234567890 * NS + 500000000,
		  { 0x40, 0, 0, 0, 0x49, 0x96, 0x02, 0xd2, 0x1d, 0, 0, 0 } },
		/* 2^32 s, in 2106: the seconds need a fifth byte */
		{ 4294967296ull * NS,
		  { 0x40, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0 } },
		/* UINT64_MAX ns = 18446744073 s (0x44b82fa09) + 709551615 ns
		 * (0x2a4b3bff) */
		{ UINT64_MAX,
		  { 0x40, 0, 0, 0x04, 0x4b, 0x82, 0xfa, 0x09, 0x2a, 0, 0, 0 } },
	};
	uint8_t out[TAI64N_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		out[TAI64N_LEN] = 0xa5;
		tai64n_encode(out, v[i].unix_ns);
		assert_memory_equal(out, v[i].want, TAI64N_LEN);
		assert_int_equal(out[TAI64N_LEN], 0xa5);
	}
}

/* Byte order is time order, at the resolution of 2^24 ns. */
static void
test_tai64n_order(void **state)
{
	uint8_t a[TAI64N_LEN], b[TAI64N_LEN];
	unsigned int i;

	(void)state;
	rng = 1;
	for (i = 0; i < 100000; i++) {
		uint64_t t = next_rand() % (4000000000ull * NS);
		uint64_t d = next_rand() % 3 ? next_rand() % (1ull << 26)
					     : next_rand() % (100 * NS);
		int c;

		tai64n_encode(a, t);
		tai64n_encode(b, t + d);
		c = memcmp(a, b, TAI64N_LEN);
		assert_true(c <= 0);
		if (d >= (1ull << 24))
			assert_true(c < 0);
		if (c == 0) /* the same second and the same 2^24 ns step */
			assert_true(t / NS == (t + d) / NS &&
				    (t % NS) >> 24 == ((t + d) % NS) >> 24);
	}
}

static void
init_table(struct tstamp_table *t, uint32_t capacity)
{
	uint8_t hash_key[TSTAMP_HASH_KEY_LEN];

	random_bytes(hash_key, sizeof(hash_key));
	assert_int_equal(tstamp_table_init(t, capacity, hash_key), 0);
}

static void
test_init_bounds(void **state)
{
	static const uint8_t hash_key[TSTAMP_HASH_KEY_LEN];
	struct tstamp_table t;

	(void)state;
	assert_int_equal(tstamp_table_init(&t, 0, hash_key), -EINVAL);
	assert_int_equal(tstamp_table_init(&t, (1u << 26) + 1, hash_key),
			 -EINVAL);
	assert_int_equal(tstamp_table_init(&t, 1, hash_key), 0);
	tstamp_table_free(&t);
	tstamp_table_free(&t); /* twice is harmless */
}

/* Greater accepted; equal and older refused; each key on its own. */
static void
test_newer(void **state)
{
	uint8_t ka[32] = { 1 }, kb[32] = { 2 };
	uint8_t s[TAI64N_LEN], x[TAI64N_LEN];
	struct tstamp_table t;
	size_t pos;

	(void)state;
	rng = 2;
	init_table(&t, 16);
	tai64n_encode(s, 1700000000 * NS);
	assert_true(tstamp_is_newer(&t, ka, s)); /* never seen */
	tstamp_record(&t, ka, s, 1);
	assert_false(tstamp_is_newer(&t, ka, s));
	assert_true(tstamp_is_newer(&t, kb, s));
	/* One more or one less in each byte, from the seconds' top byte to
	 * the nanoseconds' last. */
	for (pos = 0; pos < TAI64N_LEN; pos++) {
		memcpy(x, s, sizeof(x));
		x[pos]++;
		if (x[pos] != 0) /* 0xff + 1 would carry: skip */
			assert_true(tstamp_is_newer(&t, ka, x));
		memcpy(x, s, sizeof(x));
		x[pos]--;
		if (x[pos] != 0xff)
			assert_false(tstamp_is_newer(&t, ka, x));
	}
	/* A later second beats greater nanoseconds. */
	tai64n_encode(x, 1700000001 * NS);
	tstamp_record(&t, ka, x, 2);
	tai64n_encode(x, 1700000000 * NS + 999999999);
	assert_false(tstamp_is_newer(&t, ka, x));
	/* Within one 2^24 ns step the stamps are equal: refused. */
	tai64n_encode(s, 1700000001 * NS + 16777215);
	assert_false(tstamp_is_newer(&t, ka, s));
	tai64n_encode(s, 1700000001 * NS + 16777216);
	assert_true(tstamp_is_newer(&t, ka, s));
	/* The other key is still unknown, then on its own clock. */
	assert_true(tstamp_is_newer(&t, kb, x));
	tai64n_encode(x, 5 * NS);
	tstamp_record(&t, kb, x, 3);
	tai64n_encode(x, 4 * NS);
	assert_false(tstamp_is_newer(&t, kb, x));
	assert_true(tstamp_is_newer(&t, ka, s));
	assert_int_equal(t.count, 2);
	tstamp_table_free(&t);
}

/* `capacity` keys, all remembered, for many sizes and hash keys. */
static void
test_capacity_held(void **state)
{
	static const uint32_t caps[] = { 1, 2, 7, 8, 9, 33, 100, 1000, 4096 };
	static uint8_t keys[4096][32];
	uint8_t s[TAI64N_LEN];
	struct tstamp_table t;
	size_t c, i, round;

	(void)state;
	rng = 3;
	for (c = 0; c < ARRAY_SIZE(caps); c++) {
		for (round = 0; round < 5; round++) {
			init_table(&t, caps[c]);
			for (i = 0; i < caps[c]; i++) {
				random_bytes(keys[i], 32);
				tai64n_encode(s, (1000 + i) * NS);
				tstamp_record(&t, keys[i], s, i);
			}
			assert_int_equal(t.count, caps[c]);
			for (i = 0; i < caps[c]; i++) {
				tai64n_encode(s, (1000 + i) * NS);
				if (tstamp_is_newer(&t, keys[i], s))
					fail_msg("capacity %u: key %zu lost",
						 caps[c], i);
			}
			tstamp_table_free(&t);
		}
	}
}

/*
 * Full: one more key forgets the least recently updated one (with fewer
 * than 8 keys, every key is a candidate, so the choice is exact), and the
 * forgotten key is then as good as never seen.
 */
static void
test_full_forgets_least_recent(void **state)
{
	uint8_t k[7][32], s[TAI64N_LEN], old[TAI64N_LEN];
	struct tstamp_table t;
	int i;

	(void)state;
	rng = 4;
	for (i = 0; i < 7; i++) {
		memset(k[i], 0, 32);
		k[i][0] = (uint8_t)(i + 1);
	}
	init_table(&t, 4);
	tai64n_encode(s, 100 * NS);
	for (i = 0; i < 4; i++)
		tstamp_record(&t, k[i], s, 10 * (uint64_t)(i + 1));
	/* k0 is refreshed: now k1 (time 20) is the least recent. */
	tai64n_encode(s, 200 * NS);
	tstamp_record(&t, k[0], s, 50);
	tstamp_record(&t, k[4], s, 60);
	assert_int_equal(t.count, 4);
	tai64n_encode(old, 100 * NS);
	assert_true(tstamp_is_newer(&t, k[1], old)); /* forgotten */
	assert_false(tstamp_is_newer(&t, k[0], s));
	assert_false(tstamp_is_newer(&t, k[2], old));
	assert_false(tstamp_is_newer(&t, k[3], old));
	assert_false(tstamp_is_newer(&t, k[4], s));
	/* Next goes k2 (30), then k3 (40); the one recorded last stays. */
	tstamp_record(&t, k[5], s, 70);
	assert_true(tstamp_is_newer(&t, k[2], old));
	assert_false(tstamp_is_newer(&t, k[3], old));
	tstamp_record(&t, k[1], old, 80); /* k1 is back */
	assert_true(tstamp_is_newer(&t, k[3], old));
	assert_false(tstamp_is_newer(&t, k[1], old));
	assert_false(tstamp_is_newer(&t, k[5], s));
	assert_false(tstamp_is_newer(&t, k[0], s));
	assert_false(tstamp_is_newer(&t, k[4], s));
	assert_int_equal(t.count, 4);
	tstamp_table_free(&t);

	/* Capacity one: each new key replaces the last. */
	init_table(&t, 1);
	tstamp_record(&t, k[0], s, 1);
	tstamp_record(&t, k[1], s, 2);
	assert_true(tstamp_is_newer(&t, k[0], s));
	assert_false(tstamp_is_newer(&t, k[1], s));
	assert_int_equal(t.count, 1);
	tstamp_table_free(&t);
}

/*
 * A long random run against a reference that knows every recorded key's
 * greatest stamp: answers agree for every key still held; nothing is
 * forgotten while fewer than `capacity` keys are held; exactly one key,
 * never the one being recorded, is forgotten per new key once full.
 */
#define POOL 300
#define CAP 64

struct ref_key {
	uint8_t key[32];
	uint64_t greatest_s; /* seconds of the greatest stamp */
	bool held;
};

static void
check_held(const struct tstamp_table *t, const struct ref_key *r)
{
	uint8_t s[TAI64N_LEN];
	unsigned int i, held = 0;

	for (i = 0; i < POOL; i++) {
		if (!r[i].held)
			continue;
		held++;
		tai64n_encode(s, r[i].greatest_s * NS);
		assert_false(tstamp_is_newer(t, r[i].key, s));
		tai64n_encode(s, (r[i].greatest_s + 1) * NS);
		assert_true(tstamp_is_newer(t, r[i].key, s));
	}
	assert_int_equal(held, t->count);
}

static void
test_random_against_reference(void **state)
{
	static struct ref_key r[POOL];
	uint8_t s[TAI64N_LEN];
	struct tstamp_table t;
	unsigned int i, j, n_held = 0, forgotten_total = 0;
	uint64_t now = 0;

	(void)state;
	rng = 5;
	memset(r, 0, sizeof(r));
	for (i = 0; i < POOL; i++) {
		random_bytes(r[i].key, 32);
		r[i].greatest_s = 1000;
	}
	init_table(&t, CAP);
	for (i = 0; i < 60000; i++) {
		struct ref_key *k = &r[next_rand() % POOL];
		uint64_t sec = k->greatest_s + next_rand() % 5 - 2;
		bool want, got;

		/* Mostly newer, sometimes equal or older. */
		if (next_rand() % 2)
			sec = k->greatest_s + 1 + next_rand() % 100;
		tai64n_encode(s, sec * NS);
		want = !k->held || sec > k->greatest_s;
		got = tstamp_is_newer(&t, k->key, s);
		assert_int_equal(got, want);
		if (!got)
			continue;
		tstamp_record(&t, k->key, s, ++now);
		if (!k->held && n_held == CAP) {
			unsigned int forgotten = 0;

			for (j = 0; j < POOL; j++) {
				uint8_t g[TAI64N_LEN];

				if (!r[j].held)
					continue;
				tai64n_encode(g, r[j].greatest_s * NS);
				if (tstamp_is_newer(&t, r[j].key, g)) {
					r[j].held = false;
					forgotten++;
				}
			}
			assert_int_equal(forgotten, 1);
			forgotten_total++;
			n_held--;
		}
		if (!k->held)
			n_held++;
		k->held = true;
		k->greatest_s = sec;
		assert_int_equal(t.count, n_held);
		if (i % 97 == 0)
			check_held(&t, r);
	}
	check_held(&t, r);
	assert_true(forgotten_total > 1000);
	tstamp_table_free(&t);
}

/* ---- the pinned tier ------------------------------------------------------ */

static void
stamp_at(uint8_t s[TAI64N_LEN], uint64_t sec)
{
	tai64n_encode(s, sec * NS);
}

/* The replay: a client's initiation recorded, then thousands of
 * fresh keys; the recording must still be refused. */
static void
test_pinned_survives_flood(void **state)
{
	uint8_t alice[32] = { 0xa1 }, k[32], s[TAI64N_LEN];
	struct tstamp_table t;
	uint32_t i;

	(void)state;
	rng = 11;
	init_table(&t, 64);
	assert_int_equal(tstamp_hold(&t, alice, 1), 0);
	stamp_at(s, 5000);
	tstamp_record(&t, alice, s, 1);
	for (i = 0; i < 5000; i++) {
		uint8_t fresh[TAI64N_LEN];

		random_bytes(k, 32);
		stamp_at(fresh, 6000 + i);
		assert_true(tstamp_is_newer(&t, k, fresh));
		tstamp_record(&t, k, fresh, 2 + i);
	}
	assert_int_equal(t.count, 64);
	assert_false(tstamp_is_newer(&t, alice, s));
	stamp_at(s, 5001);
	assert_true(tstamp_is_newer(&t, alice, s));
	tstamp_table_free(&t);
}

static void
test_hold_release(void **state)
{
	uint8_t a[32] = { 1 }, s1[TAI64N_LEN], s2[TAI64N_LEN];
	struct tstamp_table t;

	(void)state;
	init_table(&t, 8);
	stamp_at(s1, 100);
	stamp_at(s2, 200);
	/* A key in the bounded tier brings its stamp when pinned ... */
	tstamp_record(&t, a, s1, 1);
	assert_int_equal(t.count, 1);
	assert_int_equal(tstamp_hold(&t, a, 1), 0);
	assert_int_equal(t.count, 0);
	assert_int_equal(t.pin_count, 1);
	assert_false(tstamp_is_newer(&t, a, s1));
	/* ... keeps it while any holder remains ... */
	assert_int_equal(tstamp_hold(&t, a, 2), 0);
	assert_int_equal(tstamp_holders(&t, a), 3);
	tstamp_record(&t, a, s2, 2);
	tstamp_release(&t, a, 1, 3);
	assert_int_equal(tstamp_holders(&t, a), 2);
	assert_int_equal(t.pin_count, 1);
	/* ... and takes it back to the bounded tier with the last one. */
	tstamp_release(&t, a, 2, 4);
	assert_int_equal(tstamp_holders(&t, a), 0);
	assert_int_equal(t.pin_count, 0);
	assert_int_equal(t.count, 1);
	assert_false(tstamp_is_newer(&t, a, s2));
	/* Releasing what is not held is harmless. */
	tstamp_release(&t, a, 1, 5);
	assert_int_equal(t.count, 1);
	tstamp_table_free(&t);
}

/* A key held before any stamp accepts the first; raise only raises. */
static void
test_raise(void **state)
{
	uint8_t a[32] = { 3 }, b[32] = { 4 }, s[TAI64N_LEN], got[TAI64N_LEN];
	struct tstamp_table t;
	struct tstamp_saved out[2];

	(void)state;
	init_table(&t, 8);
	assert_int_equal(tstamp_hold(&t, a, 2), 0);
	stamp_at(s, 1);
	assert_true(tstamp_is_newer(&t, a, s));
	assert_false(tstamp_get(&t, a, got));
	stamp_at(s, 500);
	assert_true(tstamp_raise(&t, a, s));
	stamp_at(s, 400);
	assert_true(tstamp_raise(&t, a, s));
	assert_false(tstamp_is_newer(&t, a, s));
	stamp_at(s, 500);
	assert_false(tstamp_is_newer(&t, a, s));
	stamp_at(s, 501);
	assert_true(tstamp_is_newer(&t, a, s));
	assert_true(tstamp_get(&t, a, got));
	stamp_at(s, 500);
	assert_memory_equal(got, s, TAI64N_LEN);
	/* Not pinned: raise refuses and remembers nothing. */
	assert_false(tstamp_raise(&t, b, s));
	assert_int_equal(t.count, 0);
	/* A raise is what the store already has: not dirty. */
	assert_int_equal(tstamp_take_dirty(&t, 0xff, out, 2), 0);
	tstamp_table_free(&t);
}

static void
test_dirty(void **state)
{
	uint8_t a[32] = { 5 }, b[32] = { 6 }, c[32] = { 7 }, s[TAI64N_LEN];
	struct tstamp_table t;
	struct tstamp_saved out[4];

	(void)state;
	init_table(&t, 8);
	assert_int_equal(tstamp_hold(&t, a, 2), 0);
	assert_int_equal(tstamp_hold(&t, b, 1), 0);
	assert_int_equal(tstamp_hold(&t, c, 3), 0);
	stamp_at(s, 10);
	tstamp_record(&t, a, s, 1);
	tstamp_record(&t, b, s, 1);
	tstamp_record(&t, c, s, 1);
	stamp_at(s, 11);
	tstamp_record(&t, a, s, 2); /* twice: listed once */
	/* c is released by one holder and still held by the other. */
	tstamp_release(&t, c, 1, 3);
	/* Only holders in the mask are copied; b is forgotten as dirty. */
	assert_int_equal(tstamp_take_dirty(&t, 2, out, 4), 2);
	assert_true((memcmp(out[0].key, a, 32) == 0 &&
		     memcmp(out[1].key, c, 32) == 0) ||
		    (memcmp(out[0].key, c, 32) == 0 &&
		     memcmp(out[1].key, a, 32) == 0));
	assert_memory_equal(memcmp(out[0].key, a, 32) == 0 ? out[0].stamp
							   : out[1].stamp,
			    s, TAI64N_LEN);
	assert_int_equal(tstamp_take_dirty(&t, 0xff, out, 4), 0);
	/* A key released while dirty leaves the list. */
	stamp_at(s, 12);
	tstamp_record(&t, a, s, 4);
	tstamp_record(&t, b, s, 4);
	tstamp_release(&t, a, 2, 5);
	assert_int_equal(t.n_dirty, 1);
	assert_int_equal(tstamp_take_dirty(&t, 0xff, out, 4), 1);
	assert_memory_equal(out[0].key, b, 32);
	/* Stamps in the bounded tier are never dirty. */
	tstamp_record(&t, a, s, 6);
	assert_int_equal(tstamp_take_dirty(&t, 0xff, out, 4), 0);
	tstamp_table_free(&t);
}

/* Growth keeps every pinned key and its place in the dirty list. */
static void
test_pins_grow(void **state)
{
	enum { N = 3000 };
	static uint8_t keys[N][32];
	static struct tstamp_saved out[N];
	struct tstamp_table t;
	uint8_t s[TAI64N_LEN];
	unsigned int i, seen = 0, want = 0;

	(void)state;
	rng = 12;
	init_table(&t, 4);
	for (i = 0; i < N; i++) {
		random_bytes(keys[i], 32);
		assert_int_equal(tstamp_hold(&t, keys[i], 1), 0);
		stamp_at(s, 1000 + i);
		if (i % 2)
			tstamp_record(&t, keys[i], s, i);
	}
	assert_int_equal(t.pin_count, N);
	/* Over half full, under three quarters: the room N keys need. */
	assert_true(4 * t.pin_count <= 3 * (t.pin_mask + 1));
	assert_int_equal(t.pin_mask + 1, 4096);
	for (i = 0; i < N; i++) {
		stamp_at(s, 1000 + i);
		assert_int_equal(tstamp_is_newer(&t, keys[i], s), i % 2 == 0);
	}
	for (i = 0; i < N; i += 3)
		tstamp_release(&t, keys[i], 1, 0);
	for (;;) {
		size_t n = tstamp_take_dirty(&t, 1, out, 100);

		seen += (unsigned int)n;
		if (n < 100)
			break;
	}
	/* Odd indices were recorded, multiples of 3 released. */
	for (i = 1; i < N; i += 2)
		if (i % 3)
			want++;
	assert_int_equal(seen, want);
	tstamp_table_free(&t);
}

/* Random holds, releases and records on few keys and a bounded tier big
 * enough that nothing is ever forgotten: everything must match. */
static void
test_pins_against_reference(void **state)
{
	enum { KEYS = 40 };
	struct {
		uint8_t key[32];
		bool known, dirty;
		uint64_t greatest_s;
		unsigned int holders;
	} r[KEYS];
	struct tstamp_saved out[KEYS];
	struct tstamp_table t;
	uint8_t s[TAI64N_LEN];
	unsigned int i, j;

	(void)state;
	rng = 13;
	memset(r, 0, sizeof(r));
	for (i = 0; i < KEYS; i++)
		random_bytes(r[i].key, 32);
	init_table(&t, 2 * KEYS);
	for (i = 0; i < 50000; i++) {
		unsigned int k = (unsigned int)(next_rand() % KEYS);
		unsigned int bit = 1u << (next_rand() % 2);
		uint64_t sec = 1000 + next_rand() % 3000;

		switch (next_rand() % 5) {
		case 0:
			assert_int_equal(tstamp_hold(&t, r[k].key, bit), 0);
			r[k].holders |= bit;
			break;
		case 1:
			tstamp_release(&t, r[k].key, bit, i);
			if ((r[k].holders & bit) && r[k].holders == bit)
				r[k].dirty = false;
			r[k].holders &= ~bit;
			break;
		case 2: {
			size_t n = tstamp_take_dirty(&t, 1, out, KEYS);
			unsigned int want = 0;

			for (j = 0; j < KEYS; j++) {
				if (r[j].dirty && (r[j].holders & 1))
					want++;
				r[j].dirty = false;
			}
			assert_int_equal(n, want);
			break;
		}
		default:
			stamp_at(s, sec);
			assert_int_equal(tstamp_is_newer(&t, r[k].key, s),
					 !r[k].known || sec > r[k].greatest_s);
			if (r[k].known && sec <= r[k].greatest_s)
				break;
			tstamp_record(&t, r[k].key, s, i);
			r[k].known = true;
			r[k].greatest_s = sec;
			if (r[k].holders)
				r[k].dirty = true;
			break;
		}
		assert_int_equal(tstamp_holders(&t, r[k].key), r[k].holders);
	}
	tstamp_table_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tai64n_vectors),
		cmocka_unit_test(test_tai64n_order),
		cmocka_unit_test(test_init_bounds),
		cmocka_unit_test(test_newer),
		cmocka_unit_test(test_capacity_held),
		cmocka_unit_test(test_full_forgets_least_recent),
		cmocka_unit_test(test_random_against_reference),
		cmocka_unit_test(test_pinned_survives_flood),
		cmocka_unit_test(test_hold_release),
		cmocka_unit_test(test_raise),
		cmocka_unit_test(test_dirty),
		cmocka_unit_test(test_pins_grow),
		cmocka_unit_test(test_pins_against_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
