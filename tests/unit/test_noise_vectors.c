// SPDX-License-Identifier: MIT
/*
 * Replays the published Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b vector
 * (tests/vectors/noise_ikpsk2_blake2b.h) through the Noise steps of noise.c
 * and the transport AEAD of aead.c, byte for byte: both handshake messages,
 * the handshake hash and every transport message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "aead.h"
#include "keys.h"
#include "noise.h"
#include "../vectors/noise_ikpsk2_blake2b.h"

struct parties {
	struct noise_handshake ini, resp;
	uint8_t ini_pub[32], resp_pub[32];
	uint8_t ini_send[32], ini_recv[32], resp_send[32], resp_recv[32];
};

static int
setup(void **state)
{
	static struct parties p;

	assert_true(sodium_init() >= 0);
	memset(&p, 0, sizeof(p));
	assert_true(keys_public_from_private(p.ini_pub, vec_init_static));
	assert_true(keys_public_from_private(p.resp_pub, vec_resp_static));
	*state = &p;
	return 0;
}

/* The responder's public key in the vector is derived from its private. */
static void
test_vector_keys_consistent(void **state)
{
	struct parties *p = *state;

	assert_memory_equal(p->resp_pub, vec_init_remote_static, 32);
}

static void
run_handshake(struct parties *p, const uint8_t *ss)
{
	uint8_t msg1[256], msg2[256], payload[256], learned[32], ss_r[32];
	const struct vec_message *m0 = &vec_messages[0], *m1 = &vec_messages[1];

	noise_handshake_start(&p->ini, vec_prologue, sizeof(vec_prologue),
			      vec_init_remote_static);
	noise_handshake_start(&p->resp, vec_prologue, sizeof(vec_prologue),
			      p->resp_pub);

	assert_int_equal(NOISE_MSG1_LEN(m0->payload_len), m0->ciphertext_len);
	assert_true(noise_msg1_write(&p->ini, vec_init_ephemeral,
				     vec_init_static, p->ini_pub,
				     vec_init_remote_static, ss, m0->payload,
				     m0->payload_len, msg1));
	assert_memory_equal(msg1, m0->ciphertext, m0->ciphertext_len);

	assert_true(noise_msg1_read_static(&p->resp, vec_resp_static, msg1,
					   learned));
	assert_memory_equal(learned, p->ini_pub, 32);
	assert_true(noise_dh(ss_r, vec_resp_static, learned));
	assert_true(noise_msg1_read_payload(&p->resp, ss_r, msg1,
					    m0->ciphertext_len, payload));
	assert_memory_equal(payload, m0->payload, m0->payload_len);

	assert_int_equal(NOISE_MSG2_LEN(m1->payload_len), m1->ciphertext_len);
	assert_true(noise_msg2_write(&p->resp, vec_resp_ephemeral, learned,
				     vec_psk, m1->payload, m1->payload_len,
				     msg2));
	assert_memory_equal(msg2, m1->ciphertext, m1->ciphertext_len);

	assert_true(noise_msg2_read(&p->ini, vec_init_static, vec_psk, msg2,
				    m1->ciphertext_len, payload));
	assert_memory_equal(payload, m1->payload, m1->payload_len);

	assert_memory_equal(p->ini.h, vec_handshake_hash, 64);
	assert_memory_equal(p->resp.h, vec_handshake_hash, 64);

	noise_split(&p->ini, p->ini_send, p->ini_recv);
	noise_split(&p->resp, p->resp_recv, p->resp_send);
	assert_memory_equal(p->ini_send, p->resp_recv, 32);
	assert_memory_equal(p->ini_recv, p->resp_send, 32);
}

static void
test_vector_handshake(void **state)
{
	run_handshake(*state, NULL);
}

/* The same bytes when the static-static DH is precomputed, as peers do. */
static void
test_vector_handshake_precomputed_ss(void **state)
{
	uint8_t ss[32];

	assert_true(noise_dh(ss, vec_init_static, vec_init_remote_static));
	run_handshake(*state, ss);
}

static void
test_vector_transport(void **state)
{
	struct parties *p = *state;
	uint64_t n_ini = 0, n_resp = 0;
	size_t i;

	run_handshake(p, NULL);
	for (i = 2; i < sizeof(vec_messages) / sizeof(vec_messages[0]); i++) {
		const struct vec_message *m = &vec_messages[i];
		bool from_initiator = (i % 2) == 0;
		const uint8_t *send = from_initiator ? p->ini_send : p->resp_send;
		const uint8_t *recv = from_initiator ? p->resp_recv : p->ini_recv;
		uint64_t *n = from_initiator ? &n_ini : &n_resp;
		uint8_t buf[256], plain[256];

		assert_int_equal(m->payload_len + 16, m->ciphertext_len);
		memcpy(buf, m->payload, m->payload_len);
		/* in place, as the data path does */
		aead_encrypt(buf, buf, m->payload_len, NULL, 0, *n, send);
		assert_memory_equal(buf, m->ciphertext, m->ciphertext_len);
		assert_true(aead_decrypt(plain, m->ciphertext, m->ciphertext_len,
					 NULL, 0, *n, recv));
		assert_memory_equal(plain, m->payload, m->payload_len);
		/* the wrong nonce must not open it */
		assert_false(aead_decrypt(plain, m->ciphertext,
					  m->ciphertext_len, NULL, 0, *n + 1,
					  recv));
		(*n)++;
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_vector_keys_consistent, setup),
		cmocka_unit_test_setup(test_vector_handshake, setup),
		cmocka_unit_test_setup(test_vector_handshake_precomputed_ss,
				       setup),
		cmocka_unit_test_setup(test_vector_transport, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
