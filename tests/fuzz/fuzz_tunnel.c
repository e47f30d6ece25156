// SPDX-License-Identifier: MIT
/*
 * Fuzz harness for the tunnel engine's datagram input, tunnel_receive()
 * (tunnel.c and, under it, wire, cookie, noise, replay, index, tstamp):
 * a server engine with a fixed key and one admitted client, and an
 * in-memory client engine that can talk to it for real. Everything is
 * seeded, so one input always replays the same run.
 *
 * The first byte picks the mode and set-up flags; each operation byte
 * then names an action (low four bits) and, where it matters, the side
 * (bit 4: the server):
 *   raw (bit 7 clear): datagrams of fuzzed bytes to the server or the
 *     client, optionally with mac1/mac2 recomputed so that mutated
 *     handshakes get past the MAC check to Noise; a real message just
 *     sent, changed in one byte; time passing; delivery of what each side
 *     sent; the fuzzed source moving; handshakes from either side or from
 *     a key the server does not know; a replayed datagram; a session
 *     reset; persistent keepalives. Set-up bit 0: handshake first; bit 1:
 *     the server may initiate and does; bit 2: both are under load
 *     (cookies); bit 3: fix MACs; bit 4: a preshared key.
 *   session (bit 7 set): a session is up first, and the operations carry
 *     plaintexts that the engines encrypt and send for real, so the
 *     fuzzer reaches the plaintext demultiplexing and the control
 *     messages (decoded as vpnd and vpnc would) the AEAD otherwise hides;
 *     also tampering, replays, reordering, roaming, rekeying, MTU changes
 *     and resets. Set-up bit 0: a preshared key; bit 1: the server may
 *     initiate.
 *
 * Invariants checked: everything an engine sends is a well-formed message;
 * a datagram the engine refuses does not move the peer's endpoint, one it
 * delivers moves it to its source; what is delivered is what the other
 * side sent (padding zero); a tampered or replayed datagram is never
 * delivered.
 */
#include <arpa/inet.h>
#include <sodium.h>

#include "fuzz.h"
#include "keys.h"
#include "login.h"
#include "tunnel.h"

#define MTU 1420
#define BUF_LEN TUNNEL_BUF_LEN(MTU)
#define QUEUE_MAX 32
#define SENT_MAX 64
#define MAX_OPS 96
#define PUMP_ROUNDS 8

enum {
	SETUP_HANDSHAKE = 1 << 0,
	SETUP_SERVER_INITIATES = 1 << 1,
	SETUP_UNDER_LOAD = 1 << 2,
	SETUP_FIX_MACS = 1 << 3,
	SETUP_PSK = 1 << 4,
	SETUP_SESSION_MODE = 1 << 7,
};

struct datagram {
	uint8_t buf[BUF_LEN];
	size_t len;
	struct endpoint src;
};

/* Plaintexts one side handed its engine, for checking deliveries. */
struct sent {
	uint8_t data[MTU];
	size_t len;
};

struct party {
	struct tunnel t;
	struct tunnel_peer peer;
	struct party *other;
	struct endpoint self;
	uint8_t priv[32], pub[32];
	struct datagram queue[QUEUE_MAX]; /* on their way to this party */
	unsigned int queued;
	struct sent sent[SENT_MAX];       /* this party's plaintexts */
	unsigned int n_sent;
	unsigned int delivered;
	enum login_sender from_other;
};

/* eve: a third key the server does not know, with a real engine. */
static struct party srv, cli, eve;
static uint64_t now;
static uint32_t rng;
static uint8_t psk[32];
static struct datagram last_accepted, held;
static bool has_last_accepted, has_held;
static const struct endpoint *receiving_from; /* during tunnel_receive */

static void
op_random(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	fuzz_random(&rng, buf, len);
}

