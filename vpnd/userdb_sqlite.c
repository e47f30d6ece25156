// SPDX-License-Identifier: MIT
/*
 * The user store on SQLite (see userdb.h): one file in WAL mode, so vpnctl
 * and every vpnd worker can hold it open at once, with a busy timeout
 * instead of failing on a held lock. The schema version lives in PRAGMA
 * user_version and is brought up to date, one numbered migration at a
 * time, when the store is opened.
 *
 * One of the store's backends (userdb_backend.h): its operations are
 * static and reached through sqlite_ops, which userdb.c calls. With
 * userdb_pg.c, the only files that speak SQL. It stores and returns; it
 * must not decide whether a login is good, how long a lock lasts or which
 * address to hand out: those come from the caller, through callbacks when
 * they must run inside a transaction. Every operation is one transaction.
 * The only clock it reads is SQLite's, for the time of an event (its
 * journal's bookkeeping, as the PostgreSQL backend uses now()).
 */
#include "userdb_backend.h"

#include "prefix.h"

#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define BUSY_TIMEOUT_MS 5000
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct store {
	struct userdb base; /* first: userdb.c holds a pointer to it */
	sqlite3 *db;
	char path[PATH_MAX];
	/* What userdb_events_after() last read, so an idle poll only asks
	 * whether anything was committed since. */
	bool has_seen;
	int64_t seen_data_version; /* commits by other connections */
	int seen_changes;          /* rows changed by this one */
	uint64_t seen_seq;
};

static const struct userdb_ops sqlite_ops;

/*
 * migrations[i] takes the schema from version i to i + 1. Append only:
 * a released migration is never edited.
 */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE users ("
	" name TEXT PRIMARY KEY NOT NULL,"
	" pw_hash TEXT NOT NULL,"
	" totp_secret BLOB NOT NULL,"
	" totp_algorithm TEXT NOT NULL DEFAULT 'SHA1',"
	" totp_digits INTEGER NOT NULL DEFAULT 6,"
	" totp_period INTEGER NOT NULL DEFAULT 30,"
	" totp_last_step INTEGER NOT NULL DEFAULT -1,"
	" enabled INTEGER NOT NULL DEFAULT 1,"
	" role TEXT NOT NULL DEFAULT 'user'"
	"  CHECK (role IN ('user', 'admin', 'site')),"
	" addr4 BLOB UNIQUE,"
	" addr6 BLOB UNIQUE,"
	" lifetime_s INTEGER,"
	" created INTEGER NOT NULL);"
	"CREATE TABLE failures ("
	" kind TEXT NOT NULL CHECK (kind IN ('user', 'source')),"
	" key TEXT NOT NULL,"
	" count INTEGER NOT NULL,"
	" last_failure INTEGER NOT NULL,"
	" locked_until INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (kind, key)) WITHOUT ROWID;"
	"CREATE TABLE admissions ("
	" client_key BLOB PRIMARY KEY NOT NULL,"
	" user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" addr4 BLOB,"
	" addr6 BLOB);"
	"CREATE INDEX admissions_user ON admissions(user);"
	"CREATE INDEX admissions_expires ON admissions(expires);"
	"CREATE TABLE leases ("
	" user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
	" client_key BLOB NOT NULL,"
	" addr4 BLOB,"
	" addr6 BLOB,"
	" updated INTEGER NOT NULL,"
	" PRIMARY KEY (user, client_key));"
	"CREATE TABLE recovery_codes ("
	" id INTEGER PRIMARY KEY,"
	" user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
	" salt BLOB NOT NULL,"
	" hash BLOB NOT NULL,"
	" used INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL);"
	"CREATE INDEX recovery_codes_user ON recovery_codes(user);",
	/* 1 -> 2: handshake timestamps with admissions; the event journal
	 * (AUTOINCREMENT: a seq is never given twice, even once pruned) */
	"ALTER TABLE admissions ADD COLUMN last_stamp BLOB;"
	"CREATE TABLE events ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time INTEGER NOT NULL,"
	" kind TEXT NOT NULL,"
	" user TEXT NOT NULL,"
	" client_key BLOB NOT NULL,"
	" reason TEXT NOT NULL);"
	"CREATE INDEX events_time ON events(time);",
	/* 2 -> 3: which admission an event ended, by its expiry, so a newer
	 * admission of the same key is not taken for it */
	"ALTER TABLE events ADD COLUMN expires INTEGER NOT NULL DEFAULT 0;",
	/* 3 -> 4: when an account, and each of its keys, last logged in
	 * (NULL: not since this version) */
	("ALTER TABLE users ADD COLUMN last_login INTEGER;"
	 "ALTER TABLE leases ADD COLUMN last_login INTEGER;"),
	/* 4 -> 5: the LAN subnets behind a site account's gateway, routed
	 * to its session (a prefix belongs to one account at most) */
	("CREATE TABLE subnets ("
	 " user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
	 " family INTEGER NOT NULL CHECK (family IN (4, 6)),"
	 " network BLOB NOT NULL,"
	 " len INTEGER NOT NULL,"
	 " PRIMARY KEY (family, network, len));"
	 "CREATE INDEX subnets_user ON subnets(user);"),
	/* 5 -> 6: the nodes sharing the store and the live sessions each
	 * holds (a key has one session in the store) */
	("CREATE TABLE nodes ("
	 " name TEXT PRIMARY KEY NOT NULL,"
	 " started INTEGER NOT NULL,"
	 " beat INTEGER NOT NULL);"
	 "CREATE TABLE sessions ("
	 " client_key BLOB PRIMARY KEY NOT NULL,"
	 " node TEXT NOT NULL REFERENCES nodes(name) ON DELETE CASCADE,"
	 " user TEXT NOT NULL,"
	 " addr4 BLOB,"
	 " addr6 BLOB,"
	 " endpoint TEXT NOT NULL,"
	 " since INTEGER NOT NULL);"
	 "CREATE INDEX sessions_node ON sessions(node);"),
};

/* ---- helpers ---------------------------------------------------------------- */

/* Logs what failed and maps SQLite's code to an errno. */
static int
fail(struct store *db, const char *what)
{
	int code = sqlite3_extended_errcode(db->db);

	switch (code & 0xff) {
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		log_warn("user store %s: %s: busy for %d ms", db->path, what,
			 BUSY_TIMEOUT_MS);
		return -EBUSY;
	default:
		log_err("user store %s: %s: %s", db->path, what,
			sqlite3_errmsg(db->db));
		return -EIO;
	}
}

static int
prepare(struct store *db, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db->db, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return fail(db, "prepare");
	}
	return 0;
}

/* Runs a statement that returns no rows, and finalizes it. */
static int
run(struct store *db, sqlite3_stmt *st, const char *what)
{
	int ret = 0;

	if (sqlite3_step(st) != SQLITE_DONE)
		ret = fail(db, what);
	sqlite3_finalize(st);
	return ret;
}

