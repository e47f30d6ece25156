// SPDX-License-Identifier: MIT
/*
 * pool.c by vector tables: the server's address and the client range of
 * pools from /0 to /32 and ::/0 to /128 (the edges /30, /31, /32, /126,
 * /127, /128), prefixes given with host bits set, which addresses are
 * usable, counting up with a carry across bytes and the wrap at the top,
 * and the lowest free address (taken lists with holes, with addresses of
 * other pools, full pools, a carry into the next byte); then the lowest
 * free address against a naive scan over random taken sets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "pool.h"
#include "rand.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct prefix
pool_of(const char *text)
{
	struct prefix p;

	assert_true(prefix_parse(text, &p));
	return p;
}

/* An address of the family; "-" stands for "none" and gives false. */
static bool
addr_of(const char *text, int family, uint8_t out[16])
{
	memset(out, 0, 16);
	if (strcmp(text, "-") == 0)
		return false;
	assert_int_equal(inet_pton(family, text, out), 1);
	return true;
}

static void
test_server_and_range(void **state)
{
	static const struct {
		const char *pool, *server, *first, *last;
	} v[] = {
		{ "10.99.0.0/24", "10.99.0.1", "10.99.0.2", "10.99.0.254" },
		{ "10.99.0.77/24", "10.99.0.1", "10.99.0.2", "10.99.0.254" },
		{ "10.0.0.0/23", "10.0.0.1", "10.0.0.2", "10.0.1.254" },
		{ "10.0.0.4/30", "10.0.0.5", "10.0.0.6", "10.0.0.6" },
		{ "10.0.0.6/31", "10.0.0.7", "-", "-" },
		{ "10.0.0.9/32", "-", "-", "-" },
		{ "0.0.0.0/0", "0.0.0.1", "0.0.0.2", "255.255.255.254" },
		{ "172.16.0.0/12", "172.16.0.1", "172.16.0.2",
		  "172.31.255.254" },
		{ "fd00:99::/64", "fd00:99::1", "fd00:99::2",
		  "fd00:99::ffff:ffff:ffff:fffe" },
		{ "fd00:99::1234/64", "fd00:99::1", "fd00:99::2",
		  "fd00:99::ffff:ffff:ffff:fffe" },
		{ "fd00::/126", "fd00::1", "fd00::2", "fd00::2" },
		{ "fd00::4/127", "fd00::5", "-", "-" },
		{ "fd00::9/128", "-", "-", "-" },
		{ "fd00:0:0:ff00::/56", "fd00:0:0:ff00::1", "fd00:0:0:ff00::2",
		  "fd00:0:0:ffff:ffff:ffff:ffff:fffe" },
		{ "::/0", "::1", "::2", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe" },
	};
	uint8_t want_s[16], want_f[16], want_l[16], s[16], f[16], l[16];
	size_t i, len;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		struct prefix p = pool_of(v[i].pool);
		bool has_server = addr_of(v[i].server, p.family, want_s);
		bool has_range = addr_of(v[i].first, p.family, want_f);

		addr_of(v[i].last, p.family, want_l);
		len = prefix_addr_len(p.family);
		memset(s, 0xee, sizeof(s));
		print_message("%s\n", v[i].pool);
		assert_int_equal(pool_server_address(&p, s), has_server);
		if (has_server)
			assert_memory_equal(s, want_s, len);
		else
			assert_int_equal(s[0], 0xee); /* untouched */
		assert_int_equal(pool_range(&p, f, l), has_range);
		if (!has_range)
			continue;
		assert_memory_equal(f, want_f, len);
		assert_memory_equal(l, want_l, len);
		/* the server's address is never a client's */
		assert_false(pool_usable(&p, s));
		assert_true(pool_contains(&p, s));
	}
}

