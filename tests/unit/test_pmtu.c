// SPDX-License-Identifier: MIT
/*
 * pmtu.c: the MTUs chosen for each configuration and path; the packet
 * path's verdicts (SYNs clamped both ways, a DF packet too big answered,
 * IPv4 without DF sent whole, ICMP errors and packets with no address to
 * answer from dropped, the answers' rate) with every answer read back
 * field by field and its checksums held against a naive reference; and
 * the discovery against the real kernel, in a private network namespace
 * (skipped without root or /dev/net/tun), as test_netlink does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include "../../vpnd/mss.h"
#include "../../vpnd/pmtu.h"
#include "netlink.h"
#include "pkt.h"
#include "timers.h"
#include "tun.h"

static const uint8_t srv4[4] = { 10, 99, 0, 1 };
static uint8_t srv6[16]; /* fd00:99::1 */

static void
peer_at(struct tunnel_peer *tp, int family)
{
	memset(tp, 0, sizeof(*tp));
	tp->endpoint.addr.sa.sa_family = (sa_family_t)family;
}

static void
test_set(void **state)
{
	static const struct {
		unsigned int configured, path4, path6;
		unsigned int device, mtu4, mtu6;
	} v[] = {
		/* Forced: everywhere. */
		{ 1300, 0, 0, 1300, 1300, 1300 },
		{ 1500, 9000, 1280, 1500, 1500, 1500 },
		/* Auto: 60 bytes over IPv4, 80 over IPv6. */
		{ 0, 1500, 1500, 1440, 1440, 1420 },
		{ 0, 1400, 1400, 1340, 1340, 1320 },
		{ 0, 1500, 1400, 1440, 1440, 1320 },
		{ 0, 1400, 1500, 1420, 1340, 1420 },
		/* One family unknown: the other's path. */
		{ 0, 1400, 0, 1340, 1340, 1320 },
		{ 0, 0, 1400, 1340, 1340, 1320 },
		/* None: 1500 assumed. */
		{ 0, 0, 0, 1440, 1440, 1420 },
		/* Bounds: IPv6's minimum, jumbo frames. */
		{ 0, 1300, 1300, 1280, 1280, 1280 },
		{ 0, 576, 1280, 1280, 1280, 1280 },
		{ 0, 9000, 9000, 8940, 8940, 8920 },
		{ 0, 65535, 65535, 9000, 9000, 9000 },
	};
	struct pmtu pm;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		print_message("case %zu\n", i);
		pmtu_set(&pm, (uint16_t)v[i].configured, v[i].path4,
			 v[i].path6);
		assert_int_equal(pm.device, v[i].device);
		assert_int_equal(pm.mtu4, v[i].mtu4);
		assert_int_equal(pm.mtu6, v[i].mtu6);
		assert_int_equal(pmtu_peer(&pm, AF_INET), v[i].mtu4);
		assert_int_equal(pmtu_peer(&pm, AF_INET6), v[i].mtu6);
		assert_false(pm.has_src4 || pm.has_src6);
	}
}

/* An IPv4 or IPv6 packet of len bytes to a client, from the office host,
 * proto UDP with a payload of a counting pattern; DF set if df. */
static void
make_packet(uint8_t *pkt, int family, size_t len, bool df, uint8_t proto)
{
	size_t i;

	for (i = 0; i < len; i++)
		pkt[i] = (uint8_t)i;
	if (family == AF_INET) {
		const uint8_t *parts[1] = { pkt };
		size_t lens[1] = { 20 };

		memset(pkt, 0, 20);
		pkt[0] = 0x45;
		set16(pkt + 2, (uint16_t)len);
		set16(pkt + 6, df ? 0x4000 : 0);
		pkt[8] = 63;
		pkt[9] = proto;
		memcpy(pkt + 12, (const uint8_t[]){ 10, 20, 0, 2 }, 4);
		memcpy(pkt + 16, (const uint8_t[]){ 10, 99, 0, 7 }, 4);
		set16(pkt + 10, naive_csum(parts, lens, 1));
	} else {
		memset(pkt, 0, 40);
		pkt[0] = 0x60;
		set16(pkt + 4, (uint16_t)(len - 40));
		pkt[6] = proto;
		pkt[7] = 63;
		inet_pton(AF_INET6, "fd00:20::2", pkt + 8);
		inet_pton(AF_INET6, "fd00:99::7", pkt + 24);
	}
}

