// SPDX-License-Identifier: MIT
/*
 * ratelimit.c, the per-source handshake limit: a vector table of the edges
 * (the burst, refill at exactly the rate, a long idle spell that must not
 * overflow the bucket), how sources are grouped (an IPv4 address, an IPv6
 * /64, IPv4-mapped IPv6 as IPv4), bounded memory under a flood of
 * sources, and a differential test against a naive reference (one
 * unbounded bucket per source, fractions kept exactly) over seeded random
 * arrival sequences of fewer sources than a bucket holds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rand.h"
#include "ratelimit.h"
#include "timers.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MS (1000000ull)

static const uint8_t hash_key[RATELIMIT_HASH_KEY_LEN] = { 7 };

static void
src4(struct cookie_src *s, uint8_t a, uint8_t b, uint8_t c, uint8_t d,
     uint16_t port)
{
	const uint8_t addr[4] = { a, b, c, d };

	cookie_src_set(s, addr, 4, port);
}

static void
src6(struct cookie_src *s, const char *hex16, uint16_t port)
{
	uint8_t addr[16];
	size_t i;

	for (i = 0; i < 16; i++) {
		unsigned int v;

		sscanf(hex16 + 2 * i, "%2x", &v);
		addr[i] = (uint8_t)v;
	}
	cookie_src_set(s, addr, 16, port);
}

/* rate 20/s, burst 5: WireGuard's numbers. */
static void
test_vectors(void **state)
{
	static const struct {
		uint64_t at_ms;
		bool ok;
	} v[] = {
		{ 0, true }, { 0, true }, { 0, true }, { 0, true }, { 0, true },
		{ 0, false },            /* the burst is spent */
		{ 49, false },           /* 49 ms: not yet one message */
		{ 50, true },            /* 50 ms = 1 s / 20 */
		{ 50, false },
		{ 100, true },
		{ 10000, true },         /* a long idle spell refills ... */
		{ 10000, true }, { 10000, true }, { 10000, true },
		{ 10000, true },         /* ... to the burst, no more */
		{ 10000, false },
		{ 9000, false },         /* a clock going back adds nothing */
	};
	struct ratelimit r;
	struct cookie_src s;
	size_t i;

	(void)state;
	assert_int_equal(ratelimit_init(&r, 20, 5, 64, hash_key), 0);
	src4(&s, 192, 0, 2, 1, 1000);
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		bool got = ratelimit_allow(&r, &s, 1000 * MS + v[i].at_ms * MS);

		if (got != v[i].ok)
			fail_msg("vector %zu at %llu ms: got %d, want %d", i,
				 (unsigned long long)v[i].at_ms, got, v[i].ok);
	}
	ratelimit_free(&r);
}

static unsigned int
burst_of(struct ratelimit *r, const struct cookie_src *s, uint64_t now)
{
	unsigned int n = 0;

	while (n < 1000 && ratelimit_allow(r, s, now))
		n++;
	return n;
}

static void
test_grouping(void **state)
{
	struct ratelimit r;
	struct cookie_src a, a_port, b, v6a, v6a_other_host, v6b, mapped;
	uint64_t now = 5 * NS_PER_S;

	(void)state;
	assert_int_equal(ratelimit_init(&r, 20, 5, 64, hash_key), 0);
	src4(&a, 192, 0, 2, 1, 1000);
	src4(&a_port, 192, 0, 2, 1, 2000);
	src4(&b, 192, 0, 2, 2, 1000);
	src6(&v6a, "20010db8000000010000000000000001", 1);
	src6(&v6a_other_host, "20010db80000000100000000deadbeef", 2);
	src6(&v6b, "20010db8000000020000000000000001", 1);
	src6(&mapped, "00000000000000000000ffffc0000201", 3);

	/* Ports do not make a new source. */
	assert_int_equal(burst_of(&r, &a, now), 5);
	assert_false(ratelimit_allow(&r, &a_port, now));
	/* IPv4-mapped IPv6 is the IPv4 address. */
	assert_false(ratelimit_allow(&r, &mapped, now));
	/* Another address has a bucket of its own. */
	assert_int_equal(burst_of(&r, &b, now), 5);
	/* IPv6: a /64 shares one bucket; another /64 does not. */
	assert_int_equal(burst_of(&r, &v6a, now), 5);
	assert_false(ratelimit_allow(&r, &v6a_other_host, now));
	assert_int_equal(burst_of(&r, &v6b, now), 5);
	ratelimit_free(&r);
}

