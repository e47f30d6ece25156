// SPDX-License-Identifier: MIT
/*
 * The peer layer of shared/noise.h between two in-memory parties, each
 * with its own noise_local, index and timestamp tables, and a cookie
 * checker and maker used around every handshake message as a real host
 * does (wire_classify, then mac1, then noise_*). Randomness is seeded per
 * party and the clock is a variable, so every run is the same.
 *
 * Covered: the handshake and transport both ways (checked against
 * libsodium's AEAD directly), key confirmation, every bit of every message
 * flipped, replayed and older initiations, truncation sweeps in exact-size
 * heap buffers, the counter limits, padding, keypair rotation in both
 * directions, a wrong PSK, and the rekey and reject times at their exact
 * boundaries; a stranger's initiation verified whole (AEADs, timestamp)
 * before the host is asked to create a peer for it. A boundary "at" a time
 * follows WireGuard's
 * wg_birthdate_has_expired: a keypair of age >= the limit has passed it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "cookie.h"
#include "keys.h"
#include "noise.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MTU 1420
#define MTU_MAX 1500
#define BUF_LEN (WIRE_DATA_HEADER_LEN + MTU_MAX + NOISE_TAG_LEN)
#define T0 (5000 * NS_PER_S)
/* A whole second of UNIX time, so TAI64N nanoseconds start at zero. */
#define WALL0 (1700000000ull * NS_PER_S)

/* Results of the host's checks before noise_* is called. */
#define DROP_TYPE 100 /* wire_classify said no */
#define DROP_MAC1 101 /* cookie_checker_validate said no */

struct party {
	struct noise_local local;
	struct noise_host host;
	struct index_table indices;
	struct tstamp_table stamps;
	struct cookie_checker checker; /* mac1/mac2 of what we receive */
	struct cookie_maker maker;     /* MACs of what we send */
	struct noise_peer peer;        /* the other party */
	struct party *other;
	struct cookie_src src; /* where this party sends from */
	uint8_t priv[32], pub[32];
	uint8_t seed;
	uint64_t draws;
	bool accept;
	/* Creation of the peer for a stranger (noise_host.peer_create). */
	bool has_peer;     /* false: peer_by_key knows nobody */
	bool refuse;       /* peer_create says no */
	unsigned int creates;
	uint8_t created_ss[32];
};

struct dgram {
	uint8_t buf[BUF_LEN];
	size_t len;
};

static struct party a, b;
static struct protocol_times pt;
static uint64_t now, wall;

static void
tick(uint64_t ns)
{
	now += ns;
	wall += ns;
}

static void
seeded_random(void *arg, uint8_t *buf, size_t len)
{
	struct party *p = arg;
	uint8_t seed[randombytes_SEEDBYTES] = { 0 };

	seed[0] = p->seed;
	memcpy(seed + 1, &p->draws, sizeof(p->draws));
	p->draws++;
	randombytes_buf_deterministic(buf, len, seed);
}

static struct noise_peer *
peer_by_key(void *arg, const uint8_t pub[NOISE_KEY_LEN])
{
	struct party *p = arg;

	if (!p->accept || !p->has_peer || !keys_equal(pub, p->other->pub))
		return NULL;
	return &p->peer;
}

static struct noise_peer *
peer_create(void *arg, const uint8_t pub[NOISE_KEY_LEN],
	    const uint8_t ss[NOISE_KEY_LEN])
{
	struct party *p = arg;

	p->creates++;
	memcpy(p->created_ss, ss, 32);
	if (p->refuse)
		return NULL;
	noise_peer_wipe(&p->peer);
	noise_peer_init_ss(&p->peer, &p->local, pub, ss, NULL, p);
	p->has_peer = true;
	return &p->peer;
}

static void
party_init(struct party *p, struct party *other, uint8_t seed)
{
	uint8_t hash_key[TSTAMP_HASH_KEY_LEN];
	const uint8_t ip[4] = { 192, 0, 2, seed };
	int i;

	memset(p, 0, sizeof(*p));
	p->other = other;
	p->seed = seed;
	p->accept = true;
	p->has_peer = true;
	for (i = 0; i < 32; i++)
		p->priv[i] = (uint8_t)(seed * 31 + i);
	keys_clamp(p->priv);
	assert_true(keys_public_from_private(p->pub, p->priv));
	p->host.arg = p;
	p->host.random = seeded_random;
	p->host.peer_by_key = peer_by_key;
	assert_int_equal(index_table_init(&p->indices, 16), 0);
	seeded_random(p, hash_key, sizeof(hash_key));
	assert_int_equal(tstamp_table_init(&p->stamps, 16, hash_key), 0);
	noise_local_init(&p->local, &p->host, &pt, &p->indices, &p->stamps);
	assert_true(noise_local_set_private(&p->local, p->priv));
	cookie_checker_init(&p->checker, p->pub, &pt, seeded_random, p);
	cookie_src_set(&p->src, ip, 4, 51900);
}

static void
peers_init(const uint8_t *psk_a, const uint8_t *psk_b)
{
	assert_true(noise_peer_init(&a.peer, &a.local, b.pub, psk_a, &a));
	assert_true(noise_peer_init(&b.peer, &b.local, a.pub, psk_b, &b));
	cookie_maker_init(&a.maker, b.pub, &pt);
	cookie_maker_init(&b.maker, a.pub, &pt);
}

static int
setup(void **state)
{
	(void)state;
	assert_true(sodium_init() >= 0);
	protocol_times_default(&pt);
	now = T0;
	wall = WALL0;
	party_init(&a, &b, 1);
	party_init(&b, &a, 2);
	peers_init(NULL, NULL);
	return 0;
}

static void
party_free(struct party *p)
{
	noise_peer_wipe(&p->peer);
	noise_local_wipe(&p->local);
	cookie_checker_wipe(&p->checker);
	cookie_maker_wipe(&p->maker);
	tstamp_table_free(&p->stamps);
	index_table_free(&p->indices);
}

static int
teardown(void **state)
{
	(void)state;
	party_free(&a);
	party_free(&b);
	return 0;
}

/* ---- the host's side of handshake messages ------------------------------- */

static void
initiation_send(struct party *from, struct wire_initiation *out)
{
	assert_int_equal(noise_initiation_create(&from->peer, now, wall, out),
			 NOISE_HS_OK);
	cookie_maker_add_macs(&from->maker, (uint8_t *)out, sizeof(*out), now);
}

/* What a host does with len bytes that arrived: the checks, then noise. */
static int
initiation_receive(struct party *to, const void *msg, size_t len)
{
	struct noise_peer *peer = NULL;
	uint8_t *copy = malloc(len ? len : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, msg, len);
	if (wire_classify(copy, len) != WIRE_INITIATION)
		r = DROP_TYPE;
	else if (cookie_checker_validate(&to->checker, copy, len,
					 &to->other->src,
					 now) == COOKIE_MAC1_INVALID)
		r = DROP_MAC1;
	else
		r = noise_initiation_consume(&to->local, now,
					     (struct wire_initiation *)copy,
					     &peer);
	if (r == NOISE_HS_OK ||
	    ((r == NOISE_HS_REPLAY || r == NOISE_HS_FLOOD) && to->has_peer))
		assert_ptr_equal(peer, &to->peer);
	else if (r != NOISE_HS_OK)
		assert_null(peer);
	free(copy);
	return r;
}

