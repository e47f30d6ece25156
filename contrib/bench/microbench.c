// SPDX-License-Identifier: MIT
/*
 * The protocol micro-benchmark (contrib/bench/README.md): handshakes per
 * second and transport encrypt+decrypt throughput of the real core
 * (noise.c, cookie.c, replay.c, aead.c) between two in-memory parties on
 * one core, each printed next to the raw speed of its cryptography,
 * measured in the same run: libsodium's X25519 for handshakes, the AEAD
 * backend's own ChaCha20-Poly1305 for transport. It also compares the two
 * AEAD backends raw: libsodium against OpenSSL 3's libcrypto. A program,
 * not a test: it checks every result so that it can never time a failing
 * path, but its figures are only printed.
 *
 * The parties do what a host does: mac1 is added by a cookie maker and
 * checked by a cookie checker before each message is consumed, random
 * bytes come from libsodium, and session indices and timestamps live in
 * the real tables. Time is a fake clock, so thousands of handshakes
 * between the same two keys pass the flood and replay checks. Buffers are
 * set up once; nothing is allocated per packet or per handshake.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "aead.h"
#include "aead_select.h"
#include "cookie.h"
#include "index.h"
#include "keys.h"
#include "log.h"
#include "noise.h"
#include "timers.h"
#include "tstamp.h"
#include "wire.h"

#define MTU 1420 /* vpnd's and vpnc's default tunnel MTU */
#define BUF_LEN (WIRE_DATA_HEADER_LEN + MTU + WIRE_PAD_MULTIPLE + NOISE_TAG_LEN)
/* Each measurement is split into rounds of about this long. */
#define ROUND_NS (2 * NS_PER_MS)
#define ROUNDS_MIN 3
#define ROUNDS_MAX 4096
/* Fewer uninterrupted rounds than this: the figures are mostly noise. */
#define CLEAN_ROUNDS_MIN 5
#define BATCH_MAX (1ull << 24)
#define HS_STEPS 4
/* Fake clock start: a plausible UNIX time, for TAI64N. */
#define CLOCK_START_NS (1700000000ull * NS_PER_S)

/* ---- counting the primitives the core calls ------------------------------ */

/*
 * Calls of libsodium the core makes, counted by the definitions below:
 * the executable's definition of a symbol wins over the shared library's,
 * so libshared.a's calls land here and are forwarded to the functions
 * libsodium's own entry points forward to. The cost is one call and an
 * increment. Raw measurements call the forwarded-to functions directly.
 */
struct counts {
	uint64_t mult;    /* crypto_scalarmult: X25519 with a variable base */
	uint64_t base;    /* crypto_scalarmult_base: public from private */
	uint64_t hashes;  /* BLAKE2b hashes finished (HASH, HMAC halves, MAC) */
	uint64_t randoms; /* calls of the host's random callback */
};

static struct counts counted;

int
crypto_scalarmult(unsigned char *q, const unsigned char *n,
		  const unsigned char *p)
{
	counted.mult++;
	return crypto_scalarmult_curve25519(q, n, p);
}

int
crypto_scalarmult_base(unsigned char *q, const unsigned char *n)
{
	counted.base++;
	return crypto_scalarmult_curve25519_base(q, n);
}

int
crypto_generichash_final(crypto_generichash_state *state, unsigned char *out,
			 const size_t outlen)
{
	counted.hashes++;
	return crypto_generichash_blake2b_final(state, out, outlen);
}

int
crypto_generichash(unsigned char *out, size_t outlen, const unsigned char *in,
		   unsigned long long inlen, const unsigned char *key,
		   size_t keylen)
{
	counted.hashes++;
	return crypto_generichash_blake2b(out, outlen, in, inlen, key, keylen);
}

static void
counts_sub(struct counts *d, const struct counts *a, const struct counts *b)
{
	d->mult = a->mult - b->mult;
	d->base = a->base - b->base;
	d->hashes = a->hashes - b->hashes;
	d->randoms = a->randoms - b->randoms;
}

static void
counts_add(struct counts *d, const struct counts *a)
{
	d->mult += a->mult;
	d->base += a->base;
	d->hashes += a->hashes;
	d->randoms += a->randoms;
}

/* ---- the two parties ----------------------------------------------------- */

struct party {
	struct noise_host host;
	struct noise_local local;
	struct index_table indices;
	struct tstamp_table stamps;
	struct noise_peer peer;        /* the other party */
	struct cookie_checker checker; /* mac1 of what this party receives */
	struct cookie_maker maker;     /* mac1 of what it sends */
	struct cookie_src from;        /* the other party's address */
};

struct bench {
	struct protocol_times pt;
	struct party ini, resp;
	uint64_t now_ns; /* the fake clock, also used as the wall clock */
};

