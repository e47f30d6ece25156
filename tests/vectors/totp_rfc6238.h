/* SPDX-License-Identifier: MIT */
/*
 * RFC 6238 TOTP test vectors, copied (values unchanged) from the project's
 * vector file /work/shared/vectors/totp-vectors.json. Its provenance:
 *   _about:  "RFC 6238 Appendix B (TOTP, T0=0, X=30, 8 digits) and RFC
 *            4226 Appendix D (HOTP, 6 digits) test vectors", transcribed
 *            from the RFC tables and re-derived with Python's hmac when
 *            that file was generated (all matched).
 *   source:  "RFC 6238 (May 2011), Appendix B 'Test Vectors', Table 1;
 *            seeds per Appendix A reference code".
 *   note:    the SHA256 and SHA512 rows use the 32- and 64-byte seeds of
 *            the RFC's Appendix A code (RFC errata 2866), not the 20-byte
 *            seed named in Appendix B's prose.
 * The HOTP values are that file's "rfc4226" section: "RFC 4226 (Dec
 * 2005), Appendix D 'HOTP Algorithm: Test Values'" (SHA1, 6 digits,
 * counters 0-9). Tests never read the JSON; this header is their copy.
 */
#ifndef TEST_TOTP_RFC6238_H
#define TEST_TOTP_RFC6238_H

#include <stdint.h>

#include "../../vpnd/totp.h"

#define RFC6238_PERIOD 30
#define RFC6238_DIGITS 8

/* ASCII seeds, per algorithm. */
static const char rfc6238_seed_sha1[] =
	"12345678901234567890";
static const char rfc6238_seed_sha256[] =
	"12345678901234567890123456789012";
static const char rfc6238_seed_sha512[] =
	"12345678901234567890123456789012"
	"34567890123456789012345678901234";

static const struct {
	uint64_t time; /* UNIX seconds */
	enum totp_algo algo;
	const char *totp;
} rfc6238_vectors[] = {
	/* 1970-01-01 00:00:59 UTC, T = 0x0000000000000001 */
	{ 59ULL, TOTP_SHA1, "94287082" },
	{ 59ULL, TOTP_SHA256, "46119246" },
	{ 59ULL, TOTP_SHA512, "90693936" },
	/* 2005-03-18 01:58:29 UTC, T = 0x00000000023523EC */
	{ 1111111109ULL, TOTP_SHA1, "07081804" },
	{ 1111111109ULL, TOTP_SHA256, "68084774" },
	{ 1111111109ULL, TOTP_SHA512, "25091201" },
	/* 2005-03-18 01:58:31 UTC, T = 0x00000000023523ED */
	{ 1111111111ULL, TOTP_SHA1, "14050471" },
	{ 1111111111ULL, TOTP_SHA256, "67062674" },
	{ 1111111111ULL, TOTP_SHA512, "99943326" },
	/* 2009-02-13 23:31:30 UTC, T = 0x000000000273EF07 */
	{ 1234567890ULL, TOTP_SHA1, "89005924" },
	{ 1234567890ULL, TOTP_SHA256, "91819424" },
	{ 1234567890ULL, TOTP_SHA512, "93441116" },
	/* 2033-05-18 03:33:20 UTC, T = 0x0000000003F940AA */
	{ 2000000000ULL, TOTP_SHA1, "69279037" },
	{ 2000000000ULL, TOTP_SHA256, "90698825" },
	{ 2000000000ULL, TOTP_SHA512, "38618901" },
	/* 2603-10-11 11:33:20 UTC, T = 0x0000000027BC86AA */
	{ 20000000000ULL, TOTP_SHA1, "65353130" },
	{ 20000000000ULL, TOTP_SHA256, "77737706" },
	{ 20000000000ULL, TOTP_SHA512, "47863826" },
};

/* RFC 4226 Appendix D: HOTP of counters 0-9, SHA1 seed, 6 digits. */
static const char *const rfc4226_hotp[] = {
	"755224", "287082", "359152", "969429", "338314",
	"254676", "287922", "162583", "399871", "520489",
};

#endif
