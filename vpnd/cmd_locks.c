// SPDX-License-Identifier: MIT
/*
 * `vpnctl locks` and `vpnctl unlock`: the failure counters of user names
 * and source addresses (PROTOCOL.md section 6, rule 4) as the next login
 * would find them, and clearing one. It owns what the administrator sees;
 * lockout.c says what a counter holds now (a source's count decays),
 * auth.c how an address names its counter, userdb stores. Keys are whatever a
 * stranger typed as a user name: they are printed sanitized for people
 * and escaped in JSON, never raw.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "auth.h"
#include "lockout.h"
#include "log.h"
#include "prefix.h"
#include "vpnctl.h"

#define KEY_SHOWN_MAX (USERDB_NAME_MAX + 1)

struct lock_row {
	bool is_source;
	char *key;
	uint32_t count;           /* as the next attempt sees it */
	uint64_t last_unix_s;
	uint64_t locked_until_unix_s; /* 0: not locked now */
};

struct locks {
	struct auth_policy pol;
	uint64_t now;
	struct lock_row *rows;
	size_t n, cap;
};

/* The parts of vpnd's login policy that say what a counter holds. */
static void
policy_of(const struct vpnd_config *c, struct auth_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->lockout_failures = c->lockout_failures;
	pol->lockout_time_s = c->lockout_time_s;
	pol->lockout_max_time_s = c->lockout_max_time_s;
	pol->source_decay_s = c->lockout_source_decay_s;
}

/* Keeps the counters with failures left or a lock running now. */
static int
locks_add(void *arg, const struct userdb_failure_key *key,
	  const struct userdb_failure *f)
{
	struct locks *l = arg;
	bool is_source = key->kind == USERDB_FAILURE_SOURCE;
	uint32_t count = lockout_count(&l->pol, is_source, f, l->now);
	bool is_locked = f->locked_until_unix_s > l->now;
	struct lock_row *grown, *r;

	if (count == 0 && !is_locked)
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		grown = realloc(l->rows, l->cap * sizeof(*l->rows));
		if (!grown)
			return -ENOMEM;
		l->rows = grown;
	}
	r = &l->rows[l->n];
	r->key = strdup(key->key);
	if (!r->key)
		return -ENOMEM;
	r->is_source = is_source;
	r->count = count;
	r->last_unix_s = f->last_unix_s;
	r->locked_until_unix_s = is_locked ? f->locked_until_unix_s : 0;
	l->n++;
	return 0;
}

static void
locks_free(struct locks *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->rows[i].key);
	free(l->rows);
}

static uint64_t
seconds_left(const struct locks *l, const struct lock_row *r)
{
	return r->locked_until_unix_s ? r->locked_until_unix_s - l->now : 0;
}

/* "2024-05-01T12:00:00Z": UTC, so the output does not depend on TZ. */
static void
format_time(uint64_t unix_s, char out[32])
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "%llu", (unsigned long long)unix_s);
}

static void
print_table(const struct locks *l)
{
	char key[KEY_SHOWN_MAX], until[32];
	int width = (int)strlen("KEY");
	size_t i;

	for (i = 0; i < l->n; i++)
		if ((int)strlen(l->rows[i].key) > width)
			width = (int)strlen(l->rows[i].key);
	if (width >= KEY_SHOWN_MAX)
		width = KEY_SHOWN_MAX - 1;
	printf("%-6s  %-*s  %-8s  %s\n", "KIND", width, "KEY", "FAILURES",
	       "LOCKED");
	for (i = 0; i < l->n; i++) {
		const struct lock_row *r = &l->rows[i];

		log_sanitize(key, sizeof(key), r->key, strlen(r->key));
		printf("%-6s  %-*s  %-8u  ", r->is_source ? "source" : "user",
		       width, key, r->count);
		if (!r->locked_until_unix_s) {
			printf("no\n");
			continue;
		}
		format_time(r->locked_until_unix_s, until);
		printf("until %s (%llu s left)\n", until,
		       (unsigned long long)seconds_left(l, r));
	}
}

