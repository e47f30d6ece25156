// SPDX-License-Identifier: MIT
/*
 * HMAC-BLAKE2b and the Noise HKDF (PROTOCOL.md section 1). Pure: no I/O,
 * no allocation; every intermediate key is wiped before return.
 */
#include "kdf.h"

#include <sodium.h>
#include <string.h>

void
kdf_hash(uint8_t out[KDF_HASH_LEN], const uint8_t *a, size_t a_len,
	 const uint8_t *b, size_t b_len)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, KDF_HASH_LEN);
	crypto_generichash_update(&st, a, a_len);
	if (b_len)
		crypto_generichash_update(&st, b, b_len);
	crypto_generichash_final(&st, out, KDF_HASH_LEN);
	sodium_memzero(&st, sizeof(st));
}

void
kdf_hmac(uint8_t out[KDF_HASH_LEN], const uint8_t *key, size_t key_len,
	 const uint8_t *in, size_t in_len)
{
	uint8_t block[KDF_BLOCK_LEN], inner[KDF_HASH_LEN];
	crypto_generichash_state st;
	size_t i;

	memset(block, 0, sizeof(block));
	if (key_len > KDF_BLOCK_LEN)
		crypto_generichash(block, KDF_HASH_LEN, key, key_len, NULL, 0);
	else
		memcpy(block, key, key_len);

	/* inner = HASH((K ^ ipad) || in) */
	for (i = 0; i < KDF_BLOCK_LEN; i++)
		block[i] ^= 0x36;
	crypto_generichash_init(&st, NULL, 0, KDF_HASH_LEN);
	crypto_generichash_update(&st, block, KDF_BLOCK_LEN);
	crypto_generichash_update(&st, in, in_len);
	crypto_generichash_final(&st, inner, KDF_HASH_LEN);

	/* out = HASH((K ^ opad) || inner); 0x36 ^ 0x5c turns ipad into opad */
	for (i = 0; i < KDF_BLOCK_LEN; i++)
		block[i] ^= 0x36 ^ 0x5c;
	crypto_generichash_init(&st, NULL, 0, KDF_HASH_LEN);
	crypto_generichash_update(&st, block, KDF_BLOCK_LEN);
	crypto_generichash_update(&st, inner, KDF_HASH_LEN);
	crypto_generichash_final(&st, out, KDF_HASH_LEN);

	sodium_memzero(block, sizeof(block));
	sodium_memzero(inner, sizeof(inner));
	sodium_memzero(&st, sizeof(st));
}

void
kdf_derive(uint8_t t1[KDF_HASH_LEN], uint8_t t2[KDF_HASH_LEN],
	   uint8_t t3[KDF_HASH_LEN], const uint8_t ck[KDF_HASH_LEN],
	   const uint8_t *in, size_t in_len)
{
	uint8_t t0[KDF_HASH_LEN], prev[KDF_HASH_LEN + 1];

	kdf_hmac(t0, ck, KDF_HASH_LEN, in, in_len);

	/* t1 = HMAC(t0, 0x01) */
	prev[0] = 0x01;
	kdf_hmac(prev, t0, KDF_HASH_LEN, prev, 1);
	if (t2) {
		uint8_t next[KDF_HASH_LEN];

		/* t2 = HMAC(t0, t1 || 0x02) */
		prev[KDF_HASH_LEN] = 0x02;
		kdf_hmac(next, t0, KDF_HASH_LEN, prev, KDF_HASH_LEN + 1);
		memcpy(t1, prev, KDF_HASH_LEN);
		if (t3) {
			/* t3 = HMAC(t0, t2 || 0x03) */
			memcpy(prev, next, KDF_HASH_LEN);
			prev[KDF_HASH_LEN] = 0x03;
			kdf_hmac(t3, t0, KDF_HASH_LEN, prev, KDF_HASH_LEN + 1);
		}
		memcpy(t2, next, KDF_HASH_LEN);
		sodium_memzero(next, sizeof(next));
	} else {
		memcpy(t1, prev, KDF_HASH_LEN);
	}
	sodium_memzero(t0, sizeof(t0));
	sodium_memzero(prev, sizeof(prev));
}
