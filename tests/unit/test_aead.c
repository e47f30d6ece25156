// SPDX-License-Identifier: MIT
/*
 * The transport AEAD on both backends (aead.c over libsodium, and
 * aead_openssl.c over libcrypto): each passes the same published vectors
 * (RFC 8439 section 2.8.2; the Noise IKpsk2 vector's handshake and
 * transport messages, which go through aead_encrypt and aead_decrypt),
 * and they interoperate packet for packet: random lengths 0 to 1500,
 * counters, AD and keys, sealed by one and opened by the other, in place
 * and not, with the same bytes on the wire. A forged packet is refused by
 * both with the output zeroed. Also: the start-up choice (aead_select),
 * the configuration's names, and per-thread OpenSSL contexts.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "aead.h"
#include "aead_openssl.h"
#include "aead_select.h"
#include "keys.h"
#include "log.h"
#include "noise.h"
#include "rand.h"
#include "../vectors/noise_ikpsk2_blake2b.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_PKT 1500

static const enum aead_backend backends[] = { AEAD_LIBSODIUM, AEAD_OPENSSL };

/* ---- RFC 8439 section 2.8.2 ---------------------------------------------- */

static const char rfc_plain[] =
	"Ladies and Gentlemen of the class of '99: If I could offer you only "
	"one tip for the future, sunscreen would be it.";
static const uint8_t rfc_ad[12] = {
	0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
};
static const uint8_t rfc_key[32] = {
	0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a,
	0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95,
	0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
};
/* constant 07 00 00 00 || IV 40..47 */
static const uint8_t rfc_nonce[12] = {
	0x07, 0x00, 0x00, 0x00, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
};
/* ciphertext (114 bytes) then the tag */
static const uint8_t rfc_sealed[114 + 16] = {
	0xd3, 0x1a, 0x8d, 0x34, 0x64, 0x8e, 0x60, 0xdb, 0x7b, 0x86, 0xaf,
	0xbc, 0x53, 0xef, 0x7e, 0xc2, 0xa4, 0xad, 0xed, 0x51, 0x29, 0x6e,
	0x08, 0xfe, 0xa9, 0xe2, 0xb5, 0xa7, 0x36, 0xee, 0x62, 0xd6, 0x3d,
	0xbe, 0xa4, 0x5e, 0x8c, 0xa9, 0x67, 0x12, 0x82, 0xfa, 0xfb, 0x69,
	0xda, 0x92, 0x72, 0x8b, 0x1a, 0x71, 0xde, 0x0a, 0x9e, 0x06, 0x0b,
	0x29, 0x05, 0xd6, 0xa5, 0xb6, 0x7e, 0xcd, 0x3b, 0x36, 0x92, 0xdd,
	0xbd, 0x7f, 0x2d, 0x77, 0x8b, 0x8c, 0x98, 0x03, 0xae, 0xe3, 0x28,
	0x09, 0x1b, 0x58, 0xfa, 0xb3, 0x24, 0xe4, 0xfa, 0xd6, 0x75, 0x94,
	0x55, 0x85, 0x80, 0x8b, 0x48, 0x31, 0xd7, 0xbc, 0x3f, 0xf4, 0xde,
	0xf0, 0x8e, 0x4b, 0x7a, 0x9d, 0xe5, 0x76, 0xd2, 0x65, 0x86, 0xce,
	0xc6, 0x4b, 0x61, 0x16,
	/* tag */
	0x1a, 0xe1, 0x0b, 0x59, 0x4f, 0x09, 0xe2, 0x6a, 0x7e, 0x90, 0x2e,
	0xcb, 0xd0, 0x60, 0x06, 0x91,
};
#define RFC_LEN (sizeof(rfc_plain) - 1)

static int
setup_group(void **state)
{
	(void)state;
	if (sodium_init() < 0 || aead_openssl_init() != 0)
		return -1;
	log_init("test_aead", false, LOG_WARNING);
	return 0;
}

