// SPDX-License-Identifier: MIT
/*
 * The user store's front (see userdb.h): reads the store's name, opens
 * the backend it names (userdb_backend.h) and passes every operation to
 * it. It holds no state and speaks no SQL; what an operation means, and
 * its errors, are the backend's. Reading a name is pure, so vpnd.conf's
 * checks and vpnctl use it without opening anything.
 */
#include "userdb_backend.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* libpq expands one "dbname" holding a connection string: one level. */
#define SPEC_DEPTH_MAX 1

/* ---- names ------------------------------------------------------------------ */

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* libpq's whitespace between key=value pairs. */
static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static int
spec_check_text(const char *text, int depth, bool *has_password,
		const char **why);

/* A key's value that libpq would read as a connection string itself. */
static bool
is_conninfo(const char *v)
{
	return has_prefix(v, "postgresql://") || has_prefix(v, "postgres://") ||
	       strchr(v, '=') != NULL;
}

/*
 * One value of "key=value ...", quoted ('...', with \' and \\) or not,
 * unescaped into out; p is left after it. -EINVAL: an open quote, or a
 * value longer than out (only a dbname is read whole).
 */
static int
read_value(const char **p, char *out, size_t cap, const char **why)
{
	const char *s = *p;
	bool is_quoted = *s == '\'';
	size_t len = 0;

	if (is_quoted)
		s++;
	while (*s && (is_quoted ? *s != '\'' : !is_space(*s))) {
		if (*s == '\\' && s[1])
			s++;
		if (len + 1 < cap)
			out[len] = *s;
		len++;
		s++;
	}
	if (is_quoted && *s != '\'') {
		*why = "a quoted value has no closing quote";
		return -EINVAL;
	}
	if (cap)
		out[len < cap ? len : cap - 1] = '\0';
	*p = s + is_quoted;
	if (cap && len >= cap) {
		*why = "a dbname holding a connection string is too long";
		return -EINVAL;
	}
	return 0;
}

