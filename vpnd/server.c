// SPDX-License-Identifier: MIT
/*
 * vpnd's packet path: datagrams from the UDP sockets go through the tunnel
 * engine to the TUN device, packets from the TUN device go to the client
 * that owns their destination. One thread, batches of UDP_BATCH, buffers
 * allocated at start, encryption in place. With offloads (tunio.h) a
 * read may be a super-packet, cut here into the client's packets as many
 * at a time as the batch has room for, and a received batch's packets are
 * written to the device coalesced, flushed at the end of the batch. Nothing slow happens here: the
 * login layer (admit.c) hands password checks and store access to worker
 * threads and only reads their results.
 *
 * Every core (packet-workers): this thread keeps all the state and does
 * all the I/O; only the AEAD of a batch is spread over the packet workers
 * (cryptopool.h), fork-join, and the batch is then finished here in order
 * (tunnel_seal_batch before a send batch goes, tunnel_receive_batch for a
 * received one), so nonces and replay windows stay this thread's alone.
 */
#include "server.h"

#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "cryptopool.h"
#include "ctlcmd.h"
#include "exporter.h"
#include "gate.h"
#include "log.h"
#include "netlink.h"
#include "pool.h"
#include "roster.h"
#include "sysctl.h"
#include "tun.h"

/* How often the store is asked what changed: a kick or a disabled
 * account must end the session within a second. */
#define EVENTS_INTERVAL_NS (200 * NS_PER_MS)
/* Sources whose handshake rate is tracked at once, and the burst each
 * may send (WireGuard's). */
#define RATE_SOURCES 8192
#define SOURCE_HANDSHAKE_BURST 5
/* Store jobs that may wait at once besides the logins. */
#define STORE_JOBS 256

void
server_clock(struct server *s)
{
	s->now_ns = loop_now_ns();
	s->wall_ns = loop_wall_ns();
}

/* ---- peers ------------------------------------------------------------------ */

static struct tunnel_peer *
op_peer_by_key(void *arg, const uint8_t pub[32])
{
	struct server *s = arg;
	struct peer *p = peer_lookup(&s->peers, pub);

	return p ? &p->tp : NULL;
}

/* Only for an initiation verified whole (noise_host.peer_create). */
static struct tunnel_peer *
op_peer_create(void *arg, const uint8_t pub[32], const uint8_t ss[32])
{
	struct peer *p = roster_peer_create(arg, pub, ss);

	return p ? &p->tp : NULL;
}

void
server_peer_touched(struct server *s, struct peer *p)
{
	uint64_t d = tunnel_peer_deadline(&p->tp), a = admit_peer_deadline(s, p);

	peer_deadline_set(&s->peers, p, a < d ? a : d);
}

static void
rearm(struct server *s)
{
	struct peer *top = peer_heap_top(&s->peers);
	uint64_t d = s->next_housekeeping_ns;

	if (s->next_events_ns < d)
		d = s->next_events_ns;
	if (top && top->deadline_ns < d)
		d = top->deadline_ns;
	if (ctl_deadline(&s->ctl) < d)
		d = ctl_deadline(&s->ctl);
	/* After every event: the watchdog pings from here, so a loop that
	 * stops turning stops them. */
	notify_update(&s->notify, s->now_ns, s->peers.n_admitted,
		      s->peers.in_login.len);
	if (notify_deadline(&s->notify) < d)
		d = notify_deadline(&s->notify);
	loop_set_deadline(&s->loop, d);
}

static void
reap(struct server *s)
{
	roster_reap(s);
}

/* ---- tunnel engine callbacks ---------------------------------------------- */

static void
op_random(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	randombytes_buf(buf, len);
}

static void
op_send(void *arg, const struct endpoint *ep, const uint8_t *buf, size_t len)
{
	struct server *s = arg;

	if (udp_send(&s->udp, ep, buf, len) < 0)
		s->stats.udp_tx_dropped++;
}

