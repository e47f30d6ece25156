/* SPDX-License-Identifier: MIT */
/*
 * A throwaway PostgreSQL server for the unit tests that need one
 * (tests/tools/pgserver.sh, in a temporary directory of the test's own),
 * and one statement run on it as the server's role. Include once per
 * test program, after cmocka.h and libpq-fe.h.
 */
#ifndef TEST_PGSERVER_H
#define TEST_PGSERVER_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

static char pgserver_dir[64];
static char pgserver_conninfo[512]; /* what pgserver.sh printed */

/* pgserver.sh VERB on the test's server; START's conninfo into out. */
static bool
pgserver_run(const char *verb, char *out, size_t cap)
{
	char cmd[256];
	FILE *p;
	size_t len;

	snprintf(cmd, sizeof(cmd), "tests/tools/pgserver.sh %s %s/pg", verb,
		 pgserver_dir);
	p = popen(cmd, "r");
	if (!p)
		return false;
	if (out && !fgets(out, (int)cap, p))
		out[0] = '\0';
	if (pclose(p) != 0)
		return false;
	if (out) {
		len = strlen(out);
		while (len && out[len - 1] == '\n')
			out[--len] = '\0';
		return len > 0;
	}
	return true;
}

/* A group's set-up: logging as `name`, a directory, the server up; it
 * fails, saying why, without PostgreSQL (make check installs it). */
static int
pgserver_setup(const char *name)
{
	log_init(name, false, 4);
	snprintf(pgserver_dir, sizeof(pgserver_dir), "/tmp/%s.XXXXXX", name);
	if (!mkdtemp(pgserver_dir) || chmod(pgserver_dir, 0711) < 0)
		return -1;
	if (!pgserver_run("start", pgserver_conninfo,
			  sizeof(pgserver_conninfo))) {
		fprintf(stderr, "%s: no PostgreSQL server "
				"(tests/tools/pgserver.sh; make deps installs "
				"postgresql)\n", name);
		return -1;
	}
	return 0;
}

static int
pgserver_teardown(void)
{
	char cmd[128];

	pgserver_run("stop", NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pgserver_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* One statement as the server's role; its first value (if any) in out. */
static void
pgserver_sql(const char *conninfo, const char *text, char *out, size_t cap)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r;

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("%s", PQerrorMessage(c));
	r = PQexec(c, text);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", text, PQresultErrorMessage(r));
	if (out)
		snprintf(out, cap, "%s",
			 PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	PQfinish(c);
}

#endif
