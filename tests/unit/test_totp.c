// SPDX-License-Identifier: MIT
/*
 * totp.c against the published RFC 6238 and RFC 4226 vectors, then the
 * window (every offset found, nothing past it), the refusal of malformed
 * codes, the absence of an early exit (a code matching two steps gives the
 * later one), base32 (RFC 4648 vectors) and otpauth:// URIs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../vectors/totp_rfc6238.h"
#include "../../vpnd/totp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t secret[TOTP_SECRET_LEN] = "12345678901234567890";
static const struct totp_params std_params = { TOTP_SHA1, 6, 30 };

static const char *
seed_for(enum totp_algo algo)
{
	switch (algo) {
	case TOTP_SHA256:
		return rfc6238_seed_sha256;
	case TOTP_SHA512:
		return rfc6238_seed_sha512;
	default:
		return rfc6238_seed_sha1;
	}
}

static void
test_rfc6238_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rfc6238_vectors); i++) {
		const char *seed = seed_for(rfc6238_vectors[i].algo);
		struct totp_params p = { rfc6238_vectors[i].algo,
					 RFC6238_DIGITS, RFC6238_PERIOD };
		uint64_t t = rfc6238_vectors[i].time;
		char code[9];
		int64_t step;
		int off;

		assert_true(totp_generate((const uint8_t *)seed, strlen(seed),
					  &p, totp_step(&p, t), code));
		assert_string_equal(code, rfc6238_vectors[i].totp);
		assert_true(totp_match((const uint8_t *)seed, strlen(seed), &p,
				       t, 0, rfc6238_vectors[i].totp, &step,
				       &off));
		assert_int_equal(step, (int64_t)(t / RFC6238_PERIOD));
		assert_int_equal(off, 0);
	}
}

/* HOTP(counter) is the TOTP of step `counter`. */
static void
test_rfc4226_vectors(void **state)
{
	char code[9];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rfc4226_hotp); i++) {
		assert_true(totp_generate(secret, sizeof(secret), &std_params,
					  (int64_t)i, code));
		assert_string_equal(code, rfc4226_hotp[i]);
	}
}

static void
test_step(void **state)
{
	static const struct {
		uint64_t t;
		unsigned int period;
		int64_t step;
	} v[] = {
		{ 0, 30, 0 },	    { 29, 30, 0 },	  { 30, 30, 1 },
		{ 59, 30, 1 },	    { 60, 30, 2 },	  { 59, 60, 0 },
		{ 1111111109, 30, 0x23523EC },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		struct totp_params p = { TOTP_SHA1, 6, v[i].period };

		assert_int_equal(totp_step(&p, v[i].t), v[i].step);
	}
}

/* Every offset inside the window is found and reported; one past it is
 * not. */
static void
test_window(void **state)
{
	const uint64_t now = 1700000015;
	const int64_t now_step = (int64_t)(now / 30);
	unsigned int w;
	int off, got_off;
	int64_t got_step;
	char code[9];

	(void)state;
	for (w = 0; w <= 3; w++) {
		for (off = -(int)w - 1; off <= (int)w + 1; off++) {
			bool inside = off >= -(int)w && off <= (int)w;

			assert_true(totp_generate(secret, sizeof(secret),
						  &std_params, now_step + off,
						  code));
			got_step = -1;
			got_off = 99;
			assert_int_equal(totp_match(secret, sizeof(secret),
						    &std_params, now, w, code,
						    &got_step, &got_off),
					 inside);
			if (!inside)
				continue;
			assert_int_equal(got_step, now_step + off);
			assert_int_equal(got_off, off);
		}
	}
}

/* Near the epoch the steps before 0 are skipped, not wrapped. */
static void
test_window_at_epoch(void **state)
{
	char code[9];
	int64_t step;
	int off;

	(void)state;
	assert_true(totp_generate(secret, sizeof(secret), &std_params, 0,
				  code));
	assert_true(totp_match(secret, sizeof(secret), &std_params, 5, 2, code,
			       &step, &off));
	assert_int_equal(step, 0);
	assert_int_equal(off, 0);
	assert_false(totp_generate(secret, sizeof(secret), &std_params, -1,
				   code));
}

static void
test_malformed_codes(void **state)
{
	const uint64_t now = 1700000000;
	struct totp_params p8 = { TOTP_SHA1, 8, 30 };
	char good[9], bad[16];
	int64_t step;
	int off;

	(void)state;
	assert_true(totp_generate(secret, sizeof(secret), &std_params,
				  totp_step(&std_params, now), good));
	assert_true(totp_match(secret, sizeof(secret), &std_params, now, 1,
			       good, &step, &off));
	/* one digit off, every position */
	for (size_t i = 0; i < 6; i++) {
		snprintf(bad, sizeof(bad), "%s", good);
		bad[i] = (char)('0' + (bad[i] - '0' + 1) % 10);
		assert_false(totp_match(secret, sizeof(secret), &std_params,
					now, 0, bad, &step, &off));
	}
	/* too short, too long, trailing garbage, not digits, empty */
	snprintf(bad, sizeof(bad), "%.5s", good);
	assert_false(totp_match(secret, sizeof(secret), &std_params, now, 1,
				bad, &step, &off));
	snprintf(bad, sizeof(bad), "%s0", good);
	assert_false(totp_match(secret, sizeof(secret), &std_params, now, 1,
				bad, &step, &off));
	snprintf(bad, sizeof(bad), "%sx", good);
	assert_false(totp_match(secret, sizeof(secret), &std_params, now, 1,
				bad, &step, &off));
	assert_false(totp_match(secret, sizeof(secret), &std_params, now, 1,
				"abcdef", &step, &off));
	assert_false(totp_match(secret, sizeof(secret), &std_params, now, 1, "",
				&step, &off));
	/* a 6-digit code where 8 are expected */
	assert_false(totp_match(secret, sizeof(secret), &p8, now, 1, good,
				&step, &off));
	/* no match leaves nothing behind */
	assert_int_equal(step, 0);
	assert_int_equal(off, 0);
}

