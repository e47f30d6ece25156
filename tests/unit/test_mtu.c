// SPDX-License-Identifier: MIT
/*
 * vpnc/mtu.c: the choice between the server's MTU and the path's, by the
 * outer family, as a vector table; then mtu_for_server() against the
 * real kernel in a private network namespace (skipped without root or
 * /dev/net/tun, as test_pmtu does): a route through a smaller link lowers
 * the MTU, a route through vpnc's own device or no route at all leaves
 * the server's, a configured MTU is taken as it is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include "../../vpnc/mtu.h"
#include "netlink.h"
#include "tun.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void
test_choose(void **state)
{
	static const struct {
		uint16_t forced, pushed;
		unsigned int path;
		int family;
		uint16_t want;
	} v[] = {
		/* Configured: whatever the server and the path say. */
		{ 1500, 1420, 1400, AF_INET, 1500 },
		{ 1280, 9000, 0, AF_INET6, 1280 },
		/* The path unknown: the server's. */
		{ 0, 1420, 0, AF_INET, 1420 },
		{ 0, 576, 0, AF_INET6, 576 },
		/* The smaller: 60 bytes over IPv4, 80 over IPv6. */
		{ 0, 1420, 1500, AF_INET, 1420 },
		{ 0, 1440, 1500, AF_INET, 1440 },
		{ 0, 1440, 1500, AF_INET6, 1420 },
		{ 0, 1440, 1400, AF_INET, 1340 },
		{ 0, 1440, 1400, AF_INET6, 1320 },
		{ 0, 1340, 1401, AF_INET, 1340 },
		{ 0, 1340, 1399, AF_INET, 1339 },
		/* A path under IPv6's minimum counts as the minimum (its
		 * datagrams are fragmented), never below the server's. */
		{ 0, 1420, 1300, AF_INET6, 1280 },
		{ 0, 1420, 576, AF_INET, 1280 },
		{ 0, 1000, 576, AF_INET, 1000 },
		/* Jumbo frames, up to 9000. */
		{ 0, 9000, 9000, AF_INET, 8940 },
		{ 0, 9000, 65535, AF_INET6, 9000 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		print_message("case %zu\n", i);
		assert_int_equal(mtu_choose(v[i].forced, v[i].pushed,
					    v[i].path, v[i].family),
				 v[i].want);
	}
}

/* ---- against the kernel ---------------------------------------------------- */

static bool in_private_netns;

static int
group_setup(void **state)
{
	(void)state;
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0)
		return 0;
	in_private_netns = unshare(CLONE_NEWNET) == 0;
	return 0;
}

/* A TUN device of `mtu`, up, with `addr`/plen on it and a route to `dst`
 * (a prefix of dst_len) through it. Its index into *ifindex; its fd. */
static int
link_up(struct netlink *nl, const char *name, unsigned int mtu, int family,
	const char *addr, uint8_t plen, const char *dst, uint8_t dst_len,
	int *ifindex)
{
	char ifname[IFNAMSIZ];
	uint8_t a[16], d[16];
	int fd;

	assert_int_equal(tun_open(name, ifname, &fd), 0);
	*ifindex = (int)if_nametoindex(ifname);
	assert_int_equal(inet_pton(family, addr, a), 1);
	assert_int_equal(inet_pton(family, dst, d), 1);
	assert_int_equal(netlink_link_set_mtu(nl, *ifindex, mtu), 0);
	assert_int_equal(netlink_addr_add(nl, *ifindex, family, a, plen), 0);
	assert_int_equal(netlink_link_set_up(nl, *ifindex, true), 0);
	assert_int_equal(netlink_route_add(nl, *ifindex, family, d, dst_len,
					   NULL, 0), 0);
	return fd;
}

static void
test_for_server(void **state)
{
	uint8_t server4[4], server6[16];
	int fd_up, fd_vpn, up, vpn;
	struct netlink *nl;

	(void)state;
	if (!in_private_netns)
		skip();
	assert_int_equal(netlink_open(&nl), 0);
	inet_pton(AF_INET, "198.51.100.7", server4);
	inet_pton(AF_INET6, "2001:db8:5::7", server6);
	/* No route to the server yet: the server's MTU. */
	assert_int_equal(mtu_for_server(nl, 0, 1420, AF_INET, server4, 0),
			 1420);
	assert_int_equal(mtu_for_server(nl, 0, 1420, AF_INET6, server6, 0),
			 1420);

	/* A 1400-byte uplink: 1340 over IPv4, 1320 over IPv6. */
	fd_up = link_up(nl, "up0", 1400, AF_INET, "192.0.2.1", 24, "0.0.0.0",
			0, &up);
	assert_int_equal(mtu_for_server(nl, 0, 1440, AF_INET, server4, 0),
			 1340);
	assert_int_equal(mtu_for_server(nl, 0, 1300, AF_INET, server4, 0),
			 1300);
	assert_int_equal(mtu_for_server(nl, 1500, 1440, AF_INET, server4, 0),
			 1500);
	assert_int_equal(netlink_route_add(nl, up, AF_INET6,
					   (const uint8_t[16]){ 0 }, 0, NULL,
					   0), 0);
	assert_int_equal(mtu_for_server(nl, 0, 1440, AF_INET6, server6, 0),
			 1320);

	/* A more specific route to the server through vpnc's own device:
	 * no path of its own to learn from. */
	fd_vpn = link_up(nl, "vpn0", 9000, AF_INET, "10.99.0.2", 24,
			 "198.51.100.0", 24, &vpn);
	assert_int_equal(mtu_for_server(nl, 0, 1440, AF_INET, server4, vpn),
			 1440);
	/* Not vpnc's device: its MTU counts. */
	assert_int_equal(mtu_for_server(nl, 0, 9000, AF_INET, server4, 0),
			 8940);
	assert_int_equal(mtu_for_server(nl, 0, 9000, AF_INET, server4, up),
			 8940);

	tun_close(fd_vpn);
	tun_close(fd_up);
	netlink_close(nl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_choose),
		cmocka_unit_test(test_for_server),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
