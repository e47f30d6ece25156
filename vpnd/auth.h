/* SPDX-License-Identifier: MIT */
/*
 * The login decision (PROTOCOL.md section 6, rules 1-7): password
 * (Argon2id), TOTP or recovery code, code reuse, lockout per user and per
 * source, address assignment and admissions. Every call is synchronous and
 * may take as long as an Argon2id verification: vpnd runs them on worker
 * threads, never on the packet path. One struct auth per thread (each holds
 * its own user-store connection).
 *
 * auth.c decides; userdb.c stores. auth.c never speaks SQL.
 */
#ifndef VPND_AUTH_H
#define VPND_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "login.h"
#include "prefix.h"
#include "tstamp.h"

#define AUTH_SOURCE_DECAY_DEFAULT_S 600
#define AUTH_SOURCE_KEY_LEN PREFIX_STR_LEN /* "192.0.2.1", "2001:db8::/64" */

struct auth;

#define AUTH_SUBNETS_MAX 16 /* as the store's USERDB_SUBNETS_MAX */

struct auth_policy {
	unsigned int totp_window;     /* steps accepted either side of now */
	unsigned int lockout_failures;/* failures before LOCKED */
	uint32_t lockout_time_s;      /* first lock; doubles per extra failure */
	uint32_t lockout_max_time_s;  /* cap of the lock */
	uint32_t session_lifetime_s;  /* admission lifetime unless the account
				       * sets its own */
	bool has_pool4;
	struct prefix pool4;          /* addresses as pool.h divides them */
	bool has_pool6;
	struct prefix pool6;
	uint32_t source_decay_s;      /* a source's failure count drops by one
				       * per this many seconds since its last
				       * failure; 0: AUTH_SOURCE_DECAY_DEFAULT_S */
};

struct auth_request {
	uint8_t client_pub[32];        /* the session's initiator static key */
	char username[LOGIN_USERNAME_MAX + 1];
	uint8_t password[LOGIN_TEXT_MAX];
	size_t password_len;
	char code[LOGIN_TEXT_MAX + 1]; /* TOTP or recovery code, NUL-ended */
	int src_family;                /* AF_INET or AF_INET6 */
	uint8_t src_addr[16];
	uint16_t src_port;
	uint64_t now_unix_s;           /* wall clock, for TOTP and expiry */
	uint8_t stamp[TAI64N_LEN];     /* the TAI64N of the handshake of the */
	bool has_stamp;                /* session logging in: kept with the
					* admission */
};

struct auth_admission {
	char username[LOGIN_USERNAME_MAX + 1];
	bool has_addr4;
	uint8_t addr4[4];
	bool has_addr6;
	uint8_t addr6[16];
	uint64_t created_unix_s;       /* when the login was made */
	uint64_t expires_unix_s;
	bool has_stamp;                /* the greatest handshake timestamp */
	uint8_t stamp[TAI64N_LEN];     /* saved for this key */
	/* A site account: the LAN subnets behind its gateway, routed to
	 * its session as its own addresses are. */
	uint8_t n_subnets;
	struct prefix subnets[AUTH_SUBNETS_MAX];
};

struct auth_result {
	enum login_status status;     /* OK, AUTH_FAILED, LOCKED, POOL_EXHAUSTED;
				       * BUSY when the store failed */
	uint32_t retry_after_s;       /* with LOCKED and BUSY */
	int store_error;              /* with BUSY: the store's -errno
				       * (-ENOTCONN: it cannot be reached) */
	struct auth_admission adm;    /* with OK */
	const char *reason;           /* the audit line's reason= (static):
				       * for the log and metrics only, never
				       * for the client */
};

/*
 * Opens the store at db_path (creating it on first use) for this thread.
 * NULL after logging why.
 */
/*
 * One password hashed and checked as logins will be, once at start: a
 * memory limit too low for Argon2id fails vpnd then, not at the first
 * login. Takes the hash's memory (64 MiB) while it runs.
 */
