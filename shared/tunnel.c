// SPDX-License-Identifier: MIT
/*
 * The per-peer protocol engine (see tunnel.h), after WireGuard's send.c,
 * receive.c and timers.c. Every datagram is checked in the order the
 * protocol requires: length and header, then mac1 before any DH, then the
 * cookie rule under load, then Noise; transport data is authenticated
 * before the replay window or the peer's endpoint moves.
 */
#include "tunnel.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cryptopool.h"

#define PEER_OF(np) ((struct tunnel_peer *)(np)->arg)
/* Keys without a peer whose greatest timestamps are remembered. */
#define TUNNEL_STRANGERS 4096u

/* ---- set-up ------------------------------------------------------------- */

static void
noise_random(void *arg, uint8_t *buf, size_t len)
{
	struct tunnel *t = arg;

	t->ops->random(t->arg, buf, len);
}

static struct noise_peer *
noise_peer_by_key(void *arg, const uint8_t pub[32])
{
	struct tunnel *t = arg;
	struct tunnel_peer *p = t->ops->peer_by_key(t->arg, pub);

	return p ? &p->noise : NULL;
}

static struct noise_peer *
noise_peer_create(void *arg, const uint8_t pub[32], const uint8_t ss[32])
{
	struct tunnel *t = arg;
	struct tunnel_peer *p = t->ops->peer_create(t->arg, pub, ss);

	if (!p)
		t->stats.peers_refused++;
	return p ? &p->noise : NULL;
}

int
tunnel_init(struct tunnel *t, const struct tunnel_ops *ops, void *arg,
	    const struct protocol_times *pt, const uint8_t priv[32],
	    uint32_t max_peers, size_t mtu, uint32_t handshake_rate)
{
	uint8_t hash_key[TSTAMP_HASH_KEY_LEN];
	int ret;

	memset(t, 0, sizeof(*t));
	t->ops = ops;
	t->arg = arg;
	t->pt = *pt;
	t->mtu = mtu;
	t->max_mtu = mtu;
	t->handshake_rate = handshake_rate;
	t->load_tokens = handshake_rate;
	t->noise_host.arg = t;
	t->noise_host.random = noise_random;
	t->noise_host.peer_by_key = noise_peer_by_key;
	if (ops->peer_create)
		t->noise_host.peer_create = noise_peer_create;

	/* A peer holds at most a handshake and three keypairs. */
	ret = index_table_init(&t->indices, max_peers * 4);
	if (ret < 0)
		return ret;
	ops->random(arg, hash_key, sizeof(hash_key));
	/* The bounded tier serves only keys the host keeps no state for. */
	ret = tstamp_table_init(&t->stamps, max_peers < TUNNEL_STRANGERS / 4
						    ? max_peers * 4
						    : TUNNEL_STRANGERS,
				hash_key);
	if (ret < 0)
		goto err_indices;
	t->scratch = malloc(TUNNEL_BUF_LEN(mtu));
	if (!t->scratch) {
		ret = -ENOMEM;
		goto err_stamps;
	}
	noise_local_init(&t->local, &t->noise_host, &t->pt, &t->indices,
			 &t->stamps);
	if (!noise_local_set_private(&t->local, priv)) {
		ret = -EINVAL;
		goto err_scratch;
	}
	cookie_checker_init(&t->checker, t->local.static_public, &t->pt,
			    ops->random, arg);
	return 0;
err_scratch:
	free(t->scratch);
err_stamps:
	tstamp_table_free(&t->stamps);
err_indices:
	index_table_free(&t->indices);
	return ret;
}

void
tunnel_set_mtu(struct tunnel *t, size_t mtu)
{
	t->mtu = mtu < t->max_mtu ? mtu : t->max_mtu;
}

size_t
tunnel_mtu_for_path(unsigned int path_mtu, int family)
{
	size_t overhead = TUNNEL_OVERHEAD(family);

	if (path_mtu < TUNNEL_MTU_MIN + overhead)
		return TUNNEL_MTU_MIN;
	if (path_mtu > TUNNEL_MTU_MAX + overhead)
		return TUNNEL_MTU_MAX;
	return path_mtu - overhead;
}

