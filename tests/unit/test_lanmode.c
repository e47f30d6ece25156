// SPDX-License-Identifier: MIT
/*
 * lanmode_subnet_find, how proxy-arp finds the LAN a pool is a range of,
 * on address lists as the kernel gives them: the subnet that holds the
 * pool strictly (a subnet equal to the pool, or inside it, does not; an
 * address of the other family never does), the longest of several, one
 * interface's only when asked, two interfaces with the same longest
 * subnet refused as ambiguous, none found.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <errno.h>

#include "../../vpnd/lanmode.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* An interface's address "address/len", as the kernel lists it: the
 * address with its host bits. */
static struct netlink_addr
addr_of(int ifindex, const char *text)
{
	struct netlink_addr a = { .ifindex = ifindex };
	const char *slash = strchr(text, '/');
	char host[64];

	assert_non_null(slash);
	assert_true((size_t)(slash - text) < sizeof(host));
	memcpy(host, text, (size_t)(slash - text));
	host[slash - text] = '\0';
	a.family = strchr(host, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(a.family, host, a.addr), 1);
	a.prefix_len = (uint8_t)atoi(slash + 1);
	return a;
}

static struct prefix
pool_of(const char *text)
{
	struct prefix p;

	assert_true(prefix_parse(text, &p));
	return p;
}

static void
test_found(void **state)
{
	const struct netlink_addr addrs[] = {
		addr_of(1, "127.0.0.1/8"),
		addr_of(2, "192.0.2.1/24"),
		addr_of(3, "10.20.0.1/24"),
		addr_of(3, "fd00:20::1/64"),
		addr_of(3, "fe80::1/64"),
	};
	struct prefix v4 = pool_of("10.20.0.128/25");
	struct prefix v6 = pool_of("fd00:20::100/120");

	(void)state;
	assert_int_equal(lanmode_subnet_find(addrs, ARRAY_SIZE(addrs), 0, &v4),
			 2);
	assert_int_equal(lanmode_subnet_find(addrs, ARRAY_SIZE(addrs), 3, &v4),
			 2);
	assert_int_equal(lanmode_subnet_find(addrs, ARRAY_SIZE(addrs), 0, &v6),
			 3);
	/* Asked about another interface: not there. */
	assert_int_equal(lanmode_subnet_find(addrs, ARRAY_SIZE(addrs), 2, &v4),
			 -ENOENT);
	assert_int_equal(lanmode_subnet_find(addrs, 0, 0, &v4), -ENOENT);
}

/* The subnet must hold the pool as a strict part. */
static void
test_strict(void **state)
{
	const struct netlink_addr same[] = { addr_of(3, "10.20.0.129/25") };
	const struct netlink_addr inside[] = { addr_of(3, "10.20.0.200/26") };
	const struct netlink_addr beside[] = { addr_of(3, "10.20.1.1/24") };
	const struct netlink_addr other[] = { addr_of(3, "fd00:20::1/64") };
	struct prefix v4 = pool_of("10.20.0.128/25");

	(void)state;
	assert_int_equal(lanmode_subnet_find(same, 1, 0, &v4), -ENOENT);
	assert_int_equal(lanmode_subnet_find(inside, 1, 0, &v4), -ENOENT);
	assert_int_equal(lanmode_subnet_find(beside, 1, 0, &v4), -ENOENT);
	assert_int_equal(lanmode_subnet_find(other, 1, 0, &v4), -ENOENT);
}

/* Nested subnets: the longest wins, wherever it is listed. */
static void
test_longest(void **state)
{
	const struct netlink_addr addrs[] = {
		addr_of(2, "10.0.0.1/8"),
		addr_of(3, "10.20.0.1/24"),
		addr_of(4, "10.20.0.1/16"),
	};
	const struct netlink_addr later[] = {
		addr_of(3, "10.20.0.1/24"),
		addr_of(2, "10.0.0.1/8"),
	};
	struct prefix v4 = pool_of("10.20.0.128/25");

	(void)state;
	assert_int_equal(lanmode_subnet_find(addrs, ARRAY_SIZE(addrs), 0, &v4),
			 1);
	assert_int_equal(lanmode_subnet_find(later, ARRAY_SIZE(later), 0, &v4),
			 0);
	/* Only interface 2's: its /8. */
	assert_int_equal(lanmode_subnet_find(addrs, ARRAY_SIZE(addrs), 2, &v4),
			 0);
}

/* The same longest subnet on two interfaces: which LAN is meant cannot
 * be told. Twice on one interface (a second address) is no tie; a tie
 * beaten by a longer subnet is none either. */
static void
test_tie(void **state)
{
	const struct netlink_addr two[] = {
		addr_of(3, "10.20.0.1/24"),
		addr_of(4, "10.20.0.2/24"),
	};
	const struct netlink_addr one[] = {
		addr_of(3, "10.20.0.1/24"),
		addr_of(3, "10.20.0.2/24"),
	};
	const struct netlink_addr beaten[] = {
		addr_of(3, "10.20.0.1/16"),
		addr_of(4, "10.20.0.2/16"),
		addr_of(5, "10.20.0.3/24"),
	};
	struct prefix v4 = pool_of("10.20.0.128/25");

	(void)state;
	assert_int_equal(lanmode_subnet_find(two, 2, 0, &v4), -ENOTUNIQ);
	assert_int_equal(lanmode_subnet_find(two, 2, 4, &v4), 1);
	assert_int_equal(lanmode_subnet_find(one, 2, 0, &v4), 0);
	assert_int_equal(lanmode_subnet_find(beaten, 3, 0, &v4), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_found),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_longest),
		cmocka_unit_test(test_tie),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
