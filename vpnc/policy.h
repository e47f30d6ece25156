/* SPDX-License-Identifier: MIT */
/*
 * vpnc's own policy for what a server pushes in AUTH_RESULT (PROTOCOL.md
 * section 6): which addresses, routes, DNS servers and search domains it
 * takes, and, once the tunnel is up, which inner source addresses may
 * reach this host through it (cryptokey routing, as WireGuard's allowed
 * IPs: what is routed into the tunnel is what is accepted from it). Pure:
 * no I/O, no netlink, no clock; client.c logs and netconf.c applies.
 *
 * The rules, and why:
 *  - An address must have a sane prefix length (IPv4 /8-/32, IPv6
 *    /64-/128: a tunnel subnet is a pool of client addresses, and a
 *    shorter one would route half the world onto the device) and be a
 *    unicast address other than the server's. An address refused makes
 *    the login unusable: half a configuration would leave a person with
 *    a tunnel that silently does not reach what it should.
 *  - The subnet the address implies (the kernel routes it onto the
 *    device) is a route like any other and must pass the route rules;
 *    if it does not, the address alone is used (/32, /128) and the
 *    gateway gets a host route.
 *  - A route must be a network, lie inside one of accept-routes, and
 *    not cover the server's own address. A default route (a /0, or a
 *    /1 half of one) is taken only with full-tunnel = yes, whatever
 *    accept-routes says; netconf.c then keeps the server's address
 *    outside the tunnel with a host route through the old path.
 *  - The gateway (GATEWAY4/6, the server's own tunnel address) is
 *    trusted when it lies in the pushed subnet of the address of its
 *    family and is a unicast address other than ours or the server's.
 *  - DNS servers must not be unspecified, loopback, multicast or
 *    broadcast; search domains must be host names (RFC 1035/1123).
 *  - A route inside one of vpnc.conf's exclude prefixes is refused:
 *    what the user keeps off the tunnel stays off it (fence.h routes
 *    the excluded prefixes outside).
 *  - Packets from the tunnel are taken only from the gateways, the
 *    installed address prefixes and the accepted routes, less the
 *    excluded prefixes.
 */
#ifndef VPNC_POLICY_H
#define VPNC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsname.h"
#include "login.h"
#include "prefix.h"

#define POLICY_MAX_ACCEPT 64
#define POLICY_MAX_EXCLUDE 32
#define POLICY_MAX_REFUSED 32
#define POLICY_TEXT_LEN 224 /* one refusal as logged */
#define POLICY_DNS_NAME_MAX DNSNAME_MAX
#define POLICY_ADDR4_MIN_LEN 8
#define POLICY_ADDR6_MIN_LEN 64

/* vpnc.conf's rules for what a server may push (config.c fills them). */
struct policy_rules {
	struct prefix accept[POLICY_MAX_ACCEPT]; /* accept-routes */
	unsigned int n_accept;
	bool full_tunnel;                        /* full-tunnel */
	struct prefix exclude[POLICY_MAX_EXCLUDE]; /* exclude: kept off the
						    * tunnel (fence.h) */
	unsigned int n_exclude;
	bool allow_lan;                          /* allow-lan: the local
						  * networks stay reachable
						  * beside a full tunnel */
};

/* What was pushed and refused. */
enum policy_item {
	POLICY_ITEM_ADDRESS,
	POLICY_ITEM_SUBNET, /* of an address: the address is used alone */
	POLICY_ITEM_GATEWAY,
	POLICY_ITEM_ROUTE,
	POLICY_ITEM_DNS,
	POLICY_ITEM_SEARCH,
	POLICY_ITEM_MTU,
};

enum policy_reason {
	POLICY_NO_FULL_TUNNEL, /* a default route, full-tunnel = no */
	POLICY_NOT_ACCEPTED,   /* outside every accept-routes prefix */
	POLICY_COVERS_SERVER,  /* would take the way to the server itself */
	POLICY_HOST_BITS,      /* a route that is not a network */
	POLICY_PREFIX_LEN,     /* an address with an insane prefix length */
	POLICY_UNSPECIFIED,
	POLICY_LOOPBACK,
	POLICY_MULTICAST,
	POLICY_BROADCAST,
	POLICY_IS_SERVER,      /* the server's own outer address */
	POLICY_IS_OURS,        /* a gateway that is our own address */
	POLICY_OUTSIDE_SUBNET, /* a gateway outside the tunnel subnet */
	POLICY_NO_ADDRESS,     /* a gateway without an address of its family */
	POLICY_NOT_DNS_NAME,
	POLICY_TOO_MANY,       /* past what vpnc keeps (netconf.h limits) */
	POLICY_OUT_OF_RANGE,   /* an MTU vpnc will not use */
	POLICY_EXCLUDED,       /* inside one of vpnc.conf's exclude */
};

struct policy_refusal {
	enum policy_item item;
	enum policy_reason reason;
	char text[POLICY_TEXT_LEN]; /* `route 0.0.0.0/0 (no full-tunnel)` */
};

struct policy_refusals {
	struct policy_refusal r[POLICY_MAX_REFUSED];
	unsigned int n;
	unsigned int n_more; /* refused, but past the table */
};

enum policy_decision {
	POLICY_APPLY,    /* apply the configuration; the refusals stay out */
	POLICY_UNUSABLE, /* no address, or one refused: this login cannot be
			  * used, and nothing may be applied */
};

struct netconf;

/* Accept-routes everything (0.0.0.0/0 and ::/0), no full tunnel. */
void policy_rules_defaults(struct policy_rules *r);

/*
 * Judges an OK AUTH_RESULT `m` under `rules`, for a server whose outer
 * address is `server` (family AF_INET or AF_INET6; AF_UNSPEC if unknown):
 * `out` gets what may be applied (defaults for what was not pushed) and
 * `refused` what was left out, with why.
 */
enum policy_decision policy_decide(const struct policy_rules *rules,
				   int server_family, const uint8_t *server,
				   const struct login_msg *m,
				   struct netconf *out,
				   struct policy_refusals *refused)
	__attribute__((warn_unused_result));

/*
 * The refusals as one line's worth of text: "route 0.0.0.0/0 (no
 * full-tunnel), search domain \"a\\tb\" (not a DNS name)", every byte
 * printable, ending "and N more" if they do not all fit. Returns out.
 */
char *policy_refusals_format(const struct policy_refusals *refused,
			     char *out, size_t cap);

/*
 * Cryptokey routing: true if the IP packet `pkt` (as the tunnel delivers
 * it: its version and length checked) may be written to the device, its
 * source being a gateway, inside an installed address prefix or inside a
 * route of `nc` and none of its excluded prefixes.
 */
bool policy_source_allowed(const struct netconf *nc, const uint8_t *pkt,
			   size_t len);

#endif
