// SPDX-License-Identifier: MIT
/*
 * The LAN modes of lanmode.h: the checks and set-up at start, the proxy
 * entries and host routes of proxy-arp client by client, and the undoing
 * at stop. Decides what to configure; shared/netlink.c, shared/sysctl.c
 * and masq.c do it.
 */
#include "lanmode.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "forwarding.h"
#include "log.h"
#include "pool.h"
#include "server.h"
#include "sysctl.h"

/* Addresses of one family listed at once (a LAN interface holds a few;
 * every interface of a router, a few hundred). */
#define ADDRS_MAX 256
/* Proxy entries read per listing; more are removed round after round. */
#define PROXIES_MAX 256
#define SWEEP_ROUNDS 64
/* Addresses of a pushed route tried to find where it leads: the first
 * ones may be this host's own (its LAN address, IPv6's subnet-router
 * anycast address on a host that forwards). */
#define ROUTE_PROBES 4

static const char *
mode_name(const struct lanmode *lan)
{
	return vpnd_config_lan_mode_name(lan->mode);
}

/* The configuration's pools, IPv4 first. */
static unsigned int
pools_of(const struct vpnd_config *c, struct prefix out[2])
{
	unsigned int n = 0;

	if (c->has_pool4)
		out[n++] = c->pool4;
	if (c->has_pool6)
		out[n++] = c->pool6;
	return n;
}

static const char *
pool_option(int family)
{
	return family == AF_INET ? "address-pool4" : "address-pool6";
}

uint8_t
lanmode_tunnel_prefix_len(const struct vpnd_config *c, int family)
{
	if (c->lan_mode == VPND_LAN_PROXY_ARP)
		return (uint8_t)(prefix_addr_len(family) * 8);
	return family == AF_INET ? c->pool4.len : c->pool6.len;
}

/* ---- the LAN interface ------------------------------------------------------- */

int
lanmode_subnet_find(const struct netlink_addr *addrs, size_t n, int ifindex,
		    const struct prefix *pool)
{
	int best = -ENOENT;
	bool is_tie = false;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct netlink_addr *a = &addrs[i];
		struct prefix subnet = { .family = a->family,
					 .len = a->prefix_len };

		if ((ifindex && a->ifindex != ifindex) ||
		    a->family != pool->family || a->prefix_len >= pool->len)
			continue;
		memcpy(subnet.addr, a->addr, sizeof(subnet.addr));
		if (!prefix_contains(&subnet, pool->family, pool->addr))
			continue;
		if (best >= 0 && a->prefix_len == addrs[best].prefix_len) {
			if (a->ifindex != addrs[best].ifindex)
				is_tie = true;
			continue;
		}
		if (best < 0 || a->prefix_len > addrs[best].prefix_len) {
			best = (int)i;
			is_tie = false;
		}
	}
	return is_tie ? -ENOTUNIQ : best;
}

static int
set_lan(struct lanmode *lan, int ifindex)
{
	if (!if_indextoname((unsigned int)ifindex, lan->ifname))
		return -errno;
	lan->ifindex = ifindex;
	return 0;
}

/* The interface an address of route r leaves through, other than lo (r's
 * first addresses may be ours) and our own device; 0 if none does. */
static int
route_leads(struct server *s, const struct prefix *r)
{
	unsigned int lo = if_nametoindex("lo"), i;
	size_t len = prefix_addr_len(r->family);
	struct netlink_route rt;
	uint8_t probe[16];

	memcpy(probe, r->addr, sizeof(probe));
	for (i = 0; i < ROUTE_PROBES; i++) {
		if (i && (!pool_next(probe, len) ||
			  !prefix_contains(r, r->family, probe)))
			break;
		if (netlink_route_get(s->nl, r->family, probe, &rt) < 0)
			continue;
		if (rt.oif != (int)lo && rt.oif != s->ifindex)
			return rt.oif;
	}
	return 0;
}

