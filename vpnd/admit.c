// SPDX-License-Identifier: MIT
/*
 * The login layer on the server side (see admit.h for the two state
 * machines): control messages from clients, admissions, the answers kept
 * per REQUEST_ID, the failure delay, the source-address rule, the store's
 * change events and the admitted keys' timestamps. Decisions that need
 * the store or Argon2id go to worker threads (worker.c); this file only
 * submits jobs and applies their results, so it never blocks, and nothing
 * here visits every peer but shutdown.
 */
#include "admit.h"

#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "netlink.h"
#include "login.h"
#include "server.h"

#define ANSWER_KEEP_NS (60 * NS_PER_S)     /* rule 2 */
#define AUTH_REQUIRED_INTERVAL_NS NS_PER_S /* rule 9 */
#define BUSY_RETRY_AFTER_S 2
#define STORE_DOWN_RETRY_AFTER_S 5         /* the store cannot be reached */
#define RETRY_NS NS_PER_S                  /* a job pool that was empty */
#define ANSWER_MAX 1500
#define PEER_NAME_LEN (LOGIN_USERNAME_MAX + ENDPOINT_STR_LEN + 8)

static uint64_t
wall_s(const struct server *s)
{
	return s->wall_ns / NS_PER_S;
}

static const char *
peer_name(const struct peer *p, char *buf, size_t len)
{
	char ep[ENDPOINT_STR_LEN], user[LOGIN_USERNAME_MAX + 1];
	const struct peer_login *l = &p->login;

	endpoint_format(&p->tp.endpoint, ep);
	if (l->state == ADMIT_ADMITTED)
		snprintf(buf, len, "%s (%s)",
			 log_sanitize(user, sizeof(user), l->admission.username,
				      strlen(l->admission.username)),
			 ep);
	else
		snprintf(buf, len, "%s", ep);
	return buf;
}

/* ---- messages --------------------------------------------------------------- */

static void
send_auth_required(struct server *s, struct peer *p, bool has_request_id,
		   uint32_t request_id)
{
	struct peer_login *l = &p->login;
	uint8_t buf[64];
	struct login_writer w;
	size_t len;

	if (l->has_sent_auth_required &&
	    s->now_ns - l->last_auth_required_ns < AUTH_REQUIRED_INTERVAL_NS)
		return;
	login_writer_init(&w, buf, sizeof(buf), LOGIN_AUTH_REQUIRED);
	if (has_request_id)
		login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, request_id);
	login_put_text(&w, LOGIN_ATTR_MESSAGE, "login required");
	len = login_writer_finish(&w);
	if (!len)
		return;
	l->has_sent_auth_required = true;
	l->last_auth_required_ns = s->now_ns;
	server_send_control(s, p, buf, len);
}

static void
send_disconnect(struct server *s, struct peer *p, const char *reason)
{
	uint8_t buf[128];
	struct login_writer w;
	size_t len;

	login_writer_init(&w, buf, sizeof(buf), LOGIN_DISCONNECT);
	login_put_text(&w, LOGIN_ATTR_REASON, reason);
	len = login_writer_finish(&w);
	if (len)
		server_send_control(s, p, buf, len);
}

/* mtu: the client's tunnel's, by its endpoint's family (pmtu.h). */
static void
put_config(struct server *s, struct login_writer *w,
	   const struct auth_admission *adm, uint16_t mtu)
{
	const struct vpnd_config *c = s->cfg;
	uint64_t left;
	unsigned int i;

	if (adm->has_addr4) {
		login_put_prefix(w, LOGIN_ATTR_ADDRESS4, adm->addr4, 4,
				 c->pool4.len);
		login_put(w, LOGIN_ATTR_GATEWAY4, s->addr4, 4);
	}
	if (adm->has_addr6) {
		login_put_prefix(w, LOGIN_ATTR_ADDRESS6, adm->addr6, 16,
				 c->pool6.len);
		login_put(w, LOGIN_ATTR_GATEWAY6, s->addr6, 16);
	}
	for (i = 0; i < c->n_routes; i++) {
		const struct prefix *r = &c->routes[i];
		bool v6 = r->family == AF_INET6;

		login_put_prefix(w, v6 ? LOGIN_ATTR_ROUTE6 : LOGIN_ATTR_ROUTE4,
				 r->addr, v6 ? 16 : 4, r->len);
	}
	for (i = 0; i < c->n_dns; i++) {
		bool v6 = c->dns[i].family == AF_INET6;

		login_put(w, v6 ? LOGIN_ATTR_DNS6 : LOGIN_ATTR_DNS4,
			  c->dns[i].addr, v6 ? 16 : 4);
	}
	for (i = 0; i < c->n_dns_search; i++)
		login_put_text(w, LOGIN_ATTR_DNS_SEARCH, c->dns_search[i]);
	login_put_u16(w, LOGIN_ATTR_MTU, mtu);
	login_put_u16(w, LOGIN_ATTR_KEEPALIVE, c->keepalive_s);
	left = adm->expires_unix_s > wall_s(s) ? adm->expires_unix_s - wall_s(s)
					       : 0;
	login_put_u32(w, LOGIN_ATTR_SESSION_EXPIRES,
		      left > UINT32_MAX ? UINT32_MAX : (uint32_t)left);
}

static const char *
status_message(enum login_status status)
{
	switch (status) {
	case LOGIN_STATUS_OK:
		return "welcome";
	case LOGIN_STATUS_LOCKED:
		return "too many failed attempts; try again later";
	case LOGIN_STATUS_BUSY:
		return "the server is busy; try again shortly";
	case LOGIN_STATUS_POOL_EXHAUSTED:
		return "no tunnel address is free; try again later";
	default:
		return "login failed";
	}
}

/* ---- answers kept for retransmissions (rule 2) ------------------------------- */

/* Frees *link and every older answer after it; *link becomes NULL. */
static void
answers_cut(struct answerbuf *ab, struct admit_answer **link)
{
	struct admit_answer *a = *link, *older;

	*link = NULL;
	for (; a; a = older) {
		older = a->older;
		sodium_memzero(a, sizeof(*a) + a->len);
		answerbuf_free(ab, a);
	}
}

/* Answers are newest first, so the expired ones are a tail. */
static void
answers_expire(struct answerbuf *ab, struct peer_login *l, uint64_t now_ns)
{
	struct admit_answer **link = &l->answers;

	while (*link && now_ns - (*link)->at_ns < ANSWER_KEEP_NS)
		link = &(*link)->older;
	answers_cut(ab, link);
}

static void
answers_free(struct answerbuf *ab, struct peer_login *l)
{
	answers_cut(ab, &l->answers);
}

