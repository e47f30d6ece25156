/* SPDX-License-Identifier: MIT */
/*
 * TOTP (RFC 6238) through liboath: code generation for a time step,
 * matching a code against a window of steps around `now`, secrets in base32
 * and otpauth:// URIs. Pure apart from liboath: `now` is an argument.
 */
#ifndef VPND_TOTP_H
#define VPND_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOTP_SECRET_LEN 20 /* 160 bits, what vpnctl generates */
#define TOTP_SECRET_MAX 64

enum totp_algo {
	TOTP_SHA1 = 0,
	TOTP_SHA256 = 1,
	TOTP_SHA512 = 2,
};

struct totp_params {
	enum totp_algo algo;
	unsigned int digits;   /* 6-8 */
	unsigned int period_s; /* time step, usually 30 */
};

/* liboath's global init; call once before threads start. 0 or -1. */
int totp_global_init(void);
void totp_global_done(void);

/* The step (counter) that `unix_s` falls in. */
int64_t totp_step(const struct totp_params *p, uint64_t unix_s);

/* The code for `step` into out (digits + NUL). False on a liboath error. */
bool totp_generate(const uint8_t *secret, size_t secret_len,
		   const struct totp_params *p, int64_t step, char out[9]);

/*
 * Compares `code` in constant time with the codes of every step within
 * `window` of now. True if one matches; *step_out is the latest matching
 * step and *offset_out its distance from now's step (-window..window).
 */
bool totp_match(const uint8_t *secret, size_t secret_len,
		const struct totp_params *p, uint64_t now_unix_s,
		unsigned int window, const char *code, int64_t *step_out,
		int *offset_out);

/* otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=..
 * &digits=..&period=.. (percent-encoded). False if it does not fit. */
bool totp_uri(char *out, size_t out_len, const char *issuer,
	      const char *account, const uint8_t *secret, size_t secret_len,
	      const struct totp_params *p);

/* "SHA1", "SHA256", "SHA512" (as in otpauth:// URIs) and back; the
 * parser ignores case. */
const char *totp_algo_name(enum totp_algo algo);
bool totp_algo_parse(const char *text, enum totp_algo *out);

/* Base32 (RFC 4648, no padding) of the secret, through liboath. False if
 * it does not fit. */
bool totp_base32(char *out, size_t out_len, const uint8_t *secret,
		 size_t secret_len);

#endif
