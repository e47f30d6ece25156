// SPDX-License-Identifier: MIT
/*
 * Fuzz harness for the lockout accounting of vpnd's login decision:
 * auth_login() (vpnd/auth.c, and the counter arithmetic it runs inside the
 * store's transactions) over a real SQLite store in a temporary directory
 * (in /dev/shm when there is one), as tests/unit/test_auth.c does, checked
 * against a naive model of the rules of PROTOCOL.md section 6 (rules 3
 * and 4) and auth.h:
 *
 * - an attempt is LOCKED exactly when its user name's or its source's
 *   counter is locked, with RETRY_AFTER the longer lock left; a LOCKED
 *   attempt verifies nothing and counts nothing;
 * - any other attempt is counted on both counters before it is verified
 *   (so at most lockout_failures are ever verified, however many run at
 *   once), and the count that reaches lockout_failures sets a lock of
 *   lockout_time_s, doubling per failure past the limit, up to
 *   lockout_max_time_s;
 * - a success clears the user name's counter and gives back only its own
 *   count (and its own lock) on the source, whose counter nothing else
 *   lowers: a source's count drops by one per source_decay_s since its
 *   last failure, a user name's starts again once unlocked and idle for
 *   lockout_max_time_s; POOL_EXHAUSTED gives back both counts, and so
 *   does a login whose account's password changed while it was checked
 *   (refused, as no failure of the person's);
 * - failures are counted per user name, known or not, and per source: an
 *   IPv4 address (an IPv4-mapped IPv6 one too) or an IPv6 /64.
 *
 * Attempts run on three threads, each with its own struct auth, as vpnd's
 * workers do, but one at a time: the harness stands in for the password
 * check (it defines crypto_pwhash_str_verify, which the program's own
 * definition takes precedence over libsodium's, and calls libsodium's
 * through dlsym), where the attempt waits until the input lets it go on.
 * So the input chooses how attempts interleave: any number counted
 * before any of them is decided. The same seam keeps a run fast: test
 * users get Argon2id hashes of the lowest cost, the dummy hash for
 * unknown users is made at that cost too (crypto_pwhash_str), and its
 * check, which no password can pass, answers at once.
 *
 * Input: one of eight policies (limit, lock time and its maximum, decay,
 * TOTP window), then operations (low three bits): start an attempt (user
 * name, source, client key, password right or wrong, code), let a waiting
 * attempt finish, time passing, an account disabled or enabled, a
 * password changed, a counter cleared (vpnctl unlock), pruning, a logout.
 *
 * Checked after every operation that may change a counter: each answer
 * is the model's (status, RETRY_AFTER, the address handed out free and
 * in the pool); each attempt verified exactly once, or not at all when
 * LOCKED; every counter in the store (count, last failure, lock end)
 * equal to the model's, and no other counter there; a pruned counter was
 * worth nothing.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../vpnd/auth.h"
#include "../../vpnd/totp.h"
#include "../../vpnd/userdb.h"
#include "fuzz.h"
#include "log.h"
#include "prefix.h"

#define N_WORKERS 3
#define N_NAMES 5  /* user names tried; the first N_KNOWN are enrolled */
#define N_KNOWN 3
#define N_SOURCES 8
#define N_GROUPS 6 /* failure counters the sources fall into */
#define N_KEYS 8
#define POOL_FREE 5 /* 10.99.0.0/29: .2 to .6 */
#define MAX_OPS 96
#define PW "correct horse"
#define START_S 1700000010ull
#define LIFETIME_S 1000000000u

static const char *const names[N_NAMES] = {
	"alice", "bob", "carol", "mallory", "Alice",
};

/* Where an attempt comes from, and the counter key it must be charged
 * to, written out by hand rather than by auth_source_key(). */