static void
op_deliver(void *arg, struct tunnel_peer *tp, enum wire_payload kind,
	   uint8_t *pkt, size_t len)
{
	struct server *s = arg;
	struct peer *p = (struct peer *)tp;

	if (kind == WIRE_PAYLOAD_CONTROL) {
		admit_control(s, p, pkt, len);
		return;
	}
	if (!admit_ip_allowed(s, p, pkt, len) || !gate_pass(s, p, pkt, len))
		return;
	pmtu_inbound(&s->pmtu, tp, pkt, len);
	/* It stays in the receive buffer until receive_udp flushes. */
	s->stats.tun_write_errors += tunio_write(&s->tun, pkt, len);
}

static void
op_session_started(void *arg, struct tunnel_peer *tp)
{
	admit_session_started(arg, (struct peer *)tp);
}

static void
op_keys_zeroed(void *arg, struct tunnel_peer *tp)
{
	struct server *s = arg;

	/* Idle for 3 * REJECT_AFTER_TIME: the admission stays in the store
	 * and comes back with the next handshake. */
	peer_doom(&s->peers, (struct peer *)tp);
}

/* A roam: the cluster's record of the session follows at the next beat. */
static void
op_endpoint_changed(void *arg, struct tunnel_peer *tp)
{
	cluster_endpoint_changed(arg, (struct peer *)tp);
}

static const struct tunnel_ops server_tunnel_ops = {
	.random = op_random,
	.send = op_send,
	.peer_by_key = op_peer_by_key,
	.peer_create = op_peer_create,
	.deliver = op_deliver,
	.session_started = op_session_started,
	.keys_zeroed = op_keys_zeroed,
	.endpoint_changed = op_endpoint_changed,
};

void
server_job_done(struct server *s, const struct job *j)
{
	if (j->kind == JOB_KICK)
		ctlcmd_kick_done(s, j);
}

void
server_send_control(struct server *s, struct peer *p, const uint8_t *msg,
		    size_t len)
{
	tunnel_send_control(&s->tunnel, &p->tp, msg, len, s->now_ns, s->wall_ns);
	server_peer_touched(s, p);
}

/* ---- events ------------------------------------------------------------------ */

/* A datagram of the batch concerned tp: its deadlines may have moved. */
static bool
rx_done(void *arg, struct tunnel_peer *tp)
{
	server_peer_touched(arg, (struct peer *)tp);
	return true;
}

static void
receive_udp(struct server *s, int fd)
{
	int n;

	n = udp_recv_batch(fd, &s->rx);
	if (n <= 0)
		return;
	server_clock(s);
	tunnel_receive_batch(&s->tunnel, &s->rx_jobs, s->rx.buf, s->rx.len,
			     s->rx.ep, (unsigned int)n, s->now_ns, s->wall_ns);
	/* Before anything else runs: no packet waits for the next batch. */
	s->stats.tun_write_errors += tunio_flush(&s->tun);
	reap(s);
	rearm(s);
}

static void
on_udp4(void *arg, uint32_t events)
{
	struct server *s = arg;

	(void)events;
	receive_udp(s, s->udp.fd4);
}

static void
on_udp6(void *arg, uint32_t events)
{
	struct server *s = arg;

	(void)events;
	receive_udp(s, s->udp.fd6);
}

/* The client that owns the destination of an IP packet, if admitted. */
static struct peer *
peer_for_packet(struct server *s, const uint8_t *pkt, size_t len)
{
	struct peer *p = NULL;

	if (len >= 20 && (pkt[0] >> 4) == 4)
		p = route_lookup(&s->routes, AF_INET, pkt + 16);
	else if (len >= 40 && (pkt[0] >> 4) == 6)
		p = route_lookup(&s->routes, AF_INET6, pkt + 24);
	return p && admit_peer_current(s, p) ? p : NULL;
}

static void
flush_tx(struct server *s)
{
	unsigned int want;

	/* The keypairs the jobs point into are all still there: nothing
	 * since send_packet took them (one loop callback) drops one. */
	tunnel_seal_batch(s->pool, s->seal, s->n_seal);
	s->n_seal = 0;
	if (s->tx4.count) {
		want = s->tx4.count;
		s->stats.udp_tx_dropped += want - udp_send_batch(s->udp.fd4,
								 &s->tx4);
	}
	if (s->tx6.count) {
		want = s->tx6.count;
		s->stats.udp_tx_dropped += want - udp_send_batch(s->udp.fd6,
								 &s->tx6);
	}
}

