// SPDX-License-Identifier: MIT
/*
 * mss.c: real SYNs captured from Linux, and SYNs built with their options
 * in the orders real stacks use (Linux, Windows, macOS), with MSS at an
 * odd offset, last, absent or malformed; IPv4 and IPv6 (behind a
 * hop-by-hop header too); SYN-ACKs; every checksum held against a full
 * recomputation by a naive reference, every other byte unchanged; a
 * truncation sweep; and seeded random option lists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "../../vpnd/mss.h"
#include "pkt.h"
#include "rand.h"

#define SYN 0x02
#define ACK 0x10

/* Builds a TCP segment with `opts` (padded with EOL to a multiple of 4)
 * and `flags` in an IPv4 or IPv6 packet (after `ext`, IPv6 extension
 * headers whose first is numbered ext_type), its checksums right. */
static size_t
build(uint8_t *out, int family, const uint8_t *opts, size_t opt_len,
      uint8_t flags, const uint8_t *ext, size_t ext_len, uint8_t ext_type)
{
	size_t ip = family == AF_INET ? 20 : 40, hlen = 20 + (opt_len + 3) / 4 * 4;
	uint8_t *tcp = out + ip + ext_len;
	size_t total = ip + ext_len + hlen;

	memset(out, 0, total);
	if (family == AF_INET) {
		const uint8_t *parts[1] = { out };
		size_t lens[1] = { 20 };

		out[0] = 0x45;
		set16(out + 2, (uint16_t)total);
		set16(out + 6, 0x4000); /* DF */
		out[8] = 64;
		out[9] = 6;
		memcpy(out + 12, (const uint8_t[]){ 10, 20, 0, 2 }, 4);
		memcpy(out + 16, (const uint8_t[]){ 10, 99, 0, 7 }, 4);
		set16(out + 10, naive_csum(parts, lens, 1));
	} else {
		out[0] = 0x60;
		set16(out + 4, (uint16_t)(total - 40));
		out[6] = ext_len ? ext_type : 6;
		out[7] = 64;
		inet_pton(AF_INET6, "fd00:20::2", out + 8);
		inet_pton(AF_INET6, "fd00:99::7", out + 24);
		if (ext_len)
			memcpy(out + 40, ext, ext_len);
	}
	set16(tcp, 40000);
	set16(tcp + 2, 8080);
	set16(tcp + 4, 0x1234);
	tcp[12] = (uint8_t)(hlen / 4 << 4);
	tcp[13] = flags;
	set16(tcp + 14, 64240);
	memcpy(tcp + 20, opts, opt_len);
	set16(tcp + 16, naive_l4_csum(out, tcp, hlen, 6, 16));
	return total;
}

/* Clamps a copy of pkt to mtu and checks the result: changed only in the
 * MSS value (to `want`, at mss_off) and the TCP checksum, which must be
 * what a full recomputation gives. */
static void
check_clamp(const uint8_t *pkt, size_t len, size_t tcp_off, size_t mtu,
	    size_t mss_off, uint16_t want)
{
	uint8_t *copy = malloc(len);
	bool changed;
	size_t i;

	assert_non_null(copy);
	memcpy(copy, pkt, len);
	changed = mss_clamp(copy, len, mtu);
	assert_int_equal(changed, get16(pkt + mss_off) != want);
	assert_int_equal(get16(copy + mss_off), want);
	assert_int_equal(get16(copy + tcp_off + 16),
			 naive_l4_csum(copy, copy + tcp_off, len - tcp_off, 6,
				       16));
	for (i = 0; i < len; i++)
		if (i != mss_off && i != mss_off + 1 && i != tcp_off + 16 &&
		    i != tcp_off + 17)
			assert_int_equal(copy[i], pkt[i]);
	free(copy);
}

static void
test_for_mtu(void **state)
{
	(void)state;
	assert_int_equal(mss_for_mtu(1500, AF_INET), 1460);
	assert_int_equal(mss_for_mtu(1500, AF_INET6), 1440);
	assert_int_equal(mss_for_mtu(1340, AF_INET), 1300);
	assert_int_equal(mss_for_mtu(1320, AF_INET6), 1260);
	assert_int_equal(mss_for_mtu(60, AF_INET6), 0);
	assert_int_equal(mss_for_mtu(0, AF_INET), 0);
}

