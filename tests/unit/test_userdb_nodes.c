// SPDX-License-Identifier: MIT
/*
 * The nodes sharing a user store and their live sessions (userdb.h,
 * "nodes"; cluster.h): a first beat and a beat after leaving or aging
 * out say the store had forgotten the node; a session needs its node to
 * have beaten; a key has one session in the store (recorded on another
 * node, it moves, and the old node's "down" leaves it alone; the move
 * is an event, and nothing else is); leaving
 * takes a node's sessions and no other's; a listing removes the nodes
 * silent too long, with their sessions, and reports the others' beat
 * ages by the store's clock; two connections (two vpnd) write at once;
 * callbacks stop a walk. Then what vpnd's store thread runs
 * (cluster_batch_run: leave, beat, changes in order, the first failure)
 * and the listing as control fields (cluster_list_put).
 *
 * Time passing is made by moving a node's beat back in the store's own
 * table, never by sleeping.
 *
 * As test_userdb, the cases run against PostgreSQL when VPN_TEST_USERDB_PG
 * holds the conninfo of a server the test may use (tests/run.sh starts a
 * throwaway one): each case gets a database of its own, made in its setup
 * and dropped in its teardown.
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
#include <sqlite3.h>
#include <unistd.h>

#include "../../vpnd/cluster.h"
#include "../../vpnd/userdb.h"
#include "keys.h"
#include "log.h"
#include "pgconninfo.h"

#define MAX_ROWS 16
#define STORE_NAME_MAX 1024
#define DBNAME_MAX 64

struct fx {
	char dir[64];
	char path[STORE_NAME_MAX]; /* the store's name: a file, a conninfo */
	char dbname[DBNAME_MAX];   /* PostgreSQL: this case's database */
	struct userdb *db, *db2; /* two connections: two nodes' processes */
};

/* ---- PostgreSQL: a database per case (as test_userdb) ------------------------- */

/* VPN_TEST_USERDB_PG: NULL runs the cases against SQLite files. */
static const char *pg_server;

/* Runs one statement over `conninfo`; false after saying why. */
static bool
pg_exec(const char *conninfo, const char *sql)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r;
	bool is_ok;

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "test_userdb_nodes: %s", PQerrorMessage(c));
		PQfinish(c);
		return false;
	}
	r = PQexec(c, sql);
	is_ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!is_ok)
		fprintf(stderr, "test_userdb_nodes: %s: %s", sql,
			PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return is_ok;
}

/* The server's conninfo naming dbname instead (pgconninfo.h). */
static bool
pg_conninfo(const char *dbname, char *out, size_t cap)
{
	return pgconninfo_for("test_userdb_nodes", pg_server, dbname, out, cap);
}

/* What a listing saw. */
struct seen {
	struct userdb_node nodes[MAX_ROWS];
	size_t n_nodes;
	struct userdb_session sessions[MAX_ROWS];
	size_t n_sessions;
	int stop_after; /* a callback's non-zero return after this many */
};

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	if (!f)
		return 0;
	if (f->db)
		userdb_close(f->db);
	if (f->db2)
		userdb_close(f->db2);
	if (pg_server && f->dbname[0]) {
		snprintf(cmd, sizeof(cmd),
			 "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->dbname);
		if (!pg_exec(pg_server, cmd))
			fprintf(stderr, "could not drop %s\n", f->dbname);
	}
	if (f->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", f->dir);
	}
	free(f);
	return 0;
}

/* The store this case uses: a file, or a database of its own. */
static bool
store_make(struct fx *f)
{
	static unsigned int cases;
	char sql[128];

	if (!pg_server) {
		snprintf(f->path, sizeof(f->path), "%s/users.db", f->dir);
		return true;
	}
	snprintf(f->dbname, sizeof(f->dbname), "test_userdb_nodes_%ld_%u",
		 (long)getpid(), cases++);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", f->dbname);
	if (!pg_exec(pg_server, sql)) {
		f->dbname[0] = '\0';
		return false;
	}
	return pg_conninfo(f->dbname, f->path, sizeof(f->path));
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	*state = f;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_userdb_nodes.XXXXXX");
	if (!mkdtemp(f->dir)) {
		f->dir[0] = '\0';
		teardown(state);
		return -1;
	}
	if (!store_make(f) || userdb_open(f->path, &f->db) < 0 ||
	    userdb_open(f->path, &f->db2) < 0) {
		teardown(state);
		return -1;
	}
	return 0;
}

