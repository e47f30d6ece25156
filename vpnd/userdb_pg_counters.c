// SPDX-License-Identifier: MIT
/*
 * The PostgreSQL store's failure counters (see userdb.h), per user name
 * and per source, shared by every node: read, decided on (by the caller's
 * callback) and written under row locks, taken in one fixed order (kind,
 * then key bytes) so two logins never deadlock. Decides nothing.
 */
#include "userdb_pg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *
failure_kind_name(enum userdb_failure_kind kind)
{
	return kind == USERDB_FAILURE_USER ? "user" : "source";
}

/* ---- failure counters ---------------------------------------------------- */

static void
key_params(struct pgsql_params *p, const struct userdb_failure_key *key)
{
	memset(p, 0, sizeof(*p));
	pgsql_text(p, failure_kind_name(key->kind));
	pgsql_text(p, key->key);
}

static void
read_failure(const PGresult *r, int row, int first, struct userdb_failure *f)
{
	f->count = (uint32_t)pgsql_get_u64(r, row, first);
	f->last_unix_s = pgsql_get_u64(r, row, first + 1);
	f->locked_until_unix_s = pgsql_get_u64(r, row, first + 2);
}

int
userdb_pg_failure_get(struct userdb *db, const struct userdb_failure_key *key,
	       struct userdb_failure *out)
{
	struct pgsql_params p;
	PGresult *r;
	int rows;

	memset(out, 0, sizeof(*out));
	key_params(&p, key);
	rows = pgsql_run(conn(db),
			 "SELECT count, last_failure, locked_until FROM "
			 "failures WHERE kind = $1 AND key = $2",
			 &p, &r, "read a failure counter");
	if (rows < 0)
		return rows;
	if (rows == 1)
		read_failure(r, 0, 0, out);
	PQclear(r);
	return 0;
}

/*
 * Locks the counter's row, creating it at zero if absent, and reads it,
 * in one statement: the upsert's no-op update takes the row lock (waiting
 * for a concurrent writer, then seeing what it committed) and returns the
 * row; PostgreSQL makes it an insert or an update even if the row is
 * deleted meanwhile.
 */
static int
counter_lock(struct pgsql *sql, const struct userdb_failure_key *key,
	     struct userdb_failure *out)
{
	struct pgsql_params p;
	PGresult *r;
	int rows;

	key_params(&p, key);
	rows = pgsql_run(sql,
			 "INSERT INTO failures (kind, key, count, "
			 "last_failure, locked_until) VALUES ($1, $2, 0, 0, "
			 "0) ON CONFLICT (kind, key) DO UPDATE SET count = "
			 "failures.count "
			 "RETURNING count, last_failure, locked_until",
			 &p, &r, "lock a failure counter");
	if (rows < 0)
		return rows;
	if (rows == 1)
		read_failure(r, 0, 0, out);
	PQclear(r);
	return rows == 1 ? 0 : -EIO;
}

int
userdb_pg_failure_delete(struct pgsql *sql,
			 const struct userdb_failure_key *key)
{
	struct pgsql_params p;

	key_params(&p, key);
	return pgsql_run(sql,
			 "DELETE FROM failures WHERE kind = $1 AND key = $2",
			 &p, NULL, "clear a failure counter");
}

/* A counter at zero with no lock is not kept (nor is a row created only
 * to be locked). */
static int
counter_store(struct pgsql *sql, const struct userdb_failure_key *key,
	      const struct userdb_failure *f)
{
	struct pgsql_params p;

	key_params(&p, key);
	if (!f->count && !f->locked_until_unix_s)
		return pgsql_run(sql,
				 "DELETE FROM failures WHERE kind = $1 AND "
				 "key = $2",
				 &p, NULL, "clear a failure counter");
	pgsql_u64(&p, f->count);
	pgsql_u64(&p, f->last_unix_s);
	pgsql_u64(&p, f->locked_until_unix_s);
	return pgsql_run(sql,
			 "UPDATE failures SET count = $3, last_failure = $4, "
			 "locked_until = $5 WHERE kind = $1 AND key = $2",
			 &p, NULL, "write a failure counter");
}

/* Nothing written: only a row counter_lock() created goes. */
static int
counter_unlock(struct pgsql *sql, const struct userdb_failure_key *key)
{
	struct pgsql_params p;

	key_params(&p, key);
	return pgsql_run(sql,
			 "DELETE FROM failures WHERE kind = $1 AND key = $2 "
			 "AND count = 0 AND locked_until = 0",
			 &p, NULL, "release a failure counter");
}

