// SPDX-License-Identifier: MIT
/*
 * Applying the configuration policy.c took from the server (see
 * netconf.h). Addresses, routes and MTU go through rtnetlink (never
 * `ip`).
 */
#include "netconf.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "netlink.h"
#include "policy.h"

bool
netconf_from_msg(struct netconf *nc, const struct login_msg *m)
{
	struct policy_rules rules;
	struct policy_refusals refused;

	policy_rules_defaults(&rules);
	if (policy_decide(&rules, AF_UNSPEC, NULL, m, nc, &refused) ==
		    POLICY_UNUSABLE &&
	    !login_has(m, LOGIN_ATTR_ADDRESS4) &&
	    !login_has(m, LOGIN_ATTR_ADDRESS6)) {
		log_err("the server admitted us without a tunnel address");
		return false;
	}
	return true;
}

static int
add_route(struct netlink *nl, int ifindex, const struct prefix *r)
{
	struct prefix half = *r;
	int ret;

	if (r->len > 0)
		return netlink_route_add(nl, ifindex, r->family, r->addr, r->len,
					 NULL, 0);
	/* A default route as two halves: more specific than the system's
	 * default, which stays for when the tunnel goes. */
	half.len = 1;
	ret = netlink_route_add(nl, ifindex, r->family, half.addr, 1, NULL, 0);
	half.addr[0] = 0x80;
	if (ret == 0)
		ret = netlink_route_add(nl, ifindex, r->family, half.addr, 1,
					NULL, 0);
	return ret;
}

/* A gateway outside the address prefix (its subnet was refused) is still
 * the server's own tunnel address: a host route reaches it. */
static int
add_gateway(struct netlink *nl, int ifindex, const struct prefix *addr,
	    const struct prefix *gw)
{
	char text[PREFIX_STR_LEN];
	int ret;

	if (prefix_contains(addr, gw->family, gw->addr))
		return 0;
	ret = netlink_route_add(nl, ifindex, gw->family, gw->addr, gw->len,
				NULL, 0);
	if (ret < 0)
		log_err("cannot add a route to the gateway %s: %s",
			prefix_format(gw, text), strerror(-ret));
	return ret;
}

static bool
has_addr(const struct netconf *nc, int family)
{
	return family == AF_INET ? nc->has_addr4 : nc->has_addr6;
}

static int
apply_routes(struct netlink *nl, int ifindex, const struct netconf *nc)
{
	char text[PREFIX_STR_LEN];
	unsigned int i;
	int ret;

	if (nc->has_gw4 && (ret = add_gateway(nl, ifindex, &nc->addr4,
					      &nc->gw4)) < 0)
		return ret;
	if (nc->has_gw6 && (ret = add_gateway(nl, ifindex, &nc->addr6,
					      &nc->gw6)) < 0)
		return ret;

	for (i = 0; i < nc->n_routes; i++) {
		if (!has_addr(nc, nc->routes[i].family)) {
			log_info("route %s not added: no IPv%c address in the "
				 "tunnel", prefix_format(&nc->routes[i], text),
				 nc->routes[i].family == AF_INET ? '4' : '6');
			continue;
		}
		ret = add_route(nl, ifindex, &nc->routes[i]);
		if (ret < 0) {
			log_err("cannot add route %s: %s",
				prefix_format(&nc->routes[i], text),
				strerror(-ret));
			return ret;
		}
	}
	return 0;
}

size_t
netconf_resolv_text(const struct netconf *nc, char *out, size_t cap)
{
	char addr[PREFIX_STR_LEN];
	size_t n = 0;
	unsigned int i;

	out[0] = '\0';
	for (i = 0; i < nc->n_dns && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "nameserver %s\n",
				      prefix_format_addr(nc->dns[i].family,
							 nc->dns[i].addr, addr));
	if (nc->n_search && n < cap)
		n += (size_t)snprintf(out + n, cap - n, "search");
	for (i = 0; i < nc->n_search && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, " %s", nc->search[i]);
	if (nc->n_search && n < cap)
		n += (size_t)snprintf(out + n, cap - n, "\n");
	return n < cap ? n : cap - 1;
}

int
netconf_apply(struct netlink *nl, int ifindex, const char *ifname,
	      const struct netconf *nc)
{
	int ret;

	ret = netlink_link_set_mtu(nl, ifindex, nc->mtu);
	if (!ret && nc->has_addr4)
		ret = netlink_addr_add(nl, ifindex, AF_INET, nc->addr4.addr,
				       nc->addr4.len);
	if (!ret && nc->has_addr6)
		ret = netlink_addr_add(nl, ifindex, AF_INET6, nc->addr6.addr,
				       nc->addr6.len);
	if (!ret)
		ret = netlink_link_set_up(nl, ifindex, true);
	if (ret < 0) {
		log_err("cannot configure %s: %s", ifname, strerror(-ret));
		return ret;
	}
	return apply_routes(nl, ifindex, nc);
}
