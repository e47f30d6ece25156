// SPDX-License-Identifier: MIT
/*
 * Fuzz harness for the login layer's TLV codec (login.c, PROTOCOL.md
 * section 6) and the client's reading of a pushed configuration
 * (netconf_from_msg in vpnc/netconf.c). The first byte picks a mode:
 *   0  decode as a server would (from a client);
 *   1  decode as a client would (from a server), then read an OK
 *      AUTH_RESULT into a struct netconf as vpnc does;
 *   2  write an AUTH_REQUEST from fuzzed fields with the writer and decode
 *      it back.
 * Checked on the way: decoded text lies inside the message, trailing
 * padding changes nothing, the iterators find exactly the repeatable
 * attributes the decoder counted, and the writer's output decodes to what
 * was written whenever every field is within the protocol's limits.
 */
#include <sodium.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "log.h"
#include "login.h"
/* vpnc is not an archive: its module is compiled in, as test_config.c
 * does with vpnc/config.c. */
#include "../../vpnc/netconf.c"

#define MSG_MAX 2048
#define PADDING_LEN 16

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	log_init("fuzz", false, LOG_CRIT);
	return 0;
}

static void
check_text(const struct login_text *t, const uint8_t *buf, size_t len)
{
	if (!t->ptr)
		return;
	FUZZ_CHECK(t->ptr >= buf && t->ptr + t->len <= buf + len);
}

static void
check_iterators(const struct login_msg *m)
{
	struct login_iter it;
	struct login_prefix4 r4;
	struct login_prefix6 r6;
	struct login_text text;
	uint8_t a[16];
	unsigned int n;

	login_iter_init(&it, m);
	for (n = 0; login_next_route4(&it, &r4); n++)
		FUZZ_CHECK(r4.prefix_len <= 32);
	FUZZ_CHECK(n == m->n_route4);
	login_iter_init(&it, m);
	for (n = 0; login_next_route6(&it, &r6); n++)
		FUZZ_CHECK(r6.prefix_len <= 128);
	FUZZ_CHECK(n == m->n_route6);
	login_iter_init(&it, m);
	for (n = 0; login_next_dns4(&it, a); n++)
		;
	FUZZ_CHECK(n == m->n_dns4);
	login_iter_init(&it, m);
	for (n = 0; login_next_dns6(&it, a); n++)
		;
	FUZZ_CHECK(n == m->n_dns6);
	login_iter_init(&it, m);
	for (n = 0; login_next_dns_search(&it, &text); n++)
		FUZZ_CHECK(text.len >= 1 && text.ptr >= m->body &&
			   text.ptr + text.len <= m->body + m->body_len);
	FUZZ_CHECK(n == m->n_dns_search);
}

static void
check_netconf(const struct login_msg *m)
{
	struct netconf nc;
	unsigned int i;

	if (!netconf_from_msg(&nc, m)) {
		FUZZ_CHECK(!login_has(m, LOGIN_ATTR_ADDRESS4) &&
			   !login_has(m, LOGIN_ATTR_ADDRESS6));
		return;
	}
	FUZZ_CHECK(nc.n_routes <= NETCONF_MAX_ROUTES);
	FUZZ_CHECK(nc.n_dns <= NETCONF_MAX_DNS);
	FUZZ_CHECK(nc.n_search <= NETCONF_MAX_DNS);
	FUZZ_CHECK(nc.mtu >= 576 && nc.mtu <= 9000);
	for (i = 0; i < nc.n_routes; i++)
		FUZZ_CHECK(nc.routes[i].len <=
			   prefix_addr_len(nc.routes[i].family) * 8);
	for (i = 0; i < nc.n_search; i++) {
		size_t n = strnlen(nc.search[i], sizeof(nc.search[i]));

		FUZZ_CHECK(n > 0 && n < sizeof(nc.search[i]));
		FUZZ_CHECK(!memchr(nc.search[i], '\n', n) &&
			   !memchr(nc.search[i], ' ', n));
	}
}

