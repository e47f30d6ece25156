/* SPDX-License-Identifier: MIT */
/*
 * What the packet tests (test_mss, test_pmtu) share: real packets
 * captured from Linux (read from a TUN device, so their checksums are
 * complete), hex decoding, and a deliberately naive Internet checksum to
 * hold the ones vpnd writes against: a 64-bit sum of every 16-bit word,
 * folded at the end.
 */
#ifndef VPN_TEST_PKT_H
#define VPN_TEST_PKT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* connect() to 10.99.0.2:8080 from 10.99.0.1 (Linux 6.18): MSS 1460,
 * SACK permitted, timestamps, NOP, window scale. */
static const char syn4_hex[] =
	"4500003c7e2040004006a7d30a6300010a6300028a801f90a26e7d0c00000000"
	"a002faf061a10000020405b40402080a27a7e56f000000000103030a";
/* connect() to [fd00:99::2]:8080 from fd00:99::1: MSS 1440, the same
 * options. */
static const char syn6_hex[] =
	"60018bf800280640fd000099000000000000000000000001fd00009900000000"
	"0000000000000002c10c1f90e460d82000000000a002fd2049df0000020405a0"
	"0402080a85a3e318000000000103030a";

static inline size_t
unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2, i;
	unsigned int b;

	for (i = 0; i < n && i < cap; i++) {
		sscanf(hex + 2 * i, "%2x", &b);
		out[i] = (uint8_t)b;
	}
	return i;
}

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
set16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The sum of the words of parts laid end to end (each of even length but
 * the last), folded and complemented. */
static inline uint16_t
naive_csum(const uint8_t *const *parts, const size_t *lens, size_t n)
{
	uint64_t sum = 0;
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < lens[i]; j += 2)
			sum += (uint64_t)parts[i][j] << 8 |
			       (j + 1 < lens[i] ? parts[i][j + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The checksum a TCP/UDP/ICMPv6 segment at l4 (len bytes) of packet pkt
 * should carry, its own checksum field (at check_off) taken as zero. */
static inline uint16_t
naive_l4_csum(const uint8_t *pkt, const uint8_t *l4, size_t len,
	      uint8_t proto, size_t check_off)
{
	static uint8_t copy[65536];
	uint8_t pseudo[40];
	int v6 = pkt[0] >> 4 == 6;
	size_t alen = v6 ? 16 : 4, plen = 2 * alen + 8;
	const uint8_t *parts[2] = { pseudo, copy };
	size_t lens[2] = { plen, len };

	memcpy(pseudo, pkt + (v6 ? 8 : 12), 2 * alen);
	memset(pseudo + 2 * alen, 0, 8);
	pseudo[2 * alen + 2] = (uint8_t)(len >> 8);
	pseudo[2 * alen + 3] = (uint8_t)len;
	pseudo[2 * alen + 7] = proto;
	memcpy(copy, l4, len);
	copy[check_off] = copy[check_off + 1] = 0;
	return naive_csum(parts, lens, 2);
}

#endif
