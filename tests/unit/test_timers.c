// SPDX-License-Identifier: MIT
/*
 * Time in the protocol (PROTOCOL.md section 7), at fake times with the
 * default protocol_times:
 *  - timers.c alone: handshake retransmission and give-up, passive and
 *    persistent keepalives, the new-handshake and zero-keys timers,
 *    timers_may_initiate, timers_next_deadline against what really fires
 *    over a long random event sequence, and protocol_times_scaled;
 *  - the rekey and reject rules that live in noise.c (two noise_locals in
 *    memory): who is told to rekey when sending or receiving with an aged
 *    keypair, and that nobody sends or accepts with a keypair older than
 *    REJECT_AFTER_TIME, each just before, at and just after its boundary;
 *  - that tunnel.c acts on them: a keepalive is not data, the rekey rules
 *    put an initiation on the wire, an expired keypair sends nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <sodium.h>

#include "rand.h"
#include "keys.h"
#include "noise.h"
#include "timers.h"
#include "tunnel.h"

#define S NS_PER_S
#define MS NS_PER_MS
#define T0 (1000 * S)

#define REKEY_AFTER (120 * S)
#define REJECT_AFTER (180 * S)
#define REKEY_ATTEMPT (90 * S)
#define REKEY_TIMEOUT (5 * S)
#define KEEPALIVE (10 * S)
/* The receive-side rekey age of section 7. */
#define RX_REKEY_AGE (REJECT_AFTER - KEEPALIVE - REKEY_TIMEOUT)

static struct protocol_times pt;

static uint32_t
rand32(void)
{
	uint32_t v;

	fake_random(NULL, (uint8_t *)&v, sizeof(v));
	return v;
}

/* Nothing is due before `when`; exactly `bits` are due at it. */
static void
expect_fire(struct timers *t, uint64_t when, unsigned int bits)
{
	assert_int_equal(timers_next_deadline(t), when);
	assert_int_equal(timers_expire(t, when - 1), 0);
	assert_int_equal(timers_expire(t, when), bits);
}

static int
timers_setup(void **state)
{
	(void)state;
	protocol_times_default(&pt);
	rng_state = 7;
	return 0;
}

/* ---- timers.c ------------------------------------------------------------ */

static void
test_defaults(void **state)
{
	(void)state;
	assert_int_equal(pt.rekey_after_ns, REKEY_AFTER);
	assert_int_equal(pt.reject_after_ns, REJECT_AFTER);
	assert_int_equal(pt.rekey_attempt_ns, REKEY_ATTEMPT);
	assert_int_equal(pt.rekey_timeout_ns, REKEY_TIMEOUT);
	assert_int_equal(pt.rekey_jitter_max_ns, 333 * MS);
	assert_int_equal(pt.keepalive_ns, KEEPALIVE);
	assert_int_equal(pt.cookie_secret_max_age_ns, 120 * S);
	assert_int_equal(pt.cookie_latency_ns, 5 * S);
}

static void
test_idle_has_no_deadline(void **state)
{
	struct timers t;

	(void)state;
	timers_init(&t, &pt);
	assert_int_equal(timers_next_deadline(&t), TIMER_OFF);
	assert_int_equal(timers_expire(&t, UINT64_MAX - 1), 0);
	assert_true(timers_may_initiate(&t, 0));
	assert_false(timers_handshake_pending(&t));
}

/*
 * A handshake that is never answered: a retransmission REKEY_TIMEOUT +
 * jitter after each initiation, the give-up at the first deadline at or
 * past REKEY_ATTEMPT_TIME after the first one, then only the zero-keys
 * timer remains.
 */
static void
retransmit_until_gave_up(uint64_t jitter, unsigned int want_sent,
			 uint64_t want_gave_up_at)
{
	struct timers t;
	uint64_t now = T0, d;
	unsigned int i, sent = 1, bits = 0;

	timers_init(&t, &pt);
	timers_handshake_initiated(&t, now, jitter);
	assert_true(timers_handshake_pending(&t));
	for (i = 0; i < 100; i++) {
		d = timers_next_deadline(&t);
		assert_int_equal(d, now + pt.rekey_timeout_ns + jitter);
		assert_int_equal(timers_expire(&t, d - 1), 0);
		bits = timers_expire(&t, d);
		now = d;
		if (bits != TIMER_RETRANSMIT_HANDSHAKE)
			break;
		assert_true(now - T0 < pt.rekey_attempt_ns);
		timers_handshake_initiated(&t, now, jitter);
		sent++;
	}
	assert_int_equal(bits, TIMER_HANDSHAKE_GAVE_UP);
	assert_int_equal(now, want_gave_up_at);
	assert_int_equal(sent, want_sent);
	assert_false(timers_handshake_pending(&t));
	/* Nothing is retried; the keys go after the usual grace period. */
	expect_fire(&t, now + 3 * pt.reject_after_ns, TIMER_ZERO_KEYS);
	assert_int_equal(timers_next_deadline(&t), TIMER_OFF);
}

