// SPDX-License-Identifier: MIT
/*
 * The tunnel engine's batches (tunnel_encrypt_begin, tunnel_seal_batch,
 * tunnel_receive_batch) against its one-packet path: the same session
 * (same seeded keys) seals a batch into the same bytes serially, on one
 * thread and on three; the receiver delivers a batch in the order sent,
 * refuses the replays and the forgery it holds, and counts them as the
 * serial path does, on libsodium's AEAD and on OpenSSL's (whose contexts
 * are per thread); a handshake message inside a batch is handled where it
 * stands; and a packet whose keypair an earlier packet of the same batch
 * released is refused, not read from freed memory (ASan watches).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <sodium.h>

#include "pair.h"
#include "aead.h"
#include "aead_openssl.h"
#include "cryptopool.h"

#define BATCH 200
#define DELIVERED_MAX 1024

/* The datagrams of a batch, as they left. */
struct sent {
	uint8_t buf[BATCH][TUNNEL_BUF_LEN(MTU)];
	size_t len[BATCH];
};

/* What the receiver delivered, in order: each packet's number. */
static uint32_t delivered_seq[DELIVERED_MAX];
static unsigned int n_delivered_seq;
static struct tunnel_ops recording_ops;

static void
op_deliver_recording(void *arg, struct tunnel_peer *tp, enum wire_payload kind,
		     uint8_t *pkt, size_t len)
{
	uint32_t seq;

	if (kind == WIRE_PAYLOAD_IPV4 && len >= 8 &&
	    n_delivered_seq < DELIVERED_MAX) {
		memcpy(&seq, pkt + 4, sizeof(seq));
		delivered_seq[n_delivered_seq++] = seq;
	}
	op_deliver(arg, tp, kind, pkt, len);
}

static unsigned int done_calls;

static bool
on_done(void *arg, struct tunnel_peer *p)
{
	(void)arg;
	assert_non_null(p);
	done_calls++;
	return true;
}

static int
setup(void **state)
{
	(void)state;
	assert_true(sodium_init() >= 0);
	rng_state = 42;
	now = 1000 * NS_PER_S;
	party_init(&cli, &srv, 1, "192.0.2.2", 0);
	party_init(&srv, &cli, 100, "192.0.2.1", 0);
	peers_init();
	recording_ops = ops;
	recording_ops.deliver = op_deliver_recording;
	srv.t.ops = &recording_ops;
	cli.t.ops = &recording_ops;
	n_delivered_seq = 0;
	done_calls = 0;
	/* A session, confirmed both ways. */
	tunnel_initiate(&cli.t, &cli.peer, now, now);
	pump();
	assert_true(tunnel_peer_has_session(&srv.peer, now));
	return 0;
}

/* Packet number seq is of a length that varies with it: from 40 bytes
 * to the MTU, so that batches cross TUNNEL_SPREAD_MIN_BYTES. */
static size_t
ip_len(uint32_t seq)
{
	return 40 + (seq * 389u) % (MTU - 40);
}

static size_t
make_ip(uint8_t *ip, uint32_t seq)
{
	size_t len = ip_len(seq);

	memset(ip, (int)(seq & 0xff), len);
	ip[0] = 0x45;
	ip[1] = 0;
	ip[2] = (uint8_t)(len >> 8);
	ip[3] = (uint8_t)len;
	memcpy(ip + 4, &seq, sizeof(seq));
	return len;
}

/* The batch from cli: serially (threads 0), or begun then sealed
 * together on a pool of `threads`. */
static void
send_batch(struct sent *out, unsigned int threads)
{
	static struct noise_crypt jobs[BATCH];
	struct cryptopool *pool = NULL;
	uint32_t i;

	if (threads)
		assert_int_equal(cryptopool_start(&pool, threads), 0);
	for (i = 0; i < BATCH; i++) {
		uint8_t *buf = out->buf[i];
		size_t len = make_ip(buf + WIRE_DATA_HEADER_LEN, i);

		if (threads)
			assert_int_equal(tunnel_encrypt_begin(&cli.t, &cli.peer,
							      buf, len, now,
							      now, &out->len[i],
							      &jobs[i]),
					 TUNNEL_TX_SEND);
		else
			assert_int_equal(tunnel_encrypt(&cli.t, &cli.peer, buf,
							len, now, now,
							&out->len[i]),
					 TUNNEL_TX_SEND);
	}
	if (threads)
		tunnel_seal_batch(pool, jobs, BATCH);
	cryptopool_stop(pool);
}

static void
receive_list(struct party *p, uint8_t **bufs, size_t *lens, unsigned int n,
	     unsigned int threads)
{
	static struct tunnel_rx_batch b;
	static struct endpoint src[BATCH * 2];
	unsigned int i;

	for (i = 0; i < n; i++)
		src[i] = p->other->self;
	if (!threads) {
		/* The one-packet path, for comparison. */
		for (i = 0; i < n; i++)
			if (tunnel_receive(&p->t, bufs[i], lens[i], &src[i],
					   now, now))
				done_calls++;
		return;
	}
	memset(&b, 0, sizeof(b));
	if (threads)
		assert_int_equal(cryptopool_start(&b.pool, threads), 0);
	b.done = on_done;
	tunnel_receive_batch(&p->t, &b, bufs, lens, src, n, now, now);
	cryptopool_stop(b.pool);
}

