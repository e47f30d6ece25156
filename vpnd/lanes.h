/* SPDX-License-Identifier: MIT */
/*
 * The fair login queue: a lane of queued password checks per source
 * address (an IPv4 address, an IPv6 /64: ratelimit_source_key()), taken
 * in turn. Each lane holds at most `per_source` checks queued or running,
 * all lanes together at most `max`, so a few busy sources cannot make a
 * newcomer wait behind their backlog, and "full" means the server as a
 * whole is. Pure: no locks (worker.c holds its mutex around every call),
 * no allocation after init; it queues whatever it is given, linked
 * through `struct lanes_item`.
 */
#ifndef VPND_LANES_H
#define VPND_LANES_H

#include <stdbool.h>
#include <stdint.h>

#include "ratelimit.h"

#define LANES_KEY_LEN RATELIMIT_KEY_LEN

/* Embedded in what is queued. */
struct lanes_item {
	struct lanes_item *next;
	uint8_t key[LANES_KEY_LEN];
};

struct lane {
	uint8_t key[LANES_KEY_LEN];
	unsigned int in_flight; /* queued or running; 0: the lane is free */
	struct lanes_item *head, *tail;
	unsigned int prev, next; /* the ring of lanes in use */
};

struct lanes {
	struct lane *lane;  /* max of them: each check may be its own lane */
	unsigned int max;
	unsigned int per_source;
	unsigned int in_flight;
	unsigned int queued;
	/* The lanes in use form a ring; the next pop starts at `cursor`, and
	 * a lane that comes into use joins just behind it: it waits for one
	 * turn of every lane already waiting, never overtaking them. */
	bool has_ring;
	unsigned int cursor;
};

enum lanes_push {
	LANES_OK,
	LANES_FULL,        /* max checks queued or running */
	LANES_SOURCE_FULL, /* per_source of them from this source */
};

/* Room for max checks, per_source from one source (both >= 1). */
int lanes_init(struct lanes *l, unsigned int max, unsigned int per_source)
	__attribute__((warn_unused_result));
void lanes_free(struct lanes *l);

/* Queues `item` in the lane of item->key, if there is room. */
enum lanes_push lanes_push(struct lanes *l, struct lanes_item *item);
/* The next check to run: from the first lane of the ring, from the
 * cursor on, with one queued; that lane goes to the back of the turn.
 * NULL if none is queued. It stays in flight until lanes_done(). */
struct lanes_item *lanes_pop(struct lanes *l);
/* A check of `key` is over (it was popped, and ran). */
void lanes_done(struct lanes *l, const uint8_t key[LANES_KEY_LEN]);

#endif