/* The answer kept for request_id, or NULL. */
static struct admit_answer *
answer_find(struct answerbuf *ab, struct peer_login *l, uint32_t request_id,
	    uint64_t now_ns)
{
	struct admit_answer *a;

	answers_expire(ab, l, now_ns);
	for (a = l->answers; a; a = a->older)
		if (a->request_id == request_id)
			return a;
	return NULL;
}

/* Keeps a copy of msg as the answer to request_id, the oldest of
 * ADMIT_ANSWERS making room. NULL if out of memory. */
static struct admit_answer *
answer_keep(struct answerbuf *ab, struct peer_login *l, uint32_t request_id,
	    const uint8_t *msg, size_t len, uint64_t now_ns)
{
	struct admit_answer *a = answerbuf_alloc(ab, sizeof(*a) + len), **link;
	unsigned int n;

	if (!a)
		return NULL;
	memcpy(a->msg, msg, len);
	a->request_id = request_id;
	a->at_ns = now_ns;
	a->len = (uint16_t)len;
	a->older = l->answers;
	l->answers = a;
	/* The oldest beyond ADMIT_ANSWERS makes room. */
	for (link = &l->answers, n = 0; *link && n < ADMIT_ANSWERS; n++)
		link = &(*link)->older;
	answers_cut(ab, link);
	return a;
}

/* Builds an AUTH_RESULT and keeps it; NULL if it cannot fit or be kept. */
static struct admit_answer *
build_result(struct server *s, struct peer *p, uint32_t request_id,
	     const struct auth_result *res)
{
	uint16_t mtu = pmtu_peer(&s->pmtu, p->tp.endpoint.addr.sa.sa_family);
	size_t cap = mtu < ANSWER_MAX ? mtu : ANSWER_MAX;
	uint8_t buf[ANSWER_MAX];
	struct login_writer w;
	size_t len;

	login_writer_init(&w, buf, cap, LOGIN_AUTH_RESULT);
	login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, request_id);
	login_put_u8(&w, LOGIN_ATTR_STATUS, (uint8_t)res->status);
	login_put_text(&w, LOGIN_ATTR_MESSAGE, status_message(res->status));
	if (res->status == LOGIN_STATUS_OK)
		put_config(s, &w, &res->adm, mtu);
	else if (res->retry_after_s)
		login_put_u32(&w, LOGIN_ATTR_RETRY_AFTER, res->retry_after_s);
	len = login_writer_finish(&w);
	if (!len) {
		log_err("the configuration pushed to clients does not fit in "
			"one message of MTU %u: fewer routes or DNS entries",
			mtu);
		return NULL;
	}
	return answer_keep(&s->admit.answers, &p->login, request_id, buf, len,
			   s->now_ns);
}

static void
send_kept(struct server *s, struct peer *p, const struct admit_answer *a)
{
	if (a)
		server_send_control(s, p, a->msg, a->len);
}

/* The answer to the request being checked goes out now. */
static void
request_answered(struct server *s, struct peer *p)
{
	struct peer_login *l = &p->login;

	l->request = ADMIT_REQ_IDLE;
	send_kept(s, p, answer_find(&s->admit.answers, l, l->request_id,
				    s->now_ns));
}

/* ---- admission state ---------------------------------------------------------- */

/* A site's subnet: the kernel sends it into the tunnel device. */
static void
kernel_route(struct server *s, const struct prefix *n, bool add)
{
	char text[PREFIX_STR_LEN];
	int ret;

	if (!s->nl)
		return;
	ret = add ? netlink_route_add(s->nl, s->ifindex, n->family, n->addr,
				      n->len, NULL, 0)
		  : netlink_route_del(s->nl, s->ifindex, n->family, n->addr,
				      n->len, NULL, 0);
	if (ret < 0)
		log_warn("cannot %s the route to %s on %s: %s",
			 add ? "add" : "remove", prefix_format(n, text),
			 s->ifname, strerror(-ret));
}

static void
routes_del(struct server *s, struct peer *p)
{
	const struct peer_admission *a = &p->login.admission;
	unsigned int i;

	if (a->has_addr4)
		route_del(&s->routes, AF_INET, a->addr4, 32, p);
	if (a->has_addr6)
		route_del(&s->routes, AF_INET6, a->addr6, 128, p);
	for (i = 0; i < a->n_subnets; i++) {
		const struct prefix *n = &a->subnets[i];

		if (route_owner(&s->routes, n->family, n->addr, n->len) != p)
			continue;
		route_del(&s->routes, n->family, n->addr, n->len, p);
		kernel_route(s, n, false);
	}
	lanmode_client_down(s, p);
}

static void
hold_admission(struct server *s, struct peer *p)
{
	if (p->login.holds_admission)
		return;
	if (tstamp_hold(&s->tunnel.stamps, peer_pub(p), ADMIT_HOLD_ADMISSION) < 0)
		log_warn("out of memory keeping a client's timestamp");
	else
		p->login.holds_admission = true;
}

static void
release_admission(struct server *s, struct peer *p)
{
	if (!p->login.holds_admission)
		return;
	tstamp_release(&s->tunnel.stamps, peer_pub(p), ADMIT_HOLD_ADMISSION,
		       s->now_ns);
	p->login.holds_admission = false;
}

static void
admission_end(struct server *s, struct peer *p, const char *reason);

/* A prefix moved to p (an address, a site's subnet): the peer that held
 * it loses its admission. */
static void
claim(struct server *s, struct peer *p, int family, const uint8_t *addr,
      unsigned int len)
{
	struct peer *old = route_owner(&s->routes, family, addr, len);

	if (old && old != p)
		admission_end(s, old, "address reassigned");
	if (route_add(&s->routes, family, addr, len, p) < 0)
		log_warn("out of memory routing a client's address");
}

/* The expiry on the loop's clock, from the UNIX time the store keeps. */
static uint64_t
expiry_ns(const struct server *s, uint64_t expires_unix_s)
{
	uint64_t left_s = expires_unix_s > wall_s(s) ? expires_unix_s - wall_s(s)
						      : 0;

	if (left_s > (UINT64_MAX - s->now_ns) / NS_PER_S - 1)
		return UINT64_MAX - 1;
	return s->now_ns + left_s * NS_PER_S;
}