/* The same session seals a batch into the same bytes every way. */
static void
test_seal_same_as_serial(void **state)
{
	static struct sent serial, batched;
	static const unsigned int threads[] = { 1, 3 };
	size_t t, i;

	(void)state;
	send_batch(&serial, 0);
	for (t = 0; t < 2; t++) {
		parties_teardown(NULL);
		setup(NULL);
		send_batch(&batched, threads[t]);
		for (i = 0; i < BATCH; i++) {
			assert_int_equal(batched.len[i], serial.len[i]);
			assert_memory_equal(batched.buf[i], serial.buf[i],
					    serial.len[i]);
		}
	}
	/* And the counters moved as for BATCH packets sent one by one. */
	assert_int_equal(cli.peer.tx_packets, BATCH);
}

/* The receiver's batch: every packet once, in order; the replays (one at
 * once, one much later, one of the whole first packet at the end) and a
 * forgery refused and counted as the serial path counts them. */
static void
receive_in_order(unsigned int threads)
{
	static struct sent s;
	static uint8_t forged[TUNNEL_BUF_LEN(MTU)];
	static uint8_t dup[2][TUNNEL_BUF_LEN(MTU)];
	static uint8_t again[TUNNEL_BUF_LEN(MTU)];
	static uint8_t *bufs[BATCH + 8];
	static size_t lens[BATCH + 8];
	unsigned int n = 0, i;

	send_batch(&s, threads);
	/* Before packet 7, so that its counter is new: the AEAD refuses it
	 * on every path. */
	memcpy(forged, s.buf[7], s.len[7]);
	forged[s.len[7] - 1] ^= 1;
	for (i = 0; i < BATCH; i++) {
		if (i == 7) {
			bufs[n] = forged;
			lens[n++] = s.len[7];
		}
		bufs[n] = s.buf[i];
		lens[n++] = s.len[i];
		if (i == 10 || i == 150) {
			/* A copy: the first is decrypted in place. */
			memcpy(dup[i == 150], s.buf[i], s.len[i]);
			bufs[n] = dup[i == 150];
			lens[n++] = s.len[i];
		}
		if (i == 3)
			memcpy(again, s.buf[3], s.len[3]);
	}
	/* Packet 3 again, long after: its counter is still in the window. */
	bufs[n] = again;
	lens[n++] = s.len[3];
	receive_list(&srv, bufs, lens, n, threads);

	assert_int_equal(n_delivered_seq, BATCH);
	for (i = 0; i < BATCH; i++)
		assert_int_equal(delivered_seq[i], i);
	assert_int_equal(srv.t.stats.rx_replay, 3);
	assert_int_equal(srv.t.stats.rx_data_invalid, 1);
	assert_int_equal(srv.peer.rx_packets, BATCH);
	assert_int_equal(done_calls, BATCH);
	assert_int_equal(srv.last_ip_len, ip_len(BATCH - 1));
}

static void
test_receive_serial(void **state)
{
	(void)state;
	receive_in_order(0);
}

static void
test_receive_one_thread(void **state)
{
	(void)state;
	receive_in_order(1);
}

static void
test_receive_three_threads(void **state)
{
	(void)state;
	receive_in_order(3);
}

/* The same on OpenSSL's AEAD, whose contexts are per thread
 * (aead_openssl.c): every packet thread makes its own on its first
 * packet. Skipped where libcrypto lacks the cipher. */
static void
test_receive_three_threads_openssl(void **state)
{
	(void)state;
	if (aead_openssl_init() < 0 || !aead_use(AEAD_OPENSSL))
		skip();
	receive_in_order(3);
	assert_true(aead_use(AEAD_LIBSODIUM));
}

/*
 * A handshake inside a batch: at the initiator, data under the old keys,
 * the response to a rekey, then more data under the old keys. All three
 * are delivered and the rekey completes where the response stands.
 */
