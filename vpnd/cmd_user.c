// SPDX-License-Identifier: MIT
/*
 * `vpnctl user ...`: enrolment (password, TOTP secret, QR code), listing,
 * password changes, new authenticator secrets, enabling, disabling,
 * deletion and recovery codes. It owns what the administrator sees;
 * shared/tty reads the passwords, userdb stores (and ends the admissions
 * a change must end, telling every vpnd). The secrets it creates (a TOTP
 * secret, recovery codes) are shown once, here, and wiped; it never shows
 * a stored secret, and never a password.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "conf.h"
#include "login.h"
#include "pool.h"
#include "prefix.h"
#include "totp.h"
#include "tty.h"
#include "vpnctl.h"

#define PASSWORD_MAX LOGIN_TEXT_MAX
#define RECOVERY_CODES 10
#define RECOVERY_GROUPS 3
#define RECOVERY_GROUP_LEN 4
#define RECOVERY_CODE_LEN (RECOVERY_GROUPS * (RECOVERY_GROUP_LEN + 1) - 1)
#define QR_QUIET 4 /* light modules around the code, as the standard asks */
#define LIFETIME_MAX_S (365 * 24 * 3600)
#define PERIOD_MAX_S 3600

_Static_assert(USERDB_HASH_MAX >= crypto_pwhash_STRBYTES,
	       "a password hash must fit the store's field");
_Static_assert(RECOVERY_CODES <= USERDB_RECOVERY_MAX,
	       "the store must return every recovery code");

/* ---- input ------------------------------------------------------------------ */

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

/*
 * The new password of `name`, hashed as vpnd expects (Argon2id at the
 * INTERACTIVE cost): asked twice on a terminal, else one line of stdin.
 */
static int
new_password_hash(const char *name, char hash[USERDB_HASH_MAX])
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
	if (crypto_pwhash_str(hash, pw, len,
			      crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		vpnctl_error("cannot hash the password (out of memory?)");
		goto out;
	}
	ret = VPNCTL_EXIT_OK;
out:
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(again, sizeof(again));
	return ret;
}

/* ---- output ----------------------------------------------------------------- */

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

/* Shows what the person's authenticator app needs, once: the otpauth://
 * URI, the secret in base32, and on a terminal the URI as a QR code. */
static int
show_enrolment(const struct userdb_user *u)
{
	const struct vpnd_config *c = vpnctl_config();
	char uri[1024], b32[TOTP_SECRET_MAX * 2];
	int ret = VPNCTL_EXIT_FAIL;

	if (!totp_uri(uri, sizeof(uri), c->totp_issuer, u->name, u->totp_secret,
		      u->totp_secret_len, &u->totp) ||
	    !totp_base32(b32, sizeof(b32), u->totp_secret, u->totp_secret_len)) {
		vpnctl_error("cannot encode the TOTP secret");
		goto out;
	}
	printf("%s\nsecret: %s\n", uri, b32);
	if (isatty(STDOUT_FILENO) == 1)
		print_qr(uri);
	if (u->totp.algo != TOTP_SHA1 || u->totp.digits != 6 ||
	    u->totp.period_s != 30)
		fprintf(stderr, "vpnctl: note: some authenticator apps "
				"support only SHA1, 6 digits and 30 s\n");
	fflush(stdout);
	ret = VPNCTL_EXIT_OK;
out:
	sodium_memzero(uri, sizeof(uri));
	sodium_memzero(b32, sizeof(b32));
	return ret;
}

/* "12h", "30m", "90s": the largest unit that divides it. */
static void
format_duration(uint32_t s, char *out, size_t cap)
{
	if (s % (24 * 3600) == 0)
		snprintf(out, cap, "%ud", s / (24 * 3600));
	else if (s % 3600 == 0)
		snprintf(out, cap, "%uh", s / 3600);
	else if (s % 60 == 0)
		snprintf(out, cap, "%um", s / 60);
	else
		snprintf(out, cap, "%us", s);
}

/* ---- checks ----------------------------------------------------------------- */

