// SPDX-License-Identifier: MIT
/*
 * The load generator: many clients of vpnd in one process, each with its
 * own static key and its own UDP socket (bound to its own source address
 * when asked), each doing what vpnc does over the real protocol core:
 * the Noise handshake, MACs and cookies and the timers of section 7
 * (shared/tunnel.c, as vpnc uses it), then the login layer inside the
 * tunnel (shared/login.c) as vpnc speaks it: RESUME first, and when the
 * server answers AUTH_REQUIRED, AUTH_REQUEST with the password and the
 * TOTP code an authenticator app would show now (or, with --resume,
 * nothing more: a client without an admission has failed). A BUSY answer
 * is retried after its RETRY_AFTER with a new REQUEST_ID, a request is
 * retransmitted every second and given up after ten (then RESUME again,
 * which finds the admission if the login went through), and an admitted
 * session is kept alive by the keepalives the server pushed. One client may ping the server's tunnel address through its
 * tunnel and time every echo. See README.md beside this file
 * ("Login storm and idle sessions"); storm.sh and idle.sh drive it.
 *
 * A benchmark tool, not a client: it configures no device and trusts the
 * addresses it is given. Every key and TOTP secret comes from a seed, so
 * the scripts can enrol the users (the "oath" command writes a users.oath
 * file) and prepare admissions (the "keys" command) for the same clients
 * the "run" command brings up. Nothing here may be pointed at a server
 * that is not a benchmark's own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liboath/oath.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "keys.h"
#include "login.h"
#include "tunnel.h"
#include "wire.h"

#define LG_MTU 1420
#define LG_STAGED 2
#define LG_MAX_CLIENTS 65536
#define LG_NAME_LEN (LOGIN_USERNAME_MAX + 1)
#define LG_TOTP_SECRET_LEN 20
#define LG_REQUEST_CAP 512
#define LG_REQUEST_INTERVAL_NS NS_PER_S     /* section 6: every second */
#define LG_REQUEST_GIVE_UP_NS (10 * NS_PER_S) /* ... for ten seconds */
#define LG_TICK_NS (2 * NS_PER_MS)
#define LG_RX_PER_WAKE 32
#define LG_EVENTS 256
#define LG_PING_ID 0x6c67
#define LG_PING_PAYLOAD 56
#define LG_PING_LOST_NS (2 * NS_PER_S)
#define LG_OLD_IDS 4

enum lg_state {
	LG_WAITING,     /* not started yet (the ramp) */
	LG_HANDSHAKING, /* initiation sent */
	LG_REQUESTING,  /* AUTH_REQUEST or RESUME in flight */
	LG_UP,          /* admitted */
	LG_FAILED,      /* refused: AUTH_FAILED, LOCKED, POOL_EXHAUSTED... */
};

struct lg;

struct lg_client {
	struct lg *g;
	struct tunnel tunnel;
	struct tunnel_peer server;
	int fd;
	uint32_t key_index;
	enum lg_state state;
	uint64_t deadline_ns; /* cached: the earliest of everything below */
	uint8_t request[LG_REQUEST_CAP];
	size_t request_len;
	uint8_t request_type; /* LOGIN_RESUME or LOGIN_AUTH_REQUEST */
	/* AUTH_REQUESTs given up on (see on_control) */
	uint32_t old_ids[LG_OLD_IDS];
	unsigned int n_old_ids;
	uint32_t request_id;
	uint64_t request_first_ns, request_next_ns;
	uint64_t busy_retry_ns; /* 0: none */
	uint64_t started_ns, admitted_ns;
	uint8_t addr4[4], gateway4[4];
	bool has_addr4, has_gateway4;
	bool ever_up;
};

struct lg_ping {
	uint64_t sent_ns;
	uint64_t rtt_ns; /* 0: no reply (yet) */
};

struct lg_opts {
	const char *server;
	uint8_t server_pub[32];
	bool has_server_pub;
	uint8_t seed[32];
	bool has_seed;
	const char *src;
	uint32_t count, first;
	const char *user, *prefix, *password;
	bool resume;
	double rate; /* clients started a second; 0: all at once */
	uint32_t max_pending;
	double timeout_s, hold_s; /* hold < 0: until a signal */
	double ping_interval_ms;
	const char *ping_out;
	double progress_s;
};

struct lg_stats {
	uint64_t admitted, resumed_ok, busy, retry_after_s_sum, auth_failed,
		locked, pool_exhausted, other_refusals, auth_required,
		disconnects, request_timeouts, handshake_gave_up, rekeys,
		requests_sent, late_ok;
};

struct lg {
	struct lg_opts o;
	struct lg_client *clients;
	uint32_t n_started, n_pending, n_up;
	int epfd;
	struct endpoint server_ep;
	uint64_t now_ns, wall_ns;
	uint64_t t0_ns, all_up_ns, first_up_ns, last_up_ns;
	uint64_t next_start_ns;
	uint64_t earliest_ns; /* no client's deadline is earlier */
	struct protocol_times pt;
	struct lg_stats st;
	/* The pinger: client 0 when asked. */
	struct lg_ping *pings;
	size_t n_pings, pings_cap;
	uint64_t next_ping_ns;
	uint16_t ping_seq;
	uint8_t *txbuf;
};

static volatile sig_atomic_t stop_signal;

static void
on_signal(int signo)
{
	stop_signal = signo;
}