static void
test_retransmit_give_up(void **state)
{
	(void)state;
	/* No jitter: initiations at 0, 5, ..., 85 s; gave up at 90 s. */
	retransmit_until_gave_up(0, 18, T0 + REKEY_ATTEMPT);
	/* The largest jitter, 333 ms - 1 ns, every time: initiations at 0,
	 * 5.333, ..., 85.33 s; the 17th deadline, 90.67 s, is the first past
	 * 90 s. */
	retransmit_until_gave_up(333 * MS - 1, 17,
				 T0 + 17 * (REKEY_TIMEOUT + 333 * MS - 1));
}

/* Jitter that varies: the give-up comes at the first deadline at or past
 * 90 s, whatever the sum of the jitters. */
static void
test_retransmit_varying_jitter(void **state)
{
	struct timers t;
	uint64_t now = T0, jitter, d;
	unsigned int i, bits = 0;

	(void)state;
	timers_init(&t, &pt);
	jitter = rand32() % pt.rekey_jitter_max_ns;
	timers_handshake_initiated(&t, now, jitter);
	for (i = 0; i < 100; i++) {
		d = timers_next_deadline(&t);
		assert_int_equal(d, now + REKEY_TIMEOUT + jitter);
		bits = timers_expire(&t, d);
		now = d;
		if (now - T0 < REKEY_ATTEMPT) {
			assert_int_equal(bits, TIMER_RETRANSMIT_HANDSHAKE);
		} else {
			assert_int_equal(bits, TIMER_HANDSHAKE_GAVE_UP);
			break;
		}
		jitter = rand32() % pt.rekey_jitter_max_ns;
		timers_handshake_initiated(&t, now, jitter);
	}
	assert_int_equal(bits, TIMER_HANDSHAKE_GAVE_UP);
	assert_true(now - T0 < REKEY_ATTEMPT + REKEY_TIMEOUT + 333 * MS);
}

/* An answer stops the retransmissions; the next attempt counts its 90 s
 * from its own first initiation. */
static void
test_handshake_complete(void **state)
{
	struct timers t;
	uint64_t t1 = T0 + 200 * S;

	(void)state;
	timers_init(&t, &pt);
	timers_handshake_initiated(&t, T0, 0);
	timers_handshake_complete(&t, T0 + 100 * MS);
	assert_false(timers_handshake_pending(&t));
	assert_int_equal(timers_next_deadline(&t), TIMER_OFF);
	assert_int_equal(timers_expire(&t, T0 + 1000 * S), 0);

	timers_handshake_initiated(&t, t1, 0);
	expect_fire(&t, t1 + REKEY_TIMEOUT, TIMER_RETRANSMIT_HANDSHAKE);
	/* A retransmission does not restart the 90 s. */
	timers_handshake_initiated(&t, t1 + REKEY_TIMEOUT, 0);
	assert_true(timers_handshake_pending(&t));
}

static void
test_may_initiate(void **state)
{
	struct timers t;

	(void)state;
	timers_init(&t, &pt);
	assert_true(timers_may_initiate(&t, T0));
	timers_handshake_initiated(&t, T0, 200 * MS);
	assert_false(timers_may_initiate(&t, T0));
	assert_false(timers_may_initiate(&t, T0 + REKEY_TIMEOUT - 1));
	assert_true(timers_may_initiate(&t, T0 + REKEY_TIMEOUT));
	assert_true(timers_may_initiate(&t, T0 + 1000 * S));
	/* An answer does not lift the limit: it counts from the initiation. */
	timers_handshake_initiated(&t, T0 + 10 * S, 0);
	timers_handshake_complete(&t, T0 + 10 * S + 1);
	assert_false(timers_may_initiate(&t, T0 + 15 * S - 1));
	assert_true(timers_may_initiate(&t, T0 + 15 * S));
}

/* Data received and nothing sent: a keepalive KEEPALIVE_TIMEOUT later. */
static void
test_passive_keepalive(void **state)
{
	struct timers t;

	(void)state;
	timers_init(&t, &pt);
	timers_any_authenticated_packet_received(&t, T0);
	timers_data_received(&t, T0);
	expect_fire(&t, T0 + KEEPALIVE, TIMER_SEND_KEEPALIVE);
	/* The keepalive goes out: it is not data, so it starts no
	 * new-handshake timer, and nothing else is due. */
	timers_any_authenticated_packet_sent(&t, T0 + KEEPALIVE);
	assert_int_equal(timers_next_deadline(&t), TIMER_OFF);
}

/* Data sent back in the meantime answers for the keepalive. */
static void
test_keepalive_suppressed_by_data_sent(void **state)
{
	struct timers t;

	(void)state;
	timers_init(&t, &pt);
	timers_data_received(&t, T0);
	timers_data_sent(&t, T0 + 3 * S);
	timers_any_authenticated_packet_sent(&t, T0 + 3 * S);
	/* Only the new-handshake timer of the data just sent is left. */
	assert_int_equal(timers_next_deadline(&t),
			 T0 + 3 * S + KEEPALIVE + REKEY_TIMEOUT);
	assert_int_equal(timers_expire(&t, T0 + KEEPALIVE), 0);
	assert_int_equal(timers_expire(&t, T0 + 18 * S - 1), 0);
	/* The answer arrives: the new-handshake timer goes, and since it is
	 * data, a keepalive is due for it. */
	timers_any_authenticated_packet_received(&t, T0 + 18 * S - 1);
	timers_data_received(&t, T0 + 18 * S - 1);
	expect_fire(&t, T0 + 28 * S - 1, TIMER_SEND_KEEPALIVE);
}

