// SPDX-License-Identifier: MIT
/*
 * The control protocol's codec (see ctlmsg.h). Lengths are checked before
 * anything is copied; a message is decoded only once its empty line has
 * arrived, so a half-read request is never acted on.
 */
#include "ctlmsg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "login.h"

#define LINE_MAX_BYTES (CTLMSG_KEY_MAX + 1 + 4 * CTLMSG_VALUE_MAX)

bool
ctlmsg_key_valid(const char *key, size_t len)
{
	size_t i;

	if (len == 0 || len > CTLMSG_KEY_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = key[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Undoes the escapes into out (room for len + 1); false if malformed. */
static bool
unescape(const char *in, size_t len, char *out, size_t *out_len,
	 const char **why)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int hi, lo;

		if (c < 0x20 || c == 0x7f) {
			*why = "a control character in a value";
			return false;
		}
		if (c != '\\') {
			out[n++] = (char)c;
			continue;
		}
		if (i + 3 >= len) {
			*why = "a cut escape in a value";
			return false;
		}
		if (in[i + 1] != 'x' || (hi = hex_digit(in[i + 2])) < 0 ||
		    (lo = hex_digit(in[i + 3])) < 0) {
			*why = "a bad escape in a value";
			return false;
		}
		c = (unsigned char)(hi << 4 | lo);
		if (c == 0) {
			*why = "a NUL byte in a value";
			return false;
		}
		out[n++] = (char)c;
		i += 3;
	}
	out[n] = '\0';
	if (n > CTLMSG_VALUE_MAX) {
		*why = "a value too long";
		return false;
	}
	if (!login_utf8_valid((const uint8_t *)out, n)) {
		*why = "a value that is not UTF-8";
		return false;
	}
	*out_len = n;
	return true;
}

static enum ctlmsg_result
add_field(struct ctlmsg *m, const char *key, size_t key_len, const char *val,
	  size_t val_len, const char **why)
{
	struct ctlmsg_field *f;

	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 16;
		struct ctlmsg_field *grown = realloc(m->fields,
						     cap * sizeof(*grown));

		if (!grown)
			return CTLMSG_NOMEM;
		m->fields = grown;
		m->cap = cap;
	}
	f = &m->fields[m->n];
	memset(f, 0, sizeof(*f));
	memcpy(f->key, key, key_len);
	f->value = malloc(val_len + 1);
	if (!f->value)
		return CTLMSG_NOMEM;
	if (!unescape(val, val_len, f->value, &f->value_len, why)) {
		free(f->value);
		return CTLMSG_INVALID;
	}
	m->n++;
	return CTLMSG_OK;
}

/* One line (without its newline) into m; the first must be version=1. */
static enum ctlmsg_result
decode_line(struct ctlmsg *m, const char *line, size_t len, bool is_first,
	    const char **why)
{
	const char *eq = memchr(line, '=', len);
	size_t key_len;

	if (len > LINE_MAX_BYTES) {
		*why = "a line too long";
		return CTLMSG_INVALID;
	}
	if (!eq) {
		*why = "a line without '='";
		return CTLMSG_INVALID;
	}
	key_len = (size_t)(eq - line);
	if (!ctlmsg_key_valid(line, key_len)) {
		*why = "a bad key";
		return CTLMSG_INVALID;
	}
	if (is_first) {
		if (key_len != 7 || memcmp(line, "version", 7) != 0) {
			*why = "no version first";
			return CTLMSG_INVALID;
		}
		if (len - key_len - 1 != 1 || eq[1] != '0' + CTLMSG_VERSION) {
			*why = "an unknown version";
			return CTLMSG_INVALID;
		}
		return CTLMSG_OK;
	}
	return add_field(m, line, key_len, eq + 1, len - key_len - 1, why);
}

