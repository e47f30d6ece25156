// SPDX-License-Identifier: MIT
/*
 * access.c: the allow syntax (vectors of good and bad entries with the
 * reason given), the configuration's arrays and their comparison, which
 * rules reach a user (directly, through groups, none: the fallback),
 * the check (prefixes nested across rules, ports and ranges, ICMP per
 * family, fragments, answers to what the office opened, client to
 * client), the counts and their takeover by a new policy, and a
 * differential test: seeded random rules and packets against a naive
 * reading of the rules (every entry of every rule, the longest prefix
 * holding the address blamed).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../vpnd/access.h"
#include "rand.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the allow syntax ----------------------------------------------------- */

static void
test_allow_syntax(void **state)
{
	static const struct {
		const char *text;
		bool ok;
		unsigned int n_items;
		const char *why; /* part of the reason */
	} v[] = {
		{ "10.20.0.0/24", true, 0, NULL },
		{ "10.20.0.5", true, 0, NULL },
		{ "fd00:20::/64 icmp", true, 1, NULL },
		{ "10.20.0.0/24 tcp/80,443", true, 2, NULL },
		{ "10.20.0.0/24  tcp/80 \t udp/53 icmp", true, 3, NULL },
		{ "10.20.0.0/24 tcp/8000-8100,22", true, 2, NULL },
		{ "10.20.0.0/24 tcp udp", true, 2, NULL },
		{ "0.0.0.0/0 tcp/1-65535", true, 1, NULL },
		{ "", false, 0, "empty" },
		{ "   ", false, 0, "empty" },
		{ "10.20.0.1/24", false, 0, "host bits set (the network is "
					   "10.20.0.0/24)" },
		{ "10.20.0.0/33", false, 0, "not an address" },
		{ "office", false, 0, "not an address" },
		{ "10.20.0.0/24 http", false, 0, "not tcp, udp or icmp" },
		{ "10.20.0.0/24 tcp/0", false, 0, "1-65535" },
		{ "10.20.0.0/24 tcp/65536", false, 0, "1-65535" },
		{ "10.20.0.0/24 tcp/", false, 0, "1-65535" },
		{ "10.20.0.0/24 tcp/80,", false, 0, "1-65535" },
		{ "10.20.0.0/24 tcp/90-80", false, 0, "1-65535" },
		{ "10.20.0.0/24 tcp/8o", false, 0, "1-65535" },
		{ "10.20.0.0/24 tcp/000080", false, 0, "1-65535" },
		{ "10.20.0.0/24 icmp/8", false, 0, "icmp takes no ports" },
		{ "10.20.0.0/24 TCP/80", false, 0, "not tcp" },
	};
	struct access_item items[ACCESS_ITEMS_MAX];
	struct prefix p;
	uint32_t n;
	char why[128];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		why[0] = 0;
		if (access_allow_parse(v[i].text, &p, items, &n, why,
				       sizeof(why)) != v[i].ok)
			fail_msg("\"%s\": %s", v[i].text, why);
		if (v[i].ok)
			assert_int_equal(n, v[i].n_items);
		else if (!strstr(why, v[i].why))
			fail_msg("\"%s\": \"%s\" lacks \"%s\"", v[i].text, why,
				 v[i].why);
	}
	assert_true(access_allow_parse("10.20.0.0/24 tcp/80,443 udp/53 icmp",
				       &p, items, &n, why, sizeof(why)));
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.len, 24);
	assert_int_equal(items[0].proto, ACCESS_TCP);
	assert_int_equal(items[0].lo, 80);
	assert_int_equal(items[0].hi, 80);
	assert_int_equal(items[1].lo, 443);
	assert_int_equal(items[2].proto, ACCESS_UDP);
	assert_int_equal(items[3].proto, ACCESS_ICMP);
	assert_true(access_allow_parse("10.20.0.0/24 tcp", &p, items, &n, why,
				       sizeof(why)));
	assert_int_equal(items[0].lo, 0);
	assert_int_equal(items[0].hi, 65535);
	/* At most ACCESS_ITEMS_MAX items. */
	char many[256] = "10.0.0.0/8 tcp/1";
	for (i = 2; i <= ACCESS_ITEMS_MAX; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), ",%zu",
			 i);
	assert_true(access_allow_parse(many, &p, items, &n, why, sizeof(why)));
	assert_int_equal(n, ACCESS_ITEMS_MAX);
	strcat(many, ",99");
	assert_false(access_allow_parse(many, &p, items, &n, why, sizeof(why)));
}

