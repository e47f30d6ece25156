// SPDX-License-Identifier: MIT
/*
 * login.c, the control messages of PROTOCOL.md section 6: round trips of
 * every ctl_type and every attribute through login_writer and
 * login_decode; the byte layout against a message written by hand; each
 * drop rule of the section as a table; the writer's bounds; a sweep that
 * decodes every valid message cut at every length from a heap buffer of
 * exactly that length (ASan reports any read past it); and a few hundred
 * thousand seeded random and mutated inputs decoded the same way and
 * compared with a reference decoder written here from the section's
 * text. Plus tables for the code helpers and the UTF-8 check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "login.h"
#include "rand.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MSG_MAX 2048
/* A type no revision of section 6 defines. */
#define ATTR_UNKNOWN ((enum login_attr_type)0x61)

static const enum login_sender senders[] = { LOGIN_FROM_CLIENT,
					     LOGIN_FROM_SERVER };

/*
 * Decodes a copy of msg in a heap buffer of exactly len bytes. The
 * decoded text points into that copy: free *held after the checks.
 */
static enum login_decode
decode_exact(const uint8_t *msg, size_t len, enum login_sender from,
	     struct login_msg *m, uint8_t **held)
{
	uint8_t *b = malloc(len);

	assert_true(b != NULL || len == 0);
	if (len)
		memcpy(b, msg, len);
	*held = b;
	return login_decode(b, len, from, m);
}

/* Decodes and frees; for tests that need only the verdict. */
static enum login_decode
verdict(const uint8_t *msg, size_t len, enum login_sender from)
{
	struct login_msg m;
	enum login_decode r;
	uint8_t *held;

	r = decode_exact(msg, len, from, &m, &held);
	free(held);
	return r;
}

static void
assert_text(const struct login_text *t, const char *want)
{
	assert_int_equal(t->len, strlen(want));
	if (t->len)
		assert_memory_equal(t->ptr, want, t->len);
}

static void
assert_text_in(const struct login_text *t, const uint8_t *buf, size_t len)
{
	if (!t->len)
		return;
	assert_true(t->ptr >= buf && t->ptr + t->len <= buf + len);
}

/* ---- samples: one valid message of each kind ----------------------------- */

static const uint8_t a4[4] = { 10, 99, 0, 7 };
static const uint8_t a6[16] = { 0xfd, 0, 0, 0x99, 0, 0, 0, 0,
				0,    0, 0, 0,    0, 0, 0, 7 };
static const uint8_t gw4[4] = { 10, 99, 0, 1 };
static const uint8_t gw6[16] = { 0xfd, 0, 0, 0x99, 0, 0, 0, 0,
				 0,    0, 0, 0,    0, 0, 0, 1 };

#define N_SAMPLES 11

/* Writes sample i into buf; returns its length and who sends it. */
static size_t
sample(unsigned int i, uint8_t *buf, size_t cap, enum login_sender *from)
{
	struct login_writer w;
	uint8_t net4[4] = { 192, 168, 0, 0 };
	uint8_t net6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	uint8_t dns4[4] = { 10, 99, 0, 53 };
	uint8_t dns6[16] = { 0xfd, 0, 0, 0x99, [15] = 0x53 };
	uint8_t unknown[3] = { 1, 2, 3 };

	switch (i) {
	case 0:
		*from = LOGIN_FROM_CLIENT;
		login_writer_init(&w, buf, cap, LOGIN_AUTH_REQUEST);
		login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, 0xdeadbeef);
		login_put_text(&w, LOGIN_ATTR_USERNAME, "\xc3\xa5lice");
		login_put_text(&w, LOGIN_ATTR_PASSWORD, "correct horse");
		login_put_text(&w, LOGIN_ATTR_TOTP, "123456");
		login_put_text(&w, LOGIN_ATTR_CLIENT_INFO, "vpnc 1 on laptop");
		break;
	case 1:
		/* Any order; the shortest values. */
		*from = LOGIN_FROM_CLIENT;
		login_writer_init(&w, buf, cap, LOGIN_AUTH_REQUEST);
		login_put_text(&w, LOGIN_ATTR_TOTP, "k");
		login_put_text(&w, LOGIN_ATTR_PASSWORD, "p");
		login_put_text(&w, LOGIN_ATTR_USERNAME, "u");
		login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, 0);
		break;
	case 2:
		*from = LOGIN_FROM_SERVER;
		login_writer_init(&w, buf, cap, LOGIN_AUTH_RESULT);
		login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, 0x01020304);
		login_put_u8(&w, LOGIN_ATTR_STATUS, LOGIN_STATUS_OK);
		login_put_prefix(&w, LOGIN_ATTR_ADDRESS4, a4, 4, 24);
		login_put_prefix(&w, LOGIN_ATTR_ADDRESS6, a6, 16, 64);
		login_put(&w, LOGIN_ATTR_GATEWAY4, gw4, 4);
		login_put(&w, LOGIN_ATTR_GATEWAY6, gw6, 16);
		login_put_u16(&w, LOGIN_ATTR_MTU, 1420);
		login_put_u16(&w, LOGIN_ATTR_KEEPALIVE, 25);
		login_put_u32(&w, LOGIN_ATTR_SESSION_EXPIRES, 43200);
		login_put_prefix(&w, LOGIN_ATTR_ROUTE4, net4, 4, 16);
		login_put_prefix(&w, LOGIN_ATTR_ROUTE6, net6, 16, 32);
		net4[1] = 169;
		login_put_prefix(&w, LOGIN_ATTR_ROUTE4, net4, 4, 32);
		login_put(&w, LOGIN_ATTR_DNS4, dns4, 4);
		login_put(&w, LOGIN_ATTR_DNS6, dns6, 16);
		login_put_text(&w, LOGIN_ATTR_DNS_SEARCH, "corp.example");
		dns4[3] = 54;
		login_put(&w, LOGIN_ATTR_DNS4, dns4, 4);
		login_put_text(&w, LOGIN_ATTR_DNS_SEARCH, "example");
		login_put_prefix(&w, LOGIN_ATTR_ROUTE4, net4, 4, 0);
		login_put_prefix(&w, LOGIN_ATTR_ROUTE6, net6, 16, 128);
		login_put(&w, LOGIN_ATTR_DNS6, dns6, 16);
		break;
	case 3:
		*from = LOGIN_FROM_SERVER;
		login_writer_init(&w, buf, cap, LOGIN_AUTH_RESULT);
		login_put_u8(&w, LOGIN_ATTR_STATUS, LOGIN_STATUS_LOCKED);
		login_put_u32(&w, LOGIN_ATTR_RETRY_AFTER, 900);
		login_put_text(&w, LOGIN_ATTR_MESSAGE, "Try again later.");
		login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, 77);
		break;
	case 4:
		*from = LOGIN_FROM_SERVER;
		login_writer_init(&w, buf, cap, LOGIN_AUTH_REQUIRED);
		break;
	case 5:
		*from = LOGIN_FROM_SERVER;
		login_writer_init(&w, buf, cap, LOGIN_AUTH_REQUIRED);
		login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, 5);
		login_put_u32(&w, LOGIN_ATTR_RETRY_AFTER, 1);
		login_put_text(&w, LOGIN_ATTR_MESSAGE, "");
		break;
	case 6:
		*from = LOGIN_FROM_CLIENT;
		login_writer_init(&w, buf, cap, LOGIN_DISCONNECT);
		login_put(&w, LOGIN_ATTR_LOGOUT, NULL, 0);
		login_put_text(&w, LOGIN_ATTR_REASON, "logout");
		break;
	case 7:
		*from = LOGIN_FROM_SERVER;
		login_writer_init(&w, buf, cap, LOGIN_DISCONNECT);
		login_put_text(&w, LOGIN_ATTR_REASON, "kicked");
		break;
	case 8:
		*from = LOGIN_FROM_CLIENT;
		login_writer_init(&w, buf, cap, LOGIN_RESUME);
		login_put_text(&w, LOGIN_ATTR_USERNAME, "bob");
		login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, 0xffffffff);
		break;
	case 9:
		*from = LOGIN_FROM_CLIENT;
		login_writer_init(&w, buf, cap, LOGIN_RESUME);
		login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, 9);
		break;
	default:
		/* Unknown attributes of a later revision among known ones. */
		*from = LOGIN_FROM_SERVER;
		login_writer_init(&w, buf, cap, LOGIN_DISCONNECT);
		login_put(&w, (enum login_attr_type)0x7f, unknown, 3);
		login_put_text(&w, LOGIN_ATTR_REASON, "shutdown");
		login_put(&w, (enum login_attr_type)0x00, NULL, 0);
		login_put(&w, (enum login_attr_type)0xff, unknown, 1);
		break;
	}
	return login_writer_finish(&w);
}

