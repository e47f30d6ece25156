/* SPDX-License-Identifier: MIT */
/*
 * Session index table: the 32-bit indices of PROTOCOL.md section 4 mapped to
 * the handshake or keypair that owns them. Open addressing with linear
 * probing and backward-shift deletion. It starts small and doubles on an
 * insert (a handshake) that would fill it past three quarters, up to
 * twice max_entries slots: indices are random, so a table sized for every
 * configured peer would have all its pages touched by a fraction of them
 * (at three quarters, a lookup still probes 2.5 slots on average, 16
 * bytes each). Lookups, on the packet path, never allocate. Indices are
 * chosen at random by the caller, which keeps probe sequences short. Pure.
 */
#ifndef VPN_INDEX_H
#define VPN_INDEX_H

#include <stdbool.h>
#include <stdint.h>

struct index_slot {
	uint32_t index;
	void *value; /* NULL: empty */
};

struct index_table {
	struct index_slot *slots;
	uint32_t mask;      /* slots now, less one */
	uint32_t max_mask;  /* slots at max_count, less one */
	uint32_t count;
	uint32_t max_count;
};

/* A table for up to max_entries; allocates its first few slots. */
int index_table_init(struct index_table *t, uint32_t max_entries)
	__attribute__((warn_unused_result));
void index_table_free(struct index_table *t);

/* False if `index` is taken, the table is full, or it cannot grow (out
 * of memory). value must not be NULL. */
bool index_table_insert(struct index_table *t, uint32_t index, void *value)
	__attribute__((warn_unused_result));
void *index_table_lookup(const struct index_table *t, uint32_t index);
/* Points an existing index at another value; false if absent. */
bool index_table_replace(struct index_table *t, uint32_t index, void *value);
/* False if absent. */
bool index_table_remove(struct index_table *t, uint32_t index);
bool index_table_full(const struct index_table *t);

#endif
