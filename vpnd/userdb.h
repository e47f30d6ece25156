/* SPDX-License-Identifier: MIT */
/*
 * The user store, shared by vpnd (one connection per worker thread) and
 * vpnctl: accounts, failure counters, admissions, address leases,
 * recovery codes and a journal of events. The interface is a set of
 * operations, each one transaction, implemented by a backend (SQLite in
 * userdb_sqlite.c, PostgreSQL in userdb_pg.c) that userdb.c picks from
 * the store's name; nothing outside the backends speaks SQL.
 *
 * Events tell every vpnd sharing the store what another program changed
 * that its live sessions must follow: an account change that ends a
 * user's admissions appends, in the same transaction, one event per
 * admission it ended. Readers poll with userdb_events_after() (SQLite:
 * PRAGMA data_version makes an idle poll cost one page-cache check;
 * PostgreSQL would LISTEN for a NOTIFY sent by the same transaction).
 *
 * The store holds and returns what it is given; decisions (is this code
 * good, how long a lock lasts, which address is free enough) are made by
 * the caller, through callbacks where they must happen inside a
 * transaction. Functions returning int give 0 or a negative errno:
 * -ENOENT no such user or row, -EEXIST a name or address already taken,
 * -EALREADY a TOTP step or recovery code already consumed, -ENOSPC the
 * caller's address choice failed, -ENOTCONN the store cannot be reached
 * now (a database server down: the caller answers BUSY and retries; the
 * backend reconnects by itself), -EIO anything the store itself refused
 * (logged).
 */
#ifndef VPND_USERDB_H
#define VPND_USERDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "login.h"
#include "prefix.h"
#include "totp.h"
#include "tstamp.h"

#define USERDB_DEFAULT_PATH "/var/lib/vpnd/users.db"
#define USERDB_NAME_MAX LOGIN_USERNAME_MAX
#define USERDB_HASH_MAX 128 /* crypto_pwhash_STRBYTES */
#define USERDB_KEY_LEN 32   /* a client's static public key */
#define USERDB_RECOVERY_SALT_LEN 16
#define USERDB_RECOVERY_HASH_LEN 32
#define USERDB_RECOVERY_MAX 32 /* unused codes read per user */
#define USERDB_STAMP_LEN TAI64N_LEN /* a handshake's timestamp */
#define USERDB_REASON_MAX 63

/* Events, and why an admission ended (the REASON vpnd sends). */
#define USERDB_EVENT_ADMISSION_END "admission-end"
/* An admission that stays but whose routes changed (a site's subnets):
 * vpnd reads it again. */
#define USERDB_EVENT_ADMISSION_CHANGED "admission-changed"
/* A session recorded by one node took the key's row from another (the
 * client moved): the reason holds the node it is on now, and a node
 * still holding a peer for that key lets it go. The admission stays. */
#define USERDB_EVENT_SESSION_MOVED "session-moved"
#define USERDB_REASON_PASSWORD "password changed"
#define USERDB_REASON_TOTP "authenticator reset"
#define USERDB_REASON_DISABLED "account disabled"
#define USERDB_REASON_DELETED "account deleted"
#define USERDB_REASON_LOGOUT "logged out"
#define USERDB_REASON_ADDRESS "address given to its owner"
#define USERDB_REASON_EXPIRED "session expired"
#define USERDB_REASON_KICKED "ended by an administrator"
#define USERDB_REASON_REVOKED "device revoked"

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
	bool has_last_login;                  /* read only: set by grants */
	uint64_t last_login_unix_s;
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
	bool has_stamp;                    /* greatest handshake timestamp */
	uint8_t stamp[USERDB_STAMP_LEN];   /* seen from this key (TAI64N) */
};

struct userdb_recovery {
	int64_t id;
	uint8_t salt[USERDB_RECOVERY_SALT_LEN];
	uint8_t hash[USERDB_RECOVERY_HASH_LEN];
};

/* ---- opening ---- */

/*
 * Opens (creating the schema on first use, migrating an older one) the
 * store `name` names (see userdb_spec_parse), or the SQLite file
 * USERDB_DEFAULT_PATH when NULL. A SQLite file is created 0600, its
 * parent directory 0700. Safe to call from several threads and processes
 * at once. 0 or -errno, after logging why.
 */
int userdb_open(const char *name, struct userdb **out)
	__attribute__((warn_unused_result));
