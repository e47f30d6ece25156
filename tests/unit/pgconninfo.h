/* SPDX-License-Identifier: MIT */
/*
 * The connection string of one database on the PostgreSQL server the
 * store's tests were given (VPN_TEST_USERDB_PG): the server's own string
 * with its dbname replaced, host first, so that the store reads it as a
 * connection string and not as a file name. Include after libpq-fe.h.
 */
#ifndef TEST_PGCONNINFO_H
#define TEST_PGCONNINFO_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Appends " key='value'" (libpq's quoting) to out. */
static inline void
pgconninfo_put(char *out, size_t cap, const char *key, const char *value)
{
	size_t len = strlen(out);
	const char *p;

	len += snprintf(out + len, len < cap ? cap - len : 0, "%s%s='",
			len ? " " : "", key);
	for (p = value; *p && len + 3 < cap; p++) {
		if (*p == '\'' || *p == '\\')
			out[len++] = '\\';
		out[len++] = *p;
	}
	if (len + 2 <= cap) {
		out[len++] = '\'';
		out[len] = '\0';
	}
}

/* server's string naming dbname instead; false (said on stderr by
 * `who`) if server is no connection string or out is too small. */
static inline bool
pgconninfo_for(const char *who, const char *server, const char *dbname,
	       char *out, size_t cap)
{
	PQconninfoOption *opts, *o;
	char *err = NULL;

	opts = PQconninfoParse(server, &err);
	if (!opts) {
		fprintf(stderr, "%s: VPN_TEST_USERDB_PG: %s\n", who,
			err ? err : "out of memory");
		PQfreemem(err);
		return false;
	}
	out[0] = '\0';
	for (o = opts; o->keyword; o++)
		if (o->val && !strcmp(o->keyword, "host"))
			pgconninfo_put(out, cap, o->keyword, o->val);
	for (o = opts; o->keyword; o++)
		if (o->val && strcmp(o->keyword, "host") &&
		    strcmp(o->keyword, "dbname"))
			pgconninfo_put(out, cap, o->keyword, o->val);
	pgconninfo_put(out, cap, "dbname", dbname);
	PQconninfoFree(opts);
	return strlen(out) + 1 < cap;
}

#endif