/* Reads an answer back: addressed from the server to pkt's source, the
 * type, code and MTU of a too-big error, as much of pkt quoted as fits
 * in 576 (IPv4) or 1280 (IPv6) bytes, and checksums that check out. */
static void
check_answer(const uint8_t *ans, size_t ans_len, const uint8_t *pkt,
	     size_t len, uint16_t mtu)
{
	bool v4 = pkt[0] >> 4 == 4;
	size_t hl = v4 ? 20 : 40, max = v4 ? 576 : 1280;
	size_t quoted = len < max - hl - 8 ? len : max - hl - 8;
	const uint8_t *icmp = ans + hl;

	assert_int_equal(ans_len, hl + 8 + quoted);
	assert_true(ans_len <= max);
	if (v4) {
		const uint8_t *parts[1] = { ans };
		size_t lens[1] = { 20 };
		const uint8_t *iparts[1] = { icmp };
		size_t ilens[1] = { ans_len - 20 };

		assert_int_equal(ans[0], 0x45);
		assert_int_equal(get16(ans + 2), ans_len);
		assert_int_equal(ans[9], 1);
		assert_memory_equal(ans + 12, srv4, 4);
		assert_memory_equal(ans + 16, pkt + 12, 4);
		assert_int_equal(naive_csum(parts, lens, 1), 0);
		assert_int_equal(icmp[0], 3);
		assert_int_equal(icmp[1], 4);
		assert_int_equal(get16(icmp + 4), 0);
		assert_int_equal(naive_csum(iparts, ilens, 1), 0);
	} else {
		assert_int_equal(ans[0], 0x60);
		assert_int_equal(get16(ans + 4), ans_len - 40);
		assert_int_equal(ans[6], 58);
		assert_memory_equal(ans + 8, srv6, 16);
		assert_memory_equal(ans + 24, pkt + 8, 16);
		assert_int_equal(icmp[0], 2);
		assert_int_equal(icmp[1], 0);
		assert_int_equal(get16(icmp + 4), 0);
		assert_int_equal(naive_l4_csum(ans, icmp, ans_len - 40, 58, 2),
				 get16(icmp + 2));
	}
	assert_int_equal(get16(icmp + 6), mtu);
	assert_memory_equal(icmp + 8, pkt, quoted);
}

static void
test_outbound(void **state)
{
	static const struct {
		int family;      /* the client's endpoint */
		int inner;       /* the packet's */
		size_t len;
		bool df;
		uint8_t proto;
		enum pmtu_verdict want;
	} v[] = {
		/* Device 1440; clients 1440 over IPv4, 1420 over IPv6. */
		{ AF_INET, AF_INET, 1440, true, 17, PMTU_SEND },
		{ AF_INET6, AF_INET, 1420, true, 17, PMTU_SEND },
		{ AF_INET6, AF_INET, 1421, true, 17, PMTU_ANSWER },
		{ AF_INET6, AF_INET6, 1421, true, 17, PMTU_ANSWER },
		{ AF_INET6, AF_INET6, 1441, true, 17, PMTU_ANSWER },
		{ AF_INET, AF_INET6, 1441, true, 17, PMTU_ANSWER },
		/* Without DF: sent whole, unless cut short by the read. */
		{ AF_INET6, AF_INET, 1440, false, 17, PMTU_SEND },
		{ AF_INET6, AF_INET, 1441, false, 17, PMTU_DROP },
		/* IPv6 has no DF: always answered. */
		{ AF_INET6, AF_INET6, 1440, false, 17, PMTU_ANSWER },
		/* An ICMP error is never answered; an echo request is. */
		{ AF_INET6, AF_INET, 1430, true, 1, PMTU_DROP },
		{ AF_INET6, AF_INET6, 1430, true, 58, PMTU_DROP },
	};
	uint8_t pkt[1600], copy[1600], ans[REPLY_MAX];
	struct tunnel_peer tp;
	struct pmtu pm;
	size_t i, ans_len;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		print_message("case %zu\n", i);
		pmtu_set(&pm, 0, 1500, 1500);
		pmtu_set_sources(&pm, srv4, srv6);
		peer_at(&tp, v[i].family);
		make_packet(pkt, v[i].inner, v[i].len, v[i].df, v[i].proto);
		/* ICMP type 3 (IPv4) and 1 (IPv6): errors. */
		pkt[v[i].inner == AF_INET ? 20 : 40] = 3 - 2 * (v[i].inner ==
								AF_INET6);
		memcpy(copy, pkt, v[i].len);
		ans_len = 0;
		assert_int_equal(pmtu_outbound(&pm, &tp, pkt, v[i].len,
					       NS_PER_S, ans, &ans_len),
				 v[i].want);
		assert_int_equal(tp.mtu, pmtu_peer(&pm, v[i].family));
		assert_memory_equal(pkt, copy, v[i].len);
		if (v[i].want == PMTU_ANSWER)
			check_answer(ans, ans_len, pkt, v[i].len, tp.mtu);
	}
	/* An echo request is answered. */
	make_packet(pkt, AF_INET, 1430, true, 1);
	pkt[20] = 8;
	peer_at(&tp, AF_INET6);
	assert_int_equal(pmtu_outbound(&pm, &tp, pkt, 1430, NS_PER_S, ans,
				       &ans_len), PMTU_ANSWER);
	check_answer(ans, ans_len, pkt, 1430, 1420);
}

