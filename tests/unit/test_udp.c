// SPDX-License-Identifier: MIT
/*
 * udp.c on real sockets over 127.0.0.1 and ::1, no privilege needed. Send:
 * a run of equal datagrams and a shorter last one reaches a plain receiver
 * as those datagrams, in order, byte for byte, and a receiver with UDP_GRO
 * on (which loopback hands whatever message was sent, uncut) shows it went
 * as one UDP_SEGMENT message; runs broken where the endpoint, the source
 * or a longer length changes, after a shorter one, and at one IP packet's
 * payload; a datagram the kernel refuses dropped and not counted. Receive:
 * coalesced reads (made with UDP_SEGMENT here, exactly as GRO delivers
 * them) split back into their datagrams with their sender, more of them
 * than UDP_BATCH. The switch: with offloads off, sockets get none, sends
 * are one datagram each, receives still right. Fallback: a socket whose
 * GSO the kernel refuses (SO_NO_CHECK / UDP_NO_CHECK6_TX: EINVAL, as for a
 * segment over the path MTU) loses nothing, and stops trying after
 * UDP_GSO_STRIKES refusals in a row, not while runs pass between;
 * a stale source address on a run is retried without it and keeps GSO.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "udp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define WAIT_MS 2000
#define DGRAM_MAX 1500
#define BIG_LEN 70000 /* over any UDP payload: the kernel refuses it */

static uint8_t data[UDP_BATCH][DGRAM_MAX];
static uint8_t big[BIG_LEN];
static struct udp_batch batch;
static uint8_t rx[UDP_READ_LEN];

/* A datagram's bytes: its tag (which datagram) at every position. */
static void
fill(uint8_t *buf, size_t len, unsigned int tag)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(tag * 37 + i * 7 + (i >> 8));
}

static void
assert_filled(const uint8_t *buf, size_t len, unsigned int tag)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != (uint8_t)(tag * 37 + i * 7 + (i >> 8)))
			fail_msg("datagram %u: byte %zu wrong", tag, i);
}

static bool
has_family(int family)
{
	int fd = socket(family, SOCK_DGRAM, 0);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static void
loopback(int family, struct endpoint *ep, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	if (family == AF_INET6) {
		ep->addr.in6.sin6_family = AF_INET6;
		ep->addr.in6.sin6_addr = in6addr_loopback;
		ep->addr.in6.sin6_port = port;
	} else {
		ep->addr.in4.sin_family = AF_INET;
		ep->addr.in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ep->addr.in4.sin_port = port;
	}
}

static uint16_t
port_of(int fd)
{
	struct endpoint ep;
	socklen_t len = sizeof(ep.addr);

	assert_int_equal(getsockname(fd, &ep.addr.sa, &len), 0);
	return endpoint_port(&ep);
}

/* A receiver of our own on the loopback address (its port in *ep),
 * with UDP_GRO if gro, with room for what a test sends. */
static int
receiver(int family, bool gro, struct endpoint *ep)
{
	int fd = socket(family, SOCK_DGRAM, 0), one = 1, size = 4 << 20;
	socklen_t len = sizeof(ep->addr);

	assert_true(fd >= 0);
	loopback(family, ep, 0);
	assert_int_equal(bind(fd, &ep->addr.sa, endpoint_socklen(ep)), 0);
	assert_int_equal(getsockname(fd, &ep->addr.sa, &len), 0);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (gro)
		assert_int_equal(setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one,
					    sizeof(one)),
				 0);
	return fd;
}

/* One read (waiting up to WAIT_MS): its length, and its segment size if
 * the kernel handed a coalesced one (else 0); its sender into *from if
 * asked. -1 when nothing came. */