/* More data while a keepalive is pending: one keepalive at the first
 * deadline, and one more KEEPALIVE_TIMEOUT after it was sent. */
static void
test_keepalive_needs_another(void **state)
{
	struct timers t;

	(void)state;
	timers_init(&t, &pt);
	timers_data_received(&t, T0);
	timers_data_received(&t, T0 + 2 * S);
	expect_fire(&t, T0 + KEEPALIVE, TIMER_SEND_KEEPALIVE);
	timers_any_authenticated_packet_sent(&t, T0 + KEEPALIVE);
	expect_fire(&t, T0 + 2 * KEEPALIVE, TIMER_SEND_KEEPALIVE);
	timers_any_authenticated_packet_sent(&t, T0 + 2 * KEEPALIVE);
	assert_int_equal(timers_next_deadline(&t), TIMER_OFF);
}

/* Data sent and nothing heard: a new handshake at KEEPALIVE_TIMEOUT +
 * REKEY_TIMEOUT after the first unanswered data packet. */
static void
test_new_handshake(void **state)
{
	struct timers t;

	(void)state;
	timers_init(&t, &pt);
	timers_data_sent(&t, T0);
	timers_any_authenticated_packet_sent(&t, T0);
	/* Later data does not push the deadline back. */
	timers_data_sent(&t, T0 + 7 * S);
	timers_any_authenticated_packet_sent(&t, T0 + 7 * S);
	expect_fire(&t, T0 + KEEPALIVE + REKEY_TIMEOUT, TIMER_NEW_HANDSHAKE);
	assert_int_equal(timers_next_deadline(&t), TIMER_OFF);

	/* Anything authenticated from the peer, a keepalive too, cancels it. */
	timers_data_sent(&t, T0 + 100 * S);
	timers_any_authenticated_packet_received(&t, T0 + 115 * S - 1);
	assert_int_equal(timers_next_deadline(&t), TIMER_OFF);
	assert_int_equal(timers_expire(&t, T0 + 115 * S), 0);

	/* A keepalive sent is not data: no timer. */
	timers_any_authenticated_packet_sent(&t, T0 + 200 * S);
	assert_int_equal(timers_next_deadline(&t), TIMER_OFF);
}

static void
test_zero_keys(void **state)
{
	struct timers t;

	(void)state;
	timers_init(&t, &pt);
	timers_session_derived(&t, T0);
	expect_fire(&t, T0 + 3 * REJECT_AFTER, TIMER_ZERO_KEYS);
	assert_int_equal(timers_next_deadline(&t), TIMER_OFF);
	/* A newer session moves the deadline. */
	timers_session_derived(&t, T0 + 1000 * S);
	timers_session_derived(&t, T0 + 1100 * S);
	expect_fire(&t, T0 + 1100 * S + 3 * REJECT_AFTER, TIMER_ZERO_KEYS);
}

/* Every N seconds after the last packet that crossed, either way. */
static void
test_persistent_keepalive(void **state)
{
	struct timers t;
	uint64_t now = T0;
	unsigned int i;

	(void)state;
	timers_init(&t, &pt);
	timers_set_persistent_keepalive(&t, now, 25);
	for (i = 0; i < 10; i++) {
		expect_fire(&t, now + 25 * S, TIMER_PERSISTENT_KEEPALIVE);
		now += 25 * S;
		/* The host sends the keepalive. */
		timers_any_authenticated_packet_sent(&t, now);
		timers_any_authenticated_packet_traversal(&t, now);
	}
	/* Traffic either way pushes it back. */
	timers_any_authenticated_packet_received(&t, now + 10 * S);
	timers_any_authenticated_packet_traversal(&t, now + 10 * S);
	expect_fire(&t, now + 35 * S, TIMER_PERSISTENT_KEEPALIVE);
	now += 35 * S;
	/* Off: nothing re-arms it. */
	timers_set_persistent_keepalive(&t, now, 0);
	assert_int_equal(timers_next_deadline(&t), TIMER_OFF);
	timers_any_authenticated_packet_traversal(&t, now + S);
	assert_int_equal(timers_next_deadline(&t), TIMER_OFF);
	/* Stopping disarms everything. */
	timers_set_persistent_keepalive(&t, now, 1);
	timers_data_sent(&t, now);
	timers_data_received(&t, now);
	timers_session_derived(&t, now);
	timers_handshake_initiated(&t, now, 0);
	timers_stop(&t);
	assert_int_equal(timers_next_deadline(&t), TIMER_OFF);
	assert_false(timers_handshake_pending(&t));
}

/*
 * A long random sequence of events, driven as the event loop drives it:
 * at every reported deadline nothing has fired a nanosecond before and
 * something fires at it, so timers_next_deadline() is always the earliest
 * armed timer. Meanwhile the retransmit/give-up split and the
 * new-handshake deadline are checked against a simple model.
 */
struct model {
	uint64_t attempt_start;   /* TIMER_OFF: no handshake pending */
	uint64_t first_unanswered; /* data sent since the last receive */
};

static void
host_initiate(struct timers *t, struct model *m, uint64_t now)
{
	if (!timers_may_initiate(t, now))
		return;
	if (m->attempt_start == TIMER_OFF)
		m->attempt_start = now;
	timers_handshake_initiated(t, now, rand32() % pt.rekey_jitter_max_ns);
	timers_any_authenticated_packet_sent(t, now);
	timers_any_authenticated_packet_traversal(t, now);
}

