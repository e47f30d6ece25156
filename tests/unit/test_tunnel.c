// SPDX-License-Identifier: MIT
/*
 * The tunnel engine between two in-memory parties (a "client" that
 * initiates and a "server" that answers), a fake clock and a queue for a
 * network: handshake and key confirmation, staged packets, keepalives,
 * rekeying with traffic flowing, roaming, cookies under load, give-up and
 * key zeroing at the protocol's times, and the server's rule that it may
 * not initiate towards a peer it has not admitted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <sodium.h>

#include "pair.h"

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
	return 0;
}

static void
connect_parties(void)
{
	/* The ring of staged packets exists only while one waits. */
	assert_null(cli.peer.staged);
	assert_int_equal(send_ip(&cli, 100), TUNNEL_TX_STAGED);
	assert_non_null(cli.peer.staged);
	pump();
	assert_null(cli.peer.staged);
	assert_int_equal(cli.sessions, 1);
	assert_int_equal(srv.sessions, 1); /* confirmed by the staged packet */
	assert_int_equal(srv.delivered_ip, 1);
	assert_int_equal(srv.last_ip_len, 100);
}

static void
test_handshake_staged_and_confirmed(void **state)
{
	(void)state;
	connect_parties();
	/* Both directions now work. */
	assert_int_equal(send_ip(&srv, 60), TUNNEL_TX_SEND);
	assert_int_equal(send_ip(&cli, 1420), TUNNEL_TX_SEND);
	pump();
	assert_int_equal(cli.delivered_ip, 1);
	assert_int_equal(cli.last_ip_len, 60);
	assert_int_equal(srv.delivered_ip, 2);
	assert_int_equal(srv.last_ip_len, 1420);
}

/* Without staged data the initiator confirms the session by a keepalive. */
static void
test_keepalive_confirms(void **state)
{
	(void)state;
	tunnel_initiate(&cli.t, &cli.peer, now, now);
	pump();
	assert_int_equal(cli.sessions, 1);
	assert_int_equal(srv.sessions, 1);
	assert_true(tunnel_peer_has_session(&srv.peer, now));
	assert_int_equal(srv.delivered_ip, 0);
}

/* The responder answers data with a keepalive after KEEPALIVE_TIMEOUT. */
static void
test_passive_keepalive(void **state)
{
	uint64_t rx_before;

	(void)state;
	connect_parties();
	rx_before = cli.peer.rx_bytes;
	advance(11 * NS_PER_S);
	assert_true(cli.peer.rx_bytes > rx_before);
}

/* Traffic across REKEY_AFTER_TIME: a new handshake, nothing lost, no
 * more than one handshake per rekey. */
static void
test_rekey_with_traffic(void **state)
{
	unsigned int i, sent = 0;

	(void)state;
	connect_parties();
	for (i = 0; i < 400; i++) {
		advance(NS_PER_S);
		assert_int_equal(send_ip(&cli, 200), TUNNEL_TX_SEND);
		assert_int_equal(send_ip(&srv, 200), TUNNEL_TX_SEND);
		sent++;
		pump();
	}
	/* 400 s: rekeys at ~120, ~240, ~360 s. */
	assert_int_equal(cli.sessions, 4);
	assert_int_equal(srv.delivered_ip, 1 + sent);
	assert_int_equal(cli.delivered_ip, sent);
	assert_true(tunnel_peer_has_session(&cli.peer, now));
}

/* A server that has not admitted its client never initiates. */
static void
test_no_initiation_without_permission(void **state)
{
	(void)state;
	connect_parties();
	advance(200 * NS_PER_S); /* keys expire */
	assert_false(tunnel_peer_has_session(&srv.peer, now));
	assert_int_equal(send_ip(&srv, 100), TUNNEL_TX_DROPPED);
	assert_int_equal(cli.queued, 0);
	srv.peer.can_initiate = true;
	assert_int_equal(send_ip(&srv, 100), TUNNEL_TX_STAGED);
	assert_int_equal(cli.queued, 1); /* an initiation towards the client */
	pump();
	assert_int_equal(cli.delivered_ip, 1);
}

/* The endpoint follows the latest authenticated datagram only; the host
 * hears of each move once (endpoint_changed), not of every datagram. */
