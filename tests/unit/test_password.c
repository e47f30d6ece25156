// SPDX-License-Identifier: MIT
/*
 * The password policy: zxcvbn's score thresholds at their edges, lengths
 * counted in characters, and a vector table of passwords with what the
 * default policy (12 characters, score 3) says of each: accepted, or
 * refused with the reason it must give (and never a part of the password).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../vpnd/password.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct password_policy defaults = {
	PASSWORD_MIN_LENGTH_DEFAULT, PASSWORD_MIN_SCORE_DEFAULT,
};
static const char *const words[] = { "alice", "vpnd", NULL };

static void
test_score_edges(void **state)
{
	static const struct {
		double bits;
		unsigned int score;
	} v[] = {
		{ 0, 0 },	  { 9.96, 0 },	 { 9.97, 1 },  { 19.93, 1 },
		{ 19.94, 2 },	  { 26.57, 2 },	 { 26.58, 3 }, { 33.21, 3 },
		{ 33.22, 4 },	  { 1000, 4 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++)
		assert_int_equal(password_score(v[i].bits), v[i].score);
}

static void
test_length(void **state)
{
	(void)state;
	assert_int_equal(password_length("", 0), 0);
	assert_int_equal(password_length("abc", 3), 3);
	/* "jörg" and a four-byte emoji: characters, not bytes */
	assert_int_equal(password_length("j\xc3\xb6rg", 5), 4);
	assert_int_equal(password_length("\xf0\x9f\x94\x91x", 5), 2);
}

static void
test_vectors(void **state)
{
	static const struct {
		const char *pw;
		const char *why; /* NULL: accepted; else a prefix */
	} v[] = {
		{ "correct horse battery staple", NULL },
		{ "wrong donkey cable clip", NULL },
		{ "zq8#Lm2!vR4kT", NULL },
		{ "Tr0ub4dor&3", "too short: 11 characters, at least 12" },
		{ "x", "too short: 1 character, at least 12" },
		/* 12 characters of 2 bytes each: long enough */
		{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
		  "too easy to guess (zxcvbn score 1 of 4, at least 3): it "
		  "is mostly repeated characters or words" },
		{ "password1234", "too easy to guess (zxcvbn score" },
		{ "qwertyuiopasdf", "too easy to guess (zxcvbn score" },
		{ "abcdefghijklmnop", "too easy to guess (zxcvbn score 0 of 4, "
				      "at least 3): it is mostly a sequence" },
		{ "alicealicealice", "too easy to guess (zxcvbn score 0 of 4, "
				     "at least 3): it is mostly repeated" },
		{ "a new password", "too easy to guess (zxcvbn score 2 of 4, "
				    "at least 3): it is mostly common words" },
		{ "tab\there is bad", "it contains a control character" },
	};
	char why[PASSWORD_REASON_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		bool ok = password_check(&defaults, v[i].pw, strlen(v[i].pw),
					 words, why);

		if (!v[i].why) {
			assert_true(ok);
			assert_string_equal(why, "");
			continue;
		}
		if (ok || strncmp(why, v[i].why, strlen(v[i].why)) != 0)
			fail_msg("'%s': %s, wanted '%s'", v[i].pw,
				 ok ? "accepted" : why, v[i].why);
		/* one line, and nothing of the password in it */
		assert_null(strchr(why, '\n'));
		if (strlen(v[i].pw) >= 4)
			assert_null(strstr(why, v[i].pw));
	}
}

/* The user's own name counts against a password built on it. */
static void
test_user_words(void **state)
{
	static const struct password_policy p = { 8, 2 };
	static const char *const mine[] = { "zebulon", NULL };
	char why[PASSWORD_REASON_MAX];

	(void)state;
	assert_true(password_check(&p, "zebulon7", 8, NULL, why));
	assert_false(password_check(&p, "zebulon7", 8, mine, why));
	assert_non_null(strstr(why, "the user's or the service's name"));
}

static void
test_policy_off(void **state)
{
	static const struct password_policy p = { 1, 0 };
	char why[PASSWORD_REASON_MAX];

	(void)state;
	assert_true(password_check(&p, "x", 1, NULL, why));
	assert_false(password_check(&p, "", 0, NULL, why));
	assert_string_equal(why, "too short: 0 characters, at least 1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_score_edges),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_user_words),
		cmocka_unit_test(test_policy_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
