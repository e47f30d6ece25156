// SPDX-License-Identifier: MIT
/*
 * Control-message TLV codec (PROTOCOL.md section 6). Bounds are checked
 * before every read; the body is walked once to validate and record
 * singletons, and repeatable attributes are walked again on demand.
 */
#include "login.h"

#include <string.h>

#include "wire.h"

struct attr_rule {
	uint8_t type;
	uint8_t min_len;
	uint8_t max_len;
	bool repeatable;
};

/* Known attributes; present bits are the index in this table. */
static const struct attr_rule rules[] = {
	{ LOGIN_ATTR_REQUEST_ID, 4, 4, false },
	{ LOGIN_ATTR_USERNAME, 1, LOGIN_USERNAME_MAX, false },
	{ LOGIN_ATTR_PASSWORD, 1, 255, false },
	{ LOGIN_ATTR_TOTP, 1, 255, false },
	{ LOGIN_ATTR_CLIENT_INFO, 0, 255, false },
	{ LOGIN_ATTR_STATUS, 1, 1, false },
	{ LOGIN_ATTR_MESSAGE, 0, 255, false },
	{ LOGIN_ATTR_RETRY_AFTER, 4, 4, false },
	{ LOGIN_ATTR_ADDRESS4, 5, 5, false },
	{ LOGIN_ATTR_ADDRESS6, 17, 17, false },
	{ LOGIN_ATTR_ROUTE4, 5, 5, true },
	{ LOGIN_ATTR_ROUTE6, 17, 17, true },
	{ LOGIN_ATTR_DNS4, 4, 4, true },
	{ LOGIN_ATTR_DNS6, 16, 16, true },
	{ LOGIN_ATTR_DNS_SEARCH, 1, 255, true },
	{ LOGIN_ATTR_MTU, 2, 2, false },
	{ LOGIN_ATTR_KEEPALIVE, 2, 2, false },
	{ LOGIN_ATTR_SESSION_EXPIRES, 4, 4, false },
	{ LOGIN_ATTR_GATEWAY4, 4, 4, false },
	{ LOGIN_ATTR_GATEWAY6, 16, 16, false },
	{ LOGIN_ATTR_REASON, 0, 255, false },
	{ LOGIN_ATTR_LOGOUT, 0, 0, false },
};

#define N_RULES (sizeof(rules) / sizeof(rules[0]))

static int
rule_index(uint8_t type)
{
	size_t i;

	for (i = 0; i < N_RULES; i++)
		if (rules[i].type == type)
			return (int)i;
	return -1;
}

bool
login_has(const struct login_msg *m, enum login_attr_type attr)
{
	int i = rule_index((uint8_t)attr);

	return i >= 0 && (m->present & (1ull << i));
}

bool
login_utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		uint32_t cp;
		size_t n, k;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

static bool
direction_ok(uint8_t type, enum login_sender from)
{
	switch (type) {
	case LOGIN_AUTH_REQUEST:
	case LOGIN_RESUME:
		return from == LOGIN_FROM_CLIENT;
	case LOGIN_AUTH_RESULT:
	case LOGIN_AUTH_REQUIRED:
		return from == LOGIN_FROM_SERVER;
	case LOGIN_DISCONNECT:
		return true;
	default:
		return false;
	}
}

static uint64_t
required_bits(uint8_t type)
{
	uint64_t bits = 0;

#define BIT(a) (1ull << rule_index(a))
	switch (type) {
	case LOGIN_AUTH_REQUEST:
		bits = BIT(LOGIN_ATTR_REQUEST_ID) | BIT(LOGIN_ATTR_USERNAME) |
		       BIT(LOGIN_ATTR_PASSWORD) | BIT(LOGIN_ATTR_TOTP);
		break;
	case LOGIN_AUTH_RESULT:
		bits = BIT(LOGIN_ATTR_REQUEST_ID) | BIT(LOGIN_ATTR_STATUS);
		break;
	case LOGIN_RESUME:
		bits = BIT(LOGIN_ATTR_REQUEST_ID);
		break;
	default:
		break;
	}
#undef BIT
	return bits;
}

static void
text_set(struct login_text *t, const uint8_t *v, uint8_t len)
{
	t->ptr = v;
	t->len = len;
}

static bool
prefix_set(uint8_t *addr, uint8_t *prefix_len, const uint8_t *v,
	   size_t addr_len)
{
	memcpy(addr, v, addr_len);
	*prefix_len = v[addr_len];
	return *prefix_len <= addr_len * 8;
}