/* ---- round trips --------------------------------------------------------- */

static void
test_roundtrip_auth_request(void **state)
{
	uint8_t buf[MSG_MAX], *held;
	enum login_sender from;
	struct login_msg m;
	size_t len;

	(void)state;
	len = sample(0, buf, sizeof(buf), &from);
	assert_true(len > 0);
	assert_int_equal(decode_exact(buf, len, from, &m, &held),
			 LOGIN_DECODE_OK);
	assert_int_equal(m.type, LOGIN_AUTH_REQUEST);
	assert_int_equal(m.request_id, 0xdeadbeef);
	assert_text(&m.username, "\xc3\xa5lice");
	assert_text(&m.password, "correct horse");
	assert_text(&m.totp, "123456");
	assert_text(&m.client_info, "vpnc 1 on laptop");
	assert_text_in(&m.username, held, len);
	assert_true(login_has(&m, LOGIN_ATTR_REQUEST_ID));
	assert_true(login_has(&m, LOGIN_ATTR_USERNAME));
	assert_true(login_has(&m, LOGIN_ATTR_PASSWORD));
	assert_true(login_has(&m, LOGIN_ATTR_TOTP));
	assert_true(login_has(&m, LOGIN_ATTR_CLIENT_INFO));
	assert_false(login_has(&m, LOGIN_ATTR_STATUS));
	assert_false(login_has(&m, LOGIN_ATTR_MESSAGE));
	free(held);

	len = sample(1, buf, sizeof(buf), &from);
	assert_int_equal(decode_exact(buf, len, from, &m, &held),
			 LOGIN_DECODE_OK);
	assert_int_equal(m.request_id, 0);
	assert_text(&m.username, "u");
	assert_text(&m.password, "p");
	assert_text(&m.totp, "k");
	assert_false(login_has(&m, LOGIN_ATTR_CLIENT_INFO));
	free(held);
}

static void
test_roundtrip_auth_result(void **state)
{
	static const uint8_t net4a[4] = { 192, 168, 0, 0 };
	static const uint8_t net4b[4] = { 192, 169, 0, 0 };
	static const uint8_t net6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const uint8_t dns4a[4] = { 10, 99, 0, 53 };
	static const uint8_t dns4b[4] = { 10, 99, 0, 54 };
	static const uint8_t dns6[16] = { 0xfd, 0, 0, 0x99, [15] = 0x53 };
	uint8_t buf[MSG_MAX], *held, d4[4], d6[16];
	enum login_sender from;
	struct login_prefix4 p4;
	struct login_prefix6 p6;
	struct login_text text;
	struct login_iter it;
	struct login_msg m;
	size_t len;

	(void)state;
	len = sample(2, buf, sizeof(buf), &from);
	assert_true(len > 0);
	assert_int_equal(decode_exact(buf, len, from, &m, &held),
			 LOGIN_DECODE_OK);
	assert_int_equal(m.type, LOGIN_AUTH_RESULT);
	assert_int_equal(m.request_id, 0x01020304);
	assert_int_equal(m.status, LOGIN_STATUS_OK);
	assert_memory_equal(m.address4.addr, a4, 4);
	assert_int_equal(m.address4.prefix_len, 24);
	assert_memory_equal(m.address6.addr, a6, 16);
	assert_int_equal(m.address6.prefix_len, 64);
	assert_memory_equal(m.gateway4, gw4, 4);
	assert_memory_equal(m.gateway6, gw6, 16);
	assert_int_equal(m.mtu, 1420);
	assert_int_equal(m.keepalive_s, 25);
	assert_int_equal(m.session_expires_s, 43200);
	assert_int_equal(m.n_route4, 3);
	assert_int_equal(m.n_route6, 2);
	assert_int_equal(m.n_dns4, 2);
	assert_int_equal(m.n_dns6, 2);
	assert_int_equal(m.n_dns_search, 2);
	assert_true(login_has(&m, LOGIN_ATTR_ROUTE4));
	assert_true(login_has(&m, LOGIN_ATTR_DNS_SEARCH));
	assert_false(login_has(&m, LOGIN_ATTR_RETRY_AFTER));

	/* The repeatable ones, in message order, each iterator on its own. */
	login_iter_init(&it, &m);
	assert_true(login_next_route4(&it, &p4));
	assert_memory_equal(p4.addr, net4a, 4);
	assert_int_equal(p4.prefix_len, 16);
	assert_true(login_next_route4(&it, &p4));
	assert_memory_equal(p4.addr, net4b, 4);
	assert_int_equal(p4.prefix_len, 32);
	assert_true(login_next_route4(&it, &p4));
	assert_int_equal(p4.prefix_len, 0);
	assert_false(login_next_route4(&it, &p4));
	assert_false(login_next_route4(&it, &p4));

	login_iter_init(&it, &m);
	assert_true(login_next_route6(&it, &p6));
	assert_memory_equal(p6.addr, net6, 16);
	assert_int_equal(p6.prefix_len, 32);
	assert_true(login_next_route6(&it, &p6));
	assert_int_equal(p6.prefix_len, 128);
	assert_false(login_next_route6(&it, &p6));

	login_iter_init(&it, &m);
	assert_true(login_next_dns4(&it, d4));
	assert_memory_equal(d4, dns4a, 4);
	assert_true(login_next_dns4(&it, d4));
	assert_memory_equal(d4, dns4b, 4);
	assert_false(login_next_dns4(&it, d4));

	login_iter_init(&it, &m);
	assert_true(login_next_dns6(&it, d6));
	assert_memory_equal(d6, dns6, 16);
	assert_true(login_next_dns6(&it, d6));
	assert_false(login_next_dns6(&it, d6));

	login_iter_init(&it, &m);
	assert_true(login_next_dns_search(&it, &text));
	assert_text(&text, "corp.example");
	assert_text_in(&text, held, len);
	assert_true(login_next_dns_search(&it, &text));
	assert_text(&text, "example");
	assert_false(login_next_dns_search(&it, &text));
	free(held);

	len = sample(3, buf, sizeof(buf), &from);
	assert_int_equal(decode_exact(buf, len, from, &m, &held),
			 LOGIN_DECODE_OK);
	assert_int_equal(m.status, LOGIN_STATUS_LOCKED);
	assert_int_equal(m.retry_after_s, 900);
	assert_int_equal(m.request_id, 77);
	assert_text(&m.message, "Try again later.");
	assert_int_equal(m.n_route4 + m.n_route6 + m.n_dns4 + m.n_dns6 +
				 m.n_dns_search, 0);
	assert_false(login_has(&m, LOGIN_ATTR_ADDRESS4));
	login_iter_init(&it, &m);
	assert_false(login_next_route4(&it, &p4));
	free(held);
}

