// SPDX-License-Identifier: MIT
/*
 * The routes outside vpnc's device (see fence.h): planning them from the
 * pushed configuration and vpnc.conf, and installing and removing them in
 * an order that never opens a gap.
 */
#include "fence.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "log.h"
#include "netlink.h"

static const char *const kind_names[] = {
	[FENCE_PIN] = "the way to the server",
	[FENCE_EXCLUDE] = "excluded",
	[FENCE_BACKSTOP] = "blocked while the tunnel is down",
	[FENCE_LAN] = "local network blocked (allow-lan = no)",
};

bool
fence_is_full(const struct netconf *nc)
{
	unsigned int i;

	for (i = 0; i < nc->n_routes; i++)
		if (nc->routes[i].len <= 1)
			return true;
	return false;
}

/* ---- planning ------------------------------------------------------------ */

static bool
add(struct fence *f, enum fence_kind kind, const struct prefix *dst,
    bool is_unreachable)
{
	struct fence_item *it;

	if (f->n == FENCE_MAX)
		return false;
	it = &f->items[f->n++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->route.dst = *dst;
	it->route.is_unreachable = is_unreachable;
	it->route.metric = is_unreachable ? FENCE_METRIC : 0;
	return true;
}

/* The two halves of p, each one bit longer: unreachable routes that beat
 * p itself by length. */
static bool
add_halves(struct fence *f, enum fence_kind kind, const struct prefix *p)
{
	size_t bits = prefix_addr_len(p->family) * 8;
	struct prefix half = *p;
	bool ok;

	if (p->len >= bits)
		return add(f, kind, p, true);
	prefix_mask(&half);
	half.len = (uint8_t)(p->len + 1);
	ok = add(f, kind, &half, true);
	half.addr[p->len / 8] |= (uint8_t)(0x80 >> (p->len % 8));
	return add(f, kind, &half, true) && ok;
}

/* True if some tunnel route overlaps p: an exclude with nothing to
 * exclude from needs no route. */
static bool
tunnelled(const struct netconf *nc, const struct prefix *p)
{
	unsigned int i;

	for (i = 0; i < nc->n_routes; i++)
		if (prefix_overlaps(&nc->routes[i], p))
			return true;
	return false;
}

static bool
inside_exclude(const struct policy_rules *rules, const struct prefix *p)
{
	unsigned int i;

	for (i = 0; i < rules->n_exclude; i++)
		if (rules->exclude[i].len <= p->len &&
		    prefix_contains(&rules->exclude[i], p->family, p->addr))
			return true;
	return false;
}

bool
fence_plan(const struct policy_rules *rules, const struct netconf *nc,
	   int server_family, const uint8_t *server,
	   const struct prefix *lan, unsigned int n_lan, struct fence *want)
{
	static const int families[] = { AF_INET, AF_INET6 };
	bool full = fence_is_full(nc), ok = true;
	struct prefix p;
	unsigned int i;

	memset(want, 0, sizeof(*want));
	if (full && (server_family == AF_INET || server_family == AF_INET6)) {
		memset(&p, 0, sizeof(p));
		p.family = server_family;
		memcpy(p.addr, server, prefix_addr_len(server_family));
		p.len = (uint8_t)(prefix_addr_len(server_family) * 8);
		ok &= add(want, FENCE_PIN, &p, false);
	}
	for (i = 0; i < rules->n_exclude; i++)
		if (full || tunnelled(nc, &rules->exclude[i]))
			ok &= add(want, FENCE_EXCLUDE, &rules->exclude[i],
				  false);
	if (!full)
		return ok;
	for (i = 0; i < 2; i++) {
		memset(&p, 0, sizeof(p));
		p.family = families[i];
		ok &= add_halves(want, FENCE_BACKSTOP, &p);
	}
	for (i = 0; i < n_lan && !rules->allow_lan; i++)
		if (!inside_exclude(rules, &lan[i]))
			ok &= add_halves(want, FENCE_LAN, &lan[i]);
	return ok;
}

/* ---- applying ------------------------------------------------------------ */

static bool
same_route(const struct rtnl_route *a, const struct rtnl_route *b)
{
	return a->is_unreachable == b->is_unreachable &&
	       a->dst.family == b->dst.family && a->dst.len == b->dst.len &&
	       memcmp(a->dst.addr, b->dst.addr, sizeof(a->dst.addr)) == 0;
}

static const struct fence_item *
find(const struct fence *f, const struct rtnl_route *r)
{
	unsigned int i;

	for (i = 0; i < f->n; i++)
		if (same_route(&f->items[i].route, r))
			return &f->items[i];
	return NULL;
}

void
fence_merge(const struct fence *a, const struct fence *b, struct fence *out)
{
	unsigned int i;

	*out = *a;
	for (i = 0; i < b->n && out->n < FENCE_MAX; i++)
		if (!find(a, &b->items[i].route))
			out->items[out->n++] = b->items[i];
}

static void
drop(struct fence *f, unsigned int i)
{
	f->items[i] = f->items[--f->n];
}

/* Takes out the items of `have` of one sort (unreachable or not) that
 * `keep` lacks (NULL: all of them). */
static void
remove_unwanted(struct rtnl *rt, struct fence *have, const struct fence *keep,
		bool is_unreachable)
{
	char text[PREFIX_STR_LEN];
	unsigned int i = 0;
	int ret;

	while (i < have->n) {
		struct rtnl_route *r = &have->items[i].route;

		if (r->is_unreachable != is_unreachable ||
		    (keep && find(keep, r))) {
			i++;
			continue;
		}
		ret = rtnl_route_del(rt, r);
		if (ret < 0)
			log_warn("cannot remove the route to %s (%s): %s",
				 prefix_format(&r->dst, text),
				 kind_names[have->items[i].kind],
				 strerror(-ret));
		else
			log_debug("route to %s removed (%s)",
				  prefix_format(&r->dst, text),
				  kind_names[have->items[i].kind]);
		drop(have, i);
	}
}

/*
 * The way a pin of `family` in `before` took, for a new pin whose own way
 * the backstop hides: vpnc moving to another server while its device is
 * down. The new server lies outside as the old one did, through the same
 * gateway (both are the same service's nodes).
 */
static bool
old_pin_way(const struct fence *before, int family, struct netlink_route *out)
{
	const struct rtnl_route *r;
	unsigned int i;

	for (i = 0; before && i < before->n; i++) {
		r = &before->items[i].route;
		if (before->items[i].kind != FENCE_PIN || r->dst.family != family)
			continue;
		memset(out, 0, sizeof(*out));
		out->oif = r->oif;
		out->has_gateway = r->has_gateway;
		memcpy(out->gateway, r->gateway, sizeof(out->gateway));
		return true;
	}
	return false;
}

/* A pin or an exclude: out the way its first address goes now (for a
 * pin the backstop hides, the way of the pin in `before` it replaces). */
static int
route_outside(struct rtnl *rt, struct netlink *nl, struct fence_item *it,
	      const struct fence *before)
{
	struct rtnl_route *r = &it->route;
	char text[PREFIX_STR_LEN], via[PREFIX_STR_LEN];
	struct netlink_route now;
	int ret;

	ret = netlink_route_get(nl, r->dst.family, r->dst.addr, &now);
	if (ret < 0 && it->kind == FENCE_PIN &&
	    old_pin_way(before, r->dst.family, &now)) {
		log_debug("the way to %s is hidden (%s): taking the previous "
			  "server's", prefix_format(&r->dst, text),
			  strerror(-ret));
		ret = 0;
	}
	if (ret < 0) {
		log_err("cannot find the way to %s outside the tunnel (%s): "
			"%s", prefix_format(&r->dst, text),
			kind_names[it->kind], strerror(-ret));
		return ret;
	}
	r->oif = now.oif;
	r->has_gateway = now.has_gateway;
	memcpy(r->gateway, now.gateway, sizeof(r->gateway));
	ret = rtnl_route_add(rt, r);
	if (ret < 0 && ret != -EEXIST) {
		log_err("cannot route %s outside the tunnel (%s): %s",
			prefix_format(&r->dst, text), kind_names[it->kind],
			strerror(-ret));
		return ret;
	}
	log_info("%s: %s %s%s", kind_names[it->kind],
		 prefix_format(&r->dst, text),
		 ret == -EEXIST ? "already routed outside" : "outside, via ",
		 ret == -EEXIST ? ""
		 : r->has_gateway
			 ? prefix_format_addr(r->dst.family, r->gateway, via)
			 : "the link");
	return ret;
}

static int
add_wanted(struct rtnl *rt, struct netlink *nl, struct fence *have,
	   const struct fence *want, const struct fence *before,
	   bool is_unreachable)
{
	char text[PREFIX_STR_LEN];
	struct fence_item it;
	unsigned int i;
	int ret;

	for (i = 0; i < want->n; i++) {
		it = want->items[i];
		if (it.route.is_unreachable != is_unreachable ||
		    find(have, &it.route))
			continue;
		if (have->n == FENCE_MAX)
			return -ENOSPC;
		if (is_unreachable) {
			ret = rtnl_route_add(rt, &it.route);
			if (ret == 0)
				log_debug("%s: %s unreachable",
					  kind_names[it.kind],
					  prefix_format(&it.route.dst, text));
			else
				log_err("cannot add the unreachable route %s "
					"(%s): %s",
					prefix_format(&it.route.dst, text),
					kind_names[it.kind], strerror(-ret));
		} else {
			ret = route_outside(rt, nl, &it, before);
		}
		/* Someone else's route to the same place: not ours to
		 * remove, and it does the same. */
		if (ret == -EEXIST)
			continue;
		if (ret < 0)
			return ret;
		have->items[have->n++] = it;
	}
	return 0;
}

int
fence_apply(struct rtnl *rt, struct netlink *nl, struct fence *have,
	    const struct fence *want)
{
	/* What was installed: a new pin may need the old one's way. */
	struct fence before = *have;
	int ret;

	remove_unwanted(rt, have, want, true);
	remove_unwanted(rt, have, want, false);
	/* The ways outside are found before a new backstop could hide
	 * them. */
	ret = add_wanted(rt, nl, have, want, &before, false);
	if (ret == 0)
		ret = add_wanted(rt, nl, have, want, &before, true);
	return ret;
}

void
fence_clear(struct rtnl *rt, struct fence *have)
{
	remove_unwanted(rt, have, NULL, true);
	remove_unwanted(rt, have, NULL, false);
}
