/* SPDX-License-Identifier: MIT */
/*
 * The life of a client peer in vpnd: created for an initiation verified
 * whole, in the pool its key deserves (a key the store admitted with the
 * admitted; a stranger in the pending pool, within its source's share,
 * pushing out the oldest unconfirmed peer when the pool is full), and
 * freed with everything it held (routes, answers, its timestamp's hold,
 * its keys), its counters kept in the server's totals. No sockets: the
 * packet path (server.c) and the fuzz harness that stands in for it call
 * the same code.
 */
#ifndef VPND_ROSTER_H
#define VPND_ROSTER_H

#include <stdint.h>

struct server;
struct peer;

/* A peer for pub (ss = DH(our static, pub)), or NULL, counted. */
struct peer *roster_peer_create(struct server *s, const uint8_t pub[32],
				const uint8_t ss[32]);
/* Frees p now. */
void roster_peer_free(struct server *s, struct peer *p);
/* Frees the peers doomed while an event was handled. */
void roster_reap(struct server *s);

#endif
