// SPDX-License-Identifier: MIT
/*
 * reload.c's decisions, without a server: every option of the shipped
 * conf/vpnd.conf has a rule; a vector table of single changes to a
 * running configuration, each with the verdict it must get (live, or
 * restart: pools that grow, shrink, move or appear; limits below, at and
 * above the room vpnd started with); unchanged lists that differ only
 * past their count or in padding are no change; several changes come in
 * file order; and the merge takes exactly the applied options from the
 * new file, keeping the running keys and restart-only values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <syslog.h>

#include "../../vpnd/reload.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct reload_room room = { .max_peers = 1024,
					 .max_pending = 1024 };

static struct prefix
pfx(const char *text)
{
	struct prefix p;

	assert_true(prefix_parse(text, &p));
	return p;
}

/* A running configuration, as a file with the usual options gives it. */
static void
running(struct vpnd_config *c)
{
	vpnd_config_defaults(c);
	snprintf(c->path, sizeof(c->path), "/etc/vpnd/vpnd.conf");
	snprintf(c->private_key_file, sizeof(c->private_key_file),
		 "/etc/vpnd/private.key");
	memset(c->private_key, 0x11, sizeof(c->private_key));
	memset(c->public_key, 0x22, sizeof(c->public_key));
	c->has_pool4 = true;
	c->pool4 = pfx("10.99.0.0/24");
	c->has_pool6 = true;
	c->pool6 = pfx("fd00:99::/64");
	c->routes[0] = pfx("10.20.0.0/24");
	c->routes[1] = pfx("fd00:20::/64");
	c->n_routes = 2;
	c->dns[0] = pfx("10.20.0.53/32");
	c->n_dns = 1;
	snprintf(c->dns_search[0], sizeof(c->dns_search[0]), "corp.example");
	c->n_dns_search = 1;
}

static void
plan_of(const struct vpnd_config *a, const struct vpnd_config *b,
	struct reload_plan *plan)
{
	reload_plan(a, b, &room, plan);
}

/* ---- every option has a rule ------------------------------------------- */

/* Each "name =" or "#name =" at the start of a line of the sample. */
static void
test_every_sample_option_has_a_rule(void **state)
{
	FILE *f = fopen("conf/vpnd.conf", "r");
	char line[512], name[64];
	unsigned int n = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		const char *p = line[0] == '#' ? line + 1 : line;

		if (sscanf(p, "%63[a-z0-9-] =", name) != 1 ||
		    !strstr(p, " ="))
			continue;
		if (reload_option_rule(name) == RELOAD_RULE_UNKNOWN)
			fail_msg("conf/vpnd.conf option %s has no reload rule "
				 "(vpnd/reload.c's table)", name);
		n++;
	}
	fclose(f);
	/* The sample documents every option; most of them are there. */
	assert_true(n >= 30);
	assert_int_equal(reload_option_rule("no-such-option"),
			 RELOAD_RULE_UNKNOWN);
}

/* ---- single changes -------------------------------------------------------- */

static void
test_nothing_changed(void **state)
{
	struct vpnd_config a, b;
	struct reload_plan plan;

	(void)state;
	running(&a);
	running(&b);
	/* What a list holds past its count, and the padding of a prefix,
	 * are not the configuration. */
	b.routes[5] = pfx("192.0.2.0/24");
	memset(b.dns_search[3], 'x', 8);
	memset((uint8_t *)&b.routes[0] + offsetof(struct prefix, len) + 1,
	       0x55, sizeof(struct prefix) - offsetof(struct prefix, len) - 1);
	/* The keys are read at start only. */
	memset(b.private_key, 0, sizeof(b.private_key));
	plan_of(&a, &b, &plan);
	assert_int_equal(plan.n, 0);
}

typedef void (*mutate_fn)(struct vpnd_config *c);