/*
 * As userdb_open(), for vpnd, which must start while its database server
 * is down (a node rebooted during maintenance): a PostgreSQL server that
 * does not answer yet is no error. The handle is made; the first call
 * that finds the server up connects and checks (creates, migrates) the
 * schema; until then every operation answers -ENOTCONN. A server that
 * answers but refuses (a wrong password, no such database: -EACCES) or
 * holds a newer schema still fails here. SQLite: as userdb_open().
 */
int userdb_open_lazy(const char *name, struct userdb **out)
	__attribute__((warn_unused_result));
void userdb_close(struct userdb *db);

enum userdb_engine {
	USERDB_ENGINE_SQLITE,
	USERDB_ENGINE_POSTGRESQL,
};

/* What a store's name says: `target` points into the name. */
struct userdb_spec {
	enum userdb_engine engine;
	const char *target;  /* SQLite: the file name; else libpq's conninfo */
	bool has_password;   /* the conninfo carries a password */
};

/*
 * Reads a store's name: "sqlite:FILE", or a file name (starting with '/'
 * or '.', or holding neither '=' nor "://"), is SQLite; a URI
 * "postgresql://..." or "postgres://...", or libpq's "key=value ..."
 * string, is PostgreSQL. No I/O. 0, or -EINVAL with *why saying what is
 * wrong (a static string).
 */
int userdb_spec_parse(const char *name, struct userdb_spec *out,
		      const char **why) __attribute__((warn_unused_result));

/* As userdb_spec_parse, and refuses (-EPERM) a name that carries a
 * password: vpnd.conf and command lines are readable by others. */
int userdb_spec_check(const char *name, const char **why)
	__attribute__((warn_unused_result));

/* ---- accounts (vpnctl) ---- */

/* Adds `u` (name, hash, TOTP, role, addresses, lifetime, created, and
 * last_step when positive: a step consumed by the code that confirmed the
 * enrolment; otherwise none). -EEXIST if the name, or a fixed address,
 * belongs to another user. */
int userdb_user_add(struct userdb *db, const struct userdb_user *u)
	__attribute__((warn_unused_result));

/*
 * Adds the n accounts as userdb_user_add() does, all in one transaction:
 * all of them, or (on any error) none. On -EEXIST, *failed is the index
 * of the account whose name or fixed address was taken.
 */
int userdb_users_add(struct userdb *db, const struct userdb_user *u,
		     size_t n, size_t *failed)
	__attribute__((warn_unused_result));

/* The whole account, secrets included: wipe `out` after use. */
int userdb_user_get(struct userdb *db, const char *name,
		    struct userdb_user *out)
	__attribute__((warn_unused_result));

/*
 * Deletes the account and, with it, its admissions (one event each,
 * USERDB_REASON_DELETED), leases and recovery codes.
 */
int userdb_user_del(struct userdb *db, const char *name)
	__attribute__((warn_unused_result));

/* Sets the password hash; ends the account's admissions (one event each,
 * USERDB_REASON_PASSWORD). */
int userdb_user_set_password(struct userdb *db, const char *name,
			     const char *pw_hash)
	__attribute__((warn_unused_result));

/* Sets a new TOTP secret (same algorithm, digits and period); ends the
 * account's admissions (one event each, USERDB_REASON_TOTP). */
int userdb_user_set_totp(struct userdb *db, const char *name,
			 const uint8_t *secret, size_t secret_len)
	__attribute__((warn_unused_result));

/* As userdb_user_set_totp(), and consumes `step` (the step of the code
 * that confirmed the new secret: it cannot then log in), in the same
 * transaction. */
int userdb_user_set_totp_step(struct userdb *db, const char *name,
			      const uint8_t *secret, size_t secret_len,
			      int64_t step) __attribute__((warn_unused_result));

/* Disabling also ends every admission of the account (one event each,
 * USERDB_REASON_DISABLED). */
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

/* ---- devices (vpnctl) ---- */

/* A client key that logged in as a user: it has a lease (its last
 * addresses), an admission, or both. */
struct userdb_device {
	uint8_t client_pub[USERDB_KEY_LEN];
	bool has_last_login;            /* when the key last logged in */
	uint64_t last_login_unix_s;
	bool has_addr4;                 /* the admission's addresses when */
	uint8_t addr4[4];               /* admitted, else the lease's */
	bool has_addr6;
	uint8_t addr6[16];
	bool is_admitted;               /* an admission valid at now */
	uint64_t expires_unix_s;        /* its expiry; 0 when not admitted */
};

