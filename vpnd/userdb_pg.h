/* SPDX-License-Identifier: MIT */
/*
 * What the PostgreSQL store's files share: its handle, and the operations
 * kept in files of their own (userdb_pg_nodes.c: the nodes and their live
 * sessions), which userdb_pg.c puts in its table. Only userdb_pg*.c
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

/* userdb_node_beat() and the rest, as userdb.h says. */
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
