// SPDX-License-Identifier: MIT
/*
 * replay.c, the RFC 6479 window of PROTOCOL.md section 5: a vector table of
 * the edges (zero, duplicates, the window edge, big jumps, the
 * REJECT_AFTER_MESSAGES limit, counters that wrap the bitmap's words and
 * its ring), and a differential test against a deliberately naive
 * reference (every counter ever accepted in a plain set, plus the
 * greatest-seen rule) over long seeded random sequences, with
 * replay_may_accept asked before every check and held to its answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rand.h"
#include "replay.h"
#include "timers.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define W ((uint64_t)REPLAY_WINDOW_SIZE)
#define RING ((uint64_t)REPLAY_BITS_TOTAL)
#define REJECT REJECT_AFTER_MESSAGES

_Static_assert(REPLAY_WINDOW_SIZE >= 2048, "PROTOCOL.md: at least 2048");

struct vec {
	uint64_t n;
	bool ok;
};

static void
run_vectors(const struct vec *v, size_t n)
{
	struct replay_window w;
	size_t i;

	replay_init(&w);
	for (i = 0; i < n; i++) {
		bool got = replay_check(&w, v[i].n);

		if (got != v[i].ok)
			fail_msg("vector %zu: counter %llu: got %d, want %d", i,
				 (unsigned long long)v[i].n, got, v[i].ok);
	}
}

static void
test_vectors(void **state)
{
	static const struct vec v[] = {
		{ 0, true },
		{ 0, false }, /* duplicate */
		{ 1, true },
		{ 1, false },
		{ 3, true },  /* a gap ... */
		{ 2, true },  /* ... filled late */
		{ 2, false },
		{ 63, true }, /* the last bit of the first word */
		{ 64, true }, /* the first of the second */
		{ 65, true },
		{ 62, true },
		{ 64, false },
		{ 63, false },
		{ W + 2, true }, /* greatest is now W + 2 */
		{ 2, false },    /* exactly at the edge, but seen */
		{ 1, false },    /* one past the edge */
		{ 0, false },
		{ W + 1, true },
		{ W + 6, true }, /* greatest W + 6 */
		{ 6, true },     /* exactly at the edge, new */
		{ 6, false },
		{ 5, false },    /* just out */
		{ 7, true },
		{ W + 6, false },
		/* A jump of exactly one ring: the slot of the old words must
		 * have been cleared, not left with stale bits. */
		{ 64 + RING, true },
		{ 64 + RING - W, true }, /* exactly in */
		{ 63 + RING - W, false }, /* just out */
		{ 65 + RING, true },
		{ 64 + RING - W, false },
		{ 65 + RING - W, true },
		{ 63 + RING, true },
		{ 62 + RING, true },
		{ 65 + RING, false },
		/* A big jump forward empties the window. */
		{ 1ull << 40, true },
		{ (1ull << 40) - 1, true },
		{ (1ull << 40) - W, true },
		{ (1ull << 40) - W - 1, false },
		{ (1ull << 40) - W, false },
		{ (1ull << 40) - W + 1, true },
		{ (1ull << 40) + 1, true },
		{ 1ull << 40, false },
		/* The protocol's limit. */
		{ REJECT - 2, true },
		{ REJECT, false },
		{ REJECT + 1, false },
		{ UINT64_MAX, false },
		{ REJECT - 1, true },
		{ REJECT - 1, false },
		{ REJECT - 2, false },
		{ REJECT - 3, true },
		{ REJECT - 1 - W, true },
		{ REJECT - 2 - W, false },
	};

	(void)state;
	run_vectors(v, ARRAY_SIZE(v));
}

/* Short sequences from a fresh window: the first counter may be anything
 * below the limit. */
static void
test_first_counter(void **state)
{
	static const struct vec a[] = { { REJECT - 1, true }, { 0, false } };
	static const struct vec b[] = { { REJECT, false }, { 0, true } };
	static const struct vec c[] = { { W, true }, { 0, true },
					{ 0, false } };
	static const struct vec d[] = { { W + 1, true }, { 0, false },
					{ 1, true } };
	/* A jump of more than a ring leaves no stale bit in the slot of the
	 * word that was current before it. */
	static const struct vec e[] = { { 100, true },
					{ 100 + RING + RING / 2, true },
					{ 100 + RING, true } };

	(void)state;
	run_vectors(a, ARRAY_SIZE(a));
	run_vectors(b, ARRAY_SIZE(b));
	run_vectors(c, ARRAY_SIZE(c));
	run_vectors(d, ARRAY_SIZE(d));
	run_vectors(e, ARRAY_SIZE(e));
}

/* Every counter in order over several turns of the ring, then everything
 * still in the window is refused as a duplicate. */
static void
test_in_order_wraps(void **state)
{
	struct replay_window w;
	uint64_t n, last = 3 * RING + 17;

	(void)state;
	replay_init(&w);
	for (n = 0; n <= last; n++)
		assert_true(replay_check(&w, n));
	for (n = last - W - 100; n <= last; n++)
		assert_false(replay_check(&w, n));
	assert_true(replay_check(&w, last + 1));
}

/* Every counter of a full window in reverse order, after the greatest. */
static void
test_reverse_fill(void **state)
{
	struct replay_window w;
	uint64_t g = 5 * RING + 33, n;

	(void)state;
	replay_init(&w);
	assert_true(replay_check(&w, g));
	for (n = g - 1; n >= g - W; n--)
		assert_true(replay_check(&w, n));
	assert_false(replay_check(&w, g - W - 1));
	for (n = g; n >= g - W; n--)
		assert_false(replay_check(&w, n));
}

/* ---- differential test --------------------------------------------------- */

/* The reference: a plain hash set of every counter ever accepted. */
#define SET_BITS 21
#define SET_SIZE (1u << SET_BITS)

