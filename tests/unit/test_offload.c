// SPDX-License-Identifier: MIT
/*
 * offload.c against the kernel: super-packets Linux handed to a TUN
 * device with offloads on, recorded with the packets Linux itself cut
 * them into (tests/vectors/offload/, see its README), segmented here and
 * compared byte for byte; coalescing those segments gives the recorded
 * super-packet back. Then synthetic super-packets (IPv4 options, IPv6
 * extension headers, odd segment sizes, sequence and ID wrap, CWR, FIN,
 * UDP's zero checksum) against a naive segmenter that builds every packet
 * from scratch; every malformed header with its reason; truncation
 * sweeps; coalescing's rules one by one; and seeded random batches whose
 * writes must re-segment into exactly the packets that went in.
 */
#include <dirent.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ippkt.h"
#include "offload.h"
#include "rand.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VEC_MAX_RECS 128
#define BUF_CAP 2048
#define READ_CAP (OFFLOAD_VNET_HDR_LEN + OFFLOAD_PKT_MAX)

/* --- helpers -------------------------------------------------------------- */

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

/* A deliberately naive Internet checksum: every 16-bit word into 64
 * bits, folded at the end. */
static uint16_t
naive_csum(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < alen; i += 2)
		s += (uint64_t)(a[i] << 8 | (i + 1 < alen ? a[i + 1] : 0));
	for (i = 0; i < blen; i += 2)
		s += (uint64_t)(b[i] << 8 | (i + 1 < blen ? b[i + 1] : 0));
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The pseudo-header as bytes, for naive_csum. */
static size_t
pseudo(const uint8_t *ip, int family, uint8_t proto, size_t l4_len,
       uint8_t *out)
{
	if (family == AF_INET) {
		memcpy(out, ip + 12, 8);
		out[8] = 0;
		out[9] = proto;
		wr16(out + 10, (uint16_t)l4_len);
		return 12;
	}
	memcpy(out, ip + 8, 32);
	wr32(out + 32, (uint32_t)l4_len);
	memset(out + 36, 0, 3);
	out[39] = proto;
	return 40;
}

/* Every checksum of an IP packet holding TCP or UDP is right. */
static void
assert_packet_valid(const uint8_t *pkt, size_t len)
{
	struct ippkt ip;
	uint8_t ph[40];
	size_t n;

	assert_true(ippkt_parse(pkt, len, &ip));
	if (ip.family == AF_INET) {
		assert_int_equal(rd16(pkt + 2), len);
		assert_int_equal(naive_csum(pkt, ip.ip_hdr_len, NULL, 0), 0);
	} else {
		assert_int_equal(rd16(pkt + 4) + 40, len);
	}
	n = pseudo(pkt, ip.family, ip.proto, len - ip.l4_off, ph);
	assert_int_equal(naive_csum(ph, n, pkt + ip.l4_off, len - ip.l4_off),
			 0);
	if (ip.proto == IPPROTO_UDP)
		assert_int_equal(rd16(pkt + ip.l4_off + 4), len - ip.l4_off);
}

/* --- recorded vectors ----------------------------------------------------- */

struct vec {
	char name[256];
	uint8_t *data;
	size_t n;
	const uint8_t *rec[VEC_MAX_RECS];
	size_t len[VEC_MAX_RECS];
};

static const char *
vec_dir(void)
{
	const char *d = getenv("OFFLOAD_VECTORS");

	return d ? d : "tests/vectors/offload";
}

/* A file of records, each a 32-bit big-endian length and its bytes:
 * the read from the device, then the kernel's packets. */
