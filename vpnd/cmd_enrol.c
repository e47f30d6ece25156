// SPDX-License-Identifier: MIT
/*
 * Enrolment, as `user add`, `user totp-reset` and `user import-oath` share
 * it: new passwords read from a person or a script and held to the
 * password policy (password.c) before they are hashed; a new TOTP secret
 * shown once (URI, base32, QR code on a terminal, or JSON for scripts);
 * and the confirmation that the app really holds it, a code checked as
 * vpnd checks one (totp.c) before anything is stored. It prints for the
 * administrator and stores nothing: the commands do. Secrets and
 * passwords are wiped here once used, and never printed but the new
 * secret, once.
 */
#include <ctype.h>
#include <errno.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd_user.h"
#include "login.h"
#include "password.h"
#include "totp.h"
#include "tty.h"
#include "vpnctl.h"

#define PASSWORD_MAX LOGIN_TEXT_MAX
#define QR_QUIET 4 /* light modules around the code, as the standard asks */
#define CONFIRM_TRIES 3
#define CODE_MAX 32 /* a line of input for a code, spaces included */
#define URI_MAX 1024

_Static_assert(USERDB_HASH_MAX >= crypto_pwhash_STRBYTES,
	       "a password hash must fit the store's field");

/* ---- passwords -------------------------------------------------------------- */

/*
 * Reads one password: hidden after a prompt on a terminal, else one line
 * of stdin without a prompt (for scripts). 0 or, after printing, -1.
 */
static int
read_password(bool is_tty, const char *prompt, char *pw, size_t *len)
{
	enum tty_result r =
		is_tty ? tty_read_hidden(prompt, -1, pw, PASSWORD_MAX + 1, len)
		       : tty_read_line(STDIN_FILENO, -1, pw, PASSWORD_MAX + 1,
				       len);

	switch (r) {
	case TTY_OK:
		if (*len > 0)
			return 0;
		vpnctl_error("the password is empty");
		break;
	case TTY_EOF:
		vpnctl_error("no password given on standard input");
		break;
	case TTY_TOO_LONG:
		vpnctl_error("the password is longer than %d bytes",
			     PASSWORD_MAX);
		break;
	case TTY_INTERRUPTED:
		vpnctl_error("interrupted");
		break;
	default:
		vpnctl_error("cannot read the password: %s", strerror(errno));
		break;
	}
	return -1;
}

bool
cmd_enrol_acceptable(const char *name, const char *pw, size_t len,
		     char *why)
{
	const struct vpnd_config *c = vpnctl_config();
	const char *words[] = { name, c ? c->totp_issuer : NULL, NULL };
	struct password_policy pol;

	if (!c) {
		snprintf(why, PASSWORD_REASON_MAX, "no configuration");
		return false;
	}
	pol.min_length = c->password_min_length;
	pol.min_score = c->password_min_score;
	return password_check(&pol, pw, len, words, why);
}

