// SPDX-License-Identifier: MIT
/*
 * vpnc/policy.c: what vpnc takes of a pushed configuration, by vector
 * table. Each push is written with login.c's writer and decoded as vpnc
 * decodes it, then judged: routes under the default rules, a full tunnel
 * and narrow accept-routes; addresses and their subnets; gateways; DNS
 * servers; search domains (the DNS-name check on its own table too); the
 * MTU; what is past vpnc's limits; the one log line, printable whatever
 * was pushed; and the source check of packets from the tunnel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "../../vpnc/netconf.h"
#include "../../vpnc/policy.h"
#include "login.h"
#include "prefix.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define OK (-1) /* in a vector: accepted, no reason */

static const char SERVER4[] = "192.0.2.1";
static const char SERVER6[] = "2001:db8::1";

/* ---- writing pushes ------------------------------------------------------ */

struct push {
	uint8_t buf[4096];
	struct login_writer w;
	struct login_msg m;
};

static void
push_begin(struct push *p)
{
	login_writer_init(&p->w, p->buf, sizeof(p->buf), LOGIN_AUTH_RESULT);
	login_put_u32(&p->w, LOGIN_ATTR_REQUEST_ID, 7);
	login_put_u8(&p->w, LOGIN_ATTR_STATUS, LOGIN_STATUS_OK);
}

static struct prefix
parse(const char *text)
{
	struct prefix p;

	if (!prefix_parse(text, &p))
		fail_msg("bad prefix in the test: %s", text);
	return p;
}

/* ADDRESS4/6 or ROUTE4/6, by the family of `text`. */
static void
push_prefix(struct push *p, enum login_attr_type a4, enum login_attr_type a6,
	    const char *text)
{
	struct prefix x = parse(text);
	bool v6 = x.family == AF_INET6;

	login_put_prefix(&p->w, v6 ? a6 : a4, x.addr, v6 ? 16 : 4, x.len);
}

static void
push_addr(struct push *p, enum login_attr_type a4, enum login_attr_type a6,
	  const char *text)
{
	struct prefix x = parse(text);
	bool v6 = x.family == AF_INET6;

	login_put(&p->w, v6 ? a6 : a4, x.addr, v6 ? 16 : 4);
}

static void
push_search(struct push *p, const char *name, size_t len)
{
	login_put(&p->w, LOGIN_ATTR_DNS_SEARCH, name, len);
}

static const struct login_msg *
push_end(struct push *p)
{
	size_t len = login_writer_finish(&p->w);

	assert_true(len > 0);
	assert_int_equal(login_decode(p->buf, len, LOGIN_FROM_SERVER, &p->m),
			 LOGIN_DECODE_OK);
	return &p->m;
}

/* A push with the usual addresses and gateways, and one route. */
static const struct login_msg *
push_route(struct push *p, const char *route)
{
	push_begin(p);
	push_prefix(p, LOGIN_ATTR_ADDRESS4, LOGIN_ATTR_ADDRESS6, "10.99.0.7/24");
	push_prefix(p, LOGIN_ATTR_ADDRESS4, LOGIN_ATTR_ADDRESS6,
		    "fd00:99::7/64");
	push_addr(p, LOGIN_ATTR_GATEWAY4, LOGIN_ATTR_GATEWAY6, "10.99.0.1");
	push_addr(p, LOGIN_ATTR_GATEWAY4, LOGIN_ATTR_GATEWAY6, "fd00:99::1");
	if (route)
		push_prefix(p, LOGIN_ATTR_ROUTE4, LOGIN_ATTR_ROUTE6, route);
	return push_end(p);
}

/* ---- judging ------------------------------------------------------------- */

/* Rules: accept-routes from a NULL-ended list (NULL: the default). */
static void
rules_with(struct policy_rules *r, bool full_tunnel,
	   const char *const *accept)
{
	policy_rules_defaults(r);
	r->full_tunnel = full_tunnel;
	if (!accept)
		return;
	r->n_accept = 0;
	while (*accept)
		r->accept[r->n_accept++] = parse(*accept++);
}