static void
vec_load(const char *name, struct vec *v)
{
	char path[1024];
	FILE *f;
	long size;
	size_t off = 0, l;

	snprintf(path, sizeof(path), "%s/%s", vec_dir(), name);
	snprintf(v->name, sizeof(v->name), "%s", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	v->data = malloc((size_t)size);
	assert_non_null(v->data);
	assert_int_equal(fread(v->data, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	v->n = 0;
	while (off < (size_t)size) {
		assert_true(off + 4 <= (size_t)size);
		l = (size_t)v->data[off] << 24 | (size_t)v->data[off + 1] << 16 |
		    (size_t)v->data[off + 2] << 8 | v->data[off + 3];
		assert_true(l <= (size_t)size - off - 4);
		assert_true(v->n < VEC_MAX_RECS);
		v->rec[v->n] = v->data + off + 4;
		v->len[v->n++] = l;
		off += 4 + l;
	}
	assert_true(v->n >= 2);
}

/* Calls fn on every vector; returns how many there were. */
static size_t
vec_each(void (*fn)(struct vec *v, void *arg), void *arg)
{
	DIR *d = opendir(vec_dir());
	struct dirent *e;
	struct vec v;
	size_t n = 0, l;

	assert_non_null(d);
	while ((e = readdir(d))) {
		l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".bin"))
			continue;
		memset(&v, 0, sizeof(v));
		vec_load(e->d_name, &v);
		fn(&v, arg);
		free(v.data);
		n++;
	}
	closedir(d);
	return n;
}

struct seg_bufs {
	uint8_t *buf[VEC_MAX_RECS];
	size_t len[VEC_MAX_RECS];
};

static void
bufs_alloc(struct seg_bufs *b)
{
	size_t i;

	for (i = 0; i < VEC_MAX_RECS; i++) {
		b->buf[i] = malloc(BUF_CAP);
		assert_non_null(b->buf[i]);
		memset(b->buf[i], 0xee, BUF_CAP);
	}
}

static void
bufs_free(struct seg_bufs *b)
{
	size_t i;

	for (i = 0; i < VEC_MAX_RECS; i++)
		free(b->buf[i]);
}

/* What forwarding did to the kernel's packets: TTL or hop limit one
 * lower, and IPv4's header checksum with it. */
static void
forwarded(uint8_t *pkt)
{
	if (pkt[0] >> 4 == 4) {
		pkt[8]--;
		wr16(pkt + 10, 0);
		wr16(pkt + 10, naive_csum(pkt, (size_t)(pkt[0] & 15) * 4,
					  NULL, 0));
	} else {
		pkt[7]--;
	}
}

struct kernel_seen {
	size_t by_type[8];
	size_t csum_single;
};

static void
check_kernel_vector(struct vec *v, void *arg)
{
	struct kernel_seen *seen = arg;
	struct offload_pkt p;
	struct seg_bufs b;
	size_t i;

	print_message("# %s: %zu bytes, %zu packets from the kernel\n",
		      v->name, v->len[0], v->n - 1);
	assert_int_equal(offload_parse(v->rec[0], v->len[0], &p), OFFLOAD_OK);
	assert_int_equal(p.segs, v->n - 1);
	seen->by_type[p.gso_type & 7]++;
	if (p.gso_type == OFFLOAD_GSO_NONE && p.needs_csum)
		seen->csum_single++;
	bufs_alloc(&b);
	assert_int_equal(offload_segment(&p, b.buf, BUF_CAP, VEC_MAX_RECS,
					 b.len),
			 OFFLOAD_OK);
	for (i = 0; i < p.segs; i++) {
		assert_int_equal(b.len[i], v->len[i + 1]);
		assert_packet_valid(b.buf[i], b.len[i]);
		forwarded(b.buf[i]);
		assert_memory_equal(b.buf[i], v->rec[i + 1], b.len[i]);
	}
	bufs_free(&b);
}

static void
test_kernel_segments(void **state)
{
	struct kernel_seen seen = { { 0 }, 0 };

	(void)state;
	assert_true(vec_each(check_kernel_vector, &seen) >= 10);
	assert_true(seen.by_type[OFFLOAD_GSO_TCPV4] >= 3);
	assert_true(seen.by_type[OFFLOAD_GSO_TCPV6] >= 3);
	assert_true(seen.by_type[OFFLOAD_GSO_UDP_L4] >= 2);
	assert_true(seen.csum_single >= 2);
}

/* Segments, then coalesces them: the recorded read comes back. */
static void
check_roundtrip(struct vec *v, void *arg)
{
	static struct offload_gro g;
	struct offload_pkt p, q;
	struct offload_vnet got;
	struct seg_bufs b;
	uint8_t *flat;
	size_t len;

	(void)arg;
	assert_int_equal(offload_parse(v->rec[0], v->len[0], &p), OFFLOAD_OK);
	if (p.gso_type != OFFLOAD_GSO_TCPV4 && p.gso_type != OFFLOAD_GSO_TCPV6)
		return;
	bufs_alloc(&b);
	assert_int_equal(offload_segment(&p, b.buf, BUF_CAP, VEC_MAX_RECS,
					 b.len),
			 OFFLOAD_OK);
	offload_gro_init(&g, 0);
	assert_int_equal(offload_gro_batch(&g, (const uint8_t *const *)b.buf,
					   b.len, p.segs),
			 p.segs);
	assert_int_equal(g.n_writes, 1);
	assert_int_equal(g.writes[0].n_pkts, p.segs);
	assert_int_equal(g.writes[0].len, v->len[0]);
	flat = malloc(READ_CAP);
	assert_non_null(flat);
	len = offload_gro_flatten(&g, 0, (const uint8_t *const *)b.buf, b.len,
				  flat, READ_CAP);
	assert_int_equal(len, v->len[0]);
	/* The packet exactly; the header but for hdr_len, which the
	 * kernel fills with its linear length, a hint. */
	assert_memory_equal(flat + OFFLOAD_VNET_HDR_LEN,
			    v->rec[0] + OFFLOAD_VNET_HDR_LEN,
			    len - OFFLOAD_VNET_HDR_LEN);
	offload_vnet_decode(flat, &got);
	assert_int_equal(got.flags, p.vnet.flags);
	assert_int_equal(got.gso_type, p.gso_type);
	assert_int_equal(got.gso_size, p.vnet.gso_size);
	assert_int_equal(got.csum_start, p.vnet.csum_start);
	assert_int_equal(got.csum_offset, p.vnet.csum_offset);
	assert_int_equal(got.hdr_len, p.hdr_len);
	assert_int_equal(offload_parse(flat, len, &q), OFFLOAD_OK);
	free(flat);
	bufs_free(&b);
}

static void
test_kernel_roundtrip(void **state)
{
	(void)state;
	assert_true(vec_each(check_roundtrip, NULL) >= 10);
}

/* Every length of every recorded read: refused with a reason, or (at
 * full length only) accepted; with the IP length made to match, deeper
 * refusals, and whatever is accepted segments into valid packets. */
static void
check_truncation(struct vec *v, void *arg)
{
	struct offload_pkt p, full;
	struct seg_bufs b;
	uint8_t *buf;
	size_t len, i, stop;
	enum offload_err err;

	(void)arg;
	assert_int_equal(offload_parse(v->rec[0], v->len[0], &full),
			 OFFLOAD_OK);
	buf = malloc(v->len[0] + 1);
	assert_non_null(buf);
	bufs_alloc(&b);
	for (len = 0; len <= v->len[0] + 1; len++) {
		/* A copy of exactly len bytes: ASan sees any read past it. */
		uint8_t *cut = malloc(len ? len : 1);

		assert_non_null(cut);
		memcpy(buf, v->rec[0], v->len[0]);
		buf[v->len[0]] = 0;
		memcpy(cut, buf, len);
		err = offload_parse(cut, len, &p);
		if (len == v->len[0])
			assert_int_equal(err, OFFLOAD_OK);
		else
			assert_int_not_equal(err, OFFLOAD_OK);
		free(cut);
	}
	/* Headers and the first segments with the length field fixed up. */
	stop = full.hdr_len ? full.hdr_len + 2 * full.gso_size + 2
			    : v->len[0] - OFFLOAD_VNET_HDR_LEN;
	for (len = 21; len <= stop && len <= full.len; len++) {
		uint8_t *cut = malloc(OFFLOAD_VNET_HDR_LEN + len);

		assert_non_null(cut);
		memcpy(cut, v->rec[0], OFFLOAD_VNET_HDR_LEN + len);
		if (cut[OFFLOAD_VNET_HDR_LEN] >> 4 == 4) {
			wr16(cut + OFFLOAD_VNET_HDR_LEN + 2, (uint16_t)len);
			forwarded(cut + OFFLOAD_VNET_HDR_LEN); /* new sum */
		} else if (len >= 40)
			wr16(cut + OFFLOAD_VNET_HDR_LEN + 4,
			     (uint16_t)(len - 40));
		/* hdr_len is only a hint; keep it inside */
		cut[2] = cut[3] = 0;
		err = offload_parse(cut, OFFLOAD_VNET_HDR_LEN + len, &p);
		if (full.hdr_len && len > full.hdr_len)
			assert_int_equal(err, OFFLOAD_OK);
		if (full.hdr_len && len <= full.hdr_len)
			assert_int_not_equal(err, OFFLOAD_OK);
		if (err == OFFLOAD_OK) {
			assert_int_equal(offload_segment(&p, b.buf, BUF_CAP,
							 VEC_MAX_RECS, b.len),
					 OFFLOAD_OK);
			/* A single packet's seed in its checksum field was
			 * summed for its full length: only a super-packet's
			 * checksums are whole again. */
			for (i = 0; p.gso_type && i < p.segs; i++)
				assert_packet_valid(b.buf[i], b.len[i]);
		}
		free(cut);
	}
	bufs_free(&b);
	free(buf);
}

static void
test_truncation(void **state)
{
	(void)state;
	assert_true(vec_each(check_truncation, NULL) >= 10);
}

/* --- synthetic packets, and a naive segmenter ---------------------------- */

struct spec {
	int family;
	uint8_t proto;
	uint8_t src[16], dst[16];
	uint16_t sport, dport, win, id;
	uint32_t seq, ack;
	uint8_t flags, ttl, tos;
	size_t ip_opt_len;  /* IPv4 options: 0, 4, 8 */
	size_t ext_len;     /* IPv6 destination options: 0, 8, 16 */
	size_t tcp_opt_len; /* multiple of 4 */
	uint32_t tsval;     /* in a timestamp option, if tcp_opt_len >= 12 */
	uint16_t urg;       /* urgent pointer (no URG flag needed) */
	bool no_df;
	const uint8_t *payload;
	size_t payload_len;
};

static size_t
l4_hdr_len(const struct spec *s)
{
	return s->proto == IPPROTO_TCP ? 20 + s->tcp_opt_len : 8;
}

static size_t
l4_off(const struct spec *s)
{
	return s->family == AF_INET ? 20 + s->ip_opt_len : 40 + s->ext_len;
}

/* Builds the packet from scratch, every checksum complete. */
static size_t
build(const struct spec *s, uint8_t *out)
{
	size_t off = l4_off(s), th = l4_hdr_len(s);
	size_t len = off + th + s->payload_len, i;
	uint8_t *l4 = out + off, ph[40];
	uint16_t c;

	memset(out, 0, off + th);
	if (s->family == AF_INET) {
		out[0] = (uint8_t)(0x40 | (off / 4));
		out[1] = s->tos;
		wr16(out + 2, (uint16_t)len);
		wr16(out + 4, s->id);
		out[6] = s->no_df ? 0 : 0x40; /* DF */
		out[8] = s->ttl;
		out[9] = s->proto;
		memcpy(out + 12, s->src, 4);
		memcpy(out + 16, s->dst, 4);
		for (i = 20; i < off; i++)
			out[i] = 1; /* NOP options */
		wr16(out + 10, naive_csum(out, off, NULL, 0));
	} else {
		out[0] = (uint8_t)(0x60 | s->tos >> 4);
		out[1] = (uint8_t)(s->tos << 4);
		wr16(out + 4, (uint16_t)(len - 40));
		out[6] = s->ext_len ? 60 : s->proto;
		out[7] = s->ttl;
		memcpy(out + 8, s->src, 16);
		memcpy(out + 24, s->dst, 16);
		if (s->ext_len) {
			out[40] = s->proto;
			out[41] = (uint8_t)(s->ext_len / 8 - 1);
			out[42] = 1; /* PadN */
			out[43] = (uint8_t)(s->ext_len - 4);
		}
	}
	wr16(l4, s->sport);
	wr16(l4 + 2, s->dport);
	if (s->proto == IPPROTO_TCP) {
		wr32(l4 + 4, s->seq);
		wr32(l4 + 8, s->ack);
		l4[12] = (uint8_t)(th / 4 << 4);
		l4[13] = s->flags;
		wr16(l4 + 14, s->win);
		wr16(l4 + 18, s->urg);
		for (i = 20; i < th; i++)
			l4[i] = 1;
		if (th >= 32) {
			l4[22] = 8;
			l4[23] = 10;
			wr32(l4 + 24, s->tsval);
			wr32(l4 + 28, 7);
		}
	} else {
		wr16(l4 + 4, (uint16_t)(th + s->payload_len));
	}
	memcpy(l4 + th, s->payload, s->payload_len);
	i = pseudo(out, s->family, s->proto, len - off, ph);
	c = naive_csum(ph, i, l4, len - off);
	if (s->proto == IPPROTO_UDP && !c)
		c = 0xffff;
	wr16(l4 + (s->proto == IPPROTO_TCP ? 16 : 6), c);
	return len;
}

/* The super-packet as the kernel hands it over: one packet of the whole
 * payload, its transport checksum field holding the pseudo-header sum,
 * behind a header marking it. */
static size_t
build_super(const struct spec *s, size_t gso_size, uint8_t *out)
{
	struct offload_vnet v = { 0 };
	size_t len = build(s, out + OFFLOAD_VNET_HDR_LEN);
	size_t off = l4_off(s);
	uint8_t *pkt = out + OFFLOAD_VNET_HDR_LEN, ph[40];
	size_t n = pseudo(pkt, s->family, s->proto, len - off, ph);
	size_t at = off + (s->proto == IPPROTO_TCP ? 16 : 6);

	wr16(pkt + at, (uint16_t)~naive_csum(ph, n, NULL, 0));
	v.flags = OFFLOAD_F_NEEDS_CSUM;
	v.gso_type = s->proto == IPPROTO_UDP ? OFFLOAD_GSO_UDP_L4
		     : s->family == AF_INET ? OFFLOAD_GSO_TCPV4
					      : OFFLOAD_GSO_TCPV6;
	v.hdr_len = (uint16_t)(off + l4_hdr_len(s));
	v.gso_size = (uint16_t)gso_size;
	v.csum_start = (uint16_t)off;
	v.csum_offset = s->proto == IPPROTO_TCP ? 16 : 6;
	offload_vnet_encode(&v, out);
	return OFFLOAD_VNET_HDR_LEN + len;
}

/* The naive segmenter: segment i built from scratch. */
static size_t
naive_segment(const struct spec *super, size_t gso_size, size_t i,
	      size_t segs, uint8_t *out)
{
	struct spec s = *super;
	size_t off = i * gso_size;

	s.payload = super->payload + off;
	s.payload_len = super->payload_len - off < gso_size
				? super->payload_len - off : gso_size;
	s.seq = super->seq + (uint32_t)off;
	s.id = (uint16_t)(super->id + i);
	if (i > 0)
		s.flags &= (uint8_t)~0x80;
	if (i + 1 < segs)
		s.flags &= (uint8_t)~0x09;
	return build(&s, out);
}

static uint8_t payload[65536];

static void
fill_payload(uint64_t seed)
{
	size_t i;

	rng = seed;
	for (i = 0; i < sizeof(payload); i += 8) {
		uint64_t r = next_rand();

		memcpy(payload + i, &r, 8);
	}
}

static void
spec_init(struct spec *s, int family, uint8_t proto)
{
	memset(s, 0, sizeof(*s));
	s->family = family;
	s->proto = proto;
	if (family == AF_INET) {
		memcpy(s->src, "\x0a\x63\x00\x01", 4);
		memcpy(s->dst, "\x0a\x63\x00\x02", 4);
	} else {
		memcpy(s->src, "\xfd\x00\x00\x99\0\0\0\0\0\0\0\0\0\0\0\x01",
		       16);
		memcpy(s->dst, "\xfd\x00\x00\x99\0\0\0\0\0\0\0\0\0\0\0\x02",
		       16);
	}
	s->sport = 40000;
	s->dport = 8080;
	s->win = 502;
	s->id = 0x1234;
	s->seq = 0x01020304;
	s->ack = 0xa0b0c0d0;
	s->flags = 0x18;
	s->ttl = 64;
	s->payload = payload;
}

static void
check_against_naive(const struct spec *s, size_t gso_size)
{
	static uint8_t super[READ_CAP];
	uint8_t want[BUF_CAP];
	struct offload_pkt p;
	struct seg_bufs b;
	size_t len, i, n;

	len = build_super(s, gso_size, super);
	assert_int_equal(offload_parse(super, len, &p), OFFLOAD_OK);
	assert_int_equal(p.segs, (s->payload_len + gso_size - 1) / gso_size);
	bufs_alloc(&b);
	assert_int_equal(offload_segment(&p, b.buf, BUF_CAP, VEC_MAX_RECS,
					 b.len),
			 OFFLOAD_OK);
	for (i = 0; i < p.segs; i++) {
		n = naive_segment(s, gso_size, i, p.segs, want);
		assert_int_equal(b.len[i], n);
		assert_memory_equal(b.buf[i], want, n);
		assert_packet_valid(b.buf[i], n);
	}
	bufs_free(&b);
}

static void
test_against_naive(void **state)
{
	static const struct {
		int family;
		uint8_t proto;
		size_t ip_opt, ext, tcp_opt, gso, payload;
		uint32_t seq;
		uint16_t id;
		uint8_t flags;
	} v[] = {
		{ AF_INET, IPPROTO_TCP, 0, 0, 0, 1460, 14600, 1, 1, 0x18 },
		{ AF_INET, IPPROTO_TCP, 0, 0, 12, 1448, 20000, 1, 1, 0x19 },
		/* CWR on the first alone, FIN and PSH on the last */
		{ AF_INET, IPPROTO_TCP, 0, 0, 12, 1448, 5000, 1, 1, 0x99 },
		/* sequence number and IPv4 ID wrapping */
		{ AF_INET, IPPROTO_TCP, 0, 0, 0, 1000, 9999, 0xfffff000,
		  0xfffe, 0x10 },
		/* IPv4 options, an odd segment size and an odd tail */
		{ AF_INET, IPPROTO_TCP, 8, 0, 4, 999, 9001, 7, 9, 0x18 },
		/* one segment: payload not above gso_size */
		{ AF_INET, IPPROTO_TCP, 0, 0, 0, 1460, 1460, 7, 9, 0x18 },
		{ AF_INET, IPPROTO_TCP, 0, 0, 0, 1460, 1, 7, 9, 0x18 },
		{ AF_INET, IPPROTO_TCP, 0, 0, 40, 536, 65535 - 80, 7, 9, 0x10 },
		{ AF_INET6, IPPROTO_TCP, 0, 0, 12, 1428, 20000, 5, 0, 0x18 },
		{ AF_INET6, IPPROTO_TCP, 0, 16, 12, 1377, 13771, 5, 0, 0x99 },
		{ AF_INET6, IPPROTO_TCP, 0, 0, 0, 1440, 65535 - 20, 5, 0, 0x10 },
		{ AF_INET, IPPROTO_UDP, 0, 0, 0, 1200, 12000, 0, 3, 0 },
		{ AF_INET, IPPROTO_UDP, 4, 0, 0, 1001, 7777, 0, 0xffff, 0 },
		{ AF_INET, IPPROTO_UDP, 0, 0, 0, 1, 40, 0, 3, 0 },
		{ AF_INET6, IPPROTO_UDP, 0, 0, 0, 1232, 12320, 0, 0, 0 },
		{ AF_INET6, IPPROTO_UDP, 0, 8, 0, 1001, 5005, 0, 0, 0 },
	};
	struct spec s;
	size_t i;

	(void)state;
	fill_payload(1);
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		print_message("# case %zu\n", i);
		spec_init(&s, v[i].family, v[i].proto);
		s.ip_opt_len = v[i].ip_opt;
		s.ext_len = v[i].ext;
		s.tcp_opt_len = v[i].tcp_opt;
		s.tsval = 0x11223344;
		s.payload_len = v[i].payload;
		s.seq = v[i].seq;
		s.id = v[i].id;
		s.flags = v[i].flags;
		check_against_naive(&s, v[i].gso);
	}
}

