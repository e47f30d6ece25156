// SPDX-License-Identifier: MIT
/*
 * shared/wire.h against PROTOCOL.md sections 4 and 5: the field offsets of
 * every message, wire_classify at every length from 0 to full size + 1 and
 * with each reserved byte set, the mac offsets, padding, and the plaintext
 * demultiplexer against a transcription of the section 5 table. Inputs live
 * in heap buffers of exactly their length, so ASan catches any read past
 * them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A copy of buf[0..len) in a heap block of exactly len bytes. */
static uint8_t *
heap_copy(const uint8_t *buf, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, buf, len);
	return p;
}

static enum wire_type
classify_exact(const uint8_t *buf, size_t len)
{
	uint8_t *p = heap_copy(buf, len);
	enum wire_type t = wire_classify(p, len);

	free(p);
	return t;
}

/* The offset tables of sections 4.1, 4.2, 4.5 and 5. */
static void
test_layouts(void **state)
{
	(void)state;
	assert_int_equal(offsetof(struct wire_initiation, sender_index), 4);
	assert_int_equal(offsetof(struct wire_initiation, ephemeral), 8);
	assert_int_equal(offsetof(struct wire_initiation, enc_static), 40);
	assert_int_equal(offsetof(struct wire_initiation, enc_timestamp), 88);
	assert_int_equal(offsetof(struct wire_initiation, mac1), 116);
	assert_int_equal(offsetof(struct wire_initiation, mac2), 132);
	assert_int_equal(sizeof(struct wire_initiation), 148);

	assert_int_equal(offsetof(struct wire_response, sender_index), 4);
	assert_int_equal(offsetof(struct wire_response, receiver_index), 8);
	assert_int_equal(offsetof(struct wire_response, ephemeral), 12);
	assert_int_equal(offsetof(struct wire_response, enc_empty), 44);
	assert_int_equal(offsetof(struct wire_response, mac1), 60);
	assert_int_equal(offsetof(struct wire_response, mac2), 76);
	assert_int_equal(sizeof(struct wire_response), 92);

	assert_int_equal(offsetof(struct wire_cookie_reply, receiver_index), 4);
	assert_int_equal(offsetof(struct wire_cookie_reply, nonce), 8);
	assert_int_equal(offsetof(struct wire_cookie_reply, enc_cookie), 32);
	assert_int_equal(sizeof(struct wire_cookie_reply), 64);

	assert_int_equal(offsetof(struct wire_data_header, receiver_index), 4);
	assert_int_equal(offsetof(struct wire_data_header, counter), 8);
	assert_int_equal(sizeof(struct wire_data_header), 16);
}

