// SPDX-License-Identifier: MIT
/*
 * The TUN device's side of the packet path (see tunio.h). A read goes
 * straight into the caller's buffer when it is one packet, which is
 * what nearly every read is short of a bulk TCP sender, and spills into
 * the 64 KiB buffer only when longer: readv over both, so a small packet
 * is never copied. A super-packet is cut into at most as many segments
 * as the caller has buffers at a time; what is left is moved up in place
 * to be a super-packet of its own (headers, sequence number, IPv4 ID),
 * so offload.c's segmenting serves any count of segments.
 */
#include "tunio.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ippkt.h"
#include "log.h"

#define BIG_LEN (OFFLOAD_VNET_HDR_LEN + OFFLOAD_PKT_MAX)
#define TCP_FLAGS_OFF 13
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

/* The header of a write that is one whole packet. */
static const uint8_t plain_hdr[OFFLOAD_VNET_HDR_LEN];

int
tunio_init(struct tunio *t)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->big = malloc(BIG_LEN);
	t->gro = malloc(sizeof(*t->gro));
	if (!t->big || !t->gro) {
		tunio_free(t);
		return -ENOMEM;
	}
	offload_gro_init(t->gro, 0);
	return 0;
}

void
tunio_free(struct tunio *t)
{
	tunio_close(t);
	free(t->big);
	free(t->gro);
	t->big = NULL;
	t->gro = NULL;
}

int
tunio_open(struct tunio *t, const char *name, bool offload,
	   char ifname_out[IFNAMSIZ])
{
	char text[TUN_OFFLOAD_STR_LEN];
	int ret;

	ret = tun_open_offload(name, offload, ifname_out, &t->fd, &t->off);
	if (ret < 0) {
		t->fd = -1;
		return ret;
	}
	/* Coalesced writes are TSO packets: only where the device takes
	 * them for both families. */
	t->is_coalescing = (t->off.flags & (TUN_F_TSO4 | TUN_F_TSO6)) ==
			   (TUN_F_TSO4 | TUN_F_TSO6);
	if (t->off.has_vnet)
		log_info("%s: offloads %s%s", ifname_out,
			 tun_offload_describe(&t->off, text),
			 t->is_coalescing ? ", writes coalesced" : "");
	else
		log_info("%s: offloads off", ifname_out);
	return 0;
}

void
tunio_close(struct tunio *t)
{
	t->n_pend = 0;
	t->has_super = false;
	tun_close(t->fd);
	t->fd = -1;
}

/* --- reading ----------------------------------------------------------------- */

static enum tunio_rx
refuse(struct tunio *t, enum offload_err err)
{
	t->stats.rx_refused++;
	t->stats.rx_refused_by[err]++;
	return TUNIO_RX_REFUSED;
}

/* A super-packet: held in big, for tunio_cut. */
static enum tunio_rx
hold(struct tunio *t, const uint8_t *read_at, size_t n)
{
	enum offload_err err;

	if (read_at != t->big)
		memcpy(t->big, read_at, n);
	err = offload_parse(t->big, n, &t->super);
	if (err != OFFLOAD_OK)
		return refuse(t, err);
	t->super_at = 0;
	t->has_super = true;
	t->stats.rx_super++;
	return TUNIO_RX_SUPER;
}

