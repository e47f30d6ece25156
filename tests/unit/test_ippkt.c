// SPDX-License-Identifier: MIT
/*
 * ippkt.c: captured packets read back (addresses, protocol, ports, TCP
 * flags, ICMP type) and their checksums verified, IPv4 and IPv6
 * fragments and extension headers, a truncation sweep of every packet at
 * every length, RFC 1071's own example, and the sum against a naive one
 * over seeded random buffers cut at random even points.
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ipvec.h"
#include "ippkt.h"
#include "rand.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *hex;
	int family;
	uint8_t proto;
	int sport, dport; /* -1: none */
	int flags, icmp;  /* -1: none */
} captured[] = {
	{ syn4_hex, AF_INET, IPPROTO_TCP, 0xa4b0, 8081, IPPKT_TCP_SYN, -1 },
	{ syn6_hex, AF_INET6, IPPROTO_TCP, 0xea28, 8081, IPPKT_TCP_SYN, -1 },
	{ udp4_hex, AF_INET, IPPROTO_UDP, 0xab76, 53, -1, -1 },
	{ udp6_hex, AF_INET6, IPPROTO_UDP, 0xe14e, 53, -1, -1 },
	{ ping4_hex, AF_INET, IPPROTO_ICMP, -1, -1, -1, 8 },
	{ ping6_hex, AF_INET6, IPPROTO_ICMPV6, -1, -1, -1, 128 },
};

/* The checksum of a transport segment, pseudo-header included, is 0
 * when the segment's own field is right (ICMP for IPv4 has none). */
static uint16_t
l4_check(const struct ippkt *p, const uint8_t *pkt)
{
	uint32_t sum = 0;
	size_t len = p->len - p->l4_off;

	if (p->proto != IPPROTO_ICMP)
		sum = ippkt_pseudo_sum(p->family, p->src, p->dst, p->proto, len);
	return ippkt_fold(ippkt_sum(sum, pkt + p->l4_off, len));
}

static void
test_captured(void **state)
{
	uint8_t pkt[256];
	struct ippkt p;
	size_t i, len;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(captured); i++) {
		len = ipvec_hex(captured[i].hex, pkt, sizeof(pkt));
		assert_true(ippkt_parse(pkt, len, &p));
		assert_int_equal(p.family, captured[i].family);
		assert_int_equal(p.proto, captured[i].proto);
		assert_int_equal(p.len, len);
		assert_ptr_equal(p.src, pkt + (p.family == AF_INET ? 12 : 8));
		assert_ptr_equal(p.dst, pkt + (p.family == AF_INET ? 16 : 24));
		assert_int_equal(p.l4_off, p.family == AF_INET ? 20 : 40);
		assert_false(p.is_fragment);
		assert_int_equal(p.has_ports, captured[i].sport >= 0);
		if (p.has_ports) {
			assert_int_equal(p.sport, captured[i].sport);
			assert_int_equal(p.dport, captured[i].dport);
		}
		assert_int_equal(p.has_tcp_flags, captured[i].flags >= 0);
		if (p.has_tcp_flags)
			assert_int_equal(p.tcp_flags, captured[i].flags);
		assert_int_equal(p.has_icmp_type, captured[i].icmp >= 0);
		if (p.has_icmp_type)
			assert_int_equal(p.icmp_type, captured[i].icmp);
		assert_false(ippkt_is_icmp_error(&p));
		/* Linux's checksums verify with ours. */
		if (p.family == AF_INET)
			assert_int_equal(ippkt_fold(ippkt_sum(0, pkt, 20)), 0);
		assert_int_equal(l4_check(&p, pkt), 0);
	}
}

static void
test_not_ip(void **state)
{
	uint8_t pkt[64];
	struct ippkt p;

	(void)state;
	memset(pkt, 0, sizeof(pkt));
	assert_false(ippkt_parse(pkt, 0, &p));
	assert_false(ippkt_parse(pkt, sizeof(pkt), &p)); /* version 0 */
	pkt[0] = 0x44; /* IPv4, a header of 16 bytes */
	assert_false(ippkt_parse(pkt, sizeof(pkt), &p));
	pkt[0] = 0x4f; /* 60 bytes of header in 40 */
	assert_false(ippkt_parse(pkt, 40, &p));
	pkt[0] = 0x60;
	assert_false(ippkt_parse(pkt, 39, &p));
	assert_true(ippkt_parse(pkt, 40, &p));
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.proto, 0); /* a hop-by-hop header, cut short */
	assert_int_equal(p.l4_off, 40);
}

/* IPv4: the first fragment has ports, a later one has none. */
static void
test_fragments4(void **state)
{
	uint8_t pkt[256];
	struct ippkt p;
	size_t len = ipvec_hex(udp4_hex, pkt, sizeof(pkt));

	(void)state;
	pkt[6] = 0x20; /* MF, offset 0 */
	pkt[7] = 0;
	assert_true(ippkt_parse(pkt, len, &p));
	assert_true(p.is_fragment);
	assert_false(p.is_later_fragment);
	assert_true(p.has_ports);
	pkt[6] = 0x00; /* offset 8 * 185 */
	pkt[7] = 185;
	assert_true(ippkt_parse(pkt, len, &p));
	assert_true(p.is_fragment);
	assert_true(p.is_later_fragment);
	assert_false(p.has_ports);
	assert_int_equal(p.proto, IPPROTO_UDP);
}

