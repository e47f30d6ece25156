/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink through libmnl: link MTU and state, addresses and routes,
 * route lookups, and proxy neighbour entries (the host answering ARP or
 * NDP for an address on a link). Synchronous: every request waits for the
 * kernel's ACK, every listing for the end of its dump. Never runs `ip`.
 * Addresses are raw bytes in network order (4 or 16).
 */
#ifndef VPN_NETLINK_H
#define VPN_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct netlink;

struct netlink_route {
	int oif;              /* output interface index */
	bool has_gateway;
	uint8_t gateway[16];
	bool has_prefsrc;
	uint8_t prefsrc[16];
	unsigned int mtu;     /* the route's own MTU (an mtu metric, or a path
			       * MTU the kernel learnt); 0: its interface's */
};

/* An address as the kernel lists it: an interface's (with its prefix),
 * or a proxied one (prefix_len the full length). */
struct netlink_addr {
	int ifindex;
	int family;
	uint8_t addr[16];
	uint8_t prefix_len;
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

/* The MTU of interface ifindex (RTM_GETLINK), into *mtu. */
int netlink_link_mtu(struct netlink *nl, int ifindex, unsigned int *mtu);
/* The MTU of the path to `dst` as the kernel would send now: its route's
 * own, else its output interface's. */
int netlink_path_mtu(struct netlink *nl, int family, const uint8_t *dst,
		     unsigned int *mtu);
/* The smallest MTU of the main table's default routes for family (each
 * route's own, else its interfaces'); -ENETUNREACH if there is none. */
int netlink_default_mtu(struct netlink *nl, int family, unsigned int *mtu);

/* The addresses of `family` on ifindex (0: on every interface), the first
 * `max` into out, their count into *n; -ENOSPC if there were more (out
 * then holds the first max). */
int netlink_addr_list(struct netlink *nl, int ifindex, int family,
		      struct netlink_addr *out, size_t max, size_t *n);

/*
 * Proxy neighbour entries (NTF_PROXY, as `ip neigh add proxy`): the host
 * answers ARP (IPv4) or NDP (IPv6) for `addr` on ifindex with its own
 * link address. The kernel answers only on a link that forwards, and for
 * IPv6 only where proxy_ndp is on. Adding an entry that exists succeeds;
 * deleting one that is gone too.
 */
int netlink_neigh_proxy_add(struct netlink *nl, int ifindex, int family,
			    const uint8_t *addr);
int netlink_neigh_proxy_del(struct netlink *nl, int ifindex, int family,
			    const uint8_t *addr);
/* The proxied addresses of `family` on ifindex (0: on any), as
 * netlink_addr_list() gives addresses. */
int netlink_neigh_proxy_list(struct netlink *nl, int ifindex, int family,
			     struct netlink_addr *out, size_t max, size_t *n);

#endif
