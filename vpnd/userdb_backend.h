/* SPDX-License-Identifier: MIT */
/*
 * What a user-store backend provides: one function per operation of
 * userdb.h, with the same meaning, arguments and errors, so callers never
 * know which engine holds the store. userdb.c picks the backend from the
 * store's name and calls through this table; each backend (SQLite in
 * userdb_sqlite.c, PostgreSQL in userdb_pg.c) fills one table and puts
 * struct userdb first in its own handle. Only backends include this file.
 */
#ifndef VPND_USERDB_BACKEND_H
#define VPND_USERDB_BACKEND_H

#include "userdb.h"

struct userdb_ops {
	const char *name; /* "sqlite", "postgresql" */
	void (*close)(struct userdb *db);
	int (*user_add)(struct userdb *db, const struct userdb_user *u);
	int (*users_add)(struct userdb *db, const struct userdb_user *u,
		size_t n, size_t *failed);
	int (*user_get)(struct userdb *db, const char *name,
		struct userdb_user *out);
	int (*user_del)(struct userdb *db, const char *name);
	int (*user_set_password)(struct userdb *db, const char *name,
		const char *pw_hash);
	int (*user_set_totp)(struct userdb *db, const char *name,
		const uint8_t *secret, size_t secret_len);
	int (*user_set_totp_step)(struct userdb *db, const char *name,
		const uint8_t *secret, size_t secret_len, int64_t step);
	int (*user_set_enabled)(struct userdb *db, const char *name,
		bool is_enabled);
	int (*user_list)(struct userdb *db, userdb_user_fn fn, void *arg);
	int (*recovery_replace)(struct userdb *db, const char *name,
		const struct userdb_recovery *codes, size_t n,
		uint64_t now_unix_s);
	int (*recovery_unused)(struct userdb *db, const char *name,
		struct userdb_recovery *out, size_t max, size_t *n_out);
	int (*devices_list)(struct userdb *db, const char *name,
		uint64_t now_unix_s, userdb_device_fn fn, void *arg);
	int (*device_revoke)(struct userdb *db,
		const uint8_t client_pub[USERDB_KEY_LEN], const char *reason,
		char user_out[USERDB_NAME_MAX + 1]);
	int (*subnets_set)(struct userdb *db, const char *name,
		const struct prefix *subnets, size_t n);
	int (*subnets_get)(struct userdb *db, const char *name,
		struct prefix *out, size_t max, size_t *n_out);
	int (*subnets_list)(struct userdb *db, userdb_subnet_fn fn, void *arg);
	int (*failure_get)(struct userdb *db,
		const struct userdb_failure_key *key,
		struct userdb_failure *out);
	int (*failures_apply)(struct userdb *db,
		const struct userdb_failure_key *keys, size_t n,
		userdb_failures_fn fn, void *arg);
	int (*failures_list)(struct userdb *db, userdb_failure_each_fn fn,
		void *arg);
	int (*failure_clear)(struct userdb *db,
		const struct userdb_failure_key *key);
	int (*failures_prune)(struct userdb *db, enum userdb_failure_kind kind,
		uint64_t now_unix_s, uint64_t idle_s, uint64_t per_failure_s);
	int (*grant)(struct userdb *db, const struct userdb_grant *g,
		userdb_assign_fn assign, void *arg,
		struct userdb_admission *out);
	int (*admission_get)(struct userdb *db,
		const uint8_t client_pub[USERDB_KEY_LEN], uint64_t now_unix_s,
		struct userdb_admission *out);
	int (*admissions_list)(struct userdb *db, uint64_t now_unix_s,
		userdb_admission_fn fn, void *arg);
	int (*admission_readdress)(struct userdb *db,
		const uint8_t client_pub[USERDB_KEY_LEN], uint64_t now_unix_s,
		userdb_assign_fn assign, void *arg,
		struct userdb_admission *out);
	int (*admission_end)(struct userdb *db,
		const uint8_t client_pub[USERDB_KEY_LEN], const char *reason);
	int (*admissions_end_matching)(struct userdb *db,
		const struct userdb_match *m, const char *reason);
	int (*admissions_prune)(struct userdb *db, uint64_t now_unix_s);
	int (*stamps_raise)(struct userdb *db, const struct userdb_stamp *v,
		size_t n);
	int (*events_head)(struct userdb *db, uint64_t *seq);
	int (*events_after)(struct userdb *db, uint64_t after_seq,
		userdb_event_fn fn, void *arg);
	int (*events_prune)(struct userdb *db, uint64_t max_age_s);
	/* nodes and their live sessions */
	int (*node_beat)(struct userdb *db, const char *node,
		uint64_t started_unix_s);
	int (*session_up)(struct userdb *db, const char *node,
		const struct userdb_session *s);
	int (*session_down)(struct userdb *db, const char *node,
		const uint8_t client_pub[USERDB_KEY_LEN]);
	int (*node_leave)(struct userdb *db, const char *node);
	int (*nodes_list)(struct userdb *db, uint64_t max_age_s,
		userdb_node_fn node_fn, userdb_session_fn session_fn,
		void *arg);
};

/* The first member of every backend's handle. */
struct userdb {
	const struct userdb_ops *ops;
};

/* Each opens its store as userdb_open() does (creating and migrating the
 * schema), given the store's name without the "sqlite:" prefix (a file
 * name) or a libpq connection string. 0 or -errno, after logging why. */
int userdb_sqlite_open(const char *path, struct userdb **out)
	__attribute__((warn_unused_result));
int userdb_pg_open(const char *conninfo, struct userdb **out)
	__attribute__((warn_unused_result));
/* userdb_open_lazy()'s: a server that does not answer yet is no error. */
int userdb_pg_open_lazy(const char *conninfo, struct userdb **out)
	__attribute__((warn_unused_result));

#endif