static int
exec(struct store *db, const char *sql, const char *what)
{
	if (sqlite3_exec(db->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return fail(db, what);
	return 0;
}

/* IMMEDIATE takes the write lock now, so two writers wait for each other
 * (busy timeout) instead of one failing at its first write. */
static int
begin(struct store *db)
{
	return exec(db, "BEGIN IMMEDIATE", "begin");
}

/* Commits on ret == 0, rolls back otherwise; returns the outcome. */
static int
finish(struct store *db, int ret)
{
	if (ret == 0)
		return exec(db, "COMMIT", "commit");
	sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *text)
{
	sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
}

static void
bind_blob(sqlite3_stmt *st, int i, bool has, const void *p, size_t len)
{
	if (has)
		sqlite3_bind_blob(st, i, p, (int)len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void
bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
	sqlite3_bind_int64(st, i, v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

static uint64_t
column_u64(sqlite3_stmt *st, int i)
{
	int64_t v = sqlite3_column_int64(st, i);

	return v < 0 ? 0 : (uint64_t)v;
}

/* A fixed-size blob column; false when NULL or of another size. */
static bool
column_blob(sqlite3_stmt *st, int i, void *out, size_t len)
{
	const void *p = sqlite3_column_blob(st, i);

	if (!p || (size_t)sqlite3_column_bytes(st, i) != len)
		return false;
	memcpy(out, p, len);
	return true;
}

static void
column_text(sqlite3_stmt *st, int i, char *out, size_t cap)
{
	const unsigned char *p = sqlite3_column_text(st, i);
	size_t len = p ? (size_t)sqlite3_column_bytes(st, i) : 0;

	if (len >= cap)
		len = cap - 1;
	if (len)
		memcpy(out, p, len);
	out[len] = '\0';
}

static const char *
failure_kind_name(enum userdb_failure_kind kind)
{
	return kind == USERDB_FAILURE_USER ? "user" : "source";
}

/* ---- opening ---------------------------------------------------------------- */

/* mkdir -p of the directory holding `path`, each new level 0700. */
static int
make_parent(const char *path)
{
	char dir[PATH_MAX];
	size_t len = strlen(path), i;

	if (len >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, len + 1);
	while (len > 0 && dir[len - 1] != '/')
		len--;
	if (len <= 1)
		return 0;
	dir[len - 1] = '\0';
	for (i = 1; i <= len - 1; i++) {
		if (dir[i] != '/' && dir[i] != '\0')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
		if (i < len - 1)
			dir[i] = '/';
	}
	return 0;
}

/*
 * The store holds password hashes and TOTP secrets: create the file 0600
 * ourselves rather than let SQLite create it under the umask. SQLite gives
 * the -wal and -shm files the main file's mode.
 */
static int
create_file(const char *path)
{
	struct stat sb;
	int fd, ret;

	if (stat(path, &sb) == 0)
		return 0;
	if (errno != ENOENT)
		return -errno;
	ret = make_parent(path);
	if (ret < 0)
		return ret;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return errno == EEXIST ? 0 : -errno;
	close(fd);
	return 0;
}

static int
user_version(struct store *db, int *out)
{
	sqlite3_stmt *st;
	int ret = prepare(db, "PRAGMA user_version", &st);

	if (ret < 0)
		return ret;
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	else
		ret = fail(db, "read the schema version");
	sqlite3_finalize(st);
	return ret;
}

/* Brings the schema up to date; the version is re-read under the write
 * lock, so concurrent openers migrate once. */
static int
migrate(struct store *db)
{
	char sql[64];
	int ret, version = 0, latest = (int)ARRAY_SIZE(migrations);

	ret = begin(db);
	if (ret < 0)
		return ret;
	ret = user_version(db, &version);
	if (ret < 0)
		goto out;
	if (version > latest) {
		log_err("user store %s: schema version %d is newer than this "
			"program knows (%d)", db->path, version, latest);
		ret = -EPROTO;
		goto out;
	}
	for (; version < latest; version++) {
		ret = exec(db, migrations[version], "migrate the schema");
		if (ret < 0)
			goto out;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", latest);
	ret = exec(db, sql, "set the schema version");
out:
	return finish(db, ret);
}

/*
 * Switching to WAL needs an exclusive moment that the busy handler does not
 * always wait for when several threads open a new store at once: retry.
 */
static int
set_wal(struct store *db)
{
	int tries, rc = SQLITE_BUSY;

	for (tries = 0; tries < BUSY_TIMEOUT_MS / 10; tries++) {
		rc = sqlite3_exec(db->db, "PRAGMA journal_mode = WAL", NULL,
				  NULL, NULL);
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			break;
		usleep(10000);
	}
	return rc == SQLITE_OK ? 0 : fail(db, "switch to WAL");
}

static void op_close(struct userdb *base);

int
userdb_sqlite_open(const char *path, struct userdb **out)
{
	struct store *db;
	int ret;

	*out = NULL;
	db = calloc(1, sizeof(*db));
	if (!db)
		return -ENOMEM;
	db->base.ops = &sqlite_ops;
	snprintf(db->path, sizeof(db->path), "%s", path);
	ret = create_file(path);
	if (ret < 0) {
		log_err("user store %s: %s", path, strerror(-ret));
		goto err;
	}
	/* SQLite would only say "unable to open database file". */
	if (access(path, R_OK | W_OK) < 0) {
		ret = -errno;
		log_err("user store %s: %s", path, strerror(-ret));
		goto err;
	}
	if (sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		ret = fail(db, "open");
		goto err;
	}
	sqlite3_busy_timeout(db->db, BUSY_TIMEOUT_MS);
	ret = set_wal(db);
	if (ret == 0)
		ret = exec(db, "PRAGMA foreign_keys = ON", "enable foreign keys");
	if (ret == 0)
		ret = migrate(db);
	if (ret < 0)
		goto err;
	*out = &db->base;
	return 0;
err:
	op_close(&db->base);
	return ret;
}

static void
op_close(struct userdb *base)
{
	struct store *db = (struct store *)base;

	if (!db)
		return;
	sqlite3_close(db->db);
	free(db);
}

/* ---- accounts --------------------------------------------------------------- */

#define USER_COLUMNS                                                          \
	"name, totp_algorithm, totp_digits, totp_period, totp_last_step, "   \
	"enabled, role, addr4, addr6, lifetime_s, created, last_login"

/* Reads the USER_COLUMNS of the current row, secrets aside. */
static void
read_user(sqlite3_stmt *st, struct userdb_user *u)
{
	char text[16];

	column_text(st, 0, u->name, sizeof(u->name));
	column_text(st, 1, text, sizeof(text));
	if (!totp_algo_parse(text, &u->totp.algo))
		u->totp.algo = TOTP_SHA1;
	u->totp.digits = (unsigned int)sqlite3_column_int(st, 2);
	u->totp.period_s = (unsigned int)sqlite3_column_int(st, 3);
	u->last_step = sqlite3_column_int64(st, 4);
	u->is_enabled = sqlite3_column_int(st, 5) != 0;
	column_text(st, 6, text, sizeof(text));
	if (!userdb_role_parse(text, &u->role))
		u->role = USERDB_ROLE_USER;
	u->has_addr4 = column_blob(st, 7, u->addr4, sizeof(u->addr4));
	u->has_addr6 = column_blob(st, 8, u->addr6, sizeof(u->addr6));
	u->has_lifetime = sqlite3_column_type(st, 9) != SQLITE_NULL;
	u->lifetime_s = u->has_lifetime ? (uint32_t)column_u64(st, 9) : 0;
	u->created_unix_s = column_u64(st, 10);
	u->has_last_login = sqlite3_column_type(st, 11) != SQLITE_NULL;
	u->last_login_unix_s = column_u64(st, 11);
}

static int
user_insert(struct store *db, const struct userdb_user *u)
{
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "INSERT INTO users (name, pw_hash, totp_secret, "
			  "totp_algorithm, totp_digits, totp_period, "
			  "totp_last_step, enabled, role, addr4, addr6, "
			  "lifetime_s, created) VALUES "
			  "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			  &st);

	if (ret < 0)
		return ret;
	bind_text(st, 1, u->name);
	bind_text(st, 2, u->pw_hash);
	bind_blob(st, 3, true, u->totp_secret, u->totp_secret_len);
	bind_text(st, 4, totp_algo_name(u->totp.algo));
	sqlite3_bind_int(st, 5, (int)u->totp.digits);
	sqlite3_bind_int(st, 6, (int)u->totp.period_s);
	/* A zeroed struct consumed nothing (step 0 was in 1970). */
	sqlite3_bind_int64(st, 7, u->last_step > 0 ? u->last_step : -1);
	sqlite3_bind_int(st, 8, u->is_enabled);
	bind_text(st, 9, userdb_role_name(u->role));
	bind_blob(st, 10, u->has_addr4, u->addr4, sizeof(u->addr4));
	bind_blob(st, 11, u->has_addr6, u->addr6, sizeof(u->addr6));
	if (u->has_lifetime)
		sqlite3_bind_int64(st, 12, u->lifetime_s);
	else
		sqlite3_bind_null(st, 12);
	bind_u64(st, 13, u->created_unix_s);
	return run(db, st, "add a user");
}

static int
op_users_add(struct userdb *base, const struct userdb_user *u, size_t n,
	     size_t *failed)
{
	struct store *db = (struct store *)base;
	size_t i;
	int ret = begin(db);

	*failed = 0;
	if (ret < 0)
		return ret;
	for (i = 0; i < n && ret == 0; i++) {
		ret = user_insert(db, &u[i]);
		if (ret < 0)
			*failed = i;
	}
	return finish(db, ret);
}

static int
op_user_add(struct userdb *base, const struct userdb_user *u)
{
	size_t failed;

	return op_users_add(base, u, 1, &failed);
}

static int
op_user_get(struct userdb *base, const char *name, struct userdb_user *out)
{
	struct store *db = (struct store *)base;
	sqlite3_stmt *st;
	const void *secret;
	size_t secret_len;
	int ret = prepare(db,
			  "SELECT " USER_COLUMNS ", pw_hash, totp_secret "
			  "FROM users WHERE name = ?",
			  &st);

	memset(out, 0, sizeof(*out));
	if (ret < 0)
		return ret;
	bind_text(st, 1, name);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		break;
	case SQLITE_DONE:
		ret = -ENOENT;
		goto out;
	default:
		ret = fail(db, "read a user");
		goto out;
	}
	read_user(st, out);
	column_text(st, 12, out->pw_hash, sizeof(out->pw_hash));
	secret = sqlite3_column_blob(st, 13);
	secret_len = (size_t)sqlite3_column_bytes(st, 13);
	if (!secret || secret_len == 0 || secret_len > sizeof(out->totp_secret)) {
		log_err("user store %s: user '%s' has no usable TOTP secret",
			db->path, out->name);
		ret = -EIO;
		goto out;
	}
	memcpy(out->totp_secret, secret, secret_len);
	out->totp_secret_len = secret_len;
out:
	sqlite3_finalize(st);
	if (ret < 0)
		sodium_memzero(out, sizeof(*out));
	return ret;
}

/* One statement with the user name as its only parameter; -ENOENT if it
 * changed no row. Runs inside the caller's transaction. */
static int
run_for_user(struct store *db, const char *sql, const char *name,
	     bool must_change)
{
	sqlite3_stmt *st;
	int ret = prepare(db, sql, &st);

	if (ret < 0)
		return ret;
	bind_text(st, 1, name);
	ret = run(db, st, "change a user");
	if (ret == 0 && must_change && sqlite3_changes(db->db) == 0)
		ret = -ENOENT;
	return ret;
}

/*
 * Which admissions an account change or a grant ends: `where` is a
 * condition on admissions whose parameters start at ?2 (?1 is the
 * reason), and `bind` binds them.
 */
struct ending {
	const char *where;
	void (*bind)(sqlite3_stmt *st, const void *arg);
	const void *arg;
	const char *reason;
};

static int
ending_run(struct store *db, const struct ending *e, const char *sql_fmt,
	   const char *what)
{
	char sql[512];
	sqlite3_stmt *st;
	int ret;

	snprintf(sql, sizeof(sql), sql_fmt, e->where);
	ret = prepare(db, sql, &st);
	if (ret < 0)
		return ret;
	bind_text(st, 1, e->reason);
	e->bind(st, e->arg);
	return run(db, st, what);
}

/*
 * Appends one admission-end event per admission matched, then ends them,
 * inside the caller's transaction: a vpnd polling the events learns of
 * exactly the admissions that ended, whatever it is told (rule 8).
 */
static int
end_admissions(struct store *db, const struct ending *e)
{
	int ret = ending_run(db, e,
			     "INSERT INTO events (time, kind, user, client_key, "
			     "reason, expires) SELECT CAST(strftime('%%s', "
			     "'now') AS INTEGER), '" USERDB_EVENT_ADMISSION_END
			     "', user, client_key, ?1, expires FROM admissions "
			     "WHERE %s ORDER BY client_key",
			     "record the end of admissions");

	if (ret == 0)
		ret = ending_run(db, e, "DELETE FROM admissions WHERE %s",
				 "end admissions");
	return ret;
}

static void
bind_user(sqlite3_stmt *st, const void *name)
{
	bind_text(st, 2, name);
}

static int
end_user_admissions(struct store *db, const char *name, const char *reason)
{
	const struct ending e = { "user = ?2", bind_user, name, reason };

	return end_admissions(db, &e);
}

static int
op_user_del(struct userdb *base, const char *name)
{
	struct store *db = (struct store *)base;
	static const char *const sql[] = {
		"DELETE FROM leases WHERE user = ?",
		"DELETE FROM recovery_codes WHERE user = ?",
	};
	size_t i;
	int ret = begin(db);

	if (ret < 0)
		return ret;
	ret = end_user_admissions(db, name, USERDB_REASON_DELETED);
	for (i = 0; i < ARRAY_SIZE(sql) && ret == 0; i++)
		ret = run_for_user(db, sql[i], name, false);
	if (ret == 0)
		ret = run_for_user(db, "DELETE FROM users WHERE name = ?", name,
				   true);
	return finish(db, ret);
}

/*
 * Sets one column of the account (?1, bound by the caller, is the value;
 * ?2 the name) and ends its admissions for `reason`, in one transaction.
 */
static int
change_user(struct store *db, sqlite3_stmt *st, const char *name,
	    const char *reason)
{
	int ret = begin(db);

	if (ret < 0) {
		sqlite3_finalize(st);
		return ret;
	}
	bind_text(st, 2, name);
	ret = run(db, st, "change a user");
	if (ret == 0 && sqlite3_changes(db->db) == 0)
		ret = -ENOENT;
	if (ret == 0 && reason)
		ret = end_user_admissions(db, name, reason);
	return finish(db, ret);
}

static int
op_user_set_password(struct userdb *base, const char *name,
		     const char *pw_hash)
{
	struct store *db = (struct store *)base;
	sqlite3_stmt *st;
	int ret = prepare(db, "UPDATE users SET pw_hash = ?1 WHERE name = ?2",
			  &st);

	if (ret < 0)
		return ret;
	bind_text(st, 1, pw_hash);
	return change_user(db, st, name, USERDB_REASON_PASSWORD);
}

static int
op_user_set_totp(struct userdb *base, const char *name,
		 const uint8_t *secret, size_t secret_len)
{
	struct store *db = (struct store *)base;
	sqlite3_stmt *st;
	int ret;

	if (secret_len == 0 || secret_len > TOTP_SECRET_MAX)
		return -EINVAL;
	ret = prepare(db, "UPDATE users SET totp_secret = ?1 WHERE name = ?2",
		      &st);
	if (ret < 0)
		return ret;
	bind_blob(st, 1, true, secret, secret_len);
	return change_user(db, st, name, USERDB_REASON_TOTP);
}

static int
op_user_set_totp_step(struct userdb *base, const char *name,
		      const uint8_t *secret, size_t secret_len,
		      int64_t step)
{
	struct store *db = (struct store *)base;
	sqlite3_stmt *st;
	int ret;

	if (secret_len == 0 || secret_len > TOTP_SECRET_MAX)
		return -EINVAL;
	ret = prepare(db,
		      "UPDATE users SET totp_secret = ?1, totp_last_step = "
		      "MAX(totp_last_step, ?3) WHERE name = ?2",
		      &st);
	if (ret < 0)
		return ret;
	bind_blob(st, 1, true, secret, secret_len);
	sqlite3_bind_int64(st, 3, step);
	return change_user(db, st, name, USERDB_REASON_TOTP);
}

static int
op_user_set_enabled(struct userdb *base, const char *name, bool is_enabled)
{
	struct store *db = (struct store *)base;
	sqlite3_stmt *st;
	int ret = prepare(db, "UPDATE users SET enabled = ?1 WHERE name = ?2",
			  &st);

	if (ret < 0)
		return ret;
	sqlite3_bind_int(st, 1, is_enabled);
	return change_user(db, st, name,
			   is_enabled ? NULL : USERDB_REASON_DISABLED);
}

static int
op_user_list(struct userdb *base, userdb_user_fn fn, void *arg)
{
	struct store *db = (struct store *)base;
	struct userdb_user u;
	sqlite3_stmt *st;
	int ret = prepare(db, "SELECT " USER_COLUMNS " FROM users ORDER BY name",
			  &st);
	int rc;

	if (ret < 0)
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&u, 0, sizeof(u));
		read_user(st, &u);
		ret = fn(arg, &u);
		if (ret != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = fail(db, "list users");
out:
	sqlite3_finalize(st);
	return ret;
}

/* ---- recovery codes --------------------------------------------------------- */

/* 0 if the account exists, -ENOENT if not. */
static int
user_exists(struct store *db, const char *name)
{
	sqlite3_stmt *st;
	int ret = prepare(db, "SELECT 1 FROM users WHERE name = ?", &st);

	if (ret < 0)
		return ret;
	bind_text(st, 1, name);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		break;
	case SQLITE_DONE:
		ret = -ENOENT;
		break;
	default:
		ret = fail(db, "find a user");
		break;
	}
	sqlite3_finalize(st);
	return ret;
}

static int
recovery_insert(struct store *db, const char *name,
		const struct userdb_recovery *c, uint64_t now_unix_s)
{
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "INSERT INTO recovery_codes (user, salt, hash, used, "
			  "created) VALUES (?, ?, ?, 0, ?)",
			  &st);

	if (ret < 0)
		return ret;
	bind_text(st, 1, name);
	bind_blob(st, 2, true, c->salt, sizeof(c->salt));
	bind_blob(st, 3, true, c->hash, sizeof(c->hash));
	bind_u64(st, 4, now_unix_s);
	return run(db, st, "store a recovery code");
}

static int
op_recovery_replace(struct userdb *base, const char *name,
		    const struct userdb_recovery *codes, size_t n,
		    uint64_t now_unix_s)
{
	struct store *db = (struct store *)base;
	size_t i;
	int ret = begin(db);

	if (ret < 0)
		return ret;
	ret = user_exists(db, name);
	if (ret == 0)
		ret = run_for_user(db,
				   "DELETE FROM recovery_codes WHERE user = ?",
				   name, false);
	for (i = 0; i < n && ret == 0; i++)
		ret = recovery_insert(db, name, &codes[i], now_unix_s);
	return finish(db, ret);
}

static int
op_recovery_unused(struct userdb *base, const char *name,
		   struct userdb_recovery *out, size_t max, size_t *n_out)
{
	struct store *db = (struct store *)base;
	sqlite3_stmt *st;
	size_t n = 0;
	int ret = prepare(db,
			  "SELECT id, salt, hash FROM recovery_codes "
			  "WHERE user = ? AND used = 0 ORDER BY id",
			  &st);
	int rc = SQLITE_DONE;

	*n_out = 0;
	if (ret < 0)
		return ret;
	bind_text(st, 1, name);
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		out[n].id = sqlite3_column_int64(st, 0);
		if (column_blob(st, 1, out[n].salt, sizeof(out[n].salt)) &&
		    column_blob(st, 2, out[n].hash, sizeof(out[n].hash)))
			n++;
	}
	if (n < max && rc != SQLITE_DONE)
		ret = fail(db, "read recovery codes");
	sqlite3_finalize(st);
	*n_out = ret == 0 ? n : 0;
	return ret;
}

/* ---- site subnets ----------------------------------------------------------- */

static int
subnet_insert(struct store *db, const char *name, const struct prefix *p)
{
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "INSERT INTO subnets (user, family, network, len) "
			  "VALUES (?, ?, ?, ?)",
			  &st);

	if (ret < 0)
		return ret;
	bind_text(st, 1, name);
	sqlite3_bind_int(st, 2, p->family == AF_INET6 ? 6 : 4);
	bind_blob(st, 3, true, p->addr, prefix_addr_len(p->family));
	sqlite3_bind_int(st, 4, p->len);
	return run(db, st, "add a subnet");
}

static int
op_subnets_set(struct userdb *base, const char *name,
	       const struct prefix *subnets, size_t n)
{
	struct store *db = (struct store *)base;
	size_t i;
	int ret = begin(db);

	if (ret < 0)
		return ret;
	ret = user_exists(db, name);
	if (ret == 0)
		ret = run_for_user(db, "DELETE FROM subnets WHERE user = ?",
				   name, false);
	for (i = 0; i < n && ret == 0; i++)
		ret = subnet_insert(db, name, &subnets[i]);
	/* Live sessions take the new subnets without a new login. */
	if (ret == 0)
		ret = run_for_user(db,
				   "INSERT INTO events (time, kind, user, "
				   "client_key, reason, expires) SELECT "
				   "CAST(strftime('%s', 'now') AS INTEGER), '"
				   USERDB_EVENT_ADMISSION_CHANGED "', user, "
				   "client_key, 'subnets changed', expires "
				   "FROM admissions WHERE user = ? "
				   "ORDER BY client_key", name, false);
	return finish(db, ret);
}

static void
read_subnet(sqlite3_stmt *st, int first, struct prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = sqlite3_column_int(st, first) == 6 ? AF_INET6 : AF_INET;
	column_blob(st, first + 1, p->addr, prefix_addr_len(p->family));
	p->len = (uint8_t)sqlite3_column_int(st, first + 2);
}

static int
op_subnets_get(struct userdb *base, const char *name, struct prefix *out,
	       size_t max, size_t *n_out)
{
	struct store *db = (struct store *)base;
	sqlite3_stmt *st;
	size_t n = 0;
	int rc = SQLITE_DONE, ret = prepare(db,
			  "SELECT family, network, len FROM subnets "
			  "WHERE user = ? ORDER BY family, network, len",
			  &st);

	*n_out = 0;
	if (ret < 0)
		return ret;
	bind_text(st, 1, name);
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		read_subnet(st, 0, &out[n++]);
	if (n < max && rc != SQLITE_DONE)
		ret = fail(db, "read subnets");
	sqlite3_finalize(st);
	*n_out = ret == 0 ? n : 0;
	return ret;
}

static int
op_subnets_list(struct userdb *base, userdb_subnet_fn fn, void *arg)
{
	struct store *db = (struct store *)base;
	char name[USERDB_NAME_MAX + 1];
	struct prefix p;
	sqlite3_stmt *st;
	int rc, ret = prepare(db,
			      "SELECT user, family, network, len FROM subnets "
			      "ORDER BY user, family, network, len",
			      &st);

	if (ret < 0)
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && ret == 0) {
		column_text(st, 0, name, sizeof(name));
		read_subnet(st, 1, &p);
		ret = fn(arg, name, &p);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = fail(db, "read subnets");
	sqlite3_finalize(st);
	return ret;
}

/* ---- failure counters ------------------------------------------------------- */

static int
failure_read(struct store *db, const struct userdb_failure_key *key,
	     struct userdb_failure *out)
{
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "SELECT count, last_failure, locked_until "
			  "FROM failures WHERE kind = ? AND key = ?",
			  &st);

	memset(out, 0, sizeof(*out));
	if (ret < 0)
		return ret;
	bind_text(st, 1, failure_kind_name(key->kind));
	bind_text(st, 2, key->key);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		out->count = (uint32_t)column_u64(st, 0);
		out->last_unix_s = column_u64(st, 1);
		out->locked_until_unix_s = column_u64(st, 2);
		break;
	case SQLITE_DONE:
		break;
	default:
		ret = fail(db, "read a failure counter");
		break;
	}
	sqlite3_finalize(st);
	return ret;
}