static void m_port(struct vpnd_config *c) { c->listen_port = 51901; }
static void m_iface(struct vpnd_config *c) { strcpy(c->interface, "vpn7"); }
static void m_key(struct vpnd_config *c) { strcpy(c->private_key_file, "k"); }
static void m_psk(struct vpnd_config *c) { strcpy(c->psk_file, "p"); }
static void m_mtu(struct vpnd_config *c) { c->mtu = 1400; }
static void m_db(struct vpnd_config *c) { strcpy(c->user_db, "/x.db"); }
static void m_sock(struct vpnd_config *c) { strcpy(c->control_socket, "/s"); }
static void m_group(struct vpnd_config *c) { strcpy(c->control_group, "adm"); }
static void m_workers(struct vpnd_config *c) { c->auth_workers = 4; }
static void m_queue(struct vpnd_config *c) { c->auth_queue = 8; }
static void m_log(struct vpnd_config *c) { c->log_syslog = true; }
static void m_divisor(struct vpnd_config *c) { c->test_timer_divisor = 10; }
static void m_mtext(struct vpnd_config *c) { strcpy(c->metrics_textfile, "/m"); }
static void m_mevery(struct vpnd_config *c) { c->metrics_interval_s = 60; }

static void
m_mlisten(struct vpnd_config *c)
{
	struct sockaddr_in *a = (struct sockaddr_in *)&c->metrics_listen;

	c->has_metrics_listen = true;
	a->sin_family = AF_INET;
	a->sin_port = htons(9108);
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static void
m_mport(struct vpnd_config *c)
{
	m_mlisten(c);
	((struct sockaddr_in *)&c->metrics_listen)->sin_port = htons(9109);
}

static void
m_route_added(struct vpnd_config *c)
{
	c->routes[c->n_routes++] = pfx("10.30.0.0/24");
}

static void
m_route_changed(struct vpnd_config *c)
{
	c->routes[1] = pfx("fd00:21::/64");
}

static void
m_routes_none(struct vpnd_config *c)
{
	c->n_routes = 0;
}

static void m_dns(struct vpnd_config *c) { c->dns[0] = pfx("10.20.0.54/32"); }
static void m_search(struct vpnd_config *c) { c->dns_search[0][0] = 'k'; }
static void m_keepalive(struct vpnd_config *c) { c->keepalive_s = 10; }
static void m_lifetime(struct vpnd_config *c) { c->session_lifetime_s = 60; }
static void m_window(struct vpnd_config *c) { c->totp_window = 2; }
static void m_failures(struct vpnd_config *c) { c->lockout_failures = 3; }
static void m_locktime(struct vpnd_config *c) { c->lockout_time_s = 5; }
static void m_lockmax(struct vpnd_config *c) { c->lockout_max_time_s = 99; }
static void m_delay(struct vpnd_config *c) { c->failure_delay_ms = 10; }
static void m_per_src(struct vpnd_config *c) { c->auth_per_source = 9; }
static void m_decay(struct vpnd_config *c) { c->lockout_source_decay_s = 9; }
static void m_issuer(struct vpnd_config *c) { strcpy(c->totp_issuer, "Co"); }
static void m_rate(struct vpnd_config *c) { c->handshake_rate = 5; }
static void m_srate(struct vpnd_config *c) { c->source_handshake_rate = 0; }
static void m_level(struct vpnd_config *c) { c->log_level = LOG_DEBUG; }
static void m_pend_src(struct vpnd_config *c) { c->max_pending_per_source = 2; }
static void m_peers_lower(struct vpnd_config *c) { c->max_peers = 10; }
static void m_peers_above(struct vpnd_config *c) { c->max_peers = 1025; }
static void m_pend_lower(struct vpnd_config *c) { c->max_pending = 1; }
static void m_pend_above(struct vpnd_config *c) { c->max_pending = 4096; }

static void m_grow4(struct vpnd_config *c) { c->pool4 = pfx("10.99.0.0/23"); }
static void m_grow4_far(struct vpnd_config *c) { c->pool4 = pfx("10.0.0.0/8"); }
static void m_shrink4(struct vpnd_config *c) { c->pool4 = pfx("10.99.0.0/25"); }
static void m_move4(struct vpnd_config *c) { c->pool4 = pfx("10.98.0.0/24"); }
static void m_grow6(struct vpnd_config *c) { c->pool6 = pfx("fd00:98::/63"); }
static void m_grow6_far(struct vpnd_config *c) { c->pool6 = pfx("fd00::/16"); }
static void m_drop4(struct vpnd_config *c) { c->has_pool4 = false; }

static void
test_single_changes(void **state)
{
	static const struct {
		mutate_fn mutate;
		const char *option;
		enum reload_verdict verdict;
	} v[] = {
		{ m_port, "listen-port", RELOAD_RESTART },
		{ m_iface, "interface", RELOAD_RESTART },
		{ m_key, "private-key-file", RELOAD_RESTART },
		{ m_psk, "preshared-key-file", RELOAD_RESTART },
		{ m_mtu, "mtu", RELOAD_RESTART },
		{ m_db, "user-db", RELOAD_RESTART },
		{ m_sock, "control-socket", RELOAD_RESTART },
		{ m_group, "control-group", RELOAD_RESTART },
		{ m_workers, "auth-workers", RELOAD_RESTART },
		{ m_queue, "auth-queue", RELOAD_RESTART },
		{ m_log, "log", RELOAD_RESTART },
		{ m_divisor, "test-timer-divisor", RELOAD_RESTART },
		{ m_mlisten, "metrics-listen", RELOAD_RESTART },
		{ m_mtext, "metrics-textfile", RELOAD_RESTART },
		{ m_mevery, "metrics-interval", RELOAD_RESTART },
		{ m_route_added, "routes", RELOAD_APPLY },
		{ m_route_changed, "routes", RELOAD_APPLY },
		{ m_routes_none, "routes", RELOAD_APPLY },
		{ m_dns, "dns", RELOAD_APPLY },
		{ m_search, "dns-search", RELOAD_APPLY },
		{ m_keepalive, "keepalive", RELOAD_APPLY },
		{ m_lifetime, "session-lifetime", RELOAD_APPLY },
		{ m_window, "totp-window", RELOAD_APPLY },
		{ m_failures, "lockout-failures", RELOAD_APPLY },
		{ m_locktime, "lockout-time", RELOAD_APPLY },
		{ m_lockmax, "lockout-max-time", RELOAD_APPLY },
		{ m_delay, "failure-delay", RELOAD_APPLY },
		{ m_per_src, "auth-per-source", RELOAD_APPLY },
		{ m_decay, "lockout-source-decay", RELOAD_APPLY },
		{ m_issuer, "totp-issuer", RELOAD_APPLY },
		{ m_rate, "handshake-rate", RELOAD_APPLY },
		{ m_srate, "source-handshake-rate", RELOAD_APPLY },
		{ m_level, "log-level", RELOAD_APPLY },
		{ m_pend_src, "max-pending-per-source", RELOAD_APPLY },
		{ m_peers_lower, "max-peers", RELOAD_APPLY },
		{ m_peers_above, "max-peers", RELOAD_RESTART },
		{ m_pend_lower, "max-pending", RELOAD_APPLY },
		{ m_pend_above, "max-pending", RELOAD_RESTART },
		{ m_grow4, "address-pool4", RELOAD_APPLY },
		{ m_grow4_far, "address-pool4", RELOAD_RESTART },
		{ m_shrink4, "address-pool4", RELOAD_RESTART },
		{ m_move4, "address-pool4", RELOAD_RESTART },
		{ m_drop4, "address-pool4", RELOAD_RESTART },
		{ m_grow6, "address-pool6", RELOAD_RESTART },
		{ m_grow6_far, "address-pool6", RELOAD_RESTART },
	};
	struct vpnd_config a, b;
	struct reload_plan plan;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		running(&a);
		running(&b);
		v[i].mutate(&b);
		plan_of(&a, &b, &plan);
		if (plan.n != 1 || strcmp(plan.change[0].option, v[i].option) ||
		    plan.change[0].verdict != v[i].verdict)
			fail_msg("case %zu (%s): %u changes, first %s %s", i,
				 v[i].option, plan.n,
				 plan.n ? plan.change[0].option : "-",
				 plan.n && plan.change[0].verdict ==
						   RELOAD_APPLY
					 ? "apply"
					 : "restart");
	}
}

