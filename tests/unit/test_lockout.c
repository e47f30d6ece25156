// SPDX-License-Identifier: MIT
/*
 * lockout.c by vector tables: lock times doubling to the cap, what a user
 * name's and a source's counter hold as time passes (a user's count
 * forgotten once unlocked and idle past the cap; a source's dropping one
 * per decay period, with the part of a period already run kept), taking a
 * failure (locking at the limit, never with a limit of 0); then giving it
 * back against a reference: over seeded random counters, take and give
 * back leave every counter as it would have been without the attempt, at
 * that time and at every later one (within one failure when another came
 * in between).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../vpnd/lockout.h"
#include "rand.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define T0 1700000000ULL

static struct auth_policy
policy(void)
{
	struct auth_policy p;

	memset(&p, 0, sizeof(p));
	p.lockout_failures = 3;
	p.lockout_time_s = 60;
	p.lockout_max_time_s = 240;
	p.source_decay_s = 100;
	return p;
}

static void
test_lock_time(void **state)
{
	static const struct {
		uint32_t time_s, max_s, extra;
		uint64_t want;
	} v[] = {
		{ 60, 240, 0, 60 },   { 60, 240, 1, 120 }, { 60, 240, 2, 240 },
		{ 60, 240, 3, 240 },  { 60, 240, 1000, 240 },
		{ 60, 200, 2, 200 },  /* the cap cuts a doubling short */
		{ 60, 0, 5, 60 },     /* no cap: no doubling */
		{ 300, 240, 0, 240 }, /* a first lock past the cap */
	};
	struct auth_policy p = policy();
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		p.lockout_time_s = v[i].time_s;
		p.lockout_max_time_s = v[i].max_s;
		assert_int_equal(lockout_time(&p, v[i].extra), v[i].want);
	}
}

static void
test_count(void **state)
{
	static const struct {
		bool is_source;
		uint32_t count;
		uint64_t last, locked_until, dt; /* last, lock: from T0 */
		uint32_t want;
		uint64_t want_last; /* after lockout_now(), from T0 */
	} v[] = {
		/* a user's count stays until it is idle past the cap */
		{ false, 4, 0, 0, 240, 4, 0 },
		{ false, 4, 0, 0, 241, 0, 0 },
		/* ... and unlocked */
		{ false, 9, 0, 500, 300, 9, 0 },
		{ false, 9, 0, 500, 500, 0, 0 },
		/* a source loses one per 100 s, keeping the rest of a period */
		{ true, 5, 0, 0, 99, 5, 0 },
		{ true, 5, 0, 0, 100, 4, 100 },
		{ true, 5, 0, 0, 250, 3, 200 },
		{ true, 5, 0, 0, 499, 1, 400 },
		{ true, 5, 0, 0, 500, 0, 0 },
		{ true, 5, 0, 0, 100000, 0, 0 },
		/* whatever its lock */
		{ true, 5, 0, 1000, 300, 2, 300 },
		/* a clock that went back counts as no time */
		{ true, 5, 50, 0, 10, 5, 50 },
		{ false, 4, 50, 0, 10, 4, 50 },
	};
	struct auth_policy p = policy();
	struct userdb_failure f;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		f.count = v[i].count;
		f.last_unix_s = T0 + v[i].last;
		f.locked_until_unix_s = v[i].locked_until
						? T0 + v[i].locked_until
						: 0;
		print_message("vector %zu\n", i);
		assert_int_equal(lockout_count(&p, v[i].is_source, &f,
					       T0 + v[i].dt),
				 v[i].want);
		lockout_now(&p, v[i].is_source, T0 + v[i].dt, &f);
		assert_int_equal(f.count, v[i].want);
		if (v[i].want)
			assert_int_equal(f.last_unix_s, T0 + v[i].want_last);
	}
}

static void
test_decay_default(void **state)
{
	struct auth_policy p = policy();
	struct userdb_failure f = { 3, T0, 0 };

	(void)state;
	p.source_decay_s = 0;
	assert_int_equal(lockout_count(&p, true, &f,
				       T0 + AUTH_SOURCE_DECAY_DEFAULT_S - 1),
			 3);
	assert_int_equal(lockout_count(&p, true, &f,
				       T0 + AUTH_SOURCE_DECAY_DEFAULT_S),
			 2);
}