/* True if buf is now the batch's, until flush_tx. */
static bool
queue_datagram(struct server *s, struct peer *p, uint8_t *buf, size_t len)
{
	const struct endpoint *ep = &p->tp.endpoint;
	struct udp_batch *b = ep->addr.sa.sa_family == AF_INET6 ? &s->tx6
								 : &s->tx4;

	if (udp_fd_for(&s->udp, ep) < 0 || !udp_batch_add(b, ep, buf, len)) {
		s->stats.udp_tx_dropped++;
		return false;
	}
	return true;
}

/* A packet for p that its tunnel cannot carry is answered as a router
 * answers it (pmtu.h), and counted; false if it must not be sent. */
static bool
fits_tunnel(struct server *s, struct peer *p, uint8_t *pkt, size_t len)
{
	uint8_t answer[REPLY_MAX];
	size_t answer_len = 0;

	switch (pmtu_outbound(&s->pmtu, &p->tp, pkt, len, s->now_ns, answer,
			      &answer_len)) {
	case PMTU_SEND:
		return true;
	case PMTU_ANSWER:
		if (tunio_write_now(&s->tun, answer, answer_len) < 0)
			s->stats.tun_write_errors++;
		break;
	case PMTU_DROP:
		break;
	}
	s->stats.tun_rx_oversize++;
	return false;
}

/* Encrypts the packet at buf + WIRE_DATA_HEADER_LEN (len bytes) for p
 * and queues it; true if buf is now the batch's, until flush_tx. */
static bool
send_packet(struct server *s, struct peer *p, uint8_t *buf, size_t len)
{
	bool is_queued = false;
	size_t msg_len;

	if (!fits_tunnel(s, p, buf + WIRE_DATA_HEADER_LEN, len))
		return false;
	/* Never more jobs than buffers; but if so, the batch goes now. */
	if (s->n_seal == UDP_BATCH)
		flush_tx(s);
	/* Sealed in flush_tx, with the rest of the batch. */
	if (tunnel_encrypt_begin(&s->tunnel, &p->tp, buf, len, s->now_ns,
				 s->wall_ns, &msg_len,
				 &s->seal[s->n_seal]) == TUNNEL_TX_SEND)
		is_queued = queue_datagram(s, p, buf, msg_len);
	if (is_queued)
		s->n_seal++;
	server_peer_touched(s, p);
	return is_queued;
}

/* The next free transmit buffer after `used` were taken: the batch goes
 * out when all are. */
static unsigned int
take_buffers(struct server *s, unsigned int used)
{
	if (used < UDP_BATCH)
		return used;
	flush_tx(s);
	return 0;
}

/*
 * The super-packet tunio holds, cut into as many segments as there are
 * free buffers at a time, each sent as a packet read alone would be. Its
 * TCP segments are cut to the client's tunnel MTU (the receiver's MSS,
 * clamped on its SYN, allows that much). Returns the buffers in use.
 */
static unsigned int
send_super(struct server *s, unsigned int used)
{
	struct tunio *t = &s->tun;
	uint8_t *bufs[UDP_BATCH];
	size_t lens[UDP_BATCH], segs = t->super.segs, n, i;
	struct peer *p = peer_for_packet(s, t->super.pkt, t->super.len);

	if (!p) {
		s->stats.tun_rx_no_peer += segs;
		tunio_drop(t);
		return used;
	}
	if (!tunio_fit(t, pmtu_peer(&s->pmtu,
				    p->tp.endpoint.addr.sa.sa_family))) {
		s->stats.tun_rx_oversize += segs;
		return used;
	}
	do {
		used = take_buffers(s, used);
		for (i = 0; i < UDP_BATCH - used; i++)
			bufs[i] = udp_buffer(&s->tx_bufs, used + (unsigned)i) +
				  WIRE_DATA_HEADER_LEN;
		n = tunio_cut(t, bufs, s->pmtu.device, UDP_BATCH - used, lens);
		for (i = 0; i < n; i++)
			send_packet(s, p, bufs[i] - WIRE_DATA_HEADER_LEN,
				    lens[i]);
		used += (unsigned int)n;
	} while (n);
	return used;
}

