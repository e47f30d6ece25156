// SPDX-License-Identifier: MIT
/*
 * reply.c: the resets and ICMP "administratively prohibited" answers for
 * packets captured from Linux, byte for byte against answers built by an
 * independent implementation (a Python script after RFC 793 and RFC
 * 792/4443, checksums included); a reset to a segment with ACK, with data
 * and FIN; long packets quoted up to 576 and 1280 bytes with checksums
 * held against a naive sum; what is never answered; the rate limit.
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
#include "../../vpnd/reply.h"
#include "timers.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t from4[4] = { 10, 99, 0, 254 };
static const uint8_t from6[16] = { 0xfd, 0, 0, 0x99, [15] = 0xfe };

static const char rst4_hex[] =
	"4500002800000000400666080a6300020a6300011f91a4b000000000c5b872c5"
	"501400009e480000";
static const char rst6_hex[] =
	"6000000000140640fd000099000000000000000000000002fd00009900000000"
	"00000000000000011f91ea2800000000cc53ed2550140000f1660000";
static const char prohibited4_hex[] =
	"4500004400000000400164f50a6300fe0a630001030d11e100000000450000288d"
	"364000401198c60a6300010a630002ab7600350014ff0568656c6c6f2c20776f"
	"726c64";
static const char prohibited6_hex[] =
	"60000000004c3a40fd0000990000000000000000000000fefd00009900000000"
	"000000000000000101015b3100000000600e0d00001c3a40fd00009900000000"
	"0000000000000001fd0000990000000000000000000000028000d2b544dd0001"
	"7512176b00000000ba3c04000000000010111213";

static size_t
parse(const char *hex, uint8_t *pkt, size_t cap, struct ippkt *p)
{
	size_t len = ipvec_hex(hex, pkt, cap);

	assert_true(ippkt_parse(pkt, len, p));
	return len;
}

static void
assert_bytes(const uint8_t *got, size_t len, const char *want_hex)
{
	uint8_t want[REPLY_MAX];
	size_t want_len = ipvec_hex(want_hex, want, sizeof(want));

	assert_int_equal(len, want_len);
	assert_memory_equal(got, want, len);
}

static void
test_vectors(void **state)
{
	uint8_t pkt[256], out[REPLY_MAX];
	struct ippkt p;

	(void)state;
	parse(syn4_hex, pkt, sizeof(pkt), &p);
	assert_true(reply_may_answer(&p));
	assert_bytes(out, reply_tcp_reset(&p, pkt, out), rst4_hex);
	parse(syn6_hex, pkt, sizeof(pkt), &p);
	assert_bytes(out, reply_tcp_reset(&p, pkt, out), rst6_hex);
	parse(udp4_hex, pkt, sizeof(pkt), &p);
	assert_int_equal(reply_tcp_reset(&p, pkt, out), 0); /* not TCP */
	assert_bytes(out, reply_prohibited(&p, pkt, from4, out),
		     prohibited4_hex);
	parse(ping6_hex, pkt, sizeof(pkt), &p);
	assert_bytes(out, reply_prohibited(&p, pkt, from6, out),
		     prohibited6_hex);
}

