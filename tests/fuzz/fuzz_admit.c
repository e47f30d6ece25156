// SPDX-License-Identifier: MIT
/*
 * Fuzz harness for vpnd's login layer, vpnd/admit.c: control messages
 * from clients (PROTOCOL.md section 6), IP packets against the admission
 * and source-address rules, and the results of store and login jobs, for
 * three clients sharing a small address pool. admit.c is driven without
 * sockets or threads: this file stands in for server_send_control() and
 * server_peer_touched() (server.c) and for the job queue (worker.c), and
 * finishes jobs with results the input chooses, in the order it chooses.
 *
 * The first byte sets the configuration (bit 0: an IPv6 pool too; bit 1:
 * so many routes, DNS servers and search domains that an answer cannot
 * fit; bit 2: no failure delay; bit 3: no login may run, so BUSY; bit 4:
 * MTU 1280). Then each operation byte names a client (high bits) and an
 * action: a control message, an IP packet, finishing jobs, time passing,
 * housekeeping, a new session from the client's key, freeing the peers
 * the server would free, or shutdown.
 *
 * Invariants checked: every message vpnd sends is one our own client
 * accepts (decodes, right direction, fits the MTU), answers echo a
 * REQUEST_ID the client sent (rule 2), and AUTH_REQUIRED goes to a client
 * at most once a second (rule 9); after every operation, an admitted
 * client owns its addresses in the route table, every route belongs to an
 * admitted client holding that address, and the deadline heap is a heap.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>

#include "../../vpnd/server.h"
#include "fuzz.h"
#include "keys.h"
#include "log.h"

#define N_PEERS 3
#define N_JOBS 4
#define N_ADDRS 3
#define MAX_OPS 96
#define WALL_START_S 1700000000ull

enum {
	CFG_POOL6 = 1 << 0,
	CFG_HUGE_ANSWER = 1 << 1,
	CFG_NO_DELAY = 1 << 2,
	CFG_NO_LOGINS = 1 << 3,
	CFG_SMALL_MTU = 1 << 4,
};

static struct server srv;
static struct vpnd_config cfg;
static uint8_t peer_pub[N_PEERS][32];

/* What each client key asked and was told, for rules 2 and 9. */
struct client_log {
	uint32_t request_ids[MAX_OPS];
	unsigned int n_requests;
	bool has_required;
	uint64_t last_required_ns;
	uint32_t required_slot, required_generation;
};

static struct client_log clients[N_PEERS];
static uint8_t server_priv[32];
static uint32_t rng;

/* The job queue: a fixed pool, submitted jobs in order, finished ones. */
static struct job jobs[N_JOBS];
static struct job *free_jobs;
static struct job *pending[N_JOBS];
static unsigned int n_pending;
static struct job *done_head, *done_tail;
static unsigned int logins_in_flight, max_logins;

/* ---- stand-ins for server.c --------------------------------------------- */

static struct client_log *
client_of(const struct peer *p)
{
	unsigned int k;

	for (k = 0; k < N_PEERS; k++)
		if (memcmp(p->pub, peer_pub[k], 32) == 0)
			return &clients[k];
	abort();
}

static bool
client_asked(const struct peer *p, uint32_t request_id)
{
	const struct client_log *c = client_of(p);
	unsigned int i;

	for (i = 0; i < c->n_requests; i++)
		if (c->request_ids[i] == request_id)
			return true;
	return false;
}

void
server_send_control(struct server *s, struct peer *p, const uint8_t *msg,
		    size_t len)
{
	struct login_msg m;

	FUZZ_CHECK(peer_by_slot(&s->peers, p->slot, p->generation) == p);
	/* tunnel_send_control() drops what exceeds the MTU: never lose an
	 * answer that way. */
	FUZZ_CHECK(len >= LOGIN_HEADER_LEN && len <= s->cfg->mtu);
	FUZZ_CHECK(login_decode(msg, len, LOGIN_FROM_SERVER, &m) ==
		   LOGIN_DECODE_OK);
	FUZZ_CHECK(m.type == LOGIN_AUTH_RESULT ||
		   m.type == LOGIN_AUTH_REQUIRED || m.type == LOGIN_DISCONNECT);
	if (m.type == LOGIN_AUTH_RESULT && m.status == LOGIN_STATUS_OK)
		FUZZ_CHECK(login_has(&m, LOGIN_ATTR_SESSION_EXPIRES));
	/* Rule 2: an answer echoes a REQUEST_ID this client sent. */
	if (m.type == LOGIN_AUTH_RESULT ||
	    login_has(&m, LOGIN_ATTR_REQUEST_ID))
		FUZZ_CHECK(client_asked(p, m.request_id));
	/*
	 * Rule 9: AUTH_REQUIRED at most once a second per client. vpnd
	 * counts per session: a key that ends its session and makes a new
	 * one (a full handshake each time) may be told again at once.
	 */
	if (m.type == LOGIN_AUTH_REQUIRED) {
		struct client_log *c = client_of(p);

		FUZZ_CHECK(!c->has_required || c->required_slot != p->slot ||
			   c->required_generation != p->generation ||
			   s->now_ns - c->last_required_ns >= NS_PER_S);
		c->has_required = true;
		c->last_required_ns = s->now_ns;
		c->required_slot = p->slot;
		c->required_generation = p->generation;
	}
	server_peer_touched(s, p);
}

