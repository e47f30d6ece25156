// SPDX-License-Identifier: MIT
/*
 * X25519 key handling and base64 (PROTOCOL.md section 3). Pure: randomness
 * comes from the caller; no I/O.
 */
#include "keys.h"

#include <sodium.h>
#include <string.h>

void
keys_clamp(uint8_t key[KEY_LEN])
{
	key[0] &= 248;
	key[31] = (uint8_t)((key[31] & 127) | 64);
}

bool
keys_public_from_private(uint8_t pub[KEY_LEN], const uint8_t priv[KEY_LEN])
{
	return crypto_scalarmult_base(pub, priv) == 0;
}

void
keys_to_base64(char out[KEY_B64_LEN + 1], const uint8_t key[KEY_LEN])
{
	sodium_bin2base64(out, KEY_B64_LEN + 1, key, KEY_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool
keys_from_base64(uint8_t key[KEY_LEN], const char *text, size_t len)
{
	uint8_t tmp[KEY_LEN];
	size_t bin_len = 0;
	const char *end = NULL;
	bool ok;

	while (len && is_space(*text)) {
		text++;
		len--;
	}
	while (len && is_space(text[len - 1]))
		len--;
	if (len != KEY_B64_LEN || text[KEY_B64_LEN - 1] != '=')
		return false;
	ok = sodium_base642bin(tmp, sizeof(tmp), text, len, NULL, &bin_len,
			       &end, sodium_base64_VARIANT_ORIGINAL) == 0 &&
	     bin_len == KEY_LEN && end == text + len;
	/*
	 * 43 symbols carry 258 bits for 256: a canonical key has the last
	 * symbol's 2 spare bits zero. Re-encoding checks that, and refuses
	 * bytes >= 0x80, which libsodium 1.0.18 decodes as if they were '/'.
	 */
	if (ok) {
		char again[KEY_B64_LEN + 1];

		keys_to_base64(again, tmp);
		ok = sodium_memcmp(again, text, KEY_B64_LEN) == 0;
		sodium_memzero(again, sizeof(again));
	}
	if (ok)
		memcpy(key, tmp, KEY_LEN);
	sodium_memzero(tmp, sizeof(tmp));
	return ok;
}

bool
keys_equal(const uint8_t a[KEY_LEN], const uint8_t b[KEY_LEN])
{
	return sodium_memcmp(a, b, KEY_LEN) == 0;
}

bool
keys_is_zero(const uint8_t key[KEY_LEN])
{
	return sodium_is_zero(key, KEY_LEN) == 1;
}