static void
op_send(void *arg, const struct endpoint *ep, const uint8_t *buf, size_t len)
{
	struct party *from = arg, *to = from->other;
	struct datagram *d;

	(void)ep;
	FUZZ_CHECK(len <= BUF_LEN);
	FUZZ_CHECK(wire_classify(buf, len) != WIRE_INVALID);
	if (to->queued == QUEUE_MAX)
		return; /* a full network loses datagrams */
	d = &to->queue[to->queued++];
	memcpy(d->buf, buf, len);
	d->len = len;
	d->src = from->self;
}

static struct tunnel_peer *
op_peer_by_key(void *arg, const uint8_t pub[32])
{
	struct party *p = arg;

	return keys_equal(pub, p->other->pub) ? &p->peer : NULL;
}

/*
 * True if pkt could be what `s` became on the way: the same bytes, then
 * zero padding. An IP packet is cut at its header's length, which may
 * reach into the padding (section 5 says so); a control message keeps
 * all of its padded plaintext.
 */
static bool
matches(const struct sent *s, enum wire_payload kind, const uint8_t *pkt,
	size_t len)
{
	size_t i, same = len < s->len ? len : s->len;

	if (kind == WIRE_PAYLOAD_CONTROL && len < s->len)
		return false;
	if (memcmp(pkt, s->data, same) != 0)
		return false;
	for (i = same; i < len; i++)
		if (pkt[i] != 0)
			return false;
	return true;
}

static void
check_control(const uint8_t *pkt, size_t len, enum login_sender from)
{
	struct login_msg m;
	struct login_iter it;
	struct login_prefix4 r4;
	unsigned int n = 0;

	if (login_decode(pkt, len, from, &m) != LOGIN_DECODE_OK)
		return;
	login_iter_init(&it, &m);
	while (login_next_route4(&it, &r4))
		n++;
	FUZZ_CHECK(n == m.n_route4);
}

static void
op_deliver(void *arg, struct tunnel_peer *tp, enum wire_payload kind,
	   uint8_t *pkt, size_t len)
{
	struct party *p = arg, *o = p->other;
	unsigned int i;
	bool found = false;

	FUZZ_CHECK(tp == &p->peer);
	FUZZ_CHECK(kind == WIRE_PAYLOAD_IPV4 || kind == WIRE_PAYLOAD_IPV6 ||
		   kind == WIRE_PAYLOAD_CONTROL);
	FUZZ_CHECK(len >= 1 && len <= MTU);
	/* Roaming: what authenticates names the peer's endpoint. */
	FUZZ_CHECK(receiving_from && p->peer.has_endpoint &&
		   endpoint_same_remote(&p->peer.endpoint, receiving_from));
	p->delivered++;
	if (kind == WIRE_PAYLOAD_CONTROL)
		check_control(pkt, len, p->from_other);
	/* Only the other engine can make a packet that decrypts. */
	for (i = o->n_sent; i-- > 0 && !found;)
		found = matches(&o->sent[i], kind, pkt, len);
	FUZZ_CHECK(found);
}

static void
op_event(void *arg, struct tunnel_peer *tp)
{
	FUZZ_CHECK(tp == &((struct party *)arg)->peer);
}

static const struct tunnel_ops ops = {
	.random = op_random,
	.send = op_send,
	.peer_by_key = op_peer_by_key,
	.deliver = op_deliver,
	.session_started = op_event,
	.handshake_gave_up = op_event,
	.keys_zeroed = op_event,
};

static void
endpoint_v4(struct endpoint *ep, uint32_t addr, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->addr.in4.sin_family = AF_INET;
	ep->addr.in4.sin_port = htons(port);
	ep->addr.in4.sin_addr.s_addr = htonl(addr);
}

/* Sources a datagram may come from: documentation addresses only. */
static void
endpoint_pick(struct endpoint *ep, uint8_t which)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 192, 0,
					    2, 2 };

	switch (which % 4) {
	case 0:
		endpoint_v4(ep, 0xc0000202, 51900); /* 192.0.2.2 */
		break;
	case 1:
		endpoint_v4(ep, 0xc6336407, which); /* 198.51.100.7 */
		break;
	default:
		memset(ep, 0, sizeof(*ep));
		ep->addr.in6.sin6_family = AF_INET6;
		ep->addr.in6.sin6_port = htons(51900);
		memcpy(&ep->addr.in6.sin6_addr, which % 4 == 2 ? v6 : mapped,
		       16);
		break;
	}
	ep->has_src = which & 0x80;
}

