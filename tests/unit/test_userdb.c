// SPDX-License-Identifier: MIT
/*
 * The user store on its own: creation (SQLite: modes, WAL, schema version,
 * refusing a newer schema, migrating a version 1 store), accounts and
 * their constraints, the grant's all-or-nothing transaction and its
 * re-check of consumed steps, failure counters (read-decide-write from
 * several connections at once, no write when the caller says so, listing,
 * clearing, pruning), the event journal (one event per admission an
 * account change ends, in the same transaction; polls across connections;
 * seqs never reused), handshake stamps that only rise, re-addressing,
 * several threads opening a new store at the same moment (as vpnd's
 * workers do), and vpnctl's lifecycle operations: batches stored whole or
 * not at all, a confirmed TOTP step consumed with its secret, last logins
 * and the devices (keys) of a user, and revoking one.
 *
 * The same cases run against PostgreSQL when VPN_TEST_USERDB_PG holds the
 * conninfo of a server the test may use (tests/run.sh starts a throwaway
 * one with tests/tools/pgserver.sh): each case then gets a database of its
 * own, created in its setup and dropped in its teardown through libpq.
 * Cases about SQLite itself (its file, its pragmas, its raw tables) skip
 * there, saying why.
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
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../vpnd/userdb.h"
#include "log.h"
#include "pgconninfo.h"

#define NOW 1700000000ULL
#define THREADS 4
#define UPDATES 25

#define STORE_NAME_MAX 1024
#define DBNAME_MAX 64

struct fx {
	char dir[64];
	char path[STORE_NAME_MAX]; /* the store's name: a file, a conninfo */
	char dbname[DBNAME_MAX];   /* PostgreSQL: this case's database */
	bool has_fresh;            /* and its _fresh one */
	struct userdb *db;
};

/* ---- PostgreSQL: a database per case ---------------------------------------- */

/* VPN_TEST_USERDB_PG: NULL runs the cases against SQLite files. */
static const char *pg_server;

/* Cases about SQLite itself skip under PostgreSQL. */
#define SQLITE_ONLY(why)                                                    \
	do {                                                                \
		if (pg_server) {                                            \
			print_message("# skipped under PostgreSQL: %s\n", why); \
			skip();                                             \
		}                                                           \
	} while (0)

/* Runs one statement over `conninfo`; false after saying why on stderr.
 * A query's first value goes to out. */
static bool
pg_query(const char *conninfo, const char *sql, char *out, size_t cap)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r;
	bool is_ok;

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "test_userdb: %s: %s", conninfo,
			PQerrorMessage(c));
		PQfinish(c);
		return false;
	}
	r = PQexec(c, sql);
	is_ok = PQresultStatus(r) == (out ? PGRES_TUPLES_OK : PGRES_COMMAND_OK);
	if (!is_ok)
		fprintf(stderr, "test_userdb: %s: %s", sql, PQerrorMessage(c));
	if (is_ok && out)
		snprintf(out, cap, "%s",
			 PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	PQfinish(c);
	return is_ok;
}

/* One statement on the server's own database. */
static bool
pg_exec(const char *sql)
{
	return pg_query(pg_server, sql, NULL, 0);
}

/* The store really is in the database `conninfo` names: it made its
 * tables there (a conninfo read as a file name would not). */
static bool
pg_has_schema(const char *conninfo)
{
	char n[32];

	if (!pg_query(conninfo, "SELECT count(*) FROM pg_tables WHERE "
				"schemaname NOT IN ('pg_catalog', "
				"'information_schema')",
		      n, sizeof(n)))
		return false;
	if (atoi(n) > 0)
		return true;
	fprintf(stderr, "test_userdb: no tables in %s\n", conninfo);
	return false;
}

/* The server's conninfo naming dbname instead (pgconninfo.h). */
static bool
pg_conninfo(const char *dbname, char *out, size_t cap)
{
	return pgconninfo_for("test_userdb", pg_server, dbname, out, cap);
}

/* A new, empty database `dbname`; its conninfo in out. */
static bool
pg_create(const char *dbname, char *out, size_t cap)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
	return pg_exec(sql) && pg_conninfo(dbname, out, cap);
}

/* Drops `dbname` if it exists, ending connections a failed case left. */
static bool
pg_drop(const char *dbname)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
		 dbname);
	return pg_exec(sql);
}

/* ---- fixtures ------------------------------------------------------------ */

/* Runs one statement on the store behind the interface's back, over a
 * connection of its own (where a case uses this, both backends' tables
 * have the columns it names). */
