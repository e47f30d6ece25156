// SPDX-License-Identifier: MIT
/*
 * TUN offloads in user space (see offload.h). The header's semantics are
 * Linux's include/linux/virtio_net.h (virtio_net_hdr_from_skb, what a
 * TUN read carries; virtio_net_hdr_to_skb, what a write must satisfy);
 * segmentation follows net/ipv4/tcp_offload.c (tcp_gso_segment),
 * net/ipv4/udp_offload.c (__udp_gso_segment) and af_inet.c
 * (inet_gso_segment: one IPv4 ID per segment); coalescing follows
 * tcp_gro_receive's rules as wireguard-go's tun/offload_linux.go applies
 * them to a batch. Checksums after RFC 1071 and RFC 1624.
 */
#include "offload.h"

#include <netinet/in.h>
#include <string.h>

#include "ippkt.h"

#define TCP_HDR_MIN 20
#define UDP_HDR_LEN 8
#define TCP_CSUM_OFF 16
#define UDP_CSUM_OFF 6
#define TCP_FLAGS_OFF 13
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_ECE 0x40
#define TCP_CWR 0x80

static const char *const err_names[OFFLOAD_ERR_COUNT] = {
	[OFFLOAD_OK] = "ok",
	[OFFLOAD_ERR_SHORT] = "short",
	[OFFLOAD_ERR_FLAGS] = "flags",
	[OFFLOAD_ERR_GSO_TYPE] = "gso-type",
	[OFFLOAD_ERR_HDR_LEN] = "hdr-len",
	[OFFLOAD_ERR_TOO_LONG] = "too-long",
	[OFFLOAD_ERR_NOT_IP] = "not-ip",
	[OFFLOAD_ERR_IP_LEN] = "ip-length",
	[OFFLOAD_ERR_NO_CSUM] = "gso-without-csum",
	[OFFLOAD_ERR_FAMILY] = "family",
	[OFFLOAD_ERR_FRAGMENT] = "fragment",
	[OFFLOAD_ERR_PROTO] = "protocol",
	[OFFLOAD_ERR_ROUTING] = "ipv6-routing-header",
	[OFFLOAD_ERR_CSUM_START] = "csum-start",
	[OFFLOAD_ERR_CSUM_OFFSET] = "csum-offset",
	[OFFLOAD_ERR_L4_HDR] = "transport-header",
	[OFFLOAD_ERR_GSO_SIZE] = "gso-size",
	[OFFLOAD_ERR_SEGMENTS] = "segments",
};

const char *
offload_err_name(enum offload_err err)
{
	if ((unsigned int)err >= OFFLOAD_ERR_COUNT)
		return "unknown";
	return err_names[err];
}

void
offload_vnet_decode(const uint8_t *buf, struct offload_vnet *out)
{
	out->flags = buf[0];
	out->gso_type = buf[1];
	out->hdr_len = (uint16_t)(buf[2] | buf[3] << 8);
	out->gso_size = (uint16_t)(buf[4] | buf[5] << 8);
	out->csum_start = (uint16_t)(buf[6] | buf[7] << 8);
	out->csum_offset = (uint16_t)(buf[8] | buf[9] << 8);
}

void
offload_vnet_encode(const struct offload_vnet *v, uint8_t *buf)
{
	const uint16_t w[4] = { v->hdr_len, v->gso_size, v->csum_start,
				v->csum_offset };
	size_t i;

	buf[0] = v->flags;
	buf[1] = v->gso_type;
	for (i = 0; i < 4; i++) {
		buf[2 + 2 * i] = (uint8_t)w[i];
		buf[3 + 2 * i] = (uint8_t)(w[i] >> 8);
	}
}

/*
 * ippkt_sum, eight bytes a step: the one's-complement sum comes out the
 * same in either byte order, swapped (RFC 1071 section 2(B)), so the
 * words are added as the host loads them and the result swapped once.
 * Only the last buffer of a checksum may have an odd length.
 */
