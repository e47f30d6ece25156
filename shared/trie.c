// SPDX-License-Identifier: MIT
/*
 * Longest-prefix match over a path-compressed binary trie (see trie.h),
 * as WireGuard's allowedips.c: each node holds a prefix (its key masked to
 * its cidr); its children differ at bit `cidr`; a node without a value
 * exists only where two subtrees part. Lookups walk down while the node's
 * prefix holds the address, remembering the last value seen.
 */
#include "trie.h"

#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/*
 * Keys are two host-order 64-bit words (an IPv4 address in the top half of
 * the first), each prefix length with its mask in a table: a node's test
 * is two XORs and ANDs, with no byte loop and no branch on the prefix
 * length, so a lookup in 10,000 prefixes costs tens of nanoseconds, not
 * hundreds (contrib/bench/prefixbench). A node is 41 bytes, which malloc
 * serves from a 64-byte chunk (with its mask in it, 57 took 80: vpnd
 * holds about two nodes per session).
 */
struct key {
	uint64_t w[2];
};

struct trie_node {
	struct trie_node *child[2];
	void *value;
	struct key key;  /* masked to cidr */
	uint8_t cidr;
};

/* The top `n` bits of a word (n of 0 .. 64 and more), with no shift by
 * 64 or more. */
#define WORD_MASK(n) ((n) >= 64 ? ~0ULL : ~(~0ULL >> ((n) & 63)))
#define MASK(n) { { WORD_MASK(n), WORD_MASK((n) > 64 ? (n) - 64 : 0) } }
#define MASK4(n) MASK(n), MASK((n) + 1), MASK((n) + 2), MASK((n) + 3)
#define MASK16(n) MASK4(n), MASK4((n) + 4), MASK4((n) + 8), MASK4((n) + 12)
#define MASK64(n)                                                           \
	MASK16(n), MASK16((n) + 16), MASK16((n) + 32), MASK16((n) + 48)

/* The mask of each prefix length, 0 .. 128. */
static const struct key masks[129] = { MASK64(0), MASK64(64), MASK(128) };

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

static uint64_t
load_be64(const uint8_t *b)
{
	uint64_t v;

	memcpy(&v, b, sizeof(v));
	return be64toh(v);
}

static struct key
key_of(int family, const uint8_t *addr)
{
	struct key k = { { 0, 0 } };
	uint32_t v4;

	if (family == AF_INET) {
		memcpy(&v4, addr, sizeof(v4));
		k.w[0] = (uint64_t)be32toh(v4) << 32;
	} else {
		k.w[0] = load_be64(addr);
		k.w[1] = load_be64(addr + 8);
	}
	return k;
}

/* The address bytes of k, for trie_walk's callers. */
static void
key_bytes(int family, const struct key *k, uint8_t out[16])
{
	uint64_t be;
	uint32_t v4;

	memset(out, 0, 16);
	if (family == AF_INET) {
		v4 = htobe32((uint32_t)(k->w[0] >> 32));
		memcpy(out, &v4, sizeof(v4));
		return;
	}
	be = htobe64(k->w[0]);
	memcpy(out, &be, sizeof(be));
	be = htobe64(k->w[1]);
	memcpy(out + 8, &be, sizeof(be));
}

static struct key
masked(struct key k, unsigned int len)
{
	k.w[0] &= masks[len].w[0];
	k.w[1] &= masks[len].w[1];
	return k;
}

static unsigned int
bit_at(const struct key *k, unsigned int i)
{
	return (unsigned int)(k->w[i / 64] >> (63 - i % 64)) & 1;
}

/* The number of leading bits a and b share, at most bits. */
static unsigned int
common_bits(const struct key *a, const struct key *b, unsigned int bits)
{
	uint64_t x0 = a->w[0] ^ b->w[0], x1 = a->w[1] ^ b->w[1];
	unsigned int n = x0 ? (unsigned int)__builtin_clzll(x0)
		       : x1 ? 64 + (unsigned int)__builtin_clzll(x1) : 128;

	return n < bits ? n : bits;
}

/* True if n's prefix holds k. */
static bool
holds(const struct trie_node *n, const struct key *k)
{
	const struct key *m = &masks[n->cidr];

	return !(((k->w[0] ^ n->key.w[0]) & m->w[0]) |
		 ((k->w[1] ^ n->key.w[1]) & m->w[1]));
}

static unsigned int
choose(const struct trie_node *n, const struct key *k)
{
	return bit_at(k, n->cidr);
}

static struct trie_node *
node_new(const struct key *k, unsigned int cidr, void *value)
{
	struct trie_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->key = masked(*k, cidr);
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
	struct key key;

	if (!bits || len > bits || !value)
		return -EINVAL;
	key = masked(key_of(family, addr), len);
	down = root_of(t, family);
	/* The deepest node whose prefix holds ours, down to ours. */
	for (cur = *down; cur && cur->cidr <= len && holds(cur, &key);
	     cur = cur->child[choose(cur, &key)]) {
		if (cur->cidr == len) {
			t->count += !cur->value;
			cur->value = value;
			return 0;
		}
		node = cur;
	}
	if (node)
		down = &node->child[choose(node, &key)];
	fresh = node_new(&key, len, value);
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
	c = common_bits(&(*down)->key, &key, bits);
	if (c > len)
		c = len;
	if (c == len) {
		/* Ours holds the subtree that was there: it goes below. */
		fresh->child[choose(fresh, &(*down)->key)] = *down;
		*down = fresh;
		return 0;
	}
	/* The two part at bit c: a node without a value joins them. */
	mid = node_new(&key, c, NULL);
	if (!mid) {
		free(fresh);
		t->count--;
		return -ENOMEM;
	}
	mid->child[choose(mid, &(*down)->key)] = *down;
	mid->child[choose(mid, &fresh->key)] = fresh;
	*down = mid;
	return 0;
}

void *
trie_get(const struct trie *t, int family, const uint8_t *addr,
	 unsigned int len)
{
	unsigned int bits = bits_of(family);
	const struct trie_node *n;
	struct key key;

	if (!bits || len > bits)
		return NULL;
	key = masked(key_of(family, addr), len);
	n = family == AF_INET ? t->root4 : t->root6;
	while (n && n->cidr <= len && holds(n, &key)) {
		if (n->cidr == len)
			return n->value;
		n = n->child[choose(n, &key)];
	}
	return NULL;
}

void *
trie_lookup(const struct trie *t, int family, const uint8_t *addr)
{
	unsigned int bits = bits_of(family);
	const struct trie_node *n = family == AF_INET ? t->root4 : t->root6;
	void *best = NULL;
	struct key key;

	if (!bits)
		return NULL;
	key = key_of(family, addr);
	while (n && holds(n, &key)) {
		if (n->value)
			best = n->value;
		if (n->cidr == bits)
			break;
		n = n->child[choose(n, &key)];
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
remove_in(struct trie_node *n, const struct key *key, unsigned int len,
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
	struct key key;

	if (!bits || len > bits)
		return false;
	key = masked(key_of(family, addr), len);
	root = root_of(t, family);
	*root = remove_in(*root, &key, len, &found);
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
	uint8_t addr[16];

	if (!n)
		return;
	if (n->value) {
		key_bytes(family, &n->key, addr);
		fn(arg, family, addr, n->cidr, n->value);
	}
	walk_in(n->child[0], family, fn, arg);
	walk_in(n->child[1], family, fn, arg);
}

void
trie_walk(const struct trie *t, trie_fn fn, void *arg)
{
	walk_in(t->root4, AF_INET, fn, arg);
	walk_in(t->root6, AF_INET6, fn, arg);
}