static void
store_exec(const struct fx *f, const char *sql)
{
	sqlite3 *raw;

	if (pg_server) {
		assert_true(pg_query(f->path, sql, NULL, 0));
		return;
	}
	assert_int_equal(sqlite3_open(f->path, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[200], fresh[DBNAME_MAX + 8];
	int rc = 0;

	if (f->db)
		userdb_close(f->db);
	if (pg_server && f->dbname[0]) {
		snprintf(fresh, sizeof(fresh), "%s_fresh", f->dbname);
		if (!pg_drop(f->dbname) || (f->has_fresh && !pg_drop(fresh)))
			rc = -1;
	}
	if (f->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
		if (system(cmd) != 0)
			rc = -1;
	}
	free(f);
	return rc;
}

/* What setup makes; false leaves teardown something to undo. */
static bool
fx_make(struct fx *f)
{
	static unsigned cases;
	struct userdb *db;

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_userdb.XXXXXX");
	if (!mkdtemp(f->dir)) {
		f->dir[0] = '\0';
		return false;
	}
	if (pg_server) {
		snprintf(f->dbname, sizeof(f->dbname), "test_userdb_%ld_%u",
			 (long)getpid(), cases++);
		if (!pg_create(f->dbname, f->path, sizeof(f->path)))
			return false;
	} else {
		snprintf(f->path, sizeof(f->path), "%s/a/b/users.db", f->dir);
	}
	if (userdb_open(f->path, &db) < 0)
		return false;
	f->db = db;
	return !pg_server || pg_has_schema(f->path);
}

/* cmocka runs no teardown after a failed setup: this one undoes itself. */
static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	*state = f;
	if (fx_make(f))
		return 0;
	teardown(state);
	return -1;
}

/* The name of a store that does not exist yet: a file in a directory not
 * made yet, or an empty database. */
static void
fresh_store(struct fx *f, char *out, size_t cap)
{
	char dbname[DBNAME_MAX + 8];

	if (!pg_server) {
		snprintf(out, cap, "%s/fresh/users.db", f->dir);
		return;
	}
	snprintf(dbname, sizeof(dbname), "%s_fresh", f->dbname);
	f->has_fresh = true;
	assert_true(pg_create(dbname, out, cap));
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

	SQLITE_ONLY("the file's and directory's modes, WAL, user_version");
	snprintf(dir, sizeof(dir), "%s/a/b", f->dir);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	pragma(f->path, "PRAGMA journal_mode", v, sizeof(v));
	assert_string_equal(v, "wal");
	pragma(f->path, "PRAGMA user_version", v, sizeof(v));
	assert_string_equal(v, "6");
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

/* Sets every counter given to arg's count (the caller's decision). */
static bool
set_count(void *arg, struct userdb_failure *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		f[i].count = *(const uint32_t *)arg;
		f[i].last_unix_s = NOW;
	}
	return true;
}

/* All or nothing; a step consumed meanwhile is refused by the store too. */
static void
test_grant(void **state)
{
	struct fx *f = *state;
	struct userdb_failure_key key = { USERDB_FAILURE_USER, "alice" };
	struct userdb_failure_key src = { USERDB_FAILURE_SOURCE, "192.0.2.1" };
	uint32_t two = 2, four = 4;
	struct userdb_grant g = { .username = "alice", .now_unix_s = NOW,
				  .lifetime_s = 100, .has_step = true,
				  .step = 7, .reset = &key, .n_reset = 1,
				  .adjust = &src, .n_adjust = 1,
				  .adjust_fn = set_count, .adjust_arg = &two };
	struct userdb_admission adm;
	struct userdb_failure fc;
	struct userdb_user u;

	user_init(&u, "alice");
	assert_int_equal(userdb_user_add(f->db, &u), 0);
	assert_int_equal(userdb_failures_apply(f->db, &key, 1, set_count,
					       &four),
			 0);
	assert_int_equal(userdb_failures_apply(f->db, &src, 1, set_count,
					       &four),
			 0);
	memset(g.client_pub, 1, sizeof(g.client_pub));
	/* no address: nothing is written, counters included */
	assert_int_equal(userdb_grant(f->db, &g, assign_fixed, NULL, &adm),
			 -ENOSPC);
	assert_int_equal(userdb_user_get(f->db, "alice", &u), 0);
	assert_int_equal(u.last_step, -1);
	assert_int_equal(userdb_admission_get(f->db, g.client_pub, NOW, &adm),
			 -ENOENT);
	assert_int_equal(userdb_failure_get(f->db, &key, &fc), 0);
	assert_int_equal(fc.count, 4);
	assert_int_equal(userdb_failure_get(f->db, &src, &fc), 0);
	assert_int_equal(fc.count, 4);
	assert_int_equal(userdb_grant(f->db, &g, assign_fixed, "\x0a\0\0\x02",
				      &adm),
			 0);
	assert_int_equal(adm.expires_unix_s, NOW + 100);
	assert_int_equal(userdb_user_get(f->db, "alice", &u), 0);
	assert_int_equal(u.last_step, 7);
	/* reset cleared, adjust decided by the caller */
	assert_int_equal(userdb_failure_get(f->db, &key, &fc), 0);
	assert_int_equal(fc.count, 0);
	assert_int_equal(userdb_failure_get(f->db, &src, &fc), 0);
	assert_int_equal(fc.count, 2);
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

static bool
bump(void *arg, struct userdb_failure *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		f[i].count++;
		f[i].last_unix_s = *(const uint64_t *)arg;
	}
	return true;
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
		bad |= userdb_failures_apply(db, keys, 2, bump, &now) != 0;
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
	/* pruning keeps recent counters, and each kind by its own rule */
	assert_int_equal(userdb_failures_prune(f->db, USERDB_FAILURE_USER,
					       NOW + 10, 60, 0),
			 0);
	assert_int_equal(userdb_failures_prune(f->db, USERDB_FAILURE_USER,
					       NOW + 61, 60, 0),
			 1);
	assert_int_equal(userdb_failures_prune(f->db, USERDB_FAILURE_SOURCE,
					       NOW + 61, 60, 0),
			 1);
	assert_int_equal(userdb_failure_get(f->db, &key, &fc), 0);
	assert_int_equal(fc.count, 0);
}

struct decide {
	unsigned int calls;
	size_t n;
	bool write;
	uint32_t set_count;
	uint64_t set_locked;
};

static bool
decide(void *arg, struct userdb_failure *f, size_t n)
{
	struct decide *d = arg;
	size_t i;

	d->calls++;
	d->n = n;
	for (i = 0; i < n; i++) {
		f[i].count = d->set_count;
		f[i].last_unix_s = NOW;
		f[i].locked_until_unix_s = d->set_locked;
	}
	return d->write;
}

/* fn sees every counter at once and decides whether anything is written;
 * a counter at zero without a lock is not kept. */
static void
test_failures_apply(void **state)
{
	struct fx *f = *state;
	struct userdb_failure_key keys[2] = {
		{ USERDB_FAILURE_USER, "alice" },
		{ USERDB_FAILURE_SOURCE, "2001:db8::/64" },
	};
	struct decide d = { 0, 0, false, 4, NOW + 60 };
	struct userdb_failure fc;

	assert_int_equal(userdb_failures_apply(f->db, keys, 2, decide, &d), 0);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.n, 2);
	assert_int_equal(userdb_failure_get(f->db, &keys[0], &fc), 0);
	assert_int_equal(fc.count, 0);
	d.write = true;
	assert_int_equal(userdb_failures_apply(f->db, keys, 2, decide, &d), 0);
	assert_int_equal(userdb_failure_get(f->db, &keys[1], &fc), 0);
	assert_int_equal(fc.count, 4);
	assert_int_equal(fc.locked_until_unix_s, NOW + 60);
	/* a lock alone is kept; zero and no lock is removed */
	d.set_count = 0;
	assert_int_equal(userdb_failures_apply(f->db, keys, 1, decide, &d), 0);
	assert_int_equal(userdb_failure_clear(f->db, &keys[0]), 0);
	d.set_locked = 0;
	assert_int_equal(userdb_failures_apply(f->db, keys, 2, decide, &d), 0);
	assert_int_equal(userdb_failure_clear(f->db, &keys[0]), -ENOENT);
	assert_int_equal(userdb_failure_clear(f->db, &keys[1]), -ENOENT);
}

struct listed {
	char text[256];
	size_t n;
};

static int
list_one(void *arg, const struct userdb_failure_key *key,
	 const struct userdb_failure *fc)
{
	struct listed *l = arg;
	size_t len = strlen(l->text);

	snprintf(l->text + len, sizeof(l->text) - len, "%s:%s:%u:%llu;",
		 key->kind == USERDB_FAILURE_USER ? "user" : "source", key->key,
		 fc->count, (unsigned long long)fc->locked_until_unix_s);
	return ++l->n == 3 ? 7 : 0; /* stop after three */
}

static void
test_failures_list_clear(void **state)
{
	struct fx *f = *state;
	static const struct userdb_failure_key keys[] = {
		{ USERDB_FAILURE_SOURCE, "192.0.2.1" },
		{ USERDB_FAILURE_USER, "zoe" },
		{ USERDB_FAILURE_USER, "alice" },
		{ USERDB_FAILURE_SOURCE, "2001:db8::/64" },
	};
	struct decide d = { 0, 0, true, 2, NOW + 5 };
	struct listed l = { "", 0 };
	size_t i;

	for (i = 0; i < 4; i++)
		assert_int_equal(userdb_failures_apply(f->db, &keys[i], 1,
						       decide, &d),
				 0);
	/* users first, then sources, each in key order; fn can stop it */
	assert_int_equal(userdb_failures_list(f->db, list_one, &l), 7);
	assert_string_equal(l.text, "user:alice:2:1700000005;"
				    "user:zoe:2:1700000005;"
				    "source:192.0.2.1:2:1700000005;");
	/* a user and a source of the same text are different counters */
	assert_int_equal(userdb_failure_clear(f->db,
					      &(struct userdb_failure_key){
						      USERDB_FAILURE_USER,
						      "192.0.2.1" }),
			 -ENOENT);
	assert_int_equal(userdb_failure_clear(f->db, &keys[0]), 0);
	assert_int_equal(userdb_failure_clear(f->db, &keys[0]), -ENOENT);
	memset(&l, 0, sizeof(l));
	assert_int_equal(userdb_failures_list(f->db, list_one, &l), 7);
	assert_string_equal(l.text, "user:alice:2:1700000005;"
				    "user:zoe:2:1700000005;"
				    "source:2001:db8::/64:2:1700000005;");
}