static uint32_t
csum_add(uint32_t sum, const uint8_t *buf, size_t len)
{
	uint64_t acc = 0, w;
	uint32_t s;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, buf + i, 8);
		acc += (w & 0xffffffff) + (w >> 32);
	}
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	s = (uint32_t)acc;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	s = (s & 0xff) << 8 | s >> 8;
#endif
	sum = (sum & 0xffff) + (sum >> 16) + s;
	return ippkt_sum(sum, buf + i, len - i);
}

static uint32_t
csum_add32(uint32_t sum, uint32_t v)
{
	sum = (sum & 0xffff) + (sum >> 16);
	return sum + (v >> 16) + (v & 0xffff);
}

/* --- parsing -------------------------------------------------------------- */

/* The IP length field says the packet's length. */
static bool
ip_len_matches(const uint8_t *pkt, size_t len, int family)
{
	if (family == AF_INET)
		return ippkt_get16(pkt + 2) == len;
	return (size_t)ippkt_get16(pkt + 4) + 40 == len;
}

/* The checksum the kernel left partial in a single packet may belong to
 * any header behind the IP header (an encapsulated one too), as
 * skb_checksum_help allows: it only has to lie inside. */
static enum offload_err
check_single_csum(struct offload_pkt *out, const struct ippkt *ip)
{
	size_t start = out->vnet.csum_start, off = out->vnet.csum_offset;

	if (start < ip->ip_hdr_len || start >= out->len)
		return OFFLOAD_ERR_CSUM_START;
	if (off + 2 > out->len - start)
		return OFFLOAD_ERR_CSUM_OFFSET;
	return OFFLOAD_OK;
}

/*
 * An IPv6 routing header moves the pseudo-header's destination to the
 * last address of its list (RFC 8200 section 8.1): segments are summed
 * here from the addresses in the fixed header, so such a super-packet is
 * refused. The chain was walked by ippkt_parse: every length is inside.
 */
static bool
has_routing_header(const uint8_t *pkt, size_t l4_off)
{
	size_t off = 40, len;
	uint8_t next = pkt[6];

	while (off < l4_off) {
		if (next == IPPROTO_ROUTING)
			return true;
		len = next == IPPROTO_AH ? ((size_t)pkt[off + 1] + 2) * 4
					 : ((size_t)pkt[off + 1] + 1) * 8;
		next = pkt[off];
		off += len;
	}
	return false;
}

/* A super-packet: the header's type, the packet's headers and the
 * segment size must agree with each other. */
static enum offload_err
check_gso(struct offload_pkt *out, const struct ippkt *ip)
{
	const uint8_t *l4;
	size_t l4_hdr, payload, room;
	int want_family = out->gso_type == OFFLOAD_GSO_TCPV4 ? AF_INET
			  : out->gso_type == OFFLOAD_GSO_TCPV6 ? AF_INET6 : 0;
	uint8_t want_proto = out->gso_type == OFFLOAD_GSO_UDP_L4 ? IPPROTO_UDP
								 : IPPROTO_TCP;

	if (!out->needs_csum)
		return OFFLOAD_ERR_NO_CSUM;
	if (want_family && ip->family != want_family)
		return OFFLOAD_ERR_FAMILY;
	if (ip->is_fragment)
		return OFFLOAD_ERR_FRAGMENT;
	if (ip->proto != want_proto)
		return OFFLOAD_ERR_PROTO;
	if (ip->family == AF_INET6 && has_routing_header(out->pkt, ip->l4_off))
		return OFFLOAD_ERR_ROUTING;
	if (out->vnet.csum_start != ip->l4_off)
		return OFFLOAD_ERR_CSUM_START;
	if (out->vnet.csum_offset !=
	    (want_proto == IPPROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF))
		return OFFLOAD_ERR_CSUM_OFFSET;
	room = out->len - ip->l4_off;
	l4 = out->pkt + ip->l4_off;
	if (want_proto == IPPROTO_TCP) {
		if (room < TCP_HDR_MIN)
			return OFFLOAD_ERR_L4_HDR;
		l4_hdr = (size_t)(l4[12] >> 4) * 4;
		if (l4_hdr < TCP_HDR_MIN || l4_hdr > room)
			return OFFLOAD_ERR_L4_HDR;
	} else {
		l4_hdr = UDP_HDR_LEN;
		if (room < l4_hdr)
			return OFFLOAD_ERR_L4_HDR;
	}
	if (ip->l4_off + l4_hdr > OFFLOAD_HDR_MAX)
		return OFFLOAD_ERR_L4_HDR;
	out->hdr_len = ip->l4_off + l4_hdr;
	payload = out->len - out->hdr_len;
	/* A segment must still be an IP packet. */
	if (!payload || !out->vnet.gso_size ||
	    out->hdr_len + out->vnet.gso_size > 65535)
		return OFFLOAD_ERR_GSO_SIZE;
	out->family = ip->family;
	out->proto = want_proto;
	out->l4_off = ip->l4_off;
	out->gso_size = out->vnet.gso_size;
	out->segs = (payload + out->gso_size - 1) / out->gso_size;
	out->seg_max = out->hdr_len +
		       (payload < out->gso_size ? payload : out->gso_size);
	return OFFLOAD_OK;
}