static uint64_t
clock_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* The tunnel's clock is vpnd's and vpnc's (shared/loop.c): BOOTTIME. */
static void
lg_clock(struct lg *g)
{
	g->now_ns = clock_of(CLOCK_BOOTTIME);
	g->wall_ns = clock_of(CLOCK_REALTIME);
}

static double
secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* ---- keys, names and secrets from the seed ------------------------------- */

static void
seed_set(uint8_t seed[32], const char *text)
{
	crypto_generichash(seed, 32, (const uint8_t *)text, strlen(text), NULL,
			   0);
}

/* BLAKE2b(key = seed, label || name) cut to out_len. */
static void
derive(const uint8_t seed[32], const char *label, const void *name,
       size_t name_len, uint8_t *out, size_t out_len)
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, seed, 32, out_len);
	crypto_generichash_update(&h, (const uint8_t *)label, strlen(label) + 1);
	crypto_generichash_update(&h, name, name_len);
	crypto_generichash_final(&h, out, out_len);
}

static void
client_private_key(const uint8_t seed[32], uint32_t index, uint8_t out[32])
{
	uint8_t le[4];

	wire_put_le32(le, index);
	derive(seed, "client-key", le, sizeof(le), out, 32);
	keys_clamp(out);
}

static void
totp_secret(const uint8_t seed[32], const char *user,
	    uint8_t out[LG_TOTP_SECRET_LEN])
{
	derive(seed, "totp-secret", user, strlen(user), out, LG_TOTP_SECRET_LEN);
}

/* --user for every client, else PREFIX followed by the key index. */
static void
user_name(const struct lg_opts *o, uint32_t key_index, char out[LG_NAME_LEN])
{
	if (o->user)
		snprintf(out, LG_NAME_LEN, "%s", o->user);
	else
		snprintf(out, LG_NAME_LEN, "%s%05u", o->prefix, key_index);
}

/* The code an authenticator app shows at `wall_ns` (RFC 6238, SHA-1, 30 s,
 * 6 digits: what a users.oath HOTP/T30 line means). */
static bool
totp_now(const uint8_t seed[32], const char *user, uint64_t wall_ns,
	 char code[7])
{
	uint8_t secret[LG_TOTP_SECRET_LEN];
	int rc;

	totp_secret(seed, user, secret);
	rc = oath_totp_generate((const char *)secret, sizeof(secret),
				(time_t)(wall_ns / NS_PER_S),
				OATH_TOTP_DEFAULT_TIME_STEP_SIZE,
				OATH_TOTP_DEFAULT_START_TIME, 6, code);
	sodium_memzero(secret, sizeof(secret));
	return rc == OATH_OK;
}

/* ---- the login layer ---------------------------------------------------- */

static void
client_rearm(struct lg *g, struct lg_client *c)
{
	uint64_t d = tunnel_peer_deadline(&c->server);

	if (c->state == LG_REQUESTING && c->request_len &&
	    c->request_next_ns < d)
		d = c->request_next_ns;
	if (c->busy_retry_ns && c->busy_retry_ns < d)
		d = c->busy_retry_ns;
	c->deadline_ns = d;
	if (d < g->earliest_ns)
		g->earliest_ns = d;
}

static void
request_send(struct lg *g, struct lg_client *c)
{
	tunnel_send_control(&c->tunnel, &c->server, c->request, c->request_len,
			    g->now_ns, g->wall_ns);
	c->request_next_ns = g->now_ns + LG_REQUEST_INTERVAL_NS;
	g->st.requests_sent++;
}

/* A new request (a new REQUEST_ID): RESUME, or AUTH_REQUEST with this
 * step's code. */
static void
request_begin(struct lg *g, struct lg_client *c, enum login_ctl_type type)
{
	char user[LG_NAME_LEN], code[7];
	struct login_writer w;

	user_name(&g->o, c->key_index, user);
	if (c->request_len && c->request_type == LOGIN_AUTH_REQUEST)
		c->old_ids[c->n_old_ids++ % LG_OLD_IDS] = c->request_id;
	randombytes_buf(&c->request_id, sizeof(c->request_id));
	c->request_type = (uint8_t)type;
	if (type == LOGIN_RESUME) {
		login_writer_init(&w, c->request, sizeof(c->request),
				  LOGIN_RESUME);
		login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, c->request_id);
		login_put_text(&w, LOGIN_ATTR_USERNAME, user);
	} else {
		if (!totp_now(g->o.seed, user, g->wall_ns, code)) {
			fprintf(stderr, "loadgen: liboath cannot compute a "
					"code\n");
			exit(1);
		}
		login_writer_init(&w, c->request, sizeof(c->request),
				  LOGIN_AUTH_REQUEST);
		login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, c->request_id);
		login_put_text(&w, LOGIN_ATTR_USERNAME, user);
		login_put_text(&w, LOGIN_ATTR_PASSWORD, g->o.password);
		login_put_text(&w, LOGIN_ATTR_TOTP, code);
		login_put_text(&w, LOGIN_ATTR_CLIENT_INFO, "loadgen");
	}
	c->request_len = login_writer_finish(&w);
	if (!c->request_len) {
		fprintf(stderr, "loadgen: the request does not fit\n");
		exit(1);
	}
	c->state = LG_REQUESTING;
	c->busy_retry_ns = 0;
	c->request_first_ns = g->now_ns;
	request_send(g, c);
}