/* Every test leaves libsodium in charge, as a fresh process has it. */
static int
teardown(void **state)
{
	(void)state;
	return aead_use(AEAD_LIBSODIUM) ? 0 : -1;
}

static bool
all_zero(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static void
test_rfc8439_seal(void **state)
{
	uint8_t out[sizeof(rfc_sealed)], buf[sizeof(rfc_sealed)];
	size_t i;

	(void)state;
	assert_int_equal(RFC_LEN, 114);
	for (i = 0; i < ARRAY_SIZE(backends); i++) {
		aead_seal_with(backends[i], out, (const uint8_t *)rfc_plain,
			       RFC_LEN, rfc_ad, sizeof(rfc_ad), rfc_nonce,
			       rfc_key);
		assert_memory_equal(out, rfc_sealed, sizeof(rfc_sealed));
		/* in place */
		memcpy(buf, rfc_plain, RFC_LEN);
		aead_seal_with(backends[i], buf, buf, RFC_LEN, rfc_ad,
			       sizeof(rfc_ad), rfc_nonce, rfc_key);
		assert_memory_equal(buf, rfc_sealed, sizeof(rfc_sealed));
	}
}

static void
test_rfc8439_open(void **state)
{
	uint8_t out[RFC_LEN], buf[sizeof(rfc_sealed)];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(backends); i++) {
		memset(out, 0xee, sizeof(out));
		assert_true(aead_open_with(backends[i], out, rfc_sealed,
					   sizeof(rfc_sealed), rfc_ad,
					   sizeof(rfc_ad), rfc_nonce, rfc_key));
		assert_memory_equal(out, rfc_plain, RFC_LEN);
		memcpy(buf, rfc_sealed, sizeof(buf));
		assert_true(aead_open_with(backends[i], buf, buf, sizeof(buf),
					   rfc_ad, sizeof(rfc_ad), rfc_nonce,
					   rfc_key));
		assert_memory_equal(buf, rfc_plain, RFC_LEN);
	}
}

/* Every bit of ciphertext, tag and AD flipped in turn: refused, zeroed. */
static void
test_rfc8439_every_bit_flipped(void **state)
{
	uint8_t sealed[sizeof(rfc_sealed)], ad[sizeof(rfc_ad)];
	uint8_t out[RFC_LEN], buf[sizeof(rfc_sealed)];
	size_t i, bit;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(backends); i++) {
		for (bit = 0; bit < 8 * sizeof(sealed); bit++) {
			memcpy(sealed, rfc_sealed, sizeof(sealed));
			sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			memset(out, 0xee, sizeof(out));
			assert_false(aead_open_with(backends[i], out, sealed,
						    sizeof(sealed), rfc_ad,
						    sizeof(rfc_ad), rfc_nonce,
						    rfc_key));
			assert_true(all_zero(out, sizeof(out)));
			/* in place, as the data path opens */
			memcpy(buf, sealed, sizeof(buf));
			assert_false(aead_open_with(backends[i], buf, buf,
						    sizeof(buf), rfc_ad,
						    sizeof(rfc_ad), rfc_nonce,
						    rfc_key));
			assert_true(all_zero(buf, RFC_LEN));
		}
		for (bit = 0; bit < 8 * sizeof(ad); bit++) {
			memcpy(ad, rfc_ad, sizeof(ad));
			ad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			memset(out, 0xee, sizeof(out));
			assert_false(aead_open_with(backends[i], out,
						    rfc_sealed,
						    sizeof(rfc_sealed), ad,
						    sizeof(ad), rfc_nonce,
						    rfc_key));
			assert_true(all_zero(out, sizeof(out)));
		}
	}
}