static int
failure_write(struct store *db, const struct userdb_failure_key *key,
	      const struct userdb_failure *f)
{
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "INSERT INTO failures (kind, key, count, "
			  "last_failure, locked_until) VALUES (?, ?, ?, ?, ?) "
			  "ON CONFLICT (kind, key) DO UPDATE SET "
			  "count = excluded.count, "
			  "last_failure = excluded.last_failure, "
			  "locked_until = excluded.locked_until",
			  &st);

	if (ret < 0)
		return ret;
	bind_text(st, 1, failure_kind_name(key->kind));
	bind_text(st, 2, key->key);
	sqlite3_bind_int64(st, 3, f->count);
	bind_u64(st, 4, f->last_unix_s);
	bind_u64(st, 5, f->locked_until_unix_s);
	return run(db, st, "write a failure counter");
}

/* Runs inside the caller's transaction; -ENOENT if there was none. */
static int
failure_delete(struct store *db, const struct userdb_failure_key *key)
{
	sqlite3_stmt *st;
	int ret = prepare(db, "DELETE FROM failures WHERE kind = ? AND key = ?",
			  &st);

	if (ret < 0)
		return ret;
	bind_text(st, 1, failure_kind_name(key->kind));
	bind_text(st, 2, key->key);
	ret = run(db, st, "clear a failure counter");
	if (ret == 0 && sqlite3_changes(db->db) == 0)
		ret = -ENOENT;
	return ret;
}