/* Keeps a in k, a site's subnets in an allocation of their own. */
static void
admission_keep(struct peer_admission *k, const struct auth_admission *a)
{
	struct prefix *subnets = NULL;

	if (a->n_subnets) {
		subnets = malloc(a->n_subnets * sizeof(*subnets));
		if (subnets)
			memcpy(subnets, a->subnets,
			       a->n_subnets * sizeof(*subnets));
		else
			log_warn("user %s: out of memory keeping its subnets: "
				 "unrouted until its next lookup",
				 a->username);
	}
	free(k->subnets);
	memcpy(k->username, a->username, sizeof(k->username));
	k->has_addr4 = a->has_addr4;
	memcpy(k->addr4, a->addr4, sizeof(k->addr4));
	k->has_addr6 = a->has_addr6;
	memcpy(k->addr6, a->addr6, sizeof(k->addr6));
	k->created_unix_s = a->created_unix_s;
	k->expires_unix_s = a->expires_unix_s;
	k->n_subnets = subnets ? a->n_subnets : 0;
	k->subnets = subnets;
}

static void
admission_set(struct server *s, struct peer *p, const struct auth_admission *a)
{
	struct peer_login *l = &p->login;
	const struct peer_admission *k = &l->admission;
	char who[PEER_NAME_LEN], text[PREFIX_STR_LEN];
	bool was = l->state == ADMIT_ADMITTED;
	unsigned int i;

	if (was)
		routes_del(s, p);
	admission_keep(&l->admission, a);
	l->state = ADMIT_ADMITTED;
	gate_admitted(s, p);
	l->expires_ns = expiry_ns(s, a->expires_unix_s);
	p->tp.can_initiate = true;
	/* max-peers holds: past it (resumes while logins were checked), an
	 * admitted peer takes a place in the login pool, which no newcomer
	 * may take either. */
	peer_set_pool(&s->peers, p,
		      p->pool == PEER_POOL_ADMITTED ||
				      s->peers.n_admitted < s->peers.max_admitted
			      ? PEER_POOL_ADMITTED
			      : PEER_POOL_LOGIN);
	hold_admission(s, p);
	if (a->has_stamp)
		tstamp_raise(&s->tunnel.stamps, peer_pub(p), a->stamp);
	if (a->has_addr4)
		claim(s, p, AF_INET, a->addr4, 32);
	if (a->has_addr6)
		claim(s, p, AF_INET6, a->addr6, 128);
	for (i = 0; i < k->n_subnets; i++) {
		claim(s, p, k->subnets[i].family, k->subnets[i].addr,
		      k->subnets[i].len);
		kernel_route(s, &k->subnets[i], true);
	}
	lanmode_client_up(s, p);
	cluster_session_up(s, p);
	if (!was)
		log_info("%s admitted, address %s", peer_name(p, who, sizeof(who)),
			 a->has_addr4 ? prefix_format_addr(AF_INET, a->addr4, text)
				      : prefix_format_addr(AF_INET6, a->addr6,
							   text));
}

/* The admission is over here: no packet passes, the peer goes. */
static void
admission_clear(struct server *s, struct peer *p)
{
	struct peer_login *l = &p->login;

	if (l->state == ADMIT_ADMITTED) {
		routes_del(s, p);
		cluster_session_down(s, p);
	}
	l->state = ADMIT_NONE;
	l->epoch++;
	p->tp.can_initiate = false;
	release_admission(s, p);
	peer_doom(&s->peers, p);
}

/* The admission ended while the session lives (expiry, a change in the
 * store, its address given to another key): the client is told why. */
static void
admission_end(struct server *s, struct peer *p, const char *reason)
{
	char who[PEER_NAME_LEN];

	if (p->login.state != ADMIT_ADMITTED)
		return;
	log_info("%s: admission ended: %s", peer_name(p, who, sizeof(who)),
		 reason);
	send_disconnect(s, p, reason);
	admission_clear(s, p);
}

/* Not admitted after all (a peer that started in the admitted pool). */
static void
admission_none(struct server *s, struct peer *p)
{
	p->login.state = ADMIT_NONE;
	release_admission(s, p);
	if (p->pool != PEER_POOL_ADMITTED)
		return;
	/* Back among the pending, within their bounds, or gone. */
	if (!peer_pending_has_room(&s->peers) ||
	    !peer_source_has_room(&s->peers, p->source_key)) {
		peer_doom(&s->peers, p);
		return;
	}
	peer_set_pool(&s->peers, p, tunnel_peer_has_session(&p->tp, s->now_ns)
					    ? PEER_POOL_LOGIN
					    : PEER_POOL_UNCONFIRMED);
}

/* ---- jobs ----------------------------------------------------------------------- */

static struct job *
job_for(struct server *s, struct peer *p, enum job_kind kind)
{
	struct job *j = workers_job_get(&s->workers);

	if (!j)
		return NULL;
	j->kind = kind;
	j->peer_slot = p->slot;
	j->peer_generation = p->generation;
	j->adm_epoch = p->login.epoch;
	j->submitted_ns = s->now_ns;
	j->now_unix_s = wall_s(s);
	memcpy(j->pub, peer_pub(p), 32);
	return j;
}

static bool
submit_lookup(struct server *s, struct peer *p, bool is_resume,
	      uint32_t request_id, const struct login_text *username)
{
	struct peer_login *l = &p->login;
	struct job *j;

	if (l->lookup_in_flight)
		return false;
	j = job_for(s, p, JOB_LOOKUP);
	if (!j) {
		/* Asked again from the peer's deadline; a RESUME is sent
		 * again by the client itself. */
		if (!is_resume) {
			l->lookup_retry = true;
			l->retry_ns = s->now_ns + RETRY_NS;
		}
		return false;
	}
	j->is_resume = is_resume;
	j->request_id = request_id;
	if (username && username->len) {
		j->has_username = true;
		memcpy(j->username, username->ptr, username->len);
	}
	l->lookup_in_flight = workers_submit(&s->workers, j) == SUBMIT_OK;
	return l->lookup_in_flight;
}

/* A RESUME that waited (handle_resume) is answered from the store once
 * nothing of this key is under way: admitted if a check let it in. */
static void
resume_waiting_submit(struct server *s, struct peer *p)
{
	struct peer_login *l = &p->login;
	struct admit_resume *r = l->resume;
	struct login_text user;

	if (!r || l->lookup_in_flight || l->request == ADMIT_REQ_CHECKING)
		return;
	user.ptr = r->username;
	user.len = r->username_len;
	l->resume = NULL;
	submit_lookup(s, p, true, r->request_id, &user);
	free(r);
}

void
admit_peer_new(struct server *s, struct peer *p)
{
	struct peer_login *l = &p->login;

	memset(l, 0, sizeof(*l));
	l->state = ADMIT_LOOKUP;
	l->holds_admission = tstamp_holders(&s->tunnel.stamps, peer_pub(p)) &
			     ADMIT_HOLD_ADMISSION;
	l->idle_check_ns = p->created_ns + s->pt.reject_after_ns;
	submit_lookup(s, p, false, 0, NULL);
}