/* One JSON array of objects, one per counter. */
static void
print_json(const struct locks *l)
{
	size_t i;

	printf("[");
	for (i = 0; i < l->n; i++) {
		const struct lock_row *r = &l->rows[i];

		printf("%s\n  {\"kind\": \"%s\", \"key\": ", i ? "," : "",
		       r->is_source ? "source" : "user");
		vpnctl_json_string(stdout, r->key);
		printf(", \"count\": %u, \"last_failure\": %llu, "
		       "\"locked_until\": %llu, \"seconds_left\": %llu}",
		       r->count, (unsigned long long)r->last_unix_s,
		       (unsigned long long)r->locked_until_unix_s,
		       (unsigned long long)seconds_left(l, r));
	}
	printf("%s]\n", l->n ? "\n" : "");
}

int
cmd_locks(int argc, char *argv[])
{
	const struct vpnd_config *c;
	struct locks l = { .n = 0 };
	struct userdb *db;
	bool is_json = false;
	int ret = VPNCTL_EXIT_FAIL;

	if (argc == 2 && strcmp(argv[1], "--json") == 0) {
		is_json = true;
	} else if (argc != 1) {
		cmd_locks_usage(stderr);
		return VPNCTL_EXIT_USAGE;
	}
	c = vpnctl_config();
	db = c ? vpnctl_store() : NULL;
	if (!db)
		return VPNCTL_EXIT_FAIL;
	policy_of(c, &l.pol);
	l.now = (uint64_t)time(NULL);
	if (userdb_failures_list(db, locks_add, &l) < 0) {
		vpnctl_error("cannot read the failure counters");
		goto out;
	}
	if (is_json)
		print_json(&l);
	else
		print_table(&l);
	ret = VPNCTL_EXIT_OK;
out:
	locks_free(&l);
	return ret;
}

/*
 * The source counter an address names: "192.0.2.1", "2001:db8::1" (its
 * /64), or the /64 as `locks` prints it. False if `text` is none of them.
 */
static bool
source_of(const char *text, char key[AUTH_SOURCE_KEY_LEN])
{
	struct prefix p;

	if (!prefix_parse(text, &p))
		return false;
	if (p.family == AF_INET ? p.len != 32 : p.len < 64)
		return false;
	auth_source_key(p.family, p.addr, key);
	return true;
}

static int
clear(struct userdb *db, enum userdb_failure_kind kind, const char *key)
{
	const struct userdb_failure_key k = { kind, key };

	return userdb_failure_clear(db, &k);
}

int
cmd_unlock(int argc, char *argv[])
{
	char src[AUTH_SOURCE_KEY_LEN], shown[KEY_SHOWN_MAX];
	bool is_address;
	struct userdb *db;
	int rc = -ENOENT;

	if (argc != 2 || argv[1][0] == '-' || argv[1][0] == '\0') {
		cmd_locks_usage(stderr);
		return VPNCTL_EXIT_USAGE;
	}
	db = vpnctl_store();
	if (!db)
		return VPNCTL_EXIT_FAIL;
	log_sanitize(shown, sizeof(shown), argv[1], strlen(argv[1]));
	is_address = source_of(argv[1], src);
	if (is_address) {
		rc = clear(db, USERDB_FAILURE_SOURCE, src);
		if (rc == 0) {
			printf("source %s unlocked: its failures are cleared\n",
			       src);
			return VPNCTL_EXIT_OK;
		}
	}
	/* A user name may look like an address: try it as one too. */
	if (rc == -ENOENT)
		rc = clear(db, USERDB_FAILURE_USER, argv[1]);
	if (rc == 0) {
		printf("user '%s' unlocked: its failures are cleared\n", shown);
		return VPNCTL_EXIT_OK;
	}
	if (rc == -ENOENT)
		return vpnctl_error("no failures recorded for %s '%s'",
				    is_address ? "source" : "user name", shown);
	return vpnctl_error("cannot clear the failures of '%s'", shown);
}

void
cmd_locks_usage(FILE *f)
{
	fprintf(f,
		"  locks [--json]\n"
		"                  user names and source addresses (IPv4, IPv6 "
		"/64) with\n"
		"                  failures left or a lock running: failures "
		"as the next login\n"
		"                  counts them, lock end and seconds left\n"
		"  unlock USER|ADDRESS\n"
		"                  clear the failures and lock of a user name, "
		"or of a source\n"
		"                  (an IPv6 address clears its /64)\n");
}
