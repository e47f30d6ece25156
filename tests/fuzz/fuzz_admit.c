// SPDX-License-Identifier: MIT
/*
 * Fuzz harness for vpnd's peers and login layer: the peer table and its
 * pools (vpnd/peer.c), the login exchange and admissions (vpnd/admit.c),
 * and how server.c creates and frees peers, for eight client keys, more
 * than the table holds (three admitted, two pending), sharing three
 * source addresses and three tunnel addresses.
 *
 * This file is server.c without sockets: the real tunnel engine under the
 * peers, driven by eight in-memory clients that make real handshakes and
 * send real transport data, so peers are created only as vpnd creates
 * them (an initiation verified whole, then vpnd's own roster.c) and a
 * session is confirmed only by the
 * client's first data (admit_session_started). It stands in for the
 * worker threads too (worker.c): login checks queue in the real fair
 * queue (lanes.c), and the input finishes checks and store jobs (lookups,
 * change events, timestamps saved) with results it chooses.
 *
 * The first byte sets the configuration (bit 0: an IPv6 pool too; bit 1:
 * so many routes, DNS servers and search domains that an answer cannot
 * fit; bit 2: no failure delay; bit 3: one login check at a time; bit 4:
 * mtu = 1280, else "auto" as vpnd sets it with no default route to ask,
 * 1440 over IPv4; bit 5: one pending peer per source address), the second
 * which keys the store admits at start. Then each operation byte names a
 * client (high bits) and an action: a control message or IP packet of
 * fuzzed bytes, an AUTH_REQUEST, RESUME or DISCONNECT built here, a
 * handshake, a restart, a keepalive, the client losing what it sends or
 * what is sent to it, or moving to another address, login checks or
 * store jobs finishing, time passing, the wall clock jumping,
 * housekeeping, polling for events, or shutdown.
 *
 * Invariants checked: everything vpnd sends to a client is a message our
 * client accepts (decodes, right direction, fits the MTU); answers echo a
 * REQUEST_ID the client sent, AUTH_REQUIRED goes to a session at most
 * once a second (rule 9); an AUTH_REQUEST whose REQUEST_ID has an answer
 * kept gets that answer again, byte for byte, and starts no check (rule
 * 2), one that arrives while a check runs gets nothing, and an answer
 * sent less than a minute ago, with fewer than ADMIT_ANSWERS - 1 built
 * since, is still kept; a newcomer's peer only ever pushes out the oldest
 * unconfirmed one; a timestamps job carries only keys that hold an
 * admission. After every event: the table's counts, hash and slots agree;
 * each pool's list is well linked, its length is its count, n_admitted is
 * the number of admitted-pool peers, and the pending pool is within
 * max_pending, each source's pending peers within max_per_source and
 * counted exactly; an admitted peer is in the admitted pool, and one there is
 * admitted or being looked up; the deadline heap is a heap, holds exactly
 * the peers with a deadline, and each one's deadline is the earlier of
 * its tunnel's and its login's; the doomed list has no duplicate and is
 * empty after the peers are reaped; a key has ADMIT_HOLD_PEER exactly
 * while it has a peer, a peer's holds_admission is the table's
 * ADMIT_HOLD_ADMISSION bit, which an admitted peer holds; no key's
 * greatest timestamp ever goes down; an admitted client owns its
 * addresses in the route table, and every route belongs to an admitted
 * client holding that address; the login queue holds no more than its
 * limit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>

#include "../../vpnd/roster.h"
#include "../../vpnd/server.h"
#include "fuzz.h"
#include "keys.h"
#include "log.h"

#define N_KEYS 8
#define MAX_ADMITTED 3
#define MAX_PENDING 2
#define N_SOURCES 3
#define N_JOBS 6
#define N_ADDRS 5
#define N_IDS 4 /* REQUEST_IDs the built requests use: retransmissions */
#define MAX_OPS 128
#define QUEUE_MAX 64
#define PUMP_MAX 256
#define TIMER_ROUNDS 8
#define ANSWER_LOG 16
#define MAX_REQUESTS 256
#define BUF_LEN TUNNEL_BUF_LEN(1500)
#define WALL_START_S 1700000000ull
#define ANSWER_KEEP_NS (60 * NS_PER_S)

enum {
	CFG_POOL6 = 1 << 0,
	CFG_HUGE_ANSWER = 1 << 1,
	CFG_NO_DELAY = 1 << 2,
	CFG_ONE_LOGIN = 1 << 3,
	CFG_SMALL_MTU = 1 << 4,
	CFG_ONE_PER_SOURCE = 1 << 5,
};

enum {
	OP_CONTROL,
	OP_IP,
	OP_REQUEST,
	OP_RESUME,
	OP_DISCONNECT,
	OP_HANDSHAKE,
	OP_RESTART,
	OP_KEEPALIVE,
	OP_OFFLINE,
	OP_ROAM,
	OP_STORE_JOBS,
	OP_LOGINS,
	OP_TIME,
	OP_WALL,
	OP_PERIODIC,
	OP_SHUTDOWN,
};

/* An AUTH_RESULT vpnd sent a client, for rule 2. */
struct answer_sent {
	uint32_t request_id;
	uint64_t sent_ns;
	bool is_build; /* built for this request, not a kept one again */
	uint16_t len;
	uint8_t msg[1500];
};

/* One client: its own tunnel engine with vpnd as its only peer. */
struct client {
	unsigned int k;
	uint8_t priv[32], pub[32], ss[32];
	struct tunnel t;
	struct tunnel_peer peer;
	bool is_up;   /* t is set up in this run */
	bool is_deaf; /* what is sent to it is lost */
	bool is_mute; /* what it sends is lost */
	struct endpoint self;
	/* What it asked and was told. */
	uint32_t request_ids[MAX_REQUESTS];
	unsigned int n_requests;
	bool has_required;
	uint64_t last_required_ns;
	uint32_t required_slot, required_generation;
	struct answer_sent answers[ANSWER_LOG]; /* of its current peer */
	unsigned int n_answers;
	bool has_stamp;   /* the greatest timestamp vpnd has for it */
	uint8_t stamp[TAI64N_LEN];
};

struct datagram {
	uint8_t buf[BUF_LEN];
	size_t len;
	struct client *to; /* NULL: to vpnd */
	struct endpoint src;
};

static struct server srv;
static struct vpnd_config cfg;
static struct client clients[N_KEYS];
static uint8_t server_priv[32], server_pub[32];
static struct endpoint server_ep;
static uint32_t rng;
static bool trace; /* FUZZ_TRACE=1: peers and messages on stderr */