/* Shorter than a tag: refused before anything is read or written. */
static void
test_shorter_than_tag(void **state)
{
	uint8_t in[AEAD_TAG_LEN] = { 0 }, out[AEAD_TAG_LEN];
	size_t i, len;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(backends); i++) {
		assert_true(aead_use(backends[i]));
		for (len = 0; len < AEAD_TAG_LEN; len++) {
			assert_false(aead_open_with(backends[i], out, in, len,
						    NULL, 0, rfc_nonce,
						    rfc_key));
			assert_false(aead_decrypt(out, in, len, NULL, 0, 0,
						  rfc_key));
		}
	}
}

/* ---- the Noise vector through aead_encrypt and aead_decrypt -------------- */

struct keys_pair {
	uint8_t ini_send[32], ini_recv[32], resp_send[32], resp_recv[32];
};

/* The vector's handshake, whose AEADs run on the backend in use. */
static void
noise_vector_handshake(struct keys_pair *k)
{
	static struct noise_handshake ini, resp;
	const struct vec_message *m0 = &vec_messages[0], *m1 = &vec_messages[1];
	uint8_t msg1[256], msg2[256], payload[256], learned[32], ss[32];
	uint8_t ini_pub[32], resp_pub[32];

	assert_true(keys_public_from_private(ini_pub, vec_init_static));
	assert_true(keys_public_from_private(resp_pub, vec_resp_static));
	noise_handshake_start(&ini, vec_prologue, sizeof(vec_prologue),
			      vec_init_remote_static);
	noise_handshake_start(&resp, vec_prologue, sizeof(vec_prologue),
			      resp_pub);
	assert_true(noise_msg1_write(&ini, vec_init_ephemeral, vec_init_static,
				     ini_pub, vec_init_remote_static, NULL,
				     m0->payload, m0->payload_len, msg1));
	assert_memory_equal(msg1, m0->ciphertext, m0->ciphertext_len);
	assert_true(noise_msg1_read_static(&resp, vec_resp_static, msg1,
					   learned));
	assert_true(noise_dh(ss, vec_resp_static, learned));
	assert_true(noise_msg1_read_payload(&resp, ss, msg1,
					    m0->ciphertext_len, payload));
	assert_memory_equal(payload, m0->payload, m0->payload_len);
	assert_true(noise_msg2_write(&resp, vec_resp_ephemeral, learned,
				     vec_psk, m1->payload, m1->payload_len,
				     msg2));
	assert_memory_equal(msg2, m1->ciphertext, m1->ciphertext_len);
	assert_true(noise_msg2_read(&ini, vec_init_static, vec_psk, msg2,
				    m1->ciphertext_len, payload));
	assert_memory_equal(payload, m1->payload, m1->payload_len);
	noise_split(&ini, k->ini_send, k->ini_recv);
	noise_split(&resp, k->resp_recv, k->resp_send);
}

static void
test_noise_vector_transport(void **state)
{
	struct keys_pair k;
	size_t b, i;

	(void)state;
	for (b = 0; b < ARRAY_SIZE(backends); b++) {
		uint64_t n_ini = 0, n_resp = 0;

		assert_true(aead_use(backends[b]));
		noise_vector_handshake(&k);
		for (i = 2; i < ARRAY_SIZE(vec_messages); i++) {
			const struct vec_message *m = &vec_messages[i];
			bool from_ini = (i % 2) == 0;
			const uint8_t *send = from_ini ? k.ini_send
						       : k.resp_send;
			const uint8_t *recv = from_ini ? k.resp_recv
						       : k.ini_recv;
			uint64_t *n = from_ini ? &n_ini : &n_resp;
			uint8_t buf[256], plain[256];

			assert_int_equal(m->payload_len + 16,
					 m->ciphertext_len);
			memcpy(buf, m->payload, m->payload_len);
			aead_encrypt(buf, buf, m->payload_len, NULL, 0, *n,
				     send);
			assert_memory_equal(buf, m->ciphertext,
					    m->ciphertext_len);
			assert_true(aead_decrypt(plain, m->ciphertext,
						 m->ciphertext_len, NULL, 0,
						 *n, recv));
			assert_memory_equal(plain, m->payload, m->payload_len);
			assert_false(aead_decrypt(plain, m->ciphertext,
						  m->ciphertext_len, NULL, 0,
						  *n + 1, recv));
			(*n)++;
		}
	}
}

