/* SPDX-License-Identifier: MIT */
/*
 * X25519 keys: generation from caller-supplied randomness, public key
 * derivation, base64 (PROTOCOL.md section 3) and constant-time comparison.
 * No I/O: keyfile.c reads and writes key files.
 */
#ifndef VPN_KEYS_H
#define VPN_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEY_LEN 32
#define KEY_B64_LEN 44 /* standard base64 of 32 bytes, with one '=' */

/* Clamps 32 random bytes into an X25519 private key, in place. */
void keys_clamp(uint8_t key[KEY_LEN]);

/* pub = X25519(priv, 9). False if priv yields the all-zero point. */
bool keys_public_from_private(uint8_t pub[KEY_LEN],
			      const uint8_t priv[KEY_LEN])
	__attribute__((warn_unused_result));

/* Writes 44 characters and a NUL. */
void keys_to_base64(char out[KEY_B64_LEN + 1], const uint8_t key[KEY_LEN]);

/*
 * Parses exactly one base64 key: 44 characters of standard base64 encoding
 * 32 bytes, optionally surrounded by whitespace. False on anything else.
 */
bool keys_from_base64(uint8_t key[KEY_LEN], const char *text, size_t len)
	__attribute__((warn_unused_result));

/* Constant-time equality of two keys. */
bool keys_equal(const uint8_t a[KEY_LEN], const uint8_t b[KEY_LEN]);

/* Constant-time test for 32 zero bytes. */
bool keys_is_zero(const uint8_t key[KEY_LEN]);

#endif
