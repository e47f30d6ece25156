// SPDX-License-Identifier: MIT
/*
 * Fuzz harness for the TUN offloads, shared/offload.c: a virtio_net_hdr
 * and its packet from the kernel are input like any other.
 *
 * The first byte picks the mode:
 *   0 read: the rest is one read from the device (header, then packet),
 *     given to offload_parse; whatever it accepts is segmented, and the
 *     segments of a TCP super-packet are coalesced again.
 *   1 flows: the rest describes a batch of TCP segments of four flows,
 *     built with valid checksums so that coalescing has something to
 *     merge: per packet two bytes pick the flow, the flags, the payload
 *     length, what changes (sequence gap, ACK, window, TTL, a corrupted
 *     byte, no DF, an IPv4 ID jump) and the family.
 *   2 raw: the rest is a batch of arbitrary packets (a 16-bit length,
 *     then the bytes) given to coalescing.
 *
 * Invariants checked: a refusal names a known reason and leaves nothing
 * described; an accepted read's segment count and longest segment are
 * what offload_segment writes; every segment of a super-packet is an IP
 * packet whose length fields and checksums are right, and their payloads
 * put together are the super-packet's; a single packet comes back
 * unchanged but for its completed checksum. In coalescing, every packet
 * lands in exactly one write; a write of one packet is a zero header and
 * the packet; a merged write parses as a super-packet within max_len and
 * segments back into exactly the packets it took (IPv4 ID and header
 * checksum aside where DF allows any ID), in order.
 *
 * Seeds (tests/fuzz/corpus/offload/seed-*): the recorded reads of
 * tests/vectors/offload that fit libFuzzer's -max_len, and a few flow
 * batches.
 */
#include <netinet/in.h>

#include "ippkt.h"
#include "offload.h"
#include "fuzz.h"

#define SEG_BUFS 256
#define SEG_CAP 2048
#define PKT_CAP (OFFLOAD_VNET_HDR_LEN + OFFLOAD_PKT_MAX)

static uint8_t seg_mem[SEG_BUFS][SEG_CAP];
static uint8_t *segs[SEG_BUFS];
static size_t seg_lens[SEG_BUFS];
static uint8_t re_mem[OFFLOAD_GRO_BATCH_MAX][SEG_CAP];
static uint8_t *re[OFFLOAD_GRO_BATCH_MAX];
static size_t re_lens[OFFLOAD_GRO_BATCH_MAX];
static uint8_t flat[PKT_CAP];
static struct offload_gro gro;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	for (i = 0; i < SEG_BUFS; i++)
		segs[i] = seg_mem[i];
	for (i = 0; i < OFFLOAD_GRO_BATCH_MAX; i++)
		re[i] = re_mem[i];
	return 0;
}

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

/* An IP packet carrying TCP or UDP whose checksums are all right. */
static void
check_valid(const uint8_t *pkt, size_t len)
{
	struct ippkt ip;
	size_t l4;

	FUZZ_CHECK(ippkt_parse(pkt, len, &ip));
	FUZZ_CHECK(ip.proto == IPPROTO_TCP || ip.proto == IPPROTO_UDP);
	if (ip.family == AF_INET) {
		FUZZ_CHECK(rd16(pkt + 2) == len);
		FUZZ_CHECK(ippkt_fold(ippkt_sum(0, pkt, ip.ip_hdr_len)) == 0);
	} else {
		FUZZ_CHECK((size_t)rd16(pkt + 4) + 40 == len);
	}
	l4 = len - ip.l4_off;
	FUZZ_CHECK(ippkt_fold(ippkt_sum(ippkt_pseudo_sum(ip.family, ip.src,
							 ip.dst, ip.proto, l4),
					pkt + ip.l4_off, l4)) == 0);
	if (ip.proto == IPPROTO_UDP)
		FUZZ_CHECK(rd16(pkt + ip.l4_off + 4) == l4);
}

/*
 * Coalesces pkts and holds every write to the packets it took. With
 * exact_ids, IPv4 IDs must come back too; otherwise they (and the IPv4
 * header checksum) may differ where the first packet has DF.
 */
