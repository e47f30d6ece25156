// SPDX-License-Identifier: MIT
/*
 * HASH, HMAC-BLAKE2b and the Noise HKDF of shared/kdf.h (PROTOCOL.md
 * section 1) against vectors computed outside this code base, with
 * Python's standard library rather than libsodium:
 *
 *	import hmac, hashlib
 *	def pat(n, seed): return bytes((seed + 7 * i) & 0xff for i in range(n))
 *	def H(k, m): return hmac.new(k, m, hashlib.blake2b).digest()
 *	hmac:  H(pat(key_len, key_seed), pat(msg_len, msg_seed)).hex()
 *	kdf:   ck = pat(64, ck_seed); t0 = H(ck, pat(in_len, in_seed))
 *	       t1 = H(t0, b'\x01'); t2 = H(t0, t1 + b'\x02')
 *	       t3 = H(t0, t2 + b'\x03')
 *	hash:  hashlib.blake2b(pat(a_len, a_seed) + pat(b_len, b_seed))
 *
 * (Python 3.11, /usr/bin/python3 on Debian 12; hashlib.blake2b has a
 * 128-byte block and a 64-byte digest, and hmac hashes keys longer than
 * the block first, as the specification asks.) Lengths cover the empty
 * string, one byte, a whole block, and keys and messages past 128 bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "kdf.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_IN 256

/* The pattern of the Python generator above. */
static void
pattern(uint8_t *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + 7 * i);
}

static void
hex64(uint8_t out[KDF_HASH_LEN], const char *hex)
{
	size_t bin_len = 0;

	assert_int_equal(strlen(hex), 2 * KDF_HASH_LEN);
	assert_int_equal(sodium_hex2bin(out, KDF_HASH_LEN, hex, strlen(hex),
					NULL, &bin_len, NULL), 0);
	assert_int_equal(bin_len, KDF_HASH_LEN);
}

static const struct {
	size_t key_len;
	unsigned int key_seed;
	size_t msg_len;
	unsigned int msg_seed;
	const char *mac;
} hmac_vectors[] = {
	{ 0, 0, 0, 0,
	  "198cd2006f66ff83fbbd913f78aca2251caf4f19fe9475aade8cf2091b99a684"
	  "66775177424f58286886cbae8229644cec747237d4b721735485e17372fdf59c" },
	{ 32, 1, 3, 2,
	  "0e42776de9683cab67d6cfd9a2e56af6a8721115166ae7b782ab170676555889"
	  "3b0aa43acb839c8be57856fa497218760088420b150117a3bcd007b76a94bb17" },
	{ 64, 3, 128, 4,
	  "6be2662e1c11b0c5fbb42e9cfd3ddc26dc5977f10ebd6b817525e84ff0b640f4"
	  "15e8d4451dbba78ea5a48d3a2cc5524f05f6ea3245dc4e68a0d1229c8338fea0" },
	{ 128, 5, 200, 6,
	  "562c78d67a7fc00f08b7b0f1820c68b7979e9d6614f554707ddfedabdae8f1a9"
	  "b4b037773cc55c616e7c23e61efd0a65c547339c8513fd5b748a22855cbdcedf" },
	/* keys past the block are hashed first */
	{ 129, 7, 1, 8,
	  "c5cd9dd90d3473e65116e7b4fd5796add9e1f15f12744b4441e6ab43dbee8ecb"
	  "26190a3e9673a5a03d7dcbd2bac1282c453135f8e3dac64f0f4e7990ba529e05" },
	{ 200, 9, 255, 10,
	  "24bc244d515bf7b98ca1c91a2892b006615ce878ed4774a2d39134c604273ebd"
	  "57ac4a90af4f2ccc545a8317be180d4e5415f87d91da74f8f363ce2fb82eae22" },
	{ 1, 11, 127, 12,
	  "9a79172e59e10ae9fe7d6f9f8ccb1583288913d988dd8a217349910268cacdba"
	  "8215a67f1f4532a801da853c0b7604aff8247d06076da53738d84b63b224d234" },
	{ 16, 13, 129, 14,
	  "34418d6ef4ca2bc15689e55b231c038f10dfb1030eb6562e1489cf209f631546"
	  "4825187b9adc32ed2a561882c3bf0b73824e9743044bab876b446b0e7f544e9b" },
};