/* A counter goes when idle_s + count * per_failure_s have passed since its
 * last failure, and never while locked. */
static void
test_failures_prune(void **state)
{
	struct fx *f = *state;
	struct userdb_failure_key src = { USERDB_FAILURE_SOURCE, "192.0.2.9" };
	struct userdb_failure_key locked = { USERDB_FAILURE_SOURCE,
					     "192.0.2.10" };
	struct decide d = { 0, 0, true, 3, 0 };
	struct decide l = { 0, 0, true, 3, NOW + 1000 };

	assert_int_equal(userdb_failures_apply(f->db, &src, 1, decide, &d), 0);
	assert_int_equal(userdb_failures_apply(f->db, &locked, 1, decide, &l),
			 0);
	assert_int_equal(userdb_failures_prune(f->db, USERDB_FAILURE_SOURCE,
					       NOW + 310, 10, 100),
			 0);
	assert_int_equal(userdb_failures_prune(f->db, USERDB_FAILURE_SOURCE,
					       NOW + 311, 10, 100),
			 1);
	assert_int_equal(userdb_failure_clear(f->db, &src), -ENOENT);
	assert_int_equal(userdb_failures_prune(f->db, USERDB_FAILURE_SOURCE,
					       NOW + 999, 0, 0),
			 0);
	assert_int_equal(userdb_failures_prune(f->db, USERDB_FAILURE_SOURCE,
					       NOW + 1000, 0, 0),
			 1);
}

/* ---- admissions, stamps and events ------------------------------------------ */

/* The grant's assign: the address given by arg, whatever was there. */
static bool
assign_to(void *arg, const struct userdb_addr_view *v,
	  struct userdb_admission *adm)
{
	(void)v;
	adm->has_addr4 = arg != NULL;
	if (arg)
		memcpy(adm->addr4, arg, 4);
	adm->has_addr6 = false;
	return arg != NULL;
}

/* Admits key `key` for `name` at 10.0.0.<host> with the given stamp
 * (NULL: none); the user's step grows each time. */
static void
admit(struct fx *f, const char *name, uint8_t key, uint8_t host,
      const uint8_t *stamp)
{
	static int64_t step = 100;
	struct userdb_grant g = { .username = name, .now_unix_s = NOW,
				  .lifetime_s = 600, .has_step = true,
				  .step = step++ };
	uint8_t addr[4] = { 10, 0, 0, host };
	struct userdb_admission adm;

	memset(g.client_pub, key, sizeof(g.client_pub));
	if (stamp) {
		g.has_stamp = true;
		memcpy(g.stamp, stamp, USERDB_STAMP_LEN);
	}
	assert_int_equal(userdb_grant(f->db, &g, assign_to, addr, &adm), 0);
}

static void
add(struct fx *f, const char *name)
{
	struct userdb_user u;

	user_init(&u, name);
	assert_int_equal(userdb_user_add(f->db, &u), 0);
}

static bool
has_admission(struct fx *f, uint8_t key)
{
	uint8_t pub[USERDB_KEY_LEN];
	struct userdb_admission adm;

	memset(pub, key, sizeof(pub));
	return userdb_admission_get(f->db, pub, NOW, &adm) == 0;
}

#define MAX_EVENTS 16

struct events {
	struct userdb_event e[MAX_EVENTS];
	size_t n;
};

static void
keep_event(void *arg, const struct userdb_event *e)
{
	struct events *ev = arg;

	assert_true(ev->n < MAX_EVENTS);
	ev->e[ev->n++] = *e;
}

/* Polls after *seq; returns how many came and moves *seq past them. */
static size_t
poll_events(struct userdb *db, uint64_t *seq, struct events *ev)
{
	int n;

	memset(ev, 0, sizeof(*ev));
	n = userdb_events_after(db, *seq, keep_event, ev);
	assert_true(n >= 0);
	assert_int_equal((size_t)n, ev->n);
	if (ev->n)
		*seq = ev->e[ev->n - 1].seq;
	return ev->n;
}

/*
 * As poll_events(), for events another connection wrote: PostgreSQL tells
 * a reader by a notification that may arrive a moment after the writer's
 * COMMIT returned, so this polls until some come, for at most 5 s.
 */
static size_t
wait_events(struct userdb *db, uint64_t *seq, struct events *ev)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (poll_events(db, seq, ev) > 0 || !pg_server)
			break;
		usleep(10 * 1000);
	}
	return ev->n;
}

static void
assert_event_at(const struct userdb_event *e, const char *name, uint8_t key,
		const char *reason, uint64_t expires_unix_s)
{
	uint8_t pub[USERDB_KEY_LEN];

	memset(pub, key, sizeof(pub));
	assert_string_equal(e->kind, USERDB_EVENT_ADMISSION_END);
	assert_string_equal(e->username, name);
	assert_memory_equal(e->client_pub, pub, sizeof(pub));
	assert_string_equal(e->reason, reason);
	assert_true(e->time_unix_s > 0);
	assert_int_equal(e->expires_unix_s, expires_unix_s);
}

/* Every admission admit() makes lasts 600 s from NOW. */
static void
assert_event(const struct userdb_event *e, const char *name, uint8_t key,
	     const char *reason)
{
	assert_event_at(e, name, key, reason, NOW + 600);
}

/*
 * Every change that ends admissions writes one event per admission it
 * ended, in the same transaction, and nothing else does; a reader on
 * another connection sees them in order, once.
 */
