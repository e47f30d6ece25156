// SPDX-License-Identifier: MIT
/*
 * TOTP (RFC 6238) over liboath, plus the two encodings an authenticator app
 * needs: base32 secrets and otpauth:// URIs. It owns code generation and
 * the constant-time comparison of a typed code against a window of steps.
 * It must not decide anything about reuse or lockout (auth.c does), read
 * the clock (`now` is an argument) or keep any state between calls.
 */
#include "totp.h"

#include <liboath/oath.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOTP_DIGITS_MIN 6
#define TOTP_DIGITS_MAX 8

int
totp_global_init(void)
{
	return oath_init() == OATH_OK ? 0 : -1;
}

void
totp_global_done(void)
{
	oath_done();
}

static bool
params_valid(const struct totp_params *p)
{
	return p->digits >= TOTP_DIGITS_MIN && p->digits <= TOTP_DIGITS_MAX &&
	       p->period_s > 0 && p->algo <= TOTP_SHA512;
}

int64_t
totp_step(const struct totp_params *p, uint64_t unix_s)
{
	if (p->period_s == 0)
		return 0;
	return (int64_t)(unix_s / p->period_s);
}

static int
oath_flags(enum totp_algo algo)
{
	switch (algo) {
	case TOTP_SHA256:
		return OATH_TOTP_HMAC_SHA256;
	case TOTP_SHA512:
		return OATH_TOTP_HMAC_SHA512;
	default:
		return 0;
	}
}

bool
totp_generate(const uint8_t *secret, size_t secret_len,
	      const struct totp_params *p, int64_t step, char out[9])
{
	char otp[TOTP_DIGITS_MAX + 1];
	bool ok = false;
	int rc;

	memset(out, 0, 9);
	if (!params_valid(p) || secret_len == 0 || step < 0 ||
	    step > INT64_MAX / (int64_t)p->period_s)
		goto out;
	/*
	 * liboath derives the counter from a time; the start of the step
	 * gives exactly `step` with T0 = 0.
	 */
	rc = oath_totp_generate2((const char *)secret, secret_len,
				 (time_t)(step * (int64_t)p->period_s),
				 p->period_s, 0, p->digits, oath_flags(p->algo),
				 otp);
	if (rc != OATH_OK)
		goto out;
	memcpy(out, otp, p->digits + 1);
	ok = true;
out:
	sodium_memzero(otp, sizeof(otp));
	return ok;
}

/*
 * Every step of the window is computed and compared, and the match is
 * recorded with masks rather than branches, so the time taken does not
 * depend on whether or where the code matched.
 */
bool
totp_match(const uint8_t *secret, size_t secret_len,
	   const struct totp_params *p, uint64_t now_unix_s,
	   unsigned int window, const char *code, int64_t *step_out,
	   int *offset_out)
{
	int64_t now_step = totp_step(p, now_unix_s), best_step = 0;
	size_t code_len = strnlen(code, TOTP_DIGITS_MAX + 1);
	uint64_t best_off = 0;
	int off, w = (int)window;
	unsigned int found = 0;
	char gen[9];

	for (off = -w; off <= w; off++) {
		uint64_t mask;
		unsigned int eq;

		if (!totp_generate(secret, secret_len, p, now_step + off, gen))
			continue;
		/* The length is the sender's own knowledge, not a secret. */
		eq = code_len == p->digits &&
		     sodium_memcmp(gen, code, p->digits) == 0;
		mask = (uint64_t)0 - (uint64_t)eq;
		best_step = (int64_t)(((uint64_t)best_step & ~mask) |
				      ((uint64_t)(now_step + off) & mask));
		best_off = (best_off & ~mask) | ((uint64_t)(int64_t)off & mask);
		found |= eq;
	}
	sodium_memzero(gen, sizeof(gen));
	*step_out = best_step;
	*offset_out = (int)(int64_t)best_off;
	return found != 0;
}

