// SPDX-License-Identifier: MIT
/*
 * tunio.c over a stand-in device: an AF_UNIX SOCK_SEQPACKET pair keeps
 * every read and write one message, as a TUN device does, and cuts a
 * message longer than the reader's buffers as it does. The recorded
 * super-packets (tests/vectors/offload) read through tunio and cut a few
 * segments at a time come out exactly as Linux cut them, whatever the
 * number of buffers and whether the read fitted the caller's buffer;
 * cut to a smaller MTU they are what offload.c makes of the same read
 * with that segment size; a partial checksum is completed and a long
 * single packet cut as read() cuts it; writes coalesce a flow's segments
 * into one write that segments back into them, flush a full batch by
 * themselves, and carry the header (or none) as the device was opened.
 */
#include <errno.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "offload.h"
#include "tunio.h"

#define VEC_MAX_RECS 128
#define SEG_CAP 9000
#define HEADROOM 16
#define BIG (OFFLOAD_VNET_HDR_LEN + OFFLOAD_PKT_MAX)

static const char *const vectors[] = {
	"tcp4-first.bin", "tcp4-large.bin", "tcp4-push.bin", "tcp4-csum.bin",
	"tcp6-first.bin", "tcp6-large.bin", "tcp6-push.bin", "tcp6-csum.bin",
	"udp4.bin",	  "udp6.bin",
};

struct vec {
	uint8_t *data;
	size_t n;
	const uint8_t *rec[VEC_MAX_RECS];
	size_t len[VEC_MAX_RECS];
};

struct fixture {
	struct tunio t;
	int peer;                          /* the "kernel" end */
	uint8_t *segs[VEC_MAX_RECS];       /* the caller's buffers */
	size_t lens[VEC_MAX_RECS];
	uint8_t *slot;                     /* a read's buffer, HEADROOM in */
	uint8_t *msg;                      /* a message read back */
};

static void
vec_load(const char *name, struct vec *v)
{
	const char *dir = getenv("OFFLOAD_VECTORS");
	char path[1024];
	size_t off = 0, l, size;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s",
		 dir ? dir : "tests/vectors/offload", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = (size_t)ftell(f);
	rewind(f);
	v->data = malloc(size);
	assert_non_null(v->data);
	assert_int_equal(fread(v->data, 1, size, f), size);
	fclose(f);
	v->n = 0;
	while (off < size) {
		l = (size_t)v->data[off] << 24 | (size_t)v->data[off + 1] << 16 |
		    (size_t)v->data[off + 2] << 8 | v->data[off + 3];
		assert_true(off + 4 + l <= size && v->n < VEC_MAX_RECS);
		v->rec[v->n] = v->data + off + 4;
		v->len[v->n++] = l;
		off += 4 + l;
	}
	assert_true(v->n >= 2);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int sv[2], size = 1 << 20;
	size_t i;

	assert_non_null(f);
	assert_int_equal(tunio_init(&f->t), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK,
				    0, sv),
			 0);
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size,
				    sizeof(size)),
			 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size,
				    sizeof(size)),
			 0);
	f->t.fd = sv[0];
	f->peer = sv[1];
	f->t.off.has_vnet = true;
	f->t.off.flags = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	f->t.is_coalescing = true;
	for (i = 0; i < VEC_MAX_RECS; i++) {
		f->segs[i] = malloc(SEG_CAP);
		assert_non_null(f->segs[i]);
	}
	f->slot = malloc(HEADROOM + SEG_CAP + 1);
	f->msg = malloc(BIG + 1);
	assert_true(f->slot && f->msg);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	size_t i;

	tunio_free(&f->t);
	close(f->peer);
	for (i = 0; i < VEC_MAX_RECS; i++)
		free(f->segs[i]);
	free(f->slot);
	free(f->msg);
	free(f);
	return 0;
}

/* The kernel hands a read to the device. */
static void
kernel_sends(struct fixture *f, const uint8_t *buf, size_t len)
{
	assert_int_equal(send(f->peer, buf, len, 0), (ssize_t)len);
}

