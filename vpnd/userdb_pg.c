// SPDX-License-Identifier: MIT
/*
 * The user store on PostgreSQL (see userdb.h and userdb_backend.h), for
 * several vpnd nodes sharing users, counters, admissions and events. Each
 * operation is one statement or one transaction (READ COMMITTED, run
 * again by pgsql.c on a serialization failure or a deadlock), and every
 * decision that must hold across nodes holds by construction: a TOTP step
 * or recovery code consumed by a conditional UPDATE, the account's row
 * locked through a grant (userdb_pg_admissions.c); failure counters under
 * row locks in one order (userdb_pg_counters.c); an admission's addresses
 * UNIQUE in the schema (userdb_pg_schema.h).
 *
 * This file holds what they share: events, numbered just before COMMIT
 * under the one-row event_head (so seq order is commit order) with a
 * NOTIFY on PGSQL_CHANNEL in the same transaction, so that
 * userdb_events_after() reads nothing unless a notification (or this
 * connection's own commit) came; opening, with the schema created or
 * migrated under an advisory lock (at open, or for vpnd's lazy handle on
 * the first connection: pgsql.c's setup); and the table of operations.
 *
 * Only the userdb_pg files speak SQL to PostgreSQL. Like the SQLite store
 * they store and return; decisions come from the caller's callbacks. The
 * only clock read is the server's, for the time of an event.
 */
#include "userdb_backend.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pgsql.h"
#include "userdb_pg.h"
#include "userdb_pg_schema.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* Any constant shared by every vpnd and vpnctl: "vpnd" in ASCII. */
#define SCHEMA_LOCK "1987079780"

static const struct userdb_ops userdb_pg_ops;

static struct pgdb *
pgdb_of(struct pgsql *sql)
{
	return (struct pgdb *)((char *)sql - offsetof(struct pgdb, sql));
}

/* ---- events: numbered in commit order ----------------------------------- */

/*
 * pgsql.c calls this before COMMIT. The row lock on event_head is taken
 * last and held until the commit, so the transaction that numbers its
 * events first commits first: a reader that saw seq n has seen every
 * seq below it. Nothing is locked after it, so it cannot deadlock.
 */
static int
number_events(struct pgsql *sql)
{
	struct pgsql_params p = { 0 }, q = { 0 };
	PGresult *r;
	int64_t head;
	int ret;

	if (sql->pending == 0)
		return 0;
	pgsql_i64(&p, sql->pending);
	ret = pgsql_run(sql,
			"UPDATE event_head SET seq = seq + $1::bigint "
			"RETURNING seq",
			&p, &r, "number events");
	if (ret < 0)
		return ret;
	head = ret == 1 ? pgsql_get_i64(r, 0, 0) : -1;
	PQclear(r);
	if (head < sql->pending) {
		log_err("user store: the event_head row is missing");
		return -EIO;
	}
	pgsql_i64(&q, head - sql->pending);
	ret = pgsql_run(sql,
			"UPDATE events e SET seq = $1::bigint + o.r FROM "
			"(SELECT id, row_number() OVER (ORDER BY id) AS r "
			"FROM events WHERE seq IS NULL) o WHERE e.id = o.id",
			&q, NULL, "number events");
	if (ret >= 0 && ret != sql->pending) {
		log_err("user store: %d events to number, %d found",
			sql->pending, ret);
		ret = -EIO;
	}
	if (ret >= 0)
		ret = pgsql_run(sql, "NOTIFY " PGSQL_CHANNEL, NULL, NULL,
				"notify");
	if (ret >= 0)
		pgdb_of(sql)->has_sent = true;
	return ret < 0 ? ret : 0;
}

/*
 * Ends the admissions matching `where` (its parameters start at $2; $1
 * is the reason) and appends one event per admission ended, in one
 * statement: an admission committed meanwhile by another node is either
 * ended with its event or not touched. Returns how many ended.
 */
