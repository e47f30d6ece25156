// SPDX-License-Identifier: MIT
/*
 * resolver.c: the requests' codec (round trips, every length but the
 * right one refused, and a table of what the helper refuses: another
 * interface, a name that only looks like vpn%d's, an address family or
 * count it does not know, a name no DNS has, a byte too many); then a
 * live helper running a stand-in resolvconf (a script that writes down
 * its arguments and input): DNS set and cleared for the device, nothing
 * for dns = "none" or nothing pushed, and what each dns mode does when
 * resolvconf is missing or fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../vpnc/resolver.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void
fill(struct netconf *nc)
{
	memset(nc, 0, sizeof(*nc));
	nc->dns[0].family = AF_INET;
	inet_pton(AF_INET, "10.20.0.53", nc->dns[0].addr);
	nc->dns[0].len = 32;
	nc->dns[1].family = AF_INET6;
	inet_pton(AF_INET6, "fd00:20::53", nc->dns[1].addr);
	nc->dns[1].len = 128;
	nc->n_dns = 2;
	snprintf(nc->search[0], sizeof(nc->search[0]), "office.test");
	snprintf(nc->search[1], sizeof(nc->search[1]), "corp.example");
	nc->n_search = 2;
}

/* ---- codec ------------------------------------------------------------------ */

static void
test_round_trip(void **state)
{
	struct resolver_request r = { .op = RESOLVER_SET }, back;
	uint8_t buf[1024];
	size_t len, n;

	(void)state;
	snprintf(r.ifname, sizeof(r.ifname), "vpn3");
	fill(&r.nc);
	len = resolver_request_encode(&r, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(resolver_request_decode(RESOLVER_SET, buf, len,
						 "vpn%d", &back),
			 0);
	assert_string_equal(back.ifname, "vpn3");
	assert_int_equal(back.nc.n_dns, 2);
	assert_int_equal(back.nc.dns[0].family, AF_INET);
	assert_memory_equal(back.nc.dns[0].addr, r.nc.dns[0].addr, 4);
	assert_int_equal(back.nc.dns[1].family, AF_INET6);
	assert_memory_equal(back.nc.dns[1].addr, r.nc.dns[1].addr, 16);
	assert_int_equal(back.nc.n_search, 2);
	assert_string_equal(back.nc.search[1], "corp.example");
	for (n = 0; n < len + 2; n++)
		if (n != len)
			assert_int_equal(resolver_request_decode(RESOLVER_SET,
								 buf, n,
								 "vpn%d",
								 &back),
					 -EPROTO);
	/* Too small a buffer: nothing. */
	assert_int_equal(resolver_request_encode(&r, buf, len - 1), 0);
	/* CLEAR carries the interface alone. */
	r.op = RESOLVER_CLEAR;
	len = resolver_request_encode(&r, buf, sizeof(buf));
	assert_int_equal(len, 5);
	assert_int_equal(resolver_request_decode(RESOLVER_CLEAR, buf, len,
						 "vpn3", &back),
			 0);
	assert_int_equal(resolver_request_decode(3, buf, len, "vpn3", &back),
			 -EPROTO);
}

static void
test_refusals(void **state)
{
	static const struct {
		const char *iface;
		uint8_t b[40];
		size_t len;
		const char *why;
	} v[] = {
		{ "vpn0", { 4, 'e', 't', 'h', '0', 0, 0 }, 7,
		  "another interface" },
		{ "vpn%d", { 3, 'v', 'p', 'n', 0, 0 }, 6, "no number" },
		{ "vpn%d", { 4, 'v', 'p', 'n', 'x', 0, 0 }, 7, "not a number" },
		{ "vpn%d", { 5, 'x', 'v', 'p', 'n', '1', 0, 0 }, 8,
		  "another prefix" },
		{ "vpn0", { 0, 0, 0 }, 3, "no interface" },
		{ "vpn0", { 4, 'v', 'p', 'n', '0', 1, 5, 1, 2, 3, 4, 0 }, 12,
		  "family 5" },
		{ "vpn0", { 4, 'v', 'p', 'n', '0', 1, 4, 1, 2, 3 }, 10,
		  "an address cut short" },
		{ "vpn0", { 4, 'v', 'p', 'n', '0', 9 }, 6, "nine servers" },
		{ "vpn0", { 4, 'v', 'p', 'n', '0', 0, 9 }, 7, "nine domains" },
		{ "vpn0", { 4, 'v', 'p', 'n', '0', 0, 1, 3, 'a', '_', 'b' }, 11,
		  "a domain with '_'" },
		{ "vpn0", { 4, 'v', 'p', 'n', '0', 0, 1, 0 }, 8,
		  "an empty domain" },
		{ "vpn0", { 4, 'v', 'p', 'n', '0', 0, 1, 4, 'a', '.', 'b' }, 11,
		  "a domain past the message" },
		{ "vpn0", { 4, 'v', 'p', 'n', '0', 0, 0, 0 }, 8,
		  "a byte after the request" },
	};
	struct resolver_request r;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++)
		if (resolver_request_decode(RESOLVER_SET, v[i].b, v[i].len,
					    v[i].iface, &r) != -EPROTO)
			fail_msg("%s: accepted", v[i].why);
}

