/* SPDX-License-Identifier: MIT */
/*
 * A keyed 32-bit hash (SipHash-2-4, libsodium's crypto_shorthash) for the
 * tables that place keys chosen by peers: with a random key, nobody can aim
 * many entries at one bucket.
 */
#ifndef VPN_SHORTHASH_H
#define VPN_SHORTHASH_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SHORTHASH_KEY_LEN crypto_shorthash_KEYBYTES

static inline uint32_t
shorthash32(const uint8_t key[SHORTHASH_KEY_LEN], const void *in, size_t len)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint32_t v;

	crypto_shorthash(h, in, len, key);
	memcpy(&v, h, sizeof(v));
	return v;
}

#endif
