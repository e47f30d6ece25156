// SPDX-License-Identifier: MIT
/*
 * expiry.c: which sessions `vpnctl sessions` marks as ending soon, and
 * vpnc's warnings as a session runs down (a day, an hour, ten minutes, a
 * minute before its end; at once for a resume with a day or less left;
 * one warning for thresholds passed together), on a clock the test sets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "expiry.h"
#include "timers.h"

#define DAY EXPIRY_DAY_S
#define T0 (1000 * NS_PER_S) /* any monotonic start */

static void
test_is_soon(void **state)
{
	(void)state;
	/* A site's 30 days: its last day. */
	assert_false(expiry_is_soon(30 * DAY, DAY + 1));
	assert_true(expiry_is_soon(30 * DAY, DAY));
	/* A person's 12 hours: its last ten minutes only. */
	assert_false(expiry_is_soon(12 * 3600, 3600));
	assert_false(expiry_is_soon(12 * 3600, 601));
	assert_true(expiry_is_soon(12 * 3600, 600));
	assert_true(expiry_is_soon(12 * 3600, 0));
	/* Exactly a day is not more than a day. */
	assert_false(expiry_is_soon(DAY, 3600));
}

/* Runs the warner from now to the end, second by second; records the time
 * left at each warning. */
static size_t
run_down(struct expiry_warner *w, uint64_t from_ns, uint64_t left_s,
	 uint64_t *said, size_t max)
{
	uint64_t t, left, n = 0;

	for (t = 0; t <= left_s; t++) {
		uint64_t now = from_ns + t * NS_PER_S;

		if (expiry_deadline(w) <= now) {
			assert_true(expiry_due(w, now, &left));
			assert_true(n < max);
			said[n++] = left;
		} else {
			assert_false(expiry_due(w, now, &left));
		}
	}
	return n;
}

static void
test_warnings_site(void **state)
{
	struct expiry_warner w;
	uint64_t said[8], left;

	(void)state;
	assert_false(expiry_start(&w, T0, 2 * DAY, false, &left));
	assert_int_equal(expiry_deadline(&w), T0 + DAY * NS_PER_S);
	assert_int_equal(run_down(&w, T0, 2 * DAY, said, 8), 4);
	assert_int_equal(said[0], DAY);
	assert_int_equal(said[1], 3600);
	assert_int_equal(said[2], 600);
	assert_int_equal(said[3], 60);
	assert_int_equal(expiry_deadline(&w), UINT64_MAX);
}

static void
test_warnings_resume(void **state)
{
	struct expiry_warner w;
	uint64_t said[8], left;

	(void)state;
	/* A resume with five hours left: now, then at an hour and below. */
	assert_true(expiry_start(&w, T0, 5 * 3600, true, &left));
	assert_int_equal(left, 5 * 3600);
	assert_int_equal(run_down(&w, T0, 5 * 3600, said, 8), 3);
	assert_int_equal(said[0], 3600);
	/* A resume with more than a day left, or a fresh login: not now. */
	assert_false(expiry_start(&w, T0, DAY + 1, true, &left));
	assert_false(expiry_start(&w, T0, 5 * 3600, false, &left));
	/* Under a minute left: nothing more to arm. */
	assert_true(expiry_start(&w, T0, 30, true, &left));
	assert_int_equal(expiry_deadline(&w), UINT64_MAX);
	expiry_stop(&w);
	assert_int_equal(expiry_deadline(&w), UINT64_MAX);
	assert_false(expiry_due(&w, T0 + 40 * NS_PER_S, &left));
}

/* A machine that slept through several thresholds: one warning, with the
 * time really left, and the next threshold below it. */
static void
test_warnings_skipped(void **state)
{
	struct expiry_warner w;
	uint64_t left;

	(void)state;
	assert_false(expiry_start(&w, T0, 2 * DAY, false, &left));
	assert_true(expiry_due(&w, T0 + (2 * DAY - 300) * NS_PER_S, &left));
	assert_int_equal(left, 300);
	assert_false(expiry_due(&w, T0 + (2 * DAY - 299) * NS_PER_S, &left));
	assert_true(expiry_due(&w, T0 + (2 * DAY - 60) * NS_PER_S, &left));
	assert_int_equal(left, 60);
	/* Past the end: nothing further. */
	assert_false(expiry_due(&w, T0 + 3 * DAY * NS_PER_S, &left));
}

static void
test_span(void **state)
{
	char out[EXPIRY_SPAN_LEN];

	(void)state;
	assert_string_equal(expiry_span(0, out), "0s");
	assert_string_equal(expiry_span(59, out), "59s");
	assert_string_equal(expiry_span(60, out), "1m 0s");
	assert_string_equal(expiry_span(3599, out), "59m 59s");
	assert_string_equal(expiry_span(3600, out), "1h 0m");
	assert_string_equal(expiry_span(30 * DAY + 7200, out), "30d 2h");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_soon),
		cmocka_unit_test(test_warnings_site),
		cmocka_unit_test(test_warnings_resume),
		cmocka_unit_test(test_warnings_skipped),
		cmocka_unit_test(test_span),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