static void
response_send(struct party *from, struct wire_response *out)
{
	assert_int_equal(noise_response_create(&from->peer, now, out),
			 NOISE_HS_OK);
	cookie_maker_add_macs(&from->maker, (uint8_t *)out, sizeof(*out), now);
}

static int
response_receive(struct party *to, const void *msg, size_t len)
{
	struct noise_peer *peer = NULL;
	uint8_t *copy = malloc(len ? len : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, msg, len);
	if (wire_classify(copy, len) != WIRE_RESPONSE)
		r = DROP_TYPE;
	else if (cookie_checker_validate(&to->checker, copy, len,
					 &to->other->src,
					 now) == COOKIE_MAC1_INVALID)
		r = DROP_MAC1;
	else
		r = noise_response_consume(&to->local, now,
					   (struct wire_response *)copy, &peer);
	if (r == NOISE_HS_OK)
		assert_ptr_equal(peer, &to->peer);
	else if (r == NOISE_HS_INVALID)
		assert_null(peer);
	free(copy);
	return r;
}

/* A whole handshake, ini -> resp; the initiator's keypair is current. */
static void
handshake(struct party *ini, struct party *resp)
{
	struct wire_initiation init;
	struct wire_response r;

	initiation_send(ini, &init);
	assert_int_equal(initiation_receive(resp, &init, sizeof(init)),
			 NOISE_HS_OK);
	response_send(resp, &r);
	assert_int_equal(response_receive(ini, &r, sizeof(r)), NOISE_HS_OK);
}

/* ---- transport ----------------------------------------------------------- */

static void
fill_plain(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 3 + 1);
}

/* Encrypts len pattern bytes from `from` into d. */
static enum noise_tx
seal(struct party *from, struct dgram *d, size_t len, size_t mtu,
     unsigned int seed)
{
	fill_plain(d->buf + WIRE_DATA_HEADER_LEN, len, seed);
	d->len = 0;
	return noise_encrypt(&from->peer, now, d->buf, len, mtu, &d->len);
}

/*
 * noise_decrypt on an exact-size heap copy of d[0..len); the plaintext
 * (when delivered) goes to `plain`.
 */
static enum noise_rx
open_len(struct party *to, const struct dgram *d, size_t len, uint8_t *plain,
	 size_t *plain_len)
{
	struct noise_peer *peer = (struct noise_peer *)&peer;
	uint8_t *copy = malloc(len ? len : 1);
	enum noise_rx r;
	size_t n = 12345;

	assert_non_null(copy);
	memcpy(copy, d->buf, len);
	r = noise_decrypt(&to->local, now, copy, len, &peer, &n);
	if (r == NOISE_RX_OK || r == NOISE_RX_OK_REKEY ||
	    r == NOISE_RX_CONFIRMED) {
		assert_ptr_equal(peer, &to->peer);
		assert_int_equal(n, len - NOISE_DATA_OVERHEAD);
		if (plain)
			memcpy(plain, copy + WIRE_DATA_HEADER_LEN, n);
	} else {
		assert_null(peer);
		assert_int_equal(n, 0);
	}
	if (plain_len)
		*plain_len = n;
	free(copy);
	return r;
}

static enum noise_rx
open_dgram(struct party *to, const struct dgram *d)
{
	return open_len(to, d, d->len, NULL, NULL);
}

/* Sends len bytes from -> to, expecting those outcomes, and checks them. */
static void
transfer(struct party *from, struct party *to, size_t len,
	 enum noise_tx want_tx, enum noise_rx want_rx)
{
	static struct dgram d;
	uint8_t plain[BUF_LEN], want[BUF_LEN];
	size_t plain_len;

	assert_int_equal(seal(from, &d, len, MTU, (unsigned int)len), want_tx);
	assert_int_equal(wire_classify(d.buf, d.len), WIRE_DATA);
	assert_int_equal(open_len(to, &d, d.len, plain, &plain_len), want_rx);
	assert_int_equal(plain_len, wire_padded_len(len, MTU));
	memset(want, 0, sizeof(want));
	fill_plain(want, len, (unsigned int)len);
	assert_memory_equal(plain, want, plain_len);
}

/* Opens d with libsodium directly, as section 5 writes it. */
static bool
ref_open(const struct dgram *d, const uint8_t key[32], uint8_t *plain,
	 size_t *plain_len)
{
	uint8_t nonce[12] = { 0 };
	unsigned long long n = 0;

	memcpy(nonce + 4, d->buf + 8, 8); /* the counter, little-endian */
	if (crypto_aead_chacha20poly1305_ietf_decrypt(
		    plain, &n, NULL, d->buf + WIRE_DATA_HEADER_LEN,
		    d->len - WIRE_DATA_HEADER_LEN, NULL, 0, nonce, key) != 0)
		return false;
	*plain_len = (size_t)n;
	return true;
}

/* A type 4 message with any counter, sealed with libsodium directly. */
static void
ref_seal(struct dgram *d, uint32_t receiver_index, uint64_t counter,
	 const uint8_t key[32], size_t len)
{
	uint8_t nonce[12] = { 0 };
	unsigned long long n = 0;

	wire_header_set(d->buf, WIRE_DATA);
	wire_put_le32(d->buf + 4, receiver_index);
	wire_put_le64(d->buf + 8, counter);
	memcpy(nonce + 4, d->buf + 8, 8);
	fill_plain(d->buf + WIRE_DATA_HEADER_LEN, len, 9);
	assert_int_equal(crypto_aead_chacha20poly1305_ietf_encrypt(
				 d->buf + WIRE_DATA_HEADER_LEN, &n,
				 d->buf + WIRE_DATA_HEADER_LEN, len, NULL, 0,
				 NULL, nonce, key),
			 0);
	d->len = WIRE_DATA_HEADER_LEN + (size_t)n;
}

/* ---- tests --------------------------------------------------------------- */

