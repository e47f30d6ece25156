// SPDX-License-Identifier: MIT
/*
 * vpnc's own rtnetlink requests (see rtnl.h), through libmnl: each sends
 * one message with NLM_F_ACK and reads until the kernel's answer to that
 * sequence number. A dump reads every part until NLMSG_DONE.
 */
#include "rtnl.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* A dump part is at most a page or two; libmnl's largest buffer. */
#define MSG_BUF_LEN 8192
/* Loopback is the first device of every network namespace. */
#define LOOPBACK_IFINDEX 1

struct rtnl {
	alignas(struct nlmsghdr) uint8_t buf[MSG_BUF_LEN];
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
};

/* What a dump collects. */
struct connected {
	int family;
	int skip_oif;
	struct prefix *out;
	unsigned int cap, n;
};

int
rtnl_open(struct rtnl **out)
{
	struct rtnl *rt = calloc(1, sizeof(*rt));
	int ret;

	if (!rt)
		return -ENOMEM;
	rt->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!rt->sock || mnl_socket_bind(rt->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		rtnl_close(rt);
		return ret;
	}
	rt->portid = mnl_socket_get_portid(rt->sock);
	*out = rt;
	return 0;
}

void
rtnl_close(struct rtnl *rt)
{
	if (!rt)
		return;
	if (rt->sock)
		mnl_socket_close(rt->sock);
	free(rt);
}

static struct nlmsghdr *
msg_start(struct rtnl *rt, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(rt->buf);

	if (++rt->seq == 0) /* zero turns libmnl's sequence check off */
		rt->seq = 1;
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = rt->seq;
	return nlh;
}

/* Sends nlh, feeds every answer to cb until the ACK or NLMSG_DONE. An
 * answer to an earlier request (one given up on) is skipped. */
static int
transact(struct rtnl *rt, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	const struct nlmsghdr *first;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(rt->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(rt->sock, rt->buf, sizeof(rt->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		first = (const struct nlmsghdr *)rt->buf;
		if (mnl_nlmsg_ok(first, (int)n) && first->nlmsg_seq != rt->seq)
			continue;
		ret = mnl_cb_run(rt->buf, (size_t)n, rt->seq, rt->portid, cb,
				 data);
		if (ret == MNL_CB_STOP)
			return 0;
		if (ret == MNL_CB_ERROR)
			return -errno;
	}
}

static int
route_request(struct rtnl *rt, uint16_t type, uint16_t flags,
	      const struct rtnl_route *r)
{
	size_t len = prefix_addr_len(r->dst.family);
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	/* A deletion finds a unicast route by prefix, metric and protocol
	 * alone: after a crash the device index is not known. */
	if (!len || r->dst.len > len * 8 ||
	    (type == RTM_NEWROUTE && !r->is_unreachable && r->oif <= 0))
		return -EINVAL;
	nlh = msg_start(rt, type, flags);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)r->dst.family;
	rtm->rtm_dst_len = r->dst.len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTNL_PROTO_VPNC;
	rtm->rtm_type = r->is_unreachable ? RTN_UNREACHABLE : RTN_UNICAST;
	if (type == RTM_DELROUTE)
		rtm->rtm_scope = RT_SCOPE_NOWHERE; /* any scope */
	else if (r->is_unreachable || r->has_gateway)
		rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	else
		rtm->rtm_scope = RT_SCOPE_LINK;
	mnl_attr_put(nlh, RTA_DST, len, r->dst.addr);
	if (!r->is_unreachable && r->oif > 0)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)r->oif);
	if (!r->is_unreachable && r->has_gateway)
		mnl_attr_put(nlh, RTA_GATEWAY, len, r->gateway);
	if (r->metric)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, r->metric);
	return transact(rt, nlh, NULL, NULL);
}

int
rtnl_route_add(struct rtnl *rt, const struct rtnl_route *r)
{
	return route_request(rt, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, r);
}

int
rtnl_route_del(struct rtnl *rt, const struct rtnl_route *r)
{
	int ret = route_request(rt, RTM_DELROUTE, 0, r);

	/* ESRCH: no such route; ENOENT: no such table. Gone either way. */
	return ret == -ESRCH || ret == -ENOENT ? 0 : ret;
}

/* ---- the connected networks ----------------------------------------------- */

struct route_attrs {
	const struct nlattr *dst, *oif, *gateway;
	uint32_t table;
};

static int
route_attr(const struct nlattr *attr, void *data)
{
	struct route_attrs *a = data;

	switch (mnl_attr_get_type(attr)) {
	case RTA_DST:
		a->dst = attr;
		break;
	case RTA_OIF:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			a->oif = attr;
		break;
	case RTA_GATEWAY:
	case RTA_VIA:
	case RTA_MULTIPATH:
		a->gateway = attr;
		break;
	case RTA_TABLE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			a->table = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

static bool
is_link_local6(const struct prefix *p)
{
	return p->addr[0] == 0xfe && (p->addr[1] & 0xc0) == 0x80;
}

/* Never fails: an error would leave the rest of the dump unread. */
static int
route_msg(const struct nlmsghdr *nlh, void *data)
{
	struct connected *c = data;
	struct route_attrs a = { 0 };
	const struct rtmsg *rtm;
	struct prefix p = { 0 };
	size_t len = prefix_addr_len(c->family);
	int oif;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return MNL_CB_OK;
	rtm = mnl_nlmsg_get_payload(nlh);
	a.table = rtm->rtm_table;
	if (rtm->rtm_family != c->family || rtm->rtm_type != RTN_UNICAST ||
	    rtm->rtm_protocol == RTNL_PROTO_VPNC)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr, &a);
	if (a.table != RT_TABLE_MAIN || a.gateway || !a.oif || !a.dst ||
	    mnl_attr_get_payload_len(a.dst) != len || rtm->rtm_dst_len == 0 ||
	    rtm->rtm_dst_len > len * 8)
		return MNL_CB_OK;
	oif = (int)mnl_attr_get_u32(a.oif);
	if (oif == c->skip_oif || oif == LOOPBACK_IFINDEX)
		return MNL_CB_OK;
	p.family = c->family;
	p.len = rtm->rtm_dst_len;
	memcpy(p.addr, mnl_attr_get_payload(a.dst), len);
	if (c->family == AF_INET6 && is_link_local6(&p))
		return MNL_CB_OK;
	if (c->n < c->cap)
		c->out[c->n++] = p;
	return MNL_CB_OK;
}

int
rtnl_connected(struct rtnl *rt, int family, int skip_oif, struct prefix *out,
	       unsigned int cap, unsigned int *n)
{
	struct connected c = { family, skip_oif, out, cap, 0 };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int ret;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	nlh = msg_start(rt, RTM_GETROUTE, NLM_F_DUMP);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	ret = transact(rt, nlh, route_msg, &c);
	*n = c.n;
	return ret;
}
