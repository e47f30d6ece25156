// SPDX-License-Identifier: MIT
/*
 * Batched UDP I/O with pktinfo and the UDP offloads (see udp.h). A failure
 * to send is a drop, counted by the caller; the packet path never blocks
 * here and makes no system call but recvmmsg/sendmmsg/sendmsg: everything
 * else (the probes, UDP_GRO) happens when a socket opens, before the
 * programs' system call filters.
 */
#include "udp.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "log.h"

#define SOCKET_BUFFER_BYTES (8 << 20)

/* The largest UDP payload of one message: 65535 less the UDP header and,
 * for IPv4, the IP header (IPv6's payload length excludes its own). */
#define PAYLOAD_MAX4 (65535 - 20 - 8)
#define PAYLOAD_MAX6 (65535 - 8)

/* Offload state per socket, indexed by descriptor: the send path is given
 * a descriptor only. Sockets open at start, with low descriptors; one
 * beyond the table gets no offload. */
#define FD_TABLE 1024

struct udp_room {
	uint8_t *buf[UDP_RX_MAX];
	size_t len[UDP_RX_MAX];
	struct endpoint ep[UDP_RX_MAX];
	uint8_t reads[UDP_BATCH][UDP_READ_LEN];
};

static atomic_bool offload_on = true;
static _Atomic uint8_t fd_offloads[FD_TABLE];
/* GSO refusals in a row without a run sent (see strike_gso). */
static _Atomic uint8_t fd_strikes[FD_TABLE];

/* ---- offload state -------------------------------------------------------- */

void
udp_set_offload(bool on)
{
	atomic_store(&offload_on, on);
}

unsigned int
udp_offloads(int fd)
{
	unsigned int bits;

	if (fd < 0 || fd >= FD_TABLE)
		return 0;
	bits = atomic_load_explicit(&fd_offloads[fd], memory_order_relaxed);
	/* Switched off later: no more GSO; a socket already receiving
	 * coalesced reads keeps them (splitting them costs nothing). */
	if (!atomic_load_explicit(&offload_on, memory_order_relaxed))
		bits &= ~(unsigned int)UDP_OFFLOAD_GSO;
	return bits;
}

static void
set_offloads(int fd, unsigned int bits)
{
	if (fd >= 0 && fd < FD_TABLE) {
		atomic_store(&fd_offloads[fd], (uint8_t)bits);
		atomic_store(&fd_strikes[fd], 0);
	}
}

/*
 * A run the kernel refused on fd (its datagrams go one by one). EIO says
 * the way out cannot checksum (a device without the offload, IPsec): no
 * run will pass, GSO is given up at once. Anything else may concern one
 * destination only, a path MTU below the segment size (EINVAL) above all:
 * GSO is given up after UDP_GSO_STRIKES refusals with no run sent between.
 */
static void
strike_gso(int fd, int err)
{
	if (fd < 0 || fd >= FD_TABLE)
		return;
	if (err != EIO && atomic_fetch_add(&fd_strikes[fd], 1) + 1 <
				  UDP_GSO_STRIKES)
		return;
	if (atomic_fetch_and(&fd_offloads[fd], (uint8_t)~UDP_OFFLOAD_GSO) &
	    UDP_OFFLOAD_GSO)
		log_notice("UDP segmentation offload refused on the way out "
			   "(socket %d, %s): sending datagrams one by one", fd,
			   strerror(err));
}

static void
runs_passed(int fd)
{
	if (fd >= 0 && fd < FD_TABLE &&
	    atomic_load_explicit(&fd_strikes[fd], memory_order_relaxed))
		atomic_store(&fd_strikes[fd], 0);
}

