// SPDX-License-Identifier: MIT
/*
 * rtnetlink requests through libmnl (see netlink.h): each call builds one
 * message, sends it with NLM_F_ACK and reads until the kernel's answer to
 * that sequence number, so a call's result is the kernel's verdict on it;
 * a listing reads its dump to the end (NLMSG_DONE).
 * One buffer per handle: a struct netlink serves one thread at a time.
 * Never runs `ip`, never listens to multicast groups, and decides nothing
 * about what to configure; the callers do.
 */
#include "netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Our requests and the kernel's answers to them are a few hundred bytes;
 * this is libmnl's MNL_SOCKET_BUFFER_SIZE at its largest. */
#define MSG_BUF_LEN 8192

struct netlink {
	alignas(struct nlmsghdr) uint8_t buf[MSG_BUF_LEN];
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
};

/* What a listing collects from its dump. */
struct listing {
	struct netlink_addr *out;
	size_t max, n;
	int ifindex; /* 0: any */
	int family;
	bool is_cut;  /* more than max */
};

/* What the RTM_GETROUTE answer fills in. */
struct route_reply {
	struct netlink_route *out;
	int family;
	bool has_oif;
};

static size_t
addr_len(int family)
{
	if (family == AF_INET)
		return 4;
	if (family == AF_INET6)
		return 16;
	return 0;
}

static int
check_addr(int family, const uint8_t *addr, uint8_t prefix_len)
{
	size_t len = addr_len(family);

	if (!len)
		return -EAFNOSUPPORT;
	if (!addr || prefix_len > len * 8)
		return -EINVAL;
	return 0;
}

static struct nlmsghdr *
msg_start(struct netlink *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);

	/* Zero would turn off libmnl's sequence check. */
	if (++nl->seq == 0)
		nl->seq = 1;
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = nl->seq;
	return nlh;
}

/* An answer to an earlier request, whose caller gave up before the ACK
 * (a failed recv). The kernel never mixes two requests' answers in one
 * datagram, so the first header speaks for all of it. */
static bool
is_stale(const void *buf, size_t len, uint32_t seq)
{
	const struct nlmsghdr *nlh = buf;

	return mnl_nlmsg_ok(nlh, (int)len) && nlh->nlmsg_seq != seq;
}

/* Sends nlh and feeds every answer to cb until the ACK. The answers
 * overwrite the request: both live in nl->buf. */
static int
transact(struct netlink *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (is_stale(nl->buf, (size_t)n, nl->seq))
			continue;
		ret = mnl_cb_run(nl->buf, (size_t)n, nl->seq, nl->portid, cb,
				 data);
		if (ret == MNL_CB_STOP)
			return 0;
		if (ret == MNL_CB_ERROR)
			return -errno;
	}
}

int
netlink_open(struct netlink **out)
{
	struct netlink *nl;
	int ret;

	if (!out)
		return -EINVAL;
	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		goto err;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
		goto err;
	nl->portid = mnl_socket_get_portid(nl->sock);
	*out = nl;
	return 0;
err:
	ret = -errno;
	netlink_close(nl);
	return ret;
}

void
netlink_close(struct netlink *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl);
}

/* RTM_NEWLINK on an existing index changes it; it creates nothing
 * without NLM_F_CREATE. */