void
admit_session_started(struct server *s, struct peer *p)
{
	if (p->pool == PEER_POOL_UNCONFIRMED)
		peer_set_pool(&s->peers, p, PEER_POOL_LOGIN);
}

static void
answer_resume(struct server *s, struct peer *p, const struct job *j,
	      bool current)
{
	if (j->admitted && current) {
		struct auth_result res = { .status = LOGIN_STATUS_OK,
					   .adm = j->adm };

		send_kept(s, p, build_result(s, p, j->request_id, &res));
	} else {
		send_auth_required(s, p, true, j->request_id);
	}
}

/* A RESUME the store cannot answer now, as it is unreachable: the client
 * waits and asks again, instead of giving up after its retransmissions
 * or being told to log in (which the store could not check either). */
static void
answer_resume_busy(struct server *s, struct peer *p, uint32_t request_id)
{
	struct auth_result res = { .status = LOGIN_STATUS_BUSY,
				   .retry_after_s = STORE_DOWN_RETRY_AFTER_S };

	send_kept(s, p, build_result(s, p, request_id, &res));
}

static void
lookup_done(struct server *s, struct peer *p, struct job *j)
{
	struct peer_login *l = &p->login;
	bool current = j->adm_epoch == l->epoch;

	l->lookup_in_flight = false;
	/* Nobody is admitted before the admissions' timestamps are loaded
	 * (admit_start): the store is taken as unreachable until then. */
	if (s->admit.is_start_pending && !j->lookup_failed) {
		j->lookup_failed = true;
		j->store_error = -ENOTCONN;
	}
	/*
	 * A store that could not answer ends nothing (rule 1 says what
	 * does): an admission stays, a peer being looked up is asked about
	 * again, and a RESUME goes unanswered, to be sent again (BUSY when
	 * the store cannot be reached: it may be down for long). An answer
	 * older than the latest login or end of admission is stale.
	 */
	if (j->lookup_failed) {
		if (l->state == ADMIT_LOOKUP) {
			l->lookup_retry = true;
			l->retry_ns = s->now_ns + RETRY_NS;
		}
	} else if (current && j->admitted) {
		admission_set(s, p, &j->adm);
	} else if (current && l->state == ADMIT_LOOKUP) {
		admission_none(s, p);
	}
	if (p->is_doomed)
		return;
	if (j->is_resume && !j->lookup_failed)
		answer_resume(s, p, j, current);
	else if (j->is_resume && j->store_error == -ENOTCONN)
		answer_resume_busy(s, p, j->request_id);
	if (l->resume)
		resume_waiting_submit(s, p);
	else if (!current && l->state == ADMIT_LOOKUP)
		submit_lookup(s, p, false, 0, NULL);
}

/* One more login answered with status for reason (metrics). */
static void
count_login(struct server *s, enum login_status status, const char *reason)
{
	struct admit_server *a = &s->admit;
	unsigned int i;

	if (!reason)
		reason = "";
	for (i = 0; i < a->n_login_kinds; i++)
		if (a->logins[i].status == status &&
		    strcmp(a->logins[i].reason, reason) == 0)
			break;
	if (i == a->n_login_kinds) {
		/* Full: the last kind takes what no other does. */
		if (i == ADMIT_LOGIN_KINDS)
			i--;
		else
			a->n_login_kinds++;
		a->logins[i].status = status;
		a->logins[i].reason = reason;
	}
	a->logins[i].n++;
}

/*
 * The events poll said -ENOTCONN: the store cannot be reached (a database
 * server down), said once. The poll alone says whether it can, up or
 * down: one connection, one poll at a time every 200 ms, so neither jobs
 * finishing out of order nor another thread's connection found broken
 * only at its first use after an outage can make this flap. Any job's
 * -ENOTCONN is answered BUSY all the same, and counted.
 */
static void
store_unreachable(struct server *s)
{
	struct admit_server *a = &s->admit;

	if (a->is_store_down)
		return;
	a->is_store_down = true;
	a->store_down_ns = s->now_ns;
	a->store_down_unix_s = wall_s(s);
	log_err("the user store cannot be reached; logins and resumes are "
		"answered BUSY until it can, admitted sessions go on");
}

static void
store_reachable(struct server *s)
{
	struct admit_server *a = &s->admit;

	if (!a->is_store_down)
		return;
	a->is_store_down = false;
	log_notice("the user store can be reached again, after %llu s",
		   (unsigned long long)((s->now_ns - a->store_down_ns) /
					NS_PER_S));
}

/* What the store said to a job: 0, or its -errno. */
static int
job_store_error(const struct job *j)
{
	switch (j->kind) {
	case JOB_LOGIN:
		return j->res.store_error;
	case JOB_KICK: /* else how many it ended */
		return j->store_error < 0 ? j->store_error : 0;
	default:
		return j->store_error;
	}
}

/* Any store job that failed (a login, a prune, a lookup, saving
 * timestamps...): the events poll says whether the store answers now;
 * this says whether anything failed at all, and what last. */
static void
count_store_job(struct server *s, const struct job *j)
{
	int err = job_store_error(j);

	if (err >= 0)
		return;
	s->admit.store_failures++;
	s->admit.store_last_errno = -err;
}

static void
latency_add(struct admit_latency *l, uint64_t ns)
{
	l->n++;
	l->sum_ns += ns;
	if (ns > l->max_ns)
		l->max_ns = ns;
}

static void
login_done(struct server *s, struct peer *p, struct job *j)
{
	struct peer_login *l = &p->login;
	uint64_t delay_ns = (uint64_t)s->cfg->failure_delay_ms * NS_PER_MS;

	if (j->res.status == LOGIN_STATUS_OK) {
		l->epoch++;
		admission_set(s, p, &j->res.adm);
	}
	build_result(s, p, j->request_id, &j->res);
	/* Rule 3: every failure answers after the same delay. */
	if (j->res.status == LOGIN_STATUS_OK ||
	    s->now_ns >= j->submitted_ns + delay_ns)
		request_answered(s, p);
	else {
		l->request = ADMIT_REQ_REPLY_WAIT;
		l->reply_at_ns = j->submitted_ns + delay_ns;
	}
	resume_waiting_submit(s, p);
}

/* ---- what changed in the store ------------------------------------------------ */

/*
 * The client recorded a session on another node: this node's peer for it
 * is stale (its path here failed, or this node was cut off a while) and
 * goes now, with its routes and proxy entry, instead of answering for the
 * client's address until it idles out. The admission stays in the store
 * (the client resumes it there), so its timestamp stays held, as when a
 * peer idles out; and the client is not told: it is gone.
 */