/* The header alone: flags and type known, fields that mean nothing for
 * this type left at zero, as virtio_net_hdr_from_skb leaves them. */
static enum offload_err
check_vnet(struct offload_pkt *out)
{
	const struct offload_vnet *v = &out->vnet;
	bool ecn = v->gso_type & OFFLOAD_GSO_ECN;

	if (v->flags & ~(OFFLOAD_F_NEEDS_CSUM | OFFLOAD_F_DATA_VALID) ||
	    v->flags == (OFFLOAD_F_NEEDS_CSUM | OFFLOAD_F_DATA_VALID))
		return OFFLOAD_ERR_FLAGS;
	out->gso_type = v->gso_type & (uint8_t)~OFFLOAD_GSO_ECN;
	out->needs_csum = v->flags & OFFLOAD_F_NEEDS_CSUM;
	switch (out->gso_type) {
	case OFFLOAD_GSO_NONE:
		if (ecn)
			return OFFLOAD_ERR_GSO_TYPE;
		if (v->gso_size)
			return OFFLOAD_ERR_GSO_SIZE;
		break;
	case OFFLOAD_GSO_TCPV4:
	case OFFLOAD_GSO_TCPV6:
		break;
	case OFFLOAD_GSO_UDP_L4:
		if (ecn)
			return OFFLOAD_ERR_GSO_TYPE;
		break;
	default:
		return OFFLOAD_ERR_GSO_TYPE;
	}
	if (v->hdr_len > out->len)
		return OFFLOAD_ERR_HDR_LEN;
	if (!out->needs_csum && (v->csum_start || v->csum_offset))
		return OFFLOAD_ERR_CSUM_START;
	return OFFLOAD_OK;
}

enum offload_err
offload_parse(const uint8_t *buf, size_t len, struct offload_pkt *out)
{
	struct ippkt ip;
	enum offload_err err;

	memset(out, 0, sizeof(*out));
	if (len <= OFFLOAD_VNET_HDR_LEN)
		return OFFLOAD_ERR_SHORT;
	offload_vnet_decode(buf, &out->vnet);
	out->pkt = buf + OFFLOAD_VNET_HDR_LEN;
	out->len = len - OFFLOAD_VNET_HDR_LEN;
	out->segs = 1;
	out->seg_max = out->len;
	err = check_vnet(out);
	if (err != OFFLOAD_OK)
		goto out;
	if (out->len > OFFLOAD_PKT_MAX) {
		err = OFFLOAD_ERR_TOO_LONG;
		goto out;
	}
	if (out->gso_type == OFFLOAD_GSO_NONE && !out->needs_csum)
		goto out;
	if (!ippkt_parse(out->pkt, out->len, &ip)) {
		err = OFFLOAD_ERR_NOT_IP;
		goto out;
	}
	if (!ip_len_matches(out->pkt, out->len, ip.family)) {
		err = OFFLOAD_ERR_IP_LEN;
		goto out;
	}
	if (out->gso_type == OFFLOAD_GSO_NONE)
		err = check_single_csum(out, &ip);
	else
		err = check_gso(out, &ip);
out:
	if (err != OFFLOAD_OK) {
		memset(out, 0, sizeof(*out));
		out->vnet.flags = len >= 1 ? buf[0] : 0;
	}
	return err;
}

