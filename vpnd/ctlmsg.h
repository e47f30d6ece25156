/* SPDX-License-Identifier: MIT */
/*
 * The control protocol between vpnctl and a running vpnd, over the
 * control socket (ctl.c): the messages and their codec. Pure: bytes in,
 * bytes out, no I/O.
 *
 * A message is lines of `key=value`, ended by an empty line, as in
 * WireGuard's userspace API. A request:
 *
 *	version=1
 *	command=sessions
 *	arg=value           (0 to CTLMSG_MAX_ARGS arguments, per command)
 *	<empty line>
 *
 * The answer:
 *
 *	version=1
 *	key=value           (the command's fields; a list's records each
 *	...                  begin with the same key, e.g. session=)
 *	errno=0             (or a positive errno, then error=text)
 *	<empty line>
 *
 * Keys are 1-32 bytes of [a-z0-9_-]. Values are UTF-8; a backslash, a
 * control character or DEL is written \xNN (and read back), so a value
 * never breaks a line. A decoder refuses anything else: a missing or
 * other version, a line without '=', a bad key, a bad escape, invalid
 * UTF-8, a line or message over its bound, or bytes after the empty line.
 * Requests are bounded to CTLMSG_REQUEST_MAX bytes; answers (a list of
 * ten thousand sessions) to CTLMSG_ANSWER_MAX.
 */
#ifndef VPND_CTLMSG_H
#define VPND_CTLMSG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTLMSG_VERSION 1
#define CTLMSG_KEY_MAX 32
#define CTLMSG_VALUE_MAX 1024     /* decoded bytes */
#define CTLMSG_REQUEST_MAX 4096
#define CTLMSG_ANSWER_MAX (64u << 20)
#define CTLMSG_MAX_ARGS 16

struct ctlmsg_field {
	char key[CTLMSG_KEY_MAX + 1];
	char *value;      /* decoded, NUL-terminated (\x00 is refused) */
	size_t value_len;
};

/* A decoded message; free with ctlmsg_free(). */
struct ctlmsg {
	struct ctlmsg_field *fields; /* without version= */
	size_t n, cap;
};

enum ctlmsg_result {
	CTLMSG_OK,
	CTLMSG_INCOMPLETE, /* no empty line yet, and still within bounds */
	CTLMSG_INVALID,    /* *why says what (a static string) */
	CTLMSG_NOMEM,
};

/*
 * Decodes the message in buf (len bytes so far; a message may be at most
 * `max` bytes, its empty line included). Exactly one message may be in
 * buf: bytes after its empty line make it INVALID.
 */
enum ctlmsg_result ctlmsg_decode(const char *buf, size_t len, size_t max,
				 struct ctlmsg *out, const char **why)
	__attribute__((warn_unused_result));
void ctlmsg_free(struct ctlmsg *m);

/* The first value of `key`, or NULL. */
const char *ctlmsg_get(const struct ctlmsg *m, const char *key);
/* The i-th field, as a convenience for walking lists. */
const struct ctlmsg_field *ctlmsg_field(const struct ctlmsg *m, size_t i);

/* ---- writing ---- */

/* A growing buffer; on allocation failure it stops growing and says so. */
struct ctlmsg_writer {
	char *buf;
	size_t len, cap, max;
	bool failed;
};

/* Starts a message ("version=1"); max bounds its size. */
void ctlmsg_writer_init(struct ctlmsg_writer *w, size_t max);
/* Adds key=value, escaping the value. key must be a valid key. */
void ctlmsg_put(struct ctlmsg_writer *w, const char *key, const char *value);
void ctlmsg_putf(struct ctlmsg_writer *w, const char *key, const char *fmt,
		 ...) __attribute__((format(printf, 3, 4)));
void ctlmsg_put_u64(struct ctlmsg_writer *w, const char *key, uint64_t v);
/* Ends the message with errno= (and error= if err != 0) and the empty
 * line. False if it could not be built whole (too big, no memory). */
bool ctlmsg_finish(struct ctlmsg_writer *w, int err, const char *error)
	__attribute__((warn_unused_result));
/* Ends a request (no errno). */
bool ctlmsg_finish_request(struct ctlmsg_writer *w)
	__attribute__((warn_unused_result));
void ctlmsg_writer_free(struct ctlmsg_writer *w);

bool ctlmsg_key_valid(const char *key, size_t len);

#endif