/* nat: the interface every pushed route leaves through. */
static int
lan_from_routes(struct server *s)
{
	const struct vpnd_config *c = s->cfg;
	char a[PREFIX_STR_LEN], b[PREFIX_STR_LEN];
	char na[IFNAMSIZ] = "?", nb[IFNAMSIZ] = "?";
	unsigned int i, first = 0;
	int found = 0, oif;

	for (i = 0; i < c->n_routes; i++) {
		oif = route_leads(s, &c->routes[i]);
		if (!oif || oif == found)
			continue;
		if (found) {
			if_indextoname((unsigned int)found, na);
			if_indextoname((unsigned int)oif, nb);
			log_err("lan-mode nat: routes %s and %s leave this host "
				"through %s and %s: set lan-interface to the "
				"one to masquerade out of",
				prefix_format(&c->routes[first], a),
				prefix_format(&c->routes[i], b), na, nb);
			return -ENOTUNIQ;
		}
		found = oif;
		first = i;
	}
	if (!found) {
		log_err("lan-mode nat: no pushed route leads out of this host "
			"(routes in vpnd.conf): set lan-interface");
		return -ENOENT;
	}
	return set_lan(&s->lan, found);
}

/* proxy-arp: the interface holding the subnet the pools lie in. */
static int
lan_from_pools(struct server *s)
{
	struct netlink_addr addrs[ADDRS_MAX];
	struct prefix pools[2];
	char text[PREFIX_STR_LEN];
	unsigned int i, n_pools = pools_of(s->cfg, pools);
	int found = 0, at, ret;
	size_t n;

	for (i = 0; i < n_pools; i++) {
		prefix_format(&pools[i], text);
		ret = netlink_addr_list(s->nl, 0, pools[i].family, addrs,
					ADDRS_MAX, &n);
		at = ret < 0 && ret != -ENOSPC ? ret
					       : lanmode_subnet_find(addrs, n, 0,
								     &pools[i]);
		if (at < 0) {
			log_err("lan-mode proxy-arp: %s %s lies in %s: set "
				"lan-interface", pool_option(pools[i].family),
				text, at == -ENOTUNIQ ? "subnets of two "
							"interfaces alike"
						      : "no subnet of this "
							"host's interfaces");
			return at == -ENOTUNIQ ? at : -ENOENT;
		}
		if (found && addrs[at].ifindex != found) {
			log_err("lan-mode proxy-arp: the pools lie in subnets "
				"of two interfaces: set lan-interface");
			return -ENOTUNIQ;
		}
		found = addrs[at].ifindex;
	}
	return set_lan(&s->lan, found);
}

static int
find_lan(struct server *s)
{
	const struct vpnd_config *c = s->cfg;
	struct lanmode *lan = &s->lan;
	unsigned int ifindex;
	int ret;

	if (c->lan_interface[0]) {
		ifindex = if_nametoindex(c->lan_interface);
		if (!ifindex) {
			log_err("lan-interface %s: no such interface on this "
				"host", c->lan_interface);
			return -ENODEV;
		}
		ret = set_lan(lan, (int)ifindex);
	} else {
		ret = lan->mode == VPND_LAN_NAT ? lan_from_routes(s)
						: lan_from_pools(s);
	}
	if (ret < 0)
		return ret;
	if (lan->ifindex == s->ifindex) {
		log_err("lan-mode %s: the LAN interface cannot be vpnd's own "
			"device %s", mode_name(lan), s->ifname);
		return -EINVAL;
	}
	log_info("lan-mode %s: the office LAN is on %s%s", mode_name(lan),
		 lan->ifname, c->lan_interface[0] ? "" : " (found at start)");
	return 0;
}

/* ---- sysctls ------------------------------------------------------------------- */