static void
test_events_from_changes(void **state)
{
	struct fx *f = *state;
	uint8_t secret[TOTP_SECRET_LEN] = { 7 };
	uint8_t pub[USERDB_KEY_LEN];
	struct userdb *reader;
	struct events ev;
	uint64_t seq = 0, head;
	size_t i;

	add(f, "alice");
	add(f, "bob");
	assert_int_equal(userdb_open(f->path, &reader), 0);
	assert_int_equal(userdb_events_head(reader, &head), 0);
	assert_int_equal(head, 0);
	assert_int_equal(poll_events(reader, &seq, &ev), 0);

	admit(f, "alice", 1, 2, NULL);
	admit(f, "alice", 2, 3, NULL);
	admit(f, "bob", 3, 4, NULL);
	/* grants and logins are no events */
	assert_int_equal(poll_events(reader, &seq, &ev), 0);
	assert_int_equal(userdb_user_set_password(f->db, "alice", "$new"), 0);
	assert_int_equal(wait_events(reader, &seq, &ev), 2);
	assert_event(&ev.e[0], "alice", 1, "password changed");
	assert_event(&ev.e[1], "alice", 2, "password changed");
	assert_true(ev.e[0].seq < ev.e[1].seq);
	assert_false(has_admission(f, 1));
	assert_false(has_admission(f, 2));
	assert_true(has_admission(f, 3));
	/* nothing new: nothing again */
	assert_int_equal(poll_events(reader, &seq, &ev), 0);

	admit(f, "alice", 1, 2, NULL);
	assert_int_equal(userdb_user_set_totp(f->db, "alice", secret,
					      sizeof(secret)),
			 0);
	admit(f, "alice", 1, 2, NULL);
	assert_int_equal(userdb_user_set_enabled(f->db, "alice", false), 0);
	assert_int_equal(userdb_user_set_enabled(f->db, "alice", true), 0);
	admit(f, "alice", 1, 2, NULL);
	assert_int_equal(userdb_user_del(f->db, "alice"), 0);
	memset(pub, 3, sizeof(pub));
	assert_int_equal(userdb_admission_end(f->db, pub, "logged out"), 0);
	/* no admission: no event */
	assert_int_equal(userdb_admission_end(f->db, pub, "logged out"), 0);
	assert_int_equal(userdb_user_set_password(f->db, "nobody", "$x"),
			 -ENOENT);
	assert_int_equal(userdb_user_set_totp(f->db, "nobody", secret,
					      sizeof(secret)),
			 -ENOENT);
	assert_int_equal(userdb_user_set_totp(f->db, "bob", secret, 0),
			 -EINVAL);
	assert_int_equal(wait_events(reader, &seq, &ev), 4);
	assert_event(&ev.e[0], "alice", 1, "authenticator reset");
	assert_event(&ev.e[1], "alice", 1, "account disabled");
	assert_event(&ev.e[2], "alice", 1, "account deleted");
	assert_event(&ev.e[3], "bob", 3, "logged out");
	for (i = 1; i < ev.n; i++)
		assert_true(ev.e[i - 1].seq < ev.e[i].seq);
	assert_int_equal(userdb_events_head(f->db, &head), 0);
	assert_int_equal(head, seq);
	/* from an older seq, the same events come again */
	seq = ev.e[1].seq;
	assert_int_equal(poll_events(reader, &seq, &ev), 2);
	assert_event(&ev.e[0], "alice", 1, "account deleted");
	userdb_close(reader);
}

/*
 * A login verified against credentials that changed before its grant (a
 * password change or TOTP reset in between) is refused, and writes
 * nothing: that change's event could not have ended it.
 */
static void
test_grant_stale_credentials(void **state)
{
	struct fx *f = *state;
	uint8_t secret[TOTP_SECRET_LEN], other[TOTP_SECRET_LEN];
	uint8_t addr[4] = { 10, 0, 0, 9 };
	struct userdb_grant g = { .username = "alice", .now_unix_s = NOW,
				  .lifetime_s = 600, .has_step = true,
				  .step = 500 };
	struct userdb_admission adm;
	struct userdb_user u;

	add(f, "alice");
	assert_int_equal(userdb_user_get(f->db, "alice", &u), 0);
	memcpy(secret, u.totp_secret, sizeof(secret));
	memset(g.client_pub, 7, sizeof(g.client_pub));
	g.pw_hash = "$argon2id$an-older-hash";
	g.totp_secret = secret;
	g.totp_secret_len = sizeof(secret);
	assert_int_equal(userdb_grant(f->db, &g, assign_to, addr, &adm),
			 -ESTALE);
	assert_false(has_admission(f, 7));
	g.pw_hash = u.pw_hash;
	memcpy(other, secret, sizeof(other));
	other[0] ^= 1;
	g.totp_secret = other;
	assert_int_equal(userdb_grant(f->db, &g, assign_to, addr, &adm),
			 -ESTALE);
	assert_false(has_admission(f, 7));
	/* The step was not consumed by the refusals. */
	g.totp_secret = secret;
	assert_int_equal(userdb_grant(f->db, &g, assign_to, addr, &adm), 0);
	assert_true(has_admission(f, 7));
}

/* A site account's subnets: replaced whole, read back in order, a prefix
 * belongs to one account, and they go with the account. */