/* --- checksum completion and segmentation -------------------------------- */

void
offload_csum_complete(const struct offload_pkt *p, uint8_t *pkt)
{
	size_t start = p->vnet.csum_start, at = start + p->vnet.csum_offset;
	uint16_t csum;

	if (!p->needs_csum || p->gso_type != OFFLOAD_GSO_NONE)
		return;
	/* The field holds the pseudo-header sum: it is summed with the
	 * rest, and a result of 0 goes out as 0xffff (skb_checksum_help). */
	csum = ippkt_fold(csum_add(0, pkt + start, p->len - start));
	ippkt_put16(pkt + at, csum ? csum : 0xffff);
}

/* What every segment of a super-packet shares, summed once. */
struct seg_plan {
	uint8_t tmpl[OFFLOAD_HDR_MAX]; /* headers, per-segment fields 0 */
	uint32_t ip_sum;               /* IPv4 header sum of tmpl */
	uint32_t l4_sum;               /* pseudo-header without its length,
					* and the transport header of tmpl */
	uint16_t ip_id;
	uint32_t seq;
	uint8_t tcp_flags;
	size_t payload;
};

static void
plan_segments(const struct offload_pkt *p, struct seg_plan *sp)
{
	uint8_t *l4 = sp->tmpl + p->l4_off;
	const uint8_t *src = p->pkt + (p->family == AF_INET ? 12 : 8);
	size_t alen = p->family == AF_INET ? 4 : 16;

	memcpy(sp->tmpl, p->pkt, p->hdr_len);
	sp->payload = p->len - p->hdr_len;
	sp->ip_sum = 0;
	if (p->family == AF_INET) {
		sp->ip_id = ippkt_get16(sp->tmpl + 4);
		memset(sp->tmpl + 2, 0, 4);  /* total length, ID */
		memset(sp->tmpl + 10, 0, 2); /* header checksum */
		sp->ip_sum = ippkt_sum(0, sp->tmpl, p->l4_off);
	} else {
		memset(sp->tmpl + 4, 0, 2);  /* payload length */
	}
	if (p->proto == IPPROTO_TCP) {
		sp->seq = ippkt_get32(l4 + 4);
		sp->tcp_flags = l4[TCP_FLAGS_OFF];
		memset(l4 + 4, 0, 4);
		l4[TCP_FLAGS_OFF] = 0;
	} else {
		memset(l4 + 4, 0, 2);        /* UDP length */
	}
	memset(l4 + p->vnet.csum_offset, 0, 2);
	sp->l4_sum = ippkt_sum(0, src, alen);
	sp->l4_sum = ippkt_sum(sp->l4_sum, src + alen, alen);
	sp->l4_sum += p->proto;
	sp->l4_sum = ippkt_sum(sp->l4_sum, l4, p->hdr_len - p->l4_off);
}

/* Segment i of p into out: the shared headers with this segment's
 * lengths, IPv4 ID, sequence number and flags, then its payload. */
static size_t
write_segment(const struct offload_pkt *p, const struct seg_plan *sp,
	      size_t i, uint8_t *out)
{
	size_t off = i * p->gso_size;
	size_t n = sp->payload - off < p->gso_size ? sp->payload - off
						    : p->gso_size;
	size_t seg_len = p->hdr_len + n, l4_len = seg_len - p->l4_off;
	uint8_t *l4 = out + p->l4_off;
	uint32_t sum = sp->l4_sum + (uint32_t)l4_len;
	uint16_t id, csum;
	uint8_t flags;

	memcpy(out, sp->tmpl, p->hdr_len);
	memcpy(out + p->hdr_len, p->pkt + p->hdr_len + off, n);
	if (p->family == AF_INET) {
		id = (uint16_t)(sp->ip_id + i);
		ippkt_put16(out + 2, (uint16_t)seg_len);
		ippkt_put16(out + 4, id);
		ippkt_put16(out + 10, ippkt_fold(sp->ip_sum + seg_len + id));
	} else {
		ippkt_put16(out + 4, (uint16_t)(seg_len - 40));
	}
	if (p->proto == IPPROTO_TCP) {
		flags = sp->tcp_flags;
		/* CWR on the first segment alone, FIN and PSH on the last
		 * alone (tcp_gso_segment). */
		if (i > 0)
			flags &= (uint8_t)~TCP_CWR;
		if (i + 1 < p->segs)
			flags &= (uint8_t)~(TCP_FIN | TCP_PSH);
		ippkt_put32(l4 + 4, sp->seq + (uint32_t)off);
		l4[TCP_FLAGS_OFF] = flags;
		sum = csum_add32(sum, sp->seq + (uint32_t)off) + flags;
	} else {
		ippkt_put16(l4 + 4, (uint16_t)l4_len);
		sum += (uint32_t)l4_len;
	}
	csum = ippkt_fold(csum_add(sum, out + p->hdr_len, n));
	/* UDP's zero means "no checksum" (__udp_gso_segment). */
	if (!csum && p->proto == IPPROTO_UDP)
		csum = 0xffff;
	ippkt_put16(l4 + p->vnet.csum_offset, csum);
	return seg_len;
}