static int
key_cmp(const struct userdb_failure_key *a, const struct userdb_failure_key *b)
{
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return strcmp(a->key, b->key);
}

/* Locks the n counters in the fixed order, lets fn decide, writes back. */
int
userdb_pg_failures_adjust(struct pgsql *sql,
			  const struct userdb_failure_key *keys,
		size_t n, userdb_failures_fn fn, void *arg)
{
	struct userdb_failure *f;
	size_t *order, i, j, t;
	bool is_write;
	int ret = 0;

	if (n == 0)
		return 0;
	f = calloc(n, sizeof(*f));
	order = calloc(n, sizeof(*order));
	if (!f || !order) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		for (j = i; j > 0 && key_cmp(&keys[i], &keys[order[j - 1]]) < 0;
		     j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	for (i = 0; i < n && ret >= 0; i++)
		ret = counter_lock(sql, &keys[order[i]], &f[order[i]]);
	if (ret < 0)
		goto out;
	is_write = fn(arg, f, n);
	for (i = 0; i < n && ret >= 0; i++) {
		t = order[i];
		ret = is_write ? counter_store(sql, &keys[t], &f[t])
			       : counter_unlock(sql, &keys[t]);
	}
out:
	free(f);
	free(order);
	return ret < 0 ? ret : 0;
}

struct failures_job {
	const struct userdb_failure_key *keys;
	size_t n;
	userdb_failures_fn fn;
	void *arg;
};

static int
failures_apply_tx(struct pgsql *sql, void *arg)
{
	const struct failures_job *j = arg;

	return userdb_pg_failures_adjust(sql, j->keys, j->n, j->fn, j->arg);
}

int
userdb_pg_failures_apply(struct userdb *db,
			 const struct userdb_failure_key *keys,
		  size_t n, userdb_failures_fn fn, void *arg)
{
	struct failures_job j = { keys, n, fn, arg };

	return pgsql_tx(conn(db), false, failures_apply_tx, &j);
}

int
userdb_pg_failures_list(struct userdb *db, userdb_failure_each_fn fn, void *arg)
{
	struct userdb_failure_key key;
	struct userdb_failure f;
	PGresult *r;
	int i, ret = 0, rows = pgsql_run(conn(db),
					 "SELECT kind, key, count, "
					 "last_failure, locked_until FROM "
					 "failures ORDER BY kind = 'source', "
					 "key",
					 NULL, &r, "list failure counters");

	if (rows < 0)
		return rows;
	for (i = 0; i < rows && ret == 0; i++) {
		key.kind = strcmp(PQgetvalue(r, i, 0), "source") == 0
				   ? USERDB_FAILURE_SOURCE
				   : USERDB_FAILURE_USER;
		key.key = PQgetvalue(r, i, 1);
		read_failure(r, i, 2, &f);
		ret = fn(arg, &key, &f);
	}
	PQclear(r);
	return ret;
}

int
userdb_pg_failure_clear(struct userdb *db, const struct userdb_failure_key *key)
{
	struct pgsql_params p;
	int ret;

	key_params(&p, key);
	ret = pgsql_run(conn(db),
			"DELETE FROM failures WHERE kind = $1 AND key = $2", &p,
			NULL, "clear a failure counter");
	return ret < 0 ? ret : ret == 0 ? -ENOENT : 0;
}

int
userdb_pg_failures_prune(struct userdb *db, enum userdb_failure_kind kind,
		  uint64_t now_unix_s, uint64_t idle_s, uint64_t per_failure_s)
{
	struct pgsql_params p = { 0 };

	pgsql_text(&p, failure_kind_name(kind));
	pgsql_u64(&p, now_unix_s);
	pgsql_u64(&p, idle_s);
	pgsql_u64(&p, per_failure_s);
	/* numeric: count * per_failure_s may not fit a bigint */
	return pgsql_run(conn(db),
			 "DELETE FROM failures WHERE kind = $1 AND "
			 "locked_until <= $2::bigint AND last_failure::numeric "
			 "+ $3::numeric + count::numeric * $4::numeric < "
			 "$2::numeric",
			 &p, NULL, "prune failure counters");
}