int
tunnel_set_source_limit(struct tunnel *t, uint32_t rate, uint32_t burst,
			uint32_t sources)
{
	uint8_t hash_key[RATELIMIT_HASH_KEY_LEN];
	int ret;

	if (t->has_source_limit)
		ratelimit_free(&t->source_limit);
	t->has_source_limit = false;
	t->ops->random(t->arg, hash_key, sizeof(hash_key));
	ret = ratelimit_init(&t->source_limit, rate, burst, sources, hash_key);
	t->has_source_limit = ret == 0;
	return ret;
}

void
tunnel_free(struct tunnel *t)
{
	if (t->has_source_limit)
		ratelimit_free(&t->source_limit);
	t->has_source_limit = false;
	noise_local_wipe(&t->local);
	cookie_checker_wipe(&t->checker);
	free(t->scratch);
	t->scratch = NULL;
	tstamp_table_free(&t->stamps);
	index_table_free(&t->indices);
}

/* Everything but the noise peer, which the caller has set up. The ring
 * of staged packets is sized here and allocated only when a packet must
 * wait (stage()), then freed once sent: a session that has keys, as
 * almost all have, holds none of it (8 packets of the MTU each). */
static int
peer_init_rest(struct tunnel *t, struct tunnel_peer *p, const uint8_t pub[32],
	       unsigned int staged_cap)
{
	timers_init(&p->timers, &t->pt);
	cookie_maker_init(&p->cookie, pub, &t->pt);
	p->staged_cap = staged_cap;
	p->staged_slot = t->max_mtu;
	return 0;
}

int
tunnel_peer_init(struct tunnel *t, struct tunnel_peer *p,
		 const uint8_t pub[32], const uint8_t *psk,
		 unsigned int staged_cap, void *arg)
{
	memset(p, 0, sizeof(*p));
	p->tunnel = t;
	p->arg = arg;
	if (!noise_peer_init(&p->noise, &t->local, pub, psk, p))
		return -EINVAL;
	return peer_init_rest(t, p, pub, staged_cap);
}

int
tunnel_peer_init_ss(struct tunnel *t, struct tunnel_peer *p,
		    const uint8_t pub[32], const uint8_t ss[32],
		    const uint8_t *psk, unsigned int staged_cap, void *arg)
{
	memset(p, 0, sizeof(*p));
	p->tunnel = t;
	p->arg = arg;
	noise_peer_init_ss(&p->noise, &t->local, pub, ss, psk, p);
	return peer_init_rest(t, p, pub, staged_cap);
}

/* Empties the ring and gives its memory back, wiped. */
static void
staged_clear(struct tunnel_peer *p)
{
	if (p->staged) {
		sodium_memzero(p->staged, (size_t)p->staged_cap *
						  p->staged_slot);
		free(p->staged);
		free(p->staged_len);
		p->staged = NULL;
		p->staged_len = NULL;
	}
	p->staged_head = p->staged_count = 0;
}

static bool
staged_alloc(struct tunnel_peer *p)
{
	p->staged = malloc((size_t)p->staged_cap * p->staged_slot);
	p->staged_len = calloc(p->staged_cap, sizeof(*p->staged_len));
	if (p->staged && p->staged_len)
		return true;
	free(p->staged);
	free(p->staged_len);
	p->staged = NULL;
	p->staged_len = NULL;
	return false;
}

void
tunnel_peer_free(struct tunnel_peer *p)
{
	staged_clear(p);
	noise_peer_wipe(&p->noise);
	cookie_maker_wipe(&p->cookie);
	sodium_memzero(p, sizeof(*p));
}

void
tunnel_peer_reset(struct tunnel_peer *p)
{
	noise_peer_clear(&p->noise);
	staged_clear(p);
	timers_stop(&p->timers);
	/*
	 * The handshake the REKEY_TIMEOUT rate limit spaces out is gone, and
	 * with the timers stopped nothing would retry one refused now: a
	 * client reconnecting soon after its last handshake would wait
	 * forever. The next initiation may go at once.
	 */
	p->timers.last_initiation_ns = TIMER_OFF;
}

void
tunnel_peer_set_endpoint(struct tunnel_peer *p, const struct endpoint *ep)
{
	p->endpoint = *ep;
	p->has_endpoint = true;
}

void
tunnel_peer_set_keepalive(struct tunnel_peer *p, uint64_t now_ns,
			  unsigned int interval_s)
{
	timers_set_persistent_keepalive(&p->timers, now_ns, interval_s);
}

