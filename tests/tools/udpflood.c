// SPDX-License-Identifier: MIT
/*
 * udpflood: sends a bounded stream of hostile datagrams to a vpnd, for the
 * netns robustness tests (t-garbage.sh, t-cookie.sh). Each datagram is one
 * of the kinds below, picked at random: random bytes of random lengths,
 * oversized ones, headers of every type (PROTOCOL.md sections 4 and 5)
 * with wrong lengths, nonzero reserved bytes or garbage bodies, transport
 * data for random receiver indices, and - given the server's public key -
 * handshake messages with a valid mac1 (section 4.4), so they pass the
 * cheap check and cost the server a DH, a peer slot or a cookie reply.
 * With -i N, a share of them are real initiations from N identities.
 * With -s N, N more identities complete handshakes (PROTOCOL.md 4.1-4.3)
 * and send garbage inside their sessions: random plaintexts, control
 * messages of every type with random attributes (section 6), logins for
 * users nobody has, IP headers whose lengths lie; each starts a new
 * session every second, since some of that garbage is a valid DISCONNECT.
 *
 * With -S ADDR PORT it sends from that address and port, not its own (a
 * transparent socket), to play an attacker who forges a client's source:
 * the replies then go to that client. With -R PREFIX each datagram comes
 * from a random address of that IPv4 prefix instead: many sources, each
 * with a newcomer's per-source handshake budget at the server. Where the
 * prefix routes back to the flooder (a botnet's own addresses) the replies
 * reach it and are counted; elsewhere they are lost, as for any forger.
 *
 * The kind init-fresh, only when named with -K, is a real initiation from
 * a static key made for it alone: valid whole (both AEADs, a timestamp),
 * so each one costs the server a peer, and no per-key limit applies, only
 * the per-source one. With -c the flooder answers cookie replies as a
 * client would (section 4.5): it keeps the cookie and sends mac2 with the
 * init-fresh initiations that follow. With -w FILE the first of them that
 * the server answered with a response (so it recorded their timestamps)
 * are written to FILE, one hex line each, to be replayed later.
 *
 * It stops at a count (-n) or a time limit (-t), whichever comes first,
 * or at SIGTERM or SIGINT, and never sends faster than -r datagrams a
 * second. Replies (cookie replies, responses) are counted by type. It
 * prints one summary line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cookie.h"
#include "endpoint.h"
#include "index.h"
#include "keys.h"
#include "login.h"
#include "noise.h"
#include "timers.h"
#include "tstamp.h"
#include "tunnel.h"
#include "wire.h"

#define FLOOD_BATCH 32
#define FLOOD_MAX_LEN 65507 /* the largest UDP payload over IPv4 */
#define FLOOD_MAX_IDENTITIES 1024
#define FLOOD_MAX_SECONDS 600
#define FLOOD_MAX_SESSIONS 64
#define SESSION_MTU 1420
#define SESSION_RENEW_NS 1000000000ull
/* init-fresh initiations remembered for the replies they draw: a cookie
 * reply is opened with the mac1 of the message it answers, and -w writes
 * those that drew a response. */
#define FRESH_RING 1024
#define FRESH_RECORD 64 /* how many -w writes */

enum kind {
	K_RANDOM,        /* random bytes, 0..1500 */
	K_OVERSIZE,      /* beyond any buffer of the receiver */
	K_BAD_LENGTH,    /* a type's header, its length +-1..16 */
	K_TRUNCATED,     /* a type's header, cut short anywhere */
	K_RESERVED,      /* right length, a reserved byte set */
	K_INIT_GARBAGE,  /* type 1, wrong mac1 */
	K_COOKIE_REPLY,  /* type 3, random receiver index */
	K_DATA,          /* type 4, random index and counter */
	/* Only with the server's public key: */
	K_INIT_MAC1,     /* type 1, valid mac1, garbage inside */
	K_INIT_MAC2,     /* type 1, valid mac1, random mac2 */
	K_INIT_STATIC,   /* valid mac1 and static: a peer slot, bad ss */
	K_RESPONSE_MAC1, /* type 2, valid mac1, random receiver index */
	/* Only with -i: */
	K_INIT_VALID,    /* a real initiation from one of the identities */
	/* Only with -s: */
	K_SESSION,       /* garbage inside an established session */
	/* Only with -k, and only when named with -K: */
	K_INIT_FRESH,    /* a real initiation from a key never used before */
	K_COUNT,
};

static const char *const kind_names[K_COUNT] = {
	"random",    "oversize",  "bad-length",  "truncated",
	"reserved",  "init-garbage", "cookie-reply", "data",
	"init-mac1", "init-mac2", "init-static", "response-mac1",
	"init-valid", "session",   "init-fresh",
};

/* Relative frequencies: the kinds that cost us DHs or big copies are
 * rarer, so the flood keeps its rate. */
static const unsigned int kind_weights[K_COUNT] = {
	[K_RANDOM] = 8,	       [K_OVERSIZE] = 1,   [K_BAD_LENGTH] = 4,
	[K_TRUNCATED] = 4,     [K_RESERVED] = 4,   [K_INIT_GARBAGE] = 4,
	[K_COOKIE_REPLY] = 4,  [K_DATA] = 8,       [K_INIT_MAC1] = 8,
	[K_INIT_MAC2] = 4,     [K_INIT_STATIC] = 1, [K_RESPONSE_MAC1] = 4,
	[K_INIT_VALID] = 1,    [K_SESSION] = 8,   [K_INIT_FRESH] = 2,
};