static void
session_moved(struct server *s, struct peer *p, const struct auth_event *e)
{
	char who[PEER_NAME_LEN], node[64];

	/* A peer not admitted here holds no route: it idles out. */
	if (!p || p->login.state != ADMIT_ADMITTED ||
	    strncmp(e->reason, s->cluster.node, sizeof(e->reason)) == 0)
		return;
	log_sanitize(node, sizeof(node), e->reason,
		     strnlen(e->reason, sizeof(e->reason)));
	log_info("%s: moved to node %s; let go here",
		 peer_name(p, who, sizeof(who)), node);
	routes_del(s, p);
	cluster_session_down(s, p);
	p->login.state = ADMIT_NONE;
	p->login.epoch++;
	p->tp.can_initiate = false;
	peer_doom(&s->peers, p);
}

static void
event_apply(struct server *s, const struct auth_event *e)
{
	struct peer *p = peer_lookup(&s->peers, e->client_pub);
	char reason[64];

	if (e->is_moved) {
		session_moved(s, p, e);
		return;
	}
	if (e->is_change) {
		/* A lookup under way may have read the admission before. */
		if (p && p->login.state == ADMIT_ADMITTED &&
		    !submit_lookup(s, p, false, 0, NULL)) {
			p->login.lookup_retry = true;
			p->login.retry_ns = s->now_ns + RETRY_NS;
		}
		return;
	}
	if (!p) {
		/* No peer here: its timestamp need not be pinned. */
		tstamp_release(&s->tunnel.stamps, e->client_pub,
			       ADMIT_HOLD_ADMISSION, s->now_ns);
		return;
	}
	/* A newer admission of the same key (a login since) is not it. */
	if (p->login.state == ADMIT_ADMITTED && e->expires_unix_s &&
	    e->expires_unix_s != p->login.admission.expires_unix_s)
		return;
	if (p->login.state == ADMIT_ADMITTED) {
		log_sanitize(reason, sizeof(reason), e->reason,
			     strnlen(e->reason, sizeof(e->reason)));
		admission_end(s, p, reason);
		return;
	}
	/* A lookup already under way may have read the admission. */
	p->login.epoch++;
	release_admission(s, p);
}

static void
submit_events(struct server *s)
{
	struct job *j;

	if (s->admit.events_in_flight)
		return;
	j = workers_job_get(&s->workers);
	if (!j)
		return;
	j->kind = JOB_EVENTS;
	j->peer_slot = UINT32_MAX;
	j->submitted_ns = s->now_ns;
	j->seq = s->admit.events_seq;
	s->admit.events_in_flight = workers_submit(&s->workers, j) == SUBMIT_OK;
}

/* The events poll every 200 ms doubles as the store's health check.
 * Unreachable (-ENOTCONN) is store_unreachable()'s to say; any other
 * answer, an error included, comes from a store that can be reached. */
static void
store_health(struct server *s, int store_error)
{
	int was = s->admit.store_errno, now;
	bool was_error = was && was != ENOTCONN, is_error;

	s->admit.store_errno = store_error < 0 ? -store_error : 0;
	now = s->admit.store_errno;
	is_error = now && now != ENOTCONN;
	if (now == ENOTCONN)
		store_unreachable(s);
	else
		store_reachable(s);
	if (!was_error && is_error)
		log_err("the user store cannot be read: %s; logins are "
			"answered BUSY until it can", strerror(now));
	else if (was_error && !now)
		log_notice("the user store answers again");
}

static void
events_done(struct server *s, struct job *j)
{
	unsigned int i;

	s->admit.events_in_flight = false;
	store_health(s, j->store_error);
	if (j->store_error)
		return;
	for (i = 0; i < j->u.events.n; i++)
		event_apply(s, &j->u.events.ev[i]);
	s->admit.events_seq = j->seq;
	if (j->u.events.more)
		submit_events(s);
}

/* Saves the admitted keys' timestamps that changed, a job at a time. */
static void
submit_stamps(struct server *s)
{
	struct tstamp_saved saved[JOB_STAMPS_MAX];
	struct job *j;
	size_t n, i;

	if (s->admit.stamps_in_flight || !s->tunnel.stamps.n_dirty)
		return;
	j = workers_job_get(&s->workers);
	if (!j)
		return;
	n = tstamp_take_dirty(&s->tunnel.stamps, ADMIT_HOLD_ADMISSION, saved,
			      JOB_STAMPS_MAX);
	if (!n) {
		workers_job_put(&s->workers, j);
		return;
	}
	j->kind = JOB_STAMPS;
	j->peer_slot = UINT32_MAX;
	j->submitted_ns = s->now_ns;
	for (i = 0; i < n; i++) {
		memcpy(j->u.stamps.st[i].client_pub, saved[i].key, 32);
		memcpy(j->u.stamps.st[i].stamp, saved[i].stamp, TAI64N_LEN);
	}
	j->u.stamps.n = (unsigned int)n;
	s->admit.stamps_in_flight = workers_submit(&s->workers, j) == SUBMIT_OK;
}

static void
start_done(struct server *s, struct job *j);

static void
store_job_done(struct server *s, struct job *j)
{
	switch (j->kind) {
	case JOB_EVENTS:
		events_done(s, j);
		break;
	case JOB_KICK:
		server_job_done(s, j);
		break;
	case JOB_CLUSTER:
	case JOB_CLUSTER_LIST:
		cluster_job_done(s, j);
		break;
	case JOB_START:
		start_done(s, j);
		break;
	case JOB_STAMPS:
		s->admit.stamps_in_flight = false;
		/* Unreachable is said once (store_unreachable). */
		if (j->store_error && j->store_error != -ENOTCONN)
			log_warn("could not save the clients' handshake "
				 "timestamps: %s", strerror(-j->store_error));
		else
			submit_stamps(s);
		break;
	default:
		break;
	}
}

void
admit_jobs_done(struct server *s)
{
	struct job *j = workers_collect(&s->workers), *next;

	for (; j; j = next) {
		struct peer *p = peer_by_slot(&s->peers, j->peer_slot,
					      j->peer_generation);

		next = j->next;
		if (j->submitted_ns)
			latency_add(j->kind == JOB_LOGIN ? &s->admit.login_latency
							 : &s->admit.store_latency,
				    s->now_ns - j->submitted_ns);
		if (j->kind == JOB_LOGIN)
			count_login(s, j->res.status, j->res.reason);
		count_store_job(s, j);
		if (j->peer_slot == UINT32_MAX)
			store_job_done(s, j);
		else if (p && j->kind == JOB_LOGIN)
			login_done(s, p, j);
		else if (p && j->kind == JOB_LOOKUP)
			lookup_done(s, p, j);
		if (p)
			server_peer_touched(s, p);
		workers_job_put(&s->workers, j);
	}
}

