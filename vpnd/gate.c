// SPDX-License-Identifier: MIT
/*
 * The gate on packets from clients (see gate.h): glue between the
 * server's state, the access policy (access.c) and the answers (reply.c).
 */
#include "gate.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "log.h"
#include "server.h"

/* Everything pushed: what a user no rule names may reach. */
static unsigned int
pushed(const struct server *s, struct prefix out[ACCESS_PUSHED_MAX])
{
	const struct vpnd_config *c = s->cfg;
	unsigned int n = 0, i;

	for (i = 0; i < c->n_routes && n < ACCESS_PUSHED_MAX; i++)
		out[n++] = c->routes[i];
	for (i = 0; i < c->n_dns && n < ACCESS_PUSHED_MAX; i++)
		out[n++] = c->dns[i];
	if (c->has_pool4 && n < ACCESS_PUSHED_MAX) {
		memset(&out[n], 0, sizeof(out[n]));
		out[n].family = AF_INET;
		memcpy(out[n].addr, s->addr4, 4);
		out[n++].len = 32;
	}
	if (c->has_pool6 && n < ACCESS_PUSHED_MAX) {
		memset(&out[n], 0, sizeof(out[n]));
		out[n].family = AF_INET6;
		memcpy(out[n].addr, s->addr6, 16);
		out[n++].len = 128;
	}
	return n;
}

static struct access_policy *
build(struct server *s, const struct access_policy *old)
{
	struct prefix list[ACCESS_PUSHED_MAX];
	unsigned int n = pushed(s, list);

	return access_policy_new(s->cfg->access, s->cfg->client_to_client,
				 list, n, old);
}

int
gate_start(struct server *s)
{
	s->access = build(s, NULL);
	if (!s->access) {
		log_err("access rules: out of memory");
		return -ENOMEM;
	}
	return 0;
}

void
gate_stop(struct server *s)
{
	access_policy_free(s->access);
	s->access = NULL;
}

static void
attach(struct access_policy *pol, struct peer *p)
{
	struct gate_session *g = &p->login.gate;

	g->set = pol ? access_policy_set_for(pol, p->login.admission.username)
		     : NULL;
	if (pol && !g->set)
		log_warn("access rules: out of memory: %s reaches nothing "
			 "until the next reload or login",
			 p->login.admission.username);
}

int
gate_reload(struct server *s)
{
	struct access_policy *pol = build(s, s->access), *old = s->access;
	uint32_t i;

	if (!pol) {
		log_err("access rules: out of memory: the old rules stay");
		return -ENOMEM;
	}
	for (i = 0; i < s->peers.capacity; i++) {
		struct peer *p = s->peers.slots[i];

		if (p && p->login.state == ADMIT_ADMITTED)
			attach(pol, p);
	}
	s->access = pol;
	access_policy_free(old);
	return 0;
}

void
gate_admitted(struct server *s, struct peer *p)
{
	attach(s->access, p);
}

/* From the server's tunnel address, when it has one of the family. */
static const uint8_t *
answer_from(const struct server *s, const struct ippkt *ip)
{
	if (ip->family == AF_INET)
		return s->cfg->has_pool4 ? s->addr4 : ip->dst;
	return s->cfg->has_pool6 ? s->addr6 : ip->dst;
}

static void
answer(struct server *s, struct peer *p, const struct ippkt *ip,
       const uint8_t *pkt)
{
	uint8_t out[REPLY_MAX];
	size_t n = 0;

	if (!reply_may_answer(ip) ||
	    !reply_limit_allow(&p->login.gate.replies, s->now_ns))
		return;
	if (ip->proto == IPPROTO_TCP)
		n = reply_tcp_reset(ip, pkt, out);
	if (!n)
		n = reply_prohibited(ip, pkt, answer_from(s, ip), out);
	server_send_control(s, p, out, n);
}

bool
gate_pass(struct server *s, struct peer *p, const uint8_t *pkt, size_t len)
{
	struct ippkt ip;
	struct peer *owner;

	/* No policy: a harness without gate_start. */
	if (!s->access)
		return true;
	if (!ippkt_parse(pkt, len, &ip))
		return false;
	owner = route_lookup(&s->routes, ip.family, ip.dst);
	if (access_check(s->access, p->login.gate.set, owner && owner != p,
			 &ip) == ACCESS_PASS)
		return true;
	answer(s, p, &ip, pkt);
	return false;
}