/* ---- the two backends against each other --------------------------------- */

static void
rand_bytes(uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)next_rand();
}

/* Counters a session reaches, and the edges of the nonce's bytes. */
static uint64_t
rand_counter(unsigned int i)
{
	static const uint64_t edges[] = {
		0, 1, 0xff, 0x100, 0xffffffffu, 0x100000000ull,
		(1ull << 60) - 1, UINT64_MAX - 1, UINT64_MAX,
	};

	if (i < ARRAY_SIZE(edges))
		return edges[i];
	return (i % 2) ? next_rand() : next_rand() % 100000;
}

/* A length that hits 0, the edges of a 64-byte block, and the MTU's. */
static size_t
rand_len(unsigned int i)
{
	static const size_t edges[] = { 0, 1, 15, 16, 17, 63, 64, 65, 1420,
					MAX_PKT };

	if (i < ARRAY_SIZE(edges))
		return edges[i];
	return (size_t)(next_rand() % (MAX_PKT + 1));
}

struct packet {
	uint8_t key[AEAD_KEY_LEN];
	uint8_t ad[80];
	size_t ad_len, len;
	uint64_t counter;
	uint8_t plain[MAX_PKT];
};

static void
packet_make(struct packet *p, unsigned int i)
{
	rand_bytes(p->key, sizeof(p->key));
	p->len = rand_len(i);
	p->counter = rand_counter(i);
	/* none as in transport, 64 as in a handshake, or anything */
	switch (next_rand() % 3) {
	case 0:
		p->ad_len = 0;
		break;
	case 1:
		p->ad_len = 64;
		break;
	default:
		p->ad_len = (size_t)(next_rand() % (sizeof(p->ad) + 1));
	}
	rand_bytes(p->ad, p->ad_len);
	rand_bytes(p->plain, p->len);
}

/* Sealed through aead_encrypt on backend b, in place or not. */
static void
seal_on(enum aead_backend b, const struct packet *p, uint8_t *out,
	bool in_place)
{
	assert_true(aead_use(b));
	if (in_place) {
		memcpy(out, p->plain, p->len);
		aead_encrypt(out, out, p->len, p->ad, p->ad_len, p->counter,
			     p->key);
	} else {
		aead_encrypt(out, p->plain, p->len, p->ad, p->ad_len,
			     p->counter, p->key);
	}
}

/* Opened through aead_decrypt on backend b, in place or not. */
static bool
open_on(enum aead_backend b, const struct packet *p, const uint8_t *sealed,
	uint8_t *out, bool in_place)
{
	size_t len = p->len + AEAD_TAG_LEN;

	assert_true(aead_use(b));
	if (in_place) {
		memcpy(out, sealed, len);
		return aead_decrypt(out, out, len, p->ad, p->ad_len,
				    p->counter, p->key);
	}
	return aead_decrypt(out, sealed, len, p->ad, p->ad_len, p->counter,
			    p->key);
}

static void
test_interop_random_packets(void **state)
{
	static struct packet p;
	static uint8_t sodium[MAX_PKT + 16], ssl[MAX_PKT + 16];
	static uint8_t out[MAX_PKT + 16];
	unsigned int i;

	(void)state;
	rng = 0x14a4;
	for (i = 0; i < 3000; i++) {
		bool in_place = i % 2;

		packet_make(&p, i);
		seal_on(AEAD_LIBSODIUM, &p, sodium, in_place);
		seal_on(AEAD_OPENSSL, &p, ssl, !in_place);
		/* the same bytes on the wire */
		assert_memory_equal(sodium, ssl, p.len + AEAD_TAG_LEN);
		/* each opens the other's */
		assert_true(open_on(AEAD_OPENSSL, &p, sodium, out, in_place));
		assert_memory_equal(out, p.plain, p.len);
		assert_true(open_on(AEAD_LIBSODIUM, &p, ssl, out, !in_place));
		assert_memory_equal(out, p.plain, p.len);
	}
}