static bool
kernel_at_least(unsigned int major, unsigned int minor)
{
	struct utsname u;
	unsigned int ma, mi;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

/*
 * GSO where UDP_SEGMENT can be read back: a kernel without it would ignore
 * the control message and send one datagram of the whole run. GRO from
 * 5.12, as wireguard-go has it: before, the option cannot be read back and
 * its coalescing had bugs since fixed.
 */
static void
probe_offloads(int fd)
{
	unsigned int bits = 0;
	int one = 1, val;
	socklen_t val_len = sizeof(val);

	if (fd < FD_TABLE && atomic_load(&offload_on)) {
		if (getsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &val, &val_len) ==
		    0)
			bits |= UDP_OFFLOAD_GSO;
		if (kernel_at_least(5, 12) &&
		    setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) == 0)
			bits |= UDP_OFFLOAD_GRO;
	}
	set_offloads(fd, bits);
}

/* ---- sockets -------------------------------------------------------------- */

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
	probe_offloads(fd);
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
	if (u->fd4 >= 0) {
		set_offloads(u->fd4, 0);
		close(u->fd4);
	}
	if (u->fd6 >= 0) {
		set_offloads(u->fd6, 0);
		close(u->fd6);
	}
	u->fd4 = u->fd6 = -1;
}

int
udp_set_busy_poll(const struct udp *u, unsigned int us)
{
	int fds[2] = { u->fd4, u->fd6 }, val = (int)us, ret = 0, i;

	for (i = 0; i < 2; i++)
		if (fds[i] >= 0 &&
		    setsockopt(fds[i], SOL_SOCKET, SO_BUSY_POLL, &val,
			       sizeof(val)) < 0 && !ret)
			ret = -errno;
	log_info("busy polling for %u us before sleeping%s%s", us,
		 ret < 0 ? "; SO_BUSY_POLL refused: " : "",
		 ret < 0 ? strerror(-ret) : "");
	return ret;
}

int
udp_fd_for(const struct udp *u, const struct endpoint *ep)
{
	return ep->addr.sa.sa_family == AF_INET6 ? u->fd6 : u->fd4;
}

/* ---- control messages ----------------------------------------------------- */

/*
 * Fills the control messages of a datagram or run for ep: the pktinfo that
 * picks our source address (if known and with_src), and UDP_SEGMENT if
 * gso_size is set. Returns their length, 0 for none.
 */
static size_t
put_control(uint8_t *buf, size_t cap, const struct endpoint *ep, bool with_src,
	    uint16_t gso_size)
{
	struct cmsghdr *c;
	size_t len = 0;

	memset(buf, 0, cap);
	if (with_src && ep->has_src && ep->addr.sa.sa_family == AF_INET) {
		struct in_pktinfo pi = ep->src.v4;

		pi.ipi_addr.s_addr = 0;
		c = (struct cmsghdr *)buf;
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		len = CMSG_SPACE(sizeof(pi));
	} else if (with_src && ep->has_src) {
		c = (struct cmsghdr *)buf;
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(ep->src.v6));
		memcpy(CMSG_DATA(c), &ep->src.v6, sizeof(ep->src.v6));
		len = CMSG_SPACE(sizeof(ep->src.v6));
	}
	if (gso_size) {
		/* The kernel takes exactly a u16 here. */
		c = (struct cmsghdr *)(buf + len);
		c->cmsg_level = IPPROTO_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(gso_size));
		memcpy(CMSG_DATA(c), &gso_size, sizeof(gso_size));
		len += CMSG_SPACE(sizeof(gso_size));
	}
	return len;
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

/*
 * True if a UDP_SEGMENT message failed for being one: EIO when the device
 * cannot checksum it (or the path is IPsec), EINVAL when a segment is over
 * the device's MTU, EMSGSIZE or the rest from a kernel that counts
 * otherwise. Its datagrams, sent one by one, may pass.
 */
static bool
gso_refused(int err)
{
	return err == EIO || err == EINVAL || err == EMSGSIZE ||
	       err == ENOPROTOOPT || err == EOPNOTSUPP;
}

/* Reads the local address a datagram arrived on, and returns the segment
 * size of a coalesced read (0 for a plain one). */
