// SPDX-License-Identifier: MIT
/*
 * sources.c, pending peers counted per source: counts up and down per key,
 * keys that collide in the table (backward-shift deletion must not lose
 * the others), and a random run against a naive array of counts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../vpnd/sources.h"
#include "rand.h"

static const uint8_t hash_key[SOURCES_HASH_KEY_LEN] = { 3 };

static void
key_of(unsigned int n, uint8_t key[RATELIMIT_KEY_LEN])
{
	memset(key, 0, RATELIMIT_KEY_LEN);
	key[0] = 4;
	key[1] = (uint8_t)(n >> 16);
	key[2] = (uint8_t)(n >> 8);
	key[3] = (uint8_t)n;
}

static void
test_counts(void **state)
{
	uint8_t a[RATELIMIT_KEY_LEN], b[RATELIMIT_KEY_LEN];
	struct sources t;

	(void)state;
	assert_int_equal(sources_init(&t, 0, hash_key), -EINVAL);
	assert_int_equal(sources_init(&t, 4, hash_key), 0);
	key_of(1, a);
	key_of(2, b);
	assert_int_equal(sources_count(&t, a), 0);
	sources_add(&t, a);
	sources_add(&t, a);
	sources_add(&t, b);
	assert_int_equal(sources_count(&t, a), 2);
	assert_int_equal(sources_count(&t, b), 1);
	sources_remove(&t, a);
	assert_int_equal(sources_count(&t, a), 1);
	sources_remove(&t, a);
	sources_remove(&t, a); /* nothing left: harmless */
	assert_int_equal(sources_count(&t, a), 0);
	assert_int_equal(sources_count(&t, b), 1);
	sources_free(&t);
}

/* Every source of a full table, removed in a random order: the others
 * must keep their counts through every backward shift. */
static void
test_against_naive(void **state)
{
	enum { MAX = 64, ROUNDS = 200 };
	unsigned int model[MAX * 4], total = 0, i, round;
	uint8_t key[RATELIMIT_KEY_LEN];
	struct sources t;

	(void)state;
	rng = 9;
	memset(model, 0, sizeof(model));
	assert_int_equal(sources_init(&t, MAX, hash_key), 0);
	for (round = 0; round < ROUNDS * MAX; round++) {
		unsigned int k = (unsigned int)(next_rand() % (MAX * 4));

		key_of(k, key);
		if (next_rand() % 2 && total < MAX) {
			sources_add(&t, key);
			model[k]++;
			total++;
		} else if (model[k]) {
			sources_remove(&t, key);
			model[k]--;
			total--;
		}
		if (round % 97 == 0)
			for (i = 0; i < MAX * 4; i++) {
				key_of(i, key);
				assert_int_equal(sources_count(&t, key),
						 model[i]);
			}
	}
	sources_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_against_naive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