/* Put back at stop with the device's (server.c's close_device). */
static int
sysctl_on(struct server *s, const char *name)
{
	char shown[SYSCTL_NAME_LEN];
	int ret = sysctl_change(&s->sysctls, name, "1");

	if (ret < 0)
		log_err("lan-mode %s: cannot set %s to 1: %s",
			mode_name(&s->lan), sysctl_display_name(name, shown),
			strerror(-ret));
	return ret;
}

/* The pools' families forward: what comes from the tunnel goes on to the
 * LAN, and back. */
static int
forwarding_on(struct server *s)
{
	int ret = 0;

	if (s->cfg->has_pool4)
		ret = sysctl_on(s, "net/ipv4/ip_forward");
	if (!ret && s->cfg->has_pool6) {
		ret = sysctl_on(s, "net/ipv6/conf/all/forwarding");
		if (!ret)
			log_notice("lan-mode %s: IPv6 forwarding is on while "
				   "vpnd runs; an interface that takes its "
				   "address from router advertisements keeps "
				   "it only with accept_ra = 2",
				   mode_name(&s->lan));
	}
	return ret;
}

/* ---- proxy-arp ------------------------------------------------------------------ */

/* The pool lies strictly inside a subnet of the LAN interface, and none
 * of the interface's own addresses lies in the pool. */
static int
check_pool(struct server *s, const struct prefix *pool)
{
	struct netlink_addr addrs[ADDRS_MAX];
	char text[PREFIX_STR_LEN], sub[PREFIX_STR_LEN];
	struct prefix subnet = { .family = pool->family };
	const char *option = pool_option(pool->family);
	size_t n, i;
	int ret, at;

	prefix_format(pool, text);
	ret = netlink_addr_list(s->nl, s->lan.ifindex, pool->family, addrs,
				ADDRS_MAX, &n);
	if (ret < 0 && ret != -ENOSPC) {
		log_err("lan-mode proxy-arp: cannot list the addresses of %s: "
			"%s", s->lan.ifname, strerror(-ret));
		return ret;
	}
	for (i = 0; i < n; i++)
		if (prefix_contains(pool, pool->family, addrs[i].addr)) {
			log_err("lan-mode proxy-arp: %s %s holds %s's own "
				"address %s: give the pool a range of the LAN "
				"that no host uses", option, text,
				s->lan.ifname,
				prefix_format_addr(pool->family, addrs[i].addr,
						   sub));
			return -EADDRINUSE;
		}
	at = lanmode_subnet_find(addrs, n, s->lan.ifindex, pool);
	if (at < 0) {
		log_err("lan-mode proxy-arp: %s %s is not a range of a subnet "
			"of %s: clients' addresses must be LAN addresses",
			option, text, s->lan.ifname);
		return -EINVAL;
	}
	subnet.len = addrs[at].prefix_len;
	memcpy(subnet.addr, addrs[at].addr, sizeof(subnet.addr));
	prefix_mask(&subnet);
	log_info("lan-mode proxy-arp: %s %s is a range of %s's %s", option,
		 text, s->lan.ifname, prefix_format(&subnet, sub));
	return 0;
}

/* Removes the proxy entries on the LAN interface inside `pool`: our
 * clients', this run's or a crashed one's. Returns how many. */
static unsigned int
sweep_pool(struct server *s, const struct prefix *pool)
{
	struct netlink_addr list[PROXIES_MAX];
	unsigned int removed = 0, round, n_in;
	size_t n, i;
	int ret;

	for (round = 0; round < SWEEP_ROUNDS; round++) {
		ret = netlink_neigh_proxy_list(s->nl, s->lan.ifindex,
					       pool->family, list, PROXIES_MAX,
					       &n);
		if (ret < 0 && ret != -ENOSPC) {
			log_warn("lan-mode proxy-arp: cannot list the proxy "
				 "entries of %s: %s", s->lan.ifname,
				 strerror(-ret));
			break;
		}
		for (i = 0, n_in = 0; i < n; i++) {
			if (!pool_contains(pool, list[i].addr))
				continue;
			n_in++;
			if (netlink_neigh_proxy_del(s->nl, s->lan.ifindex,
						    pool->family,
						    list[i].addr) == 0)
				removed++;
		}
		/* A full list may hide more of ours; an empty round ends. */
		if (ret != -ENOSPC || !n_in)
			break;
	}
	return removed;
}

