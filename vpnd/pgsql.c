// SPDX-License-Identifier: MIT
/*
 * The PostgreSQL connection under the user store (see pgsql.h): connect
 * and reconnect with backoff, statements with parameters, errors mapped
 * to errnos, transactions retried when the server asks, results read;
 * a lazy open (vpnd's) that tells a server not there from one refusing.
 *
 * It must not know the store's tables or decide anything about logins;
 * it never blocks a call for longer than one connection attempt
 * (connect_timeout) and, on a handle's first connection, the owner's
 * setup, or one statement (a lazy open: two attempts and two pings).
 */
#include "pgsql.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/*
 * Every session's bounds, so one node cannot stall the others: a node cut
 * off inside a transaction (holding an account's row lock mid-grant) has
 * its session ended by the server after 15 s, releasing the lock, instead
 * of when TCP notices hours later; a statement waits at most 5 s for a
 * lock and runs at most 15 s (the caller answers BUSY).
 */
#define SESSION_SQL                                                           \
	"SET idle_in_transaction_session_timeout = '15s';"                    \
	"SET lock_timeout = '5s';"                                            \
	"SET statement_timeout = '15s';"

#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 4000
/* Runs of one transaction while the server asks for another. */
#define TX_TRIES 8

/* ---- parameters ------------------------------------------------------------- */

static void
param(struct pgsql_params *p, const char *value, int len, int format)
{
	if (p->n >= PGSQL_PARAMS_MAX)
		abort(); /* a statement in userdb_pg.c with too many */
	p->values[p->n] = value;
	p->lengths[p->n] = len;
	p->formats[p->n] = format;
	p->n++;
}

void
pgsql_text(struct pgsql_params *p, const char *s)
{
	param(p, s, 0, 0);
}

void
pgsql_i64(struct pgsql_params *p, int64_t v)
{
	char *buf = p->text[p->n < PGSQL_PARAMS_MAX ? p->n : 0];

	snprintf(buf, sizeof(p->text[0]), "%" PRId64, v);
	param(p, buf, 0, 0);
}

void
pgsql_u64(struct pgsql_params *p, uint64_t v)
{
	pgsql_i64(p, v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

void
pgsql_bool(struct pgsql_params *p, bool v)
{
	param(p, v ? "true" : "false", 0, 0);
}

void
pgsql_blob(struct pgsql_params *p, bool has, const void *data, size_t len)
{
	if (has)
		param(p, data, (int)len, 1);
	else
		param(p, NULL, 0, 1);
}

/* ---- the connection --------------------------------------------------------- */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* libpq's messages span lines (and end with a newline); a log line
 * does not: each run of white space becomes one space. */
static void
message(char *out, size_t cap, const char *msg)
{
	size_t n = 0;
	bool is_space = true;

	for (; msg && *msg && n + 1 < cap; msg++) {
		if (*msg == ' ' || *msg == '\n' || *msg == '\t') {
			is_space = true;
			continue;
		}
		if (is_space && n > 0 && n + 2 < cap)
			out[n++] = ' ';
		is_space = false;
		out[n++] = *msg;
	}
	out[n] = '\0';
	if (n == 0)
		snprintf(out, cap, "no message");
}

/*
 * The password never comes from vpnd.conf or a command line (where ps
 * and the config's readers would see it): a password file or libpq's
 * environment gives it.
 */
static int
check_conninfo(const char *conninfo)
{
	PQconninfoOption *opts, *o;
	char *err = NULL;
	char msg[256];
	int ret = 0;

	opts = PQconninfoParse(conninfo, &err);
	if (!opts) {
		message(msg, sizeof(msg), err);
		log_err("user store: bad PostgreSQL connection string: %s",
			msg);
		PQfreemem(err);
		return -EINVAL;
	}
	for (o = opts; o->keyword; o++) {
		if (strcmp(o->keyword, "password") == 0 && o->val) {
			log_err("user store: the PostgreSQL connection string "
				"holds a password; give it in a password file "
				"(passfile, ~/.pgpass) or PGPASSWORD instead");
			ret = -EINVAL;
		}
	}
	PQconninfoFree(opts);
	return ret;
}

/* The server's notices (a CREATE ... IF NOT EXISTS that found it) are no
 * news: libpq would print them to stderr. */
static void
notice(void *arg, const char *msg)
{
	char text[256];

	(void)arg;
	message(text, sizeof(text), msg);
	log_debug("user store: PostgreSQL says: %s", text);
}

/*
 * The defaults come before dbname (the caller's string, expanded), so the
 * caller's own settings win: a 2 s bound on connecting; over TCP, a
 * server that vanished without a word noticed (keepalives: an idle
 * connection in 11 s; tcp_user_timeout: a statement unacknowledged for
 * 5 s, instead of a worker held through minutes of retransmissions); no
 * GSSAPI encryption (probing for it reads Kerberos' configuration, which
 * vpnd's sandbox refuses after start; TLS, sslmode, stays).
 */
static const char *const conn_keys[] = {
	"connect_timeout", "keepalives_idle", "keepalives_interval",
	"keepalives_count", "tcp_user_timeout", "gssencmode",
	"fallback_application_name", "dbname", NULL,
};

static void
conn_values(const struct pgsql *db, const char *values[])
{
	static const char *const defaults[] = { "2", "5", "2", "3", "5000",
						"disable", "vpnd" };
	size_t i;

	for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		values[i] = defaults[i];
	values[i++] = db->conninfo;
	values[i] = NULL;
}

/* One attempt. */
static int
attempt(struct pgsql *db, char *why, size_t why_cap)
{
	const char *values[sizeof(conn_keys) / sizeof(conn_keys[0])];
	PGresult *r;
	PGconn *c;

	conn_values(db, values);
	c = PQconnectdbParams(conn_keys, values, 1);
	if (!c) {
		snprintf(why, why_cap, "out of memory");
		return -ENOMEM;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		message(why, why_cap, PQerrorMessage(c));
		PQfinish(c);
		return -ENOTCONN;
	}
	PQsetNoticeProcessor(c, notice, NULL);
	r = PQexec(c, SESSION_SQL "LISTEN " PGSQL_CHANNEL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		message(why, why_cap, PQresultErrorMessage(r));
		PQclear(r);
		PQfinish(c);
		return -ENOTCONN;
	}
	PQclear(r);
	db->conn = c;
	return 0;
}

/*
 * True if a server answers at the string's address, whether or not it
 * would let us in (libpq's ping: an authentication request or any error
 * but "starting up" or "shutting down" counts): a failed attempt then
 * was refused, not unanswered.
 */
static bool
server_answers(const struct pgsql *db)
{
	const char *values[sizeof(conn_keys) / sizeof(conn_keys[0])];

	conn_values(db, values);
	return PQpingParams(conn_keys, values, 1) == PQPING_OK;
}

/*
 * Connections of this process that lost their server and have not got it
 * back: the first loss and the last reconnection are logged, so an outage
 * reads as one pair of lines however many of vpnd's workers notice it.
 */
static int lost_conns;

static void
mark_lost(struct pgsql *db, const char *why)
{
	/* A server absent since open was said once (mark_absent). */
	if (db->is_lost || db->is_absent)
		return;
	db->is_lost = true;
	if (__atomic_fetch_add(&lost_conns, 1, __ATOMIC_SEQ_CST) == 0)
		log_warn("user store: lost the connection to PostgreSQL (%s); "
			 "reconnecting", why);
}

static void
mark_back(struct pgsql *db, bool is_logged)
{
	if (!db->is_lost)
		return;
	db->is_lost = false;
	if (__atomic_sub_fetch(&lost_conns, 1, __ATOMIC_SEQ_CST) == 0 &&
	    is_logged)
		log_notice("user store: reconnected to PostgreSQL");
}

void
pgsql_close(struct pgsql *db)
{
	mark_back(db, false);
	PQfinish(db->conn);
	db->conn = NULL;
	free(db->conninfo);
	db->conninfo = NULL;
}

/* Drops a broken connection; calls fail fast until the backoff passes. */
static void
lose(struct pgsql *db, const char *msg)
{
	char why[256];

	message(why, sizeof(why), msg);
	mark_lost(db, why);
	PQfinish(db->conn);
	db->conn = NULL;
	db->retry_at_ms = now_ms() + db->backoff_ms;
}

/*
 * True if the server closed this idle connection (a restart, a failover,
 * an administrator): its socket reads as the end. Reads without waiting;
 * anything else that came (notifications) stays queued for PQnotifies.
 */
static bool
is_closed(PGconn *c)
{
	struct pollfd pfd = { .fd = PQsocket(c), .events = POLLIN };
	int i;

	/* The server's last words (a FATAL error) and the end may come
	 * apart: read while there is something to read, a few times. */
	for (i = 0; i < 4; i++) {
		if (pfd.fd < 0)
			return true;
		if (poll(&pfd, 1, 0) <= 0)
			return false;
		if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK)
			return true;
	}
	return false;
}

static void
mark_found(struct pgsql *db);

/*
 * The owner's setup, once per handle, on its first connection: a lazy
 * handle's first connection may come long after open. Marked done first,
 * as setup's own statements come back through pgsql_ready().
 */
static int
set_up(struct pgsql *db)
{
	int ret;

	if (db->is_set_up || !db->setup)
		return 0;
	db->is_set_up = true;
	ret = db->setup(db);
	if (ret < 0)
		db->is_set_up = false;
	return ret;
}

int
pgsql_ready(struct pgsql *db)
{
	char why[256];
	uint64_t now;
	int ret;

	if (db->conn && !is_closed(db->conn))
		return 0;
	if (db->conn) {
		/* Found before use: no call failed, so no backoff; the
		 * server may well be back already. */
		message(why, sizeof(why), PQerrorMessage(db->conn));
		log_debug("user store: the server closed an idle connection "
			  "(%s)", why);
		PQfinish(db->conn);
		db->conn = NULL;
		if (!db->is_lost)
			db->retry_at_ms = 0;
	}
	now = now_ms();
	if (now < db->retry_at_ms)
		return -ENOTCONN;
	if (attempt(db, why, sizeof(why)) < 0) {
		mark_lost(db, why);
		log_debug("user store: PostgreSQL still unreachable: %s", why);
		db->retry_at_ms = now + db->backoff_ms;
		db->backoff_ms = db->backoff_ms * 2 > BACKOFF_MAX_MS
					 ? BACKOFF_MAX_MS
					 : db->backoff_ms * 2;
		return -ENOTCONN;
	}
	ret = set_up(db);
	if (ret < 0 && db->conn) {
		/* Refused (a schema newer than this program: it stays so
		 * until someone acts; setup has said why): never used
		 * unchecked, dropped, tried again after the longest wait. */
		lose(db, "the store's schema cannot be used");
		db->retry_at_ms = now_ms() + BACKOFF_MAX_MS;
	}
	if (ret < 0)
		return -ENOTCONN;
	mark_back(db, true);
	mark_found(db);
	db->has_reconnected = true;
	db->backoff_ms = BACKOFF_FIRST_MS;
	return 0;
}

/* ---- opening -------------------------------------------------------------- */

/*
 * A lazy handle's server did not answer at open: said once for the
 * process, however many of vpnd's workers open one, and so is the first
 * connection made after (mark_found). Such a handle is not lost (nothing
 * it had went away): its failed attempts say nothing more.
 */
static int absence_said;

static void
mark_absent(struct pgsql *db, const char *why)
{
	db->is_absent = true;
	if (!__atomic_exchange_n(&absence_said, 1, __ATOMIC_SEQ_CST))
		log_warn("user store: PostgreSQL cannot be reached (%s); "
			 "going on without it, connecting when it answers",
			 why);
	else
		log_debug("user store: PostgreSQL cannot be reached: %s", why);
	db->retry_at_ms = now_ms() + db->backoff_ms;
	db->backoff_ms *= 2;
}

static void
mark_found(struct pgsql *db)
{
	if (!db->is_absent)
		return;
	db->is_absent = false;
	if (__atomic_exchange_n(&absence_said, 0, __ATOMIC_SEQ_CST))
		log_notice("user store: connected to PostgreSQL");
}

/* The first attempt failed: -ENOTCONN if nothing answers (or the server
 * is starting or stopping), else -EACCES. One attempt more once a server
 * answers, as it may have come up between the two. */
static int
refused_or_absent(struct pgsql *db, char *why, size_t why_cap)
{
	if (!server_answers(db))
		return -ENOTCONN;
	if (attempt(db, why, why_cap) == 0)
		return 0;
	return server_answers(db) ? -EACCES : -ENOTCONN;
}

int
pgsql_open(struct pgsql *db, const char *conninfo, pgsql_hook_fn setup,
	   bool is_lazy)
{
	char why[256];
	int ret;

	memset(db, 0, sizeof(*db));
	db->backoff_ms = BACKOFF_FIRST_MS;
	db->setup = setup;
	ret = check_conninfo(conninfo);
	if (ret < 0)
		return ret;
	db->conninfo = strdup(conninfo);
	if (!db->conninfo)
		return -ENOMEM;
	ret = attempt(db, why, sizeof(why));
	if (ret == -ENOTCONN && is_lazy)
		ret = refused_or_absent(db, why, sizeof(why));
	if (ret == -ENOTCONN && is_lazy) {
		mark_absent(db, why);
		return 0;
	}
	if (ret < 0) {
		log_err("user store: %s PostgreSQL: %s",
			ret == -EACCES ? "refused by" : "cannot connect to",
			why);
		pgsql_close(db);
		return ret;
	}
	/* setup says why it failed; a server gone meanwhile (lose() said
	 * so and set the backoff) is, for a lazy handle, one not there. */
	ret = set_up(db);
	if (ret == -ENOTCONN && is_lazy)
		return 0;
	if (ret < 0)
		pgsql_close(db);
	return ret;
}

/* ---- statements ------------------------------------------------------------- */

static bool
is_state(const char *state, const char *want)
{
	return state && strcmp(state, want) == 0;
}

/* Class 08 (connection exception) and the server shutting down or
 * starting up: the connection is gone or useless. */
static bool
is_connection_state(const char *state)
{
	return (state && strncmp(state, "08", 2) == 0) ||
	       is_state(state, "57P01") || is_state(state, "57P02") ||
	       is_state(state, "57P03");
}

static int
fail(struct pgsql *db, const PGresult *r, const char *what)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *constraint;
	char msg[512];

	message(msg, sizeof(msg),
		r ? PQresultErrorMessage(r) : PQerrorMessage(db->conn));
	if (PQstatus(db->conn) != CONNECTION_OK || is_connection_state(state)) {
		lose(db, msg);
		return -ENOTCONN;
	}
	/* serialization_failure, deadlock_detected: run it again */
	if (is_state(state, "40001") || is_state(state, "40P01")) {
		log_debug("user store: %s: %s; trying again", what, msg);
		db->should_retry = true;
		return -EAGAIN;
	}
	if (is_state(state, "23505")) {
		/* Another node's grant, not yet visible when this one read
		 * the taken addresses, committed the same one: read again. */
		constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
		if (constraint &&
		    strncmp(constraint, "admissions_addr", 15) == 0) {
			db->should_retry = true;
			return -EAGAIN;
		}
		return -EEXIST;
	}
	if (is_state(state, "23503"))
		return -ENOENT;
	/* lock_not_available, query_canceled: a bound of SESSION_SQL */
	if (is_state(state, "55P03") || is_state(state, "57014")) {
		log_warn("user store: %s: %s", what, msg);
		return -EBUSY;
	}
	log_err("user store: %s: %s", what, msg);
	return -EIO;
}

int
pgsql_run(struct pgsql *db, const char *sql, const struct pgsql_params *p,
	  PGresult **out, const char *what)
{
	PGresult *r;
	int ret;

	if (out)
		*out = NULL;
	/* Outside a transaction a call may reconnect; inside one, the
	 * transaction died with the connection. */
	if (!db->in_tx && (ret = pgsql_ready(db)) < 0)
		return ret;
	if (!db->conn)
		return -ENOTCONN;
	if (p)
		r = PQexecParams(db->conn, sql, p->n, NULL, p->values,
				 p->lengths, p->formats, 0);
	else
		r = PQexec(db->conn, sql);
	switch (PQresultStatus(r)) {
	case PGRES_TUPLES_OK:
		ret = PQntuples(r);
		if (out) {
			*out = r;
			return ret;
		}
		break;
	case PGRES_COMMAND_OK:
		ret = atoi(PQcmdTuples(r));
		break;
	default:
		ret = fail(db, r, what);
		break;
	}
	PQclear(r);
	return ret;
}

int
pgsql_tx(struct pgsql *db, bool is_read, pgsql_tx_fn fn, void *arg)
{
	int ret, r, tries;

	for (tries = 1;; tries++) {
		db->should_retry = false;
		db->pending = 0;
		ret = pgsql_run(db,
				is_read ? "BEGIN ISOLATION LEVEL REPEATABLE "
					  "READ READ ONLY"
					: "BEGIN",
				NULL, NULL, "begin");
		if (ret < 0)
			return ret;
		db->in_tx = true;
		ret = fn(db, arg);
		if (ret >= 0 && db->pre_commit && (r = db->pre_commit(db)) < 0)
			ret = r;
		/* If the connection breaks during COMMIT, whether it
		 * committed is unknown: -ENOTCONN says so (the caller answers
		 * BUSY; a login retried then finds its code consumed or
		 * not, and every change here is all or nothing). */
		if (ret >= 0 && (r = pgsql_run(db, "COMMIT", NULL, NULL,
					       "commit")) < 0)
			ret = r;
		else if (ret < 0 && db->conn)
			(void)pgsql_run(db, "ROLLBACK", NULL, NULL, "rollback");
		db->in_tx = false;
		db->pending = 0;
		if (ret >= 0 || !db->should_retry)
			return ret;
		if (tries == TX_TRIES) {
			log_warn("user store: a transaction still conflicts "
				 "after %d tries", tries);
			return -EBUSY;
		}
		usleep(1000 * (useconds_t)tries + randombytes_uniform(2000));
	}
}

int
pgsql_notified(struct pgsql *db)
{
	PGnotify *n;
	int ret = pgsql_ready(db), got;

	if (ret < 0)
		return ret;
	got = db->has_reconnected;
	db->has_reconnected = false;
	if (!PQconsumeInput(db->conn)) {
		lose(db, PQerrorMessage(db->conn));
		return -ENOTCONN;
	}
	while ((n = PQnotifies(db->conn))) {
		got = 1;
		PQfreemem(n);
	}
	return got;
}

/* ---- results ---------------------------------------------------------------- */

bool
pgsql_is_null(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col);
}