/* Names go into otpauth:// labels and logs: keep them plain. */
static bool
name_valid(const char *name)
{
	size_t len = strlen(name), i;

	if (len == 0 || len > USERDB_NAME_MAX || name[0] == '-')
		return false;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (!isalnum(ch) && !strchr("._@+-", ch))
			return false;
	}
	return true;
}

static bool
parse_uint(const char *text, unsigned long lo, unsigned long hi,
	   unsigned int *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)text[0]))
		return false;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = (unsigned int)v;
	return true;
}

/* A fixed address: the right family and, with a configuration, one its
 * pool may give to a client. */
static bool
fixed_address(const char *option, const char *text, int family,
	      uint8_t *addr)
{
	const struct vpnd_config *c = vpnctl_config();
	const struct prefix *pool = family == AF_INET ? &c->pool4 : &c->pool6;
	bool has_pool = family == AF_INET ? c->has_pool4 : c->has_pool6;
	char version = family == AF_INET ? '4' : '6';
	char pool_text[PREFIX_STR_LEN];
	uint8_t parsed[16];
	int got;

	/* prefix_parse_addr writes 16 bytes; addr may hold only 4. */
	if (!prefix_parse_addr(text, &got, parsed) || got != family) {
		vpnctl_error("%s: '%s' is not an IPv%c address", option, text,
			     version);
		return false;
	}
	memcpy(addr, parsed, prefix_addr_len(family));
	if (!vpnctl_config_from_file())
		return true;
	if (!has_pool) {
		vpnctl_error("%s %s: %s has no address-pool%c", option, text,
			     c->path, version);
		return false;
	}
	if (!pool_usable(pool, addr)) {
		vpnctl_error("%s %s: not an address the pool %s gives to "
			     "clients (its first address is the server's; the "
			     "network and last address are never used)",
			     option, text, prefix_format(pool, pool_text));
		return false;
	}
	return true;
}

/* ---- user add --------------------------------------------------------------- */

struct add_args {
	const char *address4, *address6;
};

/* One option of `user add`: 0, or the exit status after printing. */
static int
add_option(int opt, const char *arg, struct userdb_user *u,
	   struct add_args *a)
{
	uint64_t ms;

	switch (opt) {
	case 'r':
		if (!userdb_role_parse(arg, &u->role))
			return vpnctl_error("--role: '%s' is not user, admin "
					    "or site", arg);
		return 0;
	case 'a':
		if (!totp_algo_parse(arg, &u->totp.algo))
			return vpnctl_error("--algorithm: '%s' is not sha1, "
					    "sha256 or sha512", arg);
		return 0;
	case 'n':
		if (!parse_uint(arg, 6, 8, &u->totp.digits))
			return vpnctl_error("--digits: '%s' is not 6, 7 or 8",
					    arg);
		return 0;
	case 'p':
		if (!parse_uint(arg, 1, PERIOD_MAX_S, &u->totp.period_s))
			return vpnctl_error("--period: '%s' is not 1 to %d "
					    "seconds", arg, PERIOD_MAX_S);
		return 0;
	case '4':
		a->address4 = arg;
		return 0;
	case '6':
		a->address6 = arg;
		return 0;
	case 'l':
		if (!conf_parse_duration_ms(arg, &ms) || ms < 1000 ||
		    ms / 1000 > LIFETIME_MAX_S)
			return vpnctl_error("--lifetime: '%s' is not a duration "
					    "from 1s to 365d, such as 90m or "
					    "12h", arg);
		u->has_lifetime = true;
		u->lifetime_s = (uint32_t)(ms / 1000);
		return 0;
	default:
		return VPNCTL_EXIT_USAGE;
	}
}

