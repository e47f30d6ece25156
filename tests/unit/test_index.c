// SPDX-License-Identifier: MIT
/*
 * index.c, the session index table: the full-table and argument rules,
 * then long seeded random sequences of insert, lookup, replace and remove
 * against a naive linear scan, with indices drawn so that probe clusters
 * form, grow across the end of the table and get holes punched in them
 * (the backward-shift deletion is where such tables go wrong).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "index.h"
#include "rand.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* index.c's multiplier; its inverse lets the test aim at a home slot. */
#define FIB 2654435769u

/* Values are only compared: any distinct non-NULL pointers will do. */
static char values[1024];
#define VAL(i) ((void *)&values[(i) % sizeof(values)])

static void
test_arguments(void **state)
{
	struct index_table t;

	(void)state;
	assert_int_equal(index_table_init(&t, 0), -EINVAL);
	assert_int_equal(index_table_init(&t, (1u << 28) + 1), -EINVAL);
	assert_int_equal(index_table_init(&t, 3), 0);
	assert_false(index_table_insert(&t, 7, NULL));
	assert_null(index_table_lookup(&t, 7));
	assert_true(index_table_insert(&t, 7, VAL(1)));
	assert_false(index_table_insert(&t, 7, VAL(2))); /* taken */
	assert_ptr_equal(index_table_lookup(&t, 7), VAL(1));
	assert_false(index_table_replace(&t, 7, NULL));
	assert_false(index_table_replace(&t, 8, VAL(3)));
	assert_null(index_table_lookup(&t, 8));
	assert_true(index_table_replace(&t, 7, VAL(3)));
	assert_ptr_equal(index_table_lookup(&t, 7), VAL(3));
	assert_false(index_table_remove(&t, 8));
	assert_true(index_table_remove(&t, 7));
	assert_false(index_table_remove(&t, 7));
	assert_null(index_table_lookup(&t, 7));
	/* 0 and UINT32_MAX are indices like any other. */
	assert_true(index_table_insert(&t, 0, VAL(4)));
	assert_true(index_table_insert(&t, UINT32_MAX, VAL(5)));
	assert_ptr_equal(index_table_lookup(&t, 0), VAL(4));
	assert_ptr_equal(index_table_lookup(&t, UINT32_MAX), VAL(5));
	assert_true(index_table_remove(&t, 0));
	assert_null(index_table_lookup(&t, 0));
	assert_ptr_equal(index_table_lookup(&t, UINT32_MAX), VAL(5));
	index_table_free(&t);
}

/* max_entries and no more; a removal makes room again. */
static void
test_full(void **state)
{
	static const uint32_t sizes[] = { 1, 5, 8, 9, 100, 1000 };
	struct index_table t;
	size_t s;
	uint32_t i, n;

	(void)state;
	rng = 1;
	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		n = sizes[s];
		assert_int_equal(index_table_init(&t, n), 0);
		for (i = 0; i < n; i++) {
			assert_false(index_table_full(&t));
			assert_true(index_table_insert(&t, i * 7919u, VAL(i)));
		}
		assert_true(index_table_full(&t));
		assert_int_equal(t.count, n);
		assert_false(index_table_insert(&t, 0xabcdef01u, VAL(0)));
		assert_null(index_table_lookup(&t, 0xabcdef01u));
		/* Full, but every entry is still found and replaceable. */
		for (i = 0; i < n; i++) {
			assert_ptr_equal(index_table_lookup(&t, i * 7919u),
					 VAL(i));
			assert_true(index_table_replace(&t, i * 7919u,
							VAL(i + 1)));
		}
		assert_true(index_table_remove(&t, (n - 1) * 7919u));
		assert_false(index_table_full(&t));
		assert_true(index_table_insert(&t, 0xabcdef01u, VAL(2)));
		assert_true(index_table_full(&t));
		assert_false(index_table_insert(&t, 0xabcdef02u, VAL(2)));
		index_table_free(&t);
	}
}

/* It starts small and doubles as entries come, never past three quarters
 * full; every entry is found after each step. */
static void
test_growth(void **state)
{
	struct index_table t;
	uint32_t i, j, cap = 0;

	(void)state;
	assert_int_equal(index_table_init(&t, 10000), 0);
	assert_int_equal(t.max_mask + 1, 32768);
	assert_true(t.mask < 1024);
	for (i = 0; i < 10000; i++) {
		assert_true(index_table_insert(&t, i * 2654435761u + 7,
					       VAL(i)));
		assert_true(4 * t.count <= 3 * (t.mask + 1));
		if (t.mask + 1 != cap) {
			cap = t.mask + 1;
			for (j = 0; j <= i; j++)
				assert_ptr_equal(index_table_lookup(
						 &t, j * 2654435761u + 7),
						 VAL(j));
		}
	}
	/* 10,000 entries in 16,384 slots, not the 32,768 it may have. */
	assert_int_equal(t.mask + 1, 16384);
	assert_true(index_table_full(&t));
	assert_false(index_table_insert(&t, 1, VAL(1)));
	/* Removals leave it as it is; inserts find room again. */
	for (i = 0; i < 10000; i += 2)
		assert_true(index_table_remove(&t, i * 2654435761u + 7));
	for (i = 1; i < 10000; i += 2)
		assert_ptr_equal(index_table_lookup(&t, i * 2654435761u + 7),
				 VAL(i));
	assert_true(index_table_insert(&t, 1, VAL(1)));
	index_table_free(&t);
}

/* ---- against a linear scan ---------------------------------------------- */

