// SPDX-License-Identifier: MIT
/*
 * mac1, mac2 and cookie replies (shared/cookie.h) against PROTOCOL.md
 * sections 4.4 and 4.5. Every expected value is computed here from
 * libsodium's primitives exactly as the specification writes it (HASH32 is
 * crypto_generichash to 32 bytes, MAC is keyed crypto_generichash to 16
 * bytes, XAEAD is crypto_aead_xchacha20poly1305_ietf), never through
 * cookie.c. The checker's secret Rm and reply nonces come from a recording
 * random source, so the test knows them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "cookie.h"
#include "keys.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define T0 (1000 * NS_PER_S)

/* What the checker drew from its random source, by purpose. */
struct recorder {
	uint64_t calls;
	uint8_t secret[32]; /* the latest 32-byte draw: Rm */
	unsigned int secrets;
	uint8_t nonce[24]; /* the latest 24-byte draw: a reply nonce */
};

static struct recorder rec;
static struct protocol_times pt;
static uint8_t our_priv[32], our_pub[32], other_pub[32];

static void
recording_random(void *arg, uint8_t *buf, size_t len)
{
	struct recorder *r = arg;
	uint8_t seed[randombytes_SEEDBYTES] = { 0x77 };

	memcpy(seed + 1, &r->calls, sizeof(r->calls));
	r->calls++;
	randombytes_buf_deterministic(buf, len, seed);
	if (len == 32) {
		memcpy(r->secret, buf, 32);
		r->secrets++;
	} else if (len == 24) {
		memcpy(r->nonce, buf, 24);
	}
}

static int
setup(void **state)
{
	uint8_t other_priv[32];
	int i;

	(void)state;
	assert_true(sodium_init() >= 0);
	memset(&rec, 0, sizeof(rec));
	protocol_times_default(&pt);
	for (i = 0; i < 32; i++) {
		our_priv[i] = (uint8_t)(3 * i + 1);
		other_priv[i] = (uint8_t)(5 * i + 2);
	}
	keys_clamp(our_priv);
	keys_clamp(other_priv);
	assert_true(keys_public_from_private(our_pub, our_priv));
	assert_true(keys_public_from_private(other_pub, other_priv));
	return 0;
}

/* ---- the specification, transcribed --------------------------------- */

/* HASH32(label || pub) */
static void
ref_label_key(uint8_t out[32], const char *label, const uint8_t pub[32])
{
	uint8_t in[8 + 32];

	assert_int_equal(strlen(label), 8);
	memcpy(in, label, 8);
	memcpy(in + 8, pub, 32);
	assert_int_equal(crypto_generichash(out, 32, in, sizeof(in), NULL, 0),
			 0);
}

/* MAC(key, x): BLAKE2b keyed with `key`, 16-byte output */
static void
ref_mac(uint8_t out[16], const uint8_t *key, size_t key_len,
	const uint8_t *x, size_t x_len)
{
	assert_int_equal(crypto_generichash(out, 16, x, x_len, key, key_len),
			 0);
}

/* mac1 = MAC(HASH32(LABEL_MAC1 || Spub_m), msg[0 : offset of mac1]) */
static void
ref_mac1(uint8_t out[16], const uint8_t pub[32], const uint8_t *msg,
	 size_t mac1_off)
{
	uint8_t key[32];

	ref_label_key(key, "mac1----", pub);
	ref_mac(out, key, 32, msg, mac1_off);
}

/* cookie = MAC(Rm, source IP bytes || source UDP port, network order) */
static void
ref_cookie(uint8_t out[16], const uint8_t rm[32], const uint8_t *ip,
	   size_t ip_len, uint16_t port)
{
	uint8_t in[18];

	memcpy(in, ip, ip_len);
	in[ip_len] = (uint8_t)(port >> 8);
	in[ip_len + 1] = (uint8_t)port;
	ref_mac(out, rm, 32, in, ip_len + 2);
}

