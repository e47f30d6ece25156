// SPDX-License-Identifier: MIT
/*
 * cryptopool.c: a run calls fn once for every item and nothing else, with
 * 1, 2, 3 and more threads than items; results equal the serial ones for
 * n = 0, 1, many and uneven work (a hash chain of item-dependent length);
 * many runs in a row on one pool see no stale item of an earlier run; the
 * items really are spread over several threads when there are; the threads
 * carry their name; stop joins every thread (the process's thread count
 * falls back).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "cryptopool.h"

#define ITEMS 1000

struct work {
	uint64_t run;              /* which run wrote this */
	uint8_t out[ITEMS][32];
	atomic_uint calls[ITEMS];
	pthread_t by[ITEMS];
};

struct job {
	struct work *w;
	uint64_t run;
	bool is_uneven;
};

/* Item i's result: a BLAKE2b chain, i % 50 + 1 rounds long when uneven. */
static void
compute(uint8_t out[32], uint64_t run, size_t i, bool is_uneven)
{
	size_t rounds = is_uneven ? i % 50 + 1 : 1, r;
	uint8_t seed[16];

	memcpy(seed, &run, 8);
	memcpy(seed + 8, &i, 8);
	crypto_generichash(out, 32, seed, sizeof(seed), NULL, 0);
	for (r = 1; r < rounds; r++)
		crypto_generichash(out, 32, out, 32, NULL, 0);
}

static void
item(void *arg, size_t i)
{
	struct job *j = arg;

	compute(j->w->out[i], j->run, i, j->is_uneven);
	atomic_fetch_add(&j->w->calls[i], 1);
	j->w->by[i] = pthread_self();
}

/* Runs n items through pool and checks each against the serial result. */
static void
run_and_check(struct cryptopool *pool, struct work *w, uint64_t run, size_t n,
	      bool is_uneven)
{
	struct job j = { .w = w, .run = run, .is_uneven = is_uneven };
	uint8_t want[32];
	size_t i;

	for (i = 0; i < ITEMS; i++) {
		atomic_store(&w->calls[i], 0);
		memset(w->out[i], 0, 32);
	}
	cryptopool_run(pool, item, &j, n);
	for (i = 0; i < ITEMS; i++) {
		unsigned int calls = atomic_load(&w->calls[i]);

		if (calls != (i < n ? 1u : 0u))
			fail_msg("run %llu: item %zu of %zu called %u times",
				 (unsigned long long)run, i, n, calls);
		if (i >= n)
			continue;
		compute(want, run, i, is_uneven);
		assert_memory_equal(w->out[i], want, 32);
	}
}

static void
sizes_on(unsigned int threads)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 17, 64, ITEMS };
	struct cryptopool *pool;
	struct work *w = calloc(1, sizeof(*w));
	size_t s;

	assert_non_null(w);
	assert_int_equal(cryptopool_start(&pool, threads), 0);
	assert_int_equal(cryptopool_threads(pool), threads);
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		run_and_check(pool, w, s, sizes[s], false);
		run_and_check(pool, w, 100 + s, sizes[s], true);
	}
	cryptopool_stop(pool);
	free(w);
}

static void
test_one_thread(void **state)
{
	(void)state;
	sizes_on(1);
}

static void
test_two_threads(void **state)
{
	(void)state;
	sizes_on(2);
}

static void
test_three_threads(void **state)
{
	(void)state;
	sizes_on(3);
}

/* More threads than items, and than cores here. */
static void
test_many_threads(void **state)
{
	(void)state;
	sizes_on(CRYPTOPOOL_MAX_THREADS);
}

/* No pool at all: the caller does everything. */
static void
test_null_pool(void **state)
{
	struct work *w = calloc(1, sizeof(*w));

	(void)state;
	assert_non_null(w);
	assert_int_equal(cryptopool_threads(NULL), 1);
	run_and_check(NULL, w, 1, ITEMS, true);
	free(w);
}

/* Short runs back to back, where a thread waking late for one run could
 * take an item of the next with the wrong arguments. */
static void
test_runs_in_a_row(void **state)
{
	struct cryptopool *pool;
	struct work *w = calloc(1, sizeof(*w));
	uint64_t run;

	(void)state;
	assert_non_null(w);
	assert_int_equal(cryptopool_start(&pool, 3), 0);
	for (run = 0; run < 2000; run++)
		run_and_check(pool, w, run, run % 7 + 2, run % 2);
	cryptopool_stop(pool);
	free(w);
}

/* With slow items and several threads, more than one thread takes part:
 * the pool does spread the work (bounded: 200 tries). */
static void
test_work_is_spread(void **state)
{
	struct cryptopool *pool;
	struct work *w = calloc(1, sizeof(*w));
	int tries;
	bool spread = false;

	(void)state;
	assert_non_null(w);
	assert_int_equal(cryptopool_start(&pool, 2), 0);
	for (tries = 0; tries < 200 && !spread; tries++) {
		size_t i;

		run_and_check(pool, w, (uint64_t)tries, ITEMS, true);
		for (i = 1; i < ITEMS; i++)
			if (!pthread_equal(w->by[i], w->by[0]))
				spread = true;
	}
	cryptopool_stop(pool);
	free(w);
	assert_true(spread);
}

static int
count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Threads whose name (comm) is `name`. */
static int
count_named(const char *name)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	char path[300], comm[32];
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = '\0';
			n += strcmp(comm, name) == 0;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

static void
test_stop_joins(void **state)
{
	struct cryptopool *pool;
	int before = count_threads();

	(void)state;
	if (before < 0)
		skip();
	assert_int_equal(cryptopool_start(&pool, 4), 0);
	assert_int_equal(count_threads(), before + 3);
	assert_int_equal(count_named(CRYPTOPOOL_THREAD_NAME), 3);
	cryptopool_stop(pool);
	assert_int_equal(count_threads(), before);
	cryptopool_stop(NULL);
}

static void
test_bad_and_capped(void **state)
{
	struct cryptopool *pool = (struct cryptopool *)1;

	(void)state;
	assert_int_equal(cryptopool_start(&pool, 0), -EINVAL);
	assert_null(pool);
	assert_int_equal(cryptopool_start(&pool, 1000), 0);
	assert_int_equal(cryptopool_threads(pool), CRYPTOPOOL_MAX_THREADS);
	cryptopool_stop(pool);
	assert_true(cryptopool_cpus() >= 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_thread),
		cmocka_unit_test(test_two_threads),
		cmocka_unit_test(test_three_threads),
		cmocka_unit_test(test_many_threads),
		cmocka_unit_test(test_null_pool),
		cmocka_unit_test(test_runs_in_a_row),
		cmocka_unit_test(test_work_is_spread),
		cmocka_unit_test(test_stop_joins),
		cmocka_unit_test(test_bad_and_capped),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
