// SPDX-License-Identifier: MIT
/*
 * vpnd's metrics, from the server to the outside (see exporter.h): the
 * snapshot, and the loop's side of the HTTP endpoint and the textfile.
 * Reads the server's state and never changes it.
 */
#include "exporter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "access.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "textfile.h"
#include "version.h"

_Static_assert(METRICS_LOGIN_KINDS == ADMIT_LOGIN_KINDS,
	       "a snapshot holds every kind of login admit.c counts");

static struct exporter {
	struct server *s;
	struct httpd *httpd;
	struct textfile *textfile;
	int timer_fd;
	uint64_t start_time_s; /* UNIX time, fixed at the first snapshot */
} ex = { .timer_fd = -1 };

/* ---- the snapshot ---------------------------------------------------------- */

static enum metrics_state
state_of(const struct peer *p)
{
	if (p->login.state == ADMIT_ADMITTED)
		return METRICS_STATE_ADMITTED;
	if (p->login.state == ADMIT_LOOKUP)
		return METRICS_STATE_LOOKUP;
	return p->pool == PEER_POOL_LOGIN ? METRICS_STATE_LOGIN
					  : METRICS_STATE_HANDSHAKE;
}

/* a - b for counters where b never grows without a: never negative. */
static uint64_t
part(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* Live peers, plus what the peers that are gone had counted. */
static void
count_peers(const struct server *s, struct metrics_snapshot *m)
{
	const struct server_stats *st = &s->stats;
	uint64_t *d = m->drops;
	uint32_t i;

	m->rx_bytes = st->gone_rx_bytes;
	m->tx_bytes = st->gone_tx_bytes;
	m->rx_packets = st->gone_rx_packets;
	m->tx_packets = st->gone_tx_packets;
	d[METRICS_DROP_SPOOFED_SOURCE] = st->gone_dropped_source;
	d[METRICS_DROP_UNADMITTED] = st->gone_dropped_unadmitted;
	d[METRICS_DROP_MALFORMED_CONTROL] = st->gone_malformed_ctl;
	for (i = 0; i < s->peers.capacity; i++) {
		const struct peer *p = s->peers.slots[i];

		if (!p)
			continue;
		m->sessions[state_of(p)]++;
		m->rx_bytes += p->tp.rx_bytes;
		m->tx_bytes += p->tp.tx_bytes;
		m->rx_packets += p->tp.rx_packets;
		m->tx_packets += p->tp.tx_packets;
		d[METRICS_DROP_SPOOFED_SOURCE] += p->login.rx_dropped_source;
		d[METRICS_DROP_UNADMITTED] += p->login.rx_dropped_unadmitted;
		d[METRICS_DROP_MALFORMED_CONTROL] += p->login.rx_malformed_ctl;
	}
}

static void
count_offload(const struct server *s, struct metrics_snapshot *m)
{
	const struct tunio_stats *st = &s->tun.stats;
	unsigned int u = udp_offloads(s->udp.fd4 >= 0 ? s->udp.fd4
						       : s->udp.fd6);

	m->offload = (struct metrics_offload){
		.tun = s->tun.off.has_vnet,
		.udp_gso = u & UDP_OFFLOAD_GSO,
		.udp_gro = u & UDP_OFFLOAD_GRO,
		.super_read = st->rx_super,
		.segments = st->rx_segments,
		.refused = st->rx_refused,
		.coalesced_writes = st->tx_coalesced,
		.coalesced_packets = st->tx_coalesced_pkts,
	};
}

static void
count_drops(const struct server *s, struct metrics_snapshot *m)
{
	const struct tunnel_stats *t = &s->tunnel.stats;
	const struct server_stats *st = &s->stats;
	uint64_t *d = m->drops;

	d[METRICS_DROP_INVALID] = t->rx_invalid;
	d[METRICS_DROP_BAD_MAC] = t->rx_bad_mac;
	d[METRICS_DROP_HANDSHAKE_INVALID] = t->rx_handshake_invalid;
	d[METRICS_DROP_HANDSHAKE_REPLAY] = t->rx_handshake_replay;
	d[METRICS_DROP_RATELIMITED] = t->rx_ratelimited;
	/* Every refusal of peer_create counts in the tunnel's peers_refused;
	 * server.c says which were for room (peers_full), and of those which
	 * for the source's share: one reason each. */
	d[METRICS_DROP_PEERS_FULL] = part(st->peers_full,
					  st->peers_source_full);
	d[METRICS_DROP_SOURCE_FULL] = st->peers_source_full;
	d[METRICS_DROP_PEER_REFUSED] = part(t->peers_refused, st->peers_full);
	d[METRICS_DROP_DATA_INVALID] = t->rx_data_invalid;
	d[METRICS_DROP_REPLAY] = t->rx_replay;
	d[METRICS_DROP_MALFORMED] = t->rx_malformed;
	d[METRICS_DROP_NO_PEER] = st->tun_rx_no_peer;
	d[METRICS_DROP_OVERSIZE] = st->tun_rx_oversize;
	d[METRICS_DROP_STAGED_OVERFLOW] = t->staged_dropped;
	d[METRICS_DROP_UDP_SEND] = st->udp_tx_dropped;
	d[METRICS_DROP_TUN_WRITE] = st->tun_write_errors;
}

static void
copy_latency(struct metrics_latency *out, const struct admit_latency *in)
{
	out->n = in->n;
	out->sum_ns = in->sum_ns;
	out->max_ns = in->max_ns;
}

static void
count_logins(struct server *s, struct metrics_snapshot *m)
{
	const struct admit_server *a = &s->admit;
	unsigned int i;

	for (i = 0; i < a->n_login_kinds && i < METRICS_LOGIN_KINDS; i++) {
		m->logins[i].status = a->logins[i].status;
		m->logins[i].reason = a->logins[i].reason;
		m->logins[i].n = a->logins[i].n;
	}
	m->n_logins = i;
	m->logins_queued = workers_logins_queued(&s->workers);
	copy_latency(&m->login_latency, &a->login_latency);
	copy_latency(&m->store_latency, &a->store_latency);
	m->is_store_up = a->store_errno == 0 && !a->is_store_down;
	m->store_errors = a->store_failures;
}

_Static_assert(METRICS_ACCESS_RULES >= ACCESS_RULES_MAX + 2,
	       "every rule's refusals fit in a snapshot");

/* The names point into the running policy: render before it changes. */
static void
count_access(const struct server *s, struct metrics_snapshot *m)
{
	const struct access_policy *pol = s->access;
	unsigned int n = 0;
	uint32_t i;

	if (!pol)
		return;
	for (i = 0; i < pol->n_rules && n < METRICS_ACCESS_RULES - 2; i++) {
		m->refused[n].rule = pol->rules[i].name;
		m->refused[n++].n = pol->rules[i].refused;
	}
	m->refused[n].rule = ACCESS_CLIENT_TO_CLIENT;
	m->refused[n++].n = pol->refused_client;
	m->refused[n].rule = ACCESS_NO_RULE;
	m->refused[n++].n = pol->refused_no_rule;
	m->n_refused = n;
}

void
exporter_snapshot(struct server *s, struct metrics_snapshot *m)
{
	memset(m, 0, sizeof(*m));
	/* From the monotonic clock once, so a wall clock step later does not
	 * make vpnd seem to have restarted. */
	if (!ex.start_time_s)
		ex.start_time_s = (s->wall_ns - (s->now_ns - s->started_ns)) /
				  NS_PER_S;
	m->version = VPN_VERSION;
	m->node = s->cluster.node;
	m->start_time_s = ex.start_time_s;
	m->max_admitted = s->peers.max_admitted;
	m->max_pending = s->peers.max_pending;
	m->handshakes = s->tunnel.stats.handshakes;
	m->cookie_replies = s->tunnel.stats.cookies_sent;
	m->evicted = s->stats.peers_evicted;
	count_offload(s, m);
	count_peers(s, m);
	count_drops(s, m);
	count_logins(s, m);
	count_access(s, m);
}

/* ---- the loop's side ---------------------------------------------------------- */

static char *
render_now(struct server *s, size_t *len)
{
	struct metrics_snapshot m;
	char *text;

	server_clock(s);
	exporter_snapshot(s, &m);
	text = metrics_render(&m, len);
	if (!text)
		log_warn("metrics: out of memory");
	return text;
}

/* A scrape wants a newer text than the endpoint has. */
static void
on_refresh(void *arg, uint32_t events)
{
	struct exporter *e = arg;
	char *text;
	size_t len;

	(void)events;
	if (!httpd_refresh_take(e->httpd))
		return;
	text = render_now(e->s, &len);
	if (text)
		httpd_publish(e->httpd, text, len);
}

/* metrics-interval has passed: a new textfile. */
static void
on_interval(void *arg, uint32_t events)
{
	struct exporter *e = arg;
	uint64_t expirations;
	char *text;
	size_t len;

	(void)events;
	if (read(e->timer_fd, &expirations, sizeof(expirations)) !=
	    sizeof(expirations))
		return;
	text = render_now(e->s, &len);
	if (text)
		textfile_post(e->textfile, text, len);
}

static int
start_httpd(struct server *s)
{
	const struct sockaddr *sa = (const void *)&s->cfg->metrics_listen;
	socklen_t len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						  : sizeof(struct sockaddr_in);
	int ret;

	ret = httpd_start(&ex.httpd, sa, len);
	if (ret < 0)
		return ret;
	ret = loop_add_fd(&s->loop, httpd_refresh_fd(ex.httpd), EPOLLIN,
			  on_refresh, &ex);
	if (ret < 0)
		log_err("metrics-listen: cannot watch its eventfd: %s",
			strerror(-ret));
	return ret;
}

static int
start_textfile(struct server *s)
{
	const struct vpnd_config *c = s->cfg;
	struct itimerspec every = {
		.it_interval = { (time_t)c->metrics_interval_s, 0 },
		.it_value = { (time_t)c->metrics_interval_s, 0 },
	};
	char *text;
	size_t len;
	int ret;

	text = render_now(s, &len);
	if (!text)
		return -ENOMEM;
	ret = textfile_write(c->metrics_textfile, text, len);
	free(text);
	if (ret < 0) {
		log_err("metrics-textfile %s: cannot write it: %s",
			c->metrics_textfile, strerror(-ret));
		return ret;
	}
	ret = textfile_start(&ex.textfile, c->metrics_textfile);
	if (ret < 0) {
		log_err("metrics-textfile: cannot start its thread: %s",
			strerror(-ret));
		unlink(c->metrics_textfile);
		return ret;
	}
	ex.timer_fd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ex.timer_fd < 0 || timerfd_settime(ex.timer_fd, 0, &every, NULL) < 0)
		ret = -errno;
	else
		ret = loop_add_fd(&s->loop, ex.timer_fd, EPOLLIN, on_interval,
				  &ex);
	if (ret < 0)
		log_err("metrics-textfile: cannot set its timer: %s",
			strerror(-ret));
	return ret;
}

int
exporter_start(struct server *s)
{
	const struct vpnd_config *c = s->cfg;
	int ret;

	ex.s = s;
	if (c->has_metrics_listen) {
		ret = start_httpd(s);
		if (ret < 0)
			goto err;
	}
	if (c->metrics_textfile[0]) {
		ret = start_textfile(s);
		if (ret < 0)
			goto err;
	}
	return 0;
err:
	exporter_stop(s);
	return ret;
}

void
exporter_stop(struct server *s)
{
	if (ex.timer_fd >= 0) {
		loop_del_fd(&s->loop, ex.timer_fd);
		close(ex.timer_fd);
		ex.timer_fd = -1;
	}
	textfile_stop(ex.textfile);
	ex.textfile = NULL;
	if (ex.httpd) {
		loop_del_fd(&s->loop, httpd_refresh_fd(ex.httpd));
		httpd_stop(ex.httpd);
		ex.httpd = NULL;
	}
}