static size_t
read_control(struct endpoint *ep, struct msghdr *mh)
{
	struct cmsghdr *c;
	size_t gso_size = 0;

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
		} else if (c->cmsg_level == IPPROTO_UDP &&
			   c->cmsg_type == UDP_GRO) {
			/* An int from Linux; a u16 would do as well. */
			int v = 0;
			uint16_t v16 = 0;

			if (c->cmsg_len >= CMSG_LEN(sizeof(v))) {
				memcpy(&v, CMSG_DATA(c), sizeof(v));
				gso_size = v > 0 ? (size_t)v : 0;
			} else if (c->cmsg_len >= CMSG_LEN(sizeof(v16))) {
				memcpy(&v16, CMSG_DATA(c), sizeof(v16));
				gso_size = v16;
			}
		}
	}
	return gso_size;
}

/* ---- buffers -------------------------------------------------------------- */

int
udp_buffers_alloc(struct udp_buffers *b, size_t len)
{
	b->len = len;
	b->room = NULL;
	b->block = calloc(UDP_BATCH, len);
	return b->block ? 0 : -ENOMEM;
}

void
udp_buffers_free(struct udp_buffers *b)
{
	free(b->block);
	free(b->room);
	b->block = NULL;
	b->room = NULL;
}

static void
view_slots(struct udp_batch *b)
{
	b->buf = b->slot_buf;
	b->len = b->slot_len;
	b->ep = b->slot_ep;
}

int
udp_batch_receive_into(struct udp_batch *batch, struct udp_buffers *bufs)
{
	unsigned int i;

	batch->buf_cap = bufs->len;
	for (i = 0; i < UDP_BATCH; i++)
		batch->slot_buf[i] = udp_buffer(bufs, i);
	view_slots(batch);
	/* Not zeroed: a large block comes as untouched pages, and every
	 * entry is written before it is read. */
	if (!bufs->room)
		bufs->room = malloc(sizeof(*bufs->room));
	batch->room = bufs->room;
	return batch->room ? 0 : -ENOMEM;
}

/* ---- receive -------------------------------------------------------------- */

/*
 * Exposes read r as datagrams from entry e on: one, or a coalesced read cut
 * every gso_size bytes (the last may be shorter). Returns the next entry.
 */
static unsigned int
split_read(struct udp_batch *b, unsigned int r, unsigned int e)
{
	struct udp_room *room = b->room;
	struct msghdr *mh = &b->msgs[r].msg_hdr;
	uint8_t *data = mh->msg_iov->iov_base;
	size_t len = b->msgs[r].msg_len, off = 0;
	size_t seg = read_control(&b->slot_ep[r], mh);

	/* A truncated datagram is not what the peer sent: drop it. */
	if (mh->msg_flags & MSG_TRUNC)
		len = 0;
	if (!seg || seg > len)
		seg = len;
	do {
		/* More than the kernel ever coalesces: the rest is lost,
		 * as if the socket's queue had overflowed. */
		if (e == UDP_RX_MAX)
			break;
		room->buf[e] = data + off;
		room->len[e] = len - off < seg ? len - off : seg;
		room->ep[e] = b->slot_ep[r];
		e++;
		off += seg;
	} while (off < len);
	return e;
}

