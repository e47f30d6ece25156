// SPDX-License-Identifier: MIT
/*
 * Chooses the backend of aead_encrypt and aead_decrypt at start. For
 * "auto" it seals and opens packets in place with each backend, from 64
 * bytes to 1420 (vpnd's default tunnel MTU), in alternating rounds so that
 * both see the same load, and keeps each one's fastest round (other load
 * only ever slows a round down): two or three milliseconds. OpenSSL costs
 * more per call (its vectorised Poly1305 and ChaCha20 set up for every
 * packet) and less per byte, so it wins from some length on: OpenSSL is
 * used from the shortest measured length from which it wins at every
 * longer one, libsodium below; libsodium alone if OpenSSL does not win
 * at 1420 bytes.
 *
 * Before OpenSSL is used at all, it must agree with libsodium: the same
 * packet sealed by both gives the same bytes, each opens the other's, and
 * a tampered packet is refused and zeroed. A libcrypto that fails this is
 * never used, whatever the configuration says.
 *
 * Not core code: it reads the monotonic clock and logs. Runs once, before
 * threads and the sandbox.
 */
#include "aead_select.h"

#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "aead_openssl.h"
#include "log.h"

#define PKT_LEN 1420
#define AD_LEN 64 /* as a handshake message's: the hash */
#define ROUNDS 12
#define BATCH 8

/* Lengths measured, ascending; the last one decides whether OpenSSL. */
static const size_t lens[] = { 64, 128, 256, 512, 768, 1024, PKT_LEN };
#define N_LENS (sizeof(lens) / sizeof(lens[0]))

struct sample {
	uint8_t key[AEAD_KEY_LEN];
	uint8_t nonce[AEAD_NONCE_LEN];
	uint8_t ad[AD_LEN];
	uint8_t plain[PKT_LEN];
	uint8_t a[PKT_LEN + AEAD_TAG_LEN], b[PKT_LEN + AEAD_TAG_LEN];
};

static uint64_t
clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Fixed bytes: what is measured and compared needs no secrecy. */
static void
sample_fill(struct sample *s)
{
	size_t i;

	for (i = 0; i < sizeof(s->key); i++)
		s->key[i] = (uint8_t)(0x80 + i);
	for (i = 0; i < sizeof(s->nonce); i++)
		s->nonce[i] = (uint8_t)(i < 4 ? 0 : 0x40 + i);
	for (i = 0; i < sizeof(s->ad); i++)
		s->ad[i] = (uint8_t)(3 * i);
	for (i = 0; i < sizeof(s->plain); i++)
		s->plain[i] = (uint8_t)(i * 7 + 1);
}

/* One backend's output opened by the other, back to the plaintext. */
static bool
opens_on(enum aead_backend b, struct sample *s, const uint8_t *sealed,
	 size_t ad_len)
{
	uint8_t out[PKT_LEN];

	return aead_open_with(b, out, sealed, sizeof(s->a), s->ad, ad_len,
			      s->nonce, s->key) &&
	       memcmp(out, s->plain, PKT_LEN) == 0;
}

/* A flipped tag bit must be refused, the output left all zeros. */
static bool
refuses_forgery(struct sample *s)
{
	static const uint8_t zeros[PKT_LEN];
	uint8_t out[PKT_LEN];

	s->a[PKT_LEN + 3] ^= 0x10;
	memset(out, 0xa5, sizeof(out));
	if (aead_open_with(AEAD_OPENSSL, out, s->a, sizeof(s->a), s->ad,
			   AD_LEN, s->nonce, s->key))
		return false;
	s->a[PKT_LEN + 3] ^= 0x10;
	return memcmp(out, zeros, sizeof(out)) == 0;
}

/* OpenSSL computes what libsodium computes, with and without AD. */
static bool
agrees(struct sample *s)
{
	size_t ad_len;

	for (ad_len = 0; ad_len <= AD_LEN; ad_len += AD_LEN) {
		aead_seal_with(AEAD_LIBSODIUM, s->a, s->plain, PKT_LEN, s->ad,
			       ad_len, s->nonce, s->key);
		aead_seal_with(AEAD_OPENSSL, s->b, s->plain, PKT_LEN, s->ad,
			       ad_len, s->nonce, s->key);
		if (memcmp(s->a, s->b, sizeof(s->a)) != 0 ||
		    !opens_on(AEAD_OPENSSL, s, s->a, ad_len) ||
		    !opens_on(AEAD_LIBSODIUM, s, s->b, ad_len))
			return false;
	}
	return refuses_forgery(s);
}

/* BATCH packets sealed and opened in place; ns per packet, or < 0. */
static double
round_ns(enum aead_backend b, struct sample *s, size_t len)
{
	uint64_t t = clock_ns();
	int i;

	for (i = 0; i < BATCH; i++) {
		aead_seal_with(b, s->a, s->a, len, NULL, 0, s->nonce, s->key);
		if (!aead_open_with(b, s->a, s->a, len + AEAD_TAG_LEN, NULL, 0,
				    s->nonce, s->key))
			return -1;
	}
	return (double)(clock_ns() - t) / BATCH;
}