/* ---- control messages ---------------------------------------------------------- */

/*
 * A BUSY answer costs its sender one datagram and us no check, so its
 * audit line is rate-limited: a flood must not become a log line per
 * packet. The lines that are written say how many went unlogged.
 */
static struct log_ratelimit busy_log = LOG_RATELIMIT_INIT(5, 1);
static uint64_t busy_unlogged;

static void
audit_busy(struct server *s, struct peer *p, const struct login_msg *m,
	   const char *reason)
{
	char src[ENDPOINT_STR_LEN], user[LOGIN_USERNAME_MAX + 1];
	char more[64] = "";

	if (!log_ratelimit_allow(&busy_log, s->now_ns))
		return;
	if (busy_log.suppressed != busy_unlogged)
		snprintf(more, sizeof(more), " (%llu more not logged)",
			 (unsigned long long)(busy_log.suppressed -
					      busy_unlogged));
	busy_unlogged = busy_log.suppressed;
	auth_audit_name(user, m->username.ptr, m->username.len);
	log_notice("login user=%s src=%s result=busy reason=%s "
		   "totp_offset=-%s", user,
		   endpoint_format(&p->tp.verified_endpoint, src), reason,
		   more);
}

static void
answer_busy_after(struct server *s, struct peer *p, const struct login_msg *m,
		  const char *reason, uint32_t retry_after_s)
{
	struct auth_result res = { .status = LOGIN_STATUS_BUSY,
				   .retry_after_s = retry_after_s };

	audit_busy(s, p, m, reason);
	count_login(s, LOGIN_STATUS_BUSY, reason);
	send_kept(s, p, build_result(s, p, m->request_id, &res));
}

static void
answer_busy(struct server *s, struct peer *p, const struct login_msg *m,
	    const char *reason)
{
	answer_busy_after(s, p, m, reason, BUSY_RETRY_AFTER_S);
}

/* Failures are charged to where the handshake was proven to come from,
 * never to where the latest datagram says it came from. */
static const struct endpoint *
login_source(const struct peer *p)
{
	return p->tp.has_verified_endpoint ? &p->tp.verified_endpoint
					   : &p->tp.endpoint;
}

static void
fill_request(struct server *s, struct peer *p, const struct login_msg *m,
	     struct job *j)
{
	struct auth_request *req = &j->u.req;
	const struct endpoint *src = login_source(p);
	struct cookie_src csrc;

	memcpy(req->client_pub, peer_pub(p), 32);
	memcpy(req->username, m->username.ptr, m->username.len);
	memcpy(req->password, m->password.ptr, m->password.len);
	req->password_len = m->password.len;
	memcpy(req->code, m->totp.ptr, m->totp.len);
	req->src_port = endpoint_port(src);
	endpoint_addr_bytes(src, &req->src_family, req->src_addr);
	req->now_unix_s = wall_s(s);
	req->has_stamp = tstamp_get(&s->tunnel.stamps, peer_pub(p), req->stamp);
	endpoint_cookie_src(src, &csrc);
	ratelimit_source_key(&csrc, j->lane.key);
}

static void
handle_auth_request(struct server *s, struct peer *p, const struct login_msg *m)
{
	struct peer_login *l = &p->login;
	struct admit_answer *kept;
	struct job *j;

	/* Rule 2: a retransmission gets the same answer, unchecked; one
	 * that arrives while its check runs (or its answer waits) waits. */
	if (l->request != ADMIT_REQ_IDLE)
		return;
	kept = answer_find(&s->admit.answers, l, m->request_id, s->now_ns);
	if (kept) {
		send_kept(s, p, kept);
		return;
	}
	/* No check can be made: none is queued to fail (rule 5's workers
	 * stay free), and nothing is counted against the person. */
	if (s->admit.is_store_down) {
		answer_busy_after(s, p, m, "store-unreachable",
				  STORE_DOWN_RETRY_AFTER_S);
		return;
	}
	/* Logged-in clients at max-peers: no check can let one more in. */
	if (l->state != ADMIT_ADMITTED &&
	    s->peers.n_admitted >= s->peers.max_admitted) {
		answer_busy(s, p, m, "server-full");
		return;
	}
	j = job_for(s, p, JOB_LOGIN);
	if (!j) {
		answer_busy(s, p, m, "queue-full");
		return;
	}
	j->request_id = m->request_id;
	fill_request(s, p, m, j);
	switch (workers_submit(&s->workers, j)) {
	case SUBMIT_OK:
		l->request = ADMIT_REQ_CHECKING;
		l->request_id = m->request_id;
		break;
	case SUBMIT_SOURCE_BUSY:
		answer_busy(s, p, m, "source-queue-full");
		break;
	default:
		answer_busy(s, p, m, "queue-full");
		break;
	}
}

static void
handle_resume(struct server *s, struct peer *p, const struct login_msg *m)
{
	struct peer_login *l = &p->login;

	/* A lookup under way, or a password check of this key: the RESUME
	 * is answered once it is done. A client that gave up waiting for its
	 * login's answer and came back must not be told to log in again
	 * while that login is still being checked: its code would then be
	 * spent by the first check and refused as reused in the second. */
	if (l->lookup_in_flight || l->request == ADMIT_REQ_CHECKING) {
		/* The USERNAME waits too: rule 6 holds for this RESUME. Out
		 * of memory, it goes unanswered, to be sent again. */
		if (!l->resume && !(l->resume = malloc(sizeof(*l->resume))))
			return;
		l->resume->request_id = m->request_id;
		if (m->username.len)
			memcpy(l->resume->username, m->username.ptr,
			       m->username.len);
		l->resume->username_len = m->username.len;
		return;
	}
	if (s->admit.is_store_down) {
		answer_resume_busy(s, p, m->request_id);
		return;
	}
	submit_lookup(s, p, true, m->request_id, &m->username);
}

static void
handle_disconnect(struct server *s, struct peer *p, const struct login_msg *m)
{
	bool logout = login_has(m, LOGIN_ATTR_LOGOUT);
	char who[PEER_NAME_LEN];
	struct job *j;

	log_info("%s disconnected%s", peer_name(p, who, sizeof(who)),
		 logout ? " and logged out" : "");
	if (logout) {
		j = job_for(s, p, JOB_END);
		if (j)
			workers_submit(&s->workers, j);
		if (p->login.state == ADMIT_ADMITTED)
			routes_del(s, p);
		p->login.state = ADMIT_NONE;
		release_admission(s, p);
	}
	/* The live session ends; the admission, unless logged out, stays in
	 * the store for the client's next start. */
	tunnel_peer_reset(&p->tp);
	peer_doom(&s->peers, p);
}