static const struct {
	const char *text;
	unsigned int group;
} sources[N_SOURCES] = {
	{ "198.51.100.7", 0 },
	{ "::ffff:198.51.100.7", 0 },
	{ "198.51.100.8", 1 },
	{ "2001:db8:1:2::5", 2 },
	{ "2001:db8:1:2:ffff:ffff:ffff:ffff", 2 },
	{ "2001:db8:1:3::5", 3 },
	{ "::ffff:203.0.113.9", 4 },
	{ "2001:db8::ffff:c633:6407", 5 }, /* not IPv4-mapped */
};

static const char *const group_keys[N_GROUPS] = {
	"198.51.100.7", "198.51.100.8",	      "2001:db8:1:2::/64",
	"2001:db8:1:3::/64", "203.0.113.9", "2001:db8::/64",
};

static const struct totp_params totp_p = { TOTP_SHA1, 6, 30 };

/* ---- the model ----------------------------------------------------------- */

/* A failure counter as the store keeps it; all zero: none. */
struct counter {
	uint32_t count;
	uint64_t last;
	uint64_t lock;
};

struct hold {
	uint64_t lock_set;
	uint64_t last_before;
};

struct model {
	struct counter user[N_NAMES];
	struct counter source[N_GROUPS];
	bool is_enabled[N_KNOWN];
	unsigned int password[N_KNOWN]; /* changes so far */
	int64_t last_step[N_KNOWN];
	int admitted[N_KEYS]; /* the user admitted with the key, or -1 */
	uint8_t addr[N_KEYS]; /* its address's last byte */
};

/* What one attempt will do, decided when it starts. */
struct expect {
	unsigned int name, group, key;
	uint64_t now;
	bool is_locked;
	uint64_t left;
	bool verifies;  /* password, account and code good when checked */
	unsigned int password; /* the account's, when checked */
	int64_t step;   /* the step its code matched */
	struct hold hold[2];
};

static struct auth_policy pol;
static struct model m;
static uint64_t clock_s;
static bool trace; /* FUZZ_TRACE=1: each attempt's answer on stderr */

static uint64_t
idle_s(const struct counter *c, uint64_t now)
{
	return now > c->last ? now - c->last : 0;
}

static uint64_t
decay_s(void)
{
	return pol.source_decay_s ? pol.source_decay_s
				  : AUTH_SOURCE_DECAY_DEFAULT_S;
}

/* The failures a counter holds at `now`, as the next attempt sees them. */
static uint32_t
worth(const struct counter *c, bool is_source, uint64_t now)
{
	uint64_t periods;

	if (is_source) {
		periods = idle_s(c, now) / decay_s();
		return periods >= c->count ? 0 : c->count - (uint32_t)periods;
	}
	if (c->lock <= now && idle_s(c, now) > pol.lockout_max_time_s)
		return 0;
	return c->count;
}

/* The counter brought to `now`: whole decay periods taken off a source
 * move its last failure on by as much; a spent lock with nothing left
 * goes. */
static void
bring(struct counter *c, bool is_source, uint64_t now)
{
	uint32_t n = worth(c, is_source, now);

	if (is_source && n > 0)
		c->last += (uint64_t)(c->count - n) * decay_s();
	c->count = n;
	if (n == 0 && c->lock <= now)
		c->lock = 0;
}

/* The store keeps no counter with no count and no lock. */
static void
store(struct counter *c)
{
	if (!c->count && !c->lock)
		memset(c, 0, sizeof(*c));
}

static uint64_t
lock_left(const struct counter *c, uint64_t now)
{
	return c->lock > now ? c->lock - now : 0;
}

/* lockout_time_s, doubled for each failure past the limit, at most
 * lockout_max_time_s. */
static uint64_t
lock_time(uint32_t extra)
{
	uint64_t t = pol.lockout_time_s;
	uint32_t i;

	for (i = 0; i < extra && t < pol.lockout_max_time_s; i++)
		t *= 2;
	return t < pol.lockout_max_time_s ? t : pol.lockout_max_time_s;
}