/* Records one validated singleton attribute; false if its value is bad. */
static bool
record(struct login_msg *m, uint8_t type, const uint8_t *v, uint8_t len)
{
	switch (type) {
	case LOGIN_ATTR_REQUEST_ID:
		m->request_id = wire_get_le32(v);
		return true;
	case LOGIN_ATTR_USERNAME:
		text_set(&m->username, v, len);
		return login_utf8_valid(v, len);
	case LOGIN_ATTR_PASSWORD:
		text_set(&m->password, v, len);
		return true;
	case LOGIN_ATTR_TOTP:
		text_set(&m->totp, v, len);
		return true;
	case LOGIN_ATTR_CLIENT_INFO:
		text_set(&m->client_info, v, len);
		return true;
	case LOGIN_ATTR_STATUS:
		m->status = v[0];
		return true;
	case LOGIN_ATTR_MESSAGE:
		text_set(&m->message, v, len);
		return true;
	case LOGIN_ATTR_RETRY_AFTER:
		m->retry_after_s = wire_get_le32(v);
		return true;
	case LOGIN_ATTR_ADDRESS4:
		return prefix_set(m->address4.addr, &m->address4.prefix_len, v,
				  4);
	case LOGIN_ATTR_ADDRESS6:
		return prefix_set(m->address6.addr, &m->address6.prefix_len, v,
				  16);
	case LOGIN_ATTR_MTU:
		m->mtu = wire_get_le16(v);
		return true;
	case LOGIN_ATTR_KEEPALIVE:
		m->keepalive_s = wire_get_le16(v);
		return true;
	case LOGIN_ATTR_SESSION_EXPIRES:
		m->session_expires_s = wire_get_le32(v);
		return true;
	case LOGIN_ATTR_GATEWAY4:
		memcpy(m->gateway4, v, 4);
		return true;
	case LOGIN_ATTR_GATEWAY6:
		memcpy(m->gateway6, v, 16);
		return true;
	case LOGIN_ATTR_REASON:
		text_set(&m->reason, v, len);
		return true;
	case LOGIN_ATTR_LOGOUT:
		return true;
	default:
		return false;
	}
}

/* Counts one repeatable attribute after checking its value. */
static bool
count_repeatable(struct login_msg *m, uint8_t type, const uint8_t *v)
{
	switch (type) {
	case LOGIN_ATTR_ROUTE4:
		m->n_route4++;
		return v[4] <= 32;
	case LOGIN_ATTR_ROUTE6:
		m->n_route6++;
		return v[16] <= 128;
	case LOGIN_ATTR_DNS4:
		m->n_dns4++;
		return true;
	case LOGIN_ATTR_DNS6:
		m->n_dns6++;
		return true;
	case LOGIN_ATTR_DNS_SEARCH:
		m->n_dns_search++;
		return true;
	default:
		return false;
	}
}

static bool
walk_body(struct login_msg *m)
{
	const uint8_t *p = m->body, *end = m->body + m->body_len;

	while (p < end) {
		uint8_t type, len;
		int r;

		if (end - p < 2)
			return false;
		type = p[0];
		len = p[1];
		if ((size_t)(end - p - 2) < len)
			return false;
		r = rule_index(type);
		if (r >= 0) {
			const struct attr_rule *rule = &rules[r];

			if (len < rule->min_len || len > rule->max_len)
				return false;
			if (rule->repeatable) {
				if (!count_repeatable(m, type, p + 2))
					return false;
			} else {
				if (m->present & (1ull << r))
					return false;
				if (!record(m, type, p + 2, len))
					return false;
			}
			m->present |= 1ull << r;
		}
		p += 2 + len;
	}
	return true;
}

enum login_decode
login_decode(const uint8_t *buf, size_t len, enum login_sender from,
	     struct login_msg *out)
{
	uint64_t required;
	size_t body_len;

	memset(out, 0, sizeof(*out));
	if (len < LOGIN_HEADER_LEN || buf[1] != 0)
		return LOGIN_DECODE_MALFORMED;
	out->type = buf[0];
	if (out->type < 0x01 || out->type > 0x0f)
		return LOGIN_DECODE_MALFORMED;
	if (out->type > LOGIN_RESUME)
		return LOGIN_DECODE_IGNORED;
	if (!direction_ok(out->type, from))
		return LOGIN_DECODE_MALFORMED;
	body_len = wire_get_le16(buf + 2);
	if (body_len > len - LOGIN_HEADER_LEN)
		return LOGIN_DECODE_MALFORMED;
	out->body = buf + LOGIN_HEADER_LEN;
	out->body_len = body_len;
	if (!walk_body(out))
		return LOGIN_DECODE_MALFORMED;
	required = required_bits(out->type);
	if ((out->present & required) != required)
		return LOGIN_DECODE_MALFORMED;
	return LOGIN_DECODE_OK;
}

void
login_iter_init(struct login_iter *it, const struct login_msg *m)
{
	it->pos = m->body;
	it->end = m->body + m->body_len;
}

