/* SPDX-License-Identifier: MIT */
/*
 * The tunnel MTU vpnc uses, set on its device and as its padding limit.
 * With mtu = "auto" (the default) it is the smaller of the server's (the
 * MTU attribute of AUTH_RESULT, as policy.c took it) and the path to the
 * server's: that route's MTU, or its interface's, less TUNNEL_OVERHEAD of
 * the server's family (60 bytes over IPv4, 80 over IPv6), as vpnd does
 * for its own paths (vpnd/pmtu.h). So a client behind a smaller link
 * (PPPoE, a mobile network, a tunnel of its own) never sends datagrams
 * that must be fragmented on the way. mtu = N forces N, whatever the
 * server says.
 */
#ifndef VPNC_MTU_H
#define VPNC_MTU_H

#include <stdint.h>

struct netlink;

/* The choice itself, pure: `forced` (vpnc.conf's mtu, 0: "auto"), the
 * server's `pushed`, the path's MTU (0: unknown) over `family`. */
uint16_t mtu_choose(uint16_t forced, uint16_t pushed, unsigned int path_mtu,
		    int family);

/*
 * Asks rtnetlink for the path to `server` (family, 4 or 16 bytes) and
 * returns mtu_choose()'s answer, saying in the log what it chose. A path
 * it cannot learn, or one through vpnc's own device (tun_ifindex, 0 if
 * there is none), leaves the server's.
 */
uint16_t mtu_for_server(struct netlink *nl, uint16_t forced, uint16_t pushed,
			int family, const uint8_t *server, int tun_ifindex);

#endif