static struct nlmsghdr *
link_msg(struct netlink *nl, int ifindex, unsigned int flags,
	 unsigned int change)
{
	struct nlmsghdr *nlh = msg_start(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi;

	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	ifi->ifi_change = change;
	return nlh;
}

int
netlink_link_set_mtu(struct netlink *nl, int ifindex, unsigned int mtu)
{
	struct nlmsghdr *nlh;

	if (!nl || ifindex <= 0)
		return -EINVAL;
	nlh = link_msg(nl, ifindex, 0, 0);
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return transact(nl, nlh, NULL, NULL);
}

int
netlink_link_set_up(struct netlink *nl, int ifindex, bool up)
{
	struct nlmsghdr *nlh;

	if (!nl || ifindex <= 0)
		return -EINVAL;
	nlh = link_msg(nl, ifindex, up ? IFF_UP : 0, IFF_UP);
	return transact(nl, nlh, NULL, NULL);
}

static int
addr_request(struct netlink *nl, uint16_t type, uint16_t flags, int ifindex,
	     int family, const uint8_t *addr, uint8_t prefix_len)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int ret;

	ret = check_addr(family, addr, prefix_len);
	if (ret < 0)
		return ret;
	if (!nl || ifindex <= 0)
		return -EINVAL;
	nlh = msg_start(nl, type, flags);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = prefix_len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	/* Duplicate address detection would hold the address back for
	 * about a second; the tunnel's addresses are ours alone. */
	if (type == RTM_NEWADDR && family == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD;
	/* IFA_ADDRESS is the peer on point-to-point links; the same as
	 * IFA_LOCAL says "no peer", and the prefix covers the subnet. */
	mnl_attr_put(nlh, IFA_LOCAL, addr_len(family), addr);
	mnl_attr_put(nlh, IFA_ADDRESS, addr_len(family), addr);
	return transact(nl, nlh, NULL, NULL);
}

int
netlink_addr_add(struct netlink *nl, int ifindex, int family,
		 const uint8_t *addr, uint8_t prefix_len)
{
	/* REPLACE: an existing address is refreshed instead of refused. */
	return addr_request(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE,
			    ifindex, family, addr, prefix_len);
}

int
netlink_addr_del(struct netlink *nl, int ifindex, int family,
		 const uint8_t *addr, uint8_t prefix_len)
{
	return addr_request(nl, RTM_DELADDR, 0, ifindex, family, addr,
			    prefix_len);
}

/* The kernel refuses IPv4 prefixes with host bits set and quietly clears
 * them for IPv6; clearing them here makes both families agree. */
static void
prefix_mask(uint8_t *out, const uint8_t *addr, size_t len, uint8_t prefix_len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned int bits = prefix_len > i * 8 ? prefix_len - i * 8 : 0;

		out[i] = bits >= 8 ? addr[i] :
				     addr[i] & (uint8_t)(0xff00u >> bits);
	}
}

static int
route_request(struct netlink *nl, uint16_t type, uint16_t flags, int ifindex,
	      int family, const uint8_t *dst, uint8_t prefix_len,
	      const uint8_t *gateway, uint32_t metric)
{
	uint8_t prefix[16];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	size_t len = addr_len(family);
	int ret;

	ret = check_addr(family, dst, prefix_len);
	if (ret < 0)
		return ret;
	if (!nl || ifindex <= 0)
		return -EINVAL;
	prefix_mask(prefix, dst, len, prefix_len);
	nlh = msg_start(nl, type, flags);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = prefix_len;
	rtm->rtm_table = RT_TABLE_MAIN;
	if (type == RTM_NEWROUTE) {
		rtm->rtm_protocol = RTPROT_BOOT;
		rtm->rtm_scope = gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
		rtm->rtm_type = RTN_UNICAST;
	} else {
		/* Scope, protocol and type as wildcards, as `ip route del`
		 * sends them: the route is found by what we do pass. */
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	}
	mnl_attr_put(nlh, RTA_DST, len, prefix);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	if (gateway)
		mnl_attr_put(nlh, RTA_GATEWAY, len, gateway);
	if (metric)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, metric);
	return transact(nl, nlh, NULL, NULL);
}

int
netlink_route_add(struct netlink *nl, int ifindex, int family,
		  const uint8_t *dst, uint8_t prefix_len,
		  const uint8_t *gateway, uint32_t metric)
{
	int ret;

	/* Without NLM_F_EXCL the kernel answers EEXIST only for the very
	 * same route (prefix, metric, device, gateway); a route to the same
	 * prefix elsewhere does not count as ours. */
	ret = route_request(nl, RTM_NEWROUTE, NLM_F_CREATE, ifindex, family,
			    dst, prefix_len, gateway, metric);
	return ret == -EEXIST ? 0 : ret;
}

int
netlink_route_del(struct netlink *nl, int ifindex, int family,
		  const uint8_t *dst, uint8_t prefix_len,
		  const uint8_t *gateway, uint32_t metric)
{
	int ret;

	ret = route_request(nl, RTM_DELROUTE, 0, ifindex, family, dst,
			    prefix_len, gateway, metric);
	/* ESRCH: no such route; ENOENT: no such table. Gone either way. */
	return ret == -ESRCH || ret == -ENOENT ? 0 : ret;
}

/* Address attributes of the wrong size are ignored, not trusted. */
static void
copy_addr(const struct nlattr *attr, size_t len, uint8_t *out, bool *has)
{
	if (mnl_attr_get_payload_len(attr) != len)
		return;
	memcpy(out, mnl_attr_get_payload(attr), len);
	*has = true;
}