static void
request_clear(struct lg_client *c)
{
	sodium_memzero(c->request, sizeof(c->request));
	c->request_len = 0;
}

static void
client_admitted(struct lg *g, struct lg_client *c, const struct login_msg *m)
{
	request_clear(c);
	c->busy_retry_ns = 0;
	c->state = LG_UP;
	c->has_addr4 = login_has(m, LOGIN_ATTR_ADDRESS4);
	memcpy(c->addr4, m->address4.addr, 4);
	c->has_gateway4 = login_has(m, LOGIN_ATTR_GATEWAY4);
	memcpy(c->gateway4, m->gateway4, 4);
	tunnel_peer_set_keepalive(&c->server, g->now_ns, m->keepalive_s);
	if (c->ever_up) {
		g->n_up++; /* admitted again after a DISCONNECT */
		return;
	}
	c->ever_up = true;
	c->admitted_ns = g->now_ns;
	g->st.admitted++;
	g->n_up++;
	g->n_pending--;
	if (!g->first_up_ns)
		g->first_up_ns = g->now_ns;
	g->last_up_ns = g->now_ns;
	if (g->n_up == g->o.count)
		g->all_up_ns = g->now_ns;
}

static void
client_refused(struct lg *g, struct lg_client *c, const struct login_msg *m)
{
	request_clear(c);
	switch (m->status) {
	case LOGIN_STATUS_BUSY:
		/* Rule 2: the same login again, with a new REQUEST_ID, no
		 * sooner than the server asked. */
		g->st.busy++;
		g->st.retry_after_s_sum += m->retry_after_s;
		c->busy_retry_ns = g->now_ns +
				   (uint64_t)(m->retry_after_s ? m->retry_after_s
							       : 1) *
					   NS_PER_S;
		return;
	case LOGIN_STATUS_AUTH_FAILED:
		g->st.auth_failed++;
		break;
	case LOGIN_STATUS_LOCKED:
		g->st.locked++;
		break;
	case LOGIN_STATUS_POOL_EXHAUSTED:
		g->st.pool_exhausted++;
		break;
	default:
		g->st.other_refusals++;
		break;
	}
	/* A client admitted before (then disconnected) is no longer
	 * counted as pending. */
	if (!c->ever_up)
		g->n_pending--;
	c->state = LG_FAILED;
}

/*
 * An AUTH_REQUEST given up after ten seconds may still be in vpnd's queue:
 * its check goes on, and an OK consumes the code's TOTP step. vpnc ignores
 * that answer (a new request is under way), and its next AUTH_REQUEST, with
 * the same step's code, is refused as a reused code. The generator takes
 * the late OK instead and counts it (late_ok): the storm measures vpnd's
 * admissions, not that race.
 */
static bool
is_old_id(const struct lg_client *c, uint32_t id)
{
	unsigned int i, n = c->n_old_ids < LG_OLD_IDS ? c->n_old_ids
						      : LG_OLD_IDS;

	for (i = 0; i < n; i++)
		if (c->old_ids[i] == id)
			return true;
	return false;
}

static void
on_control(struct lg *g, struct lg_client *c, const uint8_t *pkt, size_t len)
{
	struct login_msg m;

	if (login_decode(pkt, len, LOGIN_FROM_SERVER, &m) != LOGIN_DECODE_OK)
		return;
	switch (m.type) {
	case LOGIN_AUTH_RESULT:
		if (c->state == LG_REQUESTING && m.status == LOGIN_STATUS_OK &&
		    is_old_id(c, m.request_id)) {
			g->st.late_ok++;
			client_admitted(g, c, &m);
			return;
		}
		if (c->state != LG_REQUESTING || !c->request_len ||
		    m.request_id != c->request_id)
			return; /* an answer to a request given up */
		if (m.status == LOGIN_STATUS_OK)
			client_admitted(g, c, &m);
		else
			client_refused(g, c, &m);
		break;
	case LOGIN_AUTH_REQUIRED:
		g->st.auth_required++;
		/* Admitted: one answering a RESUME (it carries its
		 * REQUEST_ID) is an old one's, overtaken by a late OK. */
		if (c->state == LG_UP &&
		    login_has(&m, LOGIN_ATTR_REQUEST_ID))
			break;
		if (c->state != LG_UP &&
		    (c->state != LG_REQUESTING ||
		     c->request_type != LOGIN_RESUME || !c->request_len ||
		     m.request_id != c->request_id))
			break; /* only the answer to our RESUME says anything */
		if (c->state == LG_UP)
			g->n_up--;
		request_clear(c);
		if (!g->o.resume) {
			/* As vpnc: no admission, so log in. */
			request_begin(g, c, LOGIN_AUTH_REQUEST);
			break;
		}
		/* No admission: nothing a benchmark can type in. */
		if (!c->ever_up)
			g->n_pending--;
		c->state = LG_FAILED;
		break;
	case LOGIN_DISCONNECT:
		g->st.disconnects++;
		if (c->state == LG_UP) {
			/* As vpnc: the session is gone, the admission may not
			 * be: connect again and ask with the same request. */
			g->n_up--;
			c->state = LG_HANDSHAKING;
			tunnel_peer_reset(&c->server);
			tunnel_peer_set_endpoint(&c->server, &g->server_ep);
			tunnel_initiate(&c->tunnel, &c->server, g->now_ns,
					g->wall_ns);
		}
		break;
	default:
		break;
	}
}

/* ---- ping --------------------------------------------------------------- */

