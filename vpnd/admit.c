// SPDX-License-Identifier: MIT
/*
 * The login layer on the server side (PROTOCOL.md section 6): control
 * messages from clients, admission state per peer, answers and their
 * cache, the failure delay, and the source-address rule. Decisions that
 * need the store or Argon2id go to worker threads (worker.c); this file
 * only submits jobs and applies their results, so it never blocks.
 */
#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "login.h"
#include "server.h"

#define ANSWER_CACHE_NS (60 * NS_PER_S)   /* rule 2 */
#define AUTH_REQUIRED_INTERVAL_NS NS_PER_S /* rule 9 */
#define BUSY_RETRY_AFTER_S 2
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

	endpoint_format(&p->tp.endpoint, ep);
	if (p->adm == PEER_ADM_ADMITTED)
		snprintf(buf, len, "%s (%s)",
			 log_sanitize(user, sizeof(user), p->admission.username,
				      strlen(p->admission.username)),
			 ep);
	else
		snprintf(buf, len, "%s", ep);
	return buf;
}

/* ---- answers --------------------------------------------------------------- */

static void
send_auth_required(struct server *s, struct peer *p, bool has_request_id,
		   uint32_t request_id)
{
	uint8_t buf[64];
	struct login_writer w;
	size_t len;

	if (p->has_sent_auth_required &&
	    s->now_ns - p->last_auth_required_ns < AUTH_REQUIRED_INTERVAL_NS)
		return;
	login_writer_init(&w, buf, sizeof(buf), LOGIN_AUTH_REQUIRED);
	if (has_request_id)
		login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, request_id);
	login_put_text(&w, LOGIN_ATTR_MESSAGE, "login required");
	len = login_writer_finish(&w);
	if (!len)
		return;
	p->has_sent_auth_required = true;
	p->last_auth_required_ns = s->now_ns;
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

static void
put_config(struct server *s, struct login_writer *w,
	   const struct auth_admission *adm)
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
	login_put_u16(w, LOGIN_ATTR_MTU, c->mtu);
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

/* Builds an AUTH_RESULT into p's answer cache. False if it cannot fit. */
static bool
build_result(struct server *s, struct peer *p, uint32_t request_id,
	     const struct auth_result *res)
{
	size_t cap = s->cfg->mtu < PEER_ANSWER_MAX ? s->cfg->mtu
						   : PEER_ANSWER_MAX;
	struct login_writer w;

	login_writer_init(&w, p->answer, cap, LOGIN_AUTH_RESULT);
	login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, request_id);
	login_put_u8(&w, LOGIN_ATTR_STATUS, (uint8_t)res->status);
	login_put_text(&w, LOGIN_ATTR_MESSAGE, status_message(res->status));
	if (res->status == LOGIN_STATUS_OK)
		put_config(s, &w, &res->adm);
	else if (res->retry_after_s)
		login_put_u32(&w, LOGIN_ATTR_RETRY_AFTER, res->retry_after_s);
	p->answer_len = login_writer_finish(&w);
	p->answer_request_id = request_id;
	p->has_answer = p->answer_len > 0;
	if (!p->has_answer)
		log_err("the configuration pushed to clients does not fit in "
			"one message of MTU %u: fewer routes or DNS entries",
			s->cfg->mtu);
	return p->has_answer;
}

static void
send_answer(struct server *s, struct peer *p)
{
	p->answer_ns = s->now_ns;
	p->reply_pending = false;
	p->login_in_flight = false;
	if (p->has_answer)
		server_send_control(s, p, p->answer, p->answer_len);
}

/* ---- admission state ------------------------------------------------------- */

static void
routes_del(struct server *s, struct peer *p)
{
	if (p->admission.has_addr4)
		route_del(&s->routes, AF_INET, p->admission.addr4, p);
	if (p->admission.has_addr6)
		route_del(&s->routes, AF_INET6, p->admission.addr6, p);
}

