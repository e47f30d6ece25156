// SPDX-License-Identifier: MIT
/*
 * The forwarding check of forwarding.h: a read of one sysctl per family
 * that has routes, and a message an admin can act on: an error that stops
 * vpnd at start in lan-mode routed, a warning on a reload. It reads the
 * routes it is given, so a reload may call it again.
 */
#include "forwarding.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "sysctl.h"

#define ROUTES_SHOWN 3
#define ROUTES_TEXT_LEN (ROUTES_SHOWN * (PREFIX_STR_LEN + 2) + 32)

/* "10.20.0.0/24, 10.30.0.0/16 and 2 more"; the count of family's routes.
 * ROUTES_TEXT_LEN holds ROUTES_SHOWN prefixes and the rest's count. */
static unsigned int
list_routes(const struct prefix *routes, unsigned int n_routes, int family,
	    char out[ROUTES_TEXT_LEN])
{
	char text[PREFIX_STR_LEN];
	unsigned int i, n = 0;
	size_t len;

	out[0] = '\0';
	for (i = 0; i < n_routes; i++) {
		if (routes[i].family != family || n++ >= ROUTES_SHOWN)
			continue;
		if (out[0])
			strcat(out, ", ");
		strcat(out, prefix_format(&routes[i], text));
	}
	len = strlen(out);
	if (n > ROUTES_SHOWN)
		snprintf(out + len, ROUTES_TEXT_LEN - len, " and %u more",
			 n - ROUTES_SHOWN);
	return n;
}

/* False if the family has routes and this host does not forward it,
 * after saying so at `level`; a sysctl that cannot be read (a container)
 * tells nothing, and passes. */
static bool
check_family(const struct prefix *routes, unsigned int n_routes, int family,
	     const char *name, int level)
{
	char list[ROUTES_TEXT_LEN], value[SYSCTL_VALUE_LEN];
	char shown[SYSCTL_NAME_LEN];
	int ret;

	if (!list_routes(routes, n_routes, family, list))
		return true;
	sysctl_display_name(name, shown);
	ret = sysctl_read(name, value, sizeof(value));
	if (ret < 0) {
		log_debug("cannot read %s: %s", shown, strerror(-ret));
		return true;
	}
	if (strcmp(value, "0") != 0)
		return true;
	log_msg(level, "%s is 0, so what clients send to the routes they are "
		"given (%s) stops at this host: turn it on with 'sysctl -w "
		"%s=1', and in /etc/sysctl.d/ to keep it%s", shown, list,
		shown, family == AF_INET6 ? " (a host that forwards IPv6 "
					    "takes router advertisements only "
					    "with accept_ra = 2)"
					  : "");
	return false;
}

static bool
check(const struct prefix *routes, unsigned int n_routes, int level)
{
	bool ok = check_family(routes, n_routes, AF_INET,
			       "net/ipv4/ip_forward", level);

	return check_family(routes, n_routes, AF_INET6,
			    "net/ipv6/conf/all/forwarding", level) && ok;
}

void
forwarding_check(const struct prefix *routes, unsigned int n_routes)
{
	check(routes, n_routes, LOG_WARNING);
}

int
forwarding_require(const struct prefix *routes, unsigned int n_routes)
{
	if (check(routes, n_routes, LOG_ERR))
		return 0;
	log_err("lan-mode routed: vpnd does not start on a host that cannot "
		"forward what it routes (lan-mode nat and proxy-arp turn "
		"forwarding on themselves)");
	return -ENETUNREACH;
}