/* Runs SQL on the store over a connection of our own. */
static void
raw_sql(const struct fx *f, const char *sql)
{
	sqlite3 *db;

	if (pg_server) {
		assert_true(pg_exec(f->path, sql));
		return;
	}
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* `node`'s beat, moved back by `s` seconds: it has been silent that long. */
static void
age_node(const struct fx *f, const char *node, unsigned int s)
{
	char sql[160];

	snprintf(sql, sizeof(sql),
		 "UPDATE nodes SET beat = beat - %u WHERE name = '%s'", s,
		 node);
	raw_sql(f, sql);
}

static void
session_init(struct userdb_session *s, uint8_t key_byte, const char *user,
	     uint8_t addr_byte)
{
	memset(s, 0, sizeof(*s));
	memset(s->client_pub, key_byte, sizeof(s->client_pub));
	snprintf(s->username, sizeof(s->username), "%s", user);
	s->has_addr4 = true;
	s->addr4[0] = 10;
	s->addr4[1] = 99;
	s->addr4[3] = addr_byte;
	snprintf(s->endpoint, sizeof(s->endpoint), "198.51.100.%u:4000",
		 addr_byte);
	s->since_unix_s = 1700000000ULL + addr_byte;
}

static int
see_node(void *arg, const struct userdb_node *n)
{
	struct seen *v = arg;

	assert_true(v->n_nodes < MAX_ROWS);
	v->nodes[v->n_nodes++] = *n;
	return v->stop_after && v->n_nodes >= (size_t)v->stop_after ? 42 : 0;
}

static int
see_session(void *arg, const struct userdb_session *s)
{
	struct seen *v = arg;

	assert_true(v->n_sessions < MAX_ROWS);
	v->sessions[v->n_sessions++] = *s;
	return 0;
}

static void
list(struct userdb *db, uint64_t max_age_s, struct seen *v)
{
	memset(v, 0, sizeof(*v));
	assert_int_equal(userdb_nodes_list(db, max_age_s, see_node,
					   see_session, v),
			 0);
}

/* The session of key_byte in the listing, or NULL. */
static const struct userdb_session *
find(const struct seen *v, uint8_t key_byte)
{
	uint8_t key[USERDB_KEY_LEN];
	size_t i;

	memset(key, key_byte, sizeof(key));
	for (i = 0; i < v->n_sessions; i++)
		if (memcmp(v->sessions[i].client_pub, key, sizeof(key)) == 0)
			return &v->sessions[i];
	return NULL;
}

/* ---- the store ----------------------------------------------------------------- */

static void
test_beat(void **state)
{
	struct fx *f = *state;
	struct seen v;

	/* New to the store, then known. */
	assert_int_equal(userdb_node_beat(f->db, "a", 1000), 1);
	assert_int_equal(userdb_node_beat(f->db, "a", 1000), 0);
	assert_int_equal(userdb_node_beat(f->db2, "b", 2000), 1);
	list(f->db, 60, &v);
	assert_int_equal(v.n_nodes, 2);
	assert_string_equal(v.nodes[0].name, "a");
	assert_string_equal(v.nodes[1].name, "b");
	assert_int_equal(v.nodes[0].started_unix_s, 1000);
	assert_int_equal(v.nodes[1].started_unix_s, 2000);
	assert_true(v.nodes[0].beat_unix_s > 1700000000ULL);
	assert_true(v.nodes[0].beat_age_s <= 1);
	/* A restart under the same name says when it started. */
	assert_int_equal(userdb_node_beat(f->db, "a", 3000), 0);
	list(f->db, 60, &v);
	assert_int_equal(v.nodes[0].started_unix_s, 3000);
	/* Left: forgotten, so its next beat says so. */
	assert_int_equal(userdb_node_leave(f->db, "a"), 0);
	assert_int_equal(userdb_node_leave(f->db, "a"), 0);
	list(f->db, 60, &v);
	assert_int_equal(v.n_nodes, 1);
	assert_string_equal(v.nodes[0].name, "b");
	assert_int_equal(userdb_node_beat(f->db, "a", 3000), 1);
}

static void
test_session_needs_node(void **state)
{
	struct fx *f = *state;
	struct userdb_session s;
	struct seen v;

	session_init(&s, 1, "alice", 2);
	assert_int_equal(userdb_session_up(f->db, "a", &s), -ENOENT);
	list(f->db, 60, &v);
	assert_int_equal(v.n_sessions, 0);
	assert_int_equal(userdb_node_beat(f->db, "a", 1000), 1);
	assert_int_equal(userdb_session_up(f->db, "a", &s), 0);
	list(f->db, 60, &v);
	assert_int_equal(v.n_sessions, 1);
	/* Everything recorded comes back, with its node. */
	assert_string_equal(v.sessions[0].node, "a");
	assert_memory_equal(v.sessions[0].client_pub, s.client_pub,
			    USERDB_KEY_LEN);
	assert_string_equal(v.sessions[0].username, "alice");
	assert_true(v.sessions[0].has_addr4);
	assert_memory_equal(v.sessions[0].addr4, s.addr4, 4);
	assert_false(v.sessions[0].has_addr6);
	assert_string_equal(v.sessions[0].endpoint, "198.51.100.2:4000");
	assert_int_equal(v.sessions[0].since_unix_s, s.since_unix_s);
	/* Down of a key the node does not hold: nothing to do. */
	memset(s.client_pub, 9, USERDB_KEY_LEN);
	assert_int_equal(userdb_session_down(f->db, "a", s.client_pub), 0);
	assert_int_equal(userdb_session_down(f->db, "zz", s.client_pub), 0);
	list(f->db, 60, &v);
	assert_int_equal(v.n_sessions, 1);
}

static void
test_session_moves(void **state)
{
	struct fx *f = *state;
	struct userdb_session s, t;
	struct seen v;

	assert_int_equal(userdb_node_beat(f->db, "a", 1), 1);
	assert_int_equal(userdb_node_beat(f->db2, "b", 1), 1);
	session_init(&s, 1, "alice", 2);
	session_init(&t, 2, "bob", 3);
	assert_int_equal(userdb_session_up(f->db, "a", &s), 0);
	assert_int_equal(userdb_session_up(f->db, "a", &t), 0);
	/* alice's client moves to b, with another address and endpoint. */
	s.since_unix_s += 10;
	s.has_addr6 = true;
	s.addr6[0] = 0xfd;
	s.addr6[15] = 2;
	snprintf(s.endpoint, sizeof(s.endpoint), "[2001:db8::2]:4000");
	assert_int_equal(userdb_session_up(f->db2, "b", &s), 0);
	list(f->db, 60, &v);
	assert_int_equal(v.n_sessions, 2);
	assert_string_equal(find(&v, 1)->node, "b");
	assert_true(find(&v, 1)->has_addr6);
	assert_string_equal(find(&v, 1)->endpoint, "[2001:db8::2]:4000");
	assert_string_equal(find(&v, 2)->node, "a");
	/* Listed by node, then key. */
	assert_string_equal(v.sessions[0].node, "a");
	assert_string_equal(v.sessions[1].node, "b");
	/* a, not knowing yet, records its older session of alice again (a
	 * snapshot): b keeps her. */
	session_init(&t, 1, "alice", 2);
	assert_int_equal(userdb_session_up(f->db, "a", &t), 0);
	list(f->db, 60, &v);
	assert_string_equal(find(&v, 1)->node, "b");
	assert_string_equal(find(&v, 1)->endpoint, "[2001:db8::2]:4000");
	/* b recording her again (new addresses) replaces its own, whatever
	 * its since (computed again, it may come out a second off). */
	s.addr4[3] = 9;
	s.since_unix_s -= 1;
	assert_int_equal(userdb_session_up(f->db2, "b", &s), 0);
	list(f->db, 60, &v);
	assert_int_equal(find(&v, 1)->addr4[3], 9);
	session_init(&t, 2, "bob", 3);
	/* a's peer of alice goes later: b's session stays. */
	assert_int_equal(userdb_session_down(f->db, "a", s.client_pub), 0);
	list(f->db, 60, &v);
	assert_non_null(find(&v, 1));
	assert_int_equal(userdb_session_down(f->db2, "b", s.client_pub), 0);
	list(f->db, 60, &v);
	assert_null(find(&v, 1));
	assert_non_null(find(&v, 2));
}

#define MAX_EVENTS 8

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

/*
 * The events after *seq until at least `want` came: PostgreSQL tells a
 * reader by a notification that may come a moment after the writer's
 * COMMIT returned, so this polls, for at most 5 s.
 */
static void
collect_events(struct userdb *db, uint64_t seq, size_t want,
	       struct events *ev)
{
	int i, n;

	memset(ev, 0, sizeof(*ev));
	for (i = 0; i < 500 && ev->n < want; i++) {
		n = userdb_events_after(db, seq, keep_event, ev);
		assert_true(n >= 0);
		if (ev->n)
			seq = ev->e[ev->n - 1].seq;
		if (ev->n < want)
			usleep(10 * 1000);
	}
}

static void
assert_moved(const struct userdb_event *e, const char *user, uint8_t key,
	     const char *to)
{
	uint8_t pub[USERDB_KEY_LEN];

	memset(pub, key, sizeof(pub));
	assert_string_equal(e->kind, USERDB_EVENT_SESSION_MOVED);
	assert_string_equal(e->username, user);
	assert_memory_equal(e->client_pub, pub, sizeof(pub));
	assert_string_equal(e->reason, to);
	assert_int_equal(e->expires_unix_s, 0);
	assert_true(e->time_unix_s > 1700000000ULL);
}

/*
 * A session taking its key from another node appends one session-moved
 * event naming the new node, in the same transaction; nothing else does:
 * a node's own session recorded again, a key new to the store, a record
 * the since condition refuses, one from an unknown node (rolled back).
 * The events come in order: exactly the two moves.
 */
static void
test_session_moved_event(void **state)
{
	struct fx *f = *state;
	struct userdb_session s;
	struct events ev;
	struct seen v;
	uint64_t head;

	assert_int_equal(userdb_events_head(f->db, &head), 0);
	assert_int_equal(userdb_node_beat(f->db, "a", 1), 1);
	assert_int_equal(userdb_node_beat(f->db2, "b", 1), 1);
	session_init(&s, 1, "alice", 2);
	assert_int_equal(userdb_session_up(f->db, "a", &s), 0);
	assert_int_equal(userdb_session_up(f->db, "a", &s), 0);
	session_init(&s, 2, "bob", 3);
	assert_int_equal(userdb_session_up(f->db, "a", &s), 0);
	session_init(&s, 3, "carol", 4);
	assert_int_equal(userdb_session_up(f->db2, "b", &s), 0);
	/* b's session of bob began before a's: a keeps him, no event. */
	session_init(&s, 2, "bob", 3);
	s.since_unix_s -= 5;
	assert_int_equal(userdb_session_up(f->db2, "b", &s), 0);
	/* alice moves to b: the first event. */
	session_init(&s, 1, "alice", 2);
	s.since_unix_s += 10;
	assert_int_equal(userdb_session_up(f->db2, "b", &s), 0);
	/* a records its older session of her again: refused, no event. */
	session_init(&s, 1, "alice", 2);
	assert_int_equal(userdb_session_up(f->db, "a", &s), 0);
	/* b records her again: its own. */
	s.since_unix_s += 10;
	assert_int_equal(userdb_session_up(f->db2, "b", &s), 0);
	/* A node the store does not know: nothing recorded, no event. */
	s.since_unix_s += 100;
	assert_int_equal(userdb_session_up(f->db, "zz", &s), -ENOENT);
	/* carol moves to a: the second event. */
	session_init(&s, 3, "carol", 4);
	s.since_unix_s += 20;
	assert_int_equal(userdb_session_up(f->db, "a", &s), 0);
	list(f->db, 60, &v);
	assert_string_equal(find(&v, 1)->node, "b");
	assert_string_equal(find(&v, 2)->node, "a");
	assert_string_equal(find(&v, 3)->node, "a");
	/* Read by another connection (another node), then by the writer's. */
	collect_events(f->db2, head, 2, &ev);
	assert_int_equal(ev.n, 2);
	assert_moved(&ev.e[0], "alice", 1, "b");
	assert_moved(&ev.e[1], "carol", 3, "a");
	assert_true(ev.e[0].seq < ev.e[1].seq);
	collect_events(f->db, head, 2, &ev);
	assert_int_equal(ev.n, 2);
	assert_moved(&ev.e[0], "alice", 1, "b");
}

static void
test_leave_takes_own_sessions(void **state)
{
	struct fx *f = *state;
	struct userdb_session s;
	struct seen v;
	uint8_t i;

	assert_int_equal(userdb_node_beat(f->db, "a", 1), 1);
	assert_int_equal(userdb_node_beat(f->db2, "b", 1), 1);
	for (i = 1; i <= 4; i++) {
		session_init(&s, i, "u", i);
		assert_int_equal(userdb_session_up(i % 2 ? f->db : f->db2,
						   i % 2 ? "a" : "b", &s),
				 0);
	}
	assert_int_equal(userdb_node_leave(f->db, "a"), 0);
	list(f->db2, 60, &v);
	assert_int_equal(v.n_nodes, 1);
	assert_int_equal(v.n_sessions, 2);
	assert_null(find(&v, 1));
	assert_null(find(&v, 3));
	assert_string_equal(find(&v, 2)->node, "b");
	assert_string_equal(find(&v, 4)->node, "b");
	/* Gone from the store, a's sessions cannot be recorded until it
	 * beats again. */
	session_init(&s, 5, "u", 5);
	assert_int_equal(userdb_session_up(f->db, "a", &s), -ENOENT);
}

static void
test_dead_node_ages_out(void **state)
{
	struct fx *f = *state;
	struct userdb_session s;
	struct seen v;

	assert_int_equal(userdb_node_beat(f->db, "a", 1), 1);
	assert_int_equal(userdb_node_beat(f->db2, "b", 1), 1);
	session_init(&s, 1, "alice", 2);
	assert_int_equal(userdb_session_up(f->db, "a", &s), 0);
	session_init(&s, 2, "bob", 3);
	assert_int_equal(userdb_session_up(f->db2, "b", &s), 0);
	/* a silent for 5 s: within a 10 s bound, listed with its age (the
	 * listing may come a second after the move). */
	age_node(f, "a", 5);
	list(f->db2, 10, &v);
	assert_int_equal(v.n_nodes, 2);
	assert_string_equal(v.nodes[0].name, "a");
	assert_in_range(v.nodes[0].beat_age_s, 5, 7);
	assert_int_equal(v.n_sessions, 2);
	/* Then 30 s: gone, its session with it, b untouched. */
	age_node(f, "a", 25);
	list(f->db2, 10, &v);
	assert_int_equal(v.n_nodes, 1);
	assert_string_equal(v.nodes[0].name, "b");
	assert_int_equal(v.n_sessions, 1);
	assert_string_equal(v.sessions[0].username, "bob");
	/* a was only slow: its next beat learns it was given up. */
	assert_int_equal(userdb_node_beat(f->db, "a", 1), 1);
	session_init(&s, 1, "alice", 2);
	assert_int_equal(userdb_session_up(f->db, "a", &s), 0);
	list(f->db2, 10, &v);
	assert_int_equal(v.n_sessions, 2);
}

static void
test_walk_stops(void **state)
{
	struct fx *f = *state;
	struct seen v;

	assert_int_equal(userdb_node_beat(f->db, "a", 1), 1);
	assert_int_equal(userdb_node_beat(f->db, "b", 1), 1);
	memset(&v, 0, sizeof(v));
	v.stop_after = 1;
	assert_int_equal(userdb_nodes_list(f->db, 60, see_node, see_session,
					   &v),
			 42);
	assert_int_equal(v.n_nodes, 1);
	assert_int_equal(v.n_sessions, 0);
}

/* Two vpnd recording sessions at once, each on its own connection. */
static void
test_two_writers(void **state)
{
	struct fx *f = *state;
	struct userdb_session s;
	struct seen v;
	uint8_t i;

	assert_int_equal(userdb_node_beat(f->db, "a", 1), 1);
	assert_int_equal(userdb_node_beat(f->db2, "b", 1), 1);
	for (i = 1; i <= MAX_ROWS / 2; i++) {
		session_init(&s, i, "u", i);
		assert_int_equal(userdb_session_up(f->db, "a", &s), 0);
		session_init(&s, (uint8_t)(100 + i), "v", i);
		assert_int_equal(userdb_session_up(f->db2, "b", &s), 0);
		assert_int_equal(userdb_node_beat(i % 2 ? f->db : f->db2,
						  i % 2 ? "a" : "b", 1),
				 0);
	}
	list(f->db, 60, &v);
	assert_int_equal(v.n_sessions, MAX_ROWS);
}

/* ---- vpnd's store thread (cluster.c) ------------------------------------------- */

static void
batch_init(struct cluster_batch *b, const char *node)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->node, sizeof(b->node), "%s", node);
	b->started_unix_s = 77;
}

