// SPDX-License-Identifier: MIT
/*
 * Session index table (see index.h). It allocates at init and when an
 * insert doubles it; never on lookup, replace or remove.
 */
#include "index.h"

#include <errno.h>
#include <stdlib.h>

/* Slots a table starts with (or fewer, if that is all it may have). */
#define INITIAL_SLOTS 64u

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
	t->max_mask = cap - 1;
	if (cap > INITIAL_SLOTS)
		cap = INITIAL_SLOTS;
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

static void
place(struct index_table *t, uint32_t index, void *value)
{
	uint32_t i;

	for (i = home(t, index); t->slots[i].value; i = (i + 1) & t->mask)
		;
	t->slots[i].index = index;
	t->slots[i].value = value;
}

/* Twice the slots, every entry placed again; false if out of memory. */
static bool
grow(struct index_table *t)
{
	struct index_slot *old = t->slots;
	uint32_t old_cap = t->mask + 1, i;

	t->slots = calloc((size_t)old_cap * 2, sizeof(*t->slots));
	if (!t->slots) {
		t->slots = old;
		return false;
	}
	t->mask = old_cap * 2 - 1;
	for (i = 0; i < old_cap; i++)
		if (old[i].value)
			place(t, old[i].index, old[i].value);
	free(old);
	return true;
}

bool
index_table_insert(struct index_table *t, uint32_t index, void *value)
{
	if (!value || t->count >= t->max_count || find(t, index))
		return false;
	/* At most three quarters full, while it may grow. */
	if (4 * (t->count + 1) > 3 * (t->mask + 1) && t->mask < t->max_mask &&
	    !grow(t))
		return false;
	place(t, index, value);
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
