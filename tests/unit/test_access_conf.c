// SPDX-License-Identifier: MIT
/*
 * vpnd.conf's access options (config.c, with access.c underneath):
 * client-to-client, group and access sections load into the rules they
 * state (a group named before its section, a rule's users, groups and
 * allow entries in file order); each kind of mistake is refused with the
 * file, the line and what is wrong (an unknown group, a rule naming
 * nobody, a name vpnd keeps for itself, a malformed entry or name, a
 * duplicate section, client-to-client not yes or no); a refused file
 * leaves no rules behind. Then reload.c's view: a changed rule, group or
 * client-to-client is one LIVE change, an unchanged file none, and the
 * merge hands the fresh rules over.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../vpnd/access.h"
#include "../../vpnd/config.h"
#include "../../vpnd/reload.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static char dir[64];
static char err[8192];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_access_conf.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char head[] =
	"private-key-file = \"/nonexistent/private.key\"\n" /* line 1 */
	"address-pool4 = \"10.99.0.0/24\"\n"                /* line 2 */
	"routes = {\"10.20.0.0/16\"}\n";                    /* line 3 */

/* Loads head + body as vpnctl would (no key read); stderr into err. */
static bool
load(const char *body, struct vpnd_config *c)
{
	char path[128], errpath[128];
	int fd, saved;
	ssize_t n;
	bool ok;
	FILE *f;

	snprintf(path, sizeof(path), "%s/vpnd.conf", dir);
	snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(head, f);
	fputs(body, f);
	assert_int_equal(fclose(f), 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(errpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
	vpnd_config_defaults(c);
	ok = vpnd_config_load_admin(c, path);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	fd = open(errpath, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, err, sizeof(err) - 1);
	err[n > 0 ? n : 0] = '\0';
	close(fd);
	return ok;
}

static const char rules[] =
	"client-to-client = yes\n"                                   /* 4 */
	"access \"web\" {\n"                                         /* 5 */
	"\tgroups = {\"eng\"}\n"                                     /* 6 */
	"\tusers = {\"carol\"}\n"                                    /* 7 */
	"\tallow = {\"10.20.0.0/24 tcp/80,443\", \"10.20.0.53 udp/53\"}\n"
	"}\n"
	"group \"eng\" {\n"
	"\tusers = {\"alice\", \"bob\"}\n"
	"}\n"
	"access \"nothing\" {\n"
	"\tusers = {\"erin\"}\n"
	"}\n";

static void
test_loads(void **state)
{
	struct vpnd_config c;
	const struct access_config *a;
	const struct access_group_spec *g;

	(void)state;
	if (!load(rules, &c))
		fail_msg("refused: %s", err);
	assert_string_equal(err, "");
	assert_true(c.client_to_client);
	a = c.access;
	assert_non_null(a);
	assert_int_equal(a->n_groups, 1);
	assert_int_equal(a->n_rules, 2);
	g = access_config_group(a, "eng");
	assert_non_null(g);
	assert_int_equal(g->n_users, 2);
	assert_string_equal(a->names[g->first_user], "alice");
	assert_string_equal(a->names[g->first_user + 1], "bob");
	assert_string_equal(a->rules[0].name, "web");
	assert_int_equal(a->rules[0].n_users, 1);
	assert_string_equal(a->names[a->rules[0].first_user], "carol");
	assert_int_equal(a->rules[0].n_groups, 1);
	assert_string_equal(a->names[a->rules[0].first_group], "eng");
	assert_int_equal(a->rules[0].n_allows, 2);
	assert_int_equal(a->allows[0].prefix.len, 24);
	assert_int_equal(a->allows[0].n_items, 2);
	assert_int_equal(a->items[a->allows[0].first_item + 1].lo, 443);
	assert_int_equal(a->allows[1].prefix.len, 32);
	assert_string_equal(a->rules[1].name, "nothing");
	assert_int_equal(a->rules[1].n_allows, 0);
	vpnd_config_wipe(&c);
	assert_null(c.access);

	/* None at all: no rules, client-to-client off. */
	assert_true(load("", &c));
	assert_false(c.client_to_client);
	assert_null(c.access);
	vpnd_config_wipe(&c);
}

static void
test_refused(void **state)
{
	static const struct {
		const char *body;
		const char *want; /* in the message */
	} v[] = {
		{ "access \"web\" {\n\tgroups = {\"eng\"}\n}\n",
		  "vpnd.conf:5: access \"web\": groups: \"eng\" is not a group" },
		{ "access \"web\" {\n\tallow = {\"10.20.0.0/24\"}\n}\n",
		  "access \"web\": names no users and no groups" },
		{ "access \"no-rule\" {\n\tusers = {\"a\"}\n}\n",
		  "access \"no-rule\": the name is vpnd's own" },
		{ "access \"client-to-client\" {\n\tusers = {\"a\"}\n}\n",
		  "the name is vpnd's own" },
		{ "access \"web\" {\n\tusers = {\"a\"}\n"
		  "\tallow = {\"10.20.0.1/24 tcp/80\"}\n}\n",
		  "vpnd.conf:6: allow: \"10.20.0.1/24 tcp/80\": 10.20.0.1/24 has "
		  "host bits set" },
		{ "access \"web\" {\n\tusers = {\"a\"}\n"
		  "\tallow = {\"10.20.0.0/24 http\"}\n}\n",
		  "http is not tcp, udp or icmp" },
		{ "access \"web\" {\n\tusers = {\"a b\"}\n}\n",
		  "vpnd.conf:5: users: \"a b\" is not a name" },
		{ "group \"-eng\" {\n\tusers = {\"a\"}\n}\n",
		  "group \"-eng\": not a name" },
		{ "access \"web\" {\n\tusers = {\"a\"}\n}\n"
		  "access \"web\" {\n\tusers = {\"b\"}\n}\n",
		  "vpnd.conf:7: found duplicate title 'web'" },
		{ "client-to-client = maybe\n",
		  "vpnd.conf:4: client-to-client: maybe is not yes or no" },
	};
	struct vpnd_config c;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		if (load(v[i].body, &c))
			fail_msg("case %zu accepted", i);
		if (!strstr(err, v[i].want))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
				 v[i].want);
		/* Nothing is left to free. */
		assert_null(c.access);
	}
}

