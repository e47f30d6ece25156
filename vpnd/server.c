// SPDX-License-Identifier: MIT
/*
 * vpnd's packet path: datagrams from the UDP sockets go through the tunnel
 * engine to the TUN device, packets from the TUN device go to the client
 * that owns their destination. One thread, batches of UDP_BATCH, buffers
 * allocated at start, encryption in place. Nothing slow happens here: the
 * login layer (admit.c) hands password checks and store access to worker
 * threads and only reads their results.
 */
#include "server.h"

#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "log.h"
#include "netlink.h"
#include "tun.h"

/* Packets staged per client while it has no session (server side). */
#define SERVER_STAGED_PACKETS 8

static void
server_clock(struct server *s)
{
	s->now_ns = loop_now_ns();
	s->wall_ns = loop_wall_ns();
}

/* ---- peers ------------------------------------------------------------------ */

static void
peer_free(struct server *s, struct peer *p)
{
	admit_peer_gone(s, p);
	tunnel_peer_free(&p->tp);
	peer_release(&s->peers, p);
}

/* When every slot is taken, a client that never logged in gives way. */
static struct peer *
evict_unadmitted(struct server *s)
{
	struct peer *victim = NULL;
	uint32_t i;

	for (i = 0; i < s->peers.max; i++) {
		struct peer *p = &s->peers.slots[i];

		if (!p->in_use || p->adm == PEER_ADM_ADMITTED ||
		    p->login_in_flight)
			continue;
		if (!victim || p->created_ns < victim->created_ns)
			victim = p;
	}
	if (victim)
		peer_free(s, victim);
	return victim;
}

static struct tunnel_peer *
op_peer_by_key(void *arg, const uint8_t pub[32])
{
	struct server *s = arg;
	struct peer *p = peer_lookup(&s->peers, pub);

	if (p)
		return &p->tp;
	p = peer_alloc(&s->peers, pub, s->now_ns);
	if (!p && evict_unadmitted(s))
		p = peer_alloc(&s->peers, pub, s->now_ns);
	if (!p) {
		s->stats.peers_full++;
		return NULL;
	}
	if (tunnel_peer_init(&s->tunnel, &p->tp, pub,
			     s->cfg->has_psk ? s->cfg->psk : NULL,
			     SERVER_STAGED_PACKETS, p) < 0) {
		peer_release(&s->peers, p);
		return NULL;
	}
	admit_peer_new(s, p);
	return &p->tp;
}

void
server_peer_touched(struct server *s, struct peer *p)
{
	peer_deadline_update(&s->peers, p);
}

static void
rearm(struct server *s)
{
	struct peer *top = peer_heap_top(&s->peers);
	uint64_t d = s->next_housekeeping_ns;

	if (top && top->deadline_ns < d)
		d = top->deadline_ns;
	loop_set_deadline(&s->loop, d);
}

/* Frees the peers marked for it while an event was being handled. */
static void
reap(struct server *s)
{
	uint32_t i;

	for (i = 0; i < s->peers.max; i++)
		if (s->peers.slots[i].in_use && s->peers.slots[i].doomed)
			peer_free(s, &s->peers.slots[i]);
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
	if (!admit_ip_allowed(s, p, pkt, len))
		return;
	if (tun_write(s->tun_fd, pkt, len) < 0)
		s->stats.tun_write_errors++;
}

static void
op_keys_zeroed(void *arg, struct tunnel_peer *tp)
{
	(void)arg;
	/* Idle for 3 * REJECT_AFTER_TIME: the admission stays in the store
	 * and comes back with the next handshake. */
	((struct peer *)tp)->doomed = true;
}

static const struct tunnel_ops server_tunnel_ops = {
	.random = op_random,
	.send = op_send,
	.peer_by_key = op_peer_by_key,
	.deliver = op_deliver,
	.keys_zeroed = op_keys_zeroed,
};

void
server_send_control(struct server *s, struct peer *p, const uint8_t *msg,
		    size_t len)
{
	tunnel_send_control(&s->tunnel, &p->tp, msg, len, s->now_ns, s->wall_ns);
	server_peer_touched(s, p);
}

/* ---- events ------------------------------------------------------------------ */