/* Pools beyond the single changes above: the server's address decides. */
static void
test_pools(void **state)
{
	static const struct {
		const char *from, *to;
		enum reload_verdict verdict;
	} v[] = {
		{ "10.99.0.0/24", "10.99.0.0/23", RELOAD_APPLY },
		{ "10.99.0.0/24", "10.99.0.0/16", RELOAD_APPLY },
		{ "10.99.0.0/24", "10.0.0.0/8", RELOAD_RESTART },  /* 10.0.0.1 */
		/* The server's address would move: 10.99.1.1 to 10.99.0.1. */
		{ "10.99.1.0/24", "10.99.0.0/23", RELOAD_RESTART },
		{ "10.99.0.0/23", "10.99.0.0/24", RELOAD_RESTART },
		{ "10.99.0.0/24", "10.99.1.0/24", RELOAD_RESTART },
		{ "fd00:99::/64", "fd00:99::/48", RELOAD_APPLY },
		{ "fd00:99::/64", "fd00:99::/80", RELOAD_RESTART },
		{ "fd00:99:0:1::/64", "fd00:99::/48", RELOAD_RESTART },
	};
	struct vpnd_config a, b;
	struct reload_plan plan;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		struct prefix from = pfx(v[i].from), to = pfx(v[i].to);
		bool v6 = from.family == AF_INET6;

		running(&a);
		*(v6 ? &a.pool6 : &a.pool4) = from;
		b = a;
		*(v6 ? &b.pool6 : &b.pool4) = to;
		plan_of(&a, &b, &plan);
		assert_int_equal(plan.n, 1);
		assert_string_equal(plan.change[0].option,
				    v6 ? "address-pool6" : "address-pool4");
		if (plan.change[0].verdict != v[i].verdict)
			fail_msg("%s -> %s: wrong verdict", v[i].from,
				 v[i].to);
	}
	/* A pool appearing needs a restart (the device has no address). */
	running(&a);
	a.has_pool6 = false;
	running(&b);
	plan_of(&a, &b, &plan);
	assert_int_equal(plan.n, 1);
	assert_int_equal(plan.change[0].verdict, RELOAD_RESTART);
}

