/* SPDX-License-Identifier: MIT */
/*
 * The TUN device's offloads, done in user space: the virtio_net_hdr a TUN
 * device opened with IFF_VNET_HDR puts before every packet (Linux's
 * include/uapi/linux/virtio_net.h), read as untrusted input; segmentation
 * of the TCP (TSO) and UDP (USO) super-packets of up to 64 KiB the kernel
 * hands over once TUNSETOFFLOAD allows them, into the packets the wire
 * carries, with their IP and transport checksums; the checksum of a single
 * packet the kernel left partial (NEEDS_CSUM); and, for the other
 * direction, coalescing of a batch of decrypted TCP segments into
 * super-packets the kernel takes in one write (GRO).
 *
 * Pure: bytes in, bytes out, into buffers the caller provides; no I/O, no
 * allocation, no clock. Opening the device, TUNSETVNETHDRSZ, probing
 * TUNSETOFFLOAD and the reads and writes are the data path's (tun.c).
 * The header is taken as little-endian, which is what the kernel writes on
 * a little-endian host, or on any host after TUNSETVNETLE.
 */
#ifndef VPN_OFFLOAD_H
#define VPN_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* sizeof(struct virtio_net_hdr): what TUNSETVNETHDRSZ is left at. */
#define OFFLOAD_VNET_HDR_LEN 10

/* virtio_net_hdr.flags */
#define OFFLOAD_F_NEEDS_CSUM 0x01 /* csum_start/csum_offset: complete it */
#define OFFLOAD_F_DATA_VALID 0x02 /* the kernel found the checksum right */
/* virtio_net_hdr.gso_type; ECN is a bit on the TCP types. */
#define OFFLOAD_GSO_NONE 0
#define OFFLOAD_GSO_TCPV4 1
#define OFFLOAD_GSO_UDP 3 /* UFO: IP fragmentation; never offered */
#define OFFLOAD_GSO_TCPV6 4
#define OFFLOAD_GSO_UDP_L4 5 /* USO: UDP segments (Linux 6.2, TUN_F_USO*) */
#define OFFLOAD_GSO_ECN 0x80

/* TUNSETOFFLOAD bits Debian 12's headers lack (linux/if_tun.h, 6.2). */
#define OFFLOAD_TUN_F_USO4 0x20
#define OFFLOAD_TUN_F_USO6 0x40

/* The largest IP packet on either side: an IPv4 total length, or an IPv6
 * payload length behind its 40-byte header. A read buffer holds
 * OFFLOAD_VNET_HDR_LEN + OFFLOAD_PKT_MAX bytes. */
#define OFFLOAD_PKT_MAX (40 + 65535)
/* IP header, extension headers and transport header of a super-packet
 * segmented here, at most. */
#define OFFLOAD_HDR_MAX 256

/* Why a packet read from the device is refused (see offload_err_name). */
enum offload_err {
	OFFLOAD_OK = 0,
	OFFLOAD_ERR_SHORT,      /* no room for the header, or no packet */
	OFFLOAD_ERR_FLAGS,      /* unknown flag bits, or both flags */
	OFFLOAD_ERR_GSO_TYPE,   /* not NONE, TCPV4, TCPV6, UDP_L4; ECN on UDP */
	OFFLOAD_ERR_HDR_LEN,    /* hdr_len past the packet's end */
	OFFLOAD_ERR_TOO_LONG,   /* more than OFFLOAD_PKT_MAX bytes */
	OFFLOAD_ERR_NOT_IP,     /* no readable IPv4 or IPv6 header */
	OFFLOAD_ERR_IP_LEN,     /* the IP length field is not the length */
	OFFLOAD_ERR_NO_CSUM,    /* a super-packet without NEEDS_CSUM */
	OFFLOAD_ERR_FAMILY,     /* TCPV4 on IPv6, TCPV6 on IPv4 */
	OFFLOAD_ERR_FRAGMENT,   /* a super-packet that is a fragment */
	OFFLOAD_ERR_PROTO,      /* not TCP under TCPV*, not UDP under UDP_L4 */
	OFFLOAD_ERR_ROUTING,    /* an IPv6 super-packet with a routing header
				 * (its pseudo-header is not the header's) */
	OFFLOAD_ERR_CSUM_START, /* not the transport header, or outside */
	OFFLOAD_ERR_CSUM_OFFSET,/* not the checksum field, or outside */
	OFFLOAD_ERR_L4_HDR,     /* transport header cut or of a bad length */
	OFFLOAD_ERR_GSO_SIZE,   /* gso_size set without GSO, 0, too large, or
				 * a super-packet with no payload */
	OFFLOAD_ERR_SEGMENTS,   /* more segments than buffers, or a buffer
				 * too small (offload_segment) */
	OFFLOAD_ERR_COUNT
};