static void
test_handshake_and_transport(void **state)
{
	struct wire_initiation init;
	struct wire_response r;
	struct noise_keypair *ka, *kb;
	static struct dgram d;
	uint8_t plain[BUF_LEN], want[16] = "hello";
	size_t plain_len;

	(void)state;
	assert_false(noise_peer_can_send(&a.peer, now));
	assert_int_equal(seal(&a, &d, 5, MTU, 0), NOISE_TX_NO_KEY);

	/* A key the responder does not know is refused, and nothing kept. */
	b.accept = false;
	initiation_send(&a, &init);
	assert_int_equal(initiation_receive(&b, &init, sizeof(init)),
			 NOISE_HS_UNKNOWN_PEER);
	b.accept = true;
	tick(NS_PER_S);

	initiation_send(&a, &init);
	assert_int_equal(initiation_receive(&b, &init, sizeof(init)),
			 NOISE_HS_OK);
	assert_int_equal(noise_peer_hs_state(&b.peer),
			 NOISE_HS_CONSUMED_INITIATION);
	response_send(&b, &r);
	assert_int_equal(wire_get_le32(r.receiver_index),
			 wire_get_le32(init.sender_index));
	assert_int_equal(response_receive(&a, &r, sizeof(r)), NOISE_HS_OK);

	/* The initiator's keypair is current; the responder's waits. */
	ka = a.peer.current;
	kb = b.peer.next;
	assert_non_null(ka);
	assert_non_null(kb);
	assert_null(b.peer.current);
	assert_true(ka->is_initiator);
	assert_false(kb->is_initiator);
	assert_memory_equal(ka->send_key, kb->recv_key, 32);
	assert_memory_equal(ka->recv_key, kb->send_key, 32);
	assert_memory_not_equal(ka->send_key, ka->recv_key, 32);
	/* Each side's index moved from its handshake to its keypair. */
	assert_int_equal(ka->entry.local, wire_get_le32(init.sender_index));
	assert_int_equal(kb->entry.local, wire_get_le32(r.sender_index));
	assert_int_equal(ka->remote_index, kb->entry.local);
	assert_int_equal(kb->remote_index, ka->entry.local);

	/* No sending before confirmation. */
	assert_false(noise_peer_can_send(&b.peer, now));
	assert_int_equal(seal(&b, &d, 5, MTU, 0), NOISE_TX_NO_KEY);
	assert_true(noise_peer_can_send(&a.peer, now));

	/* First transport message: check its bytes against the spec. */
	memcpy(d.buf + WIRE_DATA_HEADER_LEN, want, 5);
	assert_int_equal(noise_encrypt(&a.peer, now, d.buf, 5, MTU, &d.len),
			 NOISE_TX_OK);
	assert_int_equal(d.len, WIRE_DATA_HEADER_LEN + 16 + NOISE_TAG_LEN);
	assert_memory_equal(d.buf, "\x04\x00\x00\x00", 4);
	assert_int_equal(wire_get_le32(d.buf + 4), kb->entry.local);
	assert_true(wire_get_le64(d.buf + 8) == 0);
	assert_true(ref_open(&d, ka->send_key, plain, &plain_len));
	assert_int_equal(plain_len, 16);
	assert_memory_equal(plain, want, 16); /* zero padding */

	assert_int_equal(open_len(&b, &d, d.len, plain, &plain_len),
			 NOISE_RX_CONFIRMED);
	assert_memory_equal(plain, want, 16);
	assert_ptr_equal(b.peer.current, kb);
	assert_null(b.peer.next);
	assert_true(noise_peer_can_send(&b.peer, now));
	/* the same datagram again */
	assert_int_equal(open_dgram(&b, &d), NOISE_RX_REPLAY);

	/* Now both ways, with counters counting. */
	assert_int_equal(seal(&b, &d, 100, MTU, 7), NOISE_TX_OK);
	assert_true(wire_get_le64(d.buf + 8) == 0);
	assert_int_equal(wire_get_le32(d.buf + 4), ka->entry.local);
	assert_true(ref_open(&d, kb->send_key, plain, &plain_len));
	assert_int_equal(plain_len, 112);
	assert_int_equal(open_dgram(&a, &d), NOISE_RX_OK);
	assert_int_equal(open_dgram(&a, &d), NOISE_RX_REPLAY);
	transfer(&a, &b, 1, NOISE_TX_OK, NOISE_RX_OK);
	transfer(&b, &a, MTU, NOISE_TX_OK, NOISE_RX_OK);
	transfer(&a, &b, 0, NOISE_TX_OK, NOISE_RX_OK); /* keepalive */
	transfer(&b, &a, 0, NOISE_TX_OK, NOISE_RX_OK);
	assert_true(ka->send_counter == 3);
	assert_true(kb->send_counter == 3);
}

/* Flips one bit of a copy of msg. */
static void *
flipped(const void *msg, size_t len, size_t bit)
{
	uint8_t *copy = malloc(len);

	assert_non_null(copy);
	memcpy(copy, msg, len);
	copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	return copy;
}

/*
 * mac1 is no secret: anyone who knows the receiver's public key can
 * recompute it over a modified message. Noise itself must then refuse.
 */
static void
attacker_mac1(uint8_t *msg, size_t len, const uint8_t receiver_pub[32])
{
	struct cookie_maker m;

	cookie_maker_init(&m, receiver_pub, &pt);
	cookie_maker_add_macs(&m, msg, len, now);
	cookie_maker_wipe(&m);
}

/* Gives `from`'s maker a cookie from `to`'s checker, as under load. */
static void
get_cookie(struct party *from, struct party *to, const uint8_t *msg,
	   size_t len)
{
	struct wire_cookie_reply reply;

	cookie_reply_create(&to->checker, &reply, msg, len, &from->src, now);
	assert_true(cookie_maker_consume_reply(&from->maker, &reply, now));
}

static void
test_initiation_every_bit_flipped(void **state)
{
	const size_t mac1 = offsetof(struct wire_initiation, mac1);
	const size_t mac2 = offsetof(struct wire_initiation, mac2);
	struct wire_initiation init;
	size_t bit, i;

	(void)state;
	/* With a cookie, so that mac2 is something to flip. */
	initiation_send(&a, &init);
	get_cookie(&a, &b, (uint8_t *)&init, sizeof(init));
	tick(NS_PER_S);
	initiation_send(&a, &init);
	assert_int_equal(cookie_checker_validate(&b.checker, (uint8_t *)&init,
						 sizeof(init), &a.src, now),
			 COOKIE_MAC2_VALID);

	for (bit = 0; bit < sizeof(init) * 8; bit++) {
		uint8_t *m = flipped(&init, sizeof(init), bit);

		i = bit / 8;
		if (i < 4) {
			assert_int_equal(initiation_receive(&b, m,
							    sizeof(init)),
					 DROP_TYPE);
		} else if (i < mac2) {
			/* the index, the Noise message and mac1 itself */
			assert_int_equal(initiation_receive(&b, m,
							    sizeof(init)),
					 DROP_MAC1);
		} else {
			/* mac2 no longer proves the address */
			assert_int_equal(cookie_checker_validate(&b.checker, m,
								 sizeof(init),
								 &a.src, now),
					 COOKIE_MAC1_VALID);
		}
		/*
		 * Past mac1: e, encrypted s and timestamp are Noise's. (The
		 * sender index is authenticated only by mac1, as in
		 * WireGuard.)
		 */
		if (i >= offsetof(struct wire_initiation, ephemeral) &&
		    i < mac1) {
			attacker_mac1(m, sizeof(init), b.pub);
			assert_int_equal(initiation_receive(&b, m,
							    sizeof(init)),
					 NOISE_HS_INVALID);
		}
		free(m);
	}
	/* Nothing was recorded or disturbed: the original still works. */
	assert_int_equal(noise_peer_hs_state(&b.peer),
			 NOISE_HS_ZEROED);
	assert_int_equal(initiation_receive(&b, &init, sizeof(init)),
			 NOISE_HS_OK);
}

