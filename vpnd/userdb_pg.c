// SPDX-License-Identifier: MIT
/*
 * The user store on PostgreSQL (see userdb.h and userdb_backend.h), for
 * several vpnd nodes sharing users, counters, admissions and events. Each
 * operation is one statement or one transaction (READ COMMITTED, retried
 * by pgsql.c on a serialization failure or a deadlock), and every decision
 * that must hold across nodes holds by construction:
 *
 *  - a TOTP step is consumed by a conditional UPDATE (last step below it)
 *    whose row count says whether this grant got it; a recovery code the
 *    same way (still unused); the account's row is locked (FOR UPDATE)
 *    for the whole grant, so a password change or a disable cannot slip
 *    in between the check and the admission;
 *  - failure counters are read, decided on and written under row locks
 *    (a zero row inserted if absent, then SELECT ... FOR UPDATE), taken in
 *    one fixed order (kind, then key bytes) so two logins never deadlock;
 *  - an admission's addresses are UNIQUE in the schema: a concurrent grant
 *    of the same address fails and runs again on what the other committed;
 *  - events are numbered just before COMMIT under the one-row event_head,
 *    so seq order is commit order, and the same transaction NOTIFYs
 *    PGSQL_CHANNEL: userdb_events_after() reads nothing unless a
 *    notification (or this connection's own commit) came.
 *
 * This file and the schema header are the only ones speaking SQL to
 * PostgreSQL. Like the SQLite store it stores and returns; decisions come
 * from the caller's callbacks. The only clock it reads is the server's,
 * for the time of an event.
 */
#include "userdb_backend.h"

#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
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