static const struct {
	unsigned int ck_seed;
	size_t in_len;
	unsigned int in_seed;
	const char *t1, *t2, *t3;
} kdf_vectors[] = {
	{ 20, 0, 0,
	  "1d32010b1794641934868b3f2f8a9a451b43684b81cfb7a9b1a625350af6e1b9"
	  "b17aad36a3c3c98a762099a59622a0aebc5909b1aa95ab3fee12fa62646cf0be",
	  "d7549661905f58aa0c20af35910913e9fb40d97855a69301596233266366eeff"
	  "ea4295cf6d47034471bce16403a7b2853da0be44d9d26de8b245d8da928ab87e",
	  "37923279ba1262c60b96459c37633da26353b77b090c5cff9a8af624dd9b0154"
	  "db5559f18c78fd1330da64c77eace2ee9bf37bce0d0a816c3684ed9530777d61" },
	{ 21, 1, 22,
	  "20222a7cd76c85f47c1dc50780a6475080d79d66b816012d853fe796c99c87eb"
	  "72d621a63ea061dd1c3c67999a71deb353ddb828999418517b2ea8a023e890c7",
	  "d8b2484d8bb6a14160fd3123983d4634be640b4277387410f7786b6e6b4e5b0e"
	  "a2c0b7bfe8ecddef67ab6948994dbff6a9f3d11a1c249004586e1a52b327dee8",
	  "d7ca0e6d2b82a6fa09c20b3fef9732de6e3812e8bb65dbc17ef320d68b9ed55d"
	  "5f5b896125bc563baa2f3e9bb0e9d358bbe46f987cb6b337b56208497f351c8f" },
	{ 23, 32, 24,
	  "13de15121f9143f81f5b00621cf19415ceb99cc46bbf7b264bd82ce4bf4197ca"
	  "42b22a9d4c196e7fdfaf0676a9b9ab86bb999128c2887e3b920be46c42ba30fc",
	  "a5eadd59a3411d06cc7be90bf01a112f4139816679aa741cb52ad67d1e4e1fa0"
	  "e2310d28f3c0b5c27b605b0f15c40cec1b62743deb785f7e000dcaa5991aa82a",
	  "4853ca802b1c7b311b04176e1f0fc83b8594e6fa97af8be8451886c8f234dd09"
	  "3f5711347be4134fcbfe8da055858e133a09fcabcb59900dca7f87723be30e1a" },
	{ 25, 64, 26,
	  "c57a03a0710e2875fce56d49e5cc38d9a2cc8e8569ad33b3ada2fbc07a95da4d"
	  "628600514edef26ff2c6accab24bd832961687c995ea8a5d437239c6d35c3d1a",
	  "76f77e2a7eee268b5d3eb9ec26948e57f02c80d444c8945f3743a78a3a59c3ae"
	  "132dfeaf0128370400f4c5ea992c449c05fd43dff7df9d97b436e3ed8fd85119",
	  "13894e9ba42bb872e2b67fcdefb21bbaf200ac3b457f04921bc27d669b8fdff9"
	  "b77fd2b7fa0001cf537f267c137ad93814dcff47ddbb642cdc08f34e32b622f6" },
	{ 27, 128, 28,
	  "97ded113c0ac29272115790ef8c6952618fc723f5ae06789df5e6e836b79c2cb"
	  "a2b8fbf33448b746453a90b4c76ed2296de264ebfacf7608ee3a25adda9a6999",
	  "02336127f9f30e5270cbd4e99692a912132abea79f5622ff34362c040b381475"
	  "5108591fca74ded975a1ceef43f8c68774d216b137a46505f325f532b9334994",
	  "decda9e7962064c2c9c899414905fbcee52a5ef76414c214482b539dbdb82b26"
	  "e12a22ce4eb2ba48ff1402c8f3b310101997f23921c2737a800883fd5ea60725" },
	{ 29, 200, 30,
	  "c5ba00c6b1fe127549da85e3f812ff0de596ab425a9c3eba99b41583612acf16"
	  "9a945b5e1b6e21014fee2a1eacbc6c9b489c91c8f91189e0618830f1da60f3bb",
	  "9cc074aa4e67bd72c094f8bd133dafdf53c9e82e27ac4b3d0e933c99d561d839"
	  "dc4b6ab10a37703999effac721e3ff6e63a1c5428958cb01d0d69292cbdbb18f",
	  "60f6a125f0f5afcb076689423901291772a0b3c6ff9dc99c298c127cbb6a1df9"
	  "9d3351f7c2aa7dd12d1855ea2a8435c54a76761aaeff890576d9c36cfe6127b0" },
};