static void
batch_add(struct cluster_batch *b, bool is_up, uint8_t key_byte)
{
	struct cluster_change *c = &b->ch[b->n++];

	c->is_up = is_up;
	session_init(&c->s, key_byte, "u", key_byte);
}

static void
test_batch(void **state)
{
	struct fx *f = *state;
	struct cluster_batch b;
	struct seen v;

	/* Start: leave what a previous run left, beat, record. */
	assert_int_equal(userdb_node_beat(f->db, "a", 1), 1);
	batch_init(&b, "a");
	batch_add(&b, true, 1);
	cluster_batch_run(f->db, &b); /* no beat: the old run's row stands */
	assert_int_equal(b.error, 0);
	batch_init(&b, "a");
	b.leave = b.beat = true;
	batch_add(&b, true, 2);
	batch_add(&b, true, 3);
	batch_add(&b, false, 3);
	cluster_batch_run(f->db, &b);
	assert_int_equal(b.error, 0);
	assert_true(b.forgotten); /* it had just left */
	list(f->db, 60, &v);
	assert_int_equal(v.n_nodes, 1);
	assert_int_equal(v.nodes[0].started_unix_s, 77);
	/* 1 went with the leave; 3 came and went, in order. */
	assert_int_equal(v.n_sessions, 1);
	assert_non_null(find(&v, 2));
	/* A plain beat of a known node. */
	batch_init(&b, "a");
	b.beat = true;
	cluster_batch_run(f->db, &b);
	assert_int_equal(b.error, 0);
	assert_false(b.forgotten);
	/* Given up by the others: the beat says so. */
	age_node(f, "a", 100);
	list(f->db2, 10, &v);
	assert_int_equal(v.n_nodes, 0);
	batch_init(&b, "a");
	b.beat = true;
	cluster_batch_run(f->db, &b);
	assert_true(b.forgotten);
	/* Changes of an unknown node fail, and the rest is not tried. */
	batch_init(&b, "zz");
	batch_add(&b, true, 5);
	batch_add(&b, false, 2);
	cluster_batch_run(f->db, &b);
	assert_int_equal(b.error, -ENOENT);
	/* No connection: -ENOTCONN, as a store that is down. */
	batch_init(&b, "a");
	b.beat = true;
	cluster_batch_run(NULL, &b);
	assert_int_equal(b.error, -ENOTCONN);
}