enum ctlmsg_result
ctlmsg_decode(const char *buf, size_t len, size_t max, struct ctlmsg *out,
	      const char **why)
{
	const char *end = NULL, *p = buf, *nl;
	enum ctlmsg_result r = CTLMSG_OK;
	bool first = true;

	memset(out, 0, sizeof(*out));
	*why = "";
	/* The message ends at the first empty line ("\n\n", or a lone "\n"
	 * at the start: an empty message, refused below). */
	for (nl = memchr(buf, '\n', len); nl; nl = memchr(nl + 1, '\n',
							    len - (size_t)(nl + 1 - buf))) {
		if (nl == buf || nl[-1] == '\n') {
			end = nl + 1;
			break;
		}
	}
	if (!end) {
		if (len >= max) {
			*why = "a message too long";
			return CTLMSG_INVALID;
		}
		return CTLMSG_INCOMPLETE;
	}
	if ((size_t)(end - buf) > max) {
		*why = "a message too long";
		return CTLMSG_INVALID;
	}
	if ((size_t)(end - buf) != len) {
		*why = "bytes after the message";
		return CTLMSG_INVALID;
	}
	while (p < end - 1 && r == CTLMSG_OK) {
		nl = memchr(p, '\n', (size_t)(end - p));
		r = decode_line(out, p, (size_t)(nl - p), first, why);
		first = false;
		p = nl + 1;
	}
	if (r == CTLMSG_OK && first) {
		*why = "an empty message";
		r = CTLMSG_INVALID;
	}
	if (r != CTLMSG_OK)
		ctlmsg_free(out);
	return r;
}

void
ctlmsg_free(struct ctlmsg *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->fields[i].value);
	free(m->fields);
	memset(m, 0, sizeof(*m));
}

const char *
ctlmsg_get(const struct ctlmsg *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->fields[i].key, key) == 0)
			return m->fields[i].value;
	return NULL;
}

const struct ctlmsg_field *
ctlmsg_field(const struct ctlmsg *m, size_t i)
{
	return i < m->n ? &m->fields[i] : NULL;
}

/* ---- writing ---------------------------------------------------------------- */

static void
append(struct ctlmsg_writer *w, const char *s, size_t n)
{
	if (w->failed)
		return;
	if (w->len + n > w->max) {
		w->failed = true;
		return;
	}
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		char *grown;

		while (cap < w->len + n)
			cap *= 2;
		grown = realloc(w->buf, cap);
		if (!grown) {
			w->failed = true;
			return;
		}
		w->buf = grown;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

void
ctlmsg_writer_init(struct ctlmsg_writer *w, size_t max)
{
	memset(w, 0, sizeof(*w));
	w->max = max;
	ctlmsg_putf(w, "version", "%d", CTLMSG_VERSION);
}

void
ctlmsg_put(struct ctlmsg_writer *w, const char *key, const char *value)
{
	const unsigned char *v = (const unsigned char *)value;
	char esc[5];

	append(w, key, strlen(key));
	append(w, "=", 1);
	for (; *v; v++) {
		if (*v < 0x20 || *v == 0x7f || *v == '\\') {
			snprintf(esc, sizeof(esc), "\\x%02x", *v);
			append(w, esc, 4);
		} else {
			append(w, (const char *)v, 1);
		}
	}
	append(w, "\n", 1);
}

void
ctlmsg_putf(struct ctlmsg_writer *w, const char *key, const char *fmt, ...)
{
	char value[CTLMSG_VALUE_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	ctlmsg_put(w, key, value);
}

void
ctlmsg_put_u64(struct ctlmsg_writer *w, const char *key, uint64_t v)
{
	ctlmsg_putf(w, key, "%" PRIu64, v);
}

bool
ctlmsg_finish(struct ctlmsg_writer *w, int err, const char *error)
{
	ctlmsg_putf(w, "errno", "%d", err);
	if (err)
		ctlmsg_put(w, "error", error ? error : strerror(err));
	append(w, "\n", 1);
	return !w->failed;
}

bool
ctlmsg_finish_request(struct ctlmsg_writer *w)
{
	append(w, "\n", 1);
	return !w->failed;
}

void
ctlmsg_writer_free(struct ctlmsg_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}