static void
host_expire(struct timers *t, struct model *m, uint64_t now)
{
	unsigned int bits;

	bits = timers_expire(t, now);
	assert_int_not_equal(bits, 0);
	if (bits & TIMER_RETRANSMIT_HANDSHAKE) {
		assert_int_not_equal(m->attempt_start, TIMER_OFF);
		assert_true(now - m->attempt_start < pt.rekey_attempt_ns);
	}
	if (bits & TIMER_HANDSHAKE_GAVE_UP) {
		assert_true(now - m->attempt_start >= pt.rekey_attempt_ns);
		assert_false(bits & TIMER_RETRANSMIT_HANDSHAKE);
		m->attempt_start = TIMER_OFF;
	}
	if (bits & TIMER_NEW_HANDSHAKE) {
		assert_int_equal(now, m->first_unanswered + pt.keepalive_ns +
					      pt.rekey_timeout_ns);
		m->first_unanswered = TIMER_OFF;
	}
	if (bits & (TIMER_RETRANSMIT_HANDSHAKE | TIMER_NEW_HANDSHAKE))
		host_initiate(t, m, now);
	if (bits & (TIMER_SEND_KEEPALIVE | TIMER_PERSISTENT_KEEPALIVE)) {
		timers_any_authenticated_packet_sent(t, now);
		timers_any_authenticated_packet_traversal(t, now);
	}
}

static void
random_event(struct timers *t, struct model *m, uint64_t now)
{
	switch (rand32() % 9) {
	case 0:
	case 1:
		timers_data_sent(t, now);
		timers_any_authenticated_packet_sent(t, now);
		timers_any_authenticated_packet_traversal(t, now);
		if (m->first_unanswered == TIMER_OFF)
			m->first_unanswered = now;
		break;
	case 2:
	case 3:
		timers_any_authenticated_packet_received(t, now);
		timers_any_authenticated_packet_traversal(t, now);
		m->first_unanswered = TIMER_OFF;
		if (rand32() % 3)
			timers_data_received(t, now);
		break;
	case 4:
		host_initiate(t, m, now);
		break;
	case 5: /* a response arrives */
		if (!timers_handshake_pending(t))
			break;
		timers_any_authenticated_packet_received(t, now);
		timers_any_authenticated_packet_traversal(t, now);
		m->first_unanswered = TIMER_OFF;
		timers_handshake_complete(t, now);
		timers_session_derived(t, now);
		m->attempt_start = TIMER_OFF;
		break;
	case 6:
		timers_set_persistent_keepalive(t, now, rand32() % 4 * 7);
		break;
	default:
		break; /* silence */
	}
}

static void
test_next_deadline_random(void **state)
{
	struct timers t;
	struct model m = { TIMER_OFF, TIMER_OFF };
	uint64_t now = T0, target, d;
	unsigned int i, fired = 0, guard;

	(void)state;
	timers_init(&t, &pt);
	for (i = 0; i < 50000; i++) {
		/* Mostly short gaps, sometimes a long silence. */
		target = now + (rand32() % 8 ? rand32() % (12 * S)
					     : rand32() % (400 * S));
		for (guard = 0; guard < 1000; guard++) {
			d = timers_next_deadline(&t);
			if (d > target)
				break;
			assert_true(d > now);
			assert_int_equal(timers_expire(&t, d - 1), 0);
			now = d;
			host_expire(&t, &m, now);
			fired++;
		}
		assert_true(guard < 1000);
		now = target;
		random_event(&t, &m, now);
	}
	assert_true(fired > 10000);
}

static void
test_scaled(void **state)
{
	struct protocol_times def, sc;
	struct timers t;

	(void)state;
	protocol_times_default(&def);
	protocol_times_scaled(&sc, 10);
	assert_int_equal(sc.rekey_after_ns, def.rekey_after_ns / 10);
	assert_int_equal(sc.reject_after_ns, def.reject_after_ns / 10);
	assert_int_equal(sc.rekey_attempt_ns, def.rekey_attempt_ns / 10);
	assert_int_equal(sc.rekey_timeout_ns, def.rekey_timeout_ns / 10);
	assert_int_equal(sc.rekey_jitter_max_ns, def.rekey_jitter_max_ns / 10);
	assert_int_equal(sc.keepalive_ns, def.keepalive_ns / 10);
	assert_int_equal(sc.cookie_secret_max_age_ns,
			 def.cookie_secret_max_age_ns / 10);
	assert_int_equal(sc.cookie_latency_ns, def.cookie_latency_ns / 10);
	/* 1 and 0 leave the defaults. */
	protocol_times_scaled(&sc, 1);
	assert_memory_equal(&sc, &def, sizeof(sc));
	protocol_times_scaled(&sc, 0);
	assert_memory_equal(&sc, &def, sizeof(sc));

	/* The timers follow: everything ten times sooner. */
	protocol_times_scaled(&sc, 10);
	timers_init(&t, &sc);
	timers_data_received(&t, T0);
	expect_fire(&t, T0 + S, TIMER_SEND_KEEPALIVE);
	timers_data_sent(&t, T0);
	expect_fire(&t, T0 + 1500 * MS, TIMER_NEW_HANDSHAKE);
	timers_session_derived(&t, T0);
	expect_fire(&t, T0 + 54 * S, TIMER_ZERO_KEYS);
	timers_handshake_initiated(&t, T0, 0);
	assert_false(timers_may_initiate(&t, T0 + 500 * MS - 1));
	assert_true(timers_may_initiate(&t, T0 + 500 * MS));
}