static struct datagram queue[QUEUE_MAX];
static unsigned int q_head, q_len;

/* The fake store: the greatest timestamp saved per key. */
static bool has_saved[N_KEYS];
static uint8_t saved[N_KEYS][TAI64N_LEN];
static uint8_t start_admitted; /* keys the store admits at start */

/* The job queue: a fixed pool, store jobs in order, logins in lanes. */
static struct job jobs[N_JOBS];
static struct job *free_jobs;
static struct job *store_queue[N_JOBS];
static unsigned int n_store;
static struct job *done_head, *done_tail;
static unsigned int max_logins, logins_submitted;

/* What one message produced. */
static struct {
	struct peer *p;
	unsigned int n_sent;
	uint16_t len;
	uint8_t msg[1500];
	bool is_resend;
} capture;

/* ---- clients ------------------------------------------------------------- */

static struct client *
client_of_key(const uint8_t pub[32])
{
	unsigned int k;

	for (k = 0; k < N_KEYS; k++)
		if (memcmp(pub, clients[k].pub, 32) == 0)
			return &clients[k];
	return NULL;
}

static struct client *
client_of(const struct peer *p)
{
	struct client *c = client_of_key(peer_pub(p));

	if (!c)
		abort();
	return c;
}

static bool
client_asked(const struct client *c, uint32_t request_id)
{
	unsigned int i;

	for (i = 0; i < c->n_requests; i++)
		if (c->request_ids[i] == request_id)
			return true;
	return false;
}

static void
queue_add(struct client *to, const struct endpoint *src, const uint8_t *buf,
	  size_t len)
{
	struct datagram *d;

	FUZZ_CHECK(len <= BUF_LEN);
	FUZZ_CHECK(wire_classify(buf, len) != WIRE_INVALID);
	if (q_len == QUEUE_MAX)
		return; /* a full network loses datagrams */
	d = &queue[(q_head + q_len++) % QUEUE_MAX];
	memcpy(d->buf, buf, len);
	d->len = len;
	d->to = to;
	d->src = *src;
}

static void
op_random(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	fuzz_random(&rng, buf, len);
}

static void
client_send(void *arg, const struct endpoint *ep, const uint8_t *buf,
	    size_t len)
{
	struct client *c = arg;

	FUZZ_CHECK(endpoint_same_remote(ep, &server_ep));
	if (!c->is_mute)
		queue_add(NULL, &c->self, buf, len);
}

static struct tunnel_peer *
client_peer_by_key(void *arg, const uint8_t pub[32])
{
	struct client *c = arg;

	return keys_equal(pub, server_pub) ? &c->peer : NULL;
}

static void
client_deliver(void *arg, struct tunnel_peer *p, enum wire_payload kind,
	       uint8_t *pkt, size_t len)
{
	struct login_msg m;

	(void)arg;
	(void)p;
	/* vpnd sends clients nothing but control messages here. */
	FUZZ_CHECK(kind == WIRE_PAYLOAD_CONTROL);
	FUZZ_CHECK(login_decode(pkt, len, LOGIN_FROM_SERVER, &m) ==
		   LOGIN_DECODE_OK);
}

static const struct tunnel_ops client_ops = {
	.random = op_random,
	.send = client_send,
	.peer_by_key = client_peer_by_key,
	.deliver = client_deliver,
};

static void
client_endpoint(struct client *c, unsigned int source, unsigned int port)
{
	memset(&c->self, 0, sizeof(c->self));
	c->self.addr.in4.sin_family = AF_INET;
	c->self.addr.in4.sin_port = htons((uint16_t)(40000 + port));
	c->self.addr.in4.sin_addr.s_addr =
		htonl(0xc6336400 + 7 + source % N_SOURCES); /* 198.51.100.x */
}

/* The client's engine, set up when it first does something in a run. */
static struct client *
client_up(unsigned int k)
{
	struct client *c = &clients[k];

	if (c->is_up)
		return c;
	if (tunnel_init(&c->t, &client_ops, c, &srv.pt, c->priv, 1,
			srv.pmtu.device, 0) < 0 ||
	    tunnel_peer_init_ss(&c->t, &c->peer, server_pub, c->ss, NULL, 8,
				c) < 0)
		abort();
	c->peer.can_initiate = true;
	tunnel_peer_set_endpoint(&c->peer, &server_ep);
	c->is_up = true;
	return c;
}

static void
client_down(struct client *c)
{
	if (!c->is_up)
		return;
	tunnel_peer_free(&c->peer);
	tunnel_free(&c->t);
	c->is_up = false;
}

/* ---- stand-ins for server.c ---------------------------------------------- */

static void check_answer(struct client *c, struct peer *p,
			 const struct login_msg *m, const uint8_t *msg,
			 size_t len);

void
server_send_control(struct server *s, struct peer *p, const uint8_t *msg,
		    size_t len)
{
	struct client *c = client_of(p);
	struct login_msg m;

	FUZZ_CHECK(peer_by_slot(&s->peers, p->slot, p->generation) == p);
	/* tunnel_send_control() drops what exceeds the MTU: never lose an
	 * answer that way, nor send more than the client's tunnel carries. */
	FUZZ_CHECK(len >= LOGIN_HEADER_LEN &&
		   len <= pmtu_peer(&s->pmtu,
				    p->tp.endpoint.addr.sa.sa_family));
	FUZZ_CHECK(login_decode(msg, len, LOGIN_FROM_SERVER, &m) ==
		   LOGIN_DECODE_OK);
	FUZZ_CHECK(m.type == LOGIN_AUTH_RESULT ||
		   m.type == LOGIN_AUTH_REQUIRED || m.type == LOGIN_DISCONNECT);
	if (m.type == LOGIN_AUTH_RESULT && m.status == LOGIN_STATUS_OK)
		FUZZ_CHECK(login_has(&m, LOGIN_ATTR_SESSION_EXPIRES));
	/* Rule 2: an answer echoes a REQUEST_ID this client sent. */
	if (m.type == LOGIN_AUTH_RESULT ||
	    login_has(&m, LOGIN_ATTR_REQUEST_ID))
		FUZZ_CHECK(client_asked(c, m.request_id));
	/*
	 * Rule 9: AUTH_REQUIRED at most once a second per client. vpnd
	 * counts per session: a key that ends its session and makes a new
	 * one (a full handshake each time) may be told again at once.
	 */
	if (m.type == LOGIN_AUTH_REQUIRED) {
		FUZZ_CHECK(!c->has_required || c->required_slot != p->slot ||
			   c->required_generation != p->generation ||
			   s->now_ns - c->last_required_ns >= NS_PER_S);
		c->has_required = true;
		c->last_required_ns = s->now_ns;
		c->required_slot = p->slot;
		c->required_generation = p->generation;
	}
	if (m.type == LOGIN_AUTH_RESULT)
		check_answer(c, p, &m, msg, len);
	if (trace)
		fprintf(stderr, "%6.1f key %u: ctl %u status %d id %u\n",
			(double)s->now_ns / NS_PER_S - 1000, c->k, m.type,
			m.type == LOGIN_AUTH_RESULT ? (int)m.status : -1,
			m.request_id);
	/* As server.c. */
	tunnel_send_control(&s->tunnel, &p->tp, msg, len, s->now_ns,
			    s->wall_ns);
	server_peer_touched(s, p);
}