/* Opens a reply's encrypted_cookie as section 4.5 writes it. */
static bool
ref_open_reply(uint8_t cookie[16], const struct wire_cookie_reply *reply,
	       const uint8_t pub[32], const uint8_t answered_mac1[16])
{
	uint8_t key[32];
	unsigned long long len = 0;

	ref_label_key(key, "cookie--", pub);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    cookie, &len, NULL, reply->enc_cookie,
		    sizeof(reply->enc_cookie), answered_mac1, 16, reply->nonce,
		    key) != 0)
		return false;
	assert_int_equal(len, 16);
	return true;
}

/* ---- helpers ------------------------------------------------------- */

static const struct {
	enum wire_type type;
	size_t len, mac1, mac2;
} kinds[] = {
	{ WIRE_INITIATION, WIRE_INITIATION_LEN, 116, 132 },
	{ WIRE_RESPONSE, WIRE_RESPONSE_LEN, 60, 76 },
};

/* A message of kind k with deterministic content and empty MACs. */
static void
make_msg(uint8_t *msg, size_t k, unsigned int seed)
{
	size_t i;

	for (i = 0; i < kinds[k].len; i++)
		msg[i] = (uint8_t)(seed * 13 + i * 7);
	wire_header_set(msg, kinds[k].type);
	memset(msg + kinds[k].mac1, 0, 32);
}

static enum cookie_mac
validate_exact(struct cookie_checker *c, const uint8_t *msg, size_t len,
	       const struct cookie_src *src, uint64_t now)
{
	uint8_t *p = malloc(len ? len : 1);
	enum cookie_mac r;

	assert_non_null(p);
	memcpy(p, msg, len);
	r = cookie_checker_validate(c, p, len, src, now);
	free(p);
	return r;
}

static void
src_v4(struct cookie_src *src, uint8_t last, uint16_t port)
{
	const uint8_t a[4] = { 192, 0, 2, last };

	cookie_src_set(src, a, 4, port);
}

static void
checker_init(struct cookie_checker *c)
{
	cookie_checker_init(c, our_pub, &pt, recording_random, &rec);
}

/* ---- tests --------------------------------------------------------- */

static void
test_mac1_written(void **state)
{
	struct cookie_maker m;
	uint8_t msg[WIRE_INITIATION_LEN], want[16], zero[16] = { 0 };
	size_t k;
	unsigned int seed;

	(void)state;
	cookie_maker_init(&m, our_pub, &pt);
	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		for (seed = 0; seed < 8; seed++) {
			make_msg(msg, k, seed);
			cookie_maker_add_macs(&m, msg, kinds[k].len, T0);
			ref_mac1(want, our_pub, msg, kinds[k].mac1);
			assert_memory_equal(msg + kinds[k].mac1, want, 16);
			/* no cookie yet: mac2 is 16 zero bytes */
			assert_memory_equal(msg + kinds[k].mac2, zero, 16);
		}
	}
	cookie_maker_wipe(&m);
}

/* Only types 1 and 2 carry MACs: other lengths are left alone. */
static void
test_add_macs_other_lengths(void **state)
{
	struct cookie_maker m;
	uint8_t msg[WIRE_INITIATION_LEN + 1], copy[sizeof(msg)];
	static const size_t lens[] = { 0, 32, 64, 91, 93, 147, 149 };
	size_t i;

	(void)state;
	cookie_maker_init(&m, our_pub, &pt);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		memset(msg, 0x3c, sizeof(msg));
		memcpy(copy, msg, sizeof(msg));
		cookie_maker_add_macs(&m, msg, lens[i], T0);
		assert_memory_equal(msg, copy, sizeof(msg));
	}
	cookie_maker_wipe(&m);
}