static void
host_random(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	counted.randoms++;
	randombytes_buf(buf, len);
}

static struct noise_peer *
host_peer_by_key(void *arg, const uint8_t pub[NOISE_KEY_LEN])
{
	struct party *pa = arg;

	return keys_equal(pub, pa->peer.remote_static) ? &pa->peer : NULL;
}

static int
party_init(struct party *pa, const struct protocol_times *pt,
	   const uint8_t priv[NOISE_KEY_LEN], const uint8_t addr[4])
{
	uint8_t hash_key[TSTAMP_HASH_KEY_LEN];
	int ret;

	memset(pa, 0, sizeof(*pa));
	pa->host.arg = pa;
	pa->host.random = host_random;
	pa->host.peer_by_key = host_peer_by_key;
	/* A peer holds at most a handshake and three keypairs. */
	ret = index_table_init(&pa->indices, 4);
	if (ret < 0)
		goto out;
	randombytes_buf(hash_key, sizeof(hash_key));
	ret = tstamp_table_init(&pa->stamps, 4, hash_key);
	if (ret < 0)
		goto out;
	noise_local_init(&pa->local, &pa->host, pt, &pa->indices, &pa->stamps);
	ret = -EINVAL;
	if (!noise_local_set_private(&pa->local, priv))
		goto out;
	cookie_checker_init(&pa->checker, pa->local.static_public, pt,
			    host_random, NULL);
	cookie_src_set(&pa->from, addr, 4, 51900);
	ret = 0;
out:
	/* On failure, party_free() releases what was set up. */
	return ret;
}

/* Makes a and b know each other. */
static int
party_pair(struct party *a, struct party *b)
{
	if (!noise_peer_init(&a->peer, &a->local, b->local.static_public, NULL,
			     a))
		return -EINVAL;
	cookie_maker_init(&a->maker, b->local.static_public, a->local.pt);
	return 0;
}

static void
party_free(struct party *pa)
{
	noise_peer_wipe(&pa->peer);
	noise_local_wipe(&pa->local);
	cookie_checker_wipe(&pa->checker);
	cookie_maker_wipe(&pa->maker);
	tstamp_table_free(&pa->stamps);
	index_table_free(&pa->indices);
}

static int
bench_init(struct bench *b)
{
	static const uint8_t ini_addr[4] = { 198, 51, 100, 2 };
	static const uint8_t resp_addr[4] = { 192, 0, 2, 1 };
	uint8_t priv[NOISE_KEY_LEN];
	int ret;

	memset(b, 0, sizeof(*b));
	protocol_times_default(&b->pt);
	b->now_ns = CLOCK_START_NS;
	randombytes_buf(priv, sizeof(priv));
	keys_clamp(priv);
	ret = party_init(&b->ini, &b->pt, priv, resp_addr);
	if (ret < 0)
		goto out;
	randombytes_buf(priv, sizeof(priv));
	keys_clamp(priv);
	ret = party_init(&b->resp, &b->pt, priv, ini_addr);
	if (ret < 0)
		goto out;
	ret = party_pair(&b->ini, &b->resp);
	if (ret < 0)
		goto out;
	ret = party_pair(&b->resp, &b->ini);
out:
	sodium_memzero(priv, sizeof(priv));
	return ret;
}

static void
bench_free(struct bench *b)
{
	party_free(&b->ini);
	party_free(&b->resp);
}

/* ---- clock and measurement ----------------------------------------------- */

static uint64_t
clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

enum round_event {
	ROUND_TIMED, /* the timed part of a round starts */
	ROUND_KEPT,  /* the round just timed is the one the job keeps */
};

/* A workload: `run` does n operations and says whether all came out right. */
struct job {
	bool (*run)(void *arg, uint64_t n);
	void *arg;
	uint64_t batch;  /* operations between two clock reads */
	double best_ns;  /* per operation, in the fastest round */
	unsigned int clean_rounds; /* rounds no other task interrupted */
	/* Optional: told when timing starts and when a round is kept. */
	void (*on_round)(void *arg, enum round_event ev);
};

/*
 * Doubles the batch until one takes batch_ns; this also warms caches and
 * branch predictors up before anything is timed.
 */
static bool
job_calibrate(struct job *j, uint64_t batch_ns)
{
	uint64_t t;

	for (j->batch = 1; j->batch < BATCH_MAX; j->batch *= 2) {
		t = clock_ns();
		if (!j->run(j->arg, j->batch))
			return false;
		if (clock_ns() - t >= batch_ns)
			break;
	}
	j->best_ns = 0;
	j->clean_rounds = 0;
	return true;
}

/* How a measurement's time is spent: `rounds` rounds of `round_ns`. */
struct plan {
	uint64_t round_ns;
	unsigned int rounds;
};