/* Control commands' jobs: the harness submits none. */
void
server_job_done(struct server *s, const struct job *j)
{
	(void)s;
	(void)j;
}

void
server_peer_touched(struct server *s, struct peer *p)
{
	uint64_t d = tunnel_peer_deadline(&p->tp);
	uint64_t a = admit_peer_deadline(s, p);

	peer_deadline_set(&s->peers, p, a < d ? a : d);
}

/* vpnd's roster_peer_free(), with the harness's bookkeeping. */
static void
peer_free(struct server *s, struct peer *p)
{
	struct client *c = client_of(p);

	c->n_answers = 0; /* the answers kept go with the peer */
	if (trace)
		fprintf(stderr, "%6.1f key %u: freed from pool %d\n",
			(double)s->now_ns / NS_PER_S - 1000, c->k, p->pool);
	roster_peer_free(s, p);
}

static struct tunnel_peer *
op_peer_by_key(void *arg, const uint8_t pub[32])
{
	struct server *s = arg;
	struct peer *p = peer_lookup(&s->peers, pub);

	return p ? &p->tp : NULL;
}

/*
 * vpnd's own roster_peer_create(), watched: a newcomer pushes out only a
 * peer whose handshake is unconfirmed (never one in its login exchange,
 * never an admitted one), and the answers a pushed-out peer kept go.
 */
static struct tunnel_peer *
op_peer_create(void *arg, const uint8_t pub[32], const uint8_t ss[32])
{
	struct {
		struct peer *p;
		uint32_t slot, generation;
		enum peer_pool pool;
	} before[N_KEYS];
	struct server *s = arg;
	struct peer *p;
	unsigned int k;

	/* Only our clients can finish an initiation. */
	FUZZ_CHECK(client_of_key(pub) && !peer_lookup(&s->peers, pub));
	for (k = 0; k < N_KEYS; k++) {
		before[k].p = peer_lookup(&s->peers, clients[k].pub);
		if (before[k].p) {
			before[k].slot = before[k].p->slot;
			before[k].generation = before[k].p->generation;
			before[k].pool = before[k].p->pool;
		}
	}
	p = roster_peer_create(s, pub, ss);
	for (k = 0; k < N_KEYS; k++) {
		if (!before[k].p || peer_by_slot(&s->peers, before[k].slot,
						 before[k].generation))
			continue;
		FUZZ_CHECK(before[k].pool == PEER_POOL_UNCONFIRMED);
		clients[k].n_answers = 0;
		if (trace)
			fprintf(stderr, "%6.1f key %u: pushed out\n",
				(double)s->now_ns / NS_PER_S - 1000, k);
	}
	if (p && trace)
		fprintf(stderr, "%6.1f key %u: peer in pool %d\n",
			(double)s->now_ns / NS_PER_S - 1000,
			client_of(p)->k, p->pool);
	return p ? &p->tp : NULL;
}

static void
server_send(void *arg, const struct endpoint *ep, const uint8_t *buf,
	    size_t len)
{
	unsigned int k;

	(void)arg;
	for (k = 0; k < N_KEYS; k++) {
		struct client *c = &clients[k];

		if (c->is_up && !c->is_deaf &&
		    endpoint_same_remote(ep, &c->self)) {
			queue_add(c, &server_ep, buf, len);
			return;
		}
	}
}

static void deliver_control(struct peer *p, uint8_t *msg, size_t len);

/* As server.c's op_deliver(), but for the TUN device. */
static void
op_deliver(void *arg, struct tunnel_peer *tp, enum wire_payload kind,
	   uint8_t *pkt, size_t len)
{
	struct peer *p = (struct peer *)tp;

	(void)arg;
	if (kind == WIRE_PAYLOAD_CONTROL)
		deliver_control(p, pkt, len);
	else
		admit_ip_allowed(&srv, p, pkt, len);
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

	peer_doom(&s->peers, (struct peer *)tp);
}

static const struct tunnel_ops server_ops = {
	.random = op_random,
	.send = server_send,
	.peer_by_key = op_peer_by_key,
	.peer_create = op_peer_create,
	.deliver = op_deliver,
	.session_started = op_session_started,
	.keys_zeroed = op_keys_zeroed,
};

/* ---- stand-ins for worker.c ---------------------------------------------- */

struct job *
workers_job_get(struct workers *w)
{
	struct job *j = free_jobs;

	(void)w;
	if (j) {
		free_jobs = j->next;
		memset(j, 0, sizeof(*j));
	}
	return j;
}

static void
job_free(struct job *j)
{
	sodium_memzero(j, sizeof(*j));
	j->next = free_jobs;
	free_jobs = j;
}

void
workers_job_put(struct workers *w, struct job *j)
{
	if (j->kind == JOB_LOGIN)
		lanes_done(&w->logins, j->lane.key);
	job_free(j);
}

/* A timestamps job carries the stamps of keys that hold an admission. */
static void
check_stamps_job(const struct job *j)
{
	uint8_t now[TAI64N_LEN];
	unsigned int i;

	FUZZ_CHECK(j->u.stamps.n > 0 && j->u.stamps.n <= JOB_STAMPS_MAX);
	for (i = 0; i < j->u.stamps.n; i++) {
		const struct auth_stamp *st = &j->u.stamps.st[i];

		FUZZ_CHECK(client_of_key(st->client_pub));
		FUZZ_CHECK(tstamp_holders(&srv.tunnel.stamps, st->client_pub) &
			   ADMIT_HOLD_ADMISSION);
		FUZZ_CHECK(tstamp_get(&srv.tunnel.stamps, st->client_pub,
				      now) &&
			   memcmp(now, st->stamp, TAI64N_LEN) == 0);
	}
}

