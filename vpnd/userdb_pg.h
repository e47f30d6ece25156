/* SPDX-License-Identifier: MIT */
/*
 * What the PostgreSQL store's files share: its handle, and the operations
 * kept in files of their own, which userdb_pg.c puts in its table. Only
 * userdb_pg*.c include this file; everyone else goes through userdb.h.
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

#endif
