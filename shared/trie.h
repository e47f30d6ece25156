/* SPDX-License-Identifier: MIT */
/*
 * A table of IP prefixes with longest-prefix match, after WireGuard's
 * allowedips: a path-compressed binary trie per family, so a lookup
 * follows at most one node per prefix length (O(32) for IPv4, O(128) for
 * IPv6) and never allocates. vpnd routes packets to sessions with it
 * (cryptokey routing: a destination's owner, a source's rightful sender)
 * and matches access rules; vpnc checks what it accepted. Insertion and
 * removal allocate and free nodes: they are control-plane operations.
 *
 * A prefix maps to one value (a pointer of the caller's); the trie does
 * not own the values. Pure: no I/O.
 */
#ifndef VPN_TRIE_H
#define VPN_TRIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct trie_node;

struct trie {
	struct trie_node *root4, *root6;
	size_t count; /* prefixes held */
};

void trie_init(struct trie *t);
/* Frees every node. */
void trie_free(struct trie *t);

/*
 * Maps addr/len (family AF_INET or AF_INET6; host bits are ignored) to
 * value (not NULL), replacing what the same prefix had. 0, -EINVAL or
 * -ENOMEM (nothing changed).
 */
int trie_insert(struct trie *t, int family, const uint8_t *addr,
		unsigned int len, void *value)
	__attribute__((warn_unused_result));
/* The value of exactly addr/len, or NULL. */
void *trie_get(const struct trie *t, int family, const uint8_t *addr,
	       unsigned int len);
/* Removes exactly addr/len; true if it was there. */
bool trie_remove(struct trie *t, int family, const uint8_t *addr,
		 unsigned int len);
/* Removes every prefix mapped to value; how many. */
size_t trie_remove_value(struct trie *t, const void *value);

/* The value of the longest prefix holding addr, or NULL. */
void *trie_lookup(const struct trie *t, int family, const uint8_t *addr);

/* Calls fn for every prefix, in no particular order; fn must not change
 * the trie. */
typedef void (*trie_fn)(void *arg, int family, const uint8_t *addr,
			unsigned int len, void *value);
void trie_walk(const struct trie *t, trie_fn fn, void *arg);

#endif