/* libpq's "key = value ..." string: which keys, and what a dbname holds. */
static int
check_keywords(const char *p, int depth, bool *has_password,
	       const char **why)
{
	char key[32], dbname[1024];
	size_t len;
	int ret;

	for (;;) {
		while (is_space(*p))
			p++;
		if (!*p)
			return 0;
		for (len = 0; p[len] && p[len] != '=' && !is_space(p[len]);)
			len++;
		snprintf(key, sizeof(key), "%.*s", (int)len, p);
		p += len;
		while (is_space(*p))
			p++;
		if (*p != '=') {
			*why = "a key of the connection string has no '=value'";
			return -EINVAL;
		}
		p++;
		while (is_space(*p))
			p++;
		if (len < sizeof(key) && strcmp(key, "password") == 0)
			*has_password = true;
		if (len < sizeof(key) && strcmp(key, "dbname") == 0) {
			ret = read_value(&p, dbname, sizeof(dbname), why);
			if (ret == 0 && depth < SPEC_DEPTH_MAX &&
			    is_conninfo(dbname))
				ret = spec_check_text(dbname, depth + 1,
						      has_password, why);
		} else {
			ret = read_value(&p, NULL, 0, why);
		}
		if (ret < 0)
			return ret;
	}
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Whether the URI parameter key [p, p + len) is "password", %-escapes
 * decoded as libpq decodes them. */
static bool
is_password_key(const char *p, size_t len)
{
	static const char want[] = "password";
	size_t i, n = 0;
	int hi, lo;
	char c;

	for (i = 0; i < len; i++, n++) {
		c = p[i];
		if (c == '%' && i + 2 < len &&
		    (hi = hex_digit(p[i + 1])) >= 0 &&
		    (lo = hex_digit(p[i + 2])) >= 0) {
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (n >= sizeof(want) - 1 || c != want[n])
			return false;
	}
	return n == sizeof(want) - 1;
}

/*
 * postgresql://[user[:password]@][host][/dbname][?key=value&...]: the
 * user part ends at the first '@' before any '/', as libpq reads it.
 */
static void
check_uri(const char *uri, bool *has_password)
{
	const char *p = strstr(uri, "://") + 3, *q;
	size_t len;

	len = strcspn(p, "@/");
	if (p[len] == '@' && memchr(p, ':', len))
		*has_password = true;
	q = strchr(p, '?');
	while (q) {
		q++;
		len = strcspn(q, "=&");
		if (is_password_key(q, len))
			*has_password = true;
		q = strchr(q, '&');
	}
}

static int
spec_check_text(const char *text, int depth, bool *has_password,
		const char **why)
{
	if (has_prefix(text, "postgresql://") || has_prefix(text, "postgres://")) {
		check_uri(text, has_password);
		return 0;
	}
	return check_keywords(text, depth, has_password, why);
}

int
userdb_spec_parse(const char *name, struct userdb_spec *out,
		  const char **why)
{
	const char *scheme, *eq;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	out->target = name;
	if (!*name) {
		*why = "the store's name is empty";
		return -EINVAL;
	}
	if (strchr(name, '\n')) {
		*why = "the store's name holds a newline";
		return -EINVAL;
	}
	if (has_prefix(name, "sqlite:")) {
		out->target = name + strlen("sqlite:");
		if (!*out->target) {
			*why = "no file name after \"sqlite:\"";
			return -EINVAL;
		}
		return 0;
	}
	if (name[0] == '/' || name[0] == '.')
		return 0;
	/* A URI of another kind says so before any '=' it holds. */
	scheme = strstr(name, "://");
	eq = strchr(name, '=');
	if (has_prefix(name, "postgresql://") || has_prefix(name, "postgres://") ||
	    (eq && (!scheme || eq < scheme))) {
		out->engine = USERDB_ENGINE_POSTGRESQL;
		return spec_check_text(name, 0, &out->has_password, why);
	}
	if (scheme) {
		*why = "not a store's name: sqlite:FILE, a file name, "
		       "postgresql://... or libpq's key=value string";
		return -EINVAL;
	}
	return 0;
}

int
userdb_spec_check(const char *name, const char **why)
{
	struct userdb_spec spec;
	int ret = userdb_spec_parse(name, &spec, why);

	if (ret == 0 && spec.has_password) {
		*why = "a password in the store's name can be read by others "
		       "(vpnd.conf, command lines): put it in a password "
		       "file (passfile=FILE or PGPASSFILE)";
		ret = -EPERM;
	}
	return ret;
}

const char *
userdb_role_name(enum userdb_role role)
{
	switch (role) {
	case USERDB_ROLE_ADMIN:
		return "admin";
	case USERDB_ROLE_SITE:
		return "site";
	default:
		return "user";
	}
}

bool
userdb_role_parse(const char *text, enum userdb_role *out)
{
	static const enum userdb_role all[] = { USERDB_ROLE_USER,
						USERDB_ROLE_ADMIN,
						USERDB_ROLE_SITE };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(all); i++) {
		if (strcmp(text, userdb_role_name(all[i])) == 0) {
			*out = all[i];
			return true;
		}
	}
	return false;
}

/* ---- opening ---------------------------------------------------------------- */

static int
store_open(const char *name, bool is_lazy, struct userdb **out)
{
	struct userdb_spec spec;
	const char *why;

	*out = NULL;
	if (!name)
		name = USERDB_DEFAULT_PATH;
	/* Not the name itself: a connection string may hold a password. */
	if (userdb_spec_parse(name, &spec, &why) < 0) {
		log_err("user store: %s", why);
		return -EINVAL;
	}
	if (spec.engine == USERDB_ENGINE_SQLITE)
		return userdb_sqlite_open(spec.target, out);
	return is_lazy ? userdb_pg_open_lazy(spec.target, out)
		       : userdb_pg_open(spec.target, out);
}

int
userdb_open(const char *name, struct userdb **out)
{
	return store_open(name, false, out);
}

int
userdb_open_lazy(const char *name, struct userdb **out)
{
	return store_open(name, true, out);
}

void
userdb_close(struct userdb *db)
{
	if (db)
		db->ops->close(db);
}

/* ---- operations: the backend's ---------------------------------------------- */

int
userdb_user_add(struct userdb *db, const struct userdb_user *u)
{
	return db->ops->user_add(db, u);
}

int
userdb_users_add(struct userdb *db, const struct userdb_user *u, size_t n,
		 size_t *failed)
{
	return db->ops->users_add(db, u, n, failed);
}

int
userdb_user_get(struct userdb *db, const char *name, struct userdb_user *out)
{
	return db->ops->user_get(db, name, out);
}

int
userdb_user_del(struct userdb *db, const char *name)
{
	return db->ops->user_del(db, name);
}

int
userdb_user_set_password(struct userdb *db, const char *name,
			 const char *pw_hash)
{
	return db->ops->user_set_password(db, name, pw_hash);
}

int
userdb_user_set_totp(struct userdb *db, const char *name,
		     const uint8_t *secret, size_t secret_len)
{
	return db->ops->user_set_totp(db, name, secret, secret_len);
}

int
userdb_user_set_totp_step(struct userdb *db, const char *name,
			  const uint8_t *secret, size_t secret_len,
			  int64_t step)
{
	return db->ops->user_set_totp_step(db, name, secret, secret_len, step);
}

int
userdb_user_set_enabled(struct userdb *db, const char *name, bool is_enabled)
{
	return db->ops->user_set_enabled(db, name, is_enabled);
}

int
userdb_user_list(struct userdb *db, userdb_user_fn fn, void *arg)
{
	return db->ops->user_list(db, fn, arg);
}

int
userdb_recovery_replace(struct userdb *db, const char *name,
			const struct userdb_recovery *codes, size_t n,
			uint64_t now_unix_s)
{
	return db->ops->recovery_replace(db, name, codes, n, now_unix_s);
}

int
userdb_recovery_unused(struct userdb *db, const char *name,
		       struct userdb_recovery *out, size_t max, size_t *n_out)
{
	return db->ops->recovery_unused(db, name, out, max, n_out);
}

int
userdb_devices_list(struct userdb *db, const char *name, uint64_t now_unix_s,
		    userdb_device_fn fn, void *arg)
{
	return db->ops->devices_list(db, name, now_unix_s, fn, arg);
}

int
userdb_device_revoke(struct userdb *db,
		     const uint8_t client_pub[USERDB_KEY_LEN],
		     const char *reason, char user_out[USERDB_NAME_MAX + 1])
{
	return db->ops->device_revoke(db, client_pub, reason, user_out);
}

int
userdb_subnets_set(struct userdb *db, const char *name,
		   const struct prefix *subnets, size_t n)
{
	return db->ops->subnets_set(db, name, subnets, n);
}

int
userdb_subnets_get(struct userdb *db, const char *name, struct prefix *out,
		   size_t max, size_t *n_out)
{
	return db->ops->subnets_get(db, name, out, max, n_out);
}

int
userdb_subnets_list(struct userdb *db, userdb_subnet_fn fn, void *arg)
{
	return db->ops->subnets_list(db, fn, arg);
}

int
userdb_failure_get(struct userdb *db, const struct userdb_failure_key *key,
		   struct userdb_failure *out)
{
	return db->ops->failure_get(db, key, out);
}

int
userdb_failures_apply(struct userdb *db, const struct userdb_failure_key *keys,
		      size_t n, userdb_failures_fn fn, void *arg)
{
	return db->ops->failures_apply(db, keys, n, fn, arg);
}

int
userdb_failures_list(struct userdb *db, userdb_failure_each_fn fn, void *arg)
{
	return db->ops->failures_list(db, fn, arg);
}

int
userdb_failure_clear(struct userdb *db, const struct userdb_failure_key *key)
{
	return db->ops->failure_clear(db, key);
}

int
userdb_failures_prune(struct userdb *db, enum userdb_failure_kind kind,
		      uint64_t now_unix_s, uint64_t idle_s,
		      uint64_t per_failure_s)
{
	return db->ops->failures_prune(db, kind, now_unix_s, idle_s,
				       per_failure_s);
}

int
userdb_grant(struct userdb *db, const struct userdb_grant *g,
	     userdb_assign_fn assign, void *arg, struct userdb_admission *out)
{
	return db->ops->grant(db, g, assign, arg, out);
}

int
userdb_admission_get(struct userdb *db,
		     const uint8_t client_pub[USERDB_KEY_LEN],
		     uint64_t now_unix_s, struct userdb_admission *out)
{
	return db->ops->admission_get(db, client_pub, now_unix_s, out);
}

int
userdb_admissions_list(struct userdb *db, uint64_t now_unix_s,
		       userdb_admission_fn fn, void *arg)
{
	return db->ops->admissions_list(db, now_unix_s, fn, arg);
}

int
userdb_admission_readdress(struct userdb *db,
			   const uint8_t client_pub[USERDB_KEY_LEN],
			   uint64_t now_unix_s, userdb_assign_fn assign,
			   void *arg, struct userdb_admission *out)
{
	return db->ops->admission_readdress(db, client_pub, now_unix_s, assign,
					    arg, out);
}

int
userdb_admission_end(struct userdb *db,
		     const uint8_t client_pub[USERDB_KEY_LEN],
		     const char *reason)
{
	return db->ops->admission_end(db, client_pub, reason);
}

int
userdb_admissions_end_matching(struct userdb *db,
			       const struct userdb_match *m,
			       const char *reason)
{
	return db->ops->admissions_end_matching(db, m, reason);
}

int
userdb_admissions_prune(struct userdb *db, uint64_t now_unix_s)
{
	return db->ops->admissions_prune(db, now_unix_s);
}

int
userdb_stamps_raise(struct userdb *db, const struct userdb_stamp *v, size_t n)
{
	return db->ops->stamps_raise(db, v, n);
}

int
userdb_events_head(struct userdb *db, uint64_t *seq)
{
	return db->ops->events_head(db, seq);
}

int
userdb_events_after(struct userdb *db, uint64_t after_seq, userdb_event_fn fn,
		    void *arg)
{
	return db->ops->events_after(db, after_seq, fn, arg);
}

int
userdb_events_prune(struct userdb *db, uint64_t max_age_s)
{
	return db->ops->events_prune(db, max_age_s);
}

/* Nodes: a backend without them answers -EOPNOTSUPP (vpnd goes on). */

int
userdb_node_beat(struct userdb *db, const char *node, uint64_t started_unix_s)
{
	if (!db->ops->node_beat)
		return -EOPNOTSUPP;
	return db->ops->node_beat(db, node, started_unix_s);
}

int
userdb_session_up(struct userdb *db, const char *node,
		  const struct userdb_session *s)
{
	if (!db->ops->session_up)
		return -EOPNOTSUPP;
	return db->ops->session_up(db, node, s);
}

int
userdb_session_down(struct userdb *db, const char *node,
		    const uint8_t client_pub[USERDB_KEY_LEN])
{
	if (!db->ops->session_down)
		return -EOPNOTSUPP;
	return db->ops->session_down(db, node, client_pub);
}

int
userdb_node_leave(struct userdb *db, const char *node)
{
	if (!db->ops->node_leave)
		return -EOPNOTSUPP;
	return db->ops->node_leave(db, node);
}

int
userdb_nodes_list(struct userdb *db, uint64_t max_age_s,
		  userdb_node_fn node_fn, userdb_session_fn session_fn,
		  void *arg)
{
	if (!db->ops->nodes_list)
		return -EOPNOTSUPP;
	return db->ops->nodes_list(db, max_age_s, node_fn, session_fn, arg);
}