enum submit_result
workers_submit(struct workers *w, struct job *j)
{
	FUZZ_CHECK(j >= jobs && j < jobs + N_JOBS);
	if (j->kind == JOB_STAMPS)
		check_stamps_job(j);
	if (j->kind != JOB_LOGIN) {
		FUZZ_CHECK(n_store < N_JOBS);
		store_queue[n_store++] = j;
		return SUBMIT_OK;
	}
	/* As worker.c's submit_login(). */
	switch (lanes_push(&w->logins, &j->lane)) {
	case LANES_OK:
		logins_submitted++;
		return SUBMIT_OK;
	case LANES_SOURCE_FULL:
		job_free(j);
		return SUBMIT_SOURCE_BUSY;
	default:
		job_free(j);
		return SUBMIT_BUSY;
	}
}

static void
stamps_saved(const struct job *j)
{
	unsigned int i;

	for (i = 0; i < j->u.stamps.n; i++) {
		const struct auth_stamp *st = &j->u.stamps.st[i];
		unsigned int k = client_of_key(st->client_pub)->k;

		if (!has_saved[k] ||
		    memcmp(st->stamp, saved[k], TAI64N_LEN) > 0)
			memcpy(saved[k], st->stamp, TAI64N_LEN);
		has_saved[k] = true;
	}
}

/* Start-up and shutdown: the keys admitted at start; saving. */
void
workers_run_sync(struct workers *w, struct job *j)
{
	struct auth_admission adm;
	unsigned int k;

	(void)w;
	j->seq = 0;
	j->store_error = 0;
	if (j->kind == JOB_STAMPS) {
		check_stamps_job(j);
		stamps_saved(j);
		return;
	}
	for (k = 0; k < N_KEYS && j->kind == JOB_START; k++) {
		if (!(start_admitted & 1u << k))
			continue;
		memset(&adm, 0, sizeof(adm));
		snprintf(adm.username, sizeof(adm.username), "user%u", k);
		adm.has_addr4 = true;
		memcpy(adm.addr4, cfg.pool4.addr, 4);
		adm.addr4[3] = (uint8_t)(2 + k % N_ADDRS);
		adm.expires_unix_s = j->now_unix_s + 3600;
		j->u.start.fn(j->u.start.arg, clients[k].pub, &adm);
	}
}

struct job *
workers_collect(struct workers *w)
{
	struct job *list = done_head;

	(void)w;
	done_head = done_tail = NULL;
	return list;
}

/* ---- set-up -------------------------------------------------------------- */

static void
config_init(uint8_t flags)
{
	unsigned int i;

	vpnd_config_defaults(&cfg);
	cfg.has_pool4 = true;
	if (!prefix_parse("10.99.0.0/24", &cfg.pool4))
		abort();
	if (flags & CFG_POOL6) {
		cfg.has_pool6 = true;
		if (!prefix_parse("fd00:99::/64", &cfg.pool6))
			abort();
	}
	if (!prefix_parse("10.20.0.0/24", &cfg.routes[0]) ||
	    !prefix_parse("10.20.0.53", &cfg.dns[0]))
		abort();
	cfg.n_routes = cfg.n_dns = 1;
	if (flags & CFG_HUGE_ANSWER) {
		for (i = 0; i < VPND_MAX_ROUTES; i++)
			if (!prefix_parse(i % 2 ? "2001:db8::/32"
						: "10.0.0.0/8",
					  &cfg.routes[i]))
				abort();
		cfg.n_routes = VPND_MAX_ROUTES;
		for (i = 0; i < VPND_MAX_DNS_SEARCH; i++)
			memset(cfg.dns_search[i], 'a', VPND_DNS_SEARCH_LEN);
		cfg.n_dns_search = VPND_MAX_DNS_SEARCH;
	}
	if (flags & CFG_NO_DELAY)
		cfg.failure_delay_ms = 0;
	if (flags & CFG_SMALL_MTU)
		cfg.mtu = 1280;
	cfg.max_peers = MAX_ADMITTED;
	cfg.max_pending = MAX_PENDING;
}

static void
setup(uint8_t flags, uint8_t admitted)
{
	uint8_t key[16] = { 0 };
	unsigned int i;

	rng = 7;
	config_init(flags);
	memset(&srv, 0, sizeof(srv));
	srv.cfg = &cfg;
	/* server_start()'s pmtu_discover(), without routes to ask. */
	pmtu_set(&srv.pmtu, cfg.mtu, 0, 0);
	protocol_times_default(&srv.pt);
	srv.now_ns = 1000 * NS_PER_S;
	srv.wall_ns = WALL_START_S * NS_PER_S;
	memcpy(srv.addr4, cfg.pool4.addr, 4);
	srv.addr4[3] = 1;
	memcpy(srv.addr6, cfg.pool6.addr, 16);
	srv.addr6[15] = 1;
	max_logins = flags & CFG_ONE_LOGIN ? 1 : 3;
	if (peer_table_init(&srv.peers, MAX_ADMITTED, MAX_PENDING,
			    flags & CFG_ONE_PER_SOURCE ? 1 : MAX_PENDING,
			    key) < 0 ||
	    (route_table_init(&srv.routes), false) ||
	    tunnel_init(&srv.tunnel, &server_ops, &srv, &srv.pt, server_priv,
			MAX_ADMITTED + MAX_PENDING, srv.pmtu.device, 0) < 0 ||
	    lanes_init(&srv.workers.logins, max_logins,
		       flags & CFG_ONE_LOGIN ? 1 : 2) < 0)
		abort();
	free_jobs = NULL;
	for (i = 0; i < N_JOBS; i++)
		job_free(&jobs[i]);
	n_store = 0;
	done_head = done_tail = NULL;
	logins_submitted = 0;
	q_head = q_len = 0;
	memset(has_saved, 0, sizeof(has_saved));
	start_admitted = admitted;
	for (i = 0; i < N_KEYS; i++) {
		struct client *c = &clients[i];

		c->is_deaf = c->is_mute = false;
		c->n_requests = c->n_answers = 0;
		c->has_required = c->has_stamp = false;
		client_endpoint(c, i, i);
	}
	if (admit_start(&srv) < 0)
		abort();
}

static void
teardown(void)
{
	uint32_t i;

	for (i = 0; i < srv.peers.capacity; i++)
		if (srv.peers.slots[i])
			peer_free(&srv, srv.peers.slots[i]);
	tunnel_free(&srv.tunnel);
	route_table_free(&srv.routes);
	peer_table_free(&srv.peers);
	lanes_free(&srv.workers.logins);
	for (i = 0; i < N_KEYS; i++)
		client_down(&clients[i]);
	memset(jobs, 0, sizeof(jobs));
}

/* ---- rule 2: answers kept per REQUEST_ID --------------------------------- */

