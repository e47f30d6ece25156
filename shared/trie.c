// SPDX-License-Identifier: MIT
/*
 * Longest-prefix match over a path-compressed binary trie (see trie.h),
 * as WireGuard's allowedips.c: each node holds a prefix (its key masked to
 * its cidr); its children differ at bit `cidr`; a node without a value
 * exists only where two subtrees part. Lookups walk down while the node's
 * prefix holds the address, remembering the last value seen.
 */
#include "trie.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

struct trie_node {
	struct trie_node *child[2];
	void *value;
	uint8_t key[16];
	uint8_t cidr;
};

void
trie_init(struct trie *t)
{
	memset(t, 0, sizeof(*t));
}

static void
free_tree(struct trie_node *n)
{
	if (!n)
		return;
	free_tree(n->child[0]);
	free_tree(n->child[1]);
	free(n);
}

void
trie_free(struct trie *t)
{
	free_tree(t->root4);
	free_tree(t->root6);
	memset(t, 0, sizeof(*t));
}

static unsigned int
bits_of(int family)
{
	return family == AF_INET ? 32 : family == AF_INET6 ? 128 : 0;
}

static struct trie_node **
root_of(struct trie *t, int family)
{
	return family == AF_INET ? &t->root4 : &t->root6;
}

static unsigned int
bit_at(const uint8_t *key, unsigned int i)
{
	return (key[i / 8] >> (7 - i % 8)) & 1;
}