/* A listening address: the same one is no change, another port is. */
static void
test_metrics_listen(void **state)
{
	struct vpnd_config a, b;
	struct reload_plan plan;

	(void)state;
	running(&a);
	m_mlisten(&a);
	running(&b);
	m_mlisten(&b);
	plan_of(&a, &b, &plan);
	assert_int_equal(plan.n, 0);
	m_mport(&b);
	plan_of(&a, &b, &plan);
	assert_int_equal(plan.n, 1);
	assert_string_equal(plan.change[0].option, "metrics-listen");
	assert_int_equal(plan.change[0].verdict, RELOAD_RESTART);
}

/* Limits may come back up to the room vpnd started with, not past it. */
static void
test_room(void **state)
{
	static const struct {
		unsigned int from, to;
		enum reload_verdict verdict;
	} v[] = {
		{ 1024, 1, RELOAD_APPLY }, { 1, 1024, RELOAD_APPLY },
		{ 1, 1025, RELOAD_RESTART }, { 1024, 65536, RELOAD_RESTART },
		{ 500, 600, RELOAD_APPLY },
	};
	struct vpnd_config a, b;
	struct reload_plan plan;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		running(&a);
		a.max_peers = a.max_pending = v[i].from;
		b = a;
		b.max_peers = b.max_pending = v[i].to;
		plan_of(&a, &b, &plan);
		assert_int_equal(plan.n, 2);
		assert_string_equal(plan.change[0].option, "max-peers");
		assert_string_equal(plan.change[1].option, "max-pending");
		assert_int_equal(plan.change[0].verdict, v[i].verdict);
		assert_int_equal(plan.change[1].verdict, v[i].verdict);
	}
}