/* A counter at zero with no lock is not kept. */
static int
failure_store(struct store *db, const struct userdb_failure_key *key,
	      const struct userdb_failure *f)
{
	int ret;

	if (f->count || f->locked_until_unix_s)
		return failure_write(db, key, f);
	ret = failure_delete(db, key);
	return ret == -ENOENT ? 0 : ret;
}

static int
op_failure_get(struct userdb *base, const struct userdb_failure_key *key,
	       struct userdb_failure *out)
{
	struct store *db = (struct store *)base;

	return failure_read(db, key, out);
}

/* Reads the n counters, lets fn decide, writes them back if it says so;
 * inside the caller's transaction. */
static int
failures_adjust(struct store *db, const struct userdb_failure_key *keys,
		size_t n, userdb_failures_fn fn, void *arg)
{
	struct userdb_failure *f;
	size_t i;
	int ret = 0;

	if (n == 0)
		return 0;
	f = calloc(n, sizeof(*f));
	if (!f)
		return -ENOMEM;
	for (i = 0; i < n && ret == 0; i++)
		ret = failure_read(db, &keys[i], &f[i]);
	if (ret == 0 && fn(arg, f, n))
		for (i = 0; i < n && ret == 0; i++)
			ret = failure_store(db, &keys[i], &f[i]);
	free(f);
	return ret;
}

static int
op_failures_apply(struct userdb *base, const struct userdb_failure_key *keys,
		  size_t n, userdb_failures_fn fn, void *arg)
{
	struct store *db = (struct store *)base;
	int ret = begin(db);

	if (ret < 0)
		return ret;
	return finish(db, failures_adjust(db, keys, n, fn, arg));
}

static int
op_failures_list(struct userdb *base, userdb_failure_each_fn fn, void *arg)
{
	struct store *db = (struct store *)base;
	struct userdb_failure_key key;
	struct userdb_failure f;
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "SELECT kind, key, count, last_failure, locked_until "
			  "FROM failures ORDER BY kind = 'source', key",
			  &st);
	int rc;

	if (ret < 0)
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 0);

		key.kind = kind && strcmp(kind, "source") == 0
				   ? USERDB_FAILURE_SOURCE
				   : USERDB_FAILURE_USER;
		key.key = (const char *)sqlite3_column_text(st, 1);
		if (!key.key)
			key.key = "";
		f.count = (uint32_t)column_u64(st, 2);
		f.last_unix_s = column_u64(st, 3);
		f.locked_until_unix_s = column_u64(st, 4);
		ret = fn(arg, &key, &f);
		if (ret != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = fail(db, "list failure counters");
out:
	sqlite3_finalize(st);
	return ret;
}

static int
op_failure_clear(struct userdb *base, const struct userdb_failure_key *key)
{
	struct store *db = (struct store *)base;

	return failure_delete(db, key);
}

static int
op_failures_prune(struct userdb *base, enum userdb_failure_kind kind,
		  uint64_t now_unix_s, uint64_t idle_s,
		  uint64_t per_failure_s)
{
	struct store *db = (struct store *)base;
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "DELETE FROM failures WHERE kind = ?1 AND "
			  "locked_until <= ?2 AND "
			  "last_failure + ?3 + count * ?4 < ?2",
			  &st);

	if (ret < 0)
		return ret;
	bind_text(st, 1, failure_kind_name(kind));
	bind_u64(st, 2, now_unix_s);
	/* An overflowing sum would become a REAL; keep it an integer. */
	bind_u64(st, 3, idle_s > UINT32_MAX ? UINT32_MAX : idle_s);
	bind_u64(st, 4, per_failure_s > UINT32_MAX ? UINT32_MAX : per_failure_s);
	ret = run(db, st, "prune failure counters");
	return ret < 0 ? ret : sqlite3_changes(db->db);
}

/* ---- admissions (reading) ------------------------------------------------- */

#define ADMISSION_COLUMNS                                                     \
	"a.client_key, a.user, a.created, a.expires, a.addr4, a.addr6, "     \
	"a.last_stamp"

/* Reads the ADMISSION_COLUMNS of the current row. */
static void
read_admission(sqlite3_stmt *st, struct userdb_admission *out)
{
	memset(out, 0, sizeof(*out));
	column_blob(st, 0, out->client_pub, USERDB_KEY_LEN);
	column_text(st, 1, out->username, sizeof(out->username));
	out->created_unix_s = column_u64(st, 2);
	out->expires_unix_s = column_u64(st, 3);
	out->has_addr4 = column_blob(st, 4, out->addr4, 4);
	out->has_addr6 = column_blob(st, 5, out->addr6, 16);
	out->has_stamp = column_blob(st, 6, out->stamp, USERDB_STAMP_LEN);
}