static void
party_init(struct party *p, struct party *other, uint8_t seed,
	   uint32_t handshake_rate)
{
	struct protocol_times pt;
	int i;

	memset(p, 0, sizeof(*p));
	p->other = other;
	for (i = 0; i < 32; i++)
		p->priv[i] = (uint8_t)(seed + i);
	keys_clamp(p->priv);
	if (!keys_public_from_private(p->pub, p->priv))
		abort();
	protocol_times_default(&pt);
	if (tunnel_init(&p->t, &ops, p, &pt, p->priv, 4, MTU,
			handshake_rate) < 0)
		abort();
}

static void
setup(uint8_t flags)
{
	bool with_psk = flags & SETUP_PSK;

	rng = 1;
	now = 1000 * NS_PER_S;
	has_last_accepted = has_held = false;
	memset(psk, 0x5a, sizeof(psk));
	/* Under load, one handshake message a second each: the client
	 * answers the server's initiations with cookies too. */
	party_init(&srv, &cli, 100, flags & SETUP_UNDER_LOAD ? 1 : 0);
	party_init(&cli, &srv, 1, flags & SETUP_UNDER_LOAD ? 1 : 0);
	party_init(&eve, &srv, 200, 0);
	endpoint_v4(&srv.self, 0xc0000201, 51900);
	endpoint_pick(&cli.self, 0);
	endpoint_pick(&eve.self, 1);
	srv.from_other = LOGIN_FROM_CLIENT;
	cli.from_other = LOGIN_FROM_SERVER;
	if (tunnel_peer_init(&srv.t, &srv.peer, cli.pub, with_psk ? psk : NULL,
			     8, &srv) < 0 ||
	    tunnel_peer_init(&cli.t, &cli.peer, srv.pub, with_psk ? psk : NULL,
			     8, &cli) < 0 ||
	    tunnel_peer_init(&eve.t, &eve.peer, srv.pub, NULL, 0, &eve) < 0)
		abort();
	tunnel_peer_set_endpoint(&cli.peer, &srv.self);
	cli.peer.can_initiate = true;
	tunnel_peer_set_endpoint(&eve.peer, &srv.self);
	eve.peer.can_initiate = true;
	if (flags & SETUP_SERVER_INITIATES) {
		tunnel_peer_set_endpoint(&srv.peer, &cli.self);
		srv.peer.can_initiate = true;
	}
}

static void
teardown(void)
{
	tunnel_peer_free(&srv.peer);
	tunnel_peer_free(&cli.peer);
	tunnel_peer_free(&eve.peer);
	tunnel_free(&srv.t);
	tunnel_free(&cli.t);
	tunnel_free(&eve.t);
}

/* Feeds one datagram to p from src, through a block of its exact size. */
static struct tunnel_peer *
receive(struct party *p, const uint8_t *buf, size_t len,
	const struct endpoint *src)
{
	struct endpoint before = p->peer.endpoint;
	bool had = p->peer.has_endpoint;
	uint8_t *copy = fuzz_dup(buf, len);
	struct tunnel_peer *r;

	receiving_from = src;
	r = tunnel_receive(&p->t, copy, len, src, now, now);
	receiving_from = NULL;
	if (!r) {
		FUZZ_CHECK(p->peer.has_endpoint == had);
		FUZZ_CHECK(memcmp(&p->peer.endpoint, &before,
				  sizeof(before)) == 0);
	} else if (p == &srv) {
		memcpy(last_accepted.buf, buf, len);
		last_accepted.len = len;
		last_accepted.src = *src;
		has_last_accepted = true;
	}
	free(copy);
	return r;
}

