// SPDX-License-Identifier: MIT
/*
 * The list of servers vpnc may use (see servers.h): filled from vpnc.conf
 * once at start, shuffled with the caller's randomness, walked in a ring.
 * Only servers_resolve() does I/O.
 */
#include "servers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"

void
servers_init(struct servers *s)
{
	memset(s, 0, sizeof(*s));
}

/* "192.0.2.1:51900" for an address, "name (192.0.2.1:51900)" for a
 * name. */
static void
name_entry(struct server_entry *e, const char *host)
{
	char ep[ENDPOINT_STR_LEN];
	uint8_t addr[16];

	endpoint_format(&e->ep, ep);
	if (inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1)
		snprintf(e->name, sizeof(e->name), "%s", ep);
	else
		snprintf(e->name, sizeof(e->name), "%s (%s)", host, ep);
}

bool
servers_add(struct servers *s, const char *host, const struct endpoint *ep)
{
	struct server_entry *e;
	unsigned int i;
	int family = ep->addr.sa.sa_family;

	if (family != AF_INET && family != AF_INET6)
		return false;
	if (s->n && family != s->e[0].ep.addr.sa.sa_family) {
		s->skipped++;
		return false;
	}
	for (i = 0; i < s->n; i++)
		if (endpoint_same_remote(&s->e[i].ep, ep))
			return false;
	if (s->n == SERVERS_MAX) {
		s->overflow++;
		return false;
	}
	e = &s->e[s->n];
	memset(e, 0, sizeof(*e));
	e->ep.addr = ep->addr;
	/* An IPv4-mapped address is IPv4 to the routes (fence.h). */
	endpoint_addr_bytes(&e->ep, &e->family, e->addr);
	name_entry(e, host);
	s->n++;
	return true;
}

void
servers_shuffle(struct servers *s, servers_uniform_fn uniform, void *arg)
{
	struct server_entry tmp;
	unsigned int i, j;

	for (i = s->n; i > 1; i--) {
		j = uniform(arg, i);
		if (j >= i)
			j = i - 1; /* a broken source must not overrun */
		tmp = s->e[i - 1];
		s->e[i - 1] = s->e[j];
		s->e[j] = tmp;
	}
	s->cur = 0;
}

const struct server_entry *
servers_current(const struct servers *s)
{
	return s->n ? &s->e[s->cur] : NULL;
}

const struct server_entry *
servers_next(struct servers *s)
{
	if (!s->n)
		return NULL;
	s->cur = (s->cur + 1) % s->n;
	return &s->e[s->cur];
}

bool
servers_reason_is_shutdown(const uint8_t *reason, size_t len)
{
	return len == sizeof(SERVERS_REASON_SHUTDOWN) - 1 &&
	       memcmp(reason, SERVERS_REASON_SHUTDOWN, len) == 0;
}

/* ---- resolving (I/O) ----------------------------------------------------- */

/* Adds every address the server's host resolves to. */
static void
resolve_one(struct servers *s, const struct vpnc_server *srv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res, *ai;
	struct endpoint ep;
	char port[8];
	int ret;

	snprintf(port, sizeof(port), "%u", srv->port);
	ret = getaddrinfo(srv->host, port, &hints, &res);
	if (ret) {
		log_err("cannot resolve %s: %s", srv->host, gai_strerror(ret));
		return;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(ep.addr))
			continue;
		memset(&ep, 0, sizeof(ep));
		memcpy(&ep.addr, ai->ai_addr, ai->ai_addrlen);
		(void)servers_add(s, srv->host, &ep);
	}
	freeaddrinfo(res);
}

int
servers_resolve(struct servers *s, const struct vpnc_config *cfg)
{
	unsigned int i;

	servers_init(s);
	for (i = 0; i < cfg->n_servers; i++)
		resolve_one(s, &cfg->servers[i]);
	if (!s->n)
		return -EHOSTUNREACH;
	if (s->overflow)
		log_warn("%u server address(es) left out: vpnc uses at most "
			 "%d", s->overflow, SERVERS_MAX);
	if (s->skipped)
		log_notice("%u server address(es) of %s left out: vpnc talks "
			   "to its servers over one family, that of the "
			   "first address (%s)",
			   s->skipped,
			   s->e[0].ep.addr.sa.sa_family == AF_INET ? "IPv6"
							    : "IPv4",
			   s->e[0].ep.addr.sa.sa_family == AF_INET ? "IPv4"
							    : "IPv6");
	return 0;
}