/* ---- noise.c: the keypair age rules, two parties in memory --------------- */

struct side {
	struct noise_local local;
	struct noise_host host;
	struct index_table indices;
	struct tstamp_table stamps;
	struct noise_peer peer;
	uint8_t priv[32], pub[32];
	struct side *other;
};

static struct side ini, res;

static struct noise_peer *
side_peer_by_key(void *arg, const uint8_t pub[NOISE_KEY_LEN])
{
	struct side *s = arg;

	return keys_equal(pub, s->other->pub) ? &s->peer : NULL;
}

static void
side_init(struct side *s, struct side *other, uint8_t seed)
{
	uint8_t hash_key[TSTAMP_HASH_KEY_LEN] = { seed };
	int i;

	memset(s, 0, sizeof(*s));
	s->other = other;
	for (i = 0; i < 32; i++)
		s->priv[i] = (uint8_t)(seed + 3 * i);
	keys_clamp(s->priv);
	assert_true(keys_public_from_private(s->pub, s->priv));
	s->host.arg = s;
	s->host.random = fake_random;
	s->host.peer_by_key = side_peer_by_key;
	assert_int_equal(index_table_init(&s->indices, 16), 0);
	assert_int_equal(tstamp_table_init(&s->stamps, 16, hash_key), 0);
	noise_local_init(&s->local, &s->host, &pt, &s->indices, &s->stamps);
	assert_true(noise_local_set_private(&s->local, s->priv));
}

/* A full handshake at `now`: both keypairs are born at `now`. */
static void
handshake(uint64_t now)
{
	struct wire_initiation m1;
	struct wire_response m2;
	struct noise_peer *np;

	assert_int_equal(noise_initiation_create(&ini.peer, now, now, &m1),
			 NOISE_HS_OK);
	assert_int_equal(noise_initiation_consume(&res.local, now, &m1, &np),
			 NOISE_HS_OK);
	assert_ptr_equal(np, &res.peer);
	assert_int_equal(noise_response_create(&res.peer, now, &m2),
			 NOISE_HS_OK);
	assert_int_equal(noise_response_consume(&ini.local, now, &m2, &np),
			 NOISE_HS_OK);
	assert_ptr_equal(np, &ini.peer);
}

#define PKT_MAX 256

struct packet {
	uint8_t buf[PKT_MAX];
	size_t len;
};

/* Encrypts a small IPv4-looking plaintext from `from` at `now`. */
static enum noise_tx
seal(struct side *from, uint64_t now, struct packet *pkt)
{
	uint8_t *plain = pkt->buf + WIRE_DATA_HEADER_LEN;

	memset(pkt->buf, 0, sizeof(pkt->buf));
	plain[0] = 0x45;
	plain[3] = 20;
	return noise_encrypt(&from->peer, now, pkt->buf, 20, 128, &pkt->len);
}

static enum noise_rx
open_at(struct side *to, uint64_t now, struct packet *pkt)
{
	struct noise_peer *np;
	size_t plain_len;
	enum noise_rx r;

	r = noise_decrypt(&to->local, now, pkt->buf, pkt->len, &np,
			  &plain_len);
	if (r != NOISE_RX_INVALID && r != NOISE_RX_REPLAY)
		assert_ptr_equal(np, &to->peer);
	return r;
}

/* Sends from `from` at `now` and receives at once; both answers. */
static void
exchange(struct side *from, uint64_t now, enum noise_tx want_tx,
	 enum noise_rx want_rx)
{
	struct packet pkt;

	assert_int_equal(seal(from, now, &pkt), want_tx);
	assert_int_equal(open_at(from->other, now, &pkt), want_rx);
}

static int
pair_setup(void **state)
{
	(void)state;
	assert_true(sodium_init() >= 0);
	protocol_times_default(&pt);
	rng_state = 99;
	side_init(&ini, &res, 1);
	side_init(&res, &ini, 150);
	assert_true(noise_peer_init(&ini.peer, &ini.local, res.pub, NULL,
				    NULL));
	assert_true(noise_peer_init(&res.peer, &res.local, ini.pub, NULL,
				    NULL));
	handshake(T0);
	/* Key confirmation: the responder may send from here on. */
	exchange(&ini, T0, NOISE_TX_OK, NOISE_RX_CONFIRMED);
	return 0;
}

static void
side_free(struct side *s)
{
	noise_peer_wipe(&s->peer);
	noise_local_wipe(&s->local);
	tstamp_table_free(&s->stamps);
	index_table_free(&s->indices);
}

static int
pair_teardown(void **state)
{
	(void)state;
	side_free(&ini);
	side_free(&res);
	return 0;
}

/* The initiator is told to rekey once it sends with a keypair of
 * REKEY_AFTER_TIME; the responder is not (section 7). */
