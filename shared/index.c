// SPDX-License-Identifier: MIT
/*
 * Session index table (see index.h). The only allocation is at init.
 */
#include "index.h"

#include <errno.h>
#include <stdlib.h>

static uint32_t
home(const struct index_table *t, uint32_t index)
{
	/* Fibonacci hashing; indices are random, this only spreads them. */
	return (uint32_t)(index * 2654435769u) & t->mask;
}

int
index_table_init(struct index_table *t, uint32_t max_entries)
{
	uint32_t cap = 16;

	if (max_entries == 0 || max_entries > (1u << 28))
		return -EINVAL;
	while (cap < 2 * max_entries)
		cap <<= 1;
	t->slots = calloc(cap, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->mask = cap - 1;
	t->count = 0;
	t->max_count = max_entries;
	return 0;
}

void
index_table_free(struct index_table *t)
{
	free(t->slots);
	t->slots = NULL;
	t->count = 0;
}

static struct index_slot *
find(const struct index_table *t, uint32_t index)
{
	uint32_t i = home(t, index);

	for (;;) {
		struct index_slot *s = &t->slots[i];

		if (!s->value)
			return NULL;
		if (s->index == index)
			return s;
		i = (i + 1) & t->mask;
	}
}

bool
index_table_insert(struct index_table *t, uint32_t index, void *value)
{
	uint32_t i;

	if (!value || t->count >= t->max_count || find(t, index))
		return false;
	for (i = home(t, index); t->slots[i].value; i = (i + 1) & t->mask)
		;
	t->slots[i].index = index;
	t->slots[i].value = value;
	t->count++;
	return true;
}

void *
index_table_lookup(const struct index_table *t, uint32_t index)
{
	struct index_slot *s = find(t, index);

	return s ? s->value : NULL;
}

bool
index_table_replace(struct index_table *t, uint32_t index, void *value)
{
	struct index_slot *s = find(t, index);

	if (!s || !value)
		return false;
	s->value = value;
	return true;
}

bool
index_table_remove(struct index_table *t, uint32_t index)
{
	struct index_slot *s = find(t, index);
	uint32_t hole, i;

	if (!s)
		return false;
	hole = (uint32_t)(s - t->slots);
	/* Backward shift: pull later members of the cluster into the hole
	 * when their home position allows it, so no tombstones are needed. */
	for (i = (hole + 1) & t->mask; t->slots[i].value; i = (i + 1) & t->mask) {
		uint32_t h = home(t, t->slots[i].index);

		if (((i - h) & t->mask) >= ((i - hole) & t->mask)) {
			t->slots[hole] = t->slots[i];
			hole = i;
		}
	}
	t->slots[hole].value = NULL;
	t->slots[hole].index = 0;
	t->count--;
	return true;
}

bool
index_table_full(const struct index_table *t)
{
	return t->count >= t->max_count;
}