static uint16_t
csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An ICMP echo request from the client's tunnel address to the server's,
 * written at pkt; returns its length. */
static size_t
ping_build(const struct lg_client *c, uint16_t seq, uint8_t *pkt)
{
	size_t icmp_len = 8 + LG_PING_PAYLOAD, len = 20 + icmp_len;
	uint8_t *icmp = pkt + 20;
	uint16_t sum;

	memset(pkt, 0, len);
	pkt[0] = 0x45;
	pkt[2] = (uint8_t)(len >> 8);
	pkt[3] = (uint8_t)len;
	pkt[6] = 0x40; /* DF */
	pkt[8] = 64;
	pkt[9] = IPPROTO_ICMP;
	memcpy(pkt + 12, c->addr4, 4);
	memcpy(pkt + 16, c->gateway4, 4);
	sum = csum(pkt, 20);
	pkt[10] = (uint8_t)(sum >> 8);
	pkt[11] = (uint8_t)sum;
	icmp[0] = 8; /* echo request */
	icmp[4] = LG_PING_ID >> 8;
	icmp[5] = LG_PING_ID & 0xff;
	icmp[6] = (uint8_t)(seq >> 8);
	icmp[7] = (uint8_t)seq;
	memset(icmp + 8, 0xa5, LG_PING_PAYLOAD);
	sum = csum(icmp, icmp_len);
	icmp[2] = (uint8_t)(sum >> 8);
	icmp[3] = (uint8_t)sum;
	return len;
}

static void
ping_send(struct lg *g, struct lg_client *c)
{
	uint8_t *buf = g->txbuf;
	size_t len, msg_len;
	struct lg_ping *p;

	if (g->n_pings == g->pings_cap)
		return;
	len = ping_build(c, g->ping_seq, buf + WIRE_DATA_HEADER_LEN);
	p = &g->pings[g->n_pings++];
	p->sent_ns = clock_of(CLOCK_BOOTTIME);
	p->rtt_ns = 0;
	g->ping_seq++;
	if (tunnel_encrypt(&c->tunnel, &c->server, buf, len, g->now_ns,
			   g->wall_ns, &msg_len) == TUNNEL_TX_SEND)
		(void)send(c->fd, buf, msg_len, 0);
}

/* An echo reply to one of ours: its round trip, timed now. */
static void
ping_reply(struct lg *g, const uint8_t *pkt, size_t len)
{
	uint64_t now = clock_of(CLOCK_BOOTTIME);
	size_t ihl, k;
	uint16_t seq;

	if (len < 20 || pkt[0] >> 4 != 4 || pkt[9] != IPPROTO_ICMP)
		return;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	if (len < ihl + 8 || pkt[ihl] != 0 ||
	    (pkt[ihl + 4] << 8 | pkt[ihl + 5]) != LG_PING_ID)
		return;
	seq = (uint16_t)(pkt[ihl + 6] << 8 | pkt[ihl + 7]);
	/* The latest ping with that sequence number (it wraps at 65536). */
	for (k = g->n_pings; k > 0 && g->n_pings - k < 65536; k--) {
		if ((uint16_t)(k - 1) != seq)
			continue;
		if (!g->pings[k - 1].rtt_ns)
			g->pings[k - 1].rtt_ns = now - g->pings[k - 1].sent_ns;
		return;
	}
}

static int
pings_write(const struct lg *g)
{
	FILE *f = fopen(g->o.ping_out, "w");
	size_t i;

	if (!f) {
		fprintf(stderr, "loadgen: %s: %s\n", g->o.ping_out,
			strerror(errno));
		return -1;
	}
	/* Sent (BOOTTIME ns) and round trip (ns; -1: lost). */
	for (i = 0; i < g->n_pings; i++)
		fprintf(f, "%llu %lld\n",
			(unsigned long long)g->pings[i].sent_ns,
			g->pings[i].rtt_ns ? (long long)g->pings[i].rtt_ns
					   : -1LL);
	return fclose(f) == 0 ? 0 : -1;
}

/* ---- the tunnel engine's callbacks -------------------------------------- */

static void
op_random(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	randombytes_buf(buf, len);
}

static void
op_send(void *arg, const struct endpoint *ep, const uint8_t *buf, size_t len)
{
	struct lg_client *c = arg;

	(void)ep; /* connected to the server */
	(void)send(c->fd, buf, len, 0);
}

static struct tunnel_peer *
op_peer_by_key(void *arg, const uint8_t pub[32])
{
	struct lg_client *c = arg;

	return keys_equal(pub, c->server.noise.remote_static) ? &c->server
							      : NULL;
}

static void
op_deliver(void *arg, struct tunnel_peer *p, enum wire_payload kind,
	   uint8_t *pkt, size_t len)
{
	struct lg_client *c = arg;

	(void)p;
	if (kind == WIRE_PAYLOAD_CONTROL)
		on_control(c->g, c, pkt, len);
	else if (kind == WIRE_PAYLOAD_IPV4 && c == &c->g->clients[0])
		ping_reply(c->g, pkt, len);
}

static void
op_session_started(void *arg, struct tunnel_peer *p)
{
	struct lg_client *c = arg;
	struct lg *g = c->g;

	(void)p;
	/* As vpnc: RESUME first after the handshake that starts a
	 * connection. */
	if (c->state == LG_HANDSHAKING)
		request_begin(g, c, LOGIN_RESUME);
	else
		g->st.rekeys++;
}