static ssize_t
read_from(int fd, size_t *gso_size, struct endpoint *from)
{
	union {
		struct cmsghdr align;
		uint8_t bytes[128];
	} cmsg;
	struct iovec iov = { .iov_base = rx, .iov_len = sizeof(rx) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cmsg.bytes,
		.msg_controllen = sizeof(cmsg.bytes),
	};
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct cmsghdr *c;
	ssize_t n;

	if (from) {
		mh.msg_name = &from->addr;
		mh.msg_namelen = sizeof(from->addr);
	}
	*gso_size = 0;
	if (poll(&p, 1, WAIT_MS) != 1)
		return -1;
	n = recvmsg(fd, &mh, MSG_DONTWAIT);
	assert_false(mh.msg_flags & MSG_TRUNC);
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
			int v;

			memcpy(&v, CMSG_DATA(c), sizeof(v));
			*gso_size = (size_t)v;
		}
	return n;
}

static ssize_t
read_one(int fd, size_t *gso_size)
{
	return read_from(fd, gso_size, NULL);
}

/* Nothing more arrives within a short wait. */
static void
assert_quiet(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	assert_int_equal(poll(&p, 1, 50), 0);
}

/* The datagrams of one read, cut as udp.c must cut them: each checked
 * against the next expected tag and length. Returns the next index. */
static unsigned int
expect_read_datagrams(size_t n, size_t gso_size, const unsigned int *tags,
		      const size_t *lens, unsigned int next, unsigned int want)
{
	size_t off = 0, seg = gso_size ? gso_size : n;

	while (off < n) {
		size_t len = n - off < seg ? n - off : seg;

		assert_true(next < want);
		assert_int_equal(len, lens[next]);
		assert_filled(rx + off, len, tags[next]);
		next++;
		off += len;
	}
	return next;
}

/* Plain datagrams, one per read, exactly tags/lens in order. */
static void
expect_datagrams(int fd, const unsigned int *tags, const size_t *lens,
		 unsigned int want)
{
	unsigned int i;
	size_t gso_size;

	for (i = 0; i < want; i++) {
		ssize_t n = read_one(fd, &gso_size);

		if (n < 0)
			fail_msg("datagram %u of %u never came", i, want);
		assert_int_equal(gso_size, 0);
		assert_int_equal((size_t)n, lens[i]);
		assert_filled(rx, (size_t)n, tags[i]);
	}
	assert_quiet(fd);
}

/* Reads as a UDP_GRO receiver sees them: reads[i] is the number of
 * datagrams in read i (1: a plain read, no segment size). */
static void
expect_reads(int fd, const unsigned int *tags, const size_t *lens,
	     unsigned int want, const unsigned int *reads, unsigned int n_reads)
{
	unsigned int r, next = 0;
	size_t gso_size;

	for (r = 0; r < n_reads; r++) {
		ssize_t n = read_one(fd, &gso_size);
		unsigned int before = next;

		if (n < 0)
			fail_msg("read %u of %u never came", r, n_reads);
		if (reads[r] > 1)
			assert_int_equal(gso_size, lens[next]);
		else
			assert_true(gso_size == 0 || gso_size >= (size_t)n);
		next = expect_read_datagrams((size_t)n, gso_size, tags, lens,
					     next, want);
		assert_int_equal(next - before, reads[r]);
	}
	assert_int_equal(next, want);
	assert_quiet(fd);
}

/* Queues datagram i (tag i) of len bytes for ep. */
static void
queue(const struct endpoint *ep, unsigned int i, size_t len)
{
	fill(data[i], len, i);
	assert_true(udp_batch_add(&batch, ep, data[i], len));
}

/* 40 of 1200 bytes and one of 500: tags 0..40. */
static unsigned int
queue_run41(const struct endpoint *ep, unsigned int tags[], size_t lens[])
{
	unsigned int i;

	for (i = 0; i < 41; i++) {
		tags[i] = i;
		lens[i] = i < 40 ? 1200 : 500;
		queue(ep, i, lens[i]);
	}
	return 41;
}

static int
sender(struct udp *u, int family)
{
	assert_int_equal(udp_open_client(u, family), 0);
	return family == AF_INET6 ? u->fd6 : u->fd4;
}