static enum policy_decision
decide(const struct policy_rules *r, const char *server,
       const struct login_msg *m, struct netconf *nc,
       struct policy_refusals *rf)
{
	struct prefix s = parse(server);

	return policy_decide(r, s.family, s.addr, m, nc, rf);
}

static bool
has_route(const struct netconf *nc, const char *text)
{
	struct prefix want = parse(text);
	unsigned int i;

	for (i = 0; i < nc->n_routes; i++)
		if (nc->routes[i].family == want.family &&
		    nc->routes[i].len == want.len &&
		    memcmp(nc->routes[i].addr, want.addr, 16) == 0)
			return true;
	return false;
}

/* Exactly one refusal, of `item` for `reason`; its text contains `what`. */
static void
assert_refused(const struct policy_refusals *rf, enum policy_item item,
	       int reason, const char *what)
{
	if (rf->n != 1 || rf->n_more)
		fail_msg("%u refusals (+%u), wanted one for %s", rf->n,
			 rf->n_more, what);
	assert_int_equal(rf->r[0].item, item);
	assert_int_equal(rf->r[0].reason, reason);
	if (!strstr(rf->r[0].text, what))
		fail_msg("\"%s\" does not name %s", rf->r[0].text, what);
}

static void
test_routes(void **state)
{
	static const char *const office[] = { "10.0.0.0/8", "fd00::/8", NULL };
	static const char *const none[] = { NULL };
	static const struct {
		bool full;
		const char *const *accept;
		const char *server, *route;
		int reason;
	} v[] = {
		/* The default: anything but a default route. */
		{ false, NULL, SERVER4, "10.20.0.0/24", OK },
		{ false, NULL, SERVER4, "fd00:20::/64", OK },
		{ false, NULL, SERVER4, "0.0.0.0/0", POLICY_NO_FULL_TUNNEL },
		{ false, NULL, SERVER4, "::/0", POLICY_NO_FULL_TUNNEL },
		{ false, NULL, SERVER4, "0.0.0.0/1", POLICY_NO_FULL_TUNNEL },
		{ false, NULL, SERVER4, "128.0.0.0/1", POLICY_NO_FULL_TUNNEL },
		{ false, NULL, SERVER4, "8000::/1", POLICY_NO_FULL_TUNNEL },
		{ false, NULL, SERVER4, "0.0.0.0/2", OK }, /* a quarter */
		{ false, NULL, SERVER4, "192.0.2.0/24", POLICY_COVERS_SERVER },
		{ false, NULL, SERVER4, "192.0.2.1/32", POLICY_COVERS_SERVER },
		{ false, NULL, SERVER4, "192.0.0.0/2", POLICY_COVERS_SERVER },
		{ false, NULL, SERVER4, "192.0.2.2/32", OK },
		{ false, NULL, SERVER4, "2001:db8::/32", OK },
		{ false, NULL, SERVER6, "2001:db8::/32", POLICY_COVERS_SERVER },
		{ false, NULL, SERVER6, "192.0.2.0/24", OK },
		{ false, NULL, SERVER4, "10.20.0.1/24", POLICY_HOST_BITS },
		{ false, NULL, SERVER4, "fd00:20::1/64", POLICY_HOST_BITS },
		{ false, NULL, SERVER4, "128.0.0.1/1", POLICY_HOST_BITS },
		/* full-tunnel = yes: default routes, whatever accept-routes
		 * says, and the server is pinned outside, not refused. */
		{ true, NULL, SERVER4, "0.0.0.0/0", OK },
		{ true, NULL, SERVER4, "::/0", OK },
		{ true, NULL, SERVER4, "128.0.0.0/1", OK },
		{ true, none, SERVER4, "0.0.0.0/0", OK },
		{ true, NULL, SERVER4, "192.0.2.0/24", POLICY_COVERS_SERVER },
		/* Narrow accept-routes. */
		{ false, office, SERVER4, "10.20.0.0/24", OK },
		{ false, office, SERVER4, "10.0.0.0/8", OK },
		{ false, office, SERVER4, "10.0.0.0/7", POLICY_NOT_ACCEPTED },
		{ false, office, SERVER4, "172.16.0.0/12", POLICY_NOT_ACCEPTED },
		{ false, office, SERVER4, "fd00:20::/64", OK },
		{ false, office, SERVER4, "fe80::/10", POLICY_NOT_ACCEPTED },
		{ false, office, SERVER4, "0.0.0.0/0", POLICY_NO_FULL_TUNNEL },
		{ false, none, SERVER4, "10.20.0.0/24", POLICY_NOT_ACCEPTED },
	};
	struct policy_rules r;
	struct policy_refusals rf;
	struct netconf nc;
	struct push p;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		rules_with(&r, v[i].full, v[i].accept);
		/* The subnets of the usual addresses must not disturb. */
		r.accept[r.n_accept++] = parse("10.99.0.0/24");
		r.accept[r.n_accept++] = parse("fd00:99::/64");
		assert_int_equal(decide(&r, v[i].server,
					push_route(&p, v[i].route), &nc, &rf),
				 POLICY_APPLY);
		if (v[i].reason == OK) {
			if (rf.n || !has_route(&nc, v[i].route))
				fail_msg("%s refused: %s", v[i].route,
					 rf.n ? rf.r[0].text : "left out");
			assert_int_equal(nc.n_routes, 1);
			continue;
		}
		assert_int_equal(nc.n_routes, 0);
		assert_refused(&rf, POLICY_ITEM_ROUTE, v[i].reason,
			       v[i].route);
	}
}