/*
 * Calls fn for every device of the account `name` (most recent login
 * first), from one snapshot; fn must not use the store. -ENOENT if there
 * is no such account. A non-zero return from fn stops the walk and is
 * returned.
 */
typedef int (*userdb_device_fn)(void *arg, const struct userdb_device *d);
int userdb_devices_list(struct userdb *db, const char *name,
			uint64_t now_unix_s, userdb_device_fn fn, void *arg)
	__attribute__((warn_unused_result));

/*
 * Revokes a device, in one transaction: ends the admission of client_pub
 * (one event giving `reason`, so a live session of it ends) and forgets
 * its leases, so it must log in again and gets no address kept for it.
 * user_out gets the account it belonged to. Returns how many admissions
 * ended (0 or 1); -ENOENT if the key had neither admission nor lease.
 */
int userdb_device_revoke(struct userdb *db,
			 const uint8_t client_pub[USERDB_KEY_LEN],
			 const char *reason,
			 char user_out[USERDB_NAME_MAX + 1]);

/* ---- site subnets ---- */

/* The most subnets one site account may route. */
#define USERDB_SUBNETS_MAX 16

/* Replaces the LAN subnets behind the account's gateway with these n
 * (network addresses with their lengths; no host bits). -ENOENT: no
 * such user; -EEXIST: a subnet already belongs to another account. */
int userdb_subnets_set(struct userdb *db, const char *name,
		       const struct prefix *subnets, size_t n)
	__attribute__((warn_unused_result));
/* Up to max subnets of the account; *n_out is how many. */
int userdb_subnets_get(struct userdb *db, const char *name,
		       struct prefix *out, size_t max, size_t *n_out)
	__attribute__((warn_unused_result));
/* Every account's subnets (to check a new one against); fn returning
 * non-zero stops the walk and is returned. */
typedef int (*userdb_subnet_fn)(void *arg, const char *user,
				const struct prefix *p);
int userdb_subnets_list(struct userdb *db, userdb_subnet_fn fn, void *arg)
	__attribute__((warn_unused_result));

/* ---- failure counters ---- */

/* The counter of `key`, all zero if it has none. */
int userdb_failure_get(struct userdb *db, const struct userdb_failure_key *key,
		       struct userdb_failure *out)
	__attribute__((warn_unused_result));

/*
 * In one transaction, reads the n counters (all zero if absent) and lets
 * fn see them together and change them; if fn returns true they are
 * written back (a counter left at zero count and no lock is removed),
 * otherwise nothing is written. The caller decides, the store makes the
 * read-decide-write atomic across threads and processes, so a limit
 * checked and counted here is exact however many logins run at once.
 */
typedef bool (*userdb_failures_fn)(void *arg, struct userdb_failure *f,
				   size_t n);
int userdb_failures_apply(struct userdb *db,
			  const struct userdb_failure_key *keys, size_t n,
			  userdb_failures_fn fn, void *arg)
	__attribute__((warn_unused_result));

/*
 * Calls fn for every counter, users first, each kind in key order. A
 * non-zero return from fn stops the walk and is returned.
 */
typedef int (*userdb_failure_each_fn)(void *arg,
				      const struct userdb_failure_key *key,
				      const struct userdb_failure *f);
int userdb_failures_list(struct userdb *db, userdb_failure_each_fn fn,
			 void *arg) __attribute__((warn_unused_result));

/* Removes the counter of `key` (its count and its lock); -ENOENT if it
 * had none. */
int userdb_failure_clear(struct userdb *db,
			 const struct userdb_failure_key *key)
	__attribute__((warn_unused_result));

/*
 * Forgets counters of `kind` not locked at now whose last failure is more
 * than idle_s + count * per_failure_s old (the caller's rule for when a
 * counter is worth nothing). Returns how many, or -errno.
 */
int userdb_failures_prune(struct userdb *db, enum userdb_failure_kind kind,
			  uint64_t now_unix_s, uint64_t idle_s,
			  uint64_t per_failure_s);

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
	/* counters to change, as userdb_failures_apply() does */
	const struct userdb_failure_key *adjust;
	size_t n_adjust;
	userdb_failures_fn adjust_fn;
	void *adjust_arg;
	bool has_stamp;                   /* the handshake's timestamp: kept */
	uint8_t stamp[USERDB_STAMP_LEN];  /* if greater than the stored one */
	/* The credentials the caller verified: the grant is refused
	 * (-ESTALE) if the account has others now (a password change or a
	 * TOTP reset since), whose event could not end this admission. */
	const char *pw_hash;
	const uint8_t *totp_secret;
	size_t totp_secret_len;
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

