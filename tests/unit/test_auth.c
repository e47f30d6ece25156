// SPDX-License-Identifier: MIT
/*
 * The login decision (auth.c over a real SQLite store in a temporary
 * directory, with a fake clock): every kind of failure looks the same,
 * TOTP steps are accepted once and never backwards, lockout per user name
 * (known or not) and per source (IPv4 address, IPv6 /64) with doubling
 * capped locks, source counts that decay and that no success clears, the
 * limit exact with real threads logging in at once, address assignment
 * (sticky per user and key, fixed addresses, exhaustion that consumes
 * nothing, pools that changed: re-addressed admissions, leases from
 * another pool), admissions with their handshake stamps, the events vpnd
 * polls, recovery codes and the audit line. Test users get cheap Argon2id
 * hashes; the dummy hash for unknown users stays at the production cost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../vpnd/auth.h"
#include "../../vpnd/totp.h"
#include "../../vpnd/userdb.h"
#include "log.h"
#include "tstamp.h"

#define NOW 1700000020ULL /* 10 s into a 30 s step */
#define PW "correct horse"
#define SRC "198.51.100.7"
#define LOCK_N 3
#define LOCK_S 60
#define LOCK_MAX_S 240
#define DECAY_S 100
#define LIFETIME_S 3600

struct fx {
	char dir[64];
	char path[128];
	struct userdb *db;
	struct auth *a;
	struct auth_policy pol;
};

/* ---- fixture ---------------------------------------------------------------- */

static void
policy_default(struct auth_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->totp_window = 1;
	p->lockout_failures = LOCK_N;
	p->lockout_time_s = LOCK_S;
	p->lockout_max_time_s = LOCK_MAX_S;
	p->source_decay_s = DECAY_S;
	p->session_lifetime_s = LIFETIME_S;
	/* .0 network, .1 server, .2-.6 for clients, .7 broadcast */
	p->has_pool4 = true;
	p->pool4.family = AF_INET;
	p->pool4.len = 29;
	assert_int_equal(inet_pton(AF_INET, "10.99.0.0", p->pool4.addr), 1);
	p->has_pool6 = true;
	p->pool6.family = AF_INET6;
	p->pool6.len = 64;
	assert_int_equal(inet_pton(AF_INET6, "fd00:99::", p->pool6.addr), 1);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_auth.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	/* a parent that does not exist yet: the store creates it */
	snprintf(f->path, sizeof(f->path), "%s/lib/users.db", f->dir);
	policy_default(&f->pol);
	if (userdb_open(f->path, &f->db) < 0)
		return -1;
	f->a = auth_open(f->path, &f->pol);
	if (!f->a)
		return -1;
	*state = f;
	return 0;
}