static void
test_validate_mac1(void **state)
{
	struct cookie_checker c;
	struct cookie_src src;
	/* one spare byte for the length sweep */
	uint8_t msg[WIRE_INITIATION_LEN + 1], other_key[32];
	size_t k, i, len;

	(void)state;
	checker_init(&c);
	src_v4(&src, 7, 40000);
	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		make_msg(msg, k, 1);
		ref_mac1(msg + kinds[k].mac1, our_pub, msg, kinds[k].mac1);
		assert_int_equal(validate_exact(&c, msg, kinds[k].len, &src,
						T0),
				 COOKIE_MAC1_VALID);

		/* every byte it covers, and every byte of mac1 itself */
		for (i = 0; i < kinds[k].mac2; i++) {
			msg[i] ^= 0x01;
			assert_int_equal(validate_exact(&c, msg, kinds[k].len,
							&src, T0),
					 COOKIE_MAC1_INVALID);
			msg[i] ^= 0x01;
		}
		/* every wrong length, in an exact heap buffer */
		for (len = 0; len <= kinds[k].len + 1; len++)
			if (len != kinds[k].len)
				assert_int_equal(validate_exact(&c, msg, len,
								&src, T0),
						 COOKIE_MAC1_INVALID);
		/* mac1 for somebody else's key */
		ref_label_key(other_key, "mac1----", other_pub);
		ref_mac(msg + kinds[k].mac1, other_key, 32, msg,
			kinds[k].mac1);
		assert_int_equal(validate_exact(&c, msg, kinds[k].len, &src,
						T0),
				 COOKIE_MAC1_INVALID);
	}
	/* mac2 was empty throughout: no cookie secret was ever needed */
	assert_int_equal(rec.secrets, 0);
	cookie_checker_wipe(&c);
}

/* A checker-made reply, opened as the specification writes it. */
static void
test_reply_contents(void **state)
{
	struct cookie_checker c;
	struct cookie_src src;
	struct wire_cookie_reply reply;
	uint8_t msg[WIRE_INITIATION_LEN], cookie[16], want[16];
	const uint8_t ip[4] = { 192, 0, 2, 9 };
	size_t k;

	(void)state;
	checker_init(&c);
	cookie_src_set(&src, ip, 4, 51900);
	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		make_msg(msg, k, 2);
		ref_mac1(msg + kinds[k].mac1, our_pub, msg, kinds[k].mac1);
		memset(&reply, 0xee, sizeof(reply));
		cookie_reply_create(&c, &reply, msg, kinds[k].len, &src, T0);

		assert_int_equal(wire_classify((uint8_t *)&reply,
					       sizeof(reply)),
				 WIRE_COOKIE_REPLY);
		assert_memory_equal(reply.receiver_index, msg + 4, 4);
		assert_memory_equal(reply.nonce, rec.nonce, 24);
		assert_int_equal(rec.secrets, 1); /* one Rm for both */

		assert_true(ref_open_reply(cookie, &reply, our_pub,
					   msg + kinds[k].mac1));
		ref_cookie(want, rec.secret, ip, 4, 51900);
		assert_memory_equal(cookie, want, 16);

		/* The AD is the answered message's mac1, nothing else. */
		msg[kinds[k].mac1] ^= 1;
		assert_false(ref_open_reply(cookie, &reply, our_pub,
					    msg + kinds[k].mac1));
	}
	cookie_checker_wipe(&c);
}