static void
admission_clear(struct server *s, struct peer *p)
{
	if (p->adm == PEER_ADM_ADMITTED)
		routes_del(s, p);
	p->adm = PEER_ADM_NONE;
	p->tp.can_initiate = false;
}

/* An address moved to p: the peer that held it loses its admission. */
static void
claim(struct server *s, struct peer *p, int family, const uint8_t *addr)
{
	struct peer *old = route_lookup(&s->routes, family, addr);

	if (old && old != p) {
		send_disconnect(s, old, "address reassigned");
		admission_clear(s, old);
	}
	route_add(&s->routes, family, addr, p);
}

static void
admission_set(struct server *s, struct peer *p, const struct auth_admission *a)
{
	char who[PEER_NAME_LEN], text[PREFIX_STR_LEN];
	bool was = p->adm == PEER_ADM_ADMITTED;

	if (was)
		routes_del(s, p);
	p->admission = *a;
	p->adm = PEER_ADM_ADMITTED;
	p->tp.can_initiate = true;
	if (a->has_addr4)
		claim(s, p, AF_INET, a->addr4);
	if (a->has_addr6)
		claim(s, p, AF_INET6, a->addr6);
	if (!was)
		log_info("%s admitted, address %s", peer_name(p, who, sizeof(who)),
			 a->has_addr4 ? prefix_format_addr(AF_INET, a->addr4, text)
				      : prefix_format_addr(AF_INET6, a->addr6,
							   text));
}

/* The admission ended elsewhere (expiry, kick, disabled account). */
static void
admission_end(struct server *s, struct peer *p, const char *reason)
{
	char who[PEER_NAME_LEN];

	log_info("%s: admission ended: %s", peer_name(p, who, sizeof(who)),
		 reason);
	send_disconnect(s, p, reason);
	admission_clear(s, p);
	p->adm_epoch++;
}

/* ---- jobs ------------------------------------------------------------------- */

static struct job *
job_for(struct server *s, struct peer *p, enum job_kind kind)
{
	struct job *j = workers_job_get(&s->workers);

	if (!j)
		return NULL;
	j->kind = kind;
	j->peer_slot = p->slot;
	j->peer_generation = p->generation;
	j->adm_epoch = p->adm_epoch;
	j->submitted_ns = s->now_ns;
	j->now_unix_s = wall_s(s);
	memcpy(j->pub, p->pub, 32);
	return j;
}

static bool
submit_lookup(struct server *s, struct peer *p, bool is_resume,
	      uint32_t request_id, const struct login_text *username)
{
	struct job *j;

	if (p->lookup_in_flight)
		return false;
	j = job_for(s, p, JOB_LOOKUP);
	if (!j)
		return false;
	j->is_resume = is_resume;
	j->request_id = request_id;
	if (username && username->len) {
		j->has_username = true;
		memcpy(j->username, username->ptr, username->len);
	}
	p->lookup_in_flight = workers_submit(&s->workers, j);
	return p->lookup_in_flight;
}

void
admit_peer_new(struct server *s, struct peer *p)
{
	p->adm = PEER_ADM_UNKNOWN;
	/* Retried by housekeeping if the job pool is empty now. */
	submit_lookup(s, p, false, 0, NULL);
}

static void
lookup_done(struct server *s, struct peer *p, struct job *j)
{
	bool current = j->adm_epoch == p->adm_epoch;

	p->lookup_in_flight = false;
	/*
	 * A store that could not answer ends nothing (rule 1 says what
	 * does): an admission stays, an unknown peer stays unknown for
	 * housekeeping to ask again, and a RESUME goes unanswered, to be
	 * sent again.
	 */
	if (current && !j->lookup_failed) {
		if (j->admitted)
			admission_set(s, p, &j->adm);
		else if (p->adm == PEER_ADM_ADMITTED && !j->has_username)
			admission_end(s, p, "session ended");
		else if (p->adm == PEER_ADM_UNKNOWN)
			p->adm = PEER_ADM_NONE;
	}
	if (j->is_resume && !j->lookup_failed) {
		if (j->admitted && current) {
			struct auth_result res = { .status = LOGIN_STATUS_OK,
						   .adm = j->adm };

			if (build_result(s, p, j->request_id, &res))
				server_send_control(s, p, p->answer,
						    p->answer_len);
		} else {
			send_auth_required(s, p, true, j->request_id);
		}
	}
	if (p->resume_pending) {
		struct login_text user = { p->resume_username,
					   p->resume_username_len };

		p->resume_pending = false;
		submit_lookup(s, p, true, p->resume_request_id, &user);
	}
}