enum offload_err
offload_segment(const struct offload_pkt *p, uint8_t *const *bufs,
		size_t buf_cap, size_t n_bufs, size_t *lens)
{
	struct seg_plan sp;
	size_t i;

	if (n_bufs < p->segs || buf_cap < p->seg_max || !p->segs)
		return OFFLOAD_ERR_SEGMENTS;
	if (p->gso_type == OFFLOAD_GSO_NONE) {
		memcpy(bufs[0], p->pkt, p->len);
		offload_csum_complete(p, bufs[0]);
		lens[0] = p->len;
		return OFFLOAD_OK;
	}
	plan_segments(p, &sp);
	for (i = 0; i < p->segs; i++)
		lens[i] = write_segment(p, &sp, i, bufs[i]);
	return OFFLOAD_OK;
}

/* --- coalescing ----------------------------------------------------------- */

#define GRO_NONE 0xffff
#define GRO_KEY_LEN 37

/* A TCP segment that may join a super-packet: its headers read once. */
struct gro_seg {
	const uint8_t *p;
	size_t len, l4_off, l4_hdr, payload;
	uint32_t seq;
	uint8_t flags;
	int family;
	uint8_t key[GRO_KEY_LEN];
};

static void
flow_key(struct gro_seg *s, const uint8_t *src, size_t alen,
	 const uint8_t *ports)
{
	memset(s->key, 0, sizeof(s->key));
	s->key[0] = (uint8_t)s->family;
	memcpy(s->key + 1, src, 2 * alen);
	memcpy(s->key + 33, ports, 4);
}

static uint32_t
flow_hash(const uint8_t *key)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < GRO_KEY_LEN; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

static bool
tcp_csum_ok(const struct gro_seg *s)
{
	size_t alen = s->family == AF_INET ? 4 : 16;
	const uint8_t *src = s->p + (s->family == AF_INET ? 12 : 8);
	uint32_t sum = ippkt_pseudo_sum(s->family, src, src + alen,
					IPPROTO_TCP, s->len - s->l4_off);

	return ippkt_fold(csum_add(sum, s->p + s->l4_off,
				   s->len - s->l4_off)) == 0;
}

/*
 * A candidate is what wireguard-go's packetIsGROCandidate and tcpGRO take:
 * IPv4 without options or fragments, or IPv6 with TCP right behind its
 * header; lengths that match; a payload; ACK, and of the other flags only
 * those tcp_gro_receive lets through: PSH and FIN (on the last segment),
 * CWR (on the first), ECE (on all or none). IPv4's header checksum is
 * checked here, since a merged header gets a fresh one.
 */