static int
parse_add(int argc, char *argv[], struct userdb_user *u, struct add_args *a)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "algorithm", required_argument, NULL, 'a' },
		{ "digits", required_argument, NULL, 'n' },
		{ "period", required_argument, NULL, 'p' },
		{ "address4", required_argument, NULL, '4' },
		{ "address6", required_argument, NULL, '6' },
		{ "lifetime", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, ret;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == '?') {
			vpnctl_error("user add: unknown option, or one "
				     "without its value: '%s'",
				     argv[optind - 1]);
			return VPNCTL_EXIT_USAGE;
		}
		ret = add_option(opt, optarg, u, a);
		if (ret)
			return ret;
	}
	if (argc - optind != 1) {
		cmd_user_usage(stderr);
		return VPNCTL_EXIT_USAGE;
	}
	if (!name_valid(argv[optind]))
		return vpnctl_error("'%s' is not a valid user name: use 1 to "
				    "%d letters, digits and . _ @ + -",
				    argv[optind], USERDB_NAME_MAX);
	snprintf(u->name, sizeof(u->name), "%s", argv[optind]);
	return 0;
}

static bool
user_exists(struct userdb *db, const char *name)
{
	struct userdb_user u;
	bool found = userdb_user_get(db, name, &u) == 0;

	sodium_memzero(&u, sizeof(u));
	return found;
}

static int
add_store(struct userdb *db, struct userdb_user *u)
{
	int rc = userdb_user_add(db, u);

	if (rc == -EEXIST && user_exists(db, u->name))
		return vpnctl_error("user '%s' already exists", u->name);
	if (rc == -EEXIST)
		return vpnctl_error("a fixed address of '%s' already belongs "
				    "to another user", u->name);
	if (rc < 0)
		return vpnctl_error("cannot add user '%s'", u->name);
	return VPNCTL_EXIT_OK;
}

static int
user_add(int argc, char *argv[])
{
	struct userdb_user u = { .totp = { TOTP_SHA1, 6, 30 },
				 .is_enabled = true,
				 .role = USERDB_ROLE_USER };
	struct add_args a = { NULL, NULL };
	struct userdb *db;
	int ret = parse_add(argc, argv, &u, &a);

	if (ret)
		goto out;
	ret = VPNCTL_EXIT_FAIL;
	db = vpnctl_store();
	if (!db)
		goto out;
	u.has_addr4 = a.address4 != NULL;
	u.has_addr6 = a.address6 != NULL;
	if ((u.has_addr4 && !fixed_address("--address4", a.address4, AF_INET,
					   u.addr4)) ||
	    (u.has_addr6 && !fixed_address("--address6", a.address6, AF_INET6,
					   u.addr6)))
		goto out;
	if (user_exists(db, u.name)) {
		vpnctl_error("user '%s' already exists", u.name);
		goto out;
	}
	if (new_password_hash(u.name, u.pw_hash))
		goto out;
	randombytes_buf(u.totp_secret, TOTP_SECRET_LEN);
	u.totp_secret_len = TOTP_SECRET_LEN;
	u.created_unix_s = (uint64_t)time(NULL);
	ret = add_store(db, &u);
	if (ret == VPNCTL_EXIT_OK) {
		printf("user '%s' added\n", u.name);
		ret = show_enrolment(&u);
	}
out:
	sodium_memzero(&u, sizeof(u));
	return ret;
}

/* ---- user list -------------------------------------------------------------- */

#define LIST_COLUMNS 9
#define LIST_FIELD_LEN (USERDB_NAME_MAX + 8)

typedef char list_row[LIST_COLUMNS][LIST_FIELD_LEN];

struct list {
	list_row *rows;
	size_t n, cap;
	bool is_script;
};