/* One random bit of a random packet flipped: both refuse and zero. */
static void
test_interop_forgeries(void **state)
{
	static struct packet p;
	static uint8_t sealed[MAX_PKT + 16], out[MAX_PKT + 16];
	unsigned int i;
	size_t b, bit;

	(void)state;
	rng = 0xf0f0;
	for (i = 0; i < 1000; i++) {
		packet_make(&p, i);
		seal_on(backends[i % 2], &p, sealed, false);
		bit = (size_t)(next_rand() % (8 * (p.len + AEAD_TAG_LEN)));
		sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		for (b = 0; b < ARRAY_SIZE(backends); b++) {
			memset(out, 0xee, sizeof(out));
			assert_false(open_on(backends[b], &p, sealed, out,
					     i % 4 < 2));
			assert_true(all_zero(out, p.len));
		}
		/* the right counter only */
		sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		p.counter++;
		for (b = 0; b < ARRAY_SIZE(backends); b++)
			assert_false(open_on(backends[b], &p, sealed, out,
					     false));
	}
}

/*
 * OpenSSL from 500 bytes on, libsodium below: every length around the
 * split seals to the same bytes as either backend alone and opens, since
 * the opening side measures the same plaintext length.
 */
static void
test_split(void **state)
{
	static struct packet p;
	static uint8_t split[MAX_PKT + 16], alone[MAX_PKT + 16];
	static uint8_t out[MAX_PKT + 16];
	unsigned int i;

	(void)state;
	rng = 0x5b11;
	assert_true(aead_use(AEAD_LIBSODIUM));
	aead_use_split(500);
	assert_int_equal(aead_split_len(), 0); /* only with OpenSSL */
	for (i = 0; i < 200; i++) {
		packet_make(&p, i);
		p.len = 500 - 3 + i % 7;
		assert_true(aead_use(AEAD_OPENSSL));
		aead_use_split(500);
		assert_int_equal(aead_split_len(), 500);
		aead_encrypt(split, p.plain, p.len, p.ad, p.ad_len, p.counter,
			     p.key);
		assert_true(aead_decrypt(out, split, p.len + AEAD_TAG_LEN,
					 p.ad, p.ad_len, p.counter, p.key));
		assert_memory_equal(out, p.plain, p.len);
		seal_on(backends[i % 2], &p, alone, false);
		assert_memory_equal(split, alone, p.len + AEAD_TAG_LEN);
		/* aead_use undoes the split */
		assert_int_equal(aead_split_len(), 0);
	}
}

/* ---- threads: each its own OpenSSL contexts ------------------------------ */

struct worker {
	pthread_t thread;
	uint64_t seed;
	bool ok;
};

/* Seals and opens on OpenSSL, checking every packet against libsodium. */
static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	uint8_t key[32], nonce[12] = { 0 }, plain[600], a[616], b[616];
	unsigned int i;
	uint64_t s = w->seed;

	w->ok = true;
	for (i = 0; i < 300 && w->ok; i++) {
		size_t len = (size_t)(s % sizeof(plain)), k;

		for (k = 0; k < sizeof(key); k++)
			key[k] = (uint8_t)(s >> (k % 8));
		memcpy(nonce + 4, &s, sizeof(s));
		for (k = 0; k < len; k++)
			plain[k] = (uint8_t)(k ^ s);
		aead_seal_with(AEAD_OPENSSL, a, plain, len, NULL, 0, nonce,
			       key);
		aead_seal_with(AEAD_LIBSODIUM, b, plain, len, NULL, 0, nonce,
			       key);
		w->ok = memcmp(a, b, len + 16) == 0 &&
			aead_open_with(AEAD_OPENSSL, a, a, len + 16, NULL, 0,
				       nonce, key) &&
			memcmp(a, plain, len) == 0;
		s = s * 6364136223846793005ull + 1442695040888963407ull;
	}
	return NULL;
}