static int
admission_read(struct store *db, const uint8_t client_pub[USERDB_KEY_LEN],
	       uint64_t now_unix_s, struct userdb_admission *out)
{
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "SELECT " ADMISSION_COLUMNS " FROM admissions a "
			  "JOIN users u ON u.name = a.user WHERE "
			  "a.client_key = ? AND a.expires > ? AND "
			  "u.enabled = 1",
			  &st);

	memset(out, 0, sizeof(*out));
	if (ret < 0)
		return ret;
	bind_blob(st, 1, true, client_pub, USERDB_KEY_LEN);
	bind_u64(st, 2, now_unix_s);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		read_admission(st, out);
		break;
	case SQLITE_DONE:
		ret = -ENOENT;
		break;
	default:
		ret = fail(db, "read an admission");
		break;
	}
	sqlite3_finalize(st);
	return ret;
}

/* ---- grants ----------------------------------------------------------------- */

/* What a grant, or a re-addressing, reads under the write lock. */
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

/* True if the row's password hash and TOTP secret (columns 5, 6) are the
 * ones the login verified. */
static bool
same_credentials(sqlite3_stmt *st, const struct userdb_grant *g)
{
	const unsigned char *hash = sqlite3_column_text(st, 5);
	const void *secret = sqlite3_column_blob(st, 6);
	size_t secret_len = (size_t)sqlite3_column_bytes(st, 6);

	if (!g->pw_hash)
		return true;
	return hash && strcmp((const char *)hash, g->pw_hash) == 0 &&
	       secret && secret_len == g->totp_secret_len &&
	       memcmp(secret, g->totp_secret, secret_len) == 0;
}

static int
grant_read_user(struct store *db, struct grant_ctx *c)
{
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "SELECT enabled, totp_last_step, addr4, addr6, "
			  "lifetime_s, pw_hash, totp_secret FROM users "
			  "WHERE name = ?",
			  &st);

	if (ret < 0)
		return ret;
	bind_text(st, 1, c->username);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		if (!sqlite3_column_int(st, 0)) {
			ret = -ENOENT;
			break;
		}
		if (c->verified && !same_credentials(st, c->verified)) {
			ret = -ESTALE;
			break;
		}
		c->last_step = sqlite3_column_int64(st, 1);
		c->view.has_fixed4 = column_blob(st, 2, c->view.fixed4, 4);
		c->view.has_fixed6 = column_blob(st, 3, c->view.fixed6, 16);
		c->has_lifetime = sqlite3_column_type(st, 4) != SQLITE_NULL;
		c->lifetime_s = (uint32_t)column_u64(st, 4);
		break;
	case SQLITE_DONE:
		ret = -ENOENT;
		break;
	default:
		ret = fail(db, "read a user");
		break;
	}
	sqlite3_finalize(st);
	return ret;
}

/* The step must still be after the last one: another login of the same
 * user may have consumed it since the caller checked. */
static int
grant_consume(struct store *db, const struct userdb_grant *g,
	      int64_t last_step)
{
	sqlite3_stmt *st;
	int ret;

	if (g->has_step && g->step <= last_step)
		return -EALREADY;
	ret = prepare(db,
		      g->has_step ? "UPDATE users SET totp_last_step = ?1 "
				    "WHERE name = ?2"
				  : "UPDATE recovery_codes SET used = ?3 "
				    "WHERE id = ?1 AND user = ?2 AND used = 0",
		      &st);
	if (ret < 0)
		return ret;
	sqlite3_bind_int64(st, 1, g->has_step ? g->step : g->recovery_id);
	bind_text(st, 2, g->username);
	if (!g->has_step)
		bind_u64(st, 3, g->now_unix_s ? g->now_unix_s : 1);
	ret = run(db, st, "consume a code");
	if (ret == 0 && sqlite3_changes(db->db) != 1)
		ret = -EALREADY;
	return ret;
}

static int
grant_read_lease(struct store *db, struct grant_ctx *c)
{
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "SELECT addr4, addr6 FROM leases "
			  "WHERE user = ? AND client_key = ?",
			  &st);

	if (ret < 0)
		return ret;
	bind_text(st, 1, c->username);
	bind_blob(st, 2, true, c->client_pub, USERDB_KEY_LEN);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		c->view.has_lease4 = column_blob(st, 0, c->view.lease4, 4);
		c->view.has_lease6 = column_blob(st, 1, c->view.lease6, 16);
		break;
	case SQLITE_DONE:
		break;
	default:
		ret = fail(db, "read a lease");
		break;
	}
	sqlite3_finalize(st);
	return ret;
}

/* Addresses of one family held by others, sorted (blobs sort as memcmp). */
static int
grant_read_taken(struct store *db, struct grant_ctx *c, size_t len,
		 uint8_t **out, size_t *n_out)
{
	sqlite3_stmt *st;
	uint8_t *list = NULL, *grown;
	size_t n = 0, cap = 0;
	int ret = prepare(db,
			  len == 4 ? "SELECT addr4 FROM admissions WHERE "
				     "client_key != ?1 AND expires > ?2 AND "
				     "addr4 IS NOT NULL UNION SELECT addr4 "
				     "FROM users WHERE name != ?3 AND addr4 "
				     "IS NOT NULL ORDER BY 1"
				   : "SELECT addr6 FROM admissions WHERE "
				     "client_key != ?1 AND expires > ?2 AND "
				     "addr6 IS NOT NULL UNION SELECT addr6 "
				     "FROM users WHERE name != ?3 AND addr6 "
				     "IS NOT NULL ORDER BY 1",
			  &st);
	int rc;

	if (ret < 0)
		return ret;
	bind_blob(st, 1, true, c->client_pub, USERDB_KEY_LEN);
	bind_u64(st, 2, c->now_unix_s);
	bind_text(st, 3, c->username);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(list, cap * len);
			if (!grown) {
				ret = -ENOMEM;
				goto out;
			}
			list = grown;
		}
		if (column_blob(st, 0, list + n * len, len))
			n++;
	}
	if (rc != SQLITE_DONE)
		ret = fail(db, "read taken addresses");
out:
	sqlite3_finalize(st);
	*out = list;
	*n_out = n;
	return ret;
}

static void
bind_evict(sqlite3_stmt *st, const void *arg)
{
	const struct userdb_admission *adm = arg;

	bind_blob(st, 2, true, adm->client_pub, USERDB_KEY_LEN);
	bind_blob(st, 3, adm->has_addr4, adm->addr4, 4);
	bind_blob(st, 4, adm->has_addr6, adm->addr6, 16);
}

/* Other keys' admissions holding an address now given to this key end:
 * a fixed address always goes to its owner. */
static int
grant_evict(struct store *db, const struct userdb_admission *adm)
{
	const struct ending e = {
		"client_key != ?2 AND (addr4 = ?3 OR addr6 = ?4)", bind_evict,
		adm, USERDB_REASON_ADDRESS,
	};

	return end_admissions(db, &e);
}

/* The greater of the stored stamp and the new one stays (a replayed
 * handshake must never become acceptable again). */
static int
grant_store_admission(struct store *db, const struct userdb_admission *adm)
{
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "INSERT INTO admissions (client_key, user, created, "
			  "expires, addr4, addr6, last_stamp) VALUES "
			  "(?, ?, ?, ?, ?, ?, ?) "
			  "ON CONFLICT (client_key) DO UPDATE SET "
			  "user = excluded.user, created = excluded.created, "
			  "expires = excluded.expires, addr4 = excluded.addr4, "
			  "addr6 = excluded.addr6, last_stamp = CASE WHEN "
			  "last_stamp IS NULL OR excluded.last_stamp > "
			  "last_stamp THEN excluded.last_stamp ELSE "
			  "last_stamp END",
			  &st);

	if (ret < 0)
		return ret;
	bind_blob(st, 1, true, adm->client_pub, USERDB_KEY_LEN);
	bind_text(st, 2, adm->username);
	bind_u64(st, 3, adm->created_unix_s);
	bind_u64(st, 4, adm->expires_unix_s);
	bind_blob(st, 5, adm->has_addr4, adm->addr4, 4);
	bind_blob(st, 6, adm->has_addr6, adm->addr6, 16);
	bind_blob(st, 7, adm->has_stamp, adm->stamp, USERDB_STAMP_LEN);
	return run(db, st, "store an admission");
}

/* A family without an address this time keeps its old lease. */
static int
grant_store_lease(struct store *db, const struct userdb_admission *adm,
		  uint64_t now_unix_s)
{
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "INSERT INTO leases (user, client_key, addr4, addr6, "
			  "updated) VALUES (?, ?, ?, ?, ?) "
			  "ON CONFLICT (user, client_key) DO UPDATE SET "
			  "addr4 = COALESCE(excluded.addr4, addr4), "
			  "addr6 = COALESCE(excluded.addr6, addr6), "
			  "updated = excluded.updated",
			  &st);

	if (ret < 0)
		return ret;
	bind_text(st, 1, adm->username);
	bind_blob(st, 2, true, adm->client_pub, USERDB_KEY_LEN);
	bind_blob(st, 3, adm->has_addr4, adm->addr4, 4);
	bind_blob(st, 4, adm->has_addr6, adm->addr6, 16);
	bind_u64(st, 5, now_unix_s);
	return run(db, st, "store a lease");
}

/* A login, not a re-addressing: the account's and the key's last one. */
static int
grant_record_login(struct store *db, const struct userdb_grant *g)
{
	static const char *const sql[] = {
		"UPDATE users SET last_login = ?1 WHERE name = ?2",
		"UPDATE leases SET last_login = ?1 WHERE user = ?2 AND "
		"client_key = ?3",
	};
	sqlite3_stmt *st;
	size_t i;
	int ret = 0;

	for (i = 0; i < ARRAY_SIZE(sql) && ret == 0; i++) {
		ret = prepare(db, sql[i], &st);
		if (ret < 0)
			break;
		bind_u64(st, 1, g->now_unix_s);
		bind_text(st, 2, g->username);
		if (i == 1)
			bind_blob(st, 3, true, g->client_pub, USERDB_KEY_LEN);
		ret = run(db, st, "record a login");
	}
	return ret;
}