/* UDP sends a computed 0 as 0xffff; TCP keeps it (__udp_gso_segment,
 * tcp_gso_segment); a completed single packet does as
 * skb_checksum_help. Two payload bytes are chosen so the sum is 0. */
static void
test_zero_checksum(void **state)
{
	static uint8_t super[READ_CAP];
	uint8_t out[BUF_CAP], *bufs[1] = { out }, ph[40];
	struct offload_pkt p;
	struct spec s;
	size_t len, lens[1], off, n;
	uint16_t c;

	(void)state;
	for (int proto = 0; proto < 2; proto++) {
		fill_payload(2);
		spec_init(&s, AF_INET, proto ? IPPROTO_UDP : IPPROTO_TCP);
		s.payload_len = 100;
		payload[98] = payload[99] = 0;
		len = build(&s, super);
		off = l4_off(&s);
		n = pseudo(super, AF_INET, s.proto, len - off, ph);
		wr16(super + off + (proto ? 6 : 16), 0);
		/* The word that makes the whole sum 0xffff. */
		c = (uint16_t)~naive_csum(ph, n, super + off, len - off);
		wr16(payload + 98, (uint16_t)~c);
		len = build_super(&s, 100, super);
		assert_int_equal(offload_parse(super, len, &p), OFFLOAD_OK);
		assert_int_equal(offload_segment(&p, bufs, sizeof(out), 1,
						 lens),
				 OFFLOAD_OK);
		c = rd16(out + off + (proto ? 6 : 16));
		assert_int_equal(c, proto ? 0xffff : 0);
		assert_packet_valid(out, lens[0]);
		/* The same packet without GSO, its checksum left partial. */
		super[1] = OFFLOAD_GSO_NONE;
		super[2] = super[3] = super[4] = super[5] = 0;
		assert_int_equal(offload_parse(super, len, &p), OFFLOAD_OK);
		offload_csum_complete(&p, super + OFFLOAD_VNET_HDR_LEN);
		assert_int_equal(rd16(super + OFFLOAD_VNET_HDR_LEN + off +
				      (proto ? 6 : 16)),
				 0xffff);
	}
}

