// SPDX-License-Identifier: MIT
/*
 * Creating and freeing client peers (see roster.h).
 */
#include "roster.h"

#include <string.h>

#include "server.h"

/* Packets staged per client while it has no session (server side). */
#define SERVER_STAGED_PACKETS 8

/* Its counters go into the server's totals. */
static void
count_gone(struct server *s, const struct peer *p)
{
	struct server_stats *st = &s->stats;

	st->gone_rx_bytes += p->tp.rx_bytes;
	st->gone_tx_bytes += p->tp.tx_bytes;
	st->gone_rx_packets += p->tp.rx_packets;
	st->gone_tx_packets += p->tp.tx_packets;
	st->gone_dropped_source += p->login.rx_dropped_source;
	st->gone_dropped_unadmitted += p->login.rx_dropped_unadmitted;
	st->gone_malformed_ctl += p->login.rx_malformed_ctl;
}

void
roster_peer_free(struct server *s, struct peer *p)
{
	count_gone(s, p);
	admit_peer_gone(s, p);
	tstamp_release(&s->tunnel.stamps, peer_pub(p), ADMIT_HOLD_PEER, s->now_ns);
	tunnel_peer_free(&p->tp);
	peer_release(&s->peers, p);
}

/*
 * A pending peer's place, if the pending pool is full: the oldest peer
 * whose handshake is still unconfirmed gives way. Peers in their login
 * exchange, and admitted ones, never do.
 */
static struct peer *
alloc_pending(struct server *s, const uint8_t pub[32],
	      const uint8_t source[RATELIMIT_KEY_LEN])
{
	struct peer *p, *victim;

	if (!peer_source_has_room(&s->peers, source)) {
		s->stats.peers_source_full++;
		return NULL;
	}
	p = peer_alloc(&s->peers, pub, source, PEER_POOL_UNCONFIRMED,
		       s->now_ns);
	if (p || peer_pending_has_room(&s->peers))
		return p;
	victim = peer_oldest_unconfirmed(&s->peers);
	if (!victim)
		return NULL;
	s->stats.peers_evicted++;
	roster_peer_free(s, victim);
	return peer_alloc(&s->peers, pub, source, PEER_POOL_UNCONFIRMED,
			  s->now_ns);
}

/* The source a new peer is counted against: the initiation's. */
static void
rx_source(const struct server *s, uint8_t key[RATELIMIT_KEY_LEN])
{
	struct cookie_src csrc;

	memset(key, 0, RATELIMIT_KEY_LEN);
	if (!s->tunnel.rx_src)
		return;
	endpoint_cookie_src(s->tunnel.rx_src, &csrc);
	ratelimit_source_key(&csrc, key);
}

struct peer *
roster_peer_create(struct server *s, const uint8_t pub[32],
		   const uint8_t ss[32])
{
	/* A key the store admitted goes with the admitted, unpushable. */
	bool is_admitted = tstamp_holders(&s->tunnel.stamps, pub) &
			   ADMIT_HOLD_ADMISSION;
	uint8_t source[RATELIMIT_KEY_LEN];
	struct peer *p;

	rx_source(s, source);
	p = is_admitted ? peer_alloc(&s->peers, pub, source,
				     PEER_POOL_ADMITTED, s->now_ns)
			: alloc_pending(s, pub, source);

	if (!p) {
		s->stats.peers_full++;
		return NULL;
	}
	if (tunnel_peer_init_ss(&s->tunnel, &p->tp, pub, ss,
				s->cfg->has_psk ? s->cfg->psk : NULL,
				SERVER_STAGED_PACKETS, p) < 0) {
		peer_release(&s->peers, p);
		return NULL;
	}
	if (tstamp_hold(&s->tunnel.stamps, pub, ADMIT_HOLD_PEER) < 0) {
		tunnel_peer_free(&p->tp);
		peer_release(&s->peers, p);
		return NULL;
	}
	admit_peer_new(s, p);
	return p;
}

void
roster_reap(struct server *s)
{
	struct peer *p;

	while ((p = peer_doomed_pop(&s->peers)))
		roster_peer_free(s, p);
}