static void
test_bad_params(void **state)
{
	struct totp_params p = std_params;
	char code[9];

	(void)state;
	p.digits = 5;
	assert_false(totp_generate(secret, sizeof(secret), &p, 1, code));
	p.digits = 9;
	assert_false(totp_generate(secret, sizeof(secret), &p, 1, code));
	p.digits = 6;
	p.period_s = 0;
	assert_false(totp_generate(secret, sizeof(secret), &p, 1, code));
	p.period_s = 30;
	assert_false(totp_generate(secret, 0, &p, 1, code));
	assert_true(totp_generate(secret, sizeof(secret), &p, 1, code));
}

/*
 * The whole window is always computed: find a secret whose codes repeat
 * inside a window (a few thousand tries at 6 digits), then check the match
 * reports the later step, which an early exit would miss.
 */
static void
test_no_early_exit(void **state)
{
	const uint64_t now = 1600000000;
	const int64_t base = (int64_t)(now / 30);
	const unsigned int w = 10;
	char codes[21][9];
	uint8_t s[TOTP_SECRET_LEN] = { 0 };
	uint32_t trial;
	int i = 0, j = 0, off;
	int64_t step;
	bool found = false;

	(void)state;
	for (trial = 0; trial < 200000 && !found; trial++) {
		memcpy(s, &trial, sizeof(trial));
		for (i = 0; i < 21; i++)
			assert_true(totp_generate(s, sizeof(s), &std_params,
						  base - 10 + i, codes[i]));
		for (i = 0; i < 21 && !found; i++)
			for (j = i + 1; j < 21 && !found; j++)
				found = strcmp(codes[i], codes[j]) == 0;
	}
	assert_true(found);
	/* the loops stepped one past the pair */
	i--;
	j--;
	assert_true(totp_match(s, sizeof(s), &std_params, now, w, codes[i],
			       &step, &off));
	assert_int_equal(step, base - 10 + j);
	assert_int_equal(off, j - 10);
}

static void
test_base32(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "", "" },	       { "f", "MY" },
		{ "fo", "MZXQ" },      { "foo", "MZXW6" },
		{ "foob", "MZXW6YQ" }, { "fooba", "MZXW6YTB" },
		{ "foobar", "MZXW6YTBOI" },
		{ "12345678901234567890", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" },
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		assert_true(totp_base32(out, sizeof(out),
					(const uint8_t *)v[i].in,
					strlen(v[i].in)));
		assert_string_equal(out, v[i].out);
	}
	assert_false(totp_base32(out, 32, secret, sizeof(secret)));
	assert_true(totp_base32(out, 33, secret, sizeof(secret)));
	assert_int_equal(strlen(out), 32);
}

static void
test_uri(void **state)
{
	struct totp_params p = { TOTP_SHA256, 8, 60 };
	char uri[512];

	(void)state;
	assert_true(totp_uri(uri, sizeof(uri), "vpnd", "alice", secret,
			     sizeof(secret), &std_params));
	assert_string_equal(uri, "otpauth://totp/vpnd:alice"
				 "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
				 "&issuer=vpnd&algorithm=SHA1&digits=6"
				 "&period=30");
	assert_true(totp_uri(uri, sizeof(uri), "ACME Corp/VPN", "bob@x.example",
			     secret, sizeof(secret), &p));
	assert_string_equal(uri, "otpauth://totp/ACME%20Corp%2FVPN:"
				 "bob%40x.example"
				 "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
				 "&issuer=ACME%20Corp%2FVPN&algorithm=SHA256"
				 "&digits=8&period=60");
	/* UTF-8 is encoded byte by byte */
	assert_true(totp_uri(uri, sizeof(uri), "vpnd", "j\xc3\xb6rg", secret,
			     sizeof(secret), &std_params));
	assert_non_null(strstr(uri, "vpnd:j%C3%B6rg?"));
	/* too small: false, nothing partial */
	assert_false(totp_uri(uri, 60, "vpnd", "alice", secret, sizeof(secret),
			      &std_params));
	assert_int_equal(uri[0], '\0');
}

static void
test_algo_names(void **state)
{
	enum totp_algo a;

	(void)state;
	assert_true(totp_algo_parse("sha1", &a));
	assert_int_equal(a, TOTP_SHA1);
	assert_true(totp_algo_parse("SHA256", &a));
	assert_int_equal(a, TOTP_SHA256);
	assert_true(totp_algo_parse("Sha512", &a));
	assert_int_equal(a, TOTP_SHA512);
	assert_false(totp_algo_parse("md5", &a));
	assert_string_equal(totp_algo_name(TOTP_SHA512), "SHA512");
}

static int
setup(void **state)
{
	(void)state;
	return totp_global_init();
}

static int
teardown(void **state)
{
	(void)state;
	totp_global_done();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6238_vectors),
		cmocka_unit_test(test_rfc4226_vectors),
		cmocka_unit_test(test_step),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_window_at_epoch),
		cmocka_unit_test(test_malformed_codes),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_no_early_exit),
		cmocka_unit_test(test_base32),
		cmocka_unit_test(test_uri),
		cmocka_unit_test(test_algo_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