static void
login_done(struct server *s, struct peer *p, struct job *j)
{
	uint64_t delay_ns = (uint64_t)s->cfg->failure_delay_ms * NS_PER_MS;

	if (j->res.status == LOGIN_STATUS_OK) {
		p->adm_epoch++;
		admission_set(s, p, &j->res.adm);
	}
	build_result(s, p, j->request_id, &j->res);
	/* Rule 3: every failure answers after the same delay. */
	if (j->res.status == LOGIN_STATUS_OK ||
	    s->now_ns >= j->submitted_ns + delay_ns) {
		send_answer(s, p);
		return;
	}
	p->reply_pending = true;
	p->reply_at_ns = j->submitted_ns + delay_ns;
	server_peer_touched(s, p);
}

void
admit_jobs_done(struct server *s)
{
	struct job *j = workers_collect(&s->workers), *next;

	for (; j; j = next) {
		struct peer *p = peer_by_slot(&s->peers, j->peer_slot,
					      j->peer_generation);

		next = j->next;
		if (p && j->kind == JOB_LOGIN)
			login_done(s, p, j);
		else if (p && j->kind == JOB_LOOKUP)
			lookup_done(s, p, j);
		workers_job_put(&s->workers, j);
	}
}

void
admit_peer_expire(struct server *s, struct peer *p)
{
	if (p->reply_pending && p->reply_at_ns <= s->now_ns)
		send_answer(s, p);
}

/* ---- control messages -------------------------------------------------------- */

/*
 * A BUSY answer costs its sender one datagram and us no check, so its
 * audit line is rate-limited: a flood must not become a log line per
 * packet. The lines that are written say how many went unlogged.
 */
static struct log_ratelimit busy_log = LOG_RATELIMIT_INIT(5, 1);
static uint64_t busy_unlogged;

static void
audit_busy(struct server *s, struct peer *p, const struct login_msg *m)
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
	log_notice("login user=%s src=%s result=busy reason=queue-full "
		   "totp_offset=-%s", user,
		   endpoint_format(&p->tp.endpoint, src), more);
}

static void
answer_busy(struct server *s, struct peer *p, const struct login_msg *m)
{
	struct auth_result res = { .status = LOGIN_STATUS_BUSY,
				   .retry_after_s = BUSY_RETRY_AFTER_S };

	audit_busy(s, p, m);
	if (build_result(s, p, m->request_id, &res))
		send_answer(s, p);
}

static void
fill_request(struct server *s, struct peer *p, const struct login_msg *m,
	     struct auth_request *req)
{
	memcpy(req->client_pub, p->pub, 32);
	memcpy(req->username, m->username.ptr, m->username.len);
	memcpy(req->password, m->password.ptr, m->password.len);
	req->password_len = m->password.len;
	memcpy(req->code, m->totp.ptr, m->totp.len);
	req->src_port = endpoint_port(&p->tp.endpoint);
	endpoint_addr_bytes(&p->tp.endpoint, &req->src_family, req->src_addr);
	req->now_unix_s = wall_s(s);
}