static const char *
failure_kind_name(enum userdb_failure_kind kind)
{
	return kind == USERDB_FAILURE_USER ? "user" : "source";
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
static int
end_admissions(struct pgsql *sql, const char *where,
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

static int
end_user_admissions(struct pgsql *sql, const char *name, const char *reason)
{
	struct pgsql_params p = { 0 };

	pgsql_text(&p, reason);
	pgsql_text(&p, name);
	return end_admissions(sql, "username = $2", &p);
}

/* ---- accounts ------------------------------------------------------------- */

#define USER_COLUMNS                                                          \
	"name, totp_algorithm, totp_digits, totp_period, totp_last_step, "   \
	"enabled, role, addr4, addr6, lifetime_s, created, last_login"

/* The USER_COLUMNS of a row, secrets aside. */
static void
read_user(const PGresult *r, int row, struct userdb_user *u)
{
	char text[16];

	pgsql_get_text(r, row, 0, u->name, sizeof(u->name));
	pgsql_get_text(r, row, 1, text, sizeof(text));
	if (!totp_algo_parse(text, &u->totp.algo))
		u->totp.algo = TOTP_SHA1;
	u->totp.digits = (unsigned int)pgsql_get_i64(r, row, 2);
	u->totp.period_s = (unsigned int)pgsql_get_i64(r, row, 3);
	u->last_step = pgsql_get_i64(r, row, 4);
	u->is_enabled = pgsql_get_bool(r, row, 5);
	pgsql_get_text(r, row, 6, text, sizeof(text));
	if (!userdb_role_parse(text, &u->role))
		u->role = USERDB_ROLE_USER;
	u->has_addr4 = pgsql_get_blob(r, row, 7, u->addr4, sizeof(u->addr4));
	u->has_addr6 = pgsql_get_blob(r, row, 8, u->addr6, sizeof(u->addr6));
	u->has_lifetime = !pgsql_is_null(r, row, 9);
	u->lifetime_s = u->has_lifetime ? (uint32_t)pgsql_get_u64(r, row, 9)
					: 0;
	u->created_unix_s = pgsql_get_u64(r, row, 10);
	u->has_last_login = !pgsql_is_null(r, row, 11);
	u->last_login_unix_s = pgsql_get_u64(r, row, 11);
}

static int
user_insert(struct pgsql *sql, const struct userdb_user *u)
{
	struct pgsql_params p = { 0 };

	pgsql_text(&p, u->name);
	pgsql_text(&p, u->pw_hash);
	pgsql_blob(&p, true, u->totp_secret, u->totp_secret_len);
	pgsql_text(&p, totp_algo_name(u->totp.algo));
	pgsql_i64(&p, u->totp.digits);
	pgsql_i64(&p, u->totp.period_s);
	/* A zeroed struct consumed nothing (step 0 was in 1970). */
	pgsql_i64(&p, u->last_step > 0 ? u->last_step : -1);
	pgsql_bool(&p, u->is_enabled);
	pgsql_text(&p, userdb_role_name(u->role));
	pgsql_blob(&p, u->has_addr4, u->addr4, sizeof(u->addr4));
	pgsql_blob(&p, u->has_addr6, u->addr6, sizeof(u->addr6));
	if (u->has_lifetime)
		pgsql_i64(&p, u->lifetime_s);
	else
		pgsql_text(&p, NULL);
	pgsql_u64(&p, u->created_unix_s);
	return pgsql_run(sql,
			 "INSERT INTO users (name, pw_hash, totp_secret, "
			 "totp_algorithm, totp_digits, totp_period, "
			 "totp_last_step, enabled, role, addr4, addr6, "
			 "lifetime_s, created) VALUES ($1, $2, $3, $4, $5, "
			 "$6, $7, $8, $9, $10, $11, $12, $13)",
			 &p, NULL, "add a user");
}

struct users_add_job {
	const struct userdb_user *u;
	size_t n;
	size_t *failed;
};

static int
users_add_tx(struct pgsql *sql, void *arg)
{
	struct users_add_job *j = arg;
	size_t i;
	int ret;

	for (i = 0; i < j->n; i++) {
		ret = user_insert(sql, &j->u[i]);
		if (ret < 0) {
			*j->failed = i;
			return ret;
		}
	}
	return 0;
}

static int
pg_users_add(struct userdb *db, const struct userdb_user *u, size_t n,
	     size_t *failed)
{
	struct users_add_job j = { u, n, failed };

	*failed = 0;
	return pgsql_tx(conn(db), false, users_add_tx, &j);
}

static int
pg_user_add(struct userdb *db, const struct userdb_user *u)
{
	size_t failed;

	return pg_users_add(db, u, 1, &failed);
}

static int
pg_user_get(struct userdb *db, const char *name, struct userdb_user *out)
{
	struct pgsql_params p = { 0 };
	PGresult *r;
	int ret;

	memset(out, 0, sizeof(*out));
	pgsql_text(&p, name);
	ret = pgsql_run(conn(db),
			"SELECT " USER_COLUMNS ", pw_hash, totp_secret "
			"FROM users WHERE name = $1",
			&p, &r, "read a user");
	if (ret < 0)
		return ret;
	if (ret == 0) {
		ret = -ENOENT;
		goto out;
	}
	ret = 0;
	read_user(r, 0, out);
	pgsql_get_text(r, 0, 12, out->pw_hash, sizeof(out->pw_hash));
	if (!pgsql_get_blob_var(r, 0, 13, out->totp_secret,
				sizeof(out->totp_secret),
				&out->totp_secret_len) ||
	    out->totp_secret_len == 0) {
		log_err("user store: user '%s' has no usable TOTP secret",
			out->name);
		ret = -EIO;
	}
	pgsql_wipe(r, 0, 12);
	pgsql_wipe(r, 0, 13);
out:
	PQclear(r);
	if (ret < 0)
		sodium_memzero(out, sizeof(*out));
	return ret;
}

/* Locks the account's row for the transaction; -ENOENT if none. */
static int
user_lock(struct pgsql *sql, const char *name)
{
	struct pgsql_params p = { 0 };
	int ret;

	pgsql_text(&p, name);
	ret = pgsql_run(sql, "SELECT 1 FROM users WHERE name = $1 FOR UPDATE",
			&p, NULL, "find a user");
	return ret < 0 ? ret : ret == 0 ? -ENOENT : 0;
}

static int
user_del_tx(struct pgsql *sql, void *arg)
{
	static const char *const stmts[] = {
		"DELETE FROM leases WHERE username = $1",
		"DELETE FROM recovery_codes WHERE username = $1",
		"DELETE FROM users WHERE name = $1",
	};
	struct pgsql_params p = { 0 };
	const char *name = arg;
	size_t i;
	int ret = user_lock(sql, name);

	if (ret == 0)
		ret = end_user_admissions(sql, name, USERDB_REASON_DELETED);
	pgsql_text(&p, name);
	for (i = 0; i < ARRAY_SIZE(stmts) && ret >= 0; i++)
		ret = pgsql_run(sql, stmts[i], &p, NULL, "delete a user");
	return ret < 0 ? ret : 0;
}

static int
pg_user_del(struct userdb *db, const char *name)
{
	return pgsql_tx(conn(db), false, user_del_tx, (void *)name);
}

/*
 * An account change: `update` sets a column from $1 (and $3) of the
 * account named $2, locking its row; then its admissions end for
 * `reason` (none when NULL).
 */
struct change {
	const char *update;
	struct pgsql_params p;
	const char *name;
	const char *reason;
};

static int
change_tx(struct pgsql *sql, void *arg)
{
	const struct change *c = arg;
	int ret = pgsql_run(sql, c->update, &c->p, NULL, "change a user");

	if (ret == 0)
		return -ENOENT;
	if (ret > 0 && c->reason)
		ret = end_user_admissions(sql, c->name, c->reason);
	return ret < 0 ? ret : 0;
}

static int
change_user(struct userdb *db, struct change *c)
{
	return pgsql_tx(conn(db), false, change_tx, c);
}

static int
pg_user_set_password(struct userdb *db, const char *name, const char *pw_hash)
{
	struct change c = {
		.update = "UPDATE users SET pw_hash = $1 WHERE name = $2",
		.name = name,
		.reason = USERDB_REASON_PASSWORD,
	};

	pgsql_text(&c.p, pw_hash);
	pgsql_text(&c.p, name);
	return change_user(db, &c);
}

static int
pg_user_set_totp_step(struct userdb *db, const char *name,
		      const uint8_t *secret, size_t secret_len, int64_t step)
{
	struct change c = {
		.update = "UPDATE users SET totp_secret = $1, totp_last_step "
			  "= GREATEST(totp_last_step, $3::bigint) "
			  "WHERE name = $2",
		.name = name,
		.reason = USERDB_REASON_TOTP,
	};

	if (secret_len == 0 || secret_len > TOTP_SECRET_MAX)
		return -EINVAL;
	pgsql_blob(&c.p, true, secret, secret_len);
	pgsql_text(&c.p, name);
	pgsql_i64(&c.p, step);
	return change_user(db, &c);
}

static int
pg_user_set_totp(struct userdb *db, const char *name, const uint8_t *secret,
		 size_t secret_len)
{
	struct change c = {
		.update = "UPDATE users SET totp_secret = $1 WHERE name = $2",
		.name = name,
		.reason = USERDB_REASON_TOTP,
	};

	if (secret_len == 0 || secret_len > TOTP_SECRET_MAX)
		return -EINVAL;
	pgsql_blob(&c.p, true, secret, secret_len);
	pgsql_text(&c.p, name);
	return change_user(db, &c);
}

static int
pg_user_set_enabled(struct userdb *db, const char *name, bool is_enabled)
{
	struct change c = {
		.update = "UPDATE users SET enabled = $1 WHERE name = $2",
		.name = name,
		.reason = is_enabled ? NULL : USERDB_REASON_DISABLED,
	};

	pgsql_bool(&c.p, is_enabled);
	pgsql_text(&c.p, name);
	return change_user(db, &c);
}

static int
pg_user_list(struct userdb *db, userdb_user_fn fn, void *arg)
{
	struct userdb_user u;
	PGresult *r;
	int i, n = pgsql_run(conn(db),
			     "SELECT " USER_COLUMNS " FROM users ORDER BY name",
			     NULL, &r, "list users");
	int ret = 0;

	if (n < 0)
		return n;
	for (i = 0; i < n && ret == 0; i++) {
		memset(&u, 0, sizeof(u));
		read_user(r, i, &u);
		ret = fn(arg, &u);
	}
	PQclear(r);
	return ret;
}

/* ---- recovery codes ------------------------------------------------------- */

struct recovery_job {
	const char *name;
	const struct userdb_recovery *codes;
	size_t n;
	uint64_t now_unix_s;
};

static int
recovery_replace_tx(struct pgsql *sql, void *arg)
{
	const struct recovery_job *j = arg;
	struct pgsql_params p = { 0 };
	size_t i;
	int ret = user_lock(sql, j->name);

	pgsql_text(&p, j->name);
	if (ret == 0)
		ret = pgsql_run(sql,
				"DELETE FROM recovery_codes WHERE username = $1",
				&p, NULL, "replace recovery codes");
	for (i = 0; i < j->n && ret >= 0; i++) {
		struct pgsql_params q = { 0 };

		pgsql_text(&q, j->name);
		pgsql_blob(&q, true, j->codes[i].salt, sizeof(j->codes[i].salt));
		pgsql_blob(&q, true, j->codes[i].hash, sizeof(j->codes[i].hash));
		pgsql_u64(&q, j->now_unix_s);
		ret = pgsql_run(sql,
				"INSERT INTO recovery_codes (username, salt, "
				"hash, used, created) VALUES ($1, $2, $3, 0, "
				"$4)",
				&q, NULL, "store a recovery code");
	}
	return ret < 0 ? ret : 0;
}

static int
pg_recovery_replace(struct userdb *db, const char *name,
		    const struct userdb_recovery *codes, size_t n,
		    uint64_t now_unix_s)
{
	struct recovery_job j = { name, codes, n, now_unix_s };

	return pgsql_tx(conn(db), false, recovery_replace_tx, &j);
}

static int
pg_recovery_unused(struct userdb *db, const char *name,
		   struct userdb_recovery *out, size_t max, size_t *n_out)
{
	struct pgsql_params p = { 0 };
	PGresult *r;
	size_t n = 0;
	int i, rows;

	*n_out = 0;
	pgsql_text(&p, name);
	rows = pgsql_run(conn(db),
			 "SELECT id, salt, hash FROM recovery_codes WHERE "
			 "username = $1 AND used = 0 ORDER BY id",
			 &p, &r, "read recovery codes");
	if (rows < 0)
		return rows;
	for (i = 0; i < rows && n < max; i++) {
		out[n].id = pgsql_get_i64(r, i, 0);
		if (pgsql_get_blob(r, i, 1, out[n].salt, sizeof(out[n].salt)) &&
		    pgsql_get_blob(r, i, 2, out[n].hash, sizeof(out[n].hash)))
			n++;
	}
	PQclear(r);
	*n_out = n;
	return 0;
}

/* ---- site subnets --------------------------------------------------------- */

struct subnets_job {
	const char *name;
	const struct prefix *subnets;
	size_t n;
};

static int
subnets_set_tx(struct pgsql *sql, void *arg)
{
	const struct subnets_job *j = arg;
	struct pgsql_params p = { 0 };
	size_t i;
	int ret = user_lock(sql, j->name);

	pgsql_text(&p, j->name);
	if (ret == 0)
		ret = pgsql_run(sql, "DELETE FROM subnets WHERE username = $1",
				&p, NULL, "replace subnets");
	for (i = 0; i < j->n && ret >= 0; i++) {
		const struct prefix *s = &j->subnets[i];
		struct pgsql_params q = { 0 };

		pgsql_text(&q, j->name);
		pgsql_i64(&q, s->family == AF_INET6 ? 6 : 4);
		pgsql_blob(&q, true, s->addr, prefix_addr_len(s->family));
		pgsql_i64(&q, s->len);
		ret = pgsql_run(sql,
				"INSERT INTO subnets (username, family, "
				"network, len) VALUES ($1, $2, $3, $4)",
				&q, NULL, "add a subnet");
	}
	/* Live sessions take the new subnets without a new login. */
	if (ret >= 0)
		ret = pgsql_run(sql,
				"INSERT INTO events (time, kind, username, "
				"client_key, reason, expires) SELECT " NOW_SQL
				", '" USERDB_EVENT_ADMISSION_CHANGED "', "
				"username, client_key, 'subnets changed', "
				"expires FROM admissions WHERE username = $1 "
				"ORDER BY client_key",
				&p, NULL, "record a subnet change");
	if (ret > 0)
		sql->pending += ret;
	return ret < 0 ? ret : 0;
}

static int
pg_subnets_set(struct userdb *db, const char *name,
	       const struct prefix *subnets, size_t n)
{
	struct subnets_job j = { name, subnets, n };

	return pgsql_tx(conn(db), false, subnets_set_tx, &j);
}

static void
read_subnet(const PGresult *r, int row, int first, struct prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = pgsql_get_i64(r, row, first) == 6 ? AF_INET6 : AF_INET;
	pgsql_get_blob(r, row, first + 1, p->addr, prefix_addr_len(p->family));
	p->len = (uint8_t)pgsql_get_i64(r, row, first + 2);
}

static int
pg_subnets_get(struct userdb *db, const char *name, struct prefix *out,
	       size_t max, size_t *n_out)
{
	struct pgsql_params p = { 0 };
	PGresult *r;
	int i, rows;

	*n_out = 0;
	pgsql_text(&p, name);
	rows = pgsql_run(conn(db),
			 "SELECT family, network, len FROM subnets WHERE "
			 "username = $1 ORDER BY family, network, len",
			 &p, &r, "read subnets");
	if (rows < 0)
		return rows;
	for (i = 0; i < rows && (size_t)i < max; i++)
		read_subnet(r, i, 0, &out[i]);
	*n_out = (size_t)i;
	PQclear(r);
	return 0;
}

static int
pg_subnets_list(struct userdb *db, userdb_subnet_fn fn, void *arg)
{
	char name[USERDB_NAME_MAX + 1];
	struct prefix p;
	PGresult *r;
	int i, ret = 0, rows = pgsql_run(conn(db),
					 "SELECT username, family, network, "
					 "len FROM subnets ORDER BY username, "
					 "family, network, len",
					 NULL, &r, "read subnets");

	if (rows < 0)
		return rows;
	for (i = 0; i < rows && ret == 0; i++) {
		pgsql_get_text(r, i, 0, name, sizeof(name));
		read_subnet(r, i, 1, &p);
		ret = fn(arg, name, &p);
	}
	PQclear(r);
	return ret;
}

/* ---- failure counters ----------------------------------------------------- */

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

static int
pg_failure_get(struct userdb *db, const struct userdb_failure_key *key,
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
			 "INSERT INTO failures (kind, key, count, last_failure, "
			 "locked_until) VALUES ($1, $2, 0, 0, 0) ON CONFLICT "
			 "(kind, key) DO UPDATE SET count = failures.count "
			 "RETURNING count, last_failure, locked_until",
			 &p, &r, "lock a failure counter");
	if (rows < 0)
		return rows;
	if (rows == 1)
		read_failure(r, 0, 0, out);
	PQclear(r);
	return rows == 1 ? 0 : -EIO;
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
static int
failures_adjust(struct pgsql *sql, const struct userdb_failure_key *keys,
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

	return failures_adjust(sql, j->keys, j->n, j->fn, j->arg);
}

static int
pg_failures_apply(struct userdb *db, const struct userdb_failure_key *keys,
		  size_t n, userdb_failures_fn fn, void *arg)
{
	struct failures_job j = { keys, n, fn, arg };

	return pgsql_tx(conn(db), false, failures_apply_tx, &j);
}

static int
pg_failures_list(struct userdb *db, userdb_failure_each_fn fn, void *arg)
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

static int
pg_failure_clear(struct userdb *db, const struct userdb_failure_key *key)
{
	struct pgsql_params p;
	int ret;

	key_params(&p, key);
	ret = pgsql_run(conn(db),
			"DELETE FROM failures WHERE kind = $1 AND key = $2", &p,
			NULL, "clear a failure counter");
	return ret < 0 ? ret : ret == 0 ? -ENOENT : 0;
}

static int
pg_failures_prune(struct userdb *db, enum userdb_failure_kind kind,
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

/* ---- admissions (reading) ------------------------------------------------- */

#define ADMISSION_COLUMNS                                                     \
	"a.client_key, a.username, a.created, a.expires, a.addr4, a.addr6, " \
	"a.last_stamp"

static void
read_admission(const PGresult *r, int row, struct userdb_admission *out)
{
	memset(out, 0, sizeof(*out));
	pgsql_get_blob(r, row, 0, out->client_pub, USERDB_KEY_LEN);
	pgsql_get_text(r, row, 1, out->username, sizeof(out->username));
	out->created_unix_s = pgsql_get_u64(r, row, 2);
	out->expires_unix_s = pgsql_get_u64(r, row, 3);
	out->has_addr4 = pgsql_get_blob(r, row, 4, out->addr4, 4);
	out->has_addr6 = pgsql_get_blob(r, row, 5, out->addr6, 16);
	out->has_stamp = pgsql_get_blob(r, row, 6, out->stamp,
					USERDB_STAMP_LEN);
}

static int
admission_read(struct pgsql *sql, const uint8_t *client_pub,
	       uint64_t now_unix_s, struct userdb_admission *out)
{
	struct pgsql_params p = { 0 };
	PGresult *r;
	int rows;

	memset(out, 0, sizeof(*out));
	pgsql_blob(&p, true, client_pub, USERDB_KEY_LEN);
	pgsql_u64(&p, now_unix_s);
	rows = pgsql_run(sql,
			 "SELECT " ADMISSION_COLUMNS " FROM admissions a JOIN "
			 "users u ON u.name = a.username WHERE a.client_key "
			 "= $1 AND a.expires > $2 AND u.enabled",
			 &p, &r, "read an admission");
	if (rows < 0)
		return rows;
	if (rows == 1)
		read_admission(r, 0, out);
	PQclear(r);
	return rows == 1 ? 0 : -ENOENT;
}

static int
pg_admission_get(struct userdb *db, const uint8_t client_pub[USERDB_KEY_LEN],
		 uint64_t now_unix_s, struct userdb_admission *out)
{
	return admission_read(conn(db), client_pub, now_unix_s, out);
}

/* One statement: one snapshot. */
static int
pg_admissions_list(struct userdb *db, uint64_t now_unix_s,
		   userdb_admission_fn fn, void *arg)
{
	struct userdb_admission adm;
	struct pgsql_params p = { 0 };
	PGresult *r;
	int i, ret = 0, rows;

	pgsql_u64(&p, now_unix_s);
	rows = pgsql_run(conn(db),
			 "SELECT " ADMISSION_COLUMNS " FROM admissions a JOIN "
			 "users u ON u.name = a.username WHERE a.expires > $1 "
			 "AND u.enabled ORDER BY a.client_key",
			 &p, &r, "list admissions");
	if (rows < 0)
		return rows;
	for (i = 0; i < rows && ret == 0; i++) {
		read_admission(r, i, &adm);
		ret = fn(arg, &adm);
	}
	PQclear(r);
	return ret;
}

/* ---- grants --------------------------------------------------------------- */

/* What a grant, or a re-addressing, reads with the account locked. */
struct grant_ctx {
	const char *username;
	const uint8_t *client_pub;
	uint64_t now_unix_s;
	struct userdb_addr_view view;
	uint8_t *taken4, *taken6;
	bool has_lifetime;
	uint32_t lifetime_s;
	int64_t last_step;
	const struct userdb_grant *verified; /* a login's: check credentials */
};

/* Back to nothing read, for a first run or a run again. */
static void
grant_ctx_reset(struct grant_ctx *c)
{
	free(c->taken4);
	free(c->taken6);
	c->taken4 = c->taken6 = NULL;
	memset(&c->view, 0, sizeof(c->view));
	c->has_lifetime = false;
	c->lifetime_s = 0;
	c->last_step = 0;
}

/* True if the row's password hash and TOTP secret (columns 5, 6) are the
 * ones the login verified. */
static bool
same_credentials(const PGresult *r, const struct userdb_grant *g)
{
	uint8_t secret[TOTP_SECRET_MAX];
	size_t len = 0;
	bool same;

	if (!g->pw_hash)
		return true;
	same = strcmp(PQgetvalue(r, 0, 5), g->pw_hash) == 0 &&
	       pgsql_get_blob_var(r, 0, 6, secret, sizeof(secret), &len) &&
	       len == g->totp_secret_len &&
	       sodium_memcmp(secret, g->totp_secret, len) == 0;
	sodium_memzero(secret, sizeof(secret));
	return same;
}

/* Locks the account's row until the grant commits: a password change,
 * TOTP reset, disable or delete on any node waits, or is waited for. */
static int
grant_read_user(struct pgsql *sql, struct grant_ctx *c)
{
	struct pgsql_params p = { 0 };
	PGresult *r;
	int rows, ret = 0;

	pgsql_text(&p, c->username);
	rows = pgsql_run(sql,
			 "SELECT enabled, totp_last_step, addr4, addr6, "
			 "lifetime_s, pw_hash, totp_secret FROM users WHERE "
			 "name = $1 FOR UPDATE",
			 &p, &r, "read a user");
	if (rows < 0)
		return rows;
	if (rows != 1 || !pgsql_get_bool(r, 0, 0))
		ret = -ENOENT;
	else if (c->verified && !same_credentials(r, c->verified))
		ret = -ESTALE;
	if (ret == 0) {
		c->last_step = pgsql_get_i64(r, 0, 1);
		c->view.has_fixed4 = pgsql_get_blob(r, 0, 2, c->view.fixed4, 4);
		c->view.has_fixed6 = pgsql_get_blob(r, 0, 3, c->view.fixed6, 16);
		c->has_lifetime = !pgsql_is_null(r, 0, 4);
		c->lifetime_s = (uint32_t)pgsql_get_u64(r, 0, 4);
	}
	if (rows == 1) {
		pgsql_wipe(r, 0, 5);
		pgsql_wipe(r, 0, 6);
	}
	PQclear(r);
	return ret;
}

/*
 * Consumes the step, or the recovery code, by a conditional UPDATE: of
 * two nodes given the same code at once, exactly one changes the row. The
 * account's last login goes in the same statement (one round trip less
 * with the account locked).
 */
static int
grant_consume(struct pgsql *sql, const struct userdb_grant *g,
	      int64_t last_step)
{
	struct pgsql_params p = { 0 };
	int ret;

	if (g->has_step && g->step <= last_step)
		return -EALREADY;
	pgsql_i64(&p, g->has_step ? g->step : g->recovery_id);
	pgsql_text(&p, g->username);
	pgsql_u64(&p, g->now_unix_s);
	if (!g->has_recovery)
		ret = pgsql_run(sql,
				"UPDATE users SET totp_last_step = $1, "
				"last_login = $3 WHERE name = $2 AND "
				"totp_last_step < $1",
				&p, NULL, "consume a code");
	else {
		pgsql_u64(&p, g->now_unix_s ? g->now_unix_s : 1);
		ret = pgsql_run(sql,
				"WITH login AS (UPDATE users SET last_login = "
				"$3 WHERE name = $2) UPDATE recovery_codes SET "
				"used = $4 WHERE id = $1 AND username = $2 AND "
				"used = 0",
				&p, NULL, "consume a code");
	}
	if (ret < 0)
		return ret;
	return ret == 1 ? 0 : -EALREADY;
}

/*
 * What the address choice sees, in one query: the key's lease (kind 0),
 * then the addresses held by others, sorted, IPv4 (4) then IPv6 (6):
 * live admissions of other keys and other accounts' fixed addresses.
 */
#define VIEW_SQL                                                              \
	"SELECT 0, addr4, addr6 FROM leases WHERE username = $3 AND "        \
	"client_key = $1 UNION ALL SELECT 4, a, NULL::bytea FROM (SELECT "   \
	"addr4 AS a FROM admissions WHERE client_key <> $1 AND expires > $2 "\
	"AND addr4 IS NOT NULL UNION SELECT addr4 FROM users WHERE name <> " \
	"$3 AND addr4 IS NOT NULL) t4 UNION ALL SELECT 6, a, NULL::bytea "    \
	"FROM (SELECT addr6 AS a FROM admissions WHERE client_key <> $1 AND "\
	"expires > $2 AND addr6 IS NOT NULL UNION SELECT addr6 FROM users "  \
	"WHERE name <> $3 AND addr6 IS NOT NULL) t6 ORDER BY 1, 2"

static void
view_row(const PGresult *r, int row, struct grant_ctx *c)
{
	struct userdb_addr_view *v = &c->view;

	switch (pgsql_get_i64(r, row, 0)) {
	case 0:
		v->has_lease4 = pgsql_get_blob(r, row, 1, v->lease4, 4);
		v->has_lease6 = pgsql_get_blob(r, row, 2, v->lease6, 16);
		break;
	case 4:
		if (pgsql_get_blob(r, row, 1, c->taken4 + 4 * v->n_taken4, 4))
			v->n_taken4++;
		break;
	default:
		if (pgsql_get_blob(r, row, 1, c->taken6 + 16 * v->n_taken6, 16))
			v->n_taken6++;
		break;
	}
}

static int
grant_read_view(struct pgsql *sql, struct grant_ctx *c)
{
	struct pgsql_params p = { 0 };
	size_t cap;
	PGresult *r;
	int i, rows;

	pgsql_blob(&p, true, c->client_pub, USERDB_KEY_LEN);
	pgsql_u64(&p, c->now_unix_s);
	pgsql_text(&p, c->username);
	rows = pgsql_run(sql, VIEW_SQL, &p, &r, "read taken addresses");
	if (rows < 0)
		return rows;
	cap = rows ? (size_t)rows : 1;
	c->taken4 = calloc(cap, 4);
	c->taken6 = calloc(cap, 16);
	if (!c->taken4 || !c->taken6) {
		PQclear(r);
		return -ENOMEM;
	}
	for (i = 0; i < rows; i++)
		view_row(r, i, c);
	PQclear(r);
	c->view.taken4 = c->taken4;
	c->view.taken6 = c->taken6;
	return 0;
}

/* Reads what the address choice needs and lets the caller choose. */
static int
grant_assign(struct pgsql *sql, struct grant_ctx *c, userdb_assign_fn assign,
	     void *arg, struct userdb_admission *adm)
{
	int ret = grant_read_view(sql, c);

	if (ret < 0)
		return ret;
	return assign(arg, &c->view, adm) ? 0 : -ENOSPC;
}

/* True if addr is one of the view's n sorted addresses of len bytes. */
static bool
is_taken(const uint8_t *list, size_t n, const uint8_t *addr, size_t len)
{
	size_t lo = 0, hi = n, mid;
	int cmp;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		cmp = memcmp(list + mid * len, addr, len);
		if (cmp == 0)
			return true;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * Other keys' admissions holding an address now given to this key end: a
 * fixed address always goes to its owner. A live admission ends only if
 * the caller chose its address knowing it was taken (it was in the view);
 * one the view did not show was committed since by another node, and
 * must not be ended: it is left, the UNIQUE address makes the insert
 * fail, and the grant runs again on what that node committed.
 */
static int
grant_evict(struct pgsql *sql, const struct grant_ctx *c,
	    const struct userdb_admission *adm)
{
	struct pgsql_params p = { 0 };

	pgsql_text(&p, USERDB_REASON_ADDRESS);
	pgsql_blob(&p, true, adm->client_pub, USERDB_KEY_LEN);
	pgsql_blob(&p, adm->has_addr4, adm->addr4, 4);
	pgsql_blob(&p, adm->has_addr6, adm->addr6, 16);
	pgsql_bool(&p, adm->has_addr4 && is_taken(c->view.taken4,
						   c->view.n_taken4,
						   adm->addr4, 4));
	pgsql_bool(&p, adm->has_addr6 && is_taken(c->view.taken6,
						   c->view.n_taken6,
						   adm->addr6, 16));
	pgsql_u64(&p, c->now_unix_s);
	return end_admissions(sql,
			      "client_key <> $2 AND ((addr4 = $3::bytea AND "
			      "($5::boolean OR expires <= $7::bigint)) OR "
			      "(addr6 = $4::bytea AND ($6::boolean OR expires "
			      "<= $7::bigint)))",
			      &p);
}

/* The greater of the stored stamp and the new one stays (a replayed
 * handshake must never become acceptable again). An address another
 * node's grant committed meanwhile makes this fail (UNIQUE), and the
 * grant runs again. */
static int
grant_store_admission(struct pgsql *sql, struct userdb_admission *adm)
{
	struct pgsql_params p = { 0 };
	PGresult *r;
	int rows;

	pgsql_blob(&p, true, adm->client_pub, USERDB_KEY_LEN);
	pgsql_text(&p, adm->username);
	pgsql_u64(&p, adm->created_unix_s);
	pgsql_u64(&p, adm->expires_unix_s);
	pgsql_blob(&p, adm->has_addr4, adm->addr4, 4);
	pgsql_blob(&p, adm->has_addr6, adm->addr6, 16);
	pgsql_blob(&p, adm->has_stamp, adm->stamp, USERDB_STAMP_LEN);
	rows = pgsql_run(sql,
			 "INSERT INTO admissions (client_key, username, "
			 "created, expires, addr4, addr6, last_stamp) VALUES "
			 "($1, $2, $3, $4, $5, $6, $7) ON CONFLICT "
			 "(client_key) DO UPDATE SET username = "
			 "excluded.username, created = excluded.created, "
			 "expires = excluded.expires, addr4 = excluded.addr4, "
			 "addr6 = excluded.addr6, last_stamp = CASE WHEN "
			 "admissions.last_stamp IS NULL OR excluded.last_stamp "
			 "> admissions.last_stamp THEN excluded.last_stamp "
			 "ELSE admissions.last_stamp END RETURNING last_stamp",
			 &p, &r, "store an admission");
	if (rows < 0)
		return rows;
	/* The stamp kept: maybe an earlier, greater one. */
	if (rows == 1)
		adm->has_stamp = pgsql_get_blob(r, 0, 0, adm->stamp,
						USERDB_STAMP_LEN);
	PQclear(r);
	return rows == 1 ? 0 : -EIO;
}

/* A family without an address this time keeps its old lease; a login
 * (has_login) records itself as the key's last. */
static int
grant_store_lease(struct pgsql *sql, const struct userdb_admission *adm,
		  uint64_t now_unix_s, bool has_login)
{
	struct pgsql_params p = { 0 };

	pgsql_text(&p, adm->username);
	pgsql_blob(&p, true, adm->client_pub, USERDB_KEY_LEN);
	pgsql_blob(&p, adm->has_addr4, adm->addr4, 4);
	pgsql_blob(&p, adm->has_addr6, adm->addr6, 16);
	pgsql_u64(&p, now_unix_s);
	if (has_login)
		pgsql_u64(&p, now_unix_s);
	else
		pgsql_text(&p, NULL);
	return pgsql_run(sql,
			 "INSERT INTO leases (username, client_key, addr4, "
			 "addr6, updated, last_login) VALUES ($1, $2, $3, $4, "
			 "$5, $6) ON CONFLICT (username, client_key) DO UPDATE "
			 "SET addr4 = COALESCE(excluded.addr4, leases.addr4), "
			 "addr6 = COALESCE(excluded.addr6, leases.addr6), "
			 "updated = excluded.updated, last_login = COALESCE("
			 "excluded.last_login, leases.last_login)",
			 &p, NULL, "store a lease");
}

/* The admission as a new grant makes it, before the addresses. */
static void
grant_admission(const struct userdb_grant *g, const struct grant_ctx *c,
		struct userdb_admission *adm)
{
	uint64_t lifetime = c->has_lifetime ? c->lifetime_s : g->lifetime_s;

	memset(adm, 0, sizeof(*adm));
	memcpy(adm->client_pub, g->client_pub, USERDB_KEY_LEN);
	snprintf(adm->username, sizeof(adm->username), "%s", g->username);
	adm->created_unix_s = g->now_unix_s;
	adm->expires_unix_s = g->now_unix_s + lifetime;
	adm->has_stamp = g->has_stamp;
	memcpy(adm->stamp, g->stamp, USERDB_STAMP_LEN);
}

struct grant_job {
	const struct userdb_grant *g;
	userdb_assign_fn assign;
	void *arg;
	struct userdb_admission *out;
	struct grant_ctx c;
};

/* Locks in one order: the account, the failure counters (kind, key),
 * the admissions, event_head last. */
static int
grant_tx(struct pgsql *sql, void *arg)
{
	struct grant_job *j = arg;
	const struct userdb_grant *g = j->g;
	struct pgsql_params p;
	size_t i;
	int ret;

	grant_ctx_reset(&j->c);
	memset(j->out, 0, sizeof(*j->out));
	ret = grant_read_user(sql, &j->c);
	if (ret == 0)
		ret = grant_consume(sql, g, j->c.last_step);
	for (i = 0; i < g->n_reset && ret >= 0; i++) {
		key_params(&p, &g->reset[i]);
		ret = pgsql_run(sql,
				"DELETE FROM failures WHERE kind = $1 AND "
				"key = $2",
				&p, NULL, "clear a failure counter");
	}
	if (ret >= 0 && g->n_adjust)
		ret = failures_adjust(sql, g->adjust, g->n_adjust, g->adjust_fn,
				      g->adjust_arg);
	if (ret >= 0) {
		grant_admission(g, &j->c, j->out);
		ret = grant_assign(sql, &j->c, j->assign, j->arg, j->out);
	}
	if (ret >= 0)
		ret = grant_evict(sql, &j->c, j->out);
	if (ret >= 0)
		ret = grant_store_admission(sql, j->out);
	if (ret >= 0)
		ret = grant_store_lease(sql, j->out, g->now_unix_s, true);
	return ret < 0 ? ret : 0;
}

static int
pg_grant(struct userdb *db, const struct userdb_grant *g,
	 userdb_assign_fn assign, void *arg, struct userdb_admission *out)
{
	struct grant_job j = {
		.g = g, .assign = assign, .arg = arg, .out = out,
		.c = { .username = g->username, .client_pub = g->client_pub,
		       .now_unix_s = g->now_unix_s, .verified = g },
	};
	int ret;

	memset(out, 0, sizeof(*out));
	if (g->has_step == g->has_recovery)
		return -EINVAL;
	ret = pgsql_tx(conn(db), false, grant_tx, &j);
	grant_ctx_reset(&j.c);
	if (ret < 0)
		memset(out, 0, sizeof(*out));
	return ret;
}

/* ---- admissions (changing) ------------------------------------------------ */

struct readdress_job {
	const uint8_t *client_pub;
	uint64_t now_unix_s;
	userdb_assign_fn assign;
	void *arg;
	struct userdb_admission *out;
	struct grant_ctx c;
	char username[USERDB_NAME_MAX + 1];
};

static int
store_addresses(struct pgsql *sql, const struct userdb_admission *adm)
{
	struct pgsql_params p = { 0 };

	pgsql_blob(&p, adm->has_addr4, adm->addr4, 4);
	pgsql_blob(&p, adm->has_addr6, adm->addr6, 16);
	pgsql_blob(&p, true, adm->client_pub, USERDB_KEY_LEN);
	return pgsql_run(sql,
			 "UPDATE admissions SET addr4 = $1, addr6 = $2 WHERE "
			 "client_key = $3",
			 &p, NULL, "re-address an admission");
}

/* The account is locked before the admission is read again, in the order
 * a grant takes them; an admission that changed hands meanwhile makes the
 * transaction run again. */
static int
readdress_tx(struct pgsql *sql, void *arg)
{
	struct readdress_job *j = arg;
	int ret;

	grant_ctx_reset(&j->c);
	ret = admission_read(sql, j->client_pub, j->now_unix_s, j->out);
	if (ret < 0)
		return ret;
	snprintf(j->username, sizeof(j->username), "%s", j->out->username);
	j->c.username = j->username;
	ret = grant_read_user(sql, &j->c);
	if (ret == 0)
		ret = admission_read(sql, j->client_pub, j->now_unix_s, j->out);
	if (ret == 0 && strcmp(j->out->username, j->username) != 0) {
		sql->should_retry = true;
		return -EAGAIN;
	}
	if (ret == 0)
		ret = grant_assign(sql, &j->c, j->assign, j->arg, j->out);
	if (ret >= 0)
		ret = grant_evict(sql, &j->c, j->out);
	if (ret >= 0)
		ret = store_addresses(sql, j->out);
	if (ret >= 0)
		ret = grant_store_lease(sql, j->out, j->now_unix_s, false);
	return ret < 0 ? ret : 0;
}

static int
pg_admission_readdress(struct userdb *db,
		       const uint8_t client_pub[USERDB_KEY_LEN],
		       uint64_t now_unix_s, userdb_assign_fn assign, void *arg,
		       struct userdb_admission *out)
{
	struct readdress_job j = {
		.client_pub = client_pub, .now_unix_s = now_unix_s,
		.assign = assign, .arg = arg, .out = out,
		.c = { .client_pub = client_pub, .now_unix_s = now_unix_s },
	};
	int ret = pgsql_tx(conn(db), false, readdress_tx, &j);

	grant_ctx_reset(&j.c);
	if (ret < 0)
		memset(out, 0, sizeof(*out));
	return ret;
}

struct ending_job {
	const char *where;
	struct pgsql_params p;
};

static int
ending_tx(struct pgsql *sql, void *arg)
{
	const struct ending_job *j = arg;

	return end_admissions(sql, j->where, &j->p);
}

static int
pg_admission_end(struct userdb *db, const uint8_t client_pub[USERDB_KEY_LEN],
		 const char *reason)
{
	struct ending_job j = { .where = "client_key = $2" };
	int ret;

	pgsql_text(&j.p, reason);
	pgsql_blob(&j.p, true, client_pub, USERDB_KEY_LEN);
	ret = pgsql_tx(conn(db), false, ending_tx, &j);
	return ret < 0 ? ret : 0;
}

static int
pg_admissions_end_matching(struct userdb *db, const struct userdb_match *m,
			   const char *reason)
{
	static const char *const where[] = {
		[USERDB_MATCH_USER] = "username = $2",
		[USERDB_MATCH_KEY] = "client_key = $2",
		[USERDB_MATCH_ADDR4] = "addr4 = $2",
		[USERDB_MATCH_ADDR6] = "addr6 = $2",
	};
	struct ending_job j = { .where = where[m->kind] };

	pgsql_text(&j.p, reason);
	switch (m->kind) {
	case USERDB_MATCH_USER:
		pgsql_text(&j.p, m->user);
		break;
	case USERDB_MATCH_KEY:
		pgsql_blob(&j.p, true, m->key, USERDB_KEY_LEN);
		break;
	case USERDB_MATCH_ADDR4:
		pgsql_blob(&j.p, true, m->addr, 4);
		break;
	default:
		pgsql_blob(&j.p, true, m->addr, 16);
		break;
	}
	return pgsql_tx(conn(db), false, ending_tx, &j);
}

/* Expired admissions end like any other: every vpnd reading the events
 * forgets them, and a live session of one (its own expiry missed) ends. */
static int
pg_admissions_prune(struct userdb *db, uint64_t now_unix_s)
{
	struct ending_job j = { .where = "expires <= $2" };

	pgsql_text(&j.p, USERDB_REASON_EXPIRED);
	pgsql_u64(&j.p, now_unix_s);
	return pgsql_tx(conn(db), false, ending_tx, &j);
}

struct stamps_job {
	const struct userdb_stamp *v;
	size_t n;
};

/* TAI64N is big-endian seconds then nanoseconds: bytes compare as times,
 * and bytea compares as memcmp does. */
static int
stamps_tx(struct pgsql *sql, void *arg)
{
	const struct stamps_job *j = arg;
	size_t i;
	int ret = 0;

	for (i = 0; i < j->n && ret >= 0; i++) {
		struct pgsql_params p = { 0 };

		pgsql_blob(&p, true, j->v[i].client_pub, USERDB_KEY_LEN);
		pgsql_blob(&p, true, j->v[i].stamp, USERDB_STAMP_LEN);
		ret = pgsql_run(sql,
				"UPDATE admissions SET last_stamp = $2 WHERE "
				"client_key = $1 AND (last_stamp IS NULL OR "
				"last_stamp < $2)",
				&p, NULL, "save a handshake timestamp");
	}
	return ret < 0 ? ret : 0;
}

static int
pg_stamps_raise(struct userdb *db, const struct userdb_stamp *v, size_t n)
{
	struct stamps_job j = { v, n };

	if (n == 0)
		return 0;
	return pgsql_tx(conn(db), false, stamps_tx, &j);
}

/* ---- devices -------------------------------------------------------------- */

/*
 * Every key with a lease or an admission of the user: the last login is
 * the lease's (the admission's creation for a key admitted before logins
 * were recorded), the addresses those of the admission if it is live.
 */
#define DEVICES_SQL                                                           \
	"SELECT k.client_key, COALESCE(l.last_login, a.created), "           \
	"CASE WHEN a.expires > $2 THEN a.addr4 ELSE l.addr4 END, "           \
	"CASE WHEN a.expires > $2 THEN a.addr6 ELSE l.addr6 END, "           \
	"CASE WHEN a.expires > $2 THEN a.expires ELSE 0 END "                \
	"FROM (SELECT client_key FROM leases WHERE username = $1 UNION "      \
	"SELECT client_key FROM admissions WHERE username = $1) k "          \
	"LEFT JOIN leases l ON l.username = $1 AND "                         \
	"l.client_key = k.client_key "                                       \
	"LEFT JOIN admissions a ON a.username = $1 AND "                     \
	"a.client_key = k.client_key "                                       \
	"ORDER BY 2 DESC NULLS LAST, k.client_key"

static void
read_device(const PGresult *r, int row, struct userdb_device *d)
{
	memset(d, 0, sizeof(*d));
	pgsql_get_blob(r, row, 0, d->client_pub, USERDB_KEY_LEN);
	d->has_last_login = !pgsql_is_null(r, row, 1);
	d->last_login_unix_s = pgsql_get_u64(r, row, 1);
	d->has_addr4 = pgsql_get_blob(r, row, 2, d->addr4, 4);
	d->has_addr6 = pgsql_get_blob(r, row, 3, d->addr6, 16);
	d->expires_unix_s = pgsql_get_u64(r, row, 4);
	d->is_admitted = d->expires_unix_s != 0;
}

struct devices_job {
	const char *name;
	uint64_t now_unix_s;
	userdb_device_fn fn;
	void *arg;
};

/* A snapshot transaction: the account and its devices as of one moment. */
static int
devices_tx(struct pgsql *sql, void *arg)
{
	const struct devices_job *j = arg;
	struct userdb_device d;
	struct pgsql_params p = { 0 };
	PGresult *r;
	int i, rows, ret = 0;

	pgsql_text(&p, j->name);
	rows = pgsql_run(sql, "SELECT 1 FROM users WHERE name = $1", &p, NULL,
			 "find a user");
	if (rows <= 0)
		return rows < 0 ? rows : -ENOENT;
	pgsql_u64(&p, j->now_unix_s);
	rows = pgsql_run(sql, DEVICES_SQL, &p, &r, "list devices");
	if (rows < 0)
		return rows;
	for (i = 0; i < rows && ret == 0; i++) {
		read_device(r, i, &d);
		ret = j->fn(j->arg, &d);
	}
	PQclear(r);
	return ret;
}

static int
pg_devices_list(struct userdb *db, const char *name, uint64_t now_unix_s,
		userdb_device_fn fn, void *arg)
{
	struct devices_job j = { name, now_unix_s, fn, arg };

	return pgsql_tx(conn(db), true, devices_tx, &j);
}

/* The account a key belongs to: its admission's, else its most recent
 * lease's. -ENOENT if it has neither. */
static int
device_owner(struct pgsql *sql, const uint8_t *client_pub,
	     char user_out[USERDB_NAME_MAX + 1])
{
	struct pgsql_params p = { 0 };
	PGresult *r;
	int rows;

	user_out[0] = '\0';
	pgsql_blob(&p, true, client_pub, USERDB_KEY_LEN);
	rows = pgsql_run(sql,
			 "SELECT username FROM (SELECT username, 1 AS o, "
			 "0::bigint AS t FROM admissions WHERE client_key = $1 "
			 "UNION ALL SELECT username, 2, COALESCE(last_login, "
			 "updated) FROM leases WHERE client_key = $1) x "
			 "ORDER BY o, t DESC LIMIT 1",
			 &p, &r, "find a device");
	if (rows < 0)
		return rows;
	if (rows == 1)
		pgsql_get_text(r, 0, 0, user_out, USERDB_NAME_MAX + 1);
	PQclear(r);
	return rows == 1 ? 0 : -ENOENT;
}

struct revoke_job {
	const uint8_t *client_pub;
	const char *reason;
	char *user_out;
};

static int
revoke_tx(struct pgsql *sql, void *arg)
{
	const struct revoke_job *j = arg;
	struct pgsql_params p = { 0 };
	int n, ret = device_owner(sql, j->client_pub, j->user_out);

	if (ret < 0)
		return ret;
	pgsql_text(&p, j->reason);
	pgsql_blob(&p, true, j->client_pub, USERDB_KEY_LEN);
	n = end_admissions(sql, "client_key = $2", &p);
	if (n < 0)
		return n;
	memset(&p, 0, sizeof(p));
	pgsql_blob(&p, true, j->client_pub, USERDB_KEY_LEN);
	ret = pgsql_run(sql, "DELETE FROM leases WHERE client_key = $1", &p,
			NULL, "forget a lease");
	return ret < 0 ? ret : n;
}

static int
pg_device_revoke(struct userdb *db, const uint8_t client_pub[USERDB_KEY_LEN],
		 const char *reason, char user_out[USERDB_NAME_MAX + 1])
{
	struct revoke_job j = { client_pub, reason, user_out };

	user_out[0] = '\0';
	return pgsql_tx(conn(db), false, revoke_tx, &j);
}

/* ---- events --------------------------------------------------------------- */

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

/* ---- opening -------------------------------------------------------------- */

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

int
userdb_pg_open(const char *conninfo, struct userdb **out)
{
	struct pgdb *db;
	int ret;

	*out = NULL;
	db = calloc(1, sizeof(*db));
	if (!db)
		return -ENOMEM;
	db->base.ops = &userdb_pg_ops;
	ret = pgsql_open(&db->sql, conninfo);
	if (ret < 0) {
		free(db);
		return ret;
	}
	db->sql.pre_commit = number_events;
	ret = pgsql_tx(&db->sql, false, migrate_tx, NULL);
	if (ret < 0) {
		pg_close(&db->base);
		return ret;
	}
	*out = &db->base;
	return 0;
}

static const struct userdb_ops userdb_pg_ops = {
	.name = "postgresql",
	.close = pg_close,
	.user_add = pg_user_add,
	.users_add = pg_users_add,
	.user_get = pg_user_get,
	.user_del = pg_user_del,
	.user_set_password = pg_user_set_password,
	.user_set_totp = pg_user_set_totp,
	.user_set_totp_step = pg_user_set_totp_step,
	.user_set_enabled = pg_user_set_enabled,
	.user_list = pg_user_list,
	.recovery_replace = pg_recovery_replace,
	.recovery_unused = pg_recovery_unused,
	.devices_list = pg_devices_list,
	.device_revoke = pg_device_revoke,
	.subnets_set = pg_subnets_set,
	.subnets_get = pg_subnets_get,
	.subnets_list = pg_subnets_list,
	.failure_get = pg_failure_get,
	.failures_apply = pg_failures_apply,
	.failures_list = pg_failures_list,
	.failure_clear = pg_failure_clear,
	.failures_prune = pg_failures_prune,
	.grant = pg_grant,
	.admission_get = pg_admission_get,
	.admissions_list = pg_admissions_list,
	.admission_readdress = pg_admission_readdress,
	.admission_end = pg_admission_end,
	.admissions_end_matching = pg_admissions_end_matching,
	.admissions_prune = pg_admissions_prune,
	.stamps_raise = pg_stamps_raise,
	.events_head = pg_events_head,
	.events_after = pg_events_after,
	.events_prune = pg_events_prune,
	.node_beat = userdb_pg_node_beat,
	.session_up = userdb_pg_session_up,
	.session_down = userdb_pg_session_down,
	.node_leave = userdb_pg_node_leave,
	.nodes_list = userdb_pg_nodes_list,
};
