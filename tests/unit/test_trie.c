// SPDX-License-Identifier: MIT
/*
 * trie.c, longest-prefix match: vectors (nested prefixes, host routes,
 * /0, IPv4 and IPv6 apart, replacing, removing the middle of a chain),
 * and a differential test against a naive table (every prefix in an
 * array, the longest that holds the address wins) over seeded random
 * inserts, removals and lookups, biased so prefixes nest and collide.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "rand.h"
#include "trie.h"

static void *
v(uintptr_t n)
{
	return (void *)n;
}

static uintptr_t
look4(const struct trie *t, const char *addr)
{
	uint8_t a[4];

	assert_int_equal(inet_pton(AF_INET, addr, a), 1);
	return (uintptr_t)trie_lookup(t, AF_INET, a);
}

static int
ins4(struct trie *t, const char *addr, unsigned int len, uintptr_t value)
{
	uint8_t a[4];

	assert_int_equal(inet_pton(AF_INET, addr, a), 1);
	return trie_insert(t, AF_INET, a, len, v(value));
}

static bool
rm4(struct trie *t, const char *addr, unsigned int len)
{
	uint8_t a[4];

	assert_int_equal(inet_pton(AF_INET, addr, a), 1);
	return trie_remove(t, AF_INET, a, len);
}

static void
test_vectors(void **state)
{
	struct trie t;
	uint8_t a6[16];

	(void)state;
	trie_init(&t);
	assert_int_equal(look4(&t, "10.0.0.1"), 0);
	assert_int_equal(ins4(&t, "10.0.0.0", 8, 1), 0);
	assert_int_equal(ins4(&t, "10.20.0.0", 16, 2), 0);
	assert_int_equal(ins4(&t, "10.20.30.0", 24, 3), 0);
	assert_int_equal(ins4(&t, "10.20.30.40", 32, 4), 0);
	assert_int_equal(ins4(&t, "10.99.9.9", 15, 5), 0); /* host bits */
	assert_int_equal(t.count, 5);
	assert_int_equal(look4(&t, "10.1.2.3"), 1);
	assert_int_equal(look4(&t, "10.20.1.1"), 2);
	assert_int_equal(look4(&t, "10.20.30.1"), 3);
	assert_int_equal(look4(&t, "10.20.30.40"), 4);
	assert_int_equal(look4(&t, "10.20.30.41"), 3);
	assert_int_equal(look4(&t, "10.98.0.1"), 5);
	assert_int_equal(look4(&t, "10.100.0.1"), 1);
	assert_int_equal(look4(&t, "11.0.0.1"), 0);
	/* The same prefix again replaces its value. */
	assert_int_equal(ins4(&t, "10.20.0.0", 16, 6), 0);
	assert_int_equal(t.count, 5);
	assert_int_equal(look4(&t, "10.20.1.1"), 6);
	assert_ptr_equal(trie_get(&t, AF_INET, (uint8_t[]){ 10, 20, 7, 7 }, 16),
			 v(6));
	assert_null(trie_get(&t, AF_INET, (uint8_t[]){ 10, 20, 0, 0 }, 17));
	/* Removing the middle of a chain keeps both ends. */
	assert_true(rm4(&t, "10.20.0.0", 16));
	assert_false(rm4(&t, "10.20.0.0", 16));
	assert_int_equal(look4(&t, "10.20.1.1"), 1);
	assert_int_equal(look4(&t, "10.20.30.1"), 3);
	/* /0 is the default; IPv6 is apart. */
	assert_int_equal(ins4(&t, "0.0.0.0", 0, 7), 0);
	assert_int_equal(look4(&t, "11.0.0.1"), 7);
	memset(a6, 0, sizeof(a6));
	assert_null(trie_lookup(&t, AF_INET6, a6));
	a6[0] = 0xfd;
	assert_int_equal(trie_insert(&t, AF_INET6, a6, 8, v(8)), 0);
	a6[15] = 1;
	assert_ptr_equal(trie_lookup(&t, AF_INET6, a6), v(8));
	assert_int_equal(look4(&t, "253.0.0.1"), 7);
	/* Bad arguments change nothing. */
	assert_int_equal(trie_insert(&t, AF_INET, a6, 33, v(9)), -EINVAL);
	assert_int_equal(trie_insert(&t, AF_INET, a6, 8, NULL), -EINVAL);
	assert_int_equal(trie_insert(&t, 99, a6, 8, v(9)), -EINVAL);
	/* Every prefix of one value goes at once. */
	assert_int_equal(ins4(&t, "192.0.2.0", 24, 3), 0);
	assert_int_equal(trie_remove_value(&t, v(3)), 2);
	assert_int_equal(look4(&t, "10.20.30.1"), 1);
	assert_int_equal(look4(&t, "192.0.2.1"), 7);
	assert_int_equal(t.count, 5);
	trie_free(&t);
}

