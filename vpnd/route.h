/* SPDX-License-Identifier: MIT */
/*
 * Which client owns an inner address: the TUN side sends a packet to the
 * peer that owns its destination, and a client may send only from
 * addresses it owns (PROTOCOL.md section 6, rule 10). Host addresses in a
 * fixed open-addressing table; no allocation after init.
 */
#ifndef VPND_ROUTE_H
#define VPND_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

struct peer;

struct route_entry {
	uint8_t addr[16]; /* IPv4 in the first 4 bytes */
	uint8_t family;   /* 0: empty; 4 or 6 */
	struct peer *peer;
};

struct route_table {
	struct route_entry *slots;
	uint32_t mask;
	uint32_t count;
	uint8_t hash_key[16];
};

int route_table_init(struct route_table *t, uint32_t max_entries,
		     const uint8_t hash_key[16])
	__attribute__((warn_unused_result));
void route_table_free(struct route_table *t);

/* family is AF_INET or AF_INET6; replaces any other owner. False if full. */
bool route_add(struct route_table *t, int family, const uint8_t *addr,
	       struct peer *peer);
/* Removes addr if `peer` owns it. */
void route_del(struct route_table *t, int family, const uint8_t *addr,
	       const struct peer *peer);
struct peer *route_lookup(const struct route_table *t, int family,
			  const uint8_t *addr);

#endif