static void
test_handshake_inside_batch(void **state)
{
	static struct datagram list[8];
	uint8_t *bufs[8];
	size_t lens[8];
	unsigned int n = 0, i, sessions = cli.sessions;
	struct noise_keypair *old = cli.peer.noise.current;

	(void)state;
	/* Data from the server, queued to the client ... */
	assert_int_equal(send_ip(&srv, 300), TUNNEL_TX_SEND);
	/* ... a rekey: the client's initiation answered by the server ... */
	now += 6 * NS_PER_S;
	tunnel_initiate(&cli.t, &cli.peer, now, now);
	assert_int_equal(srv.queued, 1);
	tunnel_receive(&srv.t, srv.queue[0].buf, srv.queue[0].len,
		       &srv.queue[0].src, now, now);
	srv.queued = 0;
	/* ... then more data from the server, under the keys it has. */
	assert_int_equal(send_ip(&srv, 1400), TUNNEL_TX_SEND);
	assert_int_equal(cli.queued, 3);
	assert_int_equal(wire_classify(cli.queue[1].buf, cli.queue[1].len),
			 WIRE_RESPONSE);
	for (i = 0; i < cli.queued; i++) {
		list[n] = cli.queue[i];
		bufs[n] = list[n].buf;
		lens[n] = list[n].len;
		n++;
	}
	cli.queued = 0;
	receive_list(&cli, bufs, lens, n, 3);
	assert_int_equal(cli.delivered_ip, 2);
	assert_int_equal(cli.sessions, sessions + 1);
	assert_ptr_not_equal(cli.peer.noise.current, old);
	assert_ptr_equal(cli.peer.noise.previous, old);
	/* The new keys carry data both ways. */
	assert_int_equal(send_ip(&cli, 100), TUNNEL_TX_SEND);
	pump();
	assert_int_equal(send_ip(&srv, 100), TUNNEL_TX_SEND);
	pump();
	assert_int_equal(cli.delivered_ip, 3);
}

/* Sends one packet from cli and keeps it off the network. */
static void
hold_ip(struct datagram *d, uint32_t seq)
{
	size_t len = make_ip(d->buf + WIRE_DATA_HEADER_LEN, seq);

	assert_int_equal(tunnel_encrypt(&cli.t, &cli.peer, d->buf, len, now,
					now, &d->len),
			 TUNNEL_TX_SEND);
	d->src = cli.self;
}

/*
 * The keypair a packet was gathered under is dropped by an earlier packet
 * of the same batch: the server holds K1 as previous and K2 as current,
 * K2 older than REKEY_TIMEOUT, and gets [data under K2, which releases K1
 * (noise.c: the other side has moved on), data under K1, data under K2].
 * The second is refused as the serial path refuses it, the others go
 * through.
 */
static void
keypair_dropped_in_batch(unsigned int threads)
{
	static struct datagram under_k1, under_k2, later_k2;
	uint8_t *bufs[3];
	size_t lens[3];

	hold_ip(&under_k1, 1);
	/* K2: a rekey, confirmed by the client's keepalive. */
	now += 6 * NS_PER_S;
	tunnel_initiate(&cli.t, &cli.peer, now, now);
	pump();
	assert_non_null(srv.peer.noise.previous);
	now += 6 * NS_PER_S;
	hold_ip(&under_k2, 2);
	hold_ip(&later_k2, 3);

	bufs[0] = under_k2.buf;
	lens[0] = under_k2.len;
	bufs[1] = under_k1.buf;
	lens[1] = under_k1.len;
	bufs[2] = later_k2.buf;
	lens[2] = later_k2.len;
	n_delivered_seq = 0;
	receive_list(&srv, bufs, lens, 3, threads);
	assert_null(srv.peer.noise.previous);
	assert_int_equal(n_delivered_seq, 2);
	assert_int_equal(delivered_seq[0], 2);
	assert_int_equal(delivered_seq[1], 3);
	assert_int_equal(srv.t.stats.rx_data_invalid, 1);
}

static void
test_keypair_dropped_serial(void **state)
{
	(void)state;
	keypair_dropped_in_batch(0);
}

static void
test_keypair_dropped_three_threads(void **state)
{
	(void)state;
	keypair_dropped_in_batch(3);
}

/* Junk between data ends no run and changes nothing; a host that says
 * stop gets nothing more. */
static bool
stop_at_once(void *arg, struct tunnel_peer *p)
{
	(void)arg;
	(void)p;
	done_calls++;
	return false;
}

static void
test_junk_and_stop(void **state)
{
	static struct sent s;
	static uint8_t junk[64];
	static struct tunnel_rx_batch b;
	static struct endpoint src[4];
	uint8_t *bufs[4];
	size_t lens[4] = { 0 };
	unsigned int i;

	(void)state;
	send_batch(&s, 0);
	bufs[0] = s.buf[0];
	lens[0] = s.len[0];
	bufs[1] = junk;
	lens[1] = sizeof(junk);
	bufs[2] = s.buf[1];
	lens[2] = s.len[1];
	bufs[3] = s.buf[2];
	lens[3] = 0; /* truncated: skipped */
	for (i = 0; i < 4; i++)
		src[i] = cli.self;
	memset(&b, 0, sizeof(b));
	b.done = stop_at_once;
	tunnel_receive_batch(&srv.t, &b, bufs, lens, src, 4, now, now);
	assert_int_equal(srv.t.stats.rx_invalid, 1);
	assert_int_equal(done_calls, 1);
	assert_int_equal(n_delivered_seq, 1);
	assert_int_equal(delivered_seq[0], 0);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, parties_teardown)
	const struct CMUnitTest tests[] = {
		T(test_seal_same_as_serial),
		T(test_receive_serial),
		T(test_receive_one_thread),
		T(test_receive_three_threads),
		T(test_receive_three_threads_openssl),
		T(test_handshake_inside_batch),
		T(test_keypair_dropped_serial),
		T(test_keypair_dropped_three_threads),
		T(test_junk_and_stop),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