static void
take(struct counter *c, uint64_t now, struct hold *h)
{
	h->last_before = c->last;
	h->lock_set = 0;
	c->count++;
	c->last = now;
	if (pol.lockout_failures && c->count >= pol.lockout_failures) {
		c->lock = now + lock_time(c->count - pol.lockout_failures);
		h->lock_set = c->lock;
	}
	store(c);
}

/* As if the attempt had not been made: one failure less, its lock lifted
 * if no later attempt replaced it, its last failure restored unless
 * another came since (one in the same second counts as its own). */
static void
give_back(struct counter *c, bool is_source, uint64_t now,
	  const struct hold *h)
{
	bring(c, is_source, now);
	if (c->count)
		c->count--;
	if (c->last == now)
		c->last = h->last_before;
	if (h->lock_set && c->lock == h->lock_set)
		c->lock = 0;
	store(c);
}

/* ---- the store, read back ------------------------------------------------ */

static struct userdb *db;   /* the harness's own connection (vpnctl's) */
static char db_dir[64], db_path[128];
/* Hashes of PW, each with its own salt, as vpnctl makes them: the
 * enrolled users' first, then one for each password change of a run. */
static char user_hash[MAX_OPS + 1][crypto_pwhash_STRBYTES];
static unsigned int n_changes; /* in this run */
static bool user_changed[N_KNOWN]; /* since it was enrolled */

/* The model's counter for a key the store lists; none for a key the
 * model never charged. */
static const struct counter *
model_counter(const struct userdb_failure_key *key)
{
	bool is_user = key->kind == USERDB_FAILURE_USER;
	unsigned int i, n = is_user ? N_NAMES : N_GROUPS;

	for (i = 0; i < n; i++)
		if (strcmp(key->key, is_user ? names[i] : group_keys[i]) == 0)
			return is_user ? &m.user[i] : &m.source[i];
	return NULL;
}

static int
check_one(void *arg, const struct userdb_failure_key *key,
	  const struct userdb_failure *f)
{
	const struct counter *want = model_counter(key);

	FUZZ_CHECK(want && (want->count || want->lock));
	FUZZ_CHECK(f->count == want->count);
	FUZZ_CHECK(f->last_unix_s == want->last);
	FUZZ_CHECK(f->locked_until_unix_s == want->lock);
	++*(unsigned int *)arg;
	return 0;
}

/* Every counter in the store is the model's, and the model has no other
 * (nothing charged to a key of auth.c's own making). */
static void
check_store(void)
{
	unsigned int i, want = 0, have = 0;

	for (i = 0; i < N_NAMES; i++)
		want += m.user[i].count || m.user[i].lock;
	for (i = 0; i < N_GROUPS; i++)
		want += m.source[i].count || m.source[i].lock;
	FUZZ_CHECK(userdb_failures_list(db, check_one, &have) == 0);
	FUZZ_CHECK(have == want);
}

/* ---- workers: one auth each, one attempt at a time ----------------------- */

enum worker_state { W_IDLE, W_WAITING, W_DONE };

struct worker {
	pthread_t thread;
	struct auth *a;
	sem_t go, back;
	enum worker_state state;
	unsigned int verifies;
	struct auth_request req;
	struct auth_result res;
	struct expect e;
};

static struct worker workers[N_WORKERS];
static __thread struct worker *self;

typedef int (*verify_fn)(const char *, const char *, unsigned long long);
typedef int (*hash_fn)(char *, const char *, unsigned long long,
		       unsigned long long, size_t);
static verify_fn real_verify;
static hash_fn real_hash;

/* libFuzzer's timer signal must not cut a wait short. */
static void
wait_for(sem_t *sem)
{
	while (sem_wait(sem) < 0 && errno == EINTR)
		;
}

/*
 * auth.c's password check: the attempt has been counted (or LOCKED, and
 * it never gets here); it waits here for the input to let it go on.
 */