/* Delivers what both sides sent until the network is quiet. */
static void
pump(void)
{
	static struct datagram batch[QUEUE_MAX];
	struct party *ps[2] = { &srv, &cli };
	int rounds, k;

	for (rounds = 0; rounds < PUMP_ROUNDS && (srv.queued || cli.queued);
	     rounds++) {
		for (k = 0; k < 2; k++) {
			unsigned int i, n = ps[k]->queued;

			memcpy(batch, ps[k]->queue, n * sizeof(batch[0]));
			ps[k]->queued = 0;
			for (i = 0; i < n; i++)
				receive(ps[k], batch[i].buf, batch[i].len,
					&batch[i].src);
		}
	}
}

static void
expire(struct party *p)
{
	int i;

	for (i = 0; i < 8 && tunnel_peer_deadline(&p->peer) <= now; i++)
		tunnel_peer_expire(&p->t, &p->peer, now, now);
}

static void
advance(uint16_t centis)
{
	now += (uint64_t)centis * 10 * NS_PER_MS;
	expire(&srv);
	expire(&cli);
}

/* Hands a plaintext to p's engine, as the TUN side or the login layer
 * would; it goes out now or waits for a session. */
static void
send_plain(struct party *p, struct fuzz_in *in)
{
	const uint8_t *data;
	size_t len = fuzz_bytes(in, &data, fuzz_u16(in) % (MTU + 1));
	struct sent *s;

	if (p->n_sent == SENT_MAX)
		return;
	s = &p->sent[p->n_sent++];
	memcpy(s->data, data, len);
	s->len = len;
	(void)tunnel_send_control(&p->t, &p->peer, s->data, len, now, now);
}

/* mac1 (and mac2 with a cookie) as the other side would write them for
 * the receiver `to`. */
static void
fix_macs(struct party *to, uint8_t *buf, size_t len)
{
	enum wire_type type = wire_classify(buf, len);

	if (type == WIRE_INITIATION || type == WIRE_RESPONSE)
		cookie_maker_add_macs(&to->other->peer.cookie, buf, len, now);
}

/* Takes the newest datagram on its way to the server, changes one byte
 * and delivers it; with fix, its MACs are made right again. */
static void
mutate_queued(struct fuzz_in *in, bool fix)
{
	uint16_t off = fuzz_u16(in);
	uint8_t flip = fuzz_u8(in) | 1;
	struct datagram *d;

	if (!srv.queued)
		return;
	d = &srv.queue[--srv.queued];
	d->buf[off % d->len] ^= flip;
	if (fix)
		fix_macs(&srv, d->buf, d->len);
	receive(&srv, d->buf, d->len, &d->src);
}

/* Fuzzed bytes to p, from `src`. */
static void
raw_datagram(struct party *p, struct fuzz_in *in, const struct endpoint *src,
	     bool fix)
{
	uint8_t buf[BUF_LEN];
	const uint8_t *data;
	size_t len = fuzz_bytes(in, &data, fuzz_u16(in) % (BUF_LEN + 1));

	memcpy(buf, data, len);
	if (fix)
		fix_macs(p, buf, len);
	receive(p, buf, len, src);
}

