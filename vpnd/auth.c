// SPDX-License-Identifier: MIT
/*
 * The login decision (PROTOCOL.md section 6, rules 1-7; see auth.h). It
 * owns the order of the checks, the equal cost of every failure, the TOTP
 * reuse rule, the lockout arithmetic, the choice of tunnel addresses and
 * the audit line. It must not speak SQL (userdb.c stores), read the clock
 * (`now` comes with the request), log a password, secret or code, or tell
 * the client more than AUTH_FAILED about why a login failed.
 */
#include "auth.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "log.h"
#include "totp.h"
#include "userdb.h"

#define STORE_RETRY_S 5

_Static_assert(AUTH_RECOVERY_SALT_LEN == USERDB_RECOVERY_SALT_LEN &&
		       AUTH_RECOVERY_HASH_LEN == USERDB_RECOVERY_HASH_LEN,
	       "auth and userdb must agree on recovery code sizes");
#define SRC_KEY_LEN (INET6_ADDRSTRLEN + 4)
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
	char src_key[SRC_KEY_LEN];
	char src_log[SRC_LOG_LEN];
	struct userdb_failure_key keys[2]; /* user name, source */
	struct userdb_user user;
	bool has_user;
	bool has_offset;
	int offset;
	int64_t step;
	bool is_recovery;
	int64_t recovery_id;
	const char *reason;
};

static const struct totp_params default_totp = {
	.algo = TOTP_SHA1, .digits = 6, .period_s = 30,
};

struct auth *
auth_open(const char *db_path, const struct auth_policy *policy)
{
	uint8_t pw[32];
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
	randombytes_buf(pw, sizeof(pw));
	randombytes_buf(a->dummy_secret, sizeof(a->dummy_secret));
	/* The same parameters vpnctl hashes real passwords with. */
	if (crypto_pwhash_str(a->dummy_hash, (const char *)pw, sizeof(pw),
			      crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		log_err("auth: cannot hash (out of memory?)");
		goto err;
	}
	if (userdb_open(db_path, &a->db) < 0)
		goto err;
	sodium_memzero(pw, sizeof(pw));
	return a;
err:
	sodium_memzero(pw, sizeof(pw));
	auth_close(a);
	return NULL;
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

/* ---- the attempt ------------------------------------------------------------ */

/* An IPv4-mapped IPv6 source counts as its IPv4 address. */
static int
source_family(const struct auth_request *req, const uint8_t **addr)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0,
					    0, 0, 0, 0, 0xff, 0xff };

	*addr = req->src_addr;
	if (req->src_family == AF_INET6 &&
	    memcmp(req->src_addr, mapped, sizeof(mapped)) == 0) {
		*addr = req->src_addr + 12;
		return AF_INET;
	}
	return req->src_family;
}

/* Source key (an IPv4 address or an IPv6 /64) and the log form of the
 * source with its port. */
static void
describe_source(struct attempt *t)
{
	char text[INET6_ADDRSTRLEN];
	uint8_t net[16] = { 0 };
	const uint8_t *addr;
	int family = source_family(t->req, &addr);

	if (family == AF_INET) {
		inet_ntop(AF_INET, addr, text, sizeof(text));
		snprintf(t->src_key, sizeof(t->src_key), "%s", text);
		snprintf(t->src_log, sizeof(t->src_log), "%s:%u", text,
			 t->req->src_port);
		return;
	}
	inet_ntop(AF_INET6, addr, text, sizeof(text));
	snprintf(t->src_log, sizeof(t->src_log), "[%s]:%u", text,
		 t->req->src_port);
	memcpy(net, addr, 8);
	inet_ntop(AF_INET6, net, text, sizeof(text));
	snprintf(t->src_key, sizeof(t->src_key), "%s/64", text);
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

static const char *
result_name(enum login_status status)
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
		   t->name_log, t->src_log, result_name(res->status),
		   t->reason, offset);
}

