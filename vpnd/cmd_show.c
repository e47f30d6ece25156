// SPDX-License-Identifier: MIT
/*
 * `vpnctl user list` and `vpnctl user show`: what the store holds about
 * accounts, as aligned text for people, tab-separated lines (--script)
 * or JSON (--json) for scripts: settings, the last login, the failure
 * counter of the name as the next login would find it (lockout.c), the
 * recovery codes left and the devices (cmd_device.c). It reads only; the
 * store never gives it a secret, and it prints none.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "auth.h"
#include "cmd_user.h"
#include "lockout.h"
#include "prefix.h"
#include "totp.h"
#include "vpnctl.h"

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

/* The settings of an account as the members of a JSON object, its
 * opening brace written and its closing one left to the caller. */
static void
account_json(const struct userdb_user *u)
{
	char a[PREFIX_STR_LEN];

	printf("{\"name\": ");
	vpnctl_json_string(stdout, u->name);
	printf(", \"role\": \"%s\", \"enabled\": %s, \"algorithm\": \"%s\", "
	       "\"digits\": %u, \"period_s\": %u, \"address4\": ",
	       userdb_role_name(u->role), u->is_enabled ? "true" : "false",
	       totp_algo_name(u->totp.algo), u->totp.digits, u->totp.period_s);
	if (u->has_addr4)
		printf("\"%s\"", prefix_format_addr(AF_INET, u->addr4, a));
	else
		printf("null");
	printf(", \"address6\": ");
	if (u->has_addr6)
		printf("\"%s\"", prefix_format_addr(AF_INET6, u->addr6, a));
	else
		printf("null");
	if (u->has_lifetime)
		printf(", \"lifetime_s\": %u", u->lifetime_s);
	else
		printf(", \"lifetime_s\": null");
	printf(", \"created\": %llu, \"last_login\": ",
	       (unsigned long long)u->created_unix_s);
	if (u->has_last_login)
		printf("%llu", (unsigned long long)u->last_login_unix_s);
	else
		printf("null");
}

/* Every account, for --json: copied (the store gives no secrets). */
struct accounts {
	struct userdb_user *u;
	size_t n, cap;
};

static int
accounts_add(void *arg, const struct userdb_user *u)
{
	struct accounts *a = arg;
	struct userdb_user *grown;

	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		grown = realloc(a->u, a->cap * sizeof(*a->u));
		if (!grown)
			return -ENOMEM;
		a->u = grown;
	}
	a->u[a->n++] = *u;
	return 0;
}

static int
list_json(struct userdb *db)
{
	struct accounts a = { NULL, 0, 0 };
	size_t i;
	int ret = VPNCTL_EXIT_FAIL;

	if (userdb_user_list(db, accounts_add, &a) < 0) {
		vpnctl_error("cannot list the users");
		goto out;
	}
	printf("[");
	for (i = 0; i < a.n; i++) {
		printf("%s\n  ", i ? "," : "");
		account_json(&a.u[i]);
		printf("}");
	}
	printf("%s]\n", a.n ? "\n" : "");
	ret = VPNCTL_EXIT_OK;
out:
	free(a.u);
	return ret;
}

static int
list_text(struct userdb *db, bool is_script)
{
	static const char *const header[2][LIST_COLUMNS] = {
		{ "NAME", "ROLE", "ENABLED", "ALGORITHM", "DIGITS", "PERIOD",
		  "ADDRESS4", "ADDRESS6", "LIFETIME" },
		{ "name", "role", "enabled", "algorithm", "digits", "period_s",
		  "address4", "address6", "lifetime_s" },
	};
	struct list l = { NULL, 0, 0, is_script };
	int ret = VPNCTL_EXIT_FAIL;
	size_t c;

	/* The header is a row like the others, so it sets widths too. */
	if (list_add(&l, &(struct userdb_user){ 0 }) < 0)
		goto out;
	for (c = 0; c < LIST_COLUMNS; c++)
		snprintf(l.rows[0][c], LIST_FIELD_LEN, "%s",
			 header[l.is_script][c]);
	if (userdb_user_list(db, list_add, &l) < 0) {
		vpnctl_error("cannot list the users");
		goto out;
	}
	list_print(&l);
	ret = VPNCTL_EXIT_OK;
out:
	free(l.rows);
	return ret;
}

int
cmd_user_list(int argc, char *argv[])
{
	bool is_script = false, is_json = false;
	struct userdb *db;

	if (argc == 2 && strcmp(argv[1], "--script") == 0)
		is_script = true;
	else if (argc == 2 && strcmp(argv[1], "--json") == 0)
		is_json = true;
	else if (argc != 1)
		return cmd_user_usage_error("list", "unknown argument '%s'",
					    argv[1]);
	db = vpnctl_store();
	if (!db)
		return VPNCTL_EXIT_FAIL;
	return is_json ? list_json(db) : list_text(db, is_script);
}

/* ---- user show -------------------------------------------------------------- */

/* What `user show` reads, all of it before printing anything. */
struct account {
	struct userdb_user u;
	uint32_t failures;      /* as the next login counts them */
	uint64_t locked_until;  /* 0: not locked now */
	uint64_t seconds_left;
	size_t recovery_unused;
	struct cmd_devices dv;
};

/* The name's failure counter as lockout.c reads it at now, with vpnd's
 * policy from the configuration. */
