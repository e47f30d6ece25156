/* SPDX-License-Identifier: MIT */
/*
 * What the packet path reads of an IP packet beyond its addresses: the
 * upper-layer protocol (behind IPv6's extension headers), whether it is
 * a fragment, where its transport header starts, the ports, TCP flags and
 * ICMP type it carries; and the Internet checksum (RFC 1071) with the
 * pseudo-headers of RFC 793 and RFC 8200 section 8.1, for packets vpnd
 * writes itself. vpnd's access rules (access.c) and the answers to what
 * they refuse (reply.c) read packets through this; so may anything else
 * on the packet path that needs a transport header.
 *
 * Pure: bytes in, no allocation, no I/O. Every read is bounded by the
 * packet's length: the packet is a client's.
 */
#ifndef VPN_IPPKT_H
#define VPN_IPPKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Extension headers walked before giving up (RFC 8200 asks for few). */
#define IPPKT_MAX_EXT_HEADERS 8

/* TCP flags, in byte 13 of its header. */
#define IPPKT_TCP_FIN 0x01
#define IPPKT_TCP_SYN 0x02
#define IPPKT_TCP_RST 0x04
#define IPPKT_TCP_ACK 0x10

struct ippkt {
	int family;               /* AF_INET or AF_INET6 */
	const uint8_t *src, *dst; /* into the packet: 4 or 16 bytes */
	size_t len;               /* of the whole packet */
	size_t ip_hdr_len;        /* IPv4 header, or IPv6's fixed 40 bytes */
	uint8_t proto;            /* upper layer (IPPROTO_*); for an IPv6
				   * header chain cut short, the header
				   * that was cut */
	bool is_fragment;         /* any fragment */
	bool is_later_fragment;   /* offset > 0: no transport header */
	size_t l4_off;            /* the transport header, unless a later
				   * fragment; may equal len (nothing) */
	bool has_ports;           /* TCP or UDP, its ports present */
	uint16_t sport, dport;
	bool has_tcp_flags;       /* TCP, byte 13 present */
	uint8_t tcp_flags;
	bool has_icmp_type;       /* ICMP (IPv4) or ICMPv6, type and code */
	uint8_t icmp_type, icmp_code;
};

/*
 * Reads the packet's headers into *out. False if it is not an IP packet
 * whose header fits in len (IPv4: a header length of at least 20 that
 * fits; IPv6: 40 bytes); a transport header cut short only leaves the
 * has_* flags false.
 */
bool ippkt_parse(const uint8_t *pkt, size_t len, struct ippkt *out)
	__attribute__((warn_unused_result));

/* True for an ICMP or ICMPv6 error message (never answered by another). */
bool ippkt_is_icmp_error(const struct ippkt *p);

/*
 * One's-complement sum of buf (big-endian 16-bit words) added to sum.
 * Only the last buffer of a checksum may have an odd length (it is padded
 * with a zero byte).
 */
uint32_t ippkt_sum(uint32_t sum, const uint8_t *buf, size_t len);
/* The checksum field's value for a sum: folded, complemented. */
uint16_t ippkt_fold(uint32_t sum);
/* The sum of the pseudo-header for a transport segment of len bytes. */
uint32_t ippkt_pseudo_sum(int family, const uint8_t *src, const uint8_t *dst,
			  uint8_t proto, size_t len);

/* Header fields in network order, read and written a byte at a time (no
 * alignment asked of the packet). */
static inline uint16_t
ippkt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
ippkt_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void
ippkt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
ippkt_put32(uint8_t *p, uint32_t v)
{
	ippkt_put16(p, (uint16_t)(v >> 16));
	ippkt_put16(p + 2, (uint16_t)v);
}

#endif
