// SPDX-License-Identifier: MIT
/*
 * The nodes sharing a PostgreSQL store and the live sessions each holds
 * (see userdb.h, "nodes and their live sessions"): a beat per node by the
 * server's clock, one session per client key in the whole store, and a
 * listing that first forgets the nodes whose beat is too old.
 *
 * Each operation is one statement (recording a session: one transaction,
 * with the event when it takes the key from another node), so two nodes
 * beating, recording and listing at once never see half of another's
 * change. Like the rest of
 * the store it records what it is told; it decides nothing.
 */
#include "userdb_pg.h"

#include <errno.h>
#include <string.h>

/* One statement: whether the row was new comes from the upsert itself
 * (xmax is 0 for a row this statement inserted). */
int
userdb_pg_node_beat(struct userdb *db, const char *node,
		    uint64_t started_unix_s)
{
	struct pgsql_params p = { 0 };
	PGresult *r;
	int rows, ret;

	pgsql_text(&p, node);
	pgsql_u64(&p, started_unix_s);
	rows = pgsql_run(conn(db),
			 "INSERT INTO nodes (name, started, beat) VALUES ($1, "
			 "$2, " NOW_SQL ") ON CONFLICT (name) DO UPDATE SET "
			 "started = excluded.started, beat = excluded.beat "
			 "RETURNING xmax = 0",
			 &p, &r, "record a node's beat");
	if (rows < 0)
		return rows;
	ret = rows == 1 && pgsql_get_bool(r, 0, 0);
	PQclear(r);
	return ret;
}

struct session_job {
	const char *node;
	const struct userdb_session *s;
};

/*
 * One transaction: the key's row, if another node holds it, is locked
 * and read first; the upsert takes it under the same condition as the
 * event, which tells that node (and any other holding the key) to let
 * the client go. An unknown node fails the foreign key: -ENOENT.
 */
static int
session_up_tx(struct pgsql *sql, void *arg)
{
	const struct session_job *j = arg;
	const struct userdb_session *s = j->s;
	struct pgsql_params p = { 0 }, q = { 0 };
	int moved, ret;

	pgsql_blob(&q, true, s->client_pub, USERDB_KEY_LEN);
	pgsql_text(&q, j->node);
	pgsql_text(&q, s->username);
	pgsql_u64(&q, s->since_unix_s);
	moved = pgsql_run(sql,
			  "INSERT INTO events (time, kind, username, "
			  "client_key, reason, expires) SELECT " NOW_SQL
			  ", '" USERDB_EVENT_SESSION_MOVED "', $3, client_key, "
			  "$2, 0 FROM (SELECT client_key, node, since FROM "
			  "sessions WHERE client_key = $1 FOR UPDATE) o WHERE "
			  "o.node <> $2 AND o.since <= $4",
			  &q, NULL, "record a session's move");
	if (moved < 0)
		return moved;
	sql->pending += moved;
	pgsql_blob(&p, true, s->client_pub, USERDB_KEY_LEN);
	pgsql_text(&p, j->node);
	pgsql_text(&p, s->username);
	pgsql_blob(&p, s->has_addr4, s->addr4, sizeof(s->addr4));
	pgsql_blob(&p, s->has_addr6, s->addr6, sizeof(s->addr6));
	pgsql_text(&p, s->endpoint);
	pgsql_u64(&p, s->since_unix_s);
	ret = pgsql_run(sql,
			"INSERT INTO sessions (client_key, node, username, "
			"addr4, addr6, endpoint, since) VALUES ($1, $2, $3, "
			"$4, $5, $6, $7) ON CONFLICT (client_key) DO UPDATE "
			"SET node = excluded.node, username = "
			"excluded.username, addr4 = excluded.addr4, addr6 = "
			"excluded.addr6, endpoint = excluded.endpoint, since "
			"= excluded.since WHERE sessions.node = "
			"excluded.node OR sessions.since <= excluded.since",
			&p, NULL, "record a session");
	return ret < 0 ? ret : 0;
}

int
userdb_pg_session_up(struct userdb *db, const char *node,
		     const struct userdb_session *s)
{
	struct session_job j = { node, s };

	return pgsql_tx(conn(db), false, session_up_tx, &j);
}

