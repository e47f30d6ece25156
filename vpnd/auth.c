// SPDX-License-Identifier: MIT
/*
 * The login decision (PROTOCOL.md section 6, rules 1-7; see auth.h). It
 * owns the order of the checks, the equal cost of every failure, the TOTP
 * reuse rule, when the lockout counts (before verifying; given back on
 * success; lockout.c does the arithmetic), the choice of tunnel addresses
 * and the audit line; and it hands vpnd the store's events. It must not
 * speak SQL (userdb.c stores), read the clock (`now` comes with the
 * request), log a password, secret or code, or tell the client more than
 * AUTH_FAILED about why a login failed.
 */
#include "auth.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "address.h"
#include "lockout.h"
#include "log.h"
#include "totp.h"
#include "userdb.h"

#define STORE_RETRY_S 5

_Static_assert(AUTH_SUBNETS_MAX == USERDB_SUBNETS_MAX,
	       "auth and userdb must agree on subnets per site");
_Static_assert(AUTH_RECOVERY_SALT_LEN == USERDB_RECOVERY_SALT_LEN &&
		       AUTH_RECOVERY_HASH_LEN == USERDB_RECOVERY_HASH_LEN,
	       "auth and userdb must agree on recovery code sizes");
_Static_assert(TAI64N_LEN == USERDB_STAMP_LEN,
	       "auth and userdb must agree on the stamp size");
_Static_assert(sizeof(((struct auth_event *)0)->reason) >
		       USERDB_REASON_MAX,
	       "an event's reason must fit");
#define SRC_LOG_LEN (INET6_ADDRSTRLEN + 10)

struct auth {
	struct userdb *db;
	struct auth_policy policy;
	/* Stand-ins for an unknown user, so its failure costs the same. */
	char dummy_hash[crypto_pwhash_STRBYTES];
	uint8_t dummy_secret[TOTP_SECRET_LEN];
};

/* Everything one attempt works on; wiped when it ends. */
struct attempt {
	const struct auth_request *req;
	char name[LOGIN_USERNAME_MAX + 1];
	char name_log[LOGIN_USERNAME_MAX + 1];
	char src_key[AUTH_SOURCE_KEY_LEN];
	char src_log[SRC_LOG_LEN];
	struct userdb_failure_key keys[2]; /* user name, source */
	struct lockout_hold hold[2];       /* what this attempt took from
					    * each, to give back */
	struct userdb_user user;
	bool has_user;
	bool has_offset;
	int offset;
	int64_t step;
	bool is_recovery;
	int64_t recovery_id;
	int store_error;                   /* a read that failed: -errno */
	const char *reason;
};

static const struct totp_params default_totp = {
	.algo = TOTP_SHA1, .digits = 6, .period_s = 30,
};

/*
 * A stand-in hash for unknown users, in the format and with the parameters
 * vpnctl hashes real passwords with, but from random bytes: checking a
 * password against it costs a real Argon2id computation, while making it
 * costs none (each login worker makes one at start; hashing a password for
 * it would take 64 MiB per worker at once).
 */