static const struct {
	size_t a_len;
	unsigned int a_seed;
	size_t b_len;
	unsigned int b_seed;
	const char *hash;
} hash_vectors[] = {
	{ 0, 0, 0, 0,
	  "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
	  "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce" },
	{ 64, 40, 0, 0,
	  "f3a96b79caa54febad52b0d1dacc3cc34ca1f6fcfc8a83aa2787cf782cfe6ed3"
	  "e27669a4c2b3716ed159a8f4e43293ee61bd163fc07f76ec060f5bf4115c8271" },
	{ 64, 41, 32, 42,
	  "2c4b7f03fe1343a14fb584ebed6a84c4856d67e96b20208ffecdd1cca6c5e171"
	  "8b9c81befb6e605bda3b00418fc1712727b161572b70629abaf09edd54b865c9" },
	{ 1, 43, 200, 44,
	  "fe305501af0e1a07b3147269728ee6a9023ea7d6a56180b18807d701bce06d17"
	  "9e59cc91bc51b946ffb24db19ec5244e10d60f055e548ab5c4f0d7bcc5c08cc1" },
};

static int
setup(void **state)
{
	(void)state;
	return sodium_init() >= 0 ? 0 : -1;
}

static void
test_hmac_vectors(void **state)
{
	uint8_t key[MAX_IN], msg[MAX_IN], want[KDF_HASH_LEN], got[KDF_HASH_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(hmac_vectors); i++) {
		pattern(key, hmac_vectors[i].key_len, hmac_vectors[i].key_seed);
		pattern(msg, hmac_vectors[i].msg_len, hmac_vectors[i].msg_seed);
		hex64(want, hmac_vectors[i].mac);
		memset(got, 0xee, sizeof(got));
		kdf_hmac(got, key, hmac_vectors[i].key_len, msg,
			 hmac_vectors[i].msg_len);
		assert_memory_equal(got, want, KDF_HASH_LEN);
	}
}

/* The output may be the message buffer itself (kdf_derive relies on it). */
static void
test_hmac_output_aliases_input(void **state)
{
	uint8_t key[MAX_IN], buf[MAX_IN], want[KDF_HASH_LEN];

	(void)state;
	pattern(key, 32, 1);
	pattern(buf, 3, 2);
	hex64(want, hmac_vectors[1].mac);
	kdf_hmac(buf, key, 32, buf, 3);
	assert_memory_equal(buf, want, KDF_HASH_LEN);
}