int
cmd_enrol_hash(const char *name, const char *what, const char *pw,
	       size_t len, char hash[USERDB_HASH_MAX])
{
	char why[PASSWORD_REASON_MAX];

	if (!cmd_enrol_acceptable(name, pw, len, why))
		return vpnctl_error("%s of '%s' is refused: %s", what, name,
				    why);
	if (crypto_pwhash_str(hash, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return vpnctl_error("cannot hash the password (out of "
				    "memory?)");
	return VPNCTL_EXIT_OK;
}

int
cmd_enrol_password(const char *name, char hash[USERDB_HASH_MAX])
{
	char pw[PASSWORD_MAX + 1], again[PASSWORD_MAX + 1], prompt[128];
	bool is_tty = tty_is_interactive();
	size_t len = 0, again_len = 0;
	int ret = VPNCTL_EXIT_FAIL;

	snprintf(prompt, sizeof(prompt), "New password for %s: ", name);
	if (read_password(is_tty, prompt, pw, &len) < 0)
		goto out;
	if (is_tty) {
		if (read_password(is_tty, "Again: ", again, &again_len) < 0)
			goto out;
		if (len != again_len || sodium_memcmp(pw, again, len) != 0) {
			vpnctl_error("the passwords do not match");
			goto out;
		}
	}
	ret = cmd_enrol_hash(name, "the password", pw, len, hash);
out:
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(again, sizeof(again));
	return ret;
}

/* ---- showing a new secret --------------------------------------------------- */

static bool
qr_dark(const QRcode *qr, int x, int y)
{
	x -= QR_QUIET;
	y -= QR_QUIET;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return false;
	return qr->data[y * qr->width + x] & 1;
}

/*
 * Two modules per character cell with Unicode half blocks, light modules
 * drawn in white on black, so the code scans on dark and light terminals
 * alike.
 */
static void
print_qr(const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	int size, x, y;

	if (!qr) {
		vpnctl_error("cannot draw the QR code; use the secret above");
		return;
	}
	size = qr->width + 2 * QR_QUIET;
	for (y = 0; y < size; y += 2) {
		fputs("\033[40;97m", stdout);
		for (x = 0; x < size; x++) {
			bool top = !qr_dark(qr, x, y);
			bool bottom = !qr_dark(qr, x, y + 1);

			fputs(top && bottom ? "\u2588"
			      : top	    ? "\u2580"
			      : bottom	    ? "\u2584"
					    : " ",
			      stdout);
		}
		fputs("\033[0m\n", stdout);
	}
	sodium_memzero(qr->data, (size_t)qr->width * (size_t)qr->width);
	QRcode_free(qr);
}

static void
print_json(const struct userdb_user *u, const char *issuer, const char *uri,
	   const char *b32, bool will_confirm)
{
	printf("{\"name\": ");
	vpnctl_json_string(stdout, u->name);
	printf(", \"issuer\": ");
	vpnctl_json_string(stdout, issuer);
	printf(", \"uri\": ");
	vpnctl_json_string(stdout, uri);
	printf(", \"secret\": \"%s\", \"algorithm\": \"%s\", \"digits\": %u, "
	       "\"period_s\": %u, \"confirm\": %s}\n",
	       b32, totp_algo_name(u->totp.algo), u->totp.digits,
	       u->totp.period_s, will_confirm ? "true" : "false");
}

int
cmd_enrol_show(const struct userdb_user *u, bool is_json, bool will_confirm)
{
	const struct vpnd_config *c = vpnctl_config();
	char uri[URI_MAX], b32[TOTP_SECRET_MAX * 2];
	int ret = VPNCTL_EXIT_FAIL;

	if (!c)
		return VPNCTL_EXIT_FAIL;
	if (!totp_uri(uri, sizeof(uri), c->totp_issuer, u->name, u->totp_secret,
		      u->totp_secret_len, &u->totp) ||
	    !totp_base32(b32, sizeof(b32), u->totp_secret, u->totp_secret_len)) {
		vpnctl_error("cannot encode the TOTP secret");
		goto out;
	}
	if (is_json) {
		print_json(u, c->totp_issuer, uri, b32, will_confirm);
	} else {
		printf("%s\nsecret: %s\n", uri, b32);
		if (isatty(STDOUT_FILENO) == 1)
			print_qr(uri);
	}
	if (u->totp.algo != TOTP_SHA1 || u->totp.digits != 6 ||
	    u->totp.period_s != 30)
		fprintf(stderr, "vpnctl: note: some authenticator apps "
				"support only SHA1, 6 digits and 30 s\n");
	/* A script waiting for the secret before it answers must get it. */
	fflush(stdout);
	ret = VPNCTL_EXIT_OK;
out:
	sodium_memzero(uri, sizeof(uri));
	sodium_memzero(b32, sizeof(b32));
	return ret;
}

/* ---- confirming it ---------------------------------------------------------- */

/* The digits of a typed code, spaces dropped ("123 456", as apps show
 * it); false if anything else is in it or the count is wrong. */
static bool
code_digits(const char *line, unsigned int digits, char *out, size_t cap)
{
	size_t n = 0;

	for (; *line; line++) {
		if (*line == ' ')
			continue;
		if (!isdigit((unsigned char)*line) || n + 1 >= cap)
			return false;
		out[n++] = *line;
	}
	out[n] = '\0';
	return n == digits;
}

enum answer { ANSWER_MATCH, ANSWER_WRONG, ANSWER_GIVE_UP };

#define WHY_MAX 96

/* One code read and checked; `why` says why it is not a match. */
static enum answer
ask_code(const struct userdb_user *u, bool is_tty, unsigned int window,
	 int64_t *step, char why[WHY_MAX])
{
	char line[CODE_MAX], code[CODE_MAX];
	enum answer a = ANSWER_GIVE_UP;
	enum tty_result r;
	size_t len = 0;
	int off;

	if (is_tty)
		fputs("Code from the app: ", stderr);
	r = tty_read_line(STDIN_FILENO, -1, line, sizeof(line), &len);
	if (r == TTY_EOF || (r == TTY_OK && len == 0)) {
		snprintf(why, WHY_MAX, "no code given%s",
			 is_tty ? "" : " on standard input (or use "
				       "--no-confirm)");
	} else if (r == TTY_INTERRUPTED) {
		snprintf(why, WHY_MAX, "interrupted");
	} else if (r == TTY_ERROR) {
		snprintf(why, WHY_MAX, "cannot read the code: %s",
			 strerror(errno));
	} else if (r == TTY_TOO_LONG ||
		   !code_digits(line, u->totp.digits, code, sizeof(code))) {
		snprintf(why, WHY_MAX, "that is not a code of %u digits",
			 u->totp.digits);
		a = ANSWER_WRONG;
	} else if (totp_match(u->totp_secret, u->totp_secret_len, &u->totp,
			      (uint64_t)time(NULL), window, code, step,
			      &off)) {
		a = ANSWER_MATCH;
	} else {
		snprintf(why, WHY_MAX, "the code does not match (is the "
			 "phone's clock right?)");
		a = ANSWER_WRONG;
	}
	sodium_memzero(line, sizeof(line));
	sodium_memzero(code, sizeof(code));
	return a;
}

int
cmd_enrol_confirm(const struct userdb_user *u, const char *outcome,
		  int64_t *step_out)
{
	const struct vpnd_config *c = vpnctl_config();
	bool is_tty = tty_is_interactive();
	int tries = is_tty ? CONFIRM_TRIES : 1;
	enum answer a = ANSWER_WRONG;
	char why[WHY_MAX] = "";

	if (!c)
		return VPNCTL_EXIT_FAIL;
	while (tries-- > 0 && a == ANSWER_WRONG) {
		a = ask_code(u, is_tty, c->totp_window, step_out, why);
		if (a == ANSWER_WRONG && tries > 0)
			fprintf(stderr, "%s; try again (%d left)\n", why,
				tries);
	}
	if (a == ANSWER_MATCH)
		return VPNCTL_EXIT_OK;
	return vpnctl_error("%s: %s", why, outcome);
}