void
admit_control(struct server *s, struct peer *p, const uint8_t *msg, size_t len)
{
	struct login_msg m;

	switch (login_decode(msg, len, LOGIN_FROM_CLIENT, &m)) {
	case LOGIN_DECODE_OK:
		break;
	case LOGIN_DECODE_IGNORED:
		return;
	default:
		p->login.rx_malformed_ctl++;
		return;
	}
	switch (m.type) {
	case LOGIN_AUTH_REQUEST:
		handle_auth_request(s, p, &m);
		break;
	case LOGIN_RESUME:
		handle_resume(s, p, &m);
		break;
	case LOGIN_DISCONNECT:
		handle_disconnect(s, p, &m);
		break;
	default:
		break;
	}
}

/* ---- the packet rule ------------------------------------------------------------ */

bool
admit_peer_current(struct server *s, struct peer *p)
{
	struct peer_login *l = &p->login;

	if (l->state == ADMIT_ADMITTED &&
	    wall_s(s) >= l->admission.expires_unix_s)
		admission_end(s, p, "session expired");
	return l->state == ADMIT_ADMITTED;
}

bool
admit_ip_allowed(struct server *s, struct peer *p, const uint8_t *pkt,
		 size_t len)
{
	struct peer_login *l = &p->login;
	struct peer *owner;

	if (!admit_peer_current(s, p)) {
		l->rx_dropped_unadmitted++;
		if (l->state == ADMIT_NONE)
			send_auth_required(s, p, false, 0);
		return false;
	}
	/* Rule 10: only from the client's own addresses. */
	if ((pkt[0] >> 4) == 4)
		owner = route_lookup(&s->routes, AF_INET, pkt + 12);
	else
		owner = len >= 40 ? route_lookup(&s->routes, AF_INET6, pkt + 8)
				  : NULL;
	if (owner != p) {
		l->rx_dropped_source++;
		return false;
	}
	return true;
}

/* ---- deadlines ----------------------------------------------------------------- */