/* The next message the device was written, or 0 if none. */
static size_t
kernel_takes(struct fixture *f)
{
	ssize_t n = recv(f->peer, f->msg, BIG + 1, MSG_DONTWAIT);

	if (n < 0) {
		assert_int_equal(errno, EAGAIN);
		return 0;
	}
	return (size_t)n;
}

/* What forwarding did to the recorded packets, done to ours: TTL or
 * hop limit one lower, and IPv4's header checksum summed again. */
static void
forwarded(uint8_t *pkt)
{
	size_t hl = (size_t)(pkt[0] & 15) * 4, i;
	uint32_t sum = 0;

	if (pkt[0] >> 4 != 4) {
		pkt[7]--;
		return;
	}
	pkt[8]--;
	pkt[10] = pkt[11] = 0;
	for (i = 0; i < hl; i += 2)
		sum += (uint32_t)(pkt[i] << 8 | pkt[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	pkt[10] = (uint8_t)(~sum >> 8);
	pkt[11] = (uint8_t)~sum;
}

/* Reads v's first record through tunio (cap bytes of packet), cuts it n
 * buffers at a time, and compares with what Linux made of it. */
static void
check_cut(struct fixture *f, const struct vec *v, size_t cap, size_t n)
{
	uint8_t *pkt = f->slot + HEADROOM, expect[SEG_CAP];
	size_t len, got = 0, k, i;
	enum tunio_rx r;

	kernel_sends(f, v->rec[0], v->len[0]);
	r = tunio_read(&f->t, pkt, cap, &len);
	if (r == TUNIO_RX_PACKET) {
		/* A single packet, its checksum completed in place. */
		assert_int_equal(v->n, 2);
		assert_int_equal(len, v->len[1]);
		memcpy(expect, pkt, len);
		forwarded(expect);
		assert_memory_equal(expect, v->rec[1], len);
		return;
	}
	assert_int_equal(r, TUNIO_RX_SUPER);
	assert_int_equal(f->t.super.segs, v->n - 1);
	while ((k = tunio_cut(&f->t, f->segs + got, SEG_CAP, n, f->lens + got)))
		got += k;
	assert_int_equal(got, v->n - 1);
	for (i = 0; i < got; i++) {
		assert_int_equal(f->lens[i], v->len[i + 1]);
		memcpy(expect, f->segs[i], f->lens[i]);
		forwarded(expect);
		assert_memory_equal(expect, v->rec[i + 1], f->lens[i]);
	}
	assert_false(f->t.has_super);
}

static void
test_cut_as_linux(void **state)
{
	static const size_t ns[] = { 1, 2, 3, 7, 64 };
	static const size_t caps[] = { 1441, 9001, 1281 };
	struct fixture *f = *state;
	size_t i, j, c;
	struct vec v;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		vec_load(vectors[i], &v);
		for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++)
			for (j = 0; j < sizeof(ns) / sizeof(ns[0]); j++)
				check_cut(f, &v, caps[c], ns[j]);
		free(v.data);
	}
	assert_int_equal(f->t.stats.rx_refused, 0);
	assert_true(f->t.stats.rx_super > 0 && f->t.stats.rx_csum > 0);
}

/* tunio_fit: a TCP super-packet cut to mtu is what offload.c makes of
 * the same read with the segment size that fills mtu. */