int
udp_recv_batch(int fd, struct udp_batch *b)
{
	bool gro = b->room && (udp_offloads(fd) & UDP_OFFLOAD_GRO);
	unsigned int i, e = 0;
	int n;

	for (i = 0; i < UDP_BATCH; i++) {
		struct msghdr *mh = &b->msgs[i].msg_hdr;

		if (gro) {
			b->iov[i].iov_base = b->room->reads[i];
			b->iov[i].iov_len = UDP_READ_LEN;
		} else {
			b->iov[i].iov_base = b->slot_buf[i];
			b->iov[i].iov_len = b->buf_cap;
		}
		memset(mh, 0, sizeof(*mh));
		mh->msg_name = &b->slot_ep[i].addr;
		mh->msg_namelen = sizeof(b->slot_ep[i].addr);
		mh->msg_iov = &b->iov[i];
		mh->msg_iovlen = 1;
		mh->msg_control = b->cmsg[i].bytes;
		mh->msg_controllen = sizeof(b->cmsg[i].bytes);
	}
	n = recvmmsg(fd, b->msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0) {
		b->count = 0;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	}
	if (!gro) {
		/* One datagram per read, in place: nothing to copy. */
		view_slots(b);
		for (i = 0; i < (unsigned int)n; i++) {
			struct msghdr *mh = &b->msgs[i].msg_hdr;

			b->slot_len[i] = b->msgs[i].msg_len;
			/* Truncated (a coalesced read, if this batch has no
			 * room for one): not what the peer sent. */
			if (mh->msg_flags & MSG_TRUNC)
				b->slot_len[i] = 0;
			read_control(&b->slot_ep[i], mh);
		}
		b->count = (unsigned int)n;
		return n;
	}
	b->buf = b->room->buf;
	b->len = b->room->len;
	b->ep = b->room->ep;
	for (i = 0; i < (unsigned int)n; i++)
		e = split_read(b, i, e);
	b->count = e;
	return (int)e;
}

/* ---- send ----------------------------------------------------------------- */

bool
udp_batch_add(struct udp_batch *b, const struct endpoint *ep, uint8_t *buf,
	      size_t len)
{
	unsigned int i = b->count;

	if (i >= UDP_BATCH)
		return false;
	view_slots(b);
	b->slot_ep[i] = *ep;
	b->slot_buf[i] = buf;
	b->slot_len[i] = len;
	b->iov[i].iov_base = buf;
	b->iov[i].iov_len = len;
	b->count++;
	return true;
}

/* Same destination, and the same source chosen for it. */
static bool
same_route(const struct endpoint *a, const struct endpoint *b)
{
	if (!endpoint_same_remote(a, b) || a->has_src != b->has_src)
		return false;
	if (!a->has_src)
		return true;
	if (a->addr.sa.sa_family == AF_INET)
		return a->src.v4.ipi_ifindex == b->src.v4.ipi_ifindex &&
		       a->src.v4.ipi_spec_dst.s_addr ==
			       b->src.v4.ipi_spec_dst.s_addr;
	return a->src.v6.ipi6_ifindex == b->src.v6.ipi6_ifindex &&
	       memcmp(&a->src.v6.ipi6_addr, &b->src.v6.ipi6_addr,
		      sizeof(a->src.v6.ipi6_addr)) == 0;
}

/*
 * The run of datagrams from `first` that one UDP_SEGMENT message can carry:
 * same route, the length of the first (the last may be shorter, and ends
 * it), at most UDP_GSO_SEGMENTS and one IP packet's worth of payload.
 */
static unsigned int
run_length(const struct udp_batch *b, unsigned int first)
{
	const struct endpoint *ep = &b->slot_ep[first];
	size_t size = b->slot_len[first], total = size;
	size_t max = ep->addr.sa.sa_family == AF_INET6 ? PAYLOAD_MAX6
						       : PAYLOAD_MAX4;
	unsigned int n = 1;

	while (first + n < b->count && n < UDP_GSO_SEGMENTS) {
		size_t len = b->slot_len[first + n];

		if (!len || len > size || total + len > max ||
		    !same_route(ep, &b->slot_ep[first + n]))
			break;
		total += len;
		n++;
		if (len < size)
			break;
	}
	return n;
}