uint64_t
tunnel_peer_deadline(const struct tunnel_peer *p)
{
	return timers_next_deadline(&p->timers);
}

bool
tunnel_peer_has_session(const struct tunnel_peer *p, uint64_t now_ns)
{
	return noise_peer_can_send(&p->noise, now_ns);
}

/* ---- sending ------------------------------------------------------------- */

static void
sent_authenticated(struct tunnel_peer *p, size_t len, bool is_data,
		   uint64_t now_ns)
{
	if (is_data) {
		timers_data_sent(&p->timers, now_ns);
		p->tx_packets++;
	}
	timers_any_authenticated_packet_sent(&p->timers, now_ns);
	timers_any_authenticated_packet_traversal(&p->timers, now_ns);
	p->tx_bytes += len;
}

void
tunnel_initiate(struct tunnel *t, struct tunnel_peer *p, uint64_t now_ns,
		uint64_t wall_ns)
{
	struct wire_initiation msg;
	uint32_t jitter;

	if (!p->can_initiate || !p->has_endpoint ||
	    !timers_may_initiate(&p->timers, now_ns))
		return;
	if (noise_initiation_create(&p->noise, now_ns, wall_ns, &msg) !=
	    NOISE_HS_OK)
		return;
	cookie_maker_add_macs(&p->cookie, (uint8_t *)&msg, sizeof(msg), now_ns);
	p->hs_endpoint = p->endpoint;
	t->ops->send(t->arg, &p->endpoint, (const uint8_t *)&msg, sizeof(msg));
	t->ops->random(t->arg, (uint8_t *)&jitter, sizeof(jitter));
	timers_handshake_initiated(&p->timers, now_ns,
				   t->pt.rekey_jitter_max_ns ?
					   jitter % t->pt.rekey_jitter_max_ns : 0);
	timers_any_authenticated_packet_sent(&p->timers, now_ns);
	timers_any_authenticated_packet_traversal(&p->timers, now_ns);
}

static void
stage(struct tunnel *t, struct tunnel_peer *p, const uint8_t *plain,
      size_t len)
{
	unsigned int slot;

	if (!p->staged_cap || len > p->staged_slot ||
	    (!p->staged && !staged_alloc(p))) {
		t->stats.staged_dropped++;
		return;
	}
	/* Full: the oldest goes, as WireGuard does. */
	if (p->staged_count == p->staged_cap) {
		p->staged_head = (p->staged_head + 1) % p->staged_cap;
		p->staged_count--;
		t->stats.staged_dropped++;
	}
	slot = (p->staged_head + p->staged_count) % p->staged_cap;
	memcpy(p->staged + (size_t)slot * p->staged_slot, plain, len);
	p->staged_len[slot] = (uint16_t)len;
	p->staged_count++;
}

enum tunnel_tx
tunnel_encrypt_begin(struct tunnel *t, struct tunnel_peer *p, uint8_t *msg,
		     size_t plain_len, uint64_t now_ns, uint64_t wall_ns,
		     size_t *msg_len, struct noise_crypt *job)
{
	enum noise_tx r;

	if (!p->has_endpoint)
		return TUNNEL_TX_DROPPED;
	r = noise_encrypt_begin(&p->noise, now_ns, msg, plain_len,
				p->mtu && p->mtu < t->mtu ? p->mtu : t->mtu,
				msg_len, job);
	if (r == NOISE_TX_NO_KEY) {
		if (!p->can_initiate)
			return TUNNEL_TX_DROPPED;
		stage(t, p, msg + WIRE_DATA_HEADER_LEN, plain_len);
		tunnel_initiate(t, p, now_ns, wall_ns);
		return TUNNEL_TX_STAGED;
	}
	sent_authenticated(p, *msg_len, plain_len > 0, now_ns);
	if (r == NOISE_TX_OK_REKEY)
		tunnel_initiate(t, p, now_ns, wall_ns);
	return TUNNEL_TX_SEND;
}

enum tunnel_tx
tunnel_encrypt(struct tunnel *t, struct tunnel_peer *p, uint8_t *msg,
	       size_t plain_len, uint64_t now_ns, uint64_t wall_ns,
	       size_t *msg_len)
{
	struct noise_crypt job;
	enum tunnel_tx r;

	r = tunnel_encrypt_begin(t, p, msg, plain_len, now_ns, wall_ns,
				 msg_len, &job);
	if (r == TUNNEL_TX_SEND)
		noise_seal(&job);
	return r;
}