static void
test_addresses(void **state)
{
	static const struct {
		const char *addr;
		int reason;
	} v[] = {
		{ "10.99.0.7/24", OK },         { "10.99.0.7/8", OK },
		{ "10.99.0.7/32", OK },         { "10.99.0.7/31", OK },
		{ "10.99.0.7/0", POLICY_PREFIX_LEN },
		{ "10.99.0.7/7", POLICY_PREFIX_LEN },
		{ "0.1.2.3/24", POLICY_UNSPECIFIED },
		{ "127.0.0.2/8", POLICY_LOOPBACK },
		{ "224.0.0.5/24", POLICY_MULTICAST },
		{ "255.255.255.255/32", POLICY_BROADCAST },
		{ "192.0.2.1/32", POLICY_IS_SERVER },
		{ "fd00:99::7/64", OK },        { "fd00:99::7/128", OK },
		{ "fd00:99::7/112", OK },
		{ "fd00:99::7/63", POLICY_PREFIX_LEN },
		{ "fd00:99::7/0", POLICY_PREFIX_LEN },
		{ "::/128", POLICY_UNSPECIFIED },
		{ "::1/128", POLICY_LOOPBACK },
		{ "ff02::1/128", POLICY_MULTICAST },
		{ "::ffff:127.0.0.1/128", POLICY_LOOPBACK },
	};
	struct policy_rules r;
	struct policy_refusals rf;
	struct netconf nc;
	struct push p;
	size_t i;

	(void)state;
	policy_rules_defaults(&r);
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		struct prefix want = parse(v[i].addr);
		const struct prefix *got;

		push_begin(&p);
		push_prefix(&p, LOGIN_ATTR_ADDRESS4, LOGIN_ATTR_ADDRESS6,
			    v[i].addr);
		if (v[i].reason != OK) {
			assert_int_equal(decide(&r, SERVER4, push_end(&p), &nc,
						&rf),
					 POLICY_UNUSABLE);
			assert_refused(&rf, POLICY_ITEM_ADDRESS, v[i].reason,
				       v[i].addr);
			continue;
		}
		assert_int_equal(decide(&r, SERVER4, push_end(&p), &nc, &rf),
				 POLICY_APPLY);
		assert_int_equal(rf.n, 0);
		got = want.family == AF_INET ? &nc.addr4 : &nc.addr6;
		assert_true(want.family == AF_INET ? nc.has_addr4
						   : nc.has_addr6);
		assert_int_equal(got->len, want.len);
		assert_memory_equal(got->addr, want.addr, 16);
	}
}