/* One wrong bit of key or message changes the output. */
static void
test_hmac_sensitive(void **state)
{
	uint8_t key[32], msg[40], ref[KDF_HASH_LEN], got[KDF_HASH_LEN];
	size_t i;

	(void)state;
	pattern(key, sizeof(key), 1);
	pattern(msg, sizeof(msg), 2);
	kdf_hmac(ref, key, sizeof(key), msg, sizeof(msg));
	for (i = 0; i < sizeof(key) * 8; i++) {
		key[i / 8] ^= (uint8_t)(1u << (i % 8));
		kdf_hmac(got, key, sizeof(key), msg, sizeof(msg));
		key[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_memory_not_equal(got, ref, KDF_HASH_LEN);
	}
	for (i = 0; i < sizeof(msg) * 8; i++) {
		msg[i / 8] ^= (uint8_t)(1u << (i % 8));
		kdf_hmac(got, key, sizeof(key), msg, sizeof(msg));
		msg[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_memory_not_equal(got, ref, KDF_HASH_LEN);
	}
}

static void
test_kdf_vectors(void **state)
{
	uint8_t ck[KDF_HASH_LEN], in[MAX_IN];
	uint8_t want1[KDF_HASH_LEN], want2[KDF_HASH_LEN], want3[KDF_HASH_LEN];
	uint8_t t1[KDF_HASH_LEN], t2[KDF_HASH_LEN], t3[KDF_HASH_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(kdf_vectors); i++) {
		const uint8_t *inp = kdf_vectors[i].in_len ? in : NULL;

		pattern(ck, sizeof(ck), kdf_vectors[i].ck_seed);
		pattern(in, kdf_vectors[i].in_len, kdf_vectors[i].in_seed);
		hex64(want1, kdf_vectors[i].t1);
		hex64(want2, kdf_vectors[i].t2);
		hex64(want3, kdf_vectors[i].t3);

		/* KDF1 */
		memset(t1, 0xee, sizeof(t1));
		kdf_derive(t1, NULL, NULL, ck, inp, kdf_vectors[i].in_len);
		assert_memory_equal(t1, want1, KDF_HASH_LEN);

		/* KDF2 */
		memset(t1, 0xee, sizeof(t1));
		memset(t2, 0xee, sizeof(t2));
		kdf_derive(t1, t2, NULL, ck, inp, kdf_vectors[i].in_len);
		assert_memory_equal(t1, want1, KDF_HASH_LEN);
		assert_memory_equal(t2, want2, KDF_HASH_LEN);

		/* KDF3 */
		memset(t1, 0xee, sizeof(t1));
		memset(t2, 0xee, sizeof(t2));
		memset(t3, 0xee, sizeof(t3));
		kdf_derive(t1, t2, t3, ck, inp, kdf_vectors[i].in_len);
		assert_memory_equal(t1, want1, KDF_HASH_LEN);
		assert_memory_equal(t2, want2, KDF_HASH_LEN);
		assert_memory_equal(t3, want3, KDF_HASH_LEN);
	}
}

/*
 * mix_key, mix_dh and mix_psk write C over itself: each output in turn may
 * be `ck`, and the input may be the chaining key as well.
 */
static void
test_kdf_outputs_alias_ck(void **state)
{
	uint8_t ck[KDF_HASH_LEN], in[MAX_IN], buf[KDF_HASH_LEN];
	uint8_t want[3][KDF_HASH_LEN], o[3][KDF_HASH_LEN];
	const size_t v = 3; /* a 64-byte input */
	int which;

	(void)state;
	pattern(ck, sizeof(ck), kdf_vectors[v].ck_seed);
	pattern(in, kdf_vectors[v].in_len, kdf_vectors[v].in_seed);
	hex64(want[0], kdf_vectors[v].t1);
	hex64(want[1], kdf_vectors[v].t2);
	hex64(want[2], kdf_vectors[v].t3);

	for (which = 0; which < 3; which++) {
		uint8_t *outs[3] = { o[0], o[1], o[2] };

		memcpy(buf, ck, sizeof(buf));
		outs[which] = buf;
		kdf_derive(outs[0], outs[1], outs[2], buf, in,
			   kdf_vectors[v].in_len);
		assert_memory_equal(outs[0], want[0], KDF_HASH_LEN);
		assert_memory_equal(outs[1], want[1], KDF_HASH_LEN);
		assert_memory_equal(outs[2], want[2], KDF_HASH_LEN);
	}

	/* KDF1 in place, as mix_key does: C = KDF1(C, in) */
	memcpy(buf, ck, sizeof(buf));
	kdf_derive(buf, NULL, NULL, buf, in, kdf_vectors[v].in_len);
	assert_memory_equal(buf, want[0], KDF_HASH_LEN);
}

static void
test_hash_vectors(void **state)
{
	uint8_t a[MAX_IN], b[MAX_IN], want[KDF_HASH_LEN], got[KDF_HASH_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(hash_vectors); i++) {
		pattern(a, hash_vectors[i].a_len, hash_vectors[i].a_seed);
		pattern(b, hash_vectors[i].b_len, hash_vectors[i].b_seed);
		hex64(want, hash_vectors[i].hash);
		memset(got, 0xee, sizeof(got));
		kdf_hash(got, a, hash_vectors[i].a_len,
			 hash_vectors[i].b_len ? b : NULL,
			 hash_vectors[i].b_len);
		assert_memory_equal(got, want, KDF_HASH_LEN);
	}
}

/* mix_hash: H = HASH(H || data) with the output over the first input. */
static void
test_hash_in_place(void **state)
{
	uint8_t h[KDF_HASH_LEN], b[32], want[KDF_HASH_LEN];

	(void)state;
	pattern(h, sizeof(h), 41);
	pattern(b, sizeof(b), 42);
	hex64(want, hash_vectors[2].hash);
	kdf_hash(h, h, sizeof(h), b, sizeof(b));
	assert_memory_equal(h, want, KDF_HASH_LEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac_vectors),
		cmocka_unit_test(test_hmac_output_aliases_input),
		cmocka_unit_test(test_hmac_sensitive),
		cmocka_unit_test(test_kdf_vectors),
		cmocka_unit_test(test_kdf_outputs_alias_ck),
		cmocka_unit_test(test_hash_vectors),
		cmocka_unit_test(test_hash_in_place),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
