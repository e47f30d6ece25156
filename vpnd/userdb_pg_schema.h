/* SPDX-License-Identifier: MIT */
/*
 * The user store's schema on PostgreSQL, as numbered migrations: entry i
 * takes the schema from version i to i + 1 (the version lives in the
 * schema_version table). Append only: a released migration is never
 * edited. Only userdb_pg.c includes this file.
 *
 * The same tables as the SQLite store's (userdb_sqlite.c), with what a
 * cluster adds: an admission's addresses are UNIQUE (two nodes can never
 * both admit one address, whatever their callbacks chose), names sort as
 * bytes (COLLATE "C", as SQLite does), and an event gets its seq only
 * just before its transaction commits, from the one-row event_head, so
 * seqs increase in commit order (a sequence would hand them out in start
 * order, and a reader could pass a seq whose transaction commits later).
 */
#ifndef VPND_USERDB_PG_SCHEMA_H
#define VPND_USERDB_PG_SCHEMA_H

static const char *const pg_migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE users ("
	" name text COLLATE \"C\" PRIMARY KEY,"
	" pw_hash text NOT NULL,"
	" totp_secret bytea NOT NULL,"
	" totp_algorithm text NOT NULL DEFAULT 'SHA1',"
	" totp_digits integer NOT NULL DEFAULT 6,"
	" totp_period integer NOT NULL DEFAULT 30,"
	" totp_last_step bigint NOT NULL DEFAULT -1,"
	" enabled boolean NOT NULL DEFAULT true,"
	" role text NOT NULL DEFAULT 'user'"
	"  CHECK (role IN ('user', 'admin', 'site')),"
	" addr4 bytea UNIQUE,"
	" addr6 bytea UNIQUE,"
	" lifetime_s bigint,"
	" created bigint NOT NULL,"
	" last_login bigint);"
	"CREATE TABLE failures ("
	" kind text NOT NULL CHECK (kind IN ('user', 'source')),"
	" key text COLLATE \"C\" NOT NULL,"
	" count bigint NOT NULL,"
	" last_failure bigint NOT NULL,"
	" locked_until bigint NOT NULL DEFAULT 0,"
	" PRIMARY KEY (kind, key));"
	"CREATE TABLE admissions ("
	" client_key bytea PRIMARY KEY,"
	" username text COLLATE \"C\" NOT NULL"
	"  REFERENCES users(name) ON DELETE CASCADE,"
	" created bigint NOT NULL,"
	" expires bigint NOT NULL,"
	" addr4 bytea CONSTRAINT admissions_addr4_key UNIQUE,"
	" addr6 bytea CONSTRAINT admissions_addr6_key UNIQUE,"
	" last_stamp bytea);"
	"CREATE INDEX admissions_user ON admissions(username);"
	"CREATE INDEX admissions_expires ON admissions(expires);"
	"CREATE TABLE leases ("
	" username text COLLATE \"C\" NOT NULL"
	"  REFERENCES users(name) ON DELETE CASCADE,"
	" client_key bytea NOT NULL,"
	" addr4 bytea,"
	" addr6 bytea,"
	" updated bigint NOT NULL,"
	" last_login bigint,"
	" PRIMARY KEY (username, client_key));"
	"CREATE INDEX leases_key ON leases(client_key);"
	"CREATE TABLE recovery_codes ("
	" id bigserial PRIMARY KEY,"
	" username text COLLATE \"C\" NOT NULL"
	"  REFERENCES users(name) ON DELETE CASCADE,"
	" salt bytea NOT NULL,"
	" hash bytea NOT NULL,"
	" used bigint NOT NULL DEFAULT 0,"
	" created bigint NOT NULL);"
	"CREATE INDEX recovery_codes_user ON recovery_codes(username);"
	"CREATE TABLE subnets ("
	" username text COLLATE \"C\" NOT NULL"
	"  REFERENCES users(name) ON DELETE CASCADE,"
	" family integer NOT NULL CHECK (family IN (4, 6)),"
	" network bytea NOT NULL,"
	" len integer NOT NULL,"
	" PRIMARY KEY (family, network, len));"
	"CREATE INDEX subnets_user ON subnets(username);"
	/* seq is NULL until the transaction that wrote the event numbers it
	 * just before committing (userdb_pg.c number_events) */
	"CREATE TABLE events ("
	" id bigserial PRIMARY KEY,"
	" seq bigint UNIQUE,"
	" time bigint NOT NULL,"
	" kind text NOT NULL,"
	" username text COLLATE \"C\" NOT NULL,"
	" client_key bytea NOT NULL,"
	" reason text NOT NULL,"
	" expires bigint NOT NULL DEFAULT 0);"
	"CREATE INDEX events_time ON events(time);"
	"CREATE INDEX events_unnumbered ON events(id) WHERE seq IS NULL;"
	/* the greatest seq ever given, pruned events included */
	"CREATE TABLE event_head ("
	" one boolean PRIMARY KEY DEFAULT true CHECK (one),"
	" seq bigint NOT NULL);"
	"INSERT INTO event_head (seq) VALUES (0);",
	/* 1 -> 2: the nodes sharing the store and the live sessions each
	 * holds (a key has one session in the store) */
	("CREATE TABLE nodes ("
	 " name text COLLATE \"C\" PRIMARY KEY,"
	 " started bigint NOT NULL,"
	 " beat bigint NOT NULL);"
	 "CREATE TABLE sessions ("
	 " client_key bytea PRIMARY KEY,"
	 " node text COLLATE \"C\" NOT NULL"
	 "  REFERENCES nodes(name) ON DELETE CASCADE,"
	 " username text COLLATE \"C\" NOT NULL,"
	 " addr4 bytea,"
	 " addr6 bytea,"
	 " endpoint text NOT NULL,"
	 " since bigint NOT NULL);"
	 "CREATE INDEX sessions_node ON sessions(node);"),
};

#endif