/* ---- a live helper -------------------------------------------------------------- */

struct fixture {
	char dir[64];
	char script[96];
	char log[96];
	const char *paths[2];
	struct vpnc_config cfg;
};

static void
write_script(struct fixture *f, int status)
{
	FILE *fp = fopen(f->script, "w");

	assert_non_null(fp);
	fprintf(fp, "#!/bin/sh\n{ echo \"args: $*\"; cat; echo --; } >>%s\n"
		    "exit %d\n",
		f->log, status);
	fclose(fp);
	assert_int_equal(chmod(f->script, 0755), 0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-resolver.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->script, sizeof(f->script), "%s/resolvconf", f->dir);
	snprintf(f->log, sizeof(f->log), "%s/log", f->dir);
	write_script(f, 0);
	f->paths[0] = f->script;
	snprintf(f->cfg.interface, sizeof(f->cfg.interface), "vpn%%d");
	assert_int_equal(resolver_start(&f->cfg, f->paths), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	resolver_stop();
	unlink(f->script);
	unlink(f->log);
	rmdir(f->dir);
	free(f);
	return 0;
}

static char *
read_log(const struct fixture *f)
{
	static char text[4096];
	FILE *fp = fopen(f->log, "r");
	size_t n = 0;

	text[0] = '\0';
	if (fp) {
		n = fread(text, 1, sizeof(text) - 1, fp);
		fclose(fp);
	}
	text[n] = '\0';
	unlink(f->log);
	return text;
}

static void
test_set_and_clear(void **state)
{
	struct fixture *f = *state;
	struct netconf nc;

	fill(&nc);
	assert_int_equal(resolver_apply("vpn7", &nc, VPNC_DNS_AUTO), 0);
	assert_string_equal(read_log(f),
			    "args: -a vpn7 -m 0 -x\n"
			    "nameserver 10.20.0.53\n"
			    "nameserver fd00:20::53\n"
			    "search office.test corp.example\n"
			    "--\n");
	/* Another device than the one it applied for: nothing. */
	resolver_remove("vpn8");
	assert_string_equal(read_log(f), "");
	resolver_remove("vpn7");
	assert_string_equal(read_log(f), "args: -d vpn7 -f\n--\n");
	resolver_remove("vpn7");
	assert_string_equal(read_log(f), "");
}

static void
test_nothing_to_do(void **state)
{
	struct fixture *f = *state;
	struct netconf nc;

	fill(&nc);
	assert_int_equal(resolver_apply("vpn7", &nc, VPNC_DNS_NONE), 0);
	memset(&nc, 0, sizeof(nc));
	assert_int_equal(resolver_apply("vpn7", &nc, VPNC_DNS_RESOLVCONF), 0);
	resolver_remove("vpn7");
	assert_string_equal(read_log(f), "");
}

static void
test_refused_by_the_helper(void **state)
{
	struct fixture *f = *state;
	struct netconf nc;

	fill(&nc);
	/* Not a name vpn%d gives: the helper refuses, resolvconf never
	 * runs; "auto" goes on, "resolvconf" fails. */
	assert_int_equal(resolver_apply("eth0", &nc, VPNC_DNS_AUTO), 0);
	assert_int_equal(resolver_apply("eth0", &nc, VPNC_DNS_RESOLVCONF),
			 -EPROTO);
	assert_string_equal(read_log(f), "");
}

static void
test_resolvconf_fails(void **state)
{
	struct fixture *f = *state;
	struct netconf nc;

	fill(&nc);
	write_script(f, 1);
	assert_int_equal(resolver_apply("vpn7", &nc, VPNC_DNS_AUTO), 0);
	assert_int_equal(resolver_apply("vpn7", &nc, VPNC_DNS_RESOLVCONF),
			 -EIO);
	/* Never applied: nothing to take back. */
	read_log(f);
	resolver_remove("vpn7");
	assert_string_equal(read_log(f), "");
	/* Not installed. */
	unlink(f->script);
	assert_int_equal(resolver_apply("vpn7", &nc, VPNC_DNS_AUTO), 0);
	assert_int_equal(resolver_apply("vpn7", &nc, VPNC_DNS_RESOLVCONF),
			 -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test_setup_teardown(test_set_and_clear, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nothing_to_do, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refused_by_the_helper,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolvconf_fails, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
