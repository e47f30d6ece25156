// SPDX-License-Identifier: MIT
/*
 * What vpnc takes of a pushed configuration, and from where it takes
 * packets (see policy.h for the rules and why). Pure: reads the decoded
 * AUTH_RESULT through login.h's iterators and writes a struct netconf and
 * a list of refusals, each already worded for the log.
 */
#include "policy.h"

#include "dnsname.h"

#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "netconf.h"

#define QUOTE_MAX_IN 40 /* bytes of a pushed text shown before "..." */
#define DEFAULT_MTU 1420
#define MTU_MIN 576
#define MTU_MAX 9000

static const char *const item_names[] = {
	[POLICY_ITEM_ADDRESS] = "address",
	[POLICY_ITEM_SUBNET] = "subnet",
	[POLICY_ITEM_GATEWAY] = "gateway",
	[POLICY_ITEM_ROUTE] = "route",
	[POLICY_ITEM_DNS] = "DNS server",
	[POLICY_ITEM_SEARCH] = "search domain",
	[POLICY_ITEM_MTU] = "MTU",
};

static const char *const reason_names[] = {
	[POLICY_NO_FULL_TUNNEL] = "no full-tunnel",
	[POLICY_NOT_ACCEPTED] = "outside accept-routes",
	[POLICY_COVERS_SERVER] = "covers the server",
	[POLICY_HOST_BITS] = "host bits set",
	[POLICY_PREFIX_LEN] = "prefix length",
	[POLICY_UNSPECIFIED] = "unspecified address",
	[POLICY_LOOPBACK] = "loopback",
	[POLICY_MULTICAST] = "multicast",
	[POLICY_BROADCAST] = "broadcast",
	[POLICY_IS_SERVER] = "the server's own address",
	[POLICY_IS_OURS] = "our own address",
	[POLICY_OUTSIDE_SUBNET] = "outside the tunnel subnet",
	[POLICY_NO_ADDRESS] = "no address of its family",
	[POLICY_NOT_DNS_NAME] = "not a DNS name",
	[POLICY_TOO_MANY] = "too many",
	[POLICY_OUT_OF_RANGE] = "outside 576-9000",
	[POLICY_EXCLUDED] = "excluded",
};

/* The server's outer address, as the rules need it. */
struct server {
	int family;
	uint8_t addr[16];
};

void
policy_rules_defaults(struct policy_rules *r)
{
	memset(r, 0, sizeof(*r));
	r->accept[0].family = AF_INET;
	r->accept[1].family = AF_INET6;
	r->n_accept = 2;
	r->full_tunnel = false;
}

/* ---- refusals ---------------------------------------------------------- */

/* Pushed text for a log line: quoted, C escapes for anything that is not
 * printable ASCII, cut after QUOTE_MAX_IN bytes. */