static void
test_send_rekey_after_time(void **state)
{
	(void)state;
	exchange(&ini, T0 + REKEY_AFTER - 1, NOISE_TX_OK, NOISE_RX_OK);
	exchange(&ini, T0 + REKEY_AFTER, NOISE_TX_OK_REKEY, NOISE_RX_OK);
	exchange(&ini, T0 + REKEY_AFTER + 1, NOISE_TX_OK_REKEY, NOISE_RX_OK);
	exchange(&res, T0 + REKEY_AFTER, NOISE_TX_OK, NOISE_RX_OK);
	exchange(&res, T0 + REKEY_AFTER + 1, NOISE_TX_OK, NOISE_RX_OK);
}

/* Nobody sends with a keypair of REJECT_AFTER_TIME. */
static void
test_send_reject_after_time(void **state)
{
	struct packet pkt;

	(void)state;
	assert_true(noise_peer_can_send(&ini.peer, T0 + REJECT_AFTER - 1));
	assert_true(noise_peer_can_send(&res.peer, T0 + REJECT_AFTER - 1));
	assert_false(noise_peer_can_send(&ini.peer, T0 + REJECT_AFTER));
	assert_false(noise_peer_can_send(&res.peer, T0 + REJECT_AFTER));
	assert_int_equal(seal(&ini, T0 + REJECT_AFTER - 1, &pkt),
			 NOISE_TX_OK_REKEY);
	assert_int_equal(seal(&res, T0 + REJECT_AFTER - 1, &pkt), NOISE_TX_OK);
	assert_int_equal(seal(&ini, T0 + REJECT_AFTER, &pkt), NOISE_TX_NO_KEY);
	assert_int_equal(seal(&res, T0 + REJECT_AFTER, &pkt), NOISE_TX_NO_KEY);
	assert_int_equal(seal(&ini, T0 + REJECT_AFTER + 1, &pkt),
			 NOISE_TX_NO_KEY);
	assert_int_equal(seal(&res, T0 + 10 * REJECT_AFTER, &pkt),
			 NOISE_TX_NO_KEY);
}

/*
 * The initiator is told (once per keypair) to rekey when it receives with
 * a keypair of REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT; the
 * responder never is, by age.
 */
static void
test_receive_rekey(void **state)
{
	(void)state;
	exchange(&res, T0 + RX_REKEY_AGE - 1, NOISE_TX_OK, NOISE_RX_OK);
	exchange(&ini, T0 + RX_REKEY_AGE - 1, NOISE_TX_OK_REKEY, NOISE_RX_OK);
	exchange(&res, T0 + RX_REKEY_AGE, NOISE_TX_OK, NOISE_RX_OK_REKEY);
	/* The responder receiving: no rekey by age (the initiator's own
	 * send rule covers it). */
	exchange(&ini, T0 + RX_REKEY_AGE, NOISE_TX_OK_REKEY, NOISE_RX_OK);
	exchange(&res, T0 + RX_REKEY_AGE + 1, NOISE_TX_OK, NOISE_RX_OK);
	exchange(&ini, T0 + REJECT_AFTER - 1, NOISE_TX_OK_REKEY, NOISE_RX_OK);
	exchange(&res, T0 + REJECT_AFTER - 1, NOISE_TX_OK, NOISE_RX_OK);
}

/* The first packet received past the boundary asks, however late. */
static void
test_receive_rekey_first_packet_late(void **state)
{
	(void)state;
	exchange(&res, T0 + RX_REKEY_AGE + 1, NOISE_TX_OK, NOISE_RX_OK_REKEY);
	exchange(&res, T0 + RX_REKEY_AGE + 2, NOISE_TX_OK, NOISE_RX_OK);
}

/* Nobody accepts with a keypair of REJECT_AFTER_TIME, whenever the
 * packet was sealed. */
static void
test_receive_reject_after_time(void **state)
{
	struct packet a, b, c, d;

	(void)state;
	assert_int_equal(seal(&res, T0 + 170 * S, &a), NOISE_TX_OK);
	assert_int_equal(seal(&res, T0 + 171 * S, &b), NOISE_TX_OK);
	assert_int_equal(seal(&ini, T0 + 170 * S, &c), NOISE_TX_OK_REKEY);
	assert_int_equal(seal(&ini, T0 + 171 * S, &d), NOISE_TX_OK_REKEY);
	assert_int_equal(open_at(&ini, T0 + REJECT_AFTER - 1, &a),
			 NOISE_RX_OK_REKEY);
	assert_int_equal(open_at(&res, T0 + REJECT_AFTER - 1, &c),
			 NOISE_RX_OK);
	assert_int_equal(open_at(&ini, T0 + REJECT_AFTER, &b),
			 NOISE_RX_INVALID);
	assert_int_equal(open_at(&res, T0 + REJECT_AFTER, &d),
			 NOISE_RX_INVALID);
	/* Still refused later, and so is one that was accepted before. */
	assert_int_equal(open_at(&ini, T0 + REJECT_AFTER + 1, &b),
			 NOISE_RX_INVALID);
	assert_int_equal(open_at(&ini, T0 + REJECT_AFTER + 1, &a),
			 NOISE_RX_INVALID);
}

