/* SPDX-License-Identifier: MIT */
/*
 * DNS per link through systemd-resolved's D-Bus API
 * (org.freedesktop.resolve1.Manager on the system bus, through sd-bus;
 * the bus is the one DBUS_SYSTEM_BUS_ADDRESS names, as for every sd-bus
 * program). Runs in vpnc's DNS helper (resolver.h), which is root.
 *
 * The pushed servers go on the tunnel's link (SetLinkDNS) with the pushed
 * domains as search domains (SetLinkDomains), which resolved also routes
 * to that link: office names go to the office servers, everything else
 * where it went before (split DNS; SetLinkDefaultRoute false). For a full
 * tunnel the link also gets the routing domain "~." and the default
 * route, so that every query goes to the pushed servers alone.
 *
 * resolved counts as running only if it owns its name on the bus and
 * lives in this network namespace (interface indexes are per namespace:
 * a vpnc in a container must not set DNS on the host's link of the same
 * index). Nothing is ever started by the bus for us (auto-start off).
 */
#ifndef VPNC_RESOLVED_H
#define VPNC_RESOLVED_H

#include <stdbool.h>

#include "netconf.h"

/* 0; -ENOENT if resolved does not run here (nothing done); other -errno
 * after logging (the link may be half set: revert it). */
int resolved_set_link(int ifindex, const struct netconf *nc, bool is_full);
/* RevertLink: the link's DNS back to what resolved had. 0 or -errno. */
int resolved_revert_link(int ifindex);

#endif