void
server_peer_touched(struct server *s, struct peer *p)
{
	uint64_t d = tunnel_peer_deadline(&p->tp), a = admit_peer_deadline(s, p);

	peer_deadline_set(&s->peers, p, a < d ? a : d);
}

/* ---- stand-ins for worker.c --------------------------------------------- */

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

void
workers_job_put(struct workers *w, struct job *j)
{
	(void)w;
	if (j->kind == JOB_LOGIN && logins_in_flight)
		logins_in_flight--;
	sodium_memzero(j, sizeof(*j));
	j->next = free_jobs;
	free_jobs = j;
}

enum submit_result
workers_submit(struct workers *w, struct job *j)
{
	(void)w;
	FUZZ_CHECK(j >= jobs && j < jobs + N_JOBS && n_pending < N_JOBS);
	if (j->kind == JOB_LOGIN) {
		if (logins_in_flight >= max_logins) {
			sodium_memzero(j, sizeof(*j));
			j->next = free_jobs;
			free_jobs = j;
			return SUBMIT_BUSY;
		}
		logins_in_flight++;
	}
	pending[n_pending++] = j;
	return SUBMIT_OK;
}

/* Start-up and shutdown jobs: the store has nothing, saves everything. */
void
workers_run_sync(struct workers *w, struct job *j)
{
	(void)w;
	j->seq = 0;
	j->store_error = 0;
}

struct job *
workers_collect(struct workers *w)
{
	struct job *list = done_head;

	(void)w;
	done_head = done_tail = NULL;
	return list;
}

/* ---- the tunnel under the peers (no sessions here) ---------------------- */

static void
op_random(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	fuzz_random(&rng, buf, len);
}

static void
op_send(void *arg, const struct endpoint *ep, const uint8_t *buf, size_t len)
{
	(void)arg;
	(void)ep;
	(void)buf;
	(void)len;
}

static struct tunnel_peer *
op_peer_by_key(void *arg, const uint8_t pub[32])
{
	(void)arg;
	(void)pub;
	return NULL;
}

static void
op_deliver(void *arg, struct tunnel_peer *p, enum wire_payload kind,
	   uint8_t *pkt, size_t len)
{
	(void)arg;
	(void)p;
	(void)kind;
	(void)pkt;
	(void)len;
}

static const struct tunnel_ops ops = {
	.random = op_random,
	.send = op_send,
	.peer_by_key = op_peer_by_key,
	.deliver = op_deliver,
};

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
	cfg.max_peers = N_PEERS;
}

static void
setup(uint8_t flags)
{
	uint8_t key[16] = { 0 };
	unsigned int i;

	rng = 7;
	config_init(flags);
	memset(&srv, 0, sizeof(srv));
	srv.cfg = &cfg;
	protocol_times_default(&srv.pt);
	srv.now_ns = 1000 * NS_PER_S;
	srv.wall_ns = WALL_START_S * NS_PER_S;
	memcpy(srv.addr4, cfg.pool4.addr, 4);
	srv.addr4[3] = 1;
	memcpy(srv.addr6, cfg.pool6.addr, 16);
	srv.addr6[15] = 1;
	if (peer_table_init(&srv.peers, N_PEERS, N_PEERS, key) < 0 ||
	    route_table_init(&srv.routes, N_PEERS * 4, key) < 0 ||
	    tunnel_init(&srv.tunnel, &ops, &srv, &srv.pt, server_priv,
			2 * N_PEERS, cfg.mtu, 0) < 0)
		abort();
	free_jobs = NULL;
	for (i = 0; i < N_JOBS; i++) {
		jobs[i].next = free_jobs;
		free_jobs = &jobs[i];
	}
	n_pending = 0;
	done_head = done_tail = NULL;
	memset(clients, 0, sizeof(clients));
	logins_in_flight = 0;
	max_logins = flags & CFG_NO_LOGINS ? 0 : 2;
}

/* As server.c frees a peer. */
static void
peer_free(struct peer *p)
{
	admit_peer_gone(&srv, p);
	tstamp_release(&srv.tunnel.stamps, p->pub, ADMIT_HOLD_PEER, srv.now_ns);
	tunnel_peer_free(&p->tp);
	peer_release(&srv.peers, p);
}

