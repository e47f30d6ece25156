// SPDX-License-Identifier: MIT
/*
 * Prefix -> peer table (see route.h), on the longest-prefix-match trie.
 */
#include "route.h"

void
route_table_init(struct route_table *t)
{
	trie_init(&t->trie);
}

void
route_table_free(struct route_table *t)
{
	trie_free(&t->trie);
}

int
route_add(struct route_table *t, int family, const uint8_t *addr,
	  unsigned int len, struct peer *peer)
{
	return trie_insert(&t->trie, family, addr, len, peer);
}

void
route_del(struct route_table *t, int family, const uint8_t *addr,
	  unsigned int len, const struct peer *peer)
{
	if (trie_get(&t->trie, family, addr, len) == peer)
		trie_remove(&t->trie, family, addr, len);
}

void
route_del_peer(struct route_table *t, const struct peer *peer)
{
	trie_remove_value(&t->trie, peer);
}

struct peer *
route_owner(const struct route_table *t, int family, const uint8_t *addr,
	    unsigned int len)
{
	return trie_get(&t->trie, family, addr, len);
}

struct peer *
route_lookup(const struct route_table *t, int family, const uint8_t *addr)
{
	return trie_lookup(&t->trie, family, addr);
}
