/* SPDX-License-Identifier: MIT */
/*
 * The network configuration taken from a server's AUTH_RESULT (addresses,
 * gateways, routes, DNS, MTU, keepalive, session lifetime), as policy.c
 * lets it through, and applying it to the client's TUN device through
 * rtnetlink. A default route (only ever taken with full-tunnel = yes)
 * goes in as two halves, as OpenVPN's def1 does; the routes outside the
 * device that keep the server reachable and stop leaks are fence.h's,
 * DNS is resolver.h's.
 */
#ifndef VPNC_NETCONF_H
#define VPNC_NETCONF_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "login.h"
#include "policy.h"
#include "prefix.h"

#define NETCONF_MAX_ROUTES 64
#define NETCONF_MAX_DNS 8

struct netconf {
	bool has_addr4, has_addr6;
	struct prefix addr4, addr6; /* the client's address, with the prefix
				     * length of its subnet, or /32 and /128
				     * when the subnet was refused */
	bool has_gw4, has_gw6;
	struct prefix gw4, gw6;     /* the server's tunnel addresses (/32,
				     * /128) */
	struct prefix routes[NETCONF_MAX_ROUTES];
	unsigned int n_routes;
	struct prefix exclude[POLICY_MAX_EXCLUDE]; /* vpnc.conf's, kept off
						    * the tunnel */
	unsigned int n_exclude;
	struct prefix dns[NETCONF_MAX_DNS];
	unsigned int n_dns;
	char search[NETCONF_MAX_DNS][256];
	unsigned int n_search;
	uint16_t mtu;
	uint16_t keepalive_s;
	uint32_t expires_s;
};

struct netlink;

/*
 * What vpnc would take of an OK AUTH_RESULT under its default policy
 * (policy_rules_defaults()), with no server address to keep out of the
 * tunnel. False (with a log line) if the message has no address at all.
 * For readers without a vpnc.conf (the login codec's fuzz harness); vpnc
 * itself calls policy_decide() with its configuration.
 */
bool netconf_from_msg(struct netconf *nc, const struct login_msg *m);

/*
 * Configures ifindex: MTU, addresses, up, a host route to each gateway
 * the address prefix does not cover, and the routes of each family the
 * device has an address of (the others would only carry packets the
 * server drops: with a full tunnel, fence.h blocks that family instead).
 * Everything goes with the device. 0 or -errno after logging what failed.
 */
int netconf_apply(struct netlink *nl, int ifindex, const char *ifname,
		  const struct netconf *nc);

/*
 * What resolvconf is given for nc: a "nameserver ADDR" line per DNS
 * server, then one "search NAME..." line. Pure. Returns the length, at
 * most cap - 1 (cut if it does not fit; NUL-terminated, cap > 0).
 */
size_t netconf_resolv_text(const struct netconf *nc, char *out, size_t cap);

#endif