static struct plan
plan_make(uint64_t budget_ns)
{
	struct plan p;

	p.rounds = (unsigned int)(budget_ns / ROUND_NS);
	if (p.rounds < ROUNDS_MIN)
		p.rounds = ROUNDS_MIN;
	if (p.rounds > ROUNDS_MAX)
		p.rounds = ROUNDS_MAX;
	p.round_ns = budget_ns / p.rounds;
	return p;
}

/* Times this thread was made to give way to another task. */
static long
preemptions(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru) < 0)
		return 0;
	return ru.ru_nivcsw;
}

/*
 * Times one round of j: an untimed batch first (the other jobs ran
 * meanwhile and took the caches), then batches until round_ns passed.
 * Returns nanoseconds per operation, or a negative value on failure;
 * *clean says whether no other task ran on our CPU meanwhile.
 */
static double
job_round(struct job *j, uint64_t round_ns, bool *clean)
{
	uint64_t start, t, ops = 0;
	long before;

	if (!j->run(j->arg, j->batch))
		return -1;
	if (j->on_round)
		j->on_round(j->arg, ROUND_TIMED);
	before = preemptions();
	start = clock_ns();
	do {
		if (!j->run(j->arg, j->batch))
			return -1;
		ops += j->batch;
		t = clock_ns() - start;
	} while (t < round_ns);
	*clean = preemptions() == before;
	return (double)t / (double)ops;
}

/*
 * Times jobs side by side: the jobs take turns, one round each, and each
 * keeps its fastest round among those in which no other task took the CPU
 * (the fastest of all while there is none). Other load on a shared
 * machine only ever slows a round down, short rounds often escape it, and
 * taking turns exposes the contenders to the same load, so the fastest
 * uninterrupted rounds compare fairly.
 */
static bool
jobs_measure(struct job *jobs, int n_jobs, const struct plan *plan)
{
	unsigned int r;
	bool clean, kept;
	double ns;
	int i;

	for (i = 0; i < n_jobs; i++)
		if (!job_calibrate(&jobs[i], plan->round_ns / 8))
			return false;
	for (r = 0; r < plan->rounds; r++) {
		for (i = 0; i < n_jobs; i++) {
			struct job *j = &jobs[i];

			ns = job_round(j, plan->round_ns, &clean);
			if (ns < 0)
				return false;
			/* Until a clean round comes, the fastest of all. */
			kept = clean ? !j->clean_rounds || ns < j->best_ns
				     : !j->clean_rounds &&
					       (r == 0 || ns < j->best_ns);
			if (kept) {
				j->best_ns = ns;
				if (j->on_round)
					j->on_round(j->arg, ROUND_KEPT);
			}
			j->clean_rounds += clean;
		}
	}
	return true;
}

/* ---- raw libsodium ------------------------------------------------------- */

struct x25519_arg {
	uint8_t scalar[32];
	uint8_t point[32];
};

/* Each result feeds the next call, so no work can be skipped or hoisted. */
static bool
run_raw_mult(void *arg, uint64_t n)
{
	struct x25519_arg *x = arg;
	uint64_t i;

	for (i = 0; i < n; i++)
		if (crypto_scalarmult_curve25519(x->point, x->scalar,
						 x->point) != 0)
			return false;
	return true;
}

static bool
run_raw_base(void *arg, uint64_t n)
{
	struct x25519_arg *x = arg;
	uint64_t i;

	for (i = 0; i < n; i++) {
		if (crypto_scalarmult_curve25519_base(x->point, x->scalar) != 0)
			return false;
		x->scalar[0] ^= x->point[0];
		keys_clamp(x->scalar);
	}
	return true;
}

/* BLAKE2b-512 of one block, as most of the handshake's hashes are. */
static bool
run_raw_blake2b(void *arg, uint64_t n)
{
	uint8_t *block = arg;
	uint64_t i;

	for (i = 0; i < n; i++)
		if (crypto_generichash_blake2b(block, 64, block, 128, NULL,
					       0) != 0)
			return false;
	return true;
}

/* ---- raw OpenSSL --------------------------------------------------------- */

/*
 * libcrypto's ChaCha20-Poly1305 as its manual says to use it, and as fast
 * as it goes: the cipher fetched once, one context per direction set up
 * once, and per packet only a rekey (EVP_*Init_ex2 with a NULL cipher),
 * the data and the tag. Written here apart from shared/aead_openssl.c, so
 * that what vpnd adds on top of it shows.
 */
struct ssl_raw {
	EVP_CIPHER *cipher;
	EVP_CIPHER_CTX *seal, *open;
};

static struct ssl_raw ssl_raw;