/* Random bytes, copied from at a random offset: cheaper than fresh ones
 * for every datagram, and just as meaningless to the receiver. */
#define POOL_LEN (2 * FLOOD_MAX_LEN)
static uint8_t pool[POOL_LEN];

struct identity {
	struct noise_local local;
	struct noise_peer peer;
	struct cookie_maker maker;
};

/* An identity with a session at the server, to send garbage inside. */
struct session {
	struct tunnel tunnel;
	struct tunnel_peer server;
	bool is_up;
	uint64_t renewed_ns;
};

/* A recent init-fresh initiation, by its sender index. */
struct fresh_sent {
	uint32_t index;
	struct wire_initiation msg;
	bool used;
};

struct flood {
	int fd;
	struct sockaddr_storage dst;
	socklen_t dst_len;
	/* -R: sources drawn from base .. base + span - 1 (host order). */
	bool is_forging_range;
	uint32_t forge_base, forge_span;
	/* init-fresh: mac1 (and with -c, mac2) under the server's key. */
	struct cookie_maker fresh_maker;
	bool answers_cookies;
	uint32_t fresh_next_index;
	struct fresh_sent fresh_ring[FRESH_RING];
	uint64_t cookies_taken;
	FILE *record;
	unsigned int n_recorded;
	bool has_server_key;
	uint8_t server_pub[32];
	struct cookie_maker maker; /* mac1 under the server's key */
	struct protocol_times pt;
	struct noise_host host;
	struct index_table indices;
	struct tstamp_table stamps;
	struct identity *ids;
	unsigned int n_ids, next_id;
	struct session *sessions;
	unsigned int n_sessions;
	struct endpoint server_ep;
	uint64_t sessions_started, session_messages;
	unsigned int total_weight;
	unsigned int weight[K_COUNT]; /* 0: not used */
	uint64_t sent[K_COUNT];
	uint64_t send_errors;
	uint64_t received[5]; /* by type; [0]: anything else */
};

/* Set by SIGTERM and SIGINT: the flood ends and is reported as usual. */
static volatile sig_atomic_t stopping;

static void
on_stop(int signo)
{
	(void)signo;
	stopping = 1;
}

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t
rnd(uint32_t upper)
{
	return randombytes_uniform(upper);
}

static void
host_random(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	randombytes_buf(buf, len);
}

static struct noise_peer *
host_peer_by_key(void *arg, const uint8_t pub[32])
{
	(void)arg;
	(void)pub;
	return NULL; /* we never answer handshakes */
}

static size_t
type_len(enum wire_type t)
{
	switch (t) {
	case WIRE_INITIATION:
		return WIRE_INITIATION_LEN;
	case WIRE_RESPONSE:
		return WIRE_RESPONSE_LEN;
	case WIRE_COOKIE_REPLY:
		return WIRE_COOKIE_REPLY_LEN;
	default:
		return WIRE_DATA_MIN_LEN + 16 * rnd(90);
	}
}

static void
fill(uint8_t *buf, size_t len)
{
	memcpy(buf, pool + rnd(POOL_LEN - FLOOD_MAX_LEN), len);
}

static size_t
with_header(uint8_t *buf, enum wire_type t, size_t len)
{
	fill(buf, len);
	if (len >= 4)
		wire_header_set(buf, t);
	return len;
}

/* An initiation whose ephemeral and static are real, for a random static
 * key we do not hold: the receiver finds (or makes) a peer for it, then
 * fails on ss. */
static size_t
init_static(struct flood *f, uint8_t *buf)
{
	struct wire_initiation *m = (struct wire_initiation *)buf;
	struct noise_handshake hs;
	uint8_t e_priv[32], s_priv[32], claimed_pub[32], ss[32];
	uint8_t stamp[TAI64N_LEN];
	size_t len = WIRE_INITIATION_LEN;

	/* We claim claimed_pub but hold no key for it: ss is random. */
	crypto_box_keypair(claimed_pub, s_priv);
	randombytes_buf(e_priv, sizeof(e_priv));
	randombytes_buf(ss, sizeof(ss));
	randombytes_buf(stamp, sizeof(stamp));
	noise_handshake_start(&hs, (const uint8_t *)NOISE_IDENTIFIER,
			      NOISE_IDENTIFIER_LEN, f->server_pub);
	if (!noise_msg1_write(&hs, e_priv, s_priv, claimed_pub, f->server_pub,
			      ss, stamp, sizeof(stamp), m->ephemeral))
		randombytes_buf(buf, len);
	wire_header_set(m->header, WIRE_INITIATION);
	randombytes_buf(m->sender_index, sizeof(m->sender_index));
	cookie_maker_add_macs(&f->maker, buf, len, 0);
	sodium_memzero(&hs, sizeof(hs));
	sodium_memzero(e_priv, sizeof(e_priv));
	sodium_memzero(s_priv, sizeof(s_priv));
	return len;
}

static size_t
init_valid(struct flood *f, uint8_t *buf)
{
	struct identity *id = &f->ids[f->next_id];
	uint64_t now = clock_ns(CLOCK_MONOTONIC);

	f->next_id = (f->next_id + 1) % f->n_ids;
	if (noise_initiation_create(&id->peer, now, clock_ns(CLOCK_REALTIME),
				    (struct wire_initiation *)buf) !=
	    NOISE_HS_OK)
		return with_header(buf, WIRE_INITIATION, WIRE_INITIATION_LEN);
	cookie_maker_add_macs(&id->maker, buf, WIRE_INITIATION_LEN, now);
	return WIRE_INITIATION_LEN;
}