struct naive {
	uint64_t *keys; /* stored as counter + 1; 0 is empty */
	size_t count;
	bool any;
	uint64_t greatest;
};

static void
naive_init(struct naive *r)
{
	r->keys = calloc(SET_SIZE, sizeof(*r->keys));
	assert_non_null(r->keys);
	r->count = 0;
	r->any = false;
	r->greatest = 0;
}

static void
naive_free(struct naive *r)
{
	free(r->keys);
}

/* True if added, false if already there. */
static bool
naive_set_add(struct naive *r, uint64_t c)
{
	uint64_t k = c + 1;
	size_t i = (size_t)((k * 0x9e3779b97f4a7c15ull) >> (64 - SET_BITS));

	for (;;) {
		if (r->keys[i] == k)
			return false;
		if (r->keys[i] == 0)
			break;
		i = (i + 1) & (SET_SIZE - 1);
	}
	assert_true(r->count < SET_SIZE / 2);
	r->keys[i] = k;
	r->count++;
	return true;
}

static bool
naive_check(struct naive *r, uint64_t c)
{
	if (c >= REJECT)
		return false;
	if (r->any && c < r->greatest && r->greatest - c > W)
		return false;
	if (!naive_set_add(r, c))
		return false;
	if (!r->any || c > r->greatest)
		r->greatest = c;
	r->any = true;
	return true;
}

static uint64_t
sub_sat(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static uint64_t
add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

#define RECENT 512

/* One random counter in the neighbourhood of what was already sent. */
static uint64_t
pick(uint64_t top, const uint64_t *recent, size_t n_recent)
{
	uint64_t r = next_rand(), kind = r % 100;

	r >>= 8;
	if (kind < 35) /* in order */
		return top + 1;
	if (kind < 60) /* reordered, mostly within the window */
		return sub_sat(top, r % (W + 200));
	if (kind < 72 && n_recent) /* duplicate of a recent one */
		return recent[r % (n_recent < RECENT ? n_recent : RECENT)];
	if (kind < 82) /* the edge of the window */
		return sub_sat(top + (r % 3), W + 1);
	if (kind < 87) /* far behind */
		return sub_sat(top, W + 1 + r % (4 * RING));
	if (kind < 95) /* a jump forward of up to a few rings */
		return add_sat(top, 1 + r % (3 * RING));
	if (kind < 99) /* a word boundary just ahead */
		return (top | 63) + 1 + (r & 1);
	return add_sat(top, r % (1ull << 44)); /* a big jump */
}

struct diff_stats {
	unsigned int accepted, refused, past_limit;
	uint64_t greatest;
};

static void
differential(uint64_t seed, uint64_t start, unsigned int count,
	     struct diff_stats *st)
{
	static uint64_t recent[RECENT];
	struct replay_window w;
	struct naive ref;
	uint64_t top = start, c;
	size_t n_recent = 0;
	unsigned int i;

	memset(st, 0, sizeof(*st));
	rng = seed;
	replay_init(&w);
	naive_init(&ref);
	for (i = 0; i < count; i++) {
		bool want, got, may;

		c = pick(top, recent, n_recent);
		want = naive_check(&ref, c);
		/* The look without a change agrees with the check after it. */
		may = replay_may_accept(&w, c);
		got = replay_check(&w, c);
		if (may != got)
			fail_msg("seed %llu step %u: counter %llu: may_accept %d, "
				 "check %d", (unsigned long long)seed, i,
				 (unsigned long long)c, may, got);
		if (want != got)
			fail_msg("seed %llu step %u: counter %llu (greatest "
				 "%llu): window %d, reference %d",
				 (unsigned long long)seed, i,
				 (unsigned long long)c,
				 (unsigned long long)ref.greatest, got, want);
		if (got) {
			st->accepted++;
			recent[n_recent++ % RECENT] = c;
		} else {
			st->refused++;
		}
		if (c >= REJECT)
			st->past_limit++;
		if (ref.any)
			top = ref.greatest;
	}
	st->greatest = ref.greatest;
	naive_free(&ref);
}

static void
test_differential_from_zero(void **state)
{
	struct diff_stats st;

	(void)state;
	differential(1, 0, 250000, &st);
	/* The mix really exercised both answers. */
	assert_true(st.accepted > 250000 / 4);
	assert_true(st.refused > 250000 / 8);
	differential(2, 0, 150000, &st);
	assert_true(st.accepted > 150000 / 4);
	assert_true(st.refused > 150000 / 8);
}

/* Started close enough to REJECT_AFTER_MESSAGES that the sequence runs
 * into it part way through, and keeps offering counters past it. */
static void
test_differential_near_limit(void **state)
{
	struct diff_stats st;

	(void)state;
	/* Far enough that the run moves towards the limit a while (the
	 * jumps forward are of up to three rings). */
	differential(3, REJECT - 12000 * RING, 150000, &st);
	assert_true(st.greatest >= REJECT - 2 * RING);
	assert_true(st.past_limit > 1000);
	assert_true(st.accepted > 150000 / 8);
}

/* The window is at least the 2048 counters PROTOCOL.md asks for. */
static void
test_window_at_least_2048(void **state)
{
	struct replay_window w;
	uint64_t g = 100000, n;

	(void)state;
	replay_init(&w);
	assert_true(replay_check(&w, g));
	for (n = g - 2048; n < g; n++)
		assert_true(replay_check(&w, n));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_first_counter),
		cmocka_unit_test(test_in_order_wraps),
		cmocka_unit_test(test_reverse_fill),
		cmocka_unit_test(test_window_at_least_2048),
		cmocka_unit_test(test_differential_from_zero),
		cmocka_unit_test(test_differential_near_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