static void
check_gro(const uint8_t *const *pkts, const size_t *lens, size_t n,
	  size_t max_len)
{
	static const uint8_t zero[OFFLOAD_VNET_HDR_LEN];
	bool used[OFFLOAD_GRO_BATCH_MAX] = { false };
	struct offload_pkt p;
	size_t w, i, len, taken;
	uint16_t idx;

	offload_gro_init(&gro, max_len);
	taken = offload_gro_batch(&gro, pkts, lens, n);
	FUZZ_CHECK(taken == (n < OFFLOAD_GRO_BATCH_MAX ? n
						  : OFFLOAD_GRO_BATCH_MAX));
	for (w = 0; w < gro.n_writes; w++) {
		const struct offload_gro_write *wr = &gro.writes[w];

		len = offload_gro_flatten(&gro, w, pkts, lens, flat,
					  sizeof(flat));
		FUZZ_CHECK(len == wr->len);
		if (wr->n_pkts == 1) {
			FUZZ_CHECK(!memcmp(flat, zero, sizeof(zero)));
			FUZZ_CHECK(len == OFFLOAD_VNET_HDR_LEN + lens[wr->first]);
			FUZZ_CHECK(!memcmp(flat + OFFLOAD_VNET_HDR_LEN,
					   pkts[wr->first], lens[wr->first]));
			FUZZ_CHECK(!used[wr->first]);
			used[wr->first] = true;
			continue;
		}
		FUZZ_CHECK(len - OFFLOAD_VNET_HDR_LEN <= gro.max_len);
		FUZZ_CHECK(offload_parse(flat, len, &p) == OFFLOAD_OK);
		FUZZ_CHECK(p.segs == wr->n_pkts);
		FUZZ_CHECK(offload_segment(&p, re, SEG_CAP,
					   OFFLOAD_GRO_BATCH_MAX, re_lens) ==
			   OFFLOAD_OK);
		for (i = 0, idx = wr->first; i < p.segs; i++) {
			FUZZ_CHECK(idx < taken && !used[idx]);
			used[idx] = true;
			FUZZ_CHECK(re_lens[i] == lens[idx]);
			if (pkts[idx][0] >> 4 == 4 && pkts[wr->first][6] & 0x40) {
				/* DF: any ID; the header sum follows it */
				FUZZ_CHECK(!memcmp(re[i], pkts[idx], 4));
				FUZZ_CHECK(!memcmp(re[i] + 6, pkts[idx] + 6, 4));
				FUZZ_CHECK(!memcmp(re[i] + 12, pkts[idx] + 12,
						   lens[idx] - 12));
			} else {
				FUZZ_CHECK(!memcmp(re[i], pkts[idx], lens[idx]));
			}
			idx = gro.next[idx];
		}
		FUZZ_CHECK(idx == 0xffff);
	}
	for (i = 0; i < taken; i++)
		FUZZ_CHECK(used[i]);
}

static void
run_read(const uint8_t *data, size_t size)
{
	uint8_t *buf = fuzz_dup(data, size);
	struct offload_pkt p;
	enum offload_err err;
	size_t i, off, hdr;

	err = offload_parse(buf, size, &p);
	FUZZ_CHECK(strcmp(offload_err_name(err), "unknown"));
	if (err != OFFLOAD_OK) {
		FUZZ_CHECK(p.pkt == NULL && p.segs == 0);
		goto out;
	}
	FUZZ_CHECK(p.segs >= 1 && p.len == size - OFFLOAD_VNET_HDR_LEN);
	err = offload_segment(&p, segs, SEG_CAP, SEG_BUFS, seg_lens);
	if (p.segs > SEG_BUFS || p.seg_max > SEG_CAP) {
		FUZZ_CHECK(err == OFFLOAD_ERR_SEGMENTS);
		goto out;
	}
	FUZZ_CHECK(err == OFFLOAD_OK);
	if (p.gso_type == OFFLOAD_GSO_NONE) {
		size_t at = p.vnet.csum_start + p.vnet.csum_offset;

		FUZZ_CHECK(seg_lens[0] == p.len);
		if (p.needs_csum) {
			FUZZ_CHECK(!memcmp(segs[0], p.pkt, at));
			FUZZ_CHECK(!memcmp(segs[0] + at + 2, p.pkt + at + 2,
					   p.len - at - 2));
		} else {
			FUZZ_CHECK(!memcmp(segs[0], p.pkt, p.len));
		}
		goto out;
	}
	hdr = p.hdr_len;
	for (i = 0, off = hdr; i < p.segs; i++) {
		FUZZ_CHECK(seg_lens[i] <= p.seg_max && seg_lens[i] > hdr);
		FUZZ_CHECK(i + 1 == p.segs ||
			   seg_lens[i] - hdr == p.gso_size);
		check_valid(segs[i], seg_lens[i]);
		FUZZ_CHECK(!memcmp(segs[i] + hdr, p.pkt + off,
				   seg_lens[i] - hdr));
		off += seg_lens[i] - hdr;
	}
	FUZZ_CHECK(off == p.len);
	if (p.proto == IPPROTO_TCP && p.segs <= OFFLOAD_GRO_BATCH_MAX)
		check_gro((const uint8_t *const *)segs, seg_lens, p.segs, 0);
out:
	free(buf);
}

/* --- mode 1: flows built to merge ----------------------------------------- */

struct flow {
	int family;
	uint32_t seq, ack;
	uint16_t win, id;
	uint8_t ttl;
	bool no_df;
};

static uint8_t pkt_mem[OFFLOAD_GRO_BATCH_MAX][SEG_CAP];