static void
test_roaming(void **state)
{
	struct endpoint moved;
	char text[ENDPOINT_STR_LEN];
	int i;

	(void)state;
	connect_parties();
	/* The first endpoint is no move. */
	assert_int_equal(srv.moved, 0);
	endpoint_v4(&moved, "198.51.100.7", 40000);
	cli.self = moved;
	for (i = 0; i < 3; i++)
		assert_int_equal(send_ip(&cli, 80), TUNNEL_TX_SEND);
	pump();
	assert_true(endpoint_same_remote(&srv.peer.endpoint, &moved));
	assert_int_equal(srv.moved, 1);
	assert_int_equal(cli.moved, 0);
	/* Another port is a move too. */
	endpoint_v4(&cli.self, "198.51.100.7", 40001);
	assert_int_equal(send_ip(&cli, 80), TUNNEL_TX_SEND);
	pump();
	assert_int_equal(srv.moved, 2);
	cli.self = moved;
	assert_int_equal(send_ip(&cli, 80), TUNNEL_TX_SEND);
	pump();
	assert_int_equal(srv.moved, 3);
	/* A forged datagram from elsewhere does not move it. */
	endpoint_v4(&srv.queue[0].src, "203.0.113.9", 1);
	memset(srv.queue[0].buf, 0, 64);
	srv.queue[0].buf[0] = 4;
	srv.queue[0].len = 64;
	srv.queued = 1;
	pump();
	assert_string_equal(endpoint_format(&srv.peer.endpoint, text),
			    "198.51.100.7:40000");
	assert_int_equal(srv.moved, 3);
}

/*
 * The verified endpoint is where a handshake went and was answered from:
 * roaming moves the endpoint, never it; the next confirmed handshake from
 * the new address does. Either side's handshake proves it.
 */
static void
test_verified_endpoint(void **state)
{
	struct endpoint first, moved;

	(void)state;
	first = cli.self;
	connect_parties();
	assert_true(srv.peer.has_verified_endpoint);
	assert_true(endpoint_same_remote(&srv.peer.verified_endpoint, &first));
	assert_true(cli.peer.has_verified_endpoint);
	assert_true(endpoint_same_remote(&cli.peer.verified_endpoint,
					 &srv.self));
	/* Data from elsewhere: the endpoint roams, the verified one stays. */
	endpoint_v4(&moved, "198.51.100.7", 40000);
	cli.self = moved;
	assert_int_equal(send_ip(&cli, 80), TUNNEL_TX_SEND);
	pump();
	assert_true(endpoint_same_remote(&srv.peer.endpoint, &moved));
	assert_true(endpoint_same_remote(&srv.peer.verified_endpoint, &first));
	/* An unconfirmed handshake from the new address proves nothing ... */
	now += 10 * NS_PER_S;
	tunnel_initiate(&cli.t, &cli.peer, now, now);
	assert_int_equal(queued_of_type(&srv, WIRE_INITIATION), 1);
	tunnel_receive(&srv.t, srv.queue[0].buf, srv.queue[0].len,
		       &srv.queue[0].src, now, now);
	srv.queued = 0;
	assert_true(endpoint_same_remote(&srv.peer.verified_endpoint, &first));
	/* ... its confirmation does. */
	cli.queued = 0;
	now += 6 * NS_PER_S;
	tunnel_initiate(&cli.t, &cli.peer, now, now);
	pump();
	assert_int_equal(send_ip(&cli, 80), TUNNEL_TX_SEND);
	pump();
	assert_true(endpoint_same_remote(&srv.peer.verified_endpoint, &moved));
}

/* Per-source limit: a burst, then one per 1/rate, cookie or not. */
static void
test_source_limit(void **state)
{
	unsigned int i, answered = 0;

	(void)state;
	assert_int_equal(tunnel_set_source_limit(&srv.t, 2, 3, 16), 0);
	/* Each initiation is new (50 ms apart: past the flood rule), from
	 * one source; the server answers the burst and then two a second. */
	for (i = 0; i < 40; i++) {
		cli.peer.timers.last_initiation_ns = TIMER_OFF;
		tunnel_initiate(&cli.t, &cli.peer, now, now);
		assert_int_equal(srv.queued, 1);
		tunnel_receive(&srv.t, srv.queue[0].buf, srv.queue[0].len,
			       &srv.queue[0].src, now, now);
		srv.queued = 0;
		answered += queued_of_type(&cli, WIRE_RESPONSE);
		cli.queued = 0;
		now += 50 * NS_PER_MS;
	}
	/* 2 s at 2/s plus a burst of 3: 3 + 4 (or 3 + 3, by rounding). */
	assert_in_range(answered, 6, 7);
	assert_int_equal(srv.t.stats.rx_ratelimited, 40 - answered);
	/* Another source is not held back by the first. */
	cli.self.addr.in4.sin_addr.s_addr ^= htonl(1);
	cli.peer.timers.last_initiation_ns = TIMER_OFF;
	tunnel_initiate(&cli.t, &cli.peer, now, now);
	pump();
	assert_int_equal(cli.sessions, 1);
}