static int
metric_attr(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == RTAX_MTU &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
		*(unsigned int *)data = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

/* RTAX_MTU of a route's RTA_METRICS; 0 if it has none. */
static unsigned int
metrics_mtu(const struct nlattr *metrics)
{
	unsigned int mtu = 0;

	mnl_attr_parse_nested(metrics, metric_attr, &mtu);
	return mtu;
}

static int
route_attr(const struct nlattr *attr, void *data)
{
	struct route_reply *r = data;
	size_t len = addr_len(r->family);

	switch (mnl_attr_get_type(attr)) {
	case RTA_OIF:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0) {
			r->out->oif = (int)mnl_attr_get_u32(attr);
			r->has_oif = true;
		}
		break;
	case RTA_GATEWAY:
		copy_addr(attr, len, r->out->gateway, &r->out->has_gateway);
		break;
	case RTA_PREFSRC:
		copy_addr(attr, len, r->out->prefsrc, &r->out->has_prefsrc);
		break;
	case RTA_METRICS:
		r->out->mtu = metrics_mtu(attr);
		break;
	}
	return MNL_CB_OK;
}

/* Never fails: an error here would leave the ACK unread. A malformed
 * answer simply yields no RTA_OIF. */
static int
route_msg(const struct nlmsghdr *nlh, void *data)
{
	struct route_reply *r = data;
	const struct rtmsg *rtm;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return MNL_CB_OK;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != r->family)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr, r);
	return MNL_CB_OK;
}

int
netlink_route_get(struct netlink *nl, int family, const uint8_t *dst,
		  struct netlink_route *out)
{
	struct route_reply reply = { .out = out, .family = family };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	size_t len = addr_len(family);
	int ret;

	ret = check_addr(family, dst, 0);
	if (ret < 0)
		return ret;
	if (!nl || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	nlh = msg_start(nl, RTM_GETROUTE, 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = (uint8_t)(len * 8);
	mnl_attr_put(nlh, RTA_DST, len, dst);
	ret = transact(nl, nlh, route_msg, &reply);
	if (ret == 0 && !reply.has_oif)
		ret = -ENETUNREACH;
	return ret;
}

/* ---- listings --------------------------------------------------------------- */

/* A dump ends with NLMSG_DONE and the kernel sends no ACK for it even
 * when asked (af_netlink.c, __netlink_dump_start), so none is asked. */
static struct nlmsghdr *
dump_start(struct netlink *nl, uint16_t type)
{
	struct nlmsghdr *nlh = msg_start(nl, type, NLM_F_DUMP);

	nlh->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
	return nlh;
}

static int
listing_start(struct listing *l, struct netlink *nl, int ifindex, int family,
	      struct netlink_addr *out, size_t max, size_t *n)
{
	if (!addr_len(family))
		return -EAFNOSUPPORT;
	if (!nl || ifindex < 0 || (!out && max) || !n)
		return -EINVAL;
	*n = 0;
	memset(l, 0, sizeof(*l));
	l->out = out;
	l->max = max;
	l->ifindex = ifindex;
	l->family = family;
	return 0;
}

/* Keeps reading past a full list: the dump must be read to its end. */
static void
listing_add(struct listing *l, int ifindex, const struct nlattr *attr,
	    unsigned int prefix_len)
{
	size_t len = addr_len(l->family);
	struct netlink_addr *a;

	if (!attr || mnl_attr_get_payload_len(attr) != len ||
	    prefix_len > len * 8)
		return;
	if (l->ifindex && ifindex != l->ifindex)
		return;
	if (l->n == l->max) {
		l->is_cut = true;
		return;
	}
	a = &l->out[l->n++];
	memset(a, 0, sizeof(*a));
	a->ifindex = ifindex;
	a->family = l->family;
	memcpy(a->addr, mnl_attr_get_payload(attr), len);
	a->prefix_len = (uint8_t)prefix_len;
}

static int
listing_end(const struct listing *l, int ret, size_t *n)
{
	*n = l->n;
	if (ret < 0)
		return ret;
	return l->is_cut ? -ENOSPC : 0;
}

/* The attributes of one RTM_NEWADDR or RTM_NEWNEIGH worth reading. */
struct addr_attrs {
	uint16_t want_a, want_b; /* types; b is read when a is absent */
	const struct nlattr *a, *b;
};

static int
pick_attr(const struct nlattr *attr, void *data)
{
	struct addr_attrs *at = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type == at->want_a)
		at->a = attr;
	else if (type == at->want_b)
		at->b = attr;
	return MNL_CB_OK;
}

/* IFA_LOCAL is the address itself; IFA_ADDRESS is the peer's on a
 * point-to-point link, and the only one an IPv6 address carries. Never
 * fails, as route_msg. */
static int
addr_msg(const struct nlmsghdr *nlh, void *data)
{
	struct addr_attrs at = { .want_a = IFA_LOCAL, .want_b = IFA_ADDRESS };
	struct listing *l = data;
	const struct ifaddrmsg *ifa;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return MNL_CB_OK;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != l->family)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), pick_attr, &at);
	listing_add(l, (int)ifa->ifa_index, at.a ? at.a : at.b,
		    ifa->ifa_prefixlen);
	return MNL_CB_OK;
}