/* The next value of `type`; the body was validated by login_decode(). */
static const uint8_t *
iter_next(struct login_iter *it, uint8_t type, uint8_t *len)
{
	while (it->end - it->pos >= 2) {
		const uint8_t *p = it->pos;

		if ((size_t)(it->end - p - 2) < p[1])
			break;
		it->pos = p + 2 + p[1];
		if (p[0] == type) {
			*len = p[1];
			return p + 2;
		}
	}
	it->pos = it->end;
	return NULL;
}

bool
login_next_route4(struct login_iter *it, struct login_prefix4 *out)
{
	uint8_t len;
	const uint8_t *v = iter_next(it, LOGIN_ATTR_ROUTE4, &len);

	return v && prefix_set(out->addr, &out->prefix_len, v, 4);
}

bool
login_next_route6(struct login_iter *it, struct login_prefix6 *out)
{
	uint8_t len;
	const uint8_t *v = iter_next(it, LOGIN_ATTR_ROUTE6, &len);

	return v && prefix_set(out->addr, &out->prefix_len, v, 16);
}

bool
login_next_dns4(struct login_iter *it, uint8_t out[4])
{
	uint8_t len;
	const uint8_t *v = iter_next(it, LOGIN_ATTR_DNS4, &len);

	if (v)
		memcpy(out, v, 4);
	return v != NULL;
}

bool
login_next_dns6(struct login_iter *it, uint8_t out[16])
{
	uint8_t len;
	const uint8_t *v = iter_next(it, LOGIN_ATTR_DNS6, &len);

	if (v)
		memcpy(out, v, 16);
	return v != NULL;
}

bool
login_next_dns_search(struct login_iter *it, struct login_text *out)
{
	uint8_t len;
	const uint8_t *v = iter_next(it, LOGIN_ATTR_DNS_SEARCH, &len);

	if (v)
		text_set(out, v, len);
	return v != NULL;
}

/* ---- writer --------------------------------------------------------------- */

void
login_writer_init(struct login_writer *w, uint8_t *buf, size_t cap,
		  enum login_ctl_type type)
{
	w->buf = buf;
	w->cap = cap;
	w->len = LOGIN_HEADER_LEN;
	w->overflow = cap < LOGIN_HEADER_LEN;
	if (!w->overflow) {
		buf[0] = (uint8_t)type;
		buf[1] = 0;
		buf[2] = buf[3] = 0;
	}
}

void
login_put(struct login_writer *w, enum login_attr_type attr, const void *value,
	  size_t len)
{
	if (w->overflow || len > 255 || w->cap - w->len < 2 + len ||
	    w->len + 2 + len - LOGIN_HEADER_LEN > UINT16_MAX) {
		w->overflow = true;
		return;
	}
	w->buf[w->len] = (uint8_t)attr;
	w->buf[w->len + 1] = (uint8_t)len;
	if (len)
		memcpy(w->buf + w->len + 2, value, len);
	w->len += 2 + len;
}

void
login_put_u8(struct login_writer *w, enum login_attr_type attr, uint8_t v)
{
	login_put(w, attr, &v, 1);
}

void
login_put_u16(struct login_writer *w, enum login_attr_type attr, uint16_t v)
{
	uint8_t b[2];

	wire_put_le16(b, v);
	login_put(w, attr, b, sizeof(b));
}

void
login_put_u32(struct login_writer *w, enum login_attr_type attr, uint32_t v)
{
	uint8_t b[4];

	wire_put_le32(b, v);
	login_put(w, attr, b, sizeof(b));
}

void
login_put_text(struct login_writer *w, enum login_attr_type attr,
	       const char *text)
{
	login_put(w, attr, text, strlen(text));
}

void
login_put_prefix(struct login_writer *w, enum login_attr_type attr,
		 const uint8_t *addr, size_t addr_len, uint8_t prefix_len)
{
	uint8_t b[17];

	if (addr_len != 4 && addr_len != 16) {
		w->overflow = true;
		return;
	}
	memcpy(b, addr, addr_len);
	b[addr_len] = prefix_len;
	login_put(w, attr, b, addr_len + 1);
}

size_t
login_writer_finish(struct login_writer *w)
{
	if (w->overflow)
		return 0;
	wire_put_le16(w->buf + 2, (uint16_t)(w->len - LOGIN_HEADER_LEN));
	return w->len;
}

/* ---- codes ------------------------------------------------------------------ */

bool
login_code_is_totp(const uint8_t *code, size_t len)
{
	size_t i;

	if (len < 6 || len > 8)
		return false;
	for (i = 0; i < len; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	return true;
}

size_t
login_code_strip_spaces(char *out, size_t cap, const char *typed)
{
	size_t n = 0;

	if (cap == 0)
		return 0;
	for (; *typed && n + 1 < cap; typed++)
		if (*typed != ' ' && *typed != '\t')
			out[n++] = *typed;
	out[n] = '\0';
	return n;
}