static void
test_response_every_bit_flipped(void **state)
{
	const size_t mac1 = offsetof(struct wire_response, mac1);
	const size_t mac2 = offsetof(struct wire_response, mac2);
	struct wire_initiation init;
	struct wire_response r;
	size_t bit, i;

	(void)state;
	/* A first response earns b a cookie from a... */
	initiation_send(&a, &init);
	assert_int_equal(initiation_receive(&b, &init, sizeof(init)),
			 NOISE_HS_OK);
	response_send(&b, &r);
	get_cookie(&b, &a, (uint8_t *)&r, sizeof(r));
	/* ...which the second carries as mac2. */
	tick(NS_PER_S);
	initiation_send(&a, &init);
	assert_int_equal(initiation_receive(&b, &init, sizeof(init)),
			 NOISE_HS_OK);
	response_send(&b, &r);
	assert_int_equal(cookie_checker_validate(&a.checker, (uint8_t *)&r,
						 sizeof(r), &b.src, now),
			 COOKIE_MAC2_VALID);

	for (bit = 0; bit < sizeof(r) * 8; bit++) {
		uint8_t *m = flipped(&r, sizeof(r), bit);

		i = bit / 8;
		if (i < 4)
			assert_int_equal(response_receive(&a, m, sizeof(r)),
					 DROP_TYPE);
		else if (i < mac2)
			assert_int_equal(response_receive(&a, m, sizeof(r)),
					 DROP_MAC1);
		else
			assert_int_equal(cookie_checker_validate(&a.checker, m,
								 sizeof(r),
								 &b.src, now),
					 COOKIE_MAC1_VALID);
		/* receiver index, e and the empty payload's tag */
		if (i >= offsetof(struct wire_response, receiver_index) &&
		    i < mac1) {
			attacker_mac1(m, sizeof(r), a.pub);
			assert_int_equal(response_receive(&a, m, sizeof(r)),
					 NOISE_HS_INVALID);
		}
		free(m);
	}
	/* The handshake waited untouched for the real response. */
	assert_null(a.peer.current);
	assert_int_equal(noise_peer_hs_state(&a.peer),
			 NOISE_HS_CREATED_INITIATION);
	assert_int_equal(response_receive(&a, &r, sizeof(r)), NOISE_HS_OK);
	transfer(&a, &b, 20, NOISE_TX_OK, NOISE_RX_CONFIRMED);
	/* and a response is good once */
	assert_int_equal(response_receive(&a, &r, sizeof(r)),
			 NOISE_HS_INVALID);
}

/* Every bit of a transport message, before and after confirmation. */
/* A forgery's outcome: invalid, or a replay for a flip in the counter
 * (bytes 8-15) that names one already seen, refused before the AEAD. */
static bool
refused(enum noise_rx r, size_t byte)
{
	return r == NOISE_RX_INVALID ||
	       (r == NOISE_RX_REPLAY && byte >= 8 && byte < 16);
}

static void
test_transport_every_bit_flipped(void **state)
{
	static struct dgram d, bad;
	struct noise_keypair *next;
	size_t bit, i;
	int round;

	(void)state;
	handshake(&a, &b);
	next = b.peer.next;
	for (round = 0; round < 2; round++) {
		assert_int_equal(seal(&a, &d, 40, MTU, 3), NOISE_TX_OK);
		assert_int_equal(d.len, 16 + 48 + 16);
		for (bit = 0; bit < d.len * 8; bit++) {
			i = bit / 8;
			memcpy(&bad, &d, sizeof(bad));
			bad.buf[i] ^= (uint8_t)(1u << (bit % 8));
			if (i < 4)
				assert_int_equal(wire_classify(bad.buf,
							       bad.len),
						 WIRE_INVALID);
			else
				assert_true(refused(open_dgram(&b, &bad), i));
		}
		/* No forgery confirmed the keypair or moved the window. */
		if (round == 0) {
			assert_ptr_equal(b.peer.next, next);
			assert_null(b.peer.current);
			assert_int_equal(open_dgram(&b, &d),
					 NOISE_RX_CONFIRMED);
		} else {
			assert_int_equal(open_dgram(&b, &d), NOISE_RX_OK);
		}
	}
}

/*
 * A replayed initiation, an older one and one with the same timestamp are
 * refused; so is one that comes too soon after the last (a flood).
 */
static void
test_initiation_replay(void **state)
{
	struct wire_initiation i1, i2, older, same, newer, later;
	struct wire_response r;
	struct noise_keypair *kb;
	uint8_t send_key[32];

	(void)state;
	initiation_send(&a, &i1);
	assert_int_equal(initiation_receive(&b, &i1, sizeof(i1)), NOISE_HS_OK);
	response_send(&b, &r);
	assert_int_equal(response_receive(&a, &r, sizeof(r)), NOISE_HS_OK);
	transfer(&a, &b, 10, NOISE_TX_OK, NOISE_RX_CONFIRMED);
	kb = b.peer.current;
	memcpy(send_key, kb->send_key, 32);

	/* Replayed later, it changes nothing the responder has. */
	tick(NS_PER_S);
	assert_int_equal(initiation_receive(&b, &i1, sizeof(i1)),
			 NOISE_HS_REPLAY);
	assert_int_equal(noise_peer_hs_state(&b.peer),
			 NOISE_HS_ZEROED);
	assert_ptr_equal(b.peer.current, kb);
	assert_memory_equal(kb->send_key, send_key, 32);
	transfer(&b, &a, 10, NOISE_TX_OK, NOISE_RX_OK);

	/* Made in the order older, i2, same; received i2 first. */
	wall -= NS_PER_S / 2;
	initiation_send(&a, &older);
	wall += NS_PER_S / 2;
	initiation_send(&a, &i2);
	/* TAI64N keeps nanoseconds only to 2^24: this is i2's stamp */
	wall += NS_PER_MS;
	initiation_send(&a, &same);
	wall -= NS_PER_MS;
	assert_int_equal(initiation_receive(&b, &i2, sizeof(i2)), NOISE_HS_OK);
	tick(NS_PER_S);
	assert_int_equal(initiation_receive(&b, &older, sizeof(older)),
			 NOISE_HS_REPLAY);
	assert_int_equal(initiation_receive(&b, &same, sizeof(same)),
			 NOISE_HS_REPLAY);
	assert_int_equal(initiation_receive(&b, &i2, sizeof(i2)),
			 NOISE_HS_REPLAY);
	assert_int_equal(initiation_receive(&b, &i1, sizeof(i1)),
			 NOISE_HS_REPLAY);

	/* Newer than i2 by one TAI64N step is enough. */
	now += NS_PER_S;
	wall = WALL0 + NS_PER_S + (1u << 24);
	initiation_send(&a, &newer);
	assert_int_equal(initiation_receive(&b, &newer, sizeof(newer)),
			 NOISE_HS_OK);
	tick(10 * NS_PER_MS);
	wall += NS_PER_S;
	initiation_send(&a, &later);
	assert_int_equal(initiation_receive(&b, &later, sizeof(later)),
			 NOISE_HS_FLOOD);
	/* Refused as a flood, it was not recorded: at 20 ms it gets in. */
	tick(10 * NS_PER_MS - 1);
	assert_int_equal(initiation_receive(&b, &later, sizeof(later)),
			 NOISE_HS_FLOOD);
	tick(1);
	assert_int_equal(initiation_receive(&b, &later, sizeof(later)),
			 NOISE_HS_OK);
	response_send(&b, &r);
	assert_int_equal(response_receive(&a, &r, sizeof(r)), NOISE_HS_OK);
	transfer(&a, &b, 10, NOISE_TX_OK, NOISE_RX_CONFIRMED);
}