/* --- malformed headers ---------------------------------------------------- */

enum mut {
	M_NONE, M_FLAGS_UNKNOWN, M_FLAGS_BOTH, M_TYPE_UFO, M_TYPE_2,
	M_TYPE_ECN_NONE, M_HDR_LEN, M_IP_LEN, M_NO_CSUM, M_FAMILY, M_FRAG,
	M_PROTO, M_CSUM_START, M_CSUM_OFFSET, M_DOFF_SHORT, M_DOFF_LONG,
	M_GSO_ZERO, M_GSO_HUGE, M_NOT_IP, M_VERSION_6_ON_4, M_NO_PAYLOAD,
	M_TCP_ECN_OK, M_HDR_LEN_HINT_OK, M_DATA_VALID_OK,
};

static size_t
mutate(enum mut m, uint8_t *buf, size_t len)
{
	uint8_t *ip = buf + OFFLOAD_VNET_HDR_LEN;

	switch (m) {
	case M_NONE: break;
	case M_FLAGS_UNKNOWN: buf[0] |= 4; break;
	case M_FLAGS_BOTH: buf[0] = 3; break;
	case M_TYPE_UFO: buf[1] = OFFLOAD_GSO_UDP; break;
	case M_TYPE_2: buf[1] = 2; break;
	case M_TYPE_ECN_NONE: buf[1] = OFFLOAD_GSO_ECN; buf[4] = 0; break;
	case M_HDR_LEN: buf[2] = 0xff; buf[3] = 0xff; break;
	case M_IP_LEN: ip[3]++; break;
	case M_NO_CSUM: buf[0] = 0; buf[6] = buf[7] = buf[8] = 0; break;
	case M_FAMILY: buf[1] = OFFLOAD_GSO_TCPV6; break;
	case M_FRAG: ip[6] |= 0x20; break;
	case M_PROTO: ip[9] = IPPROTO_UDP; break;
	case M_CSUM_START: buf[6]++; break;
	case M_CSUM_OFFSET: buf[8] = 6; break;
	case M_DOFF_SHORT: ip[20 + 12] = 4 << 4; break;
	case M_DOFF_LONG: /* 60 bytes of TCP header in a 40-byte packet */
		ip[20 + 12] = 15 << 4;
		len = OFFLOAD_VNET_HDR_LEN + 40;
		wr16(ip + 2, 40);
		buf[2] = buf[3] = 0;
		break;
	case M_GSO_ZERO: buf[4] = buf[5] = 0; break;
	case M_GSO_HUGE: buf[4] = buf[5] = 0xff; break;
	case M_NOT_IP: ip[0] = 0x55; break;
	case M_VERSION_6_ON_4: ip[0] = 0x65; break;
	case M_NO_PAYLOAD:
		len = OFFLOAD_VNET_HDR_LEN + 40;
		wr16(ip + 2, 40);
		buf[2] = buf[3] = 0;
		break;
	case M_TCP_ECN_OK: buf[1] |= OFFLOAD_GSO_ECN; break;
	case M_HDR_LEN_HINT_OK: buf[2] = 7; buf[3] = 0; break;
	case M_DATA_VALID_OK: break;
	}
	return len;
}