static void
on_tun(void *arg, uint32_t events)
{
	struct server *s = arg;
	size_t cap = (size_t)s->pmtu.device + 1, len;
	unsigned int reads, used = 0;
	enum tunio_rx r;

	(void)events;
	server_clock(s);
	for (reads = 0; reads < UDP_BATCH; reads++) {
		uint8_t *buf = udp_buffer(&s->tx_bufs, used);
		struct peer *p;

		r = tunio_read(&s->tun, buf + WIRE_DATA_HEADER_LEN, cap, &len);
		if (r == TUNIO_RX_EMPTY)
			break;
		if (r == TUNIO_RX_SUPER) {
			used = send_super(s, used);
			continue;
		}
		if (r != TUNIO_RX_PACKET)
			continue;
		p = peer_for_packet(s, buf + WIRE_DATA_HEADER_LEN, len);
		if (!p) {
			s->stats.tun_rx_no_peer++;
			continue;
		}
		if (send_packet(s, p, buf, len))
			used = take_buffers(s, used + 1);
	}
	flush_tx(s);
	rearm(s);
}

static void
on_workers(void *arg, uint32_t events)
{
	struct server *s = arg;

	(void)events;
	server_clock(s);
	admit_jobs_done(s);
	reap(s);
	rearm(s);
}

static void
on_timer(void *arg, uint64_t now_ns)
{
	struct server *s = arg;
	struct peer *p;

	server_clock(s);
	(void)now_ns;
	while ((p = peer_heap_top(&s->peers)) && p->deadline_ns <= s->now_ns) {
		tunnel_peer_expire(&s->tunnel, &p->tp, s->now_ns, s->wall_ns);
		admit_peer_expire(s, p);
		/* Whatever was due is now disarmed or moved: no busy loop. */
		server_peer_touched(s, p);
		if (p->deadline_ns <= s->now_ns)
			break;
	}
	if (s->now_ns >= s->next_housekeeping_ns) {
		admit_housekeeping(s);
		s->next_housekeeping_ns = s->now_ns + s->housekeeping_interval_ns;
	}
	if (s->now_ns >= s->next_events_ns) {
		admit_poll_events(s);
		s->next_events_ns = s->now_ns + EVENTS_INTERVAL_NS;
	}
	ctl_expire(&s->ctl, s->now_ns);
	reap(s);
	rearm(s);
}

static void
on_signal(void *arg, int signo)
{
	struct server *s = arg;

	if (signo == SIGHUP) {
		server_clock(s);
		if (reload_run(s, "SIGHUP", NULL) < 0)
			log_notice("SIGHUP: fix the file and send SIGHUP again");
		rearm(s);
		return;
	}
	log_notice("%s: shutting down", strsignal(signo));
	notify_stopping(&s->notify);
	server_clock(s);
	admit_shutdown(s);
	s->stopping = true;
	loop_stop(&s->loop);
}

/* ---- start and stop ---------------------------------------------------------- */

void
server_policy_from_config(struct auth_policy *pol, const struct vpnd_config *c)
{
	memset(pol, 0, sizeof(*pol));
	pol->totp_window = c->totp_window;
	pol->lockout_failures = c->lockout_failures;
	pol->lockout_time_s = c->lockout_time_s;
	pol->lockout_max_time_s = c->lockout_max_time_s;
	pol->session_lifetime_s = c->session_lifetime_s;
	pol->source_decay_s = c->lockout_source_decay_s;
	pol->has_pool4 = c->has_pool4;
	pol->pool4 = c->pool4;
	pol->has_pool6 = c->has_pool6;
	pol->pool6 = c->pool6;
}