static int
dummy_hash_make(char out[crypto_pwhash_STRBYTES])
{
	uint8_t salt[crypto_pwhash_SALTBYTES], hash[32];
	char salt64[sodium_base64_ENCODED_LEN(sizeof(salt),
		sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
	char hash64[sodium_base64_ENCODED_LEN(sizeof(hash),
		sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
	int n;

	randombytes_buf(salt, sizeof(salt));
	randombytes_buf(hash, sizeof(hash));
	sodium_bin2base64(salt64, sizeof(salt64), salt, sizeof(salt),
			  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	sodium_bin2base64(hash64, sizeof(hash64), hash, sizeof(hash),
			  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	n = snprintf(out, crypto_pwhash_STRBYTES,
		     "$argon2id$v=19$m=%zu,t=%llu,p=1$%s$%s",
		     (size_t)crypto_pwhash_MEMLIMIT_INTERACTIVE / 1024,
		     (unsigned long long)crypto_pwhash_OPSLIMIT_INTERACTIVE,
		     salt64, hash64);
	/* needs_rehash parses the string: 0 means well formed and with
	 * exactly the parameters real hashes have. */
	if (n < 0 || (size_t)n >= crypto_pwhash_STRBYTES ||
	    crypto_pwhash_str_needs_rehash(out,
					   crypto_pwhash_OPSLIMIT_INTERACTIVE,
					   crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return -EINVAL;
	return 0;
}

int
auth_self_check(void)
{
	char hash[crypto_pwhash_STRBYTES];
	uint8_t pw[32];
	int ret = 0;

	if (sodium_init() < 0) {
		log_err("libsodium failed to initialise");
		return -EIO;
	}
	randombytes_buf(pw, sizeof(pw));
	if (crypto_pwhash_str(hash, (const char *)pw, sizeof(pw),
			      crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0 ||
	    crypto_pwhash_str_verify(hash, (const char *)pw, sizeof(pw)) != 0) {
		log_err("auth: cannot check a password: Argon2id needs %zu "
			"MiB per login worker (a memory limit?)",
			(size_t)crypto_pwhash_MEMLIMIT_INTERACTIVE >> 20);
		ret = -ENOMEM;
	}
	sodium_memzero(pw, sizeof(pw));
	return ret;
}

struct auth *
auth_open(const char *db_path, const struct auth_policy *policy)
{
	struct auth *a;

	if (sodium_init() < 0) {
		log_err("libsodium failed to initialise");
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		log_err("auth: out of memory");
		return NULL;
	}
	a->policy = *policy;
	randombytes_buf(a->dummy_secret, sizeof(a->dummy_secret));
	if (dummy_hash_make(a->dummy_hash) < 0) {
		log_err("auth: cannot make the stand-in password hash");
		goto err;
	}
	/* vpnd's workers: a database server down at start is an outage
	 * like any other, not a reason to stay down (admit.c). */
	if (userdb_open_lazy(db_path, &a->db) < 0)
		goto err;
	return a;
err:
	auth_close(a);
	return NULL;
}

struct userdb *
auth_store(struct auth *a)
{
	return a->db;
}

void
auth_close(struct auth *a)
{
	if (!a)
		return;
	userdb_close(a->db);
	sodium_memzero(a, sizeof(*a));
	free(a);
}

void
auth_set_policy(struct auth *a, const struct auth_policy *policy)
{
	a->policy = *policy;
}

/* ---- the attempt ------------------------------------------------------------ */

/* An IPv4-mapped IPv6 address counts as its IPv4 address; anything not
 * IPv4 is taken as IPv6. */
static int
unmap(int family, const uint8_t *addr, const uint8_t **out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0,
					    0, 0, 0, 0, 0xff, 0xff };

	*out = addr;
	if (family == AF_INET)
		return AF_INET;
	if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
		*out = addr + 12;
		return AF_INET;
	}
	return AF_INET6;
}

void
auth_source_key(int family, const uint8_t *addr,
		char out[AUTH_SOURCE_KEY_LEN])
{
	char text[INET6_ADDRSTRLEN];
	uint8_t net[16] = { 0 };

	family = unmap(family, addr, &addr);
	if (family == AF_INET) {
		inet_ntop(AF_INET, addr, out, AUTH_SOURCE_KEY_LEN);
		return;
	}
	memcpy(net, addr, 8);
	inet_ntop(AF_INET6, net, text, sizeof(text));
	snprintf(out, AUTH_SOURCE_KEY_LEN, "%s/64", text);
}

/* The counter key of the source, and its log form with the port. */
static void
describe_source(struct attempt *t)
{
	char text[INET6_ADDRSTRLEN];
	const uint8_t *addr;
	int family = unmap(t->req->src_family, t->req->src_addr, &addr);

	auth_source_key(family, addr, t->src_key);
	inet_ntop(family, addr, text, sizeof(text));
	snprintf(t->src_log, sizeof(t->src_log),
		 family == AF_INET ? "%s:%u" : "[%s]:%u", text,
		 t->req->src_port);
}

void
auth_audit_name(char out[LOGIN_USERNAME_MAX + 1], const void *name,
		size_t len)
{
	char *c;

	log_sanitize(out, LOGIN_USERNAME_MAX + 1, name, len);
	/* A space would let a name forge the fields after it. */
	for (c = out; *c; c++)
		if (*c == ' ')
			*c = '?';
}

static void
attempt_init(struct attempt *t, const struct auth_request *req)
{
	size_t len = strnlen(req->username, LOGIN_USERNAME_MAX);

	memset(t, 0, sizeof(*t));
	t->req = req;
	memcpy(t->name, req->username, len);
	auth_audit_name(t->name_log, t->name, len);
	describe_source(t);
	t->keys[0] = (struct userdb_failure_key){ USERDB_FAILURE_USER,
						  t->name };
	t->keys[1] = (struct userdb_failure_key){ USERDB_FAILURE_SOURCE,
						  t->src_key };
}

const char *
auth_result_name(enum login_status status)
{
	switch (status) {
	case LOGIN_STATUS_OK:
		return "ok";
	case LOGIN_STATUS_LOCKED:
		return "locked";
	case LOGIN_STATUS_POOL_EXHAUSTED:
		return "pool-exhausted";
	case LOGIN_STATUS_BUSY:
		return "busy";
	default:
		return "failed";
	}
}

static void
audit(const struct attempt *t, const struct auth_result *res)
{
	char offset[16] = "-";

	if (t->has_offset)
		snprintf(offset, sizeof(offset), "%+d", t->offset);
	log_notice("login user=%s src=%s result=%s reason=%s totp_offset=%s",
		   t->name_log, t->src_log, auth_result_name(res->status),
		   t->reason, offset);
}

/* ---- lockout ---------------------------------------------------------------- */

struct reserve_ctx {
	const struct auth_policy *pol;
	struct attempt *t;
	uint64_t left_s; /* out: > 0 if locked */
};

/*
 * Rule 4, inside the store's transaction over the user name's counter
 * (f[0]) and the source's (f[1]). Locked: note for how long and write
 * nothing. Otherwise count this attempt as a failure now, before it is
 * verified, locking what reaches the limit: a concurrent attempt then sees
 * it, so no more than the limit are ever verified.
 */
static bool
reserve_attempt(void *arg, struct userdb_failure *f, size_t n)
{
	static const char *const reasons[] = { "locked-user", "locked-source" };
	struct reserve_ctx *c = arg;
	uint64_t now = c->t->req->now_unix_s, left;
	size_t i;

	for (i = 0; i < n; i++) {
		lockout_now(c->pol, i == 1, now, &f[i]);
		left = lockout_left(&f[i], now);
		if (left <= c->left_s)
			continue;
		/* The longer lock says how long; the user's names it. */
		if (c->left_s == 0 || i == 0)
			c->t->reason = reasons[i];
		c->left_s = left;
	}
	if (c->left_s > 0)
		return false;
	for (i = 0; i < n; i++)
		lockout_take(c->pol, now, &f[i], &c->t->hold[i]);
	return true;
}

/* The store could not answer (err): BUSY, never a verdict on the person.
 * -ENOTCONN says it cannot be reached at all (a database server down). */
static void
store_busy(struct attempt *t, struct auth_result *res, int err)
{
	res->status = LOGIN_STATUS_BUSY;
	res->retry_after_s = STORE_RETRY_S;
	res->store_error = err;
	t->reason = err == -ENOTCONN ? "store-unreachable" : "store-error";
}

/*
 * Decision (a): LOCKED, or this attempt counted. False with res filled
 * (LOCKED, or BUSY when the store failed) if the attempt must stop here.
 */
static bool
reserve(struct auth *a, struct attempt *t, struct auth_result *res)
{
	struct reserve_ctx c = { &a->policy, t, 0 };
	int ret = userdb_failures_apply(a->db, t->keys, 2, reserve_attempt, &c);

	if (ret < 0) {
		store_busy(t, res, ret);
		return false;
	}
	if (c.left_s == 0)
		return true;
	res->status = LOGIN_STATUS_LOCKED;
	res->retry_after_s = c.left_s > UINT32_MAX ? UINT32_MAX
						  : (uint32_t)c.left_s;
	return false;
}

struct refund_ctx {
	const struct auth_policy *pol;
	const struct attempt *t;
	size_t first; /* index in t->keys of the first counter given */
};

/* Gives back what reserve_attempt() took (see lockout_give_back()). */
static bool
refund_attempt(void *arg, struct userdb_failure *f, size_t n)
{
	const struct refund_ctx *c = arg;
	size_t i, k;

	for (i = 0; i < n; i++) {
		k = c->first + i;
		lockout_give_back(c->pol, k == 1, c->t->req->now_unix_s, &f[i],
				  &c->t->hold[k]);
	}
	return true;
}

/* An attempt that was no failure (no free address, a store error) gives
 * back both counts. */
static void
refund(struct auth *a, struct attempt *t)
{
	struct refund_ctx c = { &a->policy, t, 0 };

	/* userdb logs a failure; the count then stays, erring safe. */
	if (userdb_failures_apply(a->db, t->keys, 2, refund_attempt, &c) < 0)
		log_warn("login user=%s: the attempt's count was not given "
			 "back", t->name_log);
}

/* ---- verification ----------------------------------------------------------- */

/* Lower case, without spaces or dashes (rule 7); false if it does not
 * fit. */
static bool
recovery_normalize(const char *code, char *out, size_t cap)
{
	size_t n = 0;

	for (; *code; code++) {
		unsigned char ch = (unsigned char)*code;

		if (ch == '-' || isspace(ch))
			continue;
		if (n + 1 >= cap)
			return false;
		out[n++] = (char)tolower(ch);
	}
	out[n] = '\0';
	return true;
}

void
auth_recovery_hash(const char *code,
		   const uint8_t salt[AUTH_RECOVERY_SALT_LEN],
		   uint8_t hash[AUTH_RECOVERY_HASH_LEN])
{
	char norm[LOGIN_TEXT_MAX + 1];

	if (!recovery_normalize(code, norm, sizeof(norm)))
		norm[0] = '\0';
	crypto_generichash(hash, AUTH_RECOVERY_HASH_LEN, (const uint8_t *)norm,
			   strlen(norm), salt, AUTH_RECOVERY_SALT_LEN);
	sodium_memzero(norm, sizeof(norm));
}

/*
 * Compares the code with every unused recovery code of the user (none for
 * an unknown one), all of them, whatever matched. True if one did.
 */
static bool
check_recovery(struct auth *a, struct attempt *t)
{
	struct userdb_recovery codes[USERDB_RECOVERY_MAX];
	uint8_t hash[AUTH_RECOVERY_HASH_LEN];
	size_t n = 0, i;
	bool found = false;
	int ret;

	/* A store that cannot tell is not a wrong code (verify). */
	if (t->has_user &&
	    (ret = userdb_recovery_unused(a->db, t->name, codes,
					  USERDB_RECOVERY_MAX, &n)) < 0) {
		t->store_error = ret;
		n = 0;
	}
	for (i = 0; i < n; i++) {
		auth_recovery_hash(t->req->code, codes[i].salt, hash);
		if (sodium_memcmp(hash, codes[i].hash, sizeof(hash)) == 0 &&
		    !found) {
			found = true;
			t->recovery_id = codes[i].id;
		}
	}
	sodium_memzero(hash, sizeof(hash));
	sodium_memzero(codes, sizeof(codes));
	return found;
}

/*
 * Decision (c) for the code. A TOTP value is matched over the window
 * (rule 4: only a step after the last accepted one counts); anything else
 * is a recovery code, and a TOTP computation is still made so both paths
 * cost about the same.
 */
static bool
check_code(struct auth *a, struct attempt *t, const char **reason)
{
	const uint8_t *secret = t->has_user ? t->user.totp_secret
					    : a->dummy_secret;
	size_t secret_len = t->has_user ? t->user.totp_secret_len
					: sizeof(a->dummy_secret);
	const struct totp_params *p = t->has_user ? &t->user.totp : &default_totp;
	const char *code = t->req->code;
	char scratch[9];
	bool ok;

	if (!login_code_is_totp((const uint8_t *)code,
				strnlen(code, LOGIN_TEXT_MAX))) {
		t->is_recovery = true;
		totp_generate(secret, secret_len, p,
			      totp_step(p, t->req->now_unix_s), scratch);
		sodium_memzero(scratch, sizeof(scratch));
		ok = check_recovery(a, t);
		*reason = "bad-recovery-code";
		return ok;
	}
	if (!totp_match(secret, secret_len, p, t->req->now_unix_s,
			a->policy.totp_window, code, &t->step, &t->offset)) {
		*reason = "bad-code";
		return false;
	}
	t->has_offset = t->has_user;
	*reason = "reused-code";
	return t->has_user && t->step > t->user.last_step;
}

/*
 * Decisions (b) and (c): one Argon2id verification and one TOTP
 * computation whoever asks, then success only if everything held. The
 * reason for a failure goes to the log, never to the client. False with
 * t->reason set, or with t->store_error when the store could not answer.
 */
static bool
verify(struct auth *a, struct attempt *t)
{
	const struct auth_request *req = t->req;
	const char *code_reason = NULL;
	bool pw_ok, code_ok;
	int ret;

	ret = userdb_user_get(a->db, t->name, &t->user);
	t->has_user = ret == 0;
	if (ret < 0 && ret != -ENOENT)
		t->store_error = ret;
	pw_ok = crypto_pwhash_str_verify(t->has_user ? t->user.pw_hash
						     : a->dummy_hash,
					 (const char *)req->password,
					 req->password_len <
							 sizeof(req->password)
						 ? req->password_len
						 : sizeof(req->password)) == 0;
	code_ok = check_code(a, t, &code_reason);
	if (!t->has_user)
		t->reason = "unknown-user";
	else if (!t->user.is_enabled)
		t->reason = "disabled";
	else if (!pw_ok)
		t->reason = "bad-password";
	else if (!code_ok)
		t->reason = code_reason;
	else
		t->reason = t->is_recovery ? "recovery-code" : "totp";
	return t->has_user && t->user.is_enabled && pw_ok && code_ok;
}

/* ---- addresses -------------------------------------------------------------- */

/*
 * Rule 6 with pools that changed, or differ between servers sharing the
 * store: an admission keeps no address its pool would not give. 0 with
 * *adm re-addressed (or left as it was, when it fits), -ENOSPC when the
 * pool has none free, -ENOENT when it ended meanwhile, or -errno.
 */
static int
readdress(struct auth *a, uint64_t now, struct userdb_admission *adm)
{
	struct userdb_admission old = *adm;
	char who[LOGIN_USERNAME_MAX + 1];
	struct address_ctx c = { &a->policy, who };
	int ret;

	if (address_fits(&a->policy, adm))
		return 0;
	auth_audit_name(who, adm->username, strlen(adm->username));
	ret = userdb_admission_readdress(a->db, old.client_pub, now,
					 address_assign, &c, adm);
	if (ret == -ENOSPC)
		log_warn("user %s: the admission's addresses are outside the "
			 "pool, and the pool has none free", who);
	if (ret == 0)
		address_log_change(who, &old, adm);
	return ret;
}

/* ---- login ------------------------------------------------------------------ */

/* A site's subnets go with its admission. */
static int
add_subnets(struct auth *a, struct auth_admission *adm)
{
	size_t n = 0;
	int ret = userdb_subnets_get(a->db, adm->username, adm->subnets,
				     AUTH_SUBNETS_MAX, &n);

	adm->n_subnets = (uint8_t)n;
	return ret;
}

static void
admission_copy(struct auth_admission *out, const struct userdb_admission *in)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->username, sizeof(out->username), "%s", in->username);
	out->has_addr4 = in->has_addr4;
	memcpy(out->addr4, in->addr4, sizeof(out->addr4));
	out->has_addr6 = in->has_addr6;
	memcpy(out->addr6, in->addr6, sizeof(out->addr6));
	out->created_unix_s = in->created_unix_s;
	out->expires_unix_s = in->expires_unix_s;
	out->has_stamp = in->has_stamp;
	memcpy(out->stamp, in->stamp, sizeof(out->stamp));
}

/*
 * Decision (d): consume the code, clear the user's counter, give back the
 * source's count and admit, in one transaction that re-checks the step
 * against concurrent logins. Nothing is consumed when no address is free,
 * and that is no failure: both counts are given back.
 */
static void
grant(struct auth *a, struct attempt *t, struct auth_result *res)
{
	struct address_ctx c = { &a->policy, t->name_log };
	struct refund_ctx r = { &a->policy, t, 1 };
	struct userdb_grant g = {
		.username = t->name,
		.now_unix_s = t->req->now_unix_s,
		.lifetime_s = a->policy.session_lifetime_s,
		.has_step = !t->is_recovery,
		.step = t->step,
		.has_recovery = t->is_recovery,
		.recovery_id = t->recovery_id,
		.reset = &t->keys[0],
		.n_reset = 1,
		.adjust = &t->keys[1],
		.n_adjust = 1,
		.adjust_fn = refund_attempt,
		.adjust_arg = &r,
		.has_stamp = t->req->has_stamp,
	};
	struct userdb_admission adm;
	int ret;

	memcpy(g.client_pub, t->req->client_pub, sizeof(g.client_pub));
	memcpy(g.stamp, t->req->stamp, sizeof(g.stamp));
	g.pw_hash = t->user.pw_hash;
	g.totp_secret = t->user.totp_secret;
	g.totp_secret_len = t->user.totp_secret_len;
	ret = userdb_grant(a->db, &g, address_assign, &c, &adm);
	switch (ret) {
	case 0:
		res->status = LOGIN_STATUS_OK;
		admission_copy(&res->adm, &adm);
		/* Admitted already: a store that cannot say which subnets
		 * leaves them unrouted until the session's next lookup. */
		if (add_subnets(a, &res->adm) < 0)
			log_warn("user %s: cannot read its subnets",
				 t->name_log);
		return;
	case -ENOSPC:
		res->status = LOGIN_STATUS_POOL_EXHAUSTED;
		t->reason = "no-free-address";
		refund(a, t);
		return;
	case -EALREADY: /* counted already, as every failure */
		t->reason = t->is_recovery ? "bad-recovery-code" : "reused-code";
		return;
	case -ENOENT:
		t->reason = "disabled";
		return;
	case -ESTALE:
		/* Right when checked, but the administrator changed the
		 * credentials since: no admission, and not the person's
		 * failure either. */
		t->reason = "credentials-changed";
		refund(a, t);
		return;
	default:
		store_busy(t, res, ret);
		refund(a, t);
		return;
	}
}

void
auth_login(struct auth *a, const struct auth_request *req,
	   struct auth_result *res)
{
	struct attempt t;

	memset(res, 0, sizeof(*res));
	res->status = LOGIN_STATUS_AUTH_FAILED;
	attempt_init(&t, req);
	if (!reserve(a, &t, res))
		goto out;
	if (verify(a, &t)) {
		grant(a, &t, res);
	} else if (t.store_error) {
		store_busy(&t, res, t.store_error);
		refund(a, &t);
	}
out:
	audit(&t, res);
	res->reason = t.reason;
	sodium_memzero(&t, sizeof(t));
}

/* ---- admissions ------------------------------------------------------------- */

int
auth_admission_lookup(struct auth *a, const uint8_t client_pub[32],
		      const char *username, uint64_t now_unix_s,
		      struct auth_admission *out)
{
	struct userdb_admission adm;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = userdb_admission_get(a->db, client_pub, now_unix_s, &adm);
	if (ret == 0 && username && strcmp(username, adm.username) != 0)
		return 0;
	if (ret == 0)
		ret = readdress(a, now_unix_s, &adm);
	/* Ended meanwhile; or re-addressed for another user meanwhile. */
	if (ret == -ENOENT || ret == -ENOSPC ||
	    (ret == 0 && username && strcmp(username, adm.username) != 0))
		return 0;
	if (ret < 0)
		return ret;
	admission_copy(out, &adm);
	ret = add_subnets(a, out);
	return ret < 0 ? ret : 1;
}

bool
auth_admission_get(struct auth *a, const uint8_t client_pub[32],
		   const char *username, uint64_t now_unix_s,
		   struct auth_admission *out)
{
	return auth_admission_lookup(a, client_pub, username, now_unix_s,
				     out) == 1;
}

struct collect {
	struct userdb_admission *v;
	size_t n, cap;
};

static int
collect_admission(void *arg, const struct userdb_admission *adm)
{
	struct collect *c = arg;
	struct userdb_admission *grown;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		grown = realloc(c->v, c->cap * sizeof(*c->v));
		if (!grown)
			return -ENOMEM;
		c->v = grown;
	}
	c->v[c->n++] = *adm;
	return 0;
}

int
auth_admissions_each(struct auth *a, uint64_t now_unix_s,
		     void (*fn)(void *arg, const uint8_t client_pub[32],
				const struct auth_admission *adm),
		     void *arg)
{
	struct collect c = { NULL, 0, 0 };
	struct auth_admission out;
	size_t i;
	int ret;

	/* The store's walk may not call the store: re-address after it. */
	ret = userdb_admissions_list(a->db, now_unix_s, collect_admission, &c);
	for (i = 0; i < c.n && ret == 0; i++) {
		ret = readdress(a, now_unix_s, &c.v[i]);
		if (ret == -ENOSPC || ret == -ENOENT) {
			ret = 0;
			continue;
		}
		if (ret < 0)
			break;
		admission_copy(&out, &c.v[i]);
		ret = add_subnets(a, &out);
		if (ret < 0)
			break;
		fn(arg, c.v[i].client_pub, &out);
	}
	free(c.v);
	return ret < 0 ? ret : 0;
}

void
auth_admission_end(struct auth *a, const uint8_t client_pub[32])
{
	/* userdb logs a failure; the admission then ends at its expiry. */
	(void)userdb_admission_end(a->db, client_pub, USERDB_REASON_LOGOUT);
}

int
auth_admissions_prune(struct auth *a, uint64_t now_unix_s)
{
	int n = userdb_admissions_prune(a->db, now_unix_s);

	(void)userdb_failures_prune(a->db, USERDB_FAILURE_USER, now_unix_s,
				    a->policy.lockout_max_time_s, 0);
	(void)userdb_failures_prune(a->db, USERDB_FAILURE_SOURCE, now_unix_s,
				    0,
				    a->policy.source_decay_s
					    ? a->policy.source_decay_s
					    : AUTH_SOURCE_DECAY_DEFAULT_S);
	(void)userdb_events_prune(a->db, AUTH_EVENTS_KEEP_S);
	return n;
}

int
auth_stamps_save(struct auth *a, const struct auth_stamp *v, size_t n)
{
	struct userdb_stamp *s;
	size_t i;
	int ret;

	if (n == 0)
		return 0;
	s = calloc(n, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		memcpy(s[i].client_pub, v[i].client_pub, USERDB_KEY_LEN);
		memcpy(s[i].stamp, v[i].stamp, USERDB_STAMP_LEN);
	}
	ret = userdb_stamps_raise(a->db, s, n);
	free(s);
	return ret;
}

int
auth_admissions_kick(struct auth *a, const struct auth_target *t)
{
	struct userdb_match m = { .user = t->user };

	switch (t->kind) {
	case AUTH_TARGET_USER:
		m.kind = USERDB_MATCH_USER;
		break;
	case AUTH_TARGET_KEY:
		m.kind = USERDB_MATCH_KEY;
		memcpy(m.key, t->key, sizeof(m.key));
		break;
	default:
		m.kind = t->family == AF_INET6 ? USERDB_MATCH_ADDR6
					       : USERDB_MATCH_ADDR4;
		memcpy(m.addr, t->addr, sizeof(m.addr));
		break;
	}
	return userdb_admissions_end_matching(a->db, &m, USERDB_REASON_KICKED);
}

/* ---- events ------------------------------------------------------------------ */

int
auth_events_head(struct auth *a, uint64_t *seq)
{
	return userdb_events_head(a->db, seq);
}

struct poll_ctx {
	void (*fn)(void *arg, const struct auth_event *e);
	void *arg;
	uint64_t seq;
	int n;
};

/* Events of kinds this program does not know are passed over. */
static void
on_event(void *arg, const struct userdb_event *e)
{
	struct poll_ctx *c = arg;
	struct auth_event out;

	c->seq = e->seq;
	memset(&out, 0, sizeof(out));
	out.is_change = strcmp(e->kind, USERDB_EVENT_ADMISSION_CHANGED) == 0;
	out.is_moved = strcmp(e->kind, USERDB_EVENT_SESSION_MOVED) == 0;
	if (!out.is_change && !out.is_moved &&
	    strcmp(e->kind, USERDB_EVENT_ADMISSION_END) != 0)
		return;
	out.seq = e->seq;
	memcpy(out.client_pub, e->client_pub, sizeof(out.client_pub));
	snprintf(out.username, sizeof(out.username), "%s", e->username);
	snprintf(out.reason, sizeof(out.reason), "%s", e->reason);
	out.expires_unix_s = e->expires_unix_s;
	c->fn(c->arg, &out);
	c->n++;
}

int
auth_events_poll(struct auth *a, uint64_t *seq,
		 void (*fn)(void *arg, const struct auth_event *e), void *arg)
{
	struct poll_ctx c = { fn, arg, *seq, 0 };
	int ret = userdb_events_after(a->db, *seq, on_event, &c);

	if (ret < 0)
		return ret;
	*seq = c.seq;
	return c.n;
}