static uint64_t
earlier(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t
admit_peer_deadline(const struct server *s, const struct peer *p)
{
	const struct peer_login *l = &p->login;
	const struct admit_answer *a;
	uint64_t d = UINT64_MAX;

	(void)s;
	if (l->request == ADMIT_REQ_REPLY_WAIT)
		d = earlier(d, l->reply_at_ns);
	if (l->state == ADMIT_ADMITTED)
		d = earlier(d, l->expires_ns);
	else
		d = earlier(d, l->idle_check_ns);
	for (a = l->answers; a; a = a->older)
		if (!a->older)
			d = earlier(d, a->at_ns + ANSWER_KEEP_NS);
	if (l->lookup_retry)
		d = earlier(d, l->retry_ns);
	return d;
}

/* A peer that never logged in goes once it has no session and nothing
 * in flight; with a session, it is looked at again when that ends. */
static void
idle_check(struct server *s, struct peer *p)
{
	struct peer_login *l = &p->login;
	uint64_t end;

	if (l->request != ADMIT_REQ_IDLE || l->lookup_in_flight) {
		l->idle_check_ns = s->now_ns + NS_PER_S;
		return;
	}
	if (!tunnel_peer_has_session(&p->tp, s->now_ns)) {
		peer_doom(&s->peers, p);
		return;
	}
	end = noise_peer_current_birth(&p->tp.noise) + s->pt.reject_after_ns;
	l->idle_check_ns = end > s->now_ns ? end : s->now_ns + NS_PER_S;
}

void
admit_peer_expire(struct server *s, struct peer *p)
{
	struct peer_login *l = &p->login;

	if (l->request == ADMIT_REQ_REPLY_WAIT && l->reply_at_ns <= s->now_ns)
		request_answered(s, p);
	answers_expire(&s->admit.answers, l, s->now_ns);
	if (l->lookup_retry && l->retry_ns <= s->now_ns) {
		l->lookup_retry = false;
		if (l->state == ADMIT_LOOKUP || l->state == ADMIT_ADMITTED)
			submit_lookup(s, p, false, 0, NULL);
	}
	if (l->state == ADMIT_ADMITTED && l->expires_ns <= s->now_ns) {
		/* The wall clock decides; if it moved back, look again. */
		if (!admit_peer_current(s, p))
			return;
		l->expires_ns = expiry_ns(s, l->admission.expires_unix_s);
		if (l->expires_ns <= s->now_ns)
			l->expires_ns = s->now_ns + NS_PER_S;
	}
	if (l->state != ADMIT_ADMITTED && l->idle_check_ns <= s->now_ns)
		idle_check(s, p);
}

/* ---- periodic ---------------------------------------------------------------------- */

void
admit_housekeeping(struct server *s)
{
	struct job *j = workers_job_get(&s->workers);

	if (j) {
		j->kind = JOB_PRUNE;
		j->peer_slot = UINT32_MAX;
		j->submitted_ns = s->now_ns;
		j->now_unix_s = wall_s(s);
		workers_submit(&s->workers, j);
	}
	submit_stamps(s);
}

static void
submit_start(struct server *s);

void
admit_poll_events(struct server *s)
{
	if (s->admit.is_start_pending)
		submit_start(s);
	else
		submit_events(s);
	cluster_tick(s);
}

/* ---- start and end --------------------------------------------------------------- */

/* On the store thread, while the loop waits in admit_start(). */
static void
load_admission(void *arg, const uint8_t pub[32],
	       const struct auth_admission *adm)
{
	struct server *s = arg;

	if (tstamp_hold(&s->tunnel.stamps, pub, ADMIT_HOLD_ADMISSION) < 0) {
		s->admit.start_error = -ENOMEM;
		return;
	}
	if (adm->has_stamp)
		tstamp_raise(&s->tunnel.stamps, pub, adm->stamp);
	s->admit.n_loaded++;
}

/* An admission's timestamp, read on the store thread for the loop. */
struct start_stamp {
	uint8_t pub[32];
	bool has_stamp;
	uint8_t stamp[TAI64N_LEN];
};

/* What the deferred start reads (the store thread writes it while its
 * job runs; the loop reads it once the job is back). */
struct admit_start_load {
	struct start_stamp *v;
	size_t n, cap;
	int error;
};

/* On the store thread, while the loop runs: the loop's table is not
 * touched here, only collected for start_done(). */
static void
collect_admission(void *arg, const uint8_t pub[32],
		  const struct auth_admission *adm)
{
	struct admit_start_load *l = arg;
	struct start_stamp *v;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;

		v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			l->error = -ENOMEM;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	v = &l->v[l->n++];
	memcpy(v->pub, pub, sizeof(v->pub));
	v->has_stamp = adm->has_stamp;
	memcpy(v->stamp, adm->stamp, sizeof(v->stamp));
}

/* From the events poll while the start waits for the store: one job at
 * a time, each failing fast while the store cannot be reached. */
static void
submit_start(struct server *s)
{
	struct admit_server *a = &s->admit;
	struct job *j;

	if (a->start_load)
		return;
	j = workers_job_get(&s->workers);
	if (!j)
		return;
	a->start_load = calloc(1, sizeof(*a->start_load));
	if (!a->start_load) {
		workers_job_put(&s->workers, j);
		return;
	}
	j->kind = JOB_START;
	j->peer_slot = UINT32_MAX;
	j->submitted_ns = s->now_ns;
	j->now_unix_s = wall_s(s);
	j->u.start.fn = collect_admission;
	j->u.start.arg = a->start_load;
	if (workers_submit(&s->workers, j) != SUBMIT_OK) {
		free(a->start_load);
		a->start_load = NULL;
	}
}

/* The deferred start's job is back: what admit_start() would have
 * loaded goes into the table, and logins and resumes are taken from now
 * on; a failure is tried again at the next poll. */
static void
start_done(struct server *s, struct job *j)
{
	struct admit_server *a = &s->admit;
	struct admit_start_load *l = a->start_load;
	int err = j->store_error ? j->store_error : l ? l->error : -ENOMEM;
	size_t i;

	a->start_load = NULL;
	for (i = 0; err == 0 && i < l->n; i++) {
		if (tstamp_hold(&s->tunnel.stamps, l->v[i].pub,
				ADMIT_HOLD_ADMISSION) < 0)
			err = -ENOMEM;
		else if (l->v[i].has_stamp)
			tstamp_raise(&s->tunnel.stamps, l->v[i].pub,
				     l->v[i].stamp);
	}
	if (l)
		free(l->v);
	free(l);
	/* Unreachable was said at start; anything else once. */
	if (err < 0 && err != -ENOTCONN && -err != a->store_errno)
		log_err("cannot read the admissions from the store: %s; "
			"tried again", strerror(-err));
	if (err < 0) {
		a->store_errno = -err;
		return;
	}
	a->is_start_pending = false;
	a->n_loaded = (unsigned int)i;
	a->events_seq = j->seq;
	log_info("%u admissions in the store", a->n_loaded);
	store_health(s, 0);
	submit_events(s);
}

int
admit_start(struct server *s)
{
	struct admit_server *a = &s->admit;
	struct job *j = workers_job_get(&s->workers);
	int ret;

	if (!j)
		return -ENOMEM;
	j->kind = JOB_START;
	j->peer_slot = UINT32_MAX;
	j->now_unix_s = wall_s(s);
	j->u.start.fn = load_admission;
	j->u.start.arg = s;
	workers_run_sync(&s->workers, j);
	ret = j->store_error ? j->store_error : a->start_error;
	a->events_seq = j->seq;
	workers_job_put(&s->workers, j);
	/*
	 * A database server down at start (a node rebooted during its
	 * maintenance) is an outage like one that comes later: vpnd starts,
	 * answers logins and resumes BUSY, and loads this once the store
	 * answers (submit_start). A store that answers but refuses stopped
	 * vpnd before this, when the workers opened it.
	 */
	if (ret == -ENOTCONN) {
		a->is_start_pending = true;
		a->is_store_down = true;
		a->store_errno = ENOTCONN;
		a->store_down_ns = s->now_ns;
		a->store_down_unix_s = wall_s(s);
		log_err("the user store cannot be reached at start; vpnd "
			"starts without it: logins and resumes are answered "
			"BUSY until it can, its admissions are loaded then");
		ret = 0;
	} else if (ret < 0) {
		log_err("cannot read the admissions from the store: %s",
			strerror(-ret));
	} else {
		log_info("%u admissions in the store", a->n_loaded);
	}
	if (ret == 0)
		cluster_start(s);
	return ret;
}

void
admit_peer_gone(struct server *s, struct peer *p)
{
	if (p->login.state == ADMIT_ADMITTED) {
		routes_del(s, p);
		cluster_session_down(s, p);
	}
	p->login.state = ADMIT_NONE;
	answers_free(&s->admit.answers, &p->login);
	free(p->login.resume);
	p->login.resume = NULL;
	free(p->login.admission.subnets);
	p->login.admission.subnets = NULL;
	p->login.admission.n_subnets = 0;
}

/* Saves every changed timestamp before the store thread stops. */
static void
save_stamps_now(struct server *s)
{
	struct tstamp_saved saved[JOB_STAMPS_MAX];
	size_t n, i;

	while ((n = tstamp_take_dirty(&s->tunnel.stamps, ADMIT_HOLD_ADMISSION,
				      saved, JOB_STAMPS_MAX)) > 0) {
		struct job *j = workers_job_get(&s->workers);

		if (!j)
			return;
		j->kind = JOB_STAMPS;
		j->peer_slot = UINT32_MAX;
		for (i = 0; i < n; i++) {
			memcpy(j->u.stamps.st[i].client_pub, saved[i].key, 32);
			memcpy(j->u.stamps.st[i].stamp, saved[i].stamp,
			       TAI64N_LEN);
		}
		j->u.stamps.n = (unsigned int)n;
		workers_run_sync(&s->workers, j);
		workers_job_put(&s->workers, j);
	}
}

/*
 * At shutdown, a deferred start's job may still be out, writing its
 * results: the store thread runs its jobs in order, so once an empty one
 * queued after it is done, they may be freed.
 */
static void
start_load_drop(struct server *s)
{
	struct admit_start_load *l = s->admit.start_load;
	struct job *j;

	if (!l)
		return;
	j = workers_job_get(&s->workers);
	if (!j)
		return;
	j->kind = JOB_STAMPS; /* none: auth_stamps_save() does nothing */
	j->peer_slot = UINT32_MAX;
	workers_run_sync(&s->workers, j);
	workers_job_put(&s->workers, j);
	free(l->v);
	free(l);
	s->admit.start_load = NULL;
}

void
admit_shutdown(struct server *s)
{
	uint32_t i;

	for (i = 0; i < s->peers.capacity; i++) {
		struct peer *p = s->peers.slots[i];

		if (p && tunnel_peer_has_session(&p->tp, s->now_ns))
			send_disconnect(s, p, LOGIN_REASON_SHUTDOWN);
	}
	save_stamps_now(s);
	start_load_drop(s);
	cluster_stop(s);
}
