/* SPDX-License-Identifier: MIT */
/*
 * TCP MSS clamping on the packets vpnd forwards, as iptables' TCPMSS
 * --clamp-mss-to-pmtu does: a SYN (or SYN-ACK) announcing a maximum
 * segment larger than the tunnel carries has its MSS option lowered, so
 * neither end sends segments the tunnel would have to refuse or fragment.
 * Pure: one packet, changed in place; no allocation.
 */
#ifndef VPND_MSS_H
#define VPND_MSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest segment a tunnel of `mtu` bytes carries for an address
 * family (AF_INET, AF_INET6): the MTU less the IP and TCP headers
 * without options, 40 and 60 bytes (RFC 879, RFC 8200 section 8.3). */
uint16_t mss_for_mtu(size_t mtu, int family);

/*
 * If pkt (an IPv4 or IPv6 packet of len bytes) is a TCP segment with SYN
 * set whose MSS option is larger than mss_for_mtu(mtu, its family),
 * lowers it to that and updates the TCP checksum incrementally (RFC
 * 1624). True if it changed the packet. Anything else, and anything it
 * cannot read whole (a later fragment, options that overrun the header),
 * is left alone.
 */
bool mss_clamp(uint8_t *pkt, size_t len, size_t mtu);

#endif