int
userdb_pg_end_admissions(struct pgsql *sql, const char *where,
	       const struct pgsql_params *p)
{
	char q[768];
	int ret;

	snprintf(q, sizeof(q),
		 "WITH ended AS (DELETE FROM admissions WHERE %s RETURNING "
		 "username, client_key, expires) INSERT INTO events (time, "
		 "kind, username, client_key, reason, expires) SELECT " NOW_SQL
		 ", '" USERDB_EVENT_ADMISSION_END "', username, client_key, "
		 "$1::text, expires FROM ended ORDER BY client_key",
		 where);
	ret = pgsql_run(sql, q, p, NULL, "end admissions");
	if (ret > 0)
		sql->pending += ret;
	return ret;
}

/* ---- events -------------------------------------------------------------- */

static int
pg_events_head(struct userdb *db, uint64_t *seq)
{
	PGresult *r;
	int rows = pgsql_run(conn(db), "SELECT seq FROM event_head", NULL, &r,
			     "read the newest event");

	*seq = 0;
	if (rows < 0)
		return rows;
	if (rows == 1)
		*seq = pgsql_get_u64(r, 0, 0);
	PQclear(r);
	return 0;
}

static void
read_event(const PGresult *r, int row, struct userdb_event *e)
{
	memset(e, 0, sizeof(*e));
	e->seq = pgsql_get_u64(r, row, 0);
	e->time_unix_s = pgsql_get_u64(r, row, 1);
	pgsql_get_text(r, row, 2, e->kind, sizeof(e->kind));
	pgsql_get_text(r, row, 3, e->username, sizeof(e->username));
	pgsql_get_blob(r, row, 4, e->client_pub, USERDB_KEY_LEN);
	pgsql_get_text(r, row, 5, e->reason, sizeof(e->reason));
	e->expires_unix_s = pgsql_get_u64(r, row, 6);
}

static int
pg_events_after(struct userdb *db, uint64_t after_seq, userdb_event_fn fn,
		void *arg)
{
	struct pgdb *d = (struct pgdb *)db;
	struct userdb_event e;
	struct pgsql_params p = { 0 };
	uint64_t last = after_seq;
	PGresult *r;
	int i, rows, notified = pgsql_notified(&d->sql);

	if (notified < 0)
		return notified;
	/* This connection's own commits count, whether or not the server
	 * echoes their notifications before COMMIT returns. */
	notified |= d->has_sent;
	d->has_sent = false;
	/* Notifications are taken before the read: one that comes after
	 * it is seen next time. */
	if (!notified && d->has_seen && after_seq >= d->seen_seq)
		return 0;
	pgsql_u64(&p, after_seq);
	rows = pgsql_run(conn(db),
			 "SELECT seq, time, kind, username, client_key, "
			 "reason, expires FROM events WHERE seq > $1 "
			 "ORDER BY seq",
			 &p, &r, "read events");
	if (rows < 0)
		return rows;
	for (i = 0; i < rows; i++) {
		read_event(r, i, &e);
		fn(arg, &e);
		last = e.seq;
	}
	PQclear(r);
	d->has_seen = true;
	d->seen_seq = last;
	return rows;
}

static int
pg_events_prune(struct userdb *db, uint64_t max_age_s)
{
	struct pgsql_params p = { 0 };

	pgsql_u64(&p, max_age_s);
	return pgsql_run(conn(db),
			 "DELETE FROM events WHERE seq IS NOT NULL AND "
			 "time::numeric < " NOW_SQL "::numeric - $1::numeric",
			 &p, NULL, "prune events");
}

/* ---- opening ------------------------------------------------------------- */

/*
 * Brings the schema up to date under a transaction-level advisory lock:
 * two nodes (or two workers) starting at once migrate once, the second
 * seeing the first's result.
 */
