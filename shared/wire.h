/* SPDX-License-Identifier: MIT */
/*
 * Message layouts of PROTOCOL.md sections 4 and 5: types 1-4, their exact
 * sizes, header checks and the demultiplexing of decrypted transport
 * plaintext. Structs are byte arrays only, so their layout is the wire
 * layout on every ABI. Pure.
 */
#ifndef VPN_WIRE_H
#define VPN_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum wire_type {
	WIRE_INVALID = 0,
	WIRE_INITIATION = 1,
	WIRE_RESPONSE = 2,
	WIRE_COOKIE_REPLY = 3,
	WIRE_DATA = 4,
};

#define WIRE_MAC_LEN 16
#define WIRE_INITIATION_LEN 148
#define WIRE_RESPONSE_LEN 92
#define WIRE_COOKIE_REPLY_LEN 64
#define WIRE_DATA_HEADER_LEN 16
#define WIRE_DATA_MIN_LEN 32 /* header and an empty payload's tag */
#define WIRE_PAD_MULTIPLE 16

struct wire_initiation {
	uint8_t header[4];
	uint8_t sender_index[4];
	uint8_t ephemeral[32];
	uint8_t enc_static[32 + 16];
	uint8_t enc_timestamp[12 + 16];
	uint8_t mac1[WIRE_MAC_LEN];
	uint8_t mac2[WIRE_MAC_LEN];
};

struct wire_response {
	uint8_t header[4];
	uint8_t sender_index[4];
	uint8_t receiver_index[4];
	uint8_t ephemeral[32];
	uint8_t enc_empty[16];
	uint8_t mac1[WIRE_MAC_LEN];
	uint8_t mac2[WIRE_MAC_LEN];
};

struct wire_cookie_reply {
	uint8_t header[4];
	uint8_t receiver_index[4];
	uint8_t nonce[24];
	uint8_t enc_cookie[16 + 16];
};

struct wire_data_header {
	uint8_t header[4];
	uint8_t receiver_index[4];
	uint8_t counter[8];
};

_Static_assert(sizeof(struct wire_initiation) == WIRE_INITIATION_LEN, "");
_Static_assert(sizeof(struct wire_response) == WIRE_RESPONSE_LEN, "");
_Static_assert(sizeof(struct wire_cookie_reply) == WIRE_COOKIE_REPLY_LEN, "");
_Static_assert(sizeof(struct wire_data_header) == WIRE_DATA_HEADER_LEN, "");

static inline uint32_t
wire_get_le32(const uint8_t p[4])
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void
wire_put_le32(uint8_t p[4], uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline uint64_t
wire_get_le64(const uint8_t p[8])
{
	return (uint64_t)wire_get_le32(p) | (uint64_t)wire_get_le32(p + 4) << 32;
}

static inline void
wire_put_le64(uint8_t p[8], uint64_t v)
{
	wire_put_le32(p, (uint32_t)v);
	wire_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t
wire_get_le16(const uint8_t p[2])
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline void
wire_put_le16(uint8_t p[2], uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Writes the type and zero reserved bytes. */
static inline void
wire_header_set(uint8_t header[4], enum wire_type type)
{
	wire_put_le32(header, (uint32_t)type);
}

/*
 * The type of a received datagram, or WIRE_INVALID: the first four bytes,
 * read as one little-endian word, must be a known type with zero reserved
 * bytes, and the length must be exactly the type's (type 4: at least 32).
 */
enum wire_type wire_classify(const uint8_t *buf, size_t len);

/* Offsets of mac1 and mac2 in the messages that carry them, or 0. */
size_t wire_mac1_offset(enum wire_type type);
size_t wire_mac2_offset(enum wire_type type);

/*
 * Plaintext length after padding to a multiple of 16 bytes, never past
 * `mtu` (but never below len).
 */
size_t wire_padded_len(size_t len, size_t mtu);

enum wire_payload {
	WIRE_PAYLOAD_KEEPALIVE,
	WIRE_PAYLOAD_IPV4,
	WIRE_PAYLOAD_IPV6,
	WIRE_PAYLOAD_CONTROL,
	WIRE_PAYLOAD_MALFORMED,
};

/*
 * Demultiplexes decrypted transport plaintext (section 5). For IPv4/IPv6,
 * *inner_len is the packet length from its header (the rest is padding);
 * for control messages, len (login.c finds the end); else 0.
 */
enum wire_payload wire_payload_classify(const uint8_t *p, size_t len,
					size_t *inner_len);

#endif