/* Message m: datagrams first..first+segs-1, as one run if segs > 1. */
static void
set_message(struct udp_batch *b, unsigned int m, unsigned int first,
	    unsigned int segs, bool with_src)
{
	struct msghdr *mh = &b->msgs[m].msg_hdr;
	struct endpoint *ep = &b->slot_ep[first];
	uint16_t gso_size = segs > 1 ? (uint16_t)b->slot_len[first] : 0;

	memset(mh, 0, sizeof(*mh));
	mh->msg_name = &ep->addr;
	mh->msg_namelen = endpoint_socklen(ep);
	mh->msg_iov = &b->iov[first];
	mh->msg_iovlen = segs;
	mh->msg_controllen = put_control(b->cmsg[m].bytes,
					 sizeof(b->cmsg[m].bytes), ep, with_src,
					 gso_size);
	mh->msg_control = mh->msg_controllen ? b->cmsg[m].bytes : NULL;
	b->msg_segs[m] = (uint8_t)segs;
	b->msg_has_src[m] = with_src && ep->has_src;
}

/* Messages for the datagrams from `from` on, those before `plain_to` one
 * per message; returns how many. Every one fits: a message holds one
 * datagram at least, and both count UDP_BATCH. */
static unsigned int
set_messages(struct udp_batch *b, unsigned int from, unsigned int plain_to,
	     bool gso)
{
	unsigned int m = 0;

	while (from < b->count) {
		unsigned int segs =
			gso && from >= plain_to ? run_length(b, from) : 1;

		set_message(b, m++, from, segs, true);
		from += segs;
	}
	return m;
}

static unsigned int
first_of(const struct udp_batch *b, unsigned int m)
{
	return (unsigned int)(b->msgs[m].msg_hdr.msg_iov - b->iov);
}

enum refusal {
	REFUSED_RETRY, /* message rebuilt: send it again */
	REFUSED_SPLIT, /* a run GSO cannot carry: send it one by one */
	REFUSED_DROP,
};

static enum refusal
refused(struct udp_batch *b, unsigned int m, int err)
{
	/* Our source address may be gone (roaming): let the kernel choose,
	 * once. For a run this comes first, since EINVAL may mean either. */
	if (src_is_stale(err) && b->msg_has_src[m]) {
		set_message(b, m, first_of(b, m), b->msg_segs[m], false);
		return REFUSED_RETRY;
	}
	if (b->msg_segs[m] > 1 && gso_refused(err))
		return REFUSED_SPLIT;
	return REFUSED_DROP;
}

unsigned int
udp_send_batch(int fd, struct udp_batch *b)
{
	bool gso = udp_offloads(fd) & UDP_OFFLOAD_GSO, run_sent = false;
	unsigned int from = 0, plain_to = 0, sent = 0;

	while (from < b->count) {
		unsigned int m = 0;
		unsigned int n_msgs = set_messages(b, from, plain_to, gso);

		from = b->count;
		while (m < n_msgs) {
			int n = sendmmsg(fd, b->msgs + m, n_msgs - m, 0), err;

			if (n > 0) {
				for (; n; n--, m++) {
					run_sent |= b->msg_segs[m] > 1;
					sent += b->msg_segs[m];
				}
				continue;
			}
			err = n < 0 ? errno : 0;
			if (err == EINTR)
				continue;
			switch (refused(b, m, err)) {
			case REFUSED_RETRY:
				continue;
			case REFUSED_SPLIT:
				/* This run goes again one datagram per
				 * message, then the rest as the socket's
				 * GSO now stands. */
				strike_gso(fd, err);
				gso = udp_offloads(fd) & UDP_OFFLOAD_GSO;
				from = first_of(b, m);
				plain_to = from + b->msg_segs[m];
				m = n_msgs;
				break;
			case REFUSED_DROP:
				m++;
				break;
			}
		}
	}
	if (run_sent)
		runs_passed(fd);
	b->count = 0;
	return sent;
}

int
udp_send(const struct udp *u, const struct endpoint *ep, const uint8_t *buf,
	 size_t len)
{
	union {
		struct cmsghdr align;
		uint8_t bytes[UDP_CMSG_LEN];
	} cmsg;
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
	mh.msg_controllen = put_control(cmsg.bytes, sizeof(cmsg.bytes), ep,
					true, 0);
	mh.msg_control = mh.msg_controllen ? cmsg.bytes : NULL;
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