static bool
gro_candidate(const uint8_t *p, size_t len, struct gro_seg *s)
{
	memset(s, 0, sizeof(*s));
	s->p = p;
	s->len = len;
	if (len < 40 || len > 65535)
		return false;
	if (p[0] == 0x45) {
		if (ippkt_get16(p + 2) != len ||
		    (ippkt_get16(p + 6) & 0x3fff) || p[9] != IPPROTO_TCP ||
		    ippkt_fold(ippkt_sum(0, p, 20)))
			return false;
		s->family = AF_INET;
		s->l4_off = 20;
	} else if (p[0] >> 4 == 6) {
		if (len < 60 || (size_t)ippkt_get16(p + 4) + 40 != len ||
		    p[6] != IPPROTO_TCP)
			return false;
		s->family = AF_INET6;
		s->l4_off = 40;
	} else {
		return false;
	}
	s->l4_hdr = (size_t)(p[s->l4_off + 12] >> 4) * 4;
	if (s->l4_hdr < TCP_HDR_MIN || s->l4_off + s->l4_hdr >= len)
		return false;
	s->payload = len - s->l4_off - s->l4_hdr;
	s->seq = ippkt_get32(p + s->l4_off + 4);
	s->flags = p[s->l4_off + TCP_FLAGS_OFF];
	if ((s->flags & ~(TCP_PSH | TCP_FIN | TCP_CWR | TCP_ECE)) != TCP_ACK)
		return false;
	flow_key(s, p + (s->family == AF_INET ? 12 : 8),
		 s->family == AF_INET ? 4 : 16, p + s->l4_off);
	return true;
}

/* The flow's slot: the one holding its key, or the empty one where it
 * goes. The table never fills: it has twice the slots of a batch. */
static size_t
flow_slot(const struct offload_gro *g, const uint8_t *key,
	  const uint8_t *const *pkts, const size_t *lens)
{
	const struct offload_gro_write *w;
	size_t i;
	uint32_t h = flow_hash(key);
	struct gro_seg s;

	for (i = h % OFFLOAD_GRO_SLOTS;; i = (i + 1) % OFFLOAD_GRO_SLOTS) {
		if (g->slot[i] < 0)
			return i;
		w = &g->writes[g->slot[i]];
		/* A flow's write always starts with a candidate. */
		if (w->key_hash == h &&
		    gro_candidate(pkts[w->first], lens[w->first], &s) &&
		    !memcmp(s.key, key, GRO_KEY_LEN))
			return i;
	}
}

/* The headers of the write's first packet and s agree where
 * tcp_gro_receive and inet/ipv6_gro_receive want them equal. */
static bool
headers_match(const struct gro_seg *f, const struct gro_seg *s)
{
	const uint8_t *a = f->p, *b = s->p;
	const uint8_t *ta = a + f->l4_off, *tb = b + s->l4_off;

	if (f->family == AF_INET) {
		/* TOS, DF and the reserved bit, TTL */
		if (a[1] != b[1] || (a[6] ^ b[6]) >> 5 || a[8] != b[8])
			return false;
	} else {
		/* version, traffic class, flow label; hop limit */
		if (memcmp(a, b, 4) || a[7] != b[7])
			return false;
	}
	/* ECE, data offset, ACK number, window, urgent pointer (left
	 * alone by the kernel, but segmentation would copy the first's),
	 * then every option byte */
	return !((f->flags ^ s->flags) & TCP_ECE) &&
	       f->l4_hdr == s->l4_hdr && ta[12] == tb[12] &&
	       !memcmp(ta + 8, tb + 8, 4) && !memcmp(ta + 14, tb + 14, 2) &&
	       !memcmp(ta + 18, tb + 18, 2) &&
	       !memcmp(ta + 20, tb + 20, f->l4_hdr - 20);
}

/* Without DF, IPv4 IDs must count up from the first packet's, as
 * inet_gro_receive wants and segmentation will write them again. */
static bool
ids_match(const struct gro_seg *f, const struct gro_seg *s, size_t k)
{
	if (f->family != AF_INET || f->p[6] & 0x40)
		return true;
	return ippkt_get16(s->p + 4) == (uint16_t)(ippkt_get16(f->p + 4) + k);
}