/* Reads what the address choice needs and lets the caller choose. */
static int
grant_assign(struct store *db, struct grant_ctx *c, userdb_assign_fn assign,
	     void *arg, struct userdb_admission *adm)
{
	int ret = grant_read_lease(db, c);

	if (ret == 0)
		ret = grant_read_taken(db, c, 4, &c->taken4, &c->view.n_taken4);
	if (ret == 0)
		ret = grant_read_taken(db, c, 16, &c->taken6,
				       &c->view.n_taken6);
	if (ret < 0)
		return ret;
	c->view.taken4 = c->taken4;
	c->view.taken6 = c->taken6;
	return assign(arg, &c->view, adm) ? 0 : -ENOSPC;
}

static void
grant_ctx_free(struct grant_ctx *c)
{
	free(c->taken4);
	free(c->taken6);
}

/* The admission as a new grant makes it, before the addresses. */
static void
grant_admission(const struct userdb_grant *g, const struct grant_ctx *c,
		struct userdb_admission *adm)
{
	uint64_t lifetime = c->has_lifetime ? c->lifetime_s : g->lifetime_s;

	memcpy(adm->client_pub, g->client_pub, USERDB_KEY_LEN);
	snprintf(adm->username, sizeof(adm->username), "%s", g->username);
	adm->created_unix_s = g->now_unix_s;
	adm->expires_unix_s = g->now_unix_s + lifetime;
	adm->has_stamp = g->has_stamp;
	memcpy(adm->stamp, g->stamp, USERDB_STAMP_LEN);
}

/* The stamp the admission holds after the upsert: maybe an earlier,
 * greater one. */
static int
grant_read_stamp(struct store *db, struct userdb_admission *adm)
{
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "SELECT last_stamp FROM admissions WHERE "
			  "client_key = ?",
			  &st);

	if (ret < 0)
		return ret;
	bind_blob(st, 1, true, adm->client_pub, USERDB_KEY_LEN);
	if (sqlite3_step(st) == SQLITE_ROW)
		adm->has_stamp = column_blob(st, 0, adm->stamp,
					     USERDB_STAMP_LEN);
	else
		ret = fail(db, "read a stored admission");
	sqlite3_finalize(st);
	return ret;
}

static int
op_grant(struct userdb *base, const struct userdb_grant *g,
	 userdb_assign_fn assign, void *arg, struct userdb_admission *out)
{
	struct store *db = (struct store *)base;
	struct grant_ctx c = { .username = g->username,
			       .client_pub = g->client_pub,
			       .now_unix_s = g->now_unix_s,
			       .verified = g };
	size_t i;
	int ret;

	memset(out, 0, sizeof(*out));
	if (g->has_step == g->has_recovery)
		return -EINVAL;
	ret = begin(db);
	if (ret < 0)
		return ret;
	ret = grant_read_user(db, &c);
	if (ret == 0)
		ret = grant_consume(db, g, c.last_step);
	for (i = 0; i < g->n_reset && ret == 0; i++)
		if ((ret = failure_delete(db, &g->reset[i])) == -ENOENT)
			ret = 0;
	if (ret == 0 && g->n_adjust)
		ret = failures_adjust(db, g->adjust, g->n_adjust, g->adjust_fn,
				      g->adjust_arg);
	if (ret == 0) {
		grant_admission(g, &c, out);
		ret = grant_assign(db, &c, assign, arg, out);
	}
	if (ret == 0)
		ret = grant_evict(db, out);
	if (ret == 0)
		ret = grant_store_admission(db, out);
	if (ret == 0)
		ret = grant_store_lease(db, out, g->now_unix_s);
	if (ret == 0)
		ret = grant_record_login(db, g);
	if (ret == 0)
		ret = grant_read_stamp(db, out);
	ret = finish(db, ret);
	grant_ctx_free(&c);
	if (ret < 0)
		memset(out, 0, sizeof(*out));
	return ret;
}

/* ---- admissions ------------------------------------------------------------- */

static int
op_admission_get(struct userdb *base,
		 const uint8_t client_pub[USERDB_KEY_LEN],
		 uint64_t now_unix_s, struct userdb_admission *out)
{
	struct store *db = (struct store *)base;

	return admission_read(db, client_pub, now_unix_s, out);
}

static int
op_admissions_list(struct userdb *base, uint64_t now_unix_s,
		   userdb_admission_fn fn, void *arg)
{
	struct store *db = (struct store *)base;
	struct userdb_admission adm;
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "SELECT " ADMISSION_COLUMNS " FROM admissions a "
			  "JOIN users u ON u.name = a.user WHERE "
			  "a.expires > ? AND u.enabled = 1 "
			  "ORDER BY a.client_key",
			  &st);
	int rc;

	if (ret < 0)
		return ret;
	bind_u64(st, 1, now_unix_s);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_admission(st, &adm);
		ret = fn(arg, &adm);
		if (ret != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = fail(db, "list admissions");
out:
	sqlite3_finalize(st);
	return ret;
}

static int
store_addresses(struct store *db, const struct userdb_admission *adm)
{
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "UPDATE admissions SET addr4 = ?, addr6 = ? "
			  "WHERE client_key = ?",
			  &st);

	if (ret < 0)
		return ret;
	bind_blob(st, 1, adm->has_addr4, adm->addr4, 4);
	bind_blob(st, 2, adm->has_addr6, adm->addr6, 16);
	bind_blob(st, 3, true, adm->client_pub, USERDB_KEY_LEN);
	return run(db, st, "re-address an admission");
}

static int
op_admission_readdress(struct userdb *base,
		       const uint8_t client_pub[USERDB_KEY_LEN],
		       uint64_t now_unix_s, userdb_assign_fn assign,
		       void *arg, struct userdb_admission *out)
{
	struct store *db = (struct store *)base;
	struct grant_ctx c = { .client_pub = client_pub,
			       .now_unix_s = now_unix_s };
	int ret = begin(db);

	if (ret < 0) {
		memset(out, 0, sizeof(*out));
		return ret;
	}
	ret = admission_read(db, client_pub, now_unix_s, out);
	c.username = out->username;
	if (ret == 0)
		ret = grant_read_user(db, &c);
	if (ret == 0)
		ret = grant_assign(db, &c, assign, arg, out);
	if (ret == 0)
		ret = grant_evict(db, out);
	if (ret == 0)
		ret = store_addresses(db, out);
	if (ret == 0)
		ret = grant_store_lease(db, out, now_unix_s);
	ret = finish(db, ret);
	grant_ctx_free(&c);
	if (ret < 0)
		memset(out, 0, sizeof(*out));
	return ret;
}

static void
bind_key(sqlite3_stmt *st, const void *client_pub)
{
	bind_blob(st, 2, true, client_pub, USERDB_KEY_LEN);
}

static int
op_admission_end(struct userdb *base,
		 const uint8_t client_pub[USERDB_KEY_LEN],
		 const char *reason)
{
	struct store *db = (struct store *)base;
	const struct ending e = { "client_key = ?2", bind_key, client_pub,
				  reason };
	int ret = begin(db);

	if (ret < 0)
		return ret;
	return finish(db, end_admissions(db, &e));
}

static void
bind_match(sqlite3_stmt *st, const void *arg)
{
	const struct userdb_match *m = arg;

	switch (m->kind) {
	case USERDB_MATCH_USER:
		bind_text(st, 2, m->user);
		break;
	case USERDB_MATCH_KEY:
		bind_blob(st, 2, true, m->key, USERDB_KEY_LEN);
		break;
	case USERDB_MATCH_ADDR4:
		bind_blob(st, 2, true, m->addr, 4);
		break;
	default:
		bind_blob(st, 2, true, m->addr, 16);
		break;
	}
}

static int
op_admissions_end_matching(struct userdb *base,
			   const struct userdb_match *m,
			   const char *reason)
{
	struct store *db = (struct store *)base;
	static const char *const where[] = {
		[USERDB_MATCH_USER] = "user = ?2",
		[USERDB_MATCH_KEY] = "client_key = ?2",
		[USERDB_MATCH_ADDR4] = "addr4 = ?2",
		[USERDB_MATCH_ADDR6] = "addr6 = ?2",
	};
	const struct ending e = { where[m->kind], bind_match, m, reason };
	int n = 0, ret = begin(db);

	if (ret < 0)
		return ret;
	ret = end_admissions(db, &e);
	if (ret == 0)
		n = sqlite3_changes(db->db);
	ret = finish(db, ret);
	return ret < 0 ? ret : n;
}

static void
bind_now(sqlite3_stmt *st, const void *now_unix_s)
{
	bind_u64(st, 2, *(const uint64_t *)now_unix_s);
}

/* Expired admissions end like any other: every vpnd reading the events
 * forgets them, and a live session of one (its own expiry missed) ends. */
static int
op_admissions_prune(struct userdb *base, uint64_t now_unix_s)
{
	struct store *db = (struct store *)base;
	const struct ending e = { "expires <= ?2", bind_now, &now_unix_s,
				  USERDB_REASON_EXPIRED };
	int n = 0, ret = begin(db);

	if (ret < 0)
		return ret;
	ret = end_admissions(db, &e);
	if (ret == 0)
		n = sqlite3_changes(db->db);
	ret = finish(db, ret);
	return ret < 0 ? ret : n;
}