/* The maker takes the cookie and proves its address with mac2. */
static void
test_mac2_round_trip(void **state)
{
	struct cookie_checker c;
	struct cookie_maker m;
	struct cookie_src src, elsewhere, other_port;
	struct wire_cookie_reply reply;
	uint8_t msg[WIRE_INITIATION_LEN], cookie[16], want[16];
	const uint8_t ip[4] = { 192, 0, 2, 10 };
	size_t k;

	(void)state;
	checker_init(&c);
	cookie_src_set(&src, ip, 4, 41000);
	src_v4(&elsewhere, 11, 41000);
	src_v4(&other_port, 10, 41001);
	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		cookie_maker_init(&m, our_pub, &pt); /* no cookie yet */
		make_msg(msg, k, 3);
		cookie_maker_add_macs(&m, msg, kinds[k].len, T0);
		assert_int_equal(validate_exact(&c, msg, kinds[k].len, &src,
						T0),
				 COOKIE_MAC1_VALID);
		cookie_reply_create(&c, &reply, msg, kinds[k].len, &src, T0);
		assert_true(cookie_maker_consume_reply(&m, &reply, T0));

		make_msg(msg, k, 4);
		cookie_maker_add_macs(&m, msg, kinds[k].len, T0 + NS_PER_S);
		ref_cookie(cookie, rec.secret, ip, 4, 41000);
		ref_mac(want, cookie, 16, msg, kinds[k].mac2);
		assert_memory_equal(msg + kinds[k].mac2, want, 16);
		ref_mac1(want, our_pub, msg, kinds[k].mac1);
		assert_memory_equal(msg + kinds[k].mac1, want, 16);

		assert_int_equal(validate_exact(&c, msg, kinds[k].len, &src,
						T0 + NS_PER_S),
				 COOKIE_MAC2_VALID);
		/* the cookie is bound to the address and the port */
		assert_int_equal(validate_exact(&c, msg, kinds[k].len,
						&elsewhere, T0 + NS_PER_S),
				 COOKIE_MAC1_VALID);
		assert_int_equal(validate_exact(&c, msg, kinds[k].len,
						&other_port, T0 + NS_PER_S),
				 COOKIE_MAC1_VALID);
		/* a good mac2 does not excuse a bad mac1 */
		msg[kinds[k].mac1 + 3] ^= 0x80;
		assert_int_equal(validate_exact(&c, msg, kinds[k].len, &src,
						T0 + NS_PER_S),
				 COOKIE_MAC1_INVALID);
	}
	cookie_checker_wipe(&c);
	cookie_maker_wipe(&m);
}

/* A reply authenticates against the mac1 of our latest message only. */
static void
test_reply_must_match_last_mac1(void **state)
{
	struct cookie_checker c, stranger;
	struct cookie_maker m;
	struct cookie_src src;
	struct wire_cookie_reply reply_a, reply_b, bad;
	uint8_t a[WIRE_INITIATION_LEN], b[WIRE_INITIATION_LEN];
	size_t i;

	(void)state;
	checker_init(&c);
	cookie_checker_init(&stranger, other_pub, &pt, recording_random, &rec);
	cookie_maker_init(&m, our_pub, &pt);
	src_v4(&src, 12, 42000);

	make_msg(a, 0, 5);
	make_msg(b, 0, 6);
	/* made by the checker for messages the maker never sent... */
	ref_mac1(a + 116, our_pub, a, 116);
	cookie_reply_create(&c, &reply_a, a, sizeof(a), &src, T0);
	/* ...then nothing sent yet: nothing to authenticate against */
	assert_false(cookie_maker_consume_reply(&m, &reply_a, T0));

	cookie_maker_add_macs(&m, a, sizeof(a), T0);
	cookie_maker_add_macs(&m, b, sizeof(b), T0);
	cookie_reply_create(&c, &reply_a, a, sizeof(a), &src, T0);
	cookie_reply_create(&c, &reply_b, b, sizeof(b), &src, T0);
	/* a reply to the earlier message */
	assert_false(cookie_maker_consume_reply(&m, &reply_a, T0));
	assert_false(m.has_cookie);

	/* every byte of nonce and ciphertext matters */
	for (i = offsetof(struct wire_cookie_reply, nonce); i < sizeof(bad);
	     i++) {
		memcpy(&bad, &reply_b, sizeof(bad));
		((uint8_t *)&bad)[i] ^= 0x40;
		assert_false(cookie_maker_consume_reply(&m, &bad, T0));
	}
	/* a reply under another responder's cookie key */
	cookie_reply_create(&stranger, &bad, b, sizeof(b), &src, T0);
	assert_false(cookie_maker_consume_reply(&m, &bad, T0));
	assert_false(m.has_cookie);

	assert_true(cookie_maker_consume_reply(&m, &reply_b, T0));
	assert_true(m.has_cookie);
	/* one reply per message: the same reply again is refused */
	assert_false(cookie_maker_consume_reply(&m, &reply_b, T0));

	cookie_checker_wipe(&c);
	cookie_checker_wipe(&stranger);
	cookie_maker_wipe(&m);
}