/* ---- lockout ---------------------------------------------------------------- */

/*
 * Rule 4, decision (a): a locked user name or source is answered LOCKED
 * before anything is verified. True if locked (res filled).
 */
static bool
check_locks(struct auth *a, struct attempt *t, struct auth_result *res)
{
	static const char *const reasons[] = { "locked-user", "locked-source" };
	uint64_t now = t->req->now_unix_s, left = 0;
	struct userdb_failure f;
	size_t i;

	for (i = 0; i < 2; i++) {
		if (userdb_failure_get(a->db, &t->keys[i], &f) < 0) {
			res->status = LOGIN_STATUS_BUSY;
			res->retry_after_s = STORE_RETRY_S;
			t->reason = "store-error";
			return true;
		}
		if (f.locked_until_unix_s > now &&
		    f.locked_until_unix_s - now > left) {
			left = f.locked_until_unix_s - now;
			if (!t->reason || i == 0)
				t->reason = reasons[i];
		}
	}
	if (left == 0)
		return false;
	res->status = LOGIN_STATUS_LOCKED;
	res->retry_after_s = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
	return true;
}

/* The first lock lasts lockout_time_s, doubling for each further failure,
 * up to lockout_max_time_s. */
static uint64_t
lock_time(const struct auth_policy *pol, uint32_t extra)
{
	uint64_t t = pol->lockout_time_s;

	while (extra-- > 0 && t < pol->lockout_max_time_s)
		t *= 2;
	if (pol->lockout_max_time_s && t > pol->lockout_max_time_s)
		t = pol->lockout_max_time_s;
	return t;
}

struct failure_ctx {
	const struct auth_policy *pol;
	uint64_t now;
};

/* Runs inside the store's transaction for each of the two counters. */
static void
count_failure(void *arg, struct userdb_failure *f)
{
	const struct failure_ctx *c = arg;
	const struct auth_policy *pol = c->pol;

	if (f->locked_until_unix_s <= c->now && c->now > f->last_unix_s &&
	    c->now - f->last_unix_s > pol->lockout_max_time_s) {
		f->count = 0;
		f->locked_until_unix_s = 0;
	}
	if (f->count < UINT32_MAX)
		f->count++;
	f->last_unix_s = c->now;
	if (pol->lockout_failures && f->count >= pol->lockout_failures)
		f->locked_until_unix_s =
			c->now + lock_time(pol, f->count - pol->lockout_failures);
}

