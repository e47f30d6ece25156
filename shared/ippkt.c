// SPDX-License-Identifier: MIT
/*
 * IP headers and the Internet checksum (see ippkt.h). IPv4 after RFC 791,
 * IPv6 and its extension headers after RFC 8200 section 4 (AH's length
 * after RFC 4302), TCP's and UDP's first bytes after RFC 793 and RFC 768.
 */
#include "ippkt.h"

#include <netinet/in.h>
#include <string.h>

static bool
parse4(const uint8_t *pkt, size_t len, struct ippkt *out)
{
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
	uint16_t frag;

	if (len < 20 || ihl < 20 || ihl > len)
		return false;
	frag = ippkt_get16(pkt + 6);
	out->family = AF_INET;
	out->src = pkt + 12;
	out->dst = pkt + 16;
	out->ip_hdr_len = ihl;
	out->proto = pkt[9];
	/* More fragments, or an offset: a fragment. */
	out->is_fragment = (frag & 0x3fff) != 0;
	out->is_later_fragment = (frag & 0x1fff) != 0;
	out->l4_off = ihl;
	return true;
}

/*
 * Walks the extension headers to the upper layer. A chain longer than
 * IPPKT_MAX_EXT_HEADERS, or cut short by the packet's end, stops at the
 * header it could not pass: its number is the protocol, and nothing of a
 * transport header is read.
 */
static bool
parse6(const uint8_t *pkt, size_t len, struct ippkt *out)
{
	size_t off = 40, ext;
	uint8_t next;
	unsigned int i;

	if (len < 40)
		return false;
	out->family = AF_INET6;
	out->src = pkt + 8;
	out->dst = pkt + 24;
	out->ip_hdr_len = 40;
	next = pkt[6];
	for (i = 0; i < IPPKT_MAX_EXT_HEADERS; i++) {
		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (len - off < 8)
				goto cut;
			ext = ((size_t)pkt[off + 1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if (len - off < 8)
				goto cut;
			ext = ((size_t)pkt[off + 1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			if (len - off < 8)
				goto cut;
			out->is_fragment = true;
			out->is_later_fragment =
				(ippkt_get16(pkt + off + 2) & 0xfff8) != 0;
			ext = 8;
			break;
		default:
			out->proto = next;
			out->l4_off = off;
			return true;
		}
		if (ext > len - off)
			goto cut;
		next = pkt[off];
		off += ext;
		if (out->is_later_fragment) {
			out->proto = next;
			return true;
		}
	}
cut:
	out->proto = next;
	out->l4_off = len;
	return true;
}

/* Ports, flags and ICMP type, as far as the transport header reaches. */
static void
parse_l4(const uint8_t *pkt, struct ippkt *p)
{
	const uint8_t *l4 = pkt + p->l4_off;
	size_t room = p->len - p->l4_off;

	if (p->is_later_fragment)
		return;
	switch (p->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		p->has_ports = room >= 4;
		if (p->has_ports) {
			p->sport = ippkt_get16(l4);
			p->dport = ippkt_get16(l4 + 2);
		}
		p->has_tcp_flags = p->proto == IPPROTO_TCP && room >= 14;
		if (p->has_tcp_flags)
			p->tcp_flags = l4[13];
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if ((p->proto == IPPROTO_ICMP) != (p->family == AF_INET))
			break;
		p->has_icmp_type = room >= 2;
		if (p->has_icmp_type) {
			p->icmp_type = l4[0];
			p->icmp_code = l4[1];
		}
		break;
	default:
		break;
	}
}

bool
ippkt_parse(const uint8_t *pkt, size_t len, struct ippkt *out)
{
	bool ok;

	memset(out, 0, sizeof(*out));
	out->len = len;
	if (len < 1)
		return false;
	if (pkt[0] >> 4 == 4)
		ok = parse4(pkt, len, out);
	else if (pkt[0] >> 4 == 6)
		ok = parse6(pkt, len, out);
	else
		ok = false;
	if (!ok) {
		memset(out, 0, sizeof(*out));
		return false;
	}
	parse_l4(pkt, out);
	return true;
}

bool
ippkt_is_icmp_error(const struct ippkt *p)
{
	if (p->family == AF_INET && p->proto == IPPROTO_ICMP)
		/* Not echo (0, 8), timestamp (13, 14), information (15,
		 * 16) or address mask (17, 18): an error, or unknown. */
		return !p->has_icmp_type ||
		       !(p->icmp_type == 0 || p->icmp_type == 8 ||
			 (p->icmp_type >= 13 && p->icmp_type <= 18));
	if (p->family == AF_INET6 && p->proto == IPPROTO_ICMPV6)
		/* RFC 4443 section 2.1: errors are types 0-127. */
		return !p->has_icmp_type || p->icmp_type < 128;
	return false;
}

uint32_t
ippkt_sum(uint32_t sum, const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		sum += (uint32_t)(buf[i] << 8 | buf[i + 1]);
		/* Fold early: a long packet cannot overflow the word. */
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (len & 1)
		sum += (uint32_t)buf[len - 1] << 8;
	return sum;
}

uint16_t
ippkt_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t
ippkt_pseudo_sum(int family, const uint8_t *src, const uint8_t *dst,
		 uint8_t proto, size_t len)
{
	size_t alen = family == AF_INET ? 4 : 16;
	uint32_t sum = 0;

	sum = ippkt_sum(sum, src, alen);
	sum = ippkt_sum(sum, dst, alen);
	sum += proto;
	sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
	return sum;
}