static void
test_roundtrip_others(void **state)
{
	uint8_t buf[MSG_MAX], *held;
	enum login_sender from;
	struct login_msg m;
	size_t len;

	(void)state;
	len = sample(4, buf, sizeof(buf), &from);
	assert_int_equal(len, LOGIN_HEADER_LEN);
	assert_int_equal(decode_exact(buf, len, from, &m, &held),
			 LOGIN_DECODE_OK);
	assert_int_equal(m.type, LOGIN_AUTH_REQUIRED);
	assert_int_equal(m.present, 0);
	free(held);

	len = sample(5, buf, sizeof(buf), &from);
	assert_int_equal(decode_exact(buf, len, from, &m, &held),
			 LOGIN_DECODE_OK);
	assert_int_equal(m.request_id, 5);
	assert_int_equal(m.retry_after_s, 1);
	assert_true(login_has(&m, LOGIN_ATTR_MESSAGE));
	assert_int_equal(m.message.len, 0);
	free(held);

	len = sample(6, buf, sizeof(buf), &from);
	assert_int_equal(decode_exact(buf, len, from, &m, &held),
			 LOGIN_DECODE_OK);
	assert_int_equal(m.type, LOGIN_DISCONNECT);
	assert_true(login_has(&m, LOGIN_ATTR_LOGOUT));
	assert_text(&m.reason, "logout");
	free(held);

	len = sample(7, buf, sizeof(buf), &from);
	assert_int_equal(decode_exact(buf, len, from, &m, &held),
			 LOGIN_DECODE_OK);
	assert_false(login_has(&m, LOGIN_ATTR_LOGOUT));
	assert_text(&m.reason, "kicked");
	free(held);

	len = sample(8, buf, sizeof(buf), &from);
	assert_int_equal(decode_exact(buf, len, from, &m, &held),
			 LOGIN_DECODE_OK);
	assert_int_equal(m.type, LOGIN_RESUME);
	assert_int_equal(m.request_id, 0xffffffff);
	assert_text(&m.username, "bob");
	free(held);

	len = sample(9, buf, sizeof(buf), &from);
	assert_int_equal(decode_exact(buf, len, from, &m, &held),
			 LOGIN_DECODE_OK);
	assert_false(login_has(&m, LOGIN_ATTR_USERNAME));
	free(held);

	/* Unknown attributes are skipped, the known ones kept. */
	len = sample(10, buf, sizeof(buf), &from);
	assert_int_equal(decode_exact(buf, len, from, &m, &held),
			 LOGIN_DECODE_OK);
	assert_text(&m.reason, "shutdown");
	assert_true(login_has(&m, LOGIN_ATTR_REASON));
	assert_int_equal(__builtin_popcountll(m.present), 1);
	free(held);
}

/* The layout of section 6 byte by byte, both ways. */
static void
test_wire_bytes(void **state)
{
	static const uint8_t want[] = {
		0x01, 0x00, 22, 0,                    /* AUTH_REQUEST */
		0x01, 4, 0x01, 0x02, 0x03, 0x04,      /* REQUEST_ID LE */
		0x02, 2, 'a', 'l',                    /* USERNAME */
		0x03, 2, 'p', 'w',                    /* PASSWORD */
		0x04, 6, '1', '2', '3', '4', '5', '6' /* TOTP */
	};
	static const uint8_t want_result[] = {
		0x02, 0x00, 26, 0,                  /* AUTH_RESULT */
		0x01, 4, 0x04, 0x03, 0x02, 0x01,    /* REQUEST_ID */
		0x10, 1, 0x00,                      /* STATUS OK */
		0x20, 5, 10, 99, 0, 7, 24,          /* ADDRESS4 */
		0x27, 2, 0x8c, 0x05,                /* MTU 1420 LE */
		0x29, 4, 0xc0, 0xa8, 0x00, 0x00,    /* SESSION_EXPIRES 43200 */
	};
	uint8_t buf[64];
	struct login_writer w;
	struct login_msg m;

	(void)state;
	login_writer_init(&w, buf, sizeof(buf), LOGIN_AUTH_REQUEST);
	login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, 0x04030201);
	login_put_text(&w, LOGIN_ATTR_USERNAME, "al");
	login_put_text(&w, LOGIN_ATTR_PASSWORD, "pw");
	login_put_text(&w, LOGIN_ATTR_TOTP, "123456");
	assert_int_equal(login_writer_finish(&w), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(login_decode(want, sizeof(want), LOGIN_FROM_CLIENT,
				      &m),
			 LOGIN_DECODE_OK);
	assert_int_equal(m.request_id, 0x04030201);

	login_writer_init(&w, buf, sizeof(buf), LOGIN_AUTH_RESULT);
	login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, 0x01020304);
	login_put_u8(&w, LOGIN_ATTR_STATUS, 0);
	login_put_prefix(&w, LOGIN_ATTR_ADDRESS4, a4, 4, 24);
	login_put_u16(&w, LOGIN_ATTR_MTU, 1420);
	login_put_u32(&w, LOGIN_ATTR_SESSION_EXPIRES, 43200);
	assert_int_equal(login_writer_finish(&w), sizeof(want_result));
	assert_memory_equal(buf, want_result, sizeof(want_result));
	assert_int_equal(login_decode(want_result, sizeof(want_result),
				      LOGIN_FROM_SERVER, &m),
			 LOGIN_DECODE_OK);
	assert_int_equal(m.mtu, 1420);
	assert_int_equal(m.session_expires_s, 43200);
}

/* ---- the drop rules, as tables of hand-made messages --------------------- */

struct vec {
	uint8_t type;
	uint8_t reserved;
	int body_len_delta; /* added to the real body length */
	enum login_sender from;
	enum login_decode want;
	size_t n;
	uint8_t body[80];
};

#define C LOGIN_FROM_CLIENT
#define V LOGIN_FROM_SERVER
#define OK LOGIN_DECODE_OK
#define BAD LOGIN_DECODE_MALFORMED
#define IGN LOGIN_DECODE_IGNORED
#define BODY(...)                                                            \
	.n = sizeof((uint8_t[]){ __VA_ARGS__ }), .body = { __VA_ARGS__ }
/* Attributes, written out */
#define RID 0x01, 4, 1, 2, 3, 4
#define USER 0x02, 3, 'b', 'o', 'b'
#define PASS 0x03, 2, 'p', 'w'
#define TOTP 0x04, 6, '1', '2', '3', '4', '5', '6'
#define STATUS 0x10, 1, 0
#define REQ RID, USER, PASS, TOTP

static void
run_vectors(const struct vec *v, size_t n)
{
	uint8_t buf[4 + 80];
	size_t i;

	for (i = 0; i < n; i++) {
		size_t body_len = v[i].n + (size_t)v[i].body_len_delta;
		enum login_decode got;

		buf[0] = v[i].type;
		buf[1] = v[i].reserved;
		buf[2] = (uint8_t)body_len;
		buf[3] = (uint8_t)(body_len >> 8);
		memcpy(buf + 4, v[i].body, v[i].n);
		got = verdict(buf, 4 + v[i].n, v[i].from);
		if (got != v[i].want)
			fail_msg("vector %zu (type %#x): got %d, want %d", i,
				 v[i].type, got, v[i].want);
	}
}