static bool
try_append(struct offload_gro *g, struct offload_gro_write *w,
	   const struct gro_seg *s, size_t idx, const uint8_t *const *pkts,
	   const size_t *lens)
{
	struct gro_seg f;

	if (!w->is_open || s->flags & TCP_CWR || s->seq != w->next_seq ||
	    s->payload > w->gso_size ||
	    w->ip_len + s->payload > g->max_len ||
	    !gro_candidate(pkts[w->first], lens[w->first], &f) ||
	    !headers_match(&f, s) || !ids_match(&f, s, w->n_pkts))
		return false;
	/* The kernel recomputes a merged packet's checksum: a segment
	 * that arrived broken must not be mended by merging. */
	if (!w->first_checked) {
		w->first_checked = true;
		if (!tcp_csum_ok(&f)) {
			w->is_open = false;
			return false;
		}
	}
	if (!tcp_csum_ok(s))
		return false;
	g->next[w->last] = (uint16_t)idx;
	w->last = (uint16_t)idx;
	w->n_pkts++;
	w->ip_len += s->payload;
	w->next_seq += (uint32_t)s->payload;
	/* Nothing follows a short segment, or one that pushes or ends. */
	w->last_flags = s->flags & (TCP_PSH | TCP_FIN);
	if (s->payload < w->gso_size || w->last_flags)
		w->is_open = false;
	return true;
}

static struct offload_gro_write *
new_write(struct offload_gro *g, size_t idx, size_t len)
{
	struct offload_gro_write *w = &g->writes[g->n_writes++];

	memset(w, 0, sizeof(*w));
	w->hdr_len = OFFLOAD_VNET_HDR_LEN;
	w->first = w->last = (uint16_t)idx;
	w->n_pkts = 1;
	w->ip_len = len;
	w->len = OFFLOAD_VNET_HDR_LEN + len;
	return w;
}

/* A TCP packet that cannot join its flow's write ends it: what comes
 * after must not be merged ahead of it. */
static void
close_flow(struct offload_gro *g, const uint8_t *p, size_t len,
	   const uint8_t *const *pkts, const size_t *lens)
{
	struct ippkt ip;
	struct gro_seg s;
	size_t slot;

	if (!ippkt_parse(p, len, &ip) || ip.proto != IPPROTO_TCP ||
	    !ip.has_ports)
		return;
	memset(&s, 0, sizeof(s));
	s.family = ip.family;
	flow_key(&s, ip.src, ip.family == AF_INET ? 4 : 16, p + ip.l4_off);
	slot = flow_slot(g, s.key, pkts, lens);
	if (g->slot[slot] >= 0)
		g->writes[g->slot[slot]].is_open = false;
}

static void
add_packet(struct offload_gro *g, size_t idx, const uint8_t *const *pkts,
	   const size_t *lens)
{
	struct offload_gro_write *w;
	struct gro_seg s;
	size_t slot;

	g->next[idx] = GRO_NONE;
	if (!gro_candidate(pkts[idx], lens[idx], &s)) {
		close_flow(g, pkts[idx], lens[idx], pkts, lens);
		new_write(g, idx, lens[idx]);
		return;
	}
	slot = flow_slot(g, s.key, pkts, lens);
	if (g->slot[slot] >= 0 &&
	    try_append(g, &g->writes[g->slot[slot]], &s, idx, pkts, lens))
		return;
	g->slot[slot] = (int16_t)g->n_writes;
	w = new_write(g, idx, lens[idx]);
	w->key_hash = flow_hash(s.key);
	w->l4_off = s.l4_off;
	w->l4_hdr = s.l4_hdr;
	w->gso_size = s.payload;
	w->next_seq = s.seq + (uint32_t)s.payload;
	w->is_open = !(s.flags & (TCP_PSH | TCP_FIN));
}

/* A merged write's header block: the first packet's headers with the
 * merged lengths, PSH and FIN as the last had them, the pseudo-header sum
 * in the checksum field (CHECKSUM_PARTIAL), and a header saying so, with
 * ECN if the first had CWR (tcp_gro_complete). */