static void
teardown(void)
{
	uint32_t i;

	for (i = 0; i < srv.peers.capacity; i++)
		if (srv.peers.slots[i])
			peer_free(srv.peers.slots[i]);
	tunnel_free(&srv.tunnel);
	route_table_free(&srv.routes);
	peer_table_free(&srv.peers);
	memset(jobs, 0, sizeof(jobs));
}

/* The peer of client k, created as a handshake from its key would. */
static struct peer *
peer_get(unsigned int k)
{
	struct peer *p = peer_lookup(&srv.peers, peer_pub[k]);
	struct endpoint ep;

	if (p)
		return p;
	/* As server.c's op_peer_create. */
	if (tstamp_holders(&srv.tunnel.stamps, peer_pub[k]) &
	    ADMIT_HOLD_ADMISSION)
		p = peer_alloc(&srv.peers, peer_pub[k], PEER_POOL_ADMITTED,
			       srv.now_ns);
	else
		p = peer_alloc(&srv.peers, peer_pub[k], PEER_POOL_UNCONFIRMED,
			       srv.now_ns);
	if (!p)
		return NULL;
	if (tunnel_peer_init(&srv.tunnel, &p->tp, peer_pub[k], NULL, 8, p) < 0 ||
	    tstamp_hold(&srv.tunnel.stamps, peer_pub[k], ADMIT_HOLD_PEER) < 0)
		abort();
	memset(&ep, 0, sizeof(ep));
	ep.addr.in4.sin_family = AF_INET;
	ep.addr.in4.sin_port = htons((uint16_t)(51900 + k));
	ep.addr.in4.sin_addr.s_addr = htonl(0xc0000202 + k); /* 192.0.2.x */
	tunnel_peer_set_endpoint(&p->tp, &ep);
	admit_peer_new(&srv, p);
	return p;
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

static void
job_finish(struct job *j, struct fuzz_in *in)
{
	uint8_t choice = fuzz_u8(in);
	unsigned int n;

	switch (j->kind) {
	case JOB_LOGIN:
		j->res.status = (enum login_status)(fuzz_u8(in) % 5);
		j->res.retry_after_s = fuzz_u16(in);
		if (j->res.status == LOGIN_STATUS_OK) {
			snprintf(j->res.adm.username,
				 sizeof(j->res.adm.username), "%s",
				 j->u.req.username);
			addr_pick(&j->res.adm, choice);
			j->res.adm.expires_unix_s = j->now_unix_s +
						    fuzz_u16(in);
		}
		sodium_memzero(&j->u.req, sizeof(j->u.req));
		break;
	case JOB_LOOKUP:
		j->admitted = choice & 0x80;
		/* The store may fail to answer at all. */
		j->lookup_failed = !j->admitted && (choice & 0x40);
		if (j->admitted) {
			snprintf(j->adm.username, sizeof(j->adm.username),
				 "%s", j->has_username ? j->username : "alice");
			addr_pick(&j->adm, choice);
			j->adm.expires_unix_s = j->now_unix_s + fuzz_u16(in);
		}
		break;
	case JOB_EVENTS:
		/* Accounts changed elsewhere: admissions of these keys end. */
		j->u.events.n = choice % 3;
		for (n = 0; n < j->u.events.n; n++) {
			struct auth_event *e = &j->u.events.ev[n];

			e->seq = ++j->seq;
			memcpy(e->client_pub, peer_pub[fuzz_u8(in) % N_PEERS],
			       32);
			snprintf(e->reason, sizeof(e->reason), "%s",
				 choice & 4 ? "account disabled"
					    : "password changed");
		}
		j->u.events.more = choice & 8;
		j->store_error = choice & 16 ? -EIO : 0;
		break;
	default:
		break;
	}
	j->next = NULL;
	if (done_tail)
		done_tail->next = j;
	else
		done_head = j;
	done_tail = j;
}

/* The first n submitted jobs finish, and the loop collects them. */
static void
jobs_finish(unsigned int n, struct fuzz_in *in)
{
	unsigned int i;

	if (n > n_pending)
		n = n_pending;
	for (i = 0; i < n; i++)
		job_finish(pending[i], in);
	memmove(pending, pending + n, (n_pending - n) * sizeof(pending[0]));
	n_pending -= n;
	admit_jobs_done(&srv);
}

/* ---- operations ---------------------------------------------------------- */

static void
control(struct peer *p, struct fuzz_in *in)
{
	const uint8_t *data;
	size_t len = fuzz_bytes(in, &data, fuzz_u16(in) % 1500);
	uint8_t *msg = fuzz_dup(data, len);
	struct client_log *c = client_of(p);
	struct login_msg m;

	/* Remember the REQUEST_ID as vpnd will read it. */
	if (login_decode(msg, len, LOGIN_FROM_CLIENT, &m) == LOGIN_DECODE_OK &&
	    login_has(&m, LOGIN_ATTR_REQUEST_ID) &&
	    c->n_requests < MAX_OPS)
		c->request_ids[c->n_requests++] = m.request_id;
	/* The tunnel hands over the plaintext only when it is one. */
	if (len && data[0] >= 0x01 && data[0] <= 0x0f)
		admit_control(&srv, p, msg, len);
	free(msg);
}

static void
ip_packet(struct peer *p, struct fuzz_in *in)
{
	const uint8_t *data;
	size_t len = fuzz_bytes(in, &data, fuzz_u16(in) % 1500), inner;
	uint8_t *pkt = fuzz_dup(data, len);
	enum wire_payload kind = wire_payload_classify(pkt, len, &inner);

	if (kind == WIRE_PAYLOAD_IPV4 || kind == WIRE_PAYLOAD_IPV6)
		admit_ip_allowed(&srv, p, pkt, inner);
	free(pkt);
}

static void
advance(uint16_t deci)
{
	uint32_t i;

	srv.now_ns += (uint64_t)deci * 100 * NS_PER_MS;
	srv.wall_ns += (uint64_t)deci * 100 * NS_PER_MS;
	for (i = 0; i < srv.peers.capacity; i++) {
		struct peer *p = srv.peers.slots[i];

		if (p && p->deadline_ns <= srv.now_ns) {
			admit_peer_expire(&srv, p);
			server_peer_touched(&srv, p);
		}
	}
}

/* As server.c's reap() after every event. */
static void
reap(void)
{
	struct peer *p;

	while ((p = peer_doomed_pop(&srv.peers)))
		peer_free(p);
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
check_state(void)
{
	const struct peer_table *t = &srv.peers;
	uint8_t a4[4], a6[16];
	uint32_t i;

	for (i = 0; i < t->capacity; i++) {
		const struct peer *p = t->slots[i];

		if (!p || p->login.state != ADMIT_ADMITTED)
			continue;
		if (p->login.admission.has_addr4)
			FUZZ_CHECK(route_lookup(&srv.routes, AF_INET,
						p->login.admission.addr4) == p);
		if (p->login.admission.has_addr6)
			FUZZ_CHECK(route_lookup(&srv.routes, AF_INET6,
						p->login.admission.addr6) == p);
	}
	memcpy(a4, cfg.pool4.addr, 4);
	memcpy(a6, cfg.pool6.addr, 16);
	for (i = 0; i < N_ADDRS; i++) {
		a4[3] = (uint8_t)(2 + i);
		a6[15] = (uint8_t)(2 + i);
		check_owner(AF_INET, a4);
		check_owner(AF_INET6, a6);
	}
	for (i = 0; i < t->heap_len; i++) {
		FUZZ_CHECK(t->heap[i]->heap_pos == i &&
			   t->slots[t->heap[i]->slot] == t->heap[i]);
		if (i)
			FUZZ_CHECK(t->heap[(i - 1) / 2]->deadline_ns <=
				   t->heap[i]->deadline_ns);
	}
	FUZZ_CHECK(logins_in_flight <= max_logins);
}

/* ---- entry points -------------------------------------------------------- */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t priv[32];
	unsigned int k, i;

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	log_init("fuzz", false, LOG_CRIT);
	for (i = 0; i < 32; i++)
		server_priv[i] = (uint8_t)(100 + i);
	keys_clamp(server_priv);
	for (k = 0; k < N_PEERS; k++) {
		for (i = 0; i < 32; i++)
			priv[i] = (uint8_t)(k * 32 + i + 1);
		keys_clamp(priv);
		if (!keys_public_from_private(peer_pub[k], priv))
			abort();
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	int n;

	setup(fuzz_u8(&in));
	for (n = 0; n < MAX_OPS && fuzz_more(&in); n++) {
		uint8_t op = fuzz_u8(&in);
		struct peer *p = peer_get((op >> 4) % N_PEERS);

		if (!p)
			break;
		switch (op % 8) {
		case 0:
			control(p, &in);
			break;
		case 1:
			ip_packet(p, &in);
			break;
		case 2:
			jobs_finish(fuzz_u8(&in) % (N_JOBS + 1), &in);
			break;
		case 3:
			advance(fuzz_u16(&in));
			break;
		case 4:
			admit_housekeeping(&srv);
			admit_poll_events(&srv);
			break;
		case 5:
			/* A new handshake from the key: the old session ends,
			 * the admission stays. */
			tunnel_peer_reset(&p->tp);
			break;
		case 6:
			peer_doom(&srv.peers, p);
			break;
		default:
			admit_shutdown(&srv);
			break;
		}
		reap();
		check_state();
	}
	teardown();
	return 0;
}
