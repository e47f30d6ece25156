// SPDX-License-Identifier: MIT
/*
 * Lanes of the fair login queue (see lanes.h). There are as many lanes as
 * checks may be in flight, so a free lane exists whenever a check may be
 * added; lookups are linear over them, which costs less than the
 * Argon2id check each one stands for by many orders of magnitude.
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
	unsigned int i;

	if (!l->queued)
		return NULL;
	for (i = 0; i < l->max; i++) {
		unsigned int k = (l->next + i) % l->max;
		struct lane *ln = &l->lane[k];
		struct lanes_item *item = ln->head;

		if (!item)
			continue;
		ln->head = item->next;
		if (!ln->head)
			ln->tail = NULL;
		item->next = NULL;
		l->next = (k + 1) % l->max;
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
}
