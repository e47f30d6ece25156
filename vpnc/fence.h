/* SPDX-License-Identifier: MIT */
/*
 * The routes vpnc keeps outside its device, so that nothing meant for the
 * tunnel leaks out in the clear, and nothing the user keeps out of it is
 * taken in. The device, with its addresses and the pushed routes, comes
 * and goes with each admission (client.c); these stay from the admission
 * that needs them to vpnc's exit, across reconnects, and a state file
 * (state.h) lets the next start take them out after a crash:
 *
 *  - pin: with a full tunnel, the server's own address, routed the way
 *    it went before (a host route through the underlay's gateway), so
 *    that the tunnel does not carry itself;
 *  - exclude: each of vpnc.conf's exclude prefixes that a tunnel route
 *    covers, routed the way its first address went before;
 *  - backstop: with a full tunnel, an unreachable route for each half of
 *    each family's address space (0.0.0.0/1, 128.0.0.0/1, ::/1,
 *    8000::/1) at FENCE_METRIC. The device's own halves come first
 *    while it exists (lower metric); when it is gone (a reconnect, a
 *    login asked for again, a crash) the host refuses the traffic at
 *    once (ENETUNREACH) instead of sending it in the clear. A family the
 *    tunnel gives no address (IPv6 when the server pushes none) has only
 *    its backstop: it is blocked, never sent outside;
 *  - lan: with a full tunnel and allow-lan = no, the directly connected
 *    networks of the other interfaces (the local LANs, IPv6 link-local
 *    aside) blocked the same way, as two unreachable halves each, which
 *    beat the connected route by length. The pin and the excludes are
 *    more specific still, so the server stays reachable through the LAN's
 *    router, and a LAN inside an exclude is left alone. allow-lan = yes
 *    keeps the LANs reachable directly, as the connected routes say.
 *
 * Everything here is in the main table with protocol RTNL_PROTO_VPNC.
 * Planning is pure; applying goes through rtnl.h and netlink.h.
 */
#ifndef VPNC_FENCE_H
#define VPNC_FENCE_H

#include <stdbool.h>
#include <stdint.h>

#include "netconf.h"
#include "policy.h"
#include "rtnl.h"

#define FENCE_MAX 128
/* Above the kernel's default metrics (IPv4 0, IPv6 1024) and what
 * DHCP clients and NetworkManager use, so that any real route to the
 * same prefix wins. */
#define FENCE_METRIC 32767
/* LANs looked at per family. */
#define FENCE_MAX_LAN 32

enum fence_kind {
	FENCE_PIN,
	FENCE_EXCLUDE,
	FENCE_BACKSTOP,
	FENCE_LAN,
};

struct fence_item {
	enum fence_kind kind;
	struct rtnl_route route; /* pin and exclude: oif and gateway found
				  * when installed */
};

struct fence {
	struct fence_item items[FENCE_MAX];
	unsigned int n;
};

struct netlink;

/* True if nc routes a default route (a /0, or a /1 half) into the
 * tunnel: a full tunnel. */
bool fence_is_full(const struct netconf *nc);

/*
 * Pure: the routes `nc` (as policy.c took it under `rules`) needs outside
 * the device, for a server at `server`/`server_family`, with `lan` the
 * connected networks of both families (rtnl_connected()). Fills `want`;
 * false if it does not fit FENCE_MAX (everything that fits is there).
 */
bool fence_plan(const struct policy_rules *rules, const struct netconf *nc,
		int server_family, const uint8_t *server,
		const struct prefix *lan, unsigned int n_lan,
		struct fence *want);

/* `out` gets a's items and those of b that a lacks (for the state file,
 * before changes: what may be there once they are made). */
void fence_merge(const struct fence *a, const struct fence *b,
		 struct fence *out);

/*
 * Makes the installed set `have` into `want`: takes out what is no longer
 * wanted, routes each new pin and exclude the way its address goes now
 * (before any new backstop; a new pin the backstop hides, as when vpnc
 * moves to another server, the way of the pin it replaces), then adds
 * the new unreachable routes. `have`
 * ends as what is installed, even on failure. 0 or -errno after logging.
 */
int fence_apply(struct rtnl *rt, struct netlink *nl, struct fence *have,
		const struct fence *want);

/* Takes out everything in `have` (unreachable routes first). */
void fence_clear(struct rtnl *rt, struct fence *have);

#endif