static void
receive_udp(struct server *s, int fd)
{
	unsigned int i;
	int n;

	n = udp_recv_batch(fd, &s->rx);
	if (n <= 0)
		return;
	server_clock(s);
	for (i = 0; i < (unsigned int)n; i++) {
		struct tunnel_peer *tp;

		if (!s->rx.len[i])
			continue;
		tp = tunnel_receive(&s->tunnel, s->rx.buf[i], s->rx.len[i],
				    &s->rx.ep[i], s->now_ns, s->wall_ns);
		if (tp)
			server_peer_touched(s, (struct peer *)tp);
	}
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

static void
queue_datagram(struct server *s, struct peer *p, uint8_t *buf, size_t len)
{
	const struct endpoint *ep = &p->tp.endpoint;
	struct udp_batch *b = ep->addr.sa.sa_family == AF_INET6 ? &s->tx6
								 : &s->tx4;

	if (udp_fd_for(&s->udp, ep) < 0 || !udp_batch_add(b, ep, buf, len))
		s->stats.udp_tx_dropped++;
}

static void
on_tun(void *arg, uint32_t events)
{
	struct server *s = arg;
	size_t mtu = s->cfg->mtu;
	unsigned int i;

	(void)events;
	server_clock(s);
	for (i = 0; i < UDP_BATCH; i++) {
		uint8_t *buf = udp_buffer(&s->tx_bufs, i);
		uint8_t *pkt = buf + WIRE_DATA_HEADER_LEN;
		ssize_t n = tun_read(s->tun_fd, pkt, mtu + 1);
		struct peer *p;
		size_t len;

		if (n < 0)
			break;
		if ((size_t)n > mtu) {
			s->stats.tun_rx_oversize++;
			continue;
		}
		p = peer_for_packet(s, pkt, (size_t)n);
		if (!p) {
			s->stats.tun_rx_no_peer++;
			continue;
		}
		if (tunnel_encrypt(&s->tunnel, &p->tp, buf, (size_t)n, s->now_ns,
				   s->wall_ns, &len) == TUNNEL_TX_SEND)
			queue_datagram(s, p, buf, len);
		server_peer_touched(s, p);
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
	reap(s);
	rearm(s);
}

static void
on_signal(void *arg, int signo)
{
	struct server *s = arg;

	if (signo == SIGHUP) {
		log_notice("SIGHUP: reloading is not supported yet; restart "
			   "vpnd to apply configuration changes");
		return;
	}
	log_notice("%s: shutting down", strsignal(signo));
	server_clock(s);
	admit_shutdown(s);
	s->stopping = true;
	loop_stop(&s->loop);
}

/* ---- start and stop ---------------------------------------------------------- */

static void
policy_from_config(struct auth_policy *pol, const struct vpnd_config *c)
{
	memset(pol, 0, sizeof(*pol));
	pol->totp_window = c->totp_window;
	pol->lockout_failures = c->lockout_failures;
	pol->lockout_time_s = c->lockout_time_s;
	pol->lockout_max_time_s = c->lockout_max_time_s;
	pol->session_lifetime_s = c->session_lifetime_s;
	pol->has_pool4 = c->has_pool4;
	pol->pool4 = c->pool4;
	pol->has_pool6 = c->has_pool6;
	pol->pool6 = c->pool6;
}

/* The first address of a pool is the server's own. */
static void
first_address(const struct prefix *pool, uint8_t *out)
{
	size_t len = prefix_addr_len(pool->family);
	size_t i = len;

	memcpy(out, pool->addr, len);
	while (i-- > 0)
		if (++out[i] != 0)
			break;
}

static int
setup_device(struct server *s)
{
	const struct vpnd_config *c = s->cfg;
	char text[PREFIX_STR_LEN];
	int ret;

	ret = tun_open(c->interface, s->ifname, &s->tun_fd);
	if (ret < 0) {
		log_err("cannot open TUN device %s: %s", c->interface,
			strerror(-ret));
		return ret;
	}
	s->ifindex = (int)if_nametoindex(s->ifname);
	/* Clients reaching each other through us need no redirect; an
	 * unwritable /proc (a container) costs only the redirects. */
	ret = tun_no_redirects(s->ifname);
	if (ret < 0)
		log_debug("%s: cannot turn off ICMP redirects: %s", s->ifname,
			  strerror(-ret));
	ret = netlink_open(&s->nl);
	if (ret < 0) {
		log_err("cannot open rtnetlink: %s", strerror(-ret));
		return ret;
	}
	ret = netlink_link_set_mtu(s->nl, s->ifindex, c->mtu);
	if (!ret && c->has_pool4) {
		first_address(&c->pool4, s->addr4);
		ret = netlink_addr_add(s->nl, s->ifindex, AF_INET, s->addr4,
				       c->pool4.len);
		log_info("%s: address %s/%u", s->ifname,
			 prefix_format_addr(AF_INET, s->addr4, text),
			 c->pool4.len);
	}
	if (!ret && c->has_pool6) {
		first_address(&c->pool6, s->addr6);
		ret = netlink_addr_add(s->nl, s->ifindex, AF_INET6, s->addr6,
				       c->pool6.len);
		log_info("%s: address %s/%u", s->ifname,
			 prefix_format_addr(AF_INET6, s->addr6, text),
			 c->pool6.len);
	}
	if (!ret)
		ret = netlink_link_set_up(s->nl, s->ifindex, true);
	if (ret < 0)
		log_err("cannot configure %s: %s", s->ifname, strerror(-ret));
	return ret;
}

static int
setup_buffers(struct server *s)
{
	size_t len = TUNNEL_BUF_LEN(s->cfg->mtu);

	if (udp_buffers_alloc(&s->rx_bufs, len) < 0 ||
	    udp_buffers_alloc(&s->tx_bufs, len) < 0)
		return -ENOMEM;
	udp_batch_receive_into(&s->rx, &s->rx_bufs);
	return 0;
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
		return ret;
	if (s->udp.fd6 >= 0 &&
	    (ret = loop_add_fd(&s->loop, s->udp.fd6, EPOLLIN, on_udp6, s)) < 0)
		return ret;
	ret = loop_add_fd(&s->loop, s->tun_fd, EPOLLIN, on_tun, s);
	if (!ret)
		ret = loop_add_fd(&s->loop, s->workers.eventfd, EPOLLIN,
				  on_workers, s);
	if (!ret)
		ret = loop_watch_signals(&s->loop, signals, on_signal, s);
	loop_set_timer_fn(&s->loop, on_timer, s);
	return ret;
}

static int
setup_tables(struct server *s)
{
	const struct vpnd_config *c = s->cfg;
	uint8_t key[16];
	int ret;

	randombytes_buf(key, sizeof(key));
	ret = peer_table_init(&s->peers, c->max_peers, key);
	if (ret < 0)
		return ret;
	randombytes_buf(key, sizeof(key));
	ret = route_table_init(&s->routes, c->max_peers * 2, key);
	if (ret < 0)
		return ret;
	return tunnel_init(&s->tunnel, &server_tunnel_ops, s, &s->pt,
			   c->private_key, c->max_peers, c->mtu,
			   c->handshake_rate);
}

int
server_start(struct server *s, const struct vpnd_config *c)
{
	char key[KEY_B64_LEN + 1];
	int ret;

	memset(s, 0, sizeof(*s));
	s->cfg = c;
	s->tun_fd = -1;
	s->udp.fd4 = s->udp.fd6 = -1;
	protocol_times_scaled(&s->pt, c->test_timer_divisor);
	policy_from_config(&s->policy, c);
	s->housekeeping_interval_ns = 10 * NS_PER_S / c->test_timer_divisor;
	server_clock(s);
	s->next_housekeeping_ns = s->now_ns + s->housekeeping_interval_ns;

	ret = setup_tables(s);
	if (ret < 0) {
		log_err("cannot set up: %s", strerror(-ret));
		return ret;
	}
	ret = setup_buffers(s);
	if (ret < 0)
		return ret;
	ret = workers_start(&s->workers, c->user_db, &s->policy,
			    c->auth_workers, c->auth_queue,
			    c->auth_queue + c->max_peers * 2 + 64);
	if (ret < 0) {
		log_err("cannot open the user store %s", c->user_db);
		return ret;
	}
	ret = setup_device(s);
	if (ret < 0)
		return ret;
	ret = udp_open_server(&s->udp, c->listen_port);
	if (ret < 0) {
		log_err("cannot listen on UDP port %u: %s", c->listen_port,
			strerror(-ret));
		return ret;
	}
	ret = setup_loop(s);
	if (ret < 0) {
		log_err("cannot start the event loop: %s", strerror(-ret));
		return ret;
	}
	keys_to_base64(key, c->public_key);
	log_notice("listening on UDP port %u (%s%s), device %s, public key %s",
		   c->listen_port, s->udp.fd4 >= 0 ? "IPv4" : "",
		   s->udp.fd6 >= 0 ? (s->udp.fd4 >= 0 ? "+IPv6" : "IPv6") : "",
		   s->ifname, key);
	return 0;
}

int
server_run(struct server *s)
{
	int ret;

	rearm(s);
	ret = loop_run(&s->loop);
	if (ret < 0) {
		log_err("event loop failed: %s", strerror(-ret));
		return 1;
	}
	return s->exit_status;
}

void
server_stop(struct server *s)
{
	uint32_t i;

	/* Threads first: no result may arrive for a peer being freed. */
	if (s->workers.pool)
		workers_stop(&s->workers);
	for (i = 0; i < s->peers.max; i++)
		if (s->peers.slots[i].in_use)
			peer_free(s, &s->peers.slots[i]);
	if (s->loop.epfd > 0)
		loop_close(&s->loop);
	udp_close(&s->udp);
	/* Closing the TUN fd removes the device with its addresses and
	 * routes: nothing is left behind. */
	if (s->tun_fd >= 0)
		tun_close(s->tun_fd);
	if (s->nl)
		netlink_close(s->nl);
	if (s->tunnel.scratch)
		tunnel_free(&s->tunnel);
	route_table_free(&s->routes);
	peer_table_free(&s->peers);
	udp_buffers_free(&s->rx_bufs);
	udp_buffers_free(&s->tx_bufs);
}