static bool
ssl_raw_init(struct ssl_raw *r)
{
	r->cipher = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	r->seal = EVP_CIPHER_CTX_new();
	r->open = EVP_CIPHER_CTX_new();
	return r->cipher && r->seal && r->open &&
	       EVP_EncryptInit_ex2(r->seal, r->cipher, NULL, NULL, NULL) == 1 &&
	       EVP_DecryptInit_ex2(r->open, r->cipher, NULL, NULL, NULL) == 1;
}

static void
ssl_raw_free(struct ssl_raw *r)
{
	EVP_CIPHER_CTX_free(r->seal);
	EVP_CIPHER_CTX_free(r->open);
	EVP_CIPHER_free(r->cipher);
}

static bool
ssl_raw_seal(struct ssl_raw *r, uint8_t *data, size_t len,
	     const uint8_t nonce[12], const uint8_t key[32])
{
	int n;

	return EVP_EncryptInit_ex2(r->seal, NULL, key, nonce, NULL) == 1 &&
	       EVP_EncryptUpdate(r->seal, data, &n, data, (int)len) == 1 &&
	       EVP_EncryptFinal_ex(r->seal, data + len, &n) == 1 &&
	       EVP_CIPHER_CTX_ctrl(r->seal, EVP_CTRL_AEAD_GET_TAG, 16,
				   data + len) == 1;
}

static bool
ssl_raw_open(struct ssl_raw *r, uint8_t *data, size_t len,
	     const uint8_t nonce[12], const uint8_t key[32])
{
	int n;

	return EVP_DecryptInit_ex2(r->open, NULL, key, nonce, NULL) == 1 &&
	       EVP_CIPHER_CTX_ctrl(r->open, EVP_CTRL_AEAD_SET_TAG, 16,
				   data + len) == 1 &&
	       EVP_DecryptUpdate(r->open, data, &n, data, (int)len) == 1 &&
	       EVP_DecryptFinal_ex(r->open, data + len, &n) == 1;
}

/* ---- raw AEAD ------------------------------------------------------------ */

struct aead_arg {
	uint8_t *buf; /* the data starts at buf + WIRE_DATA_HEADER_LEN */
	size_t len;   /* padded plaintext bytes */
	uint8_t key[32];
	uint64_t counter;
	enum aead_backend backend; /* whose raw AEAD */
};

/*
 * Encrypt, then decrypt, in place, with a counter nonce: ours minus ours.
 * Each raw backend is called directly, not through aead.c.
 */
static bool
run_raw_aead(void *arg, uint64_t n)
{
	struct aead_arg *a = arg;
	uint8_t nonce[12] = { 0 };
	uint8_t *data = a->buf + WIRE_DATA_HEADER_LEN;
	uint64_t i;

	for (i = 0; i < n; i++) {
		wire_put_le64(nonce + 4, a->counter++);
		if (a->backend == AEAD_OPENSSL) {
			if (!ssl_raw_seal(&ssl_raw, data, a->len, nonce,
					  a->key) ||
			    !ssl_raw_open(&ssl_raw, data, a->len, nonce,
					  a->key))
				return false;
			continue;
		}
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(
			data, data + a->len, NULL, data, a->len, NULL, 0,
			NULL, nonce, a->key);
		if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(
			    data, NULL, data, a->len, data + a->len, NULL, 0,
			    nonce, a->key) != 0)
			return false;
	}
	return true;
}

/* ---- the protocol -------------------------------------------------------- */

struct hs_step {
	uint64_t ns;
	struct counts c;
};

static const char *const hs_step_names[HS_STEPS] = {
	"initiation create + mac1",
	"mac1 check + initiation consume",
	"response create + mac1",
	"mac1 check + response consume",
};

/* Charges the time and calls since the last mark to step i. */
static void
step_mark(struct hs_step *steps, int i, uint64_t *t, struct counts *c)
{
	struct counts d;
	uint64_t now;

	if (!steps)
		return;
	now = clock_ns();
	steps[i].ns += now - *t;
	counts_sub(&d, &counted, c);
	counts_add(&steps[i].c, &d);
	*t = now;
	*c = counted;
}

/*
 * One complete handshake, as two hosts run it: the initiator creates an
 * initiation and adds its MACs, the responder checks mac1 and consumes it,
 * answers with a response and its MACs, and the initiator checks mac1 and
 * consumes that. With `steps`, each step's time and calls are added there;
 * the five clock reads that takes cost about 0.1% of a handshake, which
 * is counted against us.
 */