/* Fills adm->has_addr4/addr4/has_addr6/addr6 (on entry: what the
 * admission holds now, nothing for a new one); false: nothing is free. */
typedef bool (*userdb_assign_fn)(void *arg, const struct userdb_addr_view *v,
				 struct userdb_admission *adm);

/*
 * In one transaction: checks the account is still enabled and the step or
 * recovery code still unconsumed, consumes it, clears the given failure
 * counters and adjusts the others, lets assign choose the addresses, ends
 * other admissions holding them (one event each, USERDB_REASON_ADDRESS),
 * stores the admission (replacing any of this key, keeping the greater
 * stamp) and the lease, and records the time as the account's and the
 * key's last login. On any error nothing is written. *out is the
 * admission stored.
 * -ENOENT: account gone or disabled; -EALREADY; -ENOSPC (assign said no);
 * -ESTALE: its password or TOTP secret changed since they were verified.
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

/*
 * Calls fn for every admission that expires after now of an enabled
 * account, in key order, from one snapshot. fn must not use the store; a
 * non-zero return stops the walk and is returned.
 */
typedef int (*userdb_admission_fn)(void *arg,
				   const struct userdb_admission *adm);
int userdb_admissions_list(struct userdb *db, uint64_t now_unix_s,
			   userdb_admission_fn fn, void *arg)
	__attribute__((warn_unused_result));

/*
 * In one transaction: reads the admission of client_pub (as
 * userdb_admission_get), lets assign choose its addresses again from the
 * same view a grant gets, ends other admissions holding them (one event
 * each, USERDB_REASON_ADDRESS) and stores the addresses with the
 * admission and the lease. *out is the admission as stored. -ENOENT: no
 * valid admission; -ENOSPC: assign said no (nothing is written).
 */
int userdb_admission_readdress(struct userdb *db,
			       const uint8_t client_pub[USERDB_KEY_LEN],
			       uint64_t now_unix_s, userdb_assign_fn assign,
			       void *arg, struct userdb_admission *out)
	__attribute__((warn_unused_result));

/* Ends the admission of client_pub (0 also when there was none), with one
 * event giving `reason` if there was one. */
int userdb_admission_end(struct userdb *db,
			 const uint8_t client_pub[USERDB_KEY_LEN],
			 const char *reason);

/* Which admissions an administrator ends (a kick). */
enum userdb_match_kind {
	USERDB_MATCH_USER,  /* every admission of an account */
	USERDB_MATCH_KEY,   /* the admission of a client key */
	USERDB_MATCH_ADDR4, /* the admission holding a tunnel address */
	USERDB_MATCH_ADDR6,
};

struct userdb_match {
	enum userdb_match_kind kind;
	const char *user;
	uint8_t key[USERDB_KEY_LEN];
	uint8_t addr[16];
};

/* Ends the admissions m matches, one event each giving `reason`, in one
 * transaction; returns how many, or -errno. */
int userdb_admissions_end_matching(struct userdb *db,
				   const struct userdb_match *m,
				   const char *reason);

/* Removes admissions expired at now_unix_s, one event each (reason
 * USERDB_REASON_EXPIRED); returns how many, or -errno. */
int userdb_admissions_prune(struct userdb *db, uint64_t now_unix_s);

struct userdb_stamp {
	uint8_t client_pub[USERDB_KEY_LEN];
	uint8_t stamp[USERDB_STAMP_LEN];
};

/*
 * In one transaction, raises the stamp of each key's admission to the one
 * given: a stored stamp is never lowered (TAI64N compares as bytes), and a
 * key without an admission is skipped.
 */
int userdb_stamps_raise(struct userdb *db, const struct userdb_stamp *v,
			size_t n) __attribute__((warn_unused_result));

/* ---- events ---- */

struct userdb_event {
	uint64_t seq;        /* increases in commit order, never reused */
	uint64_t time_unix_s; /* by the store's clock */
	char kind[32];       /* USERDB_EVENT_* */
	char username[USERDB_NAME_MAX + 1];
	uint8_t client_pub[USERDB_KEY_LEN];
	char reason[USERDB_REASON_MAX + 1];
	uint64_t expires_unix_s; /* of the admission it ended; 0: unknown */
};