/* ---- several changes, and the merge ---------------------------------------- */

static void
test_several_in_file_order(void **state)
{
	static const char *const want[] = {
		"listen-port", "address-pool4", "max-peers", "routes",
		"lockout-failures", "log-level",
	};
	struct vpnd_config a, b;
	struct reload_plan plan;
	size_t i;

	(void)state;
	running(&a);
	running(&b);
	m_level(&b);
	m_failures(&b);
	m_route_added(&b);
	m_peers_above(&b);
	m_grow4(&b);
	m_port(&b);
	plan_of(&a, &b, &plan);
	assert_int_equal(plan.n, ARRAY_SIZE(want));
	for (i = 0; i < ARRAY_SIZE(want); i++)
		assert_string_equal(plan.change[i].option, want[i]);
}

static void
test_merge(void **state)
{
	struct vpnd_config a, b, out;
	struct reload_plan plan;
	uint8_t key[KEY_LEN];
	unsigned int i;

	(void)state;
	running(&a);
	running(&b);
	/* The new file: no keys loaded (a reload reads none), and lines of
	 * its own. */
	memset(b.private_key, 0, sizeof(b.private_key));
	memset(b.public_key, 0, sizeof(b.public_key));
	b.lines.n = 1;
	b.lines.seen[0].option = "routes";
	b.lines.seen[0].line = 42;
	m_port(&b);
	m_route_added(&b);
	m_grow4(&b);
	m_peers_above(&b);
	m_pend_lower(&b);
	m_level(&b);
	m_mtu(&b);
	m_search(&b);
	plan_of(&a, &b, &plan);
	reload_merge(&out, &a, &b, &plan);

	/* Applied: from the new file. */
	assert_int_equal(out.n_routes, 3);
	assert_int_equal(out.routes[2].len, 24);
	assert_true(out.pool4.len == 23 && out.has_pool4);
	assert_int_equal(out.max_pending, 1);
	assert_int_equal(out.log_level, LOG_DEBUG);
	assert_string_equal(out.dns_search[0], "korp.example");
	/* Restart-only, or over the room: the running values. */
	assert_int_equal(out.listen_port, a.listen_port);
	assert_int_equal(out.max_peers, a.max_peers);
	assert_int_equal(out.mtu, a.mtu);
	/* The keys stay the running ones; the lines are the new file's. */
	memset(key, 0x11, sizeof(key));
	assert_memory_equal(out.private_key, key, sizeof(key));
	assert_int_equal(conf_line(&out.lines, "routes"), 42);
	/* And what is merged is itself no change against the new file's
	 * applied part: planning again applies nothing more. */
	plan_of(&out, &b, &plan);
	for (i = 0; i < plan.n; i++)
		assert_int_equal(plan.change[i].verdict, RELOAD_RESTART);
	assert_int_equal(plan.n, 3); /* listen-port, max-peers, mtu */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_sample_option_has_a_rule),
		cmocka_unit_test(test_nothing_changed),
		cmocka_unit_test(test_single_changes),
		cmocka_unit_test(test_pools),
		cmocka_unit_test(test_metrics_listen),
		cmocka_unit_test(test_room),
		cmocka_unit_test(test_several_in_file_order),
		cmocka_unit_test(test_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
