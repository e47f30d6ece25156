/* SPDX-License-Identifier: MIT */
/*
 * AEAD and XAEAD of PROTOCOL.md section 1: ChaCha20-Poly1305 IETF with the
 * 64-bit counter nonce, and XChaCha20-Poly1305 for cookie replies. Thin,
 * allocation-free wrappers over libsodium; in-place use is allowed.
 */
#ifndef VPN_AEAD_H
#define VPN_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AEAD_KEY_LEN 32
#define AEAD_TAG_LEN 16
#define XAEAD_NONCE_LEN 24

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

#endif