static void
seal_one(void *arg, size_t i)
{
	noise_seal((struct noise_crypt *)arg + i);
}

void
tunnel_seal_batch(struct cryptopool *pool, struct noise_crypt *jobs, size_t n)
{
	size_t bytes = 0, i;

	for (i = 0; i < n && bytes < TUNNEL_SPREAD_MIN_BYTES; i++)
		bytes += jobs[i].len;
	cryptopool_run(bytes < TUNNEL_SPREAD_MIN_BYTES ? NULL : pool, seal_one,
		       jobs, n);
}

/* Encrypts in the scratch buffer and sends at once. */
static enum tunnel_tx
send_plain(struct tunnel *t, struct tunnel_peer *p, const uint8_t *plain,
	   size_t len, uint64_t now_ns, uint64_t wall_ns)
{
	enum tunnel_tx r;
	size_t msg_len;

	if (len > t->mtu)
		return TUNNEL_TX_DROPPED;
	if (len)
		memcpy(t->scratch + WIRE_DATA_HEADER_LEN, plain, len);
	r = tunnel_encrypt(t, p, t->scratch, len, now_ns, wall_ns, &msg_len);
	if (r == TUNNEL_TX_SEND)
		t->ops->send(t->arg, &p->endpoint, t->scratch, msg_len);
	return r;
}

enum tunnel_tx
tunnel_send_control(struct tunnel *t, struct tunnel_peer *p,
		    const uint8_t *ctl, size_t len, uint64_t now_ns,
		    uint64_t wall_ns)
{
	return send_plain(t, p, ctl, len, now_ns, wall_ns);
}

static void
send_keepalive(struct tunnel *t, struct tunnel_peer *p, uint64_t now_ns,
	       uint64_t wall_ns)
{
	/* Something staged will answer for the keepalive. */
	if (p->staged_count)
		return;
	send_plain(t, p, NULL, 0, now_ns, wall_ns);
}

/*
 * Sends what waited for a session. An initiator with nothing waiting sends
 * a keepalive instead: the responder may not send until it hears from us.
 */
static void
flush_staged(struct tunnel *t, struct tunnel_peer *p, bool confirm,
	     uint64_t now_ns, uint64_t wall_ns)
{
	unsigned int n = p->staged_count;

	if (!n) {
		if (confirm)
			send_keepalive(t, p, now_ns, wall_ns);
		return;
	}
	while (n-- && noise_peer_can_send(&p->noise, now_ns)) {
		unsigned int slot = p->staged_head;
		size_t len = p->staged_len[slot];

		p->staged_head = (p->staged_head + 1) % p->staged_cap;
		p->staged_count--;
		send_plain(t, p, p->staged + (size_t)slot * p->staged_slot, len,
			   now_ns, wall_ns);
	}
	if (!p->staged_count)
		staged_clear(p);
}

/* ---- receiving ----------------------------------------------------------- */

/* Token bucket over handshake messages; empty means "under load". */
static bool
under_load(struct tunnel *t, uint64_t now_ns)
{
	uint64_t refill;

	if (!t->handshake_rate)
		return false;
	refill = (now_ns - t->load_refill_ns) * t->handshake_rate / NS_PER_S;
	if (refill) {
		t->load_tokens += refill;
		if (t->load_tokens > t->handshake_rate)
			t->load_tokens = t->handshake_rate;
		t->load_refill_ns = now_ns;
	}
	if (!t->load_tokens)
		return true;
	t->load_tokens--;
	return false;
}

/*
 * mac1, then the cookie rule, then (initiations) the source's rate: a
 * source gets through the last only after the load rule, so under load
 * only sources that proved they receive at their address (mac2) reach the
 * rate table. True if the message may go on to Noise.
 */
