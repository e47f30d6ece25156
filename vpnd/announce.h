/* SPDX-License-Identifier: MIT */
/*
 * lan-mode proxy-arp across nodes: telling the office LAN that a client's
 * address is now answered here. When a client moves from one node to
 * another (failover, a graceful stop), the LAN's hosts still hold the old
 * node's MAC address for it in their neighbour caches: REACHABLE for
 * 15-45 s, then probes to a MAC that no longer answers, about 50 s of
 * silence. So, as it starts answering for an address, the node announces
 * it: a gratuitous ARP for IPv4 (an ARP request, sender = target = the
 * address, sender MAC = the LAN interface's, broadcast; RFC 5227's
 * announcement) and an unsolicited neighbour advertisement for IPv6 (RFC
 * 4861 section 7.2.6: to ff02::1, hop limit 255, Override set, Solicited
 * and Router clear, the target link-layer address option). A host that
 * has an entry for the address takes the new MAC at once (STALE, then
 * confirmed by a unicast probe the node answers); one that has none
 * creates none.
 *
 * The frames are built by pure functions (bytes out, nothing sent). The
 * sockets need CAP_NET_RAW, which vpnd does not keep: they are opened at
 * start, while vpnd is still root (lanmode_start runs before
 * privs_drop), and kept; sending on them later needs no privilege and
 * only sendto (the base rules of the system call filter). The ARP socket
 * is an AF_PACKET datagram socket of protocol 0, which receives nothing;
 * the NA socket a raw ICMPv6 socket with every type filtered out, whose
 * checksum the kernel computes (RFC 3542 section 3.1).
 */
#ifndef VPND_ANNOUNCE_H
#define VPND_ANNOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ANNOUNCE_MAC_LEN 6
#define ANNOUNCE_ARP_LEN 28  /* Ethernet/IPv4 ARP, without the link header */
#define ANNOUNCE_NA_LEN 32   /* the ICMPv6 message with its one option */

/* Zeroed: nothing open (has_* say which descriptor is). */
struct announce {
	int ifindex;
	uint8_t mac[ANNOUNCE_MAC_LEN];
	int arp_fd;
	int na_fd;
	bool has_arp;
	bool has_na;
};

/* The ARP announcement of `addr4` by `mac`: ANNOUNCE_ARP_LEN bytes. */
void announce_arp_build(uint8_t out[ANNOUNCE_ARP_LEN],
			const uint8_t mac[ANNOUNCE_MAC_LEN],
			const uint8_t addr4[4]);
/* The unsolicited neighbour advertisement of `addr6` by `mac`, checksum
 * 0 (the kernel's to fill): ANNOUNCE_NA_LEN bytes. */
void announce_na_build(uint8_t out[ANNOUNCE_NA_LEN],
		       const uint8_t mac[ANNOUNCE_MAC_LEN],
		       const uint8_t addr6[16]);

/*
 * Opens the sockets for the families asked for on the Ethernet interface
 * `ifname` (ifindex), reading its MAC address; needs CAP_NET_RAW. 0 if
 * every one asked for is open, else -errno (after which a has_* may still
 * be set: what could be opened is kept and usable).
 */
int announce_open(struct announce *a, int ifindex, const char *ifname,
		  bool want4, bool want6) __attribute__((warn_unused_result));
/* Closes what is open. Safe on a zeroed or closed struct. */
void announce_close(struct announce *a);

/* True if addresses of `family` can be announced. */
bool announce_can(const struct announce *a, int family);
/* Announces `addr` (4 or 16 bytes by family) on the interface, without
 * blocking: 0, -EAFNOSUPPORT if the family's socket is not open, or the
 * send's -errno. */
int announce_send(const struct announce *a, int family, const uint8_t *addr);

#endif