static void
reply_cookie(struct cookie_checker *c, const struct cookie_src *src,
	     uint64_t now, uint8_t cookie[16])
{
	struct wire_cookie_reply reply;
	uint8_t msg[WIRE_INITIATION_LEN];

	make_msg(msg, 0, 7);
	ref_mac1(msg + 116, our_pub, msg, 116);
	cookie_reply_create(c, &reply, msg, sizeof(msg), src, now);
	assert_true(ref_open_reply(cookie, &reply, our_pub, msg + 116));
}

/* An IPv4-mapped IPv6 source is its IPv4 form; a real IPv6 one is not. */
static void
test_source_forms(void **state)
{
	static const uint8_t v4[4] = { 192, 0, 2, 33 };
	static const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0,
					    0, 0, 0xff, 0xff, 192, 0, 2, 33 };
	static const uint8_t compat[16] = { 0, 0, 0, 0, 0, 0, 0, 0,
					    0, 0, 0, 0, 192, 0, 2, 33 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					0, 0, 0, 0, 0, 0, 0, 1 };
	struct cookie_checker c;
	struct cookie_src s4, smapped, scompat, s6;
	uint8_t c4[16], cmapped[16], ccompat[16], c6[16], want[16];

	(void)state;
	cookie_src_set(&s4, v4, 4, 51900);
	cookie_src_set(&smapped, mapped, 16, 51900);
	cookie_src_set(&scompat, compat, 16, 51900);
	cookie_src_set(&s6, v6, 16, 51900);
	assert_int_equal(s4.addr_len, 4);
	assert_int_equal(smapped.addr_len, 4);
	assert_memory_equal(smapped.addr, v4, 4);
	assert_int_equal(scompat.addr_len, 16);
	assert_int_equal(s6.addr_len, 16);
	assert_int_equal(s4.port[0], 51900 >> 8); /* network order */
	assert_int_equal(s4.port[1], 51900 & 0xff);

	checker_init(&c);
	reply_cookie(&c, &s4, T0, c4);
	reply_cookie(&c, &smapped, T0, cmapped);
	reply_cookie(&c, &scompat, T0, ccompat);
	reply_cookie(&c, &s6, T0, c6);
	assert_int_equal(rec.secrets, 1);

	ref_cookie(want, rec.secret, v4, 4, 51900);
	assert_memory_equal(c4, want, 16);
	assert_memory_equal(cmapped, want, 16);
	ref_cookie(want, rec.secret, compat, 16, 51900);
	assert_memory_equal(ccompat, want, 16);
	assert_memory_not_equal(ccompat, c4, 16);
	ref_cookie(want, rec.secret, v6, 16, 51900);
	assert_memory_equal(c6, want, 16);
	cookie_checker_wipe(&c);
}

/* mac2 over msg from `cookie`, written as the spec says. */
static void
put_mac2(uint8_t *msg, const uint8_t cookie[16])
{
	ref_mac(msg + 132, cookie, 16, msg, 132);
}

/*
 * Rm lives COOKIE_SECRET_MAX_AGE: a cookie validates until the instant
 * before, and fails from then on because the secret was replaced.
 */