/* A subnet that may not be routed: the address alone; and one family's
 * address refused makes the whole login unusable. */
static void
test_subnets(void **state)
{
	static const char *const lan[] = { "10.20.0.0/16", "fd00::/8", NULL };
	struct policy_rules r;
	struct policy_refusals rf;
	struct netconf nc;
	struct push p;

	(void)state;
	rules_with(&r, false, lan);
	assert_int_equal(decide(&r, SERVER4, push_route(&p, NULL), &nc, &rf),
			 POLICY_APPLY);
	assert_refused(&rf, POLICY_ITEM_SUBNET, POLICY_NOT_ACCEPTED,
		       "subnet 10.99.0.0/24 (outside accept-routes; the "
		       "address is used alone)");
	assert_int_equal(nc.addr4.len, 32);
	assert_int_equal(nc.addr6.len, 64);
	assert_true(nc.has_gw4 && nc.has_gw6); /* reached by host routes */

	policy_rules_defaults(&r);
	push_begin(&p);
	push_prefix(&p, LOGIN_ATTR_ADDRESS4, 0, "192.0.2.77/24");
	assert_int_equal(decide(&r, SERVER4, push_end(&p), &nc, &rf),
			 POLICY_APPLY);
	assert_refused(&rf, POLICY_ITEM_SUBNET, POLICY_COVERS_SERVER,
		       "subnet 192.0.2.0/24 (covers the server 192.0.2.1;");
	assert_int_equal(nc.addr4.len, 32);

	push_begin(&p);
	push_prefix(&p, LOGIN_ATTR_ADDRESS4, 0, "10.99.0.7/24");
	push_prefix(&p, 0, LOGIN_ATTR_ADDRESS6, "fd00:99::7/48");
	assert_int_equal(decide(&r, SERVER4, push_end(&p), &nc, &rf),
			 POLICY_UNUSABLE);
	assert_refused(&rf, POLICY_ITEM_ADDRESS, POLICY_PREFIX_LEN,
		       "address fd00:99::7/48 (prefix length not /64-/128)");

	push_begin(&p);
	push_prefix(&p, LOGIN_ATTR_ROUTE4, 0, "10.20.0.0/24");
	assert_int_equal(decide(&r, SERVER4, push_end(&p), &nc, &rf),
			 POLICY_UNUSABLE);
	assert_int_equal(rf.n, 0); /* nothing refused: nothing there */
}

