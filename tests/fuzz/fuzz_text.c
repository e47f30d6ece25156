// SPDX-License-Identifier: MIT
/*
 * Fuzz harness for the small text parsers that see what people type and
 * what peers send: base64 keys (keys.c), addresses and prefixes
 * (prefix.c), durations (conf.c), UTF-8 user names, code spacing and log
 * sanitising (login.c, log.c), and the login codes vpnd checks (the TOTP
 * match of vpnd/totp.c and the recovery-code hash of vpnd/auth.c). The
 * first input byte picks the parser, the rest is the text. Besides "never
 * crash", each accepted value must come back unchanged through its
 * formatter, the UTF-8 check must agree with a table-driven reference
 * (Unicode 15, table 3-7), a TOTP code must match exactly when it is one
 * of the window's codes, and a recovery code must hash the same whatever
 * its case, spaces and dashes (PROTOCOL.md section 6, rule 7).
 */
#include <sodium.h>
#include <sys/socket.h>

#include "../../vpnd/auth.h"
#include "../../vpnd/totp.h"
#include "conf.h"
#include "fuzz.h"
#include "keys.h"
#include "log.h"
#include "login.h"
#include "prefix.h"

enum {
	PARSE_KEY,
	PARSE_PREFIX,
	PARSE_ADDR,
	PARSE_DURATION,
	PARSE_UTF8,
	PARSE_CODE,
	PARSE_SANITIZE,
	PARSE_RECOVERY,
	PARSE_TOTP,
	PARSE_COUNT,
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0 || totp_global_init() < 0)
		abort();
	return 0;
}

static bool
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
parse_key(const uint8_t *text, size_t len)
{
	uint8_t key[KEY_LEN];
	char again[KEY_B64_LEN + 1];
	size_t start = 0, end = len;

	if (!keys_from_base64(key, (const char *)text, len))
		return;
	/* Accepted: exactly the canonical encoding, give or take space. */
	while (start < end && is_space(text[start]))
		start++;
	while (end > start && is_space(text[end - 1]))
		end--;
	keys_to_base64(again, key);
	FUZZ_CHECK(end - start == KEY_B64_LEN);
	FUZZ_CHECK(memcmp(again, text + start, KEY_B64_LEN) == 0);
}

static void
parse_prefix(const char *text)
{
	struct prefix p, q, masked;
	char out[PREFIX_STR_LEN];

	if (!prefix_parse(text, &p))
		return;
	FUZZ_CHECK(p.family == AF_INET || p.family == AF_INET6);
	FUZZ_CHECK(p.len <= prefix_addr_len(p.family) * 8);
	prefix_format(&p, out);
	FUZZ_CHECK(prefix_parse(out, &q));
	FUZZ_CHECK(q.family == p.family && q.len == p.len);
	FUZZ_CHECK(memcmp(q.addr, p.addr, sizeof(p.addr)) == 0);
	masked = p;
	prefix_mask(&masked);
	FUZZ_CHECK(prefix_is_network(&masked));
	FUZZ_CHECK(prefix_contains(&masked, p.family, p.addr));
	FUZZ_CHECK(prefix_overlaps(&p, &masked));
	FUZZ_CHECK(prefix_is_network(&p) ==
		   (memcmp(masked.addr, p.addr, sizeof(p.addr)) == 0));
}

static void
parse_addr(const char *text)
{
	uint8_t addr[16], again[16];
	char out[PREFIX_STR_LEN];
	int family, family2;

	if (!prefix_parse_addr(text, &family, addr))
		return;
	prefix_format_addr(family, addr, out);
	FUZZ_CHECK(prefix_parse_addr(out, &family2, again));
	FUZZ_CHECK(family2 == family);
	FUZZ_CHECK(memcmp(addr, again, prefix_addr_len(family)) == 0);
}

static void
parse_duration(const char *text)
{
	uint64_t ms, again;
	char out[32];

	if (!conf_parse_duration_ms(text, &ms))
		return;
	conf_format_duration(ms, out);
	FUZZ_CHECK(conf_parse_duration_ms(out, &again));
	FUZZ_CHECK(again == ms);
}

/* Well-formed UTF-8 byte sequences, straight from the Unicode table. */
static bool
utf8_reference(const uint8_t *s, size_t len)
{
	static const struct {
		uint8_t lo, hi;   /* lead byte range */
		uint8_t n;        /* continuation bytes */
		uint8_t lo2, hi2; /* range of the first continuation byte */
	} forms[] = {
		{ 0xc2, 0xdf, 1, 0x80, 0xbf }, { 0xe0, 0xe0, 2, 0xa0, 0xbf },
		{ 0xe1, 0xec, 2, 0x80, 0xbf }, { 0xed, 0xed, 2, 0x80, 0x9f },
		{ 0xee, 0xef, 2, 0x80, 0xbf }, { 0xf0, 0xf0, 3, 0x90, 0xbf },
		{ 0xf1, 0xf3, 3, 0x80, 0xbf }, { 0xf4, 0xf4, 3, 0x80, 0x8f },
	};
	size_t i = 0, f, k;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		for (f = 0; f < sizeof(forms) / sizeof(forms[0]); f++)
			if (s[i] >= forms[f].lo && s[i] <= forms[f].hi)
				break;
		if (f == sizeof(forms) / sizeof(forms[0]) ||
		    len - i <= forms[f].n)
			return false;
		if (s[i + 1] < forms[f].lo2 || s[i + 1] > forms[f].hi2)
			return false;
		for (k = 2; k <= forms[f].n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += 1 + forms[f].n;
	}
	return true;
}