/*
 * A stranger costs a peer only once its initiation is verified whole: a
 * broken static or timestamp, or a stamp not newer than one seen for the
 * key, is dropped without asking the host; the host may refuse; a
 * refused initiation leaves nothing recorded; the peer created gets the
 * DH the responder computed.
 */
static void
test_create_after_verification(void **state)
{
	struct wire_initiation good, bad, old;
	struct wire_response r;
	uint8_t ss[32], stamp[TAI64N_LEN];

	(void)state;
	noise_peer_wipe(&b.peer);
	b.has_peer = false;
	b.host.peer_create = peer_create;

	/* Without peer_create, a stranger is unknown. */
	b.host.peer_create = NULL;
	initiation_send(&a, &good);
	assert_int_equal(initiation_receive(&b, &good, sizeof(good)),
			 NOISE_HS_UNKNOWN_PEER);
	b.host.peer_create = peer_create;

	/* A broken timestamp (mac1 made good again) creates nothing. */
	tick(NS_PER_S);
	initiation_send(&a, &bad);
	bad.enc_timestamp[3] ^= 1;
	cookie_maker_add_macs(&a.maker, (uint8_t *)&bad, sizeof(bad), now);
	assert_int_equal(initiation_receive(&b, &bad, sizeof(bad)),
			 NOISE_HS_INVALID);
	/* Nor does a broken static. */
	initiation_send(&a, &bad);
	bad.enc_static[40] ^= 0x80;
	cookie_maker_add_macs(&a.maker, (uint8_t *)&bad, sizeof(bad), now);
	assert_int_equal(initiation_receive(&b, &bad, sizeof(bad)),
			 NOISE_HS_INVALID);
	assert_int_equal(b.creates, 0);

	/* A stamp not newer than the key's known one: a replay, uncreated. */
	wall -= 10 * NS_PER_S;
	initiation_send(&a, &old);
	wall += 10 * NS_PER_S;
	tai64n_encode(stamp, wall);
	tstamp_record(&b.stamps, a.pub, stamp, now);
	assert_int_equal(initiation_receive(&b, &old, sizeof(old)),
			 NOISE_HS_REPLAY);
	assert_int_equal(b.creates, 0);

	/* Verified, but the host is full: refused, and nothing recorded. */
	tick(NS_PER_S);
	initiation_send(&a, &good);
	b.refuse = true;
	assert_int_equal(initiation_receive(&b, &good, sizeof(good)),
			 NOISE_HS_REFUSED);
	assert_int_equal(b.creates, 1);
	assert_false(b.has_peer);
	assert_true(noise_dh(ss, b.priv, a.pub));
	assert_memory_equal(b.created_ss, ss, 32);

	/* With room, the same message creates the peer and works. */
	b.refuse = false;
	assert_int_equal(initiation_receive(&b, &good, sizeof(good)),
			 NOISE_HS_OK);
	assert_int_equal(b.creates, 2);
	assert_true(b.has_peer);
	assert_memory_equal(b.peer.ss, ss, 32);
	response_send(&b, &r);
	assert_int_equal(response_receive(&a, &r, sizeof(r)), NOISE_HS_OK);
	transfer(&a, &b, 10, NOISE_TX_OK, NOISE_RX_CONFIRMED);
	transfer(&b, &a, 10, NOISE_TX_OK, NOISE_RX_OK);

	/* Replayed, it reaches the peer as a replay: no second creation. */
	tick(NS_PER_S);
	assert_int_equal(initiation_receive(&b, &good, sizeof(good)),
			 NOISE_HS_REPLAY);
	assert_int_equal(b.creates, 2);
}

/* Every message at every length from 0 to full size + 1. */
static void
test_truncation_sweeps(void **state)
{
	struct wire_initiation init;
	struct wire_response r;
	struct wire_cookie_reply reply;
	static struct dgram d, keepalive;
	uint8_t big[sizeof(init) + 1] = { 0 };
	size_t len;

	(void)state;
	initiation_send(&a, &init);
	memcpy(big, &init, sizeof(init));
	for (len = 0; len <= sizeof(init) + 1; len++)
		assert_int_equal(initiation_receive(&b, big, len),
				 len == sizeof(init) ? NOISE_HS_OK
						     : DROP_TYPE);
	for (len = 0; len <= sizeof(init) + 1; len++) {
		uint8_t *m = malloc(len ? len : 1);

		memcpy(m, big, len);
		assert_int_equal(cookie_checker_validate(&b.checker, m, len,
							 &a.src, now),
				 len == sizeof(init) ? COOKIE_MAC1_VALID
						     : COOKIE_MAC1_INVALID);
		free(m);
	}

	response_send(&b, &r);
	memset(big, 0, sizeof(big));
	memcpy(big, &r, sizeof(r));
	for (len = 0; len <= sizeof(r) + 1; len++) {
		uint8_t *m = malloc(len ? len : 1);

		memcpy(m, big, len);
		assert_int_equal(wire_classify(m, len),
				 len == sizeof(r) ? WIRE_RESPONSE
						  : WIRE_INVALID);
		assert_int_equal(cookie_checker_validate(&a.checker, m, len,
							 &b.src, now),
				 len == sizeof(r) ? COOKIE_MAC1_VALID
						  : COOKIE_MAC1_INVALID);
		free(m);
	}

	cookie_reply_create(&a.checker, &reply, (uint8_t *)&r, sizeof(r),
			    &b.src, now);
	memset(big, 0, sizeof(big));
	memcpy(big, &reply, sizeof(reply));
	for (len = 0; len <= sizeof(reply) + 1; len++) {
		uint8_t *m = malloc(len ? len : 1);

		memcpy(m, big, len);
		assert_int_equal(wire_classify(m, len),
				 len == sizeof(reply) ? WIRE_COOKIE_REPLY
						      : WIRE_INVALID);
		free(m);
	}

	assert_int_equal(response_receive(&a, &r, sizeof(r)), NOISE_HS_OK);

	/* Transport: a keepalive, and 33 bytes padded to 48. */
	assert_int_equal(seal(&a, &keepalive, 0, MTU, 0), NOISE_TX_OK);
	assert_int_equal(keepalive.len, WIRE_DATA_MIN_LEN);
	assert_int_equal(seal(&a, &d, 33, MTU, 1), NOISE_TX_OK);
	assert_int_equal(d.len, 16 + 48 + 16);
	keepalive.buf[keepalive.len] = 0;
	d.buf[d.len] = 0;
	for (len = 0; len <= keepalive.len + 1; len++) {
		assert_int_equal(wire_classify(keepalive.buf, len),
				 len >= WIRE_DATA_MIN_LEN ? WIRE_DATA
							  : WIRE_INVALID);
		if (len != keepalive.len)
			assert_int_equal(open_len(&b, &keepalive, len, NULL,
						  NULL),
					 NOISE_RX_INVALID);
	}
	for (len = 0; len <= d.len + 1; len++)
		if (len != d.len)
			assert_int_equal(open_len(&b, &d, len, NULL, NULL),
					 NOISE_RX_INVALID);
	assert_non_null(b.peer.next);
	assert_int_equal(open_dgram(&b, &keepalive), NOISE_RX_CONFIRMED);
	assert_int_equal(open_dgram(&b, &d), NOISE_RX_OK);
}

