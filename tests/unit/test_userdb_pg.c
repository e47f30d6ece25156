// SPDX-License-Identifier: MIT
/*
 * What only the PostgreSQL store has (test_userdb runs the shared
 * contract against both stores): a connection string carrying a password,
 * or a malformed one, refused; an unreachable server answered -ENOTCONN
 * at once; an idle connection the server ended found closed before use
 * and made again, the events committed while it was away read at its
 * first poll (their notification was lost with it); the server down:
 * -ENOTCONN, fast, until it is back, then the store back by itself;
 * a schema newer than the program refused; two connections racing on
 * one TOTP step (one admitted) and on one free address (two addresses);
 * events reaching a reader in commit order; a connection stalled inside
 * a transaction holding up another for 5 s at most; and vpnd's system
 * call filter for such a store letting a TCP reconnection through and
 * nothing more.
 *
 * The test starts its own throwaway server (tests/tools/pgserver.sh,
 * Debian's postgresql-15, a Unix socket in a temporary directory) and
 * fails, saying so, without one: make check installs PostgreSQL.
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
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../vpnd/syscalls.h"
#include "../../vpnd/userdb_backend.h"
#include "log.h"
#include "pgserver.h"

#define NOW 1700000000ULL
#define ROUNDS 20
#define WAIT_MS 10000


/* ---- the server ------------------------------------------------------------- */

static int
group_setup(void **state)
{
	(void)state;
	return pgserver_setup("test_userdb_pg");
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
	struct userdb *db;
};

/* A database of the case's own; the later dbname wins in a conninfo. */
static int
setup(void **state)
{
	static unsigned int cases;
	struct fx *f = calloc(1, sizeof(*f));
	char text[128];

	if (!f)
		return -1;
	*state = f;
	snprintf(f->dbname, sizeof(f->dbname), "test_userdb_pg_%ld_%u",
		 (long)getpid(), cases++);
	snprintf(text, sizeof(text), "CREATE DATABASE %s", f->dbname);
	pgserver_sql(pgserver_conninfo, text, NULL, 0);
	snprintf(f->conninfo, sizeof(f->conninfo), "%s dbname=%s",
		 pgserver_conninfo, f->dbname);
	return userdb_pg_open(f->conninfo, &f->db) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char text[128];

	userdb_close(f->db);
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

static void
user_add(struct userdb *db, const char *name)
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
	assert_int_equal(userdb_user_add(db, &u), 0);
}

/* The first address of 10.0.0.2-250 the view does not show taken. */
static bool
first_free(void *arg, const struct userdb_addr_view *v,
	   struct userdb_admission *adm)
{
	size_t i;
	int h;

	(void)arg;
	for (h = 2; h <= 250; h++) {
		uint8_t a[4] = { 10, 0, 0, (uint8_t)h };
		bool is_taken = false;

		for (i = 0; i < v->n_taken4; i++)
			is_taken |= memcmp(v->taken4 + 4 * i, a, 4) == 0;
		if (!is_taken) {
			adm->has_addr4 = true;
			memcpy(adm->addr4, a, 4);
			return true;
		}
	}
	return false;
}

static int
admit(struct userdb *db, const char *name, uint8_t key, int64_t step,
      struct userdb_admission *adm)
{
	struct userdb_grant g = { .username = name, .now_unix_s = NOW,
				  .lifetime_s = 600, .has_step = true,
				  .step = step };

	memset(g.client_pub, key, sizeof(g.client_pub));
	return userdb_grant(db, &g, first_free, NULL, adm);
}

/* ---- connection strings ------------------------------------------------------- */

/* A password never comes in the string (ps, the config's readers); a
 * string libpq cannot read is refused too. Nothing is connected to. */
static void
test_conninfo_refused(void **state)
{
	static const char *const bad[] = {
		"host=/nonexistent dbname=x password=secret",
		"postgresql://vpnd:secret@localhost/vpnd",
		"host=/nonexistent dbname='unterminated",
		"host=/nonexistent nosuchkeyword=1",
	};
	struct userdb *db = (struct userdb *)&db;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(userdb_pg_open(bad[i], &db), -EINVAL);
		assert_null(db);
	}
}

