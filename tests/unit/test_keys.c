// SPDX-License-Identifier: MIT
/*
 * shared/keys.h: base64 keys (PROTOCOL.md section 3) both ways against
 * encodings made by Python's base64 module, every kind of malformed text
 * refused (lengths, characters, padding, non-canonical trailing bits),
 * public keys against crypto_scalarmult_base and RFC 7748, clamping, and
 * the comparisons. Parsed text lives in heap buffers of exactly its length
 * without a terminating NUL, so ASan catches a read past it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "keys.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* python3 -c 'import base64; print(base64.b64encode(bytes(range(32))))' */
static const char B64_ASCENDING[] =
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/* ... of bytes(range(255, 223, -1)): uses '+' and '/' */
static const char B64_DESCENDING[] =
	"//79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eA=";

static int
setup(void **state)
{
	(void)state;
	return sodium_init() >= 0 ? 0 : -1;
}

/* keys_from_base64 on an unterminated heap copy of text[0..len). */
static bool
parse(uint8_t key[KEY_LEN], const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1);
	bool ok;

	assert_non_null(copy);
	memcpy(copy, text, len);
	ok = keys_from_base64(key, copy, len);
	free(copy);
	return ok;
}

static void
deterministic_bytes(uint8_t *buf, size_t len, uint64_t n)
{
	uint8_t seed[randombytes_SEEDBYTES] = { 0 };

	memcpy(seed, &n, sizeof(n));
	randombytes_buf_deterministic(buf, len, seed);
}

static void
test_base64_known_encodings(void **state)
{
	uint8_t asc[KEY_LEN], desc[KEY_LEN], key[KEY_LEN];
	char out[KEY_B64_LEN + 1];
	int i;

	(void)state;
	for (i = 0; i < KEY_LEN; i++) {
		asc[i] = (uint8_t)i;
		desc[i] = (uint8_t)(255 - i);
	}
	keys_to_base64(out, asc);
	assert_string_equal(out, B64_ASCENDING);
	keys_to_base64(out, desc);
	assert_string_equal(out, B64_DESCENDING);

	assert_true(parse(key, B64_ASCENDING, KEY_B64_LEN));
	assert_memory_equal(key, asc, KEY_LEN);
	assert_true(parse(key, B64_DESCENDING, KEY_B64_LEN));
	assert_memory_equal(key, desc, KEY_LEN);
}

static void
test_base64_round_trip(void **state)
{
	uint8_t key[KEY_LEN], back[KEY_LEN];
	char out[KEY_B64_LEN + 1];
	uint64_t n;

	(void)state;
	for (n = 0; n < 500; n++) {
		deterministic_bytes(key, sizeof(key), n);
		memset(out, 'x', sizeof(out));
		keys_to_base64(out, key);
		assert_int_equal(strlen(out), KEY_B64_LEN);
		assert_int_equal(out[KEY_B64_LEN - 1], '=');
		memset(back, 0, sizeof(back));
		assert_true(parse(back, out, KEY_B64_LEN));
		assert_memory_equal(back, key, KEY_LEN);
	}
}

/* Key files end in a newline; configs may indent. */
static void
test_base64_surrounding_whitespace(void **state)
{
	static const char *const ok[] = {
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\r\n",
		"  AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"\t AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= \t\n",
		"\n\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n",
	};
	uint8_t key[KEY_LEN], want[KEY_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < KEY_LEN; i++)
		want[i] = (uint8_t)i;
	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		memset(key, 0, sizeof(key));
		assert_true(parse(key, ok[i], strlen(ok[i])));
		assert_memory_equal(key, want, KEY_LEN);
	}
}

/* Refused; a failed parse leaves the output as it was (no partial key). */
static void
expect_refused(const char *text, size_t len)
{
	uint8_t key[KEY_LEN], untouched[KEY_LEN];

	memset(key, 0xa5, sizeof(key));
	memset(untouched, 0xa5, sizeof(untouched));
	if (parse(key, text, len))
		fail_msg("accepted \"%.*s\" (%zu bytes)", (int)len, text, len);
	assert_memory_equal(key, untouched, KEY_LEN);
}

static void
test_base64_wrong_length(void **state)
{
	char buf[2 * KEY_B64_LEN + 8];
	size_t len;

	(void)state;
	/* Every length but 44 of a valid key's prefix, and past it. */
	memcpy(buf, B64_ASCENDING, KEY_B64_LEN);
	memcpy(buf + KEY_B64_LEN, B64_ASCENDING, KEY_B64_LEN);
	for (len = 0; len <= 2 * KEY_B64_LEN; len++)
		if (len != KEY_B64_LEN)
			expect_refused(buf, len);

	/* 43 symbols without the '=' (unpadded base64 of 32 bytes) */
	expect_refused(B64_ASCENDING, KEY_B64_LEN - 1);
	/* an extra symbol or '=' after the key */
	expect_refused("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=A", 45);
	expect_refused("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8==", 45);
	/* 33 bytes: 44 symbols, no padding */
	expect_refused("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", 44);
	/* 31 bytes: 42 symbols and "==" */
	expect_refused("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==", 44);
	/* 24 bytes: 32 symbols, padded with whitespace to 44 */
	expect_refused("AAECAwQFBgcICQoLDA0ODxAREhMUFRYX            ", 44);
}

/*
 * Any symbol position replaced by anything outside standard base64. Bytes
 * >= 0x80 matter: libsodium 1.0.18 decodes them as '/', and only keys.c's
 * re-encoding check refuses them.
 */