/* key with the bits from len on cleared, into out. */
static void
mask(const uint8_t *key, unsigned int len, unsigned int bits, uint8_t *out)
{
	unsigned int i;

	memset(out, 0, 16);
	memcpy(out, key, bits / 8);
	for (i = len; i < bits; i++)
		out[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
}

/* The number of leading bits a and b share, at most bits. */
static unsigned int
common_bits(const uint8_t *a, const uint8_t *b, unsigned int bits)
{
	unsigned int i, n = 0;

	for (i = 0; i < bits / 8; i++) {
		uint8_t x = a[i] ^ b[i];

		if (!x) {
			n += 8;
			continue;
		}
		while (!(x & 0x80)) {
			x <<= 1;
			n++;
		}
		return n;
	}
	return n;
}

/* True if n's prefix holds key. */
static bool
holds(const struct trie_node *n, const uint8_t *key)
{
	unsigned int full = n->cidr / 8, rest = n->cidr % 8;

	if (memcmp(n->key, key, full) != 0)
		return false;
	return !rest || !((n->key[full] ^ key[full]) & (uint8_t)(0xff00u >> rest));
}

static unsigned int
choose(const struct trie_node *n, const uint8_t *key)
{
	return bit_at(key, n->cidr);
}

static struct trie_node *
node_new(const uint8_t *key, unsigned int cidr, void *value)
{
	struct trie_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	memcpy(n->key, key, 16);
	n->cidr = (uint8_t)cidr;
	n->value = value;
	return n;
}

int
trie_insert(struct trie *t, int family, const uint8_t *addr, unsigned int len,
	    void *value)
{
	unsigned int bits = bits_of(family), c;
	struct trie_node **down, *node = NULL, *cur, *fresh, *mid;
	uint8_t key[16], joint[16];

	if (!bits || len > bits || !value)
		return -EINVAL;
	mask(addr, len, bits, key);
	down = root_of(t, family);
	/* The deepest node whose prefix holds ours, down to ours. */
	for (cur = *down; cur && cur->cidr <= len && holds(cur, key);
	     cur = cur->child[choose(cur, key)]) {
		if (cur->cidr == len) {
			t->count += !cur->value;
			cur->value = value;
			return 0;
		}
		node = cur;
	}
	if (node)
		down = &node->child[choose(node, key)];
	fresh = node_new(key, len, value);
	if (!fresh)
		return -ENOMEM;
	t->count++;
	if (!*down) {
		*down = fresh;
		return 0;
	}
	/* The loop stopped here: the subtree's prefix is longer than ours,
	 * or does not hold our key. Either way they part no later than our
	 * length and strictly before the subtree's. */
	c = common_bits((*down)->key, key, bits);
	if (c > len)
		c = len;
	if (c == len) {
		/* Ours holds the subtree that was there: it goes below. */
		fresh->child[choose(fresh, (*down)->key)] = *down;
		*down = fresh;
		return 0;
	}
	/* The two part at bit c: a node without a value joins them. */
	mask(key, c, bits, joint);
	mid = node_new(joint, c, NULL);
	if (!mid) {
		free(fresh);
		t->count--;
		return -ENOMEM;
	}
	mid->child[choose(mid, (*down)->key)] = *down;
	mid->child[choose(mid, fresh->key)] = fresh;
	*down = mid;
	return 0;
}

void *
trie_get(const struct trie *t, int family, const uint8_t *addr,
	 unsigned int len)
{
	unsigned int bits = bits_of(family);
	const struct trie_node *n;
	uint8_t key[16];

	if (!bits || len > bits)
		return NULL;
	mask(addr, len, bits, key);
	n = family == AF_INET ? t->root4 : t->root6;
	while (n && n->cidr <= len && holds(n, key)) {
		if (n->cidr == len)
			return n->value;
		n = n->child[choose(n, key)];
	}
	return NULL;
}

void *
trie_lookup(const struct trie *t, int family, const uint8_t *addr)
{
	unsigned int bits = bits_of(family);
	const struct trie_node *n = family == AF_INET ? t->root4 : t->root6;
	void *best = NULL;

	if (!bits)
		return NULL;
	while (n && holds(n, addr)) {
		if (n->value)
			best = n->value;
		if (n->cidr == bits)
			break;
		n = n->child[choose(n, addr)];
	}
	return best;
}

/* n without a value keeps its place only while it joins two subtrees. */
static struct trie_node *
compact(struct trie_node *n)
{
	struct trie_node *only;

	if (n->value || (n->child[0] && n->child[1]))
		return n;
	only = n->child[0] ? n->child[0] : n->child[1];
	free(n);
	return only;
}

static struct trie_node *
remove_in(struct trie_node *n, const uint8_t *key, unsigned int len,
	  bool *found)
{
	unsigned int side;

	if (!n || n->cidr > len || !holds(n, key))
		return n;
	if (n->cidr == len) {
		*found = n->value != NULL;
		n->value = NULL;
	} else {
		side = choose(n, key);
		n->child[side] = remove_in(n->child[side], key, len, found);
	}
	return compact(n);
}

bool
trie_remove(struct trie *t, int family, const uint8_t *addr, unsigned int len)
{
	unsigned int bits = bits_of(family);
	struct trie_node **root;
	bool found = false;
	uint8_t key[16];

	if (!bits || len > bits)
		return false;
	mask(addr, len, bits, key);
	root = root_of(t, family);
	*root = remove_in(*root, key, len, &found);
	t->count -= found;
	return found;
}

static struct trie_node *
remove_value_in(struct trie_node *n, const void *value, size_t *removed)
{
	if (!n)
		return NULL;
	n->child[0] = remove_value_in(n->child[0], value, removed);
	n->child[1] = remove_value_in(n->child[1], value, removed);
	if (n->value == value) {
		n->value = NULL;
		(*removed)++;
	}
	return compact(n);
}

size_t
trie_remove_value(struct trie *t, const void *value)
{
	size_t removed = 0;

	if (!value)
		return 0;
	t->root4 = remove_value_in(t->root4, value, &removed);
	t->root6 = remove_value_in(t->root6, value, &removed);
	t->count -= removed;
	return removed;
}

static void
walk_in(const struct trie_node *n, int family, trie_fn fn, void *arg)
{
	if (!n)
		return;
	if (n->value)
		fn(arg, family, n->key, n->cidr, n->value);
	walk_in(n->child[0], family, fn, arg);
	walk_in(n->child[1], family, fn, arg);
}

void
trie_walk(const struct trie *t, trie_fn fn, void *arg)
{
	walk_in(t->root4, AF_INET, fn, arg);
	walk_in(t->root6, AF_INET6, fn, arg);
}