/* Nothing listens there: -ENOTCONN, at once. */
static void
test_unreachable(void **state)
{
	struct userdb *db;
	char conninfo[160];
	uint64_t t0 = now_ms();

	(void)state;
	snprintf(conninfo, sizeof(conninfo), "host=%s/none dbname=x",
		 pgserver_dir);
	assert_int_equal(userdb_pg_open(conninfo, &db), -ENOTCONN);
	assert_null(db);
	assert_true(now_ms() - t0 < 2000);
}

/* ---- losing the server ---------------------------------------------------------- */

/* The store's connections to the case's database (libpq's application
 * name is vpnd unless the string names another) but the one of pid
 * `old`. */
static int
store_backends(const struct fx *f, const char *old)
{
	char text[320], n[16];

	snprintf(text, sizeof(text),
		 "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s' "
		 "AND application_name = 'vpnd' AND pid <> %s",
		 f->dbname, old);
	pgserver_sql(pgserver_conninfo, text, n, sizeof(n));
	return atoi(n);
}

/* Ends the store's connection; its backend's pid in old. */
static void
kill_store_backend(const struct fx *f, char *old, size_t cap)
{
	char text[320], ok[8];

	snprintf(text, sizeof(text),
		 "SELECT pid FROM pg_stat_activity WHERE datname = '%s' AND "
		 "application_name = 'vpnd'",
		 f->dbname);
	pgserver_sql(pgserver_conninfo, text, old, cap);
	assert_true(atoi(old) > 0);
	/* With a timeout, it returns once the backend has exited: its
	 * socket is closed (on_proc_exit) before it leaves the process
	 * array. */
	snprintf(text, sizeof(text),
		 "SELECT pg_terminate_backend(%s, 5000)::int", old);
	pgserver_sql(pgserver_conninfo, text, ok, sizeof(ok));
	assert_string_equal(ok, "1");
}

/* A client key of 32 bytes `b`. */
static const uint8_t *
key_of(uint8_t b)
{
	static uint8_t key[USERDB_KEY_LEN];

	memset(key, b, sizeof(key));
	return key;
}

static void
keep_event(void *arg, const struct userdb_event *e)
{
	*(struct userdb_event *)arg = *e;
}

/*
 * The server ends the store's idle connection (an administrator, a
 * failover): the next call finds it closed before using it and
 * reconnects at once, so it succeeds; an event another connection
 * committed meanwhile (whose notification this one could not receive) is
 * read at the next poll.
 */
static void
test_idle_connection_closed(void **state)
{
	struct fx *f = *state;
	struct userdb_admission adm;
	struct userdb_event e;
	struct userdb_user u;
	struct userdb *other;
	char old[16], other_conninfo[700];
	uint8_t key[USERDB_KEY_LEN];

	user_add(f->db, "alice");
	assert_int_equal(admit(f->db, "alice", 1, 100, &adm), 0);
	assert_int_equal(userdb_events_after(f->db, 0, keep_event, &e), 0);
	assert_int_equal(store_backends(f, "0"), 1);
	kill_store_backend(f, old, sizeof(old));

	snprintf(other_conninfo, sizeof(other_conninfo),
		 "%s application_name=other", f->conninfo);
	assert_int_equal(userdb_pg_open(other_conninfo, &other), 0);
	memset(key, 1, sizeof(key));
	assert_int_equal(userdb_admission_end(other, key, "logged out"), 0);
	userdb_close(other);

	memset(&e, 0, sizeof(e));
	assert_int_equal(userdb_events_after(f->db, 0, keep_event, &e), 1);
	assert_string_equal(e.reason, "logged out");
	assert_memory_equal(e.client_pub, key, sizeof(key));
	assert_int_equal(userdb_events_after(f->db, e.seq, keep_event, &e), 0);
	assert_int_equal(userdb_user_get(f->db, "alice", &u), 0);
	assert_int_equal(store_backends(f, old), 1);
}

/*
 * The server down: calls answer -ENOTCONN (fast: within the backoff no
 * connection is tried), and once it is back the store reconnects by
 * itself, with what was committed before intact.
 */