/* The answer p keeps for request_id, as admit.c will find it. */
static const struct admit_answer *
answer_kept(const struct peer *p, uint32_t request_id)
{
	const struct admit_answer *a;

	for (a = p->login.answers; a; a = a->older)
		if (a->request_id == request_id &&
		    srv.now_ns - a->at_ns < ANSWER_KEEP_NS)
			return a;
	return NULL;
}

/* An AUTH_RESULT to p: logged, and counted if p's message is running. */
static void
check_answer(struct client *c, struct peer *p, const struct login_msg *m,
	     const uint8_t *msg, size_t len)
{
	struct answer_sent *a;

	if (capture.p == p) {
		capture.n_sent++;
		capture.len = (uint16_t)len;
		memcpy(capture.msg, msg, len);
	}
	if (c->n_answers == ANSWER_LOG) {
		memmove(&c->answers[0], &c->answers[1],
			(ANSWER_LOG - 1) * sizeof(c->answers[0]));
		c->n_answers--;
	}
	a = &c->answers[c->n_answers++];
	a->request_id = m->request_id;
	a->sent_ns = srv.now_ns;
	a->is_build = !(capture.p == p && capture.is_resend);
	a->len = (uint16_t)len;
	memcpy(a->msg, msg, len);
}

/*
 * What the client was told decides what must still be kept: the latest
 * answer built for request_id, sent less than a minute ago (less the
 * failure delay it may have waited), with fewer than ADMIT_ANSWERS - 1
 * built since (one answer may have waited its delay while another was
 * built and sent), is kept, and is what was sent last for request_id.
 */
static void
check_still_kept(const struct client *c, const struct admit_answer *kept,
		 uint32_t request_id)
{
	uint64_t delay_ns = (uint64_t)cfg.failure_delay_ms * NS_PER_MS;
	const struct answer_sent *last = NULL, *built = NULL;
	unsigned int i, after = 0;

	for (i = c->n_answers; i-- > 0;) {
		const struct answer_sent *a = &c->answers[i];

		if (a->request_id == request_id && !last)
			last = a;
		if (a->request_id == request_id && a->is_build) {
			built = a;
			break;
		}
		after += a->is_build;
	}
	if (built && after < ADMIT_ANSWERS - 1 &&
	    srv.now_ns + delay_ns < built->sent_ns + ANSWER_KEEP_NS)
		FUZZ_CHECK(kept);
	if (kept && last)
		FUZZ_CHECK(kept->len == last->len &&
			   memcmp(kept->msg, last->msg, last->len) == 0);
}

/* A control message from p's session, as the tunnel delivers it. */
static void
deliver_control(struct peer *p, uint8_t *msg, size_t len)
{
	static uint8_t want[1500];
	const struct admit_answer *kept = NULL;
	unsigned int logins = logins_submitted;
	bool was_idle = p->login.request == ADMIT_REQ_IDLE, is_request;
	uint16_t want_len = 0;
	struct login_msg m;

	is_request = login_decode(msg, len, LOGIN_FROM_CLIENT, &m) ==
			     LOGIN_DECODE_OK &&
		     m.type == LOGIN_AUTH_REQUEST;
	if (is_request && was_idle) {
		kept = answer_kept(p, m.request_id);
		check_still_kept(client_of(p), kept, m.request_id);
	}
	if (kept) {
		want_len = kept->len;
		memcpy(want, kept->msg, want_len);
	}
	capture.p = p;
	capture.n_sent = 0;
	capture.is_resend = kept != NULL;
	admit_control(&srv, p, msg, len);
	capture.p = NULL;
	/* Rule 2: one that arrives while its check runs is ignored... */
	if (is_request && !was_idle)
		FUZZ_CHECK(capture.n_sent == 0 && logins_submitted == logins);
	/* ...and an answered one gets the same answer, unchecked. */
	if (kept)
		FUZZ_CHECK(capture.n_sent == 1 && capture.len == want_len &&
			   memcmp(capture.msg, want, want_len) == 0 &&
			   logins_submitted == logins);
}

/* ---- invariants ---------------------------------------------------------- */

static void
check_owner(int family, const uint8_t *addr)
{
	struct peer *o = route_lookup(&srv.routes, family, addr);

	if (!o)
		return;
	FUZZ_CHECK(o->login.state == ADMIT_ADMITTED);
	if (family == AF_INET)
		FUZZ_CHECK(o->login.admission.has_addr4 &&
			   memcmp(o->login.admission.addr4, addr, 4) == 0);
	else
		FUZZ_CHECK(o->login.admission.has_addr6 &&
			   memcmp(o->login.admission.addr6, addr, 16) == 0);
}

static void
check_routes(void)
{
	uint8_t a4[4], a6[16];
	unsigned int i;

	memcpy(a4, cfg.pool4.addr, 4);
	memcpy(a6, cfg.pool6.addr, 16);
	for (i = 0; i < N_ADDRS; i++) {
		a4[3] = (uint8_t)(2 + i);
		a6[15] = (uint8_t)(2 + i);
		check_owner(AF_INET, a4);
		check_owner(AF_INET6, a6);
	}
}

static bool
is_live(const struct peer *p)
{
	return p->slot < srv.peers.capacity && srv.peers.slots[p->slot] == p;
}

/* Before the reap: the doomed, each once, all live. */
static void
check_doomed(void)
{
	const struct peer_table *t = &srv.peers;
	const struct peer *seen[MAX_ADMITTED + MAX_PENDING], *p;
	unsigned int n = 0, i, flagged = 0;

	for (p = t->doomed; p; p = p->doomed_next) {
		FUZZ_CHECK(n < t->capacity && is_live(p) && p->is_doomed);
		for (i = 0; i < n; i++)
			FUZZ_CHECK(seen[i] != p);
		seen[n++] = p;
	}
	for (i = 0; i < t->capacity; i++)
		flagged += t->slots[i] && t->slots[i]->is_doomed;
	FUZZ_CHECK(flagged == n);
}

/* A pending list: well linked, its length, its pool, live peers. */
static void
check_list(const struct peer_list *l, enum peer_pool pool)
{
	const struct peer *p, *prev = NULL;
	uint32_t n = 0;

	for (p = l->head; p; prev = p, p = p->pool_next) {
		FUZZ_CHECK(n++ < srv.peers.capacity);
		FUZZ_CHECK(is_live(p) && p->pool == pool &&
			   p->pool_prev == prev);
	}
	FUZZ_CHECK(l->tail == prev && l->len == n);
}

