// SPDX-License-Identifier: MIT
/*
 * Address -> peer table (see route.h): linear probing over a keyed hash,
 * backward-shift deletion so lookups never walk tombstones.
 */
#include "route.h"

#include "shorthash.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static uint8_t
fam(int family)
{
	return family == AF_INET6 ? 6 : 4;
}

static size_t
addr_len(uint8_t f)
{
	return f == 6 ? 16 : 4;
}

static uint32_t
home(const struct route_table *t, uint8_t f, const uint8_t *addr)
{
	return (shorthash32(t->hash_key, addr, addr_len(f)) ^ f) & t->mask;
}

int
route_table_init(struct route_table *t, uint32_t max_entries,
		 const uint8_t hash_key[16])
{
	uint32_t cap = 16;

	while (cap < 2 * max_entries)
		cap <<= 1;
	t->slots = calloc(cap, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->mask = cap - 1;
	t->count = 0;
	memcpy(t->hash_key, hash_key, sizeof(t->hash_key));
	return 0;
}

void
route_table_free(struct route_table *t)
{
	free(t->slots);
	t->slots = NULL;
}

static struct route_entry *
find(const struct route_table *t, uint8_t f, const uint8_t *addr)
{
	uint32_t i = home(t, f, addr);

	for (;; i = (i + 1) & t->mask) {
		struct route_entry *e = &t->slots[i];

		if (!e->family)
			return NULL;
		if (e->family == f && memcmp(e->addr, addr, addr_len(f)) == 0)
			return e;
	}
}

bool
route_add(struct route_table *t, int family, const uint8_t *addr,
	  struct peer *peer)
{
	uint8_t f = fam(family);
	struct route_entry *e = find(t, f, addr);
	uint32_t i;

	if (e) {
		e->peer = peer;
		return true;
	}
	if (t->count + 1 > t->mask / 2)
		return false;
	for (i = home(t, f, addr); t->slots[i].family; i = (i + 1) & t->mask)
		;
	e = &t->slots[i];
	memset(e->addr, 0, sizeof(e->addr));
	memcpy(e->addr, addr, addr_len(f));
	e->family = f;
	e->peer = peer;
	t->count++;
	return true;
}

void
route_del(struct route_table *t, int family, const uint8_t *addr,
	  const struct peer *peer)
{
	uint8_t f = fam(family);
	struct route_entry *e = find(t, f, addr);
	uint32_t hole, i;

	if (!e || e->peer != peer)
		return;
	hole = (uint32_t)(e - t->slots);
	for (i = (hole + 1) & t->mask; t->slots[i].family;
	     i = (i + 1) & t->mask) {
		uint32_t h = home(t, t->slots[i].family, t->slots[i].addr);

		if (((i - h) & t->mask) >= ((i - hole) & t->mask)) {
			t->slots[hole] = t->slots[i];
			hole = i;
		}
	}
	memset(&t->slots[hole], 0, sizeof(t->slots[hole]));
	t->count--;
}

struct peer *
route_lookup(const struct route_table *t, int family, const uint8_t *addr)
{
	struct route_entry *e = find(t, fam(family), addr);

	return e ? e->peer : NULL;
}