static void
test_server_down(void **state)
{
	struct fx *f = *state;
	struct userdb_admission adm;
	struct userdb_event e;
	struct userdb_user u;
	uint64_t t0;
	int ret, i;

	user_add(f->db, "alice");
	assert_int_equal(admit(f->db, "alice", 1, 100, &adm), 0);
	assert_true(pgserver_run("stop", NULL, 0));
	assert_int_equal(userdb_user_get(f->db, "alice", &u), -ENOTCONN);
	t0 = now_ms();
	for (i = 0; i < 100 && now_ms() - t0 < 200; i++) {
		assert_int_equal(userdb_user_get(f->db, "alice", &u),
				 -ENOTCONN);
		assert_int_equal(userdb_events_after(f->db, 0, keep_event, &e),
				 -ENOTCONN);
		assert_int_equal(admit(f->db, "alice", 2, 101, &adm),
				 -ENOTCONN);
	}
	assert_true(i > 0);
	assert_true(pgserver_run("start", pgserver_conninfo,
				 sizeof(pgserver_conninfo)));
	t0 = now_ms();
	while ((ret = userdb_user_get(f->db, "alice", &u)) == -ENOTCONN &&
	       now_ms() - t0 < WAIT_MS)
		usleep(20000);
	assert_int_equal(ret, 0);
	assert_int_equal(u.last_step, 100);
	assert_int_equal(userdb_admission_get(f->db, key_of(1), NOW, &adm), 0);
	assert_string_equal(adm.username, "alice");
	assert_int_equal(admit(f->db, "alice", 2, 101, &adm), 0);
}

/* A store written by a newer program is not touched. */
static void
test_schema_newer(void **state)
{
	struct fx *f = *state;
	struct userdb *db = NULL;
	char v[16];

	pgserver_sql(f->conninfo, "SELECT max(version) FROM schema_version", v,
	    sizeof(v));
	assert_true(atoi(v) >= 1);
	pgserver_sql(f->conninfo, "UPDATE schema_version SET version = 9999",
		     NULL, 0);
	assert_int_equal(userdb_pg_open(f->conninfo, &db), -EPROTO);
	assert_null(db);
}

/* ---- two nodes at once ---------------------------------------------------------- */

struct racer {
	struct userdb *db;
	pthread_barrier_t *start;
	const char *user;
	uint8_t key;
	int64_t step;
	int ret;
	struct userdb_admission adm;
};

static void *
race(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->start);
	r->ret = admit(r->db, r->user, r->key, r->step, &r->adm);
	return NULL;
}

static void
race_pair(struct racer *a, struct racer *b)
{
	pthread_t ta, tb;

	assert_int_equal(pthread_create(&ta, NULL, race, a), 0);
	assert_int_equal(pthread_create(&tb, NULL, race, b), 0);
	assert_int_equal(pthread_join(ta, NULL), 0);
	assert_int_equal(pthread_join(tb, NULL), 0);
}

/*
 * Two connections (two nodes) grant at the same moment: one TOTP step to
 * two keys of a user admits exactly one, the other is -EALREADY; two
 * users each taking the first free address get two addresses (the
 * second grant runs again on the first's commit).
 */
static void
test_races(void **state)
{
	struct fx *f = *state;
	pthread_barrier_t start;
	struct userdb *db2;
	char a[32], b[32];
	int i;

	assert_int_equal(userdb_pg_open(f->conninfo, &db2), 0);
	assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
	for (i = 0; i < ROUNDS; i++) {
		struct racer r1 = { .db = f->db, .start = &start, .user = a,
				    .key = (uint8_t)(4 * i), .step = 500 };
		struct racer r2 = { .db = db2, .start = &start, .user = a,
				    .key = (uint8_t)(4 * i + 1), .step = 500 };
		struct racer r3 = { .db = f->db, .start = &start, .user = a,
				    .key = (uint8_t)(4 * i + 2), .step = 7 };
		struct racer r4 = { .db = db2, .start = &start, .user = b,
				    .key = (uint8_t)(4 * i + 3), .step = 7 };

		snprintf(a, sizeof(a), "same-step-%d", i);
		user_add(f->db, a);
		race_pair(&r1, &r2);
		assert_int_equal((r1.ret == 0) + (r2.ret == 0), 1);
		assert_int_equal((r1.ret == -EALREADY) + (r2.ret == -EALREADY),
				 1);

		snprintf(a, sizeof(a), "first-%d", i);
		snprintf(b, sizeof(b), "second-%d", i);
		user_add(f->db, a);
		user_add(f->db, b);
		race_pair(&r3, &r4);
		assert_int_equal(r3.ret, 0);
		assert_int_equal(r4.ret, 0);
		assert_true(r3.adm.has_addr4 && r4.adm.has_addr4);
		assert_memory_not_equal(r3.adm.addr4, r4.adm.addr4, 4);
	}
	pthread_barrier_destroy(&start);
	userdb_close(db2);
}