/* Counters at and past the limits, sent and received. */
static void
test_counter_limits(void **state)
{
	static const struct {
		uint64_t counter;
		enum noise_rx rx;
	} v[] = {
		{ REJECT_AFTER_MESSAGES - 3, NOISE_RX_OK },
		{ REJECT_AFTER_MESSAGES - 1, NOISE_RX_OK },
		{ REJECT_AFTER_MESSAGES - 2, NOISE_RX_OK }, /* in the window */
		{ REJECT_AFTER_MESSAGES - 1, NOISE_RX_REPLAY },
		{ REJECT_AFTER_MESSAGES, NOISE_RX_INVALID },
		{ REJECT_AFTER_MESSAGES + 1, NOISE_RX_INVALID },
		{ UINT64_MAX, NOISE_RX_INVALID },
	};
	static struct dgram d;
	struct noise_keypair *ka, *kb;
	size_t i;

	(void)state;
	assert_true(REJECT_AFTER_MESSAGES == UINT64_MAX - 8192);
	assert_true(REKEY_AFTER_MESSAGES == 1ull << 60);
	handshake(&a, &b);
	transfer(&a, &b, 0, NOISE_TX_OK, NOISE_RX_CONFIRMED);
	ka = a.peer.current;
	kb = b.peer.current;

	/* Receiving: forged with the right key, at chosen counters. */
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		ref_seal(&d, ka->remote_index, v[i].counter, ka->send_key, 16);
		if (open_dgram(&b, &d) != v[i].rx)
			fail_msg("counter %llu: not %d",
				 (unsigned long long)v[i].counter, v[i].rx);
	}

	/* Sending: the message-count rekey, on both sides. */
	ka->send_counter = REKEY_AFTER_MESSAGES - 1;
	kb->send_counter = REKEY_AFTER_MESSAGES - 1;
	transfer(&b, &a, 0, NOISE_TX_OK, NOISE_RX_OK);
	transfer(&b, &a, 0, NOISE_TX_OK_REKEY, NOISE_RX_OK);
	assert_int_equal(seal(&a, &d, 0, MTU, 0), NOISE_TX_OK);
	assert_true(wire_get_le64(d.buf + 8) == REKEY_AFTER_MESSAGES - 1);
	assert_int_equal(seal(&a, &d, 0, MTU, 0), NOISE_TX_OK_REKEY);
	assert_true(wire_get_le64(d.buf + 8) == REKEY_AFTER_MESSAGES);

	/* The last counter that may be sent, then nothing. */
	kb->send_counter = REJECT_AFTER_MESSAGES - 1;
	assert_true(noise_peer_can_send(&b.peer, now));
	assert_int_equal(seal(&b, &d, 0, MTU, 0), NOISE_TX_OK_REKEY);
	assert_true(wire_get_le64(d.buf + 8) == REJECT_AFTER_MESSAGES - 1);
	assert_int_equal(open_dgram(&a, &d), NOISE_RX_OK);
	assert_false(noise_peer_can_send(&b.peer, now));
	assert_int_equal(seal(&b, &d, 0, MTU, 0), NOISE_TX_NO_KEY);
	assert_true(kb->send_counter == REJECT_AFTER_MESSAGES);
}

/* Padded to a multiple of 16, never past the MTU, padding zeroed. */
static void
test_padding(void **state)
{
	static const size_t mtus[] = { 1420, 1280, 1500, 100, 16 };
	uint8_t plain[BUF_LEN], want[BUF_LEN];
	size_t m, len, padded, plain_len, out_len;

	(void)state;
	handshake(&a, &b);
	for (m = 0; m < ARRAY_SIZE(mtus); m++) {
		for (len = 0; len <= mtus[m]; len++) {
			/* exactly the room the contract asks for */
			size_t room = WIRE_DATA_HEADER_LEN + mtus[m] +
				      NOISE_TAG_LEN;
			uint8_t *buf = malloc(room);
			static struct dgram d;

			memset(buf, 0xaa, room);
			fill_plain(buf + WIRE_DATA_HEADER_LEN, len, 5);
			assert_int_equal(noise_encrypt(&a.peer, now, buf, len,
						       mtus[m], &out_len),
					 NOISE_TX_OK);
			padded = out_len - NOISE_DATA_OVERHEAD;
			if (padded < len || padded > mtus[m] ||
			    (padded % 16 && padded != mtus[m]) ||
			    padded >= len + 16)
				fail_msg("mtu %zu, len %zu: padded to %zu",
					 mtus[m], len, padded);
			memcpy(d.buf, buf, out_len);
			d.len = out_len;
			free(buf);
			assert_int_equal(open_len(&b, &d, d.len, plain,
						  &plain_len),
					 m == 0 && len == 0
						 ? NOISE_RX_CONFIRMED
						 : NOISE_RX_OK);
			assert_int_equal(plain_len, padded);
			fill_plain(want, len, 5);
			memset(want + len, 0, padded - len);
			assert_memory_equal(plain, want, padded);
		}
	}
}

/*
 * current/previous/next across rekeys: packets in flight under the old
 * keypair still arrive, in both directions, until it is two rekeys old.
 */