/* A new handshake restarts every age from its own birth. */
static void
test_new_keypair_restarts_the_clock(void **state)
{
	uint64_t t1 = T0 + REKEY_AFTER + 3 * S;

	(void)state;
	handshake(t1);
	exchange(&ini, t1, NOISE_TX_OK, NOISE_RX_CONFIRMED);
	exchange(&res, T0 + REJECT_AFTER, NOISE_TX_OK, NOISE_RX_OK);
	exchange(&ini, T0 + REJECT_AFTER, NOISE_TX_OK, NOISE_RX_OK);
	exchange(&ini, t1 + REKEY_AFTER - 1, NOISE_TX_OK, NOISE_RX_OK);
	exchange(&res, t1 + RX_REKEY_AGE, NOISE_TX_OK, NOISE_RX_OK_REKEY);
	exchange(&ini, t1 + REKEY_AFTER, NOISE_TX_OK_REKEY, NOISE_RX_OK);
	exchange(&ini, t1 + REJECT_AFTER - 1, NOISE_TX_OK_REKEY, NOISE_RX_OK);
	assert_false(noise_peer_can_send(&ini.peer, t1 + REJECT_AFTER));
	assert_false(noise_peer_can_send(&res.peer, t1 + REJECT_AFTER));
}

/* The message-count rules: rekey once the send counter passes
 * REKEY_AFTER_MESSAGES (either side); nothing at REJECT_AFTER_MESSAGES. */
static void
test_counter_limits(void **state)
{
	struct packet pkt;

	(void)state;
	ini.peer.current->send_counter = REKEY_AFTER_MESSAGES - 1;
	exchange(&ini, T0 + S, NOISE_TX_OK, NOISE_RX_OK);
	exchange(&ini, T0 + S, NOISE_TX_OK_REKEY, NOISE_RX_OK);
	res.peer.current->send_counter = REKEY_AFTER_MESSAGES - 1;
	exchange(&res, T0 + S, NOISE_TX_OK, NOISE_RX_OK);
	exchange(&res, T0 + S, NOISE_TX_OK_REKEY, NOISE_RX_OK);

	ini.peer.current->send_counter = REJECT_AFTER_MESSAGES - 1;
	exchange(&ini, T0 + S, NOISE_TX_OK_REKEY, NOISE_RX_OK);
	assert_false(noise_peer_can_send(&ini.peer, T0 + S));
	assert_int_equal(seal(&ini, T0 + S, &pkt), NOISE_TX_NO_KEY);
	assert_true(noise_peer_can_send(&res.peer, T0 + S));
}

/* ---- tunnel.c acts on the rules ------------------------------------------ */

/* Included here, not above: its clock `now` is a global that the
 * parameters of the sections above would shadow. */
#define QUEUE_MAX 64
#include "pair.h"

static int
tunnel_setup(void **state)
{
	(void)state;
	assert_true(sodium_init() >= 0);
	protocol_times_default(&pt);
	rng_state = 4242;
	now = T0;
	party_init(&cli, &srv, 1, "192.0.2.2", 0);
	party_init(&srv, &cli, 100, "192.0.2.1", 0);
	peers_init();
	/* Handshake and confirmation at T0: both keypairs are born at T0. */
	assert_int_equal(send_ip(&cli, 100), TUNNEL_TX_STAGED);
	pump();
	assert_int_equal(cli.sessions, 1);
	assert_int_equal(srv.sessions, 1);
	assert_int_equal(noise_peer_current_birth(&cli.peer.noise), T0);
	assert_int_equal(noise_peer_current_birth(&srv.peer.noise), T0);
	return 0;
}

/* A keepalive is not data: its receiver owes no keepalive for it and its
 * sender expects no answer to it. */
static void
test_tunnel_keepalive_is_not_data(void **state)
{
	(void)state;
	/* The staged packet was data: the server owes a keepalive. */
	assert_int_equal(srv.peer.timers.keepalive_at, T0 + KEEPALIVE);
	now = T0 + KEEPALIVE;
	tunnel_peer_expire(&srv.t, &srv.peer, now, now);
	assert_int_equal(cli.queued, 1);
	assert_int_equal(srv.peer.timers.new_handshake_at, TIMER_OFF);
	pump();
	assert_int_equal(cli.delivered, 0);
	/* Received, and owed nothing back. */
	assert_int_equal(cli.peer.timers.keepalive_at, TIMER_OFF);
	assert_int_equal(cli.peer.timers.new_handshake_at, TIMER_OFF);
	/* So the line stays quiet: no keepalive answers a keepalive. */
	cli.sent = srv.sent = 0;
	advance(100 * S);
	assert_int_equal(cli.sent + srv.sent, 0);
	assert_int_equal(cli.delivered + srv.delivered, 1);
}

/* The initiator sending at REKEY_AFTER_TIME puts one initiation on the
 * wire; the responder sending then does not. */