int64_t
pgsql_get_i64(const PGresult *r, int row, int col)
{
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

uint64_t
pgsql_get_u64(const PGresult *r, int row, int col)
{
	int64_t v = pgsql_get_i64(r, row, col);

	return v < 0 ? 0 : (uint64_t)v;
}

bool
pgsql_get_bool(const PGresult *r, int row, int col)
{
	return PQgetvalue(r, row, col)[0] == 't';
}

void
pgsql_get_text(const PGresult *r, int row, int col, char *out, size_t cap)
{
	const char *v = PQgetvalue(r, row, col);
	size_t len = (size_t)PQgetlength(r, row, col);

	if (len >= cap)
		len = cap - 1;
	memcpy(out, v, len);
	out[len] = '\0';
}

/* bytea in text results is hex ("\x0a0b"), the server's default. */
bool
pgsql_get_blob_var(const PGresult *r, int row, int col, void *out, size_t cap,
		   size_t *len)
{
	const char *v = PQgetvalue(r, row, col);
	size_t text_len = (size_t)PQgetlength(r, row, col), n;

	*len = 0;
	if (PQgetisnull(r, row, col) || text_len < 2 || v[0] != '\\' ||
	    v[1] != 'x' || (text_len - 2) % 2)
		return false;
	n = (text_len - 2) / 2;
	if (n > cap || sodium_hex2bin(out, cap, v + 2, text_len - 2, NULL,
				      len, NULL) != 0 || *len != n)
		return false;
	return true;
}

bool
pgsql_get_blob(const PGresult *r, int row, int col, void *out, size_t len)
{
	size_t got;

	return pgsql_get_blob_var(r, row, col, out, len, &got) && got == len;
}

void
pgsql_wipe(PGresult *r, int row, int col)
{
	sodium_memzero(PQgetvalue(r, row, col),
		       (size_t)PQgetlength(r, row, col));
}