static void
test_keypair_rotation(void **state)
{
	static struct dgram a_old, b_old, a_old2, b_stale, a_stale;
	struct noise_keypair *k1a, *k1b, *k2a, *k2b, *k3a;

	(void)state;
	handshake(&a, &b);
	transfer(&a, &b, 0, NOISE_TX_OK, NOISE_RX_CONFIRMED);
	k1a = a.peer.current;
	k1b = b.peer.current;
	assert_int_equal(seal(&a, &a_old, 30, MTU, 1), NOISE_TX_OK);
	assert_int_equal(seal(&a, &a_old2, 30, MTU, 2), NOISE_TX_OK);
	assert_int_equal(seal(&a, &a_stale, 30, MTU, 3), NOISE_TX_OK);
	assert_int_equal(seal(&b, &b_old, 30, MTU, 4), NOISE_TX_OK);
	assert_int_equal(seal(&b, &b_stale, 30, MTU, 5), NOISE_TX_OK);

	/* Second handshake, a initiating again. */
	tick(NS_PER_S);
	handshake(&a, &b);
	k2a = a.peer.current;
	k2b = b.peer.next;
	assert_ptr_not_equal(k2a, k1a);
	assert_ptr_equal(a.peer.previous, k1a);
	assert_null(a.peer.next);
	assert_ptr_equal(b.peer.current, k1b);
	assert_null(b.peer.previous);
	assert_non_null(k2b);

	/* b is not confirmed yet: it still sends with k1, which a keeps. */
	transfer(&b, &a, 30, NOISE_TX_OK, NOISE_RX_OK);
	assert_int_equal(open_dgram(&a, &b_old), NOISE_RX_OK);
	/* a's k1 packets in flight reach b's current */
	assert_int_equal(open_dgram(&b, &a_old), NOISE_RX_OK);
	/* a's first k2 packet confirms */
	transfer(&a, &b, 30, NOISE_TX_OK, NOISE_RX_CONFIRMED);
	assert_ptr_equal(b.peer.current, k2b);
	assert_ptr_equal(b.peer.previous, k1b);
	assert_null(b.peer.next);
	/* and k1 packets still arrive through b's previous */
	assert_int_equal(open_dgram(&b, &a_old2), NOISE_RX_OK);
	transfer(&b, &a, 30, NOISE_TX_OK, NOISE_RX_OK);

	/* Third handshake: k1 is gone on both sides. */
	tick(NS_PER_S);
	handshake(&a, &b);
	k3a = a.peer.current;
	assert_ptr_equal(a.peer.previous, k2a);
	assert_int_equal(open_dgram(&a, &b_stale), NOISE_RX_INVALID);
	assert_int_equal(open_dgram(&b, &a_stale), NOISE_RX_INVALID);
	assert_ptr_equal(b.peer.current, k2b);
	assert_null(b.peer.previous);
	transfer(&a, &b, 30, NOISE_TX_OK, NOISE_RX_CONFIRMED);

	/* Fourth, the other way round (the server rekeys a client). */
	tick(NS_PER_S);
	handshake(&b, &a);
	assert_true(b.peer.current->is_initiator);
	assert_ptr_equal(a.peer.current, k3a);
	assert_non_null(a.peer.next);
	/* a, not confirmed, sends with k3; b kept it as previous */
	transfer(&a, &b, 30, NOISE_TX_OK, NOISE_RX_OK);
	transfer(&b, &a, 30, NOISE_TX_OK, NOISE_RX_CONFIRMED);
	assert_ptr_equal(a.peer.previous, k3a);
	transfer(&a, &b, 30, NOISE_TX_OK, NOISE_RX_OK);

	/* Every index still registered belongs to a live keypair. */
	assert_int_equal(a.indices.count, 2);
	assert_int_equal(b.indices.count, 2);
}

/*
 * The previous keypair goes once the other side sends under the current
 * one and that is REKEY_TIMEOUT old: before, a packet in flight under the
 * previous one still arrives; after, an idle session holds one keypair.
 */
static void
test_previous_keypair_released(void **state)
{
	static struct dgram b_old;
	struct noise_keypair *k1b;

	(void)state;
	handshake(&a, &b);
	transfer(&a, &b, 0, NOISE_TX_OK, NOISE_RX_CONFIRMED);
	k1b = b.peer.current;
	assert_int_equal(seal(&b, &b_old, 30, MTU, 1), NOISE_TX_OK);
	tick(NS_PER_S);
	handshake(&a, &b);
	transfer(&a, &b, 30, NOISE_TX_OK, NOISE_RX_CONFIRMED);
	transfer(&b, &a, 30, NOISE_TX_OK, NOISE_RX_OK);
	/* Young current keypair: both sides keep the previous one. */
	assert_ptr_equal(b.peer.previous, k1b);
	assert_non_null(a.peer.previous);
	assert_int_equal(open_dgram(&a, &b_old), NOISE_RX_OK);
	assert_int_equal(a.indices.count, 2);
	tick(5 * NS_PER_S);
	transfer(&b, &a, 30, NOISE_TX_OK, NOISE_RX_OK);
	assert_null(a.peer.previous);
	assert_int_equal(a.indices.count, 1);
	transfer(&a, &b, 30, NOISE_TX_OK, NOISE_RX_OK);
	assert_null(b.peer.previous);
	assert_int_equal(b.indices.count, 1);
	/* Both still talk under the current keypair. */
	transfer(&a, &b, 30, NOISE_TX_OK, NOISE_RX_OK);
	transfer(&b, &a, 30, NOISE_TX_OK, NOISE_RX_OK);
}

/*
 * The handshake state exists only while a handshake is under way: made
 * when an initiation is sent or consumed, gone once its keypair is made
 * (the index moving on) or when it is dropped (the index with it), so an
 * idle session holds none.
 */
static void
test_handshake_held_while_under_way(void **state)
{
	struct wire_initiation init;
	struct wire_response r;

	(void)state;
	assert_null(a.peer.hs);
	assert_null(b.peer.hs);
	initiation_send(&a, &init);
	assert_non_null(a.peer.hs);
	assert_int_equal(a.indices.count, 1);
	assert_int_equal(initiation_receive(&b, &init, sizeof(init)),
			 NOISE_HS_OK);
	assert_non_null(b.peer.hs);
	response_send(&b, &r);
	assert_null(b.peer.hs);
	assert_int_equal(b.indices.count, 1);
	assert_int_equal(response_receive(&a, &r, sizeof(r)), NOISE_HS_OK);
	assert_null(a.peer.hs);
	assert_int_equal(a.indices.count, 1);
	transfer(&a, &b, 30, NOISE_TX_OK, NOISE_RX_CONFIRMED);

	/* A new initiation dropped unfinished: its index goes too. */
	tick(NS_PER_S);
	initiation_send(&a, &init);
	assert_int_equal(a.indices.count, 2);
	noise_peer_clear_handshake(&a.peer);
	assert_null(a.peer.hs);
	assert_int_equal(a.indices.count, 1);
	transfer(&a, &b, 30, NOISE_TX_OK, NOISE_RX_OK);
}