static bool
check_macs(struct tunnel *t, uint8_t *buf, size_t len,
	   const struct endpoint *src, uint64_t now_ns)
{
	struct cookie_src csrc;
	enum cookie_mac mac;

	endpoint_cookie_src(src, &csrc);
	mac = cookie_checker_validate(&t->checker, buf, len, &csrc, now_ns);
	if (mac == COOKIE_MAC1_INVALID) {
		t->stats.rx_bad_mac++;
		return false;
	}
	if (mac != COOKIE_MAC2_VALID && under_load(t, now_ns)) {
		struct wire_cookie_reply reply;

		cookie_reply_create(&t->checker, &reply, buf, len, &csrc,
				    now_ns);
		t->ops->send(t->arg, src, (const uint8_t *)&reply,
			     sizeof(reply));
		t->stats.cookies_sent++;
		return false;
	}
	if (t->has_source_limit && buf[0] == WIRE_INITIATION &&
	    !ratelimit_allow(&t->source_limit, &csrc, now_ns)) {
		t->stats.rx_ratelimited++;
		return false;
	}
	return true;
}

static void
received_authenticated(struct tunnel *t, struct tunnel_peer *p,
		       const struct endpoint *src, uint64_t now_ns)
{
	bool moved = p->has_endpoint &&
		     !endpoint_same_remote(&p->endpoint, src);

	/* Roaming: the latest authenticated datagram names the endpoint. */
	tunnel_peer_set_endpoint(p, src);
	if (moved && t->ops->endpoint_changed)
		t->ops->endpoint_changed(t->arg, p);
	timers_any_authenticated_packet_received(&p->timers, now_ns);
	timers_any_authenticated_packet_traversal(&p->timers, now_ns);
}

static void
session_started(struct tunnel *t, struct tunnel_peer *p, bool we_initiated,
		uint64_t now_ns, uint64_t wall_ns)
{
	timers_handshake_complete(&p->timers, now_ns);
	p->last_handshake_wall_ns = wall_ns;
	t->stats.handshakes++;
	flush_staged(t, p, we_initiated, now_ns, wall_ns);
	if (t->ops->session_started)
		t->ops->session_started(t->arg, p);
}

static struct tunnel_peer *
receive_initiation(struct tunnel *t, uint8_t *buf, size_t len,
		   const struct endpoint *src, uint64_t now_ns)
{
	struct wire_response resp;
	struct noise_peer *np;
	struct tunnel_peer *p;
	enum noise_hs_result r;

	if (!check_macs(t, buf, len, src, now_ns))
		return NULL;
	r = noise_initiation_consume(&t->local, now_ns,
				     (const struct wire_initiation *)buf, &np);
	if (r != NOISE_HS_OK) {
		if (r == NOISE_HS_REPLAY || r == NOISE_HS_FLOOD)
			t->stats.rx_handshake_replay++;
		else if (r != NOISE_HS_REFUSED)
			t->stats.rx_handshake_invalid++;
		return NULL;
	}
	p = PEER_OF(np);
	received_authenticated(t, p, src, now_ns);
	p->hs_endpoint = *src;
	if (noise_response_create(np, now_ns, &resp) != NOISE_HS_OK)
		return p;
	cookie_maker_add_macs(&p->cookie, (uint8_t *)&resp, sizeof(resp),
			      now_ns);
	t->ops->send(t->arg, &p->endpoint, (const uint8_t *)&resp,
		     sizeof(resp));
	timers_any_authenticated_packet_sent(&p->timers, now_ns);
	timers_any_authenticated_packet_traversal(&p->timers, now_ns);
	timers_session_derived(&p->timers, now_ns);
	return p;
}

static struct tunnel_peer *
receive_response(struct tunnel *t, uint8_t *buf, size_t len,
		 const struct endpoint *src, uint64_t now_ns, uint64_t wall_ns)
{
	struct noise_peer *np;
	struct tunnel_peer *p;

	if (!check_macs(t, buf, len, src, now_ns))
		return NULL;
	if (noise_response_consume(&t->local, now_ns,
				   (const struct wire_response *)buf,
				   &np) != NOISE_HS_OK) {
		t->stats.rx_handshake_invalid++;
		return NULL;
	}
	p = PEER_OF(np);
	/* Our initiation reached hs_endpoint: it holds the keys there. */
	p->verified_endpoint = p->hs_endpoint;
	p->has_verified_endpoint = true;
	received_authenticated(t, p, src, now_ns);
	timers_session_derived(&p->timers, now_ns);
	session_started(t, p, true, now_ns, wall_ns);
	return p;
}