static int
migrate_tx(struct pgsql *sql, void *arg)
{
	const int latest = (int)ARRAY_SIZE(pg_migrations);
	struct pgsql_params p = { 0 };
	PGresult *r;
	int version = 0, rows, ret;

	(void)arg;
	ret = pgsql_run(sql, "SELECT pg_advisory_xact_lock(" SCHEMA_LOCK ")",
			NULL, NULL, "lock the schema");
	if (ret >= 0)
		ret = pgsql_run(sql,
				"CREATE TABLE IF NOT EXISTS schema_version "
				"(version integer NOT NULL)",
				NULL, NULL, "create the schema");
	if (ret < 0)
		return ret;
	rows = pgsql_run(sql, "SELECT max(version) FROM schema_version", NULL,
			 &r, "read the schema version");
	if (rows < 0)
		return rows;
	if (rows == 1 && !pgsql_is_null(r, 0, 0))
		version = (int)pgsql_get_i64(r, 0, 0);
	PQclear(r);
	if (version > latest) {
		log_err("user store: schema version %d is newer than this "
			"program knows (%d)", version, latest);
		return -EPROTO;
	}
	if (version == latest)
		return 0;
	for (; version < latest && ret >= 0; version++)
		ret = pgsql_run(sql, pg_migrations[version], NULL, NULL,
				"migrate the schema");
	if (ret >= 0)
		ret = pgsql_run(sql, "DELETE FROM schema_version", NULL, NULL,
				"set the schema version");
	pgsql_i64(&p, latest);
	if (ret >= 0)
		ret = pgsql_run(sql,
				"INSERT INTO schema_version VALUES ($1)", &p,
				NULL, "set the schema version");
	return ret < 0 ? ret : 0;
}

static void
pg_close(struct userdb *db)
{
	struct pgdb *d = (struct pgdb *)db;

	if (!d)
		return;
	pgsql_close(&d->sql);
	free(d);
}

/* pgsql.c runs it on the handle's first connection, at open or later. */
static int
set_up(struct pgsql *sql)
{
	return pgsql_tx(sql, false, migrate_tx, NULL);
}

static int
pg_open(const char *conninfo, bool is_lazy, struct userdb **out)
{
	struct pgdb *db;
	int ret;

	*out = NULL;
	db = calloc(1, sizeof(*db));
	if (!db)
		return -ENOMEM;
	db->base.ops = &userdb_pg_ops;
	ret = pgsql_open(&db->sql, conninfo, set_up, is_lazy);
	if (ret < 0) {
		free(db);
		return ret;
	}
	db->sql.pre_commit = number_events;
	*out = &db->base;
	return 0;
}

int
userdb_pg_open(const char *conninfo, struct userdb **out)
{
	return pg_open(conninfo, false, out);
}

int
userdb_pg_open_lazy(const char *conninfo, struct userdb **out)
{
	return pg_open(conninfo, true, out);
}

static const struct userdb_ops userdb_pg_ops = {
	.name = "postgresql",
	.close = pg_close,
	.user_add = userdb_pg_user_add,
	.users_add = userdb_pg_users_add,
	.user_get = userdb_pg_user_get,
	.user_del = userdb_pg_user_del,
	.user_set_password = userdb_pg_user_set_password,
	.user_set_totp = userdb_pg_user_set_totp,
	.user_set_totp_step = userdb_pg_user_set_totp_step,
	.user_set_enabled = userdb_pg_user_set_enabled,
	.user_list = userdb_pg_user_list,
	.recovery_replace = userdb_pg_recovery_replace,
	.recovery_unused = userdb_pg_recovery_unused,
	.devices_list = userdb_pg_devices_list,
	.device_revoke = userdb_pg_device_revoke,
	.subnets_set = userdb_pg_subnets_set,
	.subnets_get = userdb_pg_subnets_get,
	.subnets_list = userdb_pg_subnets_list,
	.failure_get = userdb_pg_failure_get,
	.failures_apply = userdb_pg_failures_apply,
	.failures_list = userdb_pg_failures_list,
	.failure_clear = userdb_pg_failure_clear,
	.failures_prune = userdb_pg_failures_prune,
	.grant = userdb_pg_grant,
	.admission_get = userdb_pg_admission_get,
	.admissions_list = userdb_pg_admissions_list,
	.admission_readdress = userdb_pg_admission_readdress,
	.admission_end = userdb_pg_admission_end,
	.admissions_end_matching = userdb_pg_admissions_end_matching,
	.admissions_prune = userdb_pg_admissions_prune,
	.stamps_raise = userdb_pg_stamps_raise,
	.events_head = pg_events_head,
	.events_after = pg_events_after,
	.events_prune = pg_events_prune,
	.node_beat = userdb_pg_node_beat,
	.session_up = userdb_pg_session_up,
	.session_down = userdb_pg_session_down,
	.node_leave = userdb_pg_node_leave,
	.nodes_list = userdb_pg_nodes_list,
};