static void
run_raw(struct fuzz_in *in, uint8_t flags)
{
	bool fix = flags & SETUP_FIX_MACS;
	struct endpoint src = cli.self;
	int n;

	if (flags & SETUP_HANDSHAKE) {
		tunnel_initiate(&cli.t, &cli.peer, now, now);
		pump();
	}
	if (flags & SETUP_SERVER_INITIATES)
		tunnel_initiate(&srv.t, &srv.peer, now, now);
	for (n = 0; n < MAX_OPS && fuzz_more(in); n++) {
		uint8_t op = fuzz_u8(in);
		struct party *p = op & 0x10 ? &srv : &cli;

		switch ((op & 0x0f) % 12) {
		case 0:
			raw_datagram(&srv, in, &src, fix);
			break;
		case 1:
			advance(fuzz_u16(in));
			break;
		case 2:
			pump();
			break;
		case 3:
			endpoint_pick(&src, fuzz_u8(in));
			break;
		case 4:
			tunnel_initiate(&p->t, &p->peer, now, now);
			break;
		case 5:
			mutate_queued(in, fix);
			break;
		case 6:
			send_plain(p, in);
			break;
		case 7:
			if (has_last_accepted)
				receive(&srv, last_accepted.buf,
					last_accepted.len, &src);
			break;
		case 8:
			tunnel_initiate(&eve.t, &eve.peer, now, now);
			break;
		case 9:
			tunnel_peer_reset(&p->peer);
			break;
		case 10:
			tunnel_peer_set_keepalive(&p->peer, now, fuzz_u8(in));
			break;
		default:
			raw_datagram(&cli, in, &srv.self, fix);
			break;
		}
	}
}

/* A datagram changed in any byte that a MAC or the AEAD covers, or sent
 * twice, must not reach the other side. */
static void
tamper_and_replay(struct fuzz_in *in, bool replay)
{
	uint16_t off = replay ? 0 : fuzz_u16(in);
	uint8_t flip = replay ? 0 : fuzz_u8(in) | 1;
	unsigned int before = srv.delivered;
	struct datagram d;
	size_t limit;

	if (replay) {
		if (!has_last_accepted)
			return;
		d = last_accepted;
	} else {
		if (!srv.queued)
			return;
		d = srv.queue[--srv.queued];
		/* mac2 is outside mac1: a changed mac2 passes without load. */
		limit = wire_mac2_offset(wire_classify(d.buf, d.len));
		if (!limit)
			limit = d.len;
		d.buf[off % limit] ^= flip;
	}
	FUZZ_CHECK(!receive(&srv, d.buf, d.len, &d.src));
	FUZZ_CHECK(srv.delivered == before);
}

static void
run_session(struct fuzz_in *in)
{
	int n;

	tunnel_initiate(&cli.t, &cli.peer, now, now);
	pump();
	FUZZ_CHECK(tunnel_peer_has_session(&cli.peer, now));
	FUZZ_CHECK(tunnel_peer_has_session(&srv.peer, now));
	for (n = 0; n < MAX_OPS && fuzz_more(in); n++) {
		uint8_t op = fuzz_u8(in);
		struct party *p = op & 0x10 ? &srv : &cli;

		switch ((op & 0x0f) % 12) {
		case 0:
			send_plain(p, in);
			pump();
			break;
		case 1:
			advance(fuzz_u16(in));
			pump();
			break;
		case 2:
			send_plain(&cli, in);
			tamper_and_replay(in, false);
			pump();
			break;
		case 3:
			tamper_and_replay(in, true);
			break;
		case 4:
			endpoint_pick(&cli.self, fuzz_u8(in));
			break;
		case 5:
			tunnel_initiate(&p->t, &p->peer, now, now);
			pump();
			break;
		case 6:
			tunnel_set_mtu(&p->t, 576 + fuzz_u16(in) % (MTU - 575));
			break;
		case 7:
			/* Held back, to arrive out of order. */
			if (srv.queued) {
				held = srv.queue[--srv.queued];
				has_held = true;
			}
			break;
		case 8:
			if (has_held)
				receive(&srv, held.buf, held.len, &held.src);
			has_held = false;
			pump();
			break;
		case 9:
			tunnel_peer_reset(&p->peer);
			break;
		case 10:
			tunnel_peer_set_keepalive(&p->peer, now, fuzz_u8(in));
			break;
		default:
			send_plain(p, in);
			break;
		}
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t flags = fuzz_u8(&in);

	if (flags & SETUP_SESSION_MODE) {
		setup((uint8_t)((flags & 1 ? SETUP_PSK : 0) |
				(flags & 2 ? SETUP_SERVER_INITIATES : 0)));
		run_session(&in);
	} else {
		setup(flags);
		run_raw(&in, flags);
	}
	teardown();
	return 0;
}
