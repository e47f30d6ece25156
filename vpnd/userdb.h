/* SPDX-License-Identifier: MIT */
/*
 * The user store, shared by vpnd (one connection per worker thread) and
 * vpnctl: accounts, failure counters, admissions, address leases and
 * recovery codes. The interface is a set of operations, each one
 * transaction, so another backend (PostgreSQL) can implement this header
 * unchanged; nothing outside userdb.c speaks SQL.
 *
 * The store holds and returns what it is given; decisions (is this code
 * good, how long a lock lasts, which address is free enough) are made by
 * the caller, through callbacks where they must happen inside a
 * transaction. Functions returning int give 0 or a negative errno:
 * -ENOENT no such user or row, -EEXIST a name or address already taken,
 * -EALREADY a TOTP step or recovery code already consumed, -ENOSPC the
 * caller's address choice failed, -EIO anything the store itself refused
 * (logged).
 */
#ifndef VPND_USERDB_H
#define VPND_USERDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "login.h"
#include "totp.h"

#define USERDB_DEFAULT_PATH "/var/lib/vpnd/users.db"
#define USERDB_NAME_MAX LOGIN_USERNAME_MAX
#define USERDB_HASH_MAX 128 /* crypto_pwhash_STRBYTES */
#define USERDB_KEY_LEN 32   /* a client's static public key */
#define USERDB_RECOVERY_SALT_LEN 16
#define USERDB_RECOVERY_HASH_LEN 32
#define USERDB_RECOVERY_MAX 32 /* unused codes read per user */

struct userdb;

enum userdb_role {
	USERDB_ROLE_USER = 0,
	USERDB_ROLE_ADMIN = 1,
	USERDB_ROLE_SITE = 2,
};

struct userdb_user {
	char name[USERDB_NAME_MAX + 1];
	char pw_hash[USERDB_HASH_MAX];        /* crypto_pwhash_str output */
	uint8_t totp_secret[TOTP_SECRET_MAX];
	size_t totp_secret_len;
	struct totp_params totp;
	int64_t last_step;                    /* last accepted TOTP step; -1 */
	bool is_enabled;
	enum userdb_role role;
	bool has_addr4;                       /* fixed tunnel addresses */
	uint8_t addr4[4];
	bool has_addr6;
	uint8_t addr6[16];
	bool has_lifetime;                    /* own session lifetime */
	uint32_t lifetime_s;
	uint64_t created_unix_s;
};

/* Failure counters are kept per user name (known or not) and per source. */
enum userdb_failure_kind {
	USERDB_FAILURE_USER = 0,
	USERDB_FAILURE_SOURCE = 1,
};

struct userdb_failure_key {
	enum userdb_failure_kind kind;
	const char *key; /* a user name, or "192.0.2.1", "2001:db8::/64" */
};

struct userdb_failure {
	uint32_t count;
	uint64_t last_unix_s;         /* last failure; 0: none */
	uint64_t locked_until_unix_s; /* 0: never locked */
};

struct userdb_admission {
	uint8_t client_pub[USERDB_KEY_LEN];
	char username[USERDB_NAME_MAX + 1];
	uint64_t created_unix_s;
	uint64_t expires_unix_s;
	bool has_addr4;
	uint8_t addr4[4];
	bool has_addr6;
	uint8_t addr6[16];
};

struct userdb_recovery {
	int64_t id;
	uint8_t salt[USERDB_RECOVERY_SALT_LEN];
	uint8_t hash[USERDB_RECOVERY_HASH_LEN];
};

/* ---- opening ---- */

/*
 * Opens (creating the file 0600, its parent directory 0700 and the schema
 * on first use; migrating an older schema) the store at `path`, or
 * USERDB_DEFAULT_PATH when NULL. Safe to call from several threads and
 * processes at once. 0 or -errno, after logging why.
 */
int userdb_open(const char *path, struct userdb **out)
	__attribute__((warn_unused_result));
void userdb_close(struct userdb *db);

/* ---- accounts (vpnctl) ---- */

/* Adds `u` (name, hash, TOTP, role, addresses, lifetime, created). -EEXIST
 * if the name, or a fixed address, belongs to another user. */
int userdb_user_add(struct userdb *db, const struct userdb_user *u)
	__attribute__((warn_unused_result));

/* The whole account, secrets included: wipe `out` after use. */
int userdb_user_get(struct userdb *db, const char *name,
		    struct userdb_user *out)
	__attribute__((warn_unused_result));

/* Deletes the account and, with it, its admissions, leases and recovery
 * codes. */
int userdb_user_del(struct userdb *db, const char *name)
	__attribute__((warn_unused_result));

int userdb_user_set_password(struct userdb *db, const char *name,
			     const char *pw_hash)
	__attribute__((warn_unused_result));

/* Disabling also ends every admission of the account. */
int userdb_user_set_enabled(struct userdb *db, const char *name,
			    bool is_enabled) __attribute__((warn_unused_result));