static void
test_frame_rules(void **state)
{
	static const struct vec v[] = {
		{ 1, 0, 0, C, OK, BODY(REQ) },
		/* reserved byte */
		{ 1, 1, 0, C, BAD, BODY(REQ) },
		{ 1, 0x80, 0, C, BAD, BODY(REQ) },
		{ 1, 0xff, 0, C, BAD, BODY(REQ) },
		{ 3, 1, 0, V, BAD, .n = 0 },
		{ 4, 2, 0, C, BAD, .n = 0 },
		/* body_len past the plaintext */
		{ 1, 0, 1, C, BAD, BODY(REQ) },
		{ 3, 0, 1, V, BAD, .n = 0 },
		{ 3, 0, 0xffff, V, BAD, .n = 0 },
		{ 4, 0, 200, V, BAD, BODY(0x30, 1, 'x') },
		/* body_len cutting an attribute: it overruns body_len */
		{ 1, 0, -1, C, BAD, BODY(REQ) },
		{ 1, 0, -5, C, BAD, BODY(REQ) },
		{ 4, 0, -1, V, BAD, BODY(0x30, 1, 'x') },
		{ 4, 0, -2, V, BAD, BODY(0x30, 1, 'x') },
		/* a lone byte where an attribute header should be */
		{ 4, 0, 0, V, BAD, BODY(0x30) },
		{ 4, 0, 0, V, BAD, BODY(0x30, 0, 0x99) },
		{ 4, 0, 0, V, BAD, BODY(0x99, 0, 0x30) },
		/* an attribute longer than what is left */
		{ 4, 0, 0, V, BAD, BODY(0x30, 2, 'x') },
		{ 4, 0, 0, V, BAD, BODY(0x99, 3, 'x', 'y') },
		{ 4, 0, 0, V, BAD, BODY(0x30, 0xff, 'x') },
		/* body_len at an attribute boundary: the rest is padding */
		{ 1, 0, -2, C, OK, BODY(REQ, 0x30, 0) },
		{ 4, 0, -3, V, OK, BODY(0x30, 0, 0x30, 1, 'x') },
		{ 1, 0, -8, C, BAD, BODY(REQ) }, /* TOTP cut off */
		{ 1, 0, -8, C, OK, BODY(REQ, TOTP) }, /* the 2nd is padding */
		{ 1, 0, -3, C, OK, BODY(REQ, 0x03, 1, 'x') },
		{ 4, 0, -3, V, OK, BODY(0x30, 1, 0xff) }, /* all padding */
		/* unknown ctl_types of later revisions: ignored, whatever
		 * follows */
		{ 6, 0, 0, C, IGN, .n = 0 },
		{ 6, 0, 0, V, IGN, .n = 0 },
		{ 7, 0, 0xffff, V, IGN, BODY(0xff) },
		{ 0x0a, 0, 0, C, IGN, BODY(0x01, 9, 1) },
		{ 0x0f, 0, 0, V, IGN, BODY(0x02, 0, 0x02, 0) },
		{ 0x0f, 0, -1, C, IGN, BODY(REQ) },
		/* not control messages at all */
		{ 0x00, 0, 0, C, BAD, .n = 0 },
		{ 0x10, 0, 0, V, BAD, .n = 0 },
		{ 0x45, 0, 0, V, BAD, .n = 0 },
		{ 0xff, 0, 0, C, BAD, .n = 0 },
		/* direction (rule 9) */
		{ 1, 0, 0, V, BAD, BODY(REQ) },
		{ 2, 0, 0, C, BAD, BODY(RID, STATUS) },
		{ 2, 0, 0, V, OK, BODY(RID, STATUS) },
		{ 3, 0, 0, C, BAD, .n = 0 },
		{ 3, 0, 0, V, OK, .n = 0 },
		{ 4, 0, 0, C, OK, .n = 0 },
		{ 4, 0, 0, V, OK, .n = 0 },
		{ 5, 0, 0, V, BAD, BODY(RID) },
		{ 5, 0, 0, C, OK, BODY(RID) },
		/* required attributes */
		{ 1, 0, 0, C, BAD, BODY(USER, PASS, TOTP) },
		{ 1, 0, 0, C, BAD, BODY(RID, PASS, TOTP) },
		{ 1, 0, 0, C, BAD, BODY(RID, USER, TOTP) },
		{ 1, 0, 0, C, BAD, BODY(RID, USER, PASS) },
		{ 1, 0, 0, C, BAD, .n = 0 },
		{ 1, 0, 0, C, OK, BODY(TOTP, PASS, USER, RID) },
		{ 2, 0, 0, V, BAD, BODY(RID) },
		{ 2, 0, 0, V, BAD, BODY(STATUS) },
		{ 2, 0, 0, V, BAD, .n = 0 },
		{ 2, 0, 0, V, OK, BODY(STATUS, RID) },
		{ 5, 0, 0, C, BAD, .n = 0 },
		{ 5, 0, 0, C, BAD, BODY(USER) },
		{ 5, 0, 0, C, OK, BODY(USER, RID) },
		/* an unknown attribute does not stand in for a known one */
		{ 5, 0, 0, C, BAD, BODY(0x61, 4, 1, 2, 3, 4) },
		{ 5, 0, 0, C, OK, BODY(0x61, 4, 1, 2, 3, 4, RID) },
	};
	uint8_t msg[8] = { 0, 0, 4, 0, 0x02, 9, 0xff, 0xff };
	unsigned int type, k;

	(void)state;
	run_vectors(v, ARRAY_SIZE(v));
	/* Every reserved ctl_type, from either side, with a body that would
	 * be malformed if it were read. */
	for (type = 0x06; type <= 0x0f; type++) {
		for (k = 0; k < ARRAY_SIZE(senders); k++) {
			msg[0] = (uint8_t)type;
			assert_int_equal(verdict(msg, sizeof(msg), senders[k]),
					 IGN);
			assert_int_equal(verdict(msg, 4, senders[k]), IGN);
		}
	}
}

/* Every non-repeatable attribute twice, with values valid on their own. */
static void
test_duplicates(void **state)
{
	static const struct vec v[] = {
		{ 1, 0, 0, C, BAD, BODY(REQ, RID) },
		{ 1, 0, 0, C, BAD, BODY(REQ, USER) },
		{ 1, 0, 0, C, BAD, BODY(REQ, PASS) },
		{ 1, 0, 0, C, BAD, BODY(REQ, TOTP) },
		{ 1, 0, 0, C, BAD, BODY(REQ, 0x05, 0, 0x05, 0) },
		{ 2, 0, 0, V, BAD, BODY(RID, STATUS, STATUS) },
		{ 4, 0, 0, V, BAD, BODY(0x11, 0, 0x11, 1, 'm') },
		{ 4, 0, 0, V, BAD,
		  BODY(0x12, 4, 0, 0, 0, 0, 0x12, 4, 0, 0, 0, 0) },
		{ 4, 0, 0, V, BAD,
		  BODY(0x20, 5, 1, 2, 3, 4, 8, 0x20, 5, 1, 2, 3, 4, 8) },
		{ 4, 0, 0, V, BAD,
		  BODY(0x21, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		       0, 0, 0x21, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		       0, 0, 0, 0) },
		{ 4, 0, 0, V, BAD, BODY(0x27, 2, 0, 5, 0x27, 2, 0, 5) },
		{ 4, 0, 0, V, BAD, BODY(0x28, 2, 0, 0, 0x28, 2, 0, 0) },
		{ 4, 0, 0, V, BAD,
		  BODY(0x29, 4, 1, 0, 0, 0, 0x29, 4, 1, 0, 0, 0) },
		{ 4, 0, 0, V, BAD,
		  BODY(0x2a, 4, 1, 2, 3, 4, 0x2a, 4, 1, 2, 3, 4) },
		{ 4, 0, 0, V, BAD,
		  BODY(0x2b, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		       0, 0x2b, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		       0, 0) },
		{ 4, 0, 0, V, BAD, BODY(0x30, 0, 0x30, 0) },
		{ 4, 0, 0, C, BAD, BODY(0x31, 0, 0x31, 0) },
		/* even apart, even with other attributes between */
		{ 5, 0, 0, C, BAD, BODY(RID, USER, 0x61, 0, RID) },
		/* repeatable ones may repeat */
		{ 4, 0, 0, V, OK,
		  BODY(0x22, 5, 1, 2, 3, 0, 24, 0x22, 5, 1, 2, 3, 0, 24) },
		{ 4, 0, 0, V, OK,
		  BODY(0x24, 4, 1, 1, 1, 1, 0x24, 4, 1, 1, 1, 1) },
		{ 4, 0, 0, V, OK,
		  BODY(0x26, 1, 'a', 0x26, 1, 'a', 0x26, 1, 'b') },
		/* unknown ones too */
		{ 4, 0, 0, V, OK, BODY(0x61, 0, 0x61, 0, 0x61, 1, 0) },
	};

	(void)state;
	run_vectors(v, ARRAY_SIZE(v));
}

