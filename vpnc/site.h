/* SPDX-License-Identifier: MIT */
/*
 * vpnc as a branch gateway (site = yes in vpnc.conf): it carries its
 * whole LAN, so its kernel must forward between that LAN and the tunnel
 * device. vpnc never turns forwarding on by itself (that would open the
 * host's other devices too); it checks, refuses to start a site that
 * forwards nothing, and names each pushed family it cannot forward. No
 * NAT is needed: vpnd routes the site's subnets (vpnctl user subnets)
 * into this session and accepts them from it alone. Reads only.
 */
#ifndef VPNC_SITE_H
#define VPNC_SITE_H

#include "prefix.h"

/* At start: -ENETUNREACH (said why) if this host forwards neither IPv4
 * nor IPv6; else 0. A sysctl that cannot be read counts as on. */
int site_check_start(void) __attribute__((warn_unused_result));

/* Once connected: a warning for each family of the pushed routes this
 * host does not forward, naming the sysctl that turns it on. */
void site_check_routes(const struct prefix *routes, unsigned int n);

#endif
