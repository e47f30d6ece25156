/* SPDX-License-Identifier: MIT */
/*
 * vpnd's clients: peers allocated when a handshake has been verified and
 * freed when they go, found by static key through a keyed hash and by a
 * slot number that jobs carry, with a min-heap of their deadlines so the
 * loop arms one timer for the earliest, and nothing that scans them all.
 *
 * Peers live in pools. Clients logged in (or known to the store to be)
 * are ADMITTED and are never pushed out by anyone. The others are pending,
 * bounded by max_pending and kept in two lists, oldest first: those whose
 * handshake is not yet confirmed (UNCONFIRMED), which a newcomer may push
 * out when the pending pool is full, and those that finished a handshake
 * and are in their login exchange (LOGIN), which newcomers never push out.
 * One source address (an IPv4 address, an IPv6 /64) may hold at most
 * max_per_source pending peers, so it cannot keep the pool full of
 * sessions of its own. This file keeps the lists and counts; server.c
 * decides who moves.
 */
#ifndef VPND_PEER_H
#define VPND_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "admit.h"
#include "sources.h"
#include "tunnel.h"

enum peer_pool {
	PEER_POOL_UNCONFIRMED, /* pending; handshake answered, unconfirmed */
	PEER_POOL_LOGIN,       /* pending; a session, in its login exchange */
	PEER_POOL_ADMITTED,    /* admitted, or the store is being asked */
};

struct peer {
	struct tunnel_peer tp; /* first: a tunnel_peer * is a peer * */
	uint32_t slot;
	uint32_t generation;   /* of the slot: stale jobs are ignored */
	enum peer_pool pool;
	uint32_t bucket;       /* its key's, kept: tunnel_peer_free wipes
				* the key before peer_release */
	struct peer *pool_prev, *pool_next; /* pending lists, oldest first */
	uint8_t source_key[RATELIMIT_KEY_LEN]; /* where its first handshake
						* came from: counted while
						* pending */
	struct peer *hash_next;
	bool is_doomed;        /* freed after the current event */
	struct peer *doomed_next;
	uint32_t heap_pos;     /* UINT32_MAX: not in the heap */
	uint64_t deadline_ns;
	uint64_t created_ns;
	struct peer_login login; /* admit.h: admission and login exchange */
};

/* p's static key, which its Noise state keeps (not a copy more per
 * session): from the caller's init of p->tp to tunnel_peer_free. */
static inline const uint8_t *
peer_pub(const struct peer *p)
{
	return p->tp.noise.remote_static;
}

struct peer_list {
	struct peer *head, *tail;
	uint32_t len;
};

struct peer_table {
	struct peer **slots;     /* by slot; NULL: free */
	uint32_t *generations;   /* by slot, kept across uses */
	uint32_t *free_slots;    /* a stack of free slot numbers */
	uint32_t n_free;
	uint32_t capacity;       /* max_admitted + max_pending */
	uint32_t count;
	uint32_t max_admitted, max_pending, max_per_source;
	uint32_t n_admitted;
	struct sources sources;  /* pending peers per source */
	struct peer_list unconfirmed, in_login;
	struct peer **buckets;
	uint32_t bucket_mask;
	uint8_t hash_key[16];
	struct peer **heap;
	uint32_t heap_len;
	struct peer *doomed;
};

/* Room for max_admitted + max_pending peers (only the index arrays are
 * allocated now); hash_key should be random. 0 or -errno. */
int peer_table_init(struct peer_table *t, uint32_t max_admitted,
		    uint32_t max_pending, uint32_t max_per_source,
		    const uint8_t hash_key[16])
	__attribute__((warn_unused_result));
/* Frees the table; the caller has freed every peer. */
void peer_table_free(struct peer_table *t);

struct peer *peer_lookup(const struct peer_table *t, const uint8_t pub[32]);

/*
 * A new zeroed peer for pub, from `source_key`, in `pool`, or NULL (no
 * slot, the source holds its share, or the pending pool is full: the
 * caller may free peer_oldest_unconfirmed() and try again; or out of
 * memory). The caller initialises p->tp with pub (peer_pub).
 */
struct peer *peer_alloc(struct peer_table *t, const uint8_t pub[32],
			const uint8_t source_key[RATELIMIT_KEY_LEN],
			enum peer_pool pool, uint64_t now_ns);
/* True if source_key may hold one more pending peer. */
bool peer_source_has_room(const struct peer_table *t,
			  const uint8_t source_key[RATELIMIT_KEY_LEN]);
/* True if a pending peer can be added now without pushing anyone out. */
bool peer_pending_has_room(const struct peer_table *t);
/* The oldest pending peer whose handshake is unconfirmed, or NULL. */
struct peer *peer_oldest_unconfirmed(const struct peer_table *t);
/* Moves p to another pool (LOGIN and ADMITTED are never pushed out). */
void peer_set_pool(struct peer_table *t, struct peer *p, enum peer_pool pool);

/* Frees p; the caller has freed p->tp and its login state. */
void peer_release(struct peer_table *t, struct peer *p);
/* The peer in `slot` if it still has `generation`. */
struct peer *peer_by_slot(const struct peer_table *t, uint32_t slot,
			  uint32_t generation);

/* Marks p to be freed after the current event (once). */
void peer_doom(struct peer_table *t, struct peer *p);
/* Takes one doomed peer off the list, or NULL. */
struct peer *peer_doomed_pop(struct peer_table *t);

/* Sets p's deadline (UINT64_MAX: none) and re-sorts the heap. */
void peer_deadline_set(struct peer_table *t, struct peer *p,
		       uint64_t deadline_ns);
/* The peer with the earliest deadline, or NULL. */
struct peer *peer_heap_top(const struct peer_table *t);

#endif
