/* SPDX-License-Identifier: MIT */
/*
 * ChaCha20-Poly1305 IETF through OpenSSL 3's libcrypto: the second backend
 * behind aead_encrypt and aead_decrypt (aead.c chooses; nothing else
 * should call this). Takes a whole 12-byte nonce. No allocation per
 * packet: the cipher is fetched once, each thread keeps its own pair of
 * contexts. No I/O, no clock; it never logs.
 */
#ifndef VPN_AEAD_OPENSSL_H
#define VPN_AEAD_OPENSSL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AEAD_OPENSSL_NONCE_LEN 12

/* What became of a call; the caller acts on it. */
enum aead_openssl_result {
	AEAD_OPENSSL_DONE,    /* sealed, or opened and authentic */
	AEAD_OPENSSL_FORGED,  /* open only: tag wrong; dst was zeroed */
	/* Nothing was written: use the other backend for this call. */
	AEAD_OPENSSL_UNAVAILABLE,
};

/*
 * Loads libcrypto's ChaCha20-Poly1305 in a private library context (no
 * configuration file, so nothing is opened later) and the calling
 * thread's contexts. Call before any sandbox and before threads start;
 * again is a no-op. 0, or -ENOTSUP if libcrypto cannot give the cipher,
 * -ENOMEM.
 */
int aead_openssl_init(void);

/* Whether aead_openssl_init succeeded. */
bool aead_openssl_ready(void);

/*
 * dst = len bytes of ciphertext then the 16-byte tag; dst may equal src
 * (no other overlap). If libcrypto fails after it began writing, dst and
 * the tag are zeroed, so nothing readable leaves (the peer drops it), and
 * DONE is returned.
 */
enum aead_openssl_result
aead_openssl_seal(uint8_t *dst, const uint8_t *src, size_t len,
		  const uint8_t *ad, size_t ad_len,
		  const uint8_t nonce[AEAD_OPENSSL_NONCE_LEN],
		  const uint8_t key[32]);

/*
 * Opens src (len includes the tag, len >= 16) into dst (len - 16 bytes,
 * may equal src). FORGED if the tag is wrong or libcrypto failed midway:
 * dst is then all zeros.
 */
enum aead_openssl_result
aead_openssl_open(uint8_t *dst, const uint8_t *src, size_t len,
		  const uint8_t *ad, size_t ad_len,
		  const uint8_t nonce[AEAD_OPENSSL_NONCE_LEN],
		  const uint8_t key[32]);

/* libcrypto's version, for the log line that names the backend. */
const char *aead_openssl_version(void);

#endif