static struct tunnel_peer *
receive_cookie_reply(struct tunnel *t, const uint8_t *buf, uint64_t now_ns)
{
	const struct wire_cookie_reply *reply =
		(const struct wire_cookie_reply *)buf;
	struct noise_peer *np;

	np = noise_peer_by_handshake_index(&t->local,
					   wire_get_le32(reply->receiver_index));
	if (!np || !cookie_maker_consume_reply(&PEER_OF(np)->cookie, reply,
					       now_ns)) {
		t->stats.rx_invalid++;
		return NULL;
	}
	/* The retransmit timer resends the initiation, now with mac2. */
	return PEER_OF(np);
}

/* A data message's outcome r from noise_decrypt(_finish), its datagram
 * at buf (len bytes, the plaintext decrypted in place). */
static struct tunnel_peer *
data_received(struct tunnel *t, enum noise_rx r, struct noise_peer *np,
	      uint8_t *buf, size_t len, size_t plain_len,
	      const struct endpoint *src, uint64_t now_ns, uint64_t wall_ns)
{
	uint8_t *plain = buf + WIRE_DATA_HEADER_LEN;
	struct tunnel_peer *p;
	enum wire_payload kind;
	size_t inner_len;

	if (r == NOISE_RX_INVALID || r == NOISE_RX_REPLAY) {
		if (r == NOISE_RX_REPLAY)
			t->stats.rx_replay++;
		else
			t->stats.rx_data_invalid++;
		return NULL;
	}
	p = PEER_OF(np);
	p->rx_bytes += len;
	if (r == NOISE_RX_CONFIRMED) {
		/* Our response, sent where the initiation came from, was
		 * received there: that source is proven. */
		p->verified_endpoint = p->hs_endpoint;
		p->has_verified_endpoint = true;
	}
	received_authenticated(t, p, src, now_ns);
	if (r == NOISE_RX_CONFIRMED)
		session_started(t, p, false, now_ns, wall_ns);
	else if (r == NOISE_RX_OK_REKEY)
		tunnel_initiate(t, p, now_ns, wall_ns);

	kind = wire_payload_classify(plain, plain_len, &inner_len);
	if (kind == WIRE_PAYLOAD_KEEPALIVE)
		return p;
	if (kind == WIRE_PAYLOAD_MALFORMED) {
		t->stats.rx_malformed++;
		return p;
	}
	timers_data_received(&p->timers, now_ns);
	p->rx_packets++;
	t->ops->deliver(t->arg, p, kind, plain, inner_len);
	return p;
}

static struct tunnel_peer *
receive_data(struct tunnel *t, uint8_t *buf, size_t len,
	     const struct endpoint *src, uint64_t now_ns, uint64_t wall_ns)
{
	struct noise_peer *np;
	enum noise_rx r;
	size_t plain_len;

	r = noise_decrypt(&t->local, now_ns, buf, len, &np, &plain_len);
	return data_received(t, r, np, buf, len, plain_len, src, now_ns,
			     wall_ns);
}

static struct tunnel_peer *
dispatch(struct tunnel *t, uint8_t *buf, size_t len,
	 const struct endpoint *src, uint64_t now_ns, uint64_t wall_ns)
{
	switch (wire_classify(buf, len)) {
	case WIRE_DATA:
		return receive_data(t, buf, len, src, now_ns, wall_ns);
	case WIRE_INITIATION:
		return receive_initiation(t, buf, len, src, now_ns);
	case WIRE_RESPONSE:
		return receive_response(t, buf, len, src, now_ns, wall_ns);
	case WIRE_COOKIE_REPLY:
		return receive_cookie_reply(t, buf, now_ns);
	default:
		t->stats.rx_invalid++;
		return NULL;
	}
}

struct tunnel_peer *
tunnel_receive(struct tunnel *t, uint8_t *buf, size_t len,
	       const struct endpoint *src, uint64_t now_ns, uint64_t wall_ns)
{
	struct tunnel_peer *p;

	t->rx_src = src;
	p = dispatch(t, buf, len, src, now_ns, wall_ns);
	t->rx_src = NULL;
	return p;
}

/* ---- receiving in batches ------------------------------------------------- */

static void
open_one(void *arg, size_t i)
{
	noise_open(&((struct tunnel_rx_batch *)arg)->job[i].crypt);
}

/* The AEADs of the jobs gathered, then each job's datagram in order.
 * False if the host stopped the batch. */
