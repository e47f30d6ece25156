// SPDX-License-Identifier: MIT
/*
 * The password policy (see password.h) over zxcvbn-c. zxcvbn-c gives an
 * entropy estimate and the parts it recognised (dictionary words, keyboard
 * runs, dates, repeats...) but, unlike the JavaScript original, neither a
 * score nor advice: both are derived here, the score with the reference
 * thresholds, the advice from the kinds of parts that cover most of the
 * password. It must not print, log or keep the password, nor quote any
 * part of it in a reason (reasons reach terminals and scripts' logs).
 */
#include "password.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zxcvbn.h>

#include "login.h"

/* log2 of 10^3, 10^6, 10^8 and 10^10 guesses: zxcvbn's score bounds. */
static const double score_bits[PASSWORD_SCORE_MAX] = {
	9.965784, 19.931569, 26.575425, 33.219281,
};

/* What a kind of part says to the person choosing (indexed by
 * ZxcTypeMatch_t; NULL: nothing to say, e.g. random characters). */
static const char *const kind_text[] = {
	[DICTIONARY_MATCH] = "common words or names",
	[DICT_LEET_MATCH] = "common words with predictable substitutions",
	[USER_MATCH] = "the user's or the service's name",
	[REPEATS_MATCH] = "repeated characters or words",
	[SEQUENCE_MATCH] = "a sequence such as abc or 1234",
	[SPATIAL_MATCH] = "a keyboard pattern such as qwerty",
	[DATE_MATCH] = "a date",
	[YEAR_MATCH] = "a year",
};

#define KINDS (sizeof(kind_text) / sizeof(kind_text[0]))

unsigned int
password_score(double bits)
{
	unsigned int score = 0;

	while (score < PASSWORD_SCORE_MAX && bits >= score_bits[score])
		score++;
	return score;
}

size_t
password_length(const char *pw, size_t len)
{
	size_t n = 0, i;

	for (i = 0; i < len; i++)
		if (((unsigned char)pw[i] & 0xc0) != 0x80)
			n++;
	return n;
}

static bool
has_control(const char *pw, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f)
			return true;
	return false;
}

/* The kind of part a match is, repeated parts counted as repeats. */
static unsigned int
match_kind(const ZxcMatch_t *m)
{
	if (m->Type & MULTIPLE_MATCH)
		return REPEATS_MATCH;
	if (m->Type == USER_LEET_MATCH)
		return USER_MATCH;
	return (unsigned int)m->Type < KINDS ? (unsigned int)m->Type : 0;
}

/*
 * "common words or names and a year": the two kinds of part covering the
 * most characters, or advice on length when zxcvbn saw only random
 * characters (too few of them).
 */
static void
describe(const ZxcMatch_t *info, char *out, size_t cap)
{
	int covered[KINDS] = { 0 };
	unsigned int best[2] = { 0, 0 }, k;
	const ZxcMatch_t *m;

	for (m = info; m; m = m->Next) {
		k = match_kind(m);
		if (kind_text[k] && m->Length > 0)
			covered[k] += m->Length;
	}
	for (k = 0; k < KINDS; k++) {
		if (!kind_text[k])
			continue;
		if (covered[k] > covered[best[0]]) {
			best[1] = best[0];
			best[0] = k;
		} else if (covered[k] > covered[best[1]]) {
			best[1] = k;
		}
	}
	if (!covered[best[0]])
		snprintf(out, cap, "too few characters to be guessed only by "
				   "trying them all; use a longer password");
	else if (!covered[best[1]])
		snprintf(out, cap, "it is mostly %s; add more words, and "
				   "uncommon ones", kind_text[best[0]]);
	else
		snprintf(out, cap, "it is mostly %s and %s; add more words, "
				   "and uncommon ones", kind_text[best[0]],
			 kind_text[best[1]]);
}

bool
password_check(const struct password_policy *p, const char *pw, size_t len,
	       const char *const *words, char *why)
{
	char text[LOGIN_TEXT_MAX + 1], advice[160];
	size_t chars = password_length(pw, len);
	ZxcMatch_t *info = NULL;
	unsigned int score;
	bool ok = false;
	double bits;

	why[0] = '\0';
	if (has_control(pw, len)) {
		snprintf(why, PASSWORD_REASON_MAX, "it contains a control "
			 "character, which not every keyboard can type");
		goto out;
	}
	if (chars < p->min_length) {
		snprintf(why, PASSWORD_REASON_MAX, "too short: %zu "
			 "character%s, at least %u", chars,
			 chars == 1 ? "" : "s", p->min_length);
		goto out;
	}
	if (p->min_score == 0 || len >= sizeof(text)) {
		ok = true;
		goto out;
	}
	memcpy(text, pw, len);
	text[len] = '\0';
	/* zxcvbn-c takes a NULL-terminated list it does not change. */
	bits = ZxcvbnMatch(text, (const char **)words, &info);
	score = password_score(bits);
	if (score >= p->min_score) {
		ok = true;
		goto out;
	}
	describe(info, advice, sizeof(advice));
	snprintf(why, PASSWORD_REASON_MAX, "too easy to guess (zxcvbn score "
		 "%u of %d, at least %u): %s", score, PASSWORD_SCORE_MAX,
		 p->min_score, advice);
out:
	if (info)
		ZxcvbnFreeInfo(info);
	sodium_memzero(text, sizeof(text));
	return ok;
}