static int
configure_device(struct server *s)
{
	const struct vpnd_config *c = s->cfg;
	uint8_t len4 = lanmode_tunnel_prefix_len(c, AF_INET);
	uint8_t len6 = lanmode_tunnel_prefix_len(c, AF_INET6);
	char text[PREFIX_STR_LEN];
	int ret;

	s->ifindex = (int)if_nametoindex(s->ifname);
	/* Clients reaching each other through us need no redirect; an
	 * unwritable /proc (a container) costs only the redirects. */
	ret = tun_no_redirects(s->ifname, &s->sysctls);
	if (ret < 0)
		log_debug("%s: cannot turn off ICMP redirects: %s", s->ifname,
			  strerror(-ret));
	/* vpnd's own ICMP errors come from its tunnel address (pmtu.h). */
	ret = pmtu_device_setup(s->ifname, &s->sysctls);
	if (ret < 0)
		log_notice("%s: cannot take packets from its own address: %s; "
			   "packets too big for a client go unanswered",
			   s->ifname, strerror(-ret));
	ret = netlink_link_set_mtu(s->nl, s->ifindex, s->pmtu.device);
	if (!ret && c->has_pool4 && pool_server_address(&c->pool4, s->addr4)) {
		ret = netlink_addr_add(s->nl, s->ifindex, AF_INET, s->addr4,
				       len4);
		log_info("%s: address %s/%u", s->ifname,
			 prefix_format_addr(AF_INET, s->addr4, text), len4);
	}
	if (!ret && c->has_pool6 && pool_server_address(&c->pool6, s->addr6)) {
		ret = netlink_addr_add(s->nl, s->ifindex, AF_INET6, s->addr6,
				       len6);
		log_info("%s: address %s/%u", s->ifname,
			 prefix_format_addr(AF_INET6, s->addr6, text), len6);
	}
	pmtu_set_sources(&s->pmtu, c->has_pool4 ? s->addr4 : NULL,
			 c->has_pool6 ? s->addr6 : NULL);
	if (!ret)
		ret = netlink_link_set_up(s->nl, s->ifindex, true);
	if (ret < 0)
		log_err("cannot configure %s: %s", s->ifname, strerror(-ret));
	return ret;
}

/* The TUN device and the netlink socket that configures it. */
static int
open_device(struct server *s)
{
	int ret;

	ret = tunio_open(&s->tun, s->cfg->interface, s->cfg->offload,
			 s->ifname);
	if (ret < 0) {
		log_err("cannot open TUN device %s: %s", s->cfg->interface,
			strerror(-ret));
		return ret;
	}
	ret = netlink_open(&s->nl);
	if (ret < 0) {
		log_err("cannot open rtnetlink: %s", strerror(-ret));
		goto err_tun;
	}
	ret = configure_device(s);
	if (ret < 0)
		goto err_nl;
	return 0;
err_nl:
	netlink_close(s->nl);
	s->nl = NULL;
err_tun:
	tunio_close(&s->tun);
	sysctl_restore(&s->sysctls);
	return ret;
}

/* Closing the TUN fd removes the device with its addresses and routes:
 * nothing is left behind. */
static void
close_device(struct server *s)
{
	netlink_close(s->nl);
	s->nl = NULL;
	tunio_close(&s->tun);
	/* Once the device is gone: all's 1 must not reach it. */
	sysctl_restore(&s->sysctls);
}

/*
 * The packet workers that seal and open the batches in these buffers:
 * packet-workers threads in all, this one included ("auto": one per CPU,
 * at most CRYPTOPOOL_MAX_THREADS); 1 makes none, every AEAD then runs
 * here. Made now, while vpnd may still do anything; at nice 0, as the
 * loop (the login workers are below it).
 */
static int
start_packet_workers(struct server *s)
{
	unsigned int n = s->cfg->packet_workers;
	int ret;

	if (!n)
		n = cryptopool_cpus();
	if (n > CRYPTOPOOL_MAX_THREADS)
		n = CRYPTOPOOL_MAX_THREADS;
	s->pool = NULL;
	if (n > 1) {
		ret = cryptopool_start(&s->pool, n);
		if (ret < 0) {
			log_err("cannot start %u packet workers: %s", n,
				strerror(-ret));
			return ret;
		}
	}
	s->rx_jobs.pool = s->pool;
	s->rx_jobs.done = rx_done;
	s->rx_jobs.arg = s;
	log_info("packet workers: the AEAD on %u thread%s", n,
		 n == 1 ? " (the loop's own)" : "s (the loop's included)");
	return 0;
}

