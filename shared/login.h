/* SPDX-License-Identifier: MIT */
/*
 * Control messages of the login layer (PROTOCOL.md section 6): a strict
 * decoder and a bounded writer for the TLV format. The decoder never reads
 * past the length it is given, records text as pointers into the caller's
 * buffer (no copies, no allocation) and enforces every drop rule of the
 * section: reserved byte, overrun, required and duplicate attributes,
 * lengths, UTF-8 user names and the direction of each ctl_type. Pure.
 */
#ifndef VPN_LOGIN_H
#define VPN_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGIN_HEADER_LEN 4
#define LOGIN_USERNAME_MAX 64
#define LOGIN_TEXT_MAX 255

/*
 * The REASON of the DISCONNECT a server sends every client as it stops:
 * a client that knows other nodes sharing the store keeps its admission
 * and moves to one at once. PROTOCOL.md has REASON as text only, so both
 * sides name this one text.
 */
#define LOGIN_REASON_SHUTDOWN "server shutdown"

enum login_ctl_type {
	LOGIN_AUTH_REQUEST = 0x01,
	LOGIN_AUTH_RESULT = 0x02,
	LOGIN_AUTH_REQUIRED = 0x03,
	LOGIN_DISCONNECT = 0x04,
	LOGIN_RESUME = 0x05,
};

enum login_attr_type {
	LOGIN_ATTR_REQUEST_ID = 0x01,
	LOGIN_ATTR_USERNAME = 0x02,
	LOGIN_ATTR_PASSWORD = 0x03,
	LOGIN_ATTR_TOTP = 0x04,
	LOGIN_ATTR_CLIENT_INFO = 0x05,
	LOGIN_ATTR_STATUS = 0x10,
	LOGIN_ATTR_MESSAGE = 0x11,
	LOGIN_ATTR_RETRY_AFTER = 0x12,
	LOGIN_ATTR_ADDRESS4 = 0x20,
	LOGIN_ATTR_ADDRESS6 = 0x21,
	LOGIN_ATTR_ROUTE4 = 0x22,
	LOGIN_ATTR_ROUTE6 = 0x23,
	LOGIN_ATTR_DNS4 = 0x24,
	LOGIN_ATTR_DNS6 = 0x25,
	LOGIN_ATTR_DNS_SEARCH = 0x26,
	LOGIN_ATTR_MTU = 0x27,
	LOGIN_ATTR_KEEPALIVE = 0x28,
	LOGIN_ATTR_SESSION_EXPIRES = 0x29,
	LOGIN_ATTR_GATEWAY4 = 0x2a,
	LOGIN_ATTR_GATEWAY6 = 0x2b,
	LOGIN_ATTR_REASON = 0x30,
	LOGIN_ATTR_LOGOUT = 0x31,
};

enum login_status {
	LOGIN_STATUS_OK = 0,
	LOGIN_STATUS_AUTH_FAILED = 1,
	LOGIN_STATUS_LOCKED = 2,
	LOGIN_STATUS_BUSY = 3,
	LOGIN_STATUS_POOL_EXHAUSTED = 4,
};

/* Who sent the message being decoded: decides which ctl_types are valid. */
enum login_sender {
	LOGIN_FROM_CLIENT,
	LOGIN_FROM_SERVER,
};

struct login_text {
	const uint8_t *ptr; /* into the decoded buffer; not NUL-terminated */
	uint8_t len;
};

struct login_prefix4 {
	uint8_t addr[4];
	uint8_t prefix_len;
};

struct login_prefix6 {
	uint8_t addr[16];
	uint8_t prefix_len;
};

struct login_msg {
	uint8_t type;     /* enum login_ctl_type */
	uint64_t present; /* login_has() reads it */
	uint32_t request_id;
	struct login_text username, password, totp, client_info;
	struct login_text message, reason;
	uint8_t status;
	uint32_t retry_after_s;
	struct login_prefix4 address4;
	struct login_prefix6 address6;
	uint8_t gateway4[4];
	uint8_t gateway6[16];
	uint16_t mtu;
	uint16_t keepalive_s;
	uint32_t session_expires_s;
	/* Repeatable attributes stay in the body; walk them with login_iter. */
	const uint8_t *body;
	size_t body_len;
	unsigned int n_route4, n_route6, n_dns4, n_dns6, n_dns_search;
};

enum login_decode {
	LOGIN_DECODE_OK,
	LOGIN_DECODE_IGNORED,   /* a ctl_type of a later revision: ignore */
	LOGIN_DECODE_MALFORMED, /* drop and count */
};

/*
 * Decodes the control message at the start of a decrypted plaintext of
 * `len` bytes (padding after 4 + body_len is ignored).
 */
enum login_decode login_decode(const uint8_t *buf, size_t len,
			       enum login_sender from, struct login_msg *out)
	__attribute__((warn_unused_result));

/* True if the decoded message carried attribute `attr`. */
bool login_has(const struct login_msg *m, enum login_attr_type attr);

/* Walks the occurrences of one repeatable attribute, in message order. */
struct login_iter {
	const uint8_t *pos;
	const uint8_t *end;
};

void login_iter_init(struct login_iter *it, const struct login_msg *m);
bool login_next_route4(struct login_iter *it, struct login_prefix4 *out);
bool login_next_route6(struct login_iter *it, struct login_prefix6 *out);
bool login_next_dns4(struct login_iter *it, uint8_t out[4]);
bool login_next_dns6(struct login_iter *it, uint8_t out[16]);
bool login_next_dns_search(struct login_iter *it, struct login_text *out);

/*
 * Builds a control message into a caller's buffer. Any attribute that does
 * not fit, or is longer than 255 bytes, marks the writer overflowed and
 * login_writer_finish() then returns 0: nothing partial is ever sent.
 */
struct login_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

void login_writer_init(struct login_writer *w, uint8_t *buf, size_t cap,
		       enum login_ctl_type type);
void login_put(struct login_writer *w, enum login_attr_type attr,
	       const void *value, size_t len);
void login_put_u8(struct login_writer *w, enum login_attr_type attr,
		  uint8_t v);
void login_put_u16(struct login_writer *w, enum login_attr_type attr,
		   uint16_t v);
void login_put_u32(struct login_writer *w, enum login_attr_type attr,
		   uint32_t v);
void login_put_text(struct login_writer *w, enum login_attr_type attr,
		    const char *text);
/* addr_len 4 or 16, followed by the prefix length. */
void login_put_prefix(struct login_writer *w, enum login_attr_type attr,
		      const uint8_t *addr, size_t addr_len, uint8_t prefix_len);
/* Total message length, or 0 if anything overflowed. */
size_t login_writer_finish(struct login_writer *w)
	__attribute__((warn_unused_result));

/* True for 6 to 8 ASCII digits: a TOTP code; anything else is a recovery
 * code (PROTOCOL.md section 6, rule 7). */
bool login_code_is_totp(const uint8_t *code, size_t len);

/* Copies what the person typed without spaces (rule 7); returns the new
 * length, at most cap - 1, NUL-terminated. */
size_t login_code_strip_spaces(char *out, size_t cap, const char *typed);

/* Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF. */
bool login_utf8_valid(const uint8_t *s, size_t len);

#endif