static void
test_gateways(void **state)
{
	static const struct {
		const char *addr, *gw;
		int reason;
	} v[] = {
		{ "10.99.0.7/24", "10.99.0.1", OK },
		{ "10.99.0.7/24", "10.99.0.254", OK },
		{ "10.99.0.7/24", "10.99.1.1", POLICY_OUTSIDE_SUBNET },
		{ "10.99.0.7/32", "10.99.0.1", POLICY_OUTSIDE_SUBNET },
		{ "10.99.0.7/24", "10.99.0.7", POLICY_IS_OURS },
		{ "10.99.0.7/24", "8.8.8.8", POLICY_OUTSIDE_SUBNET },
		{ "10.99.0.7/24", "224.0.0.1", POLICY_MULTICAST },
		{ "192.0.2.7/24", "192.0.2.1", POLICY_IS_SERVER },
		{ "fd00:99::7/64", "fd00:99::1", OK },
		{ "fd00:99::7/64", "fd00:98::1", POLICY_OUTSIDE_SUBNET },
		{ "fd00:99::7/64", "::", POLICY_UNSPECIFIED },
		{ "fd00:99::7/64", "10.99.0.1", POLICY_NO_ADDRESS },
	};
	struct policy_rules r;
	struct policy_refusals rf;
	struct netconf nc;
	struct push p;
	size_t i;

	(void)state;
	policy_rules_defaults(&r);
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		bool v6 = strchr(v[i].gw, ':') != NULL;

		push_begin(&p);
		push_prefix(&p, LOGIN_ATTR_ADDRESS4, LOGIN_ATTR_ADDRESS6,
			    v[i].addr);
		push_addr(&p, LOGIN_ATTR_GATEWAY4, LOGIN_ATTR_GATEWAY6,
			  v[i].gw);
		assert_int_equal(decide(&r, SERVER4, push_end(&p), &nc, &rf),
				 POLICY_APPLY);
		/* 192.0.2.7/24 covers the server: its subnet goes too. */
		if (strcmp(v[i].addr, "192.0.2.7/24") == 0) {
			assert_int_equal(rf.n, 2);
			rf.r[0] = rf.r[1];
			rf.n = 1;
		}
		if (v[i].reason == OK) {
			assert_int_equal(rf.n, 0);
			assert_true(v6 ? nc.has_gw6 : nc.has_gw4);
			continue;
		}
		assert_false(nc.has_gw4 || nc.has_gw6);
		assert_refused(&rf, POLICY_ITEM_GATEWAY, v[i].reason, v[i].gw);
	}
}

static void
test_dns_servers(void **state)
{
	static const struct {
		const char *addr;
		int reason;
	} v[] = {
		{ "10.20.0.53", OK },      { "192.0.2.1", OK },
		{ "fd00:20::53", OK },     { "0.0.0.0", POLICY_UNSPECIFIED },
		{ "127.0.0.53", POLICY_LOOPBACK },
		{ "224.0.0.251", POLICY_MULTICAST },
		{ "255.255.255.255", POLICY_BROADCAST },
		{ "::", POLICY_UNSPECIFIED }, { "::1", POLICY_LOOPBACK },
		{ "ff02::fb", POLICY_MULTICAST },
		{ "::ffff:127.0.0.1", POLICY_LOOPBACK },
		{ "::ffff:10.20.0.53", OK },
	};
	struct policy_rules r;
	struct policy_refusals rf;
	struct netconf nc;
	struct push p;
	size_t i;

	(void)state;
	policy_rules_defaults(&r);
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		push_begin(&p);
		push_prefix(&p, LOGIN_ATTR_ADDRESS4, 0, "10.99.0.7/24");
		push_addr(&p, LOGIN_ATTR_DNS4, LOGIN_ATTR_DNS6, v[i].addr);
		assert_int_equal(decide(&r, SERVER4, push_end(&p), &nc, &rf),
				 POLICY_APPLY);
		if (v[i].reason == OK) {
			assert_int_equal(rf.n, 0);
			assert_int_equal(nc.n_dns, 1);
			continue;
		}
		assert_int_equal(nc.n_dns, 0);
		assert_refused(&rf, POLICY_ITEM_DNS, v[i].reason, v[i].addr);
	}
}