static int
alloc_buffers(struct server *s)
{
	size_t len = TUNNEL_BUF_LEN(s->pmtu.device);

	if (udp_buffers_alloc(&s->rx_bufs, len) < 0)
		return -ENOMEM;
	if (udp_buffers_alloc(&s->tx_bufs, len) < 0) {
		udp_buffers_free(&s->rx_bufs);
		return -ENOMEM;
	}
	if (tunio_init(&s->tun) < 0) {
		udp_buffers_free(&s->rx_bufs);
		udp_buffers_free(&s->tx_bufs);
		return -ENOMEM;
	}
	if (start_packet_workers(s) < 0) {
		tunio_free(&s->tun);
		udp_buffers_free(&s->rx_bufs);
		udp_buffers_free(&s->tx_bufs);
		return -ENOMEM;
	}
	udp_batch_receive_into(&s->rx, &s->rx_bufs);
	return 0;
}

static void
free_buffers(struct server *s)
{
	/* Idle between batches: joined at once. */
	cryptopool_stop(s->pool);
	s->pool = NULL;
	udp_buffers_free(&s->rx_bufs);
	udp_buffers_free(&s->tx_bufs);
	tunio_free(&s->tun);
}

static int
setup_loop(struct server *s)
{
	static const int signals[] = { SIGTERM, SIGINT, SIGHUP, 0 };
	int ret;

	ret = loop_init(&s->loop);
	if (ret < 0)
		return ret;
	if (s->udp.fd4 >= 0 &&
	    (ret = loop_add_fd(&s->loop, s->udp.fd4, EPOLLIN, on_udp4, s)) < 0)
		goto err;
	if (s->udp.fd6 >= 0 &&
	    (ret = loop_add_fd(&s->loop, s->udp.fd6, EPOLLIN, on_udp6, s)) < 0)
		goto err;
	ret = loop_add_fd(&s->loop, s->tun.fd, EPOLLIN, on_tun, s);
	if (!ret)
		ret = loop_add_fd(&s->loop, s->workers.eventfd, EPOLLIN,
				  on_workers, s);
	if (!ret)
		ret = loop_watch_signals(&s->loop, signals, on_signal, s);
	if (ret < 0)
		goto err;
	loop_set_timer_fn(&s->loop, on_timer, s);
	/* busy-poll: the loop spins before it sleeps, the sockets ask the
	 * kernel to poll the device. */
	if (s->cfg->busy_poll_us) {
		loop_set_busy_poll(&s->loop, s->cfg->busy_poll_us);
		(void)udp_set_busy_poll(&s->udp, s->cfg->busy_poll_us);
	}
	return 0;
err:
	loop_close(&s->loop);
	return ret;
}

static int
init_tables(struct server *s)
{
	const struct vpnd_config *c = s->cfg;
	uint32_t peers = c->max_peers + c->max_pending;
	uint8_t key[16];
	int ret;

	randombytes_buf(key, sizeof(key));
	ret = peer_table_init(&s->peers, c->max_peers, c->max_pending,
			      c->max_pending_per_source, key);
	if (ret < 0)
		return ret;
	route_table_init(&s->routes);
	ret = tunnel_init(&s->tunnel, &server_tunnel_ops, s, &s->pt,
			  c->private_key, peers, s->pmtu.device,
			  c->handshake_rate);
	if (ret < 0)
		goto err_routes;
	ret = server_set_source_limit(s, c->source_handshake_rate);
	if (ret < 0)
		goto err_tunnel;
	return 0;
err_tunnel:
	tunnel_free(&s->tunnel);
err_routes:
	route_table_free(&s->routes);
	peer_table_free(&s->peers);
	return ret;
}

int
server_set_source_limit(struct server *s, unsigned int rate)
{
	struct tunnel *t = &s->tunnel;

	if (rate)
		return tunnel_set_source_limit(t, rate, SOURCE_HANDSHAKE_BURST,
					       RATE_SOURCES);
	if (t->has_source_limit)
		ratelimit_free(&t->source_limit);
	t->has_source_limit = false;
	return 0;
}

static void
free_peers(struct server *s)
{
	uint32_t i;

	for (i = 0; i < s->peers.capacity; i++)
		if (s->peers.slots[i])
			roster_peer_free(s, s->peers.slots[i]);
}

static void
free_tables(struct server *s)
{
	free_peers(s);
	gate_stop(s);
	tunnel_free(&s->tunnel);
	route_table_free(&s->routes);
	peer_table_free(&s->peers);
}