static bool
handshake_once(struct bench *b, struct hs_step *steps)
{
	struct party *ini = &b->ini, *resp = &b->resp;
	struct wire_initiation init;
	struct wire_response res;
	struct noise_peer *np;
	struct counts c = counted;
	uint64_t t = steps ? clock_ns() : 0;

	/* Past the flood limit and TAI64N's 16 ms rounding at every step. */
	b->now_ns += NS_PER_S;
	if (noise_initiation_create(&ini->peer, b->now_ns, b->now_ns, &init) !=
	    NOISE_HS_OK)
		return false;
	cookie_maker_add_macs(&ini->maker, (uint8_t *)&init, sizeof(init),
			      b->now_ns);
	step_mark(steps, 0, &t, &c);

	if (cookie_checker_validate(&resp->checker, (const uint8_t *)&init,
				    sizeof(init), &resp->from,
				    b->now_ns) == COOKIE_MAC1_INVALID)
		return false;
	if (noise_initiation_consume(&resp->local, b->now_ns, &init, &np) !=
		    NOISE_HS_OK ||
	    np != &resp->peer)
		return false;
	step_mark(steps, 1, &t, &c);

	if (noise_response_create(np, b->now_ns, &res) != NOISE_HS_OK)
		return false;
	cookie_maker_add_macs(&resp->maker, (uint8_t *)&res, sizeof(res),
			      b->now_ns);
	step_mark(steps, 2, &t, &c);

	if (cookie_checker_validate(&ini->checker, (const uint8_t *)&res,
				    sizeof(res), &ini->from,
				    b->now_ns) == COOKIE_MAC1_INVALID)
		return false;
	if (noise_response_consume(&ini->local, b->now_ns, &res, &np) !=
		    NOISE_HS_OK ||
	    np != &ini->peer)
		return false;
	step_mark(steps, 3, &t, &c);
	return true;
}

/* The handshake job, which also times its steps. */
struct hs_job {
	struct bench *b;
	struct hs_step cur[HS_STEPS];  /* this round's */
	struct hs_step kept[HS_STEPS]; /* the kept round's */
	uint64_t cur_runs, kept_runs;
};

static bool
run_handshakes(void *arg, uint64_t n)
{
	struct hs_job *j = arg;
	uint64_t i;

	for (i = 0; i < n; i++) {
		if (!handshake_once(j->b, j->cur))
			return false;
		j->cur_runs++;
	}
	return true;
}

static void
handshakes_round(void *arg, enum round_event ev)
{
	struct hs_job *j = arg;

	if (ev == ROUND_TIMED) {
		memset(j->cur, 0, sizeof(j->cur));
		j->cur_runs = 0;
	} else {
		memcpy(j->kept, j->cur, sizeof(j->kept));
		j->kept_runs = j->cur_runs;
	}
}

struct transport_arg {
	struct bench *b;
	uint8_t *buf;
	size_t plain_len;
};

/*
 * noise_encrypt by the initiator, noise_decrypt by the responder, in place:
 * padding, header, counter, index lookup, AEAD and replay window. The
 * decrypted plaintext is where the next encryption takes it from.
 */
static bool
run_transport(void *arg, uint64_t n)
{
	struct transport_arg *a = arg;
	struct bench *b = a->b;
	struct noise_peer *np;
	size_t msg_len, plain_len;
	enum noise_rx rx;
	uint64_t i;

	for (i = 0; i < n; i++) {
		if (noise_encrypt(&b->ini.peer, b->now_ns, a->buf, a->plain_len,
				  MTU, &msg_len) != NOISE_TX_OK)
			return false;
		rx = noise_decrypt(&b->resp.local, b->now_ns, a->buf, msg_len,
				   &np, &plain_len);
		if ((rx != NOISE_RX_OK && rx != NOISE_RX_CONFIRMED) ||
		    np != &b->resp.peer)
			return false;
	}
	return true;
}

/* ---- the measurements ---------------------------------------------------- */

static double
us(double ns)
{
	return ns / 1000.0;
}

/* Whether too few rounds ran alone for the figures to be trusted. */
static bool
too_busy(const struct job *jobs, int n_jobs)
{
	int i;

	for (i = 0; i < n_jobs; i++)
		if (jobs[i].clean_rounds < CLEAN_ROUNDS_MIN)
			return true;
	return false;
}

/* Whether a target was met, and whether the figures can be trusted. */
static const char *
verdict(bool met, const struct job *jobs, int n_jobs)
{
	if (too_busy(jobs, n_jobs))
		return met ? "met, but the machine was too busy to tell"
			   : "MISSED, but the machine was too busy to tell";
	return met ? "met" : "MISSED";
}