enum tunio_rx
tunio_read(struct tunio *t, uint8_t *pkt, size_t cap, size_t *len)
{
	uint8_t *hdr = pkt - OFFLOAD_VNET_HDR_LEN;
	size_t first = OFFLOAD_VNET_HDR_LEN + cap;
	struct offload_pkt p;
	enum offload_err err;
	struct iovec iov[2];
	uint8_t *at = hdr;
	ssize_t n;

	t->has_super = false;
	if (!t->off.has_vnet) {
		n = tun_read(t->fd, pkt, cap);
		if (n < 0)
			return TUNIO_RX_EMPTY;
		*len = (size_t)n;
		return TUNIO_RX_PACKET;
	}
	iov[0].iov_base = hdr;
	iov[0].iov_len = first;
	iov[1].iov_base = t->big + first;
	iov[1].iov_len = BIG_LEN - first;
	n = tun_readv(t->fd, iov, 2);
	if (n < 0)
		return TUNIO_RX_EMPTY;
	if ((size_t)n > first) {
		/* The start went to the caller's buffer: put it in front. */
		memcpy(t->big, hdr, first);
		at = t->big;
	}
	err = offload_parse(at, (size_t)n, &p);
	if (err != OFFLOAD_OK)
		return refuse(t, err);
	if (p.gso_type != OFFLOAD_GSO_NONE)
		return hold(t, at, (size_t)n);
	if (p.needs_csum) {
		offload_csum_complete(&p, at + OFFLOAD_VNET_HDR_LEN);
		t->stats.rx_csum++;
	}
	*len = p.len;
	if (at != hdr) {
		/* Longer than the caller takes: cut as read() would. */
		*len = cap;
		memcpy(pkt, p.pkt, cap);
	}
	return TUNIO_RX_PACKET;
}

/* The held super-packet with its header (vnet) rewritten at `at` (the
 * IP packet starting OFFLOAD_VNET_HDR_LEN later), parsed again. */
static bool
reparse(struct tunio *t, uint8_t *at, size_t ip_len)
{
	struct offload_vnet v = t->super.vnet;
	enum offload_err err;

	v.gso_size = (uint16_t)t->super.gso_size;
	offload_vnet_encode(&v, at);
	err = offload_parse(at, OFFLOAD_VNET_HDR_LEN + ip_len, &t->super);
	if (err != OFFLOAD_OK) {
		/* Cannot happen to what parsed once; never cut it blind. */
		refuse(t, err);
		t->has_super = false;
		return false;
	}
	t->super_at = (size_t)(at - t->big);
	return true;
}

bool
tunio_fit(struct tunio *t, size_t mtu)
{
	struct offload_pkt *p = &t->super;

	if (!t->has_super)
		return false;
	if (p->proto != IPPROTO_TCP || p->seg_max <= mtu)
		return true;
	if (mtu <= p->hdr_len) {
		t->has_super = false;
		return false;
	}
	p->gso_size = mtu - p->hdr_len;
	return reparse(t, t->big + t->super_at, p->len);
}

/* Moves what is left after k segments up over their payload: the
 * headers with the lengths, sequence number and IPv4 ID of the next
 * segment, and CWR (the first segment's alone) cleared. */
static void
advance(struct tunio *t, size_t k)
{
	const struct offload_pkt *p = &t->super;
	uint8_t *ip = t->big + t->super_at + OFFLOAD_VNET_HDR_LEN;
	size_t skip = k * p->gso_size, left = p->len - skip;
	uint8_t *next = ip + skip, *l4 = next + p->l4_off;
	uint32_t seq;

	memmove(next, ip, p->hdr_len);
	if (p->family == AF_INET) {
		ippkt_put16(next + 2, (uint16_t)left);
		ippkt_put16(next + 4, (uint16_t)(ippkt_get16(next + 4) + k));
	} else {
		ippkt_put16(next + 4, (uint16_t)(left - 40));
	}
	if (p->proto == IPPROTO_TCP) {
		seq = (uint32_t)ippkt_get16(l4 + 4) << 16 | ippkt_get16(l4 + 6);
		seq += (uint32_t)skip;
		ippkt_put16(l4 + 4, (uint16_t)(seq >> 16));
		ippkt_put16(l4 + 6, (uint16_t)seq);
		l4[TCP_FLAGS_OFF] &= (uint8_t)~TCP_CWR;
	}
	reparse(t, next - OFFLOAD_VNET_HDR_LEN, left);
}