static void
decode(const uint8_t *data, size_t len, enum login_sender from)
{
	uint8_t *buf = fuzz_dup(data, len), *padded;
	struct login_msg m, m2;
	enum login_decode r;

	r = login_decode(buf, len, from, &m);
	/* Padding after a message is ignored, whatever it holds. (Not the
	 * converse: padding may complete a body that overran.) */
	padded = malloc(len + PADDING_LEN);
	if (!padded)
		abort();
	memcpy(padded, buf, len);
	memset(padded + len, 0xa5, PADDING_LEN);
	if (r != LOGIN_DECODE_MALFORMED) {
		FUZZ_CHECK(login_decode(padded, len + PADDING_LEN, from, &m2) ==
			   r);
		FUZZ_CHECK(m2.present == m.present &&
			   m2.body_len == m.body_len);
	}
	free(padded);
	if (r != LOGIN_DECODE_OK)
		goto out;
	FUZZ_CHECK(m.type >= LOGIN_AUTH_REQUEST && m.type <= LOGIN_RESUME);
	FUZZ_CHECK(m.body == buf + LOGIN_HEADER_LEN &&
		   LOGIN_HEADER_LEN + m.body_len <= len);
	check_text(&m.username, buf, len);
	check_text(&m.password, buf, len);
	check_text(&m.totp, buf, len);
	check_text(&m.client_info, buf, len);
	check_text(&m.message, buf, len);
	check_text(&m.reason, buf, len);
	if (login_has(&m, LOGIN_ATTR_USERNAME))
		FUZZ_CHECK(m.username.len >= 1 &&
			   m.username.len <= LOGIN_USERNAME_MAX &&
			   login_utf8_valid(m.username.ptr, m.username.len));
	if (login_has(&m, LOGIN_ATTR_ADDRESS4))
		FUZZ_CHECK(m.address4.prefix_len <= 32);
	if (login_has(&m, LOGIN_ATTR_ADDRESS6))
		FUZZ_CHECK(m.address6.prefix_len <= 128);
	check_iterators(&m);
	if (from == LOGIN_FROM_SERVER && m.type == LOGIN_AUTH_RESULT &&
	    m.status == LOGIN_STATUS_OK)
		check_netconf(&m);
out:
	free(buf);
}

static bool
text_ok(const uint8_t *t, size_t len, size_t max, bool utf8)
{
	return len >= 1 && len <= max && (!utf8 || login_utf8_valid(t, len));
}

static void
put_text(struct login_writer *w, enum login_attr_type attr, const uint8_t *t,
	 size_t len)
{
	login_put(w, attr, t, len);
}

/* Writer, then decoder: what was written comes back. */
static void
round_trip(struct fuzz_in *in)
{
	const uint8_t *user, *pass, *code;
	size_t n_user, n_pass, n_code, cap, len;
	uint32_t request_id = fuzz_u32(in);
	uint8_t *buf;
	struct login_writer w;
	struct login_msg m;
	bool valid;

	cap = fuzz_u16(in) % MSG_MAX;
	n_user = fuzz_bytes(in, &user, fuzz_u8(in) % 80);
	n_pass = fuzz_bytes(in, &pass, fuzz_u16(in) % 300);
	n_code = fuzz_bytes(in, &code, fuzz_u16(in) % 300);
	buf = malloc(cap ? cap : 1);
	if (!buf)
		abort();
	login_writer_init(&w, buf, cap, LOGIN_AUTH_REQUEST);
	login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, request_id);
	put_text(&w, LOGIN_ATTR_USERNAME, user, n_user);
	put_text(&w, LOGIN_ATTR_PASSWORD, pass, n_pass);
	put_text(&w, LOGIN_ATTR_TOTP, code, n_code);
	len = login_writer_finish(&w);
	FUZZ_CHECK(len <= cap);
	valid = text_ok(user, n_user, LOGIN_USERNAME_MAX, true) &&
		text_ok(pass, n_pass, LOGIN_TEXT_MAX, false) &&
		text_ok(code, n_code, LOGIN_TEXT_MAX, false);
	/* Everything fits in 4 + 6 + 3 * 2 + the texts. */
	if (valid && cap >= 16 + n_user + n_pass + n_code)
		FUZZ_CHECK(len == 16 + n_user + n_pass + n_code);
	if (!len)
		goto out;
	if (login_decode(buf, len, LOGIN_FROM_CLIENT, &m) != LOGIN_DECODE_OK) {
		FUZZ_CHECK(!valid);
		goto out;
	}
	FUZZ_CHECK(valid);
	FUZZ_CHECK(m.type == LOGIN_AUTH_REQUEST && m.request_id == request_id);
	FUZZ_CHECK(m.username.len == n_user &&
		   memcmp(m.username.ptr, user, n_user) == 0);
	FUZZ_CHECK(m.password.len == n_pass &&
		   memcmp(m.password.ptr, pass, n_pass) == 0);
	FUZZ_CHECK(m.totp.len == n_code &&
		   memcmp(m.totp.ptr, code, n_code) == 0);
out:
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };

	switch (fuzz_u8(&in) % 3) {
	case 0:
		decode(in.p, in.left, LOGIN_FROM_CLIENT);
		break;
	case 1:
		decode(in.p, in.left, LOGIN_FROM_SERVER);
		break;
	default:
		round_trip(&in);
		break;
	}
	return 0;
}