static void
sweep(struct server *s, const char *when)
{
	struct prefix pools[2];
	unsigned int i, n = pools_of(s->cfg, pools), removed = 0;

	for (i = 0; i < n; i++)
		removed += sweep_pool(s, &pools[i]);
	if (removed)
		log_info("lan-mode proxy-arp: %u proxy entries on %s removed "
			 "%s", removed, s->lan.ifname, when);
}

/* Last of the start (nothing can fail after it, so lanmode_stop closes
 * it), while vpnd is still root. Without it clients are still answered
 * for: only a move between nodes takes the LAN's caches' time. */
static void
open_announce(struct server *s)
{
	struct lanmode *lan = &s->lan;
	const struct vpnd_config *c = s->cfg;
	bool lost4, lost6;
	int ret;

	ret = announce_open(&lan->announce, lan->ifindex, lan->ifname,
			    c->has_pool4, c->has_pool6);
	if (!ret)
		return;
	lost4 = c->has_pool4 && !announce_can(&lan->announce, AF_INET);
	lost6 = c->has_pool6 && !announce_can(&lan->announce, AF_INET6);
	log_warn("lan-mode proxy-arp: cannot announce clients' %s addresses "
		 "on %s (%s%s): one that moves here from another node is "
		 "reached from the LAN only once its hosts give the old node "
		 "up, up to a minute",
		 lost4 && lost6 ? "IPv4 and IPv6" : lost4 ? "IPv4" : "IPv6",
		 lan->ifname,
		 ret == -EPFNOSUPPORT ? "not an Ethernet interface"
				      : strerror(-ret),
		 ret == -EPERM || ret == -EAFNOSUPPORT
			 ? ": it needs CAP_NET_RAW, and AF_PACKET sockets "
			   "for IPv4, at start"
			 : "");
}

static int
start_proxy_arp(struct server *s)
{
	char name[SYSCTL_NAME_LEN];
	struct prefix pools[2];
	unsigned int i, n = pools_of(s->cfg, pools);
	int ret = 0;

	for (i = 0; i < n && !ret; i++)
		ret = check_pool(s, &pools[i]);
	if (!ret)
		ret = forwarding_on(s);
	if (!ret && s->cfg->has_pool6) {
		snprintf(name, sizeof(name), "net/ipv6/conf/%s/proxy_ndp",
			 s->lan.ifname);
		ret = sysctl_on(s, name);
	}
	if (!ret)
		sweep(s, "(left by an earlier run)");
	if (!ret)
		open_announce(s);
	return ret;
}

/* The client's address of `family`, if it has one vpnd may proxy. */
static const uint8_t *
client_addr(const struct server *s, const struct peer *p, int family)
{
	const struct peer_admission *a = &p->login.admission;
	const struct vpnd_config *c = s->cfg;

	if (family == AF_INET)
		return a->has_addr4 && c->has_pool4 &&
				       pool_contains(&c->pool4, a->addr4)
			       ? a->addr4
			       : NULL;
	return a->has_addr6 && c->has_pool6 &&
			       pool_contains(&c->pool6, a->addr6)
		       ? a->addr6
		       : NULL;
}

/* The entry for addr was just added: the LAN's hosts may still hold
 * another node's MAC address for it. */
static void
client_announce(struct server *s, int family, const uint8_t *addr,
		const char *text)
{
	int ret;

	if (!announce_can(&s->lan.announce, family))
		return;
	ret = announce_send(&s->lan.announce, family, addr);
	if (ret < 0)
		log_warn("lan-mode proxy-arp: cannot announce %s on %s: %s",
			 text, s->lan.ifname, strerror(-ret));
	else
		log_debug("lan-mode proxy-arp: %s announced on %s (%s)", text,
			  s->lan.ifname,
			  family == AF_INET ? "gratuitous ARP"
					    : "unsolicited neighbour "
					      "advertisement");
}