/*
 * A flood of fresh sources cannot grow the table, and at worst gives an
 * evicted source a full bucket back: it never makes one wait.
 */
static void
test_bounded(void **state)
{
	struct ratelimit r;
	struct cookie_src s, victim;
	uint64_t now = NS_PER_S;
	size_t size;
	uint32_t i;

	(void)state;
	assert_int_equal(ratelimit_init(&r, 20, 5, 100, hash_key), 0);
	size = (size_t)(r.set_mask + 1) * RATELIMIT_WAYS;
	assert_true(size >= 100 && size < 2 * 100 + RATELIMIT_WAYS * 2);
	src4(&victim, 10, 0, 0, 1, 1);
	assert_int_equal(burst_of(&r, &victim, now), 5);
	for (i = 0; i < 100000; i++) {
		src4(&s, 172, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i,
		     9);
		assert_true(ratelimit_allow(&r, &s, now + i));
	}
	/* Evicted or not, the victim is limited again, not locked out. */
	assert_in_range(burst_of(&r, &victim, now + 100000), 0, 5);
	assert_int_equal(burst_of(&r, &victim, now + 10 * NS_PER_S), 5);
	ratelimit_free(&r);
}

static void
test_bad_arguments(void **state)
{
	struct ratelimit r;

	(void)state;
	assert_int_equal(ratelimit_init(&r, 0, 5, 10, hash_key), -EINVAL);
	assert_int_equal(ratelimit_init(&r, 20, 0, 10, hash_key), -EINVAL);
	assert_int_equal(ratelimit_init(&r, 20, 5, 0, hash_key), -EINVAL);
}

/* The naive model: exact rational credit per source, no eviction. */
struct naive {
	uint64_t last_ns;
	uint64_t credit; /* in ns */
	bool seen;
};

static bool
naive_allow(struct naive *n, uint64_t cost, uint64_t max, uint64_t now)
{
	if (!n->seen) {
		n->seen = true;
		n->last_ns = now;
		n->credit = max - cost;
		return true;
	}
	if (now > n->last_ns) {
		n->credit += now - n->last_ns;
		if (n->credit > max)
			n->credit = max;
		n->last_ns = now;
	}
	if (n->credit < cost)
		return false;
	n->credit -= cost;
	return true;
}

static void
test_against_naive(void **state)
{
	enum { SOURCES = RATELIMIT_WAYS };
	struct naive model[SOURCES];
	struct cookie_src s[SOURCES];
	struct ratelimit r;
	uint64_t now = NS_PER_S;
	unsigned int round, i;

	(void)state;
	for (round = 0; round < 20; round++) {
		uint32_t rate, burst;

		rng = round;
		rate = 1 + (uint32_t)(next_rand() % 100);
		burst = 1 + (uint32_t)(next_rand() % 10);
		/* One bucket of the table: every source fits without
		 * eviction, so the two must agree exactly. */
		assert_int_equal(ratelimit_init(&r, rate, burst, 1, hash_key),
				 0);
		memset(model, 0, sizeof(model));
		for (i = 0; i < SOURCES; i++)
			src4(&s[i], 198, 51, 100, (uint8_t)i, 1);
		for (i = 0; i < 20000; i++) {
			unsigned int k = (unsigned int)(next_rand() % SOURCES);

			now += next_rand() % (3 * NS_PER_S / rate);
			if (ratelimit_allow(&r, &s[k], now) !=
			    naive_allow(&model[k], r.cost_ns, r.max_tokens, now))
				fail_msg("round %u step %u: disagree", round, i);
		}
		ratelimit_free(&r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_against_naive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
