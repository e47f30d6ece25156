// SPDX-License-Identifier: MIT
/*
 * users.oath lines as pam_oath and ocserv write them: every time-based
 * type with its step and digits, PINs ("-", "+", a PIN), hex secrets and
 * the optional counter, last code and last time; and a vector table of
 * lines refused, each with the reason it must give, which never quotes
 * the PIN or the secret.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../vpnd/usersfile.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define HEX20 "3132333435363738393031323334353637383930"

static void
test_entries(void **state)
{
	static const struct {
		const char *line, *name;
		unsigned int period_s, digits;
		enum usersfile_pin pin;
		const char *pin_text;
		size_t secret_len;
	} v[] = {
		{ "HOTP/T30 alice - " HEX20, "alice", 30, 6,
		  USERSFILE_PIN_NONE, "", 20 },
		{ "HOTP/T30/6\tbob\t+\t" HEX20 "\r", "bob", 30, 6,
		  USERSFILE_PIN_EXTERNAL, "", 20 },
		{ "  HOTP/T60/8  carol  s3cret  " HEX20 "  0", "carol", 60, 8,
		  USERSFILE_PIN_SET, "s3cret", 20 },
		{ "HOTP/T30/7 dave - 00112233445566778899", "dave", 30, 7,
		  USERSFILE_PIN_NONE, "", 10 },
		{ "HOTP/T1 eve - " HEX20 HEX20 HEX20 "31323334", "eve", 1, 6,
		  USERSFILE_PIN_NONE, "", 64 },
		{ "HOTP/T30 fred - " HEX20 " 12 755224", "fred", 30, 6,
		  USERSFILE_PIN_NONE, "", 20 },
	};
	struct usersfile_entry e;
	char why[USERSFILE_WHY_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		if (usersfile_parse(v[i].line, &e, why) != USERSFILE_ENTRY)
			fail_msg("'%s': %s", v[i].line, why);
		assert_string_equal(e.name, v[i].name);
		assert_int_equal(e.totp.algo, TOTP_SHA1);
		assert_int_equal(e.totp.period_s, v[i].period_s);
		assert_int_equal(e.totp.digits, v[i].digits);
		assert_int_equal(e.pin_kind, v[i].pin);
		assert_string_equal(e.pin, v[i].pin_text);
		assert_int_equal(e.pin_len, strlen(v[i].pin_text));
		assert_int_equal(e.secret_len, v[i].secret_len);
		assert_false(e.has_last_use);
	}
	assert_int_equal(usersfile_parse("HOTP/T30 a - " HEX20, &e, why),
			 USERSFILE_ENTRY);
	assert_memory_equal(e.secret, "12345678901234567890", 20);
}

/* liboath writes the time of the last code in local time with an 'L'. */
static void
test_last_use(void **state)
{
	struct usersfile_entry e;
	char why[USERSFILE_WHY_MAX];

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(usersfile_parse("HOTP/T30 a - " HEX20 " 0 123456 "
					 "2023-11-14T22:13:20L",
					 &e, why),
			 USERSFILE_ENTRY);
	assert_true(e.has_last_use);
	assert_int_equal(e.last_use_unix_s, 1700000000);
	setenv("TZ", "Europe/Paris", 1);
	tzset();
	assert_int_equal(usersfile_parse("HOTP/T30 a - " HEX20 " 0 123456 "
					 "2023-11-14T23:13:20L",
					 &e, why),
			 USERSFILE_ENTRY);
	assert_int_equal(e.last_use_unix_s, 1700000000);
	unsetenv("TZ");
	tzset();
}

static void
test_nothing(void **state)
{
	static const char *const v[] = { "", "   ", "\t\r", "# a comment",
					 "  # a comment of more than seven "
					 "words, as comments are",
					 "#HOTP/T30 alice - " HEX20 };
	struct usersfile_entry e;
	char why[USERSFILE_WHY_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++)
		assert_int_equal(usersfile_parse(v[i], &e, why),
				 USERSFILE_NOTHING);
}

