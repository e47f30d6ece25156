/* SPDX-License-Identifier: MIT */
/*
 * One connection to PostgreSQL for the user store's PostgreSQL backend
 * (userdb_pg.c), and what every operation there needs from it: statement
 * parameters, column readers, errors mapped to the store's errnos, and
 * transactions retried when the server asks (serialization failure,
 * deadlock, a concurrent grant taking the same address).
 *
 * It owns the connection's life: a lost server makes every call fail fast
 * with -ENOTCONN, and a later call reconnects (with backoff; libpq's
 * connect_timeout bounds one attempt); an idle connection the server
 * closed (a restart) is found before use and made again at once. A
 * lazy handle (vpnd's) may be opened while the server is down: its first
 * connection, and the owner's setup on it, come with the first call that
 * finds the server up. The first loss and the last reconnection in the
 * process are logged: one pair of lines per outage, however many
 * connections notice it; so are a server absent at start and the first
 * connection made after. It knows no table of the store:
 * the store's schema and statements live in userdb_pg.c.
 */
#ifndef VPND_PGSQL_H
#define VPND_PGSQL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PGSQL_PARAMS_MAX 16
/* The channel every transaction that wrote an event notifies. */
#define PGSQL_CHANNEL "vpnd_events"

/* Parameters of one statement: text, integers as text, bytea in binary. */
struct pgsql_params {
	int n;
	const char *values[PGSQL_PARAMS_MAX];
	int lengths[PGSQL_PARAMS_MAX];
	int formats[PGSQL_PARAMS_MAX];
	char text[PGSQL_PARAMS_MAX][24];
};

void pgsql_text(struct pgsql_params *p, const char *s);
void pgsql_i64(struct pgsql_params *p, int64_t v);
/* Clamped to INT64_MAX, as PostgreSQL has no unsigned type. */
void pgsql_u64(struct pgsql_params *p, uint64_t v);
void pgsql_bool(struct pgsql_params *p, bool v);
/* A bytea, or NULL when !has. `data` must outlive the statement. */
void pgsql_blob(struct pgsql_params *p, bool has, const void *data,
		size_t len);

struct pgsql;
/* Runs before COMMIT in a transaction that succeeded so far (0 or
 * -errno); see pgsql_tx(). */
typedef int (*pgsql_hook_fn)(struct pgsql *db);

struct pgsql {
	PGconn *conn;
	char *conninfo;
	uint64_t retry_at_ms;   /* no connection attempt before (monotonic) */
	uint32_t backoff_ms;    /* the wait after the next failed attempt */
	bool is_lost;           /* the loss is logged, the reconnection not */
	bool is_absent;         /* lazy: no server yet since open */
	bool has_reconnected;   /* since the owner last asked (listeners) */
	bool should_retry;      /* the server asked to run the tx again */
	bool in_tx;             /* between BEGIN and COMMIT or ROLLBACK */
	bool is_set_up;         /* setup ran on a connection and succeeded */
	int pending;            /* the owner's count for pre_commit */
	pgsql_hook_fn pre_commit;
	pgsql_hook_fn setup;    /* once, on the first connection (a schema) */
};

/*
 * Connects to `conninfo` (a libpq URI or key=value string without a
 * password), LISTENs on PGSQL_CHANNEL and runs `setup` (if not NULL: the
 * owner's schema check) on that first connection. -EINVAL for a
 * malformed string or one carrying a password; -ENOTCONN if the server
 * cannot be reached; setup's error. Logs why.
 *
 * is_lazy, for a daemon that must start while its server is down: a
 * server that does not answer (or is starting or stopping) is no error;
 * the handle is made, every call answers -ENOTCONN until one finds the
 * server up, which connects and runs setup first (a setup that fails
 * then drops that connection: the calls go on answering -ENOTCONN). A
 * server that answers but refuses the connection (a wrong password, no
 * such database) is -EACCES, as that is configuration, not an outage.
 */
int pgsql_open(struct pgsql *db, const char *conninfo, pgsql_hook_fn setup,
	       bool is_lazy) __attribute__((warn_unused_result));
void pgsql_close(struct pgsql *db);

/* 0 if connected (reconnecting first if the backoff allows), else
 * -ENOTCONN at once. */
int pgsql_ready(struct pgsql *db) __attribute__((warn_unused_result));

/*
 * Runs one statement. With `out`, a query's rows are returned there (the
 * caller PQclear()s them); without, the count of rows it changed is
 * returned. Errors: -ENOTCONN (the connection broke: it is dropped),
 * -EEXIST (a unique key), -ENOENT (a foreign key), -EAGAIN (the server
 * asks for the transaction again), -EIO (anything else, logged with
 * `what`).
 */
int pgsql_run(struct pgsql *db, const char *sql, const struct pgsql_params *p,
	      PGresult **out, const char *what);

/*
 * Runs fn in one transaction (READ COMMITTED, or a REPEATABLE READ READ
 * ONLY snapshot when is_read), then pre_commit if set, then COMMIT; rolls
 * back if either fails. Runs it again, a bounded number of times, when the
 * server asked (then -EBUSY if it still does): fn must start from scratch
 * each time. Returns fn's result (>= 0) or -errno.
 */
typedef int (*pgsql_tx_fn)(struct pgsql *db, void *arg);
int pgsql_tx(struct pgsql *db, bool is_read, pgsql_tx_fn fn, void *arg);

/*
 * 1 if a notification on PGSQL_CHANNEL came since the last call (or the
 * connection is new, so what was sent while it was away is unknown), 0
 * if none; reads the socket without waiting and without a query.
 * -ENOTCONN if the connection is gone (it is dropped).
 */
int pgsql_notified(struct pgsql *db);

/* ---- reading a result (text format) ---- */

bool pgsql_is_null(const PGresult *r, int row, int col);
int64_t pgsql_get_i64(const PGresult *r, int row, int col);
/* Negative values read as 0. */
uint64_t pgsql_get_u64(const PGresult *r, int row, int col);
bool pgsql_get_bool(const PGresult *r, int row, int col);
/* Truncated to cap - 1 bytes. */
void pgsql_get_text(const PGresult *r, int row, int col, char *out,
		    size_t cap);
/* A bytea of exactly len bytes; false when NULL or of another size. */
bool pgsql_get_blob(const PGresult *r, int row, int col, void *out,
		    size_t len);
/* A bytea of at most cap bytes into out, its length in *len; false when
 * NULL or longer. */
bool pgsql_get_blob_var(const PGresult *r, int row, int col, void *out,
			size_t cap, size_t *len);
/* Wipes a value holding a secret before the result is freed. */
void pgsql_wipe(PGresult *r, int row, int col);

#endif
