/* SPDX-License-Identifier: MIT */
/*
 * The TUN device's side of the packet path, with or without offloads
 * (tun.h): reads that may hold a super-packet, cut into the packets the
 * tunnel carries as many at a time as the caller has buffers for, and
 * writes that coalesce a batch of decrypted TCP segments into
 * super-packets, one writev each. offload.h does the bytes; this file the
 * reads, the writes, the fallbacks and the counting.
 *
 * Buffers are allocated once (tunio_init): a 64 KiB read buffer and the
 * coalescing state. Nothing is allocated per packet. Without offloads
 * every call is the plain read or write of one packet it always was.
 * Nothing waits for a batch to fill: the caller flushes at the end of
 * every batch it receives.
 */
#ifndef VPN_TUNIO_H
#define VPN_TUNIO_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "offload.h"
#include "tun.h"

struct tunio_stats {
	uint64_t rx_super;          /* super-packets read */
	uint64_t rx_segments;       /* packets cut from them */
	uint64_t rx_csum;           /* partial checksums completed */
	uint64_t rx_refused;        /* reads offload_parse refused ... */
	uint64_t rx_refused_by[OFFLOAD_ERR_COUNT]; /* ... by reason */
	uint64_t tx_coalesced;      /* writes of several packets */
	uint64_t tx_coalesced_pkts; /* the packets they carried */
	uint64_t tx_refused_merge;  /* merged writes the device refused
				     * (coalescing then turned off) */
};

struct tunio {
	int fd;                     /* -1 while closed */
	struct tun_offload off;
	bool is_coalescing;         /* writes go through offload_gro */

	/* Read side: one read, header first, when it did not fit the
	 * caller's buffer, and the super-packet being cut. */
	uint8_t *big;
	struct offload_pkt super;
	size_t super_at;            /* super.pkt - (big + header) */
	bool has_super;

	/* Write side: packets waiting for tunio_flush, in place. */
	struct offload_gro *gro;
	const uint8_t *pend[OFFLOAD_GRO_BATCH_MAX];
	size_t pend_len[OFFLOAD_GRO_BATCH_MAX];
	size_t n_pend;

	struct tunio_stats stats;
};

/* Allocates the buffers; the device is opened by tunio_open. 0 or
 * -ENOMEM. */
int tunio_init(struct tunio *t) __attribute__((warn_unused_result));
void tunio_free(struct tunio *t);

/* tun_open_offload into t, and logs what was obtained. 0 or -errno. */
int tunio_open(struct tunio *t, const char *name, bool offload,
	       char ifname_out[IFNAMSIZ]) __attribute__((warn_unused_result));
/* Drops what waits to be written and closes the device (if open). */
void tunio_close(struct tunio *t);

/* What tunio_read found. */
enum tunio_rx {
	TUNIO_RX_EMPTY,   /* nothing waiting, or the read failed */
	TUNIO_RX_PACKET,  /* one packet in the caller's buffer */
	TUNIO_RX_SUPER,   /* a super-packet, held: tunio_cut it */
	TUNIO_RX_REFUSED, /* a malformed read, dropped and counted */
};

/*
 * Reads what the device has. A single packet lands at pkt, its checksum
 * completed if the kernel left it partial, cut to cap bytes if longer
 * (as a plain read cuts it: callers count those as too big). pkt must
 * have OFFLOAD_VNET_HDR_LEN writable bytes before it: the header is read
 * there. A super-packet is kept in t (t->super describes it) for
 * tunio_fit and tunio_cut.
 */
enum tunio_rx tunio_read(struct tunio *t, uint8_t *pkt, size_t cap,
			 size_t *len);

/*
 * Makes the held TCP super-packet's segments fit an IP MTU of mtu bytes,
 * lowering its segment size (the receiver's MSS already allows it: the
 * tunnel clamps SYNs to it). False if no segment can fit: the caller
 * drops it (tunio_drop). UDP's segments are left as the sender cut them.
 */
bool tunio_fit(struct tunio *t, size_t mtu);

/*
 * Cuts the next segments of the held super-packet into bufs[0..n-1]
 * (buf_cap bytes each), their lengths into lens; returns how many, 0
 * when none is left (nothing is held then). Segments come out in order,
 * as the kernel would have sent them.
 */
size_t tunio_cut(struct tunio *t, uint8_t *const *bufs, size_t buf_cap,
		 size_t n, size_t *lens);
/* Forgets the held super-packet. */
void tunio_drop(struct tunio *t);

/*
 * Hands a packet to the device. While coalescing it waits, in place,
 * until tunio_flush (or a full batch); otherwise it is written now.
 * Returns the packets the device refused meanwhile.
 */
unsigned int tunio_write(struct tunio *t, const uint8_t *pkt, size_t len);
/* Writes what waits; returns the packets the device refused. A merged
 * write refused with EINVAL is written again one packet at a time, and
 * coalescing stops for good. */
unsigned int tunio_flush(struct tunio *t);
/* One packet at once, ahead of nothing waiting (call after a flush).
 * len or -errno. */
ssize_t tunio_write_now(struct tunio *t, const uint8_t *pkt, size_t len);

#endif