/* reload.c: what a changed file means for the running rules. */
static void
test_reload(void **state)
{
	struct vpnd_config running, fresh, merged;
	struct reload_plan plan;
	char body[1024];

	(void)state;
	assert_int_equal(reload_option_rule("access"), RELOAD_RULE_LIVE);
	assert_int_equal(reload_option_rule("client-to-client"),
			 RELOAD_RULE_LIVE);
	assert_true(load(rules, &running));

	/* The same file: nothing changes. */
	assert_true(load(rules, &fresh));
	reload_plan(&running, &fresh, &(struct reload_room){ 1024, 1024 },
		    &plan);
	assert_int_equal(plan.n, 0);
	vpnd_config_wipe(&fresh);

	/* A port, a group's member, a rule's name: each is "access". */
	static const char *const edits[][2] = {
		{ "tcp/80,443", "tcp/80,444" },
		{ "\"alice\", \"bob\"", "\"alice\"" },
		{ "\"nothing\"", "\"none\"" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(edits); i++) {
		const char *at = strstr(rules, edits[i][0]);

		assert_non_null(at);
		snprintf(body, sizeof(body), "%.*s%s%s", (int)(at - rules),
			 rules, edits[i][1], at + strlen(edits[i][0]));
		assert_true(load(body, &fresh));
		reload_plan(&running, &fresh,
			    &(struct reload_room){ 1024, 1024 }, &plan);
		assert_int_equal(plan.n, 1);
		assert_string_equal(plan.change[0].option, "access");
		assert_int_equal(plan.change[0].verdict, RELOAD_APPLY);
		vpnd_config_wipe(&fresh);
	}

	/* client-to-client off, and the rules gone: two changes; the merge
	 * takes fresh's (none). */
	assert_true(load("client-to-client = no\n", &fresh));
	reload_plan(&running, &fresh, &(struct reload_room){ 1024, 1024 },
		    &plan);
	assert_int_equal(plan.n, 2);
	reload_merge(&merged, &running, &fresh, &plan);
	assert_false(merged.client_to_client);
	assert_null(merged.access);
	vpnd_config_wipe(&fresh);
	vpnd_config_wipe(&running);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loads),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_reload),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