/* ---- a node stalled inside a transaction ------------------------------------- */

struct holder {
	struct userdb *db;
	bool is_inside;
	bool is_other_done;
	int ret;
};

static const struct userdb_failure_key stalled_key = { USERDB_FAILURE_USER,
							"stalled" };

/* Holds the counter's row lock until the other has given up (at most
 * 12 s, under the server's 15 s for a session idle in a transaction). */
static bool
hold_lock(void *arg, struct userdb_failure *f, size_t n)
{
	struct holder *h = arg;
	uint64_t t0 = now_ms();

	(void)n;
	__atomic_store_n(&h->is_inside, true, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&h->is_other_done, __ATOMIC_SEQ_CST) &&
	       now_ms() - t0 < 12000)
		usleep(10000);
	f[0].count++;
	f[0].last_unix_s = NOW;
	return true;
}

static void *
holder_main(void *arg)
{
	struct holder *h = arg;

	h->ret = userdb_failures_apply(h->db, &stalled_key, 1, hold_lock, h);
	return NULL;
}

static bool
count_one(void *arg, struct userdb_failure *f, size_t n)
{
	(void)arg;
	(void)n;
	f[0].count++;
	return true;
}

/*
 * A connection stalled inside a transaction (a node cut off mid-login)
 * holds a counter's row: another connection waits for it at most 5 s
 * (lock_timeout) and is answered -EBUSY, not held for as long as the
 * first stalls; the first's change commits when it goes on.
 */
static void
test_lock_wait_bounded(void **state)
{
	struct fx *f = *state;
	struct holder h = { .db = f->db };
	struct userdb_failure got;
	struct userdb *db2;
	pthread_t t;
	uint64_t t0;

	assert_int_equal(userdb_pg_open(f->conninfo, &db2), 0);
	assert_int_equal(pthread_create(&t, NULL, holder_main, &h), 0);
	t0 = now_ms();
	while (!__atomic_load_n(&h.is_inside, __ATOMIC_SEQ_CST) &&
	       now_ms() - t0 < WAIT_MS)
		usleep(10000);
	assert_true(h.is_inside);
	assert_int_equal(userdb_failures_apply(db2, &stalled_key, 1, count_one,
					       NULL),
			 -EBUSY);
	__atomic_store_n(&h.is_other_done, true, __ATOMIC_SEQ_CST);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(h.ret, 0);
	assert_int_equal(userdb_failure_get(db2, &stalled_key, &got), 0);
	assert_int_equal(got.count, 1);
	userdb_close(db2);
}

/* ---- events across connections ----------------------------------------------- */

#define EVENTS 100

struct ender {
	const char *conninfo;
	uint8_t first;
	int ret;
};

static void *
end_half(void *arg)
{
	struct ender *w = arg;
	uint8_t key[USERDB_KEY_LEN];
	struct userdb *db;
	int i;

	w->ret = userdb_pg_open(w->conninfo, &db);
	for (i = 0; i < EVENTS / 2 && w->ret == 0; i++) {
		memset(key, w->first + i, sizeof(key));
		w->ret = userdb_admission_end(db, key, "logged out");
	}
	if (db)
		userdb_close(db);
	return NULL;
}

struct seen {
	uint64_t last;
	int n;
	bool is_ordered;
	bool key_seen[EVENTS];
	bool has_twice;
};

