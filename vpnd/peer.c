// SPDX-License-Identifier: MIT
/*
 * Peer pool, key hash and deadline heap (see peer.h). Lookups by key are
 * keyed SipHash buckets, so a client cannot aim keys at one chain.
 */
#include "peer.h"

#include "shorthash.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define HEAP_NONE UINT32_MAX

int
peer_table_init(struct peer_table *t, uint32_t max, const uint8_t hash_key[16])
{
	uint32_t buckets = 16, i;

	memset(t, 0, sizeof(*t));
	if (max == 0)
		return -EINVAL;
	while (buckets < max)
		buckets <<= 1;
	t->slots = calloc(max, sizeof(*t->slots));
	t->buckets = calloc(buckets, sizeof(*t->buckets));
	t->heap = calloc(max, sizeof(*t->heap));
	if (!t->slots || !t->buckets || !t->heap) {
		peer_table_free(t);
		return -ENOMEM;
	}
	t->max = max;
	t->bucket_mask = buckets - 1;
	memcpy(t->hash_key, hash_key, sizeof(t->hash_key));
	for (i = 0; i < max; i++) {
		t->slots[i].slot = i;
		t->slots[i].heap_pos = HEAP_NONE;
	}
	return 0;
}

void
peer_table_free(struct peer_table *t)
{
	free(t->slots);
	free(t->buckets);
	free(t->heap);
	memset(t, 0, sizeof(*t));
}

static uint32_t
bucket_of(const struct peer_table *t, const uint8_t pub[32])
{
	return shorthash32(t->hash_key, pub, 32) & t->bucket_mask;
}

struct peer *
peer_lookup(const struct peer_table *t, const uint8_t pub[32])
{
	struct peer *p;

	for (p = t->buckets[bucket_of(t, pub)]; p; p = p->hash_next)
		if (memcmp(p->pub, pub, 32) == 0)
			return p;
	return NULL;
}

struct peer *
peer_alloc(struct peer_table *t, const uint8_t pub[32], uint64_t now_ns)
{
	uint32_t i, b, generation;
	struct peer *p = NULL;

	for (i = 0; i < t->max; i++) {
		if (!t->slots[i].in_use) {
			p = &t->slots[i];
			break;
		}
	}
	if (!p)
		return NULL;
	generation = p->generation;
	memset(p, 0, sizeof(*p));
	p->slot = i;
	p->generation = generation;
	p->heap_pos = HEAP_NONE;
	p->deadline_ns = UINT64_MAX;
	p->in_use = true;
	p->created_ns = now_ns;
	memcpy(p->pub, pub, 32);
	b = bucket_of(t, pub);
	p->hash_next = t->buckets[b];
	t->buckets[b] = p;
	t->count++;
	return p;
}

/* ---- heap ------------------------------------------------------------------ */

static void
heap_set(struct peer_table *t, uint32_t pos, struct peer *p)
{
	t->heap[pos] = p;
	p->heap_pos = pos;
}

static void
sift_up(struct peer_table *t, uint32_t pos)
{
	struct peer *p = t->heap[pos];

	while (pos > 0) {
		uint32_t parent = (pos - 1) / 2;

		if (t->heap[parent]->deadline_ns <= p->deadline_ns)
			break;
		heap_set(t, pos, t->heap[parent]);
		pos = parent;
	}
	heap_set(t, pos, p);
}

static void
sift_down(struct peer_table *t, uint32_t pos)
{
	struct peer *p = t->heap[pos];

	for (;;) {
		uint32_t child = 2 * pos + 1;

		if (child >= t->heap_len)
			break;
		if (child + 1 < t->heap_len &&
		    t->heap[child + 1]->deadline_ns < t->heap[child]->deadline_ns)
			child++;
		if (p->deadline_ns <= t->heap[child]->deadline_ns)
			break;
		heap_set(t, pos, t->heap[child]);
		pos = child;
	}
	heap_set(t, pos, p);
}

static void
heap_remove(struct peer_table *t, struct peer *p)
{
	uint32_t pos = p->heap_pos;
	struct peer *last;

	if (pos == HEAP_NONE)
		return;
	p->heap_pos = HEAP_NONE;
	last = t->heap[--t->heap_len];
	if (last == p)
		return;
	heap_set(t, pos, last);
	sift_down(t, pos);
	sift_up(t, last->heap_pos);
}

void
peer_deadline_update(struct peer_table *t, struct peer *p)
{
	uint64_t d = tunnel_peer_deadline(&p->tp);

	if (p->reply_pending && p->reply_at_ns < d)
		d = p->reply_at_ns;
	if (d == p->deadline_ns && (d == UINT64_MAX) == (p->heap_pos == HEAP_NONE))
		return;
	p->deadline_ns = d;
	if (d == UINT64_MAX) {
		heap_remove(t, p);
		return;
	}
	if (p->heap_pos == HEAP_NONE) {
		heap_set(t, t->heap_len++, p);
		sift_up(t, p->heap_pos);
		return;
	}
	sift_up(t, p->heap_pos);
	sift_down(t, p->heap_pos);
}

struct peer *
peer_heap_top(const struct peer_table *t)
{
	return t->heap_len ? t->heap[0] : NULL;
}

void
peer_release(struct peer_table *t, struct peer *p)
{
	struct peer **pp = &t->buckets[bucket_of(t, p->pub)];
	uint32_t generation = p->generation + 1, slot = p->slot;

	while (*pp && *pp != p)
		pp = &(*pp)->hash_next;
	if (*pp)
		*pp = p->hash_next;
	heap_remove(t, p);
	sodium_memzero(p, sizeof(*p));
	p->slot = slot;
	p->generation = generation;
	p->heap_pos = HEAP_NONE;
	t->count--;
}

struct peer *
peer_by_slot(const struct peer_table *t, uint32_t slot, uint32_t generation)
{
	struct peer *p;

	if (slot >= t->max)
		return NULL;
	p = &t->slots[slot];
	return p->in_use && p->generation == generation ? p : NULL;
}
