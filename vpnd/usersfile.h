/* SPDX-License-Identifier: MIT */
/*
 * One line of a users.oath file, the format of liboath's usersfile
 * (pam_oath, ocserv): whitespace-separated fields
 *
 *	TYPE USER PIN SECRET [COUNTER [LAST-OTP [LAST-TIME]]]
 *
 * TYPE is HOTP, HOTP/E or HOTP/E/<digits> for counter-based tokens and
 * HOTP/T<step>[/<digits>] (HOTP/T30, HOTP/T60/8) for time-based ones; PIN
 * is the token's password, "-" for none or "+" when something else checks
 * it; SECRET is hex; LAST-TIME (liboath writes it) is local time as
 * 2024-05-01T12:00:00L. Lines that are empty or start with '#' carry
 * nothing. Only time-based tokens are accepted: vpnd checks TOTP codes.
 * Pure, apart from mktime() reading the local time zone for LAST-TIME.
 */
#ifndef VPND_USERSFILE_H
#define VPND_USERSFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "login.h"
#include "totp.h"

#define USERSFILE_LINE_MAX 1024
#define USERSFILE_SECRET_MIN 10 /* 80 bits, the least authenticator apps
				 * are given */
#define USERSFILE_WHY_MAX 160

enum usersfile_pin {
	USERSFILE_PIN_NONE,     /* "-" */
	USERSFILE_PIN_EXTERNAL, /* "+": another module checked a password */
	USERSFILE_PIN_SET,      /* the PIN itself */
};

struct usersfile_entry {
	char name[LOGIN_USERNAME_MAX + 1];
	struct totp_params totp;          /* SHA1, digits, period from TYPE */
	enum usersfile_pin pin_kind;
	char pin[LOGIN_TEXT_MAX + 1];
	size_t pin_len;
	uint8_t secret[TOTP_SECRET_MAX];
	size_t secret_len;
	bool has_last_use;                /* LAST-TIME, as a Unix time */
	uint64_t last_use_unix_s;
};

enum usersfile_result {
	USERSFILE_ENTRY,   /* *e holds a time-based token */
	USERSFILE_NOTHING, /* an empty line or a comment */
	USERSFILE_BAD,     /* `why` says what is wrong, in one line, without
			    * quoting the PIN or the secret */
};

/*
 * Parses one line (its newline removed; at most USERSFILE_LINE_MAX
 * bytes). `why` has room for USERSFILE_WHY_MAX bytes. The caller wipes
 * *e, which holds a PIN and a secret.
 */
enum usersfile_result usersfile_parse(const char *line,
				      struct usersfile_entry *e, char *why);

#endif
