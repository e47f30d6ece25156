// SPDX-License-Identifier: MIT
/*
 * Counts per source (see sources.h). At most `max` sources are counted at
 * once and the table has at least twice as many slots, so every probe
 * meets an empty slot.
 */
#include "sources.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shorthash.h"

int
sources_init(struct sources *t, uint32_t max,
	     const uint8_t hash_key[SOURCES_HASH_KEY_LEN])
{
	uint32_t size = 16;

	memset(t, 0, sizeof(*t));
	if (max == 0 || max > (1u << 28))
		return -EINVAL;
	while (size < 2 * max)
		size <<= 1;
	t->slots = calloc(size, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->mask = size - 1;
	memcpy(t->hash_key, hash_key, SOURCES_HASH_KEY_LEN);
	return 0;
}

void
sources_free(struct sources *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static uint32_t
home(const struct sources *t, const uint8_t key[RATELIMIT_KEY_LEN])
{
	return shorthash32(t->hash_key, key, RATELIMIT_KEY_LEN) & t->mask;
}

/* key's slot, or the empty slot where it would go. */
static uint32_t
find(const struct sources *t, const uint8_t key[RATELIMIT_KEY_LEN])
{
	uint32_t i = home(t, key);

	while (t->slots[i].count &&
	       memcmp(t->slots[i].key, key, RATELIMIT_KEY_LEN) != 0)
		i = (i + 1) & t->mask;
	return i;
}

uint32_t
sources_count(const struct sources *t, const uint8_t key[RATELIMIT_KEY_LEN])
{
	return t->slots[find(t, key)].count;
}

void
sources_add(struct sources *t, const uint8_t key[RATELIMIT_KEY_LEN])
{
	struct source_count *s = &t->slots[find(t, key)];

	if (!s->count)
		memcpy(s->key, key, RATELIMIT_KEY_LEN);
	s->count++;
}

void
sources_remove(struct sources *t, const uint8_t key[RATELIMIT_KEY_LEN])
{
	uint32_t hole = find(t, key), i, h;

	if (!t->slots[hole].count || --t->slots[hole].count)
		return;
	/* Backward shift: later members of the cluster move into the hole
	 * when their home allows it, so lookups need no tombstones. */
	for (i = (hole + 1) & t->mask; t->slots[i].count;
	     i = (i + 1) & t->mask) {
		h = home(t, t->slots[i].key);
		if (((i - h) & t->mask) >= ((i - hole) & t->mask)) {
			t->slots[hole] = t->slots[i];
			hole = i;
		}
	}
	memset(&t->slots[hole], 0, sizeof(t->slots[hole]));
}