static void
need_gso(int fd)
{
	if (!(udp_offloads(fd) & UDP_OFFLOAD_GSO))
		skip();
}

static int
fresh_batch(void **state)
{
	(void)state;
	memset(&batch, 0, sizeof(batch));
	return 0;
}

/* ---- send ------------------------------------------------------------------ */

static void
run_to_plain_receiver(int family)
{
	unsigned int tags[UDP_BATCH], n;
	size_t lens[UDP_BATCH];
	struct endpoint to;
	struct udp u;
	int fd, rfd;

	if (!has_family(family))
		skip();
	fd = sender(&u, family);
	rfd = receiver(family, false, &to);
	n = queue_run41(&to, tags, lens);
	assert_int_equal(udp_send_batch(fd, &batch), 41);
	assert_int_equal(batch.count, 0);
	expect_datagrams(rfd, tags, lens, n);
	close(rfd);
	udp_close(&u);
}

static void
test_run_to_plain_receiver4(void **state)
{
	(void)state;
	run_to_plain_receiver(AF_INET);
}

static void
test_run_to_plain_receiver6(void **state)
{
	(void)state;
	run_to_plain_receiver(AF_INET6);
}

/* Loopback hands a UDP_GRO socket the message as sent: one read. */
static void
test_run_is_one_message(void **state)
{
	static const unsigned int reads[] = { 41 };
	unsigned int tags[UDP_BATCH], n;
	size_t lens[UDP_BATCH];
	struct endpoint to;
	struct udp u;
	int fd, rfd;

	(void)state;
	fd = sender(&u, AF_INET);
	need_gso(fd);
	rfd = receiver(AF_INET, true, &to);
	n = queue_run41(&to, tags, lens);
	assert_int_equal(udp_send_batch(fd, &batch), 41);
	expect_reads(rfd, tags, lens, n, reads, ARRAY_SIZE(reads));
	assert_true(udp_offloads(fd) & UDP_OFFLOAD_GSO);
	close(rfd);
	udp_close(&u);
}

/* 64 of 1100 bytes: 59 fill one IPv4 packet's 65507 bytes of payload. */
static void
test_run_cut_at_packet_payload(void **state)
{
	static const unsigned int reads[] = { 59, 5 };
	unsigned int tags[UDP_BATCH], i;
	size_t lens[UDP_BATCH];
	struct endpoint to;
	struct udp u;
	int fd, rfd;

	(void)state;
	fd = sender(&u, AF_INET);
	need_gso(fd);
	rfd = receiver(AF_INET, true, &to);
	for (i = 0; i < UDP_BATCH; i++) {
		tags[i] = i;
		lens[i] = 1100;
		queue(&to, i, lens[i]);
	}
	assert_int_equal(udp_send_batch(fd, &batch), UDP_BATCH);
	expect_reads(rfd, tags, lens, UDP_BATCH, reads, ARRAY_SIZE(reads));
	close(rfd);
	udp_close(&u);
}

/*
 * Two receivers, lengths that start and end runs, a datagram no socket
 * can send: each receiver sees its datagrams in order, in the runs the
 * rules make, and the count leaves the refused one out.
 */