static void
print_handshake(const struct plan *plan, const struct job jobs[4],
		const struct counts *per_hs, const struct hs_job *hj)
{
	const struct job *hs = &jobs[0], *mult = &jobs[1], *base = &jobs[2];
	double x_ns = (double)per_hs->mult * mult->best_ns +
		      (double)per_hs->base * base->best_ns;
	double rest_ns = hs->best_ns - x_ns, ratio = hs->best_ns / x_ns;
	int i;

	printf("Raw libsodium\n");
	printf("  crypto_scalarmult         %9.1f us/op %10.0f op/s\n",
	       us(mult->best_ns), 1e9 / mult->best_ns);
	printf("  crypto_scalarmult_base    %9.1f us/op %10.0f op/s\n",
	       us(base->best_ns), 1e9 / base->best_ns);
	printf("  BLAKE2b-512 of one block  %9.2f us/op %10.0f op/s\n\n",
	       us(jobs[3].best_ns), 1e9 / jobs[3].best_ns);

	printf("Handshake: initiation create+consume, response create+consume, "
	       "mac1 added and checked\n");
	printf("  handshakes/s              %9.0f\n", 1e9 / hs->best_ns);
	printf("  time per handshake        %9.1f us\n", us(hs->best_ns));
	printf("  X25519 per handshake      %llu crypto_scalarmult + %llu "
	       "crypto_scalarmult_base (counted)\n",
	       (unsigned long long)per_hs->mult,
	       (unsigned long long)per_hs->base);
	printf("  their raw time            %9.1f us\n", us(x_ns));
	printf("  handshake / X25519 time   %9.3f   target <= 1.20: %s\n",
	       ratio, verdict(ratio <= 1.20, jobs, 4));
	printf("  everything else           %9.1f us, the time of %.0f raw "
	       "BLAKE2b blocks:\n"
	       "                            %llu BLAKE2b hashes, %llu random "
	       "calls, 6 small AEADs, copies\n",
	       us(rest_ns), rest_ns / jobs[3].best_ns,
	       (unsigned long long)per_hs->hashes,
	       (unsigned long long)per_hs->randoms);
	printf("  uninterrupted rounds      %u, %u, %u, %u of %u\n\n",
	       hs->clean_rounds, mult->clean_rounds, base->clean_rounds,
	       jobs[3].clean_rounds, plan->rounds);

	printf("  step                              us  X25519  hashes  "
	       "step / its X25519\n");
	for (i = 0; i < HS_STEPS; i++) {
		const struct hs_step *st = &hj->kept[i];
		double n = (double)hj->kept_runs;
		double step_ns = (double)st->ns / n;
		double sx_ns = (double)st->c.mult / n * mult->best_ns +
			       (double)st->c.base / n * base->best_ns;

		printf("  %-32s %6.1f  %4.0f+%.0f  %6.0f  %12.3f\n",
		       hs_step_names[i], us(step_ns), (double)st->c.mult / n,
		       (double)st->c.base / n, (double)st->c.hashes / n,
		       step_ns / sx_ns);
	}
	printf("\n");
}

static bool
bench_handshake(struct bench *b, const struct plan *plan)
{
	struct x25519_arg xm, xb;
	uint8_t block[128] = { 0 };
	static struct hs_job hj;
	struct counts before, per_hs;
	struct job jobs[4];

	/* What one handshake calls, counted on a real one. */
	before = counted;
	if (!handshake_once(b, NULL))
		return false;
	counts_sub(&per_hs, &counted, &before);

	randombytes_buf(xm.scalar, sizeof(xm.scalar));
	keys_clamp(xm.scalar);
	if (crypto_scalarmult_curve25519_base(xm.point, xm.scalar) != 0)
		return false;
	xb = xm;
	hj.b = b;
	jobs[0] = (struct job){ .run = run_handshakes, .arg = &hj,
				.on_round = handshakes_round };
	jobs[1] = (struct job){ .run = run_raw_mult, .arg = &xm };
	jobs[2] = (struct job){ .run = run_raw_base, .arg = &xb };
	jobs[3] = (struct job){ .run = run_raw_blake2b, .arg = block };
	if (!jobs_measure(jobs, 4, plan))
		return false;
	print_handshake(plan, jobs, &per_hs, &hj);
	return true;
}

