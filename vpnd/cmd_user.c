// SPDX-License-Identifier: MIT
/*
 * `vpnctl user ...`: enrolment (password, TOTP secret, QR code, and a code
 * from the app confirming it before anything is stored), password changes,
 * new authenticator secrets, enabling, disabling, deletion and recovery
 * codes, and the table of user commands. It owns what the administrator
 * sees; cmd_enrol.c reads passwords under the policy and shows and
 * confirms secrets, userdb stores (and ends the admissions a change must
 * end, telling every vpnd). The secrets it creates (a TOTP secret,
 * recovery codes) are shown once and wiped; it never shows a stored
 * secret, and never a password.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "auth.h"
#include "cmd_user.h"
#include "conf.h"
#include "pool.h"
#include "prefix.h"
#include "totp.h"
#include "vpnctl.h"

#define RECOVERY_CODES 10
#define RECOVERY_GROUPS 3
#define RECOVERY_GROUP_LEN 4
#define RECOVERY_CODE_LEN (RECOVERY_GROUPS * (RECOVERY_GROUP_LEN + 1) - 1)
#define LIFETIME_MAX_S (365 * 24 * 3600)
#define PERIOD_MAX_S 3600
#define OUTCOME_MAX 128

_Static_assert(RECOVERY_CODES <= USERDB_RECOVERY_MAX,
	       "the store must return every recovery code");

/* ---- shared by the user commands ------------------------------------------- */

int
cmd_user_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vpnctl: user %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'vpnctl user --help')\n");
	return VPNCTL_EXIT_USAGE;
}

void
cmd_user_format_time(uint64_t unix_s, char out[CMD_USER_TIME_LEN])
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    strftime(out, CMD_USER_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, CMD_USER_TIME_LEN, "%llu",
			 (unsigned long long)unix_s);
}

/* ---- checks ----------------------------------------------------------------- */

bool
cmd_user_name_valid(const char *name)
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

/* How a new secret reaches the app: confirmed by a code (unless
 * --no-confirm), shown as text or (--json) one JSON object. */
struct add_args {
	const char *address4, *address6;
	bool is_confirmed, is_json;
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
	case 'C':
		a->is_confirmed = false;
		return 0;
	case 'j':
		a->is_json = true;
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
		{ "no-confirm", no_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, ret;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == '?')
			return cmd_user_usage_error("add", "unknown option, or "
						    "one without its value: "
						    "'%s'", argv[optind - 1]);
		ret = add_option(opt, optarg, u, a);
		if (ret)
			return ret;
	}
	if (argc - optind != 1)
		return cmd_user_usage_error("add", "%s", argc == optind
				? "expects a NAME" : "expects one NAME");
	if (!cmd_user_name_valid(argv[optind]))
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

/*
 * Confirmed: the secret is shown, the app's code checked, and only then
 * the user stored, with the code's step consumed so it cannot also log
 * in. Unconfirmed (scripts): stored, then shown.
 */
static int
add_enrol(struct userdb *db, struct userdb_user *u, const struct add_args *a)
{
	char outcome[OUTCOME_MAX];
	int ret;

	if (!a->is_confirmed) {
		ret = add_store(db, u);
		if (ret == VPNCTL_EXIT_OK && !a->is_json)
			printf("user '%s' added\n", u->name);
		return ret ? ret : cmd_enrol_show(u, a->is_json, false);
	}
	snprintf(outcome, sizeof(outcome), "user '%s' was not added",
		 u->name);
	ret = cmd_enrol_show(u, a->is_json, true);
	if (ret == VPNCTL_EXIT_OK)
		ret = cmd_enrol_confirm(u, outcome, &u->last_step);
	if (ret == VPNCTL_EXIT_OK)
		ret = add_store(db, u);
	if (ret == VPNCTL_EXIT_OK && !a->is_json)
		printf("user '%s' added: the app's code matched\n", u->name);
	return ret;
}