static void
test_mixed_endpoints_and_lengths(void **state)
{
	static const struct {
		int to; /* 0: A, 1: B, 2: A but too big to send */
		size_t len;
	} plan[] = {
		{ 0, 1000 }, { 0, 1000 }, { 0, 1000 }, { 0, 600 }, /* run, shorter end */
		{ 0, 1000 }, { 0, 1000 },                       /* run */
		{ 1, 1000 }, { 1, 1000 }, { 1, 900 },           /* B's run */
		{ 0, 1000 },                                    /* alone: B next */
		{ 1, 300 },                                     /* alone */
		{ 0, 800 }, { 0, 1200 }, { 0, 1200 },           /* longer: new run */
		{ 2, BIG_LEN },                                 /* refused */
		{ 0, 1200 }, { 0, 1200 },                       /* a run again */
	};
	/* Reads per receiver, in datagrams. */
	static const unsigned int reads_a[] = { 4, 2, 1, 1, 2, 2 };
	static const unsigned int reads_b[] = { 3, 1 };
	unsigned int tags_a[UDP_BATCH], tags_b[UDP_BATCH], na = 0, nb = 0, i;
	size_t lens_a[UDP_BATCH], lens_b[UDP_BATCH];
	struct endpoint a, b;
	struct udp u;
	int fd, ra, rb;

	(void)state;
	fd = sender(&u, AF_INET);
	need_gso(fd);
	ra = receiver(AF_INET, true, &a);
	rb = receiver(AF_INET, true, &b);
	for (i = 0; i < ARRAY_SIZE(plan); i++) {
		if (plan[i].to == 2) {
			assert_true(udp_batch_add(&batch, &a, big, BIG_LEN));
			continue;
		}
		queue(plan[i].to ? &b : &a, i, plan[i].len);
		if (plan[i].to) {
			tags_b[nb] = i;
			lens_b[nb++] = plan[i].len;
		} else {
			tags_a[na] = i;
			lens_a[na++] = plan[i].len;
		}
	}
	assert_int_equal(udp_send_batch(fd, &batch), ARRAY_SIZE(plan) - 1);
	expect_reads(ra, tags_a, lens_a, na, reads_a, ARRAY_SIZE(reads_a));
	expect_reads(rb, tags_b, lens_b, nb, reads_b, ARRAY_SIZE(reads_b));
	/* A refusal that is not GSO's keeps GSO. */
	assert_true(udp_offloads(fd) & UDP_OFFLOAD_GSO);
	close(ra);
	close(rb);
	udp_close(&u);
}

/* Over IPv6, and from two sockets' worth of endpoints on one socket. */
static void
test_mixed_ipv6(void **state)
{
	static const unsigned int reads_a[] = { 3, 1 };
	static const unsigned int reads_b[] = { 2 };
	unsigned int tags_a[4] = { 0, 1, 2, 5 }, tags_b[2] = { 3, 4 };
	size_t lens_a[4] = { 1280, 1280, 1280, 1280 }, lens_b[2] = { 700, 20 };
	struct endpoint a, b;
	struct udp u;
	int fd, ra, rb;

	(void)state;
	if (!has_family(AF_INET6))
		skip();
	fd = sender(&u, AF_INET6);
	need_gso(fd);
	ra = receiver(AF_INET6, true, &a);
	rb = receiver(AF_INET6, true, &b);
	queue(&a, 0, 1280);
	queue(&a, 1, 1280);
	queue(&a, 2, 1280);
	queue(&b, 3, 700);
	queue(&b, 4, 20);
	queue(&a, 5, 1280);
	assert_int_equal(udp_send_batch(fd, &batch), 6);
	expect_reads(ra, tags_a, lens_a, 4, reads_a, ARRAY_SIZE(reads_a));
	expect_reads(rb, tags_b, lens_b, 2, reads_b, ARRAY_SIZE(reads_b));
	close(ra);
	close(rb);
	udp_close(&u);
}

/*
 * One destination from two source addresses (127.0.0.1 and 127.0.0.2,
 * both the host's): a run per source, each leaving from its own.
 */