static void
check_fit(struct fixture *f, const struct vec *v, size_t mtu, size_t n)
{
	uint8_t *pkt = f->slot + HEADROOM, *copy = malloc(v->len[0]);
	static uint8_t *ref[VEC_MAX_RECS];
	size_t len, got = 0, k, i, ref_len[VEC_MAX_RECS];
	struct offload_pkt p;

	assert_non_null(copy);
	memcpy(copy, v->rec[0], v->len[0]);
	assert_int_equal(offload_parse(copy, v->len[0], &p), OFFLOAD_OK);
	/* The reference: the header's gso_size changed, segmented whole. */
	copy[4] = (uint8_t)(mtu - p.hdr_len);
	copy[5] = (uint8_t)((mtu - p.hdr_len) >> 8);
	assert_int_equal(offload_parse(copy, v->len[0], &p), OFFLOAD_OK);
	assert_true(p.segs <= VEC_MAX_RECS);
	for (i = 0; i < p.segs; i++) {
		ref[i] = malloc(SEG_CAP);
		assert_non_null(ref[i]);
	}
	assert_int_equal(offload_segment(&p, ref, SEG_CAP, p.segs, ref_len),
			 OFFLOAD_OK);

	kernel_sends(f, v->rec[0], v->len[0]);
	assert_int_equal(tunio_read(&f->t, pkt, 1441, &len), TUNIO_RX_SUPER);
	assert_true(tunio_fit(&f->t, mtu));
	while ((k = tunio_cut(&f->t, f->segs + got, SEG_CAP, n, f->lens + got)))
		got += k;
	assert_int_equal(got, p.segs);
	for (i = 0; i < got; i++) {
		assert_true(f->lens[i] <= mtu);
		assert_int_equal(f->lens[i], ref_len[i]);
		assert_memory_equal(f->segs[i], ref[i], ref_len[i]);
		free(ref[i]);
	}
	free(copy);
}

static void
test_fit_mtu(void **state)
{
	struct fixture *f = *state;
	uint8_t *pkt = f->slot + HEADROOM;
	struct vec v;
	size_t len;

	vec_load("tcp4-large.bin", &v);
	check_fit(f, &v, 1280, 5);
	check_fit(f, &v, 700, 64);
	free(v.data);
	vec_load("tcp6-large.bin", &v);
	check_fit(f, &v, 1280, 11);
	free(v.data);
	/* No room for a byte of payload: refused, nothing held. */
	vec_load("tcp4-first.bin", &v);
	kernel_sends(f, v.rec[0], v.len[0]);
	assert_int_equal(tunio_read(&f->t, pkt, 1441, &len), TUNIO_RX_SUPER);
	assert_false(tunio_fit(&f->t, f->t.super.hdr_len));
	assert_false(f->t.has_super);
	assert_int_equal(tunio_cut(&f->t, f->segs, SEG_CAP, 8, f->lens), 0);
	free(v.data);
	/* UDP's segments are the sender's: left alone. */
	vec_load("udp4.bin", &v);
	kernel_sends(f, v.rec[0], v.len[0]);
	assert_int_equal(tunio_read(&f->t, pkt, 1441, &len), TUNIO_RX_SUPER);
	assert_true(tunio_fit(&f->t, 600));
	assert_int_equal(f->t.super.segs, v.n - 1);
	tunio_drop(&f->t);
	free(v.data);
}

/* Single packets: a long one cut as read() cuts it; a bad header
 * refused and counted; without the header, bytes as they come. */
static void
test_read_single(void **state)
{
	struct fixture *f = *state;
	uint8_t *pkt = f->slot + HEADROOM, in[OFFLOAD_VNET_HDR_LEN + 1500];
	size_t len;

	memset(in, 0, OFFLOAD_VNET_HDR_LEN);
	memset(in + OFFLOAD_VNET_HDR_LEN, 0x45, 1500);
	kernel_sends(f, in, sizeof(in));
	assert_int_equal(tunio_read(&f->t, pkt, 1001, &len), TUNIO_RX_PACKET);
	assert_int_equal(len, 1001);
	assert_memory_equal(pkt, in + OFFLOAD_VNET_HDR_LEN, 1001);

	in[0] = 0x80; /* an unknown flag */
	kernel_sends(f, in, sizeof(in));
	assert_int_equal(tunio_read(&f->t, pkt, 1441, &len), TUNIO_RX_REFUSED);
	assert_int_equal(f->t.stats.rx_refused_by[OFFLOAD_ERR_FLAGS], 1);
	assert_int_equal(tunio_read(&f->t, pkt, 1441, &len), TUNIO_RX_EMPTY);

	f->t.off.has_vnet = false;
	kernel_sends(f, in, 100);
	assert_int_equal(tunio_read(&f->t, pkt, 1441, &len), TUNIO_RX_PACKET);
	assert_int_equal(len, 100);
	assert_memory_equal(pkt, in, 100);
}