size_t
tunio_cut(struct tunio *t, uint8_t *const *bufs, size_t buf_cap, size_t n,
	  size_t *lens)
{
	struct offload_pkt part;
	uint8_t *flags = NULL, saved = 0;
	enum offload_err err;
	size_t k;

	if (!t->has_super || !n)
		return 0;
	part = t->super;
	k = part.segs < n ? part.segs : n;
	if (k < part.segs) {
		/* The first k alone, without the last segment's FIN and
		 * PSH. */
		part.segs = k;
		part.len = part.hdr_len + k * part.gso_size;
		part.seg_max = part.hdr_len + part.gso_size;
		if (part.proto == IPPROTO_TCP) {
			flags = t->big + t->super_at +
				OFFLOAD_VNET_HDR_LEN + part.l4_off +
				TCP_FLAGS_OFF;
			saved = *flags;
			*flags &= (uint8_t)~(TCP_FIN | TCP_PSH);
		}
	}
	err = offload_segment(&part, bufs, buf_cap, k, lens);
	if (flags)
		*flags = saved;
	if (err != OFFLOAD_OK) {
		refuse(t, err);
		t->has_super = false;
		return 0;
	}
	t->stats.rx_segments += k;
	if (k == t->super.segs)
		t->has_super = false;
	else
		advance(t, k); /* if it fails, nothing is held */
	return k;
}

void
tunio_drop(struct tunio *t)
{
	t->has_super = false;
}

/* --- writing ----------------------------------------------------------------- */

ssize_t
tunio_write_now(struct tunio *t, const uint8_t *pkt, size_t len)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)(uintptr_t)plain_hdr,
		  .iov_len = sizeof(plain_hdr) },
		{ .iov_base = (void *)(uintptr_t)pkt, .iov_len = len },
	};
	ssize_t n;

	if (!t->off.has_vnet)
		return tun_write(t->fd, pkt, len);
	n = tun_writev(t->fd, iov, 2);
	return n < 0 ? n : n - (ssize_t)sizeof(plain_hdr);
}

/* Write w's packets one at a time: the device refused them merged. */
static unsigned int
write_apart(struct tunio *t, const struct offload_gro_write *w)
{
	unsigned int failed = 0;
	uint16_t i, n;

	for (i = w->first, n = 0; n < w->n_pkts; i = t->gro->next[i], n++)
		if (tunio_write_now(t, t->pend[i], t->pend_len[i]) < 0)
			failed++;
	return failed;
}

unsigned int
tunio_flush(struct tunio *t)
{
	struct iovec iov[OFFLOAD_GRO_BATCH_MAX + 1];
	const struct offload_gro_write *w;
	unsigned int failed = 0;
	size_t i, n_iov;
	ssize_t n;

	if (!t->n_pend)
		return 0;
	offload_gro_batch(t->gro, t->pend, t->pend_len, t->n_pend);
	for (i = 0; i < t->gro->n_writes; i++) {
		w = &t->gro->writes[i];
		if (!t->is_coalescing) {
			failed += write_apart(t, w);
			continue;
		}
		n_iov = offload_gro_iov(t->gro, i, t->pend, t->pend_len, iov);
		n = tun_writev(t->fd, iov, (int)n_iov);
		if (n >= 0 && w->n_pkts > 1) {
			t->stats.tx_coalesced++;
			t->stats.tx_coalesced_pkts += w->n_pkts;
		} else if (n == -EINVAL && w->n_pkts > 1) {
			log_notice("the TUN device refuses coalesced writes; "
				   "writing one packet at a time");
			t->is_coalescing = false;
			t->stats.tx_refused_merge++;
			failed += write_apart(t, w);
		} else if (n < 0) {
			failed += w->n_pkts;
		}
	}
	t->n_pend = 0;
	return failed;
}

unsigned int
tunio_write(struct tunio *t, const uint8_t *pkt, size_t len)
{
	unsigned int failed = 0;

	if (!t->is_coalescing)
		return tunio_write_now(t, pkt, len) < 0 ? 1 : 0;
	if (t->n_pend == OFFLOAD_GRO_BATCH_MAX)
		failed = tunio_flush(t);
	t->pend[t->n_pend] = pkt;
	t->pend_len[t->n_pend] = len;
	t->n_pend++;
	return failed;
}