int
crypto_pwhash_str_verify(const char str[crypto_pwhash_STRBYTES],
			 const char *const passwd, unsigned long long passwdlen)
{
	unsigned int i;

	if (self) {
		self->verifies++;
		self->state = W_WAITING;
		sem_post(&self->back);
		wait_for(&self->go);
	}
	/* The dummy hash of a random password: nothing matches it. */
	for (i = 0; i <= MAX_OPS; i++)
		if (strcmp(str, user_hash[i]) == 0)
			return real_verify(str, passwd, passwdlen);
	return -1;
}

/* Every hash made here (auth_open's dummy too) at the lowest cost. */
int
crypto_pwhash_str(char out[crypto_pwhash_STRBYTES],
		  const char *const passwd, unsigned long long passwdlen,
		  unsigned long long opslimit, size_t memlimit)
{
	(void)opslimit;
	(void)memlimit;
	return real_hash(out, passwd, passwdlen, crypto_pwhash_OPSLIMIT_MIN,
			 crypto_pwhash_MEMLIMIT_MIN);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	self = w;
	for (;;) {
		wait_for(&w->go);
		auth_login(w->a, &w->req, &w->res);
		w->state = W_DONE;
		sem_post(&w->back);
	}
	return NULL;
}

/* ---- set-up -------------------------------------------------------------- */

static void
secret_of(unsigned int name, uint8_t s[TOTP_SECRET_LEN])
{
	memset(s, 'x', TOTP_SECRET_LEN);
	memcpy(s, names[name], strlen(names[name]));
}

static void
user_add(unsigned int i)
{
	struct userdb_user u;

	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "%s", names[i]);
	memcpy(u.pw_hash, user_hash[0], sizeof(u.pw_hash));
	secret_of(i, u.totp_secret);
	u.totp_secret_len = TOTP_SECRET_LEN;
	u.totp = totp_p;
	u.last_step = -1;
	u.is_enabled = true;
	u.created_unix_s = START_S;
	if (userdb_user_add(db, &u) < 0)
		abort();
}

struct first_key {
	enum userdb_failure_kind kind;
	char key[LOGIN_USERNAME_MAX + 1];
};

static int
first_key(void *arg, const struct userdb_failure_key *key,
	  const struct userdb_failure *f)
{
	struct first_key *k = arg;

	(void)f;
	k->kind = key->kind;
	snprintf(k->key, sizeof(k->key), "%s", key->key);
	return 1;
}

/* The store as at the start of every run: the enrolled users, enabled,
 * with no step used, and nothing else. An account the last run changed
 * is enrolled again (deleting it ends its admissions). */
static void
store_reset(void)
{
	struct first_key first;
	struct userdb_failure_key k = { USERDB_FAILURE_USER, first.key };
	unsigned int i;

	while (userdb_failures_list(db, first_key, &first) == 1) {
		k.kind = first.kind;
		if (userdb_failure_clear(db, &k) < 0)
			abort();
	}
	for (i = 0; i < N_KNOWN; i++) {
		if (!user_changed[i])
			continue;
		if (userdb_user_del(db, names[i]) < 0)
			abort();
		user_add(i);
		user_changed[i] = false;
	}
	(void)userdb_events_prune(db, 0);
}