static void
test_mac_offsets(void **state)
{
	static const struct {
		enum wire_type type;
		size_t mac1, mac2;
	} v[] = {
		{ WIRE_INITIATION, 116, 132 },
		{ WIRE_RESPONSE, 60, 76 },
		{ WIRE_COOKIE_REPLY, 0, 0 },
		{ WIRE_DATA, 0, 0 },
		{ WIRE_INVALID, 0, 0 },
		{ (enum wire_type)5, 0, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		assert_int_equal(wire_mac1_offset(v[i].type), v[i].mac1);
		assert_int_equal(wire_mac2_offset(v[i].type), v[i].mac2);
	}
}

/* Little-endian integers and the header word. */
static void
test_byte_order(void **state)
{
	uint8_t b[8];

	(void)state;
	wire_put_le32(b, 0x04030201u);
	assert_memory_equal(b, "\x01\x02\x03\x04", 4);
	assert_int_equal(wire_get_le32(b), 0x04030201u);
	wire_put_le64(b, 0x0807060504030201ull);
	assert_memory_equal(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_true(wire_get_le64(b) == 0x0807060504030201ull);
	wire_put_le16(b, 0x0201);
	assert_memory_equal(b, "\x01\x02", 2);
	assert_int_equal(wire_get_le16(b), 0x0201);

	wire_header_set(b, WIRE_DATA);
	assert_memory_equal(b, "\x04\x00\x00\x00", 4);
}

static const struct {
	enum wire_type type;
	size_t len; /* exact; type 4: the minimum */
} types[] = {
	{ WIRE_INITIATION, WIRE_INITIATION_LEN },
	{ WIRE_RESPONSE, WIRE_RESPONSE_LEN },
	{ WIRE_COOKIE_REPLY, WIRE_COOKIE_REPLY_LEN },
	{ WIRE_DATA, WIRE_DATA_MIN_LEN },
};

/* Every length 0 .. full + 1 (type 4: up to a 1420-byte payload + 1). */
static void
test_classify_lengths(void **state)
{
	uint8_t buf[WIRE_DATA_HEADER_LEN + 1420 + 16 + 1];
	size_t i, len, max;

	(void)state;
	assert_int_equal(WIRE_INITIATION_LEN, 148);
	assert_int_equal(WIRE_RESPONSE_LEN, 92);
	assert_int_equal(WIRE_COOKIE_REPLY_LEN, 64);
	assert_int_equal(WIRE_DATA_MIN_LEN, 32);
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		memset(buf, 0x5a, sizeof(buf));
		wire_header_set(buf, types[i].type);
		max = types[i].type == WIRE_DATA ? sizeof(buf)
						 : types[i].len + 1;
		for (len = 0; len <= max; len++) {
			bool ok = types[i].type == WIRE_DATA
					  ? len >= types[i].len
					  : len == types[i].len;

			assert_int_equal(classify_exact(buf, len),
					 ok ? types[i].type : WIRE_INVALID);
		}
	}
}

/* Any non-zero reserved byte, and any unknown type, is dropped. */
static void
test_classify_reserved_and_unknown(void **state)
{
	static const uint32_t unknown[] = { 0, 5, 6, 0xff, 0x100, 0x10000,
					    0x1000000, 0xffffffff,
					    0x80000001 };
	uint8_t buf[WIRE_INITIATION_LEN];
	size_t i, j, len;
	unsigned int byte, v;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		memset(buf, 0, sizeof(buf));
		wire_header_set(buf, types[i].type);
		assert_int_equal(classify_exact(buf, types[i].len),
				 types[i].type);
		for (byte = 1; byte < 4; byte++) {
			for (v = 1; v < 256; v++) {
				buf[byte] = (uint8_t)v;
				assert_int_equal(classify_exact(buf,
								types[i].len),
						 WIRE_INVALID);
			}
			buf[byte] = 0;
		}
	}
	for (j = 0; j < ARRAY_SIZE(unknown); j++) {
		memset(buf, 0, sizeof(buf));
		wire_put_le32(buf, unknown[j]);
		for (len = 0; len <= sizeof(buf); len++)
			assert_int_equal(classify_exact(buf, len),
					 WIRE_INVALID);
	}
	/* Big-endian type words are not types. */
	memset(buf, 0, sizeof(buf));
	buf[3] = WIRE_INITIATION;
	assert_int_equal(classify_exact(buf, WIRE_INITIATION_LEN),
			 WIRE_INVALID);
}

static void
test_padded_len_table(void **state)
{
	static const struct {
		size_t len, mtu, padded;
	} v[] = {
		{ 0, 1420, 0 },       /* keepalive: nothing to pad */
		{ 1, 1420, 16 },
		{ 15, 1420, 16 },
		{ 16, 1420, 16 },
		{ 17, 1420, 32 },
		{ 20, 1420, 32 },
		{ 1400, 1420, 1408 },
		{ 1408, 1420, 1408 },
		{ 1409, 1420, 1420 }, /* 1424 would pass the MTU */
		{ 1419, 1420, 1420 },
		{ 1420, 1420, 1420 },
		{ 1421, 1420, 1421 }, /* never below len */
		{ 1279, 1280, 1280 },
		{ 1280, 1280, 1280 },
		{ 1281, 1280, 1281 },
		{ 40, 1500, 48 },
		{ 1489, 1500, 1500 },
		{ 5, 0, 5 },
		{ 0, 0, 0 },
		{ 17, 20, 20 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++)
		if (wire_padded_len(v[i].len, v[i].mtu) != v[i].padded)
			fail_msg("wire_padded_len(%zu, %zu) = %zu, want %zu",
				 v[i].len, v[i].mtu,
				 wire_padded_len(v[i].len, v[i].mtu),
				 v[i].padded);
}

/* padded = min(round up to 16, max(mtu, len)), for every small case. */
static void
test_padded_len_sweep(void **state)
{
	static const size_t mtus[] = { 0, 1, 15, 16, 17, 576, 1280, 1420,
				       1500 };
	size_t i, len, want, cap;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(mtus); i++) {
		for (len = 0; len <= mtus[i] + 40; len++) {
			want = (len + 15) / 16 * 16;
			cap = mtus[i] > len ? mtus[i] : len;
			if (want > cap)
				want = cap;
			assert_int_equal(wire_padded_len(len, mtus[i]), want);
		}
	}
}

