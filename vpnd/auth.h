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

struct auth;

struct auth_policy {
	unsigned int totp_window;     /* steps accepted either side of now */
	unsigned int lockout_failures;/* failures before LOCKED */
	uint32_t lockout_time_s;      /* first lock; doubles per extra failure */
	uint32_t lockout_max_time_s;  /* cap of the lock */
	uint32_t session_lifetime_s;  /* admission lifetime unless the account
				       * sets its own */
	bool has_pool4;
	struct prefix pool4;          /* server = first address of each pool */
	bool has_pool6;
	struct prefix pool6;
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
};

struct auth_admission {
	char username[LOGIN_USERNAME_MAX + 1];
	bool has_addr4;
	uint8_t addr4[4];
	bool has_addr6;
	uint8_t addr6[16];
	uint64_t expires_unix_s;
};

struct auth_result {
	enum login_status status;     /* OK, AUTH_FAILED, LOCKED, POOL_EXHAUSTED;
				       * BUSY when the store failed */
	uint32_t retry_after_s;       /* with LOCKED and BUSY */
	struct auth_admission adm;    /* with OK */
};

/*
 * Opens the store at db_path (creating it on first use) for this thread.
 * NULL after logging why.
 */
struct auth *auth_open(const char *db_path, const struct auth_policy *policy);
void auth_close(struct auth *a);

/* A user name as the audit line shows it: sanitized, spaces as '?'. */
void auth_audit_name(char out[LOGIN_USERNAME_MAX + 1], const void *name,
		     size_t len);

/*
 * Rules 1-7 for one AUTH_REQUEST. Every kind of failure does the same work
 * (one Argon2id verification, one TOTP computation) and gives AUTH_FAILED;
 * LOCKED once a limit is reached. On OK the admission (key, user, expiry,
 * addresses) is stored, the TOTP step consumed and failures cleared, in one
 * transaction. Logs one audit line. The caller pads failures in time.
 */
void auth_login(struct auth *a, const struct auth_request *req,
		struct auth_result *res);

/*
 * The valid admission of client_pub (account still enabled, not expired),
 * if any; with `username` not NULL it must also be that admission's user
 * (rule 6). 1 if admitted, 0 if not, -errno if the store could not tell:
 * then the caller keeps what it knew, since only expiry, a kick or a
 * disabled account end an admission (rule 1), not a store that failed.
 */
int auth_admission_lookup(struct auth *a, const uint8_t client_pub[32],
			  const char *username, uint64_t now_unix_s,
			  struct auth_admission *out);

/* auth_admission_lookup() == 1. */
bool auth_admission_get(struct auth *a, const uint8_t client_pub[32],
			const char *username, uint64_t now_unix_s,
			struct auth_admission *out);

/* Ends the admission of client_pub (LOGOUT); its addresses return to the
 * pool. */
void auth_admission_end(struct auth *a, const uint8_t client_pub[32]);

/* Removes admissions expired at now_unix_s, and failure counters that
 * would start from zero anyway; returns how many admissions, or -errno. */
int auth_admissions_prune(struct auth *a, uint64_t now_unix_s);

/*
 * True if `addr` (of the pool's family) may be given to a client: inside
 * the pool, and neither its network address, the server's own (the first)
 * nor its last (broadcast) address. vpnctl checks fixed addresses with it.
 */
bool auth_pool_address_usable(const struct prefix *pool, const uint8_t *addr);

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