int
userdb_pg_session_down(struct userdb *db, const char *node,
		       const uint8_t client_pub[USERDB_KEY_LEN])
{
	struct pgsql_params p = { 0 };
	int ret;

	pgsql_blob(&p, true, client_pub, USERDB_KEY_LEN);
	pgsql_text(&p, node);
	ret = pgsql_run(conn(db),
			"DELETE FROM sessions WHERE client_key = $1 AND "
			"node = $2",
			&p, NULL, "remove a session");
	return ret < 0 ? ret : 0;
}

/* Its sessions go with it (ON DELETE CASCADE). */
int
userdb_pg_node_leave(struct userdb *db, const char *node)
{
	struct pgsql_params p = { 0 };
	int ret;

	pgsql_text(&p, node);
	ret = pgsql_run(conn(db), "DELETE FROM nodes WHERE name = $1", &p,
			NULL, "remove a node");
	return ret < 0 ? ret : 0;
}

/*
 * Columns: node name, started, beat, beat age, then the session's key
 * (NULL for a node without one), user, addresses, endpoint, since.
 */
static void
read_session(const PGresult *r, int row, struct userdb_session *s)
{
	memset(s, 0, sizeof(*s));
	pgsql_get_text(r, row, 0, s->node, sizeof(s->node));
	pgsql_get_blob(r, row, 4, s->client_pub, sizeof(s->client_pub));
	pgsql_get_text(r, row, 5, s->username, sizeof(s->username));
	s->has_addr4 = pgsql_get_blob(r, row, 6, s->addr4, sizeof(s->addr4));
	s->has_addr6 = pgsql_get_blob(r, row, 7, s->addr6, sizeof(s->addr6));
	pgsql_get_text(r, row, 8, s->endpoint, sizeof(s->endpoint));
	s->since_unix_s = pgsql_get_u64(r, row, 9);
}

/* The rows come by node then key: a node's first row names it. */
static int
walk(const PGresult *r, int rows, userdb_node_fn node_fn,
     userdb_session_fn session_fn, void *arg)
{
	struct userdb_session s;
	struct userdb_node n;
	int i, ret = 0;

	for (i = 0; i < rows && ret == 0; i++) {
		if (i > 0 && strcmp(PQgetvalue(r, i, 0),
				    PQgetvalue(r, i - 1, 0)) == 0)
			continue;
		memset(&n, 0, sizeof(n));
		pgsql_get_text(r, i, 0, n.name, sizeof(n.name));
		n.started_unix_s = pgsql_get_u64(r, i, 1);
		n.beat_unix_s = pgsql_get_u64(r, i, 2);
		n.beat_age_s = pgsql_get_u64(r, i, 3);
		ret = node_fn(arg, &n);
	}
	for (i = 0; i < rows && ret == 0; i++) {
		if (pgsql_is_null(r, i, 4))
			continue;
		read_session(r, i, &s);
		ret = session_fn(arg, &s);
	}
	return ret;
}

/*
 * One statement: the silent nodes go (with their sessions) and the rest
 * are read from the same snapshot (a data-modifying WITH is not seen by
 * its own SELECT, hence the same condition there).
 */
int
userdb_pg_nodes_list(struct userdb *db, uint64_t max_age_s,
		     userdb_node_fn node_fn, userdb_session_fn session_fn,
		     void *arg)
{
	struct pgsql_params p = { 0 };
	PGresult *r;
	int rows, ret;

	pgsql_u64(&p, max_age_s);
	rows = pgsql_run(conn(db),
			 "WITH gone AS (DELETE FROM nodes WHERE beat::numeric "
			 "< " NOW_SQL "::numeric - $1::numeric) SELECT n.name, "
			 "n.started, n.beat, GREATEST(" NOW_SQL
			 " - n.beat, 0), s.client_key, s.username, s.addr4, "
			 "s.addr6, s.endpoint, s.since FROM nodes n LEFT JOIN "
			 "sessions s ON s.node = n.name WHERE n.beat::numeric "
			 ">= " NOW_SQL "::numeric - $1::numeric ORDER BY "
			 "n.name, s.client_key",
			 &p, &r, "list the nodes");
	if (rows < 0)
		return rows;
	ret = walk(r, rows, node_fn, session_fn, arg);
	PQclear(r);
	return ret;
}