static void
test_dns_names(void **state)
{
	static char label63[64], label64[65], long253[254], long254[255];
	static const struct {
		const char *name;
		size_t len; /* 0: strlen */
		bool ok;
	} v[] = {
		{ "office.test", 0, true },   { "a", 0, true },
		{ "a-b.c", 0, true },         { "A.B", 0, true },
		{ "xn--bcher-kva.example", 0, true },
		{ "1.2.3.4", 0, true },       { "a1-2b", 0, true },
		{ label63, 0, true },         { long253, 0, true },
		{ label64, 0, false },        { long254, 0, false },
		{ "", 0, false },             { ".", 0, false },
		{ "a..b", 0, false },         { ".a", 0, false },
		{ "a.", 0, false },           { "-a", 0, false },
		{ "a-", 0, false },           { "a-.b", 0, false },
		{ "a.-b", 0, false },         { "a_b", 0, false },
		{ "a b", 0, false },          { "a\tb", 0, false },
		{ "a\nb", 0, false },         { "a\0b", 3, false },
		{ "a\rb", 0, false },         { "a;b", 0, false },
		{ "a/b", 0, false },          { "\xc3\xa9.example", 0, false },
		{ "a*.b", 0, false },         { "a\x7f", 0, false },
	};
	size_t i;

	(void)state;
	memset(label63, 'a', 63);
	memset(label64, 'a', 64);
	/* 253 and 254 bytes: labels of 63 with dots, then the rest. */
	for (i = 0; i < 253; i++)
		long253[i] = (i + 1) % 64 == 0 ? '.' : 'b';
	memcpy(long254, long253, 253);
	long254[253] = 'c';
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		size_t len = v[i].len ? v[i].len : strlen(v[i].name);

		if (dnsname_valid((const uint8_t *)v[i].name, len) !=
		    v[i].ok)
			fail_msg("\"%s\" (%zu bytes): wanted %s", v[i].name,
				 len, v[i].ok ? "valid" : "refused");
	}
}

/* Search domains pushed: the good kept for resolvconf, the rest named. */
static void
test_search_domains(void **state)
{
	struct policy_rules r;
	struct policy_refusals rf;
	struct netconf nc;
	struct push p;

	(void)state;
	policy_rules_defaults(&r);
	push_begin(&p);
	push_prefix(&p, LOGIN_ATTR_ADDRESS4, 0, "10.99.0.7/24");
	push_search(&p, "office.test", 11);
	push_search(&p, "a\tb", 3);
	push_search(&p, "lab.office.test", 15);
	assert_int_equal(decide(&r, SERVER4, push_end(&p), &nc, &rf),
			 POLICY_APPLY);
	assert_int_equal(nc.n_search, 2);
	assert_string_equal(nc.search[0], "office.test");
	assert_string_equal(nc.search[1], "lab.office.test");
	assert_refused(&rf, POLICY_ITEM_SEARCH, POLICY_NOT_DNS_NAME,
		       "search domain \"a\\tb\" (not a DNS name)");
}

/* The brief's line, and a line that stays printable and bounded. */
static void
test_one_line(void **state)
{
	static const char evil[] = "x\"\\\n\r\x1b[31m\xff\x01 tail";
	char text[800], name[300];
	struct policy_rules r;
	struct policy_refusals rf;
	struct netconf nc;
	struct push p;
	size_t i;

	(void)state;
	policy_rules_defaults(&r);
	push_begin(&p);
	push_prefix(&p, LOGIN_ATTR_ADDRESS4, 0, "10.99.0.7/24");
	push_prefix(&p, LOGIN_ATTR_ROUTE4, 0, "0.0.0.0/0");
	push_search(&p, "a\tb", 3);
	assert_int_equal(decide(&r, SERVER4, push_end(&p), &nc, &rf),
			 POLICY_APPLY);
	assert_string_equal(policy_refusals_format(&rf, text, sizeof(text)),
			    "route 0.0.0.0/0 (no full-tunnel), search domain "
			    "\"a\\tb\" (not a DNS name)");

	push_begin(&p);
	push_prefix(&p, LOGIN_ATTR_ADDRESS4, 0, "10.99.0.7/24");
	push_search(&p, evil, sizeof(evil) - 1);
	memset(name, 'n', 255);
	push_search(&p, name, 255);
	for (i = 0; i < 40; i++) {
		char route[32];

		snprintf(route, sizeof(route), "192.0.2.%zu/32", i);
		push_prefix(&p, LOGIN_ATTR_ROUTE4, 0, route);
	}
	assert_int_equal(decide(&r, SERVER4, push_end(&p), &nc, &rf),
			 POLICY_APPLY);
	/* One route is the server itself; 39 others are fine. */
	assert_int_equal(nc.n_routes, 39);
	assert_int_equal(rf.n, 3);
	assert_string_equal(rf.r[0].text,
			    "route 192.0.2.1/32 (covers the server 192.0.2.1)");
	assert_string_equal(rf.r[1].text,
			    "search domain \"x\\\"\\\\\\n\\x0d\\x1b[31m\\xff"
			    "\\x01 tail\" (not a DNS name)");
	assert_string_equal(rf.r[2].text,
			    "search domain \"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
			    "nnn...\" (not a DNS name)");
	policy_refusals_format(&rf, text, 120);
	assert_true(strlen(text) < 120);
	assert_non_null(strstr(text, "and 2 more"));
	policy_refusals_format(&rf, text, sizeof(text));
	for (i = 0; text[i]; i++)
		assert_true(text[i] >= 0x20 && text[i] < 0x7f);
}

