// SPDX-License-Identifier: MIT
/*
 * announce_arp_build and announce_na_build, the frames a proxy-arp node
 * sends as it starts answering for a client's address: byte for byte,
 * for two addresses and MAC addresses each (every field from its input,
 * none left over from the buffer: it is filled with junk first). The ARP
 * announcement is RFC 5227's (a request, sender = target, target MAC 0),
 * as `arping -U` and Linux's arp_notify send it; the advertisement RFC
 * 4861's unsolicited one (Override only, the target link-layer address
 * option, checksum 0 for the kernel's raw ICMPv6 socket to fill).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

#include "../../vpnd/announce.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	uint8_t mac[ANNOUNCE_MAC_LEN];
	uint8_t addr[4];
	uint8_t frame[ANNOUNCE_ARP_LEN];
} arp_vectors[] = {
	{
		{ 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 },
		{ 10, 20, 0, 130 },
		{
			0x00, 0x01,                         /* Ethernet */
			0x08, 0x00,                         /* IPv4 */
			0x06, 0x04,                         /* their lengths */
			0x00, 0x01,                         /* request */
			0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, /* sender MAC */
			0x0a, 0x14, 0x00, 0x82,             /* sender address */
			0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* target MAC */
			0x0a, 0x14, 0x00, 0x82,             /* target address */
		},
	},
	{
		{ 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54 },
		{ 192, 168, 255, 1 },
		{
			0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
			0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54,
			0xc0, 0xa8, 0xff, 0x01,
			0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			0xc0, 0xa8, 0xff, 0x01,
		},
	},
};

static const struct {
	uint8_t mac[ANNOUNCE_MAC_LEN];
	uint8_t addr[16];
	uint8_t msg[ANNOUNCE_NA_LEN];
} na_vectors[] = {
	{
		{ 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 },
		/* fd00:20::102 */
		{ 0xfd, 0x00, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
		  0x02 },
		{
			136,                    /* neighbour advertisement */
			0,                      /* code */
			0x00, 0x00,             /* checksum: the kernel's */
			0x20, 0x00, 0x00, 0x00, /* Override; R, S clear */
			/* target */
			0xfd, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00,
			0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02,
			2,                      /* target link-layer address */
			1,                      /* 8 bytes */
			0x02, 0x00, 0x5e, 0x10, 0x00, 0x01,
		},
	},
	{
		{ 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54 },
		/* 2001:db8:1:2:3:4:5:6 */
		{ 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x02, 0x00, 0x03,
		  0x00, 0x04, 0x00, 0x05, 0x00, 0x06 },
		{
			0x88, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00,
			0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x02,
			0x00, 0x03, 0x00, 0x04, 0x00, 0x05, 0x00, 0x06,
			0x02, 0x01, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54,
		},
	},
};

/* A buffer one byte longer than the frame, full of junk: the frame must
 * replace every byte of it and not touch the last. */
#define JUNK 0xa5

static void
test_arp(void **state)
{
	uint8_t out[ANNOUNCE_ARP_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(arp_vectors); i++) {
		memset(out, JUNK, sizeof(out));
		announce_arp_build(out, arp_vectors[i].mac,
				   arp_vectors[i].addr);
		assert_memory_equal(out, arp_vectors[i].frame,
				    ANNOUNCE_ARP_LEN);
		assert_int_equal(out[ANNOUNCE_ARP_LEN], JUNK);
	}
}

static void
test_na(void **state)
{
	uint8_t out[ANNOUNCE_NA_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(na_vectors); i++) {
		memset(out, JUNK, sizeof(out));
		announce_na_build(out, na_vectors[i].mac, na_vectors[i].addr);
		assert_memory_equal(out, na_vectors[i].msg, ANNOUNCE_NA_LEN);
		assert_int_equal(out[ANNOUNCE_NA_LEN], JUNK);
	}
}

/* A zeroed struct has nothing open: nothing announced, and closing it
 * (twice) closes nothing, descriptor 0 included. */
static void
test_zeroed(void **state)
{
	struct announce a;
	const uint8_t addr[16] = { 10, 20, 0, 130 };
	int was_open = fcntl(0, F_GETFD) >= 0;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_false(announce_can(&a, AF_INET));
	assert_false(announce_can(&a, AF_INET6));
	assert_int_equal(announce_send(&a, AF_INET, addr), -EAFNOSUPPORT);
	assert_int_equal(announce_send(&a, AF_INET6, addr), -EAFNOSUPPORT);
	announce_close(&a);
	announce_close(&a);
	assert_int_equal(fcntl(0, F_GETFD) >= 0, was_open);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_na),
		cmocka_unit_test(test_zeroed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