int
netlink_addr_list(struct netlink *nl, int ifindex, int family,
		  struct netlink_addr *out, size_t max, size_t *n)
{
	struct listing l;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int ret;

	ret = listing_start(&l, nl, ifindex, family, out, max, n);
	if (ret < 0)
		return ret;
	nlh = dump_start(nl, RTM_GETADDR);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ret = transact(nl, nlh, addr_msg, &l);
	return listing_end(&l, ret, n);
}

/* ---- proxy neighbour entries --------------------------------------------------- */

static int
neigh_request(struct netlink *nl, uint16_t type, uint16_t flags, int ifindex,
	      int family, const uint8_t *addr)
{
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	int ret;

	ret = check_addr(family, addr, 0);
	if (ret < 0)
		return ret;
	if (!nl || ifindex <= 0)
		return -EINVAL;
	nlh = msg_start(nl, type, flags);
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = (uint8_t)family;
	ndm->ndm_ifindex = ifindex;
	/* NTF_PROXY sends the request to the proxy table (pneigh), which
	 * holds no link address and no state of its own. */
	ndm->ndm_flags = NTF_PROXY;
	ndm->ndm_state = NUD_PERMANENT;
	mnl_attr_put(nlh, NDA_DST, addr_len(family), addr);
	return transact(nl, nlh, NULL, NULL);
}

int
netlink_neigh_proxy_add(struct netlink *nl, int ifindex, int family,
			const uint8_t *addr)
{
	/* The kernel creates the entry, or keeps the one there is. */
	return neigh_request(nl, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE,
			     ifindex, family, addr);
}

int
netlink_neigh_proxy_del(struct netlink *nl, int ifindex, int family,
			const uint8_t *addr)
{
	int ret = neigh_request(nl, RTM_DELNEIGH, 0, ifindex, family, addr);

	return ret == -ENOENT ? 0 : ret;
}

static int
neigh_msg(const struct nlmsghdr *nlh, void *data)
{
	struct addr_attrs at = { .want_a = NDA_DST };
	struct listing *l = data;
	const struct ndmsg *ndm;

	if (nlh->nlmsg_type != RTM_NEWNEIGH ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ndm))
		return MNL_CB_OK;
	ndm = mnl_nlmsg_get_payload(nlh);
	if (ndm->ndm_family != l->family || !(ndm->ndm_flags & NTF_PROXY))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ndm), pick_attr, &at);
	listing_add(l, ndm->ndm_ifindex, at.a,
		    (unsigned int)addr_len(l->family) * 8);
	return MNL_CB_OK;
}

int
netlink_neigh_proxy_list(struct netlink *nl, int ifindex, int family,
			 struct netlink_addr *out, size_t max, size_t *n)
{
	struct listing l;
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	int ret;

	ret = listing_start(&l, nl, ifindex, family, out, max, n);
	if (ret < 0)
		return ret;
	nlh = dump_start(nl, RTM_GETNEIGH);
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = (uint8_t)family;
	/* Exactly NTF_PROXY: the kernel then dumps the proxy table instead
	 * of the neighbours (neigh_dump_info). */
	ndm->ndm_flags = NTF_PROXY;
	ret = transact(nl, nlh, neigh_msg, &l);
	return listing_end(&l, ret, n);
}

/* ---- MTUs ------------------------------------------------------------------ */

static int
mtu_attr(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == IFLA_MTU &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
		*(unsigned int *)data = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int
mtu_msg(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWLINK &&
	    mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct ifinfomsg))
		mnl_attr_parse(nlh, sizeof(struct ifinfomsg), mtu_attr, data);
	return MNL_CB_OK;
}

