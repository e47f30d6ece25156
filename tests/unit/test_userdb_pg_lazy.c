// SPDX-License-Identifier: MIT
/*
 * vpnd's lazy opening of a PostgreSQL store (userdb_open_lazy): a server
 * that does not answer at open is no error (the handle is made, every
 * operation answers -ENOTCONN, fast, and the first call that finds the
 * server up connects and creates the schema, which open did not); a
 * server that answers but refuses (no such database, a wrong password)
 * and a schema newer than the program still fail the open; a newer
 * schema found only once the server comes back is never used (calls go
 * on answering -ENOTCONN, the schema untouched). vpnctl's open stays as
 * it was: -ENOTCONN at once.
 *
 * The test starts its own throwaway server (tests/tools/pgserver.sh, as
 * test_userdb_pg does) and fails, saying so, without one.
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
#include <fcntl.h>
#include <libpq-fe.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../vpnd/userdb_backend.h"
#include "log.h"
#include "pgserver.h"

#define NOW 1700000000ULL
#define WAIT_MS 10000

static bool is_stopped;  /* by a case */

/* ---- the server ------------------------------------------------------------- */

static bool
server_stop(void)
{
	is_stopped = true;
	return pgserver_run("stop", NULL, 0);
}

static bool
server_start(void)
{
	is_stopped = !pgserver_run("start", pgserver_conninfo,
				   sizeof(pgserver_conninfo));
	return !is_stopped;
}

static int
group_setup(void **state)
{
	(void)state;
	return pgserver_setup("test_userdb_pg_lazy");
}

static int
group_teardown(void **state)
{
	(void)state;
	return pgserver_teardown();
}

struct fx {
	char dbname[64];
	char conninfo[640];
};

/* An empty database of the case's own (no schema: nobody opened it). */
static int
setup(void **state)
{
	static unsigned int cases;
	struct fx *f = calloc(1, sizeof(*f));
	char text[128];

	if (!f)
		return -1;
	*state = f;
	snprintf(f->dbname, sizeof(f->dbname), "test_userdb_pg_lazy_%ld_%u",
		 (long)getpid(), cases++);
	snprintf(text, sizeof(text), "CREATE DATABASE %s", f->dbname);
	pgserver_sql(pgserver_conninfo, text, NULL, 0);
	snprintf(f->conninfo, sizeof(f->conninfo), "%s dbname=%s",
		 pgserver_conninfo, f->dbname);
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char text[128];

	/* A case that failed with the server stopped. */
	if (is_stopped && !server_start())
		return -1;
	snprintf(text, sizeof(text), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
		 f->dbname);
	pgserver_sql(pgserver_conninfo, text, NULL, 0);
	free(f);
	return 0;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct userdb_user
user_of(const char *name)
{
	struct userdb_user u;

	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "%s", name);
	snprintf(u.pw_hash, sizeof(u.pw_hash), "$argon2id$x");
	memset(u.totp_secret, 7, 20);
	u.totp_secret_len = 20;
	u.totp.digits = 6;
	u.totp.period_s = 30;
	u.is_enabled = true;
	u.created_unix_s = NOW;
	return u;
}

/* 10.0.0.2, whatever is taken (one admission per case). */
static bool
assign(void *arg, const struct userdb_addr_view *v,
       struct userdb_admission *adm)
{
	static const uint8_t a[4] = { 10, 0, 0, 2 };

	(void)arg;
	(void)v;
	adm->has_addr4 = true;
	memcpy(adm->addr4, a, 4);
	return true;
}

static int
admit(struct userdb *db, const char *name)
{
	struct userdb_grant g = { .username = name, .now_unix_s = NOW,
				  .lifetime_s = 600, .has_step = true,
				  .step = 100 };
	struct userdb_admission adm;

	memset(g.client_pub, 1, sizeof(g.client_pub));
	return userdb_grant(db, &g, assign, NULL, &adm);
}

static void
ignore_event(void *arg, const struct userdb_event *e)
{
	(void)arg;
	(void)e;
}

/* Every kind of call vpnd's workers make answers -ENOTCONN. */
static void
assert_unreachable(struct userdb *db)
{
	struct userdb_user u = user_of("alice");
	uint64_t seq = 7;

	assert_int_equal(userdb_user_get(db, "alice", &u), -ENOTCONN);
	assert_int_equal(userdb_user_add(db, &u), -ENOTCONN);
	assert_int_equal(userdb_events_head(db, &seq), -ENOTCONN);
	assert_int_equal(userdb_events_after(db, 0, ignore_event, NULL),
			 -ENOTCONN);
	assert_int_equal(admit(db, "alice"), -ENOTCONN);
}

/* Whether the case's database has the store's schema. */
static bool
has_schema(const struct fx *f)
{
	char n[16];

	pgserver_sql(f->conninfo,
	    "SELECT count(*) FROM pg_tables WHERE tablename = "
	    "'schema_version'",
	    n, sizeof(n));
	return atoi(n) == 1;
}

/* ---- the cases -------------------------------------------------------------- */

/*
 * Nothing listens: the lazy open makes the handle at once, every call
 * answers -ENOTCONN fast (within the backoff nothing is tried), and
 * vpnctl's open refuses as before.
 */