static void
note_event(void *arg, const struct userdb_event *e)
{
	struct seen *s = arg;

	s->is_ordered &= e->seq > s->last;
	s->last = e->seq;
	s->n++;
	if (e->client_pub[0] < EVENTS) {
		s->has_twice |= s->key_seen[e->client_pub[0]];
		s->key_seen[e->client_pub[0]] = true;
	}
}

/*
 * Two connections end admissions at once, one event each, while a third
 * polls after the last seq it saw: every event reaches it once, in
 * increasing seq. (Were seqs given in start order rather than commit
 * order, a reader could pass a seq whose transaction commits later and
 * never read that event.)
 */
static void
test_events_commit_order(void **state)
{
	struct fx *f = *state;
	struct ender w1 = { f->conninfo, 0, -1 };
	struct ender w2 = { f->conninfo, EVENTS / 2, -1 };
	struct seen seen = { .is_ordered = true };
	struct userdb_admission adm;
	struct userdb *reader;
	pthread_t t1, t2;
	uint64_t t0;
	int i, ret;

	user_add(f->db, "alice");
	for (i = 0; i < EVENTS; i++)
		assert_int_equal(admit(f->db, "alice", (uint8_t)i, 1000 + i,
				       &adm),
				 0);
	assert_int_equal(userdb_pg_open(f->conninfo, &reader), 0);
	assert_int_equal(userdb_events_after(reader, 0, note_event, &seen),
			 0);
	assert_int_equal(pthread_create(&t1, NULL, end_half, &w1), 0);
	assert_int_equal(pthread_create(&t2, NULL, end_half, &w2), 0);
	t0 = now_ms();
	while (seen.n < EVENTS && now_ms() - t0 < WAIT_MS) {
		ret = userdb_events_after(reader, seen.last, note_event, &seen);
		assert_true(ret >= 0);
	}
	assert_int_equal(pthread_join(t1, NULL), 0);
	assert_int_equal(pthread_join(t2, NULL), 0);
	assert_int_equal(w1.ret, 0);
	assert_int_equal(w2.ret, 0);
	assert_int_equal(seen.n, EVENTS);
	assert_true(seen.is_ordered);
	assert_false(seen.has_twice);
	for (i = 0; i < EVENTS; i++)
		assert_true(seen.key_seen[i]);
	userdb_close(reader);
}

/* ---- vpnd's filter with such a store ----------------------------------------- */

typedef int (*child_fn)(void);

static int
child_status(child_fn fn)
{
	int status = -1, i;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	for (i = 0; i < WAIT_MS / 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fail_msg("child %d did not end", (int)pid);
	return status;
}

/* What libpq does to reconnect over TCP. */
static int
tcp_reconnect_calls(void)
{
	int one = 1, fd;

	if (sandbox_filter_install(syscalls_vpnd_pg(), false) < 0)
		return 2;
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd < 0)
		fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		return 3;
	return 0;
}

static int
netlink_socket(void)
{
	if (sandbox_filter_install(syscalls_vpnd_pg(), false) < 0)
		return 2;
	socket(AF_NETLINK, SOCK_RAW, 0);
	return 3;
}

static int
tcp_listen(void)
{
	int fd;

	if (sandbox_filter_install(syscalls_vpnd_pg(), false) < 0)
		return 2;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return 3;
	listen(fd, 1);
	return 4;
}

static int
tcp_socket_plain_vpnd(void)
{
	if (sandbox_filter_install(syscalls_vpnd(), false) < 0)
		return 2;
	socket(AF_INET, SOCK_STREAM, 0);
	return 3;
}

static bool
killed_by_seccomp(int status)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

/* A reconnection's calls pass; a server's (listen), another kind of
 * socket, and a TCP socket under a SQLite vpnd's filter are killed. */
static void
test_filter(void **state)
{
	int st;

	(void)state;
	st = child_status(tcp_reconnect_calls);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(killed_by_seccomp(child_status(netlink_socket)));
	assert_true(killed_by_seccomp(child_status(tcp_listen)));
	assert_true(killed_by_seccomp(child_status(tcp_socket_plain_vpnd)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conninfo_refused),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test_setup_teardown(test_idle_connection_closed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_down, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_schema_newer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_races, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_commit_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lock_wait_bounded, setup,
						teardown),
		cmocka_unit_test(test_filter),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
