/* SPDX-License-Identifier: MIT */
/*
 * AEAD and XAEAD of PROTOCOL.md section 1: ChaCha20-Poly1305 IETF with the
 * 64-bit counter nonce, and XChaCha20-Poly1305 for cookie replies. Thin,
 * allocation-free wrappers; in-place use is allowed. The AEAD runs on one
 * of two backends giving the same bytes, libsodium (the default and the
 * fallback) or OpenSSL 3's libcrypto, chosen once at start (aead_select.h);
 * XAEAD is always libsodium's.
 */
#ifndef VPN_AEAD_H
#define VPN_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AEAD_KEY_LEN 32
#define AEAD_TAG_LEN 16
#define XAEAD_NONCE_LEN 24
#define AEAD_NONCE_LEN 12

/* Who computes aead_encrypt and aead_decrypt. */
enum aead_backend {
	AEAD_AUTO,      /* aead_select only: the faster, measured at start */
	AEAD_LIBSODIUM,
	AEAD_OPENSSL,   /* needs aead_openssl_init() first */
};

/*
 * dst = AEAD(key, counter, src, ad): len bytes of ciphertext followed by the
 * tag; dst needs len + AEAD_TAG_LEN bytes and may equal src.
 */
void aead_encrypt(uint8_t *dst, const uint8_t *src, size_t len,
		  const uint8_t *ad, size_t ad_len, uint64_t counter,
		  const uint8_t key[AEAD_KEY_LEN]);

/*
 * Opens src (len includes the tag) into dst (len - AEAD_TAG_LEN bytes, may
 * equal src). False if authentication fails; dst is then zeroed.
 */
bool aead_decrypt(uint8_t *dst, const uint8_t *src, size_t len,
		  const uint8_t *ad, size_t ad_len, uint64_t counter,
		  const uint8_t key[AEAD_KEY_LEN])
	__attribute__((warn_unused_result));

void xaead_encrypt(uint8_t *dst, const uint8_t *src, size_t len,
		   const uint8_t *ad, size_t ad_len,
		   const uint8_t nonce[XAEAD_NONCE_LEN],
		   const uint8_t key[AEAD_KEY_LEN]);

bool xaead_decrypt(uint8_t *dst, const uint8_t *src, size_t len,
		   const uint8_t *ad, size_t ad_len,
		   const uint8_t nonce[XAEAD_NONCE_LEN],
		   const uint8_t key[AEAD_KEY_LEN])
	__attribute__((warn_unused_result));

/*
 * Makes b the backend of aead_encrypt and aead_decrypt, for packets of
 * every length. Call before other threads start (the choice is read,
 * unlocked, on every packet). False, changing nothing, for AEAD_AUTO or
 * for OpenSSL not initialised.
 */
bool aead_use(enum aead_backend b);
/*
 * With OpenSSL in use, packets of fewer than min_len plaintext bytes go to
 * libsodium instead: OpenSSL costs more per call and wins only on longer
 * ones (aead_select measures where). Same bytes either way. Call after
 * aead_use, before other threads start.
 */
void aead_use_split(size_t min_len);
enum aead_backend aead_backend_current(void);
/* The split set: 0 when one backend takes every packet. */
size_t aead_split_len(void);

/* "auto", "libsodium", "openssl": the configuration's words. */
const char *aead_backend_name(enum aead_backend b);
bool aead_backend_parse(const char *name, enum aead_backend *out)
	__attribute__((warn_unused_result));

/*
 * The AEAD on backend b (not AUTO) with a whole 12-byte nonce, for
 * published vectors, the start-up measurement and the benchmark; the same
 * contracts as aead_encrypt and aead_decrypt.
 */
void aead_seal_with(enum aead_backend b, uint8_t *dst, const uint8_t *src,
		    size_t len, const uint8_t *ad, size_t ad_len,
		    const uint8_t nonce[AEAD_NONCE_LEN],
		    const uint8_t key[AEAD_KEY_LEN]);
bool aead_open_with(enum aead_backend b, uint8_t *dst, const uint8_t *src,
		    size_t len, const uint8_t *ad, size_t ad_len,
		    const uint8_t nonce[AEAD_NONCE_LEN],
		    const uint8_t key[AEAD_KEY_LEN])
	__attribute__((warn_unused_result));

#endif