/* Repeatable attributes many times: all counted, all walked, in order. */
static void
test_repeatable_many(void **state)
{
	uint8_t buf[MSG_MAX], *held, d4[4], net[4] = { 10, 0, 0, 0 };
	struct login_writer w;
	struct login_prefix4 p;
	struct login_iter it;
	struct login_msg m;
	unsigned int i;
	size_t len;

	(void)state;
	login_writer_init(&w, buf, sizeof(buf), LOGIN_DISCONNECT);
	for (i = 0; i < 100; i++) {
		net[1] = (uint8_t)i;
		login_put_prefix(&w, LOGIN_ATTR_ROUTE4, net, 4,
				 (uint8_t)(i % 33));
		login_put(&w, LOGIN_ATTR_DNS4, net, 4);
	}
	len = login_writer_finish(&w);
	assert_int_equal(len, 4 + 100 * (7 + 6));
	assert_int_equal(decode_exact(buf, len, LOGIN_FROM_SERVER, &m, &held),
			 LOGIN_DECODE_OK);
	assert_int_equal(m.n_route4, 100);
	assert_int_equal(m.n_dns4, 100);
	login_iter_init(&it, &m);
	for (i = 0; i < 100; i++) {
		assert_true(login_next_route4(&it, &p));
		assert_int_equal(p.addr[1], i);
		assert_int_equal(p.prefix_len, i % 33);
	}
	assert_false(login_next_route4(&it, &p));
	login_iter_init(&it, &m);
	for (i = 0; i < 100; i++) {
		assert_true(login_next_dns4(&it, d4));
		assert_int_equal(d4[1], i);
	}
	assert_false(login_next_dns4(&it, d4));
	free(held);
}

/* Known attributes at a wrong length are dropped; unknown ones are not. */
static void
test_attribute_lengths(void **state)
{
	static const struct {
		uint8_t type;
		unsigned int min, max;
	} v[] = {
		{ LOGIN_ATTR_REQUEST_ID, 4, 4 },
		{ LOGIN_ATTR_USERNAME, 1, 64 },
		{ LOGIN_ATTR_PASSWORD, 1, 255 },
		{ LOGIN_ATTR_TOTP, 1, 255 },
		{ LOGIN_ATTR_CLIENT_INFO, 0, 255 },
		{ LOGIN_ATTR_STATUS, 1, 1 },
		{ LOGIN_ATTR_MESSAGE, 0, 255 },
		{ LOGIN_ATTR_RETRY_AFTER, 4, 4 },
		{ LOGIN_ATTR_ADDRESS4, 5, 5 },
		{ LOGIN_ATTR_ADDRESS6, 17, 17 },
		{ LOGIN_ATTR_ROUTE4, 5, 5 },
		{ LOGIN_ATTR_ROUTE6, 17, 17 },
		{ LOGIN_ATTR_DNS4, 4, 4 },
		{ LOGIN_ATTR_DNS6, 16, 16 },
		{ LOGIN_ATTR_DNS_SEARCH, 1, 255 },
		{ LOGIN_ATTR_MTU, 2, 2 },
		{ LOGIN_ATTR_KEEPALIVE, 2, 2 },
		{ LOGIN_ATTR_SESSION_EXPIRES, 4, 4 },
		{ LOGIN_ATTR_GATEWAY4, 4, 4 },
		{ LOGIN_ATTR_GATEWAY6, 16, 16 },
		{ LOGIN_ATTR_REASON, 0, 255 },
		{ LOGIN_ATTR_LOGOUT, 0, 0 },
	};
	uint8_t buf[4 + 2 + 255];
	size_t i;
	unsigned int len;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		for (len = 0; len <= 255; len++) {
			bool ok = len >= v[i].min && len <= v[i].max;
			enum login_decode want = ok ? OK : BAD;

			/* 'a's: valid UTF-8, and a prefix length of 97 is
			 * checked apart below. */
			memset(buf, 'a', sizeof(buf));
			if (len == 5 || len == 17)
				buf[4 + 2 + len - 1] = 0;
			buf[0] = LOGIN_DISCONNECT;
			buf[1] = 0;
			buf[2] = (uint8_t)(2 + len);
			buf[3] = (uint8_t)((2 + len) >> 8);
			buf[4] = v[i].type;
			buf[5] = (uint8_t)len;
			if (verdict(buf, 6 + len, LOGIN_FROM_SERVER) != want)
				fail_msg("attribute %#x, length %u: want %s",
					 v[i].type, len, ok ? "OK" : "drop");
		}
	}
	/* Unknown types, at every length. */
	for (i = 0; i < 256; i++) {
		bool known = false;
		size_t k;

		for (k = 0; k < ARRAY_SIZE(v); k++)
			known |= v[k].type == i;
		if (known)
			continue;
		for (len = 0; len <= 255; len += 51) {
			memset(buf, 0xff, sizeof(buf));
			buf[0] = LOGIN_DISCONNECT;
			buf[1] = 0;
			buf[2] = (uint8_t)(2 + len);
			buf[3] = (uint8_t)((2 + len) >> 8);
			buf[4] = (uint8_t)i;
			buf[5] = (uint8_t)len;
			assert_int_equal(
				verdict(buf, 6 + len, LOGIN_FROM_CLIENT), OK);
		}
	}
}

/* Prefix lengths: at most the address's bits. */
static void
test_prefix_lengths(void **state)
{
	static const struct vec v[] = {
		{ 4, 0, 0, V, OK, BODY(0x20, 5, 10, 0, 0, 1, 32) },
		{ 4, 0, 0, V, BAD, BODY(0x20, 5, 10, 0, 0, 1, 33) },
		{ 4, 0, 0, V, OK, BODY(0x22, 5, 10, 0, 0, 0, 0) },
		{ 4, 0, 0, V, BAD, BODY(0x22, 5, 10, 0, 0, 0, 0xff) },
		{ 4, 0, 0, V, OK,
		  BODY(0x21, 17, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		       0, 1, 128) },
		{ 4, 0, 0, V, BAD,
		  BODY(0x21, 17, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		       0, 1, 129) },
		{ 4, 0, 0, V, BAD,
		  BODY(0x23, 17, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		       0, 0, 200) },
	};

	(void)state;
	run_vectors(v, ARRAY_SIZE(v));
}

/* USERNAME must be UTF-8; the other texts are not checked here. */
static const struct {
	const char *s;
	bool ok;
} utf8[] = {
	{ "", true },
	{ "bob", true },
	{ "\x7f", true },
	{ "\xc2\x80", true },             /* U+0080 */
	{ "\xc3\xa9t\xc3\xa9", true },    /* été */
	{ "\xdf\xbf", true },             /* U+07FF */
	{ "\xe0\xa0\x80", true },         /* U+0800 */
	{ "\xe2\x82\xac", true },         /* € */
	{ "\xed\x9f\xbf", true },         /* U+D7FF */
	{ "\xee\x80\x80", true },         /* U+E000 */
	{ "\xef\xbf\xbf", true },         /* U+FFFF */
	{ "\xf0\x90\x80\x80", true },     /* U+10000 */
	{ "\xf0\x9f\x98\x80", true },     /* an emoji */
	{ "\xf4\x8f\xbf\xbf", true },     /* U+10FFFF */
	/* overlong */
	{ "\xc0\x80", false },
	{ "\xc0\xaf", false },
	{ "\xc1\xbf", false },
	{ "\xe0\x80\x80", false },
	{ "\xe0\x9f\xbf", false },
	{ "\xf0\x80\x80\x80", false },
	{ "\xf0\x8f\xbf\xbf", false },
	/* surrogates */
	{ "\xed\xa0\x80", false },
	{ "\xed\xad\xbf", false },
	{ "\xed\xb0\x80", false },
	{ "\xed\xbf\xbf", false },
	{ "\xed\xa0\xbd\xed\xb8\x80", false }, /* a CESU-8 pair */
	/* past U+10FFFF */
	{ "\xf4\x90\x80\x80", false },
	{ "\xf5\x80\x80\x80", false },
	{ "\xf7\xbf\xbf\xbf", false },
	{ "\xf8\x88\x80\x80\x80", false },
	{ "\xfc\x84\x80\x80\x80\x80", false },
	/* truncated */
	{ "\xc3", false },
	{ "a\xc3", false },
	{ "\xe2\x82", false },
	{ "\xe2", false },
	{ "\xf0\x9f\x98", false },
	{ "\xf0\x9f", false },
	{ "\xf0", false },
	{ "\xe2\x82x", false },
	{ "\xc3" "a", false },
	/* stray bytes */
	{ "\x80", false },
	{ "a\xbf", false },
	{ "\xfe", false },
	{ "\xff", false },
	{ "\xe2\xc2\xac", false },
};

