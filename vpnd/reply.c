// SPDX-License-Identifier: MIT
/*
 * Resets and ICMP "administratively prohibited" for refused packets (see
 * reply.h). Headers are written field by field in network order; the
 * checksums are RFC 1071's (ippkt.h).
 */
#include "reply.h"

#include <netinet/in.h>
#include <string.h>

#include "timers.h"

#define ICMP_UNREACH 3
#define ICMP_UNREACH_PROHIBITED 13
#define ICMP6_UNREACH 1
#define ICMP6_UNREACH_PROHIBITED 1
#define COST_NS (NS_PER_S / REPLY_RATE)

bool
reply_limit_allow(struct reply_limit *l, uint64_t now_ns)
{
	uint64_t max = COST_NS * REPLY_BURST;
	uint64_t gained = now_ns - l->last_ns;

	if (!l->last_ns || gained > max || l->tokens_ns + gained > max)
		l->tokens_ns = max;
	else
		l->tokens_ns += gained;
	l->last_ns = now_ns;
	if (l->tokens_ns < COST_NS)
		return false;
	l->tokens_ns -= COST_NS;
	return true;
}

static bool
is_unicast4(const uint8_t *a)
{
	/* Not 0.0.0.0/8, 127.0.0.0/8, multicast, reserved or broadcast. */
	return a[0] != 0 && a[0] != 127 && a[0] < 224;
}

static bool
is_unicast6(const uint8_t *a)
{
	static const uint8_t zero[16];

	return a[0] != 0xff && memcmp(a, zero, 16) != 0;
}

bool
reply_may_answer(const struct ippkt *in)
{
	bool (*unicast)(const uint8_t *) = in->family == AF_INET ? is_unicast4
								  : is_unicast6;

	if (in->is_later_fragment || ippkt_is_icmp_error(in))
		return false;
	if (in->has_tcp_flags && (in->tcp_flags & IPPKT_TCP_RST))
		return false;
	return unicast(in->src) && unicast(in->dst);
}

/* An IP header for `payload` bytes of `proto`; its length (20 or 40). */
static size_t
put_ip(uint8_t *out, int family, const uint8_t *src, const uint8_t *dst,
       uint8_t proto, size_t payload)
{
	if (family == AF_INET) {
		memset(out, 0, 20);
		out[0] = 0x45;
		ippkt_put16(out + 2, (uint16_t)(20 + payload));
		out[8] = REPLY_TTL;
		out[9] = proto;
		memcpy(out + 12, src, 4);
		memcpy(out + 16, dst, 4);
		ippkt_put16(out + 10, ippkt_fold(ippkt_sum(0, out, 20)));
		return 20;
	}
	memset(out, 0, 40);
	out[0] = 0x60;
	ippkt_put16(out + 4, (uint16_t)payload);
	out[6] = proto;
	out[7] = REPLY_TTL;
	memcpy(out + 8, src, 16);
	memcpy(out + 24, dst, 16);
	return 40;
}

/*
 * RFC 793: "If the incoming segment has an ACK field, the reset takes its
 * sequence number from the ACK field of the segment, otherwise the reset
 * has sequence number zero and the ACK field is set to the sum of the
 * sequence number and segment length of the incoming segment."
 */
size_t
reply_tcp_reset(const struct ippkt *in, const uint8_t *pkt, uint8_t *out)
{
	const uint8_t *tcp = pkt + in->l4_off;
	size_t room = in->len - in->l4_off, doff, hl, seg_len;
	uint8_t flags;
	uint8_t *t;

	if (in->proto != IPPROTO_TCP || in->is_later_fragment || room < 20)
		return 0;
	doff = (size_t)(tcp[12] >> 4) * 4;
	flags = tcp[13];
	if (doff < 20 || doff > room || (flags & IPPKT_TCP_RST))
		return 0;
	seg_len = room - doff + !!(flags & IPPKT_TCP_SYN) +
		  !!(flags & IPPKT_TCP_FIN);
	hl = put_ip(out, in->family, in->dst, in->src, IPPROTO_TCP, 20);
	t = out + hl;
	memset(t, 0, 20);
	memcpy(t, tcp + 2, 2); /* their destination port is our source */
	memcpy(t + 2, tcp, 2);
	if (flags & IPPKT_TCP_ACK) {
		memcpy(t + 4, tcp + 8, 4);
		t[13] = IPPKT_TCP_RST;
	} else {
		ippkt_put32(t + 8, ippkt_get32(tcp + 4) + (uint32_t)seg_len);
		t[13] = IPPKT_TCP_RST | IPPKT_TCP_ACK;
	}
	t[12] = 5 << 4;
	ippkt_put16(t + 16, ippkt_fold(ippkt_sum(
			      ippkt_pseudo_sum(in->family, in->dst, in->src,
					       IPPROTO_TCP, 20),
			      t, 20)));
	return hl + 20;
}

size_t
reply_icmp_error(const struct ippkt *in, const uint8_t *pkt,
		 const uint8_t *from, uint8_t type, uint8_t code,
		 uint32_t rest, uint8_t *out)
{
	bool v4 = in->family == AF_INET;
	size_t max = v4 ? REPLY_MAX4 : REPLY_MAX;
	size_t hl = v4 ? 20 : 40, quoted = in->len, icmp_len;
	uint8_t proto = v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	uint8_t *icmp = out + hl;
	uint32_t sum = 0;

	if (quoted > max - hl - 8)
		quoted = max - hl - 8;
	icmp_len = 8 + quoted;
	put_ip(out, in->family, from, in->src, proto, icmp_len);
	icmp[0] = type;
	icmp[1] = code;
	ippkt_put16(icmp + 2, 0);
	ippkt_put32(icmp + 4, rest);
	memcpy(icmp + 8, pkt, quoted);
	/* ICMPv6 sums a pseudo-header too; ICMP for IPv4 does not. */
	if (!v4)
		sum = ippkt_pseudo_sum(AF_INET6, from, in->src, proto,
				       icmp_len);
	ippkt_put16(icmp + 2, ippkt_fold(ippkt_sum(sum, icmp, icmp_len)));
	return hl + icmp_len;
}

size_t
reply_prohibited(const struct ippkt *in, const uint8_t *pkt,
		 const uint8_t *from, uint8_t *out)
{
	bool v4 = in->family == AF_INET;

	return reply_icmp_error(in, pkt, from,
				v4 ? ICMP_UNREACH : ICMP6_UNREACH,
				v4 ? ICMP_UNREACH_PROHIBITED
				   : ICMP6_UNREACH_PROHIBITED,
				0, out);
}