static void
test_nothing_listens(void **state)
{
	struct userdb *db = NULL;
	char conninfo[160];
	uint64_t t0 = now_ms();
	int i;

	(void)state;
	snprintf(conninfo, sizeof(conninfo), "host=%s/none dbname=x",
		 pgserver_dir);
	assert_int_equal(userdb_pg_open_lazy(conninfo, &db), 0);
	assert_non_null(db);
	assert_true(now_ms() - t0 < 2000);
	t0 = now_ms();
	for (i = 0; i < 50; i++)
		assert_unreachable(db);
	assert_true(now_ms() - t0 < 2000);
	userdb_close(db);
	/* The same through the front, by the store's name. */
	assert_int_equal(userdb_open_lazy(conninfo, &db), 0);
	assert_non_null(db);
	userdb_close(db);
	assert_int_equal(userdb_open(conninfo, &db), -ENOTCONN);
	assert_null(db);
	/* A malformed string is configuration: refused either way. */
	assert_int_equal(userdb_pg_open_lazy("host=/x password=secret", &db),
			 -EINVAL);
	assert_null(db);
}

/*
 * The server stopped at open: the handle answers -ENOTCONN, the schema
 * is not made; once the server is back, the first call connects,
 * creates the schema and succeeds, and what follows works (a user, an
 * admission with its event).
 */
static void
test_server_comes_up(void **state)
{
	struct fx *f = *state;
	struct userdb_user u = user_of("alice");
	struct userdb *db = NULL;
	uint64_t t0, seq = 0;
	int ret;

	assert_true(server_stop());
	assert_int_equal(userdb_pg_open_lazy(f->conninfo, &db), 0);
	assert_non_null(db);
	assert_unreachable(db);
	assert_true(server_start());
	/* Up, but nobody has called: the open made nothing. */
	assert_false(has_schema(f));
	t0 = now_ms();
	while ((ret = userdb_events_head(db, &seq)) == -ENOTCONN &&
	       now_ms() - t0 < WAIT_MS)
		usleep(20000);
	assert_int_equal(ret, 0);
	assert_int_equal(seq, 0);
	assert_true(has_schema(f));
	assert_int_equal(userdb_user_add(db, &u), 0);
	assert_int_equal(admit(db, "alice"), 0);
	assert_int_equal(userdb_user_get(db, "alice", &u), 0);
	assert_int_equal(u.last_step, 100);
	userdb_close(db);
}

/* A server that answers but refuses is configuration, not an outage:
 * the lazy open fails (-EACCES) as vpnd must not start on it. */
static void
test_refused(void **state)
{
	struct fx *f = *state;
	struct userdb *db = NULL;
	char conninfo[800], passfile[128];
	int fd;

	snprintf(conninfo, sizeof(conninfo), "%s dbname=no_such_database",
		 pgserver_conninfo);
	assert_int_equal(userdb_pg_open_lazy(conninfo, &db), -EACCES);
	assert_null(db);

	snprintf(passfile, sizeof(passfile), "%s/wrong.pgpass", pgserver_dir);
	fd = open(passfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "*:*:*:vpnd:wrong\n", 17), 17);
	close(fd);
	snprintf(conninfo, sizeof(conninfo), "%s passfile=%s", f->conninfo,
		 passfile);
	assert_int_equal(userdb_pg_open_lazy(conninfo, &db), -EACCES);
	assert_null(db);
	/* The right one still opens, and made the schema at once. */
	assert_int_equal(userdb_pg_open_lazy(f->conninfo, &db), 0);
	assert_true(has_schema(f));
	userdb_close(db);
}

/*
 * A newer schema: refused at open when the server answers then; found
 * only when it comes back, it is never used: calls go on answering
 * -ENOTCONN and the schema is left as it is.
 */
static void
test_schema_newer(void **state)
{
	struct fx *f = *state;
	struct userdb *db = NULL;
	struct userdb_user u;
	char v[16];
	uint64_t t0;
	int i;

	assert_int_equal(userdb_pg_open(f->conninfo, &db), 0);
	userdb_close(db);
	pgserver_sql(f->conninfo, "UPDATE schema_version SET version = 9999",
		     NULL, 0);
	db = NULL;
	assert_int_equal(userdb_pg_open_lazy(f->conninfo, &db), -EPROTO);
	assert_null(db);

	assert_true(server_stop());
	assert_int_equal(userdb_pg_open_lazy(f->conninfo, &db), 0);
	assert_true(server_start());
	/* Past the longest backoff (4 s) the server has been tried. */
	t0 = now_ms();
	for (i = 0; now_ms() - t0 < 5000; i++) {
		assert_int_equal(userdb_user_get(db, "alice", &u), -ENOTCONN);
		usleep(50000);
	}
	assert_true(i > 10);
	pgserver_sql(f->conninfo, "SELECT max(version) FROM schema_version", v,
	    sizeof(v));
	assert_string_equal(v, "9999");
	userdb_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_listens),
		cmocka_unit_test_setup_teardown(test_server_comes_up, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_schema_newer, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
