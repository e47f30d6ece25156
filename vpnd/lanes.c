// SPDX-License-Identifier: MIT
/*
 * Lanes of the fair login queue (see lanes.h). There are as many lanes as
 * checks may be in flight, so a free lane exists whenever a check may be
 * added; lookups are linear over them, which costs less than the
 * Argon2id check each one stands for by many orders of magnitude. The
 * order of service is the ring, not the array: a lane reused at a low
 * index must not jump ahead of lanes already waiting.
 */
#include "lanes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
lanes_init(struct lanes *l, unsigned int max, unsigned int per_source)
{
	memset(l, 0, sizeof(*l));
	if (max == 0 || per_source == 0)
		return -EINVAL;
	l->lane = calloc(max, sizeof(*l->lane));
	if (!l->lane)
		return -ENOMEM;
	l->max = max;
	l->per_source = per_source;
	return 0;
}

void
lanes_free(struct lanes *l)
{
	free(l->lane);
	memset(l, 0, sizeof(*l));
}

/* A lane coming into use joins the ring just behind the cursor. */
static void
ring_join(struct lanes *l, struct lane *ln)
{
	unsigned int i = (unsigned int)(ln - l->lane);
	struct lane *at, *before;

	if (!l->has_ring) {
		ln->prev = ln->next = i;
		l->cursor = i;
		l->has_ring = true;
		return;
	}
	at = &l->lane[l->cursor];
	before = &l->lane[at->prev];
	ln->prev = at->prev;
	ln->next = l->cursor;
	before->next = i;
	at->prev = i;
}

static void
ring_leave(struct lanes *l, struct lane *ln)
{
	unsigned int i = (unsigned int)(ln - l->lane);

	if (ln->next == i) {
		l->has_ring = false;
		return;
	}
	l->lane[ln->prev].next = ln->next;
	l->lane[ln->next].prev = ln->prev;
	if (l->cursor == i)
		l->cursor = ln->next;
}

static struct lane *
find(struct lanes *l, const uint8_t key[LANES_KEY_LEN], bool create)
{
	struct lane *free_lane = NULL;
	unsigned int i;

	for (i = 0; i < l->max; i++) {
		struct lane *ln = &l->lane[i];

		if (!ln->in_flight) {
			if (!free_lane)
				free_lane = ln;
		} else if (memcmp(ln->key, key, LANES_KEY_LEN) == 0) {
			return ln;
		}
	}
	if (create && free_lane)
		memcpy(free_lane->key, key, LANES_KEY_LEN);
	return create ? free_lane : NULL;
}

enum lanes_push
lanes_push(struct lanes *l, struct lanes_item *item)
{
	struct lane *ln;

	if (l->in_flight >= l->max)
		return LANES_FULL;
	ln = find(l, item->key, true);
	if (!ln)
		return LANES_FULL; /* not while in_flight < max */
	if (ln->in_flight >= l->per_source)
		return LANES_SOURCE_FULL;
	if (!ln->in_flight)
		ring_join(l, ln);
	item->next = NULL;
	if (ln->tail)
		ln->tail->next = item;
	else
		ln->head = item;
	ln->tail = item;
	ln->in_flight++;
	l->in_flight++;
	l->queued++;
	return LANES_OK;
}

struct lanes_item *
lanes_pop(struct lanes *l)
{
	unsigned int i, k;

	if (!l->queued || !l->has_ring)
		return NULL;
	for (i = 0, k = l->cursor; i < l->max; i++, k = l->lane[k].next) {
		struct lane *ln = &l->lane[k];
		struct lanes_item *item = ln->head;

		if (!item)
			continue;
		ln->head = item->next;
		if (!ln->head)
			ln->tail = NULL;
		item->next = NULL;
		l->cursor = ln->next;
		l->queued--;
		return item;
	}
	return NULL;
}

void
lanes_done(struct lanes *l, const uint8_t key[LANES_KEY_LEN])
{
	struct lane *ln = find(l, key, false);

	if (!ln)
		return;
	ln->in_flight--;
	l->in_flight--;
	if (!ln->in_flight)
		ring_leave(l, ln);
}