static void
list_fields(const struct userdb_user *u, bool is_script, list_row row)
{
	char a4[PREFIX_STR_LEN] = "-", a6[PREFIX_STR_LEN] = "-";
	char life[16] = "-";

	if (u->has_addr4)
		prefix_format_addr(AF_INET, u->addr4, a4);
	if (u->has_addr6)
		prefix_format_addr(AF_INET6, u->addr6, a6);
	if (u->has_lifetime && is_script)
		snprintf(life, sizeof(life), "%u", u->lifetime_s);
	else if (u->has_lifetime)
		format_duration(u->lifetime_s, life, sizeof(life));
	else if (!is_script)
		snprintf(life, sizeof(life), "default");
	snprintf(row[0], LIST_FIELD_LEN, "%s", u->name);
	snprintf(row[1], LIST_FIELD_LEN, "%s", userdb_role_name(u->role));
	snprintf(row[2], LIST_FIELD_LEN, "%s", u->is_enabled ? "yes" : "no");
	snprintf(row[3], LIST_FIELD_LEN, "%s", totp_algo_name(u->totp.algo));
	snprintf(row[4], LIST_FIELD_LEN, "%u", u->totp.digits);
	snprintf(row[5], LIST_FIELD_LEN, is_script ? "%u" : "%us",
		 u->totp.period_s);
	snprintf(row[6], LIST_FIELD_LEN, "%s", a4);
	snprintf(row[7], LIST_FIELD_LEN, "%s", a6);
	snprintf(row[8], LIST_FIELD_LEN, "%s", life);
}

static int
list_add(void *arg, const struct userdb_user *u)
{
	struct list *l = arg;
	list_row *grown;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		grown = realloc(l->rows, l->cap * sizeof(*l->rows));
		if (!grown)
			return -ENOMEM;
		l->rows = grown;
	}
	list_fields(u, l->is_script, l->rows[l->n++]);
	return 0;
}

/* Columns padded to their widest entry; tabs for scripts. */
static void
list_print(const struct list *l)
{
	int width[LIST_COLUMNS] = { 0 };
	size_t r, c;

	for (r = 0; r < l->n; r++)
		for (c = 0; c < LIST_COLUMNS; c++)
			if ((int)strlen(l->rows[r][c]) > width[c])
				width[c] = (int)strlen(l->rows[r][c]);
	for (r = 0; r < l->n; r++) {
		for (c = 0; c < LIST_COLUMNS; c++) {
			if (l->is_script)
				printf(c + 1 < LIST_COLUMNS ? "%s\t" : "%s\n",
				       l->rows[r][c]);
			else if (c + 1 < LIST_COLUMNS)
				printf("%-*s  ", width[c], l->rows[r][c]);
			else
				printf("%s\n", l->rows[r][c]);
		}
	}
}

static int
user_list(int argc, char *argv[])
{
	static const char *const header[2][LIST_COLUMNS] = {
		{ "NAME", "ROLE", "ENABLED", "ALGORITHM", "DIGITS", "PERIOD",
		  "ADDRESS4", "ADDRESS6", "LIFETIME" },
		{ "name", "role", "enabled", "algorithm", "digits", "period_s",
		  "address4", "address6", "lifetime_s" },
	};
	struct list l = { NULL, 0, 0, false };
	struct userdb *db;
	int ret = VPNCTL_EXIT_USAGE, rc;
	size_t c;

	if (argc == 2 && strcmp(argv[1], "--script") == 0)
		l.is_script = true;
	else if (argc != 1)
		goto out;
	ret = VPNCTL_EXIT_FAIL;
	db = vpnctl_store();
	/* The header is a row like the others, so it sets widths too. */
	if (!db || list_add(&l, &(struct userdb_user){ 0 }) < 0)
		goto out;
	for (c = 0; c < LIST_COLUMNS; c++)
		snprintf(l.rows[0][c], LIST_FIELD_LEN, "%s",
			 header[l.is_script][c]);
	rc = userdb_user_list(db, list_add, &l);
	if (rc < 0) {
		vpnctl_error("cannot list the users");
		goto out;
	}
	list_print(&l);
	ret = VPNCTL_EXIT_OK;
out:
	if (ret == VPNCTL_EXIT_USAGE)
		cmd_user_usage(stderr);
	free(l.rows);
	return ret;
}

/* ---- commands on one user --------------------------------------------------- */

/* `user CMD NAME`: the name, or NULL after printing usage. */
static const char *
one_name(int argc, char *argv[])
{
	if (argc != 2 || argv[1][0] == '-') {
		cmd_user_usage(stderr);
		return NULL;
	}
	return argv[1];
}

