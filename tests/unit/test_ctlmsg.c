// SPDX-License-Identifier: MIT
/*
 * ctlmsg.c, the control protocol's codec: what the writer makes the
 * decoder gives back (every escaped byte included), a vector table of
 * what the decoder refuses and why, every prefix of a message incomplete
 * and never acted on, bytes after a message refused, and the bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../vpnd/ctlmsg.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void
test_round_trip(void **state)
{
	static const char tricky[] = "a\\b\tc\x01\x7f d=e \xc3\xa9t\xc3\xa9";
	struct ctlmsg_writer w;
	struct ctlmsg m;
	const char *why;

	(void)state;
	ctlmsg_writer_init(&w, CTLMSG_ANSWER_MAX);
	ctlmsg_put(&w, "command", "sessions");
	ctlmsg_put(&w, "user", tricky);
	ctlmsg_put(&w, "empty", "");
	ctlmsg_put_u64(&w, "rx-bytes", UINT64_MAX);
	ctlmsg_putf(&w, "user", "%s-%d", "bob", 7);
	assert_true(ctlmsg_finish(&w, 0, NULL));
	/* Escapes keep every value on its line. */
	assert_null(memchr(w.buf, '\t', w.len));
	assert_int_equal(ctlmsg_decode(w.buf, w.len, CTLMSG_ANSWER_MAX, &m,
				       &why),
			 CTLMSG_OK);
	assert_int_equal(m.n, 6);
	assert_string_equal(ctlmsg_get(&m, "command"), "sessions");
	assert_string_equal(ctlmsg_get(&m, "user"), tricky);
	assert_string_equal(ctlmsg_field(&m, 4)->value, "bob-7");
	assert_string_equal(ctlmsg_get(&m, "empty"), "");
	assert_string_equal(ctlmsg_get(&m, "rx-bytes"),
			    "18446744073709551615");
	assert_string_equal(ctlmsg_get(&m, "errno"), "0");
	assert_null(ctlmsg_get(&m, "error"));
	assert_null(ctlmsg_get(&m, "nothing"));
	assert_null(ctlmsg_field(&m, 6));
	ctlmsg_free(&m);
	ctlmsg_writer_free(&w);

	ctlmsg_writer_init(&w, CTLMSG_ANSWER_MAX);
	assert_true(ctlmsg_finish(&w, 2, "no such user: eve"));
	assert_int_equal(ctlmsg_decode(w.buf, w.len, CTLMSG_ANSWER_MAX, &m,
				       &why),
			 CTLMSG_OK);
	assert_string_equal(ctlmsg_get(&m, "errno"), "2");
	assert_string_equal(ctlmsg_get(&m, "error"), "no such user: eve");
	ctlmsg_free(&m);
	ctlmsg_writer_free(&w);
}

static void
test_refused(void **state)
{
	static const struct {
		const char *msg;
		enum ctlmsg_result want;
	} v[] = {
		{ "version=1\ncommand=status\n\n", CTLMSG_OK },
		{ "version=1\n\n", CTLMSG_OK }, /* no fields: the caller's call */
		{ "\n", CTLMSG_INVALID },                 /* empty */
		{ "version=2\ncommand=status\n\n", CTLMSG_INVALID },
		{ "version=10\n\n", CTLMSG_INVALID },
		{ "version=\n\n", CTLMSG_INVALID },
		{ "command=status\nversion=1\n\n", CTLMSG_INVALID },
		{ "version=1\ncommand\n\n", CTLMSG_INVALID },   /* no '=' */
		{ "version=1\n=x\n\n", CTLMSG_INVALID },        /* no key */
		{ "version=1\nCommand=x\n\n", CTLMSG_INVALID }, /* upper case */
		{ "version=1\nk y=x\n\n", CTLMSG_INVALID },
		{ "version=1\nk=a\tb\n\n", CTLMSG_INVALID },    /* raw tab */
		{ "version=1\nk=a\rb\n\n", CTLMSG_INVALID },
		{ "version=1\nk=a\\x0\n\n", CTLMSG_INVALID },   /* cut */
		{ "version=1\nk=a\\\n\n", CTLMSG_INVALID },
		{ "version=1\nk=\\y41\n\n", CTLMSG_INVALID },
		{ "version=1\nk=\\xzz\n\n", CTLMSG_INVALID },
		{ "version=1\nk=\\x00\n\n", CTLMSG_INVALID },   /* NUL */
		{ "version=1\nk=\\x41\n\n", CTLMSG_OK },
		{ "version=1\nk=\xff\n\n", CTLMSG_INVALID },     /* not UTF-8 */
		{ "version=1\nk=\\xc3\n\n", CTLMSG_INVALID },    /* escaped */
		{ "version=1\nk=v\n\nx", CTLMSG_INVALID },      /* after */
		{ "version=1\nk=v\n\n\n", CTLMSG_INVALID },
		{ "version=1\nk=v\n", CTLMSG_INCOMPLETE },
		{ "version=1", CTLMSG_INCOMPLETE },
		{ "", CTLMSG_INCOMPLETE },
	};
	struct ctlmsg m;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		enum ctlmsg_result got = ctlmsg_decode(
			v[i].msg, strlen(v[i].msg), CTLMSG_REQUEST_MAX, &m, &why);

		if (got != v[i].want)
			fail_msg("vector %zu: got %d, want %d (%s)", i, got,
				 v[i].want, why);
		if (got == CTLMSG_INVALID)
			assert_true(why[0] != '\0');
		ctlmsg_free(&m);
	}
}