/* IPv6: hop-by-hop, destination options and a fragment before UDP. */
static void
test_extension_headers(void **state)
{
	uint8_t udp[256], pkt[512];
	struct ippkt p;
	size_t len = ipvec_hex(udp6_hex, udp, sizeof(udp)), n, cut;

	(void)state;
	memcpy(pkt, udp, 40);
	pkt[6] = IPPROTO_HOPOPTS;
	n = 40;
	/* hop-by-hop: next dstopts, 8 bytes (PadN) */
	memcpy(pkt + n, (uint8_t[]){ IPPROTO_DSTOPTS, 0, 1, 4, 0, 0, 0, 0 }, 8);
	n += 8;
	/* destination options: next fragment, 16 bytes */
	memset(pkt + n, 0, 16);
	pkt[n] = IPPROTO_FRAGMENT;
	pkt[n + 1] = 1;
	pkt[n + 2] = 1;
	pkt[n + 3] = 12;
	n += 16;
	/* fragment: next UDP, offset 0, M set */
	memcpy(pkt + n, (uint8_t[]){ IPPROTO_UDP, 0, 0, 1, 0, 0, 0, 7 }, 8);
	n += 8;
	memcpy(pkt + n, udp + 40, len - 40);
	n += len - 40;
	assert_true(ippkt_parse(pkt, n, &p));
	assert_int_equal(p.proto, IPPROTO_UDP);
	assert_int_equal(p.l4_off, 72);
	assert_true(p.is_fragment);
	assert_false(p.is_later_fragment);
	assert_true(p.has_ports);
	assert_int_equal(p.dport, 53);
	/* A later fragment: the protocol, no ports. */
	pkt[72 - 6] = 0x05;
	pkt[72 - 5] = 0x01;
	assert_true(ippkt_parse(pkt, n, &p));
	assert_int_equal(p.proto, IPPROTO_UDP);
	assert_true(p.is_later_fragment);
	assert_false(p.has_ports);
	/* The chain cut anywhere: never a port read past the end. */
	pkt[72 - 6] = 0;
	pkt[72 - 5] = 1;
	for (cut = 40; cut < 76; cut++) {
		assert_true(ippkt_parse(pkt, cut, &p));
		assert_false(p.has_ports);
		assert_true(p.l4_off <= cut);
	}
}

/* Every packet at every length: parsed or refused, never read past. */
static void
test_truncation(void **state)
{
	uint8_t full[256], *pkt;
	struct ippkt p;
	size_t i, len, cut;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(captured); i++) {
		len = ipvec_hex(captured[i].hex, full, sizeof(full));
		for (cut = 0; cut <= len; cut++) {
			/* Exactly cut bytes, so ASan sees any overread. */
			pkt = malloc(cut ? cut : 1);
			assert_non_null(pkt);
			memcpy(pkt, full, cut);
			if (ippkt_parse(pkt, cut, &p)) {
				assert_true(p.l4_off <= cut);
				if (p.has_ports)
					assert_true(cut - p.l4_off >= 4);
				if (p.has_tcp_flags)
					assert_true(cut - p.l4_off >= 14);
			} else {
				assert_true(cut < (captured[i].family == AF_INET
							   ? 20u
							   : 40u));
			}
			free(pkt);
		}
	}
}

static void
test_icmp_errors(void **state)
{
	static const struct {
		int family, type;
		bool is_error;
	} v[] = {
		{ AF_INET, 0, false }, { AF_INET, 8, false },
		{ AF_INET, 3, true },  { AF_INET, 11, true },
		{ AF_INET, 5, true },  { AF_INET, 13, false },
		{ AF_INET, 42, true }, /* unknown: as an error */
		{ AF_INET6, 1, true }, { AF_INET6, 2, true },
		{ AF_INET6, 127, true }, { AF_INET6, 128, false },
		{ AF_INET6, 129, false }, { AF_INET6, 135, false },
	};
	struct ippkt p;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		memset(&p, 0, sizeof(p));
		p.family = v[i].family;
		p.proto = v[i].family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
		p.has_icmp_type = true;
		p.icmp_type = (uint8_t)v[i].type;
		assert_int_equal(ippkt_is_icmp_error(&p), v[i].is_error);
	}
	/* ICMP cut before its type: never answered. */
	p.has_icmp_type = false;
	assert_true(ippkt_is_icmp_error(&p));
	p.proto = IPPROTO_UDP;
	assert_false(ippkt_is_icmp_error(&p));
}

/* RFC 1071 section 3: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2. */
static void
test_rfc1071(void **state)
{
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03,
				     0xf4, 0xf5, 0xf6, 0xf7 };

	(void)state;
	assert_int_equal(ippkt_fold(ippkt_sum(0, b, sizeof(b))),
			 (uint16_t)~0xddf2);
	/* In two even pieces, the same. */
	assert_int_equal(ippkt_fold(ippkt_sum(ippkt_sum(0, b, 4), b + 4, 4)),
			 (uint16_t)~0xddf2);
	/* An odd tail is padded with zero. */
	assert_int_equal(ippkt_fold(ippkt_sum(0, b, 3)),
			 ipvec_csum(b, 3, NULL, 0));
}

static void
test_sum_against_naive(void **state)
{
	uint8_t buf[1500];
	size_t round, len, cut, i;
	uint32_t sum;

	(void)state;
	rng = 1071;
	for (round = 0; round < 2000; round++) {
		len = next_rand() % sizeof(buf);
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)next_rand();
		if (round % 3 == 0)
			memset(buf, 0xff, len); /* the carries' worst case */
		cut = len ? (next_rand() % len) & ~(size_t)1 : 0;
		sum = ippkt_sum(ippkt_sum(0, buf, cut), buf + cut, len - cut);
		assert_int_equal(ippkt_fold(sum), ipvec_csum(buf, len, NULL, 0));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captured),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_fragments4),
		cmocka_unit_test(test_extension_headers),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_icmp_errors),
		cmocka_unit_test(test_rfc1071),
		cmocka_unit_test(test_sum_against_naive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
