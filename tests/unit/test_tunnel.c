// SPDX-License-Identifier: MIT
/*
 * The tunnel engine between two in-memory parties (a "client" that
 * initiates and a "server" that answers), a fake clock and a queue for a
 * network: handshake and key confirmation, staged packets, keepalives,
 * rekeying with traffic flowing, roaming, cookies under load, give-up and
 * key zeroing at the protocol's times, and the server's rule that it may
 * not initiate towards a peer it has not admitted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <sodium.h>

#include "keys.h"
#include "tunnel.h"

#define MTU 1420
#define QUEUE_MAX 256

struct datagram {
	uint8_t buf[TUNNEL_BUF_LEN(MTU)];
	size_t len;
	struct endpoint src;
};

struct party {
	struct tunnel t;
	struct tunnel_peer peer;
	struct party *other;
	struct endpoint self; /* where this party sends from */
	uint8_t priv[32], pub[32];
	/* datagrams on their way to this party */
	struct datagram queue[QUEUE_MAX];
	unsigned int queued;
	unsigned int delivered_ip, delivered_ctl, sessions, gave_up, zeroed;
	uint8_t last_ip[MTU];
	size_t last_ip_len;
	bool accept_peer;
};

static struct party cli, srv;
static uint64_t now;
static uint32_t rng_state;

static void
fake_random(void *arg, uint8_t *buf, size_t len)
{
	size_t i;

	(void)arg;
	for (i = 0; i < len; i++) {
		rng_state = rng_state * 1103515245u + 12345u;
		buf[i] = (uint8_t)(rng_state >> 16);
	}
}

static void
op_send(void *arg, const struct endpoint *ep, const uint8_t *buf, size_t len)
{
	struct party *from = arg, *to = from->other;
	struct datagram *d;

	(void)ep;
	assert_true(to->queued < QUEUE_MAX);
	d = &to->queue[to->queued++];
	memcpy(d->buf, buf, len);
	d->len = len;
	d->src = from->self;
}

static struct tunnel_peer *
op_peer_by_key(void *arg, const uint8_t pub[32])
{
	struct party *p = arg;

	if (!p->accept_peer || !keys_equal(pub, p->other->pub))
		return NULL;
	return &p->peer;
}

static void
op_deliver(void *arg, struct tunnel_peer *tp, enum wire_payload kind,
	   uint8_t *pkt, size_t len)
{
	struct party *p = arg;

	assert_ptr_equal(tp, &p->peer);
	if (kind == WIRE_PAYLOAD_CONTROL) {
		p->delivered_ctl++;
		return;
	}
	p->delivered_ip++;
	memcpy(p->last_ip, pkt, len);
	p->last_ip_len = len;
}

static void
op_session_started(void *arg, struct tunnel_peer *tp)
{
	(void)tp;
	((struct party *)arg)->sessions++;
}

static void
op_gave_up(void *arg, struct tunnel_peer *tp)
{
	(void)tp;
	((struct party *)arg)->gave_up++;
}

static void
op_zeroed(void *arg, struct tunnel_peer *tp)
{
	(void)tp;
	((struct party *)arg)->zeroed++;
}

static const struct tunnel_ops ops = {
	.random = fake_random,
	.send = op_send,
	.peer_by_key = op_peer_by_key,
	.deliver = op_deliver,
	.session_started = op_session_started,
	.handshake_gave_up = op_gave_up,
	.keys_zeroed = op_zeroed,
};

static void
endpoint_v4(struct endpoint *ep, const char *addr, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->addr.in4.sin_family = AF_INET;
	ep->addr.in4.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, addr, &ep->addr.in4.sin_addr), 1);
}

static void
party_init(struct party *p, struct party *other, uint8_t seed,
	   const char *addr, uint32_t handshake_rate)
{
	struct protocol_times pt;
	int i;

	memset(p, 0, sizeof(*p));
	p->other = other;
	for (i = 0; i < 32; i++)
		p->priv[i] = (uint8_t)(seed + i);
	keys_clamp(p->priv);
	assert_true(keys_public_from_private(p->pub, p->priv));
	endpoint_v4(&p->self, addr, 51900);
	protocol_times_default(&pt);
	assert_int_equal(tunnel_init(&p->t, &ops, p, &pt, p->priv, 4, MTU,
				     handshake_rate), 0);
	p->accept_peer = true;
}

static void
peers_init(void)
{
	assert_int_equal(tunnel_peer_init(&cli.t, &cli.peer, srv.pub, NULL, 8,
					  &cli), 0);
	assert_int_equal(tunnel_peer_init(&srv.t, &srv.peer, cli.pub, NULL, 8,
					  &srv), 0);
	tunnel_peer_set_endpoint(&cli.peer, &srv.self);
	cli.peer.can_initiate = true;
}

