/* SPDX-License-Identifier: MIT */
/*
 * Whether this host forwards what vpnd routes: routes pushed to clients
 * lead through the server, so its kernel must forward the family (IPv4:
 * net.ipv4.ip_forward, IPv6: net.ipv6.conf.all.forwarding). Only reads
 * and warns; vpnd never turns forwarding on by itself, which would open
 * every other device of the host too.
 */
#ifndef VPND_FORWARDING_H
#define VPND_FORWARDING_H

#include "prefix.h"

/* Logs a warning for each family of `routes` this host does not forward,
 * naming the sysctl and how to turn it on. Needs no privilege. */
void forwarding_check(const struct prefix *routes, unsigned int n_routes);

#endif
