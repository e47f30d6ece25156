// SPDX-License-Identifier: MIT
/*
 * vpnc's tunnel MTU (see mtu.h). One route lookup and one link query per
 * login, before the device is configured.
 */
#include "mtu.h"

#include <netinet/in.h>
#include <string.h>

#include "log.h"
#include "netlink.h"
#include "tunnel.h"

uint16_t
mtu_choose(uint16_t forced, uint16_t pushed, unsigned int path_mtu,
	   int family)
{
	size_t path;

	if (forced)
		return forced;
	if (!path_mtu)
		return pushed;
	path = tunnel_mtu_for_path(path_mtu, family);
	return path < pushed ? (uint16_t)path : pushed;
}

/* The path's MTU to server, 0 if unknown or through the tunnel. */
static unsigned int
path_mtu(struct netlink *nl, int family, const uint8_t *server,
	 int tun_ifindex)
{
	struct netlink_route r;
	unsigned int mtu;
	int ret;

	ret = netlink_route_get(nl, family, server, &r);
	if (ret < 0) {
		log_debug("mtu: no route to the server: %s", strerror(-ret));
		return 0;
	}
	if (tun_ifindex && r.oif == tun_ifindex)
		return 0;
	if (r.mtu)
		return r.mtu;
	ret = netlink_link_mtu(nl, r.oif, &mtu);
	return ret < 0 ? 0 : mtu;
}

uint16_t
mtu_for_server(struct netlink *nl, uint16_t forced, uint16_t pushed,
	       int family, const uint8_t *server, int tun_ifindex)
{
	unsigned int path;
	uint16_t mtu;

	if (forced) {
		log_info("mtu %u (configured; the server's is %u)", forced,
			 pushed);
		return forced;
	}
	path = path_mtu(nl, family, server, tun_ifindex);
	mtu = mtu_choose(0, pushed, path, family);
	if (path)
		log_info("mtu %u: the server's %u, the path to it %u less %d "
			 "bytes over %s", mtu, pushed, path,
			 TUNNEL_OVERHEAD(family),
			 family == AF_INET6 ? "IPv6" : "IPv4");
	else
		log_info("mtu %u: the server's (the path to it unknown)", mtu);
	return mtu;
}