/* TAI64N is big-endian seconds then nanoseconds: bytes compare as times,
 * and SQLite compares blobs as memcmp does. */
static int
stamps_raise(struct store *db, const struct userdb_stamp *v, size_t n)
{
	sqlite3_stmt *st;
	size_t i;
	int ret = prepare(db,
			  "UPDATE admissions SET last_stamp = ?2 WHERE "
			  "client_key = ?1 AND (last_stamp IS NULL OR "
			  "last_stamp < ?2)",
			  &st);

	if (ret < 0)
		return ret;
	for (i = 0; i < n && ret == 0; i++) {
		sqlite3_reset(st);
		bind_blob(st, 1, true, v[i].client_pub, USERDB_KEY_LEN);
		bind_blob(st, 2, true, v[i].stamp, USERDB_STAMP_LEN);
		if (sqlite3_step(st) != SQLITE_DONE)
			ret = fail(db, "save a handshake timestamp");
	}
	sqlite3_finalize(st);
	return ret;
}

static int
op_stamps_raise(struct userdb *base, const struct userdb_stamp *v, size_t n)
{
	struct store *db = (struct store *)base;
	int ret;

	if (n == 0)
		return 0;
	ret = begin(db);
	if (ret < 0)
		return ret;
	return finish(db, stamps_raise(db, v, n));
}

/* ---- devices ---------------------------------------------------------------- */

/* A deferred BEGIN: reads see one snapshot without taking the write lock
 * (which would hold up vpnd's grants). */
static int
begin_read(struct store *db)
{
	return exec(db, "BEGIN", "begin");
}

/*
 * Every key with a lease or an admission of the user: the last login is
 * the lease's (the admission's creation for a key admitted before logins
 * were recorded), the addresses those of the admission if it is live.
 */
#define DEVICES_SQL                                                           \
	"SELECT k.client_key, COALESCE(l.last_login, a.created), "           \
	"CASE WHEN a.expires > ?2 THEN a.addr4 ELSE l.addr4 END, "           \
	"CASE WHEN a.expires > ?2 THEN a.addr6 ELSE l.addr6 END, "           \
	"CASE WHEN a.expires > ?2 THEN a.expires ELSE 0 END "                \
	"FROM (SELECT client_key FROM leases WHERE user = ?1 UNION "          \
	"SELECT client_key FROM admissions WHERE user = ?1) k "              \
	"LEFT JOIN leases l ON l.user = ?1 AND l.client_key = k.client_key " \
	"LEFT JOIN admissions a ON a.user = ?1 AND "                         \
	"a.client_key = k.client_key "                                       \
	"ORDER BY 2 DESC NULLS LAST, k.client_key"

static void
read_device(sqlite3_stmt *st, struct userdb_device *d)
{
	memset(d, 0, sizeof(*d));
	column_blob(st, 0, d->client_pub, USERDB_KEY_LEN);
	d->has_last_login = sqlite3_column_type(st, 1) != SQLITE_NULL;
	d->last_login_unix_s = column_u64(st, 1);
	d->has_addr4 = column_blob(st, 2, d->addr4, 4);
	d->has_addr6 = column_blob(st, 3, d->addr6, 16);
	d->expires_unix_s = column_u64(st, 4);
	d->is_admitted = d->expires_unix_s != 0;
}

static int
devices_walk(struct store *db, const char *name, uint64_t now_unix_s,
	     userdb_device_fn fn, void *arg)
{
	struct userdb_device d;
	sqlite3_stmt *st;
	int ret = prepare(db, DEVICES_SQL, &st), rc;

	if (ret < 0)
		return ret;
	bind_text(st, 1, name);
	bind_u64(st, 2, now_unix_s);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_device(st, &d);
		ret = fn(arg, &d);
		if (ret != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = fail(db, "list devices");
out:
	sqlite3_finalize(st);
	return ret;
}

static int
op_devices_list(struct userdb *base, const char *name, uint64_t now_unix_s,
		userdb_device_fn fn, void *arg)
{
	struct store *db = (struct store *)base;
	int ret = begin_read(db);

	if (ret < 0)
		return ret;
	ret = user_exists(db, name);
	if (ret == 0)
		ret = devices_walk(db, name, now_unix_s, fn, arg);
	/* Nothing was written: ending it either way only ends the read. */
	sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

/* The account a key belongs to: its admission's, else its most recent
 * lease's. -ENOENT if it has neither. */
static int
device_owner(struct store *db, const uint8_t *client_pub,
	     char user_out[USERDB_NAME_MAX + 1])
{
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "SELECT user FROM (SELECT user, 1 AS o, 0 AS t FROM "
			  "admissions WHERE client_key = ?1 UNION ALL SELECT "
			  "user, 2, COALESCE(last_login, updated) FROM leases "
			  "WHERE client_key = ?1) ORDER BY o, t DESC LIMIT 1",
			  &st);

	user_out[0] = '\0';
	if (ret < 0)
		return ret;
	bind_blob(st, 1, true, client_pub, USERDB_KEY_LEN);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		column_text(st, 0, user_out, USERDB_NAME_MAX + 1);
		break;
	case SQLITE_DONE:
		ret = -ENOENT;
		break;
	default:
		ret = fail(db, "find a device");
		break;
	}
	sqlite3_finalize(st);
	return ret;
}

static int
op_device_revoke(struct userdb *base,
		 const uint8_t client_pub[USERDB_KEY_LEN],
		 const char *reason, char user_out[USERDB_NAME_MAX + 1])
{
	struct store *db = (struct store *)base;
	const struct ending e = { "client_key = ?2", bind_key, client_pub,
				  reason };
	sqlite3_stmt *st;
	int n = 0, ret = begin(db);

	user_out[0] = '\0';
	if (ret < 0)
		return ret;
	ret = device_owner(db, client_pub, user_out);
	if (ret == 0)
		ret = end_admissions(db, &e);
	if (ret == 0)
		n = sqlite3_changes(db->db);
	if (ret == 0)
		ret = prepare(db, "DELETE FROM leases WHERE client_key = ?",
			      &st);
	if (ret == 0) {
		bind_blob(st, 1, true, client_pub, USERDB_KEY_LEN);
		ret = run(db, st, "forget a lease");
	}
	ret = finish(db, ret);
	return ret < 0 ? ret : n;
}

/* ---- events ----------------------------------------------------------------- */

static int
op_events_head(struct userdb *base, uint64_t *seq)
{
	struct store *db = (struct store *)base;
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
			  &st);

	*seq = 0;
	if (ret < 0)
		return ret;
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		*seq = column_u64(st, 0);
		break;
	case SQLITE_DONE:
		break;
	default:
		ret = fail(db, "read the newest event");
		break;
	}
	sqlite3_finalize(st);
	return ret;
}

/* Changes whenever another connection (thread or process) commits. */
static int
data_version(struct store *db, int64_t *out)
{
	sqlite3_stmt *st;
	int ret = prepare(db, "PRAGMA data_version", &st);

	if (ret < 0)
		return ret;
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		ret = fail(db, "read the data version");
	sqlite3_finalize(st);
	return ret;
}

static void
read_event(sqlite3_stmt *st, struct userdb_event *e)
{
	memset(e, 0, sizeof(*e));
	e->seq = column_u64(st, 0);
	e->time_unix_s = column_u64(st, 1);
	column_text(st, 2, e->kind, sizeof(e->kind));
	column_text(st, 3, e->username, sizeof(e->username));
	column_blob(st, 4, e->client_pub, USERDB_KEY_LEN);
	column_text(st, 5, e->reason, sizeof(e->reason));
	e->expires_unix_s = column_u64(st, 6);
}

static int
op_events_after(struct userdb *base, uint64_t after_seq, userdb_event_fn fn,
		void *arg)
{
	struct store *db = (struct store *)base;
	struct userdb_event e;
	sqlite3_stmt *st;
	int64_t version = 0;
	int changes = sqlite3_total_changes(db->db), n = 0, rc;
	uint64_t last = after_seq;
	int ret = data_version(db, &version);

	if (ret < 0)
		return ret;
	/* Read before the events: a commit after this is seen next time. */
	if (db->has_seen && version == db->seen_data_version &&
	    changes == db->seen_changes && after_seq >= db->seen_seq)
		return 0;
	ret = prepare(db,
		      "SELECT seq, time, kind, user, client_key, reason, "
		      "expires FROM events WHERE seq > ? ORDER BY seq",
		      &st);
	if (ret < 0)
		return ret;
	bind_u64(st, 1, after_seq);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_event(st, &e);
		fn(arg, &e);
		last = e.seq;
		n++;
	}
	if (rc != SQLITE_DONE)
		ret = fail(db, "read events");
	sqlite3_finalize(st);
	if (ret < 0)
		return ret;
	db->has_seen = true;
	db->seen_data_version = version;
	db->seen_changes = changes;
	db->seen_seq = last;
	return n;
}

static int
op_events_prune(struct userdb *base, uint64_t max_age_s)
{
	struct store *db = (struct store *)base;
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "DELETE FROM events WHERE time < "
			  "CAST(strftime('%s', 'now') AS INTEGER) - ?",
			  &st);

	if (ret < 0)
		return ret;
	bind_u64(st, 1, max_age_s);
	ret = run(db, st, "prune events");
	return ret < 0 ? ret : sqlite3_changes(db->db);
}