static void
test_names(void **state)
{
	(void)state;
	assert_true(access_name_valid("alice"));
	assert_true(access_name_valid("eng-web.v2_x@corp+1"));
	assert_false(access_name_valid(""));
	assert_false(access_name_valid("-x"));
	assert_false(access_name_valid("a b"));
	assert_false(access_name_valid("a\"b"));
	assert_true(access_name_valid(
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_false(access_name_valid(
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

/* ---- a configuration, as config.c builds one ------------------------------ */

static void
allow(struct access_config *c, const char *text)
{
	struct access_item items[ACCESS_ITEMS_MAX];
	struct prefix p;
	uint32_t n;
	char why[128];

	if (!access_allow_parse(text, &p, items, &n, why, sizeof(why)))
		fail_msg("%s: %s", text, why);
	assert_int_equal(access_config_add_allow(c, &p, items, n), 0);
}

/*
 * group eng { alice bob }, group ops { carol }
 * rule web { groups eng }: 10.20.0.0/16 tcp/80,443; 10.20.5.0/24 tcp/22
 * rule ssh { users bob, dave; groups ops }: 10.20.5.0/24 tcp/2222;
 *          10.20.5.7 (everything); fd00:20::/64 icmp udp/53
 * rule none { users erin }: nothing at all
 */
static struct access_config *
sample(void)
{
	static const char *const eng[] = { "alice", "bob" };
	static const char *const ops[] = { "carol" };
	static const char *const g_eng[] = { "eng" };
	static const char *const u_ssh[] = { "bob", "dave" };
	static const char *const g_ssh[] = { "ops" };
	static const char *const u_none[] = { "erin" };
	struct access_config *c = access_config_new();

	assert_non_null(c);
	assert_int_equal(access_config_add_allow(c, &(struct prefix){ 0 },
						 NULL, 0), -EINVAL);
	assert_int_equal(access_config_add_group(c, "eng", eng, 2), 0);
	assert_int_equal(access_config_add_group(c, "ops", ops, 1), 0);
	assert_int_equal(access_config_add_rule(c, "web", NULL, 0, g_eng, 1), 0);
	allow(c, "10.20.0.0/16 tcp/80,443");
	allow(c, "10.20.5.0/24 tcp/22");
	assert_int_equal(access_config_add_rule(c, "ssh", u_ssh, 2, g_ssh, 1),
			 0);
	allow(c, "10.20.5.0/24 tcp/2222");
	allow(c, "10.20.5.7");
	allow(c, "fd00:20::/64 icmp udp/53");
	assert_int_equal(access_config_add_rule(c, "none", u_none, 1, NULL, 0),
			 0);
	return c;
}

static void
test_config_arrays(void **state)
{
	struct access_config *a = sample(), *b = sample();

	(void)state;
	assert_int_equal(a->n_groups, 2);
	assert_int_equal(a->n_rules, 3);
	assert_int_equal(a->n_allows, 5);
	assert_int_equal(a->rules[1].n_allows, 3);
	assert_int_equal(a->rules[1].first_allow, 2);
	assert_int_equal(a->rules[2].n_allows, 0);
	assert_string_equal(a->names[a->rules[1].first_user + 1], "dave");
	assert_string_equal(a->names[a->rules[1].first_group], "ops");
	assert_non_null(access_config_group(a, "ops"));
	assert_null(access_config_group(a, "dev"));
	assert_true(access_config_equal(a, b));
	assert_true(access_config_equal(NULL, NULL));
	assert_false(access_config_equal(a, NULL));
	/* One port more, one user fewer: different. */
	allow(b, "10.30.0.0/16");
	assert_false(access_config_equal(a, b));
	access_config_free(b);
	b = sample();
	snprintf(b->names[0], sizeof(b->names[0]), "alicia");
	assert_false(access_config_equal(a, b));
	access_config_free(b);
	b = sample();
	b->items[0].lo = 81;
	assert_false(access_config_equal(a, b));
	access_config_free(b);
	access_config_free(a);
	access_config_free(NULL);
}

/* ---- the check ----------------------------------------------------------------- */

static const struct prefix pushed[] = {
	{ AF_INET, { 10, 20, 0, 0 }, 24 },
	{ AF_INET, { 10, 99, 0, 1 }, 32 },
	{ AF_INET6, { 0xfd, 0, 0, 0x20 }, 64 },
};

/* A packet from 10.99.0.2 / fd00:99::2. */
static struct ippkt
pkt(const char *dst, uint8_t proto, int dport, int flags_or_type)
{
	static uint8_t addr[16], src[16];
	struct ippkt p;

	memset(&p, 0, sizeof(p));
	p.family = strchr(dst, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(p.family, dst, addr), 1);
	memset(src, 0, sizeof(src));
	src[0] = 10;
	p.src = src;
	p.dst = addr;
	p.proto = proto;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		p.has_ports = dport >= 0;
		p.dport = (uint16_t)(dport >= 0 ? dport : 0);
		p.sport = 40000;
	}
	if (proto == IPPROTO_TCP && dport >= 0) {
		p.has_tcp_flags = true;
		p.tcp_flags = (uint8_t)flags_or_type;
	}
	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		p.has_icmp_type = true;
		p.icmp_type = (uint8_t)flags_or_type;
	}
	return p;
}

#define SYN IPPKT_TCP_SYN
#define PASS ACCESS_PASS
#define REFUSED ACCESS_REFUSED

static enum access_verdict
check(struct access_policy *pol, const char *user, struct ippkt p)
{
	return access_check(pol, access_policy_set_for(pol, user), false, &p);
}

static void
test_check(void **state)
{
	struct access_config *c = sample();
	struct access_policy *pol = access_policy_new(c, false, pushed,
						      ARRAY_SIZE(pushed), NULL);
	struct access_rule *web, *ssh;

	(void)state;
	assert_non_null(pol);
	web = &pol->rules[0];
	ssh = &pol->rules[1];
	/* alice (eng: web): 80 and 443 in the /16, 22 in the /24 too. */
	assert_int_equal(check(pol, "alice", pkt("10.20.1.1", 6, 80, SYN)), PASS);
	assert_int_equal(check(pol, "alice", pkt("10.20.1.1", 6, 443, SYN)), PASS);
	assert_int_equal(check(pol, "alice", pkt("10.20.5.9", 6, 443, SYN)), PASS);
	assert_int_equal(check(pol, "alice", pkt("10.20.5.9", 6, 22, SYN)), PASS);
	assert_int_equal(web->refused, 0);
	assert_int_equal(check(pol, "alice", pkt("10.20.1.1", 6, 22, SYN)),
			 REFUSED);
	assert_int_equal(web->refused, 1);
	assert_int_equal(check(pol, "alice", pkt("10.20.1.1", 17, 80, 0)),
			 REFUSED);
	assert_int_equal(web->refused, 2);
	/* Outside every prefix of hers, pushed or not: no rule. */
	assert_int_equal(check(pol, "alice", pkt("10.30.0.1", 6, 80, SYN)),
			 REFUSED);
	assert_int_equal(check(pol, "alice", pkt("10.99.0.1", 1, -1, 8)),
			 REFUSED);
	assert_int_equal(pol->refused_no_rule, 2);
	assert_int_equal(web->refused, 2);
	/* bob (eng and ssh): both rules, merged across nested prefixes. */
	assert_int_equal(check(pol, "bob", pkt("10.20.5.9", 6, 2222, SYN)), PASS);
	assert_int_equal(check(pol, "bob", pkt("10.20.5.9", 6, 443, SYN)), PASS);
	assert_int_equal(check(pol, "bob", pkt("10.20.5.9", 6, 22, SYN)), PASS);
	assert_int_equal(check(pol, "bob", pkt("10.20.5.7", 17, 9999, 0)), PASS);
	assert_int_equal(check(pol, "bob", pkt("10.20.5.7", 132, -1, 0)), PASS);
	/* The longest prefix's rule is blamed: the /24 is web's and ssh's,
	 * web comes first in the file. */
	assert_int_equal(check(pol, "bob", pkt("10.20.5.9", 6, 25, SYN)),
			 REFUSED);
	assert_int_equal(web->refused, 3);
	assert_int_equal(check(pol, "bob", pkt("fd00:20::9", 17, 53, 0)), PASS);
	assert_int_equal(check(pol, "bob", pkt("fd00:20::9", 58, -1, 128)),
			 PASS);
	/* icmp on an IPv6 prefix is ICMPv6, not ICMP. */
	assert_int_equal(check(pol, "bob", pkt("fd00:20::9", 1, -1, 8)),
			 REFUSED);
	assert_int_equal(ssh->refused, 1);
	/* carol (ops: ssh) and dave (ssh) share one set; not web's. */
	assert_int_equal(check(pol, "carol", pkt("10.20.5.9", 6, 2222, SYN)),
			 PASS);
	assert_int_equal(check(pol, "dave", pkt("10.20.1.1", 6, 80, SYN)),
			 REFUSED);
	assert_ptr_equal(access_policy_set_for(pol, "carol"),
			 access_policy_set_for(pol, "dave"));
	/* erin's rule allows nothing. */
	assert_int_equal(check(pol, "erin", pkt("10.20.0.2", 1, -1, 8)),
			 REFUSED);
	/* frank: no rule names him: everything pushed, and only that. */
	assert_int_equal(check(pol, "frank", pkt("10.20.0.2", 6, 8081, SYN)),
			 PASS);
	assert_int_equal(check(pol, "frank", pkt("10.99.0.1", 1, -1, 8)), PASS);
	assert_int_equal(check(pol, "frank", pkt("fd00:20::5", 17, 1, 0)), PASS);
	assert_int_equal(check(pol, "frank", pkt("10.20.1.1", 6, 80, SYN)),
			 REFUSED);
	assert_ptr_equal(access_policy_set_for(pol, "frank"), pol->fallback);
	/* Sets: the fallback, alice's, bob's, carol's and dave's, erin's. */
	assert_int_equal(access_policy_n_sets(pol), 5);
	assert_int_equal(access_set_prefixes(pol->fallback), 3);
	/* A user name is matched exactly. */
	assert_ptr_equal(access_policy_set_for(pol, "Alice"), pol->fallback);
	assert_ptr_equal(access_policy_set_for(pol, "alic"), pol->fallback);
	access_policy_free(pol);
	access_config_free(c);
}

/* What answers the office's own traffic passes; the client's openings
 * do not. */
static void
test_answers(void **state)
{
	struct access_config *c = sample();
	struct access_policy *pol = access_policy_new(c, false, pushed,
						      ARRAY_SIZE(pushed), NULL);
	struct ippkt p;

	(void)state;
	assert_non_null(pol);
	/* A SYN-ACK from alice's own server, an ACK, a reset: pass. */
	assert_int_equal(check(pol, "alice", pkt("10.30.0.1", 6, 5555,
						 SYN | IPPKT_TCP_ACK)),
			 PASS);
	assert_int_equal(check(pol, "alice", pkt("10.20.1.1", 6, 22,
						 IPPKT_TCP_ACK)),
			 PASS);
	assert_int_equal(check(pol, "alice", pkt("10.20.1.1", 6, 22,
						 IPPKT_TCP_RST)),
			 PASS);
	/* Echo replies and errors pass; echo requests and UDP do not. */
	assert_int_equal(check(pol, "alice", pkt("10.30.0.1", 1, -1, 0)), PASS);
	assert_int_equal(check(pol, "alice", pkt("10.30.0.1", 1, -1, 3)), PASS);
	assert_int_equal(check(pol, "alice", pkt("10.30.0.1", 1, -1, 11)), PASS);
	assert_int_equal(check(pol, "alice", pkt("fd00:30::1", 58, -1, 129)),
			 PASS);
	assert_int_equal(check(pol, "alice", pkt("fd00:30::1", 58, -1, 1)),
			 PASS);
	assert_int_equal(check(pol, "alice", pkt("10.30.0.1", 1, -1, 8)),
			 REFUSED);
	assert_int_equal(check(pol, "alice", pkt("10.30.0.1", 1, -1, 5)),
			 REFUSED); /* a redirect answers nothing */
	assert_int_equal(check(pol, "alice", pkt("fd00:30::1", 58, -1, 128)),
			 REFUSED);
	assert_int_equal(check(pol, "alice", pkt("10.20.1.1", 17, 22, 0)),
			 REFUSED);
	/* Fragments: the first is judged by its ports; a later one, which
	 * has none, by its protocol. */
	p = pkt("10.20.1.1", 6, 80, SYN);
	p.is_fragment = true;
	assert_int_equal(check(pol, "alice", p), PASS);
	p = pkt("10.20.1.1", 6, -1, 0);
	p.is_fragment = p.is_later_fragment = true;
	assert_int_equal(check(pol, "alice", p), PASS);
	p = pkt("10.20.1.1", 17, -1, 0);
	p.is_fragment = p.is_later_fragment = true;
	assert_int_equal(check(pol, "alice", p), REFUSED);
	/* A TCP header cut before its ports: only "tcp" (every port) lets
	 * it through, and web's are ports. */
	p = pkt("10.20.1.1", 6, -1, 0);
	assert_int_equal(check(pol, "alice", p), REFUSED);
	access_policy_free(pol);
	access_config_free(c);
}

static void
test_client_to_client(void **state)
{
	struct access_config *c = sample();
	struct access_policy *off, *on;
	struct ippkt p = pkt("10.99.0.7", 1, -1, 8);

	(void)state;
	off = access_policy_new(c, false, pushed, ARRAY_SIZE(pushed), NULL);
	on = access_policy_new(c, true, pushed, ARRAY_SIZE(pushed), NULL);
	assert_non_null(off);
	assert_non_null(on);
	/* Off: refused first, whoever asks, answers too. */
	assert_int_equal(access_check(off, access_policy_set_for(off, "frank"),
				      true, &p),
			 REFUSED);
	p = pkt("10.99.0.7", 6, 22, IPPKT_TCP_ACK);
	assert_int_equal(access_check(off, access_policy_set_for(off, "bob"),
				      true, &p),
			 REFUSED);
	assert_int_equal(off->refused_client, 2);
	assert_int_equal(off->refused_no_rule, 0);
	/* On: a user without rules reaches every client; one with rules
	 * only what they allow (bob: 10.99.0.7 is in none of his). */
	p = pkt("10.99.0.7", 1, -1, 8);
	assert_int_equal(access_check(on, access_policy_set_for(on, "frank"),
				      true, &p),
			 PASS);
	assert_int_equal(access_check(on, access_policy_set_for(on, "bob"),
				      true, &p),
			 REFUSED);
	assert_int_equal(on->refused_client, 0);
	assert_int_equal(on->refused_no_rule, 1);
	/* No set (out of memory at admission): nothing passes. */
	p = pkt("10.20.0.2", 1, -1, 8);
	assert_int_equal(access_check(on, NULL, false, &p), REFUSED);
	access_policy_free(off);
	access_policy_free(on);
	access_config_free(c);
}

/* A new policy takes over the counts of rules that keep their name. */
static void
test_counts_carried(void **state)
{
	static const char *const users[] = { "alice" };
	struct access_config *c = sample(), *d = access_config_new();
	struct access_policy *a, *b;

	(void)state;
	a = access_policy_new(c, false, pushed, ARRAY_SIZE(pushed), NULL);
	assert_non_null(a);
	check(a, "alice", pkt("10.20.1.1", 6, 22, SYN));
	check(a, "bob", pkt("fd00:20::9", 6, 22, SYN));
	check(a, "alice", pkt("10.30.1.1", 6, 22, SYN));
	access_check(a, a->fallback, true, &(struct ippkt){ 0 });
	assert_int_equal(a->rules[0].refused, 1);
	assert_int_equal(a->rules[1].refused, 1);
	assert_non_null(d);
	assert_int_equal(access_config_add_rule(d, "other", users, 1, NULL, 0),
			 0);
	assert_int_equal(access_config_add_rule(d, "web", users, 1, NULL, 0),
			 0);
	b = access_policy_new(d, false, pushed, ARRAY_SIZE(pushed), a);
	assert_non_null(b);
	assert_string_equal(b->rules[1].name, "web");
	assert_int_equal(b->rules[1].refused, 1);
	assert_int_equal(b->rules[0].refused, 0);
	assert_int_equal(b->refused_no_rule, 1);
	assert_int_equal(b->refused_client, 1);
	access_policy_free(a);
	access_policy_free(b);
	/* No rules at all: the fallback for everyone. */
	a = access_policy_new(NULL, false, pushed, ARRAY_SIZE(pushed), NULL);
	assert_non_null(a);
	assert_int_equal(a->n_rules, 0);
	assert_ptr_equal(access_policy_set_for(a, "alice"), a->fallback);
	assert_int_equal(check(a, "alice", pkt("10.20.0.9", 17, 9, 0)), PASS);
	access_policy_free(a);
	access_config_free(c);
	access_config_free(d);
}

/* ---- against a naive reading ------------------------------------------------- */

#define RULES 6
#define USERS 5

struct naive_allow {
	struct prefix p;
	struct access_item items[4];
	uint32_t n_items;
	unsigned int rule;
};

static struct naive_allow naive[RULES * 12];
static unsigned int n_naive;
static bool member[USERS][RULES];

static bool
naive_item(const struct access_item *it, const struct ippkt *p)
{
	switch (it->proto) {
	case ACCESS_ANY:
		return true;
	case ACCESS_ICMP:
		return p->proto == (p->family == AF_INET ? 1 : 58);
	default:
		return p->proto == (it->proto == ACCESS_TCP ? 6 : 17) &&
		       p->has_ports && p->dport >= it->lo && p->dport <= it->hi;
	}
}

/* Allowed if any entry of the user's rules holds the address and
 * allows the packet; else blamed on the longest prefix holding it (the
 * first rule among equals), or none. */
static int
naive_check(unsigned int user, const struct ippkt *p, bool *allowed)
{
	int blame = -1, best_len = -1;
	unsigned int i, k;

	*allowed = false;
	for (i = 0; i < n_naive; i++) {
		const struct naive_allow *a = &naive[i];

		if (!member[user][a->rule] ||
		    !prefix_contains(&a->p, p->family, p->dst))
			continue;
		if (!a->n_items)
			*allowed = true;
		for (k = 0; k < a->n_items; k++)
			*allowed |= naive_item(&a->items[k], p);
		if (a->p.len > best_len ||
		    (a->p.len == best_len && (int)a->rule < blame)) {
			best_len = a->p.len;
			blame = (int)a->rule;
		}
	}
	return blame;
}

static void
random_prefix(struct prefix *p)
{
	/* Nested and colliding: 10.x.y.z with few values of each. */
	memset(p, 0, sizeof(*p));
	p->family = AF_INET;
	p->addr[0] = 10;
	p->addr[1] = (uint8_t)(next_rand() % 3);
	p->addr[2] = (uint8_t)(next_rand() % 4 * 64);
	p->addr[3] = (uint8_t)(next_rand() % 4);
	p->len = (uint8_t)(8 + next_rand() % 25);
	prefix_mask(p);
}

static void
random_item(struct access_item *it)
{
	it->proto = (uint8_t)(1 + next_rand() % 3);
	it->lo = (uint16_t)(1 + next_rand() % 20);
	it->hi = (uint16_t)(it->lo + next_rand() % 5);
}

static void
test_against_naive(void **state)
{
	const char *names[USERS] = { "u0", "u1", "u2", "u3", "u4" };
	uint64_t refused[RULES + 1];
	unsigned int round, r, i, k, u;

	(void)state;
	rng = 2024;
	for (round = 0; round < 60; round++) {
		struct access_config *c = access_config_new();
		struct access_policy *pol;

		assert_non_null(c);
		memset(member, 0, sizeof(member));
		memset(refused, 0, sizeof(refused));
		n_naive = 0;
		for (r = 0; r < RULES; r++) {
			const char *users[USERS];
			uint32_t n_users = 0;
			char name[16];

			for (u = 0; u < USERS; u++)
				if (next_rand() % 3 == 0) {
					users[n_users++] = names[u];
					member[u][r] = true;
				}
			snprintf(name, sizeof(name), "r%u", r);
			assert_int_equal(access_config_add_rule(c, name, users,
								n_users, NULL,
								0),
					 0);
			for (i = next_rand() % 12; i > 0; i--) {
				struct naive_allow *a = &naive[n_naive++];

				random_prefix(&a->p);
				a->rule = r;
				a->n_items = next_rand() % 5 == 0
						     ? 0
						     : 1 + next_rand() % 4;
				for (k = 0; k < a->n_items; k++)
					random_item(&a->items[k]);
				assert_int_equal(access_config_add_allow(
							 c, &a->p, a->items,
							 a->n_items),
						 0);
			}
		}
		pol = access_policy_new(c, false, NULL, 0, NULL);
		assert_non_null(pol);
		for (i = 0; i < 400; i++) {
			uint8_t dst[4] = { 10, (uint8_t)(next_rand() % 3),
					   (uint8_t)(next_rand() % 256),
					   (uint8_t)(next_rand() % 8) };
			struct ippkt p = { .family = AF_INET, .dst = dst,
					   .src = dst };
			bool allowed, any;
			int blame;

			p.proto = (uint8_t)(next_rand() % 2 ? 6 : 17);
			if (next_rand() % 4 == 0)
				p.proto = 1;
			p.has_ports = p.proto != 1;
			p.dport = (uint16_t)(1 + next_rand() % 26);
			/* No answers here: a SYN, an echo request. */
			p.has_tcp_flags = p.proto == 6;
			p.tcp_flags = SYN;
			p.has_icmp_type = p.proto == 1;
			p.icmp_type = 8;
			u = (unsigned int)(next_rand() % USERS);
			blame = naive_check(u, &p, &allowed);
			for (any = false, r = 0; r < RULES; r++)
				any |= member[u][r];
			if (!any) {
				/* The fallback, empty here. */
				allowed = false;
				blame = -1;
			}
			assert_int_equal(check(pol, names[u], p),
					 allowed ? PASS : REFUSED);
			if (!allowed)
				refused[blame < 0 ? RULES : (unsigned)blame]++;
		}
		for (r = 0; r < RULES; r++)
			assert_int_equal(pol->rules[r].refused, refused[r]);
		assert_int_equal(pol->refused_no_rule, refused[RULES]);
		access_policy_free(pol);
		access_config_free(c);
	}
}

/* Many prefixes: built in one go, every one found. */
static void
test_many_prefixes(void **state)
{
	static const char *const users[] = { "bench" };
	struct access_config *c = access_config_new();
	struct access_policy *pol;
	struct access_item item = { ACCESS_TCP, 5201, 5201 };
	const struct access_set *set;
	struct prefix p = { .family = AF_INET, .len = 30 };
	uint8_t dst[4];
	uint32_t i;

	(void)state;
	assert_non_null(c);
	assert_int_equal(access_config_add_rule(c, "many", users, 1, NULL, 0),
			 0);
	for (i = 0; i < 10000; i++) {
		p.addr[0] = 10;
		p.addr[1] = 100 + (uint8_t)(i >> 14);
		p.addr[2] = (uint8_t)(i >> 6);
		p.addr[3] = (uint8_t)((i & 63) << 2);
		assert_int_equal(access_config_add_allow(c, &p, &item, 1), 0);
	}
	pol = access_policy_new(c, false, pushed, ARRAY_SIZE(pushed), NULL);
	assert_non_null(pol);
	set = access_policy_set_for(pol, "bench");
	assert_non_null(set);
	assert_int_equal(access_set_prefixes(set), 10000);
	for (i = 0; i < 10000; i += 7) {
		struct ippkt q = { .family = AF_INET, .dst = dst, .src = dst,
				   .proto = 6, .has_ports = true, .dport = 5201,
				   .has_tcp_flags = true, .tcp_flags = SYN };

		memcpy(dst, (uint8_t[]){ 10, (uint8_t)(100 + (i >> 14)),
					 (uint8_t)(i >> 6),
					 (uint8_t)(((i & 63) << 2) | 3) },
		       4);
		assert_int_equal(access_check(pol, set, false, &q), PASS);
		q.dport = 5202;
		assert_int_equal(access_check(pol, set, false, &q), REFUSED);
	}
	access_policy_free(pol);
	access_config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allow_syntax),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_config_arrays),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_client_to_client),
		cmocka_unit_test(test_counts_carried),
		cmocka_unit_test(test_against_naive),
		cmocka_unit_test(test_many_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
