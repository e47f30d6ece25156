/* SPDX-License-Identifier: MIT */
/*
 * The password policy vpnctl applies wherever it sets a password (user
 * add, user passwd, user import-oath): a minimum length in characters and
 * a minimum strength as zxcvbn estimates it (Debian's libzxcvbn, the C
 * port), with a one-line reason when a password falls short. Pure: no
 * I/O, no clock; the password is only read, never kept or printed.
 */
#ifndef VPND_PASSWORD_H
#define VPND_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_SCORE_MAX 4
#define PASSWORD_MIN_LENGTH_DEFAULT 12
#define PASSWORD_MIN_SCORE_DEFAULT 3
#define PASSWORD_REASON_MAX 256

struct password_policy {
	unsigned int min_length; /* characters (UTF-8 code points) */
	unsigned int min_score;  /* 0-4 as zxcvbn scores; 0: no estimate */
};

/*
 * zxcvbn's score for an estimate of log2(guesses) bits, with the
 * thresholds of the reference zxcvbn: 0 below 10^3 guesses, 1 below
 * 10^6, 2 below 10^8, 3 below 10^10, else 4.
 */
unsigned int password_score(double bits);

/* Characters in the first len bytes of pw: UTF-8 code points (bytes that
 * do not continue a sequence). */
size_t password_length(const char *pw, size_t len);

/*
 * True if pw (len bytes) meets the policy. Otherwise false, and `why`
 * (at least PASSWORD_REASON_MAX bytes) says why in one line without
 * quoting the password: too short, a control character, or too easy to
 * guess with its score and what zxcvbn found in it (common words, a
 * keyboard pattern, a date...). `words` (NULL-terminated, or NULL) are
 * names a guesser would try first: the user's, the service's.
 */
bool password_check(const struct password_policy *p, const char *pw,
		    size_t len, const char *const *words, char *why)
	__attribute__((warn_unused_result));

#endif
