// SPDX-License-Identifier: MIT
/*
 * `vpnctl user import-oath [--ignore-pins] FILE`: the users of a pam_oath
 * or ocserv users.oath file (usersfile.c reads a line), moved into the
 * store with their TOTP secrets, so each keeps the authenticator it has.
 * Every line is checked before anything is stored, every problem is
 * named by file and line, and the accounts are stored in one transaction:
 * all of them or none.
 *
 * Passwords: a line's PIN (what pam_oath asked before the code) becomes
 * the account's password when it meets the password policy; a PIN that
 * does not is an error, unless --ignore-pins. An account without a usable
 * password ("-", "+", or --ignore-pins) is stored disabled, with the hash
 * of a random password nobody knows, until `user passwd` and `user
 * enable`: vpnd always asks for both a password and a code. The last time
 * liboath recorded becomes the last TOTP step used, so the code used last
 * with pam_oath cannot be replayed here. PINs and secrets are wiped once
 * stored and never printed.
 */
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd_user.h"
#include "password.h"
#include "usersfile.h"
#include "vpnctl.h"

#define ERRORS_SHOWN_MAX 20
#define RANDOM_PASSWORD_LEN 32

/* Where an account came from, and its PIN until it is hashed. */
struct origin {
	size_t line;
	bool has_pin;
	char pin[LOGIN_TEXT_MAX + 1];
	size_t pin_len;
};

/* The accounts to store (u, as the store takes them) and their origins. */
struct import {
	struct userdb_user *u;
	struct origin *o;
	size_t n, cap;
};

struct reader {
	const char *path;
	bool ignore_pins;
	struct userdb *db;
	uint64_t now;
	unsigned int errors;
};