static int
read_lock(struct userdb *db, struct account *a, uint64_t now)
{
	const struct vpnd_config *c = vpnctl_config();
	const struct userdb_failure_key key = { USERDB_FAILURE_USER,
						a->u.name };
	struct auth_policy pol = { 0 };
	struct userdb_failure f;
	int rc;

	if (!c)
		return -EINVAL;
	pol.lockout_failures = c->lockout_failures;
	pol.lockout_time_s = c->lockout_time_s;
	pol.lockout_max_time_s = c->lockout_max_time_s;
	pol.source_decay_s = c->lockout_source_decay_s;
	rc = userdb_failure_get(db, &key, &f);
	if (rc < 0)
		return rc;
	a->failures = lockout_count(&pol, false, &f, now);
	a->seconds_left = lockout_left(&f, now);
	a->locked_until = a->seconds_left ? f.locked_until_unix_s : 0;
	return 0;
}

static int
read_account(struct userdb *db, const char *name, struct account *a)
{
	struct userdb_recovery codes[USERDB_RECOVERY_MAX];
	int rc = userdb_user_get(db, name, &a->u);

	/* Only the settings are shown: drop the secrets at once. */
	sodium_memzero(a->u.pw_hash, sizeof(a->u.pw_hash));
	sodium_memzero(a->u.totp_secret, sizeof(a->u.totp_secret));
	if (rc == 0)
		rc = read_lock(db, a, (uint64_t)time(NULL));
	if (rc == 0)
		rc = userdb_recovery_unused(db, name, codes,
					    USERDB_RECOVERY_MAX,
					    &a->recovery_unused);
	if (rc == 0)
		rc = cmd_device_collect(db, name, &a->dv);
	sodium_memzero(codes, sizeof(codes));
	return rc;
}

static void
show_json(const struct account *a)
{
	account_json(&a->u);
	printf(", \"recovery_codes_unused\": %zu, \"lock\": {\"failures\": "
	       "%u, \"locked\": %s, \"locked_until\": %llu, \"seconds_left\": "
	       "%llu}, \"devices\": ",
	       a->recovery_unused, a->failures,
	       a->locked_until ? "true" : "false",
	       (unsigned long long)a->locked_until,
	       (unsigned long long)a->seconds_left);
	cmd_device_print(&a->dv, true, "");
	printf("}\n");
}

static void
show_address(const char *label, int family, bool has, const uint8_t *addr)
{
	char text[PREFIX_STR_LEN];

	if (has)
		printf("%-16s%s (fixed)\n", label,
		       prefix_format_addr(family, addr, text));
	else
		printf("%-16sfrom the pool\n", label);
}

static void
show_lock(const struct account *a)
{
	char until[CMD_USER_TIME_LEN];

	printf("%-16s", "lock:");
	if (a->locked_until) {
		cmd_user_format_time(a->locked_until, until);
		printf("locked until %s (%llu s left), %u failure%s\n", until,
		       (unsigned long long)a->seconds_left, a->failures,
		       a->failures == 1 ? "" : "s");
	} else if (a->failures) {
		printf("not locked, %u failure%s counted\n", a->failures,
		       a->failures == 1 ? "" : "s");
	} else {
		printf("not locked, no failures\n");
	}
}

static void
show_text(const struct account *a)
{
	const struct userdb_user *u = &a->u;
	char t[CMD_USER_TIME_LEN], life[16];

	printf("%-16s%s\n", "name:", u->name);
	printf("%-16s%s\n", "role:", userdb_role_name(u->role));
	printf("%-16s%s\n", "enabled:", u->is_enabled ? "yes" : "no");
	cmd_user_format_time(u->created_unix_s, t);
	printf("%-16s%s\n", "created:", t);
	printf("%-16s%s, %u digits, every %u s\n", "authenticator:",
	       totp_algo_name(u->totp.algo), u->totp.digits, u->totp.period_s);
	show_address("address4:", AF_INET, u->has_addr4, u->addr4);
	show_address("address6:", AF_INET6, u->has_addr6, u->addr6);
	if (u->has_lifetime) {
		format_duration(u->lifetime_s, life, sizeof(life));
		printf("%-16s%s (its own)\n", "lifetime:", life);
	} else {
		printf("%-16sthe server's session-lifetime\n", "lifetime:");
	}
	printf("%-16s%zu unused\n", "recovery codes:", a->recovery_unused);
	if (u->has_last_login)
		cmd_user_format_time(u->last_login_unix_s, t);
	printf("%-16s%s\n", "last login:", u->has_last_login ? t : "never");
	show_lock(a);
	if (a->dv.n == 0) {
		printf("%-16snone\n", "devices:");
		return;
	}
	printf("devices:\n");
	cmd_device_print(&a->dv, false, "  ");
}

int
cmd_user_show(int argc, char *argv[])
{
	struct account a;
	const char *name = NULL;
	bool is_json = false;
	struct userdb *db;
	int i, rc, ret = VPNCTL_EXIT_FAIL;

	memset(&a, 0, sizeof(a));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			is_json = true;
		else if (argv[i][0] == '-')
			return cmd_user_usage_error("show", "unknown option "
						    "'%s'", argv[i]);
		else if (name)
			return cmd_user_usage_error("show", "expects one NAME, "
						    "not also '%s'", argv[i]);
		else
			name = argv[i];
	}
	if (!name)
		return cmd_user_usage_error("show", "expects a NAME");
	db = vpnctl_store();
	if (!db)
		goto out;
	rc = read_account(db, name, &a);
	if (rc == -ENOENT) {
		vpnctl_error("user '%s' does not exist", name);
		goto out;
	}
	if (rc < 0) {
		vpnctl_error("cannot read user '%s' from the store", name);
		goto out;
	}
	if (is_json)
		show_json(&a);
	else
		show_text(&a);
	ret = VPNCTL_EXIT_OK;
out:
	cmd_device_free(&a.dv);
	sodium_memzero(&a.u, sizeof(a.u));
	return ret;
}