/*
 * A real initiation (section 4.1) from a static key drawn for it alone,
 * with the time as its TAI64N stamp: it passes every check of the server,
 * which then spends a peer on it. Its sender index counts up, so a reply
 * finds the initiation it answers in fresh_ring.
 */
static size_t
init_fresh(struct flood *f, uint8_t *buf)
{
	struct wire_initiation *m = (struct wire_initiation *)buf;
	struct noise_handshake hs;
	struct fresh_sent *sent;
	uint8_t e_priv[32], s_priv[32], s_pub[32], stamp[TAI64N_LEN];
	uint32_t index = f->fresh_next_index++;
	size_t len = WIRE_INITIATION_LEN;

	crypto_box_keypair(s_pub, s_priv);
	randombytes_buf(e_priv, sizeof(e_priv));
	tai64n_encode(stamp, clock_ns(CLOCK_REALTIME));
	noise_handshake_start(&hs, (const uint8_t *)NOISE_IDENTIFIER,
			      NOISE_IDENTIFIER_LEN, f->server_pub);
	if (!noise_msg1_write(&hs, e_priv, s_priv, s_pub, f->server_pub, NULL,
			      stamp, sizeof(stamp), m->ephemeral))
		randombytes_buf(buf, len);
	wire_header_set(m->header, WIRE_INITIATION);
	wire_put_le32(m->sender_index, index);
	cookie_maker_add_macs(&f->fresh_maker, buf, len,
			      clock_ns(CLOCK_MONOTONIC));
	sent = &f->fresh_ring[index % FRESH_RING];
	sent->index = index;
	memcpy(&sent->msg, m, sizeof(sent->msg));
	sent->used = true;
	sodium_memzero(&hs, sizeof(hs));
	sodium_memzero(e_priv, sizeof(e_priv));
	sodium_memzero(s_priv, sizeof(s_priv));
	return len;
}

/* The init-fresh initiation a reply names by its receiver index. */
static struct fresh_sent *
fresh_find(struct flood *f, const uint8_t receiver_index[4])
{
	uint32_t index = wire_get_le32(receiver_index);
	struct fresh_sent *sent = &f->fresh_ring[index % FRESH_RING];

	return sent->used && sent->index == index ? sent : NULL;
}

/* -c: the cookie from a reply to one of our init-fresh initiations. */
static void
fresh_take_cookie(struct flood *f, const uint8_t *buf, size_t len)
{
	const struct wire_cookie_reply *r;
	struct fresh_sent *sent;

	r = (const struct wire_cookie_reply *)buf;
	if (len != WIRE_COOKIE_REPLY_LEN ||
	    !(sent = fresh_find(f, r->receiver_index)))
		return;
	memcpy(f->fresh_maker.last_mac1, sent->msg.mac1, WIRE_MAC_LEN);
	f->fresh_maker.has_last_mac1 = true;
	if (cookie_maker_consume_reply(&f->fresh_maker, r,
				       clock_ns(CLOCK_MONOTONIC)))
		f->cookies_taken++;
	sent->used = false;
}

/* -w: an init-fresh initiation the server answered, as a hex line. */
static void
fresh_record_answered(struct flood *f, const uint8_t *buf, size_t len)
{
	const struct wire_response *r = (const struct wire_response *)buf;
	const uint8_t *msg;
	struct fresh_sent *sent;
	size_t i;

	if (len != WIRE_RESPONSE_LEN || f->n_recorded >= FRESH_RECORD ||
	    !(sent = fresh_find(f, r->receiver_index)))
		return;
	msg = (const uint8_t *)&sent->msg;
	for (i = 0; i < sizeof(sent->msg); i++)
		fprintf(f->record, "%02x", msg[i]);
	fputc('\n', f->record);
	fflush(f->record); /* whole lines, however it ends */
	f->n_recorded++;
	sent->used = false;
}

/* ---- garbage inside sessions ------------------------------------------- */

static const uint8_t attr_types[] = {
	LOGIN_ATTR_REQUEST_ID, LOGIN_ATTR_USERNAME,     LOGIN_ATTR_PASSWORD,
	LOGIN_ATTR_TOTP,       LOGIN_ATTR_CLIENT_INFO,  LOGIN_ATTR_STATUS,
	LOGIN_ATTR_MESSAGE,    LOGIN_ATTR_ADDRESS4,     LOGIN_ATTR_ROUTE6,
	LOGIN_ATTR_MTU,        LOGIN_ATTR_REASON,       LOGIN_ATTR_LOGOUT,
};

/* A control message (section 6) with random attributes, lengths that
 * mostly fit, and a body_len that sometimes lies. */