/* "users.oath:7: ..." on stderr, the first ERRORS_SHOWN_MAX of them. */
static void __attribute__((format(printf, 3, 4)))
line_error(struct reader *r, size_t line, const char *fmt, ...)
{
	va_list ap;

	if (r->errors++ >= ERRORS_SHOWN_MAX)
		return;
	fprintf(stderr, "vpnctl: %s:%zu: ", r->path, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
import_free(struct import *im)
{
	if (im->u)
		sodium_memzero(im->u, im->cap * sizeof(*im->u));
	if (im->o)
		sodium_memzero(im->o, im->cap * sizeof(*im->o));
	free(im->u);
	free(im->o);
	memset(im, 0, sizeof(*im));
}

/* Both arrays, moved to bigger ones: the old copies are wiped. */
static int
import_grow(struct import *im)
{
	size_t cap = im->cap ? im->cap * 2 : 16, n = im->n;
	struct userdb_user *u = calloc(cap, sizeof(*u));
	struct origin *o = calloc(cap, sizeof(*o));

	if (!u || !o) {
		free(u);
		free(o);
		return -ENOMEM;
	}
	if (n) {
		memcpy(u, im->u, n * sizeof(*u));
		memcpy(o, im->o, n * sizeof(*o));
	}
	import_free(im);
	im->u = u;
	im->o = o;
	im->n = n;
	im->cap = cap;
	return 0;
}

static bool
user_stored(struct userdb *db, const char *name)
{
	struct userdb_user u;
	bool found = userdb_user_get(db, name, &u) == 0;

	sodium_memzero(&u, sizeof(u));
	return found;
}

/* The line's account may be stored: a valid name, seen once, not in the
 * store, a PIN good enough for a password (or ignored). */
static bool
entry_acceptable(struct reader *r, const struct import *im, size_t line,
		 const struct usersfile_entry *e)
{
	char why[PASSWORD_REASON_MAX];
	size_t i;

	if (!cmd_user_name_valid(e->name)) {
		line_error(r, line, "'%s' is not a valid user name: use 1 to "
			   "%d letters, digits and . _ @ + -", e->name,
			   USERDB_NAME_MAX);
		return false;
	}
	for (i = 0; i < im->n; i++) {
		if (strcmp(im->u[i].name, e->name) == 0) {
			line_error(r, line, "user '%s' is also on line %zu "
				   "(one token per user)", e->name,
				   im->o[i].line);
			return false;
		}
	}
	if (user_stored(r->db, e->name)) {
		line_error(r, line, "user '%s' already exists", e->name);
		return false;
	}
	if (e->pin_kind == USERSFILE_PIN_SET && !r->ignore_pins &&
	    !cmd_enrol_acceptable(e->name, e->pin, e->pin_len, why)) {
		line_error(r, line, "the PIN of '%s' cannot be its password: "
			   "%s (or import with --ignore-pins)", e->name, why);
		return false;
	}
	return true;
}

/* The account a line makes, its password hashed later. */
static int
entry_keep(struct reader *r, struct import *im, size_t line,
	   const struct usersfile_entry *e)
{
	struct userdb_user *u;
	struct origin *o;
	int64_t now_step;

	if (im->n == im->cap && import_grow(im) < 0)
		return -ENOMEM;
	u = &im->u[im->n];
	o = &im->o[im->n];
	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", e->name);
	memcpy(u->totp_secret, e->secret, e->secret_len);
	u->totp_secret_len = e->secret_len;
	u->totp = e->totp;
	u->role = USERDB_ROLE_USER;
	u->created_unix_s = r->now;
	u->has_last_login = false;
	if (e->has_last_use) {
		now_step = totp_step(&u->totp, r->now);
		u->last_step = totp_step(&u->totp, e->last_use_unix_s);
		if (u->last_step > now_step)
			u->last_step = now_step;
	}
	o->line = line;
	o->has_pin = e->pin_kind == USERSFILE_PIN_SET && !r->ignore_pins;
	if (o->has_pin) {
		memcpy(o->pin, e->pin, e->pin_len + 1);
		o->pin_len = e->pin_len;
	}
	u->is_enabled = o->has_pin;
	im->n++;
	return 0;
}

/* Reads every line, keeping the good ones; -errno if the file could not
 * be read (after printing why), else 0 (r->errors counts bad lines). */
static int
read_file(struct reader *r, FILE *in, struct import *im)
{
	char *buf = NULL, why[USERSFILE_WHY_MAX];
	struct usersfile_entry e;
	size_t cap = 0, line = 0;
	ssize_t len;
	int ret = 0;

	while ((len = getline(&buf, &cap, in)) >= 0) {
		line++;
		if (len > 0 && buf[len - 1] == '\n')
			buf[--len] = '\0';
		if ((size_t)len != strlen(buf)) {
			line_error(r, line, "a NUL byte in the line");
			continue;
		}
		switch (usersfile_parse(buf, &e, why)) {
		case USERSFILE_BAD:
			line_error(r, line, "%s", why);
			break;
		case USERSFILE_ENTRY:
			if (entry_acceptable(r, im, line, &e) &&
			    entry_keep(r, im, line, &e) < 0)
				ret = -ENOMEM;
			break;
		default:
			break;
		}
		sodium_memzero(&e, sizeof(e));
		if (ret < 0)
			break;
	}
	if (ret == 0 && ferror(in))
		ret = -EIO;
	if (buf)
		sodium_memzero(buf, cap);
	free(buf);
	if (ret < 0)
		vpnctl_error("cannot read %s: %s", r->path, strerror(-ret));
	return ret;
}

/* Hashes each account's password: its PIN, or a random one for an
 * account that stays disabled until `user passwd`. */
static int
hash_passwords(struct import *im)
{
	unsigned char random[RANDOM_PASSWORD_LEN];
	size_t i;
	int ret = VPNCTL_EXIT_OK;

	for (i = 0; i < im->n && ret == VPNCTL_EXIT_OK; i++) {
		struct userdb_user *u = &im->u[i];
		struct origin *o = &im->o[i];

		if (o->has_pin) {
			ret = cmd_enrol_hash(u->name, "the PIN", o->pin,
					     o->pin_len, u->pw_hash);
			sodium_memzero(o->pin, sizeof(o->pin));
			continue;
		}
		randombytes_buf(random, sizeof(random));
		if (crypto_pwhash_str(u->pw_hash, (const char *)random,
				      sizeof(random),
				      crypto_pwhash_OPSLIMIT_INTERACTIVE,
				      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
			ret = vpnctl_error("cannot hash a password (out of "
					   "memory?)");
	}
	sodium_memzero(random, sizeof(random));
	return ret;
}

static int
store(struct reader *r, struct import *im)
{
	size_t failed = 0;
	int rc = userdb_users_add(r->db, im->u, im->n, &failed);

	if (rc == -EEXIST && failed < im->n)
		return vpnctl_error("%s:%zu: user '%s' was added meanwhile: "
				    "nothing imported", r->path,
				    im->o[failed].line, im->u[failed].name);
	if (rc < 0)
		return vpnctl_error("cannot store the users of %s: nothing "
				    "imported", r->path);
	return VPNCTL_EXIT_OK;
}

static void
report(const struct reader *r, const struct import *im)
{
	size_t i;

	printf("imported %zu user%s from %s:\n", im->n, im->n == 1 ? "" : "s",
	       r->path);
	for (i = 0; i < im->n; i++) {
		if (im->o[i].has_pin)
			printf("  %s: enabled, its PIN is its password\n",
			       im->u[i].name);
		else
			printf("  %s: disabled until it has a password "
			       "(vpnctl user passwd %s, then vpnctl user "
			       "enable %s)\n",
			       im->u[i].name, im->u[i].name, im->u[i].name);
	}
}

static int
parse_args(int argc, char *argv[], struct reader *r)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ignore-pins") == 0)
			r->ignore_pins = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return cmd_user_usage_error("import-oath",
						    "unknown option '%s'",
						    argv[i]);
		else if (r->path)
			return cmd_user_usage_error("import-oath",
						    "expects one FILE, not "
						    "also '%s'", argv[i]);
		else
			r->path = argv[i];
	}
	if (!r->path)
		return cmd_user_usage_error("import-oath", "expects a FILE");
	return VPNCTL_EXIT_OK;
}

int
cmd_user_import_oath(int argc, char *argv[])
{
	struct reader r = { .now = (uint64_t)time(NULL) };
	struct import im = { 0 };
	FILE *in = NULL;
	int ret = parse_args(argc, argv, &r);

	if (ret)
		return ret;
	ret = VPNCTL_EXIT_FAIL;
	r.db = vpnctl_store();
	if (!r.db)
		goto out;
	in = fopen(r.path, "re");
	if (!in) {
		vpnctl_error("cannot read %s: %s", r.path, strerror(errno));
		goto out;
	}
	if (read_file(&r, in, &im) < 0)
		goto out;
	if (r.errors > ERRORS_SHOWN_MAX)
		vpnctl_error("%s: %u more problems", r.path,
			     r.errors - ERRORS_SHOWN_MAX);
	if (r.errors) {
		vpnctl_error("%s: nothing imported", r.path);
		goto out;
	}
	if (im.n == 0) {
		vpnctl_error("%s: no time-based token in it: nothing imported",
			     r.path);
		goto out;
	}
	ret = hash_passwords(&im);
	if (ret == VPNCTL_EXIT_OK)
		ret = store(&r, &im);
	if (ret == VPNCTL_EXIT_OK)
		report(&r, &im);
out:
	if (in)
		fclose(in);
	import_free(&im);
	return ret;
}
