/* SPDX-License-Identifier: MIT */
/*
 * Which client owns an inner address (cryptokey routing, as WireGuard's
 * allowedips): the TUN side sends a packet to the session that owns its
 * destination, and a session may send only from addresses it owns
 * (PROTOCOL.md section 6, rule 10). A client owns its tunnel addresses
 * (host prefixes) and, for a site account, the subnets of its LAN;
 * ownership is longest-prefix match over a trie (shared/trie.h), so a
 * lookup costs one node per prefix length at most and never allocates.
 */
#ifndef VPND_ROUTE_H
#define VPND_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "trie.h"

struct peer;

struct route_table {
	struct trie trie;
};

void route_table_init(struct route_table *t);
void route_table_free(struct route_table *t);

/* Gives addr/len (AF_INET or AF_INET6) to peer, replacing any other
 * owner of exactly that prefix. 0 or -errno. */
int route_add(struct route_table *t, int family, const uint8_t *addr,
	      unsigned int len, struct peer *peer)
	__attribute__((warn_unused_result));
/* Takes addr/len back if `peer` owns exactly it. */
void route_del(struct route_table *t, int family, const uint8_t *addr,
	       unsigned int len, const struct peer *peer);
/* Takes back everything `peer` owns. */
void route_del_peer(struct route_table *t, const struct peer *peer);
/* The owner of exactly addr/len, or NULL. */
struct peer *route_owner(const struct route_table *t, int family,
			 const uint8_t *addr, unsigned int len);
/* The owner of the longest prefix holding addr, or NULL. */
struct peer *route_lookup(const struct route_table *t, int family,
			  const uint8_t *addr);

#endif
