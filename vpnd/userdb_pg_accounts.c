// SPDX-License-Identifier: MIT
/*
 * The PostgreSQL store's accounts (see userdb.h): users and their
 * credentials, recovery codes and a site's subnets. A change that ends
 * admissions locks the account's row first (as a grant does), then ends
 * them with their events, in one transaction. Stores and returns; decides
 * nothing.
 */
#include "userdb_pg.h"

#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int
end_user_admissions(struct pgsql *sql, const char *name, const char *reason)
{
	struct pgsql_params p = { 0 };

	pgsql_text(&p, reason);
	pgsql_text(&p, name);
	return userdb_pg_end_admissions(sql, "username = $2", &p);
}

/* ---- accounts ------------------------------------------------------------ */

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

int
userdb_pg_users_add(struct userdb *db, const struct userdb_user *u, size_t n,
	     size_t *failed)
{
	struct users_add_job j = { u, n, failed };

	*failed = 0;
	return pgsql_tx(conn(db), false, users_add_tx, &j);
}

int
userdb_pg_user_add(struct userdb *db, const struct userdb_user *u)
{
	size_t failed;

	return userdb_pg_users_add(db, u, 1, &failed);
}

int
userdb_pg_user_get(struct userdb *db, const char *name, struct userdb_user *out)
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

int
userdb_pg_user_del(struct userdb *db, const char *name)
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

int
userdb_pg_user_set_password(struct userdb *db, const char *name,
			    const char *pw_hash)
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

int
userdb_pg_user_set_totp_step(struct userdb *db, const char *name,
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

int
userdb_pg_user_set_totp(struct userdb *db, const char *name,
			const uint8_t *secret,
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

int
userdb_pg_user_set_enabled(struct userdb *db, const char *name, bool is_enabled)
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

int
userdb_pg_user_list(struct userdb *db, userdb_user_fn fn, void *arg)
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

/* ---- recovery codes ------------------------------------------------------ */

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
				"DELETE FROM recovery_codes WHERE "
				"username = $1",
				&p, NULL, "replace recovery codes");
	for (i = 0; i < j->n && ret >= 0; i++) {
		struct pgsql_params q = { 0 };

		pgsql_text(&q, j->name);
		pgsql_blob(&q, true, j->codes[i].salt,
			   sizeof(j->codes[i].salt));
		pgsql_blob(&q, true, j->codes[i].hash,
			   sizeof(j->codes[i].hash));
		pgsql_u64(&q, j->now_unix_s);
		ret = pgsql_run(sql,
				"INSERT INTO recovery_codes (username, salt, "
				"hash, used, created) VALUES ($1, $2, $3, 0, "
				"$4)",
				&q, NULL, "store a recovery code");
	}
	return ret < 0 ? ret : 0;
}

int
userdb_pg_recovery_replace(struct userdb *db, const char *name,
		    const struct userdb_recovery *codes, size_t n,
		    uint64_t now_unix_s)
{
	struct recovery_job j = { name, codes, n, now_unix_s };

	return pgsql_tx(conn(db), false, recovery_replace_tx, &j);
}

int
userdb_pg_recovery_unused(struct userdb *db, const char *name,
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

/* ---- site subnets -------------------------------------------------------- */

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

int
userdb_pg_subnets_set(struct userdb *db, const char *name,
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

int
userdb_pg_subnets_get(struct userdb *db, const char *name, struct prefix *out,
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

int
userdb_pg_subnets_list(struct userdb *db, userdb_subnet_fn fn, void *arg)
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