struct naive {
	uint32_t index[4096];
	void *value[4096];
	uint32_t n, max;
};

static int
naive_find(const struct naive *r, uint32_t index)
{
	uint32_t i;

	for (i = 0; i < r->n; i++)
		if (r->index[i] == index)
			return (int)i;
	return -1;
}

static bool
naive_insert(struct naive *r, uint32_t index, void *value)
{
	if (!value || r->n >= r->max || naive_find(r, index) >= 0)
		return false;
	r->index[r->n] = index;
	r->value[r->n++] = value;
	return true;
}

static void *
naive_lookup(const struct naive *r, uint32_t index)
{
	int i = naive_find(r, index);

	return i < 0 ? NULL : r->value[i];
}

static bool
naive_replace(struct naive *r, uint32_t index, void *value)
{
	int i = naive_find(r, index);

	if (i < 0 || !value)
		return false;
	r->value[i] = value;
	return true;
}

static bool
naive_remove(struct naive *r, uint32_t index)
{
	int i = naive_find(r, index);

	if (i < 0)
		return false;
	r->n--;
	r->index[i] = r->index[r->n];
	r->value[i] = r->value[r->n];
	return true;
}

/* The multiplicative inverse of FIB mod 2^32 (Newton's iteration). */
static uint32_t
fib_inverse(void)
{
	uint32_t x = FIB;
	int i;

	for (i = 0; i < 5; i++)
		x *= 2 - FIB * x;
	return x;
}

/*
 * Indices for one run: a few clusters aimed at a handful of home slots
 * (some at the last slots, so their probes wrap to slot 0), plus random
 * ones. pool[] gets n of them, all distinct.
 */
static void
make_pool(uint32_t *pool, uint32_t n, uint32_t mask)
{
	uint32_t inv = fib_inverse(), i, k;

	for (i = 0; i < n; i++) {
		uint32_t idx;
		bool dup;

		do {
			if (next_rand() % 2) {
				/* home h: idx * FIB & mask == h */
				uint32_t h = (uint32_t[]){ 0, 1, mask - 1,
							   mask, mask / 2 }
					[next_rand() % 5];
				uint32_t hi = (uint32_t)next_rand() & ~mask;

				idx = (h | hi) * inv;
			} else {
				idx = (uint32_t)next_rand();
			}
			dup = false;
			for (k = 0; k < i; k++)
				dup |= pool[k] == idx;
		} while (dup);
		pool[i] = idx;
	}
}

static void
check_all(const struct index_table *t, const struct naive *r,
	  const uint32_t *pool, uint32_t n_pool)
{
	uint32_t i;

	assert_int_equal(t->count, r->n);
	for (i = 0; i < n_pool; i++)
		assert_ptr_equal(index_table_lookup(t, pool[i]),
				 naive_lookup(r, pool[i]));
	assert_int_equal(index_table_full(t), r->n >= r->max);
}

static void
differential(uint64_t seed, uint32_t max_entries, uint32_t n_pool,
	     unsigned int steps)
{
	static uint32_t pool[4096];
	static struct naive ref;
	struct index_table t;
	unsigned int s, inserted = 0, removed = 0, refused = 0, wrapping = 0;

	rng = seed;
	assert_true(n_pool <= ARRAY_SIZE(pool));
	assert_int_equal(index_table_init(&t, max_entries), 0);
	memset(&ref, 0, sizeof(ref));
	ref.max = max_entries;
	/* Aimed at the table's full size, which a nearly full one has. */
	make_pool(pool, n_pool, t.max_mask);
	/* Clusters at the last two slots, whose probes wrap to slot 0. */
	for (s = 0; s < n_pool; s++)
		wrapping += ((pool[s] * FIB) & t.max_mask) >= t.max_mask - 1;
	assert_true(wrapping >= n_pool / 10);
	for (s = 0; s < steps; s++) {
		uint32_t idx = pool[next_rand() % n_pool];
		void *v = VAL(next_rand());
		unsigned int op = next_rand() % 10;
		bool a, b;

		if (op < 4) {
			a = index_table_insert(&t, idx, v);
			b = naive_insert(&ref, idx, v);
			inserted += a;
			refused += !a;
		} else if (op < 7) {
			a = index_table_remove(&t, idx);
			b = naive_remove(&ref, idx);
			removed += a;
		} else if (op < 8) {
			a = index_table_replace(&t, idx, v);
			b = naive_replace(&ref, idx, v);
		} else {
			a = b = index_table_lookup(&t, idx) ==
				naive_lookup(&ref, idx);
			assert_true(a);
		}
		if (a != b)
			fail_msg("seed %llu step %u: op %u on %#x: table %d, "
				 "reference %d",
				 (unsigned long long)seed, s, op, idx, a, b);
		/* A full check now and then; its cost grows with the pool. */
		if (s % n_pool == 0)
			check_all(&t, &ref, pool, n_pool);
	}
	check_all(&t, &ref, pool, n_pool);
	/* Every kind of step really happened, the refusals included. */
	assert_true(inserted > steps / 20);
	assert_true(removed > steps / 20);
	assert_true(refused > steps / 50);
	index_table_free(&t);
}

static void
test_differential(void **state)
{
	(void)state;
	/* Small tables: 16 and 32 slots, nearly full, much wrapping. */
	differential(1, 8, 24, 100000);
	differential(2, 16, 40, 100000);
	/* The pool larger than the table: "full" is reached and left. */
	differential(3, 100, 300, 100000);
	differential(4, 1000, 2500, 100000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_differential),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