static bool
finish_jobs(struct tunnel *t, struct tunnel_rx_batch *b, uint64_t now_ns,
	    uint64_t wall_ns)
{
	size_t bytes = 0, i;
	unsigned int n = b->n;

	b->n = 0;
	for (i = 0; i < n && bytes < TUNNEL_SPREAD_MIN_BYTES; i++)
		bytes += b->job[i].crypt.len;
	cryptopool_run(bytes < TUNNEL_SPREAD_MIN_BYTES ? NULL : b->pool,
		       open_one, b, n);
	for (i = 0; i < n; i++) {
		struct tunnel_rx_job *j = &b->job[i];
		uint8_t *buf = j->crypt.data - WIRE_DATA_HEADER_LEN;
		struct tunnel_peer *p;
		struct noise_peer *np;
		size_t plain_len;
		enum noise_rx r;

		t->rx_src = j->src;
		r = noise_decrypt_finish(&t->local, now_ns, &j->crypt, &np,
					 &plain_len);
		p = data_received(t, r, np, buf,
				  j->crypt.len + WIRE_DATA_HEADER_LEN,
				  plain_len, j->src, now_ns, wall_ns);
		t->rx_src = NULL;
		if (p && !b->done(b->arg, p))
			return false;
	}
	return true;
}

/* A data message kept as a job, or dropped and counted. False if the
 * host stopped the batch (the jobs being full, they were finished). */
static bool
gather(struct tunnel *t, struct tunnel_rx_batch *b, uint8_t *buf, size_t len,
       const struct endpoint *src, uint64_t now_ns, uint64_t wall_ns)
{
	struct tunnel_rx_job *j = &b->job[b->n];

	switch (noise_decrypt_begin(&t->local, now_ns, buf, len, &j->crypt)) {
	case NOISE_RX_OK:
		j->src = src;
		if (++b->n == TUNNEL_RX_JOBS)
			return finish_jobs(t, b, now_ns, wall_ns);
		return true;
	case NOISE_RX_REPLAY:
		t->stats.rx_replay++;
		return true;
	default:
		t->stats.rx_data_invalid++;
		return true;
	}
}

void
tunnel_receive_batch(struct tunnel *t, struct tunnel_rx_batch *b,
		     uint8_t *const *buf, const size_t *len,
		     const struct endpoint *src, unsigned int n,
		     uint64_t now_ns, uint64_t wall_ns)
{
	struct tunnel_peer *p;
	unsigned int i;

	b->n = 0;
	for (i = 0; i < n; i++) {
		if (!len[i])
			continue;
		switch (wire_classify(buf[i], len[i])) {
		case WIRE_DATA:
			if (!gather(t, b, buf[i], len[i], &src[i], now_ns,
				    wall_ns))
				return;
			continue;
		case WIRE_INVALID:
			/* Changes nothing: no reason to end the run. */
			t->stats.rx_invalid++;
			continue;
		default:
			break;
		}
		/* A handshake may make or drop the keys of the jobs gathered
		 * and of those after it: they go first. */
		if (!finish_jobs(t, b, now_ns, wall_ns))
			return;
		p = tunnel_receive(t, buf[i], len[i], &src[i], now_ns, wall_ns);
		if (p && !b->done(b->arg, p))
			return;
	}
	finish_jobs(t, b, now_ns, wall_ns);
}

/* ---- timers -------------------------------------------------------------- */

void
tunnel_peer_expire(struct tunnel *t, struct tunnel_peer *p, uint64_t now_ns,
		   uint64_t wall_ns)
{
	unsigned int bits = timers_expire(&p->timers, now_ns);

	if (bits & (TIMER_RETRANSMIT_HANDSHAKE | TIMER_NEW_HANDSHAKE)) {
		/* Our source address may be stale: let the kernel choose. */
		p->endpoint.has_src = false;
		tunnel_initiate(t, p, now_ns, wall_ns);
	}
	if (bits & TIMER_HANDSHAKE_GAVE_UP) {
		staged_clear(p);
		noise_peer_clear_handshake(&p->noise);
		if (t->ops->handshake_gave_up)
			t->ops->handshake_gave_up(t->arg, p);
	}
	if (bits & (TIMER_SEND_KEEPALIVE | TIMER_PERSISTENT_KEEPALIVE))
		send_keepalive(t, p, now_ns, wall_ns);
	if (bits & TIMER_ZERO_KEYS) {
		noise_peer_clear(&p->noise);
		if (t->ops->keys_zeroed)
			t->ops->keys_zeroed(t->arg, p);
	}
}