static void
check_heap(void)
{
	const struct peer_table *t = &srv.peers;
	uint32_t i;

	for (i = 0; i < t->heap_len; i++) {
		FUZZ_CHECK(t->heap[i]->heap_pos == i && is_live(t->heap[i]));
		FUZZ_CHECK(t->heap[i]->deadline_ns != UINT64_MAX);
		if (i)
			FUZZ_CHECK(t->heap[(i - 1) / 2]->deadline_ns <=
				   t->heap[i]->deadline_ns);
	}
}

static void
check_peer(const struct peer *p)
{
	const struct peer_login *l = &p->login;
	unsigned int holders = tstamp_holders(&srv.tunnel.stamps, peer_pub(p));
	uint64_t d = tunnel_peer_deadline(&p->tp);
	uint64_t a = admit_peer_deadline(&srv, p);

	FUZZ_CHECK(peer_lookup(&srv.peers, peer_pub(p)) == p);
	FUZZ_CHECK(p->generation == srv.peers.generations[p->slot]);
	FUZZ_CHECK(!p->is_doomed);
	/* No deadline forgotten, none in the heap that is not one. */
	FUZZ_CHECK(p->deadline_ns == (a < d ? a : d));
	FUZZ_CHECK((p->heap_pos != UINT32_MAX) ==
		   (p->deadline_ns != UINT64_MAX));
	if (p->heap_pos != UINT32_MAX)
		FUZZ_CHECK(p->heap_pos < srv.peers.heap_len &&
			   srv.peers.heap[p->heap_pos] == p);
	FUZZ_CHECK(holders & ADMIT_HOLD_PEER);
	FUZZ_CHECK(l->holds_admission == !!(holders & ADMIT_HOLD_ADMISSION));
	/* Admitted peers are in the admitted pool, but for those admitted
	 * while it was full (max-peers is never passed): they hold a place
	 * in the login pool, which no newcomer may take. */
	if (l->state == ADMIT_ADMITTED)
		FUZZ_CHECK(l->holds_admission &&
			   (p->pool == PEER_POOL_ADMITTED ||
			    p->pool == PEER_POOL_LOGIN));
	if (p->pool == PEER_POOL_ADMITTED)
		FUZZ_CHECK(l->state != ADMIT_NONE);
	if (l->state == ADMIT_ADMITTED && l->admission.has_addr4)
		FUZZ_CHECK(route_lookup(&srv.routes, AF_INET,
					l->admission.addr4) == p);
	if (l->state == ADMIT_ADMITTED && l->admission.has_addr6)
		FUZZ_CHECK(route_lookup(&srv.routes, AF_INET6,
					l->admission.addr6) == p);
}

/* Per key: a peer exactly while ADMIT_HOLD_PEER; no stamp goes down. */
static void
check_keys(void)
{
	uint8_t stamp[TAI64N_LEN];
	unsigned int k, holders;

	for (k = 0; k < N_KEYS; k++) {
		struct client *c = &clients[k];

		holders = tstamp_holders(&srv.tunnel.stamps, c->pub);
		FUZZ_CHECK(!peer_lookup(&srv.peers, c->pub) ==
			   !(holders & ADMIT_HOLD_PEER));
		if (!tstamp_get(&srv.tunnel.stamps, c->pub, stamp)) {
			FUZZ_CHECK(!c->has_stamp);
			continue;
		}
		FUZZ_CHECK(!c->has_stamp ||
			   memcmp(stamp, c->stamp, TAI64N_LEN) >= 0);
		memcpy(c->stamp, stamp, TAI64N_LEN);
		c->has_stamp = true;
	}
}

/* The pending peers of a source, counted exactly and within the cap. */
static unsigned int
pending_from(const struct peer_list *l, const uint8_t key[RATELIMIT_KEY_LEN])
{
	const struct peer *p;
	unsigned int n = 0;

	for (p = l->head; p; p = p->pool_next)
		n += memcmp(p->source_key, key, RATELIMIT_KEY_LEN) == 0;
	return n;
}

static void
check_sources(void)
{
	const struct peer_table *t = &srv.peers;
	uint8_t key[RATELIMIT_KEY_LEN];
	struct cookie_src csrc;
	struct client c;
	unsigned int s, n;

	for (s = 0; s < N_SOURCES; s++) {
		client_endpoint(&c, s, 0);
		endpoint_cookie_src(&c.self, &csrc);
		ratelimit_source_key(&csrc, key);
		n = pending_from(&t->unconfirmed, key) +
		    pending_from(&t->in_login, key);
		FUZZ_CHECK(n == sources_count(&t->sources, key));
		FUZZ_CHECK(n <= t->max_per_source);
	}
}

static void
check_state(void)
{
	const struct peer_table *t = &srv.peers;
	uint32_t i, live = 0, admitted = 0, in_heap = 0;

	for (i = 0; i < t->capacity; i++) {
		const struct peer *p = t->slots[i];

		if (!p)
			continue;
		FUZZ_CHECK(p->slot == i);
		check_peer(p);
		live++;
		admitted += p->pool == PEER_POOL_ADMITTED;
		in_heap += p->heap_pos != UINT32_MAX;
	}
	FUZZ_CHECK(live == t->count && t->n_free + t->count == t->capacity);
	FUZZ_CHECK(admitted == t->n_admitted && in_heap == t->heap_len);
	FUZZ_CHECK(t->n_admitted <= t->max_admitted);
	check_list(&t->unconfirmed, PEER_POOL_UNCONFIRMED);
	check_list(&t->in_login, PEER_POOL_LOGIN);
	FUZZ_CHECK(t->unconfirmed.len + t->in_login.len <= t->max_pending);
	check_sources();
	FUZZ_CHECK(!t->doomed);
	check_heap();
	check_keys();
	check_routes();
	FUZZ_CHECK(srv.workers.logins.in_flight <= max_logins);
}

/* As server.c's reap() after every event, with the checks around it. */
static void
event_end(void)
{
	struct peer *p;

	check_doomed();
	while ((p = peer_doomed_pop(&srv.peers)))
		peer_free(&srv, p);
	check_state();
}

/* ---- the network --------------------------------------------------------- */

/* Delivers what is on its way, in order, until nothing is. */
static void
pump(void)
{
	static struct datagram d;
	struct tunnel_peer *tp;
	unsigned int n;

	for (n = 0; n < PUMP_MAX && q_len; n++) {
		d = queue[q_head];
		q_head = (q_head + 1) % QUEUE_MAX;
		q_len--;
		if (d.to) {
			if (d.to->is_up && !d.to->is_deaf)
				tunnel_receive(&d.to->t, d.buf, d.len, &d.src,
					       srv.now_ns, srv.wall_ns);
			continue;
		}
		/* As server.c's receive_udp(). */
		tp = tunnel_receive(&srv.tunnel, d.buf, d.len, &d.src,
				    srv.now_ns, srv.wall_ns);
		if (tp)
			server_peer_touched(&srv, (struct peer *)tp);
		event_end();
	}
}

