// SPDX-License-Identifier: MIT
/*
 * A users.oath line (see usersfile.h), read field by field as liboath's
 * usersfile.c reads it, but strictly: where liboath skips a line it does
 * not understand, an import must say which line and why, since a user
 * silently left out could not log in afterwards. It only parses: whether
 * a name is acceptable, or a PIN good enough for a password, is the
 * importer's decision. Reasons never quote a PIN or a secret.
 */
#include "usersfile.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define FIELDS_MAX 7
#define STEP_MAX_S 3600
#define SHOWN_MAX 24 /* of a field quoted in a reason */
#define TIME_FORMAT "%Y-%m-%dT%H:%M:%SL" /* liboath's, in local time */

/* An unsigned decimal of at most `max`, digits only. */
static bool
parse_number(const char *text, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!*text)
		return false;
	for (; *text; text++) {
		if (!isdigit((unsigned char)*text))
			return false;
		v = v * 10 + (unsigned long)(*text - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* "HOTP/T30", "HOTP/T60/8": the step and the digits. */
static bool
parse_totp_type(const char *type, struct totp_params *p)
{
	char step[8], digits[4], extra;
	unsigned long s, d = 6;
	int n = sscanf(type, "HOTP/T%7[0-9]/%3[0-9]%c", step, digits, &extra);

	if (n < 1 || n > 2 || !parse_number(step, STEP_MAX_S, &s) || s == 0)
		return false;
	if (n == 1 && strlen(type) != strlen("HOTP/T") + strlen(step))
		return false;
	if (n == 2 && (!parse_number(digits, 8, &d) || d < 6))
		return false;
	p->algo = TOTP_SHA1;
	p->period_s = (unsigned int)s;
	p->digits = (unsigned int)d;
	return true;
}

static bool
is_counter_type(const char *type)
{
	return strcmp(type, "HOTP") == 0 || strcmp(type, "HOTP/E") == 0 ||
	       strncmp(type, "HOTP/E/", 7) == 0;
}

static enum usersfile_result
bad(char *why, const char *fmt, const char *field)
{
	char shown[SHOWN_MAX + 1];

	log_sanitize(shown, sizeof(shown), field, strlen(field));
	snprintf(why, USERSFILE_WHY_MAX, fmt, shown);
	return USERSFILE_BAD;
}

static enum usersfile_result
parse_type(const char *type, struct usersfile_entry *e, char *why)
{
	if (is_counter_type(type))
		return bad(why, "%s is a counter-based (HOTP) token: vpnd "
			   "checks time-based codes only (HOTP/T30, "
			   "HOTP/T60/8...)", type);
	if (!parse_totp_type(type, &e->totp))
		return bad(why, "'%s' is not a token type (HOTP/T30, "
			   "HOTP/T60/8: a step of 1-3600 s, 6-8 digits)",
			   type);
	return USERSFILE_ENTRY;
}

static enum usersfile_result
parse_pin(const char *pin, struct usersfile_entry *e, char *why)
{
	size_t len = strlen(pin);

	if (strcmp(pin, "-") == 0) {
		e->pin_kind = USERSFILE_PIN_NONE;
	} else if (strcmp(pin, "+") == 0) {
		e->pin_kind = USERSFILE_PIN_EXTERNAL;
	} else if (len > LOGIN_TEXT_MAX) {
		snprintf(why, USERSFILE_WHY_MAX, "the PIN is longer than %d "
			 "bytes", LOGIN_TEXT_MAX);
		return USERSFILE_BAD;
	} else {
		e->pin_kind = USERSFILE_PIN_SET;
		memcpy(e->pin, pin, len + 1);
		e->pin_len = len;
	}
	return USERSFILE_ENTRY;
}

static enum usersfile_result
parse_secret(const char *hex, struct usersfile_entry *e, char *why)
{
	size_t len = strlen(hex), bin_len = 0;
	const char *end = NULL;

	if (len % 2 || sodium_hex2bin(e->secret, sizeof(e->secret), hex, len,
				      NULL, &bin_len, &end) != 0 ||
	    end != hex + len) {
		if (len > 2 * sizeof(e->secret))
			snprintf(why, USERSFILE_WHY_MAX, "the secret is longer "
				 "than %zu bytes", sizeof(e->secret));
		else
			snprintf(why, USERSFILE_WHY_MAX, "the secret is not an "
				 "even number of hex digits");
		return USERSFILE_BAD;
	}
	if (bin_len < USERSFILE_SECRET_MIN) {
		snprintf(why, USERSFILE_WHY_MAX, "the secret is %zu bytes: at "
			 "least %d (80 bits)", bin_len, USERSFILE_SECRET_MIN);
		return USERSFILE_BAD;
	}
	e->secret_len = bin_len;
	return USERSFILE_ENTRY;
}

/* LAST-TIME as liboath writes it, local time with an 'L'. */
static enum usersfile_result
parse_last_use(const char *text, struct usersfile_entry *e, char *why)
{
	struct tm tm;
	const char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	end = strptime(text, TIME_FORMAT, &tm);
	tm.tm_isdst = -1;
	if (!end || *end || (t = mktime(&tm)) == (time_t)-1 || t < 0)
		return bad(why, "'%s' is not a time of last use "
			   "(2024-05-01T12:00:00L)", text);
	e->has_last_use = true;
	e->last_use_unix_s = (uint64_t)t;
	return USERSFILE_ENTRY;
}

/* The fields after the type, in order; `n` fields in all. */
static enum usersfile_result
parse_fields(char **f, size_t n, struct usersfile_entry *e, char *why)
{
	enum usersfile_result r = parse_type(f[0], e, why);
	unsigned long counter;

	if (r != USERSFILE_ENTRY)
		return r;
	if (n < 4) {
		snprintf(why, USERSFILE_WHY_MAX, "%s", n < 2 ? "no user name"
				 : n < 3 ? "no PIN (use '-' for none)"
					 : "no secret");
		return USERSFILE_BAD;
	}
	if (strlen(f[1]) > LOGIN_USERNAME_MAX) {
		snprintf(why, USERSFILE_WHY_MAX, "the user name is longer "
			 "than %d bytes", LOGIN_USERNAME_MAX);
		return USERSFILE_BAD;
	}
	snprintf(e->name, sizeof(e->name), "%s", f[1]);
	r = parse_pin(f[2], e, why);
	if (r == USERSFILE_ENTRY)
		r = parse_secret(f[3], e, why);
	/* A counter only matters to HOTP, but liboath insists on digits. */
	if (r == USERSFILE_ENTRY && n > 4 &&
	    !parse_number(f[4], ~0UL, &counter))
		return bad(why, "'%s' is not a counter", f[4]);
	if (r == USERSFILE_ENTRY && n > 6)
		r = parse_last_use(f[6], e, why);
	return r;
}

enum usersfile_result
usersfile_parse(const char *line, struct usersfile_entry *e, char *why)
{
	char copy[USERSFILE_LINE_MAX + 1], *f[FIELDS_MAX + 1], *save = NULL;
	enum usersfile_result r = USERSFILE_NOTHING;
	size_t n = 0, len = strlen(line);

	memset(e, 0, sizeof(*e));
	why[0] = '\0';
	if (len > USERSFILE_LINE_MAX) {
		snprintf(why, USERSFILE_WHY_MAX, "longer than %d bytes",
			 USERSFILE_LINE_MAX);
		return USERSFILE_BAD;
	}
	memcpy(copy, line, len + 1);
	if (copy[strspn(copy, " \t\r")] == '#')
		goto out;
	for (char *p = strtok_r(copy, " \t\r", &save); p;
	     p = strtok_r(NULL, " \t\r", &save)) {
		if (n == FIELDS_MAX) {
			snprintf(why, USERSFILE_WHY_MAX, "more than %d fields",
				 FIELDS_MAX);
			r = USERSFILE_BAD;
			goto out;
		}
		f[n++] = p;
	}
	if (n == 0)
		goto out;
	r = parse_fields(f, n, e, why);
out:
	sodium_memzero(copy, sizeof(copy));
	if (r != USERSFILE_ENTRY)
		sodium_memzero(e, sizeof(*e));
	return r;
}