/* The fields of the listing, as `vpnctl status --cluster` reads them. */
static void
test_list_put(void **state)
{
	struct fx *f = *state;
	struct userdb_session s;
	struct ctlmsg_writer w;
	struct ctlmsg m;
	const struct ctlmsg_field *fl;
	char key[KEY_B64_LEN + 1];
	const char *why;
	size_t i;

	assert_int_equal(userdb_node_beat(f->db, "a", 5), 1);
	session_init(&s, 1, "al\nice", 2);
	assert_int_equal(userdb_session_up(f->db, "a", &s), 0);
	ctlmsg_writer_init(&w, CTLMSG_ANSWER_MAX);
	assert_int_equal(cluster_list_put(f->db, &w), 0);
	assert_true(ctlmsg_finish(&w, 0, NULL));
	assert_int_equal(ctlmsg_decode(w.buf, w.len, CTLMSG_ANSWER_MAX, &m,
				       &why),
			 CTLMSG_OK);
	ctlmsg_writer_free(&w);
	static const char *const keys[] = {
		"node-name", "node-started", "node-beat", "node-beat-age",
		"session", "node", "user", "endpoint", "address4", "since",
		"errno",
	};
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		fl = ctlmsg_field(&m, i);
		assert_non_null(fl);
		assert_string_equal(fl->key, keys[i]);
	}
	assert_string_equal(ctlmsg_get(&m, "node-name"), "a");
	assert_string_equal(ctlmsg_get(&m, "node-started"), "5");
	keys_to_base64(key, s.client_pub);
	assert_string_equal(ctlmsg_get(&m, "session"), key);
	assert_string_equal(ctlmsg_get(&m, "node"), "a");
	/* A name with a newline comes back whole (escaped on the wire). */
	assert_string_equal(ctlmsg_get(&m, "user"), "al\nice");
	assert_string_equal(ctlmsg_get(&m, "address4"), "10.99.0.2");
	assert_string_equal(ctlmsg_get(&m, "since"), "1700000002");
	ctlmsg_free(&m);
	/* No connection: nothing written, -ENOTCONN. */
	ctlmsg_writer_init(&w, CTLMSG_ANSWER_MAX);
	assert_int_equal(cluster_list_put(NULL, &w), -ENOTCONN);
	ctlmsg_writer_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_beat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_needs_node, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_moves, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_moved_event, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_leave_takes_own_sessions,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_node_ages_out, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_walk_stops, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_two_writers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_put, setup, teardown),
	};

	pg_server = getenv("VPN_TEST_USERDB_PG");
	if (pg_server && !pg_server[0])
		pg_server = NULL;
	log_init("test_userdb_nodes", false, LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