static void
test_base64_bad_characters(void **state)
{
	static const char bad[] = { '!', '-', '_', '.', ' ', '\t', '\n',
				    '\0', '*', '\\', (char)0x80, (char)0xff,
				    '=' };
	char text[KEY_B64_LEN];
	size_t pos, i;

	(void)state;
	for (pos = 0; pos < KEY_B64_LEN - 1; pos++) {
		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			memcpy(text, B64_DESCENDING, KEY_B64_LEN);
			text[pos] = bad[i];
			expect_refused(text, KEY_B64_LEN);
		}
	}
	/* The URL-safe alphabet's spelling of a key with '+' and '/'. */
	expect_refused("__79_Pv6-fj39vX08_Lx8O_u7ezr6uno5-bl5OPi4eA=", 44);
	/* The final '=' replaced by a symbol. */
	memcpy(text, B64_ASCENDING, KEY_B64_LEN);
	text[KEY_B64_LEN - 1] = 'A';
	expect_refused(text, KEY_B64_LEN);
}

/*
 * 43 symbols carry 258 bits for 256: the last symbol's two low bits are
 * spare, and a canonical encoding has them zero. "Hh8=" ends the ascending
 * key ('8' is 60, low bits 00); 61, 62 and 63 ('9', '+', '/') decode to
 * the same bytes but are not the key's encoding.
 */
static void
test_base64_non_canonical(void **state)
{
	static const char tails[] = { '9', '+', '/' };
	char text[KEY_B64_LEN];
	size_t i;

	(void)state;
	assert_int_equal(B64_ASCENDING[KEY_B64_LEN - 2], '8');
	for (i = 0; i < ARRAY_SIZE(tails); i++) {
		memcpy(text, B64_ASCENDING, KEY_B64_LEN);
		text[KEY_B64_LEN - 2] = tails[i];
		expect_refused(text, KEY_B64_LEN);
	}
}

/* RFC 7748 section 6.1: Alice's and Bob's key pairs. */
static void
test_public_rfc7748(void **state)
{
	static const char *const priv_hex[] = {
		"77076d0a7318a57d3c16c17251b26645"
		"df4c2f87ebc0992ab177fba51db92c2a",
		"5dab087e624a8a4b79e17f8b83800ee6"
		"6f3bb1292618b6fd1c2f8b27ff88e0eb",
	};
	static const char *const pub_hex[] = {
		"8520f0098930a754748b7ddcb43ef75a"
		"0dbf3a0d26381af4eba4a98eaa9b4e6a",
		"de9edb7d7b7dc1b4d35b61c2ece43537"
		"3f8343c85b78674dadfc7e146f882b4f",
	};
	uint8_t priv[KEY_LEN], want[KEY_LEN], pub[KEY_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(priv_hex); i++) {
		assert_int_equal(sodium_hex2bin(priv, KEY_LEN, priv_hex[i], 64,
						NULL, NULL, NULL), 0);
		assert_int_equal(sodium_hex2bin(want, KEY_LEN, pub_hex[i], 64,
						NULL, NULL, NULL), 0);
		assert_true(keys_public_from_private(pub, priv));
		assert_memory_equal(pub, want, KEY_LEN);
	}
}

static void
test_public_matches_scalarmult_base(void **state)
{
	uint8_t priv[KEY_LEN], pub[KEY_LEN], want[KEY_LEN];
	uint64_t n;

	(void)state;
	for (n = 0; n < 200; n++) {
		deterministic_bytes(priv, sizeof(priv), 1000 + n);
		/* clamped as genkey makes them, and raw */
		if (n % 2)
			keys_clamp(priv);
		assert_int_equal(crypto_scalarmult_base(want, priv), 0);
		assert_true(keys_public_from_private(pub, priv));
		assert_memory_equal(pub, want, KEY_LEN);
	}
}

static void
test_clamp(void **state)
{
	uint8_t key[KEY_LEN];
	int i;

	(void)state;
	memset(key, 0xff, sizeof(key));
	keys_clamp(key);
	assert_int_equal(key[0], 0xf8);
	assert_int_equal(key[31], 0x7f);
	for (i = 1; i < 31; i++)
		assert_int_equal(key[i], 0xff);

	memset(key, 0, sizeof(key));
	keys_clamp(key);
	assert_int_equal(key[0], 0);
	assert_int_equal(key[31], 0x40);
	for (i = 1; i < 31; i++)
		assert_int_equal(key[i], 0);
}

/* Every single-bit difference is seen, at every position. */
static void
test_equal_and_zero(void **state)
{
	uint8_t a[KEY_LEN], b[KEY_LEN], z[KEY_LEN];
	int bit;

	(void)state;
	deterministic_bytes(a, sizeof(a), 7);
	memcpy(b, a, sizeof(b));
	memset(z, 0, sizeof(z));
	assert_true(keys_equal(a, b));
	assert_true(keys_equal(z, z));
	assert_true(keys_is_zero(z));
	assert_false(keys_is_zero(a));
	for (bit = 0; bit < KEY_LEN * 8; bit++) {
		b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_false(keys_equal(a, b));
		assert_false(keys_equal(b, a));
		b[bit / 8] ^= (uint8_t)(1u << (bit % 8));

		z[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_false(keys_is_zero(z));
		z[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_true(keys_equal(a, b));
	assert_true(keys_is_zero(z));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_known_encodings),
		cmocka_unit_test(test_base64_round_trip),
		cmocka_unit_test(test_base64_surrounding_whitespace),
		cmocka_unit_test(test_base64_wrong_length),
		cmocka_unit_test(test_base64_bad_characters),
		cmocka_unit_test(test_base64_non_canonical),
		cmocka_unit_test(test_public_rfc7748),
		cmocka_unit_test(test_public_matches_scalarmult_base),
		cmocka_unit_test(test_clamp),
		cmocka_unit_test(test_equal_and_zero),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