static void
test_malformed(void **state)
{
	static const struct {
		enum mut m;
		enum offload_err want;
	} v[] = {
		{ M_NONE, OFFLOAD_OK },
		{ M_TCP_ECN_OK, OFFLOAD_OK },
		{ M_HDR_LEN_HINT_OK, OFFLOAD_OK },
		{ M_FLAGS_UNKNOWN, OFFLOAD_ERR_FLAGS },
		{ M_FLAGS_BOTH, OFFLOAD_ERR_FLAGS },
		{ M_TYPE_UFO, OFFLOAD_ERR_GSO_TYPE },
		{ M_TYPE_2, OFFLOAD_ERR_GSO_TYPE },
		{ M_TYPE_ECN_NONE, OFFLOAD_ERR_GSO_TYPE },
		{ M_HDR_LEN, OFFLOAD_ERR_HDR_LEN },
		{ M_IP_LEN, OFFLOAD_ERR_IP_LEN },
		{ M_NO_CSUM, OFFLOAD_ERR_NO_CSUM },
		{ M_FAMILY, OFFLOAD_ERR_FAMILY },
		{ M_FRAG, OFFLOAD_ERR_FRAGMENT },
		{ M_PROTO, OFFLOAD_ERR_PROTO },
		{ M_CSUM_START, OFFLOAD_ERR_CSUM_START },
		{ M_CSUM_OFFSET, OFFLOAD_ERR_CSUM_OFFSET },
		{ M_DOFF_SHORT, OFFLOAD_ERR_L4_HDR },
		{ M_DOFF_LONG, OFFLOAD_ERR_L4_HDR },
		{ M_GSO_ZERO, OFFLOAD_ERR_GSO_SIZE },
		{ M_GSO_HUGE, OFFLOAD_ERR_GSO_SIZE },
		{ M_NOT_IP, OFFLOAD_ERR_NOT_IP },
		{ M_VERSION_6_ON_4, OFFLOAD_ERR_IP_LEN },
		{ M_NO_PAYLOAD, OFFLOAD_ERR_GSO_SIZE },
	};
	static uint8_t buf[READ_CAP];
	struct offload_pkt p;
	struct spec s;
	size_t i, len;
	enum offload_err err;

	(void)state;
	fill_payload(3);
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		spec_init(&s, AF_INET, IPPROTO_TCP);
		s.payload_len = 3000;
		len = build_super(&s, 1000, buf);
		len = mutate(v[i].m, buf, len);
		err = offload_parse(buf, len, &p);
		print_message("# case %zu: %s\n", i, offload_err_name(err));
		assert_int_equal(err, v[i].want);
		assert_string_not_equal(offload_err_name(err), "unknown");
	}
	/* Neither GSO nor NEEDS_CSUM: passed on unread, but fields that
	 * mean nothing then must be zero. */
	memset(buf, 0, OFFLOAD_VNET_HDR_LEN);
	buf[OFFLOAD_VNET_HDR_LEN] = 0x99;
	assert_int_equal(offload_parse(buf, 11, &p), OFFLOAD_OK);
	assert_int_equal(p.segs, 1);
	buf[0] = OFFLOAD_F_DATA_VALID;
	assert_int_equal(offload_parse(buf, 11, &p), OFFLOAD_OK);
	buf[4] = 1;
	assert_int_equal(offload_parse(buf, 11, &p), OFFLOAD_ERR_GSO_SIZE);
	buf[4] = 0;
	buf[6] = 1;
	assert_int_equal(offload_parse(buf, 11, &p), OFFLOAD_ERR_CSUM_START);
	assert_int_equal(offload_parse(buf, 10, &p), OFFLOAD_ERR_SHORT);
	assert_int_equal(offload_parse(buf, 0, &p), OFFLOAD_ERR_SHORT);
	memset(buf, 0, 16);
	assert_int_equal(offload_parse(buf, READ_CAP, &p), OFFLOAD_OK);
	buf[0] = OFFLOAD_F_NEEDS_CSUM;
	assert_int_equal(offload_parse(buf, READ_CAP, &p), OFFLOAD_ERR_NOT_IP);
	assert_int_equal(offload_parse(buf, READ_CAP + 1, &p),
			 OFFLOAD_ERR_TOO_LONG);
	/* A single packet's partial checksum must lie inside it. */
	spec_init(&s, AF_INET6, IPPROTO_UDP);
	s.payload_len = 10;
	len = build_super(&s, 10, buf);
	buf[1] = OFFLOAD_GSO_NONE;
	buf[4] = 0;
	assert_int_equal(offload_parse(buf, len, &p), OFFLOAD_OK);
	buf[6] = 39;
	assert_int_equal(offload_parse(buf, len, &p), OFFLOAD_ERR_CSUM_START);
	buf[6] = (uint8_t)(len - OFFLOAD_VNET_HDR_LEN);
	assert_int_equal(offload_parse(buf, len, &p), OFFLOAD_ERR_CSUM_START);
	buf[6] = 40;
	buf[8] = 17;
	assert_int_equal(offload_parse(buf, len, &p), OFFLOAD_ERR_CSUM_OFFSET);
	buf[8] = 16; /* the last two bytes: still inside */
	assert_int_equal(offload_parse(buf, len, &p), OFFLOAD_OK);
	/* IPv6 extension headers pass, but a routing header moves the
	 * pseudo-header's destination: refused. */
	spec_init(&s, AF_INET6, IPPROTO_TCP);
	s.ext_len = 16;
	s.payload_len = 3000;
	len = build_super(&s, 1000, buf);
	assert_int_equal(offload_parse(buf, len, &p), OFFLOAD_OK);
	assert_int_equal(p.l4_off, 56);
	buf[OFFLOAD_VNET_HDR_LEN + 6] = 43;
	assert_int_equal(offload_parse(buf, len, &p), OFFLOAD_ERR_ROUTING);
	assert_string_equal(offload_err_name(OFFLOAD_ERR_COUNT), "unknown");
}

