/* SPDX-License-Identifier: MIT */
/*
 * HASH, HMAC-BLAKE2b and the Noise HKDF of PROTOCOL.md section 1, built on
 * libsodium's crypto_generichash (libsodium has no HMAC-BLAKE2b). No I/O.
 */
#ifndef VPN_KDF_H
#define VPN_KDF_H

#include <stddef.h>
#include <stdint.h>

#define KDF_HASH_LEN 64   /* HASH, HMAC and KDF outputs */
#define KDF_BLOCK_LEN 128 /* BLAKE2b block, the HMAC pad width */

/* out = HASH(a || b); b may be NULL when b_len is 0. */
void kdf_hash(uint8_t out[KDF_HASH_LEN], const uint8_t *a, size_t a_len,
	      const uint8_t *b, size_t b_len);

/* out = HMAC(key, in) over BLAKE2b-512 (RFC 2104). */
void kdf_hmac(uint8_t out[KDF_HASH_LEN], const uint8_t *key, size_t key_len,
	      const uint8_t *in, size_t in_len);

/*
 * Noise HKDF: t0 = HMAC(ck, in); t1 = HMAC(t0, 0x01);
 * t2 = HMAC(t0, t1 || 0x02); t3 = HMAC(t0, t2 || 0x03).
 * Writes t1, and t2/t3 when not NULL (KDF1, KDF2, KDF3). Outputs may alias
 * `ck`.
 */
void kdf_derive(uint8_t t1[KDF_HASH_LEN], uint8_t t2[KDF_HASH_LEN],
		uint8_t t3[KDF_HASH_LEN], const uint8_t ck[KDF_HASH_LEN],
		const uint8_t *in, size_t in_len);

#endif
