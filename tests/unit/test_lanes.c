// SPDX-License-Identifier: MIT
/*
 * lanes.c, the fair login queue: the limits (per source, in all), the
 * order in which sources are served (in turn, each in its own order), a
 * lane freed when its last check is done, and a differential test against
 * a naive model (a list of queued checks per source, a cursor over the
 * sources) over seeded random pushes, pops and completions.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../vpnd/lanes.h"
#include "rand.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct check {
	struct lanes_item item; /* first */
	unsigned int source;
	unsigned int n;
};

static void
set_source(struct check *c, unsigned int source, unsigned int n)
{
	memset(c, 0, sizeof(*c));
	c->item.key[0] = 4;
	c->item.key[4] = (uint8_t)source;
	c->source = source;
	c->n = n;
}

static unsigned int
pop_source(struct lanes *l)
{
	struct check *c = (struct check *)lanes_pop(l);

	assert_non_null(c);
	return c->source;
}

static void
test_limits(void **state)
{
	struct check c[8];
	struct lanes l;

	(void)state;
	assert_int_equal(lanes_init(&l, 0, 1), -EINVAL);
	assert_int_equal(lanes_init(&l, 1, 0), -EINVAL);
	assert_int_equal(lanes_init(&l, 4, 2), 0);
	set_source(&c[0], 1, 0);
	set_source(&c[1], 1, 1);
	set_source(&c[2], 1, 2);
	set_source(&c[3], 2, 0);
	set_source(&c[4], 3, 0);
	set_source(&c[5], 4, 0);
	assert_int_equal(lanes_push(&l, &c[0].item), LANES_OK);
	assert_int_equal(lanes_push(&l, &c[1].item), LANES_OK);
	/* The source's third is refused, another source still gets in. */
	assert_int_equal(lanes_push(&l, &c[2].item), LANES_SOURCE_FULL);
	assert_int_equal(lanes_push(&l, &c[3].item), LANES_OK);
	assert_int_equal(lanes_push(&l, &c[4].item), LANES_OK);
	/* Four in flight: full for everyone. */
	assert_int_equal(lanes_push(&l, &c[5].item), LANES_FULL);
	/* Running still counts; done makes room. */
	assert_int_equal(pop_source(&l), 1);
	assert_int_equal(lanes_push(&l, &c[5].item), LANES_FULL);
	lanes_done(&l, c[0].item.key);
	assert_int_equal(lanes_push(&l, &c[5].item), LANES_OK);
	assert_int_equal(lanes_push(&l, &c[2].item), LANES_FULL);
	lanes_free(&l);
}

/*
 * A newcomer is served after at most one check of each other source, and
 * joins the turn behind the sources already waiting. The fuzz harness
 * found the lowest-free-slot placement letting a source that drained and
 * came back overtake one that waited: lanes are a ring, not an array.
 */
static void
test_in_turn(void **state)
{
	struct check c[16];
	struct lanes l;
	unsigned int i, order[6];

	(void)state;
	assert_int_equal(lanes_init(&l, 16, 4), 0);
	for (i = 0; i < 4; i++) {
		set_source(&c[i], 1, i);
		assert_int_equal(lanes_push(&l, &c[i].item), LANES_OK);
	}
	for (i = 0; i < 4; i++) {
		set_source(&c[4 + i], 2, i);
		assert_int_equal(lanes_push(&l, &c[4 + i].item), LANES_OK);
	}
	assert_int_equal(pop_source(&l), 1);
	set_source(&c[8], 3, 0);
	assert_int_equal(lanes_push(&l, &c[8].item), LANES_OK);
	for (i = 0; i < ARRAY_SIZE(order); i++)
		order[i] = pop_source(&l);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 3);
	assert_int_equal(order[3], 2);
	assert_int_equal(order[4], 1);
	assert_int_equal(order[5], 2);
	lanes_free(&l);
}

/* The fuzzer's case: a lane freed and reused at a lower index than one
 * that waits must not be served first. */