static void
test_usable(void **state)
{
	static const struct {
		const char *pool, *addr;
		bool contains, usable;
	} v[] = {
		{ "10.99.0.0/24", "10.99.0.0", true, false },   /* network */
		{ "10.99.0.0/24", "10.99.0.1", true, false },   /* server */
		{ "10.99.0.0/24", "10.99.0.2", true, true },
		{ "10.99.0.0/24", "10.99.0.128", true, true },
		{ "10.99.0.0/24", "10.99.0.254", true, true },
		{ "10.99.0.0/24", "10.99.0.255", true, false }, /* broadcast */
		{ "10.99.0.0/24", "10.99.1.2", false, false },
		{ "10.99.0.0/24", "10.98.255.254", false, false },
		{ "10.0.0.0/23", "10.0.0.255", true, true },   /* inside a /23 */
		{ "10.0.0.0/23", "10.0.1.0", true, true },
		{ "10.0.0.0/23", "10.0.1.255", true, false },
		{ "10.0.0.4/30", "10.0.0.6", true, true },
		{ "10.0.0.4/30", "10.0.0.7", true, false },
		{ "10.0.0.4/30", "10.0.0.8", false, false },
		{ "10.0.0.6/31", "10.0.0.6", true, false },
		{ "10.0.0.6/31", "10.0.0.7", true, false },
		{ "10.0.0.9/32", "10.0.0.9", true, false },
		{ "fd00:99::/64", "fd00:99::", true, false },
		{ "fd00:99::/64", "fd00:99::1", true, false },
		{ "fd00:99::/64", "fd00:99::2", true, true },
		{ "fd00:99::/64", "fd00:99::ffff:ffff:ffff:fffe", true, true },
		{ "fd00:99::/64", "fd00:99::ffff:ffff:ffff:ffff", true, false },
		{ "fd00:99::/64", "fd00:99:0:1::2", false, false },
		{ "fd00::/126", "fd00::2", true, true },
		{ "fd00::/126", "fd00::3", true, false },
		{ "fd00::4/127", "fd00::5", true, false },
		{ "fd00::9/128", "fd00::9", true, false },
	};
	uint8_t a[16];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		struct prefix p = pool_of(v[i].pool);

		print_message("%s %s\n", v[i].pool, v[i].addr);
		addr_of(v[i].addr, p.family, a);
		assert_int_equal(pool_contains(&p, a), v[i].contains);
		assert_int_equal(pool_usable(&p, a), v[i].usable);
	}
}

static void
test_next(void **state)
{
	static const struct {
		int family;
		const char *from, *to;
		bool ok;
	} v[] = {
		{ AF_INET, "10.0.0.1", "10.0.0.2", true },
		{ AF_INET, "10.0.0.255", "10.0.1.0", true },
		{ AF_INET, "10.0.255.255", "10.1.0.0", true },
		{ AF_INET, "10.255.255.255", "11.0.0.0", true },
		{ AF_INET, "255.255.255.254", "255.255.255.255", true },
		{ AF_INET, "255.255.255.255", "0.0.0.0", false },
		{ AF_INET6, "fd00::1", "fd00::2", true },
		{ AF_INET6, "fd00::ffff", "fd00::1:0", true },
		{ AF_INET6, "fd00::ffff:ffff:ffff:ffff", "fd00:0:0:1::", true },
		{ AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::",
		  false },
	};
	uint8_t a[16], want[16];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		addr_of(v[i].from, v[i].family, a);
		addr_of(v[i].to, v[i].family, want);
		assert_int_equal(pool_next(a, prefix_addr_len(v[i].family)),
				 v[i].ok);
		assert_memory_equal(a, want, prefix_addr_len(v[i].family));
	}
}

#define MAX_TAKEN 8

static void
test_lowest_free(void **state)
{
	static const struct {
		const char *pool;
		const char *taken[MAX_TAKEN]; /* sorted, NULL-ended */
		const char *want;             /* "-": none free */
	} v[] = {
		{ "10.99.0.0/29", { NULL }, "10.99.0.2" },
		{ "10.99.0.0/29", { "10.99.0.2" }, "10.99.0.3" },
		{ "10.99.0.0/29", { "10.99.0.3" }, "10.99.0.2" },
		{ "10.99.0.0/29", { "10.99.0.2", "10.99.0.3", "10.99.0.5" },
		  "10.99.0.4" },
		/* the network and server addresses are never offered */
		{ "10.99.0.0/29", { "10.99.0.0", "10.99.0.1" }, "10.99.0.2" },
		/* other pools' addresses are no obstacle */
		{ "10.99.0.0/29", { "10.1.1.1", "10.99.0.2", "10.200.0.1" },
		  "10.99.0.3" },
		{ "10.99.0.0/29",
		  { "10.99.0.2", "10.99.0.3", "10.99.0.4", "10.99.0.5",
		    "10.99.0.6" },
		  "-" },
		{ "10.99.0.0/29",
		  { "10.99.0.2", "10.99.0.3", "10.99.0.4", "10.99.0.5",
		    "10.99.0.6", "10.99.0.7" },
		  "-" },
		{ "10.0.0.4/30", { NULL }, "10.0.0.6" },
		{ "10.0.0.4/30", { "10.0.0.6" }, "-" },
		{ "10.0.0.6/31", { NULL }, "-" },
		{ "10.0.0.9/32", { NULL }, "-" },
		{ "fd00:99::/64", { "fd00:99::2", "fd00:99::3" }, "fd00:99::4" },
		{ "fd00::/126", { NULL }, "fd00::2" },
		{ "fd00::/126", { "fd00::2" }, "-" },
		{ "fd00::4/127", { NULL }, "-" },
		{ "fd00::9/128", { NULL }, "-" },
	};
	uint8_t taken[MAX_TAKEN * 16], want[16], out[16];
	size_t i, n, len;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		struct prefix p = pool_of(v[i].pool);
		bool has_free;

		len = prefix_addr_len(p.family);
		for (n = 0; n < MAX_TAKEN && v[i].taken[n]; n++)
			addr_of(v[i].taken[n], p.family, taken + n * len);
		has_free = addr_of(v[i].want, p.family, want);
		print_message("%s, %zu taken\n", v[i].pool, n);
		assert_int_equal(pool_lowest_free(&p, taken, n, out), has_free);
		if (has_free)
			assert_memory_equal(out, want, len);
	}
}