/* The kernel's segments of tcp4-large written through tunio: one write
 * that segments back into them. */
static void
test_write_coalesced(void **state)
{
	struct fixture *f = *state;
	struct offload_pkt p;
	size_t i, n, len;
	struct vec v;

	vec_load("tcp6-large.bin", &v);
	for (i = 1; i < v.n; i++)
		assert_int_equal(tunio_write(&f->t, v.rec[i], v.len[i]), 0);
	assert_int_equal(kernel_takes(f), 0); /* nothing before the flush */
	assert_int_equal(tunio_flush(&f->t), 0);
	len = kernel_takes(f);
	assert_int_equal(kernel_takes(f), 0);
	assert_int_equal(offload_parse(f->msg, len, &p), OFFLOAD_OK);
	assert_int_equal(p.gso_type, OFFLOAD_GSO_TCPV6);
	assert_int_equal(p.segs, v.n - 1);
	assert_int_equal(offload_segment(&p, f->segs, SEG_CAP, VEC_MAX_RECS,
					 f->lens),
			 OFFLOAD_OK);
	for (i = 0; i < p.segs; i++) {
		assert_int_equal(f->lens[i], v.len[i + 1]);
		assert_memory_equal(f->segs[i], v.rec[i + 1], f->lens[i]);
	}
	assert_int_equal(f->t.stats.tx_coalesced, 1);
	assert_int_equal(f->t.stats.tx_coalesced_pkts, v.n - 1);

	/* A full batch goes out by itself: 129 packets that do not merge
	 * (the same segment again and again), 128 written at the 129th. */
	for (i = 0, n = 0; i < OFFLOAD_GRO_BATCH_MAX + 1; i++)
		assert_int_equal(tunio_write(&f->t, v.rec[1], v.len[1]), 0);
	while (kernel_takes(f))
		n++;
	assert_int_equal(n, OFFLOAD_GRO_BATCH_MAX);
	assert_int_equal(tunio_flush(&f->t), 0);
	assert_int_equal(kernel_takes(f), OFFLOAD_VNET_HDR_LEN + v.len[1]);
	free(v.data);
}

/* Without coalescing: written at once, behind a zero header; without
 * the header, bare. The device refusing counts. */
static void
test_write_plain(void **state)
{
	static const uint8_t zero[OFFLOAD_VNET_HDR_LEN];
	struct fixture *f = *state;
	const uint8_t pkt[60] = { 0x45 };

	f->t.is_coalescing = false;
	assert_int_equal(tunio_write(&f->t, pkt, sizeof(pkt)), 0);
	assert_int_equal(kernel_takes(f), OFFLOAD_VNET_HDR_LEN + sizeof(pkt));
	assert_memory_equal(f->msg, zero, OFFLOAD_VNET_HDR_LEN);
	assert_memory_equal(f->msg + OFFLOAD_VNET_HDR_LEN, pkt, sizeof(pkt));
	f->t.off.has_vnet = false;
	assert_int_equal(tunio_write(&f->t, pkt, sizeof(pkt)), 0);
	assert_int_equal(kernel_takes(f), sizeof(pkt));
	assert_int_equal(tunio_write_now(&f->t, pkt, sizeof(pkt)),
			 (ssize_t)sizeof(pkt));
	assert_int_equal(kernel_takes(f), sizeof(pkt));
	shutdown(f->peer, SHUT_RD);
	assert_int_equal(tunio_write(&f->t, pkt, sizeof(pkt)), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cut_as_linux, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fit_mtu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_single, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_coalesced, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_plain, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