int auth_self_check(void);
/* A PostgreSQL server down at open is no error (userdb_open_lazy): the
 * store's calls answer -ENOTCONN until it answers. */
struct auth *auth_open(const char *db_path, const struct auth_policy *policy);
void auth_close(struct auth *a);

/* The store connection a's thread uses, for the other store jobs of that
 * thread (the cluster's bookkeeping): valid until auth_close(). */
struct userdb *auth_store(struct auth *a);
/* A reloaded policy, for the attempts that start from now on. */
void auth_set_policy(struct auth *a, const struct auth_policy *policy);

/* The audit line's result= for a status: ok, failed, locked, busy,
 * pool-exhausted (metrics label logins with the same words). */
const char *auth_result_name(enum login_status status);

/* A user name as the audit line shows it: sanitized, spaces as '?'. */
void auth_audit_name(char out[LOGIN_USERNAME_MAX + 1], const void *name,
		     size_t len);

/*
 * Rules 1-7 for one AUTH_REQUEST. The lock check and the failure count are
 * one store transaction, before anything is verified: if neither the user
 * name nor the source is locked, the attempt counts as a failure at once
 * (setting the lock if it reaches the limit), so however many logins run
 * at once, no more than the limit are ever verified; if either is locked,
 * the answer is LOCKED and nothing is verified or counted. Failures are
 * charged to the user name (known or not) and to req's source (an IPv4
 * address, an IPv6 /64); a source's count decays (source_decay_s), a
 * user's starts again after lockout_max_time_s without failures. Every
 * other failure does the same work (one Argon2id verification, one TOTP
 * computation) and gives AUTH_FAILED, writing nothing more. On OK one
 * transaction stores the admission (key, user, expiry, addresses, stamp),
 * consumes the TOTP step or recovery code, clears the user's counter and
 * gives back this attempt's count on the source (whose counter no success
 * clears). POOL_EXHAUSTED gives the attempt back too. Logs one audit line.
 * The caller pads failures in time.
 */
void auth_login(struct auth *a, const struct auth_request *req,
		struct auth_result *res);

/*
 * The valid admission of client_pub (account still enabled, not expired),
 * if any; with `username` not NULL it must also be that admission's user
 * (rule 6). 1 if admitted, 0 if not, -errno if the store could not tell:
 * then the caller keeps what it knew, since only expiry, a kick or a
 * disabled account end an admission (rule 1), not a store that failed.
 *
 * An admission whose addresses do not fit the policy's pools (an address
 * outside its pool, none for a pool now configured, one for a pool no
 * longer configured) is given new ones first, in one store transaction,
 * by the rules of a login (the account's fixed address if in the pool,
 * else its last one if free and in the pool, else the lowest free), and
 * one line is logged; 0 if the pool has none free.
 */
int auth_admission_lookup(struct auth *a, const uint8_t client_pub[32],
			  const char *username, uint64_t now_unix_s,
			  struct auth_admission *out);

/* auth_admission_lookup() == 1. */
bool auth_admission_get(struct auth *a, const uint8_t client_pub[32],
			const char *username, uint64_t now_unix_s,
			struct auth_admission *out);

/*
 * Calls fn for every valid admission at now_unix_s (for vpnd's start),
 * each re-addressed first as auth_admission_lookup() does (one whose pool
 * has no address free is left out). 0 or -errno; fn may not call auth.
 */
int auth_admissions_each(struct auth *a, uint64_t now_unix_s,
			 void (*fn)(void *arg, const uint8_t client_pub[32],
				    const struct auth_admission *adm),
			 void *arg);

/* Ends the admission of client_pub (LOGOUT); its addresses return to the
 * pool, and an event "logged out" tells every vpnd (auth_events_poll). */
void auth_admission_end(struct auth *a, const uint8_t client_pub[32]);