/* Too few buffers, or too small: refused before anything is written. */
static void
test_capacity(void **state)
{
	static uint8_t buf[READ_CAP];
	struct offload_pkt p;
	struct seg_bufs b;
	struct spec s;
	size_t len, i;

	(void)state;
	fill_payload(4);
	spec_init(&s, AF_INET, IPPROTO_TCP);
	s.payload_len = 10000;
	len = build_super(&s, 1000, buf);
	assert_int_equal(offload_parse(buf, len, &p), OFFLOAD_OK);
	assert_int_equal(p.segs, 10);
	assert_int_equal(p.seg_max, 1040);
	bufs_alloc(&b);
	assert_int_equal(offload_segment(&p, b.buf, BUF_CAP, 9, b.len),
			 OFFLOAD_ERR_SEGMENTS);
	assert_int_equal(offload_segment(&p, b.buf, 1039, 10, b.len),
			 OFFLOAD_ERR_SEGMENTS);
	for (i = 0; i < VEC_MAX_RECS; i++)
		assert_int_equal(b.buf[i][0], 0xee);
	assert_int_equal(offload_segment(&p, b.buf, 1040, 10, b.len),
			 OFFLOAD_OK);
	bufs_free(&b);
}

/* --- coalescing ----------------------------------------------------------- */

#define GRO_N 64

struct batch {
	uint8_t *pkt[GRO_N];
	size_t len[GRO_N];
	size_t n;
};

static void
batch_init(struct batch *b)
{
	size_t i;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < GRO_N; i++) {
		b->pkt[i] = malloc(BUF_CAP);
		assert_non_null(b->pkt[i]);
	}
}

static void
batch_free(struct batch *b)
{
	size_t i;

	for (i = 0; i < GRO_N; i++)
		free(b->pkt[i]);
}

static void
batch_add(struct batch *b, const struct spec *s)
{
	assert_true(b->n < GRO_N);
	b->len[b->n] = build(s, b->pkt[b->n]);
	b->n++;
}

/*
 * Runs the batch through coalescing and checks what every write must be:
 * an unmerged one is a zero header and its packet unchanged; a merged one
 * parses as a super-packet that segments back into exactly the packets
 * it took, in order. Each packet lands in exactly one write. Returns the
 * writes' sizes in packets in want[] order for the caller to compare.
 */
static void
gro_check(struct offload_gro *g, struct batch *b, const size_t *want,
	  size_t n_want)
{
	static uint8_t flat[READ_CAP];
	uint8_t zero[OFFLOAD_VNET_HDR_LEN] = { 0 };
	bool used[GRO_N] = { false };
	struct offload_pkt p;
	struct seg_bufs sb;
	struct iovec iov[GRO_N + 1];
	size_t w, i, len, k, total;
	uint16_t idx;

	assert_int_equal(offload_gro_batch(g, (const uint8_t *const *)b->pkt,
					   b->len, b->n),
			 b->n);
	if (want)
		assert_int_equal(g->n_writes, n_want);
	bufs_alloc(&sb);
	for (w = 0; w < g->n_writes; w++) {
		const struct offload_gro_write *wr = &g->writes[w];

		if (want)
			assert_int_equal(wr->n_pkts, want[w]);
		k = offload_gro_iov(g, w, (const uint8_t *const *)b->pkt,
				    b->len, iov);
		assert_int_equal(k, wr->n_pkts + 1);
		for (total = 0, i = 0; i < k; i++)
			total += iov[i].iov_len;
		assert_int_equal(total, wr->len);
		len = offload_gro_flatten(g, w, (const uint8_t *const *)b->pkt,
					  b->len, flat, sizeof(flat));
		assert_int_equal(len, wr->len);
		if (wr->n_pkts == 1) {
			assert_memory_equal(flat, zero, sizeof(zero));
			assert_int_equal(len - OFFLOAD_VNET_HDR_LEN,
					 b->len[wr->first]);
			assert_memory_equal(flat + OFFLOAD_VNET_HDR_LEN,
					    b->pkt[wr->first],
					    b->len[wr->first]);
			assert_false(used[wr->first]);
			used[wr->first] = true;
			continue;
		}
		assert_int_equal(offload_parse(flat, len, &p), OFFLOAD_OK);
		assert_int_equal(p.segs, wr->n_pkts);
		assert_int_equal(offload_segment(&p, sb.buf, BUF_CAP,
						 VEC_MAX_RECS, sb.len),
				 OFFLOAD_OK);
		idx = wr->first;
		for (i = 0; i < p.segs; i++) {
			assert_true(idx < b->n);
			assert_false(used[idx]);
			used[idx] = true;
			assert_int_equal(sb.len[i], b->len[idx]);
			assert_memory_equal(sb.buf[i], b->pkt[idx], sb.len[i]);
			idx = g->next[idx];
		}
		assert_int_equal(idx, 0xffff);
	}
	for (i = 0; i < b->n; i++)
		assert_true(used[i]);
	bufs_free(&sb);
}

