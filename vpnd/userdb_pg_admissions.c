// SPDX-License-Identifier: MIT
/*
 * The PostgreSQL store's logins, admissions and devices (see userdb.h):
 * a grant in one transaction with the account's row locked throughout
 * (FOR UPDATE), the TOTP step or recovery code consumed by a conditional
 * UPDATE whose row count says whether this node got it, addresses chosen
 * by the caller from what the store holds (UNIQUE in the schema: a
 * concurrent grant of one address runs again), and admissions ended with
 * their events in one statement. Stores and returns; decides nothing.
 */
#include "userdb_pg.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- admissions (reading) ------------------------------------------------ */

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

int
userdb_pg_admission_get(struct userdb *db,
			const uint8_t client_pub[USERDB_KEY_LEN],
		 uint64_t now_unix_s, struct userdb_admission *out)
{
	return admission_read(conn(db), client_pub, now_unix_s, out);
}

/* One statement: one snapshot. */
int
userdb_pg_admissions_list(struct userdb *db, uint64_t now_unix_s,
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

/* ---- grants -------------------------------------------------------------- */

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
		c->view.has_fixed6 = pgsql_get_blob(r, 0, 3, c->view.fixed6,
						    16);
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
	return userdb_pg_end_admissions(sql,
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
	size_t i;
	int ret;

	grant_ctx_reset(&j->c);
	memset(j->out, 0, sizeof(*j->out));
	ret = grant_read_user(sql, &j->c);
	if (ret == 0)
		ret = grant_consume(sql, g, j->c.last_step);
	for (i = 0; i < g->n_reset && ret >= 0; i++)
		ret = userdb_pg_failure_delete(sql, &g->reset[i]);
	if (ret >= 0 && g->n_adjust)
		ret = userdb_pg_failures_adjust(sql, g->adjust, g->n_adjust,
						g->adjust_fn,
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

int
userdb_pg_grant(struct userdb *db, const struct userdb_grant *g,
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

/* ---- admissions (changing) ----------------------------------------------- */

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

int
userdb_pg_admission_readdress(struct userdb *db,
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

	return userdb_pg_end_admissions(sql, j->where, &j->p);
}

int
userdb_pg_admission_end(struct userdb *db,
			const uint8_t client_pub[USERDB_KEY_LEN],
		 const char *reason)
{
	struct ending_job j = { .where = "client_key = $2" };
	int ret;

	pgsql_text(&j.p, reason);
	pgsql_blob(&j.p, true, client_pub, USERDB_KEY_LEN);
	ret = pgsql_tx(conn(db), false, ending_tx, &j);
	return ret < 0 ? ret : 0;
}

int
userdb_pg_admissions_end_matching(struct userdb *db,
				  const struct userdb_match *m,
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
int
userdb_pg_admissions_prune(struct userdb *db, uint64_t now_unix_s)
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

int
userdb_pg_stamps_raise(struct userdb *db, const struct userdb_stamp *v,
		       size_t n)
{
	struct stamps_job j = { v, n };

	if (n == 0)
		return 0;
	return pgsql_tx(conn(db), false, stamps_tx, &j);
}

/* ---- devices ------------------------------------------------------------- */

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

int
userdb_pg_devices_list(struct userdb *db, const char *name, uint64_t now_unix_s,
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
	n = userdb_pg_end_admissions(sql, "client_key = $2", &p);
	if (n < 0)
		return n;
	memset(&p, 0, sizeof(p));
	pgsql_blob(&p, true, j->client_pub, USERDB_KEY_LEN);
	ret = pgsql_run(sql, "DELETE FROM leases WHERE client_key = $1", &p,
			NULL, "forget a lease");
	return ret < 0 ? ret : n;
}

int
userdb_pg_device_revoke(struct userdb *db,
			const uint8_t client_pub[USERDB_KEY_LEN],
		 const char *reason, char user_out[USERDB_NAME_MAX + 1])
{
	struct revoke_job j = { client_pub, reason, user_out };

	user_out[0] = '\0';
	return pgsql_tx(conn(db), false, revoke_tx, &j);
}