static void
test_source_change_breaks_run(void **state)
{
	struct endpoint to, from1, from2, got;
	unsigned int i;
	size_t gso_size;
	struct udp u;
	int fd, rfd;

	(void)state;
	fd = sender(&u, AF_INET);
	need_gso(fd);
	rfd = receiver(AF_INET, true, &to);
	from1 = from2 = to;
	from1.has_src = from2.has_src = true;
	memset(&from1.src.v4, 0, sizeof(from1.src.v4));
	memset(&from2.src.v4, 0, sizeof(from2.src.v4));
	from1.src.v4.ipi_spec_dst.s_addr = htonl(0x7f000001);
	from2.src.v4.ipi_spec_dst.s_addr = htonl(0x7f000002);
	for (i = 0; i < 6; i++)
		queue(i < 3 ? &from1 : &from2, i, 1000);
	assert_int_equal(udp_send_batch(fd, &batch), 6);
	for (i = 0; i < 2; i++) {
		assert_int_equal(read_from(rfd, &gso_size, &got), 3000);
		assert_int_equal(gso_size, 1000);
		assert_int_equal(ntohl(got.addr.in4.sin_addr.s_addr),
				 i ? 0x7f000002 : 0x7f000001);
		expect_read_datagrams(3000, gso_size,
				      (const unsigned int[]){ 3 * i, 3 * i + 1,
							      3 * i + 2 },
				      (const size_t[]){ 1000, 1000, 1000 }, 0,
				      3);
	}
	assert_quiet(rfd);
	close(rfd);
	udp_close(&u);
}

/* ---- receive --------------------------------------------------------------- */

/* Sends `segs` datagrams tagged from `tag` as one UDP_SEGMENT message of
 * segment size seg (the last one last_len long), as a GRO read comes. */
static void
send_coalesced(int fd, const struct endpoint *to, unsigned int tag,
	       unsigned int segs, uint16_t seg, size_t last_len)
{
	static uint8_t msg[UDP_READ_LEN];
	union {
		struct cmsghdr align;
		uint8_t bytes[CMSG_SPACE(sizeof(uint16_t))];
	} cmsg;
	struct iovec iov = { .iov_base = msg };
	struct msghdr mh = {
		.msg_name = (void *)&to->addr,
		.msg_namelen = endpoint_socklen(to),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cmsg.bytes,
		.msg_controllen = sizeof(cmsg.bytes),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	unsigned int i;
	size_t off = 0;

	for (i = 0; i < segs; i++) {
		size_t len = i + 1 < segs ? seg : last_len;

		fill(msg + off, len, tag + i);
		off += len;
	}
	iov.iov_len = off;
	memset(cmsg.bytes, 0, sizeof(cmsg.bytes));
	c->cmsg_level = IPPROTO_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(c), &seg, sizeof(seg));
	if (segs == 1)
		mh.msg_control = NULL, mh.msg_controllen = 0;
	assert_int_equal(sendmsg(fd, &mh, 0), (ssize_t)off);
}