/* A flow's next segment; seq and ID advance. */
static void
flow_next(struct batch *b, struct spec *s)
{
	batch_add(b, s);
	s->seq += (uint32_t)s->payload_len;
	s->id++;
	s->payload += s->payload_len;
}

static void
test_gro_rules(void **state)
{
	static struct offload_gro g;
	struct batch b;
	struct spec a, c;
	size_t i;

	(void)state;
	fill_payload(5);
	batch_init(&b);
	offload_gro_init(&g, 0);

	/* Four segments, the last pushing: one write. */
	for (int fam = 0; fam < 2; fam++) {
		b.n = 0;
		spec_init(&a, fam ? AF_INET6 : AF_INET, IPPROTO_TCP);
		a.tcp_opt_len = 12;
		a.payload_len = 1000;
		a.flags = 0x10;
		for (i = 0; i < 4; i++) {
			if (i == 3)
				a.flags = 0x18;
			flow_next(&b, &a);
		}
		gro_check(&g, &b, (const size_t[]){ 4 }, 1);
	}

	/* Two flows interleaved, a UDP packet between: three writes in
	 * the order of their first packets. */
	b.n = 0;
	spec_init(&a, AF_INET, IPPROTO_TCP);
	spec_init(&c, AF_INET, IPPROTO_TCP);
	c.sport = 40001;
	a.payload_len = c.payload_len = 500;
	a.flags = c.flags = 0x10;
	flow_next(&b, &a);
	flow_next(&b, &c);
	flow_next(&b, &a);
	{
		struct spec u;

		spec_init(&u, AF_INET, IPPROTO_UDP);
		u.payload_len = 30;
		batch_add(&b, &u);
	}
	flow_next(&b, &c);
	flow_next(&b, &a);
	gro_check(&g, &b, (const size_t[]){ 3, 2, 1 }, 3);

	/* What ends a write, or keeps a packet apart. */
	static const struct {
		const char *what;
		int change; /* applied to the third of four segments */
		size_t want[4], n_want;
	} v[] = {
		{ "psh", 1, { 3, 1 }, 2 },
		{ "short", 2, { 3, 1 }, 2 },
		{ "gap", 3, { 2, 2 }, 2 },
		{ "ack", 4, { 2, 2 }, 2 },
		{ "window", 5, { 2, 2 }, 2 },
		{ "ttl", 6, { 2, 2 }, 2 },
		{ "tos", 7, { 2, 2 }, 2 },
		{ "timestamp", 8, { 2, 2 }, 2 },
		{ "syn", 9, { 2, 1, 1 }, 3 },
		{ "fin", 10, { 3, 1 }, 2 },
		{ "cwr", 11, { 2, 2 }, 2 },
		{ "ece", 15, { 2, 1, 1 }, 3 },
		{ "urg", 16, { 2, 1, 1 }, 3 },
		{ "urgent pointer", 17, { 2, 2 }, 2 },
		{ "bad checksum", 12, { 2, 1, 1 }, 3 },
		{ "longer", 13, { 2, 2 }, 2 },
		{ "pure ack", 14, { 2, 1, 1 }, 3 },
		{ "none", 0, { 4 }, 1 },
	};
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		print_message("# %s\n", v[i].what);
		b.n = 0;
		fill_payload(6);
		spec_init(&a, AF_INET6, IPPROTO_TCP);
		a.tcp_opt_len = 12;
		a.tsval = 1;
		a.payload_len = 1000;
		a.flags = 0x10;
		flow_next(&b, &a);
		flow_next(&b, &a);
		c = a;
		switch (v[i].change) {
		case 1: c.flags = 0x18; break;
		case 2: c.payload_len = 999; break;
		case 3: c.seq += 1; break;
		case 4: c.ack += 1; break;
		case 5: c.win += 1; break;
		case 6: c.ttl -= 1; break;
		case 7: c.tos = 4; break;
		case 8: c.tsval += 1; break;
		case 9: c.flags = 0x12; break;
		case 10: c.flags = 0x11; break;
		case 11: c.flags = 0x90; break;
		case 13: c.payload_len = 1001; break;
		case 14: c.payload_len = 0; break;
		case 15: c.flags = 0x50; break;
		case 16: c.flags = 0x30; break;
		case 17: c.urg = 5; break;
		default: break;
		}
		flow_next(&b, &c);
		if (v[i].change == 12)
			b.pkt[2][b.len[2] - 1] ^= 1;
		a = c;
		a.flags = 0x10;
		a.payload_len = 1000;
		flow_next(&b, &a);
		gro_check(&g, &b, v[i].want, v[i].n_want);
	}

	/* Without DF, IPv4 IDs must count up; with it, anything goes. */
	for (int df = 0; df < 2; df++) {
		b.n = 0;
		spec_init(&a, AF_INET, IPPROTO_TCP);
		a.no_df = !df;
		a.payload_len = 700;
		a.flags = 0x10;
		for (i = 0; i < 4; i++) {
			if (i == 2)
				a.id += 7;
			flow_next(&b, &a);
		}
		g.max_len = 65535;
		b.n = 4;
		offload_gro_batch(&g, (const uint8_t *const *)b.pkt, b.len, 4);
		assert_int_equal(g.n_writes, df ? 1 : 2);
		if (!df)
			gro_check(&g, &b, (const size_t[]){ 2, 2 }, 2);
	}

	/* A broken first packet stays alone; the rest merge. */
	b.n = 0;
	spec_init(&a, AF_INET, IPPROTO_TCP);
	a.payload_len = 700;
	a.flags = 0x10;
	for (i = 0; i < 3; i++)
		flow_next(&b, &a);
	b.pkt[0][b.len[0] - 1] ^= 0x80;
	gro_check(&g, &b, (const size_t[]){ 1, 2 }, 2);

	/* IPv4 options, a fragment, a bad IPv4 header checksum: apart. */
	for (int k = 0; k < 3; k++) {
		b.n = 0;
		spec_init(&a, AF_INET, IPPROTO_TCP);
		a.payload_len = 700;
		a.flags = 0x10;
		a.ip_opt_len = k == 0 ? 4 : 0;
		for (i = 0; i < 3; i++)
			flow_next(&b, &a);
		if (k == 1)
			b.pkt[1][6] |= 0x20;
		if (k == 2)
			b.pkt[1][10] ^= 1;
		gro_check(&g, &b, (const size_t[]){ 1, 1, 1 }, 3);
	}

	/* max_len bounds a merged packet. */
	offload_gro_init(&g, 40 + 3 * 1000);
	b.n = 0;
	spec_init(&a, AF_INET, IPPROTO_TCP);
	a.payload_len = 1000;
	a.flags = 0x10;
	for (i = 0; i < 7; i++)
		flow_next(&b, &a);
	gro_check(&g, &b, (const size_t[]){ 3, 3, 1 }, 3);

	/* 65535 bytes at most, whatever was asked. */
	offload_gro_init(&g, 1 << 20);
	assert_int_equal(g.max_len, 65535);
	b.n = 0;
	spec_init(&a, AF_INET6, IPPROTO_TCP);
	a.payload_len = 1400;
	a.flags = 0x10;
	fill_payload(7);
	for (i = 0; i < 60; i++) {
		if (a.payload + a.payload_len > payload + sizeof(payload))
			a.payload = payload;
		flow_next(&b, &a);
	}
	gro_check(&g, &b, (const size_t[]){ 46, 14 }, 2);
	for (i = 0; i < g.n_writes; i++)
		assert_true(g.writes[i].len - OFFLOAD_VNET_HDR_LEN <= 65535);
	batch_free(&b);
}

