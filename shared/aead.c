// SPDX-License-Identifier: MIT
/*
 * AEAD with the protocol's nonce layout (4 zero bytes || counter, little
 * endian) and XAEAD. Pure; used by the handshake, transport and cookies.
 *
 * The AEAD is dispatched to libsodium or to OpenSSL (aead_openssl.c), which
 * compute the same bytes: which one is a speed choice made once at start
 * (aead_select.c), never a protocol one. When OpenSSL cannot take a call
 * (a thread's contexts could not be made), libsodium does it instead, so
 * a packet is never lost to the choice.
 */
#include "aead.h"

#include <endian.h>
#include <sodium.h>
#include <string.h>

#include "aead_openssl.h"

/* Set at start, before other threads; read on every packet. */
static enum aead_backend current = AEAD_LIBSODIUM;
static size_t split_len; /* OpenSSL from this many plaintext bytes on */

/* One store rather than a byte loop: this runs for every packet. */
static void
counter_nonce(uint8_t nonce[AEAD_NONCE_LEN], uint64_t counter)
{
	uint64_t le = htole64(counter);

	memset(nonce, 0, 4);
	memcpy(nonce + 4, &le, sizeof(le));
}

void
aead_seal_with(enum aead_backend b, uint8_t *dst, const uint8_t *src,
	       size_t len, const uint8_t *ad, size_t ad_len,
	       const uint8_t nonce[AEAD_NONCE_LEN],
	       const uint8_t key[AEAD_KEY_LEN])
{
	if (b == AEAD_OPENSSL &&
	    aead_openssl_seal(dst, src, len, ad, ad_len, nonce, key) ==
		    AEAD_OPENSSL_DONE)
		return;
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(
		dst, dst + len, NULL, src, len, ad, ad_len, NULL, nonce, key);
}

bool
aead_open_with(enum aead_backend b, uint8_t *dst, const uint8_t *src,
	       size_t len, const uint8_t *ad, size_t ad_len,
	       const uint8_t nonce[AEAD_NONCE_LEN],
	       const uint8_t key[AEAD_KEY_LEN])
{
	if (len < AEAD_TAG_LEN)
		return false;
	if (b == AEAD_OPENSSL) {
		switch (aead_openssl_open(dst, src, len, ad, ad_len, nonce,
					  key)) {
		case AEAD_OPENSSL_DONE:
			return true;
		case AEAD_OPENSSL_FORGED:
			return false;
		case AEAD_OPENSSL_UNAVAILABLE:
			break;
		}
	}
	/* Checks the tag before it decrypts; zeroes dst if it is wrong. */
	return crypto_aead_chacha20poly1305_ietf_decrypt_detached(
		       dst, NULL, src, len - AEAD_TAG_LEN,
		       src + len - AEAD_TAG_LEN, ad, ad_len, nonce, key) == 0;
}

void
aead_encrypt(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
	     size_t ad_len, uint64_t counter, const uint8_t key[AEAD_KEY_LEN])
{
	uint8_t nonce[AEAD_NONCE_LEN];
	enum aead_backend b = len < split_len ? AEAD_LIBSODIUM : current;

	counter_nonce(nonce, counter);
	aead_seal_with(b, dst, src, len, ad, ad_len, nonce, key);
}

bool
aead_decrypt(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
	     size_t ad_len, uint64_t counter, const uint8_t key[AEAD_KEY_LEN])
{
	uint8_t nonce[AEAD_NONCE_LEN];
	enum aead_backend b =
		len < split_len + AEAD_TAG_LEN ? AEAD_LIBSODIUM : current;

	counter_nonce(nonce, counter);
	return aead_open_with(b, dst, src, len, ad, ad_len, nonce, key);
}

bool
aead_use(enum aead_backend b)
{
	switch (b) {
	case AEAD_LIBSODIUM:
		break;
	case AEAD_OPENSSL:
		if (!aead_openssl_ready())
			return false;
		break;
	default:
		return false;
	}
	current = b;
	split_len = 0;
	return true;
}

void
aead_use_split(size_t min_len)
{
	split_len = current == AEAD_OPENSSL ? min_len : 0;
}

enum aead_backend
aead_backend_current(void)
{
	return current;
}

size_t
aead_split_len(void)
{
	return split_len;
}

static const char *const backend_names[] = {
	[AEAD_AUTO] = "auto",
	[AEAD_LIBSODIUM] = "libsodium",
	[AEAD_OPENSSL] = "openssl",
};

const char *
aead_backend_name(enum aead_backend b)
{
	if ((size_t)b >= sizeof(backend_names) / sizeof(backend_names[0]))
		return "?";
	return backend_names[b];
}

bool
aead_backend_parse(const char *name, enum aead_backend *out)
{
	size_t i;

	for (i = 0; i < sizeof(backend_names) / sizeof(backend_names[0]); i++)
		if (strcmp(name, backend_names[i]) == 0) {
			*out = (enum aead_backend)i;
			return true;
		}
	return false;
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