static bool
bench_transport(struct bench *b, const struct plan *plan)
{
	static const size_t sizes[] = { 1420, 64 };
	static _Alignas(64) uint8_t buf_ours[BUF_LEN], buf_raw[BUF_LEN];
	size_t i, k;

	/* A fresh session, whether or not handshakes were measured. */
	if (!handshake_once(b, NULL))
		return false;
	printf("Transport: noise_encrypt + noise_decrypt in place (MTU %d) vs "
	       "raw ChaCha20-Poly1305\nencrypt + decrypt in place, same "
	       "padded length, same AEAD backend; MB/s counts plaintext "
	       "bytes\n",
	       MTU);
	printf("  plain padded  aead            ours pkt/s  ours MB/s     raw "
	       "pkt/s   raw MB/s  ours/raw\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct transport_arg ta = { b, buf_ours, sizes[i] };
		struct aead_arg ra = { .buf = buf_raw };
		struct job jobs[2];
		double ours_pps, raw_pps, ratio;

		ra.len = wire_padded_len(sizes[i], MTU);
		/* What aead.c runs at this length (aead_use_split). */
		ra.backend = ra.len < aead_split_len()
				     ? AEAD_LIBSODIUM
				     : aead_backend_current();
		randombytes_buf(ra.key, sizeof(ra.key));
		for (k = 0; k < sizes[i]; k++)
			buf_ours[WIRE_DATA_HEADER_LEN + k] = (uint8_t)k;
		memcpy(buf_raw, buf_ours, sizeof(buf_raw));
		jobs[0] = (struct job){ .run = run_transport, .arg = &ta };
		jobs[1] = (struct job){ .run = run_raw_aead, .arg = &ra };
		if (!jobs_measure(jobs, 2, plan))
			return false;
		/* Thousands of round trips later, the plaintext is intact. */
		for (k = 0; k < sizes[i]; k++)
			if (buf_ours[WIRE_DATA_HEADER_LEN + k] != (uint8_t)k ||
			    buf_raw[WIRE_DATA_HEADER_LEN + k] != (uint8_t)k)
				return false;

		ours_pps = 1e9 / jobs[0].best_ns;
		raw_pps = 1e9 / jobs[1].best_ns;
		ratio = ours_pps / raw_pps;

		printf("  %5zu %6zu  %-10s %14.0f %10.1f %13.0f %10.1f %9.3f  "
		       "target >= 0.90: %s\n",
		       sizes[i], ra.len, aead_backend_name(ra.backend), ours_pps,
		       ours_pps * (double)sizes[i] / 1e6, raw_pps,
		       raw_pps * (double)sizes[i] / 1e6, ratio,
		       verdict(ratio >= 0.90, jobs, 2));
	}
	return true;
}

/* aead.c's own path on OpenSSL, with the nonce built as aead_encrypt does. */
static bool
run_ours_openssl(void *arg, uint64_t n)
{
	struct aead_arg *a = arg;
	uint8_t nonce[AEAD_NONCE_LEN] = { 0 };
	uint8_t *data = a->buf + WIRE_DATA_HEADER_LEN;
	uint64_t i;

	for (i = 0; i < n; i++) {
		wire_put_le64(nonce + 4, a->counter++);
		aead_seal_with(AEAD_OPENSSL, data, data, a->len, NULL, 0,
			       nonce, a->key);
		if (!aead_open_with(AEAD_OPENSSL, data, data,
				    a->len + AEAD_TAG_LEN, NULL, 0, nonce,
				    a->key))
			return false;
	}
	return true;
}

/*
 * The two AEAD backends raw, side by side, and aead.c's OpenSSL path
 * against raw OpenSSL (what the wrapper costs).
 */
static bool
bench_aead(const struct plan *plan)
{
	static const size_t sizes[] = { 1420, 64 };
	static _Alignas(64) uint8_t bufs[3][BUF_LEN];
	size_t i, k, j;

	printf("AEAD backends: ChaCha20-Poly1305 encrypt + decrypt in place, "
	       "counter nonce, no AD;\n%s vs libsodium %s; MB/s counts "
	       "plaintext bytes\n",
	       OpenSSL_version(OPENSSL_VERSION), sodium_version_string());
	printf("  bytes  libsodium pkt/s   MB/s  OpenSSL pkt/s    MB/s  "
	       "OpenSSL/libsodium  aead.c/raw OpenSSL\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct aead_arg args[3];
		struct job jobs[3];
		double pps[3];

		for (j = 0; j < 3; j++) {
			args[j] = (struct aead_arg){ .buf = bufs[j],
						     .len = sizes[i] };
			randombytes_buf(args[j].key, sizeof(args[j].key));
			for (k = 0; k < sizes[i]; k++)
				bufs[j][WIRE_DATA_HEADER_LEN + k] = (uint8_t)k;
		}
		args[0].backend = AEAD_LIBSODIUM;
		args[1].backend = AEAD_OPENSSL;
		jobs[0] = (struct job){ .run = run_raw_aead, .arg = &args[0] };
		jobs[1] = (struct job){ .run = run_raw_aead, .arg = &args[1] };
		jobs[2] = (struct job){ .run = run_ours_openssl,
					.arg = &args[2] };
		if (!jobs_measure(jobs, 3, plan))
			return false;
		for (j = 0; j < 3; j++) {
			for (k = 0; k < sizes[i]; k++)
				if (bufs[j][WIRE_DATA_HEADER_LEN + k] !=
				    (uint8_t)k)
					return false;
			pps[j] = 1e9 / jobs[j].best_ns;
		}
		printf("  %5zu %16.0f %6.1f %14.0f %7.1f %18.3f %19.3f\n",
		       sizes[i], pps[0], pps[0] * (double)sizes[i] / 1e6,
		       pps[1], pps[1] * (double)sizes[i] / 1e6,
		       pps[1] / pps[0], pps[2] / pps[1]);
		printf("        uninterrupted rounds %u, %u, %u of %u%s\n",
		       jobs[0].clean_rounds, jobs[1].clean_rounds,
		       jobs[2].clean_rounds, plan->rounds,
		       too_busy(jobs, 3) ? ": the machine was too busy to tell"
					 : "");
	}
	printf("\n");
	return true;
}