static void
op_gave_up(void *arg, struct tunnel_peer *p)
{
	struct lg_client *c = arg;
	struct lg *g = c->g;

	(void)p;
	g->st.handshake_gave_up++;
	/* As vpnc: start over (the run's timeout bounds it). */
	tunnel_peer_reset(&c->server);
	tunnel_peer_set_endpoint(&c->server, &g->server_ep);
	tunnel_initiate(&c->tunnel, &c->server, g->now_ns, g->wall_ns);
}

static const struct tunnel_ops lg_ops = {
	.random = op_random,
	.send = op_send,
	.peer_by_key = op_peer_by_key,
	.deliver = op_deliver,
	.session_started = op_session_started,
	.handshake_gave_up = op_gave_up,
};

/* ---- clients ------------------------------------------------------------ */

static int
client_socket(const struct lg *g, uint32_t i)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (g->o.src) {
		if (inet_pton(AF_INET, g->o.src, &src.sin_addr) != 1) {
			close(fd);
			return -EINVAL;
		}
		src.sin_addr.s_addr = htonl(ntohl(src.sin_addr.s_addr) + i);
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0)
			goto fail;
	}
	if (connect(fd, &g->server_ep.addr.sa, sizeof(struct sockaddr_in)) < 0)
		goto fail;
	return fd;
fail:
	i = (uint32_t)errno;
	close(fd);
	return -(int)i;
}

static int
client_init(struct lg *g, uint32_t i)
{
	struct lg_client *c = &g->clients[i];
	struct epoll_event ev = { .events = EPOLLIN };
	uint8_t priv[32];
	int ret;

	c->g = g;
	c->key_index = g->o.first + i;
	c->fd = client_socket(g, i);
	if (c->fd < 0) {
		fprintf(stderr, "loadgen: client %u: socket: %s\n", i,
			strerror(-c->fd));
		return c->fd;
	}
	ev.data.ptr = c;
	if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		return -errno;
	client_private_key(g->o.seed, c->key_index, priv);
	ret = tunnel_init(&c->tunnel, &lg_ops, c, &g->pt, priv, 1, LG_MTU, 0);
	sodium_memzero(priv, sizeof(priv));
	if (ret < 0)
		return ret;
	ret = tunnel_peer_init(&c->tunnel, &c->server, g->o.server_pub, NULL,
			       LG_STAGED, c);
	if (ret < 0)
		return ret;
	c->server.can_initiate = true;
	c->state = LG_WAITING;
	c->deadline_ns = TIMER_OFF;
	return 0;
}

static void
client_start(struct lg *g, struct lg_client *c)
{
	c->state = LG_HANDSHAKING;
	c->started_ns = g->now_ns;
	tunnel_peer_set_endpoint(&c->server, &g->server_ep);
	tunnel_initiate(&c->tunnel, &c->server, g->now_ns, g->wall_ns);
	g->n_started++;
	g->n_pending++;
	client_rearm(g, c);
}

/* The ramp: --rate a second, at most --max-pending not yet admitted. */
static void
start_more(struct lg *g)
{
	uint32_t budget = 1;

	if (!g->o.rate)
		budget = g->o.count;
	else if (g->now_ns < g->next_start_ns)
		return;
	while (budget-- && g->n_started < g->o.count) {
		if (g->o.max_pending && g->n_pending >= g->o.max_pending)
			return;
		client_start(g, &g->clients[g->n_started]);
		if (g->o.rate) {
			g->next_start_ns += (uint64_t)(1e9 / g->o.rate);
			if (g->next_start_ns > g->now_ns)
				return;
			budget = 1;
		}
	}
}

static void
client_expire(struct lg *g, struct lg_client *c)
{
	tunnel_peer_expire(&c->tunnel, &c->server, g->now_ns, g->wall_ns);
	if (c->busy_retry_ns && g->now_ns >= c->busy_retry_ns)
		request_begin(g, c, (enum login_ctl_type)c->request_type);
	if (c->state == LG_REQUESTING && c->request_len &&
	    g->now_ns >= c->request_next_ns) {
		if (g->now_ns - c->request_first_ns >= LG_REQUEST_GIVE_UP_NS) {
			/* vpnc reconnects and sends RESUME, which finds the
			 * admission if the login it gave up on went
			 * through; here the session is kept, counted. */
			g->st.request_timeouts++;
			request_begin(g, c, LOGIN_RESUME);
		} else {
			request_send(g, c);
		}
	}
	client_rearm(g, c);
}

static void
client_read(struct lg *g, struct lg_client *c)
{
	uint8_t buf[TUNNEL_BUF_LEN(LG_MTU)];
	struct endpoint src = g->server_ep;
	unsigned int n;
	ssize_t len;

	for (n = 0; n < LG_RX_PER_WAKE; n++) {
		len = recv(c->fd, buf, sizeof(buf), 0);
		if (len < 0)
			break;
		lg_clock(g);
		tunnel_receive(&c->tunnel, buf, (size_t)len, &src, g->now_ns,
			       g->wall_ns);
	}
	client_rearm(g, c);
}

/* ---- the run ------------------------------------------------------------ */

static void
progress(const struct lg *g)
{
	fprintf(stderr,
		"loadgen: %.1f s: %u started, %u up, %u pending, %llu busy, "
		"%llu failed\n",
		secs(g->now_ns - g->t0_ns), g->n_started, g->n_up,
		g->n_pending, (unsigned long long)g->st.busy,
		(unsigned long long)(g->st.auth_failed + g->st.locked +
				     g->st.pool_exhausted +
				     g->st.other_refusals));
}