/* ---- jobs ---------------------------------------------------------------- */

static void
addr_pick(struct auth_admission *a, uint8_t choice)
{
	a->has_addr4 = choice & 1;
	memcpy(a->addr4, cfg.pool4.addr, 4);
	a->addr4[3] = (uint8_t)(2 + (choice >> 2) % N_ADDRS);
	a->has_addr6 = cfg.has_pool6 && (choice & 2);
	memcpy(a->addr6, cfg.pool6.addr, 16);
	a->addr6[15] = (uint8_t)(2 + (choice >> 4) % N_ADDRS);
	/* The store never admits without an address from a pool. */
	if (!a->has_addr4 && !a->has_addr6)
		a->has_addr4 = true;
}

/* The greater of the stamp saved for the key and `stamp`, as the store
 * keeps it with an admission. */
static void
stamp_kept(struct auth_admission *a, const uint8_t pub[32], bool has_stamp,
	   const uint8_t *stamp)
{
	unsigned int k = client_of_key(pub)->k;

	a->has_stamp = has_saved[k] || has_stamp;
	if (has_saved[k])
		memcpy(a->stamp, saved[k], TAI64N_LEN);
	if (has_stamp && (!has_saved[k] ||
			  memcmp(stamp, saved[k], TAI64N_LEN) > 0))
		memcpy(a->stamp, stamp, TAI64N_LEN);
}

static void
login_result(struct job *j, struct fuzz_in *in)
{
	uint8_t choice = fuzz_u8(in);
	struct auth_result *r = &j->res;

	r->status = (enum login_status)(choice % 5);
	r->retry_after_s = fuzz_u16(in);
	if (r->status == LOGIN_STATUS_OK) {
		snprintf(r->adm.username, sizeof(r->adm.username), "%s",
			 j->u.req.username);
		addr_pick(&r->adm, choice >> 3);
		r->adm.expires_unix_s = j->now_unix_s + fuzz_u16(in);
		stamp_kept(&r->adm, j->pub, j->u.req.has_stamp,
			   j->u.req.stamp);
	}
	sodium_memzero(&j->u.req, sizeof(j->u.req));
}

static void
store_result(struct job *j, struct fuzz_in *in)
{
	uint8_t choice = fuzz_u8(in);
	unsigned int n;

	switch (j->kind) {
	case JOB_LOOKUP:
		j->admitted = choice & 0x80;
		/* The store may fail to answer at all. */
		j->lookup_failed = !j->admitted && (choice & 0x40);
		if (!j->admitted)
			break;
		snprintf(j->adm.username, sizeof(j->adm.username), "%s",
			 j->has_username ? j->username : "alice");
		addr_pick(&j->adm, choice);
		j->adm.expires_unix_s = j->now_unix_s + fuzz_u16(in);
		stamp_kept(&j->adm, j->pub, false, NULL);
		break;
	case JOB_EVENTS:
		/* Accounts changed elsewhere: admissions of these keys end. */
		j->u.events.n = choice % 3;
		for (n = 0; n < j->u.events.n; n++) {
			struct auth_event *e = &j->u.events.ev[n];

			e->seq = ++j->seq;
			memcpy(e->client_pub,
			       clients[fuzz_u8(in) % N_KEYS].pub, 32);
			snprintf(e->reason, sizeof(e->reason), "%s",
				 choice & 4 ? "account disabled"
					    : "password changed");
		}
		j->u.events.more = choice & 8;
		j->store_error = choice & 16 ? -EIO : 0;
		break;
	case JOB_STAMPS:
		j->store_error = choice & 1 ? -EIO : 0;
		if (!j->store_error)
			stamps_saved(j);
		break;
	default:
		break;
	}
}

static void
job_done(struct job *j)
{
	j->next = NULL;
	if (done_tail)
		done_tail->next = j;
	else
		done_head = j;
	done_tail = j;
}

/* The store thread finishes its first n jobs; the loop collects. */
static void
store_jobs_finish(unsigned int n, struct fuzz_in *in)
{
	unsigned int i;

	if (n > n_store)
		n = n_store;
	for (i = 0; i < n; i++) {
		store_result(store_queue[i], in);
		job_done(store_queue[i]);
	}
	memmove(store_queue, store_queue + n,
		(n_store - n) * sizeof(store_queue[0]));
	n_store -= n;
	admit_jobs_done(&srv);
	event_end();
}

/* The login threads take n checks from the fair queue and finish them. */
static void
logins_finish(unsigned int n, struct fuzz_in *in)
{
	struct lanes_item *item;

	while (n-- > 0 && (item = lanes_pop(&srv.workers.logins))) {
		struct job *j = (struct job *)((char *)item -
					       offsetof(struct job, lane));

		login_result(j, in);
		job_done(j);
	}
	admit_jobs_done(&srv);
	event_end();
}

/* ---- time ---------------------------------------------------------------- */

/* As server.c's on_timer(), run again while something is due (the loop
 * would re-arm for it at once). */
static void
server_timers(void)
{
	struct peer *p;
	unsigned int round;

	for (round = 0; round < TIMER_ROUNDS; round++) {
		p = peer_heap_top(&srv.peers);
		if (!p || p->deadline_ns > srv.now_ns)
			return;
		while ((p = peer_heap_top(&srv.peers)) &&
		       p->deadline_ns <= srv.now_ns) {
			tunnel_peer_expire(&srv.tunnel, &p->tp, srv.now_ns,
					   srv.wall_ns);
			admit_peer_expire(&srv, p);
			server_peer_touched(&srv, p);
			if (p->deadline_ns <= srv.now_ns)
				break;
		}
		event_end();
	}
}

static void
advance(uint64_t ns)
{
	unsigned int k;

	srv.now_ns += ns;
	srv.wall_ns += ns;
	server_timers();
	for (k = 0; k < N_KEYS; k++) {
		struct client *c = &clients[k];

		if (c->is_up && tunnel_peer_deadline(&c->peer) <= srv.now_ns)
			tunnel_peer_expire(&c->t, &c->peer, srv.now_ns,
					   srv.wall_ns);
	}
	pump();
}

/* ---- what clients do ----------------------------------------------------- */

/* Remembers the REQUEST_ID as vpnd will read it. */
static void
note_request(struct client *c, const uint8_t *msg, size_t len)
{
	struct login_msg m;

	if (login_decode(msg, len, LOGIN_FROM_CLIENT, &m) == LOGIN_DECODE_OK &&
	    login_has(&m, LOGIN_ATTR_REQUEST_ID) &&
	    c->n_requests < MAX_REQUESTS)
		c->request_ids[c->n_requests++] = m.request_id;
}