static void
test_secret_rotation(void **state)
{
	struct cookie_checker c;
	struct cookie_src src;
	uint8_t msg[WIRE_INITIATION_LEN], cookie1[16], cookie2[16], rm1[32];
	uint8_t want[16];
	const uint64_t age = 120 * NS_PER_S;

	(void)state;
	assert_true(pt.cookie_secret_max_age_ns == age);
	checker_init(&c);
	src_v4(&src, 44, 43000);
	reply_cookie(&c, &src, T0, cookie1);
	memcpy(rm1, rec.secret, 32);
	assert_int_equal(rec.secrets, 1);

	make_msg(msg, 0, 8);
	ref_mac1(msg + 116, our_pub, msg, 116);
	put_mac2(msg, cookie1);
	assert_int_equal(validate_exact(&c, msg, sizeof(msg), &src,
					T0 + age - 1),
			 COOKIE_MAC2_VALID);
	assert_int_equal(rec.secrets, 1);
	assert_int_equal(validate_exact(&c, msg, sizeof(msg), &src, T0 + age),
			 COOKIE_MAC1_VALID);
	assert_int_equal(rec.secrets, 2);
	assert_memory_not_equal(rec.secret, rm1, 32);

	/* a cookie under the new secret works until that one ages out */
	reply_cookie(&c, &src, T0 + age + 1, cookie2);
	ref_cookie(want, rec.secret, src.addr, 4, 43000);
	assert_memory_equal(cookie2, want, 16);
	make_msg(msg, 0, 9);
	ref_mac1(msg + 116, our_pub, msg, 116);
	put_mac2(msg, cookie2);
	assert_int_equal(validate_exact(&c, msg, sizeof(msg), &src,
					T0 + 2 * age - 1),
			 COOKIE_MAC2_VALID);
	assert_int_equal(validate_exact(&c, msg, sizeof(msg), &src,
					T0 + 2 * age),
			 COOKIE_MAC1_VALID);
	/* and the first cookie never comes back */
	put_mac2(msg, cookie1);
	assert_int_equal(validate_exact(&c, msg, sizeof(msg), &src,
					T0 + 2 * age),
			 COOKIE_MAC1_VALID);
	cookie_checker_wipe(&c);
}

/* The maker uses a cookie for COOKIE_SECRET_MAX_AGE - 5 s, then stops. */
static void
test_maker_cookie_lifetime(void **state)
{
	struct cookie_checker c;
	struct cookie_maker m;
	struct cookie_src src;
	struct wire_cookie_reply reply;
	uint8_t msg[WIRE_RESPONSE_LEN], cookie[16], want[16], zero[16] = { 0 };
	const uint64_t tc = T0 + 3 * NS_PER_S;
	const uint64_t life = 115 * NS_PER_S;

	(void)state;
	assert_true(pt.cookie_secret_max_age_ns - pt.cookie_latency_ns ==
		    life);
	checker_init(&c);
	cookie_maker_init(&m, our_pub, &pt);
	src_v4(&src, 55, 44000);

	make_msg(msg, 1, 10);
	cookie_maker_add_macs(&m, msg, sizeof(msg), T0);
	cookie_reply_create(&c, &reply, msg, sizeof(msg), &src, T0);
	assert_true(cookie_maker_consume_reply(&m, &reply, tc));
	ref_cookie(cookie, rec.secret, src.addr, 4, 44000);

	/* the age counts from when the maker took the cookie */
	make_msg(msg, 1, 11);
	cookie_maker_add_macs(&m, msg, sizeof(msg), tc + life - 1);
	ref_mac(want, cookie, 16, msg, 76);
	assert_memory_equal(msg + 76, want, 16);

	make_msg(msg, 1, 12);
	cookie_maker_add_macs(&m, msg, sizeof(msg), tc + life);
	assert_memory_equal(msg + 76, zero, 16);
	ref_mac1(want, our_pub, msg, 60);
	assert_memory_equal(msg + 60, want, 16);
	cookie_checker_wipe(&c);
	cookie_maker_wipe(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_mac1_written, setup),
		cmocka_unit_test_setup(test_add_macs_other_lengths, setup),
		cmocka_unit_test_setup(test_validate_mac1, setup),
		cmocka_unit_test_setup(test_reply_contents, setup),
		cmocka_unit_test_setup(test_mac2_round_trip, setup),
		cmocka_unit_test_setup(test_reply_must_match_last_mac1, setup),
		cmocka_unit_test_setup(test_source_forms, setup),
		cmocka_unit_test_setup(test_secret_rotation, setup),
		cmocka_unit_test_setup(test_maker_cookie_lifetime, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