static void
test_threads_own_contexts(void **state)
{
	struct worker w[4];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(w); i++) {
		w[i].seed = 1000 + i;
		assert_int_equal(pthread_create(&w[i].thread, NULL, worker_run,
						&w[i]),
				 0);
	}
	for (i = 0; i < ARRAY_SIZE(w); i++) {
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
		assert_true(w[i].ok);
	}
}

/* ---- the choice ---------------------------------------------------------- */

static void
test_select(void **state)
{
	enum aead_backend b;

	(void)state;
	assert_int_equal(aead_select(AEAD_OPENSSL), 0);
	assert_int_equal(aead_backend_current(), AEAD_OPENSSL);
	assert_int_equal(aead_select(AEAD_LIBSODIUM), 0);
	assert_int_equal(aead_backend_current(), AEAD_LIBSODIUM);
	assert_int_equal(aead_select(AEAD_AUTO), 0);
	b = aead_backend_current();
	assert_true(b == AEAD_LIBSODIUM || b == AEAD_OPENSSL);
	/* OpenSSL, if chosen, wins at 1420 bytes at least */
	assert_true(aead_split_len() <= 1420);
	if (b == AEAD_LIBSODIUM)
		assert_int_equal(aead_split_len(), 0);
	assert_int_equal(aead_select((enum aead_backend)7), -EINVAL);
	assert_int_equal(aead_backend_current(), b);
	/* AUTO is a request, not a backend */
	assert_false(aead_use(AEAD_AUTO));
	assert_false(aead_use((enum aead_backend)7));
	assert_int_equal(aead_backend_current(), b);
}

static void
test_names(void **state)
{
	static const char *const bad[] = { "", "Auto", "OpenSSL", "sodium",
					   "openssl ", "gnutls", "?" };
	enum aead_backend b = AEAD_LIBSODIUM;
	size_t i;

	(void)state;
	assert_true(aead_backend_parse("auto", &b));
	assert_int_equal(b, AEAD_AUTO);
	assert_true(aead_backend_parse("openssl", &b));
	assert_int_equal(b, AEAD_OPENSSL);
	assert_true(aead_backend_parse("libsodium", &b));
	assert_int_equal(b, AEAD_LIBSODIUM);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_false(aead_backend_parse(bad[i], &b));
		assert_int_equal(b, AEAD_LIBSODIUM);
	}
	for (b = AEAD_AUTO; b <= AEAD_OPENSSL; b++) {
		enum aead_backend back;

		assert_true(aead_backend_parse(aead_backend_name(b), &back));
		assert_int_equal(back, b);
	}
	assert_string_equal(aead_backend_name((enum aead_backend)9), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_rfc8439_seal, teardown),
		cmocka_unit_test_teardown(test_rfc8439_open, teardown),
		cmocka_unit_test_teardown(test_rfc8439_every_bit_flipped,
					  teardown),
		cmocka_unit_test_teardown(test_shorter_than_tag, teardown),
		cmocka_unit_test_teardown(test_noise_vector_transport,
					  teardown),
		cmocka_unit_test_teardown(test_interop_random_packets,
					  teardown),
		cmocka_unit_test_teardown(test_interop_forgeries, teardown),
		cmocka_unit_test_teardown(test_split, teardown),
		cmocka_unit_test_teardown(test_threads_own_contexts, teardown),
		cmocka_unit_test_teardown(test_select, teardown),
		cmocka_unit_test_teardown(test_names, teardown),
	};

	return cmocka_run_group_tests(tests, setup_group, NULL);
}