static void
test_tunnel_send_rekey(void **state)
{
	(void)state;
	advance(REKEY_AFTER - 1);
	assert_int_equal(send_ip(&cli, 60), TUNNEL_TX_SEND);
	assert_int_equal(srv.queued, 1);
	assert_int_equal(send_ip(&srv, 60), TUNNEL_TX_SEND);
	assert_int_equal(cli.queued, 1);
	pump();
	now = T0 + REKEY_AFTER;
	assert_int_equal(send_ip(&srv, 60), TUNNEL_TX_SEND);
	assert_int_equal(queued_of_type(&cli, WIRE_INITIATION), 0);
	assert_int_equal(send_ip(&cli, 60), TUNNEL_TX_SEND);
	assert_int_equal(queued_of_type(&srv, WIRE_INITIATION), 1);
	assert_int_equal(queued_of_type(&srv, WIRE_DATA), 1);
	/* More data before the answer: no second initiation. */
	assert_int_equal(send_ip(&cli, 60), TUNNEL_TX_SEND);
	assert_int_equal(queued_of_type(&srv, WIRE_INITIATION), 1);
	pump();
	assert_int_equal(cli.sessions, 2);
	assert_int_equal(noise_peer_current_birth(&cli.peer.noise),
			 T0 + REKEY_AFTER);
}

/* The initiator receiving at the receive-side age initiates. */
static void
test_tunnel_receive_rekey(void **state)
{
	(void)state;
	advance(RX_REKEY_AGE - 1);
	assert_int_equal(send_ip(&srv, 60), TUNNEL_TX_SEND);
	assert_int_equal(cli.queued, 1);
	tunnel_receive(&cli.t, cli.queue[0].buf, cli.queue[0].len,
		       &cli.queue[0].src, now, now);
	cli.queued = 0;
	assert_int_equal(srv.queued, 0);
	now = T0 + RX_REKEY_AGE;
	assert_int_equal(send_ip(&srv, 60), TUNNEL_TX_SEND);
	assert_int_equal(cli.queued, 1);
	tunnel_receive(&cli.t, cli.queue[0].buf, cli.queue[0].len,
		       &cli.queue[0].src, now, now);
	cli.queued = 0;
	assert_int_equal(queued_of_type(&srv, WIRE_INITIATION), 1);
	pump();
	assert_int_equal(cli.sessions, 2);
}

/* At REJECT_AFTER_TIME nothing is sent with the old keypair: the client
 * stages and initiates, the server (not allowed to initiate) drops. */
static void
test_tunnel_reject_after_time(void **state)
{
	(void)state;
	advance(REJECT_AFTER - 1);
	assert_true(tunnel_peer_has_session(&srv.peer, now));
	assert_int_equal(send_ip(&srv, 60), TUNNEL_TX_SEND);
	/* Lost on the way: delivered, it would start a rekey. (The client
	 * does not send here: past REKEY_AFTER_TIME that initiates too.) */
	cli.queued = 0;
	now = T0 + REJECT_AFTER;
	assert_false(tunnel_peer_has_session(&srv.peer, now));
	assert_false(tunnel_peer_has_session(&cli.peer, now));
	assert_int_equal(send_ip(&srv, 60), TUNNEL_TX_DROPPED);
	assert_int_equal(cli.queued, 0);
	assert_int_equal(send_ip(&cli, 60), TUNNEL_TX_STAGED);
	assert_int_equal(srv.queued, 1);
	assert_int_equal(queued_of_type(&srv, WIRE_INITIATION), 1);
	pump();
	assert_int_equal(srv.sessions, 2);
	assert_true(tunnel_peer_has_session(&srv.peer, now));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults, timers_setup),
		cmocka_unit_test_setup(test_idle_has_no_deadline,
				       timers_setup),
		cmocka_unit_test_setup(test_retransmit_give_up, timers_setup),
		cmocka_unit_test_setup(test_retransmit_varying_jitter,
				       timers_setup),
		cmocka_unit_test_setup(test_handshake_complete, timers_setup),
		cmocka_unit_test_setup(test_may_initiate, timers_setup),
		cmocka_unit_test_setup(test_passive_keepalive, timers_setup),
		cmocka_unit_test_setup(test_keepalive_suppressed_by_data_sent,
				       timers_setup),
		cmocka_unit_test_setup(test_keepalive_needs_another,
				       timers_setup),
		cmocka_unit_test_setup(test_new_handshake, timers_setup),
		cmocka_unit_test_setup(test_zero_keys, timers_setup),
		cmocka_unit_test_setup(test_persistent_keepalive,
				       timers_setup),
		cmocka_unit_test_setup(test_next_deadline_random,
				       timers_setup),
		cmocka_unit_test_setup(test_scaled, timers_setup),
		cmocka_unit_test_setup_teardown(test_send_rekey_after_time,
						pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_send_reject_after_time,
						pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_receive_rekey, pair_setup,
						pair_teardown),
		cmocka_unit_test_setup_teardown(
			test_receive_rekey_first_packet_late, pair_setup,
			pair_teardown),
		cmocka_unit_test_setup_teardown(test_receive_reject_after_time,
						pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(
			test_new_keypair_restarts_the_clock, pair_setup,
			pair_teardown),
		cmocka_unit_test_setup_teardown(test_counter_limits, pair_setup,
						pair_teardown),
		cmocka_unit_test_setup_teardown(
			test_tunnel_keepalive_is_not_data, tunnel_setup,
			parties_teardown),
		cmocka_unit_test_setup_teardown(test_tunnel_send_rekey,
						tunnel_setup, parties_teardown),
		cmocka_unit_test_setup_teardown(test_tunnel_receive_rekey,
						tunnel_setup, parties_teardown),
		cmocka_unit_test_setup_teardown(test_tunnel_reject_after_time,
						tunnel_setup, parties_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