/* A /23 whose first 254 addresses are taken: the next is in the next
 * byte, and the last one of all is the broadcast's neighbour. */
static void
test_lowest_free_carry(void **state)
{
	struct prefix p = pool_of("10.0.0.0/23");
	uint8_t taken[509 * 4], out[4], want[16], a[16];
	size_t n = 0;

	(void)state;
	addr_of("10.0.0.2", AF_INET, a);
	while (n < 254) {
		memcpy(taken + n++ * 4, a, 4);
		assert_true(pool_next(a, 4));
	}
	assert_true(pool_lowest_free(&p, taken, n, out));
	addr_of("10.0.1.0", AF_INET, want);
	assert_memory_equal(out, want, 4);
	while (n < 508) {
		memcpy(taken + n++ * 4, a, 4);
		assert_true(pool_next(a, 4));
	}
	assert_true(pool_lowest_free(&p, taken, n, out));
	addr_of("10.0.1.254", AF_INET, want);
	assert_memory_equal(out, want, 4);
	memcpy(taken + n++ * 4, a, 4);
	assert_false(pool_lowest_free(&p, taken, n, out));
}

/* The naive reference: try every address of the range in turn. */
static bool
naive_lowest_free(const struct prefix *p, const bool *is_taken,
		  uint8_t *out)
{
	uint8_t first[4], last[4];
	unsigned int i;

	assert_true(pool_range(p, first, last));
	for (i = 0; i <= (unsigned int)(last[3] - first[3]); i++) {
		if (!is_taken[first[3] + i]) {
			memcpy(out, first, 4);
			out[3] = (uint8_t)(first[3] + i);
			return true;
		}
	}
	return false;
}

static void
test_lowest_free_random(void **state)
{
	struct prefix p = pool_of("192.0.2.64/27");
	bool is_taken[256];
	uint8_t taken[256 * 4], a[4], b[4];
	unsigned int round, host, n;
	bool ok_a, ok_b;

	(void)state;
	rng = 0x5eed;
	for (round = 0; round < 2000; round++) {
		uint64_t density = next_rand() % 100;

		n = 0;
		memset(is_taken, 0, sizeof(is_taken));
		/* every last octet, inside the /27 and around it */
		for (host = 0; host < 256; host++) {
			if (next_rand() % 100 >= density)
				continue;
			is_taken[host] = true;
			memcpy(taken + n * 4, p.addr, 3);
			taken[n++ * 4 + 3] = (uint8_t)host;
		}
		ok_a = pool_lowest_free(&p, taken, n, a);
		ok_b = naive_lowest_free(&p, is_taken, b);
		assert_int_equal(ok_a, ok_b);
		if (ok_a)
			assert_memory_equal(a, b, 4);
		for (host = 0; host < 256; host++) {
			memcpy(a, p.addr, 3);
			a[3] = (uint8_t)host;
			assert_int_equal(pool_is_taken(a, taken, n, 4),
					 is_taken[host]);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_and_range),
		cmocka_unit_test(test_usable),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_lowest_free),
		cmocka_unit_test(test_lowest_free_carry),
		cmocka_unit_test(test_lowest_free_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