/* The answer read back: its own checksums verify (naive sum). */
static void
assert_valid(const uint8_t *out, size_t len)
{
	struct ippkt a;
	uint8_t pseudo[40];
	size_t l4;

	assert_true(ippkt_parse(out, len, &a));
	l4 = len - a.l4_off;
	if (a.family == AF_INET) {
		assert_int_equal(ipvec_csum(out, 20, NULL, 0), 0);
		assert_int_equal(out[8], REPLY_TTL);
	} else {
		assert_int_equal(out[7], REPLY_TTL);
	}
	if (a.proto == IPPROTO_ICMP) {
		assert_int_equal(ipvec_csum(out + 20, l4, NULL, 0), 0);
		return;
	}
	memset(pseudo, 0, sizeof(pseudo));
	if (a.family == AF_INET) {
		memcpy(pseudo, a.src, 4);
		memcpy(pseudo + 4, a.dst, 4);
		pseudo[9] = a.proto;
		pseudo[10] = (uint8_t)(l4 >> 8);
		pseudo[11] = (uint8_t)l4;
		assert_int_equal(ipvec_csum(pseudo, 12, out + 20, l4), 0);
	} else {
		memcpy(pseudo, a.src, 16);
		memcpy(pseudo + 16, a.dst, 16);
		pseudo[34] = (uint8_t)(l4 >> 8);
		pseudo[35] = (uint8_t)l4;
		pseudo[39] = a.proto;
		assert_int_equal(ipvec_csum(pseudo, 40, out + 40, l4), 0);
	}
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* RFC 793's two cases, and a segment's length counting data, SYN, FIN. */
static void
test_reset_rules(void **state)
{
	uint8_t pkt[256], out[REPLY_MAX];
	struct ippkt p;
	size_t len, n;

	(void)state;
	len = parse(syn4_hex, pkt, sizeof(pkt), &p);
	/* An ACK (a SYN-ACK): the reset takes its number, without ACK. */
	pkt[20 + 13] = IPPKT_TCP_SYN | IPPKT_TCP_ACK;
	memcpy(pkt + 20 + 8, (uint8_t[]){ 0x12, 0x34, 0x56, 0x78 }, 4);
	assert_true(ippkt_parse(pkt, len, &p));
	n = reply_tcp_reset(&p, pkt, out);
	assert_int_equal(n, 40);
	assert_int_equal(be32(out + 20 + 4), 0x12345678);
	assert_int_equal(be32(out + 20 + 8), 0);
	assert_int_equal(out[20 + 13], IPPKT_TCP_RST);
	assert_valid(out, n);
	/* FIN with 4 bytes of data, no ACK: acknowledges seq + 5. The
	 * options become data: a 20-byte header. */
	pkt[20 + 12] = 5 << 4;
	pkt[20 + 13] = IPPKT_TCP_FIN;
	pkt[3] = 20 + 20 + 4;
	assert_true(ippkt_parse(pkt, 44, &p));
	n = reply_tcp_reset(&p, pkt, out);
	assert_int_equal(be32(out + 20 + 8), 0xc5b872c4u + 5);
	assert_int_equal(out[20 + 13], IPPKT_TCP_RST | IPPKT_TCP_ACK);
	assert_valid(out, n);
	/* A reset is never answered; nor a header cut short or a data
	 * offset past the end. */
	pkt[20 + 13] = IPPKT_TCP_RST;
	assert_true(ippkt_parse(pkt, 44, &p));
	assert_int_equal(reply_tcp_reset(&p, pkt, out), 0);
	assert_false(reply_may_answer(&p));
	pkt[20 + 13] = IPPKT_TCP_SYN;
	assert_true(ippkt_parse(pkt, 39, &p));
	assert_int_equal(reply_tcp_reset(&p, pkt, out), 0);
	pkt[20 + 12] = 15 << 4;
	assert_true(ippkt_parse(pkt, 44, &p));
	assert_int_equal(reply_tcp_reset(&p, pkt, out), 0);
}

/* A long packet is quoted up to 576 bytes in all (IPv4), 1280 (IPv6). */
static void
test_long_packets(void **state)
{
	uint8_t pkt[1500], out[REPLY_MAX];
	struct ippkt p;
	size_t len, n, i;

	(void)state;
	for (i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 7);
	ipvec_hex(udp4_hex, pkt, 28);
	pkt[2] = 1400 >> 8;
	pkt[3] = 1400 & 0xff;
	assert_true(ippkt_parse(pkt, 1400, &p));
	n = reply_prohibited(&p, pkt, from4, out);
	assert_int_equal(n, REPLY_MAX4);
	assert_memory_equal(out + 28, pkt, REPLY_MAX4 - 28);
	assert_valid(out, n);
	len = ipvec_hex(udp6_hex, pkt, 48);
	(void)len;
	pkt[4] = (1400 - 40) >> 8;
	pkt[5] = (1400 - 40) & 0xff;
	assert_true(ippkt_parse(pkt, 1400, &p));
	n = reply_prohibited(&p, pkt, from6, out);
	assert_int_equal(n, REPLY_MAX);
	assert_memory_equal(out + 48, pkt, REPLY_MAX - 48);
	assert_valid(out, n);
	/* Odd lengths are summed right. */
	assert_true(ippkt_parse(pkt, 333, &p));
	assert_valid(out, reply_prohibited(&p, pkt, from6, out));
}

static void
test_never_answered(void **state)
{
	uint8_t pkt[256];
	struct ippkt p;
	size_t len;

	(void)state;
	len = parse(udp4_hex, pkt, sizeof(pkt), &p);
	assert_true(reply_may_answer(&p));
	static const uint8_t bad_dst4[][4] = {
		{ 224, 0, 0, 1 }, { 239, 1, 2, 3 }, { 255, 255, 255, 255 },
		{ 240, 0, 0, 1 }, { 127, 0, 0, 1 }, { 0, 0, 0, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad_dst4); i++) {
		memcpy(pkt + 16, bad_dst4[i], 4);
		assert_true(ippkt_parse(pkt, len, &p));
		assert_false(reply_may_answer(&p));
		/* From there either. */
		memcpy(pkt + 16, (uint8_t[]){ 10, 99, 0, 2 }, 4);
		memcpy(pkt + 12, bad_dst4[i], 4);
		assert_true(ippkt_parse(pkt, len, &p));
		assert_false(reply_may_answer(&p));
		memcpy(pkt + 12, (uint8_t[]){ 10, 99, 0, 1 }, 4);
	}
	/* A later fragment. */
	pkt[6] = 0;
	pkt[7] = 1;
	assert_true(ippkt_parse(pkt, len, &p));
	assert_false(reply_may_answer(&p));
	/* An ICMP error (port unreachable), and echo, which is answered. */
	len = parse(ping4_hex, pkt, sizeof(pkt), &p);
	assert_true(reply_may_answer(&p));
	pkt[20] = 3;
	assert_true(ippkt_parse(pkt, len, &p));
	assert_false(reply_may_answer(&p));
	/* IPv6: to a multicast group, from ::. */
	len = parse(udp6_hex, pkt, sizeof(pkt), &p);
	assert_true(reply_may_answer(&p));
	pkt[24] = 0xff;
	assert_true(ippkt_parse(pkt, len, &p));
	assert_false(reply_may_answer(&p));
	pkt[24] = 0xfd;
	memset(pkt + 8, 0, 16);
	assert_true(ippkt_parse(pkt, len, &p));
	assert_false(reply_may_answer(&p));
	len = parse(ping6_hex, pkt, sizeof(pkt), &p);
	pkt[40] = 1; /* destination unreachable */
	assert_true(ippkt_parse(pkt, len, &p));
	assert_false(reply_may_answer(&p));
}

static void
test_limit(void **state)
{
	struct reply_limit l = { 0 };
	uint64_t now = 5 * NS_PER_S;
	unsigned int i, n;

	(void)state;
	for (i = 0, n = 0; i < 3 * REPLY_BURST; i++)
		n += reply_limit_allow(&l, now);
	assert_int_equal(n, REPLY_BURST);
	/* One more per 1/REPLY_RATE s, not sooner. */
	now += NS_PER_S / REPLY_RATE - 1;
	assert_false(reply_limit_allow(&l, now));
	now += 1;
	assert_true(reply_limit_allow(&l, now));
	assert_false(reply_limit_allow(&l, now));
	/* A long silence refills the burst, no more. */
	now += 3600 * NS_PER_S;
	for (i = 0, n = 0; i < 3 * REPLY_BURST; i++)
		n += reply_limit_allow(&l, now);
	assert_int_equal(n, REPLY_BURST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_reset_rules),
		cmocka_unit_test(test_long_packets),
		cmocka_unit_test(test_never_answered),
		cmocka_unit_test(test_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