/* The header's fields, in host order. */
struct offload_vnet {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

/* What offload_parse found: a packet to pass on as it is, to complete the
 * checksum of, or to cut into segs segments. */
struct offload_pkt {
	struct offload_vnet vnet; /* as read */
	const uint8_t *pkt;       /* the IP packet, after the header */
	size_t len;
	uint8_t gso_type;         /* without the ECN bit */
	bool needs_csum;          /* NEEDS_CSUM: csum_start and csum_offset
				   * are inside the packet */
	/* The rest is set for a super-packet (gso_type != NONE) alone. */
	int family;               /* AF_INET or AF_INET6 */
	uint8_t proto;            /* IPPROTO_TCP or IPPROTO_UDP */
	size_t l4_off;            /* the transport header (= csum_start) */
	size_t hdr_len;           /* all headers, as parsed: hdr_len in
				   * the vnet header is only the kernel's
				   * hint of its linear part */
	size_t gso_size;          /* payload bytes per segment */
	size_t segs;              /* packets this becomes: 1 without GSO */
	size_t seg_max;           /* the longest of them */
};

const char *offload_err_name(enum offload_err err);

/* Decodes and encodes the OFFLOAD_VNET_HDR_LEN bytes of a header. */
void offload_vnet_decode(const uint8_t *buf, struct offload_vnet *out);
void offload_vnet_encode(const struct offload_vnet *v, uint8_t *buf);

/*
 * Checks what one read from the device returned (header, then packet;
 * len bytes in all) and describes it in *out, which points into buf.
 * A packet without GSO and without NEEDS_CSUM is not looked into (any
 * bytes pass); anything else must be IPv4 or IPv6 whose length field
 * matches, with csum_start and csum_offset inside it, and a super-packet
 * TCP or UDP with its checksum field where the header says.
 */
enum offload_err offload_parse(const uint8_t *buf, size_t len,
			       struct offload_pkt *out)
	__attribute__((warn_unused_result));

/*
 * Completes in place the checksum the kernel left partial in a packet
 * without GSO: pkt is p->pkt, writable, as offload_parse accepted it with
 * needs_csum. Does nothing otherwise.
 */
void offload_csum_complete(const struct offload_pkt *p, uint8_t *pkt);

/*
 * Writes the p->segs packets p becomes into bufs[0..p->segs-1], each of
 * buf_cap bytes, their lengths into lens[]: a super-packet's segments with
 * their headers and checksums as the kernel would have sent them, or a
 * copy of a single packet with its checksum completed if it needed it.
 * OFFLOAD_ERR_SEGMENTS (nothing written) if n_bufs < p->segs or
 * buf_cap < p->seg_max. Checksum arithmetic on the headers is done once
 * per super-packet; each segment only adds its own payload.
 */
enum offload_err offload_segment(const struct offload_pkt *p,
				 uint8_t *const *bufs, size_t buf_cap,
				 size_t n_bufs, size_t *lens)
	__attribute__((warn_unused_result));

/* --- coalescing (GRO), for writes to the device -------------------------- */

/* Packets one offload_gro_batch call takes, at most. */
#define OFFLOAD_GRO_BATCH_MAX 128
/* A write's header block: the virtio_net_hdr, then for a merged packet
 * its IPv4 (no options) or IPv6 (no extension) and TCP headers. */
#define OFFLOAD_GRO_HDR_MAX (OFFLOAD_VNET_HDR_LEN + 40 + 60)
#define OFFLOAD_GRO_SLOTS 256

/* One write to the device: its header block, then the first packet
 * whole (unmerged) or the payloads of its packets in order (merged). */
struct offload_gro_write {
	uint8_t hdr[OFFLOAD_GRO_HDR_MAX];
	size_t hdr_len;        /* OFFLOAD_VNET_HDR_LEN when unmerged */
	uint16_t first, last;  /* packet indices */
	uint16_t n_pkts;
	size_t len;            /* bytes written: header block and packets */
	/* Bookkeeping while the batch is grouped. */
	size_t ip_len;         /* the merged IP packet's length */
	size_t l4_off, l4_hdr; /* IP header, TCP header lengths */
	size_t gso_size;       /* payload of the first packet */
	uint32_t next_seq;
	uint32_t key_hash;     /* of its flow */
	bool is_open;          /* another segment may still be appended */
	bool first_checked;    /* the first packet's checksum verified */
	uint8_t last_flags;    /* PSH and FIN of the last packet */
};

/* A worker's coalescing state: allocated once, reused for every batch. */
struct offload_gro {
	size_t max_len;        /* largest merged IP packet, <= 65535 */
	struct offload_gro_write writes[OFFLOAD_GRO_BATCH_MAX];
	size_t n_writes;
	uint16_t next[OFFLOAD_GRO_BATCH_MAX]; /* the next packet of a write */
	int16_t slot[OFFLOAD_GRO_SLOTS];      /* a flow's latest write */
};

/* Sets up g; max_len is capped to 65535 (0: 65535). */
void offload_gro_init(struct offload_gro *g, size_t max_len);

/*
 * Groups a batch of inner packets (pkts[i] of lens[i] bytes, in the order
 * they arrived; only read, and they must stay in place until written)
 * into g->n_writes writes, in the order of their first packets: in-order
 * TCP segments of one flow whose headers allow it, as the kernel's GRO
 * does, become one TCPV4/TCPV6 super-packet marked NEEDS_CSUM with the
 * pseudo-header sum in its checksum field (a segment joins only if its
 * own checksum is right, since the kernel will not look again);
 * everything else is written unchanged behind a zero header. Takes at
 * most OFFLOAD_GRO_BATCH_MAX packets and returns how many it took.
 */
size_t offload_gro_batch(struct offload_gro *g, const uint8_t *const *pkts,
			 const size_t *lens, size_t n);

/*
 * The iovecs of write w (pass the batch's pkts and lens again): iov must
 * have room for g->writes[w].n_pkts + 1 entries. Returns how many it
 * filled; their bytes add up to g->writes[w].len.
 */
size_t offload_gro_iov(const struct offload_gro *g, size_t w,
		       const uint8_t *const *pkts, const size_t *lens,
		       struct iovec *iov);

/* Copies write w into out (cap bytes); returns its length, or 0 if it
 * does not fit. */
size_t offload_gro_flatten(const struct offload_gro *g, size_t w,
			   const uint8_t *const *pkts, const size_t *lens,
			   uint8_t *out, size_t cap);

#endif