static size_t
fuzz_control(uint8_t *p, size_t cap)
{
	size_t len = LOGIN_HEADER_LEN, body;
	unsigned int n = rnd(8), i;

	p[0] = (uint8_t)(rnd(4) ? 1 + rnd(5) : rnd(16));
	p[1] = (uint8_t)(rnd(8) ? 0 : 1 + rnd(255));
	for (i = 0; i < n && len + 2 + 255 <= cap; i++) {
		uint8_t type = rnd(8) ? attr_types[rnd(sizeof(attr_types))]
				      : (uint8_t)rnd(256);
		uint8_t alen = (uint8_t)(rnd(2) ? rnd(9) : rnd(256));

		if (type == LOGIN_ATTR_REQUEST_ID && rnd(2))
			alen = 4;
		p[len] = type;
		p[len + 1] = alen;
		fill(p + len + 2, alen);
		if (type == LOGIN_ATTR_TOTP)
			memset(p + len + 2, '0' + (int)rnd(10), alen);
		len += 2u + alen;
	}
	body = len - LOGIN_HEADER_LEN;
	if (!rnd(4))
		body = rnd(2) ? body + 1 + rnd(64) : rnd(0x10000);
	p[2] = (uint8_t)body;
	p[3] = (uint8_t)(body >> 8);
	if (rnd(2) && len < cap) {
		size_t pad = rnd((uint32_t)(cap - len < 64 ? cap - len : 64));

		fill(p + len, pad);
		len += pad;
	}
	return len;
}

/* An IPv4 or IPv6 header whose length fields lie, or do not. */
static size_t
fuzz_ip(uint8_t *p, size_t cap)
{
	bool v6 = rnd(2);
	size_t min = v6 ? 40 : 20, len = min + rnd((uint32_t)(cap - min + 1));
	size_t claimed = rnd(2) ? len : rnd(0x10000);

	fill(p, len);
	if (v6) {
		p[0] = (uint8_t)(0x60 | rnd(16));
		claimed = claimed >= 40 ? claimed - 40 : claimed;
		p[4] = (uint8_t)(claimed >> 8);
		p[5] = (uint8_t)claimed;
	} else {
		p[0] = (uint8_t)(0x45 + rnd(11));
		p[2] = (uint8_t)(claimed >> 8);
		p[3] = (uint8_t)claimed;
		/* Sometimes from the pool, as a client would be. */
		if (rnd(2))
			memcpy(p + 12, (const uint8_t[]){ 10, 99, 0, 2 }, 4);
	}
	return len;
}

/* A well-formed AUTH_REQUEST or RESUME, for a user name nobody has: the
 * login path with its worker jobs, failure delay, BUSY and lockout. */
static size_t
fuzz_login(uint8_t *p, size_t cap)
{
	struct login_writer w;
	char user[17], code[7];
	uint8_t password[24];
	unsigned int i;

	for (i = 0; i < sizeof(user) - 1; i++)
		user[i] = (char)('a' + rnd(26));
	user[sizeof(user) - 1] = '\0';
	for (i = 0; i < sizeof(code) - 1; i++)
		code[i] = (char)('0' + rnd(10));
	code[sizeof(code) - 1] = '\0';
	fill(password, sizeof(password));
	login_writer_init(&w, p, cap, rnd(2) ? LOGIN_AUTH_REQUEST
					     : LOGIN_RESUME);
	login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, (uint32_t)rnd(UINT32_MAX));
	login_put_text(&w, LOGIN_ATTR_USERNAME, user);
	login_put(&w, LOGIN_ATTR_PASSWORD, password, sizeof(password));
	login_put_text(&w, LOGIN_ATTR_TOTP, code);
	return login_writer_finish(&w);
}

static size_t
fuzz_plain(uint8_t *p, size_t cap)
{
	switch (rnd(16)) {
	case 0:
		return 0;
	case 1:
		return fuzz_login(p, cap);
	case 2:
	case 3:
	case 4:
	case 5: {
		size_t len = rnd((uint32_t)cap + 1);

		fill(p, len);
		return len;
	}
	case 6:
	case 7:
	case 8:
	case 9:
	case 10:
		return fuzz_control(p, cap);
	default:
		return fuzz_ip(p, cap);
	}
}

static void
session_op_send(void *arg, const struct endpoint *ep, const uint8_t *buf,
		size_t len)
{
	struct flood *f = arg;

	if (sendto(f->fd, buf, len, 0, &ep->addr.sa, endpoint_socklen(ep)) < 0)
		f->send_errors++;
}

static struct tunnel_peer *
session_op_peer_by_key(void *arg, const uint8_t pub[32])
{
	(void)arg;
	(void)pub;
	return NULL;
}

static void
session_op_deliver(void *arg, struct tunnel_peer *p, enum wire_payload kind,
		   uint8_t *pkt, size_t len)
{
	struct flood *f = arg;

	(void)p;
	(void)kind;
	(void)pkt;
	(void)len;
	f->session_messages++;
}

static void
session_op_started(void *arg, struct tunnel_peer *p)
{
	struct flood *f = arg;

	((struct session *)p->arg)->is_up = true;
	f->sessions_started++;
}

static const struct tunnel_ops session_ops = {
	.random = host_random,
	.send = session_op_send,
	.peer_by_key = session_op_peer_by_key,
	.deliver = session_op_deliver,
	.session_started = session_op_started,
};

static int
sessions_init(struct flood *f, unsigned int n)
{
	uint8_t priv[32];
	unsigned int i;
	int ret = 0;

	memcpy(&f->server_ep.addr, &f->dst, f->dst_len);
	f->sessions = calloc(n, sizeof(*f->sessions));
	if (!f->sessions)
		return -ENOMEM;
	for (i = 0; i < n && !ret; i++) {
		struct session *s = &f->sessions[i];

		randombytes_buf(priv, sizeof(priv));
		keys_clamp(priv);
		ret = tunnel_init(&s->tunnel, &session_ops, f, &f->pt, priv, 1,
				  SESSION_MTU, 0);
		if (ret < 0)
			break;
		ret = tunnel_peer_init(&s->tunnel, &s->server, f->server_pub,
				       NULL, 0, s);
		if (ret < 0) {
			tunnel_free(&s->tunnel);
			break;
		}
		f->n_sessions++;
	}
	sodium_memzero(priv, sizeof(priv));
	return ret;
}