static void
finish_write(struct offload_gro_write *w, const uint8_t *first)
{
	struct offload_vnet v = { 0 };
	uint8_t *ip = w->hdr + OFFLOAD_VNET_HDR_LEN, *l4 = ip + w->l4_off;
	int family = first[0] >> 4 == 4 ? AF_INET : AF_INET6;
	uint32_t sum;

	memset(w->hdr, 0, OFFLOAD_VNET_HDR_LEN);
	w->len = OFFLOAD_VNET_HDR_LEN + w->ip_len;
	if (w->n_pkts < 2)
		return;
	w->hdr_len = OFFLOAD_VNET_HDR_LEN + w->l4_off + w->l4_hdr;
	memcpy(ip, first, w->l4_off + w->l4_hdr);
	if (family == AF_INET) {
		ippkt_put16(ip + 2, (uint16_t)w->ip_len);
		ippkt_put16(ip + 10, 0);
		ippkt_put16(ip + 10, ippkt_fold(ippkt_sum(0, ip, w->l4_off)));
	} else {
		ippkt_put16(ip + 4, (uint16_t)(w->ip_len - 40));
	}
	l4[TCP_FLAGS_OFF] |= w->last_flags;
	sum = ippkt_pseudo_sum(family, ip + (family == AF_INET ? 12 : 8),
			       ip + (family == AF_INET ? 16 : 24),
			       IPPROTO_TCP, w->ip_len - w->l4_off);
	ippkt_put16(l4 + TCP_CSUM_OFF, (uint16_t)~ippkt_fold(sum));
	v.flags = OFFLOAD_F_NEEDS_CSUM;
	v.gso_type = family == AF_INET ? OFFLOAD_GSO_TCPV4 : OFFLOAD_GSO_TCPV6;
	if (l4[TCP_FLAGS_OFF] & TCP_CWR)
		v.gso_type |= OFFLOAD_GSO_ECN;
	v.hdr_len = (uint16_t)(w->l4_off + w->l4_hdr);
	v.gso_size = (uint16_t)w->gso_size;
	v.csum_start = (uint16_t)w->l4_off;
	v.csum_offset = TCP_CSUM_OFF;
	offload_vnet_encode(&v, w->hdr);
}

void
offload_gro_init(struct offload_gro *g, size_t max_len)
{
	memset(g, 0, sizeof(*g));
	g->max_len = max_len && max_len < 65535 ? max_len : 65535;
}

size_t
offload_gro_batch(struct offload_gro *g, const uint8_t *const *pkts,
		  const size_t *lens, size_t n)
{
	size_t i;

	if (n > OFFLOAD_GRO_BATCH_MAX)
		n = OFFLOAD_GRO_BATCH_MAX;
	g->n_writes = 0;
	memset(g->slot, 0xff, sizeof(g->slot));
	for (i = 0; i < n; i++)
		add_packet(g, i, pkts, lens);
	for (i = 0; i < g->n_writes; i++)
		finish_write(&g->writes[i], pkts[g->writes[i].first]);
	return n;
}

size_t
offload_gro_iov(const struct offload_gro *g, size_t w,
		const uint8_t *const *pkts, const size_t *lens,
		struct iovec *iov)
{
	const struct offload_gro_write *wr = &g->writes[w];
	size_t n = 1, hdrs = wr->l4_off + wr->l4_hdr;
	uint16_t i;

	iov[0].iov_base = (void *)(uintptr_t)wr->hdr;
	iov[0].iov_len = wr->hdr_len;
	if (wr->n_pkts < 2) {
		iov[1].iov_base = (void *)(uintptr_t)pkts[wr->first];
		iov[1].iov_len = lens[wr->first];
		return 2;
	}
	/* Every packet of a merged write has the first one's header
	 * lengths (headers_match). */
	for (i = wr->first; i != GRO_NONE; i = g->next[i]) {
		iov[n].iov_base = (void *)(uintptr_t)(pkts[i] + hdrs);
		iov[n].iov_len = lens[i] - hdrs;
		n++;
	}
	return n;
}

size_t
offload_gro_flatten(const struct offload_gro *g, size_t w,
		    const uint8_t *const *pkts, const size_t *lens,
		    uint8_t *out, size_t cap)
{
	struct iovec iov[OFFLOAD_GRO_BATCH_MAX + 1];
	size_t n, i, len = 0;

	if (g->writes[w].len > cap)
		return 0;
	n = offload_gro_iov(g, w, pkts, lens, iov);
	for (i = 0; i < n; i++) {
		memcpy(out + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	return len;
}