/* Forced, the MTU is the answer's for both families; with no tunnel
 * address of the packet's family, nothing is answered. */
static void
test_outbound_forced_and_sources(void **state)
{
	uint8_t pkt[1600], ans[REPLY_MAX];
	struct tunnel_peer tp;
	struct pmtu pm;
	size_t ans_len;

	(void)state;
	pmtu_set(&pm, 1300, 0, 0);
	pmtu_set_sources(&pm, srv4, NULL);
	peer_at(&tp, AF_INET);
	make_packet(pkt, AF_INET, 1400, true, 17);
	assert_int_equal(pmtu_outbound(&pm, &tp, pkt, 1301, 0, ans, &ans_len),
			 PMTU_ANSWER);
	assert_int_equal(get16(ans + 20 + 6), 1300);
	make_packet(pkt, AF_INET6, 1400, true, 17);
	assert_int_equal(pmtu_outbound(&pm, &tp, pkt, 1301, 0, ans, &ans_len),
			 PMTU_DROP);
	pmtu_set_sources(&pm, NULL, srv6);
	assert_int_equal(pmtu_outbound(&pm, &tp, pkt, 1301, 0, ans, &ans_len),
			 PMTU_ANSWER);
	check_answer(ans, ans_len, pkt, 1301, 1300);
}

/* REPLY_BURST answers at once, then one per 1/REPLY_RATE s. */
static void
test_rate(void **state)
{
	uint8_t pkt[1600], ans[REPLY_MAX];
	uint64_t now = 5 * NS_PER_S;
	struct tunnel_peer tp;
	struct pmtu pm;
	size_t ans_len;
	unsigned int i;

	(void)state;
	pmtu_set(&pm, 1300, 0, 0);
	pmtu_set_sources(&pm, srv4, srv6);
	peer_at(&tp, AF_INET);
	make_packet(pkt, AF_INET, 1400, true, 17);
	for (i = 0; i < REPLY_BURST; i++)
		assert_int_equal(pmtu_outbound(&pm, &tp, pkt, 1400, now, ans,
					       &ans_len), PMTU_ANSWER);
	assert_int_equal(pmtu_outbound(&pm, &tp, pkt, 1400, now, ans,
				       &ans_len), PMTU_DROP);
	/* What fits is never held back by the rate. */
	assert_int_equal(pmtu_outbound(&pm, &tp, pkt, 1300, now, ans,
				       &ans_len), PMTU_SEND);
	now += NS_PER_S / REPLY_RATE;
	assert_int_equal(pmtu_outbound(&pm, &tp, pkt, 1400, now, ans,
				       &ans_len), PMTU_ANSWER);
	assert_int_equal(pmtu_outbound(&pm, &tp, pkt, 1400, now, ans,
				       &ans_len), PMTU_DROP);
}