static void
sessions_free(struct flood *f)
{
	unsigned int i;

	for (i = 0; i < f->n_sessions; i++) {
		tunnel_peer_free(&f->sessions[i].server);
		tunnel_free(&f->sessions[i].tunnel);
	}
	free(f->sessions);
}

/* A new session every SESSION_RENEW_NS: the server may have dropped the
 * last one (a DISCONNECT among the garbage, an evicted peer). */
static void
sessions_renew(struct flood *f, uint64_t now)
{
	uint64_t wall = clock_ns(CLOCK_REALTIME);
	unsigned int i;

	for (i = 0; i < f->n_sessions; i++) {
		struct session *s = &f->sessions[i];

		if (s->renewed_ns && now - s->renewed_ns < SESSION_RENEW_NS)
			continue;
		s->is_up = false;
		s->renewed_ns = now;
		tunnel_peer_reset(&s->server);
		tunnel_peer_set_endpoint(&s->server, &f->server_ep);
		s->server.can_initiate = true;
		tunnel_initiate(&s->tunnel, &s->server, now, wall);
	}
}

static void
sessions_receive(struct flood *f, uint8_t *buf, size_t len,
		 const struct sockaddr_storage *from, socklen_t from_len)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC), wall = clock_ns(CLOCK_REALTIME);
	struct endpoint src;
	unsigned int i;

	memset(&src, 0, sizeof(src));
	memcpy(&src.addr, from, from_len < sizeof(src.addr) ? from_len
							    : sizeof(src.addr));
	/* Only the session it is for takes it; the others drop it early
	 * (unknown index, or mac1 under another key). */
	for (i = 0; i < f->n_sessions; i++)
		if (tunnel_receive(&f->sessions[i].tunnel, buf, len, &src, now,
				   wall))
			break;
}

static size_t
session_garbage(struct flood *f, uint8_t *buf)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	struct session *s;
	size_t plain, len;

	if (!f->n_sessions)
		return 0;
	s = &f->sessions[rnd(f->n_sessions)];
	if (!s->is_up)
		return 0;
	plain = fuzz_plain(buf + WIRE_DATA_HEADER_LEN, SESSION_MTU);
	if (tunnel_encrypt(&s->tunnel, &s->server, buf, plain, now,
			   clock_ns(CLOCK_REALTIME), &len) != TUNNEL_TX_SEND)
		return 0;
	return len;
}

/* Writes one datagram of kind k into buf; returns its length. */
static size_t
make(struct flood *f, enum kind k, uint8_t *buf)
{
	enum wire_type t = (enum wire_type)(1 + rnd(4));
	size_t len;

	switch (k) {
	case K_RANDOM:
		len = rnd(1501);
		fill(buf, len);
		return len;
	case K_OVERSIZE:
		len = rnd(16) ? 1501 + rnd(9000 - 1500) : FLOOD_MAX_LEN;
		return with_header(buf, (enum wire_type)(1 + rnd(4)), len);
	case K_BAD_LENGTH:
		len = type_len(t);
		if (t == WIRE_DATA)
			len = rnd(WIRE_DATA_MIN_LEN);
		else if (rnd(2))
			len += 1 + rnd(16);
		else
			len -= 1 + rnd(16);
		return with_header(buf, t, len);
	case K_TRUNCATED:
		return with_header(buf, t, rnd((uint32_t)type_len(t)));
	case K_RESERVED:
		len = with_header(buf, t, type_len(t));
		buf[1 + rnd(3)] = (uint8_t)(1 + rnd(255));
		if (f->has_server_key)
			cookie_maker_add_macs(&f->maker, buf, len, 0);
		return len;
	case K_INIT_GARBAGE:
		return with_header(buf, WIRE_INITIATION, WIRE_INITIATION_LEN);
	case K_COOKIE_REPLY:
		return with_header(buf, WIRE_COOKIE_REPLY,
				   WIRE_COOKIE_REPLY_LEN);
	case K_DATA:
		return with_header(buf, WIRE_DATA, type_len(WIRE_DATA));
	case K_INIT_MAC1:
	case K_INIT_MAC2:
		len = with_header(buf, WIRE_INITIATION, WIRE_INITIATION_LEN);
		cookie_maker_add_macs(&f->maker, buf, len, 0);
		if (k == K_INIT_MAC2)
			randombytes_buf(buf + wire_mac2_offset(WIRE_INITIATION),
					WIRE_MAC_LEN);
		return len;
	case K_INIT_STATIC:
		return init_static(f, buf);
	case K_RESPONSE_MAC1:
		len = with_header(buf, WIRE_RESPONSE, WIRE_RESPONSE_LEN);
		cookie_maker_add_macs(&f->maker, buf, len, 0);
		return len;
	case K_INIT_VALID:
		return init_valid(f, buf);
	case K_SESSION:
		len = session_garbage(f, buf);
		/* No session up yet: something else meanwhile. */
		return len ? len : make(f, K_DATA, buf);
	case K_INIT_FRESH:
		return init_fresh(f, buf);
	default:
		return 0;
	}
}