static void
remove_store(void)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char p[160];
	unsigned int i;

	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", db_path, suffix[i]);
		unlink(p);
	}
	rmdir(db_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	sigset_t all, old;
	unsigned int i;

	(void)argc;
	(void)argv;
	real_verify = (verify_fn)dlsym(RTLD_NEXT, "crypto_pwhash_str_verify");
	real_hash = (hash_fn)dlsym(RTLD_NEXT, "crypto_pwhash_str");
	if (!real_verify || !real_hash || sodium_init() < 0 ||
	    totp_global_init() < 0)
		abort();
	log_init("fuzz", false, LOG_CRIT);
	trace = getenv("FUZZ_TRACE") != NULL;
	snprintf(db_dir, sizeof(db_dir), "%s/fuzz_lockout.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(db_dir))
		abort();
	snprintf(db_path, sizeof(db_path), "%s/users.db", db_dir);
	atexit(remove_store);
	for (i = 0; i <= MAX_OPS; i++)
		if (crypto_pwhash_str(user_hash[i], PW, strlen(PW), 0, 0) != 0)
			abort();
	if (userdb_open(db_path, &db) < 0)
		abort();
	for (i = 0; i < N_KNOWN; i++)
		user_add(i);
	/* libFuzzer's signals are the main thread's, as vpnd's are. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < N_WORKERS; i++) {
		struct worker *w = &workers[i];

		if (sem_init(&w->go, 0, 0) < 0 ||
		    sem_init(&w->back, 0, 0) < 0 ||
		    pthread_create(&w->thread, NULL, worker_main, w) != 0)
			abort();
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

/* ---- policy -------------------------------------------------------------- */

/*
 * The policies a run may choose (a struct auth copies its policy when it
 * is opened, and opening one costs more than a run: each has its own,
 * opened when first chosen): no lockout, a limit of one, no doubling,
 * doubling capped early or late, decay of a second or the default.
 */
static const struct {
	unsigned int failures;
	uint32_t time_s, max_time_s, decay_s;
	unsigned int window;
} policies[] = {
	{ 3, 60, 240, 100, 1 },	  { 0, 60, 240, 100, 1 },
	{ 1, 30, 30, 0, 1 },	  { 2, 7, 7 * 64, 1, 0 },
	{ 5, 1, 3600, 17, 2 },	  { 3, 300, 900, 0, 1 },
	{ 4, 13, 13 * 1024, 90, 1 }, { 2, 1, 2, 1, 2 },
};

#define N_POLICIES (sizeof(policies) / sizeof(policies[0]))

struct auth_set {
	struct auth_policy pol;
	struct auth *admin;
	struct auth *worker[N_WORKERS];
};

static struct auth_set sets[N_POLICIES];
static struct auth *admin; /* the chosen set's, for pruning and logouts */

static void
policy_set(unsigned int i)
{
	struct auth_set *set = &sets[i];
	struct auth_policy *p = &set->pol;
	unsigned int w;

	if (!set->admin) {
		memset(p, 0, sizeof(*p));
		p->lockout_failures = policies[i].failures;
		p->lockout_time_s = policies[i].time_s;
		p->lockout_max_time_s = policies[i].max_time_s;
		p->source_decay_s = policies[i].decay_s;
		p->totp_window = policies[i].window;
		p->session_lifetime_s = LIFETIME_S;
		p->has_pool4 = true;
		if (!prefix_parse("10.99.0.0/29", &p->pool4))
			abort();
		set->admin = auth_open(db_path, p);
		for (w = 0; w < N_WORKERS; w++)
			set->worker[w] = auth_open(db_path, p);
	}
	for (w = 0; w < N_WORKERS; w++) {
		workers[w].a = set->worker[w];
		if (!workers[w].a)
			abort();
	}
	admin = set->admin;
	pol = *p;
	if (!admin)
		abort();
}

/* ---- attempts ------------------------------------------------------------ */

static bool
is_totp(const char *code)
{
	size_t i, n = strlen(code);

	for (i = 0; i < n; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	return n >= 6 && n <= 8;
}

/* The latest step of the window whose code `code` is, for an enrolled
 * user; false if none. */
static bool
code_step(unsigned int name, const char *code, uint64_t now, int64_t *step)
{
	int64_t now_step = totp_step(&totp_p, now), s;
	int w = (int)pol.totp_window, off;
	uint8_t secret[TOTP_SECRET_LEN];
	char gen[9];
	bool found = false;

	secret_of(name, secret);
	for (off = -w; off <= w; off++) {
		s = now_step + off;
		if (totp_generate(secret, sizeof(secret), &totp_p, s, gen) &&
		    strcmp(gen, code) == 0) {
			*step = s;
			found = true;
		}
	}
	return found;
}

static void
make_code(uint8_t how, unsigned int name, uint64_t now, char code[16])
{
	uint8_t secret[TOTP_SECRET_LEN];
	int off = (int)((how >> 2) % 7) - 3;

	switch (how & 3) {
	case 0: /* the user's own code, some steps off */
	case 1: /* another user's */
		secret_of(how & 1 ? (name + 1) % N_KNOWN : name % N_KNOWN,
			  secret);
		if (!totp_generate(secret, sizeof(secret), &totp_p,
				   totp_step(&totp_p, now) + off, code))
			abort();
		break;
	case 2:
		snprintf(code, 16, "abcd-efgh"); /* a recovery code */
		break;
	default:
		snprintf(code, 16, "%0*u", 6 + (how >> 6) % 3,
			 (unsigned int)how * 3907u);
		break;
	}
}

static void
request_fill(struct auth_request *req, const struct expect *e,
	     unsigned int src, bool pw_right, const char *code)
{
	const char *pw = pw_right ? PW : "wrong horse";
	const char *text = sources[src].text;

	memset(req, 0, sizeof(*req));
	memset(req->client_pub, (int)e->key + 1, sizeof(req->client_pub));
	snprintf(req->username, sizeof(req->username), "%s", names[e->name]);
	req->password_len = strlen(pw);
	memcpy(req->password, pw, req->password_len);
	snprintf(req->code, sizeof(req->code), "%s", code);
	req->src_family = strchr(text, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(req->src_family, text, req->src_addr) != 1)
		abort();
	req->src_port = (uint16_t)(40000 + src);
	req->now_unix_s = e->now;
}

/* The model's half of an attempt's start: LOCKED, or counted. */
static void
expect_start(struct expect *e)
{
	struct counter u = m.user[e->name], s = m.source[e->group];

	bring(&u, false, e->now);
	bring(&s, true, e->now);
	e->left = lock_left(&u, e->now);
	if (lock_left(&s, e->now) > e->left)
		e->left = lock_left(&s, e->now);
	e->is_locked = e->left > 0;
	if (e->is_locked)
		return; /* nothing is written */
	take(&u, e->now, &e->hold[0]);
	take(&s, e->now, &e->hold[1]);
	m.user[e->name] = u;
	m.source[e->group] = s;
}

static void
attempt_start(struct fuzz_in *in)
{
	uint8_t who = fuzz_u8(in), key = fuzz_u8(in), how = fuzz_u8(in);
	unsigned int src = (who >> 3) % N_SOURCES, i;
	bool pw_right = !(who & 0x40);
	struct worker *w = NULL;
	struct expect *e;
	char code[16];

	for (i = 0; i < N_WORKERS && !w; i++)
		if (workers[i].state == W_IDLE)
			w = &workers[i];
	if (!w)
		return;
	e = &w->e;
	memset(e, 0, sizeof(*e));
	e->name = (who & 7) % N_NAMES;
	e->group = sources[src].group;
	e->key = key % N_KEYS;
	e->now = clock_s;
	make_code(how, e->name, e->now, code);
	request_fill(&w->req, e, src, pw_right, code);
	expect_start(e);
	/* What the password check will decide, from what the store holds
	 * now (auth.c reads the account right after counting). */
	if (e->name < N_KNOWN)
		e->password = m.password[e->name];
	e->verifies = !e->is_locked && e->name < N_KNOWN &&
		      m.is_enabled[e->name] && pw_right && is_totp(code) &&
		      code_step(e->name, code, e->now, &e->step) &&
		      e->step > m.last_step[e->name];
	w->verifies = 0;
	sem_post(&w->go);
	wait_for(&w->back);
	if (!e->is_locked) {
		FUZZ_CHECK(w->state == W_WAITING && w->verifies == 1);
		return;
	}
	if (trace)
		fprintf(stderr, "t=+%llu %s from %s: locked for %u s\n",
			(unsigned long long)(e->now - START_S), names[e->name],
			group_keys[e->group], w->res.retry_after_s);
	/* LOCKED: nothing verified, nothing counted. */
	FUZZ_CHECK(w->state == W_DONE && w->verifies == 0);
	FUZZ_CHECK(w->res.status == LOGIN_STATUS_LOCKED);
	FUZZ_CHECK(w->res.retry_after_s ==
		   (e->left > UINT32_MAX ? UINT32_MAX : e->left));
	w->state = W_IDLE;
}

static unsigned int
others_admitted(unsigned int key)
{
	unsigned int k, n = 0;

	for (k = 0; k < N_KEYS; k++)
		n += k != key && m.admitted[k] >= 0;
	return n;
}

static void
check_granted(const struct worker *w)
{
	const struct auth_admission *a = &w->res.adm;
	const struct expect *e = &w->e;
	unsigned int k;

	FUZZ_CHECK(strcmp(a->username, names[e->name]) == 0);
	FUZZ_CHECK(a->has_addr4 && !a->has_addr6);
	FUZZ_CHECK(a->addr4[0] == 10 && a->addr4[1] == 99 &&
		   a->addr4[2] == 0 && a->addr4[3] >= 2 && a->addr4[3] <= 6);
	FUZZ_CHECK(a->expires_unix_s == e->now + LIFETIME_S);
	for (k = 0; k < N_KEYS; k++)
		FUZZ_CHECK(k == e->key || m.admitted[k] < 0 ||
			   m.addr[k] != a->addr4[3]);
}

/* The model's half of an attempt's end, once it was verified. */
static enum login_status
expect_end(const struct expect *e)
{
	if (!e->verifies || !m.is_enabled[e->name])
		return LOGIN_STATUS_AUTH_FAILED;
	/* Right when checked, but changed since: not the person's failure. */
	if (e->password != m.password[e->name]) {
		give_back(&m.user[e->name], false, e->now, &e->hold[0]);
		give_back(&m.source[e->group], true, e->now, &e->hold[1]);
		return LOGIN_STATUS_AUTH_FAILED;
	}
	if (e->step <= m.last_step[e->name])
		return LOGIN_STATUS_AUTH_FAILED;
	if (others_admitted(e->key) >= POOL_FREE) {
		give_back(&m.user[e->name], false, e->now, &e->hold[0]);
		give_back(&m.source[e->group], true, e->now, &e->hold[1]);
		return LOGIN_STATUS_POOL_EXHAUSTED;
	}
	m.last_step[e->name] = e->step;
	user_changed[e->name] = true;
	memset(&m.user[e->name], 0, sizeof(m.user[e->name]));
	give_back(&m.source[e->group], true, e->now, &e->hold[1]);
	return LOGIN_STATUS_OK;
}

static void
attempt_finish(struct worker *w)
{
	enum login_status want;

	if (w->state != W_WAITING)
		return;
	sem_post(&w->go);
	wait_for(&w->back);
	FUZZ_CHECK(w->state == W_DONE && w->verifies == 1);
	want = expect_end(&w->e);
	if (trace)
		fprintf(stderr, "t=+%llu %s from %s: %d (model %d)\n",
			(unsigned long long)(w->e.now - START_S),
			names[w->e.name], group_keys[w->e.group],
			w->res.status, want);
	FUZZ_CHECK(w->res.status == want);
	FUZZ_CHECK(w->res.retry_after_s == 0);
	if (want == LOGIN_STATUS_OK) {
		check_granted(w);
		m.admitted[w->e.key] = (int)w->e.name;
		m.addr[w->e.key] = w->res.adm.addr4[3];
	}
	w->state = W_IDLE;
}

/* ---- what else changes the store ----------------------------------------- */

static void
toggle_account(unsigned int name)
{
	unsigned int k;

	name %= N_KNOWN;
	if (userdb_user_set_enabled(db, names[name], !m.is_enabled[name]) < 0)
		abort();
	m.is_enabled[name] = !m.is_enabled[name];
	user_changed[name] = true;
	/* Disabling ends the account's admissions. */
	for (k = 0; k < N_KEYS && !m.is_enabled[name]; k++)
		if (m.admitted[k] == (int)name)
			m.admitted[k] = -1;
}

/* vpnctl user passwd (to the same password, hashed again): the
 * account's admissions end, and a check running now will not admit. */
static void
password_change(unsigned int name)
{
	unsigned int k;

	name %= N_KNOWN;
	m.password[name]++;
	if (userdb_user_set_password(db, names[name],
				     user_hash[++n_changes]) < 0)
		abort();
	user_changed[name] = true;
	for (k = 0; k < N_KEYS; k++)
		if (m.admitted[k] == (int)name)
			m.admitted[k] = -1;
}

/* vpnctl unlock: one counter gone. */
static void
unlock(unsigned int which)
{
	bool is_user = which % 2 == 0;
	unsigned int i = which / 2 % (is_user ? N_NAMES : N_GROUPS);
	struct userdb_failure_key k = {
		is_user ? USERDB_FAILURE_USER : USERDB_FAILURE_SOURCE,
		is_user ? names[i] : group_keys[i],
	};
	struct counter *c = is_user ? &m.user[i] : &m.source[i];
	bool had = c->count || c->lock;

	FUZZ_CHECK(userdb_failure_clear(db, &k) == (had ? 0 : -ENOENT));
	memset(c, 0, sizeof(*c));
}

/* A counter pruned must be worth nothing: no count, no lock. */
static void
prune_one(struct counter *c, bool is_source, uint64_t now)
{
	uint64_t keep = is_source ? (uint64_t)c->count * decay_s()
				  : pol.lockout_max_time_s;

	if (!(c->count || c->lock) || c->lock > now || c->last + keep >= now)
		return;
	FUZZ_CHECK(worth(c, is_source, now) == 0);
	memset(c, 0, sizeof(*c));
}

static void
prune(void)
{
	unsigned int i;

	FUZZ_CHECK(auth_admissions_prune(admin, clock_s) >= 0);
	for (i = 0; i < N_NAMES; i++)
		prune_one(&m.user[i], false, clock_s);
	for (i = 0; i < N_GROUPS; i++)
		prune_one(&m.source[i], true, clock_s);
}

static void
logout(unsigned int key)
{
	uint8_t pub[32];

	key %= N_KEYS;
	memset(pub, (int)key + 1, sizeof(pub));
	auth_admission_end(admin, pub);
	m.admitted[key] = -1;
}

/* ---- the run ------------------------------------------------------------- */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned int n, i;

	policy_set(fuzz_u8(&in) % N_POLICIES);
	store_reset();
	memset(&m, 0, sizeof(m));
	for (i = 0; i < N_KNOWN; i++) {
		m.is_enabled[i] = true;
		m.last_step[i] = -1;
	}
	for (i = 0; i < N_KEYS; i++)
		m.admitted[i] = -1;
	clock_s = START_S;
	n_changes = 0;
	for (n = 0; n < MAX_OPS && fuzz_more(&in); n++) {
		uint8_t op = fuzz_u8(&in);

		switch (op & 7) {
		case 0:
		case 1:
			attempt_start(&in);
			break;
		case 2:
		case 3:
			attempt_finish(&workers[(op >> 3) % N_WORKERS]);
			break;
		case 4:
			clock_s += op & 8 ? fuzz_u16(&in) : (op >> 4);
			continue;
		case 5:
			if (op & 8) {
				toggle_account(op >> 4);
				continue;
			}
			unlock(op >> 4);
			break;
		case 6:
			if (op & 8) {
				password_change(op >> 4);
				continue;
			}
			prune();
			break;
		default:
			logout(op >> 3);
			continue;
		}
		/* After whatever may change a counter. */
		check_store();
	}
	for (i = 0; i < N_WORKERS; i++) {
		attempt_finish(&workers[i]);
		check_store();
	}
	return 0;
}
