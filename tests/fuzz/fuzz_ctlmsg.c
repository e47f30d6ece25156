// SPDX-License-Identifier: MIT
/*
 * Fuzz harness for the control protocol's codec (vpnd/ctlmsg.c): the
 * bytes a local client sends vpnd on its control socket, and the answer
 * vpnctl reads back. The first byte chooses the bound (a request's or an
 * answer's); the rest is the message, decoded in an exact-size buffer.
 *
 * Invariants checked: a decoded message has at most as many fields as it
 * has lines, each key valid and each value UTF-8 without a NUL and within
 * CTLMSG_VALUE_MAX; written back through the writer it decodes
 * to the same fields (escaping round-trips); every proper prefix of a
 * decoded message is INCOMPLETE (never acted on early); and nothing the
 * decoder refuses leaves memory behind (ASan, LeakSanitizer).
 */
#include "../../vpnd/ctlmsg.h"
#include "fuzz.h"
#include "login.h"

static void
check_fields(const struct ctlmsg *m, size_t lines)
{
	size_t i;

	FUZZ_CHECK(m->n <= lines);
	for (i = 0; i < m->n; i++) {
		const struct ctlmsg_field *f = &m->fields[i];

		FUZZ_CHECK(ctlmsg_key_valid(f->key, strlen(f->key)));
		FUZZ_CHECK(f->value_len <= CTLMSG_VALUE_MAX);
		FUZZ_CHECK(strlen(f->value) == f->value_len);
		FUZZ_CHECK(login_utf8_valid((const uint8_t *)f->value,
					    f->value_len));
	}
}

/* Written back, the fields decode to themselves. */
static void
check_round_trip(const struct ctlmsg *m, size_t max)
{
	struct ctlmsg_writer w;
	struct ctlmsg again;
	const char *why;
	size_t i;

	ctlmsg_writer_init(&w, max * 4 + 64);
	for (i = 0; i < m->n; i++)
		ctlmsg_put(&w, m->fields[i].key, m->fields[i].value);
	FUZZ_CHECK(ctlmsg_finish_request(&w));
	FUZZ_CHECK(ctlmsg_decode(w.buf, w.len, w.len, &again, &why) ==
		   CTLMSG_OK);
	FUZZ_CHECK(again.n == m->n);
	for (i = 0; i < m->n; i++) {
		FUZZ_CHECK(strcmp(again.fields[i].key, m->fields[i].key) == 0);
		FUZZ_CHECK(again.fields[i].value_len ==
			   m->fields[i].value_len);
		FUZZ_CHECK(memcmp(again.fields[i].value, m->fields[i].value,
				  m->fields[i].value_len) == 0);
	}
	ctlmsg_free(&again);
	ctlmsg_writer_free(&w);
}

static void
check_prefixes(const char *buf, size_t len, size_t max)
{
	struct ctlmsg m;
	const char *why;
	size_t cut;

	/* A few cuts, not all: the whole message has been decoded once. */
	for (cut = 0; cut < len; cut += 1 + len / 16) {
		char *copy = malloc(cut ? cut : 1);

		memcpy(copy, buf, cut);
		FUZZ_CHECK(ctlmsg_decode(copy, cut, max, &m, &why) ==
			   CTLMSG_INCOMPLETE);
		free(copy);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max, len, lines = 0, i;
	struct ctlmsg m;
	const char *why;
	char *buf;

	if (size < 1)
		return 0;
	max = data[0] & 1 ? CTLMSG_REQUEST_MAX : 65536;
	len = size - 1;
	buf = malloc(len ? len : 1);
	memcpy(buf, data + 1, len);
	for (i = 0; i < len; i++)
		lines += buf[i] == '\n';
	switch (ctlmsg_decode(buf, len, max, &m, &why)) {
	case CTLMSG_OK:
		FUZZ_CHECK(len <= max && len >= 2);
		check_fields(&m, lines);
		check_round_trip(&m, max);
		check_prefixes(buf, len, max);
		ctlmsg_free(&m);
		break;
	case CTLMSG_INVALID:
		FUZZ_CHECK(why && why[0]);
		break;
	case CTLMSG_INCOMPLETE:
		FUZZ_CHECK(len < max);
		break;
	default:
		break;
	}
	free(buf);
	return 0;
}