static void
test_real_syns(void **state)
{
	uint8_t pkt[128];
	size_t len;

	(void)state;
	len = unhex(syn4_hex, pkt, sizeof(pkt));
	/* The capture is right to begin with. */
	assert_int_equal(naive_l4_csum(pkt, pkt + 20, len - 20, 6, 16),
			 get16(pkt + 36));
	assert_int_equal(get16(pkt + 42), 1460);
	check_clamp(pkt, len, 20, 1340, 42, 1300);
	check_clamp(pkt, len, 20, 1420, 42, 1380);
	/* At or under the limit: left alone. */
	check_clamp(pkt, len, 20, 1500, 42, 1460);
	check_clamp(pkt, len, 20, 9000, 42, 1460);

	len = unhex(syn6_hex, pkt, sizeof(pkt));
	assert_int_equal(get16(pkt + 62), 1440);
	check_clamp(pkt, len, 40, 1320, 62, 1260);
	check_clamp(pkt, len, 40, 1280, 62, 1220);
	check_clamp(pkt, len, 40, 1500, 62, 1440);
}

/* Option lists as stacks send them; MSS 1460 wherever it is. */
static const struct {
	const char *name;
	uint8_t opts[40];
	size_t len;
	int mss_at; /* offset of the value in the options; -1: none */
} orders[] = {
	{ "linux", { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0,
		     1, 3, 3, 7 }, 20, 2 },
	{ "windows", { 2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2 }, 12, 2 },
	{ "macos", { 2, 4, 0x05, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10, 1, 2, 3, 4,
		     0, 0, 0, 0, 4, 2, 0, 0 }, 24, 2 },
	{ "odd offset", { 1, 2, 4, 0x05, 0xb4, 1, 1, 1 }, 8, 3 },
	{ "last", { 1, 1, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7, 2, 4,
		    0x05, 0xb4 }, 20, 18 },
	{ "last, odd", { 1, 3, 3, 7, 4, 2, 1, 2, 4, 0x05, 0xb4, 0 }, 12, 9 },
	{ "none", { 1, 1, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7 }, 16, -1 },
	{ "no options", { 0 }, 0, -1 },
	{ "after EOL", { 0, 0, 0, 0, 2, 4, 0x05, 0xb4 }, 8, -1 },
	{ "bad length", { 2, 3, 0x05, 0xb4 }, 4, -1 },
	{ "overruns", { 1, 1, 1, 8, 40, 0, 0, 0 }, 8, -1 },
	{ "zero length", { 8, 0, 2, 4, 0x05, 0xb4, 0, 0 }, 8, -1 },
	{ "after unknown", { 30, 6, 1, 2, 3, 4, 2, 4, 0x05, 0xb4, 0, 0 }, 12,
	  8 },
};

static void
test_option_orders(void **state)
{
	static const struct {
		int family;
		size_t mtu;
		uint16_t want;
	} cases[] = {
		{ AF_INET, 1340, 1300 }, { AF_INET6, 1320, 1260 },
		{ AF_INET, 1500, 1460 }, { AF_INET6, 9000, 1460 },
	};
	uint8_t pkt[128], before[128];
	size_t i, j, len, tcp;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(orders); i++) {
		for (j = 0; j < ARRAY_SIZE(cases); j++) {
			print_message("%s, case %zu\n", orders[i].name, j);
			len = build(pkt, cases[j].family, orders[i].opts,
				    orders[i].len, SYN, NULL, 0, 0);
			tcp = cases[j].family == AF_INET ? 20 : 40;
			if (orders[i].mss_at >= 0) {
				check_clamp(pkt, len, tcp, cases[j].mtu,
					    tcp + 20 + (size_t)orders[i].mss_at,
					    cases[j].want);
				continue;
			}
			memcpy(before, pkt, len);
			assert_false(mss_clamp(pkt, len, cases[j].mtu));
			assert_memory_equal(pkt, before, len);
		}
	}
}