static void
test_utf8(void **state)
{
	uint8_t buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(utf8); i++) {
		const uint8_t *s = (const uint8_t *)utf8[i].s;
		size_t n = strlen(utf8[i].s);
		enum login_decode want;

		if (login_utf8_valid(s, n) != utf8[i].ok)
			fail_msg("utf8 %zu: want %d", i, utf8[i].ok);
		/* The same as a USERNAME in a RESUME (empty: too short). */
		buf[0] = LOGIN_RESUME;
		buf[1] = 0;
		buf[2] = (uint8_t)(6 + 2 + n);
		buf[3] = 0;
		memcpy(buf + 4, (const uint8_t[]){ RID }, 6);
		buf[10] = LOGIN_ATTR_USERNAME;
		buf[11] = (uint8_t)n;
		memcpy(buf + 12, s, n);
		want = utf8[i].ok && n ? OK : BAD;
		if (verdict(buf, 12 + n, LOGIN_FROM_CLIENT) != want)
			fail_msg("utf8 %zu as USERNAME: want %d", i, want);
		/* A password is bytes: never refused for its encoding. */
		if (n) {
			buf[10] = LOGIN_ATTR_PASSWORD;
			assert_int_equal(verdict(buf, 12 + n,
						 LOGIN_FROM_CLIENT),
					 OK);
		}
	}
	/* The length bounds: no read before or past them. */
	assert_true(login_utf8_valid(NULL, 0));
	assert_true(login_utf8_valid((const uint8_t *)"\xc3\xa9", 2));
	assert_false(login_utf8_valid((const uint8_t *)"\xc3\xa9", 1));
	assert_true(login_utf8_valid((const uint8_t *)"ab\xc3\xa9", 2));
}

/* Padding after 4 + body_len is ignored, whatever it holds. */
static void
test_padding(void **state)
{
	uint8_t buf[MSG_MAX], *held;
	enum login_sender from;
	struct login_msg m, ref;
	unsigned int i;
	size_t len, pad;

	(void)state;
	for (i = 0; i < N_SAMPLES; i++) {
		len = sample(i, buf, sizeof(buf), &from);
		assert_int_equal(login_decode(buf, len, from, &ref),
				 LOGIN_DECODE_OK);
		for (pad = 1; pad <= 100; pad += 3) {
			/* Garbage that would be malformed if it were read. */
			memset(buf + len, (int)(0x80 + pad), pad);
			buf[len] = LOGIN_ATTR_USERNAME;
			assert_int_equal(decode_exact(buf, len + pad, from, &m,
						      &held),
					 LOGIN_DECODE_OK);
			assert_int_equal(m.present, ref.present);
			assert_int_equal(m.body_len, ref.body_len);
			assert_int_equal(m.request_id, ref.request_id);
			free(held);
		}
	}
}

/* ---- the writer ---------------------------------------------------------- */

/* Built into heap buffers of every size up to the message's: nothing
 * written past cap, and 0 unless all of it fitted. */
static void
test_writer_bounds(void **state)
{
	uint8_t full[MSG_MAX], *b;
	enum login_sender from;
	unsigned int i;
	size_t n, cap;

	(void)state;
	for (i = 0; i < N_SAMPLES; i++) {
		n = sample(i, full, sizeof(full), &from);
		assert_true(n >= LOGIN_HEADER_LEN);
		for (cap = 0; cap <= n + 1; cap++) {
			size_t got;

			b = malloc(cap);
			assert_true(b != NULL || cap == 0);
			got = sample(i, b, cap, &from);
			if (cap < n) {
				assert_int_equal(got, 0);
			} else {
				assert_int_equal(got, n);
				assert_memory_equal(b, full, n);
			}
			free(b);
		}
	}
}

static void
test_writer_limits(void **state)
{
	static uint8_t big[70000];
	uint8_t buf[600], text[300];
	struct login_writer w;
	struct login_msg m;
	size_t len;
	int i;

	(void)state;
	memset(text, 'x', sizeof(text));
	/* 255 fits; 256 cannot be encoded: nothing is produced. */
	login_writer_init(&w, buf, sizeof(buf), LOGIN_AUTH_REQUEST);
	login_put(&w, LOGIN_ATTR_PASSWORD, text, 255);
	assert_int_equal(login_writer_finish(&w), 4 + 2 + 255);
	login_writer_init(&w, buf, sizeof(buf), LOGIN_AUTH_REQUEST);
	login_put(&w, LOGIN_ATTR_PASSWORD, text, 256);
	assert_int_equal(login_writer_finish(&w), 0);
	/* ... and what comes after an overflow does not revive it. */
	login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, 1);
	assert_int_equal(login_writer_finish(&w), 0);
	text[256] = '\0';
	login_writer_init(&w, buf, sizeof(buf), LOGIN_DISCONNECT);
	login_put_text(&w, LOGIN_ATTR_REASON, (const char *)text);
	assert_int_equal(login_writer_finish(&w), 0);
	/* An address is 4 or 16 bytes. */
	login_writer_init(&w, buf, sizeof(buf), LOGIN_AUTH_RESULT);
	login_put_prefix(&w, LOGIN_ATTR_ROUTE4, a4, 3, 8);
	assert_int_equal(login_writer_finish(&w), 0);
	login_writer_init(&w, buf, sizeof(buf), LOGIN_AUTH_RESULT);
	login_put_prefix(&w, LOGIN_ATTR_ROUTE6, a6, 17, 8);
	assert_int_equal(login_writer_finish(&w), 0);
	/* A header alone needs 4 bytes. */
	login_writer_init(&w, buf, 3, LOGIN_DISCONNECT);
	assert_int_equal(login_writer_finish(&w), 0);
	login_writer_init(&w, buf, 4, LOGIN_DISCONNECT);
	assert_int_equal(login_writer_finish(&w), 4);

	/* body_len is 16 bits: 255 attributes of 2 + 255 bytes fill it
	 * exactly, two more bytes do not fit. */
	login_writer_init(&w, big, sizeof(big), LOGIN_AUTH_RESULT);
	for (i = 0; i < 255; i++)
		login_put(&w, LOGIN_ATTR_DNS_SEARCH, text, 255);
	len = login_writer_finish(&w);
	assert_int_equal(len, 4 + 65535);
	assert_int_equal(big[2], 0xff);
	assert_int_equal(big[3], 0xff);
	big[0] = LOGIN_DISCONNECT;
	assert_int_equal(login_decode(big, len, LOGIN_FROM_SERVER, &m),
			 LOGIN_DECODE_OK);
	assert_int_equal(m.n_dns_search, 255);
	login_put(&w, LOGIN_ATTR_LOGOUT, NULL, 0);
	assert_int_equal(login_writer_finish(&w), 0);

	/* The same edge reached with shorter attributes: 65535, then 65536. */
	for (i = 0; i < 2; i++) {
		int k;

		login_writer_init(&w, big, sizeof(big), LOGIN_DISCONNECT);
		for (k = 0; k < 254; k++)
			login_put(&w, ATTR_UNKNOWN, text, 255);
		login_put(&w, ATTR_UNKNOWN, text, 127);
		login_put(&w, ATTR_UNKNOWN, text, 126 + (size_t)i);
		len = login_writer_finish(&w);
		assert_int_equal(len, i ? 0 : 4 + 65535);
	}
}

/* ---- never read past the decrypted length -------------------------------- */

/* Offsets where a TLV of the sample's body ends, from our own walk. */
static bool
at_boundary(const uint8_t *msg, size_t cut)
{
	size_t body_end = 4 + (msg[2] | (size_t)msg[3] << 8), p = 4;

	while (p < cut && p < body_end)
		p += 2 + msg[p + 1];
	return p == cut;
}