/*
 * The section 5 table, transcribed as plainly as possible: the reference
 * wire_payload_classify is checked against.
 */
static enum wire_payload
reference_payload(const uint8_t *p, size_t len, size_t *inner)
{
	size_t total;

	*inner = 0;
	if (len == 0)
		return WIRE_PAYLOAD_KEEPALIVE;
	if (p[0] >= 0x45 && p[0] <= 0x4f) {
		if (len < 20)
			return WIRE_PAYLOAD_MALFORMED;
		total = (size_t)p[2] * 256 + p[3];
		if (total < (size_t)(p[0] & 0x0f) * 4 || total > len)
			return WIRE_PAYLOAD_MALFORMED;
		*inner = total;
		return WIRE_PAYLOAD_IPV4;
	}
	if (p[0] >= 0x60 && p[0] <= 0x6f) {
		if (len < 40)
			return WIRE_PAYLOAD_MALFORMED;
		total = 40 + (size_t)p[4] * 256 + p[5];
		if (total > len)
			return WIRE_PAYLOAD_MALFORMED;
		*inner = total;
		return WIRE_PAYLOAD_IPV6;
	}
	if (p[0] >= 0x01 && p[0] <= 0x0f) {
		*inner = len;
		return WIRE_PAYLOAD_CONTROL;
	}
	return WIRE_PAYLOAD_MALFORMED;
}

static void
check_payload(const uint8_t *buf, size_t len, enum wire_payload want,
	      size_t want_inner)
{
	uint8_t *p = heap_copy(buf, len);
	size_t inner = 12345;
	enum wire_payload got = wire_payload_classify(p, len, &inner);

	free(p);
	if (got != want || inner != want_inner)
		fail_msg("first byte 0x%02x, len %zu: got %d/%zu, want %d/%zu",
			 len ? buf[0] : 0, len, got, inner, want, want_inner);
}