/* ---- nodes and their sessions ------------------------------------------------ */

#define STORE_NOW "CAST(strftime('%s', 'now') AS INTEGER)"

/* 1 if `node` has a row, 0 if not, or -errno. */
static int
node_known(struct store *db, const char *node)
{
	sqlite3_stmt *st;
	int ret = prepare(db, "SELECT 1 FROM nodes WHERE name = ?", &st);

	if (ret < 0)
		return ret;
	bind_text(st, 1, node);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		ret = 1;
		break;
	case SQLITE_DONE:
		ret = 0;
		break;
	default:
		ret = fail(db, "read a node");
	}
	sqlite3_finalize(st);
	return ret;
}

static int
node_beat(struct store *db, const char *node, uint64_t started_unix_s)
{
	sqlite3_stmt *st;
	int known = node_known(db, node), ret;

	if (known < 0)
		return known;
	ret = prepare(db,
		      known ? "UPDATE nodes SET started = ?2, beat = " STORE_NOW
			      " WHERE name = ?1"
			    : "INSERT INTO nodes (name, started, beat) "
			      "VALUES (?1, ?2, " STORE_NOW ")",
		      &st);
	if (ret < 0)
		return ret;
	bind_text(st, 1, node);
	bind_u64(st, 2, started_unix_s);
	ret = run(db, st, "record a node's beat");
	return ret < 0 ? ret : !known;
}

static int
op_node_beat(struct userdb *base, const char *node, uint64_t started_unix_s)
{
	struct store *db = (struct store *)base;
	int ret = begin(db), done;

	if (ret < 0)
		return ret;
	ret = node_beat(db, node, started_unix_s);
	done = finish(db, ret < 0 ? ret : 0);
	return done < 0 ? done : ret;
}

static int
session_insert(struct store *db, const char *node,
	       const struct userdb_session *s)
{
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "INSERT INTO sessions (client_key, node, user, "
			  "addr4, addr6, endpoint, since) "
			  "VALUES (?, ?, ?, ?, ?, ?, ?) "
			  "ON CONFLICT (client_key) DO UPDATE SET "
			  "node = excluded.node, user = excluded.user, "
			  "addr4 = excluded.addr4, addr6 = excluded.addr6, "
			  "endpoint = excluded.endpoint, since = excluded.since "
			  "WHERE sessions.node = excluded.node OR "
			  "excluded.since >= sessions.since",
			  &st);

	if (ret < 0)
		return ret;
	bind_blob(st, 1, true, s->client_pub, USERDB_KEY_LEN);
	bind_text(st, 2, node);
	bind_text(st, 3, s->username);
	bind_blob(st, 4, s->has_addr4, s->addr4, sizeof(s->addr4));
	bind_blob(st, 5, s->has_addr6, s->addr6, sizeof(s->addr6));
	bind_text(st, 6, s->endpoint);
	bind_u64(st, 7, s->since_unix_s);
	return run(db, st, "record a session");
}

/*
 * Before the upsert, in its transaction and under its condition: when it
 * is about to take the key's row from another node, the event that tells
 * that node (and any other holding the key) to let the client go.
 */
static int
session_moved_event(struct store *db, const char *node,
		    const struct userdb_session *s)
{
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "INSERT INTO events (time, kind, user, client_key, "
			  "reason, expires) SELECT " STORE_NOW ", '"
			  USERDB_EVENT_SESSION_MOVED "', ?3, client_key, ?2, 0 "
			  "FROM sessions WHERE client_key = ?1 AND node <> ?2 "
			  "AND ?4 >= since",
			  &st);

	if (ret < 0)
		return ret;
	bind_blob(st, 1, true, s->client_pub, USERDB_KEY_LEN);
	bind_text(st, 2, node);
	bind_text(st, 3, s->username);
	bind_u64(st, 4, s->since_unix_s);
	return run(db, st, "record a session's move");
}

static int
op_session_up(struct userdb *base, const char *node,
	      const struct userdb_session *s)
{
	struct store *db = (struct store *)base;
	int ret = begin(db);

	if (ret < 0)
		return ret;
	ret = node_known(db, node);
	if (ret == 0)
		ret = -ENOENT;
	else if (ret > 0)
		ret = session_moved_event(db, node, s);
	if (ret == 0)
		ret = session_insert(db, node, s);
	return finish(db, ret);
}

static int
op_session_down(struct userdb *base, const char *node,
		const uint8_t client_pub[USERDB_KEY_LEN])
{
	struct store *db = (struct store *)base;
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "DELETE FROM sessions WHERE client_key = ? AND "
			  "node = ?",
			  &st);

	if (ret < 0)
		return ret;
	bind_blob(st, 1, true, client_pub, USERDB_KEY_LEN);
	bind_text(st, 2, node);
	return run(db, st, "remove a session");
}

/* Its sessions go with it (ON DELETE CASCADE). */
static int
op_node_leave(struct userdb *base, const char *node)
{
	struct store *db = (struct store *)base;
	sqlite3_stmt *st;
	int ret = prepare(db, "DELETE FROM nodes WHERE name = ?", &st);

	if (ret < 0)
		return ret;
	bind_text(st, 1, node);
	return run(db, st, "remove a node");
}

static int
nodes_expire(struct store *db, uint64_t max_age_s)
{
	sqlite3_stmt *st;
	int ret = prepare(db,
			  "DELETE FROM nodes WHERE beat < " STORE_NOW " - ?",
			  &st);

	if (ret < 0)
		return ret;
	bind_u64(st, 1, max_age_s);
	return run(db, st, "remove silent nodes");
}

static int
nodes_walk(struct store *db, userdb_node_fn fn, void *arg)
{
	struct userdb_node n;
	sqlite3_stmt *st;
	int rc = SQLITE_DONE;
	int ret = prepare(db,
			  "SELECT name, started, beat, MAX(" STORE_NOW
			  " - beat, 0) FROM nodes ORDER BY name",
			  &st);

	if (ret < 0)
		return ret;
	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&n, 0, sizeof(n));
		column_text(st, 0, n.name, sizeof(n.name));
		n.started_unix_s = column_u64(st, 1);
		n.beat_unix_s = column_u64(st, 2);
		n.beat_age_s = column_u64(st, 3);
		ret = fn(arg, &n);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = fail(db, "list the nodes");
	sqlite3_finalize(st);
	return ret;
}

static int
sessions_walk(struct store *db, userdb_session_fn fn, void *arg)
{
	struct userdb_session s;
	sqlite3_stmt *st;
	int rc = SQLITE_DONE;
	int ret = prepare(db,
			  "SELECT node, client_key, user, addr4, addr6, "
			  "endpoint, since FROM sessions "
			  "ORDER BY node, client_key",
			  &st);

	if (ret < 0)
		return ret;
	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&s, 0, sizeof(s));
		column_text(st, 0, s.node, sizeof(s.node));
		column_blob(st, 1, s.client_pub, sizeof(s.client_pub));
		column_text(st, 2, s.username, sizeof(s.username));
		s.has_addr4 = column_blob(st, 3, s.addr4, sizeof(s.addr4));
		s.has_addr6 = column_blob(st, 4, s.addr6, sizeof(s.addr6));
		column_text(st, 5, s.endpoint, sizeof(s.endpoint));
		s.since_unix_s = column_u64(st, 6);
		ret = fn(arg, &s);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = fail(db, "list the sessions");
	sqlite3_finalize(st);
	return ret;
}

static int
op_nodes_list(struct userdb *base, uint64_t max_age_s, userdb_node_fn node_fn,
	      userdb_session_fn session_fn, void *arg)
{
	struct store *db = (struct store *)base;
	int ret = begin(db);

	if (ret < 0)
		return ret;
	ret = nodes_expire(db, max_age_s);
	if (ret == 0)
		ret = nodes_walk(db, node_fn, arg);
	if (ret == 0)
		ret = sessions_walk(db, session_fn, arg);
	return finish(db, ret);
}

static const struct userdb_ops sqlite_ops = {
	.name = "sqlite",
	.close = op_close,
	.user_add = op_user_add,
	.users_add = op_users_add,
	.user_get = op_user_get,
	.user_del = op_user_del,
	.user_set_password = op_user_set_password,
	.user_set_totp = op_user_set_totp,
	.user_set_totp_step = op_user_set_totp_step,
	.user_set_enabled = op_user_set_enabled,
	.user_list = op_user_list,
	.recovery_replace = op_recovery_replace,
	.recovery_unused = op_recovery_unused,
	.devices_list = op_devices_list,
	.device_revoke = op_device_revoke,
	.subnets_set = op_subnets_set,
	.subnets_get = op_subnets_get,
	.subnets_list = op_subnets_list,
	.failure_get = op_failure_get,
	.failures_apply = op_failures_apply,
	.failures_list = op_failures_list,
	.failure_clear = op_failure_clear,
	.failures_prune = op_failures_prune,
	.grant = op_grant,
	.admission_get = op_admission_get,
	.admissions_list = op_admissions_list,
	.admission_readdress = op_admission_readdress,
	.admission_end = op_admission_end,
	.admissions_end_matching = op_admissions_end_matching,
	.admissions_prune = op_admissions_prune,
	.stamps_raise = op_stamps_raise,
	.events_head = op_events_head,
	.events_after = op_events_after,
	.events_prune = op_events_prune,
	.node_beat = op_node_beat,
	.session_up = op_session_up,
	.session_down = op_session_down,
	.node_leave = op_node_leave,
	.nodes_list = op_nodes_list,
};