/*
 * Every sample cut at every length, in a buffer of exactly that length:
 * as it is (body_len then runs past the end: dropped), and re-framed
 * with body_len fitting the cut (accepted only at attribute boundaries).
 */
static void
test_truncation_sweep(void **state)
{
	uint8_t full[MSG_MAX], copy[MSG_MAX];
	enum login_sender from;
	unsigned int i;
	size_t n, cut;

	(void)state;
	for (i = 0; i < N_SAMPLES; i++) {
		n = sample(i, full, sizeof(full), &from);
		for (cut = 0; cut <= n + 1; cut++) {
			enum login_decode got;

			memcpy(copy, full, n);
			copy[n] = 0;
			got = verdict(copy, cut, from);
			assert_int_equal(got, cut >= n ? OK : BAD);
			if (cut < LOGIN_HEADER_LEN || cut > n)
				continue;
			copy[2] = (uint8_t)(cut - 4);
			copy[3] = (uint8_t)((cut - 4) >> 8);
			got = verdict(copy, cut, from);
			if (got == OK)
				assert_true(at_boundary(full, cut));
			else
				assert_int_equal(got, BAD);
			if (cut == n)
				assert_int_equal(got, OK);
		}
	}
}

/* ---- random and mutated input against a reference decoder ---------------- */

/*
 * The reference: section 6 read again, written as plainly as possible.
 * Attribute table from the section's table; UTF-8 from the well-formed
 * byte sequences of Unicode's table 3-7 (a different method from
 * login.c's, on purpose).
 */
struct ref_rule {
	uint8_t type, min, max;
	bool repeatable;
	uint8_t prefix_bits; /* nonzero: last byte is a prefix length */
};

static const struct ref_rule ref_rules[] = {
	{ 0x01, 4, 4, false, 0 },     { 0x02, 1, 64, false, 0 },
	{ 0x03, 1, 255, false, 0 },   { 0x04, 1, 255, false, 0 },
	{ 0x05, 0, 255, false, 0 },   { 0x10, 1, 1, false, 0 },
	{ 0x11, 0, 255, false, 0 },   { 0x12, 4, 4, false, 0 },
	{ 0x20, 5, 5, false, 32 },    { 0x21, 17, 17, false, 128 },
	{ 0x22, 5, 5, true, 32 },     { 0x23, 17, 17, true, 128 },
	{ 0x24, 4, 4, true, 0 },      { 0x25, 16, 16, true, 0 },
	{ 0x26, 1, 255, true, 0 },    { 0x27, 2, 2, false, 0 },
	{ 0x28, 2, 2, false, 0 },     { 0x29, 4, 4, false, 0 },
	{ 0x2a, 4, 4, false, 0 },     { 0x2b, 16, 16, false, 0 },
	{ 0x30, 0, 255, false, 0 },   { 0x31, 0, 0, false, 0 },
};

static bool
ref_utf8(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		uint8_t lo = 0x80, hi = 0xbf;
		size_t k, more;

		if (c <= 0x7f) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			more = 1;
		else if (c == 0xe0)
			more = 2, lo = 0xa0;
		else if (c == 0xed)
			more = 2, hi = 0x9f;
		else if (c >= 0xe1 && c <= 0xef)
			more = 2;
		else if (c == 0xf0)
			more = 3, lo = 0x90;
		else if (c == 0xf4)
			more = 3, hi = 0x8f;
		else if (c >= 0xf1 && c <= 0xf3)
			more = 3;
		else
			return false;
		for (k = 1; k <= more; k++) {
			if (i + k >= n)
				return false;
			if (s[i + k] < (k == 1 ? lo : 0x80) ||
			    s[i + k] > (k == 1 ? hi : 0xbf))
				return false;
		}
		i += more + 1;
	}
	return true;
}

struct ref_result {
	enum login_decode verdict;
	unsigned int count[256];
};

static void
ref_decode(const uint8_t *b, size_t len, enum login_sender from,
	   struct ref_result *r)
{
	size_t body_end, p, k;
	uint8_t t;

	memset(r, 0, sizeof(*r));
	r->verdict = BAD;
	if (len < 4 || b[1] != 0)
		return;
	t = b[0];
	if (t == 0 || t > 0x0f)
		return;
	if (t > 0x05) {
		r->verdict = IGN;
		return;
	}
	if ((from == C && (t == 2 || t == 3)) ||
	    (from == V && (t == 1 || t == 5)))
		return;
	body_end = 4 + (size_t)(b[2] | b[3] << 8);
	if (body_end > len)
		return;
	for (p = 4; p < body_end; p += 2 + b[p + 1]) {
		const struct ref_rule *rule = NULL;
		uint8_t at, al;

		if (p + 2 > body_end)
			return;
		at = b[p];
		al = b[p + 1];
		if (p + 2 + al > body_end)
			return;
		for (k = 0; k < ARRAY_SIZE(ref_rules); k++)
			if (ref_rules[k].type == at)
				rule = &ref_rules[k];
		r->count[at]++;
		if (!rule)
			continue;
		if (al < rule->min || al > rule->max)
			return;
		if (!rule->repeatable && r->count[at] > 1)
			return;
		if (rule->prefix_bits && b[p + 2 + al - 1] > rule->prefix_bits)
			return;
		if (at == 0x02 && !ref_utf8(b + p + 2, al))
			return;
	}
	if (t == 1 && !(r->count[1] && r->count[2] && r->count[3] &&
			r->count[4]))
		return;
	if (t == 2 && !(r->count[1] && r->count[0x10]))
		return;
	if (t == 5 && !r->count[1])
		return;
	r->verdict = OK;
}

/* Bytes the rules turn on: lengths at the edges, lead bytes, types. */
static uint8_t
interesting(void)
{
	static const uint8_t v[] = { 0,    1,    2,    3,    4,    5,
				     6,    15,   16,   17,   18,   32,
				     33,   63,   64,   65,   128,  129,
				     254,  255,  0x80, 0xbf, 0xc0, 0xc2,
				     0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0x22,
				     0x26, 0x31, 0x2b, 0x10, 0x11, 0x12 };

	return v[next_rand() % ARRAY_SIZE(v)];
}

/* A random TLV body that mostly follows the rules, sometimes not. */
static size_t
random_message(uint8_t *b, size_t cap)
{
	size_t len = 4, i, n = next_rand() % 12;

	b[0] = (uint8_t)(next_rand() % 8 ? 1 + next_rand() % 5
					  : next_rand() % 20);
	b[1] = next_rand() % 64 ? 0 : (uint8_t)next_rand();
	for (i = 0; i < n; i++) {
		const struct ref_rule *rule =
			&ref_rules[next_rand() % ARRAY_SIZE(ref_rules)];
		uint8_t type = next_rand() % 10 ? rule->type
						: (uint8_t)next_rand();
		size_t al, k;

		al = rule->min + next_rand() % (rule->max - rule->min + 1u);
		if (next_rand() % 6 == 0)
			al = (al + next_rand() % 3 + 255) % 256;
		if (len + 2 + al > cap)
			break;
		b[len] = type;
		b[len + 1] = (uint8_t)al;
		for (k = 0; k < al; k++)
			b[len + 2 + k] = next_rand() % 3
						 ? (uint8_t)('a' + k % 26)
						 : interesting();
		/* Prefix lengths around the limit, not mostly past it. */
		k = rule->prefix_bits + 2u;
		if (rule->prefix_bits && al && next_rand() % 2)
			b[len + 2 + al - 1] = (uint8_t)(next_rand() % k);
		len += 2 + al;
	}
	b[2] = (uint8_t)(len - 4);
	b[3] = (uint8_t)((len - 4) >> 8);
	if (next_rand() % 8 == 0) { /* padding */
		size_t pad = next_rand() % 40;

		for (i = 0; i < pad && len < cap; i++)
			b[len++] = (uint8_t)next_rand();
	}
	return len;
}