static int
raw_sender(int family, uint16_t *port)
{
	struct endpoint ep;
	int fd = socket(family, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	loopback(family, &ep, 0);
	assert_int_equal(bind(fd, &ep.addr.sa, endpoint_socklen(&ep)), 0);
	*port = port_of(fd);
	return fd;
}

/* Receives until `want` datagrams came (bounded), appending to the
 * arrays; fails on more. */
static void
receive_all(int fd, struct udp_batch *b, unsigned int want, uint8_t **bufs,
	    size_t *lens, struct endpoint *eps)
{
	unsigned int got = 0, i, tries;

	for (tries = 0; got < want && tries < 40; tries++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n;

		if (poll(&p, 1, WAIT_MS / 40) != 1)
			continue;
		n = udp_recv_batch(fd, b);
		assert_true(n >= 0);
		assert_int_equal(b->count, (unsigned int)n);
		for (i = 0; i < (unsigned int)n; i++) {
			assert_true(got < want);
			bufs[got] = b->buf[i];
			lens[got] = b->len[i];
			eps[got++] = b->ep[i];
		}
	}
	assert_int_equal(got, want);
}

/*
 * A GRO socket of ours: three coalesced reads (one of 64 datagrams, the
 * kernel's most), a plain datagram from another sender between them, all
 * split into 81 datagrams (more than UDP_BATCH) with their sender and the
 * address they came to, though the caller's buffers are small.
 */
static void
test_gro_reads_split(void **state)
{
	enum { WANT = 64 + 11 + 1 + 5 };
	static uint8_t *bufs[WANT];
	static size_t lens[WANT];
	static struct endpoint eps[WANT];
	struct udp_buffers rxb;
	struct endpoint to;
	struct udp srv;
	uint16_t p1, p2;
	unsigned int i;
	int s1, s2;

	(void)state;
	assert_int_equal(udp_open_server(&srv, 0), 0);
	if (!(udp_offloads(srv.fd4) & UDP_OFFLOAD_GRO)) {
		udp_close(&srv);
		skip();
	}
	assert_int_equal(udp_buffers_alloc(&rxb, 1600), 0);
	assert_int_equal(udp_batch_receive_into(&batch, &rxb), 0);
	loopback(AF_INET, &to, htons(port_of(srv.fd4)));
	s1 = raw_sender(AF_INET, &p1);
	s2 = raw_sender(AF_INET, &p2);
	send_coalesced(s1, &to, 0, 64, 1000, 1000);
	send_coalesced(s1, &to, 64, 11, 1000, 300);
	send_coalesced(s2, &to, 75, 1, 700, 700);
	send_coalesced(s1, &to, 76, 5, 1400, 1400);
	receive_all(srv.fd4, &batch, WANT, bufs, lens, eps);
	for (i = 0; i < WANT; i++) {
		size_t want_len = i < 64 ? 1000 : i < 74 ? 1000 : i == 74 ? 300 :
				  i == 75 ? 700 : 1400;

		assert_int_equal(lens[i], want_len);
		assert_filled(bufs[i], lens[i], i);
		assert_int_equal(endpoint_port(&eps[i]), i == 75 ? p2 : p1);
		assert_true(eps[i].has_src);
		assert_int_equal(eps[i].src.v4.ipi_addr.s_addr,
				 htonl(INADDR_LOOPBACK));
	}
	close(s1);
	close(s2);
	udp_buffers_free(&rxb);
	udp_close(&srv);
}

/* The same over IPv6, with the datagrams udp_send_batch makes. */
static void
test_gro_ipv6_from_our_sender(void **state)
{
	enum { WANT = 41 };
	static uint8_t *bufs[WANT];
	static size_t lens[WANT];
	static struct endpoint eps[WANT];
	static struct udp_batch tx;
	struct udp_buffers rxb;
	struct endpoint to;
	struct udp srv, cli;
	unsigned int i;
	int fd;

	(void)state;
	if (!has_family(AF_INET6))
		skip();
	assert_int_equal(udp_open_server(&srv, 0), 0);
	fd = sender(&cli, AF_INET6);
	if (!(udp_offloads(srv.fd6) & UDP_OFFLOAD_GRO)) {
		udp_close(&srv);
		udp_close(&cli);
		skip();
	}
	assert_int_equal(udp_buffers_alloc(&rxb, 1600), 0);
	assert_int_equal(udp_batch_receive_into(&batch, &rxb), 0);
	loopback(AF_INET6, &to, htons(port_of(srv.fd6)));
	for (i = 0; i < WANT; i++) {
		fill(data[i], i < 40 ? 1200 : 500, i);
		assert_true(udp_batch_add(&tx, &to, data[i], i < 40 ? 1200 : 500));
	}
	assert_int_equal(udp_send_batch(fd, &tx), WANT);
	receive_all(srv.fd6, &batch, WANT, bufs, lens, eps);
	for (i = 0; i < WANT; i++) {
		assert_int_equal(lens[i], i < 40 ? 1200 : 500);
		assert_filled(bufs[i], lens[i], i);
		assert_int_equal(endpoint_port(&eps[i]), port_of(fd));
		assert_true(eps[i].has_src);
	}
	udp_buffers_free(&rxb);
	udp_close(&cli);
	udp_close(&srv);
}

/* ---- the switch ------------------------------------------------------------ */

static int
offload_back_on(void **state)
{
	(void)state;
	udp_set_offload(true);
	return 0;
}

/*
 * Offloads off: no socket gets one; a run goes as 41 plain datagrams (a
 * GRO receiver sees no message of several); a coalesced message sent to
 * our socket reaches it cut by the kernel, each datagram once.
 */
static void
test_offload_off(void **state)
{
	static unsigned int reads[41];
	static uint8_t *bufs[11];
	static size_t lens_rx[11];
	static struct endpoint eps[11];
	unsigned int tags[UDP_BATCH], n, i;
	size_t lens[UDP_BATCH];
	struct udp_buffers rxb;
	struct endpoint to;
	struct udp u, srv;
	uint16_t port;
	int fd, rfd, s;

	(void)state;
	udp_set_offload(false);
	fd = sender(&u, AF_INET);
	assert_int_equal(udp_open_server(&srv, 0), 0);
	assert_int_equal(udp_offloads(fd), 0);
	assert_int_equal(udp_offloads(srv.fd4), 0);
	if (srv.fd6 >= 0)
		assert_int_equal(udp_offloads(srv.fd6), 0);

	rfd = receiver(AF_INET, true, &to);
	n = queue_run41(&to, tags, lens);
	for (i = 0; i < n; i++)
		reads[i] = 1;
	assert_int_equal(udp_send_batch(fd, &batch), 41);
	expect_reads(rfd, tags, lens, n, reads, n);

	assert_int_equal(udp_buffers_alloc(&rxb, 1600), 0);
	assert_int_equal(udp_batch_receive_into(&batch, &rxb), 0);
	s = raw_sender(AF_INET, &port);
	loopback(AF_INET, &to, htons(port_of(srv.fd4)));
	send_coalesced(s, &to, 0, 11, 1000, 300);
	receive_all(srv.fd4, &batch, 11, bufs, lens_rx, eps);
	for (i = 0; i < 11; i++) {
		assert_int_equal(lens_rx[i], i < 10 ? 1000 : 300);
		assert_filled(bufs[i], lens_rx[i], i);
		assert_int_equal(endpoint_port(&eps[i]), port);
	}
	close(s);
	close(rfd);
	udp_buffers_free(&rxb);
	udp_close(&srv);
	udp_close(&u);
}

/* ---- fallback -------------------------------------------------------------- */

static void
set_no_check(int fd, int family, int on)
{
	if (family == AF_INET6)
		assert_int_equal(setsockopt(fd, IPPROTO_UDP, UDP_NO_CHECK6_TX,
					    &on, sizeof(on)),
				 0);
	else
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &on,
					    sizeof(on)),
				 0);
}