/* The greatest seq ever given (0 if none), pruned events included. */
int userdb_events_head(struct userdb *db, uint64_t *seq)
	__attribute__((warn_unused_result));

/*
 * Calls fn for each event after `after_seq`, in order, from one snapshot;
 * fn must not use the store. Returns how many, or -errno. When nothing
 * was committed since this connection last asked (and after_seq is not
 * older than then), answers 0 without reading the events.
 */
typedef void (*userdb_event_fn)(void *arg, const struct userdb_event *e);
int userdb_events_after(struct userdb *db, uint64_t after_seq,
			userdb_event_fn fn, void *arg);

/* Removes events older than max_age_s by the store's clock; returns how
 * many, or -errno. */
int userdb_events_prune(struct userdb *db, uint64_t max_age_s);

/* ---- nodes and their live sessions ---- */

/*
 * Every vpnd sharing a store is a node, named in its vpnd.conf. It beats
 * (says it is alive) every few seconds and records the sessions it holds,
 * so that any node, or vpnctl at the store, lists the sessions of all. A
 * node whose beat is too old by the store's clock died without leaving:
 * the next listing removes it and its sessions. A client key has one
 * session in the whole store: recording it on one node takes it from any
 * other (the client moved), unless that other's began later.
 */
#define USERDB_NODE_MAX 63     /* a node's name, in bytes */
#define USERDB_ENDPOINT_MAX 63 /* "[2001:db8::1]:51820" */

struct userdb_session {
	char node[USERDB_NODE_MAX + 1]; /* set by userdb_nodes_list() */
	uint8_t client_pub[USERDB_KEY_LEN];
	char username[USERDB_NAME_MAX + 1];
	bool has_addr4;
	uint8_t addr4[4];
	bool has_addr6;
	uint8_t addr6[16];
	char endpoint[USERDB_ENDPOINT_MAX + 1]; /* where it comes from */
	uint64_t since_unix_s;                  /* admitted on that node */
};

struct userdb_node {
	char name[USERDB_NODE_MAX + 1];
	uint64_t started_unix_s;
	uint64_t beat_unix_s;  /* its last beat, by the store's clock */
	uint64_t beat_age_s;   /* how old that is, when listed */
};

/*
 * The node is alive now, by the store's clock. Returns 1 if the store did
 * not know it (its first beat, or it left or aged out since: it holds no
 * sessions there, so the caller records its live ones again), 0 if it
 * did, or -errno.
 */
int userdb_node_beat(struct userdb *db, const char *node,
		     uint64_t started_unix_s) __attribute__((warn_unused_result));

/*
 * Records s (but its node) as held by node, replacing the session of that
 * key on any node unless another node's began later (a greater
 * since_unix_s): a node still holding a client that has moved on (it has
 * not noticed yet) cannot take it back by recording it again. 0 then
 * too; -ENOENT if the store does not know the node (it must beat first).
 * Taking the key from another node appends a USERDB_EVENT_SESSION_MOVED
 * event (username, client key, reason: this node's name) in the same
 * transaction.
 */
int userdb_session_up(struct userdb *db, const char *node,
		      const struct userdb_session *s)
	__attribute__((warn_unused_result));

/* Removes node's session of client_pub; 0 also when node holds none (the
 * client moved on). */
int userdb_session_down(struct userdb *db, const char *node,
			const uint8_t client_pub[USERDB_KEY_LEN])
	__attribute__((warn_unused_result));

/* Removes the node and its sessions (a graceful stop; and a start, for
 * what a previous run left); 0 also for an unknown node. */
int userdb_node_leave(struct userdb *db, const char *node)
	__attribute__((warn_unused_result));

/*
 * In one transaction: removes the nodes whose beat is more than max_age_s
 * old by the store's clock, with their sessions; then calls node_fn for
 * every node left, in name order, and session_fn for every session, in
 * node then key order. The fns must not use the store; a non-zero return
 * stops the walk and is returned.
 */
typedef int (*userdb_node_fn)(void *arg, const struct userdb_node *n);
typedef int (*userdb_session_fn)(void *arg, const struct userdb_session *s);
int userdb_nodes_list(struct userdb *db, uint64_t max_age_s,
		      userdb_node_fn node_fn, userdb_session_fn session_fn,
		      void *arg) __attribute__((warn_unused_result));

/* "user", "admin", "site" and back; false for anything else. */
const char *userdb_role_name(enum userdb_role role);
bool userdb_role_parse(const char *text, enum userdb_role *out);

#endif
