/* SPDX-License-Identifier: MIT */
/*
 * Two tunnel engines in memory for the unit tests: a "client" (cli) that
 * initiates and a "server" (srv) that answers, a fake clock (now) and a
 * queue per party for the network. It owns what the parties count (sent,
 * delivered, sessions, give-ups, key zeroings), delivery of the queues
 * until the network is quiet, sending an IP packet through the engine and
 * running both parties' timers as the event loop would. Each test_*.c is
 * its own program, so everything here is static; the includer picks
 * QUEUE_MAX (how many datagrams may wait for one party) if 256 is not it
 * and includes <cmocka.h> first.
 */
#ifndef VPN_TEST_PAIR_H
#define VPN_TEST_PAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>

#include "rand.h"
#include "keys.h"
#include "tunnel.h"

#define MTU 1420
#ifndef QUEUE_MAX
#define QUEUE_MAX 256
#endif

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
	unsigned int sent, sessions, gave_up, zeroed, moved;
	/* delivered counts both kinds; the last IP packet is kept */
	unsigned int delivered, delivered_ip, delivered_ctl;
	uint8_t last_ip[MTU];
	size_t last_ip_len;
	bool accept_peer;
};

static struct party cli, srv;
static uint64_t now;

static inline void
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
	from->sent++;
}

static inline struct tunnel_peer *
op_peer_by_key(void *arg, const uint8_t pub[32])
{
	struct party *p = arg;

	if (!p->accept_peer || !keys_equal(pub, p->other->pub))
		return NULL;
	return &p->peer;
}

static inline void
op_deliver(void *arg, struct tunnel_peer *tp, enum wire_payload kind,
	   uint8_t *pkt, size_t len)
{
	struct party *p = arg;

	assert_ptr_equal(tp, &p->peer);
	p->delivered++;
	if (kind == WIRE_PAYLOAD_CONTROL) {
		p->delivered_ctl++;
		return;
	}
	p->delivered_ip++;
	memcpy(p->last_ip, pkt, len);
	p->last_ip_len = len;
}

static inline void
op_session_started(void *arg, struct tunnel_peer *tp)
{
	(void)tp;
	((struct party *)arg)->sessions++;
}

static inline void
op_gave_up(void *arg, struct tunnel_peer *tp)
{
	(void)tp;
	((struct party *)arg)->gave_up++;
}

static inline void
op_zeroed(void *arg, struct tunnel_peer *tp)
{
	(void)tp;
	((struct party *)arg)->zeroed++;
}

static inline void
op_moved(void *arg, struct tunnel_peer *tp)
{
	(void)tp;
	((struct party *)arg)->moved++;
}

static const struct tunnel_ops ops = {
	.random = fake_random,
	.send = op_send,
	.peer_by_key = op_peer_by_key,
	.deliver = op_deliver,
	.session_started = op_session_started,
	.handshake_gave_up = op_gave_up,
	.keys_zeroed = op_zeroed,
	.endpoint_changed = op_moved,
};

static inline void
endpoint_v4(struct endpoint *ep, const char *addr, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->addr.in4.sin_family = AF_INET;
	ep->addr.in4.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, addr, &ep->addr.in4.sin_addr), 1);
}

/* Keys from `seed`, the default protocol times, accepting the other. */
static inline void
party_init(struct party *p, struct party *other, uint8_t seed,
	   const char *addr, uint32_t handshake_rate)
{
	struct protocol_times times;
	int i;

	memset(p, 0, sizeof(*p));
	p->other = other;
	for (i = 0; i < 32; i++)
		p->priv[i] = (uint8_t)(seed + i);
	keys_clamp(p->priv);
	assert_true(keys_public_from_private(p->pub, p->priv));
	endpoint_v4(&p->self, addr, 51900);
	protocol_times_default(&times);
	assert_int_equal(tunnel_init(&p->t, &ops, p, &times, p->priv, 4, MTU,
				     handshake_rate), 0);
	p->accept_peer = true;
}

/* Each knows the other; only the client knows where to send first. */
static inline void
peers_init(void)
{
	assert_int_equal(tunnel_peer_init(&cli.t, &cli.peer, srv.pub, NULL, 8,
					  &cli), 0);
	assert_int_equal(tunnel_peer_init(&srv.t, &srv.peer, cli.pub, NULL, 8,
					  &srv), 0);
	tunnel_peer_set_endpoint(&cli.peer, &srv.self);
	cli.peer.can_initiate = true;
}

static inline int
parties_teardown(void **state)
{
	(void)state;
	tunnel_peer_free(&cli.peer);
	tunnel_peer_free(&srv.peer);
	tunnel_free(&cli.t);
	tunnel_free(&srv.t);
	return 0;
}

/* Delivers everything queued, both ways, until the network is quiet. */
static inline void
pump(void)
{
	static struct datagram batch[QUEUE_MAX];
	int rounds, k;

	for (rounds = 0; rounds < 100 && (cli.queued || srv.queued); rounds++) {
		struct party *ps[2] = { &srv, &cli };

		for (k = 0; k < 2; k++) {
			struct party *p = ps[k];
			unsigned int i, n = p->queued;

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
static inline enum tunnel_tx
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

/* Runs both parties' timers up to now + ns, stepping through every
 * deadline on the way as the loop would. */
static inline void
advance(uint64_t ns)
{
	uint64_t end = now + ns;
	int steps;

	for (steps = 0; steps < 1000; steps++) {
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
	assert_true(steps < 1000);
	now = end;
}

/* Counts the queued datagrams of one type, on their way to p. */
static inline unsigned int
queued_of_type(const struct party *p, enum wire_type type)
{
	unsigned int i, n = 0;

	for (i = 0; i < p->queued; i++)
		if (wire_classify(p->queue[i].buf, p->queue[i].len) == type)
			n++;
	return n;
}

#endif