static void
test_take(void **state)
{
	static const struct {
		unsigned int limit;
		uint32_t count;
		uint64_t want_lock; /* from now; 0: none */
	} v[] = {
		{ 3, 0, 0 },   { 3, 1, 0 },   { 3, 2, 60 }, { 3, 3, 120 },
		{ 3, 4, 240 }, { 3, 9, 240 }, { 1, 0, 60 }, { 0, 1000, 0 },
	};
	struct auth_policy p = policy();
	struct userdb_failure f;
	struct lockout_hold h;
	uint64_t now = T0 + 77;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		p.lockout_failures = v[i].limit;
		f = (struct userdb_failure){ v[i].count, T0, 0 };
		lockout_take(&p, now, &f, &h);
		assert_int_equal(f.count, v[i].count + 1);
		assert_int_equal(f.last_unix_s, now);
		assert_int_equal(h.last_before, T0);
		assert_int_equal(f.locked_until_unix_s,
				 v[i].want_lock ? now + v[i].want_lock : 0);
		assert_int_equal(h.lock_set, f.locked_until_unix_s);
		assert_int_equal(lockout_left(&f, now), v[i].want_lock);
	}
	/* the count saturates */
	f = (struct userdb_failure){ UINT32_MAX, T0, 0 };
	lockout_take(&p, now, &f, &h);
	assert_int_equal(f.count, UINT32_MAX);
}

/* Two counters mean the same if every later attempt would see the same. */
static void
assert_same(const struct auth_policy *p, bool is_source,
	    const struct userdb_failure *a, const struct userdb_failure *b,
	    uint64_t now)
{
	uint64_t dt;

	for (dt = 0; dt < 1200; dt += 7) {
		assert_int_equal(lockout_count(p, is_source, a, now + dt),
				 lockout_count(p, is_source, b, now + dt));
		assert_int_equal(lockout_left(a, now + dt),
				 lockout_left(b, now + dt));
	}
}

/*
 * The reference for giving back: the counter as it was, brought to the
 * time of the attempt. Over random counters, policies and times, take and
 * give back at that time leave what the reference says, now and later.
 * With another attempt's failure in between (a second later), this
 * attempt's count goes and the other's stays; the other failure restarted
 * the clock, so the count may stay above the reference (a source's by
 * one), never below.
 */
static void
test_give_back(void **state)
{
	struct auth_policy p = policy();
	struct userdb_failure f, ref, other;
	struct lockout_hold h, h2;
	unsigned int round;

	(void)state;
	rng = 0x10c0;
	for (round = 0; round < 20000; round++) {
		bool is_source = next_rand() & 1;
		uint64_t now = T0 + 10000 + next_rand() % 100;

		p.lockout_failures = (unsigned int)(next_rand() % 6);
		/* longer than the second between the attempts */
		p.source_decay_s = 2 + (uint32_t)(next_rand() % 300);
		f.count = (uint32_t)(next_rand() % 8);
		f.last_unix_s = now - next_rand() % 2000;
		f.locked_until_unix_s =
			next_rand() & 1 ? 0 : now - 50 + next_rand() % 40;
		lockout_now(&p, is_source, now, &f);
		if (lockout_left(&f, now))
			continue; /* a locked counter is never taken */
		ref = f;
		lockout_take(&p, now, &f, &h);
		lockout_give_back(&p, is_source, now, &f, &h);
		assert_int_equal(f.count, ref.count);
		assert_same(&p, is_source, &f, &ref, now);

		/* another attempt failed meanwhile, a second later */
		other = ref;
		lockout_take(&p, now, &f, &h);
		if (lockout_left(&f, now + 1) == 0) {
			lockout_now(&p, is_source, now + 1, &f);
			lockout_take(&p, now + 1, &f, &h2);
			lockout_now(&p, is_source, now + 1, &other);
			lockout_take(&p, now + 1, &other, &h2);
			/* given back with the time of its own attempt */
			lockout_give_back(&p, is_source, now, &f, &h);
			assert_true(f.count >= other.count);
			if (is_source)
				assert_true(f.count <= other.count + 1);
			assert_int_equal(f.last_unix_s, now + 1);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_time),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_decay_default),
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_give_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