static int
user_add(int argc, char *argv[])
{
	struct userdb_user u = { .totp = { TOTP_SHA1, 6, 30 },
				 .is_enabled = true,
				 .role = USERDB_ROLE_USER };
	struct add_args a = { .is_confirmed = true };
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
	if (cmd_enrol_password(u.name, u.pw_hash))
		goto out;
	randombytes_buf(u.totp_secret, TOTP_SECRET_LEN);
	u.totp_secret_len = TOTP_SECRET_LEN;
	u.created_unix_s = (uint64_t)time(NULL);
	ret = add_enrol(db, &u, &a);
out:
	sodium_memzero(&u, sizeof(u));
	return ret;
}

/* ---- commands on one user --------------------------------------------------- */

/* `user CMD NAME`: the name, or NULL after one line of usage error. */
static const char *
one_name(int argc, char *argv[], const char *cmd)
{
	if (argc < 2)
		cmd_user_usage_error(cmd, "expects a NAME");
	else if (argv[1][0] == '-')
		cmd_user_usage_error(cmd, "unknown option '%s'", argv[1]);
	else if (argc > 2)
		cmd_user_usage_error(cmd, "expects one NAME, not also '%s'",
				     argv[2]);
	else
		return argv[1];
	return NULL;
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
	const char *name = one_name(argc, argv, "del");
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
	const char *name =
		one_name(argc, argv, is_enabled ? "enable" : "disable");
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
	const char *name = one_name(argc, argv, "passwd");
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
	ret = cmd_enrol_password(name, hash);
	if (ret == VPNCTL_EXIT_OK)
		ret = store_status(userdb_user_set_password(db, name, hash),
				   name,
				   "has a new password; its sessions have "
				   "ended");
out:
	sodium_memzero(hash, sizeof(hash));
	return ret;
}

/* `user totp-reset NAME [--no-confirm] [--json]`. */
static int
parse_reset(int argc, char *argv[], const char **name, struct add_args *a)
{
	static const struct option opts[] = {
		{ "no-confirm", no_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == '?')
			return cmd_user_usage_error("totp-reset",
						    "unknown option '%s'",
						    argv[optind - 1]);
		if (opt == 'C')
			a->is_confirmed = false;
		else
			a->is_json = true;
	}
	if (argc - optind != 1)
		return cmd_user_usage_error("totp-reset", "%s", argc == optind
				? "expects a NAME" : "expects one NAME");
	*name = argv[optind];
	return 0;
}

static const char reset_done[] =
	"has a new authenticator secret; its sessions have ended";

/* As add_enrol(): confirmed, the new secret replaces the old one only
 * once the app's code matched (and consumes that code's step). */
static int
reset_enrol(struct userdb *db, struct userdb_user *u, const struct add_args *a)
{
	char outcome[OUTCOME_MAX];
	int64_t step = 0;
	int ret;

	if (!a->is_confirmed) {
		ret = userdb_user_set_totp(db, u->name, u->totp_secret,
					   u->totp_secret_len);
		if (ret == 0 && a->is_json)
			return cmd_enrol_show(u, true, false);
		ret = store_status(ret, u->name, reset_done);
		return ret ? ret : cmd_enrol_show(u, false, false);
	}
	snprintf(outcome, sizeof(outcome), "the old secret of '%s' stays",
		 u->name);
	ret = cmd_enrol_show(u, a->is_json, true);
	if (ret == VPNCTL_EXIT_OK)
		ret = cmd_enrol_confirm(u, outcome, &step);
	if (ret != VPNCTL_EXIT_OK)
		return ret;
	ret = userdb_user_set_totp_step(db, u->name, u->totp_secret,
					u->totp_secret_len, step);
	if (ret == 0 && a->is_json)
		return VPNCTL_EXIT_OK;
	return store_status(ret, u->name, reset_done);
}

/*
 * A new TOTP secret (same algorithm, digits and period), for a lost or
 * replaced phone: shown once as at enrolment and, once the app's code
 * confirms it, it replaces the old one and the user's sessions end.
 */
