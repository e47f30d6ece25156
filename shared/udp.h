/* SPDX-License-Identifier: MIT */
/*
 * UDP sockets for the tunnel: one IPv4 and one IPv6-only socket, batched
 * receive and send (recvmmsg/sendmmsg), and the local address of every
 * received datagram (IP_PKTINFO) so replies leave from the address the peer
 * sent to. Buffers belong to the caller; nothing here allocates.
 */
#ifndef VPN_UDP_H
#define VPN_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "endpoint.h"

#define UDP_BATCH 64

struct udp {
	int fd4; /* -1 when absent */
	int fd6;
};

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

/* A batch of datagrams; bufs point at caller-owned buffers of buf_cap
 * bytes. For receive the endpoints are filled in; for send, set them. */
struct udp_batch {
	unsigned int count;
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct endpoint ep[UDP_BATCH];
	uint8_t cmsg[UDP_BATCH][64];
	uint8_t *buf[UDP_BATCH];
	size_t len[UDP_BATCH];
	size_t buf_cap;
};

/* UDP_BATCH buffers of `len` bytes in one block, allocated at start. */
struct udp_buffers {
	uint8_t *block;
	size_t len;
};

int udp_buffers_alloc(struct udp_buffers *b, size_t len)
	__attribute__((warn_unused_result));
void udp_buffers_free(struct udp_buffers *b);
static inline uint8_t *
udp_buffer(const struct udp_buffers *b, unsigned int i)
{
	return b->block + (size_t)i * b->len;
}
/* Points a receive batch at the buffers. */
void udp_batch_receive_into(struct udp_batch *batch,
			    const struct udp_buffers *bufs);

/* Receives up to UDP_BATCH datagrams without blocking; their lengths go
 * into len[]. Returns the count (0 when none), or -errno. */
int udp_recv_batch(int fd, struct udp_batch *b);

/* Queues buf/len for ep in b (buf must live until the batch is sent).
 * False if the batch is full. */
bool udp_batch_add(struct udp_batch *b, const struct endpoint *ep,
		   uint8_t *buf, size_t len);
/* Sends the queued datagrams of `b` on fd and empties it. Datagrams the
 * kernel refuses are dropped, as UDP would. Returns the number sent. */
unsigned int udp_send_batch(int fd, struct udp_batch *b);

/* Sends one datagram to ep from its recorded local address, if any. 0 or
 * -errno. */
int udp_send(const struct udp *u, const struct endpoint *ep,
	     const uint8_t *buf, size_t len);

#endif
