/* SPDX-License-Identifier: MIT */
/*
 * How clients reach the office LAN: lan-mode in vpnd.conf, set up at
 * start, undone at stop, and followed client by client.
 *
 * routed (the default): the LAN's router routes the pools to this host.
 *   vpnd changes nothing, but refuses to start if the host does not
 *   forward a family it pushes routes of (forwarding.h).
 * nat: vpnd turns forwarding on for the pools' families and masquerades
 *   what clients send out of the LAN interface (masq.h), so the LAN needs
 *   no route back. Forwarding is put back and the table removed at stop.
 * proxy-arp: each pool is a range of a subnet of the LAN interface
 *   (address-pool4 = "10.20.0.128/25" on a LAN of 10.20.0.0/24), so a
 *   client's address is a LAN address. For each admitted client vpnd adds
 *   a proxy neighbour entry on the LAN interface (the host answers ARP and
 *   NDP for it) and a host route into its own device (the kernel sends the
 *   address to the tunnel, not to the LAN it belongs to), and takes both
 *   away when the admission ends. The device holds the server's tunnel
 *   address as a host prefix (/32, /128), so the pool as a whole is never
 *   routed away from the LAN: only admitted clients are. Forwarding, and
 *   proxy_ndp on the LAN interface for IPv6, are on while vpnd runs. Proxy
 *   entries inside the pools are removed at stop, and at start (what a
 *   crash left). As an entry is added, the address is announced on the LAN
 *   (announce.h): a client that moved here from another node is reached
 *   at once, not once the LAN's neighbour caches give the old node up.
 *
 * The LAN interface is lan-interface, or else found at start: in nat, the
 * one the host reaches the pushed routes through; in proxy-arp, the one
 * holding the subnet the pools lie in.
 *
 * Everything here runs on the loop's thread (netlink on the server's
 * socket, CAP_NET_ADMIN); lanmode_client_* never block for long (one
 * rtnetlink request each, answered at once) and never fail the admission:
 * what cannot be done is logged.
 */
#ifndef VPND_LANMODE_H
#define VPND_LANMODE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "announce.h"
#include "config.h"
#include "masq.h"
#include "netlink.h"
#include "prefix.h"

struct server;
struct peer;

/* Zeroed: nothing set up. */
struct lanmode {
	enum vpnd_lan_mode mode;
	bool is_active;         /* between lanmode_start and lanmode_stop */
	char ifname[IFNAMSIZ];  /* the LAN interface (nat, proxy-arp) */
	int ifindex;
	struct masq masq;       /* nat */
	struct announce announce; /* proxy-arp: what it can announce */
};

/* The prefix length of the server's tunnel address in the pool of
 * `family`: the pool's, or the address alone in proxy-arp. */
uint8_t lanmode_tunnel_prefix_len(const struct vpnd_config *c, int family);

/*
 * Of n addresses of one family (netlink_addr_list), on ifindex (0: any
 * interface), the one whose subnet holds `pool` as a strict part, the
 * longest such subnet if several: its index. -ENOENT if none does,
 * -ENOTUNIQ if two interfaces hold the same longest subnet.
 */
int lanmode_subnet_find(const struct netlink_addr *addrs, size_t n,
			int ifindex, const struct prefix *pool);

/* After the device is up (s->nl, s->ifindex), before clients come: the
 * mode's checks and set-up. 0 or -errno, after saying why; on failure
 * nothing is left set up but the sysctls in s->sysctls (put back with
 * the device's). */
int lanmode_start(struct server *s) __attribute__((warn_unused_result));
/* Before the device goes: undoes lanmode_start. Idempotent. */
void lanmode_stop(struct server *s);

/* p's admission is set (its addresses claimed in s->routes). */
void lanmode_client_up(struct server *s, struct peer *p);
/* p's admission is over (its addresses no longer its in s->routes);
 * an address another peer holds now is left alone. */
void lanmode_client_down(struct server *s, struct peer *p);

#endif
