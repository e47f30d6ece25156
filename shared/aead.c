// SPDX-License-Identifier: MIT
/*
 * AEAD with the protocol's nonce layout (4 zero bytes || counter, little
 * endian) and XAEAD. Pure; used by the handshake, transport and cookies.
 */
#include "aead.h"

#include <endian.h>
#include <sodium.h>
#include <string.h>

/* One store rather than a byte loop: this runs for every packet. */
static void
counter_nonce(uint8_t nonce[12], uint64_t counter)
{
	uint64_t le = htole64(counter);

	memset(nonce, 0, 4);
	memcpy(nonce + 4, &le, sizeof(le));
}

void
aead_encrypt(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
	     size_t ad_len, uint64_t counter, const uint8_t key[AEAD_KEY_LEN])
{
	uint8_t nonce[12];

	counter_nonce(nonce, counter);
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(
		dst, dst + len, NULL, src, len, ad, ad_len, NULL, nonce, key);
}

bool
aead_decrypt(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
	     size_t ad_len, uint64_t counter, const uint8_t key[AEAD_KEY_LEN])
{
	uint8_t nonce[12];

	if (len < AEAD_TAG_LEN)
		return false;
	counter_nonce(nonce, counter);
	return crypto_aead_chacha20poly1305_ietf_decrypt_detached(
		       dst, NULL, src, len - AEAD_TAG_LEN,
		       src + len - AEAD_TAG_LEN, ad, ad_len, nonce, key) == 0;
}

void
xaead_encrypt(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
	      size_t ad_len, const uint8_t nonce[XAEAD_NONCE_LEN],
	      const uint8_t key[AEAD_KEY_LEN])
{
	crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
		dst, dst + len, NULL, src, len, ad, ad_len, NULL, nonce, key);
}

bool
xaead_decrypt(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
	      size_t ad_len, const uint8_t nonce[XAEAD_NONCE_LEN],
	      const uint8_t key[AEAD_KEY_LEN])
{
	if (len < AEAD_TAG_LEN)
		return false;
	return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
		       dst, NULL, src, len - AEAD_TAG_LEN,
		       src + len - AEAD_TAG_LEN, ad, ad_len, nonce, key) == 0;
}
