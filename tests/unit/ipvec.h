/* SPDX-License-Identifier: MIT */
/*
 * Packets captured from Linux 6.x for test_ippkt and test_reply: read from
 * a TUN device (10.99.0.1/24, fd00:99::1/64) as the kernel sent them, so
 * every checksum is complete; and hex decoding.
 */
#ifndef VPN_TEST_IPVEC_H
#define VPN_TEST_IPVEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* connect() to 10.99.0.2:8081: SYN, MSS, SACK, timestamps, wscale. */
static const char syn4_hex[] =
	"4500003c6fa440004006b64f0a6300010a630002a4b01f91c5b872c400000000"
	"a002faf06e570000020405b40402080a40698cc4000000000103030a";
/* connect() to [fd00:99::2]:8081. */
static const char syn6_hex[] =
	"6006215a00280640fd000099000000000000000000000001fd00009900000000"
	"0000000000000002ea281f91cc53ed2400000000a002fd20a0d80000020405a0"
	"0402080a3719b495000000000103030a";
/* "hello, world" to 10.99.0.2:53. */
static const char udp4_hex[] =
	"450000288d364000401198c60a6300010a630002ab7600350014ff0568656c6c"
	"6f2c20776f726c64";
/* "hello, world!" to [fd00:99::2]:53. */
static const char udp6_hex[] =
	"6000193c00151140fd000099000000000000000000000001fd00009900000000"
	"0000000000000002e14e00350015c1bd68656c6c6f2c20776f726c6421";
/* ping -s 20 10.99.0.2 */
static const char ping4_hex[] =
	"450000306d4140004001b8c30a6300010a6300020800635944db00017512176b"
	"000000009d2804000000000010111213";
/* ping -6 -s 20 fd00:99::2 */
static const char ping6_hex[] =
	"600e0d00001c3a40fd000099000000000000000000000001fd00009900000000"
	"00000000000000028000d2b544dd00017512176b00000000ba3c040000000000"
	"10111213";

/* Decodes hex into out (cap bytes); the byte count. */
static inline size_t
ipvec_hex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2, i;
	unsigned int b;

	for (i = 0; i < n && i < cap; i++) {
		char pair[3] = { hex[2 * i], hex[2 * i + 1], 0 };

		b = (unsigned int)strtoul(pair, NULL, 16);
		out[i] = (uint8_t)b;
	}
	return i;
}

/* A naive Internet checksum to hold ippkt.c's against: every 16-bit
 * word summed in 64 bits, folded once at the end. */
static inline uint16_t
ipvec_csum(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < alen; i++)
		sum += i % 2 ? a[i] : (uint64_t)a[i] << 8;
	for (i = 0; i < blen; i++)
		sum += i % 2 ? b[i] : (uint64_t)b[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#endif