/* SYNs are clamped to the client's tunnel, both ways. */
static void
test_clamps(void **state)
{
	uint8_t pkt[128], ans[REPLY_MAX];
	struct tunnel_peer tp;
	struct pmtu pm;
	size_t len, ans_len;

	(void)state;
	pmtu_set(&pm, 0, 1400, 1400);
	peer_at(&tp, AF_INET6);
	len = unhex(syn4_hex, pkt, sizeof(pkt));
	pmtu_inbound(&pm, &tp, pkt, len);
	assert_int_equal(get16(pkt + 42), mss_for_mtu(1320, AF_INET));
	len = unhex(syn6_hex, pkt, sizeof(pkt));
	assert_int_equal(pmtu_outbound(&pm, &tp, pkt, len, 0, ans, &ans_len),
			 PMTU_SEND);
	assert_int_equal(get16(pkt + 62), mss_for_mtu(1320, AF_INET6));
	peer_at(&tp, AF_INET);
	len = unhex(syn4_hex, pkt, sizeof(pkt));
	assert_int_equal(pmtu_outbound(&pm, &tp, pkt, len, 0, ans, &ans_len),
			 PMTU_SEND);
	assert_int_equal(get16(pkt + 42), 1300);
	/* And the checksum is still right. */
	assert_int_equal(naive_l4_csum(pkt, pkt + 20, len - 20, 6, 16),
			 get16(pkt + 36));
}

/* ---- discovery, against the kernel ----------------------------------------- */

static bool in_private_netns;

static int
group_setup(void **state)
{
	(void)state;
	inet_pton(AF_INET6, "fd00:99::1", srv6);
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0)
		return 0;
	in_private_netns = unshare(CLONE_NEWNET) == 0;
	return 0;
}

/* A TUN device of `mtu`, up, with `addr` on it and a default route of
 * its family through it. Returns its fd. */
static int
uplink(struct netlink *nl, const char *name, unsigned int mtu, int family,
       const char *addr, uint8_t plen)
{
	char ifname[IFNAMSIZ];
	uint8_t a[16], any[16] = { 0 };
	int fd, ifindex;

	assert_int_equal(tun_open(name, ifname, &fd), 0);
	ifindex = (int)if_nametoindex(ifname);
	assert_int_equal(inet_pton(family, addr, a), 1);
	assert_int_equal(netlink_link_set_mtu(nl, ifindex, mtu), 0);
	assert_int_equal(netlink_addr_add(nl, ifindex, family, a, plen), 0);
	assert_int_equal(netlink_link_set_up(nl, ifindex, true), 0);
	assert_int_equal(netlink_route_add(nl, ifindex, family, any, 0, NULL,
					   0), 0);
	return fd;
}

static void
test_discover(void **state)
{
	struct netlink *nl;
	unsigned int mtu;
	uint8_t dst[16];
	struct pmtu pm;
	int fd4, fd6;

	(void)state;
	if (!in_private_netns)
		skip();
	assert_int_equal(netlink_open(&nl), 0);
	/* No default route yet: a path of 1500 assumed. */
	assert_int_equal(netlink_default_mtu(nl, AF_INET, &mtu), -ENETUNREACH);
	assert_int_equal(netlink_default_mtu(nl, AF_INET6, &mtu), -ENETUNREACH);
	pmtu_discover(&pm, 0);
	assert_int_equal(pm.device, 1440);

	fd4 = uplink(nl, "up4", 1400, AF_INET, "192.0.2.1", 24);
	assert_int_equal(netlink_default_mtu(nl, AF_INET, &mtu), 0);
	assert_int_equal(mtu, 1400);
	inet_pton(AF_INET, "198.51.100.7", dst);
	assert_int_equal(netlink_path_mtu(nl, AF_INET, dst, &mtu), 0);
	assert_int_equal(mtu, 1400);
	pmtu_discover(&pm, 0);
	assert_int_equal(pm.mtu4, 1340);
	assert_int_equal(pm.mtu6, 1320);
	assert_int_equal(pm.device, 1340);

	fd6 = uplink(nl, "up6", 1480, AF_INET6, "2001:db8::1", 64);
	assert_int_equal(netlink_default_mtu(nl, AF_INET6, &mtu), 0);
	assert_int_equal(mtu, 1480);
	inet_pton(AF_INET6, "2001:db8:5::7", dst);
	assert_int_equal(netlink_path_mtu(nl, AF_INET6, dst, &mtu), 0);
	assert_int_equal(mtu, 1480);
	pmtu_discover(&pm, 0);
	assert_int_equal(pm.mtu4, 1340);
	assert_int_equal(pm.mtu6, 1400);
	assert_int_equal(pm.device, 1400);
	/* Configured, nothing is asked. */
	pmtu_discover(&pm, 1300);
	assert_int_equal(pm.device, 1300);
	assert_int_equal(pm.mtu6, 1300);

	tun_close(fd6);
	tun_close(fd4);
	netlink_close(nl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_outbound),
		cmocka_unit_test(test_outbound_forced_and_sources),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_clamps),
		cmocka_unit_test(test_discover),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