static void
test_subnets(void **state)
{
	struct fx *f = *state;
	struct prefix in[3], out[USERDB_SUBNETS_MAX], other;
	size_t n;

	add(f, "branch");
	add(f, "depot");
	assert_true(prefix_parse("192.168.1.0/24", &in[0]));
	assert_true(prefix_parse("fd00:b::/64", &in[1]));
	assert_true(prefix_parse("192.168.2.0/25", &in[2]));
	assert_int_equal(userdb_subnets_set(f->db, "branch", in, 3), 0);
	assert_int_equal(userdb_subnets_get(f->db, "branch", out,
					    USERDB_SUBNETS_MAX, &n),
			 0);
	assert_int_equal(n, 3);
	assert_int_equal(out[0].family, AF_INET);
	assert_memory_equal(out[0].addr, in[0].addr, 4);
	assert_int_equal(out[0].len, 24);
	assert_int_equal(out[1].len, 25);
	assert_int_equal(out[2].family, AF_INET6);
	assert_int_equal(out[2].len, 64);
	/* Another account cannot take one; nothing of it is written. */
	assert_true(prefix_parse("10.5.0.0/16", &other));
	in[0] = other;
	assert_int_equal(userdb_subnets_set(f->db, "depot", &in[1], 2),
			 -EEXIST);
	assert_int_equal(userdb_subnets_get(f->db, "depot", out,
					    USERDB_SUBNETS_MAX, &n),
			 0);
	assert_int_equal(n, 0);
	assert_int_equal(userdb_subnets_set(f->db, "nobody", in, 1), -ENOENT);
	/* Replaced whole; gone with the account. */
	assert_int_equal(userdb_subnets_set(f->db, "branch", &other, 1), 0);
	assert_int_equal(userdb_subnets_get(f->db, "branch", out,
					    USERDB_SUBNETS_MAX, &n),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(userdb_user_del(f->db, "branch"), 0);
	assert_int_equal(userdb_subnets_set(f->db, "depot", &other, 1), 0);
}

/* A site's subnets changed while it is admitted: one "admission-changed"
 * event per admission of it, which stays; none for other accounts. */
static void
test_subnets_change_event(void **state)
{
	struct fx *f = *state;
	struct prefix net;
	struct events ev;
	uint64_t seq = 0;
	uint8_t pub[USERDB_KEY_LEN];

	add(f, "branch");
	add(f, "alice");
	admit(f, "branch", 1, 2, NULL);
	admit(f, "branch", 2, 3, NULL);
	admit(f, "alice", 3, 4, NULL);
	assert_true(prefix_parse("192.168.1.0/24", &net));
	assert_int_equal(userdb_subnets_set(f->db, "branch", &net, 1), 0);
	assert_int_equal(poll_events(f->db, &seq, &ev), 2);
	memset(pub, 1, sizeof(pub));
	assert_string_equal(ev.e[0].kind, USERDB_EVENT_ADMISSION_CHANGED);
	assert_string_equal(ev.e[0].username, "branch");
	assert_memory_equal(ev.e[0].client_pub, pub, sizeof(pub));
	assert_int_equal(ev.e[0].expires_unix_s, NOW + 600);
	memset(pub, 2, sizeof(pub));
	assert_string_equal(ev.e[1].kind, USERDB_EVENT_ADMISSION_CHANGED);
	assert_memory_equal(ev.e[1].client_pub, pub, sizeof(pub));
	assert_true(has_admission(f, 1));
	assert_true(has_admission(f, 2));
	/* Set, even to none: alice's admission is told. */
	assert_int_equal(userdb_subnets_set(f->db, "alice", NULL, 0), 0);
	assert_int_equal(poll_events(f->db, &seq, &ev), 1);
	assert_string_equal(ev.e[0].username, "alice");
	assert_int_equal(userdb_user_del(f->db, "alice"), 0);
	assert_int_equal(poll_events(f->db, &seq, &ev), 1);
	assert_string_equal(ev.e[0].kind, USERDB_EVENT_ADMISSION_END);
}

/* Pruning ends expired admissions like any change: one event each, so
 * every vpnd forgets them; live ones stay, and make no event. */
static void
test_events_from_prune(void **state)
{
	struct fx *f = *state;
	struct events ev;
	uint64_t seq = 0;

	add(f, "alice");
	add(f, "bob");
	admit(f, "alice", 1, 2, NULL);
	admit(f, "bob", 2, 3, NULL);
	assert_int_equal(userdb_admissions_prune(f->db, NOW + 599), 0);
	assert_int_equal(poll_events(f->db, &seq, &ev), 0);
	assert_int_equal(userdb_admissions_prune(f->db, NOW + 600), 2);
	assert_int_equal(poll_events(f->db, &seq, &ev), 2);
	assert_event(&ev.e[0], "alice", 1, "session expired");
	assert_event(&ev.e[1], "bob", 2, "session expired");
	assert_false(has_admission(f, 1));
	assert_int_equal(userdb_admissions_prune(f->db, NOW + 9999), 0);
	assert_int_equal(poll_events(f->db, &seq, &ev), 0);
}

/* The poller's own connection writes too (vpnd's store thread ends
 * admissions on LOGOUT): those are seen as well. */
static void
test_events_own_writes(void **state)
{
	struct fx *f = *state;
	uint8_t pub[USERDB_KEY_LEN];
	struct events ev;
	uint64_t seq = 0;

	add(f, "alice");
	assert_int_equal(poll_events(f->db, &seq, &ev), 0);
	admit(f, "alice", 1, 2, NULL);
	memset(pub, 1, sizeof(pub));
	assert_int_equal(userdb_admission_end(f->db, pub, "logged out"), 0);
	assert_int_equal(poll_events(f->db, &seq, &ev), 1);
	assert_event(&ev.e[0], "alice", 1, "logged out");
	assert_int_equal(poll_events(f->db, &seq, &ev), 0);
}

/* Events by another program's SQLite connection (a second vpnd, vpnctl)
 * end a reader's idle polls. */
static void
test_events_other_connection(void **state)
{
	struct fx *f = *state;
	struct events ev;
	uint64_t seq = 0;
	sqlite3 *raw;

	SQLITE_ONLY("a raw SQLite connection writes the event");
	assert_int_equal(poll_events(f->db, &seq, &ev), 0);
	assert_int_equal(poll_events(f->db, &seq, &ev), 0);
	assert_int_equal(sqlite3_open(f->path, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw,
				      "INSERT INTO events (time, kind, user, "
				      "client_key, reason) VALUES (1, "
				      "'admission-end', 'x', zeroblob(32), "
				      "'kicked')",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(raw);
	assert_int_equal(poll_events(f->db, &seq, &ev), 1);
	assert_string_equal(ev.e[0].reason, "kicked");
	assert_int_equal(ev.e[0].time_unix_s, 1);
}

/* Old events go; their seqs are never given again. */
static void
test_events_prune(void **state)
{
	struct fx *f = *state;
	struct events ev;
	uint64_t seq = 0, head;

	add(f, "alice");
	admit(f, "alice", 1, 2, NULL);
	admit(f, "alice", 2, 3, NULL);
	assert_int_equal(userdb_user_set_password(f->db, "alice", "$x"), 0);
	assert_int_equal(poll_events(f->db, &seq, &ev), 2);
	assert_int_equal(userdb_events_prune(f->db, 3600), 0);
	store_exec(f, "UPDATE events SET time = time - 3601");
	assert_int_equal(userdb_events_prune(f->db, 3600), 2);
	assert_int_equal(userdb_events_head(f->db, &head), 0);
	assert_int_equal(head, seq);
	admit(f, "alice", 1, 2, NULL);
	assert_int_equal(userdb_user_set_enabled(f->db, "alice", false), 0);
	assert_int_equal(poll_events(f->db, &seq, &ev), 1);
	assert_int_equal(ev.e[0].seq, head + 1);
}

struct stamps_seen {
	size_t n;
	uint8_t keys[8];
	bool has[8];
	uint8_t last_byte[8];
};

static int
see_admission(void *arg, const struct userdb_admission *adm)
{
	struct stamps_seen *s = arg;

	assert_true(s->n < 8);
	s->keys[s->n] = adm->client_pub[0];
	s->has[s->n] = adm->has_stamp;
	s->last_byte[s->n] = adm->stamp[USERDB_STAMP_LEN - 1];
	s->n++;
	return 0;
}

static void
stamp_of(uint8_t out[USERDB_STAMP_LEN], uint8_t sec, uint8_t tail)
{
	memset(out, 0, USERDB_STAMP_LEN);
	out[0] = 0x40;
	out[7] = sec;
	out[USERDB_STAMP_LEN - 1] = tail;
}

/* A stored stamp only ever rises: by a grant, or by a save. */
static void
test_stamps(void **state)
{
	struct fx *f = *state;
	uint8_t s5[USERDB_STAMP_LEN], s3[USERDB_STAMP_LEN];
	struct userdb_stamp v[3];
	struct userdb_admission adm;
	struct stamps_seen seen = { 0 };
	uint8_t pub[USERDB_KEY_LEN];

	add(f, "alice");
	stamp_of(s5, 5, 0x55);
	stamp_of(s3, 9, 0x33); /* later second, smaller tail byte */
	admit(f, "alice", 1, 2, s5);
	admit(f, "alice", 2, 3, NULL);
	memset(pub, 1, sizeof(pub));
	assert_int_equal(userdb_admission_get(f->db, pub, NOW, &adm), 0);
	assert_true(adm.has_stamp);
	assert_memory_equal(adm.stamp, s5, USERDB_STAMP_LEN);
	/* a grant with an older stamp keeps the newer one */
	stamp_of(s3, 4, 0x99);
	admit(f, "alice", 1, 2, s3);
	assert_int_equal(userdb_admission_get(f->db, pub, NOW, &adm), 0);
	assert_memory_equal(adm.stamp, s5, USERDB_STAMP_LEN);
	/* saves: lower is ignored, higher raises, no admission is skipped */
	memset(v, 0, sizeof(v));
	memset(v[0].client_pub, 1, USERDB_KEY_LEN);
	stamp_of(v[0].stamp, 5, 0x54);
	memset(v[1].client_pub, 2, USERDB_KEY_LEN);
	stamp_of(v[1].stamp, 6, 0x66);
	memset(v[2].client_pub, 9, USERDB_KEY_LEN);
	stamp_of(v[2].stamp, 7, 0x77);
	assert_int_equal(userdb_stamps_raise(f->db, v, 3), 0);
	assert_int_equal(userdb_admissions_list(f->db, NOW, see_admission,
						&seen),
			 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.keys[0], 1);
	assert_int_equal(seen.last_byte[0], 0x55);
	assert_int_equal(seen.keys[1], 2);
	assert_true(seen.has[1]);
	assert_int_equal(seen.last_byte[1], 0x66);
	stamp_of(v[0].stamp, 5, 0x56);
	assert_int_equal(userdb_stamps_raise(f->db, v, 1), 0);
	assert_int_equal(userdb_admission_get(f->db, pub, NOW, &adm), 0);
	assert_int_equal(adm.stamp[USERDB_STAMP_LEN - 1], 0x56);
	/* expired and disabled admissions are not listed */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(userdb_admissions_list(f->db, NOW + 600,
						see_admission, &seen),
			 0);
	assert_int_equal(seen.n, 0);
	assert_int_equal(userdb_user_set_enabled(f->db, "alice", false), 0);
	assert_int_equal(userdb_admissions_list(f->db, NOW, see_admission,
						&seen),
			 0);
	assert_int_equal(seen.n, 0);
}

struct readdress {
	uint8_t old4[4];
	bool had4;
	const uint8_t *to; /* NULL: nothing free */
	bool saw_fixed, saw_lease;
	uint8_t fixed4[4], lease4[4];
};

static bool
readdress_to(void *arg, const struct userdb_addr_view *v,
	     struct userdb_admission *adm)
{
	struct readdress *r = arg;

	r->had4 = adm->has_addr4;
	memcpy(r->old4, adm->addr4, 4);
	r->saw_fixed = v->has_fixed4;
	memcpy(r->fixed4, v->fixed4, 4);
	r->saw_lease = v->has_lease4;
	memcpy(r->lease4, v->lease4, 4);
	if (!r->to)
		return false;
	memcpy(adm->addr4, r->to, 4);
	return true;
}

/* In one transaction: the new address with the admission and the lease;
 * another key holding it loses its admission, with an event. */
static void
test_readdress(void **state)
{
	struct fx *f = *state;
	struct readdress r = { .to = NULL };
	struct userdb_admission adm;
	struct userdb_user u;
	uint8_t pub[USERDB_KEY_LEN];
	struct events ev;
	uint64_t seq = 0;

	user_init(&u, "alice");
	u.has_addr4 = true;
	memcpy(u.addr4, "\x0a\x00\x00\x09", 4);
	assert_int_equal(userdb_user_add(f->db, &u), 0);
	add(f, "bob");
	admit(f, "alice", 1, 2, NULL);
	admit(f, "bob", 2, 9, NULL);
	memset(pub, 1, sizeof(pub));
	/* nothing free: nothing written */
	assert_int_equal(userdb_admission_readdress(f->db, pub, NOW,
						    readdress_to, &r, &adm),
			 -ENOSPC);
	assert_true(r.had4);
	assert_memory_equal(r.old4, "\x0a\x00\x00\x02", 4);
	assert_true(r.saw_fixed);
	assert_memory_equal(r.fixed4, "\x0a\x00\x00\x09", 4);
	assert_true(r.saw_lease);
	assert_memory_equal(r.lease4, "\x0a\x00\x00\x02", 4);
	assert_int_equal(userdb_admission_get(f->db, pub, NOW, &adm), 0);
	assert_memory_equal(adm.addr4, "\x0a\x00\x00\x02", 4);
	/* alice's fixed address, held by bob's key */
	r.to = (const uint8_t *)"\x0a\x00\x00\x09";
	assert_int_equal(userdb_admission_readdress(f->db, pub, NOW,
						    readdress_to, &r, &adm),
			 0);
	assert_memory_equal(adm.addr4, "\x0a\x00\x00\x09", 4);
	assert_string_equal(adm.username, "alice");
	assert_int_equal(userdb_admission_get(f->db, pub, NOW, &adm), 0);
	assert_memory_equal(adm.addr4, "\x0a\x00\x00\x09", 4);
	assert_false(has_admission(f, 2));
	assert_int_equal(poll_events(f->db, &seq, &ev), 1);
	assert_event(&ev.e[0], "bob", 2, "address given to its owner");
	/* the lease moved too: the next re-addressing is offered it */
	r.to = NULL;
	assert_int_equal(userdb_admission_readdress(f->db, pub, NOW,
						    readdress_to, &r, &adm),
			 -ENOSPC);
	assert_memory_equal(r.old4, "\x0a\x00\x00\x09", 4);
	assert_memory_equal(r.lease4, "\x0a\x00\x00\x09", 4);
	memset(pub, 7, sizeof(pub));
	assert_int_equal(userdb_admission_readdress(f->db, pub, NOW,
						    readdress_to, &r, &adm),
			 -ENOENT);
}

/* A store from before the events and the stamps opens, keeps its rows
 * and gains both. */
static void
test_migrate_from_1(void **state)
{
	struct fx *f = *state;
	static const char *const v1 =
		"CREATE TABLE users (name TEXT PRIMARY KEY NOT NULL, pw_hash "
		"TEXT NOT NULL, totp_secret BLOB NOT NULL, totp_algorithm TEXT "
		"NOT NULL DEFAULT 'SHA1', totp_digits INTEGER NOT NULL DEFAULT "
		"6, totp_period INTEGER NOT NULL DEFAULT 30, totp_last_step "
		"INTEGER NOT NULL DEFAULT -1, enabled INTEGER NOT NULL DEFAULT "
		"1, role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', "
		"'admin', 'site')), addr4 BLOB UNIQUE, addr6 BLOB UNIQUE, "
		"lifetime_s INTEGER, created INTEGER NOT NULL);"
		"CREATE TABLE failures (kind TEXT NOT NULL CHECK (kind IN "
		"('user', 'source')), key TEXT NOT NULL, count INTEGER NOT "
		"NULL, last_failure INTEGER NOT NULL, locked_until INTEGER NOT "
		"NULL DEFAULT 0, PRIMARY KEY (kind, key)) WITHOUT ROWID;"
		"CREATE TABLE admissions (client_key BLOB PRIMARY KEY NOT "
		"NULL, user TEXT NOT NULL REFERENCES users(name) ON DELETE "
		"CASCADE, created INTEGER NOT NULL, expires INTEGER NOT NULL, "
		"addr4 BLOB, addr6 BLOB);"
		"CREATE TABLE leases (user TEXT NOT NULL REFERENCES users(name) "
		"ON DELETE CASCADE, client_key BLOB NOT NULL, addr4 BLOB, addr6 "
		"BLOB, updated INTEGER NOT NULL, PRIMARY KEY (user, "
		"client_key));"
		"CREATE TABLE recovery_codes (id INTEGER PRIMARY KEY, user TEXT "
		"NOT NULL REFERENCES users(name) ON DELETE CASCADE, salt BLOB "
		"NOT NULL, hash BLOB NOT NULL, used INTEGER NOT NULL DEFAULT 0, "
		"created INTEGER NOT NULL);"
		"INSERT INTO users (name, pw_hash, totp_secret, created) VALUES "
		"('old', '$h', x'4242424242', 1);"
		"INSERT INTO admissions VALUES (x'"
		"0101010101010101010101010101010101010101010101010101010101010101"
		"', 'old', 1, 1800000000, x'0a000005', NULL);"
		"PRAGMA user_version = 1;";
	char path[160], v[32];
	struct userdb *db;
	struct userdb_admission adm;
	struct userdb_user u;
	uint8_t pub[USERDB_KEY_LEN];
	struct events ev;
	uint64_t seq = 0;
	sqlite3 *raw;

	SQLITE_ONLY("migrates a version 1 SQLite file");
	snprintf(path, sizeof(path), "%s/v1.db", f->dir);
	assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, v1, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	assert_int_equal(userdb_open(path, &db), 0);
	pragma(path, "PRAGMA user_version", v, sizeof(v));
	assert_string_equal(v, "6");
	memset(pub, 1, sizeof(pub));
	assert_int_equal(userdb_admission_get(db, pub, NOW, &adm), 0);
	assert_string_equal(adm.username, "old");
	assert_memory_equal(adm.addr4, "\x0a\x00\x00\x05", 4);
	assert_false(adm.has_stamp);
	/* no login recorded before version 4 */
	assert_int_equal(userdb_user_get(db, "old", &u), 0);
	assert_false(u.has_last_login);
	assert_int_equal(userdb_user_del(db, "old"), 0);
	assert_int_equal(poll_events(db, &seq, &ev), 1);
	assert_event_at(&ev.e[0], "old", 1, "account deleted",
			adm.expires_unix_s);
	userdb_close(db);
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
	char path[STORE_NAME_MAX];
	struct userdb *db;
	struct userdb_user u;
	pthread_t t[THREADS];
	void *ret;
	int i;

	fresh_store(f, path, sizeof(path));
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, open_thread, path),
				 0);
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	/* one schema came of it, and it works */
	assert_int_equal(userdb_open(path, &db), 0);
	user_init(&u, "alice");
	assert_int_equal(userdb_user_add(db, &u), 0);
	assert_int_equal(userdb_user_get(db, "alice", &u), 0);
	userdb_close(db);
	assert_true(!pg_server || pg_has_schema(path));
}

/* ---- the user lifecycle: batches, confirmed steps, logins, devices ---- */

/* A batch is stored whole or not at all, and names the account that
 * could not be stored; a positive last_step is kept as consumed. */
static void
test_users_add_batch(void **state)
{
	struct fx *f = *state;
	struct userdb_user u[3], got;
	size_t failed = 99;

	user_init(&u[0], "ann");
	user_init(&u[1], "ben");
	user_init(&u[2], "cat");
	u[1].last_step = 56666666;
	add(f, "cat");
	assert_int_equal(userdb_users_add(f->db, u, 3, &failed), -EEXIST);
	assert_int_equal(failed, 2);
	assert_int_equal(userdb_user_get(f->db, "ann", &got), -ENOENT);
	assert_int_equal(userdb_user_get(f->db, "ben", &got), -ENOENT);
	/* the same name twice in one batch */
	user_init(&u[2], "ann");
	assert_int_equal(userdb_users_add(f->db, u, 3, &failed), -EEXIST);
	assert_int_equal(failed, 2);
	assert_int_equal(userdb_user_get(f->db, "ann", &got), -ENOENT);
	/* the same fixed address twice */
	user_init(&u[2], "dan");
	u[0].has_addr4 = u[2].has_addr4 = true;
	memcpy(u[0].addr4, "\x0a\0\0\x09", 4);
	memcpy(u[2].addr4, "\x0a\0\0\x09", 4);
	assert_int_equal(userdb_users_add(f->db, u, 3, &failed), -EEXIST);
	assert_int_equal(failed, 2);
	u[2].has_addr4 = false;
	assert_int_equal(userdb_users_add(f->db, u, 3, &failed), 0);
	assert_int_equal(userdb_user_get(f->db, "ann", &got), 0);
	assert_int_equal(got.last_step, -1);
	assert_false(got.has_last_login);
	assert_int_equal(userdb_user_get(f->db, "ben", &got), 0);
	assert_int_equal(got.last_step, 56666666);
	assert_int_equal(userdb_user_get(f->db, "dan", &got), 0);
	assert_int_equal(userdb_users_add(f->db, u, 0, &failed), 0);
}

/* A new secret confirmed by a code: the code's step is consumed with it
 * (never lowered), and the change ends admissions as a reset does. */
static void
test_set_totp_step(void **state)
{
	struct fx *f = *state;
	uint8_t secret[TOTP_SECRET_LEN];
	struct userdb_grant g = { .username = "alice", .now_unix_s = NOW,
				  .lifetime_s = 100, .has_step = true };
	struct userdb_admission adm;
	struct userdb_user got;
	struct events ev;
	uint64_t seq = 0;

	add(f, "alice");
	admit(f, "alice", 1, 5, NULL);
	assert_int_equal(userdb_events_head(f->db, &seq), 0);
	memset(secret, 0x17, sizeof(secret));
	assert_int_equal(userdb_user_set_totp_step(f->db, "alice", secret,
						   sizeof(secret), 5000),
			 0);
	assert_int_equal(userdb_user_get(f->db, "alice", &got), 0);
	assert_int_equal(got.last_step, 5000);
	assert_memory_equal(got.totp_secret, secret, sizeof(secret));
	assert_int_equal(poll_events(f->db, &seq, &ev), 1);
	assert_event(&ev.e[0], "alice", 1, USERDB_REASON_TOTP);
	/* the confirming step cannot log in; the next one can */
	memset(g.client_pub, 2, sizeof(g.client_pub));
	g.step = 5000;
	assert_int_equal(userdb_grant(f->db, &g, assign_fixed, "\x0a\0\0\x06",
				      &adm),
			 -EALREADY);
	g.step = 5001;
	assert_int_equal(userdb_grant(f->db, &g, assign_fixed, "\x0a\0\0\x06",
				      &adm),
			 0);
	/* an older step does not lower the last one */
	assert_int_equal(userdb_user_set_totp_step(f->db, "alice", secret,
						   sizeof(secret), 10),
			 0);
	assert_int_equal(userdb_user_get(f->db, "alice", &got), 0);
	assert_int_equal(got.last_step, 5001);
	assert_int_equal(userdb_user_set_totp_step(f->db, "nobody", secret,
						   sizeof(secret), 1),
			 -ENOENT);
	assert_int_equal(userdb_user_set_totp_step(f->db, "alice", secret, 0,
						   1),
			 -EINVAL);
}

#define MAX_DEVICES 8

struct devices {
	struct userdb_device d[MAX_DEVICES];
	size_t n;
};

static int
keep_device(void *arg, const struct userdb_device *d)
{
	struct devices *dv = arg;

	assert_true(dv->n < MAX_DEVICES);
	dv->d[dv->n++] = *d;
	return 0;
}

static int
list_devices(struct fx *f, const char *name, uint64_t now,
	     struct devices *dv)
{
	memset(dv, 0, sizeof(*dv));
	return userdb_devices_list(f->db, name, now, keep_device, dv);
}

/* A login of `name` from the key of 32 x `key` at `now`, given
 * 10.0.0.<host> for `lifetime` seconds. */
static void
login_at(struct fx *f, const char *name, uint8_t key, uint8_t host,
	 uint64_t now, uint32_t lifetime)
{
	static int64_t step = 1000;
	struct userdb_grant g = { .username = name, .now_unix_s = now,
				  .lifetime_s = lifetime, .has_step = true,
				  .step = step++ };
	uint8_t addr[4] = { 10, 0, 0, host };
	struct userdb_admission adm;

	memset(g.client_pub, key, sizeof(g.client_pub));
	assert_int_equal(userdb_grant(f->db, &g, assign_to, addr, &adm), 0);
}

static void
assert_device(const struct userdb_device *d, uint8_t key, uint64_t login,
	      uint8_t host, uint64_t expires)
{
	uint8_t pub[USERDB_KEY_LEN], addr[4] = { 10, 0, 0, host };

	memset(pub, key, sizeof(pub));
	assert_memory_equal(d->client_pub, pub, sizeof(pub));
	assert_true(d->has_last_login);
	assert_int_equal(d->last_login_unix_s, login);
	assert_true(d->has_addr4);
	assert_memory_equal(d->addr4, addr, 4);
	assert_false(d->has_addr6);
	assert_int_equal(d->is_admitted, expires != 0);
	assert_int_equal(d->expires_unix_s, expires);
}

/* Each login records the account's and the key's time; a re-addressing
 * is no login. Devices come most recent first, admitted or not. */
static void
test_logins_and_devices(void **state)
{
	struct fx *f = *state;
	uint8_t pub[USERDB_KEY_LEN];
	struct readdress r = { .to = (const uint8_t *)"\x0a\0\0\x09" };
	struct userdb_admission adm;
	struct userdb_user got;
	struct devices dv;

	add(f, "alice");
	add(f, "bob");
	assert_int_equal(list_devices(f, "alice", NOW, &dv), 0);
	assert_int_equal(dv.n, 0);
	assert_int_equal(list_devices(f, "nobody", NOW, &dv), -ENOENT);

	login_at(f, "alice", 1, 5, NOW, 600);
	login_at(f, "alice", 2, 6, NOW + 100, 600);
	login_at(f, "bob", 3, 7, NOW + 50, 600);
	assert_int_equal(userdb_user_get(f->db, "alice", &got), 0);
	assert_true(got.has_last_login);
	assert_int_equal(got.last_login_unix_s, NOW + 100);
	assert_int_equal(list_devices(f, "alice", NOW + 200, &dv), 0);
	assert_int_equal(dv.n, 2);
	assert_device(&dv.d[0], 2, NOW + 100, 6, NOW + 700);
	assert_device(&dv.d[1], 1, NOW, 5, NOW + 600);

	/* key 1 logs in again later: first now */
	login_at(f, "alice", 1, 5, NOW + 300, 600);
	assert_int_equal(list_devices(f, "alice", NOW + 400, &dv), 0);
	assert_device(&dv.d[0], 1, NOW + 300, 5, NOW + 900);
	/* a re-addressing moves the address, not the login time */
	memset(pub, 1, sizeof(pub));
	assert_int_equal(userdb_admission_readdress(f->db, pub, NOW + 500,
						    readdress_to, &r, &adm),
			 0);
	assert_int_equal(list_devices(f, "alice", NOW + 500, &dv), 0);
	assert_device(&dv.d[0], 1, NOW + 300, 9, NOW + 900);
	/* a logout leaves the lease: not admitted, its last address */
	userdb_admission_end(f->db, pub, USERDB_REASON_LOGOUT);
	assert_int_equal(list_devices(f, "alice", NOW + 500, &dv), 0);
	assert_device(&dv.d[0], 1, NOW + 300, 9, 0);
	/* and an admission past its expiry is not live */
	assert_int_equal(list_devices(f, "alice", NOW + 800, &dv), 0);
	assert_device(&dv.d[1], 2, NOW + 100, 6, 0);
	assert_int_equal(userdb_user_get(f->db, "alice", &got), 0);
	assert_int_equal(got.last_login_unix_s, NOW + 300);
}

/* A revoke ends the key's admission with its own event and forgets its
 * lease; other keys, and other users, keep theirs. */
static void
test_device_revoke(void **state)
{
	struct fx *f = *state;
	char owner[USERDB_NAME_MAX + 1];
	uint8_t pub[USERDB_KEY_LEN];
	struct devices dv;
	struct events ev;
	uint64_t seq = 0;

	add(f, "alice");
	add(f, "bob");
	login_at(f, "alice", 1, 5, NOW, 600);
	login_at(f, "alice", 2, 6, NOW, 600);
	login_at(f, "bob", 3, 7, NOW, 600);
	assert_int_equal(userdb_events_head(f->db, &seq), 0);
	memset(pub, 1, sizeof(pub));
	assert_int_equal(userdb_device_revoke(f->db, pub, USERDB_REASON_REVOKED,
					      owner),
			 1);
	assert_string_equal(owner, "alice");
	assert_int_equal(poll_events(f->db, &seq, &ev), 1);
	assert_event(&ev.e[0], "alice", 1, "device revoked");
	assert_false(has_admission(f, 1));
	assert_true(has_admission(f, 2));
	assert_true(has_admission(f, 3));
	assert_int_equal(list_devices(f, "alice", NOW, &dv), 0);
	assert_int_equal(dv.n, 1);
	assert_device(&dv.d[0], 2, NOW, 6, NOW + 600);
	/* gone: nothing to revoke, no event */
	assert_int_equal(userdb_device_revoke(f->db, pub, USERDB_REASON_REVOKED,
					      owner),
			 -ENOENT);
	assert_int_equal(poll_events(f->db, &seq, &ev), 0);
	/* a key with a lease and no admission: forgotten, no event */
	memset(pub, 2, sizeof(pub));
	userdb_admission_end(f->db, pub, USERDB_REASON_LOGOUT);
	assert_int_equal(poll_events(f->db, &seq, &ev), 1);
	assert_int_equal(userdb_device_revoke(f->db, pub, USERDB_REASON_REVOKED,
					      owner),
			 0);
	assert_string_equal(owner, "alice");
	assert_int_equal(poll_events(f->db, &seq, &ev), 0);
	assert_int_equal(list_devices(f, "alice", NOW, &dv), 0);
	assert_int_equal(dv.n, 0);
	assert_int_equal(list_devices(f, "bob", NOW, &dv), 0);
	assert_int_equal(dv.n, 1);
	/* a new login of a revoked key starts afresh */
	login_at(f, "alice", 1, 8, NOW + 10, 600);
	assert_int_equal(list_devices(f, "alice", NOW + 10, &dv), 0);
	assert_device(&dv.d[0], 1, NOW + 10, 8, NOW + 610);
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
		cmocka_unit_test_setup_teardown(test_failures_apply, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failures_list_clear, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failures_prune, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_events_from_changes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_events_from_prune, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_grant_stale_credentials,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_subnets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subnets_change_event,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_own_writes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_events_other_connection,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_prune, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stamps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readdress, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_1, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_users_add_batch, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_set_totp_step, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_logins_and_devices, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_device_revoke, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_create, setup,
						teardown),
	};

	pg_server = getenv("VPN_TEST_USERDB_PG");
	if (pg_server && !pg_server[0])
		pg_server = NULL;
	log_init("test_userdb", false, LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