int
server_start(struct server *s, const struct vpnd_config *c)
{
	char key[KEY_B64_LEN + 1];
	int ret;

	memset(s, 0, sizeof(*s));
	s->cfg = c;
	s->tun.fd = -1;
	s->udp.fd4 = s->udp.fd6 = -1;
	protocol_times_scaled(&s->pt, c->test_timer_divisor);
	server_policy_from_config(&s->policy, c);
	s->housekeeping_interval_ns = 10 * NS_PER_S / c->test_timer_divisor;
	server_clock(s);
	s->next_housekeeping_ns = s->now_ns + s->housekeeping_interval_ns;
	s->next_events_ns = s->now_ns + EVENTS_INTERVAL_NS;
	s->started_ns = s->now_ns;
	s->ctl.listen_fd = -1;
	notify_init(&s->notify, s->now_ns);
	/* Before anything is sized for it. */
	pmtu_discover(&s->pmtu, c->mtu);

	ret = init_tables(s);
	if (ret < 0) {
		log_err("cannot set up: %s", strerror(-ret));
		return ret;
	}
	ret = alloc_buffers(s);
	if (ret < 0)
		goto err_tables;
	ret = workers_start(&s->workers, c->user_db, &s->policy,
			    c->auth_workers, c->auth_queue, c->auth_per_source,
			    c->auth_queue + STORE_JOBS);
	if (ret < 0) {
		log_err("cannot open the user store %s", c->user_db);
		goto err_buffers;
	}
	/* Admitted keys' timestamps are known before any handshake. */
	ret = admit_start(s);
	if (ret < 0)
		goto err_workers;
	ret = open_device(s);
	if (ret < 0)
		goto err_workers;
	/* Its rules need the device's addresses; free_tables() frees them. */
	ret = gate_start(s);
	if (ret < 0)
		goto err_device;
	ret = lanmode_start(s);
	if (ret < 0)
		goto err_device;
	/* offload = no: UDP_SEGMENT and UDP_GRO off too (udp.h). */
	udp_set_offload(c->offload);
	ret = udp_open_server(&s->udp, c->listen_port);
	if (ret < 0) {
		log_err("cannot listen on UDP port %u: %s", c->listen_port,
			strerror(-ret));
		goto err_lan;
	}
	ret = setup_loop(s);
	if (ret < 0) {
		log_err("cannot start the event loop: %s", strerror(-ret));
		goto err_udp;
	}
	ret = ctl_open(&s->ctl, c->control_socket, c->control_gid, &s->loop,
		       ctlcmd_handle, s);
	if (ret < 0)
		goto err_loop;
	ret = exporter_start(s);
	if (ret < 0)
		goto err_ctl;
	keys_to_base64(key, c->public_key);
	log_notice("listening on UDP port %u (%s%s), device %s, public key %s",
		   c->listen_port, s->udp.fd4 >= 0 ? "IPv4" : "",
		   s->udp.fd6 >= 0 ? (s->udp.fd4 >= 0 ? "+IPv6" : "IPv6") : "",
		   s->ifname, key);
	return 0;
err_ctl:
	ctl_close(&s->ctl);
err_loop:
	loop_close(&s->loop);
err_udp:
	udp_close(&s->udp);
err_lan:
	lanmode_stop(s);
err_device:
	close_device(s);
err_workers:
	workers_stop(&s->workers);
err_buffers:
	free_buffers(s);
err_tables:
	free_tables(s);
	return ret;
}

int
server_run(struct server *s)
{
	int ret;

	/* The device, the sockets and the store are usable: tell systemd. */
	server_clock(s);
	notify_ready(&s->notify, s->now_ns, s->peers.n_admitted,
		     s->peers.in_login.len);
	rearm(s);
	ret = loop_run(&s->loop);
	if (ret < 0) {
		log_err("event loop failed: %s", strerror(-ret));
		return 1;
	}
	return s->exit_status;
}

/* The reverse of server_start; the clients were told in on_signal. */
void
server_stop(struct server *s)
{
	exporter_stop(s);
	ctl_close(&s->ctl);
	loop_close(&s->loop);
	udp_close(&s->udp);
	lanmode_stop(s);
	close_device(s);
	/* Threads before peers: no result may arrive for a peer freed. */
	workers_stop(&s->workers);
	free_buffers(s);
	free_tables(s);
}
