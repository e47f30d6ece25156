// SPDX-License-Identifier: MIT
/*
 * vpnd's tunnel MTUs (see pmtu.h): choosing them, clamping MSS both ways,
 * answering packets too big for a client's tunnel (written by reply.c).
 */
#include "pmtu.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "mss.h"
#include "netlink.h"

#define ICMP_UNREACH 3
#define ICMP_FRAG_NEEDED 4
#define ICMP6_TOO_BIG 2
#define IP4_DF 0x40 /* in byte 6 */

static uint16_t
larger(uint16_t a, uint16_t b)
{
	return a > b ? a : b;
}

void
pmtu_set(struct pmtu *pm, uint16_t configured, unsigned int path4,
	 unsigned int path6)
{
	memset(pm, 0, sizeof(*pm));
	if (configured) {
		pm->device = pm->mtu4 = pm->mtu6 = configured;
		return;
	}
	if (!path4 && !path6)
		path4 = path6 = PMTU_ASSUMED_PATH;
	pm->mtu4 = (uint16_t)tunnel_mtu_for_path(path4 ? path4 : path6,
						 AF_INET);
	pm->mtu6 = (uint16_t)tunnel_mtu_for_path(path6 ? path6 : path4,
						 AF_INET6);
	pm->device = larger(pm->mtu4, pm->mtu6);
}

void
pmtu_set_sources(struct pmtu *pm, const uint8_t *src4, const uint8_t *src6)
{
	pm->has_src4 = src4 != NULL;
	if (src4)
		memcpy(pm->src4, src4, 4);
	pm->has_src6 = src6 != NULL;
	if (src6)
		memcpy(pm->src6, src6, 16);
}

uint16_t
pmtu_peer(const struct pmtu *pm, int family)
{
	return family == AF_INET6 ? pm->mtu6 : pm->mtu4;
}

static int
endpoint_family(const struct tunnel_peer *tp)
{
	return tp->endpoint.addr.sa.sa_family;
}

size_t
pmtu_too_big(const struct ippkt *in, const uint8_t *pkt, const uint8_t *from,
	     uint16_t mtu, uint8_t *out)
{
	bool v4 = in->family == AF_INET;

	/* RFC 1191 section 4: the next-hop MTU in the low half of the
	 * second word; RFC 4443 section 3.2: the MTU, all of it. */
	return reply_icmp_error(in, pkt, from, v4 ? ICMP_UNREACH : ICMP6_TOO_BIG,
				v4 ? ICMP_FRAG_NEEDED : 0, mtu, out);
}

/* An IPv4 packet whose sender lets routers fragment it. */
static bool
may_fragment(const struct ippkt *in, const uint8_t *pkt)
{
	return in->family == AF_INET && !(pkt[6] & IP4_DF);
}

enum pmtu_verdict
pmtu_outbound(struct pmtu *pm, struct tunnel_peer *tp, uint8_t *pkt,
	      size_t len, uint64_t now_ns, uint8_t *answer, size_t *answer_len)
{
	uint16_t mtu = pmtu_peer(pm, endpoint_family(tp));
	const uint8_t *from;
	struct ippkt in;

	tp->mtu = mtu;
	if (len <= mtu) {
		mss_clamp(pkt, len, mtu);
		return PMTU_SEND;
	}
	if (!ippkt_parse(pkt, len, &in))
		return PMTU_DROP;
	/* Longer than the device, it was cut short by the read: never
	 * sent, and answered only if its sender asked not to fragment. */
	if (may_fragment(&in, pkt))
		return len <= pm->device ? PMTU_SEND : PMTU_DROP;
	from = in.family == AF_INET ? (pm->has_src4 ? pm->src4 : NULL)
				    : (pm->has_src6 ? pm->src6 : NULL);
	if (!from || !reply_may_answer(&in) ||
	    !reply_limit_allow(&pm->limit, now_ns))
		return PMTU_DROP;
	*answer_len = pmtu_too_big(&in, pkt, from, mtu, answer);
	return PMTU_ANSWER;
}

void
pmtu_inbound(const struct pmtu *pm, const struct tunnel_peer *tp,
	     uint8_t *pkt, size_t len)
{
	mss_clamp(pkt, len, pmtu_peer(pm, endpoint_family(tp)));
}

/* ---- start-up ---------------------------------------------------------------- */

static const char *
describe_path(char out[16], unsigned int path)
{
	if (!path)
		return "none";
	snprintf(out, 16, "%u", path);
	return out;
}

void
pmtu_discover(struct pmtu *pm, uint16_t configured)
{
	unsigned int path4 = 0, path6 = 0;
	char text4[16], text6[16];
	struct netlink *nl;
	int ret;

	if (configured) {
		pmtu_set(pm, configured, 0, 0);
		log_info("mtu %u (configured)", configured);
		return;
	}
	ret = netlink_open(&nl);
	if (ret < 0) {
		log_notice("mtu auto: cannot ask rtnetlink for the default "
			   "routes: %s", strerror(-ret));
	} else {
		netlink_default_mtu(nl, AF_INET, &path4);
		netlink_default_mtu(nl, AF_INET6, &path6);
		netlink_close(nl);
	}
	pmtu_set(pm, 0, path4, path6);
	log_info("mtu auto: default route MTU %s (IPv4), %s (IPv6)%s: "
		 "device %u, clients over IPv4 %u, over IPv6 %u",
		 describe_path(text4, path4), describe_path(text6, path6),
		 path4 || path6 ? "" : ", 1500 assumed", pm->device, pm->mtu4,
		 pm->mtu6);
}

int
pmtu_device_setup(const char *ifname, const struct sysctl_saved *saved)
{
	char name[SYSCTL_NAME_LEN];

	if (!ifname || !*ifname || strchr(ifname, '/') ||
	    (size_t)snprintf(name, sizeof(name),
			     "net/ipv4/conf/%s/accept_local",
			     ifname) >= sizeof(name))
		return -EINVAL;
	return sysctl_set(saved, name, "1");
}
