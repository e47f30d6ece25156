// SPDX-License-Identifier: MIT
/*
 * `vpnctl user subnets NAME [PREFIX...|--clear] [--json]`: the LAN
 * subnets behind a site account's gateway, which vpnd routes into that
 * account's session (issue 13: site-to-site). Shown without prefixes,
 * replaced whole with them. A subnet is refused with its reason when it
 * has host bits, belongs to another account, overlaps another account's
 * or the server's address pools: two owners for one address would break
 * cryptokey routing, which must say who an address belongs to.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "prefix.h"
#include "cmd_user.h"
#include "userdb.h"
#include "vpnctl.h"

struct others {
	const char *user;
	const struct prefix *wanted;
	size_t n;
	const char *clash_user;
	struct prefix clash_mine, clash_theirs;
};

static bool
overlap(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family &&
	       (prefix_contains(a, b->family, b->addr) ||
		prefix_contains(b, a->family, a->addr));
}

/* Another account's subnet that overlaps one we want: stop the walk. */
static int
check_other(void *arg, const char *user, const struct prefix *p)
{
	struct others *o = arg;
	size_t i;

	if (strcmp(user, o->user) == 0)
		return 0;
	for (i = 0; i < o->n; i++)
		if (overlap(&o->wanted[i], p)) {
			o->clash_user = strdup(user);
			o->clash_mine = o->wanted[i];
			o->clash_theirs = *p;
			return -EEXIST;
		}
	return 0;
}

/* Each wanted subnet: a network, not overlapping the address pools. */
static bool
subnets_valid(const struct prefix *p, size_t n)
{
	const struct vpnd_config *c = vpnctl_config_from_file()
					      ? vpnctl_config()
					      : NULL;
	char text[PREFIX_STR_LEN], pool[PREFIX_STR_LEN];
	struct prefix net;
	size_t i, j;

	for (i = 0; i < n; i++) {
		net = p[i];
		prefix_mask(&net);
		if (memcmp(net.addr, p[i].addr, sizeof(net.addr)) != 0)
			return !vpnctl_error("subnets: %s has host bits set "
					     "(the network is %s)",
					     prefix_format(&p[i], text),
					     prefix_format(&net, pool));
		for (j = 0; j < i; j++)
			if (overlap(&p[i], &p[j]))
				return !vpnctl_error(
					"subnets: %s overlaps %s",
					prefix_format(&p[i], text),
					prefix_format(&p[j], pool));
		if (c && ((c->has_pool4 && overlap(&p[i], &c->pool4)) ||
			  (c->has_pool6 && overlap(&p[i], &c->pool6))))
			return !vpnctl_error(
				"subnets: %s overlaps an address pool of "
				"vpnd.conf", prefix_format(&p[i], text));
	}
	return true;
}

static int
show(const char *name, bool json)
{
	struct prefix p[USERDB_SUBNETS_MAX];
	struct userdb *db = vpnctl_store();
	char text[PREFIX_STR_LEN];
	struct userdb_user u;
	size_t n, i;

	if (!db)
		return VPNCTL_EXIT_FAIL;
	if (userdb_user_get(db, name, &u) < 0)
		return vpnctl_error("user '%s' does not exist", name);
	if (userdb_subnets_get(db, name, p, USERDB_SUBNETS_MAX, &n) < 0)
		return vpnctl_error("cannot read the subnets of '%s'", name);
	if (json)
		putchar('[');
	for (i = 0; i < n; i++) {
		if (json) {
			printf("%s", i ? ", " : "");
			vpnctl_json_string(stdout, prefix_format(&p[i], text));
		} else {
			printf("%s\n", prefix_format(&p[i], text));
		}
	}
	if (json)
		printf("]\n");
	return VPNCTL_EXIT_OK;
}

static int
replace(const char *name, const struct prefix *p, size_t n)
{
	struct others o = { .user = name, .wanted = p, .n = n };
	char mine[PREFIX_STR_LEN], theirs[PREFIX_STR_LEN];
	struct userdb *db = vpnctl_store();
	struct userdb_user u;
	int ret;

	if (!db)
		return VPNCTL_EXIT_FAIL;
	if (userdb_user_get(db, name, &u) < 0)
		return vpnctl_error("user '%s' does not exist", name);
	if (n && u.role != USERDB_ROLE_SITE)
		return vpnctl_error("user '%s' is not a site account (only "
				    "those route subnets: vpnctl user add "
				    "--role site)", name);
	if (!subnets_valid(p, n))
		return VPNCTL_EXIT_FAIL;
	ret = userdb_subnets_list(db, check_other, &o);
	if (ret == -EEXIST) {
		ret = vpnctl_error("subnets: %s overlaps %s of site '%s'",
				   prefix_format(&o.clash_mine, mine),
				   prefix_format(&o.clash_theirs, theirs),
				   o.clash_user);
		free((void *)o.clash_user);
		return ret;
	}
	if (ret == 0)
		ret = userdb_subnets_set(db, name, p, n);
	if (ret == -EEXIST)
		return vpnctl_error("subnets: one of them belongs to another "
				    "site");
	if (ret < 0)
		return vpnctl_error("cannot change the subnets of '%s'", name);
	printf("site '%s' routes %zu subnet%s\n", name, n,
	       n == 1 ? "" : "s");
	return VPNCTL_EXIT_OK;
}

int
cmd_user_subnets(int argc, char *argv[])
{
	struct prefix p[USERDB_SUBNETS_MAX];
	bool json = false, clear = false;
	const char *name = NULL;
	size_t n = 0;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--clear") == 0) {
			clear = true;
		} else if (argv[i][0] == '-') {
			vpnctl_error("user subnets: unknown option '%s'",
				     argv[i]);
			return VPNCTL_EXIT_USAGE;
		} else if (!name) {
			name = argv[i];
		} else if (n == USERDB_SUBNETS_MAX) {
			vpnctl_error("user subnets: at most %d subnets",
				     USERDB_SUBNETS_MAX);
			return VPNCTL_EXIT_USAGE;
		} else if (!prefix_parse(argv[i], &p[n++])) {
			vpnctl_error("user subnets: '%s' is not a prefix "
				     "(such as 192.168.1.0/24)", argv[i]);
			return VPNCTL_EXIT_USAGE;
		}
	}
	if (!name || (clear && n) || (json && (clear || n))) {
		vpnctl_error("usage: vpnctl user subnets NAME [PREFIX...|"
			     "--clear] [--json]");
		return VPNCTL_EXIT_USAGE;
	}
	if (!clear && !n)
		return show(name, json);
	return replace(name, p, n);
}