static void
test_reused_lane_waits(void **state)
{
	struct check a, b1, b2, c, d, e;
	struct lanes l;

	(void)state;
	assert_int_equal(lanes_init(&l, 4, 2), 0);
	set_source(&a, 1, 0);
	set_source(&b1, 2, 0);
	set_source(&b2, 2, 1);
	assert_int_equal(lanes_push(&l, &a.item), LANES_OK);
	assert_int_equal(lanes_push(&l, &b1.item), LANES_OK);
	assert_int_equal(lanes_push(&l, &b2.item), LANES_OK);
	assert_int_equal(pop_source(&l), 1);
	lanes_done(&l, a.item.key);           /* lane of 1 freed */
	assert_int_equal(pop_source(&l), 2); /* b1; b2 still waits */
	set_source(&c, 3, 0);
	set_source(&d, 1, 1);
	set_source(&e, 4, 0);
	assert_int_equal(lanes_push(&l, &c.item), LANES_OK);
	assert_int_equal(lanes_push(&l, &d.item), LANES_OK);
	assert_int_equal(lanes_push(&l, &e.item), LANES_FULL);
	/* 2 waited before 3 and 1 came (back): 2 first. */
	assert_int_equal(pop_source(&l), 2);
	assert_int_equal(pop_source(&l), 3);
	assert_int_equal(pop_source(&l), 1);
	assert_null(lanes_pop(&l));
	lanes_free(&l);
}

static void
test_fifo_per_source(void **state)
{
	struct check c[5];
	struct lanes l;
	unsigned int i;

	(void)state;
	assert_int_equal(lanes_init(&l, 5, 5), 0);
	for (i = 0; i < 5; i++) {
		set_source(&c[i], 9, i);
		assert_int_equal(lanes_push(&l, &c[i].item), LANES_OK);
	}
	for (i = 0; i < 5; i++)
		assert_int_equal(((struct check *)lanes_pop(&l))->n, i);
	assert_null(lanes_pop(&l));
	lanes_free(&l);
}

/* ---- against a naive model ------------------------------------------------- */

#define SOURCES 6
#define MAX 8
#define PER 3

struct model {
	unsigned int queued[SOURCES][64], n_queued[SOURCES];
	unsigned int in_flight[SOURCES], total;
	unsigned int passed_over[SOURCES]; /* pops since it was served */
};

static void
test_against_model(void **state)
{
	static struct check pool[4096];
	struct check *running[MAX];
	unsigned int n_running = 0, used = 0, step;
	struct model m;
	struct lanes l;

	(void)state;
	rng = 21;
	memset(&m, 0, sizeof(m));
	assert_int_equal(lanes_init(&l, MAX, PER), 0);
	for (step = 0; step < 20000 && used < ARRAY_SIZE(pool); step++) {
		unsigned int op = (unsigned int)(next_rand() % 3), s, k;

		if (op == 0) {
			struct check *c = &pool[used++];
			enum lanes_push want, got;

			s = (unsigned int)(next_rand() % SOURCES);
			set_source(c, s, step);
			want = m.total >= MAX		 ? LANES_FULL
			       : m.in_flight[s] >= PER ? LANES_SOURCE_FULL
						       : LANES_OK;
			got = lanes_push(&l, &c->item);
			assert_int_equal(got, want);
			if (got == LANES_OK) {
				m.queued[s][m.n_queued[s]++] = step;
				m.in_flight[s]++;
				m.total++;
			}
		} else if (op == 1) {
			struct check *c = (struct check *)lanes_pop(&l);
			unsigned int any = 0;

			for (s = 0; s < SOURCES; s++)
				any += m.n_queued[s];
			if (!any) {
				assert_null(c);
				continue;
			}
			assert_non_null(c);
			/* The oldest of that source; a source with checks
			 * queued waits for at most one of each other. */
			for (s = 0; s < SOURCES; s++) {
				if (!m.n_queued[s])
					m.passed_over[s] = 0;
				if (s == c->source || !m.n_queued[s])
					continue;
				assert_true(++m.passed_over[s] < SOURCES);
			}
			m.passed_over[c->source] = 0;
			assert_true(m.n_queued[c->source] > 0);
			assert_int_equal(m.queued[c->source][0], c->n);
			memmove(m.queued[c->source], m.queued[c->source] + 1,
				--m.n_queued[c->source] * sizeof(unsigned int));
			running[n_running++] = c;
		} else if (n_running) {
			k = (unsigned int)(next_rand() % n_running);
			s = running[k]->source;
			lanes_done(&l, running[k]->item.key);
			running[k] = running[--n_running];
			m.in_flight[s]--;
			m.total--;
		}
		assert_int_equal(l.in_flight, m.total);
	}
	lanes_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_in_turn),
		cmocka_unit_test(test_reused_lane_waits),
		cmocka_unit_test(test_fifo_per_source),
		cmocka_unit_test(test_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
