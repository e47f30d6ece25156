// SPDX-License-Identifier: MIT
/*
 * ChaCha20-Poly1305 IETF (RFC 8439) through OpenSSL 3's EVP interface, for
 * aead.c. libcrypto's assembly (AVX2/AVX-512 ChaCha20 and a vectorised
 * Poly1305) runs several times faster than libsodium's on bulk packets.
 *
 * Owns a private library context with only the default provider and no
 * configuration file: nothing an administrator's openssl.cnf names can be
 * loaded (or opened) later inside the sandbox. The cipher is fetched once;
 * each thread lazily makes one sealing and one opening context and reuses
 * them for every packet (EVP_*Init_ex2 with a NULL cipher only rekeys), so
 * the packet path never allocates. A thread's contexts are freed when it
 * exits (a pthread key destructor).
 *
 * Must not: do I/O, read a clock, log, or leave readable output behind
 * after a failure. Pure apart from libcrypto's own state.
 */
#include "aead_openssl.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#define TAG_LEN 16
#define KEY_LEN 32

struct thread_ctx {
	EVP_CIPHER_CTX *seal;
	EVP_CIPHER_CTX *open;
};

/* Written once by aead_openssl_init, before any other thread runs. */
static OSSL_LIB_CTX *libctx;
static EVP_CIPHER *cipher;
static pthread_key_t ctx_key;
static bool ready;

static _Thread_local struct thread_ctx *tctx;

static void
thread_ctx_free(void *p)
{
	struct thread_ctx *t = p;

	if (!t)
		return;
	EVP_CIPHER_CTX_free(t->seal);
	EVP_CIPHER_CTX_free(t->open);
	free(t);
}

/* The calling thread's contexts, made on its first packet; NULL if not. */
static struct thread_ctx *
thread_ctx_get(void)
{
	struct thread_ctx *t;

	if (tctx || !ready)
		return tctx;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->seal = EVP_CIPHER_CTX_new();
	t->open = EVP_CIPHER_CTX_new();
	if (!t->seal || !t->open ||
	    EVP_EncryptInit_ex2(t->seal, cipher, NULL, NULL, NULL) != 1 ||
	    EVP_DecryptInit_ex2(t->open, cipher, NULL, NULL, NULL) != 1 ||
	    pthread_setspecific(ctx_key, t) != 0) {
		thread_ctx_free(t);
		ERR_clear_error();
		return NULL;
	}
	tctx = t;
	return t;
}

int
aead_openssl_init(void)
{
	int ret = -ENOTSUP;

	if (ready)
		return 0;
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1)
		goto out;
	ret = -ENOMEM;
	libctx = OSSL_LIB_CTX_new();
	if (!libctx)
		goto out;
	ret = -ENOTSUP;
	cipher = EVP_CIPHER_fetch(libctx, "ChaCha20-Poly1305", NULL);
	if (!cipher || EVP_CIPHER_get_key_length(cipher) != KEY_LEN ||
	    EVP_CIPHER_get_iv_length(cipher) != AEAD_OPENSSL_NONCE_LEN)
		goto out;
	ret = -pthread_key_create(&ctx_key, thread_ctx_free);
	if (ret < 0)
		goto out;
	ready = true;
	/* The first thread's contexts now, while allocation is cheap to
	 * report; the others make theirs on their first packet. */
	if (!thread_ctx_get()) {
		ready = false;
		pthread_key_delete(ctx_key);
		ret = -ENOMEM;
		goto out;
	}
	ret = 0;
out:
	if (ret < 0) {
		EVP_CIPHER_free(cipher);
		cipher = NULL;
		OSSL_LIB_CTX_free(libctx);
		libctx = NULL;
	}
	ERR_clear_error();
	return ret;
}

bool
aead_openssl_ready(void)
{
	return ready;
}

/* EVP counts in int; a packet never comes close, but say so. */
static bool
fits_int(size_t len, size_t ad_len)
{
	return len <= INT_MAX - TAG_LEN && ad_len <= INT_MAX;
}

enum aead_openssl_result
aead_openssl_seal(uint8_t *dst, const uint8_t *src, size_t len,
		  const uint8_t *ad, size_t ad_len,
		  const uint8_t nonce[AEAD_OPENSSL_NONCE_LEN],
		  const uint8_t key[KEY_LEN])
{
	struct thread_ctx *t = thread_ctx_get();
	int n;

	if (!t || !fits_int(len, ad_len))
		return AEAD_OPENSSL_UNAVAILABLE;
	if (EVP_EncryptInit_ex2(t->seal, NULL, key, nonce, NULL) != 1 ||
	    (ad_len &&
	     EVP_EncryptUpdate(t->seal, NULL, &n, ad, (int)ad_len) != 1)) {
		ERR_clear_error();
		return AEAD_OPENSSL_UNAVAILABLE;
	}
	/* From here on dst may hold part of the output. */
	if ((len && (EVP_EncryptUpdate(t->seal, dst, &n, src, (int)len) != 1 ||
		     n != (int)len)) ||
	    EVP_EncryptFinal_ex(t->seal, dst + len, &n) != 1 || n != 0 ||
	    EVP_CIPHER_CTX_ctrl(t->seal, EVP_CTRL_AEAD_GET_TAG, TAG_LEN,
				dst + len) != 1) {
		/* In place, the plaintext is gone: send nothing readable. */
		memset(dst, 0, len + TAG_LEN);
		ERR_clear_error();
	}
	return AEAD_OPENSSL_DONE;
}

enum aead_openssl_result
aead_openssl_open(uint8_t *dst, const uint8_t *src, size_t len,
		  const uint8_t *ad, size_t ad_len,
		  const uint8_t nonce[AEAD_OPENSSL_NONCE_LEN],
		  const uint8_t key[KEY_LEN])
{
	struct thread_ctx *t = thread_ctx_get();
	uint8_t tag[TAG_LEN];
	size_t plain_len;
	int n;

	if (!t || len < TAG_LEN || !fits_int(len, ad_len))
		return AEAD_OPENSSL_UNAVAILABLE;
	plain_len = len - TAG_LEN;
	/* Read before dst (perhaps src itself) is written. */
	memcpy(tag, src + plain_len, TAG_LEN);
	if (EVP_DecryptInit_ex2(t->open, NULL, key, nonce, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(t->open, EVP_CTRL_AEAD_SET_TAG, TAG_LEN,
				tag) != 1 ||
	    (ad_len &&
	     EVP_DecryptUpdate(t->open, NULL, &n, ad, (int)ad_len) != 1)) {
		ERR_clear_error();
		return AEAD_OPENSSL_UNAVAILABLE;
	}
	/*
	 * libcrypto decrypts before the tag is checked (in Final), unlike
	 * libsodium; an unauthentic packet's plaintext is wiped below, so
	 * the caller sees the same zeros either way.
	 */
	if ((plain_len &&
	     (EVP_DecryptUpdate(t->open, dst, &n, src, (int)plain_len) != 1 ||
	      n != (int)plain_len)) ||
	    /* An empty plaintext may come with no buffer (dst NULL). */
	    EVP_DecryptFinal_ex(t->open, plain_len ? dst + plain_len : dst,
				&n) != 1 || n != 0) {
		if (plain_len)
			memset(dst, 0, plain_len);
		ERR_clear_error();
		return AEAD_OPENSSL_FORGED;
	}
	return AEAD_OPENSSL_DONE;
}

const char *
aead_openssl_version(void)
{
	return OpenSSL_version(OPENSSL_VERSION);
}