static void
test_refused(void **state)
{
	static const struct {
		const char *line, *why;
	} v[] = {
		{ "HOTP alice - " HEX20, "HOTP is a counter-based (HOTP) "
					 "token: vpnd checks time-based codes "
					 "only" },
		{ "HOTP/E alice - " HEX20, "HOTP/E is a counter-based" },
		{ "HOTP/E/8 alice - " HEX20, "HOTP/E/8 is a counter-based" },
		{ "TOTP alice - " HEX20, "'TOTP' is not a token type" },
		{ "HOTP/T30/9 alice - " HEX20, "'HOTP/T30/9' is not a token" },
		{ "HOTP/T30/5 alice - " HEX20, "'HOTP/T30/5' is not a token" },
		{ "HOTP/T0 alice - " HEX20, "'HOTP/T0' is not a token" },
		{ "HOTP/T3601 alice - " HEX20, "'HOTP/T3601' is not a token" },
		{ "HOTP/T30x alice - " HEX20, "'HOTP/T30x' is not a token" },
		{ "HOTP/T30/ alice - " HEX20, "'HOTP/T30/' is not a token" },
		{ "HOTP/T30/6/6 alice - " HEX20, "'HOTP/T30/6/6' is not a" },
		{ "HOTP/T30\x01 alice - " HEX20, "'HOTP/T30?' is not a token" },
		{ "HOTP/T30", "no user name" },
		{ "HOTP/T30 alice", "no PIN (use '-' for none)" },
		{ "HOTP/T30 alice -", "no secret" },
		{ "HOTP/T30 alice - 313233343536373839", "the secret is 9 "
							 "bytes: at least 10" },
		{ "HOTP/T30 alice - 3132333435363738393", "the secret is not "
							  "an even number" },
		{ "HOTP/T30 alice - 313233343536373839zz", "the secret is not "
							   "an even number" },
		{ "HOTP/T30 alice - " HEX20 HEX20 HEX20 "3132333435",
		  "the secret is longer than 64 bytes" },
		{ "HOTP/T30 alice - " HEX20 " x1", "'x1' is not a counter" },
		{ "HOTP/T30 alice - " HEX20 " 0 1 yesterday",
		  "'yesterday' is not a time of last use" },
		{ "HOTP/T30 alice - " HEX20 " 0 1 2023-11-14T22:13:20",
		  "is not a time of last use" },
		{ "HOTP/T30 alice - " HEX20 " 0 1 2023-11-14T22:13:20L x",
		  "more than 7 fields" },
		{ "HOTP/T30 "
		  "a-name-that-is-far-too-long-for-a-login-a-name-that-is-far-"
		  "too-long - " HEX20, "the user name is longer than 64" },
	};
	struct usersfile_entry e;
	char why[USERSFILE_WHY_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		if (usersfile_parse(v[i].line, &e, why) != USERSFILE_BAD)
			fail_msg("accepted: '%s'", v[i].line);
		if (strncmp(why, v[i].why, strlen(v[i].why)) != 0 &&
		    !strstr(why, v[i].why))
			fail_msg("'%s': '%s', wanted '%s'", v[i].line, why,
				 v[i].why);
		assert_null(strstr(why, "3132"));
		/* nothing kept of a refused line */
		assert_int_equal(e.secret_len, 0);
		assert_int_equal(e.name[0], '\0');
	}
}

/* A PIN is the password: never in a reason, however the line fails. */
static void
test_pin_not_shown(void **state)
{
	static const char *const v[] = {
		"HOTP/T30 alice hunter22 313233",
		"HOTP/T30 alice hunter22 " HEX20 " zz",
		"HOTP/T30 alice hunter22 " HEX20 " 0 0 never",
	};
	char long_pin[600], line[800], big[USERSFILE_LINE_MAX + 2];
	struct usersfile_entry e;
	char why[USERSFILE_WHY_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		assert_int_equal(usersfile_parse(v[i], &e, why),
				 USERSFILE_BAD);
		assert_null(strstr(why, "hunter"));
	}
	memset(long_pin, 'p', 256);
	long_pin[256] = '\0';
	snprintf(line, sizeof(line), "HOTP/T30 alice %s " HEX20, long_pin);
	assert_int_equal(usersfile_parse(line, &e, why), USERSFILE_BAD);
	assert_string_equal(why, "the PIN is longer than 255 bytes");
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	assert_int_equal(usersfile_parse(line, &e, why), USERSFILE_BAD);
	assert_string_equal(why, "'xxxxxxxxxxxxxxxxxxxxxxxx' is not a token "
				 "type (HOTP/T30, HOTP/T60/8: a step of "
				 "1-3600 s, 6-8 digits)");
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(usersfile_parse(big, &e, why), USERSFILE_BAD);
	assert_string_equal(why, "longer than 1024 bytes");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_last_use),
		cmocka_unit_test(test_nothing),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_pin_not_shown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
