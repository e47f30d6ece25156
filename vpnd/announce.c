// SPDX-License-Identifier: MIT
/*
 * The announcements of announce.h: the frames (pure) and the two sockets
 * that send them. Decides nothing: lanmode.c says what to announce and
 * when. Never blocks (the sockets are non-blocking) and never receives.
 */
#include "announce.h"

#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* RFC 4861 section 4.4: the advertisement's flags (its fifth byte). */
#define NA_FLAG_OVERRIDE 0x20
/* Section 4.6.1: the target link-layer address option, 8 bytes long. */
#define ND_OPT_TARGET_LL 2
#define ND_OPT_UNITS 1
/* Section 7.1.2: anything else is dropped by the receiver. */
#define ND_HOP_LIMIT 255

static const uint8_t broadcast_mac[ANNOUNCE_MAC_LEN] = { 0xff, 0xff, 0xff,
							 0xff, 0xff, 0xff };
/* ff02::1, all nodes on the link. */
static const struct in6_addr all_nodes = { { { 0xff, 0x02, 0, 0, 0, 0, 0, 0,
					       0, 0, 0, 0, 0, 0, 0, 1 } } };

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ---- the frames ----------------------------------------------------------- */

void
announce_arp_build(uint8_t out[ANNOUNCE_ARP_LEN],
		   const uint8_t mac[ANNOUNCE_MAC_LEN], const uint8_t addr4[4])
{
	memset(out, 0, ANNOUNCE_ARP_LEN);
	put16(out, ARPHRD_ETHER);
	put16(out + 2, ETH_P_IP);
	out[4] = ANNOUNCE_MAC_LEN;
	out[5] = 4;
	/* A request, not a reply: every stack takes a request whose sender
	 * is its target as an update (Linux requires a gratuitous reply to
	 * name the sender's MAC as target too); the target MAC stays 0. */
	put16(out + 6, ARPOP_REQUEST);
	memcpy(out + 8, mac, ANNOUNCE_MAC_LEN);
	memcpy(out + 14, addr4, 4);
	memcpy(out + 24, addr4, 4);
}

void
announce_na_build(uint8_t out[ANNOUNCE_NA_LEN],
		  const uint8_t mac[ANNOUNCE_MAC_LEN], const uint8_t addr6[16])
{
	memset(out, 0, ANNOUNCE_NA_LEN);
	out[0] = ND_NEIGHBOR_ADVERT;
	/* Override: replace the MAC a host holds. Not Solicited (sent to a
	 * multicast address, it must not be), not Router (the address is a
	 * client's, and a host would take it for its router's otherwise). */
	out[4] = NA_FLAG_OVERRIDE;
	memcpy(out + 8, addr6, 16);
	out[24] = ND_OPT_TARGET_LL;
	out[25] = ND_OPT_UNITS;
	memcpy(out + 26, mac, ANNOUNCE_MAC_LEN);
}

/* ---- the sockets ------------------------------------------------------------ */

/* The interface's MAC address, if it is an Ethernet one (a bridge, a
 * bond and a VLAN are). */
static int
read_mac(int fd, const char *ifname, uint8_t mac[ANNOUNCE_MAC_LEN])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return -errno;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return -EPFNOSUPPORT;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ANNOUNCE_MAC_LEN);
	return 0;
}

/* Protocol 0: no packet type is bound, so nothing is ever queued to it. */
static int
open_arp(void)
{
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

static int
set_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value)) < 0 ? -errno
								      : 0;
}

/* Sends to ff02::1 out of ifindex with the hop limit NDP requires; every
 * ICMPv6 type filtered out, or the socket would queue each one the host
 * receives. */
static int
open_na(int ifindex)
{
	struct icmp6_filter filter;
	int fd, ret;

	fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    IPPROTO_ICMPV6);
	if (fd < 0)
		return -errno;
	ICMP6_FILTER_SETBLOCKALL(&filter);
	ret = setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter,
			 sizeof(filter)) < 0 ? -errno : 0;
	if (!ret)
		ret = set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS,
			      ND_HOP_LIMIT);
	if (!ret)
		ret = set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex);
	if (!ret)
		ret = set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

int
announce_open(struct announce *a, int ifindex, const char *ifname, bool want4,
	      bool want6)
{
	int arp = want4 ? open_arp() : -ENOENT;
	int na = want6 ? open_na(ifindex) : -ENOENT;
	int ret;

	memset(a, 0, sizeof(*a));
	a->ifindex = ifindex;
	a->arp_fd = arp;
	a->has_arp = arp >= 0;
	a->na_fd = na;
	a->has_na = na >= 0;
	if (a->has_arp || a->has_na) {
		ret = read_mac(a->has_arp ? arp : na, ifname, a->mac);
		if (ret < 0) {
			announce_close(a);
			return ret;
		}
	}
	if (want4 && arp < 0)
		return arp;
	return want6 && na < 0 ? na : 0;
}

void
announce_close(struct announce *a)
{
	if (a->has_arp)
		close(a->arp_fd);
	if (a->has_na)
		close(a->na_fd);
	a->has_arp = a->has_na = false;
}

bool
announce_can(const struct announce *a, int family)
{
	return family == AF_INET ? a->has_arp : a->has_na;
}

static int
send_arp(const struct announce *a, const uint8_t addr4[4])
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ARP),
		.sll_ifindex = a->ifindex,
		.sll_halen = ANNOUNCE_MAC_LEN,
	};
	uint8_t frame[ANNOUNCE_ARP_LEN];

	memcpy(to.sll_addr, broadcast_mac, ANNOUNCE_MAC_LEN);
	announce_arp_build(frame, a->mac, addr4);
	if (sendto(a->arp_fd, frame, sizeof(frame), 0,
		   (const struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	return 0;
}

static int
send_na(const struct announce *a, const uint8_t addr6[16])
{
	struct sockaddr_in6 to = {
		.sin6_family = AF_INET6,
		.sin6_addr = all_nodes,
		.sin6_scope_id = (uint32_t)a->ifindex,
	};
	uint8_t msg[ANNOUNCE_NA_LEN];

	announce_na_build(msg, a->mac, addr6);
	if (sendto(a->na_fd, msg, sizeof(msg), 0, (const struct sockaddr *)&to,
		   sizeof(to)) < 0)
		return -errno;
	return 0;
}

int
announce_send(const struct announce *a, int family, const uint8_t *addr)
{
	if (!announce_can(a, family))
		return -EAFNOSUPPORT;
	return family == AF_INET ? send_arp(a, addr) : send_na(a, addr);
}