int
netlink_link_mtu(struct netlink *nl, int ifindex, unsigned int *mtu)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	int ret;

	if (!nl || !mtu || ifindex <= 0)
		return -EINVAL;
	*mtu = 0;
	nlh = msg_start(nl, RTM_GETLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ret = transact(nl, nlh, mtu_msg, mtu);
	if (ret == 0 && !*mtu)
		ret = -ENODEV;
	return ret;
}

int
netlink_path_mtu(struct netlink *nl, int family, const uint8_t *dst,
		 unsigned int *mtu)
{
	struct netlink_route r;
	int ret;

	if (!mtu)
		return -EINVAL;
	ret = netlink_route_get(nl, family, dst, &r);
	if (ret < 0)
		return ret;
	*mtu = r.mtu;
	return r.mtu ? 0 : netlink_link_mtu(nl, r.oif, mtu);
}

#define DEFAULTS_MAX 16 /* default routes (or their next hops) looked at */

/* What the dump of default routes collects. */
struct defaults {
	int family;
	unsigned int n;
	int oif[DEFAULTS_MAX];
	unsigned int mtu[DEFAULTS_MAX]; /* the route's own; 0: oif's */
};

/* A route of the dump being read: its table, its own MTU, and its
 * interfaces (its own, or each next hop's). */
struct default_route {
	struct defaults *d;
	bool is_main;
	unsigned int mtu;
	int oif[DEFAULTS_MAX];
	unsigned int n_oif;
};

static void
add_oif(struct default_route *r, int oif)
{
	if (oif > 0 && r->n_oif < DEFAULTS_MAX)
		r->oif[r->n_oif++] = oif;
}

/* RTA_MULTIPATH: a run of struct rtnexthop, each with its interface. */
static void
add_nexthops(struct default_route *r, const struct nlattr *attr)
{
	const struct rtnexthop *nh = mnl_attr_get_payload(attr);
	int len = (int)mnl_attr_get_payload_len(attr);

	while (RTNH_OK(nh, len)) {
		add_oif(r, nh->rtnh_ifindex);
		len -= (int)RTNH_ALIGN(nh->rtnh_len);
		nh = RTNH_NEXT(nh);
	}
}

static int
default_attr(const struct nlattr *attr, void *data)
{
	struct default_route *r = data;

	switch (mnl_attr_get_type(attr)) {
	case RTA_TABLE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			r->is_main = mnl_attr_get_u32(attr) == RT_TABLE_MAIN;
		break;
	case RTA_OIF:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			add_oif(r, (int)mnl_attr_get_u32(attr));
		break;
	case RTA_MULTIPATH:
		add_nexthops(r, attr);
		break;
	case RTA_METRICS:
		r->mtu = metrics_mtu(attr);
		break;
	}
	return MNL_CB_OK;
}

/* Never fails, as route_msg: a route it cannot read is not counted. */
static int
default_msg(const struct nlmsghdr *nlh, void *data)
{
	struct default_route r = { .d = data };
	const struct rtmsg *rtm;
	unsigned int i;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return MNL_CB_OK;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != r.d->family || rtm->rtm_dst_len != 0 ||
	    rtm->rtm_type != RTN_UNICAST)
		return MNL_CB_OK;
	r.is_main = rtm->rtm_table == RT_TABLE_MAIN;
	mnl_attr_parse(nlh, sizeof(*rtm), default_attr, &r);
	for (i = 0; r.is_main && i < r.n_oif && r.d->n < DEFAULTS_MAX; i++) {
		r.d->oif[r.d->n] = r.oif[i];
		r.d->mtu[r.d->n++] = r.mtu;
	}
	return MNL_CB_OK;
}

int
netlink_default_mtu(struct netlink *nl, int family, unsigned int *mtu)
{
	struct defaults d = { .family = family };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	unsigned int i, m;
	int ret;

	if (!nl || !mtu || !addr_len(family))
		return -EINVAL;
	*mtu = 0;
	nlh = msg_start(nl, RTM_GETROUTE, NLM_F_DUMP);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	ret = transact(nl, nlh, default_msg, &d);
	if (ret < 0)
		return ret;
	/* The links are asked once the dump is over: one request at a
	 * time per handle. */
	for (i = 0; i < d.n; i++) {
		m = d.mtu[i];
		if (!m && netlink_link_mtu(nl, d.oif[i], &m) < 0)
			continue;
		if (!*mtu || m < *mtu)
			*mtu = m;
	}
	return *mtu ? 0 : -ENETUNREACH;
}