/* Reopens auth with a changed policy. */
static void
reopen(struct fx *f)
{
	auth_close(f->a);
	f->a = auth_open(f->path, &f->pol);
	assert_non_null(f->a);
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char p[160];
	size_t i;

	auth_close(f->a);
	userdb_close(f->db);
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/lib", f->dir);
	rmdir(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* ---- helpers ---------------------------------------------------------------- */

/* Each test user's secret is its name, padded. */
static void
secret_of(const char *name, uint8_t s[TOTP_SECRET_LEN])
{
	memset(s, 'x', TOTP_SECRET_LEN);
	memcpy(s, name, strlen(name) < TOTP_SECRET_LEN ? strlen(name)
						       : TOTP_SECRET_LEN);
}

/* The code `name`'s phone shows at now + off steps. */
static const char *
code_of(const char *name, uint64_t now, int off)
{
	static const struct totp_params p = { TOTP_SHA1, 6, 30 };
	static char code[9];
	uint8_t s[TOTP_SECRET_LEN];

	secret_of(name, s);
	assert_true(totp_generate(s, sizeof(s), &p, totp_step(&p, now) + off,
				  code));
	return code;
}

static void
add_user_ex(struct fx *f, const char *name, const char *addr4,
	    uint32_t lifetime_s)
{
	struct userdb_user u;

	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "%s", name);
	assert_int_equal(crypto_pwhash_str(u.pw_hash, PW, strlen(PW),
					   crypto_pwhash_OPSLIMIT_MIN,
					   crypto_pwhash_MEMLIMIT_MIN),
			 0);
	secret_of(name, u.totp_secret);
	u.totp_secret_len = TOTP_SECRET_LEN;
	u.totp = (struct totp_params){ TOTP_SHA1, 6, 30 };
	u.is_enabled = true;
	u.created_unix_s = NOW;
	if (addr4) {
		u.has_addr4 = true;
		assert_int_equal(inet_pton(AF_INET, addr4, u.addr4), 1);
	}
	u.has_lifetime = lifetime_s != 0;
	u.lifetime_s = lifetime_s;
	assert_int_equal(userdb_user_add(f->db, &u), 0);
}

static void
add_user(struct fx *f, const char *name)
{
	add_user_ex(f, name, NULL, 0);
}

static void
request_init(struct auth_request *req, const char *name, const char *pw,
	     const char *code, const char *src, uint8_t key, uint64_t now)
{
	memset(req, 0, sizeof(*req));
	memset(req->client_pub, key, sizeof(req->client_pub));
	snprintf(req->username, sizeof(req->username), "%s", name);
	req->password_len = strlen(pw);
	memcpy(req->password, pw, req->password_len);
	snprintf(req->code, sizeof(req->code), "%s", code);
	if (inet_pton(AF_INET, src, req->src_addr) == 1) {
		req->src_family = AF_INET;
	} else {
		assert_int_equal(inet_pton(AF_INET6, src, req->src_addr), 1);
		req->src_family = AF_INET6;
	}
	req->src_port = 40000;
	req->now_unix_s = now;
}

static struct auth_result
login_from(struct fx *f, const char *name, const char *pw, const char *code,
	   const char *src, uint8_t key, uint64_t now)
{
	struct auth_request req;
	struct auth_result res;

	request_init(&req, name, pw, code, src, key, now);
	auth_login(f->a, &req, &res);
	return res;
}

static struct auth_result
login(struct fx *f, const char *name, const char *pw, const char *code,
      uint8_t key, uint64_t now)
{
	return login_from(f, name, pw, code, SRC, key, now);
}

static void
assert_addr4(const struct auth_result *r, const char *text)
{
	uint8_t want[4];

	assert_int_equal(r->status, LOGIN_STATUS_OK);
	assert_true(r->adm.has_addr4);
	assert_int_equal(inet_pton(AF_INET, text, want), 1);
	assert_memory_equal(r->adm.addr4, want, 4);
}

/* A login with the right password and the code of `now` + off steps must
 * give addr4. */
static struct auth_result
login_expect(struct fx *f, const char *name, int off, uint8_t key,
	     uint64_t now, const char *addr4)
{
	struct auth_result r = login(f, name, PW, code_of(name, now, off), key,
				     now);

	assert_addr4(&r, addr4);
	return r;
}

static void
key_of(uint8_t key, uint8_t out[32])
{
	memset(out, key, 32);
}

/* stderr (where log lines go) into a file, at LOG_NOTICE, until
 * capture_end, which returns what was written. */
struct capture {
	char path[160];
	int fd, saved;
};

static void
capture_start(struct fx *f, struct capture *c)
{
	snprintf(c->path, sizeof(c->path), "%s/log", f->dir);
	c->fd = open(c->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(c->fd >= 0);
	c->saved = dup(STDERR_FILENO);
	dup2(c->fd, STDERR_FILENO);
	log_set_level(LOG_NOTICE);
}

static char *
capture_end(struct capture *c)
{
	static char buf[4096];
	ssize_t n;

	log_set_level(LOG_WARNING);
	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	n = pread(c->fd, buf, sizeof(buf) - 1, 0);
	close(c->fd);
	unlink(c->path);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* ---- the decision ----------------------------------------------------------- */

static void
test_login_ok(void **state)
{
	struct fx *f = *state;
	struct auth_admission adm;
	struct auth_result r;
	uint8_t pub[32], want6[16];

	add_user(f, "alice");
	r = login(f, "alice", PW, code_of("alice", NOW, 0), 1, NOW);
	assert_addr4(&r, "10.99.0.2");
	assert_true(r.adm.has_addr6);
	assert_int_equal(inet_pton(AF_INET6, "fd00:99::2", want6), 1);
	assert_memory_equal(r.adm.addr6, want6, 16);
	assert_string_equal(r.adm.username, "alice");
	assert_int_equal(r.adm.expires_unix_s, NOW + LIFETIME_S);
	key_of(1, pub);
	assert_true(auth_admission_get(f->a, pub, NULL, NOW + 1, &adm));
	assert_memory_equal(adm.addr4, r.adm.addr4, 4);
}

/* Rule 3: every kind of failure is AUTH_FAILED, with nothing else. */
static void
test_failures_look_alike(void **state)
{
	struct fx *f = *state;
	struct auth_result r[5];
	uint8_t pub[32];
	struct auth_admission adm;
	size_t i;

	f->pol.lockout_failures = 0; /* no locks in this test */
	reopen(f);
	add_user(f, "alice");
	add_user(f, "dave");
	assert_int_equal(userdb_user_set_enabled(f->db, "dave", false), 0);
	r[0] = login(f, "alice", "wrong", code_of("alice", NOW, 0), 1, NOW);
	r[1] = login(f, "alice", PW, code_of("bob", NOW, 0), 1, NOW);
	r[2] = login(f, "bob", PW, code_of("bob", NOW, 0), 1, NOW);
	r[3] = login(f, "dave", PW, code_of("dave", NOW, 0), 1, NOW);
	r[4] = login(f, "alice", PW, "not-a-recovery-code", 1, NOW);
	for (i = 0; i < 5; i++) {
		assert_int_equal(r[i].status, LOGIN_STATUS_AUTH_FAILED);
		assert_int_equal(r[i].retry_after_s, 0);
		assert_false(r[i].adm.has_addr4);
	}
	key_of(1, pub);
	assert_false(auth_admission_get(f->a, pub, NULL, NOW, &adm));
	/* the wrong attempts consumed nothing */
	r[0] = login(f, "alice", PW, code_of("alice", NOW, 0), 1, NOW);
	assert_int_equal(r[0].status, LOGIN_STATUS_OK);
}

/* Rule 4: the same step twice is refused, inside the window too. */
static void
test_code_reuse(void **state)
{
	struct fx *f = *state;
	struct auth_result r;
	char code[9];

	add_user(f, "alice");
	snprintf(code, sizeof(code), "%s", code_of("alice", NOW, 0));
	r = login(f, "alice", PW, code, 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
	r = login(f, "alice", PW, code, 2, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_AUTH_FAILED);
	r = login(f, "alice", PW, code, 1, NOW + 19);
	assert_int_equal(r.status, LOGIN_STATUS_AUTH_FAILED);
}

static void
test_earlier_step_refused(void **state)
{
	struct fx *f = *state;
	struct auth_result r;

	add_user(f, "alice");
	r = login(f, "alice", PW, code_of("alice", NOW, 1), 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
	r = login(f, "alice", PW, code_of("alice", NOW, 0), 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_AUTH_FAILED);
	r = login(f, "alice", PW, code_of("alice", NOW, -1), 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_AUTH_FAILED);
}

static void
test_later_step_once(void **state)
{
	struct fx *f = *state;
	struct auth_result r;
	char later[9];

	add_user(f, "alice");
	r = login(f, "alice", PW, code_of("alice", NOW, -1), 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
	r = login(f, "alice", PW, code_of("alice", NOW, 0), 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
	snprintf(later, sizeof(later), "%s", code_of("alice", NOW, 1));
	r = login(f, "alice", PW, later, 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
	r = login(f, "alice", PW, later, 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_AUTH_FAILED);
	/* and outside the window, never */
	r = login(f, "alice", PW, code_of("alice", NOW, 3), 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_AUTH_FAILED);
}

/* ---- lockout ---------------------------------------------------------------- */

static void
fail_n(struct fx *f, const char *name, const char *src, unsigned int n,
       uint64_t now)
{
	struct auth_result r;
	unsigned int i;

	for (i = 0; i < n; i++) {
		r = login_from(f, name, "wrong", "000000", src, 9, now);
		/* the request that reaches the limit is still AUTH_FAILED */
		assert_int_equal(r.status, LOGIN_STATUS_AUTH_FAILED);
	}
}

static void
test_lockout(void **state)
{
	struct fx *f = *state;
	struct auth_result r;

	add_user(f, "alice");
	fail_n(f, "alice", SRC, LOCK_N, NOW);
	/* the next one is LOCKED, a correct one included */
	r = login(f, "alice", PW, code_of("alice", NOW, 0), 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_LOCKED);
	assert_int_equal(r.retry_after_s, LOCK_S);
	/* from elsewhere too: the user name is locked */
	r = login_from(f, "alice", PW, code_of("alice", NOW, 0), "192.0.2.9",
		       1, NOW + 20);
	assert_int_equal(r.status, LOGIN_STATUS_LOCKED);
	assert_int_equal(r.retry_after_s, LOCK_S - 20);
	r = login(f, "alice", PW, code_of("alice", NOW, 0), 1, NOW + LOCK_S - 1);
	assert_int_equal(r.status, LOGIN_STATUS_LOCKED);
	assert_int_equal(r.retry_after_s, 1);
	/* released; the LOCKED answers consumed no step */
	r = login(f, "alice", PW, code_of("alice", NOW + LOCK_S, 0), 1,
		  NOW + LOCK_S);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
	/*
	 * The success cleared the user's counter, not the source's: one
	 * more failure from there locks it again, for twice as long; from
	 * elsewhere, alice's one failure is no lock.
	 */
	fail_n(f, "alice", SRC, 1, NOW + LOCK_S);
	r = login(f, "alice", PW, code_of("alice", NOW + LOCK_S, 1), 1,
		  NOW + LOCK_S);
	assert_int_equal(r.status, LOGIN_STATUS_LOCKED);
	assert_int_equal(r.retry_after_s, 2 * LOCK_S);
	r = login_from(f, "alice", PW, code_of("alice", NOW + LOCK_S, 1),
		       "192.0.2.77", 1, NOW + LOCK_S);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
}

/* Each failure past the limit doubles the lock, up to the cap; a key idle
 * for longer than the cap starts from zero. */
static void
test_lockout_growth(void **state)
{
	static const uint32_t want[] = { 60, 120, 240, 240, 240 };
	struct fx *f = *state;
	struct auth_result r;
	uint64_t t = NOW;
	char src[32];
	size_t i;

	add_user(f, "alice");
	fail_n(f, "alice", "192.0.2.100", LOCK_N, t);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		/* a new source each time: only the user name is locked */
		snprintf(src, sizeof(src), "192.0.2.%zu", i + 1);
		r = login_from(f, "alice", PW, "000000", src, 1, t);
		assert_int_equal(r.status, LOGIN_STATUS_LOCKED);
		assert_int_equal(r.retry_after_s, want[i]);
		t += want[i];
		fail_n(f, "alice", src, 1, t);
	}
	/* idle for longer than the cap after the last lock ends */
	t += LOCK_MAX_S + LOCK_MAX_S + 1;
	r = login_from(f, "alice", PW, code_of("alice", t, 0), "192.0.2.50", 1,
		       t);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
	/* a fresh count: two failures are not enough to lock */
	fail_n(f, "alice", "192.0.2.51", LOCK_N - 1, t);
	r = login_from(f, "alice", PW, code_of("alice", t, 1), "192.0.2.52", 1,
		       t);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
}

/* A user's count starts again after LOCK_MAX_S without failures; the
 * source's has decayed by then (one per DECAY_S). */
static void
test_counters_reset_after_idle(void **state)
{
	struct fx *f = *state;
	struct auth_result r;
	uint64_t t = NOW;

	add_user(f, "alice");
	fail_n(f, "alice", SRC, LOCK_N - 1, t);
	t += LOCK_MAX_S + 1;
	fail_n(f, "alice", SRC, 1, t);
	r = login(f, "alice", PW, code_of("alice", t, 0), 1, t);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
}

/* Rule 4: unknown names are counted, so LOCKED reveals no name. */
static void
test_unknown_names_counted(void **state)
{
	struct fx *f = *state;
	struct auth_result r;
	char src[32];
	unsigned int i;

	for (i = 0; i < LOCK_N; i++) {
		snprintf(src, sizeof(src), "203.0.113.%u", i + 1);
		fail_n(f, "mallory", src, 1, NOW);
	}
	r = login_from(f, "mallory", PW, "123456", "203.0.113.99", 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_LOCKED);
	assert_int_equal(r.retry_after_s, LOCK_S);
}

/* CPU time this thread has used, in ns. */
static uint64_t
thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * Rule 4: an unknown name fails after a real Argon2id check at the
 * production cost, though the stand-in hash was made from random bytes.
 * CPU time, as a ratio against a real check in the same run: the stand-in
 * must cost at least half of it (a malformed stand-in fails at once).
 */
static void
test_unknown_name_costs_a_hash(void **state)
{
	struct fx *f = *state;
	char hash[crypto_pwhash_STRBYTES];
	uint64_t t0, real_ns, unknown_ns;

	assert_int_equal(auth_self_check(), 0);
	assert_int_equal(crypto_pwhash_str(hash, PW, strlen(PW),
					   crypto_pwhash_OPSLIMIT_INTERACTIVE,
					   crypto_pwhash_MEMLIMIT_INTERACTIVE),
			 0);
	t0 = thread_cpu_ns();
	assert_int_equal(crypto_pwhash_str_verify(hash, "wrong", 5), -1);
	real_ns = thread_cpu_ns() - t0;
	t0 = thread_cpu_ns();
	fail_n(f, "nobody", SRC, 1, NOW);
	unknown_ns = thread_cpu_ns() - t0;
	assert_true(unknown_ns * 2 >= real_ns);
}

static void
test_source_lockout(void **state)
{
	struct fx *f = *state;
	struct auth_result r;

	add_user(f, "alice");
	fail_n(f, "bob", SRC, 1, NOW);
	fail_n(f, "carol", SRC, 1, NOW);
	fail_n(f, "dave", SRC, 1, NOW);
	/* the source is locked for everyone, alice included */
	r = login(f, "alice", PW, code_of("alice", NOW, 0), 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_LOCKED);
	assert_int_equal(r.retry_after_s, LOCK_S);
	/* an IPv4-mapped IPv6 source is the same IPv4 source */
	r = login_from(f, "alice", PW, code_of("alice", NOW, 0),
		       "::ffff:198.51.100.7", 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_LOCKED);
	/* alice from elsewhere is fine */
	r = login_from(f, "alice", PW, code_of("alice", NOW, 0), "192.0.2.1", 1,
		       NOW);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
}

static void
test_ipv6_source_grouped_by_64(void **state)
{
	struct fx *f = *state;
	struct auth_result r;

	add_user(f, "alice");
	fail_n(f, "bob", "2001:db8:1:2::1", 1, NOW);
	fail_n(f, "carol", "2001:db8:1:2::2", 1, NOW);
	fail_n(f, "dave", "2001:db8:1:2:aaaa::3", 1, NOW);
	r = login_from(f, "alice", PW, code_of("alice", NOW, 0),
		       "2001:db8:1:2:ffff:ffff:ffff:ffff", 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_LOCKED);
	r = login_from(f, "alice", PW, code_of("alice", NOW, 0),
		       "2001:db8:1:3::1", 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
}

/*
 * A source's count decays by one per DECAY_S since its last failure; other
 * accounts' successes never reset it, and give back exactly what they took
 * (their own count, their own lock, the decay clock). Distinct wrong names
 * (unknown, so each a fresh user counter) fail from SRC; alice logs in
 * right.
 */
static void
test_source_decay(void **state)
{
	static const struct {
		uint64_t t;
		const char *who; /* NULL: alice, right */
		enum login_status want;
		uint32_t retry_after_s;
	} v[] = {
		{ 0, "u1", LOGIN_STATUS_AUTH_FAILED, 0 },
		{ 0, "u2", LOGIN_STATUS_AUTH_FAILED, 0 },
		{ 99, "u3", LOGIN_STATUS_AUTH_FAILED, 0 }, /* 3: locked */
		{ 100, NULL, LOGIN_STATUS_LOCKED, 59 },
		/* unlocked, still 3: alice's attempt takes the count to 4
		 * and sets a lock, verifies, and gives both back */
		{ 159, NULL, LOGIN_STATUS_OK, 0 },
		{ 159, "u4", LOGIN_STATUS_AUTH_FAILED, 0 }, /* 4: 120 s */
		{ 160, NULL, LOGIN_STATUS_LOCKED, 119 },
		/* 120 s after u4: one decay, 3 again; alice gets in */
		{ 279, NULL, LOGIN_STATUS_OK, 0 },
		/* two more decays from where alice left it (259): 1 */
		{ 459, "u5", LOGIN_STATUS_AUTH_FAILED, 0 },
		{ 459, NULL, LOGIN_STATUS_OK, 0 },
		{ 459, "u6", LOGIN_STATUS_AUTH_FAILED, 0 }, /* 3: 60 s */
		{ 460, NULL, LOGIN_STATUS_LOCKED, 59 },
	};
	struct fx *f = *state;
	struct userdb_failure_key src = { USERDB_FAILURE_SOURCE, SRC };
	struct userdb_failure fc;
	struct auth_result r;
	size_t i;

	add_user(f, "alice");
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint64_t t = NOW + v[i].t;

		print_message("step %zu at +%llu\n", i,
			      (unsigned long long)v[i].t);
		if (v[i].who)
			r = login(f, v[i].who, "wrong", "000000", 9, t);
		else
			r = login(f, "alice", PW, code_of("alice", t, 0), 1,
				  t);
		assert_int_equal(r.status, v[i].want);
		assert_int_equal(r.retry_after_s, v[i].retry_after_s);
		if (i == 7) {
			/* as u4 left it, one decay period on */
			assert_int_equal(userdb_failure_get(f->db, &src, &fc),
					 0);
			assert_int_equal(fc.count, 3);
			assert_int_equal(fc.last_unix_s, NOW + 259);
			assert_int_equal(fc.locked_until_unix_s, 0);
		}
	}
}

struct race {
	const char *path;
	const struct auth_policy *pol;
	pthread_barrier_t *start;
	atomic_int next;
	int attempts;
	bool same_user;   /* else one name per attempt */
	bool same_source; /* else one source per attempt */
	atomic_int failed, locked, other;
};

static void *
race_thread(void *arg)
{
	struct race *c = arg;
	struct auth *a = auth_open(c->path, c->pol);
	struct auth_request req;
	struct auth_result res;
	int i;

	pthread_barrier_wait(c->start);
	if (!a)
		return (void *)1;
	while ((i = atomic_fetch_add(&c->next, 1)) < c->attempts) {
		memset(&req, 0, sizeof(req));
		memset(req.client_pub, 9, sizeof(req.client_pub));
		snprintf(req.username, sizeof(req.username), "%s%d",
			 c->same_user ? "mallory" : "guess", c->same_user ? 0 : i);
		req.password_len = 5;
		memcpy(req.password, "wrong", 5);
		snprintf(req.code, sizeof(req.code), "000000");
		req.src_family = AF_INET;
		memcpy(req.src_addr, "\xc6\x33\x64", 3);
		req.src_addr[3] = (uint8_t)(c->same_source ? 7 : 100 + i);
		req.src_port = 40000;
		req.now_unix_s = NOW;
		auth_login(a, &req, &res);
		if (res.status == LOGIN_STATUS_AUTH_FAILED)
			atomic_fetch_add(&c->failed, 1);
		else if (res.status == LOGIN_STATUS_LOCKED)
			atomic_fetch_add(&c->locked, 1);
		else
			atomic_fetch_add(&c->other, 1);
	}
	auth_close(a);
	return NULL;
}

/*
 * Rule 4 under concurrency, with real threads and a store file each
 * connects to on its own, as vpnd's auth workers do: with a limit of 5,
 * 12 wrong attempts at once make exactly 5 verifications (AUTH_FAILED)
 * and 7 LOCKED answers, whether the user name, the source or both are
 * shared.
 */
static void
test_lockout_exact_concurrent(void **state)
{
	static const struct {
		bool same_user, same_source;
	} v[] = { { true, true }, { true, false }, { false, true } };
	enum { WORKERS = 4, ATTEMPTS = 12, LIMIT = 5 };
	struct fx *f = *state;
	pthread_t t[WORKERS];
	pthread_barrier_t start;
	void *ret;
	size_t i;
	int k;

	/* Unknown names: each verification costs a production Argon2id,
	 * which leaves a check-then-count design plenty of room to race. */
	f->pol.lockout_failures = LIMIT;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct race c = { .path = f->path, .pol = &f->pol,
				  .start = &start, .attempts = ATTEMPTS,
				  .same_user = v[i].same_user,
				  .same_source = v[i].same_source };

		print_message("same user %d, same source %d\n",
			      v[i].same_user, v[i].same_source);
		assert_int_equal(pthread_barrier_init(&start, NULL, WORKERS),
				 0);
		for (k = 0; k < WORKERS; k++)
			assert_int_equal(pthread_create(&t[k], NULL,
							race_thread, &c),
					 0);
		for (k = 0; k < WORKERS; k++) {
			assert_int_equal(pthread_join(t[k], &ret), 0);
			assert_null(ret);
		}
		pthread_barrier_destroy(&start);
		assert_int_equal(atomic_load(&c.failed), LIMIT);
		assert_int_equal(atomic_load(&c.locked), ATTEMPTS - LIMIT);
		assert_int_equal(atomic_load(&c.other), 0);
		/* the next round starts from clean counters */
		assert_int_equal(userdb_failures_prune(f->db,
						       USERDB_FAILURE_USER,
						       UINT32_MAX, 0, 0),
				 v[i].same_user ? 1 : LIMIT);
		assert_int_equal(userdb_failures_prune(f->db,
						       USERDB_FAILURE_SOURCE,
						       UINT32_MAX, 0, 0),
				 v[i].same_source ? 1 : LIMIT);
	}
}

/* ---- addresses -------------------------------------------------------------- */

static void
test_pool_sticky(void **state)
{
	struct fx *f = *state;
	uint8_t pub[32];

	add_user(f, "alice");
	add_user(f, "bob");
	login_expect(f, "alice", -1, 1, NOW, "10.99.0.2");
	login_expect(f, "bob", -1, 2, NOW, "10.99.0.3");
	/* logging in again with the same key keeps the address */
	login_expect(f, "alice", 0, 1, NOW, "10.99.0.2");
	/* both leave; bob comes back first and still gets his own */
	key_of(1, pub);
	auth_admission_end(f->a, pub);
	key_of(2, pub);
	auth_admission_end(f->a, pub);
	login_expect(f, "bob", 0, 2, NOW, "10.99.0.3");
	/* alice on a second device: the lowest free, not her first one's */
	login_expect(f, "alice", 1, 3, NOW, "10.99.0.2");
	/* and her first device, its lease now taken, gets the next free */
	login_expect(f, "alice", 1, 1, NOW + 30, "10.99.0.4");
}

static void
test_pool_fixed(void **state)
{
	struct fx *f = *state;
	struct auth_admission adm;
	uint8_t pub[32];

	add_user(f, "bob");
	login_expect(f, "bob", 0, 2, NOW, "10.99.0.2");
	/* carol's fixed address is bob's dynamic one: she wins it */
	add_user_ex(f, "carol", "10.99.0.2", 0);
	add_user_ex(f, "erin", "10.99.0.3", 0);
	login_expect(f, "carol", 0, 3, NOW, "10.99.0.2");
	key_of(2, pub);
	assert_false(auth_admission_get(f->a, pub, NULL, NOW, &adm));
	/* bob again: .2 and .3 are fixed addresses of others */
	login_expect(f, "bob", 1, 2, NOW, "10.99.0.4");
	/* a fixed address outside the pool is ignored */
	add_user_ex(f, "frank", "10.1.1.1", 0);
	login_expect(f, "frank", 0, 4, NOW, "10.99.0.5");
}

static void
test_pool_exhausted(void **state)
{
	static const char *const names[] = { "u2", "u3", "u4", "u5", "u6" };
	struct fx *f = *state;
	struct auth_result r;
	uint8_t pub[32];
	char code[9];
	size_t i;

	for (i = 0; i < 5; i++) {
		add_user(f, names[i]);
		r = login(f, names[i], PW, code_of(names[i], NOW, 0),
			  (uint8_t)(10 + i), NOW);
		assert_int_equal(r.status, LOGIN_STATUS_OK);
	}
	add_user(f, "late");
	snprintf(code, sizeof(code), "%s", code_of("late", NOW, 0));
	/* more than the lockout limit: exhaustion is not a failure */
	for (i = 0; i < LOCK_N + 1; i++) {
		r = login(f, "late", PW, code, 20, NOW);
		assert_int_equal(r.status, LOGIN_STATUS_POOL_EXHAUSTED);
		assert_false(r.adm.has_addr4);
	}
	/* an address frees; the same code now works, once */
	key_of(12, pub);
	auth_admission_end(f->a, pub);
	r = login(f, "late", PW, code, 20, NOW);
	assert_addr4(&r, "10.99.0.4");
	r = login(f, "late", PW, code, 20, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_AUTH_FAILED);
}

/* Expired admissions hold no address. */
static void
test_pool_expired_frees(void **state)
{
	struct fx *f = *state;
	struct auth_result r;
	uint64_t later = NOW + LIFETIME_S;

	add_user_ex(f, "alice", NULL, 60);
	add_user(f, "bob");
	r = login_expect(f, "alice", 0, 1, NOW, "10.99.0.2");
	assert_int_equal(r.adm.expires_unix_s, NOW + 60);
	login_expect(f, "bob", 0, 2, later, "10.99.0.2");
}

/* Reopens auth with these pools (NULL: none of that family). */
static void
set_pools(struct fx *f, const char *pool4, const char *pool6)
{
	f->pol.has_pool4 = pool4 != NULL;
	if (pool4)
		assert_true(prefix_parse(pool4, &f->pol.pool4));
	f->pol.has_pool6 = pool6 != NULL;
	if (pool6)
		assert_true(prefix_parse(pool6, &f->pol.pool6));
	reopen(f);
}

static void
assert_adm(const struct auth_admission *adm, const char *a4,
	   const char *a6)
{
	uint8_t want[16];

	assert_int_equal(adm->has_addr4, a4 != NULL);
	if (a4) {
		assert_int_equal(inet_pton(AF_INET, a4, want), 1);
		assert_memory_equal(adm->addr4, want, 4);
	}
	assert_int_equal(adm->has_addr6, a6 != NULL);
	if (a6) {
		assert_int_equal(inet_pton(AF_INET6, a6, want), 1);
		assert_memory_equal(adm->addr6, want, 16);
	}
}

/* A lookup of key with the log captured; returns what it logged. */
static char *
lookup_logged(struct fx *f, uint8_t key, const char *username, int want,
	      struct auth_admission *adm)
{
	struct capture c;
	uint8_t pub[32];

	key_of(key, pub);
	capture_start(f, &c);
	assert_int_equal(auth_admission_lookup(f->a, pub, username, NOW, adm),
			 want);
	return capture_end(&c);
}

/*
 * The rule: a resumed admission whose address is outside the
 * current pool gets a new one (by the login's rules) and a log line; one
 * family gained or dropped from the configuration likewise; one that the
 * pool has no room for is not admitted here, and left for other servers.
 */
static void
test_readdress_on_lookup(void **state)
{
	struct fx *f = *state;
	struct auth_admission adm;
	uint8_t pub[32];
	char *log;

	add_user(f, "alice");
	add_user_ex(f, "bob", "10.88.0.5", 0);
	login_expect(f, "alice", 0, 1, NOW, "10.99.0.2");
	login_expect(f, "bob", 0, 2, NOW, "10.99.0.3");

	set_pools(f, "10.88.0.0/29", "fd00:99::/64");
	log = lookup_logged(f, 1, NULL, 1, &adm);
	assert_adm(&adm, "10.88.0.2", "fd00:99::2");
	assert_string_equal(log, "test_auth: user alice: address "
				 "10.99.0.2 is outside the pool; now "
				 "10.88.0.2\n");
	/* stored: the next lookup finds it in the pool and says nothing */
	log = lookup_logged(f, 1, "alice", 1, &adm);
	assert_adm(&adm, "10.88.0.2", "fd00:99::2");
	assert_string_equal(log, "");
	assert_string_equal(adm.username, "alice");
	assert_int_equal(adm.expires_unix_s, NOW + LIFETIME_S);
	/* bob's fixed address is in this pool: he gets it */
	lookup_logged(f, 2, NULL, 1, &adm);
	assert_adm(&adm, "10.88.0.5", "fd00:99::3");
	/* rule 6 still: another user's name is no admission */
	lookup_logged(f, 1, "bob", 0, &adm);

	set_pools(f, "10.88.0.0/29", NULL);
	log = lookup_logged(f, 1, NULL, 1, &adm);
	assert_adm(&adm, "10.88.0.2", NULL);
	assert_non_null(strstr(log, "user alice: address fd00:99::2 is "
				    "outside the pool; now none\n"));
	set_pools(f, "10.88.0.0/29", "fd00:99::/64");
	log = lookup_logged(f, 1, NULL, 1, &adm);
	assert_adm(&adm, "10.88.0.2", "fd00:99::2"); /* its lease again */
	assert_non_null(strstr(log, "user alice: address none is outside "
				    "the pool; now fd00:99::2\n"));

	/* room for one: alice first; bob is not admitted by this server */
	set_pools(f, "10.77.0.0/30", NULL);
	lookup_logged(f, 1, NULL, 1, &adm);
	assert_adm(&adm, "10.77.0.2", NULL);
	log = lookup_logged(f, 2, NULL, 0, &adm);
	assert_non_null(strstr(log, "user bob: the admission's addresses are "
				    "outside the pool, and the pool has none "
				    "free"));
	key_of(2, pub);
	set_pools(f, "10.88.0.0/29", "fd00:99::/64");
	lookup_logged(f, 2, NULL, 1, &adm);
	assert_adm(&adm, "10.88.0.5", "fd00:99::3");
}

/* A grant never hands out an address outside the pool, whatever lease
 * another server (another pool, the same store) left. */
static void
test_grant_ignores_other_pool_lease(void **state)
{
	struct fx *f = *state;
	struct auth_result r;
	uint8_t pub[32];

	add_user(f, "alice");
	add_user(f, "bob");
	login_expect(f, "alice", 0, 1, NOW, "10.99.0.2");
	key_of(1, pub);
	auth_admission_end(f->a, pub);
	set_pools(f, "10.88.0.0/29", "fd00:88::/64");
	/* bob, admitted here, holds .2: alice's lease is outside anyway */
	login_expect(f, "bob", 0, 2, NOW, "10.88.0.2");
	r = login_expect(f, "alice", 1, 1, NOW, "10.88.0.3");
	assert_adm(&r.adm, "10.88.0.3", "fd00:88::3");
}

/* ---- admissions ------------------------------------------------------------- */

static void
test_admissions(void **state)
{
	struct fx *f = *state;
	struct auth_admission adm;
	struct auth_result r;
	uint8_t pub[32], other[32];
	uint64_t exp;

	add_user(f, "alice");
	add_user(f, "bob");
	key_of(1, pub);
	key_of(7, other);
	assert_false(auth_admission_get(f->a, pub, NULL, NOW, &adm));
	r = login(f, "alice", PW, code_of("alice", NOW, 0), 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
	exp = r.adm.expires_unix_s;
	/* rule 6: with a user name it must be the admission's */
	assert_true(auth_admission_get(f->a, pub, "alice", NOW, &adm));
	assert_string_equal(adm.username, "alice");
	assert_int_equal(adm.expires_unix_s, exp);
	assert_false(auth_admission_get(f->a, pub, "bob", NOW, &adm));
	assert_false(auth_admission_get(f->a, other, NULL, NOW, &adm));
	/* expiry */
	assert_true(auth_admission_get(f->a, pub, NULL, exp - 1, &adm));
	assert_false(auth_admission_get(f->a, pub, NULL, exp, &adm));
	assert_int_equal(auth_admissions_prune(f->a, exp - 1), 0);
	assert_int_equal(auth_admissions_prune(f->a, exp), 1);
	/* end */
	r = login(f, "bob", PW, code_of("bob", NOW, 0), 7, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
	assert_true(auth_admission_get(f->a, other, NULL, NOW, &adm));
	auth_admission_end(f->a, other);
	assert_false(auth_admission_get(f->a, other, NULL, NOW, &adm));
	/* disabling, or deleting, the account ends it */
	r = login(f, "bob", PW, code_of("bob", NOW, 1), 7, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
	assert_int_equal(userdb_user_set_enabled(f->db, "bob", false), 0);
	assert_false(auth_admission_get(f->a, other, NULL, NOW, &adm));
	r = login(f, "alice", PW, code_of("alice", NOW, 1), 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
	assert_int_equal(userdb_user_del(f->db, "alice"), 0);
	assert_false(auth_admission_get(f->a, pub, NULL, NOW, &adm));
}

/*
 * A store that cannot answer is not "no admission": vpnd keeps what it
 * knew rather than end an admission over it (rule 1). The admissions
 * table renamed away by another connection makes every lookup fail.
 */
static void
test_admission_store_error(void **state)
{
	struct fx *f = *state;
	struct auth_admission adm;
	struct auth_result r;
	uint8_t pub[32];
	sqlite3 *db;

	add_user(f, "alice");
	key_of(1, pub);
	r = login(f, "alice", PW, code_of("alice", NOW, 0), 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
	assert_int_equal(auth_admission_lookup(f->a, pub, NULL, NOW, &adm), 1);
	assert_int_equal(auth_admission_lookup(f->a, pub, "bob", NOW, &adm),
			 0);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, "ALTER TABLE admissions RENAME TO "
					  "admissions_away", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_true(auth_admission_lookup(f->a, pub, NULL, NOW, &adm) < 0);
	assert_true(auth_admission_lookup(f->a, pub, "alice", NOW, &adm) < 0);
	assert_false(auth_admission_get(f->a, pub, NULL, NOW, &adm));
	assert_int_equal(sqlite3_exec(db, "ALTER TABLE admissions_away RENAME "
					  "TO admissions", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(auth_admission_lookup(f->a, pub, NULL, NOW, &adm), 1);
	assert_string_equal(adm.username, "alice");
}

struct seen_events {
	struct auth_event e[8];
	size_t n;
};

static void
keep_event(void *arg, const struct auth_event *e)
{
	struct seen_events *s = arg;

	assert_true(s->n < 8);
	s->e[s->n++] = *e;
}

static void
assert_event(const struct auth_event *e, const char *name, uint8_t key,
	     const char *reason)
{
	uint8_t pub[32];

	key_of(key, pub);
	assert_string_equal(e->username, name);
	assert_memory_equal(e->client_pub, pub, 32);
	assert_string_equal(e->reason, reason);
}

/* What vpnd polls: one event per admission an account change or a
 * LOGOUT ended, each once, in order; *seq moves past them. */
static void
test_events(void **state)
{
	struct fx *f = *state;
	struct seen_events ev = { .n = 0 };
	uint64_t seq = 12345, head = 1;
	uint8_t pub[32];
	sqlite3 *raw;

	add_user(f, "alice");
	add_user(f, "bob");
	assert_int_equal(auth_events_head(f->a, &head), 0);
	assert_int_equal(head, 0);
	seq = head;
	assert_int_equal(auth_events_poll(f->a, &seq, keep_event, &ev), 0);
	assert_int_equal(seq, 0);
	login_expect(f, "alice", 0, 1, NOW, "10.99.0.2");
	login_expect(f, "alice", 1, 2, NOW, "10.99.0.3");
	login_expect(f, "bob", 0, 3, NOW, "10.99.0.4");
	/* vpnctl's connection */
	assert_int_equal(userdb_user_set_password(f->db, "alice", "$x"), 0);
	assert_int_equal(auth_events_poll(f->a, &seq, keep_event, &ev), 2);
	assert_event(&ev.e[0], "alice", 1, "password changed");
	assert_event(&ev.e[1], "alice", 2, "password changed");
	assert_int_equal(seq, ev.e[1].seq);
	assert_int_equal(auth_events_poll(f->a, &seq, keep_event, &ev), 0);
	/* this connection's own LOGOUT */
	key_of(3, pub);
	auth_admission_end(f->a, pub);
	auth_admission_end(f->a, pub); /* nothing left to end */
	assert_int_equal(auth_events_poll(f->a, &seq, keep_event, &ev), 1);
	assert_event(&ev.e[2], "bob", 3, "logged out");
	assert_int_equal(auth_events_head(f->a, &head), 0);
	assert_int_equal(head, seq);
	/* a kind this vpnd does not know is passed over, seq and all */
	assert_int_equal(sqlite3_open(f->path, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw,
				      "INSERT INTO events (time, kind, user, "
				      "client_key, reason) VALUES (1, "
				      "'from-the-future', 'x', zeroblob(32), "
				      "'?')",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(raw);
	assert_int_equal(auth_events_poll(f->a, &seq, keep_event, &ev), 0);
	assert_int_equal(seq, head + 1);
	assert_int_equal(ev.n, 3);
}

static void
stamp_of(uint8_t out[TAI64N_LEN], uint64_t unix_s)
{
	tai64n_encode(out, unix_s * 1000000000ULL);
}

struct each_seen {
	size_t n;
	uint8_t key;
	struct auth_admission adm;
};

static void
each_one(void *arg, const uint8_t client_pub[32],
	 const struct auth_admission *adm)
{
	struct each_seen *s = arg;

	s->n++;
	s->key = client_pub[0];
	s->adm = *adm;
}

/* The stamp of the handshake that logged in stays with the admission and
 * only rises; every live admission is listed for vpnd's start, in the
 * current pool. */
static void
test_stamps(void **state)
{
	struct fx *f = *state;
	struct auth_request req;
	struct auth_result r;
	struct auth_admission adm;
	struct auth_stamp v[2];
	struct each_seen seen = { 0 };
	uint8_t pub[32], s1[TAI64N_LEN], s2[TAI64N_LEN];

	add_user(f, "alice");
	stamp_of(s1, NOW - 5);
	stamp_of(s2, NOW + 5);
	request_init(&req, "alice", PW, code_of("alice", NOW, 0), SRC, 1, NOW);
	req.has_stamp = true;
	memcpy(req.stamp, s1, TAI64N_LEN);
	auth_login(f->a, &req, &r);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
	assert_true(r.adm.has_stamp);
	assert_memory_equal(r.adm.stamp, s1, TAI64N_LEN);
	key_of(1, pub);
	assert_int_equal(auth_admission_lookup(f->a, pub, NULL, NOW, &adm), 1);
	assert_true(adm.has_stamp);
	assert_memory_equal(adm.stamp, s1, TAI64N_LEN);

	memset(v, 0, sizeof(v));
	key_of(1, v[0].client_pub);
	memcpy(v[0].stamp, s2, TAI64N_LEN);
	key_of(5, v[1].client_pub); /* no admission: skipped */
	memcpy(v[1].stamp, s2, TAI64N_LEN);
	assert_int_equal(auth_stamps_save(f->a, v, 2), 0);
	memcpy(v[0].stamp, s1, TAI64N_LEN); /* lower: ignored */
	assert_int_equal(auth_stamps_save(f->a, v, 1), 0);
	assert_int_equal(auth_stamps_save(f->a, v, 0), 0);
	assert_int_equal(auth_admission_lookup(f->a, pub, NULL, NOW, &adm), 1);
	assert_memory_equal(adm.stamp, s2, TAI64N_LEN);
	key_of(5, pub);
	assert_int_equal(auth_admission_lookup(f->a, pub, NULL, NOW, &adm), 0);

	/* a new login of the same key with an older stamp keeps the newer */
	request_init(&req, "alice", PW, code_of("alice", NOW, 1), SRC, 1, NOW);
	req.has_stamp = true;
	memcpy(req.stamp, s1, TAI64N_LEN);
	auth_login(f->a, &req, &r);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
	assert_memory_equal(r.adm.stamp, s2, TAI64N_LEN);

	set_pools(f, "10.88.0.0/29", "fd00:99::/64");
	assert_int_equal(auth_admissions_each(f->a, NOW, each_one, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.key, 1);
	assert_string_equal(seen.adm.username, "alice");
	assert_adm(&seen.adm, "10.88.0.2", "fd00:99::2");
	assert_memory_equal(seen.adm.stamp, s2, TAI64N_LEN);
	seen.n = 0;
	assert_int_equal(auth_admissions_each(f->a, NOW + LIFETIME_S,
					      each_one, &seen),
			 0);
	assert_int_equal(seen.n, 0);
}

/* ---- recovery codes --------------------------------------------------------- */

static void
store_recovery(struct fx *f, const char *name, const char *const *codes,
	       size_t n)
{
	struct userdb_recovery rc[4];
	size_t i;

	assert_true(n <= 4);
	for (i = 0; i < n; i++) {
		randombytes_buf(rc[i].salt, sizeof(rc[i].salt));
		auth_recovery_hash(codes[i], rc[i].salt, rc[i].hash);
	}
	assert_int_equal(userdb_recovery_replace(f->db, name, rc, n, NOW), 0);
}

static void
test_recovery_codes(void **state)
{
	static const char *const codes[] = { "k7qm-2xfp-9tdh",
					     "a2b3-c4d5-e6f7" };
	struct fx *f = *state;
	struct auth_result r;

	add_user(f, "alice");
	store_recovery(f, "alice", codes, 2);
	/* a wrong password does not consume it */
	r = login(f, "alice", "wrong", "k7qm-2xfp-9tdh", 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_AUTH_FAILED);
	/* case, spaces and dashes do not matter */
	r = login(f, "alice", PW, "K7QM 2XFP9tdh", 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
	/* once */
	r = login(f, "alice", PW, "k7qm-2xfp-9tdh", 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_AUTH_FAILED);
	r = login(f, "alice", PW, "zzzz-zzzz-zzzz", 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_AUTH_FAILED);
	/* the other one still works, and a TOTP code still does */
	r = login(f, "alice", PW, "A2B3C4D5E6F7", 1, NOW + 100);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
	r = login(f, "alice", PW, code_of("alice", NOW + 100, 0), 1,
		  NOW + 100);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
	/* bob cannot use alice's code */
	add_user(f, "bob");
	store_recovery(f, "alice", codes, 2);
	r = login(f, "bob", PW, "k7qm-2xfp-9tdh", 2, NOW + 100);
	assert_int_equal(r.status, LOGIN_STATUS_AUTH_FAILED);
}

/* stmt on the store through a connection of its own (another program's). */
static void
store_exec(struct fx *f, const char *stmt)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, stmt, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/*
 * A login the store cannot answer is BUSY with its errno, whichever read
 * failed (the account, or the recovery codes after the password checked
 * out): never AUTH_FAILED, and nothing is charged to the name, so the
 * person is not locked out by the store's failures.
 */
static void
test_login_store_error(void **state)
{
	static const char *const codes[] = { "k7qm-2xfp-9tdh" };
	struct userdb_failure_key user = { USERDB_FAILURE_USER, "alice" };
	struct userdb_failure fail;
	struct fx *f = *state;
	struct auth_result r;
	int i;

	add_user(f, "alice");
	store_recovery(f, "alice", codes, 1);
	store_exec(f, "ALTER TABLE recovery_codes RENAME TO codes_away");
	for (i = 0; i < 6; i++) {
		r = login(f, "alice", PW, "k7qm-2xfp-9tdh", 1, NOW);
		assert_int_equal(r.status, LOGIN_STATUS_BUSY);
		assert_true(r.retry_after_s > 0);
		assert_int_equal(r.store_error, -EIO);
		assert_string_equal(r.reason, "store-error");
	}
	store_exec(f, "ALTER TABLE users RENAME TO users_away");
	r = login(f, "alice", PW, code_of("alice", NOW, 0), 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_BUSY);
	assert_int_equal(r.store_error, -EIO);
	store_exec(f, "ALTER TABLE users_away RENAME TO users");
	store_exec(f, "ALTER TABLE codes_away RENAME TO recovery_codes");
	assert_int_equal(userdb_failure_get(f->db, &user, &fail), 0);
	assert_int_equal(fail.count, 0);
	r = login(f, "alice", PW, "k7qm-2xfp-9tdh", 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
	assert_int_equal(r.store_error, 0);
}

/* ---- the audit line --------------------------------------------------------- */

/* Runs one login with stderr in a file; returns what was logged. */
static char *
logged(struct fx *f, const char *name, const char *pw, const char *code,
       const char *src, uint8_t key, struct auth_result *r)
{
	struct capture c;

	capture_start(f, &c);
	*r = login_from(f, name, pw, code, src, key, NOW);
	return capture_end(&c);
}

static void
test_audit_line(void **state)
{
	struct fx *f = *state;
	struct auth_result r;
	char code[9], *line;

	add_user(f, "alice");
	snprintf(code, sizeof(code), "%s", code_of("alice", NOW, 1));
	line = logged(f, "alice", PW, code, SRC, 1, &r);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
	assert_non_null(strstr(line, "login user=alice src=198.51.100.7:40000 "
				     "result=ok reason=totp totp_offset=+1\n"));
	assert_null(strstr(line, PW));
	assert_null(strstr(line, code));
	line = logged(f, "alice", "hunter2", code, "2001:db8::1", 1, &r);
	assert_non_null(strstr(line, "login user=alice src=[2001:db8::1]:40000 "
				     "result=failed reason=bad-password "));
	assert_null(strstr(line, "hunter2"));
	line = logged(f, "alice", PW, code, SRC, 1, &r);
	assert_non_null(strstr(line, "result=failed reason=reused-code "
				     "totp_offset=+1"));
	line = logged(f, "nobody", PW, "123456", SRC, 1, &r);
	assert_non_null(strstr(line, "user=nobody src=198.51.100.7:40000 "
				     "result=failed reason=unknown-user "
				     "totp_offset=-"));
	/* a name cannot forge fields: spaces and control bytes are masked */
	line = logged(f, "x result=ok\n", PW, "123456", SRC, 1, &r);
	assert_non_null(strstr(line, "user=x?result=ok? src="));
	line = logged(f, "alice", PW, "123456", SRC, 1, &r);
	assert_non_null(strstr(line, "result=locked reason=locked-source"));
}

/* ---- with the real vpnctl ---------------------------------------------------- */

/* The first line of a shell command's output that starts with `prefix`,
 * without it; false if none. */
static bool
command_line(const char *cmd, const char *prefix, char *out, size_t cap)
{
	char line[512];
	bool found = false;
	FILE *p = popen(cmd, "r");

	if (!p)
		return false;
	while (fgets(line, sizeof(line), p)) {
		if (found || strncmp(line, prefix, strlen(prefix)) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(out, cap, "%s", line + strlen(prefix));
		found = true;
	}
	return pclose(p) == 0 && found;
}

/*
 * A user enrolled by the vpnctl binary logs in with the code oathtool
 * computes from the secret vpnctl showed, and with a recovery code vpnctl
 * printed. Skipped when the binary or oathtool is not there.
 */
static void
test_vpnctl_user_logs_in(void **state)
{
	struct fx *f = *state;
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	char vpnctl[256], cmd[1024], secret[64], code[32], rc[32];
	struct auth_result r;

	snprintf(vpnctl, sizeof(vpnctl), "%s/asan/vpnctl", build);
	if (access(vpnctl, X_OK) != 0 ||
	    system("oathtool --version >/dev/null 2>&1") != 0)
		skip();
	snprintf(cmd, sizeof(cmd),
		 "printf 'pass word fine enough\\n' | "
		 "%s -d '%s' user add --no-confirm carl",
		 vpnctl, f->path);
	assert_true(command_line(cmd, "secret: ", secret, sizeof(secret)));
	assert_int_equal(strlen(secret), 32);
	snprintf(cmd, sizeof(cmd), "oathtool --totp -b %s -N @%llu", secret,
		 (unsigned long long)NOW);
	assert_true(command_line(cmd, "", code, sizeof(code)));
	r = login(f, "carl", "pass word fine enough", code, 1, NOW);
	assert_addr4(&r, "10.99.0.2");
	r = login(f, "carl", "pass word fine enough", code, 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_AUTH_FAILED);
	/* a recovery code as printed, typed in capitals */
	snprintf(cmd, sizeof(cmd), "%s -d '%s' user recovery carl | tail -n 1",
		 vpnctl, f->path);
	assert_true(command_line(cmd, "", rc, sizeof(rc)));
	for (char *p = rc; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	r = login(f, "carl", "pass word fine enough", rc, 1, NOW);
	assert_int_equal(r.status, LOGIN_STATUS_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_login_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures_look_alike, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_code_reuse, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_earlier_step_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_later_step_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lockout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lockout_growth, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_counters_reset_after_idle,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_names_counted,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_name_costs_a_hash,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_lockout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_source_grouped_by_64,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_decay, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lockout_exact_concurrent,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_sticky, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pool_fixed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pool_exhausted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pool_expired_frees, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_readdress_on_lookup, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_grant_ignores_other_pool_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admissions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_admission_store_error,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stamps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_codes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_login_store_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_audit_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vpnctl_user_logs_in, setup,
						teardown),
	};

	if (sodium_init() < 0 || totp_global_init() < 0)
		return 1;
	log_init("test_auth", false, LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
