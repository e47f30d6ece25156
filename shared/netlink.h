/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink through libmnl: link MTU and state, addresses and routes, and
 * route lookups. Synchronous: every request waits for the kernel's ACK.
 * Never runs `ip`. Addresses are raw bytes in network order (4 or 16).
 */
#ifndef VPN_NETLINK_H
#define VPN_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

struct netlink;

struct netlink_route {
	int oif;              /* output interface index */
	bool has_gateway;
	uint8_t gateway[16];
	bool has_prefsrc;
	uint8_t prefsrc[16];
};

/* family: AF_INET or AF_INET6 throughout. All return 0 or -errno. */
int netlink_open(struct netlink **out) __attribute__((warn_unused_result));
void netlink_close(struct netlink *nl);

int netlink_link_set_mtu(struct netlink *nl, int ifindex, unsigned int mtu);
int netlink_link_set_up(struct netlink *nl, int ifindex, bool up);

/* IPv6 addresses are added with IFA_F_NODAD: usable at once. Adding an
 * address that exists succeeds. */
int netlink_addr_add(struct netlink *nl, int ifindex, int family,
		     const uint8_t *addr, uint8_t prefix_len);
int netlink_addr_del(struct netlink *nl, int ifindex, int family,
		     const uint8_t *addr, uint8_t prefix_len);

/* A route to dst/prefix_len through ifindex (and gateway, if not NULL).
 * Adding a route that exists succeeds; deleting one that is gone too. */
int netlink_route_add(struct netlink *nl, int ifindex, int family,
		      const uint8_t *dst, uint8_t prefix_len,
		      const uint8_t *gateway, uint32_t metric);
int netlink_route_del(struct netlink *nl, int ifindex, int family,
		      const uint8_t *dst, uint8_t prefix_len,
		      const uint8_t *gateway, uint32_t metric);

/* How the kernel routes to `dst` now (RTM_GETROUTE). */
int netlink_route_get(struct netlink *nl, int family, const uint8_t *dst,
		      struct netlink_route *out);

#endif