static uint32_t
sessions_alive(const struct lg *g)
{
	uint32_t i, n = 0;

	for (i = 0; i < g->o.count; i++)
		if (g->clients[i].state == LG_UP &&
		    tunnel_peer_has_session(&g->clients[i].server, g->now_ns))
			n++;
	return n;
}

static void
report(const struct lg *g, bool timed_out)
{
	const struct lg_stats *s = &g->st;

	printf("clients=%u\n", g->o.count);
	printf("admitted=%llu\n", (unsigned long long)s->admitted);
	printf("timed_out=%d\n", timed_out);
	printf("t0_boottime_ns=%llu\n", (unsigned long long)g->t0_ns);
	printf("all_up_boottime_ns=%llu\n", (unsigned long long)g->all_up_ns);
	printf("admit_all_s=%.3f\n",
	       g->all_up_ns ? secs(g->all_up_ns - g->t0_ns) : -1.0);
	printf("last_admitted_s=%.3f\n",
	       g->last_up_ns ? secs(g->last_up_ns - g->t0_ns) : -1.0);
	printf("busy=%llu\n", (unsigned long long)s->busy);
	printf("retry_after_s_sum=%llu\n",
	       (unsigned long long)s->retry_after_s_sum);
	printf("auth_failed=%llu\n", (unsigned long long)s->auth_failed);
	printf("locked=%llu\n", (unsigned long long)s->locked);
	printf("pool_exhausted=%llu\n", (unsigned long long)s->pool_exhausted);
	printf("other_refusals=%llu\n", (unsigned long long)s->other_refusals);
	printf("auth_required=%llu\n", (unsigned long long)s->auth_required);
	printf("disconnects=%llu\n", (unsigned long long)s->disconnects);
	printf("request_timeouts=%llu\n",
	       (unsigned long long)s->request_timeouts);
	printf("requests_sent=%llu\n", (unsigned long long)s->requests_sent);
	printf("late_ok=%llu\n", (unsigned long long)s->late_ok);
	printf("handshake_gave_up=%llu\n",
	       (unsigned long long)s->handshake_gave_up);
	printf("rekeys=%llu\n", (unsigned long long)s->rekeys);
	printf("alive_at_end=%u\n", sessions_alive(g));
	printf("pings=%zu\n", g->n_pings);
	fflush(stdout);
}

/* Runs every client whose deadline passed; returns the earliest left. */
static uint64_t
expire_all(struct lg *g)
{
	uint64_t next = TIMER_OFF;
	uint32_t i;

	if (g->now_ns < g->earliest_ns)
		return g->earliest_ns;
	for (i = 0; i < g->n_started; i++) {
		struct lg_client *c = &g->clients[i];

		if (c->deadline_ns <= g->now_ns) {
			lg_clock(g);
			client_expire(g, c);
		}
		if (c->deadline_ns < next)
			next = c->deadline_ns;
	}
	g->earliest_ns = next;
	return next;
}

static void
maybe_ping(struct lg *g)
{
	struct lg_client *c = &g->clients[0];

	if (!g->o.ping_interval_ms || c->state != LG_UP || !c->has_addr4 ||
	    !c->has_gateway4 || g->now_ns < g->next_ping_ns)
		return;
	ping_send(g, c);
	g->next_ping_ns += (uint64_t)(g->o.ping_interval_ms * 1e6);
	if (g->next_ping_ns < g->now_ns)
		g->next_ping_ns = g->now_ns;
	client_rearm(g, c);
}

static int
run(struct lg *g)
{
	struct epoll_event ev[LG_EVENTS];
	uint64_t end_ns = TIMER_OFF, next_progress, next, hold_end = TIMER_OFF;
	bool timed_out = false;
	int n, i, timeout_ms;

	lg_clock(g);
	g->t0_ns = g->now_ns;
	g->next_start_ns = g->now_ns;
	g->next_ping_ns = g->now_ns;
	if (g->o.timeout_s > 0)
		end_ns = g->now_ns + (uint64_t)(g->o.timeout_s * 1e9);
	next_progress = g->now_ns + (uint64_t)(g->o.progress_s * 1e9);
	while (!stop_signal) {
		lg_clock(g);
		start_more(g);
		maybe_ping(g);
		next = expire_all(g);
		lg_clock(g);
		if (g->o.progress_s > 0 && g->now_ns >= next_progress) {
			progress(g);
			next_progress += (uint64_t)(g->o.progress_s * 1e9);
		}
		if (g->all_up_ns && hold_end == TIMER_OFF) {
			fprintf(stderr, "loadgen: all %u admitted in %.3f s\n",
				g->o.count, secs(g->all_up_ns - g->t0_ns));
			printf("ready=1\n");
			fflush(stdout);
			if (g->o.hold_s >= 0)
				hold_end = g->now_ns +
					   (uint64_t)(g->o.hold_s * 1e9);
			else
				hold_end = TIMER_OFF - 1;
		}
		if (g->now_ns >= hold_end)
			break;
		if (!g->all_up_ns && g->now_ns >= end_ns) {
			timed_out = true;
			break;
		}
		/* Every client admitted or refused, not all admitted. */
		if (!g->all_up_ns && g->n_started == g->o.count &&
		    !g->n_pending) {
			fprintf(stderr, "loadgen: %u of %u admitted, the "
					"others refused\n", g->n_up, g->o.count);
			break;
		}
		if (g->o.ping_interval_ms && g->next_ping_ns < next)
			next = g->next_ping_ns;
		if (g->n_started < g->o.count && g->next_start_ns < next)
			next = g->next_start_ns;
		if (next > g->now_ns + LG_TICK_NS * 50)
			next = g->now_ns + LG_TICK_NS * 50;
		timeout_ms = next <= g->now_ns
				     ? 0
				     : (int)((next - g->now_ns + NS_PER_MS - 1) /
					     NS_PER_MS);
		n = epoll_wait(g->epfd, ev, LG_EVENTS, timeout_ms);
		if (n < 0 && errno != EINTR) {
			perror("loadgen: epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++)
			client_read(g, ev[i].data.ptr);
	}
	lg_clock(g);
	if (timed_out)
		fprintf(stderr, "loadgen: timed out: %u of %u admitted\n",
			g->n_up, g->o.count);
	report(g, timed_out);
	if (g->o.ping_out && pings_write(g) < 0)
		return 1;
	return timed_out ? 3 : g->all_up_ns ? 0 : 4;
}

static int
raise_fd_limit(uint32_t count)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)count + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur >= want)
		return 0;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	rl.rlim_cur = want;
	return setrlimit(RLIMIT_NOFILE, &rl) < 0 ? -errno : 0;
}