static int
user_totp_reset(int argc, char *argv[])
{
	struct add_args a = { .is_confirmed = true };
	const char *name = NULL;
	struct userdb_user u;
	struct userdb *db;
	int ret, rc;

	memset(&u, 0, sizeof(u));
	ret = parse_reset(argc, argv, &name, &a);
	if (ret)
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
	ret = reset_enrol(db, &u, &a);
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
	const char *name = one_name(argc, argv, "recovery");
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

#define HELP_INDENT "                  "

static const struct {
	const char *name;
	int (*run)(int argc, char *argv[]);
	const char *args;
	const char *help;
} user_commands[] = {
	{ "add", user_add,
	  "NAME [--role user|admin|site] [--algorithm sha1|sha256|sha512]\n"
	  HELP_INDENT "[--digits 6-8] [--period S] [--address4 A] "
	  "[--address6 A]\n"
	  HELP_INDENT "[--lifetime DURATION] [--no-confirm] [--json]",
	  "new user: password (twice on a terminal, else one line of\n"
	  HELP_INDENT "stdin), held to password-min-length and "
	  "password-min-score;\n"
	  HELP_INDENT "then the TOTP secret as a URI, in base32 and as a QR "
	  "code, and\n"
	  HELP_INDENT "the code the app shows (the next line of stdin in "
	  "scripts):\n"
	  HELP_INDENT "the user is stored only if it matches (--no-confirm: "
	  "at once)" },
	{ "del", user_del, "NAME", "delete a user, ending its sessions" },
	{ "list", cmd_user_list, "[--script|--json]",
	  "users and their settings, no secrets (--script: tabs)" },
	{ "show", cmd_user_show, "NAME [--json]",
	  "one user: settings, last login, lock, recovery codes left,\n"
	  HELP_INDENT "devices" },
	{ "devices", cmd_user_devices, "NAME [--json]",
	  "the user's devices (client keys): last login, addresses,\n"
	  HELP_INDENT "whether logged in now" },
	{ "subnets", cmd_user_subnets, "NAME [PREFIX...|--clear] [--json]",
	  "a site account's LAN subnets, routed into its sessions (set\n"
	  HELP_INDENT "whole, live sessions included; none given: shown)" },
	{ "passwd", user_passwd, "NAME",
	  "set a new password (the same policy), ending the user's\n"
	  HELP_INDENT "sessions" },
	{ "totp-reset", user_totp_reset, "NAME [--no-confirm] [--json]",
	  "a new TOTP secret, shown once and confirmed as by add; it\n"
	  HELP_INDENT "replaces the old one and ends the user's sessions" },
	{ "enable", user_enable, "NAME", "allow logins again" },
	{ "disable", user_disable, "NAME",
	  "refuse logins, ending the user's sessions" },
	{ "recovery", user_recovery, "NAME",
	  "10 new single-use recovery codes, replacing the old ones" },
	{ "import-oath", cmd_user_import_oath, "[--ignore-pins] FILE",
	  "users of a pam_oath / ocserv users.oath file (time-based\n"
	  HELP_INDENT "lines), all or none: the secret kept, the PIN as the "
	  "password;\n"
	  HELP_INDENT "without one the user is disabled until 'user "
	  "passwd'" },
};

#define N_USER_COMMANDS (sizeof(user_commands) / sizeof(user_commands[0]))

void
cmd_user_usage(FILE *f)
{
	size_t i;

	for (i = 0; i < N_USER_COMMANDS; i++)
		fprintf(f, "  user %s %s\n" HELP_INDENT "%s\n",
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
	if (argc < 2) {
		vpnctl_error("user: expects a command, such as add, list or "
			     "show (see 'vpnctl user --help')");
		return VPNCTL_EXIT_USAGE;
	}
	for (i = 0; i < N_USER_COMMANDS; i++)
		if (strcmp(argv[1], user_commands[i].name) == 0)
			return user_commands[i].run(argc - 1, argv + 1);
	vpnctl_error("unknown command 'user %s' (see 'vpnctl user --help')",
		     argv[1]);
	return VPNCTL_EXIT_USAGE;
}