/* Every prefix of a message waits for more; only the whole is acted on. */
static void
test_prefixes(void **state)
{
	static const char msg[] = "version=1\ncommand=kick\ntarget=al\\x5cce\n\n";
	size_t len = strlen(msg), i;
	struct ctlmsg m;
	const char *why;

	(void)state;
	for (i = 0; i < len; i++) {
		char *copy = malloc(i ? i : 1);

		memcpy(copy, msg, i);
		assert_int_equal(ctlmsg_decode(copy, i, CTLMSG_REQUEST_MAX, &m,
					       &why),
				 CTLMSG_INCOMPLETE);
		free(copy);
	}
	assert_int_equal(ctlmsg_decode(msg, len, CTLMSG_REQUEST_MAX, &m, &why),
			 CTLMSG_OK);
	assert_string_equal(ctlmsg_get(&m, "target"), "al\\ce");
	ctlmsg_free(&m);
}

static void
test_bounds(void **state)
{
	char *big = malloc(CTLMSG_REQUEST_MAX + 64), *value;
	struct ctlmsg_writer w;
	struct ctlmsg m;
	const char *why;
	size_t n;

	(void)state;
	/* Without an empty line within the bound: refused, not waited on. */
	memset(big, 'a', CTLMSG_REQUEST_MAX + 64);
	memcpy(big, "version=1\nk=", 12);
	assert_int_equal(ctlmsg_decode(big, CTLMSG_REQUEST_MAX - 1,
				       CTLMSG_REQUEST_MAX, &m, &why),
			 CTLMSG_INCOMPLETE);
	assert_int_equal(ctlmsg_decode(big, CTLMSG_REQUEST_MAX,
				       CTLMSG_REQUEST_MAX, &m, &why),
			 CTLMSG_INVALID);
	/* A whole message over the bound. */
	n = CTLMSG_REQUEST_MAX + 2;
	memcpy(big + n - 2, "\n\n", 2);
	assert_int_equal(ctlmsg_decode(big, n, CTLMSG_REQUEST_MAX, &m, &why),
			 CTLMSG_INVALID);
	free(big);

	/* A value at its bound, and one past it. */
	value = malloc(CTLMSG_VALUE_MAX + 2);
	memset(value, 'v', CTLMSG_VALUE_MAX + 1);
	value[CTLMSG_VALUE_MAX] = '\0';
	ctlmsg_writer_init(&w, CTLMSG_ANSWER_MAX);
	ctlmsg_put(&w, "k", value);
	assert_true(ctlmsg_finish(&w, 0, NULL));
	assert_int_equal(ctlmsg_decode(w.buf, w.len, CTLMSG_ANSWER_MAX, &m,
				       &why),
			 CTLMSG_OK);
	ctlmsg_free(&m);
	ctlmsg_writer_free(&w);
	value[CTLMSG_VALUE_MAX] = 'v';
	value[CTLMSG_VALUE_MAX + 1] = '\0';
	ctlmsg_writer_init(&w, CTLMSG_ANSWER_MAX);
	ctlmsg_put(&w, "k", value);
	assert_true(ctlmsg_finish(&w, 0, NULL));
	assert_int_equal(ctlmsg_decode(w.buf, w.len, CTLMSG_ANSWER_MAX, &m,
				       &why),
			 CTLMSG_INVALID);
	ctlmsg_writer_free(&w);
	free(value);

	/* A writer that would pass its bound says so. */
	ctlmsg_writer_init(&w, 32);
	ctlmsg_put(&w, "k", "0123456789012345678901234567890123456789");
	assert_false(ctlmsg_finish(&w, 0, NULL));
	ctlmsg_writer_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