static int
setup(void **state)
{
	(void)state;
	assert_true(sodium_init() >= 0);
	rng_state = 42;
	now = 1000 * NS_PER_S;
	party_init(&cli, &srv, 1, "192.0.2.2", 0);
	party_init(&srv, &cli, 100, "192.0.2.1", 0);
	peers_init();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	tunnel_peer_free(&cli.peer);
	tunnel_peer_free(&srv.peer);
	tunnel_free(&cli.t);
	tunnel_free(&srv.t);
	return 0;
}

/* Delivers everything queued, both ways, until the network is quiet. */
static void
pump(void)
{
	int rounds;

	for (rounds = 0; rounds < 100 && (cli.queued || srv.queued); rounds++) {
		struct party *ps[2] = { &srv, &cli };
		int k;

		for (k = 0; k < 2; k++) {
			struct party *p = ps[k];
			unsigned int i, n = p->queued;
			static struct datagram batch[QUEUE_MAX];

			memcpy(batch, p->queue, n * sizeof(batch[0]));
			p->queued = 0;
			for (i = 0; i < n; i++)
				tunnel_receive(&p->t, batch[i].buf,
					       batch[i].len, &batch[i].src, now,
					       now);
		}
	}
	assert_int_equal(cli.queued + srv.queued, 0);
}

/* Sends an IPv4 packet of `len` bytes from p through the engine. */
static enum tunnel_tx
send_ip(struct party *p, size_t len)
{
	static uint8_t buf[TUNNEL_BUF_LEN(MTU)];
	uint8_t *ip = buf + WIRE_DATA_HEADER_LEN;
	enum tunnel_tx r;
	size_t out;

	memset(ip, 0xab, len);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(len >> 8);
	ip[3] = (uint8_t)len;
	r = tunnel_encrypt(&p->t, &p->peer, buf, len, now, now, &out);
	if (r == TUNNEL_TX_SEND)
		op_send(p, &p->peer.endpoint, buf, out);
	return r;
}

static void
advance(uint64_t ns)
{
	uint64_t end = now + ns;

	/* Step through every deadline on the way, as the loop would. */
	for (;;) {
		uint64_t d = tunnel_peer_deadline(&cli.peer);
		uint64_t e = tunnel_peer_deadline(&srv.peer);

		if (e < d)
			d = e;
		if (d > end)
			break;
		if (d > now)
			now = d;
		tunnel_peer_expire(&cli.t, &cli.peer, now, now);
		tunnel_peer_expire(&srv.t, &srv.peer, now, now);
		pump();
	}
	now = end;
}

static void
connect_parties(void)
{
	assert_int_equal(send_ip(&cli, 100), TUNNEL_TX_STAGED);
	pump();
	assert_int_equal(cli.sessions, 1);
	assert_int_equal(srv.sessions, 1); /* confirmed by the staged packet */
	assert_int_equal(srv.delivered_ip, 1);
	assert_int_equal(srv.last_ip_len, 100);
}

static void
test_handshake_staged_and_confirmed(void **state)
{
	(void)state;
	connect_parties();
	/* Both directions now work. */
	assert_int_equal(send_ip(&srv, 60), TUNNEL_TX_SEND);
	assert_int_equal(send_ip(&cli, 1420), TUNNEL_TX_SEND);
	pump();
	assert_int_equal(cli.delivered_ip, 1);
	assert_int_equal(cli.last_ip_len, 60);
	assert_int_equal(srv.delivered_ip, 2);
	assert_int_equal(srv.last_ip_len, 1420);
}

/* Without staged data the initiator confirms the session by a keepalive. */
static void
test_keepalive_confirms(void **state)
{
	(void)state;
	tunnel_initiate(&cli.t, &cli.peer, now, now);
	pump();
	assert_int_equal(cli.sessions, 1);
	assert_int_equal(srv.sessions, 1);
	assert_true(tunnel_peer_has_session(&srv.peer, now));
	assert_int_equal(srv.delivered_ip, 0);
}

/* The responder answers data with a keepalive after KEEPALIVE_TIMEOUT. */
static void
test_passive_keepalive(void **state)
{
	uint64_t rx_before;

	(void)state;
	connect_parties();
	rx_before = cli.peer.rx_bytes;
	advance(11 * NS_PER_S);
	assert_true(cli.peer.rx_bytes > rx_before);
}

/* Traffic across REKEY_AFTER_TIME: a new handshake, nothing lost, no
 * more than one handshake per rekey. */
static void
test_rekey_with_traffic(void **state)
{
	unsigned int i, sent = 0;

	(void)state;
	connect_parties();
	for (i = 0; i < 400; i++) {
		advance(NS_PER_S);
		assert_int_equal(send_ip(&cli, 200), TUNNEL_TX_SEND);
		assert_int_equal(send_ip(&srv, 200), TUNNEL_TX_SEND);
		sent++;
		pump();
	}
	/* 400 s: rekeys at ~120, ~240, ~360 s. */
	assert_int_equal(cli.sessions, 4);
	assert_int_equal(srv.delivered_ip, 1 + sent);
	assert_int_equal(cli.delivered_ip, sent);
	assert_true(tunnel_peer_has_session(&cli.peer, now));
}