static void
drain_replies(struct flood *f, uint8_t *buf)
{
	int i;

	/* Bounded: what arrived since the last batch, at most 256. */
	for (i = 0; i < 256; i++) {
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		ssize_t n = recvfrom(f->fd, buf, FLOOD_MAX_LEN, MSG_DONTWAIT,
				     (struct sockaddr *)&from, &from_len);
		uint32_t type;

		if (n < 0)
			break;
		type = n >= 4 ? wire_get_le32(buf) : 0;
		f->received[type >= 1 && type <= 4 ? type : 0]++;
		if (type == WIRE_COOKIE_REPLY && f->answers_cookies)
			fresh_take_cookie(f, buf, (size_t)n);
		if (type == WIRE_RESPONSE && f->record)
			fresh_record_answered(f, buf, (size_t)n);
		if (f->n_sessions)
			sessions_receive(f, buf, (size_t)n, &from, from_len);
	}
}

static int
identities_init(struct flood *f, unsigned int n)
{
	uint8_t priv[32];
	unsigned int i;
	int ret;

	f->host.random = host_random;
	f->host.peer_by_key = host_peer_by_key;
	ret = index_table_init(&f->indices, 4 * n);
	if (!ret) {
		randombytes_buf(priv, 16);
		ret = tstamp_table_init(&f->stamps, 8, priv);
	}
	if (ret < 0)
		return ret;
	f->ids = calloc(n, sizeof(*f->ids));
	if (!f->ids)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct identity *id = &f->ids[i];

		noise_local_init(&id->local, &f->host, &f->pt, &f->indices,
				 &f->stamps);
		randombytes_buf(priv, sizeof(priv));
		keys_clamp(priv);
		if (!noise_local_set_private(&id->local, priv) ||
		    !noise_peer_init(&id->peer, &id->local, f->server_pub, NULL,
				     id)) {
			ret = -EINVAL;
			break;
		}
		cookie_maker_init(&id->maker, f->server_pub, &f->pt);
		f->n_ids++;
	}
	sodium_memzero(priv, sizeof(priv));
	return ret;
}

static void
identities_free(struct flood *f)
{
	unsigned int i;

	for (i = 0; i < f->n_ids; i++) {
		noise_peer_wipe(&f->ids[i].peer);
		noise_local_wipe(&f->ids[i].local);
	}
	free(f->ids);
	if (f->indices.slots)
		index_table_free(&f->indices);
	if (f->stamps.slots)
		tstamp_table_free(&f->stamps);
}

static int
parse_address(struct sockaddr_storage *ss, socklen_t *len, const char *addr,
	      const char *port_text)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char *end;
	long port = strtol(port_text, &end, 10);

	if (*end || port < 1 || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
	} else {
		return -EINVAL;
	}
	return 0;
}

/* Sends from `src`, an address that need not be ours. */
static int
bind_forged(int fd, const struct sockaddr_storage *src, socklen_t len)
{
	int one = 1, ret;

	if (src->ss_family == AF_INET6)
		ret = setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one,
				 sizeof(one));
	else
		ret = setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one));
	if (!ret)
		ret = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				 sizeof(one));
	if (!ret)
		ret = bind(fd, (const struct sockaddr *)src, len);
	return ret < 0 ? -errno : 0;
}

/* -R: parses an IPv4 prefix, a.b.c.d/len with len 8..32. */
static int
parse_range(struct flood *f, const char *text)
{
	char addr[INET_ADDRSTRLEN], *end;
	const char *slash = strchr(text, '/');
	struct in_addr a;
	long len;

	if (!slash || (size_t)(slash - text) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, text, (size_t)(slash - text));
	addr[slash - text] = '\0';
	len = strtol(slash + 1, &end, 10);
	if (*end || slash[1] == '\0' || len < 8 || len > 32 ||
	    inet_pton(AF_INET, addr, &a) != 1)
		return -EINVAL;
	f->forge_span = len == 32 ? 1 : 1u << (32 - len);
	f->forge_base = ntohl(a.s_addr) & ~(f->forge_span - 1);
	f->is_forging_range = true;
	return 0;
}

