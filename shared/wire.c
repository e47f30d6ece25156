// SPDX-License-Identifier: MIT
/*
 * Header and length checks for PROTOCOL.md sections 4 and 5, and the
 * plaintext demultiplexer. Lengths are checked before any field is read.
 */
#include "wire.h"

#include <stddef.h>

enum wire_type
wire_classify(const uint8_t *buf, size_t len)
{
	uint32_t word;

	if (len < 4)
		return WIRE_INVALID;
	word = wire_get_le32(buf);
	switch (word) {
	case WIRE_INITIATION:
		return len == WIRE_INITIATION_LEN ? WIRE_INITIATION
						  : WIRE_INVALID;
	case WIRE_RESPONSE:
		return len == WIRE_RESPONSE_LEN ? WIRE_RESPONSE : WIRE_INVALID;
	case WIRE_COOKIE_REPLY:
		return len == WIRE_COOKIE_REPLY_LEN ? WIRE_COOKIE_REPLY
						    : WIRE_INVALID;
	case WIRE_DATA:
		return len >= WIRE_DATA_MIN_LEN ? WIRE_DATA : WIRE_INVALID;
	default:
		return WIRE_INVALID;
	}
}

size_t
wire_mac1_offset(enum wire_type type)
{
	switch (type) {
	case WIRE_INITIATION:
		return offsetof(struct wire_initiation, mac1);
	case WIRE_RESPONSE:
		return offsetof(struct wire_response, mac1);
	default:
		return 0;
	}
}

size_t
wire_mac2_offset(enum wire_type type)
{
	switch (type) {
	case WIRE_INITIATION:
		return offsetof(struct wire_initiation, mac2);
	case WIRE_RESPONSE:
		return offsetof(struct wire_response, mac2);
	default:
		return 0;
	}
}

size_t
wire_padded_len(size_t len, size_t mtu)
{
	size_t padded = (len + WIRE_PAD_MULTIPLE - 1) &
			~(size_t)(WIRE_PAD_MULTIPLE - 1);

	if (padded > mtu)
		padded = mtu > len ? mtu : len;
	return padded;
}

static size_t
ipv4_len(const uint8_t *p, size_t len)
{
	size_t ihl = (size_t)(p[0] & 0x0f) * 4, total;

	if (len < 20)
		return 0;
	total = (size_t)p[2] << 8 | p[3];
	return total >= ihl && total <= len ? total : 0;
}

static size_t
ipv6_len(const uint8_t *p, size_t len)
{
	size_t total;

	if (len < 40)
		return 0;
	total = 40 + ((size_t)p[4] << 8 | p[5]);
	return total <= len ? total : 0;
}

enum wire_payload
wire_payload_classify(const uint8_t *p, size_t len, size_t *inner_len)
{
	*inner_len = 0;
	if (len == 0)
		return WIRE_PAYLOAD_KEEPALIVE;
	if (p[0] >= 0x45 && p[0] <= 0x4f) {
		*inner_len = ipv4_len(p, len);
		return *inner_len ? WIRE_PAYLOAD_IPV4 : WIRE_PAYLOAD_MALFORMED;
	}
	if (p[0] >= 0x60 && p[0] <= 0x6f) {
		*inner_len = ipv6_len(p, len);
		return *inner_len ? WIRE_PAYLOAD_IPV6 : WIRE_PAYLOAD_MALFORMED;
	}
	if (p[0] >= 0x01 && p[0] <= 0x0f) {
		*inner_len = len;
		return WIRE_PAYLOAD_CONTROL;
	}
	return WIRE_PAYLOAD_MALFORMED;
}
