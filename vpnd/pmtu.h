/* SPDX-License-Identifier: MIT */
/*
 * vpnd's tunnel MTUs, and what follows from them on the packet path.
 *
 * A client's tunnel carries packets of its path's MTU less the overhead of
 * its outer family (TUNNEL_OVERHEAD: 60 bytes over IPv4, 80 over IPv6).
 * With mtu = "auto" (the default) vpnd takes its default routes' MTUs for
 * the paths, per family, once at start; a family without a default route
 * is taken to share the other's path, and with none at all a path of 1500
 * is assumed. Each client gets the MTU of its endpoint's family, pushed
 * to it at login (it takes the smaller of that and its own path's,
 * vpnc/mtu.h), the TUN device the larger of the two. mtu = N forces N
 * everywhere.
 *
 * On the packet path, both ways: a TCP SYN has its MSS clamped to the
 * client's tunnel (mss.h), so TCP never needs more. A packet from the
 * device too big for its client's tunnel is answered as a router answers
 * it, ICMP Fragmentation Needed or ICMPv6 Packet Too Big with that MTU,
 * from vpnd's tunnel address (the device accepts packets from its own
 * address for that: pmtu_device_setup) and within the answers' rate (one
 * struct reply_limit for all clients: a sender needs one answer per
 * destination and keeps it ten minutes). An IPv4 packet without DF is sent
 * whole instead, and its outer datagram fragmented by the server's own IP
 * layer: the sender allowed fragmentation, and this way costs no copy.
 * Packets too big for the device itself are the kernel's to answer, as
 * for any link.
 *
 * The packet path's functions are pure; pmtu_discover() and
 * pmtu_device_setup() are vpnd's start-up edges (rtnetlink, /proc/sys).
 */
#ifndef VPND_PMTU_H
#define VPND_PMTU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ippkt.h"
#include "reply.h"
#include "sysctl.h"
#include "tunnel.h"

#define PMTU_ASSUMED_PATH 1500 /* with no default route to ask */

struct pmtu {
	uint16_t device;          /* the TUN device's: the larger below */
	uint16_t mtu4, mtu6;      /* a client's, by its endpoint's family */
	bool has_src4, has_src6;  /* vpnd's tunnel addresses, the answers' */
	uint8_t src4[4], src6[16];
	struct reply_limit limit; /* answers, all clients together */
};

/* What pmtu_outbound() says to do with a packet from the device. */
enum pmtu_verdict {
	PMTU_SEND,   /* it fits (a SYN's MSS clamped): encrypt it */
	PMTU_ANSWER, /* too big: drop it, write the answer to the device */
	PMTU_DROP,   /* too big, and not to be answered (an ICMP error, over
		      * the rate, no address of its family): drop it */
};

/*
 * The MTUs for `configured` (vpnd.conf's mtu; 0: "auto") and the paths'
 * MTUs over IPv4 and IPv6 (0: unknown). The answers have no source
 * address yet (pmtu_set_sources).
 */
void pmtu_set(struct pmtu *pm, uint16_t configured, unsigned int path4,
	      unsigned int path6);
/* vpnd's tunnel addresses (NULL: none of that family), the answers'. */
void pmtu_set_sources(struct pmtu *pm, const uint8_t *src4,
		      const uint8_t *src6);
/* The tunnel MTU of a client whose endpoint is of `family`. */
uint16_t pmtu_peer(const struct pmtu *pm, int family);

/*
 * For pkt (len bytes, read from the device) on its way to the client tp:
 * sets tp's padding limit to its tunnel MTU, clamps a SYN's MSS, and says
 * what to do with it. On PMTU_ANSWER the answer is in `answer`
 * (REPLY_MAX bytes), *answer_len bytes long.
 */
enum pmtu_verdict pmtu_outbound(struct pmtu *pm, struct tunnel_peer *tp,
				uint8_t *pkt, size_t len, uint64_t now_ns,
				uint8_t *answer, size_t *answer_len);
/* For pkt from the client tp, before it is written to the device:
 * clamps a SYN's MSS to tp's tunnel. */
void pmtu_inbound(const struct pmtu *pm, const struct tunnel_peer *tp,
		  uint8_t *pkt, size_t len);

/*
 * ICMP Fragmentation Needed (type 3 code 4) or ICMPv6 Packet Too Big
 * (type 2) with `mtu` for `in` (parsed from pkt), from `from` (an address
 * of its family) to its source, into out (REPLY_MAX bytes), quoting as
 * much of pkt as reply.h allows: its length. The caller has checked
 * reply_may_answer().
 */
size_t pmtu_too_big(const struct ippkt *in, const uint8_t *pkt,
		    const uint8_t *from, uint16_t mtu, uint8_t *out);

/* Start-up edges. Asks rtnetlink for the default routes' MTUs and sets
 * pm for `configured` (pmtu_set), saying what it chose in the log. */
void pmtu_discover(struct pmtu *pm, uint16_t configured);
/* Lets the device ifname take packets from vpnd's own tunnel addresses
 * (accept_local): the answers, which the kernel would otherwise drop as
 * martians. The setting goes with the device. 0 or -errno. */
int pmtu_device_setup(const char *ifname, const struct sysctl_saved *saved);

#endif
