// SPDX-License-Identifier: MIT
/*
 * Batched UDP I/O with pktinfo (see udp.h). A failure to send is a drop,
 * counted by the caller; the packet path never blocks here.
 */
#include "udp.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SOCKET_BUFFER_BYTES (8 << 20)

static void
set_buffers(int fd)
{
	int size = SOCKET_BUFFER_BYTES;

	/* FORCE needs CAP_NET_ADMIN; the plain calls are the fallback. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

static int
open_socket(int family, uint16_t port, bool bind_port)
{
	int one = 1, fd, ret;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (family == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			       sizeof(one)) < 0 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
			       sizeof(one)) < 0)
			goto err;
	} else if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0) {
		goto err;
	}
	set_buffers(fd);
	if (bind_port) {
		struct endpoint any;

		memset(&any, 0, sizeof(any));
		if (family == AF_INET6) {
			any.addr.in6.sin6_family = AF_INET6;
			any.addr.in6.sin6_port = htons(port);
			any.addr.in6.sin6_addr = in6addr_any;
		} else {
			any.addr.in4.sin_family = AF_INET;
			any.addr.in4.sin_port = htons(port);
			any.addr.in4.sin_addr.s_addr = htonl(INADDR_ANY);
		}
		if (bind(fd, &any.addr.sa, endpoint_socklen(&any)) < 0)
			goto err;
	}
	return fd;
err:
	ret = -errno;
	close(fd);
	return ret;
}

int
udp_open_server(struct udp *u, uint16_t port)
{
	int ret = 0;

	u->fd4 = open_socket(AF_INET, port, true);
	u->fd6 = open_socket(AF_INET6, port, true);
	/* A kernel without one family is fine; a port taken (or any other
	 * failure) is not: half the clients could not reach us. */
	if (u->fd4 < 0 && (u->fd4 != -EAFNOSUPPORT || u->fd6 < 0))
		ret = u->fd4;
	else if (u->fd6 < 0 && u->fd6 != -EAFNOSUPPORT)
		ret = u->fd6;
	if (u->fd4 < 0)
		u->fd4 = -1;
	if (u->fd6 < 0)
		u->fd6 = -1;
	if (ret < 0)
		udp_close(u);
	return ret;
}

int
udp_open_client(struct udp *u, int family)
{
	int fd = open_socket(family, 0, false);

	u->fd4 = u->fd6 = -1;
	if (fd < 0)
		return fd;
	if (family == AF_INET6)
		u->fd6 = fd;
	else
		u->fd4 = fd;
	return 0;
}

void
udp_close(struct udp *u)
{
	if (u->fd4 >= 0)
		close(u->fd4);
	if (u->fd6 >= 0)
		close(u->fd6);
	u->fd4 = u->fd6 = -1;
}

int
udp_fd_for(const struct udp *u, const struct endpoint *ep)
{
	return ep->addr.sa.sa_family == AF_INET6 ? u->fd6 : u->fd4;
}

/* Fills the pktinfo control message that picks our source address. */
static size_t
put_src(const struct endpoint *ep, uint8_t *buf, size_t cap)
{
	struct msghdr mh = { .msg_control = buf, .msg_controllen = cap };
	struct cmsghdr *c;

	if (!ep->has_src)
		return 0;
	memset(buf, 0, cap);
	c = CMSG_FIRSTHDR(&mh);
	if (ep->addr.sa.sa_family == AF_INET) {
		struct in_pktinfo pi = ep->src.v4;

		pi.ipi_addr.s_addr = 0;
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	c->cmsg_level = IPPROTO_IPV6;
	c->cmsg_type = IPV6_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(ep->src.v6));
	memcpy(CMSG_DATA(c), &ep->src.v6, sizeof(ep->src.v6));
	return CMSG_SPACE(sizeof(ep->src.v6));
}

/*
 * True if a send with our cached source failed because that source is gone
 * (roaming): its address was removed, or the interface it names went down.
 * Linux says EINVAL or, since the pktinfo names the interface, ENETUNREACH.
 * A datagram that fails so is sent again without it, the kernel choosing.
 */
static bool
src_is_stale(int err)
{
	return err == EINVAL || err == ENETUNREACH || err == EADDRNOTAVAIL;
}

/* Reads the local address a datagram arrived on. */
static void
get_src(struct endpoint *ep, struct msghdr *mh)
{
	struct cmsghdr *c;

	ep->has_src = false;
	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			memcpy(&ep->src.v4, CMSG_DATA(c), sizeof(ep->src.v4));
			/* Reply from the address the peer sent to. */
			ep->src.v4.ipi_spec_dst = ep->src.v4.ipi_addr;
			ep->has_src = true;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
			   c->cmsg_type == IPV6_PKTINFO) {
			memcpy(&ep->src.v6, CMSG_DATA(c), sizeof(ep->src.v6));
			ep->has_src = true;
		}
	}
}