static void
test_payload_table(void **state)
{
	static const struct {
		uint8_t b0;
		uint16_t field; /* IPv4 total length or IPv6 payload length */
		size_t len;
		enum wire_payload kind;
		size_t inner;
	} v[] = {
		{ 0x45, 20, 20, WIRE_PAYLOAD_IPV4, 20 },
		{ 0x45, 20, 32, WIRE_PAYLOAD_IPV4, 20 },   /* padded */
		{ 0x45, 84, 96, WIRE_PAYLOAD_IPV4, 84 },
		{ 0x45, 97, 96, WIRE_PAYLOAD_MALFORMED, 0 }, /* claims more */
		{ 0x45, 19, 32, WIRE_PAYLOAD_MALFORMED, 0 }, /* < header */
		{ 0x45, 0, 32, WIRE_PAYLOAD_MALFORMED, 0 },
		{ 0x45, 20, 19, WIRE_PAYLOAD_MALFORMED, 0 }, /* no header */
		{ 0x46, 24, 32, WIRE_PAYLOAD_IPV4, 24 },
		{ 0x46, 23, 32, WIRE_PAYLOAD_MALFORMED, 0 },
		{ 0x4f, 60, 64, WIRE_PAYLOAD_IPV4, 60 },
		{ 0x4f, 59, 64, WIRE_PAYLOAD_MALFORMED, 0 },
		{ 0x4f, 60, 59, WIRE_PAYLOAD_MALFORMED, 0 },
		{ 0x44, 20, 32, WIRE_PAYLOAD_MALFORMED, 0 }, /* IHL 4 */
		{ 0x40, 20, 32, WIRE_PAYLOAD_MALFORMED, 0 },
		{ 0x60, 0, 40, WIRE_PAYLOAD_IPV6, 40 },
		{ 0x60, 0, 48, WIRE_PAYLOAD_IPV6, 40 },
		{ 0x60, 8, 48, WIRE_PAYLOAD_IPV6, 48 },
		{ 0x60, 9, 48, WIRE_PAYLOAD_MALFORMED, 0 },
		{ 0x60, 0, 39, WIRE_PAYLOAD_MALFORMED, 0 },
		{ 0x6f, 1380, 1420, WIRE_PAYLOAD_IPV6, 1420 },
		{ 0x60, 0xffff, 1420, WIRE_PAYLOAD_MALFORMED, 0 },
		{ 0x70, 0, 48, WIRE_PAYLOAD_MALFORMED, 0 },
		{ 0x5f, 0, 48, WIRE_PAYLOAD_MALFORMED, 0 },
		{ 0x01, 0, 1, WIRE_PAYLOAD_CONTROL, 1 },
		{ 0x0f, 0, 64, WIRE_PAYLOAD_CONTROL, 64 },
		{ 0x10, 0, 64, WIRE_PAYLOAD_MALFORMED, 0 },
		{ 0x00, 0, 64, WIRE_PAYLOAD_MALFORMED, 0 },
		{ 0x00, 0, 1, WIRE_PAYLOAD_MALFORMED, 0 },
		{ 0xff, 0, 16, WIRE_PAYLOAD_MALFORMED, 0 },
	};
	uint8_t buf[1500];
	size_t i;

	(void)state;
	memset(buf, 0x45, sizeof(buf));
	check_payload(buf, 0, WIRE_PAYLOAD_KEEPALIVE, 0);
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		memset(buf, 0, sizeof(buf));
		buf[0] = v[i].b0;
		if ((v[i].b0 >> 4) == 4) {
			buf[2] = (uint8_t)(v[i].field >> 8);
			buf[3] = (uint8_t)v[i].field;
		} else {
			buf[4] = (uint8_t)(v[i].field >> 8);
			buf[5] = (uint8_t)v[i].field;
		}
		check_payload(buf, v[i].len, v[i].kind, v[i].inner);
	}
}

/*
 * Every first byte, every length up to 72, and length fields that claim
 * less than, exactly, and more than the plaintext holds.
 */
static void
test_payload_sweep(void **state)
{
	static const uint16_t fields[] = { 0, 8, 19, 20, 32, 40, 60, 64, 72,
					   0x1000, 0xffff };
	uint8_t buf[80];
	enum wire_payload want;
	size_t len, f, want_inner;
	unsigned int b0;

	(void)state;
	for (b0 = 0; b0 < 256; b0++) {
		for (f = 0; f < ARRAY_SIZE(fields); f++) {
			memset(buf, 0xc3, sizeof(buf));
			buf[0] = (uint8_t)b0;
			buf[2] = buf[4] = (uint8_t)(fields[f] >> 8);
			buf[3] = buf[5] = (uint8_t)fields[f];
			for (len = 0; len <= 72; len++) {
				want = reference_payload(buf, len, &want_inner);
				check_payload(buf, len, want, want_inner);
			}
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_mac_offsets),
		cmocka_unit_test(test_byte_order),
		cmocka_unit_test(test_classify_lengths),
		cmocka_unit_test(test_classify_reserved_and_unknown),
		cmocka_unit_test(test_padded_len_table),
		cmocka_unit_test(test_padded_len_sweep),
		cmocka_unit_test(test_payload_table),
		cmocka_unit_test(test_payload_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