/* Past vpnc's limits: named once, with how many. */
static void
test_too_many(void **state)
{
	struct policy_rules r;
	struct policy_refusals rf;
	struct netconf nc;
	struct push p;
	char text[64];
	unsigned int i;

	(void)state;
	policy_rules_defaults(&r);
	push_begin(&p);
	push_prefix(&p, LOGIN_ATTR_ADDRESS4, 0, "10.99.0.7/24");
	for (i = 0; i < NETCONF_MAX_ROUTES + 6; i++) {
		snprintf(text, sizeof(text), "10.%u.0.0/16", 100 + i);
		push_prefix(&p, LOGIN_ATTR_ROUTE4, 0, text);
	}
	for (i = 0; i < NETCONF_MAX_DNS + 1; i++) {
		snprintf(text, sizeof(text), "10.20.0.%u", 10 + i);
		push_addr(&p, LOGIN_ATTR_DNS4, 0, text);
	}
	assert_int_equal(decide(&r, SERVER4, push_end(&p), &nc, &rf),
			 POLICY_APPLY);
	assert_int_equal(nc.n_routes, NETCONF_MAX_ROUTES);
	assert_int_equal(nc.n_dns, NETCONF_MAX_DNS);
	assert_int_equal(rf.n, 2);
	assert_string_equal(rf.r[0].text, "route past the 64th (6) (too many)");
	assert_string_equal(rf.r[1].text,
			    "DNS server past the 8th (1) (too many)");
}

static void
test_mtu(void **state)
{
	static const struct {
		int mtu; /* -1: not pushed */
		uint16_t used;
		bool refused;
	} v[] = {
		{ -1, 1420, false }, { 1380, 1380, false }, { 576, 576, false },
		{ 9000, 9000, false }, { 575, 1420, true }, { 0, 1420, true },
		{ 9001, 1420, true }, { 65535, 1420, true },
	};
	struct policy_rules r;
	struct policy_refusals rf;
	struct netconf nc;
	struct push p;
	size_t i;

	(void)state;
	policy_rules_defaults(&r);
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		push_begin(&p);
		push_prefix(&p, LOGIN_ATTR_ADDRESS4, 0, "10.99.0.7/24");
		if (v[i].mtu >= 0)
			login_put_u16(&p.w, LOGIN_ATTR_MTU,
				      (uint16_t)v[i].mtu);
		assert_int_equal(decide(&r, SERVER4, push_end(&p), &nc, &rf),
				 POLICY_APPLY);
		assert_int_equal(nc.mtu, v[i].used);
		assert_int_equal(rf.n, v[i].refused ? 1 : 0);
		if (v[i].refused)
			assert_int_equal(rf.r[0].reason, POLICY_OUT_OF_RANGE);
	}
}

/* ---- the source check ---------------------------------------------------- */

/* A minimal packet from `src`: only the version and the source matter. */
static size_t
packet_from(const char *src, uint8_t *pkt)
{
	struct prefix s = parse(src);

	memset(pkt, 0, 64);
	if (s.family == AF_INET) {
		pkt[0] = 0x45;
		memcpy(pkt + 12, s.addr, 4);
		return 20;
	}
	pkt[0] = 0x60;
	memcpy(pkt + 8, s.addr, 16);
	return 40;
}