static void
test_flags(void **state)
{
	static const uint8_t opts[] = { 2, 4, 0x05, 0xb4 };
	uint8_t pkt[128], before[128];
	size_t len;

	(void)state;
	/* A SYN-ACK is clamped as the SYN is. */
	len = build(pkt, AF_INET, opts, 4, SYN | ACK, NULL, 0, 0);
	check_clamp(pkt, len, 20, 1340, 42, 1300);
	len = build(pkt, AF_INET6, opts, 4, SYN | ACK, NULL, 0, 0);
	check_clamp(pkt, len, 40, 1320, 62, 1260);
	/* Without SYN, an MSS option means nothing (RFC 9293 3.7.1). */
	len = build(pkt, AF_INET, opts, 4, ACK, NULL, 0, 0);
	memcpy(before, pkt, len);
	assert_false(mss_clamp(pkt, len, 1340));
	assert_memory_equal(pkt, before, len);
}

static void
test_ip_variants(void **state)
{
	static const uint8_t opts[] = { 2, 4, 0x05, 0xb4 };
	/* Hop-by-hop options (next: TCP), 8 bytes of PadN. */
	static const uint8_t hbh[] = { 6, 0, 1, 4, 0, 0, 0, 0 };
	uint8_t pkt[128], before[128];
	size_t len;

	(void)state;
	len = build(pkt, AF_INET6, opts, 4, SYN, hbh, sizeof(hbh), 0);
	check_clamp(pkt, len, 48, 1320, 70, 1260);

	/* A later fragment has no TCP header, whatever its bytes say. */
	len = build(pkt, AF_INET, opts, 4, SYN, NULL, 0, 0);
	set16(pkt + 6, 0x0010);
	memcpy(before, pkt, len);
	assert_false(mss_clamp(pkt, len, 1340));
	assert_memory_equal(pkt, before, len);
	/* Not TCP. */
	len = build(pkt, AF_INET, opts, 4, SYN, NULL, 0, 0);
	pkt[9] = 17;
	memcpy(before, pkt, len);
	assert_false(mss_clamp(pkt, len, 1340));
	assert_memory_equal(pkt, before, len);
}

/* Cut short anywhere, the packet is read only within its length (ASan
 * watches the exact allocation) and never changed. */
static void
test_truncation_sweep(void **state)
{
	uint8_t pkt[128];
	size_t full, len;
	int f;

	(void)state;
	for (f = 0; f < 2; f++) {
		full = unhex(f ? syn6_hex : syn4_hex, pkt, sizeof(pkt));
		for (len = 0; len < full; len++) {
			uint8_t *cut = malloc(len ? len : 1);

			assert_non_null(cut);
			memcpy(cut, pkt, len);
			assert_false(mss_clamp(cut, len, 1280));
			assert_memory_equal(cut, pkt, len);
			free(cut);
		}
	}
}

/* Random option lists (NOPs and unknown options of random lengths) with
 * one MSS somewhere, random values and MTUs: the MSS becomes the smaller
 * of itself and the limit, the checksum what a recomputation gives. */
static void
test_random_options(void **state)
{
	uint8_t opts[40], pkt[128];
	unsigned int round;

	(void)state;
	rng = 879;
	for (round = 0; round < 5000; round++) {
		int family = round & 1 ? AF_INET6 : AF_INET;
		size_t n = 0, mss_at, len, tcp = family == AF_INET ? 20 : 40;
		size_t before = (size_t)(next_rand() % 33);
		size_t mtu = 1280 + (size_t)(next_rand() % 300);
		uint16_t mss = (uint16_t)(next_rand() % 1600), limit;

		while (n < before) {
			size_t k = before - n >= 3 ? 2 + next_rand() % 4 : 1;

			if (k == 1 || next_rand() % 3 == 0) {
				opts[n++] = 1;
				continue;
			}
			opts[n] = (uint8_t)(5 + next_rand() % 20);
			opts[n + 1] = (uint8_t)k;
			memset(opts + n + 2, (int)next_rand(), k - 2);
			n += k;
		}
		mss_at = n + 2;
		opts[n] = 2;
		opts[n + 1] = 4;
		set16(opts + n + 2, mss);
		n += 4;
		len = build(pkt, family, opts, n, SYN, NULL, 0, 0);
		limit = mss_for_mtu(mtu, family);
		check_clamp(pkt, len, tcp, mtu, tcp + 20 + mss_at,
			    mss > limit ? limit : mss);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_for_mtu),
		cmocka_unit_test(test_real_syns),
		cmocka_unit_test(test_option_orders),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_ip_variants),
		cmocka_unit_test(test_truncation_sweep),
		cmocka_unit_test(test_random_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
