/* SPDX-License-Identifier: MIT */
/*
 * UDP sockets for the tunnel: one IPv4 and one IPv6-only socket, batched
 * receive and send (recvmmsg/sendmmsg), and the local address of every
 * received datagram (IP_PKTINFO) so replies leave from the address the peer
 * sent to.
 *
 * Where the kernel has them, the UDP offloads: equal datagrams for one
 * endpoint leave as one message the kernel cuts (UDP_SEGMENT), and reads the
 * kernel coalesced (UDP_GRO) are split back here, so callers only ever see
 * datagrams. Each is probed when a socket opens; a run the kernel refuses
 * goes again datagram by datagram (nothing lost), and GSO is given up on a
 * socket whose way out keeps refusing it; udp_set_offload() turns both
 * off. Memory is allocated at start (udp_buffers_alloc,
 * udp_batch_receive_into), never per packet.
 */
#ifndef VPN_UDP_H
#define VPN_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "endpoint.h"

#define UDP_BATCH 64 /* messages per system call */
/* Datagrams in one UDP_SEGMENT message: every kernel with GSO takes 64. */
#define UDP_GSO_SEGMENTS 64
/* Refused runs in a row (EIO: one) after which a socket sends without GSO. */
#define UDP_GSO_STRIKES 8
/* A coalesced read: up to 64 KiB, up to 64 datagrams (the kernel's GRO
 * limit); a receive batch exposes up to UDP_RX_MAX datagrams. */
#define UDP_READ_LEN 65536
#define UDP_GRO_SEGMENTS 64
#define UDP_RX_MAX (UDP_BATCH * UDP_GRO_SEGMENTS)
/* pktinfo (IPv6's is the larger) and UDP_SEGMENT or UDP_GRO, with room. */
#define UDP_CMSG_LEN 96

/* Offloads active on a socket (udp_offloads). */
#define UDP_OFFLOAD_GSO 0x1
#define UDP_OFFLOAD_GRO 0x2

struct udp {
	int fd4; /* -1 when absent */
	int fd6;
};

/* Whether sockets opened from now on try the offloads (default: yes);
 * off also stops GSO at once on sockets already open. Process-wide: call
 * it with the configuration, before opening sockets. */
void udp_set_offload(bool on);
/* UDP_OFFLOAD_* bits in use on fd (one of ours) now. */
unsigned int udp_offloads(int fd);

/* Binds `port` on every IPv4 and IPv6 address (IPv6 socket v6-only).
 * Fails unless both families are bound, or one is and the kernel lacks
 * the other (EAFNOSUPPORT). 0 or -errno. */
int udp_open_server(struct udp *u, uint16_t port)
	__attribute__((warn_unused_result));
/* An unbound socket of `family` (ephemeral port, kernel-chosen source per
 * datagram, so a host that changes address keeps talking). */
int udp_open_client(struct udp *u, int family)
	__attribute__((warn_unused_result));
void udp_close(struct udp *u);
/* The socket for an endpoint's family, or -1. */
int udp_fd_for(const struct udp *u, const struct endpoint *ep);
/* SO_BUSY_POLL of us microseconds on the sockets (busy-poll: the kernel
 * polls the device's queue that long on a read that would block, where
 * its driver can), and a log line saying so. A refusal only costs that
 * part: 0 or the first -errno (the others are still set). */
int udp_set_busy_poll(const struct udp *u, unsigned int us);

struct udp_room; /* room for coalesced reads (udp.c) */

/*
 * A batch of datagrams: count of them at buf[i], len[i], ep[i]. A receive
 * batch fills them (a coalesced read split into its datagrams); a send batch
 * is filled by udp_batch_add. The rest is udp.c's.
 */
struct udp_batch {
	unsigned int count;
	uint8_t **buf;
	size_t *len;
	struct endpoint *ep;
	size_t buf_cap; /* bytes in each of the caller's receive buffers */

	/* Up to UDP_BATCH datagrams: what udp_batch_add queued, or the
	 * caller's receive buffers and one read's sender each. */
	uint8_t *slot_buf[UDP_BATCH];
	size_t slot_len[UDP_BATCH];
	struct endpoint slot_ep[UDP_BATCH];
	struct udp_room *room; /* NULL: reads go to slot_buf only */

	/* One system call's messages: a send message gathers a run of
	 * datagrams, one iovec each. */
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	uint8_t msg_segs[UDP_BATCH];
	bool msg_has_src[UDP_BATCH];
	union {
		struct cmsghdr align;
		uint8_t bytes[UDP_CMSG_LEN];
	} cmsg[UDP_BATCH];
};

/* UDP_BATCH buffers of `len` bytes in one block, allocated at start. */
struct udp_buffers {
	uint8_t *block;
	size_t len;
	struct udp_room *room; /* made by udp_batch_receive_into */
};

int udp_buffers_alloc(struct udp_buffers *b, size_t len)
	__attribute__((warn_unused_result));
void udp_buffers_free(struct udp_buffers *b);
static inline uint8_t *
udp_buffer(const struct udp_buffers *b, unsigned int i)
{
	return b->block + (size_t)i * b->len;
}
/* Points a receive batch at the buffers, and allocates with them (once)
 * the room coalesced reads need: UDP_BATCH reads of UDP_READ_LEN and
 * UDP_RX_MAX datagrams' entries, about 4.3 MiB, touched only as reads
 * fill it. 0, or -ENOMEM: the batch then receives into the buffers alone,
 * and a coalesced read that does not fit there is dropped. */
int udp_batch_receive_into(struct udp_batch *batch, struct udp_buffers *bufs);

/* Receives without blocking: up to UDP_BATCH reads, a coalesced one split
 * into its datagrams. Fills count, buf[], len[] (0 for a datagram that was
 * truncated: drop it) and ep[]. Returns the count (0 when none), or
 * -errno. */
int udp_recv_batch(int fd, struct udp_batch *b);

/* Queues buf/len for ep in b (buf must live until the batch is sent).
 * False if the batch is full (UDP_BATCH). */
bool udp_batch_add(struct udp_batch *b, const struct endpoint *ep,
		   uint8_t *buf, size_t len);
/* Sends the queued datagrams of `b` on fd, in order, and empties it: runs
 * of equal length (the last may be shorter) for one endpoint go as one
 * UDP_SEGMENT message where fd has GSO. Datagrams the kernel refuses are
 * dropped, as UDP would. Returns the number of datagrams sent. */
unsigned int udp_send_batch(int fd, struct udp_batch *b);

/* Sends one datagram to ep from its recorded local address, if any. 0 or
 * -errno. */
int udp_send(const struct udp *u, const struct endpoint *ep,
	     const uint8_t *buf, size_t len);

#endif