/* Sends the run of 41 `times` times: each time all arrive, one by one. */
static void
send_runs_one_by_one(int fd, int rfd, const struct endpoint *to,
		     unsigned int times)
{
	unsigned int tags[UDP_BATCH], n;
	size_t lens[UDP_BATCH];

	while (times--) {
		n = queue_run41(to, tags, lens);
		assert_int_equal(udp_send_batch(fd, &batch), 41);
		expect_datagrams(rfd, tags, lens, n);
	}
}

/*
 * A socket without UDP checksums cannot segment: the kernel says EINVAL to
 * every UDP_SEGMENT message (as to a segment over the path's MTU). Each
 * refused run goes one by one, nothing lost; GSO stays while a run passes
 * between refusals, and goes after UDP_GSO_STRIKES of them in a row.
 */
static void
gso_refused(int family)
{
	static const uint16_t seg = 1000;
	union {
		struct cmsghdr align;
		uint8_t bytes[CMSG_SPACE(sizeof(uint16_t))];
	} cmsg;
	struct iovec iov = { .iov_base = big, .iov_len = 2 * seg };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cmsg.bytes,
		.msg_controllen = sizeof(cmsg.bytes),
	};
	struct endpoint to;
	struct cmsghdr *c;
	struct udp u;
	int fd, rfd, one = 1;

	if (!has_family(family))
		skip();
	fd = sender(&u, family);
	need_gso(fd);
	rfd = receiver(family, false, &to);
	if (family == AF_INET6)
		assert_int_equal(setsockopt(rfd, IPPROTO_UDP, UDP_NO_CHECK6_RX,
					    &one, sizeof(one)),
				 0);
	set_no_check(fd, family, 1);
	/* The premise: the kernel refuses GSO on this socket. */
	mh.msg_name = &to.addr;
	mh.msg_namelen = endpoint_socklen(&to);
	memset(cmsg.bytes, 0, sizeof(cmsg.bytes));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = IPPROTO_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(c), &seg, sizeof(seg));
	assert_int_equal(sendmsg(fd, &mh, 0), -1);
	assert_int_equal(errno, EINVAL);

	send_runs_one_by_one(fd, rfd, &to, UDP_GSO_STRIKES - 1);
	assert_true(udp_offloads(fd) & UDP_OFFLOAD_GSO);
	/* A run that passes wipes the slate. */
	set_no_check(fd, family, 0);
	send_runs_one_by_one(fd, rfd, &to, 1);
	set_no_check(fd, family, 1);
	send_runs_one_by_one(fd, rfd, &to, UDP_GSO_STRIKES - 1);
	assert_true(udp_offloads(fd) & UDP_OFFLOAD_GSO);
	send_runs_one_by_one(fd, rfd, &to, 1);
	assert_false(udp_offloads(fd) & UDP_OFFLOAD_GSO);
	/* And from then on without trying. */
	send_runs_one_by_one(fd, rfd, &to, 2);
	close(rfd);
	udp_close(&u);
}

