// SPDX-License-Identifier: MIT
/*
 * Answer blocks (see answerbuf.h). A block counts what is allocated in
 * it; allocations go to the current block until it is full, then to a new
 * one. A block whose count falls to zero is unmapped, unless it is the
 * current one, which starts again from its beginning (so at most one block
 * stays mapped once every answer is gone; the process's end unmaps it).
 */
#include "answerbuf.h"

#include <stdalign.h>
#include <stdint.h>
#include <sys/mman.h>

#define ALIGN 16u

struct answerbuf_block {
	size_t used;      /* bytes from the block's start, header included */
	unsigned int live; /* allocations not yet freed */
};

/* Before each allocation: its block. */
struct answerbuf_item {
	alignas(ALIGN) struct answerbuf_block *block;
};

#define BLOCK_START                                                          \
	((sizeof(struct answerbuf_block) + ALIGN - 1) / ALIGN * ALIGN)

_Static_assert(sizeof(struct answerbuf_item) == ALIGN, "");
_Static_assert(BLOCK_START + sizeof(struct answerbuf_item) + ANSWERBUF_MAX <=
		       ANSWERBUF_BLOCK,
	       "one allocation of the largest size fits in a block");

static struct answerbuf_block *
block_map(struct answerbuf *b)
{
	struct answerbuf_block *k = mmap(NULL, ANSWERBUF_BLOCK,
					 PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (k == MAP_FAILED)
		return NULL;
	k->used = BLOCK_START;
	k->live = 0;
	b->n_blocks++;
	return k;
}

static void
block_unmap(struct answerbuf *b, struct answerbuf_block *k)
{
	munmap(k, ANSWERBUF_BLOCK);
	b->n_blocks--;
}

void *
answerbuf_alloc(struct answerbuf *b, size_t len)
{
	size_t need = sizeof(struct answerbuf_item) +
		      (len + ALIGN - 1) / ALIGN * ALIGN;
	struct answerbuf_block *k = b->current;
	struct answerbuf_item *item;

	if (len == 0 || len > ANSWERBUF_MAX)
		return NULL;
	if (!k || k->used + need > ANSWERBUF_BLOCK) {
		/* A full block goes when its last allocation does. */
		k = block_map(b);
		if (!k)
			return NULL;
		b->current = k;
	}
	item = (struct answerbuf_item *)((uint8_t *)k + k->used);
	item->block = k;
	k->used += need;
	k->live++;
	return item + 1;
}

void
answerbuf_free(struct answerbuf *b, void *ptr)
{
	struct answerbuf_block *k;

	if (!ptr)
		return;
	k = ((struct answerbuf_item *)ptr - 1)->block;
	if (--k->live > 0)
		return;
	if (k == b->current)
		k->used = BLOCK_START;
	else
		block_unmap(b, k);
}
