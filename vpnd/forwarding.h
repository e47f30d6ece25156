/* SPDX-License-Identifier: MIT */
/*
 * Whether this host forwards what vpnd routes: routes pushed to clients
 * lead through the server, so its kernel must forward the family (IPv4:
 * net.ipv4.ip_forward, IPv6: net.ipv6.conf.all.forwarding). Only reads:
 * in lan-mode routed vpnd never turns forwarding on by itself, which
 * would open every other device of the host too, and refuses to start
 * without it; lan-mode nat and proxy-arp turn it on (lanmode.c), and put
 * it back at stop.
 */
#ifndef VPND_FORWARDING_H
#define VPND_FORWARDING_H

#include "prefix.h"

/* Logs a warning for each family of `routes` this host does not forward,
 * naming the sysctl and how to turn it on (a reload's new routes). Needs
 * no privilege. */
void forwarding_check(const struct prefix *routes, unsigned int n_routes);
/* The same as errors, for lan-mode routed at start: -ENETUNREACH if a
 * family of `routes` is not forwarded (said why), else 0. A sysctl that
 * cannot be read is taken as on. */
int forwarding_require(const struct prefix *routes, unsigned int n_routes)
	__attribute__((warn_unused_result));

#endif