static void
test_gso_refused4(void **state)
{
	(void)state;
	gso_refused(AF_INET);
}

static void
test_gso_refused6(void **state)
{
	(void)state;
	gso_refused(AF_INET6);
}

/*
 * Roaming: a run from a source address the host no longer has fails with
 * EINVAL, as a refused GSO may. Sent again without the source, it passes
 * as a run: GSO was not the fault and stays on.
 */
static void
test_stale_source_keeps_gso(void **state)
{
	static const unsigned int reads[] = { 41 };
	unsigned int tags[UDP_BATCH], n;
	size_t lens[UDP_BATCH];
	struct endpoint to;
	struct udp u;
	int fd, rfd;

	(void)state;
	fd = sender(&u, AF_INET);
	need_gso(fd);
	rfd = receiver(AF_INET, true, &to);
	to.has_src = true;
	memset(&to.src.v4, 0, sizeof(to.src.v4));
	to.src.v4.ipi_spec_dst.s_addr = htonl(0xc0000201); /* 192.0.2.1 */
	n = queue_run41(&to, tags, lens);
	assert_int_equal(udp_send_batch(fd, &batch), 41);
	expect_reads(rfd, tags, lens, n, reads, ARRAY_SIZE(reads));
	assert_true(udp_offloads(fd) & UDP_OFFLOAD_GSO);
	close(rfd);
	udp_close(&u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_run_to_plain_receiver4, fresh_batch),
		cmocka_unit_test_setup(test_run_to_plain_receiver6, fresh_batch),
		cmocka_unit_test_setup(test_run_is_one_message, fresh_batch),
		cmocka_unit_test_setup(test_run_cut_at_packet_payload, fresh_batch),
		cmocka_unit_test_setup(test_mixed_endpoints_and_lengths, fresh_batch),
		cmocka_unit_test_setup(test_mixed_ipv6, fresh_batch),
		cmocka_unit_test_setup(test_source_change_breaks_run,
				       fresh_batch),
		cmocka_unit_test_setup(test_gro_reads_split, fresh_batch),
		cmocka_unit_test_setup(test_gro_ipv6_from_our_sender, fresh_batch),
		cmocka_unit_test_setup_teardown(test_offload_off, fresh_batch,
						offload_back_on),
		cmocka_unit_test_setup(test_gso_refused4, fresh_batch),
		cmocka_unit_test_setup(test_gso_refused6, fresh_batch),
		cmocka_unit_test_setup(test_stale_source_keeps_gso, fresh_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