/* Retries every REKEY_TIMEOUT + jitter, giving up at REKEY_ATTEMPT_TIME. */
static void
test_give_up(void **state)
{
	uint64_t start = now;
	unsigned int initiations = 0;

	(void)state;
	srv.accept_peer = false; /* the server refuses this client */
	assert_int_equal(send_ip(&cli, 100), TUNNEL_TX_STAGED);
	while (!cli.gave_up && now - start < 200 * NS_PER_S) {
		initiations += srv.queued;
		srv.queued = 0;
		now = tunnel_peer_deadline(&cli.peer);
		tunnel_peer_expire(&cli.t, &cli.peer, now, now);
	}
	assert_int_equal(cli.gave_up, 1);
	assert_true(now - start >= 90 * NS_PER_S);
	assert_true(now - start < 96 * NS_PER_S);
	assert_true(initiations >= 17 && initiations <= 19);
	assert_int_equal(cli.peer.staged_count, 0);
	assert_null(cli.peer.staged);
}

/* Keys are wiped 3 * REJECT_AFTER_TIME after the last session. */
static void
test_zero_keys(void **state)
{
	(void)state;
	connect_parties();
	advance(3 * 180 * NS_PER_S + NS_PER_S);
	assert_int_equal(cli.zeroed, 1);
	assert_int_equal(srv.zeroed, 1);
	assert_false(tunnel_peer_has_session(&cli.peer, now));
}

/* Under load the server answers with a cookie; the retry carries mac2
 * and gets through. */
static void
test_cookie_under_load(void **state)
{
	(void)state;
	parties_teardown(NULL);
	party_init(&cli, &srv, 1, "192.0.2.2", 0);
	party_init(&srv, &cli, 100, "192.0.2.1", 1);
	peers_init();
	srv.t.load_tokens = 0; /* the bucket is empty: under load */
	srv.t.load_refill_ns = now;
	assert_int_equal(send_ip(&cli, 100), TUNNEL_TX_STAGED);
	pump();
	assert_int_equal(srv.t.stats.cookies_sent, 1);
	assert_int_equal(cli.sessions, 0);
	assert_true(cli.peer.cookie.has_cookie);
	/* Still under load at the retry, but mac2 is now valid. */
	now = tunnel_peer_deadline(&cli.peer);
	srv.t.load_refill_ns = now;
	tunnel_peer_expire(&cli.t, &cli.peer, now, now);
	pump();
	assert_int_equal(cli.sessions, 1);
	assert_int_equal(srv.delivered_ip, 1);
}

/* Garbage of every kind is counted and changes nothing. */
static void
test_garbage(void **state)
{
	static uint8_t junk[2048];
	size_t len;

	(void)state;
	connect_parties();
	for (len = 0; len < sizeof(junk); len += 7) {
		fake_random(NULL, junk, len);
		if (len >= 4)
			junk[0] = (uint8_t)(1 + len % 4), junk[1] = junk[2] =
							     junk[3] = 0;
		assert_null(tunnel_receive(&srv.t, junk, len, &cli.self, now,
					   now));
	}
	assert_int_equal(srv.queued + cli.queued, 0);
	assert_int_equal(send_ip(&cli, 100), TUNNEL_TX_SEND);
	pump();
	assert_int_equal(srv.delivered_ip, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_handshake_staged_and_confirmed, setup,
			parties_teardown),
		cmocka_unit_test_setup_teardown(
			test_keepalive_confirms, setup,
			parties_teardown),
		cmocka_unit_test_setup_teardown(test_passive_keepalive, setup,
						parties_teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_with_traffic, setup,
			parties_teardown),
		cmocka_unit_test_setup_teardown(
			test_no_initiation_without_permission, setup,
			parties_teardown),
		cmocka_unit_test_setup_teardown(test_roaming, setup,
						parties_teardown),
		cmocka_unit_test_setup_teardown(test_give_up, setup,
						parties_teardown),
		cmocka_unit_test_setup_teardown(test_zero_keys, setup,
						parties_teardown),
		cmocka_unit_test_setup_teardown(test_cookie_under_load, setup,
						parties_teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup,
						parties_teardown),
		cmocka_unit_test_setup_teardown(test_verified_endpoint, setup,
						parties_teardown),
		cmocka_unit_test_setup_teardown(test_source_limit, setup,
						parties_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