/* ---- against a naive table ---------------------------------------------------- */

#define N 400

struct entry {
	bool used;
	int family;
	uint8_t addr[16];
	unsigned int len;
	uintptr_t value;
};

static bool
naive_holds(const struct entry *e, const uint8_t *addr)
{
	unsigned int i;

	for (i = 0; i < e->len; i++)
		if (((e->addr[i / 8] ^ addr[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

static uintptr_t
naive_lookup(const struct entry *tab, int family, const uint8_t *addr)
{
	const struct entry *best = NULL;
	size_t i;

	for (i = 0; i < N; i++)
		if (tab[i].used && tab[i].family == family &&
		    naive_holds(&tab[i], addr) &&
		    (!best || tab[i].len > best->len))
			best = &tab[i];
	return best ? best->value : 0;
}

static struct entry *
naive_find(struct entry *tab, int family, const uint8_t *addr,
	   unsigned int len)
{
	struct entry probe = { .len = len };
	size_t i;

	memcpy(probe.addr, addr, 16);
	for (i = 0; i < N; i++)
		if (tab[i].used && tab[i].family == family &&
		    tab[i].len == len && naive_holds(&tab[i], addr) &&
		    naive_holds(&probe, tab[i].addr))
			return &tab[i];
	return NULL;
}

/* Addresses near each other, so prefixes nest and part often. */
static void
random_addr(int family, uint8_t *addr)
{
	size_t i, n = family == AF_INET ? 4 : 16;

	memset(addr, 0, 16);
	for (i = 0; i < n; i++)
		addr[i] = (uint8_t)(next_rand() % 4 ? next_rand() % 4
						     : next_rand());
}

static void
test_against_naive(void **state)
{
	static struct entry tab[N];
	struct trie t;
	unsigned int step, i;

	(void)state;
	rng = 17;
	memset(tab, 0, sizeof(tab));
	trie_init(&t);
	for (step = 0; step < 60000; step++) {
		int family = next_rand() % 3 ? AF_INET : AF_INET6;
		unsigned int bits = family == AF_INET ? 32 : 128;
		unsigned int len = (unsigned int)(next_rand() % (bits + 1));
		unsigned int op = (unsigned int)(next_rand() % 10);
		uint8_t addr[16];
		struct entry *e;

		random_addr(family, addr);
		e = naive_find(tab, family, addr, len);
		if (op < 4) {
			uintptr_t value = 1 + (uintptr_t)(next_rand() % 50);

			if (!e) {
				for (i = 0; i < N && tab[i].used; i++)
					;
				if (i == N)
					continue;
				e = &tab[i];
				e->used = true;
				e->family = family;
				memcpy(e->addr, addr, 16);
				e->len = len;
			}
			e->value = value;
			assert_int_equal(trie_insert(&t, family, addr, len,
						     v(value)),
					 0);
		} else if (op < 6) {
			assert_int_equal(trie_remove(&t, family, addr, len),
					 e != NULL);
			if (e)
				e->used = false;
		} else if (op == 6) {
			uintptr_t value = 1 + (uintptr_t)(next_rand() % 50);
			size_t want = 0;

			for (i = 0; i < N; i++)
				if (tab[i].used && tab[i].value == value) {
					tab[i].used = false;
					want++;
				}
			assert_int_equal(trie_remove_value(&t, v(value)),
					 want);
		} else {
			assert_int_equal((uintptr_t)trie_lookup(&t, family,
								addr),
					 naive_lookup(tab, family, addr));
			assert_ptr_equal(trie_get(&t, family, addr, len),
					 e ? v(e->value) : NULL);
		}
		if (step % 1000 == 0) {
			size_t n = 0;

			for (i = 0; i < N; i++)
				n += tab[i].used;
			assert_int_equal(t.count, n);
		}
	}
	trie_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_against_naive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