static void
send_control(struct client *c, const uint8_t *msg, size_t len)
{
	note_request(c, msg, len);
	(void)tunnel_send_control(&c->t, &c->peer, msg, len, srv.now_ns,
				  srv.wall_ns);
	pump();
}

/* Plaintext of fuzzed bytes (len 0: a keepalive) as transport data. */
static void
send_data(struct client *c, const uint8_t *data, size_t len)
{
	static uint8_t buf[BUF_LEN];
	size_t out_len;

	if (len > srv.pmtu.device)
		return;
	if (len)
		memcpy(buf + WIRE_DATA_HEADER_LEN, data, len);
	if (tunnel_encrypt(&c->t, &c->peer, buf, len, srv.now_ns, srv.wall_ns,
			   &out_len) == TUNNEL_TX_SEND)
		client_send(c, &c->peer.endpoint, buf, out_len);
	pump();
}

static void
send_fuzzed(struct client *c, struct fuzz_in *in, bool is_control)
{
	const uint8_t *data;
	size_t len = fuzz_bytes(in, &data, fuzz_u16(in) % 1500);

	if (is_control)
		send_control(c, data, len);
	else
		send_data(c, data, len);
}

/* An AUTH_REQUEST, RESUME or DISCONNECT as vpnc writes them. */
static void
send_built(struct client *c, unsigned int op, uint8_t arg)
{
	static const char *const users[] = { "alice", "bob", "" };
	const char *user = users[(arg >> 2) % 3];
	uint32_t id = 1 + arg % N_IDS;
	struct login_writer w;
	uint8_t buf[256];
	size_t len;

	switch (op) {
	case OP_REQUEST:
		login_writer_init(&w, buf, sizeof(buf), LOGIN_AUTH_REQUEST);
		login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, id);
		login_put_text(&w, LOGIN_ATTR_USERNAME, *user ? user : "carol");
		login_put_text(&w, LOGIN_ATTR_PASSWORD, "correct horse");
		login_put_text(&w, LOGIN_ATTR_TOTP, "123456");
		break;
	case OP_RESUME:
		login_writer_init(&w, buf, sizeof(buf), LOGIN_RESUME);
		login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, id);
		if (*user)
			login_put_text(&w, LOGIN_ATTR_USERNAME, user);
		break;
	default:
		login_writer_init(&w, buf, sizeof(buf), LOGIN_DISCONNECT);
		login_put_text(&w, LOGIN_ATTR_REASON, "bye");
		if (arg & 1)
			login_put(&w, LOGIN_ATTR_LOGOUT, NULL, 0);
		break;
	}
	len = login_writer_finish(&w);
	if (!len)
		abort();
	send_control(c, buf, len);
}

static void
client_op(struct client *c, unsigned int op, struct fuzz_in *in)
{
	uint8_t arg;

	switch (op) {
	case OP_CONTROL:
	case OP_IP:
		send_fuzzed(c, in, op == OP_CONTROL);
		break;
	case OP_REQUEST:
	case OP_RESUME:
	case OP_DISCONNECT:
		send_built(c, op, fuzz_u8(in));
		break;
	case OP_HANDSHAKE:
		tunnel_initiate(&c->t, &c->peer, srv.now_ns, srv.wall_ns);
		pump();
		break;
	case OP_RESTART:
		/* vpnc started again: a new session from scratch. */
		tunnel_peer_reset(&c->peer);
		tunnel_initiate(&c->t, &c->peer, srv.now_ns, srv.wall_ns);
		pump();
		break;
	case OP_KEEPALIVE:
		send_data(c, NULL, 0);
		break;
	case OP_OFFLINE:
		/* Lost datagrams: a handshake answered but not confirmed. */
		arg = fuzz_u8(in);
		c->is_deaf = arg & 1;
		c->is_mute = arg & 2;
		break;
	default:
		/* Another address, maybe one another client has. */
		arg = fuzz_u8(in);
		client_endpoint(c, arg, c->k + 16u * (arg >> 4));
		break;
	}
}

/* ---- entry points -------------------------------------------------------- */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned int k, i;

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	log_init("fuzz", false, LOG_CRIT);
	trace = getenv("FUZZ_TRACE") != NULL;
	for (i = 0; i < 32; i++)
		server_priv[i] = (uint8_t)(100 + i);
	keys_clamp(server_priv);
	if (!keys_public_from_private(server_pub, server_priv))
		abort();
	memset(&server_ep, 0, sizeof(server_ep));
	server_ep.addr.in4.sin_family = AF_INET;
	server_ep.addr.in4.sin_port = htons(51900);
	server_ep.addr.in4.sin_addr.s_addr = htonl(0xc6336401); /* .1 */
	for (k = 0; k < N_KEYS; k++) {
		struct client *c = &clients[k];

		c->k = k;
		for (i = 0; i < 32; i++)
			c->priv[i] = (uint8_t)(k * 32 + i + 1);
		keys_clamp(c->priv);
		if (!keys_public_from_private(c->pub, c->priv) ||
		    !noise_dh(c->ss, c->priv, server_pub))
			abort();
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t flags = fuzz_u8(&in);
	int n;

	setup(flags, fuzz_u8(&in));
	check_state();
	for (n = 0; n < MAX_OPS && fuzz_more(&in); n++) {
		uint8_t op = fuzz_u8(&in);

		switch (op & 15) {
		case OP_STORE_JOBS:
			store_jobs_finish(fuzz_u8(&in) % (N_JOBS + 1), &in);
			break;
		case OP_LOGINS:
			logins_finish(fuzz_u8(&in) % (N_JOBS + 1), &in);
			break;
		case OP_TIME:
			advance((uint64_t)fuzz_u16(&in) * 100 * NS_PER_MS);
			break;
		case OP_WALL:
			/* The wall clock is set, some minutes either way. */
			srv.wall_ns += (uint64_t)(int64_t)(int8_t)fuzz_u8(&in) *
				       30 * NS_PER_S;
			break;
		case OP_PERIODIC:
			if (op & 0x10)
				admit_housekeeping(&srv);
			else
				admit_poll_events(&srv);
			event_end();
			break;
		case OP_SHUTDOWN:
			admit_shutdown(&srv);
			event_end();
			n = MAX_OPS;
			break;
		default:
			client_op(client_up((op >> 4) % N_KEYS), op & 15, &in);
			break;
		}
	}
	teardown();
	return 0;
}