/* Different PSKs: the responder cannot tell, the initiator can. */
static void
test_wrong_psk(void **state)
{
	static const struct {
		bool a_has, b_has;
		uint8_t a_psk, b_psk;
		bool ok;
	} v[] = {
		{ true, true, 0x11, 0x11, true },
		{ true, true, 0x11, 0x12, false },
		{ true, false, 0x11, 0, false },
		{ false, true, 0, 0x11, false },
		{ false, false, 0, 0, true },
		{ true, false, 0x00, 0, true }, /* unset is 32 zero bytes */
	};
	struct wire_initiation init;
	struct wire_response r;
	uint8_t psk_a[32], psk_b[32];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		noise_peer_wipe(&a.peer);
		noise_peer_wipe(&b.peer);
		memset(psk_a, v[i].a_psk, sizeof(psk_a));
		memset(psk_b, v[i].b_psk, sizeof(psk_b));
		peers_init(v[i].a_has ? psk_a : NULL,
			   v[i].b_has ? psk_b : NULL);
		tick(NS_PER_S);

		initiation_send(&a, &init);
		assert_int_equal(initiation_receive(&b, &init, sizeof(init)),
				 NOISE_HS_OK);
		response_send(&b, &r);
		assert_int_equal(response_receive(&a, &r, sizeof(r)),
				 v[i].ok ? NOISE_HS_OK : NOISE_HS_INVALID);
		if (v[i].ok) {
			transfer(&a, &b, 8, NOISE_TX_OK, NOISE_RX_CONFIRMED);
			continue;
		}
		assert_null(a.peer.current);
		assert_false(noise_peer_can_send(&a.peer, now));
		assert_int_equal(noise_peer_hs_state(&a.peer),
				 NOISE_HS_CREATED_INITIATION);
		/* b's keypair never gets confirmed by anything a has */
		assert_null(b.peer.current);
		assert_non_null(b.peer.next);
	}
}

/*
 * REKEY_AFTER_TIME (initiator sending), REJECT_AFTER_TIME - KEEPALIVE -
 * REKEY_TIMEOUT (initiator receiving) and REJECT_AFTER_TIME (everybody),
 * each one nanosecond before and exactly at the boundary.
 */
static void
test_time_limits(void **state)
{
	static struct dgram a_late, b_late, scratch;
	const uint64_t t0 = now;
	const uint64_t rekey = 120 * NS_PER_S, reject = 180 * NS_PER_S;
	const uint64_t rx_rekey = reject - 10 * NS_PER_S - 5 * NS_PER_S;

	(void)state;
	assert_true(pt.rekey_after_ns == rekey);
	assert_true(pt.reject_after_ns == reject);
	handshake(&a, &b); /* both keypairs born at t0 */
	transfer(&a, &b, 0, NOISE_TX_OK, NOISE_RX_CONFIRMED);

	now = t0 + rekey - 1;
	transfer(&a, &b, 10, NOISE_TX_OK, NOISE_RX_OK);
	now = t0 + rekey;
	transfer(&a, &b, 10, NOISE_TX_OK_REKEY, NOISE_RX_OK);
	transfer(&a, &b, 10, NOISE_TX_OK_REKEY, NOISE_RX_OK);
	/* the responder never rekeys by time */
	transfer(&b, &a, 10, NOISE_TX_OK, NOISE_RX_OK);

	now = t0 + rx_rekey - 1;
	transfer(&b, &a, 10, NOISE_TX_OK, NOISE_RX_OK);
	now = t0 + rx_rekey;
	transfer(&b, &a, 10, NOISE_TX_OK, NOISE_RX_OK_REKEY);
	transfer(&b, &a, 10, NOISE_TX_OK, NOISE_RX_OK); /* said once */
	transfer(&a, &b, 10, NOISE_TX_OK_REKEY, NOISE_RX_OK);

	now = t0 + reject - 1;
	assert_true(noise_peer_can_send(&a.peer, now));
	assert_true(noise_peer_can_send(&b.peer, now));
	transfer(&b, &a, 10, NOISE_TX_OK, NOISE_RX_OK);
	assert_int_equal(seal(&a, &a_late, 10, MTU, 1), NOISE_TX_OK_REKEY);
	assert_int_equal(seal(&b, &b_late, 10, MTU, 2), NOISE_TX_OK);

	now = t0 + reject;
	assert_false(noise_peer_can_send(&a.peer, now));
	assert_false(noise_peer_can_send(&b.peer, now));
	assert_int_equal(seal(&a, &scratch, 10, MTU, 1), NOISE_TX_NO_KEY);
	assert_int_equal(seal(&b, &scratch, 10, MTU, 1), NOISE_TX_NO_KEY);
	assert_int_equal(open_dgram(&b, &a_late), NOISE_RX_INVALID);
	assert_int_equal(open_dgram(&a, &b_late), NOISE_RX_INVALID);

	/* A fresh handshake brings everything back. */
	tick(NS_PER_S);
	handshake(&a, &b);
	transfer(&a, &b, 10, NOISE_TX_OK, NOISE_RX_CONFIRMED);
	transfer(&b, &a, 10, NOISE_TX_OK, NOISE_RX_OK);
}

/*
 * The receive-side rekey is about the current keypair (section 7, and
 * WireGuard's keep_key_fresh): a late packet through the previous one,
 * old as it is, asks for nothing when the current one is fresh.
 */
static void
test_receive_rekey_is_about_current(void **state)
{
	const uint64_t t0 = now;
	const uint64_t rx_rekey = pt.reject_after_ns - pt.keepalive_ns -
				  pt.rekey_timeout_ns;

	(void)state;
	handshake(&a, &b);
	transfer(&a, &b, 0, NOISE_TX_OK, NOISE_RX_CONFIRMED);
	tick(150 * NS_PER_S);
	handshake(&a, &b); /* b is not confirmed: it still sends with k1 */

	tick(t0 + rx_rekey - now);
	transfer(&b, &a, 10, NOISE_TX_OK, NOISE_RX_OK);
	transfer(&a, &b, 10, NOISE_TX_OK, NOISE_RX_CONFIRMED);

	/* the current keypair at its own limit does ask, once */
	now = t0 + 150 * NS_PER_S + rx_rekey - 1;
	transfer(&b, &a, 10, NOISE_TX_OK, NOISE_RX_OK);
	now++;
	transfer(&b, &a, 10, NOISE_TX_OK, NOISE_RX_OK_REKEY);
	transfer(&b, &a, 10, NOISE_TX_OK, NOISE_RX_OK);
}

/* An unconfirmed responder keypair expires at REJECT_AFTER_TIME too. */
static void
test_unconfirmed_expires(void **state)
{
	static struct dgram d;
	const uint64_t t0 = now;

	(void)state;
	handshake(&a, &b);
	now = t0 + pt.reject_after_ns - 1;
	assert_int_equal(seal(&a, &d, 10, MTU, 1), NOISE_TX_OK_REKEY);
	now = t0 + pt.reject_after_ns;
	assert_int_equal(open_dgram(&b, &d), NOISE_RX_INVALID);
	assert_null(b.peer.current);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_handshake_and_transport),
		T(test_initiation_every_bit_flipped),
		T(test_response_every_bit_flipped),
		T(test_transport_every_bit_flipped),
		T(test_initiation_replay),
		T(test_create_after_verification),
		T(test_truncation_sweeps),
		T(test_counter_limits),
		T(test_padding),
		T(test_keypair_rotation),
		T(test_previous_keypair_released),
		T(test_handshake_held_while_under_way),
		T(test_wrong_psk),
		T(test_time_limits),
		T(test_receive_rekey_is_about_current),
		T(test_unconfirmed_expires),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