static void
parse_code(const char *text, size_t len)
{
	char out[LOGIN_TEXT_MAX + 1];
	size_t n, i;
	bool digits = true;

	n = login_code_strip_spaces(out, sizeof(out), text);
	FUZZ_CHECK(n < sizeof(out) && out[n] == '\0' && strlen(out) == n);
	FUZZ_CHECK(n <= len);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(out[i] != ' ' && out[i] != '\t');
		digits &= out[i] >= '0' && out[i] <= '9';
	}
	FUZZ_CHECK(login_code_is_totp((const uint8_t *)out, n) ==
		   (digits && n >= 6 && n <= 8));
}

static void
parse_sanitize(const uint8_t *text, size_t len, size_t cap)
{
	char out[300];
	size_t i, n;

	log_sanitize(out, cap, text, len);
	if (cap == 0)
		return;
	n = strlen(out);
	FUZZ_CHECK(n == (len < cap - 1 ? len : cap - 1));
	for (i = 0; i < n; i++)
		FUZZ_CHECK(out[i] >= 0x20 && out[i] < 0x7f);
}

/* The same code typed differently: upper case, a dash and spaces. */
static void
parse_recovery(const char *text, size_t len)
{
	static const uint8_t salt[AUTH_RECOVERY_SALT_LEN] = { 1, 2, 3 };
	uint8_t a[AUTH_RECOVERY_HASH_LEN], b[AUTH_RECOVERY_HASH_LEN];
	char *typed = malloc(2 * len + 3);
	size_t i, n = 0;

	if (!typed)
		abort();
	typed[n++] = ' ';
	for (i = 0; i < len; i++) {
		char c = text[i];

		typed[n++] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
		if (i % 4 == 3)
			typed[n++] = i % 8 == 7 ? '-' : ' ';
	}
	typed[n] = '\0';
	auth_recovery_hash(text, salt, a);
	auth_recovery_hash(typed, salt, b);
	FUZZ_CHECK(memcmp(a, b, sizeof(a)) == 0);
	free(typed);
}

/* A code matches exactly when it is one of the window's codes. */
static void
parse_totp(const char *code, uint8_t sel)
{
	static const uint8_t secret[TOTP_SECRET_LEN] = "12345678901234567890";
	struct totp_params p = { .algo = (enum totp_algo)(sel % 3),
				 .digits = 6 + sel / 3 % 3, .period_s = 30 };
	const uint64_t now_s = 1700000000;
	unsigned int window = sel / 9 % 3;
	int64_t step, now_step = totp_step(&p, now_s);
	int offset, off;
	bool expect = false;
	char gen[9];

	for (off = -(int)window; off <= (int)window; off++)
		if (totp_generate(secret, sizeof(secret), &p, now_step + off,
				  gen) &&
		    strcmp(gen, code) == 0)
			expect = true;
	FUZZ_CHECK(totp_match(secret, sizeof(secret), &p, now_s, window, code,
			      &step, &offset) == expect);
	if (expect)
		FUZZ_CHECK(step == now_step + offset &&
			   offset >= -(int)window && offset <= (int)window);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t which = fuzz_u8(&in);
	uint8_t *raw = fuzz_dup(in.p, in.left);
	char *text = fuzz_strdup(in.p, in.left);

	switch (which % PARSE_COUNT) {
	case PARSE_KEY:
		parse_key(raw, in.left);
		break;
	case PARSE_PREFIX:
		parse_prefix(text);
		break;
	case PARSE_ADDR:
		parse_addr(text);
		break;
	case PARSE_DURATION:
		parse_duration(text);
		break;
	case PARSE_UTF8:
		FUZZ_CHECK(login_utf8_valid(raw, in.left) ==
			   utf8_reference(raw, in.left));
		break;
	case PARSE_CODE:
		parse_code(text, strlen(text));
		break;
	case PARSE_SANITIZE:
		/* The selector's high part sizes the output, 0 to 288. */
		parse_sanitize(raw, in.left, (size_t)(which / PARSE_COUNT) * 8);
		break;
	case PARSE_RECOVERY:
		parse_recovery(text, strlen(text));
		break;
	case PARSE_TOTP:
		parse_totp(text, (uint8_t)(which / PARSE_COUNT));
		break;
	}
	free(raw);
	free(text);
	return 0;
}