/* Whose admissions an administrator ends (vpnctl kick). */
struct auth_target {
	enum { AUTH_TARGET_USER, AUTH_TARGET_KEY, AUTH_TARGET_ADDR } kind;
	char user[LOGIN_USERNAME_MAX + 1];
	uint8_t key[32];
	int family;            /* AUTH_TARGET_ADDR: AF_INET or AF_INET6 */
	uint8_t addr[16];
};

/* Ends the target's admissions (reason "ended by an administrator"), an
 * event each so every vpnd ends their sessions; how many, or -errno. */
int auth_admissions_kick(struct auth *a, const struct auth_target *t);

/*
 * Removes admissions expired at now_unix_s, failure counters that would
 * start from zero anyway and events older than AUTH_EVENTS_KEEP_S;
 * returns how many admissions, or -errno.
 */
#define AUTH_EVENTS_KEEP_S 3600
int auth_admissions_prune(struct auth *a, uint64_t now_unix_s);

struct auth_stamp {
	uint8_t client_pub[32];
	uint8_t stamp[TAI64N_LEN];
};

/* Saves handshake timestamps with their keys' admissions, in one
 * transaction: a stored stamp is only ever raised, and a key without an
 * admission is skipped. 0 or -errno. */
int auth_stamps_save(struct auth *a, const struct auth_stamp *v, size_t n);

/* ---- events: what ended elsewhere (PROTOCOL.md section 6, rule 8) ---- */

/*
 * An admission ended by vpnctl (password changed, authenticator reset,
 * account disabled or deleted), by a LOGOUT ("logged out") or by its
 * address going to the account it is fixed to ("address given to its
 * owner"): a live session of that key gets DISCONNECT with `reason`.
 * Or (is_change) an admission that stays with new routes (a site's
 * subnets set by vpnctl): vpnd looks it up again. Or (is_moved) a session
 * another node recorded, taking the key from this one: a peer for that
 * key here goes, without DISCONNECT (the client is on that node now).
 */
struct auth_event {
	uint64_t seq;
	bool is_change;
	bool is_moved;       /* the session moved to the node in reason */
	uint8_t client_pub[32];
	char username[LOGIN_USERNAME_MAX + 1];
	char reason[64];
	uint64_t expires_unix_s; /* of the admission it ended; 0: unknown */
};

/* The newest event's seq now (0 if none): where a new reader starts. */
int auth_events_head(struct auth *a, uint64_t *seq);

/*
 * Calls fn for each event after *seq, in order, and advances *seq past
 * them; returns how many, or -errno (then *seq is unchanged, and the next
 * poll gives again what this one may have given). Cheap when nothing was
 * committed to the store since the last poll on this struct auth, so it
 * may run every few hundred milliseconds. fn may not call auth.
 */
int auth_events_poll(struct auth *a, uint64_t *seq,
		     void (*fn)(void *arg, const struct auth_event *e),
		     void *arg);

/* ---- for vpnctl ---- */

/* The failure counter key of a source: the IPv4 address (also for an
 * IPv4-mapped IPv6 one), or the IPv6 /64 ("2001:db8:1:2::/64"). */
void auth_source_key(int family, const uint8_t *addr,
		     char out[AUTH_SOURCE_KEY_LEN]);

#define AUTH_RECOVERY_SALT_LEN 16
#define AUTH_RECOVERY_HASH_LEN 32

/*
 * The stored form of a recovery code: BLAKE2b-256 keyed with a random
 * per-code salt over the code in lower case without spaces or dashes (rule
 * 7). Recovery codes carry about 59 random bits, so a fast keyed hash
 * suffices where a password needs Argon2id. vpnctl stores it; auth_login
 * compares.
 */
void auth_recovery_hash(const char *code,
			const uint8_t salt[AUTH_RECOVERY_SALT_LEN],
			uint8_t hash[AUTH_RECOVERY_HASH_LEN]);

#endif