/* -R: sends with any source address, chosen per datagram (IP_PKTINFO). */
static int
forge_range_setup(int fd)
{
	int one = 1;

	if (setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

/* A random address of the -R prefix, not its first or last when it has
 * more than two (they look like a network and a broadcast address). */
static void
forge_source(const struct flood *f, struct in_pktinfo *pi)
{
	uint32_t host = f->forge_span > 2 ? 1 + rnd(f->forge_span - 2)
					  : rnd(f->forge_span);

	memset(pi, 0, sizeof(*pi));
	pi->ipi_spec_dst.s_addr = htonl(f->forge_base + host);
}

static bool
listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (p && *p) {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || !p[n]))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

/* Chooses the kinds from a comma-separated list, or all that apply. */
static int
choose_kinds(struct flood *f, const char *list)
{
	unsigned int k;

	f->total_weight = 0;
	for (k = 0; k < K_COUNT; k++) {
		bool usable = (k < K_INIT_MAC1 || f->has_server_key) &&
			      (k != K_INIT_VALID || f->n_ids) &&
			      (k != K_SESSION || f->n_sessions);

		if (list && !listed(list, kind_names[k]))
			continue;
		/* Opt-in, so that the default mix stays what it was. */
		if (!list && k == K_INIT_FRESH)
			continue;
		if (!usable) {
			if (list)
				return -EINVAL;
			continue;
		}
		f->weight[k] = kind_weights[k];
		f->total_weight += kind_weights[k];
	}
	return f->total_weight ? 0 : -EINVAL;
}

static enum kind
pick(const struct flood *f)
{
	unsigned int r = rnd(f->total_weight), k;

	for (k = 0; k + 1 < K_COUNT; k++) {
		if (r < f->weight[k])
			break;
		r -= f->weight[k];
	}
	return (enum kind)k;
}

static void
usage(FILE *out)
{
	unsigned int k;

	fprintf(out,
		"usage: udpflood [-n COUNT] [-t SECONDS] [-r PER_SECOND] "
		"[-k SERVER_PUBKEY]\n"
		"                [-i IDENTITIES] [-s SESSIONS] [-S ADDR PORT | "
		"-R PREFIX]\n"
		"                [-c] [-w FILE] [-K KIND,...] ADDRESS PORT\n"
		"  -n  datagrams to send (default 10000, at most 10^8)\n"
		"  -t  seconds to run at most (default 10, at most %d)\n"
		"  -r  datagrams a second at most (default 0: no limit)\n"
		"  -k  the server's public key: handshakes with a valid mac1\n"
		"  -i  real initiations from this many identities (needs -k)\n"
		"  -s  garbage inside sessions of this many identities "
		"(needs -k)\n"
		"  -S  ADDR PORT: send from there (forged; needs root)\n"
		"  -R  an IPv4 prefix: each datagram from a random address "
		"in it\n"
		"      (forged; needs root)\n"
		"  -c  answer cookie replies: init-fresh then carries mac2\n"
		"  -w  write the first %d init-fresh initiations answered "
		"with a\n"
		"      response to FILE (hex lines)\n"
		"  -K  only these kinds (init-fresh only when named):",
		FLOOD_MAX_SECONDS, FRESH_RECORD);
	for (k = 0; k < K_COUNT; k++)
		fprintf(out, " %s", kind_names[k]);
	fputc('\n', out);
}

static void
report(const struct flood *f, uint64_t done, uint64_t elapsed_ns)
{
	unsigned int k;

	printf("udpflood: %llu datagrams in %.1f s, %llu not sent;",
	       (unsigned long long)done, (double)elapsed_ns / 1e9,
	       (unsigned long long)f->send_errors);
	for (k = 0; k < K_COUNT; k++)
		if (f->sent[k])
			printf(" %s=%llu", kind_names[k],
			       (unsigned long long)f->sent[k]);
	printf("; replies: type1=%llu type2=%llu type3=%llu type4=%llu "
	       "other=%llu",
	       (unsigned long long)f->received[1],
	       (unsigned long long)f->received[2],
	       (unsigned long long)f->received[3],
	       (unsigned long long)f->received[4],
	       (unsigned long long)f->received[0]);
	if (f->n_sessions)
		printf("; sessions started=%llu messages=%llu",
		       (unsigned long long)f->sessions_started,
		       (unsigned long long)f->session_messages);
	if (f->answers_cookies)
		printf("; cookies taken=%llu",
		       (unsigned long long)f->cookies_taken);
	putchar('\n');
}

/* -R: this datagram's source, as an IP_PKTINFO control message. */
static void
forge_attach(const struct flood *f, struct msghdr *h, char *buf, size_t len)
{
	struct cmsghdr *c;

	memset(buf, 0, len);
	h->msg_control = buf;
	h->msg_controllen = len;
	c = CMSG_FIRSTHDR(h);
	c->cmsg_level = SOL_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
	forge_source(f, (struct in_pktinfo *)CMSG_DATA(c));
}

/* Sends until the count or the deadline; paces to `rate` if nonzero. */
static void
run(struct flood *f, uint8_t *bufs, uint64_t count, uint64_t limit_ns,
    uint64_t rate)
{
	struct mmsghdr msgs[FLOOD_BATCH];
	struct iovec iov[FLOOD_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} ctl[FLOOD_BATCH];
	uint64_t start = clock_ns(CLOCK_MONOTONIC), done = 0, now = start;
	uint8_t *rx = bufs + (size_t)FLOOD_BATCH * FLOOD_MAX_LEN;

	while (done < count && now - start < limit_ns && !stopping) {
		unsigned int n = FLOOD_BATCH, i;
		int r;

		if (count - done < n)
			n = (unsigned int)(count - done);
		if (rate) {
			uint64_t due = start + done * 1000000000ull / rate;

			if (due > now) {
				struct timespec ts = {
					.tv_sec = (time_t)((due - now) /
							   1000000000ull),
					.tv_nsec = (long)((due - now) %
							  1000000000ull),
				};

				nanosleep(&ts, NULL);
			}
		}
		memset(msgs, 0, sizeof(msgs));
		for (i = 0; i < n; i++) {
			enum kind k = pick(f);
			uint8_t *buf = bufs + (size_t)i * FLOOD_MAX_LEN;

			iov[i].iov_base = buf;
			iov[i].iov_len = make(f, k, buf);
			msgs[i].msg_hdr.msg_name = &f->dst;
			msgs[i].msg_hdr.msg_namelen = f->dst_len;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			if (f->is_forging_range)
				forge_attach(f, &msgs[i].msg_hdr, ctl[i].buf,
					     sizeof(ctl[i].buf));
			f->sent[k]++;
		}
		r = sendmmsg(f->fd, msgs, n, 0);
		if (r < (int)n) {
			/* Counted, not retried: a flood may lose some. */
			f->send_errors += n - (unsigned int)(r > 0 ? r : 0);
			if (r < 0 && errno != ENOBUFS && errno != EAGAIN &&
			    errno != EMSGSIZE && errno != ECONNREFUSED &&
			    errno != EINTR)
				fprintf(stderr, "udpflood: send: %s\n",
					strerror(errno));
		}
		done += n;
		drain_replies(f, rx);
		now = clock_ns(CLOCK_MONOTONIC);
		if (f->n_sessions)
			sessions_renew(f, now);
	}
	report(f, done, now - start);
}

int
main(int argc, char *argv[])
{
	static struct flood f;
	const char *key = NULL, *kinds = NULL, *forged = NULL, *range = NULL;
	const char *record = NULL;
	struct sockaddr_storage src;
	socklen_t src_len = 0;
	unsigned long long count = 10000, seconds = 10, rate = 0, ids = 0;
	unsigned long long sessions = 0;
	uint8_t *bufs = NULL;
	int c, status = 1;

	if (sodium_init() < 0)
		return 1;
	while ((c = getopt(argc, argv, "n:t:r:k:i:s:S:R:cw:K:h")) != -1) {
		switch (c) {
		case 'n':
			count = strtoull(optarg, NULL, 10);
			break;
		case 't':
			seconds = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			rate = strtoull(optarg, NULL, 10);
			break;
		case 'k':
			key = optarg;
			break;
		case 'i':
			ids = strtoull(optarg, NULL, 10);
			break;
		case 's':
			sessions = strtoull(optarg, NULL, 10);
			break;
		case 'S':
			forged = optarg;
			break;
		case 'R':
			range = optarg;
			break;
		case 'c':
			f.answers_cookies = true;
			break;
		case 'w':
			record = optarg;
			break;
		case 'K':
			kinds = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	/* -S takes two words: its port is the first operand left. */
	if (forged) {
		if (argc - optind != 3 ||
		    parse_address(&src, &src_len, forged, argv[optind]) < 0) {
			usage(stderr);
			return 2;
		}
		optind++;
	}
	if (argc - optind != 2 || count > 100000000ull || seconds < 1 ||
	    seconds > FLOOD_MAX_SECONDS || ids > FLOOD_MAX_IDENTITIES ||
	    sessions > FLOOD_MAX_SESSIONS || ((ids || sessions) && !key) ||
	    (range && (forged || parse_range(&f, range) < 0)) ||
	    ((f.answers_cookies || record) && !key)) {
		usage(stderr);
		return 2;
	}
	f.fd = -1;
	randombytes_buf(pool, sizeof(pool));
	protocol_times_default(&f.pt);
	if (parse_address(&f.dst, &f.dst_len, argv[optind],
			  argv[optind + 1]) < 0) {
		fprintf(stderr, "udpflood: bad address or port\n");
		return 2;
	}
	if (key) {
		if (!keys_from_base64(f.server_pub, key, strlen(key))) {
			fprintf(stderr, "udpflood: bad public key\n");
			return 2;
		}
		f.has_server_key = true;
		cookie_maker_init(&f.maker, f.server_pub, &f.pt);
		cookie_maker_init(&f.fresh_maker, f.server_pub, &f.pt);
	}
	if (record && !(f.record = fopen(record, "we"))) {
		fprintf(stderr, "udpflood: %s: %s\n", record, strerror(errno));
		return 1;
	}
	if (ids && identities_init(&f, (unsigned int)ids) < 0) {
		fprintf(stderr, "udpflood: cannot make identities\n");
		goto out;
	}
	if (sessions && sessions_init(&f, (unsigned int)sessions) < 0) {
		fprintf(stderr, "udpflood: cannot make sessions\n");
		goto out;
	}
	if (choose_kinds(&f, kinds) < 0) {
		fprintf(stderr, "udpflood: no usable kind (some need -k or "
				"-i)\n");
		status = 2;
		goto out;
	}
	bufs = malloc((size_t)(FLOOD_BATCH + 1) * FLOOD_MAX_LEN);
	f.fd = socket(f.dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (!bufs || f.fd < 0) {
		perror("udpflood");
		goto out;
	}
	if (forged && (src.ss_family != f.dst.ss_family ||
		       bind_forged(f.fd, &src, src_len) < 0)) {
		fprintf(stderr, "udpflood: cannot send from %s\n", forged);
		goto out;
	}
	if (range &&
	    (f.dst.ss_family != AF_INET || forge_range_setup(f.fd) < 0)) {
		fprintf(stderr, "udpflood: cannot send from %s\n", range);
		goto out;
	}
	if (f.n_sessions)
		sessions_renew(&f, clock_ns(CLOCK_MONOTONIC));
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	run(&f, bufs, count, seconds * 1000000000ull, rate);
	status = 0;
out:
	if (f.fd >= 0)
		close(f.fd);
	free(bufs);
	identities_free(&f);
	sessions_free(&f);
	cookie_maker_wipe(&f.maker);
	cookie_maker_wipe(&f.fresh_maker);
	if (f.record && fclose(f.record) != 0) {
		fprintf(stderr, "udpflood: %s: %s\n", record, strerror(errno));
		status = 1;
	}
	return status;
}