static void
test_sources(void **state)
{
	static const char *const narrow[] = { "10.20.0.0/16", "fd00::/8",
					      NULL };
	static const struct {
		int rules; /* 0 default, 1 full tunnel, 2 subnet refused */
		const char *src;
		bool ok;
	} v[] = {
		{ 0, "10.99.0.1", true },   /* the gateway */
		{ 0, "10.99.0.55", true },  /* another client, subnet */
		{ 0, "10.20.0.2", true },   /* a pushed route */
		{ 0, "10.20.0.255", true }, { 0, "10.20.1.1", false },
		{ 0, "10.21.0.1", false },  { 0, "8.8.8.8", false },
		{ 0, "192.0.2.1", false },  /* the server, outside */
		{ 0, "fd00:99::1", true },  { 0, "fd00:99::8", true },
		{ 0, "fd00:20::2", true },  { 0, "fd00:21::1", false },
		{ 0, "2001:db8::5", false },
		{ 1, "8.8.8.8", true },     { 1, "2001:db8::5", true },
		{ 1, "192.0.2.1", true },
		{ 2, "10.99.0.1", true },   /* the gateway, by itself */
		{ 2, "10.99.0.55", false }, /* the subnet was refused */
		{ 2, "10.20.0.2", true },
	};
	struct policy_rules r;
	struct policy_refusals rf;
	struct netconf nc[3];
	struct push p;
	uint8_t pkt[64];
	size_t i, len;

	(void)state;
	for (i = 0; i < 3; i++) {
		rules_with(&r, i == 1, i == 2 ? narrow : NULL);
		push_begin(&p);
		push_prefix(&p, LOGIN_ATTR_ADDRESS4, 0, "10.99.0.7/24");
		push_prefix(&p, 0, LOGIN_ATTR_ADDRESS6, "fd00:99::7/64");
		push_addr(&p, LOGIN_ATTR_GATEWAY4, 0, "10.99.0.1");
		push_addr(&p, 0, LOGIN_ATTR_GATEWAY6, "fd00:99::1");
		push_prefix(&p, LOGIN_ATTR_ROUTE4, 0, "10.20.0.0/24");
		push_prefix(&p, 0, LOGIN_ATTR_ROUTE6, "fd00:20::/64");
		if (i == 1) {
			push_prefix(&p, LOGIN_ATTR_ROUTE4, 0, "0.0.0.0/0");
			push_prefix(&p, 0, LOGIN_ATTR_ROUTE6, "::/0");
		}
		assert_int_equal(decide(&r, SERVER4, push_end(&p), &nc[i],
					&rf),
				 POLICY_APPLY);
	}
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		len = packet_from(v[i].src, pkt);
		if (policy_source_allowed(&nc[v[i].rules], pkt, len) !=
		    v[i].ok)
			fail_msg("source %s, rules %d: wanted %s", v[i].src,
				 v[i].rules, v[i].ok ? "taken" : "dropped");
	}
	/* What is not a whole IP header from any source is dropped. */
	len = packet_from("10.99.0.1", pkt);
	assert_true(policy_source_allowed(&nc[1], pkt, len));
	assert_false(policy_source_allowed(&nc[1], pkt, 19));
	len = packet_from("fd00:99::1", pkt);
	assert_false(policy_source_allowed(&nc[1], pkt, 39));
	pkt[0] = 0x50;
	assert_false(policy_source_allowed(&nc[1], pkt, len));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_subnets),
		cmocka_unit_test(test_gateways),
		cmocka_unit_test(test_dns_servers),
		cmocka_unit_test(test_dns_names),
		cmocka_unit_test(test_search_domains),
		cmocka_unit_test(test_one_line),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_mtu),
		cmocka_unit_test(test_sources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