static void
client_set(struct server *s, const struct peer *p, int family, bool up)
{
	const uint8_t *addr = client_addr(s, p, family);
	uint8_t bits = (uint8_t)(prefix_addr_len(family) * 8);
	char text[PREFIX_STR_LEN];
	const char *what = "route";
	int ret;

	if (!addr)
		return;
	/* The route first, the proxy entry last: the LAN is never sent to
	 * an address this host cannot route on. */
	if (up) {
		ret = netlink_route_add(s->nl, s->ifindex, family, addr, bits,
					NULL, 0);
		if (!ret) {
			what = "proxy entry";
			ret = netlink_neigh_proxy_add(s->nl, s->lan.ifindex,
						      family, addr);
		}
	} else {
		what = "proxy entry";
		ret = netlink_neigh_proxy_del(s->nl, s->lan.ifindex, family,
					      addr);
		if (!ret) {
			what = "route";
			ret = netlink_route_del(s->nl, s->ifindex, family,
						addr, bits, NULL, 0);
		}
	}
	prefix_format_addr(family, addr, text);
	if (ret < 0) {
		log_warn("lan-mode proxy-arp: cannot %s the %s of %s: %s",
			 up ? "add" : "remove", what, text, strerror(-ret));
		return;
	}
	log_debug("lan-mode proxy-arp: %s %s on %s", text,
		  up ? "answered for" : "no longer answered for",
		  s->lan.ifname);
	if (up)
		client_announce(s, family, addr, text);
}

static bool
is_proxying(const struct server *s)
{
	return s->lan.is_active && s->lan.mode == VPND_LAN_PROXY_ARP && s->nl;
}

void
lanmode_client_up(struct server *s, struct peer *p)
{
	if (!is_proxying(s))
		return;
	client_set(s, p, AF_INET, true);
	client_set(s, p, AF_INET6, true);
}

void
lanmode_client_down(struct server *s, struct peer *p)
{
	const uint8_t *addr;
	int family;

	if (!is_proxying(s))
		return;
	for (family = AF_INET; family; family = family == AF_INET ? AF_INET6
								  : 0) {
		addr = client_addr(s, p, family);
		/* Moved to another client, whose entries these are now. */
		if (addr && route_owner(&s->routes, family, addr,
					prefix_addr_len(family) * 8))
			continue;
		client_set(s, p, family, false);
	}
}

/* ---- start and stop ------------------------------------------------------------ */

int
lanmode_start(struct server *s)
{
	const struct vpnd_config *c = s->cfg;
	struct lanmode *lan = &s->lan;
	struct prefix pools[2];
	unsigned int n = pools_of(c, pools);
	int ret;

	memset(lan, 0, sizeof(*lan));
	lan->mode = c->lan_mode;
	if (lan->mode == VPND_LAN_ROUTED)
		return forwarding_require(c->routes, c->n_routes);
	ret = find_lan(s);
	if (ret < 0)
		return ret;
	if (lan->mode == VPND_LAN_NAT) {
		ret = forwarding_on(s);
		if (!ret)
			ret = masq_start(&lan->masq, lan->ifname, pools, n);
	} else {
		ret = start_proxy_arp(s);
	}
	if (ret < 0)
		return ret;
	lan->is_active = true;
	log_notice("lan-mode %s on %s", mode_name(lan), lan->ifname);
	return 0;
}

void
lanmode_stop(struct server *s)
{
	struct lanmode *lan = &s->lan;

	if (!lan->is_active)
		return;
	if (lan->mode == VPND_LAN_NAT)
		masq_stop(&lan->masq);
	else if (s->nl)
		/* The host routes go with the device. */
		sweep(s, "at stop");
	announce_close(&lan->announce);
	lan->is_active = false;
}
