// SPDX-License-Identifier: MIT
/*
 * silence.c, the pace of vpnc's "no answer" notices, at fake times: the
 * schedule (5 s, then 30 s after it, doubling up to 5 min), nothing due a
 * nanosecond early, retransmissions and reconnections inside a silence do
 * not restart it, an answer ends it and reports the notices given, a late
 * wake-up gives one notice and not a burst, and the test divisor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../vpnc/silence.h"
#include "timers.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define S NS_PER_S
#define T0 (1000 * S)

/* Each notice exactly at `at[i]` seconds after T0, none a moment before. */
static void
expect_schedule(struct silence *s, const uint64_t *at, size_t n,
		uint64_t unit_ns)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t when = T0 + at[i] * unit_ns;

		assert_int_equal(silence_deadline(s), when);
		if (silence_due(s, when - 1))
			fail_msg("notice %zu came early", i);
		if (!silence_due(s, when))
			fail_msg("notice %zu did not come at %llu", i,
				 (unsigned long long)at[i]);
		assert_false(silence_due(s, when));
	}
}

static void
test_schedule(void **state)
{
	/* 5, +30, +60, +120, +240, then every 300. */
	static const uint64_t at[] = { 5, 35, 95, 215, 455, 755, 1055, 1355 };
	struct silence s;

	(void)state;
	silence_init(&s, 1);
	silence_handshake_sent(&s, T0);
	expect_schedule(&s, at, ARRAY_SIZE(at), S);
	assert_int_equal(silence_elapsed_s(&s, T0 + 1355 * S), 1355);
	assert_int_equal(silence_answered(&s), ARRAY_SIZE(at));
}

static void
test_not_silent(void **state)
{
	struct silence s;

	(void)state;
	silence_init(&s, 1);
	assert_int_equal(silence_deadline(&s), UINT64_MAX);
	assert_false(silence_due(&s, T0 + 3600 * S));
	assert_int_equal(silence_elapsed_s(&s, T0), 0);
	assert_int_equal(silence_answered(&s), 0);
}

/* Retransmissions and new handshakes after a backoff are one silence. */
static void
test_handshakes_inside_one_silence(void **state)
{
	static const uint64_t at[] = { 5, 35, 95 };
	struct silence s;
	uint64_t t;

	(void)state;
	silence_init(&s, 1);
	silence_handshake_sent(&s, T0);
	for (t = T0; t < T0 + 5 * S; t += S / 2)
		silence_handshake_sent(&s, t);
	expect_schedule(&s, at, 1, S);
	silence_handshake_sent(&s, T0 + 20 * S);
	expect_schedule(&s, at + 1, 2, S);
	assert_int_equal(silence_elapsed_s(&s, T0 + 95 * S), 95);
}

/* An answer ends it; the next silence starts over from the first notice. */
static void
test_answered(void **state)
{
	struct silence s;

	(void)state;
	silence_init(&s, 1);
	silence_handshake_sent(&s, T0);
	assert_int_equal(silence_answered(&s), 0); /* answered before 5 s */
	assert_int_equal(silence_deadline(&s), UINT64_MAX);
	assert_false(silence_due(&s, T0 + 5 * S));

	silence_handshake_sent(&s, T0 + 100 * S);
	assert_int_equal(silence_deadline(&s), T0 + 105 * S);
	assert_true(silence_due(&s, T0 + 105 * S));
	assert_true(silence_due(&s, T0 + 135 * S));
	assert_int_equal(silence_answered(&s), 2);
	assert_int_equal(silence_answered(&s), 0);

	silence_handshake_sent(&s, T0 + 200 * S);
	assert_false(silence_due(&s, T0 + 205 * S - 1));
	assert_true(silence_due(&s, T0 + 205 * S));
	assert_int_equal(silence_deadline(&s), T0 + 235 * S);
}

/* A loop that wakes an hour late gives one notice, then keeps the pace. */
static void
test_late_wakeup(void **state)
{
	struct silence s;
	uint64_t late = T0 + 3600 * S;

	(void)state;
	silence_init(&s, 1);
	silence_handshake_sent(&s, T0);
	assert_true(silence_due(&s, late));
	assert_false(silence_due(&s, late));
	assert_int_equal(silence_deadline(&s), late + 30 * S);
	assert_int_equal(silence_elapsed_s(&s, late), 3600);
}

static void
test_divisor(void **state)
{
	/* The same schedule in fifths of a second. */
	static const uint64_t at[] = { 5, 35, 95, 215, 455, 755, 1055 };
	struct silence s;

	(void)state;
	silence_init(&s, 5);
	silence_handshake_sent(&s, T0);
	expect_schedule(&s, at, ARRAY_SIZE(at), S / 5);
	silence_init(&s, 0); /* treated as 1 */
	silence_handshake_sent(&s, T0);
	assert_int_equal(silence_deadline(&s), T0 + 5 * S);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_not_silent),
		cmocka_unit_test(test_handshakes_inside_one_silence),
		cmocka_unit_test(test_answered),
		cmocka_unit_test(test_late_wakeup),
		cmocka_unit_test(test_divisor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
