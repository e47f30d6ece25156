/* SPDX-License-Identifier: MIT */
/*
 * Memory for the answers the login layer keeps for a minute (admit.c,
 * PROTOCOL.md section 6 rule 2), apart from malloc's heap: bump allocation
 * in blocks mapped for them, each block unmapped once its last answer is
 * freed. Kept in the heap, a login storm's answers would each leave a hole
 * between the sessions' long-lived allocations that no later allocation
 * fills and that stays resident, about 120 bytes per session at 10,000;
 * here, a minute after the storm, nothing is left of them.
 *
 * Not thread-safe (the loop's thread); it allocates only blocks, and owns
 * nothing but them: the caller wipes what it kept before freeing it.
 */
#ifndef VPND_ANSWERBUF_H
#define VPND_ANSWERBUF_H

#include <stddef.h>

/* Bytes in a block, its header and each allocation's included. */
#define ANSWERBUF_BLOCK (64 * 1024)
/* The largest allocation (a login answer is at most 1,500 bytes). */
#define ANSWERBUF_MAX 4096

struct answerbuf_block;

struct answerbuf {
	struct answerbuf_block *current; /* where allocations go; NULL: none */
	unsigned int n_blocks;            /* mapped now */
};

/* len bytes (1 .. ANSWERBUF_MAX), 16-byte aligned, or NULL: too large, or
 * out of memory. */
void *answerbuf_alloc(struct answerbuf *b, size_t len);
/* Gives back what answerbuf_alloc returned (NULL: nothing). */
void answerbuf_free(struct answerbuf *b, void *ptr);

#endif