static void
record_failure(struct auth *a, struct attempt *t)
{
	struct failure_ctx c = { &a->policy, t->req->now_unix_s };

	/* userdb logs a failure; the answer stays AUTH_FAILED either way. */
	if (userdb_failures_update(a->db, t->keys, 2, count_failure, &c) < 0)
		log_warn("login user=%s: the failure was not counted",
			 t->name_log);
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

	if (t->has_user &&
	    userdb_recovery_unused(a->db, t->name, codes, USERDB_RECOVERY_MAX,
				   &n) < 0)
		n = 0;
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
 * t->reason set, or with `store_error` when the store could not answer.
 */
static bool
verify(struct auth *a, struct attempt *t, bool *store_error)
{
	const struct auth_request *req = t->req;
	const char *code_reason = NULL;
	bool pw_ok, code_ok;
	int ret;

	ret = userdb_user_get(a->db, t->name, &t->user);
	t->has_user = ret == 0;
	*store_error = ret < 0 && ret != -ENOENT;
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
 * The addresses a pool hands out: after the network address and the
 * server's own (the first), before the last (broadcast in IPv4; kept free
 * in IPv6 too, for symmetry). False if none is left.
 */
static bool
pool_range(const struct prefix *pool, size_t len, uint8_t lo[16],
	   uint8_t hi[16])
{
	unsigned int bit;
	size_t i;

	memcpy(lo, pool->addr, len);
	memcpy(hi, pool->addr, len);
	for (bit = pool->len; bit < len * 8; bit++) {
		lo[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
		hi[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
	}
	for (i = 0; i < 2; i++) { /* lo += 2 */
		size_t j = len;

		while (j-- > 0 && ++lo[j] == 0)
			;
	}
	for (i = len; i-- > 0;) /* hi -= 1 */
		if (hi[i]-- != 0)
			break;
	return (size_t)pool->len + 2 <= len * 8 && memcmp(lo, hi, len) <= 0;
}

static bool
in_range(const uint8_t *addr, const uint8_t *lo, const uint8_t *hi,
	 size_t len)
{
	return memcmp(addr, lo, len) >= 0 && memcmp(addr, hi, len) <= 0;
}

static bool
is_taken(const uint8_t *addr, const uint8_t *taken, size_t n, size_t len)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(taken + mid * len, addr, len);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* The lowest address in [lo, hi] not in the sorted `taken`. */
static bool
lowest_free(const uint8_t *lo, const uint8_t *hi, const uint8_t *taken,
	    size_t n, size_t len, uint8_t *out)
{
	size_t i = 0, j;

	memcpy(out, lo, len);
	for (;;) {
		while (i < n && memcmp(taken + i * len, out, len) < 0)
			i++;
		if (i == n || memcmp(taken + i * len, out, len) != 0)
			return true;
		for (j = len; j-- > 0 && ++out[j] == 0;)
			;
		if (memcmp(out, hi, len) > 0 || memcmp(out, lo, len) < 0)
			return false;
	}
}

bool
auth_pool_address_usable(const struct prefix *pool, const uint8_t *addr)
{
	size_t len = pool->family == AF_INET6 ? 16 : 4;
	uint8_t lo[16], hi[16];

	return pool_range(pool, len, lo, hi) && in_range(addr, lo, hi, len);
}

struct pick {
	const struct prefix *pool;
	bool has_fixed, has_lease;
	const uint8_t *fixed, *lease, *taken;
	size_t n_taken;
	const char *who;
};

/* Decision (d): the fixed address, else the last one for this user and
 * key if free, else the lowest free one. */
static bool
pick_address(const struct pick *k, uint8_t *out)
{
	size_t len = k->pool->family == AF_INET6 ? 16 : 4;
	uint8_t lo[16], hi[16];
	char text[INET6_ADDRSTRLEN];

	if (!pool_range(k->pool, len, lo, hi))
		return false;
	if (k->has_fixed && in_range(k->fixed, lo, hi, len)) {
		memcpy(out, k->fixed, len);
		return true;
	}
	if (k->has_fixed)
		log_warn("user %s: fixed address %s is not in the pool; "
			 "assigning one from the pool", k->who,
			 inet_ntop(k->pool->family, k->fixed, text,
				   sizeof(text)));
	if (k->has_lease && in_range(k->lease, lo, hi, len) &&
	    !is_taken(k->lease, k->taken, k->n_taken, len)) {
		memcpy(out, k->lease, len);
		return true;
	}
	return lowest_free(lo, hi, k->taken, k->n_taken, len, out);
}

struct assign_ctx {
	const struct auth_policy *pol;
	const char *who;
};

/* Called by the store inside the grant's transaction. */
static bool
assign_addresses(void *arg, const struct userdb_addr_view *v,
		 struct userdb_admission *adm)
{
	const struct assign_ctx *c = arg;
	struct pick k4 = { &c->pol->pool4, v->has_fixed4, v->has_lease4,
			   v->fixed4, v->lease4, v->taken4, v->n_taken4,
			   c->who };
	struct pick k6 = { &c->pol->pool6, v->has_fixed6, v->has_lease6,
			   v->fixed6, v->lease6, v->taken6, v->n_taken6,
			   c->who };

	adm->has_addr4 = c->pol->has_pool4 && pick_address(&k4, adm->addr4);
	adm->has_addr6 = c->pol->has_pool6 && pick_address(&k6, adm->addr6);
	return adm->has_addr4 == c->pol->has_pool4 &&
	       adm->has_addr6 == c->pol->has_pool6;
}

/* ---- login ------------------------------------------------------------------ */

static void
admission_copy(struct auth_admission *out, const struct userdb_admission *in)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->username, sizeof(out->username), "%s", in->username);
	out->has_addr4 = in->has_addr4;
	memcpy(out->addr4, in->addr4, sizeof(out->addr4));
	out->has_addr6 = in->has_addr6;
	memcpy(out->addr6, in->addr6, sizeof(out->addr6));
	out->expires_unix_s = in->expires_unix_s;
}

/*
 * Decision (d): consume the code, clear the counters and admit, in one
 * transaction that re-checks the step against concurrent logins. Nothing
 * is consumed when no address is free.
 */
static void
grant(struct auth *a, struct attempt *t, struct auth_result *res)
{
	struct assign_ctx c = { &a->policy, t->name_log };
	struct userdb_grant g = {
		.username = t->name,
		.now_unix_s = t->req->now_unix_s,
		.lifetime_s = a->policy.session_lifetime_s,
		.has_step = !t->is_recovery,
		.step = t->step,
		.has_recovery = t->is_recovery,
		.recovery_id = t->recovery_id,
		.reset = t->keys,
		.n_reset = 2,
	};
	struct userdb_admission adm;
	int ret;

	memcpy(g.client_pub, t->req->client_pub, sizeof(g.client_pub));
	ret = userdb_grant(a->db, &g, assign_addresses, &c, &adm);
	switch (ret) {
	case 0:
		res->status = LOGIN_STATUS_OK;
		admission_copy(&res->adm, &adm);
		return;
	case -ENOSPC:
		res->status = LOGIN_STATUS_POOL_EXHAUSTED;
		t->reason = "no-free-address";
		return;
	case -EALREADY:
		t->reason = t->is_recovery ? "bad-recovery-code" : "reused-code";
		break;
	case -ENOENT:
		t->reason = "disabled";
		break;
	default:
		res->status = LOGIN_STATUS_BUSY;
		res->retry_after_s = STORE_RETRY_S;
		t->reason = "store-error";
		return;
	}
	record_failure(a, t);
}

void
auth_login(struct auth *a, const struct auth_request *req,
	   struct auth_result *res)
{
	struct attempt t;
	bool store_error;

	memset(res, 0, sizeof(*res));
	res->status = LOGIN_STATUS_AUTH_FAILED;
	attempt_init(&t, req);
	if (check_locks(a, &t, res))
		goto out;
	if (verify(a, &t, &store_error)) {
		grant(a, &t, res);
	} else if (store_error) {
		res->status = LOGIN_STATUS_BUSY;
		res->retry_after_s = STORE_RETRY_S;
		t.reason = "store-error";
	} else {
		record_failure(a, &t);
	}
out:
	audit(&t, res);
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
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return ret;
	if (username && strcmp(username, adm.username) != 0)
		return 0;
	admission_copy(out, &adm);
	return 1;
}

bool
auth_admission_get(struct auth *a, const uint8_t client_pub[32],
		   const char *username, uint64_t now_unix_s,
		   struct auth_admission *out)
{
	return auth_admission_lookup(a, client_pub, username, now_unix_s,
				     out) == 1;
}

void
auth_admission_end(struct auth *a, const uint8_t client_pub[32])
{
	/* userdb logs a failure; the admission then ends at its expiry. */
	(void)userdb_admission_end(a->db, client_pub);
}

int
auth_admissions_prune(struct auth *a, uint64_t now_unix_s)
{
	int n = userdb_admissions_prune(a->db, now_unix_s);

	(void)userdb_failures_prune(a->db, now_unix_s,
				    a->policy.lockout_max_time_s);
	return n;
}