/* The exit status for a store result about user `name`. */
static int
store_status(int rc, const char *name, const char *done)
{
	if (rc == -ENOENT)
		return vpnctl_error("user '%s' does not exist", name);
	if (rc < 0)
		return vpnctl_error("cannot change user '%s'", name);
	printf("user '%s' %s\n", name, done);
	return VPNCTL_EXIT_OK;
}

static int
user_del(int argc, char *argv[])
{
	const char *name = one_name(argc, argv);
	struct userdb *db;

	if (!name)
		return VPNCTL_EXIT_USAGE;
	db = vpnctl_store();
	if (!db)
		return VPNCTL_EXIT_FAIL;
	return store_status(userdb_user_del(db, name), name,
			    "deleted; its sessions have ended");
}

static int
set_enabled(int argc, char *argv[], bool is_enabled)
{
	const char *name = one_name(argc, argv);
	struct userdb *db;

	if (!name)
		return VPNCTL_EXIT_USAGE;
	db = vpnctl_store();
	if (!db)
		return VPNCTL_EXIT_FAIL;
	return store_status(userdb_user_set_enabled(db, name, is_enabled),
			    name,
			    is_enabled ? "enabled"
				       : "disabled; its sessions have ended");
}

static int
user_enable(int argc, char *argv[])
{
	return set_enabled(argc, argv, true);
}

static int
user_disable(int argc, char *argv[])
{
	return set_enabled(argc, argv, false);
}

static int
user_passwd(int argc, char *argv[])
{
	const char *name = one_name(argc, argv);
	char hash[USERDB_HASH_MAX];
	struct userdb *db;
	int ret = VPNCTL_EXIT_USAGE;

	if (!name)
		goto out;
	ret = VPNCTL_EXIT_FAIL;
	db = vpnctl_store();
	if (!db)
		goto out;
	/* Ask for nothing when there is nobody to change. */
	if (!user_exists(db, name)) {
		ret = vpnctl_error("user '%s' does not exist", name);
		goto out;
	}
	ret = new_password_hash(name, hash);
	if (ret == VPNCTL_EXIT_OK)
		ret = store_status(userdb_user_set_password(db, name, hash),
				   name,
				   "has a new password; its sessions have "
				   "ended");
out:
	sodium_memzero(hash, sizeof(hash));
	return ret;
}

/*
 * A new TOTP secret (same algorithm, digits and period), for a lost or
 * replaced phone: the old one stops working, the user's sessions end, and
 * the new one is shown once, as at enrolment.
 */
static int
user_totp_reset(int argc, char *argv[])
{
	const char *name = one_name(argc, argv);
	struct userdb_user u;
	struct userdb *db;
	int ret = VPNCTL_EXIT_USAGE, rc;

	memset(&u, 0, sizeof(u));
	if (!name)
		goto out;
	ret = VPNCTL_EXIT_FAIL;
	db = vpnctl_store();
	if (!db)
		goto out;
	rc = userdb_user_get(db, name, &u);
	if (rc < 0) {
		ret = store_status(rc, name, NULL);
		goto out;
	}
	randombytes_buf(u.totp_secret, TOTP_SECRET_LEN);
	u.totp_secret_len = TOTP_SECRET_LEN;
	ret = store_status(userdb_user_set_totp(db, name, u.totp_secret,
						u.totp_secret_len),
			   name,
			   "has a new authenticator secret; its sessions "
			   "have ended");
	if (ret == VPNCTL_EXIT_OK)
		ret = show_enrolment(&u);
out:
	sodium_memzero(&u, sizeof(u));
	return ret;
}

/* ---- recovery codes --------------------------------------------------------- */

/*
 * "k7qm-2xfp-9tdh": 12 characters from 31 that cannot be mistaken for each
 * other (about 59 bits), with at least one letter so it can never look like
 * a TOTP code (PROTOCOL.md section 6, rule 7).
 */
