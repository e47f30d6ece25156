// SPDX-License-Identifier: MIT
/*
 * answerbuf.c, where admit.c keeps its answers: sizes refused and taken,
 * allocations aligned and apart from each other (each filled with its
 * own pattern, all checked once every one is made), a block unmapped when
 * its last allocation goes and not before, the current block started
 * again when emptied, and a storm's worth made and freed in the order
 * answers expire leaving one block.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../vpnd/answerbuf.h"

#define N_ITEMS 3000

static void
test_sizes(void **state)
{
	struct answerbuf b = { 0 };
	void *p;

	(void)state;
	assert_null(answerbuf_alloc(&b, 0));
	assert_null(answerbuf_alloc(&b, ANSWERBUF_MAX + 1));
	assert_int_equal(b.n_blocks, 0);
	p = answerbuf_alloc(&b, ANSWERBUF_MAX);
	assert_non_null(p);
	memset(p, 0xa5, ANSWERBUF_MAX);
	assert_int_equal(b.n_blocks, 1);
	answerbuf_free(&b, p);
	answerbuf_free(&b, NULL);
	assert_int_equal(b.n_blocks, 1);
}

/* Freed in any order; every byte of each allocation its own. */
static void
test_apart(void **state)
{
	static uint8_t *item[N_ITEMS];
	static size_t len[N_ITEMS];
	struct answerbuf b = { 0 };
	unsigned int i, j;
	size_t total = 0;

	(void)state;
	srand(7);
	for (i = 0; i < N_ITEMS; i++) {
		len[i] = 1 + (size_t)rand() % (i % 50 ? 300 : ANSWERBUF_MAX);
		item[i] = answerbuf_alloc(&b, len[i]);
		assert_non_null(item[i]);
		assert_int_equal((uintptr_t)item[i] % 16, 0);
		memset(item[i], (int)(i & 0xff), len[i]);
		total += len[i];
	}
	/* Blocks hold many answers each: far fewer blocks than answers. */
	assert_true(b.n_blocks >= total / ANSWERBUF_BLOCK);
	assert_true(b.n_blocks <= 2 * total / ANSWERBUF_BLOCK + 1);
	for (i = 0; i < N_ITEMS; i++)
		for (j = 0; j < len[i]; j++)
			if (item[i][j] != (uint8_t)(i & 0xff))
				fail_msg("item %u byte %u overwritten", i, j);
	/* Odd ones first, then even ones: blocks go only once empty. */
	for (i = 1; i < N_ITEMS; i += 2)
		answerbuf_free(&b, item[i]);
	for (i = 0; i < N_ITEMS; i += 2)
		answerbuf_free(&b, item[i]);
	assert_int_equal(b.n_blocks, 1);
}

/* A full block stays while anything in it is allocated; the current one
 * starts again once emptied. */
static void
test_block_lifetime(void **state)
{
	struct answerbuf b = { 0 };
	void *first, *p, *again;
	unsigned int n = 0;

	(void)state;
	first = answerbuf_alloc(&b, 100);
	assert_non_null(first);
	/* Fill the first block up, and one allocation more. */
	while (b.n_blocks == 1) {
		p = answerbuf_alloc(&b, 1000);
		assert_non_null(p);
		n++;
		if (b.n_blocks == 1)
			answerbuf_free(&b, p);
	}
	assert_true(n > 10);
	assert_int_equal(b.n_blocks, 2);
	/* The first block's last allocation gone: it is unmapped. */
	answerbuf_free(&b, first);
	assert_int_equal(b.n_blocks, 1);
	/* The current block, emptied, hands out its start again. */
	answerbuf_free(&b, p);
	assert_int_equal(b.n_blocks, 1);
	again = answerbuf_alloc(&b, 1000);
	assert_ptr_equal(again, p);
	answerbuf_free(&b, again);
}

/* A storm: answers made one after another, freed in the same order (they
 * all live a minute), only the current block left. */
static void
test_storm(void **state)
{
	static void *item[10000];
	struct answerbuf b = { 0 };
	unsigned int i, most = 0;

	(void)state;
	for (i = 0; i < 10000; i++) {
		item[i] = answerbuf_alloc(&b, 120);
		assert_non_null(item[i]);
		if (b.n_blocks > most)
			most = b.n_blocks;
	}
	assert_true(most >= 10000 * 136 / ANSWERBUF_BLOCK);
	for (i = 0; i < 10000; i++)
		answerbuf_free(&b, item[i]);
	assert_int_equal(b.n_blocks, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_apart),
		cmocka_unit_test(test_block_lifetime),
		cmocka_unit_test(test_storm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