/* A batch larger than OFFLOAD_GRO_BATCH_MAX: the rest is left. */
static void
test_gro_batch_max(void **state)
{
	static struct offload_gro g;
	static uint8_t pkt[OFFLOAD_GRO_BATCH_MAX + 5][64];
	const uint8_t *pkts[OFFLOAD_GRO_BATCH_MAX + 5];
	size_t lens[OFFLOAD_GRO_BATCH_MAX + 5], i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(pkts); i++) {
		memset(pkt[i], 0, sizeof(pkt[i]));
		pkt[i][0] = 0x45;
		pkts[i] = pkt[i];
		lens[i] = sizeof(pkt[i]);
	}
	offload_gro_init(&g, 0);
	assert_int_equal(offload_gro_batch(&g, pkts, lens, ARRAY_SIZE(pkts)),
			 OFFLOAD_GRO_BATCH_MAX);
	assert_int_equal(g.n_writes, OFFLOAD_GRO_BATCH_MAX);
	assert_int_equal(offload_gro_batch(&g, pkts, lens, 0), 0);
	assert_int_equal(g.n_writes, 0);
}

/* Seeded random batches of a few flows: segments in order, with now and
 * then a retransmission, a PSH, a short one, an ACK change, a broken
 * checksum or a pure ACK, interleaved at random. gro_check holds each
 * write to the packets it took. */
static void
test_gro_random(void **state)
{
	static struct offload_gro g;
	struct batch b;
	struct spec f[4];
	size_t round, i, k, merged = 0;

	(void)state;
	batch_init(&b);
	fill_payload(8);
	rng = 99;
	for (round = 0; round < 300; round++) {
		offload_gro_init(&g, next_rand() % 4
					     ? 0 : 1000 + next_rand() % 20000);
		for (k = 0; k < ARRAY_SIZE(f); k++) {
			spec_init(&f[k], k & 1 ? AF_INET6 : AF_INET,
				  IPPROTO_TCP);
			f[k].sport = (uint16_t)(1000 + k);
			f[k].tcp_opt_len = k < 2 ? 12 : 0;
			f[k].flags = 0x10;
			f[k].seq = (uint32_t)next_rand();
			f[k].payload = payload + 1000 * k;
		}
		b.n = 0;
		for (i = 0; i < GRO_N; i++) {
			struct spec *s = &f[next_rand() % ARRAY_SIZE(f)];
			uint64_t r = next_rand() % 40;
			struct spec c = *s;

			c.payload_len = 1200;
			c.flags = 0x10;
			if (r == 0)
				c.flags = 0x18;
			else if (r == 1)
				c.payload_len = 1 + next_rand() % 1199;
			else if (r == 2)
				s->ack = c.ack += 1;
			else if (r == 3)
				c.seq -= 1200; /* a retransmission */
			else if (r == 4)
				c.payload_len = 0;
			else if (r == 6)
				c.flags = 0x11;
			else if (r == 7)
				c.flags = 0x90;
			if (c.payload + c.payload_len >
			    payload + sizeof(payload))
				c.payload = payload;
			batch_add(&b, &c);
			if (r == 5)
				b.pkt[i][b.len[i] - 1] ^= 0x40;
			if (r != 3) {
				s->seq = c.seq + (uint32_t)c.payload_len;
				s->payload = c.payload + c.payload_len;
			}
			s->id++;
		}
		gro_check(&g, &b, NULL, 0);
		for (k = 0; k < g.n_writes; k++)
			merged += g.writes[k].n_pkts > 1;
	}
	print_message("# %zu merged writes\n", merged);
	assert_true(merged > 300);
	batch_free(&b);
}

/* --- the checksum helper ------------------------------------------------- */

/* offload's own sum (8 bytes a step) is reached through the packets it
 * checksums: random lengths and alignments of UDP single packets whose
 * partial checksum gets completed, held against the naive sum. */
static void
test_csum_sweep(void **state)
{
	static uint8_t buf[READ_CAP];
	struct offload_pkt p;
	struct spec s;
	size_t len, n;

	(void)state;
	fill_payload(9);
	for (n = 0; n < 300; n++) {
		spec_init(&s, n & 1 ? AF_INET6 : AF_INET, IPPROTO_UDP);
		s.payload_len = n * 7 % 2000;
		s.payload = payload + n;
		len = build_super(&s, 2000, buf);
		buf[1] = OFFLOAD_GSO_NONE;
		buf[4] = buf[5] = 0;
		assert_int_equal(offload_parse(buf, len, &p), OFFLOAD_OK);
		offload_csum_complete(&p, buf + OFFLOAD_VNET_HDR_LEN);
		assert_packet_valid(buf + OFFLOAD_VNET_HDR_LEN,
				    len - OFFLOAD_VNET_HDR_LEN);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_segments),
		cmocka_unit_test(test_kernel_roundtrip),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_against_naive),
		cmocka_unit_test(test_zero_checksum),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_gro_rules),
		cmocka_unit_test(test_gro_batch_max),
		cmocka_unit_test(test_gro_random),
		cmocka_unit_test(test_csum_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