static size_t
mutate(uint8_t *b, size_t len, size_t cap)
{
	unsigned int rounds = 1 + next_rand() % 4, r;

	for (r = 0; r < rounds; r++) {
		size_t at = len ? next_rand() % len : 0;

		switch (next_rand() % 9) {
		case 0:
			if (len)
				b[at] ^= (uint8_t)(1u << next_rand() % 8);
			break;
		case 1:
			if (len)
				b[at] = interesting();
			break;
		case 2:
			if (len)
				b[at] = (uint8_t)next_rand();
			break;
		case 3: /* cut */
			len = len ? next_rand() % len : 0;
			break;
		case 4: /* grow */
			while (len < cap && next_rand() % 8)
				b[len++] = (uint8_t)next_rand();
			break;
		case 5: /* insert a byte */
			if (len < cap) {
				memmove(b + at + 1, b + at, len - at);
				b[at] = interesting();
				len++;
			}
			break;
		case 6: /* delete a byte */
			if (len) {
				memmove(b + at, b + at + 1, len - at - 1);
				len--;
			}
			break;
		case 7: /* body_len nudged */
			if (len >= 4) {
				unsigned int bl = b[2] | b[3] << 8;

				bl += (unsigned int)(next_rand() % 5) - 2u;
				b[2] = (uint8_t)bl;
				b[3] = (uint8_t)(bl >> 8);
			}
			break;
		default: /* repeat a stretch (an attribute twice) */
			if (len > 4 && len + 24 <= cap) {
				size_t from = 4 + next_rand() % (len - 4);
				size_t n = 1 + next_rand() % 24;

				if (from + n > len)
					n = len - from;
				memcpy(b + len, b + from, n);
				len += n;
			}
			break;
		}
	}
	return len;
}

/* login_decode against the reference, from a heap buffer of exactly len
 * bytes; on OK, what it recorded must agree as well. */
static void
check_one(const uint8_t *msg, size_t len, enum login_sender from,
	  unsigned int *ok_count)
{
	struct ref_result ref;
	struct login_msg m;
	struct login_iter it;
	struct login_prefix4 p4;
	enum login_decode got;
	uint8_t *held;
	unsigned int walked;
	size_t k;

	ref_decode(msg, len, from, &ref);
	got = decode_exact(msg, len, from, &m, &held);
	if (got != ref.verdict) {
		char hex[3 * 64 + 1] = "";

		for (k = 0; k < len && k < 64; k++)
			sprintf(hex + 3 * k, "%02x ", msg[k]);
		fail_msg("from %d, %zu bytes: got %d, reference %d: %s", from,
			 len, got, ref.verdict, hex);
	}
	if (got == OK) {
		(*ok_count)++;
		for (k = 0; k < ARRAY_SIZE(ref_rules); k++)
			assert_int_equal(
				login_has(&m, (enum login_attr_type)
						      ref_rules[k].type),
				ref.count[ref_rules[k].type] > 0);
		assert_int_equal(m.n_route4, ref.count[0x22]);
		assert_int_equal(m.n_route6, ref.count[0x23]);
		assert_int_equal(m.n_dns4, ref.count[0x24]);
		assert_int_equal(m.n_dns6, ref.count[0x25]);
		assert_int_equal(m.n_dns_search, ref.count[0x26]);
		assert_text_in(&m.username, held, len);
		assert_text_in(&m.password, held, len);
		assert_text_in(&m.totp, held, len);
		assert_text_in(&m.client_info, held, len);
		assert_text_in(&m.message, held, len);
		assert_text_in(&m.reason, held, len);
		login_iter_init(&it, &m);
		for (walked = 0; walked < 300 && login_next_route4(&it, &p4);
		     walked++)
			assert_true(p4.prefix_len <= 32);
		assert_int_equal(walked, m.n_route4);
	}
	free(held);
}

static void
test_random_against_reference(void **state)
{
	static uint8_t seeds[N_SAMPLES][MSG_MAX];
	static size_t seed_len[N_SAMPLES];
	static enum login_sender seed_from[N_SAMPLES];
	uint8_t buf[MSG_MAX + 64];
	unsigned int i, ok = 0;
	size_t len;

	(void)state;
	rng = 20240601;
	for (i = 0; i < N_SAMPLES; i++)
		seed_len[i] = sample(i, seeds[i], MSG_MAX, &seed_from[i]);
	for (i = 0; i < 300000; i++) {
		enum login_sender from = senders[next_rand() % 2];

		if (i % 2) {
			unsigned int s = next_rand() % N_SAMPLES;

			memcpy(buf, seeds[s], seed_len[s]);
			len = mutate(buf, seed_len[s], MSG_MAX);
			if (next_rand() % 4)
				from = seed_from[s];
		} else {
			len = random_message(buf, MSG_MAX);
			if (i % 4 == 0)
				len = mutate(buf, len, MSG_MAX);
		}
		check_one(buf, len, from, &ok);
	}
	/* Both verdicts were reached often enough to mean something. */
	assert_true(ok > 20000);
	assert_true(ok < 280000);
}

/* ---- code helpers -------------------------------------------------------- */

static void
test_code_is_totp(void **state)
{
	static const struct {
		const char *s;
		bool totp;
	} v[] = {
		{ "123456", true },      { "000000", true },
		{ "1234567", true },     { "12345678", true },
		{ "12345", false },      { "123456789", false },
		{ "", false },           { "12345a", false },
		{ "abcdef", false },     { " 123456", false },
		{ "123 456", false },    { "123-456", false },
		{ "12345/", false },     { "12345:", false },
		{ "ABCD-EFGH", false },  { "\xef\xbc\x91\xef\xbc\x92", false },
		{ "1234567\n", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		size_t n = strlen(v[i].s);
		uint8_t *b = malloc(n ? n : 1);

		memcpy(b, v[i].s, n);
		if (login_code_is_totp(b, n) != v[i].totp)
			fail_msg("\"%s\": want %d", v[i].s, v[i].totp);
		free(b);
	}
	/* The length given, not the NUL, is what counts. */
	assert_true(login_code_is_totp((const uint8_t *)"1234567890", 6));
	assert_false(login_code_is_totp((const uint8_t *)"1234567890", 9));
}

static void
test_code_strip_spaces(void **state)
{
	static const struct {
		const char *typed;
		size_t cap;
		const char *want;
	} v[] = {
		{ "123 456", 64, "123456" },
		{ " 1 2 3 4 5 6 ", 64, "123456" },
		{ "\t12\t34", 64, "1234" },
		{ "abcd-efgh", 64, "abcd-efgh" },
		{ "ABCD EFGH IJKL", 64, "ABCDEFGHIJKL" },
		{ "", 64, "" },
		{ "   ", 64, "" },
		{ "123456", 7, "123456" },
		{ "123456", 6, "12345" },
		{ "1 2 3 4 5 6", 4, "123" },
		{ "123456", 1, "" },
	};
	char *out;
	size_t i, n;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		out = malloc(v[i].cap); /* exactly cap: ASan sees overruns */
		n = login_code_strip_spaces(out, v[i].cap, v[i].typed);
		assert_string_equal(out, v[i].want);
		assert_int_equal(n, strlen(v[i].want));
		free(out);
	}
	/* No room at all: nothing is written. */
	out = malloc(1);
	out[0] = 'z';
	assert_int_equal(login_code_strip_spaces(out, 0, "123456"), 0);
	assert_int_equal(out[0], 'z');
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_auth_request),
		cmocka_unit_test(test_roundtrip_auth_result),
		cmocka_unit_test(test_roundtrip_others),
		cmocka_unit_test(test_wire_bytes),
		cmocka_unit_test(test_frame_rules),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_repeatable_many),
		cmocka_unit_test(test_attribute_lengths),
		cmocka_unit_test(test_prefix_lengths),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_writer_bounds),
		cmocka_unit_test(test_writer_limits),
		cmocka_unit_test(test_truncation_sweep),
		cmocka_unit_test(test_random_against_reference),
		cmocka_unit_test(test_code_is_totp),
		cmocka_unit_test(test_code_strip_spaces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
