// SPDX-License-Identifier: MIT
/*
 * Peer pools, key hash, slots and deadline heap (see peer.h). Lookups by
 * key are keyed SipHash buckets, so a client cannot aim keys at one chain.
 * A configured slot costs a few pointers until a peer takes it: the peer
 * itself is allocated when a verified handshake needs it.
 */
#include "peer.h"

#include "shorthash.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define HEAP_NONE UINT32_MAX

int
peer_table_init(struct peer_table *t, uint32_t max_admitted,
		uint32_t max_pending, uint32_t max_per_source,
		const uint8_t hash_key[16])
{
	uint32_t buckets = 16, capacity = max_admitted + max_pending, i;

	memset(t, 0, sizeof(*t));
	if (max_admitted == 0 || max_pending == 0 || max_per_source == 0 ||
	    capacity < max_admitted)
		return -EINVAL;
	if (sources_init(&t->sources, max_pending, hash_key) < 0)
		return -ENOMEM;
	while (buckets < capacity)
		buckets <<= 1;
	t->slots = calloc(capacity, sizeof(*t->slots));
	t->generations = calloc(capacity, sizeof(*t->generations));
	t->free_slots = calloc(capacity, sizeof(*t->free_slots));
	t->buckets = calloc(buckets, sizeof(*t->buckets));
	t->heap = calloc(capacity, sizeof(*t->heap));
	if (!t->slots || !t->generations || !t->free_slots || !t->buckets ||
	    !t->heap) {
		peer_table_free(t);
		return -ENOMEM;
	}
	t->capacity = capacity;
	t->max_admitted = max_admitted;
	t->max_pending = max_pending;
	t->max_per_source = max_per_source;
	t->bucket_mask = buckets - 1;
	memcpy(t->hash_key, hash_key, sizeof(t->hash_key));
	/* Lowest slots first, as a stack. */
	for (i = 0; i < capacity; i++)
		t->free_slots[i] = capacity - 1 - i;
	t->n_free = capacity;
	return 0;
}

void
peer_table_free(struct peer_table *t)
{
	sources_free(&t->sources);
	free(t->slots);
	free(t->generations);
	free(t->free_slots);
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
		if (memcmp(peer_pub(p), pub, 32) == 0)
			return p;
	return NULL;
}

/* ---- pools ------------------------------------------------------------------ */

static struct peer_list *
list_of(struct peer_table *t, enum peer_pool pool)
{
	switch (pool) {
	case PEER_POOL_UNCONFIRMED:
		return &t->unconfirmed;
	case PEER_POOL_LOGIN:
		return &t->in_login;
	default:
		return NULL;
	}
}

static void
list_append(struct peer_list *l, struct peer *p)
{
	p->pool_next = NULL;
	p->pool_prev = l->tail;
	if (l->tail)
		l->tail->pool_next = p;
	else
		l->head = p;
	l->tail = p;
	l->len++;
}

static void
list_remove(struct peer_list *l, struct peer *p)
{
	if (p->pool_prev)
		p->pool_prev->pool_next = p->pool_next;
	else
		l->head = p->pool_next;
	if (p->pool_next)
		p->pool_next->pool_prev = p->pool_prev;
	else
		l->tail = p->pool_prev;
	p->pool_prev = p->pool_next = NULL;
	l->len--;
}

static void
pool_enter(struct peer_table *t, struct peer *p, enum peer_pool pool)
{
	struct peer_list *l = list_of(t, pool);

	p->pool = pool;
	if (l) {
		list_append(l, p);
		sources_add(&t->sources, p->source_key);
	} else {
		t->n_admitted++;
	}
}

static void
pool_leave(struct peer_table *t, struct peer *p)
{
	struct peer_list *l = list_of(t, p->pool);

	if (l) {
		list_remove(l, p);
		sources_remove(&t->sources, p->source_key);
	} else {
		t->n_admitted--;
	}
}

bool
peer_pending_has_room(const struct peer_table *t)
{
	return t->unconfirmed.len + t->in_login.len < t->max_pending &&
	       t->n_free > 0;
}

bool
peer_source_has_room(const struct peer_table *t,
		     const uint8_t source_key[RATELIMIT_KEY_LEN])
{
	return sources_count(&t->sources, source_key) < t->max_per_source;
}

struct peer *
peer_oldest_unconfirmed(const struct peer_table *t)
{
	return t->unconfirmed.head;
}

void
peer_set_pool(struct peer_table *t, struct peer *p, enum peer_pool pool)
{
	if (p->pool == pool)
		return;
	pool_leave(t, p);
	pool_enter(t, p, pool);
}

/* ---- slots ------------------------------------------------------------------ */

struct peer *
peer_alloc(struct peer_table *t, const uint8_t pub[32],
	   const uint8_t source_key[RATELIMIT_KEY_LEN], enum peer_pool pool,
	   uint64_t now_ns)
{
	struct peer *p;
	uint32_t slot, b;

	if (!t->n_free)
		return NULL;
	if (pool == PEER_POOL_ADMITTED ? t->n_admitted >= t->max_admitted
				       : !peer_pending_has_room(t) ||
						 !peer_source_has_room(t, source_key))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	slot = t->free_slots[--t->n_free];
	t->slots[slot] = p;
	p->slot = slot;
	p->generation = t->generations[slot];
	p->heap_pos = HEAP_NONE;
	p->deadline_ns = UINT64_MAX;
	p->created_ns = now_ns;
	memcpy(p->source_key, source_key, RATELIMIT_KEY_LEN);
	b = bucket_of(t, pub);
	p->bucket = b;
	p->hash_next = t->buckets[b];
	t->buckets[b] = p;
	pool_enter(t, p, pool);
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
peer_deadline_set(struct peer_table *t, struct peer *p, uint64_t d)
{
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

/* ---- the end of a peer ---------------------------------------------------- */

void
peer_doom(struct peer_table *t, struct peer *p)
{
	if (p->is_doomed)
		return;
	p->is_doomed = true;
	p->doomed_next = t->doomed;
	t->doomed = p;
}

struct peer *
peer_doomed_pop(struct peer_table *t)
{
	struct peer *p = t->doomed;

	if (p) {
		t->doomed = p->doomed_next;
		p->is_doomed = false;
	}
	return p;
}

void
peer_release(struct peer_table *t, struct peer *p)
{
	struct peer **pp = &t->buckets[p->bucket];
	struct peer **dp = &t->doomed;

	while (*pp && *pp != p)
		pp = &(*pp)->hash_next;
	if (*pp)
		*pp = p->hash_next;
	/* Freed before its turn (shutdown): off the doomed list too. */
	if (p->is_doomed) {
		while (*dp && *dp != p)
			dp = &(*dp)->doomed_next;
		if (*dp)
			*dp = p->doomed_next;
	}
	heap_remove(t, p);
	pool_leave(t, p);
	t->slots[p->slot] = NULL;
	t->generations[p->slot]++;
	t->free_slots[t->n_free++] = p->slot;
	t->count--;
	sodium_memzero(p, sizeof(*p));
	free(p);
}

struct peer *
peer_by_slot(const struct peer_table *t, uint32_t slot, uint32_t generation)
{
	struct peer *p;

	if (slot >= t->capacity)
		return NULL;
	p = t->slots[slot];
	return p && p->generation == generation ? p : NULL;
}
