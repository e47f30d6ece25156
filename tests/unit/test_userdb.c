// SPDX-License-Identifier: MIT
/*
 * The SQLite user store on its own: creation (modes, WAL, schema version,
 * refusing a newer schema), accounts and their constraints, the grant's
 * all-or-nothing transaction and its re-check of consumed steps, failure
 * counters updated from several connections at once, and several threads
 * opening a new store at the same moment (as vpnd's workers do).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../vpnd/userdb.h"
#include "log.h"

#define NOW 1700000000ULL
#define THREADS 4
#define UPDATES 25

struct fx {
	char dir[64];
	char path[128];
	struct userdb *db;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_userdb.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/a/b/users.db", f->dir);
	if (userdb_open(f->path, &f->db) < 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[200];

	userdb_close(f->db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void
user_init(struct userdb_user *u, const char *name)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", name);
	snprintf(u->pw_hash, sizeof(u->pw_hash), "$argon2id$not-a-real-hash");
	memset(u->totp_secret, 0x42, TOTP_SECRET_LEN);
	u->totp_secret_len = TOTP_SECRET_LEN;
	u->totp = (struct totp_params){ TOTP_SHA256, 8, 60 };
	u->is_enabled = true;
	u->role = USERDB_ROLE_SITE;
	u->created_unix_s = NOW;
}

/* A pragma's value, read over a connection of our own. */
static void
pragma(const char *path, const char *sql, char *out, size_t cap)
{
	sqlite3 *db;
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	out[0] = '\0';
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void
test_created(void **state)
{
	struct fx *f = *state;
	struct userdb *again;
	struct stat sb;
	char dir[160], v[32];
	sqlite3 *raw;

	snprintf(dir, sizeof(dir), "%s/a/b", f->dir);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	pragma(f->path, "PRAGMA journal_mode", v, sizeof(v));
	assert_string_equal(v, "wal");
	pragma(f->path, "PRAGMA user_version", v, sizeof(v));
	assert_string_equal(v, "1");
	/* opening again migrates nothing and works */
	assert_int_equal(userdb_open(f->path, &again), 0);
	userdb_close(again);
	/* a store from a newer program is refused, not damaged */
	assert_int_equal(sqlite3_open(f->path, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, "PRAGMA user_version = 99", NULL,
				      NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(raw);
	assert_int_equal(userdb_open(f->path, &again), -EPROTO);
	pragma(f->path, "PRAGMA user_version", v, sizeof(v));
	assert_string_equal(v, "99");
}

static int
collect(void *arg, const struct userdb_user *u)
{
	char *names = arg;

	/* the list never reads secrets */
	assert_int_equal(u->pw_hash[0], '\0');
	assert_int_equal(u->totp_secret_len, 0);
	strcat(names, u->name);
	strcat(names, ",");
	return 0;
}

static void
test_accounts(void **state)
{
	struct fx *f = *state;
	struct userdb_user u, got;
	char names[64] = "";

	user_init(&u, "bob");
	u.has_addr4 = true;
	memcpy(u.addr4, "\x0a\x63\x00\x05", 4);
	u.has_lifetime = true;
	u.lifetime_s = 600;
	assert_int_equal(userdb_user_add(f->db, &u), 0);
	assert_int_equal(userdb_user_add(f->db, &u), -EEXIST);
	/* another user, the same fixed address */
	user_init(&u, "alice");
	u.has_addr4 = true;
	memcpy(u.addr4, "\x0a\x63\x00\x05", 4);
	assert_int_equal(userdb_user_add(f->db, &u), -EEXIST);
	u.has_addr4 = false;
	assert_int_equal(userdb_user_add(f->db, &u), 0);

	assert_int_equal(userdb_user_get(f->db, "bob", &got), 0);
	assert_string_equal(got.pw_hash, "$argon2id$not-a-real-hash");
	assert_int_equal(got.totp_secret_len, TOTP_SECRET_LEN);
	assert_int_equal(got.totp.algo, TOTP_SHA256);
	assert_int_equal(got.totp.digits, 8);
	assert_int_equal(got.totp.period_s, 60);
	assert_int_equal(got.last_step, -1);
	assert_int_equal(got.role, USERDB_ROLE_SITE);
	assert_true(got.has_addr4);
	assert_false(got.has_addr6);
	assert_true(got.has_lifetime);
	assert_int_equal(got.lifetime_s, 600);
	assert_int_equal(got.created_unix_s, NOW);
	assert_int_equal(userdb_user_get(f->db, "carol", &got), -ENOENT);

	assert_int_equal(userdb_user_list(f->db, collect, names), 0);
	assert_string_equal(names, "alice,bob,");
	assert_int_equal(userdb_user_set_password(f->db, "bob", "$x"), 0);
	assert_int_equal(userdb_user_set_password(f->db, "carol", "$x"),
			 -ENOENT);
	assert_int_equal(userdb_user_set_enabled(f->db, "bob", false), 0);
	assert_int_equal(userdb_user_get(f->db, "bob", &got), 0);
	assert_false(got.is_enabled);
	assert_string_equal(got.pw_hash, "$x");
	assert_int_equal(userdb_user_set_enabled(f->db, "carol", true),
			 -ENOENT);
	assert_int_equal(userdb_user_del(f->db, "bob"), 0);
	assert_int_equal(userdb_user_del(f->db, "bob"), -ENOENT);
	assert_int_equal(userdb_recovery_replace(f->db, "bob", NULL, 0, NOW),
			 -ENOENT);
}

static bool
assign_fixed(void *arg, const struct userdb_addr_view *v,
	     struct userdb_admission *adm)
{
	(void)v;
	if (!arg)
		return false;
	adm->has_addr4 = true;
	memcpy(adm->addr4, arg, 4);
	return true;
}

/* All or nothing; a step consumed meanwhile is refused by the store too. */
static void
test_grant(void **state)
{
	struct fx *f = *state;
	struct userdb_failure_key key = { USERDB_FAILURE_USER, "alice" };
	struct userdb_grant g = { .username = "alice", .now_unix_s = NOW,
				  .lifetime_s = 100, .has_step = true,
				  .step = 7, .reset = &key, .n_reset = 1 };
	struct userdb_admission adm;
	struct userdb_failure fc;
	struct userdb_user u;

	user_init(&u, "alice");
	assert_int_equal(userdb_user_add(f->db, &u), 0);
	memset(g.client_pub, 1, sizeof(g.client_pub));
	/* no address: nothing is written */
	assert_int_equal(userdb_grant(f->db, &g, assign_fixed, NULL, &adm),
			 -ENOSPC);
	assert_int_equal(userdb_user_get(f->db, "alice", &u), 0);
	assert_int_equal(u.last_step, -1);
	assert_int_equal(userdb_admission_get(f->db, g.client_pub, NOW, &adm),
			 -ENOENT);
	assert_int_equal(userdb_grant(f->db, &g, assign_fixed, "\x0a\0\0\x02",
				      &adm),
			 0);
	assert_int_equal(adm.expires_unix_s, NOW + 100);
	assert_int_equal(userdb_user_get(f->db, "alice", &u), 0);
	assert_int_equal(u.last_step, 7);
	/* the same step again, e.g. from a concurrent login */
	assert_int_equal(userdb_grant(f->db, &g, assign_fixed, "\x0a\0\0\x03",
				      &adm),
			 -EALREADY);
	assert_int_equal(userdb_admission_get(f->db, g.client_pub, NOW, &adm),
			 0);
	assert_memory_equal(adm.addr4, "\x0a\0\0\x02", 4);
	/* both or neither of step and recovery code: refused */
	g.has_recovery = true;
	assert_int_equal(userdb_grant(f->db, &g, assign_fixed, "\x0a\0\0\x03",
				      &adm),
			 -EINVAL);
	/* an unknown recovery code id */
	g.has_step = false;
	g.recovery_id = 12345;
	assert_int_equal(userdb_grant(f->db, &g, assign_fixed, "\x0a\0\0\x03",
				      &adm),
			 -EALREADY);
	assert_int_equal(userdb_failure_get(f->db, &key, &fc), 0);
	assert_int_equal(fc.count, 0);
}

static void
bump(void *arg, struct userdb_failure *f)
{
	f->count++;
	f->last_unix_s = *(const uint64_t *)arg;
}

static void *
bump_thread(void *arg)
{
	const char *path = arg;
	struct userdb_failure_key keys[2] = {
		{ USERDB_FAILURE_USER, "alice" },
		{ USERDB_FAILURE_SOURCE, "192.0.2.1" },
	};
	struct userdb *db;
	uint64_t now = NOW;
	int i, bad = 0;

	if (userdb_open(path, &db) < 0)
		return (void *)1;
	for (i = 0; i < UPDATES; i++)
		bad |= userdb_failures_update(db, keys, 2, bump, &now) != 0;
	userdb_close(db);
	return bad ? (void *)1 : NULL;
}

/* Read-modify-write from several connections loses no update. */
static void
test_failures_concurrent(void **state)
{
	struct fx *f = *state;
	struct userdb_failure_key key = { USERDB_FAILURE_SOURCE, "192.0.2.1" };
	struct userdb_failure fc;
	pthread_t t[THREADS];
	void *ret;
	int i;

	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, bump_thread,
						f->path),
				 0);
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	assert_int_equal(userdb_failure_get(f->db, &key, &fc), 0);
	assert_int_equal(fc.count, THREADS * UPDATES);
	assert_int_equal(fc.last_unix_s, NOW);
	/* pruning keeps recent and locked counters */
	assert_int_equal(userdb_failures_prune(f->db, NOW + 10, 60), 0);
	assert_int_equal(userdb_failures_prune(f->db, NOW + 61, 60), 2);
	assert_int_equal(userdb_failure_get(f->db, &key, &fc), 0);
	assert_int_equal(fc.count, 0);
}

static void *
open_thread(void *arg)
{
	struct userdb *db;

	if (userdb_open(arg, &db) < 0)
		return (void *)1;
	userdb_close(db);
	return NULL;
}

/* vpnd's workers open a store that does not exist yet, all at once. */
static void
test_concurrent_create(void **state)
{
	struct fx *f = *state;
	char path[160];
	pthread_t t[THREADS];
	void *ret;
	int i;

	snprintf(path, sizeof(path), "%s/fresh/users.db", f->dir);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, open_thread, path),
				 0);
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_created, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accounts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures_concurrent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_create, setup,
						teardown),
	};

	log_init("test_userdb", false, LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