static void
quote(char *out, size_t cap, const uint8_t *s, size_t len)
{
	size_t n = 0, i;

	n += (size_t)snprintf(out + n, cap - n, "\"");
	for (i = 0; i < len && i < QUOTE_MAX_IN && n < cap; i++) {
		uint8_t ch = s[i];

		if (ch == '\t')
			n += (size_t)snprintf(out + n, cap - n, "\\t");
		else if (ch == '\n')
			n += (size_t)snprintf(out + n, cap - n, "\\n");
		else if (ch == '"' || ch == '\\')
			n += (size_t)snprintf(out + n, cap - n, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			n += (size_t)snprintf(out + n, cap - n, "\\x%02x", ch);
		else
			n += (size_t)snprintf(out + n, cap - n, "%c", ch);
	}
	if (n < cap)
		snprintf(out + n, cap - n, "%s\"", len > QUOTE_MAX_IN ? "..." : "");
}

/* Records one refusal: the item, what was pushed, and why (with an
 * optional detail after the reason). */
static void
refuse(struct policy_refusals *rf, enum policy_item item, const char *what,
       enum policy_reason why, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void
refuse(struct policy_refusals *rf, enum policy_item item, const char *what,
       enum policy_reason why, const char *fmt, ...)
{
	struct policy_refusal *r;
	char detail[96] = "";
	va_list ap;

	if (rf->n == POLICY_MAX_REFUSED) {
		rf->n_more++;
		return;
	}
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	r = &rf->r[rf->n++];
	r->item = item;
	r->reason = why;
	snprintf(r->text, sizeof(r->text), "%s %s (%s%s)", item_names[item],
		 what, reason_names[why], detail);
}

char *
policy_refusals_format(const struct policy_refusals *rf, char *out,
		       size_t cap)
{
	/* Room kept for ", and 99 more". */
	size_t n = 0, tail = 24, i;
	unsigned int left;

	if (!cap)
		return out;
	out[0] = '\0';
	for (i = 0; i < rf->n; i++) {
		size_t len = strlen(rf->r[i].text) + (i ? 2 : 0);

		if (n + len + tail >= cap)
			break;
		n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? ", " : "",
				      rf->r[i].text);
	}
	left = (unsigned int)(rf->n - i) + rf->n_more;
	if (left && n + tail < cap)
		snprintf(out + n, cap - n, "%sand %u more", n ? ", " : "",
			 left);
	return out;
}

/* ---- addresses and prefixes -------------------------------------------- */

static unsigned int
family_bits(int family)
{
	return (unsigned int)prefix_addr_len(family) * 8;
}

static void
set_prefix(struct prefix *p, int family, const uint8_t *addr, uint8_t len)
{
	memset(p, 0, sizeof(*p));
	p->family = family;
	memcpy(p->addr, addr, prefix_addr_len(family));
	p->len = len;
}

static bool
all_zero(const uint8_t *a, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (a[i])
			return false;
	return true;
}

/* Why an IPv4 address is no unicast host address, or -1. */
static int
problem4(const uint8_t *a)
{
	static const uint8_t bcast[4] = { 255, 255, 255, 255 };

	if (a[0] == 0)
		return POLICY_UNSPECIFIED; /* 0.0.0.0/8: "this network" */
	if (a[0] == 127)
		return POLICY_LOOPBACK;
	if (a[0] >= 224 && a[0] <= 239)
		return POLICY_MULTICAST;
	if (memcmp(a, bcast, 4) == 0)
		return POLICY_BROADCAST;
	return -1;
}

/* The same for either family; an IPv4-mapped IPv6 address is judged as
 * its IPv4 form. */
static int
addr_problem(int family, const uint8_t *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0,
					    0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t loop6[16] = { [15] = 1 };

	if (family == AF_INET)
		return problem4(a);
	if (memcmp(a, mapped, sizeof(mapped)) == 0)
		return problem4(a + 12);
	if (all_zero(a, 16))
		return POLICY_UNSPECIFIED;
	if (memcmp(a, loop6, 16) == 0)
		return POLICY_LOOPBACK;
	if (a[0] == 0xff)
		return POLICY_MULTICAST;
	return -1;
}

static bool
is_server(const struct server *s, int family, const uint8_t *a)
{
	return s->family == family &&
	       memcmp(s->addr, a, prefix_addr_len(family)) == 0;
}

/* True if the whole of r lies inside one of the accept-routes. */
static bool
accepted(const struct policy_rules *rules, const struct prefix *r)
{
	unsigned int i;

	for (i = 0; i < rules->n_accept; i++)
		if (rules->accept[i].len <= r->len &&
		    prefix_contains(&rules->accept[i], r->family, r->addr))
			return true;
	return false;
}

/* True if the whole of r lies inside one of exclude. */
static bool
excluded(const struct policy_rules *rules, const struct prefix *r)
{
	unsigned int i;

	for (i = 0; i < rules->n_exclude; i++)
		if (rules->exclude[i].len <= r->len &&
		    prefix_contains(&rules->exclude[i], r->family, r->addr))
			return true;
	return false;
}

/* /0, or a /1 half of it: pushed alone, a half still takes half the
 * world, so it needs the same consent as the whole. */
static bool
is_default_route(const struct prefix *r)
{
	return r->len <= 1;
}

/*
 * Why a route may not go onto the device (it is not a default route), or
 * -1 if it may. The subnet of a pushed address is judged the same way.
 */
static int
route_problem(const struct policy_rules *rules, const struct server *s,
	      const struct prefix *r)
{
	if (!accepted(rules, r))
		return POLICY_NOT_ACCEPTED;
	if (prefix_contains(r, s->family, s->addr))
		return POLICY_COVERS_SERVER;
	return -1;
}

/* " 192.0.2.1", the detail after "covers the server". */
static const char *
server_text(const struct server *s, char out[PREFIX_STR_LEN + 1])
{
	out[0] = ' ';
	prefix_format_addr(s->family, s->addr, out + 1);
	return out;
}

/* ---- the pushed items --------------------------------------------------- */

/*
 * ADDRESS4/6: false if refused (the login is then unusable). On success
 * `out` holds the address with the prefix length to install: its
 * subnet's, or the host's if the subnet may not be routed.
 */
static bool
take_address(const struct policy_rules *rules, const struct server *s,
	     int family, const uint8_t *addr, uint8_t len, struct prefix *out,
	     struct policy_refusals *rf)
{
	unsigned int bits = family_bits(family);
	unsigned int min = family == AF_INET ? POLICY_ADDR4_MIN_LEN
					     : POLICY_ADDR6_MIN_LEN;
	char text[PREFIX_STR_LEN], who[PREFIX_STR_LEN + 1];
	struct prefix subnet;
	int why;

	set_prefix(out, family, addr, len);
	prefix_format(out, text);
	if (len < min || len > bits) {
		refuse(rf, POLICY_ITEM_ADDRESS, text, POLICY_PREFIX_LEN,
		       " not /%u-/%u", min, bits);
		return false;
	}
	why = addr_problem(family, addr);
	if (why < 0 && is_server(s, family, addr))
		why = POLICY_IS_SERVER;
	if (why >= 0) {
		refuse(rf, POLICY_ITEM_ADDRESS, text, (enum policy_reason)why,
		       NULL);
		return false;
	}
	if (len == bits)
		return true;
	subnet = *out;
	prefix_mask(&subnet);
	why = route_problem(rules, s, &subnet);
	if (why < 0)
		return true;
	refuse(rf, POLICY_ITEM_SUBNET, prefix_format(&subnet, text),
	       (enum policy_reason)why, "%s; the address is used alone",
	       why == POLICY_COVERS_SERVER ? server_text(s, who) : "");
	out->len = (uint8_t)bits;
	return true;
}

/* GATEWAY4/6: trusted only inside the subnet pushed with our address. */
static void
take_gateway(const struct server *s, int family, const uint8_t *gw,
	     bool has_addr, const struct prefix *pushed, struct prefix *out,
	     bool *has, struct policy_refusals *rf)
{
	char text[PREFIX_STR_LEN];
	int why = addr_problem(family, gw);

	prefix_format_addr(family, gw, text);
	if (why < 0 && !has_addr)
		why = POLICY_NO_ADDRESS;
	if (why < 0 && is_server(s, family, gw))
		why = POLICY_IS_SERVER;
	if (why < 0 && memcmp(gw, pushed->addr, prefix_addr_len(family)) == 0)
		why = POLICY_IS_OURS;
	if (why < 0 && !prefix_contains(pushed, family, gw))
		why = POLICY_OUTSIDE_SUBNET;
	if (why >= 0) {
		refuse(rf, POLICY_ITEM_GATEWAY, text, (enum policy_reason)why,
		       NULL);
		return;
	}
	set_prefix(out, family, gw, (uint8_t)family_bits(family));
	*has = true;
}

static void
take_route(const struct policy_rules *rules, const struct server *s,
	   struct prefix *r, struct netconf *nc, unsigned int *dropped,
	   struct policy_refusals *rf)
{
	char text[PREFIX_STR_LEN], who[PREFIX_STR_LEN + 1];
	int why = -1;

	if (!prefix_is_network(r))
		why = POLICY_HOST_BITS;
	else if (is_default_route(r) && !rules->full_tunnel)
		why = POLICY_NO_FULL_TUNNEL;
	else if (!is_default_route(r))
		why = route_problem(rules, s, r);
	if (why < 0 && excluded(rules, r))
		why = POLICY_EXCLUDED;
	if (why >= 0) {
		refuse(rf, POLICY_ITEM_ROUTE, prefix_format(r, text),
		       (enum policy_reason)why, "%s",
		       why == POLICY_COVERS_SERVER ? server_text(s, who) : "");
		return;
	}
	if (nc->n_routes == NETCONF_MAX_ROUTES) {
		(*dropped)++;
		return;
	}
	nc->routes[nc->n_routes++] = *r;
}

static void
take_routes(const struct policy_rules *rules, const struct server *s,
	    const struct login_msg *m, struct netconf *nc,
	    struct policy_refusals *rf)
{
	struct login_iter it;
	struct login_prefix4 r4;
	struct login_prefix6 r6;
	struct prefix r;
	unsigned int dropped = 0;
	char text[32];

	login_iter_init(&it, m);
	while (login_next_route4(&it, &r4)) {
		set_prefix(&r, AF_INET, r4.addr, r4.prefix_len);
		take_route(rules, s, &r, nc, &dropped, rf);
	}
	login_iter_init(&it, m);
	while (login_next_route6(&it, &r6)) {
		set_prefix(&r, AF_INET6, r6.addr, r6.prefix_len);
		take_route(rules, s, &r, nc, &dropped, rf);
	}
	if (dropped) {
		snprintf(text, sizeof(text), "past the %dth (%u)",
			 NETCONF_MAX_ROUTES, dropped);
		refuse(rf, POLICY_ITEM_ROUTE, text, POLICY_TOO_MANY, NULL);
	}
}

static void
take_dns(struct netconf *nc, int family, const uint8_t *a,
	 unsigned int *dropped, struct policy_refusals *rf)
{
	char text[PREFIX_STR_LEN];
	int why = addr_problem(family, a);

	if (why >= 0) {
		refuse(rf, POLICY_ITEM_DNS, prefix_format_addr(family, a, text),
		       (enum policy_reason)why, NULL);
		return;
	}
	if (nc->n_dns == NETCONF_MAX_DNS) {
		(*dropped)++;
		return;
	}
	set_prefix(&nc->dns[nc->n_dns++], family, a,
		   (uint8_t)family_bits(family));
}

static void
take_search(struct netconf *nc, const struct login_text *t,
	    unsigned int *dropped, struct policy_refusals *rf)
{
	char text[QUOTE_MAX_IN * 4 + 8];

	if (!dnsname_valid(t->ptr, t->len)) {
		quote(text, sizeof(text), t->ptr, t->len);
		refuse(rf, POLICY_ITEM_SEARCH, text, POLICY_NOT_DNS_NAME, NULL);
		return;
	}
	if (nc->n_search == NETCONF_MAX_DNS) {
		(*dropped)++;
		return;
	}
	memcpy(nc->search[nc->n_search], t->ptr, t->len);
	nc->search[nc->n_search++][t->len] = '\0';
}

static void
take_resolver(const struct login_msg *m, struct netconf *nc,
	      struct policy_refusals *rf)
{
	unsigned int dropped_dns = 0, dropped_search = 0;
	struct login_iter it;
	struct login_text t;
	uint8_t a[16];
	char text[32];

	login_iter_init(&it, m);
	while (login_next_dns4(&it, a))
		take_dns(nc, AF_INET, a, &dropped_dns, rf);
	login_iter_init(&it, m);
	while (login_next_dns6(&it, a))
		take_dns(nc, AF_INET6, a, &dropped_dns, rf);
	login_iter_init(&it, m);
	while (login_next_dns_search(&it, &t))
		take_search(nc, &t, &dropped_search, rf);
	if (dropped_dns) {
		snprintf(text, sizeof(text), "past the %dth (%u)",
			 NETCONF_MAX_DNS, dropped_dns);
		refuse(rf, POLICY_ITEM_DNS, text, POLICY_TOO_MANY, NULL);
	}
	if (dropped_search) {
		snprintf(text, sizeof(text), "past the %dth (%u)",
			 NETCONF_MAX_DNS, dropped_search);
		refuse(rf, POLICY_ITEM_SEARCH, text, POLICY_TOO_MANY, NULL);
	}
}

static void
take_mtu(const struct login_msg *m, struct netconf *nc,
	 struct policy_refusals *rf)
{
	char text[16];

	nc->mtu = DEFAULT_MTU;
	if (!login_has(m, LOGIN_ATTR_MTU))
		return;
	if (m->mtu >= MTU_MIN && m->mtu <= MTU_MAX) {
		nc->mtu = m->mtu;
		return;
	}
	snprintf(text, sizeof(text), "%u", m->mtu);
	refuse(rf, POLICY_ITEM_MTU, text, POLICY_OUT_OF_RANGE,
	       "; %d used", DEFAULT_MTU);
}

enum policy_decision
policy_decide(const struct policy_rules *rules, int server_family,
	      const uint8_t *server, const struct login_msg *m,
	      struct netconf *nc, struct policy_refusals *rf)
{
	struct server s = { .family = AF_UNSPEC };
	struct prefix pushed4, pushed6;
	bool ok = true;

	memset(&pushed4, 0, sizeof(pushed4));
	memset(&pushed6, 0, sizeof(pushed6));
	memset(nc, 0, sizeof(*nc));
	memset(rf, 0, sizeof(*rf));
	if (server && (server_family == AF_INET || server_family == AF_INET6)) {
		s.family = server_family;
		memcpy(s.addr, server, prefix_addr_len(server_family));
	}
	if (login_has(m, LOGIN_ATTR_ADDRESS4)) {
		set_prefix(&pushed4, AF_INET, m->address4.addr,
			   m->address4.prefix_len);
		nc->has_addr4 = take_address(rules, &s, AF_INET,
					     m->address4.addr,
					     m->address4.prefix_len,
					     &nc->addr4, rf);
		ok &= nc->has_addr4;
	}
	if (login_has(m, LOGIN_ATTR_ADDRESS6)) {
		set_prefix(&pushed6, AF_INET6, m->address6.addr,
			   m->address6.prefix_len);
		nc->has_addr6 = take_address(rules, &s, AF_INET6,
					     m->address6.addr,
					     m->address6.prefix_len,
					     &nc->addr6, rf);
		ok &= nc->has_addr6;
	}
	/* Behind a refused address, a gateway is not worth a word more. */
	if (login_has(m, LOGIN_ATTR_GATEWAY4) &&
	    (nc->has_addr4 || !login_has(m, LOGIN_ATTR_ADDRESS4)))
		take_gateway(&s, AF_INET, m->gateway4, nc->has_addr4,
			     &pushed4, &nc->gw4, &nc->has_gw4, rf);
	if (login_has(m, LOGIN_ATTR_GATEWAY6) &&
	    (nc->has_addr6 || !login_has(m, LOGIN_ATTR_ADDRESS6)))
		take_gateway(&s, AF_INET6, m->gateway6, nc->has_addr6,
			     &pushed6, &nc->gw6, &nc->has_gw6, rf);
	take_routes(rules, &s, m, nc, rf);
	memcpy(nc->exclude, rules->exclude, sizeof(nc->exclude));
	nc->n_exclude = rules->n_exclude;
	take_resolver(m, nc, rf);
	take_mtu(m, nc, rf);
	nc->keepalive_s = m->keepalive_s;
	nc->expires_s = m->session_expires_s;
	if (!ok || (!nc->has_addr4 && !nc->has_addr6))
		return POLICY_UNUSABLE;
	return POLICY_APPLY;
}

/* ---- names and sources ------------------------------------------------- */

static bool
from_prefix(const struct prefix *p, bool has, int family, const uint8_t *src)
{
	return has && prefix_contains(p, family, src);
}

bool
policy_source_allowed(const struct netconf *nc, const uint8_t *pkt,
		      size_t len)
{
	const uint8_t *src;
	unsigned int i;
	int family;

	if (len >= 20 && pkt[0] >> 4 == 4) {
		family = AF_INET;
		src = pkt + 12;
	} else if (len >= 40 && pkt[0] >> 4 == 6) {
		family = AF_INET6;
		src = pkt + 8;
	} else {
		return false;
	}
	if (from_prefix(&nc->gw4, nc->has_gw4, family, src) ||
	    from_prefix(&nc->gw6, nc->has_gw6, family, src) ||
	    from_prefix(&nc->addr4, nc->has_addr4, family, src) ||
	    from_prefix(&nc->addr6, nc->has_addr6, family, src))
		return true;
	for (i = 0; i < nc->n_exclude; i++)
		if (prefix_contains(&nc->exclude[i], family, src))
			return false;
	for (i = 0; i < nc->n_routes; i++)
		if (prefix_contains(&nc->routes[i], family, src))
			return true;
	return false;
}