static void
handle_auth_request(struct server *s, struct peer *p, const struct login_msg *m)
{
	struct job *j;

	/* Rule 2: a retransmission gets the same answer, unchecked. */
	if (p->has_answer && !p->login_in_flight &&
	    p->answer_request_id == m->request_id &&
	    s->now_ns - p->answer_ns < ANSWER_CACHE_NS) {
		server_send_control(s, p, p->answer, p->answer_len);
		return;
	}
	/* One check per session at a time; retransmissions wait for it. */
	if (p->login_in_flight)
		return;
	j = job_for(s, p, JOB_LOGIN);
	if (!j) {
		answer_busy(s, p, m);
		return;
	}
	j->request_id = m->request_id;
	fill_request(s, p, m, &j->req);
	if (!workers_submit(&s->workers, j)) {
		answer_busy(s, p, m);
		return;
	}
	p->login_in_flight = true;
	p->login_request_id = m->request_id;
}

static void
handle_resume(struct server *s, struct peer *p, const struct login_msg *m)
{
	if (p->lookup_in_flight) {
		/* The USERNAME waits too: rule 6 holds for this RESUME. */
		p->resume_pending = true;
		p->resume_request_id = m->request_id;
		if (m->username.len)
			memcpy(p->resume_username, m->username.ptr,
			       m->username.len);
		p->resume_username_len = m->username.len;
		return;
	}
	if (!submit_lookup(s, p, true, m->request_id, &m->username))
		send_auth_required(s, p, true, m->request_id);
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
		admission_clear(s, p);
		p->adm_epoch++;
	}
	/* The live session ends; the admission, unless logged out, stays in
	 * the store for the client's next start. */
	tunnel_peer_reset(&p->tp);
	p->doomed = true;
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
		p->rx_malformed_ctl++;
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
	if (p->adm == PEER_ADM_ADMITTED &&
	    wall_s(s) >= p->admission.expires_unix_s)
		admission_end(s, p, "session expired");
	return p->adm == PEER_ADM_ADMITTED;
}

bool
admit_ip_allowed(struct server *s, struct peer *p, const uint8_t *pkt,
		 size_t len)
{
	struct peer *owner;

	if (!admit_peer_current(s, p)) {
		p->rx_dropped_unadmitted++;
		if (p->adm == PEER_ADM_NONE)
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
		p->rx_dropped_source++;
		return false;
	}
	return true;
}

/* ---- housekeeping ----------------------------------------------------------------- */

static bool
is_idle(const struct server *s, const struct peer *p)
{
	return p->adm != PEER_ADM_ADMITTED && !p->login_in_flight &&
	       !p->lookup_in_flight && !p->reply_pending &&
	       !tunnel_peer_has_session(&p->tp, s->now_ns) &&
	       s->now_ns - p->created_ns > s->pt.reject_after_ns;
}

void
admit_housekeeping(struct server *s)
{
	struct job *j;
	uint32_t i;

	for (i = 0; i < s->peers.max; i++) {
		struct peer *p = &s->peers.slots[i];

		if (!p->in_use || p->doomed)
			continue;
		if (p->adm == PEER_ADM_ADMITTED &&
		    wall_s(s) >= p->admission.expires_unix_s)
			admission_end(s, p, "session expired");
		if (p->adm != PEER_ADM_NONE)
			/* Catches kicks and disabled accounts, and retries
			 * lookups that found no free job. */
			submit_lookup(s, p, false, 0, NULL);
		else if (is_idle(s, p))
			p->doomed = true;
	}
	j = workers_job_get(&s->workers);
	if (j) {
		j->kind = JOB_PRUNE;
		j->peer_slot = UINT32_MAX;
		j->now_unix_s = wall_s(s);
		workers_submit(&s->workers, j);
	}
}

void
admit_peer_gone(struct server *s, struct peer *p)
{
	if (p->adm == PEER_ADM_ADMITTED)
		routes_del(s, p);
	p->adm = PEER_ADM_NONE;
}

void
admit_shutdown(struct server *s)
{
	uint32_t i;

	for (i = 0; i < s->peers.max; i++) {
		struct peer *p = &s->peers.slots[i];

		if (p->in_use && tunnel_peer_has_session(&p->tp, s->now_ns))
			send_disconnect(s, p, "server shutdown");
	}
}
