// SPDX-License-Identifier: MIT
/*
 * prefix.c: parsing by vector table (what a person might type, right and
 * wrong), formatting round trips, masking, containment and overlap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "prefix.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct prefix
parse(const char *text)
{
	struct prefix p;

	assert_true(prefix_parse(text, &p));
	return p;
}

static void
test_parse_vectors(void **state)
{
	static const struct {
		const char *text;
		bool ok;
		int family;
		unsigned int len;
		const char *formatted;
	} v[] = {
		{ "10.0.0.0/24", true, AF_INET, 24, "10.0.0.0/24" },
		{ "10.0.0.1", true, AF_INET, 32, "10.0.0.1/32" },
		{ "0.0.0.0/0", true, AF_INET, 0, "0.0.0.0/0" },
		{ "255.255.255.255/32", true, AF_INET, 32,
		  "255.255.255.255/32" },
		{ "2001:db8::/32", true, AF_INET6, 32, "2001:db8::/32" },
		{ "fd00:99::1", true, AF_INET6, 128, "fd00:99::1/128" },
		{ "::/0", true, AF_INET6, 0, "::/0" },
		{ "2001:DB8::/128", true, AF_INET6, 128, "2001:db8::/128" },
		{ "::ffff:10.0.0.1/128", true, AF_INET6, 128,
		  "::ffff:10.0.0.1/128" },
		{ "10.0.0.0/33", false, 0, 0, NULL },
		{ "2001:db8::/129", false, 0, 0, NULL },
		{ "10.0.0.0/", false, 0, 0, NULL },
		{ "/24", false, 0, 0, NULL },
		{ "", false, 0, 0, NULL },
		{ "10.0.0.0/24x", false, 0, 0, NULL },
		{ "10.0.0.0/24/", false, 0, 0, NULL },
		{ "10.0.0.0/24 ", false, 0, 0, NULL },
		{ " 10.0.0.0/24", false, 0, 0, NULL },
		{ "10.0.0.0 /24", false, 0, 0, NULL },
		{ "10.0.0.0/-1", false, 0, 0, NULL },
		{ "10.0.0.0/+8", false, 0, 0, NULL },
		{ "10.0.0.0/08", false, 0, 0, NULL },
		{ "10.0.0.0/0x8", false, 0, 0, NULL },
		{ "10.0.0/24", false, 0, 0, NULL },
		{ "10.0.0.256", false, 0, 0, NULL },
		{ "010.0.0.1", false, 0, 0, NULL },
		{ "1.2.3.4.5", false, 0, 0, NULL },
		{ "fe80::1%eth0", false, 0, 0, NULL },
		{ "2001:db8:::/32", false, 0, 0, NULL },
		{ "host.example", false, 0, 0, NULL },
		{ "10.0.0.0/1000", false, 0, 0, NULL },
		{ "1234567890123456789012345678901234567890123456789/8", false,
		  0, 0, NULL },
	};
	char out[PREFIX_STR_LEN];
	struct prefix p;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		memset(&p, 0xaa, sizeof(p));
		if (prefix_parse(v[i].text, &p) != v[i].ok)
			fail_msg("prefix_parse(\"%s\") should be %s", v[i].text,
				 v[i].ok ? "accepted" : "refused");
		if (!v[i].ok)
			continue;
		assert_int_equal(p.family, v[i].family);
		assert_int_equal(p.len, v[i].len);
		assert_string_equal(prefix_format(&p, out), v[i].formatted);
	}
	assert_false(prefix_parse(NULL, &p));
}

static void
test_parse_addr(void **state)
{
	uint8_t addr[16];
	int family;

	(void)state;
	assert_true(prefix_parse_addr("192.0.2.1", &family, addr));
	assert_int_equal(family, AF_INET);
	assert_memory_equal(addr, "\xc0\x00\x02\x01", 4);
	assert_true(prefix_parse_addr("2001:db8::53", &family, addr));
	assert_int_equal(family, AF_INET6);
	assert_false(prefix_parse_addr("192.0.2.0/24", &family, addr));
	assert_false(prefix_parse_addr("", &family, addr));
	assert_false(prefix_parse_addr("192.0.2.1 ", &family, addr));
	assert_int_equal(prefix_addr_len(AF_INET), 4);
	assert_int_equal(prefix_addr_len(AF_INET6), 16);
}

static void
test_network_and_mask(void **state)
{
	static const struct {
		const char *text;
		bool is_network;
		const char *masked;
	} v[] = {
		{ "10.0.0.0/24", true, "10.0.0.0/24" },
		{ "10.0.0.1/24", false, "10.0.0.0/24" },
		{ "10.0.0.128/25", true, "10.0.0.128/25" },
		{ "10.0.0.129/25", false, "10.0.0.128/25" },
		{ "10.255.255.255/9", false, "10.128.0.0/9" },
		{ "10.0.0.1/32", true, "10.0.0.1/32" },
		{ "1.2.3.4/0", false, "0.0.0.0/0" },
		{ "fd00:99::/64", true, "fd00:99::/64" },
		{ "fd00:99::1/64", false, "fd00:99::/64" },
		{ "fd00:99:ffff::/33", false, "fd00:99:8000::/33" },
		{ "::1/127", false, "::/127" },
		{ "::1/128", true, "::1/128" },
	};
	char out[PREFIX_STR_LEN];
	struct prefix p;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		p = parse(v[i].text);
		if (prefix_is_network(&p) != v[i].is_network)
			fail_msg("prefix_is_network(%s)", v[i].text);
		prefix_mask(&p);
		assert_string_equal(prefix_format(&p, out), v[i].masked);
		assert_true(prefix_is_network(&p));
	}
}

static void
test_contains(void **state)
{
	struct prefix p = parse("10.99.0.0/24"), h;

	(void)state;
	h = parse("10.99.0.77");
	assert_true(prefix_contains(&p, AF_INET, h.addr));
	h = parse("10.99.1.0");
	assert_false(prefix_contains(&p, AF_INET, h.addr));
	h = parse("::a63:4d");
	assert_false(prefix_contains(&p, AF_INET6, h.addr));
	p = parse("0.0.0.0/0");
	h = parse("203.0.113.9");
	assert_true(prefix_contains(&p, AF_INET, h.addr));
	p = parse("fd00:99::/64");
	h = parse("fd00:99::1234");
	assert_true(prefix_contains(&p, AF_INET6, h.addr));
	h = parse("fd00:98::1234");
	assert_false(prefix_contains(&p, AF_INET6, h.addr));
}

static void
test_overlaps(void **state)
{
	static const struct {
		const char *a, *b;
		bool overlap;
	} v[] = {
		{ "10.0.0.0/24", "10.0.0.0/24", true },
		{ "10.0.0.0/24", "10.0.0.128/25", true },
		{ "10.0.0.128/25", "10.0.0.0/24", true },
		{ "10.0.0.0/25", "10.0.0.128/25", false },
		{ "0.0.0.0/0", "192.0.2.0/24", true },
		{ "10.0.0.0/8", "11.0.0.0/8", false },
		{ "10.0.0.0/24", "::/0", false },
		{ "fd00::/8", "fd00:99::/64", true },
		{ "fd00:1::/32", "fd00:2::/32", false },
	};
	struct prefix a, b;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		a = parse(v[i].a);
		b = parse(v[i].b);
		if (prefix_overlaps(&a, &b) != v[i].overlap)
			fail_msg("prefix_overlaps(%s, %s)", v[i].a, v[i].b);
	}
}

static void
test_format_longest(void **state)
{
	char out[PREFIX_STR_LEN];
	struct prefix p;

	(void)state;
	p = parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128");
	prefix_format(&p, out);
	assert_true(strlen(out) < PREFIX_STR_LEN);
	p = parse("1111:2222:3333:4444:5555:6666:7777:8888/128");
	assert_string_equal(prefix_format(&p, out),
			    "1111:2222:3333:4444:5555:6666:7777:8888/128");
	assert_string_equal(prefix_format_addr(AF_INET, p.addr, out),
			    "17.17.34.34");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_vectors),
		cmocka_unit_test(test_parse_addr),
		cmocka_unit_test(test_network_and_mask),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_overlaps),
		cmocka_unit_test(test_format_longest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