static int
parse_server(struct lg *g)
{
	char host[64];
	const char *colon = strrchr(g->o.server, ':');
	struct sockaddr_in *in = &g->server_ep.addr.in4;
	long port;

	memset(&g->server_ep, 0, sizeof(g->server_ep));
	if (!colon || (size_t)(colon - g->o.server) >= sizeof(host))
		return -1;
	memcpy(host, g->o.server, (size_t)(colon - g->o.server));
	host[colon - g->o.server] = '\0';
	port = strtol(colon + 1, NULL, 10);
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)port);
	if (port <= 0 || port > 65535 || inet_pton(AF_INET, host,
						   &in->sin_addr) != 1)
		return -1;
	return 0;
}

static int
cmd_run(struct lg *g)
{
	struct sigaction sa = { .sa_handler = on_signal };
	uint32_t i;
	int ret;

	if (!g->o.server || !g->o.has_server_pub || !g->o.has_seed ||
	    !g->o.count || (!g->o.resume && !g->o.password) ||
	    (!g->o.user && !g->o.prefix) || parse_server(g) < 0) {
		fprintf(stderr, "loadgen run: needs --server IP:PORT, "
				"--server-key, --seed, --count, --user or "
				"--prefix, and --password or --resume\n");
		return 2;
	}
	ret = raise_fd_limit(g->o.count);
	if (ret < 0) {
		fprintf(stderr, "loadgen: cannot raise RLIMIT_NOFILE to %u: "
				"%s\n", g->o.count + 64, strerror(-ret));
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	g->epfd = epoll_create1(EPOLL_CLOEXEC);
	protocol_times_default(&g->pt);
	g->earliest_ns = TIMER_OFF;
	g->clients = calloc(g->o.count, sizeof(*g->clients));
	g->txbuf = malloc(TUNNEL_BUF_LEN(LG_MTU));
	if (g->o.ping_interval_ms) {
		g->pings_cap = 1000000;
		g->pings = calloc(g->pings_cap, sizeof(*g->pings));
	}
	if (g->epfd < 0 || !g->clients || !g->txbuf ||
	    (g->o.ping_interval_ms && !g->pings)) {
		fprintf(stderr, "loadgen: out of memory\n");
		return 1;
	}
	for (i = 0; i < g->o.count; i++)
		if (client_init(g, i) < 0)
			return 1;
	return run(g);
}

/* ---- the other commands --------------------------------------------------- */

/* One public key (base64) per line, for the clients of --first/--count. */
static int
cmd_keys(const struct lg *g)
{
	uint8_t priv[32], pub[32];
	char b64[KEY_B64_LEN + 1];
	uint32_t i;

	for (i = 0; i < g->o.count; i++) {
		client_private_key(g->o.seed, g->o.first + i, priv);
		if (!keys_public_from_private(pub, priv))
			return 1;
		keys_to_base64(b64, pub);
		printf("%s\n", b64);
	}
	sodium_memzero(priv, sizeof(priv));
	return 0;
}

/* A users.oath file (vpnctl user import-oath) for the users of the run. */
static int
cmd_oath(const struct lg *g)
{
	uint8_t secret[LG_TOTP_SECRET_LEN];
	char user[LG_NAME_LEN];
	uint32_t i, k, n = g->o.user ? 1 : g->o.count;

	if (!g->o.password || strpbrk(g->o.password, " \t")) {
		fprintf(stderr, "loadgen oath: --password without blanks (it "
				"is the PIN field)\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		user_name(&g->o, g->o.first + i, user);
		totp_secret(g->o.seed, user, secret);
		printf("HOTP/T30 %s %s ", user, g->o.password);
		for (k = 0; k < sizeof(secret); k++)
			printf("%02x", secret[k]);
		printf("\n");
	}
	sodium_memzero(secret, sizeof(secret));
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One Argon2id hash as vpnd makes and checks them (libsodium's INTERACTIVE
 * limits), timed --count times; the median. */
static int
cmd_hashtime(const struct lg *g)
{
	char out[crypto_pwhash_STRBYTES];
	uint32_t n = g->o.count ? g->o.count : 5, i;
	uint64_t *t = calloc(n, sizeof(*t)), t0;

	if (!t)
		return 1;
	for (i = 0; i < n; i++) {
		t0 = clock_of(CLOCK_MONOTONIC);
		if (crypto_pwhash_str(out, "correct horse battery staple", 28,
				      crypto_pwhash_OPSLIMIT_INTERACTIVE,
				      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
			fprintf(stderr, "loadgen: crypto_pwhash_str failed\n");
			free(t);
			return 1;
		}
		t[i] = clock_of(CLOCK_MONOTONIC) - t0;
	}
	qsort(t, n, sizeof(*t), cmp_u64);
	printf("argon2id_hashes=%u\n", n);
	printf("argon2id_min_ms=%.1f\n", (double)t[0] / 1e6);
	printf("argon2id_median_ms=%.1f\n", (double)t[n / 2] / 1e6);
	printf("argon2id_max_ms=%.1f\n", (double)t[n - 1] / 1e6);
	free(t);
	return 0;
}

static void
usage(void)
{
	fputs("usage: loadgen run --server IP:PORT --server-key B64 --seed TEXT\n"
	      "           --count N [--first K] (--user NAME | --prefix P)\n"
	      "           (--password PW | --resume) [--src IP] [--rate R]\n"
	      "           [--max-pending M] [--timeout S] [--hold S]\n"
	      "           [--ping-interval MS --ping-out FILE] [--progress S]\n"
	      "       loadgen keys --seed TEXT --count N [--first K]\n"
	      "       loadgen oath --seed TEXT --password PW (--user NAME |\n"
	      "           --prefix P --count N [--first K])\n"
	      "       loadgen hashtime [--count N]\n",
	      stderr);
}

static double
num(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end) {
		fprintf(stderr, "loadgen: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

static int
parse_opts(struct lg_opts *o, int argc, char *argv[])
{
	static const struct option longs[] = {
		{ "server", required_argument, NULL, 'S' },
		{ "server-key", required_argument, NULL, 'K' },
		{ "seed", required_argument, NULL, 's' },
		{ "src", required_argument, NULL, 'a' },
		{ "count", required_argument, NULL, 'n' },
		{ "first", required_argument, NULL, 'f' },
		{ "user", required_argument, NULL, 'u' },
		{ "prefix", required_argument, NULL, 'P' },
		{ "password", required_argument, NULL, 'p' },
		{ "resume", no_argument, NULL, 'r' },
		{ "rate", required_argument, NULL, 'R' },
		{ "max-pending", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "hold", required_argument, NULL, 'h' },
		{ "ping-interval", required_argument, NULL, 'i' },
		{ "ping-out", required_argument, NULL, 'o' },
		{ "progress", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->timeout_s = 120;
	o->progress_s = 5;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'S': o->server = optarg; break;
		case 'K':
			o->has_server_pub = keys_from_base64(o->server_pub,
							     optarg,
							     strlen(optarg));
			if (!o->has_server_pub) {
				fprintf(stderr, "loadgen: bad --server-key\n");
				return -1;
			}
			break;
		case 's': seed_set(o->seed, optarg); o->has_seed = true; break;
		case 'a': o->src = optarg; break;
		case 'n': o->count = (uint32_t)num(optarg); break;
		case 'f': o->first = (uint32_t)num(optarg); break;
		case 'u': o->user = optarg; break;
		case 'P': o->prefix = optarg; break;
		case 'p': o->password = optarg; break;
		case 'r': o->resume = true; break;
		case 'R': o->rate = num(optarg); break;
		case 'm': o->max_pending = (uint32_t)num(optarg); break;
		case 't': o->timeout_s = num(optarg); break;
		case 'h': o->hold_s = num(optarg); break;
		case 'i': o->ping_interval_ms = num(optarg); break;
		case 'o': o->ping_out = optarg; break;
		case 'g': o->progress_s = num(optarg); break;
		default: return -1;
		}
	}
	if (o->count > LG_MAX_CLIENTS) {
		fprintf(stderr, "loadgen: at most %u clients\n", LG_MAX_CLIENTS);
		return -1;
	}
	if (o->ping_interval_ms && !o->ping_out) {
		fprintf(stderr, "loadgen: --ping-interval needs --ping-out\n");
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	static struct lg g;
	const char *cmd = argc > 1 ? argv[1] : "";
	int ret;

	if (sodium_init() < 0 || oath_init() != OATH_OK) {
		fprintf(stderr, "loadgen: cannot initialise libsodium or "
				"liboath\n");
		return 1;
	}
	if (argc < 2 || parse_opts(&g.o, argc - 1, argv + 1) < 0) {
		usage();
		return 2;
	}
	if (strcmp(cmd, "run") == 0) {
		ret = cmd_run(&g);
	} else if (strcmp(cmd, "hashtime") == 0) {
		ret = cmd_hashtime(&g);
	} else if (!g.o.has_seed) {
		usage();
		ret = 2;
	} else if (strcmp(cmd, "keys") == 0) {
		ret = cmd_keys(&g);
	} else if (strcmp(cmd, "oath") == 0) {
		ret = cmd_oath(&g);
	} else {
		usage();
		ret = 2;
	}
	oath_done();
	return ret;
}
