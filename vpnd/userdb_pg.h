/* SPDX-License-Identifier: MIT */
/*
 * What the PostgreSQL store's files share: its handle, the statements
 * several of them run inside their transactions, and the operations each
 * file implements, which userdb_pg.c puts in its table. Only userdb_pg*.c
 * include this file; everyone else goes through userdb.h.
 */
#ifndef VPND_USERDB_PG_H
#define VPND_USERDB_PG_H

#include "pgsql.h"
#include "userdb_backend.h"

/* The store's clock, in whole seconds: its transaction's start. */
#define NOW_SQL "floor(extract(epoch FROM now()))::bigint"

struct pgdb {
	struct userdb base; /* first: userdb.c sees only this */
	struct pgsql sql;
	/* What userdb_events_after() last read, so an idle poll reads
	 * nothing unless a notification came. */
	bool has_seen;
	uint64_t seen_seq;
	bool has_sent; /* this connection committed events since */
};

static inline struct pgsql *
conn(struct userdb *db)
{
	return &((struct pgdb *)db)->sql;
}

/* Statements the files' transactions share. */

/* Ends the admissions matching `where` (its parameters from $2; $1 is
 * the reason) with one event each, in one statement; how many. */
int userdb_pg_end_admissions(struct pgsql *sql, const char *where,
			     const struct pgsql_params *p);
/* Locks the n counters (in (kind, key) order), lets fn decide and writes
 * them back, inside the caller's transaction. */
int userdb_pg_failures_adjust(struct pgsql *sql,
			      const struct userdb_failure_key *keys, size_t n,
			      userdb_failures_fn fn, void *arg);
/* Removes a counter inside the caller's transaction; how many (0, 1). */
int userdb_pg_failure_delete(struct pgsql *sql,
			     const struct userdb_failure_key *key);

/* The operations (userdb.h), by file. userdb_pg_accounts.c: */
int userdb_pg_user_add(struct userdb *db, const struct userdb_user *u);
int userdb_pg_users_add(struct userdb *db, const struct userdb_user *u,
			size_t n, size_t *failed);
int userdb_pg_user_get(struct userdb *db, const char *name,
		       struct userdb_user *out);
int userdb_pg_user_del(struct userdb *db, const char *name);
int userdb_pg_user_set_password(struct userdb *db, const char *name,
				const char *pw_hash);
int userdb_pg_user_set_totp(struct userdb *db, const char *name,
			    const uint8_t *secret, size_t secret_len);
int userdb_pg_user_set_totp_step(struct userdb *db, const char *name,
				 const uint8_t *secret, size_t secret_len,
				 int64_t step);
int userdb_pg_user_set_enabled(struct userdb *db, const char *name,
			       bool is_enabled);
int userdb_pg_user_list(struct userdb *db, userdb_user_fn fn, void *arg);
int userdb_pg_recovery_replace(struct userdb *db, const char *name,
			       const struct userdb_recovery *codes, size_t n,
			       uint64_t now_unix_s);
int userdb_pg_recovery_unused(struct userdb *db, const char *name,
			      struct userdb_recovery *out, size_t max,
			      size_t *n_out);
int userdb_pg_subnets_set(struct userdb *db, const char *name,
			  const struct prefix *subnets, size_t n);
int userdb_pg_subnets_get(struct userdb *db, const char *name,
			  struct prefix *out, size_t max, size_t *n_out);
int userdb_pg_subnets_list(struct userdb *db, userdb_subnet_fn fn,
			   void *arg);

/* userdb_pg_counters.c */
int userdb_pg_failure_get(struct userdb *db,
			  const struct userdb_failure_key *key,
			  struct userdb_failure *out);
int userdb_pg_failures_apply(struct userdb *db,
			     const struct userdb_failure_key *keys, size_t n,
			     userdb_failures_fn fn, void *arg);
int userdb_pg_failures_list(struct userdb *db, userdb_failure_each_fn fn,
			    void *arg);
int userdb_pg_failure_clear(struct userdb *db,
			    const struct userdb_failure_key *key);
int userdb_pg_failures_prune(struct userdb *db, enum userdb_failure_kind kind,
			     uint64_t now_unix_s, uint64_t idle_s,
			     uint64_t per_failure_s);

/* userdb_pg_admissions.c */
int userdb_pg_grant(struct userdb *db, const struct userdb_grant *g,
		    userdb_assign_fn assign, void *arg,
		    struct userdb_admission *out);
int userdb_pg_admission_get(struct userdb *db,
			    const uint8_t client_pub[USERDB_KEY_LEN],
			    uint64_t now_unix_s, struct userdb_admission *out);
int userdb_pg_admissions_list(struct userdb *db, uint64_t now_unix_s,
			      userdb_admission_fn fn, void *arg);
int userdb_pg_admission_readdress(struct userdb *db,
				  const uint8_t client_pub[USERDB_KEY_LEN],
				  uint64_t now_unix_s, userdb_assign_fn assign,
				  void *arg, struct userdb_admission *out);
int userdb_pg_admission_end(struct userdb *db,
			    const uint8_t client_pub[USERDB_KEY_LEN],
			    const char *reason);
int userdb_pg_admissions_end_matching(struct userdb *db,
				      const struct userdb_match *m,
				      const char *reason);
int userdb_pg_admissions_prune(struct userdb *db, uint64_t now_unix_s);
int userdb_pg_stamps_raise(struct userdb *db, const struct userdb_stamp *v,
			   size_t n);
int userdb_pg_devices_list(struct userdb *db, const char *name,
			   uint64_t now_unix_s, userdb_device_fn fn, void *arg);
int userdb_pg_device_revoke(struct userdb *db,
			    const uint8_t client_pub[USERDB_KEY_LEN],
			    const char *reason,
			    char user_out[USERDB_NAME_MAX + 1]);

/* userdb_pg_nodes.c */
int userdb_pg_node_beat(struct userdb *db, const char *node,
			uint64_t started_unix_s);
int userdb_pg_session_up(struct userdb *db, const char *node,
			 const struct userdb_session *s);
int userdb_pg_session_down(struct userdb *db, const char *node,
			   const uint8_t client_pub[USERDB_KEY_LEN]);
int userdb_pg_node_leave(struct userdb *db, const char *node);
int userdb_pg_nodes_list(struct userdb *db, uint64_t max_age_s,
			 userdb_node_fn node_fn, userdb_session_fn session_fn,
			 void *arg);

#endif