static size_t
build_tcp(const struct flow *f, uint16_t sport, uint8_t flags,
	  size_t payload, uint8_t fill, uint8_t *out)
{
	size_t l4 = f->family == AF_INET ? 20 : 40, len = l4 + 32 + payload;
	uint8_t *t = out + l4;
	uint32_t sum;

	memset(out, 0, l4 + 32);
	if (f->family == AF_INET) {
		out[0] = 0x45;
		wr16(out + 2, (uint16_t)len);
		wr16(out + 4, f->id);
		out[6] = f->no_df ? 0 : 0x40;
		out[8] = f->ttl;
		out[9] = IPPROTO_TCP;
		memcpy(out + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
		wr16(out + 10, ippkt_fold(ippkt_sum(0, out, 20)));
	} else {
		out[0] = 0x60;
		wr16(out + 4, (uint16_t)(len - 40));
		out[6] = IPPROTO_TCP;
		out[7] = f->ttl;
		out[8] = 0xfd;
		out[23] = 1;
		out[24] = 0xfd;
		out[39] = 2;
	}
	wr16(t, sport);
	wr16(t + 2, 443);
	t[4] = (uint8_t)(f->seq >> 24);
	t[5] = (uint8_t)(f->seq >> 16);
	t[6] = (uint8_t)(f->seq >> 8);
	t[7] = (uint8_t)f->seq;
	t[8] = (uint8_t)(f->ack >> 24);
	t[9] = (uint8_t)(f->ack >> 16);
	t[10] = (uint8_t)(f->ack >> 8);
	t[11] = (uint8_t)f->ack;
	t[12] = 8 << 4;
	t[13] = flags;
	wr16(t + 14, f->win);
	t[20] = t[21] = 1;
	t[22] = 8;
	t[23] = 10;
	memset(t + 32, fill, payload);
	sum = ippkt_pseudo_sum(f->family, out + (l4 == 20 ? 12 : 8),
			       out + (l4 == 20 ? 16 : 24), IPPROTO_TCP,
			       len - l4);
	wr16(t + 16, ippkt_fold(ippkt_sum(sum, t, len - l4)));
	return len;
}

static void
run_flows(struct fuzz_in *in)
{
	static const uint8_t flag_set[8] = { 0x10, 0x10, 0x10, 0x18,
					     0x11, 0x90, 0x50, 0x12 };
	const uint8_t *pkts[OFFLOAD_GRO_BATCH_MAX] = { NULL };
	size_t lens[OFFLOAD_GRO_BATCH_MAX] = { 0 }, n = 0, payload;
	struct flow fl[4];
	size_t max_len = fuzz_u16(in);
	uint8_t a, b;
	unsigned int k;

	for (k = 0; k < 4; k++) {
		memset(&fl[k], 0, sizeof(fl[k]));
		fl[k].family = k & 1 ? AF_INET6 : AF_INET;
		fl[k].seq = fuzz_u32(in);
		fl[k].ack = 1;
		fl[k].win = 100;
		fl[k].ttl = 64;
		fl[k].id = (uint16_t)(k * 1000);
	}
	while (fuzz_more(in) && n < OFFLOAD_GRO_BATCH_MAX) {
		struct flow *f;

		a = fuzz_u8(in);
		b = fuzz_u8(in);
		f = &fl[a & 3];
		/* mostly full segments of 600 bytes */
		payload = b & 0x80 ? (size_t)(b & 0x7f) * 9 : 600;
		switch (a >> 5) {
		case 1: f->seq += 600; break;
		case 2: f->ack++; break;
		case 3: f->win++; break;
		case 4: f->ttl--; break;
		case 5: f->no_df = !f->no_df; break;
		case 6: f->id += 3; break;
		default: break;
		}
		lens[n] = build_tcp(f, (uint16_t)(1000 + (a & 3)),
				    flag_set[(a >> 2) & 7], payload,
				    (uint8_t)n, pkt_mem[n]);
		if (a >> 5 == 7 && payload)
			pkt_mem[n][lens[n] - 1] ^= 1;
		pkts[n] = pkt_mem[n];
		f->seq += (uint32_t)payload;
		f->id++;
		n++;
	}
	check_gro(pkts, lens, n, max_len);
}

static void
run_raw(struct fuzz_in *in)
{
	const uint8_t *pkts[OFFLOAD_GRO_BATCH_MAX + 1] = { NULL };
	uint8_t *copies[OFFLOAD_GRO_BATCH_MAX + 1];
	size_t lens[OFFLOAD_GRO_BATCH_MAX + 1] = { 0 }, n = 0, i;
	size_t max_len = fuzz_u16(in);
	const uint8_t *p;

	while (fuzz_more(in) && n < OFFLOAD_GRO_BATCH_MAX + 1) {
		lens[n] = fuzz_bytes(in, &p, fuzz_u16(in) % 2048);
		copies[n] = fuzz_dup(p, lens[n]);
		pkts[n] = copies[n];
		n++;
	}
	check_gro(pkts, lens, n, max_len);
	for (i = 0; i < n; i++)
		free(copies[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };

	if (!size)
		return 0;
	switch (fuzz_u8(&in) % 3) {
	case 0:
		run_read(in.p, in.left);
		break;
	case 1:
		run_flows(&in);
		break;
	default:
		run_raw(&in);
		break;
	}
	return 0;
}