static void
recovery_code(char out[RECOVERY_CODE_LEN + 1])
{
	static const char alphabet[] = "23456789abcdefghjkmnpqrstuvwxyz";
	bool has_letter;
	size_t pos, g, i;

	do {
		has_letter = false;
		pos = 0;
		for (g = 0; g < RECOVERY_GROUPS; g++) {
			if (g)
				out[pos++] = '-';
			for (i = 0; i < RECOVERY_GROUP_LEN; i++) {
				char ch = alphabet[randombytes_uniform(
					sizeof(alphabet) - 1)];

				has_letter |= ch >= 'a';
				out[pos++] = ch;
			}
		}
		out[pos] = '\0';
	} while (!has_letter);
}

static int
user_recovery(int argc, char *argv[])
{
	const char *name = one_name(argc, argv);
	char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1];
	struct userdb_recovery stored[RECOVERY_CODES];
	struct userdb *db;
	int ret = VPNCTL_EXIT_USAGE, rc;
	size_t i;

	if (!name)
		goto out;
	ret = VPNCTL_EXIT_FAIL;
	db = vpnctl_store();
	if (!db)
		goto out;
	for (i = 0; i < RECOVERY_CODES; i++) {
		recovery_code(codes[i]);
		randombytes_buf(stored[i].salt, sizeof(stored[i].salt));
		auth_recovery_hash(codes[i], stored[i].salt, stored[i].hash);
	}
	rc = userdb_recovery_replace(db, name, stored, RECOVERY_CODES,
				     (uint64_t)time(NULL));
	ret = store_status(rc, name, "has new recovery codes; each works "
				     "once, and the earlier ones no longer "
				     "work:");
	for (i = 0; ret == VPNCTL_EXIT_OK && i < RECOVERY_CODES; i++)
		printf("%s\n", codes[i]);
	fflush(stdout);
out:
	sodium_memzero(codes, sizeof(codes));
	sodium_memzero(stored, sizeof(stored));
	return ret;
}

/* ---- dispatch --------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*run)(int argc, char *argv[]);
	const char *args;
	const char *help;
} user_commands[] = {
	{ "add", user_add,
	  "NAME [--role user|admin|site] [--algorithm sha1|sha256|sha512]\n"
	  "                  [--digits 6-8] [--period S] [--address4 A] "
	  "[--address6 A]\n"
	  "                  [--lifetime DURATION]",
	  "new user: password (twice on a terminal, else one line of\n"
	  "                  stdin), then the TOTP secret as a URI, in "
	  "base32 and as a\n"
	  "                  QR code" },
	{ "del", user_del, "NAME", "delete a user, ending its sessions" },
	{ "list", user_list, "[--script]",
	  "users and their settings, no secrets (--script: tabs)" },
	{ "passwd", user_passwd, "NAME",
	  "set a new password, ending the user's sessions" },
	{ "totp-reset", user_totp_reset, "NAME",
	  "a new TOTP secret, shown once as by add, ending the user's\n"
	  "                  sessions" },
	{ "enable", user_enable, "NAME", "allow logins again" },
	{ "disable", user_disable, "NAME",
	  "refuse logins, ending the user's sessions" },
	{ "recovery", user_recovery, "NAME",
	  "10 new single-use recovery codes, replacing the old ones" },
};

void
cmd_user_usage(FILE *f)
{
	size_t i;

	for (i = 0; i < sizeof(user_commands) / sizeof(user_commands[0]); i++)
		fprintf(f, "  user %s %s\n                  %s\n",
			user_commands[i].name, user_commands[i].args,
			user_commands[i].help);
}

int
cmd_user(int argc, char *argv[])
{
	size_t i;

	if (argc >= 2 &&
	    (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		cmd_user_usage(stdout);
		return VPNCTL_EXIT_OK;
	}
	for (i = 0; argc >= 2 && i < sizeof(user_commands) /
					     sizeof(user_commands[0]);
	     i++)
		if (strcmp(argv[1], user_commands[i].name) == 0)
			return user_commands[i].run(argc - 1, argv + 1);
	if (argc >= 2)
		vpnctl_error("unknown command 'user %s'", argv[1]);
	cmd_user_usage(stderr);
	return VPNCTL_EXIT_USAGE;
}