/*
 * liboath's encoder (gnulib's base32) pads to a multiple of 8 with '=';
 * otpauth:// URIs and authenticator apps want the secret unpadded. Its
 * buffer held the secret: wiped before it is freed.
 */
bool
totp_base32(char *out, size_t out_len, const uint8_t *secret,
	    size_t secret_len)
{
	char *enc = NULL;
	size_t enc_len = 0;
	bool ok = false;

	if (out_len == 0)
		return false;
	out[0] = '\0';
	if (oath_base32_encode((const char *)secret, secret_len, &enc,
			       &enc_len) != OATH_OK || !enc)
		goto out;
	while (enc_len > 0 && enc[enc_len - 1] == '=')
		enc_len--;
	if (enc_len + 1 > out_len)
		goto out;
	memcpy(out, enc, enc_len);
	out[enc_len] = '\0';
	ok = true;
out:
	if (enc) {
		sodium_memzero(enc, strlen(enc));
		free(enc);
	}
	return ok;
}

/* RFC 3986 percent-encoding of everything but the unreserved characters. */
static bool
append_encoded(char *out, size_t out_len, size_t *pos, const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)text;

	for (; *s; s++) {
		bool plain = (*s >= 'A' && *s <= 'Z') ||
			     (*s >= 'a' && *s <= 'z') ||
			     (*s >= '0' && *s <= '9') || *s == '-' ||
			     *s == '.' || *s == '_' || *s == '~';
		size_t need = plain ? 1 : 3;

		if (*pos + need >= out_len)
			return false;
		if (plain) {
			out[(*pos)++] = (char)*s;
		} else {
			out[(*pos)++] = '%';
			out[(*pos)++] = hex[*s >> 4];
			out[(*pos)++] = hex[*s & 15];
		}
	}
	out[*pos] = '\0';
	return true;
}

static bool
append_text(char *out, size_t out_len, size_t *pos, const char *text)
{
	size_t len = strlen(text);

	if (*pos + len >= out_len)
		return false;
	memcpy(out + *pos, text, len + 1);
	*pos += len;
	return true;
}

const char *
totp_algo_name(enum totp_algo algo)
{
	switch (algo) {
	case TOTP_SHA256:
		return "SHA256";
	case TOTP_SHA512:
		return "SHA512";
	default:
		return "SHA1";
	}
}

bool
totp_algo_parse(const char *text, enum totp_algo *out)
{
	static const enum totp_algo all[] = { TOTP_SHA1, TOTP_SHA256,
					      TOTP_SHA512 };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcasecmp(text, totp_algo_name(all[i])) == 0) {
			*out = all[i];
			return true;
		}
	}
	return false;
}

bool
totp_uri(char *out, size_t out_len, const char *issuer, const char *account,
	 const uint8_t *secret, size_t secret_len,
	 const struct totp_params *p)
{
	char b32[(TOTP_SECRET_MAX * 8 + 4) / 5 + 1], tail[64];
	size_t pos = 0;
	bool ok = false;

	if (out_len == 0 || secret_len > TOTP_SECRET_MAX || !params_valid(p) ||
	    !totp_base32(b32, sizeof(b32), secret, secret_len))
		goto out;
	snprintf(tail, sizeof(tail), "&algorithm=%s&digits=%u&period=%u",
		 totp_algo_name(p->algo), p->digits, p->period_s);
	out[0] = '\0';
	ok = append_text(out, out_len, &pos, "otpauth://totp/") &&
	     append_encoded(out, out_len, &pos, issuer) &&
	     append_text(out, out_len, &pos, ":") &&
	     append_encoded(out, out_len, &pos, account) &&
	     append_text(out, out_len, &pos, "?secret=") &&
	     append_text(out, out_len, &pos, b32) &&
	     append_text(out, out_len, &pos, "&issuer=") &&
	     append_encoded(out, out_len, &pos, issuer) &&
	     append_text(out, out_len, &pos, tail);
	if (!ok)
		sodium_memzero(out, out_len);
out:
	sodium_memzero(b32, sizeof(b32));
	return ok;
}