/* A server that has not admitted its client never initiates. */
static void
test_no_initiation_without_permission(void **state)
{
	(void)state;
	connect_parties();
	advance(200 * NS_PER_S); /* keys expire */
	assert_false(tunnel_peer_has_session(&srv.peer, now));
	assert_int_equal(send_ip(&srv, 100), TUNNEL_TX_DROPPED);
	assert_int_equal(cli.queued, 0);
	srv.peer.can_initiate = true;
	assert_int_equal(send_ip(&srv, 100), TUNNEL_TX_STAGED);
	assert_int_equal(cli.queued, 1); /* an initiation towards the client */
	pump();
	assert_int_equal(cli.delivered_ip, 1);
}

/* The endpoint follows the latest authenticated datagram only. */
static void
test_roaming(void **state)
{
	struct endpoint moved;
	char text[ENDPOINT_STR_LEN];

	(void)state;
	connect_parties();
	endpoint_v4(&moved, "198.51.100.7", 40000);
	cli.self = moved;
	assert_int_equal(send_ip(&cli, 80), TUNNEL_TX_SEND);
	pump();
	assert_true(endpoint_same_remote(&srv.peer.endpoint, &moved));
	/* A forged datagram from elsewhere does not move it. */
	endpoint_v4(&srv.queue[0].src, "203.0.113.9", 1);
	memset(srv.queue[0].buf, 0, 64);
	srv.queue[0].buf[0] = 4;
	srv.queue[0].len = 64;
	srv.queued = 1;
	pump();
	assert_string_equal(endpoint_format(&srv.peer.endpoint, text),
			    "198.51.100.7:40000");
}

/* Retries every REKEY_TIMEOUT + jitter, giving up at REKEY_ATTEMPT_TIME. */
static void
test_give_up(void **state)
{
	uint64_t start = now;
	unsigned int initiations = 0;

	(void)state;
	srv.accept_peer = false; /* the server refuses this client */
	assert_int_equal(send_ip(&cli, 100), TUNNEL_TX_STAGED);
	while (!cli.gave_up && now - start < 200 * NS_PER_S) {
		initiations += srv.queued;
		srv.queued = 0;
		now = tunnel_peer_deadline(&cli.peer);
		tunnel_peer_expire(&cli.t, &cli.peer, now, now);
	}
	assert_int_equal(cli.gave_up, 1);
	assert_true(now - start >= 90 * NS_PER_S);
	assert_true(now - start < 96 * NS_PER_S);
	assert_true(initiations >= 17 && initiations <= 19);
	assert_int_equal(cli.peer.staged_count, 0);
}

/* Keys are wiped 3 * REJECT_AFTER_TIME after the last session. */
static void
test_zero_keys(void **state)
{
	(void)state;
	connect_parties();
	advance(3 * 180 * NS_PER_S + NS_PER_S);
	assert_int_equal(cli.zeroed, 1);
	assert_int_equal(srv.zeroed, 1);
	assert_false(tunnel_peer_has_session(&cli.peer, now));
}

/* Under load the server answers with a cookie; the retry carries mac2
 * and gets through. */
static void
test_cookie_under_load(void **state)
{
	(void)state;
	teardown(NULL);
	party_init(&cli, &srv, 1, "192.0.2.2", 0);
	party_init(&srv, &cli, 100, "192.0.2.1", 1);
	peers_init();
	srv.t.load_tokens = 0; /* the bucket is empty: under load */
	srv.t.load_refill_ns = now;
	assert_int_equal(send_ip(&cli, 100), TUNNEL_TX_STAGED);
	pump();
	assert_int_equal(srv.t.stats.cookies_sent, 1);
	assert_int_equal(cli.sessions, 0);
	assert_true(cli.peer.cookie.has_cookie);
	/* Still under load at the retry, but mac2 is now valid. */
	now = tunnel_peer_deadline(&cli.peer);
	srv.t.load_refill_ns = now;
	tunnel_peer_expire(&cli.t, &cli.peer, now, now);
	pump();
	assert_int_equal(cli.sessions, 1);
	assert_int_equal(srv.delivered_ip, 1);
}

/* Garbage of every kind is counted and changes nothing. */
static void
test_garbage(void **state)
{
	static uint8_t junk[2048];
	size_t len;

	(void)state;
	connect_parties();
	for (len = 0; len < sizeof(junk); len += 7) {
		fake_random(NULL, junk, len);
		if (len >= 4)
			junk[0] = (uint8_t)(1 + len % 4), junk[1] = junk[2] =
							     junk[3] = 0;
		assert_null(tunnel_receive(&srv.t, junk, len, &cli.self, now,
					   now));
	}
	assert_int_equal(srv.queued + cli.queued, 0);
	assert_int_equal(send_ip(&cli, 100), TUNNEL_TX_SEND);
	pump();
	assert_int_equal(srv.delivered_ip, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_handshake_staged_and_confirmed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_confirms, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_passive_keepalive, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rekey_with_traffic, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_no_initiation_without_permission, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roaming, setup, teardown),
		cmocka_unit_test_setup_teardown(test_give_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cookie_under_load, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