/* ---- main ---------------------------------------------------------------- */

static void
usage(FILE *f)
{
	fprintf(f, "usage: microbench [--quick] [--time SECONDS] [--no-pin] "
		   "[--only handshake|transport|aead]\n"
		   "                  [--aead auto|libsodium|openssl]\n"
		   "  --time S   seconds per measurement (default 1)\n"
		   "  --quick    0.06 s per measurement\n"
		   "  --no-pin   do not pin to the current CPU\n"
		   "  --only     run one part (for profiling)\n"
		   "  --aead     the transport's AEAD backend, chosen as vpnd "
		   "does (default auto)\n");
}

/* Pins to the CPU we are on, so caches and frequency stay put. */
static int
pin_cpu(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	if (cpu < 0)
		return -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		return -1;
	return cpu;
}

struct options {
	double budget_s;
	bool pin;
	bool handshake, transport, aead;
	enum aead_backend backend;
};

/* 0 to run, 1 after --help, -1 after a mistake (already reported). */
static int
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "time", required_argument, NULL, 't' },
		{ "no-pin", no_argument, NULL, 'n' },
		{ "only", required_argument, NULL, 'o' },
		{ "aead", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "qt:no:a:h", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'q':
			o->budget_s = 0.06;
			break;
		case 't':
			errno = 0;
			o->budget_s = strtod(optarg, &end);
			if (errno || *end || !(o->budget_s >= 0.01 &&
					       o->budget_s <= 60)) {
				fprintf(stderr, "microbench: --time: %s is not "
						"0.01 to 60 seconds\n",
					optarg);
				return -1;
			}
			break;
		case 'n':
			o->pin = false;
			break;
		case 'o':
			o->handshake = strcmp(optarg, "handshake") == 0;
			o->transport = strcmp(optarg, "transport") == 0;
			o->aead = strcmp(optarg, "aead") == 0;
			if (!o->handshake && !o->transport && !o->aead) {
				usage(stderr);
				return -1;
			}
			break;
		case 'a':
			if (!aead_backend_parse(optarg, &o->backend)) {
				usage(stderr);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct bench b;
	struct options o = { 1.0, true, true, true, true, AEAD_AUTO };
	struct plan plan;
	int cpu = -1, ret;

	ret = parse_args(argc, argv, &o);
	if (ret != 0)
		return ret < 0 ? 2 : 0;
	ret = 1;
	if (sodium_init() < 0) {
		fprintf(stderr, "microbench: sodium_init failed\n");
		return 1;
	}
	if (o.pin)
		cpu = pin_cpu();
	/* As vpnd chooses, and says so on stderr. */
	log_init("microbench", false, LOG_INFO);
	if (aead_select(o.backend) < 0 || !ssl_raw_init(&ssl_raw)) {
		fprintf(stderr, "microbench: OpenSSL's ChaCha20-Poly1305 is "
				"not available\n");
		goto out;
	}
	if (bench_init(&b) < 0) {
		fprintf(stderr, "microbench: could not set up the parties\n");
		goto out;
	}
	plan = plan_make((uint64_t)(o.budget_s * 1e9));
	printf("microbench: libsodium %s; per measurement %u rounds of "
	       "%.0f ms, fastest uninterrupted one kept;\n",
	       sodium_version_string(), plan.rounds,
	       (double)plan.round_ns / 1e6);
	if (cpu >= 0)
		printf("            pinned to CPU %d\n\n", cpu);
	else
		printf("            not pinned to a CPU\n\n");

	if (o.handshake && !bench_handshake(&b, &plan)) {
		fprintf(stderr, "microbench: a handshake failed\n");
		goto out;
	}
	if (o.transport && !bench_transport(&b, &plan)) {
		fprintf(stderr, "microbench: a transport packet failed\n");
		goto out;
	}
	if (o.aead && !bench_aead(&plan)) {
		fprintf(stderr, "microbench: an AEAD packet failed\n");
		goto out;
	}
	ret = 0;
out:
	bench_free(&b);
	ssl_raw_free(&ssl_raw);
	return ret;
}