/*
 * Calls fn for every account in name order, with pw_hash and totp_secret
 * left empty (they are never read). A non-zero return from fn stops the
 * walk and is returned.
 */
typedef int (*userdb_user_fn)(void *arg, const struct userdb_user *u);
int userdb_user_list(struct userdb *db, userdb_user_fn fn, void *arg)
	__attribute__((warn_unused_result));

/* Replaces all recovery codes of the account with these n hashes. */
int userdb_recovery_replace(struct userdb *db, const char *name,
			    const struct userdb_recovery *codes, size_t n,
			    uint64_t now_unix_s)
	__attribute__((warn_unused_result));

/* Up to `max` unused recovery codes of `name` (none for an unknown name);
 * *n_out is how many. */
int userdb_recovery_unused(struct userdb *db, const char *name,
			   struct userdb_recovery *out, size_t max,
			   size_t *n_out) __attribute__((warn_unused_result));

/* ---- failure counters ---- */

/* The counter of `key`, all zero if it has none. */
int userdb_failure_get(struct userdb *db, const struct userdb_failure_key *key,
		       struct userdb_failure *out)
	__attribute__((warn_unused_result));

/*
 * In one transaction, reads each of the n counters (zero if absent), lets
 * fn change it and writes it back: the caller decides, the store makes the
 * read-modify-write atomic across threads and processes.
 */
typedef void (*userdb_failure_fn)(void *arg, struct userdb_failure *f);
int userdb_failures_update(struct userdb *db,
			   const struct userdb_failure_key *keys, size_t n,
			   userdb_failure_fn fn, void *arg)
	__attribute__((warn_unused_result));

/* Forgets counters not locked at now whose last failure is more than
 * idle_s old. Returns how many, or -errno. */
int userdb_failures_prune(struct userdb *db, uint64_t now_unix_s,
			  uint64_t idle_s);

/* ---- logins, admissions, leases ---- */

/*
 * What a successful login writes. Exactly one of has_step (a TOTP step to
 * consume: it must still be after the account's last step) and
 * has_recovery (a recovery code id to mark used: it must still be unused).
 */
struct userdb_grant {
	const char *username;
	uint8_t client_pub[USERDB_KEY_LEN];
	uint64_t now_unix_s;
	uint32_t lifetime_s;      /* unless the account has its own */
	bool has_step;
	int64_t step;
	bool has_recovery;
	int64_t recovery_id;
	const struct userdb_failure_key *reset; /* counters to clear */
	size_t n_reset;
};

/*
 * What the store holds at the moment of the grant, for choosing addresses:
 * the account's fixed addresses, the addresses this user and key had last
 * time, and the addresses taken by others (live admissions of other keys,
 * other accounts' fixed addresses), sorted, 4 or 16 bytes each.
 */
struct userdb_addr_view {
	bool has_fixed4, has_fixed6;
	uint8_t fixed4[4], fixed6[16];
	bool has_lease4, has_lease6;
	uint8_t lease4[4], lease6[16];
	const uint8_t *taken4;
	size_t n_taken4;
	const uint8_t *taken6;
	size_t n_taken6;
};

/* Fills adm->has_addr4/addr4/has_addr6/addr6; false: nothing is free. */
typedef bool (*userdb_assign_fn)(void *arg, const struct userdb_addr_view *v,
				 struct userdb_admission *adm);

/*
 * In one transaction: checks the account is still enabled and the step or
 * recovery code still unconsumed, consumes it, clears the given failure
 * counters, lets assign choose the addresses, ends other admissions
 * holding them, stores the admission (replacing any of this key) and the
 * lease. On any error nothing is written. *out is the admission stored.
 * -ENOENT: account gone or disabled; -EALREADY; -ENOSPC (assign said no).
 */
int userdb_grant(struct userdb *db, const struct userdb_grant *g,
		 userdb_assign_fn assign, void *arg,
		 struct userdb_admission *out) __attribute__((warn_unused_result));

/* The admission of client_pub if it expires after now and its account is
 * enabled; -ENOENT otherwise. */
int userdb_admission_get(struct userdb *db,
			 const uint8_t client_pub[USERDB_KEY_LEN],
			 uint64_t now_unix_s, struct userdb_admission *out)
	__attribute__((warn_unused_result));

/* Ends the admission of client_pub (0 also when there was none). */
int userdb_admission_end(struct userdb *db,
			 const uint8_t client_pub[USERDB_KEY_LEN]);

/* Removes admissions expired at now_unix_s; returns how many, or -errno. */
int userdb_admissions_prune(struct userdb *db, uint64_t now_unix_s);

/* "user", "admin", "site" and back; false for anything else. */
const char *userdb_role_name(enum userdb_role role);
bool userdb_role_parse(const char *text, enum userdb_role *out);

#endif