int
udp_buffers_alloc(struct udp_buffers *b, size_t len)
{
	b->len = len;
	b->block = calloc(UDP_BATCH, len);
	return b->block ? 0 : -ENOMEM;
}

void
udp_buffers_free(struct udp_buffers *b)
{
	free(b->block);
	b->block = NULL;
}

void
udp_batch_receive_into(struct udp_batch *batch, const struct udp_buffers *bufs)
{
	unsigned int i;

	batch->buf_cap = bufs->len;
	for (i = 0; i < UDP_BATCH; i++)
		batch->buf[i] = udp_buffer(bufs, i);
}

int
udp_recv_batch(int fd, struct udp_batch *b)
{
	unsigned int i;
	int n;

	for (i = 0; i < UDP_BATCH; i++) {
		struct msghdr *mh = &b->msgs[i].msg_hdr;

		b->iov[i].iov_base = b->buf[i];
		b->iov[i].iov_len = b->buf_cap;
		memset(mh, 0, sizeof(*mh));
		mh->msg_name = &b->ep[i].addr;
		mh->msg_namelen = sizeof(b->ep[i].addr);
		mh->msg_iov = &b->iov[i];
		mh->msg_iovlen = 1;
		mh->msg_control = b->cmsg[i];
		mh->msg_controllen = sizeof(b->cmsg[i]);
	}
	n = recvmmsg(fd, b->msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0) {
		b->count = 0;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	}
	for (i = 0; i < (unsigned int)n; i++) {
		struct msghdr *mh = &b->msgs[i].msg_hdr;

		b->len[i] = b->msgs[i].msg_len;
		/* A truncated datagram is not what the peer sent: drop it. */
		if (mh->msg_flags & MSG_TRUNC)
			b->len[i] = 0;
		get_src(&b->ep[i], mh);
	}
	b->count = (unsigned int)n;
	return n;
}

bool
udp_batch_add(struct udp_batch *b, const struct endpoint *ep, uint8_t *buf,
	      size_t len)
{
	unsigned int i = b->count;
	struct msghdr *mh;

	if (i >= UDP_BATCH)
		return false;
	b->ep[i] = *ep;
	b->buf[i] = buf;
	b->len[i] = len;
	b->iov[i].iov_base = buf;
	b->iov[i].iov_len = len;
	mh = &b->msgs[i].msg_hdr;
	memset(mh, 0, sizeof(*mh));
	mh->msg_name = &b->ep[i].addr;
	mh->msg_namelen = endpoint_socklen(ep);
	mh->msg_iov = &b->iov[i];
	mh->msg_iovlen = 1;
	mh->msg_controllen = put_src(ep, b->cmsg[i], sizeof(b->cmsg[i]));
	mh->msg_control = mh->msg_controllen ? b->cmsg[i] : NULL;
	b->count++;
	return true;
}

unsigned int
udp_send_batch(int fd, struct udp_batch *b)
{
	unsigned int done = 0, sent = 0;

	while (done < b->count) {
		int n = sendmmsg(fd, b->msgs + done, b->count - done, 0);

		if (n > 0) {
			done += (unsigned int)n;
			sent += (unsigned int)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* Our source address may be gone (roaming): let the kernel
		 * choose, once, then give up on this datagram. */
		if (n < 0 && src_is_stale(errno) &&
		    b->msgs[done].msg_hdr.msg_control) {
			b->msgs[done].msg_hdr.msg_control = NULL;
			b->msgs[done].msg_hdr.msg_controllen = 0;
			continue;
		}
		done++;
	}
	b->count = 0;
	return sent;
}

int
udp_send(const struct udp *u, const struct endpoint *ep, const uint8_t *buf,
	 size_t len)
{
	uint8_t cmsg[64];
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = {
		.msg_name = (void *)&ep->addr,
		.msg_namelen = endpoint_socklen(ep),
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	int fd = udp_fd_for(u, ep);

	if (fd < 0)
		return -EAFNOSUPPORT;
	mh.msg_controllen = put_src(ep, cmsg, sizeof(cmsg));
	mh.msg_control = mh.msg_controllen ? cmsg : NULL;
	if (sendmsg(fd, &mh, MSG_DONTWAIT) >= 0)
		return 0;
	if (src_is_stale(errno) && mh.msg_control) {
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		if (sendmsg(fd, &mh, MSG_DONTWAIT) >= 0)
			return 0;
	}
	return -errno;
}
