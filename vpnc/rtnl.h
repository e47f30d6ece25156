/* SPDX-License-Identifier: MIT */
/*
 * The rtnetlink requests fence.c needs and shared/netlink.h does not
 * offer: routes of a type other than unicast (unreachable), routes marked
 * with vpnc's own protocol number so that they are told apart from the
 * system's, and a dump of the directly connected networks. A socket of its
 * own, opened before vpnc gives up its privileges (jail.h), since the
 * allow-list opens no netlink socket later. Synchronous, as netlink.c:
 * every request waits for the kernel's verdict. Decides nothing.
 *
 * TODO: these belong in shared/netlink.c beside its requests (one
 * socket, one transact); they live here until that file takes them.
 */
#ifndef VPNC_RTNL_H
#define VPNC_RTNL_H

#include <stdbool.h>
#include <stdint.h>

#include "prefix.h"

/* rtm_protocol of vpnc's routes outside its device (`ip route show proto
 * 86`): never a value of rtnetlink.h's or iproute2's rt_protos. */
#define RTNL_PROTO_VPNC 86

struct rtnl;

/* A route in the main table: unreachable (no device), or unicast out
 * `oif`, through `gateway` if has_gateway. */
struct rtnl_route {
	struct prefix dst;
	bool is_unreachable;
	int oif;
	bool has_gateway;
	uint8_t gateway[16];
	uint32_t metric;
};

int rtnl_open(struct rtnl **out) __attribute__((warn_unused_result));
void rtnl_close(struct rtnl *rt);

/* Adds r with protocol RTNL_PROTO_VPNC. -EEXIST if a route with the same
 * prefix and metric is there already (the kernel's rule; IPv6 also
 * compares the device and gateway): it is someone else's. 0 or -errno. */
int rtnl_route_add(struct rtnl *rt, const struct rtnl_route *r);
/* Deletes r if it is there and ours (protocol RTNL_PROTO_VPNC); a route
 * that is gone counts as deleted. 0 or -errno. */
int rtnl_route_del(struct rtnl *rt, const struct rtnl_route *r);

/*
 * The networks of `family` this host reaches directly (main-table unicast
 * routes without a gateway, not vpnc's own, not through loopback or
 * `skip_oif`, IPv6 link-local left out): the local LANs. Up to `cap` into
 * out; *n gets how many. 0 or -errno.
 */
int rtnl_connected(struct rtnl *rt, int family, int skip_oif,
		   struct prefix *out, unsigned int cap, unsigned int *n);

#endif