/*
 * Fastest rounds at len of libsodium (ns[0]) and OpenSSL (ns[1]), in
 * turns. False if a packet failed to come back.
 */
static bool
measure(struct sample *s, size_t len, double ns[2])
{
	static const enum aead_backend order[2] = { AEAD_LIBSODIUM,
						    AEAD_OPENSSL };
	double t;
	int r, i;

	memcpy(s->a, s->plain, len);
	for (r = -1; r < ROUNDS; r++) {
		for (i = 0; i < 2; i++) {
			t = round_ns(order[i], s, len);
			if (t < 0)
				return false;
			/* Round -1 warms caches up and is not kept. */
			if (r == 0 || (r > 0 && t < ns[i]))
				ns[i] = t;
		}
	}
	return memcmp(s->a, s->plain, len) == 0;
}

/*
 * The shortest length from which OpenSSL wins at every measured length,
 * or SIZE_MAX if it loses at the longest; ns[k] as measure() gives them.
 */
static size_t
split_from(double ns[N_LENS][2])
{
	size_t k = N_LENS, from = SIZE_MAX;

	while (k-- > 0 && ns[k][1] < ns[k][0])
		from = lens[k];
	return from;
}

static void
use(enum aead_backend b)
{
	/* AEAD_LIBSODIUM always succeeds; OpenSSL was initialised. */
	if (!aead_use(b))
		aead_use(AEAD_LIBSODIUM);
}

/* OpenSSL loaded and checked: 0, or a negative errno (logged). */
static int
openssl_prepare(struct sample *s)
{
	int ret = aead_openssl_init();

	if (ret < 0) {
		log_warn("aead: OpenSSL's ChaCha20-Poly1305 cannot be loaded: "
			 "%s",
			 strerror(-ret));
		return ret;
	}
	if (!agrees(s)) {
		log_err("aead: %s disagrees with libsodium on a test packet; "
			"not used",
			aead_openssl_version());
		return -EPROTO;
	}
	return 0;
}

/* Debug: the figures differ on every start, and a client's log must read
 * the same from one attempt to the next (t-login-refused compares them). */
static void
log_auto(size_t from, double ns[N_LENS][2], double ms)
{
	const double *big = ns[N_LENS - 1], *small = ns[0];

	if (from == SIZE_MAX)
		log_debug("aead: libsodium %s (auto): OpenSSL would run at "
			 "%.2f times its speed on %d-byte packets (measured "
			 "in %.1f ms)",
			 sodium_version_string(), big[0] / big[1], PKT_LEN,
			 ms);
	else if (from <= lens[0])
		log_debug("aead: openssl (auto): %.2f times libsodium's speed "
			 "on %d-byte packets, %.2f on %zu-byte ones (%s; "
			 "measured in %.1f ms)",
			 big[0] / big[1], PKT_LEN, small[0] / small[1],
			 lens[0], aead_openssl_version(), ms);
	else
		log_debug("aead: openssl (auto) for packets of %zu bytes and "
			 "more, at %.2f times libsodium's speed on %d-byte "
			 "ones; libsodium below (OpenSSL: %.2f times on "
			 "%zu-byte ones; %s; measured in %.1f ms)",
			 from, big[0] / big[1], PKT_LEN, small[0] / small[1],
			 lens[0], aead_openssl_version(), ms);
}

static int
select_auto(struct sample *s)
{
	double ns[N_LENS][2];
	uint64_t start = clock_ns();
	size_t k, from;

	if (openssl_prepare(s) < 0) {
		use(AEAD_LIBSODIUM);
		log_debug("aead: libsodium %s (auto)", sodium_version_string());
		return 0;
	}
	for (k = 0; k < N_LENS; k++) {
		if (!measure(s, lens[k], ns[k])) {
			use(AEAD_LIBSODIUM);
			log_err("aead: a test packet failed to open; "
				"libsodium %s",
				sodium_version_string());
			return 0;
		}
	}
	from = split_from(ns);
	use(from == SIZE_MAX ? AEAD_LIBSODIUM : AEAD_OPENSSL);
	if (from != SIZE_MAX && from > lens[0])
		aead_use_split(from);
	log_auto(from, ns, (double)(clock_ns() - start) / 1e6);
	return 0;
}

int
aead_select(enum aead_backend want)
{
	static struct sample s;
	int ret = 0;

	sample_fill(&s);
	switch (want) {
	case AEAD_AUTO:
		ret = select_auto(&s);
		break;
	case AEAD_OPENSSL:
		ret = openssl_prepare(&s);
		if (ret < 0) {
			log_err("aead: openssl was asked for and cannot be "
				"used");
			break;
		}
		use(AEAD_OPENSSL);
		log_info("aead: openssl, as configured (%s)",
			 aead_openssl_version());
		break;
	case AEAD_LIBSODIUM:
		use(AEAD_LIBSODIUM);
		log_info("aead: libsodium %s, as configured",
			 sodium_version_string());
		break;
	default:
		ret = -EINVAL;
		break;
	}
	return ret;
}
